// SPDX-License-Identifier: MIT
/*
 * frags.c - multi-buffer packets: RX chain assembly, TX chains of descriptors
 * over one contiguous block, and the gather of a chain into one block.
 *
 * RX: descriptors are taken off the ring into a per-socket chain until one
 * arrives without XDP_PKT_CONTD. A chain may end in a later call (the ring can
 * hold half a packet when a batch ends there), and a complete chain that finds
 * no room on the output TX ring waits in its chain for the next call, so no
 * packet is ever dropped for lack of a TX slot. Each fragment is its own fill
 * buffer, in the ledger like any other.
 *
 * l2fwd/fwd send a received chain back out as the same chain: each fragment is
 * trimmed (with nta, its headroom and unused tail go back at once) and becomes
 * one TX descriptor; each is freed on its own completion. That keeps a 9000-byte
 * frame at three trims instead of a 9 KiB copy per packet, and needs nothing
 * contiguous, because the kernel rebuilds the frame from the descriptors.
 * Contiguity is needed where ntad itself reads the whole frame (rxdrop
 * --verify): there the chain is gathered into one block of the pool, from nta's
 * jumbo range when it is larger than a page. The fixed pool has no block larger
 * than a frame, so it verifies from a private scratch buffer instead.
 *
 * TX: txonly allocates a jumbo frame as one block and sends it as descriptors
 * of at most chunk_size bytes, all but the last with XDP_PKT_CONTD. The
 * completion ring returns descriptor addresses, not packets, so every
 * descriptor of a multi-descriptor packet is entered in a small open-addressing
 * table (addr -> chain); the chain counts down its descriptors and its block is
 * freed, as the one block it was allocated as, when the last one completes.
 * Reflected RX chains use the same table (with no block) so that tx_packets
 * counts packets. The table is sized for every descriptor the TX and
 * completion rings can hold at once, at a load factor of one half.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "frags.h"

#define NO_CHAIN UINT32_MAX
#define GATHER_PAGES 64 /* jumbo pages for gathers: one is held at a time per frame */

struct tx_chain {
	uint64_t head;     /* block start */
	uint32_t len;      /* block length; 0: reflected fragments, each freed alone */
	uint16_t ndesc;
	uint16_t left;     /* descriptors not completed yet */
	uint32_t next;     /* free list */
};

struct tx_slot {
	uint64_t key;      /* descriptor address + 1; 0: empty */
	uint32_t chain;
};

struct ntad_frags {
	struct ntad_chain *rx;     /* one per socket */
	unsigned int nr_rx;
	struct tx_slot *slots;
	uint32_t mask, used, bits;
	struct tx_chain *chains;
	uint32_t nr_chains, free_chain;
	uint32_t chunk;
	uint8_t *scratch;          /* NTAD_FRAGS_MAX chunks: verify without a block */
};

/* ---- start-up decisions (no engine needed) ---- */

uint64_t ntad_frags_jumbo_bytes(const struct ntad_opts *o)
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
	}
	return pages * NTAD_POOL_JUMBO_PAGE;
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
	need = ntad_umem_needed(o) + ntad_frags_jumbo_bytes(o);
	if (o->umem_size < need) {
		snprintf(err, errlen, "--umem-size %" PRIu64 ": too small for the rings plus the %" PRIu64
			 "-byte jumbo range of multi-buffer (needs %" PRIu64 " bytes); use --umem-size %" PRIu64
			 "M or smaller rings",
			 o->umem_size, ntad_frags_jumbo_bytes(o), need, (need + (1u << 20) - 1) >> 20);
		return -ENOSPC;
	}
	return 0;
}

void ntad_frags_bind_refused(const struct ntad_opts *o, const char *ifname, int ret, char *err,
			     size_t errlen)
{
	uint32_t max_mtu = o->chunk_size - NTAD_RX_OFFSET - 14;

	if (o->frags_mode == NTAD_FRAGS_ON)
		snprintf(err, errlen, "%s: multi-buffer AF_XDP (XDP_USE_SG) refused (%s): needs kernel 6.6+ and, for zero-copy, driver support; drop --frags",
			 ifname, strerror(-ret));
	else if (o->mode == NTAD_MODE_TXONLY)
		snprintf(err, errlen, "%s: multi-buffer AF_XDP (XDP_USE_SG) refused (%s), and a %u-byte frame needs it with --chunk-size %u (kernel 6.6+); use --size %u or less",
			 ifname, strerror(-ret), o->size, o->chunk_size, o->chunk_size);
	else
		snprintf(err, errlen, "%s: multi-buffer AF_XDP (XDP_USE_SG) refused (%s), and the MTU needs it with --chunk-size %u (kernel 6.6+); lower the MTU to %u (ip link set dev %s mtu %u)%s",
			 ifname, strerror(-ret), o->chunk_size, max_mtu, ifname, max_mtu,
			 o->chunk_size < 4096 ? " or use --chunk-size 4096 (MTU up to 3826)" : "");
}

