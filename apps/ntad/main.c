// SPDX-License-Identifier: MIT
/*
 * main.c - ntad's wiring: check what the user asked for against the system,
 * build the library's objects (UMEM, ports, one queue and worker per queue)
 * in an order that never leaves a half-configured interface, run the workers,
 * report, and tear down in the order that lets every UMEM byte be accounted
 * for.
 *
 * Start order: options -> privileges, interface, queue, MTU, capture file (each failure one
 * line "ntad: thing: problem; fix", exit 1, nothing touched yet) -> UMEM ->
 * ports -> queues (sockets, into the XSKMAP) -> modes -> ports started (fill
 * rings topped up, XDP program attached last), so a failure anywhere before
 * leaves the interface untouched.
 * Stop order: ports stopped (the host gets all traffic back) -> each mode
 * gives back what it holds -> queues drained (RX rings, TX completions) ->
 * queues destroyed (sockets closed) -> the UMEM's ledger swept for buffers the
 * kernel still had -> pool check and bytes in use, which must be zero ->
 * summary.
 *
 * The library never prints: it says what went wrong through its print
 * callback, which keeps the last line here; explain() turns a failed call into
 * the one line the user sees, naming the option that fixes it.
 * Signals arrive through a signalfd polled here; a stop reaches the workers
 * through an eventfd they poll, so SIGINT/SIGTERM stop them at once.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "cli.h"
#include "expr.h"
#include "nta.h"
#include "pcap.h"
#include "run.h"
#include "sizing.h"
#include "stats.h"

#ifndef CAP_BPF
#define CAP_BPF 39 /* kernel 5.8 */
#endif

#define ERRLEN 512

/* A worker and what only main.c needs of it. */
struct ntad_slot {
	struct ntad_worker w;
	bool ready;                  /* its mode is set up */
	pthread_t thread;
	struct ntad_counters prev;   /* at the previous report line */
};

struct ntad_ctx {
	struct ntad_opts o;
	struct ntad_umem *umem;      /* one UMEM for every queue and port */
	struct ntad_port *ports[NTAD_QUEUE_MAX_PORTS];
	unsigned int nr_ports;
	struct ntad_slot *s;         /* o.nr_queues of them */
	struct ntad_worker *workers; /* the same, as an array the capture mode walks */
	unsigned int nr_s;
	struct ntad_run run;
	int sigfd, usr1_fd;
	int stop_fd;                 /* eventfd: readable when the workers must stop */
	int done_fd;                 /* eventfd: a worker's loop has returned */
	bool stop_signal;
	bool capture_unwritten;      /* capture: frames were not written; the run fails */
	bool start_failed;           /* a queue thread could not start: no report, exit 1 */
	uint64_t start;
	struct ntad_counters prev;
	double prev_time;
	struct ntad_queue_report qr[NTAD_MAX_QUEUES];
};

static bool verbose;
static char libmsg[ERRLEN];      /* the library's last warning, without its newline */

static void die_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void die_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("ntad: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

__attribute__((format(printf, 2, 0)))
static int libntad_print(enum ntad_print_level level, const char *fmt, va_list ap)
{
	size_t n;

	if (level == NTAD_WARN) {
		va_list aq;

		va_copy(aq, ap);
		vsnprintf(libmsg, sizeof(libmsg), fmt, aq);
		va_end(aq);
		n = strlen(libmsg);
		if (n && libmsg[n - 1] == '\n')
			libmsg[n - 1] = '\0';
	}
	if (!verbose || level == NTAD_DEBUG)
		return 0;
	fputs("ntad: libntad: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (!verbose || level == LIBXDP_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void nta_print_cb(const char *msg)
{
	fprintf(stderr, "ntad: nta: %s\n", msg);
}

static bool has_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };
	uint64_t eff;

	if (syscall(SYS_capget, &hdr, data))
		return geteuid() == 0;
	eff = (uint64_t)data[1].effective << 32 | data[0].effective;
	return (eff & (1ull << CAP_NET_ADMIN)) && (eff & (1ull << CAP_NET_RAW)) &&
	       ((eff & (1ull << CAP_BPF)) || (eff & (1ull << CAP_SYS_ADMIN)));
}

static int get_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = 0;

	if (fd < 0)
		return -errno;
	memcpy(ifr.ifr_name, ifname, strnlen(ifname, IF_NAMESIZE - 1));
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		ret = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return ret;
}

