// SPDX-License-Identifier: MIT
/*
 * mt.c - the thread-safe front (nta_mt.h): per-thread magazines of the hot size
 * over one nta behind one mutex, with every parked region and every waiting
 * trim described in a table of windows shared by all threads.
 *
 * Why magazines (Bonwick's term, as in Solaris' kmem and mimalloc's per-thread
 * free lists): in ntad every queue thread frees a whole chunk per received
 * packet and allocates one per fill-ring slot, so nearly all traffic is one
 * size and balances out on the same thread. A LIFO array per thread serves it
 * without the lock, and the most recently freed (cache-warm) region goes out
 * first. The lock is paid once per `batch` regions: refills use
 * nta_alloc_bulk, which splits one free region for many blocks; overflows give
 * back the oldest half, keeping the warm end.
 *
 * Windows: the area is cut into windows, the largest power of two <= hot_len
 * bytes, so no two disjoint hot regions start in one window. One 64-bit word
 * per window describes the hot region that starts there, if the front holds
 * any of it: PARKED (whole, in a magazine) or TRIMMED (the caller holds its
 * kept blocks, the front its head and tail). Every free and trim first looks at
 * the words of the windows its range can reach and refuses a range that meets
 * what the front holds: a double free is -EINVAL at the call, in every build,
 * whichever thread parked the region. A word changes by compare-and-swap, so
 * two threads cannot both park or trim one region.
 *
 * Trims: a received frame is trimmed (head and tail given back) and its kept
 * blocks come back a moment later, at TX completion. nta_mt_trim of a hot
 * region records the trim in its window instead of freeing anything; the free
 * of exactly the kept blocks, on any thread, finds it there and swaps it to
 * PARKED: the region goes whole into that thread's magazine, and nta never
 * sees the trim nor the split that would follow it. Done through nta, the same
 * frame costs three coalescing frees and a split. No lock and no per-thread
 * table: a trim waits as long as its packet is held, and the only line two
 * threads share is the window's word. Waiting trims go to nta (their head and
 * tail) when an allocation would fail, when part of their kept blocks is
 * freed, and on drain.
 *
 * Other sizes (copy-break blocks, txonly frames) are rarer: their frees are
 * queued per thread and flushed under the lock in one go, and their
 * allocations go to nta under the lock: a per-size cache for every size would
 * park memory that another queue may need, and UMEM is shared precisely to
 * avoid that.
 *
 * Everything a cache writes that another thread reads (stats counters) is
 * written with relaxed atomic stores by its single owner, and each cache and
 * its arrays start on their own cache lines, so threads share no line on the
 * fast path but a window's word. The list of caches is guarded by the lock.
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
#define PENDING 32 /* frees of other sizes queued before a flush */

struct pending_free {
	uint64_t off;
	uint32_t len;
};

/*
 * A window's word: 0, or the hot region that starts in the window: 1 + its
 * first block within the window (bits 0-15, so a window has at most 65535
 * blocks); a waiting trim has W_TRIM too, its head and kept lengths in blocks
 * (bits 16-31 and 32-47; the tail is the rest of hot_len).
 */
#define W_TRIM (1ull << 63)

static inline uint32_t w_v(uint64_t w)
{
	return (uint32_t)w & 0xffff;
}

static inline uint32_t w_head(uint64_t w)
{
	return (uint32_t)(w >> 16) & 0xffff;
}

static inline uint32_t w_keep(uint64_t w)
{
	return (uint32_t)(w >> 32) & 0xffff;
}

/*
 * What the windows' paths need. Offsets there are taken in blocks (x = off >>
 * block_shift). The loops that park copy this into locals: an atomic
 * operation makes the compiler read again whatever it reads through a pointer.
 */
