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

struct ntad_retain;

/* NULL and errno (EINVAL, ENOMEM) on failure. */
struct ntad_retain *ntad_retain_create(const struct ntad_retain_opts *o);
void ntad_retain_destroy(struct ntad_retain *r);

/* Room for one more packet costing cost bytes (budget and ring)? */
bool ntad_retain_fits(const struct ntad_retain *r, uint32_t cost);
/* Do n more packets of cost bytes in all fit? */
bool ntad_retain_fits_more(const struct ntad_retain *r, uint64_t n, uint64_t cost);

/* Append; due as netem decides (ntad_netem_due), or arrival. 0 or -ENOSPC. */
int ntad_retain_push(struct ntad_retain *r, uint64_t addr, uint32_t len, uint32_t cost,
		     uint64_t arrival);

/* The oldest packet, or NULL when empty. */
const struct ntad_held *ntad_retain_head(const struct ntad_retain *r);

/* The i-th oldest (0 = head), or NULL past the end. */
const struct ntad_held *ntad_retain_at(const struct ntad_retain *r, uint64_t i);

enum ntad_retain_why { NTAD_RETAIN_EVICT, NTAD_RETAIN_RELEASE, NTAD_RETAIN_FLUSH };

/* Remove the head into *out (which may be NULL), counted by why: evicted,
 * released (then lateness = now - due and hold = now - arrival are recorded)
 * or neither (flush at exit). -ENOENT when empty. */
int ntad_retain_pop(struct ntad_retain *r, enum ntad_retain_why why, uint64_t now,
		    struct ntad_held *out);

/* A newcomer refused after all (pool out of space): counted in dropped_full. */
void ntad_retain_count_drop(struct ntad_retain *r);

void ntad_retain_get_stats(const struct ntad_retain *r, struct ntad_retain_stats *st);
/* Lateness (send time - due) and hold time (send time - arrival) of released packets. */
const struct ntad_hist *ntad_retain_lateness(const struct ntad_retain *r);
const struct ntad_hist *ntad_retain_holdtime(const struct ntad_retain *r);

#endif /* NTAD_RETAIN_H */
