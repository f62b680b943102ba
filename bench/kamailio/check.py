#!/usr/bin/env python3
"""Checks that a running Kamailio with bench/kamailio/full.cfg does each
benchmark scenario (not a benchmark; a handful of requests).

Usage: bench/kamailio/check.py PORT [DBFILE]
PORT: its UDP port on 127.0.0.1. DBFILE: its SQLite file; by default read
from the DBURL define on the command line of the kamailio listening there.
Exits 0 when every check passes. Names carry a random suffix, so it can be
run again against the same server."""
import os
import random
import re
import select
import socket
import sqlite3
import sys
import time

DOMAIN = "bench.test"
ROOMS = "conference." + DOMAIN
PIDF = ('<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf"'
        ' entity="sip:{u}@' + DOMAIN + '"><tuple id="t1"><status><basic>{b}'
        '</basic></status></tuple></presence>')

port = int(sys.argv[1])
srv = ("127.0.0.1", port)
tag = "%06x" % random.randrange(1 << 24)
failures = []
uas = []


def find_db():
    if len(sys.argv) > 2:
        return sys.argv[2]
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            args = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in args]
        if not args or "kamailio" not in os.path.basename(args[0]):
            continue
        if not any(a.endswith(f"127.0.0.1:{port}") for a in args):
            continue
        for a in args:
            m = re.match(r'DBURL="?sqlite://(/[^"]+)"?$', a)
            if m:
                return m.group(1)
    sys.exit(f"no kamailio with a DBURL listening on 127.0.0.1:{port}; "
             "give DBFILE")


DB = find_db()


def db(query, *args):
    c = sqlite3.connect(DB, timeout=5)
    try:
        return c.execute(query, args).fetchall()
    finally:
        c.close()


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)
    return ok


def hdr(msg, name):
    m = re.search(r"^" + name + r":\s*(.*?)\r$", msg, re.M | re.I)
    return m.group(1) if m else None


def body(msg):
    return msg.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in msg else ""


class UA:
    """One user agent: a UDP socket of its own; requests that come to it
    are answered 200 and kept in inbox; responses are kept in responses."""

    def __init__(self, user):
        self.user = user
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.port = self.s.getsockname()[1]
        self.inbox = []
        self.responses = []
        self.seq = 0
        self.code = "200 OK"  # what requests that come to it are answered
        uas.append(self)

    def uri(self):
        return f"sip:{self.user}@{DOMAIN}"

    def send(self, method, ruri, to=None, extra="", body="", ctype=None,
             callid=None, cseq=None, ftag=None, totag=None):
        self.seq += 1
        callid = callid or f"c{self.seq}.{self.port}.{tag}@check"
        ct = f"Content-Type: {ctype}\r\n" if ctype else ""
        tt = f";tag={totag}" if totag else ""
        msg = (f"{method} {ruri} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};"
               f"branch=z9hG4bK{self.seq}x{self.port}x{tag};rport\r\n"
               f"Max-Forwards: 70\r\n"
               f"From: <{self.uri()}>;tag={ftag or 'f%d' % self.seq}\r\n"
               f"To: <{to or ruri}>{tt}\r\n"
               f"Call-ID: {callid}\r\n"
               f"CSeq: {cseq or self.seq} {method}\r\n"
               f"Contact: <sip:{self.user}@127.0.0.1:{self.port}>\r\n"
               f"{extra}{ct}Content-Length: {len(body.encode())}\r\n\r\n"
               f"{body}")
        self.s.sendto(msg.encode(), srv)
        return callid

    def final(self, callid, method, timeout=5):
        """The final response to our request CALLID (METHOD)."""
        def got():
            for r in self.responses:
                code = int(r.split(" ", 2)[1])
                if code >= 200 and hdr(r, "Call-ID") == callid and \
                        hdr(r, "CSeq").split()[1] == method:
                    return r
            return None
        wait(got, timeout)
        r = got()
        if r:
            self.responses.remove(r)
        return r

    def register(self, expires=600):
        cid = self.send("REGISTER", f"sip:{DOMAIN}", to=self.uri(),
                        extra=f"Expires: {expires}\r\n")
        r = self.final(cid, "REGISTER")
        return r is not None and r.startswith("SIP/2.0 200")

    def take(self, pred):
        for m in self.inbox:
            if pred(m):
                self.inbox.remove(m)
                return m
        return None


