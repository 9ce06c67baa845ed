// SPDX-License-Identifier: MIT
/*
 * path.c - the packet path: the one place where buffers move between the pool,
 * the caller and the kernel's rings, every move checked in the ledger.
 *
 *   pool --refill--> fill ring --kernel--> RX ring --rx_burst--> caller
 *   pool --ntad_pkt_alloc--> caller
 *   caller --ntad_pkt_free--> pool
 *   caller --ntad_pkt_hold--> caller (in a block of its own)
 *   caller --tx_burst--> TX ring --completion--> pool
 *
 * A received packet occupies a whole fill region. Whenever it is going to be
 * kept a while (sent: it waits on a TX ring; held by the caller) it is made
 * cheap first: a copy into an exact-size block when it is at most copy_break
 * bytes (the whole region goes back at once), otherwise a trim (the headroom
 * and the unused tail go back, the packet keeps its own blocks). A packet that
 * is freed straight away (rxdrop) gives its region back whole, untrimmed.
 *
 * Copy-break default (256, queue.c): a trim costs two nta frees now and leaves
 * a packet-sized island in its page that blocks the next 2 KiB fill region
 * there; a copy costs one alloc, a memcpy of a few cache lines and one
 * whole-region free (which nta's front cache takes). Measured on veth, 64-byte
 * frames: copy-break 256 114k pps, 0 (all trims) 118k, fixed pool 119k: equal
 * within noise, so the default keeps small held packets hole-free at no cost.
 *
 * Multi-buffer packets (frames larger than a chunk) take chain.c's path; the
 * single-buffer path below is the one every packet of an ordinary MTU takes.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static inline uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

void ntad_path_refused(struct ntad_queue *q, uint64_t addr, const char *what)
{
	if (q->warned)
		return;
	q->warned = true;
	ntad_log(NTAD_WARN, "queue %u: %s of the buffer at UMEM offset %llu refused: it is not where that needs it to be (given back twice, or not the caller's); further refusals are only counted\n",
		 q->queue_id, what, (unsigned long long)addr);
}

/*
 * Top the fill ring up with whole regions from the pool, so that the kernel
 * holds fill_size regions for receiving: those on the fill ring and those it
 * has filled and put on the RX ring (as xdpsock refills what it received).
 * Topping the fill ring up whatever the RX ring holds would, under overload
 * (RX ring full), lend the kernel a second ring of regions it cannot use and
 * double what cycles through the packet loops: twice the ledger lines and
 * frame headers, which then no longer stay in the cache.
 */
unsigned int ntad_path_refill(struct ntad_queue *q, unsigned int port)
{
	struct ntad_sock *s = &q->socks[port];
	uint32_t want = xsk_prod_nb_free(s->fill, q->fill_size);
	uint32_t on_rx = __atomic_load_n(s->rx.producer, __ATOMIC_RELAXED) - *s->rx.consumer;
	unsigned int got;
	uint32_t idx;

	want = want > on_rx ? want - on_rx : 0;
	if (want < q->batch)
		return 0;
	want = min_u32(want, NTAD_FILL_MAX);
	got = q->pool->ops->fill_alloc(q->pool, q->addrs, want);
	if (got < want)
		q->c.fill_short += want - got;
	if (!got)
		return 0;
	if (xsk_ring_prod__reserve(s->fill, got, &idx) != got) {
		for (unsigned int i = 0; i < got; i++)
			ntad_path_pool_free(q, q->addrs[i], q->chunk);
		return 0;
	}
	for (unsigned int i = 0; i < got; i++) {
		if (!ntad_ledger_move_known(&q->ledger, q->addrs[i], NTAD_AT_POOL, NTAD_AT_FILL))
			ntad_path_refused(q, q->addrs[i], "a fill");
		*xsk_ring_prod__fill_addr(s->fill, idx + i) = q->addrs[i];
	}
	xsk_ring_prod__submit(s->fill, got);
	return got;
}

