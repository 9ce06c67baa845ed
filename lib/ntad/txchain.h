/* SPDX-License-Identifier: MIT */
/*
 * txchain.h - the packets in flight on TX rings that took more than one
 * descriptor, found by the address of any of their descriptors.
 *
 * The completion ring returns descriptor addresses, not packets, so every
 * descriptor of a multi-descriptor packet is entered here (addr -> chain); the
 * chain counts its descriptors down, and when the last one completes its
 * block is freed as the one block it was allocated as (or, for a received
 * chain sent back out, each fragment was freed on its own completion).
 */
#ifndef NTAD_TXCHAIN_H
#define NTAD_TXCHAIN_H

#include <stdbool.h>
#include <stdint.h>

struct ntad_txchains;

/* Room for descs descriptors in flight at once. NULL and errno on failure. */
struct ntad_txchains *ntad_txchains_create(uint64_t descs);
void ntad_txchains_destroy(struct ntad_txchains *t);

/* Could a packet of ndesc descriptors be entered now? */
bool ntad_txchains_room(const struct ntad_txchains *t, unsigned int ndesc);

/* Enter a packet (room must have said yes): its block [head, head + block_len)
 * (block_len 0: fragments, each freed alone) and its descriptors' addresses. */
void ntad_txchains_add(struct ntad_txchains *t, uint64_t head, uint32_t block_len,
		       const uint64_t *addrs, unsigned int ndesc);

/*
 * A descriptor at addr completed. -1: addr is no chain's. Else 0, or 1 when
 * it was the packet's last; *block_len and *head then say what to free
 * (block_len 0: nothing more than the descriptor itself).
 */
int ntad_txchains_complete(struct ntad_txchains *t, uint64_t addr, uint64_t *head,
			   uint32_t *block_len);

/*
 * Teardown, the sockets closed: call fn for every descriptor still entered
 * (with its packet's block, and last set for the packet's last one), then
 * empty the table.
 */
void ntad_txchains_flush(struct ntad_txchains *t,
			 void (*fn)(void *arg, uint64_t addr, uint64_t head, uint32_t block_len,
				    bool last),
			 void *arg);

#endif /* NTAD_TXCHAIN_H */
