// SPDX-License-Identifier: MIT
/*
 * capture.c - --mode capture: a flight recorder. The newest traffic stays in
 * the UMEM (held.c), by bytes and by --capture-age, and is written as a pcap
 * on SIGUSR1, at exit, and when a packet matches a --trigger rule (then at
 * most once a second, so a flood of matches is not a flood of writes).
 *
 * Several queues: each worker holds its own traffic in its own FIFO, under a
 * lock it takes once a pass; a write takes every worker's lock in index order
 * and merges the FIFOs by arrival, so the file is one capture of the
 * interface in arrival order. SIGUSR1 is read by worker 0. A write walks the
 * FIFOs in the writing worker's thread: packets arriving meanwhile wait in
 * the RX rings (or are dropped by the kernel when one fills).
 *
 * The kernel needs fill regions: when the pool ran short of them, the oldest
 * held packets are let go until the refill gets its regions, so capture never
 * stalls the socket.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "held.h"
#include "match.h"
#include "modes.h"
#include "pcap.h"

#define NS 1000000000ull
#define POLL_NS 10000000ull        /* SIGUSR1: every 10 ms */
#define TRIGGER_GAP_NS NS          /* at most one trigger write a second */

/* The file's numbers, one set for all workers (worker 0's state holds it). */
struct capture_file {
	pthread_mutex_t lock;      /* one write at a time */
	int64_t wall_offset;       /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns: pcap stamps */
	uint64_t last_trigger_write;
	uint64_t writes, packets, errors, err;
};

struct capture {
	pthread_mutex_t lock;      /* the FIFO: its worker's pass, or a write */
	struct ntad_retain *fifo;
	struct capture_file *file; /* worker 0's */
	struct capture_file own;
	uint64_t fill_short_seen;
	uint64_t next_poll;
	uint64_t triggers;
};

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static int capture_init(struct ntad_worker *w)
{
	struct capture *c = calloc(1, sizeof(*c));
	uint64_t limit = ntad_held_limit(w);

	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->own.lock, NULL);
	c->own.wall_offset = (int64_t)(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC));
	w->ms = c;
	/* Workers are set up in index order: worker 0's file is there already. */
	c->file = w->index ? ((struct capture *)w->all[0].ms)->file : &c->own;
	if (!limit)
		return -ENOSPC;
	c->fifo = ntad_held_fifo(w, limit, NULL);
	return c->fifo ? 0 : -errno;
}

/* Every worker's held packets, oldest first over all of them, to --pcap. */
static void write_pcap(struct ntad_worker *w)
{
	struct capture_file *f = ((struct capture *)w->ms)->file;
	const uint8_t *area = ntad_umem__area(ntad_queue__umem(w->q));
	uint64_t next[NTAD_MAX_QUEUES] = { 0 }, n = 0;
	struct ntad_pcap *pc;
	int err = 0;

	if (!w->o->pcap_path[0])
		return;
	pthread_mutex_lock(&f->lock);
	for (unsigned int i = 0; i < w->nr_workers; i++)
		pthread_mutex_lock(&((struct capture *)w->all[i].ms)->lock);
	pc = ntad_pcap_open(w->o->pcap_path);
	if (!pc)
		err = -errno;
	while (!err) {
		const struct ntad_held *h = NULL, *x;
		unsigned int from = 0;

		for (unsigned int i = 0; i < w->nr_workers; i++) {
			x = ntad_retain_at(((struct capture *)w->all[i].ms)->fifo, next[i]);
			if (x && (!h || x->arrival < h->arrival)) {
				h = x;
				from = i;
			}
		}
		if (!h)
			break;
		next[from]++;
		err = ntad_pcap_add(pc, (uint64_t)((int64_t)h->arrival + f->wall_offset),
				    area + h->addr, h->len);
		n++;
	}
	for (unsigned int i = w->nr_workers; i-- > 0;)
		pthread_mutex_unlock(&((struct capture *)w->all[i].ms)->lock);
	if (pc && err)
		ntad_pcap_abort(pc);
	else if (pc)
		err = ntad_pcap_close(pc);
	if (err) {
		f->errors++;
		f->err = (uint64_t)-err;
	} else {
		f->writes++;
		f->packets = n;
	}
	pthread_mutex_unlock(&f->lock);
}

