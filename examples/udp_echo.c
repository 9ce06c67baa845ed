// SPDX-License-Identifier: MIT
/*
 * udp_echo.c - a UDP echo responder (RFC 862) on libntad: every IPv4 UDP
 * datagram to PORT on IFACE goes straight back to its sender from the
 * engine, without the kernel's stack. The filter program sends only those
 * datagrams to the socket; ARP and everything else stays with the kernel.
 *
 *   udp_echo IFACE [PORT]      (default port 7; stop with Ctrl-C)
 *
 * Swapping the addresses and ports of a datagram leaves its IPv4 and UDP
 * checksums valid (both are sums over the same fields), so nothing is
 * recomputed. Build: cc udp_echo.c $(pkg-config --cflags --libs libntad)
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ntad.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

static void swap(uint8_t *a, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t t = a[i];

		a[i] = b[i];
		b[i] = t;
	}
}

/* Ethernet + IPv4 (no options) + UDP: MACs, addresses and ports swapped. */
static int reflect(uint8_t *f, uint32_t len)
{
	if (len < 42 || f[12] != 0x08 || f[13] != 0x00 || f[14] != 0x45 || f[23] != 17)
		return -1;
	swap(f, f + 6, 6);
	swap(f + 26, f + 30, 4);
	swap(f + 34, f + 36, 2);
	return 0;
}

int main(int argc, char **argv)
{
	struct ntad_rule rule = { .ethertype = 0x0800, .ip_proto = 17 };
	struct ntad_pkt pkts[64], out[64];
	struct ntad_umem *u;
	struct ntad_port *p;
	struct ntad_queue *q;
	unsigned long echoed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s IFACE [PORT]\n", argv[0]);
		return 2;
	}
	rule.dport = (uint16_t)(argc > 2 ? atoi(argv[2]) : 7);
	LIBNTAD_OPTS(ntad_port_opts, po, .rules = &rule, .nr_rules = 1);
	u = ntad_umem__create(NULL);
	p = u ? ntad_port__open(u, argv[1], &po) : NULL;
	q = p ? ntad_queue__create(&p, 1, NULL) : NULL;
	if (!q || ntad_port__start(p)) {
		perror("udp_echo: setup"); /* libntad said what failed on stderr */
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("udp_echo: echoing UDP port %u on %s\n", rule.dport, argv[1]);
	fflush(stdout);
	while (!stop) {
		unsigned int work = ntad_queue__poll(q), room = ntad_tx_room(q, 0), n, k = 0;

		n = ntad_rx_burst(q, 0, pkts, room < 64 ? room : 64); /* never more than can go back */
		for (unsigned int i = 0; i < n; i++) {
			if (pkts[i].nr_bufs == 1 && !reflect(pkts[i].data, pkts[i].len))
				out[k++] = pkts[i];
			else
				ntad_pkt_free(q, &pkts[i], 1);
		}
		echoed += ntad_tx_burst(q, 0, out, k);
		ntad_queue__flush(q, work + n);
		if (!work && !n)
			ntad_queue__wait(q, 10 * 1000 * 1000, -1);
	}
	ntad_port__stop(p);
	ntad_queue__destroy(q);
	ntad_port__close(p);
	ntad_umem__destroy(u);
	printf("udp_echo: %lu datagrams echoed\n", echoed);
	return 0;
}
