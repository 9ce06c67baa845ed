#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench.sh - the packet benchmarks of ntad in one run (make bench).
#
# One veth pair: DEV in namespace A is where ntad (or the baseline) runs, PEER in
# namespace B is where traffic comes from and goes back to. Traffic comes from
# --gen: tests/tools/ntad-gen (the default; XDP live frames, XDP_TX out of PEER
# into DEV), or xdp-trafficgen udp (upstream's generator, also live frames, so
# a figure can be reproduced without any of ntad's code on the sending side),
# or ntad-txonly (ntad -m txonly on PEER: AF_XDP copy mode, near 1 Mpps, below
# what ntad rxdrop takes; for kernels where live frames are refused). What ntad
# sends back (l2fwd) or sends (txonly) is counted on PEER by ntad-gen count, an
# XDP_DROP counter, which also gives PEER the NAPI veth needs to receive it.
#
# Cases, per frame size (64, IMIX, 1500):
#   xdp-drop       xdp-bench drop on DEV (ntad-gen count where no xdp-bench
#                  works): the XDP_DROP ceiling of the pair and the generator,
#                  what AF_XDP can approach
#   rxdrop/POOL    ntad -m rxdrop --pool POOL, measured by ntad's rx_packets
#   l2fwd/POOL     ntad -m l2fwd, measured by what comes back to PEER
#   txonly/POOL    ntad -m txonly (no generator), measured on PEER
#   xsk-drop       xdp-bench xsk-drop on DEV (its own RX total), beside rxdrop
#   xsk-tx         xdp-bench xsk-tx on DEV (what comes back to PEER), beside l2fwd
#   xdpsock-tx     xdpsock -t (the kernel's AF_XDP sample, from xdp-project/
#                  bpf-examples, built outside the tree; --xdpsock PATH) on DEV,
#                  measured on PEER like txonly, beside it; one size, no IMIX
# POOL is nta and fixed. xdp-bench is the installed one when it passes
# scripts/xdp-bench-probe.sh, else BUILD/xdp-tools/bin/xdp-bench
# (scripts/build-xdp-tools.sh); with neither the xdp-bench cases are skipped.
# Runs alternate: every repetition runs every case once, so slow drift on the
# machine (other jobs, thermal) touches all alike, and within a mode the order
# nta, fixed, xdp-bench reverses every repetition (odd runs in that order, even
# runs the other way), so each pair of them sees both orders (ABBA).
#
# A run's figure is what the receiving side counted over the time traffic was
# offered: packets counted during the run / the generator's elapsed time (for
# txonly: / ntad's elapsed time). Interval medians were tried first and read 0
# on a shared machine whenever the sender stalled for a second, which hides
# real throughput and real stalls alike; the mean over the run counts both.
# Interval lines (0.5 s) stay in the logs to see stalls. A case's figure is the median of its runs,
# with min, max and the spread (max - min) / median. The headline is nta/fixed
# per mode and size: the ratio of the two medians, and the median (with min and
# max) of each repetition's own nta/fixed, whose two runs were back to back and
# so saw nearly the same machine, with a 90 % interval; the same paired ratios
# compare ntad (nta pool) with xdp-bench: rxdrop/xsk-drop, l2fwd/xsk-tx,
# txonly with xdpsock, and rxdrop with the xdp-drop ceiling; and txonly's rate
# at each size against its rate at 64 bytes (ratio of the medians). CPUs: the generator on --gen-cpu (and with it the receiving
# veth's XDP and the AF_XDP copy, which run in softirq on the sender's CPU,
# docs/PLATFORM.md), ntad on --ntad-cpu.
#
# With --perf, perf samples ntad's CPU (cpu-clock) while traffic flows in every
# ntad run, and the CPU time per packet is reported beside the rates, split into
# ntad's own code (user space) and the kernel: a second figure, which shows how
# much of a difference is the allocator's and how much the machine's.
#
# Output: progress lines, then a table; JSON in BUILD/bench/results.json (and
# per-run logs in BUILD/bench/logs/). Exit 0 when every case produced a number,
# 1 when some case failed (the others still run and are reported), 2 on usage.
set -uo pipefail

