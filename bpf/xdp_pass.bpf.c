// SPDX-License-Identifier: MIT
/*
 * xdp_pass.bpf.c - an XDP program that passes every frame to the stack.
 *
 * It exists for its side effects on veth, not for what it does to packets:
 * attached (in driver mode) on the peer end of a pair, it gives that end NAPI,
 * which veth needs to accept frames that the other end redirects, XDP_TX's or
 * sends from an AF_XDP socket (docs/PLATFORM.md). It is frags-aware (SEC
 * "xdp.frags", loaded with BPF_F_XDP_HAS_FRAGS) because veth refuses MTUs above
 * 3506 while a program that cannot see multi-buffer frames is attached to the
 * pair; with this one jumbo MTUs stay possible.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp.frags")
int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
