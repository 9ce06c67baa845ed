// SPDX-License-Identifier: MIT
/*
 * netem.c - the delay line's impairments (netem.h), decision by decision as
 * net/sched/sch_netem.c makes them, so a tc-netem user gets what he knows:
 *
 * - Correlation: each kind of decision draws from its own correlated uniform,
 *   u = (1 - rho) * rand + rho * last, as netem's get_crandom().
 * - Jitter distributions: netem looks a uniform draw up in a table made by
 *   iproute2 (normal, pareto, paretonormal); here the same draw goes through
 *   the inverse CDF the table was made from, so correlation acts on the delay
 *   as in netem and no table is needed. uniform: delay +- jitter; normal:
 *   stddev jitter; pareto: (U^(-1/3) - 1.5) * 4/3 (shape 3, mean 0);
 *   paretonormal: a quarter of the normal plus three quarters of the pareto
 *   value at the same quantile (iproute2's paretonormal.c).
 * - Loss models: the 4-state Markov chain and Gilbert-Elliott, with netem's
 *   transitions; random loss is a Bernoulli draw on the correlated uniform.
 * - Rate: a packet is due after the previous one plus its wire bytes * 8 /
 *   rate, and its delay counts from when the previous would have left. Wire
 *   bytes are len + overhead, or with cells ceil((len + overhead) / cell
 *   size) * (cell size + cell overhead), as netem's packet_time_ns().
 * - Slots: netem's get_slot_next() and the check in its dequeue, made
 *   independent of when the FIFO is looked at: a slot opens a draw after the
 *   previous one closed (its packet or byte budget spent, counted as netem
 *   counts: the packet that crosses the byte budget still goes) or, when it
 *   went unused, a draw after the next packet's due time. Netem draws from
 *   "now" at its dequeue, which is those instants when its timer is on time.
 *   Rate and delay decide the due time first, so whichever of the rate and
 *   the slots is tighter governs, as tc-netem says.
 * PRNG: splitmix64 seeded by --seed, so a run's pattern repeats; slots draw
 * from a second one, since they are drawn at release, not at arrival.
 */
#include <math.h>
#include <string.h>

#include "netem.h"

/* 4-state Markov: good reception, good within a burst, burst loss, isolated loss. */
enum { TX_GAP = 1, TX_BURST = 2, LOST_BURST = 3, LOST_GAP = 4 };
/* Gilbert-Elliott */
enum { GOOD, BAD };

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t next_rand(struct ntad_netem *n)
{
	return splitmix64(&n->prng);
}

