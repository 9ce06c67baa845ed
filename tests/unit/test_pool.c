// SPDX-License-Identifier: MIT
/*
 * test_pool.c - the fill regions both pools hand out, ready for zero-copy
 * drivers, which map a UMEM page by page: every region of a whole UMEM's worth
 * lies inside one 4 KiB page (one 2 MiB page on huge pages), no two overlap,
 * and all of them together are what the pool says it manages. Chunk sizes
 * 2048, 3072 (which does not divide the page) and 4096; several queues' slices
 * of the fixed pool; frees given back in any order, and in batches (free_bulk),
 * where the fixed pool refuses a batch freed twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pool.h"

#define UMEM (8u << 20)

/* Take every region the pools have; check placement and overlap; give them back. */
static void walk(struct ntad_pools *ps, uint32_t chunk, uint32_t page, const char *what)
{
	uint8_t *seen = calloc(UMEM / 32, 1);
	uint64_t *got = malloc(sizeof(uint64_t) * (UMEM / 2048 + 1));
	uint64_t n = 0, addrs[256];
	struct ntad_pool_stats st;

	for (unsigned int q = 0; q < ps->nr; q++) {
		unsigned int k;

		while ((k = ps->q[q]->ops->fill_alloc(ps->q[q], addrs, 256)) > 0) {
			for (unsigned int i = 0; i < k; i++) {
				uint64_t a = addrs[i];

				CHECK(a / page == (a + chunk - 1) / page, "%s: region %llu..%llu crosses a %u-byte page",
				      what, (unsigned long long)a, (unsigned long long)(a + chunk), page);
				CHECK(a + chunk <= UMEM, "%s: region past the UMEM", what);
				for (uint64_t u = a / 32; u < (a + chunk) / 32 && u < UMEM / 32; u++) {
					CHECK(!seen[u], "%s: regions overlap at %llu", what, (unsigned long long)u * 32);
					seen[u] = 1;
				}
				got[n++] = a;
			}
		}
	}
	ntad_pools_stats(ps, &st);
	CHECK(st.in_use >= n * chunk, "%s: %llu regions taken but %llu bytes in use", what,
	      (unsigned long long)n, (unsigned long long)st.in_use);
	/* Nearly all of the UMEM: a page's worth of regions less, at most, per queue. */
	CHECK(n + ps->nr * (page / chunk) >= (uint64_t)(UMEM / page) * (page / chunk),
	      "%s: only %llu regions", what, (unsigned long long)n);
	/* Back in reverse order, then the pools must be whole again. */
	while (n--)
		CHECK(!ntad_pools_free(ps, got[n], chunk), "%s: free of %llu refused", what,
		      (unsigned long long)got[n]);
	ntad_pools_drain(ps);
	ntad_pools_stats(ps, &st);
	CHECK(st.in_use == 0 && ntad_pools_check(ps) == 0, "%s: %llu bytes in use after the frees", what,
	      (unsigned long long)st.in_use);
	free(seen);
	free(got);
}

/* Each queue's regions back in one free_bulk; the same batch again is refused whole. */
static void bulk(struct ntad_pools *ps, uint32_t chunk, const char *what)
{
	struct ntad_pool_stats st;
	uint64_t addrs[64];

	for (unsigned int q = 0; q < ps->nr; q++) {
		struct ntad_pool *p = ps->q[q];
		unsigned int k = p->ops->fill_alloc(p, addrs, 64);

		CHECK(k == 64, "%s: queue %u gave %u regions", what, q, k);
		CHECK(p->ops->free_bulk(p, addrs, k, chunk) == 0, "%s: free_bulk refused some", what);
		/* nta's magazine trusts what it parks (the ledger in front of the
		 * pool refuses double frees); fixed frames check every free. */
		if (!strcmp(p->ops->name, "fixed"))
			CHECK(p->ops->free_bulk(p, addrs, k, chunk) == k,
			      "%s: a second free_bulk of the same regions was not refused whole", what);
	}
	ntad_pools_drain(ps);
	ntad_pools_stats(ps, &st);
	CHECK(st.in_use == 0 && ntad_pools_check(ps) == 0, "%s: %llu bytes in use after free_bulk", what,
	      (unsigned long long)st.in_use);
}

int main(void)
{
	static const uint32_t chunks[] = { 2048, 3072, 4096 };
	void *area = aligned_alloc(2u << 20, UMEM);

	for (unsigned int c = 0; c < 3; c++) {
		for (unsigned int nq = 1; nq <= 3; nq += 2) {
			struct ntad_pools ps;
			char what[64];

			snprintf(what, sizeof(what), "fixed, chunk %u, %u queues", chunks[c], nq);
			CHECK(!ntad_pools_create(&ps, NTAD_POOL_FIXED, area, UMEM, chunks[c], 0, nq, 4096), "%s", what);
			walk(&ps, chunks[c], 4096, what);
			bulk(&ps, chunks[c], what);
			ntad_pools_destroy(&ps);
			snprintf(what, sizeof(what), "nta, chunk %u, %u queues", chunks[c], nq);
			CHECK(!ntad_pools_create(&ps, NTAD_POOL_NTA, area, UMEM, chunks[c], 0, nq, 4096), "%s", what);
			walk(&ps, chunks[c], 4096, what);
			bulk(&ps, chunks[c], what);
			ntad_pools_destroy(&ps);
		}
		{
			struct ntad_pools ps;
			char what[64];

			/* Huge pages: frames pack up to the 2 MiB boundary, never across it. */
			snprintf(what, sizeof(what), "fixed on huge pages, chunk %u", chunks[c]);
			CHECK(!ntad_pools_create(&ps, NTAD_POOL_FIXED, area, UMEM, chunks[c], 0, 1, 2u << 20), "%s", what);
			walk(&ps, chunks[c], 2u << 20, what);
			ntad_pools_destroy(&ps);
		}
	}
	free(area);
	return check_done("test_pool");
}
