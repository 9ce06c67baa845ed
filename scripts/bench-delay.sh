#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench-delay.sh - the delay line on a forwarded path under load, for one
# build or two side by side: what it delivers and how late.
#
# Topology: host A's end (PA) -- [DA  ntad -m delay -o  DB] -- host B's end
# (PB). ntad runs on DA and DB (namespace N1, --ntad-cpu); the hosts' ends are
# in namespace N2. ntad -m txonly --imix --rate R (build A's) sends from PA to
# DA on --gen-cpu; ntad -m rxdrop on PB counts what arrives. A run's figures:
# delivered = PB's rx_packets / PA's tx_packets, the delay line's own
# lateness p50/p99/max (send time - due) and where it lost packets: the
# kernel found the fill ring empty or the RX ring full, the held budget was
# full, the pool could not top the fill ring up. Builds alternate per rate
# (ABBA), --runs pairs each. --modes delay,fwd runs ntad fwd on the same path
# beside the delay line (interleaved the same way), the yardstick of issue 19:
# the delay line should deliver at least 0.98x of what fwd delivers. Mode
# capture runs ntad -m capture on DA alone (a flight recorder without a file:
# nothing is forwarded), for issue 19's "capture receives at least what fwd
# receives"; the column "received" is ntad's rx_packets / PA's tx_packets.
# --hog runs a busy loop (nice 0) on the delay line's CPU during every run: a
# machine where other work shares that CPU, as it does for a delay line that
# is not given one of its own; compare a build with --b-args --rt-priority N.
#
# --callgrind N measures CPU cost instead (the fixed-count method of
# docs/BENCHMARKS.md): each build and mode runs under valgrind
# --tool=callgrind until it has taken N packets from an unpaced IMIX generator
# (so every pass takes a full batch and idle passes stay out of the figure);
# the figure is the queue thread's inclusive instruction count / N, and the
# ten most expensive functions of the whole process (self cost per packet,
# start-up included, so set-up functions such as ntad_ledger_sweep show) follow.
set -uo pipefail

usage() {
	cat <<'EOF'
Usage: scripts/bench-delay.sh --a DIR [--b DIR] [options]

  --a DIR, --b DIR   build trees (ntad in each); the generator and counter are A's
  --rates LIST       offered packets per second (default 300000,500000)
  --delay MS         the hold time (default 50)
  --runs N           runs per build and rate (default 3)
  --duration SEC     traffic per run (default 5)
  --gen-cpu N        generator CPU (default 0); --ntad-cpu N: the delay line's (default 1)
  --modes LIST       delay,fwd,capture: the modes run on the path (default delay)
  --a-args STR, --b-args STR   extra options for that build's delay line or fwd
  --hog              a busy loop on --ntad-cpu during every run (other work on that CPU)
  --callgrind N      instructions per packet over N packets instead of throughput
  --cg-keep DIR      keep the callgrind output files there

Needs root. Creates and removes its own namespaces and veth pairs.
EOF
}

die() { echo "bench-delay.sh: $*" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/ab-pair.sh
. "$top/scripts/ab-pair.sh" # cg_per_packet
a= b= rates=300000,500000 delay=50 runs=3 duration=5 gen_cpu=0 ntad_cpu=1 modes=delay cg= cg_keep= a_args= b_args= hog=0
while [ $# -gt 0 ]; do
	case "$1" in
	--a) a=$(cd "$2" && pwd) || exit 2; shift ;;
	--b) b=$(cd "$2" && pwd) || exit 2; shift ;;
	--rates) rates=$2; shift ;;
	--delay) delay=$2; shift ;;
	--runs) runs=$2; shift ;;
	--duration) duration=$2; shift ;;
	--gen-cpu) gen_cpu=$2; shift ;;
	--ntad-cpu) ntad_cpu=$2; shift ;;
	--modes) modes=$2; shift ;;
	--a-args) a_args=$2; shift ;;
	--b-args) b_args=$2; shift ;;
	--hog) hog=1 ;;
	--callgrind) cg=$2; shift ;;
	--cg-keep) cg_keep=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
	shift
