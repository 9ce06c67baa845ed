// SPDX-License-Identifier: MIT
/*
 * cli.c - ntad's command line: a table of options, each with its parser and its
 * help text, turned into getopt_long's array at run time, then one validation
 * pass for combinations.
 *
 * Why a table: the help text, the parser and the man page stay in one place per
 * option, and adding an option is one row. Why validate here: every conflict a
 * user can type is caught before ntad touches an interface, so nothing is ever
 * left attached by a usage error, and the unit test covers all of it as non-root.
 * Nothing here prints except ntad_usage(); errors come back as one line in err.
 */
#include "cli_internal.h"
#include "expr.h"
#include "sizing.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#define DEF_RING 2048
#define DEF_BATCH 64
#define DEF_CHUNK 2048
#define DEF_UMEM (32ull << 20)
/*
 * Default copy-break. Measured with l2fwd over veth (numbers in lib/ntad/path.c):
 * copying 64-byte frames costs the same as trimming them, and keeps small held
 * packets from punching holes in pages.
 */
#define DEF_COPY_BREAK 256

struct opt_row {
	const char *name;
	int short_name;   /* 0: long only */
	const char *arg;  /* NULL: flag */
	int (*parse)(struct ntad_opts *o, const char *arg, char *err, size_t errlen);
	const char *help;
};

/* What one ntad_parse_args has seen beyond the options (cli_internal.h). */
struct ntad_cli_state ntad_cli;

static bool is_pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

/* ---- one parser per option ---- */

static int p_iface(char *dst, const char *arg, const char *what, char *err, size_t errlen)
{
	if (!*arg || strlen(arg) >= IF_NAMESIZE || strchr(arg, '/') || strchr(arg, ' '))
		return ntad_cli_fail(err, errlen, "%s '%s': not a valid interface name; give a name from `ip link`",
			    what, arg);
	strcpy(dst, arg);
	return 0;
}

static int p_interface(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return p_iface(o->ifname, a, "--interface", e, l);
}

static int p_out(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return p_iface(o->out_ifname, a, "--out-interface", e, l);
}

static int p_mode(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	static const char *names[] = { "rxdrop", "l2fwd", "txonly", "fwd", "delay", "capture" };

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(a, names[i])) {
			o->mode = (enum ntad_mode)i;
			return 0;
		}
	}
	return ntad_cli_fail(e, l, "--mode '%s': unknown mode; use rxdrop, l2fwd, txonly, fwd, delay or capture", a);
}

static int p_queue(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (ntad_parse_u32(a, &o->queue, 0, NTAD_MAX_QUEUES - 1))
		return ntad_cli_fail(e, l, "--queue '%s': not a queue number; use 0..%d", a, NTAD_MAX_QUEUES - 1);
	ntad_cli.seen |= NTAD_SEEN_QUEUE;
	return 0;
}

/* "0,2,5-7": up to NTAD_MAX_QUEUES distinct numbers below max. */
static int parse_list(const char *a, uint32_t max, uint32_t *out, uint32_t *n, bool distinct)
{
	char buf[512], *save = NULL, *tok;

	*n = 0;
	if (!*a || strlen(a) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, a);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		uint32_t lo, hi;

		if (dash) {
			*dash = '\0';
			if (ntad_parse_u32(tok, &lo, 0, max - 1) || ntad_parse_u32(dash + 1, &hi, lo, max - 1))
				return -EINVAL;
		} else if (ntad_parse_u32(tok, &lo, 0, max - 1)) {
			return -EINVAL;
		} else {
			hi = lo;
		}
		for (uint32_t v = lo; v <= hi; v++) {
			if (*n >= NTAD_MAX_QUEUES)
				return -E2BIG;
			for (uint32_t i = 0; distinct && i < *n; i++)
				if (out[i] == v)
					return -EEXIST;
			out[(*n)++] = v;
		}
	}
	return *n ? 0 : -EINVAL;
}

