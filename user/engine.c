// SPDX-License-Identifier: MIT
/*
 * engine.c - the per-queue loop: keep the fill ring topped up, take what the RX
 * ring brings, act on it by mode, send, and give completed TX buffers back.
 *
 * Buffer life cycle (every transition is checked in the ledger):
 *   pool --fill_alloc--> fill ring --kernel--> RX ring --rxdrop--> pool (whole region)
 *                                             RX ring --l2fwd/fwd--> TX ring
 *   pool --alloc(len)--> TX ring (txonly)           TX ring --completion--> pool
 * When a received packet goes out on a TX ring (l2fwd, fwd) it may wait there a
 * while, so with nta it is made cheap first: a copy into an exact-size block
 * when it is at most --copy-break bytes (the whole region goes back at once),
 * otherwise a trim (the headroom and the unused tail go back, the packet keeps
 * its own blocks). rxdrop frees each region at once, so there is nothing to trim.
 * With multi-buffer (o->frags) a packet may span several buffers and several
 * descriptors: the modes then run frags.c's versions of these loops.
 *
 * Copy-break default (256, cli.c): a trim costs two nta frees now and leaves a
 * packet-sized island in its page that blocks the next 2 KiB fill region there;
 * a copy costs one alloc, a memcpy of a few cache lines and one whole-region
 * free (which nta's front cache takes). Measured on veth (ntad txonly as the
 * generator on the peer, CPU 0; ntad l2fwd on CPU 1; 3 s; copy mode), 64-byte
 * frames: copy-break 256 114k pps, 0 (all trims) 118k, fixed pool 119k: equal
 * within noise, so the default keeps small held packets hole-free at no cost.
 * 1500-byte frames: trim 88k pps, copy-everything (--copy-break 1792) 138k,
 * fixed pool 189k: trimming large frames is the expensive path (see report).
 *
 * Waiting: the loop spins while there is work, then after a run of empty
 * iterations sleeps in poll() on the sockets and ctl_fd (at most 10 ms, or 1 ms
 * while TX completions are outstanding), so an idle ntad costs no CPU and a
 * signal stops it at once. copy-mode TX only moves on syscalls, so the loop
 * kicks the TX ring whenever descriptors wait there.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "frags.h"
#include "pool.h"
#include "retention.h"

#define SPIN_BEFORE_SLEEP 256
#define TICK_SECONDS 0.01    /* how often the clock-driven checks run */
#define DRAIN_SECONDS 0.5    /* bound on waiting for TX completions at stop */
#define MAX_FILL_PER_CALL 512
#define TX_KICKS_PER_PASS 4  /* copy mode: 32 descriptors a sendto(), 4 x 32 >= the default batch */

double ntad_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

int ntad_engine_init(struct ntad_engine *e, const struct ntad_opts *o, struct ntad_umem *u,
		     struct ntad_pool *pool, struct ntad_sock **socks, unsigned int nr_socks)
{
	int ret;

	memset(e, 0, sizeof(*e));
	if (nr_socks == 0 || nr_socks > NTAD_MAX_SOCKS)
		return -EINVAL;
	e->o = o;
	e->umem = u;
	e->pool = pool;
	e->nr_socks = nr_socks;
	for (unsigned int i = 0; i < nr_socks; i++)
		e->socks[i] = socks[i];
	e->pkt = o->pkt;
	e->ctl_fd = -1;
	e->done_fd = -1;
	e->cpu = -1;
	e->rate = o->rate;
	pthread_mutex_init(&e->pub_lock, NULL);
	e->addrs = calloc(MAX_FILL_PER_CALL, sizeof(*e->addrs));
	if (!e->addrs)
		return -ENOMEM;
	ret = ntad_ledger_init(&e->ledger, u->size);
	if (ret) {
		free(e->addrs);
		e->addrs = NULL;
		return ret;
	}
	if (o->frags && !(e->frags = ntad_frags_create(e))) {
		ntad_engine_fini(e);
		return -ENOMEM;
	}
	if (ntad_mode_retains(o->mode) && (ret = ntad_retention_create(e))) {
		ntad_engine_fini(e);
		return ret;
	}
	return 0;
}

