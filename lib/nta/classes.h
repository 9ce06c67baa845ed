/* SPDX-License-Identifier: MIT */
/*
 * classes.h - size-class lists of pages, the hot half of classes.c.
 *
 * Class c of a zone is a circular doubly-linked list of the pages whose largest
 * free run is exactly c blocks, threaded through u32 entry ids with a sentinel
 * per class, so push and unlink are a handful of stores with no branch on list
 * ends. A two-level bitmap of non-empty classes (64 summary bits over at most 64
 * words) turns "this class or the next non-empty larger one" into two ctz. A
 * page is in at most one list, through its own entry, so the direct link from a
 * page to its list entry is the page number and needs no storage that depends
 * on how its free space is cut up.
 */
#ifndef NTA_CLASSES_H
#define NTA_CLASSES_H

static inline void nta_class_push(struct nta_zone *z, uint32_t id, uint32_t c)
{
	struct nta_ent *e = z->ents;
	uint32_t s = c - 1, n = e[s].next;

	e[id].prev = s;
	e[id].next = n;
	e[n].prev = id;
	e[s].next = id;
	z->nonempty[s >> 6] |= 1ULL << (s & 63);
	z->summary |= 1ULL << (s >> 6);
}

static inline void nta_class_unlink(struct nta_zone *z, uint32_t id, uint32_t c)
{
	struct nta_ent *e = z->ents;
	uint32_t s = c - 1, p = e[id].prev, n = e[id].next;

	e[p].next = n;
	e[n].prev = p;
#if defined(NTA_DEBUG) && NTA_DEBUG
	e[id].prev = e[id].next = NTA_NIL;
#endif
	if (e[s].next == s) {
		z->nonempty[s >> 6] &= ~(1ULL << (s & 63));
		if (!z->nonempty[s >> 6])
			z->summary &= ~(1ULL << (s >> 6));
	}
}

/* File page p under its new largest free run m (0: no free block, unlisted). */
static inline void nta_page_file(struct nta_zone *z, uint32_t p, uint32_t m)
{
	uint32_t old = z->lmax[p];

	if (old == m)
		return;
	if (old)
		nta_class_unlink(z, z->bpp + p, old);
	if (m)
		nta_class_push(z, z->bpp + p, m);
	z->lmax[p] = (uint16_t)m;
}

/* Statistics only: free regions by size (count[n - 1]) and in all. */
static inline void nta_region_add(struct nta_zone *z, uint32_t n)
{
	z->count[n - 1]++;
	z->regions++;
}

static inline void nta_region_del(struct nta_zone *z, uint32_t n)
{
	z->count[n - 1]--;
	z->regions--;
}

/* The smallest non-empty class >= want (1..bpp), or 0 if there is none. */
static inline uint32_t nta_class_find(const struct nta_zone *z, uint32_t want)
{
	uint32_t i = want - 1, w = i >> 6;
	uint64_t m = z->nonempty[w] & (~0ULL << (i & 63));

	if (m)
		return w * 64 + (uint32_t)__builtin_ctzll(m) + 1;
	m = w == 63 ? 0 : z->summary & (~0ULL << (w + 1));
	if (!m)
		return 0;
	w = (uint32_t)__builtin_ctzll(m);
	return w * 64 + (uint32_t)__builtin_ctzll(z->nonempty[w]) + 1;
}

/* The largest non-empty class, or 0. */
static inline uint32_t nta_class_largest(const struct nta_zone *z)
{
	uint32_t w;

	if (!z->summary)
		return 0;
	w = 63 - (uint32_t)__builtin_clzll(z->summary);
	return w * 64 + 63 - (uint32_t)__builtin_clzll(z->nonempty[w]) + 1;
}

#endif /* NTA_CLASSES_H */
