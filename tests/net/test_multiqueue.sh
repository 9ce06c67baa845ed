#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# multiqueue: a veth pair with 4 queues; a tc program on the peer's egress
# (bpf/txq_by_sport.bpf.c) puts UDP source port 47000 + Q on tx queue Q, which
# veth delivers to rx queue Q of ntad's interface. One sender per queue sends
# N frames numbered from Q * 1000000. ntad --queues 4 rxdrop --verify (one
# socket and thread per queue, one shared UMEM) must count exactly N valid
# frames on every queue, numbered Q * 1000000 .. + N - 1 in order, and exit with
# zero UMEM bytes in use and a clean check; with nta and with the fixed pool
# (one slice per queue), and with the threads pinned (--cpus). Senders are
# rate-limited: 4 threads and 4 senders share 2 CPUs, and the test is about
# steering and accounting, not about overload.
#
# Then l2fwd on 2 of the 4 queues: one ntad-peer echo gives its frames source
# ports 47000 and 47001 in turn (--sports), so frames alternate between queues
# 0 and 1; every frame must come back once, intact and with the MACs swapped,
# and each queue must have received and sent exactly half (its JSON "queues"
# entry), with nta and with the fixed pool.
. "$(dirname "$0")/lib.sh"
net_init
net_veth --queues 4

Q=4
N=5000
in_b tc qdisc add dev "$PEER" clsact
in_b tc filter add dev "$PEER" egress bpf da obj "$NTAD_BUILD/bpf/txq_by_sport.bpf.o" sec tc ||
	fail "cannot attach the queue-steering tc program"

run() {
	local name=$1 q pids=() checks
	shift
	log "$name"
	bg_a NT "$NTAD" -i "$DEV" --queues $Q --mode rxdrop --verify -n $((Q * N)) -d 60 --json -I 0 "$@"
	wait_attached "$NT" || fail "$name: ntad did not attach: $(cat "$TEST_TMP/NT.log")"
	for ((q = 0; q < Q; q++)); do
		bg_b "S$q" "$PEER_TOOL" send -i "$PEER" -n "$N" --size 128 --rate 20000 --sport $((47000 + q)) \
			--start-seq $((q * 1000000)) --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC"
		pids+=("$(eval echo "\$S$q")")
	done
	for p in "${pids[@]}"; do
		wait_pid "$p" 30 || fail "$name: a sender failed"
	done
	checks=(".rx_packets == $((Q * N))" ".verify_valid == $((Q * N))" ".verify_invalid == 0" \
		'.stop == "count"' "(.queues | length) == $Q")
	for ((q = 0; q < Q; q++)); do
		checks+=(".queues[$q].queue == $q" ".queues[$q].rx_packets == $N"
			".queues[$q].verify_valid == $N" ".queues[$q].seq_first == $((q * 1000000))"
			".queues[$q].seq_last == $((q * 1000000 + N - 1))" ".queues[$q].seq_unordered == 0")
	done
	wait_ntad "$name" 30 "${checks[@]}"
}

l2fwd2() {
	local name=$1 out q n=6000 checks=()
	shift
	log "l2fwd, 2 queues: $name"
	bg_a NT "$NTAD" -i "$DEV" --queues 2 --mode l2fwd -d 60 --json -I 0 "$@"
	wait_attached "$NT" || fail "l2fwd $name: ntad did not attach: $(cat "$TEST_TMP/NT.log")"
	out=$(in_b "$PEER_TOOL" echo -i "$PEER" -n $n --sizes 64,576,1500 --sports 47000,47001 \
		--expect-swapped-macs --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" 2>&1) ||
		fail "l2fwd $name: peer: $out"
	log "peer: $(tail -n 1 <<<"$out")"
	grep -q "received=$n valid=$n invalid=0 dup=0 .*lost=0" <<<"$out" || fail "l2fwd $name: peer saw: $out"
	for ((q = 0; q < 2; q++)); do
		checks+=(".queues[$q].queue == $q" ".queues[$q].rx_packets == $((n / 2))"
			".queues[$q].tx_packets == $((n / 2))")
	done
	stop_ntad "l2fwd $name" ".rx_packets == $n" ".tx_packets == $n" ".tx_lost_at_exit == 0" \
		"(.queues | length) == 2" "${checks[@]}"
}

run "nta pool" --pool nta
run "fixed pool, a slice per queue" --pool fixed --umem-size 64M
run "nta pool, pinned" --pool nta --cpus 0,1,0,1
l2fwd2 "nta pool" --pool nta
l2fwd2 "fixed pool" --pool fixed --umem-size 64M
log "ok"
