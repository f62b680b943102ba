# Shared by the bench scripts: a free UDP port on loopback and the daemon
# started on a config, stopped and cleaned up on exit.
free_port() {
	/usr/bin/python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# bench_cpu PID: its user and system CPU so far, in clock ticks.
bench_cpu() {
	awk '{print $14 + $15}' "/proc/$1/stat"
}

# bench_daemon BIN WORK: start BIN on WORK/simpled.conf; sets $pid.
bench_daemon() {
	"$1" -f -c "$2/simpled.conf" 2> "$2/log" &
	pid=$!
	trap 'kill $pid 2>/dev/null; rm -rf "'"$2"'"' EXIT
	sleep 0.3
}

# bench_conf WORK PORT [DOMAIN]: the main section every bench uses, into
# WORK/simpled.conf; callers append their own sections.
bench_conf() {
	cat > "$1/simpled.conf" <<CONF
config simpled 'main'
	list domain '${3:-bench.test}'
	list listen 'udp:127.0.0.1:$2'
	option state_dir '$1/state'
	option log_level 'warn'
	option open_registration '1'
CONF
}
