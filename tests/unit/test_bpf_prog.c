// SPDX-License-Identifier: MIT
/*
 * test_bpf_prog.c - drives bpf/ntad.bpf.c through BPF_PROG_TEST_RUN.
 *
 * Each case loads the ntad_bpf skeleton with its own nr_rules (a rodata
 * constant, so the verifier sees every rule count we use), fills the rule table
 * and runs crafted frames through ntad_xdp. The filter's decision is observed
 * through the `matched` counter: without a socket in xsks_map a selected frame
 * still returns XDP_PASS, so the return code alone could not tell. One case
 * binds a real AF_XDP socket (copy mode, on the loopback of a private network
 * namespace this process creates) into xsks_map to see XDP_REDIRECT and the
 * `redirected` counter.
 *
 * Needs CAP_BPF and CAP_NET_ADMIN: exits 77 when not root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "ntad_bpf.h"
/* bpftool's generated skeleton casts away const on its embedded ELF bytes. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "bpf/ntad.skel.h"
#include "check.h"
#pragma GCC diagnostic pop

/* ---- frame crafting ---------------------------------------------------- */

struct frame {
	uint8_t b[256];
	size_t len;
	size_t linear; /* bytes in the linear part; 0: all of them */
};

static void put8(struct frame *f, uint8_t v) { f->b[f->len++] = v; }
static void put16(struct frame *f, uint16_t v) { put8(f, v >> 8); put8(f, v & 0xff); }
static void zeros(struct frame *f, size_t n) { memset(f->b + f->len, 0, n); f->len += n; }

static void eth(struct frame *f, uint16_t type)
{
	f->len = 0;
	for (int i = 0; i < 6; i++)
		put8(f, 0x02); /* dst */
	for (int i = 0; i < 6; i++)
		put8(f, 0x04); /* src */
	put16(f, type);
}

static void vlan(struct frame *f, uint16_t tci, uint16_t inner)
{
	put16(f, tci);
	put16(f, inner);
}

/* IPv4 header with ihl words (options zero-filled: NOP/EOL are both fine for
 * the program, which only skips them). */
static void ipv4(struct frame *f, uint8_t proto, unsigned ihl, uint16_t frag_off)
{
	put8(f, 0x40 | ihl);
	put8(f, 0);
	put16(f, 100);
	put16(f, 1);
	put16(f, frag_off);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put8(f, 10); put8(f, 0); put8(f, 0); put8(f, 1);
	put8(f, 10); put8(f, 0); put8(f, 0); put8(f, 2);
	zeros(f, (ihl - 5) * 4);
}

static void ipv6(struct frame *f, uint8_t nexthdr)
{
	put8(f, 0x60);
	zeros(f, 3);
	put16(f, 40);
	put8(f, nexthdr);
	put8(f, 64);
	zeros(f, 32);
}

static void l4(struct frame *f, uint16_t sport, uint16_t dport)
{
	put16(f, sport);
	put16(f, dport);
	zeros(f, 16); /* rest of a TCP header; UDP uses the first 4 of it */
}

/* Pad to the Ethernet minimum like a NIC would hand it over. */
static void pad(struct frame *f)
{
	if (f->len < 60)
		zeros(f, 60 - f->len);
}

/* ---- running the program ----------------------------------------------- */

struct ctx {
	struct ntad_bpf *skel;
	int prog_fd;
	int ncpus;
};

static int load(struct ctx *c, const struct ntad_rule *r, unsigned n_in_table, unsigned nr_rules)
{
	int err;

	c->skel = ntad_bpf__open();
	if (!c->skel)
		return -errno;
	c->skel->rodata->nr_rules = nr_rules;
	err = ntad_bpf__load(c->skel);
	if (err) {
		ntad_bpf__destroy(c->skel);
		return err;
	}
	for (unsigned i = 0; i < n_in_table; i++) {
		__u32 k = i;

		err = bpf_map__update_elem(c->skel->maps.rules, &k, sizeof(k), &r[i], sizeof(r[i]), 0);
		if (err) {
			ntad_bpf__destroy(c->skel);
			return err;
		}
	}
	c->prog_fd = bpf_program__fd(c->skel->progs.ntad_xdp);
	return 0;
}

