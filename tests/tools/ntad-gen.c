// SPDX-License-Identifier: MIT
/*
 * ntad-gen.c - the benchmarks' traffic generator and XDP_DROP counter.
 *
 *   ntad-gen [send] -i IF [-n COUNT] [-d SEC] [--size N | --imix] [--rate PPS]
 *                   [--payload full|seq] [--src-mac M] [--dst-mac M] [--src-ip A]
 *                   [--dst-ip A] [--sport P] [--dport P] [--start-seq S] [-c CPU]
 *                   [--batch N] [-I SEC]
 *   ntad-gen count -i IF [-n COUNT] [-d SEC] [--start-seq S] [-c CPU] [-I SEC]
 *   ntad-gen selftest
 *
 * send runs bpf/ntad_gen.bpf.c's generator with BPF_PROG_RUN in live-frame mode
 * with IF as the ingress interface: every frame leaves IF by XDP_TX into its veth
 * peer. Why not AF_XDP or AF_PACKET: both pay an skb per frame in copy mode and
 * stop near 1 Mpps on veth, below what ntad rxdrop takes; live frames recycle a
 * handful of pages inside the kernel (docs/BENCHMARKS.md has the numbers). The
 * receiving end needs NAPI (an XDP program attached there, PLATFORM.md), or the
 * frames are dropped in veth without the generator being told: what arrives is
 * always counted at the receiver; "sent" is what the program ran on.
 *
 * A test run costs a page-pool setup and teardown in the kernel, which sleeps
 * (about 25 ms per run measured here), so runs are long: up to 2^22 frames, cut
 * short by SIGALRM at the deadline (a live run stops on a pending signal). An
 * interval thread reads the program's sequence counter through the skeleton's
 * mmap instead of interrupting the run. IMIX is done by the program (1500-byte
 * template cut per frame to ntad_pkt_imix_len(seq): 64, 576, 1500 bytes, 7:4:1).
 * --rate is best effort and coarse: bursts of a tenth of a second's frames, then
 * a sleep until the schedule catches up. Sequence numbers continue across runs.
 *
 * count attaches the counting XDP_DROP program to IF (bpf_link: gone with the
 * process) and reports what arrives: all frames, those with the pkt.h magic, and
 * those in sequence. selftest runs the generator without live frames on every
 * size and checks each output with ntad_pkt_verify (full payload) or the
 * headers and seq (seq payload); it needs CAP_BPF but no interface.
 *
 * Output: with -I, one line per interval ("t=.. pps=.."); always a final
 * key=value line, the one scripts read. Exit 0, 1 on failure, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "ntad_pkt.h"

/* Mirrors struct gen_count in bpf/ntad_gen.bpf.c (the skeleton names, not defines, it). */
struct gen_count {
	uint64_t packets;
	uint64_t bytes;
	uint64_t ours;
	uint64_t pad[5];
};

/* Mirrors struct gen_seq. */
struct gen_seq {
	uint64_t in_order;
	uint32_t next_seq;
	uint32_t pad0;
	uint64_t pad[6];
};

/* What cmd_count reports: the per-CPU counts and the per-queue in_order summed. */
struct gen_totals {
	uint64_t packets;
	uint64_t bytes;
	uint64_t ours;
	uint64_t in_order;
};

/* The generated skeleton casts its embedded ELF bytes from const. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "bpf/ntad_gen.skel.h"
#pragma GCC diagnostic pop

#define GEN_MAX_LEN 3072 /* GEN_MAX_LEN of the program */
#define GEN_MAX_CPUS 64
#define GEN_MAX_QUEUES 64
#define OFF_PATTERN (NTAD_PKT_HDR_LEN + 16)
#define IMIX_STEPS 12
#define MAX_SLICE (1u << 22) /* frames per test run at full speed: about 1 s */

_Static_assert(sizeof(struct gen_count) == 64, "one cache line per CPU, as in the program");
_Static_assert(sizeof(struct gen_seq) == 64, "one cache line per queue, as in the program");

enum cmd { CMD_SEND, CMD_COUNT, CMD_SELFTEST };

