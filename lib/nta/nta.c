// SPDX-License-Identifier: MIT
/*
 * nta.c - create/destroy, alloc/free and their bulk forms, the front cache.
 *
 * An allocation takes the first page of the class list of its size in blocks or
 * of the next non-empty larger one (O(1) through the non-empty bitmap): the
 * page whose largest free run fits most tightly. In that page's bitmap it picks
 * the shortest run that fits, marks its last blocks allocated and refiles the
 * page under its new largest run. A free finds its page by masking, checks in
 * the bitmap that every block of the range is allocated, finds both
 * neighbouring free runs with ctz/clz, clears the bits and refiles the page if
 * the coalesced run is now its largest. Nothing loops over lists or pages: the
 * loops below are bounded by a page's bitmap words and free runs, by the
 * caller's count (bulk calls) or by the front cache's capacity (flush).
 *
 * Each operation validates everything first, then changes state, so an error
 * changes nothing; and no operation allocates memory after nta_create, so a
 * free always succeeds once its range is valid.
 *
 * The front cache is a LIFO magazine of cache_len regions at cache_len-aligned
 * offsets, the fill ring's hot size: a free of such a region parks it (its bits
 * stay set; a bit in cache_bits marks it as the cache's once another region is
 * pushed on top of it, the top being known by comparison) and the next alloc of
 * that size takes it back, which is what makes fixed-size frame recycling cost
 * about as much as a frame stack. Frees that touch a cached region are rejected
 * like any free of unallocated space. When the lists cannot satisfy a request,
 * the cache is flushed back to the lists and the request retried.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static uint32_t log2u(uint64_t x)
{
	return 63 - (uint32_t)__builtin_clzll(x);
}

static void zone_fini(struct nta_zone *z)
{
	free(z->bits);
	free(z->lmax);
	z->bits = NULL;
	z->lmax = NULL;
	nta_zone_classes_fini(z);
}

/* Set up a zone of npages pages, all free: each page is one region of bpp blocks. */
static int zone_init(struct nta_zone *z, uint64_t base, uint32_t npages, uint32_t node0,
		     uint32_t page_shift, uint32_t block_shift)
{
	int err;

	memset(z, 0, sizeof(*z));
	z->base = base;
	z->npages = npages;
	z->node0 = node0;
	z->page_shift = page_shift;
	z->size = (uint64_t)npages << page_shift;
	z->bpp = 1u << (page_shift - block_shift);
	z->words = z->bpp / 64;
	z->bits = calloc((size_t)npages * z->words, sizeof(*z->bits));
	z->lmax = calloc(npages, sizeof(*z->lmax));
	if (!z->bits || !z->lmax) {
		zone_fini(z);
		return -ENOMEM;
	}
	err = nta_zone_classes_init(z);
	if (err) {
		zone_fini(z);
		return err;
	}
	/* bound: npages; pushed in reverse so the lowest page is used first */
	for (uint32_t p = npages; p-- > 0;) {
		nta_page_file(z, p, z->bpp);
		nta_region_add(z, z->bpp);
	}
	return 0;
}

#define OPT(o, field, def)                                                      \
	((o) && (o)->sz >= offsetof(struct nta_opts, field) + sizeof((o)->field) && \
	 (o)->field ? (o)->field : (def))

struct nta *nta_create(void *area, uint64_t size, const struct nta_opts *opts)
{
	uint32_t block, page, jpage, flags, cache_len, cache_size, npages0, npages1;
	uint64_t jumbo, normal;
	struct nta *nta;
	int err = -EINVAL;

