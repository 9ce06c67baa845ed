#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# capture in tcpdump's terms: pcap-filter expressions, nanosecond files, snap
# length, -w with -C/-W rotation, and the output checked at start and at exit.
#  1. Expressions: the peer sends a mix (UDP to several ports, TCP SYNs from its
#     kernel, ARP, IPv6, VLAN, runts, truncated and malformed IPv4) while
#     tcpdump records what leaves the peer and ntad captures with an
#     expression; the frames in ntad's file are exactly those `tcpdump -r`
#     selects from the peer's file with the same expression, and so are the
#     frames the XDP program redirected (it runs the expression): ntad
#     received no other, every other frame went to the stack.
#  1b. The host keeps what the expression does not select: while ntad
#     captures 'udp port 9', ping from the peer is answered and UDP datagrams
#     to port 7000 reach a socket on the host, while those to port 9 reach
#     ntad's file and not the socket listening on 9; the file is what
#     `tcpdump -r` selects from the peer's.
#  2. Nanosecond pcap, -s 100: the magic, tcpdump and tshark read it with
#     9-digit stamps inside the run, records cut at 100 bytes.
#  3. -w -C 1: 3000 1500-byte frames in 5 files named as tcpdump's, each
#     readable (tcpdump and tshark), 3000 frames in all, byte for byte; -W 3:
#     a ring of 3 files.
#  4. Refused at start (exit 1, one line naming the path, nothing created, no
#     program attached): a missing directory, for --pcap and -w; and (exit 2,
#     one line) an expression the XDP program cannot run.
#  5. A write that fails (a 64 KiB tmpfs fills): exit 1 and a message, for the
#     flight recorder (no file left) and for -w (the file readable up to the
#     last committed frame).
. "$(dirname "$0")/lib.sh"
net_init
net_veth
command -v tcpdump >/dev/null || skip "tcpdump missing; run scripts/install-deps.sh"
command -v tshark >/dev/null || skip "tshark missing; run scripts/install-deps.sh"
CHECK_TOOL=$NTAD_BUILD/tests/tools/ntad-pcap-check
# The peer's kernel sends TCP without asking ARP, whatever ntad takes.
ip -n "$NS_B" neigh replace "$DEV_IP" lladdr "$DEV_MAC" dev "$PEER" nud permanent

start() {
	bg_a NT "$NTAD" -i "$DEV" --mode capture -d 60 --json -I 0 "$@"
	wait_attached "$NT" || fail "ntad did not attach: $(cat "$TEST_TMP/NT.log")"
}

send() {
	in_b "$PEER_TOOL" send -i "$PEER" --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" --rate 20000 "$@" >/dev/null
}

# frames FILE [EXPR...]: the frames tcpdump reads, without timestamps.
frames() {
	local f=$1
	shift
	tcpdump -r "$f" -nn -t -xx "$@" 2>/dev/null
}

# stop_ref: stop the reference tcpdump; it must have lost nothing, or it is no reference.
stop_ref() {
	kill -INT "$REF"
	wait_pid "$REF" 5 || true
	grep -q '^0 packets dropped by kernel' "$TEST_TMP/REF.log" ||
		fail "the reference tcpdump lost frames, the comparison would mean nothing: $(tail -n 3 "$TEST_TMP/REF.log")"
}

mix() {
	send -n 40 --sizes 60,300,1500 --dport 53
	send -n 40 --sizes 64,576 --dport 9 --sports 1000,2000
	send -n 20 --size 100 --dport 7
	in_b "$PEER_TOOL" raw -i "$PEER" -n 24 --kind mixed --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" \
		>/dev/null
	for port in 80 443; do
		in_b timeout 0.3 bash -c "exec 3<>/dev/tcp/$DEV_IP/$port" 2>/dev/null || true
	done
	sleep 0.5
}

