// SPDX-License-Identifier: MIT
/*
 * main.c - ntad's wiring: check what the user asked for against the system,
 * build the UMEM, pool, sockets and XDP program in an order that never leaves
 * a half-configured interface, run the engine, and tear down in the order that
 * lets every UMEM byte be accounted for.
 *
 * Start order: options -> privileges, interface, queue, MTU (each failure one
 * line "ntad: thing: problem; fix", exit 1, nothing touched yet) -> UMEM ->
 * pool -> sockets -> XDP program loaded, XSKMAP filled -> attached last, so a
 * failure anywhere before leaves the interface untouched.
 * Stop order: detach (the link goes, the host gets all traffic back) -> drain
 * RX and TX completions -> close sockets (the kernel lets go of its buffers) ->
 * sweep the ledger for buffers the kernel still had -> nta_check (or the fixed
 * pool's check) and bytes in use, which must be zero -> summary.
 * Signals arrive through a signalfd that the engine polls, so SIGINT/SIGTERM
 * stop the loop within one poll timeout and the teardown runs normally.
 */
#include <dirent.h>
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
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "cli.h"
#include "engine.h"
#include "frags.h"
#include "nta.h"
#include "pool.h"
#include "stats.h"
#include "umem.h"
#include "xdp.h"
#include "xsk.h"

#ifndef CAP_BPF
#define CAP_BPF 39 /* kernel 5.8 */
#endif

#define ERRLEN 512

/* One queue: a socket per interface, an engine, the thread running it. */
struct ntad_queue {
	struct ntad_sock socks[NTAD_MAX_SOCKS];
	struct ntad_sock *sockp[NTAD_MAX_SOCKS];
	unsigned int nr_socks;
	struct ntad_engine engine;
	bool engine_ready;
	pthread_t thread;
	bool thread_started;
	struct ntad_counters prev;   /* at the previous report line */
};

struct ntad_ctx {
	struct ntad_opts o;
	struct ntad_umem umem;       /* one UMEM for every queue (XDP_SHARED_UMEM) */
	struct ntad_pools pools;     /* one handle per queue */
	struct ntad_queue *q;        /* o.nr_queues of them */
	unsigned int nr_q;
	struct ntad_xdp *xdp[NTAD_MAX_SOCKS];
	unsigned int nr_xdp;
	struct ntad_run run;
	int sigfd;
	int stop_fd;                 /* eventfd: readable when the queues must stop */
	int done_fd;                 /* eventfd: a queue's loop has returned */
	bool stop_signal;
	double start;
	struct ntad_counters prev;
	double prev_time;
	struct ntad_queue_report qr[NTAD_MAX_QUEUES];
	char note[ERRLEN];
};

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

static bool verbose;

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

/* Number of rx (or tx) queues, from /sys/class/net/IF/queues; 0 if unknown. */
static unsigned int count_queues(const char *ifname, const char *prefix)
{
	char path[128];
	struct dirent *d;
	unsigned int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((d = readdir(dir)))
		if (!strncmp(d->d_name, prefix, strlen(prefix)))
			n++;
	closedir(dir);
	return n;
}

static int get_mtu(const char *ifname, unsigned int *mtu)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = 0;

	if (fd < 0)
		return -errno;
	memcpy(ifr.ifr_name, ifname, strnlen(ifname, IF_NAMESIZE - 1));
	if (ioctl(fd, SIOCGIFMTU, &ifr))
		ret = -errno;
	else
		*mtu = (unsigned int)ifr.ifr_mtu;
	close(fd);
	return ret;
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
	unsigned int rxq, txq, nq, mtu = 0;
	char err[ERRLEN];
	int ret;

	if (!if_nametoindex(ifname)) {
		die_msg("%s: no such interface; check the name with `ip link` (in the right network namespace)",
			ifname);
		return -ENODEV;
	}
	rxq = count_queues(ifname, "rx-");
	txq = count_queues(ifname, "tx-");
	nq = rxq < txq ? rxq : txq;
	for (unsigned int i = 0; nq && i < o->nr_queues; i++) {
		if (o->queues[i] < nq)
			continue;
		die_msg("%s: queue %u out of range, the interface has %u rx and %u tx queues; use --queue 0..%u%s",
			ifname, o->queues[i], rxq, txq, nq - 1, o->nr_queues > 1 ? " and fewer --queues" : "");
		return -ERANGE;
	}
	if (get_mtu(ifname, &mtu) == 0) {
		/* Frames larger than a chunk: multi-buffer, or a refusal naming the fix. */
		ret = ntad_frags_decide(o, ifname, mtu, err, sizeof(err));
		if (ret) {
			die_msg("%s", err);
			return ret;
		}
		if (o->mode == NTAD_MODE_TXONLY) {
			uint32_t len = o->imix ? 1500 : o->size;

			if (len > mtu + 14) {
				die_msg("%s: --size %u larger than the MTU %u allows (%u); use a smaller --size or raise the MTU",
					ifname, len, mtu, mtu + 14);
				return -EMSGSIZE;
			}
		}
	}
	return 0;
}

