#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Filter: with --filter proto=udp,dport=9 only matching frames reach ntad; UDP
# to another port and ping (ARP, ICMP) go to the kernel stack, so the host
# still answers the peer while ntad runs. ntad counts exactly the N matching
# frames, and the XDP program's counters agree.
. "$(dirname "$0")/lib.sh"
net_init
net_veth

N=3000 M=500

bg_a NT "$NTAD" -i "$DEV" --mode rxdrop --verify --filter proto=udp,dport=9 -n "$N" -d 60 --json -I 0
wait_attached "$NT" || fail "ntad did not attach: $(cat "$TEST_TMP/NT.log")"

out=$(in_b ping -c 3 -i 0.2 -W 1 "$DEV_IP" 2>&1) || fail "ping through the filter failed: $out"
log "ping: $(grep -o '[0-9]* received' <<<"$out")"
# Non-matching UDP (dport 10): the kernel gets it.
in_b "$PEER_TOOL" send -i "$PEER" -n "$M" --dport 10 --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" >/dev/null
kill -0 "$NT" 2>/dev/null || fail "ntad stopped before the matching traffic: $(cat "$TEST_TMP/NT.log")"
# Paced, as in test_rxdrop: more than a fill ring sent unpaced can be dropped.
in_b "$PEER_TOOL" send -i "$PEER" -n "$N" --imix --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" --rate 50000 >/dev/null
# ping: 3 requests + ARP; so passed >= M + 3.
wait_ntad filter 20 ".rx_packets == $N" ".verify_valid == $N" ".verify_invalid == 0" \
	".xdp_matched == $N" ".xdp_redirected == $N" ".xdp_passed >= $((M + 3))"
# And the host still answers after ntad is gone.
in_b ping -c 1 -W 1 "$DEV_IP" >/dev/null || fail "ping after ntad failed"
log "ok"
