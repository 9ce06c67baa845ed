// SPDX-License-Identifier: MIT
/*
 * port.c - an interface on a UMEM: what the system says of it, its XDP
 * program, and the order in which it goes live.
 *
 * Start order: the queues' sockets exist and sit in the XSKMAP (queue.c), the
 * fill rings are topped up, and only then is the program attached, so the
 * first redirected frame finds a socket with buffers, and a failure anywhere
 * before leaves the interface untouched. The program is attached through a
 * bpf_link, never with the netlink API: the link belongs to this process, so
 * when it dies, even by SIGKILL, the kernel detaches the program. Native mode
 * is requested explicitly (XDP_FLAGS_DRV_MODE), so a driver without XDP
 * support fails loudly instead of silently falling back to skb mode.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "internal.h"

#define ETH_HLEN 14

/* Number of rx (or tx) queues, from /sys/class/net/IF/queues; 0 if unknown. */
static unsigned int count_queues(const char *ifname, const char *prefix)
{
	char path[64 + IF_NAMESIZE];
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

int ntad_iface_info(const char *ifname, struct ntad_iface_info *info)
{
	struct ifreq ifr = { 0 };
	int fd, ret = 0;

	if (!ifname || !info || !ifname[0] || strlen(ifname) >= IF_NAMESIZE)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	info->ifindex = if_nametoindex(ifname);
	if (!info->ifindex)
		return -ENODEV;
	info->rx_queues = count_queues(ifname, "rx-");
	info->tx_queues = count_queues(ifname, "tx-");
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(fd, SIOCGIFMTU, &ifr))
		ret = -errno;
	else
		info->mtu = (unsigned int)ifr.ifr_mtu;
	if (!ret && !ioctl(fd, SIOCGIFFLAGS, &ifr))
		info->up = ifr.ifr_flags & IFF_UP;
	close(fd);
	return ret;
}

struct ntad_port *ntad_port__open(struct ntad_umem *u, const char *ifname,
				  const struct ntad_port_opts *opts)
{
	LIBNTAD_OPTS(ntad_port_opts, o);
	uint32_t max_frame;
	struct ntad_port *p;
	unsigned int bad;
	int ret;

	if (opts) {
		if (opts->sz < offsetof(struct ntad_port_opts, prog_fd) + sizeof(int)) {
			errno = EINVAL;
			return NULL;
		}
		memcpy(&o, opts, sizeof(o) < opts->sz ? sizeof(o) : opts->sz);
	}
	if (!u || !ifname || o.nr_rules > NTAD_MAX_RULES || (o.nr_rules && !o.rules) ||
	    o.xdp_mode > NTAD_XDP_SKB || o.bind > NTAD_BIND_ZEROCOPY || o.xsks_map_fd < 0 ||
	    o.prog_fd < 0 || (o.prog_fd && !o.xsks_map_fd) || (o.nr_rules && o.xsks_map_fd) ||
	    (o.cbpf_len && (o.nr_rules || o.xsks_map_fd)) || (!o.cbpf_len != !o.cbpf) ||
	    (o.rx_size && (o.rx_size & (o.rx_size - 1))) || (o.tx_size && (o.tx_size & (o.tx_size - 1)))) {
		errno = EINVAL;
		return NULL;
	}
	ret = o.cbpf_len ? ntad_cbpf_check(o.cbpf, o.cbpf_len, &bad) : 0;
	if (ret == -E2BIG)
		ntad_log(NTAD_WARN, "classic BPF program: %u instructions, more than the %u the XDP program runs; shorten it\n",
			 o.cbpf_len, NTAD_CBPF_MAX_INSNS);
	else if (ret == -EOPNOTSUPP)
		ntad_log(NTAD_WARN, "classic BPF program: instruction %u is a backward jump or a load at a Linux ancillary offset, which the XDP program does not run; leave it out\n",
			 bad);
	else if (ret)
		ntad_log(NTAD_WARN, "classic BPF program: instruction %u of %u is not valid (as bpf_validate says); fix the program\n",
			 bad, o.cbpf_len);
	if (ret) {
		errno = EINVAL;
		return NULL;
	}
	o.rx_size = o.rx_size ? o.rx_size : 2048;
	o.tx_size = o.tx_size ? o.tx_size : 2048;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	ret = ntad_iface_info(ifname, &p->info);
	if (ret) {
		if (ret == -ENODEV)
			ntad_log(NTAD_WARN, "%s: no such interface\n", ifname);
		goto err;
	}
	max_frame = u->chunk_size - NTAD_RX_OFFSET;
	if (!o.tx_only && !o.frags && p->info.mtu + ETH_HLEN > max_frame) {
		ntad_log(NTAD_WARN, "%s: MTU %u too large for %u-byte chunks without multi-buffer (frames up to %u bytes)\n",
			 ifname, p->info.mtu, u->chunk_size, max_frame);
		ret = -EMSGSIZE;
		goto err;
	}
	p->u = u;
	p->o = o;
	snprintf(p->name, sizeof(p->name), "%s", ifname);
	if (o.nr_rules)
		memcpy(p->rules, o.rules, o.nr_rules * sizeof(*o.rules));
	p->o.rules = NULL;
	if (!o.tx_only && !(p->xdp = ntad_xdp_load(p))) {
		ret = -errno;
		goto err;
	}
	p->o.cbpf = NULL; /* copied into the program's map: the caller's no longer */
	return p;

err:
	free(p);
	errno = -ret;
	return NULL;
}

int ntad_port__start(struct ntad_port *p)
{
	if (!p)
		return -EINVAL;
	if (p->o.tx_only)
		return 0;
	for (unsigned int i = 0; i < p->nr_queues; i++) {
		struct ntad_queue *q = p->queues[i];

		for (unsigned int k = 0; k < q->nr_ports; k++)
			if (q->ports[k] == p)
				while (ntad_path_refill(q, k))
					;
	}
	return ntad_xdp_attach(p->xdp);
}

void ntad_port__stop(struct ntad_port *p)
{
	if (p && p->xdp)
		ntad_xdp_detach(p->xdp);
}

void ntad_port__close(struct ntad_port *p)
{
	if (!p)
		return;
	ntad_xdp_destroy(p->xdp);
	free(p);
}

const char *ntad_port__name(const struct ntad_port *p)
{
	return p ? p->name : NULL;
}

unsigned int ntad_port__ifindex(const struct ntad_port *p)
{
	return p ? p->info.ifindex : 0;
}

unsigned int ntad_port__mtu(const struct ntad_port *p)
{
	return p ? p->info.mtu : 0;
}

unsigned int ntad_port__nr_queues(const struct ntad_port *p)
{
	if (!p)
		return 0;
	return p->info.rx_queues < p->info.tx_queues ? p->info.rx_queues : p->info.tx_queues;
}

bool ntad_port__zerocopy(const struct ntad_port *p)
{
	return p && p->zerocopy;
}

int ntad_port__sock_error(const struct ntad_port *p)
{
	return p ? p->sock_error : -EINVAL;
}

int ntad_port__xdp_stats(const struct ntad_port *p, struct ntad_xdp_stats *st)
{
	if (!p || !st)
		return -EINVAL;
	if (!p->xdp)
		return -ENOENT;
	return ntad_xdp_counters(p->xdp, st);
}