void ntad_engine_fini(struct ntad_engine *e)
{
	ntad_retention_destroy(e);
	ntad_ledger_fini(&e->ledger);
	ntad_frags_destroy(e->frags);
	e->frags = NULL;
	free(e->addrs);
	e->addrs = NULL;
	pthread_mutex_destroy(&e->pub_lock);
}

_Static_assert(sizeof(struct ntad_counters) % sizeof(uint64_t) == 0, "counters are all uint64_t");

void ntad_counters_add(struct ntad_counters *dst, const struct ntad_counters *src)
{
	uint64_t *d = (uint64_t *)dst;
	const uint64_t *s = (const uint64_t *)src;

	for (size_t i = 0; i < sizeof(*dst) / sizeof(uint64_t); i++)
		d[i] += s[i];
}

static void publish(struct ntad_engine *e)
{
	pthread_mutex_lock(&e->pub_lock);
	e->pub = e->c;
	e->pub_seqc = e->seqc;
	pthread_mutex_unlock(&e->pub_lock);
}

void ntad_engine_published(struct ntad_engine *e, struct ntad_counters *c, struct ntad_seqcheck *sc)
{
	pthread_mutex_lock(&e->pub_lock);
	*c = e->pub;
	if (sc)
		*sc = e->pub_seqc;
	pthread_mutex_unlock(&e->pub_lock);
}

static void pool_free(struct ntad_engine *e, uint64_t addr, uint32_t len)
{
	if (e->pool->ops->free(e->pool, addr, len))
		e->c.pool_errors++;
}

/*
 * Top the fill ring up with whole regions from the pool, so that the kernel
 * holds fill_size regions for receiving: those on the fill ring and those it
 * has filled and put on the RX ring for ntad (as xdpsock refills what it
 * received). Topping the fill ring up whatever the RX ring holds would, under
 * overload (RX ring full), lend the kernel a second ring of regions it cannot
 * use and double what cycles through the packet loops: twice the ledger lines
 * and frame headers, which then no longer stay in the cache.
 */
static unsigned int refill(struct ntad_engine *e, struct ntad_sock *s)
{
	uint32_t want = xsk_prod_nb_free(s->fill, e->o->fill_size);
	uint32_t on_rx = __atomic_load_n(s->rx.producer, __ATOMIC_RELAXED) - *s->rx.consumer;
	unsigned int got;
	uint32_t idx;

	want = want > on_rx ? want - on_rx : 0;
	if (want < e->o->batch)
		return 0;
	want = min_u32(want, MAX_FILL_PER_CALL);
	got = e->pool->ops->fill_alloc(e->pool, e->addrs, want);
	if (got < want)
		e->c.fill_short += want - got;
	if (!got)
		return 0;
	if (xsk_ring_prod__reserve(s->fill, got, &idx) != got) {
		for (unsigned int i = 0; i < got; i++)
			pool_free(e, e->addrs[i], e->o->chunk_size);
		return 0;
	}
	for (unsigned int i = 0; i < got; i++) {
		ntad_ledger_move(&e->ledger, e->addrs[i], NTAD_AT_NTAD, NTAD_AT_FILL);
		*xsk_ring_prod__fill_addr(s->fill, idx + i) = e->addrs[i];
	}
	xsk_ring_prod__submit(s->fill, got);
	return got;
}

/* Give completed TX buffers back to the pool. */
static unsigned int complete(struct ntad_engine *e, unsigned int si)
{
	struct ntad_sock *s = e->socks[si];
	uint32_t idx, n, not_last = 0;

	if (!e->outstanding[si])
		return 0;
	n = xsk_ring_cons__peek(s->comp, e->o->comp_size, &idx);
	if (!n)
		return 0;
	for (uint32_t i = 0; i < n; i++)
		ntad_ledger_prefetch(&e->ledger, *xsk_ring_cons__comp_addr(s->comp, idx + i));
	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr = *xsk_ring_cons__comp_addr(s->comp, idx + i);
		uint32_t len;

		if (!ntad_ledger_move(&e->ledger, addr, NTAD_AT_TX, NTAD_AT_NTAD))
			continue;
		len = ntad_ledger_len(&e->ledger, addr);
		e->c.tx_bytes += len;
		if (e->frags) {
			/* A descriptor of a chain: frags.c frees it, or its block at the end. */
			int r = ntad_frags_tx_complete(e, addr, len);

			if (r >= 0) {
				not_last += r == 0;
				continue;
			}
		}
		pool_free(e, addr, len);
	}
	xsk_ring_cons__release(s->comp, n);
	e->outstanding[si] -= n;
	e->c.tx_packets += n - not_last;
	return n;
}

