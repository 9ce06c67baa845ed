#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench-mq.sh - aggregate ntad rxdrop (or l2fwd) packets per second with
# --queues 1 and --queues 2 in the same run, over a 2-queue veth pair the
# script creates and removes. --mode l2fwd with a --size above the copy-break
# (256) forwards trimmed frames: every packet is an nta_mt_trim and a free of
# its kept part, the allocator's multi-thread path (with --pool nta).
#
# Generator: ntad-gen on the peer (BPF_PROG_RUN live frames, XDP_TX'd into the
# pair). veth delivers such a frame to rx queue (sending CPU % rx queues) of
# ntad's end and runs ntad's XDP program there in the sender's softirq, so one
# ntad-gen pinned to CPU q (-c q) feeds queue q. A run with N queues starts N
# generators, on CPUs 0..N-1, each at full speed unless --rate; ntad's queue
# threads are pinned with --cpus (1 queue: CPU 1; 2 queues: 1,0).
# Figures: ntad's JSON interval lines (rx_pps, or tx_pps for l2fwd, the sum
# over its queues): the first and the last interval of a run are dropped, the
# median of the rest is the run's figure; runs alternate 1 and 2 queues; the medians over the rounds
# and their ratio are printed at the end, with the generators' offered pps.
#
#   scripts/bench-mq.sh [--build DIR] [--seconds N] [--rounds N] [--pool nta|fixed]
#                       [--mode rxdrop|l2fwd] [--size N] [--rate PPS per generator]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${NTAD_BUILD:-$top/build}
secs=5
rounds=3
pool=nta
mode=rxdrop
size=64
rate=

while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift ;;
	--seconds) secs=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--pool) pool=$2; shift ;;
	--mode) mode=$2; shift ;;
	--size) size=$2; shift ;;
	--rate) rate=$2; shift ;;
	-h|--help) sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-mq.sh: unknown option '$1'; see --help" >&2; exit 2 ;;
	esac
	shift
done
[[ "$secs" =~ ^[0-9]+$ ]] && [ "$secs" -ge 3 ] || { echo "bench-mq.sh: --seconds: use 3 or more" >&2; exit 2; }
[[ "$rounds" =~ ^[0-9]+$ ]] && [ "$rounds" -ge 1 ] || { echo "bench-mq.sh: --rounds: use 1 or more" >&2; exit 2; }
case "$mode" in
rxdrop) pps=rx_pps ;;
l2fwd) pps=tx_pps ;;
*) echo "bench-mq.sh: --mode: use rxdrop or l2fwd" >&2; exit 2 ;;
esac
# The pair, its namespaces, the scratch directory and the cleanup at exit
# (also on Ctrl-C) are the network tests' (tests/net/lib.sh).
NTAD_BUILD=$(cd "$build" 2>/dev/null && pwd) ||
	{ echo "bench-mq.sh: no build tree '$build'; run make" >&2; exit 2; }
NTAD_TOP=$top
. "$top/tests/net/lib.sh"
net_init
GEN=$NTAD_BUILD/tests/tools/ntad-gen
[ -x "$NTAD" ] && [ -x "$GEN" ] || fail "$NTAD or $GEN missing; run make"
[ "$(nproc)" -ge 2 ] || fail "needs 2 CPUs (one generator per queue)"
net_veth --queues 2 >/dev/null

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.0f\n", v[int((NR + 1) / 2)] }'
}

# run Q ROUND: one receiver with Q queues and Q generators; prints the round's
# row and appends rx_pps and the offered pps to all-Q and off-Q.
run() {
	local q=$1 r=$2 iv=$TEST_TMP/iv-$1-$2 c v gens=() cpus offered=0 pps p0 p1
	cpus=$([ "$q" -eq 1 ] && echo 1 || echo 1,0)
	bg_a NT "$NTAD" -i "$DEV" --queues "$q" --cpus "$cpus" --mode "$mode" --pool "$pool" \
		-d $((secs + 2)) -I 1 --json
	wait_attached "$NT" || fail "the receiver did not attach: $(tail -n 2 "$TEST_TMP/NT.log")"
	for ((c = 0; c < q; c++)); do
		bg_b "G$c" "$GEN" send -i "$PEER" -c "$c" -d "$secs" --size "$size" --payload seq \
			${rate:+--rate "$rate"} --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC"
		v=G$c
		gens+=("${!v}")
	done
	for ((c = 0; c < q; c++)); do
		wait_pid "${gens[c]}" $((secs + 10)) ||
			fail "generator $c failed: $(tail -n 2 "$TEST_TMP/G$c.log")"
		offered=$((offered + $(tail -n 1 "$TEST_TMP/G$c.log" | sed -n 's/.* pps=\([0-9]*\).*/\1/p')))
	done
	wait_ntad "receiver with $q queues" 10 "(.queues | length) == $q" >/dev/null
	# Interval lines while traffic flowed, without the first and the last.
	jq -r --arg f "$pps" 'select(.type == "interval" and .[$f] > 0) |
		"\(.[$f]) \(.queues[0][$f]) \(.queues[1][$f] // 0)"' "$TEST_TMP/NT.log" | sed '1d;$d' >"$iv"
	[ -s "$iv" ] || fail "no traffic measured with $q queues"
	# The interval whose total is the median, with its per-queue split.
	read -r v p0 p1 < <(sort -n "$iv" | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }')
	echo "$v" >>"$TEST_TMP/all-$q"
	echo "$offered" >>"$TEST_TMP/off-$q"
	printf '%-6s %-7s %12.0f %12s %12.0f %12.0f\n' "$r" "$q" "$v" "$offered" "$p0" "$p1"
}

echo "# ntad $mode --pool $pool ($pps), $size-byte frames, veth with 2 queues, copy mode; generators: ntad-gen" \
	"-c q per queue q${rate:+ at $rate pps each}, ntad --cpus 1 | 1,0; ${secs}s x $rounds rounds"
printf '%-6s %-7s %12s %12s %12s %12s\n' round queues "$pps" offered q0_pps q1_pps
for r in $(seq "$rounds"); do
	for q in 1 2; do
		# Alternate which configuration runs first in a round.
		[ $((r % 2)) -eq 0 ] && q=$((3 - q))
		run "$q" "$r"
	done
done
m1=$(median <"$TEST_TMP/all-1") m2=$(median <"$TEST_TMP/all-2")
o1=$(median <"$TEST_TMP/off-1") o2=$(median <"$TEST_TMP/off-2")
awk -v m1="$m1" -v m2="$m2" -v o1="$o1" -v o2="$o2" 'BEGIN {
	printf "median pps: 1 queue %.0f (offered %.0f), 2 queues %.0f (offered %.0f)\n", m1, o1, m2, o2
	printf "2 queues / 1 queue: x%.2f\n", m2 / m1 }'
