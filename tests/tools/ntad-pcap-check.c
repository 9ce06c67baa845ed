// SPDX-License-Identifier: MIT
/*
 * ntad-pcap-check.c - check a pcap file written by ntad's capture mode
 * against the frames ntad-peer sent, byte for byte.
 *
 *   ntad-pcap-check FILE -n COUNT [--sizes A,B,.. | --size N] [--start-seq S]
 *                   [--src-mac M] [--dst-mac M] [--src-ip A] [--dst-ip A]
 *                   [--sport P] [--dport P]
 *
 * The expected frames are what `ntad-peer send` builds with the same options
 * (its defaults: 10.77.0.2 -> 10.77.0.1, ports 9, broadcast destination):
 * frame i (0..COUNT-1) has sequence number S + i and length sizes[i % n]. The
 * file must hold exactly those COUNT records, in that order: the global header
 * of classic pcap (ns or us magic, version 2.4, link type 1), each record's
 * captured and original lengths equal to the frame's, its bytes identical to
 * the rebuilt frame, timestamps never going back. Output: one line per problem
 * (at most 10), then "records=R matched=M mismatched=X"; exit 0 iff all match.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntad_pkt.h"

#define MAX_SIZES 64
#define MAX_REPORTS 10

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ntad-pcap-check FILE -n COUNT [--sizes A,B,.. | --size N] [--start-seq S]\n"
		   "                       [--src-mac M] [--dst-mac M] [--src-ip A] [--dst-ip A]\n"
		   "                       [--sport P] [--dport P]\n");
}

static bool parse_u64(const char *s, uint64_t *v, uint64_t max)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	*v = strtoull(s, &end, 0);
	return !*end && *v <= max;
}

static int report(unsigned int *reports, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int report(unsigned int *reports, const char *fmt, ...)
{
	va_list ap;

	if ((*reports)++ >= MAX_REPORTS)
		return 0;
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	return 0;
}

int main(int argc, char **argv)
{
	enum { O_SIZES = 256, O_SIZE, O_START, O_SMAC, O_DMAC, O_SIP, O_DIP, O_SPORT, O_DPORT };
	static const struct option longs[] = {
		{ "sizes", required_argument, NULL, O_SIZES }, { "size", required_argument, NULL, O_SIZE },
		{ "start-seq", required_argument, NULL, O_START },
		{ "src-mac", required_argument, NULL, O_SMAC }, { "dst-mac", required_argument, NULL, O_DMAC },
		{ "src-ip", required_argument, NULL, O_SIP }, { "dst-ip", required_argument, NULL, O_DIP },
		{ "sport", required_argument, NULL, O_SPORT }, { "dport", required_argument, NULL, O_DPORT },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	uint32_t sizes[MAX_SIZES] = { 64 }, nr_sizes = 1, t;
	uint64_t count = 0, start = 0, v, records = 0, matched = 0, last_ts = 0;
	bool have_count = false, ns;
	struct ntad_pkt_params pp;
	static uint8_t want[NTAD_PKT_MAX_LEN], got[65536];
	unsigned int reports = 0;
	uint8_t h[24];
	FILE *f;
	int c;

	ntad_pkt_params_default(&pp);
	t = pp.src_ip; /* ntad-peer's side: 10.77.0.2 -> 10.77.0.1 */
	pp.src_ip = pp.dst_ip;
	pp.dst_ip = t;
	memset(pp.dst_mac, 0xff, 6);
	while ((c = getopt_long(argc, argv, "n:h", longs, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!parse_u64(optarg, &count, UINT32_MAX))
				goto bad;
			have_count = true;
			break;
		case O_SIZE:
		case O_SIZES: {
			char buf[512], *save = NULL, *tok;

			snprintf(buf, sizeof(buf), "%s", optarg);
			nr_sizes = 0;
			for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (nr_sizes == MAX_SIZES || !parse_u64(tok, &v, NTAD_PKT_MAX_LEN) ||
				    v < NTAD_PKT_MIN_LEN)
					goto bad;
				sizes[nr_sizes++] = (uint32_t)v;
			}
			if (!nr_sizes)
				goto bad;
			break;
		}
		case O_START:
			if (!parse_u64(optarg, &start, UINT32_MAX))
				goto bad;
			break;
		case O_SMAC:
		case O_DMAC:
			if (ntad_parse_mac(optarg, c == O_SMAC ? pp.src_mac : pp.dst_mac))
				goto bad;
			break;
		case O_SIP:
		case O_DIP: {
			struct in_addr in;

			if (inet_pton(AF_INET, optarg, &in) != 1)
				goto bad;
			*(c == O_SIP ? &pp.src_ip : &pp.dst_ip) = in.s_addr;
			break;
		}
		case O_SPORT:
		case O_DPORT:
			if (!parse_u64(optarg, &v, 65535) || !v)
				goto bad;
			*(c == O_SPORT ? &pp.sport : &pp.dport) = (uint16_t)v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc - 1 || !have_count)
		goto bad;
	f = fopen(argv[optind], "rb");
	if (!f) {
		perror(argv[optind]);
		return 1;
	}
	if (fread(h, 1, sizeof(h), f) != sizeof(h)) {
		printf("%s: shorter than a pcap header\nrecords=0 matched=0 mismatched=%llu\n", argv[optind],
		       (unsigned long long)count);
		return 1;
	}
	ns = le32(h) == 0xa1b23c4d;
	if ((!ns && le32(h) != 0xa1b2c3d4) || h[4] != 2 || h[6] != 4 || le32(h + 20) != 1) {
		printf("%s: not a little-endian pcap 2.4 of Ethernet (magic %08x, link type %u)\n"
		       "records=0 matched=0 mismatched=%llu\n", argv[optind], le32(h), le32(h + 20),
		       (unsigned long long)count);
		return 1;
	}
	for (;;) {
		uint8_t rh[16];
		uint32_t caplen, len, wlen;
		uint64_t ts;

		if (fread(rh, 1, sizeof(rh), f) != sizeof(rh))
			break;
		caplen = le32(rh + 8);
		len = le32(rh + 12);
		ts = (uint64_t)le32(rh) * 1000000000ull + le32(rh + 4) * (ns ? 1u : 1000u);
		if (caplen > sizeof(got) || fread(got, 1, caplen, f) != caplen) {
			report(&reports, "record %llu: cut short (caplen %u)", (unsigned long long)records, caplen);
			records++;
			break;
		}
		if (ts < last_ts)
			report(&reports, "record %llu: timestamp goes back", (unsigned long long)records);
		last_ts = ts;
		if (records >= count) {
			report(&reports, "record %llu: more records than the %llu expected",
			       (unsigned long long)records, (unsigned long long)count);
			records++;
			continue;
		}
		wlen = sizes[records % nr_sizes];
		ntad_pkt_build(want, wlen, &pp, (uint32_t)(start + records));
		if (caplen != wlen || len != wlen)
			report(&reports, "record %llu (seq %llu): length %u/%u, sent %u", (unsigned long long)records,
			       (unsigned long long)(start + records), caplen, len, wlen);
		else if (memcmp(got, want, wlen)) {
			uint32_t i = 0, s = 0;

			while (got[i] == want[i])
				i++;
			(void)ntad_pkt_verify(got, caplen, &s);
			report(&reports, "record %llu (seq %llu): byte %u differs (0x%02x, sent 0x%02x; frame's seq %u)",
			       (unsigned long long)records, (unsigned long long)(start + records), i, got[i],
			       want[i], s);
		} else {
			matched++;
		}
		records++;
	}
	fclose(f);
	if (records < count)
		report(&reports, "%llu records, %llu expected", (unsigned long long)records, (unsigned long long)count);
	printf("records=%llu matched=%llu mismatched=%llu\n", (unsigned long long)records,
	       (unsigned long long)matched, (unsigned long long)(count > matched ? count - matched : 0) +
	       (records > count ? records - count : 0));
	return matched == count && records == count ? 0 : 1;
bad:
	usage(stderr);
	return 2;
}
