/*
 * validate.c - the strict validator: one pass over the text, no DOM, byte
 * offsets in every error. json_parse() runs it first and then builds the
 * tree without checking again, so this file alone decides what ferry
 * accepts as JSON (rules in json.h).
 *
 * It walks the text with an explicit stack instead of recursion. The keys
 * of every open object sit on a key stack (on the C stack up to
 * JSON_VKEYS) so duplicates can be found: an object with up to
 * JSON_LINEAR members compares raw key spans one by one; a bigger object
 * gets a hash index of its keys (the only allocation). Keys that contain
 * a backslash are compared and hashed by their decoded bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "ferry/ferry.h"
#include "json/internal.h"

#define JSON_VKEYS 128 /* key spans kept on the C stack */
#define JSON_LINEAR 32 /* members compared one by one up to here */

enum { JSON_K_ARR, JSON_K_OBJ };

typedef struct json_key {
	const char *p; /* first byte after the opening quote */
	size_t len;    /* raw bytes up to the closing quote */
	uint64_t head; /* its first (up to) 8 raw bytes, for quick compares */
	int esc;       /* contains a backslash */
} json_key;

/* Hash index over the keys of one big object (open addressing). */
typedef struct json_kindex {
	struct json_kindex *prev; /* index of an enclosing big object */
	int depth;
	size_t cap, n;  /* cap is a power of two, n <= cap / 2 */
	size_t slot[];  /* key stack position + 1; 0 is empty */
} json_kindex;

typedef struct json_vctx {
	const char *s, *end;
	json_error *e;
	int rc;
	int depth;
	json_key *keys;   /* kstack, or malloc'd once it overflows */
	size_t nkeys, kcap;
	json_kindex *idx; /* innermost big object's index, or NULL */
	const char *want; /* json_validate_object()'s key, or NULL */
	size_t wantlen;
	int cap;          /* 0 none, 1 key seen, 2 in its value, 3 done */
	const char *cap_start, *cap_end;
	unsigned char kind[JSON_MAX_DEPTH + 1];
	size_t kbase[JSON_MAX_DEPTH + 1]; /* first key of each object */
	uint64_t bloom[JSON_MAX_DEPTH + 1]; /* a bit per key seen, see below */
	json_key kstack[JSON_VKEYS];
} json_vctx;

static const char *json_v_fail(json_vctx *c, const char *at, const char *msg)
{
	if (c->e) {
		c->e->offset = (size_t)(at - c->s);
		c->e->msg = msg;
	}
	c->rc = FERRY_EJSON;
	return NULL;
}

static const char *json_v_oom(json_vctx *c, const char *at)
{
	json_v_fail(c, at, "out of memory");
	c->rc = FERRY_ENOMEM;
	return NULL;
}

