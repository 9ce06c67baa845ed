/* SPDX-License-Identifier: MIT */
/*
 * nta_mt.h - a thread-safe front for one nta shared by several threads.
 *
 * One struct nta_mt wraps one struct nta behind a mutex. Each thread that
 * allocates or frees gets its own struct nta_mt_cache: a LIFO magazine of
 * regions of the hot size (the UMEM chunk, what fill rings take and rxdrop
 * gives back) and a short queue of frees of other sizes (copy-break blocks,
 * txonly frames). The common alloc and free of the hot size touch only the
 * caller's cache and one word of a table shared by all caches (below): no
 * lock. The lock is taken when a magazine runs empty (a refill of `batch`
 * regions with one nta_alloc_bulk), when it overflows (the oldest `batch`
 * regions go back), when the queue of other frees is full (flushed in one
 * go), and for allocations of other sizes.
 *
 * The table has one word per window of the area, a window being the largest
 * power of two <= hot_len (8 bytes per window: 0.4 % of the area at 2048), so
 * no two disjoint hot regions start in one. A word describes the hot region
 * that starts in its window when the front holds any of it: parked (in a
 * magazine) or trimmed (nta_mt_trim: the caller holds the kept blocks, the
 * front the head and tail, until the free of the kept blocks, through any
 * cache, makes the region whole again and puts it in that cache's magazine).
 *
 * Ownership: nta_mt does not own the nta (nor the area): the caller creates the
 * nta, wraps it, and destroys it after nta_mt_destroy(). While an nta_mt wraps
 * it, the nta is touched only through nta_mt. A cache is used by one thread at
 * a time (hand-over between threads needs the caller's own synchronisation,
 * e.g. pthread_join); a free may name a region another thread allocated.
 *
 * Accounting: regions in magazines, queued frees and the heads and tails of
 * waiting trims stay allocated in nta's bitmaps (nta_check() sees them as in
 * use); nta_mt_get_stats() reports them as parked, apart from what callers
 * hold. nta_mt_cache_drain() returns a cache's parked regions and every
 * waiting trim's head and tail to nta; after every cache is drained (or
 * destroyed), bytes in use by nta are exactly the bytes callers hold.
 *
 * Errors: every call refuses at once, with -EINVAL and no change, a NULL
 * argument, a length of 0 or above nta_max_alloc(), and a range that is not
 * block-aligned, leaves the area or crosses a page.
 *
 * Double frees: a free or trim that meets what the front holds (a parked
 * region, a waiting trim's head or tail) is refused with -EINVAL at the call,
 * in every build, whichever thread parked it, and counted in
 * nta_mt_stats.double_frees: nta_mt_alloc(2048) then two nta_mt_free of it
 * return 0, then -EINVAL. Frees of other sizes wait in the queue; nta checks
 * that their blocks are allocated when it is flushed, and a queued range that
 * meets a region parked since is refused then. Both show up in
 * nta_mt_cache_stats.free_errors and as -EINVAL from nta_mt_cache_drain().
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
/* n frees of len bytes each, each as nta_mt_free: returns how many of them
 * were refused (the others are done), or -EINVAL without any change for len 0
 * or offs NULL. Regions of the magazine's size cost a store each. */
int nta_mt_free_bulk(struct nta_mt_cache *c, const uint64_t *offs, unsigned int n, uint32_t len);

/*
 * As nta_trim: of the allocated [off, off + len), keep [keep_off, keep_off +
 * keep_len) and free the rest; off and keep_off block-aligned. A hot region's
 * trim waits in its window (its head and tail count as parked): the free of
 * exactly its kept blocks, through any cache, frees the whole region instead,
 * into that cache's magazine, and nta never sees the trim. It reaches nta as
 * the frees of head and tail when part of the kept blocks is freed, when an
 * allocation would fail without it, and on drain. Trims of other lengths are
 * queued as those frees at once. -EINVAL for a bad range or one that meets
 * what the front holds; like any queued free, a region nta does not hold
 * shows up as a free error when it reaches nta.
 */
int nta_mt_trim(struct nta_mt_cache *c, uint64_t off, uint32_t len, uint64_t keep_off,
		uint32_t keep_len);

/* Give every parked region of the cache back to nta. Returns 0, or -EINVAL
 * when a free queued since the last drain was refused by nta. */
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
	uint64_t parked_bytes;        /* magazine + queued frees, now (waiting trims
	                               * are the front's, in nta_mt_stats) */
	uint64_t trims;               /* nta_mt_trim calls */
	uint64_t trims_undone;        /* trims cancelled by a free of their kept
	                               * blocks through this cache */
};

/* The owner's counters; from another thread, a recent value of each. */
void nta_mt_cache_get_stats(const struct nta_mt_cache *c, struct nta_mt_cache_stats *st);

struct nta_mt_stats {
	size_t sz;                    /* sizeof(struct nta_mt_stats) */
	struct nta_stats nta;         /* the wrapped nta's, read under the lock */
	uint64_t bytes_in_use;        /* held by callers: nta's in use - parked */
	uint64_t bytes_parked;        /* in caches (allocated in the bitmaps) */
	uint64_t caches;              /* attached caches */
	uint64_t locks;               /* lock acquisitions, all caches */
	uint64_t trims, trims_undone; /* nta_mt_trim calls and those cancelled by
	                               * their kept blocks' free, all caches */
	/* Added later; filled only when sz covers it. */
	uint64_t double_frees;        /* frees and trims refused at the call for
	                               * meeting a parked region, all caches */
};

int nta_mt_get_stats(struct nta_mt *mt, struct nta_mt_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* NTA_MT_H */
