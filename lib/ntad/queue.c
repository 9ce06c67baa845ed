// SPDX-License-Identifier: MIT
/*
 * queue.c - what one thread polls: a socket on the same interface queue of
 * each of its ports, a pool handle of its own, and its counters; how it waits
 * and wakes the kernel; and its teardown.
 *
 * Waiting: a caller's loop spins while there is work and sleeps in
 * ntad_queue__wait when there is none, so an idle queue costs no CPU. Copy-mode
 * TX moves only on syscalls, so ntad_queue__flush kicks a TX ring whenever
 * descriptors wait there that the kernel has not taken (buffers it already
 * sent only wait for their completions, which come without a syscall); copy
 * mode takes at most 32 descriptors a call, so the kick repeats while the
 * kernel keeps taking. RX is kicked only on an idle pass, when the fill ring
 * asks for it.
 *
 * Teardown (ntad_queue__destroy, after the ports are stopped): what the RX
 * rings hold goes back to the pool, TX completions are awaited (bounded),
 * then the sockets close; what the kernel still had is found later in the
 * UMEM's ledger (ntad_umem__reclaim), when every socket is gone.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "internal.h"

#define DEF_BATCH 64u
#define DEF_COPY_BREAK 256u
#define TX_KICKS_PER_PASS 4  /* copy mode: 32 descriptors a sendto(), 4 x 32 >= the default batch */

struct ntad_queue *ntad_queue__create(struct ntad_port *const *ports, unsigned int nr_ports,
				      const struct ntad_queue_opts *opts)
{
	LIBNTAD_OPTS(ntad_queue_opts, o);
	struct ntad_umem *u;
	struct ntad_queue *q;
	int ret;

	if (opts) {
		if (opts->sz < offsetof(struct ntad_queue_opts, copy_break) + sizeof(int32_t)) {
			errno = EINVAL;
			return NULL;
		}
		memcpy(&o, opts, sizeof(o) < opts->sz ? sizeof(o) : opts->sz);
	}
	if (!ports || !nr_ports || nr_ports > NTAD_QUEUE_MAX_PORTS || !ports[0] ||
	    o.queue_id >= NTAD_MAX_QUEUES || o.batch > NTAD_FILL_MAX || o.copy_break > 65535) {
		errno = EINVAL;
		return NULL;
	}
	u = ports[0]->u;
	for (unsigned int i = 0; i < nr_ports; i++) {
		struct ntad_port *p = ports[i];

		if (!p || p->u != u || p->nr_queues >= NTAD_MAX_QUEUES ||
		    (i && p == ports[0]) || p->o.frags != ports[0]->o.frags) {
			errno = EINVAL;
			return NULL;
		}
		for (unsigned int k = 0; k < p->nr_queues; k++)
			if (p->queues[k]->queue_id == o.queue_id) {
				errno = EEXIST;
				return NULL;
			}
	}
	if (u->queues_made >= u->nr_queues) {
		ntad_log(NTAD_WARN, "UMEM: all %u queues it was made for exist; create it with a larger nr_queues\n",
			 u->nr_queues);
		errno = ENOSPC;
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->u = u;
	q->area = u->area;
	q->queue_id = o.queue_id;
	q->batch = o.batch ? o.batch : DEF_BATCH;
	q->chunk = u->chunk_size;
	q->fill_size = u->cfg.fill_size;
	q->comp_size = u->cfg.comp_size;
	q->rx_size = ports[0]->o.rx_size;
	q->pool = u->pools.q[u->queues_made];
	q->copy_break = !q->pool->exact || o.copy_break < 0 ? 0 :
			o.copy_break ? (uint32_t)o.copy_break : DEF_COPY_BREAK;
	q->frags = ports[0]->o.frags;
	ntad_ledger_view(&q->ledger, &u->ledger);
	q->addrs = calloc(2 * NTAD_FILL_MAX, sizeof(*q->addrs));
	for (unsigned int i = 0; i < nr_ports; i++)
		q->done_cap += ports[i]->o.tx_size + q->comp_size;
	q->done = calloc(q->done_cap, sizeof(*q->done));
	ret = q->addrs && q->done ? 0 : -ENOMEM;
	if (ret || (q->frags && (ret = ntad_chain_init(q, (uint64_t)nr_ports *
							      (ports[0]->o.tx_size + q->comp_size)))))
		goto err;
	q->spent = q->addrs + NTAD_FILL_MAX;
	for (unsigned int i = 0; i < nr_ports; i++)
		ports[i]->sock_error = 0;
	for (unsigned int i = 0; i < nr_ports; i++) {
		struct ntad_port *p = ports[i];
		struct ntad_sock_cfg c = {
			.rx = !p->o.tx_only,
			.rx_size = p->o.rx_size,
			.tx_size = p->o.tx_size,
			.need_wakeup = !p->o.no_wakeup,
			.bind = p->o.bind,
			.frags = p->o.frags,
			.busy_poll = p->o.busy_poll,
			.busy_poll_budget = q->batch,
		};

		ret = ntad_sock_create(&q->socks[i], u, p->name, o.queue_id, &c, &p->zerocopy);
		if (ret) {
			p->sock_error = ret;
			goto err_socks;
		}
		q->ports[i] = p;
		q->nr_ports++;
		if (p->xdp && (ret = ntad_xdp_set_socket(p->xdp, o.queue_id, q->socks[i].fd))) {
			ntad_log(NTAD_WARN, "%s: cannot put the socket of queue %u into the XSKMAP (%s)\n",
				 p->name, o.queue_id, strerror(-ret));
			p->sock_error = ret;
			goto err_socks;
		}
	}
	for (unsigned int i = 0; i < nr_ports; i++)
		ports[i]->queues[ports[i]->nr_queues++] = q;
	u->queues_made++;
	u->queues_live++;
	return q;

err_socks:
	while (q->nr_ports)
		ntad_sock_destroy(&q->socks[--q->nr_ports], u);
err:
	ntad_chain_fini(q);
	free(q->done);
	free(q->addrs);
	free(q);
	errno = -ret;
	return NULL;
}

static void port_forget(struct ntad_port *p, const struct ntad_queue *q)
{
	for (unsigned int k = 0; k < p->nr_queues; k++)
		if (p->queues[k] == q) {
			p->queues[k] = p->queues[--p->nr_queues];
			return;
		}
}

void ntad_queue__destroy(struct ntad_queue *q)
{
	struct ntad_umem *u;

	if (!q)
		return;
	u = q->u;
	ntad_queue__drain(q);
	for (unsigned int i = 0; i < q->nr_ports; i++) {
		ntad_sock_destroy(&q->socks[i], u);
		port_forget(q->ports[i], q);
	}
	/* The sockets are closed: chains the kernel never completed go back whole. */
	if (q->frags)
		u->tx_lost += ntad_chain_reclaim(q);
	u->fill_pending += q->c.fill_pending;
	u->pool_errors += q->c.pool_errors;
	ntad_chain_fini(q);
	ntad_ledger_fini(&q->ledger);
	free(q->done);
	free(q->addrs);
	u->queues_live--;
	free(q);
}

void ntad_queue__drain(struct ntad_queue *q)
{
	if (q && !q->drained) {
		ntad_path_drain(q);
		q->drained = true;
	}
}

unsigned int ntad_queue__poll(struct ntad_queue *q)
{
	unsigned int work = 0;

	for (unsigned int i = 0; i < q->nr_ports; i++) {
		work += ntad_path_complete(q, i);
		if (q->socks[i].has_rx)
			work += ntad_path_refill(q, i);
	}
	return work;
}

void ntad_queue__flush(struct ntad_queue *q, unsigned int work)
{
	for (unsigned int i = 0; i < q->nr_ports; i++) {
		struct ntad_sock *s = &q->socks[i];

		for (unsigned int k = 0; k < TX_KICKS_PER_PASS && q->outstanding[i] &&
					 ntad_sock_tx_waiting(s); k++)
			if (!ntad_sock_kick_tx(s))
				break;
		if (s->has_rx && !work && ntad_sock_rx_wants_kick(s))
			ntad_sock_kick_rx(s);
	}
}

int ntad_queue__wait(struct ntad_queue *q, uint64_t timeout_ns, int extra_fd)
{
	struct pollfd p[NTAD_QUEUE_MAX_PORTS + 1];
	struct timespec ts = { (time_t)(timeout_ns / 1000000000ull), (long)(timeout_ns % 1000000000ull) };
	unsigned int n = 0;

	for (unsigned int i = 0; i < q->nr_ports; i++)
		p[n++] = (struct pollfd){ .fd = q->socks[i].fd, .events = POLLIN };
	if (extra_fd >= 0)
		p[n++] = (struct pollfd){ .fd = extra_fd, .events = POLLIN };
	if (ppoll(p, n, &ts, NULL) > 0 && extra_fd >= 0 && (p[n - 1].revents & POLLIN))
		return 1;
	return 0;
}

uint64_t ntad_queue__tx_pending(const struct ntad_queue *q)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < q->nr_ports; i++)
		n += q->outstanding[i];
	return n;
}

