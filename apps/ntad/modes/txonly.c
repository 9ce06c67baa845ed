// SPDX-License-Identifier: MIT
/*
 * txonly.c - --mode txonly: a generator. Every frame is allocated at its exact
 * length (nta; a whole frame with fixed frames), built with a sequence number
 * the receiver can check (ntad_pkt.h), sent, and freed by the library when
 * the kernel has sent it. A frame larger than a chunk is one block sent as a
 * chain of descriptors.
 *
 * -n over several queues: each queue claims ranges of sequence numbers from
 * the shared counter, so together they send exactly -n, each number once.
 * --rate is a token bucket per queue, each with its share of the rate.
 */
#include <errno.h>
#include <stdlib.h>

#include "modes.h"

struct txonly {
	struct ntad_pkt_params pkt;
	uint64_t seq;          /* next sequence number */
	uint64_t seq_end;      /* end of the claimed range */
	double tokens;         /* --rate bucket */
	uint64_t last_refill;  /* ns */
};

static int txonly_init(struct ntad_worker *w)
{
	struct txonly *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->pkt = w->o->pkt;
	t->last_refill = ntad_now_ns();
	w->ms = t;
	return 0;
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
	t->seq += sent;
	if (w->rate)
		t->tokens -= sent;
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

static void txonly_fini(struct ntad_worker *w)
{
	free(w->ms);
	w->ms = NULL;
}

const struct ntad_mode_ops ntad_mode_txonly = {
	.name = "txonly",
	.init = txonly_init,
	.step = txonly_step,
	.done = txonly_done,
	.next_ns = txonly_next,
	.fini = txonly_fini,
};
