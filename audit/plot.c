/*
 * gridcal-audit plot: a picture of one run, from the audit log alone.
 *
 * Four panels over the time into the run: each pack's SoC, max cell
 * voltage (with the abort limit), pack voltage (the packs share the bus)
 * and current. The absorption hold is shaded, every setting change the
 * watchdog confirmed by readback is a numbered marker, a revert trigger
 * or envelope trip a red one. The series come from the supervisor's
 * "sample" records (one per progress interval, shared/audit.h); they are
 * its claims and drawn as such, the markers are the watchdog's own.
 *
 * Collecting is a record callback (plot_feed) so `report --html` can
 * gather the picture on its own single pass over the log. Memory is
 * bounded: at most PLOT_SAMPLES_MAX samples and PLOT_MARKS_MAX markers of
 * the chosen run are kept; past that the rest is counted, not drawn.
 */
#include <err.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <cairo-svg.h>

#include "cli.h"
#include "parse.h"
#include "plot.h"

#define PLOT_W		1000
#define PLOT_H		1060
#define MARGIN_L	80
#define MARGIN_R	30
#define TOP		82
#define PANEL_H		190
#define PANEL_GAP	26
#define NPANEL		4

static const double palette[][3] = {
	{ 0.122, 0.467, 0.706 }, { 1.000, 0.498, 0.055 },
	{ 0.173, 0.627, 0.173 }, { 0.580, 0.404, 0.741 },
	{ 0.549, 0.337, 0.294 }, { 0.890, 0.467, 0.761 },
	{ 0.498, 0.498, 0.498 }, { 0.737, 0.741, 0.133 },
	{ 0.090, 0.745, 0.812 }, { 0.682, 0.780, 0.910 },
	{ 1.000, 0.733, 0.471 }, { 0.596, 0.875, 0.541 },
	{ 0.773, 0.690, 0.835 }, { 0.769, 0.612, 0.580 },
	{ 0.969, 0.714, 0.824 }, { 0.859, 0.859, 0.553 },
};

void
plot_color(int pack, double rgb[3])
{
	memcpy(rgb, palette[pack % PLOT_PACKS_MAX], sizeof(palette[0]));
}

struct plot *
plot_new(const char *run)
{
	struct plot *p = calloc(1, sizeof(*p));

	if (p == NULL)
		err(AX_IOERR, "malloc");
	if (run != NULL)
		(void)strlcpy(p->want, run, sizeof(p->want));
	p->abort_cell_v = NAN;
	return p;
}

void
plot_free(struct plot *p)
{
	if (p == NULL)
		return;
	free(p->s);
	free(p);
}

/* A new run (or, with --run, the first record of it): start afresh. */
static void
plot_reset(struct plot *p, const struct audit_record *r)
{
	p->nsamples = p->nmarks = p->nholds = 0;
	p->packs = 0;
	p->bad_samples = p->dropped = 0;
	p->in_hold = 0;
	p->abort_cell_v = NAN;
	p->outcome[0] = p->method[0] = '\0';
	p->authorised = -1;
	p->unverified = 0;
	p->have = 1;
	p->has_start = 0;
	(void)strlcpy(p->run, r->run, sizeof(p->run));
	(void)strlcpy(p->start, r->utc, sizeof(p->start));
	p->t0 = p->t_last = r->mono_ms;
}

/* "a,b,c" of at most max values; "?" is NAN. -1 if any is not a number. */
static int
parse_list(const char *s, double lo, double hi, double *v, int max)
{
	char buf[256], *q = buf, *tok;
	const char *why;
	int n = 0;

	if (strlcpy(buf, s, sizeof(buf)) >= sizeof(buf) || buf[0] == '\0')
		return -1;
	while ((tok = strsep(&q, ",")) != NULL) {
		if (n == max)
			return -1;
		if (strcmp(tok, "?") == 0)
			v[n] = NAN;
		else if (parse_double(tok, lo, hi, &v[n], &why) == -1)
			return -1;
		n++;
	}
	return n;
}

