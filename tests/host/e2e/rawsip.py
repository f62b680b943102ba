#!/usr/bin/env python3
"""Raw-socket checks the sipp scenarios cannot express: garbage, IPv6,
TCP framing and size limits. Loopback only. Usage: rawsip.py CHECK PORT"""
import socket
import sys

DOMAIN = "simpled.test"


def req(method, branch, extra="", body="", cseq=1, transport="UDP",
        host="127.0.0.1"):
    return (f"{method} sip:{DOMAIN} SIP/2.0\r\n"
            f"Via: SIP/2.0/{transport} {host}:9;branch=z9hG4bK{branch};rport\r\n"
            f"From: <sip:raw@{DOMAIN}>;tag=r{branch}\r\n"
            f"To: <sip:{DOMAIN}>\r\n"
            f"Call-ID: raw-{branch}\r\n"
            f"CSeq: {cseq} {method}\r\n"
            f"Max-Forwards: 70\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n{body}").encode()


def status(data):
    line = data.split(b"\r\n", 1)[0].decode(errors="replace")
    parts = line.split(" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[0] == "SIP/2.0" else 0


def udp(port, payload, family=socket.AF_INET, host="127.0.0.1", wait=2.0):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(wait)
    s.sendto(payload, (host, port))
    try:
        return s.recv(65535)
    except socket.timeout:
        return None


def tcp_read(s, n=1):
    """Read n complete responses (Content-Length framed)."""
    buf, out = b"", []
    while len(out) < n:
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65535)
            if not chunk:
                return out
            buf += chunk
        head, rest = buf.split(b"\r\n\r\n", 1)
        cl = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                cl = int(line.split(b":")[1])
        while len(rest) < cl:
            rest += s.recv(65535)
        out.append(head + b"\r\n\r\n" + rest[:cl])
        buf = rest[cl:]
    return out


def udp_and_tcp(with_tcp):
    """A UDP socket on a free port, and a TCP listener on the same port
    number when asked (retried until a number is free for both)."""
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        u.settimeout(3)
        if not with_tcp:
            return u, None
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", u.getsockname()[1]))
        except OSError:
            u.close()
            t.close()
            continue
        t.listen(4)
        t.settimeout(3)
        return u, t
    check(False, "no port free for both UDP and TCP")
    return None, None


def check(cond, what):
    if not cond:
        print(f"rawsip: {what}", file=sys.stderr)
        sys.exit(1)


