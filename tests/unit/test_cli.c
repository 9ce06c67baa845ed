// SPDX-License-Identifier: MIT
/*
 * test_cli.c - ntad's command line without root: every option reaches its
 * field, every bad value and every conflicting combination is refused with a
 * message that names the option, and the parser can run many times in one
 * process (it resets getopt).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sizing.h"
#include "check.h"

static struct ntad_opts o;
static char err[512];

/* Parse a NULL-terminated argument list after "ntad". */
static char store[64][64]; /* getopt wants char *, the literals are const */

static char *arg(int i, const char *s)
{
	snprintf(store[i], sizeof(store[i]), "%s", s);
	return store[i];
}

static int parse(const char *first, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;
	const char *a;

	argv[argc] = arg(argc, "ntad");
	argc++;
	va_start(ap, first);
	for (a = first; a && argc < 63; a = va_arg(ap, const char *)) {
		argv[argc] = arg(argc, a);
		argc++;
	}
	va_end(ap);
	argv[argc] = NULL;
	return ntad_parse_args(argc, argv, &o, err, sizeof(err));
}

/* Expect a refusal whose message contains every given fragment. */
#define REFUSED(frag, ...)                                                     \
	do {                                                                   \
		int r_ = parse(__VA_ARGS__, NULL);                             \
		CHECK(r_ == -EINVAL, "expected -EINVAL, got %d", r_);          \
		CHECK(strstr(err, frag), "message '%s' lacks '%s'", err, frag); \
		CHECK(strchr(err, ';'), "message '%s' gives no fix", err);     \
	} while (0)

static void test_defaults(void)
{
	CHECK(parse("-i", "eth0", NULL) == 0, "%s", err);
	CHECK(!strcmp(o.ifname, "eth0"), "%s", o.ifname);
	CHECK(o.mode == NTAD_MODE_RXDROP, "mode %d", o.mode);
	CHECK(o.pool == NTAD_POOL_NTA, "pool");
	CHECK(o.rx_size == 2048 && o.tx_size == 2048 && o.fill_size == 2048 && o.comp_size == 2048, "rings");
	CHECK(o.chunk_size == 2048, "chunk %u", o.chunk_size);
	CHECK(o.batch == 64, "batch");
	CHECK(o.need_wakeup, "need_wakeup on by default");
	CHECK(o.bind == NTAD_BIND_AUTO && o.xdp_mode == NTAD_XDP_NATIVE, "bind/xdp mode");
	CHECK(o.copy_break == 256, "copy_break %u", o.copy_break);
	CHECK(o.interval == 1 && o.duration == 0 && o.count == 0, "timing");
	CHECK(o.nr_rules == 0, "rules");
	CHECK(o.umem_size >= ntad_umem_needed(&o), "default umem fits the default rings");
}