unsigned int ntad_frags_split(uint64_t addr, uint32_t len, uint32_t chunk, uint64_t *addrs,
			      uint32_t *lens, unsigned int max)
{
	unsigned int n = 0;

	if (!len || !chunk || (len + (uint64_t)chunk - 1) / chunk > max)
		return 0;
	for (uint32_t off = 0; off < len; off += chunk, n++) {
		addrs[n] = addr + off;
		lens[n] = len - off < chunk ? len - off : chunk;
	}
	return n;
}

/* ---- the TX chain table ---- */

static uint32_t slot_of(const struct ntad_frags *f, uint64_t addr)
{
	return (uint32_t)(((addr >> NTAD_LEDGER_SHIFT) * 0x9e3779b97f4a7c15ull) >> (64 - f->bits));
}

static uint32_t table_find(const struct ntad_frags *f, uint64_t addr)
{
	for (uint32_t i = slot_of(f, addr);; i = (i + 1) & f->mask) {
		if (!f->slots[i].key)
			return NO_CHAIN;
		if (f->slots[i].key == addr + 1)
			return i;
	}
}

/* Remove slot i, moving later entries of its probe run back (no tombstones). */
static void table_del(struct ntad_frags *f, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		uint32_t home;

		j = (j + 1) & f->mask;
		if (!f->slots[j].key)
			break;
		home = slot_of(f, f->slots[j].key - 1);
		/* Entry j may move to i when its home is not in (i, j] (cyclically). */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			f->slots[i] = f->slots[j];
			i = j;
		}
	}
	f->slots[i].key = 0;
	f->used--;
}

static bool table_room(const struct ntad_frags *f, unsigned int ndesc)
{
	return f->free_chain != NO_CHAIN && f->used + ndesc <= (f->mask + 1) / 2;
}

/* Enter a chain (table_room() must have said yes). */
static void table_add(struct ntad_frags *f, uint64_t head, uint32_t block_len,
		      const uint64_t *addrs, unsigned int ndesc)
{
	uint32_t id = f->free_chain;
	struct tx_chain *c = &f->chains[id];

	f->free_chain = c->next;
	c->head = head;
	c->len = block_len;
	c->ndesc = c->left = (uint16_t)ndesc;
	for (unsigned int d = 0; d < ndesc; d++) {
		uint32_t i = slot_of(f, addrs[d]);

		while (f->slots[i].key)
			i = (i + 1) & f->mask;
		f->slots[i].key = addrs[d] + 1;
		f->slots[i].chain = id;
		f->used++;
	}
}

static void chain_put(struct ntad_frags *f, uint32_t id)
{
	f->chains[id].next = f->free_chain;
	f->free_chain = id;
}

/* ---- life cycle ---- */

struct ntad_frags *ntad_frags_create(const struct ntad_engine *e)
{
	struct ntad_frags *f = calloc(1, sizeof(*f));
	uint64_t descs = 0;

	if (!f)
		return NULL;
	for (unsigned int i = 0; i < e->nr_socks; i++)
		descs += (uint64_t)e->o->tx_size + e->o->comp_size;
	f->bits = 4;
	while ((1ull << f->bits) < 2 * descs)
		f->bits++;
	f->mask = (1u << f->bits) - 1;
	f->nr_chains = (uint32_t)(descs / 2 + 1);
	f->nr_rx = e->nr_socks;
	f->chunk = e->o->chunk_size;
	f->rx = calloc(f->nr_rx, sizeof(*f->rx));
	f->slots = calloc((size_t)f->mask + 1, sizeof(*f->slots));
	f->chains = calloc(f->nr_chains, sizeof(*f->chains));
	f->scratch = malloc((size_t)NTAD_FRAGS_MAX * f->chunk);
	if (!f->rx || !f->slots || !f->chains || !f->scratch) {
		ntad_frags_destroy(f);
		errno = ENOMEM;
		return NULL;
	}
	f->free_chain = NO_CHAIN;
	for (uint32_t i = f->nr_chains; i-- > 0;)
		chain_put(f, i);
	return f;
}