/* Counters of queue i: live copies while running, the engine's own at the end. */
static void queue_counters(struct ntad_ctx *x, unsigned int i, bool final, struct ntad_counters *c,
			   struct ntad_seqcheck *sc)
{
	struct ntad_engine *e = &x->q[i].engine;

	if (final) {
		*c = e->c;
		*sc = e->seqc;
	} else {
		ntad_engine_published(e, c, sc);
	}
}

static void fill_report(struct ntad_ctx *x, struct ntad_report *r, double elapsed, bool final)
{
	memset(r, 0, sizeof(*r));
	r->mode = ntad_mode_name(x->o.mode);
	r->pool = x->pools.name;
	r->elapsed = elapsed;
	r->nr_queues = x->nr_q;
	r->queues = x->qr;
	r->verify = x->o.verify;
	for (unsigned int qi = 0; qi < x->nr_q; qi++) {
		struct ntad_queue *q = &x->q[qi];
		struct ntad_queue_report *qr = &x->qr[qi];

		memset(qr, 0, sizeof(*qr));
		qr->queue = x->o.queues[qi];
		qr->cpu = x->o.nr_cpus ? x->o.cpus[qi] : -1;
		qr->prev = q->prev;
		if (q->engine_ready)
			queue_counters(x, qi, final, &qr->c, &qr->sc);
		ntad_counters_add(&r->c, &qr->c);
		for (unsigned int i = 0; i < q->nr_socks; i++) {
			struct xdp_statistics st;

			if (q->socks[i].xsk && !ntad_sock_stats(&q->socks[i], &st)) {
				qr->xs.rx_dropped += st.rx_dropped;
				qr->xs.rx_invalid_descs += st.rx_invalid_descs;
				qr->xs.tx_invalid_descs += st.tx_invalid_descs;
				qr->xs.rx_ring_full += st.rx_ring_full;
				qr->xs.rx_fill_ring_empty_descs += st.rx_fill_ring_empty_descs;
				qr->xs.tx_ring_empty_descs += st.tx_ring_empty_descs;
			}
		}
		r->xs.rx_dropped += qr->xs.rx_dropped;
		r->xs.rx_invalid_descs += qr->xs.rx_invalid_descs;
		r->xs.tx_invalid_descs += qr->xs.tx_invalid_descs;
		r->xs.rx_ring_full += qr->xs.rx_ring_full;
		r->xs.rx_fill_ring_empty_descs += qr->xs.rx_fill_ring_empty_descs;
		r->xs.tx_ring_empty_descs += qr->xs.tx_ring_empty_descs;
	}
	for (unsigned int i = 0; i < x->nr_xdp; i++) {
		struct ntad_xdp_stats s;

		if (!ntad_xdp_counters(x->xdp[i], &s)) {
			r->xdp.redirected += s.redirected;
			r->xdp.passed += s.passed;
			r->xdp.dropped += s.dropped;
			r->xdp.matched += s.matched;
		}
	}
	ntad_pools_stats(&x->pools, &r->ps);
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
	for (unsigned int i = 0; i < x->nr_q; i++)
		x->q[i].prev = x->qr[i].c;
}

