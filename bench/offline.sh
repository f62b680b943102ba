#!/usr/bin/env bash
# Benchmark (not a test) of offline messages: sustained store rate
# (MESSAGE -> 202 after the group commit) for each commit window, delivery
# rate when the owners register, bytes written to disk per stored message
# and the commit time the daemon logs at stop (the loop waits for it).
# The daemon runs on CPU 0, sipp on CPU 1.
# Usage: bench/offline.sh [path/to/simpled]
# BENCH_CALLS (10000), BENCH_USERS (100), BENCH_WINDOWS ("0 2"),
# BENCH_STORE_RATES ("100 1000 10000").
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/firmware/simpled}
sc=$root/tests/host/e2e/scenarios
N=${BENCH_CALLS:-10000}
USERS=${BENCH_USERS:-100}
hz=$(getconf CLK_TCK)
. "$root/bench/lib.sh"

run_mode() { # run_mode WINDOW_MS RATE
	local mode=$1 rate=$2 work port pid
	work=$(mktemp -d /tmp/simpled-bench-off.XXXXXX)
	port=$(free_port)
	bench_conf "$work" "$port"
	cat >> "$work/simpled.conf" <<CONF
config simpled 'main'
	option log_level 'info'
config storage
	option commit_window_ms '$mode'
	option map_size_kb '65536'
config offline
	option add_date '0'
	option max_messages '0'
	option max_messages_per_source '0'
config limits
	option server_txns '4096'
	option client_txns '4096'
	option dumps '256'
	option store_messages '65536'
	option store_owners '1024'
CONF
	taskset -c 0 "$bin" -f -c "$work/simpled.conf" 2> "$work/log" &
	pid=$!
	sleep 0.3
	{ echo SEQUENTIAL; for i in $(seq 1 $USERS); do echo "u$i"; done; } > "$work/to.csv"
	sed 's/\[\$to\]/[field0]/g; s/variables="domain,to"/variables="domain"/' \
		"$sc/message_offline.xml" > "$work/store.xml"
	local w0 c0 t0 t1 rc
	w0=$(awk '/^write_bytes/ {print $2}' /proc/$pid/io)
	c0=$(bench_cpu "$pid")
	t0=$(date +%s.%N)
	set +e
	(cd "$work" && taskset -c 1 sipp "127.0.0.1:$port" -sf store.xml \
		-nostdin -i 127.0.0.1 -p "$(free_port)" -r "$rate" -m "$N" \
		-l 4000 -timeout 300 \
		-timeout_error -set domain bench.test -inf to.csv > sipp.out 2>&1)
	rc=$?
	set -e
	t1=$(date +%s.%N)
	local w1 c1
	w1=$(awk '/^write_bytes/ {print $2}' /proc/$pid/io)
	c1=$(bench_cpu "$pid")
	printf "store   window %-2s ms asked %5s/s: %s calls in %.2f s (%.0f/s) sipp_rc %s  cpu/msg %.1f us  disk %.0f bytes/msg\n" \
		"$mode" "$rate" "$N" "$(echo "$t1-$t0" | bc -l)" \
		"$(echo "$N/($t1-$t0)" | bc -l)" "$rc" \
		"$(echo "($c1-$c0)/$hz/$N*1000000" | bc -l)" \
		"$(echo "($w1-$w0)/$N" | bc -l)"
	# Delivery: every owner registers one contact at one sipp agent.
	local uport=$(free_port)
	sed 's/\^MESSAGE sip:alice@/^MESSAGE sip:/' "$sc/message_uas.xml" \
		> "$work/uas.xml"
	(cd "$work" && taskset -c 1 sipp "127.0.0.1:$port" -sf uas.xml \
		-nostdin -i 127.0.0.1 -p "$uport" -m "$N" -timeout 300 \
		> uas.out 2>&1; echo "uas_rc=$?" >> uas.out) &
	local uas=$!
	sleep 0.3
	sed 's/\[\$user\]/[field0]/g; s/variables="cport,domain,user"/variables="cport,domain"/' \
		"$sc/reg_contact.xml" > "$work/reg.xml"
	t0=$(date +%s.%N)
	(cd "$work" && taskset -c 1 sipp "127.0.0.1:$port" -sf reg.xml \
		-nostdin -p "$(free_port)" \
		-i 127.0.0.1 -m $USERS -r 1000 -inf to.csv -set domain bench.test \
		-set cport "$uport" > reg.out 2>&1) || true
	wait "$uas" || true
	t1=$(date +%s.%N)
	printf "deliver window %-2s ms %s messages to %s users in %.2f s (%.0f/s) %s\n" \
		"$mode" "$N" "$USERS" "$(echo "$t1-$t0" | bc -l)" \
		"$(echo "$N/($t1-$t0)" | bc -l)" "$(grep -o 'uas_rc=[0-9]*' "$work/uas.out")"
	kill "$pid"
	wait "$pid" || true
	echo "        $(grep -o '[0-9]* commits of .*' "$work/log")"
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
}

for m in ${BENCH_WINDOWS:-0 2}; do
	for r in ${BENCH_STORE_RATES:-100 1000 10000}; do
		run_mode "$m" "$r"
	done
done
