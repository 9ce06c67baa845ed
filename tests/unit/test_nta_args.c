// SPDX-License-Identifier: MIT
/*
 * test_nta_args.c - every public call of nta.h and nta_mt.h against a table of
 * arguments it cannot serve: offsets and lengths near 2^64 and 2^32, sums that
 * wrap, ranges that leave a page, a zone or the area, unaligned values, NULL,
 * ranges that are free, cached or parked. Each call must return -EINVAL and
 * change nothing: the statistics compare equal before and after, and
 * nta_check() passes. The allocator holds a mix of allocations, a cached
 * region, a trimmed one and a jumbo block while the table runs, so that a
 * hostile range can land on every kind of state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nta.h"
#include "nta_mt.h"
#include "check.h"

#define PAGE 4096u
#define JPAGE 16384u
#define NORMAL (16u * PAGE)
#define AREA (NORMAL + 2u * JPAGE)
#define HOT 2048u

static uint8_t area[AREA] __attribute__((aligned(4096)));

/* Offsets no call may accept for any length. */
static const uint64_t bad_offs[] = {
	UINT64_MAX, UINT64_MAX - 31, UINT64_MAX - 4095, 1ull << 63, (1ull << 63) + 32,
	1ull << 32, (1ull << 32) + 32, (1ull << 32) - 32, UINT32_MAX, AREA, AREA + 32,
	AREA + PAGE, 1, 31, 33, NORMAL + 1, AREA - 1,
};

