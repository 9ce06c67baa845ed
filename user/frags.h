/* SPDX-License-Identifier: MIT */
/*
 * frags.h - multi-buffer AF_XDP: frames larger than one UMEM chunk.
 *
 * On RX, a frame that does not fit one chunk arrives as a chain of descriptors
 * (all but the last with XDP_PKT_CONTD), one fill buffer each. On TX, a frame
 * lives in one contiguous block (nta's jumbo range for more than a page) and
 * goes out as a chain of descriptors of at most chunk_size bytes; the block is
 * freed once, when the last descriptor of the chain completes.
 *
 * The engine calls in here only when opts.frags is set (decided at start by
 * ntad_frags_decide()); with it clear, nothing of this runs per packet.
 */
#ifndef NTAD_FRAGS_H
#define NTAD_FRAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/if_xdp.h>

#include "cli.h"

/* UAPI newer than Debian 12's linux-libc-dev 6.1 (PLATFORM.md). */
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)    /* bind flag, kernel 6.6 */
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0) /* xdp_desc.options: more of this packet follows, 6.6 */
#endif

/* Descriptors of one packet ntad takes; the kernel uses at most MAX_SKB_FRAGS + 1 (18). */
#define NTAD_FRAGS_MAX 32
/* The nta pool's jumbo page: the largest contiguous block, a 9014-byte frame fits. */
#define NTAD_FRAGS_JUMBO_PAGE 16384u

struct ntad_engine;
struct ntad_frags;
struct ntad_sock;

/*
 * Called once the MTU of ifname is known (mtu 0: unknown): turn o->frags on when
 * a frame of that MTU does not fit a chunk (unless --no-frags), and check that
 * the UMEM still holds the rings plus the jumbo range. Returns 0, or -EMSGSIZE /
 * -ENOSPC with a "thing: problem; fix" line in err.
 */
int ntad_frags_decide(struct ntad_opts *o, const char *ifname, unsigned int mtu, char *err,
		      size_t errlen);

/* The message for a bind with XDP_USE_SG the kernel refused (ret: -EINVAL or -EOPNOTSUPP). */
void ntad_frags_bind_refused(const struct ntad_opts *o, const char *ifname, int ret, char *err,
			     size_t errlen);

/* Bytes of nta jumbo range ntad reserves at the end of the UMEM (0 without frags or nta). */
uint64_t ntad_frags_jumbo_bytes(const struct ntad_opts *o);

/*
 * Split [addr, addr + len) into descriptors of at most chunk bytes: fills
 * addrs/lens (room for max), returns how many, or 0 when len is 0 or they
 * would be more than max.
 */
unsigned int ntad_frags_split(uint64_t addr, uint32_t len, uint32_t chunk, uint64_t *addrs,
			      uint32_t *lens, unsigned int max);

/* Per-engine state: RX chains being assembled and TX chains in flight. */
struct ntad_frags *ntad_frags_create(const struct ntad_engine *e);
void ntad_frags_destroy(struct ntad_frags *f);

/* The modes with multi-buffer packets (same contracts as engine.c's rx_drop,
 * forward and generate; generate sends at most want frames). */
unsigned int ntad_frags_rx_drop(struct ntad_engine *e, struct ntad_sock *s);
unsigned int ntad_frags_forward(struct ntad_engine *e, unsigned int in_i, unsigned int out_i,
				bool swap);
unsigned int ntad_frags_generate(struct ntad_engine *e, uint32_t want);

/*
 * A TX completion at addr (len: the descriptor's length from the ledger, which
 * already moved it back to ntad). Returns -1 when addr is no chain's: the caller
 * frees it as usual; else it was handled (the chain's block freed when this was
 * its last descriptor) and the return is 1 when it ended a packet, 0 when not.
 */
int ntad_frags_tx_complete(struct ntad_engine *e, uint64_t addr, uint32_t len);

/* One received packet: its buffers in arrival order. */
struct ntad_frag {
	uint64_t base;  /* the fill region */
	uint64_t addr;  /* the data */
	uint32_t len;
};

struct ntad_chain {
	struct ntad_frag f[NTAD_FRAGS_MAX];
	unsigned int n;
	uint32_t len;      /* sum of the fragments */
	bool complete;     /* the last fragment (no XDP_PKT_CONTD) is in */
	bool overflow;     /* more than NTAD_FRAGS_MAX: the extra ones were freed */
};

/*
 * Copy a received chain into one block of the pool (a multi-page block from the
 * jumbo range when it is larger than a page), for code that needs the frame
 * contiguous. The fragments stay the caller's. Returns 0 and *addr, or -errno.
 */
int ntad_frags_gather(struct ntad_engine *e, const struct ntad_chain *c, uint64_t *addr);

/* At stop, after the RX rings are drained: free fragments of unfinished chains. */
void ntad_frags_drain(struct ntad_engine *e);

/*
 * After the sockets closed, before the ledger sweep: free the blocks of TX
 * chains that never completed (as whole blocks) and take their descriptors out
 * of the ledger. Returns how many descriptors were lost.
 */
uint64_t ntad_frags_reclaim(struct ntad_engine *e);

#endif /* NTAD_FRAGS_H */
