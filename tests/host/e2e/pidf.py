#!/usr/bin/env python3
"""Aggregation against a real XML parser: documents that PUBLISH takes,
written to trip a splicer (markup after the root, one prefix bound two
ways, one namespace under several prefixes, a presentity URI with '&'),
must reach the watcher as one PIDF document that Python's namespace-aware
parser (expat) accepts, each name in the namespace its document gave it.
Loopback only. Usage: pidf.py PORT
"""
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, __import__("os").path.dirname(__file__))
from offline import DOMAIN, check, status, body  # noqa: E402
from presence import Watcher, UA, publish  # noqa: E402

PIDF = "urn:ietf:params:xml:ns:pidf"
DM = "urn:ietf:params:xml:ns:pidf:data-model"
OTHER = "urn:example:other"
USER = "a&b"

DOCS = [
    # Markup after the root that holds "</".
    f'<?xml version="1.0" encoding="UTF-8"?>\n<presence xmlns="{PIDF}" '
    f'entity="sip:a&amp;b@{DOMAIN}"><tuple id="t1"><status><basic>open'
    f'</basic></status></tuple></presence>\n<!-- </presence> -->'
    f'<?pi </tuple>?>\n',
    # dm is the data model here...
    f'<presence xmlns="{PIDF}" xmlns:dm="{DM}"><dm:person id="p1"/>'
    f'</presence>',
    # ...and another namespace here, where d is the data model.
    f'<presence xmlns="{PIDF}" xmlns:dm="{OTHER}" xmlns:d="{DM}">'
    f'<tuple id="t2"><status><basic>closed</basic></status></tuple>'
    f'<dm:x dm:a="1" d:a="2"/><d:device id="d1"/></presence>',
    # A prefixed root and a default namespace that is not PIDF's.
    f"<p:presence xmlns:p='{PIDF}' xmlns='{OTHER}' xmlns:data='{DM}'>"
    f"<p:tuple id='t3'><p:status><p:basic>closed</p:basic></p:status>"
    f"<e/></p:tuple><data:person id='p2'/></p:presence>",
]


def main(port):
    alice = UA(port)
    alice.pending = []
    for doc in DOCS:
        r = publish(alice, USER, doc, expires=600)
        check(status(r) == 200, f"publish: {r!r}\n{doc}")
    w = Watcher(port, "bob")
    r = w.subscribe(USER)
    check(status(r) == 200, f"subscribe: {r!r}")
    n = w.notify()
    check(n is not None, "no NOTIFY")
    b = body(n)
    try:
        root = ET.fromstring(b.encode())
    except ET.ParseError as e:
        check(False, f"NOTIFY body refused by expat ({e}):\n{b}")
    check(root.tag == f"{{{PIDF}}}presence", f"root {root.tag}")
    check(root.get("entity") == f"sip:{USER}@{DOMAIN}",
          f"entity {root.get('entity')!r}")
    ids = sorted(t.get("id") for t in root.findall(f"{{{PIDF}}}tuple"))
    check(ids == ["t1", "t2", "t3"], f"tuples {ids}")
    persons = sorted(p.get("id") for p in root.findall(f"{{{DM}}}person"))
    check(persons == ["p1", "p2"], f"persons {persons}")
    x = root.find(f"{{{OTHER}}}x")
    check(x is not None and x.get(f"{{{OTHER}}}a") == "1" and
          x.get(f"{{{DM}}}a") == "2", f"dm:x of the third document: {b}")
    check(root.find(f"{{{DM}}}device") is not None, "d:device")
    check(root.find(f"{{{PIDF}}}tuple/{{{OTHER}}}e") is not None,
          f"<e/> in its document's default namespace: {b}")
    w.subscribe(USER, expires=0)


if __name__ == "__main__":
    main(int(sys.argv[1]))
