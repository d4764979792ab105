/*
 * internal.h - what the files of src/json share and nothing else uses: the
 * arena layout with an inline bump allocator (parse.c allocates per node
 * and must not pay a call each time), the strict UTF-8 and number lexers
 * (the validator, the writer and json_new_number_text() must agree on
 * them), and the escape decoders of string.c.
 */
#ifndef FERRY_JSON_INTERNAL_H
#define FERRY_JSON_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "json/json.h"

/* ------------------------------------------------------------------ */
/* Arena (arena.c)                                                     */

typedef struct json_block {
	struct json_block *next;
	size_t size; /* usable bytes after the header */
} json_block;

struct json_arena {
	char *cur, *end;    /* free space in the current block */
	json_block *first;  /* kept by json_arena_reset() */
	json_block *extra;  /* later blocks, newest first */
	/* Scratch stacks of parse.c, reused from one parse to the next. */
	json_value **sv;
	size_t sv_cap;
	json_member *sm;
	size_t sm_cap;
};

/* Slow path of the allocators below: opens a new block. */
void *json_arena_grow(json_arena *a, size_t n, size_t align);

static inline void *json_arena_get(json_arena *a, size_t n, size_t align)
{
	uintptr_t p = ((uintptr_t)a->cur + (align - 1)) & ~(uintptr_t)(align - 1);
	if (p <= (uintptr_t)a->end && n <= (uintptr_t)a->end - p) {
		a->cur = (char *)(p + n);
		return (void *)p;
	}
	return json_arena_grow(a, n, align);
}

/* Bytes with no alignment (strings, keys, lexemes). */
static inline char *json_arena_bytes(json_arena *a, size_t n)
{
	return json_arena_get(a, n, 1);
}

/* Memory for nodes, pointer and member arrays. */
static inline void *json_arena_node(json_arena *a, size_t n)
{
	return json_arena_get(a, n, sizeof(void *));
}

/* ------------------------------------------------------------------ */
/* Lexing helpers                                                      */

static inline int json_isdigit(unsigned char c)
{
	return (unsigned)(c - '0') < 10;
}

