#!/usr/bin/env python3
"""SIP over TLS against the real daemon, with Python's ssl module (OpenSSL,
independent of the daemon's mbedTLS). The daemon runs with run.sh's
accounts (alice/wonder, bob/hunter2), a TLS listener with a certificate
made at test time, and the UDP listener. Usage:
  tls.py clients UDPPORT TLSPORT CERT
      alice registers over TLS with her password; bob (UDP) sends her a
      MESSAGE, which reaches her on her own connection; a presence NOTIFY
      reaches her there too; with her connection gone a MESSAGE for her
      is stored (202) and delivered over her next TLS connection; one
      that finds her new connection in its handshake waits for it; a 9th
      connection from one address is closed; a handshake left unfinished
      is closed at the 10 s first-request deadline.
  tls.py flood UDPPORT TLSPORT CERT
      handshake_limit: a 6th handshake from one address in a minute is
      closed; 48 handshakes from 12 addresses held open past `memory_kb`: the
      oldest are closed for the newest, at most 8 stay, UDP is served all
      along, and a client is served once the flood is gone.
  tls.py renew UDPPORT TLSPORT CERT   (SIMPLED and SIMPLED_CONF set)
      the certificate and key files are replaced (a renewal) and `ctl
      reload` makes new connections get the new certificate while one
      opened before keeps working; a reload that changes nothing of TLS
      is taken whatever connections are open; a file that does not load
      is refused with its name and nothing changes; a certificate renewed
      while connections of the one before last are open is loaded once
      they have closed.
"""
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from auth import (DOMAIN, PASSWORDS, UA, check, credentials,  # noqa: E402
                  expect, ok_for, status)

seq = 0


def tls_wrap(raw, cert):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cert)
    ctx.check_hostname = False  # the certificate names the domain
    return ctx.wrap_socket(raw)


def tls_connect(port, cert, src="127.0.0.1", sport=0):
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    raw.settimeout(5)
    raw.bind((src, sport))
    raw.connect(("127.0.0.1", port))
    return tls_wrap(raw, cert)


class TlsUA:
    """A SIP user agent on one TLS connection. A thread reads it: requests
    the server sends are answered 200 and kept (self.got), responses go
    to transact()."""

    def __init__(self, port, cert, user, src="127.0.0.1", sport=0,
                 raw=None):
        self.s = tls_wrap(raw, cert) if raw else tls_connect(port, cert,
                                                             src, sport)
        self.s.settimeout(None)
        self.user = user
        self.local = self.s.getsockname()
        self.got, self.responses = [], []
        self.cv = threading.Condition()
        self.wlock = threading.Lock()
        self.thread = threading.Thread(target=self.reader, daemon=True)
        self.thread.start()

    def reader(self):
        buf = b""
        while True:
            head, sep, rest = buf.partition(b"\r\n\r\n")
            if sep:
                m = re.search(rb"(?im)^(?:Content-Length|l)\s*:\s*(\d+)",
                              head)
                n = int(m.group(1)) if m else 0
                if len(rest) >= n:
                    buf = rest[n:]
                    self.take((head + sep + rest[:n]).decode())
                    continue
            try:
                data = self.s.recv(65536)
            except (OSError, ValueError):
                data = b""
            if not data:
                return
            buf += data

    def take(self, msg):
        if not msg.startswith("SIP/2.0"):
            self.answer(msg)
        with self.cv:
            (self.responses if msg.startswith("SIP/2.0") else
             self.got).append(msg)
            self.cv.notify_all()

    def send(self, data):
        with self.wlock:
            self.s.sendall(data.encode())

    def answer(self, req):
        self.send(ok_for(req, "t"))

    def wait(self, pick, timeout=5):
        """The first message pick() takes from the lists, or None."""
        end = time.time() + timeout
        with self.cv:
            while True:
                for lst in (self.responses, self.got):
                    for m in lst:
                        if pick(m):
                            lst.remove(m)
                            return m
                if time.time() >= end:
                    return None
                self.cv.wait(end - time.time())

    def transact(self, method, ruri, to, extra="", body=""):
        global seq
        seq += 1
        tok = f"tls{os.getpid()}x{seq}"
        ip, port = self.local[0], self.local[1]
        self.send(
            f"{method} {ruri} SIP/2.0\r\n"
            f"Via: SIP/2.0/TLS {ip}:{port};branch=z9hG4bK{tok};rport\r\n"
            f"Max-Forwards: 70\r\n"
            f"From: <sip:{self.user}@{DOMAIN}>;tag={tok}\r\n"
            f"To: <sip:{to}>\r\nCall-ID: {tok}@py\r\nCSeq: 1 {method}\r\n"
            f"{extra}Content-Length: {len(body.encode())}\r\n\r\n{body}")
        return self.wait(lambda m: m.startswith("SIP/2.0") and
                         f"Call-ID: {tok}@py" in m and status(m) >= 200)

    def authed(self, method, ruri, to, extra="", body=""):
        r = self.transact(method, ruri, to, extra, body)
        if status(r) in (401, 407):
            r = self.transact(method, ruri, to, extra + credentials(
                r, self.user, PASSWORDS[self.user], method, ruri), body)
        return r

    def register(self):
        ip, port = self.local[0], self.local[1]
        return self.authed(
            "REGISTER", f"sip:{DOMAIN}", f"{self.user}@{DOMAIN}",
            f"Contact: <sip:{self.user}@{ip}:{port};transport=tls>\r\n"
            "Expires: 600\r\n")

    def wait_request(self, method, text, timeout=5):
        """A request of method holding text the server sent (answered)."""
        return self.wait(lambda m: m.startswith(method + " ") and text in m,
                         timeout)

    def close(self, reset=False):
        if reset:  # RST: no TIME_WAIT, the port can connect again
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                              struct.pack("ii", 1, 0))
        self.s.shutdown(socket.SHUT_RD if reset else socket.SHUT_RDWR)
        # The reader must be out of its recv before the descriptor is
        # closed: a new socket gets the same number, and a read still
        # under way there takes (and answers) the new one's handshake.
        self.thread.join(5)
        self.s.close()


