// SPDX-License-Identifier: MIT
/*
 * bench_nta.c - nta against a fixed-frame LIFO stack and the general-purpose
 * heaps a user could pick instead, glibc malloc and mimalloc (when installed),
 * on the same pre-generated operation traces (`make bench-nta`). Not a test.
 *
 * Traces (each packet's operations are generated before timing, so the random
 * number generator is not measured):
 *   (i)   fixed 2048-byte frames, 4096 in flight, FIFO;
 *   (ii)  the engine: alloc a 2048-byte fill region, trim it to an IMIX length
 *         (64/576/1500, 7:4:1) by freeing the head (256 bytes, the kernel's
 *         headroom) and the tail, hold it (random replacement among 4096 in
 *         flight), free it;
 *   (iii) random sizes 64..9000, 1024 in flight, random replacement.
 * Rows, per packet of trace (ii) ((i) and (iii) have no trims):
 *   stack            pop a whole frame (16 KiB in (iii)), push it back at the
 *                    free; trims do nothing, which is what a fixed-frame engine does;
 *   nta              nta_alloc 2048, nta_free of the head, nta_free of the tail,
 *                    nta_free of the packet;
 *   nta + nta_trim   nta_alloc 2048, one nta_trim keeping the packet, nta_free;
 *   nta_mt           what ntad runs: the same calls through one thread's
 *                    nta_mt cache (a magazine of 2048-byte regions, trims
 *                    waiting until the packet's free makes the region whole);
 *   nta tree lookup  nta with NTA_F_TREE_LOOKUP (pages found through the tree);
 *   nta no cache     nta with NTA_F_NO_CACHE;
 *   glibc malloc     malloc(2048), realloc(p, 256 + packet) at the tail trim,
 *                    free(p). A heap block cannot give its head back without
 *                    a copy, so the head trim does nothing and the realloc
 *                    keeps the headroom and the packet: the same bytes nta
 *                    keeps, from offset 0. "packet" is the IMIX length rounded
 *                    up to nta's 32-byte block, the start of the tail trim.
 *   mimalloc         the same with mi_malloc, mi_realloc and mi_free. Compiled
 *                    in when mimalloc.h was found at build time (Debian:
 *                    libmimalloc-dev; the Makefile looks), skipped with the
 *                    reason otherwise. dlopen'ed, not linked: Debian's
 *                    libmimalloc.so also defines malloc and free, and linked in
 *                    it would replace glibc's in the glibc row and under nta.
 *                    mi_realloc shrinks in place only to half the block or
 *                    more, so it copies the 64- and 576-byte packets (320 and
 *                    832 of 2048 bytes) into a smaller block.
 * The heap rows never write the packets (nta and the stack never touch the
 * area either); they print how many reallocs moved the block.
 * Each round builds fresh nta instances and stacks (the process's heap stays),
 * warms up to the in-flight count and times N packets;
 * printed: the median ns per packet over the rounds and the medians of the
 * per-round ratios to the stack and to mimalloc. Then the largest number of
 * packets in flight a 64 MiB area sustains on trace (ii) without an allocation
 * failure (the stack: 32768), and nta's metadata as a share of the area.
 * Usage: bench_nta [rounds] [packets per round] [traces, e.g. "12" or "m"]
 * (the third argument picks traces 1, 2, 3 and m, the in-flight search; for
 * profiling one trace at a time; default all).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nta.h"
#include "nta_mt.h"
#include "testing.h" /* lib/nta: NTA_F_TREE_LOOKUP, NTA_F_NO_CACHE */

#ifdef NTA_BENCH_MIMALLOC
#include <dlfcn.h>
#include <mimalloc.h>
#endif

#define AREA (64ull << 20)
#define JUMBO (16ull << 20)
#define MAXROUNDS 31

enum kind { OP_ALLOC, OP_TRIM, OP_FREE };
struct op {
	uint32_t kind : 2, slot : 30;
	uint16_t rel, len; /* trim/free: [off + rel, off + rel + len); alloc: len */
};

struct trace {
	const char *name;
	struct op *ops;
	size_t nops, warm; /* ops[0..warm) fill the in-flight set, untimed */
	uint32_t slots, frame;
	unsigned long packets;
};

static uint64_t rng = 0x62656e6368;
static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint16_t imix(void)
{
	uint32_t r = (uint32_t)(rnd() % 12);

	return r < 7 ? 64 : r < 11 ? 576 : 1500;
}

