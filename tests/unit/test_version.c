/*
 * test_version.c - unit tests for src/core/version.c: what parses and what
 * is refused (with the code and a message that quotes the input), the
 * order of versions, data versions and tokens, and the upgrade
 * classification of DESIGN.md "Versions".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/names.h"
#include "core/version.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static fversion must_parse(const char *s)
{
	fversion v;
	ferry_err err = {0, ""};
	int rc = fversion_parse(s, &v, &err);
	if (rc)
		fail_msg("'%s' should parse: %s", s, err.msg);
	return v;
}

/* ---- good versions ----------------------------------------------------- */

struct good {
	const char *in;
	unsigned parts;
	uint32_t n[4];
	const char *suffix;
	const char *out; /* formatted; NULL = same as in */
};

static const struct good goods[] = {
	{"0", 1, {0}, "", NULL},
	{"1", 1, {1}, "", NULL},
	{"0.8", 2, {0, 8}, "", NULL},
	{"0.8.1", 3, {0, 8, 1}, "", NULL},
	{"0.8.1.3", 4, {0, 8, 1, 3}, "", NULL},
	{"0.0.0.0", 4, {0, 0, 0, 0}, "", NULL},
	{"10.20.30.40", 4, {10, 20, 30, 40}, "", NULL},
	{"4294967295", 1, {4294967295u}, "", NULL},
	{"4294967295.4294967295.4294967295.4294967295", 4,
	 {4294967295u, 4294967295u, 4294967295u, 4294967295u}, "", NULL},
	{"0.9.0-dev", 3, {0, 9, 0}, "dev", NULL},
	{"0.9.0-DEV", 3, {0, 9, 0}, "dev", "0.9.0-dev"},
	{"1.0.0-rc.1", 3, {1, 0, 0}, "rc.1", NULL},
	{"1.0.0-RC.1", 3, {1, 0, 0}, "rc.1", "1.0.0-rc.1"},
	{"1.0.0-rc1", 3, {1, 0, 0}, "rc1", NULL},
	{"1.0.0-beta-2", 3, {1, 0, 0}, "beta-2", NULL},
	{"1.0.0-0", 3, {1, 0, 0}, "0", NULL},
	{"1.0.0-rc.10", 3, {1, 0, 0}, "rc.10", NULL},
	{"1.0.0-x.y.z", 3, {1, 0, 0}, "x.y.z", NULL},
	{"1-a", 1, {1}, "a", NULL},
	{"1.2-3.4", 2, {1, 2}, "3.4", NULL},
	{"0.1--", 2, {0, 1}, "-", NULL},
	{"0.8.1.3-dev.20240315", 4, {0, 8, 1, 3}, "dev.20240315", NULL},
	{"1.0.0-abcdefghijklmnopqr", 3, {1, 0, 0}, "abcdefghijklmnopqr", NULL},
	{"4294967295.4294967295.4294967295.4294967295-abcdefghijklmnopqr", 4,
	 {4294967295u, 4294967295u, 4294967295u, 4294967295u},
	 "abcdefghijklmnopqr", NULL},
};

static void test_parse_good(void **state)
{
	for (size_t i = 0; i < N_ELEMS(goods); i++) {
		const struct good *g = &goods[i];
		fversion v = must_parse(g->in);
		char buf[FVERSION_BUF];
		assert_int_equal(v.parts, g->parts);
		for (unsigned k = 0; k < 4; k++)
			assert_int_equal(v.n[k], g->n[k]);
		assert_string_equal(v.suffix, g->suffix);
		assert_int_equal(fversion_is_dev(&v), g->suffix[0] != 0);
		assert_int_equal(fversion_format(&v, buf, sizeof buf), 0);
		assert_string_equal(buf, g->out ? g->out : g->in);
		/* format -> parse is the identity */
		fversion w = must_parse(buf);
		assert_memory_equal(&v, &w, sizeof v);
		assert_int_equal(fversion_cmp(&v, &w), 0);
	}
}

/* ---- bad versions ------------------------------------------------------ */

struct badv {
	const char *in;
	const char *why;   /* must appear in the message */
	const char *shown; /* how the input is quoted; NULL = as is */
};

#define LONG64 "1111111111111111111111111111111111111111111111111111111111111111"