def raw_from(tport, src, sport):
    """A TCP connection from src:sport, no handshake yet."""
    for _ in range(50):
        try:
            raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            raw.bind((src, sport))
            raw.connect(("127.0.0.1", tport))
            return raw
        except OSError:
            raw.close()
            time.sleep(0.1)
    check(False, f"cannot connect from port {sport} again")


def clients(udp, tport, cert):
    stall = caps_begin(tport, cert)
    alice = TlsUA(tport, cert, "alice")
    check(alice.s.version() == "TLSv1.2", f"version {alice.s.version()}")
    r = alice.transact("REGISTER", f"sip:{DOMAIN}", f"alice@{DOMAIN}",
                       "Expires: 600\r\n")
    expect(r, 401, "WWW-Authenticate", "REGISTER over TLS challenged")
    check("Via: SIP/2.0/TLS" in r, "the answer keeps the TLS Via")
    expect(alice.register(), 200, "transport=tls", "alice registers (TLS)")
    bob = UA(udp)
    expect(bob.register("bob"), 200, "Contact:", "bob registers (UDP)")
    # bob's MESSAGE reaches alice on her connection, and she answers.
    expect(bob.authed("MESSAGE", f"sip:alice@{DOMAIN}", f"bob@{DOMAIN}",
                      f"alice@{DOMAIN}", body="over tls"), 200, "SIP/2.0",
           "bob's MESSAGE to alice (TLS)")
    m = alice.wait_request("MESSAGE", "over tls")
    check(m, "alice got no MESSAGE on her TLS connection")
    check(re.search(r"(?m)^Via: SIP/2.0/TLS ", m),
          "the relayed MESSAGE has no TLS Via of the server")
    # A presence subscription: its NOTIFY comes over TLS.
    r = alice.authed("SUBSCRIBE", f"sip:bob@{DOMAIN}", f"bob@{DOMAIN}",
                     f"Event: presence\r\nExpires: 300\r\n"
                     f"Contact: <sip:alice@{alice.local[0]}:"
                     f"{alice.local[1]};transport=tls>\r\n")
    check(status(r) in (200, 202), f"SUBSCRIBE over TLS: {status(r)}")
    n = alice.wait_request("NOTIFY", "Subscription-State")
    check(n, "no NOTIFY on alice's TLS connection")
    # Her connection gone, a MESSAGE for her is kept...
    alice.close()
    time.sleep(0.3)
    expect(bob.authed("MESSAGE", f"sip:alice@{DOMAIN}", f"bob@{DOMAIN}",
                      f"alice@{DOMAIN}", body="kept for tls"), 202,
           "Accepted", "MESSAGE while alice's connection is closed")
    # ...and delivered on her next one once she registers.
    alice = TlsUA(tport, cert, "alice")
    expect(alice.register(), 200, "Contact:", "alice registers again")
    check(alice.wait_request("MESSAGE", "kept for tls"),
          "the stored MESSAGE did not come over her new TLS connection")
    # From a port of her own, then again from the same port: a MESSAGE
    # that finds the new connection still in its handshake waits for it,
    # and both it and what follows go out once it is done.
    # An address of its own: no port of an earlier connection (whose
    # records could still be under way) is taken again by accident.
    alice.close()
    src = "127.0.0.47"
    probe = socket.socket()
    probe.bind((src, 0))
    sport = probe.getsockname()[1]
    probe.close()
    alice = TlsUA(tport, cert, "alice", src=src, sport=sport)
    expect(alice.register(), 200, "Contact:", "alice from a fixed port")
    alice.close(reset=True)
    time.sleep(0.3)
    raw = raw_from(tport, src, sport)
    time.sleep(0.3)
    res = {}
    t = threading.Thread(target=lambda: res.update(r=bob.authed(
        "MESSAGE", f"sip:alice@{DOMAIN}", f"bob@{DOMAIN}", f"alice@{DOMAIN}",
        body="during the handshake")), daemon=True)
    t.start()
    time.sleep(1)
    alice = TlsUA(tport, cert, "alice", raw=raw)
    check(alice.wait_request("MESSAGE", "during the handshake"),
          "a MESSAGE queued during the handshake never came")
    expect(alice.transact("OPTIONS", f"sip:{DOMAIN}", f"{DOMAIN}"), 200,
           "SIP/2.0", "OPTIONS after the handshake")
    t.join(6)
    expect(res.get("r"), 200, "SIP/2.0", "bob's MESSAGE during the handshake")
    caps_end(*stall)


