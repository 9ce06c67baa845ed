// SPDX-License-Identifier: MIT
/*
 * test_nta_mt.c - the thread-safe front: API cases on one thread, then a
 * stress run of several threads against one area.
 *
 * Stress: each thread does random allocs (mostly the hot 2048 size, some small
 * and page-sized), bulk allocs, trims (free the head and the tail of a hot
 * region, keep the middle, free that later) and frees; a share of its live
 * blocks is handed to other threads through a locked hand-off list, so frees
 * arrive on a thread other than the allocating one. Overlaps are caught twice:
 * an owner array (one atomic word per 32-byte block, claimed by CAS on alloc,
 * released by CAS on free) and a pattern written into every block on alloc and
 * verified on free. At the end every thread frees what it holds, the caches are
 * drained, and nta must report zero bytes in use and pass nta_check.
 * It runs in every build; under ThreadSanitizer (make TSAN=1) it also checks
 * that the front has no data race.
 * Usage: test_nta_mt [threads] [ops per thread] [seed]
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "nta.h"
#include "nta_mt.h"

#define BLOCK 32
#define HOT 2048
#define AREA (8u << 20)
#define NBLOCKS (AREA / BLOCK)
#define MAX_LIVE 512
#define HANDOFF_MAX 4096

#if defined(NTA_DEBUG) && NTA_DEBUG
#define DEF_OPS 40000
#else
#define DEF_OPS 300000
#endif

#define FAIL(...)                                                              \
	do {                                                                   \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);          \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		exit(1);                                                       \
	} while (0)

struct rec {
	uint64_t off;
	uint32_t len;
	uint32_t id;
};

static uint8_t *area;
static uint32_t *owner; /* owner[block]: id of the holder, 0 free; atomic */
static struct nta_mt *mt;

static pthread_mutex_t handoff_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rec handoff[HANDOFF_MAX];
static unsigned int nr_handoff;
static uint64_t cross_frees; /* under handoff_lock */

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint8_t pattern(uint32_t id, uint64_t off)
{
	return (uint8_t)(id * 131u + (uint32_t)(off / BLOCK) * 7u + (uint32_t)off);
}

static uint32_t round_len(uint32_t len)
{
	return (len + BLOCK - 1) / BLOCK * BLOCK;
}

static void claim(const struct rec *r)
{
	for (uint64_t b = r->off / BLOCK; b < (r->off + round_len(r->len)) / BLOCK; b++) {
		uint32_t expect = 0;

		if (!__atomic_compare_exchange_n(&owner[b], &expect, r->id, false, __ATOMIC_RELAXED,
						 __ATOMIC_RELAXED))
			FAIL("overlap: block %llu of id %u (off %llu len %u) already held by id %u",
			     (unsigned long long)b, r->id, (unsigned long long)r->off, r->len, expect);
	}
	for (uint64_t i = r->off; i < r->off + r->len; i++)
		area[i] = pattern(r->id, i);
}

/* Check and release [off, off + len) of r. */
static void release(const struct rec *r, uint64_t off, uint32_t len)
{
	for (uint64_t i = off; i < off + len; i++)
		if (area[i] != pattern(r->id, i))
			FAIL("pattern damaged at %llu in id %u", (unsigned long long)i, r->id);
	for (uint64_t b = off / BLOCK; b < (off + round_len(len)) / BLOCK; b++) {
		uint32_t expect = r->id;

		if (!__atomic_compare_exchange_n(&owner[b], &expect, 0, false, __ATOMIC_RELAXED,
						 __ATOMIC_RELAXED))
			FAIL("block %llu of id %u owned by %u at free", (unsigned long long)b, r->id, expect);
	}
}

struct worker {
	pthread_t tid;
	unsigned int index;
	uint64_t ops;
	uint64_t seed;
	struct nta_mt_cache *cache;
	struct rec live[MAX_LIVE];
	unsigned int nr_live;
	uint32_t next_id;
	uint64_t allocs, enomem, trims, frees;
};

static uint32_t new_id(struct worker *w)
{
	/* Unique across threads, never 0. */
	w->next_id++;
	return (w->next_id << 6 | w->index) + 1;
}

