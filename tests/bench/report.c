/*
 * The bench's table (stdout) and build/bench.json. Every figure that has a
 * counterpart measured in the same run is shown with the ratio to it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

static int64_t t_begin;

void
note(const char *fmt, ...)
{
	va_list ap;

	if (R.nnotes == (int)(sizeof(R.notes) / sizeof(R.notes[0])))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(R.notes[R.nnotes], sizeof(R.notes[0]), fmt, ap);
	va_end(ap);
	fprintf(stderr, "bench: note: %s\n", R.notes[R.nnotes]);
	R.nnotes++;
}

void
report_begin(void)
{
	time_t t = time(NULL);
	struct tm tm;

	t_begin = now_ns();
	if (gmtime_r(&t, &tm) != NULL)
		(void)strftime(R.started, sizeof(R.started),
		    "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* a / b, or 0 when either is missing. */
static double
ratio(double a, double b)
{
	return a > 0 && b > 0 ? a / b : 0;
}

static void
pratio(FILE *f, const char *label, double r)
{
	if (r > 0)
		fprintf(f, "  %s %.2fx", label, r);
	else
		fprintf(f, "  %s -", label);
}

static void
lat_row(FILE *f, const char *name, const struct samples *s, const char *why)
{
	struct stats st;

	stats_of(s, &st);
	if (st.n == 0) {
		fprintf(f, "  %-34s %s\n", name, why);
		return;
	}
	fprintf(f, "  %-34s %5zu %8.3f %8.3f %8.3f %8.3f %5u %5u\n", name,
	    st.n, st.median, st.p90, st.p99, st.max, s->late, st.lost);
}

static void
lat_ratios(FILE *f, const char *label, const struct samples *a,
    const struct samples *b)
{
	struct stats x, y;

	stats_of(a, &x);
	stats_of(b, &y);
	fprintf(f, "  %-34s", label);
	pratio(f, "median", ratio(x.median, y.median));
	pratio(f, "p90", ratio(x.p90, y.p90));
	pratio(f, "p99", ratio(x.p99, y.p99));
	fputc('\n', f);
}

static const char *
within(double v, double limit)
{
	return v <= limit ? "within" : "EXCEEDED";
}