static const struct badv bads[] = {
	{"", "it is empty; expected 1 to 4 dot-separated numbers", NULL},
	{"1.2.3.4.5", "it has 5 numbers; at most 4", NULL},
	{"1.2.3.4.5-dev", "it has 5 numbers", NULL},
	{"0..1", "part 2 is empty", NULL},
	{".1", "part 1 is empty", NULL},
	{"1.", "part 2 is empty", NULL},
	{"1.2.3.-4", "part 4 is empty", NULL},
	{".", "part 1 is empty", NULL},
	{"0.8.x", "part 3 'x' is not a number; expected 1 to 4", NULL},
	{"0.8.1x", "part 3 '1x' is not a number", NULL},
	{"a", "part 1 'a' is not a number", NULL},
	{"1,2", "part 1 '1,2' is not a number", NULL},
	{"1.2+build", "part 2 '2+build' is not a number", NULL},
	{"\xc3\xa4", "is not a number", "\\xc3\\xa4"},
	{"+1.0", "it starts with '+'", NULL},
	{"-1.0", "it starts with '-'", NULL},
	{"-", "it starts with '-'", NULL},
	{"v0.8.1", "drop the leading 'v'", NULL},
	{"V1", "drop the leading 'V'", NULL},
	{"01.2", "part 1 '01' has a leading zero; write 1", NULL},
	{"0.08", "part 2 '08' has a leading zero; write 8", NULL},
	{"0.00", "part 2 '00' has a leading zero; write 0", NULL},
	{"4294967296", "part 1 '4294967296' is larger than 4294967295", NULL},
	{"1.99999999999999999999", "is larger than 4294967295", NULL},
	{"0.1-", "the suffix after '-' is empty; write e.g. 0.1-dev", NULL},
	{"0.1-dev_1", "suffix character 4 '_' is not allowed", NULL},
	{"0.1-dev+b", "suffix character 4 '+' is not allowed", NULL},
	{"0.1-d\xc3\xa9v", "suffix character 2 '\\xc3' is not allowed",
	 "0.1-d\\xc3\\xa9v"},
	{"0.1-rc..1", "the suffix has an empty part", NULL},
	{"0.1-rc.", "the suffix has an empty part", NULL},
	{"0.1-.rc", "the suffix has an empty part", NULL},
	{"0.1-rc.01", "suffix part '01' has a leading zero", NULL},
	{"0.1-abcdefghijklmnopqrs", "the suffix is 19 characters long; the "
	 "limit is 18", NULL},
	{" 0.1", "whitespace at character 1", NULL},
	{"0.1 ", "whitespace at character 4", NULL},
	{"0 .1", "whitespace at character 2", NULL},
	{"0.1\t", "whitespace at character 4", "0.1\\x09"},
	{"0.1\n", "whitespace at character 4", "0.1\\x0a"},
	{LONG64, "it is 64 characters long; the limit is 63", NULL},
	{LONG64 LONG64 LONG64, "it is 192 characters long", LONG64 "..."},
};

static void test_parse_bad(void **state)
{
	for (size_t i = 0; i < N_ELEMS(bads); i++) {
		const struct badv *b = &bads[i];
		fversion v, before;
		ferry_err err = {0, ""};
		char quoted[600];

		memset(&v, 0xab, sizeof v);
		before = v;
		int rc = fversion_parse(b->in, &v, &err);
		if (rc != FERRY_EVERSION)
			fail_msg("'%s' should be refused, got %d", b->in, rc);
		assert_int_equal(err.code, FERRY_EVERSION);
		assert_memory_equal(&v, &before, sizeof v);
		snprintf(quoted, sizeof quoted, "bad version '%s': ",
			 b->shown ? b->shown : b->in);
		if (strncmp(err.msg, quoted, strlen(quoted)) != 0)
			fail_msg("message for '%s' does not start with \"%s\": "
				 "%s", b->in, quoted, err.msg);
		if (!strstr(err.msg, b->why))
			fail_msg("message for '%s' lacks \"%s\": %s", b->in,
				 b->why, err.msg);
		/* no err record is fine too */
		assert_int_equal(fversion_parse(b->in, &v, NULL),
				 FERRY_EVERSION);
	}
}

