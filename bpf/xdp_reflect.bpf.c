// SPDX-License-Identifier: MIT
/*
 * xdp_reflect.bpf.c - send every frame back where it came from, MACs swapped.
 *
 * A stand-in for ntad's l2fwd made of nothing but XDP_TX, so the tests of the
 * peer tool (tests/net/test_peer.sh) can check `ntad-peer echo` against a
 * reflector whose behaviour is not in question. Frames too short to swap are
 * passed to the stack untouched. Frags-aware for the same reason as xdp_pass:
 * veth keeps jumbo MTUs possible with it attached.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

SEC("xdp.frags")
int xdp_reflect(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	unsigned char tmp[ETH_ALEN];

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
