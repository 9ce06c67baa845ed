/* SPDX-License-Identifier: MIT */
/*
 * stats.h - what ntad reports: one line per interval and a summary at exit,
 * as text or as JSON lines with the same fields.
 */
#ifndef NTAD_STATS_H
#define NTAD_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ntad.h"
#include "run.h"

/* One queue's part of a report (its thread's counters, its sockets' rings). */
struct ntad_queue_report {
	uint32_t queue;
	int cpu;                      /* -1: not pinned */
	struct ntad_counters c, prev;
	struct ntad_seqcheck sc;      /* --verify only */
	struct ntad_ring_stats xs;
};

struct ntad_report {
	bool summary;
	const char *mode, *pool;
	double elapsed;               /* seconds since start */
	double dt;                    /* seconds the rates are over */
	struct ntad_counters c;       /* totals */
	struct ntad_counters prev;    /* totals at the previous line (zero for the summary) */
	struct ntad_ring_stats xs;    /* kernel ring statistics, summed over sockets */
	struct ntad_xdp_stats xdp;    /* XDP program counters, summed over interfaces */
	struct ntad_pool_stats ps;
	/* summary only */
	uint64_t in_use_at_exit;
	bool check_ok;
	uint64_t ledger_violations;
	uint64_t fill_pending_at_exit, kernel_held_at_exit, tx_lost_at_exit;
	const char *stop_reason;
	const char *bind_mode;        /* "copy" or "zerocopy" */
	/* per queue: printed as "queues" in JSON always, as lines when more than one */
	unsigned int nr_queues;
	const struct ntad_queue_report *queues;
	bool verify;
};

void ntad_report_print(FILE *f, const struct ntad_report *r, bool json);

#endif /* NTAD_STATS_H */