	/* the area's offsets must be addresses too: it may not wrap the address space */
	if (!area || size > UINTPTR_MAX - (uintptr_t)area ||
	    (opts && opts->sz < offsetof(struct nta_opts, jumbo_page_size) +
				sizeof(opts->jumbo_page_size)))
		goto fail;
	block = OPT(opts, block_size, 32);
	page = OPT(opts, page_size, 4096);
	jumbo = OPT(opts, jumbo_size, 0);
	jpage = OPT(opts, jumbo_page_size, 16384);
	flags = OPT(opts, flags, 0);
	cache_len = OPT(opts, cache_len, page < 2048 ? page : 2048);
	cache_size = OPT(opts, cache_size, 256);
	if (!is_pow2(block) || block < 8 || !is_pow2(page) || page / block < 64 ||
	    page / block > NTA_MAX_BPP || (flags & ~(NTA_F_TREE_LOOKUP | NTA_F_NO_CACHE)))
		goto fail;
	if (!(flags & NTA_F_NO_CACHE) &&
	    (!is_pow2(cache_len) || cache_len < block || cache_len > page ||
	     (size >> log2u(cache_len)) >= NTA_NIL))
		goto fail;
	if (jumbo && (!is_pow2(jpage) || jpage <= page || jpage / block > NTA_MAX_BPP ||
		      jumbo % jpage))
		goto fail;
	size &= ~(uint64_t)(page - 1);
	if (jumbo >= size || size - jumbo < page)
		goto fail;
	normal = size - jumbo;
	/* entry ids (bpp + npages) and node indices are u32 */
	if ((normal >> log2u(page)) + (jumbo >> log2u(jpage)) >= (1u << 31))
		goto fail;
	npages0 = (uint32_t)(normal >> log2u(page));
	npages1 = (uint32_t)(jumbo >> log2u(jpage));

	err = -ENOMEM;
	/* on a line of its own: the fast paths' fields are its first line */
	nta = aligned_alloc(64, (sizeof(*nta) + 63) & ~(size_t)63);
	if (!nta)
		goto fail;
	memset(nta, 0, sizeof(*nta));
	nta->size = size;
	nta->block_size = block;
	nta->block_shift = (uint8_t)log2u(block);
	nta->flags = flags;
	nta->max_alloc = jumbo ? jpage : page;
	nta->nzones = jumbo ? 2 : 1;
	err = zone_init(&nta->zone[0], 0, npages0, 0, log2u(page), nta->block_shift);
	if (err)
		goto fail_nta;
	if (jumbo) {
		err = zone_init(&nta->zone[1], normal, npages1, npages0, log2u(jpage),
				nta->block_shift);
		if (err)
			goto fail_zone0;
	}
	err = nta_tree_init(&nta->tree, npages0 + npages1, npages0, log2u(page), normal,
			    log2u(jpage));
	if (err)
		goto fail_zone1;
	/* bound: the number of pages */
	for (uint32_t i = 0; i < npages0 + npages1; i++) {
		err = nta_tree_insert(&nta->tree, i);
		if (err)
			goto fail_tree;
	}
	nta->bits0 = nta->zone[0].bits;
	if (!(flags & NTA_F_NO_CACHE)) {
		nta->cache_len = cache_len;
		nta->cache_blocks = cache_len >> nta->block_shift;
		nta->cache_shift = (uint8_t)log2u(cache_len);
		/* more slots than chunks could never fill */
		if (cache_size > nta->zone[0].size >> nta->cache_shift)
			cache_size = (uint32_t)(nta->zone[0].size >> nta->cache_shift);
		nta->mag_cap = cache_size;
		nta->cache_lshift = nta->cache_blocks < 64 ? (uint8_t)(64 - nta->cache_blocks) : 0;
		nta->cache_min = cache_len - block + 1;
		nta->cache_chunks = (flags & NTA_F_TREE_LOOKUP) || nta->cache_blocks > 64 ?
				    0 : nta->zone[0].size >> nta->cache_shift;
		nta->cache_words = (uint32_t)(((normal >> nta->cache_shift) + 63) / 64);
		nta->cache_bits = calloc(nta->cache_words, 8);
		nta->mag = malloc(sizeof(*nta->mag) * cache_size);
		if (!nta->cache_bits || !nta->mag)
			goto fail_cache;
	}
	nta->meta_fixed = nta_meta_bytes(nta);
	return nta;

fail_cache:
	free(nta->cache_bits);
	free(nta->mag);
fail_tree:
	nta_tree_fini(&nta->tree);
fail_zone1:
	if (jumbo)
		zone_fini(&nta->zone[1]);
fail_zone0:
	zone_fini(&nta->zone[0]);
fail_nta:
	free(nta);
fail:
	errno = -err;
	return NULL;
}

void nta_destroy(struct nta *nta)
{
	if (!nta)
		return;
	free(nta->cache_bits);
	free(nta->mag);
	nta_tree_fini(&nta->tree);
	for (unsigned int i = 0; i < nta->nzones; i++)
		zone_fini(&nta->zone[i]);
	free(nta);
}