def answer(ua, m, addr):
    lines = [l for l in m.split("\r\n")
             if re.match(r"(Via|v|From|f|Call-ID|i|CSeq):", l, re.I)]
    to = next(l for l in m.split("\r\n") if re.match(r"(To|t):", l, re.I))
    if ";tag=" not in to:
        to += f";tag=a{ua.port}"
    ua.s.sendto((f"SIP/2.0 {ua.code}\r\n" + "\r\n".join(lines) + "\r\n" + to +
                 "\r\nContent-Length: 0\r\n\r\n").encode(), addr)


def pump(timeout):
    r, _, _ = select.select([u.s for u in uas], [], [], timeout)
    for s in r:
        ua = next(u for u in uas if u.s is s)
        m, addr = s.recvfrom(65535)
        m = m.decode(errors="replace")
        if m.startswith("SIP/2.0 "):
            ua.responses.append(m)
        else:
            answer(ua, m, addr)
            # a retransmission we already hold is not kept twice
            key = (hdr(m, "Call-ID"), hdr(m, "CSeq"))
            if all((hdr(x, "Call-ID"), hdr(x, "CSeq")) != key
                   for x in ua.inbox):
                ua.inbox.append(m)


def wait(cond, timeout):
    end = time.time() + timeout
    while not cond() and time.time() < end:
        pump(min(0.1, max(0, end - time.time())))
    return cond()


def settle(t=0.3):
    end = time.time() + t
    while time.time() < end:
        pump(0.05)


# 1-2: register and relay
def relay():
    alice, bob = UA("alice" + tag), UA("bob" + tag)
    check(alice.register(), "REGISTER alice -> 200")
    cid = bob.send("MESSAGE", alice.uri(), body="hello alice",
                   ctype="text/plain")
    r = bob.final(cid, "MESSAGE")
    got = alice.take(lambda m: m.startswith("MESSAGE") and
                     body(m) == "hello alice")
    check(got is not None, "MESSAGE relayed to alice's contact")
    check(r is not None and r.startswith("SIP/2.0 200"),
          "MESSAGE to a registered user -> 200 end to end (%s)" %
          (r.split("\r\n")[0] if r else "no answer"))


# 3: offline store and delivery
def offline():
    carol, bob = UA("carol" + tag), UA("bobo" + tag)
    cid = bob.send("MESSAGE", carol.uri(), body="stored for carol",
                   ctype="text/plain")
    r = bob.final(cid, "MESSAGE")
    check(r is not None and r.startswith("SIP/2.0 202"),
          "MESSAGE to an unregistered user -> 202 (%s)" %
          (r.split("\r\n")[0] if r else "no answer"))
    rows = db("select body from silo where username=? and domain=?",
              carol.user, DOMAIN)
    check(len(rows) == 1 and bytes(rows[0][0]) == b"stored for carol",
          f"the message is in the silo table ({len(rows)} rows)")
    check(carol.register(), "REGISTER carol -> 200")
    wait(lambda: any(m.startswith("MESSAGE") for m in carol.inbox), 5)
    got = carol.take(lambda m: m.startswith("MESSAGE"))
    check(got is not None and body(got) == "stored for carol" and
          bob.uri() in hdr(got, "From"),
          "stored message delivered to carol's new contact, From bob")
    wait(lambda: not db("select id from silo where username=?", carol.user),
         5)
    check(not db("select id from silo where username=?", carol.user),
          "delivered message deleted from the silo table after its 200")

    # a registered user whose contact answers 480: stored too
    dave = UA("dave" + tag)
    dave.code = "480 Temporarily Unavailable"
    check(dave.register(), "REGISTER dave (a contact that answers 480) -> 200")
    cid = bob.send("MESSAGE", dave.uri(), body="for dave", ctype="text/plain")
    r = bob.final(cid, "MESSAGE")
    check(r is not None and r.startswith("SIP/2.0 202") and
          len(db("select id from silo where username=?", dave.user)) == 1,
          "MESSAGE whose contact answers 480 -> stored, 202 (%s)" %
          (r.split("\r\n")[0] if r else "no answer"))
    # a delivery that fails (480) leaves the stored message as it is (one)
    check(dave.register(), "REGISTER dave (still 480) -> 200")
    wait(lambda: dave.take(lambda m: m.startswith("MESSAGE")), 5)
    settle(1.5)
    check(len(db("select id from silo where username=?", dave.user)) == 1,
          "a failed delivery keeps the stored message, not stored twice")
    dave.code = "200 OK"
    dave.inbox.clear()
    check(dave.register(), "REGISTER dave again -> 200")
    wait(lambda: dave.take(lambda m: m.startswith("MESSAGE") and
                           body(m) == "for dave"), 5)
    wait(lambda: not db("select id from silo where username=?", dave.user),
         5)
    check(not db("select id from silo where username=?", dave.user),
          "delivered at the next REGISTER, then deleted")


