/* SPDX-License-Identifier: MIT */
/*
 * internal.h - the layout of an nta object, shared by the files of lib/nta and
 * by its unit tests (they build with -Ilib/nta).
 *
 * The area is split into zones: zone 0 holds the normal pages from offset 0, zone
 * 1 (optional) the jumbo pages at the end. Both use the same machinery, only the
 * page size differs, so "mask the offset with the zone's page mask" finds the page
 * of any address and its block bitmap tells where every region starts and ends.
 *
 * Per page, all allocated by nta_create and never resized:
 *   - an AVL tree node: left/right as u32 node indices, balance as i8 (tree.c);
 *   - the block bitmap, bit set = block allocated (bitmap.h);
 *   - lmax, its largest free run in blocks, and the list entry through which
 *     the page sits in the class list of that size (classes.h).
 *
 * Entry ids of a zone (u32, index into ents[]):
 *   [0, bpp)                  sentinel of size class c (1..bpp) at c - 1
 *   [bpp, bpp + npages)       page p at bpp + p
 */
#ifndef NTA_INTERNAL_H
#define NTA_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nta.h"
#include "testing.h"

#if defined(NTA_DEBUG) && NTA_DEBUG
#include <assert.h>
#define nta_assert(x) assert(x)
#else
#define nta_assert(x) ((void)0)
#endif

#define NTA_NIL UINT32_MAX
/* An AVL tree of n < 2^32 nodes is at most 1.44 log2(n + 2) < 47 high. */
#define NTA_TREE_MAX_HEIGHT 48
/* Size classes per zone: two-level non-empty bitmap of 64 x 64 bits. */
#define NTA_MAX_BPP 4096

struct nta_ent {
	uint32_t prev, next;
};

/* The AVL tree of all pages (tree.c). Node i is page i of zone 0 for i < split,
 * else page i - split of zone 1; its key, the page offset, follows from that. */
struct nta_tree {
	uint32_t *left, *right;
	int8_t *bal; /* height(right) - height(left) */
	uint32_t root, n, cap;
	uint32_t split;
	uint32_t shift0, shift1;
	uint64_t base1;
};

struct nta_zone {
	uint64_t base;          /* offset of the zone's page 0 */
	uint64_t size;
	uint32_t npages, node0; /* node0: tree node of page 0 */
	uint32_t page_shift, bpp, words; /* blocks per page, bitmap words per page */
	uint64_t *bits;         /* npages * words */
	uint16_t *lmax;         /* per page: largest free run, blocks; 0: none */
	/* size classes (classes.c): class c lists the pages whose lmax is c */
	uint32_t cwords;        /* words of nonempty */
	uint64_t summary;       /* bit w: nonempty[w] != 0 */
	uint64_t *nonempty;     /* bit c - 1: class c is not empty */
	struct nta_ent *ents;   /* sentinels, then one entry per page */
	/* statistics: free regions of c blocks at count[c - 1], and in all */
	uint64_t *count;
	uint64_t regions;
};

struct nta {
	/* The front cache's fast paths (nta_alloc, nta_free) read this first cache
	 * line, the magazine and, for frees, one word of zone 0's bitmap; they
	 * write mag_n, the magazine and, for allocs, the allocs counter (see "Front
	 * cache" in docs/NTA.md). */
	uint64_t *mag;          /* offsets, LIFO */
	uint64_t *cache_bits;   /* bit per cache_len chunk of zone 0: held by the
	                         * cache below the top of the magazine (the top,
	                         * mag[mag_n - 1], is the one held region not
	                         * marked: see nta_cache_held) */
	uint64_t *bits0;        /* zone[0].bits: zone 0 starts at offset 0 and its
	                         * pages' bitmaps are contiguous, so block g of the
	                         * zone is bit g & 63 of word g >> 6 */
	uint64_t cache_chunks;  /* frees of chunks below it may take the fast path
	                         * to the cache: zone 0's chunks, 0 without a cache
	                         * or with NTA_F_TREE_LOOKUP (which must look every
	                         * page up) or when a chunk spans more than one
	                         * bitmap word */
	uint64_t allocs;        /* successful allocations, all paths */
	uint32_t mag_n, mag_cap;
	uint32_t cache_min;     /* cache_len - block_size + 1: the lengths that
	                         * round to cache_blocks are [cache_min, cache_min
	                         * + block_size) */
	uint32_t block_size;
	uint8_t cache_shift, block_shift;
	uint8_t cache_lshift;   /* 64 - cache_blocks: shifting a word left by it
	                         * keeps a chunk's bits (cache_chunks != 0) */

