#!/usr/bin/env python3
"""Slow TCP clients must not lock others out (loopback only, bounded).

Usage: tcpslow.py PORT
32 connections from 127.0.0.2 ... 127.0.0.33 each send one byte a second
(a request that never completes); meanwhile a REGISTER over TCP from
127.0.0.1 must get its 200 within 1 s, and the slow ones are closed once
their message has taken 5 s. Then 9 connections from one address: the
9th is refused (closed at once).
"""
import select
import socket
import sys
import time

DOMAIN = "simpled.test"


def fail(why):
    print(f"tcpslow.py: {why}", file=sys.stderr)
    sys.exit(1)


def connect(port, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(2)
    s.connect(("127.0.0.1", port))
    return s


def register(port):
    s = connect(port, "127.0.0.1")
    me = s.getsockname()[1]
    s.sendall((f"REGISTER sip:{DOMAIN} SIP/2.0\r\n"
               f"Via: SIP/2.0/TCP 127.0.0.1:{me};branch=z9hG4bKslow1\r\n"
               f"Max-Forwards: 70\r\nFrom: <sip:zoe@{DOMAIN}>;tag=z\r\n"
               f"To: <sip:zoe@{DOMAIN}>\r\nCall-ID: slow1@py\r\n"
               f"CSeq: 1 REGISTER\r\n"
               f"Contact: <sip:zoe@127.0.0.1:{me};transport=tcp>\r\n"
               f"Expires: 600\r\nContent-Length: 0\r\n\r\n").encode())
    data = b""
    end = time.time() + 1.0
    while b"\r\n\r\n" not in data and time.time() < end:
        r, _, _ = select.select([s], [], [], end - time.time())
        if not r:
            break
        chunk = s.recv(65535)
        if not chunk:
            break
        data += chunk
    s.close()
    return data.decode(errors="replace")


def main(port):
    slow = []
    for i in range(2, 34):
        try:
            slow.append(connect(port, f"127.0.0.{i}"))
        except OSError:
            pass  # refused or reset: the pool is full; that is allowed
    # One byte a second from each, for 3 s, then the REGISTER.
    for t in range(3):
        for s in slow:
            try:
                s.send(b"R")
            except OSError:
                pass
        time.sleep(1)
    t0 = time.time()
    r = register(port)
    took = time.time() - t0
    if not r.startswith("SIP/2.0 200"):
        fail(f"REGISTER over TCP beside 32 slow clients: {r[:60]!r} "
             f"after {took:.2f} s")
    # A message begun must end within 5 s (TCP_MESSAGE_S): by 6 s after
    # their first byte every slow connection has been closed.
    time.sleep(3.2)
    still = 0
    for s in slow:
        try:
            s.send(b"R")
            r, _, _ = select.select([s], [], [], 0.2)
            if not r or s.recv(1) != b"":
                still += 1
        except OSError:
            pass  # reset: closed
        s.close()
    if still:
        fail(f"{still} slow connections still open after 6 s")
    # Per-source cap: the 9th from one address is closed at once.
    same = [connect(port, "127.0.0.40") for _ in range(9)]
    time.sleep(0.3)
    closed = []
    for s in same:
        r, _, _ = select.select([s], [], [], 0)
        if r:
            try:
                closed.append(s.recv(1) == b"")
            except OSError:
                closed.append(True)
        else:
            closed.append(False)
    if closed[:8] != [False] * 8 or not closed[8]:
        fail(f"per-source cap: closed {closed}")
    for s in same:
        s.close()
    print(f"tcpslow: REGISTER beside 32 slow clients answered in "
          f"{took * 1000:.0f} ms; 9th connection from one address refused")


if __name__ == "__main__":
    main(int(sys.argv[1]))
