// SPDX-License-Identifier: MIT
/*
 * xdp.c - load, configure and attach bpf/ntad.bpf.c on one interface, or the
 * user's own program and XSKMAP in its place.
 *
 * One skeleton per interface: the XSKMAP is indexed by rx queue, so fwd's two
 * interfaces each need their own map (queue 0 of A and queue 0 of B are two
 * different sockets). The rule count and the length of a classic BPF program
 * are read-only data set before load, so the verifier removes the filter
 * entirely for "all traffic"; the rules or the program go into their array
 * map before the program is attached, and so do the sockets, so no frame is
 * ever redirected to an empty map slot or judged by a half-written program.
 *
 * The program is attached through a bpf_link (BPF_LINK_CREATE), never with the
 * netlink API: the link belongs to this process, so when ntad dies, even by
 * SIGKILL, the kernel detaches the program and the interface is as it was.
 * Native mode is requested explicitly (XDP_FLAGS_DRV_MODE), so a driver
 * without XDP support fails loudly instead of silently falling back to skb mode.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

/* The generated skeleton casts const away (bpftool 7.1); that is not ours to fix. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "bpf/ntad.skel.h"
#pragma GCC diagnostic pop
#include "internal.h"

struct ntad_xdp {
	struct ntad_bpf *skel;         /* ntad's program; NULL: the user's */
	int prog_fd, map_fd;           /* what is attached and where sockets go */
	char ifname[IF_NAMESIZE];
	unsigned int ifindex;
	bool skb_mode;
	int link_fd;
	int nr_cpus;
	struct ntad_xdp_stats *percpu; /* lookup buffer, one entry per possible CPU */
};

/* The classic program into the one entry of its map (32 KiB, zero past len). */
static int store_cbpf(struct ntad_xdp *x, const struct sock_filter *insns, unsigned int len)
{
	struct ntad_cbpf *c = calloc(1, sizeof(*c));
	uint32_t key = 0;
	int ret;

	if (!c)
		return -ENOMEM;
	memcpy(c->insns, insns, len * sizeof(*insns));
	ret = bpf_map__update_elem(x->skel->maps.cbpf_prog, &key, sizeof(key), c, sizeof(*c), BPF_ANY);
	if (ret)
		ntad_log(NTAD_WARN, "XDP program: cannot store the classic BPF program (%s)\n", strerror(-ret));
	free(c);
	return ret;
}

struct ntad_xdp *ntad_xdp_load(struct ntad_port *p)
{
	struct ntad_xdp *x = calloc(1, sizeof(*x));
	int ret;

	if (!x)
		return NULL;
	x->link_fd = -1;
	x->ifindex = p->info.ifindex;
	x->skb_mode = p->o.xdp_mode == NTAD_XDP_SKB;
	snprintf(x->ifname, sizeof(x->ifname), "%s", p->name);
	if (p->o.xsks_map_fd > 0) {
		x->map_fd = p->o.xsks_map_fd;
		x->prog_fd = p->o.prog_fd > 0 ? p->o.prog_fd : -1;
		return x;
	}
	x->nr_cpus = libbpf_num_possible_cpus();
	if (x->nr_cpus <= 0) {
		ret = x->nr_cpus ? x->nr_cpus : -EINVAL;
		ntad_log(NTAD_WARN, "CPUs: cannot count the possible CPUs (%s); is /sys mounted?\n", strerror(-ret));
		goto err_free;
	}
	x->percpu = calloc((size_t)x->nr_cpus, sizeof(*x->percpu));
	if (!x->percpu) {
		ret = -ENOMEM;
		goto err_free;
	}
	x->skel = ntad_bpf__open();
	if (!x->skel) {
		ret = -errno;
		ntad_log(NTAD_WARN, "XDP program: cannot open the embedded object (%s)\n", strerror(-ret));
		goto err_free;
	}
	x->skel->rodata->nr_rules = p->o.nr_rules;
	x->skel->rodata->cbpf_len = p->o.cbpf_len;
	if (p->o.cbpf_snaplen)
		x->skel->rodata->cbpf_snaplen = p->o.cbpf_snaplen;
	ret = ntad_bpf__load(x->skel);
	if (ret) {
		ntad_log(NTAD_WARN, "XDP program: load failed (%s)\n", strerror(-ret));
		goto err_skel;
	}
	if (p->o.cbpf_len && (ret = store_cbpf(x, p->o.cbpf, p->o.cbpf_len)))
		goto err_skel;
	for (uint32_t i = 0; i < p->o.nr_rules; i++) {
		ret = bpf_map__update_elem(x->skel->maps.rules, &i, sizeof(i), &p->rules[i],
					   sizeof(p->rules[i]), BPF_ANY);
		if (ret) {
			ntad_log(NTAD_WARN, "XDP program: cannot store filter rule %u (%s)\n", i, strerror(-ret));
			goto err_skel;
		}
	}
	x->prog_fd = bpf_program__fd(x->skel->progs.ntad_xdp);
	x->map_fd = bpf_map__fd(x->skel->maps.xsks_map);
	return x;

err_skel:
	ntad_bpf__destroy(x->skel);
err_free:
	free(x->percpu);
	free(x);
	errno = -ret;
	return NULL;
}

int ntad_xdp_set_socket(struct ntad_xdp *x, uint32_t queue, int fd)
{
	return bpf_map_update_elem(x->map_fd, &queue, &fd, BPF_ANY) ? -errno : 0;
}

int ntad_xdp_attach(struct ntad_xdp *x)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = x->skb_mode ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
	int fd;

	if (x->prog_fd < 0)
		return 0; /* the user attaches its own program */
	fd = bpf_link_create(x->prog_fd, (int)x->ifindex, BPF_XDP, &lo);
	if (fd >= 0) {
		x->link_fd = fd;
		return 0;
	}
	if (fd == -EOPNOTSUPP && !x->skb_mode)
		ntad_log(NTAD_WARN, "%s: native XDP refused, the driver has no XDP support; attach in skb mode\n", x->ifname);
	else if (fd == -EBUSY || fd == -EEXIST)
		ntad_log(NTAD_WARN, "%s: another XDP program is attached; remove it (ip link set dev %s xdp off) or stop its owner\n",
			 x->ifname, x->ifname);
	else
		ntad_log(NTAD_WARN, "%s: cannot attach the XDP program in %s mode (%s)\n",
			 x->ifname, x->skb_mode ? "skb" : "native", strerror(-fd));
	return fd;
}

void ntad_xdp_detach(struct ntad_xdp *x)
{
	if (x && x->link_fd >= 0) {
		close(x->link_fd);
		x->link_fd = -1;
	}
}

int ntad_xdp_counters(const struct ntad_xdp *x, struct ntad_xdp_stats *sum)
{
	uint32_t key = 0;
	int ret;

	memset(sum, 0, sizeof(*sum));
	if (!x->skel)
		return -ENOENT;
	ret = bpf_map__lookup_elem(x->skel->maps.xdp_stats, &key, sizeof(key), x->percpu,
				   (size_t)x->nr_cpus * sizeof(*x->percpu), 0);
	if (ret)
		return ret;
	for (int i = 0; i < x->nr_cpus; i++) {
		sum->redirected += x->percpu[i].redirected;
		sum->passed += x->percpu[i].passed;
		sum->dropped += x->percpu[i].dropped;
		sum->matched += x->percpu[i].matched;
	}
	return 0;
}

void ntad_xdp_destroy(struct ntad_xdp *x)
{
	if (!x)
		return;
	ntad_xdp_detach(x);
	if (x->skel)
		ntad_bpf__destroy(x->skel);
	free(x->percpu);
	free(x);
}
