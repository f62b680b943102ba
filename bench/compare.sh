#!/usr/bin/env bash
# simpled beside Kamailio (Debian's 5.6, installed when missing) on the
# same scenarios, one after the other in one run (not a test): each server
# pinned to CPU 0, the load generator (bench/loadgen) to CPU 1.
#
# Per scenario and server: the highest rate with 0 failures (the load
# generator keeps BENCH_WINDOW transactions in flight, unpaced; on a
# failure the window is halved and the run repeated), the server's CPU
# microseconds per request over that run (every process of the server),
# p50/p99 latency from a run paced at BENCH_LAT_RATE, and at the end each
# server's memory (PSS summed over its processes, and peak RSS).
# Kamailio runs bench/kamailio/full.cfg (one UDP worker; SQLite in one
# file on the same disk as simpled's state, synchronous=FULL).
#
# Usage: bench/compare.sh [SIMPLED_BINARY [LOADGEN_BINARY]]
#   BENCH_SCENARIOS (all: register relay store deliver publish subscribe
#   room), BENCH_SERVERS (simpled kamailio), BENCH_N (scale, 1),
#   BENCH_REPEAT (runs of the scenarios that can repeat, the median
#   taken; 3)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/firmware/simpled}
if [ ! -x "$bin" ] && [ -z "${1:-}" ]; then
	# A fresh clone: the build the README's commands make.
	bash "$root/.ci/dev" build
fi
work=$(mktemp -d /tmp/compare.XXXXXX)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
lg=${2:-$root/build/bench/loadgen}
if [ ! -x "$lg" ]; then
	lg=$work/loadgen
	cc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$lg" \
		"$root/bench/loadgen/loadgen.c"
fi
scenarios=${BENCH_SCENARIOS:-register relay store deliver publish subscribe room}
servers=${BENCH_SERVERS:-simpled kamailio}
scale=${BENCH_N:-1}
window=${BENCH_WINDOW:-256}
lat_rate=${BENCH_LAT_RATE:-1000}
repeat=${BENCH_REPEAT:-3}
# imc's commands: the creator's, and the owner's adding a user by address.
KAM_CREATE='#create %s'
KAM_ADD="#add sip:%s@bench.test"
domain=bench.test
spid=""
cleanup() {
	[ -z "$spid" ] || kill "$spid" 2> /dev/null || true
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

if ! command -v kamailio > /dev/null || \
	[ ! -r /usr/share/kamailio/db_sqlite/msilo-create.sql ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kamailio \
		kamailio-sqlite-modules kamailio-presence-modules \
		kamailio-extra-modules sqlite3 > /dev/null
fi

# Transactions per scenario (times BENCH_N), and the paced latency run's.
count() {
	case $1 in
	register | relay) echo $((100000 * scale)) ;;
	store | deliver) echo $((10000 * scale)) ;;
	publish) echo 3000 ;; # simpled's pres_docs pool holds 4096 documents
	subscribe) echo $((20000 * scale)) ;;
	room) echo $((5000 * scale)) ;;
	esac
}
lat_count() {
	case $1 in
	publish | store) echo 1000 ;;
	deliver) echo 0 ;; # delivery follows the REGISTER: no pacing
	*) echo $((lat_rate * 3)) ;;
	esac
}

# The load generator's arguments for scenario $1 against server $2, into
# the array A.
args() {
	case $1 in
	register) A=(-u 2000) ;; # the aors pool (4096) holds every scenario's
	publish) A=(-u 4000) ;;
	store) A=(-u 100) ;;
	# Owners register four at a time: Kamailio's msilo sends each one's
	# messages at once, and 100 at a time exhausted its shared memory.
	deliver) A=(-u 100 -w 4) ;;
	subscribe) A=(-u 1000) ;;
	room)
		A=(-M 10)
		if [ "$2" = kamailio ]; then
			A+=(-D "conference.$domain" -C "$KAM_CREATE" -A "$KAM_ADD")
		fi
		;;
	*) A=() ;;
	esac
}