static int p_queues(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	int ret;

	if (!strchr(a, ',') && !strchr(a, '-')) {
		if (ntad_parse_u32(a, &ntad_cli.queues_count, 1, NTAD_MAX_QUEUES))
			return ntad_cli_fail(e, l, "--queues '%s': not a queue count; use 1..%d, or a list such as 0,2,4-5",
				    a, NTAD_MAX_QUEUES);
		ntad_cli.seen &= ~NTAD_SEEN_QUEUES_LIST;
		return 0;
	}
	ret = parse_list(a, NTAD_MAX_QUEUES, o->queues, &o->nr_queues, true);
	if (ret == -EEXIST)
		return ntad_cli_fail(e, l, "--queues '%s': a queue is listed twice; name each queue once", a);
	if (ret)
		return ntad_cli_fail(e, l, "--queues '%s': not a queue list; use a count (1..%d) or queues 0..%d such as 0,2,4-5",
			    a, NTAD_MAX_QUEUES, NTAD_MAX_QUEUES - 1);
	ntad_cli.seen |= NTAD_SEEN_QUEUES_LIST;
	ntad_cli.queues_count = 0;
	return 0;
}

static int p_cpus(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	uint32_t v[NTAD_MAX_QUEUES];

	if (parse_list(a, 4096, v, &o->nr_cpus, false))
		return ntad_cli_fail(e, l, "--cpus '%s': not a CPU list; use one CPU per queue, such as 0,1 or 2-5", a);
	for (uint32_t i = 0; i < o->nr_cpus; i++)
		o->cpus[i] = (int32_t)v[i];
	return 0;
}

static int p_pool(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (!strcmp(a, "nta"))
		o->pool = NTAD_POOL_NTA;
	else if (!strcmp(a, "fixed"))
		o->pool = NTAD_POOL_FIXED;
	else
		return ntad_cli_fail(e, l, "--pool '%s': unknown UMEM manager; use nta or fixed", a);
	return 0;
}

static int p_ring(uint32_t *dst, const char *name, const char *a, char *e, size_t l)
{
	uint32_t v;

	if (ntad_parse_u32(a, &v, 16, 1u << 18) || !is_pow2(v))
		return ntad_cli_fail(e, l, "--%s '%s': ring sizes are powers of two; use 16..262144", name, a);
	*dst = v;
	return 0;
}

static int p_rx_size(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return p_ring(&o->rx_size, "rx-size", a, e, l);
}

static int p_tx_size(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return p_ring(&o->tx_size, "tx-size", a, e, l);
}

static int p_fill_size(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return p_ring(&o->fill_size, "fill-size", a, e, l);
}

static int p_comp_size(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return p_ring(&o->comp_size, "comp-size", a, e, l);
}

static int p_batch(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (ntad_parse_u32(a, &o->batch, 1, 4096))
		return ntad_cli_fail(e, l, "--batch '%s': not a batch size; use 1..4096", a);
	return 0;
}

static int p_chunk(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (ntad_parse_u32(a, &o->chunk_size, 2048, 4096) || o->chunk_size % 64)
		return ntad_cli_fail(e, l, "--chunk-size '%s': the kernel takes 2048..4096; use a multiple of 64 in that range", a);
	return 0;
}

static int p_umem(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (ntad_parse_size(a, &o->umem_size) || o->umem_size < 65536 || o->umem_size > (1ull << 40))
		return ntad_cli_fail(e, l, "--umem-size '%s': not a size; use bytes with k/M/G, 64k..1024G", a);
	return 0;
}

static int p_hugepages(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	(void)a, (void)e, (void)l;
	o->hugepages = true;
	return 0;
}

static int p_bind(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (!strcmp(a, "auto"))
		o->bind = NTAD_BIND_AUTO;
	else if (!strcmp(a, "copy"))
		o->bind = NTAD_BIND_COPY;
	else if (!strcmp(a, "zerocopy") || !strcmp(a, "zc"))
		o->bind = NTAD_BIND_ZEROCOPY;
	else
		return ntad_cli_fail(e, l, "--bind '%s': unknown bind mode; use copy, zerocopy or auto", a);
	return 0;
}

static int p_no_wakeup(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	(void)a, (void)e, (void)l;
	o->need_wakeup = false;
	return 0;
}

static int p_busy_poll(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	(void)a, (void)e, (void)l;
	o->busy_poll = true;
	return 0;
}

