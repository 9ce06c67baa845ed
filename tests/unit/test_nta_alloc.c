// SPDX-License-Identifier: MIT
/*
 * test_nta_alloc.c - edge cases of the public API (nta.c, stats.c, log.c).
 *
 * Creation limits, zero and over-size lengths, offset 0, exact fit, a full
 * area, fragmentation to exhaustion, trimming head/tail/both, every kind of
 * invalid free (which must change nothing), the jumbo range, bulk calls, the
 * front cache (LIFO, flush on pressure, double free of a cached region), tree
 * lookup mode, statistics, the metadata budget (also under the worst
 * fragmentation, with glibc's heap measured around it), and that nta_check
 * does catch a corrupted structure and reports through the print callback.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "check.h"

#define MIB (1024 * 1024)
static uint8_t area[4 * MIB] __attribute__((aligned(4096)));

static struct nta_stats stats(const struct nta *nta)
{
	struct nta_stats st = { .sz = sizeof(st) };

	CHECK(nta_get_stats(nta, &st) == 0);
	return st;
}

static void test_create(void)
{
	NTA_OPTS(o);
	struct nta *nta;

	errno = 0;
	CHECK(!nta_create(NULL, 65536, NULL) && errno == EINVAL);
	CHECK(!nta_create(area, 4095, NULL) && errno == EINVAL);
	o.block_size = 24;
	CHECK(!nta_create(area, 65536, &o) && errno == EINVAL);
	o.block_size = 4;
	CHECK(!nta_create(area, 65536, &o) && errno == EINVAL);
	o.block_size = 128; /* 4096 / 128 = 32 blocks < 64 */
	CHECK(!nta_create(area, 65536, &o) && errno == EINVAL);
	o.block_size = 0;
	o.jumbo_size = 16384 + 4096; /* not a multiple of the jumbo page */
	CHECK(!nta_create(area, 65536, &o) && errno == EINVAL);
	o.jumbo_size = 65536; /* nothing left for normal pages */
	CHECK(!nta_create(area, 65536, &o) && errno == EINVAL);
	o.jumbo_size = 16384;
	o.jumbo_page_size = 4096; /* not larger than a page */
	CHECK(!nta_create(area, 65536, &o) && errno == EINVAL);
	o.jumbo_page_size = 0;
	o.cache_len = 3000;
	CHECK(!nta_create(area, 65536, &o) && errno == EINVAL);
	o.cache_len = 0;
	o.flags = 1u << 7;
	CHECK(!nta_create(area, 65536, &o) && errno == EINVAL);
	o.flags = 0;
	o.sz = 8; /* older than the fields it would need */
	CHECK(!nta_create(area, 65536, &o) && errno == EINVAL);
	nta_destroy(NULL);

	/* size rounds down to whole pages */
	nta = nta_create(area, 65536 + 100, NULL);
	CHECK(nta && nta_area_size(nta) == 65536 && nta_block_size(nta) == 32 &&
	      nta_max_alloc(nta) == 4096);
	nta_destroy(nta);
}

static void test_lengths(void)
{
	struct nta *nta = nta_create(area, 65536, NULL);
	uint64_t off = 1;

	CHECK(nta_alloc(nta, 0, &off) == -EINVAL);
	CHECK(nta_alloc(nta, 4097, &off) == -EINVAL);
	CHECK(nta_alloc(nta, UINT32_MAX, &off) == -EINVAL);
	CHECK(nta_alloc_bulk(nta, 0, &off, 1) == -EINVAL);
	CHECK(nta_alloc(nta, 1, &off) == 0 && off == 4064); /* the end of page 0 */
	CHECK(stats(nta).bytes_in_use == 32);             /* rounded up to a block */
	CHECK(nta_free(nta, off, 0) == -EINVAL);
	CHECK(nta_free(nta, off, 1) == 0);
	/* exact fit: whole pages, the first at offset 0 (a valid offset) */
	for (int i = 0; i < 16; i++)
		CHECK(nta_alloc(nta, 4096, &off) == 0 && off == (uint64_t)i * 4096);
	CHECK(nta_alloc(nta, 1, &off) == -ENOMEM);
	CHECK(stats(nta).alloc_failures == 1 && stats(nta).bytes_free == 0);
	CHECK(nta_check(nta) == 0);
	for (int i = 0; i < 16; i++)
		CHECK(nta_free(nta, (uint64_t)i * 4096, 4096) == 0);
	CHECK(stats(nta).bytes_free == 65536 && stats(nta).free_regions == 16);
	CHECK(stats(nta).class_regions[127] == 16 && stats(nta).largest_free == 4096);
	CHECK(nta_check(nta) == 0);
	nta_destroy(nta);
}

