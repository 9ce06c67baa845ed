// SPDX-License-Identifier: MIT
/*
 * mt.c - the thread-safe front (nta_mt.h): per-thread magazines of the hot size
 * and a shared depot over one nta behind one mutex, with every parked region
 * marked in a shared table of windows.
 *
 * Why magazines (Bonwick's term, as in Solaris' kmem and jemalloc's tcache): in
 * ntad every queue thread frees a whole chunk per received packet and
 * allocates one per fill-ring slot, so nearly all traffic is one size and
 * balances out on the same thread. A LIFO array per thread serves it with no
 * lock, and the most recently freed (cache-warm) region goes out first. A
 * magazine that runs empty takes `batch` regions from the depot, or from nta
 * with one nta_alloc_bulk; one that overflows gives its oldest `batch` to the
 * depot, a LIFO array shared under the lock (the magazine layer of Bonwick's
 * design), so that a queue whose completions outrun its refills feeds the
 * others without a trip through nta's lists.
 *
 * Windows: the area is cut into windows of W bytes, the largest power of two
 * <= hot_len. Two disjoint regions of hot_len bytes cannot start in one
 * window, so one atomic word per window can describe the front's hot region
 * starting there: PARKED (whole, in a magazine or the depot) or HELD (handed
 * out: a caller holds `keep` blocks after `head` parked ones, the rest, the
 * tail, parked too), with its start. Every free and trim first looks at the
 * words of the windows its range can reach (at most (len + hot_len) / W + 1)
 * and refuses a range that meets parked blocks: a double free of a parked
 * region, or of the parked head of a trimmed one, is an -EINVAL at the call,
 * in every build, and counted.
 *
 * Frees and trims of a region handed out by a magazine never take the lock: a
 * received frame is trimmed (head and tail freed, with nta_mt_trim or two
 * frees) and its kept blocks come back a moment later, at TX completion. Each
 * of these moves the held part's bounds in the region's word with one
 * compare-and-swap, and the last one swaps it to PARKED: the region goes whole
 * into the magazine of the thread that freed it, and nta never sees the trims
 * nor the split that would follow them. This is mimalloc's local free list of
 * a page in one word per region: since the word is the only state, a free on
 * another thread (a remote free) needs no hand-back queue, and the swap
 * settles any race. The parked heads and tails wait until an allocation would
 * fail or a cache is drained; both send every one of them on to nta under the
 * lock. A free the word cannot describe (a middle part, or across two
 * allocations) takes the region from its window first and goes to nta.
 *
 * Other sizes (copy-break blocks, txonly frames) are rarer: their frees are
 * queued per thread and flushed under the lock in one go, and their
 * allocations go to nta under the lock.
 *
 * Everything a cache writes that another thread reads (stats counters) is
 * written with relaxed atomic stores by its single owner, and each cache and
 * its arrays start on their own cache lines, so threads never share a line on
 * the fast path but a window's word. The list of caches and the depot are
 * guarded by the lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "nta_mt.h"

#define CACHE_LINE 64
#define DEF_HOT 2048
#define DEF_BATCH 64
#define MAX_BATCH 4096
#define PENDING 32
#define DEPOT 4096 /* regions, at most the area's hot regions */

/* A window's word: kind in bits 0-1, then 16-bit fields in blocks. */
enum { W_NONE, W_PARKED, W_HELD };
#define W_START(v) ((uint32_t)((v) >> 2) & 0xffff)
#define W_HEAD(v) ((uint32_t)((v) >> 18) & 0xffff)
#define W_KEEP(v) ((uint32_t)((v) >> 34) & 0xffff)

static inline uint64_t w_make(uint64_t kind, uint32_t start, uint32_t head, uint32_t keep)
{
	return kind | (uint64_t)start << 2 | (uint64_t)head << 18 | (uint64_t)keep << 34;
}

struct pending_free {
	uint64_t off;
	uint32_t len;
};