struct gen_opts {
	enum cmd cmd;
	const char *ifname;
	uint64_t count;       /* 0: unlimited */
	double duration;      /* 0: unlimited */
	uint32_t size;
	bool imix;
	uint64_t rate;        /* 0: as fast as possible */
	bool full_payload;
	struct ntad_pkt_params pp;
	bool have_src_mac;
	uint32_t start_seq;
	int cpu;              /* -1: not pinned */
	uint32_t batch;       /* kernel batch of a live run, 1..256 */
	double interval;      /* 0: no interval lines */
};

struct gen_ctx {
	struct gen_opts o;
	struct ntad_gen_bpf *skel;
	struct bpf_link *link;
	int ifindex;
	uint8_t *tmpl;        /* the fixed size, or 1500 bytes for IMIX */
	uint32_t tmpl_len;
	double t0;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_alarm(int sig)
{
	(void)sig;
	stop = 1; /* the deadline: also interrupts a test run under way */
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ntad-gen [send] -i IF [-n COUNT] [-d SEC] [--size N | --imix] [--rate PPS]\n"
		"                [--payload full|seq] [--src-mac M] [--dst-mac M] [--src-ip A]\n"
		"                [--dst-ip A] [--sport P] [--dport P] [--start-seq S] [-c CPU]\n"
		"                [--batch N] [-I SEC]\n"
		"       ntad-gen count -i IF [-n COUNT] [-d SEC] [--start-seq S] [-c CPU] [-I SEC]\n"
		"       ntad-gen selftest\n"
		"send: pkt.h frames out of IF into its veth peer by XDP_TX from BPF_PROG_RUN live\n"
		"  frames (the peer needs an XDP program attached). --payload full (default):\n"
		"  every frame passes ntad_pkt_verify; seq: seq and checksums only, O(1) per frame.\n"
		"  Without -n and -d it runs until SIGINT. Last line: sent= bytes= elapsed= pps=\n"
		"count: XDP_DROP everything arriving on IF, counting it. Last line: received=\n"
		"  bytes= ours= in_order= elapsed= pps=\n"
		"selftest: run the generator without live frames and verify its output.\n");
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
	va_list ap;

	fputs("ntad-gen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("; see ntad-gen --help\n", stderr);
	return 2;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse_u64(const char *s, uint64_t *v, uint64_t lo, uint64_t hi)
{
	char *end;
	unsigned long long x;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end || x < lo || x > hi)
		return -EINVAL;
	*v = x;
	return 0;
}

static int parse_secs(const char *s, double *v)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(x) || x < 0 || x > 1e7)
		return -EINVAL;
	*v = x;
	return 0;
}

enum {
	OPT_SIZE = 256, OPT_IMIX, OPT_RATE, OPT_PAYLOAD, OPT_SRC_MAC, OPT_DST_MAC, OPT_SRC_IP,
	OPT_DST_IP, OPT_SPORT, OPT_DPORT, OPT_START_SEQ, OPT_BATCH,
};

