#!/usr/bin/env bash
# The OpenWrt init script (board/openwrt/files/simpled.init) against the
# procd shim: what it asks procd for at start, that a reload after an
# edit sends SIGHUP and restarts nothing, that a bad file is refused with
# the option's name before procd hears of it, and that the shipped
# /etc/config/simpled passes `simpled -t`. Usage: test_init.sh SIMPLED
set -u
bin=${1:?simpled binary}
here=$(cd "$(dirname "$0")" && pwd)
files=$here/../../../board/openwrt/files
work=$(mktemp -d "${TMPDIR:-/tmp}/initd.XXXXXX")
trap 'rm -rf "$work"' EXIT
SHIM_LOG=$work/log
SHIM_STATE=$work/procd
fail() {
	echo "FAIL [init]: $*" >&2
	cat "$SHIM_LOG" >&2 2>/dev/null
	exit 1
}
has() { grep -qxF -- "$1" "$SHIM_LOG" || fail "no '$1'"; }

shellcheck -s sh "$files/simpled.init" "$here/procd_shim.sh" ||
	fail "shellcheck"

# The shipped file as it is, then with its paths moved into $work.
"$bin" -t -c "$files/simpled.config" > /dev/null ||
	fail "the shipped /etc/config/simpled is refused"
conf=$work/simpled
sed -e "s|'/etc/simpled'|'$work/state'|" \
	-e "s|/var/run/simpled/ctl.sock|$work/run/ctl.sock|" \
	"$files/simpled.config" > "$conf"
# Installed 0600 (INSTALL_CONF): it will hold password hashes.
grep -q 'INSTALL_CONF) ./files/simpled.config' "$files/../Makefile" ||
	fail "the package does not install /etc/config/simpled 0600"

# shellcheck source=procd_shim.sh
. "$here/procd_shim.sh"
# shellcheck disable=SC1090
. "$files/simpled.init"
PROG=$bin # after the script set its own
CONF=$conf

: > "$SHIM_LOG"
rc start || fail "start failed"
has "param command $bin -f -c $CONF"
has "param respawn 3600 5 5"
has "param user simpled"
has "param group simpled"
has "param file $CONF"
has "param reload_signal HUP"
has "procd: start"
has "trigger config.change simpled reload"
has "trigger interface.* lan /etc/init.d/simpled reload"
has "chown simpled:simpled $work/state $work/run"
[ -d "$work/state" ] && [ "$(stat -c %a "$work/state")" = 700 ] ||
	fail "state_dir not made 0700"

# An edit, then reload_config: SIGHUP, no restart.
sed -i "s/option log_level 'info'/option log_level 'debug'/" "$CONF"
: > "$SHIM_LOG"
rc reload || fail "reload failed"
has "procd: signal HUP to simpled *"
grep -q "restart" "$SHIM_LOG" && fail "a reload restarted it"
# procd's own path (the instance set again with its file changed): the
# reload signal too.
sed -i "s/option log_level 'debug'/option log_level 'warning'/" "$CONF"
: > "$SHIM_LOG"
start_service || fail "start_service again"
has "procd: signal HUP"

# A bad value: refused with file:line and the option, procd not asked,
# the error logged.
sed -i "s/option log_level 'warning'/option log_level 'loud'/" "$CONF"
: > "$SHIM_LOG"
err=$(rc start 2>&1) && fail "started with a bad file"
echo "$err" | grep -q "$CONF:[0-9]*:.*log_level" ||
	fail "the refusal does not name the option: $err"
grep -q "^param" "$SHIM_LOG" && fail "procd was asked anyway"
grep -q "^logger .*log_level" "$SHIM_LOG" || fail "not logged"
: > "$SHIM_LOG"
rc reload 2> /dev/null && fail "reloaded a bad file"
grep -q "signal" "$SHIM_LOG" && fail "a bad file was signalled"

# The sysctl the package installs gives the unprivileged daemon the UDP
# receive buffer the shipped file asks for (udp_rcvbuf_kb, default 2048).
max=$(sed -n 's/^net.core.rmem_max=//p' "$files/simpled.sysctl")
[ "$max" -ge $((2048 * 1024)) ] || fail "rmem_max $max below udp_rcvbuf_kb"
grep -q "simpled.sysctl" "$files/../Makefile" || fail "sysctl not installed"

# The sysupgrade list keeps the configuration and the store.
grep -qx "/etc/config/simpled" "$files/simpled.keep" &&
	grep -qx "/etc/simpled/" "$files/simpled.keep" || fail "keep.d"
echo "init script: ok"
