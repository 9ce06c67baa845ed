// SPDX-License-Identifier: MIT
/*
 * pool_nta.c - the UMEM managed by the Network Tree Allocator.
 *
 * Every byte of the UMEM belongs to one nta object. Fill regions are nta blocks
 * of chunk_size bytes (bulk-allocated), so the kernel, which may write anywhere
 * in [addr, addr + chunk_size), only ever writes into memory nta handed out.
 * When a received packet is kept (it waits on a TX ring), the region's head (the
 * XDP headroom) and its unused tail go back at once: a held packet costs its own
 * length rounded up to a block, not a chunk. The default nta geometry (32-byte
 * blocks, 4 KiB pages) is used: a chunk (<= 4096) is then always inside one nta
 * page, which nta_free needs for partial frees. nta's front cache is sized to
 * the chunk, so a region freed by rxdrop is what the next refill gets back.
 * With multi-buffer, the end of the UMEM is nta's jumbo range: a 9000-byte
 * frame is one contiguous block there (lib/ntad/chain.c), never on a fill ring.
 *
 * Queues: one nta for the whole UMEM behind nta_mt's thread-safe front; each
 * queue's handle is one nta_mt cache (a magazine of chunk-sized regions), so
 * the per-packet free and refill of a queue thread take no lock. One queue
 * uses the same structure (its lock is then never contended).
 */
#include <errno.h>
#include <stdlib.h>

#include "nta.h"
#include "nta_mt.h"
#include "pool.h"

/*
 * Blocks of other sizes: nta_mt's magazine keeps one size, the chunk. The other
 * hot sizes are the blocks ntad allocates per packet: the copy-break block
 * (every 64-byte frame of l2fwd is copied into a 64-byte block, sent, and freed
 * on completion) and txonly's frames (one size, or IMIX's three). Through nta
 * each costs a lock, a split and a coalescing free. So each handle keeps NLIFO
 * LIFOs of freed blocks, one rounded length each, and hands them out again
 * before asking nta; an empty one takes LIFO_REFILL blocks from nta in one
 * call. An allocation that finds no LIFO of its length gives its length to
 * one no length has had, else to an empty one, and only frees of a length a
 * LIFO has are kept: the kept part of a trimmed frame, a length nothing
 * allocates, still goes to nta_mt, where it cancels its trim. Like the magazine, a parked block stays
 * allocated in nta, is trusted unchecked, counts as free in the stats, and goes
 * back to nta on drain and before an allocation of the handle would fail.
 * Bounded: LIFO_BYTES (and LIFO_CAP blocks) a LIFO, 512 KiB a queue.
 */
#define NLIFO 4
#define LIFO_CAP 128
#define LIFO_BYTES (128u << 10)
#define LIFO_REFILL 64 /* blocks an empty LIFO takes from nta at once */

struct lifo {
	uint32_t len;            /* rounded length of its blocks; 0: none yet */
	uint32_t n, cap;
	uint64_t addr[LIFO_CAP];
};

/* Regions in nta's front cache at most: two default fill rings (32 KiB of array). */
#define FRONT_CACHE 4096

struct pool_nta;

struct nta_shared {
	struct nta *nta;
	struct nta_mt *mt;
	struct pool_nta *h[NTAD_MAX_QUEUES]; /* the handles, for their parked bytes */
	unsigned int nh;
};

struct pool_nta {
	struct ntad_pool base;
	struct nta_shared *sh;
	struct nta_mt_cache *cache;
	uint32_t block;
	uint64_t lifo_bytes;     /* parked in lifo[], read by stats from any thread */
	struct lifo lifo[NLIFO];
};

static struct pool_nta *to_nta(struct ntad_pool *p)
{
	return (struct pool_nta *)p;
}

static const struct pool_nta *to_cnta(const struct ntad_pool *p)
{
	return (const struct pool_nta *)p;
}

