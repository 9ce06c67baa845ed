// SPDX-License-Identifier: MIT
/*
 * test_netem.c - the delay line's impairments (apps/ntad/netem.c) without a
 * socket, each against what tc-netem's meaning predicts, deterministic for a
 * seed: the jitter distributions' mean and standard deviation (uniform
 * 1/sqrt(3), normal 1, pareto 4/3 sqrt(3/4), paretonormal from its quantile
 * function integrated numerically), correlation, random loss, the 4-state
 * Markov and Gilbert-Elliott models against their closed-form stationary
 * loss, duplication, corruption (exactly one bit), reorder with a gap, and
 * the rate's spacing with overhead and with cells (exact wire-time
 * arithmetic), and slots: a backlog leaves in batches of exactly the packet
 * budget (or the byte budget, crossed by the last packet), at intervals
 * within min..max whose mean (and so the long-run release rate) is the
 * closed form's, an idle line's packet waits one draw, and the tighter of
 * the rate and the slots governs.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "netem.h"
#include "check.h"

#define MS 1000000ull
#define NSLOT 96000 /* packets through the slot tests */

static struct ntad_netem make(const struct ntad_netem_opts *o, uint64_t seed)
{
	struct ntad_netem n;

	ntad_netem_init(&n, o, seed);
	return n;
}

/* Offsets (due - arrival - delay) / jitter of n samples, arrivals far enough apart never to queue. */
static void jitter_moments(enum ntad_netem_dist dist, double corr, unsigned int n, double *mean,
			   double *sd, double *lag1)
{
	struct ntad_netem_opts o = { .delay_ns = 1000 * MS, .jitter_ns = MS, .dist = dist,
				     .delay_corr = corr };
	struct ntad_netem ne = make(&o, 11);
	double s = 0, s2 = 0, sxy = 0, prev = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t arrival = (uint64_t)i * 100000 * MS;
		double x = ((double)ntad_netem_due(&ne, arrival, 64) - (double)arrival - 1e9) / 1e6;

		s += x;
		s2 += x * x;
		sxy += x * prev;
		prev = x;
	}
	*mean = s / n;
	*sd = sqrt(s2 / n - *mean * *mean);
	*lag1 = (sxy / n - *mean * *mean) / (*sd * *sd);
}

/* Standard deviation of a distribution from its quantile function (midpoint rule). */
static double quantile_sd(enum ntad_netem_dist dist)
{
	const unsigned int k = 2000000;
	double s = 0, s2 = 0;

	for (unsigned int i = 0; i < k; i++) {
		double x = ntad_netem_dist_sample(dist, (i + 0.5) / k);

		s += x;
		s2 += x * x;
	}
	return sqrt(s2 / k - (s / k) * (s / k));
}

static void test_distributions(void)
{
	static const struct { enum ntad_netem_dist d; const char *name; double sd, tol; } t[] = {
		{ NTAD_DIST_UNIFORM, "uniform", 0.5773503, 0.01 },
		{ NTAD_DIST_NORMAL, "normal", 1, 0.01 },
		/* heavy tail (shape 3): the sample sd converges slowly */
		{ NTAD_DIST_PARETO, "pareto", 1.1547005, 0.06 },
		{ NTAD_DIST_PARETONORMAL, "paretonormal", 0, 0.06 },
	};
	const unsigned int n = 400000;

	CHECK(fabs(ntad_netem_dist_sample(NTAD_DIST_NORMAL, 0.975) - 1.959964) < 1e-5, "normal q0.975");
	CHECK(fabs(ntad_netem_dist_sample(NTAD_DIST_NORMAL, 0.001) + 3.090232) < 1e-5, "normal q0.001");
	CHECK(fabs(ntad_netem_dist_sample(NTAD_DIST_PARETO, 0.5) - (pow(2, 1. / 3) - 1.5) * 4 / 3) < 1e-12,
	      "pareto median");
	for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		double mean, sd, lag1, want = t[i].sd ? t[i].sd : quantile_sd(t[i].d);

		jitter_moments(t[i].d, 0, n, &mean, &sd, &lag1);
		printf("%-12s mean %+.4f sd %.4f (want 0, %.4f) lag-1 correlation %+.4f\n", t[i].name,
		       mean, sd, want, lag1);
		/* 1 us rounding of each sample is far below these bounds. */
		CHECK(fabs(mean) < 5 * want / sqrt(n), "%s: mean %.4f", t[i].name, mean);
		CHECK(fabs(sd - want) < t[i].tol * want, "%s: sd %.4f, want %.4f", t[i].name, sd, want);
		CHECK(fabs(lag1) < 0.01, "%s: samples correlated (%.4f) without --delay-corr", t[i].name, lag1);
	}
	{
		double mean, sd, lag1;

		jitter_moments(NTAD_DIST_NORMAL, 0.75, 100000, &mean, &sd, &lag1);
		printf("normal, 75%% correlation: lag-1 %.3f\n", lag1);
		CHECK(lag1 > 0.7 && lag1 < 0.8, "correlation 0.75 gave lag-1 %.3f", lag1);
	}
}

