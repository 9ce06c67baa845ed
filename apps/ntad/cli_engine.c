// SPDX-License-Identifier: MIT
/*
 * cli_engine.c - the options that become libntad's configuration, whatever
 * the mode: the interfaces and queues (and the CPUs of their threads), the
 * UMEM and its manager, the rings, how the sockets bind and the XDP program
 * attaches, copy-break, and multi-buffer.
 *
 * Why apart: main.c hands these to libntad (the UMEM's, the sockets' and the
 * queues' options) and each is checked here against what the kernel takes
 * (ring sizes are powers of two, a chunk 2048..4096 bytes in steps of 64), so
 * that a bad value is refused before an interface is touched. What they must
 * satisfy together (a batch within the rings, a UMEM that holds them) is
 * cli.c's check; --queue and --queues become one list of queues here.
 */
#include <errno.h>
#include <string.h>

#include "cli_internal.h"

static bool is_pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

static int p_iface(char *dst, const char *arg, const char *what, char *err, size_t errlen)
{
	if (!*arg || strlen(arg) >= IF_NAMESIZE || strchr(arg, '/') || strchr(arg, ' '))
		return ntad_cli_fail(err, errlen, "%s '%s': not a valid interface name; give a name from `ip link`",
				     what, arg);
	strcpy(dst, arg);
	return 0;
}

int ntad_opt_interface(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return p_iface(o->ifname, a, "--interface", e, l);
}

int ntad_opt_out_interface(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return p_iface(o->out_ifname, a, "--out-interface", e, l);
}

int ntad_opt_queue(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (ntad_parse_u32(a, &o->queue, 0, NTAD_MAX_QUEUES - 1))
		return ntad_cli_fail(e, l, "--queue '%s': not a queue number; use 0..%d", a, NTAD_MAX_QUEUES - 1);
	ntad_cli.seen |= NTAD_SEEN_QUEUE;
	return 0;
}

/* "0,2,5-7": up to NTAD_MAX_QUEUES distinct numbers below max. */
static int parse_list(const char *a, uint32_t max, uint32_t *out, uint32_t *n, bool distinct)
{
	char buf[512], *save = NULL, *tok;

	*n = 0;
	if (!*a || strlen(a) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, a);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		uint32_t lo, hi;

		if (dash) {
			*dash = '\0';
			if (ntad_parse_u32(tok, &lo, 0, max - 1) || ntad_parse_u32(dash + 1, &hi, lo, max - 1))
				return -EINVAL;
		} else if (ntad_parse_u32(tok, &lo, 0, max - 1)) {
			return -EINVAL;
		} else {
			hi = lo;
		}
		for (uint32_t v = lo; v <= hi; v++) {
			if (*n >= NTAD_MAX_QUEUES)
				return -E2BIG;
			for (uint32_t i = 0; distinct && i < *n; i++)
				if (out[i] == v)
					return -EEXIST;
			out[(*n)++] = v;
		}
	}
	return *n ? 0 : -EINVAL;
}

int ntad_opt_queues(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	int ret;

	if (!strchr(a, ',') && !strchr(a, '-')) {
		if (ntad_parse_u32(a, &ntad_cli.queues_count, 1, NTAD_MAX_QUEUES))
			return ntad_cli_fail(e, l, "--queues '%s': not a queue count; use 1..%d, or a list such as 0,2,4-5",
					     a, NTAD_MAX_QUEUES);
		ntad_cli.seen &= ~NTAD_SEEN_QUEUES_LIST;
		return 0;
	}
	ret = parse_list(a, NTAD_MAX_QUEUES, o->queues, &o->nr_queues, true);
	if (ret == -EEXIST)
		return ntad_cli_fail(e, l, "--queues '%s': a queue is listed twice; name each queue once", a);
	if (ret)
		return ntad_cli_fail(e, l, "--queues '%s': not a queue list; use a count (1..%d) or queues 0..%d such as 0,2,4-5",
				     a, NTAD_MAX_QUEUES, NTAD_MAX_QUEUES - 1);
	ntad_cli.seen |= NTAD_SEEN_QUEUES_LIST;
	ntad_cli.queues_count = 0;
	return 0;
}

int ntad_opt_cpus(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	uint32_t v[NTAD_MAX_QUEUES];

	if (parse_list(a, 4096, v, &o->nr_cpus, false))
		return ntad_cli_fail(e, l, "--cpus '%s': not a CPU list; use one CPU per queue, such as 0,1 or 2-5", a);
	for (uint32_t i = 0; i < o->nr_cpus; i++)
		o->cpus[i] = (int32_t)v[i];
	return 0;
}

int ntad_opt_rt_priority(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (ntad_parse_u32(a, &o->rt_priority, 1, 99))
		return ntad_cli_fail(e, l, "--rt-priority '%s': not a real-time priority; use 1..99 (chrt -m lists the range)", a);
	return 0;
}

int ntad_opt_pool(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (!strcmp(a, "nta"))
		o->pool = NTAD_POOL_NTA;
	else if (!strcmp(a, "fixed"))
		o->pool = NTAD_POOL_FIXED;
	else
		return ntad_cli_fail(e, l, "--pool '%s': unknown UMEM manager; use nta or fixed", a);
	return 0;
}

