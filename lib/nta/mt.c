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
 * Trims (nta_mt_trim) wait in a small direct-mapped table keyed by the kept
 * blocks. A forwarded frame is trimmed on receive and its kept blocks come
 * back a moment later, at TX completion; when that free finds its trim still
 * in the table, the two cancel out and the whole region goes back as one free,
 * a chunk straight into the magazine. Done through nta, the same frame costs
 * three coalescing frees (head, tail, then the kept blocks, which merge with
 * both) and a split when the region is allocated again. A trim that meets
 * another in its slot sends that one on as two queued frees (its head and
 * tail); a failed allocation releases every trim the cache holds and retries,
 * so the table never makes an allocation of this thread fail.
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
#define DEF_TRIMS 512
#define MAX_TRIMS 65536

struct pending_free {
	uint64_t off;
	uint32_t len;
};

/* A deferred trim of the region [keep - head, keep + keep_n + tail) blocks:
 * keep_n blocks from keep (an offset) are the caller's, the others are free.
 * keep_n == 0: an empty slot. */
struct pending_trim {
	uint64_t keep;
	uint16_t head, keep_n, tail;
};

struct nta_mt {
	pthread_mutex_t lock;
	struct nta *nta;
	uint32_t hot_len, batch, pending_max;
	uint32_t trim_shift;           /* 64 - log2(trim slots); 64: no table */
	uint32_t block_shift, max_len;
	struct nta_mt_cache *caches;   /* attached caches, under lock */
	uint64_t nr_caches;            /* under lock */
	uint64_t retired_locks;        /* locks of destroyed caches, under lock */
	uint64_t retired_trims[2];     /* trims, trims_undone of destroyed caches */
} __attribute__((aligned(CACHE_LINE)));

