#!/usr/bin/env python3
"""Digest authentication against the real daemon, loopback only: a client
of its own (MD5 and SHA-256 from Python's hashlib, independent of the
daemon's code), and the attacks of an unauthenticated LAN, each refused.
The daemon runs with the accounts run.sh writes (alice/wonder,
bob/hunter2, eve/evil) and max_failures 3. Usage:
  auth.py clients PORT    both algorithms, wrong password, unknown user,
                          replayed and stale nonces, identity mismatch,
                          a refused source
  auth.py attacks PORT    what anyone on the LAN could do before
  auth.py order PORT      SHA-256 offered first (list algorithms)
  auth.py peer PORT       bob beside baresip as alice (run.sh's baresip)
"""
import hashlib
import os
import re
import select
import socket
import sys
import time

DOMAIN = "simpled.test"
PASSWORDS = {"alice": "wonder", "bob": "hunter2", "eve": "evil"}
seq = 0


def check(cond, what):
    if not cond:
        print(f"auth.py: {what}", file=sys.stderr)
        sys.exit(1)


def status(r):
    return int(r.split(" ", 2)[1]) if r and r.startswith("SIP/2.0") else 0


def reason(r):
    return r.split("\r\n", 1)[0].split(" ", 2)[2] if status(r) else ""


def headers(r, name):
    out = []
    for line in r.split("\r\n\r\n", 1)[0].split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            out.append(v.strip())
    return out


def param(chal, name):
    m = re.search(name + r'=(?:"([^"]*)"|([^,\s]+))', chal)
    return (m.group(1) if m.group(1) is not None else m.group(2)) if m else ""


def H(alg, s):
    return hashlib.new("sha256" if alg == "SHA-256" else "md5",
                       s.encode()).hexdigest()


def ok_for(req, tag):
    """A 200 OK for the request req: its Via, From, To (with tag added
    when it has none), Call-ID and CSeq."""
    hdrs = [line + (f";tag={tag}" if line.lower().startswith("to:") and
                    "tag=" not in line else "")
            for line in req.split("\r\n\r\n")[0].split("\r\n")[1:]
            if line.split(":")[0].strip().lower() in
            ("via", "from", "to", "call-id", "cseq")]
    return ("SIP/2.0 200 OK\r\n" + "\r\n".join(hdrs) +
            "\r\nContent-Length: 0\r\n\r\n")


def credentials(resp, user, password, method, uri, alg=None, nc=1,
                nonce=None):
    """The (Proxy-)Authorization line answering the challenge of resp for
    alg (the first offered when None)."""
    proxy = status(resp) == 407
    chals = headers(resp, "Proxy-Authenticate" if proxy else
                    "WWW-Authenticate")
    check(chals, f"no challenge in {resp[:60]!r}")
    chal = chals[0]
    for c in chals:
        if alg and param(c, "algorithm").upper() == alg:
            chal = c
    alg = param(chal, "algorithm").upper() or "MD5"
    realm = param(chal, "realm")
    nonce = nonce or param(chal, "nonce")
    cnonce = os.urandom(8).hex()
    ncs = f"{nc:08x}"
    ha1 = H(alg, f"{user}:{realm}:{password}")
    ha2 = H(alg, f"{method}:{uri}")
    rsp = H(alg, f"{ha1}:{nonce}:{ncs}:{cnonce}:auth:{ha2}")
    name = "Proxy-Authorization" if proxy else "Authorization"
    return (f'{name}: Digest username="{user}", realm="{realm}", '
            f'nonce="{nonce}", uri="{uri}", response="{rsp}", '
            f'algorithm={alg}, cnonce="{cnonce}", qop=auth, nc={ncs}\r\n')