static void do_free(struct worker *w, struct rec *r)
{
	int ret;

	release(r, r->off, r->len);
	/* nta rounds a length up to blocks: free with either */
	ret = nta_mt_free(w->cache, r->off, (r->id & 2) ? r->len : round_len(r->len));
	if (ret)
		FAIL("free %llu/%u: %d", (unsigned long long)r->off, r->len, ret);
	w->frees++;
}

static void add_live(struct worker *w, uint64_t off, uint32_t len)
{
	struct rec *r = &w->live[w->nr_live++];

	r->off = off;
	r->len = len;
	r->id = new_id(w);
	claim(r);
	w->allocs++;
}

static void op_alloc(struct worker *w, uint64_t x)
{
	static const uint32_t sizes[] = { HOT, HOT, HOT, HOT, HOT, 64, 96, 576, 1500, 4096 };
	uint32_t len = sizes[x % 10];
	uint64_t off;
	int ret;

	if (w->nr_live >= MAX_LIVE)
		return;
	ret = nta_mt_alloc(w->cache, len, &off);
	if (ret == -ENOMEM) {
		w->enomem++;
		return;
	}
	if (ret)
		FAIL("alloc %u: %d", len, ret);
	add_live(w, off, len);
}

static void op_bulk(struct worker *w, uint64_t x)
{
	uint64_t offs[32];
	unsigned int n = (unsigned int)(x % 32) + 1;
	int got;

	if (w->nr_live + n > MAX_LIVE)
		return;
	got = nta_mt_alloc_bulk(w->cache, HOT, offs, n);
	if (got < 0)
		FAIL("bulk: %d", got);
	if ((unsigned int)got < n)
		w->enomem++;
	for (int i = 0; i < got; i++)
		add_live(w, offs[i], HOT);
}

/* Keep [off + head, off + head + keep) of a hot region, free the rest now:
 * with nta_mt_trim (deferred, maybe cancelled by the kept part's free, which
 * may come on another thread) or with two frees. */
static void op_trim(struct worker *w, uint64_t x)
{
	struct rec *r;
	uint32_t head, keep;
	int ret;

	for (unsigned int i = 0; i < w->nr_live; i++) {
		r = &w->live[(i + x) % w->nr_live];
		if (r->len != HOT)
			continue;
		head = (uint32_t)(x >> 8) % 16 * BLOCK;
		keep = ((uint32_t)(x >> 16) % 40 + 1) * BLOCK - (uint32_t)(x >> 24) % BLOCK;
		if (head)
			release(r, r->off, head);
		release(r, r->off + head + round_len(keep), HOT - head - round_len(keep));
		if ((x >> 32) & 1) {
			ret = nta_mt_trim(w->cache, r->off, HOT, r->off + head, keep);
		} else {
			ret = head ? nta_mt_free(w->cache, r->off, head) : 0;
			if (!ret)
				ret = nta_mt_free(w->cache, r->off + head + round_len(keep),
						  HOT - head - round_len(keep));
		}
		if (ret)
			FAIL("trim of %llu: %d", (unsigned long long)r->off, ret);
		r->off += head;
		r->len = keep;
		w->trims++;
		return;
	}
}

static void op_free(struct worker *w, uint64_t x, bool give_away)
{
	unsigned int i;
	struct rec r;

	if (!w->nr_live)
		return;
	i = (unsigned int)(x % w->nr_live);
	r = w->live[i];
	w->live[i] = w->live[--w->nr_live];
	if (give_away) {
		pthread_mutex_lock(&handoff_lock);
		if (nr_handoff < HANDOFF_MAX) {
			handoff[nr_handoff++] = r;
			pthread_mutex_unlock(&handoff_lock);
			return;
		}
		pthread_mutex_unlock(&handoff_lock);
	}
	do_free(w, &r);
}