/* The checks a user can fail before anything is created. */
static int check_interface(struct ntad_opts *o, const char *ifname)
{
	struct ntad_iface_info info;
	unsigned int nq;
	char err[ERRLEN];
	int ret;

	if (ntad_iface_info(ifname, &info) == -ENODEV) {
		die_msg("%s: no such interface; check the name with `ip link` (in the right network namespace)",
			ifname);
		return -ENODEV;
	}
	nq = info.rx_queues < info.tx_queues ? info.rx_queues : info.tx_queues;
	for (unsigned int i = 0; nq && i < o->nr_queues; i++) {
		if (o->queues[i] < nq)
			continue;
		die_msg("%s: queue %u out of range, the interface has %u rx and %u tx queues; use --queue 0..%u%s",
			ifname, o->queues[i], info.rx_queues, info.tx_queues, nq - 1,
			o->nr_queues > 1 ? " and fewer --queues" : "");
		return -ERANGE;
	}
	if (!info.mtu)
		return 0;
	/* Frames larger than a chunk: multi-buffer, or a refusal naming the fix. */
	ret = ntad_frags_decide(o, ifname, info.mtu, err, sizeof(err));
	if (ret) {
		die_msg("%s", err);
		return ret;
	}
	if (o->mode == NTAD_MODE_TXONLY) {
		uint32_t len = o->imix ? 1500 : o->size;

		if (len > info.mtu + 14) {
			die_msg("%s: --size %u larger than the MTU %u allows (%u); use a smaller --size or raise the MTU",
				ifname, len, info.mtu, info.mtu + 14);
			return -EMSGSIZE;
		}
	}
	return 0;
}

/* A socket the kernel would not bind: the line that names the fix. */
static void explain_bind(const struct ntad_opts *o, const char *ifname, uint32_t queue, int ret)
{
	uint32_t max_mtu = o->chunk_size - NTAD_RX_OFFSET - 14;

	if (ret == -EBUSY)
		die_msg("%s queue %u: busy, another AF_XDP socket is bound there; stop it or use another --queue",
			ifname, queue);
	else if (ret == -EPERM || ret == -EACCES)
		die_msg("%s: not allowed to create an AF_XDP socket; ntad needs root (CAP_NET_ADMIN, CAP_NET_RAW)", ifname);
	else if (o->busy_poll && ret == -ENOPROTOOPT)
		die_msg("--busy-poll: %s: the kernel refused busy polling on the socket; drop --busy-poll",
			ifname);
	else if (ret == -EOPNOTSUPP && o->bind == NTAD_BIND_ZEROCOPY && !o->frags)
		die_msg("%s: the driver has no zero-copy AF_XDP; use --bind copy or --bind auto", ifname);
	else if (o->frags && (ret == -EINVAL || ret == -EOPNOTSUPP) && o->frags_mode == NTAD_FRAGS_ON)
		die_msg("%s: multi-buffer AF_XDP (XDP_USE_SG) refused (%s): needs kernel 6.6+ and, for zero-copy, driver support; drop --frags",
			ifname, strerror(-ret));
	else if (o->frags && (ret == -EINVAL || ret == -EOPNOTSUPP) && o->mode == NTAD_MODE_TXONLY)
		die_msg("%s: multi-buffer AF_XDP (XDP_USE_SG) refused (%s), and a %u-byte frame needs it with --chunk-size %u (kernel 6.6+); use --size %u or less",
			ifname, strerror(-ret), o->size, o->chunk_size, o->chunk_size);
	else if (o->frags && (ret == -EINVAL || ret == -EOPNOTSUPP))
		die_msg("%s: multi-buffer AF_XDP (XDP_USE_SG) refused (%s), and the MTU needs it with --chunk-size %u (kernel 6.6+); lower the MTU to %u (ip link set dev %s mtu %u)%s",
			ifname, strerror(-ret), o->chunk_size, max_mtu, ifname, max_mtu,
			o->chunk_size < 4096 ? " or use --chunk-size 4096 (MTU up to 3826)" : "");
	else
		die_msg("%s queue %u: AF_XDP bind failed (%s); check the interface, --queue and --bind",
			ifname, queue, strerror(-ret));
}

