// SPDX-License-Identifier: MIT
/*
 * fuzz_cli.c - libFuzzer target for ntad's command line (apps/ntad/cli*.c).
 *
 * The input is split at NUL bytes into up to MAX_ARGS arguments after "ntad"
 * and handed to ntad_parse_args(). Whatever the bytes, the parser must return
 * (never exit, never print: a stray write would show in the fuzzer's output and
 * an exit would end the run as a crash), leak nothing (ASan's leak check), and
 * give one of its three documented answers:
 *   0        a run: the options satisfy every rule validate() promises, checked
 *            here independently (ring sizes, batch, chunk, UMEM large enough
 *            for the rings, rules, copy-break, fwd's second interface, ...);
 *   1        --help or --version was given;
 *   -EINVAL  with a non-empty one-line message.
 * Parsing the same arguments twice must give the same answer and the same
 * options: the parser keeps state across calls (getopt, ntad_cli), and
 * a test that parses many command lines relies on it being reset.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sizing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 32
#define ERRLEN 512

static bool pow2_in(uint32_t x, uint32_t lo, uint32_t hi)
{
	return x >= lo && x <= hi && !(x & (x - 1));
}

static void check_run(const struct ntad_opts *o)
{
	size_t n = strnlen(o->ifname, IF_NAMESIZE);

	if (n == 0 || n >= IF_NAMESIZE || strnlen(o->out_ifname, IF_NAMESIZE) >= IF_NAMESIZE)
		abort();
	if ((o->mode == NTAD_MODE_FWD) != (o->out_ifname[0] != '\0'))
		abort();
	if (o->mode == NTAD_MODE_FWD && !strcmp(o->ifname, o->out_ifname))
		abort();
	if (!pow2_in(o->rx_size, 16, 1u << 18) || !pow2_in(o->tx_size, 16, 1u << 18) ||
	    !pow2_in(o->fill_size, 16, 1u << 18) || !pow2_in(o->comp_size, 16, 1u << 18))
		abort();
	if (o->batch < 1 || o->batch > o->rx_size || o->batch > o->tx_size ||
	    o->batch > o->fill_size || o->batch > o->comp_size)
		abort();
	if (o->chunk_size < 2048 || o->chunk_size > 4096 || o->chunk_size % 64)
		abort();
	if (o->umem_size % 4096 || o->umem_size < ntad_umem_needed(o) || o->umem_size > (1ull << 40) + (2u << 20))
		abort();
	if (o->queue >= NTAD_MAX_QUEUES || o->nr_rules > NTAD_MAX_RULES)
		abort();
	if (o->mode == NTAD_MODE_TXONLY && o->nr_rules)
		abort();
	/* A capture expression is the XDP program's whole filter: no rules beside it. */
	if (o->mode == NTAD_MODE_CAPTURE && o->expr[0] && o->nr_rules)
		abort();
	for (uint32_t i = 0; i < o->nr_rules; i++) {
		const struct ntad_rule *r = &o->rules[i];

		if (r->ethertype && r->ethertype < 0x600)
			abort();
		if (r->dport && r->ip_proto && r->ip_proto != 6 && r->ip_proto != 17)
			abort();
	}
	if (o->copy_break > o->chunk_size - NTAD_RX_OFFSET)
		abort();
	if (o->verify && o->mode != NTAD_MODE_RXDROP)
		abort();
	if (o->mode == NTAD_MODE_TXONLY && (o->imix ? 1500u : o->size) > o->chunk_size)
		abort();
	if (o->size < NTAD_PKT_MIN_LEN || o->size > NTAD_PKT_MAX_LEN)
		abort();
	if (!(o->duration >= 0 && o->duration <= 1e7) || !(o->interval >= 0 && o->interval <= 1e7))
		abort();
	if (o->interval > 0 && o->interval < 0.01)
		abort();
}

/* Split the input at NULs into args[1..]; returns argc. Strings live in buf. */
static int split(const uint8_t *data, size_t size, char *buf, char **args)
{
	int argc = 1;
	size_t start = 0;

	memcpy(buf, data, size);
	buf[size] = '\0';
	args[0] = (char *)"ntad";
	for (size_t i = 0; i <= size && argc < MAX_ARGS; i++) {
		if (i == size || buf[i] == '\0') {
			buf[i] = '\0';
			args[argc++] = buf + start;
			start = i + 1;
		}
	}
	args[argc] = NULL;
	return argc;
}

static int parse(int argc, char *const *args, struct ntad_opts *o, char *err)
{
	char *argv[MAX_ARGS + 1];

	/* getopt_long permutes argv: give it a fresh copy of the pointers. */
	memcpy(argv, args, sizeof(argv));
	return ntad_parse_args(argc, argv, o, err, ERRLEN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ntad_opts a, b;
	char *args[MAX_ARGS + 1];
	char erra[ERRLEN], errb[ERRLEN];
	char *buf;
	int argc, ra, rb;

	if (size > 4096)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		abort();
	argc = split(data, size, buf, args);
	ra = parse(argc, args, &a, erra);
	rb = parse(argc, args, &b, errb);
	if (ra != rb || strcmp(erra, errb))
		abort();
	switch (ra) {
	case 0:
		if (memcmp(&a, &b, sizeof(a)))
			abort();
		check_run(&a);
		break;
	case 1:
		if (!a.help && !a.version)
			abort();
		break;
	case -EINVAL:
		/* One line, unless the user's own argument brought a newline. */
		if (!erra[0] || (strchr(erra, '\n') && !memchr(data, '\n', size)))
			abort();
		break;
	default:
		abort();
	}
	free(buf);
	return 0;
}