/*
 * A sent buffer of ntad_tx_burst_keep: back to the caller through the done
 * list, or, when the caller has left it full, to the pool (counted).
 */
static void kept_put(struct ntad_queue *q, unsigned int port, uint64_t addr, uint32_t len)
{
	struct ntad_kept *k;

	if (q->done_n == q->done_cap) {
		q->c.tx_done_freed++;
		ntad_path_pool_free(q, addr, len);
		return;
	}
	ntad_ledger_move_known(&q->ledger, addr, NTAD_AT_POOL, NTAD_AT_USER);
	k = &q->done[(q->done_head + q->done_n++) % q->done_cap];
	k->addr = addr;
	k->len = len;
	k->port = (uint16_t)port;
}

/* Give completed TX buffers back to the pool (or, if kept, to the caller). */
unsigned int ntad_path_complete(struct ntad_queue *q, unsigned int port)
{
	struct ntad_sock *s = &q->socks[port];
	uint32_t idx, n, not_last = 0;

	if (!q->outstanding[port])
		return 0;
	n = xsk_ring_cons__peek(s->comp, q->comp_size, &idx);
	if (!n)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr = *xsk_ring_cons__comp_addr(s->comp, idx + i);
		uint16_t e = ntad_ledger_get(&q->ledger, addr); /* the move clears it */
		uint32_t len = ntad_ledger_len_of(e);

		if (!ntad_ledger_move_known(&q->ledger, addr, NTAD_AT_TX, NTAD_AT_POOL)) {
			ntad_path_refused(q, addr, "a TX completion");
			continue;
		}
		q->c.tx_bytes += len;
		if (e & NTAD_LEDGER_KEEP) {
			kept_put(q, port, addr, len);
			continue;
		}
		if (q->txc) {
			/* A descriptor of a chain: chain.c frees it, or its block at the end. */
			int r = ntad_chain_tx_complete(q, addr, len);

			if (r >= 0) {
				not_last += r == 0;
				continue;
			}
		}
		ntad_path_pool_free(q, addr, len);
	}
	xsk_ring_cons__release(s->comp, n);
	q->outstanding[port] -= n;
	q->c.tx_packets += n - not_last;
	return n;
}

/* The whole regions gathered in q->spent go back to the pool, in one call. */
static void spent_flush(struct ntad_queue *q)
{
	if (q->nr_spent)
		q->c.pool_errors += q->pool->ops->free_bulk(q->pool, q->spent, q->nr_spent, q->chunk);
	q->nr_spent = 0;
}

/* A received packet's whole region, its ledger entry already back at the
 * pool: gathered, and freed with the others at the end of the call. */
static inline void spent_add(struct ntad_queue *q, uint64_t base)
{
	q->spent[q->nr_spent++] = base;
	if (q->nr_spent == NTAD_FILL_MAX)
		spent_flush(q);
}

/*
 * Received buffers the ledger did not have on the fill ring (it refused their
 * move, so they are not the caller's; rx_burst marked them nr_bufs 0): out of
 * the burst, said once.
 */
static uint32_t drop_refused(struct ntad_queue *q, struct ntad_pkt *pkts, uint32_t n,
			     uint64_t *bytes)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (!pkts[i].nr_bufs) {
			ntad_path_refused(q, pkts[i].region, "a receive");
			*bytes -= pkts[i].len;
			continue;
		}
		pkts[k++] = pkts[i];
	}
	return k;
}

