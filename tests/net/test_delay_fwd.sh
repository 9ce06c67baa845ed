#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# delay -o: two veth pairs, ntad -i DEV -o DEV2 --mode delay, one UMEM shared
# by both sockets. The peer sends N sequence-numbered frames into DEV and
# checks that all of them leave DEV2's peer intact and in order, then the same
# in the other direction (each direction is a delay line of its own). Frames
# go out unchanged (no MAC swap, as in fwd): tcpdump on the receiving peer sees
# the sender's own addresses. ntad's summary must show every frame held at
# least the delay (hold_min_ns), the counts exact and no UMEM in use at exit,
# with both pools.
. "$(dirname "$0")/lib.sh"
net_init
net_veth

net_veth2

N=2000
DELAY=100

# one_way FROM FROM_MAC TO DST_MAC: the peer sends on FROM to DST_MAC (ntad's
# interface), receives on TO; tcpdump on TO must see FROM_MAC > DST_MAC.
one_way() {
	local from=$1 from_mac=$2 to=$3 dst=$4 rc=0 t0 t1
	bg_b RX "$PEER_TOOL" recv -i "$to" -n "$N" --timeout 3000
	bg_b TD tcpdump -i "$to" -e -n -l -c 20 udp
	sleep 0.5
	t0=$(date +%s%N)
	in_b "$PEER_TOOL" send -i "$from" -n "$N" --sizes 64,576,1500,60,1514 --src-mac "$from_mac" \
		--dst-mac "$dst" --rate 50000 >/dev/null
	t1=$(date +%s%N)
	wait_pid "$RX" 15 || rc=$?
	log "$from -> $to: $(tail -n 1 "$TEST_TMP/RX.log") (sent in $(((t1 - t0) / 1000000)) ms)"
	[ $rc -eq 0 ] || fail "$from -> $to: peer exited with $rc: $(tail -n 2 "$TEST_TMP/RX.log")"
	grep -q "received=$N valid=$N invalid=0 dup=0 reordered=0 lost=0" "$TEST_TMP/RX.log" ||
		fail "$from -> $to: $(tail -n 1 "$TEST_TMP/RX.log")"
	wait_pid "$TD" 5 || fail "$from -> $to: tcpdump saw fewer than 20 frames: $(cat "$TEST_TMP/TD.log")"
	[ "$(grep -c "$from_mac > $dst" "$TEST_TMP/TD.log")" -eq 20 ] ||
		fail "$from -> $to: frames not as sent (MACs changed?): $(head -n 3 "$TEST_TMP/TD.log")"
}

for pool in nta fixed; do
	log "pool $pool: $DELAY ms, $DEV <-> $DEV2"
	bg_a NT "$NTAD" -i "$DEV" -o "$DEV2" --mode delay --delay "$DELAY" --pool "$pool" -d 60 \
		--json -I 0 --filter proto=udp
	wait_attached "$NT" 5 "$DEV" "$DEV2" || fail "ntad did not attach to both: $(cat "$TEST_TMP/NT.log")"
	one_way "$PEER" "$PEER_MAC" "$PEER2" "$DEV_MAC"
	one_way "$PEER2" "$PEER2_MAC" "$PEER" "$DEV2_MAC"
	stop_ntad "$pool" ".rx_packets == $((2 * N))" ".tx_packets == $((2 * N))" \
		".released == $((2 * N))" ".held_packets == 0" ".retain_dropped == 0" \
		".loss_dropped == 0" ".hold_min_ns >= $((DELAY * 1000000))" ".late_p99_ns < 20000000" \
		".tx_lost_at_exit == 0" ".xdp_redirected == $((2 * N))"
	! xdp_prog_on "$NS_A" "$DEV2" || fail "$pool: XDP program left on $DEV2"
done
log "ok"
