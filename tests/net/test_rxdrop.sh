#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# rxdrop: the peer sends N sequence-numbered IMIX frames; ntad --verify must
# count exactly N, all valid, and leave zero UMEM bytes in use with a clean
# allocator check, once with the nta pool and once with the fixed pool. The
# XDP program must be gone from the interface afterwards.
. "$(dirname "$0")/lib.sh"
net_init
net_veth

N=10000

for pool in nta fixed; do
	log "pool $pool"
	bg_a NT "$NTAD" -i "$DEV" --mode rxdrop --verify -n "$N" -d 60 --json -I 0 --pool "$pool"
	wait_attached "$NT" || fail "$pool: ntad did not attach: $(cat "$TEST_TMP/NT.log")"
	# Paced: unpaced, the sender can get more than a fill ring (2048) ahead
	# of ntad (while ntad does not run), and the kernel then drops frames
	# (rx_fill_ring_empty_descs) that -n N waits for in vain; a CI run saw
	# 566 such drops. At 50,000 frames/s ntad would have to stall for 40 ms.
	in_b "$PEER_TOOL" send -i "$PEER" -n "$N" --imix --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" --rate 50000 |
		tail -n 1
	wait_ntad "$pool" 30 ".rx_packets == $N" ".verify_valid == $N" ".verify_invalid == 0" \
		'.stop == "count"' ".xdp_redirected >= $N" ".rx_bytes > 0" ".pool == \"$pool\""
done
log "ok"
