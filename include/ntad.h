/* SPDX-License-Identifier: MIT */
/*
 * ntad.h - libntad, an AF_XDP packet engine whose UMEM is managed by the
 * Network Tree Allocator.
 *
 * Objects, from the bottom up:
 *   struct ntad_umem   the shared memory area, registered with the kernel in
 *                      unaligned chunk mode, and the pool that manages it (nta:
 *                      blocks of any length; fixed: one chunk a packet). Several
 *                      ports and queues share one UMEM.
 *   struct ntad_port   one interface: ntad's XDP filter program (or the user's
 *                      own program or XSKMAP) and the sockets of its queues.
 *   struct ntad_queue  what one thread polls: interface queue `queue_id` on one
 *                      or more ports of the same UMEM, one AF_XDP socket each,
 *                      with the thread's own pool handle and counters.
 *   struct ntad_pkt    a packet handle: one buffer, or a multi-buffer chain of
 *                      a frame larger than a chunk, alike.
 *
 * A queue is used by one thread at a time; different queues of one UMEM may
 * run in different threads. Calls on ports and on the UMEM are not for the
 * packet loop: make them from one thread, before the queues start or after
 * they stop.
 *
 * Conventions (libbpf's): opaque objects; options in structs whose first
 * field, sz, is sizeof the struct the caller was built with (LIBNTAD_OPTS
 * declares one); a NULL opts means every default. Calls return 0 or a
 * negative errno; constructors return NULL and set errno. An argument the
 * library cannot serve is refused with -EINVAL and nothing changed. What went
 * wrong is also said, as one "thing: problem; fix" line, through the print
 * callback (ntad_set_print); the library itself never writes to stdout or
 * stderr otherwise and never exits.
 *
 * The packet loop of a thread:
 *
 *	for (;;) {
 *		unsigned int work = ntad_queue__poll(q);   // completions, fill ring
 *		unsigned int n = ntad_rx_burst(q, 0, pkts, ntad_tx_room(q, 0));
 *		... look at pkts[i].data, pkts[i].len ...
 *		ntad_tx_burst(q, 0, pkts, n);               // or ntad_pkt_free()
 *		ntad_queue__flush(q, work + n);             // wake the kernel
 *		if (!work && !n)
 *			ntad_queue__wait(q, 10 * 1000000, -1);
 *	}
 *
 * Ownership of a buffer: received (rx_burst) or allocated (ntad_pkt_alloc), a
 * packet is the caller's until it is given back with exactly one of
 * ntad_tx_burst (it is freed when the kernel has sent it) or ntad_pkt_free.
 * The library keeps a ledger of every buffer: a packet given back twice, or
 * one that is not the caller's, is refused, counted (ledger_refused) and
 * logged, never submitted or freed a second time.
 */
#ifndef NTAD_H
#define NTAD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntad_bpf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LIBNTAD_MAJOR_VERSION 0
#define LIBNTAD_MINOR_VERSION 2

/* Declare an opts struct with sz set and the given fields: LIBNTAD_OPTS(ntad_umem_opts, o, .size = 1 << 26); */
#define LIBNTAD_OPTS(TYPE, NAME, ...) \
	struct TYPE NAME = { .sz = sizeof(struct TYPE), __VA_ARGS__ }

/* ---- logging ---- */

enum ntad_print_level { NTAD_WARN, NTAD_INFO, NTAD_DEBUG };
typedef int (*ntad_print_fn_t)(enum ntad_print_level level, const char *fmt, va_list ap);

/* Set the print callback (NULL: silence); returns the previous one. The
 * default prints warnings to stderr with the prefix "libntad: ". */
ntad_print_fn_t ntad_set_print(ntad_print_fn_t fn);

/* ---- UMEM ---- */

/* Received data starts this far into its fill region (the kernel's
 * XDP_PACKET_HEADROOM; ntad asks for no UMEM headroom of its own). */
#define NTAD_RX_OFFSET 256u
/* nta's jumbo range is cut into pages of this size: its largest block, a
 * 9014-byte frame and more. */
#define NTAD_JUMBO_PAGE 16384u

enum ntad_pool_kind {
	NTAD_POOL_NTA,   /* the Network Tree Allocator: blocks of any length */
	NTAD_POOL_FIXED, /* fixed frames of chunk_size bytes, the usual AF_XDP layout */
};

