// SPDX-License-Identifier: MIT
/*
 * umem.c - the UMEM: one anonymous mapping, optionally on 2 MiB huge pages,
 * registered with XDP_UMEM_UNALIGNED_CHUNK_FLAG; the pool that manages it
 * (one handle per queue thread); the ledger of where each buffer is; and the
 * teardown that hands every buffer the kernel kept back to the pool.
 *
 * Unaligned chunk mode is what lets nta place a fill region at any block-aligned
 * offset (the kernel only checks addr + chunk_size <= size) and a TX frame at
 * any address, so the allocator, not the kernel's frame grid, decides where
 * packets live. ntad uses no UMEM headroom: received data starts at fill
 * address + XDP_PACKET_HEADROOM (256). The mapping is populated up front so the
 * first packets do not fault; pinning needs CAP_IPC_LOCK (root has it), a
 * failing RLIMIT_MEMLOCK raise is therefore ignored.
 *
 * Mapping and registration are separate steps: a failed first bind leaves the
 * UMEM socket unusable (its rings are already set up), so xsk.c registers a
 * fresh UMEM over the same area to retry, and the pool never notices.
 */
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "internal.h"

#define DEF_SIZE (64ull << 20)
#define DEF_CHUNK 2048u
#define DEF_RING 2048u
#define HUGE_PAGE (2u << 20)
#define PAGE 4096u

static bool ring_size_ok(uint32_t n)
{
	return n && n <= (1u << 20) && !(n & (n - 1));
}

static int register_area(struct ntad_umem *u)
{
	return xsk_umem__create(&u->xumem, u->area, u->size, &u->fill, &u->comp, &u->cfg);
}

struct ntad_umem *ntad_umem__create(const struct ntad_umem_opts *opts)
{
	LIBNTAD_OPTS(ntad_umem_opts, o);
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE;
	struct ntad_umem *u;
	int ret;

