// SPDX-License-Identifier: MIT
/*
 * cbpf.c - which classic BPF programs the XDP program runs (its interpreter
 * is bpf/cbpf.h): ntad_cbpf_check, for ntad_port__open and for callers who
 * want to know before.
 *
 * Accepted are the instructions libpcap's validator accepts, on its
 * conditions (scratch words 0..15, no division or modulo by a constant 0, no
 * constant shift by 32 or more, jumps that land inside the program, a return
 * last), so that the interpreter and libpcap's mean the same thing by every
 * program that passes. Two things that are valid there are refused here,
 * because the XDP program cannot run them as they are meant:
 * - backward jumps, which libpcap compiles protochain into: the interpreter's
 *   loop is bounded by the program's length because every jump goes forward;
 * - packet loads at Linux's special offsets (k at SKF_LL_OFF or above, as
 *   unsigned: SKF_AD_* metadata, SKF_NET_OFF and SKF_LL_OFF): libpcap emits
 *   them for inbound, outbound and ifindex, and means the socket's metadata,
 *   which no frame in a file carries and which libpcap's own interpreter
 *   reads as past the frame.
 */
#include <errno.h>
#include <stdint.h>

#include "internal.h"

/* 0, or why f, instruction i of len, is refused. */
static int check_insn(const struct sock_filter *f, unsigned int i, unsigned int len)
{
	uint64_t next = (uint64_t)i + 1;

	switch (f->code) {
	case BPF_RET | BPF_K:
	case BPF_RET | BPF_A:
	case BPF_LD | BPF_W | BPF_LEN:
	case BPF_LDX | BPF_W | BPF_LEN:
	case BPF_LD | BPF_IMM:
	case BPF_LDX | BPF_IMM:
	case BPF_ALU | BPF_NEG:
	case BPF_MISC | BPF_TAX:
	case BPF_MISC | BPF_TXA:
		return 0;
	case BPF_LD | BPF_W | BPF_ABS:
	case BPF_LD | BPF_H | BPF_ABS:
	case BPF_LD | BPF_B | BPF_ABS:
	case BPF_LD | BPF_W | BPF_IND:
	case BPF_LD | BPF_H | BPF_IND:
	case BPF_LD | BPF_B | BPF_IND:
	case BPF_LDX | BPF_MSH | BPF_B:
		return f->k >= (uint32_t)SKF_LL_OFF ? -EOPNOTSUPP : 0;
	case BPF_LD | BPF_MEM:
	case BPF_LDX | BPF_MEM:
	case BPF_ST:
	case BPF_STX:
		return f->k < BPF_MEMWORDS ? 0 : -EINVAL;
	case BPF_JMP | BPF_JA:
		if (next + f->k < len)
			return 0;
		/* Backwards but inside the program: a loop. */
		return (int32_t)f->k < 0 && (int64_t)next + (int32_t)f->k >= 0 ? -EOPNOTSUPP : -EINVAL;
	case BPF_JMP | BPF_JEQ | BPF_K:
	case BPF_JMP | BPF_JGT | BPF_K:
	case BPF_JMP | BPF_JGE | BPF_K:
	case BPF_JMP | BPF_JSET | BPF_K:
	case BPF_JMP | BPF_JEQ | BPF_X:
	case BPF_JMP | BPF_JGT | BPF_X:
	case BPF_JMP | BPF_JGE | BPF_X:
	case BPF_JMP | BPF_JSET | BPF_X:
		return next + f->jt < len && next + f->jf < len ? 0 : -EINVAL;
	case BPF_ALU | BPF_ADD | BPF_K:
	case BPF_ALU | BPF_SUB | BPF_K:
	case BPF_ALU | BPF_MUL | BPF_K:
	case BPF_ALU | BPF_AND | BPF_K:
	case BPF_ALU | BPF_OR | BPF_K:
	case BPF_ALU | BPF_XOR | BPF_K:
	case BPF_ALU | BPF_ADD | BPF_X:
	case BPF_ALU | BPF_SUB | BPF_X:
	case BPF_ALU | BPF_MUL | BPF_X:
	case BPF_ALU | BPF_DIV | BPF_X:
	case BPF_ALU | BPF_MOD | BPF_X:
	case BPF_ALU | BPF_AND | BPF_X:
	case BPF_ALU | BPF_OR | BPF_X:
	case BPF_ALU | BPF_XOR | BPF_X:
	case BPF_ALU | BPF_LSH | BPF_X:
	case BPF_ALU | BPF_RSH | BPF_X:
		return 0;
	case BPF_ALU | BPF_DIV | BPF_K:
	case BPF_ALU | BPF_MOD | BPF_K:
		return f->k ? 0 : -EINVAL;
	case BPF_ALU | BPF_LSH | BPF_K:
	case BPF_ALU | BPF_RSH | BPF_K:
		return f->k < 32 ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

int ntad_cbpf_check(const struct sock_filter *insns, unsigned int len, unsigned int *at)
{
	unsigned int bad = 0;
	int ret = 0;

	if (!insns || !len)
		ret = -EINVAL;
	else if (len > NTAD_CBPF_MAX_INSNS)
		ret = -E2BIG;
	for (unsigned int i = 0; !ret && i < len; i++) {
		bad = i;
		ret = check_insn(&insns[i], i, len);
	}
	if (!ret && BPF_CLASS(insns[len - 1].code) != BPF_RET) {
		bad = len - 1;
		ret = -EINVAL;
	}
	if (at && (ret == -EINVAL || ret == -EOPNOTSUPP))
		*at = bad;
	return ret;
}