log "1. expressions against tcpdump -r"
for expr in 'udp dst port 53' 'udp' 'tcp' 'not udp' 'arp or ip6' 'vlan' 'greater 1000' \
	'tcp dst port 443 or udp port 7' 'udp port 9' 'ip[6:2] & 0x1fff != 0 or ip[0] & 0xf < 5'; do
	rm -f "$TEST_TMP"/ref.pcap "$TEST_TMP"/cap.pcap
	# shellcheck disable=SC2086 # the expression is the trailing arguments, as for tcpdump
	start --pcap "$TEST_TMP/cap.pcap" $expr
	bg_b REF tcpdump -i "$PEER" -Q out -nn -U --immediate-mode -B 65536 -w "$TEST_TMP/ref.pcap"
	for _ in $(seq 50); do grep -q 'listening on' "$TEST_TMP/REF.log" && break; sleep 0.1; done
	mix
	stop_ref
	stop_ntad "$expr" ".pcap_errors == 0" ".pcap_failed == 0"
	want=$(tcpdump -r "$TEST_TMP/ref.pcap" -nn "$expr" 2>/dev/null | wc -l)
	all=$(tcpdump -r "$TEST_TMP/ref.pcap" -nn 2>/dev/null | wc -l)
	[ "$want" -gt 0 ] && [ "$want" -lt "$all" ] ||
		fail "$expr: a test that cannot fail: tcpdump selects $want of $all frames"
	diff <(frames "$TEST_TMP/ref.pcap" "$expr") <(frames "$TEST_TMP/cap.pcap") >"$TEST_TMP/diff" ||
		fail "$expr: ntad's file differs from tcpdump -r: $(head -n 20 "$TEST_TMP/diff")"
	log "$expr: $want of $all frames, as tcpdump -r selects"
	# The kernel's choice is the expression's: ntad received those frames and no other.
	check_summary "$expr" "$S" ".xdp_matched == $want" ".xdp_redirected == $want" ".rx_packets == $want" \
		".xdp_passed == $all - $want" ".xdp_dropped == 0"
done

log "1b. the host keeps what 'udp port 9' does not select"
rm -f "$TEST_TMP"/ref.pcap "$TEST_TMP"/cap.pcap
bg_a U7000 socat -u UDP-RECV:7000 "OPEN:$TEST_TMP/u7000.out,creat,append"
bg_a U9 socat -u UDP-RECV:9 "OPEN:$TEST_TMP/u9.out,creat,append"
start -w "$TEST_TMP/cap.pcap" udp port 9
bg_b REF tcpdump -i "$PEER" -Q out -nn -U --immediate-mode -B 65536 -w "$TEST_TMP/ref.pcap"
for _ in $(seq 50); do grep -q 'listening on' "$TEST_TMP/REF.log" && break; sleep 0.1; done
out=$(in_b ping -c 3 -i 0.2 -W 1 "$DEV_IP" 2>&1) || fail "ping while capturing 'udp port 9' failed: $out"
for i in $(seq 10); do
	echo "to 7000 #$i" | in_b socat -u - "UDP-SENDTO:$DEV_IP:7000"
	echo "to 9 #$i" | in_b socat -u - "UDP-SENDTO:$DEV_IP:9"
done
sleep 0.5
stop_ref
stop_ntad "udp port 9" ".pcap_failed == 0" ".xdp_redirected == 10" ".rx_packets == 10"
n7000=$(wc -l <"$TEST_TMP/u7000.out")
n9=$(wc -l <"$TEST_TMP/u9.out" 2>/dev/null || echo 0)
[ "$n7000" = 10 ] || fail "the host's socket on 7000 got $n7000 of 10 datagrams while ntad captured 'udp port 9'"
[ "$n9" = 0 ] || fail "the host's socket on 9 got $n9 datagrams: the XDP program passed frames 'udp port 9' selects"
n=$(tcpdump -r "$TEST_TMP/cap.pcap" -nn 2>/dev/null | wc -l)
[ "$n" = 10 ] && [ "$(tcpdump -r "$TEST_TMP/cap.pcap" -nn 'udp port 9' 2>/dev/null | wc -l)" = 10 ] ||
	fail "ntad's file holds $n frames, want the 10 to port 9"
diff <(frames "$TEST_TMP/ref.pcap" udp port 9) <(frames "$TEST_TMP/cap.pcap") >"$TEST_TMP/diff" ||
	fail "udp port 9: ntad's file differs from tcpdump -r: $(head -n 20 "$TEST_TMP/diff")"