static struct plot_sample *
sample_slot(struct plot *p, int64_t t)
{
	struct plot_sample *s, *grown;

	if (p->nsamples == PLOT_SAMPLES_MAX) {
		p->dropped++;
		return NULL;
	}
	if (p->nsamples == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;

		if (cap > PLOT_SAMPLES_MAX)
			cap = PLOT_SAMPLES_MAX;
		if ((grown = reallocarray(p->s, cap, sizeof(*p->s))) == NULL)
			err(AX_IOERR, "samples");
		p->s = grown;
		p->cap = cap;
	}
	s = &p->s[p->nsamples++];
	s->t = t;
	return s;
}

/* state=... p=N soc=.. volt=.. cell=.. amps=..: strictly, or counted bad. */
static void
feed_sample(struct plot *p, const struct audit_record *r, const char *text,
    size_t len)
{
	double soc[PLOT_PACKS_MAX], volt[PLOT_PACKS_MAX];
	double cell[PLOT_PACKS_MAX], amps[PLOT_PACKS_MAX];
	char ps[8], ls[4][256];
	const char *why;
	int64_t first;
	int n[4];
	struct plot_sample *s;

	if (kv_get(text, len, "p", ps, sizeof(ps)) == -1 ||
	    parse_int64(ps, 1, PLOT_PACKS_MAX, &first, &why) == -1 ||
	    kv_get(text, len, "soc", ls[0], sizeof(ls[0])) == -1 ||
	    kv_get(text, len, "volt", ls[1], sizeof(ls[1])) == -1 ||
	    kv_get(text, len, "cell", ls[2], sizeof(ls[2])) == -1 ||
	    kv_get(text, len, "amps", ls[3], sizeof(ls[3])) == -1)
		goto bad;
	first--;
	n[0] = parse_list(ls[0], 0, 100, soc, PLOT_PACKS_MAX - (int)first);
	n[1] = parse_list(ls[1], 0, 1000, volt, PLOT_PACKS_MAX - (int)first);
	n[2] = parse_list(ls[2], 0, 10, cell, PLOT_PACKS_MAX - (int)first);
	n[3] = parse_list(ls[3], -10000, 10000, amps,
	    PLOT_PACKS_MAX - (int)first);
	if (n[0] < 1 || n[1] != n[0] || n[2] != n[0] || n[3] != n[0])
		goto bad;
	if ((s = sample_slot(p, r->mono_ms)) == NULL)
		return;
	s->first = (int)first;
	s->n = n[0];
	for (int k = 0; k < n[0]; k++) {
		s->soc[k] = soc[k];
		s->volt[k] = volt[k];
		s->cell[k] = cell[k];
		s->amps[k] = amps[k];
	}
	if (s->first + s->n > p->packs)
		p->packs = s->first + s->n;
	return;
bad:
	p->bad_samples++;
}

static void
add_mark(struct plot *p, int64_t t, int kind, const char *label)
{
	struct plot_mark *m;

	if (p->nmarks == PLOT_MARKS_MAX) {
		p->dropped++;
		return;
	}
	m = &p->marks[p->nmarks++];
	m->t = t;
	m->kind = kind;
	(void)strlcpy(m->label, label, sizeof(m->label));
}

static void
hold_edge(struct plot *p, int64_t t, const char *text, size_t len)
{
	char from[40], to[40];
	int was, is;

	if (kv_get(text, len, "from", from, sizeof(from)) == -1 ||
	    kv_get(text, len, "to", to, sizeof(to)) == -1)
		return;
	was = strstr(from, "_absorption") != NULL;
	is = strstr(to, "_absorption") != NULL;
	if (is && !was && !p->in_hold && p->nholds < PLOT_HOLDS_MAX) {
		p->holds[p->nholds].from = t;
		p->holds[p->nholds].to = -1;
		p->nholds++;
		p->in_hold = 1;
	} else if (was && !is && p->in_hold) {
		p->holds[p->nholds - 1].to = t;
		p->in_hold = 0;
	}
}

