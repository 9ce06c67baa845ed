/* SPDX-License-Identifier: MIT */
/*
 * cbpf.h - a classic BPF interpreter inside the XDP program (ntad.bpf.c, its
 * one includer): it runs the program libpcap compiled from a pcap-filter(7)
 * expression on every frame, so the kernel selects exactly the frames the
 * expression selects and every other frame stays with the stack.
 *
 * The semantics are those of libpcap's interpreter, pcap_offline_filter(),
 * which is what tcpdump -r applies to a file, on the frame as a capture cut at
 * cbpf_snaplen holds it:
 * - A, X and the 16 words of scratch memory start at 0;
 * - a packet load (ld, ldh, ldb at k or at X + k, ldx msh) that reaches past
 *   the cut, or whose X + k overflows, ends the program with 0: refused;
 *   words and halfwords are read big endian;
 * - `ld len` and `ldx len` give the whole frame's length, fragments included;
 * - division and modulo by an X of 0 refuse the frame; a shift by an X of 32
 *   or more gives 0; comparisons are unsigned;
 * - a return selects the frame when its value is not 0; running off the end
 *   refuses it.
 * What the program does not implement is refused before it gets here
 * (lib/ntad/cbpf.c): backward jumps (libpcap's protochain loops) and Linux's
 * ancillary loads (SKF_AD_*: inbound, outbound, ifindex), which mean nothing
 * to a frame in a file.
 *
 * Why bpf_loop: classic BPF jumps forward only, so a program of n
 * instructions executes at most n of them, one per iteration of bpf_loop(n).
 * The callback is verified in a couple of passes whatever n is (its
 * registers live in a map for that, see struct cbpf_vm), where a for loop
 * would be explored up to NTAD_CBPF_MAX_INSNS times, and the kernel inlines
 * bpf_loop into a plain loop around a direct call. Bytes in the linear part
 * are read directly, the others through bpf_xdp_load_bytes(), which reads
 * fragments, so a jumbo frame's bytes past the linear part are seen as they
 * are in the file.
 */
#ifndef NTAD_CBPF_H
#define NTAD_CBPF_H

#include <linux/bpf.h>
#include <linux/filter.h>
#include <bpf/bpf_helpers.h>

#include "ntad_bpf.h"

#define CBPF_MEMWORDS 16

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ntad_cbpf);
} cbpf_prog SEC(".maps");

/* Set by the daemon before load: 0, no program (the rules decide). */
const volatile __u32 cbpf_len = 0;
/* Bytes of a frame the program may read, as a capture cut there holds it. */
const volatile __u32 cbpf_snaplen = 0xffffffff;

/* The interpreter's registers, for the frame being judged on this CPU. */
struct cbpf_vm {
	__u64 pc;
	__u32 a, x;
	__u32 buflen;  /* the frame cut at cbpf_snaplen */
	__u32 wirelen; /* the whole frame */
	__u32 ret;     /* what the program returned; 0 until it does */
	__u32 pad;
	__u32 mem[CBPF_MEMWORDS];
};

/*
 * They live in a per-CPU map value rather than on the stack because the
 * verifier does not track what a map value holds: on the stack pc would be
 * a known 0, then 1, and so on, and the verifier would walk the callback
 * once per value (seconds to load a program of 20 instructions, refusal at
 * 100); read from the map it is any number below NTAD_CBPF_MAX_INSNS, and the
 * callback is verified in a couple of passes whatever the program's length.
 * XDP judges one frame at a time on a CPU, so one entry per CPU is enough
 * (a BPF_PROG_RUN of the very program that is attached could, if traffic on
 * its CPU interrupted it, find the entry overwritten; the tests load programs
 * of their own).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cbpf_vm);
} cbpf_vm SEC(".maps");

/* What the callback works on, looked up once a frame. */
struct cbpf_frame {
	struct xdp_md *ctx;
	struct cbpf_vm *vm;
	const struct ntad_cbpf *prog;
};

/* The callback's "stop": ret holds the verdict. */
static __always_inline long cbpf_refuse(struct cbpf_vm *vm)
{
	vm->ret = 0;
	return 1;
}

