// SPDX-License-Identifier: MIT
/*
 * test_pcap.c - the capture file writer: header and records byte for byte as
 * the format defines them, PATH appearing only at close (PATH.tmp before),
 * an existing PATH kept when a write fails, and, when tcpdump is installed,
 * tcpdump reading the file back with the same packets and lengths. Continuous
 * files: tcpdump's -C/-W names, and a commit that fails (RLIMIT_FSIZE) cuts
 * the file back to the last commit, after which writing goes on; records
 * written from the caller's bytes in several gathers of one commit, also
 * when a gather in the middle fails.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/resource.h>
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

/* Records in a pcap file (24-byte header, then 16-byte record headers); -1 if torn. */
static long records(const char *path)
{
	size_t len, off = 24;
	uint8_t *buf = slurp(path, &len);
	long n = 0;

	if (!buf || len < 24)
		n = -1;
	while (n >= 0 && off < len) {
		if (off + 16 > len || off + 16 + le32(buf + off + 8) > len) {
			n = -1;
		} else {
			off += 16 + le32(buf + off + 8);
			n++;
		}
	}
	free(buf);
	return n;
}

/* n 1500-byte records, one a second, into a file opened with po. */
static void write_frames(const struct ntad_pcap_opts *po, const uint8_t *frame, unsigned int n,
			 const char *what)
{
	struct ntad_pcap *pc = ntad_pcap_open(po);

	CHECK(pc, "open %s: %s", what, strerror(errno));
	for (unsigned int i = 0; pc && i < n; i++)
		CHECK(!ntad_pcap_add(pc, 1000000000ull * i, frame, 1500), "add %s %u", what, i);
	CHECK(pc && !ntad_pcap_close(pc), "close %s", what);
}

/* -C 3000 bytes: 1500-byte frames, a new file once one is larger (checked before each record). */
static void rotation(const char *dir, const uint8_t *frame)
{
	struct ntad_pcap_opts po = { .snaplen = 262144, .file_bytes = 3000 };
	char path[256], name[300];
	struct ntad_pcap *pc;

	snprintf(path, sizeof(path), "%s/rot.pcap", dir);
	po.path = path;
	/* 24 + 2 x 1516 > 3000 after two records: 5 files of 2 and one of 1 for 11. */
	write_frames(&po, frame, 11, "-C");
	CHECK(records(path) == 2, "-C: %s holds %ld records", path, records(path));
	unlink(path);
	for (unsigned int i = 1; i < 6; i++) {
		snprintf(name, sizeof(name), "%s%u", path, i);
		CHECK(records(name) == (i < 5 ? 2 : 1), "-C: %s holds %ld records", name, records(name));
		unlink(name);
	}
	/* -W 3: PATH0, PATH1, PATH2, PATH0 again...; 11 records end in PATH2 (files 0 1 2 0 1 2). */
	po.files = 3;
	write_frames(&po, frame, 11, "-W");
	CHECK(access(path, F_OK), "-W: %s must not exist", path);
	for (unsigned int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "%s%u", path, i);
		CHECK(records(name) == (i < 2 ? 2 : 1), "-W: %s holds %ld records", name, records(name));
		unlink(name);
	}
	/* -W 11: two digits, as tcpdump pads. */
	po.files = 11;
	pc = ntad_pcap_open(&po);
	CHECK(pc && !ntad_pcap_close(pc), "open -W 11");
	snprintf(name, sizeof(name), "%s00", path);
	CHECK(records(name) == 0, "-W 11: %s", name);
	unlink(name);
}

/* A commit that fails (file size limit) leaves the committed records, and writing goes on. */
static void rollback(const char *dir, const uint8_t *frame)
{
	struct ntad_pcap_opts po = { .snaplen = 262144 };
	struct rlimit old, lim;
	char path[256];
	struct ntad_pcap *pc;
	int err = 0;

	snprintf(path, sizeof(path), "%s/fail.pcap", dir);
	po.path = path;
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	pc = ntad_pcap_open(&po);
	CHECK(pc, "open: %s", strerror(errno));
	if (!pc)
		return;
	lim = old;
	lim.rlim_cur = 10000; /* 24 + 6 x 1516 = 9120: the 7th commit fails */
	setrlimit(RLIMIT_FSIZE, &lim);
	for (unsigned int i = 0; i < 10 && !err; i++) {
		CHECK(!ntad_pcap_add(pc, 1000000000ull * i, frame, 1500), "add %u", i);
		err = ntad_pcap_commit(pc);
	}
	CHECK(err == -EFBIG, "commit over the limit: %s", strerror(-err));
	CHECK(ntad_pcap_committed(pc) == 6, "committed %llu", (unsigned long long)ntad_pcap_committed(pc));
	CHECK(records(path) == 6, "cut back to 6 records: %ld", records(path));
	setrlimit(RLIMIT_FSIZE, &old);
	for (unsigned int i = 0; i < 4; i++)
		CHECK(!ntad_pcap_add(pc, 1000000000ull * i, frame, 1500), "add again %u", i);
	CHECK(!ntad_pcap_close(pc), "close");
	CHECK(records(path) == 10, "10 records after the retry: %ld", records(path));
	unlink(path);
}

