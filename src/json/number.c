/*
 * number.c - numbers. The DOM keeps each number as its lexeme so it is
 * written back exactly; this file makes lexemes (from text, integers and
 * doubles) and reads them (as a double, or exactly as an int64 using
 * decimal arithmetic on the digits, so "1e5" and "14.0" are integers and
 * "9223372036854775808" is not).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/ferry.h"
#include "json/internal.h"

/* 1 if text[0..len) is exactly one JSON number. */
static int json_is_number(const char *text, size_t len)
{
	const char *bad, *msg;
	if (!text || !len || (text[0] != '-' && !json_isdigit((unsigned char)text[0])))
		return 0;
	return json_lex_number(text, text + len, &bad, &msg) == text + len;
}

json_value *json_new_number_text(json_arena *a, const char *text,
				 size_t len)
{
	if (!json_is_number(text, len))
		return NULL;
	char *copy = json_arena_bytes(a, len);
	json_value *v = copy ? json_arena_node(a, sizeof *v) : NULL;
	if (!v)
		return NULL;
	memcpy(copy, text, len);
	v->type = JSON_NUMBER;
	v->u.num.text = copy;
	v->u.num.len = len;
	return v;
}

json_value *json_new_int(json_arena *a, int64_t i)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%" PRId64, i);
	return json_new_number_text(a, buf, (size_t)n);
}

/* The fast path of json_double_text(): d (finite) with p decimals for
 * the least p whose digits m (at most 15 of them) read back as d, i.e.
 * m / 10^p == d. Both are exact doubles (m < 2^53, p <= 15), and the
 * division rounds correctly as strtod does, so the text reads back as d.
 * At most one decimal of 15 significant digits lies within half an ulp of
 * a double (their spacing, 1e-15 of the value or more, is wider than an
 * ulp, 2.2e-16 at most), so this is the text "%.15g" writes whenever
 * that reads back. 0 (use printf) for what needs more digits, and for
 * what %g writes with an exponent or as "-0". printf costs ~2,000
 * instructions a number, this ~100. */
static size_t json_double_fixed(double d, char *buf)
{
	static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
				     1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
				     1e15};
	double a = fabs(d);
	if (!(a >= 1e-4 && a < 1e15))
		return 0;
	for (int p = 0; p <= 15; p++) {
		double m = nearbyint(a * p10[p]);
		if (m >= 1e15)
			return 0; /* more than 15 digits */
		if (m / p10[p] != a)
			continue;
		/* the digits of m, at least p + 1 of them, last first */
		char dig[24];
		uint64_t u = (uint64_t)m;
		int k = 0, n = 0;
		do
			dig[k++] = (char)('0' + u % 10);
		while ((u /= 10) || k <= p);
		if (d < 0)
			buf[n++] = '-';
		while (k--) {
			buf[n++] = dig[k];
			if (k == p && p)
				buf[n++] = '.';
		}
		buf[n] = 0;
		return (size_t)n;
	}
	return 0;
}

size_t json_double_text(double d, char buf[JSON_DOUBLE_MAX])
{
	size_t n = json_double_fixed(d, buf);
	if (n)
		return n;
	for (int prec = 15; prec <= 17; prec++) {
		n = (size_t)snprintf(buf, JSON_DOUBLE_MAX, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	return n;
}

json_value *json_new_double(json_arena *a, double d)
{
	char buf[JSON_DOUBLE_MAX];
	if (!isfinite(d))
		return NULL;
	size_t n = json_double_text(d, buf);
	return json_new_number_text(a, buf, n);
}

int json_number_double(const json_value *v, double *out)
{
	char small[64], *buf = small;
	int rc = FERRY_EINVAL;
	if (!v || v->type != JSON_NUMBER)
		return FERRY_EINVAL;
	size_t len = v->u.num.len;
	if (len >= sizeof small && !(buf = malloc(len + 1)))
		return FERRY_ENOMEM;
	memcpy(buf, v->u.num.text, len);
	buf[len] = 0;
	double d = strtod(buf, NULL);
	if (isfinite(d)) {
		*out = d;
		rc = 0;
	}
	if (buf != small)
		free(buf);
	return rc;
}

/* A valid lexeme cut into its parts. */
typedef struct json_numparts {
	const char *ip, *fp; /* integer and fraction digits */
	size_t ni, nf;
	int64_t exp;         /* saturated at +-1e15 */
	int neg;
} json_numparts;

static void json_num_split(const char *p, size_t len, json_numparts *np)
{
	const char *end = p + len;
	np->neg = *p == '-';
	p += np->neg;
	np->ip = p;
	while (p < end && json_isdigit((unsigned char)*p))
		p++;
	np->ni = (size_t)(p - np->ip);
	np->fp = p + (p < end && *p == '.');
	p = np->fp;
	while (p < end && json_isdigit((unsigned char)*p))
		p++;
	np->nf = (size_t)(p - np->fp);
	np->exp = 0;
	if (p == end)
		return;
	int eneg = *++p == '-';
	p += *p == '-' || *p == '+';
	for (; p < end; p++)
		if (np->exp < 1000000000000000)
			np->exp = np->exp * 10 + (*p - '0');
	if (eneg)
		np->exp = -np->exp;
}

static int json_num_digit(const json_numparts *np, size_t i)
{
	return (i < np->ni ? np->ip[i] : np->fp[i - np->ni]) - '0';
}

int json_number_int64(const json_value *v, int64_t *out)
{
	json_numparts np;
	if (!v || v->type != JSON_NUMBER || !json_is_number(v->u.num.text, v->u.num.len))
		return FERRY_EINVAL;
	json_num_split(v->u.num.text, v->u.num.len, &np);
	size_t lo = 0, hi = np.ni + np.nf;
	while (lo < hi && json_num_digit(&np, lo) == 0)
		lo++;
	while (hi > lo && json_num_digit(&np, hi - 1) == 0)
		hi--;
	if (lo == hi) {
		*out = 0;
		return 0;
	}
	/* value = digits[lo..hi) * 10^e */
	int64_t e = np.exp - (int64_t)np.nf + (int64_t)(np.ni + np.nf - hi);
	if (e < 0 || (int64_t)(hi - lo) + e > 19)
		return FERRY_EINVAL;
	uint64_t mag = 0;
	for (size_t i = lo; i < hi; i++)
		mag = mag * 10 + (uint64_t)json_num_digit(&np, i);
	while (e-- > 0)
		mag *= 10;
	if (mag > (uint64_t)INT64_MAX + (uint64_t)np.neg)
		return FERRY_EINVAL;
	if (!np.neg)
		*out = (int64_t)mag;
	else
		*out = mag > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)mag;
	return 0;
}
