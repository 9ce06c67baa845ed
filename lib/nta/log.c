// SPDX-License-Identifier: MIT
/*
 * log.c - where nta's diagnostics go.
 *
 * The library never writes to a stream by itself: nta_check's reports go through
 * one settable callback, like libbpf_set_print(). The default callback prints to
 * stderr with a prefix so that a test failing on a fresh setup still says why.
 */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

static void nta_default_print(const char *msg)
{
	fprintf(stderr, "nta: %s\n", msg);
}

static nta_print_fn nta_print = nta_default_print;

nta_print_fn nta_set_print(nta_print_fn fn)
{
	nta_print_fn old = nta_print;

	nta_print = fn;
	return old;
}

void nta_report(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (!nta_print)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	nta_print(buf);
}
