/* SPDX-License-Identifier: MIT */
/*
 * nta.h - the Network Tree Allocator: variable-size blocks in a caller-owned area.
 *
 * nta manages an area it is given (an AF_XDP UMEM, in ntad) and hands out byte
 * offsets into it. It never maps, touches or frees the area itself: all metadata
 * lives outside it, because the kernel writes into the frames.
 *
 * Design (after the 2006 proposal in shared/seed): every page of the area is a node
 * of an AVL tree keyed by page address; each node has a bitmap of the page's blocks
 * (32 bytes by default); pages with free space sit in doubly-linked lists indexed
 * by the size in blocks of their largest free run, found in O(1) through a bitmap
 * of non-empty lists; a free coalesces with both neighbours. Blocks larger than a
 * page come from a separate jumbo range at the end of the area, made of larger
 * pages, so the start of any block is found from any address inside it by masking.
 * All metadata is allocated by nta_create (under 1 % of the area with the default
 * geometry, docs/NTA.md); no later call allocates memory.
 *
 * Ownership and threading: an nta object is NOT thread-safe; callers serialise
 * access (ntad gives each worker its own cache in front of a shared, locked nta).
 * nta_set_print() is process-wide and not thread-safe either.
 * Offset 0 is a valid allocation; results come through out-parameters and the
 * return value is 0 or a negative errno.
 */
#ifndef NTA_H
#define NTA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nta;

struct nta_opts {
	size_t sz;                /* sizeof(struct nta_opts), for forward compatibility */
	uint32_t block_size;      /* allocation unit, power of two >= 8; 0: 32 */
	uint32_t page_size;       /* normal page, power of two, >= 64 blocks; 0: 4096 */
	uint64_t jumbo_size;      /* bytes at the end of the area for multi-page blocks,
	                           * a multiple of jumbo_page_size; 0: none */
	uint32_t jumbo_page_size; /* largest multi-page block, power of two > page_size;
	                           * 0: 16384 */
	/* Fields below were added later; nta reads them only when sz covers them. */
	uint32_t flags;           /* 0 (other values are for nta's own tests and
	                           * benchmarks: lib/nta/testing.h) */
	uint32_t cache_len;       /* size the LIFO front cache holds (the fill ring's
	                           * chunk), power of two, block_size..page_size;
	                           * 0: 2048 or page_size if smaller */
	uint32_t cache_size;      /* regions the front cache holds at most; 0: 256 */
};

/* Declare and zero an nta_opts with its size set: NTA_OPTS(o, .block_size = 64); */
#define NTA_OPTS(NAME, ...)                                                    \
	struct nta_opts NAME = { .sz = sizeof(struct nta_opts), __VA_ARGS__ }

/*
 * Manage the area [area, area + size). size is rounded down to whole pages.
 * opts may be NULL for the defaults. Returns NULL and sets errno (EINVAL for bad
 * options, an area smaller than one page or one that wraps the address space,
 * ENOMEM) on failure. A cache_size above the area's cache_len chunks is served
 * by a magazine of that many.
 */
struct nta *nta_create(void *area, uint64_t size, const struct nta_opts *opts);

/* Release the metadata (never the area). Accepts NULL. */
void nta_destroy(struct nta *nta);

/*
 * Allocate len bytes, rounded up to whole blocks. Lengths up to the page size come
 * from normal pages, larger ones (up to jumbo_page_size) from the jumbo range.
 * Returns 0 and *off, the offset from the area start (0 is valid), -EINVAL for
 * len 0 or larger than the largest block, -ENOMEM when no free region fits.
 */
int nta_alloc(struct nta *nta, uint32_t len, uint64_t *off);

/*
 * Allocate up to n blocks of len bytes each (the fill-ring refill). Returns the
 * number allocated, 0..n, stored in offs[0..ret-1]; -EINVAL as nta_alloc.
 * It amortises: one free region large enough for several blocks is split once.
 */
int nta_alloc_bulk(struct nta *nta, uint32_t len, uint64_t *offs, unsigned int n);

