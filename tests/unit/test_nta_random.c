// SPDX-License-Identifier: MIT
/*
 * test_nta_random.c - 10^6 random operations against a reference model.
 *
 * The model is an array of owners: owner[block] is the id of the
 * allocation holding that block, 0 when it is free from the caller's view (a
 * region parked in the front cache is free here: freeing it again must fail).
 * Every allocation writes a pattern derived from (id, offset) into the area; every
 * free verifies it on the freed bytes, so overlapping allocations or a free that
 * releases the wrong blocks show up as pattern damage. Operations: alloc of mixed
 * sizes (the 2048 hot size, small, page, jumbo), bulk alloc, free of whole, head,
 * tail and middle of an allocation, and random-range frees whose expected result
 * the model decides (mostly invalid: double frees, page crossing, unaligned).
 * nta_check() runs after every step with NTA_DEBUG, every 4096 otherwise.
 * Usage: test_nta_random [ops] [seed]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nta.h"

#define BLOCK 32
#define PAGE 4096
#define JPAGE 16384
#define NORMAL (32 * PAGE)
#define JUMBO (8 * JPAGE)
#define AREA (NORMAL + JUMBO)
#define NBLOCKS (AREA / BLOCK)

#if defined(NTA_DEBUG) && NTA_DEBUG
#define CHECK_EVERY 1
#else
#define CHECK_EVERY 4096
#endif

struct rec {
	uint64_t off;
	uint32_t nb, id;
};

static uint8_t area[AREA] __attribute__((aligned(4096)));
static uint32_t owner[NBLOCKS];
static struct rec recs[NBLOCKS];
static unsigned int nrecs;
static uint32_t next_id = 1;
static uint64_t rng_state;
static unsigned long step;
static uint64_t used_blocks; /* owned in the model, normal zone */

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

#define FAIL(...)                                                               \
	do {                                                                    \
		printf("step %lu: ", step);                                     \
		printf(__VA_ARGS__);                                            \
		printf("\n");                                                   \
		exit(1);                                                        \
	} while (0)

static uint8_t pattern(uint32_t id, uint64_t x)
{
	return (uint8_t)(id * 131u + (uint32_t)(x * 7u) + (uint32_t)(x >> 8));
}

static void fill(uint64_t off, uint32_t nb, uint32_t id)
{
	for (uint64_t x = off; x < off + (uint64_t)nb * BLOCK; x++)
		area[x] = pattern(id, x);
	for (uint32_t b = 0; b < nb; b++) {
		if (owner[off / BLOCK + b])
			FAIL("alloc at 0x%llx block %u already owned by %u",
			     (unsigned long long)off, b, owner[off / BLOCK + b]);
		owner[off / BLOCK + b] = id;
	}
	if (off < NORMAL)
		used_blocks += nb;
}

/* Verify and release blocks [off, off + nb) in the model. */
static void unfill(uint64_t off, uint32_t nb)
{
	for (uint32_t b = 0; b < nb; b++) {
		uint64_t blk = off / BLOCK + b;
		uint32_t id = owner[blk];

		for (uint64_t x = blk * BLOCK; x < (blk + 1) * BLOCK; x++)
			if (area[x] != pattern(id, x))
				FAIL("pattern damaged at 0x%llx (owner %u)", (unsigned long long)x, id);
		owner[blk] = 0;
	}
	if (off < NORMAL)
		used_blocks -= nb;
}

static uint32_t blocks(uint32_t len)
{
	return (len + BLOCK - 1) / BLOCK;
}

static void add_rec(uint64_t off, uint32_t nb, uint32_t id)
{
	recs[nrecs++] = (struct rec){ off, nb, id };
}

/* Records = maximal same-owner runs within a page; rebuilt after a random free. */
static void rebuild_recs(void)
{
	nrecs = 0;
	for (uint64_t b = 0; b < NBLOCKS;) {
		uint64_t page_end = b * BLOCK < NORMAL ? (b * BLOCK / PAGE + 1) * PAGE / BLOCK :
				    NORMAL / BLOCK + ((b * BLOCK - NORMAL) / JPAGE + 1) * JPAGE / BLOCK;
		uint64_t e = b + 1;

		if (!owner[b]) {
			b++;
			continue;
		}
		while (e < page_end && owner[e] == owner[b])
			e++;
		add_rec(b * BLOCK, (uint32_t)(e - b), owner[b]);
		b = e;
	}
}

static uint32_t pick_len(void)
{
	uint32_t r = rnd_below(100);

	if (r < 35)
		return 2048;
	if (r < 55)
		return 1 + rnd_below(64);
	if (r < 90)
		return 1 + rnd_below(1024);
	if (r < 95)
		return 1 + rnd_below(PAGE);
	return PAGE + 1 + rnd_below(JPAGE - PAGE);
}

