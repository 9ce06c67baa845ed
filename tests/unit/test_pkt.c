// SPDX-License-Identifier: MIT
/*
 * test_pkt.c - unit test of lib/ntad/pkt.c, the test frames of ntad.
 *
 * Round trip for every length from the minimum to the jumbo maximum in steps
 * (and the edges), each corruption kind detected with the right error at
 * several positions, frames that are not ours told apart from broken ones, the
 * IMIX ratio, and MAC parsing. The checksums are checked against independent
 * computations here, not against pkt.c's own helpers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntad_pkt.h"
#include "check.h"

static uint8_t buf[NTAD_PKT_MAX_LEN + 64];
static uint8_t buf2[NTAD_PKT_MAX_LEN + 64];

/* Reference ones' complement checksum, written independently of pkt.c. */
static uint16_t ref_csum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i < n; i++)
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static struct ntad_pkt_params params(void)
{
	struct ntad_pkt_params p;

	ntad_pkt_params_default(&p);
	CHECK(ntad_parse_mac("0a:1b:2c:3d:4e:5f", p.src_mac) == 0, "src mac");
	CHECK(ntad_parse_mac("02:00:00:00:00:99", p.dst_mac) == 0, "dst mac");
	p.src_ip = htonl(0xc0a80101);
	p.dst_ip = htonl(0xc0a80202);
	p.sport = 4242;
	p.dport = 4791;
	return p;
}

static void check_headers(const uint8_t *f, size_t len, const struct ntad_pkt_params *p, uint32_t seq)
{
	uint32_t sum;
	size_t udp_len = len - 34;

	CHECK(memcmp(f, p->dst_mac, 6) == 0 && memcmp(f + 6, p->src_mac, 6) == 0, "len %zu: MACs", len);
	CHECK(f[12] == 0x08 && f[13] == 0x00, "len %zu: ethertype", len);
	CHECK(f[14] == 0x45 && f[23] == 17, "len %zu: IPv4/UDP", len);
	CHECK((size_t)(f[16] << 8 | f[17]) == len - 14, "len %zu: IP total length", len);
	CHECK(ref_csum(f + 14, 20, 0) == 0, "len %zu: IP header checksum", len);
	CHECK(memcmp(f + 26, &p->src_ip, 4) == 0 && memcmp(f + 30, &p->dst_ip, 4) == 0,
	      "len %zu: addresses", len);
	CHECK((f[34] << 8 | f[35]) == p->sport && (f[36] << 8 | f[37]) == p->dport, "len %zu: ports", len);
	CHECK((size_t)(f[38] << 8 | f[39]) == udp_len, "len %zu: UDP length", len);
	/* pseudo header + UDP: sums to zero when the checksum is right */
	sum = (uint32_t)(f[26] << 8 | f[27]) + (uint32_t)(f[28] << 8 | f[29]) +
	      (uint32_t)(f[30] << 8 | f[31]) + (uint32_t)(f[32] << 8 | f[33]) + 17 + (uint32_t)udp_len;
	CHECK((f[40] | f[41]) != 0, "len %zu: UDP checksum present", len);
	CHECK(ref_csum(f + 34, udp_len, sum) == 0, "len %zu: UDP checksum", len);
	CHECK(f[42] == 'N' && f[43] == 'T' && f[44] == 'A' && f[45] == 'D', "len %zu: magic", len);
	CHECK(((uint32_t)f[46] << 24 | (uint32_t)f[47] << 16 | (uint32_t)f[48] << 8 | f[49]) == seq,
	      "len %zu: seq", len);
	CHECK(((size_t)f[50] << 24 | (size_t)f[51] << 16 | (size_t)f[52] << 8 | f[53]) == len,
	      "len %zu: len field", len);
}

