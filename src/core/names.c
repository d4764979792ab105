/*
 * names.c - checks and splits tenant, index, alias and physical index
 * names and document ids, and matches ES-style index patterns (see
 * names.h). One place for these rules so every entry point (library, CLI,
 * HTTP) refuses the same names with the same message.
 */
#include "core/names.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/version.h"

#define SHOW_MAX 64 /* bytes of input quoted in a message */

#define PART_RULE                                                             \
	"use 1 to 63 characters: lowercase letters a-z, digits 0-9, '_' and " \
	"'-', starting with a letter or digit"

void fname_show(const char *s, size_t len, char *out, size_t n)
{
	size_t o = 0;

	if (n == 0)
		return;
	for (size_t i = 0; s && i < len; i++) {
		char piece[8];
		size_t pl;
		unsigned char c = (unsigned char)s[i];
		if (i == SHOW_MAX) {
			memcpy(piece, "...", 4);
			pl = 3;
		} else if (c >= 0x20 && c < 0x7f) {
			piece[0] = (char)c;
			pl = 1;
		} else {
			pl = (size_t)snprintf(piece, sizeof piece, "\\x%02x", c);
		}
		if (o + pl >= n)
			break;
		memcpy(out + o, piece, pl);
		o += pl;
		if (i == SHOW_MAX)
			break;
	}
	out[o] = '\0';
}

static int part_char_ok(int c, int first)
{
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return 1;
	return !first && (c == '_' || c == '-');
}

/* 1 if s[0..len) is a valid tenant or logical index name. */
static int part_ok(const char *s, size_t len)
{
	if (len == FNAME_FAILED_LEN && !memcmp(s, FNAME_FAILED, len))
		return 1; /* the reserved index of documents an upgrade skipped */
	if (len == 0 || len > FERRY_PART_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!part_char_ok((unsigned char)s[i], i == 0))
			return 0;
	return 1;
}

int fname_check_part(const char *s, const char *what, ferry_err *err)
{
	char shown[FNAME_SHOW_BUF];
	char c1[FNAME_SHOW_BUF];
	char what_name[48]; /* "tenant name", "index name" or "name" */

	snprintf(what_name, sizeof what_name, "%s%sname", what ? what : "",
		 what ? " " : "");
	what = what_name;
	if (!s || !*s)
		return ferry_err_set(err, FERRY_ENAME, "bad %s '': it is "
				     "empty; " PART_RULE, what);
	size_t len = strlen(s);
	fname_show(s, len, shown, sizeof shown);
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];
		if (part_char_ok(c, i == 0))
			continue;
		fname_show(s + i, 1, c1, sizeof c1);
		if (c >= 'A' && c <= 'Z')
			return ferry_err_set(err, FERRY_ENAME, "bad %s "
					     "'%s': character %zu '%c' is "
					     "uppercase; names are lowercase, "
					     "write '%c'", what, shown, i + 1,
					     c, c - 'A' + 'a');
		if (i == 0 && (c == '_' || c == '-'))
			return ferry_err_set(err, FERRY_ENAME, "bad %s "
					     "'%s': it starts with '%c'; names "
					     "start with a lowercase letter or "
					     "a digit", what, shown, c);
		if (c == '.')
			return ferry_err_set(err, FERRY_ENAME, "bad %s "
					     "'%s': character %zu '.' is not "
					     "allowed (a dot separates tenant "
					     "and index, as in acme.profile); "
					     PART_RULE, what, shown, i + 1);
		return ferry_err_set(err, FERRY_ENAME, "bad %s '%s': "
				     "character %zu '%s' is not allowed; "
				     PART_RULE, what, shown, i + 1, c1);
	}
	if (len > FERRY_PART_MAX)
		return ferry_err_set(err, FERRY_ENAME, "bad %s '%s': it "
				     "is %zu characters long; the limit is %d",
				     what, shown, len, FERRY_PART_MAX);
	return 0;
}

/* Returns the offset of the first byte of s[0..len) that does not start
 * or continue a valid UTF-8 sequence (no overlongs, surrogates or code
 * points above U+10FFFF), or len if all is valid. */
static size_t utf8_bad(const unsigned char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = p[i];
		unsigned lo = 0x80, hi = 0xbf;
		size_t need;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			if (c == 0xe0)
				lo = 0xa0; /* no overlongs */
			if (c == 0xed)
				hi = 0x9f; /* no surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			if (c == 0xf0)
				lo = 0x90; /* no overlongs */
			if (c == 0xf4)
				hi = 0x8f; /* <= U+10FFFF */
		} else {
			return i;
		}
		if (len - i <= need || p[i + 1] < lo || p[i + 1] > hi)
			return i;
		for (size_t k = 2; k <= need; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return i;
		i += need + 1;
	}
	return len;
}

