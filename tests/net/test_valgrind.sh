#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Valgrind memcheck on short ntad runs with traffic: l2fwd with the nta pool
# (copy-break and trim paths), rxdrop --verify with the fixed pool. Any error,
# any definitely or indirectly lost block fails (--error-exitcode), besides
# ntad's own exit accounting. The suppressions (tests/net/valgrind.supp) cover
# only a false report inside libbpf, explained there. Valgrind does not know
# some bpf(2) commands (LINK_CREATE, ...) and warns about them; that is not an
# error. Needs the normal build: sanitizer builds cannot run under valgrind.
. "$(dirname "$0")/lib.sh"
net_init
command -v valgrind >/dev/null || skip "valgrind missing; run scripts/install-deps.sh"
nm "$NTAD" 2>/dev/null | grep -q "__asan_init\|__tsan_init" && skip "$NTAD is a sanitizer build; valgrind needs the normal build"
net_veth

N=2000
VG=(valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --track-fds=no
	--suppressions="$NTAD_TOP/tests/net/valgrind.supp")

# finish NAME CHECK...: TERM, exit 0 (99 is a valgrind error), checks.
finish() {
	local name=$1
	shift
	kill -TERM "$NT"
	wait_ntad "$name" 30 "$@"
	grep -q 'ERROR SUMMARY: 0 errors' "$TEST_TMP/NT.log" ||
		fail "$name: $(grep -v '^{' "$TEST_TMP/NT.log" | tail -n 40)"
	log "$name: $(grep -E 'ERROR SUMMARY|in use at exit|total heap usage' "$TEST_TMP/NT.log" | tr -s ' ' | tr '\n' ';')"
}

bg_a NT "${VG[@]}" "$NTAD" -i "$DEV" --mode l2fwd -d 60 --json -I 0.5
# Valgrind starts ntad some 20 times slower: allow 20 s.
wait_attached "$NT" 20 || fail "ntad did not attach under valgrind: $(cat "$TEST_TMP/NT.log")"
out=$(in_b "$PEER_TOOL" echo -i "$PEER" -n "$N" --imix --expect-swapped-macs --timeout 5000 \
	--src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" 2>&1) || fail "l2fwd echo: $out"
grep -q "received=$N valid=$N invalid=0 dup=0 .*lost=0" <<<"$out" || fail "l2fwd echo: $out"
finish "l2fwd nta" ".rx_packets == $N" ".copy_breaks > 0" ".trims > 0"

bg_a NT "${VG[@]}" "$NTAD" -i "$DEV" --mode rxdrop --verify --pool fixed -d 60 --json -I 0
wait_attached "$NT" 20 || fail "ntad did not attach under valgrind: $(cat "$TEST_TMP/NT.log")"
in_b "$PEER_TOOL" send -i "$PEER" -n "$N" --imix --rate 20000 --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" >/dev/null
sleep 1
finish "rxdrop fixed" ".xdp_redirected == $N" ".verify_invalid == 0" ".verify_valid == .rx_packets" \
	".rx_packets + .rx_drained + .rx_dropped + .rx_ring_full == $N"
log "ok"
