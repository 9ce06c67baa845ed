// SPDX-License-Identifier: MIT
/*
 * test_xdp_expr.c - the capture filter in the kernel selects exactly what
 * libpcap selects.
 *
 * Each pcap-filter(7) expression is compiled and checked as ntad does it
 * (expr.c: ntad_expr_new, ntad_expr_cbpf), loaded into bpf/ntad.bpf.c
 * (xdp_run.h) and run through BPF_PROG_TEST_RUN over a set of frames: valid,
 * malformed and truncated IPv4 (IHL 3 to 15, fragments), IPv6 with fragment
 * and hop-by-hop headers, VLAN, QinQ, MPLS, PPPoE, ARP, LLC, frames of 14 to
 * 33 bytes, jumbo frames in fragments, headers split across the linear part,
 * and each of them mutated at random (a fixed seed). On every frame the
 * verdict (XDP_REDIRECT: selected, XDP_PASS: to the stack) must be
 * pcap_offline_filter's on the same bytes, cut at the snap length, and the
 * counters must say so (redirected = matched = selected, passed = refused).
 * Every expression must select some frames and refuse others, or the
 * comparison could not fail.
 *
 * Then known answers for instructions libpcap rarely emits (ret a, ldx len,
 * X-relative loads that overflow, division by an X of 0, shifts by 32,
 * scratch memory), a program of the maximum length, and ntad_cbpf_check's
 * verdicts on what the XDP program must refuse (these first: they need no
 * root). The rest needs root (exit 77 without).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "expr.h"
#include "ntad.h"
#include "xdp_run.h"

#define FRAME_MAX 9100
#define MAX_FRAMES 2048
#define MUTANTS 16   /* random variants of each built frame */
#define SNAP_ALL 262144u

/* ---- frames ------------------------------------------------------------- */

struct frame {
	char name[48];
	uint8_t *b;
	uint32_t len;
	uint32_t linear; /* bytes in the linear part; 0: all */
};

static struct frame frames[MAX_FRAMES];
static unsigned int nr_frames;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static struct frame *fnew(const char *name)
{
	struct frame *f = &frames[nr_frames++];

	snprintf(f->name, sizeof(f->name), "%s", name);
	f->b = calloc(1, FRAME_MAX);
	if (!f->b)
		abort();
	f->len = 0;
	return f;
}

static void put8(struct frame *f, uint8_t v) { f->b[f->len++] = v; }
static void put16(struct frame *f, uint16_t v) { put8(f, v >> 8); put8(f, v & 0xff); }
static void put32(struct frame *f, uint32_t v) { put16(f, v >> 16); put16(f, v & 0xffff); }
static void zeros(struct frame *f, uint32_t n) { memset(f->b + f->len, 0, n); f->len += n; }
static void bytes(struct frame *f, const char *s) { while (*s) put8(f, (uint8_t)*s++); }

static void pad(struct frame *f, uint32_t to)
{
	while (f->len < to)
		put8(f, (uint8_t)f->len);
}

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t MAC_BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MAC_MCAST[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };

static struct frame *eth(const char *name, const uint8_t *dst, uint16_t type)
{
	struct frame *f = fnew(name);

	for (int i = 0; i < 6; i++)
		put8(f, dst[i]);
	for (int i = 0; i < 6; i++)
		put8(f, MAC_B[i]);
	put16(f, type);
	return f;
}

static void vlan(struct frame *f, uint16_t tci, uint16_t inner)
{
	put16(f, tci);
	put16(f, inner);
}

/* IPv4 header of ihl words (options zero), fragment field frag. */
static void ipv4(struct frame *f, uint8_t proto, unsigned int ihl, uint16_t frag, uint32_t src, uint32_t dst)
{
	put8(f, (uint8_t)(0x40 | ihl));
	put8(f, 0);
	put16(f, 1000);
	put16(f, 7);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put32(f, src);
	put32(f, dst);
	if (ihl > 5)
		zeros(f, (ihl - 5) * 4);
}

static void ipv6(struct frame *f, uint8_t nexthdr, uint8_t last_src)
{
	put32(f, 0x60000000);
	put16(f, 100);
	put8(f, nexthdr);
	put8(f, 64);
	put32(f, 0x20010db8);
	zeros(f, 11);
	put8(f, last_src);
	put32(f, 0xff020000); /* a multicast destination */
	zeros(f, 11);
	put8(f, 1);
}

static void udp(struct frame *f, uint16_t sport, uint16_t dport)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, 40);
	put16(f, 0);
	put32(f, 0x12345678);
}