static inline uint32_t round_len(const struct pool_nta *pn, uint32_t len)
{
	return (len + pn->block - 1) & ~(pn->block - 1);
}

/* Only this handle's thread writes lifo_bytes; stats read it from any thread. */
static inline void parked_add(struct pool_nta *pn, int64_t d)
{
	__atomic_store_n(&pn->lifo_bytes, pn->lifo_bytes + (uint64_t)d, __ATOMIC_RELAXED);
}

/* The LIFO of blocks of rounded length r (> 0), or NULL. */
static inline struct lifo *lifo_of(struct pool_nta *pn, uint32_t r)
{
	for (unsigned int i = 0; i < NLIFO; i++)
		if (pn->lifo[i].len == r)
			return &pn->lifo[i];
	return NULL;
}

/* For an allocation of rounded length r: its LIFO, else an empty one given
 * to r (chunks and larger go to nta_mt's magazine and nta), else NULL. */
static struct lifo *lifo_for_alloc(struct pool_nta *pn, uint32_t r)
{
	struct lifo *l = lifo_of(pn, r);

	if (l || r >= pn->base.chunk_size)
		return l;
	/* A LIFO no length has had yet, else an empty one: taking the first
	 * empty one made IMIX's three lengths take turns with one LIFO. */
	for (unsigned int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < NLIFO; i++) {
			l = &pn->lifo[i];
			if (pass ? !l->n : !l->len) {
				l->len = r;
				l->cap = LIFO_BYTES / r < LIFO_CAP ? LIFO_BYTES / r : LIFO_CAP;
				return l;
			}
		}
	}
	return NULL;
}

/* Give every parked block back to nta (through the cache's queued frees). */
static void lifo_drain(struct pool_nta *pn)
{
	for (unsigned int i = 0; i < NLIFO; i++) {
		struct lifo *l = &pn->lifo[i];

		for (uint32_t k = 0; k < l->n; k++)
			(void)nta_mt_free(pn->cache, l->addr[k], l->len);
		l->n = 0;
	}
	parked_add(pn, -(int64_t)pn->lifo_bytes);
}

/* Up to n blocks from nta_mt, and the rest after giving the LIFOs back. */
static unsigned int mt_alloc_bulk(struct pool_nta *pn, uint32_t len, uint64_t *addrs, unsigned int n)
{
	int got = nta_mt_alloc_bulk(pn->cache, len, addrs, n);
	unsigned int i = got < 0 ? 0 : (unsigned int)got;

	if (i < n && pn->lifo_bytes) {
		lifo_drain(pn);
		got = nta_mt_alloc_bulk(pn->cache, len, addrs + i, n - i);
		i += got < 0 ? 0 : (unsigned int)got;
	}
	return i;
}

static unsigned int nta_fill_alloc(struct ntad_pool *p, uint64_t *addrs, unsigned int n)
{
	return mt_alloc_bulk(to_nta(p), p->chunk_size, addrs, n);
}

static int nta_rx_trim(struct ntad_pool *p, uint64_t base, uint64_t addr, uint32_t len)
{
	return nta_mt_trim(to_nta(p)->cache, base, p->chunk_size, addr, len);
}

static int nta_pool_alloc(struct ntad_pool *p, uint32_t len, uint64_t *addr)
{
	struct pool_nta *pn = to_nta(p);
	struct lifo *l;
	int ret;

	if (!len)
		return -EINVAL;
	l = lifo_for_alloc(pn, round_len(pn, len));
	if (l && !l->n) {
		/* One lock and one walk of nta for a few blocks: a hold that keeps
		 * what it copies (capture, the delay line) frees nothing for the
		 * LIFO to hand out again. */
		l->n = mt_alloc_bulk(pn, len, l->addr, LIFO_REFILL < l->cap ? LIFO_REFILL : l->cap);
		parked_add(pn, (int64_t)l->n * l->len);
	}
	if (l && l->n) {
		*addr = l->addr[--l->n];
		parked_add(pn, -(int64_t)l->len);
		return 0;
	}
	ret = nta_mt_alloc(pn->cache, len, addr);
	if (ret == -ENOMEM && pn->lifo_bytes) {
		lifo_drain(pn);
		ret = nta_mt_alloc(pn->cache, len, addr);
	}
	return ret;
}

