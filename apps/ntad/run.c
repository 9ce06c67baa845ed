// SPDX-License-Identifier: MIT
/*
 * run.c - the loop of a queue thread (run.h): library housekeeping, the
 * mode's step, the wakeups, and sleeping when there is nothing to do.
 *
 * The loop spins while there is work, then after a run of empty passes sleeps
 * on the queue's sockets and the stop eventfd (at most 10 ms, 1 ms while TX
 * completions are outstanding, or until the mode's next deadline: a rate
 * token, a delayed packet), so an idle ntad costs no CPU and a stop is seen at
 * once. Every 10 ms it publishes its counters for the report thread and checks
 * that its sockets still have an interface.
 */
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

#define SPIN_BEFORE_SLEEP 256
#define TICK_NS 10000000ull   /* how often the clock-driven checks run */
#define DRAIN_NS 500000000ull /* bound on waiting for TX completions at stop */
#define IDLE_NS 10000000ull
#define IDLE_TX_NS 1000000ull

uint64_t ntad_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

_Static_assert(sizeof(struct ntad_counters) % sizeof(uint64_t) == 0, "counters are all uint64_t");

void ntad_counters_add(struct ntad_counters *dst, const struct ntad_counters *src)
{
	uint64_t *d = (uint64_t *)dst;
	const uint64_t *s = (const uint64_t *)src;

	for (size_t i = 0; i < sizeof(*dst) / sizeof(uint64_t); i++)
		d[i] += s[i];
}

void ntad_counters_lateness(struct ntad_counters *c, const struct ntad_hist *late)
{
	c->late_p50_ns = ntad_hist_quantile(late, 0.5);
	c->late_p99_ns = ntad_hist_quantile(late, 0.99);
	c->late_max_ns = late->max;
}

/* The library's counters into w->c, then the mode's. */
static void collect(struct ntad_worker *w)
{
	struct ntad_queue_stats st;
	struct ntad_counters *c = &w->c;

	ntad_queue__stats(w->q, &st);
	c->rx_packets = st.rx_packets;
	c->rx_bytes = st.rx_bytes;
	c->tx_packets = st.tx_packets;
	c->tx_bytes = st.tx_bytes;
	c->tx_submitted = st.tx_submitted;
	c->copy_breaks = st.copy_breaks;
	c->trims = st.trims;
	c->fill_short = st.fill_short;
	c->tx_alloc_fail = st.alloc_fail;
	c->pool_errors = st.pool_errors;
	c->ledger_refused = st.ledger_refused;
	c->rx_drained = st.rx_drained;
	c->rx_multibuf = st.rx_multibuf;
	c->tx_multibuf = st.tx_multibuf;
	c->gathers = st.gathers;
	if (w->mode->publish && !w->stopped)
		w->mode->publish(w);
}

static void publish(struct ntad_worker *w)
{
	collect(w);
	pthread_mutex_lock(&w->pub_lock);
	w->pub = w->c;
	w->pub_seqc = w->seqc;
	w->pub_late = w->late;
	pthread_mutex_unlock(&w->pub_lock);
}

void ntad_worker_counters(struct ntad_worker *w, bool final, struct ntad_counters *c,
			  struct ntad_seqcheck *sc)
{
	if (final) {
		collect(w);
		*c = w->c;
		*sc = w->seqc;
		return;
	}
	pthread_mutex_lock(&w->pub_lock);
	*c = w->pub;
	*sc = w->pub_seqc;
	pthread_mutex_unlock(&w->pub_lock);
}

void ntad_worker_lateness(struct ntad_worker *w, bool final, struct ntad_hist *sum)
{
	/* final: ntad_worker_counters(final) has just collected, and the thread is gone. */
	if (final) {
		ntad_hist_merge(sum, &w->late);
		return;
	}
	pthread_mutex_lock(&w->pub_lock);
	ntad_hist_merge(sum, &w->pub_late);
	pthread_mutex_unlock(&w->pub_lock);
}

