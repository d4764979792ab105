/*
 * write.c - json_write(): a tree back to compact text. Numbers go out as
 * their lexemes, strings with the fewest escapes ('"', '\\', controls),
 * so parse -> write is byte-stable for compact input. Strings are checked
 * to be UTF-8 on the way, so what we write always parses again.
 *
 * The output cursor travels as a plain `char *` argument and return value
 * (kept in a register) and the buffer's length is synced only when it has
 * to grow: going through fbuf for every byte was half the writer's time.
 */
#include <string.h>

#include "ferry/ferry.h"
#include "json/internal.h"

typedef struct json_w {
	fbuf *b;
	char *end; /* b->p + b->cap - 1: the NUL byte stays reserved */
	int rc;
} json_w;

/* Grows the buffer so that n bytes fit at o; returns the moved o, or
 * NULL with w->rc set. */
static char *json_w_grow(json_w *w, char *o, size_t n)
{
	fbuf *b = w->b;
	b->len = (size_t)(o - b->p);
	if ((w->rc = fbuf_grow(b, n)))
		return NULL;
	w->end = b->p + b->cap - 1;
	return b->p + b->len;
}

static inline char *json_w_room(json_w *w, char *o, size_t n)
{
	return (size_t)(w->end - o) >= n ? o : json_w_grow(w, o, n);
}

/* memcpy, with short copies (most keys, strings and numbers) done
 * inline by two overlapping moves instead of a library call. */
static inline void json_w_copy(char *o, const char *s, size_t n)
{
	if (n >= 8 && n <= 16) {
		uint64_t a, b;
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(o, &a, 8);
		memcpy(o + n - 8, &b, 8);
	} else if (n >= 4 && n < 8) {
		uint32_t a, b;
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		memcpy(o, &a, 4);
		memcpy(o + n - 4, &b, 4);
	} else if (n < 4) {
		for (size_t i = 0; i < n; i++)
			o[i] = s[i];
	} else {
		memcpy(o, s, n);
	}
}

static inline char *json_w_put(json_w *w, char *o, const char *s, size_t n)
{
	if (!(o = json_w_room(w, o, n)))
		return NULL;
	json_w_copy(o, s, n);
	return o + n;
}

static char *json_w_escape(json_w *w, char *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	static const char short_esc[32] = {
		['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
	};
	if (!(o = json_w_room(w, o, 6)))
		return NULL;
	*o++ = '\\';
	if (c == '"' || c == '\\') {
		*o++ = (char)c;
	} else if (short_esc[c]) {
		*o++ = short_esc[c];
	} else {
		memcpy(o, "u00", 3);
		o[3] = hex[c >> 4];
		o[4] = hex[c & 15];
		o += 5;
	}
	return o;
}

static char *json_w_string(json_w *w, char *o, const char *s, size_t n)
{
	const char *p = s, *run = s, *end = s + n;
	if (!(o = json_w_room(w, o, n + 2))) /* enough unless escapes */
		return NULL;
	*o++ = '"';
	for (;;) {
		p = json_skip_plain(p, end);
		if (p == end)
			break;
		if ((unsigned char)*p >= 0x80) {
			int k = json_utf8_seq((const unsigned char *)p,
					      (const unsigned char *)end);
			if (k <= 0) {
				w->rc = FERRY_EINVAL;
				return NULL;
			}
			p += k;
			continue;
		}
		if (!(o = json_w_put(w, o, run, (size_t)(p - run))) ||
		    !(o = json_w_escape(w, o, (unsigned char)*p)))
			return NULL;
		run = ++p;
	}
	if (!(o = json_w_room(w, o, (size_t)(end - run) + 1)))
		return NULL;
	json_w_copy(o, run, (size_t)(end - run));
	o += end - run;
	*o++ = '"';
	return o;
}

static char *json_w_value(json_w *w, char *o, const json_value *v, int depth);

static char *json_w_array(json_w *w, char *o, const json_value *v, int depth)
{
	if (!(o = json_w_room(w, o, 1)))
		return NULL;
	*o++ = '[';
	for (size_t i = 0; i < v->u.arr.n; i++) {
		if (i && (o = json_w_room(w, o, 1)))
			*o++ = ',';
		if (!o || !(o = json_w_value(w, o, v->u.arr.v[i], depth + 1)))
			return NULL;
	}
	if (!(o = json_w_room(w, o, 1)))
		return NULL;
	*o++ = ']';
	return o;
}

static char *json_w_object(json_w *w, char *o, const json_value *v, int depth)
{
	if (!(o = json_w_room(w, o, 1)))
		return NULL;
	*o++ = '{';
	for (size_t i = 0; i < v->u.obj.n; i++) {
		const json_member *m = &v->u.obj.m[i];
		if (i && (o = json_w_room(w, o, 1)))
			*o++ = ',';
		if (!o || !(o = json_w_string(w, o, m->key, m->klen)) ||
		    !(o = json_w_room(w, o, 1)))
			return NULL;
		*o++ = ':';
		if (!(o = json_w_value(w, o, m->val, depth + 1)))
			return NULL;
	}
	if (!(o = json_w_room(w, o, 1)))
		return NULL;
	*o++ = '}';
	return o;
}

static char *json_w_value(json_w *w, char *o, const json_value *v, int depth)
{
	if (!v) {
		w->rc = FERRY_EINVAL;
		return NULL;
	}
	/* an if-chain, most frequent first: cheaper than a jump table */
	if (v->type == JSON_STRING)
		return json_w_string(w, o, v->u.str.s, v->u.str.len);
	if (v->type == JSON_NUMBER)
		return json_w_put(w, o, v->u.num.text, v->u.num.len);
	if (v->type == JSON_OBJECT || v->type == JSON_ARRAY) {
		if (depth >= JSON_MAX_DEPTH) {
			w->rc = FERRY_ELIMIT;
			return NULL;
		}
		return v->type == JSON_OBJECT ? json_w_object(w, o, v, depth)
					      : json_w_array(w, o, v, depth);
	}
	if (v->type == JSON_RAW) {
		if (v->u.raw.depth && depth + v->u.raw.depth > JSON_MAX_DEPTH) {
			w->rc = FERRY_ELIMIT;
			return NULL;
		}
		return json_w_put(w, o, v->u.raw.text, v->u.raw.len);
	}
	if (v->type == JSON_TRUE)
		return json_w_put(w, o, "true", 4);
	if (v->type == JSON_FALSE)
		return json_w_put(w, o, "false", 5);
	if (v->type == JSON_NULL)
		return json_w_put(w, o, "null", 4);
	w->rc = FERRY_EINVAL;
	return NULL;
}

int json_write(const json_value *v, fbuf *out)
{
	size_t start = out->len;
	json_w w = {out, NULL, fbuf_grow(out, 0)};
	char *o = NULL;
	if (!w.rc) {
		w.end = out->p + out->cap - 1;
		o = json_w_value(&w, out->p + out->len, v, 0);
	}
	if (o)
		out->len = (size_t)(o - out->p);
	else
		out->len = start;
	if (out->p)
		out->p[out->len] = 0;
	return w.rc;
}