static void test_round_trip(void)
{
	struct ntad_pkt_params p = params();
	size_t lens[600], n = 0;

	for (size_t l = NTAD_PKT_MIN_LEN; l <= NTAD_PKT_MAX_LEN; l += 17)
		lens[n++] = l;
	lens[n++] = NTAD_PKT_MIN_LEN + 1;
	lens[n++] = 64;
	lens[n++] = 1514;
	lens[n++] = NTAD_PKT_MAX_LEN;
	for (size_t k = 0; k < n; k++) {
		size_t len = lens[k];
		uint32_t seq = (uint32_t)(k * 2654435761u), got = 0;
		int err;

		memset(buf, 0xa5, sizeof(buf));
		CHECK(ntad_pkt_build(buf, len, &p, seq) == len, "build %zu", len);
		CHECK(buf[len] == 0xa5, "len %zu: build wrote past the frame", len);
		check_headers(buf, len, &p, seq);
		err = ntad_pkt_verify(buf, len, &got);
		CHECK(err == NTAD_PKT_OK, "len %zu: verify: %s", len, ntad_pkt_strerror(err));
		CHECK(got == seq, "len %zu: seq %u, want %u", len, got, seq);
	}
	/* Out of range lengths are refused and write nothing. */
	memset(buf, 0xa5, sizeof(buf));
	CHECK(ntad_pkt_build(buf, NTAD_PKT_MIN_LEN - 1, &p, 1) == 0, "too short");
	CHECK(ntad_pkt_build(buf, NTAD_PKT_MAX_LEN + 1, &p, 1) == 0, "too long");
	CHECK(buf[0] == 0xa5, "refused build wrote");
	/* NULL seq is allowed. */
	ntad_pkt_build(buf, 100, &p, 7);
	CHECK(ntad_pkt_verify(buf, 100, NULL) == NTAD_PKT_OK, "verify with NULL seq");
}

/* The pattern depends on seq: the same length with another seq differs. */
static void test_pattern_depends_on_seq(void)
{
	struct ntad_pkt_params p = params();
	size_t len = 1000, same = 0;

	ntad_pkt_build(buf, len, &p, 1);
	ntad_pkt_build(buf2, len, &p, 2);
	for (size_t i = 58; i < len; i++)
		same += buf[i] == buf2[i];
	CHECK(same < (len - 58) / 8, "seq 1 and 2 share %zu of %zu pattern bytes", same, len - 58);
	/* A frame of seq 2's payload under seq 1's header is caught. */
	memcpy(buf2 + 46, buf + 46, 4);
	CHECK(ntad_pkt_verify(buf2, len, NULL) == NTAD_PKT_ERR_CSUM, "payload of another seq");
}

