#!/usr/bin/env bash
# End-to-end tests: start the real simpled on a free loopback port and
# drive it with sipp, sipsak and raw sockets. One case per invocation:
#   run.sh CASE /path/to/simpled
# Exit 0 when the case passed. Traffic stays on 127.0.0.1 / ::1.
set -u
case=${1:?case}
bin=${2:?simpled binary}
here=$(cd "$(dirname "$0")" && pwd)
sc=$here/scenarios
work=$(mktemp -d "${TMPDIR:-/tmp}/e2e-$case.XXXXXX")
domain=simpled.test
pid=
PY=/usr/bin/python3

# Daemons started in the background (no -f) by this case: found by their
# configuration path, unique to this run.
bg_pids() {
	pgrep -f -- "-c $work/bg.conf" 2>/dev/null
}

# running PID: the process exists and has not exited (not a zombie).
running() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}

cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	for p in $(bg_pids); do
		kill -TERM "$p" 2>/dev/null
	done
}
trap cleanup EXIT

fail() {
	echo "FAIL [$case]: $*" >&2
	[ -f "$work/simpled.log" ] && tail -n 30 "$work/simpled.log" >&2
	exit 1
}

# A port free for both UDP and TCP on 127.0.0.1; free_port 2: one whose
# next port is free for TCP too (baresip listens for TLS on port + 1).
free_port() {
	$PY - "${1:-1}" <<'PY'
import socket
import sys
span = int(sys.argv[1])
for _ in range(100):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    p = u.getsockname()[1]
    held = []
    try:
        for q in range(p, p + span):
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(t)
            t.bind(("127.0.0.1", q))
    except (OSError, OverflowError):
        continue
    print(p)
    break
PY
}

# start_daemon [extra UCI lines]: config on $port, wait until it listens.
start_daemon() {
	port=$(free_port)
	cat > "$work/simpled.conf" <<CONF
config simpled 'main'
	list domain '$domain'
	list listen 'udp:127.0.0.1:$port'
	list listen 'tcp:127.0.0.1:$port'
	list listen 'udp:[::1]:$port'
	option state_dir '$work/state'
	option log_level 'debug'
	option open_registration '1'
	# Hermetic: no query to the host's name servers.
	option resolve_contacts '0'
${1:-}
CONF
	"$bin" -f -c "$work/simpled.conf" > "$work/stdout.log" \
		2> "$work/simpled.log" &
	pid=$!
	for _ in $(seq 1 100); do
		grep -q "serving $domain" "$work/simpled.log" && return 0
		kill -0 "$pid" 2>/dev/null || fail "daemon exited at start"
		sleep 0.05
	done
	fail "daemon did not start"
}

# SIGTERM; the daemon must exit 0 (under ASan this includes the leak
# check at exit).
stop_daemon() {
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	pid=
	[ $rc -eq 0 ] || fail "daemon exit status $rc after SIGTERM"
}

# Start it again (stopped) on the same port and configuration.
start_again() {
	local was
	was=$(grep -c "serving $domain" "$work/simpled.log")
	"$bin" -f -c "$work/simpled.conf" >> "$work/stdout.log" \
		2>> "$work/simpled.log" &
	pid=$!
	for _ in $(seq 1 100); do
		[ "$(grep -c "serving $domain" "$work/simpled.log")" -gt "$was" ] &&
			return 0
		kill -0 "$pid" 2>/dev/null || fail "daemon exited at restart"
		sleep 0.05
	done
	fail "daemon did not restart"
}

# Stop it cleanly and start it again on the same port and state.
restart_daemon() {
	stop_daemon
	start_again
}

alive() {
	kill -0 "$pid" 2>/dev/null || fail "daemon died"
}

