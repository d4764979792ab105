/*
 * test_policy.c - snapshot lifecycle policies: cron schedules, date-math
 * names, durations and the retention arithmetic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "snapshot/policy.h"

/* 2026-11-22T10:15:30Z, a Sunday */
#define T0 INT64_C(1795342530000)
#define MIN INT64_C(60000)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

static int64_t next_of(const char *expr, int64_t after)
{
	fslm_cron c;
	ferry_err err = {0};
	int64_t n = 0;
	assert_int_equal(fslm_cron_parse(expr, &c, &err), 0);
	assert_int_equal(fslm_cron_next(&c, after, &n), 0);
	return n;
}

static void test_cron_next(void **state)
{
	(void)state;
	int64_t day0 = T0 - (T0 % DAY); /* 2026-11-22T00:00Z */
	assert_int_equal(next_of("* * * * *", T0), T0 - 30000 + MIN);
	assert_int_equal(next_of("30 1 * * *", T0), day0 + DAY + HOUR + 30 * MIN);
	assert_int_equal(next_of("0 30 1 * * ?", T0), day0 + DAY + HOUR + 30 * MIN);
	assert_int_equal(next_of("*/15 * * * *", T0), day0 + 10 * HOUR + 30 * MIN);
	assert_int_equal(next_of("0 12 * * *", T0), day0 + 12 * HOUR);
	/* weekday: next Monday (1) 03:00; Quartz MON = 2 */
	assert_int_equal(next_of("0 3 * * 1", T0), day0 + DAY + 3 * HOUR);
	assert_int_equal(next_of("0 0 3 ? * MON", T0), day0 + DAY + 3 * HOUR);
	assert_int_equal(next_of("0 3 * * SUN", T0), day0 + 7 * DAY + 3 * HOUR);
	assert_int_equal(next_of("0 3 * * 7", T0), day0 + 7 * DAY + 3 * HOUR);
	/* first of next month, December */
	int64_t dec1 = day0 + 9 * DAY;
	assert_int_equal(next_of("0 0 1 * *", T0), dec1);
	assert_int_equal(next_of("0 0 1 DEC *", T0), dec1);
	/* strictly after: at the exact minute, the next one */
	assert_int_equal(next_of("0 12 * * *", day0 + 12 * HOUR),
			 day0 + DAY + 12 * HOUR);
}

static void test_cron_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {"", "* * * *", "60 * * * *",
		"* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
		"5-1 * * * *", "*/0 * * * *", "1,,2 * * * *", "x * * * *",
		"30 0 1 * * ?", "* * * * * * * *"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		fslm_cron c;
		ferry_err err = {0};
		assert_int_equal(fslm_cron_parse(bad[i], &c, &err), FERRY_EINVAL);
		assert_non_null(strstr(err.msg, "bad schedule"));
	}
	fslm_cron c;
	int64_t n;
	assert_int_equal(fslm_cron_parse("0 0 31 2 *", &c, NULL), 0);
	assert_int_equal(fslm_cron_next(&c, T0, &n), FERRY_ENOTFOUND);
}

static void test_names(void **state)
{
	(void)state;
	char out[128];
	ferry_err err = {0};
	static const char *const cases[][2] = {
		{"<nightly-{now/d}>", "nightly-2026.11.22"},
		{"<snap-{now/M}>", "snap-2026.11"},
		{"<h-{now/H}>", "h-2026.11.22.10"},
		{"<x-{now/d{yyyyMMdd}}>", "x-20261122"},
		{"<t-{now{HH.mm.ss}}>", "t-10.15.30"},
		{"plain-name", "plain-name"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(fslm_name_expand(cases[i][0], T0, out, sizeof out,
						  &err), 0);
		assert_string_equal(out, cases[i][1]);
	}
	assert_int_equal(fslm_name_expand("<a-{later}>", T0, out, sizeof out,
					  &err), FERRY_EINVAL);
	assert_int_equal(fslm_name_expand("<a-{now/q}>", T0, out, sizeof out,
					  &err), FERRY_EINVAL);
	assert_int_equal(fslm_name_expand("", T0, out, sizeof out, &err),
			 FERRY_EINVAL);
}

static void test_durations(void **state)
{
	(void)state;
	int64_t v;
	assert_int_equal(fslm_duration_ms("30d", &v, NULL), 0);
	assert_int_equal(v, 30 * DAY);
	assert_int_equal(fslm_duration_ms("12h", &v, NULL), 0);
	assert_int_equal(v, 12 * HOUR);
	assert_int_equal(fslm_duration_ms("2w", &v, NULL), 0);
	assert_int_equal(v, 14 * DAY);
	assert_int_equal(fslm_duration_ms("90s", &v, NULL), 0);
	assert_int_equal(v, 90000);
	static const char *const bad[] = {"", "d", "30", "30x", "-1d", "1.5d"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(fslm_duration_ms(bad[i], &v, NULL), FERRY_EINVAL);
}

/* n snapshots, one a day, the newest at T0 */
static size_t pick(size_t n, int64_t expire, unsigned minc, unsigned maxc,
		   unsigned char *del)
{
	int64_t ts[64];
	fslm_retention r = {expire, minc, maxc};
	for (size_t i = 0; i < n; i++)
		ts[i] = T0 - (int64_t)(n - 1 - i) * DAY;
	return fslm_retention_pick(ts, n, &r, T0, del);
}

static void test_retention(void **state)
{
	(void)state;
	unsigned char del[64];
	/* 40 daily snapshots, expire after 30d: the 9 older than 30 days go */
	assert_int_equal(pick(40, 30 * DAY, 5, 0, del), 9);
	for (size_t i = 0; i < 40; i++)
		assert_int_equal(del[i], i < 9);
	/* min_count wins over expiry: 6 snapshots, all expired, keep 5 */
	assert_int_equal(pick(6, DAY / 2, 5, 0, del), 1);
	assert_int_equal(del[0], 1);
	assert_int_equal(del[1], 0);
	/* max_count: 60 young snapshots, keep the newest 50 */
	assert_int_equal(pick(60, 365 * DAY, 5, 50, del), 10);
	for (size_t i = 0; i < 60; i++)
		assert_int_equal(del[i], i < 10);
	/* both: expiry first, then the count */
	assert_int_equal(pick(60, 30 * DAY, 5, 20, del), 40);
	/* min_count above max_count: min wins */
	assert_int_equal(pick(10, 0, 8, 3, del), 2);
	/* no limits, nothing goes; empty list */
	assert_int_equal(pick(10, 0, 0, 0, del), 0);
	assert_int_equal(pick(0, DAY, 0, 1, del), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cron_next),
		cmocka_unit_test(test_cron_bad),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_retention),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