struct ntad_umem_opts {
	size_t sz;
	uint64_t size;           /* bytes; default 64 MiB */
	uint32_t chunk_size;     /* bytes of one fill region, 2048..4096; default 2048 */
	uint32_t fill_size;      /* fill ring of every socket; default 2048 */
	uint32_t comp_size;      /* completion ring of every socket; default 2048 */
	enum ntad_pool_kind pool;
	unsigned int nr_queues;  /* queue threads that will use it (pool handles); default 1 */
	/* nta: bytes at the end of the area for blocks larger than a page (a
	 * multiple of NTAD_JUMBO_PAGE): multi-buffer frames held or built contiguously. */
	uint64_t jumbo_size;
	bool hugepages;          /* map 2 MiB huge pages (reserve them first) */
	size_t :0;
};
#define ntad_umem_opts__last_field hugepages

struct ntad_umem *ntad_umem__create(const struct ntad_umem_opts *opts);

/*
 * After every queue is destroyed: hand back to the pool every buffer the
 * kernel kept (found in the ledger), unregister and unmap. Accepts NULL.
 */
void ntad_umem__destroy(struct ntad_umem *u);

void *ntad_umem__area(const struct ntad_umem *u);
uint64_t ntad_umem__size(const struct ntad_umem *u);
uint32_t ntad_umem__chunk_size(const struct ntad_umem *u);
const char *ntad_umem__pool_name(const struct ntad_umem *u);

/*
 * UMEM bytes one packet of len bytes occupies once held (ntad_pkt_hold) or
 * allocated: len rounded up to nta's 32-byte block, or a whole chunk with
 * fixed frames.
 */
uint32_t ntad_umem__cost(const struct ntad_umem *u, uint32_t len);

struct ntad_pool_stats {
	uint64_t size;           /* managed bytes */
	uint64_t in_use;         /* bytes not free */
	uint64_t free;
	uint64_t cached;         /* part of free parked in a front cache */
	uint64_t largest_free;   /* largest block one alloc could return now */
	uint64_t alloc_failures;
	uint64_t trims_undone;   /* trims cancelled by the kept part's free */
};
int ntad_umem__pool_stats(const struct ntad_umem *u, struct ntad_pool_stats *st);

/* What the teardown found, valid after every queue is destroyed. */
struct ntad_umem_exit {
	uint64_t kernel_held;    /* fill buffers the kernel had taken and kept */
	uint64_t tx_lost;        /* TX buffers never completed */
	uint64_t pool_errors;    /* frees the pool refused (a bug) */
	bool check_ok;           /* the pool's consistency check passed */
};

/*
 * After every queue is destroyed and before ntad_umem__destroy: give every
 * buffer still lent to the kernel back to the pool, check the pool, and
 * report. ntad_umem__pool_stats then says whether any byte is still in use.
 */
int ntad_umem__reclaim(struct ntad_umem *u, struct ntad_umem_exit *ex);

/* ---- interfaces ---- */

struct ntad_iface_info {
	unsigned int ifindex;
	unsigned int mtu;
	unsigned int rx_queues, tx_queues;  /* 0: unknown */
	bool up;
};
/* What the system says of ifname. -ENODEV when there is no such interface. */
int ntad_iface_info(const char *ifname, struct ntad_iface_info *info);

/* ---- ports ---- */

enum ntad_xdp_mode { NTAD_XDP_NATIVE, NTAD_XDP_SKB };
enum ntad_bind { NTAD_BIND_AUTO, NTAD_BIND_COPY, NTAD_BIND_ZEROCOPY };

struct ntad_port_opts {
	size_t sz;
	bool tx_only;            /* no RX ring, no fill ring, no XDP program */
	enum ntad_xdp_mode xdp_mode;
	enum ntad_bind bind;     /* auto: zero-copy when the driver has it, else copy */
	uint32_t rx_size, tx_size;  /* rings of every socket; default 2048 */
	bool no_wakeup;          /* do not bind with XDP_USE_NEED_WAKEUP (kick on every pass) */
	bool busy_poll;          /* SO_PREFER_BUSY_POLL on every socket */
	/*
	 * Multi-buffer (XDP_USE_SG, kernel 6.6): frames larger than a chunk arrive
	 * as chains and may be sent as chains. Off by default.
	 */
	bool frags;
	/* ntad's filter program: redirect what any rule matches (none: all). */
	const struct ntad_rule *rules;
	unsigned int nr_rules;
	/*
	 * The user's own XDP program instead: xsks_map_fd is its XSKMAP, where
	 * ntad puts each queue's socket at index queue_id. With prog_fd as well,
	 * ntad attaches that program (with a bpf_link) in ntad_port__start; with
	 * xsks_map_fd alone the user attaches it.
	 */
	int xsks_map_fd;
	int prog_fd;
	/*
	 * Or, in place of rules, a classic BPF program that ntad's filter program
	 * runs on every frame: cbpf_len instructions (struct sock_filter, the
	 * layout of libpcap's compiled programs and of SO_ATTACH_FILTER's),
	 * copied. A frame is redirected when the program returns non-zero, with
	 * libpcap's semantics (pcap_offline_filter) on the frame's first
	 * cbpf_snaplen bytes (0: all of it), as a capture cut there holds it; the
	 * program must pass ntad_cbpf_check.
	 */
	const struct sock_filter *cbpf;
	unsigned int cbpf_len;
	uint32_t cbpf_snaplen;
	size_t :0;
};
#define ntad_port_opts__last_field cbpf_snaplen

