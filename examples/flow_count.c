// SPDX-License-Identifier: MIT
/*
 * flow_count.c - a per-flow packet counter on libntad: every frame on queue 0
 * of IFACE is counted under its IPv4 5-tuple (other frames under one "other"
 * flow) and dropped; at Ctrl-C the flows are printed, one line each:
 *   flow_count IFACE  ->  "udp 10.0.0.2:4000 > 10.0.0.1:9 packets 1000 bytes 64000"
 * Build: cc flow_count.c $(pkg-config --cflags --libs libntad)
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <ntad.h>

#define SLOTS 4096 /* flows kept; the rest count as "other" */

struct flow {
	uint32_t src, dst; /* network order; all 0: "other" */
	uint16_t sport, dport;
	uint8_t proto, used;
	uint64_t packets, bytes;
};

static struct flow flows[SLOTS];
static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void count(const uint8_t *f, uint32_t len)
{
	struct flow k = { 0 };
	uint32_t h;

	if (len >= 38 && f[12] == 0x08 && f[13] == 0x00 && (f[14] >> 4) == 4) {
		const uint8_t *l4 = f + 14 + (f[14] & 15) * 4; /* behind the IPv4 options */

		k.proto = f[23];
		memcpy(&k.src, f + 26, 4);
		memcpy(&k.dst, f + 30, 4);
		if ((k.proto == 6 || k.proto == 17) && l4 + 4 <= f + len)
			k.sport = ntohs(*(const uint16_t *)l4), k.dport = ntohs(*(const uint16_t *)(l4 + 2));
	}
	h = (k.src * 31 + k.dst) * 31 + ((uint32_t)k.sport << 16 | k.dport) + k.proto;
	for (uint32_t i = 0; i < SLOTS; i++) { /* open addressing, linear probing */
		struct flow *s = &flows[(h + i) % SLOTS];

		if (!s->used) /* a new flow */
			*s = (struct flow){ k.src, k.dst, k.sport, k.dport, k.proto, 1, 0, 0 };
		if (!memcmp(s, &k, offsetof(struct flow, used))) {
			s->packets++;
			s->bytes += len;
			return;
		}
	}
}

int main(int argc, char **argv)
{
	struct ntad_pkt pkts[64];
	struct ntad_umem *u;
	struct ntad_port *p = NULL;
	struct ntad_queue *q = NULL;

	if (argc != 2)
		return fprintf(stderr, "usage: %s IFACE\n", argv[0]), 2;
	if ((u = ntad_umem__create(NULL)) && (p = ntad_port__open(u, argv[1], NULL)))
		q = ntad_queue__create(&p, 1, NULL);
	if (!q || ntad_port__start(p)) {
		perror("flow_count: setup"); /* libntad said what failed on stderr */
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop) {
		unsigned int work = ntad_queue__poll(q), n = ntad_rx_burst(q, 0, pkts, 64);

		for (unsigned int i = 0; i < n; i++)
			count(pkts[i].data, pkts[i].len);
		ntad_pkt_free(q, pkts, n);
		ntad_queue__flush(q, work + n);
		if (!work && !n)
			ntad_queue__wait(q, 10 * 1000 * 1000, -1);
	}
	ntad_port__stop(p); /* the traffic goes back to the kernel; then tear down */
	ntad_queue__destroy(q);
	ntad_port__close(p);
	ntad_umem__destroy(u);
	for (const struct flow *f = flows; f < flows + SLOTS; f++) {
		char a[16], b[16];

		if (f->used)
			printf("%s %s:%u > %s:%u packets %llu bytes %llu\n",
			       f->proto == 17 ? "udp" : f->proto == 6 ? "tcp" : f->proto ? "ip" : "other",
			       inet_ntop(AF_INET, &f->src, a, 16), f->sport, inet_ntop(AF_INET, &f->dst, b, 16),
			       f->dport, (unsigned long long)f->packets, (unsigned long long)f->bytes);
	}
	return 0;
}