usage() {
	cat <<'EOF'
Usage: scripts/bench.sh [--build DIR] [options]

  --build DIR        build tree with ntad, tests/tools/ntad-gen, bpf/ (default build)
  --runs N           repetitions of every case (default 3, at least 1)
  --duration SEC     traffic per run (default 5)
  --sizes LIST       frame sizes, comma separated: 64, imix, 1500 or any 60..3072
                     (default 64,imix,1500)
  --cases LIST       comma separated subset of: xdp-drop, rxdrop, l2fwd, txonly,
                     xsk-drop, xsk-tx, xdpsock-tx (default: all)
  --xdpsock PATH     xdpsock binary (xdp-project/bpf-examples, AF_XDP-example/;
                     docs/BENCHMARKS.md says how to build it): the xdpsock-tx case
  --gen NAME         traffic generator on PEER: ntad-gen (default), xdp-trafficgen
                     (upstream's `xdp-trafficgen udp`; no IMIX) or ntad-txonly
                     (ntad -m txonly, AF_XDP, near 1 Mpps: where live frames fail)
  --payload full|seq generator payload (default seq: O(1) per frame; full makes
                     every frame pass ntad_pkt_verify but costs time at 1500 bytes)
  --gen-cpu N        CPU of the generator (default 0)
  --ntad-cpu N       CPU of ntad (default 1)
  --out FILE         JSON results (default BUILD/bench/results.json)
  --perf             also sample ntad's CPU with perf and report CPU time per
                     packet, ntad's code and the kernel apart
  --quick            --runs 1 --duration 2 (a smoke run, not for figures)
  -h, --help         this text

Needs root. Creates and removes its own namespaces and veth pair.
EOF
}

die() { echo "bench.sh: $*" >&2; exit 2; }

top=$(cd "$(dirname "$0")/.." && pwd)
build=build runs=3 duration=5 sizes=64,imix,1500 cases=xdp-drop,rxdrop,l2fwd,txonly,xsk-drop,xsk-tx,xdpsock-tx
payload=seq gen_cpu=0 ntad_cpu=1 out= use_perf= gen=ntad-gen XDPSOCK=
while [ $# -gt 0 ]; do
	case "$1" in
	--build) [ $# -ge 2 ] || die "--build needs a value"; build=$2; shift ;;
	--runs) [ $# -ge 2 ] || die "--runs needs a value"; runs=$2; shift ;;
	--duration) [ $# -ge 2 ] || die "--duration needs a value"; duration=$2; shift ;;
	--sizes) [ $# -ge 2 ] || die "--sizes needs a value"; sizes=$2; shift ;;
	--cases) [ $# -ge 2 ] || die "--cases needs a value"; cases=$2; shift ;;
	--payload) [ $# -ge 2 ] || die "--payload needs a value"; payload=$2; shift ;;
	--gen) [ $# -ge 2 ] || die "--gen needs a value"; gen=$2; shift ;;
	--xdpsock) [ $# -ge 2 ] || die "--xdpsock needs a value"; XDPSOCK=$2; shift ;;
	--gen-cpu) [ $# -ge 2 ] || die "--gen-cpu needs a value"; gen_cpu=$2; shift ;;
	--ntad-cpu) [ $# -ge 2 ] || die "--ntad-cpu needs a value"; ntad_cpu=$2; shift ;;
	--out) [ $# -ge 2 ] || die "--out needs a value"; out=$2; shift ;;
	--quick) runs=1 duration=2 ;;
	--perf) use_perf=1 ;;
	-h|--help) usage; exit 0 ;;
	*) die "unknown argument '$1'; see --help" ;;
	esac
	shift
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs '$runs': give a positive number"
[[ "$duration" =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v d="$duration" 'BEGIN { exit !(d >= 1 && d <= 3600) }' ||
	die "--duration '$duration': give 1..3600 seconds"
[[ "$payload" =~ ^(full|seq)$ ]] || die "--payload '$payload': use full or seq"
[[ "$gen" =~ ^(ntad-gen|xdp-trafficgen|ntad-txonly)$ ]] || die "--gen '$gen': use ntad-gen, xdp-trafficgen or ntad-txonly"
ncpu=$(nproc)
for c in "$gen_cpu" "$ntad_cpu"; do
	[[ "$c" =~ ^[0-9]+$ ]] && [ "$c" -lt "$ncpu" ] || die "CPU '$c': this machine has CPUs 0..$((ncpu - 1))"
done
IFS=, read -r -a size_list <<<"$sizes"
for s in "${size_list[@]}"; do
	[ "$s" = imix ] || { [[ "$s" =~ ^[0-9]+$ ]] && [ "$s" -ge 60 ] && [ "$s" -le 3072 ]; } ||
		die "--sizes: '$s' is not imix or a length 60..3072"
	[ "$s" != imix ] || [ "$gen" != xdp-trafficgen ] || die "--gen xdp-trafficgen sends one size; drop imix from --sizes"
done
IFS=, read -r -a case_list <<<"$cases"
for c in "${case_list[@]}"; do
	[[ "$c" =~ ^(xdp-drop|rxdrop|l2fwd|txonly|xsk-drop|xsk-tx|xdpsock-tx)$ ]] || die "--cases: unknown case '$c'"
done
want_case() { [[ ",$cases," == *",$1,"* ]]; }
[ -z "$XDPSOCK" ] || [ -x "$XDPSOCK" ] || die "--xdpsock '$XDPSOCK': not an executable; build it as docs/BENCHMARKS.md says"

build=$(cd "$build" 2>/dev/null && pwd) || die "no build tree '$build'; run make first"
NTAD=$build/ntad
GEN=$build/tests/tools/ntad-gen
for f in "$NTAD" "$GEN" "$build/bpf/xdp_pass.bpf.o"; do
	[ -e "$f" ] || die "$f missing; run make B=${build#"$top"/} all"
done
[ "$(id -u)" -eq 0 ] || { echo "bench.sh: needs root (namespaces, XDP, AF_XDP); run: sudo make bench"; exit 77; }
for t in jq taskset ip awk; do
	command -v "$t" >/dev/null || die "'$t' not found; run scripts/install-deps.sh"
done

outdir=$build/bench
out=${out:-$outdir/results.json}
logdir=$outdir/logs
mkdir -p "$logdir" "$(dirname "$out")"
rm -f "$logdir"/*.log
results=$outdir/runs.tsv
: >"$results"
cpu_results=$outdir/cpu.tsv
: >"$cpu_results"

# ---- the pair, and cleanup ---------------------------------------------------

id=$(printf '%x%04x' $$ $((RANDOM)))
NS_A=ntad-a-$id NS_B=ntad-b-$id DEV=n$id PEER=n${id}p
SETUP_VETH=$top/scripts/setup-veth.sh
veth_args=(--dev "$DEV" --dev-netns "$NS_A" --peer "$PEER" --netns "$NS_B")
pids=()

cleanup() {
	local p
	trap '' TERM INT HUP
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	"$SETUP_VETH" teardown "${veth_args[@]}" >/dev/null 2>&1 ||
		echo "bench.sh: teardown of $DEV/$PEER failed; run: $SETUP_VETH teardown ${veth_args[*]}" >&2
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# No XDP on PEER from setup-veth.sh: the counter attaches there when needed.
"$SETUP_VETH" setup "${veth_args[@]}" --build "$build" --no-peer-xdp >/dev/null ||
	die "could not create the veth pair"
DEV_MAC=$(ip -n "$NS_A" -j link show dev "$DEV" | jq -r '.[0].address')

# bg VAR LOG NS CPU CMD...: start CMD in NS pinned to CPU, PID in VAR.
bg() {
	local var=$1 log=$2 ns=$3 cpu=$4
	shift 4
	ip netns exec "$ns" taskset -c "$cpu" "$@" >"$log" 2>&1 &
	printf -v "$var" '%s' $!
	pids+=($!)
}

forget() {
	local p keep=()
	for p in "${pids[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	pids=("${keep[@]}")
}

# reap PID SECONDS: wait for PID, TERM then KILL it after SECONDS.
reap() {
	local pid=$1 t limit rc=0
	limit=$(awk -v s="$2" 'BEGIN { printf "%d", s * 10 }')
	for ((t = 0; t < limit; t++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		sleep 1
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null || rc=$?
	forget "$pid"
	return $rc
}

# wait_for LOG PATTERN SECONDS PID: until LOG has a line matching PATTERN.
wait_for() {
	local t limit
	limit=$(awk -v s="$3" 'BEGIN { printf "%d", s * 20 }')
	for ((t = 0; t < limit; t++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# Median of the interval rates on stdin (one a line) while traffic flowed: the
# zero intervals before and after, and the partial first and last, are left out.
active_median() {
	awk '{ v[NR] = $1 + 0 }
	END {
		f = 0; l = 0
		for (i = 1; i <= NR; i++) if (v[i] > 0) { if (!f) f = i; l = i }
		if (!f) { print 0; exit }
		if (l - f >= 2) { f++; l-- }
		n = 0
		for (i = f; i <= l; i++) {
			x = v[i]
			for (j = n; j > 0 && a[j] > x; j--) a[j + 1] = a[j]
			a[j + 1] = x; n++
		}
		printf "%.0f\n", n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}'
}

size_args() { if [ "$1" = imix ]; then echo --imix; else echo "--size $1"; fi; }

# ---- xdp-bench, where it works ------------------------------------------------

# The installed xdp-bench if it passes the probe (drop attaches, xsk-drop binds),
# else the one scripts/build-xdp-tools.sh built; XDP_BENCH is its path.
XDP_BENCH= xdpbench_version= xdpbench_note=
for cand in "$(command -v xdp-bench || true)" "$build/xdp-tools/bin/xdp-bench"; do
	[ -n "$cand" ] && [ -x "$cand" ] || continue
	if msg=$("$top/scripts/xdp-bench-probe.sh" "$cand" 2>&1); then
		XDP_BENCH=$cand
		xdpbench_version=$("$cand" drop --version 2>/dev/null | head -n 1)
		break
	fi
	xdpbench_note="${xdpbench_note:+$xdpbench_note; }$msg"
done
if [ -z "$XDP_BENCH" ]; then
	[ -x "$build/xdp-tools/bin/xdp-bench" ] ||
		xdpbench_note="${xdpbench_note:+$xdpbench_note; }none built (scripts/build-xdp-tools.sh --build $build)"
	xdpbench_note="no working xdp-bench: $xdpbench_note; docs/PLATFORM.md"
fi

# The generator's program: xdp-trafficgen from beside the xdp-bench in use, else
# the built one, else the installed one.
GEN_CMD=$GEN
if [ "$gen" = xdp-trafficgen ]; then
	GEN_CMD=
	for cand in "${XDP_BENCH:+$(dirname "$XDP_BENCH")/xdp-trafficgen}" "$build/xdp-tools/bin/xdp-trafficgen" "$(command -v xdp-trafficgen || true)"; do
		[ -n "$cand" ] && [ -x "$cand" ] && { GEN_CMD=$cand; break; }
	done
	[ -n "$GEN_CMD" ] || die "--gen xdp-trafficgen: no xdp-trafficgen; run scripts/build-xdp-tools.sh --build $build"
elif [ "$gen" = ntad-txonly ]; then
	GEN_CMD=$NTAD
fi
perf_note=
if [ -n "$use_perf" ]; then
	if ! command -v perf >/dev/null; then
		perf_note="perf not installed (Debian: linux-perf)"
	elif ! perf record -q -e cpu-clock -C "$ntad_cpu" -o "$logdir/perf-probe.data" -- true >"$logdir/perf-probe.log" 2>&1; then
		perf_note="perf record fails here ($(head -n1 "$logdir/perf-probe.log"))"
	fi
	rm -f "$logdir/perf-probe.data"
	[ -n "$perf_note" ] && use_perf=
fi
gen_desc=$gen
[ "$gen" = ntad-gen ] && gen_desc="ntad-gen (payload $payload)"
[ "$gen" = xdp-trafficgen ] && gen_desc="$GEN_CMD udp"
echo "bench.sh: $DEV ($NS_A) <-> $PEER ($NS_B); generator $gen_desc on CPU $gen_cpu (with the receiving veth's softirq), ntad on CPU $ntad_cpu; $runs run(s) x ${duration}s per case"
if [ -n "$XDP_BENCH" ]; then
	echo "bench.sh: xdp-bench: $XDP_BENCH ($xdpbench_version)"
else
	echo "bench.sh: xdp-bench cases skipped, ceiling by ntad-gen count: $xdpbench_note"
fi
[ "$gen" = xdp-trafficgen ] && [ "$gen_cpu" != 0 ] &&
	echo "bench.sh: note: xdp-trafficgen pins its sending thread to CPU 0 itself, whatever --gen-cpu says"
[ -n "$perf_note" ] && echo "bench.sh: --perf skipped: $perf_note"
[ "$ncpu" -gt 2 ] || [ "$gen_cpu" != "$ntad_cpu" ] ||
	echo "bench.sh: warning: generator and ntad share CPU $gen_cpu; figures will be far lower"

# ---- one run of one case -------------------------------------------------------

failures=0

# record CASE SIZE RUN PPS NOTE
record() {
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$results"
	printf '  %-16s %-5s run %s: %12s pps %s\n' "$1" "$2" "$3" "$4" "$5"
}

run_fail() {
	failures=$((failures + 1))
	record "$1" "$2" "$3" 0 "FAILED: $4"
}

# gen_send SIZE LOG [SECONDS]: the generator on PEER for the run's duration, in
# the foreground. Every generator's log ends with a line holding elapsed= (the
# seconds it sent; ntad-gen's own, the others' added here) and sent= where known.
gen_send() {
	local d=${3:-$duration} t0 t1 rc sum
	case "$gen" in
	ntad-gen)
		# shellcheck disable=SC2046
		ip netns exec "$NS_B" taskset -c "$gen_cpu" "$GEN_CMD" send -i "$PEER" -d "$d" \
			$(size_args "$1") --payload "$payload" --dst-mac "$DEV_MAC" >"$2" 2>&1 || return 1
		[ "$(last_kv "$2" sent)" != 0 ] || return 1
		;;
	xdp-trafficgen)
		# Runs until SIGINT; its exit status then is that of an interrupted run.
		t0=$(date +%s.%N)
		ip netns exec "$NS_B" taskset -c "$gen_cpu" timeout -s INT "$d" "$GEN_CMD" udp -m "$DEV_MAC" \
			-s "$1" -I 1 "$PEER" >"$2" 2>&1
		rc=$?
		t1=$(date +%s.%N)
		# timeout's 124 is the normal end; anything else before the deadline failed.
		[ $rc -eq 124 ] || [ $rc -eq 0 ] || { echo "exit $rc" >>"$2"; return 1; }
		echo "elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" >>"$2"
		;;
	ntad-txonly)
		# shellcheck disable=SC2046
		ip netns exec "$NS_B" taskset -c "$gen_cpu" "$GEN_CMD" -i "$PEER" -m txonly $(size_args "$1") \
			-d "$d" --dst-mac "$DEV_MAC" --json --interval 0 >"$2" 2>&1 || return 1
		sum=$(jq -c 'select(.type=="summary")' "$2" 2>/dev/null)
		[ -n "$sum" ] || return 1
		jq -r '"sent=\(.tx_packets) elapsed=\(.elapsed) pps=\(if .elapsed > 0 then (.tx_packets / .elapsed | floor) else 0 end)"' <<<"$sum" >>"$2"
		;;
	esac
}

counter_rates() { sed -n 's/^t=.* pps=\([0-9]*\)$/\1/p' "$1" | active_median; }

# last_kv FILE KEY: KEY= of the last line of FILE.
last_kv() { tail -n 1 "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# per_sec PACKETS SECONDS
per_sec() { awk -v n="${1:-0}" -v t="${2:-0}" 'BEGIN { printf "%.0f\n", (t > 0 ? n / t : 0) }'; }

# The ceiling: xdp-bench drop on DEV, else ntad-gen's XDP_DROP counter.
case_xdp_drop() { # SIZE RUN
	local log=$logdir/xdp-drop-$1-$2 cpid n
	if [ -n "$XDP_BENCH" ]; then
		bg cpid "$log.xdp-bench.log" "$NS_A" "$ntad_cpu" "$XDP_BENCH" drop -i 1 "$DEV"
		wait_for "$log.xdp-bench.log" '^Dropping packets on' 5 "$cpid" || { reap "$cpid" 1; run_fail xdp-drop "$1" "$2" "xdp-bench drop did not attach (see $log.xdp-bench.log)"; return; }
	else
		bg cpid "$log.count.log" "$NS_A" "$ntad_cpu" "$GEN" count -i "$DEV" -I 0.5 -d "$(awk -v d="$duration" 'BEGIN { print d + 3 }')"
		wait_for "$log.count.log" '^attached' 5 "$cpid" || { reap "$cpid" 1; run_fail xdp-drop "$1" "$2" "counter did not attach (see $log.count.log)"; return; }
	fi
	sleep 0.5
	gen_send "$1" "$log.gen.log" || { reap "$cpid" 1; run_fail xdp-drop "$1" "$2" "generator failed: $(gen_why "$log.gen.log")"; return; }
	if [ -n "$XDP_BENCH" ]; then
		kill -INT "$cpid" 2>/dev/null
		reap "$cpid" 3
		n=$(sed -n 's/^ *Packets received *: *\([0-9]*\).*/\1/p' "$log.xdp-bench.log" | tail -n 1)
		record xdp-drop "$1" "$2" "$(per_sec "$n" "$(last_kv "$log.gen.log" elapsed)")" \
			"xdp-bench drop, gen $(last_kv "$log.gen.log" pps) pps, interval median $(xdpbench_rates "$log.xdp-bench.log")"
	else
		reap "$cpid" 5
		record xdp-drop "$1" "$2" "$(per_sec "$(last_kv "$log.count.log" received)" "$(last_kv "$log.gen.log" elapsed)")" \
			"ntad-gen count, gen $(last_kv "$log.gen.log" pps) pps, interval median $(counter_rates "$log.count.log")"
	fi
}

# gen_why LOG: the generator's complaint, for a failed run's note.
gen_why() { { grep -m1 -iE 'error|fail|not permitted|cannot|unknown|^ntad' "$1" || tail -n 1 "$1"; } | sed 's/^[[:space:]]*//' | cut -c1-160; }

# perf_start VAR DATA SECONDS: cpu-clock samples of ntad's CPU for SECONDS, PID in VAR.
PERF_HZ=1999
perf_start() {
	perf record -q -e cpu-clock -F "$PERF_HZ" -C "$ntad_cpu" -o "$2" -- sleep "$3" >/dev/null 2>&1 &
	printf -v "$1" '%s' $!
	pids+=($!)
}

# perf_per_packet DATA PACKETS: "user kernel" ns per packet on ntad's CPU:
# samples in ntad's own code (the ntad binary, libc, the vDSO) and all other
# samples but the idle loop, each worth 1/PERF_HZ s.
perf_per_packet() {
	perf report -i "$1" --stdio -n --sort dso,sym 2>/dev/null |
		awk -v pk="$2" -v hz="$PERF_HZ" '/^ +[0-9.]+%/ {
			n = $2; dso = $3
			if ($0 ~ /default_idle|safe_halt|cpuidle|acpi_idle|poll_idle|intel_idle|mwait/) next
			if (dso == "ntad" || dso ~ /^libc|^\[vdso\]/) u += n; else k += n
		}
		END { if (pk > 0) printf "%.1f %.1f\n", u * 1e9 / hz / pk, k * 1e9 / hz / pk; else print "0 0" }'
}