def options_ok(udp):
    ua = UA(udp)
    r = ua.transact("OPTIONS", f"sip:{DOMAIN}", f"probe@{DOMAIN}",
                    f"{DOMAIN}")
    return status(r) == 200


def closed_by_server(s, timeout=3):
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def caps_begin(tport, cert):
    """The per-address cap, and a handshake that stalls (checked by
    caps_end: closed at the 10 s first-request deadline)."""
    stall = socket.create_connection(("127.0.0.1", tport), timeout=5,
                                     source_address=("127.0.0.49", 0))
    stall.sendall(b"\x16\x03\x01\x00\x80\x01")  # a ClientHello's start
    # 9 raw connections from one address: the 9th is closed at accept
    # (per-source cap 8), before any handshake.
    one = [socket.create_connection(("127.0.0.1", tport), timeout=5,
                                    source_address=("127.0.0.50", 0))
           for _ in range(9)]
    check(closed_by_server(one[8]), "a 9th connection from one address "
          "was not closed")
    check(not closed_by_server(one[0], 0.5), "the 1st one was closed")
    for s in one:
        s.close()
    # A handshake done, then only keep-alive pings (CRLF CRLF), never a
    # request: the pings do not move the first-request deadline.
    pinger = tls_connect(tport, cert, "127.0.0.48")

    def ping():
        try:
            while True:
                pinger.sendall(b"\r\n\r\n")
                time.sleep(1)
        except OSError:
            pass
    threading.Thread(target=ping, daemon=True).start()
    return stall, pinger, time.time()


def caps_end(stall, pinger, stalled_at):
    check(closed_by_server(stall, 13 - (time.time() - stalled_at)),
          "a stalled handshake was not closed within 13 s")
    closed, deadline = False, stalled_at + 13
    while not closed and time.time() < deadline:
        pinger.settimeout(max(0.05, deadline - time.time()))
        try:
            closed = not pinger.recv(64)  # else a pong
        except socket.timeout:
            break
        except OSError:
            closed = True
    check(closed, "a connection sending only pings was not closed at the "
          "first-request deadline")
    took = time.time() - stalled_at
    check(took >= 9, f"a stalled handshake was closed after {took:.1f} s, "
          "before the 10 s deadline")


def flood(udp, tport, cert):
    # handshake_limit 5 (run.sh): a 6th handshake from one address
    # within the minute is closed at accept; another address is served.
    for i in range(7):
        try:
            tls_connect(tport, cert, "127.0.0.60").close()
            check(i < 5, f"handshake {i + 1} from one address in a minute "
                  "was taken past handshake_limit 5")
        except (ssl.SSLError, ConnectionError, socket.timeout, OSError):
            check(i >= 5, f"handshake {i + 1} from one address was refused")
    tls_connect(tport, cert, "127.0.0.61").close()
    # Handshakes from 12 addresses, 4 each, all held open, none sending
    # a request: past memory_kb (run.sh: 256 KB, about 6 connections)
    # the oldest are closed for the newest instead of growing.
    held, refused = [], 0
    for i in range(12):
        for _ in range(4):
            try:
                held.append(tls_connect(tport, cert, f"127.0.1.{i + 1}"))
            except (ssl.SSLError, ConnectionError, socket.timeout, OSError):
                refused += 1
    check(options_ok(udp), "UDP not served during the flood")
    alive = [s for s in held if not closed_by_server(s, 0.05)]
    check(held and held[-1] in alive, "the newest handshake was closed")
    check(len(alive) <= 8, f"{len(alive)} TLS connections held with "
          "memory_kb 256: no cap")
    print(f"flood: {len(held)} handshakes, {len(alive)} still open, "
          f"{refused} refused")
    for s in held:
        s.close()
    time.sleep(0.5)
    c = TlsUA(tport, cert, "bob")
    expect(c.register(), 200, "Contact:", "a TLS client after the flood")