static void stats(struct ctx *c, struct ntad_xdp_stats *sum)
{
	struct ntad_xdp_stats *v = calloc((size_t)c->ncpus, sizeof(*v));
	__u32 k = 0;

	memset(sum, 0, sizeof(*sum));
	if (!v || bpf_map__lookup_elem(c->skel->maps.xdp_stats, &k, sizeof(k), v,
				       sizeof(*v) * (size_t)c->ncpus, 0)) {
		failures++;
		fprintf(stderr, "FAIL: cannot read xdp_stats\n");
		free(v);
		return;
	}
	for (int i = 0; i < c->ncpus; i++) {
		sum->redirected += v[i].redirected;
		sum->passed += v[i].passed;
		sum->dropped += v[i].dropped;
		sum->matched += v[i].matched;
	}
	free(v);
}

/*
 * Run one frame; check the return code and that exactly the expected counters
 * moved by one (matched, then exactly one of redirected/passed/dropped).
 */
static void run(struct ctx *c, const char *what, const struct frame *f, int want_ret,
		int want_match)
{
	struct ntad_xdp_stats a, b;
	/* data_end in the context is the size of the linear part for a frags
	 * program; without it the kernel puts the whole frame in fragments. */
	struct xdp_md md = { .data_end = (__u32)(f->linear ? f->linear : f->len),
			     .ingress_ifindex = if_nametoindex("lo"), .rx_queue_index = 0 };
	uint8_t out[256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = (__u32)f->len,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &md,
		    .ctx_size_in = sizeof(md), .repeat = 1);
	int err;

	stats(c, &a);
	err = bpf_prog_test_run_opts(c->prog_fd, &o);
	CHECK(err == 0, "%s: test run: %s", what, strerror(-err));
	if (err)
		return;
	stats(c, &b);
	CHECK((int)o.retval == want_ret, "%s: returned %u, want %d", what, o.retval, want_ret);
	CHECK(b.matched - a.matched == (want_match ? 1u : 0u), "%s: matched moved by %llu, want %d",
	      what, (unsigned long long)(b.matched - a.matched), want_match);
	CHECK(b.redirected - a.redirected == (want_ret == XDP_REDIRECT),
	      "%s: redirected moved by %llu", what, (unsigned long long)(b.redirected - a.redirected));
	CHECK(b.passed - a.passed == (want_ret == XDP_PASS),
	      "%s: passed moved by %llu", what, (unsigned long long)(b.passed - a.passed));
	CHECK(b.dropped - a.dropped == (want_ret == XDP_DROP),
	      "%s: dropped moved by %llu", what, (unsigned long long)(b.dropped - a.dropped));
}

/* Expect a match (XDP_PASS without a socket, but matched++) or not. */
#define MATCH(c, what, f)   run(c, what, f, XDP_PASS, 1)
#define NOMATCH(c, what, f) run(c, what, f, XDP_PASS, 0)

/* ---- the frames every case uses ---------------------------------------- */

enum {
	F_UDP4_4791, F_UDP4_53, F_TCP4_80, F_UDP4_OPT_4791, F_UDP4_FRAG_4791, F_UDP4_TRUNC,
	F_UDP6_4791, F_TCP6_443, F_ICMP6, F_ARP, F_VLAN_UDP4_4791, F_QINQ_TCP6_443,
	F_TRIPLE_UDP4, F_IPV4_BAD_IHL, F_RUNT, F_ETH_ONLY, F_COUNT
};

static struct frame fr[F_COUNT];

