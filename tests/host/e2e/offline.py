#!/usr/bin/env python3
"""End-to-end checks of offline messages against the real daemon, loopback
only. Usage:
  offline.py rules PORT                 quota, retries, expiry (config from run.sh)
  offline.py durability BIN WORKDIR WINDOW_MS  kill -9 while storing, restart,
                                          every 202 delivered exactly once
  offline.py full PORT                  tiny store: 503, still serving
  offline.py dead PORT                  contact port closed (UDP, TCP): 202 < 3 s
"""
import os
import random
import re
import select
import signal
import socket
import subprocess
import sys
import time

DOMAIN = "simpled.test"
seq = 0


def check(cond, what):
    if not cond:
        print(f"offline.py: {what}", file=sys.stderr)
        sys.exit(1)


class UA:
    """A UDP SIP user agent on 127.0.0.1."""

    def __init__(self, port):
        self.srv = ("127.0.0.1", port)
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.port = self.s.getsockname()[1]

    def send(self, data):
        self.s.sendto(data.encode() if isinstance(data, str) else data,
                      self.srv)

    def recv(self, timeout):
        r, _, _ = select.select([self.s], [], [], timeout)
        if not r:
            return None
        return self.s.recv(65535).decode(errors="replace")

    def request(self, method, ruri, to, extra="", body="", user="bob"):
        global seq
        seq += 1
        tok = f"{os.getpid()}x{seq}"
        ctype = ("Content-Type: text/plain\r\n"
                 if body and "Content-Type" not in extra else "")
        msg = (f"{method} {ruri} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{tok};rport\r\n"
               f"Max-Forwards: 70\r\n"
               f"From: <sip:{user}@{DOMAIN}>;tag={tok}\r\n"
               f"To: <sip:{to}>\r\n"
               f"Call-ID: {tok}@py\r\nCSeq: 1 {method}\r\n{extra}{ctype}"
               f"Content-Length: {len(body.encode())}\r\n\r\n{body}")
        self.send(msg)
        return tok

    def transact(self, method, ruri, to, extra="", body="", timeout=3):
        tok = self.request(method, ruri, to, extra, body)
        end = time.time() + timeout
        while time.time() < end:
            r = self.recv(end - time.time())
            if r and f"Call-ID: {tok}@py" in r and r.startswith("SIP/2.0"):
                return r
        return None

    def register(self, user, expires=600):
        return self.transact("REGISTER", f"sip:{DOMAIN}", f"{user}@{DOMAIN}",
                             f"Contact: <sip:{user}@127.0.0.1:{self.port}>\r\n"
                             f"Expires: {expires}\r\n")

    def answer(self, req, code):
        hdrs = []
        for name in ("Via", "From", "To", "Call-ID", "CSeq"):
            for line in req.split("\r\n"):
                if line.lower().startswith(name.lower() + ":"):
                    hdrs.append(line + (";tag=u" if name == "To" else ""))
        self.send(f"SIP/2.0 {code} X\r\n" + "\r\n".join(hdrs) +
                  "\r\nContent-Length: 0\r\n\r\n")


def status(r):
    return int(r.split(" ", 2)[1]) if r and r.startswith("SIP/2.0") else 0


def body(r):
    return r.split("\r\n\r\n", 1)[1] if r else ""


def branch(r):
    m = re.search(r"branch=([^;\r\n,]+)", r)
    return m.group(1) if m else ""


def next_request(ua, timeout):
    end = time.time() + timeout
    while time.time() < end:
        r = ua.recv(end - time.time())
        if r and not r.startswith("SIP/2.0"):
            return r
    return None