static void tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, 1);
	put32(f, 0);
	put8(f, 0x50);
	put8(f, flags);
	put16(f, 512);
	put32(f, 0);
}

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static void build_frames(void)
{
	struct frame *f;
	uint32_t h10 = IP(10, 1, 2, 3), h192 = IP(192, 168, 1, 1), h172 = IP(172, 16, 5, 5);

	f = eth("udp4 to 53", MAC_A, 0x0800); ipv4(f, 17, 5, 0, h10, h192); udp(f, 1000, 53); pad(f, 60);
	f = eth("udp4 from 53", MAC_A, 0x0800); ipv4(f, 17, 5, 0, h192, h10); udp(f, 53, 1000); pad(f, 60);
	f = eth("udp4 to 9", MAC_A, 0x0800); ipv4(f, 17, 5, 0, h172, h10); udp(f, 2000, 9); pad(f, 300);
	f = eth("udp4 to 7, payload 1 2", MAC_BCAST, 0x0800); ipv4(f, 17, 5, 0, h10, IP(10, 255, 255, 255));
	udp(f, 7, 7); put8(f, 1); put8(f, 2); pad(f, 100);
	f = eth("tcp4 SYN to 80", MAC_A, 0x0800); ipv4(f, 6, 5, 0, h192, h10); tcp(f, 40000, 80, 0x02); pad(f, 60);
	f = eth("tcp4 SYN-ACK from 80", MAC_A, 0x0800); ipv4(f, 6, 5, 0, h10, h192); tcp(f, 80, 40000, 0x12);
	pad(f, 60);
	f = eth("tcp4 GET to 443", MAC_A, 0x0800); ipv4(f, 6, 5, 0, h10, h172); tcp(f, 40001, 443, 0x18);
	bytes(f, "GET / HTTP/1.1\r\n"); pad(f, 1500);
	f = eth("icmp4 echo", MAC_A, 0x0800); ipv4(f, 1, 5, 0, h10, h192); put8(f, 8); zeros(f, 7); pad(f, 98);
	f = eth("icmp4 echo reply", MAC_A, 0x0800); ipv4(f, 1, 5, 0, h192, h10); put8(f, 0); zeros(f, 7); pad(f, 98);
	f = eth("igmp", MAC_MCAST, 0x0800); ipv4(f, 2, 6, 0, h10, IP(224, 0, 0, 1)); put8(f, 0x11); zeros(f, 7);
	pad(f, 60);
	f = eth("sctp4 to 53", MAC_A, 0x0800); ipv4(f, 132, 5, 0, h10, h192); udp(f, 5000, 53); pad(f, 80);
	/* Malformed IPv4: IHL below 5 puts libpcap's "ports" inside the IP header. */
	f = eth("udp4 IHL 3", MAC_A, 0x0800); ipv4(f, 17, 5, 0, h10, h192); udp(f, 1000, 53); pad(f, 60);
	f->b[14] = 0x43;
	f = eth("udp4 IHL 4", MAC_A, 0x0800); ipv4(f, 17, 5, 0, h10, h192); udp(f, 1000, 53); pad(f, 60);
	f->b[14] = 0x44;
	f = eth("udp4 IHL 6 to 53", MAC_A, 0x0800); ipv4(f, 17, 6, 0, h10, h192); udp(f, 1000, 53); pad(f, 60);
	f = eth("udp4 IHL 15 to 53", MAC_A, 0x0800); ipv4(f, 17, 15, 0, h10, h192); udp(f, 1000, 53); pad(f, 100);
	f = eth("tcp4 IHL 15 cut in options", MAC_A, 0x0800); ipv4(f, 6, 15, 0, h10, h192); f->len = 50;
	/* Fragments: the first (MF), one at offset 185 whose "ports" are payload, the last. */
	f = eth("udp4 first fragment to 53", MAC_A, 0x0800); ipv4(f, 17, 5, 0x2000, h10, h192); udp(f, 9, 53);
	pad(f, 600);
	f = eth("udp4 fragment 185", MAC_A, 0x0800); ipv4(f, 17, 5, 0x2000 | 185, h10, h192); udp(f, 9, 53);
	pad(f, 600);
	f = eth("udp4 last fragment", MAC_A, 0x0800); ipv4(f, 17, 5, 1, h10, h192); udp(f, 53, 53); pad(f, 60);
	/* Truncated captures of UDP to 53. */
	f = eth("udp4 cut at 24", MAC_A, 0x0800); ipv4(f, 17, 5, 0, h10, h192); udp(f, 1000, 53); f->len = 24;
	f = eth("udp4 cut at 34", MAC_A, 0x0800); ipv4(f, 17, 5, 0, h10, h192); udp(f, 1000, 53); f->len = 34;
	f = eth("udp4 cut at 36", MAC_A, 0x0800); ipv4(f, 17, 5, 0, h10, h192); udp(f, 53, 53); f->len = 36;
	f = eth("udp4 cut at 37", MAC_A, 0x0800); ipv4(f, 17, 5, 0, h10, h192); udp(f, 1000, 53); f->len = 37;
	/* IPv6. */
	f = eth("udp6 to 53", MAC_A, 0x86dd); ipv6(f, 17, 1); udp(f, 1000, 53); pad(f, 80);
	f = eth("tcp6 SYN to 80", MAC_A, 0x86dd); ipv6(f, 6, 2); tcp(f, 40000, 80, 0x02); pad(f, 80);
	f = eth("icmp6 echo", MAC_A, 0x86dd); ipv6(f, 58, 3); put8(f, 128); zeros(f, 7); pad(f, 70);
	f = eth("udp6 fragment header to 53", MAC_A, 0x86dd); ipv6(f, 44, 4);
	put8(f, 17); put8(f, 0); put16(f, 0); put32(f, 77); udp(f, 1000, 53); pad(f, 90);
	f = eth("udp6 fragment 2 to 53", MAC_A, 0x86dd); ipv6(f, 44, 4);
	put8(f, 17); put8(f, 0); put16(f, 0x100); put32(f, 77); udp(f, 1000, 53); pad(f, 90);
	f = eth("udp6 hop-by-hop to 53", MAC_A, 0x86dd); ipv6(f, 0, 5);
	put8(f, 17); put8(f, 0); zeros(f, 6); udp(f, 1000, 53); pad(f, 90);
	f = eth("ipv6 cut at 30", MAC_A, 0x86dd); ipv6(f, 17, 6); f->len = 30;
	/* Tagged. */
	f = eth("vlan 100 udp4 to 53", MAC_A, 0x8100); vlan(f, 100, 0x0800); ipv4(f, 17, 5, 0, h10, h192);
	udp(f, 1000, 53); pad(f, 64);
	f = eth("qinq 10/20 tcp6 to 443", MAC_A, 0x88a8); vlan(f, 10, 0x8100); vlan(f, 20, 0x86dd); ipv6(f, 6, 7);
	tcp(f, 40000, 443, 0x10); pad(f, 100);
	f = eth("vlan 200 udp6 to 53", MAC_A, 0x8100); vlan(f, 200, 0x86dd); ipv6(f, 17, 10); udp(f, 1000, 53);
	pad(f, 80);
	f = eth("9100 tag 5 arp", MAC_BCAST, 0x9100); vlan(f, 5, 0x0806); zeros(f, 28); pad(f, 64);
	f = eth("vlan 100 arp", MAC_BCAST, 0x8100); vlan(f, 0x2064, 0x0806); zeros(f, 28); pad(f, 64);
	f = eth("mpls 100 udp4 to 53", MAC_A, 0x8847); put32(f, 100 << 12 | 1 << 8 | 64);
	ipv4(f, 17, 5, 0, h10, h192); udp(f, 1000, 53); pad(f, 80);
	f = eth("pppoes 0x11 udp4 to 53", MAC_A, 0x8864); put16(f, 0x1100); put16(f, 0x11); put16(f, 50);
	put16(f, 0x0021); ipv4(f, 17, 5, 0, h10, h192); udp(f, 1000, 53); pad(f, 90);
	f = eth("geneve", MAC_A, 0x0800); ipv4(f, 17, 5, 0, h10, h192); udp(f, 1000, 6081);
	put16(f, 0); put16(f, 0x6558); put32(f, 5 << 8); pad(f, 120);
	/* Not IP. */
	f = eth("arp request", MAC_BCAST, 0x0806); put16(f, 1); put16(f, 0x0800); put8(f, 6); put8(f, 4);
	put16(f, 1); zeros(f, 20); pad(f, 60);
	f = eth("arp reply", MAC_A, 0x0806); put16(f, 1); put16(f, 0x0800); put8(f, 6); put8(f, 4); put16(f, 2);
	zeros(f, 20); pad(f, 60);
	f = eth("lldp", MAC_MCAST, 0x88cc); pad(f, 60);
	f = eth("802.3 llc stp", MAC_MCAST, 38); put8(f, 0x42); put8(f, 0x42); put8(f, 3); pad(f, 60);
	/* Short frames. */
	f = eth("ethernet header only, IPv4", MAC_A, 0x0800);
	f = eth("15 bytes", MAC_A, 0x0800); put8(f, 0x45);
	f = eth("20 bytes IPv4", MAC_A, 0x0800); ipv4(f, 17, 5, 0, h10, h192); f->len = 20;
	f = eth("33 bytes udp4", MAC_A, 0x0800); ipv4(f, 17, 5, 0, h10, h192); f->len = 33;
	/* Jumbo frames (fragments past 3000 bytes) and headers split across the linear part. */
	f = eth("jumbo udp4 to 53", MAC_A, 0x0800); ipv4(f, 17, 5, 0, h10, h192); udp(f, 1000, 53); pad(f, 9000);
	f->linear = 3000;
	f = eth("jumbo tcp6 to 80", MAC_A, 0x86dd); ipv6(f, 6, 8); tcp(f, 40000, 80, 0x02); pad(f, 8000);
	f->linear = 1500;
	f->b[7000] = 0x47;
	f = eth("udp4 to 53, linear 20", MAC_A, 0x0800); ipv4(f, 17, 5, 0, h10, h192); udp(f, 1000, 53);
	pad(f, 60);
	f->linear = 20;
	f = eth("udp6 to 53, linear 55", MAC_A, 0x86dd); ipv6(f, 17, 9); udp(f, 1000, 53); pad(f, 80);
	f->linear = 55;
}