class UA:
    """A UDP SIP user agent on a loopback address of its own (failed
    attempts are counted per source address)."""
    hosts = 1

    def __init__(self, port):
        UA.hosts += 1
        self.ip = f"127.0.0.{UA.hosts}"
        self.srv = ("127.0.0.1", port)
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((self.ip, 0))
        self.port = self.s.getsockname()[1]

    def recv(self, timeout):
        r, _, _ = select.select([self.s], [], [], timeout)
        if not r:
            return None
        return self.s.recv(65535).decode(errors="replace")

    def transact(self, method, ruri, frm, to, extra="", body=""):
        """Send one request; its final response (or None)."""
        global seq
        seq += 1
        tok = f"{os.getpid()}x{seq}"
        ctype = ("Content-Type: text/plain\r\n"
                 if body and "Content-Type" not in extra else "")
        self.s.sendto((
            f"{method} {ruri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {self.ip}:{self.port};branch=z9hG4bK{tok};"
            f"rport\r\nMax-Forwards: 70\r\n"
            f"From: <sip:{frm}>;tag={tok}\r\nTo: <sip:{to}>\r\n"
            f"Call-ID: {tok}@py\r\nCSeq: 1 {method}\r\n{extra}{ctype}"
            f"Content-Length: {len(body.encode())}\r\n\r\n{body}").encode(),
            self.srv)
        end = time.time() + 3
        while time.time() < end:
            r = self.recv(end - time.time())
            if r and f"Call-ID: {tok}@py" in r and status(r) >= 200:
                return r
        return None

    def authed(self, method, ruri, frm, to, extra="", body="", user=None,
               password=None, alg=None):
        """The request, then again with credentials of user (the From's,
        or To's for REGISTER, by default) when challenged."""
        who = (to if method == "REGISTER" else frm).split("@")[0]
        user = user or who
        password = password or PASSWORDS.get(user, "x")
        r = self.transact(method, ruri, frm, to, extra, body)
        if status(r) in (401, 407):
            r = self.transact(method, ruri, frm, to,
                              extra + credentials(r, user, password, method,
                                                  ruri, alg), body)
        return r

    def register(self, aor, **kw):
        """REGISTER for aor's user (credentials: kw user, else aor's)."""
        return self.authed("REGISTER", f"sip:{DOMAIN}", f"{aor}@{DOMAIN}",
                           f"{aor}@{DOMAIN}",
                           f"Contact: <sip:{aor}@{self.ip}:{self.port}>\r\n"
                           "Expires: 600\r\n", **kw)


def expect(r, code, text, what):
    check(status(r) == code, f"{what}: got {status(r)} {reason(r)!r}, "
          f"want {code}")
    check(text in r, f"{what}: {text!r} not in {r[:200]!r}")


