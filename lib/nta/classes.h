/* SPDX-License-Identifier: MIT */
/*
 * classes.h - size-class lists of free regions, the hot half of classes.c.
 *
 * Class c of a zone is a circular doubly-linked list of the free regions of
 * exactly c blocks, threaded through u32 entry ids with a sentinel per class, so
 * push and unlink are a handful of stores with no branch on list ends. A
 * two-level bitmap of non-empty classes (64 summary bits over at most 64 words)
 * turns "this class or the next non-empty larger one" into two ctz.
 */
#ifndef NTA_CLASSES_H
#define NTA_CLASSES_H

/* The entry of the free region of page p that starts at block start. */
static inline uint32_t nta_slot(const struct nta_zone *z, uint32_t p, uint32_t start)
{
	uint32_t k = start >> 1;

	if (!k)
		return z->bpp + p;
	nta_assert(z->tbl[p]);
	return z->tables0 + ((z->tbl[p] - 1) << z->spt_shift) + k;
}

/* Page and start block of the region whose entry is id (not a sentinel). The
 * region starts at 2k unless block 2k is allocated, then at 2k + 1. */
static inline void nta_slot_decode(const struct nta_zone *z, uint32_t id,
				   uint32_t *page, uint32_t *start)
{
	uint32_t p, k;

	if (id < z->tables0) {
		p = id - z->bpp;
		k = 0;
	} else {
		uint32_t r = id - z->tables0;

		p = z->owner[r >> z->spt_shift];
		k = r & (z->spt - 1);
	}
	*page = p;
	*start = 2 * k + nta_bm_test(z->bits + (size_t)p * z->words, 2 * k);
}

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
	z->count[s]++;
	z->regions++;
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
	if (!--z->count[s]) {
		z->nonempty[s >> 6] &= ~(1ULL << (s & 63));
		if (!z->nonempty[s >> 6])
			z->summary &= ~(1ULL << (s >> 6));
	}
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
