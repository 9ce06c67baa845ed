// SPDX-License-Identifier: MIT
/*
 * fuzz_pkt.c - libFuzzer target for the packet code that reads received bytes.
 *
 * ntad_pkt_verify() runs on every frame ntad receives with --verify and on
 * every frame ntad-peer receives, so it sees whatever the wire carries. Two
 * properties are checked:
 *   1. Arbitrary bytes: verify never reads outside [buf, buf + len) (the input
 *      is copied into a heap block of exactly len bytes, so ASan sees any
 *      overread), returns one of the documented codes, and sets *seq only once
 *      the magic was found.
 *   2. Built frames: a frame from ntad_pkt_build() of a length and sequence
 *      number taken from the input verifies with that number; the same frame
 *      cut short by any amount, or with one pattern byte changed, does not.
 * ntad_parse_mac() (option values of ntad and ntad-peer) is fed the input as a
 * string and must round-trip what it accepts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ntad_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEQ_UNSET 0xdeadbeefu

static void check_arbitrary(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	uint32_t seq = SEQ_UNSET;
	int r;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	r = ntad_pkt_verify(buf, size, &seq);
	if (r > 0 || r < NTAD_PKT_ERR_IP)
		abort();
	/* SHORT and NOT_OURS are reported before the magic is read. */
	if ((r == NTAD_PKT_ERR_SHORT || r == NTAD_PKT_ERR_NOT_OURS) && seq != SEQ_UNSET)
		abort();
	if (r == NTAD_PKT_OK && size < NTAD_PKT_HDR_LEN + 16)
		abort();
	if (!ntad_pkt_strerror(r)[0])
		abort();
	(void)ntad_pkt_verify(buf, size, NULL); /* NULL seq is allowed */
	free(buf);
}

static void check_built(const uint8_t *data, size_t size)
{
	struct ntad_pkt_params pp;
	uint32_t len, seq, got = 0, cut;
	uint8_t *frame, *shortf;
	size_t flip;

	if (size < 10)
		return;
	len = NTAD_PKT_MIN_LEN + (uint32_t)(data[0] | data[1] << 8) % (NTAD_PKT_MAX_LEN - NTAD_PKT_MIN_LEN + 1);
	seq = (uint32_t)data[2] | (uint32_t)data[3] << 8 | (uint32_t)data[4] << 16 | (uint32_t)data[5] << 24;
	cut = 1 + (uint32_t)(data[6] | data[7] << 8) % len;        /* 1..len bytes removed */
	flip = (size_t)(data[8] | data[9] << 8);
	ntad_pkt_params_default(&pp);
	if (size >= 22) {
		memcpy(pp.src_mac, data + 10, 6);
		memcpy(pp.dst_mac, data + 16, 6);
	}
	frame = malloc(len);
	if (!frame)
		abort();
	if (ntad_pkt_build(frame, len, &pp, seq) != len)
		abort();
	if (ntad_pkt_verify(frame, len, &got) != NTAD_PKT_OK || got != seq)
		abort();
	/* Truncated copy in its own block, so a read past the cut is caught. */
	shortf = malloc(len - cut + 1);
	if (!shortf)
		abort();
	memcpy(shortf, frame, len - cut);
	if (ntad_pkt_verify(shortf, len - cut, NULL) == NTAD_PKT_OK)
		abort();
	free(shortf);
	/* One pattern byte changed: caught byte for byte. */
	if (len > NTAD_PKT_HDR_LEN + 16) {
		size_t at = NTAD_PKT_HDR_LEN + 16 + flip % (len - NTAD_PKT_HDR_LEN - 16);

		frame[at] ^= (uint8_t)(1u << (data[9] & 7));
		if (ntad_pkt_verify(frame, len, NULL) == NTAD_PKT_OK)
			abort();
	}
	free(frame);
}

static void check_mac(const uint8_t *data, size_t size)
{
	char s[32], back[32];
	uint8_t mac[6];

	if (size >= sizeof(s))
		size = sizeof(s) - 1;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ntad_parse_mac(s, mac))
		return;
	snprintf(back, sizeof(back), "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	if (strcasecmp(back, s))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_arbitrary(data, size);
	check_built(data, size);
	check_mac(data, size);
	return 0;
}
