// SPDX-License-Identifier: MIT
/*
 * test_pcap.c - the capture file writer: header and records byte for byte as
 * the format defines them, PATH appearing only at close (PATH.tmp before),
 * an existing PATH kept when a write fails, and, when tcpdump is installed,
 * tcpdump reading the file back with the same packets and lengths.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "pcap.h"
#include "ntad_pkt.h"
#include "check.h"

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

#define NPKT 12
static const uint32_t sizes[] = { 60, 64, 576, 1500, 1514, 9014 };

int main(void)
{
	char dir[] = "/tmp/test_pcap.XXXXXX", path[256], tmp[300], cmd[512];
	static uint8_t frames[NPKT][NTAD_PKT_MAX_LEN];
	struct ntad_pkt_params pp;
	struct ntad_pcap *pc;
	uint8_t *buf;
	size_t len, off;
	const uint64_t t0 = 1700000000123456789ull;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/cap.pcap", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ntad_pkt_params_default(&pp);

	pc = ntad_pcap_open(path);
	CHECK(pc, "open: %s", strerror(errno));
	if (!pc)
		return 1;
	CHECK(exists(tmp) && !exists(path), "records must go to PATH.tmp until close");
	for (unsigned int i = 0; i < NPKT; i++) {
		uint32_t l = sizes[i % 6];

		ntad_pkt_build(frames[i], l, &pp, i);
		CHECK(!ntad_pcap_add(pc, t0 + i * 1000001ull, frames[i], l), "add %u", i);
	}
	CHECK(!ntad_pcap_close(pc), "close");
	CHECK(exists(path) && !exists(tmp), "PATH after close, no PATH.tmp");

	buf = slurp(path, &len);
	CHECK(buf && len >= 24, "read back");
	if (!buf)
		return 1;
	CHECK(le32(buf) == 0xa1b23c4d, "magic %08x", le32(buf));
	CHECK(buf[4] == 2 && buf[5] == 0 && buf[6] == 4 && buf[7] == 0, "version 2.4");
	CHECK(le32(buf + 16) == 65535 && le32(buf + 20) == 1, "snaplen %u linktype %u",
	      le32(buf + 16), le32(buf + 20));
	off = 24;
	for (unsigned int i = 0; i < NPKT && off + 16 <= len; i++) {
		uint64_t ts = t0 + i * 1000001ull;
		uint32_t l = sizes[i % 6];

		CHECK(le32(buf + off) == ts / 1000000000 && le32(buf + off + 4) == ts % 1000000000,
		      "record %u time", i);
		CHECK(le32(buf + off + 8) == l && le32(buf + off + 12) == l, "record %u lengths", i);
		CHECK(off + 16 + l <= len && !memcmp(buf + off + 16, frames[i], l), "record %u bytes", i);
		off += 16 + l;
	}
	CHECK(off == len, "file is %zu bytes, records end at %zu", len, off);
	free(buf);

	/* A real reader agrees (tcpdump runs as any user with -r). */
	snprintf(cmd, sizeof(cmd), "tcpdump -nn -r %s 2>/dev/null | grep -c 'UDP, length'", path);
	if (!system("command -v tcpdump >/dev/null 2>&1")) {
		FILE *p = popen(cmd, "r");
		int n = -1;

		CHECK(p && fscanf(p, "%d", &n) == 1 && n == NPKT, "tcpdump saw %d UDP packets, wrote %d", n, NPKT);
		if (p)
			pclose(p);
	} else {
		printf("test_pcap: tcpdump not installed, reader check skipped\n");
	}

	/* A failed dump leaves the previous file alone: abort, and a bad directory. */
	pc = ntad_pcap_open(path);
	CHECK(pc && !ntad_pcap_add(pc, t0, frames[0], 60), "second open");
	ntad_pcap_abort(pc);
	CHECK(!exists(tmp), "abort left PATH.tmp");
	buf = slurp(path, &len);
	CHECK(buf && len == off, "abort changed PATH (%zu bytes)", len);
	free(buf);
	snprintf(cmd, sizeof(cmd), "%s/no/such/dir/x.pcap", dir);
	errno = 0;
	CHECK(!ntad_pcap_open(cmd) && errno == ENOENT, "open in a missing directory: %s", strerror(errno));
	/* Cut at the snaplen: a larger record keeps orig_len. */
	pc = ntad_pcap_open(path);
	if (pc) {
		uint8_t *big = calloc(1, 70000);

		CHECK(big && !ntad_pcap_add(pc, t0, big, 70000), "big add");
		CHECK(!ntad_pcap_close(pc), "close");
		buf = slurp(path, &len);
		CHECK(buf && len == 24 + 16 + 65535 && le32(buf + 32) == 65535 && le32(buf + 36) == 70000,
		      "snaplen cut");
		free(buf);
		free(big);
	}

	unlink(path);
	rmdir(dir);
	return check_done("test_pcap");
}
