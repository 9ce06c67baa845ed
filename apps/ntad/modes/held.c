// SPDX-License-Identifier: MIT
/*
 * held.c - holding packets for the delay line and the capture buffer (held.h).
 *
 * What a held packet costs is the point of both modes. With nta every packet
 * up to --copy-break (in these modes by default: every packet) is copied into
 * a block of its own length rounded to 32 bytes and its whole fill region goes
 * back at once, so the fill ring's regions circulate through nta's front cache
 * and held packets pack densely in what is left. A trimmed packet (above
 * --copy-break) keeps its blocks inside the region and leaves holes that no
 * later 2 KiB fill region fits in (docs/BENCHMARKS.md, "Retention", has both
 * measured). With fixed frames a held packet keeps its whole frame.
 *
 * Budget: every packet is charged what the pool really spends on it
 * (ntad_umem__cost); above the budget the capture buffer evicts its oldest
 * packets and the delay line drops the newcomer, both counted. Should nta
 * still fail an allocation (fragmentation), capture evicts and retries, delay
 * drops.
 */
#include <errno.h>
#include <string.h>

#include "held.h"
#include "sizing.h"

#define ALLOC_RETRIES 64 /* evictions tried for one block */

uint64_t ntad_held_limit(const struct ntad_worker *w)
{
	struct ntad_umem *u = ntad_queue__umem(w->q);
	uint64_t size = ntad_umem__size(u), reserve = ntad_retention_reserve(w->o);
	uint64_t limit = size > reserve ? size - reserve : 0;

	if (w->o->mode == NTAD_MODE_CAPTURE && w->o->capture_bytes && w->o->capture_bytes < limit)
		limit = w->o->capture_bytes;
	return limit / w->nr_workers;
}

struct ntad_retain *ntad_held_fifo(const struct ntad_worker *w, uint64_t limit,
				   struct ntad_netem *netem, struct ntad_retain_budget *budget)
{
	struct ntad_retain_opts ro = {
		.sz = sizeof(ro), .limit_bytes = limit,
		.min_cost = ntad_umem__cost(ntad_queue__umem(w->q), NTAD_PKT_MIN_LEN),
		.netem = netem, .budget = budget,
	};

	return ntad_retain_create(&ro);
}

void ntad_held_drop_oldest(struct ntad_worker *w, struct ntad_retain *f, uint64_t now,
			   enum ntad_retain_why why)
{
	struct ntad_held h;
	struct ntad_pkt p;

	if (!ntad_retain_pop(f, why, now, &h) && !ntad_pkt_at(w->q, h.addr, h.len, &p))
		ntad_pkt_free(w->q, &p, 1);
}

bool ntad_held_admit(struct ntad_worker *w, struct ntad_retain *f, struct ntad_pkt *p,
		     uint64_t now, bool evict)
{
	uint32_t cost = ntad_umem__cost(ntad_queue__umem(w->q), p->len);
	unsigned int tries = 0;
	int ret;

	while (!ntad_retain_fits(f, cost)) {
		if (!evict || !ntad_retain_head(f))
			goto drop;
		ntad_held_drop_oldest(w, f, now, NTAD_RETAIN_EVICT);
	}
	while ((ret = ntad_pkt_hold(w->q, p)) == -ENOMEM) {
		/* Budget left but no block that fits: make room, or give up. */
		if (!evict || !ntad_retain_head(f) || ++tries > ALLOC_RETRIES)
			goto drop;
		ntad_held_drop_oldest(w, f, now, NTAD_RETAIN_EVICT);
		w->c.alloc_evictions++;
	}
	if (ret)
		goto drop;
	/* The budget and the ring were checked above: push cannot fail. */
	(void)ntad_retain_push(f, p->addr, p->len, cost, now);
	return true;
drop:
	ntad_retain_count_drop(f);
	ntad_pkt_free(w->q, p, 1);
	return false;
}

unsigned int ntad_held_admit_burst(struct ntad_worker *w, struct ntad_retain *f,
				   struct ntad_pkt *pkts, unsigned int n, uint64_t now)
{
	struct ntad_umem *u = ntad_queue__umem(w->q);
	uint32_t cost[NTAD_BATCH_MAX];
	uint64_t pending = 0;
	unsigned int k = 0, held = 0;

	/* In budget (counting the batch's own), in order; the rest dropped, counted. */
	for (unsigned int i = 0; i < n; i++) {
		uint32_t c = ntad_umem__cost(u, pkts[i].len);

		if (!ntad_retain_fits_more(f, k + 1, pending + c)) {
			ntad_retain_count_drop(f);
			ntad_pkt_free(w->q, &pkts[i], 1);
			continue;
		}
		pending += c;
		cost[k] = c;
		pkts[k++] = pkts[i];
	}
	while (held < k) {
		int err;
		unsigned int got = ntad_pkt_hold_burst(w->q, pkts + held, k - held, &err);

		for (unsigned int i = held; i < held + got; i++)
			(void)ntad_retain_push(f, pkts[i].addr, pkts[i].len, cost[i], now);
		held += got;
		if (held < k) { /* no block for it (or not ours): dropped, the rest go on */
			ntad_retain_count_drop(f);
			ntad_pkt_free(w->q, &pkts[held], 1);
			memmove(&pkts[held], &pkts[held + 1], (k - held - 1) * sizeof(*pkts));
			memmove(&cost[held], &cost[held + 1], (k - held - 1) * sizeof(*cost));
			k--;
		}
	}
	return k;
}

void ntad_held_publish(struct ntad_worker *w, struct ntad_retain *const *fifos, unsigned int n,
		       bool lateness)
{
	struct ntad_counters *c = &w->c;
	struct ntad_retain_stats st;

	c->held_packets = c->held_bytes = c->held_umem = 0;
	c->held_peak_packets = c->held_peak_umem = 0;
	c->evicted = c->retain_dropped = c->released = 0;
	c->held_limit = 0;
	for (unsigned int i = 0; i < n; i++) {
		ntad_retain_get_stats(fifos[i], &st);
		c->held_packets += st.held_packets;
		c->held_bytes += st.held_bytes;
		c->held_umem += st.held_cost;
		c->held_peak_packets += st.peak_packets;
		c->held_peak_umem += st.peak_cost;
		c->evicted += st.evicted;
		c->retain_dropped += st.dropped_full;
		c->released += st.released;
		c->held_limit += st.limit_bytes;
	}
	if (!lateness)
		return;
	/* Lateness over the queue's FIFOs in one histogram: main.c merges the queues'. */
	memset(&w->late, 0, sizeof(w->late));
	c->hold_min_ns = 0;
	for (unsigned int i = 0; i < n; i++) {
		const struct ntad_hist *h = ntad_retain_holdtime(fifos[i]);

		ntad_hist_merge(&w->late, ntad_retain_lateness(fifos[i]));
		if (h->n && (!c->hold_min_ns || h->min < c->hold_min_ns))
			c->hold_min_ns = h->min;
	}
	ntad_counters_lateness(c, &w->late);
}
