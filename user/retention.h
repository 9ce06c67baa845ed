/* SPDX-License-Identifier: MIT */
/*
 * retention.h - --mode delay and --mode capture on the engine: received
 * packets are held in the UMEM (in retain.c's FIFO) and later sent on (the
 * delay line) or written to a pcap file (the capture buffer).
 *
 * engine.c calls in here only when the mode is one of the two; the numbers
 * reach the report through the engine's counters (struct ntad_counters), so
 * the summary and the JSON carry them with no other wiring.
 */
#ifndef NTAD_RETENTION_H
#define NTAD_RETENTION_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "cli.h"

struct ntad_engine;
struct ntad_retention;

static inline bool ntad_mode_retains(enum ntad_mode m)
{
	return m == NTAD_MODE_DELAY || m == NTAD_MODE_CAPTURE;
}

/*
 * UMEM bytes that held packets may not use: the rings' chunks (fill; delay:
 * and TX) on socks sockets, and with nta the regions its caches may park.
 */
uint64_t ntad_retention_reserve(const struct ntad_opts *o, unsigned int socks);

/*
 * Set up e->retention from e->o (engine init, in the thread that later
 * creates the queue threads: SIGUSR1 is blocked there and read through a
 * signalfd). 0 or -errno: -EOPNOTSUPP with multi-buffer, -ENOMEM.
 */
int ntad_retention_create(struct ntad_engine *e);
void ntad_retention_destroy(struct ntad_engine *e);

/* One pass: receive and hold, release what is due (delay), evict by age and
 * to keep the fill ring fed (capture), dump on SIGUSR1. Returns the work done. */
unsigned int ntad_retention_step(struct ntad_engine *e, double now, bool receiving);

/* Shorten an idle wait so the next due packet leaves on time. */
void ntad_retention_timeout(struct ntad_engine *e, struct timespec *ts);

/* -n: every counted packet received and, for delay, sent and completed. */
bool ntad_retention_done(const struct ntad_engine *e, uint64_t outstanding);

/* At stop, before the sockets close: write the pcap (capture), give every
 * held packet back to the pool, refresh the counters. */
void ntad_retention_drain(struct ntad_engine *e);

#endif /* NTAD_RETENTION_H */