static int parse_args(int argc, char **argv, struct gen_opts *o)
{
	static const struct option longs[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'I' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "imix", no_argument, NULL, OPT_IMIX },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "payload", required_argument, NULL, OPT_PAYLOAD },
		{ "src-mac", required_argument, NULL, OPT_SRC_MAC },
		{ "dst-mac", required_argument, NULL, OPT_DST_MAC },
		{ "src-ip", required_argument, NULL, OPT_SRC_IP },
		{ "dst-ip", required_argument, NULL, OPT_DST_IP },
		{ "sport", required_argument, NULL, OPT_SPORT },
		{ "dport", required_argument, NULL, OPT_DPORT },
		{ "start-seq", required_argument, NULL, OPT_START_SEQ },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_size = false, send_only = false;
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->size = 64;
	o->full_payload = true;
	o->cpu = -1;
	o->batch = 64;
	ntad_pkt_params_default(&o->pp);

	if (argc > 1 && argv[1][0] != '-') {
		if (!strcmp(argv[1], "send"))
			o->cmd = CMD_SEND;
		else if (!strcmp(argv[1], "count"))
			o->cmd = CMD_COUNT;
		else if (!strcmp(argv[1], "selftest"))
			o->cmd = CMD_SELFTEST;
		else
			return bad("'%s': unknown command; use send, count or selftest", argv[1]);
		argv++;
		argc--;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:n:d:I:c:h", longs, NULL)) != -1) {
		struct in_addr in;

		switch (c) {
		case 'i':
			if (!*optarg || strlen(optarg) >= IF_NAMESIZE)
				return bad("-i '%s': not an interface name", optarg);
			o->ifname = optarg;
			break;
		case 'n':
			if (parse_u64(optarg, &o->count, 1, UINT64_MAX))
				return bad("-n '%s': not a positive packet count", optarg);
			break;
		case 'd':
			if (parse_secs(optarg, &o->duration) || o->duration <= 0)
				return bad("-d '%s': not a positive number of seconds", optarg);
			break;
		case 'I':
			if (parse_secs(optarg, &o->interval) || (o->interval > 0 && o->interval < 0.01))
				return bad("-I '%s': use 0 (off) or at least 0.01 seconds", optarg);
			break;
		case 'c':
			if (parse_u64(optarg, &v, 0, CPU_SETSIZE - 1))
				return bad("-c '%s': not a CPU number", optarg);
			o->cpu = (int)v;
			break;
		case OPT_SIZE:
			if (parse_u64(optarg, &v, NTAD_PKT_MIN_LEN, GEN_MAX_LEN))
				return bad("--size '%s': use %d..%d bytes", optarg, NTAD_PKT_MIN_LEN, GEN_MAX_LEN);
			o->size = (uint32_t)v;
			have_size = send_only = true;
			break;
		case OPT_IMIX:
			o->imix = send_only = true;
			break;
		case OPT_RATE:
			if (parse_u64(optarg, &o->rate, 1, 1000000000))
				return bad("--rate '%s': use 1..1000000000 packets per second", optarg);
			send_only = true;
			break;
		case OPT_PAYLOAD:
			if (!strcmp(optarg, "full"))
				o->full_payload = true;
			else if (!strcmp(optarg, "seq"))
				o->full_payload = false;
			else
				return bad("--payload '%s': use full or seq", optarg);
			send_only = true;
			break;
		case OPT_SRC_MAC:
		case OPT_DST_MAC:
			if (ntad_parse_mac(optarg, c == OPT_SRC_MAC ? o->pp.src_mac : o->pp.dst_mac))
				return bad("'%s': not a MAC address; use aa:bb:cc:dd:ee:ff", optarg);
			if (c == OPT_SRC_MAC)
				o->have_src_mac = true;
			send_only = true;
			break;
		case OPT_SRC_IP:
		case OPT_DST_IP:
			if (inet_pton(AF_INET, optarg, &in) != 1)
				return bad("'%s': not an IPv4 address", optarg);
			if (c == OPT_SRC_IP)
				o->pp.src_ip = in.s_addr;
			else
				o->pp.dst_ip = in.s_addr;
			send_only = true;
			break;
		case OPT_SPORT:
		case OPT_DPORT:
			if (parse_u64(optarg, &v, 1, 65535))
				return bad("'%s': not a port; use 1..65535", optarg);
			if (c == OPT_SPORT)
				o->pp.sport = (uint16_t)v;
			else
				o->pp.dport = (uint16_t)v;
			send_only = true;
			break;
		case OPT_START_SEQ:
			if (parse_u64(optarg, &v, 0, UINT32_MAX))
				return bad("--start-seq '%s': use 0..4294967295", optarg);
			o->start_seq = (uint32_t)v;
			break;
		case OPT_BATCH:
			if (parse_u64(optarg, &v, 1, 256))
				return bad("--batch '%s': the kernel takes 1..256", optarg);
			o->batch = (uint32_t)v;
			send_only = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			return bad("%s: needs a value", argv[optind - 1]);
		default:
			return bad("%s: unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad("'%s': unexpected argument", argv[optind]);
	if (o->imix && have_size)
		return bad("--imix and --size conflict; give one");
	if (o->cmd == CMD_SELFTEST)
		return 0;
	if (!o->ifname)
		return bad("no interface; give -i IF");
	if (o->cmd == CMD_COUNT && send_only)
		return bad("count takes only -i, -n, -d, -I, -c and --start-seq");
	return 0;
}

/* Raw (host-order) 16-bit word sum of the pattern, as the program adds it. */
static uint64_t pattern_sum(const uint8_t *f, uint32_t len)
{
	uint64_t sum = 0;
	uint32_t i;

	for (i = OFF_PATTERN; i + 1 < len; i += 2) {
		uint16_t w;

		memcpy(&w, f + i, 2);
		sum += w;
	}
	if (i < len) {
		uint16_t w = 0;

		memcpy(&w, f + i, 1);
		sum += w;
	}
	return sum;
}

/* Pattern sum of the template cut to len, as the program adds it. */
static uint64_t cut_sum(const struct gen_ctx *g, uint32_t len)
{
	return pattern_sum(g->tmpl, len < g->tmpl_len ? len : g->tmpl_len);
}

static int make_template(struct gen_ctx *g)
{
	uint32_t len = g->o.imix ? 1500 : g->o.size;

	g->tmpl = calloc(1, len);
	if (!g->tmpl)
		return -ENOMEM;
	if (ntad_pkt_build(g->tmpl, len, &g->o.pp, 0) != len)
		return -EINVAL;
	g->tmpl_len = len;
	return 0;
}

static int if_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int open_skel(struct gen_ctx *g)
{
	int err;

	g->skel = ntad_gen_bpf__open();
	if (!g->skel) {
		fprintf(stderr, "ntad-gen: opening the BPF object: %s\n", strerror(errno));
		return -1;
	}
	g->skel->rodata->full_payload = g->o.full_payload;
	g->skel->rodata->imix = g->o.imix;
	for (int i = 0; i < IMIX_STEPS; i++)
		g->skel->rodata->imix_cycle[i] = (uint16_t)ntad_pkt_imix_len((uint64_t)i);
	err = ntad_gen_bpf__load(g->skel);
	if (err) {
		fprintf(stderr, "ntad-gen: loading the BPF programs: %s (needs root/CAP_BPF)\n",
			strerror(-err));
		return -1;
	}
	if (g->tmpl) {
		for (int i = 0; i < IMIX_STEPS; i++)
			g->skel->bss->pattern_sums[i] =
				cut_sum(g, g->o.imix ? ntad_pkt_imix_len((uint64_t)i) : g->tmpl_len);
	}
	return 0;
}

static uint32_t read_seq(const struct gen_ctx *g)
{
	return __atomic_load_n(&g->skel->bss->next_seq, __ATOMIC_RELAXED);
}

/* One live test run of up to n frames. Returns frames run, or -errno. */
static int64_t run_slice(struct gen_ctx *g, uint32_t n)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = g->tmpl,
		    .data_size_in = g->tmpl_len,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		    .repeat = n,
		    .batch_size = g->o.batch);
	struct xdp_md ctx = { .data_end = g->tmpl_len, .ingress_ifindex = (uint32_t)g->ifindex };
	uint32_t before = read_seq(g);
	int err;

	opts.ctx_in = &ctx;
	opts.ctx_size_in = sizeof(ctx);
	err = bpf_prog_test_run_opts(bpf_program__fd(g->skel->progs.ntad_gen), &opts);
	if (err && errno != EINTR)
		return -errno;
	return (uint32_t)(read_seq(g) - before);
}