/* Free one block another thread (probably) allocated. */
static void op_take(struct worker *w)
{
	struct rec r;

	pthread_mutex_lock(&handoff_lock);
	if (!nr_handoff) {
		pthread_mutex_unlock(&handoff_lock);
		return;
	}
	r = handoff[--nr_handoff];
	cross_frees++;
	pthread_mutex_unlock(&handoff_lock);
	do_free(w, &r);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (uint64_t n = 0; n < w->ops; n++) {
		uint64_t x = xorshift(&w->seed);

		switch (x % 16) {
		case 0: case 1: case 2: case 3: case 4: case 5:
			op_alloc(w, x >> 4);
			break;
		case 6:
			op_bulk(w, x >> 4);
			break;
		case 7: case 8:
			op_trim(w, x >> 4);
			break;
		case 9: case 10: case 11: case 12:
			op_free(w, x >> 4, false);
			break;
		case 13:
			op_free(w, x >> 4, true);
			break;
		default:
			op_take(w);
			break;
		}
	}
	while (w->nr_live)
		op_free(w, 0, false);
	return NULL;
}

static struct nta *make_nta(void)
{
	NTA_OPTS(o, .cache_len = HOT);
	struct nta *nta = nta_create(area, AREA, &o);

	if (!nta)
		FAIL("nta_create: %s", strerror(errno));
	return nta;
}

/* ---- single-thread API cases ---- */

static void test_api(void)
{
	struct nta *nta = make_nta();
	struct nta_mt_stats st = { .sz = sizeof(st) };
	struct nta_mt_cache_stats cs;
	struct nta_mt_cache *c;
	uint64_t off, off2, offs[100];
	NTA_MT_OPTS(bad, .hot_len = 100);

	if (nta_mt_create(NULL, NULL) || errno != EINVAL)
		FAIL("create without nta");
	if (nta_mt_create(nta, &bad) || errno != EINVAL)
		FAIL("hot_len not a block multiple accepted");
	mt = nta_mt_create(nta, NULL);
	c = mt ? nta_mt_cache_create(mt) : NULL;
	if (!c)
		FAIL("create: %s", strerror(errno));

	/* The first hot alloc takes its region and a batch for the magazine: 65
	 * regions leave nta, 1 to us. */
	if (nta_mt_alloc(c, HOT, &off) || nta_mt_get_stats(mt, &st))
		FAIL("alloc");
	if (st.bytes_in_use != HOT || st.bytes_parked != 64 * HOT || st.nta.bytes_in_use != 65 * HOT)
		FAIL("after one alloc: in use %llu parked %llu nta %llu", (unsigned long long)st.bytes_in_use,
		     (unsigned long long)st.bytes_parked, (unsigned long long)st.nta.bytes_in_use);
	/* LIFO: a freed region is the next one out, without the lock. */
	nta_mt_cache_get_stats(c, &cs);
	if (nta_mt_free(c, off, HOT) || nta_mt_alloc(c, HOT, &off2) || off2 != off)
		FAIL("LIFO");
	{
		struct nta_mt_cache_stats cs2;

		nta_mt_cache_get_stats(c, &cs2);
		if (cs2.locks != cs.locks || cs2.fast_allocs != cs.fast_allocs + 1)
			FAIL("fast path took the lock");
	}
	/* Bulk beyond one magazine. */
	if (nta_mt_alloc_bulk(c, HOT, offs, 100) != 100)
		FAIL("bulk 100");
	for (int i = 0; i < 50; i++)
		if (nta_mt_free(c, offs[i], HOT))
			FAIL("free bulk %d", i);
	if (nta_mt_free_bulk(c, NULL, 1, HOT) != -EINVAL || nta_mt_free_bulk(c, offs, 1, 0) != -EINVAL ||
	    nta_mt_free_bulk(c, NULL, 0, HOT) != 0)
		FAIL("free_bulk arguments");
	if (nta_mt_free_bulk(c, offs + 50, 50, HOT) != 0)
		FAIL("free_bulk of 50");
	/* A small block and a trim, through the pending list. */
	if (nta_mt_alloc(c, 96, &off2) || nta_mt_free(c, off2, 96))
		FAIL("small");
	if (nta_mt_free(c, off, 64) || nta_mt_free(c, off + 128, HOT - 128) || nta_mt_free(c, off + 64, 64))
		FAIL("trim");
	/* A bad free is queued, then reported by the drain. */
	if (nta_mt_free(c, off + 32, 64))
		FAIL("queued bad free refused early");
	if (nta_mt_cache_drain(c) != -EINVAL)
		FAIL("drain did not report the bad free");
	if (nta_mt_cache_drain(c) != 0)
		FAIL("drain reported the bad free twice");
	if (nta_mt_check(mt) || nta_mt_get_stats(mt, &st) || st.nta.bytes_in_use || st.bytes_parked)
		FAIL("not empty after drain: %llu", (unsigned long long)st.nta.bytes_in_use);
	nta_mt_destroy(mt); /* destroys c */

	/* A batch freed twice into the magazine is refused whole. */
	mt = nta_mt_create(nta, NULL);
	c = mt ? nta_mt_cache_create(mt) : NULL;
	if (!c || nta_mt_alloc_bulk(c, HOT, offs, 4) != 4 || nta_mt_free_bulk(c, offs, 4, HOT) ||
	    nta_mt_free_bulk(c, offs, 4, HOT) != 4)
		FAIL("a batch freed twice into the magazine not refused whole");
	nta_mt_cache_destroy(c);
	if (nta_mt_check(mt) || nta_mt_get_stats(mt, &st) || st.nta.bytes_in_use || st.caches)
		FAIL("not empty after a refused batch");
	nta_mt_destroy(mt);
	nta_destroy(nta);
	mt = NULL;
}

