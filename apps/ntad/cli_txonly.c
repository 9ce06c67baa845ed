// SPDX-License-Identifier: MIT
/*
 * cli_txonly.c - the traffic generator's options: the frames txonly sends
 * (--size or --imix, --payload), how fast (--rate without a unit), and the
 * addresses and ports it writes into them.
 *
 * Why apart: only --mode txonly reads them, and each marks itself given, so
 * that cli.c refuses them in another mode; whether a frame needs more than a
 * chunk (multi-buffer) depends on the chunk size and pool, and cli.c decides
 * it with the other options.
 */
#include <string.h>
#include <arpa/inet.h>

#include "cli_internal.h"

int ntad_opt_size(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	ntad_cli.seen |= NTAD_SEEN_SIZE;
	if (ntad_parse_u32(a, &o->size, NTAD_PKT_MIN_LEN, NTAD_PKT_MAX_LEN))
		return ntad_cli_fail(e, l, "--size '%s': not a frame length; use %d..%d bytes", a,
				     NTAD_PKT_MIN_LEN, NTAD_PKT_MAX_LEN);
	return 0;
}

int ntad_opt_imix(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	(void)a, (void)e, (void)l;
	o->imix = true;
	ntad_cli.seen |= NTAD_SEEN_TX_OPTS;
	return 0;
}

int ntad_opt_payload(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	ntad_cli.seen |= NTAD_SEEN_TX_OPTS;
	if (strcmp(a, "full") && strcmp(a, "stamp"))
		return ntad_cli_fail(e, l, "--payload '%s': use stamp (frames written once, sequence number stamped in) or full (every frame written whole)", a);
	o->payload_full = !strcmp(a, "full");
	return 0;
}

/* --rate without a unit: packets per second (cli.c's --rate tells the two apart). */
int ntad_opt_tx_rate(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	ntad_cli.seen |= NTAD_SEEN_RATE_PPS | NTAD_SEEN_TX_OPTS;
	if (ntad_parse_u64(a, &o->rate) || !o->rate || o->rate > 1000000000ull)
		return ntad_cli_fail(e, l, "--rate '%s': not a packet rate; use 1..1000000000 packets per second", a);
	return 0;
}

static int p_mac(uint8_t *mac, const char *name, const char *a, char *e, size_t l)
{
	ntad_cli.seen |= NTAD_SEEN_TX_OPTS;
	if (ntad_parse_mac(a, mac))
		return ntad_cli_fail(e, l, "--%s '%s': not a MAC address; use aa:bb:cc:dd:ee:ff", name, a);
	return 0;
}

int ntad_opt_src_mac(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	o->given |= NTAD_GIVEN_SRC_MAC;
	return p_mac(o->pkt.src_mac, "src-mac", a, e, l);
}

int ntad_opt_dst_mac(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	o->given |= NTAD_GIVEN_DST_MAC;
	return p_mac(o->pkt.dst_mac, "dst-mac", a, e, l);
}

static int p_ip(uint32_t *ip, const char *name, const char *a, char *e, size_t l)
{
	struct in_addr in;

	ntad_cli.seen |= NTAD_SEEN_TX_OPTS;
	if (inet_pton(AF_INET, a, &in) != 1)
		return ntad_cli_fail(e, l, "--%s '%s': not an IPv4 address; use e.g. 10.77.0.1", name, a);
	*ip = in.s_addr;
	return 0;
}

int ntad_opt_src_ip(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return p_ip(&o->pkt.src_ip, "src-ip", a, e, l);
}

int ntad_opt_dst_ip(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return p_ip(&o->pkt.dst_ip, "dst-ip", a, e, l);
}

static int p_port(uint16_t *port, const char *name, const char *a, char *e, size_t l)
{
	uint32_t v;

	ntad_cli.seen |= NTAD_SEEN_TX_OPTS;
	if (ntad_parse_u32(a, &v, 1, 65535))
		return ntad_cli_fail(e, l, "--%s '%s': not a port; use 1..65535", name, a);
	*port = (uint16_t)v;
	return 0;
}

int ntad_opt_sport(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return p_port(&o->pkt.sport, "sport", a, e, l);
}

int ntad_opt_dport(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	return p_port(&o->pkt.dport, "dport", a, e, l);
}