/* An XDP program the kernel would not attach. */
static void explain_attach(const struct ntad_opts *o, const char *ifname, int ret)
{
	bool skb = o->xdp_mode == NTAD_XDP_SKB;

	if (ret == -EOPNOTSUPP && !skb)
		die_msg("%s: native XDP refused, the driver has no XDP support; use --xdp-mode skb", ifname);
	else if (ret == -EBUSY || ret == -EEXIST)
		die_msg("%s: another XDP program is attached; remove it (ip link set dev %s xdp off) or stop its owner",
			ifname, ifname);
	else if (ret == -EPERM || ret == -EACCES)
		die_msg("%s: not allowed to attach XDP; ntad needs root (CAP_NET_ADMIN, CAP_BPF)", ifname);
	else if (ret == -ERANGE || ret == -E2BIG)
		die_msg("%s: the MTU is too large for XDP on this driver; lower the MTU", ifname);
	else
		die_msg("%s: cannot attach the XDP program in %s mode (%s); try --xdp-mode %s",
			ifname, skb ? "skb" : "native", strerror(-ret), skb ? "native" : "skb");
}

/*
 * capture: the file must be writable before anything is captured (tcpdump
 * opens its file first). A dump's PATH.tmp, or -w's file itself, is created
 * and removed again, so a refusal leaves nothing behind.
 */
static void rt_refused(const struct ntad_opts *o, int err)
{
	die_msg("--rt-priority %u: not permitted (%s); run as root, with CAP_SYS_NICE or an RLIMIT_RTPRIO of at least %u, or drop --rt-priority",
		o->rt_priority, strerror(err), o->rt_priority);
}

/* --rt-priority: tried on this thread and given back, so a refusal comes before anything is attached. */
static int check_rt_priority(const struct ntad_opts *o)
{
	struct sched_param sp = { .sched_priority = (int)o->rt_priority }, other = { 0 };
	int err;

	if (!o->rt_priority)
		return 0;
	err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	if (!err)
		err = pthread_setschedparam(pthread_self(), SCHED_OTHER, &other);
	if (err)
		rt_refused(o, err);
	return err ? 1 : 0;
}

static int check_capture_file(const struct ntad_opts *o)
{
	const char *path = o->write_path[0] ? o->write_path : o->pcap_path;
	struct ntad_pcap_opts po = { .path = path, .snaplen = o->snaplen, .replace = true };
	struct ntad_pcap *pc;

	if (o->mode != NTAD_MODE_CAPTURE || !path[0])
		return 0;
	pc = ntad_pcap_open(&po);
	if (pc) {
		ntad_pcap_abort(pc);
		return 0;
	}
	die_msg("%s %s: cannot write it (%s); give a file in a directory that exists and ntad may write to",
		o->write_path[0] ? "-w" : "--pcap", path, strerror(errno));
	return -errno;
}

static int make_umem(struct ntad_ctx *x)
{
	const struct ntad_opts *o = &x->o;
	LIBNTAD_OPTS(ntad_umem_opts, uo,
		.size = o->umem_size, .chunk_size = o->chunk_size,
		.fill_size = o->fill_size, .comp_size = o->comp_size,
		.pool = o->pool, .nr_queues = o->nr_queues,
		.jumbo_size = ntad_jumbo_bytes(o), .hugepages = o->hugepages);

	x->umem = ntad_umem__create(&uo);
	if (x->umem)
		return 0;
	if (o->hugepages && errno != EINVAL)
		die_msg("--hugepages: cannot map %llu bytes of huge pages (%s); reserve them with `echo N > /proc/sys/vm/nr_hugepages` or drop --hugepages",
			(unsigned long long)o->umem_size, strerror(errno));
	else if (errno == ENOMEM)
		die_msg("--umem-size %llu: cannot map the UMEM (%s); use a smaller --umem-size",
			(unsigned long long)o->umem_size, strerror(errno));
	else
		die_msg("%s; check --umem-size, --chunk-size, --pool and the ring sizes", libmsg);
	return -errno;
}

