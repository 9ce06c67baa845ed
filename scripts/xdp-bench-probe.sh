#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# xdp-bench-probe.sh - does this xdp-bench work on the running kernel?
#
# The one check install-deps.sh and bench.sh share. It needs no traffic: on a
# veth pair in a namespace of its own, `xdp-bench drop` must attach (Debian 12's
# 1.3.1 fails right there on 6.18, its tracepoint programs naming
# xdp_redirect_map_err, docs/PLATFORM.md) and `xdp-bench xsk-drop` must bind its
# AF_XDP socket (xdp-tools 1.6.0 and later). Each is stopped with SIGINT as soon
# as it says it runs, so a probe takes a fraction of a second; the namespace, and
# with it the pair and anything attached, is removed on exit.
#
# Prints one line: "PATH: works (VERSION)" and exits 0, or "PATH: WHY" and
# exits 1. Exit 77 when not root (namespaces and XDP need it), 2 on usage.
set -uo pipefail

case "${1:-}" in
-h|--help) echo "Usage: scripts/xdp-bench-probe.sh [XDP_BENCH]   (default: xdp-bench in PATH)"; exit 0 ;;
-*) echo "xdp-bench-probe: unknown option '$1'" >&2; exit 2 ;;
esac
xb=${1:-$(command -v xdp-bench || true)}
[ -n "$xb" ] || { echo "xdp-bench: not installed"; exit 1; }
[ -x "$xb" ] || { echo "$xb: not an executable"; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "$xb: not probed (needs root)"; exit 77; }

ns=xdpb-probe-$$-$RANDOM
log=$(mktemp)
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -f "$log"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

ip netns add "$ns" 2>/dev/null &&
	ip -n "$ns" link add xp0 type veth peer name xp1 &&
	ip -n "$ns" link set xp0 up && ip -n "$ns" link set xp1 up ||
	{ echo "$xb: not probed (cannot create a veth pair in a namespace)"; exit 1; }

# runs CMD PATTERN: CMD on xp0 prints PATTERN within 5 s while still running.
runs() {
	local t
	: >"$log"
	ip netns exec "$ns" "$xb" "$1" -i 1 xp0 >"$log" 2>&1 &
	pid=$!
	for ((t = 0; t < 100; t++)); do
		if grep -q -- "$2" "$log"; then
			kill -INT "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			pid=
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
	return 1
}

# why: the first line of the log that says what went wrong.
why() { { grep -m1 -iE "unknown|fail|error|not supported|invalid" "$log" || tail -n 1 "$log"; } | sed "s/^[[:space:]]*//"; }

version=$("$xb" drop --version 2>/dev/null | head -n 1)
if ! runs drop '^Dropping packets on'; then
	echo "$xb: xdp-bench drop fails on this kernel: $(why)"
	exit 1
fi
if ! runs xsk-drop 'using AF_XDP sockets'; then
	echo "$xb: xdp-bench xsk-drop fails: $(why)"
	exit 1
fi
echo "$xb: works (${version:-version unknown})"