static void test_parse_null_and_spec_example(void **state)
{
	ferry_err err = {0, ""};
	fversion v;

	assert_int_equal(fversion_parse(NULL, &v, &err), FERRY_EVERSION);
	assert_non_null(strstr(err.msg, "it is empty"));
	assert_int_equal(fversion_parse("0.8.x", &v, &err), FERRY_EVERSION);
	assert_string_equal(err.msg,
			    "bad version '0.8.x': part 3 'x' is not a number; "
			    "expected 1 to 4 dot-separated numbers like 0.8.1 "
			    "or 0.8.1.3, optionally with a suffix like -dev");
}

/* Every single-character change of a valid version either parses or is
 * refused with FERRY_EVERSION, never anything else. */
static void test_parse_mutations(void **state)
{
	const char *base = "10.2.30.4-rc.1";
	char s[32];

	for (size_t pos = 0; pos < strlen(base); pos++) {
		for (int c = 1; c < 256; c++) {
			fversion v;
			snprintf(s, sizeof s, "%s", base);
			s[pos] = (char)c;
			int rc = fversion_parse(s, &v, NULL);
			assert_true(rc == 0 || rc == FERRY_EVERSION);
			if (rc == 0) {
				char out[FVERSION_BUF];
				assert_int_equal(fversion_format(&v, out,
								 sizeof out), 0);
				fversion w = must_parse(out);
				assert_memory_equal(&v, &w, sizeof v);
			}
		}
	}
}

/* ---- order ------------------------------------------------------------- */

/* Strictly ascending. */
static const char *const ascending[] = {
	"0-0",
	"0",
	"0.0.0.1",
	"0.0.1-1",
	"0.0.1-alpha",
	"0.0.1-alpha.1",
	"0.0.1-alpha.beta",
	"0.0.1-beta",
	"0.0.1-beta.2",
	"0.0.1-beta.11",
	"0.0.1-rc.1",
	"0.0.1",
	"0.1",
	"0.7.2",
	"0.8.0",
	"0.8.1-dev",
	"0.8.1",
	"0.8.1.1",
	"0.8.1.4",
	"0.8.2",
	"0.9.0-dev",
	"0.9.0-rc1",
	"0.9.0-rc10", /* ASCII: "rc10" < "rc2" */
	"0.9.0-rc2",
	"0.9.0",
	"0.10.0",
	"1-alpha",
	"1",
	"1.0.0.1",
	"2.0",
	"10.0",
	"4294967295.4294967295.4294967295.4294967295-0",
	"4294967295.4294967295.4294967295.4294967295",
};

static int cmp_qsort(const void *a, const void *b)
{
	return fversion_cmp(a, b);
}

static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_order_pairs(void **state)
{
	size_t n = N_ELEMS(ascending);
	for (size_t i = 0; i < n; i++) {
		fversion a = must_parse(ascending[i]);
		for (size_t j = 0; j < n; j++) {
			fversion b = must_parse(ascending[j]);
			int want = i < j ? -1 : i > j ? 1 : 0;
			int got = fversion_cmp(&a, &b);
			if (got != want)
				fail_msg("cmp(%s, %s) = %d, want %d",
					 ascending[i], ascending[j], got, want);
		}
	}
}

static void test_order_sort(void **state)
{
	size_t n = N_ELEMS(ascending);
	fversion v[N_ELEMS(ascending)];
	char buf[FVERSION_BUF];

	for (int round = 0; round < 50; round++) {
		for (size_t i = 0; i < n; i++)
			v[i] = must_parse(ascending[i]);
		for (size_t i = n - 1; i > 0; i--) {
			size_t j = (size_t)(next_rand() % (i + 1));
			fversion t = v[i];
			v[i] = v[j];
			v[j] = t;
		}
		qsort(v, n, sizeof v[0], cmp_qsort);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(fversion_format(&v[i], buf, sizeof buf),
					 0);
			assert_string_equal(buf, ascending[i]);
		}
	}
}

static void test_order_equal(void **state)
{
	static const char *const same[][2] = {
		{"0.8", "0.8.0"},
		{"0.8", "0.8.0.0"},
		{"1", "1.0.0.0"},
		{"0.9-DEV", "0.9.0-dev"},
		{"1.0.0-Rc.1", "1.0-rc.1"},
		{"0-a.b", "0.0-A.B"},
	};
	for (size_t i = 0; i < N_ELEMS(same); i++) {
		fversion a = must_parse(same[i][0]);
		fversion b = must_parse(same[i][1]);
		assert_int_equal(fversion_cmp(&a, &b), 0);
		assert_int_equal(fversion_cmp(&b, &a), 0);
		assert_int_equal(fversion_classify(&a, &b, 3), FVERSION_SAME);
	}
}