static int p_xdp_mode(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (!strcmp(a, "native") || !strcmp(a, "drv"))
		o->xdp_mode = NTAD_XDP_NATIVE;
	else if (!strcmp(a, "skb") || !strcmp(a, "generic"))
		o->xdp_mode = NTAD_XDP_SKB;
	else
		return ntad_cli_fail(e, l, "--xdp-mode '%s': unknown XDP mode; use native or skb", a);
	return 0;
}

static int p_copy_break(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	o->given |= NTAD_GIVEN_COPY_BREAK;
	if (ntad_parse_u32(a, &o->copy_break, 0, 4096))
		return ntad_cli_fail(e, l, "--copy-break '%s': not a length; use 0 (off) to 4096 bytes", a);
	return 0;
}

static int p_duration(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (ntad_parse_seconds(a, &o->duration))
		return ntad_cli_fail(e, l, "--duration '%s': not a number of seconds; use e.g. 10 or 0.5", a);
	return 0;
}

static int p_count(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (ntad_parse_u64(a, &o->count) || !o->count)
		return ntad_cli_fail(e, l, "--count '%s': not a packet count; use a positive number", a);
	return 0;
}

static int p_interval(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	if (ntad_parse_seconds(a, &o->interval) || (o->interval > 0 && o->interval < 0.01))
		return ntad_cli_fail(e, l, "--interval '%s': not an interval; use 0 (off) or at least 0.01 seconds", a);
	return 0;
}

static int p_json(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	(void)a, (void)e, (void)l;
	o->json = true;
	return 0;
}

static int p_rate(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	/* A unit makes it the delay line's bandwidth (100mbit); a bare number is txonly's packet rate. */
	if (isdigit((unsigned char)*a) && isalpha((unsigned char)a[strspn(a, "0123456789.")]))
		return ntad_opt_netem_rate(o, a, e, l);
	return ntad_opt_tx_rate(o, a, e, l);
}

static int p_verify(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	(void)a, (void)e, (void)l;
	o->verify = true;
	return 0;
}

static int p_frags(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	(void)a;
	if (o->frags_mode == NTAD_FRAGS_OFF)
		return ntad_cli_fail(e, l, "--frags and --no-frags conflict; give one of them");
	o->frags_mode = NTAD_FRAGS_ON;
	return 0;
}

static int p_no_frags(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	(void)a;
	if (o->frags_mode == NTAD_FRAGS_ON)
		return ntad_cli_fail(e, l, "--frags and --no-frags conflict; give one of them");
	o->frags_mode = NTAD_FRAGS_OFF;
	return 0;
}

static int p_verbose(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	(void)a, (void)e, (void)l;
	o->verbose = true;
	return 0;
}

static int p_help(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	(void)a, (void)e, (void)l;
	o->help = true;
	return 0;
}

static int p_version(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	(void)a, (void)e, (void)l;
	o->version = true;
	return 0;
}

