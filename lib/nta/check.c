// SPDX-License-Identifier: MIT
/*
 * check.c - nta_check(): prove that tree, bitmaps, lists and cache agree.
 *
 * The bitmaps are the truth; every other structure is derived from them and is
 * checked against them:
 *   - the tree is a valid AVL tree holding every page, and a tree lookup of
 *     every page address gives the same page as the direct page array;
 *   - every class list is a well-formed circular list of pages whose largest
 *     free run (lmax) is exactly that class's size, each page listed once;
 *   - every page's lmax is its largest free run in the bitmap, and a page is
 *     listed exactly when it has a free block;
 *   - non-empty bits and the summary word match the lists; the free-run counts
 *     per size (statistics) match the runs in the bitmaps;
 *   - the front cache holds distinct, aligned, allocated regions, marked in
 *     cache_bits but for the magazine's top (which is not), and the blocks
 *     set in the bitmaps are set_blocks (caller blocks + cached blocks).
 * It reports the first inconsistency through the print callback. It is a full
 * walk (O(area)), meant for tests and debug builds, not for the data path.
 */
#include <stdlib.h>

#include "internal.h"

#define FAIL(...)                                                               \
	do {                                                                    \
		nta_report(__VA_ARGS__);                                        \
		err = -EUCLEAN;                                                 \
		goto out;                                                       \
	} while (0)

static int check_zone(const struct nta_zone *z, unsigned int zi, uint64_t *set_blocks)
{
	uint64_t *count = calloc(z->bpp, sizeof(*count)), *seen;
	uint64_t runs = 0, summary = 0;
	int err = 0;

	seen = calloc((z->npages + 63) / 64, 8);
	if (!count || !seen) {
		free(count);
		free(seen);
		return -ENOMEM;
	}
	/* lists: bound per class by the number of pages, so a cycle ends */
	for (uint32_t c = 1; c <= z->bpp; c++) {
		uint32_t s = c - 1, prev = s, id = z->ents[s].next, n = 0;
		bool bit = (z->nonempty[s >> 6] >> (s & 63)) & 1;

		while (id != s) {
			uint32_t p = id - z->bpp;

			if (id < z->bpp || p >= z->npages || ++n > z->npages)
				FAIL("zone %u class %u: bad entry id %u", zi, c, id);
			if (z->ents[id].prev != prev)
				FAIL("zone %u class %u: entry %u prev %u, expected %u", zi, c, id,
				     z->ents[id].prev, prev);
			if ((seen[p >> 6] >> (p & 63)) & 1)
				FAIL("zone %u class %u: page %u listed twice", zi, c, p);
			seen[p >> 6] |= 1ULL << (p & 63);
			if (z->lmax[p] != c)
				FAIL("zone %u class %u: page %u listed, its lmax is %u", zi, c, p,
				     z->lmax[p]);
			prev = id;
			id = z->ents[id].next;
		}
		if (z->ents[s].prev != prev)
			FAIL("zone %u class %u: sentinel prev %u, expected %u", zi, c,
			     z->ents[s].prev, prev);
		if (bit != (n > 0))
			FAIL("zone %u class %u: %u listed, non-empty bit %d", zi, c, n, bit);
		if (n)
			summary |= 1ULL << (s >> 6);
	}
	if (summary != z->summary)
		FAIL("zone %u: summary 0x%llx expected 0x%llx", zi, (unsigned long long)z->summary,
		     (unsigned long long)summary);
	/* pages: lmax is the largest free run, listed exactly when there is one */
	for (uint32_t p = 0; p < z->npages; p++) {
		const uint64_t *bm = z->bits + (size_t)p * z->words;
		uint32_t start = 0, largest = 0;

		/* bound: runs of the page, at most bpp / 2 */
		while ((start = nta_bm_next_clear(bm, start, z->bpp)) < z->bpp) {
			uint32_t end = nta_bm_next_set(bm, start, z->bpp);

			runs++;
			count[end - start - 1]++;
			if (end - start > largest)
				largest = end - start;
			start = end;
		}
		if (z->lmax[p] != largest || ((seen[p >> 6] >> (p & 63)) & 1) != (largest > 0))
			FAIL("zone %u page %u: largest free run %u, lmax %u, %slisted", zi, p, largest,
			     z->lmax[p], (seen[p >> 6] >> (p & 63)) & 1 ? "" : "not ");
		*set_blocks += nta_bm_count(bm, z->words);
	}
	if (runs != z->regions)
		FAIL("zone %u: %llu free runs in the bitmaps, %llu counted", zi,
		     (unsigned long long)runs, (unsigned long long)z->regions);
	for (uint32_t c = 1; c <= z->bpp; c++)
		if (count[c - 1] != z->count[c - 1])
			FAIL("zone %u: %llu free runs of %u blocks, %llu counted", zi,
			     (unsigned long long)count[c - 1], c,
			     (unsigned long long)z->count[c - 1]);
out:
	free(seen);
	free(count);
	return err;
}

