/*
 * progress.h - progress reporting for long jobs: on a terminal a bar
 * with count, rate and ETA redrawn ten times a second; otherwise a plain
 * line every few seconds, and always a final summary line.
 */
#ifndef FERRY_PROGRESS_H
#define FERRY_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

typedef struct progress {
	const char *label;
	const char *unit;    /* "docs" */
	uint64_t total;      /* total units of work for %/ETA (0: unknown) */
	uint64_t done;       /* units of work done (bytes or docs) */
	uint64_t count;      /* items done, shown and used for the rate */
	double start, last;
	int tty, quiet;
	FILE *out;
} progress;

void progress_init(progress *p, const char *label, const char *unit,
		   uint64_t total, int quiet);
/* Sets absolute progress: `done` of `total` and `count` items so far. */
void progress_update(progress *p, uint64_t done, uint64_t count);
void progress_finish(progress *p);
double progress_now(void);

#endif
