/* SPDX-License-Identifier: MIT */
/*
 * xsk.h - one AF_XDP socket on one interface queue, bound to ntad's UMEM.
 */
#ifndef NTAD_XSK_H
#define NTAD_XSK_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "cli.h"
#include "umem.h"

struct ntad_sock {
	struct xsk_socket *xsk;
	int fd;
	char ifname[IF_NAMESIZE];
	uint32_t queue;
	bool zerocopy;
	bool need_wakeup;
	bool has_rx;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	struct xsk_ring_prod *fill;    /* the UMEM's rings (first socket) or fill_own */
	struct xsk_ring_cons *comp;
	struct xsk_ring_prod fill_own; /* a second socket on the shared UMEM */
	struct xsk_ring_cons comp_own;
};

/*
 * Create a socket on ifname/queue with an RX ring when rx is set (txonly has
 * none) and a TX ring. The first socket of the UMEM uses its fill and
 * completion rings; later ones share the UMEM with their own. Handles
 * --bind auto (zero-copy, else copy: a line goes to note) and the EBUSY of a
 * quick rebind (retries for a second). Returns 0 or -errno with err filled.
 */
int ntad_sock_create(struct ntad_sock *s, struct ntad_umem *u, const char *ifname, uint32_t queue,
		     bool rx, const struct ntad_opts *o, char *note, size_t notelen, char *err, size_t errlen);

/* The kernel's ring statistics (XDP_STATISTICS). */
int ntad_sock_stats(const struct ntad_sock *s, struct xdp_statistics *st);

/* Ask the kernel to send what the TX ring holds (copy mode sends on syscalls).
 * Returns whether the kernel took descriptors from the ring meanwhile. */
bool ntad_sock_kick_tx(struct ntad_sock *s);

/* Let the kernel refill from the fill ring when it asked for a wakeup. */
void ntad_sock_kick_rx(struct ntad_sock *s);

/*
 * TX descriptors submitted that the kernel has not consumed yet: only then
 * does a TX kick move anything (copy mode sends on sendto() only, a batch of
 * descriptors per call). Inline: the loop asks it every pass.
 */
static inline bool ntad_sock_tx_waiting(const struct ntad_sock *s)
{
	return __atomic_load_n(s->tx.consumer, __ATOMIC_ACQUIRE) != *s->tx.producer;
}

/* Whether ntad_sock_kick_rx would make a syscall (without the call). */
static inline bool ntad_sock_rx_wants_kick(const struct ntad_sock *s)
{
	return !s->need_wakeup || xsk_ring_prod__needs_wakeup(s->fill);
}

void ntad_sock_destroy(struct ntad_sock *s, struct ntad_umem *u);

#endif /* NTAD_XSK_H */