static void
feed_watchdog(struct plot *p, const struct audit_record *r)
{
	const char *setting, *value, *reason, *what;
	char label[PLOT_LABEL_MAX];
	int b;

	if (strcmp(r->event, AUDIT_EV_START) == 0) {
		p->has_start = 1;
		(void)strlcpy(p->start, r->utc, sizeof(p->start));
		if ((value = audit_field_str(r, "method")) != NULL)
			(void)strlcpy(p->method, value, sizeof(p->method));
		if (audit_field_bool(r, "authorised", &b) == 0)
			p->authorised = b;
	} else if (strcmp(r->event, AUDIT_EV_CONFIRMED) == 0) {
		setting = audit_field_str(r, "setting");
		value = audit_field_str(r, "value");
		(void)snprintf(label, sizeof(label), "%s = %s",
		    setting ? setting : "?", value ? value : "?");
		add_mark(p, r->mono_ms, PLOT_MARK_SETTING, label);
	} else if (strcmp(r->event, AUDIT_EV_REVERT_TRIGGER) == 0) {
		reason = audit_field_str(r, "reason");
		(void)snprintf(label, sizeof(label), "revert triggered: %s",
		    reason ? reason : "?");
		add_mark(p, r->mono_ms, PLOT_MARK_REVERT, label);
	} else if (strcmp(r->event, AUDIT_EV_ENVELOPE) == 0) {
		what = audit_field_str(r, "what");
		(void)snprintf(label, sizeof(label), "envelope: %s",
		    what ? what : "?");
		add_mark(p, r->mono_ms, PLOT_MARK_REVERT, label);
	} else if (strcmp(r->event, AUDIT_EV_OUTCOME) == 0 &&
	    (value = audit_field_str(r, "outcome")) != NULL)
		(void)strlcpy(p->outcome, value, sizeof(p->outcome));
}

void
plot_feed(struct plot *p, const struct audit_record *r, int verified)
{
	const struct audit_rfield *f;
	char v[32];
	const char *why;
	double d;

	if (r == NULL) {
		if (p->have && !p->want[0])
			p->unverified = 1;
		return;
	}
	if (p->want[0] != '\0' && strcmp(r->run, p->want) != 0)
		return;
	/* the last run: a new id, or a second start under the same id */
	if (!p->have || (p->want[0] == '\0' && (strcmp(r->run, p->run) != 0 ||
	    (strcmp(r->event, AUDIT_EV_START) == 0 &&
	    r->actor == AUDIT_WATCHDOG && p->has_start))))
		plot_reset(p, r);
	if (!verified)
		p->unverified = 1;
	if (r->mono_ms > p->t_last)
		p->t_last = r->mono_ms;
	if (r->actor == AUDIT_WATCHDOG) {
		feed_watchdog(p, r);
		return;
	}
	f = audit_field(r, AUDIT_F_TEXT);
	if (f == NULL || f->type != AF_STR ||
	    memchr(f->s, '\0', f->slen) != NULL)
		return;
	if (strcmp(r->event, "sample") == 0)
		feed_sample(p, r, f->s, f->slen);
	else if (strcmp(r->event, "state") == 0)
		hold_edge(p, r->mono_ms, f->s, f->slen);
	else if (strcmp(r->event, "run_start") == 0 &&
	    kv_get(f->s, f->slen, "cell_abort_v", v, sizeof(v)) == 0 &&
	    parse_double(v, 0, 10, &d, &why) == 0)
		p->abort_cell_v = d;
}

/* ---- drawing ---- */

struct axis {
	double	lo, hi;		/* data range */
	double	y0, y1;		/* pixel top, bottom */
};

struct frame {
	cairo_t	*cr;
	double	x0, x1;		/* plot area, pixels */
	double	t_hi;		/* seconds */
	double	unit;		/* seconds per axis unit */
	const char *unit_name;
};

