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
build=$(cd "$build" && pwd)
ntad=$build/ntad
[ "$(id -u)" -eq 0 ] || { echo "bench-jumbo.sh: needs root (namespaces, XDP)" >&2; exit 1; }
[ -x "$ntad" ] || { echo "bench-jumbo.sh: $ntad missing; run make" >&2; exit 1; }
command -v jq >/dev/null || { echo "bench-jumbo.sh: jq missing; run scripts/install-deps.sh" >&2; exit 1; }

id=$(printf '%x%04x' $$ $((RANDOM)))
ns_a=ntad-ba-$id ns_b=ntad-bb-$id dev=j$id peer=j${id}p
tmp=$(mktemp -d /tmp/ntad-bench-jumbo.XXXXXX)
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

"$top/scripts/setup-veth.sh" setup "${names[@]}" --build "$build" --mtu 9000 >/dev/null
dev_mac=$(ip -n "$ns_a" -j link show dev "$dev" | jq -r '.[0].address')
peer_mac=$(ip -n "$ns_b" -j link show dev "$peer" | jq -r '.[0].address')

# run SIZE ROUND: one receiver + generator run; prints "pps bps" (medians).
run() {
	local size=$1 r=$2 log=$tmp/rx-$1-$2.log rx
	ip netns exec "$ns_a" taskset -c "$rx_cpu" "$ntad" -i "$dev" --mode rxdrop --pool "$pool" \
		--chunk-size "$chunk" --frags -d $((secs + 2)) -I 1 --json >"$log" 2>&1 &
	rx=$!
	pids+=("$rx")
	for _ in $(seq 100); do
		ip -n "$ns_a" -j link show dev "$dev" | jq -e '.[0].xdp != null' >/dev/null && break
		sleep 0.05
	done
	ip netns exec "$ns_b" taskset -c "$gen_cpu" "$ntad" -i "$peer" --mode txonly --pool "$pool" \
		--chunk-size "$chunk" --size "$size" -d "$secs" -I 0 --json \
		--src-mac "$peer_mac" --dst-mac "$dev_mac" >"$tmp/gen-$size-$r.log" 2>&1 ||
		{ echo "bench-jumbo.sh: generator failed: $(tail -n 2 "$tmp/gen-$size-$r.log")" >&2; exit 1; }
	wait "$rx" || { echo "bench-jumbo.sh: receiver failed: $(tail -n 2 "$log")" >&2; exit 1; }
	pids=()
	# Interval lines while traffic flowed, without the first and the last.
	jq -r 'select(.type == "interval" and .rx_pps > 0) | "\(.rx_pps) \(.rx_bps)"' "$log" |
		sed '1d;$d' >"$tmp/iv-$size-$r"
	[ -s "$tmp/iv-$size-$r" ] || { echo "bench-jumbo.sh: no traffic measured at $size bytes" >&2; exit 1; }
	jq -e '.type == "summary" and .umem_in_use_at_exit == 0 and .nta_check == "ok" and .verify_invalid == 0' \
		<(grep '"summary"' "$log") >/dev/null ||
		{ echo "bench-jumbo.sh: receiver accounting failed: $(grep '"summary"' "$log")" >&2; exit 1; }
	median "$tmp/iv-$size-$r"
}

median() {
	sort -n "$1" | awk '{ p[NR] = $1; b[NR] = $2 } END {
		m = int((NR + 1) / 2); printf "%.0f %.0f\n", p[m], b[m] }'
}

echo "# ntad rxdrop, veth MTU 9000, pool $pool, chunk $chunk, copy mode; generator: ntad txonly on CPU $gen_cpu, receiver on CPU $rx_cpu; ${secs}s x $rounds rounds"
printf '%-6s %-6s %12s %12s\n' round size rx_pps rx_Gbps
for r in $(seq "$rounds"); do
	for size in 1500 9000; do
		read -r pps bps < <(run "$size" "$r")
		echo "$pps $bps" >>"$tmp/all-$size"
		printf '%-6s %-6s %12s %12.2f\n' "$r" "$size" "$pps" "$(awk -v b="$bps" 'BEGIN { print b / 1e9 }')"
	done
done
read -r p15 b15 < <(median "$tmp/all-1500")
read -r p90 b90 < <(median "$tmp/all-9000")
awk -v p15="$p15" -v b15="$b15" -v p90="$p90" -v b90="$b90" 'BEGIN {
	printf "median 1500: %.0f pps %.2f Gbit/s; 9000: %.0f pps %.2f Gbit/s\n", p15, b15 / 1e9, p90, b90 / 1e9
	printf "9000 / 1500: pps x%.2f, Gbit/s x%.2f\n", p90 / p15, b90 / b15 }'
