/*
 * pretty.c - json_pretty(): a JSON text re-indented for people, as
 * Elasticsearch's `?pretty` does: two spaces a level, `"key" : value`,
 * `{ }` and `[ ]` for empty containers, a newline at the end. It works on
 * the text, token by token (after json_validate() has checked it), not on
 * a tree: numbers and strings go out byte for byte as they came, and no
 * arena is needed for a reply that is already written.
 */
#include <string.h>

#include "ferry/ferry.h"
#include "json/internal.h"

static size_t skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
			 s[i] == '\r'))
		i++;
	return i;
}

/* The index just past the string that opens at s[i] (a valid one). */
static size_t string_end(const char *s, size_t n, size_t i)
{
	for (i++; i < n && s[i] != '"'; i++)
		if (s[i] == '\\')
			i++;
	return i + 1;
}

/* The index just past the number or literal that starts at s[i]. */
static size_t scalar_end(const char *s, size_t n, size_t i)
{
	while (i < n && !strchr(",:]} \t\n\r", s[i]))
		i++;
	return i;
}

static int newline(fbuf *out, size_t depth)
{
	static const char spaces[] = "                                ";
	size_t want = 2 * depth;
	int rc = fbuf_addc(out, '\n');
	while (!rc && want) {
		size_t k = want < sizeof spaces - 1 ? want : sizeof spaces - 1;
		rc = fbuf_add(out, spaces, k);
		want -= k;
	}
	return rc;
}

/* One token at s[*i]: appends its pretty form, moves *i past it. */
static int token(const char *s, size_t n, size_t *i, size_t *depth,
		 fbuf *out)
{
	char c = s[*i];
	size_t j;
	int rc;
	switch (c) {
	case '{':
	case '[':
		j = skip_ws(s, n, *i + 1);
		if (s[j] == (c == '{' ? '}' : ']')) {
			*i = j + 1;
			return fbuf_adds(out, c == '{' ? "{ }" : "[ ]");
		}
		*i += 1;
		++*depth;
		rc = fbuf_addc(out, c);
		return rc ? rc : newline(out, *depth);
	case '}':
	case ']':
		*i += 1;
		--*depth;
		rc = newline(out, *depth);
		return rc ? rc : fbuf_addc(out, c);
	case ',':
		*i += 1;
		rc = fbuf_addc(out, ',');
		return rc ? rc : newline(out, *depth);
	case ':':
		*i += 1;
		return fbuf_adds(out, " : ");
	case '"':
		j = string_end(s, n, *i);
		break;
	default:
		j = scalar_end(s, n, *i);
		break;
	}
	rc = fbuf_add(out, s + *i, j - *i);
	*i = j;
	return rc;
}

int json_pretty(const char *s, size_t n, fbuf *out)
{
	size_t start = out->len, depth = 0, i = 0;
	int rc = json_validate(s, n, NULL);
	while (!rc && (i = skip_ws(s, n, i)) < n)
		rc = token(s, n, &i, &depth, out);
	if (!rc)
		rc = fbuf_addc(out, '\n');
	if (rc && out->p) { /* leave out as it was */
		out->len = start;
		out->p[start] = 0;
	}
	return rc;
}