static inline const char *json_v_ws(const char *p, const char *end)
{
	while (p < end && (unsigned char)*p <= ' ' &&
	       (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/* ------------------------------------------------------------------ */
/* Strings                                                             */

/* The code point of the \u escape at p (p[0] is the backslash); -1 with
 * the error set if it is cut short or not hex. */
static long json_v_hex(json_vctx *c, const char *p)
{
	for (int i = 2; i < 6; i++) {
		if (p + i == c->end) {
			json_v_fail(c, c->end, "unterminated string");
			return -1;
		}
		if (!json_isxdigit((unsigned char)p[i])) {
			json_v_fail(c, p, "invalid \\u escape in string");
			return -1;
		}
	}
	return json_hex4(p + 2);
}

static int json_is_low(long cp) { return cp >= 0xDC00 && cp < 0xE000; }

/* Checks the escape at p (a backslash); returns the byte after it. */
static const char *json_v_escape(json_vctx *c, const char *p)
{
	if (c->end - p < 2)
		return json_v_fail(c, c->end, "unterminated string");
	switch (p[1]) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r':
	case 't':
		return p + 2;
	case 'u':
		break;
	default:
		return json_v_fail(c, p, "invalid escape in string");
	}
	long cp = json_v_hex(c, p);
	if (cp < 0)
		return NULL;
	if (json_is_low(cp))
		return json_v_fail(c, p, "lone surrogate in \\u escape");
	if (cp < 0xD800 || cp > 0xDBFF)
		return p + 6;
	const char *q = p + 6;
	if (q == c->end || (q[0] == '\\' && q + 1 == c->end))
		return json_v_fail(c, c->end, "unterminated string");
	if (q[0] != '\\' || q[1] != 'u')
		return json_v_fail(c, p, "lone surrogate in \\u escape");
	long lo = json_v_hex(c, q);
	if (lo < 0)
		return NULL;
	if (!json_is_low(lo))
		return json_v_fail(c, p, "lone surrogate in \\u escape");
	return q + 6;
}

static const char *json_v_utf8(json_vctx *c, const char *p)
{
	int n = json_utf8_seq((const unsigned char *)p,
			      (const unsigned char *)c->end);
	if (n > 0)
		return p + n;
	if (n < 0)
		return json_v_fail(c, c->end, "unterminated string");
	return json_v_fail(c, p, "invalid UTF-8 in string");
}

/* Checks the string whose opening quote is at p; returns the byte after
 * the closing quote and sets *esc if it contains escapes. */
static const char *json_v_string(json_vctx *c, const char *p, int *esc)
{
	const char *end = c->end;
	p++;
	for (;;) {
		p = json_skip_plain(p, end);
		if (p == end)
			return json_v_fail(c, end, "unterminated string");
		if (*p == '"')
			return p + 1;
		if (*p == '\\') {
			*esc = 1;
			p = json_v_escape(c, p);
		} else if ((unsigned char)*p < 0x20) {
			return json_v_fail(c, p, "control character in string");
		} else {
			p = json_v_utf8(c, p);
		}
		if (!p)
			return NULL;
	}
}

/* ------------------------------------------------------------------ */
/* Duplicate keys                                                      */

/* The first min(len, 8) bytes at p as a number (the same number however
 * it is computed: an 8-byte load when the input allows, else a loop). */
static inline uint64_t json_key_head(const char *p, size_t len,
				     const char *end)
{
	uint64_t h = 0;
	size_t n = len < 8 ? len : 8;
#if JSON_FAST_SCAN
	if (end - p >= 8) {
		memcpy(&h, p, 8);
		return n == 8 ? h : h & ((1ull << (8 * n)) - 1);
	}
#endif
	for (size_t i = 0; i < n; i++)
		h |= (uint64_t)(unsigned char)p[i] << (8 * i);
	return h;
}

static inline int json_key_eq(const json_key *a, const json_key *b)
{
	if (!a->esc && !b->esc)
		return a->len == b->len && a->head == b->head &&
		       (a->len <= 8 || memcmp(a->p + 8, b->p + 8, a->len - 8) == 0);
	return json_raw_eq(a->p, a->len, a->esc, b->p, b->len, b->esc);
}

/* Looks key k up in ix; if absent and `add` is a stack position + 1,
 * inserts it. Returns 1 if found. */
static int json_ix_probe(json_vctx *c, json_kindex *ix, const json_key *k,
			 size_t add)
{
	size_t mask = ix->cap - 1;
	size_t i = (size_t)json_raw_hash(k->p, k->len, k->esc) & mask;
	for (; ix->slot[i]; i = (i + 1) & mask) {
		if (json_key_eq(&c->keys[ix->slot[i] - 1], k))
			return 1;
	}
	if (add) {
		ix->slot[i] = add;
		ix->n++;
	}
	return 0;
}

/* Replaces the innermost object's index by one of `cap` slots (or makes
 * one) holding all its keys. 0 or -1 when out of memory. */
static int json_ix_build(json_vctx *c, size_t cap)
{
	json_kindex *old = c->idx && c->idx->depth == c->depth ? c->idx : NULL;
	json_kindex *ix = calloc(1, sizeof *ix + cap * sizeof(size_t));
	if (!ix)
		return -1;
	ix->prev = old ? old->prev : c->idx;
	ix->depth = c->depth;
	ix->cap = cap;
	for (size_t i = c->kbase[c->depth]; i < c->nkeys; i++)
		json_ix_probe(c, ix, &c->keys[i], i + 1);
	free(old);
	c->idx = ix;
	return 0;
}

static int json_v_pushkey(json_vctx *c, const json_key *k)
{
	if (c->nkeys == c->kcap) {
		size_t cap = c->kcap * 2;
		json_key *nk = c->keys == c->kstack ? malloc(cap * sizeof *nk)
			: realloc(c->keys, cap * sizeof *nk);
		if (!nk)
			return -1;
		if (c->keys == c->kstack)
			memcpy(nk, c->kstack, sizeof c->kstack);
		c->keys = nk;
		c->kcap = cap;
	}
	/* field by field: a struct copy becomes vector loads that stall on
	 * the scalar stores that just built *k */
	json_key *d = &c->keys[c->nkeys++];
	d->p = k->p;
	d->len = k->len;
	d->head = k->head;
	d->esc = k->esc;
	return 0;
}

/* One of 64 bits for a plain key. An object ORs the bits of its keys, so
 * a new plain key whose bit is clear cannot be a duplicate. A key with
 * escapes sets all bits (its decoded bytes would need hashing). */
static inline uint64_t json_key_bit(const json_key *k)
{
	if (k->esc)
		return ~(uint64_t)0;
	return (uint64_t)1 << (((k->head ^ k->len) * 0x9E3779B97F4A7C15ull) >> 58);
}

/* Records key k (opening quote at q) of the innermost object; fails on a
 * duplicate. */
static const char *json_v_addkey(json_vctx *c, const char *q, const json_key *k)
{
	size_t base = c->kbase[c->depth], n = c->nkeys - base;
	json_kindex *ix = c->idx && c->idx->depth == c->depth ? c->idx : NULL;
	uint64_t bit = json_key_bit(k);
	if (ix) {
		if (json_ix_probe(c, ix, k, 0))
			return json_v_fail(c, q, "duplicate key");
	} else if (c->bloom[c->depth] & bit) {
		for (size_t i = base; i < c->nkeys; i++)
			if (json_key_eq(&c->keys[i], k))
				return json_v_fail(c, q, "duplicate key");
	}
	c->bloom[c->depth] |= bit;
	if (json_v_pushkey(c, k))
		return json_v_oom(c, q);
	if (ix && (ix->n + 1) * 2 <= ix->cap)
		json_ix_probe(c, ix, k, c->nkeys);
	else if (ix || n + 1 > JSON_LINEAR)
		if (json_ix_build(c, ix ? ix->cap * 2 : 4 * JSON_LINEAR))
			return json_v_oom(c, q);
	return q;
}

/* ------------------------------------------------------------------ */
/* Structure                                                           */

/* Lexes the key at p (whitespace skipped) and the ':' after it. */
static const char *json_v_key(json_vctx *c, const char *p)
{
	json_key k = {p + 1, 0, 0, 0};
	if (p == c->end)
		return json_v_fail(c, p, "unexpected end of input");
	if (*p != '"')
		return json_v_fail(c, p, "expected a string key");
	const char *q = json_v_string(c, p, &k.esc);
	if (!q)
		return NULL;
	k.len = (size_t)(q - 1 - k.p);
	k.head = json_key_head(k.p, k.len, c->end);
	if (!json_v_addkey(c, p, &k))
		return NULL;
	if (c->want && c->depth == 1 && (k.esc || k.len == c->wantlen) &&
	    json_raw_eq(k.p, k.len, k.esc, c->want, c->wantlen, 0))
		c->cap = 1;
	q = json_v_ws(q, c->end);
	if (q == c->end)
		return json_v_fail(c, q, "unexpected end of input");
	if (*q != ':')
		return json_v_fail(c, q, "expected ':' after object key");
	return json_v_ws(q + 1, c->end);
}

static void json_v_close_object(json_vctx *c)
{
	json_kindex *ix = c->idx;
	if (ix && ix->depth == c->depth) {
		c->idx = ix->prev;
		free(ix);
	}
	c->nkeys = c->kbase[c->depth];
	c->depth--;
}

/* Opens the array or object at p. Returns where its first value starts
 * (*more = 1), or the byte after it if it is empty (*more = 0). */
static const char *json_v_open(json_vctx *c, const char *p, int *more)
{
	char close = *p == '{' ? '}' : ']';
	if (c->depth == JSON_MAX_DEPTH)
		return json_v_fail(c, p, "nesting too deep");
	c->depth++;
	c->kind[c->depth] = *p == '{' ? JSON_K_OBJ : JSON_K_ARR;
	c->kbase[c->depth] = c->nkeys;
	c->bloom[c->depth] = 0;
	p = json_v_ws(p + 1, c->end);
	if (p < c->end && *p == close) {
		c->depth--;
		*more = 0;
		return p + 1;
	}
	*more = 1;
	return close == '}' ? json_v_key(c, p) : p;
}

static const char *json_v_literal(json_vctx *c, const char *p)
{
	const char *lit = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
	size_t i;
	for (i = 1; lit[i]; i++) {
		if (p + i == c->end)
			return json_v_fail(c, c->end, "unexpected end of input");
		if (p[i] != lit[i])
			return json_v_fail(c, p + i, "invalid literal");
	}
	return p + i;
}

/* Lexes the value at p: a scalar whole, a container only opened. */
static const char *json_v_value(json_vctx *c, const char *p, int *more)
{
	const char *bad, *msg;
	*more = 0;
	if (p == c->end)
		return json_v_fail(c, p, "unexpected end of input");
	switch (*p) {
	case '"': {
		int esc = 0;
		return json_v_string(c, p, &esc);
	}
	case '{': case '[':
		return json_v_open(c, p, more);
	case 't': case 'f': case 'n':
		return json_v_literal(c, p);
	case '-': case '0': case '1': case '2': case '3': case '4': case '5':
	case '6': case '7': case '8': case '9':
		p = json_lex_number(p, c->end, &bad, &msg);
		return p ? p : json_v_fail(c, bad, msg);
	default:
		return json_v_fail(c, p, "expected a value");
	}
}

/* After a complete value at p: closes finished containers and returns
 * where the next value starts, or sets *done at the end of the root. */
static const char *json_v_next(json_vctx *c, const char *p, int *done)
{
	for (;;) {
		if (c->depth == 0) {
			*done = 1;
			return p;
		}
		if (c->cap == 2 && c->depth == 1) {
			c->cap_end = p;
			c->cap = 3;
		}
		p = json_v_ws(p, c->end);
		if (p == c->end)
			return json_v_fail(c, p, "unexpected end of input");
		if (c->kind[c->depth] == JSON_K_OBJ) {
			if (*p == ',')
				return json_v_key(c, json_v_ws(p + 1, c->end));
			if (*p != '}')
				return json_v_fail(c, p, "expected ',' or '}' after object member");
			json_v_close_object(c);
		} else {
			if (*p == ',')
				return json_v_ws(p + 1, c->end);
			if (*p != ']')
				return json_v_fail(c, p, "expected ',' or ']' after array element");
			c->depth--;
		}
		p++;
	}
}

static void json_v_init(json_vctx *c, const char *s, size_t n, json_error *e)
{
	c->s = s ? s : "";
	c->end = c->s + (s ? n : 0);
	c->e = e;
	c->rc = 0;
	c->depth = 0;
	c->keys = c->kstack;
	c->nkeys = 0;
	c->kcap = JSON_VKEYS;
	c->idx = NULL;
	c->want = NULL;
	c->wantlen = 0;
	c->cap = 0;
	c->kind[0] = JSON_K_ARR;
	c->kbase[0] = 0;
	c->bloom[0] = 0;
}

static int json_v_run(json_vctx *c, const char *p)
{
	int more, done = 0;
	while (!done) {
		if (c->cap == 1) {
			c->cap_start = p;
			c->cap = 2;
		}
		p = json_v_value(c, p, &more);
		if (p && !more)
			p = json_v_next(c, p, &done);
		if (!p)
			goto out;
	}
	p = json_v_ws(p, c->end);
	if (p != c->end)
		json_v_fail(c, p, "unexpected data after the value");
out:
	while (c->idx) {
		json_kindex *prev = c->idx->prev;
		free(c->idx);
		c->idx = prev;
	}
	if (c->keys != c->kstack)
		free(c->keys);
	return c->rc;
}

int json_validate(const char *s, size_t n, json_error *e)
{
	json_vctx c;
	json_v_init(&c, s, n, e);
	return json_v_run(&c, json_v_ws(c.s, c.end));
}

int json_validate_object(const char *s, size_t n, const char *key,
			 const char **val, size_t *vlen, json_error *e)
{
	json_vctx c;
	json_v_init(&c, s, n, e);
	c.want = key;
	c.wantlen = key ? strlen(key) : 0;
	const char *p = json_v_ws(c.s, c.end);
	if (p == c.end)
		json_v_fail(&c, p, "unexpected end of input");
	else if (*p != '{')
		json_v_fail(&c, p, "expected an object");
	if (c.rc || json_v_run(&c, p))
		return c.rc;
	if (val)
		*val = c.cap == 3 ? c.cap_start : NULL;
	if (vlen)
		*vlen = c.cap == 3 ? (size_t)(c.cap_end - c.cap_start) : 0;
	return 0;
}
