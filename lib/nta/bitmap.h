/* SPDX-License-Identifier: MIT */
/*
 * bitmap.h - block bitmaps of one page, the truth about what is allocated.
 *
 * Bit i set = block i allocated (to a caller or to the front cache). A page has a
 * power of two >= 64 blocks, so its bitmap is whole u64 words. The hot paths
 * (validate a free, mark a range, find the neighbouring runs) are inline because
 * they run a few times per packet; each works on single words with masks and
 * ctz/clz, and every loop is bounded by the words of one page (bpp / 64).
 */
#ifndef NTA_BITMAP_H
#define NTA_BITMAP_H

#include <stdbool.h>
#include <stdint.h>

static inline bool nta_bm_test(const uint64_t *bm, uint32_t i)
{
	return (bm[i >> 6] >> (i & 63)) & 1;
}

/* Bits [lo, hi) of one word, 0 <= lo < hi <= 64. */
static inline uint64_t nta_bm_mask(uint32_t lo, uint32_t hi)
{
	uint64_t m = hi == 64 ? ~0ULL : (1ULL << hi) - 1;

	return m & (~0ULL << lo);
}

/*
 * Apply op to bits [b, b + n), n > 0: 0 test all set, 1 test any set, 2 set,
 * 3 clear. One helper keeps the word-splitting logic in one place; op is a
 * constant at every call site, so the compiler drops the other branches.
 * Loop bound: the words the range covers, at most one page's words.
 */
static inline bool nta_bm_range(uint64_t *bm, uint32_t b, uint32_t n, int op)
{
	uint32_t e = b + n - 1, w = b >> 6, we = e >> 6;
	uint32_t lo = b & 63;

	for (;; w++, lo = 0) {
		uint64_t m = nta_bm_mask(lo, w == we ? (e & 63) + 1 : 64);

		switch (op) {
		case 0: if ((bm[w] & m) != m) return false; break;
		case 1: if (bm[w] & m) return true; break;
		case 2: bm[w] |= m; break;
		default: bm[w] &= ~m; break;
		}
		if (w == we)
			return op != 1;
	}
}

static inline bool nta_bm_all_set(const uint64_t *bm, uint32_t b, uint32_t n)
{
	return nta_bm_range((uint64_t *)(uintptr_t)bm, b, n, 0);
}

static inline bool nta_bm_any_set(const uint64_t *bm, uint32_t b, uint32_t n)
{
	return nta_bm_range((uint64_t *)(uintptr_t)bm, b, n, 1);
}

static inline void nta_bm_set(uint64_t *bm, uint32_t b, uint32_t n)
{
	nta_bm_range(bm, b, n, 2);
}

static inline void nta_bm_clear(uint64_t *bm, uint32_t b, uint32_t n)
{
	nta_bm_range(bm, b, n, 3);
}

/* Highest set bit below x, or -1. Loop bound: the words below x. */
static inline int32_t nta_bm_prev_set(const uint64_t *bm, uint32_t x)
{
	int32_t w;
	uint64_t m;

	if (!x)
		return -1;
	w = (int32_t)((x - 1) >> 6);
	m = bm[w] & (~0ULL >> (63 - ((x - 1) & 63)));
	while (!m) {
		if (--w < 0)
			return -1;
		m = bm[w];
	}
	return w * 64 + 63 - __builtin_clzll(m);
}

/* Lowest bit at or above x that differs from flip's (0: set bits, ~0: clear
 * ones), or nbits (a multiple of 64). Loop bound: the words from x to nbits. */
static inline uint32_t nta_bm_next(const uint64_t *bm, uint32_t x, uint32_t nbits, uint64_t flip)
{
	uint32_t w, nw = nbits >> 6;
	uint64_t m;

	if (x >= nbits)
		return nbits;
	w = x >> 6;
	m = (bm[w] ^ flip) & (~0ULL << (x & 63));
	while (!m) {
		if (++w == nw)
			return nbits;
		m = bm[w] ^ flip;
	}
	return w * 64 + (uint32_t)__builtin_ctzll(m);
}

static inline uint32_t nta_bm_next_set(const uint64_t *bm, uint32_t x, uint32_t nbits)
{
	return nta_bm_next(bm, x, nbits, 0);
}

static inline uint32_t nta_bm_next_clear(const uint64_t *bm, uint32_t x, uint32_t nbits)
{
	return nta_bm_next(bm, x, nbits, ~0ULL);
}

/*
 * The best fit for want blocks in a page of nbits blocks: the shortest free run
 * of at least want blocks, at *start, *len (*len 0: none). Returns the longest
 * of the page's other free runs, which is what the page's largest run becomes
 * once that one is cut. Loop bound: the page's free runs, at most nbits / 2.
 */
static inline uint32_t nta_bm_fit(const uint64_t *bm, uint32_t nbits, uint32_t want,
				  uint32_t *start, uint32_t *len)
{
	uint32_t x = 0, other = 0, bs = 0, bl = 0;

	while ((x = nta_bm_next_clear(bm, x, nbits)) < nbits) {
		uint32_t e = nta_bm_next_set(bm, x, nbits), l = e - x;

		if (l >= want && (!bl || l < bl)) {
			if (bl > other)
				other = bl;
			bs = x;
			bl = l;
		} else if (l > other) {
			other = l;
		}
		x = e;
	}
	*start = bs;
	*len = bl;
	return other;
}

#endif /* NTA_BITMAP_H */
