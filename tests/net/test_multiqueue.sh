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
	local name=$1 q pids=() s
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
	rc=0
	wait_pid "$NT" 30 || rc=$?
	[ $rc -eq 0 ] || fail "$name: ntad exited with $rc"
	s=$(grep '"type":"summary"' "$TEST_TMP/NT.log") || fail "$name: no summary"
	log "$s"
	for check in ".rx_packets == $((Q * N))" ".verify_valid == $((Q * N))" ".verify_invalid == 0" \
		".umem_in_use_at_exit == 0" '.nta_check == "ok"' ".ledger_violations == 0" \
		".pool_errors == 0" '.stop == "count"' "(.queues | length) == $Q"; do
		jq -e "$check" <<<"$s" >/dev/null || fail "$name: summary fails $check"
	done
	for ((q = 0; q < Q; q++)); do
		for check in ".queue == $q" ".rx_packets == $N" ".verify_valid == $N" \
			".seq_first == $((q * 1000000))" ".seq_last == $((q * 1000000 + N - 1))" \
			".seq_unordered == 0"; do
			jq -e ".queues[$q] | $check" <<<"$s" >/dev/null ||
				fail "$name: queue $q fails $check: $(jq -c ".queues[$q]" <<<"$s")"
		done
	done
	! xdp_prog_on "$NS_A" "$DEV" || fail "$name: XDP program left on $DEV"
}

l2fwd2() {
	local name=$1 out s q n=6000
	shift
	log "l2fwd, 2 queues: $name"
	bg_a NT "$NTAD" -i "$DEV" --queues 2 --mode l2fwd -d 60 --json -I 0 "$@"
	wait_attached "$NT" || fail "l2fwd $name: ntad did not attach: $(cat "$TEST_TMP/NT.log")"
	out=$(in_b "$PEER_TOOL" echo -i "$PEER" -n $n --sizes 64,576,1500 --sports 47000,47001 \
		--expect-swapped-macs --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" 2>&1) ||
		fail "l2fwd $name: peer: $out"
	log "peer: $(tail -n 1 <<<"$out")"
	grep -q "received=$n valid=$n invalid=0 dup=0 .*lost=0" <<<"$out" || fail "l2fwd $name: peer saw: $out"
	kill -TERM "$NT"
	rc=0
	wait_pid "$NT" 5 || rc=$?
	[ $rc -eq 0 ] || fail "l2fwd $name: ntad exited with $rc"
	s=$(grep '"type":"summary"' "$TEST_TMP/NT.log") || fail "l2fwd $name: no summary"
	log "$s"
	for check in ".rx_packets == $n" ".tx_packets == $n" ".umem_in_use_at_exit == 0" \
		'.nta_check == "ok"' ".ledger_violations == 0" ".pool_errors == 0" \
		".tx_lost_at_exit == 0" "(.queues | length) == 2"; do
		jq -e "$check" <<<"$s" >/dev/null || fail "l2fwd $name: summary fails $check"
	done
	for ((q = 0; q < 2; q++)); do
		for check in ".queue == $q" ".rx_packets == $((n / 2))" ".tx_packets == $((n / 2))"; do
			jq -e ".queues[$q] | $check" <<<"$s" >/dev/null ||
				fail "l2fwd $name: queue $q fails $check: $(jq -c ".queues[$q]" <<<"$s")"
		done
	done
	! xdp_prog_on "$NS_A" "$DEV" || fail "l2fwd $name: XDP program left on $DEV"
}

run "nta pool" --pool nta
run "fixed pool, a slice per queue" --pool fixed --umem-size 64M
run "nta pool, pinned" --pool nta --cpus 0,1,0,1
l2fwd2 "nta pool" --pool nta
l2fwd2 "fixed pool" --pool fixed --umem-size 64M
log "ok"
