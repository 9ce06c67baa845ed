// SPDX-License-Identifier: MIT
/*
 * test_retain.c - the delay line's and capture buffer's FIFO without a socket:
 * arrival order through wrap-around, the byte budget, due times that never
 * decrease under jitter (netem.c), counters, the
 * lateness histogram's quantiles against exact ones from a sorted copy, and
 * histograms merged from parts equal to the whole.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retain.h"
#include "check.h"

static struct ntad_retain *make(uint64_t limit, struct ntad_netem *netem)
{
	struct ntad_retain_opts o = { .sz = sizeof(o), .limit_bytes = limit, .min_cost = 64,
				      .netem = netem };
	struct ntad_retain *r = ntad_retain_create(&o);

	if (!r) {
		perror("ntad_retain_create");
		exit(1);
	}
	return r;
}

static void test_bad_opts(void)
{
	struct ntad_retain_opts o = { .sz = sizeof(o), .limit_bytes = 0, .min_cost = 64 };

	errno = 0;
	CHECK(!ntad_retain_create(&o) && errno == EINVAL, "limit 0 accepted");
	o.limit_bytes = 4096;
	o.min_cost = 0;
	CHECK(!ntad_retain_create(&o) && errno == EINVAL, "min_cost 0 accepted");
	CHECK(!ntad_retain_create(NULL), "NULL opts accepted");
}

/* Capture-style use: evict the oldest until a newcomer fits, through many wraps. */
static void test_fifo_budget(void)
{
	struct ntad_retain *r = make(64 * 100, NULL);
	struct ntad_retain_stats st;
	uint64_t next_out = 0, evicted = 0;

	for (uint64_t i = 0; i < 100000; i++) {
		uint32_t cost = 64 * (uint32_t)(1 + i % 3);
		struct ntad_held h = { 0 };

		while (!ntad_retain_fits(r, cost)) {
			CHECK(!ntad_retain_pop(r, NTAD_RETAIN_EVICT, i, &h), "pop of a full FIFO failed");
			CHECK(h.addr == next_out, "evicted %llu, expected %llu",
			      (unsigned long long)h.addr, (unsigned long long)next_out);
			CHECK(h.cost == 64 * (1 + h.addr % 3) && h.len == h.cost - 1, "entry %llu changed",
			      (unsigned long long)h.addr);
			next_out++;
			evicted++;
		}
		CHECK(!ntad_retain_push(r, i, cost - 1, cost, i), "push %llu failed", (unsigned long long)i);
		ntad_retain_get_stats(r, &st);
		CHECK(st.held_cost <= 64 * 100, "over budget: %llu", (unsigned long long)st.held_cost);
	}
	ntad_retain_get_stats(r, &st);
	CHECK(st.admitted == 100000 && st.evicted == evicted, "admitted %llu evicted %llu",
	      (unsigned long long)st.admitted, (unsigned long long)st.evicted);
	CHECK(st.held_packets == 100000 - evicted, "held %llu", (unsigned long long)st.held_packets);
	/* The held window is the newest packets, in order. */
	for (uint64_t i = 0; i < st.held_packets; i++)
		CHECK(ntad_retain_at(r, i)->addr == next_out + i, "window entry %llu", (unsigned long long)i);
	CHECK(!ntad_retain_at(r, st.held_packets), "past the end");
	CHECK(st.peak_cost <= 6400 && st.peak_cost >= 6400 - 192, "peak %llu", (unsigned long long)st.peak_cost);
	while (!ntad_retain_pop(r, NTAD_RETAIN_FLUSH, 0, NULL))
		;
	ntad_retain_get_stats(r, &st);
	CHECK(!st.held_packets && !st.held_bytes && !st.held_cost, "flush left %llu",
	      (unsigned long long)st.held_packets);
	CHECK(st.evicted == evicted && !st.released, "flush counted as eviction or release");
	CHECK(ntad_retain_pop(r, NTAD_RETAIN_EVICT, 0, NULL) == -ENOENT, "pop of empty");
	ntad_retain_destroy(r);
}

/* The ring itself bounds the count: limit / min_cost entries (rounded up to a power of two). */
static void test_ring_full(void)
{
	struct ntad_retain *r = make(64 * 64, NULL);
	unsigned int n = 0;

	/* Cost 0 would pass any budget: only the ring stops it. */
	while (ntad_retain_fits(r, 0) && n < 100000)
		CHECK(!ntad_retain_push(r, n++, 1, 0, 0), "push");
	CHECK(n >= 65 && n <= 256, "ring took %u entries", n);
	CHECK(ntad_retain_push(r, n, 1, 0, 0) == -ENOSPC, "push into a full ring");
	ntad_retain_destroy(r);
}

