#!/usr/bin/env python3
"""No answer that reports a write leaves before the sync that covers it.

Usage: syncorder.py BINARY WORKDIR
BINARY is simpled linked with tests/host/syncorder/wrap.c, which logs disk
writes holding a marker (W n), syncs (S), LMDB meta page writes (M) and 2xx
answers (A n) in the order they happened. The script stores MESSAGEs for
offline users, publishes documents and creates chat rooms, each marked
dur-<n> in what is written and in its Call-ID, then checks for every
answered n: W n, then S, then M, then A n. Loopback only, bounded.
"""
import os
import select
import signal
import socket
import subprocess
import sys
import time

DOMAIN = "simpled.test"
PIDF = ('<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf"'
        ' entity="sip:{u}@' + DOMAIN + '"><tuple id="t"><status><basic>open'
        '</basic></status><note>dur-{n}#</note></tuple></presence>')


def fail(why):
    print(f"syncorder.py: {why}", file=sys.stderr)
    sys.exit(1)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def request(s, port, n, method, user, to, extra, body):
    msg = (f"{method} sip:{to}@{DOMAIN} SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP 127.0.0.1:{s.getsockname()[1]};"
           f"branch=z9hG4bKdur{n};rport\r\nMax-Forwards: 70\r\n"
           f"From: <sip:{user}@{DOMAIN}>;tag=t{n}\r\n"
           f"To: <sip:{to}@{DOMAIN}>\r\nCall-ID: dur-{n}@py\r\n"
           f"CSeq: 1 {method}\r\n{extra}"
           f"Content-Length: {len(body.encode())}\r\n\r\n{body}")
    s.sendto(msg.encode(), ("127.0.0.1", port))


def main(binary, work):
    port = free_port()
    log = os.path.join(work, "syncorder.log")
    conf = os.path.join(work, "syncorder.conf")
    state = os.path.join(work, "syncorder-state")
    for f in (log, os.path.join(state, "data.mdb"),
              os.path.join(state, "lock.mdb")):
        if os.path.exists(f):
            os.unlink(f)
    with open(conf, "w") as f:
        f.write(f"config simpled 'main'\n\tlist domain '{DOMAIN}'\n"
                f"\tlist listen 'udp:127.0.0.1:{port}'\n"
                f"\toption state_dir '{state}'\n"
                "\toption open_registration '1'\n"
                "config presence\n\toption auth_policy 'allow_all'\n"
                # One source sends everything: no per-source cap.
                "\toption max_documents_per_source '0'\n"
                "config offline\n\toption max_messages_per_source '0'\n"
                "config imc\n\toption max_rooms_per_source '0'\n"
                "config storage\n\toption commit_window_ms '2'\n")
    env = dict(os.environ, SYNCORDER_LOG=log)
    p = subprocess.Popen([binary, "-f", "-c", conf], env=env,
                         stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(work, "syncorder.err"), "w"))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    time.sleep(0.3)
    sent = []
    answered, other = set(), {}

    def collect(until):
        while time.time() < until and len(answered) < len(sent):
            r, _, _ = select.select([s], [], [], 0.02)
            if not r:
                continue
            m = s.recv(65535).decode(errors="replace")
            cid = int(m.split("Call-ID: dur-", 1)[1].split("@", 1)[0])
            if m.startswith("SIP/2.0 2"):
                answered.add(cid)
            elif not m.startswith("SIP/2.0 1"):
                other[cid] = m.split("\r\n", 1)[0]

    n = 0
    # Bursts of each kind, so that groups hold several writes.
    for burst in range(10):
        for i in range(20):
            n += 1
            request(s, port, n, "MESSAGE", "bob", f"u{n % 7}",
                    "Content-Type: text/plain\r\n", f"dur-{n}# stored")
            sent.append(n)
        for i in range(5):
            n += 1
            request(s, port, n, "PUBLISH", f"p{n}", f"p{n}",
                    "Event: presence\r\nExpires: 600\r\n"
                    "Content-Type: application/pidf+xml\r\n",
                    PIDF.format(u=f"p{n}", n=n))
            sent.append(n)
        for i in range(3):
            n += 1
            request(s, port, n, "MESSAGE", f"c{n}", "chat",
                    "Content-Type: text/plain\r\n", f"#create dur-{n}_")
            sent.append(n)
        collect(time.time() + 0.05)
    collect(time.time() + 10)
    p.send_signal(signal.SIGTERM)
    if p.wait(10) != 0:
        fail("daemon did not stop cleanly")
    if len(answered) != len(sent):
        fail(f"{len(sent) - len(answered)} of {len(sent)} not answered "
             f"2xx, e.g. {list(other.items())[:3]}")
    events = open(log).read().split("\n")
    first_write, ok = {}, set()
    last_sync = last_meta = -1
    for i, e in enumerate(events):
        if e.startswith("W "):
            first_write.setdefault(int(e[2:]), i)
        elif e == "S":
            last_sync = i
        elif e == "M":
            last_meta = i
        elif e.startswith("A "):
            k = int(e[2:])
            w = first_write.get(k)
            if w is None:
                fail(f"dur-{k} answered before any write of it")
            # A sync, then the meta page, both after the record's write.
            if not (w < last_sync < last_meta):
                fail(f"dur-{k} answered without a sync after its write "
                     f"(write at event {w}, last sync {last_sync}, "
                     f"last meta {last_meta})")
            ok.add(k)
    if ok != set(sent):
        fail(f"answers seen by the wrapper: {len(ok)} of {len(sent)}")
    print(f"syncorder: {len(ok)} answers, each after the sync and meta "
          f"write that followed its record")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