static void build_frames(void)
{
	struct frame *f;

	f = &fr[F_UDP4_4791]; eth(f, 0x0800); ipv4(f, 17, 5, 0); l4(f, 1000, 4791); pad(f);
	f = &fr[F_UDP4_53]; eth(f, 0x0800); ipv4(f, 17, 5, 0); l4(f, 4791, 53); pad(f);
	f = &fr[F_TCP4_80]; eth(f, 0x0800); ipv4(f, 6, 5, 0); l4(f, 4791, 80); pad(f);
	/* IHL 8: 12 bytes of options, dport must be read past them. */
	f = &fr[F_UDP4_OPT_4791]; eth(f, 0x0800); ipv4(f, 17, 8, 0); l4(f, 7, 4791); pad(f);
	/* Fragment offset 185 (x 8 bytes): the "ports" there are payload bytes. */
	f = &fr[F_UDP4_FRAG_4791]; eth(f, 0x0800); ipv4(f, 17, 5, 185); l4(f, 7, 4791); pad(f);
	/* UDP frame cut right after the IPv4 header (padding is not added: a
	 * truncated capture, so the port must not be read out of bounds). */
	f = &fr[F_UDP4_TRUNC]; eth(f, 0x0800); ipv4(f, 17, 5, 0); put16(f, 7);
	f = &fr[F_UDP6_4791]; eth(f, 0x86dd); ipv6(f, 17); l4(f, 7, 4791);
	f = &fr[F_TCP6_443]; eth(f, 0x86dd); ipv6(f, 6); l4(f, 7, 443);
	f = &fr[F_ICMP6]; eth(f, 0x86dd); ipv6(f, 58); zeros(f, 8);
	f = &fr[F_ARP]; eth(f, 0x0806); zeros(f, 28); pad(f);
	f = &fr[F_VLAN_UDP4_4791]; eth(f, 0x8100); vlan(f, 100, 0x0800); ipv4(f, 17, 5, 0);
	l4(f, 7, 4791); pad(f);
	f = &fr[F_QINQ_TCP6_443]; eth(f, 0x88a8); vlan(f, 10, 0x8100); vlan(f, 20, 0x86dd);
	ipv6(f, 6); l4(f, 7, 443);
	/* Three tags: beyond what the program looks through. */
	f = &fr[F_TRIPLE_UDP4]; eth(f, 0x88a8); vlan(f, 1, 0x8100); vlan(f, 2, 0x8100);
	vlan(f, 3, 0x0800); ipv4(f, 17, 5, 0); l4(f, 7, 4791); pad(f);
	f = &fr[F_IPV4_BAD_IHL]; eth(f, 0x0800); ipv4(f, 17, 5, 0); l4(f, 7, 4791); pad(f);
	f->b[14] = 0x43; /* IHL 3 < 5: malformed */
	/* BPF_PROG_TEST_RUN refuses frames under 14 bytes, so the runt is a
	 * multi-buffer frame whose linear part stops inside the Ethernet
	 * header: all the program can see is 13 bytes. */
	f = &fr[F_RUNT]; eth(f, 0x0800); pad(f); f->linear = 13;
	f = &fr[F_ETH_ONLY]; eth(f, 0x0800);
}

/* ---- cases -------------------------------------------------------------- */

static int with_rules(struct ctx *c, const struct ntad_rule *r, unsigned n, unsigned nr_rules)
{
	int err = load(c, r, n, nr_rules);

	if (err) {
		failures++;
		fprintf(stderr, "FAIL: load with nr_rules=%u: %s\n", nr_rules, strerror(-err));
	}
	return err;
}

static void case_no_rules(struct ctx *c)
{
	if (with_rules(c, NULL, 0, 0))
		return;
	/* Everything is selected; no socket on queue 0, so the stack gets it. */
	for (int i = 0; i < F_COUNT; i++) {
		char what[32];

		snprintf(what, sizeof(what), "no rules, frame %d", i);
		if (i == F_RUNT)
			run(c, what, &fr[i], XDP_DROP, 0);
		else
			MATCH(c, what, &fr[i]);
	}
	ntad_bpf__destroy(c->skel);
}

static void case_ethertype(struct ctx *c)
{
	struct ntad_rule r[] = { { .ethertype = 0x0806 } };

	if (with_rules(c, r, 1, 1))
		return;
	MATCH(c, "ethertype ARP: ARP", &fr[F_ARP]);
	NOMATCH(c, "ethertype ARP: UDP4", &fr[F_UDP4_4791]);
	NOMATCH(c, "ethertype ARP: UDP6", &fr[F_UDP6_4791]);
	NOMATCH(c, "ethertype ARP: Ethernet header only", &fr[F_ETH_ONLY]);
	run(c, "ethertype ARP: runt", &fr[F_RUNT], XDP_DROP, 0);
	ntad_bpf__destroy(c->skel);
}

static void case_vlan(struct ctx *c)
{
	struct ntad_rule v4[] = { { .ethertype = 0x0800 } };
	struct ntad_rule v6[] = { { .ethertype = 0x86dd } };
	struct ntad_rule tagged[] = { { .ethertype = 0x8100 } };

	if (with_rules(c, v4, 1, 1) == 0) {
		MATCH(c, "ethertype IPv4: untagged", &fr[F_UDP4_4791]);
		MATCH(c, "ethertype IPv4: one VLAN tag", &fr[F_VLAN_UDP4_4791]);
		NOMATCH(c, "ethertype IPv4: three tags", &fr[F_TRIPLE_UDP4]);
		NOMATCH(c, "ethertype IPv4: QinQ IPv6", &fr[F_QINQ_TCP6_443]);
		ntad_bpf__destroy(c->skel);
	}
	if (with_rules(c, v6, 1, 1) == 0) {
		MATCH(c, "ethertype IPv6: QinQ", &fr[F_QINQ_TCP6_443]);
		MATCH(c, "ethertype IPv6: untagged", &fr[F_TCP6_443]);
		NOMATCH(c, "ethertype IPv6: VLAN IPv4", &fr[F_VLAN_UDP4_4791]);
		ntad_bpf__destroy(c->skel);
	}
	/* A TPID rule selects tagged traffic whatever it carries. */
	if (with_rules(c, tagged, 1, 1) == 0) {
		MATCH(c, "ethertype 8021Q: VLAN IPv4", &fr[F_VLAN_UDP4_4791]);
		NOMATCH(c, "ethertype 8021Q: untagged", &fr[F_UDP4_4791]);
		ntad_bpf__destroy(c->skel);
	}
}

