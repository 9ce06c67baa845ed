#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# libntad's contract on a real veth end (tests/tools/ntad-apicheck.c): EINVAL
# and nothing changed for arguments it cannot serve, and the ledger refusing
# and counting a packet given back twice, the pool whole afterwards.
. "$(dirname "$0")/lib.sh"
net_init
net_veth
out=$(in_a "$NTAD_BUILD/tests/tools/ntad-apicheck" "$DEV" 2>&1) || fail "$out"
log "$out"
! xdp_prog_on "$NS_A" "$DEV" || fail "XDP program left on $DEV"
