#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# delay and capture on several queues and with multi-buffer frames (every
# mode on the one packet path): a tc program on the peer steers UDP source
# port 47000 + Q to queue Q, as in test_multiqueue.sh.
#  1. delay --queues 2: 2000 sequence-numbered frames over both queues come
#     back late (at least the delay), intact and counted per queue.
#  2. capture --queues 2: 2000 frames over both queues; at exit one pcap holds
#     all 2000, readable by tcpdump, with timestamps that never go back (the
#     queues' packets merged by arrival). The same with -w, where the queues'
#     frames are written while they arrive.
#  3. delay with a 9000-byte MTU (nta): jumbo frames held as one block each
#     (gathered) come back intact.
. "$(dirname "$0")/lib.sh"
net_init
command -v tcpdump >/dev/null || skip "tcpdump missing; run scripts/install-deps.sh"

steer() {
	in_b tc qdisc add dev "$PEER" clsact
	in_b tc filter add dev "$PEER" egress bpf da obj "$NTAD_BUILD/bpf/txq_by_sport.bpf.o" sec tc ||
		fail "cannot attach the queue-steering tc program"
}

net_veth --queues 2
steer
N=2000

log "1. delay, 2 queues"
bg_a NT "$NTAD" -i "$DEV" --queues 2 --mode delay --delay 20 -d 60 --json -I 0 --filter proto=udp
wait_attached "$NT" || fail "delay: ntad did not attach: $(cat "$TEST_TMP/NT.log")"
out=$(in_b "$PEER_TOOL" echo -i "$PEER" -n $N --sizes 64,576,1500 --sports 47000,47001 \
	--expect-swapped-macs --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" --timeout 5000 2>&1) ||
	fail "delay: peer: $out"
grep -q "received=$N valid=$N invalid=0 dup=0 .*lost=0" <<<"$out" || fail "delay: peer saw: $out"
stop_ntad "delay, 2 queues" ".rx_packets == $N" ".released == $N" ".hold_min_ns >= 20000000" \
	".queues[0].rx_packets == $((N / 2))" ".queues[1].rx_packets == $((N / 2))" ".tx_lost_at_exit == 0"

log "2. capture, 2 queues"
PCAP=$TEST_TMP/mq.pcap
bg_a NT "$NTAD" -i "$DEV" --queues 2 --mode capture --pcap "$PCAP" -d 60 --json -I 0 --filter proto=udp
wait_attached "$NT" || fail "capture: ntad did not attach: $(cat "$TEST_TMP/NT.log")"
in_b "$PEER_TOOL" send -i "$PEER" -n $N --size 128 --sports 47000,47001 --rate 20000 \
	--src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" >/dev/null || fail "capture: sender failed"
sleep 0.5
stop_ntad "capture, 2 queues" ".rx_packets == $N" ".held_packets == $N" ".pcap_writes == 1" \
	".pcap_packets == $N" ".queues[0].rx_packets == $((N / 2))" ".queues[1].rx_packets == $((N / 2))"
recs=$(tcpdump -r "$PCAP" -n -tt 2>/dev/null) || fail "capture: tcpdump cannot read $PCAP"
[ "$(wc -l <<<"$recs")" -eq $N ] || fail "capture: $(wc -l <<<"$recs") records, not $N"
awk '{ if (NR > 1 && $1 < t) { print "time goes back at record " NR; exit 1 } t = $1 }' <<<"$recs" ||
	fail "capture: records not in arrival order"

log "2b. capture -w, 2 queues"
PCAP=$TEST_TMP/mqw.pcap
bg_a NT "$NTAD" -i "$DEV" --queues 2 --mode capture -w "$PCAP" -d 60 --json -I 0 --filter proto=udp
wait_attached "$NT" || fail "capture -w: ntad did not attach: $(cat "$TEST_TMP/NT.log")"
in_b "$PEER_TOOL" send -i "$PEER" -n $N --size 128 --sports 47000,47001 --rate 20000 \
	--src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" >/dev/null || fail "capture -w: sender failed"
sleep 0.5
stop_ntad "capture -w, 2 queues" ".rx_packets == $N" ".pcap_packets == $N" ".pcap_failed == 0" \
	".pcap_writes > 1" ".held_packets == 0" ".queues[0].rx_packets == $((N / 2))" \
	".queues[1].rx_packets == $((N / 2))"
recs=$(tcpdump -r "$PCAP" -n -tt --time-stamp-precision nano 2>/dev/null) || fail "capture -w: tcpdump cannot read $PCAP"
[ "$(wc -l <<<"$recs")" -eq $N ] || fail "capture -w: $(wc -l <<<"$recs") records, not $N"
awk '{ if (NR > 1 && $1 < t) { print "time goes back at record " NR; exit 1 } t = $1 }' <<<"$recs" ||
	fail "capture -w: records not in arrival order"

log "3. delay with jumbo frames"
net_veth --mtu 9000
bg_a NT "$NTAD" -i "$DEV" --mode delay --delay 10 -d 60 --json -I 0 --filter proto=udp
wait_attached "$NT" || fail "jumbo delay: ntad did not attach: $(cat "$TEST_TMP/NT.log")"
out=$(in_b "$PEER_TOOL" echo -i "$PEER" -n 600 --sizes 9014,64,3000,1500 --expect-swapped-macs \
	--src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" --timeout 5000 2>&1) || fail "jumbo delay: peer: $out"
grep -q "received=600 valid=600 invalid=0 dup=0 .*lost=0" <<<"$out" || fail "jumbo delay: peer saw: $out"
stop_ntad "jumbo delay" ".rx_packets == 600" ".released == 600" ".rx_multibuf > 0" \
	".gathers == .rx_multibuf" ".tx_multibuf == .rx_multibuf"
log "ok"
