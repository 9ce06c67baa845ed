#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# txonly: ntad generates exactly N frames; the peer checks every payload
# (sequence, length field, checksum) and a capture checks the frame sizes:
# IMIX (64/576/1500 at 7:4:1) with both pools, frames written once and stamped
# (12,000 frames through a 2,048-slot TX ring: each one sent several times) and
# written whole (--payload full), a fixed size with the fixed pool, and a
# rate-limited run that must take at least count/rate seconds.
. "$(dirname "$0")/lib.sh"
net_init
net_veth

command -v tcpdump >/dev/null || skip "tcpdump missing; run scripts/install-deps.sh"

# run NAME N EXPECTED_SIZES NTAD-ARGS...: EXPECTED_SIZES is "len:count ..."
run() {
	local name=$1 n=$2 want=$3 out got
	shift 3
	log "$name"
	rm -f "$TEST_TMP/cap.pcap"
	# -B: a 64 MiB capture buffer holds a whole run (at most 12000 frames of up
	# to 1514 bytes), so a busy machine cannot make tcpdump drop frames.
	bg_b CAP tcpdump -i "$PEER" -nn -U -B 65536 -c "$n" -w "$TEST_TMP/cap.pcap" udp port 9
	for _ in $(seq 100); do
		grep -q "listening on" "$TEST_TMP/CAP.log" && break
		sleep 0.05
	done
	bg_b RX "$PEER_TOOL" recv -i "$PEER" -n "$n" --timeout 3000
	sleep 0.3
	out=$(in_a "$NTAD" -i "$DEV" --mode txonly -n "$n" --src-mac "$DEV_MAC" --dst-mac "$PEER_MAC" \
		--json -I 0 "$@" 2>&1) || fail "$name: ntad failed: $out"
	s=$(grep '"type":"summary"' <<<"$out") || fail "$name: no summary: $out"
	log "$s"
	check_summary "$name" "$s" ".tx_packets == $n" ".tx_submitted == $n" ".tx_lost_at_exit == 0" \
		'.stop == "count"'
	rc=0
	wait_pid "$RX" 15 || rc=$?
	log "peer: $(tail -n 1 "$TEST_TMP/RX.log")"
	[ $rc -eq 0 ] || fail "$name: peer exited with $rc: $(tail -n 3 "$TEST_TMP/RX.log")"
	grep -q "received=$n valid=$n invalid=0 dup=0 reordered=0 lost=0" "$TEST_TMP/RX.log" ||
		fail "$name: peer saw $(tail -n 1 "$TEST_TMP/RX.log")"
	# tcpdump stops by itself after n frames (-c), once all are written.
	wait_pid "$CAP" 10 || fail "$name: capture did not see $n frames: $(tail -n 3 "$TEST_TMP/CAP.log")"
	got=$(tcpdump -r "$TEST_TMP/cap.pcap" -nn -e 2>/dev/null |
		sed -n 's/.*, length \([0-9]*\): .*/\1/p' | sort -n | uniq -c | awk '{printf "%s:%s ", $2, $1}')
	[ "${got% }" = "$want" ] || fail "$name: frame sizes on the wire '${got% }', expected '$want'"
	echo "$s" >"$TEST_TMP/last.json"
}

run "imix, nta" 12000 "64:7000 576:4000 1500:1000" --imix --pool nta
run "imix, fixed pool" 12000 "64:7000 576:4000 1500:1000" --imix --pool fixed
run "imix, nta, every frame written whole" 12000 "64:7000 576:4000 1500:1000" --imix --payload full
run "size 1000, fixed pool" 5000 "1000:5000" --size 1000 --pool fixed
run "size 200 at 20000 pps" 4000 "200:4000" --size 200 --rate 20000
jq -e '.elapsed >= 0.18' "$TEST_TMP/last.json" >/dev/null ||
	fail "4000 frames at 20000 pps took under 0.18 s: $(cat "$TEST_TMP/last.json")"
log "ok"