/* Is there a free run of nb blocks inside one page of the zone for nb? */
static int model_fits(uint32_t nb)
{
	uint64_t lo = nb <= PAGE / BLOCK ? 0 : NORMAL, hi = nb <= PAGE / BLOCK ? NORMAL : AREA;
	uint32_t page = nb <= PAGE / BLOCK ? PAGE : JPAGE;

	for (uint64_t p = lo; p < hi; p += page) {
		uint32_t run = 0;

		for (uint64_t b = p / BLOCK; b < (p + page) / BLOCK; b++) {
			run = owner[b] ? 0 : run + 1;
			if (run >= nb)
				return 1;
		}
	}
	return 0;
}

static void do_alloc(struct nta *nta)
{
	uint32_t len = pick_len(), nb = blocks(len);
	static unsigned long enomem;
	uint64_t off;
	int err = nta_alloc(nta, len, &off);

	if (err == -ENOMEM) {
		/* the model check scans the area: sample it */
		if (!(enomem++ & 15) && model_fits(nb))
			FAIL("alloc %u: -ENOMEM but a free run of %u blocks exists", len, nb);
		return;
	}
	if (err)
		FAIL("alloc %u: %d", len, err);
	if (off % BLOCK || off + (uint64_t)nb * BLOCK > AREA)
		FAIL("alloc %u: bad offset 0x%llx", len, (unsigned long long)off);
	if ((nb <= PAGE / BLOCK) != (off < NORMAL))
		FAIL("alloc %u: offset 0x%llx in the wrong zone", len, (unsigned long long)off);
	fill(off, nb, next_id);
	add_rec(off, nb, next_id++);
}

static void do_bulk(struct nta *nta)
{
	uint64_t offs[16];
	unsigned int n = 1 + rnd_below(16);
	int got = nta_alloc_bulk(nta, 2048, offs, n);

	if (got < 0 || (unsigned int)got > n)
		FAIL("bulk %u: %d", n, got);
	for (int i = 0; i < got; i++) {
		fill(offs[i], 64, next_id);
		add_rec(offs[i], 64, next_id++);
	}
}

static void do_free(struct nta *nta)
{
	unsigned int i = rnd_below(nrecs);
	struct rec r = recs[i];
	uint32_t kind = rnd_below(5), h, t;
	int err;

	if (kind == 4 && r.nb > 1) { /* nta_trim: keep [h, nb - t), at least a block */
		uint32_t mid;

		h = rnd_below(r.nb);
		t = rnd_below(r.nb - h);
		mid = r.nb - h - t;
		unfill(r.off, h);
		unfill(r.off + (uint64_t)(h + mid) * BLOCK, t);
		err = nta_trim(nta, r.off, r.nb * BLOCK, r.off + (uint64_t)h * BLOCK,
			       mid * BLOCK - rnd_below(BLOCK));
		if (err)
			FAIL("trim 0x%llx+%u to [%u, +%u): %d", (unsigned long long)r.off, r.nb, h,
			     mid, err);
		recs[i].off += (uint64_t)h * BLOCK;
		recs[i].nb = mid;
		return;
	}
	if (kind == 4)
		kind = 0;

	h = kind == 1 || kind == 3 ? rnd_below(r.nb) : 0;
	t = kind == 2 || kind == 3 ? rnd_below(r.nb - h) : 0;
	if (kind == 0 || h + t == 0 || h + t >= r.nb) {
		/* whole */
		unfill(r.off, r.nb);
		err = nta_free(nta, r.off, r.nb * BLOCK - rnd_below(BLOCK));
		if (err)
			FAIL("free whole 0x%llx+%u: %d", (unsigned long long)r.off, r.nb, err);
		recs[i] = recs[--nrecs];
		return;
	}
	if (kind == 1) { /* head */
		unfill(r.off, h);
		err = nta_free(nta, r.off, h * BLOCK);
		recs[i].off += (uint64_t)h * BLOCK;
		recs[i].nb -= h;
	} else if (kind == 2) { /* tail */
		unfill(r.off + (uint64_t)(r.nb - t) * BLOCK, t);
		err = nta_free(nta, r.off + (uint64_t)(r.nb - t) * BLOCK, t * BLOCK);
		recs[i].nb -= t;
	} else { /* middle: [h, nb - t) stays split in two */
		uint32_t mid = r.nb - h - t;

		if (!h || !t) {
			unfill(r.off, r.nb);
			err = nta_free(nta, r.off, r.nb * BLOCK);
			recs[i] = recs[--nrecs];
			if (err)
				FAIL("free 0x%llx: %d", (unsigned long long)r.off, err);
			return;
		}
		unfill(r.off + (uint64_t)h * BLOCK, mid);
		err = nta_free(nta, r.off + (uint64_t)h * BLOCK, mid * BLOCK);
		recs[i].nb = h;
		add_rec(r.off + (uint64_t)(h + mid) * BLOCK, t, r.id);
	}
	if (err)
		FAIL("free part (kind %u) of 0x%llx+%u: %d", kind, (unsigned long long)r.off, r.nb,
		     err);
}

