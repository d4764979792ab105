/*
 * lines.c - the big-block line reader; see lines.h.
 */
#include "cli/lines.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK (8u << 20)

int lines_open(lines *l, const char *path, size_t max)
{
	memset(l, 0, sizeof *l);
	l->fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	if (l->fd < 0)
		return errno;
	l->cap = BLOCK;
	l->max = max;
	if (!(l->buf = malloc(l->cap))) {
		if (l->fd > 0)
			close(l->fd);
		return ENOMEM;
	}
	return 0;
}

/* Moves the partial line to the front and reads more. 0, or -1. */
static int refill(lines *l)
{
	size_t have = l->end - l->start;
	if (l->start > 0) {
		memmove(l->buf, l->buf + l->start, have);
		l->start = 0;
		l->end = have;
	}
	if (l->end == l->cap) {
		if (l->cap >= l->max + 1) {
			errno = EFBIG;
			return -1;
		}
		size_t cap = l->cap * 2 > l->max + 1 ? l->max + 1 : l->cap * 2;
		char *nb = realloc(l->buf, cap);
		if (!nb)
			return -1;
		l->buf = nb;
		l->cap = cap;
	}
	ssize_t n;
	do
		n = read(l->fd, l->buf + l->end, l->cap - l->end);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n == 0)
		l->eof = 1;
	l->end += (size_t)n;
	return 0;
}

int lines_next(lines *l, const char **line, size_t *len)
{
	size_t scan = l->start;
	for (;;) {
		char *nl = memchr(l->buf + scan, '\n', l->end - scan);
		if (nl) {
			*line = l->buf + l->start;
			*len = (size_t)(nl - *line);
			l->consumed += *len + 1;
			l->start = (size_t)(nl - l->buf) + 1;
			break;
		}
		if (l->eof) {
			if (l->start == l->end)
				return 0;
			*line = l->buf + l->start; /* last line, no newline */
			*len = l->end - l->start;
			l->consumed += *len;
			l->start = l->end;
			break;
		}
		size_t off = l->end - l->start;
		if (refill(l))
			return -1;
		scan = l->start + off;
	}
	if (*len > l->max) {
		errno = EFBIG;
		return -1;
	}
	if (*len && (*line)[*len - 1] == '\r') /* CRLF files */
		(*len)--;
	l->lineno++;
	return 1;
}

void lines_close(lines *l)
{
	if (l->fd > 0)
		close(l->fd);
	free(l->buf);
	l->buf = NULL;
}