static double
xpos(const struct frame *fr, int64_t t_rel_ms)
{
	double s = (double)t_rel_ms / 1000.0;

	return fr->x0 + (fr->x1 - fr->x0) * (fr->t_hi > 0 ? s / fr->t_hi : 0);
}

static double
ypos(const struct axis *a, double v)
{
	return a->y1 - (a->y1 - a->y0) * (v - a->lo) / (a->hi - a->lo);
}

/* A step of 1, 2 or 5 times a power of ten giving about n ticks. */
static double
nice_step(double span, int n)
{
	double raw = span / n, p = pow(10, floor(log10(raw))), m = raw / p;

	return p * (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10);
}

static void
text_at(cairo_t *cr, double x, double y, double size, double align,
    const char *s)
{
	cairo_text_extents_t te;

	cairo_set_font_size(cr, size);
	cairo_text_extents(cr, s, &te);
	cairo_move_to(cr, x - align * te.x_advance, y);
	cairo_show_text(cr, s);
}

/* Only printable ASCII reaches cairo (it wants UTF-8; the log is bytes). */
static void
safe_label(char *dst, size_t dstsz, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < dstsz && src[i] != '\0'; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

/* Field 0 SoC, 1 max cell voltage, 2 pack voltage, 3 current. */
static double
sample_value(const struct plot_sample *s, int field, int k)
{
	return field == 0 ? s->soc[k] : field == 1 ? s->cell[k] :
	    field == 2 ? s->volt[k] : s->amps[k];
}

static void
range_of(const struct plot *p, int field, double extra, struct axis *a)
{
	double lo = INFINITY, hi = -INFINITY, v, pad, step;

	for (size_t i = 0; i < p->nsamples; i++)
		for (int k = 0; k < p->s[i].n; k++) {
			if (isnan(v = sample_value(&p->s[i], field, k)))
				continue;
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
		}
	if (!isnan(extra)) {
		lo = extra < lo ? extra : lo;
		hi = extra > hi ? extra : hi;
	}
	if (field == 0) {	/* SoC: always up to 100 % */
		hi = 100;
		lo = isinf(lo) ? 0 : lo;
	}
	if (field == 3 && lo > 0)	/* current: zero in view */
		lo = 0;
	if (isinf(lo) || isinf(hi)) {
		lo = 0;
		hi = 1;
	}
	pad = (hi - lo) * 0.06;
	if (pad <= 0)
		pad = fabs(hi) > 0 ? fabs(hi) * 0.01 : 0.5;
	step = nice_step(hi - lo + 2 * pad, 5);
	a->lo = floor((lo - pad) / step) * step;
	a->hi = ceil((hi + pad) / step) * step;
	if (field == 0) {
		a->hi = 100 + step * 0.25;
		if (a->lo < 0)
			a->lo = 0;
	}
	if (field == 3 && lo >= 0)	/* charging only: the axis at zero */
		a->lo = 0;
}

static void
draw_grid(const struct frame *fr, const struct axis *a, const char *title)
{
	cairo_t *cr = fr->cr;
	double step = nice_step(a->hi - a->lo, 5), v;
	char buf[32];
	int prec = step >= 1 ? 0 : step >= 0.1 ? 1 : step >= 0.01 ? 2 : 3;

	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_rectangle(cr, fr->x0, a->y0, fr->x1 - fr->x0, a->y1 - a->y0);
	cairo_fill(cr);
	cairo_set_line_width(cr, 0.6);
	for (v = ceil(a->lo / step) * step; v <= a->hi + step * 1e-6;
	    v += step) {
		double y = ypos(a, v);

		cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
		cairo_move_to(cr, fr->x0, y);
		cairo_line_to(cr, fr->x1, y);
		cairo_stroke(cr);
		(void)snprintf(buf, sizeof(buf), "%.*f", prec, fabs(v) <
		    step * 1e-6 ? 0.0 : v);
		cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
		text_at(cr, fr->x0 - 6, y + 4, 11, 1.0, buf);
	}
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
	    CAIRO_FONT_WEIGHT_BOLD);
	text_at(cr, fr->x0 + 4, a->y0 - 6, 12, 0, title);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
	    CAIRO_FONT_WEIGHT_NORMAL);
}