def clients(port):
    a = UA(port)
    r = a.transact("REGISTER", f"sip:{DOMAIN}", f"alice@{DOMAIN}",
                   f"alice@{DOMAIN}", "Expires: 600\r\n")
    expect(r, 401, 'realm="simpled.test"', "unauthenticated REGISTER")
    chals = headers(r, "WWW-Authenticate")
    check(len(chals) == 2 and "algorithm=MD5" in chals[0] and
          "algorithm=SHA-256" in chals[1], f"challenges {chals}")
    for alg in ("MD5", "SHA-256"):
        expect(a.register("alice", alg=alg), 200, "Contact:",
               f"REGISTER with {alg}")
    expect(UA(port).register("alice", password="nope"), 403,
           "Wrong user name or password", "wrong password")
    expect(UA(port).register("mallory", password="x"), 403,
           "Wrong user name or password", "unknown user")
    expect(UA(port).register("alice", user="bob"), 403,
           "Authenticated as bob, not alice", "bob's password for alice")
    # The same Authorization twice: the second is a replay.
    r = a.transact("REGISTER", f"sip:{DOMAIN}", f"alice@{DOMAIN}",
                   f"alice@{DOMAIN}", "Expires: 600\r\n")
    cred = credentials(r, "alice", "wonder", "REGISTER", f"sip:{DOMAIN}")
    for want, text in ((200, "Contact:"), (403, "Nonce count replayed")):
        r = a.transact("REGISTER", f"sip:{DOMAIN}", f"alice@{DOMAIN}",
                       f"alice@{DOMAIN}", "Expires: 600\r\n" + cred)
        expect(r, want, text, "replayed Authorization")
    # A nonce past nonce_expires (10 s in this run): stale, not refused.
    r = a.transact("REGISTER", f"sip:{DOMAIN}", f"alice@{DOMAIN}",
                   f"alice@{DOMAIN}", "Expires: 600\r\n")
    cred = credentials(r, "alice", "wonder", "REGISTER", f"sip:{DOMAIN}")
    time.sleep(11)
    r = a.transact("REGISTER", f"sip:{DOMAIN}", f"alice@{DOMAIN}",
                   f"alice@{DOMAIN}", "Expires: 600\r\n" + cred)
    expect(r, 401, "stale=true", "stale nonce")
    # Three failures (this run's max_failures) and the address is
    # refused, good password or not; another address is not.
    eve = UA(port)
    for _ in range(3):
        eve.register("eve", password="guess")
    expect(eve.register("eve"), 403, "Too many failed authentications",
           "refused source")
    expect(UA(port).register("bob"), 200, "Contact:", "another source")


def attacks(port):
    alice, bob, eve = UA(port), UA(port), UA(port)
    expect(alice.register("alice"), 200, "Contact:", "alice registers")
    expect(bob.register("bob"), 200, "Contact:", "bob registers")
    # A contact for someone else's address.
    expect(eve.register("alice", user="eve"), 403,
           "Authenticated as eve, not alice", "eve registers as alice")
    r = eve.transact("REGISTER", f"sip:{DOMAIN}", f"alice@{DOMAIN}",
                     f"alice@{DOMAIN}",
                     f"Contact: <sip:eve@{eve.ip}:{eve.port}>\r\n")
    check(status(r) == 401, "eve's REGISTER for alice not challenged")
    # All of alice's bindings removed.
    expect(eve.authed("REGISTER", f"sip:{DOMAIN}", f"alice@{DOMAIN}",
                      f"alice@{DOMAIN}", "Contact: *\r\nExpires: 0\r\n",
                      user="eve"), 403, "not alice", "eve removes alice's")
    # alice's watcher list and message summary.
    for ev in ("presence.winfo", "message-summary"):
        r = eve.authed("SUBSCRIBE", f"sip:alice@{DOMAIN}", f"eve@{DOMAIN}",
                       f"alice@{DOMAIN}",
                       f"Event: {ev}\r\nExpires: 60\r\n"
                       f"Contact: <sip:eve@{eve.ip}:{eve.port}>\r\n")
        check(status(r) == 403, f"eve reads alice's {ev}: {status(r)}")
        r = eve.authed("SUBSCRIBE", f"sip:alice@{DOMAIN}",
                       f"alice@{DOMAIN}", f"alice@{DOMAIN}",
                       f"Event: {ev}\r\nExpires: 60\r\n"
                       f"Contact: <sip:eve@{eve.ip}:{eve.port}>\r\n",
                       user="eve")
        expect(r, 403, "Authenticated as eve, not alice",
               f"eve as alice reads {ev}")
    # "allow eve" to the presence command user, as alice.
    expect(eve.authed("MESSAGE", f"sip:presence@{DOMAIN}",
                      f"alice@{DOMAIN}", f"presence@{DOMAIN}",
                      body=f"allow eve@{DOMAIN}", user="eve"), 403,
           "not alice", "eve allows herself as alice")
    # alice's chat room: destroyed or taken over as alice.
    rooms = f"conference.{DOMAIN}"
    r = alice.authed("MESSAGE", f"sip:chat@{rooms}", f"alice@{DOMAIN}",
                     f"chat@{rooms}", body="#create secret private")
    check(status(r) == 200, f"alice creates a room: {status(r)}")
    for cmd in ("#destroy", f"#modify eve@{DOMAIN} owner"):
        expect(eve.authed("MESSAGE", f"sip:secret@{rooms}",
                          f"alice@{DOMAIN}", f"secret@{rooms}", body=cmd,
                          user="eve"), 403, "not alice",
               f"eve sends {cmd} as alice")
    # alice's presence published by someone else.
    doc = ('<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:'
           f'pidf" entity="sip:alice@{DOMAIN}"><tuple id="t"><status>'
           '<basic>open</basic></status></tuple></presence>')
    pub = "Event: presence\r\nExpires: 600\r\nContent-Type: application/pidf+xml\r\n"
    r = eve.authed("PUBLISH", f"sip:alice@{DOMAIN}", f"eve@{DOMAIN}",
                   f"alice@{DOMAIN}", pub, doc)
    expect(r, 403, "Only the presentity", "eve publishes alice's state")
    r = eve.transact("PUBLISH", f"sip:alice@{DOMAIN}", "mallory@evil.example",
                     f"alice@{DOMAIN}", pub, doc)
    expect(r, 403, "Only the presentity", "another domain publishes it")
    # Stored messages for made-up users.
    expect(eve.authed("MESSAGE", f"sip:nobody{os.getpid()}@{DOMAIN}",
                      f"eve@{DOMAIN}", f"nobody@{DOMAIN}", body="fill"),
           404, "No such user", "a message for a made-up user")
    # The outbound proxy as an open relay.
    expect(eve.transact("MESSAGE", "sip:x@far.example", "carol@other.example",
                        "x@far.example", body="spam"), 403,
           "needs an account", "relay from another domain")
    r = eve.transact("MESSAGE", "sip:x@far.example", f"eve@{DOMAIN}",
                     "x@far.example", body="spam")
    check(status(r) == 407, f"relay by a local user not challenged: "
          f"{status(r)}")


