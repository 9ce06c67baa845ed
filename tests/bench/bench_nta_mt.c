// SPDX-License-Identifier: MIT
/*
 * bench_nta_mt.c - allocator operations per second of the multi-queue engine's
 * trace through nta_mt caches, with 1 and 2 threads in the same run, and plain
 * nta on one thread as the reference. Not a test.
 *
 * The trace is the engine's per-packet work on one queue (bench_nta's trace
 * (ii)): alloc a 2048-byte fill region, trim it to an IMIX length (64/576/1500,
 * 7:4:1) behind the 256-byte head (the kernel's headroom) in one call, as ntad
 * does (nta_trim, nta_mt_trim), hold it among 4096 in flight (random
 * replacement), free it: three allocator calls per packet. Each thread plays a queue: its own pre-generated trace (its own
 * seed, so the random number generator is not timed), its own nta_mt_cache, one
 * nta shared by all threads, as ntad --queues N does. The 2-thread case runs
 * both queues at once on the same nta, threads pinned to CPUs 0 and 1 when the
 * machine has them.
 *
 * Configurations alternate within each round (plain, 1 thread, 2 threads), so
 * a busy machine slows all of them alike; printed: per configuration the median
 * over the rounds of the aggregate allocator calls per second and ns per packet
 * per thread, the locks taken per packet, and the 2-thread / 1-thread ratio of
 * the medians. Each run ends by freeing everything it holds; a configuration
 * that leaves bytes in use or fails nta_check makes the program exit 1.
 * Usage: bench_nta_mt [rounds (default 7)] [packets per thread (default 2000000)]
 *
 * bench_nta_mt meta: nta's metadata for the shared UMEM sizes ntad asks of an
 * N-queue configuration with the default rings (docs/MULTIQUEUE.md): for N = 1,
 * 2, 4, 16, 64 an nta over (N * 2048 fill + 2048 rx + 2048 tx) * 2048 bytes,
 * its metadata after nta_create, and its peak after N queues' worth of the
 * trace above run one after the other (each its own cache, 4096 packets in
 * flight, 200000 packets, everything freed at the end), with the peak bytes in
 * use. (The trace holds its 4096 trimmed packets much longer than an rxdrop or
 * l2fwd queue does, and scatters them over up to 4096 chunks: two such queues
 * at once do not fit the 16 MiB of N = 2, which is why they run in turn.)
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nta.h"
#include "nta_mt.h"

#define AREA (64ull << 20)
#define SLOTS 4096u
#define MAXROUNDS 31
#define MAXTHREADS 2
#define OPS_PER_PKT 3

enum kind { OP_ALLOC, OP_TRIM, OP_FREE };
struct op {
	uint32_t kind : 2, slot : 30;
	uint16_t rel, len; /* trim/free: [off + rel, off + rel + len); alloc: len */
};

struct trace {
	struct op *ops;
	size_t nops, warm; /* ops[0..warm) fill the in-flight set, untimed */
	unsigned long packets;
	struct op last[SLOTS];  /* what each slot holds at the end */
};

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void push(struct trace *t, enum kind k, uint32_t slot, uint32_t rel, uint32_t len)
{
	t->ops[t->nops++] = (struct op){ .kind = k, .slot = slot, .rel = (uint16_t)rel,
					 .len = (uint16_t)len };
}

/* SLOTS packets to warm up, then `packets` timed ones, each freeing the packet
 * it replaces first. keep[slot] is what that final free must release. */
