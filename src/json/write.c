/*
 * write.c - json_write(): a tree back to compact text. Numbers go out as
 * their lexemes, strings with the fewest escapes ('"', '\\', controls),
 * so parse -> write is byte-stable for compact input. Strings are checked
 * to be UTF-8 on the way, so what we write always parses again.
 */
#include <string.h>

#include "ferry/ferry.h"
#include "json/internal.h"

/* Makes room for n more bytes plus the NUL fbuf keeps. */
static inline int json_w_room(fbuf *b, size_t n)
{
	return b->cap - b->len > n ? 0 : fbuf_grow(b, n);
}

static inline int json_w_add(fbuf *b, const char *s, size_t n)
{
	int rc = json_w_room(b, n);
	if (rc)
		return rc;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

static inline int json_w_char(fbuf *b, char c)
{
	int rc = json_w_room(b, 1);
	if (rc)
		return rc;
	b->p[b->len++] = c;
	return 0;
}

static int json_w_escape(fbuf *b, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
	switch (c) {
	case '"': return json_w_add(b, "\\\"", 2);
	case '\\': return json_w_add(b, "\\\\", 2);
	case '\b': return json_w_add(b, "\\b", 2);
	case '\f': return json_w_add(b, "\\f", 2);
	case '\n': return json_w_add(b, "\\n", 2);
	case '\r': return json_w_add(b, "\\r", 2);
	case '\t': return json_w_add(b, "\\t", 2);
	default: return json_w_add(b, esc, 6);
	}
}

static int json_w_string(fbuf *b, const char *s, size_t n)
{
	size_t i = 0, run = 0;
	int rc = json_w_char(b, '"');
	while (!rc && i < n) {
		while (n - i >= 8 && json_plain8(s + i))
			i += 8;
		if (i == n)
			break;
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80) {
			int k = json_utf8_seq((const unsigned char *)s + i,
					      (const unsigned char *)s + n);
			if (k <= 0)
				return FERRY_EINVAL;
			i += (size_t)k;
		} else if (c >= 0x20 && c != '"' && c != '\\') {
			i++;
		} else {
			rc = json_w_add(b, s + run, i - run);
			if (!rc)
				rc = json_w_escape(b, c);
			run = ++i;
		}
	}
	if (!rc)
		rc = json_w_add(b, s + run, n - run);
	return rc ? rc : json_w_char(b, '"');
}

static int json_w_value(fbuf *b, const json_value *v, int depth);

static int json_w_array(fbuf *b, const json_value *v, int depth)
{
	int rc = json_w_char(b, '[');
	for (size_t i = 0; !rc && i < v->u.arr.n; i++) {
		if (i)
			rc = json_w_char(b, ',');
		if (!rc)
			rc = json_w_value(b, v->u.arr.v[i], depth + 1);
	}
	return rc ? rc : json_w_char(b, ']');
}

static int json_w_object(fbuf *b, const json_value *v, int depth)
{
	int rc = json_w_char(b, '{');
	for (size_t i = 0; !rc && i < v->u.obj.n; i++) {
		const json_member *m = &v->u.obj.m[i];
		if (i)
			rc = json_w_char(b, ',');
		if (!rc)
			rc = json_w_string(b, m->key, m->klen);
		if (!rc)
			rc = json_w_char(b, ':');
		if (!rc)
			rc = json_w_value(b, m->val, depth + 1);
	}
	return rc ? rc : json_w_char(b, '}');
}

static int json_w_value(fbuf *b, const json_value *v, int depth)
{
	if (!v)
		return FERRY_EINVAL;
	switch (v->type) {
	case JSON_NULL: return json_w_add(b, "null", 4);
	case JSON_FALSE: return json_w_add(b, "false", 5);
	case JSON_TRUE: return json_w_add(b, "true", 4);
	case JSON_NUMBER: return json_w_add(b, v->u.num.text, v->u.num.len);
	case JSON_STRING: return json_w_string(b, v->u.str.s, v->u.str.len);
	case JSON_ARRAY:
	case JSON_OBJECT:
		if (depth >= JSON_MAX_DEPTH)
			return FERRY_ELIMIT;
		return v->type == JSON_ARRAY ? json_w_array(b, v, depth)
					     : json_w_object(b, v, depth);
	}
	return FERRY_EINVAL;
}

int json_write(const json_value *v, fbuf *out)
{
	size_t start = out->len;
	int rc = json_w_value(out, v, 0);
	if (rc)
		out->len = start;
	if (out->p)
		out->p[out->len] = 0;
	return rc;
}
