// SPDX-License-Identifier: MIT
/*
 * cli_netem.c - the delay line's options in tc-netem's syntax and units:
 * --delay, --jitter, --dist, --delay-corr, --loss, --duplicate, --corrupt,
 * --reorder, --rate with a unit, --slot, --dir and --seed, into ntad_opts.netem[]
 * (netem.h), and tc-netem's own checks of them.
 *
 * Why a file of their own: they are a small language (an option takes the
 * words that follow it, "--loss state 1% 30%"), with values no other mode
 * takes (tc's time and rate units, probabilities), and a scope, the
 * directions --dir names. Whether the mode takes them at all is cli.c's check.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"

/*
 * tc-netem's syntax is words after a keyword ("loss state 1% 30%"): an option
 * takes its value and then, like tc, the numbers that follow it and its own
 * keywords ("gap" for --reorder, "packets" for --slot), up to what the option
 * has. A number may be negative only where a value can be (--rate's
 * overheads): no short option is a digit.
 */
#define NETEM_WORDS 8

static const char *const no_keys[] = { NULL };
static const char *const reorder_keys[] = { "gap", NULL };
static const char *const slot_keys[] = { "packets", "bytes", "uniform", "normal", "pareto", "paretonormal", NULL };

static bool is_value_word(const char *w, const char *const *keys)
{
	for (; *keys; keys++)
		if (!strcmp(w, *keys))
			return true;
	if (*w == '-')
		w++;
	return isdigit((unsigned char)*w) || (*w == '.' && isdigit((unsigned char)w[1]));
}

typedef int netem_parse_fn(struct ntad_netem_opts *n, const char *const *w, int nw, char *e, size_t l);

/* Gather the option's words (a and up to `more` value words), then set each direction in scope. */
static int netem_opt(struct ntad_opts *o, const char *a, int more, const char *const *keys, netem_parse_fn *fn,
		     char *e, size_t l)
{
	const char *w[NETEM_WORDS] = { a };
	int nw = 1;

	while (nw <= more && nw < NETEM_WORDS && optind < ntad_cli.argc &&
	       is_value_word(ntad_cli.argv[optind], keys))
		w[nw++] = ntad_cli.argv[optind++];
	for (unsigned int d = 0; d < 2; d++) {
		int ret;

		if ((ntad_cli.netem_dirs & (1u << d)) && (ret = fn(&o->netem[d], w, nw, e, l)))
			return ret;
	}
	ntad_cli.seen |= NTAD_SEEN_DELAY_OPTS;
	return 0;
}

/* A time in tc's units (s, ms, us, ns and their long forms), up to an hour; a bare number is milliseconds. */
static int parse_time(const char *s, uint64_t *ns)
{
	static const struct ntad_unit units[] = {
		{ "", 1e6 }, { "ms", 1e6 }, { "msec", 1e6 }, { "msecs", 1e6 }, { "s", 1e9 }, { "sec", 1e9 },
		{ "secs", 1e9 }, { "us", 1e3 }, { "usec", 1e3 }, { "usecs", 1e3 }, { "ns", 1 },
		{ "nsec", 1 }, { "nsecs", 1 },
	};

	return ntad_parse_scaled(s, units, sizeof(units) / sizeof(units[0]), 0, 3600e9, ns);
}

/* A probability: 0..1, or a percentage such as 0.5%. */
static int parse_prob(const char *a, double *p)
{
	size_t n = strlen(a);
	char *end;
	double x;

	errno = 0;
	x = isdigit((unsigned char)*a) || *a == '.' ? strtod(a, &end) : -1;
	if (x >= 0 && n && a[n - 1] == '%' && end == a + n - 1)
		x /= 100, end++;
	if (x < 0 || errno || *end || !isfinite(x) || x > 1)
		return -EINVAL;
	*p = x;
	return 0;
}