static int check_tree(const struct nta *nta)
{
	char why[160];
	int err = 0;

	if (nta_tree_verify(&nta->tree, why, sizeof(why)))
		FAIL("%s", why);
	if (nta->tree.n != nta->tree.cap)
		FAIL("tree: %u nodes for %u pages", nta->tree.n, nta->tree.cap);
	/* bound: pages; the direct array (node = node0 + page) against the tree */
	for (unsigned int zi = 0; zi < nta->nzones; zi++) {
		const struct nta_zone *z = &nta->zone[zi];

		for (uint32_t p = 0; p < z->npages; p++) {
			uint64_t key = z->base + ((uint64_t)p << z->page_shift);
			uint32_t node = nta_tree_lookup(&nta->tree, key);

			if (node != z->node0 + p)
				FAIL("tree: page at 0x%llx found as node %u, direct array says %u",
				     (unsigned long long)key, node, z->node0 + p);
		}
	}
out:
	return err;
}

static int check_cache(const struct nta *nta)
{
	const struct nta_zone *z = &nta->zone[0];
	uint64_t marked;
	int err = 0;

	if (!nta->cache_bits)
		return nta->mag_n ? -EUCLEAN : 0;
	marked = nta_bm_count(nta->cache_bits, nta->cache_words);
	/* every held region but the top is marked (nta_cache_held) */
	if (marked != (nta->mag_n ? nta->mag_n - 1 : 0) || nta->mag_n > nta->mag_cap)
		FAIL("cache: %u regions held, %llu marked", nta->mag_n,
		     (unsigned long long)marked);
	/* bound: mag_n; distinct because each but the top is marked, marks ==
	 * their count, and the top is not marked */
	for (uint32_t i = 0; i < nta->mag_n; i++) {
		uint64_t off = nta->mag[i], c = off >> nta->cache_shift;
		uint32_t p = (uint32_t)(off >> z->page_shift);
		uint32_t b = (uint32_t)((off & ((1ULL << z->page_shift) - 1)) >> nta->block_shift);

		if ((off & (nta->cache_len - 1)) || off >= z->size ||
		    !(*nta_cache_word(nta, c) & nta_cache_bit(c)) != (i == nta->mag_n - 1) ||
		    !nta_bm_all_set(z->bits + (size_t)p * z->words, b, nta->cache_blocks))
			FAIL("cache: region %u at 0x%llx is unaligned, not allocated, or marked "
			     "though the top or unmarked though below it",
			     i, (unsigned long long)off);
	}
out:
	return err;
}

int nta_check(const struct nta *nta)
{
	uint64_t set_blocks = 0;
	int err;

	if (!nta)
		return -EINVAL;
	err = check_tree(nta);
	for (unsigned int zi = 0; !err && zi < nta->nzones; zi++)
		err = check_zone(&nta->zone[zi], zi, &set_blocks);
	if (!err)
		err = check_cache(nta);
	if (!err && set_blocks != nta->set_blocks) {
		nta_report("%llu blocks allocated in the bitmaps, %llu counted (in use + %u cached regions)",
			   (unsigned long long)set_blocks, (unsigned long long)nta->set_blocks,
			   nta->mag_n);
		err = -EUCLEAN;
	}
	return err;
}