/* Fill the area with 32-byte blocks, free every other one: half free, nothing
 * larger than a block fits; free the rest and everything coalesces again. */
static void test_fragmentation(void)
{
	struct nta *nta = nta_create(area, 65536, NULL);
	uint64_t off;
	int n = 0;

	while (nta_alloc(nta, 32, &off) == 0)
		n++;
	CHECK(n == 65536 / 32);
	CHECK(nta_check(nta) == 0);
	for (uint64_t o = 0; o < 65536; o += 64)
		CHECK(nta_free(nta, o, 32) == 0);
	CHECK(nta_check(nta) == 0);
	CHECK(stats(nta).bytes_free == 32768 && stats(nta).largest_free == 32);
	CHECK(stats(nta).free_regions == 1024 && stats(nta).class_regions[0] == 1024);
	CHECK(nta_alloc(nta, 33, &off) == -ENOMEM);
	CHECK(nta_alloc(nta, 32, &off) == 0);
	CHECK(nta_free(nta, off, 32) == 0);
	for (uint64_t o = 32; o < 65536; o += 64)
		CHECK(nta_free(nta, o, 32) == 0);
	CHECK(nta_check(nta) == 0);
	CHECK(stats(nta).free_regions == 16 && stats(nta).largest_free == 4096);
	nta_destroy(nta);
}

/* The engine's trim: free head and tail of a 2048 fill region, then the rest. */
static void test_trim(void)
{
	NTA_OPTS(o, .flags = NTA_F_NO_CACHE);
	struct nta *nta = nta_create(area, 65536, &o);
	uint64_t a, b;

	CHECK(nta_alloc(nta, 2048, &b) == 0 && b == 2048); /* from the end of page 0 */
	CHECK(nta_alloc(nta, 2048, &a) == 0 && a == 0);
	CHECK(nta_free(nta, a, 256) == 0);               /* head */
	CHECK(nta_free(nta, a + 256 + 64, 2048 - 320) == 0); /* tail, merges nothing yet */
	CHECK(nta_check(nta) == 0);
	CHECK(stats(nta).bytes_in_use == 64 + 2048);
	CHECK(nta_free(nta, a, 32) == -EINVAL);          /* head again */
	CHECK(nta_free(nta, b, 100) == 0);   /* head of b (128 bytes), merges with a's tail */
	CHECK(nta_free(nta, b + 96, 32) == -EINVAL);     /* inside the rounded head */
	CHECK(nta_free(nta, b + 2048 - 32, 32) == 0);    /* tail of b */
	CHECK(nta_free(nta, b + 128, 64) == 0);          /* a hole in the middle of b */
	CHECK(nta_check(nta) == 0);
	/* a range over the kept 64 bytes and free space beyond */
	CHECK(nta_free(nta, a + 256, 2048) == -EINVAL);
	CHECK(nta_free(nta, a + 256, 64) == 0);
	CHECK(nta_free(nta, b + 192, 2048 - 192 - 32) == 0);
	CHECK(nta_check(nta) == 0);
	CHECK(stats(nta).bytes_in_use == 0 && stats(nta).largest_free == 4096);
	/* trim both sides of a jumbo-free page allocation, then free the middle */
	CHECK(nta_alloc(nta, 4096, &a) == 0);
	CHECK(nta_free(nta, a, 1024) == 0 && nta_free(nta, a + 3072, 1024) == 0);
	CHECK(nta_free(nta, a + 1024, 2048) == 0);
	CHECK(nta_check(nta) == 0 && stats(nta).free_regions == 16);
	nta_destroy(nta);
}

