/* SPDX-License-Identifier: MIT */
/*
 * pool.h - the UMEM managers behind one small interface, so the packet path runs
 * the same loop over nta (variable-size blocks, pool_nta.c) and over a fixed
 * frame LIFO (pool_fixed.c, the baseline benchmarks compare against).
 *
 * Addresses are plain UMEM offsets (no unaligned-mode offset bits). A "region"
 * is what the fill ring gets: chunk_size bytes the kernel may write anywhere in.
 *
 * Queues: struct ntad_pools holds one handle (struct ntad_pool) per queue
 * thread; a handle is used by one thread at a time. With nta the handles are
 * caches of one shared nta_mt (any handle may free any address; stats and
 * check describe the whole UMEM); with the fixed pool each queue owns its own
 * slice of frames, as N per-queue UMEMs would (a handle frees only its own).
 */
#ifndef NTAD_POOL_H
#define NTAD_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "ntad.h"

struct ntad_pool;


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
	/* Up to n blocks of len bytes in one call (one lock, one nta walk); returns how many. */
	unsigned int (*alloc_bulk)(struct ntad_pool *p, uint32_t len, uint64_t *addrs, unsigned int n);
	/* Free a block, a trimmed packet, or a whole region (addr = base, len = chunk). */
	int (*free)(struct ntad_pool *p, uint64_t addr, uint32_t len);
	/* n frees of len bytes each (a batch of whole regions); returns how many were refused. */
	unsigned int (*free_bulk)(struct ntad_pool *p, const uint64_t *addrs, unsigned int n,
				  uint32_t len);
	void (*stats)(const struct ntad_pool *p, struct ntad_pool_stats *st);
	int (*check)(const struct ntad_pool *p);
	/* Give back what the handle parks (nta_mt magazines); returns the number of
	 * deferred frees the manager refused. */
	unsigned int (*drain)(struct ntad_pool *p);
	void (*destroy)(struct ntad_pool *p);
};

struct ntad_pool {
	const struct ntad_pool_ops *ops;
	uint32_t chunk_size;
	bool exact;             /* alloc returns len-sized blocks (copy-break pays off) */
	bool shared;            /* stats/check of any handle cover every queue */
	uint64_t base, size;    /* the addresses this handle may free */
};

struct ntad_pools {
	const char *name;
	unsigned int nr;
	struct ntad_pool *q[NTAD_MAX_QUEUES];
	void *shared;            /* pool_nta.c: the nta and its front */
};

/*
 * Fixed frames of [base, base + size) only: one queue's slice. No frame crosses
 * a multiple of page (drivers map a UMEM page by page): a chunk that does not
 * divide the page leaves the page's rest unused.
 */
struct ntad_pool *ntad_pool_fixed_create_at(uint64_t base, uint64_t size, uint32_t chunk_size,
					    uint32_t page);

/*
 * nta for nr queues: one nta over [0, size) of area (jumbo_size bytes of it,
 * at the end, as in ntad_pool_nta_create_jumbo), one handle per queue.
 * 0 or -errno; nothing is left on failure.
 */
int ntad_pools_nta_create(struct ntad_pools *ps, void *area, uint64_t size, uint32_t chunk_size,
			  uint64_t jumbo_size, unsigned int nr);
/* Destroy the shared part of ntad_pools_nta_create (after every handle). */
void ntad_pools_nta_destroy_shared(void *shared);

/* Manage [0, size) for nr queues (pools.c): nta shared by all, or one fixed
 * slice of size / nr each (frames within pages of `page` bytes). 0 or -errno;
 * nothing is left on failure. */
int ntad_pools_create(struct ntad_pools *ps, enum ntad_pool_kind kind, void *area, uint64_t size,
		      uint32_t chunk_size, uint64_t jumbo_size, unsigned int nr, uint32_t page);

/* Free with whichever handle may free addr (teardown: buffers the kernel kept). */
int ntad_pools_free(struct ntad_pools *ps, uint64_t addr, uint32_t len);

/* Drain every handle; returns the deferred frees refused. Workers stopped. */
unsigned int ntad_pools_drain(struct ntad_pools *ps);

/* The whole UMEM: summed over fixed slices, or the shared nta's. */
void ntad_pools_stats(const struct ntad_pools *ps, struct ntad_pool_stats *st);
int ntad_pools_check(const struct ntad_pools *ps);

/* Destroy every handle and the shared part. Accepts a zeroed struct. */
void ntad_pools_destroy(struct ntad_pools *ps);

#endif /* NTAD_POOL_H */