static const struct opt_row rows[] = {
	{ "interface", 'i', "IFACE", p_interface, "interface to receive on (and send on, but in fwd)" },
	{ "out-interface", 'o', "IFACE", p_out, "fwd, delay: the second interface, sharing the UMEM" },
	{ "mode", 'm', "MODE", p_mode, "rxdrop (default), l2fwd, txonly, fwd, delay or capture" },
	{ "queue", 'q', "N", p_queue, "rx/tx queue to bind (default 0)" },
	{ "queues", 0, "N|LIST", p_queues, "N queues from --queue on, or a list (0,2,4-5): one socket and thread each, one shared UMEM" },
	{ "cpus", 0, "LIST", p_cpus, "pin the queue threads, one CPU per queue in --queues order" },
	{ "pool", 0, "nta|fixed", p_pool, "UMEM manager: nta (default) or the fixed-frame LIFO baseline" },
	{ "rx-size", 0, "N", p_rx_size, "RX ring entries, power of two (default 2048)" },
	{ "tx-size", 0, "N", p_tx_size, "TX ring entries (default 2048)" },
	{ "fill-size", 0, "N", p_fill_size, "fill ring entries (default 2048)" },
	{ "comp-size", 0, "N", p_comp_size, "completion ring entries (default 2048)" },
	{ "batch", 0, "N", p_batch, "descriptors per ring operation (default 64)" },
	{ "chunk-size", 0, "BYTES", p_chunk, "UMEM chunk, 2048..4096 (default 2048)" },
	{ "umem-size", 0, "SIZE", p_umem, "UMEM bytes, k/M/G suffixes (default 32M)" },
	{ "hugepages", 0, NULL, p_hugepages, "back the UMEM with 2 MiB huge pages" },
	{ "bind", 0, "MODE", p_bind, "copy, zerocopy or auto (default: zero-copy, else copy)" },
	{ "no-need-wakeup", 0, NULL, p_no_wakeup, "bind without XDP_USE_NEED_WAKEUP" },
	{ "busy-poll", 0, NULL, p_busy_poll, "preferred busy polling on the socket" },
	{ "xdp-mode", 0, "MODE", p_xdp_mode, "native (default) or skb" },
	{ "filter", 0, "RULE", ntad_opt_filter, "traffic for ntad (repeatable): all, ethertype=0x0800, proto=udp|tcp|icmp|N, dport=N, or a comma list" },
	{ "copy-break", 0, "BYTES", p_copy_break, "nta pool: copy received packets up to this length (default 256, 0 off)" },
	{ "duration", 'd', "SEC", p_duration, "stop after SEC seconds" },
	{ "count", 'n', "N", p_count, "stop after N packets (txonly: send exactly N)" },
	{ "interval", 'I', "SEC", p_interval, "seconds between report lines (default 1, 0 off)" },
	{ "json", 0, NULL, p_json, "JSON lines instead of text" },
	{ "size", 0, "BYTES", ntad_opt_size, "txonly: frame length (default 64)" },
	{ "imix", 0, NULL, ntad_opt_imix, "txonly: 64/576/1500-byte frames, 7:4:1" },
	{ "payload", 0, "stamp|full", ntad_opt_payload, "txonly: frames written once and stamped with each sequence number (stamp, default), or every frame written whole (full)" },
	{ "rate", 0, "PPS|RATE", p_rate, "txonly: packets per second; delay: a bandwidth in tc's units, RATE [OVERHEAD] (100mbit, 1gbit, 10mbps; bytes added per packet)" },
	{ "src-mac", 0, "MAC", ntad_opt_src_mac, "txonly: source MAC (default: the interface's)" },
	{ "dst-mac", 0, "MAC", ntad_opt_dst_mac, "txonly: destination MAC" },
	{ "src-ip", 0, "ADDR", ntad_opt_src_ip, "txonly: source IPv4 (default 10.77.0.1)" },
	{ "dst-ip", 0, "ADDR", ntad_opt_dst_ip, "txonly: destination IPv4 (default 10.77.0.2)" },
	{ "sport", 0, "PORT", ntad_opt_sport, "txonly: UDP source port (default 9)" },
	{ "dport", 0, "PORT", ntad_opt_dport, "txonly: UDP destination port (default 9)" },
	{ "verify", 0, NULL, p_verify, "rxdrop: check every payload, count valid/invalid" },
	{ "frags", 0, NULL, p_frags, "multi-buffer AF_XDP (XDP_USE_SG) even when frames fit a chunk (default: when the MTU or --size needs it)" },
	{ "no-frags", 0, NULL, p_no_frags, "never multi-buffer: refuse an MTU or --size larger than a chunk holds" },
	{ "delay", 0, "TIME", ntad_opt_delay, "delay: hold every packet TIME (20ms, 1s, 500us; a bare number is ms), then send it back out (or to -o)" },
	{ "jitter", 0, "TIME", ntad_opt_jitter, "delay: plus or minus up to TIME, never reordering (default 0)" },
	{ "dist", 0, "DIST", ntad_opt_dist, "delay: jitter distribution uniform (default), normal, pareto or paretonormal" },
	{ "delay-corr", 0, "PCT", ntad_opt_delay_corr, "delay: correlation of each jitter with the previous (default 0)" },
	{ "loss", 0, "LOSS", ntad_opt_loss, "delay: [random] P [CORR], state P13 [P31 [P32 [P23 [P14]]]] or gemodel P [R [1-H [1-K]]], as tc-netem" },
	{ "duplicate", 0, "P [CORR]", ntad_opt_duplicate, "delay: send a share P of packets twice" },
	{ "corrupt", 0, "P [CORR]", ntad_opt_corrupt, "delay: flip one random bit in a share P of packets (checksums left wrong)" },
	{ "reorder", 0, "P [CORR] [gap N]", ntad_opt_reorder, "delay: send a share P of packets (with gap N: of every Nth) at once, ahead of the delayed ones" },
	{ "dir", 0, "ab|ba|both", ntad_opt_dir, "delay -o: the netem options after it apply to ab (-i to -o), ba (-o to -i) or both (default)" },
	{ "seed", 0, "N", ntad_opt_seed, "delay: seed of the PRNG of every random choice (default 0)" },
	{ "capture-bytes", 0, "SIZE", ntad_opt_capture_bytes, "capture: UMEM bytes held at most, oldest evicted (default: all the rings leave)" },
	{ "capture-age", 0, "MS", ntad_opt_capture_age, "capture: evict packets older than MS milliseconds" },
	{ "pcap", 0, "FILE", ntad_opt_pcap, "capture: write the held packets to FILE on SIGUSR1, at exit and on --trigger" },
	{ "trigger", 0, "EXPR", ntad_opt_trigger, "capture: write the pcap when a packet matches EXPR (pcap-filter(7); repeatable: any)" },
	{ "write", 'w', "FILE", ntad_opt_write, "capture: write every frame to FILE as it arrives (tcpdump -w), instead of holding it" },
	{ "snaplen", 's', "N", ntad_opt_snaplen, "capture: write at most N bytes of a frame (default 262144, 0 the same)" },
	{ "file-size", 'C', "N", ntad_opt_file_size, "capture -w: next file once one is larger than N million bytes (FILE1, FILE2, ...)" },
	{ "file-count", 'W', "N", ntad_opt_file_count, "capture -w -C: a ring of N files (FILE0..FILE{N-1}), overwriting the oldest" },
	{ "verbose", 'v', NULL, p_verbose, "show libbpf/libxdp diagnostics" },
	{ "help", 'h', NULL, p_help, "this text" },
	{ "version", 'V', NULL, p_version, "print the version" },
};
#define NR_ROWS (sizeof(rows) / sizeof(rows[0]))

