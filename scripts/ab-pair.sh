# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# ab-pair.sh - what the scripts that compare builds or tools (bench-ab.sh,
# bench-instr.sh, bench-netem.sh, bench-capture.sh) share, sourced after they
# set top and die: one veth pair in two namespaces of their own, removed at
# exit together with a scratch directory and the generator, and the generator
# itself: ntad -m txonly on the peer, sending into DEV (XDP live frames, which
# ntad-gen needs, are refused by some kernels: docs/PLATFORM.md); the checks
# of the options they have in common, and a median.
#
#   pair_setup TAG BUILD      ns_a ns_b dev peer dev_mac peer_mac tmp; EXIT trap
#   gen_start BUILD SIZE CPU  the generator, pinned to CPU, until gen_stop
#   gen_imix BUILD NS IF DST_MAC RATE SEC CPU LOG [ARGS...]
#                             ntad -m txonly --imix --rate RATE (frames written
#                             once and stamped) out of IF for SEC, pinned to
#                             CPU, in the foreground; its JSON summary in LOG
#   parse_opts "OPT..." ARGS  --OPT VALUE for each OPT named sets $OPT (dashes
#                             as _); -h/--help runs usage; anything else dies
#   check_build CMD...        $build made absolute, with ntad and bpf/; root;
#                             the commands named installed; or die
#   tool_order R LIST         order=(): the comma LIST, reversed when R is odd
#   drop_tool NAME WHY        NAME out of $tools, saying "NAME: skipped: WHY";
#                             exit 0 when no tool is left
#   common_usage              --help's lines of the options below
#   check_common_opts         --rates, --runs, --duration, --gen-cpu, --ntad-cpu
#                             (rates runs duration gen_cpu ntad_cpu) or die
#   wait_xdp NS DEV PID       until an XDP program is on DEV in NS (ntad attached;
#                             a large UMEM takes seconds), 30 s at most, or PID gone
#   summary_field LOG FIELD   FIELD of the ntad JSON summary in LOG, or 0
#   median                    the median of the numbers on stdin, or "-"
#   cg_per_packet OUT LOG N   callgrind's instructions per packet of the queue
#                             thread (bench-instr.sh, bench-delay.sh --callgrind)

gen_pid=
gen_stop() {
	if [ -n "$gen_pid" ]; then
		kill "$gen_pid" 2>/dev/null
		wait "$gen_pid" 2>/dev/null
	fi
	gen_pid=
}

_pair_cleanup() {
	gen_stop
	"$top/scripts/setup-veth.sh" teardown --dev "$dev" --dev-netns "$ns_a" --peer "$peer" \
		--netns "$ns_b" >/dev/null 2>&1
	rm -rf "$tmp"
}

pair_setup() {
	ns_a=ntad-a-$1 ns_b=ntad-b-$1 dev=n$1 peer=n${1}p
	tmp=$(mktemp -d)
	trap _pair_cleanup EXIT
	"$top/scripts/setup-veth.sh" setup --dev "$dev" --dev-netns "$ns_a" --peer "$peer" --netns "$ns_b" \
		--build "$2" >/dev/null || die "cannot make the veth pair"
	dev_mac=$(ip -n "$ns_a" -j link show dev "$dev" | jq -r '.[0].address')
	peer_mac=$(ip -n "$ns_b" -j link show dev "$peer" | jq -r '.[0].address')
}

gen_start() {
	ip netns exec "$ns_b" taskset -c "$3" "$1/ntad" -i "$peer" -m txonly --size "$2" \
		--dst-mac "$dev_mac" -d 600 --interval 0 >/dev/null 2>&1 &
	gen_pid=$!
}

gen_imix() {
	ip netns exec "$2" taskset -c "$7" "$1/ntad" -i "$3" -m txonly --imix --rate "$5" --dst-mac "$4" \
		-d "$6" --interval 0 --json "${@:9}" >"$8" 2>&1
}

