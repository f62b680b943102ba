#!/usr/bin/env bash
# Benchmark (not a test): the cost of digest authentication. Authenticated
# REGISTERs (401, then the answer: two transactions each) with sipp's MD5
# client for one account, at a few rates, and daemon CPU per authenticated
# registration (compare bench/run.sh's REGISTER under open registration,
# one transaction). Usage: bench/auth.sh [path/to/simpled]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/firmware/simpled}
sc=$root/tests/host/e2e/scenarios
work=$(mktemp -d /tmp/simpled-bench-auth.XXXXXX)
domain=bench.test
. "$root/bench/lib.sh"
port=$(free_port)
N=${BENCH_CALLS:-10000}

bench_conf "$work" "$port" "$domain"
cat >> "$work/simpled.conf" <<CONF
config simpled 'main'
	option open_registration '0'
config auth
	option max_failures '0'
config user
	option name 'bench'
	option password 'benchpw'
config limits
	option server_txns '4096'
	option client_txns '4096'
CONF
bench_daemon "$bin" "$work"
hz=$(getconf CLK_TCK)
for r in ${BENCH_RATES:-1000 2000 4000}; do
	c0=$(bench_cpu "$pid")
	set +e
	(cd "$work" && sipp "127.0.0.1:$port" -sf "$sc/reg_auth_flood.xml" \
		-nostdin -i 127.0.0.1 -r "$r" -m "$N" -l 2000 -timeout 120 \
		-timeout_error -s bench -au bench -ap benchpw \
		-set domain "$domain" > "$work/sipp.out" 2>&1)
	rc=$?
	set -e
	c1=$(bench_cpu "$pid")
	failed=$(grep -E "^ *Failed call" "$work/sipp.out" | head -1 | awk '{print $NF}')
	printf "auth REGISTER rate %5s/s  calls %s  sipp_rc %s  failed %s  cpu per authenticated REGISTER %.1f us\n" \
		"$r" "$N" "$rc" "${failed:-?}" \
		"$(echo "($c1-$c0)/$hz/$N*1000000" | bc -l)"
	[ "$rc" = 0 ] || break
done
