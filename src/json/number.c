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

json_value *json_new_double(json_arena *a, double d)
{
	char buf[40];
	int n = 0;
	if (!isfinite(d))
		return NULL;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, sizeof buf, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	return json_new_number_text(a, buf, (size_t)n);
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
