#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_peer.sh - the peer tool (tests/tools/ntad-peer) on a veth pair, without
# ntad: every network test of the daemon trusts its verdict, so this checks it
# says "all good" when all is good and fails when frames are lost, duplicated,
# out of range or not returned, and that other traffic is ignored. echo is
# checked against bpf/xdp_reflect (XDP_TX with MACs swapped) and bpf/xdp_bounce
# (XDP_TX as is) on ntad's end.
. "$NTAD_TOP/tests/net/lib.sh"
net_init
[ -x "$PEER_TOOL" ] || skip "$PEER_TOOL not built (make B=$NTAD_BUILD tests)"
for o in xdp_reflect xdp_bounce; do
	[ -f "$NTAD_BUILD/bpf/$o.bpf.o" ] || skip "$o.bpf.o not built (make B=$NTAD_BUILD bpf)"
done
net_veth --mtu 9000

# field LOG KEY: value of KEY= in the summary line of LOG.
field() {
	tail -n 1 "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# expect_line LOG "k=v ..." : every pair appears in the summary line.
expect_line() {
	local log=$1 kv line
	line=$(tail -n 1 "$log")
	for kv in $2; do
		[ "$(field "$log" "${kv%%=*}")" = "${kv#*=}" ] ||
			fail "$(basename "$log"): want $kv, got: $line"
	done
}

# recv_bg VAR ARGS...: a receiver on PEER, given time to bind.
recv_bg() {
	local var=$1
	shift
	bg_b "$var" "$PEER_TOOL" recv -i "$PEER" "$@"
	sleep 0.3
}

# wait_rc PID: its exit status in RC (not in a subshell: only this shell can wait).
wait_rc() {
	RC=0
	wait_pid "$1" 20 || RC=$?
}

send_a() {
	in_a "$PEER_TOOL" send -i "$DEV" --dst-mac "$PEER_MAC" "$@" >>"$TEST_TMP/send.log" 2>&1 ||
		fail "send $* failed: $(tail -n 3 "$TEST_TMP/send.log")"
}

log "1. every size from 60 to 9014, mixed, arrives valid"
recv_bg R1 -n 3000 --timeout 3000
send_a -n 3000 --sizes 60,61,64,127,576,1500,1514,4000,8000,9014
wait_rc "$R1"; [ "$RC" = 0 ] || fail "recv failed: $(cat "$TEST_TMP/R1.log")"
expect_line "$TEST_TMP/R1.log" "received=3000 valid=3000 invalid=0 dup=0 lost=0"

log "2. fewer frames than expected: lost counted, exit 1"
recv_bg R2 -n 100 --timeout 500
send_a -n 90 --size 100
wait_rc "$R2"; [ "$RC" = 1 ] || fail "recv should fail on loss: $(cat "$TEST_TMP/R2.log")"
expect_line "$TEST_TMP/R2.log" "received=90 valid=90 lost=10"

log "3. duplicates: dup counted, exit 1"
recv_bg R3 -n 50 --timeout 500
send_a -n 30 --size 200
send_a -n 30 --size 200 --start-seq 20
wait_rc "$R3"; [ "$RC" = 1 ] || fail "recv should fail on duplicates: $(cat "$TEST_TMP/R3.log")"
expect_line "$TEST_TMP/R3.log" "valid=60 dup=10 lost=0"

log "4. sequence numbers outside the expected range are invalid"
recv_bg R4 -n 20 --start-seq 1000 --timeout 500
# The 5 out-of-range frames first: recv reads in order, so it sees them before
# the 20th valid frame ends it.
send_a -n 5 --size 80 --start-seq 1020
send_a -n 20 --size 80 --start-seq 1000
wait_rc "$R4"; [ "$RC" = 1 ] || fail "recv should fail on out-of-range: $(cat "$TEST_TMP/R4.log")"
expect_line "$TEST_TMP/R4.log" "received=25 valid=20 invalid=5 lost=0"

log "5. reordering is counted but not a failure; recv without -n expects up to the highest"
recv_bg R5 --timeout 500
send_a -n 10 --size 60 --start-seq 10
send_a -n 10 --size 60
wait_rc "$R5"; [ "$RC" = 0 ] || fail "recv failed: $(cat "$TEST_TMP/R5.log")"
expect_line "$TEST_TMP/R5.log" "valid=20 reordered=10 lost=0"

log "6. other traffic (ARP, plain UDP) is ignored"
recv_bg R6 -n 5 --timeout 1000
in_a bash -c "for i in 1 2 3; do echo not-ours >/dev/udp/$PEER_IP/9; done"
send_a -n 5 --size 60
wait_rc "$R6"; [ "$RC" = 0 ] || fail "recv failed: $(cat "$TEST_TMP/R6.log")"
expect_line "$TEST_TMP/R6.log" "received=5 valid=5 invalid=0"

log "7. --rate paces the sender"
t0=$EPOCHREALTIME
send_a -n 500 --size 60 --rate 2000
el=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
[ "$el" -ge 200 ] || fail "500 frames at 2000 pps took only $el ms"

log "8. echo without a reflector: nothing comes back, all lost, exit 1"
rc=0
in_b "$PEER_TOOL" echo -i "$PEER" -n 20 --dst-mac "$DEV_MAC" --timeout 300 >"$TEST_TMP/E0.log" 2>&1 || rc=$?
[ $rc = 1 ] || fail "echo with nothing on the other side exited $rc: $(cat "$TEST_TMP/E0.log")"
expect_line "$TEST_TMP/E0.log" "sent=20 received=0 lost=20"

log "9. echo against xdp_reflect: every frame back, MACs swapped, in order"
in_a ip link set dev "$DEV" xdpdrv obj "$NTAD_BUILD/bpf/xdp_reflect.bpf.o" sec xdp.frags
xdp_prog_on "$NS_A" "$DEV" || fail "xdp_reflect not attached"
in_b "$PEER_TOOL" echo -i "$PEER" -n 5000 --imix --dst-mac "$DEV_MAC" --expect-swapped-macs \
	>"$TEST_TMP/E1.log" 2>&1 || fail "echo imix: $(cat "$TEST_TMP/E1.log")"
expect_line "$TEST_TMP/E1.log" "sent=5000 received=5000 valid=5000 invalid=0 dup=0 reordered=0 lost=0"
in_b "$PEER_TOOL" echo -i "$PEER" -n 300 --sizes 60,9014,1500 --dst-mac "$DEV_MAC" \
	--expect-swapped-macs --window 4 >"$TEST_TMP/E2.log" 2>&1 || fail "echo jumbo: $(cat "$TEST_TMP/E2.log")"
expect_line "$TEST_TMP/E2.log" "valid=300 lost=0"

log "10. echo notices MACs that were not swapped (xdp_bounce: XDP_TX as is)"
in_a ip link set dev "$DEV" xdpdrv off
in_a ip link set dev "$DEV" xdpdrv obj "$NTAD_BUILD/bpf/xdp_bounce.bpf.o" sec xdp.frags
rc=0
in_b "$PEER_TOOL" echo -i "$PEER" -n 10 --dst-mac "$DEV_MAC" --expect-swapped-macs \
	--timeout 300 >"$TEST_TMP/E3.log" 2>&1 || rc=$?
[ $rc = 1 ] || fail "echo should fail on unswapped MACs: $(cat "$TEST_TMP/E3.log")"
expect_line "$TEST_TMP/E3.log" "received=10 valid=0 invalid=10"
# Without --expect-swapped-macs the same frames are fine.
in_b "$PEER_TOOL" echo -i "$PEER" -n 10 --dst-mac "$DEV_MAC" >"$TEST_TMP/E4.log" 2>&1 ||
	fail "echo without MAC check: $(cat "$TEST_TMP/E4.log")"
in_a ip link set dev "$DEV" xdpdrv off

log "11. bad usage exits 2"
rc=0; in_b "$PEER_TOOL" send -i "$PEER" -n 1 --size 9014 --mtu >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "unknown option exited $rc"
rc=0; in_b "$PEER_TOOL" send -i nosuchif0 -n 1 >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "missing interface exited $rc"
in_b ip link set dev "$PEER" mtu 1500
rc=0; in_b "$PEER_TOOL" send -i "$PEER" -n 1 --size 1515 >"$TEST_TMP/U.log" 2>&1 || rc=$?
[ $rc = 2 ] && grep -q MTU "$TEST_TMP/U.log" || fail "frame above MTU: exit $rc, $(cat "$TEST_TMP/U.log")"

log "all peer tool checks passed"