struct nta_mt_cache {
	struct nta_mt *mt;
	struct nta_mt_cache *next, *prev; /* under mt->lock */
	uint64_t *mag;                    /* LIFO of hot_len regions */
	uint32_t nmag, cap;
	struct pending_free *pend;
	uint32_t npend;
	uint64_t pend_bytes;
	struct pending_trim *trim;        /* 1 << (64 - trim_shift) slots */
	uint32_t ntrim;
	uint64_t trim_bytes;              /* the free blocks of those trims */
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
	set(&c->st.parked_bytes, (uint64_t)c->nmag * c->mt->hot_len + c->pend_bytes + c->trim_bytes);
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

static inline uint32_t trim_slots(const struct nta_mt *mt)
{
	return mt->trim_shift < 64 ? 1u << (64 - mt->trim_shift) : 0;
}

static inline void trim_clear(struct nta_mt_cache *c, struct pending_trim *t)
{
	c->trim_bytes -= (uint64_t)(t->head + t->tail) << c->mt->block_shift;
	c->ntrim--;
	t->keep_n = 0;
}

/* The free parts of a deferred trim: its head and its tail (length 0: none). */
static inline void trim_parts(const struct nta_mt *mt, const struct pending_trim *t,
			      uint64_t off[2], uint32_t len[2])
{
	off[0] = t->keep - ((uint64_t)t->head << mt->block_shift);
	len[0] = (uint32_t)t->head << mt->block_shift;
	off[1] = t->keep + ((uint64_t)t->keep_n << mt->block_shift);
	len[1] = (uint32_t)t->tail << mt->block_shift;
}

/* Under the lock: every deferred trim to nta, as the frees of its head and
 * tail (nta_trim would need the kept blocks still allocated, and the caller
 * may have freed them through another cache). */
static void release_trims_locked(struct nta_mt_cache *c)
{
	struct nta_mt *mt = c->mt;
	uint64_t off[2];
	uint32_t len[2];

	for (uint32_t i = 0; c->ntrim && i < trim_slots(mt); i++) {
		struct pending_trim *t = &c->trim[i];

		if (!t->keep_n)
			continue;
		trim_parts(mt, t, off, len);
		for (int k = 0; k < 2; k++)
			if (len[k] && nta_free(mt->nta, off[k], len[k]))
				bump(&c->st.free_errors, 1);
		trim_clear(c, t);
	}
}

struct nta_mt *nta_mt_create(struct nta *nta, const struct nta_mt_opts *opts)
{
	struct nta_mt *mt;
	uint32_t hot = DEF_HOT, batch = DEF_BATCH, pending = DEF_PENDING, trims = DEF_TRIMS;

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
	if (opts && opts->sz >= offsetof(struct nta_mt_opts, trims) + sizeof(opts->trims) &&
	    opts->trims)
		trims = opts->trims;
	if (hot > nta_max_alloc(nta) || hot % nta_block_size(nta) || batch > MAX_BATCH ||
	    pending > MAX_PENDING || trims > MAX_TRIMS || (trims & (trims - 1))) {
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
	/* pending = 1 promises every free at once: trims too */
	mt->trim_shift = trims > 1 && pending > 1 ? 64 - (uint32_t)__builtin_ctz(trims) : 64;
	mt->block_shift = (uint32_t)__builtin_ctz(nta_block_size(nta));
	mt->max_len = nta_max_alloc(nta);
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
	c->trim = alloc_lines((size_t)trim_slots(mt) * sizeof(*c->trim));
	if (!c->trim)
		goto err_pend;
	pthread_mutex_lock(&mt->lock);
	c->next = mt->caches;
	if (c->next)
		c->next->prev = c;
	mt->caches = c;
	mt->nr_caches++;
	pthread_mutex_unlock(&mt->lock);
	return c;

err_pend:
	free(c->pend);
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

	if (c->nmag || c->npend || c->ntrim) {
		lock(c);
		release_trims_locked(c);
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
	mt->retired_trims[0] += get(&c->st.trims);
	mt->retired_trims[1] += get(&c->st.trims_undone);
	pthread_mutex_unlock(&mt->lock);
	free(c->trim);
	free(c->pend);
	free(c->mag);
	free(c);
}

/* Under the lock: nta_alloc_bulk after the queued frees, and once more after
 * releasing this cache's deferred trims when that leaves the request short. */
static int alloc_bulk_locked(struct nta_mt_cache *c, uint32_t len, uint64_t *offs, unsigned int n)
{
	int got, more;

	flush_pending_locked(c);
	got = nta_alloc_bulk(c->mt->nta, len, offs, n);
	if (got < 0 || (unsigned int)got == n || !c->ntrim)
		return got;
	release_trims_locked(c);
	more = nta_alloc_bulk(c->mt->nta, len, offs + got, n - (unsigned int)got);
	return more > 0 ? got + more : got;
}

/* The magazine is empty: take up to `batch` regions in one bulk call. */
static int refill(struct nta_mt_cache *c)
{
	int got;

	lock(c);
	got = alloc_bulk_locked(c, c->mt->hot_len, c->mag, c->mt->batch);
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
	if (ret == -ENOMEM && c->ntrim) {
		release_trims_locked(c);
		ret = nta_alloc(c->mt->nta, len, off);
	}
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
		ret = alloc_bulk_locked(c, len, offs, n);
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

/* A region of the hot size into the magazine; a full one first gives its
 * oldest batch back to nta. */
static inline void mag_put(struct nta_mt_cache *c, uint64_t off)
{
	if (c->nmag == c->cap) {
		lock(c);
		flush_pending_locked(c);
		release_oldest_locked(c, c->mt->batch);
		unlock(c);
	}
	c->mag[c->nmag++] = off;
}

/* Any other free: queued (flushed when the queue is full), or with pending = 1
 * straight to nta, its error returned. */
static int pend_put(struct nta_mt_cache *c, uint64_t off, uint32_t len)
{
	struct nta_mt *mt = c->mt;
	int ret;

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
	}
	return 0;
}

static inline struct pending_trim *trim_slot(const struct nta_mt_cache *c, uint64_t keep)
{
	uint64_t h = (keep >> c->mt->block_shift) * 0x9e3779b97f4a7c15ull;

	return &c->trim[h >> c->mt->trim_shift];
}

/* Send a deferred trim on to nta as the queued frees of its head and tail. */
static void trim_send(struct nta_mt_cache *c, struct pending_trim *t)
{
	uint64_t off[2];
	uint32_t len[2];

	trim_parts(c->mt, t, off, len);
	for (int k = 0; k < 2; k++)
		if (len[k])
			(void)pend_put(c, off[k], len[k]); /* pending > 1: cannot fail */
	trim_clear(c, t);
}

/* Does [off, off + len) name the kept blocks of a deferred trim? Then the two
 * cancel out: the whole region is freed, and nta never sees the trim. */
static bool untrim(struct nta_mt_cache *c, uint64_t off, uint32_t len)
{
	struct pending_trim *t = trim_slot(c, off);
	uint32_t shift = c->mt->block_shift;
	uint64_t start;
	uint32_t whole;

	if (t->keep != off || !t->keep_n ||
	    t->keep_n != ((uint64_t)len + (1u << shift) - 1) >> shift)
		return false;
	start = off - ((uint64_t)t->head << shift);
	whole = (uint32_t)(t->head + t->keep_n + t->tail) << shift;
	trim_clear(c, t);
	bump(&c->st.trims_undone, 1);
	if (whole == c->mt->hot_len)
		mag_put(c, start);
	else
		(void)pend_put(c, start, whole); /* trims are deferred only with pending > 1 */
	return true;
}

int nta_mt_free(struct nta_mt_cache *c, uint64_t off, uint32_t len)
{
	uint64_t locks = c->st.locks;
	int ret = 0;

	if (!len)
		return -EINVAL;
	bump(&c->st.frees, 1);
	if (len == c->mt->hot_len) {
#if defined(NTA_DEBUG) && NTA_DEBUG
		if (in_magazine(c, off)) {
			bump(&c->st.free_errors, 1);
			c->errors_reported++; /* reported now, not again at drain */
			return -EINVAL;
		}
#endif
		mag_put(c, off);
	} else if (!c->ntrim || !untrim(c, off, len)) {
		ret = pend_put(c, off, len);
	}
	if (c->st.locks == locks)
		bump(&c->st.fast_frees, 1);
	update_parked(c);
	return ret;
}

int nta_mt_free_bulk(struct nta_mt_cache *c, const uint64_t *offs, unsigned int n, uint32_t len)
{
	int refused = 0;

	if (!len || (n && !offs))
		return -EINVAL;
#if !(defined(NTA_DEBUG) && NTA_DEBUG)
	/* The hot size (the fill ring's regions): straight into the magazine,
	 * the counters written once for the batch. */
	if (len == c->mt->hot_len) {
		uint64_t locks = c->st.locks;

		for (unsigned int i = 0; i < n; i++)
			mag_put(c, offs[i]);
		bump(&c->st.frees, n);
		bump(&c->st.fast_frees, n - (c->st.locks - locks));
		update_parked(c);
		return 0;
	}
#endif
	for (unsigned int i = 0; i < n; i++)
		refused += nta_mt_free(c, offs[i], len) != 0;
	return refused;
}

int nta_mt_trim(struct nta_mt_cache *c, uint64_t off, uint32_t len, uint64_t keep_off,
		uint32_t keep_len)
{
	struct nta_mt *mt = c->mt;
	uint64_t mask = (1u << mt->block_shift) - 1, end, kend;
	struct pending_trim *t;
	int ret = 0;

	if (!len || !keep_len || ((off | keep_off) & mask) || keep_off < off ||
	    keep_off + keep_len > off + (uint64_t)len || len > mt->max_len)
		return -EINVAL;
	bump(&c->st.trims, 1);
	end = (off + len + mask) & ~mask;
	kend = (keep_off + keep_len + mask) & ~mask;
	if (keep_off == off && kend == end)
		return 0;
	if (mt->trim_shift == 64) {
		if (keep_off > off)
			ret = pend_put(c, off, (uint32_t)(keep_off - off));
		if (!ret && kend < end)
			ret = pend_put(c, kend, (uint32_t)(end - kend));
		update_parked(c);
		return ret;
	}
	t = trim_slot(c, keep_off);
	if (t->keep_n)
		trim_send(c, t);
	t->keep = keep_off;
	t->head = (uint16_t)((keep_off - off) >> mt->block_shift);
	t->keep_n = (uint16_t)((kend - keep_off) >> mt->block_shift);
	t->tail = (uint16_t)((end - kend) >> mt->block_shift);
	c->ntrim++;
	c->trim_bytes += (end - off) - (kend - keep_off);
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
	st->trims = get(&c->st.trims);
	st->trims_undone = get(&c->st.trims_undone);
}

/* Under the lock: parked bytes of every cache, lock count; trims and trims
 * undone when trims is not NULL. */
static void sum_caches_locked(const struct nta_mt *mt, uint64_t *parked, uint64_t *locks,
			      uint64_t trims[2])
{
	*parked = 0;
	*locks = mt->retired_locks;
	if (trims) {
		trims[0] = mt->retired_trims[0];
		trims[1] = mt->retired_trims[1];
	}
	for (const struct nta_mt_cache *c = mt->caches; c; c = c->next) {
		*parked += get(&c->st.parked_bytes);
		*locks += get(&c->st.locks);
		if (trims) {
			trims[0] += get(&c->st.trims);
			trims[1] += get(&c->st.trims_undone);
		}
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
	sum_caches_locked(mt, &parked, &locks, NULL);
	pthread_mutex_unlock(&mt->lock);
	if (ret)
		return ret;
	/* Parked regions are allocated blocks: more parked than in use is a lie. */
	return parked > ns.bytes_in_use ? -EUCLEAN : 0;
}

int nta_mt_get_stats(struct nta_mt *mt, struct nta_mt_stats *st)
{
	uint64_t parked, locks, trims[2];
	int ret;

	if (!st || st->sz < sizeof(*st))
		return -EINVAL;
	memset(&st->nta, 0, sizeof(st->nta));
	st->nta.sz = sizeof(st->nta);
	pthread_mutex_lock(&mt->lock);
	ret = nta_get_stats(mt->nta, &st->nta);
	sum_caches_locked(mt, &parked, &locks, trims);
	st->caches = mt->nr_caches;
	pthread_mutex_unlock(&mt->lock);
	if (ret)
		return ret;
	st->bytes_parked = parked;
	/* With workers running, parked is read a moment apart from nta's count. */
	st->bytes_in_use = st->nta.bytes_in_use > parked ? st->nta.bytes_in_use - parked : 0;
	st->locks = locks;
	st->trims = trims[0];
	st->trims_undone = trims[1];
	return 0;
}