/* The interval lines of send: the program's counter, read through the mmap. */
static void *send_reporter(void *arg)
{
	struct gen_ctx *g = arg;
	uint32_t last = g->o.start_seq;
	double next = g->t0 + g->o.interval;

	while (!stop) {
		double now = now_s();
		uint32_t seq;

		if (now < next) {
			struct timespec ts = { 0, 1000 * 1000 };

			nanosleep(&ts, NULL);
			continue;
		}
		seq = read_seq(g);
		printf("t=%.3f sent=%u pps=%.0f\n", now - g->t0, seq - g->o.start_seq,
		       (double)(seq - last) / g->o.interval);
		fflush(stdout);
		last = seq;
		next += g->o.interval;
	}
	return NULL;
}

static int cmd_send(struct gen_ctx *g)
{
	const struct gen_opts *o = &g->o;
	uint64_t sent = 0, bytes = 0;
	uint32_t seq0;
	double now;
	pthread_t reporter;
	bool have_reporter = false;
	char size[16];
	int err;

	if (!o->have_src_mac && if_mac(o->ifname, g->o.pp.src_mac))
		fprintf(stderr, "ntad-gen: %s: no MAC address read; using the default source MAC\n", o->ifname);
	err = make_template(g);
	if (err) {
		fprintf(stderr, "ntad-gen: building the frame template: %s\n", strerror(-err));
		return 1;
	}
	if (open_skel(g))
		return 1;
	g->skel->bss->next_seq = o->start_seq;

	g->t0 = now_s();
	if (o->duration > 0) {
		struct itimerval it = { { 0, 0 }, { (time_t)o->duration,
			(suseconds_t)((o->duration - (double)(time_t)o->duration) * 1e6) } };

		if (!it.it_value.tv_sec && !it.it_value.tv_usec)
			it.it_value.tv_usec = 1;
		setitimer(ITIMER_REAL, &it, NULL);
	}
	if (o->interval > 0) {
		sigset_t all, old;

		/* Signals stay with the main thread, the one in the test run. */
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		have_reporter = !pthread_create(&reporter, NULL, send_reporter, g);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	while (!stop) {
		uint32_t n = MAX_SLICE;
		int64_t ran;

		if (o->count) {
			if (sent >= o->count)
				break;
			if (o->count - sent < n)
				n = (uint32_t)(o->count - sent);
		}
		if (o->rate) {
			double due = g->t0 + (double)sent / (double)o->rate;

			now = now_s();
			if (due > now) {
				struct timespec ts;
				double d = due - now;

				ts.tv_sec = (time_t)d;
				ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
				nanosleep(&ts, NULL);
				continue;
			}
			if (o->rate / 10 + 1 < n)
				n = (uint32_t)(o->rate / 10 + 1);
		}
		seq0 = read_seq(g);
		ran = run_slice(g, n);
		if (ran < 0) {
			stop = 1;
			fprintf(stderr, "ntad-gen: BPF_PROG_RUN on %s: %s%s\n", o->ifname, strerror((int)-ran),
				ran == -EOPNOTSUPP || ran == -EINVAL ?
				" (live frames need kernel 5.18+ and an XDP-capable interface)" : "");
			err = 1;
			break;
		}
		sent += (uint64_t)ran;
		if (o->imix) {
			for (uint32_t i = 0; i < IMIX_STEPS && i < ran; i++)
				bytes += ntad_pkt_imix_len((uint64_t)(seq0 + i)) *
					 (((uint64_t)ran - i + IMIX_STEPS - 1) / IMIX_STEPS);
		} else {
			bytes += (uint64_t)ran * o->size;
		}
	}
	now = now_s() - g->t0;
	stop = 1;
	if (have_reporter)
		pthread_join(reporter, NULL);
	if (o->imix)
		snprintf(size, sizeof(size), "imix");
	else
		snprintf(size, sizeof(size), "%u", o->size);
	printf("sent=%" PRIu64 " bytes=%" PRIu64 " elapsed=%.3f pps=%.0f size=%s payload=%s cpu=%d next_seq=%u\n",
	       sent, bytes, now, now > 0 ? (double)sent / now : 0, size,
	       o->full_payload ? "full" : "seq", sched_getcpu(), read_seq(g));
	return err ? 1 : 0;
}

static void sum_counts(const struct gen_ctx *g, struct gen_totals *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < GEN_MAX_CPUS; i++) {
		const volatile struct gen_count *c = &g->skel->bss->counts[i];

		s->packets += c->packets;
		s->bytes += c->bytes;
		s->ours += c->ours;
	}
	for (int i = 0; i < GEN_MAX_QUEUES; i++)
		s->in_order += g->skel->bss->seqs[i].in_order;
}