static void test_all_options(void)
{
	int r = parse("--interface", "veth1", "--mode", "l2fwd", "-q", "3", "--pool", "fixed",
		      "--rx-size", "1024", "--tx-size", "512", "--fill-size", "4096", "--comp-size", "256",
		      "--batch", "32", "--chunk-size", "4096", "--umem-size", "64M", "--bind", "copy",
		      "--no-need-wakeup", "--busy-poll", "--xdp-mode", "skb", "--filter", "proto=udp,dport=9",
		      "--filter", "ethertype=0x86dd", "--copy-break", "128", "-d", "2.5", "-n", "1000",
		      "-I", "0.5", "--json", "-v", NULL);

	CHECK(r == 0, "%s", err);
	CHECK(!strcmp(o.ifname, "veth1") && o.mode == NTAD_MODE_L2FWD && o.queue == 3, "basic");
	CHECK(o.pool == NTAD_POOL_FIXED, "pool");
	CHECK(o.rx_size == 1024 && o.tx_size == 512 && o.fill_size == 4096 && o.comp_size == 256, "rings");
	CHECK(o.batch == 32 && o.chunk_size == 4096 && o.umem_size == 64ull << 20, "sizes");
	CHECK(o.bind == NTAD_BIND_COPY && !o.need_wakeup && o.busy_poll && o.xdp_mode == NTAD_XDP_SKB, "flags");
	CHECK(o.nr_rules == 2, "rules %u", o.nr_rules);
	CHECK(o.rules[0].ip_proto == 17 && o.rules[0].dport == 9 && o.rules[0].ethertype == 0, "rule 0");
	CHECK(o.rules[1].ethertype == 0x86dd && !o.rules[1].ip_proto && !o.rules[1].dport, "rule 1");
	CHECK(o.copy_break == 128 && o.duration == 2.5 && o.count == 1000 && o.interval == 0.5, "numbers");
	CHECK(o.json && o.verbose, "json/verbose");

	r = parse("-i", "a", "-m", "txonly", "--imix", "--rate", "1000", "--src-mac", "02:00:00:00:00:01",
		  "--dst-mac", "02:00:00:00:00:02", "--src-ip", "192.0.2.1", "--dst-ip", "192.0.2.2",
		  "--sport", "1000", "--dport", "2000", "-n", "5", NULL);
	CHECK(r == 0, "%s", err);
	CHECK(o.mode == NTAD_MODE_TXONLY && o.imix && o.rate == 1000 && o.count == 5, "txonly");
	CHECK(o.pkt.src_mac[5] == 1 && o.pkt.dst_mac[5] == 2, "macs");
	CHECK(o.given == (NTAD_GIVEN_SRC_MAC | NTAD_GIVEN_DST_MAC), "given %x", o.given);
	CHECK(o.pkt.src_ip == inet_addr("192.0.2.1") && o.pkt.dst_ip == inet_addr("192.0.2.2"), "ips");
	CHECK(o.pkt.sport == 1000 && o.pkt.dport == 2000, "ports");

	CHECK(parse("-i", "a", "-o", "b", "-m", "fwd", NULL) == 0, "%s", err);
	CHECK(!strcmp(o.out_ifname, "b") && o.mode == NTAD_MODE_FWD, "fwd");
	CHECK(parse("-i", "a", "-o", "b", "-m", "delay", "--delay", "10", NULL) == 0, "%s", err);
	CHECK(!strcmp(o.out_ifname, "b") && o.mode == NTAD_MODE_DELAY && ntad_two_interfaces(&o), "delay -o");
	CHECK(parse("-i", "a", "-m", "delay", "--delay", "10", NULL) == 0 && !ntad_two_interfaces(&o),
	      "delay without -o: %s", err);
	CHECK(parse("-i", "a", "--verify", "--filter", "all", NULL) == 0 && o.verify && !o.nr_rules, "%s", err);
	CHECK(parse("-i", "a", "-m", "txonly", "--size", "1500", NULL) == 0 && o.size == 1500, "%s", err);
	CHECK(parse("-i", "a", "--hugepages", "--umem-size", "13M", NULL) == 0 && o.hugepages &&
	      o.umem_size == 14ull << 20, "hugepages round the UMEM up to 2 MiB: %llu",
	      (unsigned long long)o.umem_size);
	CHECK(parse("-i", "a", "--umem-size", "16777217", NULL) == 0 && o.umem_size == (16ull << 20) + 4096,
	      "UMEM rounded up to a page");
}

static void test_help_version(void)
{
	CHECK(parse("--help", NULL) == 1 && o.help, "help");
	CHECK(parse("-V", NULL) == 1 && o.version, "version");
	CHECK(parse("-h", "-i", "x", NULL) == 1, "help wins over validation");
}

