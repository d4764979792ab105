/*
 * convert.c - the convert op: one JSON value to string, integer, float or
 * boolean, by the rules in migrate.h. Numbers are handled as lexemes (a
 * float keeps "7.0", an integer "4.0" becomes "4") so that nothing passes
 * through a double unless it has to.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ferry/ferry.h"
#include "migrate/internal.h"

/* 1 if lexeme s[0..n) is an integer lexeme: '-'? digits. */
static int fmig_int_lexeme(const char *s, size_t n)
{
	size_t i = n && s[0] == '-';
	if (i == n)
		return 0;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* A string holding a JSON number, as a number value (NULL if not). */
static json_value *fmig_str_number(json_arena *a, const json_value *v)
{
	return json_new_number_text(a, v->u.str.s, v->u.str.len);
}

static int fmig_why(char *why, size_t n, const char *msg)
{
	snprintf(why, n, "%s", msg);
	return FERRY_EINVAL;
}

static int fmig_to_integer(json_arena *a, json_value **v, char *why, size_t n)
{
	json_value *num = *v;
	int64_t i = 0;
	double d = 0;
	if (num->type == JSON_TRUE || num->type == JSON_FALSE) {
		*v = json_new_int(a, num->type == JSON_TRUE);
		return *v ? 0 : FERRY_ENOMEM;
	}
	if (num->type == JSON_STRING && !(num = fmig_str_number(a, num)))
		return fmig_why(why, n, "the string is not a JSON number");
	if (num->type != JSON_NUMBER)
		return fmig_why(why, n, "objects and arrays do not convert");
	if (json_number_int64(num, &i))
		return fmig_why(why, n, json_number_double(num, &d) == 0 &&
				d != floor(d) ? "it has a fraction" :
				"it is outside the int64 range");
	if (fmig_int_lexeme(num->u.num.text, num->u.num.len) &&
	    !(num->u.num.len == 2 && num->u.num.text[1] == '0')) {
		*v = num; /* already canonical ("-0" is rewritten) */
		return 0;
	}
	*v = json_new_int(a, i);
	return *v ? 0 : FERRY_ENOMEM;
}

static int fmig_to_float(json_arena *a, json_value **v, char *why, size_t n)
{
	json_value *num = *v;
	char buf[72];
	double d;
	if (num->type == JSON_TRUE || num->type == JSON_FALSE) {
		*v = json_new_number_text(a, num->type == JSON_TRUE ? "1.0" :
					  "0.0", 3);
		return *v ? 0 : FERRY_ENOMEM;
	}
	if (num->type == JSON_STRING && !(num = fmig_str_number(a, num)))
		return fmig_why(why, n, "the string is not a JSON number");
	if (num->type != JSON_NUMBER)
		return fmig_why(why, n, "objects and arrays do not convert");
	if (json_number_double(num, &d))
		return fmig_why(why, n, "it is out of the range of a double");
	if (!fmig_int_lexeme(num->u.num.text, num->u.num.len)) {
		*v = num;
		return 0;
	}
	if (num->u.num.len + 3 <= sizeof buf) {
		memcpy(buf, num->u.num.text, num->u.num.len);
		memcpy(buf + num->u.num.len, ".0", 2);
		*v = json_new_number_text(a, buf, num->u.num.len + 2);
	} else {
		*v = json_new_double(a, d);
	}
	return *v ? 0 : FERRY_ENOMEM;
}

static int fmig_to_boolean(json_arena *a, json_value **v, char *why, size_t n)
{
	json_value *x = *v;
	int64_t i;
	int b = -1;
	if (x->type == JSON_TRUE || x->type == JSON_FALSE)
		return 0;
	if (x->type == JSON_STRING) {
		if (x->u.str.len == 4 && !memcmp(x->u.str.s, "true", 4))
			b = 1;
		else if (x->u.str.len == 5 && !memcmp(x->u.str.s, "false", 5))
			b = 0;
		else
			return fmig_why(why, n, "only the strings \"true\" "
					"and \"false\" convert");
	} else if (x->type == JSON_NUMBER) {
		if (json_number_int64(x, &i) || (i != 0 && i != 1))
			return fmig_why(why, n, "only the numbers 1 and 0 "
					"convert");
		b = (int)i;
	} else {
		return fmig_why(why, n, "objects and arrays do not convert");
	}
	*v = json_new_bool(a, b);
	return *v ? 0 : FERRY_ENOMEM;
}

static int fmig_to_string(json_arena *a, json_value **v, char *why, size_t n)
{
	json_value *x = *v;
	switch (x->type) {
	case JSON_STRING:
		return 0;
	case JSON_NUMBER:
		*v = json_new_string(a, x->u.num.text, x->u.num.len);
		break;
	case JSON_TRUE:
		*v = json_new_string(a, "true", 4);
		break;
	case JSON_FALSE:
		*v = json_new_string(a, "false", 5);
		break;
	default:
		return fmig_why(why, n, "objects and arrays do not convert");
	}
	return *v ? 0 : FERRY_ENOMEM;
}

int fmig_convert(json_arena *a, fmig_conv to, json_value **v, char *why,
		 size_t whylen)
{
	switch (to) {
	case FMIG_TO_INTEGER: return fmig_to_integer(a, v, why, whylen);
	case FMIG_TO_FLOAT: return fmig_to_float(a, v, why, whylen);
	case FMIG_TO_BOOLEAN: return fmig_to_boolean(a, v, why, whylen);
	default: return fmig_to_string(a, v, why, whylen);
	}
}
