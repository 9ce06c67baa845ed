/* SPDX-License-Identifier: MIT */
/*
 * cli_internal.h - what the files of ntad's command line share, and nothing
 * else sees: the parsers of values several options take (cli_value.c).
 *
 * cli.h is the parser's face to main.c and the tests; this header is its
 * inside. Each cli_*.c file includes it and no other cli_*.c file's header,
 * so the files form a star around it, never a circle.
 */
#ifndef NTAD_CLI_INTERNAL_H
#define NTAD_CLI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

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

#endif /* NTAD_CLI_INTERNAL_H */