/* MUTANTS copies of every built frame, a few bytes changed and some cut short. */
static void mutate_frames(void)
{
	unsigned int built = nr_frames;

	for (unsigned int i = 0; i < built; i++) {
		for (unsigned int m = 0; m < MUTANTS && nr_frames < MAX_FRAMES; m++) {
			const struct frame *o = &frames[i];
			struct frame *f = fnew(o->name);
			uint32_t span = o->len < 80 ? o->len : 80, n = 1 + rnd() % 4;

			snprintf(f->name, sizeof(f->name), "%.36s #%u", o->name, m);
			memcpy(f->b, o->b, o->len);
			f->len = o->len;
			f->linear = o->linear;
			for (uint32_t k = 0; k < n; k++)
				f->b[rnd() % span] = (uint8_t)rnd();
			if (rnd() % 4 == 0 && f->len > 14)
				f->len = 14 + rnd() % (f->len - 14);
			if (f->linear >= f->len)
				f->linear = 0;
		}
	}
}

/* ---- expressions against libpcap ---------------------------------------- */

struct expr_case {
	const char *text;
	uint32_t snaplen; /* 0: tcpdump's default */
};

static const struct expr_case exprs[] = {
	{ "udp port 53", 0 }, { "udp dst port 53", 0 }, { "tcp dst port 443 or udp port 7", 0 },
	{ "tcp[13]&2!=0", 0 }, { "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn", 0 },
	{ "ip[6:2]&0x1fff!=0", 0 }, { "len > 1000", 0 }, { "less 64", 0 }, { "greater 1500", 0 },
	{ "ether host 02:00:00:00:00:01", 0 }, { "ether broadcast", 0 }, { "ether multicast", 0 },
	{ "net 10.0.0.0/8", 0 }, { "src net 192.168.0.0/16 or dst net 172.16.0.0/12", 0 },
	{ "host 10.1.2.3 and port 80", 0 }, { "icmp", 0 }, { "icmp6", 0 },
	{ "icmp[icmptype] = icmp-echo", 0 }, { "icmp6[icmp6type] = icmp6-echo", 0 }, { "vlan", 0 },
	{ "vlan 100", 0 }, { "vlan and ip6", 0 }, { "vlan 10 and vlan 20", 0 }, { "ip and not tcp", 0 },
	{ "not ip and not ip6 and not arp", 0 }, { "arp", 0 }, { "ip6 proto 17", 0 }, { "proto 17", 0 },
	{ "tcp portrange 1-1024", 0 }, { "ip multicast", 0 }, { "ip6 multicast", 0 }, { "llc", 0 },
	{ "stp", 0 }, { "mpls", 0 }, { "mpls 100 and udp", 0 }, { "pppoes and udp port 53", 0 },
	{ "geneve", 0 }, { "igmp", 0 }, { "sctp", 0 }, { "ip[0] & 0xf > 5", 0 },
	{ "udp[8:4] = 0x12345678", 0 }, { "ip[2:2] / 3 > 300", 0 }, { "ip[2:2] % 3 = 1", 0 },
	{ "ip[0] ^ 1 = 0x44", 0 }, { "-ip[0] = 0xffffffbb", 0 }, { "ip[ip[0]&0xf] = 0", 0 },
	{ "tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420", 0 }, { "ip[2:2] * 2 > 1000", 0 },
	{ "ip[2:2] >> 2 > 100", 0 }, { "ip[2:2] << 2 > 1000", 0 }, { "ether[0] & 1 = 1", 0 },
	{ "ip6[40] = 17", 0 }, { "udp and (udp[8] = 0x12 or udp[9] = 2)", 0 }, { "ether proto 0x88cc", 0 },
	{ "ether[7000] = 0x47", 0 }, { "len >= 60 and ether[59] = 59", 0 },
	/* Cut at the snap length: loads past it refuse the frame, len stays the frame's. */
	{ "udp port 53", 40 }, { "len > 100", 64 }, { "ip[40] = 40 or ip6", 64 }, { "ether[63] = 63", 64 },
};

