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

#include "internal.h"
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

/*
 * Parked hot regions. The area is cut into windows, the largest power of two
 * <= hot_len bytes, so no two disjoint hot regions start in one window. A
 * window's mark is 0 (none) or 1 + the first block, within the window, of the
 * parked region that starts there. A hot region is less than two windows long:
 * it can overlap only regions that start in its own window or in the ones on
 * either side. Offsets on the magazines' paths are taken in blocks (x = off >>
 * block_shift). The loops that park copy this into locals: an atomic
 * operation makes the compiler read again whatever it reads through a pointer.
 */
struct marks {
	uint16_t *win;           /* slot -1 and slot nwin exist, always 0 */
	uint32_t block_shift, win_shift;
	uint32_t wb_shift;       /* log2(blocks per window) */
	uint64_t wb_mask;        /* blocks per window - 1 */
	uint32_t reach;          /* (hot_len - window) in blocks: how far a hot
	                          * region at a window's start reaches into the
	                          * next window; 0 when hot_len is a power of two */
	uint32_t hot_len;
	/* hot_block: the shape of a hot region that a magazine may hold without
	 * asking nta, in blocks: in zone 0 (below end), inside one page (at
	 * most room blocks into it) */
	uint64_t end, pb_mask, room;
	/* range_ok: the shape of a free in zone 0, in bytes */
	uint64_t zone0, block_mask, page_mask;
};

