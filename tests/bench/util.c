/*
 * Clock, statistics and /proc readings for the bench driver.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

int64_t
now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		abort();
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void
sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
	    .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

void
samples_add(struct samples *s, double ms)
{
	if (s->n == s->cap) {
		size_t cap = s->cap == 0 ? 128 : s->cap * 2;
		double *v = reallocarray(s->v, cap, sizeof(*v));

		if (v == NULL)
			abort();
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = ms;
}

void
samples_free(struct samples *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least p of the samples at or
 * below it. */
static double
rank(const double *v, size_t n, double p)
{
	size_t k = (size_t)(p * (double)n + 0.999999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

void
stats_of(const struct samples *s, struct stats *st)
{
	double *v, sum = 0;

	memset(st, 0, sizeof(*st));
	st->lost = s->lost;
	if (s->n == 0)
		return;
	if ((v = reallocarray(NULL, s->n, sizeof(*v))) == NULL)
		abort();
	memcpy(v, s->v, s->n * sizeof(*v));
	qsort(v, s->n, sizeof(*v), dcmp);
	for (size_t i = 0; i < s->n; i++)
		sum += v[i];
	st->n = s->n;
	st->min = v[0];
	st->max = v[s->n - 1];
	st->median = rank(v, s->n, 0.5);
	st->p90 = rank(v, s->n, 0.9);
	st->p99 = rank(v, s->n, 0.99);
	st->mean = sum / (double)s->n;
	free(v);
}

double
proc_cpu_s(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	long hz = sysconf(_SC_CLK_TCK);

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	p = fgets(buf, sizeof(buf), f);
	(void)fclose(f);
	/* the command name may hold spaces: fields start after the last ')' */
	if (p == NULL || (p = strrchr(buf, ')')) == NULL || hz <= 0)
		return -1;
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	    &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)hz;
}

long
proc_hwm_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	(void)snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	(void)fclose(f);
	return kb;
}

int
proc_first_child(int pid)
{
	char path[64];
	int child = 0;
	FILE *f;

	(void)snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid,
	    pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%d", &child) != 1)
		child = 0;
	(void)fclose(f);
	return child;
}

long
hb_read(const char *path, int64_t **out)
{
	long n = 0, cap = 0;
	long long t;
	int64_t *v = NULL, *nv;
	FILE *f;

	*out = NULL;
	if ((f = fopen(path, "r")) == NULL)
		return errno == ENOENT ? 0 : -1;
	while (fscanf(f, "%lld", &t) == 1) {
		if (n == cap) {
			cap = cap == 0 ? 256 : cap * 2;
			if ((nv = reallocarray(v, (size_t)cap, sizeof(*v))) ==
			    NULL) {
				free(v);
				(void)fclose(f);
				return -1;
			}
			v = nv;
		}
		v[n++] = t;
	}
	(void)fclose(f);
	*out = v;
	return n;
}
