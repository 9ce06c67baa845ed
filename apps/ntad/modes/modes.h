/* SPDX-License-Identifier: MIT */
/*
 * modes.h - what the modes share beyond run.h: the forwarding burst that
 * l2fwd and fwd are both made of.
 */
#ifndef NTAD_MODES_H
#define NTAD_MODES_H

#include <stdbool.h>
#include <string.h>

#include "run.h"

/*
 * Move packets from port index in to port index out of w's queue (MACs
 * swapped with swap), never dropping one for want of a TX slot (l2fwd.c).
 * Returns the work done. The mode's state (w->ms) is the forwarder's: init,
 * done, stop and fini below are the mode's.
 */
unsigned int ntad_forward(struct ntad_worker *w, unsigned int in, unsigned int out, bool swap);
int ntad_forward_init(struct ntad_worker *w);
bool ntad_forward_done(const struct ntad_worker *w);
void ntad_forward_stop(struct ntad_worker *w);
void ntad_forward_fini(struct ntad_worker *w);

/* Swap a frame's destination and source MAC addresses (len >= 12). */
static inline void ntad_swap_macs(uint8_t *p)
{
	uint8_t tmp[6];

	memcpy(tmp, p, 6);
	memcpy(p, p + 6, 6);
	memcpy(p + 6, tmp, 6);
}

#endif /* NTAD_MODES_H */
