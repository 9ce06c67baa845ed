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
 * runs behind it). libpcap's code reads fixed offsets whatever the headers
 * say (`udp` is byte 23 of an IPv4 frame of 24 bytes or more, even with an
 * IPv4 header length below 20; for IPv6 it also accepts a fragment header
 * before UDP), while the program parses sane headers only (40 bytes of IPv6,
 * 20 of IPv4, no port behind a short IHL). Its protocol and port rules would
 * thus miss malformed or truncated frames the expression selects, so only
 * the ethertype is derived: udp, tcp and their port forms keep IPv4 and IPv6
 * in the kernel's cut, icmp and ip IPv4, ip6 IPv6, arp ARP. Anything else is
 * not derived.
 */
#include <errno.h>
#include <stdbool.h>
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

static bool is_l4(const char *s)
{
	return !strcmp(s, "udp") || !strcmp(s, "tcp");
}

/* A decimal port 0..65535. */
static bool is_port(const char *s)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return false;
	v = strtol(s, &end, 10);
	return !*end && v <= 65535;
}

unsigned int ntad_expr_rules(const char *text, struct ntad_rule rules[NTAD_EXPR_MAX_RULES])
{
	char buf[128], *tok[MAX_TOKENS + 1], *save = NULL;
	unsigned int n = 0;

	if (strlen(text) >= sizeof(buf))
		return 0;
	strcpy(buf, text);
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == MAX_TOKENS)
			return 0;
		tok[n++] = t;
	}
	memset(rules, 0, NTAD_EXPR_MAX_RULES * sizeof(*rules));
	if (n == 1 && (!strcmp(tok[0], "ip") || !strcmp(tok[0], "icmp"))) {
		rules[0].ethertype = 0x0800;
		return 1;
	}
	if (n == 1 && !strcmp(tok[0], "ip6")) {
		rules[0].ethertype = 0x86dd;
		return 1;
	}
	if (n == 1 && !strcmp(tok[0], "arp")) {
		rules[0].ethertype = 0x0806;
		return 1;
	}
	if (!n || !is_l4(tok[0]) ||
	    !(n == 1 || (n == 3 && !strcmp(tok[1], "port") && is_port(tok[2])) ||
	      (n == 4 && (!strcmp(tok[1], "src") || !strcmp(tok[1], "dst")) && !strcmp(tok[2], "port") &&
	       is_port(tok[3]))))
		return 0;
	rules[0].ethertype = 0x0800;
	rules[1].ethertype = 0x86dd;
	return 2;
}
