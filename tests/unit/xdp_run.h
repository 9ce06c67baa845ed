/* SPDX-License-Identifier: MIT */
/*
 * xdp_run.h - ntad's XDP program with a classic BPF program in it, run on
 * frames through BPF_PROG_TEST_RUN (plain test runs, not live frames: only
 * the verdict matters, nothing has to reach the socket). Shared by
 * test_xdp_expr.c and tests/fuzz/fuzz_xdp_expr.c.
 *
 * The program is loaded as lib/ntad/xdp.c loads it (cbpf_len and
 * cbpf_snaplen before load, the instructions into cbpf_prog after), and an
 * AF_XDP socket on the loopback of a network namespace private to the
 * process sits in slot 0 of its XSKMAP, so the verdict itself says what the
 * filter chose: XDP_REDIRECT selected, XDP_PASS refused (to the stack).
 * Needs root; moves the calling process into a new network namespace.
 */
#ifndef NTAD_TEST_XDP_RUN_H
#define NTAD_TEST_XDP_RUN_H

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "ntad_bpf.h"
/* bpftool's generated skeleton casts away const on its embedded ELF bytes. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "bpf/ntad.skel.h"
#pragma GCC diagnostic pop

#define XDP_RUN_UMEM (64 * 4096)

struct xdp_run_env {
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq, rx;
	unsigned int ifindex; /* lo */
	int ncpus;
};

struct xdp_run_prog {
	struct ntad_bpf *skel;
	int fd;
};

/* A private network namespace and a socket on its lo. 0 or -errno (what failed on stderr). */
static inline int xdp_run_env_init(struct xdp_run_env *e)
{
	struct xsk_socket_config cfg = {
		.rx_size = 64, .tx_size = 64,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	int err;

	memset(e, 0, sizeof(*e));
	e->ncpus = libbpf_num_possible_cpus();
	if (e->ncpus <= 0 || unshare(CLONE_NEWNET)) {
		fprintf(stderr, "xdp_run: possible CPUs %d, unshare(CLONE_NEWNET): %s\n", e->ncpus, strerror(errno));
		return -EPERM;
	}
	e->ifindex = if_nametoindex("lo");
	e->area = mmap(NULL, XDP_RUN_UMEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (e->area == MAP_FAILED)
		return -ENOMEM;
	err = xsk_umem__create(&e->umem, e->area, XDP_RUN_UMEM, &e->fq, &e->cq, NULL);
	if (!err)
		err = xsk_socket__create(&e->xsk, "lo", 0, e->umem, &e->rx, &e->tx, &cfg);
	if (err)
		fprintf(stderr, "xdp_run: AF_XDP socket on lo: %s\n", strerror(-err));
	return err;
}

static inline void xdp_run_env_fini(struct xdp_run_env *e)
{
	if (e->xsk)
		xsk_socket__delete(e->xsk);
	if (e->umem)
		xsk_umem__delete(e->umem);
	if (e->area && e->area != MAP_FAILED)
		munmap(e->area, XDP_RUN_UMEM);
}

/* The instructions into the program's map (len <= what it was loaded for). */
static inline int xdp_run_store(struct xdp_run_prog *p, const struct sock_filter *insns, unsigned int len)
{
	static struct ntad_cbpf c;
	__u32 k = 0;

	memset(&c, 0, sizeof(c));
	memcpy(c.insns, insns, len * sizeof(*insns));
	return bpf_map__update_elem(p->skel->maps.cbpf_prog, &k, sizeof(k), &c, sizeof(c), 0);
}

/* Load the program for len instructions seeing snaplen bytes (0: all), store insns. */
static inline int xdp_run_load(struct xdp_run_env *e, struct xdp_run_prog *p, const struct sock_filter *insns,
			unsigned int len, uint32_t snaplen)
{
	__u32 k = 0;
	int fd, err;

	p->skel = ntad_bpf__open();
	if (!p->skel)
		return -errno;
	p->skel->rodata->cbpf_len = len;
	if (snaplen)
		p->skel->rodata->cbpf_snaplen = snaplen;
	err = ntad_bpf__load(p->skel);
	if (!err)
		err = xdp_run_store(p, insns, len);
	fd = xsk_socket__fd(e->xsk);
	if (!err)
		err = bpf_map__update_elem(p->skel->maps.xsks_map, &k, sizeof(k), &fd, sizeof(fd), 0);
	if (err) {
		ntad_bpf__destroy(p->skel);
		p->skel = NULL;
		return err;
	}
	p->fd = bpf_program__fd(p->skel->progs.ntad_xdp);
	return 0;
}

static inline void xdp_run_unload(struct xdp_run_prog *p)
{
	ntad_bpf__destroy(p->skel);
	p->skel = NULL;
}

/*
 * One frame of len bytes, linear of them in the linear part (0: all; the
 * rest in fragments). 0 and the verdict in *ret, or -errno.
 */
static inline int xdp_run_frame(struct xdp_run_env *e, struct xdp_run_prog *p, const uint8_t *frame, uint32_t len,
			 uint32_t linear, uint32_t *ret)
{
	struct xdp_md md = { .data_end = linear ? linear : len, .ingress_ifindex = e->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len, .ctx_in = &md,
		    .ctx_size_in = sizeof(md), .repeat = 1);
	int err = bpf_prog_test_run_opts(p->fd, &o);

	*ret = o.retval;
	return err;
}

/* The program's counters, summed over the CPUs. 0 or -errno. */
static inline int xdp_run_stats(struct xdp_run_env *e, struct xdp_run_prog *p, struct ntad_xdp_stats *sum)
{
	struct ntad_xdp_stats *v = calloc((size_t)e->ncpus, sizeof(*v));
	__u32 k = 0;
	int err;

	memset(sum, 0, sizeof(*sum));
	if (!v)
		return -ENOMEM;
	err = bpf_map__lookup_elem(p->skel->maps.xdp_stats, &k, sizeof(k), v, sizeof(*v) * (size_t)e->ncpus, 0);
	for (int i = 0; !err && i < e->ncpus; i++) {
		sum->redirected += v[i].redirected;
		sum->passed += v[i].passed;
		sum->dropped += v[i].dropped;
		sum->matched += v[i].matched;
	}
	free(v);
	return err;
}

#endif /* NTAD_TEST_XDP_RUN_H */