pids_of() { # the server's processes
	if [ "$1" = kamailio ]; then
		echo "$spid $(pgrep -P "$spid" | tr '\n' ' ')"
	else
		echo "$spid"
	fi
}

cpu_of() { # cpu_of PIDS...: user + system clock ticks
	local t=0 p
	for p in "$@"; do
		t=$((t + $(bench_cpu "$p")))
	done
	echo "$t"
}

field() { # field KEY LINE
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# run SERVER PORT SCENARIO: one result line into $work/results.
run() {
	local server=$1 port=$2 s=$3 n w out c0 c1 rc lat p50 p99 ok per
	local hz pids
	hz=$(getconf CLK_TCK)
	args "$s" "$server"
	set -- "${A[@]}"
	n=$(count "$s")
	p50=- p99=-
	if [ "$(lat_count "$s")" -gt 0 ]; then
		lat=$(taskset -c 1 "$lg" -s "127.0.0.1:$port" -d "$domain" \
			-r "$lat_rate" -n "$(lat_count "$s")" -w "$window" \
			-t 120 "$@" "$s" 2>> "$work/lg.err") || true
		p50=$(field p50_us "$lat")
		p99=$(field p99_us "$lat")
		echo "$server $s paced: $lat" >> "$work/log"
	fi
	w=$window
	: > "$work/runs"
	while :; do
		pids=$(pids_of "$server")
		# shellcheck disable=SC2086 # a word list of process ids
		c0=$(cpu_of $pids)
		set +e
		out=$(taskset -c 1 "$lg" -s "127.0.0.1:$port" -d "$domain" -r 0 \
			-n "$n" -w "$w" -t 300 "$@" "$s" 2>> "$work/lg.err")
		rc=$?
		set -e
		# shellcheck disable=SC2086
		c1=$(cpu_of $pids)
		echo "$server $s w=$w: $out" >> "$work/log"
		case $s in
		deliver) ok=$(field deliveries "$out") ;;
		*) ok=$(field ok "$out") ;;
		esac
		ok=${ok:-0}
		per=$(echo "if ($ok > 0) ($c1 - $c0) * 1000000 / $hz / $ok else 0" | bc -l)
		case $s in
		deliver) rate=$(field delivery_rate "$out") ;;
		*) rate=$(field rate "$out") ;;
		esac
		echo "$per ${rate:-0} $rc $(field failed "$out")/$(field timeouts "$out")" \
			>> "$work/runs"
		if [ "$s" = deliver ] || [ "$s" = store ] ||
			[ "$s" = publish ]; then
			break # state they leave behind: once
		fi
		if [ $rc -ne 0 ] && [ "$w" -gt 16 ]; then
			w=$((w / 2)) # failures: fewer in flight, again
			: > "$work/runs"
			continue
		fi
		# The machine is shared: the median of BENCH_REPEAT runs.
		[ "$(wc -l < "$work/runs")" -lt "$repeat" ] || break
	done
	# shellcheck disable=SC2046 # the median run's fields
	set -- $(sort -n "$work/runs" |
		sed -n "$((($(wc -l < "$work/runs") + 1) / 2))p")
	echo "$server $s $2 $1 $p50 $p99 $3 $4" >> "$work/results"
}

# stop SERVER: its memory into the results, then stop it.
stop() {
	mem "$1"
	kill "$spid"
	wait "$spid" 2> /dev/null || true
	spid=""
}

# mem SERVER: "SERVER mem PSS_kB PEAK_RSS_kB" (summed over processes).
mem() {
	local pss=0 hwm=0 p v
	for p in $(pids_of "$1"); do
		v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" \
			2> /dev/null) || continue # gone meanwhile
		pss=$((pss + ${v:-0}))
		v=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2> /dev/null) ||
			continue
		hwm=$((hwm + ${v:-0}))
	done
	echo "$1 mem $pss $hwm" >> "$work/results"
}

