#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_gen.sh - the benchmark generator (tests/tools/ntad-gen) sends what it
# says it sent: as many frames, with the sequence numbers, lengths and payloads
# it claims, checked by receivers that do not share its code path.
#
#   0. selftest: the generator program's output for every size, IMIX and both
#      payload modes equals pkt.c's frames (non-live BPF_PROG_RUN).
#   1. DEV -> PEER, received by ntad-peer recv over AF_PACKET on PEER (the
#      stack path, xdp_pass there): fixed 64 bytes, IMIX, and 1500 bytes, full
#      payloads; every frame valid, no loss, no dup, and "sent" equals COUNT.
#   2. PEER -> DEV into ntad rxdrop --verify (the AF_XDP path the benchmarks
#      measure): verify_valid equals what the generator reports, none invalid.
#   3. seq payloads into the XDP_DROP counter: all frames arrive in sequence
#      (the payload check does not apply to seq mode, the seq does).
#   4. a duration run stops on time, and the counter agrees with "sent".
# Rates are kept where no ring overflows, so every count must match exactly.
. "$NTAD_TOP/tests/net/lib.sh"
net_init

GEN=$NTAD_BUILD/tests/tools/ntad-gen
[ -x "$GEN" ] || skip "$GEN not built (make B=$NTAD_BUILD tests)"
[ -x "$PEER_TOOL" ] || skip "$PEER_TOOL not built (make B=$NTAD_BUILD tests)"
[ -x "$NTAD" ] || skip "$NTAD not built (make B=$NTAD_BUILD)"

