#!/usr/bin/env bash
# Chat room benchmark (not a test): starts the daemon on loopback and runs
# bench/imc.py against it. Usage: bench/imc.sh [path/to/simpled]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/firmware/simpled}
work=$(mktemp -d /tmp/simpled-bench-imc.XXXXXX)
. "$root/bench/lib.sh"
port=$(free_port)
bench_conf "$work" "$port"
cat >> "$work/simpled.conf" <<CONF
config imc
	option history_size '0'
	option max_members '101'
config limits
	option server_txns '4096'
	option client_txns '4096'
	option room_members '1024'
CONF
bench_daemon "$bin" "$work"
/usr/bin/python3 "$root/bench/imc.py" "$port" "$pid"