/* One queue: its sockets (one per interface) and its engine. */
static int setup_queue(struct ntad_ctx *x, unsigned int qi, const char *const *names, unsigned int nifs)
{
	const struct ntad_opts *o = &x->o;
	struct ntad_queue *q = &x->q[qi];
	struct ntad_engine *e = &q->engine;
	bool rx = o->mode != NTAD_MODE_TXONLY;
	char err[ERRLEN];
	int ret;

	for (unsigned int i = 0; i < nifs; i++) {
		ret = ntad_sock_create(&q->socks[i], &x->umem, names[i], o->queues[qi], rx, o,
				       qi ? NULL : x->note, qi ? 0 : sizeof(x->note), err, sizeof(err));
		if (ret) {
			die_msg("%s", err);
			return ret;
		}
		q->sockp[i] = &q->socks[i];
		q->nr_socks++;
	}
	ret = ntad_engine_init(e, o, &x->umem, x->pools.q[qi], q->sockp, q->nr_socks);
	if (ret) {
		die_msg("engine: cannot set up (%s); use a smaller --umem-size", strerror(-ret));
		return ret;
	}
	q->engine_ready = true;
	if (qi) {
		/* One ledger for the UMEM: the other queues look into queue 0's. */
		ntad_ledger_fini(&e->ledger);
		ntad_ledger_view(&e->ledger, &x->q[0].engine.ledger);
	}
	e->run = &x->run;
	e->pools = &x->pools;
	e->queue = o->queues[qi];
	e->cpu = o->nr_cpus ? o->cpus[qi] : -1;
	e->ctl_fd = x->stop_fd;
	e->done_fd = x->done_fd;
	/* --rate is for the whole run: each queue sends its share. */
	if (o->rate)
		e->rate = o->rate / x->nr_q ? o->rate / x->nr_q : 1;
	return 0;
}

static int setup(struct ntad_ctx *x)
{
	const struct ntad_opts *o = &x->o;
	const char *names[2] = { o->ifname, o->out_ifname };
	unsigned int nifs = ntad_two_interfaces(o) ? 2 : 1;
	bool rx = o->mode != NTAD_MODE_TXONLY;
	char err[ERRLEN];
	int ret;

	x->nr_q = o->nr_queues;
	x->q = calloc(x->nr_q, sizeof(*x->q));
	x->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	x->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!x->q || x->stop_fd < 0 || x->done_fd < 0) {
		die_msg("setup: out of memory or file descriptors for %u queues; use fewer --queues", x->nr_q);
		return -ENOMEM;
	}
	if (o->frags && x->nr_q > 1) {
		die_msg("--queues %u: multi-buffer frames (MTU %s) with several queues are not supported yet; use one queue or a smaller MTU",
			x->nr_q, "above a chunk");
		return -EOPNOTSUPP;
	}
	ret = ntad_umem_create(&x->umem, o, err, sizeof(err));
	if (ret) {
		die_msg("%s", err);
		return ret;
	}
	ret = ntad_pools_create(&x->pools, o->pool, x->umem.area, x->umem.size, o->chunk_size,
				o->pool == NTAD_POOL_NTA ? ntad_frags_jumbo_bytes(o) : 0, x->nr_q);
	if (ret) {
		die_msg("--pool %s: cannot manage a %llu-byte UMEM with %u-byte chunks for %u queue(s) (%s); change --umem-size or --chunk-size",
			ntad_pool_name(o->pool), (unsigned long long)x->umem.size, o->chunk_size, x->nr_q,
			strerror(-ret));
		return ret;
	}
	for (unsigned int qi = 0; qi < x->nr_q; qi++) {
		ret = setup_queue(x, qi, names, nifs);
		if (ret)
			return ret;
	}
	if (!rx)
		return 0;
	for (unsigned int i = 0; i < nifs; i++) {
		x->xdp[i] = ntad_xdp_load(names[i], if_nametoindex(names[i]), o, err, sizeof(err));
		if (!x->xdp[i]) {
			die_msg("%s", err);
			return -EINVAL;
		}
		x->nr_xdp++;
		for (unsigned int qi = 0; qi < x->nr_q; qi++) {
			ret = ntad_xdp_set_socket(x->xdp[i], o->queues[qi], x->q[qi].socks[i].fd);
			if (ret) {
				die_msg("%s: cannot put the socket of queue %u into the XSKMAP (%s); check --queue/--queues",
					names[i], o->queues[qi], strerror(-ret));
				return ret;
			}
		}
	}
	/* Fill the rings before traffic arrives, then attach: the first frames find buffers. */
	for (unsigned int qi = 0; qi < x->nr_q; qi++)
		ntad_engine_prefill(&x->q[qi].engine);
	for (unsigned int i = 0; i < nifs; i++) {
		ret = ntad_xdp_attach(x->xdp[i], err, sizeof(err));
		if (ret) {
			die_msg("%s", err);
			return ret;
		}
	}
	return 0;
}

