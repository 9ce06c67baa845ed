#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Faults with several queues: ntad --queues 4 runs one engine thread per
# queue on one shared UMEM, so this is where stopping, dying and losing the
# interface meet threads. A tc program on the peer (bpf/txq_by_sport.bpf.c)
# steers UDP source port 47000 + Q to queue Q; four senders flood all queues.
#   sigterm_busy   l2fwd (nta) and rxdrop (fixed) stopped by SIGTERM while every
#                  queue is busy: exit 0 within 3 s, traffic on every queue,
#                  each redirected frame received, dropped by the kernel (counted)
#                  or drained, accounting clean
#   dev_gone       the veth deleted under a 4-queue flood: every socket gets
#                  ENETDOWN; ntad stops with the message, exit 1, accounting clean
#   sigkill        SIGKILL under a flood: the program goes with the process and a
#                  new 4-queue ntad binds at once and reflects an echo run whole
# In every case no sanitizer report: built with SANITIZE=1 this checks the
# threads' teardown under ASan/UBSan, built with TSAN=1 for data races.
. "$(dirname "$0")/lib.sh"
net_init

Q=4

setup_pair() {
	net_veth --queues $Q
	in_b tc qdisc add dev "$PEER" clsact
	in_b tc filter add dev "$PEER" egress bpf da obj "$NTAD_BUILD/bpf/txq_by_sport.bpf.o" sec tc ||
		fail "cannot attach the queue-steering tc program"
}

flood_all() {
	local q
	SENDERS=()
	for ((q = 0; q < Q; q++)); do
		bg_b "F$q" "$PEER_TOOL" send -i "$PEER" -n 5000000 --imix --sport $((47000 + q)) \
			--start-seq $((q * 1000000)) --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC"
		SENDERS+=("$(eval echo "\$F$q")")
	done
}

end_flood() {
	local p
	for p in "${SENDERS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${SENDERS[@]}"; do
		wait_pid "$p" 5 || true
	done
}

# mq_summary_ok NAME CHECK...: summary_ok, with traffic seen on every queue.
mq_summary_ok() {
	summary_ok "$1" "(.queues | length) == $Q" "all(.queues[]; .rx_packets > 0)" "${@:2}"
}

sigterm_busy() {
	local name rc
	for args in "--mode l2fwd --pool nta" "--mode rxdrop --pool fixed --umem-size 64M"; do
		name="sigterm_busy ($args)"
		# shellcheck disable=SC2086
		bg_a NT "$NTAD" -i "$DEV" --queues $Q -d 60 --json -I 0 $args
		wait_attached "$NT" 10 || fail "$name: ntad did not attach: $(cat "$TEST_TMP/NT.log")"
		flood_all
		sleep 1.5
		kill -TERM "$NT"
		rc=0
		wait_pid "$NT" 3 || rc=$?
		end_flood
		[ $rc -eq 0 ] || fail "$name: ntad exited with $rc: $(grep -v '^{' "$TEST_TMP/NT.log" | tail -n 5)"
		mq_summary_ok "$name" '.stop == "signal"' \
			".xdp_redirected == .rx_packets + .rx_dropped + .rx_ring_full + .rx_drained" \
			"$( [[ $args == *l2fwd* ]] && echo '.tx_packets == .rx_packets' || echo 'true')"
		! xdp_prog_on "$NS_A" "$DEV" || fail "$name: XDP program left on $DEV"
	done
}

dev_gone() {
	local rc=0
	bg_a NT "$NTAD" -i "$DEV" --queues $Q --mode l2fwd -d 60 --json -I 0
	wait_attached "$NT" 10 || fail "dev_gone: ntad did not attach: $(cat "$TEST_TMP/NT.log")"
	flood_all
	sleep 1
	ip -n "$NS_A" link del dev "$DEV"
	wait_pid "$NT" 5 || rc=$?
	end_flood
	[ $rc -eq 1 ] || fail "dev_gone: ntad exited with $rc: $(grep -v '^{' "$TEST_TMP/NT.log" | tail -n 5)"
	grep -q "ntad: $DEV: .*gone" "$TEST_TMP/NT.log" || fail "dev_gone: no message about $DEV"
	mq_summary_ok dev_gone '.stop == "error"'
	setup_pair
}

sigkill() {
	local rc=0 out n=1000
	bg_a NT "$NTAD" -i "$DEV" --queues $Q --mode l2fwd -d 60 --json -I 0
	wait_attached "$NT" 10 || fail "sigkill: ntad did not attach: $(cat "$TEST_TMP/NT.log")"
	flood_all
	sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.3f", 0.3 + r / 32768 }')"
	kill -KILL "$NT"
	wait_pid "$NT" 5 || rc=$?
	end_flood
	[ $rc -eq 137 ] || fail "sigkill: ntad ended with $rc, not by SIGKILL"
	no_sanitizer_report sigkill
	for _ in $(seq 40); do
		xdp_prog_on "$NS_A" "$DEV" || break
		sleep 0.05
	done
	! xdp_prog_on "$NS_A" "$DEV" || fail "sigkill: XDP program left on $DEV"
	bg_a NT "$NTAD" -i "$DEV" --queues $Q --mode l2fwd -d 60 --json -I 0
	wait_attached "$NT" 10 || fail "sigkill: the next ntad did not attach: $(cat "$TEST_TMP/NT.log")"
	out=$(in_b "$PEER_TOOL" echo -i "$PEER" -n $n --imix --expect-swapped-macs --timeout 5000 \
		--src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" 2>&1) || fail "sigkill: echo after restart: $out"
	grep -q "received=$n valid=$n invalid=0 dup=0 .*lost=0" <<<"$out" || fail "sigkill: echo: $out"
	stop_ntad "sigkill restart" ".rx_packets == $n" ".tx_packets == $n"
}

setup_pair
for c in sigterm_busy dev_gone sigkill; do
	[ -n "${FAULTS:-}" ] && [[ " $FAULTS " != *" $c "* ]] && continue
	log "case $c"
	"$c"
done
log "ok"