static void test_expr(struct xdp_run_env *env, const struct expr_case *c)
{
	uint32_t snaplen = c->snaplen ? c->snaplen : SNAP_ALL, selected = 0, refused = 0;
	const struct sock_filter *insns;
	struct xdp_run_prog p;
	struct ntad_xdp_stats st;
	struct ntad_expr *e;
	unsigned int len;
	char err[512], what[80];
	int ret;

	snprintf(what, sizeof(what), "'%s' -s %u", c->text, snaplen);
	e = ntad_expr_new("test", c->text, snaplen, err, sizeof(err));
	CHECK(e, "%s: %s", what, err);
	if (!e)
		return;
	ret = ntad_expr_cbpf(e, &insns, &len, err, sizeof(err));
	CHECK(ret == 0, "%s: %s", what, err);
	if (!ret && (ret = xdp_run_load(env, &p, insns, len, c->snaplen)))
		CHECK(0, "%s: load: %s", what, strerror(-ret));
	if (ret) {
		ntad_expr_free(e);
		return;
	}
	for (unsigned int i = 0; i < nr_frames; i++) {
		const struct frame *f = &frames[i];
		bool want = ntad_expr_match(e, f->b, f->len < snaplen ? f->len : snaplen, f->len);
		uint32_t verdict;

		ret = xdp_run_frame(env, &p, f->b, f->len, f->linear, &verdict);
		CHECK(ret == 0, "%s, %s: test run: %s", what, f->name, strerror(-ret));
		CHECK(verdict == (want ? XDP_REDIRECT : XDP_PASS), "%s, %s (%u bytes, linear %u): XDP says %u, libpcap %s",
		      what, f->name, f->len, f->linear, verdict, want ? "selects" : "refuses");
		if (want)
			selected++;
		else
			refused++;
	}
	ret = xdp_run_stats(env, &p, &st);
	CHECK(ret == 0 && st.redirected == selected && st.matched == selected && st.passed == refused &&
	      !st.dropped, "%s: counters redirected %llu matched %llu passed %llu dropped %llu, want %u selected, %u refused",
	      what, (unsigned long long)st.redirected, (unsigned long long)st.matched,
	      (unsigned long long)st.passed, (unsigned long long)st.dropped, selected, refused);
	CHECK(selected && refused, "%s: a comparison that cannot fail: %u selected, %u refused", what, selected,
	      refused);
	printf("%-50s %4u instructions, %4u of %u frames selected\n", what, len, selected, nr_frames);
	xdp_run_unload(&p);
	ntad_expr_free(e);
}

