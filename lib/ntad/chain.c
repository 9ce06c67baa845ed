// SPDX-License-Identifier: MIT
/*
 * chain.c - multi-buffer packets, frames larger than one chunk: their
 * assembly on RX, the records of chains the caller holds, their way out as
 * chains of descriptors, and the gather of a chain into one block.
 *
 * RX: descriptors are taken off the ring into the port's chain until one
 * arrives without XDP_PKT_CONTD. A chain may end in a later call (the ring can
 * hold half a packet when a batch ends there); a complete chain that finds no
 * free record (the caller holds NTAD_CHAIN_RECORDS of them) waits for the
 * next call. Each fragment is its own fill buffer, in the ledger like any
 * other. A chain handed to the caller lives in one of the queue's records
 * until it is sent, held or freed.
 *
 * TX: a received chain goes back out as the same chain: each fragment is
 * trimmed (with nta, its headroom and unused tail go back at once) and becomes
 * one descriptor, freed on its own completion. That keeps a 9000-byte frame at
 * three trims instead of a 9 KiB copy, and needs nothing contiguous, because
 * the kernel rebuilds the frame from the descriptors. A block larger than a
 * chunk (allocated, or a gathered chain: nta's jumbo range) goes out as
 * descriptors of at most a chunk, all but the last with XDP_PKT_CONTD, and is
 * freed as the one block it is when its last descriptor completes
 * (txchain.c finds the packet of a completed descriptor).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "txchain.h"

#define NO_RECORD UINT32_MAX

int ntad_chain_init(struct ntad_queue *q, uint64_t descs)
{
	q->txc = ntad_txchains_create(descs);
	q->records = calloc(NTAD_CHAIN_RECORDS, sizeof(*q->records));
	if (!q->txc || !q->records)
		return -ENOMEM;
	q->free_record = NO_RECORD;
	for (uint32_t i = NTAD_CHAIN_RECORDS; i-- > 0;) {
		q->records[i].next = q->free_record;
		q->free_record = i;
	}
	return 0;
}

void ntad_chain_fini(struct ntad_queue *q)
{
	ntad_txchains_destroy(q->txc);
	q->txc = NULL;
	free(q->records);
	q->records = NULL;
}

static void chain_reset(struct ntad_chain *c)
{
	c->n = 0;
	c->len = 0;
	c->complete = false;
	c->overflow = false;
}

static void record_put(struct ntad_queue *q, uint32_t r)
{
	q->records[r].next = q->free_record;
	q->free_record = r;
}

/* Give the fragments of c back to the pool. */
static void free_frags(struct ntad_queue *q, struct ntad_chain *c)
{
	for (unsigned int i = 0; i < c->n; i++) {
		if (!ntad_ledger_move(&q->ledger, c->f[i].base, NTAD_AT_USER, NTAD_AT_POOL)) {
			ntad_path_refused(q, c->f[i].base, "a free");
			continue;
		}
		ntad_path_pool_free(q, c->f[i].base, q->chunk);
	}
	chain_reset(c);
}

/*
 * Are all of c's fragments the caller's? A handle sent or freed already points
 * at a record since reused: its fragments are elsewhere, and it is refused
 * before anything is copied or sent.
 */
static bool chain_owned(struct ntad_queue *q, const struct ntad_chain *c, const char *what)
{
	for (unsigned int i = 0; i < c->n; i++)
		if (!ntad_ledger_move(&q->ledger, c->f[i].base, NTAD_AT_USER, NTAD_AT_USER)) {
			ntad_path_refused(q, c->f[i].base, what);
			return false;
		}
	return true;
}

/* Take one RX descriptor into c (its buffer is ntad's from now on). */
static void take(struct ntad_queue *q, struct ntad_chain *c, const struct xdp_desc *d)
{
	uint64_t base = xsk_umem__extract_addr(d->addr);

	if (!ntad_ledger_move(&q->ledger, base, NTAD_AT_FILL, NTAD_AT_USER)) {
		ntad_path_refused(q, base, "a receive");
	} else if (c->n < NTAD_CHAIN_MAX) {
		c->f[c->n++] = (struct ntad_frag){ base, xsk_umem__add_offset_to_addr(d->addr), d->len };
	} else {
		ntad_ledger_move(&q->ledger, base, NTAD_AT_USER, NTAD_AT_POOL);
		ntad_path_pool_free(q, base, q->chunk);
		c->overflow = true;
	}
	c->len += d->len;
	c->complete = !(d->options & XDP_PKT_CONTD);
}

