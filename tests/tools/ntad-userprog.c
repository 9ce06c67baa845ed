// SPDX-License-Identifier: MIT
/*
 * ntad-userprog.c - libntad with the caller's own XDP program, as an
 * application that already has one would use it: the program and its XSKMAP
 * are loaded here with libbpf (the object file given, which must have a map
 * named xsks_map), not by libntad, and handed to ntad_port__open.
 *
 *   ntad-userprog attach OBJ IFACE N   libntad attaches OBJ's program (prog_fd)
 *   ntad-userprog map OBJ IFACE N      this program attaches it; libntad only
 *                                      puts its socket into the XSKMAP
 *
 * Prints "ready prog_id=ID" (the program it loaded) once the program is
 * attached, receives N frames on queue 0, checks each with ntad_pkt_verify,
 * and prints "received=N valid=V" (exit 0 when all N arrived valid).
 * tests/net/test_userprog.sh runs it against ntad-peer send.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ntad.h"
#include "ntad_pkt.h"

int main(int argc, char **argv)
{
	struct ntad_pkt pkts[64];
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct ntad_umem *u;
	struct ntad_port *p;
	struct ntad_queue *q;
	unsigned long n, got = 0, valid = 0;
	bool own_attach;
	int ifindex, map_fd, prog_fd, ret;

	if (argc != 5 || (strcmp(argv[1], "attach") && strcmp(argv[1], "map"))) {
		fprintf(stderr, "usage: %s attach|map OBJ IFACE N\n", argv[0]);
		return 2;
	}
	own_attach = !strcmp(argv[1], "map");
	n = strtoul(argv[4], NULL, 10);
	ifindex = (int)if_nametoindex(argv[3]);
	obj = bpf_object__open_file(argv[2], NULL);
	if (!obj || bpf_object__load(obj) || !(prog = bpf_object__next_program(obj, NULL))) {
		fprintf(stderr, "ntad-userprog: cannot load %s\n", argv[2]);
		return 1;
	}
	map_fd = bpf_object__find_map_fd_by_name(obj, "xsks_map");
	prog_fd = bpf_program__fd(prog);
	LIBNTAD_OPTS(ntad_port_opts, po, .xsks_map_fd = map_fd, .prog_fd = own_attach ? 0 : prog_fd);
	u = ntad_umem__create(NULL);
	p = u ? ntad_port__open(u, argv[3], &po) : NULL;
	q = p ? ntad_queue__create(&p, 1, NULL) : NULL;
	ret = q ? ntad_port__start(p) : -errno;
	if (!ret && own_attach)
		ret = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_DRV_MODE, NULL);
	if (ret) {
		fprintf(stderr, "ntad-userprog: setup failed (%s)\n", strerror(-ret));
		return 1;
	}
	{
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
			return 1;
		printf("ready prog_id=%u\n", info.id);
	}
	fflush(stdout);
	while (got < n) {
		unsigned int work = ntad_queue__poll(q), k = ntad_rx_burst(q, 0, pkts, 64);

		for (unsigned int i = 0; i < k; i++)
			valid += ntad_pkt_verify(pkts[i].data, pkts[i].len, NULL) == NTAD_PKT_OK;
		got += k;
		ntad_pkt_free(q, pkts, k);
		ntad_queue__flush(q, work + k);
		if (!work && !k)
			ntad_queue__wait(q, 10 * 1000 * 1000, -1);
	}
	if (own_attach)
		bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	ntad_port__stop(p);
	ntad_queue__destroy(q);
	ntad_port__close(p);
	ntad_umem__destroy(u);
	bpf_object__close(obj);
	printf("received=%lu valid=%lu\n", got, valid);
	return got == n && valid == n ? 0 : 1;
}
