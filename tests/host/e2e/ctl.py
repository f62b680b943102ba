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
import select
import socket
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from auth import DOMAIN, UA, check, expect, ok_for, status  # noqa: E402


def ctl(binary, conf, *args, want_rc=0):
    p = subprocess.run([binary, "ctl", "-c", conf, *args],
                       capture_output=True, text=True, timeout=10)
    check(p.returncode == want_rc, f"ctl {args}: exit {p.returncode}, "
          f"want {want_rc}; stderr {p.stderr!r}")
    return json.loads(p.stdout) if want_rc == 0 else p.stderr


def raw(sock_path, data, timeout=3, lines=None):
    """Send data on a fresh connection; every answer line until it
    closes (or timeout, or that many lines came)."""
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
            if lines and out.count(b"\n") >= lines:
                break
    except (socket.timeout, ConnectionResetError):
        pass  # a reset after the answer (the server closed on unread input)
    s.close()
    return [json.loads(line) for line in out.decode().splitlines()]


def notify_with(ua, text, timeout=3):
    """The NOTIFY holding text that ua gets (each answered 200)."""
    end = time.time() + timeout
    while time.time() < end:
        m = ua.recv(end - time.time())
        if m and m.startswith("NOTIFY "):
            ua.s.sendto(ok_for(m, "w").encode(), ua.srv)
            if text in m:
                return m
    return None


def publish(binary, conf, bob, sock_path):
    """pua_mi's pua_publish: the router's state as a presentity, which a
    SIP watcher (bob) follows."""
    uri = f"sip:router@{DOMAIN}"
    r = bob.authed("SUBSCRIBE", uri, f"bob@{DOMAIN}", f"router@{DOMAIN}",
                   "Event: presence\r\nExpires: 300\r\n"
                   f"Contact: <sip:bob@{bob.ip}:{bob.port}>\r\n")
    check(status(r) in (200, 202), f"bob subscribes to the router: {r}")
    notify_with(bob, "Subscription-State", 1)

    def doc(note):
        return ("<?xml version='1.0'?><presence xmlns='urn:ietf:params:xml:"
                f"ns:pidf' entity='{uri}'><tuple id='t'><status><basic>open"
                f"</basic></status><note>{note}</note></tuple></presence>")
    pidf = "application/pidf+xml"
    a = ctl(binary, conf, "publish", uri, "600", "presence", pidf, "load",
            ".", ".", doc("load 0.10"))
    check(a["code"] == 200 and len(a["etag"]) == 16 and
          a["expires"] == 600, f"publish {a}")
    check(notify_with(bob, "load 0.10"), "bob's NOTIFY of the publish")
    # The same series id replaces the document; the 9-field form (with
    # an outbound proxy field) and a body from stdin are taken too.
    p = subprocess.run([binary, "ctl", "-c", conf, "publish", uri, "600",
                        "presence", pidf, "load", ".", ".", ".", "-"],
                       input=doc("load 0.20"), capture_output=True,
                       text=True, timeout=10)
    check(p.returncode == 0, f"publish from stdin: {p.stderr}")
    b = json.loads(p.stdout)
    check(b["etag"][:10] == a["etag"][:10] and b["etag"] != a["etag"],
          f"the series replaced its document: {a} then {b}")
    check(notify_with(bob, "load 0.20"), "bob's NOTIFY of the replacement")
    # The same presentity however its name is written (the registrar's
    # keys: domain in any case), and a client that half-closes after
    # asking still gets its answer once the document is on disk.
    req = json.dumps({"command": "publish", "args": [
        f"sip:router@{DOMAIN.upper()}", "600", "presence", pidf, "load",
        ".", ".", doc("load 0.25")]}).encode() + b"\n"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect(sock_path)
    s.sendall(req)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while not got.endswith(b"\n"):
        d = s.recv(4096)
        if not d:
            break
        got += d
    s.close()
    b = json.loads(got)
    check(b.get("code") == 200, f"half-closed publish: {got!r}")
    check(notify_with(bob, "load 0.25"), "bob's NOTIFY of that publish")
    p = ctl(binary, conf, "presentities", uri)["presentities"]
    check(p == [{"uri": f"router@{DOMAIN}", "documents": 1,
                 "subscriptions": 1}], f"one document: {p}")
    # Refresh by ETag, then remove with expires 0.
    r = ctl(binary, conf, "publish", uri, "300", "presence", ".", ".",
            b["etag"], ".", ".")
    check(r["code"] == 200 and r["expires"] == 300, f"refresh {r}")
    r = ctl(binary, conf, "publish", uri, "0", "presence", ".", ".",
            r["etag"], ".", ".")
    check(r["code"] == 200 and r["expires"] == 0, f"removal {r}")
    check(notify_with(bob, "closed"), "bob sees the router's tuple closed")
    # watch: the state now, then each change, until the client goes.
    w = subprocess.Popen([binary, "ctl", "-c", conf, "watch", uri],
                         stdout=subprocess.PIPE, text=True)
    first = json.loads(w.stdout.readline())
    check(first["watching"] == uri and "<basic>closed" in first["state"],
          f"watch's first line (its document removed above) {first}")
    ctl(binary, conf, "publish", uri, "600", "presence", pidf, "load", ".",
        ".", doc("load 0.30"))
    nxt = json.loads(w.stdout.readline())
    check(nxt["presentity"] == uri and "load 0.30" in nxt["state"],
          f"watch's next line {nxt}")
    check(notify_with(bob, "load 0.30"), "bob's NOTIFY beside the watch")
    w.kill()  # a client gone in the middle of a watch
    w.wait()
    # The shipped example: the router's health, once.
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "..", "..", "..", "examples", "router-presence.sh")
    p = subprocess.run(["sh", script, "-c", conf, "--once"],
                       env=dict(os.environ, SIMPLED=binary),
                       capture_output=True, text=True, timeout=10)
    check(p.returncode == 0 and '"code":200' in p.stdout,
          f"router-presence.sh: {p.returncode} {p.stdout} {p.stderr}")
    check(notify_with(bob, "uptime"), "bob sees the router's health")
    # Refusals carry their code.
    for args, want in (((uri, "60", "presence", pidf, ".", "0123456789abcdef",
                         ".", doc("x")), "412"),
                       ((uri, "60", "presence", pidf, ".", ".", ".",
                         "<nope"), "400 XML"),
                       ((uri, "60", "presence", "text/plain", ".", ".", ".",
                         "hi"), "415"),
                       ((uri, "60", "dialog", pidf, ".", ".", ".", doc("x")),
                        "only the event package presence"),
                       (("sip:x@far.example", "60", "presence", pidf, ".",
                         ".", ".", doc("x")), "no outbound_proxy"),
                       ((uri, "soon", "presence", pidf, ".", ".", ".",
                         doc("x")), "EXPIRES must be"),
                       ((uri, "60", "presence"), "usage: publish")):
        err = ctl(binary, conf, "publish", *args, want_rc=1)
        check(want in err, f"publish {args[1:4]}: {err}")