static int open_ports(struct ntad_ctx *x)
{
	const struct ntad_opts *o = &x->o;
	const char *names[2] = { o->ifname, o->out_ifname };
	LIBNTAD_OPTS(ntad_port_opts, po,
		.tx_only = o->mode == NTAD_MODE_TXONLY, .xdp_mode = o->xdp_mode, .bind = o->bind,
		.rx_size = o->rx_size, .tx_size = o->tx_size, .no_wakeup = !o->need_wakeup,
		.busy_poll = o->busy_poll, .frags = o->frags,
		.rules = o->rules, .nr_rules = o->nr_rules);
	struct ntad_expr *expr = NULL;
	char err[ERRLEN];
	int ret = 0;

	/* capture's expression runs in the XDP program (expr.c; checked by the CLI). */
	if (o->mode == NTAD_MODE_CAPTURE && o->expr[0]) {
		expr = ntad_expr_new("capture filter", o->expr, o->snaplen, err, sizeof(err));
		if (!expr || ntad_expr_cbpf(expr, &po.cbpf, &po.cbpf_len, err, sizeof(err))) {
			die_msg("%s", err);
			ntad_expr_free(expr);
			return -EINVAL;
		}
		po.cbpf_snaplen = o->snaplen;
	}
	x->nr_ports = ntad_two_interfaces(o) ? 2 : 1;
	for (unsigned int i = 0; i < x->nr_ports; i++) {
		x->ports[i] = ntad_port__open(x->umem, names[i], &po);
		if (!x->ports[i]) {
			ret = -errno;
			if (ret == -EPERM || ret == -EACCES)
				die_msg("XDP program: the kernel refused to load it (%s); ntad needs root (CAP_BPF, CAP_NET_ADMIN)",
					strerror(-ret));
			else
				die_msg("%s; run with -v for the details", libmsg[0] ? libmsg : strerror(-ret));
			break;
		}
	}
	ntad_expr_free(expr); /* the ports have their copy */
	return ret;
}

static const struct ntad_mode_ops *mode_of(enum ntad_mode m)
{
	switch (m) {
	case NTAD_MODE_L2FWD: return &ntad_mode_l2fwd;
	case NTAD_MODE_TXONLY: return &ntad_mode_txonly;
	case NTAD_MODE_FWD: return &ntad_mode_fwd;
	case NTAD_MODE_DELAY: return &ntad_mode_delay;
	case NTAD_MODE_CAPTURE: return &ntad_mode_capture;
	case NTAD_MODE_RXDROP: break;
	}
	return &ntad_mode_rxdrop;
}

/* One queue: its sockets (one per port), its worker and the mode's state. */
static int setup_queue(struct ntad_ctx *x, unsigned int qi)
{
	const struct ntad_opts *o = &x->o;
	struct ntad_worker *w = &x->workers[qi];
	LIBNTAD_OPTS(ntad_queue_opts, qo, .queue_id = o->queues[qi], .batch = o->batch,
		     .copy_break = o->copy_break ? (int32_t)o->copy_break : -1);
	int ret;

	w->q = ntad_queue__create(x->ports, x->nr_ports, &qo);
	if (!w->q) {
		unsigned int k = 0;

		ret = -errno;
		/* the port whose socket failed, and why */
		while (k < x->nr_ports && !ntad_port__sock_error(x->ports[k]))
			k++;
		if (k < x->nr_ports)
			ret = ntad_port__sock_error(x->ports[k]);
		explain_bind(o, k < x->nr_ports ? ntad_port__name(x->ports[k]) : o->ifname,
			     o->queues[qi], ret);
		return ret;
	}
	w->o = o;
	w->mode = mode_of(o->mode);
	w->run = &x->run;
	w->all = x->workers;
	w->index = qi;
	w->nr_workers = x->nr_s;
	w->queue = o->queues[qi];
	w->cpu = o->nr_cpus ? o->cpus[qi] : -1;
	w->ctl_fd = x->stop_fd;
	w->done_fd = x->done_fd;
	w->usr1_fd = qi ? -1 : x->usr1_fd;
	/* --rate is for the whole run: each queue sends its share. */
	w->rate = o->rate ? (o->rate / x->nr_s ? o->rate / x->nr_s : 1) : 0;
	pthread_mutex_init(&w->pub_lock, NULL);
	ret = w->mode->init ? w->mode->init(w) : 0;
	x->s[qi].ready = true; /* fini runs whatever init did */
	if (ret) {
		die_msg("--mode %s: cannot set up queue %u (%s); use a larger --umem-size or fewer --queues",
			w->mode->name, w->queue, strerror(-ret));
		return ret;
	}
	return 0;
}

