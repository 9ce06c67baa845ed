#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install, from Debian's packages, everything ntad's build, tests and benchmarks use.
# Idempotent: packages already present are left alone, and apt is not touched at all
# when nothing is missing. Run as root (the Makefile calls it when a tool is missing).
set -euo pipefail

pkgs=(
	make gcc clang llvm lld            # C and BPF compilers, llvm-strip
	libclang-rt-14-dev                  # ASan/UBSan/TSan and libFuzzer runtimes for clang
	pkg-config libbpf-dev libxdp-dev    # libbpf (skeletons, bpf_link), libxdp (xsk rings)
	libelf-dev zlib1g-dev linux-libc-dev
	bpftool                             # bpftool gen skeleton
	iproute2 ethtool xdp-tools          # ip netns/link, GRO/queues, xdp-bench if it works
	mandoc                              # man page lint
	tcpdump jq                          # capture checks, JSON output in tests
	iputils-ping                        # test_filter: the host still answers ping under ntad
	valgrind
	libmimalloc-dev                     # bench_nta's mimalloc row (dlopen'ed when present)
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#pkgs[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root: scripts/install-deps.sh" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
