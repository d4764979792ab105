/*
 * buf.c - growable byte buffers with a hard cap; see buf.h.
 */
#include "core/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ferry/ferry.h"

#define FBUF_DEFAULT_MAX ((size_t)1 << 30)

/* Why: on this kind of VM (Firecracker, paravirtualised page tables) the
 * first touch of a fresh 4 KiB page costs 10-13 us, one trip to the
 * hypervisor per page; MADV_POPULATE_WRITE maps a whole range in one call
 * at 0.7 us a page (and the first write to it then costs about 3 us).
 * Batch buffers of tens of MiB are fresh at every start of an import: with
 * them populated, 1 M profiles import in 2.34 s instead of 2.55 s (median
 * of 4 alternating runs, docs/benchmarks.md, session 12). Older kernels
 * answer EINVAL and the pages fault in one by one as before. Only buffers
 * that will be filled ask for it (fbuf_grow_populate): populating the
 * doubled capacity of every buffer cost the upgrade 15 MiB of RSS and no
 * time. */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif
#define FMEM_POPULATE_MIN ((size_t)1 << 20)

int fmem_populate(void *p, size_t n)
{
	if (n < FMEM_POPULATE_MIN)
		return -1;
	uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
	uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)4095;
	return madvise((void *)a, e - a, MADV_POPULATE_WRITE) ? -1 : 0;
}

void fbuf_init(fbuf *b, size_t max)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void fbuf_release(fbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int fbuf_grow(fbuf *b, size_t extra)
{
	size_t max = b->max ? b->max : FBUF_DEFAULT_MAX;
	if (extra > max || b->len > max - extra)
		return FERRY_ELIMIT;
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap < ((size_t)1 << 62) ? cap * 2 : need;
	char *p = realloc(b->p, cap);
	if (!p)
		return FERRY_ENOMEM;
	if (!b->p)
		p[0] = 0;
	b->p = p;
	b->cap = cap;
	return 0;
}

int fbuf_grow_populate(fbuf *b, size_t extra)
{
	size_t old = b->cap;
	int rc = fbuf_grow(b, extra);
	if (!rc && b->cap > old)
		fmem_populate(b->p + old, b->cap - old);
	return rc;
}

int fbuf_add(fbuf *b, const void *data, size_t n)
{
	int rc = fbuf_grow(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = 0;
	return 0;
}

int fbuf_adds(fbuf *b, const char *s) { return fbuf_add(b, s, strlen(s)); }

int fbuf_addc(fbuf *b, char c) { return fbuf_add(b, &c, 1); }

int fbuf_addf(fbuf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return FERRY_EINVAL;
	if ((size_t)n < sizeof small)
		return fbuf_add(b, small, (size_t)n);
	int rc = fbuf_grow(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int fbuf_add_jstr(fbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int rc = fbuf_grow(b, n + 2);
	if (rc)
		return rc;
	b->p[b->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\') {
			if ((rc = fbuf_addc(b, (char)c)))
				return rc;
			continue;
		}
		char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
		size_t el = 2;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
			esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
			el = 6;
		}
		if ((rc = fbuf_add(b, esc, el)))
			return rc;
	}
	return fbuf_addc(b, '"');
}

char *fbuf_detach(fbuf *b, size_t *len)
{
	if (!b->p && fbuf_grow(b, 0))
		return NULL;
	char *p = b->p;
	if (len)
		*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}