/* Every invalid free returns -EINVAL and changes nothing. */
static void test_invalid_free(void)
{
	NTA_OPTS(o, .jumbo_size = 32768);
	struct nta *nta = nta_create(area, 65536, &o);
	struct nta_stats before, after;
	uint64_t a, b, j;

	CHECK(nta_alloc(nta, 1000, &a) == 0);
	CHECK(nta_alloc(nta, 4096, &b) == 0);
	CHECK(nta_alloc(nta, 9000, &j) == 0 && j >= 32768);
	before = stats(nta);
	CHECK(nta_free(nta, a + 1, 32) == -EINVAL);       /* unaligned */
	CHECK(nta_free(nta, a, 1025) == -EINVAL);         /* beyond the allocation */
	CHECK(nta_free(nta, a - 32, 32) == -EINVAL);      /* never allocated */
	CHECK(nta_free(nta, b + 4064, 64) == -EINVAL);    /* crosses a page */
	CHECK(nta_free(nta, 65536, 32) == -EINVAL);       /* outside the area */
	CHECK(nta_free(nta, UINT64_MAX - 31, 32) == -EINVAL);
	CHECK(nta_free(nta, j + 9024, 32) == -EINVAL);    /* jumbo, not allocated */
	CHECK(nta_free(nta, j, 16384) == -EINVAL);        /* jumbo, too long */
	CHECK(nta_free(nta, j + 16384 - 32, 64) == -EINVAL); /* crosses a jumbo page */
	after = stats(nta);
	CHECK(memcmp(&before, &after, sizeof(before)) == 0);
	CHECK(nta_check(nta) == 0);
	CHECK(nta_free(nta, a, 1000) == 0);
	CHECK(nta_free(nta, a, 1000) == -EINVAL);         /* double free */
	CHECK(nta_free(nta, j + 4096, 4096) == 0);        /* middle of a jumbo block */
	CHECK(nta_free(nta, j + 4096, 32) == -EINVAL);
	CHECK(nta_free(nta, j, 9000) == -EINVAL);         /* its middle is gone */
	CHECK(nta_free(nta, j, 4096) == 0 && nta_free(nta, j + 8192, 9000 - 8192) == 0);
	CHECK(nta_free(nta, b, 4096) == 0);
	CHECK(nta_check(nta) == 0 && stats(nta).bytes_in_use == 0);
	nta_destroy(nta);
}

static void test_jumbo(void)
{
	NTA_OPTS(o, .jumbo_size = 4 * 16384);
	struct nta *nta = nta_create(area, 65536 + 4 * 16384, &o);
	uint64_t offs[5];

	CHECK(nta_max_alloc(nta) == 16384);
	CHECK(nta_alloc(nta, 16385, &offs[0]) == -EINVAL);
	for (int i = 0; i < 4; i++)
		CHECK(nta_alloc(nta, 16384, &offs[i]) == 0 && offs[i] == 65536 + (uint64_t)i * 16384);
	CHECK(nta_alloc(nta, 4097, &offs[4]) == -ENOMEM);
	CHECK(nta_alloc(nta, 4096, &offs[4]) == 0 && offs[4] < 65536); /* normal zone */
	CHECK(nta_free(nta, offs[1] + 4096, 8192) == 0);
	CHECK(nta_alloc(nta, 8192, &offs[4]) == 0 && offs[4] == offs[1] + 4096);
	CHECK(nta_check(nta) == 0);
	nta_destroy(nta);
}