static void
draw_frame_box(const struct frame *fr, const struct axis *a)
{
	cairo_set_source_rgb(fr->cr, 0.3, 0.3, 0.3);
	cairo_set_line_width(fr->cr, 1);
	cairo_rectangle(fr->cr, fr->x0, a->y0, fr->x1 - fr->x0, a->y1 - a->y0);
	cairo_stroke(fr->cr);
}

static void
draw_holds(const struct frame *fr, const struct plot *p, const struct axis *a)
{
	for (size_t i = 0; i < p->nholds; i++) {
		int64_t to = p->holds[i].to >= 0 ? p->holds[i].to : p->t_last;
		double xa = xpos(fr, p->holds[i].from - p->t0);
		double xb = xpos(fr, to - p->t0);

		cairo_set_source_rgba(fr->cr, 1.0, 0.85, 0.3, 0.28);
		cairo_rectangle(fr->cr, xa, a->y0, xb - xa < 1 ? 1 : xb - xa,
		    a->y1 - a->y0);
		cairo_fill(fr->cr);
	}
}

static void
draw_marks(const struct frame *fr, const struct plot *p, const struct axis *a,
    int numbers)
{
	static const double dash[] = { 4, 3 };
	char n[24];

	for (size_t i = 0; i < p->nmarks; i++) {
		const struct plot_mark *m = &p->marks[i];
		double x = xpos(fr, m->t - p->t0);

		if (m->kind == PLOT_MARK_SETTING)
			cairo_set_source_rgb(fr->cr, 0.15, 0.3, 0.75);
		else
			cairo_set_source_rgb(fr->cr, 0.85, 0.1, 0.1);
		cairo_set_line_width(fr->cr, 1);
		cairo_set_dash(fr->cr, dash, 2, 0);
		cairo_move_to(fr->cr, x, a->y0);
		cairo_line_to(fr->cr, x, a->y1);
		cairo_stroke(fr->cr);
		cairo_set_dash(fr->cr, NULL, 0, 0);
		if (!numbers)
			continue;
		/* staggered so that changes close in time stay readable */
		(void)snprintf(n, sizeof(n), "%zu", i + 1);
		text_at(fr->cr, x + 2, a->y0 + 12 + 12 * (double)(i % 4), 10,
		    0, n);
	}
}

static size_t
count_of(const struct plot *p, int k)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nsamples; i++)
		n += k >= p->s[i].first && k < p->s[i].first + p->s[i].n;
	return n;
}

static void
draw_series(const struct frame *fr, const struct plot *p,
    const struct axis *a, int field)
{
	double rgb[3], v;

	cairo_save(fr->cr);
	cairo_rectangle(fr->cr, fr->x0, a->y0, fr->x1 - fr->x0, a->y1 - a->y0);
	cairo_clip(fr->cr);
	cairo_set_line_width(fr->cr, 1.6);
	cairo_set_line_join(fr->cr, CAIRO_LINE_JOIN_ROUND);
	for (int k = 0; k < p->packs; k++) {
		int pen = 0;

		plot_color(k, rgb);
		cairo_set_source_rgb(fr->cr, rgb[0], rgb[1], rgb[2]);
		for (size_t i = 0; i < p->nsamples; i++) {
			const struct plot_sample *s = &p->s[i];
			double x = xpos(fr, s->t - p->t0);

			/* a record of another group of packs: no news */
			if (k < s->first || k >= s->first + s->n)
				continue;
			v = sample_value(s, field, k - s->first);
			if (isnan(v)) {	/* unknown: a gap, not a guess */
				pen = 0;
				continue;
			}
			if (pen)
				cairo_line_to(fr->cr, x, ypos(a, v));
			else
				cairo_move_to(fr->cr, x, ypos(a, v));
			pen = 1;
		}
		/* a lone point still shows */
		if (pen && count_of(p, k) == 1)
			cairo_rel_line_to(fr->cr, 1, 0);
		cairo_stroke(fr->cr);
	}
	cairo_restore(fr->cr);
}

