#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# docs/ntad.8 and docs/libntad.3: lint clean (mandoc -Tlint, warnings and up);
# ntad.8 documents every long option `ntad --help` lists and every JSON field
# the summary has.
set -eu
top=${NTAD_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${NTAD_BUILD:-$top/build}
page=$top/docs/ntad.8

command -v mandoc >/dev/null || { echo "SKIP: mandoc missing; run scripts/install-deps.sh"; exit 77; }
[ -x "$build/ntad" ] || { echo "SKIP: $build/ntad not built; run make"; exit 77; }

for p in "$page" "$top/docs/libntad.3"; do
	out=$(mandoc -Tlint -Wwarning "$p" 2>&1) || { echo "FAIL: mandoc -Tlint: $out"; exit 1; }
	[ -z "$out" ] || { echo "FAIL: mandoc -Tlint: $out"; exit 1; }
done

text=$(mandoc -Tascii "$page" | col -b)
missing=0
for opt in $("$build/ntad" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	grep -q -- "$opt" <<<"$text" || { echo "FAIL: ntad.8 does not document $opt"; missing=1; }
done
for field in rx_packets rx_bytes tx_packets tx_bytes rx_pps tx_pps rx_bps tx_bps rx_dropped \
	rx_invalid_descs rx_ring_full rx_fill_ring_empty_descs tx_invalid_descs tx_ring_empty_descs \
	xdp_redirected xdp_passed xdp_dropped verify_valid verify_invalid umem_size umem_in_use \
	umem_free umem_largest_free elapsed umem_in_use_at_exit nta_check; do
	grep -q "$field" <<<"$text" || { echo "FAIL: ntad.8 does not name JSON field $field"; missing=1; }
done
[ $missing -eq 0 ] || exit 1
echo "ntad.8, libntad.3: lint clean; ntad.8 documents all options and fields"