void ntad_opts_default(struct ntad_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = NTAD_MODE_RXDROP;
	o->pool = NTAD_POOL_NTA;
	o->rx_size = o->tx_size = o->fill_size = o->comp_size = DEF_RING;
	o->batch = DEF_BATCH;
	o->chunk_size = DEF_CHUNK;
	o->umem_size = DEF_UMEM;
	o->bind = NTAD_BIND_AUTO;
	o->need_wakeup = true;
	o->xdp_mode = NTAD_XDP_NATIVE;
	o->nr_queues = 1;
	o->copy_break = DEF_COPY_BREAK;
	o->interval = 1;
	o->size = 64;
	ntad_pkt_params_default(&o->pkt);
	o->snaplen = NTAD_DEF_SNAPLEN;
}

const char *ntad_mode_name(enum ntad_mode m)
{
	switch (m) {
	case NTAD_MODE_RXDROP: return "rxdrop";
	case NTAD_MODE_L2FWD: return "l2fwd";
	case NTAD_MODE_TXONLY: return "txonly";
	case NTAD_MODE_FWD: return "fwd";
	case NTAD_MODE_DELAY: return "delay";
	case NTAD_MODE_CAPTURE: return "capture";
	}
	return "?";
}

const char *ntad_pool_name(enum ntad_pool_kind p)
{
	return p == NTAD_POOL_FIXED ? "fixed" : "nta";
}