void ntad_frags_destroy(struct ntad_frags *f)
{
	if (!f)
		return;
	free(f->rx);
	free(f->slots);
	free(f->chains);
	free(f->scratch);
	free(f);
}

/* ---- helpers on the engine ---- */

static void pool_free(struct ntad_engine *e, uint64_t addr, uint32_t len)
{
	if (e->pool->ops->free(e->pool, addr, len))
		e->c.pool_errors++;
}

static bool budget_left(const struct ntad_engine *e)
{
	return !e->o->count || e->c.rx_packets < e->o->count;
}

static void chain_reset(struct ntad_chain *c)
{
	c->n = 0;
	c->len = 0;
	c->complete = false;
	c->overflow = false;
}

static void chain_free_regions(struct ntad_engine *e, struct ntad_chain *c)
{
	for (unsigned int i = 0; i < c->n; i++)
		pool_free(e, c->f[i].base, e->o->chunk_size);
	chain_reset(c);
}

/* Take one RX descriptor into c (its buffer is ntad's from now on). */
static void chain_take(struct ntad_engine *e, struct ntad_chain *c, const struct xdp_desc *d)
{
	uint64_t base = xsk_umem__extract_addr(d->addr);

	ntad_ledger_move(&e->ledger, base, NTAD_AT_FILL, NTAD_AT_NTAD);
	if (c->n < NTAD_FRAGS_MAX) {
		c->f[c->n++] = (struct ntad_frag){ base, xsk_umem__add_offset_to_addr(d->addr), d->len };
	} else {
		pool_free(e, base, e->o->chunk_size);
		c->overflow = true;
	}
	c->len += d->len;
	c->complete = !(d->options & XDP_PKT_CONTD);
}

int ntad_frags_gather(struct ntad_engine *e, const struct ntad_chain *c, uint64_t *addr)
{
	uint8_t *area = e->umem->area;
	uint64_t a, off = 0;
	int ret;

	if (!c->n || c->overflow)
		return -EINVAL;
	ret = e->pool->ops->alloc(e->pool, c->len, &a);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < c->n; i++) {
		memcpy(area + a + off, area + c->f[i].addr, c->f[i].len);
		off += c->f[i].len;
	}
	e->c.gathers++;
	*addr = a;
	return 0;
}

/*
 * One complete chain from RX ring si: fn consumes it (true) or leaves it for
 * later (false: no room on its TX ring). Counts what it consumed.
 */
typedef bool (*chain_fn)(struct ntad_engine *e, struct ntad_chain *c, void *arg);

static bool deliver(struct ntad_engine *e, struct ntad_chain *c, chain_fn fn, void *arg)
{
	uint32_t len = c->len;
	unsigned int n = c->n;

	if (c->overflow) {
		/* More buffers than the kernel ever uses for one packet: not a frame. */
		chain_free_regions(e, c);
		e->c.rx_packets++;
		ntad_engine_rx_done(e, 1);
		return true;
	}
	if (!fn(e, c, arg))
		return false;
	e->c.rx_packets++;
	ntad_engine_rx_done(e, 1);
	e->c.rx_bytes += len;
	e->c.rx_multibuf += n > 1;
	chain_reset(c);
	return true;
}

static unsigned int rx_chains(struct ntad_engine *e, unsigned int si, chain_fn fn, void *arg)
{
	struct ntad_sock *s = e->socks[si];
	struct ntad_chain *c = &e->frags->rx[si];
	unsigned int pkts = 0;
	uint32_t idx, n, i = 0;

	if (c->complete) {
		if (!deliver(e, c, fn, arg))
			return 0;
		pkts++;
	}
	if (!budget_left(e))
		return pkts;
	n = xsk_ring_cons__peek(&s->rx, e->o->batch, &idx);
	while (i < n) {
		chain_take(e, c, xsk_ring_cons__rx_desc(&s->rx, idx + i));
		i++;
		if (!c->complete)
			continue;
		if (!deliver(e, c, fn, arg))
			break;
		pkts++;
		if (!budget_left(e))
			break;
	}
	if (i)
		xsk_ring_cons__release(&s->rx, i);
	if (i < n)
		xsk_ring_cons__cancel(&s->rx, n - i);
	/* Descriptors taken count as work even when no packet ended yet. */
	return pkts + (i && !pkts);
}

/* ---- rxdrop ---- */

