/* SPDX-License-Identifier: MIT */
/*
 * pcap.h - capture files (libpcap's dumper writes the header): classic pcap,
 * nanosecond timestamps, link type Ethernet, a snap length. Two ways to write:
 *
 *  - replace (the flight recorder's dump): records go to PATH.tmp, renamed to
 *    PATH at close only when every byte was written, so a reader never sees a
 *    half-written capture and a failed dump leaves the previous one alone;
 *  - continuous (-w): PATH is written as packets come, rotated as tcpdump's -C
 *    and -W do (PATH, PATH1, PATH2, ... or a ring PATH0..PATH{W-1}).
 *
 * A record counts as written once it is committed (handed to the kernel
 * without error); a failed commit cuts the file back to the last committed
 * record, so the caller keeps the packets that were not and tries again.
 * Records are written from the caller's bytes, without a copy: what was
 * added must stay as it is until the next commit (or close).
 */
#ifndef NTAD_PCAP_H
#define NTAD_PCAP_H

#include <stdbool.h>
#include <stdint.h>

struct ntad_pcap_opts {
	const char *path;
	uint32_t snaplen;      /* bytes of a frame written at most */
	bool replace;          /* PATH.tmp renamed to PATH at close */
	uint64_t file_bytes;   /* continuous: next file once one is larger (-C); 0: one file */
	uint32_t files;        /* with file_bytes: a ring of this many files (-W); 0: no limit */
};

struct ntad_pcap;

/* Create the (first) file and commit its header. NULL and errno on failure. */
struct ntad_pcap *ntad_pcap_open(const struct ntad_pcap_opts *o);

/* One record: ts_ns since the epoch, len bytes of data (cut at the snap
 * length), written from data later; opens the next file first when this one
 * is full (which commits). 0 or -errno. */
int ntad_pcap_add(struct ntad_pcap *pc, uint64_t ts_ns, const void *data, uint32_t len);

/* Flush what was added. 0, or -errno with the file cut back to the last commit. */
int ntad_pcap_commit(struct ntad_pcap *pc);

/* Records committed since open, over every file. */
uint64_t ntad_pcap_committed(const struct ntad_pcap *pc);

/* Commit and close (replace: rename PATH.tmp to PATH). 0 or -errno; on error
 * PATH.tmp is removed and an existing PATH left as it was. Frees pc either way. */
int ntad_pcap_close(struct ntad_pcap *pc);

/* Give up: close, and remove PATH.tmp when replacing (a continuous file
 * when it holds no committed record). Accepts NULL. */
void ntad_pcap_abort(struct ntad_pcap *pc);

#endif /* NTAD_PCAP_H */
