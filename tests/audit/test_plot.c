/*
 * gridcal-audit plot and report --html, end to end: a run written by the
 * real writer, drawn by the real binary, and the picture read back the
 * way a viewer would. The SVG must be well-formed XML (expat) of the
 * plot's size, with one series per pack in each of the four panels, each
 * series with one point per sample, the dashed abort-limit line, the
 * absorption hold shaded in every panel and one marker per setting change
 * in every panel. The PNG is decoded by cairo and must show each pack's
 * colour. Hostile sample text is counted, never drawn.
 */
#include <check.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>

#include "auditread.h"
#include "clirun.h"

#define NSAMPLES	12
#define NPACKS		8	/* sampled in turn: packs 1-6, then 7-8 */
#define MAXCOLORS	32

/* What the SVG holds, by the style cairo writes for each drawing. */
struct svgstat {
	int	svg_root, width_ok;
	int	paths;
	/* series: stroke-width 1.6 (audit/plot.c draw_series) */
	char	color[MAXCOLORS][40];
	int	color_paths[MAXCOLORS];
	int	color_bad_points[MAXCOLORS];
	int	ncolors;
	int	limit_lines;	/* red, dashed, width 1.4 */
	int	hold_rects;	/* the hold's translucent amber */
	int	setting_marks;	/* blue dashed verticals */
	int	points_expected;
};

static const char *
attr(const char **a, const char *name)
{
	for (; a[0] != NULL; a += 2)
		if (strcmp(a[0], name) == 0)
			return a[1];
	return NULL;
}

static int
points(const char *d)
{
	int n = 0;

	for (; *d != '\0'; d++)
		if (*d == 'M' || *d == 'L')
			n++;
	return n;
}

static void XMLCALL
on_start(void *arg, const char *name, const char **a)
{
	struct svgstat *st = arg;
	const char *style, *d, *c, *e;
	char color[40];
	int k;

	if (strcmp(name, "svg") == 0) {
		st->svg_root = 1;
		st->width_ok = attr(a, "viewBox") != NULL &&
		    strcmp(attr(a, "viewBox"), "0 0 1000 1060") == 0;
		return;
	}
	if (strcmp(name, "path") != 0 || (style = attr(a, "style")) == NULL ||
	    (d = attr(a, "d")) == NULL)
		return;
	st->paths++;
	if (strstr(style, "fill:rgb(100%,85%,30%)") != NULL &&
	    strstr(style, "fill-opacity:0.28") != NULL)
		st->hold_rects++;
	if (strstr(style, "stroke-dasharray") != NULL &&
	    strstr(style, "stroke:rgb(15%,30%,75%)") != NULL)
		st->setting_marks++;
	if (strstr(style, "stroke-dasharray") != NULL &&
	    strstr(style, "stroke-width:1.4") != NULL &&
	    strstr(style, "stroke:rgb(85%,10%,10%)") != NULL)
		st->limit_lines++;
	if (strstr(style, "stroke-width:1.6;") == NULL ||
	    (c = strstr(style, "stroke:rgb(")) == NULL ||
	    (e = strchr(c, ')')) == NULL || (size_t)(e - c) >= sizeof(color))
		return;
	memcpy(color, c, (size_t)(e - c));
	color[e - c] = '\0';
	for (k = 0; k < st->ncolors; k++)
		if (strcmp(st->color[k], color) == 0)
			break;
	if (k == st->ncolors) {
		ck_assert_int_lt(st->ncolors, MAXCOLORS);
		(void)strlcpy(st->color[st->ncolors++], color,
		    sizeof(st->color[0]));
	}
	st->color_paths[k]++;
	if (points(d) != st->points_expected)
		st->color_bad_points[k]++;
}

static void
parse_svg(const char *buf, size_t len, struct svgstat *st)
{
	XML_Parser xp = XML_ParserCreate(NULL);

	ck_assert_ptr_nonnull(xp);
	XML_SetUserData(xp, st);
	XML_SetElementHandler(xp, on_start, NULL);
	ck_assert_msg(XML_Parse(xp, buf, (int)len, 1) == XML_STATUS_OK,
	    "SVG not well-formed: %s at line %lu",
	    XML_ErrorString(XML_GetErrorCode(xp)),
	    (unsigned long)XML_GetCurrentLineNumber(xp));
	XML_ParserFree(xp);
}