static void push(struct trace *t, enum kind k, uint32_t slot, uint32_t rel, uint32_t len)
{
	t->ops[t->nops++] = (struct op){ .kind = k, .slot = slot, .rel = (uint16_t)rel,
					 .len = (uint16_t)len };
}

/* Per packet: alloc, then (ii) trim head and tail; frees come when a slot is
 * reused. keep[slot] remembers what the final free must release. */
static void gen(struct trace *t, int kind, uint32_t slots, unsigned long packets)
{
	static struct op keep[1 << 20];

	t->slots = slots;
	t->packets = packets;
	t->frame = kind == 3 ? 16384 : 2048;
	t->ops = malloc(sizeof(*t->ops) * (slots + packets) * 4);
	t->nops = 0;
	for (unsigned long i = 0; i < slots + packets; i++) {
		uint32_t slot;

		if (i == slots)
			t->warm = t->nops;
		if (i < slots) {
			slot = (uint32_t)i;
		} else {
			slot = kind == 1 ? (uint32_t)(i % slots) : (uint32_t)(rnd() % slots);
			push(t, OP_FREE, slot, keep[slot].rel, keep[slot].len);
		}
		if (kind == 1) {
			push(t, OP_ALLOC, slot, 0, 2048);
			keep[slot] = (struct op){ .rel = 0, .len = 2048 };
		} else if (kind == 2) {
			uint32_t len = imix(), pkt = (len + 31) / 32 * 32;

			push(t, OP_ALLOC, slot, 0, 2048);
			push(t, OP_TRIM, slot, 0, 256);
			push(t, OP_TRIM, slot, 256 + pkt, 2048 - 256 - pkt);
			keep[slot] = (struct op){ .rel = 256, .len = (uint16_t)len };
		} else {
			uint32_t len = 64 + (uint32_t)(rnd() % (9000 - 64 + 1));

			push(t, OP_ALLOC, slot, 0, len);
			keep[slot] = (struct op){ .rel = 0, .len = (uint16_t)len };
		}
	}
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static uint64_t offs[1 << 20];
static void *ptrs[1 << 20];

/* Run ops [from, to) on nta, or through the nta_mt cache c when it is not
 * NULL; returns allocation failures. With trim, a head trim followed by a tail
 * trim of the same packet is one trim call keeping what lies between them. */
static unsigned long run_nta(struct nta *nta, struct nta_mt_cache *c, const struct trace *t,
			     size_t from, size_t to, int trim)
{
	unsigned long fails = 0;

	for (size_t i = from; i < to; i++) {
		const struct op *o = &t->ops[i];

		if (trim && o->kind == OP_TRIM && i + 1 < to && o[1].kind == OP_TRIM &&
		    o[1].slot == o->slot) {
			uint64_t base = offs[o->slot], off = base + o->rel, kept = base + o->rel + o->len;
			uint32_t len = o[1].rel + o[1].len - o->rel, keep_len = o[1].rel - o->rel - o->len;

			fails += (c ? nta_mt_trim(c, off, len, kept, keep_len) :
				      nta_trim(nta, off, len, kept, keep_len)) != 0;
			i++;
		} else if (o->kind == OP_ALLOC) {
			fails += (c ? nta_mt_alloc(c, o->len, &offs[o->slot]) :
				      nta_alloc(nta, o->len, &offs[o->slot])) != 0;
		} else {
			fails += (c ? nta_mt_free(c, offs[o->slot] + o->rel, o->len) :
				      nta_free(nta, offs[o->slot] + o->rel, o->len)) != 0;
		}
	}
	return fails;
}

/* The baseline: a LIFO stack of whole frames; trims do nothing. */
struct stack {
	uint64_t *frames;
	size_t n;
};

static unsigned long run_stack(struct stack *s, const struct trace *t, size_t from, size_t to)
{
	unsigned long fails = 0;

	for (size_t i = from; i < to; i++) {
		const struct op *o = &t->ops[i];

		if (o->kind == OP_ALLOC) {
			if (!s->n) {
				fails++;
				continue;
			}
			offs[o->slot] = s->frames[--s->n];
		} else if (o->kind == OP_FREE) {
			s->frames[s->n++] = offs[o->slot];
		}
	}
	return fails;
}

/* A general-purpose heap as a user could pick instead of nta. */
struct heap {
	void *(*alloc)(size_t);
	void *(*shrink)(void *, size_t);
	void (*release)(void *);
};

static const struct heap glibc = { malloc, realloc, free };
static struct heap mimalloc; /* alloc NULL: not loaded, for mimalloc_why */
static char mimalloc_why[256] = "built without mimalloc.h (Debian: libmimalloc-dev, which "
				"scripts/install-deps.sh installs; then rebuild bench_nta)";

#ifdef NTA_BENCH_MIMALLOC
#define SAME_TYPE(f, t) __builtin_types_compatible_p(__typeof__(&f), t)
_Static_assert(SAME_TYPE(mi_malloc, void *(*)(size_t)) &&
		       SAME_TYPE(mi_realloc, void *(*)(void *, size_t)) &&
		       SAME_TYPE(mi_free, void (*)(void *)),
	       "struct heap's calls are mimalloc's");

/* Load mimalloc's own entry points with the library kept out of the global
 * symbol scope, so malloc stays glibc's; checked, since an LD_PRELOAD of
 * libmimalloc would make the glibc row measure mimalloc. */
static void mimalloc_load(void)
{
	char soname[32];
	bool (*in_heap)(const void *);
	int (*version)(void);
	void *lib, *p;

	snprintf(soname, sizeof(soname), "libmimalloc.so.%d", MI_MALLOC_VERSION / 100);
	lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(mimalloc_why, sizeof(mimalloc_why), "dlopen: %s", dlerror());
		return;
	}
	mimalloc.alloc = dlsym(lib, "mi_malloc");
	mimalloc.shrink = dlsym(lib, "mi_realloc");
	mimalloc.release = dlsym(lib, "mi_free");
	in_heap = dlsym(lib, "mi_is_in_heap_region");
	version = dlsym(lib, "mi_version");
	if (!mimalloc.alloc || !mimalloc.shrink || !mimalloc.release || !in_heap || !version) {
		snprintf(mimalloc_why, sizeof(mimalloc_why), "%s lacks mi_malloc, mi_realloc, "
			 "mi_free, mi_is_in_heap_region or mi_version", soname);
		mimalloc.alloc = NULL;
		return;
	}
	p = malloc(2048);
	if (!p || in_heap(p)) {
		fprintf(stderr, "bench_nta: malloc in this process is mimalloc's (LD_PRELOAD?); "
				"the glibc row would not measure glibc\n");
		exit(1);
	}
	free(p);
	snprintf(mimalloc_why, sizeof(mimalloc_why), "%d.%d.%d from %s, dlopen'ed", version() / 100,
		 version() / 10 % 10, version() % 10, soname);
}
#else
static void mimalloc_load(void)
{
}
#endif

