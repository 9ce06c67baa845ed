// SPDX-License-Identifier: MIT
/*
 * capture.c - --mode capture. By default a flight recorder: the newest
 * traffic stays in the UMEM (held.c), by bytes and by --capture-age, and is
 * written as a pcap on SIGUSR1, at exit, and when a packet matches --trigger
 * (then at most once a second, so a flood of matches is not a flood of
 * writes). With -w every frame is written as it arrives instead (tcpdump -w,
 * rotated by -C/-W; stream.c): it waits as received until a batch is worth
 * a write, and waits on when a write fails.
 *
 * What is kept: every frame received. The pcap-filter expression runs in
 * the XDP program (expr.c), which redirects exactly the frames it selects,
 * so nothing is filtered here. --trigger runs on each received frame, cut at
 * the snap length as the file will hold it; it is compiled by worker 0 and
 * only read after.
 *
 * Several queues: each worker holds its own traffic in its own FIFO, under a
 * lock it takes once a pass; a flight-recorder write takes every worker's
 * lock in index order and merges the FIFOs by arrival, so the file is one
 * capture of the interface in arrival order (so does -w, stream.c). SIGUSR1
 * is read by worker 0. A write walks the FIFOs in the writing worker's
 * thread: packets arriving meanwhile wait in the RX rings (or are dropped by
 * the kernel when one fills).
 *
 * The output was checked at start (main.c). A failed write is counted and
 * the frames stay held for the next try (the next trigger, SIGUSR1 or exit;
 * with -w a second later); the run fails (pcap_failed) when frames were not
 * written: the last write failed, or with -w frames were evicted while writes
 * failed.
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

#include "expr.h"
#include "held.h"
#include "modes.h"
#include "pcap.h"
#include "stream.h"

#define NS 1000000000ull
#define POLL_NS 10000000ull        /* SIGUSR1: every 10 ms */
#define TRIGGER_GAP_NS NS          /* at most one trigger write a second */

/* The file's numbers, one set for all workers (worker 0's state holds it). */
struct capture_file {
	pthread_mutex_t lock;      /* one write at a time */
	int64_t wall_offset;       /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns: pcap stamps */
	uint64_t last_trigger_write;
	uint64_t writes, packets, errors, err;
	bool failed;               /* the last write failed */
	struct ntad_stream *out;   /* -w */
	struct ntad_stream_file_stats closed; /* -w: the file's numbers once closed */
	struct ntad_expr *trigger; /* NULL: none given */
};

struct capture {
	pthread_mutex_t lock;      /* the FIFO: its worker's pass, or a write */
	struct ntad_retain *fifo;  /* the flight recorder's (NULL with -w) */
	struct capture_file *file; /* worker 0's */
	struct capture_file own;
	uint8_t *chain_buf;        /* --frags and --trigger: a chain's first snaplen bytes */
	uint64_t fill_short_seen;
	uint64_t next_poll;
	uint64_t triggers;
	uint64_t chains_dropped;   /* -w: a chain with no block to gather it in */
	struct ntad_stream_ring_stats ring_at_stop; /* -w: its ring's numbers, kept past the close */
};

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* Worker 0: --trigger, and with -w the file (the path was checked at start). */
static int file_init(const struct ntad_worker *w, struct capture_file *f)
{
	const struct ntad_opts *o = w->o;
	struct ntad_pcap_opts po = {
		.path = o->write_path, .snaplen = o->snaplen,
		.file_bytes = o->rotate_bytes, .files = o->rotate_files,
	};
	char err[256];

	if (o->trigger_expr[0] &&
	    !(f->trigger = ntad_expr_new("--trigger", o->trigger_expr, o->snaplen, err, sizeof(err))))
		return -EINVAL;
	if (o->write_path[0] && !(f->out = ntad_stream_open(&po, w->nr_workers, f->wall_offset)))
		return -errno;
	return 0;
}

