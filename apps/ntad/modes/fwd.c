// SPDX-License-Identifier: MIT
/*
 * fwd.c - --mode fwd: a wire between two interfaces (-i and -o) on one UMEM.
 * What arrives on one leaves on the other untouched, in both directions, with
 * the same copy-or-trim as l2fwd (modes.h).
 */
#include "modes.h"

static unsigned int fwd_step(struct ntad_worker *w, uint64_t now)
{
	(void)now;
	return ntad_forward(w, 0, 1, false) + ntad_forward(w, 1, 0, false);
}

const struct ntad_mode_ops ntad_mode_fwd = {
	.name = "fwd",
	.init = ntad_forward_init,
	.step = fwd_step,
	.done = ntad_forward_done,
	.stop = ntad_forward_stop,
	.fini = ntad_forward_fini,
};