static void test_bad_values(void)
{
	REFUSED("interface", "-m", "rxdrop", NULL);
	REFUSED("--mode 'drop'", "-i", "a", "-m", "drop");
	REFUSED("--pool 'slab'", "-i", "a", "--pool", "slab");
	REFUSED("--rx-size '1000'", "-i", "a", "--rx-size", "1000");
	REFUSED("--fill-size '8'", "-i", "a", "--fill-size", "8");
	REFUSED("--chunk-size '8192'", "-i", "a", "--chunk-size", "8192");
	REFUSED("--chunk-size '2050'", "-i", "a", "--chunk-size", "2050");
	REFUSED("--umem-size '12X'", "-i", "a", "--umem-size", "12X");
	REFUSED("--umem-size '-1'", "-i", "a", "--umem-size", "-1");
	REFUSED("--bind 'fast'", "-i", "a", "--bind", "fast");
	REFUSED("--xdp-mode 'hw'", "-i", "a", "--xdp-mode", "hw");
	REFUSED("--queue '99'", "-i", "a", "-q", "99");
	/* Several queues: every mode; the held packets' room is counted per queue. */
	CHECK(parse("-i", "a", "--queues", "2", NULL) == 0 && o.nr_queues == 2, "--queues 2: %s", err);
	CHECK(parse("-i", "a", "-m", "capture", "--queues", "0,3", NULL) == 0 && o.nr_queues == 2,
	      "capture --queues 0,3: %s", err);
	CHECK(parse("-i", "a", "-m", "delay", "--delay", "10", "--queues", "2", "--umem-size", "64M", NULL) == 0 &&
	      o.nr_queues == 2, "delay --queues 2: %s", err);
	REFUSED("leaves no room to hold packets in --mode delay", "-i", "a", "-o", "b", "-m", "delay",
		"--delay", "10", "--queues", "4");
	REFUSED("--batch '0'", "-i", "a", "--batch", "0");
	REFUSED("--rt-priority '0'", "-i", "a", "--rt-priority", "0");
	REFUSED("--rt-priority '100'", "-i", "a", "--rt-priority", "100");
	CHECK(parse("-i", "a", "--rt-priority", "50", NULL) == 0 && o.rt_priority == 50, "--rt-priority 50: %s", err);
	REFUSED("--count '0'", "-i", "a", "-n", "0");
	REFUSED("--duration 'x'", "-i", "a", "-d", "x");
	/* Numbers as typed: no blank, sign, hex seconds or octal counts. */
	REFUSED("--duration ' 5'", "-i", "a", "-d", " 5");
	REFUSED("--duration '+5'", "-i", "a", "-d", "+5");
	REFUSED("--duration '0x10'", "-i", "a", "-d", "0x10");
	REFUSED("--interval '+1'", "-i", "a", "-I", "+1");
	REFUSED("--count ' 5'", "-i", "a", "-n", " 5");
	CHECK(parse("-i", "a", "-n", "010", "-d", ".5", NULL) == 0 && o.count == 10 && o.duration == 0.5,
	      "-n 010 is ten, -d .5 half a second: %s", err);
	REFUSED("--delay", "-i", "a", "-m", "delay", "--delay", "0x10ms");
	REFUSED("--interval '0.001'", "-i", "a", "-I", "0.001");
	REFUSED("--size '20'", "-i", "a", "-m", "txonly", "--size", "20");
	REFUSED("--rate '0'", "-i", "a", "-m", "txonly", "--rate", "0");
	REFUSED("--src-mac", "-i", "a", "-m", "txonly", "--src-mac", "02:00:00");
	REFUSED("--dst-ip", "-i", "a", "-m", "txonly", "--dst-ip", "300.1.1.1");
	REFUSED("--dport '0'", "-i", "a", "-m", "txonly", "--dport", "0");
	REFUSED("--interface", "-i", "a-very-long-interface-name");
	REFUSED("unknown option", "-i", "a", "--frobnicate");
	REFUSED("needs a value", "-i", "a", "--mode");
	REFUSED("unexpected argument", "-i", "a", "extra");
	REFUSED("--copy-break 1900", "-i", "a", "--copy-break", "1900");
}