static void test_corruption(void)
{
	struct ntad_pkt_params p = params();
	const size_t lens[] = { 60, 61, 64, 333, 1514, 4096, NTAD_PKT_MAX_LEN };
	uint32_t got;
	int err;

	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		size_t len = lens[k];

		/* Flip one bit of every pattern byte position in turn (sampled for big frames). */
		for (size_t off = 58; off < len; off += len > 2000 ? 97 : 1) {
			for (int bit = 0; bit < 8; bit += 7) {
				ntad_pkt_build(buf, len, &p, 77);
				buf[off] ^= (uint8_t)(1u << bit);
				got = 0;
				err = ntad_pkt_verify(buf, len, &got);
				CHECK(err == NTAD_PKT_ERR_CSUM, "len %zu: flip byte %zu bit %d: %s", len, off,
				      bit, ntad_pkt_strerror(err));
				CHECK(got == 77, "len %zu: seq reported on error", len);
			}
		}
		/* Two swapped pattern bytes: each is a valid byte somewhere. */
		if (len > 60) {
			uint8_t t;

			ntad_pkt_build(buf, len, &p, 78);
			t = buf[59], buf[59] = buf[60], buf[60] = t;
			if (buf[59] != buf[60])
				CHECK(ntad_pkt_verify(buf, len, NULL) == NTAD_PKT_ERR_CSUM, "len %zu: swap", len);
		}
		/* The payload checksum field itself. */
		ntad_pkt_build(buf, len, &p, 79);
		buf[57] ^= 0x10;
		CHECK(ntad_pkt_verify(buf, len, NULL) == NTAD_PKT_ERR_CSUM, "len %zu: csum field", len);

		/* Truncated at several points past the headers. */
		for (size_t cut = 58; cut < len; cut += len > 2000 ? 501 : 3) {
			ntad_pkt_build(buf, len, &p, 80);
			err = ntad_pkt_verify(buf, cut, NULL);
			CHECK(err == NTAD_PKT_ERR_LEN, "len %zu cut to %zu: %s", len, cut, ntad_pkt_strerror(err));
		}
		/* Cut inside the headers: short. */
		ntad_pkt_build(buf, len, &p, 80);
		CHECK(ntad_pkt_verify(buf, 50, NULL) == NTAD_PKT_ERR_SHORT, "cut in payload header");
		CHECK(ntad_pkt_verify(buf, 30, NULL) == NTAD_PKT_ERR_SHORT, "cut in IP header");
		CHECK(ntad_pkt_verify(buf, 10, NULL) == NTAD_PKT_ERR_SHORT, "cut in Ethernet header");
		CHECK(ntad_pkt_verify(buf, 0, NULL) == NTAD_PKT_ERR_SHORT, "empty");

		/* Wrong len field, either way; and a frame with trailing bytes. */
		ntad_pkt_build(buf, len, &p, 81);
		buf[53] ^= 1;
		CHECK(ntad_pkt_verify(buf, len, NULL) == NTAD_PKT_ERR_LEN, "len %zu: len field", len);
		ntad_pkt_build(buf, len, &p, 81);
		buf[50] = 0xff;
		CHECK(ntad_pkt_verify(buf, len, NULL) == NTAD_PKT_ERR_LEN, "len %zu: len field high", len);
		if (len < NTAD_PKT_MAX_LEN) {
			ntad_pkt_build(buf, len, &p, 81);
			buf[len] = 0;
			CHECK(ntad_pkt_verify(buf, len + 1, NULL) == NTAD_PKT_ERR_LEN, "len %zu: one extra", len);
		}
		/* UDP length field. */
		ntad_pkt_build(buf, len, &p, 82);
		buf[39] ^= 2;
		CHECK(ntad_pkt_verify(buf, len, NULL) == NTAD_PKT_ERR_LEN, "len %zu: UDP length", len);

		/* Bad IP header checksum; IP total length wrong (checksum fixed up). */
		ntad_pkt_build(buf, len, &p, 83);
		buf[24] ^= 0x01;
		CHECK(ntad_pkt_verify(buf, len, NULL) == NTAD_PKT_ERR_IP, "len %zu: IP csum", len);
		ntad_pkt_build(buf, len, &p, 83);
		buf[22] ^= 0x20; /* TTL: header checksum no longer matches */
		CHECK(ntad_pkt_verify(buf, len, NULL) == NTAD_PKT_ERR_IP, "len %zu: IP TTL", len);
		{
			uint16_t tot;

			ntad_pkt_build(buf, len, &p, 84);
			tot = (uint16_t)((buf[16] << 8 | buf[17]) - 4);
			buf[16] = (uint8_t)(tot >> 8), buf[17] = (uint8_t)tot;
			buf[24] = buf[25] = 0;
			tot = ref_csum(buf + 14, 20, 0);
			buf[24] = (uint8_t)(tot >> 8), buf[25] = (uint8_t)tot;
			CHECK(ntad_pkt_verify(buf, len, NULL) == NTAD_PKT_ERR_IP, "len %zu: IP total length", len);
		}
		/* A changed port or address is caught by the UDP checksum. */
		ntad_pkt_build(buf, len, &p, 85);
		buf[37] ^= 1;
		CHECK(ntad_pkt_verify(buf, len, NULL) == NTAD_PKT_ERR_CSUM, "len %zu: dport", len);
		/* The same with the UDP checksum off is accepted (0 = none). */
		buf[40] = buf[41] = 0;
		CHECK(ntad_pkt_verify(buf, len, NULL) == NTAD_PKT_OK, "len %zu: no UDP checksum", len);
	}
}

