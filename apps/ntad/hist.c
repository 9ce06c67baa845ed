// SPDX-License-Identifier: MIT
/*
 * hist.c - the log-linear histogram (hist.h).
 *
 * Fixed buckets, no allocation: adding a sample is a few instructions on the
 * delay line's send path, and two histograms merge by adding their buckets,
 * so each queue keeps its own without locks and the report adds them up.
 * Quantiles are upper bounds within a bucket (about 3%), clamped to the exact
 * min and max.
 */
#include "hist.h"

/* The largest value of bucket i. */
static uint64_t hist_upper(unsigned int i)
{
	unsigned int shift, top;

	if (i < 2 * NTAD_HIST_SUB)
		return i;
	shift = (i - 2 * NTAD_HIST_SUB) / NTAD_HIST_SUB + 1;
	top = (i - 2 * NTAD_HIST_SUB) % NTAD_HIST_SUB + NTAD_HIST_SUB;
	return (((uint64_t)top + 1) << shift) - 1;
}

void ntad_hist_merge(struct ntad_hist *dst, const struct ntad_hist *src)
{
	if (!src->n)
		return;
	if (!dst->n || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->n += src->n;
	for (unsigned int i = 0; i < NTAD_HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
}

uint64_t ntad_hist_quantile(const struct ntad_hist *h, double q)
{
	uint64_t want, seen = 0;

	if (!h->n)
		return 0;
	if (q <= 0)
		return h->min;
	want = q >= 1 ? h->n : (uint64_t)(q * (double)h->n + 0.999999);
	if (!want)
		want = 1;
	for (unsigned int i = 0; i < NTAD_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want) {
			uint64_t up = hist_upper(i);

			return up < h->max ? (up > h->min ? up : h->min) : h->max;
		}
	}
	return h->max;
}