static double loss_run(const struct ntad_netem_opts *o, uint64_t seed, unsigned int n, uint64_t *pattern)
{
	struct ntad_netem ne = make(o, seed);
	uint64_t lost = 0;

	*pattern = 0;
	for (unsigned int i = 0; i < n; i++) {
		bool l = ntad_netem_lose(&ne);

		lost += l;
		if (i < 64 && l)
			*pattern |= 1ull << i;
	}
	CHECK(ne.st.lost == lost, "lost counter %llu vs %llu", (unsigned long long)ne.st.lost,
	      (unsigned long long)lost);
	return (double)lost / n;
}

static void test_random_loss(void)
{
	struct ntad_netem_opts o = { .loss_model = NTAD_LOSS_RANDOM, .loss = { 0.1 } };
	const unsigned int n = 100000;
	uint64_t a, b, c;
	double f = loss_run(&o, 7, n, &a), sigma = sqrt(0.1 * 0.9 / n);

	CHECK(fabs(f - 0.1) < 4 * sigma, "loss 0.1 gave %.4f", f);
	loss_run(&o, 7, n, &b);
	CHECK(a == b, "same seed, different pattern");
	loss_run(&o, 8, n, &c);
	CHECK(a != c, "different seeds, same pattern");
	/*
	 * netem's correlation averages the draws, which narrows them around 0.5:
	 * 10% with 50% correlation loses far less than 10% (the "bad behavior" for
	 * which tc-netem(8) deprecates it). ntad does what netem does.
	 */
	o.loss[1] = 0.5;
	f = loss_run(&o, 7, n, &a);
	CHECK(f > 0 && f < 0.02, "correlated loss 0.1 gave %.4f", f);
}

/* Stationary loss of the 4-state chain: pi3 = p13/p31 pi1, pi2 = p32/p23 pi3, pi4 = p14 pi1. */
static double state_loss(const double *p)
{
	double r3 = p[0] / p[1], r2 = p[2] / p[3] * r3, r4 = p[4];

	return (r3 + r4) / (1 + r2 + r3 + r4);
}

/* Gilbert-Elliott: pi_bad = p / (p + r); loss 1-k in good, 1-h in bad. */
static double ge_loss(const double *p)
{
	double bad = p[0] / (p[0] + p[1]);

	return (1 - bad) * p[3] + bad * p[2];
}

