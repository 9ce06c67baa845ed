// SPDX-License-Identifier: MIT
/*
 * test_nta_classes.c - size-class lists of pages and the non-empty bitmap
 * (classes.h, classes.c) on a zone built by hand, and the best fit in a page's
 * bitmap (nta_bm_fit) that an allocation uses once it has its page.
 *
 * Random pushes and unlinks against per-class reference counts check that
 * nta_class_find returns the smallest non-empty class >= want and
 * nta_class_largest the largest; nta_bm_fit is compared on random bitmaps with
 * a search of every run.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "check.h"

static void zone_make(struct nta_zone *z, uint32_t bpp, uint32_t npages)
{
	*z = (struct nta_zone){ .bpp = bpp, .npages = npages, .words = bpp / 64 };
	z->bits = calloc((size_t)npages * z->words, 8);
	z->lmax = calloc(npages, sizeof(*z->lmax));
	CHECK(nta_zone_classes_init(z) == 0);
}

static void zone_free(struct nta_zone *z)
{
	nta_zone_classes_fini(z);
	free(z->bits);
	free(z->lmax);
}

static void test_lists(uint32_t bpp)
{
	struct nta_zone z;
	uint32_t npages = 300, *cls, count[4096] = { 0 };

	zone_make(&z, bpp, npages);
	cls = calloc(npages, sizeof(*cls)); /* class of page p's slot-0 entry, 0: none */
	CHECK(nta_class_find(&z, 1) == 0 && nta_class_largest(&z) == 0);
	for (int step = 0; step < 20000; step++) {
		uint32_t p = (uint32_t)rand() % npages, want = 1 + (uint32_t)rand() % bpp;
		uint32_t exp = 0, largest = 0;

		if (cls[p]) {
			nta_class_unlink(&z, bpp + p, cls[p]);
			count[cls[p] - 1]--;
			cls[p] = 0;
		} else {
			/* bias towards few, far apart classes so searches skip words */
			cls[p] = rand() % 4 ? 1 + (uint32_t)rand() % bpp : bpp;
			nta_class_push(&z, bpp + p, cls[p]);
			count[cls[p] - 1]++;
		}
		for (uint32_t c = bpp; c >= 1; c--) {
			if (count[c - 1] && c >= want)
				exp = c;
			if (count[c - 1] && !largest)
				largest = c;
		}
		CHECK(nta_class_find(&z, want) == exp);
		CHECK(nta_class_largest(&z) == largest);
		if (failures)
			break;
	}
	/* lists hold exactly the pushed entries, in LIFO order per class */
	for (uint32_t c = 1; c <= bpp; c++) {
		uint32_t n = 0;

		for (uint32_t id = z.ents[c - 1].next; id != c - 1 && n <= npages; id = z.ents[id].next) {
			CHECK(id >= bpp && cls[id - bpp] == c);
			n++;
		}
		CHECK(n == count[c - 1]);
	}
	free(cls);
	zone_free(&z);
}

static void test_fit(uint32_t nbits)
{
	uint64_t bm[64];

	for (int step = 0; step < 20000; step++) {
		uint32_t want = 1 + (uint32_t)rand() % (step % 2 ? 8 : nbits), start, len, other;
		uint32_t bs = 0, bl = 0, largest = 0, x = 0;
		int density = rand() % 4;

		for (uint32_t w = 0; w < nbits / 64; w++) {
			bm[w] = (uint64_t)rand() << 33 ^ (uint64_t)rand() << 11 ^ (uint64_t)rand();
			if (density == 0)
				bm[w] &= (uint64_t)rand() << 32 | (uint64_t)rand();
			else if (density == 1)
				bm[w] = 0;
			else if (density == 2)
				bm[w] |= (uint64_t)rand() << 32 | (uint64_t)rand();
		}
		/* every run, the slow way */
		while (x < nbits) {
			uint32_t e = x;

			if ((bm[x >> 6] >> (x & 63)) & 1) {
				x++;
				continue;
			}
			while (e < nbits && !((bm[e >> 6] >> (e & 63)) & 1))
				e++;
			if (e - x >= want && (!bl || e - x < bl)) {
				bs = x;
				bl = e - x;
			}
			x = e;
		}
		x = 0;
		while (x < nbits) {
			uint32_t e = x;

			if ((bm[x >> 6] >> (x & 63)) & 1) {
				x++;
				continue;
			}
			while (e < nbits && !((bm[e >> 6] >> (e & 63)) & 1))
				e++;
			if (!(bl && x == bs) && e - x > largest)
				largest = e - x;
			x = e;
		}
		other = nta_bm_fit(bm, nbits, want, &start, &len);
		CHECK(len == bl && (!bl || start == bs) && other == largest,
		      "nbits %u want %u: run %u+%u, expected %u+%u; others' largest %u, expected %u",
		      nbits, want, start, len, bs, bl, other, largest);
		if (failures)
			break;
	}
}

int main(void)
{
	srand(3);
	test_lists(64);
	test_lists(128);
	test_lists(512);
	test_lists(4096);
	test_fit(64);
	test_fit(128);
	test_fit(512);
	test_fit(4096);
	return check_done("test_nta_classes");
}
