#!/usr/bin/env bash
# Instructions per request (callgrind), for bench/RESULTS.md: repeatable
# for the same binary and inputs whatever else the machine does, so a
# regression shows up as a number. For each scenario of
# callgrind_drive.py the daemon runs under callgrind twice, with N and
# with 0 requests; the difference over N is one request's instructions
# (its answer and, for relay and notify, the request it sends).
# Usage: bench/callgrind.sh [BINARY] [N (200)]
set -eu
bin=${1:-build/firmware/simpled}
n=${2:-200}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port=$((40000 + RANDOM % 20000))

total() { # total SCENARIO COUNT: instructions of one run
	rm -rf "$work/state"
	cat > "$work/c" <<CONF
config simpled 'main'
	list domain 'cg.test'
	list listen 'udp:127.0.0.1:$port'
	option state_dir '$work/state'
	option open_registration '1'
	option log_level 'warning'
config presence
	option max_documents_per_source '0'
	option max_subscriptions_per_source '0'
CONF
	valgrind --tool=callgrind --callgrind-out-file="$work/out" \
		"$bin" -f -c "$work/c" 2> "$work/vg.log" &
	local pid=$! _
	for _ in $(seq 1 300); do
		grep -q "serving" "$work/vg.log" && break
		sleep 0.1
	done
	python3 "$here/callgrind_drive.py" "$port" "$1" "$2" ||
		{ kill "$pid"; return 1; }
	kill -TERM "$pid"
	wait "$pid" || true
	sed -n 's/^summary: //p' "$work/out"
}

for s in register relay publish notify; do
	full=$(total "$s" "$n")
	base=$(total "$s" 0)
	echo "$s: $(( (full - base) / n )) instructions per request ($n requests)"
done
