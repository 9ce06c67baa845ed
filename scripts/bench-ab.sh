#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench-ab.sh - throughput of two builds of ntad side by side (a change and
# the commit before it): the same cases run in interleaved pairs on one veth
# pair, A then B, then B then A (ABBA), so the machine's drift touches both
# alike, and each pair's B/A ratio is taken from runs seconds apart. Reported
# per case: both medians, and the median of the paired ratios with a 90%
# sign-test interval (scripts/paired.awk).
#
# Traffic: ntad -m txonly of build A on the peer, pinned to --gen-cpu (XDP live
# frames, which scripts/bench.sh's fastest generator needs, are refused by some
# kernels: docs/PLATFORM.md); ntad under test on --ntad-cpu. A run's figure is
# ntad's own count over its run: rx_packets (rxdrop) or tx_packets (l2fwd,
# txonly) / elapsed seconds, from its JSON summary.
set -uo pipefail

usage() {
	cat <<'EOF2'
Usage: scripts/bench-ab.sh --a DIR --b DIR [options]

  --a DIR, --b DIR   the two build trees (ntad in each); B/A is reported
  --cases LIST       rxdrop,l2fwd,txonly (default all)
  --sizes LIST       frame sizes (default 64,1500)
  --pools LIST       nta,fixed (default both)
  --runs N           pairs per case (default 5; 5 or more give an interval)
  --duration SEC     seconds per run (default 3)
  --gen-cpu N        generator CPU (default 0); --ntad-cpu N: ntad's (default 1)

Needs root. Creates and removes its own namespaces and veth pair.
EOF2
}

die() { echo "bench-ab.sh: $*" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
a= b= cases=rxdrop,l2fwd,txonly sizes=64,1500 pools=nta,fixed runs=5 duration=3 gen_cpu=0 ntad_cpu=1
while [ $# -gt 0 ]; do
	case "$1" in
	--a) a=$(cd "$2" && pwd) || exit 2; shift ;;
	--b) b=$(cd "$2" && pwd) || exit 2; shift ;;
	--cases) cases=$2; shift ;;
	--sizes) sizes=$2; shift ;;
	--pools) pools=$2; shift ;;
	--runs) runs=$2; shift ;;
	--duration) duration=$2; shift ;;
	--gen-cpu) gen_cpu=$2; shift ;;
	--ntad-cpu) ntad_cpu=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
	shift
done
[ -x "$a/ntad" ] && [ -x "$b/ntad" ] || die "give two build trees with ntad: --a DIR --b DIR"
[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, XDP)"

# shellcheck source=scripts/ab-pair.sh
. "$top/scripts/ab-pair.sh"
pair_setup "ab$$" "$a"

# run BUILD MODE SIZE POOL: packets per second of one run, or 0.
run() {
	local bld=$1 mode=$2 size=$3 pool=$4 args=() field=tx_packets sum
	if [ "$mode" = txonly ]; then
		args=(--size "$size" --dst-mac "$peer_mac")
	else
		[ "$mode" = rxdrop ] && field=rx_packets
		gen_start "$a" "$size" "$gen_cpu"
	fi
	sum=$(ip netns exec "$ns_a" taskset -c "$ntad_cpu" "$bld/ntad" -i "$dev" -m "$mode" --pool "$pool" \
		-d "$duration" --interval 0 --json "${args[@]}" 2>/dev/null | grep '"type":"summary"')
	gen_stop
	jq -r "if .elapsed > 0 then .$field / .elapsed else 0 end" <<<"$sum" 2>/dev/null || echo 0
}

printf '%-7s %5s %-6s %10s %10s %7s %15s %s\n' mode size pool "A Mpps" "B Mpps" "B/A" "90% interval" pairs
for mode in ${cases//,/ }; do
	for size in ${sizes//,/ }; do
		for pool in ${pools//,/ }; do
			: >"$tmp/a" && : >"$tmp/b" && : >"$tmp/r"
			for ((r = 0; r < runs; r++)); do
				if ((r % 2 == 0)); then
					x=$(run "$a" "$mode" "$size" "$pool"); y=$(run "$b" "$mode" "$size" "$pool")
				else
					y=$(run "$b" "$mode" "$size" "$pool"); x=$(run "$a" "$mode" "$size" "$pool")
				fi
				echo "$x" >>"$tmp/a"
				echo "$y" >>"$tmp/b"
				awk -v x="$x" -v y="$y" 'BEGIN { if (x > 0 && y > 0) print y / x }' >>"$tmp/r"
			done
			ma=$(awk '{ print $1 / 1e6 }' "$tmp/a" | awk -f "$top/scripts/paired.awk" | cut -d' ' -f1)
			mb=$(awk '{ print $1 / 1e6 }' "$tmp/b" | awk -f "$top/scripts/paired.awk" | cut -d' ' -f1)
			read -r med _ _ n lo hi < <(awk -f "$top/scripts/paired.awk" "$tmp/r")
			printf '%-7s %5s %-6s %10s %10s %7s %15s %s\n' "$mode" "$size" "$pool" "$ma" "$mb" "$med" \
				"[$lo, $hi]" "$n"
		done
	done
done
