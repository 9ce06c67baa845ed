#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# setup-veth.sh - create, inspect and remove the veth pair ntad runs on.
#
# ntad needs an interface with a peer that can receive what it sends: on veth
# the receiving end needs NAPI, which an XDP program attached there provides
# (docs/PLATFORM.md), so the peer gets bpf/xdp_pass.bpf.o, a frags-aware
# program that also keeps MTUs above 3506 possible. iproute2 6.1 loads it
# through libbpf, which turns SEC("xdp.frags") into BPF_F_XDP_HAS_FRAGS (checked:
# a 9000-byte MTU is accepted on both ends with it, refused with a plain "xdp"
# program on the peer).
#
# Everything the script creates is marked, so it never touches what it did not
# make: both ends of the pair get the link alias "ntad-setup-veth", and each
# namespace it creates gets a marker file under /run/ntad-setup-veth/netns/.
# A failed setup rolls back what it had made; teardown of nothing succeeds.
set -eEuo pipefail

readonly MARK=ntad-setup-veth
readonly MARK_DIR=/run/ntad-setup-veth/netns
readonly MAX_QUEUES=64 # NTAD_MAX_QUEUES in include/ntad_bpf.h

usage() {
	cat <<'EOF'
Usage: setup-veth.sh setup|teardown|status [options]

  setup     create the namespace(s) and the veth pair, set MTU, queues and
            addresses, bring both ends up, attach xdp_pass to the peer
  teardown  remove the pair and the namespaces this script created
  status    show the pair, namespaces, MTU, queues, addresses, XDP programs

Options (teardown and status need the same names as setup):
  --dev NAME          ntad's end of the pair (default ntad0)
  --dev-netns NS      namespace of --dev (default: the current one)
  --peer NAME         the other end (default ntad0p)
  --netns NS          namespace of --peer (default ntad-peer)
  --mtu N             MTU of both ends, 68..65535 (default 1500)
  --queues N          rx and tx queues of both ends, 1..64 (default 1)
  --addr CIDR         address of --dev, or "none" (default 10.77.0.1/24)
  --peer-addr CIDR    address of --peer, or "none" (default 10.77.0.2/24)
  --no-peer-xdp       do not attach xdp_pass to the peer (it then cannot
                      receive what ntad sends unless GRO is on)
  --build DIR         where bpf/xdp_pass.bpf.o is (default $NTAD_BUILD, else ./build)
  -h, --help          this text

IPv6 is disabled on both ends so that only the traffic a test sends crosses
the pair. Devices and namespaces not created by this script are never changed.
EOF
}

die() {
	echo "setup-veth.sh: $*" >&2
	rollback
	exit 1
}

usage_error() {
	echo "setup-veth.sh: $*" >&2
	echo "setup-veth.sh: see setup-veth.sh --help" >&2
	exit 2
}

# ---- arguments -------------------------------------------------------------

cmd=
dev=ntad0 peer=ntad0p netns=ntad-peer dev_netns=
mtu=1500 queues=1 addr=10.77.0.1/24 peer_addr=10.77.0.2/24 peer_xdp=1
build=${NTAD_BUILD:-./build}

need_arg() {
	[ $# -ge 2 ] && [ -n "$2" ] || usage_error "option $1 needs a value"
}

while [ $# -gt 0 ]; do
	case "$1" in
	setup|teardown|status)
		[ -z "$cmd" ] || usage_error "one command only (got '$cmd' and '$1')"
		cmd=$1 ;;
	--dev) need_arg "$@"; dev=$2; shift ;;
	--peer) need_arg "$@"; peer=$2; shift ;;
	--netns) need_arg "$@"; netns=$2; shift ;;
	--dev-netns) need_arg "$@"; dev_netns=$2; shift ;;
	--mtu) need_arg "$@"; mtu=$2; shift ;;
	--queues) need_arg "$@"; queues=$2; shift ;;
	--addr) need_arg "$@"; addr=$2; shift ;;
	--peer-addr) need_arg "$@"; peer_addr=$2; shift ;;
	--no-peer-xdp) peer_xdp=0 ;;
	--build) need_arg "$@"; build=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage_error "unknown argument '$1'" ;;
	esac
	shift
done
[ -n "$cmd" ] || usage_error "missing command: setup, teardown or status"