static unsigned int receive(struct ntad_worker *w, struct capture *c, uint64_t now, bool *trigger)
{
	uint32_t want = ntad_rx_claim(w, w->o->batch), n;

	if (!want)
		return 0;
	n = ntad_rx_burst(w->q, 0, w->pkts, want);
	ntad_rx_settle(w, want, n);
	for (uint32_t i = 0; i < n; i++) {
		struct ntad_pkt *p = &w->pkts[i];

		if (w->o->nr_triggers && ntad_rules_match(w->o->triggers, w->o->nr_triggers, p->data, p->len)) {
			c->triggers++;
			*trigger = true;
		}
		ntad_held_admit(w, c->fifo, p, now, true);
	}
	return n;
}

/* The pool could not fill the fill ring: let the oldest go so it can. */
static unsigned int feed_fill(struct ntad_worker *w, struct capture *c, uint64_t now)
{
	struct ntad_queue_stats st;
	unsigned int n = 0;

	ntad_queue__stats(w->q, &st);
	if (st.fill_short == c->fill_short_seen)
		return 0;
	c->fill_short_seen = st.fill_short;
	for (; n < w->o->batch && ntad_retain_head(c->fifo); n++)
		ntad_held_drop_oldest(w, c->fifo, now, NTAD_RETAIN_EVICT);
	w->c.fill_evictions += n;
	return n;
}

static bool usr1_pending(struct ntad_worker *w)
{
	struct signalfd_siginfo si;
	bool got = false;

	while (w->usr1_fd >= 0 && read(w->usr1_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		got = true;
	return got;
}

static unsigned int capture_step(struct ntad_worker *w, uint64_t now)
{
	struct capture *c = w->ms;
	const struct ntad_held *h;
	bool trigger = false;
	unsigned int work;

	pthread_mutex_lock(&c->lock);
	work = receive(w, c, now, &trigger);
	while (w->o->capture_age_ns && (h = ntad_retain_head(c->fifo)) &&
	       now - h->arrival > w->o->capture_age_ns) {
		ntad_held_drop_oldest(w, c->fifo, now, NTAD_RETAIN_EVICT);
		work++;
	}
	work += feed_fill(w, c, now);
	pthread_mutex_unlock(&c->lock);
	/* After the batch, so the triggering packet is in the file. */
	if (trigger && (!c->file->last_trigger_write ||
			    now - c->file->last_trigger_write >= TRIGGER_GAP_NS)) {
		c->file->last_trigger_write = now;
		write_pcap(w);
	}
	if (now >= c->next_poll) {
		c->next_poll = now + POLL_NS;
		if (usr1_pending(w))
			write_pcap(w);
	}
	return work;
}

static bool capture_done(const struct ntad_worker *w)
{
	return ntad_rx_all_taken(w);
}

static void capture_publish(struct ntad_worker *w)
{
	struct capture *c = w->ms;

	ntad_held_publish(w, &c->fifo, 1, false);
	w->c.triggers = c->triggers;
	if (w->index)
		return; /* the file's numbers once, with worker 0's */
	w->c.pcap_writes = c->file->writes;
	w->c.pcap_packets = c->file->packets;
	w->c.pcap_errors = c->file->errors;
	w->c.pcap_errno = c->file->err;
}

/* At stop: worker 0 writes everything held, then each gives its packets back. */
static void capture_stop(struct ntad_worker *w)
{
	struct capture *c = w->ms;

	if (!w->index)
		write_pcap(w);
	capture_publish(w);
	while (ntad_retain_head(c->fifo))
		ntad_held_drop_oldest(w, c->fifo, 0, NTAD_RETAIN_FLUSH);
}

static void capture_fini(struct ntad_worker *w)
{
	struct capture *c = w->ms;

	if (!c)
		return;
	ntad_retain_destroy(c->fifo);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->own.lock);
	free(c);
	w->ms = NULL;
}

const struct ntad_mode_ops ntad_mode_capture = {
	.name = "capture",
	.init = capture_init,
	.step = capture_step,
	.done = capture_done,
	.publish = capture_publish,
	.stop = capture_stop,
	.fini = capture_fini,
};