done
[ -x "$a/ntad" ] || die "--a DIR: no ntad there"
[ -z "$b" ] || [ -x "$b/ntad" ] || die "--b DIR: no ntad there"
[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, XDP)"

tag=bd$$
n1=ntad-a-$tag n2=ntad-b-$tag da=n${tag}a pa=n${tag}p db=n${tag}b pb=n${tag}q
tmp=$(mktemp -d)
pids=()
pair() { "$top/scripts/setup-veth.sh" "$1" --dev "$2" --dev-netns "$n1" --peer "$3" --netns "$n2" \
	--addr none --peer-addr none --no-peer-xdp "${@:4}"; }
hog_pid=
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	[ ! -f "$tmp/hog.pid" ] || kill "$(cat "$tmp/hog.pid")" 2>/dev/null
	pair teardown "$db" "$pb" >/dev/null 2>&1
	pair teardown "$da" "$pa" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
pair setup "$da" "$pa" >/dev/null && pair setup "$db" "$pb" >/dev/null || die "cannot make the veth pairs"
da_mac=$(ip -n "$n1" -j link show dev "$da" | jq -r '.[0].address')

# The mode's options: the delay line's hold time; DB as the way out but for capture.
mode_args() {
	case "$1" in
	delay) echo "-m delay --delay $delay -o $db" ;;
	capture) echo "-m capture" ;;
	*) echo "-m $1 -o $db" ;;
	esac
	if [ "$2" = "$a" ]; then echo "$a_args"; else echo "$b_args"; fi
}

# run BUILD RATE MODE: "delivered received late_p50_ms late_p99_ms late_max_ms dropped" of one run.
run() {
	local bld=$1 rate=$2 mode=$3 sent got sum
	ip netns exec "$n2" "$a/ntad" -i "$pb" -m rxdrop -d $((duration + delay / 1000 + 4)) --interval 0 --json \
		>"$tmp/count.log" 2>&1 &
	pids=($!)
	# shellcheck disable=SC2046 # the mode's options, split into words
	ip netns exec "$n1" taskset -c "$ntad_cpu" "$bld/ntad" -i "$da" $(mode_args "$mode" "$bld") \
		-d $((duration + delay / 1000 + 3)) --interval 0 --json >"$tmp/delay.log" 2>&1 &
	pids+=($!)
	sleep 1.5 # both attached, the rings filled
	if [ "$hog" = 1 ]; then # run() is a subshell: the PID goes where cleanup finds it
		taskset -c "$ntad_cpu" sh -c 'while :; do :; done' &
		hog_pid=$!
		echo "$hog_pid" >"$tmp/hog.pid"
	fi
	ip netns exec "$n2" taskset -c "$gen_cpu" "$a/ntad" -i "$pa" -m txonly --imix --rate "$rate" \
		--dst-mac "$da_mac" -d "$duration" --interval 0 --json >"$tmp/gen.log" 2>&1
	if [ -n "$hog_pid" ]; then
		kill "$hog_pid"
		wait "$hog_pid" 2>/dev/null
		rm -f "$tmp/hog.pid"
		hog_pid=
	fi
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	pids=()
	sent=$(jq -r 'select(.type == "summary") | .tx_packets' "$tmp/gen.log")
	got=$(jq -r 'select(.type == "summary") | .rx_packets' "$tmp/count.log")
	sum=$(grep '"type":"summary"' "$tmp/delay.log")
	jq -r --argjson s "${sent:-0}" --argjson g "${got:-0}" \
		'"\(if $s > 0 then $g / $s else 0 end) \(if $s > 0 then .rx_packets / $s else 0 end) \((.late_p50_ns // 0) / 1e6) \((.late_p99_ns // 0) / 1e6) \((.late_max_ns // 0) / 1e6) \(.rx_fill_ring_empty_descs // 0)/\(.rx_ring_full // 0)/\(.retain_dropped // 0)/\(.fill_short // 0)"' \
		<<<"$sum" 2>/dev/null || echo "0 0 0 0 0 -"
}

