#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# capture: ntad keeps the newest traffic in its UMEM and writes it as a pcap.
#  1. The peer sends N sequence-numbered frames of mixed sizes; SIGUSR1 makes
#     ntad write them; ntad-pcap-check rebuilds every frame the peer sent and
#     compares the file with them byte for byte, and tcpdump reads it. At exit
#     ntad writes the file again; the summary holds exactly N packets in the
#     UMEM bytes they really cost (nta: length rounded to 32; fixed: 2048).
#  2. --capture-bytes 64k and a --trigger rule: 3000 frames then one matching
#     frame; the trigger writes the file, which holds exactly the newest frames
#     the budget allows, and the eviction counter is exact.
#  3. A UMEM too small for a 1500-byte flood (small rings, 2 MiB): evictions
#     counted, the fill ring kept fed, no stall; then normal traffic is captured
#     intact. Every run: both pools, exit accounting clean, nothing left attached.
. "$(dirname "$0")/lib.sh"
net_init
net_veth
command -v tcpdump >/dev/null || skip "tcpdump missing; run scripts/install-deps.sh"
CHECK_TOOL=$NTAD_BUILD/tests/tools/ntad-pcap-check
PCAP=$TEST_TMP/cap.pcap

# wait_rx N: until ntad's interval lines report N packets received.
wait_rx() {
	for _ in $(seq 200); do
		[ "$(grep '"type":"interval"' "$TEST_TMP/NT.log" | tail -n 1 | jq -r .rx_packets)" = "$1" ] && return 0
		sleep 0.05
	done
	fail "ntad did not receive $1 packets: $(grep '"type":"interval"' "$TEST_TMP/NT.log" | tail -n 1)"
}

# wait_write N: until the summary-to-be counts N pcap writes (interval lines).
wait_write() {
	for _ in $(seq 100); do
		[ "$(grep '"type":"interval"' "$TEST_TMP/NT.log" | tail -n 1 | jq -r .pcap_writes)" = "$1" ] && return 0
		sleep 0.05
	done
	fail "ntad did not write the pcap ($1): $(grep '"type":"interval"' "$TEST_TMP/NT.log" | tail -n 1)"
}

start() {
	rm -f "$PCAP"
	bg_a NT "$NTAD" -i "$DEV" --mode capture -d 60 --json -I 0.05 --filter proto=udp "$@"
	wait_attached "$NT" || fail "ntad did not attach: $(cat "$TEST_TMP/NT.log")"
}

# wait_quiet SECONDS: until ntad's interval lines (-I 0.05) show no frame arriving
# at the XDP program and none taken from the RX ring for 0.3 s, so traffic sent
# next does not meet a ring still full of an earlier flood on a busy machine.
wait_quiet() {
	local i last= now
	local stable=0
	for i in $(seq $(($1 * 10))); do
		now=$(grep '"type":"interval"' "$TEST_TMP/NT.log" | tail -n 1 |
			jq -r '"\(.xdp_redirected) \(.rx_packets)"' 2>/dev/null)
		if [ -n "$now" ] && [ "$now" = "$last" ]; then
			stable=$((stable + 1))
			[ $stable -ge 3 ] && return 0
		else
			stable=0
		fi
		last=$now
		sleep 0.1
	done
	return 1
}

send() {
	in_b "$PEER_TOOL" send -i "$PEER" --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" --rate 20000 "$@" |
		tail -n 1
}

