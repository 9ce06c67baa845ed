// SPDX-License-Identifier: MIT
/*
 * pcap.c - capture files through libpcap's dumper (see pcap.h).
 *
 * Why libpcap's dumper: it is the writer every reader (tcpdump, tshark,
 * Wireshark, scapy) is tested against, and with a "dead" handle opened at
 * nanosecond precision it writes the nanosecond magic and takes tv_usec as
 * nanoseconds, which is how the capture buffer stamps packets. Classic pcap,
 * not pcapng: a record is a 16-byte header and the bytes, so a dump is one
 * pass over the held packets.
 *
 * pcap_dump() reports nothing, so errors are found on the stream (an error
 * while stdio writes its buffer out mid-batch) and at the commit (the flush): the file offset of the last good commit is kept, and a failed
 * commit closes the file, truncates it there and reopens it for appending, so
 * a file never holds a torn record and the records after the commit can be
 * written again. Rotation commits before it closes a file, so what a closed
 * file holds is written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pcap/pcap.h>
#include <sys/stat.h>

#include "pcap.h"

/* Fewer, larger writes: a batch of 64 full frames is about 100 KB. */
#define STDIO_BUFFER (256u << 10)

struct ntad_pcap {
	struct ntad_pcap_opts o;
	pcap_t *dead;            /* link type, snap length and precision for the dumper */
	pcap_dumper_t *d;        /* NULL after a failed reopen: the next add retries */
	char *path, *tmp, *name; /* name: the file written now */
	unsigned int width;      /* -W: digits of the file number */
	uint32_t idx;            /* the file's number */
	int64_t good_off;        /* end of the last commit in this file; 0: not created */
	int werr;                /* errno of a write since the last commit (stdio may drop the buffer) */
	uint64_t added, committed;
};

static int err_or_eio(void)
{
	return errno ? -errno : -EIO;
}

/* tcpdump's names: -W pads the number to the digits of W - 1, -C alone leaves file 0 as PATH. */
static int file_name(struct ntad_pcap *pc)
{
	char *s;
	int n;

	if (pc->o.replace)
		n = asprintf(&s, "%s", pc->tmp);
	else if (!pc->o.file_bytes || (pc->o.files ? !pc->width : !pc->idx))
		n = asprintf(&s, "%s", pc->path);
	else if (pc->o.files)
		n = asprintf(&s, "%s%0*u", pc->path, (int)pc->width, pc->idx);
	else
		n = asprintf(&s, "%s%u", pc->path, pc->idx);
	if (n < 0)
		return -ENOMEM;
	free(pc->name);
	pc->name = s;
	return 0;
}

/* Open pc->name: a new file (header committed), or, after a failed commit, the old one cut back. */
static int file_open(struct ntad_pcap *pc)
{
	FILE *f;

	errno = 0;
	if (pc->good_off) {
		if (truncate(pc->name, pc->good_off))
			return err_or_eio();
		pc->d = pcap_dump_open_append(pc->dead, pc->name);
		return pc->d ? 0 : err_or_eio();
	}
	f = fopen(pc->name, "we");
	if (!f)
		return err_or_eio();
	(void)setvbuf(f, NULL, _IOFBF, STDIO_BUFFER);
	pc->d = pcap_dump_fopen(pc->dead, f);
	if (!pc->d) {
		fclose(f);
		unlink(pc->name);
		return err_or_eio();
	}
	if (pcap_dump_flush(pc->d)) {
		int err = err_or_eio();

		pcap_dump_close(pc->d);
		pc->d = NULL;
		unlink(pc->name);
		return err;
	}
	pc->good_off = pcap_dump_ftell64(pc->d);
	return 0;
}

static void pcap_free(struct ntad_pcap *pc)
{
	if (pc->dead)
		pcap_close(pc->dead);
	free(pc->path);
	free(pc->tmp);
	free(pc->name);
	free(pc);
}

struct ntad_pcap *ntad_pcap_open(const struct ntad_pcap_opts *o)
{
	struct ntad_pcap *pc = calloc(1, sizeof(*pc));
	struct stat st;
	int err;

