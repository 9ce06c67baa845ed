// SPDX-License-Identifier: MIT
/*
 * pcap.c - capture files: libpcap's dumper for the file, pwritev() for the
 * records (see pcap.h).
 *
 * Why libpcap's dumper: it writes the file header every reader (tcpdump,
 * tshark, Wireshark, scapy) is tested against, and with a "dead" handle
 * opened at nanosecond precision it writes the nanosecond magic. Classic
 * pcap, not pcapng: a record is a 16-byte header and the bytes, so a dump is
 * one pass over the held packets.
 *
 * Why not pcap_dump() for the records: it copies every record into stdio's
 * buffer and ntad_pcap_add had to ask ferror() after each; at 1 Mpps of IMIX
 * that was a third of what `-w` cost a packet (callgrind: 494 of 1,426
 * instructions). Records are gathered as iovecs pointing at the packets
 * themselves (the caller keeps them until the commit) and written with one
 * pwritev() per RECS records, at the file offset kept here, so the only copy
 * is the kernel's into the file.
 *
 * Errors: the offset of the last good commit is kept; a failed write or
 * commit cuts the file back there (reopening it when that fails), so a file
 * never holds a torn record and the records after the commit can be added
 * again. Rotation commits before it closes a file, so what a closed file
 * holds is written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "pcap.h"

#define RECS 512 /* records one pwritev() writes: two iovecs each, IOV_MAX is 1024 */

/* A record's header in the file: as libpcap writes it, in host byte order. */
struct rec_hdr {
	uint32_t sec, frac, caplen, len; /* frac: nanoseconds (the file's magic says so) */
};

struct ntad_pcap {
	struct ntad_pcap_opts o;
	pcap_t *dead;            /* link type, snap length and precision for the dumper */
	pcap_dumper_t *d;        /* NULL after a failed reopen: the next add retries */
	int fd;                  /* d's */
	char *path, *tmp, *name; /* name: the file written now */
	unsigned int width;      /* -W: digits of the file number */
	uint32_t idx;            /* the file's number */
	int64_t good_off;        /* end of the last commit in this file; 0: not created */
	int64_t off;             /* end of what was written to it, >= good_off */
	int werr;                /* errno of a write since the last commit */
	uint64_t added, committed;
	unsigned int n;          /* records gathered, not yet written */
	uint64_t n_bytes;        /* their bytes in the file */
	struct rec_hdr hdr[RECS];
	struct iovec iov[2 * RECS];
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
		if (!pc->d)
			return err_or_eio();
		pc->fd = fileno(pcap_dump_file(pc->d));
		pc->off = pc->good_off;
		return 0;
	}
	f = fopen(pc->name, "we");
	if (!f)
		return err_or_eio();
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
	pc->fd = fileno(f);
	pc->good_off = pc->off = pcap_dump_ftell64(pc->d);
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
	pc->n = 0;
	pc->n_bytes = 0;
	(void)file_open(pc);
}

/* The gathered records to the file at pc->off; a failure is kept in werr for the commit. */
static void write_out(struct ntad_pcap *pc)
{
	struct iovec *iov = pc->iov;
	unsigned int cnt = 2 * pc->n;
	uint64_t left = pc->n_bytes;

	pc->n = 0;
	pc->n_bytes = 0;
	while (left && !pc->werr) {
		ssize_t r = pwritev(pc->fd, iov, (int)cnt, pc->off);

		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			pc->werr = r < 0 ? errno : EIO;
			break;
		}
		pc->off += r;
		left -= (uint64_t)r;
		/* A short write: go on from the first byte not written. */
		for (size_t done = (size_t)r; done;) {
			size_t step = done < iov->iov_len ? done : iov->iov_len;

			iov->iov_base = (uint8_t *)iov->iov_base + step;
			iov->iov_len -= step;
			done -= step;
			if (!iov->iov_len) {
				iov++;
				cnt--;
			}
		}
	}
}

int ntad_pcap_commit(struct ntad_pcap *pc)
{
	int err;

	if (!pc->d && (err = file_open(pc)))
		return err;
	write_out(pc);
	if (pc->werr) {
		err = -pc->werr;
		rollback(pc);
		return err;
	}
	pc->good_off = pc->off;
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
	uint32_t caplen = len < pc->o.snaplen ? len : pc->o.snaplen;
	struct rec_hdr *h;
	int err;

	if (pc->d && pc->o.file_bytes && pc->off + (int64_t)pc->n_bytes > (int64_t)pc->o.file_bytes &&
	    (err = rotate(pc)))
		return err;
	if (!pc->d && (err = file_open(pc)))
		return err;
	if (pc->n == RECS)
		write_out(pc);
	h = &pc->hdr[pc->n];
	*h = (struct rec_hdr){ .sec = (uint32_t)(ts_ns / 1000000000u), .frac = (uint32_t)(ts_ns % 1000000000u),
			       .caplen = caplen, .len = len };
	pc->iov[2 * pc->n] = (struct iovec){ .iov_base = h, .iov_len = sizeof(*h) };
	pc->iov[2 * pc->n + 1] = (struct iovec){ .iov_base = (void *)(uintptr_t)data, .iov_len = caplen };
	pc->n++;
	pc->n_bytes += sizeof(*h) + caplen;
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