static void test_loss_models(void)
{
	static const double states[][5] = {
		{ 0.05, 0.95, 0, 1, 0 },          /* tc's defaults for "state 5%": Bernoulli */
		{ 0.02, 0.3, 0, 1, 0 },           /* 2-state: bursts */
		{ 0.02, 0.3, 0.1, 0.5, 0.01 },    /* all four states */
	};
	static const double ge[][4] = {
		{ 0.03, 0.97, 1, 0 },             /* tc's defaults for "gemodel 3%": Bernoulli */
		{ 0.01, 0.1, 1, 0 },              /* simple Gilbert */
		{ 0.01, 0.1, 0.8, 0.005 },        /* Gilbert-Elliott */
	};
	const unsigned int n = 2000000;
	uint64_t pat;

	for (unsigned int i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		struct ntad_netem_opts o = { .loss_model = NTAD_LOSS_STATE };
		double want = state_loss(states[i]), got;

		memcpy(o.loss, states[i], sizeof(states[i]));
		got = loss_run(&o, 3 + i, n, &pat);
		printf("state %g %g %g %g %g: loss %.5f, stationary %.5f\n", states[i][0], states[i][1],
		       states[i][2], states[i][3], states[i][4], got, want);
		/* Bursts correlate the draws: a bound wider than a binomial one. */
		CHECK(fabs(got - want) < 0.04 * want, "state model %u: %.5f vs %.5f", i, got, want);
	}
	for (unsigned int i = 0; i < sizeof(ge) / sizeof(ge[0]); i++) {
		struct ntad_netem_opts o = { .loss_model = NTAD_LOSS_GEMODEL };
		double want = ge_loss(ge[i]), got;

		memcpy(o.loss, ge[i], sizeof(ge[i]));
		got = loss_run(&o, 5 + i, n, &pat);
		printf("gemodel %g %g %g %g: loss %.5f, stationary %.5f\n", ge[i][0], ge[i][1], ge[i][2],
		       ge[i][3], got, want);
		CHECK(fabs(got - want) < 0.04 * want, "gemodel %u: %.5f vs %.5f", i, got, want);
	}
}

static void test_duplicate_corrupt(void)
{
	struct ntad_netem_opts o = { .duplicate = 0.05, .corrupt = 0.02 };
	struct ntad_netem ne = make(&o, 9);
	const unsigned int n = 200000;
	uint8_t buf[100], ref[100];
	uint64_t dups = 0, bad = 0;

	memset(ref, 0x5a, sizeof(ref));
	for (unsigned int i = 0; i < n; i++) {
		unsigned int bits = 0;

		dups += ntad_netem_duplicate(&ne);
		memcpy(buf, ref, sizeof(buf));
		if (ntad_netem_corrupt(&ne, buf, sizeof(buf))) {
			bad++;
			for (unsigned int j = 0; j < sizeof(buf); j++)
				bits += (unsigned int)__builtin_popcount(buf[j] ^ ref[j]);
			CHECK(bits == 1, "corrupt flipped %u bits", bits);
		} else {
			CHECK(!memcmp(buf, ref, sizeof(buf)), "packet changed without corruption");
		}
	}
	CHECK(ne.st.duplicated == dups && ne.st.corrupted == bad, "counters");
	CHECK(fabs((double)dups / n - 0.05) < 4 * sqrt(0.05 * 0.95 / n), "duplicate 5%%: %.4f", (double)dups / n);
	CHECK(fabs((double)bad / n - 0.02) < 4 * sqrt(0.02 * 0.98 / n), "corrupt 2%%: %.4f", (double)bad / n);
}

static void test_reorder(void)
{
	struct ntad_netem_opts o = { .delay_ns = 10 * MS, .reorder = 1, .gap = 5 };
	struct ntad_netem ne = make(&o, 1);
	unsigned int n = 0;

	/* 100% with gap 5: exactly every 5th packet (tc-netem(8)'s example). */
	for (unsigned int i = 1; i <= 100; i++)
		CHECK(ntad_netem_reorder(&ne) == !(i % 5), "packet %u", i);
	o.reorder = 0.25;
	o.gap = 1;
	ne = make(&o, 2);
	for (unsigned int i = 0; i < 100000; i++)
		n += ntad_netem_reorder(&ne);
	CHECK(fabs(n / 1e5 - 0.25) < 4 * sqrt(0.25 * 0.75 / 1e5), "reorder 25%%: %.4f", n / 1e5);
	o.reorder = 0;
	ne = make(&o, 2);
	for (unsigned int i = 0; i < 1000; i++)
		CHECK(!ntad_netem_reorder(&ne), "reorder 0 reordered");
}