static int capture_init(struct ntad_worker *w)
{
	struct capture *c = calloc(1, sizeof(*c));
	uint64_t limit = ntad_held_limit(w);
	int ret;

	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->own.lock, NULL);
	c->own.wall_offset = (int64_t)(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC));
	w->ms = c;
	/* Workers are set up in index order: worker 0's file is there already. */
	c->file = w->index ? ((struct capture *)w->all[0].ms)->file : &c->own;
	if (!w->index && (ret = file_init(w, c->file)))
		return ret;
	if (w->o->frags && w->o->trigger_expr[0] && !(c->chain_buf = malloc(w->o->snaplen)))
		return -ENOMEM;
	if (!limit)
		return -ENOSPC;
	/* -w: a waiting frame occupies a chunk at least (its region, or a chain's longer block). */
	if (w->o->write_path[0])
		return ntad_stream_ring_init(c->file->out, w->index, limit,
					     ntad_umem__chunk_size(ntad_queue__umem(w->q)));
	c->fifo = ntad_held_fifo(w, limit, NULL, NULL);
	return c->fifo ? 0 : -errno;
}

static void count_write(struct capture_file *f, int err, uint64_t n)
{
	if (err) {
		f->errors++;
		f->err = (uint64_t)-err;
		f->failed = true;
	} else {
		f->writes++;
		f->packets = n;
		f->failed = false;
	}
}

/* Every worker's held packets, oldest first over all of them, to --pcap. */
static void write_pcap(struct ntad_worker *w)
{
	struct capture_file *f = ((struct capture *)w->ms)->file;
	const uint8_t *area = ntad_umem__area(ntad_queue__umem(w->q));
	struct ntad_pcap_opts po = { .path = w->o->pcap_path, .snaplen = w->o->snaplen, .replace = true };
	uint64_t next[NTAD_MAX_QUEUES] = { 0 }, n = 0;
	struct ntad_pcap *pc;
	int err = 0;

	if (!w->o->pcap_path[0])
		return;
	pthread_mutex_lock(&f->lock);
	for (unsigned int i = 0; i < w->nr_workers; i++)
		pthread_mutex_lock(&((struct capture *)w->all[i].ms)->lock);
	pc = ntad_pcap_open(&po);
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
	count_write(f, err, n);
	pthread_mutex_unlock(&f->lock);
}

/* Does --trigger select p, as the file will hold it (cut at the snap length)? */
static bool trigger_match(struct ntad_worker *w, struct capture *c, const struct ntad_pkt *p)
{
	uint32_t caplen = p->len < w->o->snaplen ? p->len : w->o->snaplen;
	const uint8_t *data = p->data;

	if (p->nr_bufs > 1) {
		caplen = ntad_pkt_read(w->q, p, c->chain_buf, caplen);
		data = c->chain_buf;
	}
	return ntad_expr_match(c->file->trigger, data, caplen, p->len);
}

/*
 * -w: a frame waits in its fill region as received; a chain is gathered into
 * one block first, so that its record is one piece.
 */
