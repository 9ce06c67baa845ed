/* SPDX-License-Identifier: MIT */
/*
 * ledger.h - where every UMEM buffer is: in the pool, with the caller (a
 * received or allocated packet), on a fill ring (or taken from it by the
 * kernel), or on a TX ring (with its length, which the completion ring does
 * not return).
 *
 * One 16-bit entry per 32-byte unit of UMEM address, indexed by a buffer's
 * start address: the state in its two low bits; for a buffer on a TX ring,
 * whether it goes back to the caller when sent (ntad_tx_burst_keep) in the
 * next, and its length above (a descriptor is at most a chunk, 4 KiB).
 * One array of a non-character type: an entry and its length share a cache
 * line, and the compiler need not assume that a store to an entry changes
 * anything else (a uint8_t store may alias any object). Every transition of the packet path
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

#define NTAD_LEDGER_STATE 3u
#define NTAD_LEDGER_KEEP 4u
#define NTAD_LEDGER_LEN_SHIFT 3

struct ntad_ledger {
	uint16_t *e;
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

/* As ntad_ledger_move, but a refusal is not counted: the caller moves again to say it. */
static inline bool ntad_ledger_try(const struct ntad_ledger *l, uint64_t addr, enum ntad_where from,
				   enum ntad_where to)
{
	uint64_t i = addr >> NTAD_LEDGER_SHIFT;

	if (i >= l->units || (addr & ((1u << NTAD_LEDGER_SHIFT) - 1)) ||
	    (l->e[i] & NTAD_LEDGER_STATE) != from)
		return false;
	l->e[i] = (uint16_t)to;
	return true;
}

/* Move the buffer at addr from `from` to `to`; false (and a violation) if it was elsewhere. */
static inline bool ntad_ledger_move(struct ntad_ledger *l, uint64_t addr, enum ntad_where from,
				    enum ntad_where to)
{
	if (!ntad_ledger_try(l, addr, from, to)) {
		l->violations++;
		return false;
	}
	return true;
}

/*
 * As ntad_ledger_move, for an address the path vouches for: one the pool just
 * handed out, or one a kernel ring gave back (the start of a buffer the path
 * put there). Inside the UMEM and aligned, so only its state is checked.
 */
static inline bool ntad_ledger_move_known(struct ntad_ledger *l, uint64_t addr,
					  enum ntad_where from, enum ntad_where to)
{
	uint16_t *e = &l->e[addr >> NTAD_LEDGER_SHIFT];

	if ((*e & NTAD_LEDGER_STATE) != from) {
		l->violations++;
		return false;
	}
	*e = (uint16_t)to;
	return true;
}

/* Length and keep flag of a buffer just moved to NTAD_AT_TX (a move clears them). */
static inline void ntad_ledger_set_tx(struct ntad_ledger *l, uint64_t addr, uint32_t len, bool keep)
{
	l->e[addr >> NTAD_LEDGER_SHIFT] =
		(uint16_t)(len << NTAD_LEDGER_LEN_SHIFT | (keep ? NTAD_LEDGER_KEEP : 0) | NTAD_AT_TX);
}

/* The whole entry: ntad_ledger_len_of and NTAD_LEDGER_KEEP read it. */
static inline uint16_t ntad_ledger_get(const struct ntad_ledger *l, uint64_t addr)
{
	return l->e[addr >> NTAD_LEDGER_SHIFT];
}

static inline uint32_t ntad_ledger_len_of(uint16_t e)
{
	return e >> NTAD_LEDGER_LEN_SHIFT;
}

/*
 * Call fn for every buffer still at `where` (after the sockets are closed) and
 * mark it back in the pool. Returns how many there were.
 */
uint64_t ntad_ledger_sweep(struct ntad_ledger *l, enum ntad_where where,
			   void (*fn)(void *arg, uint64_t addr, uint32_t len), void *arg);

#endif /* NTAD_LEDGER_H */
