/* SPDX-License-Identifier: MIT */
/*
 * nta_mt.h - a thread-safe front for one nta shared by several threads.
 *
 * One struct nta_mt wraps one struct nta behind a mutex. Each thread that
 * allocates or frees gets its own struct nta_mt_cache: a LIFO magazine of
 * regions of the hot size (the UMEM chunk, what fill rings take and rxdrop
 * gives back) and a short list of pending frees of other sizes (trims, copy-
 * break blocks). The common alloc and free of the hot size touch only the
 * caller's cache: no lock, no shared cache line. The lock is taken when a
 * magazine runs empty (refill of `batch` regions with one nta_alloc_bulk), when
 * it overflows (the oldest `batch` regions go back), when the pending list is
 * full (flushed in one go), and for allocations of other sizes (straight to
 * nta under the lock, after flushing the pending frees). Trims wait in a
 * per-cache table until the free of their kept blocks cancels them (a received
 * frame trimmed, sent, completed: its region goes back whole) or they are sent
 * on to nta (nta_mt_trim).
 *
 * Ownership: nta_mt does not own the nta (nor the area): the caller creates the
 * nta, wraps it, and destroys it after nta_mt_destroy(). While an nta_mt wraps
 * it, the nta is touched only through nta_mt. A cache is used by one thread at
 * a time (hand-over between threads needs the caller's own synchronisation,
 * e.g. pthread_join); a free may name a region another thread allocated, since
 * nta's state is global once under the lock.
 *
 * Accounting: regions in magazines, pending frees and deferred trims stay
 * allocated in nta's bitmaps (nta_check() sees them as in use);
 * nta_mt_get_stats() reports them as parked, apart from what callers hold.
 * nta_mt_cache_drain() returns a cache's parked regions to nta; after every
 * cache is drained (or destroyed), bytes in use by nta are exactly the bytes
 * callers hold.
 *
 * Errors: every call refuses at once, with -EINVAL and no change, a NULL
 * argument, a length of 0 or above nta_max_alloc(), and a range that is not
 * block-aligned, leaves the area or crosses a page.
 *
 * Double frees: every region in a magazine is marked as parked in a table
 * shared by all caches (two bytes per window of the area, a window being the
 * largest power of two <= hot_len, so no two disjoint hot regions start in
 * one). A free or trim that meets a parked region is refused with -EINVAL at
 * the call, in every build, whichever thread parked it, and counted in
 * nta_mt_stats.double_frees; so nta_mt_alloc(2048) then two nta_mt_free of it
 * return 0, then -EINVAL. Frees of other sizes wait in a queue unmarked; nta
 * checks that their blocks are allocated when the queue is flushed, and a
 * queued range that meets a region parked since is refused then. Both show up
 * in nta_mt_cache_stats.free_errors and as -EINVAL from nta_mt_cache_drain().
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
	uint32_t pending;   /* other frees queued before a flush; 0: 32;
	                     * 1: every such free takes the lock at once */
	uint32_t trims;     /* slots of the deferred-trim table, a power of two;
	                     * 0: 512; 1: no table, trims are queued as frees */
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
 * keep_len) and free the rest; off and keep_off block-aligned. The trim is
 * deferred in the cache's table (its free blocks count as parked): when the
 * kept blocks are freed through this cache while it waits there, the whole
 * region is freed instead, in one step, and a region of the hot size goes to
 * the magazine. Otherwise it reaches nta as the frees of head and tail: when
 * a later trim takes its slot, when an allocation of this cache would fail
 * without it, and on drain. -EINVAL for a bad range; like any queued free, a
 * region nta does not hold shows up as a free error at that point.
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
	uint64_t parked_bytes;        /* magazine + pending + deferred trims, now */
	uint64_t trims;               /* nta_mt_trim calls */
	uint64_t trims_undone;        /* trims cancelled by the free of their kept
	                               * blocks before reaching nta */
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
