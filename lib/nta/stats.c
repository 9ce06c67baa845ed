// SPDX-License-Identifier: MIT
/*
 * stats.c - nta_get_stats() and the metadata accounting.
 *
 * Everything here is read from counters the hot paths keep anyway (blocks in
 * use, regions per class, the non-empty bitmaps), so statistics cost O(classes),
 * never a walk of the area. Metadata is counted from the capacities nta_create
 * allocated; nothing is allocated after it, so the figure is also the peak.
 */
#include <string.h>

#include "internal.h"

uint64_t nta_meta_bytes(const struct nta *nta)
{
	uint64_t n = sizeof(*nta);
	uint64_t pages = nta->tree.cap;

	n += pages * (sizeof(*nta->tree.left) + sizeof(*nta->tree.right) + sizeof(*nta->tree.bal));
	for (unsigned int i = 0; i < nta->nzones; i++)
		n += nta_zone_meta_bytes(&nta->zone[i]);
	if (nta->cache_bits)
		n += (uint64_t)nta->cache_words * sizeof(*nta->cache_bits) +
		     (uint64_t)nta->mag_cap * sizeof(*nta->mag);
	return n;
}

int nta_get_stats(const struct nta *nta, struct nta_stats *st)
{
	struct nta_stats s;
	size_t sz;

	if (!nta || !st || st->sz < offsetof(struct nta_stats, bytes_cached))
		return -EINVAL;
	sz = st->sz < sizeof(s) ? st->sz : sizeof(s);
	memset(&s, 0, sizeof(s));
	s.area_size = nta->size;
	s.bytes_cached = (uint64_t)nta->mag_n * nta->cache_len;
	s.bytes_in_use = (nta->set_blocks << nta->block_shift) - s.bytes_cached;
	s.bytes_free = nta->size - s.bytes_in_use - s.bytes_cached;
	s.metadata_bytes = nta_meta_bytes(nta);
	s.metadata_fixed = nta->meta_fixed;
	s.allocs = nta->allocs;
	s.frees = nta_stats_frees(nta);
	s.alloc_failures = nta->failures;
	/* bound: zones x classes */
	for (unsigned int i = 0; i < nta->nzones; i++) {
		const struct nta_zone *z = &nta->zone[i];
		uint64_t largest = (uint64_t)nta_class_largest(z) << nta->block_shift;

		if (largest > s.largest_free)
			s.largest_free = largest;
		s.free_regions += z->regions;
		for (uint32_t c = 1; c <= z->bpp && c <= NTA_MAX_CLASSES; c++)
			s.class_regions[c - 1] += (uint32_t)z->count[c - 1];
	}
	/* a cached region comes back on the next alloc of its size or a flush */
	if (nta->mag_n && s.largest_free < nta->cache_len)
		s.largest_free = nta->cache_len;
	s.sz = st->sz;
	memcpy(st, &s, sz);
	return 0;
}
