#!/usr/bin/env bash
# Idle memory for bench/RESULTS.md: the daemon started on a config (its
# state_dir and listen addresses replaced by a fresh directory and
# 127.0.0.1, its control socket put there), read 5 s later: VmRSS, and
# of it the daemon's own (anonymous) memory.
# Usage: bench/rss.sh BINARY [CONFIG]   (default: built-in defaults)
set -eu
bin=$1
conf=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port=$((40000 + RANDOM % 20000))
if [ -n "$conf" ]; then
	sed -e "s|option state_dir '[^']*'|option state_dir '$work/state'|" \
		-e "s|option socket '[^']*'|option socket '$work/ctl.sock'|" \
		-e "s|list listen '\([a-z]*\):[^']*'|list listen '\1:127.0.0.1:$port'|" \
		"$conf" > "$work/c"
else
	printf "config simpled 'main'\n\toption state_dir '%s'\n\tlist listen 'udp:127.0.0.1:%s'\n\tlist listen 'tcp:127.0.0.1:%s'\n" \
		"$work/state" "$port" "$port" > "$work/c"
fi
"$bin" -f -c "$work/c" 2> "$work/log" &
pid=$!
sleep 5
kill -0 "$pid" || { cat "$work/log"; exit 1; }
rss=$(awk '/^Rss:/ {print $2}' "/proc/$pid/smaps_rollup")
anon=$(awk '/^Anonymous:/ {print $2}' "/proc/$pid/smaps_rollup")
kill "$pid"
wait "$pid" || true
echo "VmRSS $rss kB, of which anonymous $anon kB"
