#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Signals: SIGTERM and SIGINT stop ntad within a second with a summary and zero
# UMEM bytes in use, also in the middle of a flood (RX ring full, TX in flight);
# after SIGKILL the kernel removes the XDP program (bpf_link), and a new ntad
# can bind the same queue right away (EBUSY of the quick rebind is retried).
. "$(dirname "$0")/lib.sh"
net_init
net_veth

# stop_within NAME SIGNAL: signal ntad ($NT), require exit 0 within 1 s.
stop_within() {
	local name=$1 sig=$2 t0 t1 rc=0
	t0=$EPOCHREALTIME
	kill "-$sig" "$NT"
	wait_pid "$NT" 3 || rc=$?
	t1=$EPOCHREALTIME
	[ $rc -eq 0 ] || fail "$name: ntad exited with $rc after SIG$sig"
	awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 1.0) }' ||
		fail "$name: SIG$sig took $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s"
	log "$name: stopped in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') s"
	! xdp_prog_on "$NS_A" "$DEV" || fail "$name: XDP program left on $DEV"
}

# 1. SIGTERM, idle, JSON.
bg_a NT "$NTAD" -i "$DEV" --mode rxdrop -d 60 --json -I 0.2
wait_attached "$NT" || fail "ntad did not attach: $(cat "$TEST_TMP/NT.log")"
sleep 0.5
stop_within "idle SIGTERM" TERM
summary_ok "idle SIGTERM" '.stop == "signal"'
grep -q '"type":"interval"' "$TEST_TMP/NT.log" || fail "no interval line in 0.5 s with -I 0.2"

# 2. SIGINT, text output, after traffic.
bg_a NT "$NTAD" -i "$DEV" --mode rxdrop --verify -d 60
wait_attached "$NT" || fail "ntad did not attach: $(cat "$TEST_TMP/NT.log")"
in_b "$PEER_TOOL" send -i "$PEER" -n 1000 --size 128 --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" >/dev/null
sleep 0.2
stop_within "SIGINT" INT
grep -q "^summary: rxdrop with pool nta" "$TEST_TMP/NT.log" || fail "SIGINT: no text summary"
grep -q "verify: 1000 valid, 0 invalid" "$TEST_TMP/NT.log" || fail "SIGINT: $(cat "$TEST_TMP/NT.log")"
grep -q "umem in use at exit: 0 bytes; nta check: ok" "$TEST_TMP/NT.log" || fail "SIGINT: bad exit accounting"

# 3. SIGTERM during a flood, l2fwd (RX full, TX in flight), both pools.
for pool in nta fixed; do
	bg_a NT "$NTAD" -i "$DEV" --mode l2fwd --pool "$pool" -d 60 --json -I 0
	wait_attached "$NT" || fail "ntad did not attach: $(cat "$TEST_TMP/NT.log")"
	bg_b TX "$PEER_TOOL" send -i "$PEER" -n 2000000 --imix --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC"
	sleep 0.5
	stop_within "flood SIGTERM ($pool)" TERM
	# More than a trickle of traffic reached ntad before the signal.
	summary_ok "flood SIGTERM ($pool)" '.stop == "signal"' '.rx_packets > 1000'
	kill -TERM "$TX" 2>/dev/null || true
	wait_pid "$TX" 5 || true
done

# 4. SIGKILL: the link dies with the process; the queue can be bound again.
bg_a NT "$NTAD" -i "$DEV" --mode rxdrop -d 60 -I 0
wait_attached "$NT" || fail "ntad did not attach: $(cat "$TEST_TMP/NT.log")"
kill -KILL "$NT"
wait_pid "$NT" 3 || true
for _ in $(seq 20); do
	xdp_prog_on "$NS_A" "$DEV" || break
	sleep 0.05
done
! xdp_prog_on "$NS_A" "$DEV" || fail "SIGKILL: XDP program left on $DEV"
log "SIGKILL: program gone"
out=$(in_a "$NTAD" -i "$DEV" --mode rxdrop -d 0.3 -I 0 2>&1) || fail "rebind after SIGKILL failed: $out"
! xdp_prog_on "$NS_A" "$DEV" || fail "XDP program left on $DEV after the rebind run"
log "ok"