uint32_t ntad_rx_claim(struct ntad_worker *w, uint32_t want)
{
	uint64_t cur, r, count = w->o->count;

	if (!count)
		return want;
	cur = __atomic_load_n(&w->run->rx_claimed, __ATOMIC_RELAXED);
	do {
		if (cur >= count)
			return 0;
		r = count - cur < want ? count - cur : want;
	} while (!__atomic_compare_exchange_n(&w->run->rx_claimed, &cur, cur + r, false,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return (uint32_t)r;
}

void ntad_rx_settle(struct ntad_worker *w, uint32_t claimed, uint32_t taken)
{
	if (!w->o->count)
		return;
	if (claimed > taken)
		__atomic_fetch_sub(&w->run->rx_claimed, claimed - taken, __ATOMIC_RELAXED);
	if (taken)
		__atomic_fetch_add(&w->run->rx_done, taken, __ATOMIC_RELAXED);
}

bool ntad_rx_all_taken(const struct ntad_worker *w)
{
	return w->o->count && __atomic_load_n(&w->run->rx_done, __ATOMIC_RELAXED) >= w->o->count;
}

void ntad_seq_check(struct ntad_seqcheck *sc, uint32_t seq)
{
	if (sc->seen && seq <= sc->last)
		sc->unordered++;
	if (!sc->seen)
		sc->first = seq;
	sc->last = seq;
	sc->seen++;
}

/* The stop eventfd is never read (every worker must see it): poll it. */
static bool ctl_readable(const struct ntad_worker *w)
{
	struct pollfd p = { .fd = w->ctl_fd, .events = POLLIN };

	return w->ctl_fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

static void idle_wait(struct ntad_worker *w, uint64_t now)
{
	uint64_t wait = ntad_queue__tx_pending(w->q) ? IDLE_TX_NS : IDLE_NS;
	uint64_t next = w->mode->next_ns ? w->mode->next_ns(w) : 0;

	if (next)
		wait = next <= now ? 0 : (next - now < wait ? next - now : wait);
	(void)ntad_queue__wait(w->q, wait, w->ctl_fd);
}

static void run(struct ntad_worker *w)
{
	const struct ntad_opts *o = w->o;
	uint64_t now = ntad_now_ns(), next_tick = now, end;
	uint64_t duration = (uint64_t)(o->duration * 1e9);
	unsigned int empty = 0;

	w->start_ns = now;
	for (;;) {
		unsigned int work;

		now = ntad_now_ns();
		if (now >= next_tick) {
			next_tick = now + TICK_NS;
			publish(w);
			if (ctl_readable(w)) {
				w->stop_signal = true;
				break;
			}
			if ((w->sock_error = ntad_queue__error(w->q, &w->error_port)))
				break;
			if (duration && now - w->start_ns >= duration)
				break;
		}
		if (o->count && w->mode->done(w))
			break;
		work = ntad_queue__poll(w->q);
		work += w->mode->step(w, now);
		ntad_queue__flush(w->q, work);
		if (work) {
			empty = 0;
			continue;
		}
		if (++empty < SPIN_BEFORE_SLEEP || o->busy_poll)
			continue;
		empty = 0;
		idle_wait(w, now);
	}
	/* Stopped: let the TX already submitted finish, for a bounded time. */
	for (end = ntad_now_ns() + DRAIN_NS; ntad_queue__tx_pending(w->q) && ntad_now_ns() < end;) {
		unsigned int work = ntad_queue__poll(w->q);

		ntad_queue__flush(w->q, work);
		if (!work)
			(void)ntad_queue__wait(w->q, IDLE_TX_NS, -1);
	}
	publish(w);
}

void *ntad_worker_thread(void *arg)
{
	struct ntad_worker *w = arg;
	uint64_t one = 1;
	char name[16];

	/* ntad-qN in top -H, ps -L and perf: which queue a thread serves. */
	snprintf(name, sizeof(name), "ntad-q%u", w->queue);
	(void)pthread_setname_np(pthread_self(), name);
	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		/* main.c pinned the thread there at creation, so this does not fail. */
		(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	run(w);
	if (w->done_fd >= 0 && write(w->done_fd, &one, sizeof(one)) != sizeof(one))
		w->done_fd = -1; /* cannot happen on an eventfd; keeps the result used */
	return NULL;
}
