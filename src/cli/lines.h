/*
 * lines.h - a line reader for big files: reads in large blocks and hands
 * out lines without copying when they lie inside one block. Lines longer
 * than `max` bytes are an error, not a silent truncation.
 */
#ifndef FERRY_LINES_H
#define FERRY_LINES_H

#include <stddef.h>
#include <stdint.h>

typedef struct lines {
	int fd;
	char *buf;
	size_t cap, start, end, max;
	int eof;
	uint64_t lineno;    /* number of the line last returned (1-based) */
	uint64_t consumed;  /* bytes of input consumed so far */
} lines;

/* Opens path ("-" for stdin). 0 or an errno value. */
int lines_open(lines *l, const char *path, size_t max);
/* 1 and a line (without its newline; borrowed until the next call),
 * 0 at the end, or -1 with errno (EFBIG for a line over max). */
int lines_next(lines *l, const char **line, size_t *len);
void lines_close(lines *l);

#endif
