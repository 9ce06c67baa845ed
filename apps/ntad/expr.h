/* SPDX-License-Identifier: MIT */
/*
 * expr.h - pcap-filter(7) expressions for capture mode: compiled by libpcap
 * for Ethernet at a snap length; the capture filter runs in the XDP program
 * (ntad_expr_cbpf), --trigger in user space (ntad_expr_match).
 *
 * libpcap's types stay inside expr.c: its <pcap/bpf.h> and libbpf's
 * <linux/bpf.h> both define struct bpf_insn, so no file can include both.
 */
#ifndef NTAD_EXPR_H
#define NTAD_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sock_filter;
struct ntad_expr;

/*
 * Compile text for frames cut at snaplen. NULL, errno set, and "what
 * 'text': libpcap's error; fix" in err when libpcap refuses it; what names
 * the option the text came from.
 */
struct ntad_expr *ntad_expr_new(const char *what, const char *text, uint32_t snaplen, char *err,
				size_t errlen);
void ntad_expr_free(struct ntad_expr *e);

/* Does e select the frame whose first caplen bytes (of len) are data? As tcpdump -r. */
bool ntad_expr_match(const struct ntad_expr *e, const uint8_t *data, uint32_t caplen, uint32_t len);

/*
 * The compiled program for ntad's XDP program (ntad_port_opts' cbpf; it
 * belongs to e). 0; or the error of ntad_cbpf_check with "what 'text':
 * problem; fix" in err when the XDP program cannot run it.
 */
int ntad_expr_cbpf(const struct ntad_expr *e, const struct sock_filter **insns, unsigned int *len,
		   char *err, size_t errlen);

#endif /* NTAD_EXPR_H */
