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
 * Per page (the fixed part, allocated by nta_create):
 *   - an AVL tree node: left/right as u32 node indices, balance as i8 (tree.c);
 *   - the block bitmap, bit set = block allocated (bitmap.h);
 *   - the list entry of a free region starting at block 0 or 1 ("slot 0");
 *   - tbl: index + 1 of the page's region table, nreg: regions living in it.
 * Free regions starting at block 2k or 2k + 1 (k > 0) keep their list entry in
 * slot k of a region table, borrowed from a pool while the page has such regions.
 * Two free regions of a page never start in the same pair of blocks: regions are
 * maximal, so at least one allocated block separates them. Hence the direct link
 * block -> entry is "slot start / 2" and every unlink is O(1).
 *
 * Entry ids of a zone (u32, index into ents[]):
 *   [0, bpp)                  sentinel of size class c (1..bpp) at c - 1
 *   [bpp, bpp + npages)       slot 0 of page p at bpp + p
 *   [tables0, ...)            table t, slot k at tables0 + t * spt + k
 */
#ifndef NTA_INTERNAL_H
#define NTA_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nta.h"

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
	uint32_t *tbl;          /* per page: region table + 1, 0: none */
	uint16_t *nreg;         /* per page: free regions recorded in its table */
	/* size classes (classes.c): class c holds free regions of c blocks */
	uint32_t cwords;        /* words of nonempty */
	uint64_t summary;       /* bit w: nonempty[w] != 0 */
	uint64_t *nonempty;     /* bit c - 1: class c is not empty */
	uint32_t *count;        /* count[c - 1]: regions in class c */
	uint64_t regions;
	/* list entries and region tables */
	struct nta_ent *ents;
	uint32_t tables0, spt, spt_shift;
	uint32_t *owner;        /* owner[t]: page using table t, NTA_NIL if free */
	uint32_t ntables, cap_tables, free_table, tables_used;
};

struct nta {
	uint64_t size;          /* managed bytes, both zones */
	uint32_t block_size, block_shift, flags, max_alloc;
	unsigned int nzones;
	struct nta_zone zone[2];
	struct nta_tree tree;
	/* LIFO front cache of cache_len regions (nta.c) */
	uint32_t cache_len, cache_blocks, cache_shift;
	uint64_t cache_limit;   /* frees below it may take the fast path to the
	                         * cache: zone 0's size, 0 without a cache or with
	                         * NTA_F_TREE_LOOKUP (which must look every page up)
	                         * or when a chunk spans more than one bitmap word */
	uint64_t cache_word;    /* the low cache_blocks bits (all for >= 64) */
	uint64_t *cache_bits;   /* bit per cache_len chunk of zone 0: held by the cache */
	uint64_t *mag;          /* offsets, LIFO */
	uint32_t mag_n, mag_cap;
	/* accounting. The order matters: no two counters one call updates are
	 * adjacent, or gcc merges the two updates into one 16-byte load and store,
	 * and the next call's 8-byte store to half of it cannot be forwarded to that
	 * load (a ~15-cycle stall per call, measured: 2048-byte free+alloc went
	 * from ~17 to ~5 ns with this order). */
	uint64_t allocs;
	uint64_t failures;
	uint64_t used_blocks;   /* allocated to callers (not the cache) */
	uint64_t meta_fixed;
	uint64_t frees;
};

#include "bitmap.h"
#include "classes.h"

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
int nta_table_get(struct nta_zone *z, uint32_t page);
void nta_table_put(struct nta_zone *z, uint32_t page);
uint64_t nta_zone_meta_bytes(const struct nta_zone *z);

/* bitmap.c */
uint32_t nta_bm_count(const uint64_t *bm, uint32_t words);
uint32_t nta_bm_runs(const uint64_t *bm, uint32_t nbits);

/* log.c */
void nta_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* stats.c */
uint64_t nta_meta_bytes(const struct nta *nta);

#endif /* NTA_INTERNAL_H */
