# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# lib.sh - what every network test sources: . "$NTAD_TOP/tests/net/lib.sh"
#
# A test calls net_init first, then net_veth for a veth pair between two
# namespaces of its own (made by scripts/setup-veth.sh, so xdp_pass sits on the
# peer and the devices carry the script's marks), runs commands in them with
# in_a/in_b and bg_a/bg_b, and leaves; the EXIT trap kills what bg_* started
# (by PID, TERM then KILL) and tears the pair and both namespaces down, also
# when the test fails half-way or the runner's timeout sends SIGTERM.
#
# Names are unique per test run (from $$ and $RANDOM), so tests can run in
# parallel and never meet an interface they did not make.
#
#   net_init                   root or exit 77; set -eu; EXIT trap; names
#   net_veth [--mtu N] [--queues N] [--no-peer-xdp]
#                              pair DEV (in NS_A) <-> PEER (in NS_B); exports
#                              NS_A NS_B DEV PEER DEV_MAC PEER_MAC DEV_IP PEER_IP
#                              (calling it again replaces the pair)
#   net_veth2                  a second pair DEV2 (in NS_A) <-> PEER2 (in NS_B)
#                              without addresses, for -o; exports DEV2 PEER2
#                              DEV2_MAC PEER2_MAC; removed at exit before NS_A/B
#   in_a CMD... / in_b CMD...  run CMD in NS_A / NS_B
#   bg_a VAR CMD... / bg_b VAR CMD...
#                              CMD in the background in NS_A / NS_B, output to
#                              $TEST_TMP/VAR.log, PID in $VAR
#   wait_pid PID SECONDS       exit status of PID, or 124 after SECONDS
#   xdp_prog_on NS DEV         true if an XDP program is attached to DEV in NS
#   at_exit CMD...             run CMD at exit (after bg_* processes are gone,
#                              before the pair is torn down), newest first
#   check_summary NAME JSON CHECK...
#                              JSON (ntad's summary line, kept in S) passes the
#                              exit accounting every run owes (no UMEM byte in
#                              use, nta_check ok, no ledger violation, no pool
#                              error) and every jq CHECK
#   no_sanitizer_report NAME   $TEST_TMP/NT.log holds no ASan/UBSan/LSan/TSan report
#   summary_ok NAME CHECK...   no_sanitizer_report, then check_summary for the
#                              summary in $TEST_TMP/NT.log
#   wait_ntad NAME SECONDS CHECK...
#                              ntad ($NT) exits 0 within SECONDS (else it is
#                              stopped and its summary shown), summary_ok NAME
#                              CHECK..., no XDP program left on DEV
#   stop_ntad NAME CHECK...    SIGTERM to $NT, then wait_ntad NAME 10 CHECK...
#   fail MSG / skip MSG / log MSG
#   TEST_TMP, NTAD, PEER_TOOL  scratch dir (removed at exit), the binaries
#
# Tests must not install their own EXIT trap (it would replace this one).

