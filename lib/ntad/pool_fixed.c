// SPDX-License-Identifier: MIT
/*
 * pool_fixed.c - the baseline UMEM manager: fixed frames of chunk_size bytes on
 * a LIFO stack, the way the kernel's xdpsock sample and most AF_XDP programs
 * manage their UMEM. Every buffer, a 64-byte packet included, costs a whole frame.
 *
 * LIFO so the most recently freed (cache-warm) frame goes out first. A byte per
 * frame (a load and a store on every free, where a bit would take a shift and
 * a mask more; 64 KiB for 128 MiB of frames) marks the free ones and catches double frees and frees of addresses that are not in use,
 * so check() means the same thing as nta_check() does for the nta pool.
 * With several queues each queue gets one of these over its own slice
 * [base, base + size) of the UMEM: the per-queue UMEMs of fixed frames that
 * other AF_XDP engines use, which ntad's shared nta is compared against.
 *
 * Frames never cross a page (4 KiB, or 2 MiB on huge pages): a zero-copy
 * driver maps the UMEM page by page, so a frame across two pages would be two
 * DMA areas. A chunk that divides the page (2048, 4096) loses nothing; 3072
 * leaves a 1 KiB gap after each frame.
 */
#include <errno.h>
#include <stdlib.h>

#include "pool.h"

struct pool_fixed {
	struct ntad_pool base;
	uint64_t nr_frames;
	uint32_t page;           /* no frame crosses a multiple of it */
	uint32_t per_page;       /* frames in one page */
	uint32_t shift;          /* chunk = 1 << shift and divides page: frames back to back; else 0 */
	uint64_t top;            /* frames on the stack */
	uint64_t *stack;         /* frame indexes, LIFO: a pop needs no address-to-frame lookup */
	uint8_t *is_free;        /* byte per frame */
	uint64_t alloc_failures;
};

static struct pool_fixed *to_fixed(struct ntad_pool *p)
{
	return (struct pool_fixed *)p;
}

static const struct pool_fixed *to_cfixed(const struct ntad_pool *p)
{
	return (const struct pool_fixed *)p;
}

static inline bool frame_free(const struct pool_fixed *pf, uint64_t i)
{
	return pf->is_free[i];
}

static inline void set_free(struct pool_fixed *pf, uint64_t i, bool v)
{
	pf->is_free[i] = v;
}

static inline uint64_t frame_addr(const struct pool_fixed *pf, uint64_t i)
{
	if (pf->shift)
		return pf->base.base + (i << pf->shift);
	return pf->base.base + i / pf->per_page * pf->page + i % pf->per_page * pf->base.chunk_size;
}

/* The frame holding [addr, addr + len), or UINT64_MAX. Every free asks: the
 * usual chunk (a power of two) takes the shift, not the divisions. */
static inline uint64_t frame_of(const struct pool_fixed *pf, uint64_t addr, uint32_t len)
{
	uint64_t rel = addr - pf->base.base, off, k, i;

	if (pf->shift) {
		i = rel >> pf->shift; /* below base, rel wraps: i >= nr_frames */
		if (i >= pf->nr_frames ||
		    (rel & (pf->base.chunk_size - 1)) + len > pf->base.chunk_size)
			return UINT64_MAX;
		return i;
	}
	off = rel % pf->page;
	k = off / pf->base.chunk_size;
	i = rel / pf->page * pf->per_page + k;
	if (addr < pf->base.base || k >= pf->per_page || i >= pf->nr_frames ||
	    off + len > (k + 1) * pf->base.chunk_size)
		return UINT64_MAX;
	return i;
}

static inline int pop(struct pool_fixed *pf, uint64_t *addr)
{
	uint64_t i;

	if (!pf->top) {
		pf->alloc_failures++;
		return -ENOMEM;
	}
	i = pf->stack[--pf->top];
	set_free(pf, i, false);
	*addr = frame_addr(pf, i);
	return 0;
}

static unsigned int fixed_fill_alloc(struct ntad_pool *p, uint64_t *addrs, unsigned int n)
{
	struct pool_fixed *pf = to_fixed(p);
	/* In locals: a store to addrs (or to the byte map) could alias pf's
	 * fields, which the compiler would then load again for every frame. */
	uint64_t top = pf->top, base = pf->base.base, *stack = pf->stack;
	uint32_t shift = pf->shift;
	uint8_t *is_free = pf->is_free;
	unsigned int k = n < top ? n : (unsigned int)top;

	for (unsigned int i = 0; i < k; i++) {
		uint64_t f = stack[--top];

		is_free[f] = 0;
		addrs[i] = shift ? base + (f << shift) : frame_addr(pf, f);
	}
	pf->top = top;
	if (k < n)
		pf->alloc_failures++;
	return k;
}

static int fixed_rx_trim(struct ntad_pool *p, uint64_t base, uint64_t addr, uint32_t len)
{
	/* A frame cannot be split: the packet keeps the whole frame. */
	(void)p, (void)base, (void)addr, (void)len;
	return 0;
}

static int fixed_alloc(struct ntad_pool *p, uint32_t len, uint64_t *addr)
{
	if (!len || len > p->chunk_size)
		return -EINVAL;
	return pop(to_fixed(p), addr);
}