static void case_ip_proto(struct ctx *c)
{
	struct ntad_rule udp[] = { { .ip_proto = 17 } };
	struct ntad_rule tcp[] = { { .ip_proto = 6 } };

	if (with_rules(c, udp, 1, 1) == 0) {
		MATCH(c, "proto UDP: UDP4", &fr[F_UDP4_53]);
		MATCH(c, "proto UDP: UDP6", &fr[F_UDP6_4791]);
		MATCH(c, "proto UDP: VLAN UDP4", &fr[F_VLAN_UDP4_4791]);
		MATCH(c, "proto UDP: non-first fragment", &fr[F_UDP4_FRAG_4791]);
		MATCH(c, "proto UDP: truncated after IPv4 header", &fr[F_UDP4_TRUNC]);
		NOMATCH(c, "proto UDP: TCP4", &fr[F_TCP4_80]);
		NOMATCH(c, "proto UDP: TCP6", &fr[F_TCP6_443]);
		NOMATCH(c, "proto UDP: ARP", &fr[F_ARP]);
		NOMATCH(c, "proto UDP: IPv4 with IHL < 5", &fr[F_IPV4_BAD_IHL]);
		ntad_bpf__destroy(c->skel);
	}
	if (with_rules(c, tcp, 1, 1) == 0) {
		MATCH(c, "proto TCP: TCP4", &fr[F_TCP4_80]);
		MATCH(c, "proto TCP: QinQ TCP6", &fr[F_QINQ_TCP6_443]);
		NOMATCH(c, "proto TCP: UDP6", &fr[F_UDP6_4791]);
		NOMATCH(c, "proto TCP: ICMPv6", &fr[F_ICMP6]);
		ntad_bpf__destroy(c->skel);
	}
}

static void case_dport(struct ctx *c)
{
	struct ntad_rule any[] = { { .dport = 4791 } };
	struct ntad_rule tcp443[] = { { .ethertype = 0x86dd, .ip_proto = 6, .dport = 443 } };

	if (with_rules(c, any, 1, 1) == 0) {
		MATCH(c, "dport 4791: UDP4", &fr[F_UDP4_4791]);
		MATCH(c, "dport 4791: UDP4 with IP options", &fr[F_UDP4_OPT_4791]);
		MATCH(c, "dport 4791: UDP6", &fr[F_UDP6_4791]);
		MATCH(c, "dport 4791: VLAN UDP4", &fr[F_VLAN_UDP4_4791]);
		/* sport is 4791 in these two: a dport rule must not look at it. */
		NOMATCH(c, "dport 4791: UDP4 to 53", &fr[F_UDP4_53]);
		NOMATCH(c, "dport 4791: TCP4 to 80", &fr[F_TCP4_80]);
		NOMATCH(c, "dport 4791: non-first fragment", &fr[F_UDP4_FRAG_4791]);
		NOMATCH(c, "dport 4791: truncated", &fr[F_UDP4_TRUNC]);
		NOMATCH(c, "dport 4791: three VLAN tags", &fr[F_TRIPLE_UDP4]);
		NOMATCH(c, "dport 4791: IHL < 5", &fr[F_IPV4_BAD_IHL]);
		ntad_bpf__destroy(c->skel);
	}
	if (with_rules(c, tcp443, 1, 1) == 0) {
		MATCH(c, "IPv6 TCP 443: untagged", &fr[F_TCP6_443]);
		MATCH(c, "IPv6 TCP 443: QinQ", &fr[F_QINQ_TCP6_443]);
		NOMATCH(c, "IPv6 TCP 443: UDP6 4791", &fr[F_UDP6_4791]);
		NOMATCH(c, "IPv6 TCP 443: TCP4 80", &fr[F_TCP4_80]);
		ntad_bpf__destroy(c->skel);
	}
}