static void test_filters(void)
{
	struct ntad_rule r;
	bool all;

	CHECK(ntad_parse_rule("all", &r, &all, err, sizeof(err)) == 0 && all, "all");
	CHECK(ntad_parse_rule("proto=tcp", &r, &all, err, sizeof(err)) == 0 && !all && r.ip_proto == 6, "tcp");
	CHECK(ntad_parse_rule("proto=icmp", &r, &all, err, sizeof(err)) == 0 && r.ip_proto == 1, "icmp");
	CHECK(ntad_parse_rule("proto=47", &r, &all, err, sizeof(err)) == 0 && r.ip_proto == 47, "numeric");
	CHECK(ntad_parse_rule("dport=53", &r, &all, err, sizeof(err)) == 0 && r.dport == 53 && !r.ip_proto, "dport");
	CHECK(ntad_parse_rule("ethertype=0x0800,proto=udp,dport=9", &r, &all, err, sizeof(err)) == 0 &&
	      r.ethertype == 0x0800 && r.ip_proto == 17 && r.dport == 9, "combination");
	REFUSED("proto 'sctpx'", "-i", "a", "--filter", "proto=sctpx");
	REFUSED("dport needs proto udp or tcp", "-i", "a", "--filter", "proto=icmp,dport=9");
	REFUSED("ethertype '0x12'", "-i", "a", "--filter", "ethertype=0x12");
	REFUSED("not a rule", "-i", "a", "--filter", "color=red");
	REFUSED("not a rule", "-i", "a", "--filter", "proto");
	REFUSED("--filter all conflicts", "-i", "a", "--filter", "all", "--filter", "dport=9");
	{
		char *argv_rules[2 * (NTAD_MAX_RULES + 1) + 4];
		int argc = 0, ret;

		argv_rules[argc] = arg(argc, "ntad"), argc++;
		argv_rules[argc] = arg(argc, "-i"), argc++;
		argv_rules[argc] = arg(argc, "a"), argc++;
		for (int i = 0; i <= NTAD_MAX_RULES; i++) {
			argv_rules[argc] = arg(argc, "--filter"), argc++;
			argv_rules[argc] = arg(argc, "dport=9"), argc++;
		}
		argv_rules[argc] = NULL;
		ret = ntad_parse_args(argc, argv_rules, &o, err, sizeof(err));
		CHECK(ret == -EINVAL && strstr(err, "more than"), "rule table overflow: %d %s", ret, err);
	}
}

static void test_conflicts(void)
{
	REFUSED("needs a second interface", "-i", "a", "-m", "fwd");
	REFUSED("only used by --mode fwd", "-i", "a", "-o", "b");
	REFUSED("same as -i", "-i", "a", "-o", "a", "-m", "fwd");
	REFUSED("same as -i", "-i", "a", "-o", "a", "-m", "delay", "--delay", "10");
	REFUSED("only used by --mode fwd and --mode delay", "-i", "a", "-o", "b", "-m", "capture");
	REFUSED("only used by --mode txonly", "-i", "a", "--imix");
	REFUSED("only used by --mode txonly", "-i", "a", "-m", "l2fwd", "--rate", "10");
	REFUSED("--imix and --size conflict", "-i", "a", "-m", "txonly", "--imix", "--size", "100");
	REFUSED("--verify: only used by --mode rxdrop", "-i", "a", "-m", "l2fwd", "--verify");
	REFUSED("txonly receives nothing", "-i", "a", "-m", "txonly", "--filter", "proto=udp");
	REFUSED("--batch 512: larger than a ring", "-i", "a", "--rx-size", "256", "--batch", "512");
	REFUSED("needs multi-buffer; drop --no-frags", "-i", "a", "-m", "txonly", "--size", "3000",
		"--no-frags");
	REFUSED("--pool fixed has no block larger", "-i", "a", "-m", "txonly", "--size", "9000",
		"--pool", "fixed");
	REFUSED("--frags and --no-frags conflict", "-i", "a", "--frags", "--no-frags");
	/* A frame larger than a chunk is a descriptor chain: multi-buffer turns on. */
	CHECK(parse("-i", "a", "-m", "txonly", "--size", "9014", NULL) == 0 && o.frags, "%s", err);
	CHECK(parse("-i", "a", "-m", "txonly", "--size", "2048", NULL) == 0 && !o.frags, "%s", err);
	CHECK(parse("-i", "a", "--frags", NULL) == 0 && o.frags, "%s", err);
	/* ... and its jumbo range must fit the UMEM beside the TX ring. */
	REFUSED("too small for the rings", "-i", "a", "-m", "txonly", "--size", "9014",
		"--umem-size", "4M");
	/* UMEM too small for the rings: 3 rings x 2048 x 2048 = 12 MiB needed. */
	REFUSED("--umem-size 8388608: too small for the rings", "-i", "a", "--umem-size", "8M");
	CHECK(strstr(err, "12M"), "the fix names the size needed: %s", err);
	CHECK(parse("-i", "a", "--umem-size", "12M", NULL) == 0, "12M fits: %s", err);
	/* fwd has two sockets: twice that. */
	REFUSED("too small for the rings", "-i", "a", "-o", "b", "-m", "fwd", "--umem-size", "16M");
	REFUSED("leaves no room to hold packets", "-i", "a", "-o", "b", "-m", "delay", "--delay", "1",
		"--umem-size", "16M");
	/* delay -o: the held packets' room is the UMEM less both sockets' fill and TX rings. */
	CHECK(parse("-i", "a", "-m", "delay", "--delay", "1", "--umem-size", "20M", "--pool", "fixed",
		    NULL) == 0, "%s", err);
	REFUSED("leaves no room to hold packets", "-i", "a", "-o", "b", "-m", "delay", "--delay", "1",
		"--umem-size", "16M", "--rx-size", "1024", "--pool", "fixed");
	/* txonly has no fill or RX ring to pin. */
	CHECK(parse("-i", "a", "-m", "txonly", "--umem-size", "4M", NULL) == 0, "%s", err);
}