/* size bytes at off into *val, big endian; 0, or 1 (stop, refused) past the cut. */
static __always_inline long cbpf_load(struct cbpf_vm *vm, struct xdp_md *ctx, __u64 off, __u32 size,
				      __u32 *val)
{
	__u8 *data = (__u8 *)(long)ctx->data, *end = (__u8 *)(long)ctx->data_end;
	__u8 b[4] = {};

	if (off + size > vm->buflen)
		return cbpf_refuse(vm);
	/*
	 * In the linear part, read directly: the helper call costs about as much
	 * again. The verifier takes a packet pointer's range only below 64 KiB,
	 * offset and size together.
	 */
	if (off < 0xff00) {
		__u8 *p = data + off;

		if (size == 1 && p + 1 <= end) {
			*val = p[0];
			return 0;
		}
		if (size == 2 && p + 2 <= end) {
			*val = (__u32)p[0] << 8 | p[1];
			return 0;
		}
		if (size == 4 && p + 4 <= end) {
			*val = (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
			return 0;
		}
	}
	if (bpf_xdp_load_bytes(ctx, (__u32)off, b, size))
		return cbpf_refuse(vm);
	if (size == 1)
		*val = b[0];
	else if (size == 2)
		*val = (__u32)b[0] << 8 | b[1];
	else
		*val = (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3];
	return 0;
}

static __always_inline long cbpf_ld(struct cbpf_vm *vm, struct xdp_md *ctx, __u16 code, __u64 off, __u32 *val)
{
	switch (BPF_SIZE(code)) {
	case BPF_W:
		return cbpf_load(vm, ctx, off, 4, val);
	case BPF_H:
		return cbpf_load(vm, ctx, off, 2, val);
	default:
		return cbpf_load(vm, ctx, off, 1, val);
	}
}

static __always_inline long cbpf_alu(struct cbpf_vm *vm, __u16 code, __u32 src)
{
	switch (BPF_OP(code)) {
	case BPF_ADD: vm->a += src; break;
	case BPF_SUB: vm->a -= src; break;
	case BPF_MUL: vm->a *= src; break;
	case BPF_DIV:
		if (!src)
			return cbpf_refuse(vm);
		vm->a /= src;
		break;
	case BPF_MOD:
		if (!src)
			return cbpf_refuse(vm);
		vm->a %= src;
		break;
	case BPF_AND: vm->a &= src; break;
	case BPF_OR: vm->a |= src; break;
	case BPF_XOR: vm->a ^= src; break;
	case BPF_LSH: vm->a = src < 32 ? vm->a << src : 0; break;
	case BPF_RSH: vm->a = src < 32 ? vm->a >> src : 0; break;
	case BPF_NEG: vm->a = 0u - vm->a; break;
	default: return cbpf_refuse(vm);
	}
	return 0;
}

static __always_inline long cbpf_jmp(struct cbpf_vm *vm, const struct sock_filter *f, __u32 src)
{
	int yes;

	switch (BPF_OP(f->code)) {
	case BPF_JA:
		vm->pc += f->k;
		return 0;
	case BPF_JEQ: yes = vm->a == src; break;
	case BPF_JGT: yes = vm->a > src; break;
	case BPF_JGE: yes = vm->a >= src; break;
	case BPF_JSET: yes = (vm->a & src) != 0; break;
	default: return cbpf_refuse(vm);
	}
	vm->pc += yes ? f->jt : f->jf;
	return 0;
}

/* One instruction; 1 stops the loop, with the verdict in ret. */
static long cbpf_step(__u64 index, void *arg)
{
	const struct cbpf_frame *fr = arg;
	struct xdp_md *ctx = fr->ctx;
	const struct ntad_cbpf *prog = fr->prog;
	struct cbpf_vm *vm = fr->vm;
	const struct sock_filter *f;
	__u32 k, src;
	__u64 pc;
	__u16 code;

	(void)index;
	/* Checked in a register that stays one up to its use. */
	pc = vm->pc;
	if (pc >= NTAD_CBPF_MAX_INSNS)
		return cbpf_refuse(vm);
	f = &prog->insns[pc];
	vm->pc = pc + 1;
	code = f->code;
	k = f->k;
	src = BPF_SRC(code) == BPF_X ? vm->x : k;
	switch (BPF_CLASS(code)) {
	case BPF_RET:
		vm->ret = BPF_RVAL(code) == BPF_A ? vm->a : k;
		return 1;
	case BPF_LD:
		switch (BPF_MODE(code)) {
		case BPF_IMM: vm->a = k; return 0;
		case BPF_LEN: vm->a = vm->wirelen; return 0;
		case BPF_MEM: vm->a = vm->mem[k & (CBPF_MEMWORDS - 1)]; return 0;
		case BPF_ABS: return cbpf_ld(vm, ctx, code, k, &vm->a);
		case BPF_IND: return cbpf_ld(vm, ctx, code, (__u64)vm->x + k, &vm->a);
		}
		return cbpf_refuse(vm);
	case BPF_LDX:
		switch (BPF_MODE(code)) {
		case BPF_IMM: vm->x = k; return 0;
		case BPF_LEN: vm->x = vm->wirelen; return 0;
		case BPF_MEM: vm->x = vm->mem[k & (CBPF_MEMWORDS - 1)]; return 0;
		case BPF_MSH:
			if (cbpf_load(vm, ctx, k, 1, &vm->x))
				return 1;
			vm->x = (vm->x & 0xf) << 2;
			return 0;
		}
		return cbpf_refuse(vm);
	case BPF_ST:
		vm->mem[k & (CBPF_MEMWORDS - 1)] = vm->a;
		return 0;
	case BPF_STX:
		vm->mem[k & (CBPF_MEMWORDS - 1)] = vm->x;
		return 0;
	case BPF_ALU:
		return cbpf_alu(vm, code, src);
	case BPF_JMP:
		return cbpf_jmp(vm, f, src);
	default: /* BPF_MISC */
		if (BPF_MISCOP(code) == BPF_TAX)
			vm->x = vm->a;
		else
			vm->a = vm->x;
		return 0;
	}
}

/* Does the program select the frame? */
static __always_inline int cbpf_selects(struct xdp_md *ctx)
{
	struct cbpf_frame fr = { .ctx = ctx };
	struct cbpf_vm *vm;
	__u32 zero = 0;

	fr.vm = vm = bpf_map_lookup_elem(&cbpf_vm, &zero);
	fr.prog = bpf_map_lookup_elem(&cbpf_prog, &zero);
	if (!vm || !fr.prog)
		return 0;
	__builtin_memset(vm, 0, sizeof(*vm));
	vm->wirelen = (__u32)bpf_xdp_get_buff_len(ctx);
	vm->buflen = vm->wirelen < cbpf_snaplen ? vm->wirelen : cbpf_snaplen;
	bpf_loop(cbpf_len, cbpf_step, &fr, 0);
	return vm->ret != 0;
}

#endif /* NTAD_CBPF_H */