static uint64_t rx_budget(const struct ntad_engine *e)
{
	if (!e->o->count)
		return UINT64_MAX;
	return e->c.rx_packets < e->o->count ? e->o->count - e->c.rx_packets : 0;
}

/*
 * -n over several queues: claim up to want packets of the shared budget before
 * peeking the RX ring, give back what the ring did not have. Claims keep the
 * queues together from taking more than -n; rx_done says when all are taken.
 */
static uint32_t rx_claim(struct ntad_engine *e, uint32_t want)
{
	uint64_t cur, r;

	if (!e->o->count)
		return want;
	if (!e->run) {
		uint64_t b = rx_budget(e);

		return b < want ? (uint32_t)b : want;
	}
	cur = __atomic_load_n(&e->run->rx_claimed, __ATOMIC_RELAXED);
	do {
		if (cur >= e->o->count)
			return 0;
		r = e->o->count - cur < want ? e->o->count - cur : want;
	} while (!__atomic_compare_exchange_n(&e->run->rx_claimed, &cur, cur + r, false,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return (uint32_t)r;
}

static void rx_settle(struct ntad_engine *e, uint32_t claimed, uint32_t taken)
{
	if (!e->o->count || !e->run)
		return;
	if (claimed > taken)
		__atomic_fetch_sub(&e->run->rx_claimed, claimed - taken, __ATOMIC_RELAXED);
	if (taken)
		__atomic_fetch_add(&e->run->rx_done, taken, __ATOMIC_RELAXED);
}

/*
 * A packet taken without rx_claim (multi-buffer chains, which run on one queue
 * only): publish it to the shared count so -n stops the run.
 */
void ntad_engine_rx_done(struct ntad_engine *e, uint32_t n)
{
	if (e->o->count && e->run)
		__atomic_fetch_add(&e->run->rx_done, n, __ATOMIC_RELAXED);
}

static void seq_check(struct ntad_seqcheck *sc, uint32_t seq)
{
	if (sc->seen && seq <= sc->last)
		sc->unordered++;
	if (!sc->seen)
		sc->first = seq;
	sc->last = seq;
	sc->seen++;
}

/* rxdrop: count (and with --verify check) every frame, free its region. */
static unsigned int rx_drop(struct ntad_engine *e, struct ntad_sock *s)
{
	uint32_t idx, n, want;

	if (e->frags)
		return ntad_frags_rx_drop(e, s);
	want = rx_claim(e, e->o->batch);
	if (!want)
		return 0;
	n = xsk_ring_cons__peek(&s->rx, want, &idx);
	rx_settle(e, want, n);
	if (!n)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&s->rx, idx + i);
		uint64_t base = xsk_umem__extract_addr(d->addr);
		uint64_t addr = xsk_umem__add_offset_to_addr(d->addr);

		ntad_ledger_move(&e->ledger, base, NTAD_AT_FILL, NTAD_AT_NTAD);
		if (e->o->verify) {
			uint32_t seq;

			if (ntad_pkt_verify((const uint8_t *)e->umem->area + addr, d->len, &seq) == NTAD_PKT_OK) {
				e->c.verify_valid++;
				seq_check(&e->seqc, seq);
			} else
				e->c.verify_invalid++;
		}
		e->c.rx_bytes += d->len;
		pool_free(e, base, e->o->chunk_size);
	}
	xsk_ring_cons__release(&s->rx, n);
	e->c.rx_packets += n;
	return n;
}

static inline void swap_macs(uint8_t *p)
{
	uint8_t tmp[6];

	memcpy(tmp, p, 6);
	memcpy(p, p + 6, 6);
	memcpy(p + 6, tmp, 6);
}

/*
 * l2fwd (in == out, MACs swapped) and fwd (in -> out, frames untouched): move
 * frames from in's RX ring to out's TX ring, never more than out can take, so a
 * frame is never received without a TX slot to go to.
 */