/*
 * Take up to max regions of want blocks from one free run: from the page filed
 * under the smallest class >= want, its best-fitting run, split once. The
 * blocks come from the end of the run. Returns how many (0 with -ENOMEM in
 * *err if none fits).
 */
static inline uint32_t zone_take(struct nta_zone *z, uint32_t want, uint32_t max,
				 uint64_t *offs, uint32_t block_shift, int *err)
{
	uint32_t c = nta_class_find(z, want), p, start, len, other, k, used, rest;
	uint64_t first;

	if (!c) {
		*err = -ENOMEM;
		return 0;
	}
	p = z->ents[c - 1].next - z->bpp;
	other = nta_bm_fit(z->bits + (size_t)p * z->words, z->bpp, want, &start, &len);
	nta_assert(len >= want);
	k = len / want < max ? len / want : max;
	used = k * want;
	rest = len - used;
	nta_bm_set(z->bits + (size_t)p * z->words, start + rest, used);
	nta_region_del(z, len);
	if (rest)
		nta_region_add(z, rest);
	nta_page_file(z, p, rest > other ? rest : other);
	first = z->base + ((uint64_t)p << z->page_shift) + ((uint64_t)(start + rest) << block_shift);
	/* bound: k <= max, the caller's count */
	for (uint32_t i = 0; i < k; i++)
		offs[i] = first + ((uint64_t)(i * want) << block_shift);
	*err = 0;
	return k;
}

/* Give back blocks [b, b + n) of page p, all allocated, coalescing with both
 * neighbouring free runs. Nothing is allocated: it cannot fail. */
static inline void zone_release(struct nta_zone *z, uint32_t p, uint32_t b, uint32_t n)
{
	uint64_t *bm = z->bits + (size_t)p * z->words;
	uint32_t s = b, e = b + n, end = e;

	if (b && !nta_bm_test(bm, b - 1)) {
		s = (uint32_t)(nta_bm_prev_set(bm, b - 1) + 1);
		nta_region_del(z, b - s);
	}
	if (e < z->bpp && !nta_bm_test(bm, e)) {
		end = nta_bm_next_set(bm, e, z->bpp);
		nta_region_del(z, end - e);
	}
	nta_bm_clear(bm, b, n);
	nta_region_add(z, end - s);
	if (end - s > z->lmax[p])
		nta_page_file(z, p, end - s);
}

/* Push off, a region of the cache's size and alignment not held by the cache,
 * with room in the magazine: the old top gets its mark (nta_cache_held). */
static inline void cache_push(struct nta *nta, uint64_t off)
{
	uint32_t n = nta->mag_n;

	if (n) {
		uint64_t c = nta->mag[n - 1] >> nta->cache_shift;

		*nta_cache_word(nta, c) |= nta_cache_bit(c);
	}
	nta->mag[n] = off;
	nta->mag_n = n + 1;
}

static inline uint64_t cache_pop(struct nta *nta)
{
	uint64_t off = nta->mag[--nta->mag_n];

	/* the new top is not marked (nta_cache_held) */
	if (nta->mag_n) {
		uint64_t c = nta->mag[nta->mag_n - 1] >> nta->cache_shift;

		*nta_cache_word(nta, c) &= ~nta_cache_bit(c);
	}
	return off;
}

/* Give every cached region back to the lists. Bound: mag_cap. */
static void cache_flush(struct nta *nta)
{
	struct nta_zone *z = &nta->zone[0];

	while (nta->mag_n) {
		uint64_t off = nta->mag[nta->mag_n - 1];
		uint32_t p = (uint32_t)(off >> z->page_shift);
		uint32_t b = (uint32_t)((off & ((1ULL << z->page_shift) - 1)) >> nta->block_shift);

		zone_release(z, p, b, nta->cache_blocks);
		cache_pop(nta);
		nta->set_blocks -= nta->cache_blocks;
		nta->flushed++;
	}
}

static inline int blocks_of(const struct nta *nta, uint32_t len, uint32_t *nb)
{
	if (!len || len > nta->max_alloc)
		return -EINVAL;
	*nb = (len + nta->block_size - 1) >> nta->block_shift;
	return 0;
}

