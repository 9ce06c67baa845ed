/* SPDX-License-Identifier: MIT */
/*
 * ntad_bpf.h - what the XDP program (bpf/ntad.bpf.c) and the daemon share.
 *
 * Included from BPF and from user space, so it uses only the __uN types of
 * <linux/types.h> and no libc. All multi-byte fields are in host byte order; the
 * program converts what it reads from the packet.
 */
#ifndef NTAD_BPF_H
#define NTAD_BPF_H

#include <linux/types.h>
#include <linux/filter.h>

#define NTAD_MAX_QUEUES 64 /* entries of the XSKMAP: one per rx queue */
#define NTAD_MAX_RULES  16 /* entries of the rule table */
/*
 * Instructions of a classic BPF program the XDP program runs: Linux's limit
 * for socket filters (its BPF_MAXINSNS; libpcap's headers define another).
 */
#define NTAD_CBPF_MAX_INSNS 4096

/*
 * One filter rule. A packet matches a rule when every non-zero field matches;
 * ethertype is looked at behind up to two VLAN tags. ip_proto applies to IPv4
 * and IPv6, dport to UDP and TCP. The program redirects a packet to the AF_XDP
 * socket of its rx queue when any rule matches, or always when the table holds
 * no rule (nr_rules == 0); everything else goes to the kernel stack (XDP_PASS).
 */
struct ntad_rule {
	__u16 ethertype; /* e.g. 0x0800; 0: any */
	__u8 ip_proto;   /* e.g. 17 (UDP); 0: any */
	__u8 pad;
	__u16 dport;     /* UDP or TCP destination port; 0: any */
	__u16 pad2;
};

/*
 * In place of the rules, a classic BPF program (struct sock_filter: the
 * layout of libpcap's struct bpf_insn and of SO_ATTACH_FILTER's programs),
 * in the one entry of an array map; its length and the bytes of a frame it
 * may read are constants of the program. bpf/cbpf.h runs it on every frame
 * and says with which semantics; a non-zero return selects the frame.
 */
struct ntad_cbpf {
	struct sock_filter insns[NTAD_CBPF_MAX_INSNS];
};

/*
 * Per-CPU counters of the program, one array entry, summed by the daemon.
 * Every frame the program sees lands in exactly one of redirected, passed and
 * dropped. matched counts the frames the filter selected (before the XSKMAP
 * lookup), so matched - redirected is what a rule chose but no socket took:
 * it lets tests observe the filter's decision without binding a socket.
 */
struct ntad_xdp_stats {
	__u64 redirected; /* handed to an AF_XDP socket */
	__u64 passed;     /* not selected, or no socket on the queue: kernel stack */
	__u64 dropped;    /* runts shorter than an Ethernet header (XDP_DROP) */
	__u64 matched;    /* selected by the filter (all frames with no rule nor program) */
};

#endif /* NTAD_BPF_H */
