// SPDX-License-Identifier: MIT
/*
 * delay.c - --mode delay: a delay line. Every packet is held in the UMEM
 * (held.c) and leaves when it is due (netem.c: arrival + --delay +- jitter,
 * then --rate; never before an earlier one, so only --reorder reorders; with
 * --slot, in the next slot that lets it go), on the interface
 * it came in on with its MACs swapped, like l2fwd, so a peer sees its own
 * frames come back late. With -o (two ports, like fwd) it leaves on the other
 * interface untouched, and each direction has its own FIFO (its own order)
 * drawing on the queue's one budget: a delay line between two segments delays
 * the replies too, as netem on both ports of a bridge would. One budget, not
 * half each: traffic that mostly goes one way (a download) may use all of it
 * (with half, 500 kpps of IMIX held 50 ms overflowed the default 32 MiB UMEM's
 * half and lost 10 %). Each queue is a delay line of its own, with its share
 * of the budget.
 *
 * netem's other impairments are applied here, in netem's order: a packet may
 * be duplicated (the copy is a packet of its own, lost, corrupted and delayed
 * on its own, as netem's clone is), lost, corrupted (in its held block, so a
 * chain is gathered first), and reordered: sent at once, ahead of the FIFO.
 * Each direction has its own settings (--dir) and its own netem state.
 *
 * Without those impairments (delay, jitter and rate only) a received batch is
 * held in one burst (ntad_held_admit_burst): one allocator call for its
 * copies and one for its regions, not two per packet.
 *
 * Arrival is when ntad took the packet from the RX ring; lateness is send time
 * - due. An idle worker sleeps until the next packet is due (delay_next).
 */
#include <errno.h>
#include <stdlib.h>

#include "held.h"
#include "modes.h"

struct delay {
	struct ntad_retain *fifo[NTAD_QUEUE_MAX_PORTS]; /* per input port */
	struct ntad_netem netem[NTAD_QUEUE_MAX_PORTS];  /* its due times and impairments */
	struct ntad_retain_budget budget;               /* the queue's, both FIFOs draw on it */
	unsigned int nr;
	unsigned int nr_now;
	struct ntad_pkt now[2 * NTAD_BATCH_MAX];       /* reordered: to send at once */
};

static int delay_init(struct ntad_worker *w)
{
	struct delay *d = calloc(1, sizeof(*d));
	uint64_t limit = ntad_held_limit(w);

	if (!d)
		return -ENOMEM;
	w->ms = d;
	d->nr = ntad_queue__nr_ports(w->q);
	if (!limit)
		return -ENOSPC;
	d->budget.limit = limit;
	for (unsigned int i = 0; i < d->nr; i++) {
		ntad_netem_init(&d->netem[i], &w->o->netem[i], w->o->seed + w->index * d->nr + i);
		d->fifo[i] = ntad_held_fifo(w, limit, &d->netem[i], &d->budget);
		if (!d->fifo[i])
			return -errno;
	}
	return 0;
}

/* Flip a bit of p, in one contiguous block (a chain is gathered first). */
static void corrupt(struct ntad_worker *w, struct ntad_netem *n, struct ntad_pkt *p)
{
	if (n->o.corrupt > 0 && (p->nr_bufs == 1 || !ntad_pkt_hold(w->q, p)))
		(void)ntad_netem_corrupt(n, p->data, p->len);
}

/* One packet (or duplicate) through netem's choices: lost, sent at once, or held. */
static void impair(struct ntad_worker *w, struct delay *d, unsigned int port, struct ntad_pkt *p,
		   uint64_t now)
{
	struct ntad_netem *n = &d->netem[port];

	if (ntad_netem_lose(n)) {
		ntad_pkt_free(w->q, p, 1);
		return;
	}
	if (ntad_netem_reorder(n)) {
		corrupt(w, n, p);
		d->now[d->nr_now++] = *p;
		return;
	}
	if (ntad_held_admit(w, d->fifo[port], p, now, false))
		corrupt(w, n, p); /* held: its own block now */
}

/* A copy of p in a block of its own, or false (counted as a drop). */
static bool duplicate(struct ntad_worker *w, struct ntad_retain *f, const struct ntad_pkt *p,
		      struct ntad_pkt *copy)
{
	if (ntad_pkt_alloc(w->q, p->len, copy, 1) != 1) {
		ntad_retain_count_drop(f);
		return false;
	}
	(void)ntad_pkt_read(w->q, p, copy->data, p->len);
	return true;
}

