// SPDX-License-Identifier: MIT
/*
 * classes.c - the storage behind the size-class lists: sentinels, list entries
 * and the pool of region tables.
 *
 * The seed's doubly-linked variant needs a direct link from a free region to its
 * list entry. A page can hold up to bpp / 2 free regions, and a full table of
 * entries per page (bpp / 2 * 8 bytes, 12.5% of a 4 KiB page with 32-byte
 * blocks) would blow the 1% metadata budget, while most pages hold one free
 * region or none. So every page owns only the entry of its region at block 0/1
 * (the common whole-page or head region), and borrows a table for the others
 * from a pool while it has any. The pool grows in batches (one realloc per 64 or
 * more tables), never shrinks, and hands tables out LIFO from a free list
 * threaded through each free table's slot 0, which a table never uses.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int nta_zone_classes_init(struct nta_zone *z)
{
	uint32_t nclasses = z->bpp;

	z->cwords = (nclasses + 63) / 64;
	z->summary = 0;
	z->regions = 0;
	z->spt = z->bpp / 2;
	z->spt_shift = (uint32_t)__builtin_ctz(z->spt);
	z->tables0 = nclasses + z->npages;
	z->ntables = z->cap_tables = z->tables_used = 0;
	z->free_table = NTA_NIL;
	z->owner = NULL;
	z->nonempty = calloc(z->cwords, sizeof(*z->nonempty));
	z->count = calloc(nclasses, sizeof(*z->count));
	z->ents = malloc(sizeof(*z->ents) * z->tables0);
	if (!z->nonempty || !z->count || !z->ents) {
		nta_zone_classes_fini(z);
		return -ENOMEM;
	}
	for (uint32_t s = 0; s < nclasses; s++)
		z->ents[s].prev = z->ents[s].next = s;
	for (uint32_t i = nclasses; i < z->tables0; i++)
		z->ents[i].prev = z->ents[i].next = NTA_NIL;
	return 0;
}

void nta_zone_classes_fini(struct nta_zone *z)
{
	free(z->nonempty);
	free(z->count);
	free(z->ents);
	free(z->owner);
	z->nonempty = NULL;
	z->count = NULL;
	z->ents = NULL;
	z->owner = NULL;
}

/* Grow the pool by a batch of tables. Nothing changes on failure. */
static int tables_grow(struct nta_zone *z)
{
	uint32_t add = z->cap_tables / 2 > 64 ? z->cap_tables / 2 : 64;
	uint64_t ncap = (uint64_t)z->cap_tables + add;
	uint64_t nents = z->tables0 + (ncap << z->spt_shift);
	struct nta_ent *ents;
	uint32_t *owner;

	if (nents >= NTA_NIL)
		return -ENOMEM;
	owner = realloc(z->owner, sizeof(*owner) * ncap);
	if (!owner)
		return -ENOMEM;
	z->owner = owner;
	ents = realloc(z->ents, sizeof(*ents) * nents);
	if (!ents)
		return -ENOMEM;
	z->ents = ents;
	z->cap_tables = (uint32_t)ncap;
	return 0;
}

/* Give page a region table (it has none). O(1) amortised: a batch grow copies
 * the pool once per 64 or more tables. */
int nta_table_get(struct nta_zone *z, uint32_t page)
{
	uint32_t t;

	nta_assert(!z->tbl[page] && !z->nreg[page]);
	if (z->free_table != NTA_NIL) {
		t = z->free_table;
		z->free_table = z->ents[z->tables0 + (t << z->spt_shift)].next;
	} else {
		if (z->ntables == z->cap_tables) {
			int err = tables_grow(z);

			if (err)
				return err;
		}
		t = z->ntables++;
	}
	z->owner[t] = page;
	z->tbl[page] = t + 1;
	z->tables_used++;
#if defined(NTA_DEBUG) && NTA_DEBUG
	for (uint32_t k = 0; k < z->spt; k++)
		z->ents[z->tables0 + (t << z->spt_shift) + k] = (struct nta_ent){ NTA_NIL, NTA_NIL };
#endif
	return 0;
}

/* Return page's table to the pool; the page has no region in it any more. */
void nta_table_put(struct nta_zone *z, uint32_t page)
{
	uint32_t t = z->tbl[page] - 1;

	nta_assert(z->tbl[page] && !z->nreg[page]);
	z->owner[t] = NTA_NIL;
	z->ents[z->tables0 + (t << z->spt_shift)].next = z->free_table;
	z->free_table = t;
	z->tbl[page] = 0;
	z->tables_used--;
}

/* Bytes this zone holds outside the area. */
uint64_t nta_zone_meta_bytes(const struct nta_zone *z)
{
	uint64_t pages = (uint64_t)z->npages *
			 (z->words * 8 + sizeof(*z->tbl) + sizeof(*z->nreg));
	uint64_t classes = z->cwords * 8 + (uint64_t)z->bpp * sizeof(*z->count);
	uint64_t ents = (z->tables0 + ((uint64_t)z->cap_tables << z->spt_shift)) *
			sizeof(struct nta_ent);

	return pages + classes + ents + (uint64_t)z->cap_tables * sizeof(*z->owner);
}