static int gen(struct trace *t, uint64_t seed, unsigned long packets)
{
	struct op *keep = t->last;

	t->packets = packets;
	t->ops = malloc(sizeof(*t->ops) * (SLOTS + packets) * OPS_PER_PKT);
	if (!t->ops)
		return -ENOMEM;
	t->nops = 0;
	for (unsigned long i = 0; i < SLOTS + packets; i++) {
		uint32_t r = (uint32_t)(rnd(&seed) % 12), slot;
		uint32_t len = r < 7 ? 64 : r < 11 ? 576 : 1500;

		if (i == SLOTS)
			t->warm = t->nops;
		if (i < SLOTS) {
			slot = (uint32_t)i;
		} else {
			slot = (uint32_t)(rnd(&seed) % SLOTS);
			push(t, OP_FREE, slot, keep[slot].rel, keep[slot].len);
		}
		push(t, OP_ALLOC, slot, 0, 2048);
		push(t, OP_TRIM, slot, 256, len);
		keep[slot] = (struct op){ .rel = 256, .len = (uint16_t)len };
	}
	return 0;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* One queue's worker: a trace, and either a plain nta or an nta_mt cache. */
struct worker {
	const struct trace *t;
	struct nta *nta;            /* plain reference, or NULL */
	struct nta_mt *mt;          /* else: a cache of this front */
	pthread_barrier_t *start;
	int cpu;                    /* pin to this CPU, or -1 */
	double ns;                  /* timed part */
	unsigned long failures;     /* allocator calls that failed */
	uint64_t offs[SLOTS];
};

static int call(struct worker *w, struct nta_mt_cache *c, const struct op *o)
{
	uint64_t *off = &w->offs[o->slot];

	if (o->kind == OP_ALLOC)
		return c ? nta_mt_alloc(c, o->len, off) : nta_alloc(w->nta, o->len, off);
	if (o->kind == OP_TRIM) /* the fill region keeps [rel, rel + len) */
		return c ? nta_mt_trim(c, *off, 2048, *off + o->rel, o->len) :
			   nta_trim(w->nta, *off, 2048, *off + o->rel, o->len);
	return c ? nta_mt_free(c, *off + o->rel, o->len) : nta_free(w->nta, *off + o->rel, o->len);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	const struct trace *t = w->t;
	struct nta_mt_cache *c = NULL;
	double t0;

	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	if (w->mt && !(c = nta_mt_cache_create(w->mt))) {
		w->failures = 1;
		pthread_barrier_wait(w->start);
		return NULL;
	}
	for (size_t i = 0; i < t->warm; i++)
		w->failures += call(w, c, &t->ops[i]) != 0;
	pthread_barrier_wait(w->start);
	t0 = now_ns();
	for (size_t i = t->warm; i < t->nops; i++)
		w->failures += call(w, c, &t->ops[i]) != 0;
	w->ns = now_ns() - t0;
	/* Give back what the trace still holds, then the cache's parked regions. */
	for (uint32_t s = 0; s < SLOTS; s++) {
		struct op last = t->last[s];

		last.kind = OP_FREE;
		last.slot = s;
		w->failures += call(w, c, &last) != 0;
	}
	nta_mt_cache_destroy(c);
	return NULL;
}

/* CFG_SPLIT: two threads, each on an nta_mt of its own over half the area,
 * sharing nothing: what the machine itself gives two threads. */
enum { CFG_PLAIN, CFG_MT1, CFG_MT2, CFG_SPLIT, NCFG };
static const char *const cfg_name[NCFG] = {
	"nta, 1 thread (reference)", "nta_mt, 1 thread", "nta_mt, 2 threads",
	"2 threads, 2 separate ntas",
};

struct result {
	double mops, ns_pkt, locks_pkt;
};

static void *area;

/* One round of one configuration; 0, or -1 when the allocator misbehaved. */
static int run(int cfg, const struct trace *traces, int ncpu, struct result *res)
{
	int nthreads = cfg == CFG_MT2 || cfg == CFG_SPLIT ? 2 : 1, nareas = cfg == CFG_SPLIT ? 2 : 1;
	struct worker *w = calloc(MAXTHREADS, sizeof(*w));
	pthread_t th[MAXTHREADS];
	pthread_barrier_t start;
	struct nta *nta[MAXTHREADS] = { NULL };
	struct nta_mt *mt[MAXTHREADS] = { NULL };
	double ns = 0;
	unsigned long failures = 0, packets = 0;
	uint64_t locks = 0;
	int ret = -1;

	if (!w)
		goto out;
	for (int a = 0; a < nareas; a++) {
		nta[a] = nta_create((char *)area + a * (AREA / nareas), AREA / nareas, NULL);
		if (!nta[a] || (cfg != CFG_PLAIN && !(mt[a] = nta_mt_create(nta[a], NULL))))
			goto out;
	}
	pthread_barrier_init(&start, NULL, (unsigned)nthreads);
	for (int i = 0; i < nthreads; i++) {
		int a = i % nareas;

		w[i] = (struct worker){ .t = &traces[i], .nta = mt[a] ? NULL : nta[a], .mt = mt[a],
					.start = &start, .cpu = nthreads > 1 && ncpu > 1 ? i : -1 };
		if (pthread_create(&th[i], NULL, work, &w[i])) {
			fprintf(stderr, "pthread_create failed\n");
			exit(1);
		}
	}
	for (int i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		failures += w[i].failures;
		packets += traces[i].packets;
		if (w[i].ns > ns)
			ns = w[i].ns; /* wall time: the slower thread */
	}
	pthread_barrier_destroy(&start);
	for (int a = 0; a < nareas; a++) {
		struct nta_mt_stats ms = { .sz = sizeof(ms) };
		struct nta_stats st = { .sz = sizeof(st) };

		if (mt[a] && nta_mt_get_stats(mt[a], &ms) == 0)
			locks += ms.locks;
		nta_mt_destroy(mt[a]);
		mt[a] = NULL;
		if (failures || nta_check(nta[a]) || nta_get_stats(nta[a], &st) || st.bytes_in_use) {
			fprintf(stderr, "%s: %lu failed calls, %llu bytes in use after freeing everything\n",
				cfg_name[cfg], failures, (unsigned long long)st.bytes_in_use);
			goto out;
		}
	}
	res->locks_pkt = (double)locks / (double)packets;
	res->mops = (double)packets * OPS_PER_PKT / ns * 1e3;
	res->ns_pkt = ns / (double)(packets / (unsigned long)nthreads);
	ret = 0;
out:
	for (int a = 0; a < nareas; a++) {
		nta_mt_destroy(mt[a]);
		nta_destroy(nta[a]);
	}
	free(w);
	return ret;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The trace of one queue on an nta_mt cache, without timing; 0 or -1. */
static int meta_queue(struct nta_mt *mt, const struct trace *t, uint64_t *peak)
{
	struct nta_mt_stats ms = { .sz = sizeof(ms) };
	struct worker *w = calloc(1, sizeof(*w));
	struct nta_mt_cache *c = nta_mt_cache_create(mt);
	int ret = -1;

	if (!w || !c)
		goto out;
	w->t = t;
	for (size_t i = 0; i < t->nops; i++) {
		int err = call(w, c, &t->ops[i]);

		if (err) {
			fprintf(stderr, "meta: op %zu kind %u: %s\n", i, t->ops[i].kind, strerror(-err));
			goto out;
		}
		if (i % 4096 == 0 && nta_mt_get_stats(mt, &ms) == 0 && ms.nta.bytes_in_use > *peak)
			*peak = ms.nta.bytes_in_use;
	}
	for (uint32_t s = 0; s < SLOTS; s++) {
		struct op last = t->last[s];

		last.kind = OP_FREE;
		last.slot = s;
		if (call(w, c, &last))
			goto out;
	}
	ret = 0;
out:
	free(w);
	nta_mt_cache_destroy(c);
	return ret;
}

static int meta(void)
{
	static const unsigned int qs[] = { 1, 2, 4, 16, 64 };
	struct trace t;

	if (gen(&t, 0x6d6574, 200000))
		return 1;
	printf("%-7s %12s %16s %16s %14s %10s\n", "queues", "umem_bytes", "meta_at_create",
	       "meta_after_run", "peak_in_use", "meta/umem");
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		uint64_t size = ((uint64_t)qs[i] * 2048 + 2048 + 2048) * 2048, peak = 0;
		struct nta_stats st0 = { .sz = sizeof(st0) }, st = { .sz = sizeof(st) };
		void *a = aligned_alloc(4096, size); /* never touched: nta keeps no state inside */
		struct nta *nta = a ? nta_create(a, size, NULL) : NULL;
		struct nta_mt *mt = nta ? nta_mt_create(nta, NULL) : NULL;
		int bad = !mt || nta_get_stats(nta, &st0);

		for (unsigned int q = 0; !bad && q < qs[i]; q++)
			bad = meta_queue(mt, &t, &peak);
		nta_mt_destroy(mt);
		bad = bad || nta_check(nta) || nta_get_stats(nta, &st) || st.bytes_in_use;
		if (bad) {
			fprintf(stderr, "meta: %u queues: allocator failure\n", qs[i]);
			return 1;
		}
		printf("%-7u %12llu %16llu %16llu %14llu %9.4f%%\n", qs[i], (unsigned long long)size,
		       (unsigned long long)st0.metadata_fixed, (unsigned long long)st.metadata_bytes,
		       (unsigned long long)peak, 100.0 * (double)st.metadata_bytes / (double)size);
		nta_destroy(nta);
		free(a);
	}
	free(t.ops);
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 7;
	unsigned long packets = argc > 2 ? strtoul(argv[2], NULL, 10) : 2000000;
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	struct trace traces[MAXTHREADS];
	double mops[NCFG][MAXROUNDS], ns[NCFG][MAXROUNDS], locks[NCFG][MAXROUNDS], med[NCFG];

	if (argc > 1 && !strcmp(argv[1], "meta"))
		return meta();
	if (rounds < 1 || rounds > MAXROUNDS || packets < 1000) {
		fprintf(stderr, "usage: bench_nta_mt [rounds 1..%d] [packets per thread >= 1000]\n",
			MAXROUNDS);
		return 2;
	}
	area = aligned_alloc(4096, AREA);
	if (!area) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	memset(area, 0, AREA); /* fault the pages in before timing */
	for (int i = 0; i < MAXTHREADS; i++) {
		if (gen(&traces[i], 0x6d71 + (uint64_t)i * 0x1000193, packets)) {
			fprintf(stderr, "out of memory\n");
			return 1;
		}
	}
	printf("trace: alloc 2048, trim head 256 and tail to IMIX, hold 4096 in flight per thread, free\n"
	       "%d rounds x %lu packets per thread (%d allocator calls each), %d CPUs online\n",
	       rounds, packets, OPS_PER_PKT, ncpu);
	for (int r = 0; r < rounds; r++) {
		for (int c = 0; c < NCFG; c++) {
			/* Alternate the order so no configuration always runs first. */
			int cfg = r % 2 ? NCFG - 1 - c : c;
			struct result res;

			if (run(cfg, traces, ncpu, &res))
				return 1;
			mops[cfg][r] = res.mops;
			ns[cfg][r] = res.ns_pkt;
			locks[cfg][r] = res.locks_pkt;
		}
	}
	printf("%-28s %12s %16s %14s\n", "configuration", "Mcalls/s", "ns/pkt/thread", "locks/pkt");
	for (int c = 0; c < NCFG; c++) {
		med[c] = median(mops[c], rounds);
		printf("%-28s %12.1f %16.1f %14.4f\n", cfg_name[c], med[c], median(ns[c], rounds),
		       median(locks[c], rounds));
	}
	printf("2 threads / 1 thread (nta_mt): %.2fx (the machine, 2 separate ntas: %.2fx); "
	       "nta_mt 1 thread / plain nta: %.2fx\n",
	       med[CFG_MT2] / med[CFG_MT1], med[CFG_SPLIT] / med[CFG_MT1], med[CFG_MT1] / med[CFG_PLAIN]);
	for (int i = 0; i < MAXTHREADS; i++)
		free(traces[i].ops);
	free(area);
	return 0;
}
