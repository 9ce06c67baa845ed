#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# build-xdp-tools.sh - xdp-bench and xdp-trafficgen from Debian's source packages,
# for distributions whose own xdp-tools does not run on the kernel (Debian 12's
# 1.3.1 on 6.18: docs/PLATFORM.md, "Measurement tools").
#
# Fetches the source packages xdp-tools (suite sid) and libbpf (trixie; sid's
# newer one if that does not build) with a private apt configuration under
# BUILD/xdp-tools/apt: a deb-src list of its own, with the archive URI the system
# already uses and the archive keyring, and lists, cache and state directories of
# its own. The system's apt sources and lists are never changed. apt checks the
# signed Release file and, through the Sources index it signs, every file of the
# source package; dpkg-source then checks the tarballs against the .dsc. libbpf's
# source goes into xdp-tools' lib/libbpf, and `FORCE_SUBDIR_LIBBPF=1 ./configure
# && make` links libbpf and libxdp statically into the tools (libelf, zlib and
# libc stay shared), which are copied to BUILD/xdp-tools/bin.
#
# Idempotent: when bin/ holds the tools built from the wanted versions it prints
# nothing and exits 0 without touching the network. Exit 1 with one line saying
# why when the archive cannot be reached, a package is not there, a build tool is
# missing or the build fails (the log is named); 2 on usage.
set -uo pipefail

# The versions issue 18 settled on; the Debian revision is whatever the suite has.
XDP_TOOLS_UPSTREAM=${XDP_TOOLS_UPSTREAM:-1.6.3}
XDP_TOOLS_SUITE=sid
LIBBPF_CHOICES=${LIBBPF_CHOICES:-"1.5.0:trixie 1.7.0:sid"}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

usage() {
	cat <<'EOF'
Usage: scripts/build-xdp-tools.sh [--build DIR] [--force]

  --build DIR   build tree (default build); the result is DIR/xdp-tools/bin/
                {xdp-bench,xdp-trafficgen}
  --force       fetch and build again even when the tools are there
  -h, --help    this text

Environment: DEBIAN_ARCHIVE_URI overrides the archive URI read from the system's
apt sources; XDP_TOOLS_UPSTREAM (default 1.6.3) and LIBBPF_CHOICES (default
"1.5.0:trixie 1.7.0:sid", tried in order) pick the versions.
EOF
}

say() { echo "build-xdp-tools: $*"; }
fail() { echo "build-xdp-tools: $*" >&2; exit 1; }

top=$(cd "$(dirname "$0")/.." && pwd)
build=build force=
while [ $# -gt 0 ]; do
	case "$1" in
	--build) [ $# -ge 2 ] || { usage >&2; exit 2; }; build=$2; shift ;;
	--force) force=1 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "build-xdp-tools: unknown argument '$1'; see --help" >&2; exit 2 ;;
	esac
	shift
