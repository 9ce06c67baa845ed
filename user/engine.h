/* SPDX-License-Identifier: MIT */
/*
 * engine.h - the per-queue packet loop and the four modes.
 *
 * One struct ntad_engine per queue: it owns nothing it did not create (the
 * UMEM, the pool and the sockets are wired in by main.c), and everything one
 * loop needs is inside it, so several queues can later run one per thread.
 */
#ifndef NTAD_ENGINE_H
#define NTAD_ENGINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "ledger.h"
#include "pool.h"
#include "umem.h"
#include "xsk.h"

#define NTAD_MAX_SOCKS 2

struct ntad_counters {
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;   /* completed by the kernel */
	uint64_t tx_submitted;
	uint64_t verify_valid, verify_invalid;
	uint64_t copy_breaks, trims;
	uint64_t fill_short;     /* fill-ring slots the pool could not fill */
	uint64_t tx_alloc_fail;  /* txonly frames the pool could not give */
	uint64_t pool_errors;    /* frees or trims the pool refused */
	uint64_t rx_drained;     /* frames freed unprocessed at exit */
	uint64_t rx_multibuf;    /* packets that arrived in more than one buffer */
	uint64_t tx_multibuf;    /* packets sent as a chain of descriptors */
	uint64_t gathers;        /* chains copied into one contiguous block */
	/* delay / capture (retention.c): held now and at peak, and what left how */
	uint64_t held_packets, held_bytes, held_umem, held_limit;
	uint64_t held_peak_packets, held_peak_umem;
	uint64_t evicted, fill_evictions, alloc_evictions;
	uint64_t retain_dropped, loss_dropped, released;
	uint64_t late_p50_ns, late_p99_ns, late_max_ns, hold_min_ns;
	uint64_t pcap_writes, pcap_packets, pcap_errors, pcap_errno, triggers;
};

struct ntad_engine;
struct ntad_retention;
struct ntad_frags;
struct ntad_pools;

/*
 * What the queue threads share (main.c owns it): the -n budget and txonly's
 * sequence numbers, claimed with atomic operations once per batch so that
 * several queues together receive or send exactly -n packets.
 */
struct ntad_run {
	uint64_t rx_claimed;  /* packets claimed for taking (claims may be returned) */
	uint64_t rx_done;     /* packets taken */
	uint64_t seq_claimed; /* txonly: sequence numbers handed to queues */
};

/* --verify: sequence numbers as they arrived on one queue. */
struct ntad_seqcheck {
	uint64_t seen;        /* valid frames */
	uint64_t first, last; /* first and last sequence number */
	uint64_t unordered;   /* frames whose number was not above the previous one */
};
typedef void (*ntad_tick_fn)(struct ntad_engine *e, void *arg, double elapsed);

struct ntad_engine {
	const struct ntad_opts *o;
	struct ntad_umem *umem;
	struct ntad_pool *pool;
	struct ntad_sock *socks[NTAD_MAX_SOCKS];
	unsigned int nr_socks;
	uint64_t outstanding[NTAD_MAX_SOCKS]; /* TX descriptors not completed */
	struct ntad_ledger ledger;
	struct ntad_frags *frags; /* multi-buffer state (frags.c); NULL without o->frags */
	struct ntad_retention *retention; /* delay/capture (retention.c); else NULL */
	struct ntad_counters c;
	struct ntad_pkt_params pkt;
	uint64_t seq;            /* txonly: next sequence number */
	uint64_t seq_end;        /* txonly with run: end of the claimed range */
	uint64_t rate;           /* txonly: this queue's share of --rate */
	struct ntad_run *run;    /* shared by the queues; NULL: this engine alone */
	struct ntad_pools *pools; /* every queue's pool: frees at exit go where they belong */
	uint32_t queue;          /* the interface queue of socks[] */
	int cpu;                 /* pinned to this CPU; -1: not pinned */
	int done_fd;             /* eventfd written when run() returns; -1: none */
	struct ntad_seqcheck seqc;
	/* A copy of c and seqc for other threads, refreshed every tick. */
	pthread_mutex_t pub_lock;
	struct ntad_counters pub;
	struct ntad_seqcheck pub_seqc;
	double tokens;           /* txonly --rate bucket */
	double last_refill;
	uint64_t *addrs;         /* scratch for fill allocations */
	int ctl_fd;              /* readable: stop (main's signalfd); -1: none */
	bool stop_signal;        /* stopped because ctl_fd became readable */
	int sock_error;          /* stopped on this SO_ERROR (ENETDOWN: interface removed) */
	unsigned int error_sock; /* ... of socks[error_sock] */
	ntad_tick_fn tick;
	void *tick_arg;
	double start;
	/* exit accounting */
	uint64_t fill_pending_at_exit; /* fill-ring entries the kernel never took */
	uint64_t kernel_held_at_exit;  /* fill buffers the kernel had taken and kept */
	uint64_t tx_lost_at_exit;      /* TX buffers never completed */
};

int ntad_engine_init(struct ntad_engine *e, const struct ntad_opts *o, struct ntad_umem *u,
		     struct ntad_pool *pool, struct ntad_sock **socks, unsigned int nr_socks);

/* Run until stopped (ctl_fd, -d, -n). Returns 0. */
int ntad_engine_run(struct ntad_engine *e);

/* Top up every fill ring before the XDP program is attached (the queue
 * threads start after it, so the first frames would find empty rings). */
void ntad_engine_prefill(struct ntad_engine *e);

/* Count n packets taken outside the batch claim (multi-buffer) toward -n. */
void ntad_engine_rx_done(struct ntad_engine *e, uint32_t n);

/* A thread's entry point: pin to e->cpu, run, signal done_fd. */
void *ntad_engine_thread(void *e);

/* The counters as of the last tick (safe from another thread). */
void ntad_engine_published(struct ntad_engine *e, struct ntad_counters *c, struct ntad_seqcheck *sc);

/* dst += src, every counter. */
void ntad_counters_add(struct ntad_counters *dst, const struct ntad_counters *src);

/*
 * After the XDP program is detached, before the sockets close: free what the
 * RX rings hold, wait (bounded) for TX completions, and count what the fill
 * rings still hold.
 */
void ntad_engine_drain(struct ntad_engine *e);

/* After the sockets are closed: return every buffer the kernel still had. */
void ntad_engine_reclaim(struct ntad_engine *e);

void ntad_engine_fini(struct ntad_engine *e);

double ntad_now(void);

#endif /* NTAD_ENGINE_H */