static void test_sizes(void)
{
	uint64_t v;

	CHECK(ntad_parse_size("4096", &v) == 0 && v == 4096, "plain");
	CHECK(ntad_parse_size("4k", &v) == 0 && v == 4096, "k");
	CHECK(ntad_parse_size("2M", &v) == 0 && v == 2u << 20, "M");
	CHECK(ntad_parse_size("1G", &v) == 0 && v == 1u << 30, "G");
	CHECK(ntad_parse_size("1T", &v) == -EINVAL, "T is not a suffix");
	CHECK(ntad_parse_size("", &v) == -EINVAL, "empty");
	CHECK(ntad_parse_size("M", &v) == -EINVAL, "no digits");
	CHECK(ntad_parse_size("99999999999999999999G", &v) == -EINVAL, "overflow");
}

static void test_usage(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(f != NULL, "open_memstream");
	if (!f)
		return;
	ntad_usage(f);
	fclose(f);
	/* Every long option the table knows appears in the help text. */
	static const char *const opts[] = {
		"--interface", "--out-interface", "--mode", "--queue", "--pool", "--rx-size", "--tx-size",
		"--fill-size", "--comp-size", "--batch", "--chunk-size", "--umem-size", "--hugepages",
		"--bind", "--no-need-wakeup", "--busy-poll", "--xdp-mode", "--filter", "--copy-break",
		"--duration", "--count", "--interval", "--json", "--size", "--imix", "--rate",
		"--src-mac", "--dst-mac", "--src-ip", "--dst-ip", "--sport", "--dport", "--verify",
		"--frags", "--no-frags", "--help", "--version",
	};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		CHECK(strstr(buf, opts[i]), "help lacks %s", opts[i]);
	free(buf);
}

