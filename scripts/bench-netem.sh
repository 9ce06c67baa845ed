#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench-netem.sh - ntad's delay line beside what people use instead: ntad fwd
# (the same path without the hold), the plain Linux bridge, and a bridge with
# tc netem on both ports where the kernel has netem. Same topology, generator
# and counter for every tool, interleaved runs, rising offered rates.
#
# Topology: host 1 (namespace H1, PA 10.79.0.1) -- [DA  tool  DB] (namespace M)
# -- host 2 (namespace H2, PB 10.79.0.2): two veth pairs, the tool between them
# on --ntad-cpu. ntad -m txonly --imix --rate R (frames written once and
# stamped; the --build's) sends UDP from PA to PB on --gen-cpu; ntad -m rxdrop
# --filter proto=udp on PB counts it (ARP and ICMP go to PB's kernel). While
# the traffic flows, ping -i 0.01 runs from H1 to H2 through the tool. Tools:
#   delay   ntad -i DA -o DB -m delay --delay D
#   fwd     ntad -i DA -o DB -m fwd
#   bridge  a bridge in M with DA and DB as its ports
#   netem   that bridge with tc qdisc ... root netem delay D on DA and DB
#           ("skipped: no netem in this kernel" when tc cannot add one)
# A run's figures: delivered = PB's rx_packets / PA's tx_packets, ping's RTT
# min/avg/max/mdev, for ntad delay its lateness p50/p99/max (send time - due)
# and UMEM bytes per held packet (held_peak_umem / held_peak_packets), for
# netem the growth of the slab caches skbuff_head_cache and kmalloc-* from
# before the traffic to mid-run per packet in the qdiscs' backlog then. Every
# repetition runs every tool once, in reverse order every other time; each
# cell reports medians, and per rate the paired ratio delay/fwd of delivered
# (scripts/paired.awk; the goal of issue 19 is at least 0.98).
# shellcheck disable=SC2059,SC2015 # table formats in variables; A && B || die
set -uo pipefail

usage() {
	cat <<'EOF'
Usage: scripts/bench-netem.sh [--build DIR] [options]

  --build DIR        build tree with ntad and bpf/ (default build)
  --tools LIST       delay,fwd,bridge,netem (default all)
  --rates LIST       offered packets per second (default 300000,600000,1000000)
  --delay MS         the hold time each way, delay and netem (default 50)
  --umem SIZE        ntad's UMEM (default 256M)
EOF
	common_usage
	cat <<'EOF'

Needs root. Creates and removes its own namespaces, veth pairs and bridge.
EOF
}

die() { echo "bench-netem.sh: $*" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
build=build tools=delay,fwd,bridge,netem rates=300000,600000,1000000 delay=50 umem=256M runs=3 duration=3
gen_cpu=0 ntad_cpu=1
# shellcheck source=scripts/ab-pair.sh
. "$top/scripts/ab-pair.sh"
parse_opts "build tools rates delay umem runs duration gen-cpu ntad-cpu" "$@"
check_common_opts
[[ "$tools" =~ ^(delay|fwd|bridge|netem)(,(delay|fwd|bridge|netem))*$ ]] ||
	die "--tools '$tools': a comma list of delay, fwd, bridge, netem"
[[ "$delay" =~ ^[1-9][0-9]*$ ]] || die "--delay '$delay': give whole milliseconds, at least 1"
[[ "$umem" =~ ^[1-9][0-9]*[kKmMgG]?$ ]] || die "--umem '$umem': give bytes with k/M/G (say 256M)"
check_build tc ping

tag=bn$$
m=ntad-m-$tag h1=ntad-h1-$tag h2=ntad-h2-$tag
da=n${tag}a pa=n${tag}p db=n${tag}b pb=n${tag}q br=n${tag}br
tmp=$(mktemp -d)
pids=()
pair() { "$top/scripts/setup-veth.sh" "$1" --build "$build" --dev "$2" --dev-netns "$m" --peer "$3" --netns "$4" \
	--addr none --peer-addr "$5" "${@:6}"; }
stop_pids() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	pids=()
}
cleanup() {
	stop_pids
	ip -n "$m" link del "$br" 2>/dev/null
	pair teardown "$db" "$pb" "$h2" none >/dev/null 2>&1
	pair teardown "$da" "$pa" "$h1" none >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
# xdp_pass on PA gives it the NAPI veth needs to receive ping's replies from
# ntad; PB gets the counter's program each run.
pair setup "$da" "$pa" "$h1" 10.79.0.1/24 >/dev/null &&
	pair setup "$db" "$pb" "$h2" 10.79.0.2/24 --no-peer-xdp >/dev/null || die "cannot make the veth pairs"
pb_mac=$(ip -n "$h2" -j link show dev "$pb" | jq -r '.[0].address')

if [[ ",$tools," == *,netem,* ]]; then
	if err=$(tc -n "$m" qdisc add dev "$da" root netem delay 1ms 2>&1); then
		tc -n "$m" qdisc del dev "$da" root
	else
		drop_tool netem "no netem in this kernel (tc: ${err//$'\n'/ })"
	fi
fi

# slab_bytes: bytes in use in skbuff_head_cache and the kmalloc caches.
slab_bytes() {
	awk '$1 == "skbuff_head_cache" || $1 ~ /^kmalloc-/ { s += $2 * $4 } END { print s + 0 }' /proc/slabinfo
}
# backlog: packets in the netem qdiscs of DA and DB now.
backlog() {
	{ tc -n "$m" -s qdisc show dev "$da"; tc -n "$m" -s qdisc show dev "$db"; } 2>/dev/null |
		awk '/backlog/ { sub(/p$/, "", $3); s += $3 } END { print s + 0 }'
}

tool_start() {
	case "$1" in
	delay|fwd)
		local args=()
		[ "$1" = fwd ] || args=(--delay "${delay}ms")
		ip netns exec "$m" taskset -c "$ntad_cpu" "$build/ntad" -i "$da" -o "$db" -m "$1" "${args[@]}" \
			--umem-size "$umem" -d $((duration + 60)) --interval 0 --json >"$tmp/tool.log" 2>&1 &
		pids+=($!) ;;
	bridge|netem)
		ip -n "$m" link add "$br" type bridge forward_delay 0 stp_state 0 &&
			ip -n "$m" link set "$da" master "$br" && ip -n "$m" link set "$db" master "$br" &&
			ip -n "$m" link set "$br" up || die "cannot make the bridge"
		if [ "$1" = netem ]; then
			tc -n "$m" qdisc add dev "$da" root netem delay "${delay}ms" limit 1000000 &&
				tc -n "$m" qdisc add dev "$db" root netem delay "${delay}ms" limit 1000000 ||
				die "tc netem failed on the bridge ports"
		fi ;;
	esac
}

