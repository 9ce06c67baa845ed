// SPDX-License-Identifier: MIT
/*
 * bitmap.c - whole-bitmap queries on page bitmaps, for nta_check and tests.
 *
 * The per-operation bit work is inline in bitmap.h; what lives here walks a
 * whole page (count allocated blocks, count free runs), which only the checker
 * and statistics need, so it may cost a loop over the page's words.
 */
#include "internal.h"

/* Set bits in words words. Loop bound: words. */
uint32_t nta_bm_count(const uint64_t *bm, uint32_t words)
{
	uint32_t n = 0;

	for (uint32_t w = 0; w < words; w++)
		n += (uint32_t)__builtin_popcountll(bm[w]);
	return n;
}

/*
 * Maximal runs of clear bits in [0, nbits). A run starts at a clear bit whose
 * lower neighbour is set (or that is bit 0): count those with a shift that
 * carries the top bit of the previous word in. Loop bound: nbits / 64.
 */
uint32_t nta_bm_runs(const uint64_t *bm, uint32_t nbits)
{
	uint32_t n = 0;
	uint64_t carry = 1; /* "block -1" counts as allocated */

	for (uint32_t w = 0; w < nbits / 64; w++) {
		uint64_t freeb = ~bm[w];
		uint64_t prev_used = (bm[w] << 1) | carry;

		n += (uint32_t)__builtin_popcountll(freeb & prev_used);
		carry = bm[w] >> 63;
	}
	return n;
}