def main():
    check_name, port = sys.argv[1], int(sys.argv[2])
    if check_name == "options6":
        r = udp(port, req("OPTIONS", "v6", host="[::1]"), socket.AF_INET6,
                "::1")
        check(r is not None and status(r) == 200, "no 200 over IPv6")
        check(b"received=::1" in r or b"rport=" in r, "no rport over IPv6")
    elif check_name == "garbage":
        check(udp(port, b"\x00\x01garbage\r\n\r\n", wait=0.5) is None,
              "garbage was answered")
        r = udp(port, req("OPTIONS", "after"))
        check(r is not None and status(r) == 200, "no answer after garbage")
    elif check_name == "tcp_framing":
        s = socket.create_connection(("127.0.0.1", port), timeout=3)
        # Two requests in one write, then one split across writes.
        s.sendall(req("OPTIONS", "t1", transport="TCP") +
                  req("OPTIONS", "t2", transport="TCP"))
        rs = tcp_read(s, 2)
        check(len(rs) == 2 and all(status(r) == 200 for r in rs),
              f"pipelined: {rs!r}")
        m = req("OPTIONS", "t3", transport="TCP")
        s.sendall(m[:30])
        s.sendall(m[30:])
        rs = tcp_read(s, 1)
        check(len(rs) == 1 and status(rs[0]) == 200, "split request")
        # LF-only line ends frame as the parser reads them (it takes them
        # over UDP too).
        s.sendall(req("OPTIONS", "lf", transport="TCP").replace(b"\r\n",
                                                                b"\n"))
        rs = tcp_read(s, 1)
        check(len(rs) == 1 and status(rs[0]) == 200,
              f"LF-only request over TCP: {rs!r}")
        # A keep-alive ping (CRLF CRLF) gets a pong (CRLF), RFC 5626 3.5.1.
        s.sendall(b"\r\n\r\n")
        s.settimeout(2)
        check(s.recv(2) == b"\r\n", "no pong for a CRLF ping")
        # A stream request must say its length (RFC 3261 18.3): 400.
        s.sendall(req("OPTIONS", "nolen", transport="TCP")
                  .replace(b"Content-Length: 0\r\n", b""))
        rs = tcp_read(s, 1)
        check(len(rs) == 1 and status(rs[0]) == 400 and
              b"Content-Length" in rs[0].split(b"\r\n")[0],
              f"no 400 for a missing Content-Length: {rs!r}")
        # A length near 2^32 is too large, not a wrapped small number.
        s.sendall(req("MESSAGE", "huge", transport="TCP")
                  .replace(b"Content-Length: 0", b"Content-Length: 4294967295"))
        rs = tcp_read(s, 1)
        check(len(rs) == 1 and status(rs[0]) == 513,
              f"no 513 for Content-Length 2^32-1: {rs!r}")
        s.close()
    elif check_name == "tcp_too_large":
        s = socket.create_connection(("127.0.0.1", port), timeout=3)
        body = "x" * 70000
        s.sendall(req("MESSAGE", "big", transport="TCP",
                      extra="Content-Type: text/plain\r\n", body=body))
        rs = tcp_read(s, 1)
        check(len(rs) == 1 and status(rs[0]) == 513, f"no 513: {rs!r}")
        # The connection stays usable: the body was skipped.
        s.sendall(req("OPTIONS", "afterbig", transport="TCP"))
        rs = tcp_read(s, 1)
        check(len(rs) == 1 and status(rs[0]) == 200, "after 513")
        s.close()
    elif check_name == "tcp_reply_after_close":
        # RFC 3261 18.2.2: the answer to a TCP request whose connection
        # is gone goes to the Via sent-by port, not the source port.
        alice = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        alice.bind(("127.0.0.1", 0))
        alice.settimeout(3)
        ap = alice.getsockname()[1]
        alice.sendto((f"REGISTER sip:{DOMAIN} SIP/2.0\r\n"
                      f"Via: SIP/2.0/UDP 127.0.0.1:{ap};branch=z9hG4bKra\r\n"
                      f"From: <sip:ana@{DOMAIN}>;tag=a\r\n"
                      f"To: <sip:ana@{DOMAIN}>\r\nCall-ID: ra@py\r\n"
                      f"CSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n"
                      f"Contact: <sip:ana@127.0.0.1:{ap}>\r\n"
                      f"Expires: 600\r\nContent-Length: 0\r\n\r\n")
                     .encode(), ("127.0.0.1", port))
        check(status(alice.recv(65535)) == 200, "ana register")
        lsn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsn.bind(("127.0.0.1", 0))
        lsn.listen(4)
        lsn.settimeout(5)
        lp = lsn.getsockname()[1]
        s = socket.create_connection(("127.0.0.1", port), timeout=3)
        body = "answer me later"
        s.sendall((f"MESSAGE sip:ana@{DOMAIN} SIP/2.0\r\n"
                   f"Via: SIP/2.0/TCP 127.0.0.1:{lp};branch=z9hG4bKrb\r\n"
                   f"From: <sip:raw@{DOMAIN}>;tag=rb\r\n"
                   f"To: <sip:ana@{DOMAIN}>\r\nCall-ID: rb@py\r\n"
                   f"CSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n"
                   f"Content-Type: text/plain\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
        m = alice.recv(65535)
        check(m.startswith(b"MESSAGE "), f"ana got {m[:40]!r}")
        s.close()  # the request's connection is gone before the answer
        head = m.split(b"\r\n\r\n", 1)[0].decode()
        keep = [ln for ln in head.split("\r\n")[1:]
                if ln.split(":")[0] in ("Via", "From", "To", "Call-ID",
                                        "CSeq")]
        alice.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) +
                      "\r\nContent-Length: 0\r\n\r\n").encode(),
                     ("127.0.0.1", port))
        c, _ = lsn.accept()
        c.settimeout(3)
        rs = tcp_read(c, 1)
        check(len(rs) == 1 and status(rs[0]) == 200 and b"rb@py" in rs[0],
              f"no 200 at the Via sent-by port: {rs!r}")
        c.close()
    elif check_name == "big_over_tcp":
        # RFC 3261 18.1.1: a request over 1300 bytes for a UDP contact is
        # sent over TCP to the same address, and over UDP when TCP is
        # refused there.
        body = "b" * 2000
        for user, with_tcp in (("tina", True), ("uma", False)):
            u, lsn = udp_and_tcp(with_tcp)
            cp = u.getsockname()[1]
            u.sendto((f"REGISTER sip:{DOMAIN} SIP/2.0\r\n"
                      f"Via: SIP/2.0/UDP 127.0.0.1:{cp};branch=z9hG4bK{user}\r\n"
                      f"From: <sip:{user}@{DOMAIN}>;tag=a\r\n"
                      f"To: <sip:{user}@{DOMAIN}>\r\nCall-ID: {user}@py\r\n"
                      f"CSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n"
                      f"Contact: <sip:{user}@127.0.0.1:{cp}>\r\n"
                      f"Expires: 600\r\nContent-Length: 0\r\n\r\n")
                     .encode(), ("127.0.0.1", port))
            check(status(u.recv(65535)) == 200, f"{user} register")
            bob = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            bob.settimeout(3)
            bob.sendto(req("MESSAGE", f"big{user}",
                           extra="Content-Type: text/plain\r\n",
                           body=body).replace(
                               f"MESSAGE sip:{DOMAIN}".encode(),
                               f"MESSAGE sip:{user}@{DOMAIN}".encode()),
                       ("127.0.0.1", port))
            if with_tcp:
                c, _ = lsn.accept()
                c.settimeout(3)
                m = tcp_read(c, 1)[0]
                check(b"SIP/2.0/TCP" in m.split(b"\r\n")[1],
                      f"no TCP Via: {m[:200]!r}")
                out = c
            else:
                m = u.recv(65535)
                out = None
            check(m.startswith(b"MESSAGE ") and body.encode() in m,
                  f"{user} did not get the big MESSAGE: {m[:80]!r}")
            head = m.split(b"\r\n\r\n", 1)[0].decode()
            keep = [ln for ln in head.split("\r\n")[1:]
                    if ln.split(":")[0] in ("Via", "From", "To", "Call-ID",
                                            "CSeq")]
            ans = ("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) +
                   "\r\nContent-Length: 0\r\n\r\n").encode()
            if out:
                out.sendall(ans)
            else:
                u.sendto(ans, ("127.0.0.1", port))
            r = bob.recv(65535)
            check(status(r) == 200, f"bob got {r[:40]!r} for {user}")
            if out:
                out.close()
                lsn.close()
    else:
        check(False, f"unknown check {check_name}")


main()
