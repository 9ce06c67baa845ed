// SPDX-License-Identifier: MIT
/*
 * stream.c - capture -w (see stream.h).
 *
 * A queue's ring is [head, next, tail): [head, next) written and waiting to be
 * freed, [next, tail) waiting for the file. Its queue thread alone adds at
 * tail (published with a release store) and frees up to next; the writer,
 * any queue thread holding the stream's lock, reads [next, tail) and moves
 * next. Freeing must stay with the queue thread (a queue's pool is its
 * thread's), and so must eviction; an eviction takes the ring's lock, which
 * the writer holds while it reads the ring, so no frame goes while it is
 * being written.
 *
 * Why the frames wait in their fill regions: a frame waits some milliseconds,
 * and copying it into a block of its own (as the flight recorder holds) and
 * freeing it alone afterwards was half of what -w cost a packet at 1 Mpps of
 * IMIX (callgrind: 1,801 -> 450 instructions a packet with pcap.c's pwritev).
 *
 * The merge: a frame's arrival is its queue thread's clock at the pass that
 * took it, and each thread publishes that clock (seen) before it takes any;
 * frames that arrived before the smallest seen are complete on every ring, so
 * writing them in arrival order never puts a later frame before an earlier
 * one. A queue thread that sleeps (no traffic) holds the others back by at
 * most its sleep (10 ms).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

/* A write when this much waits or the oldest waited this long (fewer, larger writes). */
#define WRITE_BYTES (256u << 10)
#define WRITE_NS 10000000ull
#define WRITE_MAX 4096u        /* frames a write takes at most */
#define RETRY_NS 1000000000ull /* after a failed write, the next try a second later */

struct ring {
	pthread_mutex_t lock;  /* the writer reading the ring, or its thread evicting */
	struct ntad_pkt *pkt;
	uint64_t *arrival;
	uint32_t *cost;
	uint64_t mask;
	uint64_t head;         /* its thread's */
	uint64_t next;         /* the writer's, or its thread's under lock; read atomically */
	uint64_t tail;         /* its thread's; published with release */
	uint64_t seen;         /* its thread's clock at its current pass; published with release */
	/* its thread's: */
	uint64_t bytes, used, limit;
	uint64_t peak_packets, peak_used, evicted;
};

struct ntad_stream {
	pthread_mutex_t lock;  /* the writer: the file and its numbers */
	struct ntad_pcap *out;
	int64_t wall_offset;   /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns: pcap stamps */
	uint64_t retry_at;
	struct ntad_stream_file_stats st;
	unsigned int nr;
	struct ring *r;
};

/* The file's numbers: written under the lock, read without it (ntad_stream_file_stats). */
static void add(uint64_t *v, uint64_t n)
{
	__atomic_store_n(v, *v + n, __ATOMIC_RELAXED);
}

static void set(bool *v, bool b)
{
	__atomic_store_n(v, b, __ATOMIC_RELAXED);
}

