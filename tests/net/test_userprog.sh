#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# libntad with the caller's own XDP program and XSKMAP (ntad_port_opts
# xsks_map_fd, prog_fd): tests/tools/ntad-userprog loads a program itself and
# gives it to libntad, which attaches it (attach) or only fills its XSKMAP while
# the caller attaches it (map). Sequence-numbered frames from ntad-peer must
# all arrive valid, the program on the interface must be the caller's, and it
# must be gone afterwards.
. "$(dirname "$0")/lib.sh"
net_init
net_veth
TOOL=$NTAD_BUILD/tests/tools/ntad-userprog
OBJ=$NTAD_BUILD/bpf/ntad.bpf.o
N=3000

for how in attach map; do
	log "$how"
	bg_a UP "$TOOL" "$how" "$OBJ" "$DEV" $N
	for _ in $(seq 100); do
		grep -q ready "$TEST_TMP/UP.log" && xdp_prog_on "$NS_A" "$DEV" && break
		kill -0 "$UP" 2>/dev/null || fail "$how: ntad-userprog exited: $(cat "$TEST_TMP/UP.log")"
		sleep 0.05
	done
	# The program on the interface is the one ntad-userprog loaded.
	want=$(sed -n 's/^ready prog_id=//p' "$TEST_TMP/UP.log")
	id=$(ip -n "$NS_A" -d -j link show dev "$DEV" | jq -r '.[0].xdp.prog.id // empty')
	[ -n "$want" ] && [ "$id" = "$want" ] || fail "$how: program $id on $DEV, not ntad-userprog's $want"
	in_b "$PEER_TOOL" send -i "$PEER" -n $N --size 256 --rate 20000 \
		--src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" >/dev/null || fail "$how: sender failed"
	rc=0
	wait_pid "$UP" 10 || rc=$?
	[ $rc -eq 0 ] || fail "$how: ntad-userprog exit $rc: $(cat "$TEST_TMP/UP.log")"
	grep -q "received=$N valid=$N" "$TEST_TMP/UP.log" || fail "$how: $(cat "$TEST_TMP/UP.log")"
	! xdp_prog_on "$NS_A" "$DEV" || fail "$how: an XDP program was left on $DEV"
done
log "ok"
