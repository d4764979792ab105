/*
 * string.c - decoding string escapes. Everything here runs on strings the
 * validator already accepted, so it does not check again: the parser
 * decodes in place, and duplicate-key detection compares and hashes keys
 * by their decoded bytes without allocating (a byte-at-a-time decoder).
 */
#include <string.h>

#include "ferry/ferry.h"
#include "json/internal.h"

#define R16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
const unsigned char json_plain_byte[256] = {
	R16(0), R16(0),                                         /* controls */
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,         /* '"' */
	R16(1), R16(1),
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,         /* '\\' */
	R16(1), R16(1),
	R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
};
#undef R16

/* Encodes code point cp as UTF-8 at out; returns the length. */
static size_t json_utf8_put(char *out, unsigned long cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Decodes the escape at raw (raw[0] == '\\') into out (room for 4 bytes).
 * Returns the decoded length and sets *used to the raw bytes consumed. */
static size_t json_escape_decode(const char *raw, char *out, size_t *used)
{
	char c = raw[1];
	*used = 2;
	switch (c) {
	case 'b': out[0] = '\b'; return 1;
	case 'f': out[0] = '\f'; return 1;
	case 'n': out[0] = '\n'; return 1;
	case 'r': out[0] = '\r'; return 1;
	case 't': out[0] = '\t'; return 1;
	case 'u': break;
	default: out[0] = c; return 1; /* '"', '\\', '/' */
	}
	unsigned long cp = (unsigned long)json_hex4(raw + 2);
	*used = 6;
	if (cp >= 0xD800 && cp < 0xDC00) {
		unsigned long lo = (unsigned long)json_hex4(raw + 8);
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		*used = 12;
	}
	return json_utf8_put(out, cp);
}

size_t json_decode(char *dst, const char *raw, size_t n)
{
	size_t i = 0, o = 0;
	while (i < n) {
		const char *bs = memchr(raw + i, '\\', n - i);
		size_t run = bs ? (size_t)(bs - (raw + i)) : n - i;
		if (dst + o != raw + i)
			memmove(dst + o, raw + i, run);
		o += run;
		i += run;
		if (i == n)
			break;
		char tmp[4];
		size_t used, len = json_escape_decode(raw + i, tmp, &used);
		memcpy(dst + o, tmp, len);
		o += len;
		i += used;
	}
	return o;
}

/* A byte-at-a-time reader of the decoded form of a raw string; with
 * esc == 0 the bytes are taken as they are (backslashes included). */
typedef struct json_dec {
	const char *p, *end;
	int esc;
	char pend[4];
	size_t np, ip;
} json_dec;

static void json_dec_init(json_dec *d, const char *p, size_t n, int esc)
{
	d->p = p;
	d->end = p + n;
	d->esc = esc;
	d->np = d->ip = 0;
}

static int json_dec_next(json_dec *d)
{
	if (d->ip < d->np)
		return (unsigned char)d->pend[d->ip++];
	if (d->p == d->end)
		return -1;
	if (*d->p != '\\' || !d->esc)
		return (unsigned char)*d->p++;
	size_t used;
	d->np = json_escape_decode(d->p, d->pend, &used);
	d->p += used;
	d->ip = 1;
	return (unsigned char)d->pend[0];
}

int json_raw_eq(const char *a, size_t alen, int aesc, const char *b,
		size_t blen, int besc)
{
	if (!aesc && !besc)
		return alen == blen && memcmp(a, b, alen) == 0;
	json_dec da, db;
	json_dec_init(&da, a, alen, aesc);
	json_dec_init(&db, b, blen, besc);
	for (;;) {
		int ca = json_dec_next(&da), cb = json_dec_next(&db);
		if (ca != cb)
			return 0;
		if (ca < 0)
			return 1;
	}
}

uint64_t json_raw_hash(const char *raw, size_t n, int esc)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	if (!esc) {
		for (size_t i = 0; i < n; i++)
			h = (h ^ (unsigned char)raw[i]) * 0x100000001b3ull;
		return h;
	}
	json_dec d;
	json_dec_init(&d, raw, n, 1);
	for (int c; (c = json_dec_next(&d)) >= 0;)
		h = (h ^ (unsigned)c) * 0x100000001b3ull;
	return h;
}

int json_unescape(const char *raw, size_t n, fbuf *out)
{
	if (n < 2 || raw[0] != '"' || raw[n - 1] != '"')
		return FERRY_EJSON;
	int rc = json_validate(raw, n, NULL);
	if (rc)
		return rc;
	if ((rc = fbuf_grow(out, n - 2)))
		return rc;
	out->len += json_decode(out->p + out->len, raw + 1, n - 2);
	out->p[out->len] = 0;
	return 0;
}