static void test_bulk_and_cache(void)
{
	NTA_OPTS(o, .cache_size = 64);
	struct nta *nta = nta_create(area, 65536, &o);
	uint64_t offs[40], off;

	CHECK(nta_alloc_bulk(nta, 2048, offs, 40) == 32); /* the whole area */
	CHECK(nta_check(nta) == 0 && stats(nta).bytes_free == 0);
	for (int i = 0; i < 32; i++)
		for (int k = 0; k < i; k++)
			CHECK(offs[i] != offs[k] && offs[i] % 2048 == 0);
	CHECK(nta_free_bulk(nta, offs, 32, 2048) == 0);
	CHECK(stats(nta).bytes_cached == 65536 && stats(nta).bytes_free == 0);
	CHECK(stats(nta).largest_free == 2048);
	CHECK(nta_check(nta) == 0);
	CHECK(nta_free(nta, offs[5], 2048) == -EINVAL);   /* double free into the cache */
	CHECK(nta_free(nta, offs[5] + 64, 32) == -EINVAL); /* part of a cached region */
	CHECK(nta_free_bulk(nta, offs, 2, 2048) == -EINVAL);
	CHECK(nta_alloc(nta, 2048, &off) == 0 && off == offs[31]); /* LIFO */
	CHECK(nta_free(nta, off, 2048) == 0);
	/* a larger request flushes the cache back to the lists */
	CHECK(nta_alloc(nta, 4096, &off) == 0);
	CHECK(stats(nta).bytes_cached == 0 && stats(nta).bytes_in_use == 4096);
	CHECK(nta_check(nta) == 0);
	CHECK(nta_free(nta, off, 4096) == 0);
	CHECK(nta_alloc_bulk(nta, 100, offs, 40) == 40);
	CHECK(nta_check(nta) == 0 && stats(nta).bytes_in_use == 40 * 128);
	CHECK(nta_free_bulk(nta, offs, 40, 100) == 0);
	CHECK(nta_check(nta) == 0 && stats(nta).bytes_in_use == 0);
	nta_destroy(nta);
}

/* The inline fast paths of nta_free/nta_alloc for cache_len regions do the same
 * checks as the general path: a free of a half-free chunk, a double free, a
 * length that rounds to the chunk, an unaligned chunk, a full magazine. */
static void test_cache_fast_path(void)
{
	NTA_OPTS(o, .cache_size = 2);
	struct nta *nta = nta_create(area, 64 * 1024, &o);
	uint64_t a, b, c, d;

	CHECK(nta && nta_alloc(nta, 2048, &a) == 0 && nta_alloc(nta, 2048, &b) == 0);
	CHECK(nta && nta_alloc(nta, 2048, &c) == 0 && nta_alloc(nta, 2048, &d) == 0);
	CHECK(a % 2048 == 0 && b % 2048 == 0 && c % 2048 == 0 && d % 2048 == 0);
	CHECK(nta_free(nta, a + 1024, 1024) == 0);
	CHECK(nta_free(nta, a, 2048) == -EINVAL);   /* half of it is free already */
	CHECK(nta_free(nta, a, 1024) == 0);
	CHECK(nta_free(nta, b, 2048 - 31) == 0);    /* rounds to the chunk: cached */
	CHECK(stats(nta).bytes_cached == 2048);
	CHECK(nta_free(nta, b, 2048) == -EINVAL);   /* double free */
	CHECK(nta_alloc(nta, 2048 - 31, &a) == 0 && a == b); /* popped */
	CHECK(nta_free(nta, c, 2048) == 0 && nta_free(nta, d, 2048) == 0);
	CHECK(nta_free(nta, a, 2048) == 0);         /* magazine full: to the lists */
	CHECK(stats(nta).bytes_cached == 4096 && stats(nta).bytes_in_use == 0);
	CHECK(nta_check(nta) == 0);
	nta_destroy(nta);

	/* cache_len 4096 = 128 blocks spans two bitmap words: the general path */
	NTA_OPTS(o2, .cache_len = 4096);
	nta = nta_create(area, 64 * 1024, &o2);
	CHECK(nta && nta_alloc(nta, 4096, &a) == 0 && nta_free(nta, a + 2048, 32) == 0);
	CHECK(nta_free(nta, a, 4096) == -EINVAL);
	CHECK(nta_free(nta, a + 2048, 32) == -EINVAL);
	CHECK(nta_alloc(nta, 32, &b) == 0 && b == a + 2048);
	CHECK(nta_free(nta, a, 4096) == 0 && stats(nta).bytes_cached == 4096);
	CHECK(nta_free(nta, a, 4096) == -EINVAL && nta_check(nta) == 0);
	nta_destroy(nta);
}