/* A runt (linear part shorter than an Ethernet header) is dropped before any filter. */
static void test_runt(struct xdp_run_env *env)
{
	const struct frame *f = &frames[0];
	struct sock_filter accept[] = { BPF_STMT(BPF_RET | BPF_K, 1) };
	struct xdp_run_prog p;
	struct ntad_xdp_stats st;
	uint32_t verdict = 0;

	if (xdp_run_load(env, &p, accept, 1, 0)) {
		CHECK(0, "runt: load failed");
		return;
	}
	CHECK(xdp_run_frame(env, &p, f->b, f->len, 13, &verdict) == 0 && verdict == XDP_DROP,
	      "runt: verdict %u, want XDP_DROP", verdict);
	CHECK(xdp_run_stats(env, &p, &st) == 0 && st.dropped == 1 && !st.matched && !st.passed,
	      "runt: dropped %llu", (unsigned long long)st.dropped);
	xdp_run_unload(&p);
}

/* ---- known answers -------------------------------------------------------- */

#define S(code, k) BPF_STMT(code, k)
#define J(code, k, jt, jf) BPF_JUMP(code, k, jt, jf)
#define RET_IF_A(v) J(BPF_JMP | BPF_JEQ | BPF_K, v, 0, 1), S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 0)

struct known {
	const char *what;
	struct sock_filter insns[12];
	unsigned int len;
	uint32_t snaplen;
	bool selects;
};

