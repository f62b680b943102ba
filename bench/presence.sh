#!/usr/bin/env bash
# Presence benchmark (not a test): starts the daemon with pools for 10,000+
# subscriptions on loopback and runs bench/presence.py against it.
# Usage: bench/presence.sh [path/to/simpled]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/firmware/simpled}
work=$(mktemp -d /tmp/simpled-bench-pres.XXXXXX)
. "$root/bench/lib.sh"
port=$(free_port)
bench_conf "$work" "$port"
cat >> "$work/simpled.conf" <<CONF
config presence
	option auth_policy 'allow_all'
	option subs_db_mode 'memory'
	option max_subscriptions_per_source '0'
	option max_documents_per_source '0'
config limits
	option server_txns '4096'
	option client_txns '4096'
	option subscriptions '16384'
	option presentities '8192'
	option pres_docs '4096'
CONF
bench_daemon "$bin" "$work"
/usr/bin/python3 "$root/bench/presence.py" "$port" "$pid"
