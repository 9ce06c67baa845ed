// SPDX-License-Identifier: MIT
/*
 * fuzz_nta.c - libFuzzer target: the input is an operation sequence for nta.
 *
 * Byte 0 picks options (tree lookup, no cache, block size, a small cache);
 * then each operation is an opcode byte and two little-endian u16 arguments:
 *   0 alloc(len)  1 alloc_bulk(len, n)  2 free(off, len) of arbitrary ranges
 *   3 free a part of a live allocation  4 free_bulk of cached-size regions
 *   5 nta_trim of a live allocation      6 a call with arguments it cannot serve
 * A model (owner of every block) decides what each free must return; every
 * allocation must land on blocks the model sees free, in the right zone, a
 * valid free must return 0 (never -ENOMEM), nta_check() must pass after every
 * operation, and at the end the metadata must be what nta_create allocated.
 * Op 6 draws offsets and lengths near 2^64 and 2^32, sums that wrap, unaligned
 * values and NULL for every call of nta.h and nta_mt.h, and the call must
 * return -EINVAL with the statistics unchanged.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nta.h"
#include "nta_mt.h"
#include "testing.h" /* lib/nta: NTA_F_TREE_LOOKUP, NTA_F_NO_CACHE */

#define PAGE 4096
#define NORMAL (16 * PAGE)
#define JPAGE 16384
#define AREA (NORMAL + 2 * JPAGE)
#define MIN_BLOCK 16
#define MAXREC 4096

