// SPDX-License-Identifier: MIT
/*
 * fuzz_xdp_expr.c - libFuzzer target: the XDP program's classic BPF
 * interpreter (bpf/cbpf.h) against libpcap's, on frames from the input.
 *
 * At start, ntad's XDP program is loaded once per expression of a fixed list
 * (compiled and checked by expr.c as ntad does it, some at a short snap
 * length), and once more for random programs (xdp_run.h; root needed, exit
 * 77 without). An input is
 *   byte 0      n: random instructions to build (n % 48; 0: none)
 *   8 n bytes   their material (opcode, jt, jf, k)
 *   1 byte      where the linear part ends (>= 128: all linear)
 *   the rest    the frame (padded to an Ethernet header, cut at 9000 bytes)
 * Properties, any failure an abort with the frame and verdicts on stderr:
 *   - for every expression, the verdict through BPF_PROG_TEST_RUN
 *     (XDP_REDIRECT: selected, XDP_PASS: refused) is pcap_offline_filter's
 *     on the same bytes cut at the snap length;
 *   - the random program (every opcode ntad_cbpf_check accepts, jumps inside
 *     it, scratch memory written before it is read since libpcap 1.10 leaves
 *     it uninitialized) passes ntad_cbpf_check, and the XDP program's verdict
 *     is that of libpcap's bpf_filter on the same frame.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * libpcap's <pcap/bpf.h> and libbpf's <linux/bpf.h> both define struct
 * bpf_insn: libpcap's is renamed while it is declared (only the type's name
 * changes; what is linked is by function name).
 */
#define bpf_insn pcap_bpf_insn
#include <pcap/pcap.h>
#undef bpf_insn

#include "expr.h"
#include "ntad.h"
#include "../unit/xdp_run.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FRAME_MAX 9000
#define RANDOM_INSNS 47
#define PREFIX 17              /* ld #0, then st M[0..15] */
#define RANDOM_LEN (PREFIX + RANDOM_INSNS + 1)

static const struct {
	const char *text;
	uint32_t snaplen; /* 0: tcpdump's default */
} exprs[] = {
	{ "udp port 53", 0 }, { "tcp[13] & 2 != 0", 0 }, { "ip[6:2] & 0x1fff != 0", 0 },
	{ "len > 1000", 0 }, { "ether host 02:00:00:00:00:01", 0 }, { "net 10.0.0.0/8", 0 },
	{ "icmp6", 0 }, { "vlan 100 and udp", 0 }, { "ip and not tcp", 0 }, { "arp or stp or llc", 0 },
	{ "mpls and ip6", 0 }, { "pppoes and tcp", 0 }, { "geneve", 0 }, { "ip6 proto 17", 0 },
	{ "tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420", 0 }, { "ip[ip[0] & 0xf] = 0", 0 },
	{ "ip[2:2] / 3 > 100 or ip[2:2] % 7 = 1", 0 }, { "sctp or igmp or ah", 0 },
	{ "udp port 53", 40 }, { "ether[50] = 0 or len < 60", 48 },
};
#define NR_EXPRS (sizeof(exprs) / sizeof(exprs[0]))

static struct ntad_expr *compiled[NR_EXPRS];
static struct xdp_run_prog progs[NR_EXPRS];

static struct xdp_run_env env;
static struct xdp_run_prog random_prog;

__attribute__((format(printf, 2, 0)))
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct sock_filter ret0[RANDOM_LEN] = { [RANDOM_LEN - 1] = BPF_STMT(BPF_RET | BPF_K, 0) };
	char err[512];

	(void)argc, (void)argv;
	if (geteuid() != 0) {
		printf("fuzz_xdp_expr: needs root (CAP_BPF, CAP_NET_ADMIN) to load XDP programs\n");
		exit(77);
	}
	libbpf_set_print(quiet);
	if (xdp_run_env_init(&env))
		abort();
	for (size_t i = 0; i < NR_EXPRS; i++) {
		const struct sock_filter *insns;
		unsigned int len;

		compiled[i] = ntad_expr_new("fuzz", exprs[i].text, exprs[i].snaplen ? exprs[i].snaplen : 262144, err,
					    sizeof(err));
		if (!compiled[i] || ntad_expr_cbpf(compiled[i], &insns, &len, err, sizeof(err)) ||
		    xdp_run_load(&env, &progs[i], insns, len, exprs[i].snaplen)) {
			fprintf(stderr, "fuzz_xdp_expr: '%s': %s\n", exprs[i].text, err);
			abort();
		}
	}
	if (xdp_run_load(&env, &random_prog, ret0, RANDOM_LEN, 0))
		abort();
	return 0;
}

