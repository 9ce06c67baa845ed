/* SPDX-License-Identifier: MIT */
/*
 * pkt.h - the test and generator packets of ntad: Ethernet + IPv4 + UDP with a
 * payload that carries a sequence number, the frame length and a checksum, so a
 * receiver can check order, length and content of every frame it gets.
 *
 * Shared by ntad's txonly mode, the peer tool (tests/tools/ntad-peer.c), the
 * benchmarks' generator and the tests. Pure functions: no I/O, no allocation.
 */
#ifndef NTAD_PKT_H
#define NTAD_PKT_H

#include <stddef.h>
#include <stdint.h>

#define NTAD_PKT_MAGIC 0x4e544144u       /* "NTAD": pattern from the sequence number */
#define NTAD_PKT_MAGIC_STAMP 0x4e544153u /* "NTAS": pattern from the length, seq stamped in */
#define NTAD_PKT_MIN_LEN 60        /* Ethernet minimum without FCS */
#define NTAD_PKT_MAX_LEN 9014      /* 9000-byte MTU + Ethernet header */
#define NTAD_PKT_HDR_LEN (14 + 20 + 8) /* Ethernet + IPv4 + UDP */

/* The start of the UDP payload, all fields big-endian on the wire. */
struct ntad_pkt_payload {
	uint32_t magic;  /* NTAD_PKT_MAGIC or NTAD_PKT_MAGIC_STAMP */
	uint32_t seq;    /* sequence number given by the sender */
	uint32_t len;    /* whole frame length, Ethernet header included */
	uint32_t csum;   /* checksum of the payload bytes after this header */
	/* then len - NTAD_PKT_HDR_LEN - 16 bytes of a pattern derived from seq */
};

struct ntad_pkt_params {
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	uint32_t src_ip;   /* network byte order */
	uint32_t dst_ip;   /* network byte order */
	uint16_t sport;    /* host byte order */
	uint16_t dport;    /* host byte order */
};

/* Defaults used when the user gives none: 10.77.0.1 -> 10.77.0.2, 9 -> 9 (discard). */
void ntad_pkt_params_default(struct ntad_pkt_params *p);

/*
 * Write a frame of len bytes (NTAD_PKT_MIN_LEN..NTAD_PKT_MAX_LEN) with sequence
 * number seq into buf, with valid IPv4 and UDP checksums. Returns len, or 0 when
 * len is out of range.
 */
size_t ntad_pkt_build(void *buf, size_t len, const struct ntad_pkt_params *p, uint32_t seq);

/*
 * A frame to send again and again: ntad_pkt_template writes it once (as
 * ntad_pkt_build, but its pattern is a function of len, not of a sequence
 * number, so the same bytes are valid with any), ntad_pkt_stamp then gives it
 * sequence number seq by rewriting the number, the IPv4 id and both
 * checksums incrementally (RFC 1624): a cost that does not grow with len.
 * ntad_pkt_stamp expects a frame ntad_pkt_template wrote (len from its
 * header); 0 on success, -EINVAL for any other frame (unchanged).
 */
size_t ntad_pkt_template(void *buf, size_t len, const struct ntad_pkt_params *p);
int ntad_pkt_stamp(void *buf, uint32_t seq);

enum ntad_pkt_err {
	NTAD_PKT_OK = 0,
	NTAD_PKT_ERR_SHORT = -1,    /* shorter than the headers */
	NTAD_PKT_ERR_NOT_OURS = -2, /* not IPv4/UDP, or no magic */
	NTAD_PKT_ERR_LEN = -3,      /* len field differs from the frame length */
	NTAD_PKT_ERR_CSUM = -4,     /* payload checksum or pattern mismatch */
	NTAD_PKT_ERR_IP = -5,       /* IPv4 header checksum or length wrong */
};

/*
 * Check a received frame of len bytes: headers, length, checksum and the payload
 * pattern. Returns NTAD_PKT_OK and the sequence number in *seq, or an error.
 * Errors are reported in this order, the first that applies: SHORT / NOT_OURS
 * while identifying the frame (Ethernet type IPv4, IHL 5, UDP, magic), then LEN
 * (len field or UDP length vs the frame: a truncated frame lands here), IP, and
 * CSUM (pattern, payload checksum, UDP checksum). Once the magic was found *seq
 * is set even on error, so the caller can name the bad frame. seq may be NULL.
 */
int ntad_pkt_verify(const void *buf, size_t len, uint32_t *seq);
const char *ntad_pkt_strerror(int err);

/* Frame length of the i-th packet of an IMIX stream: 64, 576, 1500 bytes, 7:4:1. */
uint32_t ntad_pkt_imix_len(uint64_t i);

/* Parse "aa:bb:cc:dd:ee:ff" into mac. Returns 0 or -EINVAL. */
int ntad_parse_mac(const char *s, uint8_t mac[6]);

#endif /* NTAD_PKT_H */