static unsigned int fixed_alloc_bulk(struct ntad_pool *p, uint32_t len, uint64_t *addrs, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (fixed_alloc(p, len, &addrs[i]))
			break;
	return i;
}

static inline int push(struct pool_fixed *pf, uint64_t addr, uint32_t len)
{
	uint64_t i = frame_of(pf, addr, len);

	if (i == UINT64_MAX || frame_free(pf, i))
		return -EINVAL;
	set_free(pf, i, true);
	pf->stack[pf->top++] = i;
	return 0;
}

static int fixed_free(struct ntad_pool *p, uint64_t addr, uint32_t len)
{
	return push(to_fixed(p), addr, len);
}

static unsigned int fixed_free_bulk(struct ntad_pool *p, const uint64_t *addrs, unsigned int n,
				    uint32_t len)
{
	struct pool_fixed *pf = to_fixed(p);
	/* As fill_alloc: the pool's fields in locals, which the stores to the
	 * stack and the byte map cannot alias. */
	uint64_t base = pf->base.base, nr = pf->nr_frames, top = pf->top, *stack = pf->stack;
	uint32_t shift = pf->shift, chunk = p->chunk_size;
	uint8_t *is_free = pf->is_free;
	unsigned int refused = 0;

	if (!shift) { /* frames not back to back: frame_of's divisions */
		for (unsigned int i = 0; i < n; i++)
			refused += push(pf, addrs[i], len) != 0;
		return refused;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint64_t rel = addrs[i] - base, f = rel >> shift; /* below base, rel wraps: f >= nr */

		if (f >= nr || (rel & (chunk - 1)) + len > chunk || is_free[f]) {
			refused++;
			continue;
		}
		is_free[f] = 1;
		stack[top++] = f;
	}
	pf->top = top;
	return refused;
}

static void fixed_stats(const struct ntad_pool *p, struct ntad_pool_stats *st)
{
	const struct pool_fixed *pf = to_cfixed(p);

	*st = (struct ntad_pool_stats){ 0 };
	st->size = pf->nr_frames * p->chunk_size;
	st->free = pf->top * p->chunk_size;
	st->cached = 0;
	st->in_use = st->size - st->free;
	st->largest_free = pf->top ? p->chunk_size : 0;
	st->alloc_failures = pf->alloc_failures;
}

static int fixed_check(const struct ntad_pool *p)
{
	const struct pool_fixed *pf = to_cfixed(p);
	uint64_t nfree = 0;

	for (uint64_t i = 0; i < pf->nr_frames; i++)
		nfree += frame_free(pf, i);
	if (nfree != pf->top)
		return -EUCLEAN;
	for (uint64_t i = 0; i < pf->top; i++) {
		uint64_t f = pf->stack[i];

		if (f >= pf->nr_frames || !frame_free(pf, f))
			return -EUCLEAN;
	}
	return 0;
}

static unsigned int fixed_drain(struct ntad_pool *p)
{
	(void)p; /* nothing is parked */
	return 0;
}

static void fixed_destroy(struct ntad_pool *p)
{
	struct pool_fixed *pf = to_fixed(p);

	free(pf->stack);
	free(pf->is_free);
	free(pf);
}

static const struct ntad_pool_ops fixed_ops = {
	.name = "fixed",
	.fill_alloc = fixed_fill_alloc,
	.rx_trim = fixed_rx_trim,
	.alloc = fixed_alloc,
	.alloc_bulk = fixed_alloc_bulk,
	.free = fixed_free,
	.free_bulk = fixed_free_bulk,
	.stats = fixed_stats,
	.check = fixed_check,
	.drain = fixed_drain,
	.destroy = fixed_destroy,
};

struct ntad_pool *ntad_pool_fixed_create_at(uint64_t base, uint64_t size, uint32_t chunk_size,
					    uint32_t page)
{
	struct pool_fixed *pf;

	if (!chunk_size || chunk_size > page || base % page || size < page) {
		errno = EINVAL;
		return NULL;
	}
	pf = calloc(1, sizeof(*pf));
	if (!pf)
		return NULL;
	pf->page = page;
	pf->per_page = page / chunk_size;
	if (!(chunk_size & (chunk_size - 1)) && !(page % chunk_size))
		pf->shift = (uint32_t)__builtin_ctz(chunk_size);
	pf->nr_frames = size / page * pf->per_page + size % page / chunk_size;
	pf->stack = calloc(pf->nr_frames, sizeof(*pf->stack));
	pf->is_free = calloc(pf->nr_frames, sizeof(*pf->is_free));
	if (!pf->stack || !pf->is_free) {
		free(pf->stack);
		free(pf->is_free);
		free(pf);
		errno = ENOMEM;
		return NULL;
	}
	pf->base.ops = &fixed_ops;
	pf->base.chunk_size = chunk_size;
	pf->base.exact = false;
	pf->base.shared = false;
	pf->base.base = base;
	pf->base.size = size;
	/* Push in reverse so the first pops return frames in address order. */
	for (uint64_t i = pf->nr_frames; i-- > 0;) {
		pf->stack[pf->top++] = i;
		set_free(pf, i, true);
	}
	return &pf->base;
}