/* Record i of many(): its length, and its bytes all (i & 0xff). */
#define MANY 1300 /* more than two of the writer's gathers */
static uint32_t many_len(unsigned int i)
{
	return 60 + (i * 37) % 1455;
}

/* Records 0..n of many() in path, byte for byte: how many are there and right (-1: torn or wrong). */
static long many_check(const char *path, unsigned int n)
{
	size_t len, off = 24;
	uint8_t *buf = slurp(path, &len);
	long ok = 0;

	for (unsigned int i = 0; buf && i < n && off < len; i++, ok++) {
		uint32_t l = many_len(i);

		if (off + 16 + l > len || le32(buf + off) != i || le32(buf + off + 8) != l ||
		    le32(buf + off + 12) != l)
			break;
		for (uint32_t k = 0; k < l; k++)
			if (buf[off + 16 + k] != (i & 0xff))
				goto out;
		off += 16 + l;
	}
out:
	if (!buf || off != len)
		ok = -1;
	free(buf);
	return ok;
}

/* MANY records in one commit (several pwritev gathers), then a commit whose later gather fails. */
static void many(const char *dir)
{
	struct ntad_pcap_opts po = { .snaplen = 262144 };
	static uint8_t data[MANY][1536];
	struct rlimit old, lim;
	char path[256];
	struct ntad_pcap *pc;
	uint64_t first_size = 24, limit;
	int err;

	snprintf(path, sizeof(path), "%s/many.pcap", dir);
	po.path = path;
	for (unsigned int i = 0; i < MANY; i++) {
		memset(data[i], (int)(i & 0xff), many_len(i));
		if (i < MANY / 2)
			first_size += 16 + many_len(i);
	}
	/* The second half's first gather (512 records) fits, the next is cut short. */
	limit = first_size;
	for (unsigned int i = MANY / 2; i < MANY / 2 + 520; i++)
		limit += 16 + many_len(i);
	pc = ntad_pcap_open(&po);
	CHECK(pc, "open: %s", strerror(errno));
	if (!pc)
		return;
	for (unsigned int i = 0; i < MANY / 2; i++)
		CHECK(!ntad_pcap_add(pc, 1000000000ull * i, data[i], many_len(i)), "add %u", i);
	CHECK(!ntad_pcap_commit(pc), "commit of %u records", MANY / 2);
	CHECK(many_check(path, MANY / 2) == MANY / 2, "%u records read back: %ld", MANY / 2,
	      many_check(path, MANY / 2));
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = limit;
	setrlimit(RLIMIT_FSIZE, &lim);
	for (unsigned int i = MANY / 2; i < MANY; i++)
		CHECK(!ntad_pcap_add(pc, 1000000000ull * i, data[i], many_len(i)), "add %u", i);
	err = ntad_pcap_commit(pc);
	CHECK(err == -EFBIG, "commit over the limit: %s", strerror(-err));
	CHECK(many_check(path, MANY / 2) == MANY / 2, "cut back to %u records: %ld", MANY / 2,
	      many_check(path, MANY / 2));
	setrlimit(RLIMIT_FSIZE, &old);
	for (unsigned int i = MANY / 2; i < MANY; i++)
		CHECK(!ntad_pcap_add(pc, 1000000000ull * i, data[i], many_len(i)), "add again %u", i);
	CHECK(!ntad_pcap_close(pc), "close");
	CHECK(many_check(path, MANY) == MANY, "%u records after the retry: %ld", MANY, many_check(path, MANY));
	unlink(path);
}

#define NPKT 12
static const uint32_t sizes[] = { 60, 64, 576, 1500, 1514, 9014 };

int main(void)
{
	char dir[] = "/tmp/test_pcap.XXXXXX", path[256], tmp[300], cmd[512];
	static uint8_t frames[NPKT][NTAD_PKT_MAX_LEN];
	struct ntad_pkt_params pp;
	struct ntad_pcap_opts po = { .snaplen = 65535, .replace = true };
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

	po.path = path;
	pc = ntad_pcap_open(&po);
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
	pc = ntad_pcap_open(&po);
	CHECK(pc && !ntad_pcap_add(pc, t0, frames[0], 60), "second open");
	ntad_pcap_abort(pc);
	CHECK(!exists(tmp), "abort left PATH.tmp");
	buf = slurp(path, &len);
	CHECK(buf && len == off, "abort changed PATH (%zu bytes)", len);
	free(buf);
	snprintf(cmd, sizeof(cmd), "%s/no/such/dir/x.pcap", dir);
	errno = 0;
	po.path = cmd;
	CHECK(!ntad_pcap_open(&po) && errno == ENOENT, "open in a missing directory: %s", strerror(errno));
	po.path = dir;
	errno = 0;
	CHECK(!ntad_pcap_open(&po) && errno == EISDIR, "a directory at PATH: %s", strerror(errno));
	/* Cut at the snaplen: a larger record keeps orig_len. */
	po.path = path;
	pc = ntad_pcap_open(&po);
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
	rotation(dir, frames[3]);
	rollback(dir, frames[3]);
	many(dir);
	rmdir(dir);
	return check_done("test_pcap");
}
