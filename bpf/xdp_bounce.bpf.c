// SPDX-License-Identifier: MIT
/*
 * xdp_bounce.bpf.c - send every frame back unchanged (XDP_TX, no MAC swap).
 *
 * A deliberately broken l2fwd: tests/net/test_peer.sh uses it to check that
 * `ntad-peer echo --expect-swapped-macs` notices frames whose MACs were not
 * swapped. Frags-aware like the other helper programs, for jumbo MTUs.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp.frags")
int xdp_bounce(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
