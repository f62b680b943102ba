#!/usr/bin/env bash
# Idle memory with every pool at the host board's ceiling, then what a
# binding and a subscription cost (anonymous memory over 8000 of each),
# for bench/RESULTS.md. Usage: bench/per_object.sh [BINARY]
set -eu
bin=${1:-build/firmware/simpled}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s|STATE|$work/state|" "$here/ceiling.conf" > "$work/c"
"$bin" -f -c "$work/c" 2> "$work/log" &
pid=$!
sleep 5
echo "idle, ceiling pools: $(awk '/^Rss:/ {r = $2} /^Anonymous:/ {a = $2}
	END {print r " kB, of which anonymous " a " kB"}' \
	"/proc/$pid/smaps_rollup")"
python3 "$here/per_object.py" "$pid" 45987 || true
kill "$pid"
wait "$pid" || true
