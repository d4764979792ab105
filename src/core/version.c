/*
 * version.c - release versions: parse, compare, data version, index-name
 * token and upgrade classification (see version.h for the rules). Kept
 * free of any storage so the CLI, the server's start-up check and the
 * planner all decide "minor, major or downgrade" the same way.
 */
#include "core/version.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/names.h"

#define EXPECTED                                                              \
	"expected 1 to 4 dot-separated numbers like 0.8.1 or 0.8.1.3, "       \
	"optionally with a suffix like -dev"

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

static int to_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Fills `err` with "bad version '<s>': <reason>" and returns
 * FERRY_EVERSION. */
static int bad(ferry_err *err, const char *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(ferry_err *err, const char *s, const char *fmt, ...)
{
	char shown[FNAME_SHOW_BUF];
	char reason[sizeof err->msg];
	va_list ap;

	if (!err)
		return FERRY_EVERSION;
	fname_show(s, s ? strnlen(s, 128) : 0, shown, sizeof shown);
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	return ferry_err_set(err, FERRY_EVERSION, "bad version '%s': %s",
			     shown, reason);
}

/* Parses one number s[0..len) as part `k` (1-based) of version `whole`. */
static int parse_number(const char *whole, const char *s, size_t len,
			unsigned k, uint32_t *out, ferry_err *err)
{
	char part[FNAME_SHOW_BUF];
	uint64_t v = 0;

	if (len == 0)
		return bad(err, whole, "part %u is empty; " EXPECTED, k);
	fname_show(s, len, part, sizeof part);
	for (size_t i = 0; i < len; i++)
		if (!is_digit(s[i]))
			return bad(err, whole, "part %u '%s' is not a number; "
				   EXPECTED, k, part);
	if (len > 1 && s[0] == '0') {
		size_t z = 0;
		while (z < len - 1 && s[z] == '0')
			z++;
		return bad(err, whole, "part %u '%s' has a leading zero; "
			   "write %.*s", k, part, (int)(len - z), s + z);
	}
	for (size_t i = 0; i < len; i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX)
			return bad(err, whole, "part %u '%s' is larger than "
				   "%" PRIu32, k, part, UINT32_MAX);
	}
	*out = (uint32_t)v;
	return 0;
}

/* Parses the numbers s[0..len) into v->n and v->parts. */
static int parse_numbers(const char *s, size_t len, fversion *v,
			 ferry_err *err)
{
	unsigned parts = 1;

	for (size_t i = 0; i < len; i++)
		if (s[i] == '.')
			parts++;
	if (parts > FVERSION_MAX_PARTS)
		return bad(err, s, "it has %u numbers; at most %d are allowed, "
			   "like 0.8.1.3", parts, FVERSION_MAX_PARTS);
	const char *p = s;
	const char *end = s + len;
	for (unsigned k = 0; k < parts; k++) {
		const char *e = memchr(p, '.', (size_t)(end - p));
		if (!e)
			e = end;
		int rc = parse_number(s, p, (size_t)(e - p), k + 1, &v->n[k],
				      err);
		if (rc)
			return rc;
		p = e + 1;
	}
	v->parts = parts;
	return 0;
}

/* Checks and stores the suffix `suf` (after the first '-') of `whole`. */
static int parse_suffix(const char *whole, const char *suf, fversion *v,
			ferry_err *err)
{
	size_t len = strlen(suf);
	char c1[FNAME_SHOW_BUF];

	if (len == 0)
		return bad(err, whole, "the suffix after '-' is empty; write "
			   "e.g. %.*s-dev, or drop the '-'",
			   (int)(suf - 1 - whole), whole);
	for (size_t i = 0; i < len; i++) {
		if (is_alnum(suf[i]) || suf[i] == '.' || suf[i] == '-')
			continue;
		fname_show(suf + i, 1, c1, sizeof c1);
		return bad(err, whole, "suffix character %zu '%s' is not "
			   "allowed; a suffix uses letters, digits, '.' and "
			   "'-', like -dev or -rc.1", i + 1, c1);
	}
	const char *p = suf;
	const char *end = suf + len;
	while (p <= end) {
		const char *e = memchr(p, '.', (size_t)(end - p));
		if (!e)
			e = end;
		size_t n = (size_t)(e - p);
		size_t digits = 0;
		while (digits < n && is_digit(p[digits]))
			digits++;
		if (n == 0)
			return bad(err, whole, "the suffix has an empty part "
				   "(a dot at its start or end, or two in a "
				   "row); write it like -rc.1");
		if (digits == n && n > 1 && p[0] == '0')
			return bad(err, whole, "suffix part '%.*s' has a "
				   "leading zero; drop it", (int)n, p);
		p = e + 1;
	}
	if (len > FVERSION_SUFFIX_MAX)
		return bad(err, whole, "the suffix is %zu characters long; the "
			   "limit is %d", len, FVERSION_SUFFIX_MAX);
	for (size_t i = 0; i < len; i++)
		v->suffix[i] = (char)to_lower(suf[i]);
	v->suffix[len] = '\0';
	return 0;
}

