/* SPDX-License-Identifier: MIT */
/*
 * sizing.h - how much UMEM a command line needs, and where its bytes go: the
 * rings, nta's jumbo range for frames larger than a page, and (delay,
 * capture) what the held packets may use. cli.c refuses a UMEM too small
 * for them; main.c sizes the library's objects with them.
 */
#ifndef NTAD_SIZING_H
#define NTAD_SIZING_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/*
 * The UMEM ntad requires. One queue: every fill, RX and TX slot of every socket
 * holding a whole chunk. Several queues with the fixed pool: that, per queue
 * (each queue gets its own slice of frames). Several queues with nta (one
 * shared allocator): every queue's fill ring full, plus one queue's RX and TX
 * rings; beyond that, queues share what is free. ntad refuses a smaller UMEM.
 */
uint64_t ntad_umem_needed(const struct ntad_opts *o);

/* Bytes of nta jumbo range at the end of the UMEM (0 without frags or nta). */
uint64_t ntad_jumbo_bytes(const struct ntad_opts *o);

/*
 * UMEM bytes held packets (delay, capture) may not use: the rings' chunks
 * (fill; delay: and TX) on every socket, and with nta the regions its caches
 * may park.
 */
uint64_t ntad_retention_reserve(const struct ntad_opts *o);

/*
 * Once the MTU of ifname is known: turn o->frags on when a frame of that MTU
 * does not fit a chunk (unless --no-frags), and check that the UMEM still
 * holds the rings plus the jumbo range. 0, or -EMSGSIZE / -ENOSPC with a
 * "thing: problem; fix" line in err.
 */
int ntad_frags_decide(struct ntad_opts *o, const char *ifname, unsigned int mtu, char *err,
		      size_t errlen);

#endif /* NTAD_SIZING_H */
