#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench-nta-ab.sh - the allocator benchmarks of two builds in one series:
# bench_nta and bench_nta_mt of an old build and of a new one, run alternately
# (old, new, old, new...) so that a busy machine slows both alike, each run
# under flock(1) on a lock shared with every other benchmark of the machine.
# Then each build's largest in-flight count and metadata once, and a summary:
# per row, the median over the runs and [min-max].
#
#   scripts/bench-nta-ab.sh OLD_BUILD NEW_BUILD [--runs N] [--out DIR] [--lock FILE]
#
# OLD_BUILD is typically the previous commit built in its own worktree:
#   git worktree add /tmp/nta-old d82d9cc
#   make -C /tmp/nta-old build/tests/bench/bench_nta build/tests/bench/bench_nta_mt
#   scripts/bench-nta-ab.sh /tmp/nta-old/build build
# An old bench_nta_mt without the trim mode runs its only (free) mode.
set -euo pipefail

[ $# -ge 2 ] || { sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
old=$(cd "$1" && pwd)/tests/bench
new=$(cd "$2" && pwd)/tests/bench
shift 2
runs=3 out=$(mktemp -d /tmp/nta-ab.XXXXXX) lock=/work/bench.lock
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=$2; shift ;;
	--out) out=$2; mkdir -p "$out"; shift ;;
	--lock) lock=$2; shift ;;
	*) echo "bench-nta-ab.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done
for b in "$old" "$new"; do
	[ -x "$b/bench_nta" ] && [ -x "$b/bench_nta_mt" ] ||
		{ echo "bench-nta-ab.sh: $b: bench_nta or bench_nta_mt not built" >&2; exit 2; }
done

for i in $(seq 1 "$runs"); do
	echo "run $i $(date +%T): $(uptime)" | tee -a "$out/uptime.log"
	flock "$lock" "$old/bench_nta" 5 1000000 123 > "$out/nta-old-$i.txt"
	flock "$lock" "$new/bench_nta" 5 1000000 123 > "$out/nta-new-$i.txt"
	flock "$lock" "$old/bench_nta_mt" 5 1000000 > "$out/mt-old-$i.txt"
	flock "$lock" "$new/bench_nta_mt" 5 1000000 free > "$out/mt-new-free-$i.txt"
	flock "$lock" "$new/bench_nta_mt" 5 1000000 trim > "$out/mt-new-trim-$i.txt"
done
flock "$lock" "$old/bench_nta" 1 1000 m > "$out/nta-old-m.txt"
flock "$lock" "$new/bench_nta" 1 1000 m > "$out/nta-new-m.txt"

python3 - "$out" <<'PY'
import glob, re, statistics, sys

d = sys.argv[1]

def rng(v):
    v = [x for x in v if x is not None]
    return (statistics.median(v), min(v), max(v)) if v else None

def nta_rows(f):
    r, tr = {}, None
    for line in open(f):
        m = re.match(r'^\((i+)\)', line)
        if m:
            tr = m.group(1)
            continue
        m = re.match(r'^\s+(.+?)\s+([\d.]+) ns/packet\s+([\d.]+)x stack(?:\s+([\d.]+)x mimalloc)?', line)
        if m and tr:
            r[(tr, m.group(1).strip())] = (float(m.group(2)), float(m.group(3)),
                                           float(m.group(4)) if m.group(4) else None)
    return r

def mt_rows(f):
    r = {}
    for line in open(f):
        m = re.match(r'^(.+?(?:thread|threads|\(reference\)))\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$', line)
        if m:
            r[m.group(1)] = tuple(float(m.group(k)) for k in (2, 3, 4))
    return r

for ver in ('old', 'new'):
    rs = [nta_rows(f) for f in sorted(glob.glob(f'{d}/nta-{ver}-[0-9]*.txt'))]
    print(f'bench_nta {ver}: {len(rs)} runs')
    for k in sorted({k for r in rs for k in r}):
        v = [r[k] for r in rs if k in r]
        ns, st, mi = rng([x[0] for x in v]), rng([x[1] for x in v]), rng([x[2] for x in v])
        s = f'  ({k[0]}) {k[1]:16s} {ns[0]:7.1f} ns [{ns[1]:.1f}-{ns[2]:.1f}]  {st[0]:5.2f}x stack [{st[1]:.2f}-{st[2]:.2f}]'
        if mi:
            s += f'  {mi[0]:.2f}x mimalloc [{mi[1]:.2f}-{mi[2]:.2f}]'
        print(s)
for ver in ('old', 'new-free', 'new-trim'):
    rs = [mt_rows(f) for f in sorted(glob.glob(f'{d}/mt-{ver}-[0-9]*.txt'))]
    print(f'bench_nta_mt {ver}: {len(rs)} runs')
    for k in sorted({k for r in rs for k in r}):
        v = [r[k] for r in rs if k in r]
        m, n, l = rng([x[0] for x in v]), rng([x[1] for x in v]), rng([x[2] for x in v])
        print(f'  {k:28s} {m[0]:6.1f} Mcalls/s [{m[1]:.1f}-{m[2]:.1f}]  {n[0]:7.1f} ns/packet/thread  {l[0]:.4f} locks/packet')
    for a, b, name in (('nta_mt, 2 threads', 'nta_mt, 1 thread', 'nta_mt 2/1 threads'),
                       ('2 x nta, 2 threads', 'nta, 1 thread (reference)', 'machine 2/1 threads')):
        x = [r[a][0] / r[b][0] for r in rs if a in r and b in r]
        if x:
            print(f'  {name}: median {statistics.median(x):.2f}x, runs ' + ' '.join(f'{y:.2f}' for y in x))
PY
grep -h 'largest in flight' "$out"/nta-*-m.txt || true
echo "bench-nta-ab.sh: outputs in $out"