/* On frames[0], "udp4 to 53": 60 bytes, 0x45 at 14, 0x0800 at 12, the last byte 59. */
static const struct known knowns[] = {
	{ "ldx len; txa; ret a", { S(BPF_LDX | BPF_W | BPF_LEN, 0), S(BPF_MISC | BPF_TXA, 0),
	  S(BPF_RET | BPF_A, 0) }, 3, 0, true },
	{ "ret a of 0", { S(BPF_LD | BPF_IMM, 0), S(BPF_RET | BPF_A, 0) }, 2, 0, false },
	{ "ret #0x80000000", { S(BPF_RET | BPF_K, 0x80000000) }, 1, 0, true },
	{ "ld len is 60", { S(BPF_LD | BPF_W | BPF_LEN, 0), RET_IF_A(60) }, 4, 0, true },
	{ "ld len is 60 cut at 20", { S(BPF_LD | BPF_W | BPF_LEN, 0), RET_IF_A(60) }, 4, 20, true },
	{ "div by X 0", { S(BPF_LD | BPF_IMM, 5), S(BPF_LDX | BPF_IMM, 0), S(BPF_ALU | BPF_DIV | BPF_X, 0),
	  S(BPF_RET | BPF_K, 1) }, 4, 0, false },
	{ "mod by X 0", { S(BPF_LD | BPF_IMM, 5), S(BPF_LDX | BPF_IMM, 0), S(BPF_ALU | BPF_MOD | BPF_X, 0),
	  S(BPF_RET | BPF_K, 1) }, 4, 0, false },
	{ "7 / X 2 = 3", { S(BPF_LD | BPF_IMM, 7), S(BPF_LDX | BPF_IMM, 2), S(BPF_ALU | BPF_DIV | BPF_X, 0),
	  RET_IF_A(3) }, 6, 0, true },
	{ "7 % X 4 = 3", { S(BPF_LD | BPF_IMM, 7), S(BPF_LDX | BPF_IMM, 4), S(BPF_ALU | BPF_MOD | BPF_X, 0),
	  RET_IF_A(3) }, 6, 0, true },
	{ "1 << X 32 = 0", { S(BPF_LD | BPF_IMM, 1), S(BPF_LDX | BPF_IMM, 32), S(BPF_ALU | BPF_LSH | BPF_X, 0),
	  S(BPF_RET | BPF_A, 0) }, 4, 0, false },
	{ "1 << X 31", { S(BPF_LD | BPF_IMM, 1), S(BPF_LDX | BPF_IMM, 31), S(BPF_ALU | BPF_LSH | BPF_X, 0),
	  RET_IF_A(0x80000000) }, 6, 0, true },
	{ "-1 >> X 40 = 0", { S(BPF_LD | BPF_IMM, 0xffffffff), S(BPF_LDX | BPF_IMM, 40),
	  S(BPF_ALU | BPF_RSH | BPF_X, 0), S(BPF_RET | BPF_A, 0) }, 4, 0, false },
	{ "neg 1", { S(BPF_LD | BPF_IMM, 1), S(BPF_ALU | BPF_NEG, 0), RET_IF_A(0xffffffff) }, 5, 0, true },
	{ "ldb [x + 2], x + 2 wraps", { S(BPF_LDX | BPF_IMM, 0xffffffff), S(BPF_LD | BPF_B | BPF_IND, 2),
	  S(BPF_RET | BPF_K, 1) }, 3, 0, false },
	{ "ldh [x + 0] at 12", { S(BPF_LDX | BPF_IMM, 12), S(BPF_LD | BPF_H | BPF_IND, 0), RET_IF_A(0x0800) },
	  5, 0, true },
	{ "ld [56], the last word", { S(BPF_LD | BPF_W | BPF_ABS, 56), RET_IF_A(0x38393a3b) }, 4, 0, true },
	{ "ld [57], past the end", { S(BPF_LD | BPF_W | BPF_ABS, 57), S(BPF_RET | BPF_K, 1) }, 2, 0, false },
	{ "ldb [50] cut at 40", { S(BPF_LD | BPF_B | BPF_ABS, 50), S(BPF_RET | BPF_K, 1) }, 2, 40, false },
	{ "ldb [39] cut at 40", { S(BPF_LD | BPF_B | BPF_ABS, 39), S(BPF_RET | BPF_K, 1) }, 2, 40, true },
	{ "ldxb 4*([14]&0xf) = 20", { S(BPF_LDX | BPF_MSH | BPF_B, 14), S(BPF_MISC | BPF_TXA, 0), RET_IF_A(20) },
	  5, 0, true },
	{ "ldxb 4*([60]&0xf), past the end", { S(BPF_LDX | BPF_MSH | BPF_B, 60), S(BPF_RET | BPF_K, 1) }, 2, 0,
	  false },
	{ "st M[15]; ldx M[15]", { S(BPF_LD | BPF_IMM, 42), S(BPF_ST, 15), S(BPF_LD | BPF_IMM, 0),
	  S(BPF_LDX | BPF_MEM, 15), S(BPF_MISC | BPF_TXA, 0), RET_IF_A(42) }, 8, 0, true },
	{ "M[3] starts at 0", { S(BPF_LD | BPF_IMM, 9), S(BPF_LD | BPF_MEM, 3), RET_IF_A(0) }, 5, 0, true },
	{ "5 jge X 5", { S(BPF_LD | BPF_IMM, 5), S(BPF_LDX | BPF_IMM, 5), J(BPF_JMP | BPF_JGE | BPF_X, 0, 0, 1),
	  S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 0) }, 5, 0, true },
	{ "5 jgt X 5", { S(BPF_LD | BPF_IMM, 5), S(BPF_LDX | BPF_IMM, 5), J(BPF_JMP | BPF_JGT | BPF_X, 0, 0, 1),
	  S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 0) }, 5, 0, false },
	{ "6 jset X 1", { S(BPF_LD | BPF_IMM, 6), S(BPF_LDX | BPF_IMM, 1), J(BPF_JMP | BPF_JSET | BPF_X, 0, 0, 1),
	  S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 0) }, 5, 0, false },
	{ "0x80000000 jge #1, unsigned", { S(BPF_LD | BPF_IMM, 0x80000000), J(BPF_JMP | BPF_JGE | BPF_K, 1, 0, 1),
	  S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 0) }, 4, 0, true },
	{ "0xffffffff jgt X 1, unsigned", { S(BPF_LD | BPF_IMM, 0xffffffff), S(BPF_LDX | BPF_IMM, 1),
	  J(BPF_JMP | BPF_JGT | BPF_X, 0, 0, 1), S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 0) }, 5, 0, true },
	{ "ja over a ret #0", { S(BPF_JMP | BPF_JA, 1), S(BPF_RET | BPF_K, 0), S(BPF_RET | BPF_K, 1) }, 3, 0,
	  true },
};

