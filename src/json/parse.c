/*
 * parse.c - json_parse(): copy the text into the arena, validate the copy
 * (validate.c decides what is JSON), then build the tree from it without
 * checking again. Unescaped strings and number lexemes point into that
 * copy and strings with escapes are decoded in place, so a document costs
 * one memcpy plus its nodes. Children gather on scratch stacks kept in
 * the arena, and each array or object gets an exact-size array when it
 * closes.
 */
#include <stdlib.h>
#include <string.h>

#include "ferry/ferry.h"
#include "json/internal.h"

#define JSON_PAD 8 /* zero bytes after the copy: 8-byte loads stay inside */

typedef struct json_bframe {
	json_value *v;
	size_t base; /* its first child on the scratch stack */
} json_bframe;

typedef struct json_bctx {
	json_arena *a;
	size_t nv, nm; /* tops of a->sv and a->sm */
	int depth;
	json_bframe fr[JSON_MAX_DEPTH + 1];
} json_bctx;

static inline char *json_b_ws(char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
		p++;
	return p;
}

/* The first '"' or '\\' at or after p (the text was validated, and the
 * padding keeps 8-byte loads inside the copy). */
static inline char *json_b_find_qb(char *p)
{
	for (;; p += 8) {
		uint64_t m = json_qb8(p);
		if (m) {
#if JSON_FAST_SCAN
			return p + (__builtin_ctzll(m) >> 3);
#else
			while (*p != '"' && *p != '\\')
				p++;
			return p;
#endif
		}
	}
}

/* Decodes the string whose opening quote is at p, in place, and
 * NUL-terminates it over its closing quote. Returns the byte after it. */
static char *json_b_string(char *p, const char **s, size_t *len)
{
	char *start = ++p;
	int esc = 0;
	for (;;) {
		p = json_b_find_qb(p);
		if (*p == '"')
			break;
		esc = 1;
		p += 2; /* the escaped byte may be '"' or '\\' */
	}
	size_t raw = (size_t)(p - start);
	*len = esc ? json_decode(start, start, raw) : raw;
	start[*len] = 0;
	*s = start;
	return p + 1;
}

static inline int json_numch(unsigned char c)
{
	return json_isdigit(c) || c == '-' || c == '+' || c == '.' ||
	       c == 'e' || c == 'E';
}

