#!/usr/bin/env python3
"""Presence benchmark (not a test), against a running daemon on loopback.
Usage: presence.py PORT PID
Prints: PUBLISH rate, SUBSCRIBE+NOTIFY rate, fan-out time to 1000 watchers,
RSS with 10,000 subscriptions, disk bytes per refresh. Every loop is
bounded in count and time."""
import re
import socket
import sys
import time

DOMAIN = "bench.test"
PIDF = ('<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf"'
        ' entity="sip:{u}@bench.test"><tuple id="t"><status><basic>{b}'
        '</basic></status></tuple></presence>')
port, pid = int(sys.argv[1]), int(sys.argv[2])
srv = ("127.0.0.1", port)
seq = 0


def sock():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("127.0.0.1", 0))
    s.settimeout(5)
    return s


def req(s, method, user, target, extra="", body=""):
    global seq
    seq += 1
    p = s.getsockname()[1]
    ct = "Content-Type: application/pidf+xml\r\n" if body else ""
    s.sendto((f"{method} sip:{target}@{DOMAIN} SIP/2.0\r\n"
              f"Via: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bKb{seq};rport\r\n"
              f"Max-Forwards: 70\r\nFrom: <sip:{user}@{DOMAIN}>;tag=f{seq}\r\n"
              f"To: <sip:{target}@{DOMAIN}>\r\nCall-ID: c{seq}@b\r\n"
              f"CSeq: 1 {method}\r\n{extra}{ct}"
              f"Contact: <sip:{user}@127.0.0.1:{p}>\r\n"
              f"Content-Length: {len(body)}\r\n\r\n{body}").encode(), srv)
    return seq


def answer(s, m, addr):
    lines = [l for l in m.split("\r\n") if re.match(
        r"(Via|From|To|Call-ID|CSeq):", l)]
    s.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(lines) +
              "\r\nContent-Length: 0\r\n\r\n").encode(), addr)


def proc(field):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith(field):
            return int(l.split()[1])


def io_write():
    for l in open(f"/proc/{pid}/io"):
        if l.startswith("write_bytes"):
            return int(l.split()[1])


def cpu():
    f = open(f"/proc/{pid}/stat").read().split(")")[1].split()
    return (int(f[11]) + int(f[12])) / 100.0


def collect(s, want, deadline, notify_answer=True):
    got = codes = 0
    stats = {}
    while got < want and time.time() < deadline:
        try:
            m, addr = s.recvfrom(65535)
        except socket.timeout:
            break
        m = m.decode(errors="replace")
        if m.startswith("NOTIFY"):
            if notify_answer:
                answer(s, m, addr)
            stats["notify"] = stats.get("notify", 0) + 1
        else:
            c = int(m.split(" ", 2)[1])
            stats[c] = stats.get(c, 0) + 1
        got = stats.get("notify", 0) if want_notify[0] else sum(
            v for k, v in stats.items() if k != "notify")
    return stats


want_notify = [False]


def publish_rate(n=4000, window=64):
    s = sock()
    t0, c0, w0 = time.time(), cpu(), io_write()
    sent = 0
    stats = {}
    while sent < n:
        k = min(window, n - sent)
        for i in range(k):
            req(s, "PUBLISH", f"p{(sent + i) % 1000}", f"p{(sent + i) % 1000}",
                "Event: presence\r\nExpires: 60\r\n",
                PIDF.format(u=f"p{(sent + i) % 1000}", b="open"))
        for k2, v in collect(s, k, time.time() + 10).items():
            stats[k2] = stats.get(k2, 0) + v
        sent += k
    dt = time.time() - t0
    print(f"PUBLISH (new document, group commit): {n} in {dt:.2f} s = "
          f"{n / dt:.0f}/s, answers {stats}, daemon CPU "
          f"{(cpu() - c0) / n * 1e6:.0f} us/PUBLISH, disk "
          f"{(io_write() - w0) / n:.0f} bytes/PUBLISH")
    return s


def refresh_bytes(n=2000):
    s = sock()
    req(s, "PUBLISH", "r1", "r1", "Event: presence\r\nExpires: 600\r\n",
        PIDF.format(u="r1", b="open"))
    m = s.recv(65535).decode()
    etag = re.search(r"SIP-ETag: (\w+)", m).group(1)
    w0 = io_write()
    t0 = time.time()
    for i in range(n):
        req(s, "PUBLISH", "r1", "r1",
            f"Event: presence\r\nExpires: 600\r\nSIP-If-Match: {etag}\r\n")
        m = s.recv(65535).decode()
        etag = re.search(r"SIP-ETag: (\w+)", m).group(1)
    dt = time.time() - t0
    print(f"PUBLISH refresh: {n} in {dt:.2f} s = {n / dt:.0f}/s (one at a "
          f"time); disk written {(io_write() - w0) / n:.1f} bytes/refresh")


def subscribe_rate(n=4000, window=50):
    s = sock()
    want_notify[0] = False
    t0, c0 = time.time(), cpu()
    stats = {}
    sent = 0
    while sent < n:
        k = min(window, n - sent)
        for i in range(k):
            req(s, "SUBSCRIBE", f"w{sent + i}", "p1",
                "Event: presence\r\nExpires: 0\r\n")
        # Expires 0 (fetch): 200 plus one NOTIFY each.
        want_notify[0] = True
        for k2, v in collect(s, k, time.time() + 10).items():
            stats[k2] = stats.get(k2, 0) + v
        want_notify[0] = False
        sent += k
    dt = time.time() - t0
    print(f"SUBSCRIBE (fetch) + NOTIFY: {n} in {dt:.2f} s = {n / dt:.0f}/s, "
          f"{stats}, daemon CPU {(cpu() - c0) / n * 1e6:.0f} us each")


def fanout(watchers=1000):
    s = sock()
    for i in range(watchers):
        req(s, "SUBSCRIBE", f"f{i}", "star", "Event: presence\r\nExpires: 600\r\n")
        if i % 100 == 99:
            want_notify[0] = True
            collect(s, 100, time.time() + 10)
    want_notify[0] = True
    collect(s, watchers % 100, time.time() + 2)
    p = sock()
    t0 = time.time()
    req(p, "PUBLISH", "star", "star", "Event: presence\r\nExpires: 600\r\n",
        PIDF.format(u="star", b="open"))
    st = collect(s, watchers, time.time() + 30)
    dt = time.time() - t0
    print(f"fan-out: one PUBLISH to {watchers} watchers: "
          f"{st.get('notify', 0)} NOTIFYs in {dt * 1000:.0f} ms")


def rss_subs(n=10000):
    s = sock()
    r0 = proc("VmRSS")
    for i in range(n):
        req(s, "SUBSCRIBE", f"m{i}", f"t{i % 500}",
            "Event: presence\r\nExpires: 3600\r\n")
        if i % 200 == 199:
            want_notify[0] = True
            collect(s, 200, time.time() + 10)
    time.sleep(1)
    print(f"RSS: {r0} kB before, {proc('VmRSS')} kB with {n} more "
          f"subscriptions (VmHWM {proc('VmHWM')} kB)")


print(f"idle: VmRSS {proc('VmRSS')} kB")
publish_rate()
refresh_bytes()
subscribe_rate()
fanout()
rss_subs()