/* The top of the magazine is the one cached region without a mark in
 * cache_bits (it is recognised by comparison): every kind of free of a cached
 * region is rejected whether it is the top or below it, pushes and pops move
 * the mark, and the counters stay exact though the fast paths keep none. */
static void test_cache_top(void)
{
	NTA_OPTS(o, .cache_size = 4);
	struct nta *nta = nta_create(area, 64 * 1024, &o);
	uint64_t a, b, c, off, pages[16];
	struct nta_stats st;

	CHECK(nta && nta_alloc(nta, 2048, &a) == 0 && nta_alloc(nta, 2048, &b) == 0);
	CHECK(nta_alloc(nta, 2048, &c) == 0);
	CHECK(nta_free(nta, a, 2048) == 0);           /* into an empty magazine */
	CHECK(nta_free(nta, a, 2048) == -EINVAL);     /* the top, fast path */
	CHECK(nta_free(nta, a + 64, 32) == -EINVAL);  /* part of the top */
	CHECK(nta_trim(nta, a, 2048, a + 256, 64) == -EINVAL);
	CHECK(nta_check(nta) == 0);
	CHECK(nta_free(nta, b, 2048) == 0);           /* a gets its mark */
	CHECK(nta_free(nta, a, 2048) == -EINVAL);     /* marked, fast path */
	CHECK(nta_free(nta, b, 2048) == -EINVAL);     /* the top */
	CHECK(nta_free(nta, a + 32, 32) == -EINVAL);  /* marked, general path */
	CHECK(nta_free(nta, b + 2016, 32) == -EINVAL);
	CHECK(nta_check(nta) == 0);
	st = stats(nta);
	CHECK(st.allocs == 3 && st.frees == 2 && st.bytes_in_use == 2048 &&
	      st.bytes_cached == 4096);
	/* a mark on the top, or none below it, is an inconsistency */
	nta->cache_bits[b / 2048 / 64] |= 1ULL << (b / 2048 % 64);
	CHECK(nta_check(nta) == -EUCLEAN);
	nta->cache_bits[b / 2048 / 64] &= ~(1ULL << (b / 2048 % 64));
	nta->cache_bits[a / 2048 / 64] &= ~(1ULL << (a / 2048 % 64));
	CHECK(nta_check(nta) == -EUCLEAN);
	nta->cache_bits[a / 2048 / 64] |= 1ULL << (a / 2048 % 64);
	CHECK(nta_check(nta) == 0);
	CHECK(nta_alloc(nta, 2048, &off) == 0 && off == b); /* a is the top again */
	CHECK(nta_free(nta, a, 2048) == -EINVAL && nta_check(nta) == 0);
	CHECK(nta_alloc(nta, 2048, &off) == 0 && off == a); /* the magazine's last */
	CHECK(nta_free(nta, a, 2048) == 0 && nta_alloc(nta, 2048, &off) == 0 && off == a);
	CHECK(nta_free(nta, a, 2048) == 0 && nta_free(nta, b, 2048) == 0);
	CHECK(nta_free(nta, c, 2048) == 0 && nta_check(nta) == 0);
	st = stats(nta);
	CHECK(st.allocs == 6 && st.frees == 6 && st.bytes_in_use == 0 &&
	      st.bytes_cached == 6144);
	/* a flush gives the cached regions back (the lists hold 14 pages, the
	 * cache the other two): still counted as frees */
	CHECK(nta_alloc_bulk(nta, 4096, pages, 16) == 16 && nta_check(nta) == 0);
	st = stats(nta);
	CHECK(st.allocs == 22 && st.frees == 6 && st.bytes_in_use == 65536 &&
	      st.bytes_cached == 0);
	CHECK(nta_free(nta, pages[0], 4096) == 0 && stats(nta).frees == 7);
	nta_destroy(nta);
}