static int cmd_count(struct gen_ctx *g)
{
	const struct gen_opts *o = &g->o;
	struct gen_totals s, last = { 0 };
	double t0, now, next_report, deadline;

	if (open_skel(g))
		return 1;
	for (int i = 0; i < GEN_MAX_QUEUES; i++)
		g->skel->bss->seqs[i].next_seq = o->start_seq;
	g->link = bpf_program__attach_xdp(g->skel->progs.ntad_gen_count, g->ifindex);
	if (!g->link) {
		fprintf(stderr, "ntad-gen: attaching the counter to %s: %s%s\n", o->ifname, strerror(errno),
			errno == EBUSY || errno == EEXIST ?
			" (another XDP program is attached there; detach it first)" : "");
		return 1;
	}
	/* Scripts wait for this line before they start sending. */
	printf("attached %s ifindex=%d\n", o->ifname, g->ifindex);
	fflush(stdout);

	t0 = now_s();
	next_report = o->interval > 0 ? t0 + o->interval : INFINITY;
	deadline = o->duration > 0 ? t0 + o->duration : INFINITY;
	while (!stop) {
		struct timespec ts = { 0, 2 * 1000 * 1000 };

		now = now_s();
		if (now >= deadline)
			break;
		sum_counts(g, &s);
		if (o->count && s.packets >= o->count)
			break;
		if (now >= next_report) {
			printf("t=%.3f received=%" PRIu64 " pps=%.0f\n", now - t0, s.packets,
			       (double)(s.packets - last.packets) / o->interval);
			fflush(stdout);
			last = s;
			next_report += o->interval;
		}
		nanosleep(&ts, NULL);
	}
	now = now_s() - t0;
	sum_counts(g, &s);
	printf("received=%" PRIu64 " bytes=%" PRIu64 " ours=%" PRIu64 " in_order=%" PRIu64
	       " elapsed=%.3f pps=%.0f\n", s.packets, s.bytes, s.ours, s.in_order, now,
	       now > 0 ? (double)s.packets / now : 0);
	return 0;
}

