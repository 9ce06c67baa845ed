/* SPDX-License-Identifier: MIT */
/*
 * xdp.h - ntad's XDP program on one interface: load with the filter rules,
 * point queues at sockets, attach with a bpf_link, read the counters.
 */
#ifndef NTAD_XDP_H
#define NTAD_XDP_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "ntad_bpf.h"

struct ntad_xdp;

/*
 * Open and load the program for ifindex with o's rules (not attached yet).
 * NULL with errno and a message in err on failure.
 */
struct ntad_xdp *ntad_xdp_load(const char *ifname, unsigned int ifindex, const struct ntad_opts *o,
			       char *err, size_t errlen);

/* Send the traffic of rx queue `queue` to the AF_XDP socket fd. */
int ntad_xdp_set_socket(struct ntad_xdp *x, uint32_t queue, int fd);

/* Attach with a bpf_link in o's mode (native by default); -errno and err on failure. */
int ntad_xdp_attach(struct ntad_xdp *x, char *err, size_t errlen);

/* Destroy the link: the interface is back to what it was. Idempotent. */
void ntad_xdp_detach(struct ntad_xdp *x);

/* Sum the per-CPU counters. */
int ntad_xdp_counters(const struct ntad_xdp *x, struct ntad_xdp_stats *sum);

/* Detach and free. Accepts NULL. */
void ntad_xdp_destroy(struct ntad_xdp *x);

#endif /* NTAD_XDP_H */