done
case "$build" in /*) ;; *) build=$top/$build ;; esac

out=$build/xdp-tools
bin=$out/bin
apt=$out/apt
stamp=$bin/.versions
mkdir -p "$out" || fail "cannot create $out"

# One build at a time (install-deps and make bench may both ask for it).
exec 9>"$out/.lock"
flock 9

built_ok() {
	[ -x "$bin/xdp-bench" ] && [ -x "$bin/xdp-trafficgen" ] && [ -s "$stamp" ] &&
		grep -q "^xdp-tools $XDP_TOOLS_UPSTREAM-" "$stamp"
}
if [ -z "$force" ] && built_ok; then
	exit 0
fi

# ---- what the build needs ----------------------------------------------------

missing=()
for t in apt-get apt-cache dpkg-source make gcc clang m4 bpftool pkg-config readelf objcopy; do
	command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || missing+=("$t")
done
for h in libelf.h zlib.h pcap/pcap.h; do
	echo "#include <$h>" | gcc -E -x c - >/dev/null 2>&1 || missing+=("<$h>")
done
[ ${#missing[@]} -eq 0 ] || fail "missing ${missing[*]}; run scripts/install-deps.sh (m4, libpcap-dev, libelf-dev, zlib1g-dev, clang, llvm, bpftool)"
[ -r "$KEYRING" ] || fail "$KEYRING missing; install debian-archive-keyring"
PATH=$PATH:/usr/sbin # bpftool lives there on Debian

# The archive the system already uses: the first URI of a stanza (deb822) or line
# (one-line format) that is not a security suite.
archive_uri() {
	local f
	if [ -n "${DEBIAN_ARCHIVE_URI:-}" ]; then
		echo "$DEBIAN_ARCHIVE_URI"
		return
	fi
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk 'function flush() { if (u != "" && s !~ /-security/ && !found) { print u; found = 1 } u = ""; s = "" }
			/^[ \t]*$/ { flush(); next }
			/^URIs:/ { u = $2 } /^Suites:/ { s = $0 }
			END { flush() }' "$f"
	done | head -n 1 | grep . && return
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" && $0 !~ /-security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }'
}
uri=$(archive_uri)
[ -n "$uri" ] || fail "no Debian archive URI in /etc/apt/sources.list.d/*.sources or sources.list; set DEBIAN_ARCHIVE_URI"

# ---- private apt configuration -------------------------------------------------

mkdir -p "$apt/sources.list.d" "$apt/preferences.d" "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/state"
: >"$apt/sources.list"
: >"$apt/status"
suites="$XDP_TOOLS_SUITE"
for c in $LIBBPF_CHOICES; do
	[[ " $suites " == *" ${c#*:} "* ]] || suites="$suites ${c#*:}"
done
cat >"$apt/sources.list.d/debian-src.sources" <<EOF
Types: deb-src
URIs: $uri
Suites: $suites
Components: main
Signed-By: $KEYRING
EOF
cat >"$apt/apt.conf" <<EOF
Dir::Etc::SourceList "$apt/sources.list";
Dir::Etc::SourceParts "$apt/sources.list.d";
Dir::Etc::Preferences "$apt/preferences";
Dir::Etc::PreferencesParts "$apt/preferences.d";
Dir::State "$apt/state";
Dir::State::Lists "$apt/lists";
Dir::State::status "$apt/status";
Dir::Cache "$apt/cache";
APT::Sandbox::User "$(id -un)";
Acquire::Languages "none";
EOF
aptc=(-c "$apt/apt.conf" -q)
log=$out/build.log
: >"$log"

choices=$(for c in $LIBBPF_CHOICES; do printf '%s (%s), else ' "${c%%:*}" "${c#*:}"; done)
say "fetching the source of xdp-tools $XDP_TOOLS_UPSTREAM ($XDP_TOOLS_SUITE) and libbpf ${choices%, else } from the Debian archive"
apt-get "${aptc[@]}" update >>"$log" 2>&1
for s in $suites; do
	ls "$apt/lists/"*"_dists_${s}_main_source_Sources"* >/dev/null 2>&1 ||
		fail "cannot fetch the $s source index from $uri ($(grep -m1 -E '^(E|W|Err):' "$log" || echo 'see log')); see $log"
done

# newest Debian revision of UPSTREAM in SUITE's index, e.g. 1.6.3-1
src_version() {
	apt-cache "${aptc[@]}" showsrc --only-source "$1" 2>/dev/null | sed -n 's/^Version: //p' |
		grep -E "^([0-9]+:)?$(sed 's/\./\\./g' <<<"$2")-" | sort -V -r | head -n 1
}

src=$out/src
rm -rf "$src"
mkdir -p "$src"
fetch() { # PACKAGE VERSION: download and unpack into $src/PACKAGE
	(cd "$src" && apt-get "${aptc[@]}" source --download-only "$1=$2" >>"$log" 2>&1) ||
		fail "downloading $1 $2 failed ($(grep -m1 -E '^(E|W|Err):' "$log" || echo 'see log')); see $log"
	# dpkg-source checks every file against the .dsc's checksums; its signature
	# is covered by apt (the Release file signs the Sources index that lists the
	# .dsc's hash), so a missing debian-keyring's warning is not an error.
	(cd "$src" && dpkg-source -x "$1_${2#*:}.dsc" "$1" >>"$log" 2>&1) ||
		fail "unpacking $1 $2 failed (checksums?); see $log"
}

xv=$(src_version xdp-tools "$XDP_TOOLS_UPSTREAM")
[ -n "$xv" ] || fail "xdp-tools $XDP_TOOLS_UPSTREAM is not in the archive's $XDP_TOOLS_SUITE any more ($(src_version xdp-tools '[0-9.]+' | sed 's/^/it has /')); set XDP_TOOLS_UPSTREAM"
fetch xdp-tools "$xv"

# ---- build, libbpf 1.5.0 first, else the next choice -----------------------------

built= tried=()
for c in $LIBBPF_CHOICES; do
	lv=$(src_version libbpf "${c%%:*}")
	[ -n "$lv" ] || { tried+=("libbpf ${c%%:*}: not in the archive"); continue; }
	rm -rf "$src/libbpf"
	fetch libbpf "$lv"
	tree=$src/xdp-tools
	rm -rf "$tree/lib/libbpf" && mkdir -p "$tree/lib/libbpf" && cp -a "$src/libbpf/." "$tree/lib/libbpf/"
	echo "=== xdp-tools $xv with libbpf $lv" >>"$log"
	if (cd "$tree" || exit 1; make clean >/dev/null 2>&1; FORCE_SUBDIR_LIBBPF=1 ./configure && make -j"$(nproc)") >>"$log" 2>&1 &&
		[ -x "$tree/xdp-bench/xdp-bench" ] && [ -x "$tree/xdp-trafficgen/xdp-trafficgen" ]; then
		built=$lv
		break
	fi
	tried+=("libbpf $lv: build failed")
done
[ -n "$built" ] || fail "building xdp-tools $xv failed (${tried[*]}); see $log"

mkdir -p "$bin"
install -m 0755 "$src/xdp-tools/xdp-bench/xdp-bench" "$src/xdp-tools/xdp-trafficgen/xdp-trafficgen" "$bin/" ||
	fail "cannot install into $bin"
printf 'xdp-tools %s (%s)\nlibbpf %s\n' "$xv" "$XDP_TOOLS_SUITE" "$built" >"$stamp"
say "built xdp-bench and xdp-trafficgen (xdp-tools $xv, libbpf $built) in $bin"
