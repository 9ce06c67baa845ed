// SPDX-License-Identifier: MIT
/*
 * cli_filter.c - --filter: which frames the XDP program hands to ntad. A rule
 * is a comma list of fields a frame must all match (ethertype=, proto=,
 * dport=), rules are or-ed, and "all" takes every frame; what no rule
 * selects stays with the kernel's stack.
 *
 * Why apart: the rules become struct ntad_rule, what the BPF program compares
 * (ntad_bpf.h), so every accepted rule must be one the program can hold, and
 * no rule may name nothing (a rule of zeros would match every frame).
 * ntad_parse_rule is in cli.h so that test_cli and fuzz_rules check it alone.
 */
#include <string.h>

#include "cli_internal.h"

int ntad_parse_rule(const char *s, struct ntad_rule *rule, bool *all, char *err, size_t errlen)
{
	char buf[128], *save = NULL, *tok;
	uint32_t v;

	memset(rule, 0, sizeof(*rule));
	*all = false;
	if (!strcmp(s, "all")) {
		*all = true;
		return 0;
	}
	if (strlen(s) >= sizeof(buf) || !*s)
		return ntad_cli_fail(err, errlen, "--filter '%s': not a rule; use all, ethertype=0x0800, proto=udp, dport=9 or a comma list", s);
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *val = strchr(tok, '=');

		if (!val)
			goto bad;
		*val++ = '\0';
		if (!strcmp(tok, "ethertype")) {
			if (ntad_parse_u32(val, &v, 0x600, 0xffff))
				return ntad_cli_fail(err, errlen, "--filter: ethertype '%s' is not an ethertype; use e.g. 0x0800 or 0x86dd", val);
			rule->ethertype = (uint16_t)v;
		} else if (!strcmp(tok, "proto")) {
			if (!strcmp(val, "udp"))
				v = 17;
			else if (!strcmp(val, "tcp"))
				v = 6;
			else if (!strcmp(val, "icmp"))
				v = 1;
			else if (!strcmp(val, "icmpv6"))
				v = 58;
			else if (ntad_parse_u32(val, &v, 1, 255))
				return ntad_cli_fail(err, errlen, "--filter: proto '%s' is not an IP protocol; use udp, tcp, icmp or 1..255", val);
			rule->ip_proto = (uint8_t)v;
		} else if (!strcmp(tok, "dport")) {
			if (ntad_parse_u32(val, &v, 1, 65535))
				return ntad_cli_fail(err, errlen, "--filter: dport '%s' is not a port; use 1..65535", val);
			rule->dport = (uint16_t)v;
		} else {
			goto bad;
		}
	}
	/* "," or ",," name no field: a rule of zeros would match every frame. */
	if (!rule->ethertype && !rule->ip_proto && !rule->dport)
		goto bad;
	if (rule->dport && rule->ip_proto && rule->ip_proto != 6 && rule->ip_proto != 17)
		return ntad_cli_fail(err, errlen, "--filter '%s': dport needs proto udp or tcp; drop dport or change proto", s);
	return 0;
bad:
	return ntad_cli_fail(err, errlen, "--filter '%s': not a rule; use all, ethertype=0x0800, proto=udp, dport=9 or a comma list", s);
}

int ntad_opt_filter(struct ntad_opts *o, const char *a, char *e, size_t l)
{
	struct ntad_rule r;
	bool all;
	int err = ntad_parse_rule(a, &r, &all, e, l);

	if (err)
		return err;
	if (all) {
		ntad_cli.seen |= NTAD_SEEN_FILTER_ALL;
		return 0;
	}
	if (o->nr_rules >= NTAD_MAX_RULES)
		return ntad_cli_fail(e, l, "--filter: more than %d rules; combine fields in one rule (proto=udp,dport=9)",
				     NTAD_MAX_RULES);
	o->rules[o->nr_rules++] = r;
	return 0;
}