int ntad_queue__error(const struct ntad_queue *q, unsigned int *port)
{
	for (unsigned int i = 0; i < q->nr_ports; i++) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (!getsockopt(q->socks[i].fd, SOL_SOCKET, SO_ERROR, &err, &len) && err) {
			if (port)
				*port = i;
			return err;
		}
	}
	return 0;
}

uint32_t ntad_queue__id(const struct ntad_queue *q)
{
	return q->queue_id;
}

unsigned int ntad_queue__nr_ports(const struct ntad_queue *q)
{
	return q->nr_ports;
}

struct ntad_umem *ntad_queue__umem(const struct ntad_queue *q)
{
	return q->u;
}

void ntad_queue__stats(const struct ntad_queue *q, struct ntad_queue_stats *st)
{
	*st = q->c;
	st->ledger_refused = q->ledger.violations;
}

int ntad_queue__ring_stats(const struct ntad_queue *q, struct ntad_ring_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (unsigned int i = 0; i < q->nr_ports; i++) {
		struct xdp_statistics x;
		int ret = ntad_sock_stats(&q->socks[i], &x);

		if (ret)
			return ret;
		st->rx_dropped += x.rx_dropped;
		st->rx_invalid_descs += x.rx_invalid_descs;
		st->tx_invalid_descs += x.tx_invalid_descs;
		st->rx_ring_full += x.rx_ring_full;
		st->rx_fill_ring_empty_descs += x.rx_fill_ring_empty_descs;
		st->tx_ring_empty_descs += x.tx_ring_empty_descs;
	}
	return 0;
}