static const uint16_t codes[] = {
	BPF_RET | BPF_K, BPF_RET | BPF_A,
	BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_H | BPF_ABS, BPF_LD | BPF_B | BPF_ABS,
	BPF_LD | BPF_W | BPF_IND, BPF_LD | BPF_H | BPF_IND, BPF_LD | BPF_B | BPF_IND,
	BPF_LD | BPF_W | BPF_LEN, BPF_LDX | BPF_W | BPF_LEN, BPF_LDX | BPF_MSH | BPF_B,
	BPF_LD | BPF_IMM, BPF_LDX | BPF_IMM, BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM, BPF_ST, BPF_STX,
	BPF_JMP | BPF_JA, BPF_JMP | BPF_JGT | BPF_K, BPF_JMP | BPF_JGE | BPF_K, BPF_JMP | BPF_JEQ | BPF_K,
	BPF_JMP | BPF_JSET | BPF_K, BPF_JMP | BPF_JGT | BPF_X, BPF_JMP | BPF_JGE | BPF_X,
	BPF_JMP | BPF_JEQ | BPF_X, BPF_JMP | BPF_JSET | BPF_X,
	BPF_ALU | BPF_ADD | BPF_X, BPF_ALU | BPF_SUB | BPF_X, BPF_ALU | BPF_MUL | BPF_X,
	BPF_ALU | BPF_DIV | BPF_X, BPF_ALU | BPF_MOD | BPF_X, BPF_ALU | BPF_AND | BPF_X,
	BPF_ALU | BPF_OR | BPF_X, BPF_ALU | BPF_XOR | BPF_X, BPF_ALU | BPF_LSH | BPF_X,
	BPF_ALU | BPF_RSH | BPF_X, BPF_ALU | BPF_ADD | BPF_K, BPF_ALU | BPF_SUB | BPF_K,
	BPF_ALU | BPF_MUL | BPF_K, BPF_ALU | BPF_DIV | BPF_K, BPF_ALU | BPF_MOD | BPF_K,
	BPF_ALU | BPF_AND | BPF_K, BPF_ALU | BPF_OR | BPF_K, BPF_ALU | BPF_XOR | BPF_K,
	BPF_ALU | BPF_LSH | BPF_K, BPF_ALU | BPF_RSH | BPF_K, BPF_ALU | BPF_NEG,
	BPF_MISC | BPF_TAX, BPF_MISC | BPF_TXA,
};

/* Instruction i of len from 8 bytes: a valid one, its jumps inside the program. */
static struct sock_filter make_insn(const uint8_t *m, unsigned int i, unsigned int len)
{
	uint16_t code = codes[m[0] % (sizeof(codes) / sizeof(codes[0]))];
	uint32_t k = (uint32_t)m[4] | (uint32_t)m[5] << 8 | (uint32_t)m[6] << 16 | (uint32_t)m[7] << 24;
	unsigned int room = len - i - 1; /* instructions after this one */
	struct sock_filter f = { .code = code, .k = k };