/*
 * Start one thread per queue, then wait for a signal, the end of -d, or the
 * first queue to finish (-n reached, or a socket error), printing the interval
 * lines meanwhile; then stop and join every thread.
 */
static int run_queues(struct ntad_ctx *x)
{
	double start = ntad_now(), next_report, end;
	uint64_t one = 1, v;
	unsigned int started = 0;
	int ret = 0;

	next_report = x->o.interval > 0 ? start + x->o.interval : 0;
	end = x->o.duration > 0 ? start + x->o.duration : 0;
	x->start = start;
	for (unsigned int qi = 0; qi < x->nr_q; qi++) {
		struct ntad_queue *q = &x->q[qi];
		pthread_attr_t attr;

		pthread_attr_init(&attr);
		if (q->engine.cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(q->engine.cpu, &set);
			pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		}
		ret = pthread_create(&q->thread, &attr, ntad_engine_thread, &q->engine);
		pthread_attr_destroy(&attr);
		if (ret) {
			die_msg("--cpus: cannot start the thread of queue %u on CPU %d (%s); give CPUs this machine has (0..%ld)",
				x->o.queues[qi], q->engine.cpu, strerror(ret), sysconf(_SC_NPROCESSORS_ONLN) - 1);
			ret = -ret;
			break;
		}
		q->thread_started = true;
		started++;
	}
	while (!ret) {
		struct pollfd p[2] = { { .fd = x->sigfd, .events = POLLIN }, { .fd = x->done_fd, .events = POLLIN } };
		double now = ntad_now(), wake = 0;
		int timeout = -1;

		if (next_report)
			wake = next_report;
		if (end && (!wake || end < wake))
			wake = end;
		if (wake)
			timeout = wake > now ? (int)((wake - now) * 1000) + 1 : 0;
		(void)poll(p, 2, timeout);
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(x->sigfd, &si, sizeof(si)) > 0)
				x->stop_signal = true;
			break;
		}
		if (p[1].revents & POLLIN)
			break;
		now = ntad_now();
		if (next_report && now >= next_report) {
			next_report += x->o.interval;
			if (next_report < now)
				next_report = now + x->o.interval;
			report_tick(x, now - start);
		}
		if (end && now >= end)
			break;
	}
	if (write(x->stop_fd, &one, sizeof(one)) != sizeof(one))
		ret = ret ? ret : -EIO;
	for (unsigned int qi = 0; qi < started; qi++)
		pthread_join(x->q[qi].thread, NULL);
	while (read(x->done_fd, &v, sizeof(v)) > 0)
		;
	return ret;
}