static inline int json_isxdigit(unsigned char c)
{
	return json_isdigit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* Length of the UTF-8 sequence at p (p[0] >= 0x80), strict: no overlong
 * forms, no surrogates, nothing above U+10FFFF. Returns 0 if invalid,
 * -1 if valid so far but cut short by `end`. */
static inline int json_utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned char lo = 0x80, hi = 0xBF;
	int need;
	if (p[0] < 0xC2)
		return 0;
	if (p[0] < 0xE0) {
		need = 1;
	} else if (p[0] < 0xF0) {
		need = 2;
		if (p[0] == 0xE0)
			lo = 0xA0;
		else if (p[0] == 0xED)
			hi = 0x9F;
	} else if (p[0] < 0xF5) {
		need = 3;
		if (p[0] == 0xF0)
			lo = 0x90;
		else if (p[0] == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	for (int i = 1; i <= need; i++) {
		if (p + i >= end)
			return -1;
		if (p[i] < lo || p[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xBF;
	}
	return need + 1;
}

/* 1 for the bytes json_special8() does not flag (string.c). */
extern const unsigned char json_plain_byte[256];

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
	__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define JSON_FAST_SCAN 1
#else
#define JSON_FAST_SCAN 0
#endif

/* A mask with bit 7 set in each of the 8 bytes at p that is '"' or
 * '\\' (the lowest set bit is exact). */
static inline uint64_t json_qb8(const char *p)
{
	const uint64_t k1 = 0x0101010101010101ull;
	uint64_t w, q, b;
	memcpy(&w, p, 8);
	q = w ^ (k1 * '"');
	b = w ^ (k1 * '\\');
	return (((q - k1) & ~q) | ((b - k1) & ~b)) & (k1 * 0x80);
}

/* A mask with bit 7 of each byte of the 8 at p set if that byte is '"',
 * '\\', a control or >= 0x80; the lowest set bit is always exact (the
 * borrow tricks can only add false hits above a true one). */
static inline uint64_t json_special8(const char *p)
{
	const uint64_t k1 = 0x0101010101010101ull;
	uint64_t w;
	memcpy(&w, p, 8);
	return json_qb8(p) | ((((w - k1 * 0x20) & ~w) | w) & (k1 * 0x80));
}

static inline int json_is_special(unsigned char c)
{
	return !json_plain_byte[c];
}

static inline int json_is_qb(unsigned char c) { return c == '"' || c == '\\'; }

/* The first byte in [p, end) that mask8 flags (stop() says the same of
 * one byte), or end: 8 bytes a step, then byte by byte. Both functions
 * are constants where it is inlined. */
static inline const char *json_scan(const char *p, const char *end,
				    uint64_t (*mask8)(const char *),
				    int (*stop)(unsigned char))
{
	while (end - p >= 8) {
		uint64_t m = mask8(p);
		if (m) {
#if JSON_FAST_SCAN
			return p + (__builtin_ctzll(m) >> 3);
#else
			break;
#endif
		}
		p += 8;
	}
	while (p < end && !stop((unsigned char)*p))
		p++;
	return p;
}

/* The first byte in [p, end) that json_special8() would flag, or end. */
static inline const char *json_skip_plain(const char *p, const char *end)
{
	return json_scan(p, end, json_special8, json_is_special);
}

/* The first '"' or '\\' in [p, end), or end. */
static inline const char *json_find_qb(const char *p, const char *end)
{
	return json_scan(p, end, json_qb8, json_is_qb);
}

/* Lexes the number starting at p (p < end, *p is '-' or a digit).
 * Returns the byte after it, or NULL with *bad / *msg saying what is
 * wrong where. Strict RFC 8259 grammar; what follows is not checked. */
static inline const char *json_lex_number(const char *p, const char *end,
					  const char **bad, const char **msg)
{
	if (*p == '-' && ++p == end)
		goto eoi;
	if (!json_isdigit((unsigned char)*p)) {
		*msg = "expected a digit after '-'";
		goto fail;
	}
	if (*p++ == '0') {
		if (p < end && json_isdigit((unsigned char)*p)) {
			*msg = "leading zeros are not allowed";
			goto fail;
		}
	} else {
		while (p < end && json_isdigit((unsigned char)*p))
			p++;
	}
	if (p < end && *p == '.') {
		if (++p == end)
			goto eoi;
		if (!json_isdigit((unsigned char)*p)) {
			*msg = "expected a digit after '.'";
			goto fail;
		}
		while (p < end && json_isdigit((unsigned char)*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end)
			goto eoi;
		if (!json_isdigit((unsigned char)*p)) {
			*msg = "expected a digit in the exponent";
			goto fail;
		}
		while (p < end && json_isdigit((unsigned char)*p))
			p++;
	}
	return p;
eoi:
	*msg = "unexpected end of input";
fail:
	*bad = p;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Escapes (string.c); all take the raw text between the quotes of a   */
/* string token that was already validated.                            */

/* Decodes raw[0..n) into dst and returns the decoded length (<= n).
 * dst may equal raw (decoding in place never overtakes the reader). */
size_t json_decode(char *dst, const char *raw, size_t n);

/* 1 if raw strings a and b decode to the same bytes. `aesc`/`besc` say
 * whether each may contain escapes; plain spans are compared directly. */
int json_raw_eq(const char *a, size_t alen, int aesc, const char *b,
		size_t blen, int besc);

/* A hash of the decoded bytes of a raw string (equal for equal keys). */
uint64_t json_raw_hash(const char *raw, size_t n, int esc);

/* The value of 4 hex digits at p, or -1. */
static inline long json_hex4(const char *p)
{
	long v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned char c = (unsigned char)p[i];
		if (!json_isxdigit(c))
			return -1;
		v = v * 16 + (json_isdigit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

#endif