struct nta_mt {
	pthread_mutex_t lock;
	struct nta *nta;
	uint32_t hot_len, batch, pending_max;
	uint32_t trim_shift;           /* 64 - log2(trim slots); 64: no table */
	uint32_t block_shift, max_len;
	struct marks mk;
	uint64_t nwin;
	struct nta_mt_cache *caches;   /* attached caches, under lock */
	uint64_t nr_caches;            /* under lock */
	uint64_t retired_locks;        /* locks of destroyed caches, under lock */
	uint64_t retired_trims[2];     /* trims, trims_undone of destroyed caches */
	uint64_t retired_double_frees; /* of destroyed caches */
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
	uint64_t double_frees;            /* frees refused for meeting a parked region */
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

/*
 * May a magazine hold the hot region at off without asking nta (zone 0,
 * block-aligned, one page)? Then *x is its first block. Rotated, an unaligned
 * offset has its low bits on top and fails the bound.
 */
static inline bool hot_block(const struct marks *mk, uint64_t off, uint64_t *x)
{
	*x = off >> mk->block_shift | off << (-mk->block_shift & 63);
	return *x < mk->end && (*x & mk->pb_mask) <= mk->room;
}

static inline uint16_t win_get(const uint16_t *m)
{
	return __atomic_load_n(m, __ATOMIC_RELAXED);
}

/*
 * Has [off, off + len) the shape of a free (len > 0, block-aligned, inside the
 * area and one page)? Ranges in zone 0 are answered here, the others by nta:
 * what every call checks first.
 */
static inline bool range_ok(const struct nta_mt *mt, uint64_t off, uint32_t len)
{
	const struct marks *mk = &mt->mk;

	if (off < mk->zone0 && len && !(off & mk->block_mask))
		return (off & mk->page_mask) + len <= mk->page_mask + 1;
	return !nta_range_valid(mt->nta, off, len);
}

/* Does [off, off + len) (a valid range) meet a parked region? One that does
 * starts less than hot_len before off: in a window the range reaches or in
 * the one before. */
static bool meets_parked(const struct marks *mk, uint64_t off, uint32_t len)
{
	uint64_t w0 = off >> mk->win_shift, w1 = (off + len - 1) >> mk->win_shift;

	/* bound: (len + hot_len) / window + 1 windows; window w0 - 1 may be the
	 * padding slot -1 */
	for (uint64_t w = w0 - 1; w != w1 + 1; w++) {
		uint16_t v = win_get(mk->win + w0 + (w - w0));
		uint64_t start = (w << mk->win_shift) + ((uint64_t)(v - 1) << mk->block_shift);

		if (v && start < off + len && off < start + mk->hot_len)
			return true;
	}
	return false;
}

/*
 * Mark the hot region at block x parked. false, marking nothing, when it meets
 * a parked region: its own window's mark is taken with a compare-and-swap (two
 * threads freeing one region cannot both park it), and with mark v here and n
 * there, the region of the window before reaches into it when n + reach > v,
 * the one of the next window starts inside it when n < v + reach.
 */
static inline bool park(const struct marks *mk, uint64_t x)
{
	uint16_t *m = mk->win + (x >> mk->wb_shift);
	uint16_t v = (uint16_t)(1 + (x & mk->wb_mask)), none = 0, n;

	n = win_get(m - 1);
	if (n && n + mk->reach > v)
		return false;
	n = win_get(m + 1);
	if (n && n < v + mk->reach)
		return false;
	return __atomic_compare_exchange_n(m, &none, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* The region at off leaves the parking layer (handed out or given to nta). */
static inline void unpark(const struct marks *mk, uint64_t off)
{
	__atomic_store_n(&mk->win[off >> mk->win_shift], 0, __ATOMIC_RELAXED);
}

/* A free that met a parked region: refused at the call and counted. */
static int refuse_parked(struct nta_mt_cache *c)
{
	bump(&c->double_frees, 1);
	return -EINVAL;
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

/* Under the lock: a queued free or a trim's part to nta. A range that meets a
 * region parked since it was queued is refused here, not handed to nta, which
 * would free blocks of that region. */
static void give_locked(struct nta_mt_cache *c, uint64_t off, uint32_t len)
{
	if (meets_parked(&c->mt->mk, off, len) || nta_free(c->mt->nta, off, len))
		bump(&c->st.free_errors, 1);
}

/* Under the lock: hand the queued frees to nta. */
static void flush_pending_locked(struct nta_mt_cache *c)
{
	for (uint32_t i = 0; i < c->npend; i++)
		give_locked(c, c->pend[i].off, c->pend[i].len);
	c->npend = 0;
	c->pend_bytes = 0;
}

/* Under the lock: give back mag[0..n), the oldest (coldest) regions. */
static void release_oldest_locked(struct nta_mt_cache *c, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		unpark(&c->mt->mk, c->mag[i]);
		if (nta_free(c->mt->nta, c->mag[i], c->mt->hot_len))
			bump(&c->st.free_errors, 1);
	}
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
			if (len[k])
				give_locked(c, off[k], len[k]);
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
	mt->mk.block_shift = mt->block_shift;
	mt->mk.win_shift = 31 - (uint32_t)__builtin_clz(hot);
	mt->mk.wb_shift = mt->mk.win_shift - mt->block_shift;
	mt->mk.wb_mask = (1ull << mt->mk.wb_shift) - 1;
	mt->mk.reach = (hot >> mt->block_shift) - (1u << mt->mk.wb_shift);
	mt->mk.hot_len = hot;
	mt->mk.zone0 = nta->zone[0].size;
	mt->mk.block_mask = nta_block_size(nta) - 1;
	mt->mk.page_mask = (1ull << nta->zone[0].page_shift) - 1;
	mt->mk.pb_mask = (1ull << (nta->zone[0].page_shift - mt->block_shift)) - 1;
	if (hot <= mt->mk.page_mask + 1) {
		mt->mk.end = nta->zone[0].size >> mt->block_shift;
		mt->mk.room = mt->mk.pb_mask + 1 - (hot >> mt->block_shift);
	}
	mt->nwin = (nta_area_size(nta) + (1ull << mt->mk.win_shift) - 1) >> mt->mk.win_shift;
	mt->mk.win = calloc(mt->nwin + 2, sizeof(*mt->mk.win));
	if (!mt->mk.win) {
		pthread_mutex_destroy(&mt->lock);
		free(mt);
		errno = ENOMEM;
		return NULL;
	}
	mt->mk.win++; /* slot -1: park() and meets_parked() look before window 0 */
	return mt;
}

void nta_mt_destroy(struct nta_mt *mt)
{
	if (!mt)
		return;
	while (mt->caches)
		nta_mt_cache_destroy(mt->caches);
	pthread_mutex_destroy(&mt->lock);
	free(mt->mk.win - 1);
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

	if (!c)
		return -EINVAL;
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
	mt->retired_double_frees += get(&c->double_frees);
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

/* Under the lock, with the magazine empty: fill it with up to a batch of hot
 * regions in one bulk call, each marked parked (fresh from nta: nothing is
 * parked where they are). */
static void fill_mag_locked(struct nta_mt_cache *c)
{
	const struct marks mk = c->mt->mk;
	int got = nta_alloc_bulk(c->mt->nta, mk.hot_len, c->mag, c->mt->batch);

	/* bound: batch */
	for (int i = 0; i < got; i++) {
		uint64_t x = c->mag[i] >> mk.block_shift;

		__atomic_store_n(&mk.win[x >> mk.wb_shift], (uint16_t)(1 + (x & mk.wb_mask)),
				 __ATOMIC_RELAXED);
	}
	c->nmag = got > 0 ? (uint32_t)got : 0;
}

/* Under the lock: n hot regions for a caller whose magazine is empty, and a
 * batch more for the magazine when they came without trouble, so that the
 * lock is taken once per batch. Returns how many the caller got. */
static int take_hot_locked(struct nta_mt_cache *c, uint64_t *offs, unsigned int n)
{
	int got = alloc_bulk_locked(c, c->mt->hot_len, offs, n);

	if (got == (int)n)
		fill_mag_locked(c);
	return got;
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
			*off = c->mag[--c->nmag];
			unpark(&c->mt->mk, *off);
		} else {
			lock(c);
			ret = take_hot_locked(c, off, 1);
			unlock(c);
			if (ret <= 0)
				return ret < 0 ? ret : -ENOMEM;
		}
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
	/* Pop in LIFO order, the warmest region first; the rest in one bulk call. */
	const struct marks mk = c->mt->mk;
	const uint64_t *mag = c->mag;
	uint32_t nm = c->nmag;

	i = nm < n ? nm : n;
	for (uint32_t k = 0; k < i; k++) {
		uint64_t off = mag[nm - 1 - k];

		offs[k] = off;
		unpark(&mk, off);
	}
	c->nmag = nm - i;
	if (i < n) {
		lock(c);
		ret = take_hot_locked(c, offs + i, n - i);
		unlock(c);
		i += ret > 0 ? (unsigned int)ret : 0;
	}
	bump(&c->st.allocs, i);
	update_parked(c);
	return (int)i;
}

/* A full magazine gives its oldest batch back to nta. */
static void overflow(struct nta_mt_cache *c)
{
	lock(c);
	flush_pending_locked(c);
	release_oldest_locked(c, c->mt->batch);
	unlock(c);
}

/* The hot region at off (window x) into the magazine, refused when it meets a
 * parked one; a full magazine first gives its oldest batch back to nta. */
static inline int mag_put(struct nta_mt_cache *c, const struct marks *mk, uint64_t off, uint64_t x)
{
	if (!park(mk, x))
		return refuse_parked(c);
	if (c->nmag == c->cap)
		overflow(c);
	c->mag[c->nmag++] = off;
	return 0;
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
	uint64_t start, x;
	uint32_t whole;

	if (t->keep != off || !t->keep_n ||
	    t->keep_n != ((uint64_t)len + (1u << shift) - 1) >> shift)
		return false;
	start = off - ((uint64_t)t->head << shift);
	whole = (uint32_t)(t->head + t->keep_n + t->tail) << shift;
	trim_clear(c, t);
	bump(&c->st.trims_undone, 1);
	/* trims are deferred only with pending > 1: pend_put cannot fail */
	if (whole != c->mt->hot_len || !hot_block(&c->mt->mk, start, &x) ||
	    mag_put(c, &c->mt->mk, start, x))
		(void)pend_put(c, start, whole);
	return true;
}

int nta_mt_free(struct nta_mt_cache *c, uint64_t off, uint32_t len)
{
	uint64_t locks, x;
	int ret = 0;

	if (!c || !range_ok(c->mt, off, len))
		return -EINVAL;
	locks = c->st.locks;
	if (len == c->mt->hot_len && hot_block(&c->mt->mk, off, &x)) {
		ret = mag_put(c, &c->mt->mk, off, x);
		if (ret)
			return ret;
	} else if (meets_parked(&c->mt->mk, off, len)) {
		return refuse_parked(c);
	} else if (!c->ntrim || !untrim(c, off, len)) {
		ret = pend_put(c, off, len);
	}
	bump(&c->st.frees, 1);
	if (c->st.locks == locks)
		bump(&c->st.fast_frees, 1);
	update_parked(c);
	return ret;
}

/*
 * nta_mt_free_bulk of hot regions: straight into the magazine, its fields in
 * locals and the counters written once for the batch; a region the magazine
 * cannot hold takes nta_mt_free's way, which counts itself. Inlined with pow2
 * a constant, so that the usual power-of-two hot_len has reach 0 folded in.
 */
static inline __attribute__((always_inline)) int free_hot(struct nta_mt_cache *c,
							  const uint64_t *offs, unsigned int n,
							  bool pow2)
{
	struct marks mk = c->mt->mk;
	uint64_t *mag = c->mag, locks = c->st.locks, other_locks = 0;
	uint32_t nm = c->nmag, cap = c->cap;
	unsigned int parked = 0;
	int refused = 0;

	if (pow2)
		mk.reach = 0;
	for (unsigned int i = 0; i < n; i++) {
		uint64_t off = offs[i], x, before;

		if (!hot_block(&mk, off, &x)) {
			c->nmag = nm;
			before = c->st.locks;
			refused += nta_mt_free(c, off, mk.hot_len) != 0;
			other_locks += c->st.locks - before;
			nm = c->nmag;
			continue;
		}
		if (!park(&mk, x)) {
			refused += refuse_parked(c) != 0;
			continue;
		}
		if (nm == cap) {
			c->nmag = nm;
			overflow(c);
			nm = c->nmag;
		}
		mag[nm++] = off;
		parked++;
	}
	c->nmag = nm;
	bump(&c->st.frees, parked);
	bump(&c->st.fast_frees, parked - (c->st.locks - locks - other_locks));
	update_parked(c);
	return refused;
}

int nta_mt_free_bulk(struct nta_mt_cache *c, const uint64_t *offs, unsigned int n, uint32_t len)
{
	int refused = 0;

	if (!c || !len || (n && !offs))
		return -EINVAL;
	if (len == c->mt->hot_len)
		return c->mt->mk.reach ? free_hot(c, offs, n, false) : free_hot(c, offs, n, true);
	for (unsigned int i = 0; i < n; i++)
		refused += nta_mt_free(c, offs[i], len) != 0;
	return refused;
}

int nta_mt_trim(struct nta_mt_cache *c, uint64_t off, uint32_t len, uint64_t keep_off,
		uint32_t keep_len)
{
	struct nta_mt *mt;
	uint64_t mask, end, kend;
	struct pending_trim *t;
	int ret = 0;

	if (!c)
		return -EINVAL;
	mt = c->mt;
	mask = (1u << mt->block_shift) - 1;
	/* relative to off, so that no sum can wrap: keep_off - off <= len < 2^32 */
	if (!keep_len || (keep_off & mask) || keep_off < off || keep_off - off > len ||
	    keep_len > len - (keep_off - off) || !range_ok(mt, off, len))
		return -EINVAL;
	if (meets_parked(&mt->mk, off, len))
		return refuse_parked(c);
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
}

/* Under the lock: parked bytes of every cache, lock count; when sums is not
 * NULL, trims, trims undone and double frees. */
static void sum_caches_locked(const struct nta_mt *mt, uint64_t *parked, uint64_t *locks,
			      uint64_t sums[3])
{
	*parked = 0;
	*locks = mt->retired_locks;
	if (sums) {
		sums[0] = mt->retired_trims[0];
		sums[1] = mt->retired_trims[1];
		sums[2] = mt->retired_double_frees;
	}
	for (const struct nta_mt_cache *c = mt->caches; c; c = c->next) {
		*parked += get(&c->st.parked_bytes);
		*locks += get(&c->st.locks);
		if (sums) {
			sums[0] += get(&c->st.trims);
			sums[1] += get(&c->st.trims_undone);
			sums[2] += get(&c->double_frees);
		}
	}
}

int nta_mt_check(struct nta_mt *mt)
{
	struct nta_stats ns = { .sz = sizeof(ns) };
	uint64_t parked, locks;
	int ret;

	if (!mt)
		return -EINVAL;
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
	uint64_t parked, locks, sums[3];
	int ret;

	if (!mt || !st || st->sz < offsetof(struct nta_mt_stats, double_frees))
		return -EINVAL;
	memset(&st->nta, 0, sizeof(st->nta));
	st->nta.sz = sizeof(st->nta);
	pthread_mutex_lock(&mt->lock);
	ret = nta_get_stats(mt->nta, &st->nta);
	sum_caches_locked(mt, &parked, &locks, sums);
	st->caches = mt->nr_caches;
	pthread_mutex_unlock(&mt->lock);
	if (ret)
		return ret;
	st->bytes_parked = parked;
	/* With workers running, parked is read a moment apart from nta's count. */
	st->bytes_in_use = st->nta.bytes_in_use > parked ? st->nta.bytes_in_use - parked : 0;
	st->locks = locks;
	st->trims = sums[0];
	st->trims_undone = sums[1];
	if (st->sz >= offsetof(struct nta_mt_stats, double_frees) + sizeof(st->double_frees))
		st->double_frees = sums[2];
	return 0;
}