parse_opts() {
	local allowed=" $1 " v
	shift
	while [ $# -gt 0 ]; do
		case "$1" in
		-h|--help) usage; exit 0 ;;
		--*)
			v=${1#--}
			[[ "$allowed" == *" $v "* ]] || die "unknown option '$1' (see --help)"
			[ $# -ge 2 ] || die "$1 needs a value"
			printf -v "${v//-/_}" '%s' "$2"
			shift ;;
		*) die "unknown option '$1' (see --help)" ;;
		esac
		shift
	done
}

# shellcheck disable=SC2154,SC2015 # the caller's options; A && B || die
check_build() {
	local t
	build=$(cd "$build" 2>/dev/null && pwd) || die "no build tree '$build'; run make first"
	[ -x "$build/ntad" ] && [ -f "$build/bpf/xdp_pass.bpf.o" ] || die "$build has no ntad or bpf/; run make"
	[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, XDP)"
	for t in jq taskset ip awk "$@"; do
		command -v "$t" >/dev/null || die "'$t' not found; run scripts/install-deps.sh"
	done
}

tool_order() {
	local i list
	IFS=, read -r -a list <<<"$2"
	order=()
	for ((i = 0; i < ${#list[@]}; i++)); do
		if (($1 % 2)); then order+=("${list[${#list[@]} - 1 - i]}"); else order+=("${list[i]}"); fi
	done
}

drop_tool() {
	echo "$(basename "$0"): $1: skipped: $2"
	tools=$(tr , '\n' <<<"$tools" | grep -vx -- "$1" | paste -sd,)
	[ -n "$tools" ] || exit 0
}

common_usage() {
	cat <<'EOF'
  --runs N           repetitions (default 3)
  --duration SEC     traffic per run (default 3)
  --gen-cpu N        generator CPU (default 0); --ntad-cpu N: the tool's (default 1)
  -h, --help         this text
EOF
}

# shellcheck disable=SC2154,SC2015 # the caller's options; A && B || die
check_common_opts() {
	local c ncpu
	[[ "$rates" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] ||
		die "--rates '$rates': give packets per second, comma separated (say 300000,1000000)"
	[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs '$runs': give a positive whole number"
	[[ "$duration" =~ ^[1-9][0-9]*$ ]] && [ "$duration" -le 600 ] ||
		die "--duration '$duration': give 1..600 whole seconds"
	ncpu=$(nproc)
	for c in "$gen_cpu" "$ntad_cpu"; do
		[[ "$c" =~ ^[0-9]+$ ]] && [ "$c" -lt "$ncpu" ] || die "CPU '$c': this machine has CPUs 0..$((ncpu - 1))"
	done
}

wait_xdp() {
	local i
	for ((i = 0; i < 300; i++)); do
		ip -n "$1" -j link show dev "$2" 2>/dev/null | jq -e '.[0].xdp' >/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

summary_field() {
	jq -r "select(.type == \"summary\") | .$2 // 0" "$1" 2>/dev/null | tail -1 | grep . || echo 0
}

median() {
	sort -g | awk '{ v[NR] = $1 } END { if (!NR) print "-"; else print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# The queue thread's inclusive instructions in callgrind file OUT / N, or "-"
# (status 1) when the run, whose JSON output is LOG, did not stop on its count.
cg_per_packet() {
	local sym ir
	# The queue thread's entry: ntad_worker_thread (libntad), ntad_engine_thread before it.
	sym=$(callgrind_annotate --inclusive=yes "$1" 2>/dev/null |
		grep -E ' [^ ]*:ntad_(worker|engine)_thread ' | head -n 1)
	ir=$(awk '{ gsub(",", "", $1); print $1 }' <<<"$sym")
	if [ -z "$ir" ] || ! grep -q '"stop":"count"' "$2"; then
		echo -
		return 1
	fi
	echo $((ir / $3))
}
