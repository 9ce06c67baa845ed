#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_setup_veth.sh - scripts/setup-veth.sh: setup, idempotent re-setup,
# status, refusal to touch devices and namespaces it did not make, bad input,
# rollback of a failed setup, and a teardown that leaves nothing behind.
# All names are unique to this run; what the test makes by hand (the "foreign"
# namespace and devices) is removed at exit.
. "$NTAD_TOP/tests/net/lib.sh"
net_init
[ -f "$NTAD_BUILD/bpf/xdp_pass.bpf.o" ] || skip "xdp_pass.bpf.o not built (make B=$NTAD_BUILD bpf)"

id=$(printf '%x%04x' $$ $RANDOM)
A=sv-a-$id B=sv-b-$id F=sv-f-$id
D=s$id P=s${id}p X=x$id
names=(--dev "$D" --dev-netns "$A" --peer "$P" --netns "$B" --build "$NTAD_BUILD")
SV=$NTAD_TOP/scripts/setup-veth.sh

# Whatever happens, nothing of ours survives the test.
at_exit "$SV" teardown "${names[@]}"
del_foreign() { if ns_there "$F"; then ip netns del "$F"; fi; }
at_exit del_foreign

# sv ARGS...: run setup-veth.sh, output in OUT, status in RC.
sv() {
	RC=0
	OUT=$("$SV" "$@" 2>&1) || RC=$?
}

ns_there() { ip netns list | awk '{ print $1 }' | grep -qx "$1"; }
mark_there() { [ -e "/run/ntad-setup-veth/netns/$1" ]; }
jlink() { ip -n "$1" -d -j link show dev "$2" | jq -r ".[0]$3"; }

log "1. setup makes both namespaces, the pair, addresses, MTU, queues, xdp_pass"
sv setup "${names[@]}" --queues 2 --mtu 2000
[ $RC = 0 ] || fail "setup: $OUT"
grep -q "made:" <<<"$OUT" || fail "setup did not say what it made: $OUT"
ns_there "$A" && ns_there "$B" || fail "namespaces missing"
mark_there "$A" && mark_there "$B" || fail "namespace markers missing"
for e in "$A $D" "$B $P"; do
	set -- $e
	[ "$(jlink "$1" "$2" .ifalias)" = ntad-setup-veth ] || fail "$2: no alias"
	[ "$(jlink "$1" "$2" .mtu)" = 2000 ] || fail "$2: MTU $(jlink "$1" "$2" .mtu)"
	[ "$(jlink "$1" "$2" .num_rx_queues)" = 2 ] && [ "$(jlink "$1" "$2" .num_tx_queues)" = 2 ] ||
		fail "$2: queues"
	[ "$(jlink "$1" "$2" .operstate)" = UP ] || fail "$2: not up"
	[ "$(ip netns exec "$1" sysctl -n "net.ipv6.conf.$2.disable_ipv6")" = 1 ] || fail "$2: IPv6 on"
done
ip -n "$A" -br addr show dev "$D" | grep -q 10.77.0.1/24 || fail "$D: address"
ip -n "$B" -br addr show dev "$P" | grep -q 10.77.0.2/24 || fail "$P: address"
xdp_prog_on "$B" "$P" || fail "no XDP program on $P"
[ "$(jlink "$B" "$P" .xdp.prog.name)" = xdp_pass ] || fail "$P: XDP program is not xdp_pass"
xdp_prog_on "$A" "$D" && fail "XDP program on $D: ntad's end must stay free"

log "2. the pair carries traffic to the peer (NAPI from xdp_pass)"
if [ -x "$PEER_TOOL" ]; then
	mac=$(jlink "$B" "$P" .address)
	NS_B=$B bg_b rpid "$PEER_TOOL" recv -i "$P" -n 100 --timeout 2000
	sleep 0.3
	ip netns exec "$A" "$PEER_TOOL" send -i "$D" -n 100 --size 1900 --dst-mac "$mac" >/dev/null ||
		fail "send failed"
	rc=0; wait_pid "$rpid" 10 || rc=$?
	[ $rc = 0 ] || fail "traffic over the pair: $(cat "$TEST_TMP/rpid.log")"
else
	log "   (ntad-peer not built, traffic check left out)"
fi

log "3. setup again with the same options: says so, succeeds, changes nothing"
before=$(jlink "$A" "$D" .ifindex)
sv setup "${names[@]}" --queues 2 --mtu 2000
[ $RC = 0 ] || fail "re-setup: $OUT"
grep -q "already set up" <<<"$OUT" || fail "re-setup did not say so: $OUT"
[ "$(jlink "$A" "$D" .ifindex)" = "$before" ] || fail "re-setup re-created the pair"

log "4. setup with other settings: refused, pair unchanged"
sv setup "${names[@]}" --queues 2 --mtu 1500
[ $RC = 1 ] || fail "setup with another MTU: exit $RC: $OUT"
grep -q "MTU 2000" <<<"$OUT" && grep -q teardown <<<"$OUT" || fail "message does not name the problem and fix: $OUT"
[ "$(jlink "$A" "$D" .mtu)" = 2000 ] || fail "MTU changed by a refused setup"

log "5. status shows pair, namespaces, MTU, queues, addresses, XDP"
sv status "${names[@]}"
[ $RC = 0 ] || fail "status: $OUT"
for want in "$D" "$P" "$A" "$B" "mtu 2000" "rx 2 tx 2" 10.77.0.1/24 10.77.0.2/24 "name xdp_pass" "made by setup-veth.sh"; do
	grep -qF -- "$want" <<<"$OUT" || fail "status lacks '$want': $OUT"
