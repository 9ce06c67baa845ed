#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench-capture.sh - ntad's capture beside tcpdump -w and netsniff-ng: what
# each keeps of IMIX traffic at rising offered rates, writing into a tmpfs.
#
# Topology: one veth pair, DEV in namespace A where the tool runs (on
# --ntad-cpu), PEER in namespace B where ntad -m txonly --imix --rate R (frames
# written once and stamped; the --build's) sends to DEV's MAC (on --gen-cpu;
# xdp_pass on PEER). Tools, every one writing to a file on a tmpfs this script
# mounts:
#   ntad-w       ntad -m capture -w FILE (continuous), --buffer MiB of UMEM
#   ntad-pcap    ntad -m capture --pcap FILE (flight recorder), --umem of UMEM:
#                SIGUSR1 once the burst is over, and the file it writes counted;
#                then SIGTERM (the exit write: pcap_packets in its summary)
#   tcpdump      tcpdump -w FILE -B --buffer MiB (-Z root: the tmpfs is root's)
#   netsniff-ng  netsniff-ng --in DEV --out FILE -S --buffer MiB -b CPU (-A -Q: it
#                leaves the machine's socket memory and IRQ affinity alone)
# A run's figures: file = frames in the file (tcpdump -r FILE --count) / frames
# sent (the generator's tx_packets), rx = frames the tool got / frames sent
# (ntad: rx_packets; tcpdump: received by filter less dropped by kernel;
# netsniff-ng: passed filter), and for the flight recorder whether the burst
# fitted (evicted 0). Every repetition runs every tool once, in reverse order
# every other time; medians per tool and rate. The goals of issue 19 judged:
# ntad-w keeps at least what netsniff-ng keeps at every rate (paired per run),
# the flight recorder keeps 100 % of a burst that fits its UMEM.
# shellcheck disable=SC2059,SC2015 # table formats in variables; A && B || die
set -uo pipefail

usage() {
	cat <<'EOF'
Usage: scripts/bench-capture.sh [--build DIR] [options]

  --build DIR        build tree with ntad and bpf/ (default build)
  --tools LIST       ntad-w,ntad-pcap,tcpdump,netsniff-ng (default all)
  --rates LIST       offered packets per second (default 300000,600000,1000000)
  --buffer MIB       tcpdump -B, netsniff-ng ring, ntad -w UMEM (default 256)
  --umem SIZE        the flight recorder's UMEM (default 2G: 3 s of 1 Mpps IMIX fit)
EOF
	common_usage
	cat <<'EOF'

Needs root. Creates and removes its own namespaces, veth pair and tmpfs.
EOF
}

die() { echo "bench-capture.sh: $*" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
build=build tools=ntad-w,ntad-pcap,tcpdump,netsniff-ng rates=300000,600000,1000000 buffer=256 umem=2G runs=3
duration=3 gen_cpu=0 ntad_cpu=1
# shellcheck source=scripts/ab-pair.sh
. "$top/scripts/ab-pair.sh"
parse_opts "build tools rates buffer umem runs duration gen-cpu ntad-cpu" "$@"
check_common_opts
[[ "$tools" =~ ^(ntad-w|ntad-pcap|tcpdump|netsniff-ng)(,(ntad-w|ntad-pcap|tcpdump|netsniff-ng))*$ ]] ||
	die "--tools '$tools': a comma list of ntad-w, ntad-pcap, tcpdump, netsniff-ng"
[[ "$buffer" =~ ^[1-9][0-9]*$ ]] || die "--buffer '$buffer': give MiB, a whole number"
[[ "$umem" =~ ^[1-9][0-9]*[kKmMgG]?$ ]] || die "--umem '$umem': give bytes with k/M/G (say 2G)"
check_build tcpdump mountpoint
if [[ ",$tools," == *,netsniff-ng,* ]] && ! command -v netsniff-ng >/dev/null; then
	echo "bench-capture.sh: netsniff-ng missing: installing Debian's package netsniff-ng (a benchmark tool only)"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends netsniff-ng; } \
		>/dev/null 2>&1 || drop_tool netsniff-ng "not installed and apt-get could not install it"
fi