static unsigned int forward(struct ntad_engine *e, unsigned int in_i, unsigned int out_i, bool swap)
{
	struct ntad_sock *in = e->socks[in_i], *out = e->socks[out_i];
	uint32_t want, idx_rx, idx_tx, n, cb_len = 0, cb_n = 0, cb_next = 0;
	uint8_t *area = e->umem->area;

	if (e->frags)
		return ntad_frags_forward(e, in_i, out_i, swap);
	want = min_u32(e->o->batch, xsk_prod_nb_free(&out->tx, e->o->batch));
	if (!want || !(want = rx_claim(e, want)))
		return 0;
	n = xsk_ring_cons__peek(&in->rx, want, &idx_rx);
	if (n && xsk_ring_prod__reserve(&out->tx, n, &idx_tx) != n) {
		xsk_ring_cons__cancel(&in->rx, n);
		n = 0;
	}
	rx_settle(e, want, n);
	if (!n)
		return 0;
	/* The ledger entries and first lines (MACs) of the batch's frames, at once. */
	for (uint32_t i = 0; i < n; i++) {
		uint64_t a = xsk_ring_cons__rx_desc(&in->rx, idx_rx + i)->addr;

		ntad_ledger_prefetch(&e->ledger, xsk_umem__extract_addr(a));
		__builtin_prefetch(area + xsk_umem__add_offset_to_addr(a), 1);
	}
	if (e->pool->exact && e->o->copy_break) {
		/*
		 * Copy-break blocks for the batch in one allocator call (one lock,
		 * one walk of nta): all those of the first copied length, which is
		 * every one for fixed-size traffic and the 64-byte ones of IMIX.
		 */
		for (uint32_t i = 0; i < n; i++) {
			uint32_t len = xsk_ring_cons__rx_desc(&in->rx, idx_rx + i)->len;

			if (len > e->o->copy_break)
				continue;
			if (!cb_len)
				cb_len = len;
			cb_n += len == cb_len;
		}
		cb_n = min_u32(cb_n, MAX_FILL_PER_CALL);
		cb_n = cb_n > 1 ? e->pool->ops->alloc_bulk(e->pool, cb_len, e->addrs, cb_n) : 0;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&in->rx, idx_rx + i);
		struct xdp_desc *t = xsk_ring_prod__tx_desc(&out->tx, idx_tx + i);
		uint64_t base = xsk_umem__extract_addr(d->addr);
		uint64_t addr = xsk_umem__add_offset_to_addr(d->addr);
		uint32_t len = d->len;
		uint64_t copy;

		ntad_ledger_move(&e->ledger, base, NTAD_AT_FILL, NTAD_AT_NTAD);
		if (swap)
			swap_macs(area + addr);
		if (len == cb_len && cb_next < cb_n)
			copy = e->addrs[cb_next++];
		else if (!(e->pool->exact && len <= e->o->copy_break) ||
			 e->pool->ops->alloc(e->pool, len, &copy))
			copy = UINT64_MAX;
		if (copy != UINT64_MAX) {
			memcpy(area + copy, area + addr, len);
			pool_free(e, base, e->o->chunk_size);
			addr = copy;
			e->c.copy_breaks++;
		} else {
			if (e->pool->ops->rx_trim(e->pool, base, addr, len))
				e->c.pool_errors++;
			e->c.trims += e->pool->exact;
		}
		ntad_ledger_move(&e->ledger, addr, NTAD_AT_NTAD, NTAD_AT_TX);
		ntad_ledger_set_len(&e->ledger, addr, len);
		t->addr = addr;
		t->len = len;
		t->options = 0;
		e->c.rx_bytes += len;
	}
	xsk_ring_prod__submit(&out->tx, n);
	xsk_ring_cons__release(&in->rx, n);
	e->outstanding[out_i] += n;
	e->c.rx_packets += n;
	e->c.tx_submitted += n;
	return n; /* step() kicks out's TX ring once for the whole pass */
}

