#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The test runner of ntad. Runs the chosen tiers and ends with the line
#   N passed, N failed, N skipped
# exiting non-zero when any test failed.
#
#   tests/run.sh [--build DIR] [--unit] [--net] [--fuzz SECONDS] [--filter PATTERN]
#
# A test passes with exit status 0, is skipped with 77 (it prints why), and fails
# otherwise. Unit tests are the programs built from tests/unit/*.c and the scripts
# tests/unit/*.sh; network tests are tests/net/test_*.sh and need root; fuzz
# targets run for the given seconds on their corpus in tests/fuzz/corpus/NAME.
# Each test's output goes to BUILD/test-logs/NAME.log and is shown when it fails.
set -u

build=build
unit=0 net=0 fuzz_seconds=0 filter=
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift ;;
	--unit) unit=1 ;;
	--net) net=1 ;;
	--fuzz) fuzz_seconds=$2; shift ;;
	--filter) filter=$2; shift ;;
	-h|--help) sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
build=$(cd "$build" 2>/dev/null && pwd) || { echo "run.sh: no build directory '$build'; run make first" >&2; exit 2; }
logs=$build/test-logs
mkdir -p "$logs"
export NTAD_BUILD=$build NTAD_TOP=$top

passed=0 failed=0 skipped=0 failures=()

# run NAME TIMEOUT CMD...: run one test and count its outcome.
run() {
	local name=$1 limit=$2 log="$logs/${1//\//_}.log" start rc
	shift 2
	[ -n "$filter" ] && [[ "$name" != *$filter* ]] && return 0
	start=$EPOCHREALTIME
	timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	local secs
	secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	case $rc in
	0) passed=$((passed + 1)); printf 'PASS  %-40s %6ss\n' "$name" "$secs" ;;
	77) skipped=$((skipped + 1))
	    printf 'SKIP  %-40s %6ss  %s\n' "$name" "$secs" "$(tail -n 1 "$log")" ;;
	*) failed=$((failed + 1)); failures+=("$name")
	   [ $rc -eq 124 ] && echo "run.sh: timed out after $limit s" >>"$log"
	   printf 'FAIL  %-40s %6ss  (exit %d, log %s)\n' "$name" "$secs" "$rc" "$log"
	   tail -n 30 "$log" | cut -c1-300 | sed 's/^/      | /' ;;
	esac
}

if [ $unit -eq 1 ]; then
	# The programs of today's sources: a binary left in the build tree by a
	# test since removed is not run.
	for src in tests/unit/*.c; do
		t=$build/tests/unit/$(basename "$src" .c)
		[ -x "$t" ] && run "unit/$(basename "$t")" 300 "$t"
	done
	for t in tests/unit/*.sh; do
		[ -f "$t" ] && run "unit/$(basename "$t" .sh)" 120 bash "$t"
	done
fi

if [ $net -eq 1 ]; then
	for t in tests/net/test_*.sh; do
		[ -f "$t" ] || continue
		if [ "$(id -u)" -ne 0 ]; then
			skipped=$((skipped + 1))
			printf 'SKIP  %-40s         needs root (run as root: make check-net)\n' "net/$(basename "$t" .sh)"
			continue
		fi
		run "net/$(basename "$t" .sh)" 300 bash "$t"
	done
fi

if [ "$fuzz_seconds" -gt 0 ]; then
	for f in "$build"/fuzz/*; do
		[ -x "$f" ] || continue
		name=$(basename "$f")
		corpus=tests/fuzz/corpus/$name
		work=$build/fuzz-corpus/$name
		mkdir -p "$work"
		# New inputs go to the scratch corpus in the build tree; the committed
		# corpus is read only, so a run never dirties the work tree. libFuzzer
		# exits 77 on a crash by default, which here means "skipped": say 1.
		# Crash inputs land in the build tree too.
		run "fuzz/$name" $((fuzz_seconds + 60)) "$f" -max_total_time="$fuzz_seconds" \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			-error_exitcode=1 -timeout_exitcode=1 -artifact_prefix="$work/" "$work" \
			$([ -d "$corpus" ] && echo "$corpus")
	done
fi

if [ ${#failures[@]} -gt 0 ]; then
	echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
