/* SPDX-License-Identifier: MIT */
/*
 * netem.h - the delay line's impairments, with tc-netem's meanings (man
 * tc-netem): delay and jitter with a distribution and correlation, loss
 * (random, 4-state Markov, Gilbert-Elliott), duplication, corruption,
 * reordering, a rate with per-packet overhead and cells (ATM's 48 + 5), and
 * slots (bursty delivery). One struct ntad_netem per FIFO (a direction of a
 * queue): it decides what happens to each arrival, when it is due and when
 * its slot lets it go; modes/delay.c does it to the packets. No sockets, no
 * clock: tests/unit/test_netem.c drives it without root.
 *
 * Probabilities and correlations are 0..1, times nanoseconds, as in netem's
 * kernel code, which this follows (net/sched/sch_netem.c), with one
 * difference kept on purpose: due times never decrease, so jitter delays but
 * never reorders (only --reorder does).
 */
#ifndef NTAD_NETEM_H
#define NTAD_NETEM_H

#include <stdbool.h>
#include <stdint.h>

enum ntad_netem_dist { NTAD_DIST_UNIFORM, NTAD_DIST_NORMAL, NTAD_DIST_PARETO, NTAD_DIST_PARETONORMAL };
enum ntad_netem_loss { NTAD_LOSS_NONE, NTAD_LOSS_RANDOM, NTAD_LOSS_STATE, NTAD_LOSS_GEMODEL };

/* One direction's settings, as tc-netem takes them. */
struct ntad_netem_opts {
	uint64_t delay_ns, jitter_ns;    /* delay, +- jitter drawn from dist */
	enum ntad_netem_dist dist;
	double delay_corr;
	enum ntad_netem_loss loss_model;
	/* random: P, correlation; state: p13 p31 p32 p23 p14; gemodel: p r 1-h 1-k */
	double loss[5];
	double duplicate, duplicate_corr;
	double corrupt, corrupt_corr;
	double reorder, reorder_corr;
	uint32_t gap;                    /* reorder: every gap-th packet may go at once */
	uint64_t rate_bps;               /* bits per second; 0: no limit */
	int32_t overhead;                /* bytes added to each packet's length for the rate */
	uint32_t cell_size;              /* rate: len + overhead in whole cells of this size; 0: none */
	int32_t cell_overhead;           /* rate: bytes added to each cell */
	/*
	 * --slot: due packets leave only in slots (bursty MACs: WiFi, DOCSIS,
	 * LTE), each letting up to slot_packets and until slot_bytes go (0: no
	 * limit). The next slot opens slot_min..slot_max after the previous
	 * closed or, with slot_by_dist, slot_delay +- slot_jitter drawn from
	 * slot_dist. All 0: no slots, as tc's "slot 0".
	 */
	uint64_t slot_min_ns, slot_max_ns;
	bool slot_by_dist;
	enum ntad_netem_dist slot_dist;
	uint64_t slot_delay_ns, slot_jitter_ns;
	uint32_t slot_packets, slot_bytes;
};

/* Bytes a packet of len takes on the wire at the rate: len + overhead, rounded up to
 * whole cells of cell_size each carrying cell_overhead more (netem's packet_time_ns). */
uint64_t ntad_netem_wire_bytes(const struct ntad_netem_opts *o, uint32_t len);

/* What it did, for the report. */
struct ntad_netem_stats {
	uint64_t lost, duplicated, corrupted, reordered;
};

/* A correlated uniform variable: netem's get_crandom(). */
struct ntad_crand {
	double rho, last;
};

struct ntad_netem {
	struct ntad_netem_opts o;
	uint64_t prng;                   /* splitmix64 state */
	struct ntad_crand delay_cr, loss_cr, dup_cr, corrupt_cr, reorder_cr;
	bool plain;                      /* no loss, duplicate, corrupt or reorder: delay (jitter, rate) only */
	unsigned int state;              /* loss models: the Markov chain's state */
	uint32_t counter;                /* reorder: packets delayed since the last reordered */
	uint64_t last_due;
	uint64_t slot_prng;              /* --slot's own, so slots never shift the other draws */
	uint64_t slot_next;              /* --slot: when the open slot opened or the next opens; 0: no slots */
	int64_t slot_packets_left, slot_bytes_left;
	struct ntad_netem_stats st;
};

void ntad_netem_init(struct ntad_netem *n, const struct ntad_netem_opts *o, uint64_t seed);

/* Does this arrival get a duplicate (netem decides before the loss)? */
bool ntad_netem_duplicate(struct ntad_netem *n);
/* Is this packet (or duplicate) lost? Counted. */
bool ntad_netem_lose(struct ntad_netem *n);
/* Flip one random bit of data[0..len) with --corrupt's probability; true: flipped. */
bool ntad_netem_corrupt(struct ntad_netem *n, uint8_t *data, uint32_t len);
/* --reorder: true when this packet goes out at once instead of through the FIFO. */
bool ntad_netem_reorder(struct ntad_netem *n);
/*
 * When a packet of len bytes arriving at `arrival` is due: arrival + delay
 * +- jitter (never before arrival), then, with a rate, after the previous
 * packet has gone out plus this one's time on the wire; never before the
 * previous packet's due time.
 */
uint64_t ntad_netem_due(struct ntad_netem *n, uint64_t arrival, uint32_t len);

/*
 * --slot, at the FIFO's head: when the head, due at `due`, may leave. A slot
 * serves the packets due when it opens: if the last one opened before `due`,
 * it went unused and the next opens a draw after `due` (netem draws it when
 * it finds its slot behind the head). Without slots: due. The draw is made
 * once: asking again for the same head gives the same time.
 */
/* The next slot opens a draw after `from`, with a fresh budget. */
void ntad_netem_slot_next(struct ntad_netem *n, uint64_t from);

/* Inline: the delay line asks for every packet it releases, and most lines have no slots. */
static inline uint64_t ntad_netem_slot_release(struct ntad_netem *n, uint64_t due)
{
	if (!n->slot_next)
		return due;
	if (n->slot_next < due)
		ntad_netem_slot_next(n, due);
	return n->slot_next;
}

/* The same without drawing, for sleeping: at least due, never past the answer above. */
static inline uint64_t ntad_netem_slot_ready(const struct ntad_netem *n, uint64_t due)
{
	return n->slot_next > due ? n->slot_next : due;
}

/* The head of len bytes left at `at` (what ntad_netem_slot_release said): counted
 * against its slot; the slot's last packet makes the next open a draw after at. */
static inline void ntad_netem_slot_take(struct ntad_netem *n, uint64_t at, uint32_t len)
{
	if (!n->slot_next)
		return;
	n->slot_packets_left--;
	n->slot_bytes_left -= len;
	if (n->slot_packets_left <= 0 || n->slot_bytes_left <= 0)
		ntad_netem_slot_next(n, at);
}

/* One sample of dist with mean 0 and netem's scale, from u in (0, 1). */
double ntad_netem_dist_sample(enum ntad_netem_dist dist, double u);

#endif /* NTAD_NETEM_H */
