#!/usr/bin/env python3
"""Relay to a user with several devices (not a test), against a running
daemon on loopback with open registration and domain bench.test.
Usage: devices.py PORT PID [MESSAGES (2000)] [DEVICES (3)] [AWAY (0)]
[WINDOW (20)]
alice registers DEVICES contacts, each with its +sip.instance; AWAY of
them then unregister (remembered: each message is kept for them). bob
sends MESSAGES keeping WINDOW of them unanswered (1: one after another);
every registered device answers 200.
Prints the rate, the daemon's CPU per relayed MESSAGE and per delivered
copy (/proc/PID/stat utime+stime), the bytes it wrote per MESSAGE
(/proc/PID/io write_bytes), and what 60 s of registration refreshes of
the devices (one a second each) wrote."""
import os
import select
import socket
import sys
import time

DOMAIN = "bench.test"
port, pid = int(sys.argv[1]), int(sys.argv[2])
n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
ndev = int(sys.argv[4]) if len(sys.argv) > 4 else 3
away = int(sys.argv[5]) if len(sys.argv) > 5 else 0
window = int(sys.argv[6]) if len(sys.argv) > 6 else 20
srv = ("127.0.0.1", port)
tick = os.sysconf("SC_CLK_TCK")


def sock():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("127.0.0.1", 0))
    return s


def io_write():
    for line in open(f"/proc/{pid}/io"):
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def cpu_s():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick


seq = 0


def send(s, method, ruri, frm, to, extra="", body=""):
    global seq
    seq += 1
    me = s.getsockname()[1]
    ct = "Content-Type: text/plain\r\n" if body else ""
    s.sendto((f"{method} {ruri} SIP/2.0\r\n"
              f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bKd{seq};rport\r\n"
              f"Max-Forwards: 70\r\nFrom: <sip:{frm}@{DOMAIN}>;tag=f{seq}\r\n"
              f"To: <sip:{to}@{DOMAIN}>\r\nCall-ID: d{seq}@b\r\n"
              f"CSeq: 1 {method}\r\n{extra}{ct}"
              f"Content-Length: {len(body)}\r\n\r\n{body}").encode(), srv)
    return f"d{seq}@b"


def ok(s, req, addr):
    hdrs = [ln for ln in req.split("\r\n\r\n")[0].split("\r\n")[1:]
            if ln.split(":")[0].lower() in ("via", "from", "to", "call-id",
                                            "cseq")]
    s.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(hdrs) +
              "\r\nContent-Length: 0\r\n\r\n").encode(), addr)


def final(s, cid, others, timeout=5):
    """Wait for the final answer to cid at s, answering 200 to every
    MESSAGE the others get meanwhile; the status."""
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([s] + others, [], [], end - time.time())
        for x in r:
            data, addr = x.recvfrom(65536)
            m = data.decode(errors="replace")
            if x is s:
                if f"Call-ID: {cid}" in m and not m.startswith("SIP/2.0 1"):
                    return int(m.split(" ", 2)[1])
            elif m.startswith("MESSAGE"):
                ok(x, m, addr)
    return 0


def register(s, i, expires):
    cid = send(s, "REGISTER", f"sip:{DOMAIN}", "alice", "alice",
               f"Contact: <sip:alice@127.0.0.1:{s.getsockname()[1]}>;"
               f"+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-"
               f"{i:012d}>\"\r\nExpires: {expires}\r\n")
    return final(s, cid, [])


bob = sock()
devs = [sock() for _ in range(ndev)]
for i, d in enumerate(devs):
    assert register(d, i, 3600) == 200
for i, d in enumerate(devs[:away]):
    assert register(d, i, 0) == 200
live = devs[away:]
time.sleep(0.5)
w0, c0, t0 = io_write(), cpu_s(), time.time()
codes = {}
out = set()
sent = 0
end = time.time() + 120
while (sent < n or out) and time.time() < end:
    while sent < n and len(out) < window:
        out.add(send(bob, "MESSAGE", f"sip:alice@{DOMAIN}", "bob", "alice",
                     body=f"message {sent} from bob to all of alice's "
                     "devices"))
        sent += 1
    r, _, _ = select.select([bob] + live, [], [], 1)
    for x in r:
        data, addr = x.recvfrom(65536)
        m = data.decode(errors="replace")
        if x is not bob:
            if m.startswith("MESSAGE"):
                ok(x, m, addr)
            continue
        cid = m.split("Call-ID: ", 1)[1].split("\r\n", 1)[0]
        if cid in out and not m.startswith("SIP/2.0 1"):
            out.discard(cid)
            code = int(m.split(" ", 2)[1])
            codes[code] = codes.get(code, 0) + 1
codes["unanswered"] = len(out)
t1, c1 = time.time(), cpu_s()
time.sleep(1.5)  # the last group commit
w1 = io_write()
# Drain what is still coming (a late copy), then refreshes only.
final(bob, "none", live, 1)
r0 = io_write()
for sec in range(60):
    for i, d in enumerate(live):
        register(d, i + away, 3600)
    time.sleep(1)
r1 = io_write()
copies = n * len(live)
print(f"{n} MESSAGEs to alice ({ndev} devices, {away} away): {codes}; "
      f"{n / (t1 - t0):.0f}/s with {window} in flight; daemon CPU "
      f"{(c1 - c0) / n * 1e6:.1f} us per MESSAGE, "
      f"{(c1 - c0) / max(copies, 1) * 1e6:.1f} us per delivered copy; "
      f"{(w1 - w0) / n:.0f} bytes written per MESSAGE; "
      f"60 s of refreshes ({len(live)}/s) wrote {r1 - r0} bytes")
