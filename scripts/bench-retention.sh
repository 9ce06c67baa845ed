#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench-retention.sh - how many packets ntad's capture buffer holds in one UMEM
# with --pool nta and with --pool fixed, same run, same traffic.
#
# For each traffic mix (64-byte, IMIX 64/576/1500 7:4:1, 1500-byte) and each
# pool, ntad --mode capture (no pcap: counting only) runs on a veth pair this
# script creates in two namespaces of its own (tests/net/lib.sh, removed at
# exit), and ntad-peer sends more than the UMEM can hold, so the buffer fills
# and evicts. The figure is what ntad's summary reports held at the stop:
# held_packets and held_umem (the UMEM bytes they really occupy), with
# held_limit (the UMEM less the fill ring and, with nta, the regions its caches
# park). Pools: nta (every packet copied into a 32-byte-rounded block, the
# default in capture mode), nta-trim (--copy-break 0: every packet trimmed in
# its fill region instead) and fixed (a 2 KiB frame per packet).
# The ratio is held packets of each pool over the fixed pool's.
#
#   scripts/bench-retention.sh [--build DIR] [--umem SIZE] [--sizes 64,imix,1500]
#
# Output: one line per run, then a table; exit 0 when every run filled its buffer.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build
UMEM=64M
SIZES=64,imix,1500
while [ $# -gt 0 ]; do
	case "$1" in
	--build) BUILD=$(cd "$2" && pwd); shift ;;
	--umem) UMEM=$2; shift ;;
	--sizes) SIZES=$2; shift ;;
	-h|--help) sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-retention.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
export NTAD_BUILD=$BUILD NTAD_TOP=$TOP
. "$TOP/tests/net/lib.sh"
net_init
set +e
net_veth

# Frames to send: about twice what nta can hold of the mix in $UMEM.
umem_bytes=$(numfmt --from=iec "$UMEM")
declare -A RESULT
status=0
printf '%-6s %-9s %10s %12s %12s %12s %9s %9s %8s\n' mix pool held_pkts held_bytes held_umem held_limit evicted alloc_ev ratio
for size in ${SIZES//,/ }; do
	case "$size" in
	64) args=(--size 64); avg=64 ;;
	imix) args=(--imix); avg=355 ;;
	*) args=(--size "$size"); avg=$(( (size + 31) / 32 * 32 )) ;;
	esac
	count=$((umem_bytes / avg * 2))
	for pool in fixed nta nta-trim; do
		popt=(--pool "${pool%-trim}")
		[ "$pool" = nta-trim ] && popt+=(--copy-break 0)
		bg_a NT "$NTAD" -i "$DEV" --mode capture --umem-size "$UMEM" -d 600 --json -I 0 \
			--filter proto=udp "${popt[@]}"
		wait_attached "$NT" || fail "ntad did not attach: $(cat "$TEST_TMP/NT.log")"
		in_b "$PEER_TOOL" send -i "$PEER" --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" -n "$count" \
			"${args[@]}" >/dev/null
		sleep 0.5
		kill -TERM "$NT"
		wait_pid "$NT" 30
		s=$(grep '"type":"summary"' "$TEST_TMP/NT.log")
		if [ -z "$s" ] || [ "$(jq -r '.umem_in_use_at_exit' <<<"$s")" != 0 ] ||
			[ "$(jq -r '.evicted' <<<"$s")" = 0 ]; then
			echo "$size/$pool: no summary, buffer not filled, or UMEM left in use: $s" >&2
			status=1
			continue
		fi
		RESULT[$size/$pool]=$(jq -r '.held_packets' <<<"$s")
		ratio=$(awk -v a="${RESULT[$size/$pool]}" -v b="${RESULT[$size/fixed]:-0}" \
			'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')
		jq -r --arg m "$size" --arg p "$pool" --arg r "$ratio" \
			'"\($m) \($p) \(.held_packets) \(.held_bytes) \(.held_umem) \(.held_limit) \(.evicted) \(.alloc_evictions) \($r)"' \
			<<<"$s" | xargs printf '%-6s %-9s %10s %12s %12s %12s %9s %9s %8s\n'
	done
done
exit $status