/*
 * Hand the complete chain c to the caller as *p, if a record is free (a
 * single buffer needs none). Returns false when it must wait; *got says
 * whether *p is a packet (an overlong chain is dropped instead).
 */
static bool deliver(struct ntad_queue *q, struct ntad_chain *c, unsigned int port,
		    struct ntad_pkt *p, bool *got)
{
	unsigned int n = c->n;
	uint32_t r;

	*got = false;
	if (c->overflow || !n) {
		/* More buffers than the kernel ever uses for one packet: not a frame. */
		free_frags(q, c);
		return true;
	}
	if (n > 1 && q->free_record == NO_RECORD)
		return false;
	p->data = q->area + c->f[0].addr;
	p->len = c->len;
	p->port = (uint16_t)port;
	p->nr_bufs = (uint16_t)n;
	p->addr = c->f[0].addr;
	if (n == 1) {
		p->region = c->f[0].base;
	} else {
		r = q->free_record;
		q->free_record = q->records[r].next;
		memcpy(&q->records[r], c, sizeof(*c));
		p->region = NTAD_NO_REGION;
		p->chain = r;
		q->c.rx_multibuf++;
	}
	q->c.rx_packets++;
	q->c.rx_bytes += c->len;
	chain_reset(c);
	*got = true;
	return true;
}

unsigned int ntad_chain_rx_burst(struct ntad_queue *q, unsigned int port, struct ntad_pkt *pkts,
				 unsigned int n)
{
	struct ntad_sock *s = &q->socks[port];
	struct ntad_chain *c = &q->rx_chain[port];
	uint32_t idx, avail, i = 0;
	unsigned int k = 0;
	bool got;

	if (c->complete) {
		if (!deliver(q, c, port, &pkts[k], &got))
			return 0;
		k += got;
	}
	if (k >= n)
		return k;
	/* A chain's buffers come in one batch or several: peek up to a batch of buffers. */
	avail = xsk_ring_cons__peek(&s->rx, q->batch, &idx);
	while (i < avail && k < n) {
		take(q, c, xsk_ring_cons__rx_desc(&s->rx, idx + i));
		i++;
		if (!c->complete)
			continue;
		if (!deliver(q, c, port, &pkts[k], &got))
			break;
		k += got;
	}
	if (i)
		xsk_ring_cons__release(&s->rx, i);
	if (i < avail)
		xsk_ring_cons__cancel(&s->rx, avail - i);
	return k;
}

static void tx_desc(struct ntad_queue *q, unsigned int port, uint32_t idx, uint64_t addr,
		    uint32_t len, bool more)
{
	struct xdp_desc *t = xsk_ring_prod__tx_desc(&q->socks[port].tx, idx);

	ntad_ledger_set_tx(&q->ledger, addr, len, false);
	t->addr = addr;
	t->len = len;
	t->options = more ? XDP_PKT_CONTD : 0;
}

int ntad_chain_tx(struct ntad_queue *q, unsigned int port, struct ntad_pkt *p, uint32_t idx,
		  uint32_t room)
{
	uint64_t addrs[NTAD_CHAIN_MAX];
	unsigned int n;

	if (!q->txc) {
		/* Without multi-buffer on the port no descriptor may exceed a chunk. */
		ntad_pkt_free(q, p, 1);
		q->c.tx_dropped++;
		return 0;
	}
	if (p->nr_bufs > 1) {
		struct ntad_chain *c = &q->records[p->chain];

		n = c->n;
		if (n > room || !ntad_txchains_room(q->txc, n))
			return -1;
		if (!chain_owned(q, c, "a send"))
			return 0;
		for (unsigned int i = 0; i < n; i++) {
			struct ntad_frag *f = &c->f[i];

			ntad_ledger_move(&q->ledger, f->base, NTAD_AT_USER, NTAD_AT_POOL);
			if (q->pool->ops->rx_trim(q->pool, f->base, f->addr, f->len))
				q->c.pool_errors++;
			q->c.trims += q->pool->exact;
			ntad_ledger_move(&q->ledger, f->addr, NTAD_AT_POOL, NTAD_AT_TX);
			tx_desc(q, port, idx + i, f->addr, f->len, i + 1 < n);
			addrs[i] = f->addr;
		}
		ntad_txchains_add(q->txc, addrs[0], 0, addrs, n);
		record_put(q, p->chain);
	} else {
		/* One block larger than a chunk: descriptors of a chunk each. */
		n = (p->len + q->chunk - 1) / q->chunk;
		if (n > room || n > NTAD_CHAIN_MAX || !ntad_txchains_room(q->txc, n))
			return -1;
		if (!ntad_ledger_move(&q->ledger, p->addr, NTAD_AT_USER, NTAD_AT_TX)) {
			ntad_path_refused(q, p->addr, "a send");
			return 0;
		}
		for (unsigned int i = 0; i < n; i++) {
			uint32_t off = i * q->chunk;

			addrs[i] = p->addr + off;
			if (i)
				ntad_ledger_move(&q->ledger, addrs[i], NTAD_AT_POOL, NTAD_AT_TX);
			tx_desc(q, port, idx + i, addrs[i], p->len - off < q->chunk ? p->len - off : q->chunk,
				i + 1 < n);
		}
		ntad_txchains_add(q->txc, p->addr, p->len, addrs, n);
	}
	q->c.tx_multibuf++;
	return (int)n;
}