/* Message for the first byte of an index name ES would refuse, or 0. */
static int physical_char(const char *s, size_t len, const char *shown,
			 ferry_err *err)
{
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];
		if (c >= 'A' && c <= 'Z')
			return ferry_err_set(err, FERRY_ENAME, "bad index name "
					     "'%s': character %zu '%c' is "
					     "uppercase; index names are "
					     "lowercase, write '%c'", shown,
					     i + 1, c, c - 'A' + 'a');
		if (c < 0x20 || c == 0x7f)
			return ferry_err_set(err, FERRY_ENAME, "bad index name "
					     "'%s': byte %zu (\\x%02x) is a "
					     "control character; remove it",
					     shown, i + 1, c);
		if (c && strchr("\\/*?\"<>|,#: ", c))
			return ferry_err_set(err, FERRY_ENAME, "bad index name "
					     "'%s': character %zu '%c' is not "
					     "allowed; index names cannot "
					     "contain \\ / * ? \" < > | , # : "
					     "or spaces", shown, i + 1, c);
	}
	size_t bad = utf8_bad((const unsigned char *)s, len);
	if (bad < len)
		return ferry_err_set(err, FERRY_ENAME, "bad index name '%s': "
				     "byte %zu (\\x%02x) is not valid UTF-8",
				     shown, bad + 1, (unsigned char)s[bad]);
	return 0;
}

int fname_check_physical(const char *s, ferry_err *err)
{
	char shown[FNAME_SHOW_BUF];

	if (!s || !*s)
		return ferry_err_set(err, FERRY_ENAME, "bad index name '': it "
				     "is empty; give 1 to %d bytes, like "
				     "acme.profile", FERRY_NAME_MAX);
	size_t len = strlen(s);
	fname_show(s, len, shown, sizeof shown);
	if (len > FERRY_NAME_MAX)
		return ferry_err_set(err, FERRY_ENAME, "bad index name '%s': it "
				     "is %zu bytes long; the limit is %d",
				     shown, len, FERRY_NAME_MAX);
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return ferry_err_set(err, FERRY_ENAME, "bad index name '%s': "
				     "'.' and '..' are not index names", shown);
	if (s[0] == '-' || s[0] == '_' || s[0] == '+')
		return ferry_err_set(err, FERRY_ENAME, "bad index name '%s': it "
				     "starts with '%c'; index names cannot "
				     "start with '-', '_' or '+'", shown, s[0]);
	return physical_char(s, len, shown, err);
}

int fname_check_id(const char *id, size_t len, ferry_err *err)
{
	char shown[FNAME_SHOW_BUF];

	if (!id || len == 0)
		return ferry_err_set(err, FERRY_ENAME, "bad document id '': it "
				     "is empty; give 1 to %d bytes of UTF-8",
				     FERRY_ID_MAX);
	const char *nul = NULL;
	size_t bad = len;
	if (len <= FERRY_ID_MAX) {
		nul = memchr(id, '\0', len);
		if (!nul)
			bad = utf8_bad((const unsigned char *)id, len);
		if (!nul && bad == len)
			return 0;
	}
	if (!err)
		return FERRY_ENAME;
	fname_show(id, len, shown, sizeof shown);
	if (len > FERRY_ID_MAX)
		return ferry_err_set(err, FERRY_ENAME, "bad document id '%s': "
				     "it is %zu bytes long; the limit is %d",
				     shown, len, FERRY_ID_MAX);
	if (nul)
		return ferry_err_set(err, FERRY_ENAME, "bad document id '%s': "
				     "byte %zu is a NUL byte; ids are UTF-8 "
				     "text without NUL", shown,
				     (size_t)(nul - id) + 1);
	return ferry_err_set(err, FERRY_ENAME, "bad document id '%s': byte "
			     "%zu (\\x%02x) is not valid UTF-8; ids are UTF-8 "
			     "text", shown, bad + 1, (unsigned char)id[bad]);
}

/* 1 if s[0..len) is a token fversion_token could have made. */
static int token_ok(const char *s, size_t len)
{
	char tok[FVERSION_BUF];
	fversion v;

	if (len == 0 || len >= sizeof tok)
		return 0;
	memcpy(tok, s, len);
	tok[len] = '\0';
	return fversion_parse_token(tok, &v, NULL) == 0;
}

