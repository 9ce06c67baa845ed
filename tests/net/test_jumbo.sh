#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# jumbo: a veth pair with MTU 9000. Frames larger than a chunk arrive as
# multi-buffer chains and leave as descriptor chains; every frame is checked by
# payload and sequence number, and every run must end with zero UMEM bytes in
# use, a clean allocator check and no ledger violation.
#   rxdrop --verify: 1501..9014-byte frames mixed with 64-byte ones, nta (the
#     chains are gathered into jumbo blocks to be checked) and fixed pool, and
#     with --chunk-size 4096;
#   l2fwd: the peer's jumbo and small frames come back intact, MACs swapped;
#   txonly: 1501, 4000, 9000 and 9014-byte frames built in one multi-page
#     block each and sent as chains, received and checked by the peer;
#   capture 'ether[9000] >= 0': the XDP program reads byte 9000 of the frame,
#     past its linear part, so exactly the 9014-byte frames reach ntad (in
#     chains) and the file, the others go to the stack;
#   --no-frags: refused at start with a message naming the fix.
. "$(dirname "$0")/lib.sh"
net_init
net_veth --mtu 9000

# multi SIZES CHUNK: how many of the sizes need more than one buffer.
multi() {
	local n=0 len
	for len in ${1//,/ }; do
		((len > $2 - 256)) && n=$((n + 1))
	done
	echo $n
}

# ---- rxdrop: N frames cycling through SIZES, all verified ----
rxdrop() {
	local name=$1 sizes=$2 chunk=$3 n=$4 m
	shift 4
	log "rxdrop: $name"
	# Deep rings: a 9000-byte frame takes up to 6 buffers, and on a busy
	# machine ntad may be off the CPU for tens of milliseconds.
	bg_a NT "$NTAD" -i "$DEV" --mode rxdrop --verify -n "$n" -d 60 --json -I 0 \
		--chunk-size "$chunk" --rx-size 8192 --fill-size 8192 --umem-size 96M "$@"
	wait_attached "$NT" || fail "rxdrop $name: ntad did not attach: $(cat "$TEST_TMP/NT.log")"
	in_b "$PEER_TOOL" send -i "$PEER" -n "$n" --sizes "$sizes" --rate 10000 \
		--src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" | tail -n 1
	local k
	k=$(tr ',' '\n' <<<"$sizes" | grep -c .)
	m=$(($(multi "$sizes" "$chunk") * n / k))
	wait_ntad "rxdrop $name" 20 ".rx_packets == $n" ".verify_valid == $n" ".tx_lost_at_exit == 0" \
		".verify_invalid == 0" ".rx_multibuf == $m" '.stop == "count"' "${CHECKS[@]}"
}

SIZES=64,1501,3000,4000,7777,9000,9014
CHECKS=(".gathers == $(($(multi $SIZES 2048) * 7000 / 7))")
rxdrop "nta, chunk 2048" $SIZES 2048 7000 --pool nta
CHECKS=(".gathers == 0")
rxdrop "fixed, chunk 2048" $SIZES 2048 7000 --pool fixed
CHECKS=(".gathers == $(($(multi $SIZES 4096) * 7000 / 7))")
rxdrop "nta, chunk 4096" $SIZES 4096 7000 --pool nta

# ---- l2fwd: the peer's frames come back as they left, MACs swapped ----
l2fwd() {
	local name=$1 sizes=$2 n=$3 out m k
	shift 3
	log "l2fwd: $name"
	bg_a NT "$NTAD" -i "$DEV" --mode l2fwd -d 60 --json -I 0 "$@"
	wait_attached "$NT" || fail "l2fwd $name: ntad did not attach: $(cat "$TEST_TMP/NT.log")"
	out=$(in_b "$PEER_TOOL" echo -i "$PEER" -n "$n" --sizes "$sizes" --expect-swapped-macs \
		--src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" 2>&1) || fail "l2fwd $name: peer: $out"
	log "peer: $(tail -n 1 <<<"$out")"
	grep -q "received=$n valid=$n invalid=0 dup=0 .*lost=0" <<<"$out" ||
		fail "l2fwd $name: peer saw: $out"
	k=$(tr ',' '\n' <<<"$sizes" | grep -c .)
	m=$(($(multi "$sizes" 2048) * n / k))
	stop_ntad "l2fwd $name" ".rx_packets == $n" ".tx_packets == $n" ".tx_lost_at_exit == 0" \
		".rx_multibuf == $m" ".tx_multibuf == $m"
}

l2fwd "nta, jumbo and small" 64,1501,4000,9000,9014,1500 3000 --pool nta
l2fwd "fixed, jumbo and small" 64,1501,4000,9000,9014,1500 3000 --pool fixed

# ---- txonly: jumbo frames from one block each, checked by the peer ----
txonly() {
	local name=$1 n=$2 size=$3 chunk=$4 out s per
	log "txonly: $name"
	bg_b RX "$PEER_TOOL" recv -i "$PEER" -n "$n" --timeout 3000
	sleep 0.3
	out=$(in_a "$NTAD" -i "$DEV" --mode txonly -n "$n" --size "$size" --chunk-size "$chunk" \
		--src-mac "$DEV_MAC" --dst-mac "$PEER_MAC" --json -I 0 --rate 20000 2>&1) ||
		fail "txonly $name: ntad failed: $out"
	s=$(grep '"type":"summary"' <<<"$out") || fail "txonly $name: no summary: $out"
	log "$s"
	per=$(((size + chunk - 1) / chunk))
	check_summary "txonly $name" "$s" ".tx_packets == $n" ".tx_submitted == $n" ".tx_lost_at_exit == 0" \
		".tx_bytes == $((n * size))" ".tx_multibuf == $((per > 1 ? n : 0))" '.stop == "count"'
	rc=0
	wait_pid "$RX" 15 || rc=$?
	log "peer: $(tail -n 1 "$TEST_TMP/RX.log")"
	[ $rc -eq 0 ] || fail "txonly $name: peer exited with $rc: $(tail -n 3 "$TEST_TMP/RX.log")"
	grep -q "received=$n valid=$n invalid=0 dup=0 reordered=0 lost=0" "$TEST_TMP/RX.log" ||
		fail "txonly $name: peer saw $(tail -n 1 "$TEST_TMP/RX.log")"
}

txonly "9000 bytes, chunk 2048 (5 descriptors)" 3000 9000 2048
txonly "9014 bytes, chunk 4096 (3 descriptors)" 3000 9014 4096
txonly "4000 bytes, chunk 2048 (a normal-page block)" 3000 4000 2048
txonly "1501 bytes, one descriptor" 3000 1501 2048

# ---- capture: an expression that reads a jumbo frame's fragments ----
log "capture 'ether[9000] >= 0'"
bg_a NT "$NTAD" -i "$DEV" --mode capture --pcap "$TEST_TMP/jumbo.pcap" -d 60 --json -I 0 \
	--rx-size 8192 --fill-size 8192 --umem-size 96M ether[9000] '>=' 0
wait_attached "$NT" || fail "capture: ntad did not attach: $(cat "$TEST_TMP/NT.log")"
in_b "$PEER_TOOL" send -i "$PEER" -n 300 --sizes 64,1501,9000,9014,4000 --rate 10000 \
	--src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" | tail -n 1
sleep 0.5
stop_ntad "capture ether[9000]" ".rx_packets == 60" ".xdp_redirected == 60" ".xdp_matched == 60" \
	".xdp_passed >= 240" ".rx_multibuf == 60" ".pcap_packets == 60"
lens=$(tcpdump -r "$TEST_TMP/jumbo.pcap" -nn -e 2>/dev/null | grep -o 'length [0-9]*:' | sort | uniq -c |
	awk '{ print $1 "x" $3 }')
[ "$lens" = "60x9014:" ] || fail "capture ether[9000]: the file holds $lens, want 60 frames of 9014 bytes"

# ---- refusals ----
log "refusal: --no-frags at MTU 9000"
rc=0
out=$(in_a "$NTAD" -i "$DEV" --mode rxdrop --no-frags -d 1 2>&1) || rc=$?
[ $rc -eq 1 ] || fail "--no-frags at MTU 9000: exit $rc, not 1: $out"
grep -q "MTU 9000 too large for --chunk-size 2048 without multi-buffer.*drop --no-frags" <<<"$out" ||
	fail "--no-frags at MTU 9000: message does not name the fix: $out"
[ "$(wc -l <<<"$out")" -eq 1 ] || fail "--no-frags: more than one line: $out"
! xdp_prog_on "$NS_A" "$DEV" || fail "--no-frags: XDP program left on $DEV"
log "ok"