# ntad_case MODE POOL SIZE RUN
ntad_case() {
	local mode=$1 pool=$2 size=$3 run=$4 name=$1/$2
	local log=$logdir/$mode-$pool-$size-$run npid cpid="" ppid="" rate extra=() ntad_d pk cu ck cpu=""
	ntad_d=$(awk -v d="$duration" 'BEGIN { print d + 2.5 }')
	if [ "$mode" != rxdrop ]; then
		bg cpid "$log.count.log" "$NS_B" "$gen_cpu" "$GEN" count -i "$PEER" -I 0.5 -d "$(awk -v d="$ntad_d" 'BEGIN { print d + 1.5 }')"
		wait_for "$log.count.log" '^attached' 5 "$cpid" || { reap "$cpid" 1; run_fail "$name" "$size" "$run" "counter on $PEER did not attach (see $log.count.log)"; return; }
	fi
	# shellcheck disable=SC2046
	[ "$mode" = txonly ] && extra=($(size_args "$size") -d "$duration") || extra=(-d "$ntad_d")
	bg npid "$log.ntad.log" "$NS_A" "$ntad_cpu" "$NTAD" -i "$DEV" -m "$mode" --pool "$pool" --json --interval 0.5 "${extra[@]}"
	if ! wait_for "$log.ntad.log" '"type":"interval"' 10 "$npid"; then
		reap "$npid" 2
		[ -n "$cpid" ] && reap "$cpid" 1
		run_fail "$name" "$size" "$run" "ntad did not start: $(grep -m1 '^ntad:' "$log.ntad.log" || tail -n1 "$log.ntad.log")"
		return
	fi
	[ -n "$use_perf" ] && perf_start ppid "$log.perf.data" "$duration"
	if [ "$mode" != txonly ]; then
		gen_send "$size" "$log.gen.log" || { reap "$npid" 1; [ -n "$cpid" ] && reap "$cpid" 1; [ -n "$ppid" ] && reap "$ppid" 2; run_fail "$name" "$size" "$run" "generator failed: $(gen_why "$log.gen.log")"; return; }
	fi
	[ -n "$ppid" ] && reap "$ppid" "$(awk -v d="$duration" 'BEGIN { print d + 3 }')"
	if ! reap "$npid" "$ntad_d"; then
		[ -n "$cpid" ] && reap "$cpid" 1
		run_fail "$name" "$size" "$run" "ntad exited non-zero: $(grep -m1 '^ntad:' "$log.ntad.log" || jq -rc 'select(.type=="summary") | {nta_check, umem_in_use_at_exit, stop}' "$log.ntad.log" 2>/dev/null)"
		return
	fi
	local sum med
	sum=$(jq -c 'select(.type=="summary")' "$log.ntad.log")
	if [ "$mode" = rxdrop ]; then
		rate=$(per_sec "$(jq -r .rx_packets <<<"$sum")" "$(last_kv "$log.gen.log" elapsed)")
		med=$(jq -r 'select(.type=="interval") | .rx_pps' "$log.ntad.log" | active_median)
	else
		reap "$cpid" 3
		if [ "$mode" = txonly ]; then
			rate=$(per_sec "$(last_kv "$log.count.log" received)" "$(jq -r .elapsed <<<"$sum")")
		else
			rate=$(per_sec "$(last_kv "$log.count.log" received)" "$(last_kv "$log.gen.log" elapsed)")
		fi
		med=$(counter_rates "$log.count.log")
	fi
	if [ -n "$ppid" ]; then
		# Packets ntad handled while perf sampled: its own count, scaled to the
		# sampled time (txonly sends from its start, half a second before
		# perf starts; rxdrop and l2fwd get traffic only while perf samples).
		pk=$(jq -r --arg m "$mode" 'if $m == "rxdrop" then .rx_packets else .tx_packets end' <<<"$sum")
		if [ "$mode" = txonly ]; then
			pk=$(awk -v n="$pk" -v t="$(jq -r .elapsed <<<"$sum")" 'BEGIN { printf "%.0f", (t > 0.5 ? n * (t - 0.5) / t : 0) }')
		else
			pk=$(awk -v n="$pk" -v t="$(last_kv "$log.gen.log" elapsed)" -v d="$duration" 'BEGIN { printf "%.0f", (t > 0 ? n * (d < t ? d / t : 1) : 0) }')
		fi
		read -r cu ck < <(perf_per_packet "$log.perf.data" "$pk")
		printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$size" "$run" "$cu" "$ck" >>"$cpu_results"
		cpu=", cpu $cu + $ck ns/pkt (ntad + kernel)"
		rm -f "$log.perf.data"
	fi
	record "$name" "$size" "$run" "$rate" "$(jq -r '"ntad rx \(.rx_packets) tx \(.tx_packets) drop \(.rx_dropped) check \(.nta_check)"' <<<"$sum"), interval median $med$cpu"
}