/* ---- data versions and tokens ------------------------------------------ */

struct datav {
	const char *release;
	unsigned data_parts;
	const char *data;
	const char *token;
};

static const struct datav datas[] = {
	{"0.8.1.3", 3, "0.8.1", "v0_8_1"},
	{"0.8.1.3", 0, "0.8.1", "v0_8_1"},
	{"0.8.1.3", 2, "0.8", "v0_8"},
	{"0.8.1.3", 4, "0.8.1.3", "v0_8_1_3"},
	{"0.8.1.3", 9, "0.8.1.3", "v0_8_1_3"},
	{"0.8.1", 3, "0.8.1", "v0_8_1"},
	{"0.8.1", 2, "0.8", "v0_8"},
	{"0.8.1", 4, "0.8.1.0", "v0_8_1_0"},
	{"0.8", 3, "0.8.0", "v0_8_0"},
	{"0.8", 2, "0.8", "v0_8"},
	{"1", 4, "1.0.0.0", "v1_0_0_0"},
	{"1", 2, "1.0", "v1_0"},
	{"0.9.0-dev", 3, "0.9.0-dev", "v0_9_0-dev"},
	{"0.9.0.2-dev", 2, "0.9-dev", "v0_9-dev"},
	{"1.0.0.7-rc.1", 3, "1.0.0-rc.1", "v1_0_0-rc_1"},
	{"1.0-Beta-2", 2, "1.0-beta-2", "v1_0-beta-2"},
	{"1-x.y.z", 4, "1.0.0.0-x.y.z", "v1_0_0_0-x_y_z"},
	{"4294967295-abcdefghijklmnopqr", 4,
	 "4294967295.0.0.0-abcdefghijklmnopqr",
	 "v4294967295_0_0_0-abcdefghijklmnopqr"},
	{"4294967295.4294967295.4294967295.4294967295-abcdefghijklmnop.r", 4,
	 "4294967295.4294967295.4294967295.4294967295-abcdefghijklmnop.r",
	 "v4294967295_4294967295_4294967295_4294967295-abcdefghijklmnop_r"},
};

static void test_data_and_token(void **state)
{
	for (size_t i = 0; i < N_ELEMS(datas); i++) {
		const struct datav *d = &datas[i];
		fversion r = must_parse(d->release);
		fversion dv, self, back;
		char buf[FVERSION_BUF];

		fversion_data(&r, d->data_parts, &dv);
		unsigned dp = d->data_parts == 0 ? 3
			      : d->data_parts > 4 ? 4 : d->data_parts;
		assert_int_equal(dv.parts, dp);
		assert_int_equal(fversion_format(&dv, buf, sizeof buf), 0);
		assert_string_equal(buf, d->data);
		assert_int_equal(fversion_token(&dv, buf, sizeof buf), 0);
		assert_string_equal(buf, d->token);
		assert_true(strlen(buf) < FVERSION_BUF);
		assert_int_equal(fname_check_part(buf, "token", NULL), 0);

		/* the token parses back to the data version */
		assert_int_equal(fversion_parse_token(buf, &back, NULL), 0);
		assert_memory_equal(&back, &dv, sizeof dv);

		/* out may be the input */
		self = r;
		fversion_data(&self, d->data_parts, &self);
		assert_memory_equal(&self, &dv, sizeof dv);
	}
}

static void test_format_limits(void **state)
{
	fversion v = must_parse("0.8.1");
	char buf[16];

	memset(buf, 'x', sizeof buf);
	assert_int_equal(fversion_format(&v, buf, 5), FERRY_ELIMIT);
	assert_int_equal(buf[0], 'x');
	assert_int_equal(fversion_format(&v, buf, 0), FERRY_ELIMIT);
	assert_int_equal(fversion_format(&v, buf, 6), 0);
	assert_string_equal(buf, "0.8.1");

	memset(buf, 'x', sizeof buf);
	assert_int_equal(fversion_token(&v, buf, 6), FERRY_ELIMIT);
	assert_int_equal(buf[0], 'x');
	assert_int_equal(fversion_token(&v, buf, 7), 0);
	assert_string_equal(buf, "v0_8_1");

	v = must_parse("0.9.0-dev");
	assert_int_equal(fversion_format(&v, buf, 9), FERRY_ELIMIT);
	assert_int_equal(fversion_format(&v, buf, 10), 0);
	assert_string_equal(buf, "0.9.0-dev");

	v.parts = 0;
	assert_int_equal(fversion_format(&v, buf, sizeof buf), FERRY_EINVAL);
	assert_int_equal(fversion_token(&v, buf, sizeof buf), FERRY_EINVAL);
	v.parts = 5;
	assert_int_equal(fversion_format(&v, buf, sizeof buf), FERRY_EINVAL);
}

