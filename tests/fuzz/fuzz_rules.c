// SPDX-License-Identifier: MIT
/*
 * fuzz_rules.c - libFuzzer target for the value parsers of ntad's options:
 * the --filter rule parser, sizes with k/M/G suffixes, and the plain numbers
 * of --count (through ntad_parse_args, since the number parser is private).
 *
 * The input is one NUL-terminated string. Properties:
 *   - ntad_parse_rule: "all" sets *all and nothing else; any other accepted
 *     string gives a rule with at least one field set (a rule of zeros would
 *     silently match every frame) whose fields are in range (ethertype >=
 *     0x600, dport only with udp/tcp/any), and printing the rule back as
 *     "ethertype=0x..,proto=..,dport=.." parses to the same rule. A refusal
 *     carries a one-line message.
 *   - ntad_parse_size: an accepted string starts with a digit (no sign, no
 *     blank) and the value printed in decimal parses back to itself.
 *   - --count S: accepted only when S starts with a digit, and then to the
 *     value strtoull gives in base 10, or 16 after "0x" (so " -1" is not a
 *     count of 2^64 - 1, nor "010" eight).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ERRLEN 512

static void check_rule(const char *s)
{
	struct ntad_rule r, back;
	char err[ERRLEN] = "", text[96];
	bool all = true, all2 = true;
	size_t n = 0;

	if (ntad_parse_rule(s, &r, &all, err, sizeof(err))) {
		if (!err[0] || (strchr(err, '\n') && !strchr(s, '\n')))
			abort();
		return;
	}
	if (all) {
		if (strcmp(s, "all") || r.ethertype || r.ip_proto || r.dport)
			abort();
		return;
	}
	if (!r.ethertype && !r.ip_proto && !r.dport)
		abort();
	if (r.ethertype && r.ethertype < 0x600)
		abort();
	if (r.dport && r.ip_proto && r.ip_proto != 6 && r.ip_proto != 17)
		abort();
	if (r.pad || r.pad2)
		abort();
	text[0] = '\0';
	if (r.ethertype)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "ethertype=0x%x,", r.ethertype);
	if (r.ip_proto)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "proto=%u,", r.ip_proto);
	if (r.dport)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "dport=%u,", r.dport);
	text[n - 1] = '\0'; /* the last comma */
	if (ntad_parse_rule(text, &back, &all2, err, sizeof(err)) || all2 || memcmp(&r, &back, sizeof(r)))
		abort();
}

static void check_size(const char *s)
{
	uint64_t v, w;
	char text[32];

	if (ntad_parse_size(s, &v))
		return;
	if (!isdigit((unsigned char)s[0]))
		abort();
	snprintf(text, sizeof(text), "%" PRIu64, v);
	if (ntad_parse_size(text, &w) || w != v)
		abort();
}

static void check_count(char *s)
{
	static struct ntad_opts o;
	char a0[] = "ntad", a1[] = "-i", a2[] = "lo", a3[] = "-n";
	char *argv[] = { a0, a1, a2, a3, s, NULL };
	char err[ERRLEN];

	if (ntad_parse_args(5, argv, &o, err, sizeof(err)))
		return;
	if (!isdigit((unsigned char)s[0]) || o.count == 0 ||
	    o.count != strtoull(s, NULL, s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size > 1024)
		return 0;
	s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	check_rule(s);
	check_size(s);
	check_count(s);
	free(s);
	return 0;
}
