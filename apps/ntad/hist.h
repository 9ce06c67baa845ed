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

static inline unsigned int ntad_hist_msb(uint64_t v)
{
	return 63u - (unsigned int)__builtin_clzll(v);
}

/* Values below 2*SUB have a bucket each; above, 32 buckets per power of two. */
static inline unsigned int ntad_hist_index(uint64_t v)
{
	unsigned int shift;

	if (v < 2 * NTAD_HIST_SUB)
		return (unsigned int)v;
	shift = ntad_hist_msb(v) - 5;                  /* v >> shift is in [32, 63] */
	return 2 * NTAD_HIST_SUB + (shift - 1) * NTAD_HIST_SUB +
	       (unsigned int)((v >> shift) - NTAD_HIST_SUB);
}

/* One sample: a few instructions, inline on the delay line's send path. */
static inline void ntad_hist_add(struct ntad_hist *h, uint64_t v)
{
	if (!h->n || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->n++;
	h->b[ntad_hist_index(v)]++;
}

/* dst += src: the histogram of both sets of samples. */
void ntad_hist_merge(struct ntad_hist *dst, const struct ntad_hist *src);
/* The value below which a fraction q (0..1) of the samples lie, to within a
 * bucket (an upper bound, at most max); 0 without samples. */
uint64_t ntad_hist_quantile(const struct ntad_hist *h, double q);

#endif /* NTAD_HIST_H */
