// SPDX-License-Identifier: MIT
/*
 * ntad_gen.bpf.c - the two XDP programs of the benchmark generator
 * (tests/tools/ntad-gen.c): one that makes traffic, one that counts and drops it.
 *
 * ntad_gen is never attached. The tool runs it with BPF_PROG_RUN and
 * BPF_F_TEST_XDP_LIVE_FRAMES on the sending end of a veth pair: the kernel
 * copies the tool's template frame (a user/pkt.h frame) into a small pool of
 * pages once, runs the program on a page per repetition and, because it returns
 * XDP_TX, redirects the frame out of ctx.ingress_ifindex into the other end.
 * No skb, no socket, no copy from user space per frame: that is what lets one
 * core load a receiver harder than an AF_XDP sender in copy mode can (about
 * 1 Mpps here, see docs/PLATFORM.md).
 *
 * Pages are recycled without being rewritten (Documentation/bpf/bpf_prog_run.rst),
 * so the program must write every field that differs per frame, and may only
 * read fields that never do. Per frame it writes the sequence number (payload
 * header and IPv4 id) and both checksums; the lengths, addresses and ports come
 * from the template. IMIX (imix = 1) uses a 1500-byte template that the
 * program cuts to the length of the frame's place in the 12-step cycle
 * (imix_cycle, the tool's copy of ntad_pkt_imix_len(), indexed by seq % 12)
 * with bpf_xdp_adjust_tail, then writes the three length fields. One test run
 * thus mixes sizes frame by frame: a run costs the tool one syscall with a
 * setup and teardown of the kernel's page pool (tens of milliseconds here), so
 * runs have to be long, and cannot each be one size. Two payload modes, fixed
 * at load time:
 *
 *   full (full_payload = 1): the pattern after the payload header is rewritten
 *     for the frame's own seq, with its payload checksum, so every frame passes
 *     ntad_pkt_verify(). Cost grows with the frame: about 360 loop rounds at
 *     1500 bytes, nothing to speak of at 64 bytes (6 pattern bytes).
 *   seq (full_payload = 0): O(1) per frame. The pattern and payload checksum
 *     stay those of the template (seq 0) and the UDP checksum is completed with
 *     the template's pattern sum for the frame's length (pattern_sums, set by
 *     the tool per IMIX step; entry 0 for a fixed size), so the frames
 *     are valid IPv4/UDP with a correct seq and length, but ntad_pkt_verify() reports a
 *     payload mismatch for every seq but 0. For throughput at large sizes.
 *
 * Checksums are summed over 16-bit words exactly as loaded (little-endian on
 * the host): the ones' complement sum of byte-swapped words is the byte-swapped
 * sum, so folding and storing the raw value gives the right bytes on the wire.
 *
 * next_seq is a plain global, advanced without atomics: the tool runs the
 * generator from one thread, and a live test run executes on the calling CPU
 * with migration disabled, so no two invocations ever overlap.
 *
 * ntad_gen_count is attached (bpf_link) to a receiving end, drops everything
 * and counts per CPU: all frames and bytes, and the ones carrying the pkt.h
 * magic. It is the project's own `xdp-bench drop`: the XDP_DROP ceiling of a
 * veth end, and the counter for what ntad sends (txonly) or returns (l2fwd) to
 * the peer. Counters are a .bss array indexed by CPU, one cache line each, so
 * the tool reads them through the skeleton's mmap without a map lookup per CPU.
 *
 * How many frames followed their predecessor's seq exactly is tracked per rx
 * queue, not per CPU: a queue's NAPI poll runs on one CPU at a time, but not
 * always the same one (on veth it runs where it was last scheduled, which can
 * be either CPU within one run), so a per-CPU "previous seq" would count every
 * move of the poll as a frame out of order.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* The layout of user/pkt.c: Ethernet, IPv4 without options, UDP, payload header. */
#define OFF_IP 14
#define OFF_UDP 34
#define OFF_PAYLOAD 42
#define OFF_PATTERN 58
#define PKT_MAGIC 0x4e544144u

/* Largest frame the generator builds: a live-frame page holds about 3.5 KiB. */
#define GEN_MAX_LEN 3072
#define MAX_WORDS ((GEN_MAX_LEN - OFF_PATTERN) / 4)
#define GEN_MAX_CPUS 64
#define GEN_MAX_QUEUES 64

#define IMIX_STEPS 12

const volatile __u8 full_payload = 1;
const volatile __u8 imix = 0;
const volatile __u16 imix_cycle[IMIX_STEPS];

__u32 next_seq;        /* seq of the next frame; set by the tool, advanced here */
/* seq mode: raw 16-bit word sum of the template's pattern, per IMIX step */
__u64 pattern_sums[IMIX_STEPS];

struct gen_count {
	__u64 packets;
	__u64 bytes;
	__u64 ours;      /* frames with the pkt.h magic */
	__u64 pad[5];    /* one cache line per CPU */
};

struct gen_seq {
	__u64 in_order;  /* ours whose seq was the previous one's + 1 */
	__u32 next_seq;  /* expected seq; the tool sets the first */
	__u32 pad0;
	__u64 pad[6];    /* one cache line per queue */
};

struct gen_count counts[GEN_MAX_CPUS];
struct gen_seq seqs[GEN_MAX_QUEUES];

static __always_inline __u16 fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Add of four bytes without carries between them: the pattern adds per byte. */
static __always_inline __u32 bytewise_add(__u32 x, __u32 y)
{
	return ((x & 0x7f7f7f7f) + (y & 0x7f7f7f7f)) ^ ((x ^ y) & 0x80808080);
}

