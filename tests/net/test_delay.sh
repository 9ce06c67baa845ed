#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# delay: ntad holds every frame for --delay, then sends it back out with the
# MACs swapped (as l2fwd does), so ntad-peer echo --expect-swapped-macs checks
# that every frame returns once, intact (rebuilt byte for byte) and in order.
# ntad measures the timing itself: its summary must show every frame held at
# least the delay (hold_min_ns) and a small lateness (send time - due time).
#  1. 100 ms, mixed sizes, both pools: all N back, held >= 100 ms, p99 late < 20 ms;
#     with nta under --rt-priority 10, its queue thread runs SCHED_FIFO 10.
#  2. --jitter 20 --loss 10% --seed 7: what returns is in order and intact,
#     held at least 100 - 20 ms; ntad's loss counter equals what the peer
#     lost, and is near 10%.
#  3. UMEM full: 2 MiB with small rings under a 1500-byte flood: arrivals
#     are dropped and counted (retain_dropped), nothing stalls; then a normal
#     echo run gets every frame back.
. "$(dirname "$0")/lib.sh"
net_init
net_veth

start() {
	bg_a NT "$NTAD" -i "$DEV" --mode delay -d 60 --json -I 0 --filter proto=udp "$@"
	wait_attached "$NT" || fail "ntad did not attach: $(cat "$TEST_TMP/NT.log")"
}

# wait_drained SECONDS: until ntad's newest interval line shows nothing held
# (started with -I), so a test goes on after a flood only once ntad has sent
# what it held, however slowly a busy machine lets copy-mode TX run.
wait_drained() {
	local i
	for i in $(seq $(($1 * 10))); do
		grep '"type":"interval"' "$TEST_TMP/NT.log" | tail -n 1 |
			jq -e '.held_packets == 0 and .released > 0' >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

echo_run() {
	in_b "$PEER_TOOL" echo -i "$PEER" --expect-swapped-macs --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" "$@" 2>&1
}

stop() {
	stop_ntad "$pool" ".tx_lost_at_exit == 0" "$@"
}

N=1000
for pool in nta fixed; do
	log "1. $pool: 100 ms"
	rt=()
	[ "$pool" = nta ] && rt=(--rt-priority 10)
	start --pool "$pool" --delay 100 "${rt[@]}"
	if [ "$pool" = nta ]; then
		sched=$(ps -L -o comm=,cls=,rtprio= -p "$NT" | awk '$1 == "ntad-q0" { print $2, $3 }')
		[ "$sched" = "FF 10" ] || fail "--rt-priority 10: the queue thread runs '$sched', not FF 10"
	fi
	out=$(echo_run -n "$N" --sizes 64,576,1500,60,1514) || fail "peer: $out"
	log "peer: $(tail -n 1 <<<"$out")"
	grep -q "received=$N valid=$N invalid=0 dup=0 reordered=0 lost=0" <<<"$out" || fail "peer saw: $out"
	stop ".rx_packets == $N" ".tx_packets == $N" ".released == $N" ".held_packets == 0" \
		".hold_min_ns >= 100000000" ".late_p99_ns < 20000000" ".retain_dropped == 0" \
		".loss_dropped == 0"

	log "2. $pool: 100 ms, jitter 20 ms, loss 10%"
	start --pool "$pool" --delay 100 --jitter 20 --loss 10% --seed 7
	out=$(echo_run -n "$N" --size 64 --window 4096) || true
	log "peer: $(tail -n 1 <<<"$out")"
	grep -Eq "received=[0-9]+ valid=[0-9]+ invalid=0 dup=0 reordered=0 lost=[0-9]+" <<<"$out" ||
		fail "peer saw: $out"
	lost=$(tail -n 1 <<<"$out" | sed 's/.* lost=\([0-9]*\).*/\1/')
	[ "$lost" -ge $((N / 20)) ] && [ "$lost" -le $((N * 3 / 20)) ] || fail "lost $lost of $N, not about 10%"
	stop ".rx_packets == $N" ".loss_dropped == $lost" ".released == $((N - lost))" \
		".tx_packets == $((N - lost))" ".hold_min_ns >= 80000000"

	# 2 MiB less the fill and TX rings (2 x 64 x 2048) and, with nta, 384 parked regions.
	LIMIT=$([ "$pool" = nta ] && echo $((2097152 - (128 + 384) * 2048)) || echo $((2097152 - 128 * 2048)))
	log "3. $pool: 2 MiB UMEM, 1500-byte flood, then normal traffic"
	start --pool "$pool" --delay 50 --umem-size 2M --fill-size 64 --rx-size 64 --tx-size 64 \
		--comp-size 64 --batch 16 -I 0.1
	in_b "$PEER_TOOL" send -i "$PEER" --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" -n 20000 --size 1500 \
		--start-seq 1000000 >/dev/null
	wait_drained 30 || fail "ntad still holds flood packets after 30 s: $(tail -n 1 "$TEST_TMP/NT.log")"
	# At most 16 frames in flight: every one is held 50 ms, and the 64-entry fill
	# ring must not run dry while a busy machine delays ntad's refill.
	out=$(echo_run -n 300 --sizes 64,576,1500 --window 16) || fail "after the flood: $out"
	grep -q "received=300 valid=300 invalid=0 dup=0 reordered=0 lost=0" <<<"$out" || fail "after the flood: $out"
	stop ".retain_dropped > 0" ".held_peak_umem <= .held_limit" ".held_limit == $LIMIT" \
		".tx_packets == .released"
done
log "ok"
