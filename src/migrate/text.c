/*
 * text.c - helpers for reading hop files and writing messages: a cursor
 * that walks a JSON text already accepted by json_validate() and gives
 * every value's byte offset (the DOM keeps none, and every load error must
 * say file:line:col), the offset -> line:col conversion, "file:line:col:"
 * errors, arena strings, short renderings of values for per-document
 * errors, and "did you mean" suggestions for misspelt keys.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "migrate/internal.h"

static const char *const opnames[FMIG_OPKIND_COUNT] = {
	"rename", "set", "remove", "default", "copy", "convert", "lua"};
static const char *const convnames[FMIG_CONV_COUNT] = {
	"string", "integer", "float", "boolean"};

const char *fmig_opname(fmig_opkind k)
{
	return (unsigned)k < FMIG_OPKIND_COUNT ? opnames[k] : "?";
}

const char *fmig_convname(fmig_conv c)
{
	return (unsigned)c < FMIG_CONV_COUNT ? convnames[c] : "?";
}

const char *fmig_type_name(json_type t)
{
	switch (t) {
	case JSON_NULL: return "null";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NUMBER: return "a number";
	case JSON_STRING: return "a string";
	case JSON_ARRAY: return "an array";
	default: return "an object";
	}
}

/* ------------------------------------------------------------------ */
/* Cursor                                                              */

static size_t fmig_ws(const fmig_src *src, size_t i)
{
	while (i < src->n && (src->s[i] == ' ' || src->s[i] == '\t' ||
			      src->s[i] == '\n' || src->s[i] == '\r'))
		i++;
	return i;
}

/* The byte after the string token starting at s[i] == '"'. */
static size_t fmig_skip_string(const fmig_src *src, size_t i)
{
	for (i++; i < src->n && src->s[i] != '"'; i++)
		if (src->s[i] == '\\')
			i++;
	return i + 1;
}

/* The byte after the value starting at s[i] (valid JSON). */
static size_t fmig_skip_value(const fmig_src *src, size_t i)
{
	const char *s = src->s;
	size_t depth = 0;
	if (s[i] == '"')
		return fmig_skip_string(src, i);
	if (s[i] != '{' && s[i] != '[') {
		while (i < src->n && !strchr(",}] \t\n\r", s[i]))
			i++;
		return i;
	}
	for (; i < src->n; i++) {
		if (s[i] == '"') {
			i = fmig_skip_string(src, i) - 1;
		} else if (s[i] == '{' || s[i] == '[') {
			depth++;
		} else if ((s[i] == '}' || s[i] == ']') && --depth == 0) {
			return i + 1;
		}
	}
	return i;
}

static json_type fmig_type_of(char c)
{
	switch (c) {
	case '{': return JSON_OBJECT;
	case '[': return JSON_ARRAY;
	case '"': return JSON_STRING;
	case 't': return JSON_TRUE;
	case 'f': return JSON_FALSE;
	case 'n': return JSON_NULL;
	default: return JSON_NUMBER;
	}
}

void fmig_tok_at(const fmig_src *src, size_t off, fmig_tok *t)
{
	off = fmig_ws(src, off);
	t->off = off;
	t->len = off < src->n ? fmig_skip_value(src, off) - off : 0;
	t->type = off < src->n ? fmig_type_of(src->s[off]) : JSON_NULL;
}

int fmig_obj_next(const fmig_src *src, size_t *pos, fmig_mem *m)
{
	size_t i = fmig_ws(src, *pos);
	if (i >= src->n || src->s[i] == '}')
		return 0;
	if (src->s[i] == ',')
		i = fmig_ws(src, i + 1);
	fmig_tok_at(src, i, &m->key);
	if (!(m->k = fmig_tok_str(src, &m->key, &m->klen)))
		return FERRY_ENOMEM;
	i = fmig_ws(src, m->key.off + m->key.len) + 1; /* past ':' */
	fmig_tok_at(src, i, &m->val);
	*pos = m->val.off + m->val.len;
	return 1;
}

size_t fmig_obj_count(const fmig_src *src, const fmig_tok *t)
{
	size_t i = t->off + 1, n = 0;
	for (;;) {
		i = fmig_ws(src, i);
		if (i >= src->n || src->s[i] == '}')
			return n;
		if (src->s[i] == ',')
			i = fmig_ws(src, i + 1);
		i = fmig_ws(src, fmig_skip_string(src, i)) + 1; /* key, ':' */
		i = fmig_skip_value(src, fmig_ws(src, i));
		n++;
	}
}