passed=$(jq -r .xdp_passed <<<"$S")
log "ping answered, 10/10 datagrams to 7000 on the host, 10/10 to 9 in the file and none on the host; $passed frames passed to the stack"

log "2. nanosecond pcap, -s 100"
t0=$(date +%s)
start --pcap "$TEST_TMP/ns.pcap" -s 100 udp
send -n 100 --size 1500
sleep 0.3
stop_ntad "ns" ".pcap_packets == 100"
t1=$(date +%s)
[ "$(od -An -tx1 -N4 "$TEST_TMP/ns.pcap" | tr -d ' ')" = 4d3cb2a1 ] || fail "not the nanosecond pcap magic"
[ "$(stat -c %s "$TEST_TMP/ns.pcap")" = $((24 + 100 * (16 + 100))) ] || fail "records not cut at 100 bytes"
read -r caplen len < <(od -An -tu4 -j 32 -N 8 "$TEST_TMP/ns.pcap")
[ "$caplen $len" = "100 1500" ] || fail "first record: caplen $caplen len $len, want 100 1500"
tcpdump -r "$TEST_TMP/ns.pcap" -nn --time-stamp-precision nano -tt 2>/dev/null |
	awk -v a="$t0" -v b="$t1" '{ n = split($1, p, ".") }
		n != 2 || length(p[2]) != 9 || $1 < a || $1 > b + 1 { bad++ } END { exit bad || NR != 100 }' ||
	fail "tcpdump: stamps not nanoseconds within the run: $(tcpdump -r "$TEST_TMP/ns.pcap" -tt --nano 2>&1 | head -n 3)"
n=$(tshark -r "$TEST_TMP/ns.pcap" -T fields -e frame.time_epoch -e frame.cap_len 2>/dev/null |
	grep -c '^[0-9]*\.[0-9]\{9\}	100$') || true
[ "$n" = 100 ] || fail "tshark reads $n of 100 frames with ns stamps and 100 bytes"

log "3. -w -C 1, then -W 3"
N=3000
start -w "$TEST_TMP/rot.pcap" -C 1 udp
send -n "$N" --size 1500
sleep 0.5
stop_ntad "-C" ".pcap_packets == $N" ".pcap_failed == 0" ".held_packets == 0"
names=$(cd "$TEST_TMP" && ls rot.pcap* | sort | tr '\n' ' ')
[ "$names" = "rot.pcap rot.pcap1 rot.pcap2 rot.pcap3 rot.pcap4 " ] || fail "-C 1: files $names"
total=0
for f in "$TEST_TMP"/rot.pcap "$TEST_TMP"/rot.pcap{1,2,3,4}; do
	n=$(tcpdump -r "$f" -nn 2>/dev/null | wc -l)
	[ "$(tshark -r "$f" 2>/dev/null | wc -l)" = "$n" ] || fail "$f: tshark does not read the $n frames tcpdump reads"
	size=$(stat -c %s "$f")
	[ "$size" -le $((1000000 + 1516 + 16)) ] || fail "$f: $size bytes, more than -C 1 allows"
	"$CHECK_TOOL" "$f" -n "$n" --size 1500 --start-seq "$total" --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" \
		>/dev/null || fail "$f: not frames $total.. as sent"
	total=$((total + n))
done
[ "$total" = "$N" ] || fail "-C 1: $total frames in the files, $N sent"
rm -f "$TEST_TMP"/rot.pcap*
start -w "$TEST_TMP/rot.pcap" -C 1 -W 3 udp
send -n "$N" --size 1500
sleep 0.5
stop_ntad "-W" ".pcap_packets == $N" ".pcap_failed == 0"
names=$(cd "$TEST_TMP" && ls rot.pcap* | sort | tr '\n' ' ')
[ "$names" = "rot.pcap0 rot.pcap1 rot.pcap2 " ] || fail "-W 3: files $names"
for f in "$TEST_TMP"/rot.pcap{0,1,2}; do
	tcpdump -r "$f" -nn >/dev/null 2>&1 || fail "$f: tcpdump cannot read it"