tool_stop() {
	if [ "$1" = delay ] || [ "$1" = fwd ]; then
		kill -TERM "${pids[1]}" 2>/dev/null
		wait "${pids[1]}" 2>/dev/null
	else
		tc -n "$m" qdisc del dev "$da" root 2>/dev/null
		tc -n "$m" qdisc del dev "$db" root 2>/dev/null
		ip -n "$m" link del "$br"
	fi
}

# run TOOL RATE: "delivered pps sent ping_min ping_avg ping_max ping_mdev p50_us p99_us max_us bytes_per_held"
run() {
	local tool=$1 rate=$2 gen ping sent got el rtt mem=- late="- - -" s0 s1 held
	ip netns exec "$h2" "$build/ntad" -i "$pb" -m rxdrop --filter proto=udp -d $((duration + 60)) --interval 0 \
		--json >"$tmp/count.log" 2>&1 &
	pids=($!)
	tool_start "$tool"
	wait_xdp "$h2" "$pb" "${pids[0]}" || die "the counter did not start: $(tail -2 "$tmp/count.log")"
	[ ${#pids[@]} -lt 2 ] || wait_xdp "$m" "$da" "${pids[1]}" || die "$tool did not start: $(tail -2 "$tmp/tool.log")"
	sleep 0.5 # the rings filled
	ip netns exec "$h1" ping -c 1 -W 3 10.79.0.2 >/dev/null 2>&1 # ARP resolved before the measurement
	s0=$(slab_bytes)
	gen_imix "$build" "$h1" "$pa" "$pb_mac" "$rate" "$duration" "$gen_cpu" "$tmp/gen.log" \
		--src-ip 10.79.0.1 --dst-ip 10.79.0.2 &
	gen=$!
	sleep 0.5
	ip netns exec "$h1" ping -i 0.01 -c $(((duration - 1) * 100 + 50)) -w $((duration + 5)) -q 10.79.0.2 \
		>"$tmp/ping.log" 2>&1 &
	ping=$!
	if [ "$tool" = netem ]; then
		sleep "$(awk -v d="$duration" 'BEGIN { print d / 2 - 0.5 }')"
		s1=$(slab_bytes)
		held=$(backlog)
		mem=$(awk -v a="$s0" -v b="$s1" -v n="$held" 'BEGIN { if (n > 0) printf "%.0f", (b - a) / n; else print "-" }')
	fi
	wait "$gen" "$ping"
	sleep "$(awk -v d="$delay" 'BEGIN { print d / 1000 + 0.3 }')" # the held packets delivered
	tool_stop "$tool"
	stop_pids
	sent=$(summary_field "$tmp/gen.log" tx_packets)
	el=$(summary_field "$tmp/gen.log" elapsed)
	got=$(summary_field "$tmp/count.log" rx_packets)
	rtt=$(awk -F'[=/ ]+' '/^rtt/ { print $6, $7, $8, $9 }' "$tmp/ping.log")
	if [ "$tool" = delay ]; then
		late=$(jq -r 'select(.type == "summary") | "\(.lateness_p50_us) \(.lateness_p99_us) \(.lateness_max_us)"' \
			"$tmp/tool.log")
		mem=$(jq -r 'select(.type == "summary") |
			if .held_peak_packets > 0 then .held_peak_umem / .held_peak_packets | floor else "-" end' "$tmp/tool.log")
	fi
	awk -v s="$sent" -v g="$got" -v e="$el" 'BEGIN { printf "%.5f %.0f %.0f", (s > 0 ? g / s : 0), (e > 0 ? g / e : 0), (e > 0 ? s / e : 0) }'
	echo " ${rtt:-- - - -} ${late:-- - -} ${mem:--}"
}

IFS=, read -r -a tool_list <<<"$tools"
echo "bench-netem.sh: IMIX, ${delay} ms each way, --runs $runs, --duration $duration s; per run:"
fmt='%-7s %8s %4s %10s %9s %9s %26s %20s %8s\n'
printf "$fmt" tool rate run delivered "rx kpps" "tx kpps" "ping min/avg/max/mdev ms" "late p50/p99/max us" "B/held"
: >"$tmp/runs"
for rate in ${rates//,/ }; do
	for ((r = 0; r < runs; r++)); do
		tool_order "$r" "$tools"
		for tool in "${order[@]}"; do
			run "$tool" "$rate" >"$tmp/one" # not in a subshell: cleanup sees its PIDs
			read -r del rx tx p0 p1 p2 p3 l0 l1 l2 mem <"$tmp/one"
			echo "$tool $rate $r $del $rx $tx $p0 $p1 $p2 $p3 $l0 $l1 $l2 $mem" >>"$tmp/runs"
			printf "$fmt" "$tool" "$rate" "$r" "$del" "$((rx / 1000))" "$((tx / 1000))" "$p0/$p1/$p2/$p3" "$l0/$l1/$l2" "$mem"
		done
	done
done

# col TOOL RATE N: the median of column N over the runs of TOOL at RATE.
col() { awk -v t="$1" -v r="$2" -v c="$3" '$1 == t && $2 == r && $c != "-" { print $c }' "$tmp/runs" | median; }
echo
echo "medians over $runs runs (loss = 1 - delivered):"
fmt='%-7s %8s %10s %8s %9s %26s %20s %8s\n'
printf "$fmt" tool rate delivered "loss %" "rx kpps" "ping min/avg/max/mdev ms" "late p50/p99/max us" "B/held"
for rate in ${rates//,/ }; do
	for tool in "${tool_list[@]}"; do
		d=$(col "$tool" "$rate" 4)
		printf "$fmt" "$tool" "$rate" "$d" "$(awk -v d="$d" 'BEGIN { printf "%.2f", (1 - d) * 100 }')" \
			"$(awk -v x="$(col "$tool" "$rate" 5)" 'BEGIN { printf "%.0f", x / 1000 }')" \
			"$(col "$tool" "$rate" 7)/$(col "$tool" "$rate" 8)/$(col "$tool" "$rate" 9)/$(col "$tool" "$rate" 10)" \
			"$(col "$tool" "$rate" 11)/$(col "$tool" "$rate" 12)/$(col "$tool" "$rate" 13)" "$(col "$tool" "$rate" 14)"
	done
done
if [[ ",$tools," == *,delay,* && ",$tools," == *,fwd,* ]]; then
	echo
	echo "delivered, delay/fwd paired per run (goal: at least 0.98):"
	printf '%8s %7s %15s %15s %5s %s\n' rate median "min, max" "90% interval" pairs goal
	for rate in ${rates//,/ }; do
		awk -v r="$rate" '$2 == r && ($1 == "delay" || $1 == "fwd") { v[$1 " " $3] = $4 }
			END { for (k in v) if (k ~ /^delay/) { f = v["fwd" substr(k, 6)]; if (f > 0) print v[k] / f } }' \
			"$tmp/runs" >"$tmp/ratios"
		read -r med lo hi n clo chi < <(awk -f "$top/scripts/paired.awk" "$tmp/ratios")
		printf '%8s %7s %15s %15s %5s %s\n' "$rate" "$med" "[$lo, $hi]" "[$clo, $chi]" "$n" \
			"$(awk -v x="$med" 'BEGIN { print (x >= 0.98 ? "met" : "missed") }')"
	done
fi
