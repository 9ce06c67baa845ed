// SPDX-License-Identifier: MIT
/*
 * mt.c - the thread-safe front (nta_mt.h): per-thread magazines of the hot size
 * over one nta behind one mutex.
 *
 * Why magazines (Bonwick's term, as in Solaris' kmem and mimalloc's per-thread
 * free lists): in ntad every queue thread frees a whole chunk per received
 * packet and allocates one per fill-ring slot, so nearly all traffic is one
 * size and balances out on the same thread. A LIFO array per thread serves it
 * with no atomic operation at all, and the most recently freed (cache-warm)
 * region goes out first. The lock is paid once per `batch` regions: refills
 * use nta_alloc_bulk, which splits one free region for many blocks; overflows
 * give back the oldest half, keeping the warm end.
 *
 * Other sizes (trims of held packets, copy-break blocks, txonly frames) are
 * rarer. Their frees are queued per thread and flushed under the lock in one
 * go (a lock round trip per free measured slower in bench_nta_mt's mixed run;
 * opts.pending = 1 selects that mode to compare). Their allocations go straight
 * to nta under the lock: a per-size cache for every size would park memory
 * that another queue may need, and UMEM is shared precisely to avoid that.
 *
 * Everything a cache writes that another thread reads (stats counters) is
 * written with relaxed atomic stores by its single owner, and each cache and
 * its arrays start on their own cache lines, so threads never share a line on
 * the fast path. The list of caches is guarded by the lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "nta_mt.h"

#define CACHE_LINE 64
#define DEF_HOT 2048
#define DEF_BATCH 64
#define DEF_PENDING 32
#define MAX_BATCH 4096
#define MAX_PENDING 4096

struct pending_free {
	uint64_t off;
	uint32_t len;
};

struct nta_mt {
	pthread_mutex_t lock;
	struct nta *nta;
	uint32_t hot_len, batch, pending_max;
	struct nta_mt_cache *caches;   /* attached caches, under lock */
	uint64_t nr_caches;            /* under lock */
	uint64_t retired_locks;        /* locks of destroyed caches, under lock */
} __attribute__((aligned(CACHE_LINE)));

struct nta_mt_cache {
	struct nta_mt *mt;
	struct nta_mt_cache *next, *prev; /* under mt->lock */
	uint64_t *mag;                    /* LIFO of hot_len regions */
	uint32_t nmag, cap;
	struct pending_free *pend;
	uint32_t npend;
	uint64_t pend_bytes;
	uint64_t errors_reported;         /* free_errors at the last drain */
	/* Written only by the owner (atomic stores), read by anyone. */
	struct nta_mt_cache_stats st;
} __attribute__((aligned(CACHE_LINE)));

_Static_assert(sizeof(struct nta_mt_cache) % CACHE_LINE == 0, "caches must not share lines");
_Static_assert(sizeof(struct nta_mt) % CACHE_LINE == 0, "the lock must not share a line");

/* Only the owner writes, so a load-add-store is exact; the store is atomic so
 * that a reader on another thread is not a data race. */
static inline void bump(uint64_t *p, uint64_t d)
{
	__atomic_store_n(p, *p + d, __ATOMIC_RELAXED);
}

