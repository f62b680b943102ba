#!/usr/bin/env python3
"""`simpled ctl` and the control socket against the real daemon (run.sh's
accounts alice/wonder and bob/hunter2, max_clients 8). Usage:
  ctl.py BINARY CONFIG SOCKET UDPPORT
Every command's JSON is parsed and checked; bad requests (malformed JSON,
unknown command, wrong arguments, oversize, a client gone mid-request,
more clients than max_clients) get JSON errors and SIP is served all
along; the socket is mode 0600; no password or hash is ever shown.
"""
import json
import os
import socket
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from auth import DOMAIN, UA, check, expect, status  # noqa: E402


def ctl(binary, conf, *args, want_rc=0):
    p = subprocess.run([binary, "ctl", "-c", conf, *args],
                       capture_output=True, text=True, timeout=10)
    check(p.returncode == want_rc, f"ctl {args}: exit {p.returncode}, "
          f"want {want_rc}; stderr {p.stderr!r}")
    return json.loads(p.stdout) if want_rc == 0 else p.stderr


def raw(sock_path, data, timeout=3):
    """Send data on a fresh connection; every answer line until it
    closes (or timeout)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # answered and closed first (busy): the answer is there
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except (socket.timeout, ConnectionResetError):
        pass  # a reset after the answer (the server closed on unread input)
    s.close()
    return [json.loads(line) for line in out.decode().splitlines()]


def main():
    binary, conf, sock_path, port = sys.argv[1:5]
    port = int(port)
    mode = stat.S_IMODE(os.stat(sock_path).st_mode)
    check(mode == 0o600, f"socket mode {oct(mode)}")

    v = ctl(binary, conf, "version")
    out = subprocess.run([binary, "--version"], capture_output=True,
                         text=True).stdout
    check(all(f in out for f in v["features"]) and "ctl" in v["features"],
          f"version {v} against {out!r}")
    check(v["version"] in out, "version number")

    alice = UA(port)
    expect(alice.register("alice"), 200, "Contact:", "alice registers")
    r = ctl(binary, conf, "registrations")["registrations"]
    check(len(r) == 1 and r[0]["aor"] == f"alice@{DOMAIN}", f"regs {r}")
    c = r[0]["contacts"][0]
    check(c["transport"] == "udp" and
          c["address"] == f"{alice.ip}:{alice.port}" and
          0 < c["expires"] <= 600, f"contact {c}")
    r = ctl(binary, conf, "registrations", f"sip:alice@{DOMAIN}")
    check(len(r["registrations"]) == 1, "registrations AOR")
    r = ctl(binary, conf, "registrations", f"nobody@{DOMAIN}")
    check(r["registrations"] == [], "registrations of nobody")

    s = ctl(binary, conf, "stats")
    check(s["counters"]["rx_requests"] >= 2, f"rx_requests {s['counters']}")
    check(s["counters"]["auth_ok"] >= 1, "auth_ok")
    b = s["pools"]["bindings"]
    check(b["used"] == 1 and b["free"] == b["size"] - 1, f"bindings {b}")
    check(0 < s["memory"]["used"] <= s["memory"]["budget"], "memory")

    cfg = ctl(binary, conf, "config")
    text = json.dumps(cfg)
    check("wonder" not in text and "hunter2" not in text,
          "a password in ctl config")
    users = [x for x in cfg["sections"] if x["section"] == "user"]
    check(len(users) == 2 and all(u["password"] in ("(hidden)", "") and
                                   u["ha1"] in ("(hidden)", "")
                                   for u in users), f"users {users}")
    bob = [u for u in users if u["name"] == "bob"][0]
    check(bob["ha1"] == "(hidden)", "bob's ha1 is set, and hidden")
    main_s = [x for x in cfg["sections"] if x["section"] == "simpled"][0]
    check(main_s["domain"] == [DOMAIN] and main_s["open_registration"] == 0,
          f"main section {main_s}")

    h = ctl(binary, conf, "help")
    check("registrations [AOR]" in h["commands"], "help")
    err = ctl(binary, conf, "frobnicate", want_rc=1)
    check("unknown command 'frobnicate'" in err, err)
    err = ctl(binary, conf, "version", "extra", want_rc=1)
    check("usage: version" in err, err)
    p = subprocess.run([binary, "ctl", "--socket", sock_path + ".none",
                        "version"], capture_output=True, text=True)
    check(p.returncode == 2 and "is it running?" in p.stderr,
          f"no daemon: {p.returncode} {p.stderr!r}")

    # Bad requests on the socket itself: a JSON error, then closed.
    for bad, why in ((b"not json\n", "JSON object"),
                     (b'{"command": 7}\n', "string"),
                     (b'{"command": "stats", "x": 1}\n', "only"),
                     (b'{"command": "version"} trailing\n', "follows"),
                     (b'{"command": "a\\u0000b"}\n', "NUL"),
                     (b"x" * 9000, "too large")):
        a = raw(sock_path, bad)
        check(len(a) == 1 and why in a[0].get("error", ""),
              f"{bad[:30]!r}: {a}")
    # Two requests on one connection: two answers, in order.
    a = raw(sock_path, b'{"command":"version"}\n{"command":"help"}\n', 1)
    check(len(a) == 2 and "version" in a[0] and "commands" in a[1],
          f"pipelined: {a}")
    # A client gone in the middle of a request.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.sendall(b'{"command": "sta')
    s.close()
    time.sleep(0.2)  # its slot is free once the daemon saw it go
    # More clients than max_clients (8): the extra ones are told busy;
    # SIP is served meanwhile.
    held = []
    for _ in range(8):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock_path)
        held.append(s)
    time.sleep(0.2)
    a = raw(sock_path, b'{"command":"version"}\n')
    check(len(a) == 1 and "busy" in a[0].get("error", ""), f"busy: {a}")
    expect(UA(port).register("bob"), 200, "Contact:", "SIP while busy")
    for s in held:
        s.close()
    time.sleep(0.2)
    check(ctl(binary, conf, "version")["version"], "served again")
    s = ctl(binary, conf, "stats")["counters"]
    check(s["ctl_busy"] >= 1 and s["ctl_errors"] >= 6, f"ctl counters {s}")


if __name__ == "__main__":
    main()