/* A bandwidth in tc's units: bit, kbit.. tbit (x1000), kibit.. tibit (x1024), bps.. (bytes). */
static int parse_bitrate(const char *s, uint64_t *bps)
{
	static const struct ntad_unit units[] = {
		{ "bit", 1 }, { "kbit", 1e3 }, { "mbit", 1e6 }, { "gbit", 1e9 }, { "tbit", 1e12 },
		{ "kibit", 1024. }, { "mibit", 1048576. }, { "gibit", 1073741824. }, { "tibit", 1099511627776. },
		{ "bps", 8 }, { "kbps", 8e3 }, { "mbps", 8e6 }, { "gbps", 8e9 }, { "tbps", 8e12 },
		{ "kibps", 8 * 1024. }, { "mibps", 8 * 1048576. }, { "gibps", 8 * 1073741824. },
		{ "tibps", 8 * 1099511627776. },
	};

	return ntad_parse_scaled(s, units, sizeof(units) / sizeof(units[0]), 1, 1e13, bps);
}

/* w[first..nw): probabilities into p[0..), at most max of them. */
static int probs(const char *const *w, int first, int nw, double *p, int max)
{
	if (nw - first > max)
		return -E2BIG;
	for (int i = first; i < nw; i++)
		if (parse_prob(w[i], &p[i - first]))
			return -EINVAL;
	return 0;
}

/* TIME of --delay and --jitter. */
static int time_word(const char *name, uint64_t *ns, const char *w, char *e, size_t l)
{
	if (parse_time(w, ns))
		return ntad_cli_fail(e, l, "--%s '%s': not a time; use e.g. 20ms, 1.5s, 500us (a bare number is milliseconds), up to 3600s",
				     name, w);
	return 0;
}

static int n_delay(struct ntad_netem_opts *n, const char *const *w, int nw, char *e, size_t l)
{
	(void)nw;
	return time_word("delay", &n->delay_ns, w[0], e, l);
}

int ntad_opt_delay(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	ntad_cli.seen |= NTAD_SEEN_DELAY_MS;
	return netem_opt(o, a, 0, no_keys, n_delay, e, l);
}

static int n_jitter(struct ntad_netem_opts *n, const char *const *w, int nw, char *e, size_t l)
{
	(void)nw;
	return time_word("jitter", &n->jitter_ns, w[0], e, l);
}

int ntad_opt_jitter(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return netem_opt(o, a, 0, no_keys, n_jitter, e, l);
}