start_simpled() {
	port=$(free_port)
	bench_conf "$work" "$port" "$domain"
	cat >> "$work/simpled.conf" <<CONF
	option udp_rcvbuf_kb '8192'
config limits
	option server_txns '4096'
	option client_txns '4096'
	option aors '4096'
	option bindings '8192'
	option relays '4096'
	option subscriptions '16384'
	option presentities '8192'
	option pres_docs '4096'
	option store_messages '262144'
	option dumps '256'
config offline
	option max_messages '0'
	option max_messages_per_source '0'
	option add_date '0'
config presence
	option auth_policy 'allow_all'
	option max_subscriptions_per_source '0'
	option max_documents_per_source '0'
config imc
	option history_size '0'
CONF
	taskset -c 0 "$bin" -f -c "$work/simpled.conf" 2> "$work/simpled.log" &
	spid=$!
	sleep 0.5
}

start_kamailio() {
	port=$(free_port)
	mkdir -p "$work/kam"
	"$root/bench/kamailio/mkdb.sh" "$work/kam/kam.db"
	taskset -c 0 kamailio -f "$root/bench/kamailio/full.cfg" -DD -E \
		-l "udp:127.0.0.1:$port" \
		-L /usr/lib/x86_64-linux-gnu/kamailio/modules -Y "$work/kam" \
		-A "DBURL=\"sqlite://$work/kam/kam.db\"" \
		-A "SELF=\"sip:127.0.0.1:$port\"" 2> "$work/kamailio.log" &
	spid=$!
	sleep 1.5
}

: > "$work/results"
# Each scenario on a fresh server (deliver on the one that stored), so
# that what one left behind (Kamailio's transactions waiting in shared
# memory, simpled's bindings) does not weigh on the next.
for server in $servers; do
	for s in $scenarios; do
		if [ "$s" != deliver ] || [ -z "$spid" ]; then
			[ -z "$spid" ] || stop "$server"
			"start_$server"
		fi
		run "$server" "$port" "$s"
	done
	stop "$server"
done

cat "$work/log" >&2
printf "%-10s | %9s %7s %6s %7s | %9s %7s %6s %7s | %s\n" scenario \
	"simpled/s" "us" "p50us" "p99us" "kam/s" "us" "p50us" "p99us" \
	"CPU ratio (K/s)"
for s in $scenarios; do
	a=$(awk -v s="$s" '$1 == "simpled" && $2 == s' "$work/results")
	b=$(awk -v s="$s" '$1 == "kamailio" && $2 == s' "$work/results")
	printf "%-10s | %9s %7.1f %6s %7s | %9s %7.1f %6s %7s | %s\n" "$s" \
		"$(echo "$a" | cut -d' ' -f3)" "$(echo "$a" | cut -d' ' -f4)" \
		"$(echo "$a" | cut -d' ' -f5)" "$(echo "$a" | cut -d' ' -f6)" \
		"$(echo "$b" | cut -d' ' -f3)" "$(echo "$b" | cut -d' ' -f4)" \
		"$(echo "$b" | cut -d' ' -f5)" "$(echo "$b" | cut -d' ' -f6)" \
		"$(echo "$a $b" | awk '{ if ($4 > 0 && $12 > 0) printf "%.2f", $12 / $4; else print "-" }') (rc ${a:+$(echo "$a" | cut -d' ' -f7-8)} / ${b:+$(echo "$b" | cut -d' ' -f7-8)})"
done
awk '$2 == "mem" { if ($3 > pss[$1]) pss[$1] = $3; if ($4 > hwm[$1]) hwm[$1] = $4 }
	END { for (s in pss) printf "%-8s memory: PSS at the end of a scenario up to %d kB, peak RSS up to %d kB (summed over its processes)\n", s, pss[s], hwm[s] }' \
	"$work/results"