/* nta_trim: the same result as two nta_free calls, all or nothing on errors. */
static void test_trim_call(void)
{
	struct nta *nta = nta_create(area, 64 * 1024, NULL);
	NTA_OPTS(o, .flags = NTA_F_TREE_LOOKUP | NTA_F_NO_CACHE);
	struct nta *ref = nta_create(area, 64 * 1024, &o);
	uint64_t a, b, c;

	CHECK(nta && ref && nta_alloc(nta, 2048, &a) == 0 && nta_alloc(ref, 2048, &b) == 0);
	CHECK(a == b && nta_alloc(nta, 2048, &c) == 0 && nta_alloc(ref, 2048, &c) == 0);
	/* bad calls change nothing */
	CHECK(nta_trim(nta, a, 2048, a + 256, 0) == -EINVAL);        /* nothing kept */
	CHECK(nta_trim(nta, a, 2048, a + 250, 64) == -EINVAL);       /* unaligned keep */
	CHECK(nta_trim(nta, a, 2048, a + 2016, 64) == -EINVAL);      /* keep outside */
	CHECK(nta_trim(nta, a, 1024, a + 1000 - 8, 40) == -EINVAL);  /* rounds outside */
	CHECK(nta_trim(nta, a + 8, 64, a + 8, 8) == -EINVAL);        /* unaligned off */
	CHECK(nta_trim(nta, a + 2048, 4096, a + 2048, 32) == -EINVAL); /* crosses a page */
	/* a kept range whose end wraps past 2^64 (it once passed and overran the bitmap) */
	CHECK(nta_trim(nta, a, 2048, UINT64_MAX - 31, 64) == -EINVAL);
	CHECK(nta_trim(nta, a, 2048, a + 2016, UINT32_MAX) == -EINVAL);
	CHECK(stats(nta).bytes_in_use == 4096 && nta_check(nta) == 0);
	/* head and tail: same bitmaps and stats as the two frees */
	CHECK(nta_trim(nta, a, 2048, a + 256, 100) == 0);
	CHECK(nta_free(ref, a, 256) == 0 && nta_free(ref, a + 256 + 128, 2048 - 384) == 0);
	CHECK(stats(nta).bytes_in_use == 2048 + 128 && stats(ref).bytes_in_use == 2048 + 128);
	CHECK(stats(nta).free_regions == stats(ref).free_regions);
	CHECK(memcmp(nta->zone[0].bits, ref->zone[0].bits, 16 * 16) == 0);
	CHECK(nta_trim(nta, a, 2048, a + 256, 100) == -EINVAL);      /* already trimmed */
	/* only a head, only a tail, nothing; then the kept parts go */
	CHECK(nta_trim(nta, c, 2048, c + 1024, 1024) == 0);
	CHECK(nta_trim(nta, c + 1024, 1024, c + 1024, 32) == 0);
	CHECK(nta_trim(nta, c + 1024, 32, c + 1024, 32) == 0);
	CHECK(stats(nta).bytes_in_use == 128 + 32);
	CHECK(nta_free(nta, c + 1024, 32) == 0 && nta_free(nta, a + 256, 128) == 0);
	CHECK(stats(nta).bytes_in_use == 0 && stats(nta).free_regions == 16);
	CHECK(nta_check(nta) == 0 && nta_check(ref) == 0);
	nta_destroy(nta);
	nta_destroy(ref);
}

static void test_tree_lookup_mode(void)
{
	NTA_OPTS(o, .flags = NTA_F_TREE_LOOKUP, .jumbo_size = 32768);
	struct nta *nta = nta_create(area, 65536, &o);
	uint64_t a, j;

	CHECK(nta_alloc(nta, 3000, &a) == 0 && nta_alloc(nta, 10000, &j) == 0);
	CHECK(nta_free(nta, a + 1024, 1024) == 0 && nta_free(nta, j + 4096, 4096) == 0);
	CHECK(nta_free(nta, a + 1024, 1024) == -EINVAL);
	CHECK(nta_free(nta, a, 3000) == -EINVAL);
	CHECK(nta_check(nta) == 0);
	nta_destroy(nta);
}

