// SPDX-License-Identifier: MIT
/*
 * cli_value.c - the values ntad's options take, one parser each: whole
 * numbers, seconds, sizes with k/M/G, and a number with a unit from a table
 * (tc's times and bandwidths, --capture-age's milliseconds), plus the one way
 * an option refuses its value (ntad_cli_fail).
 *
 * Why apart: the options of every mode take these values, and a value must
 * read the same wherever it is typed; one copy of each parser keeps it so.
 * Each refuses what strto* would quietly take: strtoull skips blanks and
 * takes a sign, so " -1" would be 2^64 - 1 (docs/RELIABILITY.md), and reads
 * "010" as octal 8; strtod takes hex ("0x10" seconds). Whole numbers are
 * decimal or 0x hex (an ethertype); the others decimal only.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "cli_internal.h"

int ntad_cli_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool is_hex(const char *s)
{
	return s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

/* A decimal number starts with a digit or a point: no blank, sign or hex. */
static bool decimal_start(const char *s)
{
	return s && (isdigit((unsigned char)*s) || *s == '.') && !is_hex(s);
}

int ntad_parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, is_hex(s) ? 16 : 10);
	if (errno || *end)
		return -EINVAL;
	*v = x;
	return 0;
}

int ntad_parse_u32(const char *s, uint32_t *v, uint32_t lo, uint32_t hi)
{
	uint64_t x;

	if (ntad_parse_u64(s, &x) || x < lo || x > hi)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

/* A finite decimal number at the start of s into *x, *end after it. */
static int parse_decimal(const char *s, double *x, char **end)
{
	if (!decimal_start(s))
		return -EINVAL;
	errno = 0;
	*x = strtod(s, end);
	return errno || !isfinite(*x) ? -EINVAL : 0;
}

int ntad_parse_seconds(const char *s, double *v)
{
	char *end;
	double x;

	if (parse_decimal(s, &x, &end) || *end || x < 0 || x > 1e7)
		return -EINVAL;
	*v = x;
	return 0;
}

int ntad_parse_size(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;
	unsigned int shift = 0;

	/* strtoull would skip blanks and take a sign: " -1" is not 2^64 - 1. */
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: return -EINVAL;
	}
	if (*end || x > (UINT64_MAX >> shift))
		return -EINVAL;
	*v = (uint64_t)x << shift;
	return 0;
}

int ntad_parse_scaled(const char *s, const struct ntad_unit *units, size_t n, double min, double max,
		      uint64_t *v)
{
	char *end;
	double x;

	if (parse_decimal(s, &x, &end))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!strcasecmp(end, units[i].name)) {
			x *= units[i].scale;
			if (x < min || x > max)
				return -EINVAL;
			*v = (uint64_t)(x + 0.5);
			return 0;
		}
	}
	return -EINVAL;
}
