#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Malformed traffic: ntad-peer raw sends runts (14..59 bytes), frames cut
# inside their IPv4/UDP headers, lying IHL and lengths, VLAN and QinQ tagged
# frames, ARP, IPv6 and maximum-size frames. ntad must count every one, call
# exactly the max-size ones valid, and keep working: valid traffic after the
# bad frames is received (rxdrop) or reflected (l2fwd) whole, and the exit
# accounting is clean. With an ethertype filter the XDP program's parser walks
# the tags of real frames on every path. Last, MTU 3500 with 4096-byte chunks:
# the largest frames a non-multi-buffer ntad takes, received and reflected.
. "$(dirname "$0")/lib.sh"
net_init
net_veth

PER_KIND=400         # raw --kind mixed cycles through 8 kinds
RAW=$((8 * PER_KIND))
GOOD=1000

# Paced: a burst larger than the fill ring would test ntad's speed (the kernel
# drops what finds the fill ring empty), not its handling of bad frames.
peer() {
	in_b "$PEER_TOOL" "$@" --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" --rate 50000
}

# finish NAME SECONDS CHECK...: wait_ntad with nothing lost in TX at exit.
finish() {
	wait_ntad "$1" "$2" ".tx_lost_at_exit == 0" "${@:3}"
}

# 1. rxdrop --verify, both pools: every frame counted, only max-size ones valid.
for pool in nta fixed; do
	bg_a NT "$NTAD" -i "$DEV" --mode rxdrop --verify --pool "$pool" -n $((RAW + GOOD)) -d 30 --json -I 0
	wait_attached "$NT" || fail "ntad did not attach: $(cat "$TEST_TMP/NT.log")"
	peer raw -i "$PEER" -n "$RAW" --kind mixed >/dev/null || fail "raw send failed"
	kill -0 "$NT" 2>/dev/null || fail "rxdrop ($pool): ntad died on malformed frames: $(cat "$TEST_TMP/NT.log")"
	peer send -i "$PEER" -n "$GOOD" --imix >/dev/null || fail "send failed"
	finish "rxdrop ($pool)" 20 '.stop == "count"' ".rx_packets == $((RAW + GOOD))" \
		".verify_valid == $((PER_KIND + GOOD))" ".verify_invalid == $((RAW - PER_KIND))" \
		".xdp_redirected == $((RAW + GOOD))" ".xdp_dropped == 0" ".rx_dropped == 0"
done

# 2. l2fwd: malformed frames are reflected like any other (the MAC swap needs
# only the 14 bytes every frame has), then a valid echo run loses nothing.
bg_a NT "$NTAD" -i "$DEV" --mode l2fwd -d 30 --json -I 0
wait_attached "$NT" || fail "ntad did not attach: $(cat "$TEST_TMP/NT.log")"
peer raw -i "$PEER" -n "$RAW" --kind mixed >/dev/null || fail "raw send failed"
sleep 0.3
kill -0 "$NT" 2>/dev/null || fail "l2fwd: ntad died on malformed frames: $(cat "$TEST_TMP/NT.log")"
out=$(peer echo -i "$PEER" -n "$GOOD" --sizes 64,576,1514 --expect-swapped-macs 2>&1) || fail "l2fwd echo: $out"
grep -q "received=$GOOD valid=$GOOD invalid=0 dup=0 .*lost=0" <<<"$out" || fail "l2fwd echo: $out"
kill -TERM "$NT"
finish "l2fwd" 5 ".rx_packets == $((RAW + GOOD))" ".tx_packets == $((RAW + GOOD))"

# 3. Filter on IPv4 behind up to two tags: runt/trunc/bad-ip-len/vlan/qinq/max
# match (6 kinds), ARP and IPv6 go to the kernel stack.
bg_a NT "$NTAD" -i "$DEV" --mode rxdrop --verify --filter ethertype=0x0800 -n $((6 * PER_KIND)) -d 30 --json -I 0
wait_attached "$NT" || fail "ntad did not attach: $(cat "$TEST_TMP/NT.log")"
peer raw -i "$PEER" -n "$RAW" --kind mixed >/dev/null || fail "raw send failed"
finish "filter ethertype=0x0800" 20 ".rx_packets == $((6 * PER_KIND))" \
	".xdp_matched == $((6 * PER_KIND))" ".xdp_redirected == $((6 * PER_KIND))" \
	".xdp_passed >= $((2 * PER_KIND))" ".verify_valid == $PER_KIND"

# 4. The largest frames: MTU 3500 (the most veth allows with XDP on the peer),
# 3514-byte frames in 4096-byte chunks, received and reflected intact.
net_veth --mtu 3500
bg_a NT "$NTAD" -i "$DEV" --mode rxdrop --verify --chunk-size 4096 -n "$GOOD" -d 30 --json -I 0
wait_attached "$NT" || fail "ntad did not attach: $(cat "$TEST_TMP/NT.log")"
peer raw -i "$PEER" -n "$GOOD" --kind max >/dev/null || fail "raw send failed"
finish "max frames rxdrop" 20 ".rx_packets == $GOOD" ".verify_valid == $GOOD" ".rx_bytes == $((GOOD * 3514))"
bg_a NT "$NTAD" -i "$DEV" --mode l2fwd --chunk-size 4096 -d 30 --json -I 0
wait_attached "$NT" || fail "ntad did not attach: $(cat "$TEST_TMP/NT.log")"
out=$(peer echo -i "$PEER" -n "$GOOD" --size 3514 --expect-swapped-macs 2>&1) || fail "max l2fwd echo: $out"
grep -q "received=$GOOD valid=$GOOD invalid=0 dup=0 .*lost=0" <<<"$out" || fail "max l2fwd echo: $out"
kill -TERM "$NT"
finish "max frames l2fwd" 5 ".rx_packets == $GOOD" ".tx_bytes == $((GOOD * 3514))"
log "ok"