unsigned int ntad_rx_burst(struct ntad_queue *q, unsigned int port, struct ntad_pkt *pkts,
			   unsigned int n)
{
	const struct xdp_desc *descs;
	struct ntad_sock *s;
	uint32_t idx, mask;
	uint64_t bytes = 0;
	bool refused = false;
	uint8_t *area;

	if (port >= q->nr_ports || !q->socks[port].has_rx)
		return 0;
	if (q->frags)
		return ntad_chain_rx_burst(q, port, pkts, n);
	s = &q->socks[port];
	n = xsk_ring_cons__peek(&s->rx, n, &idx);
	if (!n)
		return 0;
	/*
	 * The ring and the area in locals: the handle's stores (a pointer, a
	 * uint32_t) could alias q's and the ring's fields, which the compiler
	 * would then load again for every packet.
	 */
	descs = s->rx.ring;
	mask = s->rx.mask;
	area = q->area;
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = &descs[(idx + i) & mask];
		uint64_t base = xsk_umem__extract_addr(d->addr);
		uint64_t addr = xsk_umem__add_offset_to_addr(d->addr);
		uint32_t len = d->len;
		struct ntad_pkt *p = &pkts[i];

		bool moved = ntad_ledger_move_known(&q->ledger, base, NTAD_AT_FILL, NTAD_AT_USER);

		/* The headers, which the caller reads first, start loading now. */
		__builtin_prefetch(area + addr, 1);
		p->data = area + addr;
		p->len = len;
		p->port = (uint16_t)port;
		p->nr_bufs = moved; /* 0: refused, dropped below */
		refused |= !moved;
		p->addr = addr;
		p->region = base;
		bytes += len;
	}
	xsk_ring_cons__release(&s->rx, n);
	if (__builtin_expect(refused, 0))
		n = drop_refused(q, pkts, n, &bytes);
	q->c.rx_packets += n;
	q->c.rx_bytes += bytes;
	return n;
}

unsigned int ntad_tx_room(struct ntad_queue *q, unsigned int port)
{
	if (port >= q->nr_ports)
		return 0;
	return xsk_prod_nb_free(&q->socks[port].tx, q->batch);
}

/*
 * A received packet on its way out (to = NTAD_AT_TX) or into a hold (to =
 * NTAD_AT_USER): copied (into copy, or a block allocated now) or trimmed, its
 * own buffer then at `to` in the ledger. -EINVAL when its region is not the
 * caller's; -ENOMEM when must_copy and no block was had. Either way nothing
 * changed.
 */
static inline __attribute__((always_inline)) int
settle(struct ntad_queue *q, struct ntad_pkt *p, uint64_t copy, bool must_copy, enum ntad_where to)
{
	uint64_t base = p->region;

	if (!ntad_ledger_move(&q->ledger, base, NTAD_AT_USER, NTAD_AT_POOL)) {
		ntad_path_refused(q, base, to == NTAD_AT_TX ? "a send" : "a hold");
		return -EINVAL;
	}
	if (copy == UINT64_MAX && q->copy_break && p->len <= q->copy_break &&
	    q->pool->ops->alloc(q->pool, p->len, &copy)) {
		if (must_copy) {
			ntad_ledger_move(&q->ledger, base, NTAD_AT_POOL, NTAD_AT_USER);
			return -ENOMEM;
		}
		copy = UINT64_MAX;
	}
	if (copy != UINT64_MAX) {
		memcpy(q->area + copy, p->data, p->len);
		spent_add(q, base);
		p->addr = copy;
		p->data = q->area + copy;
		q->c.copy_breaks++;
	} else if (q->pool->exact) { /* fixed frames cannot be cut: the packet keeps its frame */
		if (q->pool->ops->rx_trim(q->pool, base, p->addr, p->len))
			q->c.pool_errors++;
		q->c.trims++;
	}
	p->region = NTAD_NO_REGION;
	/* A block the pool just gave, or an address inside the region checked above. */
	ntad_ledger_move_known(&q->ledger, p->addr, NTAD_AT_POOL, to);
	return 0;
}

/*
 * Copy-break blocks for a batch in one allocator call (one lock, one walk of
 * nta), into q->addrs: all those of the first copied length, which is every
 * one for fixed-size traffic and the 64-byte ones of IMIX. Returns how many
 * (0 when fewer than two would be copied: those are allocated one by one).
 */
