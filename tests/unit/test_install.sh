#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make install as a user of the library does it: into a temporary prefix,
# then an example compiled with nothing but
#   cc ex.c $(pkg-config --cflags --libs libntad)
# runs against the installed shared library (its usage line proves it loaded).
# A DESTDIR install puts the same files under the staging root, with the
# prefix (not the staging root) in the pkg-config files and the systemd unit.
set -eu
top=${NTAD_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${NTAD_BUILD:-$top/build}
command -v pkg-config >/dev/null || { echo "SKIP: pkg-config missing; run scripts/install-deps.sh"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

make -s -C "$top" B="$build" install PREFIX="$tmp/prefix" >"$tmp/install.log" 2>&1 ||
	{ echo "FAIL: make install: $(tail -n 20 "$tmp/install.log")"; exit 1; }
for f in include/ntad.h include/ntad_bpf.h include/ntad_pkt.h include/nta.h include/nta_mt.h \
	lib/libntad.a lib/libnta.a lib/libntad.so lib/libntad.so.0 lib/libnta.so lib/libnta.so.0 \
	lib/pkgconfig/libntad.pc lib/pkgconfig/libnta.pc sbin/ntad share/man/man8/ntad.8 \
	share/man/man3/libntad.3 lib/systemd/system/ntad@.service; do
	[ -e "$tmp/prefix/$f" ] || { echo "FAIL: make install did not install $f"; exit 1; }
done
soname=$(objdump -p "$tmp/prefix/lib/libntad.so" | awk '/SONAME/ { print $2 }')
[ "$soname" = libntad.so.0 ] || { echo "FAIL: libntad.so has soname '$soname', not libntad.so.0"; exit 1; }
# Only the public API leaves the shared library.
if nm -D --defined-only "$tmp/prefix/lib/libntad.so" | grep -E ' T ntad_(path|chain|pools?|ledger|sock|xdp|txchains)_'; then
	echo "FAIL: libntad.so exports internal symbols"; exit 1
fi

export PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig
# A sanitizer build (make SANITIZE=1, TSAN=1) installs sanitized libraries: a
# program linked to them needs the same runtime first.
san=
ldd "$tmp/prefix/lib/libntad.so" | grep -q libasan && san=-fsanitize=address,undefined
ldd "$tmp/prefix/lib/libntad.so" | grep -q libtsan && san=-fsanitize=thread
for ex in udp_echo flow_count; do
	# shellcheck disable=SC2046 # word splitting of pkg-config's output is the point
	cc $san -o "$tmp/$ex" "$top/examples/$ex.c" $(pkg-config --cflags --libs libntad) ||
		{ echo "FAIL: $ex does not build against the installed copy"; exit 1; }
	rc=0
	out=$(LD_LIBRARY_PATH=$tmp/prefix/lib "$tmp/$ex" 2>&1) || rc=$?
	[ $rc -eq 2 ] && grep -q "usage: .*$ex IFACE" <<<"$out" ||
		{ echo "FAIL: $ex from the installed copy: exit $rc: $out"; exit 1; }
	LD_LIBRARY_PATH=$tmp/prefix/lib ldd "$tmp/$ex" | grep -q "libntad.so.0 => $tmp/prefix/lib/" ||
		{ echo "FAIL: $ex is not linked to the installed libntad.so.0"; exit 1; }
done

make -s -C "$top" B="$build" install PREFIX=/usr DESTDIR="$tmp/stage" >"$tmp/stage.log" 2>&1 ||
	{ echo "FAIL: make install DESTDIR: $(tail -n 20 "$tmp/stage.log")"; exit 1; }
grep -qx 'prefix=/usr' "$tmp/stage/usr/lib/pkgconfig/libntad.pc" ||
	{ echo "FAIL: DESTDIR leaked into libntad.pc"; exit 1; }
grep -q '^ExecStart=/usr/sbin/ntad -i %i \$NTAD_OPTS$' "$tmp/stage/usr/lib/systemd/system/ntad@.service" ||
	{ echo "FAIL: ntad@.service: $(grep ExecStart "$tmp/stage/usr/lib/systemd/system/ntad@.service")"; exit 1; }
echo "install: headers, libraries (soname libntad.so.0), pkg-config, ntad, man pages, unit; examples build and load"
