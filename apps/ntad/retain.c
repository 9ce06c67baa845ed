// SPDX-License-Identifier: MIT
/*
 * retain.c - the FIFO behind the delay line and the capture buffer (see
 * retain.h for what it promises).
 *
 * A power-of-two ring of fixed 32-byte entries indexed by free-running head and
 * tail counters: push and pop are O(1), the dump walks it in arrival order, and
 * its size is fixed at creation from the budget (limit / smallest cost), so
 * holding a packet never allocates. A packet's memory is not here: only its
 * UMEM address and length.
 *
 * Due times come from netem.c and never decrease (a packet jittered late holds
 * back the ones behind it), so FIFO release needs to look at the head only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "retain.h"

_Static_assert(sizeof(struct ntad_held) == 32, "a held packet's entry is 32 bytes");

#define MAX_ENTRIES (1ull << 26) /* 2 GiB of entries: far past any UMEM's packets */

struct ntad_retain *ntad_retain_create(const struct ntad_retain_opts *o)
{
	struct ntad_retain *r;
	uint64_t want, n = 64, limit = o && o->budget ? o->budget->limit : o ? o->limit_bytes : 0;

	if (!o || o->sz < sizeof(*o) || !o->min_cost || !limit) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->o = *o;
	want = limit / o->min_cost + 1;
	while (n < want && n < MAX_ENTRIES)
		n <<= 1;
	/* calloc: pages of a large ring are touched only as packets arrive. */
	r->ring = calloc(n, sizeof(*r->ring));
	if (!r->ring) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->mask = n - 1;
	r->own.limit = o->limit_bytes;
	r->budget = o->budget ? o->budget : &r->own;
	r->st.limit_bytes = r->budget->limit;
	return r;
}

void ntad_retain_destroy(struct ntad_retain *r)
{
	if (!r)
		return;
	free(r->ring);
	free(r);
}

const struct ntad_held *ntad_retain_at(const struct ntad_retain *r, uint64_t i)
{
	return i >= r->tail - r->head ? NULL : &r->ring[(r->head + i) & r->mask];
}

void ntad_retain_count_drop(struct ntad_retain *r)
{
	r->st.dropped_full++;
}

void ntad_retain_get_stats(const struct ntad_retain *r, struct ntad_retain_stats *st)
{
	*st = r->st;
}

const struct ntad_hist *ntad_retain_lateness(const struct ntad_retain *r)
{
	return &r->late;
}

const struct ntad_hist *ntad_retain_holdtime(const struct ntad_retain *r)
{
	return &r->hold;
}
