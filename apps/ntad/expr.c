// SPDX-License-Identifier: MIT
/*
 * expr.c - pcap-filter(7) expressions (see expr.h).
 *
 * libpcap compiles the expression once, at start, against a "dead" handle of
 * link type Ethernet and the capture's snap length, so it means what it means
 * to tcpdump reading the file ntad writes; the compiled program is a classic
 * BPF program pcap_offline_filter() runs on each received frame.
 *
 * The XDP rules are a coarse first cut in the kernel: a rule derived here must
 * select at least every frame the expression selects (the expression still
 * runs behind it), so only whole expressions whose meaning is known exactly
 * are derived. What libpcap generates decides the rules: for IPv6, `udp` and
 * `tcp` also accept a fragment header before the UDP/TCP header, which the
 * program sees as next header 44, so those get a second rule for IPv6
 * fragments; the port tests of libpcap read no fragment, so a `dst port` rule
 * is exact there. A port given by name, or anything else, is not derived.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"

#define MAX_TOKENS 5

int ntad_expr_compile(const char *what, const char *text, uint32_t snaplen, struct bpf_program *prog,
		      char *err, size_t errlen)
{
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	int ret = 0;

	if (!dead) {
		snprintf(err, errlen, "%s: libpcap cannot open a handle to compile it; this should not happen", what);
		return -ENOMEM;
	}
	if (pcap_compile(dead, prog, text, 1, PCAP_NETMASK_UNKNOWN)) {
		snprintf(err, errlen, "%s '%s': %s; give a pcap-filter(7) expression such as 'udp port 53'",
			 what, text, pcap_geterr(dead));
		ret = -EINVAL;
	}
	pcap_close(dead);
	return ret;
}

static int proto_of(const char *s)
{
	if (!strcmp(s, "udp"))
		return 17;
	if (!strcmp(s, "tcp"))
		return 6;
	return 0;
}

/* A decimal port 1..65535 (0 would mean "any port" to a rule). */
static uint16_t port_of(const char *s)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return 0;
	v = strtol(s, &end, 10);
	return *end || v < 1 || v > 65535 ? 0 : (uint16_t)v;
}

unsigned int ntad_expr_rules(const char *text, struct ntad_rule rules[NTAD_EXPR_MAX_RULES])
{
	char buf[128], *tok[MAX_TOKENS + 1], *save = NULL;
	unsigned int n = 0;
	int proto;

	if (strlen(text) >= sizeof(buf))
		return 0;
	strcpy(buf, text);
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == MAX_TOKENS)
			return 0;
		tok[n++] = t;
	}
	if (!n)
		return 0;
	memset(rules, 0, NTAD_EXPR_MAX_RULES * sizeof(*rules));
	if (n == 1 && !strcmp(tok[0], "ip"))
		rules[0].ethertype = 0x0800;
	else if (n == 1 && !strcmp(tok[0], "ip6"))
		rules[0].ethertype = 0x86dd;
	else if (n == 1 && !strcmp(tok[0], "arp"))
		rules[0].ethertype = 0x0806;
	else if (n == 1 && !strcmp(tok[0], "icmp"))
		rules[0] = (struct ntad_rule){ .ethertype = 0x0800, .ip_proto = 1 };
	if (rules[0].ethertype)
		return 1;
	if (!(proto = proto_of(tok[0])))
		return 0;
	rules[0].ip_proto = (uint8_t)proto;
	if (n == 1) {
		/* libpcap's udp/tcp: also behind an IPv6 fragment header. */
		rules[1] = (struct ntad_rule){ .ethertype = 0x86dd, .ip_proto = 44 };
		return 2;
	}
	if (n == 3 && !strcmp(tok[1], "port") && port_of(tok[2]))
		return 1; /* either port: the program knows only the destination */
	if (n == 4 && !strcmp(tok[2], "port") && port_of(tok[3]) &&
	    (!strcmp(tok[1], "src") || !strcmp(tok[1], "dst"))) {
		if (!strcmp(tok[1], "dst"))
			rules[0].dport = port_of(tok[3]);
		return 1;
	}
	return 0;
}
