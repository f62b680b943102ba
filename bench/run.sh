#!/usr/bin/env bash
# Benchmark (not a test): sustained REGISTER and MESSAGE-relay rates with
# sipp on loopback at 0 failures, daemon CPU seconds per transaction, RSS,
# and the stripped static binary size. Every run is bounded in calls and
# time. Usage: bench/run.sh [path/to/simpled]   (default build/firmware/simpled)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/firmware/simpled}
sc=$root/tests/host/e2e/scenarios
work=$(mktemp -d /tmp/simpled-bench.XXXXXX)
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
domain=bench.test
. "$root/bench/lib.sh"
port=$(free_port)
N=${BENCH_CALLS:-20000}

bench_conf "$work" "$port" "$domain"
cat >> "$work/simpled.conf" <<CONF
config limits
	option server_txns '4096'
	option client_txns '4096'
	option aors '4096'
	option bindings '8192'
	option relays '4096'
CONF

cp "$bin" "$work/simpled.stripped"
strip "$work/simpled.stripped"
echo "binary: $(stat -c %s "$bin") bytes; stripped: $(stat -c %s "$work/simpled.stripped") bytes ($(file -b "$bin" | cut -d, -f1-2 | tr -d '\n'); $(file -b "$bin" | grep -o 'statically linked' || echo dynamic))"

"$bin" -f -c "$work/simpled.conf" > "$work/simpled.log" 2>&1 &
pid=$!
sleep 0.3

hz=$(getconf CLK_TCK)
rss() { grep -E "^$1:" "/proc/$pid/status" | awk '{print $2}'; }
echo "idle: VmRSS $(rss VmRSS) kB"

# run_rate NAME RATE SCENARIO [sipp options]: prints ok/fail, cpu per txn.
run_rate() {
	local name=$1 rate=$2 s=$3
	shift 3
	local c0 c1 rc
	c0=$(bench_cpu "$pid")
	set +e
	(cd "$work" && sipp "127.0.0.1:$port" -sf "$sc/$s" -nostdin \
		-i 127.0.0.1 -r "$rate" -m "$N" -l 2000 -timeout 120 \
		-timeout_error -set domain "$domain" "$@" \
		> "$work/sipp.out" 2>&1)
	rc=$?
	set -e
	c1=$(bench_cpu "$pid")
	local failed
	failed=$(grep -E "^ *Failed call" "$work/sipp.out" 2>/dev/null | head -1 | awk '{print $NF}')
	printf "%-8s rate %5s/s  calls %s  sipp_rc %s  daemon_cpu %.3f s  cpu/txn %.1f us  VmHWM %s kB\n" \
		"$name" "$rate" "$N" "$rc" "$(echo "($c1-$c0)/$hz" | bc -l)" \
		"$(echo "($c1-$c0)/$hz/$N*1000000" | bc -l)" "$(rss VmHWM)"
	return $rc
}

# REGISTER: 2000 users (CSV, cycled), so the first pass adds bindings and
# the rest refresh them.
{ echo SEQUENTIAL; for i in $(seq 1 2000); do echo "u$i"; done; } > "$work/users.csv"
for r in ${BENCH_REG_RATES:-2000 4000 8000}; do
	run_rate REGISTER "$r" reg_flood_ok.xml -inf "$work/users.csv" || break
done

# MESSAGE relay: alice's agent answers every MESSAGE relayed to it.
uport=$((port + 1))
(cd "$work" && sipp "127.0.0.1:$port" -sf "$sc/message_uas.xml" -nostdin \
	-i 127.0.0.1 -p "$uport" -m $((N * 3)) -timeout 300 > "$work/uas.out" 2>&1) &
uas=$!
sleep 0.3
(cd "$work" && sipp "127.0.0.1:$port" -sf "$sc/reg_contact.xml" -nostdin \
	-i 127.0.0.1 -m 1 -set domain "$domain" -set user alice \
	-set cport "$uport" > /dev/null 2>&1)
for r in ${BENCH_MSG_RATES:-1000 2000 4000}; do
	run_rate MESSAGE "$r" message_send.xml -set to alice || break
done
kill "$uas" 2>/dev/null || true
echo "end: VmRSS $(rss VmRSS) kB, VmHWM $(rss VmHWM) kB"