static void verify_chain(struct ntad_engine *e, const struct ntad_chain *c)
{
	const uint8_t *area = e->umem->area;
	const uint8_t *frame;
	uint64_t block;
	bool gathered = false;
	int ret;

	if (c->n == 1) {
		frame = area + c->f[0].addr;
	} else if (!ntad_frags_gather(e, c, &block)) {
		frame = area + block;
		gathered = true;
	} else {
		/* The pool has no block this large (fixed frames): copy privately. */
		uint32_t off = 0;

		for (unsigned int i = 0; i < c->n; i++) {
			memcpy(e->frags->scratch + off, area + c->f[i].addr, c->f[i].len);
			off += c->f[i].len;
		}
		frame = e->frags->scratch;
	}
	ret = ntad_pkt_verify(frame, c->len, NULL);
	if (ret == NTAD_PKT_OK)
		e->c.verify_valid++;
	else
		e->c.verify_invalid++;
	if (gathered)
		pool_free(e, block, c->len);
}

static bool drop_chain(struct ntad_engine *e, struct ntad_chain *c, void *arg)
{
	(void)arg;
	if (e->o->verify)
		verify_chain(e, c);
	for (unsigned int i = 0; i < c->n; i++)
		pool_free(e, c->f[i].base, e->o->chunk_size);
	return true;
}

unsigned int ntad_frags_rx_drop(struct ntad_engine *e, struct ntad_sock *s)
{
	unsigned int si = 0;

	while (si + 1 < e->nr_socks && e->socks[si] != s)
		si++;
	return rx_chains(e, si, drop_chain, NULL);
}

/* ---- l2fwd / fwd ---- */

struct fwd_arg {
	unsigned int out_i;
	bool swap;
	uint32_t queued;   /* descriptors reserved on out's TX ring */
};

static inline void swap_macs(uint8_t *p)
{
	uint8_t tmp[6];

	memcpy(tmp, p, 6);
	memcpy(p, p + 6, 6);
	memcpy(p + 6, tmp, 6);
}

static void tx_desc(struct ntad_engine *e, struct ntad_sock *out, uint32_t idx, uint64_t addr,
		    uint32_t len, bool more)
{
	struct xdp_desc *t = xsk_ring_prod__tx_desc(&out->tx, idx);

	ntad_ledger_move(&e->ledger, addr, NTAD_AT_NTAD, NTAD_AT_TX);
	ntad_ledger_set_len(&e->ledger, addr, len);
	t->addr = addr;
	t->len = len;
	t->options = more ? XDP_PKT_CONTD : 0;
}

static bool fwd_chain(struct ntad_engine *e, struct ntad_chain *c, void *arg)
{
	struct fwd_arg *a = arg;
	struct ntad_sock *out = e->socks[a->out_i];
	uint8_t *area = e->umem->area;
	uint64_t addrs[NTAD_FRAGS_MAX];
	uint32_t idx = 0;

	if (xsk_prod_nb_free(&out->tx, c->n) < c->n || (c->n > 1 && !table_room(e->frags, c->n)))
		return false;
	if (xsk_ring_prod__reserve(&out->tx, c->n, &idx) != c->n)
		return false;
	if (a->swap && c->f[0].len >= 12)
		swap_macs(area + c->f[0].addr);
	if (c->n == 1) {
		/* A one-buffer packet takes engine.c's copy-break or trim. */
		struct ntad_frag *f = &c->f[0];
		uint64_t copy, addr = f->addr;

		if (e->pool->exact && f->len <= e->o->copy_break &&
		    !e->pool->ops->alloc(e->pool, f->len, &copy)) {
			memcpy(area + copy, area + f->addr, f->len);
			pool_free(e, f->base, e->o->chunk_size);
			addr = copy;
			e->c.copy_breaks++;
		} else {
			if (e->pool->ops->rx_trim(e->pool, f->base, f->addr, f->len))
				e->c.pool_errors++;
			e->c.trims += e->pool->exact;
		}
		tx_desc(e, out, idx, addr, f->len, false);
	} else {
		for (unsigned int i = 0; i < c->n; i++) {
			struct ntad_frag *f = &c->f[i];

			if (e->pool->ops->rx_trim(e->pool, f->base, f->addr, f->len))
				e->c.pool_errors++;
			e->c.trims += e->pool->exact;
			tx_desc(e, out, idx + i, f->addr, f->len, i + 1 < c->n);
			addrs[i] = f->addr;
		}
		table_add(e->frags, addrs[0], 0, addrs, c->n);
		e->c.tx_multibuf++;
	}
	a->queued += c->n;
	e->c.tx_submitted++;
	return true;
}