# xdp-bench's interval lines ("Summary  N rx/s", "DEV:0  N rx/s  N xmit/s"):
# the median of the first figure per line while traffic flowed.
xdpbench_rates() {
	sed -n 's/^[^ ]*[^0-9]*\([0-9][0-9,]*\) rx\/s.*/\1/p' "$1" | tr -d , | active_median
}

# xsk_case CMD SIZE RUN: xdp-bench xsk-drop or xsk-tx on DEV, on ntad's CPU, the
# same generator; measured like rxdrop (the tool's RX total) and l2fwd (what
# comes back to PEER), over the generator's elapsed time.
xsk_case() {
	local cmd=$1 size=$2 run=$3 log=$logdir/$1-$2-$3 xpid cpid="" n
	if [ "$cmd" = xsk-tx ]; then
		bg cpid "$log.count.log" "$NS_B" "$gen_cpu" "$GEN" count -i "$PEER" -I 0.5 -d "$(awk -v d="$duration" 'BEGIN { print d + 4 }')"
		wait_for "$log.count.log" '^attached' 5 "$cpid" || { reap "$cpid" 1; run_fail "$cmd" "$size" "$run" "counter on $PEER did not attach (see $log.count.log)"; return; }
	fi
	bg xpid "$log.xdp-bench.log" "$NS_A" "$ntad_cpu" "$XDP_BENCH" "$cmd" -i 1 "$DEV"
	if ! wait_for "$log.xdp-bench.log" 'using AF_XDP sockets' 5 "$xpid"; then
		reap "$xpid" 1
		[ -n "$cpid" ] && reap "$cpid" 1
		run_fail "$cmd" "$size" "$run" "xdp-bench $cmd did not start (see $log.xdp-bench.log)"
		return
	fi
	sleep 0.5
	if ! gen_send "$size" "$log.gen.log"; then
		reap "$xpid" 1
		[ -n "$cpid" ] && reap "$cpid" 1
		run_fail "$cmd" "$size" "$run" "generator failed: $(gen_why "$log.gen.log")"
		return
	fi
	kill -INT "$xpid" 2>/dev/null
	reap "$xpid" 3
	if [ "$cmd" = xsk-tx ]; then
		reap "$cpid" 5
		record "$cmd" "$size" "$run" "$(per_sec "$(last_kv "$log.count.log" received)" "$(last_kv "$log.gen.log" elapsed)")" \
			"returned to $PEER, interval median $(counter_rates "$log.count.log")"
	else
		# "Totals:" then " RX   N pkts"
		n=$(awk '/^Totals:/ { t = 1 } t && $1 == "RX" { print $2; exit }' "$log.xdp-bench.log")
		record "$cmd" "$size" "$run" "$(per_sec "$n" "$(last_kv "$log.gen.log" elapsed)")" \
			"xdp-bench rx $n, interval median $(xdpbench_rates "$log.xdp-bench.log")"
	fi
}

