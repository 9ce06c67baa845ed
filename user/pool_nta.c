// SPDX-License-Identifier: MIT
/*
 * pool_nta.c - the UMEM managed by the Network Tree Allocator.
 *
 * Every byte of the UMEM belongs to one nta object. Fill regions are nta blocks
 * of chunk_size bytes (bulk-allocated), so the kernel, which may write anywhere
 * in [addr, addr + chunk_size), only ever writes into memory nta handed out.
 * When a received packet is kept (it waits on a TX ring), the region's head (the
 * XDP headroom) and its unused tail go back at once: a held packet costs its own
 * length rounded up to a block, not a chunk. The default nta geometry (32-byte
 * blocks, 4 KiB pages) is used: a chunk (<= 4096) is then always inside one nta
 * page, which nta_free needs for partial frees. nta's front cache is sized to
 * the chunk, so a region freed by rxdrop is what the next refill gets back.
 * With multi-buffer, the end of the UMEM is nta's jumbo range: a 9000-byte
 * frame is one contiguous block there (frags.c), never on a fill ring.
 */
#include <errno.h>
#include <stdlib.h>

#include "nta.h"
#include "pool.h"

struct pool_nta {
	struct ntad_pool base;
	struct nta *nta;
	uint32_t block;
};

static struct pool_nta *to_nta(struct ntad_pool *p)
{
	return (struct pool_nta *)p;
}

static const struct pool_nta *to_cnta(const struct ntad_pool *p)
{
	return (const struct pool_nta *)p;
}

static unsigned int nta_fill_alloc(struct ntad_pool *p, uint64_t *addrs, unsigned int n)
{
	int got = nta_alloc_bulk(to_nta(p)->nta, p->chunk_size, addrs, n);

	return got < 0 ? 0 : (unsigned int)got;
}

static int nta_rx_trim(struct ntad_pool *p, uint64_t base, uint64_t addr, uint32_t len)
{
	struct pool_nta *pn = to_nta(p);
	uint64_t end = base + p->chunk_size;
	uint64_t tail = (addr + len + pn->block - 1) & ~(uint64_t)(pn->block - 1);
	int err = 0;

	if (addr > base)
		err = nta_free(pn->nta, base, (uint32_t)(addr - base));
	if (!err && tail < end)
		err = nta_free(pn->nta, tail, (uint32_t)(end - tail));
	return err;
}

static int nta_pool_alloc(struct ntad_pool *p, uint32_t len, uint64_t *addr)
{
	return nta_alloc(to_nta(p)->nta, len, addr);
}

static int nta_pool_free(struct ntad_pool *p, uint64_t addr, uint32_t len)
{
	return nta_free(to_nta(p)->nta, addr, len);
}

static void nta_pool_stats(const struct ntad_pool *p, struct ntad_pool_stats *st)
{
	struct nta_stats ns = { .sz = sizeof(ns) };

	if (nta_get_stats(to_cnta(p)->nta, &ns)) {
		*st = (struct ntad_pool_stats){ 0 };
		return;
	}
	st->size = ns.area_size;
	st->in_use = ns.bytes_in_use;
	/* Regions parked in nta's front cache are free for every purpose of ours. */
	st->free = ns.bytes_free + ns.bytes_cached;
	st->cached = ns.bytes_cached;
	st->largest_free = ns.largest_free;
	st->alloc_failures = ns.alloc_failures;
}

static int nta_pool_check(const struct ntad_pool *p)
{
	return nta_check(to_cnta(p)->nta);
}

static void nta_pool_destroy(struct ntad_pool *p)
{
	nta_destroy(to_nta(p)->nta);
	free(p);
}

static const struct ntad_pool_ops nta_ops = {
	.name = "nta",
	.fill_alloc = nta_fill_alloc,
	.rx_trim = nta_rx_trim,
	.alloc = nta_pool_alloc,
	.free = nta_pool_free,
	.stats = nta_pool_stats,
	.check = nta_pool_check,
	.destroy = nta_pool_destroy,
};

struct ntad_pool *ntad_pool_nta_create(void *area, uint64_t size, uint32_t chunk_size)
{
	return ntad_pool_nta_create_jumbo(area, size, chunk_size, 0);
}

struct ntad_pool *ntad_pool_nta_create_jumbo(void *area, uint64_t size, uint32_t chunk_size,
					     uint64_t jumbo_size)
{
	struct pool_nta *pn = calloc(1, sizeof(*pn));

	if (!pn)
		return NULL;
	/*
	 * nta's front cache holds freed regions of exactly one size for the next
	 * fill-ring refill: make that size the chunk (it must be a power of two;
	 * other chunk sizes simply never hit the cache).
	 */
	NTA_OPTS(no, .cache_len = (chunk_size & (chunk_size - 1)) ? 0 : chunk_size,
		 .jumbo_size = jumbo_size, .jumbo_page_size = NTAD_POOL_JUMBO_PAGE);

	pn->nta = nta_create(area, size, &no);
	if (!pn->nta) {
		int err = errno;

		free(pn);
		errno = err;
		return NULL;
	}
	pn->block = nta_block_size(pn->nta);
	if (chunk_size > nta_max_alloc(pn->nta) || chunk_size % pn->block) {
		nta_destroy(pn->nta);
		free(pn);
		errno = EINVAL;
		return NULL;
	}
	pn->base.ops = &nta_ops;
	pn->base.chunk_size = chunk_size;
	pn->base.exact = true;
	return &pn->base;
}