static uint32_t cb_bulk(struct ntad_queue *q, const struct ntad_pkt *pkts, unsigned int n,
			uint32_t *cb_len)
{
	uint32_t len = 0, cb_n = 0;

	*cb_len = 0;
	if (!q->copy_break)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct ntad_pkt *p = &pkts[i];

		if (p->region == NTAD_NO_REGION || p->nr_bufs > 1 || p->len > q->copy_break)
			continue;
		if (!len)
			len = p->len;
		cb_n += p->len == len;
	}
	*cb_len = len;
	cb_n = min_u32(cb_n, NTAD_FILL_MAX);
	return cb_n > 1 ? q->pool->ops->alloc_bulk(q->pool, len, q->addrs, cb_n) : 0;
}

static inline __attribute__((always_inline)) unsigned int
tx_burst(struct ntad_queue *q, unsigned int port, struct ntad_pkt *pkts, unsigned int n, bool keep)
{
	struct ntad_sock *s;
	uint32_t idx, room, used = 0, cb_len = 0, cb_n = 0, cb_next = 0;
	unsigned int taken;

	if (port >= q->nr_ports || !n)
		return 0;
	s = &q->socks[port];
	/* A chain takes several descriptors: with multi-buffer, reserve all there are. */
	room = q->frags ? xsk_prod_nb_free(&s->tx, s->tx.size) : xsk_prod_nb_free(&s->tx, n);
	if (!q->frags)
		room = n = min_u32(n, room);
	if (!room || xsk_ring_prod__reserve(&s->tx, room, &idx) != room)
		return 0;
	cb_n = cb_bulk(q, pkts, n, &cb_len);
	for (taken = 0; taken < n; taken++) {
		struct ntad_pkt *p = &pkts[taken];
		struct xdp_desc *t;

		if (p->nr_bufs > 1 || p->len > q->chunk) {
			int d;

			if (keep)
				break; /* one descriptor each: the rest stays the caller's */
			d = ntad_chain_tx(q, port, p, idx + used, room - used);

			if (d < 0)
				break;
			used += (uint32_t)d;
			continue;
		}
		if (used == room)
			break;
		if (p->region != NTAD_NO_REGION) {
			uint64_t copy = p->len == cb_len && cb_next < cb_n ? q->addrs[cb_next++] : UINT64_MAX;

			if (settle(q, p, copy, false, NTAD_AT_TX)) {
				if (copy != UINT64_MAX)
					ntad_path_pool_free(q, copy, cb_len);
				continue;
			}
		} else if (!ntad_ledger_move(&q->ledger, p->addr, NTAD_AT_USER, NTAD_AT_TX)) {
			ntad_path_refused(q, p->addr, "a send");
			continue;
		}
		ntad_ledger_set_tx(&q->ledger, p->addr, p->len, keep);
		t = xsk_ring_prod__tx_desc(&s->tx, idx + used);
		t->addr = p->addr;
		t->len = p->len;
		t->options = 0;
		used++;
	}
	/* Bulk blocks the batch did not use (refused packets, a full ring). */
	while (cb_next < cb_n)
		ntad_path_pool_free(q, q->addrs[cb_next++], cb_len);
	spent_flush(q);
	s->tx.cached_prod -= room - used; /* give back the slots not used */
	if (used) {
		xsk_ring_prod__submit(&s->tx, used);
		q->outstanding[port] += used;
	}
	q->c.tx_submitted += taken;
	return taken;
}

unsigned int ntad_tx_burst(struct ntad_queue *q, unsigned int port, struct ntad_pkt *pkts,
			   unsigned int n)
{
	return tx_burst(q, port, pkts, n, false);
}

unsigned int ntad_tx_burst_keep(struct ntad_queue *q, unsigned int port, struct ntad_pkt *pkts,
				unsigned int n)
{
	return tx_burst(q, port, pkts, n, true);
}

