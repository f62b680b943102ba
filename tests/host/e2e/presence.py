#!/usr/bin/env python3
"""Presence checks against the real daemon that sipp scenarios cannot
express well. Loopback only. Usage:
  presence.py rules PORT            winfo full/partial, pending then allowed,
                                    message-summary, expiry
  presence.py before PORT STATEFILE  publish + subscribe, remember them
  presence.py after PORT STATEFILE   after a restart: both still there
"""
import json
import re
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from offline import UA, DOMAIN, check, status, body, next_request  # noqa

PIDF = ('<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf"'
        ' entity="sip:{u}@' + DOMAIN + '"><tuple id="{t}"><status><basic>{b}'
        '</basic></status></tuple></presence>')


def publish(ua, user, body=None, etag=None, expires=600):
    extra = f"Event: presence\r\nExpires: {expires}\r\n"
    if etag:
        extra += f"SIP-If-Match: {etag}\r\n"
    if body:
        extra += "Content-Type: application/pidf+xml\r\n"
    tok = ua.request("PUBLISH", f"sip:{user}@{DOMAIN}", f"{user}@{DOMAIN}",
                     extra, body or "", user=user)
    return wait_response(ua, tok)


def wait_response(ua, tok, timeout=3):
    end = time.time() + timeout
    while time.time() < end:
        r = ua.recv(end - time.time())
        if r is None:
            break
        if r.startswith("SIP/2.0") and f"Call-ID: {tok}@py" in r:
            return r
        if r.startswith("NOTIFY"):
            ua.pending.append(r)
            ua.answer(r, 200)
    return None


def hdr(msg, name):
    m = re.search(rf"^{name}:\s*(.*?)\r$", msg or "", re.M | re.I)
    return m.group(1) if m else None


class Watcher(UA):
    def __init__(self, port, user, domain=DOMAIN):
        super().__init__(port)
        self.user, self.domain = user, domain
        self.pending = []
        self.callid = f"w-{user}-{self.port}@py"
        self.cseq = 0
        self.totag = None

    def subscribe(self, target, event="presence", expires=600):
        self.cseq += 1
        tag = f";tag={self.totag}" if self.totag else ""
        self.send(f"SUBSCRIBE sip:{target}@{DOMAIN} SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{self.callid[:8]}{self.cseq}x{time.time_ns()};rport\r\n"
                  f"Max-Forwards: 70\r\n"
                  f"From: <sip:{self.user}@{self.domain}>;tag=wt{self.port}\r\n"
                  f"To: <sip:{target}@{DOMAIN}>{tag}\r\n"
                  f"Call-ID: {self.callid}\r\nCSeq: {self.cseq} SUBSCRIBE\r\n"
                  f"Event: {event}\r\nExpires: {expires}\r\n"
                  f"Contact: <sip:{self.user}@127.0.0.1:{self.port}>\r\n"
                  f"Content-Length: 0\r\n\r\n")
        end = time.time() + 3
        while time.time() < end:
            r = self.recv(end - time.time())
            if r and r.startswith("SIP/2.0") and self.callid in r:
                m = re.search(r"^To:.*;tag=([^;\r]+)", r, re.M)
                if m:
                    self.totag = m.group(1)
                return r
            if r and r.startswith("NOTIFY"):
                self.pending.append(r)
                self.answer(r, 200)
        return None

    def notify(self, timeout=3):
        if self.pending:
            return self.pending.pop(0)
        m = next_request(self, timeout)
        if m and m.startswith("NOTIFY"):
            self.answer(m, 200)
            return m
        return None