/* txonly: frames allocated at their exact length, built in place, sent. */
static unsigned int generate(struct ntad_engine *e, double now)
{
	struct ntad_sock *s = e->socks[0];
	uint32_t want = e->o->batch, idx, got = 0;
	uint8_t *area = e->umem->area;

	if (e->o->count && e->run) {
		/* Several queues: send from a range claimed from the shared numbers. */
		if (e->seq >= e->seq_end) {
			uint64_t s0 = __atomic_fetch_add(&e->run->seq_claimed, want, __ATOMIC_RELAXED);

			if (s0 >= e->o->count)
				return 0;
			e->seq = s0;
			e->seq_end = s0 + want < e->o->count ? s0 + want : e->o->count;
		}
		want = (uint32_t)(e->seq_end - e->seq);
	} else if (e->o->count) {
		if (e->seq >= e->o->count)
			return 0;
		if (e->o->count - e->seq < want)
			want = (uint32_t)(e->o->count - e->seq);
	}
	if (e->rate) {
		double cap = e->o->batch > e->rate / 100.0 ? e->o->batch : e->rate / 100.0;

		e->tokens += (now - e->last_refill) * (double)e->rate;
		e->last_refill = now;
		if (e->tokens > cap)
			e->tokens = cap;
		if (e->tokens < 1)
			return 0;
		if (e->tokens < want)
			want = (uint32_t)e->tokens;
	}
	if (e->frags) {
		/* Frames may take several descriptors each: frags.c fills the ring. */
		got = ntad_frags_generate(e, want);
		if (e->o->rate)
			e->tokens -= got;
		return got;
	}
	want = min_u32(want, xsk_prod_nb_free(&s->tx, want));
	if (!want || xsk_ring_prod__reserve(&s->tx, want, &idx) != want)
		return 0;
	for (; got < want; got++) {
		uint32_t len = e->o->imix ? ntad_pkt_imix_len(e->seq) : e->o->size;
		struct xdp_desc *t;
		uint64_t addr;

		if (e->pool->ops->alloc(e->pool, len, &addr)) {
			e->c.tx_alloc_fail++;
			break;
		}
		ntad_pkt_build(area + addr, len, &e->pkt, (uint32_t)e->seq);
		ntad_ledger_move(&e->ledger, addr, NTAD_AT_NTAD, NTAD_AT_TX);
		ntad_ledger_set_len(&e->ledger, addr, len);
		t = xsk_ring_prod__tx_desc(&s->tx, idx + got);
		t->addr = addr;
		t->len = len;
		t->options = 0;
		e->seq++;
	}
	s->tx.cached_prod -= want - got; /* give back the slots not used */
	if (!got)
		return 0;
	xsk_ring_prod__submit(&s->tx, got);
	e->outstanding[0] += got;
	e->c.tx_submitted += got;
	if (e->rate)
		e->tokens -= got;
	return got; /* step() kicks the TX ring once for the whole pass */
}

static uint64_t total_outstanding(const struct ntad_engine *e)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < e->nr_socks; i++)
		n += e->outstanding[i];
	return n;
}

/* Sleep until a socket or ctl_fd is readable, or timeout_ms passes. */
static void wait_for_work(struct ntad_engine *e, int timeout_ms)
{
	struct pollfd p[NTAD_MAX_SOCKS + 1];
	unsigned int n = 0;

	for (unsigned int i = 0; i < e->nr_socks; i++)
		p[n++] = (struct pollfd){ .fd = e->socks[i]->fd, .events = POLLIN };
	if (e->ctl_fd >= 0)
		p[n++] = (struct pollfd){ .fd = e->ctl_fd, .events = POLLIN };
	if (e->retention) {
		/* The delay line wakes when its next packet is due, not a tick later. */
		struct timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000L };

		ntad_retention_timeout(e, &ts);
		(void)ppoll(p, n, &ts, NULL);
		return;
	}
	(void)poll(p, n, timeout_ms);
}

/*
 * When its interface is unregistered (device deleted, or its namespace gone)
 * the kernel unbinds the socket, sets SO_ERROR to ENETDOWN and never delivers
 * to it again; poll() does not report it. Checked on the clock tick, so ntad
 * stops with a message instead of idling on an interface that no longer exists.
 */
static bool sock_failed(struct ntad_engine *e)
{
	for (unsigned int i = 0; i < e->nr_socks; i++) {
		socklen_t len = sizeof(e->sock_error);

		if (!getsockopt(e->socks[i]->fd, SOL_SOCKET, SO_ERROR, &e->sock_error, &len) &&
		    e->sock_error) {
			e->error_sock = i;
			return true;
		}
	}
	e->sock_error = 0;
	return false;
}

