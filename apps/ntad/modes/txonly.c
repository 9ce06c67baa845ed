// SPDX-License-Identifier: MIT
/*
 * txonly.c - --mode txonly: a generator of frames the receiver can check (a
 * sequence number, valid IPv4 and UDP checksums, a payload it can regenerate;
 * ntad_pkt.h).
 *
 * By default (--payload stamp) a frame is written once per buffer and sent
 * again and again, as xdpsock's txonly does: ntad_tx_burst_keep sends it,
 * ntad_tx_done gives it back once the kernel has sent it, and ntad_pkt_stamp
 * gives it the next sequence number (the number, the IPv4 id and both
 * checksums, updated in place): a cost per frame that does not grow with its
 * length. Sent frames come back in a stash per length (one, or IMIX's three);
 * a new frame is allocated at its exact length (nta; a whole frame with fixed
 * frames) only when the stash of its length is empty. --payload full, and
 * frames larger than a chunk (one block sent as a chain of descriptors),
 * allocate and write every frame whole, and the library frees it once sent.
 *
 * -n over several queues: each queue claims ranges of sequence numbers from
 * the shared counter, so together they send exactly -n, each number once.
 * --rate is a token bucket per queue, each with its share of the rate.
 */
#include <errno.h>
#include <stdlib.h>

#include "modes.h"

#define LENS 3 /* IMIX's lengths; one with --size */

/* Written frames of one length that the kernel has sent: UMEM offsets. */
struct stash {
	uint32_t len;
	uint32_t n, cap;
	uint64_t *addr;
};

struct txonly {
	struct ntad_pkt_params pkt;
	uint64_t seq;          /* next sequence number */
	uint64_t seq_end;      /* end of the claimed range */
	double tokens;         /* --rate bucket */
	uint64_t last_refill;  /* ns */
	bool stamp;            /* frames written once and stamped (else: whole, every time) */
	struct stash stash[LENS];
};

static int txonly_init(struct ntad_worker *w)
{
	uint32_t chunk = ntad_umem__chunk_size(ntad_queue__umem(w->q));
	struct txonly *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->pkt = w->o->pkt;
	t->last_refill = ntad_now_ns();
	t->stamp = !w->o->payload_full && (w->o->imix ? 1500 : w->o->size) <= chunk;
	if (w->o->imix) {
		t->stash[0].len = 64;
		t->stash[1].len = 576;
		t->stash[2].len = 1500;
	} else {
		t->stash[0].len = w->o->size;
	}
	w->ms = t;
	return 0;
}

static struct stash *stash_of(struct txonly *t, uint32_t len)
{
	for (unsigned int i = 0; i < LENS; i++)
		if (t->stash[i].len == len)
			return &t->stash[i];
	return NULL;
}

/* Grows as frames first come back (at most what the rings hold in flight). */
static int stash_put(struct stash *st, uint64_t addr)
{
	if (st->n == st->cap) {
		uint32_t cap = st->cap ? 2 * st->cap : 256;
		uint64_t *a = realloc(st->addr, cap * sizeof(*a));

		if (!a)
			return -ENOMEM;
		st->addr = a;
		st->cap = cap;
	}
	st->addr[st->n++] = addr;
	return 0;
}

/* Into the stash of its length, or (no memory for it) back to the pool. */
static void keep(struct ntad_worker *w, struct txonly *t, struct ntad_pkt *p)
{
	struct stash *st = stash_of(t, p->len);

	if (!st || stash_put(st, p->addr))
		ntad_pkt_free(w->q, p, 1);
}

/* Frames the kernel has sent, back into their stashes. */
static void collect(struct ntad_worker *w, struct txonly *t)
{
	unsigned int n;

	while ((n = ntad_tx_done(w->q, w->pkts, NTAD_BATCH_MAX)) > 0)
		for (unsigned int i = 0; i < n; i++)
			keep(w, t, &w->pkts[i]);
}

/* pkts[i] for sequence number seq, len bytes: a stashed frame, else a new one written once. */
static bool take_frame(struct ntad_worker *w, struct txonly *t, uint32_t len, uint32_t seq,
		       struct ntad_pkt *p)
{
	struct stash *st = stash_of(t, len);

	if (st && st->n)
		(void)ntad_pkt_at(w->q, st->addr[--st->n], len, p); /* an offset the library gave */
	else if (ntad_pkt_alloc(w->q, len, p, 1) == 1)
		ntad_pkt_template(p->data, len, &t->pkt);
	else
		return false;
	if (ntad_pkt_stamp(p->data, seq)) { /* not a template: overwritten since */
		ntad_pkt_free(w->q, p, 1);
		return false;
	}
	return true;
}

