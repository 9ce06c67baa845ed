#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fwd: two veth pairs, ntad -i DEV -o DEV2 with one UMEM shared by both sockets.
# The peer sends N sequence-numbered IMIX frames into DEV and checks that all of
# them leave DEV2's peer intact, then the same in the other direction; UMEM
# bytes in use are zero at exit, with both pools.
. "$(dirname "$0")/lib.sh"
net_init
net_veth

net_veth2

N=6000

# one_way FROM TO: the peer sends on FROM, receives on TO.
one_way() {
	local from=$1 to=$2 dst=$3 rc=0
	bg_b RX "$PEER_TOOL" recv -i "$to" -n "$N" --timeout 3000
	sleep 0.3
	# Paced: an unpaced burst of N can overrun the RX ring while copy-mode TX
	# (one skb per frame) drains the other side; losses under overload are
	# counted (rx_ring_full, rx_dropped), not what this test is about.
	in_b "$PEER_TOOL" send -i "$from" -n "$N" --imix --dst-mac "$dst" --rate 50000 >/dev/null
	wait_pid "$RX" 15 || rc=$?
	log "$from -> $to: $(tail -n 1 "$TEST_TMP/RX.log")"
	[ $rc -eq 0 ] || fail "$from -> $to: peer exited with $rc: $(tail -n 2 "$TEST_TMP/RX.log");
$(in_b ip -s link show dev "$to"; in_a ip -s link show dev "$DEV"; in_a ip -s link show dev "$DEV2")"
	grep -q "received=$N valid=$N invalid=0 dup=0 reordered=0 lost=0" "$TEST_TMP/RX.log" ||
		fail "$from -> $to: $(tail -n 1 "$TEST_TMP/RX.log")"
}

for pool in nta fixed; do
	log "pool $pool"
	bg_a NT "$NTAD" -i "$DEV" -o "$DEV2" --mode fwd --pool "$pool" -d 60 --json -I 0
	wait_attached "$NT" 5 "$DEV" "$DEV2" || fail "ntad did not attach to both: $(cat "$TEST_TMP/NT.log")"
	one_way "$PEER" "$PEER2" "$DEV_MAC"
	one_way "$PEER2" "$PEER" "$DEV2_MAC"
	stop_ntad "$pool" ".rx_packets == $((2 * N))" ".tx_packets == $((2 * N))" \
		".xdp_redirected == $((2 * N))"
	! xdp_prog_on "$NS_A" "$DEV2" || fail "$pool: XDP program left on $DEV2"
done
log "ok"
