/* SPDX-License-Identifier: MIT */
/*
 * pcap.h - a classic pcap file writer for capture mode: little-endian, version
 * 2.4, nanosecond timestamps (magic 0xa1b23c4d), link type 1 (Ethernet),
 * snaplen 65535. Records go to PATH.tmp, which is renamed to PATH only when
 * every byte was written, so a reader never sees a half-written capture.
 */
#ifndef NTAD_PCAP_H
#define NTAD_PCAP_H

#include <stdint.h>

#define NTAD_PCAP_MAGIC_NS 0xa1b23c4du
#define NTAD_PCAP_SNAPLEN 65535u
#define NTAD_PCAP_LINKTYPE_ETHERNET 1u

struct ntad_pcap;

/* Create PATH.tmp and write the file header. NULL and errno on failure. */
struct ntad_pcap *ntad_pcap_open(const char *path);

/* One record: ts_ns since the epoch, len bytes of data (cut at the snaplen). 0 or -errno. */
int ntad_pcap_add(struct ntad_pcap *pc, uint64_t ts_ns, const void *data, uint32_t len);

/* Flush, close and rename PATH.tmp to PATH. 0 or -errno; on error PATH.tmp is
 * removed and an existing PATH is left as it was. Frees pc either way. */
int ntad_pcap_close(struct ntad_pcap *pc);

/* Give up: close and remove PATH.tmp. Accepts NULL. */
void ntad_pcap_abort(struct ntad_pcap *pc);

#endif /* NTAD_PCAP_H */
