// SPDX-License-Identifier: MIT
/*
 * retention.c - the delay line and the capture buffer on the engine (see
 * retention.h): the rings, the pool and the pcap file around retain.c's FIFO.
 *
 * What a held packet costs is the point of both modes. With nta every packet
 * up to --copy-break (in these modes by default: every packet) is copied into
 * a block of its own length rounded to 32 bytes and its whole fill region goes
 * back at once, so the fill ring's regions circulate through nta's front cache
 * and held packets pack densely in what is left. A trimmed packet (above
 * --copy-break) keeps its blocks inside the region and leaves holes that no
 * later 2 KiB fill region fits in (docs/BENCHMARKS.md, "Retention", has both
 * measured). With fixed frames a held packet keeps its whole frame.
 *
 * Budget: the held packets may occupy the UMEM less what the rings need with
 * every slot full of a chunk: the fill ring (delay: the TX ring too, where
 * released packets wait for completion), or less --capture-bytes. Above it the
 * capture buffer evicts its oldest packets and the delay line drops the
 * newcomer, both counted. Should nta still fail an allocation (fragmentation),
 * capture evicts and retries, delay drops; should the fill ring run short,
 * capture evicts the oldest packets until the refill gets its regions. The RX
 * ring is always emptied, so a full UMEM never stalls the socket.
 *
 * Delay: a packet leaves when now >= due (retain.c: arrival + delay + jitter,
 * never before an earlier one), on the socket it came in on with its MACs
 * swapped, like l2fwd, so a peer sees its own frames come back late. With -o
 * (two sockets, like fwd) it leaves on the other interface untouched, and
 * each direction has its own FIFO (its own order, half the budget): a delay
 * line between two segments delays the replies too, as netem on both ports
 * of a bridge would; traffic the XDP program passes (--filter) is not held. Arrival
 * is when ntad took the packet from the RX ring; lateness is send time - due.
 * An idle engine sleeps until the head is due (ntad_retention_timeout).
 *
 * Capture: the newest traffic stays, by bytes and by --capture-age; the pcap
 * is written on SIGUSR1, at exit, and when a packet matches a --trigger rule
 * (then at most once a second, so a flood of matches is not a flood of
 * writes). A write walks the FIFO in the engine thread: packets arriving
 * meanwhile wait in the RX ring (or are dropped by the kernel when it fills).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "engine.h"
#include "match.h"
#include "pcap.h"
#include "pool.h"
#include "retain.h"
#include "retention.h"

#define NS 1000000000ull
#define POLL_NS 10000000ull        /* SIGUSR1 and the counters: every 10 ms */
#define TRIGGER_GAP_NS NS          /* at most one trigger write a second */
#define ALLOC_RETRIES 64           /* evictions tried for one nta allocation */
#define BLOCK 32u                  /* nta's block: what a copied packet costs per 32 bytes */
/*
 * Chunk-sized regions counted out of the budget with nta, so that nta has a
 * block for nearly every packet the budget admits: the queue's nta_mt
 * magazine (2 x 64), which no held packet can use, and 256 of slack. nta's
 * front cache needs none: it gives its regions back when an nta_alloc finds
 * no free block (lib/nta/nta.c flushes and retries). The 256 were sized
 * for fill regions waiting in the RX ring while the fill ring was refilled;
 * since refill() counts the RX ring, the fill_size of the reserve covers
 * those, and the 256 are slack kept as measured (not re-measured since).
 * pool_nta.c's block LIFOs and nta_mt's deferred trims need no slack: they
 * are given back before an allocation of their queue fails. Measured, 64 MiB
 * capture flood (docs/BENCHMARKS.md, "Retention"): without the 256, 64-byte
 * frames hold 0.7% more but nta fails 3 times as many admitted allocations.
 */
#define NTA_PARKED_REGIONS (256u + 128u)

struct ntad_retention {
	struct ntad_retain *fifo[NTAD_MAX_SOCKS]; /* delay: per input socket; capture: [0] */
	unsigned int nr_fifos;
	bool capture;
	int usr1_fd;
	int64_t wall_offset;       /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns: pcap stamps */
	uint64_t next_poll;
	uint64_t last_trigger_write;
	uint64_t fill_short_seen;  /* e->c.fill_short at the last look */
	uint64_t fill_evictions, alloc_evictions;
	uint64_t pcap_writes, pcap_packets, pcap_errors, pcap_errno, triggers;
};

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static uint32_t cost_of(const struct ntad_engine *e, uint32_t len)
{
	return e->pool->exact ? (len + BLOCK - 1) & ~(BLOCK - 1) : e->o->chunk_size;
}