static int dist_name(const char *w, enum ntad_netem_dist *dist)
{
	static const char *names[] = { "uniform", "normal", "pareto", "paretonormal" };

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(w, names[i])) {
			*dist = (enum ntad_netem_dist)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int n_dist(struct ntad_netem_opts *n, const char *const *w, int nw, char *e, size_t l)
{
	(void)nw;
	if (dist_name(w[0], &n->dist))
		return ntad_cli_fail(e, l, "--dist '%s': unknown distribution; use uniform, normal, pareto or paretonormal", w[0]);
	return 0;
}

int ntad_opt_dist(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return netem_opt(o, a, 0, no_keys, n_dist, e, l);
}

static int n_delay_corr(struct ntad_netem_opts *n, const char *const *w, int nw, char *e, size_t l)
{
	(void)nw;
	if (parse_prob(w[0], &n->delay_corr))
		return ntad_cli_fail(e, l, "--delay-corr '%s': not a correlation; use 0..100%% (or 0..1)", w[0]);
	return 0;
}

int ntad_opt_delay_corr(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return netem_opt(o, a, 0, no_keys, n_delay_corr, e, l);
}

/* --loss [random] P [CORR] | state P13 [P31 [P32 [P23 [P14]]]] | gemodel P [R [1-H [1-K]]], tc's defaults. */
static int n_loss(struct ntad_netem_opts *n, const char *const *w, int nw, char *e, size_t l)
{
	double p[5] = { 0 };

	if (!strcmp(w[0], "state")) {
		if (nw < 2 || probs(w, 1, nw, p, 5))
			return ntad_cli_fail(e, l, "--loss state: needs one to five transition probabilities; give P13 [P31 [P32 [P23 [P14]]]] as 0..1 or N%%");
		n->loss_model = NTAD_LOSS_STATE;
		n->loss[0] = p[0];
		n->loss[1] = nw > 2 ? p[1] : 1 - p[0];
		n->loss[2] = p[2];
		n->loss[3] = nw > 4 ? p[3] : 1;
		n->loss[4] = p[4];
		if (n->loss[0] + n->loss[4] > 1 || n->loss[1] + n->loss[2] > 1)
			return ntad_cli_fail(e, l, "--loss state: P13 + P14 and P31 + P32 are each at most 100%%; lower them");
		return 0;
	}
	if (!strcmp(w[0], "gemodel")) {
		if (nw < 2 || probs(w, 1, nw, p, 4))
			return ntad_cli_fail(e, l, "--loss gemodel: needs one to four probabilities; give P [R [1-H [1-K]]] as 0..1 or N%%");
		n->loss_model = NTAD_LOSS_GEMODEL;
		n->loss[0] = p[0];
		n->loss[1] = nw > 2 ? p[1] : 1 - p[0];
		n->loss[2] = nw > 3 ? p[2] : 1;
		n->loss[3] = p[3];
		n->loss[4] = 0;
		return 0;
	}
	if (!strcmp(w[0], "random"))
		w++, nw--;
	if (nw < 1 || probs(w, 0, nw, p, 2))
		return ntad_cli_fail(e, l, "--loss '%s': not a probability; use [random] P [CORRELATION] (0..1 or N%% such as 0.5%%), state P13 ... or gemodel P ...",
				     nw ? w[0] : "random");
	n->loss_model = p[0] > 0 ? NTAD_LOSS_RANDOM : NTAD_LOSS_NONE;
	memcpy(n->loss, p, sizeof(p));
	return 0;
}

int ntad_opt_loss(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return netem_opt(o, a, 5, no_keys, n_loss, e, l);
}

/* P [CORRELATION] of --duplicate and --corrupt. */
static int prob_corr(const char *name, double *p, double *corr, const char *const *w, int nw,
		     char *e, size_t l)
{
	double v[2] = { 0 };

	if (probs(w, 0, nw, v, 2))
		return ntad_cli_fail(e, l, "--%s '%s': not a probability; give P [CORRELATION] as 0..1 or N%%", name, w[0]);
	*p = v[0];
	*corr = v[1];
	return 0;
}

static int n_duplicate(struct ntad_netem_opts *n, const char *const *w, int nw, char *e, size_t l)
{
	return prob_corr("duplicate", &n->duplicate, &n->duplicate_corr, w, nw, e, l);
}

int ntad_opt_duplicate(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return netem_opt(o, a, 1, no_keys, n_duplicate, e, l);
}

static int n_corrupt(struct ntad_netem_opts *n, const char *const *w, int nw, char *e, size_t l)
{
	return prob_corr("corrupt", &n->corrupt, &n->corrupt_corr, w, nw, e, l);
}

int ntad_opt_corrupt(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return netem_opt(o, a, 1, no_keys, n_corrupt, e, l);
}

/* --reorder P [CORR] [gap N]: tc makes the gap 1 when none is given. */
static int n_reorder(struct ntad_netem_opts *n, const char *const *w, int nw, char *e, size_t l)
{
	double p[2] = { 0 };
	int np = nw;

	if (nw >= 2 && !strcmp(w[nw - 2], "gap")) {
		np = nw - 2;
		if (ntad_parse_u32(w[nw - 1], &n->gap, 1, UINT32_MAX))
			return ntad_cli_fail(e, l, "--reorder: gap '%s' is not a packet count; use 1 or more", w[nw - 1]);
	} else {
		n->gap = 1;
	}
	if (!np || probs(w, 0, np, p, 2))
		return ntad_cli_fail(e, l, "--reorder '%s': not a probability; give P [CORRELATION] [gap N] with P as 0..1 or N%%", w[0]);
	n->reorder = p[0];
	n->reorder_corr = p[1];
	return 0;
}

int ntad_opt_reorder(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return netem_opt(o, a, 4, reorder_keys, n_reorder, e, l);
}

/* A signed byte count of --rate's overheads, -65535..65535. */
static int overhead_word(const char *w, int32_t *v)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(w, &end, 10);
	if (errno || end == w || *end || x < -65535 || x > 65535)
		return -EINVAL;
	*v = (int32_t)x;
	return 0;
}

