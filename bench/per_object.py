#!/usr/bin/env python3
"""8000 bindings (4000 users, two contacts each), then 8000 presence
subscriptions, against a running daemon (bench/ceiling.conf): the
anonymous memory each adds. Before each, as many requests that leave
nothing behind (REGISTER queries, SUBSCRIBE fetches) run and end (Timer J,
32 s), so that the transaction pools and the answers' heap are already
resident and the figure is the objects' own. Usage: per_object.py PID
PORT"""
import socket
import sys
import time

pid, port = int(sys.argv[1]), int(sys.argv[2])
srv = ("127.0.0.1", port)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(2)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
me = s.getsockname()[1]


def anon():
    for line in open(f"/proc/{pid}/smaps_rollup"):
        if line.startswith("Anonymous:"):
            return int(line.split()[1])


def ok_notify(m):
    t = m.decode(errors="replace")
    h = dict(ln.split(":", 1) for ln in t.split("\r\n")[1:] if ":" in ln)
    s.sendto((f"SIP/2.0 200 OK\r\nVia:{h['Via']}\r\nFrom:{h['From']}\r\n"
              f"To:{h['To']}\r\nCall-ID:{h['Call-ID']}\r\nCSeq:{h['CSeq']}"
              "\r\nContent-Length: 0\r\n\r\n").encode(), srv)


def run(reqs):
    got = 0
    for i in range(0, len(reqs), 200):
        batch = reqs[i:i + 200]
        for r in batch:
            s.sendto(r, srv)
        n = 0
        try:
            while n < len(batch):
                m = s.recv(65536)
                if m.startswith(b"SIP/2.0"):
                    got += m.startswith(b"SIP/2.0 2")
                    n += 1
                elif m.startswith(b"NOTIFY"):
                    ok_notify(m)
        except socket.timeout:
            pass
    return got


def req(method, user, target, tag, extra, contact, expires=3600):
    ct = f"Contact: <{contact}>\r\n" if contact else ""
    return (f"{method} sip:{target}@bench.test SIP/2.0\r\nVia: SIP/2.0/UDP "
            f"127.0.0.1:{me};branch=z9hG4bK{tag};rport\r\nFrom: "
            f"<sip:{user}@bench.test>;tag=t{tag}\r\nTo: "
            f"<sip:{target}@bench.test>\r\nCall-ID: {tag}@bench\r\n"
            f"CSeq: 1 {method}\r\n{extra}{ct}"
            f"Expires: {expires}\r\nContent-Length: 0\r\n\r\n").encode()


def warm(reqs):
    run(reqs)
    time.sleep(33)


def registers(tag, bind):
    """Two REGISTERs of each of 4000 users: bindings, or (bind False)
    queries that leave nothing behind."""
    return [req("REGISTER", f"user{u:05d}", f"user{u:05d}", f"{tag}{u}x{c}",
                "", f"sip:user{u:05d}@10.1.{c}.{u % 250}:{5060 + u % 1000}"
                if bind else None)
            for u in range(4000) for c in range(2)]


def subscribes(tag, expires):
    """8000 presence SUBSCRIBEs among the 4000 users (Expires 0:
    fetches, which leave nothing behind)."""
    return [req("SUBSCRIBE", f"user{i % 4000:05d}",
                f"user{(i * 7 + 1) % 4000:05d}", f"{tag}{i}",
                "Event: presence\r\n",
                f"sip:user{i % 4000:05d}@127.0.0.1:{me}", expires)
            for i in range(8000)]


warm(registers("q", False))
a0 = anon()
ok = run(registers("r", True))
time.sleep(1)
a1 = anon()
print(f"{ok} bindings of 4000 users: anonymous +{a1 - a0} kB = "
      f"{(a1 - a0) * 1024 / max(ok, 1):.0f} bytes per binding (its AoR's "
      "share included)")
warm(subscribes("f", 0))
a1 = anon()
ok = run(subscribes("s", 3600))
time.sleep(2)
a2 = anon()
print(f"{ok} subscriptions: anonymous +{a2 - a1} kB = "
      f"{(a2 - a1) * 1024 / max(ok, 1):.0f} bytes per subscription "
      "(the presentity's share included)")
