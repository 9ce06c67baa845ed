// SPDX-License-Identifier: MIT
/*
 * check.c - nta_check(): prove that tree, bitmaps, lists and cache agree.
 *
 * The bitmaps are the truth; every other structure is derived from them and is
 * checked against them:
 *   - the tree is a valid AVL tree holding every page, and a tree lookup of
 *     every page address gives the same page as the direct page array;
 *   - every class list is a well-formed circular list whose entries are the
 *     slots of maximal free runs of exactly that class's size, each listed once;
 *   - every maximal free run of every page is listed (counted: runs == entries);
 *   - non-empty bits, the summary word and the per-class counts match the lists;
 *   - region tables: a page has one exactly when it has a run in slot > 0;
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

/* Is [start, start + n) of bitmap bm a maximal free run of a bpp-block page? */
static bool is_run(const uint64_t *bm, uint32_t bpp, uint32_t start, uint32_t n)
{
	if (!n || start + n > bpp || nta_bm_any_set(bm, start, n))
		return false;
	if (start && !nta_bm_test(bm, start - 1))
		return false;
	return start + n == bpp || nta_bm_test(bm, start + n);
}

/* Lowest clear bit at or above x, or nbits. Loop bound: nbits / 64 words. */
static uint32_t next_clear(const uint64_t *bm, uint32_t x, uint32_t nbits)
{
	uint32_t w;
	uint64_t m;

	if (x >= nbits)
		return nbits;
	w = x >> 6;
	m = ~bm[w] & (~0ULL << (x & 63));
	while (!m) {
		if (++w == nbits / 64)
			return nbits;
		m = ~bm[w];
	}
	return w * 64 + (uint32_t)__builtin_ctzll(m);
}

static int check_zone(const struct nta_zone *z, unsigned int zi,
		      uint64_t *set_blocks)
{
	uint64_t nents = z->tables0 + ((uint64_t)z->ntables << z->spt_shift);
	uint64_t listed = 0, runs = 0, summary = 0;
	uint32_t *table_regions = NULL, tables_in_use = 0, free_tables = 0;
	uint64_t *seen;
	int err = 0;

	seen = calloc((nents + 63) / 64, 8);
	if (z->ntables)
		table_regions = calloc(z->ntables, sizeof(*table_regions));
	if (!seen || (z->ntables && !table_regions)) {
		free(seen);
		return -ENOMEM;
	}
	/* lists: bound per class by the number of entries, so a cycle ends */
	for (uint32_t c = 1; c <= z->bpp; c++) {
		uint32_t s = c - 1, prev = s, id = z->ents[s].next, n = 0;
		bool bit = (z->nonempty[s >> 6] >> (s & 63)) & 1;

		while (id != s) {
			uint32_t p, start;

			if (id < z->bpp || id >= nents || ++n > nents)
				FAIL("zone %u class %u: bad entry id %u", zi, c, id);
			if (z->ents[id].prev != prev)
				FAIL("zone %u class %u: entry %u prev %u, expected %u", zi, c, id,
				     z->ents[id].prev, prev);
			if (id >= z->tables0) {
				uint32_t t = (id - z->tables0) >> z->spt_shift;

				if (z->owner[t] == NTA_NIL || !((id - z->tables0) & (z->spt - 1)))
					FAIL("zone %u class %u: entry %u in a free table or slot 0",
					     zi, c, id);
				table_regions[t]++;
			}
			if ((seen[id >> 6] >> (id & 63)) & 1)
				FAIL("zone %u class %u: entry %u listed twice", zi, c, id);
			seen[id >> 6] |= 1ULL << (id & 63);
			nta_slot_decode(z, id, &p, &start);
			if (p >= z->npages ||
			    !is_run(z->bits + (size_t)p * z->words, z->bpp, start, c))
				FAIL("zone %u class %u: entry %u (page %u block %u) is not a free "
				     "run of %u blocks", zi, c, id, p, start, c);
			prev = id;
			id = z->ents[id].next;
		}
		if (z->ents[s].prev != prev)
			FAIL("zone %u class %u: sentinel prev %u, expected %u", zi, c,
			     z->ents[s].prev, prev);
		if (n != z->count[s] || bit != (n > 0))
			FAIL("zone %u class %u: %u listed, count %u, non-empty bit %d", zi, c, n,
			     z->count[s], bit);
		if (n)
			summary |= 1ULL << (s >> 6);
		listed += n;
	}
	if (summary != z->summary || listed != z->regions)
		FAIL("zone %u: summary 0x%llx expected 0x%llx, %llu listed, %llu counted", zi,
		     (unsigned long long)z->summary, (unsigned long long)summary,
		     (unsigned long long)listed, (unsigned long long)z->regions);
	/* pages: every free run listed, tables held exactly while needed */
	for (uint32_t p = 0; p < z->npages; p++) {
		const uint64_t *bm = z->bits + (size_t)p * z->words;
		uint32_t start = 0, in_table = 0;

		/* bound: runs of the page, at most bpp / 2 */
		while ((start = next_clear(bm, start, z->bpp)) < z->bpp) {
			uint32_t end = nta_bm_next_set(bm, start, z->bpp);

			runs++;
			if (start >> 1)
				in_table++;
			start = end;
		}
		if (z->nreg[p] != in_table || (z->tbl[p] != 0) != (in_table > 0))
			FAIL("zone %u page %u: %u runs need a table, nreg %u, table %u", zi, p,
			     in_table, z->nreg[p], z->tbl[p]);
		if (z->tbl[p] && (z->tbl[p] > z->ntables || z->owner[z->tbl[p] - 1] != p))
			FAIL("zone %u page %u: table %u not owned by it", zi, p, z->tbl[p]);
		if (z->tbl[p] && table_regions[z->tbl[p] - 1] != in_table)
			FAIL("zone %u page %u: %u regions listed in its table, %u runs", zi, p,
			     table_regions[z->tbl[p] - 1], in_table);
		*set_blocks += nta_bm_count(bm, z->words);
	}
	if (runs != listed)
		FAIL("zone %u: %llu free runs in the bitmaps, %llu listed", zi,
		     (unsigned long long)runs, (unsigned long long)listed);
	for (uint32_t t = 0; t < z->ntables; t++) {
		if (z->owner[t] == NTA_NIL)
			free_tables++;
		else if (z->owner[t] >= z->npages || z->tbl[z->owner[t]] != t + 1)
			FAIL("zone %u table %u: owner %u does not point back", zi, t, z->owner[t]);
		else
			tables_in_use++;
	}
	if (tables_in_use != z->tables_used || tables_in_use + free_tables != z->ntables)
		FAIL("zone %u: %u tables in use, %u free, %u counted, %u made", zi,
		     tables_in_use, free_tables, z->tables_used, z->ntables);
	/* the free-table list: bound by ntables */
	for (uint32_t t = z->free_table, n = 0; t != NTA_NIL; n++) {
		if (t >= z->ntables || n >= free_tables || z->owner[t] != NTA_NIL)
			FAIL("zone %u: free table list broken at %u", zi, t);
		t = z->ents[z->tables0 + (t << z->spt_shift)].next;
	}
out:
	free(seen);
	free(table_regions);
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