static void test_not_ours(void)
{
	struct ntad_pkt_params p = params();

	ntad_pkt_build(buf, 100, &p, 1);
	buf[12] = 0x08, buf[13] = 0x06; /* ARP */
	CHECK(ntad_pkt_verify(buf, 100, NULL) == NTAD_PKT_ERR_NOT_OURS, "ARP");
	ntad_pkt_build(buf, 100, &p, 1);
	buf[12] = 0x86, buf[13] = 0xdd; /* IPv6 (ND) */
	CHECK(ntad_pkt_verify(buf, 100, NULL) == NTAD_PKT_ERR_NOT_OURS, "IPv6");
	ntad_pkt_build(buf, 100, &p, 1);
	buf[23] = 6; /* TCP */
	CHECK(ntad_pkt_verify(buf, 100, NULL) == NTAD_PKT_ERR_NOT_OURS, "TCP");
	ntad_pkt_build(buf, 100, &p, 1);
	buf[14] = 0x46; /* IP options */
	CHECK(ntad_pkt_verify(buf, 100, NULL) == NTAD_PKT_ERR_NOT_OURS, "IHL 6");
	ntad_pkt_build(buf, 100, &p, 1);
	buf[43] ^= 0x40; /* magic */
	CHECK(ntad_pkt_verify(buf, 100, NULL) == NTAD_PKT_ERR_NOT_OURS, "magic");
	/* A short non-IPv4 frame is "not ours", not "short". */
	buf[12] = 0x88, buf[13] = 0xcc;
	CHECK(ntad_pkt_verify(buf, 20, NULL) == NTAD_PKT_ERR_NOT_OURS, "short LLDP");
}

static void test_strerror(void)
{
	const int errs[] = { NTAD_PKT_OK, NTAD_PKT_ERR_SHORT, NTAD_PKT_ERR_NOT_OURS, NTAD_PKT_ERR_LEN,
			     NTAD_PKT_ERR_CSUM, NTAD_PKT_ERR_IP };

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(ntad_pkt_strerror(errs[i]), ntad_pkt_strerror(errs[j])) != 0,
			      "strerror %d and %d alike", errs[i], errs[j]);
	CHECK(ntad_pkt_strerror(-99) != NULL, "unknown error");
}

static void test_imix(void)
{
	uint64_t n64 = 0, n576 = 0, n1500 = 0;

	for (uint64_t i = 0; i < 12000; i++) {
		uint32_t l = ntad_pkt_imix_len(i);

		if (l == 64)
			n64++;
		else if (l == 576)
			n576++;
		else if (l == 1500)
			n1500++;
		else
			CHECK(0, "imix length %u", l);
	}
	CHECK(n64 == 7000 && n576 == 4000 && n1500 == 1000, "imix %llu:%llu:%llu",
	      (unsigned long long)n64, (unsigned long long)n576, (unsigned long long)n1500);
	/* Every window of 12 holds the ratio, not only the whole run. */
	for (uint64_t s = 0; s < 24; s++) {
		unsigned c64 = 0;

		for (uint64_t i = s; i < s + 12; i++)
			c64 += ntad_pkt_imix_len(i) == 64;
		CHECK(c64 == 7, "window at %llu has %u small frames", (unsigned long long)s, c64);
	}
	/* IMIX frames build and verify. */
	{
		struct ntad_pkt_params p = params();

		for (uint64_t i = 0; i < 12; i++) {
			uint32_t l = ntad_pkt_imix_len(i);

			CHECK(ntad_pkt_build(buf, l, &p, (uint32_t)i) == l, "imix build");
			CHECK(ntad_pkt_verify(buf, l, NULL) == NTAD_PKT_OK, "imix verify");
		}
	}
}

static void test_mac(void)
{
	uint8_t m[6], keep[6] = { 1, 2, 3, 4, 5, 6 };
	const uint8_t want[6] = { 0x00, 0x1b, 0xAC, 0xff, 0x0e, 0x90 };
	const char *bad[] = {
		"", "00:1b:ac:ff:0e", "00:1b:ac:ff:0e:90:", "00:1b:ac:ff:0e:9", "00:1b:ac:ff:0e:900",
		"001b:ac:ff:0e:90", "00-1b-ac-ff-0e-90", "0g:1b:ac:ff:0e:90", " 00:1b:ac:ff:0e:90",
		"00:1b:ac:ff:0e:90 ", "0:1b:ac:ff:0e:90", "00:1b:ac:ff::0e:90", "00:1b:ac:ff:0e:90:11",
	};

	CHECK(ntad_parse_mac("00:1b:ac:ff:0e:90", m) == 0 && memcmp(m, want, 6) == 0, "lower");
	CHECK(ntad_parse_mac("00:1B:AC:FF:0E:90", m) == 0 && memcmp(m, want, 6) == 0, "upper");
	CHECK(ntad_parse_mac("ff:ff:ff:ff:ff:ff", m) == 0 && m[0] == 0xff && m[5] == 0xff, "broadcast");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(m, keep, 6);
		CHECK(ntad_parse_mac(bad[i], m) == -EINVAL, "'%s' accepted", bad[i]);
		CHECK(memcmp(m, keep, 6) == 0, "'%s' wrote the output", bad[i]);
	}
	CHECK(ntad_parse_mac(NULL, m) == -EINVAL, "NULL");
}

