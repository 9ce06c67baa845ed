// SPDX-License-Identifier: MIT
/*
 * ntad.bpf.c - the XDP program that feeds ntad's AF_XDP sockets.
 *
 * Every frame of the interface runs through ntad_xdp. Frames the filter selects
 * go to the AF_XDP socket of the queue they arrived on (xsks_map, indexed by
 * rx_queue_index); everything else, and selected frames on a queue without a
 * socket, goes to the kernel stack. bpf_redirect_map() is called with XDP_PASS
 * as its fallback so a queue nobody listens on keeps working as before.
 *
 * The filter is one of two things, chosen by read-only constants that the
 * daemon sets before load:
 * - a classic BPF program of cbpf_len instructions, which cbpf.h runs: what
 *   a pcap-filter(7) expression compiled to, selecting exactly its frames;
 * - or a small table of nr_rules rules (struct ntad_rule in ntad_bpf.h). The
 *   packet is parsed once into a key (ethertype behind up to two VLAN tags,
 *   IP protocol, L4 destination port) and the rules are compared against
 *   that key, so parsing cost does not grow with the number of rules.
 * With neither, the verifier sees both as dead code and the program is a
 * plain "redirect everything".
 *
 * Deliberate limits (of the rules; cbpf.h says what the classic program reads):
 * - IPv6 extension headers are not walked: ip_proto is the next header of the
 *   fixed header, and dport is read only when that is UDP or TCP. A UDP datagram
 *   behind a hop-by-hop header thus does not match a dport rule.
 * - IPv4 fragments other than the first carry no L4 header: they match ip_proto
 *   rules but never dport rules.
 * - The program is frags-aware (SEC "xdp.frags") so jumbo frames can reach a
 *   socket bound with XDP_USE_SG; headers are read from the linear part only,
 *   which on every driver we know holds at least the first few hundred bytes.
 *   A frame whose L3/L4 headers are not all linear matches only rules that do
 *   not look past what is there. A frame whose linear part is shorter than
 *   an Ethernet header is dropped as a runt, whatever the filter (no driver
 *   splits a frame that early, and BPF_PROG_TEST_RUN can only make runts
 *   that way).
 *
 * Counters (xdp_stats, per CPU) are described in ntad_bpf.h.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "ntad_bpf.h"
#include "cbpf.h"

#define VLAN_HLEN 4
#define MAX_VLAN_TAGS 2
#define IP_OFFSET_MASK 0x1fff /* fragment offset bits of frag_off */

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, NTAD_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NTAD_MAX_RULES);
	__type(key, __u32);
	__type(value, struct ntad_rule);
} rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ntad_xdp_stats);
} xdp_stats SEC(".maps");

/* Set by the daemon before load; entries past it in `rules` are ignored. */
const volatile __u32 nr_rules = 0;

/* What the rules are compared against. Zero means "not present". */
struct pkt_key {
	__u16 outer_type; /* ethertype of the Ethernet header (a TPID when tagged) */
	__u16 ethertype;  /* after up to two VLAN tags */
	__u8 ip_proto;    /* IPv4 protocol or IPv6 next header */
	__u8 has_ip;
	__u16 dport;      /* UDP/TCP destination port, host order */
	__u8 has_dport;
};

static __always_inline int is_vlan(__u16 type_be)
{
	return type_be == bpf_htons(ETH_P_8021Q) || type_be == bpf_htons(ETH_P_8021AD);
}

/* L4 destination port: the second 16-bit word of both UDP and TCP headers. */
static __always_inline void parse_l4(struct pkt_key *k, void *l4, void *end)
{
	__be16 *ports = l4;

	if (k->ip_proto != IPPROTO_UDP && k->ip_proto != IPPROTO_TCP)
		return;
	if ((void *)(ports + 2) > end)
		return;
	k->dport = bpf_ntohs(ports[1]);
	k->has_dport = 1;
}

static __always_inline void parse(struct pkt_key *k, void *data, void *end)
{
	struct ethhdr *eth = data;
	void *l3 = eth + 1;
	__be16 type = eth->h_proto;
	int i;

	k->outer_type = bpf_ntohs(type);
#pragma unroll
	for (i = 0; i < MAX_VLAN_TAGS; i++) {
		if (!is_vlan(type))
			break;
		if (l3 + VLAN_HLEN > end)
			return;
		/* The tag is TCI (2 bytes) then the encapsulated ethertype. */
		type = *(__be16 *)(l3 + 2);
		l3 += VLAN_HLEN;
	}
	k->ethertype = bpf_ntohs(type);

	if (type == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;
		__u32 ihl;

		if ((void *)(ip + 1) > end)
			return;
		ihl = ip->ihl * 4;
		if (ihl < sizeof(*ip))
			return; /* malformed: no protocol to speak of */
		k->ip_proto = ip->protocol;
		k->has_ip = 1;
		if (ip->frag_off & bpf_htons(IP_OFFSET_MASK))
			return; /* not the first fragment: no L4 header */
		parse_l4(k, l3 + ihl, end);
	} else if (type == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > end)
			return;
		k->ip_proto = ip6->nexthdr;
		k->has_ip = 1;
		parse_l4(k, ip6 + 1, end);
	}
}

static __always_inline int rule_matches(const struct ntad_rule *r, const struct pkt_key *k)
{
	if (r->ethertype && r->ethertype != k->ethertype && r->ethertype != k->outer_type)
		return 0;
	if (r->ip_proto && (!k->has_ip || r->ip_proto != k->ip_proto))
		return 0;
	if (r->dport && (!k->has_dport || r->dport != k->dport))
		return 0;
	return 1;
}

static __always_inline int selected(struct xdp_md *ctx, void *data, void *end)
{
	struct pkt_key k = {};
	__u32 i;

	if (cbpf_len)
		return cbpf_selects(ctx);
	if (nr_rules == 0)
		return 1;
	parse(&k, data, end);
	for (i = 0; i < NTAD_MAX_RULES; i++) {
		struct ntad_rule *r;
		__u32 idx = i;

		if (i >= nr_rules)
			break;
		r = bpf_map_lookup_elem(&rules, &idx);
		if (r && rule_matches(r, &k))
			return 1;
	}
	return 0;
}

SEC("xdp.frags")
int ntad_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ntad_xdp_stats *st;
	__u32 zero = 0;
	int ret;

	st = bpf_map_lookup_elem(&xdp_stats, &zero);
	if (!st)
		return XDP_PASS; /* cannot happen for a 1-entry array; keeps the verifier happy */

	if (data + sizeof(struct ethhdr) > end) {
		st->dropped++;
		return XDP_DROP;
	}
	if (!selected(ctx, data, end)) {
		st->passed++;
		return XDP_PASS;
	}
	st->matched++;
	ret = bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
	if (ret == XDP_REDIRECT)
		st->redirected++;
	else
		st->passed++;
	return ret;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