NTAD_TOP=${NTAD_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
NTAD_BUILD=${NTAD_BUILD:-$NTAD_TOP/build}
NTAD=$NTAD_BUILD/ntad
PEER_TOOL=$NTAD_BUILD/tests/tools/ntad-peer
SETUP_VETH=$NTAD_TOP/scripts/setup-veth.sh

_net_pids=()     # started by bg_*, not yet reaped
_net_at_exit=()  # commands of at_exit, one string each
_net_veth_args=() # setup-veth.sh names of the pair made, for teardown
_net_test=$(basename "${0:-test}" .sh)

log() {
	printf '[%s] %s: %s\n' "$(date +%T.%3N)" "$_net_test" "$*"
}

fail() {
	_net_fail_msg="FAIL: $_net_test: $*"
	echo "$_net_fail_msg" >&2
	exit 1
}

skip() {
	_net_skip_msg="SKIP: $_net_test: $*"
	echo "$_net_skip_msg"
	exit 77
}

# _net_alive PID: running (a zombie is not: it has exited, only not reaped).
_net_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

_net_forget() {
	local p keep=()
	for p in "${_net_pids[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	_net_pids=("${keep[@]}")
}

_net_cleanup() {
	local rc=$? p t f
	# Finish the cleanup even if the runner sends more signals meanwhile.
	trap '' TERM INT HUP
	set +e

	if [ ${#_net_pids[@]} -gt 0 ]; then
		for p in "${_net_pids[@]}"; do
			kill -TERM "$p" 2>/dev/null
		done
		for ((t = 0; t < 30; t++)); do
			f=0
			for p in "${_net_pids[@]}"; do
				_net_alive "$p" && f=1
			done
			[ $f -eq 0 ] && break
			sleep 0.1
		done
		for p in "${_net_pids[@]}"; do
			_net_alive "$p" && kill -KILL "$p" 2>/dev/null
			wait "$p" 2>/dev/null
		done
	fi

	# On failure the background logs are the first thing one wants to see.
	if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ -n "${TEST_TMP:-}" ]; then
		for f in "$TEST_TMP"/*.log; do
			[ -f "$f" ] || continue
			echo "---- $(basename "$f") (last 25 lines) ----" >&2
			tail -n 25 "$f" >&2
		done
	fi

	for ((t = ${#_net_at_exit[@]} - 1; t >= 0; t--)); do
		eval "${_net_at_exit[t]}" >&2
	done
	_net_teardown >&2
	[ -n "${TEST_TMP:-}" ] && rm -rf "$TEST_TMP"
	# The runner shows the last lines of a test: keep the reason there, after the logs.
	[ $rc -eq 77 ] && [ -n "${_net_skip_msg:-}" ] && echo "$_net_skip_msg"
	[ -n "${_net_fail_msg:-}" ] && echo "$_net_fail_msg" >&2
	exit $rc
}

_net_teardown() {
	local out
	[ ${#_net_veth_args[@]} -gt 0 ] || return 0
	out=$("$SETUP_VETH" teardown "${_net_veth_args[@]}" 2>&1) ||
		echo "lib.sh: teardown failed: $out"
	_net_veth_args=()
}

net_init() {
	set -eu
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: $_net_test: needs root (network namespaces, XDP); run as root: make check-net"
		exit 77
	fi
	command -v jq >/dev/null || { echo "SKIP: $_net_test: jq missing; run scripts/install-deps.sh"; exit 77; }
	TEST_TMP=$(mktemp -d "/tmp/ntad-$_net_test.XXXXXX")
	trap _net_cleanup EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
	trap 'exit 129' HUP

	# Up to 6 hex digits of PID (pid_max <= 4M) and 4 of $RANDOM: DEV and
	# PEER stay within the 15 characters of an interface name.
	_net_id=$(printf '%x%04x' $$ $((RANDOM)))
	NS_A=ntad-a-$_net_id
	NS_B=ntad-b-$_net_id
	DEV=n$_net_id
	PEER=n${_net_id}p
	DEV_IP=10.77.0.1
	PEER_IP=10.77.0.2
	DEV_MAC= PEER_MAC=
	export NS_A NS_B DEV PEER DEV_IP PEER_IP DEV_MAC PEER_MAC TEST_TMP NTAD PEER_TOOL NTAD_BUILD NTAD_TOP
}

net_veth() {
	local extra=() out
	while [ $# -gt 0 ]; do
		case "$1" in
		--mtu|--queues) [ $# -ge 2 ] || fail "net_veth: $1 needs a value"; extra+=("$1" "$2"); shift ;;
		--no-peer-xdp) extra+=("$1") ;;
		*) fail "net_veth: unknown option '$1'" ;;
		esac
		shift
	done
	[ -n "${NS_A:-}" ] || fail "net_veth: call net_init first"
	_net_teardown
	local names=(--dev "$DEV" --dev-netns "$NS_A" --peer "$PEER" --netns "$NS_B")
	# Recorded before setup: a setup killed half-way is still torn down.
	_net_veth_args=("${names[@]}")
	out=$("$SETUP_VETH" setup "${names[@]}" --build "$NTAD_BUILD" \
		--addr "$DEV_IP/24" --peer-addr "$PEER_IP/24" "${extra[@]}" 2>&1) ||
		fail "net_veth: setup-veth.sh failed: $out"
	log "$out"
	DEV_MAC=$(ip -n "$NS_A" -j link show dev "$DEV" | jq -r '.[0].address')
	PEER_MAC=$(ip -n "$NS_B" -j link show dev "$PEER" | jq -r '.[0].address')
	export DEV_MAC PEER_MAC
}

net_veth2() {
	local v
	DEV2=${DEV}b PEER2=${DEV}c
	v=("$SETUP_VETH" --dev "$DEV2" --dev-netns "$NS_A" --peer "$PEER2" --netns "$NS_B"
		--build "$NTAD_BUILD")
	# It shares NS_A and NS_B, which can only go once it is gone: at_exit runs
	# first. (Its teardown also tries the namespaces, still in use: ignored.)
	at_exit eval "$(printf '%q ' "${v[@]}") teardown >/dev/null 2>&1 || true"
	"${v[@]}" setup --addr none --peer-addr none >/dev/null || fail "second veth pair"
	DEV2_MAC=$(ip -n "$NS_A" -j link show dev "$DEV2" | jq -r '.[0].address')
	PEER2_MAC=$(ip -n "$NS_B" -j link show dev "$PEER2" | jq -r '.[0].address')
	export DEV2 PEER2 DEV2_MAC PEER2_MAC
}

in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }

# _net_bg NS VAR CMD...
_net_bg() {
	local ns=$1 var=$2
	shift 2
	[[ "$var" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || fail "bg: '$var' is not a variable name"
	ip netns exec "$ns" "$@" >"$TEST_TMP/$var.log" 2>&1 &
	printf -v "$var" '%s' $!
	_net_pids+=($!)
}

bg_a() { _net_bg "$NS_A" "$@"; }
bg_b() { _net_bg "$NS_B" "$@"; }

wait_pid() {
	local pid=$1 secs=$2 rc=0 t limit
	limit=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 10 }')
	# Poll instead of a blocking wait so TERM from the runner is handled
	# at once rather than when the waited-for process ends.
	for ((t = 0; t < limit; t++)); do
		_net_alive "$pid" || break
		sleep 0.1
	done
	_net_alive "$pid" && return 124
	wait "$pid" || rc=$?
	_net_forget "$pid"
	return $rc
}

at_exit() {
	_net_at_exit+=("$(printf '%q ' "$@")")
}

xdp_prog_on() {
	ip -n "$1" -j link show dev "$2" 2>/dev/null | jq -e '.[0].xdp != null' >/dev/null
}

# wait_attached PID [SECONDS [DEV...]]: until ntad (PID) has its XDP program on
# every DEV in NS_A (default: $DEV); ntad attaches last, once its sockets are
# up. False when PID exits first or after SECONDS (default 5).
wait_attached() {
	local pid=$1 secs=${2:-5} i d all
	shift $(($# < 2 ? $# : 2))
	[ $# -gt 0 ] || set -- "$DEV"
	for ((i = 0; i < secs * 20; i++)); do
		all=1
		for d in "$@"; do
			xdp_prog_on "$NS_A" "$d" || { all=0; break; }
		done
		[ $all -eq 1 ] && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

check_summary() {
	local name=$1 check
	S=$2
	shift 2
	for check in ".umem_in_use_at_exit == 0" '.nta_check == "ok"' ".ledger_violations == 0" \
		".pool_errors == 0" "$@"; do
		jq -e "$check" <<<"$S" >/dev/null || fail "$name: summary fails $check: $S"
	done
}

no_sanitizer_report() {
	! grep -q 'ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer\|WARNING: ThreadSanitizer' \
		"$TEST_TMP/NT.log" || fail "$1: sanitizer report: $(grep -v '^{' "$TEST_TMP/NT.log" | head -n 60)"
}

summary_ok() {
	local name=$1 log=$TEST_TMP/NT.log s
	shift
	no_sanitizer_report "$name"
	s=$(grep '"type":"summary"' "$log") || fail "$name: no summary: $(tail -n 5 "$log")"
	log "$name: $s"
	check_summary "$name" "$s" "$@"
}

wait_ntad() {
	local name=$1 secs=$2 rc=0
	shift 2
	wait_pid "$NT" "$secs" || rc=$?
	if [ $rc -eq 124 ]; then
		kill -TERM "$NT" 2>/dev/null || true
		wait_pid "$NT" 5 || true
		fail "$name: ntad still running after $secs s: $(grep summary "$TEST_TMP/NT.log")"
	fi
	[ $rc -eq 0 ] || fail "$name: ntad exited with $rc: $(grep -v '^{' "$TEST_TMP/NT.log" | tail -n 20)"
	summary_ok "$name" "$@"
	! xdp_prog_on "$NS_A" "$DEV" || fail "$name: XDP program left on $DEV"
}

stop_ntad() {
	# An ntad that already died is wait_ntad's to report, with its exit status.
	kill -TERM "$NT" 2>/dev/null || true
	wait_ntad "$1" 10 "${@:2}"
}