# kv FILE KEY: the value of KEY= in the last line of FILE.
kv() {
	tail -n 1 "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

log "0. selftest against pkt.c"
out=$("$GEN" selftest 2>&1) || fail "selftest: $out"
log "$out"

net_veth

# A kernel that refuses live frames to root (EPERM for any program and interface,
# 6.18.44-fc: docs/PLATFORM.md) cannot run the generator at all; the selftest
# above still checks its program. Any other failure fails below.
if ! out=$(in_a "$GEN" send -i "$DEV" -n 1 --dst-mac "$PEER_MAC" 2>&1) &&
	grep -q 'BPF_PROG_RUN on .*: Operation not permitted' <<<"$out"; then
	skip "this kernel refuses BPF_PROG_RUN live frames (docs/PLATFORM.md): $(grep -m1 BPF_PROG_RUN <<<"$out")"
fi

log "1. DEV -> PEER into ntad-peer recv (AF_PACKET), full payloads"
n=4000
for size in "--size 64" "--imix" "--size 1500"; do
	bg_b R "$PEER_TOOL" recv -i "$PEER" -n "$n" --timeout 3000
	sleep 0.3
	# shellcheck disable=SC2086
	in_a "$GEN" send -i "$DEV" -n "$n" $size --rate 4000 --dst-mac "$PEER_MAC" >"$TEST_TMP/send.log" 2>&1 ||
		fail "ntad-gen send $size failed: $(cat "$TEST_TMP/send.log")"
	[ "$(kv "$TEST_TMP/send.log" sent)" = "$n" ] || fail "ntad-gen $size: sent is not $n: $(tail -n1 "$TEST_TMP/send.log")"
	rc=0
	wait_pid "$R" 20 || rc=$?
	[ $rc = 0 ] || fail "ntad-peer recv after ntad-gen $size (exit $rc): $(tail -n 3 "$TEST_TMP/R.log")"
	line=$(tail -n 1 "$TEST_TMP/R.log")
	for want in "received=$n" "valid=$n" "invalid=0" "dup=0" "lost=0"; do
		[[ " $line " == *" $want "* ]] || fail "ntad-gen $size: want $want, ntad-peer says: $line"
	done
	log "ntad-gen $size: $line"
done

log "2. PEER -> DEV into ntad rxdrop --verify (AF_XDP)"
n=20000
bg_a N "$NTAD" -i "$DEV" -m rxdrop --verify --json --interval 0.2 -d 15 -n "$n"
for ((t = 0; t < 100; t++)); do
	grep -q '"type":"interval"' "$TEST_TMP/N.log" 2>/dev/null && break
	sleep 0.1
done
grep -q '"type":"interval"' "$TEST_TMP/N.log" || fail "ntad did not start: $(tail -n 3 "$TEST_TMP/N.log")"
in_b "$GEN" send -i "$PEER" -n "$n" --imix --rate 10000 --dst-mac "$DEV_MAC" >"$TEST_TMP/send2.log" 2>&1 ||
	fail "ntad-gen send failed: $(cat "$TEST_TMP/send2.log")"
[ "$(kv "$TEST_TMP/send2.log" sent)" = "$n" ] || fail "ntad-gen: sent is not $n: $(tail -n1 "$TEST_TMP/send2.log")"
rc=0
wait_pid "$N" 20 || rc=$?
[ $rc = 0 ] || fail "ntad exited $rc"
summary=$(jq -c 'select(.type == "summary")' "$TEST_TMP/N.log")
[ -n "$summary" ] || fail "ntad printed no summary"
valid=$(jq -r .verify_valid <<<"$summary")
invalid=$(jq -r .verify_invalid <<<"$summary")
[ "$valid" = "$n" ] && [ "$invalid" = 0 ] ||
	fail "ntad --verify: want $n valid, 0 invalid; got $valid valid, $invalid invalid ($summary)"
log "ntad rxdrop --verify: $valid valid, $invalid invalid"

log "3. seq payloads into the XDP_DROP counter: every frame, in sequence"
n=200000
bg_a C "$GEN" count -i "$DEV" -n "$n" -d 15 --start-seq 1000
for ((t = 0; t < 50; t++)); do
	grep -q '^attached' "$TEST_TMP/C.log" 2>/dev/null && break
	sleep 0.1
done
grep -q '^attached' "$TEST_TMP/C.log" || fail "counter did not attach: $(cat "$TEST_TMP/C.log")"
# ntad's program is gone from DEV, the counter now gives it NAPI.
in_b "$GEN" send -i "$PEER" -n "$n" --size 1500 --payload seq --start-seq 1000 --rate 1000000 \
	--dst-mac "$DEV_MAC" >"$TEST_TMP/send3.log" 2>&1 || fail "ntad-gen send failed: $(cat "$TEST_TMP/send3.log")"
rc=0
wait_pid "$C" 20 || rc=$?
[ $rc = 0 ] || fail "counter exited $rc: $(cat "$TEST_TMP/C.log")"
line=$(tail -n 1 "$TEST_TMP/C.log")
for want in "received=$n" "ours=$n" "in_order=$n" "bytes=$((n * 1500))"; do
	[[ " $line " == *" $want "* ]] || fail "seq payloads: want $want, counter says: $line"
done
[ "$(kv "$TEST_TMP/send3.log" next_seq)" = "$((1000 + n))" ] || fail "next_seq: $(tail -n1 "$TEST_TMP/send3.log")"
log "counter: $line"

log "4. a 1-second run at full speed stops on time; the counter saw all of it"
bg_a C2 "$GEN" count -i "$DEV" -d 4
sleep 0.5
start=$(date +%s.%N)
in_b "$GEN" send -i "$PEER" -d 1 --payload seq --dst-mac "$DEV_MAC" >"$TEST_TMP/send4.log" 2>&1 ||
	fail "ntad-gen send -d 1 failed: $(cat "$TEST_TMP/send4.log")"
took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { print e - s }')
awk -v t="$took" 'BEGIN { exit !(t < 1.8) }' || fail "ntad-gen -d 1 took ${took}s"
sent=$(kv "$TEST_TMP/send4.log" sent)
rc=0
wait_pid "$C2" 10 || rc=$?
got=$(kv "$TEST_TMP/C2.log" received)
[ "$sent" -gt 0 ] && [ "$got" = "$sent" ] || fail "full speed: sent $sent, counter received $got"
log "1 s at full speed: sent $sent ($(kv "$TEST_TMP/send4.log" pps) pps), received $got, took ${took}s"
exit 0
