// SPDX-License-Identifier: MIT
/*
 * sizing.c - the UMEM a command line needs (sizing.h).
 *
 * The rings are sized for the worst case, every slot holding a whole chunk:
 * that is what the kernel may have at once. nta's jumbo range is where blocks
 * larger than a page live (a 9000-byte frame sent or held contiguously): for
 * txonly a full TX ring of them, for delay and capture half of what the held
 * packets may use (a held jumbo chain is gathered into one such block), else
 * the few that rxdrop --verify gathers at a time.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "sizing.h"

#define GATHER_PAGES 64u
/*
 * Chunk-sized regions counted out of the held packets' budget with nta, so
 * that nta has a block for nearly every packet the budget admits: each queue's
 * nta_mt magazine (2 x 64), which no held packet can use, and 256 of slack.
 * nta's front cache needs none: it gives its regions back when an nta_alloc
 * finds no free block. Measured, 64 MiB capture flood (docs/BENCHMARKS.md,
 * "Retention"): without the 256, 64-byte frames hold 0.7% more but nta fails
 * 3 times as many admitted allocations.
 */
#define NTA_SLACK_REGIONS 256u
#define NTA_MAGAZINE_REGIONS 128u

static uint64_t nr_socks(const struct ntad_opts *o)
{
	return ntad_two_interfaces(o) ? 2 : 1;
}

uint64_t ntad_umem_needed(const struct ntad_opts *o)
{
	uint64_t socks = nr_socks(o);
	uint64_t nq = o->nr_queues ? o->nr_queues : 1;
	uint64_t fill = 0, rings = o->tx_size;

	if (o->mode != NTAD_MODE_TXONLY) {
		fill = o->fill_size;
		rings += o->rx_size;
	}
	if (o->pool == NTAD_POOL_FIXED || nq == 1)
		return socks * nq * (fill + rings) * o->chunk_size;
	return socks * (nq * fill + rings) * o->chunk_size;
}

uint64_t ntad_retention_reserve(const struct ntad_opts *o)
{
	uint64_t nq = o->nr_queues ? o->nr_queues : 1;
	uint64_t slots = o->fill_size;

	if (o->mode == NTAD_MODE_DELAY)
		slots += o->tx_size; /* released packets wait there for completion */
	slots *= nr_socks(o) * nq;
	if (o->pool == NTAD_POOL_NTA)
		slots += NTA_SLACK_REGIONS + NTA_MAGAZINE_REGIONS * nq;
	return slots * o->chunk_size;
}

uint64_t ntad_jumbo_bytes(const struct ntad_opts *o)
{
	uint64_t pages = GATHER_PAGES;

	if (!o->frags || o->pool != NTAD_POOL_NTA)
		return 0;
	if (o->mode == NTAD_MODE_TXONLY) {
		uint32_t len = o->imix ? 1500 : o->size;
		uint32_t per = (len + o->chunk_size - 1) / o->chunk_size;
		/* A full TX ring of the largest frames, one jumbo page each at worst. */
		uint64_t frames = o->tx_size / (per ? per : 1);

		if (frames > pages)
			pages = frames;
	} else if (o->mode == NTAD_MODE_DELAY || o->mode == NTAD_MODE_CAPTURE) {
		uint64_t reserve = ntad_retention_reserve(o);
		uint64_t half = o->umem_size > reserve ? (o->umem_size - reserve) / 2 / NTAD_JUMBO_PAGE : 0;

		if (half > pages)
			pages = half;
	}
	return pages * NTAD_JUMBO_PAGE;
}

int ntad_frags_decide(struct ntad_opts *o, const char *ifname, unsigned int mtu, char *err,
		      size_t errlen)
{
	uint32_t max_frame = o->chunk_size - NTAD_RX_OFFSET;
	uint64_t need;

	if (o->mode != NTAD_MODE_TXONLY && mtu && mtu + 14 > max_frame) {
		if (o->frags_mode == NTAD_FRAGS_OFF) {
			if (o->chunk_size < 4096 && mtu + 14 <= 4096 - NTAD_RX_OFFSET)
				snprintf(err, errlen, "%s: MTU %u too large for --chunk-size %u without multi-buffer (frames up to %u bytes, MTU up to %u); drop --no-frags, use --chunk-size 4096, or lower the MTU",
					 ifname, mtu, o->chunk_size, max_frame, max_frame - 14);
			else
				snprintf(err, errlen, "%s: MTU %u too large for --chunk-size %u without multi-buffer (frames up to %u bytes, MTU up to %u); drop --no-frags or lower the MTU (ip link set dev %s mtu %u)",
					 ifname, mtu, o->chunk_size, max_frame, max_frame - 14, ifname,
					 max_frame - 14);
			return -EMSGSIZE;
		}
		o->frags = true;
	}
	if (!o->frags)
		return 0;
	if (o->pool == NTAD_POOL_FIXED && (o->mode == NTAD_MODE_DELAY || o->mode == NTAD_MODE_CAPTURE)) {
		snprintf(err, errlen, "%s: MTU %u needs multi-buffer frames, which --mode %s holds in one block each; --pool fixed has none larger than a chunk: use --pool nta or lower the MTU",
			 ifname, mtu, ntad_mode_name(o->mode));
		return -EMSGSIZE;
	}
	need = ntad_umem_needed(o) + ntad_jumbo_bytes(o);
	if (o->umem_size < need) {
		snprintf(err, errlen, "--umem-size %" PRIu64 ": too small for the rings plus the %" PRIu64
			 "-byte jumbo range of multi-buffer (needs %" PRIu64 " bytes); use --umem-size %" PRIu64
			 "M or smaller rings",
			 o->umem_size, ntad_jumbo_bytes(o), need, (need + (1u << 20) - 1) >> 20);
		return -ENOSPC;
	}
	return 0;
}
