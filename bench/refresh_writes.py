#!/usr/bin/env python3
"""What refreshes write to disk (not a test), against a running daemon on
loopback with open registration. Usage: refresh_writes.py PORT PID
[SECONDS (600)] [RATE (100)] [SUBSCRIBE (1: also subscriptions)]
100 users register and publish once; then for SECONDS, RATE REGISTER
refreshes and RATE PUBLISH refreshes (SIP-If-Match) a second, and the
users' SUBSCRIBE refreshes (each of 100 subscriptions once a minute).
Prints the bytes the daemon wrote (/proc/PID/io write_bytes) before and
during the refreshes, and the refreshes answered."""
import socket
import sys
import time

DOMAIN = "bench.test"
PIDF = ('<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf"'
        ' entity="sip:{u}@bench.test"><tuple id="t"><status><basic>open'
        '</basic></status></tuple></presence>')
port, pid = int(sys.argv[1]), int(sys.argv[2])
secs = int(sys.argv[3]) if len(sys.argv) > 3 else 600
rate = int(sys.argv[4]) if len(sys.argv) > 4 else 100
with_subs = int(sys.argv[5]) if len(sys.argv) > 5 else 1
srv = ("127.0.0.1", port)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("127.0.0.1", 0))
s.settimeout(0.5)
me = s.getsockname()[1]
seq = 0


def io_write():
    for line in open(f"/proc/{pid}/io"):
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def send(method, user, target, extra="", body="", cid=None, cseq=1,
         to_tag=""):
    global seq
    seq += 1
    ct = "Content-Type: application/pidf+xml\r\n" if body else ""
    s.sendto((f"{method} sip:{target}@{DOMAIN} SIP/2.0\r\n"
              f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bKr{seq};rport\r\n"
              f"Max-Forwards: 70\r\nFrom: <sip:{user}@{DOMAIN}>;tag=f{user}\r\n"
              f"To: <sip:{target}@{DOMAIN}>{to_tag}\r\n"
              f"Call-ID: {cid or f'c{seq}'}@r\r\nCSeq: {cseq} {method}\r\n"
              f"{extra}{ct}Contact: <sip:{user}@127.0.0.1:{me}>\r\n"
              f"Content-Length: {len(body)}\r\n\r\n{body}").encode(), srv)


def drain(until):
    """Read answers (and answer NOTIFYs) until the time; the responses."""
    got = []
    while time.time() < until:
        try:
            m = s.recv(65536).decode(errors="replace")
        except socket.timeout:
            continue
        if m.startswith("NOTIFY"):
            h = {k: v for k, v in (ln.split(":", 1) for ln in
                 m.split("\r\n")[1:] if ":" in ln)}
            s.sendto((f"SIP/2.0 200 OK\r\nVia:{h['Via']}\r\nFrom:{h['From']}"
                      f"\r\nTo:{h['To']}\r\nCall-ID:{h['Call-ID']}\r\n"
                      f"CSeq:{h['CSeq']}\r\nContent-Length: 0\r\n\r\n")
                     .encode(), srv)
        else:
            got.append(m)
        if not until - time.time() > 0:
            break
    return got


def header(m, name):
    for ln in m.split("\r\n"):
        if ln.lower().startswith(name.lower() + ":"):
            return ln.split(":", 1)[1].strip()
    return None


users = [f"r{i}" for i in range(100)]
etags, subs = {}, {}
for u in users:
    send("REGISTER", u, u, "Expires: 3600\r\n", cid=f"reg{u}")
    send("PUBLISH", u, u, "Event: presence\r\nExpires: 3600\r\n",
         PIDF.format(u=u), cid=f"pub{u}")
    if with_subs:
        send("SUBSCRIBE", u, users[(users.index(u) + 1) % 100],
             "Event: presence\r\nExpires: 3600\r\n", cid=f"sub{u}")
for m in drain(time.time() + 3):
    cid = header(m, "Call-ID") or ""
    if cid.startswith("pub") and header(m, "SIP-ETag"):
        etags[cid[3:-2]] = header(m, "SIP-ETag")
    if cid.startswith("sub"):
        to = header(m, "To")
        subs[cid[3:-2]] = to[to.find(";tag="):] if ";tag=" in to else ""
print(f"set up: {len(etags)} documents, {len(subs)} subscriptions")
w0 = io_write()
t0 = time.time()
n = ok = 0
cseq = 2
while time.time() - t0 < secs:
    tick = time.time()
    for i in range(rate):
        u = users[(n + i) % 100]
        send("REGISTER", u, u, "Expires: 3600\r\n", cid=f"reg{u}", cseq=cseq)
        if u in etags:
            send("PUBLISH", u, u, f"Event: presence\r\nExpires: 3600\r\n"
                 f"SIP-If-Match: {etags[u]}\r\n", cid=f"pub{u}", cseq=cseq)
    # Each subscription once a minute.
    for u in users[(n // rate) % 60::60]:
        if u in subs:
            send("SUBSCRIBE", u, users[(users.index(u) + 1) % 100],
                 "Event: presence\r\nExpires: 3600\r\n", cid=f"sub{u}",
                 cseq=cseq, to_tag=subs[u])
    n += rate
    cseq += 1
    for m in drain(tick + 1):
        if m.startswith("SIP/2.0 200"):
            ok += 1
            cid = header(m, "Call-ID") or ""
            if cid.startswith("pub") and header(m, "SIP-ETag"):
                etags[cid[3:-2]] = header(m, "SIP-ETag")
dt = time.time() - t0
print(f"{dt:.0f} s: {n} REGISTER and {n} PUBLISH refreshes sent, {ok} "
      f"answered 200 (SUBSCRIBE refreshes included); disk written "
      f"{io_write() - w0} bytes")