/* How many frames this pass may send: the claimed numbers and the tokens. */
static uint32_t budget(struct ntad_worker *w, struct txonly *t, uint64_t now)
{
	uint64_t count = w->o->count;
	uint32_t want = w->o->batch;

	if (count) {
		if (t->seq >= t->seq_end) {
			uint64_t s0 = __atomic_fetch_add(&w->run->seq_claimed, want, __ATOMIC_RELAXED);

			if (s0 >= count)
				return 0;
			t->seq = s0;
			t->seq_end = s0 + want < count ? s0 + want : count;
		}
		want = (uint32_t)(t->seq_end - t->seq);
	}
	if (w->rate) {
		double cap = w->o->batch > w->rate / 100.0 ? w->o->batch : w->rate / 100.0;

		t->tokens += (double)(now - t->last_refill) * 1e-9 * (double)w->rate;
		t->last_refill = now;
		if (t->tokens > cap)
			t->tokens = cap;
		if (t->tokens < 1)
			return 0;
		if (t->tokens < want)
			want = (uint32_t)t->tokens;
	}
	return want;
}

/* --payload full: every frame allocated and written whole; the library frees it once sent. */
static uint32_t build_and_send(struct ntad_worker *w, struct txonly *t, uint32_t want)
{
	struct ntad_pkt *pkts = w->pkts;
	uint32_t got = 0, sent;

	if (!w->o->imix) {
		got = ntad_pkt_alloc(w->q, w->o->size, pkts, want);
		for (uint32_t i = 0; i < got; i++)
			ntad_pkt_build(pkts[i].data, w->o->size, &t->pkt, (uint32_t)(t->seq + i));
	} else {
		for (; got < want; got++) {
			uint32_t len = ntad_pkt_imix_len(t->seq + got);

			if (ntad_pkt_alloc(w->q, len, &pkts[got], 1) != 1)
				break;
			ntad_pkt_build(pkts[got].data, len, &t->pkt, (uint32_t)(t->seq + got));
		}
	}
	sent = ntad_tx_burst(w->q, 0, pkts, got);
	/* No room on the ring for the rest: their numbers go out next pass. */
	ntad_pkt_free(w->q, pkts + sent, got - sent);
	return sent;
}

static bool txonly_done(const struct ntad_worker *w)
{
	const struct txonly *t = w->ms;

	return __atomic_load_n(&w->run->seq_claimed, __ATOMIC_RELAXED) >= w->o->count &&
	       t->seq >= t->seq_end && !ntad_queue__tx_pending(w->q);
}

/* Rate-limited: the next token is due then. */
static uint64_t txonly_next(const struct ntad_worker *w)
{
	const struct txonly *t = w->ms;

	if (!w->rate || t->tokens >= 1)
		return 0;
	return t->last_refill + (uint64_t)((1.0 - t->tokens) * 1e9 / (double)w->rate);
}

static unsigned int txonly_step(struct ntad_worker *w, uint64_t now)
{
	struct txonly *t = w->ms;
	struct ntad_pkt *pkts = w->pkts;
	uint32_t chunk = ntad_umem__chunk_size(ntad_queue__umem(w->q));
	uint32_t longest = w->o->imix ? 1500 : w->o->size;
	/* Build no more than the TX ring takes now (a frame per chunk it spans). */
	uint32_t room = ntad_tx_room(w->q, 0) / ((longest + chunk - 1) / chunk);
	uint32_t want = budget(w, t, now), got = 0, sent;

	if (want > room)
		want = room;
	if (!want)
		return 0;
	if (t->stamp) {
		collect(w, t);
		for (; got < want; got++) {
			uint32_t len = w->o->imix ? ntad_pkt_imix_len(t->seq + got) : w->o->size;

			if (!take_frame(w, t, len, (uint32_t)(t->seq + got), &pkts[got]))
				break;
		}
		sent = ntad_tx_burst_keep(w->q, 0, pkts, got);
		/* No room on the ring for the rest: stashed, their numbers go out next pass. */
		for (uint32_t i = sent; i < got; i++)
			keep(w, t, &pkts[i]);
	} else {
		sent = build_and_send(w, t, want);
	}
	t->seq += sent;
	if (w->rate)
		t->tokens -= sent;
	return sent;
}

/* Stopped: the stashed frames go back to the pool (those in flight come back to it at drain). */
static void txonly_stop(struct ntad_worker *w)
{
	struct txonly *t = w->ms;

	collect(w, t);
	for (unsigned int i = 0; i < LENS; i++) {
		struct stash *st = &t->stash[i];

		for (; st->n; st->n--) {
			struct ntad_pkt p;

			if (!ntad_pkt_at(w->q, st->addr[st->n - 1], st->len, &p))
				ntad_pkt_free(w->q, &p, 1);
		}
	}
}

static void txonly_fini(struct ntad_worker *w)
{
	struct txonly *t = w->ms;

	for (unsigned int i = 0; t && i < LENS; i++)
		free(t->stash[i].addr);
	free(t);
	w->ms = NULL;
}

const struct ntad_mode_ops ntad_mode_txonly = {
	.name = "txonly",
	.init = txonly_init,
	.step = txonly_step,
	.done = txonly_done,
	.next_ns = txonly_next,
	.stop = txonly_stop,
	.fini = txonly_fini,
};
