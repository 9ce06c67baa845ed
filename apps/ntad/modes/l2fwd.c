// SPDX-License-Identifier: MIT
/*
 * l2fwd.c - --mode l2fwd: every frame goes back out of the interface it came
 * in on, MACs swapped. The library makes each one cheap to keep while it
 * waits on the TX ring (a copy into an exact block up to --copy-break, a trim
 * above), and frees it when the kernel has sent it.
 *
 * A batch is never larger than the room on the TX ring, so a frame is never
 * received without a slot to go to. A multi-buffer frame takes a slot per
 * buffer, so a batch of them may find the ring full after all: what did not
 * fit waits here and goes first on the next pass, never dropped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "modes.h"

struct forward {
	struct ntad_pkt wait[NTAD_QUEUE_MAX_PORTS][NTAD_BATCH_MAX]; /* per output port */
	uint32_t nr_wait[NTAD_QUEUE_MAX_PORTS];
};

int ntad_forward_init(struct ntad_worker *w)
{
	w->ms = calloc(1, sizeof(struct forward));
	return w->ms ? 0 : -ENOMEM;
}

/* Send what waits for out; true when nothing is left waiting. */
static bool send_waiting(struct ntad_worker *w, struct forward *f, unsigned int out)
{
	uint32_t n = f->nr_wait[out], sent;

	if (!n)
		return true;
	sent = ntad_tx_burst(w->q, out, f->wait[out], n);
	memmove(f->wait[out], f->wait[out] + sent, (n - sent) * sizeof(f->wait[out][0]));
	f->nr_wait[out] = n - sent;
	return sent == n;
}

unsigned int ntad_forward(struct ntad_worker *w, unsigned int in, unsigned int out, bool swap)
{
	struct forward *f = w->ms;
	struct ntad_pkt *pkts = w->pkts;
	uint32_t want, n, sent;

	if (!send_waiting(w, f, out))
		return 1;
	want = ntad_tx_room(w->q, out);
	if (want > w->o->batch)
		want = w->o->batch;
	if (!want || !(want = ntad_rx_claim(w, want)))
		return 0;
	n = ntad_rx_burst(w->q, in, pkts, want);
	ntad_rx_settle(w, want, n);
	if (!n)
		return 0;
	for (uint32_t i = 0; swap && i < n; i++)
		if (pkts[i].len >= 12)
			ntad_swap_macs(pkts[i].data);
	sent = ntad_tx_burst(w->q, out, pkts, n);
	if (sent < n) {
		memcpy(f->wait[out], pkts + sent, (n - sent) * sizeof(*pkts));
		f->nr_wait[out] = n - sent;
	}
	return n;
}

bool ntad_forward_done(const struct ntad_worker *w)
{
	const struct forward *f = w->ms;

	for (unsigned int i = 0; i < NTAD_QUEUE_MAX_PORTS; i++)
		if (f->nr_wait[i])
			return false;
	return ntad_rx_all_taken(w);
}

void ntad_forward_stop(struct ntad_worker *w)
{
	struct forward *f = w->ms;

	for (unsigned int i = 0; i < NTAD_QUEUE_MAX_PORTS; i++) {
		ntad_pkt_free(w->q, f->wait[i], f->nr_wait[i]);
		f->nr_wait[i] = 0;
	}
}

void ntad_forward_fini(struct ntad_worker *w)
{
	free(w->ms);
	w->ms = NULL;
}

static unsigned int l2fwd_step(struct ntad_worker *w, uint64_t now)
{
	(void)now;
	return ntad_forward(w, 0, 0, true);
}

const struct ntad_mode_ops ntad_mode_l2fwd = {
	.name = "l2fwd",
	.init = ntad_forward_init,
	.step = l2fwd_step,
	.done = ntad_forward_done,
	.stop = ntad_forward_stop,
	.fini = ntad_forward_fini,
};