def ctl_reload(want_rc=0):
    p = subprocess.run([os.environ["SIMPLED"], "ctl", "-c",
                        os.environ["SIMPLED_CONF"], "reload"],
                       capture_output=True, text=True, timeout=10)
    check(p.returncode == want_rc, f"ctl reload: {p.returncode} "
          f"{p.stdout} {p.stderr}")
    return p.stdout if want_rc == 0 else p.stderr


def new_cert(cert, cn):
    """A new key and certificate for cn, put in place of cert and its key
    (key.pem beside it) the way a renewal does: written aside, renamed."""
    d = os.path.dirname(cert)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                    f"{d}/key.new", "-out", f"{d}/cert.new", "-days", "2",
                    "-subj", f"/CN={cn}"], check=True, capture_output=True)
    os.chmod(f"{d}/key.new", 0o600)
    os.replace(f"{d}/key.new", f"{d}/key.pem")
    os.replace(f"{d}/cert.new", cert)


def served(port, cert):
    """A TLS connection that verifies against cert and is answered."""
    ua = TlsUA(port, cert, "alice")
    r = ua.transact("OPTIONS", f"sip:{DOMAIN}", DOMAIN)
    check(status(r) == 200, f"OPTIONS over TLS: {r}")
    return ua


def renew(udp, tport, cert):
    d = os.path.dirname(cert)
    shutil.copy(cert, f"{d}/first.pem")
    old = served(tport, cert)
    new_cert(cert, "renewed." + DOMAIN)
    out = ctl_reload()
    check('"restart_needed":[]' in out, f"nothing waits a restart: {out}")
    fresh = served(tport, cert)  # verified against the new certificate
    try:
        tls_connect(tport, f"{d}/first.pem").close()
        check(False, "a new connection still got the first certificate")
    except ssl.SSLError:
        pass
    r = old.transact("OPTIONS", f"sip:{DOMAIN}", DOMAIN)
    check(status(r) == 200, f"the connection from before the reload: {r}")
    # A reload that changes nothing of TLS, with that connection of the
    # first certificate still open: taken (it once was refused, undoing
    # every other change of the file with it).
    out = ctl_reload()
    check('"reloaded":true' in out, f"an unrelated reload: {out}")
    served(tport, cert).close()
    old.close()
    time.sleep(0.3)  # the daemon has seen it go
    # A certificate file that does not load: refused, nothing changes.
    shutil.copy(cert, f"{d}/second.pem")
    with open(cert, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot one\n")
    err = ctl_reload(want_rc=1)
    check("certificate" in err and cert in err, f"bad file: {err}")
    shutil.copy(f"{d}/second.pem", cert)
    served(tport, cert).close()
    # fresh holds the certificate in use; a reload loads a third into
    # the slot the first one left. A fourth needs fresh's slot: the
    # reload is taken, and the fourth certificate is loaded as soon as
    # fresh has gone.
    new_cert(cert, "third." + DOMAIN)
    ctl_reload()
    shutil.copy(cert, f"{d}/third.pem")
    new_cert(cert, "fourth." + DOMAIN)
    out = ctl_reload()
    check('"reloaded":true' in out, f"reload while busy: {out}")
    served(tport, f"{d}/third.pem").close()  # the third, meanwhile
    r = fresh.transact("OPTIONS", f"sip:{DOMAIN}", DOMAIN)
    check(status(r) == 200, f"the oldest connection, still: {r}")
    fresh.close()
    time.sleep(0.3)
    served(tport, cert).close()  # the fourth, without another reload
    options_ok(udp)


def main():
    cases = {"clients": clients, "flood": flood, "renew": renew}
    if len(sys.argv) != 5 or sys.argv[1] not in cases:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cases[sys.argv[1]](int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])


if __name__ == "__main__":
    main()
