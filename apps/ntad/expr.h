/* SPDX-License-Identifier: MIT */
/*
 * expr.h - pcap-filter(7) expressions for capture mode: compiled by libpcap
 * for Ethernet at a snap length, matched in user space with
 * pcap_offline_filter(), and, for a few simple ones, turned into XDP rules
 * (struct ntad_rule) so that what they cannot select stays in the kernel.
 */
#ifndef NTAD_EXPR_H
#define NTAD_EXPR_H

#include <stddef.h>
#include <stdint.h>
#include <pcap/pcap.h>

#include "ntad_bpf.h"

/* Rules ntad_expr_rules may give. */
#define NTAD_EXPR_MAX_RULES 2

/*
 * Compile text into prog (free it with pcap_freecode). -EINVAL with
 * "what: libpcap's error; fix" in err when libpcap refuses it; what names
 * the option the text came from.
 */
int ntad_expr_compile(const char *what, const char *text, uint32_t snaplen, struct bpf_program *prog,
		      char *err, size_t errlen);

/*
 * XDP rules whose union selects every frame text selects (and maybe more),
 * for the simple expressions: udp, tcp, icmp, ip, ip6, arp, and udp or tcp
 * with [src|dst] port N; by ethertype only (expr.c says why). Returns how
 * many (0: none derived, the program must redirect everything).
 */
unsigned int ntad_expr_rules(const char *text, struct ntad_rule rules[NTAD_EXPR_MAX_RULES]);

#endif /* NTAD_EXPR_H */
