/*
 * gridcal-audit plot (audit/plot.c): one run's samples and markers,
 * collected from the audit log record by record, drawn with cairo.
 */
#ifndef GRIDCAL_AUDIT_PLOT_H
#define GRIDCAL_AUDIT_PLOT_H

#include <stddef.h>
#include <stdint.h>

#include <cairo.h>

#include "auditread.h"

#define PLOT_PACKS_MAX		16	/* PROFILE_MAX_PACKS */
#define PLOT_SAMPLES_MAX	200000	/* 55 h at one sample a second */
#define PLOT_MARKS_MAX		64
#define PLOT_HOLDS_MAX		16
#define PLOT_LABEL_MAX		96
#define PLOT_SVG_MAX		(64u << 20)	/* report --html's inline SVG */

/* One "sample" record: packs [first, first + n), 0-based. */
struct plot_sample {
	int64_t	t;			/* mono_ms */
	int	first, n;
	double	soc[PLOT_PACKS_MAX], volt[PLOT_PACKS_MAX];
	double	cell[PLOT_PACKS_MAX], amps[PLOT_PACKS_MAX];
};

enum { PLOT_MARK_SETTING, PLOT_MARK_REVERT };
struct plot_mark {
	int64_t	t;
	int	kind;
	char	label[PLOT_LABEL_MAX];
};

struct plot {
	char		want[AUDIT_RUN_MAX + 1];	/* "": the last run */
	int		have;
	char		run[AUDIT_RUN_MAX + 1];
	char		start[32];
	char		method[16], outcome[16];
	int		authorised;
	int		has_start;
	int		unverified;
	int64_t		t0, t_last;		/* mono_ms of the run */
	double		abort_cell_v;		/* NAN: not in the log */
	int		packs;
	struct plot_sample *s;
	size_t		nsamples, cap;
	struct plot_mark marks[PLOT_MARKS_MAX];
	size_t		nmarks;
	struct { int64_t from, to; } holds[PLOT_HOLDS_MAX];	/* to -1: open */
	size_t		nholds;
	int		in_hold;
	size_t		bad_samples, dropped;
};

struct plot_buf {
	char	*data;
	size_t	 len, cap;
};

struct plot *plot_new(const char *run);	/* NULL: the last run */
void	plot_free(struct plot *);
/* One record as walk_log hands it over (r NULL: unparsable). */
void	plot_feed(struct plot *, const struct audit_record *r, int verified);
void	plot_draw(const struct plot *, cairo_surface_t *);
/* .svg by name, anything else PNG. -1 (warned) on failure. */
int	plot_write(const struct plot *, const char *path);
/* The SVG into memory (report --html). */
int	plot_svg_mem(const struct plot *, struct plot_buf *);
int64_t	plot_hold_ms(const struct plot *);
void	plot_color(int pack, double rgb[3]);

#endif