SEC("xdp")
int ntad_gen(struct xdp_md *ctx)
{
	__u8 *data, *end, *pat;
	__u32 seq = next_seq++;
	__u64 step = imix ? seq % IMIX_STEPS : 0; /* 64-bit: one register, checked and used */
	__u64 sum = 0, psum = 0;
	__u16 *w;
	__u16 udp_len;
	int i;

	/* The verifier cannot bound a modulo: hide it from clang, which would
	 * drop the check as always false, and let the check bound the index. */
	asm volatile("" : "+r"(step));
	if (step >= IMIX_STEPS)
		return XDP_DROP;
	if (imix) {
		int cut;

		cut = (int)imix_cycle[step] - (int)(ctx->data_end - ctx->data);
		if (cut < 0 && bpf_xdp_adjust_tail(ctx, cut))
			return XDP_DROP;
	}
	/* Reloaded on both paths: adjust_tail invalidates packet pointers. */
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	pat = data + OFF_PATTERN;
	if (pat > end)
		return XDP_DROP;
	if (imix) {
		__u16 len = (__u16)(end - data);

		*(__u16 *)(data + OFF_IP + 2) = bpf_htons(len - OFF_IP);
		*(__u16 *)(data + OFF_UDP + 4) = bpf_htons(len - OFF_UDP);
		*(__u32 *)(data + OFF_PAYLOAD + 8) = bpf_htonl(len);
	}

	*(__u32 *)(data + OFF_PAYLOAD + 4) = bpf_htonl(seq);
	*(__u16 *)(data + OFF_IP + 4) = bpf_htons((__u16)seq);

	if (full_payload) {
		__u32 n = (__u32)(end - pat), nwords = n / 4, k;
		__u32 seed = seq * 0x9e3779b1u + 0x7f4a7c15u;
		__u64 a = 0, b = 0;

		for (k = 0; k < MAX_WORDS; k++) {
			__u8 *p = pat + 4 * k;
			__u32 v, b0, b1, b2, b3;

			if (k >= nwords || p + 4 > end)
				break;
			v = bytewise_add(seed, (k & 0xff) * 0x01010101u);
			*(__u32 *)p = v;
			b0 = v & 0xff;
			b1 = (v >> 8) & 0xff;
			b2 = (v >> 16) & 0xff;
			b3 = v >> 24;
			/* Four rounds of a += byte; b += a, folded into one. */
			b += 4 * a + 4 * b0 + 3 * b1 + 2 * b2 + b3;
			a += b0 + b1 + b2 + b3;
			psum += (v & 0xffff) + (v >> 16);
		}
		for (i = 0; i < 3; i++) {
			/* The mask bounds the offset for the verifier; GEN_MAX_LEN < 4096. */
			__u32 off = (nwords * 4 + i) & 0xfff;
			__u8 *p = pat + off;
			__u8 byte;

			if (off >= n || p + 1 > end)
				break;
			byte = (__u8)((seed >> (8 * i)) + (off >> 2));
			*p = byte;
			a += byte;
			b += a;
			psum += i & 1 ? (__u32)byte << 8 : byte;
		}
		*(__u32 *)(data + OFF_PAYLOAD + 12) =
			bpf_htonl((__u32)(b & 0xffff) << 16 | (__u32)(a & 0xffff));
	} else {
		psum = pattern_sums[step];
	}

	/* IPv4 header checksum, id included. */
	w = (__u16 *)(data + OFF_IP);
	w[5] = 0;
#pragma unroll
	for (i = 0; i < 10; i++)
		sum += w[i];
	w[5] = fold(sum);

	/* UDP: pseudo header, UDP header, payload header, pattern. */
	udp_len = (__u16)(end - (data + OFF_UDP));
	sum = bpf_htons(17) + bpf_htons(udp_len);
	w = (__u16 *)(data + OFF_IP + 12);
#pragma unroll
	for (i = 0; i < 4; i++)
		sum += w[i];
	w = (__u16 *)(data + OFF_UDP);
	w[3] = 0;
#pragma unroll
	for (i = 0; i < 12; i++)
		sum += w[i];
	sum += psum;
	w[3] = fold(sum) ?: 0xffff; /* 0 would mean "no checksum" */
	return XDP_TX;
}

SEC("xdp")
int ntad_gen_count(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;
	__u32 cpu = bpf_get_smp_processor_id();
	struct gen_count *c;

	if (cpu >= GEN_MAX_CPUS)
		return XDP_DROP;
	c = &counts[cpu];
	c->packets++;
	c->bytes += (__u64)(end - data);
	if (data + OFF_PATTERN > end)
		return XDP_DROP;
	if (*(__u16 *)(data + 12) != bpf_htons(0x0800) || data[OFF_IP] != 0x45 ||
	    data[OFF_IP + 9] != 17 || *(__u32 *)(data + OFF_PAYLOAD) != bpf_htonl(PKT_MAGIC))
		return XDP_DROP;
	c->ours++;
	if (ctx->rx_queue_index < GEN_MAX_QUEUES) {
		struct gen_seq *q = &seqs[ctx->rx_queue_index];
		__u32 seq = bpf_ntohl(*(__u32 *)(data + OFF_PAYLOAD + 4));

		if (seq == q->next_seq)
			q->in_order++;
		q->next_seq = seq + 1;
	}
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