unsigned int ntad_tx_done(struct ntad_queue *q, struct ntad_pkt *pkts, unsigned int n)
{
	unsigned int k;

	if (!pkts)
		return 0;
	for (k = 0; k < n && q->done_n; k++) {
		const struct ntad_kept *d = &q->done[q->done_head];
		struct ntad_pkt *p = &pkts[k];

		p->data = q->area + d->addr;
		p->len = d->len;
		p->port = d->port;
		p->nr_bufs = 1;
		p->addr = d->addr;
		p->region = NTAD_NO_REGION;
		p->chain = 0;
		q->done_head = (q->done_head + 1) % q->done_cap;
		q->done_n--;
	}
	return k;
}

/* One packet of any kind back to the pool, every refusal counted and said. */
static void free_one(struct ntad_queue *q, struct ntad_pkt *p)
{
	if (p->region != NTAD_NO_REGION) {
		if (!ntad_ledger_move(&q->ledger, p->region, NTAD_AT_USER, NTAD_AT_POOL))
			ntad_path_refused(q, p->region, "a free");
		else
			spent_add(q, p->region);
	} else if (p->nr_bufs > 1) {
		ntad_chain_free(q, p);
	} else if (!ntad_ledger_move(&q->ledger, p->addr, NTAD_AT_USER, NTAD_AT_POOL)) {
		ntad_path_refused(q, p->addr, "a free");
	} else {
		ntad_path_pool_free(q, p->addr, p->len);
	}
}

void ntad_pkt_free(struct ntad_queue *q, struct ntad_pkt *pkts, unsigned int n)
{
	unsigned int i = 0;

	while (i < n) {
		/*
		 * Received packets given back untouched (rxdrop's every packet), in
		 * a loop without calls, so the batch's count stays in a register;
		 * anything else, or a region the ledger would refuse, goes through
		 * free_one. The ledger is copied too: the stores into spent could
		 * alias its fields.
		 */
		const struct ntad_ledger l = q->ledger;
		uint64_t *spent = q->spent;
		unsigned int ns = q->nr_spent;

		for (; i < n && ns < NTAD_FILL_MAX; i++) {
			uint64_t r = pkts[i].region;

			if (r == NTAD_NO_REGION || !ntad_ledger_try(&l, r, NTAD_AT_USER, NTAD_AT_POOL))
				break;
			spent[ns++] = r;
		}
		q->nr_spent = ns;
		if (ns == NTAD_FILL_MAX)
			spent_flush(q);
		else if (i < n)
			free_one(q, &pkts[i++]);
	}
	spent_flush(q);
}

unsigned int ntad_pkt_alloc(struct ntad_queue *q, uint32_t len, struct ntad_pkt *pkts,
			    unsigned int n)
{
	unsigned int got = 0;

	if (!len || len > q->u->size || !pkts)
		return 0;
	while (got < n) {
		unsigned int want = min_u32(n - got, NTAD_FILL_MAX), k;

		k = want == 1 ? !q->pool->ops->alloc(q->pool, len, q->addrs) :
				q->pool->ops->alloc_bulk(q->pool, len, q->addrs, want);
		for (unsigned int i = 0; i < k; i++) {
			struct ntad_pkt *p = &pkts[got + i];

			ntad_ledger_move(&q->ledger, q->addrs[i], NTAD_AT_POOL, NTAD_AT_USER);
			p->data = q->area + q->addrs[i];
			p->len = len;
			p->port = 0;
			p->nr_bufs = 1;
			p->addr = q->addrs[i];
			p->region = NTAD_NO_REGION;
		}
		got += k;
		if (k < want)
			break;
	}
	if (got < n)
		q->c.alloc_fail += n - got;
	return got;
}

/*
 * The batch's copy-break blocks come from one allocator call (cb_bulk) and
 * the whole regions go back in one: a delay line holding every packet it
 * receives pays one lock and one walk of nta per batch, not two per packet.
 */