/* Resolve --queue/--queues into o->queues[0..nr_queues). */
static int resolve_queues(struct ntad_opts *o, char *e, size_t l)
{
	if (ntad_cli.seen & NTAD_SEEN_QUEUES_LIST) {
		if (ntad_cli.seen & NTAD_SEEN_QUEUE)
			return ntad_cli_fail(e, l, "--queue and a --queues list conflict; give the queues in the list only");
	} else {
		uint32_t n = ntad_cli.queues_count ? ntad_cli.queues_count : 1;

		if (o->queue + n > NTAD_MAX_QUEUES)
			return ntad_cli_fail(e, l, "--queues %u from --queue %u: beyond queue %d; use fewer queues or a lower --queue",
				    n, o->queue, NTAD_MAX_QUEUES - 1);
		for (uint32_t i = 0; i < n; i++)
			o->queues[i] = o->queue + i;
		o->nr_queues = n;
	}
	o->queue = o->queues[0];
	if (o->nr_cpus && o->nr_cpus != o->nr_queues)
		return ntad_cli_fail(e, l, "--cpus: %u CPUs for %u queues; give one CPU per queue", o->nr_cpus, o->nr_queues);
	return 0;
}

/*
 * The modes that hold packets: netem's options for delay only and capture's
 * for capture only (each file checks its own options together), then what
 * holding needs of the pool and the UMEM.
 */
static int validate_retention(struct ntad_opts *o, uint32_t max_frame, char *e, size_t l)
{
	bool retains = o->mode == NTAD_MODE_DELAY || o->mode == NTAD_MODE_CAPTURE;
	uint64_t reserve;

	if (o->mode != NTAD_MODE_DELAY && (ntad_cli.seen & NTAD_SEEN_DELAY_OPTS))
		return ntad_cli_fail(e, l, "--delay/--jitter/--dist/--delay-corr/--loss/--duplicate/--corrupt/--reorder/--rate with a unit/--dir/--seed: only used by --mode delay; drop them or add --mode delay");
	if (o->mode != NTAD_MODE_CAPTURE && (ntad_cli.seen & NTAD_SEEN_CAPTURE_OPTS))
		return ntad_cli_fail(e, l, "--capture-bytes/--capture-age/--pcap/--trigger: only used by --mode capture; drop them or add --mode capture");
	if (o->mode == NTAD_MODE_DELAY && !(ntad_cli.seen & NTAD_SEEN_DELAY_MS))
		return ntad_cli_fail(e, l, "--mode delay: needs the hold time; add --delay TIME (such as 20ms)");
	if (o->mode == NTAD_MODE_DELAY && ntad_cli_netem_validate(o, e, l))
		return -EINVAL;
	if (!retains)
		return 0;
	if (o->frags_mode == NTAD_FRAGS_ON && o->pool == NTAD_POOL_FIXED)
		return ntad_cli_fail(e, l, "--frags: --mode %s holds a frame larger than a chunk in one block, which --pool fixed does not have; use --pool nta or drop --frags",
			    ntad_mode_name(o->mode));
	/* Held packets: copy every one into an exact block unless told otherwise. */
	if (!(o->given & NTAD_GIVEN_COPY_BREAK))
		o->copy_break = max_frame;
	reserve = ntad_retention_reserve(o);
	if (o->umem_size < reserve + 65536)
		return ntad_cli_fail(e, l, "--umem-size %" PRIu64 ": leaves no room to hold packets in --mode %s (the rings%s take %" PRIu64
			    " bytes); use --umem-size %" PRIu64 "M or smaller rings", o->umem_size, ntad_mode_name(o->mode),
			    o->pool == NTAD_POOL_NTA ? " and nta's parked regions" : "", reserve,
			    ((reserve + 65536) >> 20) + 1);
	return 0;
}

