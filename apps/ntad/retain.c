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

struct ntad_retain {
	struct ntad_retain_opts o;
	struct ntad_held *ring;
	uint64_t mask;
	uint64_t head, tail;      /* entries [head, tail) are held */
	struct ntad_retain_stats st;
	struct ntad_hist late, hold;
};

struct ntad_retain *ntad_retain_create(const struct ntad_retain_opts *o)
{
	struct ntad_retain *r;
	uint64_t want, n = 64;

	if (!o || o->sz < sizeof(*o) || !o->min_cost || !o->limit_bytes) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->o = *o;
	want = o->limit_bytes / o->min_cost + 1;
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
	r->st.limit_bytes = o->limit_bytes;
	return r;
}

void ntad_retain_destroy(struct ntad_retain *r)
{
	if (!r)
		return;
	free(r->ring);
	free(r);
}

bool ntad_retain_fits(const struct ntad_retain *r, uint32_t cost)
{
	return r->tail - r->head <= r->mask && r->st.held_cost + cost <= r->o.limit_bytes;
}

bool ntad_retain_fits_more(const struct ntad_retain *r, uint64_t n, uint64_t cost)
{
	return r->tail - r->head + n <= r->mask + 1 && r->st.held_cost + cost <= r->o.limit_bytes;
}

int ntad_retain_push(struct ntad_retain *r, uint64_t addr, uint32_t len, uint32_t cost,
		     uint64_t arrival)
{
	struct ntad_held *h;
	uint64_t due;

	if (r->tail - r->head > r->mask)
		return -ENOSPC;
	due = r->o.netem ? ntad_netem_due(r->o.netem, arrival, len) : arrival;
	h = &r->ring[r->tail++ & r->mask];
	*h = (struct ntad_held){ .addr = addr, .arrival = arrival, .due = due, .len = len,
				 .cost = cost };
	r->st.admitted++;
	r->st.held_packets++;
	r->st.held_bytes += len;
	r->st.held_cost += cost;
	if (r->st.held_packets > r->st.peak_packets)
		r->st.peak_packets = r->st.held_packets;
	if (r->st.held_cost > r->st.peak_cost)
		r->st.peak_cost = r->st.held_cost;
	return 0;
}

const struct ntad_held *ntad_retain_head(const struct ntad_retain *r)
{
	return r->head == r->tail ? NULL : &r->ring[r->head & r->mask];
}

const struct ntad_held *ntad_retain_at(const struct ntad_retain *r, uint64_t i)
{
	return i >= r->tail - r->head ? NULL : &r->ring[(r->head + i) & r->mask];
}

int ntad_retain_pop(struct ntad_retain *r, enum ntad_retain_why why, uint64_t now,
		    struct ntad_held *out)
{
	const struct ntad_held *h = ntad_retain_head(r);

	if (!h)
		return -ENOENT;
	if (out)
		*out = *h;
	r->st.held_packets--;
	r->st.held_bytes -= h->len;
	r->st.held_cost -= h->cost;
	switch (why) {
	case NTAD_RETAIN_EVICT:
		r->st.evicted++;
		break;
	case NTAD_RETAIN_RELEASE:
		r->st.released++;
		ntad_hist_add(&r->late, now > h->due ? now - h->due : 0);
		ntad_hist_add(&r->hold, now > h->arrival ? now - h->arrival : 0);
		break;
	case NTAD_RETAIN_FLUSH:
		break;
	}
	r->head++;
	return 0;
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