def rules(port):
    alice = Watcher(port, "alice")
    alice.pending = []
    # winfo: full first.
    r = alice.subscribe("alice", "presence.winfo")
    check(status(r) == 200, f"winfo subscribe: {r!r}")
    n = alice.notify()
    check(n and 'state="full"' in n, f"winfo full: {n!r}")
    # A watcher from another domain is pending (same_domain policy).
    bob = Watcher(port, "bob", "other.test")
    r = bob.subscribe("alice")
    check(status(r) == 200, f"bob subscribe: {r!r}")
    n = bob.notify()
    check(n and hdr(n, "Subscription-State").startswith("pending"),
          f"bob pending: {n!r}")
    check(not hdr(n, "Content-Type"), "pending NOTIFY has a body")
    n = alice.notify()
    check(n and 'state="partial"' in n and 'status="pending"' in n,
          f"winfo partial: {n!r}")
    # alice allows bob by a MESSAGE to presence@.
    ua = UA(port)
    ua.pending = []
    tok = ua.request("MESSAGE", f"sip:presence@{DOMAIN}",
                     f"presence@{DOMAIN}", body="allow bob@other.test",
                     user="alice")
    r = wait_response(ua, tok)
    check(status(r) == 200 and "bob@other.test: allow" in body(r),
          f"allow command: {r!r}")
    n = bob.notify()
    check(n and hdr(n, "Subscription-State").startswith("active") and
          "<presence" in body(n), f"bob active: {n!r}")
    n = alice.notify()
    check(n and 'status="active"' in n, f"winfo active: {n!r}")
    # message-summary counts what waits in the offline store.
    r = alice.subscribe("alice", "message-summary") if False else None
    ms = Watcher(port, "alice")
    r = ms.subscribe("alice", "message-summary")
    check(status(r) == 200, f"msgsum subscribe: {r!r}")
    n = ms.notify()
    check(n and "Messages-Waiting: no" in body(n), f"msgsum no: {n!r}")
    ua.transact("MESSAGE", f"sip:alice@{DOMAIN}", f"alice@{DOMAIN}",
                body="while you were out")
    n = ms.notify()
    check(n and "Messages-Waiting: yes" in body(n) and
          "Text-Message: 1/0" in body(n), f"msgsum yes: {n!r}")
    # Expiry: a 2 s subscription ends with reason=timeout.
    carol = Watcher(port, "carol")
    r = carol.subscribe("alice", expires=2)
    check(status(r) == 200, "carol subscribe")
    carol.notify()
    n = carol.notify(timeout=4)
    check(n and hdr(n, "Subscription-State") == "terminated;reason=timeout",
          f"expiry: {n!r}")


def before(port, statefile):
    alice = UA(port)
    alice.pending = []
    r = publish(alice, "alice", PIDF.format(u="alice", t="dev", b="open"))
    check(status(r) == 200, f"publish: {r!r}")
    w = Watcher(port, "dave")
    check(status(w.subscribe("alice", expires=3600)) == 200, "subscribe")
    n = w.notify()
    check(n and "<basic>open</basic>" in n, f"first NOTIFY: {n!r}")
    json.dump({"etag": hdr(r, "SIP-ETag"), "wport": w.port,
               "totag": w.totag, "callid": w.callid, "cseq": w.cseq},
              open(statefile, "w"))


def after(port, statefile):
    st = json.load(open(statefile))
    w = Watcher.__new__(Watcher)
    UA.__init__(w, 0)
    w.s.close()
    import socket
    w.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    w.s.bind(("127.0.0.1", st["wport"]))
    w.port, w.srv = st["wport"], ("127.0.0.1", port)
    w.user, w.domain, w.pending = "dave", DOMAIN, []
    w.callid, w.cseq, w.totag = st["callid"], st["cseq"], st["totag"]
    alice = UA(port)
    alice.pending = []
    # The document survived, and its ETag still refreshes.
    r = publish(alice, "alice", etag=st["etag"])
    check(status(r) == 200, f"refresh after restart: {r!r}")
    r = publish(alice, "alice", PIDF.format(u="alice", t="dev", b="closed"),
                etag=hdr(r, "SIP-ETag"))
    check(status(r) == 200, f"modify after restart: {r!r}")
    # The subscription survived (write-back): the change is NOTIFYed.
    n = w.notify()
    check(n and "<basic>closed</basic>" in n, f"NOTIFY after restart: {n!r}")
    r = w.subscribe("alice", expires=0)
    check(status(r) == 200, f"unsubscribe restored dialog: {r!r}")


if __name__ == "__main__":
    {"rules": lambda: rules(int(sys.argv[2])),
     "before": lambda: before(int(sys.argv[2]), sys.argv[3]),
     "after": lambda: after(int(sys.argv[2]), sys.argv[3])}[sys.argv[1]]()
