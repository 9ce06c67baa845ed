#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The examples of examples/, on the public API alone, with real traffic:
#  1. udp_echo: sequence-numbered UDP frames to port 7 come back from the
#     engine with MACs, addresses and ports swapped, every one intact (the
#     peer checks payload, length and checksums); a datagram from the peer's
#     kernel stack through socat is answered too (the kernel accepts the
#     reply as a datagram for its socket); traffic to another port and ARP stay
#     with the kernel; the count printed at exit is exact.
#  2. flow_count: 3 x 1000 frames on three UDP source ports are counted as
#     three flows of exactly 1000 packets and their bytes.
. "$(dirname "$0")/lib.sh"
net_init
net_veth
command -v socat >/dev/null || skip "socat missing; run scripts/install-deps.sh"
EX=$NTAD_BUILD/examples
N=2000

stop_example() { # PID NAME: SIGINT, exit 0 within 5 s, nothing left attached
	kill -INT "$1"
	wait_pid "$1" 5 || fail "$2: did not exit 0 on SIGINT: $(cat "$TEST_TMP/$2.log")"
	! xdp_prog_on "$NS_A" "$DEV" || fail "$2: XDP program left on $DEV"
}

log "1. udp_echo"
bg_a EC "$EX/udp_echo" "$DEV" 7
wait_attached "$EC" || fail "udp_echo did not attach: $(cat "$TEST_TMP/EC.log")"
out=$(in_b "$PEER_TOOL" echo -i "$PEER" -n $N --sizes 64,576,1500 --dport 7 --expect-swapped-macs \
	--src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" --src-ip "$PEER_IP" --dst-ip "$DEV_IP" 2>&1) ||
	fail "udp_echo: peer: $out"
grep -q "received=$N valid=$N invalid=0 dup=0 .*lost=0" <<<"$out" || fail "udp_echo: peer saw: $out"
# A veth leaves a UDP checksum for the receiver to finish (checksum offload);
# echoed as it is, the peer's stack would drop it, as no NIC would send it.
in_b ethtool -K "$PEER" tx off >/dev/null
reply=$(in_b timeout 5 socat -T 2 - "UDP:$DEV_IP:7" <<<"hello from the peer's kernel") ||
	fail "udp_echo: socat got no reply"
[ "$reply" = "hello from the peer's kernel" ] || fail "udp_echo: socat got '$reply'"
# Port 9 is not the example's: the kernel's stack answers it (ICMP port unreachable).
out=$(in_b "$PEER_TOOL" echo -i "$PEER" -n 10 --dport 9 --timeout 300 \
	--src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" --src-ip "$PEER_IP" --dst-ip "$DEV_IP" 2>&1) &&
	fail "udp_echo: frames to port 9 came back: $out"
stop_example "$EC" EC
grep -q "udp_echo: $((N + 1)) datagrams echoed" "$TEST_TMP/EC.log" ||
	fail "udp_echo: expected $((N + 1)) echoed: $(cat "$TEST_TMP/EC.log")"

log "2. flow_count"
bg_a FC "$EX/flow_count" "$DEV"
wait_attached "$FC" || fail "flow_count did not attach: $(cat "$TEST_TMP/FC.log")"
in_b "$PEER_TOOL" send -i "$PEER" -n 3000 --size 128 --sports 47000,47001,47002 --rate 20000 \
	--src-mac "$PEER_MAC" --dst-mac "$DEV_MAC" --src-ip "$PEER_IP" --dst-ip "$DEV_IP" >/dev/null ||
	fail "flow_count: sender failed"
sleep 0.5 # the last frames may still be crossing the veth
stop_example "$FC" FC
for sp in 47000 47001 47002; do
	grep -qx "udp $PEER_IP:$sp > $DEV_IP:9 packets 1000 bytes 128000" "$TEST_TMP/FC.log" ||
		fail "flow_count: no exact line for port $sp: $(cat "$TEST_TMP/FC.log")"
done
log "ok"