static void pool_free(struct ntad_engine *e, uint64_t addr, uint32_t len)
{
	if (e->pool->ops->free(e->pool, addr, len))
		e->c.pool_errors++;
}

static int instances; /* engines with a retention: at most one */

uint64_t ntad_retention_reserve(const struct ntad_opts *o, unsigned int socks)
{
	uint64_t slots = o->fill_size;

	if (o->mode == NTAD_MODE_DELAY)
		slots += o->tx_size; /* released packets wait there for completion */
	slots *= socks;
	if (o->pool == NTAD_POOL_NTA)
		slots += NTA_PARKED_REGIONS;
	return slots * o->chunk_size;
}

int ntad_retention_create(struct ntad_engine *e)
{
	const struct ntad_opts *o = e->o;
	struct ntad_retention *rt;
	uint64_t socks = e->nr_socks, reserve, limit;
	sigset_t usr1;
	int err;

	/* One FIFO, one arrival order, one SIGUSR1 reader: a single queue only. */
	if (e->frags || __atomic_fetch_add(&instances, 1, __ATOMIC_RELAXED))
		goto err_one;
	rt = calloc(1, sizeof(*rt));
	if (!rt) {
		__atomic_fetch_sub(&instances, 1, __ATOMIC_RELAXED);
		return -ENOMEM;
	}
	rt->usr1_fd = -1;
	rt->capture = o->mode == NTAD_MODE_CAPTURE;
	rt->nr_fifos = rt->capture ? 1 : e->nr_socks;
	reserve = ntad_retention_reserve(o, (unsigned int)socks);
	limit = e->umem->size > reserve ? e->umem->size - reserve : 0;
	if (rt->capture && o->capture_bytes && o->capture_bytes < limit)
		limit = o->capture_bytes;
	if (!limit) {
		err = -ENOSPC;
		goto err_free;
	}
	for (unsigned int i = 0; i < rt->nr_fifos; i++) {
		struct ntad_retain_opts ro = {
			.sz = sizeof(ro), .limit_bytes = limit / rt->nr_fifos,
			.min_cost = cost_of(e, NTAD_PKT_MIN_LEN),
			.delay_ns = o->delay_ns, .jitter_ns = o->jitter_ns, .loss = o->loss,
			.seed = o->seed + i,
		};

		rt->fifo[i] = ntad_retain_create(&ro);
		if (!rt->fifo[i]) {
			err = -errno;
			goto err_fifos;
		}
	}
	if (rt->capture) {
		/* Blocked here, before the queue threads exist, so they inherit it. */
		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		if (pthread_sigmask(SIG_BLOCK, &usr1, NULL) ||
		    (rt->usr1_fd = signalfd(-1, &usr1, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
			err = -errno;
			goto err_fifos;
		}
	}
	rt->wall_offset = (int64_t)(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC));
	e->retention = rt;
	return 0;

err_fifos:
	for (unsigned int i = 0; i < rt->nr_fifos; i++)
		ntad_retain_destroy(rt->fifo[i]);
err_free:
	free(rt);
	__atomic_fetch_sub(&instances, 1, __ATOMIC_RELAXED);
	return err;
err_one:
	if (!e->frags)
		__atomic_fetch_sub(&instances, 1, __ATOMIC_RELAXED);
	return -EOPNOTSUPP;
}

void ntad_retention_destroy(struct ntad_engine *e)
{
	struct ntad_retention *rt = e->retention;

	if (!rt)
		return;
	for (unsigned int i = 0; i < rt->nr_fifos; i++)
		ntad_retain_destroy(rt->fifo[i]);
	if (rt->usr1_fd >= 0)
		close(rt->usr1_fd);
	free(rt);
	e->retention = NULL;
	__atomic_fetch_sub(&instances, 1, __ATOMIC_RELAXED);
}

/* The engine's counters carry the numbers to the report (one queue only). */
static void publish_counters(struct ntad_engine *e)
{
	struct ntad_retention *rt = e->retention;
	struct ntad_counters *c = &e->c;
	struct ntad_retain_stats st;

	c->held_packets = c->held_bytes = c->held_umem = 0;
	c->held_peak_packets = c->held_peak_umem = 0;
	c->evicted = c->retain_dropped = c->loss_dropped = c->released = 0;
	c->held_limit = 0;
	for (unsigned int i = 0; i < rt->nr_fifos; i++) {
		ntad_retain_get_stats(rt->fifo[i], &st);
		c->held_packets += st.held_packets;
		c->held_bytes += st.held_bytes;
		c->held_umem += st.held_cost;
		c->held_peak_packets += st.peak_packets;
		c->held_peak_umem += st.peak_cost;
		c->evicted += st.evicted;
		c->retain_dropped += st.dropped_full;
		c->loss_dropped += st.dropped_loss;
		c->released += st.released;
		c->held_limit += st.limit_bytes;
	}
	if (!rt->capture) {
		/* Lateness over both directions: the worse one's quantiles. */
		c->late_p50_ns = c->late_p99_ns = c->late_max_ns = 0;
		c->hold_min_ns = 0;
		for (unsigned int i = 0; i < rt->nr_fifos; i++) {
			const struct ntad_hist *l = ntad_retain_lateness(rt->fifo[i]);
			const struct ntad_hist *h = ntad_retain_holdtime(rt->fifo[i]);
			uint64_t v;

			if (!l->n)
				continue;
			if ((v = ntad_hist_quantile(l, 0.5)) > c->late_p50_ns)
				c->late_p50_ns = v;
			if ((v = ntad_hist_quantile(l, 0.99)) > c->late_p99_ns)
				c->late_p99_ns = v;
			if (l->max > c->late_max_ns)
				c->late_max_ns = l->max;
			if (!c->hold_min_ns || h->min < c->hold_min_ns)
				c->hold_min_ns = h->min;
		}
	}
	c->fill_evictions = rt->fill_evictions;
	c->alloc_evictions = rt->alloc_evictions;
	c->pcap_writes = rt->pcap_writes;
	c->pcap_packets = rt->pcap_packets;
	c->pcap_errors = rt->pcap_errors;
	c->pcap_errno = rt->pcap_errno;
	c->triggers = rt->triggers;
}

/* Write every held packet, oldest first, to --pcap. */
static void write_pcap(struct ntad_engine *e)
{
	struct ntad_retention *rt = e->retention;
	const uint8_t *area = e->umem->area;
	const struct ntad_held *h;
	struct ntad_pcap *pc;
	uint64_t n = 0;
	int err = 0;

	if (!e->o->pcap_path[0])
		return;
	pc = ntad_pcap_open(e->o->pcap_path);
	if (!pc) {
		err = -errno;
		goto out;
	}
	for (; !err && (h = ntad_retain_at(rt->fifo[0], n)); n++)
		err = ntad_pcap_add(pc, (uint64_t)((int64_t)h->arrival + rt->wall_offset),
				    area + h->addr, h->len);
	if (err)
		ntad_pcap_abort(pc);
	else
		err = ntad_pcap_close(pc);
out:
	if (err) {
		rt->pcap_errors++;
		rt->pcap_errno = (uint64_t)-err;
		return;
	}
	rt->pcap_writes++;
	rt->pcap_packets = n;
}

static void evict_one(struct ntad_engine *e, struct ntad_retain *f, uint64_t now)
{
	struct ntad_held h;

	if (!ntad_retain_pop(f, NTAD_RETAIN_EVICT, now, &h))
		pool_free(e, h.addr, h.len);
}

static inline void swap_macs(uint8_t *p)
{
	uint8_t tmp[6];

	memcpy(tmp, p, 6);
	memcpy(p, p + 6, 6);
	memcpy(p + 6, tmp, 6);
}

/*
 * Hold one received packet (its fill region is with ntad now): in budget, in
 * its own block (copy) or trimmed in place. false: dropped, region freed.
 */
static bool hold(struct ntad_engine *e, struct ntad_retain *f, uint64_t base, uint64_t addr,
		 uint32_t len, uint64_t now)
{
	struct ntad_retention *rt = e->retention;
	uint8_t *area = e->umem->area;
	uint32_t cost = cost_of(e, len);
	uint64_t copy;

	if (!rt->capture && ntad_retain_lose(f))
		goto drop_uncounted;
	while (!ntad_retain_fits(f, cost)) {
		if (!rt->capture || !ntad_retain_head(f))
			goto drop;
		evict_one(e, f, now);
	}
	if (!rt->capture && e->nr_socks == 1)
		swap_macs(area + addr);
	if (e->pool->exact && len <= e->o->copy_break) {
		unsigned int tries = 0;

		while (e->pool->ops->alloc(e->pool, len, &copy)) {
			/* Budget left but no block that fits: make room, or give up. */
			if (!rt->capture || !ntad_retain_head(f) || ++tries > ALLOC_RETRIES)
				goto drop;
			evict_one(e, f, now);
			rt->alloc_evictions++;
		}
		memcpy(area + copy, area + addr, len);
		pool_free(e, base, e->o->chunk_size);
		addr = copy;
		e->c.copy_breaks++;
	} else {
		if (e->pool->ops->rx_trim(e->pool, base, addr, len)) {
			e->c.pool_errors++;
			goto drop;
		}
		e->c.trims += e->pool->exact;
	}
	/* The budget and the ring were checked above: push cannot fail. */
	(void)ntad_retain_push(f, addr, len, cost, now);
	return true;
drop:
	ntad_retain_count_drop(f);
drop_uncounted:
	pool_free(e, base, e->o->chunk_size);
	return false;
}

static unsigned int receive(struct ntad_engine *e, unsigned int si, uint64_t now)
{
	struct ntad_retention *rt = e->retention;
	struct ntad_sock *s = e->socks[si];
	struct ntad_retain *f = rt->fifo[rt->capture ? 0 : si];
	uint32_t want = e->o->batch, idx, n;
	bool trigger = false;

	if (e->o->count) {
		uint64_t left = e->c.rx_packets < e->o->count ? e->o->count - e->c.rx_packets : 0;

		if (left < want)
			want = (uint32_t)left;
	}
	if (!want || !(n = xsk_ring_cons__peek(&s->rx, want, &idx)))
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&s->rx, idx + i);
		uint64_t base = xsk_umem__extract_addr(d->addr);
		uint64_t addr = xsk_umem__add_offset_to_addr(d->addr);

		ntad_ledger_move(&e->ledger, base, NTAD_AT_FILL, NTAD_AT_NTAD);
		e->c.rx_bytes += d->len;
		if (rt->capture && e->o->nr_triggers &&
		    ntad_rules_match(e->o->triggers, e->o->nr_triggers,
				     (const uint8_t *)e->umem->area + addr, d->len)) {
			rt->triggers++;
			trigger = true;
		}
		hold(e, f, base, addr, d->len, now);
	}
	xsk_ring_cons__release(&s->rx, n);
	e->c.rx_packets += n;
	/* After the batch, so the triggering packet is in the file. */
	if (trigger && (!rt->last_trigger_write || now - rt->last_trigger_write >= TRIGGER_GAP_NS)) {
		rt->last_trigger_write = now;
		write_pcap(e);
	}
	return n;
}

