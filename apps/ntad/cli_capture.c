// SPDX-License-Identifier: MIT
/*
 * cli_capture.c - capture mode's options: what it holds (--capture-bytes,
 * --capture-age) and writes on demand (--pcap, --trigger EXPR), tcpdump's
 * file options for continuous writing (-w, -s, -C, -W), and the pcap-filter(7)
 * expression of the trailing arguments, with the checks of how they combine.
 *
 * Why a file of their own: they follow tcpdump rather than the rest of ntad
 * (one-letter options, sizes in millions of bytes, an expression as the last
 * arguments), and every expression goes through libpcap here (expr.c), once
 * when it is typed, so that a bad one, or a capture filter the XDP program
 * cannot run, is refused before anything is attached.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli_internal.h"
#include "expr.h"

int ntad_opt_capture_bytes(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (ntad_parse_size(a, &o->capture_bytes) || o->capture_bytes < 4096)
		return ntad_cli_fail(e, l, "--capture-bytes '%s': not a size; use bytes with k/M/G, at least 4k", a);
	ntad_cli.seen |= NTAD_SEEN_CAPTURE_OPTS;
	return 0;
}

int ntad_opt_capture_age(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	static const struct ntad_unit ms[] = { { "", 1e6 } };

	/* Milliseconds, fractions allowed (as --delay takes them), up to an hour. */
	if (ntad_parse_scaled(a, ms, 1, 0, 3600e9, &o->capture_age_ns) || !o->capture_age_ns)
		return ntad_cli_fail(e, l, "--capture-age '%s': not a time; use milliseconds, above 0 and up to 3600000", a);
	ntad_cli.seen |= NTAD_SEEN_CAPTURE_OPTS;
	return 0;
}

int ntad_opt_pcap(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (!*a || strlen(a) >= sizeof(o->pcap_path) - 4)
		return ntad_cli_fail(e, l, "--pcap: the file name is empty or longer than %zu bytes; give a shorter path",
				     sizeof(o->pcap_path) - 5);
	strcpy(o->pcap_path, a);
	ntad_cli.seen |= NTAD_SEEN_CAPTURE_OPTS;
	return 0;
}

int ntad_opt_trigger(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	size_t n = strlen(o->trigger_expr);
	struct ntad_expr *x;

	/* Checked alone, so that an error names the expression it is in. */
	x = ntad_expr_new("--trigger", a, NTAD_DEF_SNAPLEN, e, l);
	if (!x)
		return -EINVAL;
	ntad_expr_free(x);
	if (n + strlen(a) + 8 >= sizeof(o->trigger_expr))
		return ntad_cli_fail(e, l, "--trigger: the expressions are longer than %zu bytes together; shorten them",
				     sizeof(o->trigger_expr) - 1);
	snprintf(o->trigger_expr + n, sizeof(o->trigger_expr) - n, "%s(%s)", n ? " or " : "", a);
	ntad_cli.seen |= NTAD_SEEN_CAPTURE_OPTS;
	return 0;
}

int ntad_opt_write(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	/* Room for -C's file numbers after the name. */
	if (!*a || strlen(a) >= sizeof(o->write_path) - 12)
		return ntad_cli_fail(e, l, "-w: the file name is empty or longer than %zu bytes; give a shorter path",
				     sizeof(o->write_path) - 13);
	strcpy(o->write_path, a);
	ntad_cli.seen |= NTAD_SEEN_CAPTURE_FILES;
	return 0;
}

int ntad_opt_snaplen(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (ntad_parse_u32(a, &o->snaplen, 0, NTAD_DEF_SNAPLEN))
		return ntad_cli_fail(e, l, "--snaplen '%s': not a length; use 1..%u bytes (0: %u)", a, NTAD_DEF_SNAPLEN, NTAD_DEF_SNAPLEN);
	if (!o->snaplen)
		o->snaplen = NTAD_DEF_SNAPLEN; /* as tcpdump -s 0 */
	ntad_cli.seen |= NTAD_SEEN_CAPTURE_FILES;
	return 0;
}

int ntad_opt_file_size(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	uint64_t mb;

	if (ntad_parse_u64(a, &mb) || !mb || mb > 1000000)
		return ntad_cli_fail(e, l, "-C '%s': not a file size; use millions of bytes, 1..1000000, as tcpdump -C", a);
	o->rotate_bytes = mb * 1000000;
	ntad_cli.seen |= NTAD_SEEN_CAPTURE_FILES;
	return 0;
}

int ntad_opt_file_count(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (ntad_parse_u32(a, &o->rotate_files, 1, 100000))
		return ntad_cli_fail(e, l, "-W '%s': not a number of files; use 1..100000", a);
	ntad_cli.seen |= NTAD_SEEN_CAPTURE_FILES;
	return 0;
}

/* The trailing arguments: one expression, as tcpdump takes it. */
int ntad_cli_capture_expr(struct ntad_opts *o, int argc, char **argv, char *e, size_t l)
{
	size_t n = 0;

	for (int i = 0; i < argc; i++) {
		int w = snprintf(o->expr + n, sizeof(o->expr) - n, "%s%s", i ? " " : "", argv[i]);

		if (w < 0 || (size_t)w >= sizeof(o->expr) - n)
			return ntad_cli_fail(e, l, "capture filter: longer than %zu bytes; shorten the expression",
					     sizeof(o->expr) - 1);
		n += (size_t)w;
	}
	return 0;
}

int ntad_cli_capture_validate(struct ntad_opts *o, char *e, size_t l)
{
	const struct sock_filter *insns;
	struct ntad_expr *x;
	unsigned int n;
	int ret;

	if (o->mode != NTAD_MODE_CAPTURE && (ntad_cli.seen & NTAD_SEEN_CAPTURE_FILES))
		return ntad_cli_fail(e, l, "-w/-s/-C/-W: only used by --mode capture; drop them or add --mode capture");
	if (o->mode != NTAD_MODE_CAPTURE)
		return 0;
	if (o->write_path[0] && o->pcap_path[0])
		return ntad_cli_fail(e, l, "--pcap and -w conflict: --pcap writes the held frames on SIGUSR1, at exit and on --trigger, -w writes every frame as it arrives; give one");
	if (o->trigger_expr[0] && !o->pcap_path[0])
		return ntad_cli_fail(e, l, "--trigger: writes the held frames, and needs a file; add --pcap FILE%s",
				     o->write_path[0] ? " instead of -w (which writes every frame already)" : "");
	if (o->capture_age_ns && o->write_path[0])
		return ntad_cli_fail(e, l, "--capture-age: with -w frames are written as they arrive, not held; drop --capture-age or use --pcap");
	if (o->rotate_bytes && !o->write_path[0])
		return ntad_cli_fail(e, l, "-C: rotates the files of -w; add -w FILE (--pcap writes one file)");
	if (o->rotate_files && !o->rotate_bytes)
		return ntad_cli_fail(e, l, "-W: the number of files -C rotates through; add -C SIZE");
	if (!o->expr[0])
		return 0;
	if (o->nr_rules || (ntad_cli.seen & NTAD_SEEN_FILTER_ALL))
		return ntad_cli_fail(e, l, "--filter and a capture filter conflict: the expression alone selects the frames in the XDP program; drop --filter and say it in the expression (proto=udp,dport=9: 'udp dst port 9')");
	x = ntad_expr_new("capture filter", o->expr, o->snaplen, e, l);
	if (!x)
		return -EINVAL;
	ret = ntad_expr_cbpf(x, &insns, &n, e, l);
	ntad_expr_free(x);
	return ret ? -EINVAL : 0;
}
