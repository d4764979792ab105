/*
 * policy_calc.c - cron schedules, date-math names and retention for
 * snapshot lifecycle policies; see policy.h. Pure functions, no I/O.
 */
#include "snapshot/policy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/err.h"

static const char *const months[] = {"JAN", "FEB", "MAR", "APR", "MAY",
	"JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const days[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI",
	"SAT"};

/* A number or a 3-letter name; -1 if neither. */
static long field_num(const char **p, const char *const *names, int nnames,
		      int base)
{
	if (isdigit((unsigned char)**p)) {
		char *end;
		long v = strtol(*p, &end, 10);
		*p = end;
		return v;
	}
	for (int i = 0; names && i < nnames; i++)
		if (!strncasecmp(*p, names[i], 3)) {
			*p += 3;
			return i + base;
		}
	return -1;
}

/* Parses one field "a-b/s,c,*" into bits lo..hi. */
static int field_parse(const char *f, int lo, int hi, const char *const *names,
		       int nnames, int base, uint64_t *bits, int *any)
{
	const char *p = f;
	*bits = 0;
	*any = !strcmp(f, "*") || !strcmp(f, "?");
	for (;;) {
		long a = lo, b = hi, step = 1;
		if (*p == '*' || *p == '?') {
			p++;
		} else {
			if ((a = field_num(&p, names, nnames, base)) < 0)
				return -1;
			b = a;
			if (*p == '-') {
				p++;
				if ((b = field_num(&p, names, nnames, base)) < 0)
					return -1;
			}
		}
		if (*p == '/') {
			char *end;
			step = strtol(p + 1, &end, 10);
			if (end == p + 1 || step < 1)
				return -1;
			p = end;
			if (b == a && f[0] != '*')
				b = hi;
		}
		if (a < lo || b > hi || a > b)
			return -1;
		for (long v = a; v <= b; v += step)
			*bits |= (uint64_t)1 << v;
		if (*p == 0)
			return 0;
		if (*p++ != ',')
			return -1;
	}
}

int fslm_cron_parse(const char *expr, fslm_cron *out, ferry_err *err)
{
	char buf[256], *f[8], *save = NULL;
	int n = 0;
	if (!expr || strlen(expr) >= sizeof buf)
		return ferry_err_set(err, FERRY_EINVAL, "schedule is missing or "
				     "too long");
	snprintf(buf, sizeof buf, "%s", expr);
	for (char *t = strtok_r(buf, " \t", &save); t && n < 8;
	     t = strtok_r(NULL, " \t", &save))
		f[n++] = t;
	if (n < 5 || n > 7)
		goto bad;
	int off = n == 5 ? 0 : 1;
	if (off && strcmp(f[0], "0"))
		goto bad; /* seconds: only at :00 */
	uint64_t b;
	int any;
	memset(out, 0, sizeof *out);
	if (field_parse(f[off], 0, 59, NULL, 0, 0, &out->min, &any) ||
	    field_parse(f[off + 1], 0, 23, NULL, 0, 0, &b, &any))
		goto bad;
	out->hour = (uint32_t)b;
	if (field_parse(f[off + 2], 1, 31, NULL, 0, 0, &b, &out->dom_any))
		goto bad;
	out->dom = (uint32_t)(b >> 1);
	if (field_parse(f[off + 3], 1, 12, months, 12, 1, &b, &any))
		goto bad;
	out->month = (uint16_t)(b >> 1);
	if (field_parse(f[off + 4], 0, 7, days, 7, off ? 1 : 0, &b,
			&out->dow_any))
		goto bad;
	if (off) /* Quartz: 1 = SUN .. 7 = SAT */
		b >>= 1;
	out->dow = (uint8_t)((b | b >> 7) & 0x7f);
	return 0;
bad:
	return ferry_err_set(err, FERRY_EINVAL, "bad schedule '%s': expected "
		"cron fields 'min hour day month weekday' (e.g. '30 1 * * *') or "
		"Quartz 'sec min hour day month weekday' (e.g. '0 30 1 * * ?')",
		expr);
}

static int day_ok(const fslm_cron *c, const struct tm *tm)
{
	int d = !!(c->dom & (1u << (tm->tm_mday - 1)));
	int w = !!(c->dow & (1u << tm->tm_wday));
	if (c->dom_any && c->dow_any)
		return 1;
	if (c->dom_any)
		return w;
	if (c->dow_any)
		return d;
	return d || w; /* cron: either restriction matches */
}

int fslm_cron_next(const fslm_cron *c, int64_t after_ms, int64_t *next_ms)
{
	time_t t = (time_t)(after_ms / 1000 / 60 + 1) * 60;
	for (long i = 0; i < 5L * 366 * 24 * 60; i++) {
		struct tm tm;
		gmtime_r(&t, &tm);
		if (!(c->month & (1u << tm.tm_mon)) || !day_ok(c, &tm)) {
			t += (time_t)(24 * 60 - tm.tm_hour * 60 - tm.tm_min) * 60;
			continue; /* to the next day */
		}
		if (!(c->hour & (1u << tm.tm_hour))) {
			t += (time_t)(60 - tm.tm_min) * 60;
			continue; /* to the next hour */
		}
		if (c->min & ((uint64_t)1 << tm.tm_min)) {
			*next_ms = (int64_t)t * 1000;
			return 0;
		}
		t += 60;
	}
	return FERRY_ENOTFOUND;
}

