/* SPDX-License-Identifier: MIT */
/*
 * cli.h - ntad's options: one struct filled by a table-driven parser and checked
 * for conflicts before anything touches the kernel, so tests/unit/test_cli.c can
 * drive it without root.
 */
#ifndef NTAD_CLI_H
#define NTAD_CLI_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "netem.h"
#include "ntad.h"
#include "ntad_pkt.h"

#define NTAD_VERSION "0.1.0"

enum ntad_mode { NTAD_MODE_RXDROP, NTAD_MODE_L2FWD, NTAD_MODE_TXONLY, NTAD_MODE_FWD,
		 NTAD_MODE_DELAY, NTAD_MODE_CAPTURE };
/* Multi-buffer: on when a frame does not fit a chunk, or forced on/off. */
enum ntad_frags_mode { NTAD_FRAGS_AUTO, NTAD_FRAGS_ON, NTAD_FRAGS_OFF };

/* Bits of ntad_opts.given: which txonly address options the user set. */
#define NTAD_GIVEN_SRC_MAC (1u << 0)
#define NTAD_GIVEN_DST_MAC (1u << 1)
#define NTAD_GIVEN_COPY_BREAK (1u << 8) /* delay/capture copy every packet unless given */

struct ntad_opts {
	char ifname[IF_NAMESIZE];
	char out_ifname[IF_NAMESIZE];  /* fwd and delay: -o */
	enum ntad_mode mode;
	uint32_t queue;                /* the first (or only) queue */
	uint32_t queues[NTAD_MAX_QUEUES]; /* every queue, one socket and one thread each */
	uint32_t nr_queues;            /* 1 unless --queues */
	int32_t cpus[NTAD_MAX_QUEUES]; /* --cpus: CPU of queues[i]'s thread */
	uint32_t nr_cpus;              /* 0: threads not pinned */
	uint32_t rt_priority;          /* --rt-priority: SCHED_FIFO at this priority; 0: the default policy */
	enum ntad_pool_kind pool;
	uint32_t rx_size, tx_size, fill_size, comp_size;
	uint32_t batch;
	uint32_t chunk_size;
	uint64_t umem_size;
	bool hugepages;
	enum ntad_bind bind;
	bool need_wakeup;
	bool busy_poll;
	enum ntad_xdp_mode xdp_mode;
	struct ntad_rule rules[NTAD_MAX_RULES];
	uint32_t nr_rules;
	uint32_t copy_break;           /* bytes; 0 disables */
	double duration;               /* seconds; 0: until stopped */
	uint64_t count;                /* packets; 0: unlimited */
	double interval;               /* seconds between report lines; 0: none */
	bool json;
	uint32_t size;                 /* txonly frame length */
	bool imix;
	bool payload_full;             /* txonly: build every frame whole (--payload full) */
	uint64_t rate;                 /* txonly packets per second; 0: as fast as possible */
	struct ntad_pkt_params pkt;    /* txonly addresses */
	uint32_t given;                /* NTAD_GIVEN_* */
	bool verify;
	enum ntad_frags_mode frags_mode;   /* --frags / --no-frags */
	bool frags;                    /* bind with XDP_USE_SG: decided by validation
	                                * (txonly --size) and ntad_frags_decide (MTU) */
	/* --mode delay / capture (modes/delay.c, modes/capture.c) */
	struct ntad_netem_opts netem[2]; /* delay: -i to -o (and without -o), -o to -i */
	uint64_t seed;                 /* PRNG of the delay line's impairments */
	uint64_t capture_bytes;        /* UMEM bytes held at most; 0: what the rings leave */
	uint64_t capture_age_ns;       /* evict packets older than this; 0: never */
	char pcap_path[256];           /* capture: write here; empty: count only */
	/* --mode capture: files and pcap-filter(7) expressions (modes/capture.c, pcap.c, expr.c) */
	char write_path[256];          /* -w: write continuously here, not held (tcpdump -w) */
	uint32_t snaplen;              /* -s: bytes of a frame written at most */
	uint64_t rotate_bytes;         /* -C: next file once one is larger; 0: one file */
	uint32_t rotate_files;         /* -W: a ring of this many files; 0: no limit */
	char expr[1024];               /* the trailing arguments: the frames capture keeps */
	char trigger_expr[1024];       /* --trigger expressions, or-ed: write when one matches */
	bool verbose;
	bool help, version;
};

/* Fill o with the defaults (also done by ntad_parse_args). */
void ntad_opts_default(struct ntad_opts *o);

/*
 * Parse argv into o and validate the combination. Returns 0 when ntad should
 * run, 1 when --help or --version was asked (o->help / o->version say which),
 * or -EINVAL with a one-line "thing: problem; fix" message in err.
 */
int ntad_parse_args(int argc, char **argv, struct ntad_opts *o, char *err, size_t errlen);

/* Parse one --filter value ("all", "proto=udp,dport=9", ...) into rule. */
int ntad_parse_rule(const char *s, struct ntad_rule *rule, bool *all, char *err, size_t errlen);

/* Parse a size with an optional k/M/G suffix (powers of 1024). */
int ntad_parse_size(const char *s, uint64_t *v);

void ntad_usage(FILE *f);
const char *ntad_mode_name(enum ntad_mode m);

/* fwd, and delay with -o: one socket on each interface, one shared UMEM. */
static inline bool ntad_two_interfaces(const struct ntad_opts *o)
{
	return o->mode == NTAD_MODE_FWD || (o->mode == NTAD_MODE_DELAY && o->out_ifname[0]);
}
const char *ntad_pool_name(enum ntad_pool_kind p);

#endif /* NTAD_CLI_H */