/* delay: netem's syntax and units, words after an option, per direction. */
static void test_netem(void)
{
	const struct ntad_netem_opts *ab = &o.netem[0], *ba = &o.netem[1];

	CHECK(parse("-i", "a", "-m", "delay", "--delay", "20ms", "--jitter", "500us", "--dist", "normal",
		    "--delay-corr", "25%", NULL) == 0, "%s", err);
	CHECK(ab->delay_ns == 20000000 && ab->jitter_ns == 500000 && ab->dist == NTAD_DIST_NORMAL &&
	      ab->delay_corr == 0.25, "delay/jitter/dist/corr");
	CHECK(parse("-i", "a", "-m", "delay", "--delay", "1.5", NULL) == 0 && ab->delay_ns == 1500000,
	      "a bare --delay is milliseconds: %s", err);
	CHECK(parse("-i", "a", "-m", "delay", "--delay", "2s", "--loss", "state", "1%", "30%", "-d", "1",
		    NULL) == 0, "%s", err);
	CHECK(ab->loss_model == NTAD_LOSS_STATE && ab->loss[0] == 0.01 && ab->loss[1] == 0.3 &&
	      ab->loss[2] == 0 && ab->loss[3] == 1 && ab->loss[4] == 0 && o.duration == 1,
	      "state: tc's defaults after P31, and -d still an option");
	CHECK(parse("-i", "a", "-m", "delay", "--delay", "5", "--loss", "gemodel", "2%", NULL) == 0 &&
	      ab->loss_model == NTAD_LOSS_GEMODEL && ab->loss[0] == 0.02 && ab->loss[1] == 0.98 &&
	      ab->loss[2] == 1 && ab->loss[3] == 0, "gemodel defaults: %s", err);
	CHECK(parse("-i", "a", "-m", "delay", "--delay", "5", "--loss", "random", "1%", "50%", NULL) == 0 &&
	      ab->loss_model == NTAD_LOSS_RANDOM && ab->loss[0] == 0.01 && ab->loss[1] == 0.5,
	      "random with correlation: %s", err);
	CHECK(parse("-i", "a", "-m", "delay", "--delay", "5", "--reorder", "25%", "50%", "gap", "5",
		    "--duplicate", "1%", "--corrupt", "0.1%", "20%", "--rate", "100mbit", "-14", NULL) == 0,
	      "%s", err);
	CHECK(ab->reorder == 0.25 && ab->reorder_corr == 0.5 && ab->gap == 5 && ab->duplicate == 0.01 &&
	      ab->corrupt == 0.001 && ab->corrupt_corr == 0.2 && ab->rate_bps == 100000000 &&
	      ab->overhead == -14, "reorder/duplicate/corrupt/rate");
	CHECK(parse("-i", "a", "-m", "delay", "--delay", "5", "--reorder", "10%", "--rate", "10mbps", NULL) == 0 &&
	      ab->gap == 1 && ab->rate_bps == 80000000, "gap 1 by default, mbps is bytes: %s", err);
	CHECK(parse("-i", "a", "-m", "delay", "--delay", "5", "--rate", "2mbit", "0", "48", "5", NULL) == 0 &&
	      ab->rate_bps == 2000000 && ab->overhead == 0 && ab->cell_size == 48 && ab->cell_overhead == 5,
	      "ATM cells: %s", err);
	CHECK(parse("-i", "a", "-m", "delay", "--delay", "5", "--rate", "2mbit", "-14", "53", NULL) == 0 &&
	      ab->overhead == -14 && ab->cell_size == 53 && ab->cell_overhead == 0, "cells without overhead: %s", err);
	CHECK(parse("-i", "a", "-m", "delay", "--delay", "5", "--rate", "1kibit", NULL) == 0 &&
	      ab->rate_bps == 1024, "kibit: %s", err);
	/* Both directions by default; --dir scopes what follows. */
	CHECK(parse("-i", "a", "-o", "b", "-m", "delay", "--delay", "20ms", "--dir", "ba", "--delay", "5ms",
		    "--rate", "1gbit", NULL) == 0, "%s", err);
	CHECK(ab->delay_ns == 20000000 && ba->delay_ns == 5000000 && !ab->rate_bps &&
	      ba->rate_bps == 1000000000, "per direction");
	CHECK(parse("-m", "txonly", "-i", "a", "--rate", "1000", NULL) == 0 && o.rate == 1000,
	      "txonly's --rate: %s", err);
	/* --slot: tc-netem's two forms, and the words after them. */
	CHECK(parse("-i", "a", "-m", "delay", "--delay", "5", "--slot", "800us", "2ms", "packets", "32", "bytes",
		    "64k", "--loss", "1%", NULL) == 0, "slot: %s", err);
	CHECK(ab->slot_min_ns == 800000 && ab->slot_max_ns == 2000000 && ab->slot_packets == 32 &&
	      ab->slot_bytes == 65536 && !ab->slot_by_dist && ab->loss[0] == 0.01, "slot MIN MAX packets bytes");
	CHECK(parse("-i", "a", "-m", "delay", "--delay", "5", "--slot", "10ms", "bytes", "1500b", NULL) == 0 &&
	      ab->slot_min_ns == 10000000 && ab->slot_max_ns == 10000000 && !ab->slot_packets &&
	      ab->slot_bytes == 1500, "slot MIN bytes: %s", err);
	CHECK(parse("-i", "a", "-o", "b", "-m", "delay", "--delay", "5", "--dir", "ba", "--slot", "distribution",
		    "pareto", "10ms", "2ms", "packets", "4", NULL) == 0 && ba->slot_by_dist &&
	      ba->slot_dist == NTAD_DIST_PARETO && ba->slot_delay_ns == 10000000 && ba->slot_jitter_ns == 2000000 &&
	      ba->slot_packets == 4 && !ab->slot_by_dist && !ab->slot_min_ns, "slot distribution, ba only: %s", err);
	REFUSED("--slot 'soon'", "-i", "a", "-m", "delay", "--delay", "5", "--slot", "soon");
	REFUSED("the maximum delay is below the minimum", "-i", "a", "-m", "delay", "--delay", "5", "--slot",
		"2ms", "1ms");
	REFUSED("--slot distribution: give DIST DELAY JITTER", "-i", "a", "-m", "delay", "--delay", "5", "--slot",
		"distribution", "normal", "10ms");
	REFUSED("--slot distribution: give DIST DELAY JITTER", "-i", "a", "-m", "delay", "--delay", "5", "--slot",
		"distribution", "normal", "10ms", "0");
	REFUSED("--slot ... packets: needs a number", "-i", "a", "-m", "delay", "--delay", "5", "--slot",
		"1ms", "packets");
	REFUSED("--slot ... bytes: needs a number", "-i", "a", "-m", "delay", "--delay", "5", "--slot",
		"1ms", "bytes", "3g");
	REFUSED("--slot: '3' is not what follows", "-i", "a", "-m", "delay", "--delay", "5", "--slot", "1ms",
		"2ms", "3");
	REFUSED("only used by --mode delay", "-i", "a", "--slot", "1ms");
	REFUSED("--delay '20 ms'", "-i", "a", "-m", "delay", "--delay", "20 ms");
	REFUSED("--delay '5h'", "-i", "a", "-m", "delay", "--delay", "5h");
	REFUSED("--dist 'gamma'", "-i", "a", "-m", "delay", "--delay", "5", "--jitter", "1", "--dist", "gamma");
	REFUSED("add --jitter", "-i", "a", "-m", "delay", "--delay", "5", "--dist", "normal");
	REFUSED("the delay is 0", "-i", "a", "-m", "delay", "--delay", "0", "--reorder", "5%");
	REFUSED("P13 + P14 and P31 + P32", "-i", "a", "-m", "delay", "--delay", "5", "--loss", "state",
		"10%", "60%", "50%");
	REFUSED("--loss gemodel: needs one to four", "-i", "a", "-m", "delay", "--delay", "5", "--loss", "gemodel");
	REFUSED("--loss '150%'", "-i", "a", "-m", "delay", "--delay", "5", "--loss", "150%");
	REFUSED("cell size '4.5'", "-i", "a", "-m", "delay", "--delay", "5", "--rate", "1mbit", "0", "4.5");
	REFUSED("cell size '70000'", "-i", "a", "-m", "delay", "--delay", "5", "--rate", "1mbit", "0", "70000");
	REFUSED("a cell overhead needs cells", "-i", "a", "-m", "delay", "--delay", "5", "--rate", "1mbit", "0", "0", "5");
	REFUSED("leaves a 48-byte cell nothing", "-i", "a", "-m", "delay", "--delay", "5", "--rate", "1mbit", "0", "48", "-48");
	REFUSED("--rate '100mbits'", "-i", "a", "-m", "delay", "--delay", "5", "--rate", "100mbits");
	REFUSED("a bare number is txonly's", "-i", "a", "-m", "delay", "--delay", "5", "--rate", "1000");
	REFUSED("only used by --mode delay", "-i", "a", "--rate", "100mbit");
	REFUSED("--dir ba: there is one direction", "-i", "a", "-m", "delay", "--dir", "ba", "--delay", "5");
	REFUSED("--dir 'up'", "-i", "a", "-o", "b", "-m", "delay", "--delay", "5", "--dir", "up");
	REFUSED("'x': unexpected argument", "-i", "a", "-m", "delay", "--delay", "5", "--duplicate", "1%",
		"2%", "x");
}

