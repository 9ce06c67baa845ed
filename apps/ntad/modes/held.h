/* SPDX-License-Identifier: MIT */
/*
 * held.h - what the delay line and the capture buffer share: holding a
 * received packet in the UMEM within a byte budget, letting one go, and the
 * numbers the report shows of what is held.
 */
#ifndef NTAD_HELD_H
#define NTAD_HELD_H

#include <stdbool.h>
#include <stdint.h>

#include "retain.h"
#include "run.h"

/*
 * UMEM bytes this worker's held packets may occupy: the UMEM less what the
 * rings and the pool's caches need (sizing.c), or --capture-bytes, split
 * evenly over the workers. 0: none left (the caller refuses to start).
 */
uint64_t ntad_held_limit(const struct ntad_worker *w);

/*
 * A FIFO of limit bytes for w (netem: the delay line's due times; NULL for
 * capture), or drawing on budget (shared with other FIFOs) when not NULL.
 */
struct ntad_retain *ntad_held_fifo(const struct ntad_worker *w, uint64_t limit,
				   struct ntad_netem *netem, struct ntad_retain_budget *budget);

/*
 * Keep received packet p in f: in budget (evicting the oldest first when
 * evict, else dropping the newcomer, counted), made cheap by the library
 * (copied into an exact block up to --copy-break, trimmed above, a chain
 * gathered into one block). false: p was dropped and freed.
 */
bool ntad_held_admit(struct ntad_worker *w, struct ntad_retain *f, struct ntad_pkt *p,
		     uint64_t now, bool evict);

/*
 * ntad_held_admit for pkts[0..n) without eviction (the delay line), in one
 * hold burst: the budget checked per packet in order, the copies allocated and
 * the regions freed once for the batch. Those held are pkts[0..return), in
 * order; the others were dropped (counted) and freed.
 */
unsigned int ntad_held_admit_burst(struct ntad_worker *w, struct ntad_retain *f,
				   struct ntad_pkt *pkts, unsigned int n, uint64_t now);

/* Let the oldest packet of f go: evicted (counted), or flushed at stop. */
void ntad_held_drop_oldest(struct ntad_worker *w, struct ntad_retain *f, uint64_t now,
			   enum ntad_retain_why why);

/* The held numbers of fifos[0..n) into w->c (lateness too, for the delay line: w->late). */
void ntad_held_publish(struct ntad_worker *w, struct ntad_retain *const *fifos, unsigned int n,
		       bool lateness);

#endif /* NTAD_HELD_H */