static int validate(struct ntad_opts *o, char *e, size_t l)
{
	uint64_t need;
	uint32_t max_frame = o->chunk_size - NTAD_RX_OFFSET;

	if (!o->ifname[0])
		return ntad_cli_fail(e, l, "interface: none given; use -i IFACE (see --help)");
	if (resolve_queues(o, e, l))
		return -EINVAL;
	if (o->mode == NTAD_MODE_FWD && !o->out_ifname[0])
		return ntad_cli_fail(e, l, "--mode fwd: needs a second interface; add -o IFACE");
	if (o->mode != NTAD_MODE_FWD && o->mode != NTAD_MODE_DELAY && o->out_ifname[0])
		return ntad_cli_fail(e, l, "--out-interface: only used by --mode fwd and --mode delay; add one of them or drop -o");
	if (o->mode == NTAD_MODE_FWD && !strcmp(o->ifname, o->out_ifname))
		return ntad_cli_fail(e, l, "--out-interface %s: same as -i; fwd needs two interfaces (use --mode l2fwd for one)",
			    o->ifname);
	if (o->mode == NTAD_MODE_DELAY && !strcmp(o->ifname, o->out_ifname))
		return ntad_cli_fail(e, l, "--out-interface %s: same as -i; drop -o to delay back out of %s",
			    o->ifname, o->ifname);
	if (o->mode == NTAD_MODE_DELAY && (ntad_cli.seen & NTAD_SEEN_RATE_PPS))
		return ntad_cli_fail(e, l, "--rate: a bare number is txonly's packets per second; give the delay line's bandwidth with a unit, such as 100mbit");
	if (o->mode != NTAD_MODE_TXONLY && (ntad_cli.seen & (NTAD_SEEN_SIZE | NTAD_SEEN_TX_OPTS)))
		return ntad_cli_fail(e, l, "--size/--imix/--payload/--rate/--src-*/--dst-*/--sport/--dport: only used by --mode txonly; drop them or add --mode txonly");
	if (o->imix && (ntad_cli.seen & NTAD_SEEN_SIZE))
		return ntad_cli_fail(e, l, "--imix and --size conflict; give one of them");
	if (o->verify && o->mode != NTAD_MODE_RXDROP)
		return ntad_cli_fail(e, l, "--verify: only used by --mode rxdrop; drop it");
	if (o->mode == NTAD_MODE_TXONLY && (o->nr_rules || (ntad_cli.seen & NTAD_SEEN_FILTER_ALL)))
		return ntad_cli_fail(e, l, "--filter: txonly receives nothing, so it attaches no program; drop --filter");
	if ((ntad_cli.seen & NTAD_SEEN_FILTER_ALL) && o->nr_rules)
		return ntad_cli_fail(e, l, "--filter all conflicts with other --filter rules; give either all or rules");
	if (o->mode == NTAD_MODE_TXONLY) {
		uint32_t len = o->imix ? 1500 : o->size;

		/* Larger frames go out as descriptor chains over one nta block. */
		if (len > o->chunk_size && o->frags_mode == NTAD_FRAGS_OFF)
			return ntad_cli_fail(e, l, "--size %u: larger than the chunk size %u, which needs multi-buffer; drop --no-frags, use --chunk-size %u or a smaller --size",
				    len, o->chunk_size, len <= 4096 ? (len + 63) / 64 * 64 : 4096);
		if (len > o->chunk_size && o->pool == NTAD_POOL_FIXED)
			return ntad_cli_fail(e, l, "--size %u: --pool fixed has no block larger than its %u-byte frames to hold the frame contiguously; use --pool nta or --size %u or less",
				    len, o->chunk_size, o->chunk_size);
		o->frags = len > o->chunk_size;
	}
	if (o->frags_mode == NTAD_FRAGS_ON)
		o->frags = true;
	if (validate_retention(o, max_frame, e, l))
		return -EINVAL;
	if (ntad_cli_capture_validate(o, e, l))
		return -EINVAL;
	if (o->copy_break > max_frame)
		return ntad_cli_fail(e, l, "--copy-break %u: larger than the largest frame a %u-byte chunk holds (%u); use 0..%u",
			    o->copy_break, o->chunk_size, max_frame, max_frame);
	if (o->batch > o->rx_size || o->batch > o->tx_size || o->batch > o->fill_size ||
	    o->batch > o->comp_size)
		return ntad_cli_fail(e, l, "--batch %u: larger than a ring; use a batch no larger than the smallest ring",
			    o->batch);
	if (o->hugepages)
		o->umem_size = (o->umem_size + (2u << 20) - 1) & ~(uint64_t)((2u << 20) - 1);
	else
		o->umem_size = (o->umem_size + 4095) & ~(uint64_t)4095;
	need = ntad_umem_needed(o) + ntad_jumbo_bytes(o);
	if (o->umem_size < need)
		return ntad_cli_fail(e, l, "--umem-size %" PRIu64 ": too small for the rings (needs %" PRIu64
			    " bytes = ring slots x chunk size); use --umem-size %" PRIu64 "M or smaller rings",
			    o->umem_size, need, (need + (1u << 20) - 1) >> 20);
	return 0;
}

