#!/usr/bin/env python3
"""Chat room benchmark (not a test) against a running daemon on loopback.
Usage: imc.py PORT PID
Prints the time to fan one message out to a 100-member room and the
sustained room message rate into a 10-member room. Bounded in count and
time; one UDP socket plays every member (one contact per user)."""
import re
import socket
import sys
import time

DOMAIN = "bench.test"
ROOMS = "conference." + DOMAIN  # rooms_domain unset
port, pid = int(sys.argv[1]), int(sys.argv[2])
srv = ("127.0.0.1", port)
seq = 0


def cpu():
    f = open(f"/proc/{pid}/stat").read().split(")")[1].split()
    return (int(f[11]) + int(f[12])) / 100.0


s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("127.0.0.1", 0))
s.settimeout(5)
me = s.getsockname()[1]


def send(method, user, to, extra="", body="", ruri=None):
    global seq
    seq += 1
    ct = "Content-Type: text/plain\r\n" if body else ""
    s.sendto((f"{method} sip:{ruri or to} SIP/2.0\r\n"
              f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bKi{seq};rport\r\n"
              f"Max-Forwards: 70\r\nFrom: <sip:{user}@{DOMAIN}>;tag=t{seq}\r\n"
              f"To: <sip:{to}>\r\nCall-ID: i{seq}@b\r\nCSeq: 1 {method}\r\n"
              f"{extra}{ct}Content-Length: {len(body)}\r\n\r\n{body}").encode(),
             srv)


def answer(m, addr):
    lines = [l for l in m.split("\r\n")
             if re.match(r"(Via|From|To|Call-ID|CSeq):", l)]
    s.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(lines) +
              "\r\nContent-Length: 0\r\n\r\n").encode(), addr)


def pump(want_msgs, want_resps, deadline):
    msgs = resps = 0
    while (msgs < want_msgs or resps < want_resps) and time.time() < deadline:
        try:
            m, addr = s.recvfrom(65535)
        except socket.timeout:
            break
        m = m.decode(errors="replace")
        if m.startswith("MESSAGE"):
            answer(m, addr)
            msgs += 1
        else:
            resps += 1
    return msgs, resps


def members(room, n):
    send("MESSAGE", "owner", f"chat@{DOMAIN}", body=f"#create {room}")
    pump(0, 1, time.time() + 3)
    for i in range(n):
        u = f"{room}m{i}"
        send("REGISTER", u, f"{u}@{DOMAIN}",
             f"Contact: <sip:{u}@127.0.0.1:{me}>\r\nExpires: 600\r\n",
             ruri=DOMAIN)
        send("MESSAGE", "owner", f"{room}@{ROOMS}", body=f"#add {u}")
        # the add is announced to everyone already in the room
        pump(i + 1, 2, time.time() + 3)
    time.sleep(0.2)
    pump(10 ** 6, 0, time.time() + 0.5)


members("big", 100)
t0, c0 = time.time(), cpu()
send("MESSAGE", "owner", f"big@{ROOMS}", body="one for all")
got, _ = pump(100, 1, time.time() + 10)
dt = time.time() - t0
print(f"fan-out: 1 room message to 100 members: {got} delivered in "
      f"{dt * 1000:.1f} ms, daemon CPU {(cpu() - c0) * 1000:.1f} ms")

members("ten", 10)
N = 2000
t0, c0 = time.time(), cpu()
sent = deliv = acks = 0
while sent < N:
    for _ in range(5):
        send("MESSAGE", "owner", f"ten@{ROOMS}", body=f"m{sent}")
        sent += 1
    d, a = pump(50, 5, time.time() + 2)
    deliv += d
    acks += a
d, a = pump(N * 10 - deliv, N - acks, time.time() + 5)
deliv += d
acks += a
dt = time.time() - t0
print(f"room messages into a 10-member room: {N} in {dt:.2f} s = "
      f"{N / dt:.0f}/s ({acks} answered, {deliv} of {N * 10} deliveries), "
      f"daemon CPU {(cpu() - c0) / N * 1e6:.0f} us per room message")