static char last_msg[256];
static void capture(const char *msg)
{
	snprintf(last_msg, sizeof(last_msg), "%s", msg);
}

/* nta_check must catch corruption of each structure it guards. */
static void test_check_catches(void)
{
	struct nta *nta = nta_create(area, 65536, NULL);
	nta_print_fn old = nta_set_print(capture);
	uint64_t off;

	CHECK(nta_alloc(nta, 100, &off) == 0);
	CHECK(nta_check(nta) == 0 && !last_msg[0]);
	nta->zone[0].bits[0] |= 1ULL << 20; /* a block allocated behind nta's back */
	CHECK(nta_check(nta) == -EUCLEAN && last_msg[0]);
	nta->zone[0].bits[0] &= ~(1ULL << 20);
	last_msg[0] = 0;
	nta->zone[0].count[127]++;
	CHECK(nta_check(nta) == -EUCLEAN && strstr(last_msg, "of 128 blocks"));
	nta->zone[0].count[127]--;
	nta->zone[0].lmax[3]--; /* page 3 (whole, free) filed under 128 */
	CHECK(nta_check(nta) == -EUCLEAN && strstr(last_msg, "class 128"));
	nta->zone[0].lmax[3]++;
	{
		int8_t bal = nta->tree.bal[nta->tree.root];

		nta->tree.bal[nta->tree.root] = bal == 1 ? -1 : 1;
		CHECK(nta_check(nta) == -EUCLEAN && strstr(last_msg, "tree"));
		nta->tree.bal[nta->tree.root] = bal;
	}
	CHECK(nta_check(nta) == 0);
	nta->set_blocks++;
	CHECK(nta_check(nta) == -EUCLEAN);
	nta->set_blocks--;
	nta_set_print(NULL);
	nta->zone[0].summary = 0;
	CHECK(nta_check(nta) == -EUCLEAN); /* silenced, still detected */
	CHECK(nta_set_print(old) == NULL);
	nta_destroy(nta);
}

static void test_stats_and_budget(void)
{
	static uint8_t big[64 * MIB] __attribute__((aligned(4096)));
	struct nta *nta = nta_create(big, sizeof(big), NULL);
	struct nta_stats st = { .sz = offsetof(struct nta_stats, bytes_cached) };

	CHECK(nta_get_stats(nta, &st) == 0 && st.area_size == sizeof(big));
	st.sz = 8;
	CHECK(nta_get_stats(nta, &st) == -EINVAL);
	st = stats(nta);
	printf("64 MiB area: metadata %llu bytes (%.3f%%), fixed %llu\n",
	       (unsigned long long)st.metadata_bytes, 100.0 * st.metadata_bytes / sizeof(big),
	       (unsigned long long)st.metadata_fixed);
	CHECK(st.metadata_fixed == st.metadata_bytes);
	CHECK(st.metadata_fixed * 100 <= sizeof(big)); /* at most 1% */
	nta_destroy(nta);
}

/* Bytes glibc's heap holds for the process (arenas and mmapped chunks), or 0
 * where the heap is not glibc's (a sanitizer build): then nothing is compared. */
static uint64_t heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/*
 * The worst fragmentation: every page holds the most free runs it can (bpp / 2,
 * a free block after every allocated one), in the normal and the jumbo zone,
 * made by every call that frees (nta_free, nta_free_bulk, nta_trim). With lists
 * of regions this needed a list entry per run: 12.5 % of the area in region
 * tables that the frees allocated. Metadata must stay what nta_create
 * allocated, within 1 % of the area, and the heap must not grow by a byte while
 * the area is cut up and put back together: no call after nta_create
 * allocates. The heap figures check that nta_stats does not under-report.
 */