	if (opts) {
		if (opts->sz < offsetof(struct ntad_umem_opts, hugepages) + sizeof(bool)) {
			errno = EINVAL;
			return NULL;
		}
		memcpy(&o, opts, sizeof(o) < opts->sz ? sizeof(o) : opts->sz);
	}
	o.size = o.size ? o.size : DEF_SIZE;
	o.chunk_size = o.chunk_size ? o.chunk_size : DEF_CHUNK;
	o.fill_size = o.fill_size ? o.fill_size : DEF_RING;
	o.comp_size = o.comp_size ? o.comp_size : DEF_RING;
	o.nr_queues = o.nr_queues ? o.nr_queues : 1;
	if (o.chunk_size < 2048 || o.chunk_size > PAGE || o.chunk_size % 32 ||
	    !ring_size_ok(o.fill_size) || !ring_size_ok(o.comp_size) ||
	    o.nr_queues > NTAD_MAX_QUEUES || (o.pool != NTAD_POOL_NTA && o.pool != NTAD_POOL_FIXED) ||
	    o.jumbo_size % NTAD_JUMBO_PAGE || (o.pool == NTAD_POOL_FIXED && o.jumbo_size) ||
	    o.size % PAGE || o.size < (uint64_t)o.chunk_size * o.nr_queues || o.jumbo_size >= o.size ||
	    (o.hugepages && o.size % HUGE_PAGE) || o.size > (1ull << 48)) {
		ntad_log(NTAD_WARN, "UMEM: options out of range (size %llu, chunk %u, rings %u/%u, %u queues); see ntad.h\n",
			 (unsigned long long)o.size, o.chunk_size, o.fill_size, o.comp_size, o.nr_queues);
		errno = EINVAL;
		return NULL;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	(void)setrlimit(RLIMIT_MEMLOCK, &rl); /* EPERM is harmless with CAP_IPC_LOCK */
	if (o.hugepages)
		flags |= MAP_HUGETLB;
	u->area = mmap(NULL, o.size, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (u->area == MAP_FAILED) {
		ret = -errno;
		ntad_log(NTAD_WARN, "UMEM: cannot map %llu bytes%s (%s)\n", (unsigned long long)o.size,
			 o.hugepages ? " of huge pages" : "", strerror(-ret));
		goto err_free;
	}
	u->size = o.size;
	u->huge = o.hugepages;
	u->chunk_size = o.chunk_size;
	u->nr_queues = o.nr_queues;
	u->cfg = (struct xsk_umem_config){
		.fill_size = o.fill_size,
		.comp_size = o.comp_size,
		.frame_size = o.chunk_size,
		.frame_headroom = 0,
		.flags = XDP_UMEM_UNALIGNED_CHUNK_FLAG,
	};
	ret = ntad_ledger_init(&u->ledger, u->size);
	if (ret)
		goto err_unmap;
	ret = ntad_pools_create(&u->pools, o.pool, u->area, u->size, o.chunk_size, o.jumbo_size,
				o.nr_queues, o.hugepages ? HUGE_PAGE : PAGE);
	if (ret) {
		ntad_log(NTAD_WARN, "UMEM: the %s pool cannot manage %llu bytes with %u-byte chunks for %u queues (%s)\n",
			 o.pool == NTAD_POOL_NTA ? "nta" : "fixed", (unsigned long long)u->size,
			 o.chunk_size, o.nr_queues, strerror(-ret));
		goto err_ledger;
	}
	ret = register_area(u);
	if (ret) {
		u->xumem = NULL;
		ntad_log(NTAD_WARN, "UMEM: registration of %llu bytes failed (%s)\n",
			 (unsigned long long)u->size, strerror(-ret));
		goto err_pools;
	}
	return u;

err_pools:
	ntad_pools_destroy(&u->pools);
err_ledger:
	ntad_ledger_fini(&u->ledger);
err_unmap:
	munmap(u->area, o.size);
err_free:
	free(u);
	errno = -ret;
	return NULL;
}

int ntad_umem_reregister(struct ntad_umem *u)
{
	int ret;

	if (u->nr_socks)
		return -EBUSY;
	if (u->xumem)
		xsk_umem__delete(u->xumem);
	u->xumem = NULL;
	ret = register_area(u);
	if (ret)
		u->xumem = NULL;
	return ret;
}

static void reclaim_one(void *arg, uint64_t addr, uint32_t len)
{
	struct ntad_umem *u = arg;

	/* Fill buffers carry no length in the ledger: a whole chunk. */
	if (ntad_pools_free(&u->pools, addr, len ? len : u->chunk_size))
		u->pool_errors++;
}

int ntad_umem__reclaim(struct ntad_umem *u, struct ntad_umem_exit *ex)
{
	uint64_t fill;

	if (!u || !ex || u->queues_live)
		return -EINVAL;
	memset(ex, 0, sizeof(*ex));
	fill = ntad_ledger_sweep(&u->ledger, NTAD_AT_FILL, reclaim_one, u);
	ex->kernel_held = fill > u->fill_pending ? fill - u->fill_pending : 0;
	ex->tx_lost = u->tx_lost + ntad_ledger_sweep(&u->ledger, NTAD_AT_TX, reclaim_one, u);
	u->fill_pending = u->tx_lost = 0;
	/* The sockets are gone: the registration goes too, the area stays for the check. */
	if (u->xumem)
		xsk_umem__delete(u->xumem);
	u->xumem = NULL;
	u->pool_errors += ntad_pools_drain(&u->pools);
	ex->pool_errors = u->pool_errors;
	ex->check_ok = ntad_pools_check(&u->pools) == 0;
	return 0;
}

void ntad_umem__destroy(struct ntad_umem *u)
{
	if (!u)
		return;
	if (u->xumem)
		xsk_umem__delete(u->xumem);
	ntad_pools_destroy(&u->pools);
	ntad_ledger_fini(&u->ledger);
	munmap(u->area, u->size);
	free(u);
}

void *ntad_umem__area(const struct ntad_umem *u)
{
	return u ? u->area : NULL;
}

uint64_t ntad_umem__size(const struct ntad_umem *u)
{
	return u ? u->size : 0;
}

uint32_t ntad_umem__chunk_size(const struct ntad_umem *u)
{
	return u ? u->chunk_size : 0;
}

const char *ntad_umem__pool_name(const struct ntad_umem *u)
{
	return u ? u->pools.name : NULL;
}

uint32_t ntad_umem__cost(const struct ntad_umem *u, uint32_t len)
{
	if (!u || !len)
		return 0;
	if (!u->pools.q[0]->exact)
		return u->chunk_size;
	return (len + 31) & ~31u;
}

int ntad_umem__pool_stats(const struct ntad_umem *u, struct ntad_pool_stats *st)
{
	if (!u || !st)
		return -EINVAL;
	ntad_pools_stats(&u->pools, st);
	return 0;
}