static uint8_t area[AREA];
static uint16_t owner[AREA / MIN_BLOCK]; /* per 16-byte unit */
struct rec {
	uint32_t off, len;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(const char *msg)
{
	(void)msg;
}

/* Offsets outside the area or unaligned for any block size, lengths no call takes. */
static const uint64_t bad_offs[] = {
	UINT64_MAX, UINT64_MAX - 15, UINT64_MAX - 4095, 1ull << 63, 1ull << 32, (1ull << 32) - 16,
	UINT32_MAX, AREA, AREA + 16, AREA + PAGE, 1, 8, 15, NORMAL + 1,
};
static const uint32_t bad_lens[] = {
	0, UINT32_MAX, UINT32_MAX - 15, 1u << 31, 1u << 16, JPAGE + 1, JPAGE + 16,
};
/* keep_off - off for a trim of a whole live record: below off (wrapping), or
 * past any record */
static const uint64_t bad_rels[] = {
	UINT64_MAX - 15, UINT64_MAX - 31, 1ull << 63, 1ull << 32, (1ull << 32) + 32, JPAGE + 32,
};
#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct nta_stats snap(const struct nta *nta)
{
	struct nta_stats st;

	memset(&st, 0, sizeof(st));
	st.sz = sizeof(st);
	if (nta_get_stats(nta, &st))
		abort();
	return st;
}

/* The same for nta_mt's calls, through a front made for the call (none when
 * the geometry cannot hold 2048-byte regions): each must return -EINVAL, and
 * nta_mt_free_bulk refuse both of its entries. */
static int hostile_mt(struct nta *nta, const struct rec *r, uint64_t off, uint32_t len,
		      uint32_t any, uint32_t b)
{
	struct nta_mt *mt = nta_mt_create(nta, NULL);
	struct nta_mt_cache *c = mt ? nta_mt_cache_create(mt) : NULL;
	uint64_t offs[2] = { off, off };
	int err;

	if (!c) {
		nta_mt_destroy(mt);
		return -EINVAL;
	}
	switch ((b >> 8) % 5) {
	case 0:
		err = nta_mt_free(c, off, any);
		break;
	case 1:
		err = nta_mt_alloc(c, len, &offs[0]);
		break;
	case 2:
		err = nta_mt_trim(c, off, any, off, any);
		break;
	case 3:
		err = r ? nta_mt_trim(c, r->off, r->len, r->off + bad_rels[b % N(bad_rels)], any) :
			  nta_mt_alloc_bulk(c, len, offs, 2);
		break;
	default:
		err = nta_mt_free_bulk(c, offs, 2, any) == 2 ? -EINVAL : 0;
		break;
	}
	nta_mt_destroy(mt);
	return err;
}

/* One call with arguments it cannot serve, picked by a and b; it must return
 * -EINVAL and change nothing. */
static void hostile(struct nta *nta, const struct rec *recs, unsigned int nrecs, uint32_t a,
		    uint32_t b)
{
	struct nta_stats before = snap(nta), after;
	uint64_t off = bad_offs[a % N(bad_offs)], offs[3];
	uint32_t len = bad_lens[b % N(bad_lens)], any = 1 + (b >> 4) % JPAGE;
	const struct rec *r = nrecs ? &recs[(a >> 8) % nrecs] : NULL;
	int err;

	switch ((a >> 4) % 10) {
	case 0:
		err = nta_free(nta, off, any);
		break;
	case 1:
		err = r ? nta_free(nta, r->off, len) : nta_free(nta, off, len);
		break;
	case 2:
		err = nta_alloc(nta, len, &offs[0]);
		break;
	case 3:
		err = nta_alloc_bulk(nta, len, offs, 3);
		break;
	case 4:
		err = nta_trim(nta, off, any, off, any);
		break;
	case 5: /* the kept range starts below the record or past it */
		err = r ? nta_trim(nta, r->off, r->len, r->off + bad_rels[b % N(bad_rels)], any) :
			  nta_trim(nta, off, any, off + 32, 32);
		break;
	case 6: /* the kept range runs past the record, or has no length (bad_lens
		 * are 0 or longer than any record) */
		err = r ? nta_trim(nta, r->off, r->len, r->off, b & 1 ? r->len + 1 : len ? len : 0) :
			  nta_trim(nta, off, len, off, len);
		break;
	case 7: /* a bulk free whose last entry is bad: the others stay allocated */
		offs[0] = r ? r->off : off;
		offs[1] = off;
		err = nta_free_bulk(nta, offs, 2, r ? r->len : any);
		break;
	case 8:
		err = hostile_mt(nta, r, off, len, any, b);
		break;
	default:
		err = (a & 1) ? nta_alloc(NULL, any, &offs[0]) : nta_alloc(nta, any, NULL);
		if (!err)
			abort();
		err = nta_free(NULL, off, any) == -EINVAL && nta_check(NULL) == -EINVAL &&
		      nta_get_stats(nta, NULL) == -EINVAL ? -EINVAL : 0;
		break;
	}
	after = snap(nta);
	if (err != -EINVAL || memcmp(&before, &after, sizeof(before)))
		abort();
}

static int owned(uint64_t off, uint64_t len, uint32_t unit)
{
	for (uint64_t x = off; x < off + len; x += unit)
		if (!owner[x / MIN_BLOCK])
			return 0;
	return 1;
}

static int any_owned(uint64_t off, uint64_t len)
{
	for (uint64_t x = off; x < off + len; x += MIN_BLOCK)
		if (owner[x / MIN_BLOCK])
			return 1;
	return 0;
}

static void set_owner(uint64_t off, uint64_t len, uint16_t v)
{
	for (uint64_t x = off; x < off + len; x += MIN_BLOCK)
		owner[x / MIN_BLOCK] = v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rec recs[MAXREC];
	unsigned int nrecs = 0;
	uint32_t block, cache;
	struct nta *nta;
	size_t i = 1;

	if (size < 1)
		return 0;
	nta_set_print(quiet);
	block = data[0] & 4 ? 16 : 32;
	cache = data[0] & 8 ? 1024 : 2048;
	{
		NTA_OPTS(o, .block_size = block, .jumbo_size = 2 * JPAGE, .cache_len = cache,
			 .cache_size = data[0] & 16 ? 2 : 64,
			 .flags = (data[0] & 1 ? NTA_F_TREE_LOOKUP : 0) |
				  (data[0] & 2 ? NTA_F_NO_CACHE : 0));
		nta = nta_create(area, AREA, &o);
	}
	if (!nta)
		abort();
	memset(owner, 0, sizeof(owner));
	while (i + 5 <= size) {
		uint8_t op = data[i] % 7;
		uint32_t a = data[i + 1] | (uint32_t)data[i + 2] << 8;
		uint32_t b = data[i + 3] | (uint32_t)data[i + 4] << 8;
		uint64_t off, offs[8];
		int err, n;

		i += 5;
		switch (op) {
		case 0: { /* alloc */
			uint32_t len = a % (JPAGE + 2), rl = (len + block - 1) / block * block;

			err = nta_alloc(nta, len, &off);
			if (!len || len > JPAGE) {
				if (err != -EINVAL)
					abort();
				break;
			}
			if (err == -ENOMEM)
				break;
			if (err || off % block || off + rl > AREA || (rl > PAGE) != (off >= NORMAL))
				abort();
			if (any_owned(off, rl))
				abort();
			set_owner(off, rl, 1);
			if (nrecs < MAXREC)
				recs[nrecs++] = (struct rec){ (uint32_t)off, rl };
			break;
		}
		case 1: { /* bulk */
			uint32_t len = a % 3 ? cache : 1 + a % PAGE, rl = (len + block - 1) / block * block;

			n = nta_alloc_bulk(nta, len, offs, b % 9);
			if (n < 0 || n > (int)(b % 9))
				abort();
			for (int k = 0; k < n; k++) {
				if (offs[k] % block || offs[k] + rl > NORMAL || any_owned(offs[k], rl))
					abort();
				set_owner(offs[k], rl, 1);
				if (nrecs < MAXREC)
					recs[nrecs++] = (struct rec){ (uint32_t)offs[k], rl };
			}
			break;
		}
		case 2: { /* arbitrary range: the model predicts the result */
			uint64_t o = (uint64_t)a * 3 % (AREA + 64);
			uint32_t len = b % (JPAGE + 64), rl = (len + block - 1) / block * block;
			uint64_t page = o < NORMAL ? PAGE : JPAGE;
			uint64_t pstart = o < NORMAL ? o / PAGE * PAGE : NORMAL + (o - NORMAL) / JPAGE * JPAGE;
			int ok = len && o % block == 0 && o < AREA && o + rl <= pstart + page &&
				 owned(o, rl, MIN_BLOCK);

			err = nta_free(nta, o, len);
			if (ok ? err != 0 : err != -EINVAL)
				abort();
			if (ok)
				set_owner(o, rl, 0);
			break;
		}
		case 3: { /* a part of a live allocation: head, tail or middle */
			struct rec *r;
			uint32_t h, len;

			if (!nrecs)
				break;
			r = &recs[a % nrecs];
			if (!owned(r->off, r->len, MIN_BLOCK)) { /* freed by op 2 */
				*r = recs[--nrecs];
				break;
			}
			h = b % (r->len / block) * block;
			len = r->len - h;
			len = (b >> 8) % 2 ? len : 1 + (b >> 9) % len;
			if (nta_free(nta, r->off + h, len))
				abort();
			set_owner(r->off + h, (len + block - 1) / block * block, 0);
			*r = recs[--nrecs];
			break;
		}
		case 5: { /* nta_trim of a live record (arbitrary kept range): the model
			   * predicts the result */
			struct rec *r;
			uint32_t kl, ko, rl, kbl;
			int ok;

			if (!nrecs)
				break;
			r = &recs[a % nrecs];
			ko = (a >> 8) % (r->len + 1) / 8 * 8 + ((b >> 15) & 1) * 4;
			kl = b % (r->len + 1);
			rl = (r->len + block - 1) / block * block;
			kbl = (kl + block - 1) / block * block;
			ok = owned(r->off, rl, MIN_BLOCK) && kl && ko % block == 0 &&
			     ko + kl <= r->len && ko + kbl <= rl;
			err = nta_trim(nta, r->off, r->len, r->off + ko, kl);
			if (ok ? err != 0 : err != -EINVAL)
				abort();
			if (ok) {
				set_owner(r->off, ko, 0);
				set_owner(r->off + ko + kbl, rl - ko - kbl, 0);
				*r = recs[--nrecs]; /* the kept part stays owned, unrecorded */
			}
			break;
		}
		case 6:
			hostile(nta, recs, nrecs, a, b);
			break;
		default: { /* free_bulk of up to 8 live cache-sized records */
			unsigned int k = 0;

			for (unsigned int j = 0; j < nrecs && k < 8 && k < a % 9; j++)
				if (recs[j].len == cache && owned(recs[j].off, cache, MIN_BLOCK)) {
					offs[k++] = recs[j].off;
					set_owner(recs[j].off, cache, 0);
					recs[j--] = recs[--nrecs];
				}
			if (nta_free_bulk(nta, offs, k, cache))
				abort();
			break;
		}
		}
		if (nta_check(nta))
			abort();
	}
	{
		struct nta_stats st = { .sz = sizeof(st) };

		if (nta_get_stats(nta, &st) || st.metadata_bytes != st.metadata_fixed)
			abort();
	}
	nta_destroy(nta);
	return 0;
}
