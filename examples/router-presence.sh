#!/bin/sh
# The router's health as the presence of sip:router@DOMAIN, published
# through `simpled ctl publish` (pua_mi's pua_publish) every INTERVAL
# seconds: uptime, load and whether the WAN has a default route, as the
# note of a PIDF document. Any SIP client that watches router@DOMAIN (or
# `simpled ctl watch sip:router@DOMAIN`) sees it change.
#
#   examples/router-presence.sh [-c /etc/config/simpled] [-d DOMAIN]
#                               [-i INTERVAL] [--once]
#
# The account `router` needs no password for this: the control socket's
# file permissions are what authorizes it. POSIX sh (OpenWrt's ash).
set -eu

conf=/etc/config/simpled
domain=
interval=60
once=0
while [ $# -gt 0 ]; do
	case "$1" in
	-c) conf=$2; shift 2 ;;
	-d) domain=$2; shift 2 ;;
	-i) interval=$2; shift 2 ;;
	--once) once=1; shift ;;
	*) echo "usage: $0 [-c FILE] [-d DOMAIN] [-i SECONDS] [--once]" >&2
	   exit 2 ;;
	esac
done
simpled=${SIMPLED:-simpled}
if [ -z "$domain" ]; then
	# The first served domain of the running daemon's configuration.
	domain=$("$simpled" ctl -c "$conf" config |
		sed -n 's/.*"section":"simpled","domain":\["\([^"]*\)".*/\1/p')
fi
[ -n "$domain" ] || { echo "$0: no domain (give -d)" >&2; exit 1; }
uri="sip:router@$domain"

state() {
	up=$(cut -d' ' -f1 /proc/uptime | cut -d. -f1)
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	if grep -q '^[^	]*	00000000	' /proc/net/route 2>/dev/null; then
		wan=up basic=open
	else
		wan=down basic=closed
	fi
	printf '%s' "<?xml version='1.0'?><presence xmlns='urn:ietf:params:xml:ns:pidf' entity='$uri'><tuple id='health'><status><basic>$basic</basic></status><note>uptime ${up}s, load $load, wan $wan</note></tuple></presence>"
}

while :; do
	# id "health": each publish replaces the last one's document; it
	# lives three intervals, so a stopped script lets it expire.
	state | "$simpled" ctl -c "$conf" publish "$uri" $((interval * 3)) \
		presence application/pidf+xml health . . -
	[ "$once" = 1 ] && break
	sleep "$interval"
done
