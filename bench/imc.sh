#!/usr/bin/env bash
# Chat room benchmark (not a test): starts the daemon on loopback and runs
# bench/imc.py against it. Usage: bench/imc.sh [path/to/simpled]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/firmware/simpled}
work=$(mktemp -d /tmp/simpled-bench-imc.XXXXXX)
port=$(/usr/bin/python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
cat > "$work/simpled.conf" <<CONF
config simpled 'main'
	list domain 'bench.test'
	list listen 'udp:127.0.0.1:$port'
	option state_dir '$work/state'
	option log_level 'warn'
config imc
	option history_size '0'
config limits
	option server_txns '4096'
	option client_txns '4096'
	option room_members '1024'
CONF
"$bin" -f -c "$work/simpled.conf" 2> "$work/log" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
sleep 0.3
/usr/bin/python3 "$root/bench/imc.py" "$port" "$pid"