# 4: presence
def presence():
    pres, watcher = UA("pres" + tag), UA("watch" + tag)
    cid = pres.send("PUBLISH", pres.uri(),
                    extra="Event: presence\r\nExpires: 600\r\n",
                    body=PIDF.format(u=pres.user, b="open"),
                    ctype="application/pidf+xml")
    r = pres.final(cid, "PUBLISH")
    etag = r and hdr(r, "SIP-ETag")
    check(r is not None and r.startswith("SIP/2.0 200") and etag,
          "PUBLISH -> 200 with SIP-ETag (%s)" %
          (r.split("\r\n")[0] if r else "no answer"))
    rows = db("select etag, body from presentity where username=? and "
              "domain=? and event='presence'", pres.user, DOMAIN)
    check(len(rows) == 1 and rows[0][0] == etag and
          b"<basic>open</basic>" in bytes(rows[0][1]),
          f"the document is in the presentity table ({len(rows)} rows)")

    ftag = "w" + tag
    cid = watcher.send("SUBSCRIBE", pres.uri(), ftag=ftag, cseq=1,
                       extra="Event: presence\r\nExpires: 600\r\n"
                             "Accept: application/pidf+xml\r\n")
    sub_cid = cid
    r = watcher.final(cid, "SUBSCRIBE")
    check(r is not None and r.startswith("SIP/2.0 200"),
          "SUBSCRIBE -> 200 (%s)" % (r.split("\r\n")[0] if r else
                                     "no answer"))
    totag = r and re.search(r";tag=([^;>\s]+)", hdr(r, "To")).group(1)
    wait(lambda: any(m.startswith("NOTIFY") for m in watcher.inbox), 5)
    n = watcher.take(lambda m: m.startswith("NOTIFY"))
    check(n is not None and
          (hdr(n, "Subscription-State") or "").startswith("active") and
          "<basic>open</basic>" in body(n) and
          hdr(n, "Content-Type") == "application/pidf+xml",
          "NOTIFY active with the published PIDF (%s)" %
          (hdr(n, "Subscription-State") if n else "none"))

    # a change of the document reaches the watcher
    cid = pres.send("PUBLISH", pres.uri(),
                    extra=f"Event: presence\r\nExpires: 600\r\n"
                          f"SIP-If-Match: {etag}\r\n",
                    body=PIDF.format(u=pres.user, b="closed"),
                    ctype="application/pidf+xml")
    r = pres.final(cid, "PUBLISH")
    check(r is not None and r.startswith("SIP/2.0 200"),
          "PUBLISH modify (SIP-If-Match) -> 200")
    wait(lambda: any(m.startswith("NOTIFY") for m in watcher.inbox), 5)
    n = watcher.take(lambda m: m.startswith("NOTIFY"))
    check(n is not None and "<basic>closed</basic>" in body(n),
          "NOTIFY with the modified document")

    if totag:
        cid = watcher.send("SUBSCRIBE", pres.uri(), callid=sub_cid,
                           ftag=ftag, totag=totag, cseq=2,
                           extra="Event: presence\r\nExpires: 0\r\n"
                                 "Accept: application/pidf+xml\r\n")
        r = watcher.final(cid, "SUBSCRIBE")
        check(r is not None and r.startswith("SIP/2.0 200"),
              "un-SUBSCRIBE (Expires 0) -> 200 (%s)" %
              (r.split("\r\n")[0] if r else "no answer"))
        wait(lambda: any(m.startswith("NOTIFY") for m in watcher.inbox), 5)
        n = watcher.take(lambda m: m.startswith("NOTIFY"))
        check(n is not None and (hdr(n, "Subscription-State") or "")
              .startswith("terminated"),
              "NOTIFY terminated (%s)" %
              (hdr(n, "Subscription-State") if n else "none"))