	uint64_t size;          /* managed bytes, both zones */
	uint32_t flags, max_alloc;
	uint32_t cache_len, cache_blocks;
	uint32_t cache_words;   /* of cache_bits */
	unsigned int nzones;
	struct nta_zone zone[2];
	struct nta_tree tree;
	/* Accounting beyond allocs. The fast paths keep none of it: blocks the cache
	 * holds stay set in the bitmaps, so set_blocks does not change when a region
	 * enters or leaves the cache, and every free that parks a region (a push) is
	 * still in the magazine, was popped by an alloc that did not come from the
	 * lists, or was flushed, so
	 *   frees = released + flushed + mag_n + allocs - list_allocs
	 * (nta_stats_frees) and bytes in use = set_blocks - mag_n * cache_blocks.
	 * No two counters one call updates are adjacent, or gcc merges the two
	 * updates into one 16-byte load and store, and the next call's 8-byte store
	 * to half of it cannot be forwarded to that load (a ~15-cycle stall). */
	uint64_t set_blocks;    /* set in the bitmaps: in use or cached */
	uint64_t failures;
	uint64_t list_allocs;   /* allocations that came from the class lists */
	uint64_t meta_fixed;
	uint64_t released;      /* frees and trims that did not park a region */
	uint64_t flushed;       /* regions given back to the lists by cache_flush */
};

_Static_assert(offsetof(struct nta, size) == 64, "the fast paths' fields fill one line");

#include "bitmap.h"
#include "classes.h"

/* The cache bit of chunk c (offset c * cache_len of zone 0). */
static inline uint64_t *nta_cache_word(const struct nta *nta, uint64_t c)
{
	return &nta->cache_bits[c >> 6];
}

static inline uint64_t nta_cache_bit(uint64_t c)
{
	return 1ULL << (c & 63);
}

/*
 * Does the cache hold any of the chunks [c0, c1] (at most page_size / cache_len
 * chunks)? The regions below the top of the magazine are marked in cache_bits,
 * the top is compared: keeping the top unmarked is what lets the fill ring's
 * free-then-alloc of one frame (the magazine going 0 -> 1 -> 0) push and pop
 * without touching cache_bits at all.
 */
static inline bool nta_cache_held(const struct nta *nta, uint64_t c0, uint64_t c1)
{
	if (nta->mag_n) {
		uint64_t top = nta->mag[nta->mag_n - 1] >> nta->cache_shift;

		if (top >= c0 && top <= c1)
			return true;
	}
	/* at most page_size / cache_len bits, within one page's chunks */
	return nta_bm_any_set(nta->cache_bits, (uint32_t)c0, (uint32_t)(c1 - c0 + 1));
}

static inline uint64_t nta_stats_frees(const struct nta *nta)
{
	return nta->released + nta->flushed + nta->mag_n + nta->allocs - nta->list_allocs;
}

/* nta.c: 0 when [off, off + len) has the shape of a free (len > 0, block-aligned,
 * inside the area and one page), whatever its blocks hold; else -EINVAL. */
int nta_range_valid(const struct nta *nta, uint64_t off, uint32_t len);

/* tree.c */
int nta_tree_init(struct nta_tree *t, uint32_t cap, uint32_t split, uint32_t shift0,
		  uint64_t base1, uint32_t shift1);
void nta_tree_fini(struct nta_tree *t);
int nta_tree_insert(struct nta_tree *t, uint32_t node);
uint32_t nta_tree_lookup(const struct nta_tree *t, uint64_t key);
int nta_tree_verify(const struct nta_tree *t, char *why, size_t len);

static inline uint64_t nta_tree_key(const struct nta_tree *t, uint32_t i)
{
	return i < t->split ? (uint64_t)i << t->shift0 :
			      t->base1 + ((uint64_t)(i - t->split) << t->shift1);
}

/* classes.c */
int nta_zone_classes_init(struct nta_zone *z);
void nta_zone_classes_fini(struct nta_zone *z);
uint64_t nta_zone_meta_bytes(const struct nta_zone *z);

/* bitmap.c */
uint32_t nta_bm_count(const uint64_t *bm, uint32_t words);
uint32_t nta_bm_runs(const uint64_t *bm, uint32_t nbits);

/* log.c */
void nta_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* stats.c */
uint64_t nta_meta_bytes(const struct nta *nta);

#endif /* NTA_INTERNAL_H */