void
report_print(FILE *f)
{
	struct stats a, b, c;
	const char *gc_why = o.reactors_only ? "not run (--reactors-only)" :
	    R.gridcal_available ? (R.gridcal_gave_up ?
	    "not measured: gridcal runs failed (notes)" : "not measured") :
	    "pending: gridcal binaries not built yet";
	const char *peer_why = o.peer ?
	    "not measured: Node-RED did not answer (notes)" :
	    "not run (make bench-peer)";
	char peer_name[64];

	R.wall_s = (double)(now_ns() - t_begin) / 1e9;
	(void)snprintf(peer_name, sizeof(peer_name), "peer (Node-RED %s)",
	    R.peer_version[0] != '\0' ? R.peer_version : "4.x");

	fprintf(f, "\ngridcal bench, %s, %ld cores, %.0f s; mosquitto on "
	    "127.0.0.1, set_tcp_nodelay true\n", R.started,
	    sysconf(_SC_NPROCESSORS_ONLN), R.wall_s);
	fprintf(f, "trip: one cell_voltage_max = %s V (abort limit %.2f V) "
	    "-> revert of output priority seen on the control topic\n",
	    R.trip_value, R.abort_limit);
	fprintf(f, "quiet: each reactor alone (the others SIGSTOPped around "
	    "its trip) but for the row where all react; flood: all react; "
	    "the probe "
	    "%s\n\n", R.probe_rt ? "runs SCHED_FIFO" : "is NOT real-time");

	fprintf(f, "1. Abort reaction latency (ms)      %5s %8s %8s %8s %8s "
	    "%5s %5s\n", "n", "median", "p90", "p99", "max", "late", "lost");
	lat_row(f, "floor (C republisher, 2 hops)", &R.abort_floor, "-");
	lat_row(f, "gridcal (supervisor+watchdog)", &R.abort_gc, gc_why);
	lat_row(f, peer_name, &R.abort_peer, peer_why);
	lat_row(f, "gridcal, audit+state on tmpfs", &R.abort_gc_tmpfs, gc_why);
	lat_row(f, "gridcal, floor and peer react too", &R.abort_gc_crowd,
	    gc_why);
	lat_ratios(f, "gridcal / floor", &R.abort_gc, &R.abort_floor);
	lat_ratios(f, "gridcal / gridcal on tmpfs", &R.abort_gc,
	    &R.abort_gc_tmpfs);
	lat_ratios(f, "peer / gridcal", &R.abort_peer, &R.abort_gc);
	hops_print(f, "gridcal (supervisor+watchdog)", &R.hops_quiet, 3);

	fprintf(f, "\n2. Heartbeat-loss revert (timeout %.0f ms, interval "
	    "%.0f ms)\n", R.hb_timeout_ms, R.hb_interval_ms);
	fprintf(f, "   overshoot = revert seen - (last heartbeat + timeout)\n");
	fprintf(f, "   %-33s %5s %8s %8s %8s %8s %5s %5s\n", "", "n",
	    "median", "p90", "p99", "max", "", "lost");
	lat_row(f, "overshoot (ms)", &R.hb_over, gc_why);
	lat_row(f, "of which noticing (age - timeout)", &R.hb_detect, gc_why);
	stats_of(&R.hb_total, &a);
	if (a.n > 0)
		fprintf(f, "  %-34s median %.3fx  max %.3fx\n",
		    "revert after last heartbeat / timeout",
		    a.median / R.hb_timeout_ms, a.max / R.hb_timeout_ms);

	fprintf(f, "\n3. Under a telemetry flood of %.0f msg/s (QoS 1, window "
	    "%d, %.0f messages)\n", R.flood_rate, o.flood_window,
	    R.flood_msgs);
	fprintf(f, "   sustained rate by window (msg/s, share delivered to the "
	    "floor):");
	for (int i = 0; i < 5; i++)
		if (R.flood_try[i].window > 0)
			fprintf(f, " %d: %.0f %.3f;", R.flood_try[i].window,
			    R.flood_try[i].rate, R.flood_try[i].delivered);
	fputc('\n', f);
	fprintf(f, "   %-33s %5s %8s %8s %8s %8s %5s %5s\n",
	    "abort latency (ms)", "n", "median", "p90", "p99", "max", "late",
	    "lost");
	lat_row(f, "floor", &R.flood_floor, "-");
	lat_row(f, "gridcal", &R.flood_gc, gc_why);
	lat_row(f, peer_name, &R.flood_peer, peer_why);
	lat_ratios(f, "gridcal flood / gridcal quiet", &R.flood_gc,
	    &R.abort_gc);
	lat_ratios(f, "gridcal / floor, flood", &R.flood_gc, &R.flood_floor);
	lat_ratios(f, "peer / gridcal, flood", &R.flood_peer, &R.flood_gc);
	hops_print(f, "gridcal under the flood", &R.hops_flood, 3);
	stats_of(&R.flood_gc, &a);
	if (a.n > 0)
		fprintf(f, "  %-34s p99 %.1f ms vs heartbeat timeout %.0f ms: "
		    "%s; lost %u\n", "abort deadline", a.p99, R.hb_timeout_ms,
		    a.lost == 0 ? within(a.p99, R.hb_timeout_ms) : "EXCEEDED",
		    a.lost);
	fprintf(f, "   %-33s %5s %8s %8s %8s %8s\n",
	    "heartbeat gaps at the watchdog", "n", "median", "p90", "p99",
	    "max");
	stats_of(&R.hb_gaps_quiet, &b);
	stats_of(&R.hb_gaps_flood, &c);
	if (b.n > 0)
		fprintf(f, "  %-34s %5zu %8.1f %8.1f %8.1f %8.1f  "
		    "heartbeat_lost %u\n", "quiet (ms)", b.n, b.median, b.p90,
		    b.p99, b.max, R.hb_lost_quiet);
	if (c.n > 0) {
		fprintf(f, "  %-34s %5zu %8.1f %8.1f %8.1f %8.1f  "
		    "heartbeat_lost %u\n", "flood (ms)", c.n, c.median, c.p90,
		    c.p99, c.max, R.hb_lost_flood);
		fprintf(f, "  %-34s max %.1f ms vs timeout %.0f ms: %s "
		    "(%.2fx the interval)\n", "heartbeat deadline", c.max,
		    R.hb_timeout_ms, R.hb_lost_flood == 0 ?
		    within(c.max, R.hb_timeout_ms) : "EXCEEDED",
		    c.max / R.hb_interval_ms);
	}
	if (b.n == 0 && c.n == 0)
		fprintf(f, "  %-34s %s\n", "heartbeat gaps", gc_why);
	stats_of(&R.fsync_quiet, &b);
	stats_of(&R.fsync_flood, &c);
	if (b.n > 0)
		fprintf(f, "  %-34s %5zu %8.2f %8.2f %8.2f %8.2f\n",
		    "watchdog fsync duration, quiet", b.n, b.median, b.p90,
		    b.p99, b.max);
	if (c.n > 0)
		fprintf(f, "  %-34s %5zu %8.2f %8.2f %8.2f %8.2f\n",
		    "watchdog fsync duration, flood", c.n, c.median, c.p90,
		    c.p99, c.max);
	stats_of(&R.hb_sent_quiet, &b);
	stats_of(&R.hb_sent_flood, &c);
	if (b.n > 0)
		fprintf(f, "  %-34s %5zu %8.1f %8.1f %8.1f %8.1f\n",
		    "as sent by the supervisor, quiet", b.n, b.median, b.p90,
		    b.p99, b.max);
	if (c.n > 0)
		fprintf(f, "  %-34s %5zu %8.1f %8.1f %8.1f %8.1f\n",
		    "as sent by the supervisor, flood", c.n, c.median, c.p90,
		    c.p99, c.max);

	fprintf(f, "\n4. Cost\n");
	fprintf(f, "  telemetry store, parse+ingest      %8.1f ns/msg  %6.2f M "
	    "msg/s per core  (floor strcmp+strtod %.1f ns: %.1fx)\n",
	    R.tm_ns[0], R.tm_ns[0] > 0 ? 1e3 / R.tm_ns[0] : 0, R.tm_ns[1],
	    ratio(R.tm_ns[0], R.tm_ns[1]));
	if (R.tm_ir[0] > 0)
		fprintf(f, "  instructions per message (callgrind) %6.0f       "
		    "               (floor %.0f: %.1fx)\n", R.tm_ir[0],
		    R.tm_ir[1], ratio(R.tm_ir[0], R.tm_ir[1]));
	if (R.e2e_rate > 0) {
		fprintf(f, "  end to end through the broker at %.0f msg/s "
		    "(flood, no plant):\n", R.e2e_rate);
		fprintf(f, "    supervisor (check loop)  %5.1f %% of a core  "
		    "%9.0f msg per CPU-s\n", R.e2e_util[0] * 100,
		    R.e2e_per_cpu_s[0]);
		fprintf(f, "    floor                    %5.1f %% of a core  "
		    "%9.0f msg per CPU-s  (supervisor costs %.2fx)\n",
		    R.e2e_util[1] * 100, R.e2e_per_cpu_s[1],
		    ratio(R.e2e_per_cpu_s[1], R.e2e_per_cpu_s[0]));
		if (R.peer_ran)
			fprintf(f, "    %-24s %5.1f %% of a core  %9.0f msg per "
			    "CPU-s  (costs %.2fx the supervisor)\n", peer_name,
			    R.e2e_util[2] * 100, R.e2e_per_cpu_s[2],
			    ratio(R.e2e_per_cpu_s[0], R.e2e_per_cpu_s[2]));
		fprintf(f, "    broker (mosquitto)       %5.1f %% of a core; "
		    "flooder %5.1f %%\n", R.e2e_util[3] * 100,
		    R.e2e_util[4] * 100);
	} else
		fprintf(f, "  end to end through the broker     %s\n", gc_why);
	if (R.rss_kb[0] > 0)
		fprintf(f, "  peak RSS, full calibration (%.1f s, exit %d): "
		    "watchdog %ld KiB, supervisor %ld KiB; floor %ld KiB "
		    "(gridcal pair %.2fx)%s", R.full_s, R.full_exit,
		    R.rss_kb[0], R.rss_kb[1], R.rss_kb[2],
		    ratio((double)(R.rss_kb[0] + R.rss_kb[1]),
		    (double)R.rss_kb[2]), R.peer_ran ? "" : "\n");
	else
		fprintf(f, "  peak RSS, full calibration        %s\n", gc_why);
	if (R.rss_kb[0] > 0 && R.peer_ran)
		fprintf(f, "; Node-RED %ld KiB (%.1fx the pair)\n", R.rss_kb[3],
		    ratio((double)R.rss_kb[3],
		    (double)(R.rss_kb[0] + R.rss_kb[1])));
	if (R.full_cpu_s[0] > 0 || R.full_cpu_s[1] > 0)
		fprintf(f, "  CPU over that calibration: watchdog %.2f s, "
		    "supervisor %.2f s\n", R.full_cpu_s[0], R.full_cpu_s[1]);
	{
		const char *names[3] = { "gridcal-watchdog",
		    "gridcal-supervisor", "floor" };

		for (int i = 0; i < 3; i++)
			if (R.size[i].file > 0)
				fprintf(f, "  size %-19s text %7ld  data %5ld  "
				    "bss %6ld  file %8ld\n", names[i],
				    R.size[i].text, R.size[i].data,
				    R.size[i].bss, R.size[i].file);
	}
	stats_of(&R.startup, &a);
	if (a.n > 0)
		fprintf(f, "  start-up to first heartbeat       n %zu  median "
		    "%.1f ms  p90 %.1f ms  max %.1f ms  (%.2fx the interval)\n",
		    a.n, a.median, a.p90, a.max,
		    ratio(a.median, R.hb_interval_ms));
	else
		fprintf(f, "  start-up to first heartbeat       %s\n", gc_why);

	fprintf(f, "\n5. Audit log (%.0f-byte records, ext4 under build/)\n",
	    R.audit.record_bytes);
	fprintf(f, "  written, fsync'd + anchor        %9.0f rec/s  (floor "
	    "write+fsync %.0f/s: audit %.2fx slower)\n", R.audit.fsync,
	    R.audit.floor_fsync, ratio(R.audit.floor_fsync, R.audit.fsync));
	fprintf(f, "  written, no fsync (CPU + rename) %9.0f rec/s\n",
	    R.audit.nosync);
	if (R.audit.group > 0)
		fprintf(f, "  written, group commit, durable   %9.0f rec/s  (%.2fx "
		    "the record-at-a-time rate)\n", R.audit.group,
		    ratio(R.audit.group, R.audit.fsync));
	fprintf(f, "  verified (parse, hash, chain)    %9.0f rec/s  (floor "
	    "SHA-256 only %.0f/s: %.2fx)\n", R.audit.verify, R.audit.hash,
	    ratio(R.audit.hash, R.audit.verify));
	if (R.audit.cli_records > 0)
		fprintf(f, "  gridcal-audit verify, bench log  %u records in "
		    "%.3f s (process start included)\n", R.audit.cli_records,
		    R.audit.cli_s);

	(void)report_goals(f);
	if (R.nnotes > 0) {
		fprintf(f, "\nNotes\n");
		for (int i = 0; i < R.nnotes; i++)
			fprintf(f, "  - %s\n", R.notes[i]);
	}
	if (R.nfails > 0) {
		fprintf(f, "\nFailed gridcal runs (whole stderr and the run's "
		    "audit records kept)\n");
		for (int i = 0; i < R.nfails; i++) {
			fprintf(f, "  run %d: %s, watchdog exit %d%s: %s\n",
			    R.fails[i].seq, R.fails[i].what, R.fails[i].exit,
			    R.fails[i].hb_lost > 0 ? ", heartbeat_lost" : "",
			    R.fails[i].path);
			for (int k = 0; k < R.fails[i].ntail; k++)
				fprintf(f, "    | %s\n", R.fails[i].tail[k]);
		}
	}
	fputc('\n', f);
}