static uint64_t in_use(void)
{
	struct nta_mt_stats st = { .sz = sizeof(st) };

	if (nta_mt_get_stats(mt, &st))
		FAIL("get_stats");
	return st.bytes_in_use;
}

/* Deferred trims: cancelled by the kept blocks' free on any cache, sent on
 * when part of the kept blocks is freed, released for an allocation that
 * would fail, drained. */
static void test_trims(void)
{
	struct nta *nta = make_nta();
	struct nta_mt_stats st = { .sz = sizeof(st) };
	struct nta_mt_cache_stats cs, cs2;
	struct nta_mt_cache *c, *c2;
	uint64_t off, off2, offs[600];
	mt = nta_mt_create(nta, NULL);
	c = mt ? nta_mt_cache_create(mt) : NULL;
	c2 = mt ? nta_mt_cache_create(mt) : NULL;
	if (!c || !c2)
		FAIL("create: %s", strerror(errno));
	if (nta_mt_alloc(c, HOT, &off))
		FAIL("alloc");
	/* Bad ranges. */
	if (nta_mt_trim(c, off, HOT, off + 256, 0) != -EINVAL ||
	    nta_mt_trim(c, off, HOT, off + 16, 64) != -EINVAL ||
	    nta_mt_trim(c, off, HOT, off + 2016, 64) != -EINVAL ||
	    nta_mt_trim(c, off + 32, HOT, off, 64) != -EINVAL || nta_mt_trim(c, off, 0, off, 1) != -EINVAL)
		FAIL("bad trim accepted");
	/* A received frame: head 256, 1500 kept, the rest parked at once. */
	if (nta_mt_trim(c, off, HOT, off + 256, 1500) || in_use() != 1504)
		FAIL("trim: in use %llu", (unsigned long long)in_use());
	/* Its completion cancels the trim: the region is whole in the magazine,
	 * without the lock, and the next alloc takes it back. */
	nta_mt_cache_get_stats(c, &cs);
	if (nta_mt_free(c, off + 256, 1500) || in_use())
		FAIL("untrim");
	nta_mt_cache_get_stats(c, &cs2);
	if (cs2.locks != cs.locks || cs2.trims_undone != cs.trims_undone + 1)
		FAIL("untrim took the lock or was not counted");
	if (nta_mt_alloc(c, HOT, &off2) || off2 != off)
		FAIL("untrimmed region not back in the magazine");
	/* Kept part freed through another cache: the trim is cancelled there, and
	 * the region is whole in that cache's magazine. */
	nta_mt_cache_get_stats(c2, &cs);
	if (nta_mt_trim(c, off, HOT, off + 256, 1500) || nta_mt_free(c2, off + 256, 1500) || in_use())
		FAIL("cross free");
	nta_mt_cache_get_stats(c2, &cs2);
	if (cs2.trims_undone != cs.trims_undone + 1 || cs2.parked_bytes != cs.parked_bytes + HOT ||
	    nta_mt_alloc(c2, HOT, &off2) || off2 != off)
		FAIL("cross untrim: region not in the other cache's magazine");
	/* A trim waits until the kept blocks come back, however late; part of
	 * them sends it on first (head and tail to nta), then frees that part. */
	if (nta_mt_trim(c2, off, HOT, off + 256, 1500) || nta_mt_free(c, off + 256, 64) ||
	    in_use() != 1504 - 64 || nta_mt_free(c, off + 320, 1500 - 64) || in_use())
		FAIL("partial free of kept blocks: in use %llu", (unsigned long long)in_use());
	if (nta_mt_cache_drain(c) || nta_mt_cache_drain(c2) || in_use() || nta_mt_check(mt) ||
	    nta_mt_get_stats(mt, &st) || st.bytes_parked || st.nta.bytes_in_use)
		FAIL("after drain: %llu", (unsigned long long)in_use());
	/* Many trims in flight: each waits in its region's window; all come back. */
	nta_mt_cache_get_stats(c, &cs);
	if (nta_mt_alloc_bulk(c, HOT, offs, 600) != 600)
		FAIL("bulk 600");
	for (int i = 0; i < 600; i++)
		if (nta_mt_trim(c, offs[i], HOT, offs[i] + 64 * (i % 3), 60 + i))
			FAIL("trim %d", i);
	for (int i = 0; i < 600; i++)
		if (nta_mt_free(c, offs[i] + 64 * (i % 3), 60 + i))
			FAIL("free %d", i);
	nta_mt_cache_get_stats(c, &cs2);
	if (cs2.trims_undone - cs.trims_undone != 600)
		FAIL("600 trims: %llu undone", (unsigned long long)(cs2.trims_undone - cs.trims_undone));
	if (nta_mt_cache_drain(c) || in_use() || nta_mt_check(mt))
		FAIL("many trims: %llu in use", (unsigned long long)in_use());
	nta_mt_destroy(mt);

	/* Full area: parked tails are released for the allocation that needs them. */
	nta_destroy(nta);
	{
		NTA_OPTS(o, .cache_len = HOT);

		nta = nta_create(area, 16 * HOT, &o);
		mt = nta ? nta_mt_create(nta, NULL) : NULL;
		c = mt ? nta_mt_cache_create(mt) : NULL;
		if (!c)
			FAIL("create small area");
		for (int i = 0; i < 16; i++)
			if (nta_mt_alloc(c, HOT, &offs[i]) || nta_mt_trim(c, offs[i], HOT, offs[i], 64))
				FAIL("fill %d", i);
		if (nta_mt_get_stats(mt, &st) || st.nta.bytes_free || st.nta.bytes_cached)
			FAIL("the small area is not all parked");
		if (nta_mt_alloc(c, 1024, &off))
			FAIL("alloc against parked trims failed");
		if (nta_mt_free(c, off, 1024))
			FAIL("free");
		for (int i = 0; i < 16; i++)
			if (nta_mt_free(c, offs[i], 64))
				FAIL("kept %d", i);
		if (nta_mt_cache_drain(c) || in_use() || nta_mt_check(mt))
			FAIL("small area not empty");
		nta_mt_destroy(mt);
	}

	if (nta_check(nta))
		FAIL("nta_check");
	nta_destroy(nta);
	mt = NULL;
}