static void
draw_limit(const struct frame *fr, const struct axis *a, double v,
    const char *label)
{
	static const double dash[] = { 8, 4 };
	double y = ypos(a, v);

	cairo_set_source_rgb(fr->cr, 0.85, 0.1, 0.1);
	cairo_set_line_width(fr->cr, 1.4);
	cairo_set_dash(fr->cr, dash, 2, 0);
	cairo_move_to(fr->cr, fr->x0, y);
	cairo_line_to(fr->cr, fr->x1, y);
	cairo_stroke(fr->cr);
	cairo_set_dash(fr->cr, NULL, 0, 0);
	text_at(fr->cr, (fr->x0 + fr->x1) / 2, y - 4, 11, 0.5, label);
}

static void
draw_time_axis(const struct frame *fr, double y)
{
	double span = fr->t_hi / fr->unit, step = nice_step(span > 0 ? span :
	    1, 8);
	char buf[32];

	cairo_set_source_rgb(fr->cr, 0.25, 0.25, 0.25);
	for (double v = 0; v <= span + step * 1e-6; v += step) {
		double x = fr->x0 + (fr->x1 - fr->x0) * (span > 0 ? v / span :
		    0);

		(void)snprintf(buf, sizeof(buf), "%g", v);
		text_at(fr->cr, x, y + 14, 11, 0.5, buf);
	}
	(void)snprintf(buf, sizeof(buf), "time into the run (%s)",
	    fr->unit_name);
	text_at(fr->cr, (fr->x0 + fr->x1) / 2, y + 32, 12, 0.5, buf);
}

static void
draw_header(cairo_t *cr, const struct plot *p)
{
	char title[256], run[AUDIT_RUN_MAX + 1], out[40], meth[40], buf[24];
	double rgb[3], x = MARGIN_L;

	safe_label(run, sizeof(run), p->run[0] ? p->run : "-");
	safe_label(out, sizeof(out), p->outcome[0] ? p->outcome : "none");
	safe_label(meth, sizeof(meth), p->method[0] ? p->method : "?");
	(void)snprintf(title, sizeof(title), "gridcal run %s: %s, outcome %s"
	    "%s", run, meth, out, p->unverified ?
	    "  (LOG NOT INTACT: see gridcal-audit verify)" : "");
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
	    CAIRO_FONT_WEIGHT_BOLD);
	text_at(cr, MARGIN_L, 26, 15, 0, title);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
	    CAIRO_FONT_WEIGHT_NORMAL);
	for (int k = 0; k < p->packs; k++) {
		plot_color(k, rgb);
		cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
		cairo_rectangle(cr, x, 40, 18, 4);
		cairo_fill(cr);
		cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
		(void)snprintf(buf, sizeof(buf), "pack %d", k + 1);
		text_at(cr, x + 22, 46, 11, 0, buf);
		x += 76;
	}
	cairo_set_source_rgba(cr, 1.0, 0.85, 0.3, 0.5);
	cairo_rectangle(cr, x, 37, 18, 10);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	text_at(cr, x + 22, 46, 11, 0, "absorption hold");
	cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
	text_at(cr, MARGIN_L, 64, 10, 0, "series: the supervisor's samples "
	    "(one per progress interval); markers: the watchdog's records "
	    "(setting confirmed by readback, revert, envelope)");
}

