#!/usr/bin/env python3
"""End-to-end check of messaging to a user's devices (+sip.instance)
against the real daemon, loopback only: alice has two devices (and later a
third), bob sends. Delivered to both; a device that was off gets it once
when it registers; alice's other device gets a copy of what she sends; a
delivery report reaches alice while all her devices are off; a message
stored just before kill -9 reaches the device after the restart; the
history service gives a new device everything in order.
Usage: devices.py BIN WORKDIR
       devices.py peer PORT   (beside baresip: run.sh baresip_devices)"""
import atexit
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import auth  # noqa: E402  (UA with digest, ok_for, status)
from auth import DOMAIN, UA, ok_for, status  # noqa: E402


def check(cond, what):
    if not cond:
        print(f"devices.py: {what}", file=sys.stderr)
        sys.exit(1)


class Device(UA):
    """One of alice's devices: registers with its +sip.instance."""

    def __init__(self, port, user, inst):
        super().__init__(port)
        self.user, self.inst = user, inst

    def reg(self, expires=600):
        return self.authed(
            "REGISTER", f"sip:{DOMAIN}", f"{self.user}@{DOMAIN}",
            f"{self.user}@{DOMAIN}",
            f"Contact: <sip:{self.user}@{self.ip}:{self.port}>;"
            f"+sip.instance=\"<urn:uuid:{self.inst}>\"\r\n"
            f"Expires: {expires}\r\n")

    def take(self, timeout=2):
        """The next MESSAGE, answered 200 (None: none came)."""
        end = time.time() + timeout
        while time.time() < end:
            r = self.recv(end - time.time())
            if r and r.startswith("MESSAGE "):
                self.s.sendto(ok_for(r, "d").encode(), self.srv)
                return r
        return None

    def quiet(self, timeout=0.8):
        return self.take(timeout) is None


def body(r):
    """The text as sent: a text/plain one delivered from the store starts
    with "[stored <date>] " (add_date), which is taken off here."""
    b = r.split("\r\n\r\n", 1)[1] if r else ""
    return re.sub(r"^\[stored [0-9-]+ [0-9:]+ UTC\] ", "", b)


def send(ua, to, text, ctype=None, user="bob"):
    """A MESSAGE from user to `to`, authenticated; its final answer comes
    later (sent without waiting)."""
    extra = f"Content-Type: {ctype}\r\n" if ctype else ""
    # transact() waits for the final answer, which needs the devices to
    # answer first: a thread of its own would do, a second socket is
    # simpler: challenge first, then send the authenticated request.
    r = ua.transact("MESSAGE", f"sip:{to}@{DOMAIN}", f"{user}@{DOMAIN}",
                    f"{to}@{DOMAIN}", extra, text)
    check(status(r) == 407, f"MESSAGE not challenged: {r!r:.80}")
    auth.seq += 1
    tok = f"{os.getpid()}y{auth.seq}"
    cred = auth.credentials(r, user, auth.PASSWORDS[user], "MESSAGE",
                            f"sip:{to}@{DOMAIN}")
    ctype = extra or "Content-Type: text/plain\r\n"
    ua.s.sendto((
        f"MESSAGE sip:{to}@{DOMAIN} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {ua.ip}:{ua.port};branch=z9hG4bK{tok};rport\r\n"
        f"Max-Forwards: 70\r\nFrom: <sip:{user}@{DOMAIN}>;tag={tok}\r\n"
        f"To: <sip:{to}@{DOMAIN}>\r\nCall-ID: {tok}@py\r\n"
        f"CSeq: 2 MESSAGE\r\n{cred}{ctype}"
        f"Content-Length: {len(text.encode())}\r\n\r\n{text}").encode(),
        ua.srv)
    return tok


def final(ua, tok, timeout=3):
    end = time.time() + timeout
    while time.time() < end:
        r = ua.recv(end - time.time())
        if r and f"Call-ID: {tok}@py" in r and status(r) >= 200:
            return status(r)
    return 0


REPORT = ("From: <sip:bob@simpled.test>\r\nTo: <sip:alice@simpled.test>\r\n"
          "NS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: r7\r\n"
          "DateTime: 2026-11-30T10:00:00Z\r\n\r\n"
          "Content-Type: message/imdn+xml\r\n"
          "Content-Disposition: notification\r\n\r\n"
          "<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\"><message-id>s1"
          "</message-id><delivery-notification><status><delivered/>"
          "</status></delivery-notification></imdn>")


def peer(port):
    """bob and alice's second device B (with an instance) beside a real
    client (baresip, no instance) that is alice's first: what baresip
    sends bob reaches B marked as a sent copy; what bob sends alice
    reaches both."""
    bob = Device(port, "bob", "")
    check(status(bob.register("bob", alg="SHA-256")) == 200,
          "bob registers")
    b = Device(port, "alice", "bbbbbbbb-0000-1000-8000-0000000000b2")
    check(status(b.reg()) == 200, "alice's device B registers")
    print("registered", flush=True)
    got = None
    end = time.time() + 30
    while time.time() < end and not got:
        r = bob.take(end - time.time())
        if r and "hello from baresip" in r:
            got = r
    check(got, "no MESSAGE from baresip")
    r = b.take(5)
    check(r and "Sent-Copy: yes" in r and "hello from baresip" in r,
          f"B did not get the copy of what baresip sent: {r!r:.120}")
    tok = send(bob, "alice", "hello from bob")
    r = b.take(5)
    check(r and body(r) == "hello from bob", "B did not get bob's MESSAGE")
    check(final(bob, tok, 10) == 200, "bob's MESSAGE to alice not 200")


