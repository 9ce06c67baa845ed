// SPDX-License-Identifier: MIT
/*
 * ntad-peer.c - the traffic tool of the functional tests, run on the peer end
 * of the veth pair ntad works on.
 *
 *   ntad-peer send -i IF -n COUNT [sizes] [addresses] [--rate PPS] [--start-seq S]
 *   ntad-peer recv -i IF [-n COUNT] [--timeout MS] [--start-seq S] [--gap US]
 *   ntad-peer echo -i IF -n COUNT [sizes] [addresses] [--expect-swapped-macs]
 *                  [--timeout MS] [--window N]
 *   ntad-peer raw -i IF -n COUNT --kind KIND [addresses] [--rate PPS]
 *
 * It speaks AF_PACKET, deliberately not AF_XDP: the tests check ntad's AF_XDP
 * path, so the other end must not share its bugs. Frames are include/ntad_pkt.h test
 * frames, so every received frame is checked byte for byte and by sequence
 * number. Sockets: one raw socket bound to the interface for sending, one for
 * receiving with PACKET_IGNORE_OUTGOING, so our own transmissions are never
 * mistaken for returned frames; batches go through sendmmsg/recvmmsg.
 *
 * Accounting (the last line of output, key=value):
 *   sent      frames handed to the kernel
 *   received  frames carrying the ntad magic (other traffic, such as ARP or
 *             IPv6 ND, is ignored and not counted)
 *   valid     received, passed ntad_pkt_verify and the mode's checks (length
 *             as sent, swapped MACs, sequence number in the expected range)
 *   invalid   received but not valid
 *   dup       valid frames whose sequence number was seen before
 *   reordered valid frames that arrived after a higher sequence number
 *   lost      expected sequence numbers never seen
 *   rx_bps    bits per second of the valid frames' bytes (without FCS) from
 *             the first valid frame's arrival to the last's (a shaper's rate)
 *   gaps      recv --gap US: silences longer than US microseconds between
 *             valid frames (a delay line's slots: bursts - 1)
 *   burst_max recv --gap US: the most valid frames between two such gaps
 * The expected numbers are start-seq .. start-seq + COUNT - 1 (for recv
 * without -n: up to the highest seen). Exit 0 iff invalid, dup and lost are
 * all 0 and (with -n) every expected frame arrived; 1 otherwise; 2 for bad
 * usage. SIGINT/SIGTERM end the run early, still with the summary.
 *
 * raw sends malformed and unusual frames for robustness tests (see
 * raw_frame()): runt (14..59 bytes), trunc (a test frame cut inside its IPv4
 * or UDP header), bad-ip-len (IHL and total/UDP lengths that lie), vlan and
 * qinq (a valid test frame behind one or two tags), arp, ipv6 (UDP over IPv6),
 * max (valid test frames of exactly MTU + 14 bytes) or mixed (all of them in
 * turn). Only max frames pass ntad_pkt_verify; all others fail it. The frames
 * are derived from their index, so a run is reproducible.
 *
 * --sports A,B,.. gives frame i (relative number) UDP source port
 * sports[i % n] instead of the one --sport: with a steering program that maps
 * source ports to queues (tests/net/test_multiqueue.sh), one sender spreads its
 * frames over several queues round-robin, and echo checks them all.
 *
 * echo keeps at most --window frames in flight (default 64) so that the veth
 * rings between the peer and ntad never overflow: a loss then means ntad lost
 * the frame, not that this tool outran it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ntad_pkt.h"

#define BATCH 32
#define RX_BUF 16384       /* above the largest frame we build: truncation shows up */
#define MAX_SIZES 64
#define MAX_SPORTS 64
#define MAX_SEQ_SPAN (1u << 26) /* recv without -n tracks this many numbers at most */
#define MAX_REPORTS 10     /* invalid frames described on stderr */

enum mode { MODE_SEND, MODE_RECV, MODE_ECHO, MODE_RAW };

enum raw_kind { RAW_RUNT, RAW_TRUNC, RAW_BAD_IP_LEN, RAW_VLAN, RAW_QINQ, RAW_ARP, RAW_IPV6,
		RAW_MAX, RAW_MIXED, RAW_NR };
static const char *const raw_names[RAW_NR] = {
	"runt", "trunc", "bad-ip-len", "vlan", "qinq", "arp", "ipv6", "max", "mixed",
};

