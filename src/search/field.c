/*
 * field.c - how a query sees a document's fields: dotted paths walked the
 * way Elasticsearch indexes them (arrays flattened at every level, so
 * "tags.name" reaches {"tags":[{"name":"x"},{"name":"y"}]}; a key with a
 * dot, {"a.b":1}, is the same field as {"a":{"b":1}}; null is no value),
 * and the value orders every query shares: numbers exactly (integers up
 * to 64 bits), strings byte-wise, a string holding a number equal to that
 * number.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search/internal.h"

typedef struct fs_walk {
	fs_visit_fn fn;
	void *ctx;
	int seen;
	int strings_only; /* the ".keyword" fallback sees only strings */
} fs_walk;

static int fs_walk_leaf(fs_walk *w, const json_value *v)
{
	if (v->type == JSON_ARRAY) {
		for (size_t i = 0; i < v->u.arr.n; i++)
			if (fs_walk_leaf(w, v->u.arr.v[i]))
				return 1;
		return 0;
	}
	if (v->type == JSON_NULL)
		return 0;
	if (w->strings_only && v->type != JSON_STRING)
		return 0;
	w->seen = 1;
	return w->fn(w->ctx, v);
}

/* Walks the rest of the path p[0..n) below v. */
static int fs_walk_val(fs_walk *w, const json_value *v, const char *p,
		       size_t n)
{
	if (v->type == JSON_ARRAY) {
		for (size_t i = 0; i < v->u.arr.n; i++)
			if (fs_walk_val(w, v->u.arr.v[i], p, n))
				return 1;
		return 0;
	}
	if (v->type != JSON_OBJECT)
		return 0;
	for (size_t i = 0; i < v->u.obj.n; i++) {
		const json_member *m = &v->u.obj.m[i];
		if (m->klen > n || memcmp(m->key, p, m->klen) != 0)
			continue;
		if (m->klen == n) {
			if (fs_walk_leaf(w, m->val))
				return 1;
		} else if (p[m->klen] == '.') {
			size_t k = m->klen + 1;
			if (fs_walk_val(w, m->val, p + k, n - k))
				return 1;
		}
	}
	return 0;
}

int fs_field_visit(const json_value *doc, const fsq_field *f, fs_visit_fn fn,
		   void *ctx, int *seen)
{
	fs_walk w = {fn, ctx, 0, 0};
	int r = 0;

	if (doc)
		r = fs_walk_val(&w, doc, f->path, f->len);
	if (!r && !w.seen && f->kwlen && doc) {
		w.strings_only = 1;
		r = fs_walk_val(&w, doc, f->path, f->kwlen);
	}
	if (seen)
		*seen = w.seen;
	return r;
}

void fs_field_init(fsq_field *f, const char *path, size_t len)
{
	static const char kw[] = ".keyword";
	const size_t kl = sizeof kw - 1;

	f->path = path;
	f->len = len;
	f->is_id = len == 3 && memcmp(path, "_id", 3) == 0;
	f->kwlen = 0;
	if (len > kl && memcmp(path + len - kl, kw, kl) == 0)
		f->kwlen = len - kl;
}

/* Parses text[0..len) (a valid number lexeme) as a long double. */
static int fs_lexeme_num(const char *text, size_t len, long double *out)
{
	char small[80];
	if (len >= sizeof small) {
		/* a long lexeme: precision past 64 bits is moot */
		json_value v = {.type = JSON_NUMBER};
		double d;
		v.u.num.text = text;
		v.u.num.len = len;
		if (json_number_double(&v, &d))
			return -1;
		*out = d;
		return 0;
	}
	memcpy(small, text, len);
	small[len] = 0;
	long double d = strtold(small, NULL);
	if (!isfinite(d))
		return -1;
	*out = d;
	return 0;
}

int fs_num(const json_value *v, long double *out)
{
	if (!v || v->type != JSON_NUMBER)
		return -1;
	return fs_lexeme_num(v->u.num.text, v->u.num.len, out);
}

/* Length of the JSON number at s[0..len) if it spans all of it, else 0. */
static size_t fs_number_span(const char *s, size_t len)
{
	size_t i = 0;
	if (i < len && s[i] == '-')
		i++;
	if (i >= len || !isdigit((unsigned char)s[i]))
		return 0;
	if (s[i] == '0')
		i++;
	else
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
	if (i < len && s[i] == '.') {
		size_t d = ++i;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
		if (i == d)
			return 0;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t d = i;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
		if (i == d)
			return 0;
	}
	return i == len ? len : 0;
}

int fs_str_num(const char *s, size_t len, long double *out)
{
	if (!fs_number_span(s, len))
		return -1;
	return fs_lexeme_num(s, len, out);
}

int fs_bytes_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	size_t n = al < bl ? al : bl;
	int c = n ? memcmp(a, b, n) : 0;
	if (c)
		return c < 0 ? -1 : 1;
	return al < bl ? -1 : al > bl;
}

static unsigned char fs_fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

int fs_bytes_cmp_ci(const char *a, size_t al, const char *b, size_t bl)
{
	size_t n = al < bl ? al : bl;
	for (size_t i = 0; i < n; i++) {
		unsigned char x = fs_fold((unsigned char)a[i]);
		unsigned char y = fs_fold((unsigned char)b[i]);
		if (x != y)
			return x < y ? -1 : 1;
	}
	return al < bl ? -1 : al > bl;
}

int fs_numcmp(long double a, long double b)
{
	return a < b ? -1 : a > b;
}

int fs_has_value(const json_value *v)
{
	switch (v->type) {
	case JSON_NULL:
		return 0;
	case JSON_ARRAY:
		for (size_t i = 0; i < v->u.arr.n; i++)
			if (fs_has_value(v->u.arr.v[i]))
				return 1;
		return 0;
	case JSON_OBJECT:
		for (size_t i = 0; i < v->u.obj.n; i++)
			if (fs_has_value(v->u.obj.m[i].val))
				return 1;
		return 0;
	default:
		return 1;
	}
}

int fs_glob(const char *pat, size_t pl, const char *s, size_t sl)
{
	size_t p = 0, i = 0, star = (size_t)-1, mark = 0;

	while (i < sl) {
		if (p < pl && (pat[p] == '?' || (pat[p] != '*' && pat[p] == s[i]))) {
			p++;
			i++;
		} else if (p < pl && pat[p] == '*') {
			star = p++;
			mark = i;
		} else if (star != (size_t)-1) {
			p = star + 1;
			i = ++mark;
		} else {
			return 0;
		}
	}
	while (p < pl && pat[p] == '*')
		p++;
	return p == pl;
}
