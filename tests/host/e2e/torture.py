#!/usr/bin/env python3
"""RFC 4475 torture messages against the real daemon, over UDP and TCP.

Usage: torture.py BINARY WORKDIR KEPT [NAME...]
  KEPT  what a MESSAGE for a user without a binding gets (202 with
        offline/, 480 without)
  NAME  only these messages (file names without .dat)

Each message is sent to a daemon of its own (a fresh one per message and
transport: several torture messages share a branch and sent-by, and would
otherwise meet as retransmissions of one another). The expected answers
are the columns of tests/host/data/rfc4475/MANIFEST. After each message
the daemon must still answer OPTIONS, and stop with exit status 0 on
SIGTERM (under ASan: no leak).

UDP answers go where RFC 3261 18.2.2 sends them: the source address and
the top Via's port (unless rport). So each message is sent from a socket
bound to that port on an address of its own in 127.0.0.0/8.
Loopback only."""
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "rfc4475")


def manifest():
    rows = []
    with open(os.path.join(DATA, "MANIFEST")) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            p = line.split(None, 4)
            rows.append({"file": p[0], "kind": p[1], "udp": p[2],
                         "tcp": p[3], "section": p[4].strip()})
    return rows


def status(data):
    line = data.split(b"\r\n", 1)[0].decode(errors="replace")
    parts = line.split(" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[0] == "SIP/2.0" else 0


def header_values(resp, name):
    out = []
    for line in resp.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        n, _, v = line.partition(b":")
        if n.strip().lower() == name.lower().encode():
            out.append(v.strip().decode(errors="replace"))
    return out


def top_via_port(msg):
    """The port of the top Via's sent-by, from the unfolded headers."""
    head = msg.split(b"\r\n\r\n", 1)[0]
    head = re.sub(rb"\r\n[ \t]+", b" ", head)
    for line in head.split(b"\r\n")[1:]:
        n, _, v = line.partition(b":")
        if n.strip().lower() not in (b"via", b"v"):
            continue
        m = re.match(rb"\s*[^/\s]+\s*/\s*[^/\s]+\s*/\s*\S+\s+"
                     rb"(\[[^\]]*\]|[^;:,\s]+)(?:\s*:\s*(\d+))?", v)
        if m and m.group(2):
            return int(m.group(2))
        return 5060
    return 5060


class Daemon:
    def __init__(self, binary, work, transport):
        self.work = work
        self.log = os.path.join(work, "torture-daemon.log")
        conf = os.path.join(work, "torture.conf")
        with open(conf, "w") as f:
            f.write("config simpled 'main'\n"
                    "\tlist domain 'simpled.test'\n"
                    "\tlist domain 'example.com'\n"
                    "\tlist domain 'example.org'\n"
                    f"\tlist listen '{transport}:127.0.0.1:0'\n"
                    f"\toption state_dir '{work}/torture-state'\n"
                    "\toption log_level 'debug'\n"
                    "\toption open_registration '1'\n"
                    "\toption resolve_contacts '0'\n")
        self.logf = open(self.log, "w")
        self.outf = open(os.path.join(work, "torture-stdout.log"), "w")
        self.p = subprocess.Popen([binary, "-f", "-c", conf],
                                  stdout=self.outf, stderr=self.logf)
        self.port = None
        for _ in range(400):
            with open(self.log) as f:
                m = re.search(r"listening on \w+:127\.0\.0\.1:(\d+)",
                              f.read())
            if m:
                self.port = int(m.group(1))
            with open(self.log) as f:
                if self.port and "serving" in f.read():
                    return
            if self.p.poll() is not None:
                break
            time.sleep(0.01)
        raise RuntimeError("daemon did not start: " + self.tail())

    def tail(self):
        with open(self.log) as f:
            return "".join(f.readlines()[-20:])

    def stop(self):
        """SIGTERM; @return None when it exited 0 and printed nothing."""
        if self.p.poll() is not None:
            return f"daemon died (status {self.p.returncode})"
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return "daemon did not stop on SIGTERM"
        self.logf.close()
        self.outf.close()
        if rc != 0:
            return f"exit status {rc} after SIGTERM"
        if os.path.getsize(os.path.join(self.work, "torture-stdout.log")):
            return "daemon wrote to stdout"
        return None


def local_addr():
    return "127.%d.%d.%d" % (random.randint(1, 254), random.randint(0, 255),
                             random.randint(1, 254))


def udp_exchange(port, msg, want, wait):
    """Send msg, collect final responses until want are in or wait ends."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(20):
        try:
            s.bind((local_addr(), top_via_port(msg)))
            break
        except OSError:
            continue
    s.sendto(msg, ("127.0.0.1", port))
    out = []
    end = time.time() + wait
    while len(out) < max(want, 1) and time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            r = s.recv(65535)
        except (socket.timeout, ConnectionRefusedError):
            continue
        if status(r) >= 200 and (not out or r != out[-1]):
            out.append(r)
    s.close()
    return out


def tcp_read(s, n, wait):
    """Read up to n framed responses within wait seconds."""
    buf, out = b"", []
    end = time.time() + wait
    while len(out) < n and time.time() < end:
        if b"\r\n\r\n" in buf:
            head, rest = buf.split(b"\r\n\r\n", 1)
            cl = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    cl = int(line.split(b":")[1])
            if len(rest) >= cl:
                r = head + b"\r\n\r\n" + rest[:cl]
                buf = rest[cl:]
                if status(r) >= 200:
                    out.append(r)
                continue
        s.settimeout(max(0.01, end - time.time()))
        try:
            chunk = s.recv(65535)
        except socket.timeout:
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        buf += chunk
    return out


def tcp_exchange(port, msg, want, wait):
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.sendall(msg)
    out = tcp_read(s, max(want, 1), wait)
    s.close()
    return out


OPTIONS = ("OPTIONS sip:simpled.test SIP/2.0\r\n"
           "Via: SIP/2.0/{tp} 127.0.0.1:{vport};branch=z9hG4bKalive{n};rport\r\n"
           "From: <sip:probe@simpled.test>;tag=p{n}\r\n"
           "To: <sip:simpled.test>\r\n"
           "Call-ID: alive-{n}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
           "Content-Length: 0\r\n\r\n")


def still_serving(tp, port, n):
    msg = OPTIONS.format(tp=tp.upper(), vport=5060, n=n).encode()
    if tp == "udp":
        rs = udp_exchange(port, msg, 1, 3.0)
    else:
        rs = tcp_exchange(port, msg, 1, 3.0)
    return len(rs) == 1 and status(rs[0]) == 200


def extra_check(what, resp):
    """The checks named after + in the MANIFEST. @return fault or None."""
    if what == "2contacts":
        cs = header_values(resp, "Contact")
        uris = sorted(re.sub(r";expires=\d+", "", c) for c in cs)
        if uris != ["<sip:%00%00@host5.example.com>",
                    "<sip:%00@host5.example.com>"]:
            return f"the two contacts are not both bound: {cs!r}"
        return None
    if what == "unsup4":
        got = {x.strip() for v in header_values(resp, "Unsupported")
               for x in v.split(",")}
        want = {"nothingSupportsThis", "nothingSupportsThisEither",
                "noProxiesSupportThis", "norDoAnyProxiesSupportThis"}
        if got != want:
            return f"Unsupported lists {sorted(got)!r}"
        return None
    return f"unknown check {what}"


def run_one(binary, work, kept, row, tp, n):
    """@return None when the message got what the MANIFEST says."""
    with open(os.path.join(DATA, row["file"]), "rb") as f:
        msg = f.read()
    expect = []
    for e in row[tp].split(","):
        if e == "-":
            continue
        code, _, what = e.partition("+")
        expect.append((kept if code == "kept" else int(code), what))
    d = Daemon(binary, work, tp)
    try:
        wait = 2.0 if expect else 0.7
        if tp == "udp":
            got = udp_exchange(d.port, msg, len(expect), wait)
        else:
            got = tcp_exchange(d.port, msg, len(expect), wait)
        codes = [status(r) for r in got]
        fault = None
        if codes != [c for c, _ in expect]:
            lines = [r.split(b"\r\n", 1)[0].decode(errors="replace")
                     for r in got]
            fault = f"got {lines or 'nothing'}, want " \
                    f"{[c for c, _ in expect] or 'nothing'}"
        else:
            for (c, what), r in zip(expect, got):
                if what:
                    fault = fault or extra_check(what, r)
        if not still_serving(tp, d.port, n):
            fault = (fault + "; " if fault else "") + \
                "no 200 to OPTIONS afterwards"
    finally:
        stopped = d.stop()
    if stopped:
        fault = (fault + "; " if fault else "") + stopped
    if fault:
        fault += "\n" + d.tail()
    return fault


def main():
    binary, work, kept = sys.argv[1], sys.argv[2], int(sys.argv[3])
    only = set(sys.argv[4:])
    rows = [r for r in manifest()
            if not only or r["file"][:-4] in only]
    failed = 0
    n = 0
    for row in rows:
        for tp in ("udp", "tcp"):
            n += 1
            fault = run_one(binary, work, kept, row, tp, n)
            name = f"{row['file'][:-4]}/{tp}"
            if fault:
                failed += 1
                print(f"FAIL {name} ({row['section']}): {fault}",
                      file=sys.stderr)
            else:
                print(f"ok   {name}")
    print(f"torture: {n - failed} passed, {failed} failed")
    return 1 if failed else 0


sys.exit(main())