struct opts {
	enum mode mode;
	const char *ifname;
	uint64_t count;
	bool have_count;
	uint32_t sizes[MAX_SIZES];
	unsigned nr_sizes;
	uint16_t sports[MAX_SPORTS]; /* --sports, round-robin by frame number */
	unsigned nr_sports;
	bool have_sport;
	bool imix;
	bool have_dst_mac, have_src_mac;
	struct ntad_pkt_params pp;
	uint64_t rate;
	uint32_t start_seq;
	int timeout_ms;
	uint64_t gap_ns;
	bool expect_swapped;
	unsigned window;
	enum raw_kind kind;
	bool have_kind;
};

struct stats {
	uint64_t sent, received, valid, invalid, dup, reordered, lost;
	uint64_t first_ns, last_ns, span_bytes; /* valid frames: arrival of the first and last, bytes after the first */
	uint64_t gaps, burst, burst_max;        /* --gap: silences, frames since the last, the most */
};

/* Sequence numbers seen, relative to start_seq, growing on demand. */
struct seen {
	uint8_t *bits;
	uint64_t nbits;
	uint64_t max_rel; /* highest valid relative number seen, + 1 */
};

struct peer {
	struct opts o;
	int ifindex;
	unsigned mtu;
	int tx_fd, rx_fd;
	struct stats st;
	struct seen seen;
	unsigned reports;
	uint8_t (*rxbuf)[RX_BUF];
	uint8_t (*txbuf)[NTAD_PKT_MAX_LEN];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ntad-peer send -i IF -n COUNT [--size N | --imix | --sizes A,B,..]\n"
		"                 [--src-mac M] [--dst-mac M] [--src-ip A] [--dst-ip A]\n"
		"                 [--sport P | --sports P,Q,..] [--dport P] [--rate PPS]\n"
		"                 [--start-seq S]\n"
		"       ntad-peer recv -i IF [-n COUNT] [--timeout MS] [--start-seq S] [--gap US]\n"
		"       ntad-peer echo -i IF -n COUNT [sizes and addresses as send]\n"
		"                 [--expect-swapped-macs] [--timeout MS] [--window N]\n"
		"       ntad-peer raw -i IF -n COUNT --kind runt|trunc|bad-ip-len|vlan|qinq|\n"
		"                 arp|ipv6|max|mixed [addresses] [--rate PPS]\n"
		"Frame sizes are Ethernet lengths without FCS, %d..%d (default 64).\n"
		"Defaults: src MAC of IF, dst MAC ff:ff:ff:ff:ff:ff (echo with\n"
		"--expect-swapped-macs needs --dst-mac), 10.77.0.2:9 -> 10.77.0.1:9,\n"
		"--timeout 2000 (ms of silence that ends recv and echo).\n"
		"Last line: sent= received= valid= invalid= dup= reordered= lost=\n"
		"Exit: 0 all expected frames arrived valid, 1 otherwise, 2 bad usage.\n",
		NTAD_PKT_MIN_LEN, NTAD_PKT_MAX_LEN);
}

