/* SPDX-License-Identifier: MIT */
/*
 * internal.h - libntad's objects as its files see them. Nothing here is part
 * of the public API (include/ntad.h).
 */
#ifndef NTAD_INTERNAL_H
#define NTAD_INTERNAL_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "ledger.h"
#include "ntad.h"
#include "pool.h"

/* UAPI newer than Debian 12's linux-libc-dev 6.1 (PLATFORM.md). */
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)    /* bind flag, kernel 6.6 */
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0) /* xdp_desc.options: more of this packet follows, 6.6 */
#endif

/* Buffers of one packet ntad takes; the kernel uses at most MAX_SKB_FRAGS + 1 (18). */
#define NTAD_CHAIN_MAX 32
/* Chains handed to the caller at once, per queue. */
#define NTAD_CHAIN_RECORDS NTAD_QUEUE_CHAINS
#define NTAD_FILL_MAX 512      /* regions one refill takes from the pool */

__attribute__((format(printf, 2, 3)))
void ntad_log(enum ntad_print_level level, const char *fmt, ...);

struct ntad_umem {
	void *area;
	uint64_t size;
	bool huge;
	uint32_t chunk_size;
	struct xsk_umem_config cfg;
	struct xsk_umem *xumem;
	unsigned int nr_socks;        /* sockets bound to xumem */
	bool sg, zc;                  /* XDP_USE_SG, zero-copy: the first socket decides */
	/* The rings created with the UMEM; the first socket bound uses them. */
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct ntad_pools pools;
	unsigned int nr_queues;       /* pool handles */
	unsigned int queues_made;     /* handles handed out (the next queue takes [queues_made]) */
	unsigned int queues_live;
	struct ntad_ledger ledger;    /* queues hold views of it */
	uint64_t pool_errors;         /* frees refused during teardown */
	uint64_t fill_pending;        /* fill entries never taken, summed at queue destroy */
	uint64_t tx_lost;             /* chain descriptors never completed, likewise */
};

struct ntad_xdp;

struct ntad_port {
	struct ntad_umem *u;
	char name[IF_NAMESIZE];
	struct ntad_iface_info info;
	struct ntad_port_opts o;
	struct ntad_rule rules[NTAD_MAX_RULES];
	struct ntad_xdp *xdp;         /* ntad's filter program, or the user's program/map */
	struct ntad_queue *queues[NTAD_MAX_QUEUES];
	unsigned int nr_queues;
	bool zerocopy;
	int sock_error;               /* ntad_port__sock_error */
};

/* One AF_XDP socket (xsk.c). */
struct ntad_sock {
	struct xsk_socket *xsk;
	int fd;
	bool need_wakeup;
	bool has_rx;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	struct xsk_ring_prod *fill;    /* the UMEM's rings (first socket) or fill_own */
	struct xsk_ring_cons *comp;
	struct xsk_ring_prod fill_own; /* a later socket on the shared UMEM */
	struct xsk_ring_cons comp_own;
};

/* A multi-buffer packet: its buffers in arrival order. */
struct ntad_frag {
	uint64_t base;  /* the fill region */
	uint64_t addr;  /* the data */
	uint32_t len;
};

struct ntad_chain {
	struct ntad_frag f[NTAD_CHAIN_MAX];
	unsigned int n;
	uint32_t len;      /* sum of the fragments */
	bool complete;     /* the last fragment (no XDP_PKT_CONTD) is in */
	bool overflow;     /* more than NTAD_CHAIN_MAX: the extra ones were freed */
	uint32_t next;     /* records: free list */
};

struct ntad_txchains;

/* A buffer of ntad_tx_burst_keep the kernel has sent, until ntad_tx_done takes it. */
struct ntad_kept {
	uint64_t addr;
	uint32_t len;
	uint16_t port;
};

struct ntad_queue {
	struct ntad_umem *u;
	uint8_t *area;
	struct ntad_pool *pool;
	struct ntad_ledger ledger;    /* a view of the UMEM's */
	unsigned int nr_ports;
	struct ntad_port *ports[NTAD_QUEUE_MAX_PORTS];
	struct ntad_sock socks[NTAD_QUEUE_MAX_PORTS];
	uint64_t outstanding[NTAD_QUEUE_MAX_PORTS]; /* TX descriptors not completed */
	uint32_t queue_id, batch, chunk, fill_size, comp_size, rx_size;
	uint32_t copy_break;          /* 0: never copy (also with fixed frames) */
	bool frags;                   /* any port has multi-buffer */
	struct ntad_queue_stats c;
	uint64_t *addrs;              /* NTAD_FILL_MAX addresses of scratch */
	uint64_t *spent;              /* whole regions to give back in one pool call */
	unsigned int nr_spent;
	struct ntad_kept *done;       /* FIFO of done_cap: every TX and completion slot */
	uint32_t done_head, done_n, done_cap;
	/* multi-buffer (chain.c) */
	struct ntad_chain rx_chain[NTAD_QUEUE_MAX_PORTS]; /* being assembled */
	struct ntad_chain *records;   /* NTAD_CHAIN_RECORDS handed to the caller */
	uint32_t free_record;
	struct ntad_txchains *txc;
	bool warned;                  /* ledger refusal logged once */
	bool drained;
};