static uint64_t double_frees(void)
{
	struct nta_mt_stats st = { .sz = sizeof(st) };

	if (nta_mt_get_stats(mt, &st))
		FAIL("stats");
	return st.double_frees;
}

/* A region parked in a magazine is marked: freeing it again, whole or in
 * part, on its own cache or another, is refused at the call and counted, and
 * it never goes out twice. */
static void test_double_free(void)
{
	struct nta *nta = make_nta();
	struct nta_mt_cache *a, *b;
	uint64_t off, x, y, offs[3];

	mt = nta_mt_create(nta, NULL);
	a = mt ? nta_mt_cache_create(mt) : NULL;
	b = mt ? nta_mt_cache_create(mt) : NULL;
	if (!a || !b)
		FAIL("create: %s", strerror(errno));
	if (nta_mt_alloc(a, HOT, &off) || nta_mt_free(a, off, HOT))
		FAIL("alloc, free");
	if (nta_mt_free(a, off, HOT) != -EINVAL || double_frees() != 1)
		FAIL("second free of a parked region accepted");
	if (nta_mt_free(b, off, HOT) != -EINVAL || double_frees() != 2)
		FAIL("free of a region parked by another cache accepted");
	if (nta_mt_free(b, off + 256, 64) != -EINVAL || nta_mt_free(a, off + 32, HOT - 64) != -EINVAL ||
	    nta_mt_trim(b, off, HOT, off + 256, 64) != -EINVAL || double_frees() != 5)
		FAIL("free or trim inside a parked region accepted");
	if (nta_mt_alloc(a, HOT, &x) || nta_mt_alloc(a, HOT, &y) || x != off || y == off)
		FAIL("a parked region went out twice");
	/* A batch with the same region twice: the second is refused. */
	offs[0] = x;
	offs[1] = y;
	offs[2] = x;
	if (nta_mt_free_bulk(b, offs, 3, HOT) != 1 || double_frees() != 6)
		FAIL("free_bulk with a duplicate");
	if (nta_mt_cache_drain(a) || nta_mt_cache_drain(b) || nta_mt_check(mt))
		FAIL("drain or check after refused frees");
	nta_mt_destroy(mt);
	if (nta_check(nta) || nta_area_size(nta) == 0)
		FAIL("nta after the front");
	{
		struct nta_stats ns = { .sz = sizeof(ns) };

		if (nta_get_stats(nta, &ns) || ns.bytes_in_use)
			FAIL("bytes left in use after drain: %llu", (unsigned long long)ns.bytes_in_use);
	}
	nta_destroy(nta);
	mt = NULL;
}

