/* SPDX-License-Identifier: MIT */
/*
 * run.h - one queue thread of the daemon (a worker): the loop every mode runs
 * in, the -n budget the workers share, and the counters the report reads.
 *
 * A mode (modes/) is a struct ntad_mode_ops: a step that moves packets with the
 * library's calls, and what it needs around it. The loop, the clock, waiting,
 * stopping and publishing the counters are the same for every mode and live
 * here, once.
 */
#ifndef NTAD_RUN_H
#define NTAD_RUN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "hist.h"
#include "ntad.h"

#define NTAD_BATCH_MAX 512

/* What the report shows: the library's counters and the modes' own, all uint64_t. */
struct ntad_counters {
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;   /* completed by the kernel */
	uint64_t tx_submitted;
	uint64_t verify_valid, verify_invalid;
	uint64_t copy_breaks, trims;
	uint64_t fill_short;     /* fill-ring slots the pool could not fill */
	uint64_t tx_alloc_fail;  /* txonly frames the pool could not give */
	uint64_t pool_errors;    /* frees or trims the pool refused */
	uint64_t ledger_refused; /* buffers the ledger refused to move */
	uint64_t rx_drained;     /* frames freed unprocessed at exit */
	uint64_t rx_multibuf;    /* packets that arrived in more than one buffer */
	uint64_t tx_multibuf;    /* packets sent as a chain of descriptors */
	uint64_t gathers;        /* chains copied into one contiguous block */
	/* delay / capture: held now and at peak, and what left how */
	uint64_t held_packets, held_bytes, held_umem, held_limit;
	uint64_t held_peak_packets, held_peak_umem;
	uint64_t evicted, fill_evictions, alloc_evictions;
	uint64_t retain_dropped, loss_dropped, released;
	uint64_t late_p50_ns, late_p99_ns, late_max_ns, hold_min_ns;
	uint64_t duplicated, corrupted, reordered; /* delay: --duplicate, --corrupt, --reorder */
	uint64_t pcap_writes, pcap_packets, pcap_errors, pcap_errno, triggers;
	uint64_t pcap_failed;    /* capture: 1 when frames were not written (the run fails) */
};

/* dst += src, every counter. */
void ntad_counters_add(struct ntad_counters *dst, const struct ntad_counters *src);
/* c's late_p50_ns, late_p99_ns and late_max_ns from a lateness histogram. */
void ntad_counters_lateness(struct ntad_counters *c, const struct ntad_hist *late);

/*
 * What the workers share (main.c owns it): the -n budget and txonly's
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

struct ntad_worker;

struct ntad_mode_ops {
	const char *name;
	/* Set up the mode's state in w->ms (NULL: none needed). 0 or -errno. */
	int (*init)(struct ntad_worker *w);
	/* One pass: move what there is. Returns the work done (0: idle). */
	unsigned int (*step)(struct ntad_worker *w, uint64_t now_ns);
	/* -n reached: every packet of the budget handled. */
	bool (*done)(const struct ntad_worker *w);
	/* When the mode has work next without any arrival (0: not before one). */
	uint64_t (*next_ns)(const struct ntad_worker *w);
	/* Copy the mode's own numbers into w->c (NULL: none). */
	void (*publish)(struct ntad_worker *w);
	/* At stop, before the queue drains: give back every packet the mode holds. */
	void (*stop)(struct ntad_worker *w);
	void (*fini)(struct ntad_worker *w);
};

/* The modes (modes/). */
extern const struct ntad_mode_ops ntad_mode_rxdrop, ntad_mode_l2fwd, ntad_mode_fwd, ntad_mode_txonly,
	ntad_mode_delay, ntad_mode_capture;

struct ntad_worker {
	const struct ntad_opts *o;
	const struct ntad_mode_ops *mode;
	void *ms;                /* the mode's state */
	struct ntad_queue *q;
	struct ntad_run *run;    /* shared by the workers */
	struct ntad_worker *all; /* every worker (capture writes them all) */
	unsigned int index, nr_workers;
	uint32_t queue;          /* the interface queue */
	int cpu;                 /* pinned to this CPU; -1: not pinned */
	int ctl_fd;              /* readable: stop */
	int done_fd;             /* eventfd written when the loop returns */
	int usr1_fd;             /* capture: SIGUSR1's signalfd (worker 0 reads it) */
	uint64_t rate;           /* txonly: this queue's share of --rate */
	struct ntad_counters c;  /* the mode's own; the library's are copied in */
	struct ntad_seqcheck seqc;
	pthread_mutex_t pub_lock;
	struct ntad_counters pub;
	struct ntad_seqcheck pub_seqc;
	struct ntad_hist late;   /* delay: lateness over the queue's FIFOs (the mode's publish) */
	struct ntad_hist pub_late;
	bool stop_signal;        /* stopped because ctl_fd became readable */
	bool stopped;            /* the mode gave back what it held: its numbers stay as they were */
	int sock_error;          /* stopped on this SO_ERROR (ENETDOWN: interface removed) */
	unsigned int error_port; /* ... of port index error_port */
	uint64_t start_ns;
	struct ntad_pkt pkts[NTAD_BATCH_MAX];
};

uint64_t ntad_now_ns(void);

/* A thread's entry point: pin to w->cpu, run the mode's loop until stopped, signal done_fd. */
void *ntad_worker_thread(void *w);

/* The counters as of the last tick (safe from another thread), or now (final). */
void ntad_worker_counters(struct ntad_worker *w, bool final, struct ntad_counters *c,
			  struct ntad_seqcheck *sc);

/* Add w's lateness histogram, as of the last tick or now (final), to sum. */
void ntad_worker_lateness(struct ntad_worker *w, bool final, struct ntad_hist *sum);

/*
 * -n over several queues: claim up to want packets of the shared budget before
 * taking from an RX ring, and settle with what was taken (claims keep the
 * queues together from taking more than -n).
 */
uint32_t ntad_rx_claim(struct ntad_worker *w, uint32_t want);
void ntad_rx_settle(struct ntad_worker *w, uint32_t claimed, uint32_t taken);
/* Every packet of the -n budget taken, over all queues. */
bool ntad_rx_all_taken(const struct ntad_worker *w);

void ntad_seq_check(struct ntad_seqcheck *sc, uint32_t seq);

#endif /* NTAD_RUN_H */
