// SPDX-License-Identifier: MIT
/*
 * ledger.c - setup and the exit sweep of the buffer ledger (ledger.h has the
 * per-packet transitions inline, they run for every descriptor).
 *
 * Metadata lives outside the UMEM, like nta's: the kernel writes into frames.
 * Cost: 3 bytes per 32 bytes of UMEM (about 9%), paid once at start.
 */
#include <errno.h>
#include <stdlib.h>

#include "ledger.h"

int ntad_ledger_init(struct ntad_ledger *l, uint64_t umem_size)
{
	l->units = umem_size >> NTAD_LEDGER_SHIFT;
	l->violations = 0;
	l->view = false;
	l->where = calloc(l->units, sizeof(*l->where));
	l->len = calloc(l->units, sizeof(*l->len));
	if (!l->where || !l->len) {
		ntad_ledger_fini(l);
		return -ENOMEM;
	}
	return 0;
}

void ntad_ledger_fini(struct ntad_ledger *l)
{
	if (l->view) {
		l->where = NULL;
		l->len = NULL;
		return;
	}
	free(l->where);
	free(l->len);
	l->where = NULL;
	l->len = NULL;
}

uint64_t ntad_ledger_sweep(struct ntad_ledger *l, enum ntad_where where,
			   void (*fn)(void *arg, uint64_t addr, uint32_t len), void *arg)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < l->units; i++) {
		if (l->where[i] != where)
			continue;
		l->where[i] = NTAD_AT_POOL;
		fn(arg, i << NTAD_LEDGER_SHIFT, l->len[i]);
		n++;
	}
	return n;
}
