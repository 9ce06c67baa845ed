/* SPDX-License-Identifier: MIT */
/*
 * pool.h - the UMEM managers behind one small interface, so the engine runs
 * the same loop over nta (variable-size blocks, pool_nta.c) and over a fixed
 * frame LIFO (pool_fixed.c, the baseline benchmarks compare against).
 *
 * Addresses are plain UMEM offsets (no unaligned-mode offset bits). A "region"
 * is what the fill ring gets: chunk_size bytes the kernel may write anywhere in.
 * Not thread-safe: one engine context owns a pool.
 */
#ifndef NTAD_POOL_H
#define NTAD_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"

struct ntad_pool;

/* The nta pool's jumbo page: its largest block, for frames larger than a page. */
#define NTAD_POOL_JUMBO_PAGE 16384u

struct ntad_pool_stats {
	uint64_t size;          /* managed bytes */
	uint64_t in_use;        /* bytes not free */
	uint64_t free;
	uint64_t cached;        /* part of free parked in a front cache */
	uint64_t largest_free;  /* largest block one alloc could return now */
	uint64_t alloc_failures;
};

struct ntad_pool_ops {
	const char *name;
	/* Up to n regions of chunk_size bytes for the fill ring; returns how many. */
	unsigned int (*fill_alloc)(struct ntad_pool *p, uint64_t *addrs, unsigned int n);
	/*
	 * The packet [addr, addr + len) of the region at base stays held (it goes
	 * out on a TX ring): give back the rest of the region now. Afterwards the
	 * packet is freed with free(addr, len).
	 */
	int (*rx_trim)(struct ntad_pool *p, uint64_t base, uint64_t addr, uint32_t len);
	/* A block of exactly len bytes (rounded to the manager's unit). */
	int (*alloc)(struct ntad_pool *p, uint32_t len, uint64_t *addr);
	/* Free a block, a trimmed packet, or a whole region (addr = base, len = chunk). */
	int (*free)(struct ntad_pool *p, uint64_t addr, uint32_t len);
	void (*stats)(const struct ntad_pool *p, struct ntad_pool_stats *st);
	int (*check)(const struct ntad_pool *p);
	void (*destroy)(struct ntad_pool *p);
};

struct ntad_pool {
	const struct ntad_pool_ops *ops;
	uint32_t chunk_size;
	bool exact;             /* alloc returns len-sized blocks (copy-break pays off) */
};

/* Manage [0, size) of the area at base. NULL and errno on failure. */
struct ntad_pool *ntad_pool_nta_create(void *area, uint64_t size, uint32_t chunk_size);
/* The same with jumbo_size bytes (a multiple of NTAD_POOL_JUMBO_PAGE) at the end of
 * the area for blocks larger than a page: multi-buffer frames (frags.c). */
struct ntad_pool *ntad_pool_nta_create_jumbo(void *area, uint64_t size, uint32_t chunk_size,
					     uint64_t jumbo_size);
struct ntad_pool *ntad_pool_fixed_create(uint64_t size, uint32_t chunk_size);

static inline struct ntad_pool *ntad_pool_create(enum ntad_pool_kind kind, void *area,
						 uint64_t size, uint32_t chunk_size)
{
	return kind == NTAD_POOL_FIXED ? ntad_pool_fixed_create(size, chunk_size)
				       : ntad_pool_nta_create(area, size, chunk_size);
}

static inline void ntad_pool_destroy(struct ntad_pool *p)
{
	if (p)
		p->ops->destroy(p);
}

#endif /* NTAD_POOL_H */
