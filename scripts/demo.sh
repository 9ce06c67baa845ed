#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ntad demo: make a veth pair between two network namespaces, run ntad on one end
# in its three single-interface modes against real traffic from the other end,
# and remove everything again (also on failure or Ctrl-C).
#
#   scripts/demo.sh [--build DIR] [--count N]      (root; `make demo` runs it)
set -euo pipefail

build=build count=20000
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift ;;
	--count) count=$2; shift ;;
	-h|--help) sed -n '3,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "demo: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
ntad=$build/ntad peer_tool=$build/tests/tools/ntad-peer
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (it creates namespaces and attaches XDP programs); run: sudo make demo" >&2
	exit 1
fi
for f in "$ntad" "$peer_tool"; do
	[ -x "$f" ] || { echo "demo: $f is missing; run: make" >&2; exit 1; }
done

ns_a=ntad-demo-a ns_b=ntad-demo-b dev=ntdemo0 peer=ntdemo0p
veth=("$top/scripts/setup-veth.sh" --build "$build" --dev "$dev" --peer "$peer"
	--dev-netns "$ns_a" --netns "$ns_b")
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	"${veth[@]}" teardown >/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }

step "veth pair $dev ($ns_a) <-> $peer ($ns_b)"
"${veth[@]}" setup
dev_mac=$(ip -n "$ns_a" -br link show "$dev" | awk '{print $3}')
peer_mac=$(ip -n "$ns_b" -br link show "$peer" | awk '{print $3}')
addrs=(--src-mac "$peer_mac" --dst-mac "$dev_mac")

step "rxdrop: the peer sends $count IMIX packets; ntad receives and checks every payload"
ip netns exec "$ns_a" "$ntad" -i "$dev" --mode rxdrop --verify -n "$count" -d 30 &
pid=$!
sleep 1
ip netns exec "$ns_b" "$peer_tool" send -i "$peer" -n "$count" --imix "${addrs[@]}"
wait "$pid"; pid=

step "l2fwd: ntad swaps MACs and returns every packet; the peer checks each one"
ip netns exec "$ns_a" "$ntad" -i "$dev" --mode l2fwd -d 30 -I 5 &
pid=$!
sleep 1
ip netns exec "$ns_b" "$peer_tool" echo -i "$peer" -n "$((count / 4))" --sizes 64,576,1500 \
	--expect-swapped-macs "${addrs[@]}"
kill -INT "$pid"; wait "$pid"; pid=

step "txonly: ntad generates $count IMIX packets; the peer checks each one"
ip netns exec "$ns_b" "$peer_tool" recv -i "$peer" -n "$count" --timeout 5000 &
pid=$!
sleep 1
ip netns exec "$ns_a" "$ntad" -i "$dev" --mode txonly --imix -n "$count" \
	--src-mac "$dev_mac" --dst-mac "$peer_mac"
wait "$pid"; pid=

step "teardown"
"${veth[@]}" teardown
trap - EXIT
echo "demo: done; nothing is left on the machine"
