#!/usr/bin/env bash
# TLS figures for bench/RESULTS.md:
#  - memory per idle TLS connection: N clients (Python ssl) each finish
#    the handshake and one OPTIONS, then stay; the daemon's VmRSS grows by
#    this much per connection;
#  - full handshakes per second: `openssl s_time -new` for BENCH_SECONDS,
#    the daemon pinned to CPU 0 and s_time to CPU 1, with an ECDSA P-256
#    and an RSA 2048 certificate; daemon CPU per handshake.
# Usage: bench/tls.sh [path/to/simpled]   (default build/firmware/simpled)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=${1:-build/firmware/simpled}
conns=${BENCH_CONNS:-24}
secs=${BENCH_SECONDS:-5}
work=$(mktemp -d /tmp/bench-tls.XXXXXX)

run_one() { # run_one KEYTYPE
	local kt=$1 port tport before after t0 t1 n
	case $kt in
	ec) openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 2 \
		-subj /CN=bench.test 2>/dev/null ;;
	rsa) openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" \
		-out "$work/cert.pem" -days 2 -subj /CN=bench.test 2>/dev/null ;;
	esac
	chmod 600 "$work/key.pem"
	port=$(free_port)
	tport=$(free_port)
	bench_conf "$work" "$port"
	cat >> "$work/simpled.conf" <<CONF
	list listen 'tls:127.0.0.1:$tport'
config tls
	option certificate '$work/cert.pem'
	option private_key '$work/key.pem'
config limits
	option tcp_conns '64'
CONF
	taskset -c 0 true 2>/dev/null && pin0="taskset -c 0" || pin0=""
	$pin0 "$bin" -f -c "$work/simpled.conf" 2> "$work/log" &
	pid=$!
	sleep 0.3
	before=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
	# Idle connections: from 127.0.0.x, 6 each (per-source cap 8).
	/usr/bin/python3 - "$tport" "$work/cert.pem" "$conns" "$pid" <<'PY' > "$work/idle.out"
import socket, ssl, sys, time
port, cert, n, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(cert)
ctx.check_hostname = False
held = []
for i in range(n):
    s = ctx.wrap_socket(socket.create_connection(
        ("127.0.0.1", port), source_address=(f"127.0.2.{i // 6 + 1}", 0)))
    me = s.getsockname()
    s.sendall((f"OPTIONS sip:bench.test SIP/2.0\r\nVia: SIP/2.0/TLS "
               f"{me[0]}:{me[1]};branch=z9hG4bKb{i}\r\nFrom: <sip:b@bench.test>"
               f";tag={i}\r\nTo: <sip:bench.test>\r\nCall-ID: b{i}\r\n"
               f"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode())
    assert s.recv(4096).startswith(b"SIP/2.0 200"), "OPTIONS over TLS"
    held.append(s)
time.sleep(0.5)
rss = [l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")][0]
print(rss.split()[1])
PY
	after=$(cat "$work/idle.out")
	echo "$kt: RSS $before kB idle, $after kB with $conns idle TLS connections: $(( (after - before) * 1024 / conns )) bytes each"
	t0=$(bench_cpu "$pid")
	taskset -c 1 true 2>/dev/null && pin1="taskset -c 1" || pin1=""
	n=$($pin1 openssl s_time -connect "127.0.0.1:$tport" -new -time "$secs" \
		2>/dev/null | awk '/connections in [0-9.]+ real/{print $1; exit}')
	t1=$(bench_cpu "$pid")
	tck=$(getconf CLK_TCK)
	echo "$kt: $n full handshakes in $secs s ($(( n / secs ))/s); daemon CPU $(( (t1 - t0) * 1000000 / tck / (n > 0 ? n : 1) )) us per handshake"
	kill "$pid"
	wait "$pid" || true
}

trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
pid=
echo "binary: $(stat -c %s "$bin") bytes"
strip -o "$work/stripped" "$bin"
echo "stripped: $(stat -c %s "$work/stripped") bytes"
run_one ec
run_one rsa