static unsigned int nta_pool_alloc_bulk(struct ntad_pool *p, uint32_t len, uint64_t *addrs, unsigned int n)
{
	struct pool_nta *pn = to_nta(p);
	unsigned int i = 0;
	struct lifo *l;

	if (!len)
		return 0;
	l = lifo_for_alloc(pn, round_len(pn, len));
	if (l && l->n) {
		for (; i < n && l->n; i++)
			addrs[i] = l->addr[--l->n];
		parked_add(pn, -(int64_t)i * l->len);
		if (i == n)
			return n;
	}
	return i + mt_alloc_bulk(pn, len, addrs + i, n - i);
}

static int nta_pool_free(struct ntad_pool *p, uint64_t addr, uint32_t len)
{
	struct pool_nta *pn = to_nta(p);

	/* Aligned only: then the blocks nta would free are exactly [addr, addr + r).
	 * Chunks and larger never have a LIFO (lifo_for_alloc). */
	if (len && len < p->chunk_size && !(addr & (pn->block - 1))) {
		struct lifo *l = lifo_of(pn, round_len(pn, len));

		if (l && l->n < l->cap) {
			l->addr[l->n++] = addr;
			parked_add(pn, l->len);
			return 0;
		}
	}
	return nta_mt_free(pn->cache, addr, len);
}

static unsigned int nta_pool_free_bulk(struct ntad_pool *p, const uint64_t *addrs, unsigned int n,
				       uint32_t len)
{
	struct pool_nta *pn = to_nta(p);
	unsigned int refused = 0;
	int r;

	if (len >= p->chunk_size) {
		r = nta_mt_free_bulk(pn->cache, addrs, n, len);
		return r < 0 ? n : (unsigned int)r;
	}
	for (unsigned int i = 0; i < n; i++)
		refused += nta_pool_free(p, addrs[i], len) != 0;
	return refused;
}

static void nta_pool_stats(const struct ntad_pool *p, struct ntad_pool_stats *st)
{
	struct nta_mt_stats ms = { .sz = sizeof(ms) };
	uint64_t lifo = 0;
	const struct nta_shared *sh = to_cnta(p)->sh;

	if (nta_mt_get_stats(sh->mt, &ms)) {
		*st = (struct ntad_pool_stats){ 0 };
		return;
	}
	for (unsigned int i = 0; i < sh->nh; i++)
		lifo += __atomic_load_n(&sh->h[i]->lifo_bytes, __ATOMIC_RELAXED);
	st->size = ms.nta.area_size;
	/* Blocks parked in the handles' LIFOs are allocated in nta. */
	st->in_use = ms.bytes_in_use > lifo ? ms.bytes_in_use - lifo : 0;
	/* Regions parked in nta's front cache or in the queues' magazines are
	 * free for every purpose of ours. */
	st->cached = ms.nta.bytes_cached + ms.bytes_parked + lifo;
	st->free = ms.nta.bytes_free + st->cached;
	st->largest_free = ms.nta.largest_free;
	st->alloc_failures = ms.nta.alloc_failures;
	st->trims_undone = ms.trims_undone;
}

static int nta_pool_check(const struct ntad_pool *p)
{
	return nta_mt_check(to_cnta(p)->sh->mt);
}

static unsigned int nta_pool_drain(struct ntad_pool *p)
{
	struct nta_mt_cache_stats before, after;

	nta_mt_cache_get_stats(to_nta(p)->cache, &before);
	lifo_drain(to_nta(p));
	(void)nta_mt_cache_drain(to_nta(p)->cache);
	nta_mt_cache_get_stats(to_nta(p)->cache, &after);
	return (unsigned int)(after.free_errors - before.free_errors);
}