/*
 * Delay: send the packets of fifo fi that are due, in order: on the socket
 * they came in on, or with -o on the other one.
 */
static unsigned int release(struct ntad_engine *e, unsigned int fi, uint64_t now)
{
	struct ntad_retain *f = e->retention->fifo[fi];
	unsigned int oi = e->nr_socks == 2 ? fi ^ 1 : fi;
	struct ntad_sock *out = e->socks[oi];
	const struct ntad_held *h = ntad_retain_head(f);
	uint32_t n = 0, room, idx;

	if (!h || h->due > now)
		return 0;
	room = xsk_prod_nb_free(&out->tx, e->o->batch);
	if (room > e->o->batch)
		room = e->o->batch;
	if (!room || xsk_ring_prod__reserve(&out->tx, room, &idx) != room)
		return 0;
	for (; n < room && (h = ntad_retain_head(f)) && h->due <= now; n++) {
		struct xdp_desc *t = xsk_ring_prod__tx_desc(&out->tx, idx + n);
		struct ntad_held p;

		(void)ntad_retain_pop(f, NTAD_RETAIN_RELEASE, now, &p);
		ntad_ledger_move(&e->ledger, p.addr, NTAD_AT_NTAD, NTAD_AT_TX);
		ntad_ledger_set_len(&e->ledger, p.addr, p.len);
		t->addr = p.addr;
		t->len = p.len;
		t->options = 0;
	}
	out->tx.cached_prod -= room - n; /* give back the slots not used */
	if (!n)
		return 0;
	xsk_ring_prod__submit(&out->tx, n);
	e->outstanding[oi] += n;
	e->c.tx_submitted += n;
	ntad_sock_kick_tx(out);
	return n;
}

