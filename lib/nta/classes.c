// SPDX-License-Identifier: MIT
/*
 * classes.c - the storage behind the size-class lists: sentinels, one list
 * entry per page, the non-empty bitmap and the per-size region counts.
 *
 * The lists hold pages, not regions: a page is filed under the size of its
 * largest free run, and the run itself is found in the page's bitmap (at most
 * bpp / 64 words). A list of regions needs an entry per region, and a page can
 * hold bpp / 2 of them: 512 bytes of entries per 4 KiB page in the worst case,
 * 12.5 % of the area, which a free would have to allocate while it splits the
 * page's free space. One entry per page is 8 bytes, allocated here once, so
 * every later operation runs on memory sized at nta_create and a free can
 * never run out of metadata.
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
	z->nonempty = calloc(z->cwords, sizeof(*z->nonempty));
	z->count = calloc(nclasses, sizeof(*z->count));
	z->ents = malloc(sizeof(*z->ents) * ((size_t)nclasses + z->npages));
	if (!z->nonempty || !z->count || !z->ents) {
		nta_zone_classes_fini(z);
		return -ENOMEM;
	}
	for (uint32_t s = 0; s < nclasses; s++)
		z->ents[s].prev = z->ents[s].next = s;
	for (uint32_t i = 0; i < z->npages; i++)
		z->ents[nclasses + i].prev = z->ents[nclasses + i].next = NTA_NIL;
	return 0;
}

void nta_zone_classes_fini(struct nta_zone *z)
{
	free(z->nonempty);
	free(z->count);
	free(z->ents);
	z->nonempty = NULL;
	z->count = NULL;
	z->ents = NULL;
}

/* Bytes this zone holds outside the area: all of it allocated at creation. */
uint64_t nta_zone_meta_bytes(const struct nta_zone *z)
{
	uint64_t pages = (uint64_t)z->npages *
			 (z->words * 8 + sizeof(*z->lmax) + sizeof(struct nta_ent));
	uint64_t classes = z->cwords * 8 + (uint64_t)z->bpp * (sizeof(*z->count) +
							      sizeof(struct nta_ent));

	return pages + classes;
}
