// SPDX-License-Identifier: MIT
/*
 * pkt.c - build and check ntad's test frames (see pkt.h for the layout).
 *
 * A frame is Ethernet + IPv4 (no options) + UDP + a 16-byte payload header
 * (magic, seq, len, csum) + a pattern that is a pure function of (seed,
 * offset): the seed comes from seq (magic NTAD, ntad_pkt_build) or from the
 * frame length (magic NTAS, ntad_pkt_template: one frame per length, stamped
 * with each sequence number in turn). Because the receiver can regenerate
 * every byte, it checks content byte for byte, not only a checksum: a swapped,
 * duplicated or shifted byte is caught as surely as a flipped one, and the
 * reported error says which layer is wrong.
 *
 * The payload checksum is a cheap order-sensitive sum (two 16-bit running sums,
 * like Adler/Fletcher without the modulus): it only has to tell "pattern bytes
 * differ" apart from "header fields differ" and to cost little on the sender,
 * since ntad's txonly mode builds frames at line rate. Real IPv4 and UDP
 * checksums are written too, so the kernel stack on the other end of a veth
 * accepts the frames and a mangled address or port is detected.
 *
 * Everything is byte-wise over caller memory: frames in a UMEM have no
 * alignment guarantee beyond the chunk, and the headers sit at odd offsets.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "ntad_pkt.h"

#define L2_HLEN 14
#define IP_HLEN 20
#define UDP_HLEN 8
#define PAYLOAD_HLEN 16
#define OFF_IP L2_HLEN
#define OFF_UDP (OFF_IP + IP_HLEN)
#define OFF_PAYLOAD (OFF_UDP + UDP_HLEN)
#define OFF_PATTERN (OFF_PAYLOAD + PAYLOAD_HLEN)

_Static_assert(NTAD_PKT_HDR_LEN == OFF_PAYLOAD, "pkt.h header length matches the layout");
_Static_assert(sizeof(struct ntad_pkt_payload) == PAYLOAD_HLEN, "payload header is 16 bytes");
_Static_assert(NTAD_PKT_MIN_LEN >= OFF_PATTERN, "the smallest frame holds every header");

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Ones' complement sum of big-endian 16-bit words, not yet folded. */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* UDP checksum over the pseudo header, the UDP header and the payload. */
static uint16_t udp_csum(const uint8_t *frame, size_t udp_len)
{
	uint32_t sum = 0;

	sum = sum16(frame + OFF_IP + 12, 8, sum); /* source and destination address */
	sum += 17 + (uint32_t)udp_len;
	sum = sum16(frame + OFF_UDP, udp_len, sum);
	return fold(sum);
}

/*
 * Pattern byte at offset i after the payload header. The seed spreads
 * neighbouring sequence numbers far apart, and the byte depends on i so a
 * shifted run of bytes does not line up again.
 */
static inline uint8_t pattern_byte(uint32_t seed, size_t i)
{
	return (uint8_t)((seed >> ((i & 3) * 8)) + (i >> 2));
}

static uint32_t pattern_seed(uint32_t seq)
{
	return seq * 0x9e3779b1u + 0x7f4a7c15u;
}

/* Two running 16-bit sums: b weights every byte by its position from the end. */
struct csum {
	uint32_t a, b;
};

static inline void csum_add(struct csum *c, uint8_t byte)
{
	c->a = (c->a + byte) & 0xffff;
	c->b = (c->b + c->a) & 0xffff;
}

static uint32_t csum_val(const struct csum *c)
{
	return c->b << 16 | c->a;
}

