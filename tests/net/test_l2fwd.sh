#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# l2fwd: ntad reflects every frame with the MACs swapped; the peer sends N
# sequence-numbered frames of 64, 576 and 1500 bytes and checks that each one
# comes back once, with swapped MACs and an intact payload. With nta, 64-byte
# frames take the copy-break path and the others are trimmed, so both paths
# carry traffic; then nta with copy-break off, and the fixed pool.
. "$(dirname "$0")/lib.sh"
net_init
net_veth

N=6000

run() {
	local name=$1 out
	shift
	log "$name"
	bg_a NT "$NTAD" -i "$DEV" --mode l2fwd -d 60 --json -I 0 "$@"
	wait_attached "$NT" || fail "$name: ntad did not attach: $(cat "$TEST_TMP/NT.log")"
	out=$(in_b "$PEER_TOOL" echo -i "$PEER" -n "$N" --sizes 64,576,1500 --expect-swapped-macs \
		--src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" 2>&1) || fail "$name: peer: $out"
	log "peer: $(tail -n 1 <<<"$out")"
	grep -q "received=$N valid=$N invalid=0 dup=0 .*lost=0" <<<"$out" || fail "$name: peer saw: $out"
	stop_ntad "$name" ".rx_packets == $N" ".tx_packets == $N" ".tx_lost_at_exit == 0" "${CHECKS[@]}"
}

# A third of the frames are 64 bytes: copied; the rest are trimmed. A trimmed
# frame comes back at TX completion while its trim still waits in nta_mt, so
# (barring slot collisions) the trim is undone and the region returns whole.
CHECKS=(".copy_breaks == $((N / 3))" ".trims == $((N - N / 3))" ".trims_undone > 0" ".trims_undone <= .trims")
run "nta pool" --pool nta
CHECKS=(".copy_breaks == 0" ".trims == $N" ".trims_undone > 0" ".trims_undone <= .trims")
run "nta pool, copy-break off" --pool nta --copy-break 0
CHECKS=('.pool == "fixed"' ".copy_breaks == 0" ".trims_undone == 0")
run "fixed pool" --pool fixed
log "ok"