static void shared_destroy(struct nta_shared *sh)
{
	if (!sh)
		return;
	nta_mt_destroy(sh->mt);
	nta_destroy(sh->nta);
	free(sh);
}

static void nta_pool_destroy(struct ntad_pool *p)
{
	struct pool_nta *pn = to_nta(p);

	lifo_drain(pn);
	nta_mt_cache_destroy(pn->cache);
	free(pn);
}

static const struct ntad_pool_ops nta_ops = {
	.name = "nta",
	.fill_alloc = nta_fill_alloc,
	.rx_trim = nta_rx_trim,
	.alloc = nta_pool_alloc,
	.alloc_bulk = nta_pool_alloc_bulk,
	.free = nta_pool_free,
	.free_bulk = nta_pool_free_bulk,
	.stats = nta_pool_stats,
	.check = nta_pool_check,
	.drain = nta_pool_drain,
	.destroy = nta_pool_destroy,
};

void ntad_pools_nta_destroy_shared(void *shared)
{
	shared_destroy(shared);
}

int ntad_pools_nta_create(struct ntad_pools *ps, void *area, uint64_t size, uint32_t chunk_size,
			  uint64_t jumbo_size, unsigned int nr)
{
	/*
	 * nta's front cache holds freed regions of exactly one size for the next
	 * fill-ring refill: make that size the chunk (it must be a power of two;
	 * other chunk sizes simply never hit the cache). nta_mt's magazines keep
	 * the same size, per queue, and give their overflow to that cache: a
	 * queue's TX completions or drops can return up to a ring of regions while
	 * its fill ring is full, and its next refills take them back. FRONT_CACHE
	 * holds that without a trip through the lists (a coalescing free, then a
	 * split); its regions stay free for everyone, as nta flushes the cache
	 * before an allocation would fail.
	 */
	NTA_OPTS(no, .cache_len = (chunk_size & (chunk_size - 1)) ? 0 : chunk_size,
		 .cache_size = FRONT_CACHE,
		 .jumbo_size = jumbo_size, .jumbo_page_size = NTAD_JUMBO_PAGE);
	NTA_MT_OPTS(mo, .hot_len = chunk_size);
	struct nta_shared *sh;
	int ret = -ENOMEM;

	if (!nr || nr > NTAD_MAX_QUEUES)
		return -EINVAL;
	sh = calloc(1, sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	sh->nta = nta_create(area, size, &no);
	if (!sh->nta) {
		ret = -errno;
		goto err;
	}
	if (chunk_size > nta_max_alloc(sh->nta) || chunk_size % nta_block_size(sh->nta)) {
		ret = -EINVAL;
		goto err;
	}
	sh->mt = nta_mt_create(sh->nta, &mo);
	if (!sh->mt) {
		ret = -errno;
		goto err;
	}
	ps->name = "nta";
	ps->nr = 0;
	for (unsigned int i = 0; i < nr; i++) {
		struct pool_nta *pn = calloc(1, sizeof(*pn));

		if (!pn)
			goto err_handles;
		pn->cache = nta_mt_cache_create(sh->mt);
		if (!pn->cache) {
			free(pn);
			goto err_handles;
		}
		pn->sh = sh;
		pn->block = nta_block_size(sh->nta);
		pn->base.ops = &nta_ops;
		pn->base.chunk_size = chunk_size;
		pn->base.exact = true;
		pn->base.shared = true;
		pn->base.base = 0;
		pn->base.size = size;
		ps->q[ps->nr++] = &pn->base;
		sh->h[sh->nh++] = pn;
	}
	ps->shared = sh;
	return 0;

err_handles:
	ret = -ENOMEM;
	while (ps->nr)
		nta_pool_destroy(ps->q[--ps->nr]);
err:
	shared_destroy(sh);
	return ret;
}
