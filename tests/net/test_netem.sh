#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# delay's netem impairments with real traffic: ntad -i DEV -o DEV2 --mode
# delay between two veth pairs; ntad-peer sends sequence-numbered frames into
# DEV and receives them on DEV2's peer, which counts what arrived (valid,
# invalid, dup, reordered, lost, and the received rate). Every random choice
# is seeded; the bounds are 4 sigma of a binomial around the set share, or
# exact where ntad counts what it did.
#  1. --rate 20mbit: 1000-byte frames offered at 4000/s (32 Mbit/s) arrive at
#     20 Mbit/s within 2%; a 5ms delay back (--dir ba) and no rate on it.
#  1b. --rate 20mbit 0 48 5 (ATM cells): a 1000-byte frame takes 21 cells of
#     53 bytes, 1113 on the wire, so its bytes arrive at 20 * 1000/1113 =
#     17.97 Mbit/s within 2%.
#  1c. --slot 10ms packets 20: 2000 frames offered at 4000/s leave in slots
#     of 20 every 10 ms: the receiver sees 100 bursts (99 silences over 5 ms,
#     at most 20 frames between them) and 20 frames per 10 ms, 16 Mbit/s of
#     1000-byte frames (first to last frame: 1999 frames in 990 ms) within 2%.
#  2. --loss 5%: lost within the bound; the peer's lost = ntad's loss_dropped.
#  3. --loss gemodel 2% 20% (bursts): lost near the stationary 9.1%.
#  4. --duplicate 5%: dup within the bound and = ntad's duplicated.
#  5. --reorder 10%: reordered within the bound of ntad's count, none lost.
#  6. --corrupt 5%: the receiver's invalid frames within the bound; its lost
#     (invalid, or a bit flipped in the magic hides the frame) = ntad's
#     corrupted less the few flips in the MAC addresses it does not check.
. "$(dirname "$0")/lib.sh"
net_init
net_veth

net_veth2

N=4000

