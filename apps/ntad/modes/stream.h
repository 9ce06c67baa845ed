/* SPDX-License-Identifier: MIT */
/*
 * stream.h - capture -w: every frame to the file as it arrives (tcpdump -w).
 *
 * Each queue's frames wait as received, in their fill regions, in a ring of
 * their own (the queue thread's alone to add to and free); whichever queue
 * thread finds its frames due for a write merges every queue's by arrival
 * into the file (pcap.c), so with --queues the file is in arrival order as a
 * reader expects. Only frames that arrived before every queue's current pass
 * are written: none can come later that belongs before them.
 *
 * A frame leaves its ring once a commit has it in the file (the queue thread
 * frees it at its next pass), or evicted when its queue's share of the UMEM is
 * full (counted; while writes fail, the run is then failed: frames were lost).
 */
#ifndef NTAD_STREAM_H
#define NTAD_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "ntad.h"
#include "pcap.h"

struct ntad_stream;

/* What a queue's ring holds and did, for the report (its queue thread reads it). */
struct ntad_stream_ring_stats {
	uint64_t packets, bytes, used, limit; /* waiting now; used: UMEM bytes */
	uint64_t peak_packets, peak_used, evicted;
};

/* The file's numbers. */
struct ntad_stream_file_stats {
	uint64_t writes, packets, errors, err; /* packets: records committed; err: last errno */
	bool failed;                           /* the last write failed */
	bool lost;                             /* frames evicted while writes failed */
};

/* Open the file (its header committed) for nr queues. NULL and errno on failure. */
struct ntad_stream *ntad_stream_open(const struct ntad_pcap_opts *po, unsigned int nr,
				     int64_t wall_offset);

/* Queue qi's ring: frames occupying at most limit bytes, the smallest costing min_cost. */
int ntad_stream_ring_init(struct ntad_stream *s, unsigned int qi, uint64_t limit, uint32_t min_cost);

/*
 * Queue qi's thread, at the start of each pass at time now: every frame it
 * will add from here on arrived at now or later; frees what was written.
 */
void ntad_stream_pass(struct ntad_stream *s, unsigned int qi, struct ntad_queue *q, uint64_t now);

/* Queue qi's thread: p waits for the file, occupying cost bytes; the oldest go when full. */
void ntad_stream_add(struct ntad_stream *s, unsigned int qi, struct ntad_queue *q,
		     const struct ntad_pkt *p, uint32_t cost, uint64_t arrival);

/*
 * Queue qi's thread: when its frames are due (or final: after every queue
 * stopped, everything), write a batch of every queue's frames, merged.
 * Returns the frames written.
 */
uint64_t ntad_stream_write(struct ntad_stream *s, unsigned int qi, uint64_t now, bool final);

/* Queue qi's thread: let up to n of its oldest frames go (the fill ring needs regions). */
unsigned int ntad_stream_evict(struct ntad_stream *s, unsigned int qi, struct ntad_queue *q,
			       unsigned int n);

/* After queue qi stopped: give back every frame it still has. */
void ntad_stream_release(struct ntad_stream *s, unsigned int qi, struct ntad_queue *q);

void ntad_stream_ring_stats(const struct ntad_stream *s, unsigned int qi,
			    struct ntad_stream_ring_stats *st);
void ntad_stream_file_stats(const struct ntad_stream *s, struct ntad_stream_file_stats *st);

/* Close the file and free s: 0 or -errno (what was not committed is lost). Accepts NULL. */
int ntad_stream_close(struct ntad_stream *s);

/* A start that failed half-way: close, and remove the file if it holds no record. Accepts NULL. */
void ntad_stream_abort(struct ntad_stream *s);

#endif /* NTAD_STREAM_H */