struct marks {
	uint64_t *win;           /* slot -1 and slot nwin exist, always 0 */
	uint32_t block_shift, win_shift;
	uint32_t wb_shift;       /* log2(blocks per window) */
	uint64_t wb_mask;        /* blocks per window - 1 */
	uint32_t reach;          /* (hot_len - window) in blocks: how far a hot
	                          * region at a window's start reaches into the
	                          * next window; 0 when hot_len is a power of two */
	uint32_t hot_len, hot_blocks;
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
	uint32_t batch, max_len;
	struct marks mk;                /* hot_len is mk.hot_len */
	uint64_t nwin;
	struct nta_mt_cache *caches;   /* attached caches, under lock */
	uint64_t nr_caches;            /* under lock */
	/* counters of destroyed caches, under lock */
	uint64_t retired_locks, retired_trims, retired_undone, retired_double_frees;
	uint64_t retired_trim_bytes;
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
	uint64_t double_frees;            /* frees refused for meeting what the front holds */
	/* head and tail bytes of the trims this cache made, less those of the
	 * trims it undid or sent on (modulo 2^64: a trim made here may end on
	 * another cache; the sum over the caches is exact) */
	uint64_t trim_bytes;
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
	set(&c->st.parked_bytes, (uint64_t)c->nmag * c->mt->mk.hot_len + c->pend_bytes);
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

static inline uint64_t win_get(const uint64_t *m)
{
	return __atomic_load_n(m, __ATOMIC_RELAXED);
}

static inline bool win_cas(uint64_t *m, uint64_t old, uint64_t new)
{
	return __atomic_compare_exchange_n(m, &old, new, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* The first block of the region word w (not 0) of window w_idx describes. */
static inline uint64_t w_start(const struct marks *mk, uint64_t w_idx, uint64_t w)
{
	return (w_idx << mk->wb_shift) + w_v(w) - 1;
}

/* Does [off, off + len) (a valid range) meet a region the front holds, parked
 * or trimmed (kept blocks included)? One that does starts less than hot_len
 * before off: in a window the range reaches or in the one before. */
static bool meets_parked(const struct marks *mk, uint64_t off, uint32_t len)
{
	uint64_t x0 = off >> mk->block_shift, x1 = (off + len - 1) >> mk->block_shift;
	uint64_t w0 = x0 >> mk->wb_shift, w1 = x1 >> mk->wb_shift;

	/* bound: (len + hot_len) / window + 1 windows; window w0 - 1 may be the
	 * padding slot -1 */
	for (int64_t w = (int64_t)w0 - 1; w <= (int64_t)w1; w++) {
		uint64_t word = win_get(mk->win + w);

		if (word && w_start(mk, (uint64_t)w, word) <= x1 &&
		    x0 < w_start(mk, (uint64_t)w, word) + mk->hot_blocks)
			return true;
	}
	return false;
}

/*
 * Claim the window of the hot region at block x with word (PARKED or TRIMMED
 * with that region's v). false, changing nothing, when it meets a region the
 * front holds: its own window's word is taken with a compare-and-swap, and
 * with v here and n there, the region of the window before reaches into it
 * when n + reach > v, the one of the next window starts inside it when
 * n < v + reach.
 */
static inline bool claim(const struct marks *mk, uint64_t x, uint64_t word)
{
	uint64_t *m = mk->win + (x >> mk->wb_shift);
	uint32_t v = w_v(word), n;

	n = w_v(win_get(m - 1));
	if (n && n + mk->reach > v)
		return false;
	/* with reach 0, a region at its window's start (v 1) ends where the
	 * next window starts */
	if (v > 1 || mk->reach) {
		n = w_v(win_get(m + 1));
		if (n && n < v + mk->reach)
			return false;
	}
	return win_cas(m, 0, word);
}

static inline uint64_t parked_word(const struct marks *mk, uint64_t x)
{
	return 1 + (x & mk->wb_mask);
}

/* The region at off leaves the front (handed out or given to nta). */
static inline void unpark(const struct marks *mk, uint64_t off)
{
	__atomic_store_n(&mk->win[off >> mk->win_shift], 0, __ATOMIC_RELAXED);
}

/* A free that met what the front holds: refused at the call and counted. */
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
		if (nta_free(c->mt->nta, c->mag[i], c->mt->mk.hot_len))
			bump(&c->st.free_errors, 1);
	}
	memmove(c->mag, c->mag + n, (size_t)(c->nmag - n) * sizeof(*c->mag));
	c->nmag -= n;
}

/* A queued free; a full queue is flushed under the lock. */
static void pend_put(struct nta_mt_cache *c, uint64_t off, uint32_t len)
{
	c->pend[c->npend++] = (struct pending_free){ off, len };
	/* in blocks, as nta counts bytes in use */
	c->pend_bytes += ((uint64_t)len + c->mt->mk.block_mask) & ~c->mt->mk.block_mask;
	if (c->npend == PENDING) {
		lock(c);
		flush_pending_locked(c);
		unlock(c);
	}
}

/* The bytes of a trim's head and tail. */
static inline uint64_t trim_bytes(const struct marks *mk, uint64_t word)
{
	return (uint64_t)(mk->hot_blocks - w_keep(word)) << mk->block_shift;
}

/*
 * Send the trim that window w's word describes on to nta, if it still waits
 * there: its head and tail as frees, under the lock (locked) or queued. false
 * when another thread took it first.
 */
static bool trim_send(struct nta_mt_cache *c, uint64_t w, uint64_t word, bool locked)
{
	const struct marks *mk = &c->mt->mk;
	uint64_t start = w_start(mk, w, word), kend = start + w_head(word) + w_keep(word);
	uint64_t off[2] = { start << mk->block_shift, kend << mk->block_shift };
	uint32_t len[2] = { w_head(word) << mk->block_shift,
			    (uint32_t)(start + mk->hot_blocks - kend) << mk->block_shift };

	if (!win_cas(mk->win + w, word, 0))
		return false;
	bump(&c->trim_bytes, -trim_bytes(mk, word));
	for (int k = 0; k < 2; k++) {
		if (!len[k])
			continue;
		if (locked)
			give_locked(c, off[k], len[k]);
		else
			pend_put(c, off[k], len[k]);
	}
	return true;
}

/* Under the lock: every waiting trim of every cache to nta. Bound: the
 * windows of the area. */
static void release_trims_locked(struct nta_mt_cache *c)
{
	const struct marks *mk = &c->mt->mk;

	for (uint64_t w = 0; w < c->mt->nwin; w++) {
		uint64_t word = win_get(mk->win + w);

		if (word & W_TRIM)
			(void)trim_send(c, w, word, true);
	}
}

/* Under the lock: do trims wait anywhere? Their bytes, summed over the caches. */
static bool trims_wait_locked(const struct nta_mt *mt)
{
	uint64_t bytes = mt->retired_trim_bytes;

	for (const struct nta_mt_cache *c = mt->caches; c; c = c->next)
		bytes += get(&c->trim_bytes);
	return bytes != 0;
}

struct nta_mt *nta_mt_create(struct nta *nta, const struct nta_mt_opts *opts)
{
	struct nta_mt *mt;
	uint32_t hot = DEF_HOT, batch = DEF_BATCH, bs;
	uint64_t page;

