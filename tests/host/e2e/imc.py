#!/usr/bin/env python3
"""Chat room checks against the real daemon, loopback only. Usage:
  imc.py flows PORT           commands, roles, private rooms, history,
                              offline member
  imc.py fanout_setup PORT    room 'lobby' with bob, u1, u2, u3 for sipp
  imc.py before PORT          a room with an offline member, and one with
                              history, before restart
  imc.py after PORT           the rooms, the stored message and the history
                              survived
"""
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from offline import UA, DOMAIN, check, status, body  # noqa

# Rooms live in their own domain (rooms_domain unset); the manager is a
# user name of the served domain.
ROOMS = "conference." + DOMAIN
MANAGER = "chat"


class User(UA):
    def __init__(self, port, name, register=True):
        super().__init__(port)
        self.name = name
        self.inbox = []
        if register:
            check(status(self.register(name)) == 200, f"register {name}")

    def pump(self, wait=0.3):
        """Answer and keep every MESSAGE that arrives within wait s."""
        end = time.time() + wait
        while time.time() < end:
            m = self.recv(end - time.time())
            if m and m.startswith("MESSAGE"):
                self.answer(m, 200)
                self.inbox.append(m)

    def said(self, text):
        self.pump()
        return any(text in body(m) for m in self.inbox)

    def cmd(self, to, text):
        """MESSAGE to the manager or the room called to."""
        r = None
        host = DOMAIN if to == MANAGER else ROOMS
        tok = self.request("MESSAGE", f"sip:{to}@{host}", f"{to}@{host}",
                           body=text, user=self.name)
        end = time.time() + 3
        while time.time() < end:
            m = self.recv(end - time.time())
            if m is None:
                break
            if m.startswith("MESSAGE"):
                self.answer(m, 200)
                self.inbox.append(m)
            elif f"Call-ID: {tok}@py" in m:
                r = m
                break
        return status(r), body(r)


def flows(port):
    alice, bob = User(port, "alice"), User(port, "bob")
    carol, dave = User(port, "carol"), User(port, "dave")
    code, text = alice.cmd("chat", "#create lobby")
    check(code == 200 and "Room lobby created (public)" in text and
          f"sip:lobby@{ROOMS}" in text, text)
    # A room named like a user does not take the user's messages.
    code, text = alice.cmd("chat", "#create bob")
    check(code == 200, text)
    tok = alice.request("MESSAGE", f"sip:bob@{DOMAIN}", f"bob@{DOMAIN}",
                        body="direct to bob", user="alice")
    check(bob.said("direct to bob"), "a room took a user's message")
    r = alice.recv(3)
    while r and f"Call-ID: {tok}@py" not in r:
        r = alice.recv(3)
    check(status(r) == 200, f"MESSAGE to bob: {r}")
    code, _ = alice.cmd("bob", "#destroy")
    check(code == 200, "destroy room bob")
    # The manager's name is reserved.
    check(status(UA(port).register("chat")) == 403, "REGISTER chat")
    code, text = bob.cmd("lobby", "#join")
    check(code == 200 and "You joined lobby" in text, text)
    check(alice.said("bob@" + DOMAIN + " joined lobby."), "join announced")
    code, _ = bob.cmd("lobby", "first words")
    check(code == 200 and alice.said("[bob]: first words"), "fan-out")
    # invite / accept, with history replay.
    code, text = alice.cmd("lobby", "#invite carol")
    check(code == 200 and carol.said("invites you to lobby"), "invite")
    code, text = carol.cmd("lobby", "#accept")
    check(code == 200 and carol.said("[bob]: first words"), "history replay")
    # reject, private room, owners told of the attempt.
    code, _ = alice.cmd("chat", "#create secret private")
    check(code == 200, "private create")
    code, text = dave.cmd("secret", "#join")
    check(code == 403 and "private" in text, text)
    check(alice.said("dave@" + DOMAIN + " asked to join"), "owners told")
    code, _ = alice.cmd("secret", "#invite dave")
    code, _ = dave.cmd("secret", "#reject")
    check(code == 200 and alice.said("declined"), "reject")
    code, text = dave.cmd("chat", "#rooms")
    check(code == 200 and "lobby" in text and "secret" not in text, text)
    # add, modify, remove, members.
    code, _ = alice.cmd("lobby", "#add dave")
    check(code == 200, "add")
    code, _ = alice.cmd("lobby", "#modify carol admin")
    check(code == 200, "modify")
    code, text = carol.cmd("lobby", "#remove dave")
    check(code == 200 and dave.said("You were removed from lobby"), text)
    code, text = dave.cmd("lobby", "#members")
    check(code == 403 and "not a member" in text, text)
    code, text = carol.cmd("lobby", "#members")
    check(code == 200 and "carol@" + DOMAIN + " (admin)" in text, text)
    # leave hands ownership to the admin; destroy by the new owner.
    code, _ = alice.cmd("chat", "#create tmp")
    code, _ = alice.cmd("tmp", "#add bob")
    code, _ = alice.cmd("tmp", "#modify bob admin")
    code, text = alice.cmd("tmp", "#leave")
    check(code == 200 and bob.said("is now owner of tmp"), text)
    code, text = bob.cmd("tmp", "#destroy")
    check(code == 200, text)
    code, text = bob.cmd("chat", "#members tmp")
    check(code == 404 and "No such room: tmp" in text,
          f"destroyed room still there: {text}")
    # An offline member gets room messages after registering.
    code, _ = alice.cmd("lobby", "#add erin")
    code, _ = bob.cmd("lobby", "while erin sleeps")
    erin = User(port, "erin")
    erin.pump(1.5)
    check(any("[bob]: while erin sleeps" in body(m) for m in erin.inbox),
          "offline member")


def fanout_setup(port):
    """lobby with bob and u1..u3 (not registered yet; run with
    offline_members 0 so that nothing waits for them)."""
    alice = User(port, "alice")
    code, _ = alice.cmd("chat", "#create lobby")
    check(code == 200, "create lobby")
    for u in ("bob", "u1", "u2", "u3"):
        code, _ = alice.cmd("lobby", f"#add {u}")
        check(code == 200, f"add {u}")


def before(port):
    alice = User(port, "alice")
    code, _ = alice.cmd("chat", "#create keep private")
    check(code == 200, "create keep")
    alice.cmd("keep", "#add frank")
    code, _ = alice.cmd("keep", "kept for frank")
    check(code == 200, "message to keep")
    code, _ = alice.cmd("chat", "#create hist")
    code, _ = alice.cmd("hist", "said before the restart")
    check(code == 200, "message to hist")


def after(port):
    alice = User(port, "alice")
    code, text = alice.cmd("keep", "#members")
    check(code == 200 and "frank@" + DOMAIN + " (member)" in text and
          "alice@" + DOMAIN + " (owner)" in text, text)
    code, text = alice.cmd("chat", "#rooms")
    check("keep [private]" in text, text)
    frank = User(port, "frank")
    frank.pump(2)
    check(any("[alice]: kept for frank" in body(m) for m in frank.inbox),
          "stored room message after restart")
    # The room's history came through the restart too.
    code, _ = frank.cmd("hist", "#join")
    check(code == 200 and frank.said("[alice]: said before the restart"),
          "history replayed after restart")


if __name__ == "__main__":
    {"flows": flows, "before": before, "after": after,
     "fanout_setup": fanout_setup}[sys.argv[1]](
        int(sys.argv[2]))