# 5: chat rooms
def rooms(members=10):
    owner = UA("owner" + tag)
    room = "room" + tag
    room_uri = f"sip:{room}@{ROOMS}"
    check(owner.register(), "REGISTER owner -> 200")
    cid = owner.send("MESSAGE", f"sip:chat@{DOMAIN}", body=f"#create {room}",
                     ctype="text/plain")
    r = owner.final(cid, "MESSAGE")
    check(r is not None and r.startswith("SIP/2.0 200"),
          "#create to sip:chat@%s -> 200" % DOMAIN)
    wait(lambda: owner.inbox, 3)
    m = owner.take(lambda m: m.startswith("MESSAGE"))
    check(m is not None and room_uri in hdr(m, "From") and
          "created" in body(m),
          "owner told the room was created, From %s" % room_uri)
    ms = [UA(f"m{i}x{tag}") for i in range(members)]
    ok = all(u.register() for u in ms)
    check(ok, f"REGISTER {members} members -> 200")
    codes = []
    for u in ms:
        cid = owner.send("MESSAGE", room_uri, body=f"#add {u.uri()}",
                         ctype="text/plain")
        r = owner.final(cid, "MESSAGE")
        codes.append(r.split(" ", 2)[1] if r else "none")
    check(codes == ["200"] * members, f"#add sip:user@{DOMAIN} x{members} "
          f"-> 200 ({' '.join(codes)})")
    settle(1)  # the joins are announced to the room
    for u in ms + [owner]:
        u.inbox.clear()
    cid = owner.send("MESSAGE", room_uri, body="hello room",
                     ctype="text/plain")
    r = owner.final(cid, "MESSAGE")
    check(r is not None and r.startswith("SIP/2.0 200"),
          "MESSAGE to the room -> 200")
    wait(lambda: all(u.inbox for u in ms), 5)
    got = [u for u in ms if u.take(
        lambda m: m.startswith("MESSAGE") and "hello room" in body(m) and
        room_uri in hdr(m, "From"))]
    check(len(got) == members,
          f"room message fanned out to {len(got)}/{members} members")
    settle(0.5)
    check(not any("hello room" in body(m) for m in owner.inbox),
          "not sent back to its sender")

    # #invite: the member gets nothing from the room until it accepts
    guest = UA("guest" + tag)
    check(guest.register(), "REGISTER guest -> 200")
    cid = owner.send("MESSAGE", room_uri, body=f"#invite {guest.uri()}",
                     ctype="text/plain")
    r = owner.final(cid, "MESSAGE")
    wait(lambda: guest.inbox, 3)
    inv = guest.take(lambda m: m.startswith("MESSAGE"))
    check(r is not None and r.startswith("SIP/2.0 200") and inv is not None
          and "accept" in body(inv),
          "#invite -> 200, the guest gets the invitation")
    cid = owner.send("MESSAGE", room_uri, body="before accept",
                     ctype="text/plain")
    owner.final(cid, "MESSAGE")
    settle(1)
    check(not guest.take(lambda m: "before accept" in body(m)),
          "an invited member gets no room messages before #accept")
    cid = guest.send("MESSAGE", room_uri, body="#accept", ctype="text/plain")
    r = guest.final(cid, "MESSAGE")
    check(r is not None and r.startswith("SIP/2.0 200"), "#accept -> 200")
    settle(0.5)
    guest.inbox.clear()
    cid = owner.send("MESSAGE", room_uri, body="after accept",
                     ctype="text/plain")
    owner.final(cid, "MESSAGE")
    wait(lambda: guest.inbox, 3)
    check(guest.take(lambda m: "after accept" in body(m)) is not None,
          "after #accept it gets them")

    # somebody not in the room may not post to it
    cid = UA("stranger" + tag).send("MESSAGE", room_uri, body="let me in",
                                    ctype="text/plain")
    r = uas[-1].final(cid, "MESSAGE")
    check(r is not None and r.startswith("SIP/2.0 500"),
          "a non-member's message to the room -> 500 (%s)" %
          (r.split("\r\n")[0] if r else "no answer"))


relay()
offline()
presence()
rooms()
print(f"{len(failures)} failed" if failures else "all checks passed")
sys.exit(1 if failures else 0)