unsigned int ntad_pkt_hold_burst(struct ntad_queue *q, struct ntad_pkt *pkts, unsigned int n,
				 int *err)
{
	uint32_t cb_len, cb_n, cb_next = 0;
	unsigned int k;
	int ret = 0;

	if (!pkts) {
		if (err)
			*err = -EINVAL;
		return 0;
	}
	cb_n = cb_bulk(q, pkts, n, &cb_len);
	for (k = 0; k < n; k++) {
		struct ntad_pkt *p = &pkts[k];
		uint64_t copy;

		if (p->nr_bufs > 1) {
			if ((ret = ntad_chain_gather(q, p)))
				break;
			continue;
		}
		if (p->region == NTAD_NO_REGION)
			continue;
		copy = p->len == cb_len && cb_next < cb_n ? q->addrs[cb_next++] : UINT64_MAX;
		if ((ret = settle(q, p, copy, true, NTAD_AT_USER))) {
			if (copy != UINT64_MAX)
				ntad_path_pool_free(q, copy, cb_len);
			break;
		}
	}
	while (cb_next < cb_n)
		ntad_path_pool_free(q, q->addrs[cb_next++], cb_len);
	spent_flush(q);
	if (err)
		*err = ret;
	return k;
}

int ntad_pkt_hold(struct ntad_queue *q, struct ntad_pkt *p)
{
	int err = 0;

	if (!p)
		return -EINVAL;
	return ntad_pkt_hold_burst(q, p, 1, &err) == 1 ? 0 : err;
}

int ntad_pkt_at(const struct ntad_queue *q, uint64_t addr, uint32_t len, struct ntad_pkt *p)
{
	if (!p || !len || addr >= q->u->size || len > q->u->size - addr)
		return -EINVAL;
	p->data = q->area + addr;
	p->len = len;
	p->port = 0;
	p->nr_bufs = 1;
	p->addr = addr;
	p->region = NTAD_NO_REGION;
	return 0;
}

uint32_t ntad_pkt_read(const struct ntad_queue *q, const struct ntad_pkt *p, void *buf,
		       uint32_t size)
{
	uint32_t n;

	if (!p || !buf)
		return 0;
	if (p->nr_bufs > 1)
		return ntad_chain_read(q, p, buf, size);
	n = min_u32(p->len, size);
	memcpy(buf, p->data, n);
	return n;
}

/* At stop, the ports detached: what the RX rings hold, then the TX completions. */
void ntad_path_drain(struct ntad_queue *q)
{
	for (unsigned int si = 0; si < q->nr_ports; si++) {
		struct ntad_sock *s = &q->socks[si];
		uint32_t idx, n;

		if (!s->has_rx)
			continue;
		while ((n = xsk_ring_cons__peek(&s->rx, q->rx_size, &idx)) > 0) {
			for (uint32_t i = 0; i < n; i++) {
				uint64_t base = xsk_umem__extract_addr(xsk_ring_cons__rx_desc(&s->rx, idx + i)->addr);

				if (ntad_ledger_move(&q->ledger, base, NTAD_AT_FILL, NTAD_AT_POOL))
					ntad_path_pool_free(q, base, q->chunk);
			}
			xsk_ring_cons__release(&s->rx, n);
			q->c.rx_drained += n;
		}
		/* Entries between the kernel's consumer and our producer: never taken. */
		q->c.fill_pending += *s->fill->producer - *s->fill->consumer;
	}
	if (q->frags)
		ntad_chain_drain(q);
	for (unsigned int spins = 0; ntad_queue__tx_pending(q) && spins < 500; spins++) {
		unsigned int got = 0;

		for (unsigned int i = 0; i < q->nr_ports; i++) {
			got += ntad_path_complete(q, i);
			if (q->outstanding[i])
				ntad_sock_kick_tx(&q->socks[i]);
		}
		if (!got)
			ntad_queue__wait(q, 1000000, -1); /* 500 x 1 ms at most: half a second */
	}
	/* Kept buffers the caller did not collect. */
	for (; q->done_n; q->done_n--, q->done_head = (q->done_head + 1) % q->done_cap) {
		const struct ntad_kept *d = &q->done[q->done_head];

		if (ntad_ledger_move(&q->ledger, d->addr, NTAD_AT_USER, NTAD_AT_POOL))
			ntad_path_pool_free(q, d->addr, d->len);
	}
}