/* xsk.c */
struct ntad_sock_cfg {
	bool rx;
	uint32_t rx_size, tx_size;
	bool need_wakeup;
	enum ntad_bind bind;
	bool frags;
	bool busy_poll;
	uint32_t busy_poll_budget;
};
int ntad_sock_create(struct ntad_sock *s, struct ntad_umem *u, const char *ifname, uint32_t queue,
		     const struct ntad_sock_cfg *cfg, bool *zerocopy);
int ntad_sock_stats(const struct ntad_sock *s, struct xdp_statistics *st);
bool ntad_sock_kick_tx(struct ntad_sock *s);
void ntad_sock_kick_rx(struct ntad_sock *s);
void ntad_sock_destroy(struct ntad_sock *s, struct ntad_umem *u);

/*
 * TX descriptors submitted that the kernel has not consumed yet: only then
 * does a TX kick move anything (copy mode sends on sendto() only, a batch of
 * descriptors per call).
 */
static inline bool ntad_sock_tx_waiting(const struct ntad_sock *s)
{
	return __atomic_load_n(s->tx.consumer, __ATOMIC_ACQUIRE) != *s->tx.producer;
}

static inline bool ntad_sock_rx_wants_kick(const struct ntad_sock *s)
{
	return !s->need_wakeup || xsk_ring_prod__needs_wakeup(s->fill);
}

/* umem.c: drop the registration (no socket bound) and register the area again. */
int ntad_umem_reregister(struct ntad_umem *u);

/* Give a buffer to q's pool; a refusal is a bug, counted. Inline: every free. */
static inline void ntad_path_pool_free(struct ntad_queue *q, uint64_t addr, uint32_t len)
{
	if (q->pool->ops->free(q->pool, addr, len))
		q->c.pool_errors++;
}

/* path.c: refill, completions, the exit drain. */
unsigned int ntad_path_refill(struct ntad_queue *q, unsigned int port);
unsigned int ntad_path_complete(struct ntad_queue *q, unsigned int port);
void ntad_path_drain(struct ntad_queue *q);
/* A refused ledger transition: counted, and said once per queue. */
void ntad_path_refused(struct ntad_queue *q, uint64_t addr, const char *what);

/* chain.c: multi-buffer receive and send. */
int ntad_chain_init(struct ntad_queue *q, uint64_t descs);
void ntad_chain_fini(struct ntad_queue *q);
unsigned int ntad_chain_rx_burst(struct ntad_queue *q, unsigned int port, struct ntad_pkt *pkts,
				 unsigned int n);
/* Queue one packet that takes several descriptors (or is a chain) on port's TX
 * ring at idx: the descriptors used, 0 when it was taken but not sent (dropped
 * or refused), -1 when it does not fit in room. */
int ntad_chain_tx(struct ntad_queue *q, unsigned int port, struct ntad_pkt *p, uint32_t idx,
		  uint32_t room);
/* -1: addr is no chain's; else handled, 1 when it ended a packet. */
int ntad_chain_tx_complete(struct ntad_queue *q, uint64_t addr, uint32_t len);
void ntad_chain_free(struct ntad_queue *q, struct ntad_pkt *p);
int ntad_chain_gather(struct ntad_queue *q, struct ntad_pkt *p);
uint32_t ntad_chain_read(const struct ntad_queue *q, const struct ntad_pkt *p, void *buf,
			 uint32_t size);
void ntad_chain_drain(struct ntad_queue *q);
/* After the sockets closed: free TX chains never completed; returns descriptors lost. */
uint64_t ntad_chain_reclaim(struct ntad_queue *q);

/* xdp.c */
struct ntad_xdp *ntad_xdp_load(struct ntad_port *p);
int ntad_xdp_set_socket(struct ntad_xdp *x, uint32_t queue, int fd);
int ntad_xdp_attach(struct ntad_xdp *x);
void ntad_xdp_detach(struct ntad_xdp *x);
int ntad_xdp_counters(const struct ntad_xdp *x, struct ntad_xdp_stats *sum);
void ntad_xdp_destroy(struct ntad_xdp *x);

#endif /* NTAD_INTERNAL_H */
