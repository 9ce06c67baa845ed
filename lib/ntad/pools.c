// SPDX-License-Identifier: MIT
/*
 * pools.c - the UMEM managers of all queues as one set: creation, whole-UMEM
 * statistics and check, and the teardown frees that must reach the right
 * handle.
 *
 * The two kinds differ in what a handle covers. nta: one allocator for the
 * whole UMEM, each queue holding a cache of it, so any handle frees any
 * address and any handle's stats are the total. fixed: each queue its own
 * slice of frames (the N per-queue UMEMs the shared nta is measured against),
 * so totals are sums and a free must go to the slice that holds the address.
 */
#include <errno.h>
#include <string.h>

#include "pool.h"

int ntad_pools_create(struct ntad_pools *ps, enum ntad_pool_kind kind, void *area, uint64_t size,
		      uint32_t chunk_size, uint64_t jumbo_size, unsigned int nr, uint32_t page)
{
	uint64_t slice;

	memset(ps, 0, sizeof(*ps));
	if (!nr || nr > NTAD_MAX_QUEUES)
		return -EINVAL;
	if (kind == NTAD_POOL_NTA)
		return ntad_pools_nta_create(ps, area, size, chunk_size, jumbo_size, nr);
	ps->name = "fixed";
	slice = size / nr / page * page;
	for (unsigned int i = 0; i < nr; i++) {
		ps->q[i] = ntad_pool_fixed_create_at(i * slice, slice, chunk_size, page);
		if (!ps->q[i]) {
			int ret = -errno;

			ntad_pools_destroy(ps);
			return ret;
		}
		ps->nr++;
	}
	return 0;
}

int ntad_pools_free(struct ntad_pools *ps, uint64_t addr, uint32_t len)
{
	for (unsigned int i = 0; i < ps->nr; i++) {
		struct ntad_pool *p = ps->q[i];

		if (p->shared || (addr >= p->base && addr - p->base < p->size))
			return p->ops->free(p, addr, len);
	}
	return -EINVAL;
}

unsigned int ntad_pools_drain(struct ntad_pools *ps)
{
	unsigned int errors = 0;

	for (unsigned int i = 0; i < ps->nr; i++)
		errors += ps->q[i]->ops->drain(ps->q[i]);
	return errors;
}

void ntad_pools_stats(const struct ntad_pools *ps, struct ntad_pool_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (unsigned int i = 0; i < ps->nr; i++) {
		struct ntad_pool_stats s;

		ps->q[i]->ops->stats(ps->q[i], &s);
		if (ps->q[i]->shared) {
			*st = s;
			return;
		}
		st->size += s.size;
		st->in_use += s.in_use;
		st->free += s.free;
		st->cached += s.cached;
		st->alloc_failures += s.alloc_failures;
		st->trims_undone += s.trims_undone;
		if (s.largest_free > st->largest_free)
			st->largest_free = s.largest_free;
	}
}

int ntad_pools_check(const struct ntad_pools *ps)
{
	for (unsigned int i = 0; i < ps->nr; i++) {
		int ret = ps->q[i]->ops->check(ps->q[i]);

		if (ret || ps->q[i]->shared)
			return ret;
	}
	return 0;
}

void ntad_pools_destroy(struct ntad_pools *ps)
{
	while (ps->nr) {
		struct ntad_pool *p = ps->q[--ps->nr];

		p->ops->destroy(p);
		ps->q[ps->nr] = NULL;
	}
	if (ps->shared)
		ntad_pools_nta_destroy_shared(ps->shared);
	ps->shared = NULL;
}