static void case_many_rules(struct ctx *c)
{
	struct ntad_rule r[NTAD_MAX_RULES] = {
		{ .ethertype = 0x0806 },
		{ .ip_proto = 6, .dport = 80 },
		{ .dport = 4791 },
	};

	/* Any rule of the table selects; the full table loads too. */
	for (unsigned i = 3; i < NTAD_MAX_RULES; i++)
		r[i] = (struct ntad_rule){ .ethertype = 0x88cc }; /* LLDP */
	if (with_rules(c, r, NTAD_MAX_RULES, NTAD_MAX_RULES) == 0) {
		MATCH(c, "3 rules: ARP (first)", &fr[F_ARP]);
		MATCH(c, "3 rules: TCP 80 (second)", &fr[F_TCP4_80]);
		MATCH(c, "3 rules: UDP6 4791 (third)", &fr[F_UDP6_4791]);
		NOMATCH(c, "3 rules: UDP 53", &fr[F_UDP4_53]);
		NOMATCH(c, "3 rules: TCP6 443", &fr[F_TCP6_443]);
		ntad_bpf__destroy(c->skel);
	}
	/* Entries past nr_rules are ignored even when present in the map. */
	if (with_rules(c, r, 3, 2) == 0) {
		MATCH(c, "nr_rules 2: ARP", &fr[F_ARP]);
		NOMATCH(c, "nr_rules 2: rule 3 ignored", &fr[F_UDP6_4791]);
		ntad_bpf__destroy(c->skel);
	}
}

/*
 * With a socket in xsks_map slot 0 a selected frame is redirected. The socket
 * is bound to the loopback of a network namespace private to this process, so
 * nothing outside the test sees it.
 */
static void case_redirect(struct ctx *c)
{
	struct ntad_rule r[] = { { .ip_proto = 17 } };
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq, rx;
	struct xsk_umem *umem = NULL;
	struct xsk_socket *xsk = NULL;
	struct xsk_socket_config cfg = {
		.rx_size = 64, .tx_size = 64,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	size_t size = 64 * 4096;
	void *area;
	__u32 k = 0;
	int fd, err;

	if (unshare(CLONE_NEWNET)) {
		failures++;
		fprintf(stderr, "FAIL: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return;
	}
	area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		failures++;
		fprintf(stderr, "FAIL: mmap: %s\n", strerror(errno));
		return;
	}
	err = xsk_umem__create(&umem, area, size, &fq, &cq, NULL);
	if (!err)
		err = xsk_socket__create(&xsk, "lo", 0, umem, &rx, &tx, &cfg);
	if (err) {
		failures++;
		fprintf(stderr, "FAIL: AF_XDP socket on lo: %s\n", strerror(-err));
		goto out;
	}
	if (with_rules(c, r, 1, 1))
		goto out;
	fd = xsk_socket__fd(xsk);
	err = bpf_map__update_elem(c->skel->maps.xsks_map, &k, sizeof(k), &fd, sizeof(fd), 0);
	CHECK(err == 0, "xsks_map update: %s", strerror(-err));
	if (!err) {
		run(c, "socket: UDP4 selected", &fr[F_UDP4_4791], XDP_REDIRECT, 1);
		run(c, "socket: UDP6 selected", &fr[F_UDP6_4791], XDP_REDIRECT, 1);
		NOMATCH(c, "socket: TCP4 not selected", &fr[F_TCP4_80]);
		run(c, "socket: runt", &fr[F_RUNT], XDP_DROP, 0);
		/* Removing the socket brings back the fallback to the stack. */
		err = bpf_map__delete_elem(c->skel->maps.xsks_map, &k, sizeof(k), 0);
		CHECK(err == 0, "xsks_map delete: %s", strerror(-err));
		MATCH(c, "socket removed: UDP4 selected, passed", &fr[F_UDP4_4791]);
	}
	ntad_bpf__destroy(c->skel);
out:
	if (xsk)
		xsk_socket__delete(xsk);
	if (umem)
		xsk_umem__delete(umem);
	munmap(area, size);
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* The verifier log is worth seeing when a load fails; debug chatter is not. */
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

int main(void)
{
	struct ctx c = { 0 };

	if (geteuid() != 0) {
		printf("test_bpf_prog: needs root (CAP_BPF, CAP_NET_ADMIN) to load XDP programs\n");
		return 77;
	}
	libbpf_set_print(quiet);
	c.ncpus = libbpf_num_possible_cpus();
	if (c.ncpus <= 0) {
		printf("FAIL: libbpf_num_possible_cpus: %d\n", c.ncpus);
		return 1;
	}
	build_frames();
	case_no_rules(&c);
	case_ethertype(&c);
	case_vlan(&c);
	case_ip_proto(&c);
	case_dport(&c);
	case_many_rules(&c);
	case_redirect(&c); /* last: it moves the process into a new netns */
	return check_done("test_bpf_prog");
}