def services(binary, conf, feats, port, alice, sock_path):
    """The inspection commands of each service, or the error naming the
    switch that left it out."""
    bob = UA(port)
    expect(bob.register("bob"), 200, "Contact:", "bob registers")
    if "presence" in feats:
        doc = ('<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:'
               f'ns:pidf" entity="sip:alice@{DOMAIN}"><tuple id="t"><status>'
               '<basic>open</basic></status></tuple></presence>')
        r = alice.authed("PUBLISH", f"sip:alice@{DOMAIN}", f"alice@{DOMAIN}",
                         f"alice@{DOMAIN}", "Event: presence\r\nExpires: 600"
                         "\r\nContent-Type: application/pidf+xml\r\n", doc)
        expect(r, 200, "SIP-ETag", "alice publishes")
        # watch follows alice's watcher list (presence.winfo) too.
        winfo = subprocess.Popen([binary, "ctl", "-c", conf, "watch",
                                  f"alice@{DOMAIN}", "presence.winfo"],
                                 stdout=subprocess.PIPE)
        got = lines_until(winfo, "watcherinfo")
        check(got and "bob@" not in got[0]["state"], f"no watcher {got}")
        r = bob.authed("SUBSCRIBE", f"sip:alice@{DOMAIN}", f"bob@{DOMAIN}",
                       f"alice@{DOMAIN}", "Event: presence\r\nExpires: 300"
                       f"\r\nContact: <sip:bob@{bob.ip}:{bob.port}>\r\n")
        check(status(r) in (200, 202), f"bob subscribes: {status(r)}")
        got = lines_until(winfo, f"bob@{DOMAIN}")
        check(got and f"bob@{DOMAIN}" in got[-1]["state"],
              f"watch sees bob in alice's watcher list {got}")
        winfo.kill()
        winfo.wait()
        err = ctl(binary, conf, "watch", f"alice@{DOMAIN}", "dialog",
                  want_rc=1)
        check("no such event package" in err, err)
        p = ctl(binary, conf, "presentities")["presentities"]
        check({"uri": f"alice@{DOMAIN}", "documents": 1,
               "subscriptions": 1} in p, f"presentities {p}")
        p = ctl(binary, conf, "presentities", f"sip:bob@{DOMAIN}")
        check(p["presentities"] == [], f"bob is no presentity: {p}")
        w = ctl(binary, conf, "watchers", f"sip:alice@{DOMAIN}")
        w = w["subscriptions"]
        check(len(w) == 1 and w[0]["watcher"] == f"bob@{DOMAIN}" and
              w[0]["event"] == "presence" and
              w[0]["presentity"] == f"sip:alice@{DOMAIN}" and
              w[0]["state"] in ("pending", "active") and
              0 < w[0]["expires"] <= 300, f"watchers {w}")
        s = ctl(binary, conf, "subscriptions")["subscriptions"]
        check(len(s) == 1, f"subscriptions {s}")
        # The presentity's rules, set by the administrator.
        a = ctl(binary, conf, "polite-block", f"alice@{DOMAIN}",
                f"sip:bob@{DOMAIN}")
        check(a == {"presentity": f"alice@{DOMAIN}",
                    "watcher": f"bob@{DOMAIN}",
                    "decision": "polite-block"}, f"polite-block {a}")
        w = ctl(binary, conf, "watchers", f"alice@{DOMAIN}")["subscriptions"]
        check(w[0]["decision"] == "polite-block", f"decided {w}")
        ctl(binary, conf, "block", f"alice@{DOMAIN}", f"bob@{DOMAIN}")
        w = ctl(binary, conf, "watchers", f"alice@{DOMAIN}")["subscriptions"]
        check(w == [], f"blocked: the subscription ended: {w}")
        err = ctl(binary, conf, "allow", "alice", "bob", want_rc=1)
        check("user@domain" in err, err)
        publish(binary, conf, bob, sock_path)
    else:
        err = ctl(binary, conf, "watchers", f"alice@{DOMAIN}", want_rc=1)
        check("CONFIG_SIMPLED_PRESENCE" in err, err)
        # Only what is sent to other domains (none yet) is listed, and
        # only their presentities are published.
        p = ctl(binary, conf, "presentities")
        check(p == {"presentities": [], "outgoing": []}, f"{p}")
        err = ctl(binary, conf, "publish", f"sip:router@{DOMAIN}", "60",
                  "presence", "application/pidf+xml", ".", ".", ".",
                  "<presence/>", want_rc=1)
        check("only presentities of other domains" in err, err)
    if "imc" in feats:
        r = alice.authed("MESSAGE", f"sip:chat@{DOMAIN}", f"alice@{DOMAIN}",
                         f"chat@{DOMAIN}", body="#create lobby")
        check(status(r) == 200, f"#create: {status(r)}")
        r = ctl(binary, conf, "rooms")["rooms"]
        check(r == [{"room": "lobby", "members": 1, "private": False}],
              f"rooms {r}")
        m = ctl(binary, conf, "members", f"lobby@conference.{DOMAIN}")
        check(m["members"] == [{"user": f"alice@{DOMAIN}", "role": "owner"}],
              f"members {m}")
        err = ctl(binary, conf, "members", "nope", want_rc=1)
        check("no such room" in err, err)
    else:
        err = ctl(binary, conf, "rooms", want_rc=1)
        check("CONFIG_SIMPLED_IMC" in err, err)
    if "offline" in feats:
        # watch follows other packages: carol's message-summary, with
        # no SIP subscriber to it.
        mwi = None
        if "presence" in feats:
            mwi = subprocess.Popen([binary, "ctl", "-c", conf, "watch",
                                    f"carol@{DOMAIN}", "message-summary"],
                                   stdout=subprocess.PIPE)
            got = lines_until(mwi, "Messages-Waiting: no")
            check(got and got[0]["event"] == "message-summary",
                  f"message-summary watched {got}")
        r = bob.authed("MESSAGE", f"sip:carol@{DOMAIN}", f"bob@{DOMAIN}",
                       f"carol@{DOMAIN}", body="for later")
        expect(r, 202, "Accepted", "a MESSAGE for carol, offline")
        if mwi:
            got = lines_until(mwi, "Messages-Waiting: yes")
            check(got and "Text-Message: 1/0" in got[-1]["state"],
                  f"watch sees carol's message waiting {got}")
            mwi.kill()
            mwi.wait()
        o = ctl(binary, conf, "offline", f"carol@{DOMAIN}")
        check(o == {"user": f"carol@{DOMAIN}", "stored": 1}, f"offline {o}")
        o = ctl(binary, conf, "purge", f"sip:carol@{DOMAIN}")
        check(o == {"user": f"carol@{DOMAIN}", "purged": 1}, f"purge {o}")
        o = ctl(binary, conf, "offline", f"carol@{DOMAIN}")
        check(o["stored"] == 0, f"after purge {o}")
        err = ctl(binary, conf, "purge", "carol", want_rc=1)
        check("user@domain" in err, err)
        # history: what carol was sent stays there after the purge;
        # SINCE its id leaves it out.
        h = ctl(binary, conf, "history", f"carol@{DOMAIN}")
        check(h["user"] == f"carol@{DOMAIN}" and h["history"] and
              h["history"][-1]["body"] == "for later" and
              "bob@" in h["history"][-1]["from"] and
              h["history"][-1]["sent"] == 0, f"history {h}")
        last = h["history"][-1]["id"]
        h = ctl(binary, conf, "history", f"carol@{DOMAIN}", str(last))
        check(h["history"] == [], f"history since {last}: {h}")
        err = ctl(binary, conf, "history", f"carol@{DOMAIN}", "x",
                  want_rc=1)
        check("History-Id" in err, err)
        # cleanup: a message past its expiry (run.sh: expire_time 2 s)
        # goes now, not at the next clean_period.
        r = bob.authed("MESSAGE", f"sip:carol@{DOMAIN}", f"bob@{DOMAIN}",
                       f"carol@{DOMAIN}", body="soon stale")
        expect(r, 202, "Accepted", "a MESSAGE for carol, offline")
        time.sleep(3)
        c = ctl(binary, conf, "cleanup")
        check(c == {"expired_messages": 1}, f"cleanup {c}")
        o = ctl(binary, conf, "offline", f"carol@{DOMAIN}")
        check(o["stored"] == 0, f"after cleanup {o}")
        # backup: a copy run.sh restores into a new state directory,
        # with this message in it.
        r = bob.authed("MESSAGE", f"sip:carol@{DOMAIN}", f"bob@{DOMAIN}",
                       f"carol@{DOMAIN}", body="kept in the backup")
        expect(r, 202, "Accepted", "a MESSAGE for carol, offline")
        path = os.path.join(os.path.dirname(os.path.dirname(sock_path)),
                            "backup.mdb")
        b = ctl(binary, conf, "backup", path)
        check(b["backup"] == path and b["bytes"] == os.path.getsize(path)
              and stat.S_IMODE(os.stat(path).st_mode) == 0o600 and
              not os.path.exists(path + ".part"), f"backup {b}")
        for bad, why in (("relative.mdb", "absolute path"),
                         ("/nonexistent/dir/b.mdb", "No such file")):
            err = ctl(binary, conf, "backup", bad, want_rc=1)
            check(why in err, f"backup {bad}: {err}")
    else:
        err = ctl(binary, conf, "offline", "carol", want_rc=1)
        check("CONFIG_SIMPLED_OFFLINE" in err, err)


