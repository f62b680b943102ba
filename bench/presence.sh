#!/usr/bin/env bash
# Presence benchmark (not a test): starts the daemon with pools for 10,000+
# subscriptions on loopback and runs bench/presence.py against it.
# Usage: bench/presence.sh [path/to/simpled]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/firmware/simpled}
work=$(mktemp -d /tmp/simpled-bench-pres.XXXXXX)
port=$(/usr/bin/python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
cat > "$work/simpled.conf" <<CONF
config simpled 'main'
	list domain 'bench.test'
	list listen 'udp:127.0.0.1:$port'
	option state_dir '$work/state'
	option log_level 'warn'
config presence
	option auth_policy 'allow_all'
	option subs_db_mode 'memory'
config limits
	option server_txns '4096'
	option client_txns '4096'
	option subscriptions '16384'
	option presentities '8192'
	option pres_docs '4096'
CONF
"$bin" -f -c "$work/simpled.conf" 2> "$work/log" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
sleep 0.3
/usr/bin/python3 "$root/bench/presence.py" "$port" "$pid"