static void test_known(struct xdp_run_env *env)
{
	const struct frame *f = &frames[0];

	CHECK(f->len == 60 && f->b[59] == 59, "frame 0 is not what the known answers expect");
	for (size_t i = 0; i < sizeof(knowns) / sizeof(knowns[0]); i++) {
		const struct known *k = &knowns[i];
		struct xdp_run_prog p;
		uint32_t verdict = 0;
		unsigned int at;
		int ret = ntad_cbpf_check(k->insns, k->len, &at);

		CHECK(ret == 0, "%s: ntad_cbpf_check %d at %u", k->what, ret, at);
		if (ret || (ret = xdp_run_load(env, &p, k->insns, k->len, k->snaplen))) {
			CHECK(0, "%s: not loaded (%d)", k->what, ret);
			continue;
		}
		ret = xdp_run_frame(env, &p, f->b, f->len, 0, &verdict);
		CHECK(ret == 0 && verdict == (k->selects ? XDP_REDIRECT : XDP_PASS), "%s: verdict %u, want %s",
		      k->what, verdict, k->selects ? "selected" : "refused");
		xdp_run_unload(&p);
	}
}

/* The longest program: 4095 additions then ret a, every one executed (on a jumbo frame too). */
static void test_longest(struct xdp_run_env *env)
{
	static struct sock_filter insns[NTAD_CBPF_MAX_INSNS];
	uint32_t verdict = 0;
	struct xdp_run_prog p;
	int ret;

	for (unsigned int i = 0; i < NTAD_CBPF_MAX_INSNS - 2; i++)
		insns[i] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 1);
	/* Selects only when all 4094 additions ran: A = 4094. */
	insns[NTAD_CBPF_MAX_INSNS - 2] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_SUB | BPF_K,
								      NTAD_CBPF_MAX_INSNS - 2);
	insns[NTAD_CBPF_MAX_INSNS - 1] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_A, 0);
	ret = xdp_run_load(env, &p, insns, NTAD_CBPF_MAX_INSNS, 0);
	CHECK(ret == 0, "%u instructions: load: %s", NTAD_CBPF_MAX_INSNS, strerror(-ret));
	if (ret)
		return;
	CHECK(xdp_run_frame(env, &p, frames[0].b, frames[0].len, 0, &verdict) == 0 && verdict == XDP_PASS,
	      "4094 additions less 4094: verdict %u, want refused", verdict);
	insns[NTAD_CBPF_MAX_INSNS - 2].k = NTAD_CBPF_MAX_INSNS - 3; /* A = 1 when all ran */
	CHECK(xdp_run_store(&p, insns, NTAD_CBPF_MAX_INSNS) == 0, "store");
	CHECK(xdp_run_frame(env, &p, frames[0].b, frames[0].len, 0, &verdict) == 0 && verdict == XDP_REDIRECT,
	      "4094 additions less 4093: verdict %u, want selected", verdict);
	xdp_run_unload(&p);
}

/* ---- ntad_cbpf_check -------------------------------------------------------- */

static void expect_check(const char *what, const struct sock_filter *insns, unsigned int len, int want,
			 unsigned int want_at)
{
	unsigned int at = 12345;
	int ret = ntad_cbpf_check(insns, len, &at);

	CHECK(ret == want && (!want || want == -E2BIG ? at == 12345 : at == want_at), "%s: %d at %u, want %d at %u",
	      what, ret, at, want, want_at);
}