static void test_parse_token(void **state)
{
	static const char *const good[] = {
		"v0_8_1", "v0_9_0-dev", "v1_0_0-rc_1", "v1", "v0_8_1_3",
		"v1_0-beta-2", "v4294967295_0",
	};
	static const char *const bad[] = {
		"", "v", "0_8_1", "v0.8.1", "v0_08_1", "V0_8_1", "v0_9_0-DEV",
		"v0__1", "v0_8_1-", "vv1", "v_1", "v1_", "v0_8_1_3_4",
		"v0_8_1-rc_01", "v4294967296", "v0_8_1.acme", "v-1", "v+1",
		"v1-a_", "v 1",
		("v111111111111111111111111111111111111111111111111111111111111"
		 "11111"),
	};
	fversion v;
	ferry_err err = {0, ""};

	for (size_t i = 0; i < N_ELEMS(good); i++) {
		char buf[FVERSION_BUF];
		if (fversion_parse_token(good[i], &v, &err))
			fail_msg("token '%s' refused: %s", good[i], err.msg);
		assert_int_equal(fversion_token(&v, buf, sizeof buf), 0);
		assert_string_equal(buf, good[i]);
	}
	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		char quoted[128];
		memset(&v, 0x5a, sizeof v);
		fversion before = v;
		if (fversion_parse_token(bad[i], &v, &err) != FERRY_EVERSION)
			fail_msg("token '%s' accepted", bad[i]);
		assert_memory_equal(&v, &before, sizeof v);
		snprintf(quoted, sizeof quoted, "bad version token '%.40s",
			 bad[i]);
		assert_non_null(strstr(err.msg, quoted));
	}
	assert_int_equal(fversion_parse_token(NULL, &v, &err), FERRY_EVERSION);
}

/* ---- classification ---------------------------------------------------- */

struct cls {
	const char *from, *to;
	unsigned data_parts;
	enum fversion_change want;
};

static const struct cls classes[] = {
	/* the examples of DESIGN.md */
	{"0.8.1.1", "0.8.1.4", 3, FVERSION_MINOR},
	{"0.8.1.1", "0.8.1.4", 0, FVERSION_MINOR},
	{"0.8.0", "0.8.1", 3, FVERSION_MAJOR},
	{"0.7.2", "0.8.0", 3, FVERSION_MAJOR},
	{"0.8.1", "0.8.0", 3, FVERSION_DOWNGRADE},
	/* release-level downgrade within one data version */
	{"0.8.1.4", "0.8.1.1", 3, FVERSION_DOWNGRADE},
	{"0.8.1.1", "0.8.1", 3, FVERSION_DOWNGRADE},
	{"0.8.1", "0.8.1", 3, FVERSION_SAME},
	{"0.8.1", "0.8.1.0", 3, FVERSION_SAME},
	{"0.8.1.3", "0.8.1.3", 2, FVERSION_SAME},
	{"0.8.1", "0.8.1.1", 3, FVERSION_MINOR},
	/* data_parts 2: the third number is a minor change */
	{"0.8.0", "0.8.1", 2, FVERSION_MINOR},
	{"0.8.1.7", "0.8.9", 2, FVERSION_MINOR},
	{"0.8.1", "0.8.0", 2, FVERSION_DOWNGRADE},
	{"0.8.5", "0.9.0", 2, FVERSION_MAJOR},
	{"0.9.0", "0.8.5", 2, FVERSION_DOWNGRADE},
	/* data_parts 4: every number is a data change */
	{"0.8.1.1", "0.8.1.4", 4, FVERSION_MAJOR},
	{"0.8.1.4", "0.8.1.1", 4, FVERSION_DOWNGRADE},
	{"0.8.1", "0.8.1.0", 4, FVERSION_SAME},
	/* across majors */
	{"0.9.9.9", "1", 3, FVERSION_MAJOR},
	{"1.0", "0.9.9.9", 3, FVERSION_DOWNGRADE},
	{"0.9.9", "1.0", 2, FVERSION_MAJOR},
	/* development builds: the suffix is part of the data version */
	{"0.8.1-dev", "0.8.1", 3, FVERSION_MAJOR},
	{"0.8.1", "0.8.1-dev", 3, FVERSION_DOWNGRADE},
	{"0.8.1.1-dev", "0.8.1.2-dev", 3, FVERSION_MINOR},
	{"0.8.1.2-dev", "0.8.1.1-dev", 3, FVERSION_DOWNGRADE},
	{"0.8.1-dev", "0.8.1-dev", 3, FVERSION_SAME},
	{"0.8.1-rc.1", "0.8.1-rc.2", 3, FVERSION_MAJOR},
	{"0.8.1-rc.2", "0.8.1-rc.1", 3, FVERSION_DOWNGRADE},
	{"0.8.0", "0.9.0-dev", 3, FVERSION_MAJOR},
	{"0.9.0-dev", "0.8.0", 3, FVERSION_DOWNGRADE},
	{"0.8.1.5", "0.8.1.2-dev", 3, FVERSION_DOWNGRADE},
	/* newer release whose data version sorts lower: still forward */
	{"0.8.1.0", "0.8.1.1-dev", 3, FVERSION_MAJOR},
	{"0.8.1.1-dev", "0.8.1.0", 3, FVERSION_DOWNGRADE},
	{"0.8.0", "0.8.1-dev", 2, FVERSION_MAJOR},
};