/* A grid run with NPACKS packs and NSAMPLES samples. */
static void
write_run(const char *runid, const char *hostile)
{
	char soc[64], volt[64], cell[64], amps[64], text[300];

	cli_wopen(runid);
	cli_wd(AUDIT_EV_START, (struct audit_field[]){
	    AF_S("profile_digest", "3f1c"), AF_S("command", "calibrate"),
	    AF_S("method", "grid"), AF_B("authorised", 1) }, 4);
	cli_sup("run_start", "method=grid authorised=1 profile=3f1c "
	    "cell_abort_v=3.650 temp_range_c=0.0..45.0 run_max_s=28800");
	cli_sup("state", "from=idle to=preflight event=start");
	cli_wd(AUDIT_EV_CONFIRMED, (struct audit_field[]){
	    AF_S("setting", "charger_priority"),
	    AF_S("value", "solar_and_utility"), AF_S("readback", "SNU") }, 3);
	cli_wd(AUDIT_EV_CONFIRMED, (struct audit_field[]){
	    AF_S("setting", "output_priority"),
	    AF_S("value", "solar_utility_battery"), AF_S("readback", "SUB") },
	    3);
	cli_sup("state", "from=engaging to=grid_charging event=engaged");
	for (int i = 0; i < NSAMPLES; i++) {
		if (i == NSAMPLES - 4)
			cli_sup("state", "from=grid_charging to=grid_absorption "
			    "event=absorption_reached");
		/*
		 * Zigzag figures: cairo merges collinear segments, and
		 * records written within one millisecond share an x.
		 */
		double z = i % 2 ? 1 : 0;

		(void)snprintf(soc, sizeof(soc), "%.1f,%.1f,%.1f,%.1f,%.1f,"
		    "%.1f", 50 + 5 * z + i, 51 + 5 * z + i, 52 + 5 * z + i,
		    53 + 5 * z + i, 54 + 5 * z + i, 76 + 5 * z + i);
		/* pack 5's voltage unknown once: a gap in its line */
		(void)snprintf(volt, sizeof(volt), "%.2f,%.2f,%.2f,%.2f,%s,"
		    "%.2f", 53.5 + z, 53.6 + z, 53.7 + z, 53.8 + z, i == 3 ?
		    "?" : z ? "54.90" : "53.90", 54.0 + z);
		(void)snprintf(cell, sizeof(cell), "%.3f,%.3f,%.3f,%.3f,%.3f,"
		    "%.3f", 3.35 + 0.05 * z, 3.36 + 0.05 * z, 3.37 + 0.05 * z,
		    3.38 + 0.05 * z, 3.39 + 0.05 * z, 3.40 + 0.05 * z);
		(void)snprintf(amps, sizeof(amps), "%.1f,%.1f,%.1f,%.1f,%.1f,"
		    "%.1f", 20 - 5 * z, 21 - 5 * z, 19 - 5 * z, 18 - 5 * z,
		    17 - 5 * z, -1.5 - 5 * z);
		(void)snprintf(text, sizeof(text), "state=grid_charging p=1 "
		    "soc=%s volt=%s cell=%s amps=%s", soc, volt, cell, amps);
		cli_sup("sample", text);
		cli_sup("sample", i % 2 ? "state=grid_charging p=7 "
		    "soc=60.0,61.0 volt=53.60,53.61 cell=3.400,3.401 "
		    "amps=10.0,10.1" : "state=grid_charging p=7 soc=65.0,66.0 "
		    "volt=54.60,54.61 cell=3.450,3.451 amps=12.0,12.1");
	}
	if (hostile != NULL)
		cli_sup("sample", hostile);
	cli_sup("state", "from=grid_absorption to=grid_verify event=taper_held");
	cli_wd(AUDIT_EV_REVERT_TRIGGER, (struct audit_field[]){
	    AF_S("reason", "requested") }, 1);
	cli_wd(AUDIT_EV_CONFIRMED, (struct audit_field[]){
	    AF_S("setting", "output_priority"),
	    AF_S("value", "solar_battery_utility"), AF_S("readback", "SBU") },
	    3);
	cli_wd(AUDIT_EV_REVERT_CONFIRMED, (struct audit_field[]){
	    AF_I("attempts", 1), AF_I("ms", 900) }, 2);
	cli_sup(AUDIT_EV_REPORT, "outcome=pass reason=reanchored method=grid "
	    "soc_before=51.0,54.0,50.0,53.0,55.0,76.0 soc_after=100.0,100.0,"
	    "100.0,100.0,100.0,100.0 spread_before=26.0 spread_after=0.0 "
	    "lagging=");
	cli_wd(AUDIT_EV_OUTCOME, (struct audit_field[]){ AF_S("outcome", "pass"),
	    AF_S("reason", "reanchored <b>&\"x\"</b>") }, 2);
	cli_wd(AUDIT_EV_END, NULL, 0);
	cli_wclose();
}