def main():
    if sys.argv[1] == "peer":
        peer(int(sys.argv[2]))
        return
    binary, work = sys.argv[1], sys.argv[2]
    port = UA(0).port
    conf = os.path.join(work, "devices.conf")
    with open(conf, "w") as f:
        f.write(f"config simpled 'main'\n\tlist domain '{DOMAIN}'\n"
                f"\tlist listen 'udp:127.0.0.1:{port}'\n"
                f"\toption state_dir '{work}/dev-state'\n"
                "\toption open_registration '0'\n"
                "\toption resolve_contacts '0'\n"
                "config user\n\toption name alice\n\toption password wonder\n"
                "config user\n\toption name bob\n\toption password hunter2\n")
    log = open(os.path.join(work, "devices.log"), "a")

    def start():
        p = subprocess.Popen([binary, "-f", "-c", conf],
                             stdout=subprocess.DEVNULL, stderr=log)
        # A failed check exits: the daemon goes with it.
        atexit.register(lambda: p.poll() is None and p.kill())
        ua = UA(port)
        for _ in range(100):
            if status(ua.transact("OPTIONS", f"sip:{DOMAIN}",
                                  DOMAIN, DOMAIN)) == 200:
                return p
            time.sleep(0.05)
        check(False, "daemon did not come up")

    p = start()
    bob = Device(port, "bob", "")
    check(status(bob.register("bob")) == 200, "bob registers")
    a = Device(port, "alice", "aaaaaaaa-0000-1000-8000-000000000001")
    b = Device(port, "alice", "bbbbbbbb-0000-1000-8000-000000000002")
    check(status(a.reg()) == 200 and status(b.reg()) == 200,
          "alice's devices register")

    # Delivered to both; 200 to bob.
    tok = send(bob, "alice", "m1 to both")
    ra, rb = a.take(), b.take()
    check(ra and rb and body(ra) == body(rb) == "m1 to both",
          f"both devices get m1: {ra!r:.60} {rb!r:.60}")
    check(final(bob, tok) == 200, "bob gets 200 for m1")

    # B off: A has it now, B once when it registers.
    check(status(b.reg(0)) == 200, "b unregisters")
    tok = send(bob, "alice", "m2 while b is off")
    check(body(a.take()) == "m2 while b is off", "a gets m2")
    check(final(bob, tok) == 200, "bob gets 200 for m2")
    check(b.quiet(), "b gets nothing while off")
    check(status(b.reg()) == 200, "b registers again")
    r = b.take()
    check(body(r) == "m2 while b is off" and "Date:" in r,
          f"b gets m2 from the store: {r!r:.80}")
    check(b.quiet(), "b gets m2 once")

    # What alice sends from A reaches bob and, marked, B.
    tok = send(a, "bob", "s1 from a", user="alice")
    check(body(bob.take()) == "s1 from a", "bob gets s1")
    r = b.take()
    check(r and "Sent-Copy: yes" in r and body(r) == "s1 from a" and
          re.search(r"^To: <sip:bob@", r, re.M),
          f"b gets the sent copy: {r!r:.120}")
    check(final(a, tok) == 200, "alice gets 200 for s1")
    check(a.quiet(), "a gets no copy of its own message")

    # bob's delivery report reaches alice while both devices are off.
    check(status(a.reg(0)) == 200 and status(b.reg(0)) == 200,
          "alice's devices unregister")
    tok = send(bob, "alice", REPORT, ctype="message/cpim")
    check(final(bob, tok) == 202, "the report is kept: 202")
    check(status(a.reg()) == 200, "a registers")
    r = a.take()
    check(body(r) == REPORT and "Content-Type: message/cpim" in r,
          f"a gets the report byte for byte: {r!r:.80}")

    # kill -9 right after a 202: B, remembered, gets it after the restart.
    tok = send(bob, "alice", "m3 across kill -9")
    check(body(a.take()) == "m3 across kill -9", "a gets m3")
    check(final(bob, tok) == 200, "bob gets 200 for m3")
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    p = start()
    check(status(b.reg()) == 200, "b registers after the restart")
    got = [body(b.take()) for _ in range(2)]
    check(got == [REPORT, "m3 across kill -9"],
          f"b gets what came while it was off, in order: {got!r:.200}")
    check(b.quiet(), "nothing twice after the restart")

    # A new device asks the history service for everything.
    c = Device(port, "alice", "cccccccc-0000-1000-8000-000000000003")
    check(status(c.reg()) == 200, "c registers")
    r = c.authed("MESSAGE", f"sip:history@{DOMAIN}", f"alice@{DOMAIN}",
                 f"history@{DOMAIN}", body="since 0")
    check(status(r) == 200 and "5 messages follow" in r,
          f"history answered: {r!r:.80}")
    got = [c.take() for _ in range(5)]
    want = ["m1 to both", "m2 while b is off", "s1 from a", REPORT,
            "m3 across kill -9"]
    check([body(x) for x in got] == want,
          f"history in order: {[body(x)[:20] for x in got]}")
    check("Sent-Copy: yes" in got[2], "the sent one is marked")
    check(c.quiet(), "history sent once")
    p.send_signal(signal.SIGTERM)
    check(p.wait(timeout=10) == 0, "daemon exits 0")
    print("devices.py: ok")


if __name__ == "__main__":
    main()