def load(sock_path):
    """50 clients at once, each asking stats: an answer or busy, within
    2 s each, while the daemon is under SIP load."""
    import threading
    results = []

    def one():
        t0 = time.time()
        try:
            a = raw(sock_path, b'{"command":"stats"}\n', timeout=2,
                    lines=1)
        except OSError as e:
            a = [{"oserror": str(e)}]
        results.append((time.time() - t0, a))
    threads = [threading.Thread(target=one) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answered = sum(1 for _, a in results if a and "counters" in a[0])
    busy = sum(1 for _, a in results if a and "busy" in a[0].get("error",
                                                                ""))
    check(answered + busy == 50, f"{50 - answered - busy} clients got "
          f"neither: {[a for _, a in results if not a or ('counters' not in a[0] and 'busy' not in str(a[0]))][:3]}")
    check(answered >= 8, f"only {answered} answered")
    slow = max(t for t, _ in results)
    check(slow <= 2.0, f"the slowest client waited {slow:.2f} s")
    print(f"ctl load: {answered} answered, {busy} busy, slowest "
          f"{slow:.3f} s")


def reload(binary, conf, port):
    """reload: a new account works at once, a listen change is kept for
    a restart and named, a file with an error changes nothing."""
    text = open(conf).read()
    dave = UA(port)
    r = dave.register("dave", password="dave")
    check(status(r) == 403, f"dave before he exists: {status(r)}")
    open(conf, "w").write(text + "config user\n\toption name 'dave'\n"
                          "\toption password 'dave'\n"
                          "config simpled 'main'\n"
                          "\tlist listen 'udp:127.0.0.1:1'\n")
    r = ctl(binary, conf, "reload")
    check(r["reloaded"] is True and
          r["restart_needed"] == ["simpled.listen"], f"reload {r}")
    expect(dave.register("dave", password="dave"), 200, "Contact:",
           "dave registers once reloaded")
    expect(UA(port).register("alice"), 200, "Contact:",
           "the old listener still serves")
    open(conf, "w").write(text + "config user\n\toption name 'dave'\n"
                          "\toption nonsense 'x'\n")
    err = ctl(binary, conf, "reload", want_rc=1)
    check("simpled.conf:" in err and "nonsense" in err, err)
    expect(dave.register("dave", password="dave"), 200, "Contact:",
           "a bad file changed nothing: dave still exists")
    open(conf, "w").write(text)


def lines_until(w, text, timeout=8):
    """Lines of a watch process until one holds text (or the time is
    up): all of them."""
    got, buf, end = [], b"", time.time() + timeout
    fd = w.stdout.fileno()
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], end - time.time())
        if not r:
            break
        d = os.read(fd, 65536)
        if not d:
            break
        buf += d
        while b"\n" in buf:
            one, buf = buf.split(b"\n", 1)
            got.append(json.loads(one))
            if text in one.decode():
                return got
    return got