	if (!nta || (opts && opts->sz < offsetof(struct nta_mt_opts, batch) + sizeof(opts->batch))) {
		errno = EINVAL;
		return NULL;
	}
	if (opts && opts->hot_len)
		hot = opts->hot_len;
	if (opts && opts->batch)
		batch = opts->batch;
	bs = (uint32_t)__builtin_ctz(nta_block_size(nta));
	/* a window's word counts its blocks in 16 bits */
	if (hot > nta_max_alloc(nta) || hot % nta_block_size(nta) || batch > MAX_BATCH ||
	    (hot >> bs) > 0xffff) {
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
	mt->batch = batch;
	mt->max_len = nta_max_alloc(nta);
	mt->mk.block_shift = bs;
	mt->mk.win_shift = 31 - (uint32_t)__builtin_clz(hot);
	mt->mk.wb_shift = mt->mk.win_shift - bs;
	mt->mk.wb_mask = (1ull << mt->mk.wb_shift) - 1;
	mt->mk.hot_len = hot;
	mt->mk.hot_blocks = hot >> bs;
	mt->mk.reach = mt->mk.hot_blocks - (1u << mt->mk.wb_shift);
	page = 1ull << nta->zone[0].page_shift;
	mt->mk.zone0 = nta->zone[0].size;
	mt->mk.block_mask = nta_block_size(nta) - 1;
	mt->mk.page_mask = page - 1;
	mt->mk.pb_mask = (page >> bs) - 1;
	if (hot <= page) {
		mt->mk.end = nta->zone[0].size >> bs;
		mt->mk.room = (page - hot) >> bs;
	}
	mt->nwin = (nta_area_size(nta) + (1ull << mt->mk.win_shift) - 1) >> mt->mk.win_shift;
	mt->mk.win = calloc(mt->nwin + 2, sizeof(*mt->mk.win));
	if (!mt->mk.win) {
		pthread_mutex_destroy(&mt->lock);
		free(mt);
		errno = ENOMEM;
		return NULL;
	}
	mt->mk.win++; /* slot -1: claim() and meets_parked() look before window 0 */
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
	if (trims_wait_locked(c->mt))
		release_trims_locked(c);
	flush_pending_locked(c);
	release_oldest_locked(c, c->nmag);
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
	mt->retired_locks += get(&c->st.locks);
	mt->retired_trims += get(&c->st.trims);
	mt->retired_undone += get(&c->st.trims_undone);
	mt->retired_double_frees += get(&c->double_frees);
	mt->retired_trim_bytes += get(&c->trim_bytes);
	pthread_mutex_unlock(&mt->lock);
	free(c->pend);
	free(c->mag);
	free(c);
}

/* Under the lock: nta_alloc_bulk after the queued frees, and once more after
 * sending every waiting trim on when that leaves the request short. */
static int alloc_bulk_locked(struct nta_mt_cache *c, uint32_t len, uint64_t *offs, unsigned int n)
{
	int got, more;

	flush_pending_locked(c);
	got = nta_alloc_bulk(c->mt->nta, len, offs, n);
	if (got < 0 || (unsigned int)got == n || !trims_wait_locked(c->mt))
		return got;
	release_trims_locked(c);
	more = nta_alloc_bulk(c->mt->nta, len, offs + got, n - (unsigned int)got);
	return more > 0 ? got + more : got;
}

/* Under the lock, with the magazine empty: fill it with up to a batch of hot
 * regions in one bulk call, each marked parked (fresh from nta: the front
 * holds nothing where they are). */
static void fill_mag_locked(struct nta_mt_cache *c)
{
	const struct marks mk = c->mt->mk;
	int got = nta_alloc_bulk(c->mt->nta, mk.hot_len, c->mag, c->mt->batch);

	/* bound: batch */
	for (int i = 0; i < got; i++) {
		uint64_t x = c->mag[i] >> mk.block_shift;

		__atomic_store_n(&mk.win[x >> mk.wb_shift], parked_word(&mk, x), __ATOMIC_RELAXED);
	}
	c->nmag = got > 0 ? (uint32_t)got : 0;
}

/* Under the lock: n hot regions for a caller whose magazine is empty, and a
 * batch more for the magazine when they came without trouble, so that the
 * lock is taken once per batch. Returns how many the caller got. */
static int take_hot_locked(struct nta_mt_cache *c, uint64_t *offs, unsigned int n)
{
	int got = alloc_bulk_locked(c, c->mt->mk.hot_len, offs, n);

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
	if (len == c->mt->mk.hot_len) {
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
	ret = alloc_bulk_locked(c, len, off, 1);
	unlock(c);
	update_parked(c);
	return ret == 1 ? 0 : ret < 0 ? ret : -ENOMEM;
}

int nta_mt_alloc_bulk(struct nta_mt_cache *c, uint32_t len, uint64_t *offs, unsigned int n)
{
	unsigned int i;
	int ret;

	if (!c || (n && !offs) || !len || len > c->mt->max_len)
		return -EINVAL;
	if (n > INT32_MAX)
		n = INT32_MAX;
	if (len != c->mt->mk.hot_len) {
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

/* The hot region at off (block x) into the magazine, refused when it meets
 * what the front holds. */
static inline int mag_put(struct nta_mt_cache *c, const struct marks *mk, uint64_t off, uint64_t x)
{
	if (!claim(mk, x, parked_word(mk, x)))
		return refuse_parked(c);
	if (c->nmag == c->cap)
		overflow(c);
	c->mag[c->nmag++] = off;
	return 0;
}

/*
 * A free of [off, off + len) (valid, not a hot region for the magazine) that
 * meets a waiting trim. Exactly its kept blocks: the region is whole again and
 * goes to this cache's magazine, 1. Part of them: the trim is sent on first, so
 * the free goes on as any other, 0. Trims of regions that start in off's
 * window or the one before can hold off.
 */
static int untrim(struct nta_mt_cache *c, uint64_t off, uint32_t len)
{
	const struct marks *mk = &c->mt->mk;
	uint64_t x0 = off >> mk->block_shift, nb = ((uint64_t)len + mk->block_mask) >> mk->block_shift;
	int64_t w = (int64_t)(x0 >> mk->wb_shift);

	for (int k = 0; k < 2; k++, w--) {
		uint64_t word = win_get(mk->win + w), start, kb;

		if (!(word & W_TRIM))
			continue;
		start = w_start(mk, (uint64_t)w, word);
		kb = start + w_head(word);
		if (x0 + nb <= kb || x0 >= kb + w_keep(word))
			continue;
		if (x0 == kb && nb == w_keep(word) &&
		    win_cas(mk->win + w, word, parked_word(mk, start))) {
			bump(&c->trim_bytes, -trim_bytes(mk, word));
			bump(&c->st.trims_undone, 1);
			if (c->nmag == c->cap)
				overflow(c);
			c->mag[c->nmag++] = start << mk->block_shift;
			return 1;
		}
		(void)trim_send(c, (uint64_t)w, word, false);
	}
	return 0;
}

int nta_mt_free(struct nta_mt_cache *c, uint64_t off, uint32_t len)
{
	uint64_t locks, x;
	int ret = 0;

	if (!c || !range_ok(c->mt, off, len))
		return -EINVAL;
	locks = c->st.locks;
	if (len == c->mt->mk.hot_len && hot_block(&c->mt->mk, off, &x)) {
		ret = mag_put(c, &c->mt->mk, off, x);
		if (ret)
			return ret;
	} else if (!untrim(c, off, len)) {
		if (meets_parked(&c->mt->mk, off, len))
			return refuse_parked(c);
		pend_put(c, off, len);
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
		if (!claim(&mk, x, parked_word(&mk, x))) {
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
	if (len == c->mt->mk.hot_len)
		return c->mt->mk.reach ? free_hot(c, offs, n, false) : free_hot(c, offs, n, true);
	for (unsigned int i = 0; i < n; i++)
		refused += nta_mt_free(c, offs[i], len) != 0;
	return refused;
}

int nta_mt_trim(struct nta_mt_cache *c, uint64_t off, uint32_t len, uint64_t keep_off,
		uint32_t keep_len)
{
	const struct marks *mk;
	uint64_t end, kend, x, head, keep;

	if (!c)
		return -EINVAL;
	mk = &c->mt->mk;
	/* relative to off, so that no sum can wrap: keep_off - off <= len < 2^32 */
	if (!keep_len || (keep_off & mk->block_mask) || keep_off < off || keep_off - off > len ||
	    keep_len > len - (keep_off - off) || !range_ok(c->mt, off, len))
		return -EINVAL;
	end = (off + len + mk->block_mask) & ~mk->block_mask;
	kend = (keep_off + keep_len + mk->block_mask) & ~mk->block_mask;
	head = (keep_off - off) >> mk->block_shift;
	keep = (kend - keep_off) >> mk->block_shift;
	if (keep_off == off && kend == end) {
		bump(&c->st.trims, 1);
		return 0;
	}
	if (len == mk->hot_len && hot_block(mk, off, &x)) {
		/* A hot region waits in its window, whole or trimmed. */
		if (!claim(mk, x, W_TRIM | keep << 32 | head << 16 | parked_word(mk, x)))
			return refuse_parked(c);
		bump(&c->st.trims, 1);
		bump(&c->trim_bytes, (uint64_t)len - (kend - keep_off));
		return 0;
	}
	if (meets_parked(mk, off, len))
		return refuse_parked(c);
	bump(&c->st.trims, 1);
	if (keep_off > off)
		pend_put(c, off, (uint32_t)(keep_off - off));
	if (kend < end)
		pend_put(c, kend, (uint32_t)(end - kend));
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

struct sums {
	uint64_t parked, locks, trims, undone, double_frees;
};

/* Under the lock: the caches' counters, destroyed ones included. Parked bytes
 * are the magazines', the queues' and the waiting trims' heads and tails. */
static struct sums sum_caches_locked(const struct nta_mt *mt)
{
	struct sums s = { mt->retired_trim_bytes, mt->retired_locks, mt->retired_trims,
			  mt->retired_undone, mt->retired_double_frees };

	for (const struct nta_mt_cache *c = mt->caches; c; c = c->next) {
		s.parked += get(&c->st.parked_bytes) + get(&c->trim_bytes);
		s.locks += get(&c->st.locks);
		s.trims += get(&c->st.trims);
		s.undone += get(&c->st.trims_undone);
		s.double_frees += get(&c->double_frees);
	}
	return s;
}

int nta_mt_check(struct nta_mt *mt)
{
	struct nta_stats ns = { .sz = sizeof(ns) };
	struct sums s;
	int ret;

	if (!mt)
		return -EINVAL;
	pthread_mutex_lock(&mt->lock);
	ret = nta_check(mt->nta);
	if (!ret)
		ret = nta_get_stats(mt->nta, &ns);
	s = sum_caches_locked(mt);
	pthread_mutex_unlock(&mt->lock);
	if (ret)
		return ret;
	/* Parked regions are allocated blocks: more parked than in use is a lie. */
	return s.parked > ns.bytes_in_use ? -EUCLEAN : 0;
}

int nta_mt_get_stats(struct nta_mt *mt, struct nta_mt_stats *st)
{
	struct sums s;
	int ret;

	if (!mt || !st || st->sz < offsetof(struct nta_mt_stats, double_frees))
		return -EINVAL;
	memset(&st->nta, 0, sizeof(st->nta));
	st->nta.sz = sizeof(st->nta);
	pthread_mutex_lock(&mt->lock);
	ret = nta_get_stats(mt->nta, &st->nta);
	s = sum_caches_locked(mt);
	st->caches = mt->nr_caches;
	pthread_mutex_unlock(&mt->lock);
	if (ret)
		return ret;
	st->bytes_parked = s.parked;
	/* With workers running, parked is read a moment apart from nta's count. */
	st->bytes_in_use = st->nta.bytes_in_use > s.parked ? st->nta.bytes_in_use - s.parked : 0;
	st->locks = s.locks;
	st->trims = s.trims;
	st->trims_undone = s.undone;
	if (st->sz >= offsetof(struct nta_mt_stats, double_frees) + sizeof(st->double_frees))
		st->double_frees = s.double_frees;
	return 0;
}
