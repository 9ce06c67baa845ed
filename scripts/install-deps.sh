#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install, from Debian's packages, everything ntad's build, tests and benchmarks use.
# Idempotent: packages already present are left alone, and apt is not touched at all
# when nothing is missing. Run as root (the Makefile calls it when a tool is missing).
#
# Then, as root, the benchmarks' xdp-bench: when the installed one fails its probe
# on the running kernel (scripts/xdp-bench-probe.sh; Debian 12's 1.3.1 does on 6.18),
# scripts/build-xdp-tools.sh builds xdp-bench and xdp-trafficgen from Debian's
# sources into BUILD/xdp-tools/bin (--build DIR, default build). That step never
# fails this script: without it only the benchmarks' xdp-bench cases are skipped.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=build
case "${1:-}" in
--build) [ $# -ge 2 ] || { echo "install-deps: --build needs a value" >&2; exit 2; }; build=$2 ;;
"") ;;
*) echo "Usage: scripts/install-deps.sh [--build DIR]" >&2; exit 2 ;;
esac

pkgs=(
	make gcc clang llvm lld            # C and BPF compilers, llvm-strip
	libclang-rt-14-dev                  # ASan/UBSan/TSan and libFuzzer runtimes for clang
	pkg-config libbpf-dev libxdp-dev    # libbpf (skeletons, bpf_link), libxdp (xsk rings)
	libelf-dev zlib1g-dev linux-libc-dev
	bpftool                             # bpftool gen skeleton
	iproute2 ethtool xdp-tools          # ip netns/link, GRO/queues, xdp-bench if it works
	libpcap-dev                         # ntad capture: filter expressions, pcap files
	m4                                  # build-xdp-tools.sh: xdp-tools' configure (and libpcap-dev)
	mandoc                              # man page lint
	tcpdump jq                          # capture checks, JSON output in tests
	tshark                              # test_capture_pcap: a second reader of the files
	socat                               # test_examples: a UDP client on the peer's kernel stack
	iputils-ping                        # test_filter: the host still answers ping under ntad
	valgrind
	libmimalloc-dev                     # bench_nta's mimalloc row (header at build, library dlopen'ed)
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#pkgs[@]} packages present"
elif [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root: scripts/install-deps.sh" >&2
	exit 1
else
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# xdp-bench for the benchmarks: the installed one if it works, else one built
# from source (quiet when already built). Not root: the probe cannot run; skip.
[ "$(id -u)" -eq 0 ] || exit 0
if ! probe=$("$top/scripts/xdp-bench-probe.sh" 2>&1); then
	echo "install-deps: installed $probe"
	"$top/scripts/build-xdp-tools.sh" --build "$build" ||
		echo "install-deps: no working xdp-bench; make bench will skip its xdp-bench cases (not an error)"
fi
exit 0
