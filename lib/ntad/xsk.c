// SPDX-License-Identifier: MIT
/*
 * xsk.c - AF_XDP sockets: creation and binding over ntad's UMEM, the kernel's
 * ring statistics, and the wakeup syscalls.
 *
 * libxdp's <xdp/xsk.h> provides the ring accessors; XSK_LIBXDP_FLAGS__INHIBIT_
 * PROG_LOAD keeps it from loading its own XDP program, because xdp.c attaches
 * ntad's (with a bpf_link) and fills the XSKMAP itself.
 *
 * Retries: a bind that fails after the UMEM socket's rings were set up leaves
 * that socket unusable (the kernel refuses to size a ring twice), so the first
 * socket re-registers the UMEM before each retry. Two failures are retried:
 * EOPNOTSUPP for zero-copy under --bind auto (veth is copy-only, PLATFORM.md),
 * and EBUSY while the previous socket on the queue is still being torn down.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "internal.h"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69 /* kernel 5.11 */
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70 /* kernel 5.11 */
#endif

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int busy_poll_setup(struct ntad_sock *s, const struct ntad_sock_cfg *c)
{
	int one = 1, usecs = 20, budget = (int)(c->busy_poll_budget ? c->busy_poll_budget : 64);

	if (setsockopt(s->fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) ||
	    setsockopt(s->fd, SOL_SOCKET, SO_BUSY_POLL, &usecs, sizeof(usecs)) ||
	    setsockopt(s->fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget)))
		return -errno;
	return 0;
}

/*
 * Sockets after the first share the UMEM (XDP_SHARED_UMEM). The kernel takes
 * no bind flags for those: it refuses XDP_COPY, XDP_ZEROCOPY,
 * XDP_USE_NEED_WAKEUP and XDP_USE_SG there (EINVAL) and gives the socket the
 * first socket's (copy or zero-copy, wakeups, multi-buffer), which libxdp
 * therefore drops too. So every socket of a UMEM binds as the first one did;
 * a later socket that asks for something else is refused here, not silently
 * given the first one's flags.
 */
int ntad_sock_create(struct ntad_sock *s, struct ntad_umem *u, const char *ifname, uint32_t queue,
		     const struct ntad_sock_cfg *c, bool *zerocopy)
{
	bool first = u->nr_socks == 0;
	bool zc = c->bind != NTAD_BIND_COPY;
	double deadline = now_s() + 1.0;
	struct xsk_socket_config cfg;
	int ret;

	memset(s, 0, sizeof(*s));
	if (!first && c->frags != u->sg)
		return -EINVAL;
	s->has_rx = c->rx;
	s->need_wakeup = c->need_wakeup;
	s->fill = first ? &u->fill : &s->fill_own;
	s->comp = first ? &u->comp : &s->comp_own;
	for (;;) {
		cfg = (struct xsk_socket_config){
			.rx_size = c->rx_size,
			.tx_size = c->tx_size,
			.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
			.bind_flags = (uint16_t)((zc ? XDP_ZEROCOPY : XDP_COPY) |
						 (c->need_wakeup ? XDP_USE_NEED_WAKEUP : 0) |
						 (c->frags ? XDP_USE_SG : 0)),
		};
		ret = xsk_socket__create_shared(&s->xsk, ifname, queue, u->xumem,
						c->rx ? &s->rx : NULL, &s->tx, s->fill, s->comp, &cfg);
		if (!ret)
			break;
		s->xsk = NULL;
		if (first) {
			int r2 = ntad_umem_reregister(u);

			if (r2) {
				ntad_log(NTAD_WARN, "UMEM: cannot register it again after a failed bind (%s)\n",
					 strerror(-r2));
				return r2;
			}
		}
		if (ret == -EOPNOTSUPP && zc && c->bind == NTAD_BIND_AUTO) {
			zc = false;
			ntad_log(NTAD_INFO, "%s: zero-copy AF_XDP not supported, using copy mode\n", ifname);
			continue;
		}
		if (ret == -EBUSY && now_s() < deadline) {
			usleep(50 * 1000);
			continue;
		}
		ntad_log(NTAD_WARN, "%s queue %u: AF_XDP bind failed (%s)\n", ifname, queue, strerror(-ret));
		return ret;
	}
	if (first) {
		u->sg = c->frags;
		u->zc = zc;
	}
	u->nr_socks++;
	s->fd = xsk_socket__fd(s->xsk);
	*zerocopy = u->zc;
	if (c->busy_poll && (ret = busy_poll_setup(s, c))) {
		ntad_log(NTAD_WARN, "%s: busy polling refused (%s)\n", ifname, strerror(-ret));
		ntad_sock_destroy(s, u);
		return -ENOPROTOOPT; /* what failed, for ntad_port__sock_error */
	}
	return 0;
}

int ntad_sock_stats(const struct ntad_sock *s, struct xdp_statistics *st)
{
	socklen_t len = sizeof(*st);

	memset(st, 0, sizeof(*st));
	if (getsockopt(s->fd, SOL_XDP, XDP_STATISTICS, st, &len))
		return -errno;
	return 0;
}

bool ntad_sock_kick_tx(struct ntad_sock *s)
{
	uint32_t before = __atomic_load_n(s->tx.consumer, __ATOMIC_ACQUIRE);

	if (s->need_wakeup && !xsk_ring_prod__needs_wakeup(&s->tx))
		return false;
	/* ENOBUFS/EAGAIN/EBUSY only mean "try again": the loop kicks again. */
	(void)sendto(s->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
	return __atomic_load_n(s->tx.consumer, __ATOMIC_ACQUIRE) != before;
}

void ntad_sock_kick_rx(struct ntad_sock *s)
{
	if (!s->need_wakeup || xsk_ring_prod__needs_wakeup(s->fill))
		(void)recvfrom(s->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

void ntad_sock_destroy(struct ntad_sock *s, struct ntad_umem *u)
{
	if (!s->xsk)
		return;
	xsk_socket__delete(s->xsk);
	s->xsk = NULL;
	u->nr_socks--;
}
