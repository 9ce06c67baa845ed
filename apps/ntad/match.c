// SPDX-License-Identifier: MIT
/*
 * match.c - the --filter rule semantics in user space (see match.h).
 *
 * The same walk as the XDP program's parse(): ethertype behind up to two VLAN
 * tags (a rule's ethertype also matches the outer one), IPv4 protocol or the
 * IPv6 fixed header's next header, and the UDP/TCP destination port of an
 * unfragmented (or first-fragment) IPv4 packet or an IPv6 packet without
 * extension headers. Anything cut short matches only the fields read so far,
 * as in the program, so a rule means the same thing on both sides.
 */
#include <string.h>

#include "match.h"

struct key {
	uint16_t outer_type, ethertype;
	uint8_t ip_proto;
	bool has_ip, has_dport;
	uint16_t dport;
};

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void parse_l4(struct key *k, const uint8_t *l4, const uint8_t *end)
{
	if (k->ip_proto != 17 && k->ip_proto != 6)
		return;
	if (l4 + 4 > end)
		return;
	k->dport = be16(l4 + 2);
	k->has_dport = true;
}

static void parse(struct key *k, const uint8_t *p, uint32_t len)
{
	const uint8_t *end = p + len, *l3 = p + 14;
	uint16_t type;

	memset(k, 0, sizeof(*k));
	if (len < 14)
		return;
	type = be16(p + 12);
	k->outer_type = type;
	for (int i = 0; i < 2 && (type == 0x8100 || type == 0x88a8); i++) {
		if (l3 + 4 > end)
			return;
		type = be16(l3 + 2);
		l3 += 4;
	}
	k->ethertype = type;
	if (type == 0x0800) {
		uint32_t ihl;

		if (l3 + 20 > end)
			return;
		ihl = (l3[0] & 0xfu) * 4;
		if (ihl < 20)
			return;
		k->ip_proto = l3[9];
		k->has_ip = true;
		if (be16(l3 + 6) & 0x1fff)
			return; /* not the first fragment: no L4 header */
		parse_l4(k, l3 + ihl, end);
	} else if (type == 0x86dd) {
		if (l3 + 40 > end)
			return;
		k->ip_proto = l3[6];
		k->has_ip = true;
		parse_l4(k, l3 + 40, end);
	}
}

static bool key_match(const struct ntad_rule *r, const struct key *k)
{
	if (r->ethertype && r->ethertype != k->ethertype && r->ethertype != k->outer_type)
		return false;
	if (r->ip_proto && (!k->has_ip || r->ip_proto != k->ip_proto))
		return false;
	if (r->dport && (!k->has_dport || r->dport != k->dport))
		return false;
	return true;
}

bool ntad_rules_match(const struct ntad_rule *rules, uint32_t n, const uint8_t *p, uint32_t len)
{
	struct key k;

	if (!n)
		return false;
	parse(&k, p, len);
	for (uint32_t i = 0; i < n; i++)
		if (key_match(&rules[i], &k))
			return true;
	return false;
}
