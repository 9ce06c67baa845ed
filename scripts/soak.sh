#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# soak.sh - a long l2fwd run of ntad with every packet accounted for (make soak).
#
# One veth pair in two namespaces of its own: ntad -m l2fwd on DEV (namespace
# A); on PEER (namespace B) tests/tools/ntad-gen sends sequence-numbered IMIX
# frames (64/576/1500 bytes, 7:4:1) as XDP live frames into DEV, and ntad-gen
# count (an XDP_DROP counter, which also gives PEER the NAPI veth needs) counts
# what ntad sends back. The generator is not paced (ntad-gen's --rate sends
# bursts that overflow the RX ring anyway), so it offers more than l2fwd
# forwards in copy mode and the kernel drops and counts the rest. The run ends
# once ntad has forwarded --packets frames (seen at a 10 s progress tick) or
# after --duration seconds, whichever comes first (default 10^8 or 600 s), then
# ntad is stopped with SIGTERM and everything is reconciled hop by hop:
#
#   generator sent   = frames the XDP program on DEV saw + veth drops PEER->DEV
#   program saw      = redirected (no filter: passed and dropped must be 0)
#   redirected       = ntad rx_packets + rx_dropped + rx_ring_full + rx_drained
#                      (the kernel's XDP_STATISTICS count what found no buffer
#                      or no RX ring slot; drained: freed unprocessed at exit)
#   ntad rx_packets  = tx_packets (every forwarded frame completed), none lost
#   ntad tx_packets  = counter received + veth drops DEV->PEER
#
# and ntad's own exit accounting: UMEM bytes in use 0, nta_check ok, no ledger
# violation, no pool error. ntad's resident memory is sampled every 10 s; after
# the first sample (UMEM and rings touched) it must stay flat (growth under
# --rss-slack KiB, default 1024). The veth drop figures are the veth drivers'
# own counters (ethtool -S and ip -s link) read before and after the run; see
# drops_in and drops_back for which ones.
#
# Output: progress every 10 s, then a report; the JSON report goes to
# BUILD/soak/report.json. Exit 0 when every check holds, 1 when one fails,
# 2 on usage or setup errors. Needs root.
set -uo pipefail

usage() {
	cat <<'USAGE'
Usage: scripts/soak.sh [--build DIR] [--duration SEC] [--packets N] [--rate PPS]
                       [--pool nta|fixed] [--gen-cpu N] [--ntad-cpu N] [--rss-slack KIB]

  --build DIR     build tree with ntad and tests/tools/ntad-gen (default build)
  --duration SEC  longest run, 10..86400 (default 600)
  --packets N     stop once ntad has forwarded N frames (default 100000000)
  --rate PPS      generator rate; 0 = as fast as it goes (default 0)
  --pool P        ntad's UMEM manager (default nta)
  --gen-cpu N     CPU of the generator and counter (default 0)
  --ntad-cpu N    CPU of ntad (default 1)
  --rss-slack K   allowed growth of ntad's RSS after warm-up, KiB (default 1024)
USAGE
}

die() { echo "soak.sh: $*" >&2; exit 2; }

