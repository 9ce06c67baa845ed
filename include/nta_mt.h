/* SPDX-License-Identifier: MIT */
/*
 * nta_mt.h - a thread-safe front for one nta shared by several threads.
 *
 * One struct nta_mt wraps one struct nta behind a mutex. Each thread that
 * allocates or frees gets its own struct nta_mt_cache: a LIFO magazine of
 * regions of the hot size (the UMEM chunk, what fill rings take and rxdrop
 * gives back) and a short queue of frees of other sizes (copy-break blocks).
 * The common alloc and free of the hot size touch only the caller's cache: no
 * lock. The lock is taken when a magazine runs empty (refill of `batch`
 * regions from the shared depot or with one nta_alloc_bulk), when it
 * overflows (the oldest `batch` regions go to the depot, or to nta when the
 * depot is full), when the queue of other frees is full, and for allocations
 * of other sizes.
 *
 * Parking and double frees: every region of the hot size that a magazine
 * hands out or holds is described in a table shared by all caches (one word
 * per window of the area, a window being the largest power of two <=
 * hot_len): parked whole, or held by a caller but for a parked head and tail.
 * A free or trim that meets parked blocks is refused with -EINVAL and counted
 * in double_frees, at the call, whichever thread parked them.
 *
 * Trims and partial frees of such a region (the head and tail of a received
 * frame, with nta_mt_trim or with frees) take no lock either: they move the
 * held part's bounds in the region's word, and the free of the last held part,
 * through any cache, parks the region whole in that cache's magazine. The
 * parked heads and tails go to nta when an allocation would fail or a cache is
 * drained.
 *
 * Ownership: nta_mt does not own the nta (nor the area): the caller creates the
 * nta, wraps it, and destroys it after nta_mt_destroy(). While an nta_mt wraps
 * it, the nta is touched only through nta_mt. A cache is used by one thread at
 * a time (hand-over between threads needs the caller's own synchronisation,
 * e.g. pthread_join); a free may name a region another thread allocated.
 *
 * Accounting: regions in magazines, the depot, queued frees and the heads and
 * tails of held regions stay allocated in nta's bitmaps (nta_check() sees
 * them as in use); nta_mt_get_stats() reports them as parked, apart from what
 * callers hold. nta_mt_cache_drain() returns a cache's parked regions, the
 * depot and every parked head and tail to nta; after every cache is drained (or
 * destroyed), bytes in use by nta are exactly the bytes callers hold.
 *
 * Errors: every call refuses at once, with -EINVAL and no change, a NULL
 * argument, a length of 0 or above nta_max_alloc(), a range that is not
 * block-aligned, leaves the area or crosses a page, and a range that meets
 * parked blocks. Whether the blocks of another well-formed free of a size other
 * than hot_len are allocated is checked by nta when the queued free reaches
 * it: a bad one shows up then, counted in free_errors and returned by
 * nta_mt_cache_drain() as -EINVAL.
 */
#ifndef NTA_MT_H
#define NTA_MT_H

#include <stddef.h>
#include <stdint.h>

#include "nta.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nta_mt;
struct nta_mt_cache;

struct nta_mt_opts {
	size_t sz;          /* sizeof(struct nta_mt_opts) */
	uint32_t hot_len;   /* size kept in magazines; 0: 2048 */
	uint32_t batch;     /* regions per refill or overflow; magazines hold
	                     * 2 * batch; 0: 64 */
};

#define NTA_MT_OPTS(NAME, ...)                                                 \
	struct nta_mt_opts NAME = { .sz = sizeof(struct nta_mt_opts), __VA_ARGS__ }

/* Wrap nta (not owned). NULL and errno (EINVAL, ENOMEM) on failure. */
struct nta_mt *nta_mt_create(struct nta *nta, const struct nta_mt_opts *opts);

/* Drain and destroy every cache still attached, then free the wrapper (never
 * the nta). No thread may use the front any more. Accepts NULL. */
void nta_mt_destroy(struct nta_mt *mt);

/* A cache for one thread. NULL and errno on failure. */
struct nta_mt_cache *nta_mt_cache_create(struct nta_mt *mt);

/* Drain the cache and detach it. Accepts NULL. */
void nta_mt_cache_destroy(struct nta_mt_cache *c);

/* As nta_alloc / nta_alloc_bulk / nta_free, through the thread's cache. */
int nta_mt_alloc(struct nta_mt_cache *c, uint32_t len, uint64_t *off);
int nta_mt_alloc_bulk(struct nta_mt_cache *c, uint32_t len, uint64_t *offs, unsigned int n);
int nta_mt_free(struct nta_mt_cache *c, uint64_t off, uint32_t len);

/*
 * As nta_trim: of the allocated [off, off + len), keep [keep_off, keep_off +
 * keep_len) and free the rest; off and keep_off block-aligned. The same as
 * nta_mt_free of the head and of the tail, in one call. -EINVAL for a bad
 * range or one that meets parked blocks.
 */
int nta_mt_trim(struct nta_mt_cache *c, uint64_t off, uint32_t len, uint64_t keep_off,
		uint32_t keep_len);

/* Give every parked region of the cache, the depot and every parked head and
 * tail back to nta. Returns 0, or -EINVAL when a free queued since the last
 * drain was refused by nta. */
int nta_mt_cache_drain(struct nta_mt_cache *c);

/* nta_check() under the lock, plus the front's own bookkeeping. With workers
 * running it checks a moment in time; with them stopped, everything. */
int nta_mt_check(struct nta_mt *mt);

struct nta_mt_cache_stats {
	uint64_t allocs, frees;       /* calls through this cache */
	uint64_t fast_allocs;         /* served from the magazine, no lock */
	uint64_t fast_frees;          /* kept in the magazine or pending, no lock */
	uint64_t locks;               /* times this cache took the lock */
	uint64_t free_errors;         /* queued frees nta refused */
	uint64_t parked_bytes;        /* magazine + queued frees, now */
	uint64_t trims;               /* nta_mt_trim calls */
	uint64_t trims_undone;        /* trimmed or partly freed regions made whole
	                               * again (parked) by a free of their last held
	                               * blocks through this cache */
	uint64_t double_frees;        /* frees and trims refused for meeting parked
	                               * blocks */
};

/* The owner's counters; from another thread, a recent value of each. */
void nta_mt_cache_get_stats(const struct nta_mt_cache *c, struct nta_mt_cache_stats *st);

struct nta_mt_stats {
	size_t sz;                    /* sizeof(struct nta_mt_stats) */
	struct nta_stats nta;         /* the wrapped nta's, read under the lock */
	uint64_t bytes_in_use;        /* held by callers: nta's in use - parked */
	uint64_t bytes_parked;        /* in magazines, queues, the depot and waiting
	                               * trims (allocated in the bitmaps) */
	uint64_t caches;              /* attached caches */
	uint64_t locks;               /* lock acquisitions, all caches */
	uint64_t trims, trims_undone; /* nta_mt_trim calls and those cancelled by
	                               * their kept blocks' free, all caches */
	/* Added later; filled only when sz covers it. */
	uint64_t double_frees;        /* all caches */
};

int nta_mt_get_stats(struct nta_mt *mt, struct nta_mt_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* NTA_MT_H */