/*
 * Can ntad's filter program run this classic BPF program (ntad_port_opts'
 * cbpf)? 0; or -E2BIG, longer than NTAD_CBPF_MAX_INSNS; -EOPNOTSUPP, valid
 * but instruction *at is one it does not run: a backward jump (libpcap's
 * protochain) or a packet load at one of Linux's negative offsets
 * (SKF_AD_OFF, SKF_NET_OFF, SKF_LL_OFF; libpcap's inbound, outbound,
 * ifindex); -EINVAL, not a valid program (what libpcap's bpf_validate
 * refuses), *at the first instruction at fault, or an empty program. at may
 * be NULL; it is set only with those two errors.
 */
int ntad_cbpf_check(const struct sock_filter *insns, unsigned int len, unsigned int *at);

/*
 * Open ifname on u. Checks what can be checked before anything is attached:
 * the interface exists and is up, and the MTU fits a chunk (or frags is set).
 * Nothing is attached until ntad_port__start.
 */
struct ntad_port *ntad_port__open(struct ntad_umem *u, const char *ifname,
				  const struct ntad_port_opts *opts);

/*
 * Fill every RX queue's fill ring, then attach the XDP program (a bpf_link:
 * it goes away with the process, even on SIGKILL). Call after the port's
 * queues are created. 0 or -errno.
 */
int ntad_port__start(struct ntad_port *p);

/* Detach the XDP program: traffic goes to the kernel stack again. Idempotent. */
void ntad_port__stop(struct ntad_port *p);

/* After its queues are destroyed. Accepts NULL. */
void ntad_port__close(struct ntad_port *p);

const char *ntad_port__name(const struct ntad_port *p);
unsigned int ntad_port__ifindex(const struct ntad_port *p);
unsigned int ntad_port__mtu(const struct ntad_port *p);
/* rx and tx queues the interface has (0: unknown). */
unsigned int ntad_port__nr_queues(const struct ntad_port *p);
bool ntad_port__zerocopy(const struct ntad_port *p);
/*
 * The error of the socket the last ntad_queue__create on this port could not
 * set up, 0 when it had none: after a failed ntad_queue__create, says on which
 * of its ports it failed and why (-EBUSY: another socket is bound on the queue;
 * -ENOPROTOOPT: the kernel refused busy polling; otherwise the bind's error).
 */
int ntad_port__sock_error(const struct ntad_port *p);
/* The XDP program's counters (ntad's filter program only; -ENOENT otherwise). */
int ntad_port__xdp_stats(const struct ntad_port *p, struct ntad_xdp_stats *st);

/* ---- queues ---- */

struct ntad_queue_opts {
	size_t sz;
	uint32_t queue_id;       /* the interface queue */
	uint32_t batch;          /* descriptors per ring operation; default 64 */
	/*
	 * Received packets up to this many bytes that are held or sent are
	 * copied into an exact block and their fill region goes back at once;
	 * larger ones are trimmed in place. 0: never copy. Default 256. Only the
	 * nta pool has exact blocks; with fixed frames nothing is copied.
	 * 0: the default, 256; negative: never copy.
	 */
	int32_t copy_break;
	size_t :0;
};
#define ntad_queue_opts__last_field copy_break

/*
 * One socket on queue_id of each of ports[0..nr_ports) (all on the same UMEM,
 * at most NTAD_QUEUE_MAX_PORTS), and the next of the UMEM's nr_queues pool
 * handles. With ntad's filter program the sockets go into its XSKMAP now.
 */
#define NTAD_QUEUE_MAX_PORTS 2
#define NTAD_QUEUE_CHAINS 64
struct ntad_queue *ntad_queue__create(struct ntad_port *const *ports, unsigned int nr_ports,
				      const struct ntad_queue_opts *opts);