static inline struct nta_zone *zone_for(struct nta *nta, uint32_t nb)
{
	return nb <= nta->zone[0].bpp ? &nta->zone[0] : &nta->zone[1];
}

/* Everything but the cache pop; out of line so that the fast path in nta_alloc
 * stays a leaf that saves no registers. */
static __attribute__((noinline)) int alloc_slow(struct nta *nta, uint32_t len, uint64_t *off)
{
	struct nta_zone *z;
	uint32_t nb;
	int err;

	if (blocks_of(nta, len, &nb))
		return -EINVAL;
	if (nb == nta->cache_blocks && nta->mag_n) {
		*off = cache_pop(nta);
		goto done;
	}
	z = zone_for(nta, nb);
	if (!zone_take(z, nb, 1, off, nta->block_shift, &err)) {
		if (err == -ENOMEM && nta->mag_n) {
			cache_flush(nta);
			if (zone_take(z, nb, 1, off, nta->block_shift, &err))
				goto taken;
		}
		if (err == -ENOMEM)
			nta->failures++;
		return err;
	}
taken:
	nta->set_blocks += nb;
	nta->list_allocs++;
done:
	nta->allocs++;
	return 0;
}

int nta_alloc(struct nta *nta, uint32_t len, uint64_t *off)
{
	if (!nta || !off)
		return -EINVAL;
	/* the fill ring's recycling: a frame freed, then one allocated, so the
	 * magazine goes 0 -> 1 -> 0. Popping its only region is two stores and a
	 * load from fixed places: no new top to unmark, no index to chase (a len
	 * in [cache_min, cache_min + block_size) rounds to cache_blocks; without
	 * a cache mag_n is 0). Deeper pops (after a burst of frees) go through
	 * alloc_slow, which pops and unmarks the new top. */
	if (len - nta->cache_min < nta->block_size && nta->mag_n == 1) {
		*off = nta->mag[0];
		nta->mag_n = 0;
		nta->allocs++;
		return 0;
	}
	return alloc_slow(nta, len, off);
}

int nta_alloc_bulk(struct nta *nta, uint32_t len, uint64_t *offs, unsigned int n)
{
	struct nta_zone *z;
	unsigned int got = 0, popped;
	uint32_t nb;
	bool flushed = false;
	int err;

	if (!nta || (n && !offs) || blocks_of(nta, len, &nb))
		return -EINVAL;
	if (n > INT32_MAX)
		n = INT32_MAX;
	z = zone_for(nta, nb);
	/* bound: n, the caller's count */
	if (nb == nta->cache_blocks)
		while (got < n && nta->mag_n)
			offs[got++] = cache_pop(nta);
	popped = got;
	while (got < n) {
		uint32_t k = zone_take(z, nb, n - got, offs + got, nta->block_shift, &err);

		if (!k) {
			if (err == -ENOMEM && nta->mag_n && !flushed) {
				cache_flush(nta);
				flushed = true;
				continue;
			}
			if (err == -ENOMEM)
				nta->failures++;
			break;
		}
		got += k;
	}
	nta->set_blocks += (uint64_t)(got - popped) * nb;
	nta->list_allocs += got - popped;
	nta->allocs += got;
	return (int)got;
}

/* Find the zone, page and first block of [off, off + nb blocks); -EINVAL when it
 * is unaligned, leaves the area or crosses a page. */
static inline int locate(const struct nta *nta, uint64_t off, uint32_t nb,
			 struct nta_zone **zp, uint32_t *page, uint32_t *block)
{
	const struct nta_zone *z;
	uint64_t rel;

	if (off & (nta->block_size - 1) || off >= nta->size)
		return -EINVAL;
	z = off < nta->zone[0].size ? &nta->zone[0] : &nta->zone[1];
	rel = off - z->base;
	if (nta->flags & NTA_F_TREE_LOOKUP) {
		uint64_t key = z->base + (rel & ~((1ULL << z->page_shift) - 1));
		uint32_t node = nta_tree_lookup(&nta->tree, key);

		if (node == NTA_NIL)
			return -EINVAL;
		z = node < nta->tree.split ? &nta->zone[0] : &nta->zone[1];
		*page = node - z->node0;
	} else {
		*page = (uint32_t)(rel >> z->page_shift);
	}
	*block = (uint32_t)((rel & ((1ULL << z->page_shift) - 1)) >> nta->block_shift);
	if (nb > z->bpp - *block)
		return -EINVAL;
	*zp = (struct nta_zone *)(uintptr_t)z;
	return 0;
}