static inline void set(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline uint64_t get(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void *alloc_lines(size_t bytes)
{
	size_t sz = (bytes + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
	void *p = aligned_alloc(CACHE_LINE, sz ? sz : CACHE_LINE);

	if (p)
		memset(p, 0, sz ? sz : CACHE_LINE);
	return p;
}

static void update_parked(struct nta_mt_cache *c)
{
	set(&c->st.parked_bytes, (uint64_t)c->nmag * c->mt->hot_len + c->pend_bytes);
}

static void lock(struct nta_mt_cache *c)
{
	pthread_mutex_lock(&c->mt->lock);
	bump(&c->st.locks, 1);
}

static void unlock(struct nta_mt_cache *c)
{
	pthread_mutex_unlock(&c->mt->lock);
}

/* Under the lock: hand the queued frees to nta. */
static void flush_pending_locked(struct nta_mt_cache *c)
{
	for (uint32_t i = 0; i < c->npend; i++)
		if (nta_free(c->mt->nta, c->pend[i].off, c->pend[i].len))
			bump(&c->st.free_errors, 1);
	c->npend = 0;
	c->pend_bytes = 0;
}

/* Under the lock: give back mag[0..n), the oldest (coldest) regions. */
static void release_oldest_locked(struct nta_mt_cache *c, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (nta_free(c->mt->nta, c->mag[i], c->mt->hot_len))
			bump(&c->st.free_errors, 1);
	memmove(c->mag, c->mag + n, (size_t)(c->nmag - n) * sizeof(*c->mag));
	c->nmag -= n;
}

struct nta_mt *nta_mt_create(struct nta *nta, const struct nta_mt_opts *opts)
{
	struct nta_mt *mt;
	uint32_t hot = DEF_HOT, batch = DEF_BATCH, pending = DEF_PENDING;

	if (!nta || (opts && opts->sz < sizeof(size_t))) {
		errno = EINVAL;
		return NULL;
	}
	if (opts && opts->sz >= offsetof(struct nta_mt_opts, pending) + sizeof(opts->pending)) {
		if (opts->hot_len)
			hot = opts->hot_len;
		if (opts->batch)
			batch = opts->batch;
		if (opts->pending)
			pending = opts->pending;
	}
	if (hot > nta_max_alloc(nta) || hot % nta_block_size(nta) || batch > MAX_BATCH ||
	    pending > MAX_PENDING) {
		errno = EINVAL;
		return NULL;
	}
	mt = alloc_lines(sizeof(*mt));
	if (!mt)
		return NULL;
	if (pthread_mutex_init(&mt->lock, NULL)) {
		free(mt);
		errno = ENOMEM;
		return NULL;
	}
	mt->nta = nta;
	mt->hot_len = hot;
	mt->batch = batch;
	mt->pending_max = pending;
	return mt;
}

void nta_mt_destroy(struct nta_mt *mt)
{
	if (!mt)
		return;
	while (mt->caches)
		nta_mt_cache_destroy(mt->caches);
	pthread_mutex_destroy(&mt->lock);
	free(mt);
}

struct nta_mt_cache *nta_mt_cache_create(struct nta_mt *mt)
{
	struct nta_mt_cache *c;

	if (!mt) {
		errno = EINVAL;
		return NULL;
	}
	c = alloc_lines(sizeof(*c));
	if (!c)
		goto err;
	c->mt = mt;
	c->cap = 2 * mt->batch;
	c->mag = alloc_lines((size_t)c->cap * sizeof(*c->mag));
	if (!c->mag)
		goto err_cache;
	c->pend = alloc_lines((size_t)mt->pending_max * sizeof(*c->pend));
	if (!c->pend)
		goto err_mag;
	pthread_mutex_lock(&mt->lock);
	c->next = mt->caches;
	if (c->next)
		c->next->prev = c;
	mt->caches = c;
	mt->nr_caches++;
	pthread_mutex_unlock(&mt->lock);
	return c;

err_mag:
	free(c->mag);
err_cache:
	free(c);
err:
	errno = ENOMEM;
	return NULL;
}

int nta_mt_cache_drain(struct nta_mt_cache *c)
{
	uint64_t errors;

	if (c->nmag || c->npend) {
		lock(c);
		flush_pending_locked(c);
		release_oldest_locked(c, c->nmag);
		unlock(c);
		update_parked(c);
	}
	errors = get(&c->st.free_errors);
	if (errors != c->errors_reported) {
		c->errors_reported = errors;
		return -EINVAL;
	}
	return 0;
}

void nta_mt_cache_destroy(struct nta_mt_cache *c)
{
	struct nta_mt *mt;

	if (!c)
		return;
	mt = c->mt;
	(void)nta_mt_cache_drain(c);
	pthread_mutex_lock(&mt->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		mt->caches = c->next;
	if (c->next)
		c->next->prev = c->prev;
	mt->nr_caches--;
	mt->retired_locks += get(&c->st.locks);
	pthread_mutex_unlock(&mt->lock);
	free(c->pend);
	free(c->mag);
	free(c);
}

/* The magazine is empty: take up to `batch` regions in one bulk call. */
static int refill(struct nta_mt_cache *c)
{
	int got;

	lock(c);
	flush_pending_locked(c);
	got = nta_alloc_bulk(c->mt->nta, c->mt->hot_len, c->mag, c->mt->batch);
	unlock(c);
	if (got <= 0)
		return got < 0 ? got : -ENOMEM;
	c->nmag = (uint32_t)got;
	return 0;
}

int nta_mt_alloc(struct nta_mt_cache *c, uint32_t len, uint64_t *off)
{
	int ret;

	bump(&c->st.allocs, 1);
	if (len == c->mt->hot_len) {
		if (c->nmag) {
			bump(&c->st.fast_allocs, 1);
		} else {
			ret = refill(c);
			if (ret)
				return ret;
		}
		*off = c->mag[--c->nmag];
		update_parked(c);
		return 0;
	}
	lock(c);
	flush_pending_locked(c);
	ret = nta_alloc(c->mt->nta, len, off);
	unlock(c);
	update_parked(c);
	return ret;
}

int nta_mt_alloc_bulk(struct nta_mt_cache *c, uint32_t len, uint64_t *offs, unsigned int n)
{
	unsigned int i = 0;
	int ret;

	if (len != c->mt->hot_len) {
		bump(&c->st.allocs, n);
		lock(c);
		flush_pending_locked(c);
		ret = nta_alloc_bulk(c->mt->nta, len, offs, n);
		unlock(c);
		update_parked(c);
		return ret;
	}
	while (i < n) {
		uint32_t take;

		if (!c->nmag && refill(c))
			break;
		take = c->nmag < n - i ? c->nmag : n - i;
		/* Pop in LIFO order: the warmest region first. */
		for (uint32_t k = 0; k < take; k++)
			offs[i + k] = c->mag[c->nmag - 1 - k];
		c->nmag -= take;
		i += take;
	}
	bump(&c->st.allocs, i);
	update_parked(c);
	return (int)i;
}

#if defined(NTA_DEBUG) && NTA_DEBUG
static bool in_magazine(const struct nta_mt_cache *c, uint64_t off)
{
	for (uint32_t i = 0; i < c->nmag; i++)
		if (c->mag[i] == off)
			return true;
	return false;
}
#endif

int nta_mt_free(struct nta_mt_cache *c, uint64_t off, uint32_t len)
{
	struct nta_mt *mt = c->mt;
	int ret;

	bump(&c->st.frees, 1);
	if (len == mt->hot_len) {
#if defined(NTA_DEBUG) && NTA_DEBUG
		if (in_magazine(c, off)) {
			bump(&c->st.free_errors, 1);
			c->errors_reported++; /* reported now, not again at drain */
			return -EINVAL;
		}
#endif
		if (c->nmag == c->cap) {
			lock(c);
			flush_pending_locked(c);
			release_oldest_locked(c, mt->batch);
			unlock(c);
		} else {
			bump(&c->st.fast_frees, 1);
		}
		c->mag[c->nmag++] = off;
		update_parked(c);
		return 0;
	}
	if (!len)
		return -EINVAL;
	if (mt->pending_max == 1) {
		lock(c);
		ret = nta_free(mt->nta, off, len);
		unlock(c);
		return ret;
	}
	c->pend[c->npend++] = (struct pending_free){ off, len };
	c->pend_bytes += len;
	if (c->npend == mt->pending_max) {
		lock(c);
		flush_pending_locked(c);
		unlock(c);
	} else {
		bump(&c->st.fast_frees, 1);
	}
	update_parked(c);
	return 0;
}

void nta_mt_cache_get_stats(const struct nta_mt_cache *c, struct nta_mt_cache_stats *st)
{
	st->allocs = get(&c->st.allocs);
	st->frees = get(&c->st.frees);
	st->fast_allocs = get(&c->st.fast_allocs);
	st->fast_frees = get(&c->st.fast_frees);
	st->locks = get(&c->st.locks);
	st->free_errors = get(&c->st.free_errors);
	st->parked_bytes = get(&c->st.parked_bytes);
}

/* Under the lock: parked bytes of every cache, lock count. */
static void sum_caches_locked(const struct nta_mt *mt, uint64_t *parked, uint64_t *locks)
{
	*parked = 0;
	*locks = mt->retired_locks;
	for (const struct nta_mt_cache *c = mt->caches; c; c = c->next) {
		*parked += get(&c->st.parked_bytes);
		*locks += get(&c->st.locks);
	}
}

int nta_mt_check(struct nta_mt *mt)
{
	struct nta_stats ns = { .sz = sizeof(ns) };
	uint64_t parked, locks;
	int ret;

	pthread_mutex_lock(&mt->lock);
	ret = nta_check(mt->nta);
	if (!ret)
		ret = nta_get_stats(mt->nta, &ns);
	sum_caches_locked(mt, &parked, &locks);
	pthread_mutex_unlock(&mt->lock);
	if (ret)
		return ret;
	/* Parked regions are allocated blocks: more parked than in use is a lie. */
	return parked > ns.bytes_in_use ? -EUCLEAN : 0;
}

int nta_mt_get_stats(struct nta_mt *mt, struct nta_mt_stats *st)
{
	uint64_t parked, locks;
	int ret;

	if (!st || st->sz < sizeof(*st))
		return -EINVAL;
	memset(&st->nta, 0, sizeof(st->nta));
	st->nta.sz = sizeof(st->nta);
	pthread_mutex_lock(&mt->lock);
	ret = nta_get_stats(mt->nta, &st->nta);
	sum_caches_locked(mt, &parked, &locks);
	st->caches = mt->nr_caches;
	pthread_mutex_unlock(&mt->lock);
	if (ret)
		return ret;
	st->bytes_parked = parked;
	/* With workers running, parked is read a moment apart from nta's count. */
	st->bytes_in_use = st->nta.bytes_in_use > parked ? st->nta.bytes_in_use - parked : 0;
	st->locks = locks;
	return 0;
}