static void
draw_legend(const struct frame *fr, const struct plot *p, double y)
{
	char line[PLOT_LABEL_MAX + 48], label[PLOT_LABEL_MAX];
	double col = 0;

	for (size_t i = 0; i < p->nmarks && i < 16; i++) {
		const struct plot_mark *m = &p->marks[i];

		safe_label(label, sizeof(label), m->label);
		(void)snprintf(line, sizeof(line), "%zu  %.1f %s  %s", i + 1,
		    (double)(m->t - p->t0) / 1000.0 / fr->unit,
		    fr->unit_name, label);
		if (m->kind == PLOT_MARK_SETTING)
			cairo_set_source_rgb(fr->cr, 0.15, 0.3, 0.75);
		else
			cairo_set_source_rgb(fr->cr, 0.85, 0.1, 0.1);
		text_at(fr->cr, fr->x0 + col, y + 14 * (double)(i % 8), 11, 0,
		    line);
		if (i % 8 == 7)
			col += (fr->x1 - fr->x0) / 2;
	}
}

void
plot_draw(const struct plot *p, cairo_surface_t *sf)
{
	static const char *const titles[NPANEL] = {
		"State of charge (%)", "Max cell voltage (V)",
		"Pack voltage, the shared bus (V)", "Pack current (A)"
	};
	struct frame fr;
	struct axis a[NPANEL];
	char lim[48];
	cairo_t *cr = cairo_create(sf);

	fr.cr = cr;
	fr.x0 = MARGIN_L;
	fr.x1 = PLOT_W - MARGIN_R;
	fr.t_hi = (double)(p->t_last - p->t0) / 1000.0;
	fr.unit = fr.t_hi > 3 * 3600 ? 3600 : fr.t_hi > 180 ? 60 : 1;
	fr.unit_name = fr.unit == 3600 ? "h" : fr.unit == 60 ? "min" : "s";
	cairo_set_source_rgb(cr, 0.97, 0.97, 0.97);
	cairo_paint(cr);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
	    CAIRO_FONT_WEIGHT_NORMAL);
	draw_header(cr, p);
	for (int i = 0; i < NPANEL; i++) {
		range_of(p, i, i == 1 ? p->abort_cell_v : NAN, &a[i]);
		a[i].y0 = TOP + i * (PANEL_H + PANEL_GAP);
		a[i].y1 = a[i].y0 + PANEL_H;
		draw_grid(&fr, &a[i], titles[i]);
		draw_holds(&fr, p, &a[i]);
		draw_marks(&fr, p, &a[i], i == 0);
		if (i == 1 && !isnan(p->abort_cell_v)) {
			(void)snprintf(lim, sizeof(lim), "abort limit %.3f V",
			    p->abort_cell_v);
			draw_limit(&fr, &a[i], p->abort_cell_v, lim);
		}
		draw_series(&fr, p, &a[i], i);
		draw_frame_box(&fr, &a[i]);
	}
	if (p->nsamples == 0) {	/* say so rather than show empty axes */
		cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
		text_at(cr, (fr.x0 + fr.x1) / 2, a[0].y0 + PANEL_H / 2, 14, 0.5,
		    "no monitoring samples in this run (refused or ended "
		    "before charging, or logged before samples existed)");
	}
	draw_time_axis(&fr, a[NPANEL - 1].y1);
	draw_legend(&fr, p, a[NPANEL - 1].y1 + 56);
	cairo_destroy(cr);
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int
plot_write(const struct plot *p, const char *path)
{
	cairo_surface_t *sf;
	cairo_status_t st;

	if (ends_with(path, ".svg"))
		sf = cairo_svg_surface_create(path, PLOT_W, PLOT_H);
	else
		sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, PLOT_W,
		    PLOT_H);
	if ((st = cairo_surface_status(sf)) != CAIRO_STATUS_SUCCESS) {
		warnx("%s: %s", path, cairo_status_to_string(st));
		cairo_surface_destroy(sf);
		return -1;
	}
	plot_draw(p, sf);
	if (!ends_with(path, ".svg"))
		st = cairo_surface_write_to_png(sf, path);
	cairo_surface_finish(sf);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(sf);
	cairo_surface_destroy(sf);
	if (st != CAIRO_STATUS_SUCCESS) {
		warnx("%s: %s", path, cairo_status_to_string(st));
		return -1;
	}
	return 0;
}