/* Shrinks done and shrinks that returned a new block, per heap row. */
struct shrinks {
	unsigned long n, moved;
};

/* Run ops [from, to) on a heap: a trim at offset 0 (the head) does nothing,
 * any other trim shrinks the block to end where the trim starts. Returns
 * allocation failures. */
static unsigned long run_heap(const struct heap *h, const struct trace *t, size_t from, size_t to,
			      struct shrinks *sh)
{
	unsigned long fails = 0;

	for (size_t i = from; i < to; i++) {
		const struct op *o = &t->ops[i];

		if (o->kind == OP_ALLOC) {
			ptrs[o->slot] = h->alloc(o->len);
			fails += !ptrs[o->slot];
		} else if (o->kind == OP_FREE) {
			h->release(ptrs[o->slot]);
		} else if (o->rel) {
			void *p = h->shrink(ptrs[o->slot], o->rel);

			if (!p) {
				fails++;
				continue;
			}
			sh->n++;
			sh->moved += p != ptrs[o->slot];
			ptrs[o->slot] = p;
		}
	}
	return fails;
}

static void stack_init(struct stack *s, uint32_t frame)
{
	s->n = 0;
	for (uint64_t off = AREA; off >= frame; off -= frame)
		s->frames[s->n++] = off - frame;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void *area;

enum { V_STACK, V_NTA, V_NTA_TRIM, V_NTA_MT, V_NTA_TREE, V_NTA_NOCACHE, V_GLIBC, V_MIMALLOC, NV };
static const char *vname[NV] = { "stack", "nta", "nta + nta_trim", "nta_mt", "nta tree lookup",
				   "nta no cache", "glibc malloc", "mimalloc" };
/* What a row does with a packet of trace (ii), printed before the tables. */
static const char *vdoes[NV] = {
	"pop a whole frame, push it back at the free; trims do nothing",
	"nta_alloc 2048, nta_free head, nta_free tail, nta_free packet",
	"nta_alloc 2048, one nta_trim keeping the packet, nta_free packet",
	"the same through one nta_mt cache (what ntad runs)",
	"as nta, pages found through the tree (NTA_F_TREE_LOOKUP)",
	"as nta, without the front cache (NTA_F_NO_CACHE)",
	"malloc(2048), head trim nothing, realloc(p, 256 + packet), free(p)",
	"the same with mi_malloc, mi_realloc, mi_free",
};

static struct nta *make_nta(uint32_t flags, int jumbo)
{
	NTA_OPTS(o, .flags = flags, .jumbo_size = jumbo ? JUMBO : 0);
	struct nta *nta = nta_create(area, AREA, &o);

	if (!nta) {
		fprintf(stderr, "nta_create: %s\n", strerror(errno));
		exit(1);
	}
	return nta;
}

static void bench(struct trace *t, int jumbo, int rounds)
{
	double ns[NV][MAXROUNDS], ratio[NV][MAXROUNDS], to_mi[NV][MAXROUNDS];
	struct stack s = { .frames = malloc(sizeof(uint64_t) * (AREA / 2048)) };
	struct shrinks sh[NV] = { { 0 } };
	uint64_t meta = 0;

	for (int r = 0; r < rounds; r++) {
		for (int v = 0; v < NV; v++) {
			struct nta *nta = NULL;
			unsigned long fails;
			double t0, t1;

			if (v == V_STACK) {
				stack_init(&s, t->frame);
				run_stack(&s, t, 0, t->warm);
				t0 = now_ns();
				fails = run_stack(&s, t, t->warm, t->nops);
				t1 = now_ns();
			} else if (v == V_GLIBC || v == V_MIMALLOC) {
				const struct heap *h = v == V_GLIBC ? &glibc : &mimalloc;
				struct shrinks warm = { 0 };

				if (!h->alloc) {
					ns[v][r] = 0;
					continue;
				}
				run_heap(h, t, 0, t->warm, &warm);
				t0 = now_ns();
				fails = run_heap(h, t, t->warm, t->nops, &sh[v]);
				t1 = now_ns();
				for (uint32_t k = 0; k < t->slots; k++)
					h->release(ptrs[k]);
			} else if (v == V_NTA_MT) {
				struct nta_mt *mt;
				struct nta_mt_cache *c;

				nta = make_nta(0, jumbo);
				mt = nta_mt_create(nta, NULL);
				c = mt ? nta_mt_cache_create(mt) : NULL;
				if (!c) {
					fprintf(stderr, "nta_mt: %s\n", strerror(errno));
					exit(1);
				}
				run_nta(nta, c, t, 0, t->warm, 1);
				t0 = now_ns();
				fails = run_nta(nta, c, t, t->warm, t->nops, 1);
				t1 = now_ns();
				fails += nta_mt_check(mt) != 0;
				nta_mt_destroy(mt);
				nta_destroy(nta);
			} else {
				nta = make_nta(v == V_NTA_TREE ? NTA_F_TREE_LOOKUP :
					       v == V_NTA_NOCACHE ? NTA_F_NO_CACHE : 0, jumbo);
				run_nta(nta, NULL, t, 0, t->warm, v == V_NTA_TRIM);
				t0 = now_ns();
				fails = run_nta(nta, NULL, t, t->warm, t->nops, v == V_NTA_TRIM);
				t1 = now_ns();
				if (v == V_NTA) {
					struct nta_stats st = { .sz = sizeof(st) };

					nta_get_stats(nta, &st);
					meta = st.metadata_bytes;
					if (nta_check(nta))
						fails++;
				}
				nta_destroy(nta);
			}
			if (fails) {
				fprintf(stderr, "%s on %s: %lu failed operations\n", vname[v], t->name,
					fails);
				exit(1);
			}
			ns[v][r] = (t1 - t0) / (double)t->packets;
		}
		for (int v = 0; v < NV; v++) {
			ratio[v][r] = ns[v][r] / ns[V_STACK][r];
			to_mi[v][r] = mimalloc.alloc ? ns[v][r] / ns[V_MIMALLOC][r] : 0;
		}
	}
	printf("%s\n", t->name);
	for (int v = 0; v < NV; v++) {
		if (v == V_MIMALLOC && !mimalloc.alloc) {
			printf("  %-16s skipped: %s\n", vname[v], mimalloc_why);
			continue;
		}
		printf("  %-16s %7.1f ns/packet  %5.2fx stack", vname[v], median(ns[v], rounds),
		       median(ratio[v], rounds));
		if (mimalloc.alloc)
			printf("  %5.2fx mimalloc", median(to_mi[v], rounds));
		if (sh[v].n)
			printf("  (realloc moved %.0f%% of blocks)", 100.0 * sh[v].moved / sh[v].n);
		putchar('\n');
	}
	printf("  nta metadata after the trace: %llu bytes, %.2f%% of the area\n",
	       (unsigned long long)meta, 100.0 * (double)meta / AREA);
	free(s.frames);
}

/* Does trace (ii) with `slots` packets in flight run without a failed alloc? */
static int sustains(uint32_t slots, unsigned long packets, uint64_t *meta)
{
	struct trace t = { .name = "max" };
	struct nta *nta = make_nta(0, 0);
	unsigned long fails;
	struct nta_stats st = { .sz = sizeof(st) };

	gen(&t, 2, slots, packets);
	fails = run_nta(nta, NULL, &t, 0, t.nops, 0);
	nta_get_stats(nta, &st);
	*meta = st.metadata_bytes;
	nta_destroy(nta);
	free(t.ops);
	return fails == 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 7;
	unsigned long packets = argc > 2 ? strtoul(argv[2], NULL, 0) : 1000000;
	struct trace t1 = { .name = "(i) fixed 2048-byte frames, 4096 in flight, FIFO" };
	struct trace t2 = { .name = "(ii) engine: 2048 fill, trim to IMIX, hold (4096 in flight), free" };
	struct trace t3 = { .name = "(iii) random sizes 64..9000, 1024 in flight (stack: 16 KiB frames)" };
	uint32_t lo = 4096, hi = AREA / 64;
	uint64_t meta = 0, meta_lo = 0;
	const char *which = argc > 3 ? argv[3] : "123m";

	if (rounds < 1 || rounds > MAXROUNDS || !packets) {
		fprintf(stderr, "usage: bench_nta [rounds 1..%d] [packets per round]\n", MAXROUNDS);
		return 2;
	}
	area = aligned_alloc(4096, AREA); /* never touched: nta only hands out offsets */
	if (!area)
		return 1;
	printf("bench_nta: %d rounds of %lu packets, 64 MiB area, block 32, page 4096\n", rounds,
	       packets);
	mimalloc_load();
	printf("rows, per packet of trace (ii) (no trims in (i) and (iii); packet = IMIX length "
	       "rounded up to 32):\n");
	for (int v = 0; v < NV; v++)
		printf("  %-16s %s\n", vname[v], vdoes[v]);
	printf("mimalloc row: %s%s\n", mimalloc.alloc ? "" : "skipped, ", mimalloc_why);
	if (strchr(which, '1')) {
		gen(&t1, 1, 4096, packets);
		bench(&t1, 0, rounds);
	}
	if (strchr(which, '2')) {
		gen(&t2, 2, 4096, packets);
		bench(&t2, 0, rounds);
	}
	if (strchr(which, '3')) {
		gen(&t3, 3, 1024, packets);
		bench(&t3, 1, rounds);
	}
	if (!strchr(which, 'm'))
		goto out;
	/* largest in-flight count for trace (ii): binary search, each probe running
	 * 4 x in-flight packets past the warm-up */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;

		if (sustains(mid, 4ul * mid, &meta))
			lo = mid, meta_lo = meta;
		else
			hi = mid - 1;
	}
	printf("largest in flight on trace (ii), 64 MiB area: nta %u, stack %llu (%.2fx); "
	       "nta metadata there %llu bytes, %.2f%% of the area\n",
	       lo, AREA / 2048, lo / (double)(AREA / 2048), (unsigned long long)meta_lo,
	       100.0 * (double)meta_lo / AREA);
out:
	free(area);
	free(t1.ops);
	free(t2.ops);
	free(t3.ops);
	return 0;
}
