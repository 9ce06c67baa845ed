/* SPDX-License-Identifier: MIT */
/*
 * check.h - the one assertion of the unit tests.
 *
 *   CHECK(cond);                  CHECK(cond, "fmt", ...);
 *
 * A false cond counts a failure and prints where, the condition and the
 * optional message to stderr; the test goes on. main ends with
 * `return check_done("test_name");`, which prints how many checks failed (or
 * that all passed) and gives the exit status: 0, or 1 after any failure.
 */
#ifndef NTAD_TEST_CHECK_H
#define NTAD_TEST_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int failures;

static void check_failed(const char *file, int line, const char *cond, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), unused));
static void check_failed(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	failures++;
	fprintf(stderr, "FAIL %s:%d: %s", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The message's format follows ": " as one literal, so a bare CHECK(cond) has a
 * format of its own and no empty one. */
#define CHECK(cond, ...)                                                         \
	do {                                                                     \
		if (!(cond))                                                     \
			check_failed(__FILE__, __LINE__, #cond, ": " __VA_ARGS__); \
	} while (0)

static int check_done(const char *name) __attribute__((unused));
static int check_done(const char *name)
{
	if (failures) {
		printf("%s: %d check(s) failed\n", name, failures);
		return 1;
	}
	printf("%s: all checks passed\n", name);
	return 0;
}

#endif /* NTAD_TEST_CHECK_H */