static void test_rate(void)
{
	/* 100 Mbit/s, 1000-byte packets: 80 us each; with overhead -14 (no Ethernet header): 78.88 us. */
	struct ntad_netem_opts o = { .rate_bps = 100000000 };
	struct ntad_netem ne = make(&o, 1);

	for (uint64_t i = 0; i < 1000; i++)
		CHECK(ntad_netem_due(&ne, 0, 1000) == (i + 1) * 80000, "back-to-back packet %llu",
		      (unsigned long long)i);
	o.overhead = -14;
	o.delay_ns = 5 * MS;
	ne = make(&o, 1);
	/* Arrivals slower than the rate: each is due after its delay plus its own time on the wire. */
	for (uint64_t i = 0; i < 100; i++)
		CHECK(ntad_netem_due(&ne, i * MS, 1000) == i * MS + 5 * MS + 78880, "spaced packet %llu",
		      (unsigned long long)i);
	/* A burst queues behind the previous packet: 10 us later is due 78.88 us after it. */
	CHECK(ntad_netem_due(&ne, 99 * MS + 10000, 1000) == 99 * MS + 5 * MS + 2 * 78880, "queued");
}

/* Cells: len + overhead in whole cells, each cell_overhead more; the rate's spacing follows exactly. */
static void test_cells(void)
{
	/* ATM: 48-byte cells with a 5-byte header; a 50-byte packet takes 2 cells, 106 bytes. */
	struct ntad_netem_opts o = { .rate_bps = 1000000, .cell_size = 48, .cell_overhead = 5 };
	struct ntad_netem ne;

	CHECK(ntad_netem_wire_bytes(&o, 50) == 106, "50 bytes: %llu",
	      (unsigned long long)ntad_netem_wire_bytes(&o, 50));
	CHECK(ntad_netem_wire_bytes(&o, 48) == 53 && ntad_netem_wire_bytes(&o, 49) == 106 &&
	      ntad_netem_wire_bytes(&o, 96) == 106 && ntad_netem_wire_bytes(&o, 97) == 159, "cell edges");
	/* Every length against ceil((len + overhead) / cell) * (cell + cell overhead). */
	o.overhead = 8; /* e.g. AAL5's trailer */
	for (uint32_t len = 1; len <= 9000; len++) {
		uint64_t cells = (len + 8 + 47) / 48;

		CHECK(ntad_netem_wire_bytes(&o, len) == cells * 53, "len %u", len);
	}
	/* A negative packet overhead applies before the cells; a negative cell overhead shrinks each. */
	o.overhead = -14;
	o.cell_overhead = -8;
	CHECK(ntad_netem_wire_bytes(&o, 1000) == 21 * 40, "986 bytes in 21 cells of 40: %llu",
	      (unsigned long long)ntad_netem_wire_bytes(&o, 1000));
	CHECK(ntad_netem_wire_bytes(&o, 14) == 0 && ntad_netem_wire_bytes(&o, 10) == 0, "nothing left");
	/* No cells: len + overhead as before. */
	o = (struct ntad_netem_opts){ .rate_bps = 1000000, .overhead = 24 };
	CHECK(ntad_netem_wire_bytes(&o, 1000) == 1024, "no cells");

	/* 1 Mbit/s, 1000-byte packets with ATM cells: 21 cells = 1113 bytes = 8904 us each, exactly. */
	o = (struct ntad_netem_opts){ .rate_bps = 1000000, .cell_size = 48, .cell_overhead = 5 };
	ne = make(&o, 1);
	for (uint64_t i = 0; i < 1000; i++)
		CHECK(ntad_netem_due(&ne, 0, 1000) == (i + 1) * 8904000, "cells: packet %llu",
		      (unsigned long long)i);
	/* The measured rate of payload bytes: 1000 / 1113 of the set rate. */
	CHECK(fabs(1000.0 * 8 * 1000 / ((double)ne.last_due / 1e9) - 1e6 * 1000 / 1113) < 1e-3,
	      "payload rate");
}

/*
 * The FIFO's release as modes/delay.c does it, for packets due at due[0..n)
 * of len[0..n): each head leaves when its slot lets it (at[i]).
 */
static void slot_run(struct ntad_netem *ne, const uint64_t *due, const uint32_t *len, unsigned int n,
		     uint64_t *at)
{
	for (unsigned int i = 0; i < n; i++) {
		at[i] = ntad_netem_slot_release(ne, due[i]);
		CHECK(ntad_netem_slot_release(ne, due[i]) == at[i], "asked again, packet %u", i);
		CHECK(at[i] >= due[i] && ntad_netem_slot_ready(ne, due[i]) == at[i], "packet %u", i);
		ntad_netem_slot_take(ne, at[i], len[i]);
	}
}