int nta_range_valid(const struct nta *nta, uint64_t off, uint32_t len)
{
	struct nta_zone *z;
	uint32_t p, b;

	if (!len)
		return -EINVAL;
	return locate(nta, off, (uint32_t)(((uint64_t)len + nta->block_size - 1) >> nta->block_shift),
		      &z, &p, &b);
}

/* nta_free's push onto a non-empty magazine, out of line so that the fast path
 * saves no registers: off, of chunk c, is allocated; it must not be held by the
 * cache, i.e. neither the top nor marked (nta_cache_held). */
static __attribute__((noinline)) int free_to_cache(struct nta *nta, uint64_t off, uint64_t c)
{
	if (nta->mag[nta->mag_n - 1] == off || (*nta_cache_word(nta, c) & nta_cache_bit(c)))
		return -EINVAL;
	cache_push(nta, off);
	return 0;
}

/* May [off, off + len) be freed? Every block allocated, one page, none the
 * cache's; *z, *p, *b, *nb locate it. -EINVAL otherwise. */
static int free_check(const struct nta *nta, uint64_t off, uint32_t len, struct nta_zone **z,
		      uint32_t *p, uint32_t *b, uint32_t *nb)
{
	int err;

	if (!len)
		return -EINVAL;
	*nb = (uint32_t)(((uint64_t)len + nta->block_size - 1) >> nta->block_shift);
	err = locate(nta, off, *nb, z, p, b);
	if (err)
		return err;
	if (!nta_bm_all_set((*z)->bits + (size_t)*p * (*z)->words, *b, *nb))
		return -EINVAL;
	if (nta->cache_bits && *z == &nta->zone[0]) {
		uint64_t c0 = off >> nta->cache_shift;
		uint64_t c1 = (off + ((uint64_t)*nb << nta->block_shift) - 1) >> nta->cache_shift;

		if (nta_cache_held(nta, c0, c1))
			return -EINVAL;
	}
	return 0;
}

/* Everything but the fast path to the cache (see nta_free), out of line. */
static __attribute__((noinline)) int free_slow(struct nta *nta, uint64_t off, uint32_t len)
{
	struct nta_zone *z;
	uint32_t p, b, nb;
	int err;

	err = free_check(nta, off, len, &z, &p, &b, &nb);
	if (err)
		return err;
	if (nta->cache_bits && z == &nta->zone[0] && nb == nta->cache_blocks &&
	    !(off & (nta->cache_len - 1)) && nta->mag_n < nta->mag_cap) {
		/* counted by mag_n (nta_stats_frees) */
		cache_push(nta, off);
		return 0;
	}
	zone_release(z, p, b, nb);
	nta->set_blocks -= nb;
	nta->released++;
	return 0;
}

int nta_free(struct nta *nta, uint64_t off, uint32_t len)
{
	uint64_t c;

	if (!nta)
		return -EINVAL;
	/* fast path to the cache: an aligned cache_len region of zone 0 with room in
	 * the magazine; the same checks as free_slow (allocated in the bitmap, not
	 * already the cache's), with the page found by shifting. Rotating off by
	 * cache_shift moves its bits below cache_len to the top, so one compare
	 * with cache_chunks (< 2^(64 - cache_shift)) tests both alignment and
	 * range and leaves the chunk index. len 0 fails the length test. */
	c = off >> nta->cache_shift | off << (-nta->cache_shift & 63);
	if (c < nta->cache_chunks && len - nta->cache_min < nta->block_size &&
	    nta->mag_n < nta->mag_cap) {
		uint32_t n = nta->mag_n;
		uint64_t g = off >> nta->block_shift;
		/* cache_chunks != 0 implies cache_blocks <= 64: the aligned chunk's bits
		 * are cache_blocks bits of one word, no loop */
		uint64_t hole = (~nta->bits0[g >> 6] >> (g & 63)) << nta->cache_lshift;

		if (hole)
			return -EINVAL;
		/* an empty magazine holds nothing, so the fill ring's free, the first
		 * after its alloc emptied the magazine, looks at no mark; nothing but
		 * the magazine changes: the blocks stay set (set_blocks) and the free
		 * is counted by mag_n (nta_stats_frees) */
		if (n)
			return free_to_cache(nta, off, c);
		nta->mag[0] = off;
		nta->mag_n = 1;
		return 0;
	}
	return free_slow(nta, off, len);
}