def rules(port):
    bob, dave, erin = UA(port), UA(port), UA(port)
    # Quota: max_messages 2.
    for i, want in ((1, 202), (2, 202), (3, 480)):
        r = bob.transact("MESSAGE", f"sip:dave@{DOMAIN}", f"dave@{DOMAIN}",
                         body=f"msg{i}")
        check(status(r) == want, f"message {i}: {r!r}")
    check("Offline mailbox full" in r, "quota reason")
    # Retries: max_tries 2, retry_interval 1 s.
    check(status(dave.register("dave")) == 200, "dave register")
    m = next_request(dave, 3)
    check(m and "msg1" in body(m), f"first delivery: {m!r}")
    dave.answer(m, 500)
    t0 = time.time()
    m = next_request(dave, 4)
    while m and branch(m) and "msg1" in body(m) and time.time() - t0 < 0.5:
        m = next_request(dave, 4)  # a UDP retransmission, not a retry
    check(m and "msg1" in body(m), f"retry: {m!r}")
    check(time.time() - t0 >= 0.9, "retry came before retry_interval")
    dave.answer(m, 500)
    # Two tries failed: msg1 is dropped, msg2 comes next and is taken.
    m = next_request(dave, 4)
    while m and "msg1" in body(m):
        m = next_request(dave, 4)
    check(m and "msg2" in body(m), f"after giving up: {m!r}")
    dave.answer(m, 200)
    m = next_request(dave, 2.5)
    while m and "msg2" in body(m):
        m = next_request(dave, 2.5)
    check(m is None, f"something more was delivered: {m!r}")
    # Expiry: Expires 1 s; purge runs every second.
    r = bob.transact("MESSAGE", f"sip:erin@{DOMAIN}", f"erin@{DOMAIN}",
                     "Expires: 1\r\n", body="too late")
    check(status(r) == 202, f"erin store: {r!r}")
    time.sleep(3)
    check(status(erin.register("erin")) == 200, "erin register")
    check(next_request(erin, 2) is None, "an expired message was delivered")


def durability(binary, work, mode):
    port = UA(0).port  # a free port number (the socket closes)
    state = os.path.join(work, "state-" + mode)
    conf = os.path.join(work, "dur.conf")
    with open(conf, "w") as f:
        f.write(f"config simpled 'main'\n\tlist domain '{DOMAIN}'\n"
                f"\tlist listen 'udp:127.0.0.1:{port}'\n"
                f"\toption state_dir '{state}'\n"
                "\toption open_registration '1'\n"
                # bob sends all 300: no per-source cap.
                f"config offline\n\toption max_messages_per_source '0'\n"
                f"config storage\n\toption commit_window_ms '{mode}'\n")

    def start():
        p = subprocess.Popen([binary, "-f", "-c", conf],
                             stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(work, f"dur-{mode}.log"), "a"))
        ua = UA(port)
        for _ in range(100):
            if status(ua.transact("OPTIONS", f"sip:{DOMAIN}", DOMAIN,
                                  timeout=0.1)) == 200:
                return p
        check(False, "daemon did not come up")

    users = [f"d{i}" for i in range(5)]
    p = start()
    bob = UA(port)
    acked, sent = set(), {}
    n = 300
    kill_at = random.randint(60, 240)
    for i in range(n):
        u = users[i % len(users)]
        tok = bob.request("MESSAGE", f"sip:{u}@{DOMAIN}", f"{u}@{DOMAIN}",
                          body=f"id={i}")
        sent[tok] = i
        if i == kill_at:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
            break
        wait = 0.02  # pace the stream a little, then drain what is there
        while True:
            r = bob.recv(wait)
            wait = 0
            if r is None:
                break
            m = re.search(r"Call-ID: (\S+)@py", r)
            if m and status(r) == 202 and m.group(1) in sent:
                acked.add(sent[m.group(1)])
    time.sleep(0.2)
    while True:
        r = bob.recv(0.05)
        if r is None:
            break
    check(len(acked) > 5, f"too few acknowledged before the kill: {len(acked)}")
    p = start()
    try:
        got = {}
        rx = UA(port)
        for u in users:
            check(status(rx.register(u)) == 200, f"register {u}")
        seen_branches = set()
        idle_until = time.time() + 3
        while time.time() < idle_until:
            m = next_request(rx, 0.5)
            if not m:
                continue
            idle_until = time.time() + 2
            rx.answer(m, 200)
            b = branch(m)
            if b in seen_branches:
                continue  # UDP retransmission of one delivery
            seen_branches.add(b)
            mid = int(re.search(r"id=(\d+)", body(m)).group(1))
            got[mid] = got.get(mid, 0) + 1
        missing = sorted(acked - set(got))
        dup = sorted(k for k, v in got.items() if v > 1)
        check(not missing, f"{mode}: acknowledged but lost: {missing[:10]}")
        check(not dup, f"{mode}: delivered twice: {dup[:10]}")
        print(f"{mode}: killed after {kill_at + 1} sends, {len(acked)} acked, "
              f"{len(got)} delivered, none lost or doubled")
    finally:
        p.terminate()
        p.wait()