/* Batches (packets leaving at one instant) of at[0..n): their sizes, bytes and opening times. */
struct batches {
	unsigned int nr, size[NSLOT], bytes[NSLOT];
	uint64_t t[NSLOT];
};

static void batches(const uint64_t *at, const uint32_t *len, unsigned int n, struct batches *b)
{
	b->nr = 0;
	for (unsigned int i = 0; i < n; i++) {
		if (!b->nr || at[i] != b->t[b->nr - 1]) {
			b->t[b->nr] = at[i];
			b->size[b->nr] = b->bytes[b->nr] = 0;
			b->nr++;
		}
		b->size[b->nr - 1]++;
		b->bytes[b->nr - 1] += len[i];
	}
}

static uint64_t due_[NSLOT], at_[NSLOT];
static uint32_t len_[NSLOT];
static struct batches b_;

static void test_slots(void)
{
	struct ntad_netem_opts o = { .slot_min_ns = 10 * MS, .slot_max_ns = 20 * MS, .slot_packets = 32 };
	struct ntad_netem ne = make(&o, 5);
	double s = 0, s2 = 0, mean, sd;
	unsigned int k, bad = 0;

	/* A backlog (all due at 1 s): batches of exactly 32, one every U(10 ms, 20 ms). */
	for (unsigned int i = 0; i < NSLOT; i++)
		due_[i] = 1000 * MS, len_[i] = 1000;
	slot_run(&ne, due_, len_, NSLOT, at_);
	batches(at_, len_, NSLOT, &b_);
	CHECK(b_.nr == NSLOT / 32, "%u batches", b_.nr);
	CHECK(b_.t[0] >= 1010 * MS && b_.t[0] < 1020 * MS, "the first slot opens a draw after the due time");
	for (k = 0; k < b_.nr; k++) {
		bad += b_.size[k] != 32;
		if (k) {
			double gap = (double)(b_.t[k] - b_.t[k - 1]) / MS;

			bad += gap < 10 || gap >= 20;
			s += gap;
			s2 += gap * gap;
		}
	}
	CHECK(!bad, "%u batches not 32 packets or gaps outside 10..20 ms", bad);
	mean = s / (b_.nr - 1);
	sd = sqrt(s2 / (b_.nr - 1) - mean * mean);
	/* Uniform on [10, 20): mean 15, sd 10/sqrt(12) = 2.887; the mean within 4 standard errors. */
	printf("slot 10ms 20ms packets 32: %u batches, gap mean %.3f ms sd %.3f (want 15, 2.887), %.0f packets/s (want %.0f)\n",
	       b_.nr, mean, sd, 32 / (mean / 1e3), 32 / 0.015);
	CHECK(fabs(mean - 15) < 4 * 2.887 / sqrt(b_.nr - 1), "gap mean %.3f ms", mean);
	CHECK(fabs(sd - 2.887) < 0.15, "gap sd %.3f ms", sd);
	/* Long-run release rate: 32 packets per 15 ms. */
	CHECK(fabs((double)(NSLOT - 32) / ((double)(at_[NSLOT - 1] - b_.t[0]) / 1e9) / (32 / 0.015) - 1) < 0.01,
	      "release rate");

	/* Bytes: lengths 64..1500; a slot closes with the packet that reaches 4500 bytes. */
	o = (struct ntad_netem_opts){ .slot_min_ns = 5 * MS, .slot_max_ns = 5 * MS, .slot_bytes = 4500 };
	ne = make(&o, 6);
	for (unsigned int i = 0; i < NSLOT; i++)
		due_[i] = 1000 * MS, len_[i] = 64 + (uint32_t)((i * 2654435761u) % 1437);
	slot_run(&ne, due_, len_, NSLOT, at_);
	batches(at_, len_, NSLOT, &b_);
	bad = 0;
	for (k = 0, s = 0; k + 1 < b_.nr; k++) {
		unsigned int first = 0;

		for (unsigned int j = 0; j < k; j++)
			first += b_.size[j];
		/* At least 4500 bytes, and under 4500 without its last packet. */
		bad += b_.bytes[k] < 4500 || b_.bytes[k] - len_[first + b_.size[k] - 1] >= 4500;
		bad += k && b_.t[k] - b_.t[k - 1] != 5 * MS;
	}
	CHECK(!bad, "%u slots not closed by the packet that reached 4500 bytes, or not 5 ms apart", bad);

	/* An idle line: each packet (1 s apart) waits a draw after its due time. */
	o = (struct ntad_netem_opts){ .slot_min_ns = 1 * MS, .slot_max_ns = 3 * MS, .slot_packets = 4 };
	ne = make(&o, 7);
	bad = 0;
	for (unsigned int i = 0; i < 1000; i++) {
		uint64_t due = (i + 1) * 1000 * MS, at = ntad_netem_slot_release(&ne, due);

		bad += at < due + MS || at >= due + 3 * MS;
		ntad_netem_slot_take(&ne, at, 100);
	}
	CHECK(!bad, "%u idle packets not 1..3 ms late", bad);

	/* slot distribution normal 10ms 2ms, a backlog: gaps of mean 10 ms, sd 2 ms. */
	o = (struct ntad_netem_opts){ .slot_by_dist = true, .slot_dist = NTAD_DIST_NORMAL,
				      .slot_delay_ns = 10 * MS, .slot_jitter_ns = 2 * MS, .slot_packets = 1 };
	ne = make(&o, 8);
	for (unsigned int i = 0; i < NSLOT; i++)
		due_[i] = 1000 * MS, len_[i] = 100;
	slot_run(&ne, due_, len_, NSLOT, at_);
	s = s2 = 0;
	for (unsigned int i = 1; i < NSLOT; i++) {
		double gap = (double)(at_[i] - at_[i - 1]) / MS;

		s += gap;
		s2 += gap * gap;
	}
	mean = s / (NSLOT - 1);
	sd = sqrt(s2 / (NSLOT - 1) - mean * mean);
	printf("slot distribution normal 10ms 2ms: gap mean %.3f ms sd %.3f (want 10, 2)\n", mean, sd);
	CHECK(fabs(mean - 10) < 4 * 2 / sqrt(NSLOT - 1) && fabs(sd - 2) < 0.05, "normal slots");

	/* With a rate: 1000-byte packets at 100 Mbit/s are due 80 us apart (12500/s); slots of
	 * 10 packets every 10 ms let 1000/s go: the slots govern. */
	o = (struct ntad_netem_opts){ .rate_bps = 100000000, .slot_min_ns = 10 * MS, .slot_max_ns = 10 * MS,
				      .slot_packets = 10 };
	ne = make(&o, 9);
	for (unsigned int i = 0; i < NSLOT; i++)
		due_[i] = ntad_netem_due(&ne, 1000 * MS, 1000), len_[i] = 1000;
	slot_run(&ne, due_, len_, NSLOT, at_);
	batches(at_, len_, NSLOT, &b_);
	CHECK(b_.nr == NSLOT / 10 && at_[NSLOT - 1] - b_.t[0] == (NSLOT / 10 - 1) * 10 * MS,
	      "slots govern: %u batches", b_.nr);
	/* At 1 Mbit/s (8 ms a packet), slots 5 ms after a packet is due find it alone: the rate governs. */
	o.rate_bps = 1000000;
	o.slot_min_ns = o.slot_max_ns = 5 * MS;
	ne = make(&o, 9);
	for (unsigned int i = 0; i < 1000; i++)
		due_[i] = ntad_netem_due(&ne, 1000 * MS, 1000), len_[i] = 1000;
	slot_run(&ne, due_, len_, 1000, at_);
	bad = 0;
	for (unsigned int i = 0; i < 1000; i++)
		bad += at_[i] != due_[i] + 5 * MS;
	CHECK(!bad && (double)(at_[999] - at_[0]) / 999 == 8 * MS, "rate governs: %u off", bad);

	/* No slots: due as it is. */
	o = (struct ntad_netem_opts){ .slot_packets = 5 };
	ne = make(&o, 1);
	CHECK(ntad_netem_slot_release(&ne, 12345) == 12345, "slot 0 is no slots");
}

int main(void)
{
	test_distributions();
	test_random_loss();
	test_loss_models();
	test_duplicate_corrupt();
	test_reorder();
	test_rate();
	test_cells();
	test_slots();
	return check_done("test_netem");
}