	if (!pc)
		return NULL;
	pc->o = *o;
	for (uint32_t x = o->files ? o->files - 1 : 0; x; x /= 10)
		pc->width++;
	err = -ENOMEM;
	pc->path = strdup(o->path);
	if (!pc->path || (o->replace && asprintf(&pc->tmp, "%s.tmp", o->path) < 0))
		goto err_free;
	pc->o.path = pc->path;
	pc->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, (int)o->snaplen,
							PCAP_TSTAMP_PRECISION_NANO);
	if (!pc->dead)
		goto err_free;
	/* The rename at close would fail on a directory: say so now. */
	err = -EISDIR;
	if (o->replace && !stat(o->path, &st) && S_ISDIR(st.st_mode))
		goto err_free;
	if ((err = file_name(pc)) || (err = file_open(pc)))
		goto err_free;
	return pc;

err_free:
	pcap_free(pc);
	errno = -err;
	return NULL;
}

/* The last commit failed: cut the file back to it; the records after it are to be added again. */
static void rollback(struct ntad_pcap *pc)
{
	pcap_dump_close(pc->d);
	pc->d = NULL;
	pc->added = pc->committed;
	pc->werr = 0;
	(void)file_open(pc);
}

int ntad_pcap_commit(struct ntad_pcap *pc)
{
	int err;

	if (!pc->d && (err = file_open(pc)))
		return err;
	errno = 0;
	if (pcap_dump_flush(pc->d) || pc->werr) {
		err = pc->werr ? -pc->werr : err_or_eio();
		rollback(pc);
		return err;
	}
	pc->good_off = pcap_dump_ftell64(pc->d);
	pc->committed = pc->added;
	return 0;
}

/* -C: this file is larger than the limit (tcpdump checks before each record). */
static int rotate(struct ntad_pcap *pc)
{
	int err = ntad_pcap_commit(pc);

	if (err)
		return err;
	pcap_dump_close(pc->d);
	pc->d = NULL;
	pc->idx = pc->o.files ? (pc->idx + 1) % pc->o.files : pc->idx + 1;
	pc->good_off = 0;
	return file_name(pc);
}

int ntad_pcap_add(struct ntad_pcap *pc, uint64_t ts_ns, const void *data, uint32_t len)
{
	struct pcap_pkthdr h = {
		.ts = { .tv_sec = (time_t)(ts_ns / 1000000000u), .tv_usec = (suseconds_t)(ts_ns % 1000000000u) },
		.caplen = len < pc->o.snaplen ? len : pc->o.snaplen,
		.len = len,
	};
	int err;

	if (pc->d && pc->o.file_bytes && pcap_dump_ftell64(pc->d) > (int64_t)pc->o.file_bytes &&
	    (err = rotate(pc)))
		return err;
	if (!pc->d && (err = file_open(pc)))
		return err;
	errno = 0;
	pcap_dump((u_char *)pc->d, &h, data);
	if (!pc->werr && ferror(pcap_dump_file(pc->d)))
		pc->werr = errno ? errno : EIO;
	pc->added++;
	return 0;
}

uint64_t ntad_pcap_committed(const struct ntad_pcap *pc)
{
	return pc->committed;
}

int ntad_pcap_close(struct ntad_pcap *pc)
{
	int err = ntad_pcap_commit(pc);

	if (pc->d)
		pcap_dump_close(pc->d);
	pc->d = NULL;
	if (!err && pc->o.replace && rename(pc->tmp, pc->path))
		err = -errno;
	if (err && pc->o.replace)
		unlink(pc->tmp);
	pcap_free(pc);
	return err;
}

void ntad_pcap_abort(struct ntad_pcap *pc)
{
	if (!pc)
		return;
	if (pc->d)
		pcap_dump_close(pc->d);
	/* A continuous file keeps what was committed; one without a record goes. */
	if (pc->o.replace || !pc->committed)
		unlink(pc->name);
	pcap_free(pc);
}
