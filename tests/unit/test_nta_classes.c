// SPDX-License-Identifier: MIT
/*
 * test_nta_classes.c - size-class lists, the non-empty bitmap and the region
 * table pool (classes.h, classes.c) on a zone built by hand.
 *
 * Random pushes and unlinks against per-class reference counts check that
 * nta_class_find returns the smallest non-empty class >= want and
 * nta_class_largest the largest; the table pool must grow in batches, reuse
 * returned tables LIFO and keep slot <-> (page, start) a bijection.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "check.h"

static void zone_make(struct nta_zone *z, uint32_t bpp, uint32_t npages)
{
	*z = (struct nta_zone){ .bpp = bpp, .npages = npages, .words = bpp / 64 };
	z->bits = calloc((size_t)npages * z->words, 8);
	z->tbl = calloc(npages, sizeof(*z->tbl));
	z->nreg = calloc(npages, sizeof(*z->nreg));
	CHECK(nta_zone_classes_init(z) == 0);
}

static void zone_free(struct nta_zone *z)
{
	nta_zone_classes_fini(z);
	free(z->bits);
	free(z->tbl);
	free(z->nreg);
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
		CHECK(n == count[c - 1] && z.count[c - 1] == n);
	}
	free(cls);
	zone_free(&z);
}

static void test_tables(void)
{
	struct nta_zone z;
	uint32_t npages = 1000;

	zone_make(&z, 128, npages);
	for (uint32_t p = 0; p < npages; p++)
		CHECK(nta_table_get(&z, p) == 0 && z.tbl[p] == p + 1);
	CHECK(z.ntables == npages && z.cap_tables >= npages && z.tables_used == npages);
	/* slot <-> (page, start): starts 2k and 2k + 1 (block 2k allocated) */
	for (uint32_t p = 0; p < npages; p += 97) {
		for (uint32_t start = 0; start < 128; start++) {
			uint64_t *bm = z.bits + (size_t)p * z.words;
			uint32_t id, dp, ds;

			bm[0] = bm[1] = 0;
			if (start & 1)
				nta_bm_set(bm, start - 1, 1);
			id = nta_slot(&z, p, start);
			nta_slot_decode(&z, id, &dp, &ds);
			CHECK(dp == p && ds == start);
			CHECK((start >> 1) ? id >= z.tables0 : id == z.bpp + p);
		}
	}
	nta_table_put(&z, 10);
	nta_table_put(&z, 20);
	CHECK(z.tbl[10] == 0 && z.owner[10] == NTA_NIL && z.tables_used == npages - 2);
	CHECK(nta_table_get(&z, 10) == 0 && z.tbl[10] == 21); /* LIFO: table 20 first */
	CHECK(nta_table_get(&z, 20) == 0 && z.tbl[20] == 11);
	CHECK(z.owner[20] == 10 && z.owner[10] == 20);
	CHECK(z.ntables == npages);
	CHECK(nta_zone_meta_bytes(&z) > (uint64_t)npages * 64 * 8);
	zone_free(&z);
}

int main(void)
{
	srand(3);
	test_lists(64);
	test_lists(128);
	test_lists(512);
	test_lists(4096);
	test_tables();
	return check_done("test_nta_classes");
}