static int p_ring(uint32_t *dst, const char *name, const char *a, char *e, size_t l)
{
	uint32_t v;

	if (ntad_parse_u32(a, &v, 16, 1u << 18) || !is_pow2(v))
		return ntad_cli_fail(e, l, "--%s '%s': ring sizes are powers of two; use 16..262144", name, a);
	*dst = v;
	return 0;
}

int ntad_opt_rx_size(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return p_ring(&o->rx_size, "rx-size", a, e, l);
}

int ntad_opt_tx_size(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return p_ring(&o->tx_size, "tx-size", a, e, l);
}

int ntad_opt_fill_size(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return p_ring(&o->fill_size, "fill-size", a, e, l);
}

int ntad_opt_comp_size(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return p_ring(&o->comp_size, "comp-size", a, e, l);
}

int ntad_opt_batch(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (ntad_parse_u32(a, &o->batch, 1, 4096))
		return ntad_cli_fail(e, l, "--batch '%s': not a batch size; use 1..4096", a);
	return 0;
}

int ntad_opt_chunk_size(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (ntad_parse_u32(a, &o->chunk_size, 2048, 4096) || o->chunk_size % 64)
		return ntad_cli_fail(e, l, "--chunk-size '%s': the kernel takes 2048..4096; use a multiple of 64 in that range", a);
	return 0;
}

int ntad_opt_umem_size(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (ntad_parse_size(a, &o->umem_size) || o->umem_size < 65536 || o->umem_size > (1ull << 40))
		return ntad_cli_fail(e, l, "--umem-size '%s': not a size; use bytes with k/M/G, 64k..1024G", a);
	return 0;
}

int ntad_opt_hugepages(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	(void)a, (void)e, (void)l;
	o->hugepages = true;
	return 0;
}

int ntad_opt_bind(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (!strcmp(a, "auto"))
		o->bind = NTAD_BIND_AUTO;
	else if (!strcmp(a, "copy"))
		o->bind = NTAD_BIND_COPY;
	else if (!strcmp(a, "zerocopy") || !strcmp(a, "zc"))
		o->bind = NTAD_BIND_ZEROCOPY;
	else
		return ntad_cli_fail(e, l, "--bind '%s': unknown bind mode; use copy, zerocopy or auto", a);
	return 0;
}

int ntad_opt_no_need_wakeup(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	(void)a, (void)e, (void)l;
	o->need_wakeup = false;
	return 0;
}

int ntad_opt_busy_poll(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	(void)a, (void)e, (void)l;
	o->busy_poll = true;
	return 0;
}

int ntad_opt_xdp_mode(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (!strcmp(a, "native") || !strcmp(a, "drv"))
		o->xdp_mode = NTAD_XDP_NATIVE;
	else if (!strcmp(a, "skb") || !strcmp(a, "generic"))
		o->xdp_mode = NTAD_XDP_SKB;
	else
		return ntad_cli_fail(e, l, "--xdp-mode '%s': unknown XDP mode; use native or skb", a);
	return 0;
}

int ntad_opt_copy_break(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	o->given |= NTAD_GIVEN_COPY_BREAK;
	if (ntad_parse_u32(a, &o->copy_break, 0, 4096))
		return ntad_cli_fail(e, l, "--copy-break '%s': not a length; use 0 (off) to 4096 bytes", a);
	return 0;
}

int ntad_opt_frags(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	(void)a;
	if (o->frags_mode == NTAD_FRAGS_OFF)
		return ntad_cli_fail(e, l, "--frags and --no-frags conflict; give one of them");
	o->frags_mode = NTAD_FRAGS_ON;
	return 0;
}

int ntad_opt_no_frags(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	(void)a;
	if (o->frags_mode == NTAD_FRAGS_ON)
		return ntad_cli_fail(e, l, "--frags and --no-frags conflict; give one of them");
	o->frags_mode = NTAD_FRAGS_OFF;
	return 0;
}

/* Resolve --queue/--queues into o->queues[0..nr_queues). */
int ntad_cli_queues_resolve(struct ntad_opts *o, char *e, size_t l)
{
	if (ntad_cli.seen & NTAD_SEEN_QUEUES_LIST) {
		if (ntad_cli.seen & NTAD_SEEN_QUEUE)
			return ntad_cli_fail(e, l, "--queue and a --queues list conflict; give the queues in the list only");
	} else {
		uint32_t n = ntad_cli.queues_count ? ntad_cli.queues_count : 1;

		if (o->queue + n > NTAD_MAX_QUEUES)
			return ntad_cli_fail(e, l, "--queues %u from --queue %u: beyond queue %d; use fewer queues or a lower --queue",
					     n, o->queue, NTAD_MAX_QUEUES - 1);
		for (uint32_t i = 0; i < n; i++)
			o->queues[i] = o->queue + i;
		o->nr_queues = n;
	}
	o->queue = o->queues[0];
	if (o->nr_cpus && o->nr_cpus != o->nr_queues)
		return ntad_cli_fail(e, l, "--cpus: %u CPUs for %u queues; give one CPU per queue", o->nr_cpus, o->nr_queues);
	return 0;
}