static void test_classify_matrix(void **state)
{
	for (size_t i = 0; i < N_ELEMS(classes); i++) {
		const struct cls *c = &classes[i];
		fversion a = must_parse(c->from), b = must_parse(c->to);
		enum fversion_change got = fversion_classify(&a, &b,
							     c->data_parts);
		if (got != c->want)
			fail_msg("%s -> %s (data_parts %u): got %d, want %d",
				 c->from, c->to, c->data_parts, got, c->want);
	}
}

/* Over the ascending list: a move up is minor or major, a move down a
 * downgrade, and a move up is minor exactly when the data versions are
 * equal. */
static void test_classify_consistent(void **state)
{
	static const unsigned dps[] = {0, 2, 3, 4};
	size_t n = N_ELEMS(ascending);

	for (size_t k = 0; k < N_ELEMS(dps); k++) {
		for (size_t i = 0; i < n; i++) {
			fversion a = must_parse(ascending[i]);
			fversion da;
			fversion_data(&a, dps[k], &da);
			assert_int_equal(fversion_classify(&a, &a, dps[k]),
					 FVERSION_SAME);
			for (size_t j = i + 1; j < n; j++) {
				fversion b = must_parse(ascending[j]);
				fversion db;
				fversion_data(&b, dps[k], &db);
				enum fversion_change up =
					fversion_classify(&a, &b, dps[k]);
				enum fversion_change want =
					fversion_cmp(&da, &db) == 0
						? FVERSION_MINOR
						: FVERSION_MAJOR;
				assert_int_equal(up, want);
				assert_int_equal(fversion_classify(&b, &a,
								   dps[k]),
						 FVERSION_DOWNGRADE);
			}
		}
	}
}

static void test_is_dev(void **state)
{
	fversion v = must_parse("0.9.0-dev");
	assert_true(fversion_is_dev(&v));
	v = must_parse("0.9.0-rc1");
	assert_true(fversion_is_dev(&v));
	v = must_parse("0.9.0");
	assert_false(fversion_is_dev(&v));
	v = must_parse("0.9.0.1");
	assert_false(fversion_is_dev(&v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_null_and_spec_example),
		cmocka_unit_test(test_parse_mutations),
		cmocka_unit_test(test_order_pairs),
		cmocka_unit_test(test_order_sort),
		cmocka_unit_test(test_order_equal),
		cmocka_unit_test(test_data_and_token),
		cmocka_unit_test(test_format_limits),
		cmocka_unit_test(test_parse_token),
		cmocka_unit_test(test_classify_matrix),
		cmocka_unit_test(test_classify_consistent),
		cmocka_unit_test(test_is_dev),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