# xdpsock_case SIZE RUN: xdpsock -t on DEV, on ntad's CPU, for --duration,
# counted on PEER like txonly. Its -s counts the 4-byte FCS the wire does not
# carry, so it gets SIZE + 4 for frames of SIZE bytes, as ntad sends.
xdpsock_case() {
	local size=$1 run=$2 log=$logdir/xdpsock-tx-$1-$2 xpid cpid secs
	secs=$(awk -v d="$duration" 'BEGIN { printf "%d", d + 0.5 }')
	bg cpid "$log.count.log" "$NS_B" "$gen_cpu" "$GEN" count -i "$PEER" -I 0.5 -d $((secs + 3))
	wait_for "$log.count.log" '^attached' 5 "$cpid" || { reap "$cpid" 1; run_fail xdpsock-tx "$size" "$run" "counter on $PEER did not attach (see $log.count.log)"; return; }
	bg xpid "$log.xdpsock.log" "$NS_A" "$ntad_cpu" "$XDPSOCK" -i "$DEV" -q 0 -t -S -s $((size + 4)) -d "$secs"
	if ! reap "$xpid" $((secs + 5)); then
		reap "$cpid" 1
		run_fail xdpsock-tx "$size" "$run" "xdpsock failed: $(grep -m1 -i 'error' "$log.xdpsock.log")"
		return
	fi
	reap "$cpid" 5
	record xdpsock-tx "$size" "$run" "$(per_sec "$(last_kv "$log.count.log" received)" "$secs")" \
		"received on $PEER, interval median $(counter_rates "$log.count.log")"
}