# cg_run BUILD MODE: instructions per packet of the queue thread over $cg packets, then
# its ten most expensive functions (self instructions per packet), or "-".
cg_run() {
	local bld=$1 mode=$2 out=$tmp/cg.out gen
	rm -f "$out"
	ip netns exec "$n2" taskset -c "$gen_cpu" "$a/ntad" -i "$pa" -m txonly --imix --dst-mac "$da_mac" \
		-d 600 --interval 0 >/dev/null 2>&1 &
	gen=$!
	pids=("$gen")
	sleep 0.5
	# shellcheck disable=SC2046 # the mode's options, split into words
	ip netns exec "$n1" taskset -c "$ntad_cpu" valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$bld/ntad" -i "$da" $(mode_args "$mode" "$bld") -n "$cg" -d 300 --interval 0 --json \
		>"$tmp/cg.log" 2>&1
	kill "$gen" 2>/dev/null
	wait "$gen" 2>/dev/null
	pids=()
	[ -z "$cg_keep" ] || cp "$out" "$cg_keep/callgrind.$(basename "$(dirname "$bld")").$mode"
	cg_per_packet "$out" "$tmp/cg.log" "$cg" || return
	callgrind_annotate --inclusive=no --auto=no --threshold=100 "$out" 2>/dev/null |
		sed -nE 's/^ *([0-9,]+) +\( *[0-9.]+%\) +([^ ]+).*/\1 \2/p' | grep -v ' PROGRAM$' | head -n 10 |
		awk -v n="$cg" '{ gsub(",", "", $1); f = $2; sub(/^.*:/, "", f); printf "    %8.1f  %s\n", $1 / n, f }'
}

builds=("$a")
[ -n "$b" ] && builds+=("$b")
if [ -n "$cg" ]; then
	command -v valgrind >/dev/null || die "valgrind missing; run scripts/install-deps.sh"
	[ -z "$cg_keep" ] || mkdir -p "$cg_keep" || exit 2
	printf '%-6s %-6s %14s   (self instructions per packet of the top functions below)\n' build mode "instr/packet"
	for mode in ${modes//,/ }; do
		for bld in "${builds[@]}"; do
			name=A
			[ "$bld" = "$a" ] || name=B
			cg_run "$bld" "$mode" | awk -v b="$name" -v m="$mode" 'NR == 1 { printf "%-6s %-6s %14s\n", b, m, $0; next } { print }'
		done
	done
	exit 0
fi
printf '%-7s %-7s %8s %4s %10s %9s %11s %11s %11s  %s\n' build mode rate run delivered received "late p50 ms" "late p99 ms" "late max ms" \
	"fill empty/RX ring full/held full/fill short" 
for rate in ${rates//,/ }; do
	for ((r = 0; r < runs; r++)); do
		order=("${builds[@]}")
		if ((r % 2)) && [ ${#builds[@]} -eq 2 ]; then order=("$b" "$a"); fi
		for bld in "${order[@]}"; do
			IFS=, read -ra ms <<<"$modes"
			((r % 2)) && mapfile -t ms < <(printf '%s\n' "${ms[@]}" | tac)
			for mode in "${ms[@]}"; do
				read -r del rcv p50 p99 max drop < <(run "$bld" "$rate" "$mode")
				name=A
				[ "$bld" = "$a" ] || name=B
				printf '%-7s %-7s %8s %4s %10.4f %9.4f %11.3f %11.3f %11.3f  %s\n' "$name" "$mode" "$rate" "$r" "$del" \
					"$rcv" "$p50" "$p99" "$max" "$drop"
			done
		done
	done
done