/*
 * Non-live test runs return the program's output, so every size and a spread
 * of sequence numbers can be checked against pkt.c, the receivers' reference.
 * g->tmpl is the template of the run (len bytes, or 1500 for IMIX).
 */
static int selftest_one(struct gen_ctx *g, uint32_t seq)
{
	static uint8_t out[GEN_MAX_LEN], want[GEN_MAX_LEN];
	uint32_t len = g->o.imix ? ntad_pkt_imix_len(seq) : g->tmpl_len;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = g->tmpl, .data_size_in = g->tmpl_len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	const char *what = g->o.full_payload ? "full" : "seq";
	uint32_t got_seq = ~seq;
	int err;

	ntad_pkt_build(want, len, &g->o.pp, seq);
	g->skel->bss->next_seq = seq;
	err = bpf_prog_test_run_opts(bpf_program__fd(g->skel->progs.ntad_gen), &opts);
	if (err) {
		fprintf(stderr, "ntad-gen: selftest: BPF_PROG_RUN: %s\n", strerror(errno));
		return -1;
	}
	if (opts.retval != XDP_TX || opts.data_size_out != len) {
		fprintf(stderr, "ntad-gen: selftest: %s%s len %u seq %u: verdict %u, %u bytes out\n", what,
			g->o.imix ? " imix" : "", len, seq, opts.retval, opts.data_size_out);
		return -1;
	}
	if (g->o.full_payload) {
		err = ntad_pkt_verify(out, len, &got_seq);
		if (err || got_seq != seq || memcmp(out, want, len)) {
			fprintf(stderr, "ntad-gen: selftest: full%s len %u seq %u: %s, seq %u, %s\n",
				g->o.imix ? " imix" : "", len, seq, ntad_pkt_strerror(err), got_seq,
				memcmp(out, want, len) ? "differs from ntad_pkt_build" : "same bytes");
			return -1;
		}
		return 0;
	}
	/*
	 * seq payload: headers, lengths and seq as ntad_pkt_build writes them,
	 * pattern and payload checksum those of the template (seq 0); the UDP
	 * checksum must still be valid over what was sent.
	 */
	memcpy(want + OFF_PATTERN - 4, g->tmpl + OFF_PATTERN - 4, len - (OFF_PATTERN - 4));
	memcpy(want + 40, out + 40, 2); /* UDP checksum: checked below */
	err = memcmp(out, want, len);
	if (!err) {
		uint64_t sum = 0x11 + (uint64_t)(len - 34);
		uint32_t i;

		for (i = 26; i < 34; i += 2)
			sum += (uint64_t)(out[i] << 8 | out[i + 1]);
		for (i = 34; i + 1 < len; i += 2)
			sum += (uint64_t)(out[i] << 8 | out[i + 1]);
		if (i < len)
			sum += (uint64_t)out[i] << 8;
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		err = sum != 0xffff;
	}
	if (err) {
		fprintf(stderr, "ntad-gen: selftest: seq%s len %u seq %u: headers or UDP checksum wrong\n",
			g->o.imix ? " imix" : "", len, seq);
		return -1;
	}
	return 0;
}

