#!/usr/bin/env python3
"""Drive a daemon (under callgrind) through N requests of one scenario,
one at a time, each answered before the next (not a test). Usage:
callgrind_drive.py PORT SCENARIO N   (register, relay, publish, notify)
  register  N REGISTERs of N users (open registration)
  relay     N MESSAGEs from bob to alice, who answers each 200
  publish   N PUBLISHes, each a new document of its own user
  notify    N SUBSCRIBEs (Expires 0: one NOTIFY each, answered)
Exits non-zero when an answer is missing."""
import re
import socket
import sys

port, scenario, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
srv = ("127.0.0.1", port)
D = "cg.test"
PIDF = ('<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf"'
        ' entity="sip:{u}@cg.test"><tuple id="t"><status><basic>open'
        '</basic></status></tuple></presence>')


def sock():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(30)  # valgrind is slow
    return s


def req(s, method, user, target, i, extra="", body="", ct=""):
    p = s.getsockname()[1]
    s.sendto((f"{method} sip:{target}@{D} SIP/2.0\r\nVia: SIP/2.0/UDP "
              f"127.0.0.1:{p};branch=z9hG4bKcg{method}{i};rport\r\n"
              f"Max-Forwards: 70\r\nFrom: <sip:{user}@{D}>;tag=f{i}\r\n"
              f"To: <sip:{target}@{D}>\r\nCall-ID: cg{method}{i}\r\n"
              f"CSeq: 1 {method}\r\n{extra}"
              f"Contact: <sip:{user}@127.0.0.1:{p}>\r\n"
              + (f"Content-Type: {ct}\r\n" if ct else "")
              + f"Content-Length: {len(body)}\r\n\r\n{body}").encode(), srv)


def ok(m, addr, s):
    lines = [ln for ln in m.split("\r\n") if re.match(
        r"(Via|From|To|Call-ID|CSeq):", ln)]
    s.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(lines) +
              "\r\nContent-Length: 0\r\n\r\n").encode(), addr)


def final(s, answer_requests=True):
    """The next final response on s; requests met on the way answered."""
    while True:
        m, addr = s.recvfrom(65535)
        m = m.decode(errors="replace")
        if m.startswith("SIP/2.0 1"):
            continue
        if not m.startswith("SIP/2.0"):
            if answer_requests:
                ok(m, addr, s)
            continue
        return int(m.split()[1])


a, b = sock(), sock()
if scenario == "relay":
    req(a, "REGISTER", "alice", "alice", 0, "Expires: 3600\r\n")
    assert final(a) == 200
for i in range(n):
    if scenario == "register":
        req(a, "REGISTER", f"u{i}", f"u{i}", i, "Expires: 3600\r\n")
        code = final(a)
    elif scenario == "relay":
        req(b, "MESSAGE", "bob", "alice", i, body="hello",
            ct="text/plain")
        m, addr = a.recvfrom(65535)
        ok(m.decode(errors="replace"), addr, a)
        code = final(b)
    elif scenario == "publish":
        req(a, "PUBLISH", f"p{i}", f"p{i}", i,
            "Event: presence\r\nExpires: 3600\r\n", PIDF.format(u=f"p{i}"),
            "application/pidf+xml")
        code = final(a)
    else:
        req(a, "SUBSCRIBE", "w", "p0", i,
            "Event: presence\r\nExpires: 0\r\n")
        code = final(a)
        m, addr = a.recvfrom(65535)  # its NOTIFY
        ok(m.decode(errors="replace"), addr, a)
    if code >= 300:
        sys.exit(f"{scenario} {i}: {code}")