__attribute__((format(printf, 1, 2)))
static int bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ntad-peer: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see ntad-peer --help)\n");
	return 2;
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_size(const char *s, uint32_t *out)
{
	uint64_t v;

	if (!parse_u64(s, NTAD_PKT_MAX_LEN, &v) || v < NTAD_PKT_MIN_LEN)
		return false;
	*out = (uint32_t)v;
	return true;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_SIZE = 256, O_IMIX, O_SIZES, O_SRC_MAC, O_DST_MAC, O_SRC_IP, O_DST_IP,
	       O_SPORT, O_SPORTS, O_DPORT, O_RATE, O_START, O_TIMEOUT, O_SWAPPED, O_WINDOW, O_KIND, O_GAP };
	static const struct option lopts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, O_SIZE },
		{ "imix", no_argument, NULL, O_IMIX },
		{ "sizes", required_argument, NULL, O_SIZES },
		{ "src-mac", required_argument, NULL, O_SRC_MAC },
		{ "dst-mac", required_argument, NULL, O_DST_MAC },
		{ "src-ip", required_argument, NULL, O_SRC_IP },
		{ "dst-ip", required_argument, NULL, O_DST_IP },
		{ "sport", required_argument, NULL, O_SPORT },
		{ "sports", required_argument, NULL, O_SPORTS },
		{ "dport", required_argument, NULL, O_DPORT },
		{ "rate", required_argument, NULL, O_RATE },
		{ "start-seq", required_argument, NULL, O_START },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "expect-swapped-macs", no_argument, NULL, O_SWAPPED },
		{ "window", required_argument, NULL, O_WINDOW },
		{ "kind", required_argument, NULL, O_KIND },
		{ "gap", required_argument, NULL, O_GAP },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned size_opts = 0;
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	ntad_pkt_params_default(&o->pp);
	/* The peer talks to ntad's side: 10.77.0.2 -> 10.77.0.1. */
	{
		uint32_t t = o->pp.src_ip;

		o->pp.src_ip = o->pp.dst_ip;
		o->pp.dst_ip = t;
	}
	memset(o->pp.dst_mac, 0xff, 6);
	o->sizes[0] = 64;
	o->nr_sizes = 1;
	o->timeout_ms = 2000;
	o->window = 64;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 1;
	}
	if (!strcmp(argv[1], "send"))
		o->mode = MODE_SEND;
	else if (!strcmp(argv[1], "recv"))
		o->mode = MODE_RECV;
	else if (!strcmp(argv[1], "echo"))
		o->mode = MODE_ECHO;
	else if (!strcmp(argv[1], "raw"))
		o->mode = MODE_RAW;
	else
		return bad_usage("unknown mode '%s': use send, recv, echo or raw", argv[1]);

	optind = 2;
	while ((c = getopt_long(argc, argv, "i:n:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->ifname = optarg;
			break;
		case 'n':
			if (!parse_u64(optarg, UINT32_MAX, &o->count) || !o->count)
				return bad_usage("-n '%s': give a count of 1..4294967295", optarg);
			o->have_count = true;
			break;
		case O_SIZE:
			size_opts++;
			o->nr_sizes = 1;
			if (!parse_size(optarg, &o->sizes[0]))
				return bad_usage("--size '%s': give a frame length of 60..9014", optarg);
			break;
		case O_IMIX:
			size_opts++;
			o->imix = true;
			break;
		case O_SIZES: {
			char *copy = strdup(optarg), *tok, *save = NULL;

			size_opts++;
			o->nr_sizes = 0;
			if (!copy)
				return 2;
			for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (o->nr_sizes == MAX_SIZES || !parse_size(tok, &o->sizes[o->nr_sizes])) {
					free(copy);
					return bad_usage("--sizes '%s': give up to 64 comma-separated "
							 "lengths of 60..9014", optarg);
				}
				o->nr_sizes++;
			}
			free(copy);
			if (!o->nr_sizes)
				return bad_usage("--sizes '%s': no size given", optarg);
			break;
		}
		case O_SRC_MAC:
			if (ntad_parse_mac(optarg, o->pp.src_mac))
				return bad_usage("--src-mac '%s': give aa:bb:cc:dd:ee:ff", optarg);
			o->have_src_mac = true;
			break;
		case O_DST_MAC:
			if (ntad_parse_mac(optarg, o->pp.dst_mac))
				return bad_usage("--dst-mac '%s': give aa:bb:cc:dd:ee:ff", optarg);
			o->have_dst_mac = true;
			break;
		case O_SRC_IP:
			if (inet_pton(AF_INET, optarg, &o->pp.src_ip) != 1)
				return bad_usage("--src-ip '%s': give an IPv4 address", optarg);
			break;
		case O_DST_IP:
			if (inet_pton(AF_INET, optarg, &o->pp.dst_ip) != 1)
				return bad_usage("--dst-ip '%s': give an IPv4 address", optarg);
			break;
		case O_SPORT:
		case O_DPORT:
			if (!parse_u64(optarg, 65535, &v))
				return bad_usage("port '%s': give 0..65535", optarg);
			if (c == O_SPORT) {
				o->pp.sport = (uint16_t)v;
				o->have_sport = true;
			} else {
				o->pp.dport = (uint16_t)v;
			}
			break;
		case O_SPORTS: {
			char *copy = strdup(optarg), *save = NULL, *tok;

			if (!copy)
				return 2;
			o->nr_sports = 0;
			for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (o->nr_sports == MAX_SPORTS || !parse_u64(tok, 65535, &v)) {
					free(copy);
					return bad_usage("--sports '%s': give up to 64 comma-separated "
							 "ports of 0..65535", optarg);
				}
				o->sports[o->nr_sports++] = (uint16_t)v;
			}
			free(copy);
			if (!o->nr_sports)
				return bad_usage("--sports '%s': no port given", optarg);
			break;
		}
		case O_RATE:
			if (!parse_u64(optarg, 100000000, &o->rate) || !o->rate)
				return bad_usage("--rate '%s': give packets per second, 1..100000000", optarg);
			break;
		case O_START:
			if (!parse_u64(optarg, UINT32_MAX, &v))
				return bad_usage("--start-seq '%s': give 0..4294967295", optarg);
			o->start_seq = (uint32_t)v;
			break;
		case O_TIMEOUT:
			if (!parse_u64(optarg, 3600000, &v) || !v)
				return bad_usage("--timeout '%s': give milliseconds, 1..3600000", optarg);
			o->timeout_ms = (int)v;
			break;
		case O_GAP:
			if (!parse_u64(optarg, 60000000, &v) || !v)
				return bad_usage("--gap '%s': give microseconds, 1..60000000", optarg);
			o->gap_ns = v * 1000;
			break;
		case O_SWAPPED:
			o->expect_swapped = true;
			break;
		case O_WINDOW:
			if (!parse_u64(optarg, 4096, &v) || !v)
				return bad_usage("--window '%s': give 1..4096 frames", optarg);
			o->window = (unsigned)v;
			break;
		case O_KIND:
			for (o->kind = 0; o->kind < RAW_NR; o->kind++)
				if (!strcmp(optarg, raw_names[o->kind]))
					break;
			if (o->kind == RAW_NR)
				return bad_usage("--kind '%s': use runt, trunc, bad-ip-len, vlan, qinq, "
						 "arp, ipv6, max or mixed", optarg);
			o->have_kind = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			fprintf(stderr, "ntad-peer: see ntad-peer --help\n");
			return 2;
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument '%s'", argv[optind]);
	if (!o->ifname)
		return bad_usage("%s needs -i IF", argv[1]);
	if (o->mode != MODE_RECV && !o->have_count)
		return bad_usage("%s needs -n COUNT", argv[1]);
	if (size_opts > 1)
		return bad_usage("%s", "give only one of --size, --imix, --sizes");
	if (o->mode == MODE_RECV && (size_opts || o->rate || o->have_dst_mac || o->expect_swapped))
		return bad_usage("%s", "recv takes no sizes, addresses, --rate or --expect-swapped-macs");
	if (o->mode == MODE_ECHO && o->expect_swapped && !o->have_dst_mac)
		return bad_usage("%s", "--expect-swapped-macs needs --dst-mac (the MAC of ntad's interface)");
	if (o->mode != MODE_ECHO && (o->expect_swapped || o->window != 64))
		return bad_usage("%s", "--expect-swapped-macs and --window are for echo");
	if (o->mode != MODE_RECV && o->gap_ns)
		return bad_usage("%s", "--gap is for recv");
	if ((o->mode == MODE_SEND || o->mode == MODE_RAW) && o->timeout_ms != 2000)
		return bad_usage("%s", "--timeout is for recv and echo");
	if ((o->mode == MODE_RAW) != o->have_kind)
		return bad_usage("%s", "raw needs --kind, and --kind is for raw");
	if (o->mode == MODE_RAW && (size_opts || o->start_seq))
		return bad_usage("%s", "raw chooses its own sizes and sequence numbers");
	if (o->nr_sports && (o->have_sport || o->mode == MODE_RECV || o->mode == MODE_RAW))
		return bad_usage("%s", "--sports is for send and echo, instead of --sport");
	return 0;
}