/* Growing buffer for cairo's stream output (report --html). */
static cairo_status_t
to_buf(void *closure, const unsigned char *data, unsigned int len)
{
	struct plot_buf *b = closure;
	char *grown;
	size_t cap;

	if (len > PLOT_SVG_MAX - b->len)
		return CAIRO_STATUS_NO_MEMORY;
	if (b->len + len > b->cap) {
		cap = b->cap ? b->cap : 65536;
		while (cap < b->len + len)
			cap *= 2;
		if ((grown = realloc(b->data, cap)) == NULL)
			return CAIRO_STATUS_NO_MEMORY;
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return CAIRO_STATUS_SUCCESS;
}

int
plot_svg_mem(const struct plot *p, struct plot_buf *b)
{
	cairo_surface_t *sf;
	cairo_status_t st;

	memset(b, 0, sizeof(*b));
	sf = cairo_svg_surface_create_for_stream(to_buf, b, PLOT_W, PLOT_H);
	plot_draw(p, sf);
	cairo_surface_finish(sf);
	st = cairo_surface_status(sf);
	cairo_surface_destroy(sf);
	if (st != CAIRO_STATUS_SUCCESS) {
		warnx("plot: %s", cairo_status_to_string(st));
		free(b->data);
		memset(b, 0, sizeof(*b));
		return -1;
	}
	return 0;
}

int64_t
plot_hold_ms(const struct plot *p)
{
	int64_t ms = 0;

	for (size_t i = 0; i < p->nholds; i++)
		ms += (p->holds[i].to >= 0 ? p->holds[i].to : p->t_last) -
		    p->holds[i].from;
	return ms;
}

static void
feed_cb(const struct audit_record *r, const char *line, size_t len,
    struct walk *w, void *arg)
{
	(void)line;
	(void)len;
	plot_feed(arg, r, w->verified);
}

int
cmd_plot(const struct opts *o)
{
	struct plot *p = plot_new(o->run);
	struct walk w;
	char run[AUDIT_RUN_MAX + 1];
	int rc;

	if (o->output == NULL) {
		plot_free(p);
		errx(AX_USAGE, "plot: -o FILE.svg or FILE.png is required");
	}
	(void)walk_log(o, &w, feed_cb, p);
	rc = walk_verdict(o, &w);
	if (!p->have) {
		plot_free(p);
		if (o->run != NULL)
			errx(AX_NOINPUT, "%s: no run %s in the log", o->log,
			    o->run);
		errx(AX_NOINPUT, "%s: no run in the log", o->log);
	}
	if (p->bad_samples > 0)
		warnx("%s: %zu sample record(s) not understood, not drawn",
		    o->log, p->bad_samples);
	if (p->dropped > 0)
		warnx("%s: run too long to draw whole: %zu record(s) past the "
		    "first %d samples / %d markers not drawn", o->log,
		    p->dropped, PLOT_SAMPLES_MAX, PLOT_MARKS_MAX);
	if (plot_write(p, o->output) == -1) {
		plot_free(p);
		return AX_IOERR;
	}
	safe_label(run, sizeof(run), p->run);
	(void)printf("%s: run %s: %zu samples of %d pack(s) over %.1f s, "
	    "abort limit %s%.3f V, absorption hold %.1f s, %zu marker(s)\n",
	    o->output, run, p->nsamples, p->packs,
	    (double)(p->t_last - p->t0) / 1000.0,
	    isnan(p->abort_cell_v) ? "unknown " : "",
	    isnan(p->abort_cell_v) ? 0.0 : p->abort_cell_v,
	    (double)plot_hold_ms(p) / 1000.0, p->nmarks);
	plot_free(p);
	if (fflush(stdout) == EOF)
		return AX_IOERR;
	return rc;
}
