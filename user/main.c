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
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
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

struct ntad_ctx {
	struct ntad_opts o;
	struct ntad_umem umem;
	struct ntad_pool *pool;
	struct ntad_sock socks[NTAD_MAX_SOCKS];
	struct ntad_sock *sockp[NTAD_MAX_SOCKS];
	unsigned int nr_socks;
	struct ntad_xdp *xdp[NTAD_MAX_SOCKS];
	unsigned int nr_xdp;
	struct ntad_engine engine;
	bool engine_ready;
	int sigfd;
	struct ntad_counters prev;
	double prev_time;
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
	if (nq && o->queue >= nq) {
		die_msg("%s: queue %u out of range, the interface has %u rx and %u tx queues; use --queue 0..%u",
			ifname, o->queue, rxq, txq, nq - 1);
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

static void fill_report(struct ntad_ctx *x, struct ntad_report *r, double elapsed)
{
	struct ntad_engine *e = &x->engine;

	memset(r, 0, sizeof(*r));
	r->mode = ntad_mode_name(x->o.mode);
	r->pool = x->pool->ops->name;
	r->elapsed = elapsed;
	r->c = e->c;
	for (unsigned int i = 0; i < x->nr_socks; i++) {
		struct xdp_statistics st;

		if (x->socks[i].xsk && !ntad_sock_stats(&x->socks[i], &st)) {
			r->xs.rx_dropped += st.rx_dropped;
			r->xs.rx_invalid_descs += st.rx_invalid_descs;
			r->xs.tx_invalid_descs += st.tx_invalid_descs;
			r->xs.rx_ring_full += st.rx_ring_full;
			r->xs.rx_fill_ring_empty_descs += st.rx_fill_ring_empty_descs;
			r->xs.tx_ring_empty_descs += st.tx_ring_empty_descs;
		}
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
	x->pool->ops->stats(x->pool, &r->ps);
}

static void on_tick(struct ntad_engine *e, void *arg, double elapsed)
{
	struct ntad_ctx *x = arg;
	struct ntad_report r;

	(void)e;
	fill_report(x, &r, elapsed);
	r.prev = x->prev;
	r.dt = elapsed - x->prev_time;
	ntad_report_print(stdout, &r, x->o.json);
	x->prev = r.c;
	x->prev_time = elapsed;
}

static int setup(struct ntad_ctx *x)
{
	const struct ntad_opts *o = &x->o;
	const char *names[2] = { o->ifname, o->out_ifname };
	unsigned int nifs = o->mode == NTAD_MODE_FWD ? 2 : 1;
	bool rx = o->mode != NTAD_MODE_TXONLY;
	char err[ERRLEN];
	int ret;

	ret = ntad_umem_create(&x->umem, o, err, sizeof(err));
	if (ret) {
		die_msg("%s", err);
		return ret;
	}
	if (o->pool == NTAD_POOL_NTA && ntad_frags_jumbo_bytes(o))
		x->pool = ntad_pool_nta_create_jumbo(x->umem.area, x->umem.size, o->chunk_size,
						     ntad_frags_jumbo_bytes(o));
	else
		x->pool = ntad_pool_create(o->pool, x->umem.area, x->umem.size, o->chunk_size);
	if (!x->pool) {
		ret = -errno;
		die_msg("--pool %s: cannot manage a %llu-byte UMEM with %u-byte chunks (%s); change --umem-size or --chunk-size",
			ntad_pool_name(o->pool), (unsigned long long)x->umem.size, o->chunk_size, strerror(-ret));
		return ret;
	}
	for (unsigned int i = 0; i < nifs; i++) {
		ret = ntad_sock_create(&x->socks[i], &x->umem, names[i], rx, o, x->note, sizeof(x->note),
				       err, sizeof(err));
		if (ret) {
			die_msg("%s", err);
			return ret;
		}
		x->sockp[i] = &x->socks[i];
		x->nr_socks++;
	}
	ret = ntad_engine_init(&x->engine, o, &x->umem, x->pool, x->sockp, x->nr_socks);
	if (ret) {
		die_msg("engine: cannot set up (%s); use a smaller --umem-size", strerror(-ret));
		return ret;
	}
	x->engine_ready = true;
	if (!rx)
		return 0;
	for (unsigned int i = 0; i < nifs; i++) {
		x->xdp[i] = ntad_xdp_load(names[i], if_nametoindex(names[i]), o, err, sizeof(err));
		if (!x->xdp[i]) {
			die_msg("%s", err);
			return -EINVAL;
		}
		x->nr_xdp++;
		ret = ntad_xdp_set_socket(x->xdp[i], o->queue, x->socks[i].fd);
		if (ret) {
			die_msg("%s: cannot put the socket into the XSKMAP (%s); check --queue", names[i],
				strerror(-ret));
			return ret;
		}
	}
	/* Fill the rings before traffic arrives, then attach: the first frames find buffers. */
	for (unsigned int i = 0; i < nifs; i++) {
		ret = ntad_xdp_attach(x->xdp[i], err, sizeof(err));
		if (ret) {
			die_msg("%s", err);
			return ret;
		}
	}
	return 0;
}

/* Stop order (see the top of the file); returns the exit status. */
static int teardown(struct ntad_ctx *x, bool ran)
{
	struct ntad_engine *e = &x->engine;
	struct ntad_report r;
	struct ntad_pool_stats ps;
	int check = 0;
	double elapsed = ran ? ntad_now() - e->start : 0;

	for (unsigned int i = 0; i < x->nr_xdp; i++)
		ntad_xdp_detach(x->xdp[i]);
	if (x->engine_ready)
		ntad_engine_drain(e);
	if (ran)
		fill_report(x, &r, elapsed); /* ring statistics need the sockets */
	for (unsigned int i = 0; i < x->nr_socks; i++)
		ntad_sock_destroy(&x->socks[i], &x->umem);
	if (x->engine_ready)
		ntad_engine_reclaim(e);
	for (unsigned int i = 0; i < x->nr_xdp; i++)
		ntad_xdp_destroy(x->xdp[i]);
	x->nr_xdp = 0;
	ntad_umem_destroy(&x->umem); /* unregisters; the area stays until the check below */
	if (x->pool) {
		check = x->pool->ops->check(x->pool);
		x->pool->ops->stats(x->pool, &ps);
	}
	if (ran) {
		r.summary = true;
		r.ps = ps;
		r.dt = elapsed;
		r.c = e->c;
		r.in_use_at_exit = ps.in_use;
		r.check_ok = check == 0;
		r.ledger_violations = e->ledger.violations;
		r.fill_pending_at_exit = e->fill_pending_at_exit;
		r.kernel_held_at_exit = e->kernel_held_at_exit;
		r.tx_lost_at_exit = e->tx_lost_at_exit;
		r.bind_mode = x->socks[0].zerocopy ? "zerocopy" : "copy";
		r.stop_reason = e->stop_signal ? "signal" : e->sock_error ? "error" :
				(x->o.count && (e->c.rx_packets >= x->o.count || e->seq >= x->o.count)) ? "count" :
				"duration";
		ntad_report_print(stdout, &r, x->o.json);
	}
	if (x->engine_ready)
		ntad_engine_fini(e);
	ntad_pool_destroy(x->pool);
	x->pool = NULL;
	if (!ran)
		return 1;
	if (check || ps.in_use || e->ledger.violations || e->c.pool_errors) {
		die_msg("exit accounting failed: %llu UMEM bytes in use, %s check %s, %llu ledger violations, %llu pool errors; this is a bug, please report it",
			(unsigned long long)ps.in_use, r.pool, check ? "failed" : "ok",
			(unsigned long long)e->ledger.violations, (unsigned long long)e->c.pool_errors);
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
	if (x->o.mode == NTAD_MODE_FWD && check_interface(&x->o, x->o.out_ifname))
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
	if (!x->o.json)
		fprintf(stderr, "ntad: %s%s%s queue %u, mode %s, pool %s, %s mode, XDP %s, chunk %u, umem %llu bytes\n",
			x->o.ifname, x->o.mode == NTAD_MODE_FWD ? " <-> " : "",
			x->o.mode == NTAD_MODE_FWD ? x->o.out_ifname : "", x->o.queue,
			ntad_mode_name(x->o.mode), x->pool->ops->name,
			x->socks[0].zerocopy ? "zero-copy" : "copy",
			x->o.mode == NTAD_MODE_TXONLY ? "not used" :
			x->o.xdp_mode == NTAD_XDP_SKB ? "skb" : "native",
			x->o.chunk_size, (unsigned long long)x->umem.size);
	x->engine.ctl_fd = x->sigfd;
	x->engine.tick = on_tick;
	x->engine.tick_arg = x;
	ntad_engine_run(&x->engine);
	if (x->engine.sock_error)
		die_msg("%s: socket error (%s): the interface is gone; stopping",
			x->engine.error_sock ? x->o.out_ifname : x->o.ifname, strerror(x->engine.sock_error));
	ret = teardown(x, true);
	if (!ret && x->engine.sock_error)
		ret = 1;
	close(x->sigfd);
	return ret;
}
