#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench-jumbo.sh - ntad rxdrop at 9000-byte frames against 1500-byte frames, in
# the same run, over a veth pair with MTU 9000 that the script creates and
# removes.
#
# Generator: ntad txonly on the peer end (AF_XDP copy mode, multi-buffer for
# 9000 bytes), pinned to one CPU; receiver: ntad rxdrop on the other CPU.
# Figures are ntad's own JSON interval lines (rx_pps, rx_bps) of the receiver:
# the first and last interval of each run are dropped (ramp), the median of the
# rest is reported, per round; rounds alternate 1500 and 9000 so drift in the
# machine hits both alike. The ratio line divides the medians over all rounds.
#
#   scripts/bench-jumbo.sh [--build DIR] [--seconds N] [--rounds N] [--pool nta|fixed]
#                          [--chunk-size N] [--gen-cpu N] [--rx-cpu N]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${NTAD_BUILD:-$top/build}
secs=5
rounds=3
pool=nta
chunk=4096
gen_cpu=0
rx_cpu=1

while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift ;;
	--seconds) secs=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--pool) pool=$2; shift ;;
	--chunk-size) chunk=$2; shift ;;
	--gen-cpu) gen_cpu=$2; shift ;;
	--rx-cpu) rx_cpu=$2; shift ;;
	-h|--help) sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-jumbo.sh: unknown option '$1'; see --help" >&2; exit 2 ;;
	esac
	shift
done
[[ "$secs" =~ ^[0-9]+$ ]] && [ "$secs" -ge 3 ] || { echo "bench-jumbo.sh: --seconds: use 3 or more" >&2; exit 2; }
# The pair, its namespaces, the scratch directory and the cleanup at exit
# (also on Ctrl-C) are the network tests' (tests/net/lib.sh).
NTAD_BUILD=$(cd "$build" 2>/dev/null && pwd) ||
	{ echo "bench-jumbo.sh: no build tree '$build'; run make" >&2; exit 2; }
NTAD_TOP=$top
. "$top/tests/net/lib.sh"
net_init
[ -x "$NTAD" ] || fail "$NTAD missing; run make"
net_veth --mtu 9000 >/dev/null

median() {
	sort -n "$1" | awk '{ p[NR] = $1; b[NR] = $2 } END {
		m = int((NR + 1) / 2); printf "%.0f %.0f\n", p[m], b[m] }'
}

# run SIZE ROUND: one receiver + generator run; prints the round's row and
# appends "pps bps" (medians of the receiver's interval lines) to all-SIZE.
run() {
	local size=$1 r=$2 iv=$TEST_TMP/iv-$1-$2 out pps bps
	bg_a NT taskset -c "$rx_cpu" "$NTAD" -i "$DEV" --mode rxdrop --pool "$pool" \
		--chunk-size "$chunk" --frags -d $((secs + 2)) -I 1 --json
	wait_attached "$NT" || fail "the receiver did not attach: $(tail -n 2 "$TEST_TMP/NT.log")"
	out=$(in_b taskset -c "$gen_cpu" "$NTAD" -i "$PEER" --mode txonly --pool "$pool" \
		--chunk-size "$chunk" --size "$size" -d "$secs" -I 0 --json \
		--src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" 2>&1) || fail "the generator failed: $(tail -n 2 <<<"$out")"
	wait_ntad "receiver at $size bytes" 10 >/dev/null
	# Interval lines while traffic flowed, without the first and the last.
	jq -r 'select(.type == "interval" and .rx_pps > 0) | "\(.rx_pps) \(.rx_bps)"' "$TEST_TMP/NT.log" |
		sed '1d;$d' >"$iv"
	[ -s "$iv" ] || fail "no traffic measured at $size bytes"
	read -r pps bps < <(median "$iv")
	echo "$pps $bps" >>"$TEST_TMP/all-$size"
	printf '%-6s %-6s %12s %12.2f\n' "$r" "$size" "$pps" "$(awk -v b="$bps" 'BEGIN { print b / 1e9 }')"
}

echo "# ntad rxdrop, veth MTU 9000, pool $pool, chunk $chunk, copy mode; generator: ntad txonly on CPU $gen_cpu, receiver on CPU $rx_cpu; ${secs}s x $rounds rounds"
printf '%-6s %-6s %12s %12s\n' round size rx_pps rx_Gbps
for r in $(seq "$rounds"); do
	for size in 1500 9000; do
		run "$size" "$r"
	done
done
read -r p15 b15 < <(median "$TEST_TMP/all-1500")
read -r p90 b90 < <(median "$TEST_TMP/all-9000")
awk -v p15="$p15" -v b15="$b15" -v p90="$p90" -v b90="$b90" 'BEGIN {
	printf "median 1500: %.0f pps %.2f Gbit/s; 9000: %.0f pps %.2f Gbit/s\n", p15, b15 / 1e9, p90, b90 / 1e9
	printf "9000 / 1500: pps x%.2f, Gbit/s x%.2f\n", p90 / p15, b90 / b15 }'