/* --rate RATE [PACKETOVERHEAD [CELLSIZE [CELLOVERHEAD]]], as tc-netem. */
static int n_rate(struct ntad_netem_opts *n, const char *const *w, int nw, char *e, size_t l)
{
	n->overhead = n->cell_overhead = 0;
	n->cell_size = 0;
	if (parse_bitrate(w[0], &n->rate_bps))
		return ntad_cli_fail(e, l, "--rate '%s': not a bandwidth; use tc's units such as 100mbit, 1gbit, 500kbit or 10mbps (bytes), 1bit..10tbit", w[0]);
	if (nw > 1 && overhead_word(w[1], &n->overhead))
		return ntad_cli_fail(e, l, "--rate %s: packet overhead '%s' is not a byte count; use -65535..65535", w[0], w[1]);
	if (nw > 2 && ntad_parse_u32(w[2], &n->cell_size, 0, 65535))
		return ntad_cli_fail(e, l, "--rate %s %s: cell size '%s' is not a byte count; use 1..65535 (ATM: 48), or 0 for no cells",
				     w[0], w[1], w[2]);
	if (nw > 3 && overhead_word(w[3], &n->cell_overhead))
		return ntad_cli_fail(e, l, "--rate %s %s %s: cell overhead '%s' is not a byte count; use -65535..65535 (ATM: 5)",
				     w[0], w[1], w[2], w[3]);
	if (n->cell_overhead && !n->cell_size)
		return ntad_cli_fail(e, l, "--rate %s %s %s %s: a cell overhead needs cells; give a cell size (ATM: 48 5) or drop the overhead",
				     w[0], w[1], w[2], w[3]);
	if (n->cell_size && (int64_t)n->cell_size + n->cell_overhead < 1)
		return ntad_cli_fail(e, l, "--rate: cell overhead %d leaves a %u-byte cell nothing on the wire; use more than -%u",
				     n->cell_overhead, n->cell_size, n->cell_size);
	return 0;
}

int ntad_opt_netem_rate(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return netem_opt(o, a, 3, no_keys, n_rate, e, l);
}

/* --slot's byte budget, as tc's sizes: N, Nb, Nk or Nkb (x1024), Nm, Nmb, Ng, Ngb; up to 2^31 - 1. */
static int parse_slot_bytes(const char *w, uint32_t *v)
{
	char buf[32];
	size_t n = strlen(w);
	uint64_t x;

	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, w, n + 1);
	if (n > 1 && (buf[n - 1] == 'b' || buf[n - 1] == 'B'))
		buf[n - 1] = 0;
	if (ntad_parse_size(buf, &x) || x > INT32_MAX)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

/*
 * --slot MIN_DELAY [MAX_DELAY] [packets N] [bytes N], or
 * --slot distribution DIST DELAY JITTER [packets N] [bytes N], as tc-netem.
 */