int ntad_chain_tx_complete(struct ntad_queue *q, uint64_t addr, uint32_t len)
{
	uint64_t head;
	uint32_t block_len;
	int r = ntad_txchains_complete(q->txc, addr, &head, &block_len);

	if (r < 0)
		return -1;
	if (!block_len)
		ntad_path_pool_free(q, addr, len);
	else if (r)
		ntad_path_pool_free(q, head, block_len);
	return r;
}

void ntad_chain_free(struct ntad_queue *q, struct ntad_pkt *p)
{
	/* A second free must not put the record on the free list twice. */
	if (!chain_owned(q, &q->records[p->chain], "a free"))
		return;
	free_frags(q, &q->records[p->chain]);
	record_put(q, p->chain);
}

int ntad_chain_gather(struct ntad_queue *q, struct ntad_pkt *p)
{
	struct ntad_chain *c = &q->records[p->chain];
	uint64_t a, off = 0;

	if (!chain_owned(q, c, "a hold"))
		return -EINVAL;
	if (q->pool->ops->alloc(q->pool, c->len, &a))
		return -ENOMEM;
	for (unsigned int i = 0; i < c->n; i++) {
		memcpy(q->area + a + off, q->area + c->f[i].addr, c->f[i].len);
		off += c->f[i].len;
	}
	ntad_ledger_move(&q->ledger, a, NTAD_AT_POOL, NTAD_AT_USER);
	p->data = q->area + a;
	p->len = c->len;
	p->nr_bufs = 1;
	p->addr = a;
	p->region = NTAD_NO_REGION;
	free_frags(q, c);
	record_put(q, p->chain);
	q->c.gathers++;
	return 0;
}

uint32_t ntad_chain_read(const struct ntad_queue *q, const struct ntad_pkt *p, void *buf,
			 uint32_t size)
{
	const struct ntad_chain *c = &q->records[p->chain];
	uint32_t off = 0;

	for (unsigned int i = 0; i < c->n && off < size; i++) {
		uint32_t n = c->f[i].len < size - off ? c->f[i].len : size - off;

		memcpy((uint8_t *)buf + off, q->area + c->f[i].addr, n);
		off += n;
	}
	return off;
}

void ntad_chain_drain(struct ntad_queue *q)
{
	for (unsigned int i = 0; i < q->nr_ports; i++) {
		struct ntad_chain *c = &q->rx_chain[i];

		q->c.rx_drained += c->n > 0;
		free_frags(q, c);
	}
}

struct reclaim_arg {
	struct ntad_queue *q;
	uint64_t lost;
};

static void reclaim_one(void *arg, uint64_t addr, uint64_t head, uint32_t block_len, bool last)
{
	struct reclaim_arg *a = arg;

	/* Fragments stay in the ledger: the UMEM's sweep frees each one. */
	if (!block_len || !ntad_ledger_move(&a->q->ledger, addr, NTAD_AT_TX, NTAD_AT_POOL))
		return;
	a->lost++;
	if (last)
		ntad_path_pool_free(a->q, head, block_len);
}

uint64_t ntad_chain_reclaim(struct ntad_queue *q)
{
	struct reclaim_arg a = { q, 0 };

	ntad_txchains_flush(q->txc, reclaim_one, &a);
	return a.lost;
}
