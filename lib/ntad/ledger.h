/* SPDX-License-Identifier: MIT */
/*
 * ledger.h - where every UMEM buffer is: in the pool, with the caller (a
 * received or allocated packet), on a fill ring (or taken from it by the
 * kernel), or on a TX ring (with its length, which the completion ring does
 * not return).
 *
 * One byte of state and one 16-bit length per 32-byte unit of UMEM address,
 * indexed by a buffer's start address. Every transition of the packet path
 * (path.c) goes through ntad_ledger_move, which refuses one from the wrong
 * state: a packet given back twice, or a buffer that is not the caller's, is
 * then neither submitted nor freed again, only counted. It gives the
 * completion path the length to free, and at exit finds the buffers the kernel
 * kept (a fill buffer it took but could not use while the RX ring was full
 * stays inside the kernel), so every byte can be returned to the pool.
 *
 * Entries exist only at buffer starts: a block's interior addresses stay
 * NTAD_AT_POOL, which every free writes back, so an address reused as the
 * start of a differently cut block always finds the pool state.
 */
#ifndef NTAD_LEDGER_H
#define NTAD_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#define NTAD_LEDGER_SHIFT 5 /* 32-byte units: every buffer start is 32-aligned */

enum ntad_where { NTAD_AT_POOL = 0, NTAD_AT_FILL = 1, NTAD_AT_TX = 2, NTAD_AT_USER = 3 };

struct ntad_ledger {
	uint8_t *where;
	uint16_t *len;
	uint64_t units;
	uint64_t violations;
	bool view;          /* arrays borrowed from another ledger: fini frees nothing */
};

int ntad_ledger_init(struct ntad_ledger *l, uint64_t umem_size);

/*
 * A view of src for another queue thread: the same arrays, its own violation
 * count. Safe because a buffer is in one queue's rings at a time and moves
 * between queues only through the pool's lock (a happens-before edge); distinct
 * entries are distinct bytes, so neighbours never race.
 */
static inline void ntad_ledger_view(struct ntad_ledger *l, const struct ntad_ledger *src)
{
	*l = *src;
	l->violations = 0;
	l->view = true;
}
void ntad_ledger_fini(struct ntad_ledger *l);

/* Move the buffer at addr from `from` to `to`; false (and a violation) if it was elsewhere. */
static inline bool ntad_ledger_move(struct ntad_ledger *l, uint64_t addr, enum ntad_where from,
				    enum ntad_where to)
{
	uint64_t i = addr >> NTAD_LEDGER_SHIFT;

	if (i >= l->units || (addr & ((1u << NTAD_LEDGER_SHIFT) - 1)) || l->where[i] != from) {
		l->violations++;
		return false;
	}
	l->where[i] = (uint8_t)to;
	return true;
}

/*
 * Start loading the entries of the buffer at addr. The entries of one batch are
 * scattered (a 2 KiB region's byte has a cache line of its own), so the packet
 * loops prefetch them all before they use the first: the misses then overlap.
 */
static inline void ntad_ledger_prefetch(const struct ntad_ledger *l, uint64_t addr)
{
	uint64_t i = addr >> NTAD_LEDGER_SHIFT;

	if (i < l->units) {
		__builtin_prefetch(&l->where[i], 1);
		__builtin_prefetch(&l->len[i], 1);
	}
}

static inline void ntad_ledger_set_len(struct ntad_ledger *l, uint64_t addr, uint32_t len)
{
	l->len[addr >> NTAD_LEDGER_SHIFT] = (uint16_t)len;
}

static inline uint32_t ntad_ledger_len(const struct ntad_ledger *l, uint64_t addr)
{
	return l->len[addr >> NTAD_LEDGER_SHIFT];
}

/*
 * Call fn for every buffer still at `where` (after the sockets are closed) and
 * mark it back in the pool. Returns how many there were.
 */
uint64_t ntad_ledger_sweep(struct ntad_ledger *l, enum ntad_where where,
			   void (*fn)(void *arg, uint64_t addr, uint32_t len), void *arg);

#endif /* NTAD_LEDGER_H */
