# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# ab-pair.sh - what the scripts that compare builds (bench-ab.sh,
# bench-instr.sh) share, sourced after they set top and die: one veth pair in
# two namespaces of their own, removed at exit together with a scratch
# directory and the generator, and the generator itself: ntad -m txonly on
# the peer, sending into DEV (XDP live frames, which ntad-gen needs, are
# refused by some kernels: docs/PLATFORM.md).
#
#   pair_setup TAG BUILD      ns_a ns_b dev peer dev_mac peer_mac tmp; EXIT trap
#   gen_start BUILD SIZE CPU  the generator, pinned to CPU, until gen_stop
#   cg_per_packet OUT LOG N   callgrind's instructions per packet of the queue
#                             thread (bench-instr.sh, bench-delay.sh --callgrind)

gen_pid=
gen_stop() {
	if [ -n "$gen_pid" ]; then
		kill "$gen_pid" 2>/dev/null
		wait "$gen_pid" 2>/dev/null
	fi
	gen_pid=
}

_pair_cleanup() {
	gen_stop
	"$top/scripts/setup-veth.sh" teardown --dev "$dev" --dev-netns "$ns_a" --peer "$peer" \
		--netns "$ns_b" >/dev/null 2>&1
	rm -rf "$tmp"
}

pair_setup() {
	ns_a=ntad-a-$1 ns_b=ntad-b-$1 dev=n$1 peer=n${1}p
	tmp=$(mktemp -d)
	trap _pair_cleanup EXIT
	"$top/scripts/setup-veth.sh" setup --dev "$dev" --dev-netns "$ns_a" --peer "$peer" --netns "$ns_b" \
		--build "$2" >/dev/null || die "cannot make the veth pair"
	dev_mac=$(ip -n "$ns_a" -j link show dev "$dev" | jq -r '.[0].address')
	peer_mac=$(ip -n "$ns_b" -j link show dev "$peer" | jq -r '.[0].address')
}

gen_start() {
	ip netns exec "$ns_b" taskset -c "$3" "$1/ntad" -i "$peer" -m txonly --size "$2" \
		--dst-mac "$dev_mac" -d 600 --interval 0 >/dev/null 2>&1 &
	gen_pid=$!
}

# The queue thread's inclusive instructions in callgrind file OUT / N, or "-"
# (status 1) when the run, whose JSON output is LOG, did not stop on its count.
cg_per_packet() {
	local sym ir
	# The queue thread's entry: ntad_worker_thread (libntad), ntad_engine_thread before it.
	sym=$(callgrind_annotate --inclusive=yes "$1" 2>/dev/null |
		grep -E ' [^ ]*:ntad_(worker|engine)_thread ' | head -n 1)
	ir=$(awk '{ gsub(",", "", $1); print $1 }' <<<"$sym")
	if [ -z "$ir" ] || ! grep -q '"stop":"count"' "$2"; then
		echo -
		return 1
	fi
	echo $((ir / $3))
}