/* A random range: valid only if aligned, in the area, inside one page and owned. */
static void do_random_free(struct nta *nta)
{
	uint64_t off = rnd_below(AREA / BLOCK) * (uint64_t)BLOCK;
	uint32_t len = 1 + rnd_below(2 * PAGE), nb = blocks(len);
	int unaligned = !rnd_below(8), expect_ok = 1, err;
	uint64_t page_start, page_size;

	if (unaligned)
		off += 1 + rnd_below(BLOCK - 1);
	page_size = off < NORMAL ? PAGE : JPAGE;
	page_start = off < NORMAL ? off / PAGE * PAGE : NORMAL + (off - NORMAL) / JPAGE * JPAGE;
	if (unaligned || off - page_start + (uint64_t)nb * BLOCK > page_size)
		expect_ok = 0;
	for (uint32_t b = 0; expect_ok && b < nb; b++)
		if (!owner[off / BLOCK + b])
			expect_ok = 0;
	if (expect_ok)
		unfill(off, nb);
	err = nta_free(nta, off, len);
	if (expect_ok ? err != 0 : err != -EINVAL)
		FAIL("random free 0x%llx+%u: %d, expected %s", (unsigned long long)off, len, err,
		     expect_ok ? "0" : "-EINVAL");
	if (expect_ok)
		rebuild_recs();
}

int main(int argc, char **argv)
{
	unsigned long ops = argc > 1 ? strtoul(argv[1], NULL, 0) : 1000000;
	NTA_OPTS(o, .jumbo_size = JUMBO, .cache_size = 64);
	struct nta_stats st = { .sz = sizeof(st) };
	struct nta *nta;

	rng_state = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x6e7461;
	nta = nta_create(area, AREA, &o);
	if (!nta)
		FAIL("nta_create: %s", strerror(errno));
	for (step = 0; step < ops; step++) {
		uint32_t r = rnd_below(100);

		/* keep the normal zone around 60% full (small sizes never use the
		 * jumbo zone, so that is where pressure builds) */
		uint32_t pa = used_blocks < NORMAL / BLOCK * 6 / 10 ? 55 : 40;

		if (!nrecs || r < pa)
			do_alloc(nta);
		else if (r < pa + 5)
			do_bulk(nta);
		else if (r < 95)
			do_free(nta);
		else
			do_random_free(nta);
		if (!(step % CHECK_EVERY) && nta_check(nta))
			FAIL("nta_check failed");
	}
	if (nta_get_stats(nta, &st))
		FAIL("stats");
	printf("%lu ops: %llu allocs, %llu frees, %llu alloc failures, %u live regions\n", ops,
	       (unsigned long long)st.allocs, (unsigned long long)st.frees,
	       (unsigned long long)st.alloc_failures, nrecs);
	/* model and allocator agree on bytes in use */
	{
		uint64_t used = 0;

		for (uint64_t b = 0; b < NBLOCKS; b++) /* all zones */
			used += owner[b] != 0;
		if (used * BLOCK != st.bytes_in_use)
			FAIL("model has %llu bytes in use, nta %llu", (unsigned long long)(used * BLOCK),
			     (unsigned long long)st.bytes_in_use);
	}
	while (nrecs) {
		struct rec r = recs[--nrecs];

		unfill(r.off, r.nb);
		if (nta_free(nta, r.off, r.nb * BLOCK))
			FAIL("final free");
	}
	if (nta_check(nta) || nta_get_stats(nta, &st))
		FAIL("final check");
	if (st.bytes_in_use || st.bytes_free + st.bytes_cached != AREA)
		FAIL("after freeing everything: %llu in use, %llu free, %llu cached",
		     (unsigned long long)st.bytes_in_use, (unsigned long long)st.bytes_free,
		     (unsigned long long)st.bytes_cached);
	/* an alloc of a whole jumbo page and of every normal page must now succeed */
	for (int i = 0; i < AREA / JPAGE - NORMAL / JPAGE; i++) {
		uint64_t off;

		if (nta_alloc(nta, JPAGE, &off))
			FAIL("jumbo page %d not coalesced", i);
	}
	for (int i = 0; i < NORMAL / PAGE; i++) {
		uint64_t off;

		if (nta_alloc(nta, PAGE, &off))
			FAIL("page %d not coalesced", i);
	}
	if (nta_check(nta))
		FAIL("check after refill");
	nta_destroy(nta);
	printf("ok\n");
	return 0;
}