int fname_parse(const char *name, fname_parts *out, ferry_err *err)
{
	fname_parts p;
	int rc = fname_check_physical(name, err);

	if (rc)
		return rc;
	memset(&p, 0, sizeof p);
	p.kind = FNAME_OTHER;
	size_t len = strlen(name);
	const char *d1 = strchr(name, '.');
	const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	const char *end = name + len;
	if (!d1) {
		if (part_ok(name, len)) {
			p.kind = FNAME_LOGICAL;
			memcpy(p.index, name, len + 1);
		}
	} else if (!d2) {
		size_t tl = (size_t)(d1 - name);
		size_t il = (size_t)(end - d1 - 1);
		if (part_ok(name, tl) && part_ok(d1 + 1, il)) {
			p.kind = FNAME_ALIAS;
			memcpy(p.tenant, name, tl);
			memcpy(p.index, d1 + 1, il);
		}
	} else if (!strchr(d2 + 1, '.')) {
		size_t vl = (size_t)(d1 - name);
		size_t tl = (size_t)(d2 - d1 - 1);
		size_t il = (size_t)(end - d2 - 1);
		if (token_ok(name, vl) && part_ok(d1 + 1, tl) &&
		    part_ok(d2 + 1, il)) {
			p.kind = FNAME_PHYSICAL;
			memcpy(p.vtoken, name, vl);
			memcpy(p.tenant, d1 + 1, tl);
			memcpy(p.index, d2 + 1, il);
		}
	}
	*out = p;
	return 0;
}

/* Joins the non-NULL pieces with '.' into out (n bytes), all or nothing. */
static int join(const char *a, const char *b, const char *c, char *out,
		size_t n)
{
	char tmp[FERRY_NAME_MAX + 1];
	int len = a ? snprintf(tmp, sizeof tmp, "%s.%s.%s", a, b, c)
		    : snprintf(tmp, sizeof tmp, "%s.%s", b, c);

	if (len < 0 || (size_t)len >= sizeof tmp)
		return FERRY_ENAME;
	if ((size_t)len >= n)
		return FERRY_ELIMIT;
	memcpy(out, tmp, (size_t)len + 1);
	return 0;
}

int fname_physical(const char *vtoken, const char *tenant, const char *index,
		   char *out, size_t n)
{
	if (!vtoken || !tenant || !index ||
	    !token_ok(vtoken, strnlen(vtoken, FVERSION_BUF)) ||
	    !part_ok(tenant, strnlen(tenant, FERRY_PART_MAX + 1)) ||
	    !part_ok(index, strnlen(index, FERRY_PART_MAX + 1)))
		return FERRY_ENAME;
	return join(vtoken, tenant, index, out, n);
}

int fname_alias(const char *tenant, const char *index, char *out, size_t n)
{
	if (!tenant || !index ||
	    !part_ok(tenant, strnlen(tenant, FERRY_PART_MAX + 1)) ||
	    !part_ok(index, strnlen(index, FERRY_PART_MAX + 1)))
		return FERRY_ENAME;
	return join(NULL, tenant, index, out, n);
}

/* 1 if s matches the single glob alternative p[0..pe). */
static int glob_one(const char *p, const char *pe, const char *s)
{
	const char *star = NULL;
	const char *retry = NULL;

	if (pe - p == 4 && !memcmp(p, "_all", 4))
		return 1;
	while (*s) {
		if (p < pe && *p == '*') {
			star = ++p;
			retry = s;
		} else if (p < pe && *p == '?') {
			p++;
			s++;
			while ((*s & 0xc0) == 0x80)
				s++;
		} else if (p < pe && *p == *s) {
			p++;
			s++;
		} else if (star) {
			p = star;
			s = ++retry;
		} else {
			return 0;
		}
	}
	while (p < pe && *p == '*')
		p++;
	return p == pe;
}

int fname_glob(const char *pattern, const char *s)
{
	return fname_glob2(pattern, s, NULL);
}

int fname_glob2(const char *pattern, const char *s, const char *s2)
{
	int in = 0;
	int first = 1;
	const char *p = pattern;

	if (!pattern || !*pattern)
		return 1;
	if (!s)
		s = "";
	for (;;) {
		const char *e = strchr(p, ',');
		if (!e)
			e = p + strlen(p);
		if (e > p) {
			int excl = *p == '-';
			if (first && excl)
				in = 1;
			first = 0;
			if (glob_one(p + excl, e, s) ||
			    (s2 && *s2 && glob_one(p + excl, e, s2)))
				in = !excl;
		}
		if (!*e)
			break;
		p = e + 1;
	}
	return in;
}