void ntad_pkt_params_default(struct ntad_pkt_params *p)
{
	static const uint8_t src[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t dst[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
	/* 10.77.0.1 and 10.77.0.2 in network byte order, whatever the host's. */
	static const uint8_t sip[4] = { 10, 77, 0, 1 };
	static const uint8_t dip[4] = { 10, 77, 0, 2 };

	memcpy(p->src_mac, src, 6);
	memcpy(p->dst_mac, dst, 6);
	memcpy(&p->src_ip, sip, 4);
	memcpy(&p->dst_ip, dip, 4);
	p->sport = 9;
	p->dport = 9;
}

/* Inlined into both callers: the magic is a constant there, and the per-byte
 * pattern loop is the generator's hot path with --payload full. */
static inline __attribute__((always_inline)) size_t
build(uint8_t *f, size_t len, const struct ntad_pkt_params *p, uint32_t seq, uint32_t magic)
{
	uint8_t *pat = f + OFF_PATTERN;
	uint32_t seed = pattern_seed(magic == NTAD_PKT_MAGIC ? seq : (uint32_t)len);
	struct csum c = { 0, 0 };
	size_t n, i;

	if (len < NTAD_PKT_MIN_LEN || len > NTAD_PKT_MAX_LEN)
		return 0;
	n = len - OFF_PATTERN;

	memcpy(f, p->dst_mac, 6);
	memcpy(f + 6, p->src_mac, 6);
	put16(f + 12, 0x0800);

	f[OFF_IP] = 0x45;
	f[OFF_IP + 1] = 0;
	put16(f + OFF_IP + 2, (uint16_t)(len - L2_HLEN));
	put16(f + OFF_IP + 4, (uint16_t)seq); /* id: distinct per frame, handy in captures */
	put16(f + OFF_IP + 6, 0x4000);        /* DF: never fragmented on the way */
	f[OFF_IP + 8] = 64;
	f[OFF_IP + 9] = 17;
	put16(f + OFF_IP + 10, 0);
	memcpy(f + OFF_IP + 12, &p->src_ip, 4);
	memcpy(f + OFF_IP + 16, &p->dst_ip, 4);
	put16(f + OFF_IP + 10, fold(sum16(f + OFF_IP, IP_HLEN, 0)));

	for (i = 0; i < n; i++) {
		pat[i] = pattern_byte(seed, i);
		csum_add(&c, pat[i]);
	}
	put32(f + OFF_PAYLOAD, magic);
	put32(f + OFF_PAYLOAD + 4, seq);
	put32(f + OFF_PAYLOAD + 8, (uint32_t)len);
	put32(f + OFF_PAYLOAD + 12, csum_val(&c));

	put16(f + OFF_UDP, p->sport);
	put16(f + OFF_UDP + 2, p->dport);
	put16(f + OFF_UDP + 4, (uint16_t)(len - OFF_UDP));
	put16(f + OFF_UDP + 6, 0);
	{
		uint16_t u = udp_csum(f, len - OFF_UDP);

		put16(f + OFF_UDP + 6, u ? u : 0xffff); /* 0 means "no checksum" in UDP */
	}
	return len;
}

size_t ntad_pkt_build(void *buf, size_t len, const struct ntad_pkt_params *p, uint32_t seq)
{
	return build(buf, len, p, seq, NTAD_PKT_MAGIC);
}

size_t ntad_pkt_template(void *buf, size_t len, const struct ntad_pkt_params *p)
{
	return build(buf, len, p, 0, NTAD_PKT_MAGIC_STAMP);
}

/*
 * RFC 1624, eqn. 3: the checksum at p after a covered 16-bit word changed
 * from old to new, HC' = ~(~HC + ~m + m'). With UDP's "0 is no checksum"
 * mapping kept: a result of 0 goes out as 0xffff, its equal in ones' complement.
 */
static void csum_update(uint8_t *p, uint16_t old, uint16_t new, bool udp)
{
	uint32_t sum = (uint16_t)~get16(p) + (uint32_t)(uint16_t)~old + new;
	uint16_t hc = fold(sum);

	put16(p, udp && !hc ? 0xffff : hc);
}

int ntad_pkt_stamp(void *buf, uint32_t seq)
{
	uint8_t *f = buf;
	uint32_t old;
	uint16_t old_id;

	if (!f || get32(f + OFF_PAYLOAD) != NTAD_PKT_MAGIC_STAMP || get16(f + 12) != 0x0800)
		return -EINVAL;
	old = get32(f + OFF_PAYLOAD + 4);
	old_id = get16(f + OFF_IP + 4);
	put32(f + OFF_PAYLOAD + 4, seq);
	put16(f + OFF_IP + 4, (uint16_t)seq);
	csum_update(f + OFF_IP + 10, old_id, (uint16_t)seq, false);
	/* The payload's seq: two words the UDP checksum covers. */
	csum_update(f + OFF_UDP + 6, (uint16_t)(old >> 16), (uint16_t)(seq >> 16), true);
	csum_update(f + OFF_UDP + 6, (uint16_t)old, (uint16_t)seq, true);
	return 0;
}

int ntad_pkt_verify(const void *buf, size_t len, uint32_t *seq)
{
	const uint8_t *f = buf;
	const uint8_t *pat = f + OFF_PATTERN;
	uint32_t flen, seed, want, magic;
	struct csum c = { 0, 0 };
	size_t i, n;
	int bad = 0;

	/* Identify the frame first: something that is not ours is not corrupt. */
	if (len < L2_HLEN)
		return NTAD_PKT_ERR_SHORT;
	if (get16(f + 12) != 0x0800)
		return NTAD_PKT_ERR_NOT_OURS;
	if (len < OFF_UDP)
		return NTAD_PKT_ERR_SHORT;
	if (f[OFF_IP] != 0x45 || f[OFF_IP + 9] != 17)
		return NTAD_PKT_ERR_NOT_OURS;
	if (len < OFF_PATTERN)
		return NTAD_PKT_ERR_SHORT;
	magic = get32(f + OFF_PAYLOAD);
	if (magic != NTAD_PKT_MAGIC && magic != NTAD_PKT_MAGIC_STAMP)
		return NTAD_PKT_ERR_NOT_OURS;
	if (seq)
		*seq = get32(f + OFF_PAYLOAD + 4);

	/* Length next: a truncated frame would fail every later check. */
	flen = get32(f + OFF_PAYLOAD + 8);
	if (flen != len || get16(f + OFF_UDP + 4) != len - OFF_UDP)
		return NTAD_PKT_ERR_LEN;
	if (fold(sum16(f + OFF_IP, IP_HLEN, 0)) != 0 || get16(f + OFF_IP + 2) != len - L2_HLEN)
		return NTAD_PKT_ERR_IP;

	seed = pattern_seed(magic == NTAD_PKT_MAGIC ? get32(f + OFF_PAYLOAD + 4) : flen);
	n = len - OFF_PATTERN;
	for (i = 0; i < n; i++) {
		bad |= pat[i] ^ pattern_byte(seed, i);
		csum_add(&c, pat[i]);
	}
	want = get32(f + OFF_PAYLOAD + 12);
	if (bad || csum_val(&c) != want)
		return NTAD_PKT_ERR_CSUM;
	/* A valid UDP checksum sums to zero with itself included. */
	if (get16(f + OFF_UDP + 6) != 0 && udp_csum(f, len - OFF_UDP) != 0)
		return NTAD_PKT_ERR_CSUM;
	return NTAD_PKT_OK;
}

const char *ntad_pkt_strerror(int err)
{
	switch (err) {
	case NTAD_PKT_OK:
		return "ok";
	case NTAD_PKT_ERR_SHORT:
		return "frame shorter than its headers";
	case NTAD_PKT_ERR_NOT_OURS:
		return "not an ntad test frame";
	case NTAD_PKT_ERR_LEN:
		return "length field differs from the frame length";
	case NTAD_PKT_ERR_CSUM:
		return "payload or UDP checksum mismatch";
	case NTAD_PKT_ERR_IP:
		return "IPv4 header checksum or length wrong";
	default:
		return "unknown packet error";
	}
}

uint32_t ntad_pkt_imix_len(uint64_t i)
{
	/* 7 x 64, 4 x 576, 1 x 1500 per 12 frames, interleaved so that any
	 * window of a few frames already mixes sizes. */
	static const uint16_t cycle[12] = {
		64, 576, 64, 64, 576, 64, 1500, 64, 576, 64, 576, 64,
	};

	return cycle[i % 12];
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int ntad_parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t out[6];
	int i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (i < 5 && *s++ != ':')
			return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	memcpy(mac, out, 6);
	return 0;
}