struct ntad_stream *ntad_stream_open(const struct ntad_pcap_opts *po, unsigned int nr,
				     int64_t wall_offset)
{
	struct ntad_stream *s;

	if (!nr || nr > NTAD_MAX_QUEUES) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->r = calloc(nr, sizeof(*s->r));
	if (!s->r || !(s->out = ntad_pcap_open(po))) {
		int err = errno;

		free(s->r);
		free(s);
		errno = err;
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	for (unsigned int i = 0; i < nr; i++)
		pthread_mutex_init(&s->r[i].lock, NULL);
	s->nr = nr;
	s->wall_offset = wall_offset;
	return s;
}

int ntad_stream_ring_init(struct ntad_stream *s, unsigned int qi, uint64_t limit, uint32_t min_cost)
{
	struct ring *r = &s->r[qi];
	uint64_t n = 1;

	while (n < limit / min_cost && n < (1ull << 24))
		n <<= 1;
	r->pkt = calloc(n, sizeof(*r->pkt));
	r->arrival = calloc(n, sizeof(*r->arrival));
	r->cost = calloc(n, sizeof(*r->cost));
	if (!r->pkt || !r->arrival || !r->cost)
		return -ENOMEM;
	r->mask = n - 1;
	r->limit = limit;
	return 0;
}

/* Its thread: free [head, to), in at most two calls (the ring wraps). */
static void free_to(struct ring *r, struct ntad_queue *q, uint64_t to)
{
	while (r->head != to) {
		uint64_t at = r->head & r->mask, run = r->mask + 1 - at;

		if (run > to - r->head)
			run = to - r->head;
		for (uint64_t i = at; i < at + run; i++) {
			r->bytes -= r->pkt[i].len;
			r->used -= r->cost[i];
		}
		ntad_pkt_free(q, &r->pkt[at], (unsigned int)run);
		r->head += run;
	}
}

void ntad_stream_pass(struct ntad_stream *s, unsigned int qi, struct ntad_queue *q, uint64_t now)
{
	struct ring *r = &s->r[qi];

	__atomic_store_n(&r->seen, now, __ATOMIC_RELEASE);
	free_to(r, q, __atomic_load_n(&r->next, __ATOMIC_ACQUIRE));
}

unsigned int ntad_stream_evict(struct ntad_stream *s, unsigned int qi, struct ntad_queue *q,
			       unsigned int n)
{
	struct ring *r = &s->r[qi];
	uint64_t next;

	pthread_mutex_lock(&s->lock);
	pthread_mutex_lock(&r->lock);
	next = r->next;
	free_to(r, q, next);
	if (n > r->tail - next)
		n = (unsigned int)(r->tail - next);
	free_to(r, q, next + n);
	__atomic_store_n(&r->next, next + n, __ATOMIC_RELEASE);
	r->evicted += n;
	if (n && s->st.failed)
		set(&s->st.lost, true);
	pthread_mutex_unlock(&r->lock);
	pthread_mutex_unlock(&s->lock);
	return n;
}

void ntad_stream_add(struct ntad_stream *s, unsigned int qi, struct ntad_queue *q,
		     const struct ntad_pkt *p, uint32_t cost, uint64_t arrival)
{
	struct ring *r = &s->r[qi];
	uint64_t i;

	if (r->tail - r->head > r->mask || r->used + cost > r->limit) {
		free_to(r, q, __atomic_load_n(&r->next, __ATOMIC_ACQUIRE));
		while (r->head != r->tail && (r->tail - r->head > r->mask || r->used + cost > r->limit))
			(void)ntad_stream_evict(s, qi, q, 1);
	}
	i = r->tail & r->mask;
	r->pkt[i] = *p;
	r->arrival[i] = arrival;
	r->cost[i] = cost;
	r->bytes += p->len;
	r->used += cost;
	__atomic_store_n(&r->tail, r->tail + 1, __ATOMIC_RELEASE);
	if (r->tail - r->head > r->peak_packets)
		r->peak_packets = r->tail - r->head;
	if (r->used > r->peak_used)
		r->peak_used = r->used;
}

/* Queue qi's frames are due: enough bytes, or the oldest waited long enough. */
static bool due(const struct ring *r, uint64_t now)
{
	uint64_t next = __atomic_load_n(&r->next, __ATOMIC_ACQUIRE);

	return next != r->tail && (r->bytes >= WRITE_BYTES || now - r->arrival[next & r->mask] >= WRITE_NS);
}

/* Under every lock: up to WRITE_MAX frames that arrived before horizon, merged; committed. */
static uint64_t write_merged(struct ntad_stream *s, uint64_t horizon, uint64_t now)
{
	uint64_t cursor[NTAD_MAX_QUEUES], tail[NTAD_MAX_QUEUES], written[NTAD_MAX_QUEUES];
	uint64_t before = ntad_pcap_committed(s->out), done, n = 0;
	uint8_t ring_of[WRITE_MAX]; /* the ring of each record, in the file's order */
	int err = 0;

	for (unsigned int i = 0; i < s->nr; i++) {
		cursor[i] = s->r[i].next;
		tail[i] = __atomic_load_n(&s->r[i].tail, __ATOMIC_ACQUIRE);
	}
	while (!err && n < WRITE_MAX) {
		unsigned int from = s->nr;
		uint64_t best = horizon;

		for (unsigned int i = 0; i < s->nr; i++) {
			const struct ring *r = &s->r[i];

			if (cursor[i] != tail[i] && r->arrival[cursor[i] & r->mask] < best) {
				best = r->arrival[cursor[i] & r->mask];
				from = i;
			}
		}
		if (from == s->nr)
			break;
		{
			const struct ring *r = &s->r[from];
			const struct ntad_pkt *p = &r->pkt[cursor[from]++ & r->mask];

			err = ntad_pcap_add(s->out, (uint64_t)((int64_t)best + s->wall_offset), p->data, p->len);
		}
		ring_of[n++] = (uint8_t)from;
	}
	if (!n)
		return 0;
	if (!err)
		err = ntad_pcap_commit(s->out);
	done = ntad_pcap_committed(s->out) - before;
	/* What was committed is the first `done` records: move each ring's next past its share. */
	memset(written, 0, sizeof(written));
	for (uint64_t k = 0; k < done; k++)
		written[ring_of[k]]++;
	for (unsigned int i = 0; i < s->nr; i++)
		if (written[i])
			__atomic_store_n(&s->r[i].next, s->r[i].next + written[i], __ATOMIC_RELEASE);
	if (err) {
		add(&s->st.errors, 1);
		__atomic_store_n(&s->st.err, (uint64_t)-err, __ATOMIC_RELAXED);
		set(&s->st.failed, true);
		s->retry_at = now + RETRY_NS;
	} else {
		add(&s->st.writes, 1);
		set(&s->st.failed, false);
	}
	add(&s->st.packets, done);
	return done;
}

uint64_t ntad_stream_write(struct ntad_stream *s, unsigned int qi, uint64_t now, bool final)
{
	uint64_t horizon = UINT64_MAX, done;

	if (!final && !due(&s->r[qi], now))
		return 0;
	if (final)
		pthread_mutex_lock(&s->lock);
	else if (pthread_mutex_trylock(&s->lock))
		return 0; /* another queue is writing, this queue's frames too */
	if (!final && now < s->retry_at) {
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	for (unsigned int i = 0; i < s->nr; i++) {
		uint64_t seen = __atomic_load_n(&s->r[i].seen, __ATOMIC_ACQUIRE);

		if (!final && seen < horizon)
			horizon = seen;
		pthread_mutex_lock(&s->r[i].lock);
	}
	done = write_merged(s, horizon, now);
	for (unsigned int i = s->nr; i-- > 0;)
		pthread_mutex_unlock(&s->r[i].lock);
	pthread_mutex_unlock(&s->lock);
	return done;
}

void ntad_stream_release(struct ntad_stream *s, unsigned int qi, struct ntad_queue *q)
{
	struct ring *r = &s->r[qi];

	free_to(r, q, r->tail);
	r->next = r->tail;
}

void ntad_stream_ring_stats(const struct ntad_stream *s, unsigned int qi,
			    struct ntad_stream_ring_stats *st)
{
	const struct ring *r = &s->r[qi];

	*st = (struct ntad_stream_ring_stats){
		.packets = r->tail - r->head, .bytes = r->bytes, .used = r->used, .limit = r->limit,
		.peak_packets = r->peak_packets, .peak_used = r->peak_used,
		.evicted = r->evicted,
	};
}

/* Without the lock, which a slow write may hold: each number whole, the set maybe a moment apart. */
void ntad_stream_file_stats(const struct ntad_stream *s, struct ntad_stream_file_stats *st)
{
	*st = (struct ntad_stream_file_stats){
		.writes = __atomic_load_n(&s->st.writes, __ATOMIC_RELAXED),
		.packets = __atomic_load_n(&s->st.packets, __ATOMIC_RELAXED),
		.errors = __atomic_load_n(&s->st.errors, __ATOMIC_RELAXED),
		.err = __atomic_load_n(&s->st.err, __ATOMIC_RELAXED),
		.failed = __atomic_load_n(&s->st.failed, __ATOMIC_RELAXED),
		.lost = __atomic_load_n(&s->st.lost, __ATOMIC_RELAXED),
	};
}

static void stream_free(struct ntad_stream *s)
{
	for (unsigned int i = 0; i < s->nr; i++) {
		free(s->r[i].pkt);
		free(s->r[i].arrival);
		free(s->r[i].cost);
		pthread_mutex_destroy(&s->r[i].lock);
	}
	pthread_mutex_destroy(&s->lock);
	free(s->r);
	free(s);
}

int ntad_stream_close(struct ntad_stream *s)
{
	int err;

	if (!s)
		return 0;
	err = ntad_pcap_close(s->out);
	stream_free(s);
	return err;
}

void ntad_stream_abort(struct ntad_stream *s)
{
	if (!s)
		return;
	ntad_pcap_abort(s->out);
	stream_free(s);
}