/* Delay: due = arrival + delay +- jitter (netem.c), never decreasing; jitter within bounds. */
static void test_due_order(void)
{
	const uint64_t delay = 100000000, jitter = 5000000;
	struct ntad_netem_opts no = { .delay_ns = delay, .jitter_ns = jitter };
	struct ntad_netem n;
	struct ntad_retain *r;
	uint64_t prev = 0, raised = 0;

	ntad_netem_init(&n, &no, 42);
	r = make(1 << 20, &n);

	for (uint64_t i = 0; i < 10000; i++) {
		const struct ntad_held *h;
		uint64_t arrival = i * 1000;

		CHECK(!ntad_retain_push(r, i, 64, 64, arrival), "push");
		h = ntad_retain_at(r, i);
		CHECK(h->due >= arrival + delay - jitter, "due before the delay less the jitter");
		CHECK(h->due >= prev, "due went back: %llu < %llu", (unsigned long long)h->due,
		      (unsigned long long)prev);
		if (i && h->due == prev)
			raised++; /* held back by an earlier jittered packet: allowed */
		CHECK(h->due <= arrival + delay + jitter || h->due == prev, "jitter beyond bound");
		prev = h->due;
	}
	CHECK(raised > 0, "jitter never held a packet back (no jitter applied?)");
	/* Release at due + 7 us: lateness 7 us each, hold time >= delay. */
	for (uint64_t i = 0; i < 10000; i++) {
		struct ntad_held h = { 0 };
		const struct ntad_held *hd = ntad_retain_head(r);

		CHECK(hd && hd->addr == i, "head %llu", (unsigned long long)i);
		CHECK(!ntad_retain_pop(r, NTAD_RETAIN_RELEASE, hd->due + 7000, &h), "release");
	}
	CHECK(ntad_retain_lateness(r)->n == 10000, "lateness samples");
	CHECK(ntad_retain_lateness(r)->min == 7000 && ntad_retain_lateness(r)->max == 7000,
	      "lateness min %llu max %llu", (unsigned long long)ntad_retain_lateness(r)->min,
	      (unsigned long long)ntad_retain_lateness(r)->max);
	CHECK(ntad_retain_holdtime(r)->min >= delay - jitter, "held less than the delay less the jitter");
	ntad_retain_destroy(r);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_hist(void)
{
	static struct ntad_hist h, part[2], merged;
	enum { N = 20000 };
	static uint64_t v[N];
	const double qs[] = { 0.01, 0.5, 0.9, 0.99, 0.999, 1 };
	uint64_t x = 12345;

	memset(&h, 0, sizeof(h));
	CHECK(ntad_hist_quantile(&h, 0.5) == 0, "empty");
	for (unsigned int i = 0; i < N; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		v[i] = (x >> 20) % (i % 2 ? 1000 : 50000000); /* two populations, ns to ms */
		ntad_hist_add(&h, v[i]);
		ntad_hist_add(&part[i % 3 == 0], v[i]); /* two queues of unequal shares */
	}
	/* Merging per-queue histograms is the histogram of all samples. */
	ntad_hist_merge(&merged, &part[0]);
	ntad_hist_merge(&merged, &part[1]);
	CHECK(!memcmp(&merged, &h, sizeof(h)), "merged histogram differs from the whole");
	qsort(v, N, sizeof(v[0]), cmp_u64);
	CHECK(h.min == v[0] && h.max == v[N - 1] && h.n == N, "min/max/n");
	for (unsigned int i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		uint64_t exact = v[(size_t)(qs[i] * N + 0.999999) - 1], got = ntad_hist_quantile(&h, qs[i]);

		/* An upper bound within one bucket (1/32) of the exact order statistic. */
		CHECK(got >= exact && got <= exact + exact / 16 + 1, "q%.3f: %llu, exact %llu", qs[i],
		      (unsigned long long)got, (unsigned long long)exact);
	}
	/* Small values are exact; the largest bucket holds 2^64 - 1. */
	memset(&h, 0, sizeof(h));
	ntad_hist_add(&h, 3);
	ntad_hist_add(&h, UINT64_MAX);
	CHECK(ntad_hist_quantile(&h, 0.5) == 3, "small value");
	CHECK(ntad_hist_quantile(&h, 1) == UINT64_MAX, "max value");
}

int main(void)
{
	test_bad_opts();
	test_fifo_budget();
	test_ring_full();
	test_due_order();
	test_hist();
	return check_done("test_retain");
}
