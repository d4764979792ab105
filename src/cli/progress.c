/*
 * progress.c - progress bar / plain progress lines; see progress.h.
 */
#include "cli/progress.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

#define BAR_WIDTH 28

double progress_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_init(progress *p, const char *label, const char *unit,
		   uint64_t total, int quiet)
{
	memset(p, 0, sizeof *p);
	p->label = label;
	p->unit = unit;
	p->total = total;
	p->out = stderr;
	p->tty = isatty(STDERR_FILENO);
	p->quiet = quiet;
	p->start = p->last = progress_now();
}

static void fmt_eta(double s, char *buf, size_t n)
{
	if (s < 0 || s > 360000)
		snprintf(buf, n, "?");
	else if (s >= 3600)
		snprintf(buf, n, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
	else
		snprintf(buf, n, "%ds", (int)(s + 0.5));
}

static void draw(progress *p, double now, int final)
{
	char cnt[32], rt[32], eta[32], bar[BAR_WIDTH + 1];
	double el = now - p->start;
	double rate = el > 0 ? (double)p->count / el : 0;
	double frac = p->total ? (double)p->done / (double)p->total : 0;
	if (frac > 1)
		frac = 1;
	double left = frac > 0 ? el / frac - el : -1;
	fmt_eta(final ? 0 : left, eta, sizeof eta);
	cli_count(p->count, cnt);
	cli_count((uint64_t)(rate + 0.5), rt); /* grouped like the count */
	if (p->tty && !final) {
		int fill = (int)(frac * BAR_WIDTH);
		memset(bar, '#', (size_t)fill);
		memset(bar + fill, '.', (size_t)(BAR_WIDTH - fill));
		bar[BAR_WIDTH] = 0;
		fprintf(p->out, "\r%s [%s] %3d%%  %s %s  %s %s/s  ETA %s\033[K",
			p->label, bar, (int)(frac * 100), cnt, p->unit, rt,
			p->unit, eta);
	} else if (final) {
		fprintf(p->out, "%s%s: %s %s in %.2fs (%s %s/s)\n",
			p->tty ? "\r\033[K" : "", p->label, cnt, p->unit, el, rt,
			p->unit);
	} else {
		fprintf(p->out, "%s: %s %s (%d%%), %s %s/s, ETA %s\n", p->label,
			cnt, p->unit, (int)(frac * 100), rt, p->unit, eta);
	}
	fflush(p->out);
}

void progress_update(progress *p, uint64_t done, uint64_t count)
{
	p->done = done;
	p->count = count;
	if (p->quiet)
		return;
	double now = progress_now();
	if (now - p->last < (p->tty ? 0.1 : 5.0))
		return;
	p->last = now;
	draw(p, now, 0);
}

void progress_finish(progress *p)
{
	if (!p->quiet)
		draw(p, progress_now(), 1);
}