pair_setup "bc$$" "$build"
fs=$tmp/fs
tool_pid=
cleanup() {
	if [ -n "$tool_pid" ]; then kill -TERM "$tool_pid" 2>/dev/null; wait "$tool_pid" 2>/dev/null; fi
	mountpoint -q "$fs" && umount "$fs"
	_pair_cleanup
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
mkdir "$fs" && mount -t tmpfs -o size=16G,mode=0700 "ntad-bench-capture" "$fs" || die "cannot mount a tmpfs on $fs"

# run TOOL RATE: "file_ratio rx_ratio sent fits", fits being - but for ntad-pcap.
run() {
	local tool=$1 rate=$2 file=$fs/cap.pcap log=$tmp/tool.log sent inf rx=0 fits=- i
	rm -f "$file"
	case "$tool" in
	ntad-w) set -- "$build/ntad" -i "$dev" -m capture -w "$file" --umem-size "${buffer}M" ;;
	ntad-pcap) set -- "$build/ntad" -i "$dev" -m capture --pcap "$file" --umem-size "$umem" ;;
	tcpdump) set -- tcpdump -i "$dev" -n -w "$file" -B $((buffer * 1024)) -Z root ;;
	netsniff-ng) set -- netsniff-ng --in "$dev" --out "$file" -s -A -Q -S "${buffer}MiB" -b "$ntad_cpu" ;;
	esac
	[[ "$tool" != ntad-* ]] || set -- "$@" -d $((duration + 60)) --interval 1 --json
	ip netns exec "$ns_a" taskset -c "$ntad_cpu" "$@" >"$log" 2>&1 &
	tool_pid=$!
	if [[ "$tool" == ntad-* ]]; then
		wait_xdp "$ns_a" "$dev" "$tool_pid" || die "$tool did not start: $(tail -2 "$log")"
		sleep 0.5 # the rings filled
	else
		sleep 1.5 # the socket and its ring made
	fi
	gen_imix "$build" "$ns_b" "$peer" "$dev_mac" "$rate" "$duration" "$gen_cpu" "$tmp/gen.log"
	sleep 0.5 # the last frames written
	if [ "$tool" = ntad-pcap ]; then
		kill -USR1 "$tool_pid"
		for ((i = 0; i < 300; i++)); do # until a report line shows the write done
			[ "$(jq -r 'select(.pcap_writes != null) | .pcap_writes' "$log" 2>/dev/null | tail -1)" = 1 ] && break
			sleep 0.1
		done
		inf=$(tcpdump -r "$file" --count 2>/dev/null | awk '{ print $1 }')
	fi
	kill -TERM "$tool_pid"
	wait "$tool_pid"
	tool_pid=
	[ "$tool" = ntad-pcap ] || inf=$(tcpdump -r "$file" --count 2>/dev/null | awk '{ print $1 }')
	sent=$(summary_field "$tmp/gen.log" tx_packets)
	case "$tool" in
	ntad-*) rx=$(summary_field "$log" rx_packets) ;;
	tcpdump) rx=$(awk '/received by filter/ { r = $1 } /dropped by kernel/ { d = $1 } END { print r - d }' "$log") ;;
	netsniff-ng) rx=$(tr -d '\r' <"$log" | awk '/passed filter/ { print $1 }') ;;
	esac
	if [ "$tool" = ntad-pcap ]; then
		fits=$(jq -r 'select(.type == "summary") |
			if .evicted == 0 and .retain_dropped == 0 then "yes" else "no" end' "$log")
	fi
	rm -f "$file"
	awk -v f="${inf:-0}" -v r="${rx:-0}" -v s="$sent" -v fits="$fits" \
		'BEGIN { printf "%.5f %.5f %d %s\n", (s > 0 ? f / s : 0), (s > 0 ? r / s : 0), s, fits }'
}

IFS=, read -r -a tool_list <<<"$tools"
echo "bench-capture.sh: IMIX, --runs $runs, --duration $duration s, buffers $buffer MiB, flight recorder $umem; per run:"
fmt='%-11s %8s %4s %9s %9s %9s %5s\n'
printf "$fmt" tool rate run file/sent rx/sent sent fits
: >"$tmp/runs"
for rate in ${rates//,/ }; do
	for ((r = 0; r < runs; r++)); do
		tool_order "$r" "$tools"
		for tool in "${order[@]}"; do
			run "$tool" "$rate" >"$tmp/one" # not in a subshell: cleanup sees its PID
			read -r f x s fits <"$tmp/one"
			echo "$tool $rate $r $f $x $s $fits" >>"$tmp/runs"
			printf "$fmt" "$tool" "$rate" "$r" "$f" "$x" "$s" "$fits"
		done
	done
done

col() { awk -v t="$1" -v r="$2" -v c="$3" '$1 == t && $2 == r { print $c }' "$tmp/runs" | median; }
echo
echo "medians over $runs runs:"
fmt='%-11s %8s %9s %9s %6s\n'
printf "$fmt" tool rate file/sent rx/sent "fits"
for rate in ${rates//,/ }; do
	for tool in "${tool_list[@]}"; do
		fits=-
		[ "$tool" != ntad-pcap ] ||
			fits=$(awk -v r="$rate" '$1 == "ntad-pcap" && $2 == r { n++; y += $7 == "yes" } END { print y "/" n }' "$tmp/runs")
		printf "$fmt" "$tool" "$rate" "$(col "$tool" "$rate" 4)" "$(col "$tool" "$rate" 5)" "$fits"
	done
done
echo
echo "goals (issue 19, item 5):"
if [[ ",$tools," == *,ntad-w,* && ",$tools," == *,netsniff-ng,* ]]; then
	for rate in ${rates//,/ }; do
		awk -v r="$rate" '$2 == r { v[$1 " " $3] = $4 } END {
			for (k in v) if (k ~ /^ntad-w /) { n = v["netsniff-ng" substr(k, 7)]; if (n > 0) print v[k] / n } }' \
			"$tmp/runs" >"$tmp/ratios"
		read -r med lo hi n _ < <(awk -f "$top/scripts/paired.awk" "$tmp/ratios")
		echo "  $rate: ntad -w keeps $med of what netsniff-ng keeps (paired, min $lo, max $hi, $n runs):" \
			"$(awk -v x="$med" -v lo="$lo" 'BEGIN { print (lo >= 1 ? "met" : x >= 1 ? "met in the median" : "missed") }')"
	done
fi
if [[ ",$tools," == *,ntad-pcap,* ]]; then
	awk '$1 == "ntad-pcap" && $7 == "yes" { n++; if ($4 >= 1) k++; if (min == "" || $4 < min) min = $4 }
		END { if (!n) print "  flight recorder: no burst fitted its UMEM: undecided";
		else printf "  flight recorder: %d of %d bursts that fitted kept whole (lowest file/sent %.5f): %s\n",
			k, n, min, (k == n ? "met" : "missed") }' "$tmp/runs"
fi
