// SPDX-License-Identifier: MIT
/*
 * test_nta_bitmap.c - page bitmap operations (bitmap.h, bitmap.c) against a
 * bit-by-bit reference, for one-word-crossing and multi-word pages, every
 * range and random contents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "check.h"

static uint64_t rnd64(void)
{
	return ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^ (uint64_t)rand();
}

static int bit(const uint64_t *bm, uint32_t i)
{
	return (bm[i / 64] >> (i % 64)) & 1;
}

static void one(uint32_t nbits, int density)
{
	uint64_t bm[8], copy[8];
	uint32_t words = nbits / 64, runs = 0, count = 0;

	for (uint32_t w = 0; w < words; w++) {
		bm[w] = rnd64();
		if (density < 0)
			bm[w] &= rnd64() & rnd64(); /* sparse */
		if (density > 0)
			bm[w] |= rnd64() | rnd64(); /* dense */
	}
	for (uint32_t i = 0; i < nbits; i++) {
		count += bit(bm, i);
		runs += !bit(bm, i) && (i == 0 || bit(bm, i - 1));
	}
	CHECK(nta_bm_count(bm, words) == count);
	CHECK(nta_bm_runs(bm, nbits) == runs);
	for (uint32_t x = 0; x <= nbits; x++) {
		int32_t prev = -1;
		uint32_t next = nbits;

		for (uint32_t i = 0; i < x; i++)
			if (bit(bm, i))
				prev = (int32_t)i;
		for (uint32_t i = nbits; i-- > x;)
			if (bit(bm, i))
				next = i;
		CHECK(nta_bm_prev_set(bm, x) == prev);
		CHECK(nta_bm_next_set(bm, x, nbits) == next);
	}
	for (uint32_t b = 0; b < nbits; b++) {
		for (uint32_t n = 1; b + n <= nbits; n++) {
			int all = 1, any = 0;

			for (uint32_t i = b; i < b + n; i++) {
				all &= bit(bm, i);
				any |= bit(bm, i);
			}
			CHECK(nta_bm_all_set(bm, b, n) == all);
			CHECK(nta_bm_any_set(bm, b, n) == any);
			if ((b * 7 + n) % 13)
				continue; /* set/clear on a sample of ranges */
			memcpy(copy, bm, sizeof(bm));
			nta_bm_set(copy, b, n);
			for (uint32_t i = 0; i < nbits; i++)
				CHECK(bit(copy, i) == ((i >= b && i < b + n) ? 1 : bit(bm, i)));
			nta_bm_clear(copy, b, n);
			for (uint32_t i = 0; i < nbits; i++)
				CHECK(bit(copy, i) == ((i >= b && i < b + n) ? 0 : bit(bm, i)));
		}
	}
}

int main(void)
{
	uint64_t empty[2] = { 0, 0 }, full[2] = { ~0ULL, ~0ULL };

	srand(11);
	if (nta_bm_prev_set(empty, 128) != -1 || nta_bm_next_set(empty, 0, 128) != 128 ||
	    nta_bm_runs(empty, 128) != 1 || nta_bm_runs(full, 128) != 0 ||
	    nta_bm_prev_set(full, 0) != -1 || nta_bm_next_set(full, 128, 128) != 128) {
		printf("empty/full bitmaps wrong\n");
		return 1;
	}
	for (int r = 0; r < 20; r++) {
		one(64, r % 3 - 1);
		one(128, r % 3 - 1);
	}
	for (int r = 0; r < 3; r++)
		one(512, r - 1);
	return check_done("test_nta_bitmap");
}