static int setup(struct ntad_ctx *x)
{
	const struct ntad_opts *o = &x->o;
	int ret;

	x->nr_s = o->nr_queues;
	x->s = calloc(x->nr_s, sizeof(*x->s));
	x->workers = calloc(x->nr_s, sizeof(*x->workers));
	x->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	x->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!x->s || !x->workers || x->stop_fd < 0 || x->done_fd < 0) {
		die_msg("setup: out of memory or file descriptors for %u queues; use fewer --queues", x->nr_s);
		return -ENOMEM;
	}
	if (o->mode == NTAD_MODE_CAPTURE) {
		sigset_t usr1;

		/* Blocked before the workers exist, so they inherit it; worker 0 reads it. */
		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		if (pthread_sigmask(SIG_BLOCK, &usr1, NULL) ||
		    (x->usr1_fd = signalfd(-1, &usr1, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
			die_msg("signals: cannot set up a signalfd for SIGUSR1 (%s); this should not happen",
				strerror(errno));
			return -errno;
		}
	}
	if ((ret = make_umem(x)) || (ret = open_ports(x)))
		return ret;
	for (unsigned int qi = 0; qi < x->nr_s; qi++)
		if ((ret = setup_queue(x, qi)))
			return ret;
	/* Fill the rings before traffic arrives, then attach: the first frames find buffers. */
	for (unsigned int i = 0; i < x->nr_ports; i++) {
		libmsg[0] = '\0';
		ret = ntad_port__start(x->ports[i]);
		if (ret) {
			explain_attach(o, ntad_port__name(x->ports[i]), ret);
			return ret;
		}
	}
	return 0;
}

static void fill_report(struct ntad_ctx *x, struct ntad_report *r, double elapsed, bool final)
{
	static struct ntad_hist late; /* the report's thread only */
	uint64_t hold_min = 0;

	memset(&late, 0, sizeof(late));
	memset(r, 0, sizeof(*r));
	r->mode = ntad_mode_name(x->o.mode);
	r->pool = ntad_umem__pool_name(x->umem);
	r->elapsed = elapsed;
	r->nr_queues = x->nr_s;
	r->queues = x->qr;
	r->verify = x->o.verify;
	for (unsigned int qi = 0; qi < x->nr_s; qi++) {
		struct ntad_worker *w = &x->workers[qi];
		struct ntad_queue_report *qr = &x->qr[qi];

		memset(qr, 0, sizeof(*qr));
		qr->queue = x->o.queues[qi];
		qr->cpu = x->o.nr_cpus ? x->o.cpus[qi] : -1;
		qr->prev = x->s[qi].prev;
		if (x->s[qi].ready) {
			ntad_worker_counters(w, final, &qr->c, &qr->sc);
			ntad_worker_lateness(w, final, &late);
			(void)ntad_queue__ring_stats(w->q, &qr->xs);
		}
		ntad_counters_add(&r->c, &qr->c);
		/* Shortest hold and lateness do not add up: the least, and the merged histogram. */
		if (qr->c.hold_min_ns && (!hold_min || qr->c.hold_min_ns < hold_min))
			hold_min = qr->c.hold_min_ns;
		r->xs.rx_dropped += qr->xs.rx_dropped;
		r->xs.rx_invalid_descs += qr->xs.rx_invalid_descs;
		r->xs.tx_invalid_descs += qr->xs.tx_invalid_descs;
		r->xs.rx_ring_full += qr->xs.rx_ring_full;
		r->xs.rx_fill_ring_empty_descs += qr->xs.rx_fill_ring_empty_descs;
		r->xs.tx_ring_empty_descs += qr->xs.tx_ring_empty_descs;
	}
	r->c.hold_min_ns = hold_min;
	ntad_counters_lateness(&r->c, &late);
	for (unsigned int i = 0; i < x->nr_ports; i++) {
		struct ntad_xdp_stats s;

		if (!ntad_port__xdp_stats(x->ports[i], &s)) {
			r->xdp.redirected += s.redirected;
			r->xdp.passed += s.passed;
			r->xdp.dropped += s.dropped;
			r->xdp.matched += s.matched;
		}
	}
	(void)ntad_umem__pool_stats(x->umem, &r->ps);
}

static void report_tick(struct ntad_ctx *x, double elapsed)
{
	struct ntad_report r;

	fill_report(x, &r, elapsed, false);
	r.prev = x->prev;
	r.dt = elapsed - x->prev_time;
	ntad_report_print(stdout, &r, x->o.json);
	x->prev = r.c;
	x->prev_time = elapsed;
	for (unsigned int i = 0; i < x->nr_s; i++)
		x->s[i].prev = x->qr[i].c;
}

/*
 * Start one thread per queue, then wait for a signal, the end of -d, or the
 * first worker to finish (-n reached, or a socket error), printing the
 * interval lines meanwhile; then stop and join every thread.
 */
static int run_queues(struct ntad_ctx *x)
{
	uint64_t start = ntad_now_ns(), next_report, end, one = 1, v;
	uint64_t interval = (uint64_t)(x->o.interval * 1e9);
	unsigned int started = 0;
	int ret = 0;

	next_report = interval ? start + interval : 0;
	end = x->o.duration > 0 ? start + (uint64_t)(x->o.duration * 1e9) : 0;
	x->start = start;
	for (unsigned int qi = 0; qi < x->nr_s; qi++) {
		struct ntad_slot *s = &x->s[qi];
		struct ntad_worker *w = &x->workers[qi];
		pthread_attr_t attr;

		pthread_attr_init(&attr);
		if (w->cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(w->cpu, &set);
			pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		}
		if (x->o.rt_priority) {
			struct sched_param sp = { .sched_priority = (int)x->o.rt_priority };

			pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
			pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
			pthread_attr_setschedparam(&attr, &sp);
		}
		ret = pthread_create(&s->thread, &attr, ntad_worker_thread, w);
		pthread_attr_destroy(&attr);
		if (ret)
			x->start_failed = true;
		if (ret == EPERM && x->o.rt_priority) {
			rt_refused(&x->o, ret);
			ret = -ret;
			break;
		}
		if (ret) {
			die_msg("--cpus: cannot start the thread of queue %u on CPU %d (%s); give CPUs this machine has (0..%ld)",
				w->queue, w->cpu, strerror(ret), sysconf(_SC_NPROCESSORS_ONLN) - 1);
			ret = -ret;
			break;
		}
		started++;
	}
	while (!ret) {
		struct pollfd p[2] = { { .fd = x->sigfd, .events = POLLIN }, { .fd = x->done_fd, .events = POLLIN } };
		uint64_t now = ntad_now_ns(), wake = 0;
		int timeout = -1;

		if (next_report)
			wake = next_report;
		if (end && (!wake || end < wake))
			wake = end;
		if (wake)
			timeout = wake > now ? (int)((wake - now) / 1000000) + 1 : 0;
		(void)poll(p, 2, timeout);
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(x->sigfd, &si, sizeof(si)) > 0)
				x->stop_signal = true;
			break;
		}
		if (p[1].revents & POLLIN)
			break;
		now = ntad_now_ns();
		if (next_report && now >= next_report) {
			next_report += interval;
			if (next_report < now)
				next_report = now + interval;
			report_tick(x, (double)(now - start) / 1e9);
		}
		if (end && now >= end)
			break;
	}
	if (write(x->stop_fd, &one, sizeof(one)) != sizeof(one))
		ret = ret ? ret : -EIO;
	for (unsigned int qi = 0; qi < started; qi++)
		pthread_join(x->s[qi].thread, NULL);
	while (read(x->done_fd, &v, sizeof(v)) > 0)
		;
	return ret;
}

