// SPDX-License-Identifier: MIT
/*
 * expr.c - pcap-filter(7) expressions (see expr.h).
 *
 * libpcap compiles the expression once, at start, against a "dead" handle of
 * link type Ethernet and the capture's snap length, so it means what it means
 * to tcpdump reading the file ntad writes. The result is a classic BPF
 * program, and where it runs decides what the host keeps:
 *
 * - the capture filter runs in the XDP program (bpf/cbpf.h interprets it,
 *   with libpcap's semantics on the frame cut at the snap length), so the
 *   kernel redirects exactly the frames the expression selects and every
 *   other frame goes on to the stack. Deriving coarser XDP rules from the
 *   text could not do that: libpcap's code reads fixed offsets whatever the
 *   headers say (`udp` is byte 23 of an IPv4 frame even with an IHL below 5,
 *   and for IPv6 it looks behind a fragment header), which a header parser
 *   does not, so rules had to be wider than the expression (by ethertype
 *   only) and `udp port 53` took every IP frame from the host. Since the
 *   kernel's choice is exact, user space does not run the filter again;
 * - --trigger runs here, on frames already captured (pcap_offline_filter).
 *
 * What the XDP program cannot run is refused at start with the reason
 * (ntad_cbpf_check): longer than NTAD_CBPF_MAX_INSNS, protochain (a loop),
 * and inbound, outbound and ifindex, which read Linux socket metadata that
 * libpcap's own interpreter has not either (it refuses every frame there).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <pcap/pcap.h>

#include "expr.h"
#include "ntad.h"

_Static_assert(sizeof(struct bpf_insn) == sizeof(struct sock_filter), "libpcap's and Linux's cBPF layouts");

struct ntad_expr {
	struct bpf_program prog;   /* libpcap's, for ntad_expr_match */
	struct sock_filter *insns; /* the same program for the XDP program */
	char *what, *text;         /* for messages */
};

void ntad_expr_free(struct ntad_expr *e)
{
	if (!e)
		return;
	pcap_freecode(&e->prog);
	free(e->insns);
	free(e->what);
	free(e->text);
	free(e);
}

struct ntad_expr *ntad_expr_new(const char *what, const char *text, uint32_t snaplen, char *err,
				size_t errlen)
{
	struct ntad_expr *e = calloc(1, sizeof(*e));
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	int ret = -ENOMEM;

	if (!e || !dead || !(e->what = strdup(what)) || !(e->text = strdup(text))) {
		snprintf(err, errlen, "%s: no memory to compile it; this should not happen", what);
		goto err;
	}
	if (pcap_compile(dead, &e->prog, text, 1, PCAP_NETMASK_UNKNOWN)) {
		snprintf(err, errlen, "%s '%s': %s; give a pcap-filter(7) expression such as 'udp port 53'",
			 what, text, pcap_geterr(dead));
		ret = -EINVAL;
		goto err;
	}
	e->insns = calloc(e->prog.bf_len ? e->prog.bf_len : 1, sizeof(*e->insns));
	if (!e->insns) {
		snprintf(err, errlen, "%s: no memory to compile it; this should not happen", what);
		goto err;
	}
	for (unsigned int i = 0; i < e->prog.bf_len; i++) {
		const struct bpf_insn *in = &e->prog.bf_insns[i];

		e->insns[i] = (struct sock_filter){ .code = in->code, .jt = in->jt, .jf = in->jf, .k = in->k };
	}
	pcap_close(dead);
	return e;

err:
	if (dead)
		pcap_close(dead);
	ntad_expr_free(e);
	errno = -ret;
	return NULL;
}

bool ntad_expr_match(const struct ntad_expr *e, const uint8_t *data, uint32_t caplen, uint32_t len)
{
	struct pcap_pkthdr h = { .caplen = caplen, .len = len };

	return pcap_offline_filter(&e->prog, &h, data) != 0;
}

/* Instruction i as libpcap prints it ("ja 4"), blanks squeezed. */
static const char *image(const struct ntad_expr *e, unsigned int i, char *buf, size_t n)
{
	const char *s = bpf_image(&e->prog.bf_insns[i], (int)i);
	size_t k = 0;

	s = strchr(s, ')') ? strchr(s, ')') + 1 : s;
	for (; *s && k + 1 < n; s++)
		if (!isspace((unsigned char)*s) || (k && buf[k - 1] != ' '))
			buf[k++] = isspace((unsigned char)*s) ? ' ' : *s;
	while (k && buf[k - 1] == ' ')
		k--;
	buf[k] = '\0';
	return buf;
}

int ntad_expr_cbpf(const struct ntad_expr *e, const struct sock_filter **insns, unsigned int *len,
		   char *err, size_t errlen)
{
	unsigned int at;
	char im[64];
	int ret = ntad_cbpf_check(e->insns, e->prog.bf_len, &at);

	if (ret == -E2BIG)
		snprintf(err, errlen, "%s '%s': %u instructions, more than the %u ntad's XDP program runs; simplify the expression",
			 e->what, e->text, e->prog.bf_len, NTAD_CBPF_MAX_INSNS);
	else if (ret == -EOPNOTSUPP && BPF_CLASS(e->insns[at].code) == BPF_JMP)
		snprintf(err, errlen, "%s '%s': instruction %u (%s) jumps backwards, a loop libpcap makes for protochain, which ntad's XDP program does not run; name the headers instead (ip6 proto N, ip6[40] = N)",
			 e->what, e->text, at, image(e, at, im, sizeof(im)));
	else if (ret == -EOPNOTSUPP)
		snprintf(err, errlen, "%s '%s': instruction %u (%s) reads Linux socket metadata (inbound, outbound, ifindex), which frames in ntad's XDP program and in a pcap file do not carry; leave it out",
			 e->what, e->text, at, image(e, at, im, sizeof(im)));
	else if (ret)
		snprintf(err, errlen, "%s '%s': libpcap's program is not valid at instruction %u (%s); this should not happen",
			 e->what, e->text, at, image(e, at, im, sizeof(im)));
	if (ret)
		return ret;
	*insns = e->insns;
	*len = e->prog.bf_len;
	return 0;
}