struct nta_mt {
	pthread_mutex_t lock;
	struct nta *nta;
	uint32_t hot_len, batch;
	uint32_t block_shift, max_len, hot_blocks;
	uint32_t win_shift;            /* log2 W */
	uint64_t nwin, win_stride;
	uint64_t *win;                 /* per window, atomic; see wp() */
	uint64_t *depot;               /* under lock */
	uint32_t ndepot, depot_cap;
	struct nta_mt_cache *caches;   /* attached caches, under lock */
	uint64_t nr_caches;            /* under lock */
	uint64_t retired_partial;      /* partial of destroyed caches, under lock */
	uint64_t retired[4];           /* locks, trims, trims_undone, double_frees of
	                                * destroyed caches, under lock */
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
	/* HELD words with a parked head or tail this cache made, less those it
	 * cleared (any cache may clear one, so only the sum over the caches means
	 * anything): a release scans the windows only when the sum is not 0.
	 * Written by the owner (atomic stores), summed under the lock. */
	uint64_t partial;
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

/* ---- windows ---- */

/*
 * The word of window k. Words are stored transposed by lines of 8: a line holds
 * windows k, k + 8, ..., k + 56, so a region's word and its neighbours' (which
 * every scan reads) are on different lines, and the 8 words of a line describe
 * regions 16 KiB apart, inside one refill's 64 regions, which one thread owns.
 * Stored plainly, the 1 region in 64 whose neighbour belongs to another
 * thread's refill shared its line with that thread: 2 threads on
 * bench_nta_mt's trim trace went from 1.62-1.64x to 1.74-1.76x when each word
 * had a line of its own, and this layout costs at most 63 words.
 */
static inline uint64_t *wp(const struct nta_mt *mt, uint64_t k)
{
	return &mt->win[(k & 7) * mt->win_stride + (k >> 3)];
}

static inline uint64_t *win_of(const struct nta_mt *mt, uint64_t off)
{
	return wp(mt, off >> mt->win_shift);
}

/* The hot region described by window j's word v starts here. */
static inline uint64_t w_base(const struct nta_mt *mt, uint64_t j, uint64_t v)
{
	return (j << mt->win_shift) + ((uint64_t)W_START(v) << mt->block_shift);
}

static inline uint64_t w_word(const struct nta_mt *mt, uint64_t kind, uint64_t off, uint32_t head,
			      uint32_t keep)
{
	uint64_t in = off & ((1ull << mt->win_shift) - 1);

	return w_make(kind, (uint32_t)(in >> mt->block_shift), head, keep);
}

static inline bool meets(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* Do the parked blocks of window j's region (word v) meet [off, off + len)? */
static bool parked_meets(const struct nta_mt *mt, uint64_t j, uint64_t v, uint64_t off,
			 uint64_t len)
{
	uint64_t s = w_base(mt, j, v), bs = mt->block_shift;

	if ((v & 3) == W_PARKED)
		return meets(s, mt->hot_len, off, len);
	return meets(s, (uint64_t)W_HEAD(v) << bs, off, len) ||
	       meets(s + ((uint64_t)(W_HEAD(v) + W_KEEP(v)) << bs),
		     (uint64_t)(mt->hot_blocks - W_HEAD(v) - W_KEEP(v)) << bs, off, len);
}

/*
 * Look at every window whose region can reach [off, off + len) (at most (len +
 * hot_len) / W + 1 of them). Returns -EINVAL when the range meets parked
 * blocks; 1 when it lies inside the blocks a caller holds of a HELD region,
 * that region's window and word in *j, *v; 2 when it touches such blocks
 * without lying inside them (a free across two allocations); 0 otherwise.
 */
static int scan(const struct nta_mt *mt, uint64_t off, uint32_t len, uint64_t *j, uint64_t *v)
{
	uint64_t lo = off >= mt->hot_len ? (off - mt->hot_len + 1) >> mt->win_shift : 0;
	uint64_t hi = (off + len - 1) >> mt->win_shift, bs = mt->block_shift;
	uint64_t end = off + ((((uint64_t)len + (1u << bs) - 1) >> bs) << bs);
	int ret = 0;

	if (hi >= mt->nwin)
		hi = mt->nwin - 1;
	for (uint64_t k = lo; k <= hi; k++) {
		uint64_t w = __atomic_load_n(wp(mt, k), __ATOMIC_RELAXED), kl, kh;

		if (!w)
			continue;
		if (parked_meets(mt, k, w, off, len))
			return -EINVAL;
		if ((w & 3) != W_HELD)
			continue;
		kl = w_base(mt, k, w) + ((uint64_t)W_HEAD(w) << bs);
		kh = kl + ((uint64_t)W_KEEP(w) << bs);
		if (off >= kl && end <= kh) {
			*j = k;
			*v = w;
			ret = 1;
		} else if (meets(kl, kh - kl, off, len) && !ret) {
			ret = 2;
		}
	}
	return ret;
}

/* Does window word v park a head or tail? */
static inline int w_partial(const struct nta_mt *mt, uint64_t v)
{
	return (v & 3) == W_HELD && W_KEEP(v) != mt->hot_blocks;
}

/* ---- the lock and what is done under it ---- */

static void pend_put(struct nta_mt_cache *c, uint64_t off, uint32_t len);

/* The head and tail of window k's HELD region (word v) as queued frees, once
 * the swap to 0 has taken the region from its window. */
static void trim_send(struct nta_mt_cache *c, uint64_t k, uint64_t v)
{
	struct nta_mt *mt = c->mt;
	uint64_t s = w_base(mt, k, v);
	uint32_t head = W_HEAD(v) << mt->block_shift;
	uint32_t tail = (mt->hot_blocks - W_HEAD(v) - W_KEEP(v)) << mt->block_shift;

	if (head)
		pend_put(c, s, head);
	if (tail)
		pend_put(c, s + mt->hot_len - tail, tail);
}

/*
 * A free of [off, off + len) that touches the held blocks of a HELD region in a
 * way its word cannot describe (across two allocations, or a middle part)
 * first takes the region from its window and sends its parked head and tail
 * on: the blocks it frees could otherwise be handed out again while the window
 * still speaks of the region. Loop bound: as scan().
 */
static void send_touched(struct nta_mt_cache *c, uint64_t off, uint32_t len)
{
	struct nta_mt *mt = c->mt;
	uint64_t lo = off >= mt->hot_len ? (off - mt->hot_len + 1) >> mt->win_shift : 0;
	uint64_t hi = (off + len - 1) >> mt->win_shift;

	if (hi >= mt->nwin)
		hi = mt->nwin - 1;
	for (uint64_t k = lo; k <= hi; k++) {
		uint64_t v = __atomic_load_n(wp(mt, k), __ATOMIC_RELAXED);

		if ((v & 3) == W_HELD &&
		    meets(w_base(mt, k, v) + ((uint64_t)W_HEAD(v) << mt->block_shift),
			  (uint64_t)W_KEEP(v) << mt->block_shift, off, len) &&
		    __atomic_compare_exchange_n(wp(mt, k), &v, 0, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			bump(&c->partial, (uint64_t)-w_partial(mt, v));
			trim_send(c, k, v);
		}
	}
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

static void update_parked(struct nta_mt_cache *c)
{
	set(&c->st.parked_bytes, (uint64_t)c->nmag * c->mt->hot_len + c->pend_bytes);
}

/* Under the lock: a region leaves the front's parking for nta. Its mark goes
 * first, so no free is refused for it once nta may hand it out again. */
static void to_nta(struct nta_mt_cache *c, uint64_t off)
{
	__atomic_store_n(win_of(c->mt, off), 0, __ATOMIC_RELAXED);
	if (nta_free(c->mt->nta, off, c->mt->hot_len))
		bump(&c->st.free_errors, 1);
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

/* Under the lock: mag[0..n), the oldest (coldest) regions, to the depot while
 * it has room (they stay marked), the rest to nta. */
static void release_oldest_locked(struct nta_mt_cache *c, uint32_t n)
{
	struct nta_mt *mt = c->mt;
	uint32_t i = 0;

	for (; i < n && mt->ndepot < mt->depot_cap; i++)
		mt->depot[mt->ndepot++] = c->mag[i];
	for (; i < n; i++)
		to_nta(c, c->mag[i]);
	memmove(c->mag, c->mag + n, (size_t)(c->nmag - n) * sizeof(*c->mag));
	c->nmag -= n;
}

/* Under the lock: the depot and every parked head and tail (of any cache) to nta, for
 * an allocation that would fail or a drain. Loop bound: the depot, the
 * windows of the area. */
static void release_all_locked(struct nta_mt_cache *c)
{
	struct nta_mt *mt = c->mt;

	uint64_t partial = mt->retired_partial;

	while (mt->ndepot)
		to_nta(c, mt->depot[--mt->ndepot]);
	for (const struct nta_mt_cache *o = mt->caches; o; o = o->next)
		partial += get(&o->partial);
	for (uint64_t k = 0; partial && k < mt->nwin; k++) {
		uint64_t v = __atomic_load_n(wp(mt, k), __ATOMIC_RELAXED), s;
		uint32_t head, tail;

		/* the swap settles a race with the free of the kept blocks */
		if ((v & 3) != W_HELD || W_KEEP(v) == mt->hot_blocks ||
		    !__atomic_compare_exchange_n(wp(mt, k), &v, 0, false, __ATOMIC_RELAXED,
						 __ATOMIC_RELAXED))
			continue;
		bump(&c->partial, (uint64_t)-1);
		partial--;
		s = w_base(mt, k, v);
		head = W_HEAD(v) << mt->block_shift;
		tail = (mt->hot_blocks - W_HEAD(v) - W_KEEP(v)) << mt->block_shift;
		if ((head && nta_free(mt->nta, s, head)) ||
		    (tail && nta_free(mt->nta, s + mt->hot_len - tail, tail)))
			bump(&c->st.free_errors, 1);
	}
}

struct nta_mt *nta_mt_create(struct nta *nta, const struct nta_mt_opts *opts)
{
	struct nta_mt *mt;
	uint32_t hot = DEF_HOT, batch = DEF_BATCH;
	uint64_t size;

	if (!nta || (opts && opts->sz < offsetof(struct nta_mt_opts, batch) + sizeof(opts->batch))) {
		errno = EINVAL;
		return NULL;
	}
	if (opts && opts->hot_len)
		hot = opts->hot_len;
	if (opts && opts->batch)
		batch = opts->batch;
	if (hot > nta_max_alloc(nta) || hot % nta_block_size(nta) || batch > MAX_BATCH) {
		errno = EINVAL;
		return NULL;
	}
	mt = alloc_lines(sizeof(*mt));
	if (!mt)
		goto fail;
	if (pthread_mutex_init(&mt->lock, NULL))
		goto fail_mt;
	size = nta_area_size(nta);
	mt->nta = nta;
	mt->hot_len = hot;
	mt->batch = batch;
	mt->block_shift = (uint32_t)__builtin_ctz(nta_block_size(nta));
	mt->max_len = nta_max_alloc(nta);
	mt->hot_blocks = hot >> mt->block_shift;
	mt->win_shift = 31 - (uint32_t)__builtin_clz(hot);
	mt->nwin = (size + (1ull << mt->win_shift) - 1) >> mt->win_shift;
	mt->depot_cap = size / hot < DEPOT ? (uint32_t)(size / hot) : DEPOT;
	/* rows of whole lines: a line then holds 8 windows of one 64-window run */
	mt->win_stride = (mt->nwin + 63) / 64 * 8;
	mt->win = alloc_lines(mt->win_stride * 8 * sizeof(*mt->win));
	mt->depot = alloc_lines((size_t)mt->depot_cap * sizeof(*mt->depot));
	if (!mt->win || !mt->depot)
		goto fail_arrays;
	return mt;

fail_arrays:
	free(mt->win);
	free(mt->depot);
	pthread_mutex_destroy(&mt->lock);
fail_mt:
	free(mt);
fail:
	errno = ENOMEM;
	return NULL;
}

void nta_mt_destroy(struct nta_mt *mt)
{
	if (!mt)
		return;
	while (mt->caches)
		nta_mt_cache_destroy(mt->caches);
	/* parked heads and tails left by caches destroyed before the last drain */
	{
		struct nta_mt_cache tmp = { .mt = mt };

		release_all_locked(&tmp);
	}
	pthread_mutex_destroy(&mt->lock);
	free(mt->win);
	free(mt->depot);
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
	c->pend = alloc_lines(PENDING * sizeof(*c->pend));
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

	if (!c)
		return -EINVAL;
	lock(c);
	flush_pending_locked(c);
	while (c->nmag)
		to_nta(c, c->mag[--c->nmag]);
	release_all_locked(c);
	unlock(c);
	update_parked(c);
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
	mt->retired[0] += get(&c->st.locks);
	mt->retired[1] += get(&c->st.trims);
	mt->retired[2] += get(&c->st.trims_undone);
	mt->retired[3] += get(&c->st.double_frees);
	mt->retired_partial += get(&c->partial);
	pthread_mutex_unlock(&mt->lock);
	free(c->pend);
	free(c->mag);
	free(c);
}

/* Under the lock: n regions of len, after the queued frees; when nta is short,
 * once more after giving it the depot and the parked heads and tails. Regions
 * of the hot size come from the depot first and are marked PARKED (they go
 * into the magazine). */
static int alloc_bulk_locked(struct nta_mt_cache *c, uint32_t len, uint64_t *offs, unsigned int n)
{
	struct nta_mt *mt = c->mt;
	unsigned int got = 0;
	bool released = false;
	int ret;

	flush_pending_locked(c);
	if (len == mt->hot_len)
		while (got < n && mt->ndepot)
			offs[got++] = mt->depot[--mt->ndepot];
	while (got < n) {
		unsigned int from = got;

		ret = nta_alloc_bulk(mt->nta, len, offs + got, n - got);
		if (ret < 0)
			return got ? (int)got : ret;
		got += (unsigned int)ret;
		if (len == mt->hot_len)
			for (unsigned int i = from; i < got; i++)
				__atomic_store_n(win_of(mt, offs[i]), w_word(mt, W_PARKED, offs[i], 0, 0),
						 __ATOMIC_RELAXED);
		if (got == n || released)
			break;
		release_all_locked(c);
		released = true;
	}
	return (int)got;
}

/* The magazine is empty: take up to `batch` regions. */
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

/* Pop the warmest region: the caller holds all of it now. */
static inline uint64_t mag_pop(struct nta_mt_cache *c)
{
	uint64_t off = c->mag[--c->nmag];

	__atomic_store_n(win_of(c->mt, off), w_word(c->mt, W_HELD, off, 0, c->mt->hot_blocks),
			 __ATOMIC_RELAXED);
	return off;
}

int nta_mt_alloc(struct nta_mt_cache *c, uint32_t len, uint64_t *off)
{
	int ret;

	if (!c || !off || !len || len > c->mt->max_len)
		return -EINVAL;
	bump(&c->st.allocs, 1);
	if (len == c->mt->hot_len) {
		if (c->nmag) {
			bump(&c->st.fast_allocs, 1);
		} else {
			ret = refill(c);
			if (ret)
				return ret;
		}
		*off = mag_pop(c);
		update_parked(c);
		return 0;
	}
	lock(c);
	ret = alloc_bulk_locked(c, len, off, 1);
	unlock(c);
	update_parked(c);
	return ret == 1 ? 0 : ret < 0 ? ret : -ENOMEM;
}

int nta_mt_alloc_bulk(struct nta_mt_cache *c, uint32_t len, uint64_t *offs, unsigned int n)
{
	unsigned int i = 0;
	int ret;

	if (!c || (n && !offs) || !len || len > c->mt->max_len)
		return -EINVAL;
	if (n > INT32_MAX)
		n = INT32_MAX;
	if (len != c->mt->hot_len) {
		bump(&c->st.allocs, n);
		lock(c);
		ret = alloc_bulk_locked(c, len, offs, n);
		unlock(c);
		update_parked(c);
		return ret;
	}
	while (i < n) {
		if (!c->nmag && refill(c))
			break;
		/* in LIFO order: the warmest region first */
		while (i < n && c->nmag)
			offs[i++] = mag_pop(c);
	}
	bump(&c->st.allocs, i);
	update_parked(c);
	return (int)i;
}

/* A marked region of the hot size into the magazine; a full one first gives
 * its oldest batch to the depot or nta. */
static void mag_put(struct nta_mt_cache *c, uint64_t off)
{
	if (c->nmag == c->cap) {
		lock(c);
		flush_pending_locked(c);
		release_oldest_locked(c, c->mt->batch);
		unlock(c);
	}
	c->mag[c->nmag++] = off;
}

/* Any other free: queued, flushed when the queue is full. */
static void pend_put(struct nta_mt_cache *c, uint64_t off, uint32_t len)
{
	uint64_t mask = (1u << c->mt->block_shift) - 1;

	c->pend[c->npend++] = (struct pending_free){ off, len };
	c->pend_bytes += (len + mask) & ~mask; /* as nta counts it: whole blocks */
	if (c->npend == PENDING) {
		lock(c);
		flush_pending_locked(c);
		unlock(c);
	}
}

static int refuse(struct nta_mt_cache *c)
{
	bump(&c->st.double_frees, 1);
	return -EINVAL;
}

/*
 * [off, off + len) back from a caller, validated in shape. Inside the held
 * blocks of a HELD region it becomes part of the region's parked head or tail
 * (one compare-and-swap of the window's word), or parks the whole region when
 * it was the last held part; anything else is queued for nta. -EINVAL when it
 * meets parked blocks.
 */
static int front_free(struct nta_mt_cache *c, uint64_t off, uint32_t len)
{
	struct nta_mt *mt = c->mt;
	uint64_t bs = mt->block_shift, j = 0, v = 0, nv, kl, kh;
	uint32_t nb = (uint32_t)(((uint64_t)len + (1u << bs) - 1) >> bs);
	int ret;

	/* bound: retried only when another thread changed the word meanwhile */
	for (;;) {
		ret = scan(mt, off, len, &j, &v);
		if (ret < 0)
			return refuse(c);
		if (ret != 1) {
			if (ret == 2)
				send_touched(c, off, len);
			pend_put(c, off, len);
			return 0;
		}
		kl = w_base(mt, j, v) + ((uint64_t)W_HEAD(v) << bs);
		kh = kl + ((uint64_t)W_KEEP(v) << bs);
		if (off == kl && nb == W_KEEP(v))
			nv = w_make(W_PARKED, W_START(v), 0, 0);
		else if (off == kl)
			nv = w_make(W_HELD, W_START(v), W_HEAD(v) + nb, W_KEEP(v) - nb);
		else if (off + ((uint64_t)nb << bs) == kh)
			nv = w_make(W_HELD, W_START(v), W_HEAD(v), W_KEEP(v) - nb);
		else
			nv = 0; /* a middle part: the word cannot say it */
		if (!__atomic_compare_exchange_n(wp(mt, j), &v, nv, false, __ATOMIC_RELAXED,
						 __ATOMIC_RELAXED))
			continue;
		if (w_partial(mt, nv) != w_partial(mt, v))
			bump(&c->partial, (uint64_t)(w_partial(mt, nv) - w_partial(mt, v)));
		if (!nv) {
			trim_send(c, j, v);
			pend_put(c, off, len);
		} else if ((nv & 3) == W_PARKED) {
			if (W_KEEP(v) != mt->hot_blocks)
				bump(&c->st.trims_undone, 1);
			mag_put(c, w_base(mt, j, v));
		}
		return 0;
	}
}

int nta_mt_free(struct nta_mt_cache *c, uint64_t off, uint32_t len)
{
	uint64_t locks;
	int ret;

	if (!c || nta_range_valid(c->mt->nta, off, len))
		return -EINVAL;
	locks = c->st.locks;
	ret = front_free(c, off, len);
	if (ret)
		return ret;
	bump(&c->st.frees, 1);
	if (c->st.locks == locks)
		bump(&c->st.fast_frees, 1);
	update_parked(c);
	return 0;
}

int nta_mt_trim(struct nta_mt_cache *c, uint64_t off, uint32_t len, uint64_t keep_off,
		uint32_t keep_len)
{
	struct nta_mt *mt;
	uint64_t mask, end, kend, j = 0, v = 0, kl;
	int ret;

	if (!c)
		return -EINVAL;
	mt = c->mt;
	mask = (1u << mt->block_shift) - 1;
	/* relative to off, so that no sum can wrap: keep_off - off <= len < 2^32 */
	if (!keep_len || (keep_off & mask) || keep_off < off || keep_off - off > len ||
	    keep_len > len - (keep_off - off) || nta_range_valid(mt->nta, off, len))
		return -EINVAL;
	end = (off + len + mask) & ~mask;
	kend = (keep_off + keep_len + mask) & ~mask;
	/* bound: retried only when another thread changed the word meanwhile */
	for (;;) {
		ret = scan(mt, off, len, &j, &v);
		if (ret < 0)
			return refuse(c);
		kl = ret == 1 ? w_base(mt, j, v) + ((uint64_t)W_HEAD(v) << mt->block_shift) : 0;
		/* the common case, the whole held part trimmed: one swap */
		if (ret != 1 || kl != off || end - off != (uint64_t)W_KEEP(v) << mt->block_shift)
			break;
		if (keep_off == off && kend == end)
			goto done;
		if (__atomic_compare_exchange_n(
			    wp(mt, j), &v,
			    w_make(W_HELD, W_START(v),
				   W_HEAD(v) + (uint32_t)((keep_off - off) >> mt->block_shift),
				   (uint32_t)((kend - keep_off) >> mt->block_shift)),
			    false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
			if (!w_partial(mt, v))
				bump(&c->partial, 1);
			goto done;
		}
	}
	/* anything else: the head and the tail as two frees */
	if (keep_off > off)
		(void)front_free(c, off, (uint32_t)(keep_off - off));
	if (kend < end)
		(void)front_free(c, kend, (uint32_t)(end - kend));
done:
	bump(&c->st.trims, 1);
	update_parked(c);
	return 0;
}

void nta_mt_cache_get_stats(const struct nta_mt_cache *c, struct nta_mt_cache_stats *st)
{
	if (!st)
		return;
	if (!c) {
		*st = (struct nta_mt_cache_stats){ 0 };
		return;
	}
	st->allocs = get(&c->st.allocs);
	st->frees = get(&c->st.frees);
	st->fast_allocs = get(&c->st.fast_allocs);
	st->fast_frees = get(&c->st.fast_frees);
	st->locks = get(&c->st.locks);
	st->free_errors = get(&c->st.free_errors);
	st->parked_bytes = get(&c->st.parked_bytes);
	st->trims = get(&c->st.trims);
	st->trims_undone = get(&c->st.trims_undone);
	st->double_frees = get(&c->st.double_frees);
}

/* Under the lock: the bytes the front parks (magazines, queues, depot, the
 * heads and tails of held regions) and the sums of the caches' counters
 * (locks, trims, trims_undone, double_frees); -EUCLEAN when a marked region
 * is not allocated in nta. Loop bound: caches, the windows of the area. */
static int sum_locked(const struct nta_mt *mt, uint64_t *parked, uint64_t sums[4])
{
	int ret = 0;

	*parked = (uint64_t)mt->ndepot * mt->hot_len;
	memcpy(sums, mt->retired, sizeof(mt->retired));
	for (const struct nta_mt_cache *c = mt->caches; c; c = c->next) {
		*parked += get(&c->st.parked_bytes);
		sums[0] += get(&c->st.locks);
		sums[1] += get(&c->st.trims);
		sums[2] += get(&c->st.trims_undone);
		sums[3] += get(&c->st.double_frees);
	}
	for (uint64_t k = 0; k < mt->nwin; k++) {
		uint64_t v = __atomic_load_n(wp(mt, k), __ATOMIC_RELAXED), s, head, tail;
		bool held;

		if (!v)
			continue;
		s = w_base(mt, k, v);
		head = (uint64_t)W_HEAD(v) << mt->block_shift;
		tail = (uint64_t)(mt->hot_blocks - W_HEAD(v) - W_KEEP(v)) << mt->block_shift;

		if ((v & 3) == W_HELD)
			*parked += head + tail;
		held = nta_range_allocated(mt->nta, s, mt->hot_len);
		if (!held) {
			nta_report("nta_mt: window %llu marks a region at 0x%llx that nta does not hold",
				   (unsigned long long)k, (unsigned long long)w_base(mt, k, v));
			ret = -EUCLEAN;
		}
	}
	return ret;
}

int nta_mt_check(struct nta_mt *mt)
{
	struct nta_stats ns = { .sz = sizeof(ns) };
	uint64_t parked, sums[4];
	int ret;

	if (!mt)
		return -EINVAL;
	pthread_mutex_lock(&mt->lock);
	ret = nta_check(mt->nta);
	if (!ret)
		ret = nta_get_stats(mt->nta, &ns);
	if (!ret)
		ret = sum_locked(mt, &parked, sums);
	pthread_mutex_unlock(&mt->lock);
	if (ret)
		return ret;
	/* Parked regions are allocated blocks: more parked than in use is a lie. */
	return parked > ns.bytes_in_use ? -EUCLEAN : 0;
}

int nta_mt_get_stats(struct nta_mt *mt, struct nta_mt_stats *st)
{
	uint64_t parked, sums[4];
	int ret;

	if (!mt || !st || st->sz < offsetof(struct nta_mt_stats, double_frees))
		return -EINVAL;
	memset(&st->nta, 0, sizeof(st->nta));
	st->nta.sz = sizeof(st->nta);
	pthread_mutex_lock(&mt->lock);
	ret = nta_get_stats(mt->nta, &st->nta);
	(void)sum_locked(mt, &parked, sums);
	st->caches = mt->nr_caches;
	pthread_mutex_unlock(&mt->lock);
	if (ret)
		return ret;
	st->bytes_parked = parked;
	/* With workers running, parked is read a moment apart from nta's count. */
	st->bytes_in_use = st->nta.bytes_in_use > parked ? st->nta.bytes_in_use - parked : 0;
	st->locks = sums[0];
	st->trims = sums[1];
	st->trims_undone = sums[2];
	if (st->sz >= offsetof(struct nta_mt_stats, double_frees) + sizeof(st->double_frees))
		st->double_frees = sums[3];
	return 0;
}