int nta_trim(struct nta *nta, uint64_t off, uint32_t len, uint64_t keep_off, uint32_t keep_len)
{
	struct nta_zone *z;
	uint32_t p, b, nb, kb, ke;
	int err;

	/* The kept range relative to off: keep_off + keep_len could wrap past 2^64. */
	if (!nta || !len || !keep_len || keep_off < off || keep_off - off > len ||
	    keep_len > len - (keep_off - off) || (keep_off & (nta->block_size - 1)))
		return -EINVAL;
	nb = (uint32_t)(((uint64_t)len + nta->block_size - 1) >> nta->block_shift);
	err = locate(nta, off, nb, &z, &p, &b);
	if (err)
		return err;
	/* the kept blocks, as nta_free would round them, relative to the page */
	kb = b + (uint32_t)((keep_off - off) >> nta->block_shift);
	ke = kb + (uint32_t)(((uint64_t)keep_len + nta->block_size - 1) >> nta->block_shift);
	if (ke > b + nb || !nta_bm_all_set(z->bits + (size_t)p * z->words, b, nb))
		return -EINVAL;
	if (nta->cache_bits && z == &nta->zone[0]) {
		uint64_t c0 = off >> nta->cache_shift;
		uint64_t c1 = (off + ((uint64_t)nb << nta->block_shift) - 1) >> nta->cache_shift;

		if (nta_cache_held(nta, c0, c1))
			return -EINVAL;
	}
	if (ke < b + nb)
		zone_release(z, p, ke, b + nb - ke);
	if (kb > b)
		zone_release(z, p, b, kb - b);
	nta->set_blocks -= nb - (ke - kb);
	nta->released++;
	return 0;
}

/* Set the blocks of offs[0..n) again (validated, then cleared by nta_free_bulk). */
static void bulk_restore(struct nta *nta, const uint64_t *offs, unsigned int n, uint32_t len)
{
	struct nta_zone *z = NULL;
	uint32_t p = 0, b = 0, nb;

	/* bound: n, the caller's count */
	for (unsigned int i = 0; i < n; i++) {
		nb = (uint32_t)(((uint64_t)len + nta->block_size - 1) >> nta->block_shift);
		(void)locate(nta, offs[i], nb, &z, &p, &b);
		nta_bm_set(z->bits + (size_t)p * z->words, b, nb);
	}
}

/*
 * All or nothing: each range is validated with the blocks of the ranges before
 * it cleared for a moment, so that two ranges sharing a block fail like a
 * double free; then the bits are put back and every free is made (none can
 * fail any more: they are valid and disjoint).
 */
int nta_free_bulk(struct nta *nta, const uint64_t *offs, unsigned int n, uint32_t len)
{
	struct nta_zone *z;
	uint32_t p, b, nb;
	int err = 0;
	unsigned int i;

	if (!nta || (n && !offs))
		return -EINVAL;
	/* bound: n, the caller's count */
	for (i = 0; i < n; i++) {
		err = free_check(nta, offs[i], len, &z, &p, &b, &nb);
		if (err)
			break;
		nta_bm_clear(z->bits + (size_t)p * z->words, b, nb);
	}
	bulk_restore(nta, offs, i, len);
	if (err)
		return err;
	/* bound: n; valid and disjoint, and a free allocates nothing: none fails */
	for (i = 0; i < n; i++) {
		err = nta_free(nta, offs[i], len);
		nta_assert(!err);
	}
	return 0;
}

uint32_t nta_block_size(const struct nta *nta)
{
	return nta ? nta->block_size : 0;
}

uint64_t nta_area_size(const struct nta *nta)
{
	return nta ? nta->size : 0;
}

uint32_t nta_max_alloc(const struct nta *nta)
{
	return nta ? nta->max_alloc : 0;
}
