// SPDX-License-Identifier: MIT
/*
 * rxdrop.c - --mode rxdrop: receive, count (and with --verify check every
 * frame and its sequence number), give the buffer straight back. Nothing is
 * kept, so a received region goes back whole, untrimmed.
 *
 * --verify needs a frame in one piece: a multi-buffer chain is gathered into
 * one block of the pool (nta's jumbo range), or, where the pool has no block
 * that large (fixed frames), read into a scratch buffer.
 */
#include <errno.h>
#include <stdlib.h>

#include "modes.h"

struct rxdrop {
	uint8_t scratch[NTAD_PKT_MAX_LEN];
};

static int rxdrop_init(struct ntad_worker *w)
{
	if (!w->o->verify)
		return 0;
	w->ms = malloc(sizeof(struct rxdrop));
	return w->ms ? 0 : -ENOMEM;
}

static void verify(struct ntad_worker *w, struct ntad_pkt *p)
{
	const uint8_t *frame;
	uint32_t seq;

	if (p->nr_bufs > 1 && ntad_pkt_hold(w->q, p)) {
		struct rxdrop *r = w->ms;

		/* No block that large (fixed frames): read the chain out. */
		ntad_pkt_read(w->q, p, r->scratch, sizeof(r->scratch));
		frame = r->scratch;
	} else {
		frame = p->data; /* one buffer, or the block a chain was gathered into */
	}
	if (ntad_pkt_verify(frame, p->len, &seq) == NTAD_PKT_OK) {
		w->c.verify_valid++;
		ntad_seq_check(&w->seqc, seq);
	} else {
		w->c.verify_invalid++;
	}
}

static unsigned int rxdrop_step(struct ntad_worker *w, uint64_t now)
{
	uint32_t want = ntad_rx_claim(w, w->o->batch), n;

	(void)now;
	if (!want)
		return 0;
	n = ntad_rx_burst(w->q, 0, w->pkts, want);
	ntad_rx_settle(w, want, n);
	if (w->o->verify)
		for (uint32_t i = 0; i < n; i++)
			verify(w, &w->pkts[i]);
	ntad_pkt_free(w->q, w->pkts, n);
	return n;
}

static void rxdrop_fini(struct ntad_worker *w)
{
	free(w->ms);
	w->ms = NULL;
}

const struct ntad_mode_ops ntad_mode_rxdrop = {
	.name = "rxdrop",
	.init = rxdrop_init,
	.step = rxdrop_step,
	.done = ntad_rx_all_taken,
	.fini = rxdrop_fini,
};