# field NAME: NAME=value from the receiver's last line.
field() { tail -n 1 "$TEST_TMP/RX.log" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# within X MEAN P N: |X - MEAN| <= 4 sigma of Binomial(N, P) (at least 2)
within() {
	awk -v x="$1" -v m="$2" -v p="$3" -v n="$4" \
		'BEGIN { s = 4 * sqrt(n * p * (1 - p)); if (s < 2) s = 2; exit !(x - m <= s && m - x <= s) }'
}

# run NAME RATE NTAD_ARGS...: one pass DEV's peer -> DEV2's peer ($RECV_ARGS to the receiver).
run() {
	local name=$1 rate=$2
	shift 2
	bg_a NT "$NTAD" -i "$DEV" -o "$DEV2" --mode delay --seed 7 -d 60 --json -I 0 --filter proto=udp "$@"
	wait_attached "$NT" 5 "$DEV" "$DEV2" || fail "$name: ntad did not attach: $(cat "$TEST_TMP/NT.log")"
	bg_b RX "$PEER_TOOL" recv -i "$PEER2" -n "$N" --timeout 1500 ${RECV_ARGS:-}
	sleep 0.5
	in_b "$PEER_TOOL" send -i "$PEER" -n "$N" --size 1000 --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" \
		--rate "$rate" >/dev/null
	wait_pid "$RX" 30 || true
	log "$name: $(tail -n 1 "$TEST_TMP/RX.log")"
}

log "1. rate 20mbit, 5ms back"
run rate 4000 --delay 10ms --rate 20mbit --dir ba --delay 5ms
bps=$(field rx_bps)
awk -v b="$bps" 'BEGIN { exit !(b > 0.98 * 20e6 && b < 1.02 * 20e6) }' || fail "rate: received $bps bit/s, not 20 Mbit/s within 2%"
[ "$(field lost)" = 0 ] && [ "$(field valid)" = $N ] || fail "rate: frames lost"
stop_ntad rate ".released == $N" ".lateness_p99_us < 20000"

log "1b. rate 20mbit in ATM cells"
run cells 4000 --delay 10ms --rate 20mbit 0 48 5
bps=$(field rx_bps)
awk -v b="$bps" 'BEGIN { r = 20e6 * 1000 / 1113; exit !(b > 0.98 * r && b < 1.02 * r) }' ||
	fail "cells: received $bps bit/s, not 20 Mbit/s * 1000/1113 = 17.97 Mbit/s within 2%"
[ "$(field lost)" = 0 ] && [ "$(field valid)" = $N ] || fail "cells: frames lost"
stop_ntad cells ".released == $N"

log "1c. slots of 20 every 10ms"
N=2000 RECV_ARGS="--gap 5000" run slots 4000 --delay 1ms --slot 10ms packets 20
gaps=$(field gaps)
[ "$(field lost)" = 0 ] && [ "$(field valid)" = 2000 ] || fail "slots: frames lost"
[ "$gaps" = 99 ] && [ "$(field burst_max)" = 20 ] ||
	fail "slots: $gaps silences over 5 ms and bursts of up to $(field burst_max), not 99 and 20"
bps=$(field rx_bps)
awk -v b="$bps" 'BEGIN { r = 1999 * 8000 / 0.99; exit !(b > 0.98 * r && b < 1.02 * r) }' ||
	fail "slots: received $bps bit/s, not 20 frames per 10 ms (16.15 Mbit/s first to last) within 2%"
# Lateness counts from a slot's opening, not from the due time the slot made wait.
stop_ntad slots ".released == 2000" ".lateness_p99_us < 5000"

log "2. loss 5%"
run loss 20000 --delay 10ms --loss 5%
lost=$(field lost)
within "$lost" $((N / 20)) 0.05 $N || fail "loss 5%: lost $lost of $N"
stop_ntad loss ".loss_dropped == $lost"

log "3. loss gemodel 2% 20%"
run gemodel 20000 --delay 10ms --loss gemodel 2% 20%
lost=$(field lost)
# Stationary 2/22 = 9.1%; bursts of mean 5 widen the spread: 5 binomial sigmas.
awk -v l="$lost" -v n=$N 'BEGIN { m = n * 2 / 22; s = 4 * sqrt(5 * n * 0.091 * 0.909); exit !(l > m - s && l < m + s) }' ||
	fail "gemodel: lost $lost of $N, not near 9.1%"
stop_ntad gemodel ".loss_dropped == $lost"

log "4. duplicate 5%"
run duplicate 20000 --delay 10ms --duplicate 5%
dup=$(field dup)
within "$dup" $((N / 20)) 0.05 $N || fail "duplicate 5%: $dup of $N"
[ "$(field lost)" = 0 ] && [ "$(field invalid)" = 0 ] || fail "duplicate: lost or damaged frames"
stop_ntad duplicate ".duplicated == $dup" ".tx_packets == $((N + dup))"

log "5. reorder 10%"
run reorder 20000 --delay 10ms --reorder 10%
reo=$(field reordered)
[ "$(field lost)" = 0 ] && [ "$(field dup)" = 0 ] || fail "reorder: lost or duplicated frames"
# A frame sent ahead arrives before the delayed ones: those are counted as reordered.
[ "$reo" -gt 0 ] || fail "reorder: nothing reordered"
stop_ntad reorder
sent_ahead=$(grep '"type":"summary"' "$TEST_TMP/NT.log" | jq .reordered)
within "$sent_ahead" $((N / 10)) 0.1 $N || fail "reorder 10%: ntad sent $sent_ahead of $N ahead"

log "6. corrupt 5%"
run corrupt 20000 --delay 10ms --corrupt 5%
bad=$(field lost)
invalid=$(field invalid)
within "$invalid" $((N / 20)) 0.05 $N || fail "corrupt 5%: the peer saw $invalid invalid of $N"
stop_ntad corrupt
corrupted=$(grep '"type":"summary"' "$TEST_TMP/NT.log" | jq .corrupted)
within "$corrupted" $((N / 20)) 0.05 $N || fail "corrupt 5%: ntad corrupted $corrupted of $N"
# The peer does not check the 12 MAC bytes: 1.2% of 1000-byte frames' flips go unseen.
[ "$bad" -le "$corrupted" ] && [ "$bad" -ge $((corrupted * 9 / 10)) ] ||
	fail "corrupt: the peer saw $bad damaged or missing, ntad corrupted $corrupted"
log "ok"
