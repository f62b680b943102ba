# shellcheck shell=sh
# A stand-in for what /etc/rc.common, procd.sh and functions.sh give an
# OpenWrt init script, recording what the script asks procd for into
# $SHIM_LOG, and modelling how procd answers a service set again (its
# reload): an instance whose command, user or group changed is
# restarted; one whose only change is a watched file's content gets its
# reload_signal instead, or is restarted without one; else nothing.
# Sourced by test_init.sh; $SHIM_STATE holds procd's side.

shim() { echo "$*" >> "$SHIM_LOG"; }

# functions.sh: `config_get VAR SECTION OPTION DEFAULT` from the UCI file
# named by $CONF (enough of it for the sections the script reads).
config_load() { :; }
config_get() {
	_v=$(awk -v s="$2" -v o="$3" '
		$1 == "config" { sec = $3; gsub(/\x27/, "", sec) }
		$1 == "option" && $2 == o && sec == s {
			v = $3; gsub(/\x27/, "", v); print v; exit }' "$CONF")
	eval "$1=\${_v:-\$4}"
}
logger() { shim "logger $*"; }
chown() { shim "chown $*"; }

procd_open_instance() { _inst=""; _file=""; _sig=""; }
procd_set_param() {
	_k=$1
	shift
	case "$_k" in
	file) _file=$1 ;;
	reload_signal) _sig=$1 ;;
	esac
	_inst="$_inst$_k=$*;"
	shim "param $_k $*"
}
procd_close_instance() {
	_sum=$(cksum < "$_file")
	if [ ! -f "$SHIM_STATE" ]; then
		shim "procd: start"
	elif [ "$(sed -n 1p "$SHIM_STATE")" != "$_inst" ]; then
		shim "procd: restart (parameters changed)"
	elif [ "$(sed -n 2p "$SHIM_STATE")" != "$_sum" ]; then
		if [ -n "$_sig" ]; then
			shim "procd: signal $_sig"
		else
			shim "procd: restart (file changed)"
		fi
	else
		shim "procd: nothing"
	fi
	printf '%s\n%s\n' "$_inst" "$_sum" > "$SHIM_STATE"
}
procd_send_signal() { shim "procd: signal ${3:-HUP} to $1 $2"; }
procd_add_reload_trigger() { shim "trigger config.change $* reload"; }
procd_add_interface_trigger() { shim "trigger $*"; }
procd_add_reload_interface_trigger() {
	shim "trigger interface.* $1 /etc/init.d/simpled reload"
}

# rc.common: an action runs the script's functions as procd would.
rc() {
	case "$1" in
	start)
		start_service && service_triggers
		;;
	reload)
		if type reload_service > /dev/null 2>&1; then
			reload_service
		else
			start_service
		fi
		;;
	esac
}
