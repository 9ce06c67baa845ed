// SPDX-License-Identifier: MIT
/*
 * ledger.c - setup and the exit sweep of the buffer ledger (ledger.h has the
 * per-packet transitions inline, they run for every descriptor).
 *
 * Metadata lives outside the UMEM, like nta's: the kernel writes into frames.
 * Cost: 2 bytes per 32 bytes of UMEM (about 6 %), paid once at start.
 */
#include <errno.h>
#include <stdlib.h>

#include "ledger.h"

int ntad_ledger_init(struct ntad_ledger *l, uint64_t umem_size)
{
	l->units = umem_size >> NTAD_LEDGER_SHIFT;
	l->violations = 0;
	l->view = false;
	l->e = calloc(l->units, sizeof(*l->e));
	return l->e ? 0 : -ENOMEM;
}

void ntad_ledger_fini(struct ntad_ledger *l)
{
	if (!l->view)
		free(l->e);
	l->e = NULL;
}

uint64_t ntad_ledger_sweep(struct ntad_ledger *l, enum ntad_where where,
			   void (*fn)(void *arg, uint64_t addr, uint32_t len), void *arg)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < l->units; i++) {
		uint16_t e = l->e[i];

		if ((e & NTAD_LEDGER_STATE) != where)
			continue;
		l->e[i] = NTAD_AT_POOL;
		fn(arg, i << NTAD_LEDGER_SHIFT, ntad_ledger_len_of(e));
		n++;
	}
	return n;
}