static int json_b_grow(void **p, size_t *cap, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 256;
	if (ncap > SIZE_MAX / size)
		return -1;
	void *np = realloc(*p, ncap * size);
	if (!np)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

/* Pushes a member for the key at p and returns where its value starts. */
static char *json_b_key(json_bctx *c, char *p)
{
	json_arena *a = c->a;
	if (c->nm == a->sm_cap &&
	    json_b_grow((void **)&a->sm, &a->sm_cap, sizeof *a->sm))
		return NULL;
	json_member *m = &a->sm[c->nm++];
	m->val = NULL;
	p = json_b_string(p, &m->key, &m->klen);
	p = json_b_ws(p);
	return json_b_ws(p + 1); /* past ':' */
}

/* Moves the children of the container of frame f into the arena. */
static int json_b_close(json_bctx *c, json_bframe *f)
{
	json_value *v = f->v;
	if (v->type == JSON_ARRAY) {
		size_t n = c->nv - f->base;
		json_value **arr = json_arena_node(c->a, n * sizeof *arr);
		if (!arr)
			return -1;
		memcpy(arr, c->a->sv + f->base, n * sizeof *arr);
		v->u.arr.v = arr;
		v->u.arr.n = v->u.arr.cap = n;
		c->nv = f->base;
	} else {
		size_t n = c->nm - f->base;
		json_member *m = json_arena_node(c->a, n * sizeof *m);
		if (!m)
			return -1;
		memcpy(m, c->a->sm + f->base, n * sizeof *m);
		v->u.obj.m = m;
		v->u.obj.n = v->u.obj.cap = n;
		c->nm = f->base;
	}
	return 0;
}

/* Opens the container v at p. Returns where its first value starts, or
 * sets *empty and returns the byte after it. */
static char *json_b_open(json_bctx *c, json_value *v, char *p, int *empty)
{
	int obj = *p == '{';
	v->type = obj ? JSON_OBJECT : JSON_ARRAY;
	p = json_b_ws(p + 1);
	*empty = *p == '}' || *p == ']';
	if (*empty) {
		memset(&v->u, 0, sizeof v->u);
		return p + 1;
	}
	json_bframe *f = &c->fr[++c->depth];
	f->v = v;
	f->base = obj ? c->nm : c->nv;
	return obj ? json_b_key(c, p) : p;
}

/* Lexes the value at p into v. Sets *more if it opened a container. */
static char *json_b_value(json_bctx *c, json_value *v, char *p, int *more)
{
	*more = 0;
	switch (*p) {
	case '{': case '[': {
		int empty;
		p = json_b_open(c, v, p, &empty);
		*more = !empty;
		return p;
	}
	case '"':
		v->type = JSON_STRING;
		return json_b_string(p, &v->u.str.s, &v->u.str.len);
	case 't': v->type = JSON_TRUE; return p + 4;
	case 'f': v->type = JSON_FALSE; return p + 5;
	case 'n': v->type = JSON_NULL; return p + 4;
	default:
		v->type = JSON_NUMBER;
		v->u.num.text = p;
		while (json_numch((unsigned char)*p))
			p++;
		v->u.num.len = (size_t)(p - v->u.num.text);
		return p;
	}
}

/* Hands the finished value v to its parent, closing every container
 * that ends here. Returns where the next value starts, or NULL with
 * *root set when the root is complete (or *root NULL: out of memory). */
static char *json_b_next(json_bctx *c, char *p, json_value *v,
			 json_value **root)
{
	json_arena *a = c->a;
	*root = NULL;
	while (c->depth > 0) {
		json_bframe *f = &c->fr[c->depth];
		if (f->v->type == JSON_OBJECT) {
			a->sm[c->nm - 1].val = v;
		} else {
			if (c->nv == a->sv_cap &&
			    json_b_grow((void **)&a->sv, &a->sv_cap, sizeof *a->sv))
				return NULL;
			a->sv[c->nv++] = v;
		}
		p = json_b_ws(p);
		if (*p++ == ',') {
			p = json_b_ws(p);
			return f->v->type == JSON_OBJECT ? json_b_key(c, p) : p;
		}
		if (json_b_close(c, f))
			return NULL;
		v = f->v;
		c->depth--;
	}
	*root = v;
	return NULL;
}

/* Builds the tree of the validated text at p. */
static int json_build(json_arena *a, char *p, json_value **out)
{
	json_bctx c;
	json_value *v, *root = NULL;
	int more;
	c.a = a;
	c.nv = c.nm = 0;
	c.depth = 0;
	for (;;) {
		v = json_arena_node(a, sizeof *v);
		if (!v)
			return FERRY_ENOMEM;
		p = json_b_value(&c, v, json_b_ws(p), &more);
		if (!p)
			return FERRY_ENOMEM;
		if (more)
			continue;
		p = json_b_next(&c, p, v, &root);
		if (root)
			break;
		if (!p)
			return FERRY_ENOMEM;
	}
	*out = root;
	return 0;
}

int json_parse(json_arena *a, const char *s, size_t n, json_value **out,
	       json_error *e)
{
	if (n > SIZE_MAX - JSON_PAD)
		return FERRY_ENOMEM;
	char *copy = json_arena_bytes(a, n + JSON_PAD);
	if (!copy)
		return FERRY_ENOMEM;
	if (n)
		memcpy(copy, s, n);
	memset(copy + n, 0, JSON_PAD);
	int rc = json_validate(copy, n, e);
	if (rc) {
		if (a->cur == copy + n + JSON_PAD)
			a->cur = copy; /* give the copy back */
		return rc;
	}
	return json_build(a, copy, out);
}
