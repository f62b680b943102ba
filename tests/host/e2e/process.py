#!/usr/bin/env python3
"""The daemon as a process: how it stops and how it starts.

  process.py sigterm BIN CONF PORT TRIES
      Start the daemon (-f) TRIES times; each time, once it answers, send
      one OPTIONS and SIGTERM at a random moment around its answer (a few
      microseconds after it, or while it is being handled), when the loop
      is about to sleep with nothing due for a long time. It must exit 0
      within 1 s every time.

  process.py sigrace BIN CONF PORT TRIES
      BIN is the daemon linked with tests/host/sigrace/wrap.c, which sends
      itself SIGTERM just before it sleeps (SIGRACE=start: its first sleep;
      recv: the first after it answered a datagram). Each way TRIES times,
      it must exit 0 within 1 s.
"""
import os
import random
import signal
import socket
import subprocess
import sys
import time

DOMAIN = "simpled.test"


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def options(branch):
    return (f"OPTIONS sip:{DOMAIN} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{branch};rport\r\n"
            f"From: <sip:probe@{DOMAIN}>;tag=p{branch}\r\n"
            f"To: <sip:{DOMAIN}>\r\n"
            f"Call-ID: probe-{branch}\r\n"
            f"CSeq: 1 OPTIONS\r\n"
            f"Max-Forwards: 70\r\n"
            f"Content-Length: 0\r\n\r\n").encode()


def answered(s, port, branch, wait):
    """OPTIONS answered 200 within wait seconds (answers to earlier
    requests are skipped)."""
    s.sendto(options(branch), ("127.0.0.1", port))
    end = time.monotonic() + wait
    while True:
        s.settimeout(max(end - time.monotonic(), 0.001))
        try:
            r = s.recv(65535)
        except socket.timeout:
            return False
        if f"branch=z9hG4bK{branch};".encode() in r:
            return r.startswith(b"SIP/2.0 200 ")


def spin_us(us):
    end = time.perf_counter_ns() + us * 1000
    while time.perf_counter_ns() < end:
        pass


def sigterm(binary, conf, port, tries):
    log = open(os.path.join(os.path.dirname(conf), "simpled.log"), "a")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    late = []
    for i in range(tries):
        p = subprocess.Popen([binary, "-f", "-c", conf],
                             stdout=subprocess.DEVNULL, stderr=log)
        for j in range(200):
            if answered(s, port, f"up{i}x{j}", 0.02):
                break
            if p.poll() is not None:
                fail(f"try {i}: daemon exited at start ({p.returncode})")
        else:
            p.kill()
            p.wait()
            fail(f"try {i}: daemon did not answer")
        if random.random() < 0.5:
            if not answered(s, port, f"t{i}", 2.0):
                p.kill()
                p.wait()
                fail(f"try {i}: no answer to OPTIONS")
            spin_us(random.randint(0, 100))
        else:
            s.sendto(options(f"t{i}"), ("127.0.0.1", port))
            spin_us(random.randint(0, 300))
        os.kill(p.pid, signal.SIGTERM)
        try:
            rc = p.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            late.append(i)
            p.kill()
            p.wait()
            continue
        if rc != 0:
            fail(f"try {i}: exit status {rc} after SIGTERM")
    if late:
        fail(f"{len(late)} of {tries} SIGTERMs not handled within 1 s "
             f"(tries {late[:10]})")
    print(f"{tries} SIGTERMs, each handled within 1 s")


def started(path, n, p, wait=10.0):
    """Wait until the log at path holds n start-up lines."""
    end = time.monotonic() + wait
    while time.monotonic() < end:
        with open(path, "rb") as f:
            if f.read().count(b" serving ") >= n:
                return
        if p.poll() is not None:
            fail(f"daemon exited at start ({p.returncode})")
        time.sleep(0.01)
    p.kill()
    p.wait()
    fail("daemon did not start")


def sigrace(binary, conf, port, tries):
    path = os.path.join(os.path.dirname(conf), "simpled.log")
    log = open(path, "a")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    n = 0
    for when in ("start", "recv"):
        for i in range(tries):
            p = subprocess.Popen([binary, "-f", "-c", conf],
                                 stdout=subprocess.DEVNULL, stderr=log,
                                 env=dict(os.environ, SIGRACE=when))
            n += 1
            started(path, n, p)
            if when == "recv" and not answered(s, port, f"{when}{i}", 2.0):
                p.kill()
                p.wait()
                fail(f"{when} {i}: no answer to OPTIONS")
            try:
                rc = p.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                fail(f"{when} {i}: SIGTERM just before the loop slept "
                     "was not handled within 1 s")
            if rc != 0:
                fail(f"{when} {i}: exit status {rc} after SIGTERM")
    print(f"SIGTERM before the sleep at start and after an answer, "
          f"{tries} times each: handled within 1 s")


def main():
    modes = {"sigterm": sigterm, "sigrace": sigrace}
    if len(sys.argv) == 6 and sys.argv[1] in modes:
        modes[sys.argv[1]](sys.argv[2], sys.argv[3], int(sys.argv[4]),
                           int(sys.argv[5]))
    else:
        fail(f"usage: {sys.argv[0]} sigterm|sigrace BIN CONF PORT TRIES")


if __name__ == "__main__":
    main()