# ---- the runs -------------------------------------------------------------------

# A generator that cannot send here fails every run: find out in a second.
for c in "${case_list[@]}"; do
	[ "$c" != txonly ] && [ "$c" != xdpsock-tx ] || continue
	if ! gen_send 64 "$logdir/gen-probe.log" 1; then
		echo "bench.sh: the generator ($gen) cannot send here: $(gen_why "$logdir/gen-probe.log")"
		[ "$gen" = ntad-txonly ] ||
			echo "bench.sh: where the kernel refuses XDP live frames, --gen ntad-txonly sends with AF_XDP instead (docs/PLATFORM.md)"
		exit 1
	fi
	break
done

declare -A xsk_of=([rxdrop]=xsk-drop [l2fwd]=xsk-tx)
start=$(date +%s)
for size in "${size_list[@]}"; do
	for ((run = 1; run <= runs; run++)); do
		echo "size $size, run $run/$runs:"
		want_case xdp-drop && case_xdp_drop "$size" "$run"
		for mode in rxdrop l2fwd txonly; do
			# nta, fixed and the mode's xdp-bench counterpart, reversed in even runs
			group=()
			want_case "$mode" && group=("$mode/nta" "$mode/fixed")
			xsk=${xsk_of[$mode]:-}
			[ -n "$xsk" ] && [ -n "$XDP_BENCH" ] && want_case "$xsk" && group+=("$xsk")
			[ "$mode" = txonly ] && [ -n "$XDPSOCK" ] && [ "$size" != imix ] && want_case xdpsock-tx &&
				group+=(xdpsock-tx)
			if ! ((run % 2)); then
				rev=()
				for ((i = ${#group[@]} - 1; i >= 0; i--)); do rev+=("${group[i]}"); done
				group=("${rev[@]}")
			fi
			for c in "${group[@]}"; do
				case "$c" in
				xsk-*) xsk_case "$c" "$size" "$run" ;;
				xdpsock-tx) xdpsock_case "$size" "$run" ;;
				*) ntad_case "$mode" "${c#*/}" "$size" "$run" ;;
				esac
			done
		done
	done
done
elapsed=$(($(date +%s) - start))

# ---- table and JSON -------------------------------------------------------------