/* Uniform in (0, 1): never 0 or 1, so inverse CDFs stay finite. */
static double unit_draw(uint64_t r)
{
	return ((double)(r >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double rand01(struct ntad_netem *n)
{
	return unit_draw(next_rand(n));
}

static double crand(struct ntad_netem *n, struct ntad_crand *c)
{
	double u = rand01(n);

	if (c->rho <= 0)
		return u;
	c->last = (1 - c->rho) * u + c->rho * c->last;
	return c->last;
}

void ntad_netem_init(struct ntad_netem *n, const struct ntad_netem_opts *o, uint64_t seed)
{
	memset(n, 0, sizeof(*n));
	n->o = *o;
	n->prng = seed;
	n->delay_cr.rho = o->delay_corr;
	n->loss_cr.rho = o->loss_model == NTAD_LOSS_RANDOM ? o->loss[1] : 0;
	n->dup_cr.rho = o->duplicate_corr;
	n->corrupt_cr.rho = o->corrupt_corr;
	n->reorder_cr.rho = o->reorder_corr;
	n->state = o->loss_model == NTAD_LOSS_GEMODEL ? GOOD : TX_GAP;
	n->slot_prng = seed ^ 0x736c6f7473ull; /* "slots" */
	/* Open since the start of time: the first packet finds it unused and draws. */
	n->slot_next = o->slot_min_ns || o->slot_max_ns || (o->slot_by_dist && o->slot_jitter_ns);
	n->slot_packets_left = n->slot_bytes_left = 1;
	n->plain = o->loss_model == NTAD_LOSS_NONE && o->duplicate <= 0 && o->corrupt <= 0 &&
		   !o->gap;
}

/* The standard normal's inverse CDF (Acklam's rational approximation, relative error 1.2e-9). */
static double norm_inv(double p)
{
	static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
				    1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00 };
	static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
				    6.680131188771972e+01, -1.328068155288572e+01 };
	static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
				    -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00 };
	static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
				    3.754408661907416e+00 };
	double q, r;

	if (p < 0.02425 || p > 1 - 0.02425) {
		q = sqrt(-2 * log(p < 0.5 ? p : 1 - p));
		r = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
		return p < 0.5 ? r : -r;
	}
	q = p - 0.5;
	r = q * q;
	return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
	       (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

double ntad_netem_dist_sample(enum ntad_netem_dist dist, double u)
{
	switch (dist) {
	case NTAD_DIST_UNIFORM:
		return 2 * u - 1;
	case NTAD_DIST_NORMAL:
		return norm_inv(u);
	case NTAD_DIST_PARETO:
		return (pow(1 - u, -1.0 / 3) - 1.5) * 4 / 3;
	case NTAD_DIST_PARETONORMAL:
		return norm_inv(u) / 4 + (pow(1 - u, -1.0 / 3) - 1.5);
	}
	return 0;
}

bool ntad_netem_duplicate(struct ntad_netem *n)
{
	if (n->o.duplicate <= 0 || crand(n, &n->dup_cr) >= n->o.duplicate)
		return false;
	n->st.duplicated++;
	return true;
}

/* netem's loss_4state(): the new state decides; states 3 and 4 lose. */
static bool loss_4state(struct ntad_netem *n)
{
	const double *p = n->o.loss; /* p13 p31 p32 p23 p14 */
	double u = rand01(n);

	switch (n->state) {
	case TX_GAP:
		if (u < p[4])
			n->state = LOST_GAP;
		else if (u < p[4] + p[0])
			n->state = LOST_BURST;
		break;
	case TX_BURST:
		if (u < p[3])
			n->state = LOST_BURST;
		break;
	case LOST_BURST:
		if (u < p[2])
			n->state = TX_BURST;
		else if (u < p[2] + p[1])
			n->state = TX_GAP;
		break;
	case LOST_GAP:
		n->state = TX_GAP;
		break;
	}
	return n->state == LOST_BURST || n->state == LOST_GAP;
}

/* netem's loss_gilb_ell(): move, then lose with the old state's probability. */
static bool loss_gemodel(struct ntad_netem *n)
{
	const double *p = n->o.loss; /* p r 1-h 1-k */

	if (n->state == GOOD) {
		if (rand01(n) < p[0])
			n->state = BAD;
		return rand01(n) < p[3];
	}
	if (rand01(n) < p[1])
		n->state = GOOD;
	return rand01(n) < p[2];
}

bool ntad_netem_lose(struct ntad_netem *n)
{
	bool lost = false;

	switch (n->o.loss_model) {
	case NTAD_LOSS_NONE:
		return false;
	case NTAD_LOSS_RANDOM:
		lost = n->o.loss[0] > 0 && crand(n, &n->loss_cr) < n->o.loss[0];
		break;
	case NTAD_LOSS_STATE:
		lost = loss_4state(n);
		break;
	case NTAD_LOSS_GEMODEL:
		lost = loss_gemodel(n);
		break;
	}
	n->st.lost += lost;
	return lost;
}

bool ntad_netem_corrupt(struct ntad_netem *n, uint8_t *data, uint32_t len)
{
	if (n->o.corrupt <= 0 || !len || crand(n, &n->corrupt_cr) >= n->o.corrupt)
		return false;
	data[next_rand(n) % len] ^= (uint8_t)(1u << (next_rand(n) % 8));
	n->st.corrupted++;
	return true;
}

bool ntad_netem_reorder(struct ntad_netem *n)
{
	/* netem: the first gap - 1 packets after a reordered one are always delayed. */
	if (!n->o.gap || n->counter < n->o.gap - 1 || crand(n, &n->reorder_cr) >= n->o.reorder) {
		n->counter++;
		return false;
	}
	n->counter = 0;
	n->st.reordered++;
	return true;
}

uint64_t ntad_netem_wire_bytes(const struct ntad_netem_opts *o, uint32_t len)
{
	int64_t bytes = (int64_t)len + o->overhead;

	if (bytes <= 0)
		return 0;
	if (o->cell_size)
		bytes = (bytes + o->cell_size - 1) / o->cell_size * ((int64_t)o->cell_size + o->cell_overhead);
	return bytes > 0 ? (uint64_t)bytes : 0;
}

uint64_t ntad_netem_due(struct ntad_netem *n, uint64_t arrival, uint32_t len)
{
	double delay = (double)n->o.delay_ns;
	uint64_t due;

	if (!n->o.jitter_ns && !n->o.rate_bps) { /* a fixed delay: no floating point */
		due = arrival + n->o.delay_ns;
		return n->last_due = due > n->last_due ? due : n->last_due;
	}
	if (n->o.jitter_ns)
		delay += (double)n->o.jitter_ns * ntad_netem_dist_sample(n->o.dist, crand(n, &n->delay_cr));
	due = arrival + (delay > 0 ? (uint64_t)(delay + 0.5) : 0);
	if (due < n->last_due)
		due = n->last_due;
	if (n->o.rate_bps)
		due += (uint64_t)((double)ntad_netem_wire_bytes(&n->o, len) * 8e9 / (double)n->o.rate_bps + 0.5);
	n->last_due = due;
	return due;
}

void ntad_netem_slot_next(struct ntad_netem *n, uint64_t from)
{
	const struct ntad_netem_opts *o = &n->o;
	double u = unit_draw(splitmix64(&n->slot_prng)), wait;

	if (o->slot_by_dist)
		wait = (double)o->slot_delay_ns + (double)o->slot_jitter_ns * ntad_netem_dist_sample(o->slot_dist, u);
	else
		wait = (double)o->slot_min_ns + (double)(o->slot_max_ns - o->slot_min_ns) * u;
	n->slot_next = from + (wait > 0 ? (uint64_t)(wait + 0.5) : 0);
	n->slot_packets_left = o->slot_packets ? o->slot_packets : INT64_MAX;
	n->slot_bytes_left = o->slot_bytes ? o->slot_bytes : INT64_MAX;
}