done
# 3000 frames of 1516 bytes fill files 0 1 2 3 4 (660 each), so file 4 lands on PATH1 and holds the last ones.
n=$(tcpdump -r "$TEST_TMP/rot.pcap1" -nn 2>/dev/null | wc -l)
"$CHECK_TOOL" "$TEST_TMP/rot.pcap1" -n "$n" --size 1500 --start-seq $((N - n)) --src-mac "$PEER_MAC" \
	--dst-mac "$DEV_MAC" >/dev/null || fail "-W 3: rot.pcap1 does not hold the last $n frames"

log "4. refused at start"
for opt in --pcap -w; do
	rc=0
	in_a "$NTAD" -i "$DEV" --mode capture -d 5 "$opt" "$TEST_TMP/no/such/x.pcap" >"$TEST_TMP/out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "$opt into a missing directory: exit $rc: $(cat "$TEST_TMP/out")"
	[ "$(wc -l <"$TEST_TMP/out")" = 1 ] && grep -q "$TEST_TMP/no/such/x.pcap: cannot write it" "$TEST_TMP/out" ||
		fail "$opt: not one line naming the path: $(cat "$TEST_TMP/out")"
	! xdp_prog_on "$NS_A" "$DEV" || fail "$opt: XDP program left on $DEV"
done
for expr in 'ip6 protochain 6' 'inbound'; do
	rc=0
	# shellcheck disable=SC2086 # the expression is the trailing arguments
	in_a "$NTAD" -i "$DEV" --mode capture -d 5 $expr >"$TEST_TMP/out" 2>&1 || rc=$?
	[ "$rc" = 2 ] && [ "$(wc -l <"$TEST_TMP/out")" = 1 ] && grep -q "capture filter '$expr': instruction" "$TEST_TMP/out" ||
		fail "'$expr': exit $rc, want 2 and one line: $(cat "$TEST_TMP/out")"
	! xdp_prog_on "$NS_A" "$DEV" || fail "'$expr': XDP program left on $DEV"
done
mkdir "$TEST_TMP/isdir"
rc=0
in_a "$NTAD" -i "$DEV" --mode capture -d 5 --pcap "$TEST_TMP/isdir" >"$TEST_TMP/out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "Is a directory" "$TEST_TMP/out" || fail "--pcap DIR: exit $rc: $(cat "$TEST_TMP/out")"
[ -z "$(ls -A "$TEST_TMP/isdir")" ] && [ ! -e "$TEST_TMP/isdir.tmp" ] || fail "--pcap DIR left files behind"

log "5. a write that fails"
mkdir "$TEST_TMP/small"
mount -t tmpfs -o size=64k tmpfs "$TEST_TMP/small"
at_exit umount "$TEST_TMP/small"
for opt in --pcap -w; do
	start "$opt" "$TEST_TMP/small/x.pcap" udp
	# Slowly, so that -w writes small batches and fills the file up to the last one that fits.
	in_b "$PEER_TOOL" send -i "$PEER" --src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" --rate 400 -n 200 \
		--size 1500 >/dev/null
	sleep 0.3
	kill -TERM "$NT"
	rc=0
	wait_pid "$NT" 10 || rc=$?
	[ "$rc" = 1 ] || fail "$opt on a full file system: exit $rc: $(tail -n 3 "$TEST_TMP/NT.log")"
	grep -q "small/x.pcap: captured frames were not written (No space left on device" "$TEST_TMP/NT.log" ||
		fail "$opt: no message: $(grep -v '^{' "$TEST_TMP/NT.log")"
	summary_ok "$opt full" ".pcap_failed == 1" ".pcap_errors > 0"
	if [ "$opt" = --pcap ]; then
		[ -z "$(ls -A "$TEST_TMP/small")" ] || fail "--pcap: a failed write left $(ls "$TEST_TMP/small")"
	else
		n=$(tcpdump -r "$TEST_TMP/small/x.pcap" -nn 2>/dev/null | wc -l)
		[ "$n" -gt 0 ] && [ "$n" -lt 200 ] || fail "-w: $n frames readable in the full file"
		"$CHECK_TOOL" "$TEST_TMP/small/x.pcap" -n "$n" --size 1500 --src-mac "$PEER_MAC" \
			--dst-mac "$DEV_MAC" >/dev/null || fail "-w: the full file is not the first $n frames"
		rm -f "$TEST_TMP/small/x.pcap"
	fi
done
log "ok"