def full(port):
    bob = UA(port)
    big = "z" * 6000
    codes = []
    for i in range(80):
        r = bob.transact("MESSAGE", f"sip:fred@{DOMAIN}", f"fred@{DOMAIN}",
                         body=big + str(i))
        codes.append(status(r))
        if codes[-1] != 202:
            break
    check(codes[0] == 202 and codes[-1] == 503, f"codes {codes}")
    check("Message store full" in r and "Retry-After" in r, r)
    r = bob.transact("OPTIONS", f"sip:{DOMAIN}", DOMAIN)
    check(status(r) == 200, "not serving after the store filled")


def closed_port(kind):
    """A port number nothing listens on (bound, then closed)."""
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def dead(port):
    """A MESSAGE to a contact whose port is closed is kept (202) within
    3 s, over UDP (ICMP port unreachable) and TCP (connection refused),
    not after the 32 s transaction timeout."""
    bob = UA(port)

    def kept_within(user, contact, label, limit):
        """Register user at contact; a MESSAGE to them is kept (202)
        within limit seconds."""
        r = UA(port).transact("REGISTER", f"sip:{DOMAIN}", f"{user}@{DOMAIN}",
                              f"Contact: {contact}\r\nExpires: 600\r\n")
        check(status(r) == 200, f"register {user}: {r!r}")
        t0 = time.time()
        r = bob.transact("MESSAGE", f"sip:{user}@{DOMAIN}", f"{user}@{DOMAIN}",
                         body="are you there?", timeout=40)
        took = time.time() - t0
        check(status(r) == 202, f"{user} ({label}): {r!r}")
        check(took < limit, f"{user} ({label}): 202 after {took:.1f} s")
        print(f"dead contact {user} ({label}): 202 after {took:.2f} s")

    for user, kind, tp in (("dora", socket.SOCK_DGRAM, ""),
                           ("tess", socket.SOCK_STREAM, ";transport=tcp")):
        kept_within(user, f"<sip:{user}@127.0.0.1:{closed_port(kind)}{tp}>",
                    tp[1:] or "transport=udp", 3)
    # A TCP contact that never answers the connect (its accept queue is
    # full, so SYNs are dropped): the connect times out in 4 s.
    lsn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(0)
    lp = lsn.getsockname()[1]
    fill = []
    for _ in range(4):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", lp))
        fill.append(s)
    time.sleep(0.2)
    kept_within("sam", f"<sip:sam@127.0.0.1:{lp};transport=tcp>",
                "silent TCP", 6)
    for s in fill:
        s.close()
    lsn.close()


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "rules":
        rules(int(sys.argv[2]))
    elif what == "durability":
        durability(sys.argv[2], sys.argv[3], sys.argv[4])
    elif what == "full":
        full(int(sys.argv[2]))
    elif what == "dead":
        dead(int(sys.argv[2]))
    else:
        check(False, "unknown check")
