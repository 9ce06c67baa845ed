/* SPDX-License-Identifier: MIT */
/*
 * umem.h - the UMEM area and its registration with the kernel.
 *
 * Mapping and registration are separate steps: a failed first bind leaves the
 * UMEM socket unusable (its rings are already set up), so xsk.c registers a
 * fresh UMEM over the same area to retry, and the allocator, which manages the
 * area, never notices.
 */
#ifndef NTAD_UMEM_H
#define NTAD_UMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xdp/xsk.h>

#include "cli.h"

struct ntad_umem {
	void *area;
	uint64_t size;
	bool huge;
	struct xsk_umem_config cfg;
	struct xsk_umem *xumem;
	unsigned int nr_socks;  /* sockets bound to xumem */
	/* The rings created with the UMEM; the first socket bound uses them. */
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
};

/*
 * Map o->umem_size bytes (huge pages with o->hugepages) and register them in
 * unaligned chunk mode. Returns 0, or -errno with a "thing: problem; fix" line
 * in err; on failure nothing is left mapped.
 */
int ntad_umem_create(struct ntad_umem *u, const struct ntad_opts *o, char *err, size_t errlen);

/* Drop the registration (no socket may be bound) and register the area again. */
int ntad_umem_reregister(struct ntad_umem *u);

/* Unregister (all sockets must be gone) and unmap. Accepts a zeroed struct. */
void ntad_umem_destroy(struct ntad_umem *u);

#endif /* NTAD_UMEM_H */