static int n_slot(struct ntad_netem_opts *n, const char *const *w, int nw, char *e, size_t l)
{
	int i;

	n->slot_min_ns = n->slot_max_ns = n->slot_delay_ns = n->slot_jitter_ns = 0;
	n->slot_packets = n->slot_bytes = 0;
	n->slot_by_dist = false;
	if (!strcmp(w[0], "distribution")) {
		if (nw < 4 || dist_name(w[1], &n->slot_dist) || parse_time(w[2], &n->slot_delay_ns) ||
		    parse_time(w[3], &n->slot_jitter_ns) || !n->slot_jitter_ns)
			return ntad_cli_fail(e, l, "--slot distribution: give DIST DELAY JITTER, such as normal 10ms 2ms (DIST uniform, normal, pareto or paretonormal; JITTER above 0)");
		n->slot_by_dist = true;
		i = 4;
	} else {
		if (parse_time(w[0], &n->slot_min_ns))
			return ntad_cli_fail(e, l, "--slot '%s': not a time; give MIN_DELAY [MAX_DELAY] such as 1ms 2ms (up to 3600s), or distribution DIST DELAY JITTER",
					     w[0]);
		n->slot_max_ns = n->slot_min_ns;
		i = 1;
		if (i < nw && strcmp(w[i], "packets") && strcmp(w[i], "bytes")) {
			if (parse_time(w[i], &n->slot_max_ns))
				return ntad_cli_fail(e, l, "--slot %s '%s': not a time; give MIN_DELAY [MAX_DELAY] such as 1ms 2ms (up to 3600s)",
						     w[0], w[i]);
			if (n->slot_max_ns < n->slot_min_ns)
				return ntad_cli_fail(e, l, "--slot %s %s: the maximum delay is below the minimum; give MIN_DELAY first",
						     w[0], w[i]);
			i++;
		}
	}
	for (; i < nw; i += 2) {
		bool packets = !strcmp(w[i], "packets");

		if (!packets && strcmp(w[i], "bytes"))
			return ntad_cli_fail(e, l, "--slot: '%s' is not what follows the delays; give packets N and/or bytes N (such as 64k)",
					     w[i]);
		if (i + 1 >= nw || (packets ? ntad_parse_u32(w[i + 1], &n->slot_packets, 0, INT32_MAX)
					    : parse_slot_bytes(w[i + 1], &n->slot_bytes)))
			return ntad_cli_fail(e, l, "--slot ... %s: needs a number after it; give 0..2^31-1 (0: no limit)%s",
					     w[i], packets ? "" : ", with k, m or g for x1024, such as 64k");
	}
	return 0;
}

int ntad_opt_slot(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return netem_opt(o, a, NETEM_WORDS - 1, slot_keys, n_slot, e, l);
}

int ntad_opt_dir(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	(void)o;
	if (!strcmp(a, "both"))
		ntad_cli.netem_dirs = 3;
	else if (!strcmp(a, "ab"))
		ntad_cli.netem_dirs = 1;
	else if (!strcmp(a, "ba"))
		ntad_cli.netem_dirs = 2, ntad_cli.seen |= NTAD_SEEN_DIR_BA;
	else
		return ntad_cli_fail(e, l, "--dir '%s': not a direction; use ab (from -i to -o), ba (from -o to -i) or both", a);
	ntad_cli.seen |= NTAD_SEEN_DELAY_OPTS;
	return 0;
}

int ntad_opt_seed(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (ntad_parse_u64(a, &o->seed))
		return ntad_cli_fail(e, l, "--seed '%s': not a number; use 0..2^64-1", a);
	ntad_cli.seen |= NTAD_SEEN_DELAY_OPTS;
	return 0;
}

/* tc-netem's own checks, per direction. */
int ntad_cli_netem_validate(const struct ntad_opts *o, char *e, size_t l)
{
	if ((ntad_cli.seen & NTAD_SEEN_DIR_BA) && !o->out_ifname[0])
		return ntad_cli_fail(e, l, "--dir ba: there is one direction without -o; drop --dir or add -o IFACE");
	for (unsigned int d = 0; d < 2; d++) {
		const struct ntad_netem_opts *n = &o->netem[d];

		if (!n->jitter_ns && (n->dist != NTAD_DIST_UNIFORM || n->delay_corr > 0))
			return ntad_cli_fail(e, l, "--dist/--delay-corr: shape the jitter, which is 0; add --jitter TIME");
		if (n->reorder > 0 && !n->delay_ns)
			return ntad_cli_fail(e, l, "--reorder: sends packets ahead of delayed ones, but the delay is 0; add --delay TIME");
	}
	return 0;
}