static unsigned int receive(struct ntad_worker *w, struct delay *d, unsigned int port,
			    uint64_t now)
{
	uint32_t want = ntad_rx_claim(w, w->o->batch), n, sent;
	unsigned int out = d->nr == 2 ? port ^ 1 : port;

	if (!want)
		return 0;
	n = ntad_rx_burst(w->q, port, w->pkts, want);
	ntad_rx_settle(w, want, n);
	if (d->netem[port].plain) { /* nothing to decide per packet: the batch held at once */
		for (uint32_t i = 0; d->nr == 1 && i < n; i++)
			if (w->pkts[i].len >= 12)
				ntad_swap_macs(w->pkts[i].data);
		(void)ntad_held_admit_burst(w, d->fifo[port], w->pkts, n, now);
		return n;
	}
	d->nr_now = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct ntad_pkt *p = &w->pkts[i], copy;
		bool dup = ntad_netem_duplicate(&d->netem[port]);

		if (d->nr == 1 && p->len >= 12)
			ntad_swap_macs(p->data);
		dup = dup && duplicate(w, d->fifo[port], p, &copy);
		impair(w, d, port, p, now);
		if (dup)
			impair(w, d, port, &copy, now);
	}
	if (!d->nr_now)
		return n;
	sent = ntad_tx_burst(w->q, out, d->now, d->nr_now);
	for (uint32_t i = sent; i < d->nr_now; i++)
		ntad_retain_count_drop(d->fifo[port]); /* no room on the ring: as a full FIFO */
	ntad_pkt_free(w->q, d->now + sent, d->nr_now - sent);
	return n;
}

/* Send the packets of fifo fi that are due, in order, on their way out. */
static unsigned int release(struct ntad_worker *w, struct delay *d, unsigned int fi, uint64_t now)
{
	struct ntad_retain *f = d->fifo[fi];
	struct ntad_netem *netem = &d->netem[fi];
	unsigned int out = d->nr == 2 ? fi ^ 1 : fi;
	uint32_t room = ntad_tx_room(w->q, out), chunk = ntad_umem__chunk_size(ntad_queue__umem(w->q));
	const struct ntad_held *h;
	uint64_t at;
	uint32_t n = 0, descs = 0, sent;

	if (room > w->o->batch)
		room = w->o->batch;
	/*
	 * A jumbo packet takes a descriptor per chunk: never pop more than the ring
	 * takes. With --slot the head leaves when its slot is open, and its
	 * lateness counts from the slot's opening.
	 */
	while (n < room && (h = ntad_retain_head(f)) &&
	       (at = ntad_netem_slot_release(netem, h->due)) <= now &&
	       (descs += (h->len + chunk - 1) / chunk) <= room) {
		ntad_netem_slot_take(netem, at, h->len);
		ntad_retain_defer_head(f, at);
		(void)ntad_pkt_at(w->q, h->addr, h->len, &w->pkts[n++]);
		(void)ntad_retain_pop(f, NTAD_RETAIN_RELEASE, now, NULL);
	}
	if (!n)
		return 0;
	sent = ntad_tx_burst(w->q, out, w->pkts, n);
	ntad_pkt_free(w->q, w->pkts + sent, n - sent); /* none: the room was counted */
	return n;
}

static unsigned int delay_step(struct ntad_worker *w, uint64_t now)
{
	struct delay *d = w->ms;
	unsigned int work = 0;

	for (unsigned int i = 0; i < d->nr; i++) {
		work += receive(w, d, i, now);
		work += release(w, d, i, now);
	}
	return work;
}

static bool delay_done(const struct ntad_worker *w)
{
	const struct delay *d = w->ms;

	if (!ntad_rx_all_taken(w))
		return false;
	for (unsigned int i = 0; i < d->nr; i++)
		if (ntad_retain_head(d->fifo[i]))
			return false;
	return !ntad_queue__tx_pending(w->q);
}

static uint64_t delay_next(const struct ntad_worker *w)
{
	const struct delay *d = w->ms;
	uint64_t next = 0;

	for (unsigned int i = 0; i < d->nr; i++) {
		const struct ntad_held *h = ntad_retain_head(d->fifo[i]);

		uint64_t t = h ? ntad_netem_slot_ready(&d->netem[i], h->due) : 0;

		if (h && (!next || t < next))
			next = t;
	}
	return next;
}

static void delay_publish(struct ntad_worker *w)
{
	struct delay *d = w->ms;
	struct ntad_counters *c = &w->c;

	ntad_held_publish(w, d->fifo, d->nr, true);
	c->held_limit = d->budget.limit; /* one budget, not one per FIFO */
	c->loss_dropped = c->duplicated = c->corrupted = c->reordered = 0;
	for (unsigned int i = 0; i < d->nr; i++) {
		c->loss_dropped += d->netem[i].st.lost;
		c->duplicated += d->netem[i].st.duplicated;
		c->corrupted += d->netem[i].st.corrupted;
		c->reordered += d->netem[i].st.reordered;
	}
}

static void delay_stop(struct ntad_worker *w)
{
	struct delay *d = w->ms;

	delay_publish(w); /* what was held at the stop, before the flush */
	for (unsigned int i = 0; i < d->nr; i++)
		while (ntad_retain_head(d->fifo[i]))
			ntad_held_drop_oldest(w, d->fifo[i], 0, NTAD_RETAIN_FLUSH);
}

static void delay_fini(struct ntad_worker *w)
{
	struct delay *d = w->ms;

	if (!d)
		return;
	for (unsigned int i = 0; i < d->nr; i++)
		ntad_retain_destroy(d->fifo[i]);
	free(d);
	w->ms = NULL;
}

const struct ntad_mode_ops ntad_mode_delay = {
	.name = "delay",
	.init = delay_init,
	.step = delay_step,
	.done = delay_done,
	.next_ns = delay_next,
	.publish = delay_publish,
	.stop = delay_stop,
	.fini = delay_fini,
};