int fversion_parse(const char *s, fversion *out, ferry_err *err)
{
	fversion v;
	size_t len;

	memset(&v, 0, sizeof v);
	if (!s || !*s)
		return bad(err, "", "it is empty; " EXPECTED);
	len = strnlen(s, FVERSION_LEN_MAX + 1);
	if (len > FVERSION_LEN_MAX)
		return bad(err, s, "it is %zu characters long; the limit is %d",
			   strlen(s), FVERSION_LEN_MAX);
	for (size_t i = 0; i < len; i++)
		if (is_space(s[i]))
			return bad(err, s, "it has whitespace at character "
				   "%zu; remove it", i + 1);
	if ((s[0] == 'v' || s[0] == 'V') && is_digit(s[1]))
		return bad(err, s, "drop the leading '%c'; versions are "
			   "written like 0.8.1", s[0]);
	if (s[0] == '+' || s[0] == '-')
		return bad(err, s, "it starts with '%c'; " EXPECTED, s[0]);

	const char *dash = strchr(s, '-');
	int rc = parse_numbers(s, dash ? (size_t)(dash - s) : len, &v, err);
	if (rc)
		return rc;
	if (dash) {
		rc = parse_suffix(s, dash + 1, &v, err);
		if (rc)
			return rc;
	}
	*out = v;
	return 0;
}

static int sign(int c)
{
	return (c > 0) - (c < 0);
}

static int all_digits(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return 0;
	return 1;
}

/* Compares two suffix identifiers like semver pre-release identifiers. */
static int cmp_ident(const char *a, size_t al, const char *b, size_t bl)
{
	int an = all_digits(a, al);
	int bn = all_digits(b, bl);

	if (an && bn) {
		while (al > 1 && *a == '0')
			a++, al--;
		while (bl > 1 && *b == '0')
			b++, bl--;
		if (al != bl)
			return al < bl ? -1 : 1;
		return sign(memcmp(a, b, al));
	}
	if (an != bn)
		return an ? -1 : 1;
	int c = memcmp(a, b, al < bl ? al : bl);
	if (c)
		return sign(c);
	return al == bl ? 0 : (al < bl ? -1 : 1);
}

static int cmp_suffix(const char *a, const char *b)
{
	const char *ae = a + strnlen(a, sizeof ((fversion *)0)->suffix);
	const char *be = b + strnlen(b, sizeof ((fversion *)0)->suffix);

	for (;;) {
		if (a > ae && b > be)
			return 0;
		if (a > ae)
			return -1;
		if (b > be)
			return 1;
		const char *ad = memchr(a, '.', (size_t)(ae - a));
		const char *bd = memchr(b, '.', (size_t)(be - b));
		if (!ad)
			ad = ae;
		if (!bd)
			bd = be;
		int c = cmp_ident(a, (size_t)(ad - a), b, (size_t)(bd - b));
		if (c)
			return c;
		a = ad + 1;
		b = bd + 1;
	}
}

int fversion_cmp(const fversion *a, const fversion *b)
{
	for (unsigned i = 0; i < FVERSION_MAX_PARTS; i++) {
		uint32_t x = i < a->parts ? a->n[i] : 0;
		uint32_t y = i < b->parts ? b->n[i] : 0;
		if (x != y)
			return x < y ? -1 : 1;
	}
	int as = a->suffix[0] != '\0';
	int bs = b->suffix[0] != '\0';
	if (as != bs)
		return as ? -1 : 1;
	if (!as)
		return 0;
	return cmp_suffix(a->suffix, b->suffix);
}