done

log "6. devices and namespaces it did not make are refused and left alone"
ip -n "$A" link add "$X" type veth peer name "${X}q"
sv setup --dev "$X" --dev-netns "$A" --peer "${X}p" --netns "$B" --build "$NTAD_BUILD"
[ $RC = 1 ] && grep -q "not created by setup-veth.sh" <<<"$OUT" || fail "setup on a foreign device: exit $RC: $OUT"
sv teardown --dev "$X" --dev-netns "$A" --peer "${X}p" --netns "$B"
[ $RC = 1 ] && grep -q "not removing" <<<"$OUT" || fail "teardown of a foreign device: exit $RC: $OUT"
ip -n "$A" link show dev "$X" >/dev/null 2>&1 || fail "foreign device $X was removed"
ip -n "$A" link del dev "$X"
ip netns add "$F"
sv setup --dev "$D" --dev-netns "$F" --peer "${X}p" --netns "sv-g-$id" --build "$NTAD_BUILD"
[ $RC = 1 ] && grep -q "netns '$F' exists and was not created" <<<"$OUT" || fail "setup in a foreign netns: exit $RC: $OUT"
if ns_there "sv-g-$id"; then fail "failed setup left netns sv-g-$id"; fi
ip -n "$F" link add "$X" type veth peer name "${X}q"
sv teardown --dev "$X" --dev-netns "$F" --peer "${X}q" --netns "sv-g-$id"
[ $RC = 1 ] || fail "teardown in a foreign netns: exit $RC: $OUT"
ns_there "$F" && ip -n "$F" link show dev "$X" >/dev/null 2>&1 || fail "foreign netns or its device removed"
ip netns del "$F"

log "7. bad input: one message naming problem and fix, exit 2, nothing made"
for bad in "--mtu 10" "--mtu abc" "--queues 65" "--addr 10.0.0.1" "--peer-addr 300.1.1.1/24" \
	"--dev 0123456789abcdefg" "--netns bad/name" "--frobnicate"; do
	sv setup --dev "z$id" --peer "z${id}p" --dev-netns "sv-z-$id" --netns "sv-y-$id" $bad
	[ $RC = 2 ] || fail "setup $bad: exit $RC: $OUT"
	[ "$(grep -c 'setup-veth.sh:' <<<"$OUT")" -le 2 ] || fail "setup $bad: more than one message: $OUT"
	if ns_there "sv-z-$id" || ns_there "sv-y-$id"; then fail "setup $bad left a namespace"; fi
done
sv setup --dev "z$id" --peer "z${id}p" --dev-netns "sv-z-$id" --netns "sv-y-$id" --build "$TEST_TMP/none"
[ $RC = 1 ] && grep -q "not found" <<<"$OUT" && grep -q -- "--no-peer-xdp" <<<"$OUT" ||
	fail "missing xdp_pass.bpf.o: exit $RC: $OUT"

log "8. a setup failing half-way rolls everything back"
mkdir -p "$TEST_TMP/bogus/bpf"
echo "not an ELF file" >"$TEST_TMP/bogus/bpf/xdp_pass.bpf.o"
sv setup --dev "z$id" --peer "z${id}p" --dev-netns "sv-z-$id" --netns "sv-y-$id" --build "$TEST_TMP/bogus"
[ $RC = 1 ] && grep -q "removed" <<<"$OUT" || fail "failing setup: exit $RC: $OUT"
if ns_there "sv-z-$id" || ns_there "sv-y-$id"; then fail "failed setup left a namespace"; fi
if mark_there "sv-z-$id" || mark_there "sv-y-$id"; then fail "failed setup left a marker"; fi

log "9. jumbo MTU with xdp_pass on the peer"
sv teardown "${names[@]}"
[ $RC = 0 ] || fail "teardown: $OUT"
sv setup "${names[@]}" --mtu 9000
[ $RC = 0 ] || fail "setup --mtu 9000: $OUT"
[ "$(jlink "$A" "$D" .mtu)" = 9000 ] && [ "$(jlink "$B" "$P" .mtu)" = 9000 ] || fail "MTU 9000 not set"

log "10. teardown leaves nothing; teardown of nothing succeeds"
sv teardown "${names[@]}"
[ $RC = 0 ] || fail "teardown: $OUT"
if ns_there "$A" || ns_there "$B"; then fail "namespace left after teardown"; fi
if mark_there "$A" || mark_there "$B"; then fail "marker left after teardown"; fi
ip -o link | grep -q "$id" && fail "device left after teardown"
sv teardown "${names[@]}"
[ $RC = 0 ] && grep -q "nothing to tear down" <<<"$OUT" || fail "second teardown: exit $RC: $OUT"

log "11. ntad's end in the current namespace (the default)"
sv setup --dev "$D" --peer "$P" --netns "$B" --addr none --no-peer-xdp
[ $RC = 0 ] || fail "setup in the current netns: $OUT"
at_exit "$SV" teardown --dev "$D" --peer "$P" --netns "$B"
ip link show dev "$D" >/dev/null 2>&1 || fail "$D not in the current netns"
xdp_prog_on "$B" "$P" && fail "--no-peer-xdp attached a program"
sv teardown --dev "$D" --peer "$P" --netns "$B"
[ $RC = 0 ] || fail "teardown: $OUT"
ip link show dev "$D" >/dev/null 2>&1 && fail "$D left in the current netns"
ns_there "$B" && fail "netns $B left"

log "all setup-veth checks passed"