def order(port):
    a = UA(port)
    r = a.transact("REGISTER", f"sip:{DOMAIN}", f"bob@{DOMAIN}",
                   f"bob@{DOMAIN}", "Expires: 600\r\n")
    chals = headers(r, "WWW-Authenticate")
    check(len(chals) == 2 and "algorithm=SHA-256" in chals[0],
          f"SHA-256 first: {chals}")
    expect(a.register("bob"), 200, "Contact:", "SHA-256 first, taken")
    expect(a.register("bob", alg="MD5"), 200, "Contact:", "MD5 second")


def peer(port):
    """bob, beside a real client (baresip) that is alice: registers, says
    so on stdout, takes alice's MESSAGE, then sends her one."""
    bob = UA(port)
    expect(bob.register("bob", alg="SHA-256"), 200, "Contact:",
           "bob registers")
    print("registered", flush=True)
    end = time.time() + 30
    got = None
    while time.time() < end and not got:
        r = bob.recv(end - time.time())
        if r and r.startswith("MESSAGE ") and "hello from baresip" in r:
            got = r
    check(got, "no MESSAGE from baresip")
    check(re.search(r"^From:.*sip:alice@simpled\.test", got, re.M),
          "the MESSAGE is not from alice")
    bob.s.sendto(ok_for(got, "b").encode(), bob.srv)
    r = bob.authed("MESSAGE", f"sip:alice@{DOMAIN}", f"bob@{DOMAIN}",
                   f"alice@{DOMAIN}", body="hello from bob")
    expect(r, 200, "SIP/2.0 200", "bob's MESSAGE to baresip")


def main():
    cases = {"clients": clients, "attacks": attacks, "order": order,
             "peer": peer}
    if len(sys.argv) != 3 or sys.argv[1] not in cases:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cases[sys.argv[1]](int(sys.argv[2]))


if __name__ == "__main__":
    main()