/* Stop order (see the top of the file); returns the exit status. */
static int teardown(struct ntad_ctx *x, bool ran)
{
	struct ntad_engine *e0 = x->q ? &x->q[0].engine : NULL;
	bool ready = x->q && x->q[0].engine_ready;
	struct ntad_report r;
	struct ntad_pool_stats ps = { 0 };
	uint64_t violations = 0, pool_errors = 0, fill_pending = 0;
	unsigned int deferred;
	int check = 0, sock_error = 0;
	double elapsed = ran ? ntad_now() - x->start : 0;

	for (unsigned int i = 0; i < x->nr_xdp; i++)
		ntad_xdp_detach(x->xdp[i]);
	for (unsigned int qi = 0; x->q && qi < x->nr_q; qi++) {
		if (!x->q[qi].engine_ready)
			continue;
		ntad_engine_drain(&x->q[qi].engine);
		fill_pending += x->q[qi].engine.fill_pending_at_exit;
	}
	if (ran)
		fill_report(x, &r, elapsed, true); /* ring statistics need the sockets */
	for (unsigned int qi = 0; x->q && qi < x->nr_q; qi++)
		for (unsigned int i = 0; i < x->q[qi].nr_socks; i++)
			ntad_sock_destroy(&x->q[qi].socks[i], &x->umem);
	if (ready) {
		/* One ledger, swept once; queue 0's engine routes each free to its pool. */
		e0->fill_pending_at_exit = fill_pending;
		ntad_engine_reclaim(e0);
	}
	for (unsigned int i = 0; i < x->nr_xdp; i++)
		ntad_xdp_destroy(x->xdp[i]);
	x->nr_xdp = 0;
	ntad_umem_destroy(&x->umem); /* unregisters; the area stays until the check below */
	deferred = ntad_pools_drain(&x->pools);
	if (x->pools.nr) {
		check = ntad_pools_check(&x->pools);
		ntad_pools_stats(&x->pools, &ps);
	}
	for (unsigned int qi = 0; x->q && qi < x->nr_q; qi++) {
		struct ntad_engine *e = &x->q[qi].engine;

		if (!x->q[qi].engine_ready)
			continue;
		violations += e->ledger.violations;
		pool_errors += e->c.pool_errors;
		if (e->sock_error && !sock_error)
			sock_error = e->sock_error;
	}
	pool_errors += deferred;
	if (ran) {
		struct ntad_counters total = { 0 };

		for (unsigned int qi = 0; qi < x->nr_q; qi++)
			ntad_counters_add(&total, &x->q[qi].engine.c);
		r.summary = true;
		r.ps = ps;
		r.dt = elapsed;
		r.c = total;
		r.c.pool_errors = pool_errors;
		r.in_use_at_exit = ps.in_use;
		r.check_ok = check == 0;
		r.ledger_violations = violations;
		r.fill_pending_at_exit = fill_pending;
		r.kernel_held_at_exit = e0->kernel_held_at_exit;
		r.tx_lost_at_exit = e0->tx_lost_at_exit;
		r.bind_mode = x->q[0].socks[0].zerocopy ? "zerocopy" : "copy";
		r.stop_reason = x->stop_signal ? "signal" : sock_error ? "error" :
				(x->o.count && (x->run.rx_done >= x->o.count ||
						(x->o.mode == NTAD_MODE_TXONLY && total.tx_submitted >= x->o.count))) ? "count" :
				"duration";
		ntad_report_print(stdout, &r, x->o.json);
	}
	for (unsigned int qi = x->nr_q; x->q && qi-- > 0;)
		if (x->q[qi].engine_ready)
			ntad_engine_fini(&x->q[qi].engine);
	ntad_pools_destroy(&x->pools);
	free(x->q);
	x->q = NULL;
	if (x->stop_fd > 0)
		close(x->stop_fd);
	if (x->done_fd > 0)
		close(x->done_fd);
	if (!ran)
		return 1;
	if (check || ps.in_use || violations || pool_errors) {
		die_msg("exit accounting failed: %llu UMEM bytes in use, %s check %s, %llu ledger violations, %llu pool errors; this is a bug, please report it",
			(unsigned long long)ps.in_use, x->pools.name ? x->pools.name : "pool",
			check ? "failed" : "ok", (unsigned long long)violations,
			(unsigned long long)pool_errors);
		return 3;
	}
	return 0;
}

static void nta_print_cb(const char *msg)
{
	fprintf(stderr, "ntad: nta: %s\n", msg);
}

int main(int argc, char **argv)
{
	static struct ntad_ctx ctx;
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
	if (x->note[0] && !x->o.json)
		fprintf(stderr, "ntad: %s\n", x->note);
	if (!x->o.json) {
		char qs[32];

		if (x->nr_q > 1)
			snprintf(qs, sizeof(qs), "queues %u (%u..%u)", x->nr_q, x->o.queues[0],
				 x->o.queues[x->nr_q - 1]);
		else
			snprintf(qs, sizeof(qs), "queue %u", x->o.queue);
		fprintf(stderr, "ntad: %s%s%s %s, mode %s, pool %s, %s mode, XDP %s, chunk %u, umem %llu bytes\n",
			x->o.ifname, ntad_two_interfaces(&x->o) ? " <-> " : "",
			ntad_two_interfaces(&x->o) ? x->o.out_ifname : "", qs,
			ntad_mode_name(x->o.mode), x->pools.name,
			x->q[0].socks[0].zerocopy ? "zero-copy" : "copy",
			x->o.mode == NTAD_MODE_TXONLY ? "not used" :
			x->o.xdp_mode == NTAD_XDP_SKB ? "skb" : "native",
			x->o.chunk_size, (unsigned long long)x->umem.size);
	}
	ret = run_queues(x);
	for (unsigned int qi = 0; qi < x->nr_q; qi++) {
		struct ntad_engine *e = &x->q[qi].engine;

		if (e->sock_error) {
			die_msg("%s: socket error (%s): the interface is gone; stopping",
				e->error_sock ? x->o.out_ifname : x->o.ifname, strerror(e->sock_error));
			sock_error = true;
			break;
		}
	}
	ret = teardown(x, true) ? : (ret || sock_error ? 1 : 0);
	close(x->sigfd);
	return ret;
}