/* Lengths no call may accept at any offset. */
static const uint32_t bad_lens[] = {
	0, UINT32_MAX, UINT32_MAX - 31, 1u << 31, (1u << 31) + 1, 1u << 16, JPAGE + 1, JPAGE + 32,
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct nta_stats snap(const struct nta *nta)
{
	struct nta_stats st;

	memset(&st, 0, sizeof(st));
	st.sz = sizeof(st);
	CHECK(nta_get_stats(nta, &st) == 0);
	return st;
}

static void quiet(const char *msg)
{
	(void)msg;
}

/* The call returned -EINVAL and the allocator is as it was. */
#define REFUSED(nta, before, call, ...)                                                  \
	do {                                                                             \
		struct nta_stats after_;                                                 \
		int ret_ = (call);                                                       \
		CHECK(ret_ == -EINVAL, __VA_ARGS__);                                    \
		after_ = snap(nta);                                                      \
		CHECK(memcmp(&(before), &after_, sizeof(after_)) == 0, __VA_ARGS__);    \
		CHECK(nta_check(nta) == 0, __VA_ARGS__);                                \
	} while (0)

static void test_create(void)
{
	static const struct {
		uint32_t block, page, jpage, cache_len;
		uint64_t jumbo;
	} bad[] = {
		{ .block = 1u << 31 }, { .block = 3 }, { .block = 4 }, { .page = 1u << 31 },
		{ .page = 96 }, { .block = 64, .page = 2048 }, { .jumbo = UINT64_MAX },
		{ .jumbo = 1ull << 63 }, { .jumbo = AREA }, { .jumbo = JPAGE, .jpage = 1u << 31 },
		{ .jumbo = JPAGE, .jpage = PAGE }, { .jumbo = JPAGE + PAGE }, { .cache_len = 1u << 31 },
		{ .cache_len = 3000 }, { .cache_len = 16 }, { .cache_len = UINT32_MAX },
	};
	static const uint64_t bad_sizes[] = { 0, 1, PAGE - 1 };

	errno = 0;
	CHECK(!nta_create(NULL, AREA, NULL) && errno == EINVAL);
	/* an area whose end would wrap the address space */
	errno = 0;
	CHECK(!nta_create(area, UINT64_MAX, NULL) && errno == EINVAL);
	errno = 0;
	CHECK(!nta_create(area, UINT64_MAX - PAGE + 1, NULL) && errno == EINVAL);
	for (size_t i = 0; i < N(bad_sizes); i++) {
		errno = 0;
		CHECK(!nta_create(area, bad_sizes[i], NULL) && errno == EINVAL, "size %llu",
		      (unsigned long long)bad_sizes[i]);
	}
	for (size_t i = 0; i < N(bad); i++) {
		NTA_OPTS(o, .block_size = bad[i].block, .page_size = bad[i].page,
			 .jumbo_size = bad[i].jumbo, .jumbo_page_size = bad[i].jpage,
			 .cache_len = bad[i].cache_len);

		errno = 0;
		CHECK(!nta_create(area, AREA, &o) && errno == EINVAL, "options %zu", i);
	}
	{
		NTA_OPTS(o);

		o.sz = 0;
		errno = 0;
		CHECK(!nta_create(area, AREA, &o) && errno == EINVAL);
	}
	/* a magazine larger than the area's chunks is served by a smaller one */
	{
		NTA_OPTS(o, .cache_size = UINT32_MAX);
		NTA_OPTS(all, .cache_size = AREA / HOT);
		struct nta *nta = nta_create(area, AREA, &o), *ref = nta_create(area, AREA, &all);

		CHECK(nta && ref && snap(nta).metadata_bytes == snap(ref).metadata_bytes);
		nta_destroy(nta);
		nta_destroy(ref);
	}
}

/* nta with: a (1000 bytes), b (a hot region held), c (a hot region in the front
 * cache), t (a hot region trimmed to 64 bytes at 256), j (a jumbo block). */
struct held {
	uint64_t a, b, c, t, j;
};

static struct nta *populate(struct held *h)
{
	NTA_OPTS(o, .jumbo_size = 2 * JPAGE);
	struct nta *nta = nta_create(area, AREA, &o);

	CHECK(nta != NULL);
	CHECK(nta_alloc(nta, 1000, &h->a) == 0);
	CHECK(nta_alloc(nta, HOT, &h->b) == 0);
	CHECK(nta_alloc(nta, HOT, &h->c) == 0);
	CHECK(nta_alloc(nta, HOT, &h->t) == 0);
	CHECK(nta_alloc(nta, 9000, &h->j) == 0 && h->j >= NORMAL);
	CHECK(nta_free(nta, h->c, HOT) == 0);
	CHECK(nta_trim(nta, h->t, HOT, h->t + 256, 64) == 0);
	CHECK(nta_check(nta) == 0);
	return nta;
}

static void test_nta_calls(void)
{
	struct held h;
	struct nta *nta = populate(&h);
	struct nta_stats before = snap(nta);
	/* offsets that are block-aligned and inside the area, but whose ranges
	 * below are free, cached, or not what was allocated */
	const uint64_t live[] = { h.a, h.b, h.c, h.t, h.t + 256, h.j, h.j + 8192 };
	uint64_t off, offs[4];

	/* nta_alloc, nta_alloc_bulk */
	for (size_t i = 0; i < N(bad_lens); i++) {
		REFUSED(nta, before, nta_alloc(nta, bad_lens[i], &off), "alloc len %u", bad_lens[i]);
		REFUSED(nta, before, nta_alloc_bulk(nta, bad_lens[i], offs, 4), "bulk len %u",
			bad_lens[i]);
	}
	REFUSED(nta, before, nta_alloc(NULL, 64, &off), "alloc NULL");
	REFUSED(nta, before, nta_alloc(nta, 64, NULL), "alloc NULL off");
	REFUSED(nta, before, nta_alloc_bulk(NULL, 64, offs, 4), "bulk NULL");
	REFUSED(nta, before, nta_alloc_bulk(nta, 64, NULL, 4), "bulk NULL offs");

	/* nta_free: bad offsets with any length, bad lengths at any offset */
	for (size_t i = 0; i < N(bad_offs); i++) {
		static const uint32_t lens[] = { 1, 32, 64, HOT, PAGE, JPAGE };

		for (size_t k = 0; k < N(lens); k++)
			REFUSED(nta, before, nta_free(nta, bad_offs[i], lens[k]), "free 0x%llx %u",
				(unsigned long long)bad_offs[i], lens[k]);
	}
	for (size_t i = 0; i < N(live); i++)
		for (size_t k = 0; k < N(bad_lens); k++)
			REFUSED(nta, before, nta_free(nta, live[i], bad_lens[k]), "free 0x%llx %u",
				(unsigned long long)live[i], bad_lens[k]);
	/* ranges of the wrong state or shape */
	REFUSED(nta, before, nta_free(nta, h.a, 1025), "past the allocation");
	REFUSED(nta, before, nta_free(nta, h.c, HOT), "cached region");
	REFUSED(nta, before, nta_free(nta, h.c + 32, 32), "inside a cached region");
	REFUSED(nta, before, nta_free(nta, h.t, 32), "trimmed head");
	REFUSED(nta, before, nta_free(nta, h.t + 256, HOT - 256), "kept part and freed tail");
	REFUSED(nta, before, nta_free(nta, h.t + 256 + 32, 64), "across into free space");
	REFUSED(nta, before, nta_free(nta, NORMAL - 32, 64), "across the zones");
	REFUSED(nta, before, nta_free(nta, h.j + JPAGE - 32, 64), "across a jumbo page");
	REFUSED(nta, before, nta_free(nta, AREA - 32, 64), "across the area's end");
	REFUSED(nta, before, nta_free(NULL, h.a, 1000), "free NULL");

	/* nta_trim: the region or the kept range cannot be served */
	for (size_t i = 0; i < N(bad_offs); i++) {
		REFUSED(nta, before, nta_trim(nta, bad_offs[i], HOT, bad_offs[i], 64), "trim off");
		REFUSED(nta, before, nta_trim(nta, h.b, HOT, bad_offs[i], 64), "trim keep 0x%llx",
			(unsigned long long)bad_offs[i]);
	}
	for (size_t k = 0; k < N(bad_lens); k++) {
		REFUSED(nta, before, nta_trim(nta, h.b, bad_lens[k], h.b, 64), "trim len %u",
			bad_lens[k]);
		REFUSED(nta, before, nta_trim(nta, h.b, HOT, h.b + 256, bad_lens[k]),
			"trim keep_len %u", bad_lens[k]);
	}
	/* keep_off + keep_len wraps past 2^64, or past 2^32 from off */
	REFUSED(nta, before, nta_trim(nta, h.b, HOT, UINT64_MAX - 31, 64), "keep wraps");
	REFUSED(nta, before, nta_trim(nta, h.b, HOT, UINT64_MAX - 31, UINT32_MAX), "keep wraps");
	REFUSED(nta, before, nta_trim(nta, h.b, HOT, h.b + (1ull << 32), 64), "keep 2^32 on");
	REFUSED(nta, before, nta_trim(nta, h.b, UINT32_MAX, h.b + 64, UINT32_MAX - 32),
		"len near 2^32");
	REFUSED(nta, before, nta_trim(nta, h.b + 64, HOT - 64, h.b, 64), "keep before off");
	REFUSED(nta, before, nta_trim(nta, h.b, HOT, h.b + HOT, 32), "keep at the end");
	REFUSED(nta, before, nta_trim(nta, h.b, HOT, h.b + HOT - 32, 64), "keep past the end");
	REFUSED(nta, before, nta_trim(nta, h.b, HOT, h.b + 16, 64), "keep unaligned");
	REFUSED(nta, before, nta_trim(nta, h.t + 256, 96, h.t + 256, 64), "region past the kept part");
	REFUSED(nta, before, nta_trim(nta, h.c, HOT, h.c + 256, 64), "cached region");
	REFUSED(nta, before, nta_trim(nta, h.t, HOT, h.t + 256, 64), "trimmed again");
	REFUSED(nta, before, nta_trim(NULL, h.b, HOT, h.b, 64), "trim NULL");

	/* nta_free_bulk: all or nothing, whatever entry is bad */
	offs[0] = h.b;
	offs[1] = h.t + 256; /* 64 bytes kept: not HOT */
	REFUSED(nta, before, nta_free_bulk(nta, offs, 2, HOT), "bulk, second bad");
	offs[0] = h.b;
	offs[1] = h.b;
	REFUSED(nta, before, nta_free_bulk(nta, offs, 2, HOT), "bulk, same region twice");
	offs[0] = h.b;
	offs[1] = h.c;
	REFUSED(nta, before, nta_free_bulk(nta, offs, 2, HOT), "bulk, cached region");
	offs[0] = h.b;
	offs[1] = UINT64_MAX - 31;
	REFUSED(nta, before, nta_free_bulk(nta, offs, 2, HOT), "bulk, offset near 2^64");
	REFUSED(nta, before, nta_free_bulk(nta, offs, 1, 0), "bulk, len 0");
	REFUSED(nta, before, nta_free_bulk(nta, NULL, 1, HOT), "bulk, NULL offs");
	REFUSED(nta, before, nta_free_bulk(NULL, offs, 1, HOT), "bulk, NULL nta");

	/* the read-only calls */
	{
		struct nta_stats st = { .sz = 8 };

		REFUSED(nta, before, nta_get_stats(nta, &st), "stats sz");
		REFUSED(nta, before, nta_get_stats(nta, NULL), "stats NULL");
		REFUSED(nta, before, nta_get_stats(NULL, &before), "stats NULL nta");
		REFUSED(nta, before, nta_check(NULL), "check NULL");
	}
	CHECK(nta_block_size(NULL) == 0 && nta_area_size(NULL) == 0 && nta_max_alloc(NULL) == 0);

	/* and it still works: give everything back */
	offs[0] = h.a;
	CHECK(nta_free_bulk(nta, offs, 1, 1000) == 0);
	CHECK(nta_free(nta, h.b, HOT) == 0 && nta_free(nta, h.t + 256, 64) == 0);
	CHECK(nta_free(nta, h.j, 9000) == 0);
	CHECK(nta_check(nta) == 0 && snap(nta).bytes_in_use == 0);
	nta_destroy(nta);
}

struct mt_state {
	struct nta_mt_stats ms;
	struct nta_mt_cache_stats cs;
};

static struct mt_state mt_snap(struct nta_mt *mt, struct nta_mt_cache *c)
{
	struct mt_state s;

	memset(&s, 0, sizeof(s));
	s.ms.sz = sizeof(s.ms);
	CHECK(nta_mt_get_stats(mt, &s.ms) == 0);
	nta_mt_cache_get_stats(c, &s.cs);
	return s;
}

#define MT_REFUSED(mt, c, before, call, ...)                                             \
	do {                                                                             \
		struct mt_state after_;                                                  \
		int ret_ = (call);                                                       \
		CHECK(ret_ == -EINVAL, __VA_ARGS__);                                    \
		after_ = mt_snap(mt, c);                                                 \
		CHECK(memcmp(&(before), &after_, sizeof(after_)) == 0, __VA_ARGS__);    \
		CHECK(nta_mt_check(mt) == 0, __VA_ARGS__);                              \
	} while (0)

static void test_mt_calls(void)
{
	NTA_OPTS(o, .jumbo_size = 2 * JPAGE);
	struct nta *nta = nta_create(area, AREA, &o);
	struct nta_mt *mt;
	struct nta_mt_cache *c;
	struct mt_state before;
	uint64_t held, parked, small, off, offs[4];

	errno = 0;
	CHECK(!nta_mt_create(NULL, NULL) && errno == EINVAL);
	{
		NTA_MT_OPTS(bad, .hot_len = 100);

		errno = 0;
		CHECK(!nta_mt_create(nta, &bad) && errno == EINVAL);
		bad.hot_len = UINT32_MAX;
		errno = 0;
		CHECK(!nta_mt_create(nta, &bad) && errno == EINVAL);
		bad.hot_len = 0;
		bad.batch = UINT32_MAX;
		errno = 0;
		CHECK(!nta_mt_create(nta, &bad) && errno == EINVAL);
	}
	errno = 0;
	CHECK(!nta_mt_cache_create(NULL) && errno == EINVAL);
	{
		NTA_MT_OPTS(mo, .batch = 4);

		mt = nta_mt_create(nta, &mo);
	}
	c = mt ? nta_mt_cache_create(mt) : NULL;
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK(nta_mt_alloc(c, HOT, &held) == 0);
	CHECK(nta_mt_alloc(c, HOT, &parked) == 0 && nta_mt_free(c, parked, HOT) == 0);
	CHECK(nta_mt_alloc(c, 96, &small) == 0);
	before = mt_snap(mt, c);

	for (size_t i = 0; i < N(bad_lens); i++) {
		MT_REFUSED(mt, c, before, nta_mt_alloc(c, bad_lens[i], &off), "alloc %u", bad_lens[i]);
		MT_REFUSED(mt, c, before, nta_mt_alloc_bulk(c, bad_lens[i], offs, 4), "bulk %u",
			   bad_lens[i]);
		MT_REFUSED(mt, c, before, nta_mt_free(c, held, bad_lens[i]), "free len %u",
			   bad_lens[i]);
		MT_REFUSED(mt, c, before, nta_mt_trim(c, held, bad_lens[i], held, 64), "trim len %u",
			   bad_lens[i]);
		MT_REFUSED(mt, c, before, nta_mt_trim(c, held, HOT, held + 256, bad_lens[i]),
			   "trim keep_len %u", bad_lens[i]);
	}
	for (size_t i = 0; i < N(bad_offs); i++) {
		MT_REFUSED(mt, c, before, nta_mt_free(c, bad_offs[i], HOT), "free hot 0x%llx",
			   (unsigned long long)bad_offs[i]);
		MT_REFUSED(mt, c, before, nta_mt_free(c, bad_offs[i], 64), "free 0x%llx",
			   (unsigned long long)bad_offs[i]);
		MT_REFUSED(mt, c, before, nta_mt_trim(c, bad_offs[i], HOT, bad_offs[i], 64),
			   "trim 0x%llx", (unsigned long long)bad_offs[i]);
		MT_REFUSED(mt, c, before, nta_mt_trim(c, held, HOT, bad_offs[i], 64),
			   "trim keep 0x%llx", (unsigned long long)bad_offs[i]);
	}
	MT_REFUSED(mt, c, before, nta_mt_trim(c, held, HOT, UINT64_MAX - 31, 64), "keep wraps");
	MT_REFUSED(mt, c, before, nta_mt_trim(c, held, HOT, held + (1ull << 32), 64), "keep 2^32");
	MT_REFUSED(mt, c, before, nta_mt_trim(c, held, HOT, held + HOT - 32, 64), "keep past end");
	MT_REFUSED(mt, c, before, nta_mt_trim(c, held, HOT, held + 16, 64), "keep unaligned");
	MT_REFUSED(mt, c, before, nta_mt_free(c, NORMAL - 32, 64), "across the zones");
	MT_REFUSED(mt, c, before, nta_mt_free(c, AREA - 32, HOT), "across the area's end");
	MT_REFUSED(mt, c, before, nta_mt_free(c, (held & ~(uint64_t)(PAGE - 1)) + PAGE - 32, HOT),
		   "hot, across a page");
	MT_REFUSED(mt, c, before, nta_mt_alloc(NULL, HOT, &off), "alloc NULL");
	MT_REFUSED(mt, c, before, nta_mt_alloc(c, HOT, NULL), "alloc NULL off");
	MT_REFUSED(mt, c, before, nta_mt_alloc_bulk(NULL, HOT, offs, 4), "bulk NULL");
	MT_REFUSED(mt, c, before, nta_mt_alloc_bulk(c, HOT, NULL, 4), "bulk NULL offs");
	MT_REFUSED(mt, c, before, nta_mt_free(NULL, held, HOT), "free NULL");
	MT_REFUSED(mt, c, before, nta_mt_free_bulk(NULL, &held, 1, HOT), "free_bulk NULL");
	MT_REFUSED(mt, c, before, nta_mt_free_bulk(c, NULL, 1, HOT), "free_bulk NULL offs");
	MT_REFUSED(mt, c, before, nta_mt_free_bulk(c, &held, 1, 0), "free_bulk len 0");
	/* A batch refuses each bad entry alone and counts it: all bad, nothing done. */
	for (unsigned int len = 64; len <= HOT; len += HOT - 64) {
		struct mt_state after;

		CHECK(nta_mt_free_bulk(c, bad_offs, N(bad_offs), len) == (int)N(bad_offs),
		      "free_bulk of bad offsets, len %u", len);
		after = mt_snap(mt, c);
		CHECK(memcmp(&before, &after, sizeof(after)) == 0, "free_bulk changed state, len %u", len);
	}
	for (size_t i = 0; i < N(bad_lens); i++) {
		struct mt_state after;
		int ret = nta_mt_free_bulk(c, &held, 1, bad_lens[i]);

		CHECK(ret == (bad_lens[i] ? 1 : -EINVAL), "free_bulk len %u: %d", bad_lens[i], ret);
		after = mt_snap(mt, c);
		CHECK(memcmp(&before, &after, sizeof(after)) == 0, "free_bulk len %u changed state",
		      bad_lens[i]);
	}
	MT_REFUSED(mt, c, before, nta_mt_trim(NULL, held, HOT, held, 64), "trim NULL");
	MT_REFUSED(mt, c, before, nta_mt_cache_drain(NULL), "drain NULL");
	MT_REFUSED(mt, c, before, nta_mt_check(NULL), "check NULL");
	MT_REFUSED(mt, c, before, nta_mt_get_stats(NULL, &before.ms), "stats NULL");
	{
		struct nta_mt_stats st = { .sz = 8 };

		MT_REFUSED(mt, c, before, nta_mt_get_stats(mt, &st), "stats sz");
	}
	nta_mt_cache_get_stats(NULL, NULL);
	nta_mt_cache_destroy(NULL);
	nta_mt_destroy(NULL);

	CHECK(nta_mt_free(c, held, HOT) == 0 && nta_mt_free(c, small, 96) == 0);
	CHECK(nta_mt_cache_drain(c) == 0);
	before = mt_snap(mt, c);
	CHECK(before.ms.nta.bytes_in_use == 0 && before.ms.bytes_parked == 0);
	nta_mt_destroy(mt);
	CHECK(nta_check(nta) == 0);
	nta_destroy(nta);
}

int main(void)
{
	nta_set_print(quiet);
	test_create();
	test_nta_calls();
	test_mt_calls();
	return check_done("test_nta_args");
}