def remote(binary, conf, pub_port):
    """publish and subscribe for far.example (run.sh's ctl_remote, with
    sipp playing its servers): answered with the far end's code, ETag
    and Expires, refreshed, followed by watch, ended."""
    uri = "sip:router@far.example"
    hop = f"sip:127.0.0.1:{pub_port}"
    pidf = "application/pidf+xml"
    doc = ("<?xml version='1.0'?><presence xmlns='urn:ietf:params:xml:ns:"
           f"pidf' entity='{uri}'><tuple id='r'><status><basic>open</basic>"
           "</status><note>router is up</note></tuple></presence>")
    a = ctl(binary, conf, "publish", uri, "3", "presence", pidf, ".", ".",
            hop, "X-Origin: router-script", doc)
    check(a == {"code": 200, "etag": "etag-one", "expires": 3},
          f"remote publish {a}")
    p = ctl(binary, conf, "presentities")["outgoing"]
    check(len(p) == 1 and p[0]["uri"] == uri and
          p[0]["etag"] == "etag-one" and p[0]["expires"] <= 3,
          f"outgoing publications {p}")
    bob = "sip:bob@far.example"
    s = ctl(binary, conf, "subscribe", bob, f"alice@{DOMAIN}", "presence",
            "3")
    check(s == {"code": 200, "expires": 3}, f"remote subscribe {s}")
    w = subprocess.Popen([binary, "ctl", "-c", conf, "watch", bob],
                         stdout=subprocess.PIPE)
    got = lines_until(w, "bob is back")
    check(got and got[0].get("watching") == bob and
          got[0]["event"] == "presence", f"watch's first line {got[:1]}")
    check(any("bob is away" in g["state"] for g in got),
          f"the first NOTIFY, seen by watch {got}")
    check("bob is back" in got[-1]["state"] and
          got[-1]["presentity"] == bob and
          got[-1]["subscription_state"].startswith("active"),
          f"the NOTIFY after the refresh, seen by watch {got}")
    o = ctl(binary, conf, "subscriptions")["outgoing"]
    check(len(o) == 1 and o[0]["presentity"] == bob and
          o[0]["watcher"] == f"sip:alice@{DOMAIN}", f"outgoing subs {o}")
    # The publication was refreshed by then (at 2.4 s of 3): its ETag is
    # the refresh's.
    end = time.time() + 5
    while time.time() < end:
        p = ctl(binary, conf, "presentities")["outgoing"]
        if p and p[0]["etag"] == "etag-two":
            break
        time.sleep(0.2)
    check(p and p[0]["etag"] == "etag-two", f"refreshed publication {p}")
    c = ctl(binary, conf, "stats")["counters"]
    check(c["remote_refreshed"] >= 2 and c["remote_notifies"] >= 2,
          f"remote counters {c}")
    # Ended: expires 0 (the ETag held is sent, the dialog's last NOTIFY
    # is taken).
    a = ctl(binary, conf, "publish", uri, "0", "presence", ".", ".", ".",
            hop, ".", ".")
    check(a["code"] == 200 and a["expires"] == 0, f"remote removal {a}")
    s = ctl(binary, conf, "subscribe", bob, f"alice@{DOMAIN}", "presence",
            "0")
    check(s == {"code": 200, "expires": 0}, f"remote unsubscribe {s}")
    got = lines_until(w, "terminated")
    check(got and got[-1]["subscription_state"].startswith("terminated"),
          f"watch sees the end {got}")
    w.kill()
    w.wait()
    check(ctl(binary, conf, "presentities")["outgoing"] == [] and
          ctl(binary, conf, "subscriptions")["outgoing"] == [],
          "nothing outgoing is left")
    # Refusals.
    for args, want in ((("subscribe", f"sip:carol@{DOMAIN}",
                         f"alice@{DOMAIN}", "presence", "60"),
                        "needs no subscription"),
                       (("subscribe", bob, "mallory@elsewhere.example",
                         "presence", "60"), "not a user of a domain"),
                       (("subscribe", bob, f"alice@{DOMAIN}", "presence",
                         "0"), "no such subscription"),
                       (("watch", "sip:nobody@far.example"),
                        "subscribe makes one"),
                       (("publish", uri, "60", "presence", pidf, ".", ".",
                         ".", "X-Bad: a\r\n\r\nbody", doc),
                        "header line")):
        err = ctl(binary, conf, *args, want_rc=1)
        check(want in err, f"{args}: {err}")