# sipp_run SCENARIO [sipp options...]: one run in the foreground.
# sipp's own port is a free one unless the caller names it: its default,
# 5060, is shared by every case running at the same time.
sipp_run() {
	local s=$1 own=""
	shift
	case "$s" in /*) ;; *) s=$sc/$s ;; esac
	case " $* " in *" -p "*) ;; *) own="-p $(free_port)" ;; esac
	# shellcheck disable=SC2086 # $own is empty or two words
	(cd "$work" && sipp "127.0.0.1:$port" -sf "$s" -nostdin $own \
		-i 127.0.0.1 -timeout 30 -timeout_error -set domain "$domain" \
		-trace_err "$@" > "$work/sipp-${s##*/}.out" 2>&1) ||
		{ cat "$work"/*errors.log 2>/dev/null | tail -n 40 >&2
		  fail "sipp $s failed"; }
}

# What this build has (its --version line) and the scenarios that depend
# on it: Allow lists PUBLISH and SUBSCRIBE only with presence, NOTIFY
# only with ctl (its subscriptions to other domains), and a
# MESSAGE for an unregistered user is stored (202) only with offline.
features=$("$bin" --version)
has() {
	case "$features" in *" $1"*) return 0 ;; esac
	return 1
}
allow="REGISTER, MESSAGE"
has presence && allow="$allow, PUBLISH, SUBSCRIBE"
has ctl && allow="$allow, NOTIFY"
allow="$allow, OPTIONS"
sed "s/REGISTER, MESSAGE, PUBLISH, SUBSCRIBE, OPTIONS/$allow/" \
	"$sc/options.xml" > "$work/options.xml"
if has offline; then
	cp "$sc/message_offline.xml" "$work/message_unreachable.xml"
else
	sed 's/response="202"/response="480"/; s/202 Accepted/480 User not online/' \
		"$sc/message_offline.xml" > "$work/message_unreachable.xml"
fi

raw() {
	$PY "$here/rawsip.py" "$@" || fail "rawsip $*"
}

case "$case" in
options)
	start_daemon
	sipp_run "$work/options.xml" -m 1
	sipp_run "$work/options.xml" -m 1 -t t1
	raw options6 "$port"
	;;
register)
	start_daemon
	sipp_run register.xml -m 1 -set user alice
	sipp_run register.xml -m 1 -set user bob -t t1
	alive
	;;
auth_clients|auth_attacks|auth_order)
	# Accounts, challenges on (open_registration 0), a nonce good for
	# 10 s and an address refused after 3 failures.
	order=""
	[ "$case" = auth_order ] && order="
config auth
	list algorithms 'SHA-256'
	list algorithms 'MD5'"
	start_daemon "config simpled 'main'
	option open_registration '0'
	option outbound_proxy 'sip:127.0.0.1:9'
config auth
	option nonce_expires '10'
	option max_failures '3'
config user
	option name 'alice'
	option password 'wonder'
$(echo hunter2 | "$bin" passwd bob "$domain")
config user
	option name 'eve'
	option password 'evil'$order"
	$PY "$here/auth.py" "${case#auth_}" "$port" || fail "auth ${case#auth_}"
	if [ "$case" = auth_clients ]; then
		# sipp's own digest (MD5) for REGISTER (401) and MESSAGE (407).
		sipp_run register_auth.xml -m 1 -set user alice -au alice \
			-ap wonder
		grep -Eq "authentication failed for eve@$domain from 127\.0\.0\.[0-9]+: Wrong user name or password" \
			"$work/simpled.log" || fail "no log line for a failed attempt"
	fi
	alive
	;;
ctl)
	# The control socket: every command, bad requests, busy, secrets.
	start_daemon "config simpled 'main'
	option open_registration '0'
config user
	option name 'alice'
	option password 'wonder'
config user
	option name 'carol'
	option password 'carol'
config user
	option name 'router'
	option password 'unused'
$(echo hunter2 | "$bin" passwd bob "$domain")
$(has offline && printf "config offline\n\toption expire_time '2'\n")"
	chmod 600 "$work/simpled.conf"
	$PY "$here/ctl.py" "$bin" "$work/simpled.conf" "$work/state/ctl.sock" \
		"$port" || fail "ctl"
	# SIGHUP reloads as `ctl reload` does.
	kill -HUP "$pid"
	for _ in $(seq 1 50); do
		grep -q "reloaded $work/simpled.conf" "$work/simpled.log" && break
		sleep 0.05
	done
	grep -q "reloaded $work/simpled.conf" "$work/simpled.log" ||
		fail "SIGHUP did not reload"
	alive
	stop_daemon
	[ -e "$work/state/ctl.sock" ] && fail "ctl.sock left after stop"
	if has offline; then
		# The backup, put in place of a new state directory's store,
		# holds the message stored just before it.
		mkdir "$work/restored"
		cp "$work/backup.mdb" "$work/restored/data.mdb"
		sed -i "s|option state_dir '$work/state'|option state_dir '$work/restored'|" \
			"$work/simpled.conf"
		start_again
		"$bin" ctl -c "$work/simpled.conf" offline "carol@$domain" |
			grep -q '"stored":1' || fail "the backup lost a message"
		stop_daemon
	fi
	# A file that is not a socket at the socket's path is left alone
	# and the daemon does not start.
	echo keep > "$work/victim"
	printf "config ctl\n\toption socket '%s'\n" "$work/victim" \
		>> "$work/simpled.conf"
	"$bin" -f -c "$work/simpled.conf" > /dev/null 2> "$work/victim.log" &&
		fail "started with a file in the socket's way"
	grep -q "not a socket is in the way" "$work/victim.log" ||
		fail "no reason given: $(cat "$work/victim.log")"
	[ "$(cat "$work/victim")" = keep ] || fail "the file was removed"
	;;
ctl_remote)
	# ctl publish and subscribe for another domain: two sipp servers of
	# far.example, one reached by publish's own next-hop field (pua_mi's
	# 9th), one as the outbound proxy; each challenges once (407, 401)
	# and sees its refresh before the 3 s granted run out.
	pub_port=$(free_port)
	sub_port=$(free_port)
	start_daemon "	option outbound_proxy 'sip:127.0.0.1:$sub_port'
config upstream
	option username 'router'
	option password 's3cret'
	option realm 'far.example'"
	( sipp_run pua_publish_uas.xml -p "$pub_port" -m 1 ) &
	sp1=$!
	( sipp_run pua_subscribe_uas.xml -p "$sub_port" -m 1 ) &
	sp2=$!
	sleep 0.5
	$PY "$here/ctl.py" remote "$bin" "$work/simpled.conf" "$pub_port" ||
		fail "ctl remote"
	wait "$sp1" || fail "the publication's server saw otherwise"
	wait "$sp2" || fail "the subscription's server saw otherwise"
	alive
	;;
ctl_load)
	# 50 control clients at once while sipp sends 2000 REGISTERs (100
	# users) at 400/s: each client gets its answer or a JSON busy error
	# within 2 s, and sipp sees no failure.
	start_daemon
	{ echo SEQUENTIAL; for i in $(seq 1 100); do echo "u$i"; done; } \
		> "$work/users.csv"
	( sipp_run reg_flood_ok.xml -m 2000 -r 400 -inf "$work/users.csv" ) &
	sp=$!
	sleep 1
	$PY "$here/ctl.py" load "$work/state/ctl.sock" || fail "ctl load"
	wait "$sp" || fail "sipp failed beside 50 control clients"
	alive
	;;
tls_clients|tls_flood|tls_renew)
	# A certificate made now, the accounts of auth.py, a TLS listener;
	# the flood case caps TLS memory at 256 KB (about 6 connections).
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 2 \
		-subj "/CN=$domain" 2>/dev/null || fail "openssl req"
	chmod 600 "$work/key.pem"
	tport=$(free_port)
	mem=""
	[ "$case" = tls_flood ] && mem="
	option memory_kb '256'
	option handshake_limit '5'"
	start_daemon "config simpled 'main'
	option open_registration '0'
	list listen 'tls:127.0.0.1:$tport'
config tls
	option certificate '$work/cert.pem'
	option private_key '$work/key.pem'$mem
config user
	option name 'alice'
	option password 'wonder'
config user
	option name 'bob'
	option password 'hunter2'"
	chmod 600 "$work/simpled.conf"
	SIMPLED=$bin SIMPLED_CONF=$work/simpled.conf \
		$PY "$here/tls.py" "${case#tls_}" "$port" "$tport" \
		"$work/cert.pem" || fail "tls ${case#tls_}"
	if [ "$case" = tls_flood ]; then
		grep -q "no memory for one more TLS" \
			"$work/simpled.log" || fail "memory_kb never refused one"
	fi
	alive
	stop_daemon
	;;
baresip|baresip_tls|baresip_devices)
	# A real client: Debian's baresip (libre 1.x) as alice, whose
	# account keeps only the MD5 hash, so she is offered MD5 alone (libre
	# gives up on any other challenge); bob, a client of auth.py, uses
	# SHA-256. alice registers with her password, and a MESSAGE goes each
	# way through the daemon. baresip_tls: alice over TLS, trusting the
	# certificate made here, and bob's MESSAGE reaches her over her
	# connection. baresip_devices: alice has a second device with an
	# instance (devices.py peer): baresip's MESSAGE reaches it as a sent
	# copy, bob's reaches both.
	tp=udp
	tls=""
	cafile=""
	if [ "$case" = baresip_tls ]; then
		openssl req -x509 -newkey ec \
			-pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$work/key.pem" -out "$work/cert.pem" -days 2 \
			-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
			2>/dev/null || fail "openssl req"
		chmod 600 "$work/key.pem"
		tp=tls
		tport=$(free_port)
		tls="
	list listen 'tls:127.0.0.1:$tport'
config tls
	option certificate '$work/cert.pem'
	option private_key '$work/key.pem'"
		cafile="sip_cafile		$work/cert.pem"
	fi
	start_daemon "config simpled 'main'
	option open_registration '0'$tls
$(echo wonder | "$bin" passwd alice "$domain" | grep -v ha1_sha256)
config user
	option name 'bob'
	option password 'hunter2'"
	mkdir -p "$work/alice"
	cat > "$work/alice/config" <<CONF
poll_method		epoll
sip_listen		127.0.0.1:$(free_port 2)
module_path		/usr/lib/baresip/modules
module			stdio.so
module_tmp		account.so
module_app		contact.so
module_app		menu.so
$cafile
CONF
	printf '<sip:alice@%s>;auth_pass=wonder;outbound="sip:127.0.0.1:%s;transport=%s";regint=600\n' \
		"$domain" "${tport:-$port}" "$tp" > "$work/alice/accounts"
	printf '<sip:bob@%s>\n' "$domain" > "$work/alice/contacts"
	printf 'sip:bob@%s\n' "$domain" > "$work/alice/current_contact"
	if [ "$case" = baresip_devices ]; then
		$PY "$here/devices.py" peer "$port" > "$work/peer.out" 2>&1 &
	else
		$PY "$here/auth.py" peer "$port" > "$work/peer.out" 2>&1 &
	fi
	peer=$!
	for _ in $(seq 1 50); do
		grep -q registered "$work/peer.out" && break
		sleep 0.1
	done
	# Each step waits for what it needs (a loaded machine, ASan): the
	# MESSAGE once baresip says it registered, /quit once bob's reached
	# it (or after 20 s).
	(
		for _ in $(seq 1 200); do
			grep -q "registered successfully" "$work/baresip.out" \
				2>/dev/null && break
			sleep 0.1
		done
		echo "/message hello from baresip"
		for _ in $(seq 1 200); do
			grep -q "hello from bob" "$work/baresip.out" && break
			sleep 0.1
		done
		sleep 0.5
		echo "/quit"
	) | timeout 40 baresip -f "$work/alice" > "$work/baresip.out" 2>&1
	wait "$peer" || { cat "$work/peer.out" >&2; fail "bob and baresip"; }
	grep -q "useragent registered successfully" "$work/baresip.out" ||
		fail "baresip did not register: $(grep -a reg: "$work/baresip.out")"
	grep -q "sip:bob@$domain: \"hello from bob\"" "$work/baresip.out" ||
		fail "baresip did not show bob's message"
	if [ "$case" = baresip_tls ]; then
		# baresip names the transport of its REGISTER's answer.
		grep -q "alice@$domain: {0/TLS/v4} 200 OK" "$work/baresip.out" ||
			fail "baresip did not register over TLS"
	fi
	alive
	;;
malformed)
	start_daemon
	sipp_run malformed.xml -m 1
	raw garbage "$port"
	raw tcp_framing "$port"
	raw tcp_too_large "$port"
	raw tcp_reply_after_close "$port"
	raw big_over_tcp "$port"
	alive
	;;
message)
	start_daemon
	uas_port=$(free_port)
	(cd "$work" && sipp "127.0.0.1:$port" -sf "$sc/message_uas.xml" \
		-nostdin -i 127.0.0.1 -p "$uas_port" -m 1 -timeout 30 \
		-timeout_error > "$work/uas.out" 2>&1) &
	uas=$!
	bob_port=$(free_port)
	sipp_run reg_contact.xml -m 1 -set user alice -set cport "$uas_port"
	sipp_run reg_contact.xml -m 1 -set user bob -set cport "$bob_port"
	sipp_run message_send.xml -m 1 -set to alice -p "$bob_port"
	wait "$uas" || fail "alice's agent did not get the MESSAGE"
	sipp_run "$work/message_unreachable.xml" -m 1 -set to carol
	;;
flood)
	start_daemon "config limits
	option bindings '20'
	option aors '20'"
	{ echo SEQUENTIAL; for i in $(seq 1 20); do echo "user$i"; done; } \
		> "$work/ok.csv"
	{ echo SEQUENTIAL; for i in $(seq 21 60); do echo "user$i"; done; } \
		> "$work/busy.csv"
	sipp_run reg_flood_ok.xml -m 20 -r 200 -inf "$work/ok.csv"
	sipp_run reg_flood_busy.xml -m 40 -r 400 -inf "$work/busy.csv"
	alive
	sipp_run "$work/options.xml" -m 1
	;;
offline)
	start_daemon "config offline
	option max_messages '2'
	option max_tries '2'
	option retry_interval '1'
	option check_time '1'
	option clean_period '1'"
	sipp_run message_offline.xml -m 1 -set to carol
	uas_port=$(free_port)
	(cd "$work" && sipp "127.0.0.1:$port" -sf "$sc/offline_uas.xml" \
		-nostdin -i 127.0.0.1 -p "$uas_port" -m 1 -timeout 30 \
		-timeout_error > "$work/uas.out" 2>&1) &
	uas=$!
	sipp_run reg_contact.xml -m 1 -set user carol -set cport "$uas_port"
	wait "$uas" || fail "carol did not get her stored MESSAGE"
	$PY "$here/offline.py" rules "$port" || fail "offline rules"
	;;
tcpslow)
	start_daemon
	$PY "$here/tcpslow.py" "$port" || fail "slow TCP clients"
	alive
	;;
deadcontact)
	start_daemon
	$PY "$here/offline.py" dead "$port" || fail "dead contacts"
	;;
devices)
	$PY "$here/devices.py" "$bin" "$work" || fail "devices"
	;;
devices_sipp)
	# Two sipp agents as alice's devices A and B (two instances): bob's
	# MESSAGE reaches both; B unregisters, the next reaches A, and B
	# gets it from the store when it registers again.
	start_daemon
	pa=$(free_port)
	pb=$(free_port)
	ia=aaaaaaaa-0000-1000-8000-00000000000a
	ib=bbbbbbbb-0000-1000-8000-00000000000b
	device() { # PORT CALLS: an agent answering CALLS MESSAGEs
		(cd "$work" && sipp "127.0.0.1:$port" -sf "$sc/device_uas.xml" \
			-nostdin -i 127.0.0.1 -p "$1" -m "$2" -timeout 30 \
			-timeout_error > "$work/device-$1-$3.out" 2>&1)
	}
	device "$pa" 2 1 &
	ua=$!
	device "$pb" 1 1 &
	ub=$!
	sipp_run reg_device.xml -m 1 -set user alice -set cport "$pa" \
		-set inst "$ia" -set expires 600
	sipp_run reg_device.xml -m 1 -set user alice -set cport "$pb" \
		-set inst "$ib" -set expires 600
	sipp_run message_send.xml -m 1 -set to alice
	wait "$ub" || fail "device B did not get the MESSAGE"
	sipp_run reg_device.xml -m 1 -set user alice -set cport "$pb" \
		-set inst "$ib" -set expires 0
	sipp_run message_send.xml -m 1 -set to alice
	wait "$ua" || fail "device A did not get both MESSAGEs"
	device "$pb" 1 2 &
	ub=$!
	sipp_run reg_device.xml -m 1 -set user alice -set cport "$pb" \
		-set inst "$ib" -set expires 600
	wait "$ub" || fail "device B did not get what came while it was off"
	alive
	;;
durability)
	# Group commit at the end of each loop turn, and in a 20 ms window.
	$PY "$here/offline.py" durability "$bin" "$work" 0 ||
		fail "durability, commit at the end of the turn"
	$PY "$here/offline.py" durability "$bin" "$work" 20 ||
		fail "durability, 20 ms commit window"
	;;
fullstore)
	start_daemon "config storage
	option map_size_kb '256'"
	$PY "$here/offline.py" full "$port" || fail "full store"
	;;
presence)
	start_daemon
	# alice publishes (ETag cycle) and pauses; two watchers subscribe
	# and see her open; she removes her document and both see closed,
	# then unsubscribe and get the final NOTIFY.
	(cd "$work" && sipp "127.0.0.1:$port" -sf "$sc/pres_publish.xml" \
		-nostdin -i 127.0.0.1 -p "$(free_port)" -m 1 -timeout 30 \
		-timeout_error \
		-set domain "$domain" -set user alice -trace_err \
		> "$work/publish.out" 2>&1) &
	pub=$!
	sleep 0.7
	watchers=""
	for w in bob carol; do
		(cd "$work" && sipp "127.0.0.1:$port" -sf "$sc/pres_watch.xml" \
			-nostdin -i 127.0.0.1 -p "$(free_port)" -m 1 -timeout 30 \
			-timeout_error -set domain "$domain" -set user "$w" \
			-set to alice -trace_err > "$work/watch-$w.out" 2>&1) &
		watchers="$watchers $!"
	done
	wait "$pub" || { cat "$work"/*errors.log >&2; fail "publisher failed"; }
	for w in $watchers; do
		wait "$w" || { cat "$work"/*errors.log >&2; fail "a watcher failed"; }
	done
	$PY "$here/presence.py" rules "$port" || fail "presence rules"
	;;
presence_pidf)
	start_daemon
	$PY "$here/pidf.py" "$port" || fail "aggregate refused by expat"
	;;
presence_restart)
	start_daemon
	$PY "$here/presence.py" before "$port" "$work/pres.json" ||
		fail "before restart"
	restart_daemon
	$PY "$here/presence.py" after "$port" "$work/pres.json" ||
		fail "after restart"
	;;
imc)
	start_daemon
	$PY "$here/imc.py" flows "$port" || fail "room flows"
	;;
imc_fanout)
	start_daemon "config imc
	option offline_members '0'"
	$PY "$here/imc.py" fanout_setup "$port" || fail "room setup"
	# Three sipp agents are members u1..u3 of lobby; bob's message from a
	# fourth sipp agent fans out to each of them.
	agents=""
	for u in u1 u2 u3; do
		p=$(free_port)
		(cd "$work" && sipp "127.0.0.1:$port" -sf "$sc/imc_uas.xml" \
			-nostdin -i 127.0.0.1 -p "$p" -m 1 -timeout 30 \
			-timeout_error -trace_err > "$work/uas-$u.out" 2>&1) &
		agents="$agents $!"
		sipp_run reg_contact.xml -m 1 -set user "$u" -set cport "$p"
	done
	sipp_run message_send.xml -m 1 -set to lobby -set to_sub conference.
	for a in $agents; do
		wait "$a" || { cat "$work"/*errors.log >&2
			fail "a member's agent did not get the room message"; }
	done
	;;
imc_restart)
	start_daemon
	$PY "$here/imc.py" before "$port" || fail "before restart"
	restart_daemon
	$PY "$here/imc.py" after "$port" || fail "after restart"
	;;
sipsak)
	start_daemon
	sipsak -s "sip:probe@127.0.0.1:$port" > "$work/sipsak.out" 2>&1 ||
		fail "sipsak OPTIONS"
	# usrloc mode: register, MESSAGE to itself, unregister.
	sipsak -U -i -vv -x 120 -s "sip:alice@127.0.0.1:$port" \
		> "$work/sipsak-u.out" 2>&1 || { cat "$work/sipsak-u.out" >&2
		fail "sipsak usrloc"; }
	grep -q "All usrloc tests completed successful" "$work/sipsak-u.out" ||
		fail "sipsak usrloc did not complete"
	;;
torture)
	# RFC 4475: every message over UDP and TCP, each to a daemon of its
	# own (torture.py starts and stops them; exit 0 checked there).
	kept=480
	has offline && kept=202
	$PY "$here/torture.py" "$bin" "$work" "$kept" ||
		fail "RFC 4475 torture messages"
	;;
lifecycle)
	# A bad config stops start-up with file:line and exit status 1.
	printf "config simpled 'main'\n\toption colour blue\n" > "$work/bad.conf"
	"$bin" -f -c "$work/bad.conf" > "$work/bad.out" 2>&1
	[ $? -eq 1 ] || fail "bad config did not exit 1"
	grep -q "bad.conf:2: unknown option 'colour'" "$work/bad.out" ||
		fail "no file:line in: $(cat "$work/bad.out")"
	# -t checks a file and exits: the same error, or good (the shipped
	# file of the binary's board is), and nothing is started or created.
	"$bin" -t -c "$work/bad.conf" > "$work/t.out" 2>&1 &&
		fail "-t took a bad file"
	grep -q "bad.conf:2: unknown option 'colour'" "$work/t.out" ||
		fail "-t said: $(cat "$work/t.out")"
	f=$here/../../../board/${SIMPLED_BOARD:-host}/simpled.conf
	"$bin" -t -c "$f" > "$work/t.out" 2>&1 ||
		fail "-t refused $f: $(cat "$work/t.out")"
	grep -q "configuration good" "$work/t.out" || fail "-t: $f"
	printf "config simpled 'main'\n\toption state_dir '%s'\n" \
		"$work/t-state" > "$work/t.conf"
	"$bin" -t -c "$work/t.conf" > /dev/null || fail "-t on t.conf"
	[ -e "$work/t-state" ] && fail "-t created the state directory"
	# A listen address no interface has yet (the LAN not up at boot):
	# the daemon starts, says so, and serves its other listeners.
	fport=$(free_port)
	printf "config simpled 'main'\n\tlist listen 'udp:192.0.2.1:%s'\n\tlist listen 'tcp:192.0.2.1:%s'\n\tlist listen 'udp:127.0.0.1:%s'\n\toption state_dir '%s'\n" \
		"$fport" "$fport" "$fport" "$work/fb-state" > "$work/fb.conf"
	"$bin" -f -c "$work/fb.conf" > "$work/fb.out" 2>&1 &
	fp=$!
	for _ in $(seq 1 100); do
		grep -q "serving" "$work/fb.out" && break
		kill -0 "$fp" 2>/dev/null || fail "exited: $(cat "$work/fb.out")"
		sleep 0.05
	done
	sipsak -s "sip:x@127.0.0.1:$fport" > /dev/null 2>&1 ||
		fail "the local listener beside it is not served"
	kill -TERM "$fp"
	wait "$fp" || fail "exit status after SIGTERM"
	grep -q "listening on tcp:192.0.2.1:$fport, an address no interface has yet" \
		"$work/fb.out" || fail "no warning: $(cat "$work/fb.out")"
	# A state directory in RAM (tmpfs): served, with a warning that
	# stored messages do not survive a reboot.
	if has offline && [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
		shm=$(mktemp -d /dev/shm/simpled-e2e.XXXXXX)
		sport=$(free_port)
		printf "config simpled 'main'\n\tlist listen 'udp:127.0.0.1:%s'\n\toption state_dir '%s'\n" \
			"$sport" "$shm" > "$work/shm.conf"
		timeout 5 "$bin" -f -c "$work/shm.conf" > "$work/shm.out" 2>&1 &
		sp=$!
		for _ in $(seq 1 100); do
			grep -q "serving" "$work/shm.out" && break
			sleep 0.05
		done
		kill -TERM "$sp"
		wait "$sp"
		rm -rf "$shm"
		grep -q "is in RAM (tmpfs): stored messages" "$work/shm.out" ||
			fail "no tmpfs warning: $(cat "$work/shm.out")"
	fi
	"$bin" --version | grep -q "^simpled " || fail "--version"
	# simpled passwd: the hashes of RFC 7616 (checked against Python's),
	# in a section the daemon's own config loader accepts.
	echo 'Circle Of Life' | "$bin" passwd bob b.test > "$work/pw.out" ||
		fail "passwd failed"
	want=$($PY -c 'import hashlib
s = b"bob:b.test:Circle Of Life"
print(hashlib.md5(s).hexdigest(), hashlib.sha256(s).hexdigest())')
	got="$(sed -n "s/^.option ha1 '\(.*\)'/\1/p" "$work/pw.out") $(sed -n "s/^.option ha1_sha256 '\(.*\)'/\1/p" "$work/pw.out")"
	[ "$got" = "$want" ] || fail "passwd printed '$got', want '$want'"
	echo x | "$bin" -c "$work/pw.out" passwd carol > /dev/null ||
		fail "the section passwd printed is refused"
	echo x | "$bin" passwd 'b b' > /dev/null 2>&1 && fail "passwd took 'b b'"
	echo x | "$bin" passwd "o'hara" > /dev/null 2>&1 &&
		fail "passwd took a name its output cannot quote"
	# Accounts in a file others may read: a warning at start naming the
	# fix; none once it is 0600.
	port=$(free_port)
	printf "config simpled 'main'\n\tlist listen 'udp:127.0.0.1:%s'\n\toption state_dir '%s'\n" \
		"$port" "$work/pwstate" > "$work/acct.conf"
	cat "$work/pw.out" >> "$work/acct.conf"
	for mode in 644 600; do
		chmod "$mode" "$work/acct.conf"
		"$bin" -f -c "$work/acct.conf" > "$work/acct-$mode.log" 2>&1 &
		apid=$!
		for _ in $(seq 1 100); do
			grep -q serving "$work/acct-$mode.log" && break
			sleep 0.1
		done
		kill -TERM "$apid"
		wait "$apid"
	done
	grep -q "readable by others (mode 644): chmod 600" "$work/acct-644.log" ||
		fail "no warning for a world-readable account file"
	grep -q "readable by others" "$work/acct-600.log" &&
		fail "a warning for a 0600 account file"
	# SIGTERM stops it cleanly.
	start_daemon
	stop_daemon
	grep -q "stopping" "$work/simpled.log" || fail "no clean stop"
	# libosip2's serializer crashes under allocation failure; the
	# daemon must not even link it. The symbol table must be readable
	# (an unstripped binary): a failing nm is a failure, not a pass.
	nm "$bin" > "$work/nm.out" 2>&1 || fail "nm failed: $(head -1 "$work/nm.out")"
	grep -q " T main$" "$work/nm.out" || fail "no symbol table in $bin"
	if grep -q " T osip_message_to_str$" "$work/nm.out"; then
		fail "binary links osip_message_to_str"
	fi
	# One file on flash: the plain build is static (no interpreter, no
	# shared libraries).
	if [ "${SIMPLED_STATIC:-0}" = 1 ]; then
		readelf -lW "$bin" > "$work/elf.out" 2>&1 || fail "readelf failed"
		if grep -q "INTERP\|DYNAMIC" "$work/elf.out"; then
			fail "daemon is not static: $(grep -m1 'INTERP\|DYNAMIC' "$work/elf.out")"
		fi
	fi
	;;
background)
	# Without -f the caller's exit status tells whether start-up worked:
	# a listen address already taken is 1, with the address on stderr.
	port=$(free_port)
	cat > "$work/bg.conf" <<CONF
config simpled 'main'
	list domain '$domain'
	list listen 'udp:127.0.0.1:$port'
	list listen 'tcp:127.0.0.1:$port'
	option state_dir '$work/state'
	option open_registration '1'
CONF
	$PY -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
open(sys.argv[2], "w").close()
time.sleep(20)' "$port" "$work/held" &
	holder=$!
	for _ in $(seq 1 100); do
		[ -f "$work/held" ] && break
		sleep 0.05
	done
	[ -f "$work/held" ] || fail "could not take the port"
	timeout 10 "$bin" -c "$work/bg.conf" > "$work/bg.out" 2> "$work/bg.err"
	rc=$?
	# Whatever the exit status, no daemon is left behind.
	sleep 0.2
	left=$(bg_pids)
	kill "$holder"
	wait "$holder" 2>/dev/null
	[ $rc -eq 1 ] || fail "bind failure in the background: exit status" \
		"$rc, not 1"
	grep -q "udp:127.0.0.1:$port" "$work/bg.err" ||
		fail "no address on stderr: $(cat "$work/bg.err")"
	[ -z "$left" ] || fail "a daemon is left running after a failed start"
	# A good start: the caller gets 0 once the daemon listens, so it
	# answers at once, over TCP too; it is detached (its stdin, stdout
	# and stderr are /dev/null, nothing more reaches the caller) and
	# stops on SIGTERM.
	timeout 10 "$bin" -c "$work/bg.conf" > "$work/bg.out" 2> "$work/bg.err"
	rc=$?
	[ $rc -eq 0 ] || fail "background start: exit status $rc: $(cat "$work/bg.err")"
	raw tcp_framing "$port"
	sipp_run "$work/options.xml" -m 1
	bg=$(bg_pids)
	[ "$(echo "$bg" | wc -w)" -eq 1 ] || fail "daemons running: '$bg'"
	for fd in 0 1 2; do
		[ "$(readlink "/proc/$bg/fd/$fd")" = /dev/null ] ||
			fail "fd $fd of the daemon is $(readlink "/proc/$bg/fd/$fd")"
	done
	kill -TERM "$bg"
	# Not our child: gone, or a zombie nobody reaps yet, once it exited.
	for _ in $(seq 1 100); do
		running "$bg" || break
		sleep 0.05
	done
	running "$bg" && fail "background daemon ignored SIGTERM"
	[ ! -s "$work/bg.err" ] || fail "the daemon wrote to the caller's" \
		"stderr: $(head -c 300 "$work/bg.err")"
	[ ! -s "$work/bg.out" ] || fail "the daemon wrote to stdout"
	;;
sigterm|sigrace)
	# SIGTERM with nothing due for a long time: at random moments around
	# an answer (sigterm), or, in the daemon built with
	# tests/host/sigrace/wrap.c, sent by itself just before it sleeps
	# (sigrace). Each time it must exit 0 within 1 s.
	port=$(free_port)
	idle=""
	has offline && idle="$idle
config offline
	option check_time '3600'"
	has presence && idle="$idle
config presence
	option clean_period '3600'"
	cat > "$work/simpled.conf" <<CONF
config simpled 'main'
	list domain '$domain'
	list listen 'udp:127.0.0.1:$port'
	option state_dir '$work/state'
	option open_registration '1'
$idle
CONF
	tries=100
	[ "$case" = sigrace ] && tries=3
	$PY "$here/process.py" "$case" "$bin" "$work/simpled.conf" "$port" \
		"$tries" || fail "SIGTERM not handled at once"
	;;
*)
	fail "unknown case"
	;;
esac
# The daemon must stop cleanly.
if [ -n "$pid" ]; then
	alive
	stop_daemon
	# Nothing on stdout: libosip2's trace goes to our log, not printf.
	[ ! -s "$work/stdout.log" ] || fail "daemon wrote to stdout: $(head -c 300 "$work/stdout.log")"
fi
echo "PASS [$case]"
rm -rf "$work"
