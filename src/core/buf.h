/*
 * buf.h - growable byte buffers with a hard size cap (curl's habit: every
 * buffer that holds outside input has a maximum). Used for JSON output,
 * import lines, HTTP bodies and catalog records.
 *
 * fbuf_init() prepares an empty buffer; fbuf_release() frees its memory and
 * leaves it empty and reusable; fbuf_clear() only resets the length.
 */
#ifndef FERRY_BUF_H
#define FERRY_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fbuf {
	char *p;     /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;  /* allocated bytes */
	size_t max;  /* hard cap on len; 0 means the default (1 GiB) */
} fbuf;

#define FBUF_INIT {NULL, 0, 0, 0}

void fbuf_init(fbuf *b, size_t max);
/* Maps the whole pages of a block of n bytes that is about to be filled,
 * in one system call, when n is at least 1 MiB; the contents stay as they
 * are (see buf.c for why). A hint that callers ignore: 0 if it was done,
 * -1 if not (a small block, or a kernel older than 5.14). */
int fmem_populate(void *p, size_t n);
void fbuf_release(fbuf *b);
static inline void fbuf_clear(fbuf *b) { b->len = 0; if (b->p) b->p[0] = 0; }

/* All return 0, or FERRY_ENOMEM / FERRY_ELIMIT (nothing appended). */
int fbuf_grow(fbuf *b, size_t extra);
/* fbuf_grow(), and any capacity it adds is populated at once
 * (fmem_populate): for buffers that will be filled, like a bulk's. */
int fbuf_grow_populate(fbuf *b, size_t extra);
int fbuf_add(fbuf *b, const void *data, size_t n);
int fbuf_adds(fbuf *b, const char *s);
int fbuf_addc(fbuf *b, char c);
int fbuf_addf(fbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends `s` as a quoted, escaped JSON string. */
int fbuf_add_jstr(fbuf *b, const char *s, size_t n);
/* Hands the memory to the caller (malloc'd, NUL-terminated) and empties
 * the buffer. Never NULL on success. */
char *fbuf_detach(fbuf *b, size_t *len);

#endif