/* ---- frames ------------------------------------------------------------- */

static uint32_t frame_len(const struct opts *o, uint64_t i)
{
	if (o->imix)
		return ntad_pkt_imix_len(i);
	return o->sizes[i % o->nr_sizes];
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int seen_mark(struct seen *s, uint64_t rel)
{
	int was;

	if (rel >= s->nbits) {
		uint64_t n = s->nbits ? s->nbits : 4096;
		uint8_t *b;

		while (n <= rel)
			n *= 2;
		b = realloc(s->bits, n / 8);
		if (!b)
			return -ENOMEM;
		memset(b + s->nbits / 8, 0, (n - s->nbits) / 8);
		s->bits = b;
		s->nbits = n;
	}
	was = s->bits[rel / 8] >> (rel % 8) & 1;
	s->bits[rel / 8] |= (uint8_t)(1u << (rel % 8));
	return was;
}

static bool seen_has(const struct seen *s, uint64_t rel)
{
	return rel < s->nbits && (s->bits[rel / 8] >> (rel % 8) & 1);
}

static void report(struct peer *p, uint32_t seq, const char *what)
{
	if (p->reports++ < MAX_REPORTS)
		fprintf(stderr, "ntad-peer: seq %u: %s\n", seq, what);
	else if (p->reports == MAX_REPORTS + 1)
		fprintf(stderr, "ntad-peer: (more invalid frames not shown)\n");
}

/*
 * Account one received frame. Returns true when it was ours (counted in
 * received), false for other traffic.
 */
static bool account(struct peer *p, const uint8_t *f, size_t len, bool truncated)
{
	const struct opts *o = &p->o;
	uint32_t seq = 0;
	uint64_t rel, t;
	int err = ntad_pkt_verify(f, len, &seq);
	int was;

	/* SHORT means the magic could not even be looked at. */
	if (err == NTAD_PKT_ERR_NOT_OURS || err == NTAD_PKT_ERR_SHORT)
		return false;
	p->st.received++;
	if (truncated) {
		p->st.invalid++;
		report(p, seq, "frame larger than the receive buffer");
		return true;
	}
	if (err) {
		p->st.invalid++;
		report(p, seq, ntad_pkt_strerror(err));
		return true;
	}
	rel = (uint32_t)(seq - o->start_seq);
	if ((o->have_count && rel >= o->count) || (!o->have_count && rel >= MAX_SEQ_SPAN)) {
		p->st.invalid++;
		report(p, seq, "outside the expected sequence numbers");
		return true;
	}
	if (o->mode == MODE_ECHO && len != frame_len(o, rel)) {
		p->st.invalid++;
		report(p, seq, "length differs from the length sent");
		return true;
	}
	if (o->expect_swapped &&
	    (memcmp(f, o->pp.src_mac, 6) != 0 || memcmp(f + 6, o->pp.dst_mac, 6) != 0)) {
		p->st.invalid++;
		report(p, seq, "MAC addresses not swapped");
		return true;
	}
	p->st.valid++;
	t = now_ns();
	if (p->o.gap_ns && p->st.valid > 1 && t - p->st.last_ns > p->o.gap_ns) {
		p->st.gaps++;
		p->st.burst = 0;
	}
	if (++p->st.burst > p->st.burst_max)
		p->st.burst_max = p->st.burst;
	p->st.last_ns = t;
	if (p->st.valid == 1)
		p->st.first_ns = p->st.last_ns;
	else
		p->st.span_bytes += len;
	was = seen_mark(&p->seen, rel);
	if (was < 0) {
		fprintf(stderr, "ntad-peer: out of memory tracking sequence numbers\n");
		stop = 1;
		return true;
	}
	if (was) {
		p->st.dup++;
		report(p, seq, "duplicate");
	} else if (rel + 1 < p->seen.max_rel) {
		p->st.reordered++;
	}
	if (rel + 1 > p->seen.max_rel)
		p->seen.max_rel = rel + 1;
	return true;
}

/* ---- sockets ------------------------------------------------------------ */

static int open_sockets(struct peer *p)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct ifreq ifr;
	int one = 1, bufsz = 8 << 20;

	p->ifindex = (int)if_nametoindex(p->o.ifname);
	if (!p->ifindex) {
		fprintf(stderr, "ntad-peer: %s: no such interface (in this network namespace?)\n",
			p->o.ifname);
		return -ENODEV;
	}
	/* Protocol 0 at creation: nothing is queued before the bind narrows the
	 * socket to our interface. */
	p->tx_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	p->rx_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (p->tx_fd < 0 || p->rx_fd < 0) {
		fprintf(stderr, "ntad-peer: AF_PACKET socket: %s (needs CAP_NET_RAW)\n", strerror(errno));
		return -errno;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", p->o.ifname);
	if (ioctl(p->tx_fd, SIOCGIFMTU, &ifr) < 0) {
		fprintf(stderr, "ntad-peer: %s: MTU: %s\n", p->o.ifname, strerror(errno));
		return -errno;
	}
	p->mtu = (unsigned)ifr.ifr_mtu;
	if (!p->o.have_src_mac) {
		if (ioctl(p->tx_fd, SIOCGIFHWADDR, &ifr) < 0) {
			fprintf(stderr, "ntad-peer: %s: MAC address: %s\n", p->o.ifname, strerror(errno));
			return -errno;
		}
		memcpy(p->o.pp.src_mac, ifr.ifr_hwaddr.sa_data, 6);
	}

	sll.sll_ifindex = p->ifindex;
	sll.sll_protocol = 0; /* the sending socket receives nothing */
	if (bind(p->tx_fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		fprintf(stderr, "ntad-peer: bind %s: %s\n", p->o.ifname, strerror(errno));
		return -errno;
	}
	if (p->o.mode != MODE_SEND && p->o.mode != MODE_RAW) {
		if (setsockopt(p->rx_fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0) {
			fprintf(stderr, "ntad-peer: PACKET_IGNORE_OUTGOING: %s\n", strerror(errno));
			return -errno;
		}
		/* A big queue: the kernel then never drops what ntad returns
		 * while we are busy sending. FORCE needs root, plain is a fallback. */
		if (setsockopt(p->rx_fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz)) < 0)
			setsockopt(p->rx_fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
		sll.sll_protocol = htons(ETH_P_ALL);
		if (bind(p->rx_fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			fprintf(stderr, "ntad-peer: bind %s: %s\n", p->o.ifname, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* Check every size fits the interface's MTU, with a message that says so. */
static int check_sizes(const struct peer *p)
{
	const struct opts *o = &p->o;
	uint32_t max = 0;

	if (o->imix)
		max = 1500;
	for (unsigned i = 0; !o->imix && i < o->nr_sizes; i++)
		if (o->sizes[i] > max)
			max = o->sizes[i];
	if (max - 14 > p->mtu) {
		fprintf(stderr, "ntad-peer: frame length %u needs an MTU of %u, %s has %u; "
			"use smaller frames or raise the MTU\n", max, max - 14, o->ifname, p->mtu);
		return -EMSGSIZE;
	}
	return 0;
}

/* ---- raw frames ---------------------------------------------------------- */

static uint32_t mix32(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (uint32_t)x;
}

static void put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Test frame of len bytes behind `tags` VLAN tags (802.1ad outer for two). */
static uint32_t tagged(struct peer *p, uint64_t i, uint8_t *buf, unsigned tags)
{
	uint32_t len = 64 + mix32(i) % (1500 - 64 - 4 * tags + 1);

	ntad_pkt_build(buf + 4 * tags, len, &p->o.pp, (uint32_t)i);
	memmove(buf, buf + 4 * tags, 12); /* MACs in front of the tags */
	for (unsigned t = 0; t < tags; t++) {
		uint8_t *tag = buf + 12 + 4 * t;

		put16be(tag, t == 0 && tags == 2 ? 0x88a8 : 0x8100);
		put16be(tag + 2, (uint16_t)(1 + (i + t) % 4094)); /* TCI: VID 1..4094 */
	}
	return len + 4 * tags;
}

/*
 * Frame i of --kind into buf; returns its length. None of these but max is a
 * valid ntad test frame. Every kind stays within the MTU.
 */
static uint32_t raw_frame(struct peer *p, uint64_t i, uint8_t *buf)
{
	enum raw_kind k = p->o.kind == RAW_MIXED ? (enum raw_kind)(i % RAW_MIXED) : p->o.kind;
	uint32_t r = mix32(i), len;

	switch (k) {
	case RAW_RUNT:
		/* An Ethernet header claiming IPv4, then 0..45 bytes of noise:
		 * shorter than the 60-byte minimum, shorter than our headers. */
		len = 14 + r % 46;
		ntad_pkt_build(buf, 64, &p->o.pp, (uint32_t)i);
		for (uint32_t b = 14; b < len; b++)
			buf[b] = (uint8_t)mix32(i * 131 + b);
		return len;
	case RAW_TRUNC:
		/* A test frame cut inside the IPv4 (15..33) or UDP (34..41) header. */
		ntad_pkt_build(buf, 64, &p->o.pp, (uint32_t)i);
		return 15 + r % 27;
	case RAW_BAD_IP_LEN: {
		static const uint16_t tot[] = { 0, 19, 20, 28, 1500, 65535 };
		static const uint8_t ihl[] = { 0x40, 0x44, 0x45, 0x4f, 0x46 };

		len = 60 + r % (1514 - 60 + 1);
		ntad_pkt_build(buf, len, &p->o.pp, (uint32_t)i);
		buf[14] = ihl[(r >> 8) % 5];
		put16be(buf + 16, tot[(r >> 12) % 6]);
		put16be(buf + 38, (uint16_t)(r >> 16)); /* UDP length */
		if (buf[14] == 0x45 && ((r >> 12) % 6) == 4 && len == 1514)
			put16be(buf + 16, 1); /* never the true length by chance */
		return len;
	}
	case RAW_VLAN:
		return tagged(p, i, buf, 1);
	case RAW_QINQ:
		return tagged(p, i, buf, 2);
	case RAW_ARP: {
		static const uint8_t arp[] = { 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01 };

		len = 60;
		memset(buf, 0, len);
		memcpy(buf, p->o.pp.dst_mac, 6);
		memcpy(buf + 6, p->o.pp.src_mac, 6);
		put16be(buf + 12, 0x0806);
		memcpy(buf + 14, arp, sizeof(arp));
		memcpy(buf + 22, p->o.pp.src_mac, 6);
		memcpy(buf + 28, &p->o.pp.src_ip, 4);
		memcpy(buf + 38, &p->o.pp.dst_ip, 4);
		return len;
	}
	case RAW_IPV6:
		/* IPv6 + UDP to port 9, payload noise; 62..1514 bytes. */
		len = 62 + r % (1514 - 62 + 1);
		memcpy(buf, p->o.pp.dst_mac, 6);
		memcpy(buf + 6, p->o.pp.src_mac, 6);
		put16be(buf + 12, 0x86dd);
		memset(buf + 14, 0, 40);
		buf[14] = 0x60;
		put16be(buf + 18, (uint16_t)(len - 54));
		buf[20] = 17;  /* next header: UDP */
		buf[21] = 64;
		buf[22] = 0xfe; buf[23] = 0x80; buf[37] = 2;  /* fe80::2 -> fe80::1 */
		buf[38] = 0xfe; buf[39] = 0x80; buf[53] = 1;
		put16be(buf + 54, 9);
		put16be(buf + 56, 9);
		put16be(buf + 58, (uint16_t)(len - 54));
		put16be(buf + 60, 0);
		for (uint32_t b = 62; b < len; b++)
			buf[b] = (uint8_t)(b ^ i);
		return len;
	case RAW_MAX:
	default:
		len = p->mtu + 14 > NTAD_PKT_MAX_LEN ? NTAD_PKT_MAX_LEN : p->mtu + 14;
		ntad_pkt_build(buf, len, &p->o.pp, (uint32_t)i);
		return len;
	}
}

/* ---- send and receive --------------------------------------------------- */

/*
 * Send frames [first, first + n) (relative numbers), honouring --rate.
 * Returns how many were handed to the kernel; fewer only on stop or error.
 */
static uint64_t send_frames(struct peer *p, uint64_t first, uint64_t n, uint64_t t0)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint64_t done = 0;

	while (done < n && !stop) {
		unsigned k = (unsigned)(n - done < BATCH ? n - done : BATCH);
		int r;

		if (p->o.rate) {
			/* Frames allowed by now at --rate, counted from the start. */
			uint64_t due = (now_ns() - t0) * p->o.rate / 1000000000ull + 1;
			uint64_t sent = p->st.sent;

			if (due <= sent) {
				struct timespec ts = { 0, (long)((1000000000ull / p->o.rate) / 2 + 1) };

				nanosleep(&ts, NULL);
				continue;
			}
			if (due - sent < k)
				k = (unsigned)(due - sent);
		}
		for (unsigned j = 0; j < k; j++) {
			uint64_t rel = first + done + j;
			uint32_t len;

			if (p->o.mode == MODE_RAW) {
				len = raw_frame(p, rel, p->txbuf[j]);
			} else {
				struct ntad_pkt_params pp = p->o.pp;

				if (p->o.nr_sports)
					pp.sport = p->o.sports[rel % p->o.nr_sports];
				len = frame_len(&p->o, rel);
				ntad_pkt_build(p->txbuf[j], len, &pp, (uint32_t)(p->o.start_seq + rel));
			}
			iov[j] = (struct iovec){ p->txbuf[j], len };
			msgs[j] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[j], .msg_iovlen = 1 } };
		}
		r = sendmmsg(p->tx_fd, msgs, k, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS || errno == EAGAIN) {
				/* The device queue is full: let it drain. */
				struct timespec ts = { 0, 50000 };

				nanosleep(&ts, NULL);
				continue;
			}
			fprintf(stderr, "ntad-peer: send on %s: %s\n", p->o.ifname, strerror(errno));
			stop = 1;
			break;
		}
		done += (uint64_t)r;
		p->st.sent += (uint64_t)r;
	}
	return done;
}

/*
 * Receive what is there, waiting up to wait_ms for the first frame. Returns
 * the number of our frames received, or -1 on a socket error.
 */
static int recv_some(struct peer *p, int wait_ms)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct pollfd pfd = { .fd = p->rx_fd, .events = POLLIN };
	int r, ours = 0;

	r = poll(&pfd, 1, wait_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -1;
	if (r == 0)
		return 0;
	for (;;) {
		for (unsigned j = 0; j < BATCH; j++) {
			iov[j] = (struct iovec){ p->rxbuf[j], RX_BUF };
			msgs[j] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[j], .msg_iovlen = 1 } };
		}
		r = recvmmsg(p->rx_fd, msgs, BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return ours;
			fprintf(stderr, "ntad-peer: receive on %s: %s\n", p->o.ifname, strerror(errno));
			return -1;
		}
		for (int j = 0; j < r; j++) {
			bool trunc = msgs[j].msg_len > RX_BUF;
			size_t len = trunc ? RX_BUF : msgs[j].msg_len;

			ours += account(p, p->rxbuf[j], len, trunc);
		}
		if (r < BATCH)
			return ours;
	}
}

static int run_send(struct peer *p)
{
	send_frames(p, 0, p->o.count, now_ns());
	return 0;
}

/* Distinct valid frames so far. */
static uint64_t distinct(const struct peer *p)
{
	return p->st.valid - p->st.dup;
}

static int run_recv(struct peer *p)
{
	uint64_t last = now_ns();

	while (!stop) {
		int r;

		if (p->o.have_count && distinct(p) >= p->o.count)
			break;
		r = recv_some(p, 100);
		if (r < 0)
			return -1;
		if (r > 0)
			last = now_ns();
		else if (now_ns() - last >= (uint64_t)p->o.timeout_ms * 1000000ull)
			break;
	}
	return 0;
}

static int run_echo(struct peer *p)
{
	uint64_t t0 = now_ns(), last = t0, next = 0;

	while (!stop && distinct(p) < p->o.count) {
		uint64_t in_flight = next - distinct(p);
		int r;

		if (next < p->o.count && in_flight < p->o.window) {
			uint64_t n = p->o.window - in_flight;

			if (n > p->o.count - next)
				n = p->o.count - next;
			next += send_frames(p, next, n, t0);
			if (next > distinct(p))
				last = now_ns(); /* silence counts from the last send */
		}
		r = recv_some(p, next < p->o.count && next - distinct(p) < p->o.window ? 0 : 10);
		if (r < 0)
			return -1;
		if (r > 0)
			last = now_ns();
		else if (now_ns() - last >= (uint64_t)p->o.timeout_ms * 1000000ull)
			break;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct peer p = { .tx_fd = -1, .rx_fd = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t expected, got = 0;
	int rc;

	rc = parse_args(argc, argv, &p.o);
	if (rc)
		return rc == 1 ? 0 : rc;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	p.rxbuf = calloc(BATCH, RX_BUF);
	p.txbuf = calloc(BATCH, NTAD_PKT_MAX_LEN);
	if (!p.rxbuf || !p.txbuf) {
		fprintf(stderr, "ntad-peer: out of memory\n");
		return 1;
	}
	if (open_sockets(&p) || (p.o.mode != MODE_RECV && check_sizes(&p))) {
		rc = 2;
		goto out;
	}

	switch (p.o.mode) {
	case MODE_SEND:
	case MODE_RAW:
		rc = run_send(&p);
		break;
	case MODE_RECV:
		rc = run_recv(&p);
		break;
	case MODE_ECHO:
		rc = run_echo(&p);
		break;
	}

	if (p.o.mode == MODE_SEND || p.o.mode == MODE_RAW) {
		expected = 0;
	} else {
		expected = p.o.have_count ? p.o.count : p.seen.max_rel;
		for (uint64_t i = 0; i < expected; i++)
			got += seen_has(&p.seen, i);
		p.st.lost = expected - got;
	}
	/* rx_bps: frame bytes (no FCS) after the first valid frame over the time to the last one. */
	printf("sent=%llu received=%llu valid=%llu invalid=%llu dup=%llu reordered=%llu lost=%llu rx_bps=%.0f",
	       (unsigned long long)p.st.sent, (unsigned long long)p.st.received,
	       (unsigned long long)p.st.valid, (unsigned long long)p.st.invalid,
	       (unsigned long long)p.st.dup, (unsigned long long)p.st.reordered,
	       (unsigned long long)p.st.lost,
	       p.st.last_ns > p.st.first_ns ? p.st.span_bytes * 8e9 / (double)(p.st.last_ns - p.st.first_ns) : 0);
	if (p.o.gap_ns)
		printf(" gaps=%llu burst_max=%llu", (unsigned long long)p.st.gaps,
		       (unsigned long long)p.st.burst_max);
	putchar('\n');
	if (rc)
		rc = 1;
	else if (p.o.mode == MODE_SEND || p.o.mode == MODE_RAW)
		rc = p.st.sent == p.o.count ? 0 : 1;
	else
		rc = p.st.invalid || p.st.dup || p.st.lost ? 1 : 0;
out:
	if (p.tx_fd >= 0)
		close(p.tx_fd);
	if (p.rx_fd >= 0)
		close(p.rx_fd);
	free(p.rxbuf);
	free(p.txbuf);
	free(p.seen.bits);
	return rc;
}