static void receive_one_w(struct ntad_worker *w, struct capture *c, struct ntad_pkt *p, uint64_t now)
{
	struct ntad_umem *u = ntad_queue__umem(w->q);

	if (p->nr_bufs > 1 && ntad_pkt_hold(w->q, p)) {
		c->chains_dropped++;
		ntad_pkt_free(w->q, p, 1);
		return;
	}
	ntad_stream_add(c->file->out, w->index, w->q, p,
			p->nr_bufs > 1 ? ntad_umem__cost(u, p->len) : ntad_umem__chunk_size(u), now);
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

		if (c->file->trigger && trigger_match(w, c, p)) {
			c->triggers++;
			*trigger = true;
		}
		if (!c->fifo)
			receive_one_w(w, c, p, now);
		else
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
	if (!c->fifo)
		n = ntad_stream_evict(c->file->out, w->index, w->q, w->o->batch);
	for (; c->fifo && n < w->o->batch && ntad_retain_head(c->fifo); n++)
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

	if (c->file->out)
		ntad_stream_pass(c->file->out, w->index, w->q, now);
	pthread_mutex_lock(&c->lock);
	work = receive(w, c, now, &trigger);
	while (c->fifo && w->o->capture_age_ns && (h = ntad_retain_head(c->fifo)) &&
	       now - h->arrival > w->o->capture_age_ns) {
		ntad_held_drop_oldest(w, c->fifo, now, NTAD_RETAIN_EVICT);
		work++;
	}
	work += feed_fill(w, c, now);
	pthread_mutex_unlock(&c->lock);
	if (c->file->out)
		work += (unsigned int)ntad_stream_write(c->file->out, w->index, now, false);
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
	struct capture_file *f = c->file;

	if (c->fifo) {
		ntad_held_publish(w, &c->fifo, 1, false);
	} else {
		struct ntad_stream_ring_stats rs = c->ring_at_stop;

		if (f->out)
			ntad_stream_ring_stats(f->out, w->index, &rs);
		w->c.held_packets = rs.packets;
		w->c.held_bytes = rs.bytes;
		w->c.held_umem = rs.used;
		w->c.held_limit = rs.limit;
		w->c.held_peak_packets = rs.peak_packets;
		w->c.held_peak_umem = rs.peak_used;
		w->c.evicted = rs.evicted;
		w->c.retain_dropped = c->chains_dropped;
	}
	w->c.triggers = c->triggers;
	if (w->index)
		return; /* the file's numbers once, with worker 0's */
	if (w->o->write_path[0]) {
		struct ntad_stream_file_stats st = f->closed;

		if (f->out)
			ntad_stream_file_stats(f->out, &st);
		w->c.pcap_writes = st.writes;
		w->c.pcap_packets = st.packets;
		w->c.pcap_errors = st.errors;
		w->c.pcap_errno = st.err;
		w->c.pcap_failed = st.failed || st.lost;
		return;
	}
	pthread_mutex_lock(&f->lock);
	w->c.pcap_writes = f->writes;
	w->c.pcap_packets = f->packets;
	w->c.pcap_errors = f->errors;
	w->c.pcap_errno = f->err;
	w->c.pcap_failed = f->failed;
	pthread_mutex_unlock(&f->lock);
}

/* -w at stop, every queue thread ended: worker 0 writes what every queue has, the last closes. */
static void stream_stop(struct ntad_worker *w, struct capture *c, struct capture_file *f)
{
	uint64_t now = ntad_now_ns();
	int err;

	if (!w->index)
		while (ntad_stream_write(f->out, 0, now, true))
			;
	ntad_stream_pass(f->out, w->index, w->q, now); /* frees what was written */
	ntad_stream_ring_stats(f->out, w->index, &c->ring_at_stop);
	ntad_stream_release(f->out, w->index, w->q);   /* and what could not be */
	if (w->index != w->nr_workers - 1)
		return;
	ntad_stream_file_stats(f->out, &f->closed);
	err = ntad_stream_close(f->out);
	f->out = NULL;
	if (err) {
		f->closed.errors++;
		f->closed.err = (uint64_t)-err;
		f->closed.failed = true;
	}
	capture_publish(&w->all[0]); /* worker 0 published the file's numbers before the close */
}

/*
 * At stop (from the main thread, worker by worker, every queue thread
 * ended): worker 0 writes everything held, then each gives its packets back.
 */
static void capture_stop(struct ntad_worker *w)
{
	struct capture *c = w->ms;
	struct capture_file *f = c->file;

	if (w->o->write_path[0]) {
		stream_stop(w, c, f);
		capture_publish(w);
		return;
	}
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
	if (!w->index) {
		ntad_stream_abort(c->own.out); /* a start that failed half-way */
		ntad_expr_free(c->own.trigger);
	}
	free(c->chain_buf);
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