/* ---- the goals (issue 14), each a ratio taken in this run ---- */

#define AUDIT_BEFORE_PER_S	1600	/* record-at-a-time, before group commit */

/*
 * One goal line: what was measured, the target, PASS or MISS; "not run"
 * when a side of the ratio is missing (the peer without make bench-peer).
 * Returns 1 for a MISS.
 */
static int
goal(FILE *f, const char *what, double v, const char *unit, double target,
    int at_most)
{
	int met = at_most ? v <= target : v >= target;

	if (target <= 0) {
		fprintf(f, "  %-52s %10s %12s  not run\n", what, "-", "-");
		return 0;
	}
	fprintf(f, "  %-52s %9.2f%s %s%9.2f%s  %s\n", what, v, unit,
	    at_most ? "<=" : ">=", target, unit, met ? "PASS" : "MISS");
	return !met;
}

int
report_goals(FILE *f)
{
	struct stats gc, fl, pe, ov, fgc, ffl;
	int miss = 0;

	stats_of(&R.abort_gc, &gc);
	stats_of(&R.abort_floor, &fl);
	stats_of(&R.abort_peer, &pe);
	stats_of(&R.hb_over, &ov);
	stats_of(&R.flood_gc, &fgc);
	stats_of(&R.flood_floor, &ffl);
	fprintf(f, "\n6. Goals (issue 14; ratios within this run)\n");
	fprintf(f, "  %-52s %10s %12s  %s\n", "goal", "measured", "target",
	    "verdict");
	if (gc.n > 0 && fl.n > 0) {
		miss += goal(f, "abort median (ms) <= 2x floor median", gc.median,
		    "", 2 * fl.median, 1);
		miss += goal(f, "abort p99 (ms) <= 2x floor p99", gc.p99, "",
		    2 * fl.p99, 1);
	} else {
		(void)goal(f, "abort median <= 2x floor median", 0, "", 0, 1);
		(void)goal(f, "abort p99 <= 2x floor p99", 0, "", 0, 1);
	}
	miss += goal(f, "abort median (ms) <= Node-RED median", gc.median, "",
	    gc.n > 0 && pe.n > 0 ? pe.median : 0, 1);
	miss += goal(f, "heartbeat-loss overshoot median (ms) <= 5", ov.median,
	    "", ov.n > 0 ? 5 : 0, 1);
	miss += goal(f, "flood: abort p99 (ms) <= 3x floor p99", fgc.p99, "",
	    fgc.n > 0 && ffl.n > 0 ? 3 * ffl.p99 : 0, 1);
	if (fgc.n > 0 || R.hb_gaps_flood.n > 0) {
		unsigned lost = R.hb_lost_flood + fgc.lost;

		fprintf(f, "  %-52s %10u %12s  %s\n",
		    "flood: heartbeats lost and aborts lost", lost, "0",
		    lost == 0 ? "PASS" : "MISS");
		miss += lost != 0;
	} else
		(void)goal(f, "flood: no heartbeat lost", 0, "", 0, 1);
	miss += goal(f, "audit group commit (rec/s) >= 5x 1.6k", R.audit.group,
	    "", R.audit.group > 0 ? 5 * AUDIT_BEFORE_PER_S : 0, 0);
	miss += goal(f, "audit group commit / record-at-a-time, this run",
	    ratio(R.audit.group, R.audit.fsync), "x",
	    R.audit.group > 0 && R.audit.fsync > 0 ? 5 : 0, 0);
	fprintf(f, "  %d goal%s missed\n", miss, miss == 1 ? "" : "s");
	return miss;
}

