// SPDX-License-Identifier: MIT
/*
 * stats.c - formatting of ntad's interval lines and exit summary.
 *
 * One struct (ntad_report) carries every number, filled by main.c from the
 * queues' counters (the library's and the modes'), the kernel's
 * XDP_STATISTICS, the XDP program's per-CPU counters and the pool; this file
 * only formats it, so the text and the JSON forms can never disagree. JSON
 * field names are an interface (the tests read them with jq): add fields,
 * never rename them.
 */
#include <inttypes.h>
#include <string.h>

#include "stats.h"

static double rate(uint64_t now, uint64_t before, double dt)
{
	return dt > 0 ? (double)(now - before) / dt : 0;
}

/* 1234567 -> "1.23M": compact numbers for the text line. */
static const char *human(char *buf, size_t len, double v)
{
	static const char units[] = " kMGT";
	int u = 0;

	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	if (u)
		snprintf(buf, len, "%.2f%c", v, units[u]);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

/* "queues": one object per queue; totals stay at the top level (tests read them). */
static void print_json_queues(FILE *f, const struct ntad_report *r)
{
	fputs(",\"queues\":[", f);
	for (unsigned int i = 0; i < r->nr_queues; i++) {
		const struct ntad_queue_report *q = &r->queues[i];

		fprintf(f, "%s{\"queue\":%u,\"cpu\":%d,\"rx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64
			",\"tx_packets\":%" PRIu64 ",\"tx_bytes\":%" PRIu64 ",\"rx_pps\":%.1f,\"tx_pps\":%.1f,"
			"\"rx_dropped\":%llu,\"rx_ring_full\":%llu,\"rx_fill_ring_empty_descs\":%llu,"
			"\"fill_short\":%" PRIu64 ",\"copy_breaks\":%" PRIu64 ",\"trims\":%" PRIu64
			",\"pool_errors\":%" PRIu64,
			i ? "," : "", q->queue, q->cpu, q->c.rx_packets, q->c.rx_bytes, q->c.tx_packets,
			q->c.tx_bytes, rate(q->c.rx_packets, q->prev.rx_packets, r->dt),
			rate(q->c.tx_packets, q->prev.tx_packets, r->dt),
			(unsigned long long)q->xs.rx_dropped, (unsigned long long)q->xs.rx_ring_full,
			(unsigned long long)q->xs.rx_fill_ring_empty_descs, q->c.fill_short,
			q->c.copy_breaks, q->c.trims, q->c.pool_errors);
		if (r->verify)
			fprintf(f, ",\"verify_valid\":%" PRIu64 ",\"verify_invalid\":%" PRIu64
				",\"seq_first\":%" PRIu64 ",\"seq_last\":%" PRIu64 ",\"seq_unordered\":%" PRIu64,
				q->c.verify_valid, q->c.verify_invalid, q->sc.first, q->sc.last, q->sc.unordered);
		fputc('}', f);
	}
	fputc(']', f);
}

/* Under the total line when there is more than one queue. */
static void print_text_queues(FILE *f, const struct ntad_report *r)
{
	char a[16], b[16];

	if (r->nr_queues < 2)
		return;
	for (unsigned int i = 0; i < r->nr_queues; i++) {
		const struct ntad_queue_report *q = &r->queues[i];

		fprintf(f, "  queue %u: rx %s pps %" PRIu64 " packets | tx %s pps %" PRIu64
			" packets | drop %llu ring-full %llu fill-empty %llu fill-short %" PRIu64,
			q->queue, human(a, sizeof(a), rate(q->c.rx_packets, q->prev.rx_packets, r->dt)),
			q->c.rx_packets, human(b, sizeof(b), rate(q->c.tx_packets, q->prev.tx_packets, r->dt)),
			q->c.tx_packets, (unsigned long long)q->xs.rx_dropped,
			(unsigned long long)q->xs.rx_ring_full,
			(unsigned long long)q->xs.rx_fill_ring_empty_descs, q->c.fill_short);
		if (q->cpu >= 0)
			fprintf(f, " | cpu %d", q->cpu);
		if (r->verify)
			fprintf(f, " | verify %" PRIu64 "/%" PRIu64 " seq %" PRIu64 "..%" PRIu64 " unordered %" PRIu64,
				q->c.verify_valid, q->c.verify_invalid, q->sc.first, q->sc.last, q->sc.unordered);
		fputc('\n', f);
	}
}

/* delay / capture (modes/delay.c, capture.c): what is held and what it really occupies. */
static bool retains(const struct ntad_report *r)
{
	return !strcmp(r->mode, "delay") || !strcmp(r->mode, "capture");
}

static void print_json_retention(FILE *f, const struct ntad_counters *c)
{
	fprintf(f, ",\"held_packets\":%" PRIu64 ",\"held_bytes\":%" PRIu64 ",\"held_umem\":%" PRIu64
		",\"held_limit\":%" PRIu64 ",\"held_peak_packets\":%" PRIu64 ",\"held_peak_umem\":%" PRIu64
		",\"evicted\":%" PRIu64 ",\"fill_evictions\":%" PRIu64 ",\"alloc_evictions\":%" PRIu64
		",\"retain_dropped\":%" PRIu64 ",\"loss_dropped\":%" PRIu64 ",\"released\":%" PRIu64
		",\"late_p50_ns\":%" PRIu64 ",\"late_p99_ns\":%" PRIu64 ",\"late_max_ns\":%" PRIu64
		",\"hold_min_ns\":%" PRIu64 ",\"pcap_writes\":%" PRIu64 ",\"pcap_packets\":%" PRIu64
		",\"pcap_errors\":%" PRIu64 ",\"pcap_errno\":%" PRIu64 ",\"triggers\":%" PRIu64,
		c->held_packets, c->held_bytes, c->held_umem, c->held_limit, c->held_peak_packets,
		c->held_peak_umem, c->evicted, c->fill_evictions, c->alloc_evictions, c->retain_dropped,
		c->loss_dropped, c->released, c->late_p50_ns, c->late_p99_ns, c->late_max_ns,
		c->hold_min_ns, c->pcap_writes, c->pcap_packets, c->pcap_errors, c->pcap_errno, c->triggers);
	/* The same lateness in the unit people read it in (late_*_ns stay for old readers). */
	fprintf(f, ",\"lateness_p50_us\":%.3f,\"lateness_p99_us\":%.3f,\"lateness_max_us\":%.3f",
		c->late_p50_ns / 1e3, c->late_p99_ns / 1e3, c->late_max_ns / 1e3);
	fprintf(f, ",\"duplicated\":%" PRIu64 ",\"corrupted\":%" PRIu64 ",\"reordered\":%" PRIu64,
		c->duplicated, c->corrupted, c->reordered);
	fprintf(f, ",\"pcap_failed\":%" PRIu64, c->pcap_failed);
}

static void print_text_retention(FILE *f, const struct ntad_counters *c)
{
	fprintf(f, "  held %" PRIu64 " packets, %" PRIu64 " bytes in %" PRIu64 " UMEM bytes (limit %" PRIu64
		"); peak %" PRIu64 " packets in %" PRIu64 " bytes\n"
		"  evicted %" PRIu64 " (%" PRIu64 " for the fill ring, %" PRIu64 " for a block), dropped %" PRIu64
		" full, %" PRIu64 " by --loss; released %" PRIu64 "\n",
		c->held_packets, c->held_bytes, c->held_umem, c->held_limit, c->held_peak_packets,
		c->held_peak_umem, c->evicted, c->fill_evictions, c->alloc_evictions, c->retain_dropped,
		c->loss_dropped, c->released);
	if (c->duplicated || c->corrupted || c->reordered)
		fprintf(f, "  duplicated %" PRIu64 ", corrupted %" PRIu64 ", reordered %" PRIu64 "\n",
			c->duplicated, c->corrupted, c->reordered);
	if (c->released)
		fprintf(f, "  lateness p50 %.3f ms, p99 %.3f ms, max %.3f ms; shortest hold %.3f ms\n",
			c->late_p50_ns / 1e6, c->late_p99_ns / 1e6, c->late_max_ns / 1e6, c->hold_min_ns / 1e6);
	if (c->pcap_writes || c->pcap_errors)
		fprintf(f, "  pcap: %" PRIu64 " writes (last %" PRIu64 " packets), %" PRIu64 " failed%s%s, %" PRIu64
			" trigger matches\n", c->pcap_writes, c->pcap_packets, c->pcap_errors,
			c->pcap_errno ? ": " : "", c->pcap_errno ? strerror((int)c->pcap_errno) : "", c->triggers);
}

static void print_json(FILE *f, const struct ntad_report *r)
{
	const struct ntad_counters *c = &r->c, *p = &r->prev;

	fprintf(f, "{\"type\":\"%s\",\"mode\":\"%s\",\"pool\":\"%s\",\"time\":%.3f,"
		"\"rx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64 ",\"tx_packets\":%" PRIu64
		",\"tx_bytes\":%" PRIu64 ",\"rx_pps\":%.1f,\"tx_pps\":%.1f,\"rx_bps\":%.1f,\"tx_bps\":%.1f,"
		"\"rx_dropped\":%llu,\"rx_invalid_descs\":%llu,\"rx_ring_full\":%llu,"
		"\"rx_fill_ring_empty_descs\":%llu,\"tx_invalid_descs\":%llu,\"tx_ring_empty_descs\":%llu,"
		"\"xdp_redirected\":%llu,\"xdp_passed\":%llu,\"xdp_dropped\":%llu,\"xdp_matched\":%llu,"
		"\"verify_valid\":%" PRIu64 ",\"verify_invalid\":%" PRIu64 ","
		"\"tx_submitted\":%" PRIu64 ",\"copy_breaks\":%" PRIu64 ",\"trims\":%" PRIu64 ","
		"\"fill_short\":%" PRIu64 ",\"tx_alloc_fail\":%" PRIu64 ",\"pool_errors\":%" PRIu64 ","
		"\"umem_size\":%" PRIu64 ",\"umem_in_use\":%" PRIu64 ",\"umem_free\":%" PRIu64
		",\"umem_largest_free\":%" PRIu64 ",\"umem_cached\":%" PRIu64 ",\"trims_undone\":%" PRIu64,
		r->summary ? "summary" : "interval", r->mode, r->pool, r->elapsed,
		c->rx_packets, c->rx_bytes, c->tx_packets, c->tx_bytes,
		rate(c->rx_packets, p->rx_packets, r->dt), rate(c->tx_packets, p->tx_packets, r->dt),
		8 * rate(c->rx_bytes, p->rx_bytes, r->dt), 8 * rate(c->tx_bytes, p->tx_bytes, r->dt),
		(unsigned long long)r->xs.rx_dropped, (unsigned long long)r->xs.rx_invalid_descs,
		(unsigned long long)r->xs.rx_ring_full, (unsigned long long)r->xs.rx_fill_ring_empty_descs,
		(unsigned long long)r->xs.tx_invalid_descs, (unsigned long long)r->xs.tx_ring_empty_descs,
		(unsigned long long)r->xdp.redirected, (unsigned long long)r->xdp.passed,
		(unsigned long long)r->xdp.dropped, (unsigned long long)r->xdp.matched,
		c->verify_valid, c->verify_invalid, c->tx_submitted, c->copy_breaks, c->trims,
		c->fill_short, c->tx_alloc_fail, c->pool_errors,
		r->ps.size, r->ps.in_use, r->ps.free, r->ps.largest_free, r->ps.cached,
		r->ps.trims_undone);
	/* Multi-buffer (lib/ntad/chain.c): zero unless frames larger than a chunk moved. */
	fprintf(f, ",\"rx_multibuf\":%" PRIu64 ",\"tx_multibuf\":%" PRIu64 ",\"gathers\":%" PRIu64,
		c->rx_multibuf, c->tx_multibuf, c->gathers);
	if (retains(r))
		print_json_retention(f, c);
	print_json_queues(f, r);
	if (r->summary)
		fprintf(f, ",\"elapsed\":%.3f,\"umem_in_use_at_exit\":%" PRIu64 ",\"nta_check\":\"%s\","
			"\"ledger_violations\":%" PRIu64 ",\"rx_drained\":%" PRIu64 ","
			"\"fill_pending_at_exit\":%" PRIu64 ",\"kernel_held_at_exit\":%" PRIu64 ","
			"\"tx_lost_at_exit\":%" PRIu64 ",\"stop\":\"%s\",\"bind\":\"%s\"",
			r->elapsed, r->in_use_at_exit, r->check_ok ? "ok" : "failed",
			r->ledger_violations, c->rx_drained, r->fill_pending_at_exit,
			r->kernel_held_at_exit, r->tx_lost_at_exit, r->stop_reason, r->bind_mode);
	fputs("}\n", f);
}

static void print_text(FILE *f, const struct ntad_report *r)
{
	const struct ntad_counters *c = &r->c, *p = &r->prev;
	char a[16], b[16], d[16], e[16], g[16], h[16], k[16];

	fprintf(f, "%7.2fs %s/%s rx %s pps %s bps | tx %s pps %s bps | drop %llu ring-full %llu "
		"fill-empty %llu inval %llu/%llu tx-empty %llu | xdp redir %llu pass %llu drop %llu | "
		"umem used %s free %s largest %s\n",
		r->elapsed, r->mode, r->pool,
		human(a, sizeof(a), rate(c->rx_packets, p->rx_packets, r->dt)),
		human(b, sizeof(b), 8 * rate(c->rx_bytes, p->rx_bytes, r->dt)),
		human(d, sizeof(d), rate(c->tx_packets, p->tx_packets, r->dt)),
		human(e, sizeof(e), 8 * rate(c->tx_bytes, p->tx_bytes, r->dt)),
		(unsigned long long)r->xs.rx_dropped, (unsigned long long)r->xs.rx_ring_full,
		(unsigned long long)r->xs.rx_fill_ring_empty_descs,
		(unsigned long long)r->xs.rx_invalid_descs, (unsigned long long)r->xs.tx_invalid_descs,
		(unsigned long long)r->xs.tx_ring_empty_descs,
		(unsigned long long)r->xdp.redirected, (unsigned long long)r->xdp.passed,
		(unsigned long long)r->xdp.dropped,
		human(g, sizeof(g), (double)r->ps.in_use), human(h, sizeof(h), (double)r->ps.free),
		human(k, sizeof(k), (double)r->ps.largest_free));
	print_text_queues(f, r);
	if (!r->summary)
		return;
	fprintf(f, "summary: %s with pool %s (%s mode), %.3f s, stopped by %s\n"
		"  rx %" PRIu64 " packets %" PRIu64 " bytes; tx %" PRIu64 " packets %" PRIu64 " bytes (%" PRIu64 " submitted)\n",
		r->mode, r->pool, r->bind_mode, r->elapsed, r->stop_reason,
		c->rx_packets, c->rx_bytes, c->tx_packets, c->tx_bytes, c->tx_submitted);
	if (c->verify_valid || c->verify_invalid)
		fprintf(f, "  verify: %" PRIu64 " valid, %" PRIu64 " invalid\n", c->verify_valid, c->verify_invalid);
	fprintf(f, "  copy-breaks %" PRIu64 ", trims %" PRIu64 ", fill short %" PRIu64 ", tx alloc failures %" PRIu64
		", pool errors %" PRIu64 ", ledger violations %" PRIu64 "\n",
		c->copy_breaks, c->trims, c->fill_short, c->tx_alloc_fail, c->pool_errors, r->ledger_violations);
	if (retains(r))
		print_text_retention(f, c);
	fprintf(f, "  exit: drained %" PRIu64 " rx, %" PRIu64 " fill entries unused, %" PRIu64
		" held by the kernel, %" PRIu64 " tx never completed\n",
		c->rx_drained, r->fill_pending_at_exit, r->kernel_held_at_exit, r->tx_lost_at_exit);
	fprintf(f, "  umem in use at exit: %" PRIu64 " bytes; %s check: %s\n",
		r->in_use_at_exit, r->pool, r->check_ok ? "ok" : "FAILED");
}

void ntad_report_print(FILE *f, const struct ntad_report *r, bool json)
{
	if (json)
		print_json(f, r);
	else
		print_text(f, r);
	fflush(f);
}