/* A chunk that is not a power of two (ntad's --chunk-size 3072): regions are
 * longer than a window (2048) and may start anywhere in one, so a region can
 * overlap one parked in the window before or after its own. */
static void test_spill(void)
{
	struct nta *nta = make_nta();
	NTA_MT_OPTS(mo, .hot_len = 3072);
	struct nta_mt_cache *c;
	uint64_t offs[8], off;
	uint64_t before;

	mt = nta_mt_create(nta, &mo);
	c = mt ? nta_mt_cache_create(mt) : NULL;
	if (!c)
		FAIL("create with hot_len 3072: %s", strerror(errno));
	if (nta_mt_alloc_bulk(c, 3072, offs, 8) != 8)
		FAIL("alloc 8 regions of 3072");
	if (nta_mt_free(c, offs[0], 3072))
		FAIL("free");
	before = double_frees();
	/* the same region again; one starting a window later and one a window
	 * earlier, both overlapping it (ranges inside one page) */
	off = offs[0];
	if (nta_mt_free(c, off, 3072) != -EINVAL)
		FAIL("second free of a 3072-byte region accepted");
	if ((off & 4095) + 32 + 3072 <= 4096 && nta_mt_free(c, off + 32, 3072) != -EINVAL)
		FAIL("free overlapping a parked region from its window accepted");
	if (nta_mt_free(c, off + 1024, 1024) != -EINVAL)
		FAIL("free of part of a parked region accepted");
	if (double_frees() - before < 2)
		FAIL("refusals not counted");
	/* trims and their cancellation, across windows */
	if (nta_mt_trim(c, offs[1], 3072, offs[1] + 256, 1500) ||
	    nta_mt_free(c, offs[1] + 256, 1500) || nta_mt_trim(c, offs[2], 3072, offs[2] + 2560, 64) ||
	    nta_mt_free(c, offs[2] + 2560, 64))
		FAIL("trim and untrim of 3072-byte regions");
	for (int i = 3; i < 8; i++)
		if (nta_mt_free(c, offs[i], 3072))
			FAIL("free %d", i);
	if (nta_mt_cache_drain(c) || in_use() || nta_mt_check(mt))
		FAIL("hot_len 3072: %llu in use after drain", (unsigned long long)in_use());
	nta_mt_destroy(mt);
	if (nta_check(nta))
		FAIL("nta_check");
	nta_destroy(nta);
	mt = NULL;
}

