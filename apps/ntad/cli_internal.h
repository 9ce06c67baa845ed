/* SPDX-License-Identifier: MIT */
/*
 * cli_internal.h - what the files of ntad's command line share, and nothing
 * else sees: the state of one parse, the parsers of values several options
 * take (cli_value.c), and each file's option parsers and checks, which cli.c
 * puts in its table and calls in its validation.
 *
 * cli.h is the parser's face to main.c and the tests; this header is its
 * inside. Every cli*.c file includes it (and through it cli.h) and no file
 * includes another's, so they stand in a star around it, never in a circle.
 */
#ifndef NTAD_CLI_INTERNAL_H
#define NTAD_CLI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/*
 * Bits of ntad_cli.seen: which options one command line gave, for the checks
 * of combinations. (NTAD_GIVEN_* in ntad_opts are the few the run reads too.)
 */
#define NTAD_SEEN_DELAY_OPTS (1u << 0)   /* --delay, --seed and netem's other options */
#define NTAD_SEEN_DELAY_MS (1u << 1)     /* --delay itself */
#define NTAD_SEEN_CAPTURE_OPTS (1u << 2) /* --capture-bytes/--capture-age/--pcap/--trigger */
#define NTAD_SEEN_CAPTURE_FILES (1u << 3) /* -w/-s/-C/-W */
#define NTAD_SEEN_SIZE (1u << 4)         /* --size */
#define NTAD_SEEN_TX_OPTS (1u << 5)      /* txonly's others: --imix, --payload, a bare --rate, addresses */
#define NTAD_SEEN_RATE_PPS (1u << 6)     /* a bare --rate: txonly's packets per second */
#define NTAD_SEEN_FILTER_ALL (1u << 7)   /* --filter all: mixed with rules is a conflict */
#define NTAD_SEEN_QUEUE (1u << 8)        /* --queue */
#define NTAD_SEEN_QUEUES_LIST (1u << 9)  /* the last --queues was a list */
#define NTAD_SEEN_DIR_BA (1u << 10)      /* --dir ba */

/*
 * What one ntad_parse_args has seen beyond struct ntad_opts (defined in
 * cli.c): zeroed (but for netem_dirs) when it starts, so that a process can
 * parse many command lines. The option parsers write it, the checks read it.
 */
struct ntad_cli_state {
	int argc;                  /* the command line, for options that take several words */
	char **argv;
	unsigned int seen;         /* NTAD_SEEN_* */
	uint32_t queues_count;     /* --queues N; resolved against --queue by ntad_cli_queues_resolve() */
	unsigned int netem_dirs;   /* --dir: the directions netem's options apply to
	                            * (bit 0: -i to -o, bit 1: -o to -i) */
};
extern struct ntad_cli_state ntad_cli;

/* An option's parser: arg is its value (NULL for a flag); -EINVAL with a message in err. */
typedef int ntad_opt_fn(struct ntad_opts *o, const char *arg, char *err, size_t errlen);

/* ---- cli_value.c: values ---- */

/* Write the one-line message into err (when given) and return -EINVAL. */
int ntad_cli_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A whole number starting with a digit (no blank, no sign; 0x and 0 prefixes as C). */
int ntad_parse_u64(const char *s, uint64_t *v);
/* ntad_parse_u64 within lo..hi. */
int ntad_parse_u32(const char *s, uint32_t *v, uint32_t lo, uint32_t hi);
/* Seconds, fractions allowed, 0..1e7. */
int ntad_parse_seconds(const char *s, double *v);

/* A unit and what it multiplies the number by; "" is a bare number's. */
struct ntad_unit {
	const char *name;
	double scale;
};

/*
 * A decimal number (no sign, no blank) followed by one of units[0..n) in any
 * case, times its scale, rounded: refused outside [min, max] once scaled.
 */
int ntad_parse_scaled(const char *s, const struct ntad_unit *units, size_t n, double min, double max,
		      uint64_t *v);

/* ---- cli_engine.c: interfaces, queues, UMEM, rings, binding (libntad's configuration) ---- */

ntad_opt_fn ntad_opt_interface, ntad_opt_out_interface, ntad_opt_queue, ntad_opt_queues, ntad_opt_cpus,
	ntad_opt_rt_priority,
	ntad_opt_pool, ntad_opt_rx_size, ntad_opt_tx_size, ntad_opt_fill_size, ntad_opt_comp_size,
	ntad_opt_batch, ntad_opt_chunk_size, ntad_opt_umem_size, ntad_opt_hugepages, ntad_opt_bind,
	ntad_opt_no_need_wakeup, ntad_opt_busy_poll, ntad_opt_xdp_mode, ntad_opt_copy_break,
	ntad_opt_frags, ntad_opt_no_frags;
/* --queue and --queues into o->queues[0..nr_queues), and --cpus checked against them. */
int ntad_cli_queues_resolve(struct ntad_opts *o, char *e, size_t l);

/* ---- cli_filter.c: the frames the XDP program hands to ntad (ntad_parse_rule in cli.h) ---- */

ntad_opt_fn ntad_opt_filter;

/* ---- cli_txonly.c: the frames txonly sends ---- */

ntad_opt_fn ntad_opt_size, ntad_opt_imix, ntad_opt_payload, ntad_opt_src_mac, ntad_opt_dst_mac,
	ntad_opt_src_ip, ntad_opt_dst_ip, ntad_opt_sport, ntad_opt_dport;
/* --rate without a unit: packets per second. */
ntad_opt_fn ntad_opt_tx_rate;

/* ---- cli_netem.c: the delay line's impairments, per --dir direction ---- */

ntad_opt_fn ntad_opt_delay, ntad_opt_jitter, ntad_opt_dist, ntad_opt_delay_corr, ntad_opt_loss,
	ntad_opt_duplicate, ntad_opt_corrupt, ntad_opt_reorder, ntad_opt_slot, ntad_opt_dir, ntad_opt_seed;
/* --rate with a unit: a bandwidth (cli.c's --rate decides which rate it is). */
ntad_opt_fn ntad_opt_netem_rate;
/* tc-netem's checks of each direction's settings (--mode delay). */
int ntad_cli_netem_validate(const struct ntad_opts *o, char *e, size_t l);

/* ---- cli_capture.c: capture's buffer, files and expressions ---- */

#define NTAD_DEF_SNAPLEN 262144u /* tcpdump's default and largest */

ntad_opt_fn ntad_opt_capture_bytes, ntad_opt_capture_age, ntad_opt_pcap, ntad_opt_trigger,
	ntad_opt_write, ntad_opt_snaplen, ntad_opt_file_size, ntad_opt_file_count;
/* argv[0..argc), the arguments after the options, joined into o->expr as tcpdump does. */
int ntad_cli_capture_expr(struct ntad_opts *o, int argc, char **argv, char *e, size_t l);
/*
 * The capture options' combinations, and the expression compiled and checked
 * against what the XDP program runs.
 */
int ntad_cli_capture_validate(struct ntad_opts *o, char *e, size_t l);

#endif /* NTAD_CLI_INTERNAL_H */
