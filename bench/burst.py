#!/usr/bin/env python3
"""A burst of UDP requests (not a test), against a running daemon on
loopback: N OPTIONS sent as fast as one socket can (about 2000 in 10 ms),
then their answers counted, and the kernel's UDP RcvbufErrors (datagrams
dropped for want of receive buffer, /proc/net/snmp) before and after.
Usage: burst.py PORT [N (2000)]"""
import socket
import sys
import time

port = int(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000


def rcvbuf_errors():
    lines = [ln.split() for ln in open("/proc/net/snmp")
             if ln.startswith("Udp:")]
    return int(lines[1][lines[0].index("RcvbufErrors")])


s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
s.bind(("127.0.0.1", 0))
me = s.getsockname()[1]
reqs = [(f"OPTIONS sip:burst.test SIP/2.0\r\nVia: SIP/2.0/UDP "
         f"127.0.0.1:{me};branch=z9hG4bKb{i}\r\nMax-Forwards: 70\r\n"
         f"From: <sip:b@burst.test>;tag=b\r\nTo: <sip:burst.test>\r\n"
         f"Call-ID: b{i}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
        .encode() for i in range(n)]
e0 = rcvbuf_errors()
t0 = time.time()
for r in reqs:
    s.sendto(r, ("127.0.0.1", port))
sent_in = time.time() - t0
s.settimeout(2)
got = set()
try:
    while len(got) < n:
        m = s.recv(65536).decode(errors="replace")
        i = m.find("Call-ID: b")
        if i >= 0:
            got.add(m[i + 10:m.find("\r", i)])
except socket.timeout:
    pass
print(f"{n} OPTIONS sent in {sent_in * 1000:.1f} ms; {len(got)} answered; "
      f"RcvbufErrors +{rcvbuf_errors() - e0}")