int main(int argc, char **argv)
{
	unsigned int nthreads = argc > 1 ? (unsigned int)strtoul(argv[1], NULL, 0) : 4;
	uint64_t ops = argc > 2 ? strtoull(argv[2], NULL, 0) : DEF_OPS;
	uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 0) : 0x9e3779b97f4a7c15ull;
	struct nta_mt_stats st = { .sz = sizeof(st) };
	uint64_t allocs = 0, trims = 0, frees = 0, enomem = 0, undone = 0;
	struct worker *w;
	struct nta *nta;

	if (nthreads < 1 || nthreads > 64 || !ops)
		FAIL("usage: test_nta_mt [threads 1..64] [ops] [seed]");
	area = mmap(NULL, AREA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	owner = calloc(NBLOCKS, sizeof(*owner));
	w = calloc(nthreads, sizeof(*w));
	if (area == MAP_FAILED || !owner || !w)
		FAIL("out of memory");
	nta_set_print(NULL);

	test_api();
	test_trims();
	test_double_free();
	test_spill();
	printf("api: ok\n");

	nta = make_nta();
	mt = nta_mt_create(nta, NULL);
	if (!mt)
		FAIL("nta_mt_create: %s", strerror(errno));
	for (unsigned int i = 0; i < nthreads; i++) {
		w[i].index = i;
		w[i].ops = ops;
		w[i].seed = seed + 0x1000193ull * (i + 1);
		w[i].cache = nta_mt_cache_create(mt);
		if (!w[i].cache)
			FAIL("cache: %s", strerror(errno));
	}
	for (unsigned int i = 0; i < nthreads; i++)
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]))
			FAIL("pthread_create");
	for (unsigned int i = 0; i < nthreads; i++)
		pthread_join(w[i].tid, NULL);
	/* What is still in the hand-off list: freed here, by yet another thread. */
	{
		struct worker *last = &w[nthreads - 1];

		while (nr_handoff)
			op_take(last);
	}
	if (nta_mt_check(mt))
		FAIL("nta_mt_check with parked regions");
	for (unsigned int i = 0; i < nthreads; i++) {
		struct nta_mt_cache_stats cs;

		if (nta_mt_cache_drain(w[i].cache))
			FAIL("thread %u: a queued free was refused", i);
		nta_mt_cache_get_stats(w[i].cache, &cs);
		undone += cs.trims_undone;
		allocs += w[i].allocs;
		trims += w[i].trims;
		frees += w[i].frees;
		enomem += w[i].enomem;
	}
	if (nta_mt_get_stats(mt, &st))
		FAIL("stats");
	if (st.nta.bytes_in_use || st.bytes_parked || st.bytes_in_use)
		FAIL("bytes in use at the end: nta %llu, parked %llu", (unsigned long long)st.nta.bytes_in_use,
		     (unsigned long long)st.bytes_parked);
	for (uint64_t b = 0; b < NBLOCKS; b++)
		if (owner[b])
			FAIL("block %llu still owned by %u", (unsigned long long)b, owner[b]);
	if (nta_mt_check(mt))
		FAIL("nta_mt_check at the end");
	if (!cross_frees || !trims || !undone)
		FAIL("the run did no cross-thread frees (%llu), no trims (%llu) or cancelled none (%llu)",
		     (unsigned long long)cross_frees, (unsigned long long)trims, (unsigned long long)undone);
	printf("stress: %u threads x %llu ops: %llu allocs, %llu trims (%llu cancelled by their kept"
	       " part's free), %llu frees (%llu on another thread), %llu ENOMEM, %llu lock"
	       " acquisitions; 0 bytes in use, check ok\n",
	       nthreads, (unsigned long long)ops, (unsigned long long)allocs, (unsigned long long)trims,
	       (unsigned long long)undone, (unsigned long long)frees, (unsigned long long)cross_frees,
	       (unsigned long long)enomem, (unsigned long long)st.locks);
	nta_mt_destroy(mt);
	if (nta_check(nta))
		FAIL("nta_check after destroy");
	nta_destroy(nta);
	free(w);
	free(owner);
	munmap(area, AREA);
	return 0;
}
