#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench-mq.sh - aggregate ntad rxdrop packets per second with --queues 1 and
# --queues 2 in the same run, over a 2-queue veth pair the script creates and
# removes.
#
# Generator: ntad-gen on the peer (BPF_PROG_RUN live frames, XDP_TX'd into the
# pair). veth delivers such a frame to rx queue (sending CPU % rx queues) of
# ntad's end and runs ntad's XDP program there in the sender's softirq, so one
# ntad-gen pinned to CPU q (-c q) feeds queue q. A run with N queues starts N
# generators, on CPUs 0..N-1, each at full speed unless --rate; ntad's queue
# threads are pinned with --cpus (1 queue: CPU 1; 2 queues: 1,0).
# Figures: ntad's JSON interval lines (rx_pps, the sum over its queues): the
# first and the last interval of a run are dropped, the median of the rest is
# the run's figure; runs alternate 1 and 2 queues; the medians over the rounds
# and their ratio are printed at the end, with the generators' offered pps.
#
#   scripts/bench-mq.sh [--build DIR] [--seconds N] [--rounds N] [--pool nta|fixed]
#                       [--size N] [--rate PPS per generator]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${NTAD_BUILD:-$top/build}
secs=5
rounds=3
pool=nta
size=64
rate=

while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift ;;
	--seconds) secs=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--pool) pool=$2; shift ;;
	--size) size=$2; shift ;;
	--rate) rate=$2; shift ;;
	-h|--help) sed -n '3,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-mq.sh: unknown option '$1'; see --help" >&2; exit 2 ;;
	esac
	shift
done
[[ "$secs" =~ ^[0-9]+$ ]] && [ "$secs" -ge 3 ] || { echo "bench-mq.sh: --seconds: use 3 or more" >&2; exit 2; }
[[ "$rounds" =~ ^[0-9]+$ ]] && [ "$rounds" -ge 1 ] || { echo "bench-mq.sh: --rounds: use 1 or more" >&2; exit 2; }
build=$(cd "$build" && pwd)
ntad=$build/ntad
gen=$build/tests/tools/ntad-gen
[ "$(id -u)" -eq 0 ] || { echo "bench-mq.sh: needs root (namespaces, XDP)" >&2; exit 1; }
[ -x "$ntad" ] && [ -x "$gen" ] || { echo "bench-mq.sh: $ntad or $gen missing; run make" >&2; exit 1; }
command -v jq >/dev/null || { echo "bench-mq.sh: jq missing; run scripts/install-deps.sh" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "bench-mq.sh: needs 2 CPUs (one generator per queue)" >&2; exit 1; }

id=$(printf '%x%04x' $$ $((RANDOM)))
ns_a=ntad-ma-$id ns_b=ntad-mb-$id dev=m$id peer=m${id}p
tmp=$(mktemp -d /tmp/ntad-bench-mq.XXXXXX)
pids=()
names=(--dev "$dev" --dev-netns "$ns_a" --peer "$peer" --netns "$ns_b")
cleanup() {
	local p
	trap '' TERM INT
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	"$top/scripts/setup-veth.sh" teardown "${names[@]}" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

"$top/scripts/setup-veth.sh" setup "${names[@]}" --build "$build" --queues 2 >/dev/null
dev_mac=$(ip -n "$ns_a" -j link show dev "$dev" | jq -r '.[0].address')
peer_mac=$(ip -n "$ns_b" -j link show dev "$peer" | jq -r '.[0].address')

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.0f\n", v[int((NR + 1) / 2)] }'
}

