// SPDX-License-Identifier: MIT
/*
 * pcap.c - the capture file writer (see pcap.h for the format).
 *
 * Why classic pcap and not pcapng: every tool reads it (tcpdump, tshark,
 * scapy, Wireshark) and a record is a 16-byte header and the bytes, so a dump
 * of the capture buffer is one pass over it with no per-file state beyond a
 * stdio stream. Nanosecond timestamps because the delay line and the buffer
 * stamp packets in nanoseconds; readers that predate them still know the magic.
 * Fields are written little-endian explicitly, so the file is the same on any
 * host. Writing to PATH.tmp and renaming keeps a reader (or a second dump on
 * the next SIGUSR1) from ever seeing a partial file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcap.h"

struct ntad_pcap {
	FILE *f;
	char *path, *tmp;
	int err;                 /* first write error, -errno */
};

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static int write_all(struct ntad_pcap *pc, const void *buf, size_t len)
{
	if (pc->err)
		return pc->err;
	if (fwrite(buf, 1, len, pc->f) != len)
		pc->err = errno ? -errno : -EIO;
	return pc->err;
}

static void pcap_free(struct ntad_pcap *pc)
{
	free(pc->path);
	free(pc->tmp);
	free(pc);
}

struct ntad_pcap *ntad_pcap_open(const char *path)
{
	struct ntad_pcap *pc = calloc(1, sizeof(*pc));
	uint8_t h[24];
	int err;

	if (!pc)
		return NULL;
	pc->path = strdup(path);
	if (!pc->path || asprintf(&pc->tmp, "%s.tmp", path) < 0) {
		pc->tmp = NULL;
		err = ENOMEM;
		goto err_free;
	}
	pc->f = fopen(pc->tmp, "we");
	if (!pc->f) {
		err = errno;
		goto err_free;
	}
	put_le32(h, NTAD_PCAP_MAGIC_NS);
	put_le16(h + 4, 2);              /* version 2.4 */
	put_le16(h + 6, 4);
	put_le32(h + 8, 0);              /* thiszone: timestamps are UTC */
	put_le32(h + 12, 0);             /* sigfigs */
	put_le32(h + 16, NTAD_PCAP_SNAPLEN);
	put_le32(h + 20, NTAD_PCAP_LINKTYPE_ETHERNET);
	if (write_all(pc, h, sizeof(h))) {
		err = -pc->err;
		ntad_pcap_abort(pc);
		errno = err;
		return NULL;
	}
	return pc;

err_free:
	pcap_free(pc);
	errno = err;
	return NULL;
}

int ntad_pcap_add(struct ntad_pcap *pc, uint64_t ts_ns, const void *data, uint32_t len)
{
	uint32_t caplen = len < NTAD_PCAP_SNAPLEN ? len : NTAD_PCAP_SNAPLEN;
	uint8_t h[16];

	put_le32(h, (uint32_t)(ts_ns / 1000000000u));
	put_le32(h + 4, (uint32_t)(ts_ns % 1000000000u));
	put_le32(h + 8, caplen);
	put_le32(h + 12, len);
	if (write_all(pc, h, sizeof(h)))
		return pc->err;
	return write_all(pc, data, caplen);
}

int ntad_pcap_close(struct ntad_pcap *pc)
{
	int err = pc->err;

	if (!err && fflush(pc->f))
		err = -errno;
	if (fclose(pc->f) && !err)
		err = -errno;
	if (!err && rename(pc->tmp, pc->path))
		err = -errno;
	if (err)
		unlink(pc->tmp);
	pcap_free(pc);
	return err;
}

void ntad_pcap_abort(struct ntad_pcap *pc)
{
	if (!pc)
		return;
	fclose(pc->f);
	unlink(pc->tmp);
	pcap_free(pc);
}