void ntad_usage(FILE *f)
{
	fprintf(f,
		"Usage: ntad -i IFACE [-m rxdrop|l2fwd|txonly|delay|capture] [options]\n"
		"       ntad -i IFACE -o IFACE -m fwd|delay [options]\n"
		"       ntad -i IFACE -m capture [--pcap FILE | -w FILE [-C N [-W N]]] [options] [EXPRESSION]\n"
		"AF_XDP packet engine whose UMEM is managed by the Network Tree Allocator.\n\n");
	for (unsigned int i = 0; i < NR_ROWS; i++) {
		char lhs[48];

		if (rows[i].short_name)
			snprintf(lhs, sizeof(lhs), "-%c, --%s%s%s", rows[i].short_name, rows[i].name,
				 rows[i].arg ? " " : "", rows[i].arg ? rows[i].arg : "");
		else
			snprintf(lhs, sizeof(lhs), "    --%s%s%s", rows[i].name,
				 rows[i].arg ? " " : "", rows[i].arg ? rows[i].arg : "");
		fprintf(f, "  %-28s %s\n", lhs, rows[i].help);
	}
	fprintf(f, "\nRun as root (CAP_NET_ADMIN, CAP_BPF). Stops on SIGINT/SIGTERM, -d or -n;\n"
		"exits non-zero when UMEM bytes are still in use or nta_check fails at exit.\n"
		"See ntad(8).\n");
}

int ntad_parse_args(int argc, char **argv, struct ntad_opts *o, char *err, size_t errlen)
{
	struct option longs[NR_ROWS + 1];
	char shorts[2 * NR_ROWS + 2], *sp = shorts;
	int c, idx;

	ntad_opts_default(o);
	memset(&ntad_cli, 0, sizeof(ntad_cli));
	ntad_cli.argc = argc, ntad_cli.argv = argv;
	ntad_cli.netem_dirs = 3;
	if (err && errlen)
		err[0] = '\0';
	*sp++ = ':'; /* report a missing argument as ':' */
	for (unsigned int i = 0; i < NR_ROWS; i++) {
		longs[i] = (struct option){ rows[i].name, rows[i].arg ? required_argument : no_argument,
					    NULL, 256 + (int)i };
		if (rows[i].short_name) {
			*sp++ = (char)rows[i].short_name;
			if (rows[i].arg)
				*sp++ = ':';
		}
	}
	*sp = '\0';
	memset(&longs[NR_ROWS], 0, sizeof(longs[NR_ROWS]));

	optind = 0; /* GNU: full reinitialisation, so tests can parse many times */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, longs, &idx)) != -1) {
		const struct opt_row *r = NULL;
		int ret;

		if (c == '?') {
			if (optopt && optopt < 256)
				return ntad_cli_fail(err, errlen, "-%c: unknown option; see ntad --help", optopt);
			return ntad_cli_fail(err, errlen, "%s: unknown option; see ntad --help", argv[optind - 1]);
		}
		if (c == ':')
			return ntad_cli_fail(err, errlen, "%s: needs a value; see ntad --help", argv[optind - 1]);
		if (c >= 256) {
			r = &rows[c - 256];
		} else {
			for (unsigned int i = 0; i < NR_ROWS; i++)
				if (rows[i].short_name == c)
					r = &rows[i];
		}
		if (!r)
			return ntad_cli_fail(err, errlen, "-%c: unknown option; see ntad --help", c);
		ret = r->parse(o, optarg, err, errlen);
		if (ret)
			return ret;
	}
	if (optind < argc && o->mode != NTAD_MODE_CAPTURE)
		return ntad_cli_fail(err, errlen, "'%s': unexpected argument; options start with - (see ntad --help)",
			    argv[optind]);
	if (ntad_cli_capture_expr(o, argc - optind, argv + optind, err, errlen))
		return -EINVAL;
	if (o->help || o->version)
		return 1;
	return validate(o, err, errlen);
}