/*
 * After the ports are stopped, and after the caller freed every packet it
 * holds: free what the RX rings hold (counted in rx_drained), wait at most
 * half a second for the TX completions, and count the fill entries the
 * kernel never took. The counters and ring statistics stay readable.
 */
void ntad_queue__drain(struct ntad_queue *q);

/* Drain (if not done yet), close the sockets and free the queue. Accepts NULL. */
void ntad_queue__destroy(struct ntad_queue *q);

/*
 * Housekeeping at the start of a pass: take TX completions (their buffers go
 * back to the pool) and top every fill ring up. Returns the work done.
 */
unsigned int ntad_queue__poll(struct ntad_queue *q);

/*
 * At the end of a pass: ask the kernel to send what waits on the TX rings
 * (copy mode sends only on a syscall) and, when the pass found no work and
 * the kernel asked for it, to refill from the fill ring.
 */
void ntad_queue__flush(struct ntad_queue *q, unsigned int work);

/*
 * Sleep until a socket of q or extra_fd (-1: none) is readable, or timeout_ns
 * passes. Returns 1 when extra_fd is readable, else 0.
 */
int ntad_queue__wait(struct ntad_queue *q, uint64_t timeout_ns, int extra_fd);

/* Buffers on the TX rings not completed yet, over every port. */
uint64_t ntad_queue__tx_pending(const struct ntad_queue *q);

/*
 * 0, or the socket error that stopped port index *port (ENETDOWN: the
 * interface was removed; the kernel delivers nothing more). Cheap enough for a
 * clock tick, not for every pass.
 */
int ntad_queue__error(const struct ntad_queue *q, unsigned int *port);

uint32_t ntad_queue__id(const struct ntad_queue *q);
unsigned int ntad_queue__nr_ports(const struct ntad_queue *q);
struct ntad_umem *ntad_queue__umem(const struct ntad_queue *q);

struct ntad_queue_stats {
	uint64_t rx_packets, rx_bytes;   /* returned by rx_burst */
	uint64_t tx_packets, tx_bytes;   /* completed by the kernel */
	uint64_t tx_submitted;           /* packets accepted by tx_burst */
	uint64_t tx_dropped;             /* larger than a chunk on a port without frags */
	uint64_t copy_breaks, trims;     /* how held and sent packets were made cheap */
	uint64_t fill_short;             /* fill-ring slots the pool could not fill */
	uint64_t alloc_fail;             /* ntad_pkt_alloc refused for want of space */
	uint64_t pool_errors;            /* frees or trims the pool refused (a bug) */
	uint64_t ledger_refused;         /* buffers given back twice or not the caller's */
	uint64_t rx_drained;             /* packets freed unprocessed by destroy */
	uint64_t rx_multibuf;            /* packets that arrived in several buffers */
	uint64_t tx_multibuf;            /* packets sent as a chain of descriptors */
	uint64_t gathers;                /* chains copied into one block by hold */
	uint64_t fill_pending;           /* at destroy: fill entries the kernel never took */
	uint64_t tx_done_freed;          /* kept packets sent while ntad_tx_done's list was full */
};
/* The counters, as of the last call on q; read them from q's thread. */
void ntad_queue__stats(const struct ntad_queue *q, struct ntad_queue_stats *st);

/* Socket ring statistics (XDP_STATISTICS), summed over q's sockets. */
struct ntad_ring_stats {
	uint64_t rx_dropped, rx_invalid_descs, tx_invalid_descs;
	uint64_t rx_ring_full, rx_fill_ring_empty_descs, tx_ring_empty_descs;
};
int ntad_queue__ring_stats(const struct ntad_queue *q, struct ntad_ring_stats *st);

/* ---- packets ---- */

struct ntad_pkt {
	uint8_t *data;      /* the first byte (of the first buffer of a chain) */
	uint32_t len;       /* the whole packet */
	uint16_t port;      /* index (in the queue) of the port it came in on */
	uint16_t nr_bufs;   /* buffers: 1, or the length of a multi-buffer chain */
	/* The library's: where the packet lives. */
	uint64_t addr;      /* UMEM offset of data */
	uint64_t region;    /* received: its fill region; NTAD_NO_REGION once it has its own block */
	uint32_t chain;     /* nr_bufs > 1: the queue's record of the chain */
};
#define NTAD_NO_REGION UINT64_MAX