unsigned int ntad_frags_forward(struct ntad_engine *e, unsigned int in_i, unsigned int out_i,
				bool swap)
{
	struct fwd_arg a = { .out_i = out_i, .swap = swap };
	unsigned int got = rx_chains(e, in_i, fwd_chain, &a);

	if (a.queued) {
		xsk_ring_prod__submit(&e->socks[out_i]->tx, a.queued);
		e->outstanding[out_i] += a.queued;
		ntad_sock_kick_tx(e->socks[out_i]);
	}
	return got;
}

/* ---- txonly ---- */

unsigned int ntad_frags_generate(struct ntad_engine *e, uint32_t want)
{
	struct ntad_sock *s = e->socks[0];
	uint8_t *area = e->umem->area;
	uint64_t addrs[NTAD_FRAGS_MAX];
	uint32_t lens[NTAD_FRAGS_MAX];
	uint32_t got, queued = 0;

	for (got = 0; got < want; got++) {
		uint32_t len = e->o->imix ? ntad_pkt_imix_len(e->seq) : e->o->size;
		unsigned int n = (len + e->o->chunk_size - 1) / e->o->chunk_size;
		uint64_t addr;
		uint32_t idx = 0;

		if (n > NTAD_FRAGS_MAX || xsk_prod_nb_free(&s->tx, n) < n ||
		    (n > 1 && !table_room(e->frags, n)))
			break;
		if (e->pool->ops->alloc(e->pool, len, &addr)) {
			e->c.tx_alloc_fail++;
			break;
		}
		ntad_pkt_build(area + addr, len, &e->pkt, (uint32_t)e->seq);
		n = ntad_frags_split(addr, len, e->o->chunk_size, addrs, lens, NTAD_FRAGS_MAX);
		if (xsk_ring_prod__reserve(&s->tx, n, &idx) != n) {
			pool_free(e, addr, len);
			break;
		}
		for (unsigned int i = 0; i < n; i++)
			tx_desc(e, s, idx + i, addrs[i], lens[i], i + 1 < n);
		if (n > 1) {
			table_add(e->frags, addr, len, addrs, n);
			e->c.tx_multibuf++;
		}
		queued += n;
		e->seq++;
	}
	if (!queued)
		return 0;
	xsk_ring_prod__submit(&s->tx, queued);
	e->outstanding[0] += queued;
	e->c.tx_submitted += got;
	ntad_sock_kick_tx(s);
	return got;
}

/* ---- completions and exit ---- */

int ntad_frags_tx_complete(struct ntad_engine *e, uint64_t addr, uint32_t len)
{
	struct ntad_frags *f = e->frags;
	uint32_t i = table_find(f, addr), id;
	struct tx_chain *c;

	if (i == NO_CHAIN)
		return -1;
	id = f->slots[i].chain;
	c = &f->chains[id];
	table_del(f, i);
	if (!c->len)
		pool_free(e, addr, len);
	if (--c->left)
		return 0;
	if (c->len)
		pool_free(e, c->head, c->len);
	chain_put(f, id);
	return 1;
}

void ntad_frags_drain(struct ntad_engine *e)
{
	for (unsigned int i = 0; i < e->frags->nr_rx; i++) {
		struct ntad_chain *c = &e->frags->rx[i];

		e->c.rx_drained += c->n > 0;
		chain_free_regions(e, c);
	}
}

uint64_t ntad_frags_reclaim(struct ntad_engine *e)
{
	struct ntad_frags *f = e->frags;
	uint64_t lost = 0;

	for (uint32_t i = 0; i <= f->mask; i++) {
		struct tx_chain *c;
		uint64_t addr;

		if (!f->slots[i].key)
			continue;
		addr = f->slots[i].key - 1;
		c = &f->chains[f->slots[i].chain];
		/* Reflected fragments stay in the ledger: its sweep frees each one. */
		if (c->len && ntad_ledger_move(&e->ledger, addr, NTAD_AT_TX, NTAD_AT_NTAD)) {
			lost++;
			if (!--c->left)
				pool_free(e, c->head, c->len);
		}
	}
	memset(f->slots, 0, ((size_t)f->mask + 1) * sizeof(*f->slots));
	f->used = 0;
	f->free_chain = NO_CHAIN;
	for (uint32_t i = f->nr_chains; i-- > 0;)
		chain_put(f, i);
	return lost;
}