	switch (BPF_CLASS(code)) {
	case BPF_LD:
	case BPF_LDX:
		if (BPF_MODE(code) == BPF_MEM)
			f.k = k % 16;
		else if (BPF_MODE(code) == BPF_ABS || BPF_MODE(code) == BPF_IND || BPF_MODE(code) == BPF_MSH)
			/* Mostly inside a frame, sometimes anywhere below Linux's special offsets. */
			f.k = m[1] & 1 ? k % ((uint32_t)SKF_LL_OFF) : k % (FRAME_MAX + 16);
		break;
	case BPF_ST:
	case BPF_STX:
		f.k = k % 16;
		break;
	case BPF_JMP:
		if (BPF_OP(code) == BPF_JA)
			f.k = k % room;
		f.jt = (uint8_t)(m[1] % room);
		f.jf = (uint8_t)(m[2] % room);
		break;
	case BPF_ALU:
		if ((BPF_OP(code) == BPF_DIV || BPF_OP(code) == BPF_MOD) && BPF_SRC(code) == BPF_K && !f.k)
			f.k = 1;
		if ((BPF_OP(code) == BPF_LSH || BPF_OP(code) == BPF_RSH) && BPF_SRC(code) == BPF_K)
			f.k %= 32;
		if ((BPF_OP(code) == BPF_LSH || BPF_OP(code) == BPF_RSH) && m[3] & 1)
			f.k %= 40; /* and X often small enough to shift by */
		break;
	}
	return f;
}

static void report(const char *what, const uint8_t *frame, uint32_t len, uint32_t linear, uint32_t verdict,
		   bool want)
{
	fprintf(stderr, "fuzz_xdp_expr: %s: XDP says %u, libpcap %s; frame of %u bytes, linear %u:", what,
		verdict, want ? "selects" : "refuses", len, linear);
	for (uint32_t i = 0; i < len && i < 96; i++)
		fprintf(stderr, " %02x", frame[i]);
	fputc('\n', stderr);
	abort();
}

static void check_random(const uint8_t *m, unsigned int n, const uint8_t *frame, uint32_t len, uint32_t linear)
{
	struct sock_filter insns[RANDOM_LEN];
	struct pcap_bpf_insn pc[RANDOM_LEN];
	unsigned int total = PREFIX + n + 1, at = 0;
	uint32_t verdict;
	bool want;

	insns[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_IMM, 0);
	for (unsigned int i = 1; i < PREFIX; i++)
		insns[i] = (struct sock_filter)BPF_STMT(BPF_ST, i - 1);
	for (unsigned int i = 0; i < n; i++)
		insns[PREFIX + i] = make_insn(m + 8 * i, PREFIX + i, total);
	insns[total - 1] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_A, 0);
	if (ntad_cbpf_check(insns, total, &at)) {
		fprintf(stderr, "fuzz_xdp_expr: built instruction %u (code 0x%x) refused\n", at, insns[at].code);
		abort();
	}
	for (unsigned int i = 0; i < total; i++)
		pc[i] = (struct pcap_bpf_insn){ insns[i].code, insns[i].jt, insns[i].jf, insns[i].k };
	want = bpf_filter(pc, frame, len, len) != 0;
	if (xdp_run_store(&random_prog, insns, total) ||
	    xdp_run_frame(&env, &random_prog, frame, len, linear, &verdict))
		abort();
	if (verdict != (want ? XDP_REDIRECT : XDP_PASS)) {
		for (unsigned int i = 0; i < total; i++)
			fprintf(stderr, "  %u: %s\n", i, bpf_image(&pc[i], (int)i));
		report("random program", frame, len, linear, verdict, want);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[FRAME_MAX];
	unsigned int n = size ? data[0] % (RANDOM_INSNS + 1) : 0;
	uint32_t len, linear = 0, verdict;
	size_t off = 1 + 8 * (size_t)n;

	if (size < off + 1)
		return 0;
	len = (uint32_t)(size - off - 1 < FRAME_MAX ? size - off - 1 : FRAME_MAX);
	memset(frame, 0, 14);
	memcpy(frame, data + off + 1, len);
	if (len < 14)
		len = 14;
	if (data[off] < 128 && len > 14)
		linear = 14 + data[off] % (len - 14);
	for (size_t i = 0; i < NR_EXPRS; i++) {
		uint32_t cut = exprs[i].snaplen && exprs[i].snaplen < len ? exprs[i].snaplen : len;
		bool want = ntad_expr_match(compiled[i], frame, cut, len);

		if (xdp_run_frame(&env, &progs[i], frame, len, linear, &verdict))
			abort();
		if (verdict != (want ? XDP_REDIRECT : XDP_PASS))
			report(exprs[i].text, frame, len, linear, verdict, want);
	}
	if (n)
		check_random(data + 1, n, frame, len, linear);
	return 0;
}
