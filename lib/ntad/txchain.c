// SPDX-License-Identifier: MIT
/*
 * txchain.c - the table of multi-descriptor packets in flight (txchain.h): an
 * open-addressing hash from descriptor address to chain, with Fibonacci
 * hashing, linear probing and deletion by moving entries back (no
 * tombstones), sized for every descriptor the TX and completion rings can
 * hold at once at a load factor of one half, so it never grows.
 */
#include <errno.h>
#include <stdlib.h>

#include "ledger.h"
#include "txchain.h"

#define NO_CHAIN UINT32_MAX

struct tx_chain {
	uint64_t head;     /* block start */
	uint32_t len;      /* block length; 0: fragments, each freed alone */
	uint16_t left;     /* descriptors not completed yet */
	uint32_t next;     /* free list */
};

struct tx_slot {
	uint64_t key;      /* descriptor address + 1; 0: empty */
	uint32_t chain;
};

struct ntad_txchains {
	struct tx_slot *slots;
	uint32_t mask, used, bits;
	struct tx_chain *chains;
	uint32_t nr_chains, free_chain;
};

static void chain_put(struct ntad_txchains *t, uint32_t id)
{
	t->chains[id].next = t->free_chain;
	t->free_chain = id;
}

static void reset(struct ntad_txchains *t)
{
	for (uint32_t i = 0; i <= t->mask; i++)
		t->slots[i].key = 0;
	t->used = 0;
	t->free_chain = NO_CHAIN;
	for (uint32_t i = t->nr_chains; i-- > 0;)
		chain_put(t, i);
}

struct ntad_txchains *ntad_txchains_create(uint64_t descs)
{
	struct ntad_txchains *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->bits = 4;
	while ((1ull << t->bits) < 2 * descs)
		t->bits++;
	t->mask = (1u << t->bits) - 1;
	t->nr_chains = (uint32_t)(descs / 2 + 1);
	t->slots = calloc((size_t)t->mask + 1, sizeof(*t->slots));
	t->chains = calloc(t->nr_chains, sizeof(*t->chains));
	if (!t->slots || !t->chains) {
		ntad_txchains_destroy(t);
		errno = ENOMEM;
		return NULL;
	}
	reset(t);
	return t;
}

void ntad_txchains_destroy(struct ntad_txchains *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->chains);
	free(t);
}

static uint32_t slot_of(const struct ntad_txchains *t, uint64_t addr)
{
	return (uint32_t)(((addr >> NTAD_LEDGER_SHIFT) * 0x9e3779b97f4a7c15ull) >> (64 - t->bits));
}

static uint32_t find(const struct ntad_txchains *t, uint64_t addr)
{
	for (uint32_t i = slot_of(t, addr);; i = (i + 1) & t->mask) {
		if (!t->slots[i].key)
			return NO_CHAIN;
		if (t->slots[i].key == addr + 1)
			return i;
	}
}

/* Remove slot i, moving later entries of its probe run back. */
static void del(struct ntad_txchains *t, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		uint32_t home;

		j = (j + 1) & t->mask;
		if (!t->slots[j].key)
			break;
		home = slot_of(t, t->slots[j].key - 1);
		/* Entry j may move to i when its home is not in (i, j] (cyclically). */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i].key = 0;
	t->used--;
}

bool ntad_txchains_room(const struct ntad_txchains *t, unsigned int ndesc)
{
	return t->free_chain != NO_CHAIN && t->used + ndesc <= (t->mask + 1) / 2;
}

void ntad_txchains_add(struct ntad_txchains *t, uint64_t head, uint32_t block_len,
		       const uint64_t *addrs, unsigned int ndesc)
{
	uint32_t id = t->free_chain;
	struct tx_chain *c = &t->chains[id];

	t->free_chain = c->next;
	c->head = head;
	c->len = block_len;
	c->left = (uint16_t)ndesc;
	for (unsigned int d = 0; d < ndesc; d++) {
		uint32_t i = slot_of(t, addrs[d]);

		while (t->slots[i].key)
			i = (i + 1) & t->mask;
		t->slots[i].key = addrs[d] + 1;
		t->slots[i].chain = id;
		t->used++;
	}
}

int ntad_txchains_complete(struct ntad_txchains *t, uint64_t addr, uint64_t *head,
			   uint32_t *block_len)
{
	uint32_t i = find(t, addr), id;
	struct tx_chain *c;

	if (i == NO_CHAIN)
		return -1;
	id = t->slots[i].chain;
	c = &t->chains[id];
	del(t, i);
	*head = c->head;
	*block_len = c->len;
	if (--c->left)
		return 0;
	chain_put(t, id);
	return 1;
}

void ntad_txchains_flush(struct ntad_txchains *t,
			 void (*fn)(void *arg, uint64_t addr, uint64_t head, uint32_t block_len,
				    bool last),
			 void *arg)
{
	for (uint32_t i = 0; i <= t->mask; i++) {
		struct tx_chain *c;

		if (!t->slots[i].key)
			continue;
		c = &t->chains[t->slots[i].chain];
		fn(arg, t->slots[i].key - 1, c->head, c->len, --c->left == 0);
	}
	reset(t);
}