# run Q ROUND: one receiver with Q queues and Q generators; prints
# "rx_pps offered_pps q0_pps q1_pps".
run() {
	local q=$1 r=$2 log=$tmp/rx-$1-$2.log rx c gpids=() cpus offered=0 s
	cpus=$([ "$q" -eq 1 ] && echo 1 || echo 1,0)
	ip netns exec "$ns_a" "$ntad" -i "$dev" --queues "$q" --cpus "$cpus" --mode rxdrop --pool "$pool" \
		-d $((secs + 2)) -I 1 --json >"$log" 2>&1 &
	rx=$!
	pids+=("$rx")
	for _ in $(seq 100); do
		ip -n "$ns_a" -j link show dev "$dev" | jq -e '.[0].xdp != null' >/dev/null && break
		sleep 0.05
	done
	for ((c = 0; c < q; c++)); do
		ip netns exec "$ns_b" "$gen" send -i "$peer" -c "$c" -d "$secs" --size "$size" --payload seq \
			${rate:+--rate "$rate"} --src-mac "$peer_mac" --dst-mac "$dev_mac" \
			>"$tmp/gen-$q-$r-$c.log" 2>&1 &
		gpids+=("$!")
		pids+=("$!")
	done
	for ((c = 0; c < q; c++)); do
		wait "${gpids[c]}" ||
			{ echo "bench-mq.sh: generator failed: $(tail -n 2 "$tmp/gen-$q-$r-$c.log")" >&2; exit 1; }
		offered=$((offered + $(tail -n 1 "$tmp/gen-$q-$r-$c.log" | sed -n 's/.* pps=\([0-9]*\).*/\1/p')))
	done
	wait "$rx" || { echo "bench-mq.sh: receiver failed: $(tail -n 2 "$log")" >&2; exit 1; }
	pids=()
	s=$(grep '"type":"summary"' "$log") || { echo "bench-mq.sh: no summary: $(tail -n 2 "$log")" >&2; exit 1; }
	jq -e ".umem_in_use_at_exit == 0 and .nta_check == \"ok\" and .pool_errors == 0 and (.queues | length) == $q" \
		<<<"$s" >/dev/null || { echo "bench-mq.sh: receiver accounting failed: $s" >&2; exit 1; }
	# Interval lines while traffic flowed, without the first and the last.
	jq -r 'select(.type == "interval" and .rx_pps > 0) |
		"\(.rx_pps) \(.queues[0].rx_pps) \(.queues[1].rx_pps // 0)"' "$log" | sed '1d;$d' >"$tmp/iv-$q-$r"
	[ -s "$tmp/iv-$q-$r" ] || { echo "bench-mq.sh: no traffic measured with $q queues" >&2; exit 1; }
	# The interval whose total is the median, with its per-queue split.
	sort -n "$tmp/iv-$q-$r" | awk -v o="$offered" '{ l[NR] = $0 } END {
		split(l[int((NR + 1) / 2)], f, " "); printf "%.0f %d %.0f %.0f\n", f[1], o, f[2], f[3] }'
}

echo "# ntad rxdrop --pool $pool, $size-byte frames, veth with 2 queues, copy mode; generators: ntad-gen" \
	"-c q per queue q${rate:+ at $rate pps each}, ntad --cpus 1 | 1,0; ${secs}s x $rounds rounds"
printf '%-6s %-7s %12s %12s %12s %12s\n' round queues rx_pps offered q0_pps q1_pps
for r in $(seq "$rounds"); do
	for q in 1 2; do
		# Alternate which configuration runs first in a round.
		[ $((r % 2)) -eq 0 ] && q=$((3 - q))
		read -r pps off p0 p1 < <(run "$q" "$r")
		echo "$pps" >>"$tmp/all-$q"
		echo "$off" >>"$tmp/off-$q"
		printf '%-6s %-7s %12s %12s %12s %12s\n' "$r" "$q" "$pps" "$off" "$p0" "$p1"
	done
done
m1=$(median <"$tmp/all-1") m2=$(median <"$tmp/all-2")
o1=$(median <"$tmp/off-1") o2=$(median <"$tmp/off-2")
awk -v m1="$m1" -v m2="$m2" -v o1="$o1" -v o2="$o2" 'BEGIN {
	printf "median rx_pps: 1 queue %.0f (offered %.0f), 2 queues %.0f (offered %.0f)\n", m1, o1, m2, o2
	printf "2 queues / 1 queue: x%.2f\n", m2 / m1 }'
