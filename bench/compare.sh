#!/usr/bin/env bash
# simpled beside Kamailio (Debian's 5.6, installed when missing) on the
# same scenarios, one after the other in one run (not a test): each server
# pinned to CPU 0, sipp to CPU 1, the same rates; per scenario the CPU
# microseconds per request (all the server's processes) and the ratio.
# So far: REGISTER and MESSAGE relay (bench/kamailio/relay.cfg); the
# offline store, presence and room scenarios are still to come (issue 15).
# Usage: bench/compare.sh [SIMPLED_BINARY]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/firmware/simpled}
sc=$root/tests/host/e2e/scenarios
work=$(mktemp -d /tmp/compare.XXXXXX)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
N=${BENCH_CALLS:-20000}
REG_RATE=${BENCH_REG_RATE:-4000}
MSG_RATE=${BENCH_MSG_RATE:-2000}
domain=bench.test
pids=""
trap 'kill $pids 2>/dev/null; rm -rf "$work"' EXIT

if ! command -v kamailio > /dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kamailio \
		> /dev/null
fi

# cpu_of PIDS: their user and system CPU, in clock ticks.
cpu_of() {
	local t=0 p
	for p in "$@"; do
		t=$((t + $(bench_cpu "$p")))
	done
	echo "$t"
}

# measure SERVER PORT PIDS...: REGISTER then MESSAGE relay; one line
# each, "SERVER SCENARIO us_per_request failures".
measure() {
	local name=$1 port=$2 c0 c1 rc uport=$(($2 + 1))
	shift 2
	hz=$(getconf CLK_TCK)
	{ echo SEQUENTIAL; for i in $(seq 1 2000); do echo "u$i"; done; } \
		> "$work/users.csv"
	c0=$(cpu_of "$@")
	set +e
	(cd "$work" && taskset -c 1 sipp "127.0.0.1:$port" \
		-sf "$sc/reg_flood_ok.xml" -nostdin -i 127.0.0.1 -r "$REG_RATE" \
		-m "$N" -l 2000 -timeout 120 -set domain "$domain" \
		-inf "$work/users.csv" > "$work/sipp.out" 2>&1)
	rc=$?
	set -e
	c1=$(cpu_of "$@")
	echo "$name register $(echo "($c1-$c0)/$hz/$N*1000000" | bc -l) $rc"
	(cd "$work" && taskset -c 1 sipp "127.0.0.1:$port" \
		-sf "$sc/message_uas.xml" -nostdin -i 127.0.0.1 -p "$uport" \
		-m $((N * 3)) -timeout 300 > "$work/uas.out" 2>&1) &
	local uas=$!
	sleep 0.3
	(cd "$work" && sipp "127.0.0.1:$port" -sf "$sc/reg_contact.xml" \
		-nostdin -i 127.0.0.1 -m 1 -set domain "$domain" \
		-set user alice -set cport "$uport" > /dev/null 2>&1)
	c0=$(cpu_of "$@")
	set +e
	(cd "$work" && taskset -c 1 sipp "127.0.0.1:$port" \
		-sf "$sc/message_send.xml" -nostdin -i 127.0.0.1 -r "$MSG_RATE" \
		-m "$N" -l 2000 -timeout 120 -set domain "$domain" \
		-set to alice > "$work/sipp.out" 2>&1)
	rc=$?
	set -e
	c1=$(cpu_of "$@")
	kill "$uas" 2>/dev/null || true
	echo "$name relay $(echo "($c1-$c0)/$hz/$N*1000000" | bc -l) $rc"
}

# simpled
sport=$(free_port)
bench_conf "$work" "$sport" "$domain"
printf "config limits\n\toption server_txns '4096'\n\toption client_txns '4096'\n\toption aors '4096'\n\toption bindings '8192'\n\toption relays '4096'\n" \
	>> "$work/simpled.conf"
taskset -c 0 "$bin" -f -c "$work/simpled.conf" 2> "$work/simpled.log" &
spid=$!
pids="$spid"
sleep 0.5
measure simpled "$sport" "$spid" > "$work/results"
kill "$spid"
wait "$spid" 2>/dev/null || true

# Kamailio
kport=$(free_port)
taskset -c 0 kamailio -f "$root/bench/kamailio/relay.cfg" -DD -E \
	-l "udp:127.0.0.1:$kport" -L /usr/lib/x86_64-linux-gnu/kamailio/modules \
	-Y "$work" 2> "$work/kamailio.log" &
kpid=$!
pids="$spid $kpid"
sleep 1.5
kids=$(pgrep -P "$kpid" | tr '\n' ' ')
# shellcheck disable=SC2086 # a word list of process ids
measure kamailio "$kport" "$kpid" $kids >> "$work/results"
kill "$kpid"
wait "$kpid" 2>/dev/null || true

printf "%-10s %12s %12s %8s\n" scenario simpled_us kamailio_us ratio
for s in register relay; do
	a=$(awk -v s=$s '$1 == "simpled" && $2 == s {print $3}' "$work/results")
	b=$(awk -v s=$s '$1 == "kamailio" && $2 == s {print $3}' "$work/results")
	fa=$(awk -v s=$s '$1 == "simpled" && $2 == s {print $4}' "$work/results")
	fb=$(awk -v s=$s '$1 == "kamailio" && $2 == s {print $4}' "$work/results")
	printf "%-10s %12.1f %12.1f %8.2f  (sipp rc %s / %s)\n" "$s" "$a" "$b" \
		"$(echo "$b / $a" | bc -l)" "$fa" "$fb"
done