static void
check_svg(const char *buf, size_t len)
{
	struct svgstat st;

	memset(&st, 0, sizeof(st));
	st.points_expected = NSAMPLES;
	parse_svg(buf, len, &st);
	ck_assert(st.svg_root);
	ck_assert(st.width_ok);
	ck_assert_int_gt(st.paths, 100);
	/* one colour per pack, one series per panel each */
	ck_assert_int_eq(st.ncolors, NPACKS);
	for (int k = 0; k < st.ncolors; k++) {
		ck_assert_msg(st.color_paths[k] == 4, "%s: %d series",
		    st.color[k], st.color_paths[k]);
		/* pack 5's one '?' voltage: a gap, one point fewer */
		ck_assert_msg(st.color_bad_points[k] <= (k == 4 ? 1 : 0),
		    "%s: %d series without %d points", st.color[k],
		    st.color_bad_points[k], NSAMPLES);
	}
	ck_assert_int_eq(st.limit_lines, 1);
	ck_assert_int_eq(st.hold_rects, 4);
	ck_assert_int_eq(st.setting_marks, 4 * 3);
}

START_TEST(plot_svg_has_every_series)
{
	char svg[PATH_MAX + 16];
	size_t len;
	char *buf;

	write_run("run-a", NULL);
	(void)snprintf(svg, sizeof(svg), "%s/run.svg", cli_dir);
	ck_assert_int_eq(cli_run("plot", cli_log, "-o", svg, NULL), 0);
	ck_out("run run-a: 24 samples of 8 pack(s)");
	ck_out("abort limit 3.650 V");
	ck_out("4 marker(s)");
	ck_assert_ptr_nonnull(buf = cli_slurp(svg, &len));
	ck_assert_uint_gt(len, 10000);
	check_svg(buf, len);
	free(buf);
}
END_TEST

START_TEST(plot_png_shows_the_packs)
{
	char png[PATH_MAX + 16];
	cairo_surface_t *sf;
	unsigned char *px;
	int stride, found = 0;

	write_run("run-a", NULL);
	(void)snprintf(png, sizeof(png), "%s/run.png", cli_dir);
	ck_assert_int_eq(cli_run("plot", cli_log, "--run", "run-a", "-o", png,
	    NULL), 0);
	sf = cairo_image_surface_create_from_png(png);
	ck_assert_int_eq(cairo_surface_status(sf), CAIRO_STATUS_SUCCESS);
	ck_assert_int_eq(cairo_image_surface_get_width(sf), 1000);
	ck_assert_int_eq(cairo_image_surface_get_height(sf), 1060);
	px = cairo_image_surface_get_data(sf);
	stride = cairo_image_surface_get_stride(sf);
	/* pack 1's blue (31,119,180) is drawn somewhere in the panels */
	for (int y = 0; y < 1060 && !found; y++)
		for (int x = 0; x < 1000; x++) {
			const unsigned char *p = px + y * stride + x * 4;

			if (abs(p[2] - 31) < 8 && abs(p[1] - 119) < 8 &&
			    abs(p[0] - 180) < 8) {
				found = 1;
				break;
			}
		}
	ck_assert(found);
	cairo_surface_destroy(sf);
}
END_TEST