/*
 * Free [off, off + len) with len rounded up to whole blocks exactly as nta_alloc
 * rounds it. The range may be a whole allocation or any part of one or of
 * several adjacent ones (freeing the head or the tail of a block is how ntad
 * trims a received frame). Returns 0, or -EINVAL without changing anything when
 * off is not block-aligned, the range leaves the area or crosses a page, or any
 * block of it is not allocated (double free, wrong range), or len is 0.
 * A free of exactly cache_len bytes at a cache_len-aligned offset may be kept in
 * the front cache: it stays allocated in the bitmaps (owned by the cache, counted
 * in nta_stats.bytes_cached) and is handed out again by the next nta_alloc of
 * that size. A free never allocates memory and never fails on a valid range:
 * all metadata is allocated by nta_create.
 */
int nta_free(struct nta *nta, uint64_t off, uint32_t len);

/*
 * Trim: free every block of [off, off + len) outside the kept range [keep_off,
 * keep_off + keep_len), both rounded to blocks as nta_free rounds them, with one
 * page lookup and one validation (what ntad does to a received frame: drop the
 * headroom and the unused tail). Same as nta_free(head) + nta_free(tail), but
 * all or nothing: -EINVAL without any change when keep_len is 0, the kept range
 * is not block-aligned or not inside [off, off + len), or [off, off + len) is
 * not a valid nta_free range (every block allocated, one page, not the cache's).
 * Nothing goes to the front cache.
 * Counted as one free in nta_stats. Added later; existing calls are unchanged.
 */
int nta_trim(struct nta *nta, uint64_t off, uint32_t len, uint64_t keep_off, uint32_t keep_len);

/* Free n ranges of len bytes each: 0, or -EINVAL without any change when any
 * of them is not a valid nta_free range or two of them share a block. Like
 * nta_free it allocates nothing, so once the ranges are valid every one is freed. */
int nta_free_bulk(struct nta *nta, const uint64_t *offs, unsigned int n, uint32_t len);

/*
 * Walk the tree, every bitmap and every free list, and verify that they agree.
 * Returns 0, or -EUCLEAN after reporting the first inconsistency through the
 * print callback.
 */
int nta_check(const struct nta *nta);

#define NTA_MAX_CLASSES 512 /* size classes tracked in nta_stats.class_regions */

struct nta_stats {
	size_t sz;               /* sizeof(struct nta_stats), set by the caller */
	uint64_t area_size;      /* managed bytes (normal + jumbo) */
	uint64_t bytes_in_use;   /* allocated, in whole blocks */
	uint64_t bytes_free;
	uint64_t largest_free;   /* largest block nta_alloc can return now */
	uint64_t free_regions;   /* number of free regions */
	uint64_t metadata_bytes; /* memory nta holds outside the area: all of it
	                          * allocated by nta_create, so also the peak */
	uint64_t allocs, frees;  /* successful calls since creation */
	uint64_t alloc_failures; /* -ENOMEM returns */
	/* class_regions[i]: free regions of i + 1 blocks (normal and jumbo pages) */
	uint32_t class_regions[NTA_MAX_CLASSES];
	/* Fields below were added later; filled only when sz covers them. */
	uint64_t bytes_cached;   /* regions held by the front cache (not in use, not free) */
	uint64_t metadata_fixed; /* part of metadata_bytes allocated by nta_create:
	                          * all of it, so always equal to metadata_bytes */
};

/* Fill *st (st->sz must be set, at least to the size before bytes_cached).
 * Returns 0 or -EINVAL. */
int nta_get_stats(const struct nta *nta, struct nta_stats *st);

uint32_t nta_block_size(const struct nta *nta);
uint64_t nta_area_size(const struct nta *nta);
uint32_t nta_max_alloc(const struct nta *nta); /* largest len nta_alloc accepts */

/*
 * Diagnostics (nta_check's reports) go through this callback; the default prints
 * to stderr with an "nta: " prefix. NULL silences them. Returns the old callback.
 */
typedef void (*nta_print_fn)(const char *msg);
nta_print_fn nta_set_print(nta_print_fn fn);

#ifdef __cplusplus
}
#endif

#endif /* NTA_H */