/* Capture: the kernel needs fill regions; if the pool ran short, let the oldest go. */
static unsigned int feed_fill(struct ntad_engine *e, uint64_t now)
{
	struct ntad_retention *rt = e->retention;
	unsigned int n = 0;

	if (e->c.fill_short == rt->fill_short_seen)
		return 0;
	rt->fill_short_seen = e->c.fill_short;
	for (; n < e->o->batch && ntad_retain_head(rt->fifo[0]); n++)
		evict_one(e, rt->fifo[0], now);
	rt->fill_evictions += n;
	return n;
}

static void poll_usr1(struct ntad_engine *e)
{
	struct ntad_retention *rt = e->retention;
	struct signalfd_siginfo si;
	bool got = false;

	while (read(rt->usr1_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		got = true;
	if (got)
		write_pcap(e);
}

unsigned int ntad_retention_step(struct ntad_engine *e, double now_s, bool receiving)
{
	struct ntad_retention *rt = e->retention;
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	unsigned int work = 0;

	(void)now_s; /* a packet's times need nanoseconds */
	if (rt->capture) {
		const struct ntad_held *h;

		if (receiving)
			work += receive(e, 0, now);
		while (e->o->capture_age_ns && (h = ntad_retain_head(rt->fifo[0])) &&
		       now - h->arrival > e->o->capture_age_ns) {
			evict_one(e, rt->fifo[0], now);
			work++;
		}
		work += feed_fill(e, now);
	} else {
		for (unsigned int i = 0; i < e->nr_socks; i++) {
			if (receiving)
				work += receive(e, i, now);
			work += release(e, i, now);
		}
	}
	if (now >= rt->next_poll) {
		rt->next_poll = now + POLL_NS;
		if (rt->usr1_fd >= 0)
			poll_usr1(e);
		publish_counters(e);
	}
	return work;
}

void ntad_retention_timeout(struct ntad_engine *e, struct timespec *ts)
{
	struct ntad_retention *rt = e->retention;
	uint64_t now, wait = (uint64_t)ts->tv_sec * NS + (uint64_t)ts->tv_nsec;

	if (rt->capture)
		return;
	now = clock_ns(CLOCK_MONOTONIC);
	for (unsigned int i = 0; i < rt->nr_fifos; i++) {
		const struct ntad_held *h = ntad_retain_head(rt->fifo[i]);

		if (h && (h->due <= now ? 0 : h->due - now) < wait)
			wait = h->due <= now ? 0 : h->due - now;
	}
	ts->tv_sec = (time_t)(wait / NS);
	ts->tv_nsec = (long)(wait % NS);
}

bool ntad_retention_done(const struct ntad_engine *e, uint64_t outstanding)
{
	const struct ntad_retention *rt = e->retention;

	if (e->c.rx_packets < e->o->count)
		return false;
	if (rt->capture)
		return true;
	for (unsigned int i = 0; i < rt->nr_fifos; i++)
		if (ntad_retain_head(rt->fifo[i]))
			return false;
	return !outstanding;
}

void ntad_retention_drain(struct ntad_engine *e)
{
	struct ntad_retention *rt = e->retention;
	struct ntad_held h;

	if (!rt)
		return;
	if (rt->capture)
		write_pcap(e);
	publish_counters(e); /* what was held at the stop, before the flush */
	for (unsigned int i = 0; i < rt->nr_fifos; i++)
		while (!ntad_retain_pop(rt->fifo[i], NTAD_RETAIN_FLUSH, 0, &h))
			pool_free(e, h.addr, h.len);
}