static const char *stop_reason(const struct ntad_ctx *x, const struct ntad_counters *total, bool sock_error)
{
	const struct ntad_opts *o = &x->o;

	if (x->stop_signal)
		return "signal";
	if (sock_error)
		return "error";
	if (o->count && (x->run.rx_done >= o->count ||
			 (o->mode == NTAD_MODE_TXONLY && total->tx_submitted >= o->count)))
		return "count";
	return "duration";
}

/* Stop order (see the top of the file); returns the exit status. */
static int teardown(struct ntad_ctx *x, bool ran)
{
	struct ntad_umem_exit ex = { .check_ok = true };
	struct ntad_pool_stats ps = { 0 };
	struct ntad_report r;
	uint64_t refused = 0, fill_pending = 0;
	bool sock_error = false;
	double elapsed = ran ? (double)(ntad_now_ns() - x->start) / 1e9 : 0;

	for (unsigned int i = 0; i < x->nr_ports; i++)
		ntad_port__stop(x->ports[i]);
	for (unsigned int qi = 0; x->s && qi < x->nr_s; qi++) {
		struct ntad_worker *w = &x->workers[qi];

		if (ran && w->mode->stop)
			w->mode->stop(w);
		w->stopped = true;
		ntad_queue__drain(w->q);
	}
	if (ran)
		fill_report(x, &r, elapsed, true); /* ring statistics need the sockets */
	for (unsigned int qi = 0; x->s && qi < x->nr_s; qi++) {
		struct ntad_worker *w = &x->workers[qi];
		struct ntad_queue_stats st;

		if (!w->q)
			continue;
		ntad_queue__stats(w->q, &st);
		refused += st.ledger_refused;
		fill_pending += st.fill_pending;
		sock_error |= w->sock_error != 0;
		ntad_queue__destroy(w->q);
		w->q = NULL;
	}
	if (x->umem) {
		(void)ntad_umem__reclaim(x->umem, &ex);
		(void)ntad_umem__pool_stats(x->umem, &ps);
	}
	if (ran) {
		r.summary = true;
		r.ps = ps;
		r.dt = elapsed;
		r.c.pool_errors = ex.pool_errors;
		r.in_use_at_exit = ps.in_use;
		r.check_ok = ex.check_ok;
		r.ledger_violations = refused;
		r.fill_pending_at_exit = fill_pending;
		r.kernel_held_at_exit = ex.kernel_held;
		r.tx_lost_at_exit = ex.tx_lost;
		r.bind_mode = ntad_port__zerocopy(x->ports[0]) ? "zerocopy" : "copy";
		r.stop_reason = stop_reason(x, &r.c, sock_error);
		ntad_report_print(stdout, &r, x->o.json);
		x->capture_unwritten = r.c.pcap_failed != 0;
		if (x->capture_unwritten)
			die_msg("%s %s: captured frames were not written (%s, %llu failed writes); free space or write elsewhere",
				x->o.write_path[0] ? "-w" : "--pcap", x->o.write_path[0] ? x->o.write_path : x->o.pcap_path,
				strerror((int)r.c.pcap_errno), (unsigned long long)r.c.pcap_errors);
	}
	for (unsigned int qi = x->nr_s; x->s && qi-- > 0;) {
		struct ntad_worker *w = &x->workers[qi];

		if (x->s[qi].ready && w->mode->fini)
			w->mode->fini(w);
		if (x->s[qi].ready)
			pthread_mutex_destroy(&w->pub_lock);
	}
	for (unsigned int i = 0; i < x->nr_ports; i++)
		ntad_port__close(x->ports[i]);
	ntad_umem__destroy(x->umem);
	free(x->s);
	free(x->workers);
	x->s = NULL;
	if (x->stop_fd > 0)
		close(x->stop_fd);
	if (x->done_fd > 0)
		close(x->done_fd);
	if (!ran)
		return 1;
	if (!ex.check_ok || ps.in_use || refused || ex.pool_errors) {
		die_msg("exit accounting failed: %llu UMEM bytes in use, %s check %s, %llu ledger violations, %llu pool errors; this is a bug, please report it",
			(unsigned long long)ps.in_use, ntad_pool_name(x->o.pool),
			ex.check_ok ? "ok" : "failed", (unsigned long long)refused,
			(unsigned long long)ex.pool_errors);
		return 3;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct ntad_ctx ctx = { .usr1_fd = -1 };
	struct ntad_ctx *x = &ctx;
	char err[ERRLEN];
	bool sock_error = false;
	sigset_t mask;
	int ret;

	ret = ntad_parse_args(argc, argv, &x->o, err, sizeof(err));
	if (ret < 0) {
		die_msg("%s", err);
		return 2;
	}
	if (x->o.help) {
		ntad_usage(stdout);
		return 0;
	}
	if (x->o.version) {
		printf("ntad %s\n", NTAD_VERSION);
		return 0;
	}
	verbose = x->o.verbose;
	ntad_set_print(libntad_print);
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
	nta_set_print(nta_print_cb);

	if (!has_caps()) {
		die_msg("not running as root; ntad needs root (CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF): run it with sudo");
		return 1;
	}
	if (check_interface(&x->o, x->o.ifname))
		return 1;
	if (ntad_two_interfaces(&x->o) && check_interface(&x->o, x->o.out_ifname))
		return 1;
	if (check_capture_file(&x->o) || check_rt_priority(&x->o))
		return 1;
	if (x->o.mode == NTAD_MODE_TXONLY && !(x->o.given & NTAD_GIVEN_SRC_MAC))
		(void)get_mac(x->o.ifname, x->o.pkt.src_mac);

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) || (x->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		die_msg("signals: cannot set up a signalfd (%s); this should not happen", strerror(errno));
		return 1;
	}
	if (setup(x)) {
		teardown(x, false);
		return 1;
	}
	/* Said only now, so that a failed start prints one line: the error. */
	if (!x->o.json) {
		char qs[32];

		if (x->o.bind == NTAD_BIND_AUTO && !ntad_port__zerocopy(x->ports[0]))
			fprintf(stderr, "ntad: %s: zero-copy AF_XDP not supported, using copy mode\n", x->o.ifname);
		if (x->nr_s > 1)
			snprintf(qs, sizeof(qs), "queues %u (%u..%u)", x->nr_s, x->o.queues[0],
				 x->o.queues[x->nr_s - 1]);
		else
			snprintf(qs, sizeof(qs), "queue %u", x->o.queue);
		fprintf(stderr, "ntad: %s%s%s %s, mode %s, pool %s, %s mode, XDP %s, chunk %u, umem %llu bytes\n",
			x->o.ifname, ntad_two_interfaces(&x->o) ? " <-> " : "",
			ntad_two_interfaces(&x->o) ? x->o.out_ifname : "", qs,
			ntad_mode_name(x->o.mode), ntad_umem__pool_name(x->umem),
			ntad_port__zerocopy(x->ports[0]) ? "zero-copy" : "copy",
			x->o.mode == NTAD_MODE_TXONLY ? "not used" :
			x->o.xdp_mode == NTAD_XDP_SKB ? "skb" : "native",
			x->o.chunk_size, (unsigned long long)ntad_umem__size(x->umem));
	}
	ret = run_queues(x);
	for (unsigned int qi = 0; qi < x->nr_s; qi++) {
		struct ntad_worker *w = &x->workers[qi];

		if (w->sock_error) {
			die_msg("%s: socket error (%s): the interface is gone; stopping",
				w->error_port ? x->o.out_ifname : x->o.ifname, strerror(w->sock_error));
			sock_error = true;
			break;
		}
	}
	ret = teardown(x, !x->start_failed) ? : (ret || sock_error || x->capture_unwritten ? 1 : 0);
	close(x->sigfd);
	return ret;
}
