// SPDX-License-Identifier: MIT
/*
 * cli.c - ntad's command line: a table of options, each with its parser and its
 * help text, turned into getopt_long's array at run time, then one validation
 * pass for combinations. The parsers live by concern beside it, behind
 * cli_internal.h: cli_engine.c (interfaces, queues, UMEM, rings, binding),
 * cli_filter.c (--filter), cli_txonly.c, cli_netem.c (the delay line),
 * cli_capture.c, and cli_value.c for the values they share; here are the
 * options of the run itself (mode, duration, reports).
 *
 * Why a table: the help text, the parser and the man page stay in one place per
 * option, and adding an option is one row. Why validate here: every conflict a
 * user can type is caught before ntad touches an interface, so nothing is ever
 * left attached by a usage error, and the unit test covers all of it as non-root.
 * Nothing here prints except ntad_usage(); errors come back as one line in err.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "cli_internal.h"
#include "sizing.h"

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
	ntad_opt_fn *parse;
	const char *help;
};

/* What one ntad_parse_args has seen beyond the options (cli_internal.h). */
struct ntad_cli_state ntad_cli;

/* ---- the run's own options; the others are in cli_*.c ---- */

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
	{ "interface", 'i', "IFACE", ntad_opt_interface, "interface to receive on (and send on, but in fwd)" },
	{ "out-interface", 'o', "IFACE", ntad_opt_out_interface, "fwd, delay: the second interface, sharing the UMEM" },
	{ "mode", 'm', "MODE", p_mode, "rxdrop (default), l2fwd, txonly, fwd, delay or capture" },
	{ "queue", 'q', "N", ntad_opt_queue, "rx/tx queue to bind (default 0)" },
	{ "queues", 0, "N|LIST", ntad_opt_queues, "N queues from --queue on, or a list (0,2,4-5): one socket and thread each, one shared UMEM" },
	{ "cpus", 0, "LIST", ntad_opt_cpus, "pin the queue threads, one CPU per queue in --queues order" },
	{ "rt-priority", 0, "N", ntad_opt_rt_priority, "run the queue threads SCHED_FIFO at priority N (1..99), so other tasks on their CPUs never delay them" },
	{ "pool", 0, "nta|fixed", ntad_opt_pool, "UMEM manager: nta (default) or the fixed-frame LIFO baseline" },
	{ "rx-size", 0, "N", ntad_opt_rx_size, "RX ring entries, power of two (default 2048)" },
	{ "tx-size", 0, "N", ntad_opt_tx_size, "TX ring entries (default 2048)" },
	{ "fill-size", 0, "N", ntad_opt_fill_size, "fill ring entries (default 2048)" },
	{ "comp-size", 0, "N", ntad_opt_comp_size, "completion ring entries (default 2048)" },
	{ "batch", 0, "N", ntad_opt_batch, "descriptors per ring operation (default 64)" },
	{ "chunk-size", 0, "BYTES", ntad_opt_chunk_size, "UMEM chunk, 2048..4096 (default 2048)" },
	{ "umem-size", 0, "SIZE", ntad_opt_umem_size, "UMEM bytes, k/M/G suffixes (default 32M)" },
	{ "hugepages", 0, NULL, ntad_opt_hugepages, "back the UMEM with 2 MiB huge pages" },
	{ "bind", 0, "MODE", ntad_opt_bind, "copy, zerocopy or auto (default: zero-copy, else copy)" },
	{ "no-need-wakeup", 0, NULL, ntad_opt_no_need_wakeup, "bind without XDP_USE_NEED_WAKEUP" },
	{ "busy-poll", 0, NULL, ntad_opt_busy_poll, "preferred busy polling on the socket" },
	{ "xdp-mode", 0, "MODE", ntad_opt_xdp_mode, "native (default) or skb" },
	{ "filter", 0, "RULE", ntad_opt_filter, "traffic for ntad (repeatable): all, ethertype=0x0800, proto=udp|tcp|icmp|N, dport=N, or a comma list" },
	{ "copy-break", 0, "BYTES", ntad_opt_copy_break, "nta pool: copy received packets up to this length (default 256, 0 off)" },
	{ "duration", 'd', "SEC", p_duration, "stop after SEC seconds" },
	{ "count", 'n', "N", p_count, "stop after N packets (txonly: send exactly N)" },
	{ "interval", 'I', "SEC", p_interval, "seconds between report lines (default 1, 0 off)" },
	{ "json", 0, NULL, p_json, "JSON lines instead of text" },
	{ "size", 0, "BYTES", ntad_opt_size, "txonly: frame length (default 64)" },
	{ "imix", 0, NULL, ntad_opt_imix, "txonly: 64/576/1500-byte frames, 7:4:1" },
	{ "payload", 0, "stamp|full", ntad_opt_payload, "txonly: frames written once and stamped with each sequence number (stamp, default), or every frame written whole (full)" },
	{ "rate", 0, "PPS|RATE", p_rate, "txonly: packets per second; delay: a bandwidth in tc's units, RATE [OVERHEAD [CELLSIZE [CELLOVERHEAD]]] (100mbit, 1gbit, 10mbps; bytes added per packet; whole cells of CELLSIZE, each CELLOVERHEAD more: ATM 48 5)" },
	{ "src-mac", 0, "MAC", ntad_opt_src_mac, "txonly: source MAC (default: the interface's)" },
	{ "dst-mac", 0, "MAC", ntad_opt_dst_mac, "txonly: destination MAC" },
	{ "src-ip", 0, "ADDR", ntad_opt_src_ip, "txonly: source IPv4 (default 10.77.0.1)" },
	{ "dst-ip", 0, "ADDR", ntad_opt_dst_ip, "txonly: destination IPv4 (default 10.77.0.2)" },
	{ "sport", 0, "PORT", ntad_opt_sport, "txonly: UDP source port (default 9)" },
	{ "dport", 0, "PORT", ntad_opt_dport, "txonly: UDP destination port (default 9)" },
	{ "verify", 0, NULL, p_verify, "rxdrop: check every payload, count valid/invalid" },
	{ "frags", 0, NULL, ntad_opt_frags, "multi-buffer AF_XDP (XDP_USE_SG) even when frames fit a chunk (default: when the MTU or --size needs it)" },
	{ "no-frags", 0, NULL, ntad_opt_no_frags, "never multi-buffer: refuse an MTU or --size larger than a chunk holds" },
	{ "delay", 0, "TIME", ntad_opt_delay, "delay: hold every packet TIME (20ms, 1s, 500us; a bare number is ms), then send it back out (or to -o)" },
	{ "jitter", 0, "TIME", ntad_opt_jitter, "delay: plus or minus up to TIME, never reordering (default 0)" },
	{ "dist", 0, "DIST", ntad_opt_dist, "delay: jitter distribution uniform (default), normal, pareto or paretonormal" },
	{ "delay-corr", 0, "PCT", ntad_opt_delay_corr, "delay: correlation of each jitter with the previous (default 0)" },
	{ "loss", 0, "LOSS", ntad_opt_loss, "delay: [random] P [CORR], state P13 [P31 [P32 [P23 [P14]]]] or gemodel P [R [1-H [1-K]]], as tc-netem" },
	{ "duplicate", 0, "P [CORR]", ntad_opt_duplicate, "delay: send a share P of packets twice" },
	{ "corrupt", 0, "P [CORR]", ntad_opt_corrupt, "delay: flip one random bit in a share P of packets (checksums left wrong)" },
	{ "reorder", 0, "P [CORR] [gap N]", ntad_opt_reorder, "delay: send a share P of packets (with gap N: of every Nth) at once, ahead of the delayed ones" },
	{ "slot", 0, "MIN [MAX] [packets N] [bytes N]", ntad_opt_slot, "delay: let due packets go only in slots opening MIN..MAX apart (or: distribution DIST DELAY JITTER), each up to N packets / N bytes, as tc-netem's slot" },
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
		return ntad_cli_fail(e, l, "--delay/--jitter/--dist/--delay-corr/--loss/--duplicate/--corrupt/--reorder/--rate with a unit/--slot/--dir/--seed: only used by --mode delay; drop them or add --mode delay");
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
	if (ntad_cli_queues_resolve(o, e, l))
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