def main():
    if sys.argv[1] == "load":
        load(sys.argv[2])
        return
    if sys.argv[1] == "remote":
        remote(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
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
    if "offline" in v["features"]:
        st = s["store"]
        check(0 < st["used"] < st["map"] == 16384 * 1024, f"store {st}")

    cfg = ctl(binary, conf, "config")
    text = json.dumps(cfg)
    check("wonder" not in text and "hunter2" not in text,
          "a password in ctl config")
    users = [x for x in cfg["sections"] if x["section"] == "user"]
    check(len(users) == 4 and all(u["password"] in ("(hidden)", "") and
                                   u["ha1"] in ("(hidden)", "")
                                   for u in users), f"users {users}")
    bob = [u for u in users if u["name"] == "bob"][0]
    check(bob["ha1"] == "(hidden)", "bob's ha1 is set, and hidden")
    main_s = [x for x in cfg["sections"] if x["section"] == "simpled"][0]
    check(main_s["domain"] == [DOMAIN] and main_s["open_registration"] == 0,
          f"main section {main_s}")

    services(binary, conf, v["features"], port, alice, sock_path)

    reload(binary, conf, port)

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
    expect(UA(port).register("alice"), 200, "Contact:", "SIP while busy")
    for s in held:
        s.close()
    time.sleep(0.2)
    check(ctl(binary, conf, "version")["version"], "served again")
    s = ctl(binary, conf, "stats")["counters"]
    check(s["ctl_busy"] >= 1 and s["ctl_errors"] >= 6, f"ctl counters {s}")


if __name__ == "__main__":
    main()
