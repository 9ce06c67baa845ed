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

#include "frags.h"
#include "xsk.h"

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

static int busy_poll_setup(struct ntad_sock *s, const struct ntad_opts *o, char *err, size_t errlen)
{
	int one = 1, usecs = 20, budget = (int)o->batch;

	if (setsockopt(s->fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) ||
	    setsockopt(s->fd, SOL_SOCKET, SO_BUSY_POLL, &usecs, sizeof(usecs)) ||
	    setsockopt(s->fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget))) {
		int ret = -errno;

		snprintf(err, errlen, "--busy-poll: %s refuses busy polling (%s); drop --busy-poll",
			 s->ifname, strerror(-ret));
		return ret;
	}
	return 0;
}

int ntad_sock_create(struct ntad_sock *s, struct ntad_umem *u, const char *ifname, uint32_t queue,
		     bool rx, const struct ntad_opts *o, char *note, size_t notelen, char *err, size_t errlen)
{
	bool first = u->nr_socks == 0;
	bool zc = o->bind != NTAD_BIND_COPY;
	double deadline = now_s() + 1.0;
	struct xsk_socket_config cfg;
	int ret;

	memset(s, 0, sizeof(*s));
	snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);
	s->queue = queue;
	s->has_rx = rx;
	s->need_wakeup = o->need_wakeup;
	s->fill = first ? &u->fill : &s->fill_own;
	s->comp = first ? &u->comp : &s->comp_own;
	if (note && notelen)
		note[0] = '\0';

	for (;;) {
		cfg = (struct xsk_socket_config){
			.rx_size = o->rx_size,
			.tx_size = o->tx_size,
			.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
			.bind_flags = (uint16_t)((zc ? XDP_ZEROCOPY : XDP_COPY) |
						 (o->need_wakeup ? XDP_USE_NEED_WAKEUP : 0) |
						 (o->frags ? XDP_USE_SG : 0)),
		};
		ret = xsk_socket__create_shared(&s->xsk, ifname, queue, u->xumem,
						rx ? &s->rx : NULL, &s->tx, s->fill, s->comp, &cfg);
		if (!ret)
			break;
		s->xsk = NULL;
		if (first) {
			int r2 = ntad_umem_reregister(u);

			if (r2) {
				snprintf(err, errlen, "UMEM: cannot register it again after a failed bind (%s); try again",
					 strerror(-r2));
				return r2;
			}
		}
		if (ret == -EOPNOTSUPP && zc && o->bind == NTAD_BIND_AUTO) {
			zc = false;
			snprintf(note, notelen, "%s: zero-copy AF_XDP not supported, using copy mode", ifname);
			continue;
		}
		if (ret == -EBUSY && now_s() < deadline) {
			usleep(50 * 1000);
			continue;
		}
		if (ret == -EOPNOTSUPP && zc && !o->frags)
			snprintf(err, errlen, "%s: the driver has no zero-copy AF_XDP; use --bind copy or --bind auto", ifname);
		else if (o->frags && (ret == -EINVAL || ret == -EOPNOTSUPP))
			ntad_frags_bind_refused(o, ifname, ret, err, errlen);
		else if (ret == -EBUSY)
			snprintf(err, errlen, "%s queue %u: busy, another AF_XDP socket is bound there; stop it or use another --queue",
				 ifname, queue);
		else if (ret == -EPERM || ret == -EACCES)
			snprintf(err, errlen, "%s: not allowed to create an AF_XDP socket; ntad needs root (CAP_NET_ADMIN, CAP_NET_RAW)", ifname);
		else
			snprintf(err, errlen, "%s queue %u: AF_XDP bind failed (%s); check the interface, --queue and --bind",
				 ifname, queue, strerror(-ret));
		return ret;
	}
	u->nr_socks++;
	s->fd = xsk_socket__fd(s->xsk);
	s->zerocopy = zc;
	if (o->busy_poll) {
		ret = busy_poll_setup(s, o, err, errlen);
		if (ret) {
			ntad_sock_destroy(s, u);
			return ret;
		}
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
