/* SPDX-License-Identifier: MIT */
/*
 * hist.h - a log-linear histogram of nanosecond values with bounded memory:
 * the delay line's lateness and hold times, kept per FIFO, merged per queue
 * and over the queues for the report.
 */
#ifndef NTAD_HIST_H
#define NTAD_HIST_H

#include <stdint.h>

/* About 3% wide buckets: 32 per power of two, one per value below 64. */
#define NTAD_HIST_SUB 32
#define NTAD_HIST_BUCKETS (2 * NTAD_HIST_SUB + 58 * NTAD_HIST_SUB)
struct ntad_hist {
	uint64_t n, min, max;
	uint64_t b[NTAD_HIST_BUCKETS];
};

void ntad_hist_add(struct ntad_hist *h, uint64_t v);
/* dst += src: the histogram of both sets of samples. */
void ntad_hist_merge(struct ntad_hist *dst, const struct ntad_hist *src);
/* The value below which a fraction q (0..1) of the samples lie, to within a
 * bucket (an upper bound, at most max); 0 without samples. */
uint64_t ntad_hist_quantile(const struct ntad_hist *h, double q);

#endif /* NTAD_HIST_H */