static bool ctl_readable(const struct ntad_engine *e)
{
	struct pollfd p = { .fd = e->ctl_fd, .events = POLLIN };

	return e->ctl_fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

/* One pass over the rings; returns how much work it found. */
static unsigned int step(struct ntad_engine *e, double now, bool receiving)
{
	unsigned int work = 0;

	for (unsigned int i = 0; i < e->nr_socks; i++) {
		work += complete(e, i);
		if (e->socks[i]->has_rx)
			work += refill(e, e->socks[i]);
	}
	switch (e->o->mode) {
	case NTAD_MODE_RXDROP:
		if (receiving)
			work += rx_drop(e, e->socks[0]);
		break;
	case NTAD_MODE_L2FWD:
		if (receiving)
			work += forward(e, 0, 0, true);
		break;
	case NTAD_MODE_FWD:
		if (receiving) {
			work += forward(e, 0, 1, false);
			work += forward(e, 1, 0, false);
		}
		break;
	case NTAD_MODE_TXONLY:
		if (receiving)
			work += generate(e, now);
		break;
	case NTAD_MODE_DELAY:
	case NTAD_MODE_CAPTURE:
		work += ntad_retention_step(e, now, receiving);
		break;
	}
	/*
	 * One wakeup per socket and pass, and only when it does something: TX
	 * when descriptors wait that the kernel has not taken (buffers it already
	 * sent only wait for their completions, which come without a syscall).
	 * Copy mode takes at most 32 descriptors a call, so a pass of a 64
	 * batch repeats the call while the kernel keeps taking;
	 * RX only on an idle pass and when the fill ring asks for it.
	 */
	for (unsigned int i = 0; i < e->nr_socks; i++) {
		struct ntad_sock *s = e->socks[i];

		for (unsigned int k = 0; k < TX_KICKS_PER_PASS && e->outstanding[i] &&
					 ntad_sock_tx_waiting(s); k++)
			if (!ntad_sock_kick_tx(s))
				break;
		if (s->has_rx && !work && ntad_sock_rx_wants_kick(s))
			ntad_sock_kick_rx(s);
	}
	return work;
}

static bool done(const struct ntad_engine *e)
{
	if (!e->o->count)
		return false;
	if (e->retention)
		return ntad_retention_done(e, total_outstanding(e));
	if (e->o->mode == NTAD_MODE_TXONLY && e->run)
		return __atomic_load_n(&e->run->seq_claimed, __ATOMIC_RELAXED) >= e->o->count &&
		       e->seq >= e->seq_end && !total_outstanding(e);
	if (e->o->mode == NTAD_MODE_TXONLY)
		return e->seq >= e->o->count && !total_outstanding(e);
	if (e->run)
		return __atomic_load_n(&e->run->rx_done, __ATOMIC_RELAXED) >= e->o->count;
	return e->c.rx_packets >= e->o->count;
}

int ntad_engine_run(struct ntad_engine *e)
{
	double now = ntad_now(), next_tick = now, next_report;
	double interval = e->o->interval;
	unsigned int empty = 0;

	e->start = now;
	e->last_refill = now;
	next_report = interval > 0 ? now + interval : 0;
	for (;;) {
		now = ntad_now();
		if (now >= next_tick) {
			next_tick = now + TICK_SECONDS;
			publish(e);
			if (ctl_readable(e)) {
				e->stop_signal = true;
				break;
			}
			if (sock_failed(e))
				break;
			if (e->o->duration > 0 && now - e->start >= e->o->duration)
				break;
			if (next_report && now >= next_report) {
				next_report += interval;
				if (next_report < now)
					next_report = now + interval;
				if (e->tick)
					e->tick(e, e->tick_arg, now - e->start);
			}
		}
		if (done(e))
			break;
		if (step(e, now, true)) {
			empty = 0;
			continue;
		}
		if (++empty < SPIN_BEFORE_SLEEP || e->o->busy_poll)
			continue;
		empty = 0;
		if (e->o->mode == NTAD_MODE_TXONLY && e->rate && !total_outstanding(e)) {
			/* Rate-limited and idle: sleep until the next token is due. */
			double wait = (1.0 - e->tokens) / (double)e->rate;
			struct timespec ts = { 0, (long)(wait > 0.001 ? 1e6 : (wait > 0 ? wait * 1e9 : 0)) };

			nanosleep(&ts, NULL);
			continue;
		}
		wait_for_work(e, total_outstanding(e) ? 1 : 10);
	}
	/* Stopped: let the TX already submitted finish, for a bounded time. */
	for (double end = ntad_now() + DRAIN_SECONDS; total_outstanding(e) && ntad_now() < end;) {
		if (!step(e, ntad_now(), false))
			wait_for_work(e, 1);
	}
	publish(e);
	return 0;
}

void ntad_engine_prefill(struct ntad_engine *e)
{
	for (unsigned int i = 0; i < e->nr_socks; i++)
		if (e->socks[i]->has_rx)
			while (refill(e, e->socks[i]))
				;
}

void *ntad_engine_thread(void *arg)
{
	struct ntad_engine *e = arg;
	uint64_t one = 1;

	if (e->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(e->cpu, &set);
		/* main.c pinned a test thread there first, so this does not fail. */
		(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	ntad_engine_run(e);
	if (e->done_fd >= 0 && write(e->done_fd, &one, sizeof(one)) != sizeof(one))
		e->ctl_fd = -1; /* cannot happen on an eventfd; keeps the result used */
	return NULL;
}

void ntad_engine_drain(struct ntad_engine *e)
{
	/* Held packets: into the pcap (capture), then back to the pool. */
	ntad_retention_drain(e);
	for (unsigned int si = 0; si < e->nr_socks; si++) {
		struct ntad_sock *s = e->socks[si];
		uint32_t idx, n;

		if (!s->has_rx)
			continue;
		while ((n = xsk_ring_cons__peek(&s->rx, e->o->rx_size, &idx)) > 0) {
			for (uint32_t i = 0; i < n; i++) {
				uint64_t base = xsk_umem__extract_addr(xsk_ring_cons__rx_desc(&s->rx, idx + i)->addr);

				if (ntad_ledger_move(&e->ledger, base, NTAD_AT_FILL, NTAD_AT_NTAD))
					pool_free(e, base, e->o->chunk_size);
			}
			xsk_ring_cons__release(&s->rx, n);
			e->c.rx_drained += n;
		}
		/* Entries between the kernel's consumer and our producer: never taken. */
		e->fill_pending_at_exit += *s->fill->producer - *s->fill->consumer;
	}
	if (e->frags)
		ntad_frags_drain(e);
	for (double end = ntad_now() + DRAIN_SECONDS; total_outstanding(e) && ntad_now() < end;) {
		unsigned int got = 0;

		for (unsigned int i = 0; i < e->nr_socks; i++) {
			got += complete(e, i);
			if (e->outstanding[i])
				ntad_sock_kick_tx(e->socks[i]);
		}
		if (!got)
			wait_for_work(e, 1);
	}
}

static void reclaim_one(void *arg, uint64_t addr, uint32_t len)
{
	struct ntad_engine *e = arg;

	if (!len)
		len = e->o->chunk_size;
	/* The ledger is shared by the queues: a fixed slice frees only its own. */
	if (e->pools ? ntad_pools_free(e->pools, addr, len) : e->pool->ops->free(e->pool, addr, len))
		e->c.pool_errors++;
}

void ntad_engine_reclaim(struct ntad_engine *e)
{
	uint64_t fill, lost = 0;

	/* Fill buffers carry no length in the ledger: reclaim_one frees a chunk. */
	for (uint64_t i = 0; i < e->ledger.units; i++)
		if (e->ledger.where[i] == NTAD_AT_FILL)
			e->ledger.len[i] = 0;
	fill = ntad_ledger_sweep(&e->ledger, NTAD_AT_FILL, reclaim_one, e);
	e->kernel_held_at_exit = fill > e->fill_pending_at_exit ? fill - e->fill_pending_at_exit : 0;
	/* Chains over one block first: their descriptors must not be freed one by one. */
	if (e->frags)
		lost = ntad_frags_reclaim(e);
	e->tx_lost_at_exit = lost + ntad_ledger_sweep(&e->ledger, NTAD_AT_TX, reclaim_one, e);
}