static void test_worst_fragmentation(void)
{
	static uint8_t big[64 * MIB] __attribute__((aligned(4096)));
	const uint64_t normal = sizeof(big) - 8 * MIB, jpage = 16384;
	NTA_OPTS(o, .jumbo_size = 8 * MIB);
	static uint64_t offs[4096];
	uint64_t h0, h1, h2, h3, n = 0;
	struct nta_stats st;
	struct nta *nta;
	int got;

	h0 = heap_bytes();
	nta = nta_create(big, sizeof(big), &o);
	h1 = heap_bytes();
	CHECK(nta != NULL);
	if (!nta)
		return;
	st = stats(nta);
	while ((got = nta_alloc_bulk(nta, 32, offs, 4096)) > 0)
		n += (uint64_t)got;
	CHECK(n == normal / 32, "%llu", (unsigned long long)n);
	/* normal pages: the odd blocks, by nta_free_bulk in the lower half */
	for (uint64_t off = 32; off < normal / 2; off += 64 * 4096) {
		for (unsigned int i = 0; i < 4096; i++)
			offs[i] = off + 64 * (uint64_t)i;
		CHECK(nta_free_bulk(nta, offs, 4096, 32) == 0);
	}
	for (uint64_t off = normal / 2 + 32; off < normal; off += 64)
		CHECK(nta_free(nta, off, 32) == 0);
	/* jumbo pages: one page each; nta_trim frees the first and last block, then
	 * the even blocks between: runs {0}, {2}, ..., {508}, {511} */
	for (uint64_t off = normal; off < sizeof(big); off += jpage) {
		uint64_t j;

		CHECK(nta_alloc(nta, (uint32_t)jpage, &j) == 0);
		CHECK(nta_trim(nta, j, (uint32_t)jpage, j + 32, (uint32_t)jpage - 64) == 0);
		for (uint64_t x = j + 64; x < j + jpage - 64; x += 64)
			CHECK(nta_free(nta, x, 32) == 0);
	}
	h2 = heap_bytes();
	st = stats(nta);
	CHECK(st.free_regions == sizeof(big) / 64, "%llu", (unsigned long long)st.free_regions);
	CHECK(st.metadata_bytes == st.metadata_fixed);
	CHECK(st.metadata_bytes * 100 <= sizeof(big));
	CHECK(nta_check(nta) == 0);
	/* and back to whole pages */
	for (uint64_t off = 0; off < normal; off += 64)
		CHECK(nta_free(nta, off, 32) == 0);
	for (uint64_t off = normal; off < sizeof(big); off += jpage) {
		for (uint64_t x = off + 32; x < off + jpage - 64; x += 64)
			CHECK(nta_free(nta, x, 32) == 0);
		CHECK(nta_free(nta, off + jpage - 64, 32) == 0);
	}
	h3 = heap_bytes();
	printf("worst fragmentation: %llu free runs, metadata %llu bytes (%.3f%%), fixed %llu; "
	       "heap: +%llu bytes at nta_create, +%lld while fragmented, +%lld after\n",
	       (unsigned long long)st.free_regions, (unsigned long long)st.metadata_bytes,
	       100.0 * (double)st.metadata_bytes / sizeof(big),
	       (unsigned long long)st.metadata_fixed, (unsigned long long)(h1 - h0),
	       (long long)(h2 - h1), (long long)(h3 - h1));
	if (h1 != h0) { /* glibc's heap is visible */
		CHECK(h1 - h0 >= st.metadata_fixed && (h1 - h0) * 100 <= sizeof(big));
		CHECK(h2 == h1 && h3 == h1);
	}
	st = stats(nta);
	CHECK(st.free_regions == normal / 4096 + 8 * MIB / jpage && st.bytes_in_use == 0);
	CHECK(st.metadata_bytes == st.metadata_fixed);
	CHECK(nta_check(nta) == 0);
	nta_destroy(nta);
}

int main(void)
{
	test_create();
	test_lengths();
	test_fragmentation();
	test_trim();
	test_invalid_free();
	test_jumbo();
	test_bulk_and_cache();
	test_cache_fast_path();
	test_cache_top();
	test_trim_call();
	test_tree_lookup_mode();
	test_check_catches();
	test_stats_and_budget();
	test_worst_fragmentation();
	return check_done("test_nta_alloc");
}
