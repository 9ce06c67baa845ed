// SPDX-License-Identifier: MIT
/*
 * umem.c - the UMEM: one anonymous mapping, optionally on 2 MiB huge pages,
 * registered with XDP_UMEM_UNALIGNED_CHUNK_FLAG.
 *
 * Unaligned chunk mode is what lets nta place a fill region at any block-aligned
 * offset (the kernel only checks addr + chunk_size <= size) and a TX frame at
 * any address, so the allocator, not the kernel's frame grid, decides where
 * packets live. ntad uses no UMEM headroom: received data starts at fill
 * address + XDP_PACKET_HEADROOM (256). The mapping is populated up front so the
 * first packets do not fault; pinning needs CAP_IPC_LOCK (root has it here), a
 * failing RLIMIT_MEMLOCK raise is therefore ignored.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <linux/if_xdp.h>

#include "umem.h"

int ntad_umem_create(struct ntad_umem *u, const struct ntad_opts *o, char *err, size_t errlen)
{
	struct xsk_umem_config cfg = {
		.fill_size = o->fill_size,
		.comp_size = o->comp_size,
		.frame_size = o->chunk_size,
		.frame_headroom = 0,
		.flags = XDP_UMEM_UNALIGNED_CHUNK_FLAG,
	};
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE;
	int ret;

	memset(u, 0, sizeof(*u));
	(void)setrlimit(RLIMIT_MEMLOCK, &rl); /* EPERM is harmless with CAP_IPC_LOCK */
	if (o->hugepages)
		flags |= MAP_HUGETLB;
	u->area = mmap(NULL, o->umem_size, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (u->area == MAP_FAILED) {
		ret = -errno;
		u->area = NULL;
		if (o->hugepages)
			snprintf(err, errlen, "--hugepages: cannot map %llu bytes of huge pages (%s); reserve them with `echo N > /proc/sys/vm/nr_hugepages` or drop --hugepages",
				 (unsigned long long)o->umem_size, strerror(-ret));
		else
			snprintf(err, errlen, "--umem-size %llu: cannot map the UMEM (%s); use a smaller --umem-size",
				 (unsigned long long)o->umem_size, strerror(-ret));
		return ret;
	}
	u->size = o->umem_size;
	u->huge = o->hugepages;
	u->cfg = cfg;
	ret = xsk_umem__create(&u->xumem, u->area, u->size, &u->fill, &u->comp, &u->cfg);
	if (ret) {
		snprintf(err, errlen, "UMEM: registration of %llu bytes failed (%s); check --umem-size, --chunk-size and the ring sizes",
			 (unsigned long long)u->size, strerror(-ret));
		u->xumem = NULL;
		munmap(u->area, u->size);
		u->area = NULL;
		return ret;
	}
	return 0;
}

int ntad_umem_reregister(struct ntad_umem *u)
{
	int ret;

	if (u->nr_socks)
		return -EBUSY;
	if (u->xumem)
		xsk_umem__delete(u->xumem);
	u->xumem = NULL;
	ret = xsk_umem__create(&u->xumem, u->area, u->size, &u->fill, &u->comp, &u->cfg);
	if (ret)
		u->xumem = NULL;
	return ret;
}

void ntad_umem_destroy(struct ntad_umem *u)
{
	if (u->xumem)
		xsk_umem__delete(u->xumem);
	u->xumem = NULL;
	if (u->area)
		munmap(u->area, u->size);
	u->area = NULL;
}
