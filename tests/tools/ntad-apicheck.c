// SPDX-License-Identifier: MIT
/*
 * ntad-apicheck.c - libntad's contract on one real interface (run by
 * tests/net/test_api.sh as root, IFACE a veth end with a peer):
 *  - arguments it cannot serve are refused with EINVAL (NULL and errno for
 *    constructors) and change nothing: bad sizes, rings, chunk sizes, pools,
 *    rules, classic BPF programs, fds, queue ids, port indexes, lengths;
 *  - the ledger refuses a packet given back twice (freed twice, sent after a
 *    free, held after a free) and counts it; the pool is whole again after;
 *  - packets sent with ntad_tx_burst_keep come back through ntad_tx_done,
 *    their bytes unchanged, and free like any other.
 * Prints one line per failed check and "apicheck: N failed"; exit 0 iff none.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ntad.h"

static int failed;

#define EXPECT(cond, ...)                                                 \
	do {                                                              \
		if (!(cond)) {                                            \
			failed++;                                         \
			printf("FAIL line %d: %s: ", __LINE__, #cond);    \
			printf(__VA_ARGS__);                              \
			putchar('\n');                                    \
		}                                                         \
	} while (0)

static int quiet(enum ntad_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

static void bad_umem(const struct ntad_umem_opts *o, const char *what)
{
	struct ntad_umem *u;

	errno = 0;
	u = ntad_umem__create(o);
	EXPECT(!u && errno == EINVAL, "umem %s: %p errno %d", what, (void *)u, errno);
	ntad_umem__destroy(u);
}

int main(int argc, char **argv)
{
	struct ntad_rule rules[NTAD_MAX_RULES + 1] = { 0 };
	/* Read past its one instruction only by the too-long case, which is refused first. */
	static const struct sock_filter accept[NTAD_CBPF_MAX_INSNS + 1] = { BPF_STMT(BPF_RET | BPF_K, 1) };
	static const struct sock_filter loop[] = { BPF_STMT(BPF_LD | BPF_IMM, 0), BPF_STMT(BPF_JMP | BPF_JA, -2) };
	struct ntad_pool_stats before, after;
	struct ntad_queue_stats st;
	struct ntad_pkt p[2], copy;
	struct ntad_umem *u;
	struct ntad_port *port;
	struct ntad_queue *q;

	if (argc != 2) {
		fprintf(stderr, "usage: %s IFACE\n", argv[0]);
		return 2;
	}
	ntad_set_print(quiet);
	{
		LIBNTAD_OPTS(ntad_umem_opts, a, .chunk_size = 1000);
		LIBNTAD_OPTS(ntad_umem_opts, b, .chunk_size = 8192);
		LIBNTAD_OPTS(ntad_umem_opts, c, .fill_size = 1000);
		LIBNTAD_OPTS(ntad_umem_opts, d, .size = 4095);
		LIBNTAD_OPTS(ntad_umem_opts, e, .size = UINT64_MAX & ~4095ull);
		LIBNTAD_OPTS(ntad_umem_opts, f, .pool = (enum ntad_pool_kind)7);
		LIBNTAD_OPTS(ntad_umem_opts, g, .nr_queues = NTAD_MAX_QUEUES + 1);
		LIBNTAD_OPTS(ntad_umem_opts, h, .pool = NTAD_POOL_FIXED, .jumbo_size = 16384);
		LIBNTAD_OPTS(ntad_umem_opts, i, .jumbo_size = 1000);
		struct ntad_umem_opts tiny = { .sz = 4 };

		bad_umem(&a, "chunk 1000");
		bad_umem(&b, "chunk 8192");
		bad_umem(&c, "fill ring 1000");
		bad_umem(&d, "size 4095");
		bad_umem(&e, "size near 2^64");
		bad_umem(&f, "pool 7");
		bad_umem(&g, "65 queues");
		bad_umem(&h, "jumbo range with fixed frames");
		bad_umem(&i, "jumbo range not a multiple of its page");
		bad_umem(&tiny, "opts too short");
	}
	u = ntad_umem__create(NULL);
	EXPECT(u, "default umem: errno %d", errno);
	if (!u)
		return 1;
	{
		LIBNTAD_OPTS(ntad_port_opts, a, .rules = rules, .nr_rules = NTAD_MAX_RULES + 1);
		LIBNTAD_OPTS(ntad_port_opts, b, .nr_rules = 1);
		LIBNTAD_OPTS(ntad_port_opts, c, .rx_size = 1000);
		LIBNTAD_OPTS(ntad_port_opts, d, .xsks_map_fd = -1);
		LIBNTAD_OPTS(ntad_port_opts, e, .prog_fd = 5);
		LIBNTAD_OPTS(ntad_port_opts, f, .xdp_mode = (enum ntad_xdp_mode)9);
		LIBNTAD_OPTS(ntad_port_opts, g, .cbpf = accept, .cbpf_len = 1, .rules = rules, .nr_rules = 1);
		LIBNTAD_OPTS(ntad_port_opts, h, .cbpf_len = 1);
		LIBNTAD_OPTS(ntad_port_opts, i, .cbpf = accept);
		LIBNTAD_OPTS(ntad_port_opts, j, .cbpf = loop, .cbpf_len = 2);
		LIBNTAD_OPTS(ntad_port_opts, m, .cbpf = accept, .cbpf_len = NTAD_CBPF_MAX_INSNS + 1);
		LIBNTAD_OPTS(ntad_port_opts, l, .cbpf = accept, .cbpf_len = 1, .xsks_map_fd = 5);
		const struct ntad_port_opts *bad[] = { &a, &b, &c, &d, &e, &f, &g, &h, &i, &j, &m, &l };

		for (unsigned int k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			errno = 0;
			port = ntad_port__open(u, argv[1], bad[k]);
			EXPECT(!port && errno == EINVAL, "port opts %u: errno %d", k, errno);
		}
		errno = 0;
		EXPECT(!ntad_port__open(NULL, argv[1], NULL) && errno == EINVAL, "port on no UMEM");
		errno = 0;
		EXPECT(!ntad_port__open(u, "nosuch0", NULL) && errno == ENODEV, "no such interface: %d", errno);
	}
	{
		LIBNTAD_OPTS(ntad_port_opts, o, .cbpf = accept, .cbpf_len = 1, .cbpf_snaplen = 64);

		port = ntad_port__open(u, argv[1], &o);
		EXPECT(port, "port with a classic BPF program: errno %d", errno);
		ntad_port__close(port);
	}
	EXPECT(ntad_cbpf_check(loop, 2, NULL) == -EOPNOTSUPP, "a backward jump");
	port = ntad_port__open(u, argv[1], NULL);
	EXPECT(port, "port: errno %d", errno);
	if (!port)
		return 1;
	{
		LIBNTAD_OPTS(ntad_queue_opts, a, .queue_id = NTAD_MAX_QUEUES);
		LIBNTAD_OPTS(ntad_queue_opts, b, .batch = 100000);
		struct ntad_port *two[2] = { port, port };

		errno = 0;
		EXPECT(!ntad_queue__create(&port, 1, &a) && errno == EINVAL, "queue id 64");
		errno = 0;
		EXPECT(!ntad_queue__create(&port, 1, &b) && errno == EINVAL, "batch 100000");
		errno = 0;
		EXPECT(!ntad_queue__create(two, 2, NULL) && errno == EINVAL, "one port twice");
		errno = 0;
		EXPECT(!ntad_queue__create(&port, 0, NULL) && errno == EINVAL, "no port");
	}
	q = ntad_queue__create(&port, 1, NULL);
	EXPECT(q, "queue: errno %d", errno);
	if (!q || ntad_port__start(port))
		return 1;
	EXPECT(ntad_port__sock_error(port) == 0 && ntad_port__sock_error(NULL) == -EINVAL,
	       "sock_error after a good queue");
	{
		/* A queue more than the UMEM has pool handles for fails before any
		 * socket: no socket error on the port (test_badinput sees a busy one). */
		struct ntad_queue *q2 = ntad_queue__create(&port, 1, NULL);

		EXPECT(!q2 && errno && ntad_port__sock_error(port) == 0,
		       "queue beyond the UMEM's: %p, sock_error %d", (void *)q2,
		       ntad_port__sock_error(port));
		ntad_queue__destroy(q2);
	}
	EXPECT(ntad_rx_burst(q, 1, p, 2) == 0, "rx on port index 1 of a one-port queue");
	EXPECT(ntad_tx_room(q, 1) == 0, "tx room of port index 1");
	EXPECT(ntad_pkt_alloc(q, 0, p, 1) == 0, "alloc of 0 bytes");
	EXPECT(ntad_pkt_alloc(q, UINT32_MAX, p, 1) == 0, "alloc of 4 GiB");
	EXPECT(ntad_pkt_at(q, ntad_umem__size(u) - 10, 64, p) == -EINVAL, "pkt_at past the end");
	EXPECT(ntad_pkt_at(q, UINT64_MAX - 10, 64, p) == -EINVAL, "pkt_at near 2^64");

	ntad_umem__pool_stats(u, &before);
	EXPECT(ntad_pkt_alloc(q, 100, p, 2) == 2, "alloc 2 x 100");
	copy = p[0];
	ntad_pkt_free(q, p, 2);
	ntad_pkt_free(q, &copy, 1);                 /* a second free */
	EXPECT(ntad_tx_burst(q, 0, &copy, 1) == 1, "a send after the free is taken (and refused)");
	EXPECT(ntad_pkt_hold(q, &copy) == 0, "hold of an own block is nothing to do");
	{
		struct ntad_pkt own[3];
		int err = 1;

		EXPECT(ntad_pkt_hold_burst(q, NULL, 1, &err) == 0 && err == -EINVAL, "hold burst of NULL");
		EXPECT(ntad_pkt_alloc(q, 100, own, 3) == 3, "alloc 3 x 100");
		EXPECT(ntad_pkt_hold_burst(q, own, 3, &err) == 3 && err == 0,
		       "hold burst of own blocks is nothing to do");
		ntad_pkt_free(q, own, 3);
	}
	ntad_queue__stats(q, &st);
	EXPECT(st.ledger_refused == 2, "ledger_refused %llu, want 2 (free twice, send after free)",
	       (unsigned long long)st.ledger_refused);
	EXPECT(st.tx_submitted == 1 && ntad_queue__tx_pending(q) == 0, "refused send went out");
	ntad_umem__pool_stats(u, &after);
	EXPECT(after.in_use == before.in_use, "in use %llu after, %llu before",
	       (unsigned long long)after.in_use, (unsigned long long)before.in_use);

	/* Kept sends come back through ntad_tx_done, bytes unchanged, the caller's again. */
	EXPECT(ntad_tx_done(q, NULL, 2) == 0, "tx_done into NULL");
	EXPECT(ntad_pkt_alloc(q, 100, p, 2) == 2, "alloc 2 x 100 to keep");
	memset(p[0].data, 0x5a, 100);
	memset(p[1].data, 0xa5, 100);
	EXPECT(ntad_tx_burst_keep(q, 0, p, 2) == 2, "keep-send of 2");
	{
		struct ntad_pkt back[2];
		unsigned int got = 0;

		for (int spins = 0; spins < 1000 && got < 2; spins++) {
			ntad_queue__flush(q, ntad_queue__poll(q));
			got += ntad_tx_done(q, back + got, 2 - got);
			if (got < 2)
				ntad_queue__wait(q, 1000000, -1);
		}
		EXPECT(got == 2 && back[0].addr == p[0].addr && back[1].addr == p[1].addr &&
		       back[0].len == 100 && back[0].data[0] == 0x5a && back[1].data[99] == 0xa5,
		       "%u of 2 kept packets back, unchanged", got);
		ntad_pkt_free(q, back, got);
	}
	ntad_queue__stats(q, &st);
	EXPECT(st.ledger_refused == 2 && st.tx_done_freed == 0, "kept: ledger_refused %llu, tx_done_freed %llu",
	       (unsigned long long)st.ledger_refused, (unsigned long long)st.tx_done_freed);
	ntad_umem__pool_stats(u, &after);
	EXPECT(after.in_use == before.in_use, "in use %llu after the kept sends, %llu before",
	       (unsigned long long)after.in_use, (unsigned long long)before.in_use);

	ntad_port__stop(port);
	ntad_queue__destroy(q);
	{
		struct ntad_umem_exit ex;

		EXPECT(!ntad_umem__reclaim(u, &ex) && ex.check_ok && !ex.pool_errors, "reclaim");
		ntad_umem__pool_stats(u, &after);
		EXPECT(after.in_use == 0, "%llu bytes in use at the end", (unsigned long long)after.in_use);
	}
	ntad_port__close(port);
	ntad_umem__destroy(u);
	printf("apicheck: %d failed\n", failed);
	return failed ? 1 : 0;
}