void fversion_data(const fversion *v, unsigned data_parts, fversion *out)
{
	fversion d;

	if (data_parts == 0)
		data_parts = FVERSION_DATA_PARTS_DEFAULT;
	if (data_parts > FVERSION_MAX_PARTS)
		data_parts = FVERSION_MAX_PARTS;
	memset(&d, 0, sizeof d);
	for (unsigned i = 0; i < data_parts; i++)
		d.n[i] = i < v->parts ? v->n[i] : 0;
	d.parts = data_parts;
	memcpy(d.suffix, v->suffix, sizeof d.suffix);
	d.suffix[sizeof d.suffix - 1] = '\0';
	*out = d;
}

/* Writes v as a version (sep '.') or as a token ('v' prefix, sep '_',
 * dots in the suffix as '_'). */
static int put_version(const fversion *v, int token, char *buf, size_t n)
{
	char tmp[128];
	size_t len = 0;
	const char *sep = token ? "_" : ".";

	if (v->parts < 1 || v->parts > FVERSION_MAX_PARTS)
		return FERRY_EINVAL;
	if (token)
		tmp[len++] = 'v';
	for (unsigned i = 0; i < v->parts; i++)
		len += (size_t)snprintf(tmp + len, sizeof tmp - len,
					"%s%" PRIu32, i ? sep : "", v->n[i]);
	size_t sl = strnlen(v->suffix, sizeof v->suffix - 1);
	if (sl) {
		tmp[len++] = '-';
		for (size_t i = 0; i < sl; i++)
			tmp[len++] = (token && v->suffix[i] == '.')
					     ? '_' : v->suffix[i];
	}
	tmp[len] = '\0';
	if (len >= n)
		return FERRY_ELIMIT;
	memcpy(buf, tmp, len + 1);
	return 0;
}

int fversion_format(const fversion *v, char *buf, size_t n)
{
	return put_version(v, 0, buf, n);
}

int fversion_token(const fversion *data, char *buf, size_t n)
{
	return put_version(data, 1, buf, n);
}

int fversion_parse_token(const char *tok, fversion *out, ferry_err *err)
{
	char shown[FNAME_SHOW_BUF];
	char text[FVERSION_BUF];
	char back[FVERSION_BUF];
	ferry_err e;
	fversion v;
	size_t len = tok ? strnlen(tok, FVERSION_BUF) : 0;

	e.msg[0] = '\0';
	if (len >= 2 && len < FVERSION_BUF && tok[0] == 'v') {
		for (size_t i = 1; i <= len; i++)
			text[i - 1] = tok[i] == '_' ? '.' : tok[i];
		if (fversion_parse(text, &v, &e) == 0 &&
		    fversion_token(&v, back, sizeof back) == 0 &&
		    strcmp(back, tok) == 0) {
			*out = v;
			return 0;
		}
	}
	if (!err)
		return FERRY_EVERSION;
	fname_show(tok, tok ? strnlen(tok, 128) : 0, shown, sizeof shown);
	return ferry_err_set(err, FERRY_EVERSION, "bad version token '%s': "
			     "expected 'v' and a data version with '_' for "
			     "'.', all lowercase, like v0_8_1 or v0_9_0-dev%s%s%s",
			     shown, e.msg[0] ? " (" : "",
			     e.msg[0] ? e.msg : "", e.msg[0] ? ")" : "");
}

int fversion_is_dev(const fversion *v)
{
	return v->suffix[0] != '\0';
}

enum fversion_change fversion_classify(const fversion *from,
				       const fversion *to,
				       unsigned data_parts)
{
	fversion df, dt;
	int c = fversion_cmp(from, to);

	if (c == 0)
		return FVERSION_SAME;
	if (c > 0)
		return FVERSION_DOWNGRADE;
	fversion_data(from, data_parts, &df);
	fversion_data(to, data_parts, &dt);
	return fversion_cmp(&df, &dt) == 0 ? FVERSION_MINOR : FVERSION_MAJOR;
}