int fmig_arr_next(const fmig_src *src, size_t *pos, fmig_tok *t)
{
	size_t i = fmig_ws(src, *pos);
	if (i >= src->n || src->s[i] == ']')
		return 0;
	if (src->s[i] == ',')
		i++;
	fmig_tok_at(src, i, t);
	*pos = t->off + t->len;
	return 1;
}

json_value *fmig_tok_value(const fmig_src *src, const fmig_tok *t)
{
	json_value *v = NULL;
	if (json_parse(src->a, src->s + t->off, t->len, &v, NULL))
		return NULL;
	return v;
}

const char *fmig_tok_str(const fmig_src *src, const fmig_tok *t, size_t *len)
{
	json_value *v = fmig_tok_value(src, t);
	if (!v || v->type != JSON_STRING)
		return NULL;
	if (len)
		*len = v->u.str.len;
	return v->u.str.s;
}

/* ------------------------------------------------------------------ */
/* Positions and messages                                              */

void fmig_linecol(const char *s, size_t n, size_t off, size_t *line,
		  size_t *col)
{
	size_t l = 1, c = 1;
	if (off > n)
		off = n;
	for (size_t i = 0; i < off; i++) {
		if (s[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)s[i] & 0xC0) != 0x80 &&
			   s[i] != '\r') {
			c++;
		}
	}
	*line = l;
	*col = c;
}

int fmig_err_at(ferry_err *err, int code, const fmig_src *src, size_t off,
		const char *fmt, ...)
{
	char msg[sizeof err->msg];
	size_t line, col;
	va_list ap;
	if (!err)
		return code;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fmig_linecol(src->s, src->n, off, &line, &col);
	return ferry_err_set(err, code, "%s:%zu:%zu: %s", src->path, line,
			     col, msg);
}

char *fmig_aprintf(json_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *p = n >= 0 ? json_arena_alloc(a, (size_t)n + 1) : NULL;
	if (p) {
		va_start(ap, fmt);
		vsnprintf(p, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	return p;
}

char *fmig_strdup(json_arena *a, const char *s)
{
	return fmig_aprintf(a, "%s", s);
}

const char *fmig_where(const fmig_src *src, size_t off)
{
	size_t line, col;
	fmig_linecol(src->s, src->n, off, &line, &col);
	return fmig_aprintf(src->a, "%s:%zu:%zu", src->path, line, col);
}

/* v's text as json_write() makes it from a parsed tree: raw nodes (from
 * json_parse_lazy) keep their escapes as stored, so they are parsed and
 * written again; a message must not depend on how a document was read. */
static int fmig_canonical(const json_value *v, fbuf *out)
{
	fbuf raw = FBUF_INIT;
	json_arena *a = NULL;
	json_value *w;
	int rc = json_write(v, &raw);
	if (!rc && !(a = json_arena_new()))
		rc = FERRY_ENOMEM;
	if (!rc)
		rc = json_parse(a, raw.p, raw.len, &w, NULL);
	if (!rc)
		rc = json_write(w, out);
	json_arena_free(a);
	fbuf_release(&raw);
	return rc;
}

void fmig_show(const json_value *v, char *buf, size_t n)
{
	fbuf b = FBUF_INIT;
	if (!n)
		return;
	if (fmig_canonical(v, &b) || !b.p) {
		snprintf(buf, n, "(a value)");
	} else if (b.len < n && b.len <= 60) {
		snprintf(buf, n, "%s", b.p);
	} else {
		size_t keep = n - 4 < 57 ? n - 4 : 57;
		while (keep && ((unsigned char)b.p[keep] & 0xC0) == 0x80)
			keep--; /* do not cut a UTF-8 character */
		snprintf(buf, n, "%.*s...", (int)keep, b.p);
	}
	fbuf_release(&b);
}

/* Levenshtein distance of short strings; large if either is long. */
static size_t fmig_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[33];
	if (la > 32 || lb > 32)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *fmig_suggest(const char *s, const char *const *names,
			 size_t count)
{
	const char *best = NULL;
	size_t bestd = 3;
	for (size_t i = 0; i < count; i++) {
		size_t d = fmig_distance(s, names[i]);
		if (d < bestd && d < strlen(names[i])) {
			best = names[i];
			bestd = d;
		}
	}
	return best;
}