valid_ifname() {
	# The kernel's rule (dev_valid_name): 1..15 bytes, no '/', ':' or
	# whitespace, not "." or "..".
	[[ ${#1} -ge 1 && ${#1} -le 15 && "$1" != "." && "$1" != ".." && "$1" != *[/:[:space:]]* ]]
}
valid_netns() { [[ "$1" =~ ^[A-Za-z0-9_.-]{1,64}$ && "$1" != "." && "$1" != ".." ]]; }
valid_cidr() {
	local a b c d n
	[ "$1" = none ] && return 0
	[[ "$1" =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})/([0-9]{1,2})$ ]] || return 1
	a=${BASH_REMATCH[1]} b=${BASH_REMATCH[2]} c=${BASH_REMATCH[3]} d=${BASH_REMATCH[4]} n=${BASH_REMATCH[5]}
	((10#$a <= 255 && 10#$b <= 255 && 10#$c <= 255 && 10#$d <= 255 && 10#$n <= 32))
}

valid_ifname "$dev" || usage_error "--dev '$dev' is not a valid interface name (1..15 characters, no '/', ':' or spaces)"
valid_ifname "$peer" || usage_error "--peer '$peer' is not a valid interface name (1..15 characters, no '/', ':' or spaces)"
valid_netns "$netns" || usage_error "--netns '$netns' is not a valid namespace name (letters, digits, '_', '.', '-')"
[ -z "$dev_netns" ] || valid_netns "$dev_netns" ||
	usage_error "--dev-netns '$dev_netns' is not a valid namespace name (letters, digits, '_', '.', '-')"
[ "$dev_netns" != "$netns" ] ||
	usage_error "--dev-netns and --netns are both '$netns'; the two ends need different namespaces"
[[ "$mtu" =~ ^[0-9]{1,5}$ ]] && ((10#$mtu >= 68 && 10#$mtu <= 65535)) ||
	usage_error "--mtu '$mtu' is out of range; give 68..65535"
mtu=$((10#$mtu))
[[ "$queues" =~ ^[0-9]{1,3}$ ]] && ((10#$queues >= 1 && 10#$queues <= MAX_QUEUES)) ||
	usage_error "--queues '$queues' is out of range; give 1..$MAX_QUEUES (the XSKMAP size)"
queues=$((10#$queues))
valid_cidr "$addr" || usage_error "--addr '$addr' is not an IPv4 address with prefix (like 10.77.0.1/24) or 'none'"
valid_cidr "$peer_addr" || usage_error "--peer-addr '$peer_addr' is not an IPv4 address with prefix (like 10.77.0.2/24) or 'none'"

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces and links); run it with sudo"
command -v ip >/dev/null || die "'ip' not found; run scripts/install-deps.sh"
command -v jq >/dev/null || die "'jq' not found; run scripts/install-deps.sh"

xdp_obj=$build/bpf/xdp_pass.bpf.o

# ---- helpers ----------------------------------------------------------------

# ipn NS ARGS...: ip in namespace NS ("" = the current one).
ipn() {
	local ns=$1
	shift
	if [ -n "$ns" ]; then ip -n "$ns" "$@"; else ip "$@"; fi
}

# in_ns NS CMD...: run CMD in namespace NS ("" = the current one).
in_ns() {
	local ns=$1
	shift
	if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

ns_label() { if [ -n "$1" ]; then echo "netns $1"; else echo "the current netns"; fi; }
ns_exists() { [ -n "$1" ] || return 0; [ -e "/run/netns/$1" ]; }
ns_ours() { [ -n "$1" ] && [ -e "$MARK_DIR/$1" ]; }

# link_json NS DEV: one link's details as JSON, or nothing when absent.
link_json() {
	ns_exists "$1" || return 0
	ipn "$1" -d -j link show dev "$2" 2>/dev/null | jq -c '.[0] // empty' 2>/dev/null || true
}

link_ours() { [ "$(jq -r '.ifalias // ""' <<<"$1")" = "$MARK" ]; }

link_addrs() {
	ipn "$1" -j addr show dev "$2" 2>/dev/null |
		jq -r '[.[0].addr_info[]? | select(.family == "inet") | "\(.local)/\(.prefixlen)"] | join(",")'
}

# ---- rollback ---------------------------------------------------------------

# Undo actions, newest first, run when setup fails half-way.
undo=()
rollback() {
	local i
	for ((i = ${#undo[@]} - 1; i >= 0; i--)); do
		eval "${undo[i]}" >/dev/null 2>&1 || true
	done
	undo=()
}

setup_failed() {
	local rc=$?
	trap - ERR
	rollback
	echo "setup-veth.sh: setup failed (exit $rc) while $1; everything it had made was removed" >&2
	exit 1
}

# ---- commands ----------------------------------------------------------------

make_ns() {
	local ns=$1
	[ -n "$ns" ] || return 0
	if ns_exists "$ns"; then
		ns_ours "$ns" && return 0
		die "netns '$ns' exists and was not created by setup-veth.sh; pick another name or delete it yourself (ip netns del $ns)"
	fi
	ip netns add "$ns"
	undo+=("ip netns del '$ns'; rm -f '$MARK_DIR/$ns'")
	mkdir -p "$MARK_DIR"
	: >"$MARK_DIR/$ns"
	in_ns "$ns" ip link set lo up
	made+=("netns $ns")
}

# same_setup DEVJSON PEERJSON: empty when the pair is what the options ask,
# otherwise the first difference.
same_setup() {
	local d=$1 p=$2 want have
	for j in "$d" "$p"; do
		have=$(jq -r '.mtu' <<<"$j")
		[ "$have" = "$mtu" ] || { echo "MTU $have, not $mtu"; return; }
		have=$(jq -r '.num_rx_queues' <<<"$j")
		[ "$have" = "$queues" ] || { echo "$have queues, not $queues"; return; }
		have=$(jq -r '.flags | index("UP") != null' <<<"$j")
		[ "$have" = true ] || { echo "$(jq -r .ifname <<<"$j") is down"; return; }
	done
	want=$([ "$addr" = none ] || echo "$addr")
	have=$(link_addrs "$dev_netns" "$dev")
	[ "$have" = "$want" ] || { echo "$dev has address '${have:-none}', not '${want:-none}'"; return; }
	want=$([ "$peer_addr" = none ] || echo "$peer_addr")
	have=$(link_addrs "$netns" "$peer")
	[ "$have" = "$want" ] || { echo "$peer has address '${have:-none}', not '${want:-none}'"; return; }
	have=$(jq -r 'if .xdp then "1" else "0" end' <<<"$p")
	[ "$have" = "$peer_xdp" ] || { echo "XDP on $peer is $([ "$have" = 1 ] && echo on || echo off)"; return; }
}

cmd_setup() {
	local dj pj diff step=
	made=()

	dj=$(link_json "$dev_netns" "$dev")
	pj=$(link_json "$netns" "$peer")
	if [ -n "$dj" ] && ! link_ours "$dj"; then
		die "$dev in $(ns_label "$dev_netns") exists and was not created by setup-veth.sh; pick another --dev"
	fi
	if [ -n "$pj" ] && ! link_ours "$pj"; then
		die "$peer in $(ns_label "$netns") exists and was not created by setup-veth.sh; pick another --peer"
	fi
	if [ -n "$dj" ] && [ -n "$pj" ]; then
		diff=$(same_setup "$dj" "$pj")
		[ -z "$diff" ] || die "$dev/$peer already exist with other settings ($diff); run teardown first"
		echo "setup-veth.sh: $dev ($(ns_label "$dev_netns")) <-> $peer ($(ns_label "$netns")) already set up as asked"
		return 0
	fi
	if [ -n "$dj" ] || [ -n "$pj" ]; then
		die "only one end of $dev/$peer exists (the other was moved or renamed); run teardown first"
	fi
	if [ "$peer_xdp" = 1 ] && [ ! -f "$xdp_obj" ]; then
		die "$xdp_obj not found: build it (make B=$build bpf), point --build at a build tree, or pass --no-peer-xdp"
	fi

	trap 'setup_failed "$step"' ERR
	step="creating the namespaces"
	make_ns "$dev_netns"
	make_ns "$netns"
	step="creating the veth pair $dev/$peer with $queues queue(s)"
	ipn "$dev_netns" link add "$dev" numtxqueues "$queues" numrxqueues "$queues" type veth \
		peer name "$peer" netns "$netns" numtxqueues "$queues" numrxqueues "$queues"
	undo+=("ip ${dev_netns:+-n '$dev_netns'} link del dev '$dev'")
	ipn "$dev_netns" link set dev "$dev" alias "$MARK"
	ipn "$netns" link set dev "$peer" alias "$MARK"
	made+=("veth $dev ($(ns_label "$dev_netns")) <-> $peer (netns $netns), $queues queue(s)")

	# IPv6 off first: the addresses and router solicitations it would add
	# the moment the links come up are traffic no test asked for.
	step="disabling IPv6"
	in_ns "$dev_netns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
	in_ns "$netns" sysctl -qw "net.ipv6.conf.$peer.disable_ipv6=1"
	if [ "$peer_xdp" = 1 ]; then
		# Before the MTU: with it attached veth accepts jumbo MTUs.
		step="attaching $xdp_obj to $peer"
		ipn "$netns" link set dev "$peer" xdpdrv obj "$xdp_obj" sec xdp.frags
		made+=("xdp_pass on $peer")
	fi
	step="setting MTU $mtu"
	ipn "$dev_netns" link set dev "$dev" mtu "$mtu"
	ipn "$netns" link set dev "$peer" mtu "$mtu"
	step="adding the addresses"
	if [ "$addr" != none ]; then
		ipn "$dev_netns" addr add "$addr" dev "$dev"
		made+=("$dev $addr")
	fi
	if [ "$peer_addr" != none ]; then
		ipn "$netns" addr add "$peer_addr" dev "$peer"
		made+=("$peer $peer_addr")
	fi
	step="bringing the links up"
	ipn "$dev_netns" link set dev "$dev" up
	ipn "$netns" link set dev "$peer" up
	trap - ERR
	undo=()
	echo "setup-veth.sh: made: $(IFS=';'; echo "${made[*]}" | sed 's/;/; /g'); MTU $mtu"
}

remove_ns() {
	local ns=$1 others
	[ -n "$ns" ] || return 0
	if ! ns_exists "$ns"; then
		rm -f "$MARK_DIR/$ns"
		return 0
	fi
	if ! ns_ours "$ns"; then
		echo "setup-veth.sh: left netns $ns alone: not created by setup-veth.sh"
		return 0
	fi
	# Devices somebody else put there would die with the namespace.
	others=$(ip -n "$ns" -j link show | jq -r '[.[] | select(.ifname != "lo") | .ifname] | join(" ")')
	if [ -n "$others" ]; then
		echo "setup-veth.sh: left netns $ns in place: it still holds $others" >&2
		return 1
	fi
	ip netns del "$ns"
	rm -f "$MARK_DIR/$ns"
	removed+=("netns $ns")
}

cmd_teardown() {
	local dj pj rc=0
	removed=()

	dj=$(link_json "$dev_netns" "$dev")
	pj=$(link_json "$netns" "$peer")
	if [ -n "$dj" ] && ! link_ours "$dj"; then
		die "$dev in $(ns_label "$dev_netns") was not created by setup-veth.sh; not removing it"
	fi
	if [ -n "$pj" ] && ! link_ours "$pj"; then
		die "$peer in $(ns_label "$netns") was not created by setup-veth.sh; not removing it"
	fi
	if [ -n "$dj" ]; then
		ipn "$dev_netns" link del dev "$dev"
		removed+=("veth $dev/$peer")
	elif [ -n "$pj" ]; then
		ipn "$netns" link del dev "$peer"
		removed+=("veth $peer")
	fi
	remove_ns "$netns" || rc=1
	remove_ns "$dev_netns" || rc=1
	if [ ${#removed[@]} -eq 0 ]; then
		echo "setup-veth.sh: nothing to tear down"
	else
		echo "setup-veth.sh: removed: $(IFS=';'; echo "${removed[*]}" | sed 's/;/; /g')"
	fi
	return $rc
}

show_end() {
	local ns=$1 name=$2 j
	j=$(link_json "$ns" "$name")
	if [ -z "$j" ]; then
		printf '  %-15s %-22s absent\n' "$name" "($(ns_label "$ns"))"
		return 1
	fi
	jq -r --arg ns "$(ns_label "$ns")" --arg addrs "$(link_addrs "$ns" "$name")" --arg mark "$MARK" '
		"  \(.ifname) (\($ns))\(if .ifalias == $mark then "" else " [not made by setup-veth.sh]" end)\n" +
		"    state \(.operstate)  mtu \(.mtu)  queues rx \(.num_rx_queues) tx \(.num_tx_queues)  mac \(.address)\n" +
		"    addresses \(if $addrs == "" then "none" else $addrs end)\n" +
		"    xdp \(if .xdp then (.xdp.prog // (.xdp.attached[0].prog // {})) as $p |
			({"1": "driver", "2": "generic", "3": "offload", "4": "multi"}[(.xdp.mode // 0) | tostring] // "attached") as $m |
			"\($m) mode, prog id \($p.id // "?") name \($p.name // "?")" else "none" end)"' <<<"$j"
}

cmd_status() {
	local rc=0 ns
	echo "veth pair:"
	show_end "$dev_netns" "$dev" || rc=1
	show_end "$netns" "$peer" || rc=1
	echo "namespaces:"
	for ns in "$dev_netns" "$netns"; do
		[ -n "$ns" ] || continue
		if ! ns_exists "$ns"; then
			echo "  $ns absent"
		elif ns_ours "$ns"; then
			echo "  $ns (made by setup-veth.sh)"
		else
			echo "  $ns (not made by setup-veth.sh)"
		fi
	done
	[ $rc -eq 0 ] || echo "setup-veth.sh: the pair is not (fully) set up"
	return $rc
}

case "$cmd" in
setup) cmd_setup ;;
teardown) cmd_teardown ;;
status) cmd_status ;;
esac