check_pcap() {
	local out
	out=$("$CHECK_TOOL" "$@" --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC") ||
		fail "pcap differs from what was sent: $out"
	log "pcap: $(tail -n 1 <<<"$out")"
}

stop() {
	stop_ntad "$pool" ".pcap_errors == 0" "$@"
}

N=3000
SIZES=60,64,576,1500,1514
for pool in nta fixed; do
	log "1. $pool: $N frames, SIGUSR1, exit"
	start --pool "$pool" --pcap "$PCAP"
	send -n "$N" --sizes "$SIZES"
	wait_rx "$N"
	kill -USR1 "$NT"
	wait_write 1
	check_pcap "$PCAP" -n "$N" --sizes "$SIZES"
	n=$(tcpdump -nn -r "$PCAP" 2>/dev/null | grep -c 'UDP, length') || true
	[ "$n" = "$N" ] || fail "tcpdump reads $n packets, $N sent"
	rm -f "$PCAP"
	if [ "$pool" = nta ]; then
		umem=$(((60 + 31) / 32 * 32 + 64 + 576 + 1504 + 1536)) # one of each size, rounded to 32
		umem=$((umem * N / 5))
	else
		umem=$((2048 * N))
	fi
	stop ".held_packets == $N" ".held_umem == $umem" ".evicted == 0" ".retain_dropped == 0" \
		".pcap_writes == 2" ".pcap_packets == $N" ".rx_packets == $N"
	check_pcap "$PCAP" -n "$N" --sizes "$SIZES"

	log "2. $pool: --capture-bytes 64k, --trigger dport=7"
	cost=$([ "$pool" = nta ] && echo 64 || echo 2048)
	K=$((65536 / cost))
	start --pool "$pool" --pcap "$PCAP" --capture-bytes 64k --trigger 'udp dst port 7'
	send -n "$N" --size 64
	wait_rx "$N"
	send -n 1 --size 64 --dport 7 --start-seq "$N"
	wait_write 1
	# The newest K frames: K - 1 to port 9, then the trigger.
	in_a tcpdump -nn -r "$PCAP" -w "$TEST_TMP/p9.pcap" 'udp dst port 9' 2>/dev/null
	check_pcap "$TEST_TMP/p9.pcap" -n $((K - 1)) --size 64 --start-seq $((N - K + 1))
	n=$(tcpdump -nn -r "$PCAP" 'udp dst port 7' 2>/dev/null | wc -l)
	[ "$n" = 1 ] || fail "the trigger frame is in the pcap $n times"
	stop ".held_packets == $K" ".evicted == $((N + 1 - K))" ".triggers == 1" ".retain_dropped == 0" \
		".held_umem <= 65536"

	# 2 MiB less the fill ring (64 x 2048) and, with nta, the 384 regions its caches may park.
	LIMIT=$([ "$pool" = nta ] && echo $((2097152 - (64 + 384) * 2048)) || echo $((2097152 - 64 * 2048)))
	log "3. $pool: 2 MiB UMEM, 1500-byte flood, then normal traffic"
	start --pool "$pool" --pcap "$PCAP" --umem-size 2M --fill-size 64 --rx-size 64 --tx-size 64 \
		--comp-size 64 --batch 16
	in_b "$PEER_TOOL" send -i "$PEER" --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" -n 20000 --size 1500 \
		--start-seq 1000000 >/dev/null
	wait_quiet 30 || fail "ntad still receiving the flood after 30 s: $(tail -n 1 "$TEST_TMP/NT.log")"
	# Normal traffic to port 10, well within either pool's budget (150 x 2048),
	# at a normal rate: with a full budget every arrival evicts one held frame to
	# refill the 64-entry fill ring, and at 20 kpps a busy machine that stalls
	# ntad for 3 ms would let the kernel drop at an empty fill ring.
	send -n 150 --sizes "$SIZES" --dport 10 --rate 2000
	sleep 0.3
	kill -USR1 "$NT"
	wait_write 1
	in_a tcpdump -nn -r "$PCAP" -w "$TEST_TMP/p10.pcap" 'udp dst port 10' 2>/dev/null
	check_pcap "$TEST_TMP/p10.pcap" -n 150 --sizes "$SIZES" --dport 10
	stop ".evicted > 0" ".rx_packets > 150" ".held_umem <= .held_limit" ".held_limit == $LIMIT"
done
log "ok"
