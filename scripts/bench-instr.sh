#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench-instr.sh - CPU cost per packet as callgrind instructions: the
# fixed-count method of docs/BENCHMARKS.md, for one build or side by side for
# several (say, a commit and the one before it).
#
# For each case (rxdrop, l2fwd, txonly), frame size and pool, and each build in
# turn: ntad runs under valgrind --tool=callgrind on a veth pair of its own
# until it has handled -n packets; the figure is the inclusive instruction count
# of the queue thread (the packet loop, without start-up and teardown) divided
# by -n. Instruction counts do not depend on what else the machine is doing,
# so one run per cell decides; the traffic's burstiness still moves nta's
# figures by a few percent between runs (docs/BENCHMARKS.md), which --runs N
# (the median of N) evens out.
#
# Traffic: rxdrop and l2fwd get frames from ntad -m txonly on the peer (the
# first build's, or --gen's: the same generator for every build), unpaced: AF_XDP copy
# mode sends several times faster than ntad under callgrind takes frames, so
# the loop never idles: every pass takes a full batch, whatever the build's
# speed (the generator on CPU 0, ntad on CPU 1), and idle passes, which cost
# instructions but carry no packet, stay out of the figure. txonly needs no traffic (xdp_pass on the
# peer gives it NAPI).
set -uo pipefail

usage() {
	cat <<'EOF'
Usage: scripts/bench-instr.sh --build DIR [--build DIR2 ...] [options]

  --build DIR     build tree with ntad; repeat to compare (the first one's ntad
                  generates the traffic, unless --gen)
  --args STR      extra ntad options for the --build given last (say
                  "--payload full", which an older build does not know)
  --gen DIR       build tree whose ntad -m txonly generates the traffic: one
                  fast enough at every size (a txonly that stamps frames)
  --cases LIST    rxdrop,l2fwd,txonly (default all three)
  --sizes LIST    frame sizes (default 64,1500)
  --pools LIST    nta,fixed (default both)
  -n N            packets per run (default 100000)
  --runs N        runs per cell, the median is reported (default 1)
  -h, --help      this text

Needs root and valgrind. Creates and removes its own namespaces and veth pair.
EOF
}

die() { echo "bench-instr.sh: $*" >&2; exit 2; }

top=$(cd "$(dirname "$0")/.." && pwd)
builds=() extra=() cases=rxdrop,l2fwd,txonly sizes=64,1500 pools=nta,fixed count=100000 runs=1 gen=
while [ $# -gt 0 ]; do
	case "$1" in
	--build) [ $# -ge 2 ] || die "--build needs a directory"; builds+=("$(cd "$2" && pwd)") || exit 2; extra+=(""); shift ;;
	--args) [ $# -ge 2 ] && [ ${#builds[@]} -gt 0 ] || die "--args needs a value, after a --build"; extra[${#extra[@]} - 1]=$2; shift ;;
	--gen) [ $# -ge 2 ] || die "--gen needs a directory"; gen=$(cd "$2" && pwd) || exit 2; shift ;;
	--cases) cases=$2; shift ;;
	--sizes) sizes=$2; shift ;;
	--pools) pools=$2; shift ;;
	-n) count=$2; shift ;;
	--runs) runs=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
	shift
done
[ ${#builds[@]} -gt 0 ] || { builds=("$top/build"); extra=(""); }
gen=${gen:-${builds[0]}}
[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, XDP)"
command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null ||
	die "valgrind missing; run scripts/install-deps.sh"
for b in "${builds[@]}"; do
	[ -x "$b/ntad" ] || die "$b: no ntad; run make"
done

# shellcheck source=scripts/ab-pair.sh
. "$top/scripts/ab-pair.sh"
pair_setup "bi$$" "$gen"

# One run: instructions per packet of the queue thread, or "-" on failure.
measure() {
	local b=$1 mode=$2 size=$3 pool=$4 more=$5 out=$tmp/cg.out args=()
	rm -f "$out"
	if [ "$mode" = txonly ]; then
		args=(--size "$size" --dst-mac "$peer_mac")
	else
		gen_start "$gen" "$size" 0
		sleep 0.5 # until it sends
	fi
	# shellcheck disable=SC2086 # $more: options, split into words
	ip netns exec "$ns_a" taskset -c 1 valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$b/ntad" -i "$dev" -m "$mode" --pool "$pool" -n "$count" -d 120 --interval 0 --json "${args[@]}" $more \
		>"$tmp/run.log" 2>&1
	gen_stop
	cg_per_packet "$out" "$tmp/run.log" "$count"
}

printf '%-8s %5s %-6s' mode size pool
for b in "${builds[@]}"; do printf ' %18s' "$(basename "$(dirname "$b")")/$(basename "$b")"; done
[ ${#builds[@]} -eq 2 ] && printf ' %8s' "2nd/1st"
printf '\n'
for mode in ${cases//,/ }; do
	for size in ${sizes//,/ }; do
		for pool in ${pools//,/ }; do
			vals=()
			for i in "${!builds[@]}"; do
				v=$(for ((r = 0; r < runs; r++)); do measure "${builds[i]}" "$mode" "$size" "$pool" "${extra[i]}"; done |
					grep -v '^-$' | median)
				vals+=("$v")
			done
			printf '%-8s %5s %-6s' "$mode" "$size" "$pool"
			for v in "${vals[@]}"; do printf ' %18s' "$v"; done
			if [ ${#vals[@]} -eq 2 ] && [ "${vals[0]}" != - ] && [ "${vals[1]}" != - ]; then
				awk -v a="${vals[0]}" -v b="${vals[1]}" 'BEGIN { printf " %8.3f", b / a }'
			fi
			printf '\n'
		done
	done
done
