/*
 * gridcal-audit report --html: the report as one self-contained page (no
 * script, no external resource): the table of runs with the SoC spread
 * before -> after, the last successful calibration, and the plot of one
 * run as an embedded SVG image (a data: URI, so the page is one file).
 * Every string from the log is escaped: supervisor text is untrusted.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plot.h"

/* HTML-escaped, bytes outside printable ASCII as '?' (the log is bytes). */
static void
h(const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			(void)fputs("&amp;", stdout);
			break;
		case '<':
			(void)fputs("&lt;", stdout);
			break;
		case '>':
			(void)fputs("&gt;", stdout);
			break;
		case '"':
			(void)fputs("&quot;", stdout);
			break;
		case '\'':
			(void)fputs("&#39;", stdout);
			break;
		default:
			(void)putchar(*s >= 0x20 && *s < 0x7f ? *s : '?');
		}
	}
}

static void
pct(double d)
{
	if (isnan(d))
		(void)fputs("?", stdout);
	else
		(void)printf("%.1f&nbsp;%%", d);
}

void
html_begin(void)
{
	(void)fputs("<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><title>gridcal calibration report</title>"
	    "<style>body{font-family:sans-serif;margin:2em}"
	    "table{border-collapse:collapse}td,th{border:1px solid #bbb;"
	    "padding:.3em .6em;text-align:left}th{background:#eee}"
	    "tr.bad{background:#fdd}.pass{color:#060;font-weight:bold}"
	    "img{max-width:100%;border:1px solid #ccc}</style></head><body>\n"
	    "<h1>gridcal calibration report</h1>\n<table>\n<tr><th>start</th>"
	    "<th>duration</th><th>method</th><th>authorised</th>"
	    "<th>outcome</th><th>SoC spread before &rarr; after</th>"
	    "<th>lagging packs</th><th>reverts</th><th>run</th><th>reason</th>"
	    "</tr>\n", stdout);
}

void
html_row(const struct html_row *r)
{
	(void)printf("<tr%s><td>", r->verified ? "" : " class=\"bad\"");
	h(r->start);
	(void)fputs("</td><td>", stdout);
	h(r->duration);
	(void)fputs("</td><td>", stdout);
	h(r->method);
	(void)printf("</td><td>%s</td><td%s>", r->authorised == 1 ? "yes" :
	    r->authorised == 0 ? "no" : "-", strcmp(r->outcome, "pass") == 0 ?
	    " class=\"pass\"" : "");
	h(r->outcome);
	(void)fputs("</td><td>", stdout);
	pct(r->before);
	(void)fputs(" &rarr; ", stdout);
	pct(r->after);
	(void)fputs("</td><td>", stdout);
	h(r->lagging != NULL ? (r->lagging[0] ? r->lagging : "none") : "?");
	(void)printf("</td><td>%d</td><td>", r->revert_attempts);
	h(r->run);
	(void)fputs("</td><td>", stdout);
	h(r->reason);
	(void)fputs("</td></tr>\n", stdout);
}

static void
base64(const unsigned char *d, size_t n)
{
	static const char t[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)d[i] << 16 |
		    (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0) |
		    (i + 2 < n ? d[i + 2] : 0);

		(void)putchar(t[v >> 18 & 63]);
		(void)putchar(t[v >> 12 & 63]);
		(void)putchar(i + 1 < n ? t[v >> 6 & 63] : '=');
		(void)putchar(i + 2 < n ? t[v & 63] : '=');
	}
}

int
html_end(const char *summary, int intact, const struct plot *p)
{
	struct plot_buf b;
	int rc = 0;

	(void)fputs("</table>\n<p>", stdout);
	h(summary);
	(void)fputs("</p>\n", stdout);
	if (!intact)
		(void)fputs("<p><strong>The log is NOT intact</strong>: rows "
		    "in red hold records the chain does not cover (run "
		    "<code>gridcal-audit verify</code>).</p>\n", stdout);
	if (p != NULL && p->have) {
		(void)fputs("<h2>Run ", stdout);
		h(p->run);
		(void)fputs("</h2>\n", stdout);
		if (plot_svg_mem(p, &b) == 0) {
			(void)fputs("<p><img alt=\"SoC, max cell voltage, pack "
			    "voltage and current of each pack over the run\" "
			    "src=\"data:image/svg+xml;base64,", stdout);
			base64((const unsigned char *)b.data, b.len);
			(void)fputs("\"></p>\n", stdout);
			free(b.data);
		} else
			rc = -1;
	}
	(void)fputs("</body></html>\n", stdout);
	return rc;
}