START_TEST(plot_counts_hostile_samples)
{
	char svg[PATH_MAX + 16];
	size_t len;
	char *buf;

	write_run("run-h", "state=x p=1 soc=1e999,nan volt=1,2 cell=1,2 "
	    "amps=\033[2J,1");
	(void)snprintf(svg, sizeof(svg), "%s/run.svg", cli_dir);
	ck_assert_int_eq(cli_run("plot", cli_log, "-o", svg, NULL), 0);
	ck_err("1 sample record(s) not understood");
	ck_out("24 samples of 8 pack(s)");
	ck_assert_ptr_nonnull(buf = cli_slurp(svg, &len));
	check_svg(buf, len);
	free(buf);
}
END_TEST

START_TEST(plot_picks_the_run)
{
	char svg[PATH_MAX + 16];

	write_run("run-a", NULL);
	cli_wopen("run-b");
	cli_wd(AUDIT_EV_START, (struct audit_field[]){
	    AF_S("method", "solar") }, 1);
	cli_sup("sample", "state=solar_charging p=1 soc=50.0 volt=53.00 "
	    "cell=3.300 amps=5.0");
	cli_wd(AUDIT_EV_END, NULL, 0);
	cli_wclose();
	(void)snprintf(svg, sizeof(svg), "%s/run.svg", cli_dir);
	/* the last run by default */
	ck_assert_int_eq(cli_run("plot", cli_log, "-o", svg, NULL), 0);
	ck_out("run run-b: 1 samples of 1 pack(s)");
	ck_out("abort limit unknown");
	ck_assert_int_eq(cli_run("plot", cli_log, "--run", "run-a", "-o", svg,
	    NULL), 0);
	ck_out("run run-a: 24 samples of 8 pack(s)");
	ck_assert_int_eq(cli_run("plot", cli_log, "--run", "nope", "-o", svg,
	    NULL), 66);
	ck_err("no run nope");
	ck_assert_int_eq(cli_run("plot", cli_log, NULL), 64);
	ck_assert_int_eq(cli_run("plot", cli_log, "--since", "7d", "-o", svg,
	    NULL), 64);
}
END_TEST

/* base64 of the data: URI back into bytes. */
static size_t
unbase64(const char *s, char *out)
{
	static const char t[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned v = 0;
	int bits = 0;
	size_t n = 0;
	const char *c;

	for (; *s != '\0' && *s != '"' && *s != '='; s++) {
		ck_assert_ptr_nonnull(c = strchr(t, *s));
		v = v << 6 | (unsigned)(c - t);
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[n++] = (char)(v >> bits & 0xff);
		}
	}
	return n;
}

START_TEST(report_html_embeds_the_plot)
{
	const char *uri = "data:image/svg+xml;base64,", *p;
	char *svg;
	size_t n;

	write_run("run-a", NULL);
	ck_assert_int_eq(cli_run("report", cli_log, "--html", NULL), 0);
	ck_out("<!DOCTYPE html>");
	ck_out("26.0&nbsp;% &rarr; 0.0&nbsp;%");
	/* the watchdog's reason, escaped: no markup from the log */
	ck_out("reanchored &lt;b&gt;&amp;&quot;x&quot;&lt;/b&gt;");
	ck_assert_ptr_null(strstr(cli_out, "<b>"));
	ck_out("</body></html>");
	ck_assert_ptr_nonnull(p = strstr(cli_out, uri));
	ck_assert_ptr_nonnull(svg = malloc(cli_out_len));
	n = unbase64(p + strlen(uri), svg);
	check_svg(svg, n);
	free(svg);
	ck_assert_int_eq(cli_run("report", cli_log, "--html", "--json", NULL),
	    64);
	ck_assert_int_eq(cli_run("report", cli_log, "--run", "run-a", NULL),
	    64);
}
END_TEST

static Suite *
plot_suite(void)
{
	Suite *s = suite_create("gridcal-audit plot");
	TCase *tc = tcase_create("plot");

	tcase_add_checked_fixture(tc, cli_setup, cli_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, plot_svg_has_every_series);
	tcase_add_test(tc, plot_png_shows_the_packs);
	tcase_add_test(tc, plot_counts_hostile_samples);
	tcase_add_test(tc, plot_picks_the_run);
	tcase_add_test(tc, report_html_embeds_the_plot);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return cli_main("test_plot", plot_suite());
}
