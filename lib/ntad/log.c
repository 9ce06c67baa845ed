// SPDX-License-Identifier: MIT
/*
 * log.c - the print callback: the library says what went wrong through it and
 * never writes to a stream of its own, so an application decides what its
 * user sees (the daemon turns these lines off unless -v, and words its own).
 */
#include <stdio.h>

#include "internal.h"

__attribute__((format(printf, 2, 0)))
static int print_stderr(enum ntad_print_level level, const char *fmt, va_list ap)
{
	if (level != NTAD_WARN)
		return 0;
	fputs("libntad: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

static ntad_print_fn_t print_fn = print_stderr;

ntad_print_fn_t ntad_set_print(ntad_print_fn_t fn)
{
	ntad_print_fn_t old = print_fn;

	print_fn = fn;
	return old;
}

void ntad_log(enum ntad_print_level level, const char *fmt, ...)
{
	va_list ap;

	if (!print_fn)
		return;
	va_start(ap, fmt);
	print_fn(level, fmt, ap);
	va_end(ap);
}