/*
 * capture: the expression as trailing arguments (the XDP program runs it: no
 * rules, and what it cannot run is refused), -w/-s/-C/-W and --trigger.
 */
static void test_capture_files(void)
{
	CHECK(parse("-i", "a", "-m", "capture", "--pcap", "x.pcap", "udp", "dst", "port", "53", NULL) == 0 &&
	      !strcmp(o.expr, "udp dst port 53") && o.snaplen == 262144, "expression: %s '%s'", err, o.expr);
	CHECK(o.nr_rules == 0, "udp dst port 53: no XDP rules (%u), the program runs the expression", o.nr_rules);
	CHECK(parse("-i", "a", "-m", "capture", "udp", "port", "domain", "or", "arp", NULL) == 0 && o.nr_rules == 0,
	      "udp port domain or arp: %s", err);
	CHECK(parse("-i", "a", "-m", "capture", "--filter", "proto=tcp", NULL) == 0 && o.nr_rules == 1 &&
	      o.rules[0].ip_proto == 6, "--filter without an expression: the rules select");
	REFUSED("--filter and a capture filter conflict", "-i", "a", "-m", "capture", "--filter", "proto=tcp", "udp");
	REFUSED("--filter and a capture filter conflict", "-i", "a", "-m", "capture", "--filter", "all", "udp");
	REFUSED("capture filter 'ip6 protochain 6': instruction 18 (ja 4) jumps backwards", "-i", "a", "-m", "capture",
		"ip6", "protochain", "6");
	REFUSED("capture filter 'udp or inbound': instruction", "-i", "a", "-m", "capture", "udp", "or", "inbound");
	REFUSED("reads Linux socket metadata", "-i", "a", "-m", "capture", "ifindex", "3");
	/* --trigger runs in user space, where protochain and the like are fine. */
	CHECK(parse("-i", "a", "-m", "capture", "--pcap", "x", "--trigger", "ip6 protochain 6", "udp", NULL) == 0,
	      "--trigger protochain: %s", err);
	CHECK(parse("-i", "a", "-m", "capture", "-w", "y.pcap", "-C", "5", "-W", "3", "-s", "96", NULL) == 0 &&
	      !strcmp(o.write_path, "y.pcap") && o.rotate_bytes == 5000000 && o.rotate_files == 3 &&
	      o.snaplen == 96, "-w -C -W -s: %s", err);
	CHECK(parse("-i", "a", "-m", "capture", "-s", "0", NULL) == 0 && o.snaplen == 262144, "-s 0");
	CHECK(parse("-i", "a", "-m", "capture", "--pcap", "x", "--trigger", "udp port 7", "--trigger", "arp",
		    NULL) == 0 && !strcmp(o.trigger_expr, "(udp port 7) or (arp)"), "--trigger twice: '%s'",
	      o.trigger_expr);
	REFUSED("capture filter 'udp prot 53': can't parse filter expression: syntax error", "-i", "a", "-m", "capture", "udp", "prot", "53");
	REFUSED("--trigger 'proto=udp'", "-i", "a", "-m", "capture", "--pcap", "x", "--trigger", "proto=udp");
	REFUSED("unexpected argument", "-i", "a", "-m", "rxdrop", "udp");
	REFUSED("only used by --mode capture", "-i", "a", "-w", "x");
	REFUSED("--pcap and -w conflict", "-i", "a", "-m", "capture", "-w", "x", "--pcap", "y");
	REFUSED("-C: rotates the files of -w", "-i", "a", "-m", "capture", "--pcap", "y", "-C", "1");
	REFUSED("-W: the number of files", "-i", "a", "-m", "capture", "-w", "y", "-W", "2");
	REFUSED("--trigger: writes the held frames", "-i", "a", "-m", "capture", "-w", "y", "--trigger", "udp");
	REFUSED("--capture-age", "-i", "a", "-m", "capture", "-w", "y", "--capture-age", "100");
	CHECK(parse("-i", "a", "-m", "capture", "--capture-age", ".5", NULL) == 0 && o.capture_age_ns == 500000,
	      "--capture-age .5 as --delay .5: %s", err);
	REFUSED("--capture-age '+5'", "-i", "a", "-m", "capture", "--capture-age", "+5");
	REFUSED("-C '0'", "-i", "a", "-m", "capture", "-w", "y", "-C", "0");
	REFUSED("--snaplen '300000'", "-i", "a", "-m", "capture", "-s", "300000");
}

int main(void)
{
	test_defaults();
	test_all_options();
	test_help_version();
	test_bad_values();
	test_filters();
	test_conflicts();
	test_sizes();
	test_usage();
	test_netem();
	test_capture_files();
	/* Many parses in one process: the last must still see fresh defaults. */
	CHECK(parse("-i", "z", NULL) == 0 && o.nr_rules == 0 && o.mode == NTAD_MODE_RXDROP, "reparse");
	return check_done("test_cli");
}