/* ---- JSON ---- */

static void
jstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void
jlat(FILE *f, const char *key, const struct samples *s, bool last)
{
	struct stats st;

	stats_of(s, &st);
	fprintf(f, "    \"%s\": ", key);
	if (st.n == 0 && st.lost == 0)
		fprintf(f, "null");
	else
		fprintf(f, "{\"n\": %zu, \"lost\": %u, \"late\": %u, "
		    "\"repeats\": %u, \"min\": %.4f, \"median\": %.4f, "
		    "\"p90\": %.4f, \"p99\": %.4f, \"max\": %.4f, "
		    "\"mean\": %.4f}", st.n, st.lost, s->late, s->repeats,
		    st.min, st.median, st.p90, st.p99, st.max, st.mean);
	fprintf(f, "%s\n", last ? "" : ",");
}

static void
jnum(FILE *f, const char *key, double v, bool last)
{
	fprintf(f, "    \"%s\": ", key);
	if (v > 0 || v < 0)
		fprintf(f, "%.6g", v);
	else
		fprintf(f, "null");
	fprintf(f, "%s\n", last ? "" : ",");
}

int
report_json(const char *path)
{
	struct stats a, b;
	FILE *f;

	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "{\n  \"started\": ");
	jstr(f, R.started);
	fprintf(f, ",\n  \"wall_s\": %.1f,\n  \"cores\": %ld,\n",
	    R.wall_s, sysconf(_SC_NPROCESSORS_ONLN));
	fprintf(f, "  \"gridcal_available\": %s,\n  \"peer_ran\": %s,\n",
	    R.gridcal_available && !R.gridcal_gave_up ? "true" : "false",
	    R.peer_ran ? "true" : "false");
	fprintf(f, "  \"peer\": ");
	jstr(f, R.peer_ran ? R.peer_version : "not run");
	fprintf(f, ",\n  \"trip_value_v\": %s,\n  \"abort_limit_v\": %.3f,\n",
	    R.trip_value, R.abort_limit);

	fprintf(f, "  \"abort_latency_ms\": {\n");
	jlat(f, "floor", &R.abort_floor, false);
	jlat(f, "gridcal", &R.abort_gc, false);
	jlat(f, "peer", &R.abort_peer, false);
	jlat(f, "gridcal_audit_on_tmpfs", &R.abort_gc_tmpfs, false);
	jlat(f, "gridcal_all_reactors_react", &R.abort_gc_crowd, false);
	stats_of(&R.abort_gc, &a);
	stats_of(&R.abort_floor, &b);
	jnum(f, "gridcal_over_floor_median", ratio(a.median, b.median), false);
	jnum(f, "gridcal_over_floor_p99", ratio(a.p99, b.p99), false);
	stats_of(&R.abort_peer, &b);
	jnum(f, "peer_over_gridcal_median", ratio(b.median, a.median), false);
	jnum(f, "peer_over_gridcal_p99", ratio(b.p99, a.p99), true);
	fprintf(f, "  },\n");

	hops_json(f, "abort_hops_quiet", &R.hops_quiet);
	hops_json(f, "abort_hops_flood", &R.hops_flood);
	fprintf(f, "  \"heartbeat_loss\": {\n");
	jnum(f, "timeout_ms", R.hb_timeout_ms, false);
	jnum(f, "interval_ms", R.hb_interval_ms, false);
	jlat(f, "overshoot_ms", &R.hb_over, false);
	jlat(f, "detection_overshoot_ms", &R.hb_detect, false);
	jlat(f, "revert_after_last_heartbeat_ms", &R.hb_total, true);
	fprintf(f, "  },\n");

	fprintf(f, "  \"flood\": {\n");
	jnum(f, "rate_msg_s", R.flood_rate, false);
	jnum(f, "messages", R.flood_msgs, false);
	jnum(f, "window", o.flood_window, false);
	fprintf(f, "    \"calibration\": [");
	for (int i = 0; i < 5; i++)
		fprintf(f, "%s{\"window\": %d, \"rate_msg_s\": %.0f, "
		    "\"delivered_share\": %.4f}", i ? ", " : "",
		    R.flood_try[i].window, R.flood_try[i].rate,
		    R.flood_try[i].delivered);
	fprintf(f, "],\n");
	jlat(f, "abort_floor_ms", &R.flood_floor, false);
	jlat(f, "abort_gridcal_ms", &R.flood_gc, false);
	jlat(f, "abort_peer_ms", &R.flood_peer, false);
	jlat(f, "heartbeat_gaps_quiet_ms", &R.hb_gaps_quiet, false);
	jlat(f, "heartbeat_gaps_flood_ms", &R.hb_gaps_flood, false);
	jlat(f, "heartbeat_sent_gaps_quiet_ms", &R.hb_sent_quiet, false);
	jlat(f, "heartbeat_sent_gaps_flood_ms", &R.hb_sent_flood, false);
	jlat(f, "watchdog_fsync_quiet_ms", &R.fsync_quiet, false);
	jlat(f, "watchdog_fsync_flood_ms", &R.fsync_flood, false);
	fprintf(f, "    \"heartbeat_lost_quiet\": %u,\n"
	    "    \"heartbeat_lost_flood\": %u\n  },\n", R.hb_lost_quiet,
	    R.hb_lost_flood);

	fprintf(f, "  \"cost\": {\n");
	jnum(f, "tm_ingest_ns_per_msg", R.tm_ns[0], false);
	jnum(f, "tm_floor_ns_per_msg", R.tm_ns[1], false);
	jnum(f, "tm_ingest_msgs_per_core_s", R.tm_ns[0] > 0 ?
	    1e9 / R.tm_ns[0] : 0, false);
	jnum(f, "tm_ingest_instructions_per_msg", R.tm_ir[0], false);
	jnum(f, "tm_floor_instructions_per_msg", R.tm_ir[1], false);
	jnum(f, "e2e_flood_rate_msg_s", R.e2e_rate, false);
	jnum(f, "e2e_supervisor_core_share", R.e2e_util[0], false);
	jnum(f, "e2e_supervisor_msgs_per_cpu_s", R.e2e_per_cpu_s[0], false);
	jnum(f, "e2e_floor_core_share", R.e2e_util[1], false);
	jnum(f, "e2e_floor_msgs_per_cpu_s", R.e2e_per_cpu_s[1], false);
	jnum(f, "e2e_peer_core_share", R.e2e_util[2], false);
	jnum(f, "e2e_peer_msgs_per_cpu_s", R.e2e_per_cpu_s[2], false);
	jnum(f, "e2e_broker_core_share", R.e2e_util[3], false);
	jnum(f, "e2e_flooder_core_share", R.e2e_util[4], false);
	jnum(f, "rss_watchdog_kib", (double)R.rss_kb[0], false);
	jnum(f, "rss_supervisor_kib", (double)R.rss_kb[1], false);
	jnum(f, "rss_floor_kib", (double)R.rss_kb[2], false);
	jnum(f, "rss_peer_kib", (double)R.rss_kb[3], false);
	jnum(f, "rss_broker_kib", (double)R.rss_kb[4], false);
	jnum(f, "full_calibration_s", R.full_s, false);
	jnum(f, "full_calibration_watchdog_cpu_s", R.full_cpu_s[0], false);
	jnum(f, "full_calibration_supervisor_cpu_s", R.full_cpu_s[1], false);
	jlat(f, "startup_to_first_heartbeat_ms", &R.startup, false);
	{
		const char *names[3] = { "watchdog", "supervisor", "floor" };

		fprintf(f, "    \"sizes\": {");
		for (int i = 0; i < 3; i++)
			fprintf(f, "%s\"%s\": {\"file\": %ld, \"text\": %ld, "
			    "\"data\": %ld, \"bss\": %ld}", i ? ", " : "",
			    names[i], R.size[i].file, R.size[i].text,
			    R.size[i].data, R.size[i].bss);
		fprintf(f, "}\n  },\n");
	}

	fprintf(f, "  \"audit\": {\n");
	jnum(f, "record_bytes", R.audit.record_bytes, false);
	jnum(f, "written_fsync_per_s", R.audit.fsync, false);
	jnum(f, "floor_write_fsync_per_s", R.audit.floor_fsync, false);
	jnum(f, "written_nosync_per_s", R.audit.nosync, false);
	jnum(f, "written_group_commit_per_s", R.audit.group, false);
	jnum(f, "verified_per_s", R.audit.verify, false);
	jnum(f, "floor_sha256_per_s", R.audit.hash, false);
	jnum(f, "cli_verify_records", R.audit.cli_records, false);
	jnum(f, "cli_verify_s", R.audit.cli_s, true);
	fprintf(f, "  },\n  \"notes\": [");
	for (int i = 0; i < R.nnotes; i++) {
		fprintf(f, "%s\n    ", i ? "," : "");
		jstr(f, R.notes[i]);
	}
	fprintf(f, "%s]\n}\n", R.nnotes > 0 ? "\n  " : "");
	return fclose(f) == 0 ? 0 : -1;
}