/*
 * Take up to n received packets from port index `port` of q into pkts.
 * Returns how many. A multi-buffer chain is one packet (nr_bufs > 1) that
 * takes nr_bufs descriptors when it is sent; the queue keeps the records of
 * at most NTAD_QUEUE_CHAINS chains the caller holds at once (more wait on the
 * ring until some are sent, held or freed).
 */
unsigned int ntad_rx_burst(struct ntad_queue *q, unsigned int port, struct ntad_pkt *pkts,
			   unsigned int n);

/* Free descriptors on the TX ring of port index `port`. */
unsigned int ntad_tx_room(struct ntad_queue *q, unsigned int port);

/*
 * Send pkts[0..n) on port index `port`, in order. A received packet is made
 * cheap first (copied into an exact block when it is at most copy_break
 * bytes, else trimmed: its fill region's unused head and tail go back). A
 * packet larger than a chunk goes out as a chain of descriptors (the port
 * needs frags; without, it is freed and counted in tx_dropped). Returns how
 * many were taken, from the front; the rest stay the caller's (no room on the
 * ring). A packet the ledger refuses is counted as taken and not sent.
 */
unsigned int ntad_tx_burst(struct ntad_queue *q, unsigned int port, struct ntad_pkt *pkts,
			   unsigned int n);

/*
 * As ntad_tx_burst, but the packets stay the caller's: once the kernel has
 * sent one, its buffer comes back through ntad_tx_done, its bytes as they
 * went out, instead of going to the pool. For a sender that writes a frame
 * once and sends it again and again with a few bytes changed (txonly's
 * sequence number: ntad_pkt_stamp). Only packets of one descriptor (at most
 * a chunk) are taken: the first that is not ends the burst and stays the
 * caller's, like those the ring has no room for.
 */
unsigned int ntad_tx_burst_keep(struct ntad_queue *q, unsigned int port, struct ntad_pkt *pkts,
				unsigned int n);

/*
 * Up to n packets of ntad_tx_burst_keep that the kernel has sent, oldest
 * first: the caller's again, to send, free or keep. The queue holds as many
 * as its TX and completion rings; a sent packet that finds them all
 * uncollected goes to the pool instead (counted in tx_done_freed). Those
 * never collected go to the pool at ntad_queue__drain.
 */
unsigned int ntad_tx_done(struct ntad_queue *q, struct ntad_pkt *pkts, unsigned int n);

/* Give pkts[0..n) back to the pool. */
void ntad_pkt_free(struct ntad_queue *q, struct ntad_pkt *pkts, unsigned int n);

/*
 * n packets of len bytes each, in blocks of exactly that length (nta; a
 * chunk with fixed frames, which cannot hold more than one chunk). Returns
 * how many the pool could give (counted in alloc_fail when fewer).
 */
unsigned int ntad_pkt_alloc(struct ntad_queue *q, uint32_t len, struct ntad_pkt *pkts,
			    unsigned int n);

/*
 * Make a received packet cheap to keep for a while: copied into an exact
 * block when it is at most copy_break bytes, else trimmed in place; a chain
 * is copied into one contiguous block (nta's jumbo range; -ENOMEM with fixed
 * frames). On -ENOMEM the packet is unchanged and still the caller's (free
 * something and retry, or free it). Packets that have their own block already
 * are left as they are (0).
 */
int ntad_pkt_hold(struct ntad_queue *q, struct ntad_pkt *p);

/*
 * ntad_pkt_hold for pkts[0..n) in order, cheaper per packet: the copy-break
 * blocks of the batch come from one allocator call and the regions go back in
 * one. Returns how many were made cheap to keep; when fewer than n, pkts[ret]
 * failed as ntad_pkt_hold would (*err, if err: -ENOMEM or -EINVAL), is
 * unchanged and still the caller's, and pkts[ret + 1..n) were not looked at.
 */
unsigned int ntad_pkt_hold_burst(struct ntad_queue *q, struct ntad_pkt *pkts, unsigned int n,
				 int *err);

/*
 * A packet with a block of its own (held, or allocated) is described by its
 * UMEM offset (p->addr) and length alone: a queue of held packets may store
 * just those and rebuild the handle here. -EINVAL when [addr, addr + len) is
 * not inside the UMEM.
 */
int ntad_pkt_at(const struct ntad_queue *q, uint64_t addr, uint32_t len, struct ntad_pkt *p);

/* Copy the packet's bytes (every buffer of a chain) into buf, at most size; returns the bytes copied. */
uint32_t ntad_pkt_read(const struct ntad_queue *q, const struct ntad_pkt *p, void *buf,
		       uint32_t size);

#ifdef __cplusplus
}
#endif

#endif /* NTAD_H */
