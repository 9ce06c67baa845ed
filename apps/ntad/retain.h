/* SPDX-License-Identifier: MIT */
/*
 * retain.h - the FIFO of packets held in the UMEM by the delay line and the
 * capture buffer (--mode delay / capture), and what it measures.
 *
 * The FIFO lives outside the UMEM (a ring of {addr, len, arrival, due}), like
 * every other piece of ntad's metadata: the kernel writes into the UMEM. It
 * knows nothing of sockets or pools: it admits, orders, evicts and counts, so
 * tests/unit/test_retain.c drives it without root. modes/held.c, delay.c and
 * capture.c are the side with the packets (the library, the pcap file).
 *
 * Budget: every held packet costs what the pool really spends on it (nta: its
 * length rounded up to a 32-byte block; fixed frames: a whole chunk); the sum
 * never exceeds limit_bytes. The caller evicts the oldest (capture) or drops
 * the newcomer (delay) when ntad_retain_fits() says no.
 * Time is CLOCK_MONOTONIC nanoseconds throughout.
 */
#ifndef NTAD_RETAIN_H
#define NTAD_RETAIN_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "netem.h"

struct ntad_held {
	uint64_t addr;     /* UMEM address of the packet's first byte */
	uint64_t arrival;  /* when ntad took it from the RX ring */
	uint64_t due;      /* delay: when it may leave (never before an earlier packet's) */
	uint32_t len;      /* packet bytes */
	uint32_t cost;     /* UMEM bytes it occupies */
};

struct ntad_retain_opts {
	size_t sz;              /* sizeof(struct ntad_retain_opts) */
	uint64_t limit_bytes;   /* UMEM bytes the held packets may occupy */
	uint32_t min_cost;      /* smallest cost of a packet: sizes the ring */
	struct ntad_netem *netem; /* delay line: when each packet is due (NULL: on arrival) */
	/* Shared with other FIFOs (the delay line's two directions): its limit
	 * replaces limit_bytes and every FIFO's held cost counts against it. */
	struct ntad_retain_budget *budget;
};

/* A byte budget several FIFOs draw on. */
struct ntad_retain_budget {
	uint64_t limit, used;
};

struct ntad_retain_stats {
	uint64_t held_packets, held_bytes, held_cost;  /* now */
	uint64_t peak_packets, peak_cost;
	uint64_t admitted;
	uint64_t evicted;      /* capture: oldest packets let go to make room or by age */
	uint64_t dropped_full; /* newcomers refused: no budget, ring or pool space */
	uint64_t released;     /* delay: sent on their way */
	uint64_t limit_bytes;
};

/*
 * In the header so that the packet path's calls (fits, push, head, pop) are
 * inlined into the delay line's loop; the fields are the functions' own.
 */
struct ntad_retain {
	struct ntad_retain_opts o;
	struct ntad_held *ring;
	uint64_t mask;
	uint64_t head, tail;      /* entries [head, tail) are held */
	struct ntad_retain_stats st;
	struct ntad_hist late, hold;
	struct ntad_retain_budget own, *budget; /* own, or opts.budget */
};

/* NULL and errno (EINVAL, ENOMEM) on failure. */
struct ntad_retain *ntad_retain_create(const struct ntad_retain_opts *o);
void ntad_retain_destroy(struct ntad_retain *r);

/* Do n more packets costing cost bytes in all fit (budget and ring)? */
static inline bool ntad_retain_fits_more(const struct ntad_retain *r, uint64_t n, uint64_t cost)
{
	return r->tail - r->head + n <= r->mask + 1 && r->budget->used + cost <= r->budget->limit;
}

/* Room for one more packet costing cost bytes (budget and ring)? */
static inline bool ntad_retain_fits(const struct ntad_retain *r, uint32_t cost)
{
	return ntad_retain_fits_more(r, 1, cost);
}

/* Append; due as netem decides (ntad_netem_due), or arrival. 0 or -ENOSPC. */
static inline int ntad_retain_push(struct ntad_retain *r, uint64_t addr, uint32_t len,
				   uint32_t cost, uint64_t arrival)
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
	r->budget->used += cost;
	if (r->st.held_packets > r->st.peak_packets)
		r->st.peak_packets = r->st.held_packets;
	if (r->st.held_cost > r->st.peak_cost)
		r->st.peak_cost = r->st.held_cost;
	return 0;
}

/* The oldest packet, or NULL when empty. */
static inline const struct ntad_held *ntad_retain_head(const struct ntad_retain *r)
{
	return r->head == r->tail ? NULL : &r->ring[r->head & r->mask];
}

/* The i-th oldest (0 = head), or NULL past the end. */
const struct ntad_held *ntad_retain_at(const struct ntad_retain *r, uint64_t i);

/* The head may not leave before t (a --slot opens then): its due becomes t, so its
 * lateness counts from when it could leave. Due times stay in order: the packets
 * behind it that leave in the same slot are deferred to t as well. */
static inline void ntad_retain_defer_head(struct ntad_retain *r, uint64_t t)
{
	struct ntad_held *h = r->head == r->tail ? NULL : &r->ring[r->head & r->mask];

	if (h && h->due < t)
		h->due = t;
}

enum ntad_retain_why { NTAD_RETAIN_EVICT, NTAD_RETAIN_RELEASE, NTAD_RETAIN_FLUSH };

/* Remove the head into *out (which may be NULL), counted by why: evicted,
 * released (then lateness = now - due and hold = now - arrival are recorded)
 * or neither (flush at exit). -ENOENT when empty. */
static inline int ntad_retain_pop(struct ntad_retain *r, enum ntad_retain_why why, uint64_t now,
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
	r->budget->used -= h->cost;
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

/* A newcomer refused after all (pool out of space): counted in dropped_full. */
void ntad_retain_count_drop(struct ntad_retain *r);

void ntad_retain_get_stats(const struct ntad_retain *r, struct ntad_retain_stats *st);
/* Lateness (send time - due) and hold time (send time - arrival) of released packets. */
const struct ntad_hist *ntad_retain_lateness(const struct ntad_retain *r);
const struct ntad_hist *ntad_retain_holdtime(const struct ntad_retain *r);

#endif /* NTAD_RETAIN_H */