top=$(cd "$(dirname "$0")/.." && pwd)
build=build duration=600 packets=100000000 rate=0 pool=nta gen_cpu=0 ntad_cpu=1 rss_slack=1024
while [ $# -gt 0 ]; do
	case "$1" in
	--build) [ $# -ge 2 ] || die "--build needs a value"; build=$2; shift ;;
	--duration) [ $# -ge 2 ] || die "--duration needs a value"; duration=$2; shift ;;
	--packets) [ $# -ge 2 ] || die "--packets needs a value"; packets=$2; shift ;;
	--rate) [ $# -ge 2 ] || die "--rate needs a value"; rate=$2; shift ;;
	--pool) [ $# -ge 2 ] || die "--pool needs a value"; pool=$2; shift ;;
	--gen-cpu) [ $# -ge 2 ] || die "--gen-cpu needs a value"; gen_cpu=$2; shift ;;
	--ntad-cpu) [ $# -ge 2 ] || die "--ntad-cpu needs a value"; ntad_cpu=$2; shift ;;
	--rss-slack) [ $# -ge 2 ] || die "--rss-slack needs a value"; rss_slack=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) die "unknown argument '$1'; see --help" ;;
	esac
	shift
done
[[ "$duration" =~ ^[0-9]+$ ]] && [ "$duration" -ge 10 ] && [ "$duration" -le 86400 ] ||
	die "--duration '$duration': give 10..86400 seconds"
[[ "$packets" =~ ^[1-9][0-9]*$ ]] || die "--packets '$packets': give a positive count"
[[ "$rate" =~ ^[0-9]+$ ]] || die "--rate '$rate': give packets per second, 0 for no limit"
[[ "$pool" =~ ^(nta|fixed)$ ]] || die "--pool '$pool': use nta or fixed"
[[ "$rss_slack" =~ ^[0-9]+$ ]] || die "--rss-slack '$rss_slack': give KiB"
ncpu=$(nproc)
for c in "$gen_cpu" "$ntad_cpu"; do
	[[ "$c" =~ ^[0-9]+$ ]] && [ "$c" -lt "$ncpu" ] || die "CPU '$c': this machine has CPUs 0..$((ncpu - 1))"
done
[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, XDP); run it as root"
for t in jq taskset ip ethtool awk; do
	command -v "$t" >/dev/null || die "$t missing; run scripts/install-deps.sh"
done
build=$(cd "$build" 2>/dev/null && pwd) || die "no build tree '$build'; run make first"
NTAD=$build/ntad
GEN=$build/tests/tools/ntad-gen
for f in "$NTAD" "$GEN"; do
	[ -x "$f" ] || die "$f missing; run make B=$build"
done
outdir=$build/soak
mkdir -p "$outdir"
rm -f "$outdir"/*.log

id=$(printf '%x%04x' $$ $((RANDOM)))
NS_A=ntad-soak-a-$id NS_B=ntad-soak-b-$id DEV=s$id PEER=s${id}p
veth_args=(--dev "$DEV" --dev-netns "$NS_A" --peer "$PEER" --netns "$NS_B")
pids=()

cleanup() {
	local p
	trap '' TERM INT HUP
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	sleep 0.5
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	"$top/scripts/setup-veth.sh" teardown "${veth_args[@]}" >/dev/null 2>&1 ||
		echo "soak.sh: teardown of $DEV/$PEER failed; see scripts/setup-veth.sh status" >&2
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

"$top/scripts/setup-veth.sh" setup "${veth_args[@]}" --build "$build" --no-peer-xdp >/dev/null ||
	die "could not make the veth pair (scripts/setup-veth.sh setup)"
DEV_MAC=$(ip -n "$NS_A" -j link show dev "$DEV" | jq -r '.[0].address')

# bg VAR LOG NS CPU CMD...: ip netns exec and taskset exec, so $! is CMD's PID.
bg() {
	local var=$1 log=$2 ns=$3 cpu=$4
	shift 4
	ip netns exec "$ns" taskset -c "$cpu" "$@" >"$log" 2>&1 &
	printf -v "$var" '%s' $!
	pids+=($!)
}

wait_for() { # LOG REGEX SECONDS PID
	local t
	for ((t = 0; t < $3 * 10; t++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# Frames a veth driver lost on one hop, from its own counters (ethtool -S, ip -s).
# In: the generator's XDP_TX out of PEER that could not be queued to DEV
# (PEER's xdp_tx_errors / xdp_xmit_errors). Back: ntad's transmissions that DEV
# could not hand to PEER (DEV's tx dropped, PEER's per-queue ring drops). DEV's
# own rx drops are not counted: veth counts there the frames XDP redirected to
# a socket without a free buffer or RX slot, which XDP_STATISTICS already
# gives (rx_dropped, rx_ring_full). PEER's xdp_drops are the counter's verdict.
ethsum() { # NS DEV AWK-REGEX
	ip netns exec "$1" ethtool -S "$2" 2>/dev/null | awk -F: -v re="$3" '$1 ~ re { s += $2 } END { print s + 0 }'
}
ipstat() { # NS DEV JQ-PATH
	ip -n "$1" -s -j link show dev "$2" | jq ".[0].stats64.$3"
}
drops_in() {
	ethsum "$NS_B" "$PEER" 'xdp_tx_errors$|xdp_xmit_errors$'
}
drops_back() {
	echo $(($(ipstat "$NS_A" "$DEV" tx.dropped) + $(ethsum "$NS_B" "$PEER" 'queue_[0-9]+_drops$')))
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

in0=$(drops_in) back0=$(drops_back)
slack=30
bg cpid "$outdir/count.log" "$NS_B" "$gen_cpu" "$GEN" count -i "$PEER" -d $((duration + slack + 10))
wait_for "$outdir/count.log" '^attached' 5 "$cpid" || die "counter did not attach: $(cat "$outdir/count.log")"
bg npid "$outdir/ntad.log" "$NS_A" "$ntad_cpu" "$NTAD" -i "$DEV" -m l2fwd --pool "$pool" --json -I 10 -d $((duration + slack))
wait_for "$outdir/ntad.log" . 10 "$npid" || true
for _ in $(seq 50); do
	ip -n "$NS_A" -j link show dev "$DEV" | jq -e '.[0].xdp != null' >/dev/null && break
	kill -0 "$npid" 2>/dev/null || die "ntad did not start: $(cat "$outdir/ntad.log")"
	sleep 0.1
done

echo "soak.sh: $DEV ($NS_A) <-> $PEER ($NS_B); ntad l2fwd pool $pool on CPU $ntad_cpu, generator and counter on CPU $gen_cpu; IMIX, until $packets frames forwarded or ${duration}s$([ "$rate" -gt 0 ] && echo ", $rate pps")"
rate_args=()
[ "$rate" -gt 0 ] && rate_args=(--rate "$rate")
bg gpid "$outdir/gen.log" "$NS_B" "$gen_cpu" "$GEN" send -i "$PEER" --imix --payload seq \
	--dst-mac "$DEV_MAC" -d "$duration" "${rate_args[@]}"

rss=()
t0=$SECONDS
while kill -0 "$gpid" 2>/dev/null; do
	sleep 10
	kill -0 "$npid" 2>/dev/null || { echo "soak.sh: ntad died: $(tail -n 5 "$outdir/ntad.log")" >&2; break; }
	r=$(rss_kib "$npid")
	[ -n "$r" ] && rss+=("$r")
	last=$(grep '"type":"interval"' "$outdir/ntad.log" | tail -n 1)
	[ -n "$last" ] || continue
	jq -r --arg t $((SECONDS - t0)) --arg rss "${r:-?}" \
		'"  \($t)s rx \(.rx_packets) tx \(.tx_packets) \(.rx_pps | floor) pps umem in use \(.umem_in_use) rss \($rss) KiB"' <<<"$last"
	# Enough forwarded: stop the generator (it ends its run and reports).
	[ "$(jq .tx_packets <<<"$last")" -ge "$packets" ] && kill -INT "$gpid" 2>/dev/null
done
wait "$gpid"; grc=$?
sleep 2 # let the last frames come back
kill -TERM "$npid" 2>/dev/null
wait "$npid"; nrc=$?
kill -INT "$cpid" 2>/dev/null
wait "$cpid"
pids=()
d_in=$(($(drops_in) - in0)) d_back=$(($(drops_back) - back0))

S=$(grep '"type":"summary"' "$outdir/ntad.log" | tail -n 1)
[ -n "$S" ] || { echo "soak.sh: ntad (exit $nrc) printed no summary: $(tail -n 5 "$outdir/ntad.log")" >&2; exit 1; }
kv() { sed -n "s/.*\b$2=\([0-9]*\).*/\1/p" "$1" | tail -n 1; }
sent=$(kv "$outdir/gen.log" sent) back=$(kv "$outdir/count.log" received) ours=$(kv "$outdir/count.log" ours)
sent=${sent:-0} back=${back:-0} ours=${ours:-0}
j() { jq -r "$1" <<<"$S"; }
seen=$(j '.xdp_redirected + .xdp_passed + .xdp_dropped')
rss_first=${rss[0]:-0} rss_max=0 rss_last=${rss[-1]:-0}
for r in "${rss[@]}"; do [ "$r" -gt "$rss_max" ] && rss_max=$r; done
elapsed=$(j .elapsed)

fails=()
check() { # DESCRIPTION CONDITION(awk)
	if awk "BEGIN { exit !($2) }"; then
		printf '  ok    %s\n' "$1"
	else
		printf '  FAIL  %s\n' "$1"
		fails+=("$1")
	fi
}
echo "soak.sh: report (generator exit $grc, ntad exit $nrc)"
printf '  generator sent %s, ntad rx %s tx %s, returned to the peer %s (with magic %s), %.0f s\n' \
	"$sent" "$(j .rx_packets)" "$(j .tx_packets)" "$back" "$ours" "$elapsed"
printf '  kernel: rx_dropped %s rx_ring_full %s fill_ring_empty %s; drained at exit %s; veth drops in %s back %s\n' \
	"$(j .rx_dropped)" "$(j .rx_ring_full)" "$(j .rx_fill_ring_empty_descs)" "$(j .rx_drained)" "$d_in" "$d_back"
check "ntad exited 0" "$nrc == 0"
check "generator exited 0 and sent frames" "$grc == 0 && $sent > 0"
check "sent ($sent) = seen by XDP ($seen) + veth drops in ($d_in)" "$sent == $seen + $d_in"
check "no filter: every frame redirected" "$(j '.xdp_passed + .xdp_dropped') == 0"
check "redirected = rx + rx_dropped + rx_ring_full + drained" \
	"$(j .xdp_redirected) == $(j '.rx_packets + .rx_dropped + .rx_ring_full + .rx_drained')"
check "every forwarded frame completed (tx = rx, none lost)" "$(j .tx_packets) == $(j .rx_packets) && $(j .tx_lost_at_exit) == 0"
check "tx ($(j .tx_packets)) = returned ($back, all ours) + veth drops back ($d_back)" \
	"$(j .tx_packets) == $back + $d_back && $ours == $back"
check "UMEM bytes in use at exit 0" "$(j .umem_in_use_at_exit) == 0"
check "nta_check ok, no ledger violation, no pool error" \
	"\"$(j .nta_check)\" == \"ok\" && $(j .ledger_violations) == 0 && $(j .pool_errors) == 0"
check "RSS flat: first ${rss_first} KiB, max ${rss_max} KiB, last ${rss_last} KiB (slack $rss_slack)" \
	"${#rss[@]} >= 2 && $rss_max - $rss_first <= $rss_slack"

jq -n --argjson s "$S" --arg sent "$sent" --arg back "$back" --arg ours "$ours" --arg d "$d_in" --arg db "$d_back" \
	--arg rf "$rss_first" --arg rm "$rss_max" --arg rl "$rss_last" --arg pool "$pool" \
	--arg fails "${#fails[@]}" --arg dur "$duration" --arg pk "$packets" --arg rate "$rate" \
	'{pool: $pool, duration_limit_s: ($dur|tonumber), packet_limit: ($pk|tonumber), rate: ($rate|tonumber),
	  generator_sent: ($sent|tonumber), returned: ($back|tonumber), returned_ours: ($ours|tonumber),
	  veth_drops_in: ($d|tonumber), veth_drops_back: ($db|tonumber), rss_kib: {first: ($rf|tonumber), max: ($rm|tonumber), last: ($rl|tonumber)},
	  failed_checks: ($fails|tonumber), ntad_summary: $s}' >"$outdir/report.json"
echo "soak.sh: JSON report in $outdir/report.json"
if [ ${#fails[@]} -gt 0 ]; then
	echo "soak.sh: FAILED: ${fails[*]}"
	exit 1
fi
echo "soak.sh: all checks passed"