# Per case and size: median, min, max, spread over the runs that produced a number.
summary=$outdir/summary.tsv
awk -F'\t' '$4 > 0 { k = $1 "\t" $2; n[k]++; v[k, n[k]] = $4 + 0; if (!(k in first)) { first[k] = NR; order[++m] = k } }
END {
	for (o = 1; o <= m; o++) {
		k = order[o]; c = n[k]
		for (i = 1; i <= c; i++) a[i] = v[k, i]
		for (i = 2; i <= c; i++) { x = a[i]; for (j = i - 1; j > 0 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
		med = c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
		printf "%s\t%d\t%.0f\t%.0f\t%.0f\t%.1f\n", k, c, med, a[1], a[c], (med > 0 ? 100 * (a[c] - a[1]) / med : 0)
	}
}' "$results" >"$summary"

echo
echo "Results: median of $runs run(s), ${duration}s each; Mpps; spread = (max - min) / median"
echo "CPUs: generator + receiving softirq on $gen_cpu, ntad on $ntad_cpu; $(nproc) CPUs; kernel $(uname -r)"
printf '%-14s %-6s %9s %9s %9s %7s %5s\n' case size median min max spread runs
awk -F'\t' '{ printf "%-14s %-6s %9.3f %9.3f %9.3f %6.1f%% %5d\n", $1, $2, $4 / 1e6, $5 / 1e6, $6 / 1e6, $7, $3 }' "$summary"
echo
# paired A B SIZE: A/B of each repetition (case A's run over case B's run of the
# same repetition, which ran close together): "median min max count lo hi" of
# those ratios, lo..hi a 90% sign-test interval for their true median
# (scripts/paired.awk; "- -" with fewer than 5 pairs).
paired() {
	awk -F'\t' -v ca="$1" -v cb="$2" -v s="$3" '$2 == s && $4 > 0 { if ($1 == ca) a[$3] = $4; if ($1 == cb) b[$3] = $4 }
	END { for (r in a) if (r in b) print a[r] / b[r] }' "$results" | awk -f "$top/scripts/paired.awk"
}

# verdict LO HI GOAL: the goal (a lowest ratio) against the paired median's interval.
verdict() {
	if [ "$1" = - ]; then echo "undecided (5 or more --runs give an interval)"
	elif awk -v l="$1" -v g="$3" 'BEGIN { exit !(l >= g) }'; then echo "met"
	elif awk -v h="$2" -v g="$3" 'BEGIN { exit !(h < g) }'; then echo "missed"
	else echo "undecided (interval spans $3; more --runs)"; fi
}

# compare KIND A B SIZE GOAL: one row of the ratio table (A over B: the ratio of
# the medians, the paired ratio with its interval, the goal's verdict) and of
# ratios.tsv; nothing when either case has no figure.
mpps() { if [ -n "$1" ]; then awk -v x="$1" 'BEGIN { printf "%.3f", x / 1e6 }'; else echo n/a; fi; }
median_of() { awk -F'\t' -v k="$1" -v s="$2" '$1 == k && $2 == s { print $4 }' "$summary"; }
compare() {
	local kind=$1 a=$2 b=$3 size=$4 goal=$5 ma mb r pm pmin pmax pn plo phi v
	ma=$(median_of "$a" "$size")
	mb=$(median_of "$b" "$size")
	if [ -z "$ma" ] || [ -z "$mb" ] || [ "$mb" = 0 ]; then
		printf '%-26s %-6s %9s %9s %7s\n' "$a / $b" "$size" "$(mpps "$ma")" "$(mpps "$mb")" n/a
		return
	fi
	r=$(awk -v x="$ma" -v y="$mb" 'BEGIN { printf "%.3f", x / y }')
	read -r pm pmin pmax pn plo phi < <(paired "$a" "$b" "$size")
	v=$(verdict "$plo" "$phi" "$goal")
	printf '%-26s %-6s %9.3f %9.3f %7s %7s (%s..%s) %13s  >= %-4s %s\n' "$a / $b" "$size" \
		"$(awk -v x="$ma" 'BEGIN { print x / 1e6 }')" "$(awk -v x="$mb" 'BEGIN { print x / 1e6 }')" \
		"$r" "$pm" "$pmin" "$pmax" "$plo..$phi" "$goal" "$v"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$a" "$b" "$size" "$r" "$pm" "$pmin" "$pmax" "$pn" \
		"$plo" "$phi" "$goal" "${v%% *}" >>"$ratios"
}

echo "Ratios, A / B: of the medians; the median (min..max) of each repetition's own A/B, the"
echo "two having run close together (ABBA); a 90% confidence interval for that median; the goal"
echo "(a lowest ratio) met, missed or undecided. nta/fixed is the headline (nta within 5%);"
echo "ntad against xdp-bench: rxdrop/xsk-drop (>= 1), l2fwd/xsk-tx (>= 1.5, issue 18), txonly"
echo "against xdpsock (>= 1), and rxdrop against the ceiling of the path, xdp-drop (>= 0.95):"
printf '%-26s %-6s %9s %9s %7s %21s %13s  %s\n' "A / B" size A B ratio "paired (min..max)" "90% interval" goal
ratios=$outdir/ratios.tsv
: >"$ratios"
for size in "${size_list[@]}"; do
	for mode in rxdrop l2fwd txonly; do
		want_case "$mode" && compare nta/fixed "$mode/nta" "$mode/fixed" "$size" 0.95
	done
	if [ -n "$XDP_BENCH" ]; then
		if want_case rxdrop && want_case xsk-drop; then compare ntad/xdp-bench rxdrop/nta xsk-drop "$size" 1.0; fi
		if want_case l2fwd && want_case xsk-tx; then compare ntad/xdp-bench l2fwd/nta xsk-tx "$size" 1.5; fi
	fi
	if want_case rxdrop && want_case xdp-drop; then compare ntad/ceiling rxdrop/nta xdp-drop "$size" 0.95; fi
	if [ -n "$XDPSOCK" ] && want_case txonly && want_case xdpsock-tx; then
		compare ntad/xdpsock txonly/nta xdpsock-tx "$size" 1.0
	fi
done
# txonly's rate at each size over its rate at 64 bytes: the cost of a frame's
# length (issue 18: >= 0.8 at 1500). The sizes do not run interleaved, so
# only the ratio of the medians.
if want_case txonly && [ -n "$(median_of txonly/nta 64)" ]; then
	for size in "${size_list[@]}"; do
		[ "$size" = 64 ] && continue
		m=$(median_of txonly/nta "$size")
		[ -n "$m" ] && printf '%-26s %-6s %9.3f %9.3f %7.3f %21s %13s  >= 0.8\n' "txonly/nta $size / 64" "$size" \
			"$(awk -v x="$m" 'BEGIN { print x / 1e6 }')" "$(awk -v x="$(median_of txonly/nta 64)" 'BEGIN { print x / 1e6 }')" \
			"$(awk -v x="$m" -v y="$(median_of txonly/nta 64)" 'BEGIN { print x / y }')" "(not paired)" "-"
	done
fi
if [ -s "$cpu_results" ]; then
	echo
	echo "CPU time per packet on ntad's CPU (perf cpu-clock; ns, median of the runs) in ntad's"
	echo "own code and in the kernel, and nta/fixed of each repetition's ntad and total time (median):"
	printf '%-8s %-6s %15s %15s %17s\n' "" "" "ntad ns/pkt" "kernel ns/pkt" "nta/fixed"
	printf '%-8s %-6s %7s %7s %7s %7s %8s %8s\n' mode size nta fixed nta fixed ntad total
	for size in "${size_list[@]}"; do
		for mode in rxdrop l2fwd txonly; do
			want_case "$mode" || continue
			awk -F'\t' -v m="$mode" -v s="$size" '
			function med(x, c,   i, j, y) {
				for (i = 2; i <= c; i++) { y = x[i]; for (j = i - 1; j > 0 && x[j] > y; j--) x[j + 1] = x[j]; x[j + 1] = y }
				return c % 2 ? x[(c + 1) / 2] : (x[c / 2] + x[c / 2 + 1]) / 2
			}
			$2 == s && $4 + $5 > 0 {
				if ($1 == m "/nta") { nu[$3] = $4; nk[$3] = $5; a[++na] = $4; b[na] = $5 }
				if ($1 == m "/fixed") { fu[$3] = $4; fk[$3] = $5; c[++nf] = $4; d[nf] = $5 }
			}
			END {
				if (!na || !nf) exit
				for (r in nu) if ((r in fu) && fu[r] > 0) { pu[++np] = nu[r] / fu[r]; pt[np] = (nu[r] + nk[r]) / (fu[r] + fk[r]) }
				printf "%-8s %-6s %7.1f %7.1f %7.1f %7.1f %8.3f %8.3f\n", m, s, med(a, na), med(c, nf), med(b, na), med(d, nf),
					np ? med(pu, np) : 0, np ? med(pt, np) : 0
			}' "$cpu_results"
		done
	done
fi
jq -n --rawfile runs "$results" --rawfile summary "$summary" --rawfile ratios "$ratios" \
	--rawfile cpu_rows "$cpu_results" --arg perf "${use_perf:+on}" --arg perf_note "$perf_note" --argjson hz "$PERF_HZ" \
	--arg kernel "$(uname -r)" --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
	--argjson ncpu "$(nproc)" --argjson gen_cpu "$gen_cpu" --argjson ntad_cpu "$ntad_cpu" \
	--argjson nruns "$runs" --argjson duration "$duration" --arg payload "$payload" \
	--arg xdpbench "$XDP_BENCH" --arg xdpbench_version "$xdpbench_version" --arg xdpbench_note "$xdpbench_note" \
	--arg gen "$gen" --arg gen_cmd "$GEN_CMD" --argjson elapsed "$elapsed" \
	--arg commit "$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)" '
	def rows($s): $s | split("\n") | map(select(length > 0) | split("\t"));
	def ratios($kind): rows($ratios) | map(select(.[0] == $kind) | { a: .[1], b: .[2], size: .[3], ratio: (.[4] | tonumber),
		paired: { median: (.[5] | tonumber), min: (.[6] | tonumber), max: (.[7] | tonumber), pairs: (.[8] | tonumber),
			ci90: (if .[9] == "-" then null else [(.[9] | tonumber), (.[10] | tonumber)] end) },
		goal_min: (.[11] | tonumber), goal: .[12] });
	{
		machine: { kernel: $kernel, cpu: $cpu, cpus: $ncpu },
		commit: $commit,
		method: { runs: $nruns, duration_s: $duration,
			generator: ({ "ntad-gen": "ntad-gen (XDP live frames)",
				"xdp-trafficgen": "xdp-trafficgen udp (XDP live frames)",
				"ntad-txonly": "ntad -m txonly (AF_XDP copy mode)" }[$gen]),
			generator_path: $gen_cmd,
			generator_payload: (if $gen == "ntad-gen" then $payload else null end), gen_cpu: $gen_cpu, ntad_cpu: $ntad_cpu,
			ceiling: (if $xdpbench != "" then "xdp-bench drop" else "ntad-gen count" end),
			order: "per mode: nta, fixed, xdp-bench; reversed in even runs (ABBA)",
			figure: "run = packets counted by the receiving side / time traffic was offered; case = median of runs" },
		xdp_bench: { status: (if $xdpbench != "" then "ok" else "skipped" end), path: $xdpbench,
			version: $xdpbench_version, note: $xdpbench_note },
		perf: { status: (if $perf == "on" then "on" elif $perf_note != "" then "skipped" else "off" end),
			note: $perf_note, hz: $hz },
		elapsed_s: $elapsed,
		runs: rows($runs) | map({ case: .[0], size: .[1], run: (.[2] | tonumber), pps: (.[3] | tonumber), note: .[4] }),
		cpu_per_packet: rows($cpu_rows) | map({ case: .[0], size: .[1], run: (.[2] | tonumber),
			user_ns: (.[3] | tonumber), kernel_ns: (.[4] | tonumber) }),
		cases: rows($summary) | map({ case: .[0], size: .[1], runs: (.[2] | tonumber), median_pps: (.[3] | tonumber),
			min_pps: (.[4] | tonumber), max_pps: (.[5] | tonumber), spread_pct: (.[6] | tonumber) }),
		nta_over_fixed: ratios("nta/fixed") | map({ mode: (.a | split("/")[0]) } + .),
		ntad_over_xdp_bench: ratios("ntad/xdp-bench"),
		ntad_over_ceiling: ratios("ntad/ceiling")
	}' >"$out" || echo "bench.sh: writing $out failed" >&2
echo
echo "JSON: $out (per-run logs in $logdir); took ${elapsed}s"
[ "$failures" -eq 0 ] || { echo "bench.sh: $failures run(s) failed; see above"; exit 1; }
exit 0
