#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Faults under a running ntad, one function each. Every case requires: no
# crash (ntad ends with 0, with the status of the signal we sent, or with a
# clear one-line message), no sanitizer report, UMEM accounting clean where
# ntad gets to its summary, and no XDP program left on the interface.
#   link_down_up   DEV and then PEER taken down and up under traffic; valid
#                  traffic afterwards comes back whole
#   mtu_change     MTU raised under ntad (2048-byte chunks); frames too big
#                  for a chunk are counted as rx_dropped by the kernel, the
#                  rest flows; MTU back, traffic whole again
#   fill_starved   peer floods while ntad is stopped (SIGSTOP): the fill ring
#                  runs dry; after SIGCONT ntad drains and keeps going, and
#                  every redirected frame is received or counted as dropped
#   sigkill        SIGKILL at random moments of loaded runs: the bpf_link
#                  goes with the process, the next ntad binds at once
#   peer_ns_gone   the peer namespace deleted under traffic (the veth pair
#                  goes with it): ntad stops with a message naming the
#                  interface, accounting clean
#   veth_gone      the veth pair deleted from ntad's side: the same
. "$(dirname "$0")/lib.sh"
net_init
net_veth

start_ntad() {
	bg_a NT "$NTAD" -i "$DEV" -d 60 --json -I 0 "$@"
	wait_attached "$NT" || fail "ntad did not attach: $(cat "$TEST_TMP/NT.log")"
}

echo_ok() {
	local name=$1 n=$2 out
	shift 2
	out=$(in_b "$PEER_TOOL" echo -i "$PEER" -n "$n" --expect-swapped-macs \
		--src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" "$@" 2>&1) || fail "$name: echo: $out"
	grep -q "received=$n valid=$n invalid=0 dup=0 .*lost=0" <<<"$out" || fail "$name: echo: $out"
}

flood() {
	bg_b TX "$PEER_TOOL" send -i "$PEER" -n "$1" --imix --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC"
}

end_flood() {
	kill -TERM "$TX" 2>/dev/null || true
	wait_pid "$TX" 5 || true
}

link_down_up() {
	local dev
	start_ntad --mode l2fwd
	flood 200000
	for dev in A B; do
		sleep 0.3
		if [ $dev = A ]; then
			ip -n "$NS_A" link set dev "$DEV" down
			sleep 0.3
			ip -n "$NS_A" link set dev "$DEV" up
		else
			ip -n "$NS_B" link set dev "$PEER" down
			sleep 0.3
			ip -n "$NS_B" link set dev "$PEER" up
		fi
		kill -0 "$NT" 2>/dev/null || fail "link_down_up: ntad died with $dev down: $(cat "$TEST_TMP/NT.log")"
	done
	end_flood
	sleep 0.5 # carrier back on both ends
	echo_ok link_down_up 2000 --imix
	stop_ntad link_down_up
}

mtu_change() {
	local big=200 small=1000
	start_ntad --mode rxdrop --verify
	ip -n "$NS_A" link set dev "$DEV" mtu 3000 || fail "mtu_change: cannot raise the MTU of $DEV"
	ip -n "$NS_B" link set dev "$PEER" mtu 3000 || fail "mtu_change: cannot raise the MTU of $PEER"
	in_b "$PEER_TOOL" send -i "$PEER" -n "$big" --size 3014 --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" >/dev/null
	in_b "$PEER_TOOL" send -i "$PEER" -n "$small" --imix --start-seq 1000 \
		--src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" >/dev/null
	ip -n "$NS_B" link set dev "$PEER" mtu 1500
	ip -n "$NS_A" link set dev "$DEV" mtu 1500
	in_b "$PEER_TOOL" send -i "$PEER" -n "$small" --imix --start-seq 2000 \
		--src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" >/dev/null
	sleep 0.3
	stop_ntad mtu_change ".rx_dropped == $big" ".rx_packets == $((2 * small))" \
		".verify_valid == $((2 * small))" ".xdp_redirected == $((big + 2 * small))"
}

fill_starved() {
	local n=100000 out
	start_ntad --mode rxdrop
	kill -STOP "$NT"
	out=$(in_b "$PEER_TOOL" send -i "$PEER" -n "$n" --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" 2>&1) ||
		fail "fill_starved: send: $out"
	kill -CONT "$NT"
	sleep 0.5
	in_b "$PEER_TOOL" send -i "$PEER" -n 1000 --imix --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" >/dev/null
	sleep 0.3
	# The frames that found no fill buffer are counted by the kernel; every
	# redirected frame is received or counted as dropped.
	stop_ntad fill_starved ".rx_dropped > 0" ".rx_fill_ring_empty_descs > 0" \
		".rx_packets + .rx_dropped + .rx_ring_full == .xdp_redirected" \
		".rx_packets >= 1000"
}

sigkill() {
	local i delay rc
	for i in 1 2 3 4 5; do
		start_ntad --mode l2fwd --pool "$([ $((i % 2)) -eq 0 ] && echo fixed || echo nta)"
		flood 1000000
		delay=$(awk -v r=$RANDOM 'BEGIN { printf "%.3f", 0.05 + r / 32768 }')
		sleep "$delay"
		kill -KILL "$NT"
		rc=0
		wait_pid "$NT" 5 || rc=$?
		[ $rc -eq 137 ] || fail "sigkill $i: ntad ended with $rc, not by SIGKILL"
		no_sanitizer_report "sigkill $i"
		end_flood
		for _ in $(seq 40); do
			xdp_prog_on "$NS_A" "$DEV" || break
			sleep 0.05
		done
		! xdp_prog_on "$NS_A" "$DEV" || fail "sigkill $i: XDP program left on $DEV"
		log "sigkill $i after ${delay}s: program gone"
	done
	start_ntad --mode l2fwd
	echo_ok sigkill 2000 --imix
	stop_ntad sigkill
}

# gone NAME CMD...: run CMD (removing the interface) under traffic; ntad must
# stop by itself with a message naming $DEV and a clean summary.
gone() {
	local name=$1 rc=0
	shift
	start_ntad --mode l2fwd
	flood 1000000
	sleep 0.5
	"$@"
	wait_pid "$NT" 5 || rc=$?
	[ $rc -ne 124 ] || fail "$name: ntad still running 5 s after $DEV went away"
	[ $rc -eq 1 ] || fail "$name: ntad exited with $rc: $(tail -n 5 "$TEST_TMP/NT.log")"
	grep -q "ntad: $DEV: .*gone" "$TEST_TMP/NT.log" ||
		fail "$name: no message about $DEV: $(grep -v '^{' "$TEST_TMP/NT.log")"
	summary_ok "$name" '.stop == "error"'
	log "$name: $(grep -v '^{' "$TEST_TMP/NT.log")"
	end_flood
	net_veth # a new pair for the next case
}

# The flood keeps NS_B (and so the pair) alive until it ends: end it too.
del_peer_ns() {
	ip netns del "$NS_B"
	kill -TERM "$TX" 2>/dev/null || true
}

peer_ns_gone() {
	gone peer_ns_gone del_peer_ns
}

veth_gone() {
	gone veth_gone ip -n "$NS_A" link del dev "$DEV"
}

cases=(link_down_up mtu_change fill_starved sigkill peer_ns_gone veth_gone)
for c in "${cases[@]}"; do
	[ -n "${FAULTS:-}" ] && [[ " $FAULTS " != *" $c "* ]] && continue
	log "case $c"
	"$c"
done
log "ok"