/*
 * Load the program once for the payload mode in g->o, then check a spread of
 * seqs on every fixed size (only the template changes) and on IMIX (imix is a
 * load-time constant: a second load).
 */
static int selftest_mode(struct gen_ctx *g, unsigned int *checked)
{
	static const uint32_t seqs[] = { 0, 1, 2, 11, 12, 255, 256, 65535, 65536, 0x7fffffff,
					 0xfffffff3, 0xfffffffe, 0xffffffff };
	int rc = 0;

	for (int imix = 0; imix <= 1 && !rc; imix++) {
		uint32_t lo = imix ? 1500 : NTAD_PKT_MIN_LEN, hi = imix ? 1500 : GEN_MAX_LEN;

		g->o.imix = imix;
		g->o.size = lo;
		free(g->tmpl);
		g->tmpl = NULL;
		if (make_template(g) || open_skel(g))
			return -1;
		for (uint32_t len = lo; len <= hi && !rc; len++) {
			free(g->tmpl);
			g->o.size = len;
			if (make_template(g))
				return -1;
			for (int i = 0; i < IMIX_STEPS; i++)
				g->skel->bss->pattern_sums[i] =
					cut_sum(g, imix ? ntad_pkt_imix_len((uint64_t)i) : len);
			for (unsigned int i = 0; i < sizeof(seqs) / sizeof(seqs[0]) && !rc; i++, (*checked)++)
				rc = selftest_one(g, seqs[i]);
			for (uint32_t s = 1000; s < 1000 + 3 * IMIX_STEPS && imix && !rc; s++, (*checked)++)
				rc = selftest_one(g, s);
		}
		ntad_gen_bpf__destroy(g->skel);
		g->skel = NULL;
	}
	return rc;
}

static int cmd_selftest(struct gen_ctx *g)
{
	unsigned int checked = 0;

	for (int full = 1; full >= 0; full--) {
		g->o.full_payload = full;
		if (selftest_mode(g, &checked))
			return 1;
	}
	printf("selftest=ok frames=%u sizes=%d..%d and imix, payloads full and seq\n", checked,
	       NTAD_PKT_MIN_LEN, GEN_MAX_LEN);
	return 0;
}

int main(int argc, char **argv)
{
	struct gen_ctx g;
	struct sigaction sa;
	int rc;

	memset(&g, 0, sizeof(g));
	rc = parse_args(argc, argv, &g.o);
	if (rc)
		return rc;
	libbpf_set_print(libbpf_print);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: a test run returns on a signal */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);

	if (g.o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(g.o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "ntad-gen: -c %d: %s\n", g.o.cpu, strerror(errno));
			return 1;
		}
	}
	if (g.o.cmd != CMD_SELFTEST) {
		g.ifindex = (int)if_nametoindex(g.o.ifname);
		if (!g.ifindex) {
			fprintf(stderr, "ntad-gen: %s: no such interface in this namespace\n", g.o.ifname);
			return 1;
		}
	}
	switch (g.o.cmd) {
	case CMD_SEND:
		rc = cmd_send(&g);
		break;
	case CMD_COUNT:
		rc = cmd_count(&g);
		break;
	default:
		rc = cmd_selftest(&g);
		break;
	}
	bpf_link__destroy(g.link);
	ntad_gen_bpf__destroy(g.skel);
	free(g.tmpl);
	return rc;
}