/* Formats with a Java-style pattern (yyyy MM dd HH mm ss). */
static void fmt_date(const struct tm *tm, const char *fmt, char *out,
		     size_t n)
{
	size_t o = 0;
	while (*fmt && o + 5 < n) {
		int v = -1, w = 2;
		if (!strncmp(fmt, "yyyy", 4)) { v = tm->tm_year + 1900; w = 4; }
		else if (!strncmp(fmt, "MM", 2)) v = tm->tm_mon + 1;
		else if (!strncmp(fmt, "dd", 2)) v = tm->tm_mday;
		else if (!strncmp(fmt, "HH", 2)) v = tm->tm_hour;
		else if (!strncmp(fmt, "mm", 2)) v = tm->tm_min;
		else if (!strncmp(fmt, "ss", 2)) v = tm->tm_sec;
		if (v < 0) {
			out[o++] = *fmt++;
			continue;
		}
		o += (size_t)snprintf(out + o, n - o, "%0*d", w, v);
		fmt += w;
	}
	out[o] = 0;
}

/* One {now...} expression at p (after '{'); appends to out. */
static int expand_now(const char **pp, const struct tm *now, char *out,
		      size_t n)
{
	const char *p = *pp, *fmt = "yyyy.MM.dd";
	char f[64] = "";
	if (strncmp(p, "now", 3))
		return -1;
	p += 3;
	if (*p == '/') {
		static const struct { char u; const char *f; } units[] = {
			{'y', "yyyy"}, {'M', "yyyy.MM"}, {'d', "yyyy.MM.dd"},
			{'H', "yyyy.MM.dd.HH"}, {'m', "yyyy.MM.dd.HH.mm"}};
		size_t i = 0;
		while (i < 5 && units[i].u != p[1])
			i++;
		if (i == 5)
			return -1;
		fmt = units[i].f;
		p += 2;
	}
	if (*p == '{') {
		const char *e = strchr(p, '}');
		if (!e || (size_t)(e - p) >= sizeof f)
			return -1;
		memcpy(f, p + 1, (size_t)(e - p - 1));
		fmt = f;
		p = e + 1;
	}
	if (*p++ != '}')
		return -1;
	fmt_date(now, fmt, out, n);
	*pp = p;
	return 0;
}

int fslm_name_expand(const char *pattern, int64_t now_ms, char *out,
		     size_t n, ferry_err *err)
{
	size_t len = pattern ? strlen(pattern) : 0, o = 0;
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	if (!len || n < 2)
		return ferry_err_set(err, FERRY_EINVAL, "snapshot name is empty");
	if (pattern[0] != '<' || pattern[len - 1] != '>') {
		if (len >= n)
			return ferry_err_set(err, FERRY_ELIMIT, "name too long");
		memcpy(out, pattern, len + 1);
		return 0;
	}
	for (const char *p = pattern + 1; p < pattern + len - 1 && o + 1 < n;) {
		if (*p != '{') {
			out[o++] = *p++;
			continue;
		}
		p++;
		if (expand_now(&p, &tm, out + o, n - o))
			return ferry_err_set(err, FERRY_EINVAL, "bad date math in "
				"snapshot name '%s'; expected e.g. <nightly-{now/d}>",
				pattern);
		o += strlen(out + o);
	}
	out[o] = 0;
	return 0;
}

int fslm_duration_ms(const char *s, int64_t *out, ferry_err *err)
{
	char *end;
	long long v = s ? strtoll(s, &end, 10) : -1;
	int64_t unit = 0;
	if (s && v >= 0 && end != s) {
		if (!strcmp(end, "ms")) unit = 1;
		else if (!strcmp(end, "s")) unit = 1000;
		else if (!strcmp(end, "m")) unit = 60000;
		else if (!strcmp(end, "h")) unit = 3600000;
		else if (!strcmp(end, "d")) unit = 86400000;
		else if (!strcmp(end, "w")) unit = 7LL * 86400000;
	}
	if (!unit)
		return ferry_err_set(err, FERRY_EINVAL, "bad duration '%s'; expected "
			"a number and a unit: ms, s, m, h, d or w (e.g. 30d)",
			s ? s : "");
	*out = (int64_t)v * unit;
	return 0;
}

size_t fslm_retention_pick(const int64_t *start_ms, size_t n,
			   const fslm_retention *r, int64_t now_ms,
			   unsigned char *del)
{
	size_t left = n, marked = 0;
	memset(del, 0, n);
	for (size_t i = 0; i < n && r->expire_after_ms; i++) {
		if (left <= r->min_count)
			break;
		if (now_ms - start_ms[i] > r->expire_after_ms) {
			del[i] = 1;
			left--;
			marked++;
		}
	}
	for (size_t i = 0; i < n && r->max_count && left > r->max_count; i++)
		if (!del[i] && left > r->min_count) {
			del[i] = 1;
			left--;
			marked++;
		}
	return marked;
}