static void test_defaults(void)
{
	struct ntad_pkt_params p;
	const uint8_t a[4] = { 10, 77, 0, 1 }, b[4] = { 10, 77, 0, 2 };

	memset(&p, 0xee, sizeof(p));
	ntad_pkt_params_default(&p);
	CHECK(memcmp(&p.src_ip, a, 4) == 0 && memcmp(&p.dst_ip, b, 4) == 0, "default addresses");
	CHECK(p.sport == 9 && p.dport == 9, "default ports");
	CHECK(!(p.src_mac[0] & 1) && !(p.dst_mac[0] & 1), "default MACs are unicast");
	CHECK(memcmp(p.src_mac, p.dst_mac, 6) != 0, "default MACs differ");
	ntad_pkt_build(buf, 60, &p, 0);
	CHECK(ntad_pkt_verify(buf, 60, NULL) == NTAD_PKT_OK, "default frame");
}

/*
 * Templates stamped with sequence number after sequence number: every frame
 * verifies, carries its number and valid checksums (UDP's through its 0xffff
 * case: 70,000 consecutive numbers take the low word through every value),
 * and a stamp refuses a frame that is not a template, leaving it alone.
 */
static void test_stamp(void)
{
	static const size_t lens[] = { NTAD_PKT_MIN_LEN, 64, 65, 576, 1500, 4000, NTAD_PKT_MAX_LEN };
	static uint8_t copy[NTAD_PKT_MAX_LEN];
	struct ntad_pkt_params p = params();

	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		size_t len = lens[k];
		uint32_t n = len == 64 ? 70000 : 3000;

		memset(buf, 0xa5, sizeof(buf));
		CHECK(ntad_pkt_template(buf, len, &p) == len, "template %zu", len);
		CHECK(buf[len] == 0xa5, "len %zu: template wrote past the frame", len);
		for (uint32_t i = 0; i < n; i++) {
			uint32_t seq = len == 64 ? i : i * 2654435761u, got = 0, sum;
			int err;

			CHECK(ntad_pkt_stamp(buf, seq) == 0, "len %zu: stamp %u", len, seq);
			err = ntad_pkt_verify(buf, len, &got);
			if (err != NTAD_PKT_OK || got != seq) {
				CHECK(0, "len %zu seq %u: verify %s, seq %u", len, seq, ntad_pkt_strerror(err), got);
				break;
			}
			sum = (uint32_t)(buf[26] << 8 | buf[27]) + (uint32_t)(buf[28] << 8 | buf[29]) +
			      (uint32_t)(buf[30] << 8 | buf[31]) + (uint32_t)(buf[32] << 8 | buf[33]) + 17 +
			      (uint32_t)(len - 34);
			if (ref_csum(buf + 14, 20, 0) || ref_csum(buf + 34, len - 34, sum) || !(buf[40] | buf[41]) ||
			    (buf[18] << 8 | buf[19]) != (uint16_t)seq) {
				CHECK(0, "len %zu seq %u: IP or UDP checksum, or IP id, wrong after the stamp", len, seq);
				break;
			}
		}
		CHECK(buf[42] == 'N' && buf[43] == 'T' && buf[44] == 'A' && buf[45] == 'S', "len %zu: magic", len);
	}
	CHECK(ntad_pkt_stamp(NULL, 1) == -EINVAL, "stamp of NULL");
	CHECK(ntad_pkt_build(buf, 100, &p, 7) == 100, "build");
	memcpy(copy, buf, 100);
	CHECK(ntad_pkt_stamp(buf, 8) == -EINVAL && !memcmp(copy, buf, 100), "stamp of a built frame");
}

int main(void)
{
	test_round_trip();
	test_stamp();
	test_pattern_depends_on_seq();
	test_corruption();
	test_not_ours();
	test_strerror();
	test_imix();
	test_mac();
	test_defaults();
	return check_done("test_pkt");
}
