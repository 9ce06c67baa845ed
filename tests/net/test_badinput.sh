#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bad input: each mistake a user can make gets exactly one line on stderr,
# "ntad: <thing>: <problem>; <fix>", naming the problem and the fix, a non-zero
# exit (1 for the system, 2 for usage), and nothing left attached.
. "$(dirname "$0")/lib.sh"
net_init
net_veth

# expect NAME RC "FRAGMENT|FRAGMENT..." CMD...: run CMD in NS_A, check the exit
# status, that stderr is one "ntad: ...; ..." line containing every fragment,
# and that no XDP program is on DEV or lo afterwards.
expect() {
	local name=$1 want_rc=$2 frags=$3 rc=0 err f
	shift 3
	in_a "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || rc=$?
	err=$(cat "$TEST_TMP/err")
	[ $rc -eq "$want_rc" ] || fail "$name: exit $rc, expected $want_rc; stderr: $err"
	[ "$(wc -l <"$TEST_TMP/err")" -eq 1 ] || fail "$name: expected one line on stderr, got: $err"
	[[ "$err" == "ntad: "*";"* ]] || fail "$name: not 'ntad: thing: problem; fix': $err"
	IFS='|' read -r -a parts <<<"$frags"
	for f in "${parts[@]}"; do
		[[ "$err" == *"$f"* ]] || fail "$name: message lacks '$f': $err"
	done
	! xdp_prog_on "$NS_A" "$DEV" || fail "$name: XDP program left on $DEV"
	! xdp_prog_on "$NS_A" lo || fail "$name: XDP program left on lo"
	log "$name: rc $rc: $err"
}

expect "unknown interface" 1 "nosuch0: no such interface|ip link" \
	"$NTAD" -i nosuch0

# Not root: the binary must be reachable by nobody.
mkdir -p "$TEST_TMP/bin" && cp "$NTAD" "$TEST_TMP/bin/ntad"
chmod 755 "$TEST_TMP" "$TEST_TMP/bin" "$TEST_TMP/bin/ntad"
expect "not root" 1 "not running as root|ntad needs root (CAP_NET_ADMIN" \
	setpriv --reuid=65534 --regid=65534 --clear-groups "$TEST_TMP/bin/ntad" -i "$DEV"

# Real-time priority refused (no CAP_SYS_NICE, RLIMIT_RTPRIO 0): said before anything is attached.
expect "--rt-priority refused" 1 "--rt-priority 10: not permitted|CAP_SYS_NICE|drop --rt-priority" \
	setpriv --bounding-set=-sys_nice --inh-caps=-sys_nice prlimit --rtprio=0 "$NTAD" -i "$DEV" --rt-priority 10

# No native XDP: loopback has none (its MTU made frame-sized first, in our namespace).
in_a ip link set lo mtu 1500
expect "no native XDP" 1 "lo: native XDP refused|--xdp-mode skb" \
	"$NTAD" -i lo
# ... and the suggested fix works.
in_a "$NTAD" -i lo --xdp-mode skb -d 0.3 -I 0 >/dev/null 2>&1 || fail "--xdp-mode skb on lo failed"
! xdp_prog_on "$NS_A" lo || fail "XDP program left on lo after the skb run"

expect "queue out of range" 1 "queue 3 out of range|1 rx and 1 tx queues|--queue 0..0" \
	"$NTAD" -i "$DEV" -q 3

in_a ip link set dev "$DEV" mtu 3000
# Without multi-buffer (by default it would bind with XDP_USE_SG, test_jumbo).
expect "MTU too large" 1 "MTU 3000 too large for --chunk-size 2048|MTU up to 1778|--chunk-size 4096|--no-frags" \
	"$NTAD" -i "$DEV" --no-frags
in_a "$NTAD" -i "$DEV" --chunk-size 4096 -d 0.3 -I 0 >/dev/null 2>&1 ||
	fail "MTU 3000 with --chunk-size 4096 (the suggested fix) failed"
in_a ip link set dev "$DEV" mtu 3900
expect "MTU too large for any chunk" 1 "MTU 3900 too large for --chunk-size 4096|mtu 3826" \
	"$NTAD" -i "$DEV" --chunk-size 4096 --no-frags
in_a ip link set dev "$DEV" mtu 1500

expect "UMEM too small" 2 "--umem-size 1048576: too small for the rings|--umem-size 12M" \
	"$NTAD" -i "$DEV" --umem-size 1M
expect "-o without fwd" 2 "--out-interface: only used by --mode fwd" \
	"$NTAD" -i "$DEV" -o lo
expect "fwd without -o" 2 "--mode fwd: needs a second interface|-o IFACE" \
	"$NTAD" -i "$DEV" -m fwd
expect "txonly option in rxdrop" 2 "only used by --mode txonly" \
	"$NTAD" -i "$DEV" --rate 100
expect "unknown option" 2 "--frobnicate: unknown option|--help" \
	"$NTAD" -i "$DEV" --frobnicate
expect "bad chunk" 2 "--chunk-size '8192'|2048..4096" \
	"$NTAD" -i "$DEV" --chunk-size 8192

# Queue taken by another ntad: the second one fails, the first keeps running.
bg_a NT "$NTAD" -i "$DEV" -d 60 -I 0
for _ in $(seq 100); do xdp_prog_on "$NS_A" "$DEV" && break; sleep 0.05; done
xdp_prog_on "$NS_A" "$DEV" || fail "first ntad did not attach: $(cat "$TEST_TMP/NT.log")"
rc=0
in_a "$NTAD" -i "$DEV" -d 1 2>"$TEST_TMP/err" >/dev/null || rc=$?
[ $rc -eq 1 ] && grep -q "queue 0: busy.*; stop it or use another --queue" "$TEST_TMP/err" ||
	fail "busy queue: rc $rc: $(cat "$TEST_TMP/err")"
xdp_prog_on "$NS_A" "$DEV" || fail "busy queue: the failed second ntad removed the first one's program"
kill -0 "$NT" || fail "first ntad died"
kill -TERM "$NT"
wait_pid "$NT" 3 || fail "first ntad did not stop cleanly"
log "busy queue: $(cat "$TEST_TMP/err")"

# A foreign XDP program on the interface: refused, and left in place.
in_a ip link set dev "$DEV" xdpdrv obj "$NTAD_BUILD/bpf/xdp_pass.bpf.o" sec xdp.frags
rc=0
in_a "$NTAD" -i "$DEV" -d 1 2>"$TEST_TMP/err" >/dev/null || rc=$?
[ $rc -eq 1 ] && grep -q "another XDP program is attached; remove it" "$TEST_TMP/err" ||
	fail "foreign program: rc $rc: $(cat "$TEST_TMP/err")"
xdp_prog_on "$NS_A" "$DEV" || fail "foreign program: ntad removed a program it did not attach"
in_a ip link set dev "$DEV" xdpdrv off
log "foreign program: $(cat "$TEST_TMP/err")"
log "ok"