static void test_check(void)
{
	static struct sock_filter big[NTAD_CBPF_MAX_INSNS + 1];

#define EXPECT(what, want, at, ...)                                                          \
	do {                                                                                 \
		const struct sock_filter p_[] = { __VA_ARGS__ };                              \
		expect_check(what, p_, (unsigned int)(sizeof(p_) / sizeof(p_[0])), want, at); \
	} while (0)

	for (unsigned int i = 0; i <= NTAD_CBPF_MAX_INSNS; i++)
		big[i] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	expect_check("4096 instructions", big, NTAD_CBPF_MAX_INSNS, 0, 0);
	expect_check("4097 instructions", big, NTAD_CBPF_MAX_INSNS + 1, -E2BIG, 0);
	expect_check("empty", big, 0, -EINVAL, 0);
	expect_check("NULL", NULL, 1, -EINVAL, 0);
	EXPECT("ret a", 0, 0, S(BPF_RET | BPF_A, 0));
	EXPECT("backward ja (protochain's loop)", -EOPNOTSUPP, 1, S(BPF_LD | BPF_IMM, 0),
	       S(BPF_JMP | BPF_JA, (uint32_t)-2), S(BPF_RET | BPF_K, 0));
	EXPECT("ja to itself", -EOPNOTSUPP, 0, S(BPF_JMP | BPF_JA, (uint32_t)-1), S(BPF_RET | BPF_K, 0));
	EXPECT("ja before the start", -EINVAL, 1, S(BPF_LD | BPF_IMM, 0), S(BPF_JMP | BPF_JA, (uint32_t)-3),
	       S(BPF_RET | BPF_K, 0));
	EXPECT("ja past the end", -EINVAL, 0, S(BPF_JMP | BPF_JA, 1), S(BPF_RET | BPF_K, 0));
	EXPECT("jeq jt past the end", -EINVAL, 0, J(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), S(BPF_RET | BPF_K, 0));
	EXPECT("jset jf past the end", -EINVAL, 0, J(BPF_JMP | BPF_JSET | BPF_X, 0, 0, 1), S(BPF_RET | BPF_K, 0));
	EXPECT("ldh [type] (inbound)", -EOPNOTSUPP, 0, S(BPF_LD | BPF_H | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
	       S(BPF_RET | BPF_A, 0));
	EXPECT("ld [ifidx]", -EOPNOTSUPP, 1, S(BPF_LD | BPF_IMM, 0), S(BPF_LD | BPF_W | BPF_ABS,
	       SKF_AD_OFF + SKF_AD_IFINDEX), S(BPF_RET | BPF_A, 0));
	EXPECT("ldb [x + SKF_LL_OFF]", -EOPNOTSUPP, 0, S(BPF_LD | BPF_B | BPF_IND, (uint32_t)SKF_LL_OFF),
	       S(BPF_RET | BPF_A, 0));
	EXPECT("ldb just below SKF_LL_OFF: far past any frame", 0, 0,
	       S(BPF_LD | BPF_B | BPF_ABS, (uint32_t)SKF_LL_OFF - 1), S(BPF_RET | BPF_A, 0));
	EXPECT("ld M[16]", -EINVAL, 0, S(BPF_LD | BPF_MEM, 16), S(BPF_RET | BPF_A, 0));
	EXPECT("st M[15]", 0, 0, S(BPF_ST, 15), S(BPF_RET | BPF_A, 0));
	EXPECT("stx M[16]", -EINVAL, 0, S(BPF_STX, 16), S(BPF_RET | BPF_A, 0));
	EXPECT("div #0", -EINVAL, 0, S(BPF_ALU | BPF_DIV | BPF_K, 0), S(BPF_RET | BPF_A, 0));
	EXPECT("mod #0", -EINVAL, 0, S(BPF_ALU | BPF_MOD | BPF_K, 0), S(BPF_RET | BPF_A, 0));
	EXPECT("lsh #32", -EINVAL, 0, S(BPF_ALU | BPF_LSH | BPF_K, 32), S(BPF_RET | BPF_A, 0));
	EXPECT("rsh #31", 0, 0, S(BPF_ALU | BPF_RSH | BPF_K, 31), S(BPF_RET | BPF_A, 0));
	EXPECT("neg x", -EINVAL, 0, S(BPF_ALU | BPF_NEG | BPF_X, 0), S(BPF_RET | BPF_A, 0));
	EXPECT("ldh #1 (no such load)", -EINVAL, 0, S(BPF_LD | BPF_H | BPF_IMM, 1), S(BPF_RET | BPF_A, 0));
	EXPECT("opcode 0xff", -EINVAL, 1, S(BPF_LD | BPF_IMM, 0), S(0xff, 0), S(BPF_RET | BPF_A, 0));
	EXPECT("no ret last", -EINVAL, 1, S(BPF_RET | BPF_K, 0), S(BPF_LD | BPF_IMM, 0));
#undef EXPECT
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* The verifier's log is worth seeing when a load fails; debug chatter is not. */
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

int main(void)
{
	struct xdp_run_env env;

	test_check();
	if (geteuid() != 0) {
		printf("test_xdp_expr: needs root (CAP_BPF, CAP_NET_ADMIN) to load XDP programs\n");
		return failures ? 1 : 77;
	}
	libbpf_set_print(quiet);
	if (xdp_run_env_init(&env)) {
		CHECK(0, "no AF_XDP socket to redirect to");
		return check_done("test_xdp_expr");
	}
	build_frames();
	mutate_frames();
	test_runt(&env);
	test_known(&env);
	test_longest(&env);
	for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++)
		test_expr(&env, &exprs[i]);
	xdp_run_env_fini(&env);
	for (unsigned int i = 0; i < nr_frames; i++)
		free(frames[i].b);
	return check_done("test_xdp_expr");
}
