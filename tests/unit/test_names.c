/*
 * test_names.c - unit tests for src/core/names.c: tenant and index names
 * (every bad character at every position, the 63/64 boundary), ES index
 * name rules, splitting physical names and aliases, document ids (length,
 * NUL, UTF-8 checked exhaustively against a reference decoder) and index
 * patterns.
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

static void expect_msg(const ferry_err *err, const char *prefix,
		       const char *part)
{
	assert_int_equal(err->code, FERRY_ENAME);
	if (strncmp(err->msg, prefix, strlen(prefix)) != 0)
		fail_msg("message does not start with \"%s\": %s", prefix,
			 err->msg);
	if (part && !strstr(err->msg, part))
		fail_msg("message lacks \"%s\": %s", part, err->msg);
}

/* ---- tenant and index names -------------------------------------------- */

static void test_part_good(void **state)
{
	static const char *const good[] = {
		"a", "0", "z9", "acme", "default", "a-b", "a_b", "a-", "a_",
		"logs-2024", "profile", "9lives", "a--__--b",
		"abcdefghijklmnopqrstuvwxyz0123456789-_abcdefghijklmnopqrstuvwxy",
	};
	for (size_t i = 0; i < N_ELEMS(good); i++) {
		ferry_err err = {0, ""};
		if (fname_check_part(good[i], "index", &err))
			fail_msg("'%s' refused: %s", good[i], err.msg);
	}
}

static void test_part_bad_every_position(void **state)
{
	static const char bad_chars[] = {
		'A', 'Z', '.', ' ', '/', '\\', '*', '?', '"', '<', '>', '|',
		',', '#', ':', '+', '=', '@', '!', '~', '\t', '\x01', '\x7f',
		'\x80', '\xc3', '\xff',
	};
	const char *base = "abcdefgh";
	size_t blen = strlen(base);

	for (size_t k = 0; k < N_ELEMS(bad_chars); k++) {
		for (size_t pos = 0; pos < blen; pos++) {
			char s[16], shown[FNAME_SHOW_BUF],
				prefix[FNAME_SHOW_BUF + 32], where[64];
			ferry_err err = {0, ""};
			memcpy(s, base, blen + 1);
			s[pos] = bad_chars[k];
			assert_int_equal(fname_check_part(s, "tenant", &err),
					 FERRY_ENAME);
			fname_show(s, blen, shown, sizeof shown);
			snprintf(prefix, sizeof prefix,
				 "bad tenant name '%s': ", shown);
			snprintf(where, sizeof where, "character %zu ",
				 pos + 1);
			expect_msg(&err, prefix, where);
			assert_int_equal(fname_check_part(s, "tenant", NULL),
					 FERRY_ENAME);
		}
	}
}

static void test_part_bad_first(void **state)
{
	ferry_err err = {0, ""};

	assert_int_equal(fname_check_part("-acme", "tenant", &err),
			 FERRY_ENAME);
	expect_msg(&err, "bad tenant name '-acme': ", "starts with '-'");
	assert_int_equal(fname_check_part("_acme", "index", &err),
			 FERRY_ENAME);
	expect_msg(&err, "bad index name '_acme': ", "starts with '_'");
	/* but fine anywhere else */
	assert_int_equal(fname_check_part("a-_", "index", &err), 0);

	assert_int_equal(fname_check_part("Profile", "index", &err),
			 FERRY_ENAME);
	expect_msg(&err, "bad index name 'Profile': ",
		   "character 1 'P' is uppercase; names are lowercase, "
		   "write 'p'");
	assert_int_equal(fname_check_part("acme.profile", "index", &err),
			 FERRY_ENAME);
	expect_msg(&err, "bad index name 'acme.profile': ",
		   "character 5 '.' is not allowed");
	assert_int_equal(fname_check_part("a b", NULL, &err), FERRY_ENAME);
	expect_msg(&err, "bad name 'a b': ", "character 2 ' ' is not allowed");
}

static void test_part_empty_and_length(void **state)
{
	ferry_err err = {0, ""};
	char s[80];

	assert_int_equal(fname_check_part("", "tenant", &err), FERRY_ENAME);
	expect_msg(&err, "bad tenant name '': it is empty", NULL);
	assert_int_equal(fname_check_part(NULL, "tenant", &err), FERRY_ENAME);
	expect_msg(&err, "bad tenant name '': it is empty", NULL);

	for (size_t len = 1; len < sizeof s; len++) {
		memset(s, 'a', len);
		s[len] = '\0';
		int rc = fname_check_part(s, "index", &err);
		if (len <= 63) {
			assert_int_equal(rc, 0);
		} else {
			char why[64];
			assert_int_equal(rc, FERRY_ENAME);
			snprintf(why, sizeof why, "it is %zu characters long; "
				 "the limit is 63", len);
			expect_msg(&err, "bad index name 'aaaa", why);
		}
	}
}

/* ---- ES index-name rules ----------------------------------------------- */

static void test_physical_good(void **state)
{
	static const char *const good[] = {
		"a", "v0_8_1.acme.profile", "logs-2024", ".kibana", "a+b",
		"a.b.c.d", "caf\xc3\xa9", "a-", "a_", "0", "\xe2\x82\xac",
		"a=b", "a!b", "a..b", "...",
	};
	char s[300];

	for (size_t i = 0; i < N_ELEMS(good); i++) {
		ferry_err err = {0, ""};
		if (fname_check_physical(good[i], &err))
			fail_msg("'%s' refused: %s", good[i], err.msg);
	}
	memset(s, 'a', 255);
	s[255] = '\0';
	assert_int_equal(fname_check_physical(s, NULL), 0);
}

static void test_physical_bad(void **state)
{
	static const struct {
		const char *in, *shown, *why;
	} bad[] = {
		{"", "", "it is empty"},
		{".", ".", "'.' and '..' are not index names"},
		{"..", "..", "'.' and '..' are not index names"},
		{"-a", "-a", "starts with '-'"},
		{"_a", "_a", "starts with '_'"},
		{"+a", "+a", "starts with '+'"},
		{"aBc", "aBc", "character 2 'B' is uppercase"},
		{"ab\\c", "ab\\c", "character 3 '\\' is not allowed"},
		{"ab/c", "ab/c", "character 3 '/' is not allowed"},
		{"ab*c", "ab*c", "character 3 '*' is not allowed"},
		{"ab?c", "ab?c", "character 3 '?' is not allowed"},
		{"ab\"c", "ab\"c", "character 3 '\"' is not allowed"},
		{"ab<c", "ab<c", "character 3 '<' is not allowed"},
		{"ab>c", "ab>c", "character 3 '>' is not allowed"},
		{"ab|c", "ab|c", "character 3 '|' is not allowed"},
		{"ab c", "ab c", "character 3 ' ' is not allowed"},
		{"ab,c", "ab,c", "character 3 ',' is not allowed"},
		{"ab#c", "ab#c", "character 3 '#' is not allowed"},
		{"ab:c", "ab:c", "character 3 ':' is not allowed"},
		{"ab\x01" "c", "ab\\x01c", "byte 3 (\\x01) is a control"},
		{"ab\x7f", "ab\\x7f", "byte 3 (\\x7f) is a control"},
		{"ab\xff", "ab\\xff", "byte 3 (\\xff) is not valid UTF-8"},
		{"a\xc0\xaf", "a\\xc0\\xaf", "byte 2 (\\xc0) is not valid"},
		{"\xed\xa0\x80", "\\xed\\xa0\\x80", "byte 1 (\\xed) is not"},
		{"a\xc3", "a\\xc3", "byte 2 (\\xc3) is not valid UTF-8"},
	};
	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		ferry_err err = {0, ""};
		char prefix[128];
		if (fname_check_physical(bad[i].in, &err) != FERRY_ENAME)
			fail_msg("'%s' accepted", bad[i].in);
		snprintf(prefix, sizeof prefix, "bad index name '%s': ",
			 bad[i].shown);
		expect_msg(&err, prefix, bad[i].why);
	}

	char s[300];
	ferry_err err = {0, ""};
	memset(s, 'a', 256);
	s[256] = '\0';
	assert_int_equal(fname_check_physical(s, &err), FERRY_ENAME);
	expect_msg(&err, "bad index name 'aaaa",
		   "it is 256 bytes long; the limit is 255");
	assert_non_null(strstr(err.msg, "...'"));
	assert_int_equal(fname_check_physical(NULL, &err), FERRY_ENAME);
}

/* ---- parse, physical, alias -------------------------------------------- */

struct parsecase {
	const char *in;
	enum fname_kind kind;
	const char *vtoken, *tenant, *index;
};

static const struct parsecase parses[] = {
	{"profile", FNAME_LOGICAL, "", "", "profile"},
	{"logs-2024", FNAME_LOGICAL, "", "", "logs-2024"},
	{"0", FNAME_LOGICAL, "", "", "0"},
	{"v0_8_1", FNAME_LOGICAL, "", "", "v0_8_1"},
	{"acme.profile", FNAME_ALIAS, "", "acme", "profile"},
	{"default.event", FNAME_ALIAS, "", "default", "event"},
	{"v0_8_1.acme", FNAME_ALIAS, "", "v0_8_1", "acme"},
	{"v0_8_1.acme.profile", FNAME_PHYSICAL, "v0_8_1", "acme", "profile"},
	{"v0_8.acme.profile", FNAME_PHYSICAL, "v0_8", "acme", "profile"},
	{"v0_8_1_3.acme.profile", FNAME_PHYSICAL, "v0_8_1_3", "acme",
	 "profile"},
	{"v1.a.b", FNAME_PHYSICAL, "v1", "a", "b"},
	{"v0_9_0-dev.acme.profile", FNAME_PHYSICAL, "v0_9_0-dev", "acme",
	 "profile"},
	{"v1_0_0-rc_1.default.event", FNAME_PHYSICAL, "v1_0_0-rc_1", "default",
	 "event"},
	{"a.b.c.d", FNAME_OTHER, "", "", ""},
	{"x0_8_1.acme.profile", FNAME_OTHER, "", "", ""},
	{"v0_08_1.acme.profile", FNAME_OTHER, "", "", ""},
	{"v0_8_1_3_4.acme.profile", FNAME_OTHER, "", "", ""},
	{"v0_8_1-.acme.profile", FNAME_OTHER, "", "", ""},
	{"v0_8_1..profile", FNAME_OTHER, "", "", ""},
	{"v0_8_1.acme.", FNAME_OTHER, "", "", ""},
	{"v0_8_1.acme.-x", FNAME_OTHER, "", "", ""},
	{".kibana", FNAME_OTHER, "", "", ""},
	{"acme.", FNAME_OTHER, "", "", ""},
	{"acme.-x", FNAME_OTHER, "", "", ""},
	{"acme..profile", FNAME_OTHER, "", "", ""},
	{"a+b", FNAME_OTHER, "", "", ""},
	{"caf\xc3\xa9", FNAME_OTHER, "", "", ""},
	{"acme.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	 FNAME_OTHER, "", "", ""},
};

static void test_parse(void **state)
{
	for (size_t i = 0; i < N_ELEMS(parses); i++) {
		const struct parsecase *c = &parses[i];
		fname_parts p;
		ferry_err err = {0, ""};
		char buf[FERRY_NAME_MAX + 1];

		if (fname_parse(c->in, &p, &err))
			fail_msg("'%s' refused: %s", c->in, err.msg);
		if (p.kind != c->kind)
			fail_msg("'%s': kind %d, want %d", c->in, p.kind,
				 c->kind);
		assert_string_equal(p.vtoken, c->vtoken);
		assert_string_equal(p.tenant, c->tenant);
		assert_string_equal(p.index, c->index);
		/* and back */
		if (c->kind == FNAME_PHYSICAL) {
			assert_int_equal(fname_physical(p.vtoken, p.tenant,
							p.index, buf,
							sizeof buf), 0);
			assert_string_equal(buf, c->in);
		} else if (c->kind == FNAME_ALIAS) {
			assert_int_equal(fname_alias(p.tenant, p.index, buf,
						     sizeof buf), 0);
			assert_string_equal(buf, c->in);
		}
	}
}

static void test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "Acme.profile", "v0_8_1.Acme.profile", "_all", "-x", "a b",
		"a,b", "a*", ".", "..", "a\xff",
	};
	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		fname_parts p, before;
		ferry_err err = {0, ""};
		memset(&p, 0x77, sizeof p);
		before = p;
		if (fname_parse(bad[i], &p, &err) != FERRY_ENAME)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(err.code, FERRY_ENAME);
		assert_non_null(strstr(err.msg, "bad index name '"));
		assert_memory_equal(&p, &before, sizeof p);
	}
	fname_parts p;
	assert_int_equal(fname_parse(NULL, &p, NULL), FERRY_ENAME);
}

static void test_physical_and_alias(void **state)
{
	char buf[32];
	char big[FERRY_NAME_MAX + 1];
	char t63[64];

	assert_int_equal(fname_physical("v0_8_1", "acme", "profile", buf,
					sizeof buf), 0);
	assert_string_equal(buf, "v0_8_1.acme.profile");
	assert_int_equal(fname_alias("acme", "profile", buf, sizeof buf), 0);
	assert_string_equal(buf, "acme.profile");

	/* exact fit, one short */
	memset(buf, 'x', sizeof buf);
	assert_int_equal(fname_physical("v0_8_1", "acme", "profile", buf, 19),
			 FERRY_ELIMIT);
	assert_int_equal(buf[0], 'x');
	assert_int_equal(fname_physical("v0_8_1", "acme", "profile", buf, 20),
			 0);
	assert_int_equal(fname_alias("acme", "profile", buf, 12),
			 FERRY_ELIMIT);
	assert_int_equal(fname_alias("acme", "profile", buf, 13), 0);
	assert_int_equal(fname_alias("acme", "profile", buf, 0), FERRY_ELIMIT);

	/* bad pieces */
	assert_int_equal(fname_physical("0_8_1", "acme", "p", buf, sizeof buf),
			 FERRY_ENAME);
	assert_int_equal(fname_physical("v0_8_1", "Acme", "p", buf,
					sizeof buf), FERRY_ENAME);
	assert_int_equal(fname_physical("v0_8_1", "acme", "", buf, sizeof buf),
			 FERRY_ENAME);
	assert_int_equal(fname_physical(NULL, "acme", "p", buf, sizeof buf),
			 FERRY_ENAME);
	assert_int_equal(fname_alias("a.b", "p", buf, sizeof buf),
			 FERRY_ENAME);
	assert_int_equal(fname_alias("acme", NULL, buf, sizeof buf),
			 FERRY_ENAME);

	/* the longest physical name fits FERRY_NAME_MAX */
	memset(t63, 'a', 63);
	t63[63] = '\0';
	assert_int_equal(fname_physical("v4294967295_4294967295_4294967295_"
					"4294967295-abcdefghijklmnop_r",
					t63, t63, big, sizeof big), 0);
	assert_int_equal(strlen(big), 63 + 1 + 63 + 1 + 63);
	assert_int_equal(fname_check_physical(big, NULL), 0);
	fname_parts p;
	assert_int_equal(fname_parse(big, &p, NULL), 0);
	assert_int_equal(p.kind, FNAME_PHYSICAL);
	t63[0] = 'b';
	t63[62] = 'c';
	char t64[65];
	memset(t64, 'a', 64);
	t64[64] = '\0';
	assert_int_equal(fname_alias(t64, "p", big, sizeof big), FERRY_ENAME);
	assert_int_equal(fname_alias(t63, t63, big, sizeof big), 0);
}

/* A physical name built from any data version parses back to its parts. */
static void test_physical_from_versions(void **state)
{
	static const char *const rel[] = {
		"0.8.1.3", "0.9.0-dev", "1.0.0-rc.1", "1", "10.20.30.40-a-b.c",
	};
	for (size_t i = 0; i < N_ELEMS(rel); i++) {
		for (unsigned dp = 2; dp <= 4; dp++) {
			fversion v, d;
			char tok[FVERSION_BUF], name[FERRY_NAME_MAX + 1];
			fname_parts p;
			assert_int_equal(fversion_parse(rel[i], &v, NULL), 0);
			fversion_data(&v, dp, &d);
			assert_int_equal(fversion_token(&d, tok, sizeof tok),
					 0);
			assert_int_equal(fname_physical(tok, "acme", "profile",
							name, sizeof name), 0);
			assert_int_equal(fname_parse(name, &p, NULL), 0);
			assert_int_equal(p.kind, FNAME_PHYSICAL);
			assert_string_equal(p.vtoken, tok);
		}
	}
}

/* ---- document ids ------------------------------------------------------ */

/* Reference: decode one UTF-8 sequence the long way. Returns its length,
 * or 0 if s[0..len) does not start with a valid one. */
static size_t ref_utf8_one(const unsigned char *s, size_t len)
{
	unsigned c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0) {
		n = 2;
		cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		cp = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static int ref_id_ok(const unsigned char *s, size_t len)
{
	if (len == 0 || len > FERRY_ID_MAX)
		return 0;
	for (size_t i = 0; i < len;) {
		if (s[i] == 0)
			return 0;
		size_t n = ref_utf8_one(s + i, len - i);
		if (!n)
			return 0;
		i += n;
	}
	return 1;
}

static void test_id_utf8_exhaustive(void **state)
{
	unsigned char b[4];

	/* every 1-, 2- and 3-byte string */
	for (uint32_t x = 0; x < 0x1000000; x++) {
		b[0] = (unsigned char)(x >> 16);
		b[1] = (unsigned char)(x >> 8);
		b[2] = (unsigned char)x;
		if (x < 0x100 && (fname_check_id((char *)b + 2, 1, NULL) == 0) !=
					 ref_id_ok(b + 2, 1))
			fail_msg("1-byte %02x", b[2]);
		if (x < 0x10000 && (fname_check_id((char *)b + 1, 2, NULL) == 0) !=
					   ref_id_ok(b + 1, 2))
			fail_msg("2-byte %02x %02x", b[1], b[2]);
		if ((fname_check_id((char *)b, 3, NULL) == 0) !=
		    ref_id_ok(b, 3))
			fail_msg("3-byte %02x %02x %02x", b[0], b[1], b[2]);
	}
	/* 4-byte strings: every first two bytes, some of the last two */
	static const unsigned char tail[] = {0x00, 0x41, 0x7f, 0x80, 0x8f,
					     0x90, 0x9f, 0xa0, 0xbf, 0xc0,
					     0xf4, 0xff};
	for (unsigned x = 0; x < 0x10000; x++) {
		b[0] = (unsigned char)(x >> 8);
		b[1] = (unsigned char)x;
		for (size_t i = 0; i < N_ELEMS(tail); i++) {
			for (size_t j = 0; j < N_ELEMS(tail); j++) {
				b[2] = tail[i];
				b[3] = tail[j];
				if ((fname_check_id((char *)b, 4, NULL) == 0) !=
				    ref_id_ok(b, 4))
					fail_msg("4-byte %02x %02x %02x %02x",
						 b[0], b[1], b[2], b[3]);
			}
		}
	}
}

static void test_id_cases(void **state)
{
	static const struct {
		const char *id;
		size_t len;
		int ok;
		const char *why;
	} cases[] = {
		{"a", 1, 1, NULL},
		{"doc-1", 5, 1, NULL},
		{"\xe2\x82\xac", 3, 1, NULL},             /* U+20AC */
		{"\xf0\x9f\x98\x80", 4, 1, NULL},         /* U+1F600 */
		{"\xf4\x8f\xbf\xbf", 4, 1, NULL},         /* U+10FFFF */
		{"\xef\xbf\xbf", 3, 1, NULL},             /* U+FFFF */
		{"", 0, 0, "it is empty"},
		{"a\0b", 3, 0, "byte 2 is a NUL byte"},
		{"\0", 1, 0, "byte 1 is a NUL byte"},
		{"\xc0\x80", 2, 0, "byte 1 (\\xc0) is not valid UTF-8"},
		{"\xc1\xbf", 2, 0, "is not valid UTF-8"},
		{"\xe0\x80\x80", 3, 0, "is not valid UTF-8"},
		{"\xe0\x9f\xbf", 3, 0, "is not valid UTF-8"},
		{"\xed\xa0\x80", 3, 0, "is not valid UTF-8"}, /* U+D800 */
		{"\xed\xbf\xbf", 3, 0, "is not valid UTF-8"}, /* U+DFFF */
		{"\xf0\x80\x80\x80", 4, 0, "is not valid UTF-8"},
		{"\xf0\x8f\xbf\xbf", 4, 0, "is not valid UTF-8"},
		{"\xf4\x90\x80\x80", 4, 0, "is not valid UTF-8"},
		{"\xf5\x80\x80\x80", 4, 0, "is not valid UTF-8"},
		{"ab\xff", 3, 0, "byte 3 (\\xff) is not valid UTF-8"},
		{"\x80", 1, 0, "byte 1 (\\x80)"},
		{"x\xe2\x82", 3, 0, "byte 2 (\\xe2)"},
		{"x\xc3", 2, 0, "byte 2 (\\xc3)"},
		{"\xc3\x28", 2, 0, "byte 1 (\\xc3)"},
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		ferry_err err = {0, ""};
		int rc = fname_check_id(cases[i].id, cases[i].len, &err);
		if (cases[i].ok) {
			if (rc)
				fail_msg("case %zu refused: %s", i, err.msg);
			continue;
		}
		if (rc != FERRY_ENAME)
			fail_msg("case %zu accepted", i);
		expect_msg(&err, "bad document id '", cases[i].why);
	}
	assert_int_equal(fname_check_id(NULL, 0, NULL), FERRY_ENAME);
	assert_int_equal(fname_check_id(NULL, 5, NULL), FERRY_ENAME);
}

static void test_id_length(void **state)
{
	char id[FERRY_ID_MAX + 8];
	ferry_err err = {0, ""};

	memset(id, 'x', sizeof id);
	assert_int_equal(fname_check_id(id, 512, &err), 0);
	assert_int_equal(fname_check_id(id, 1, &err), 0);
	assert_int_equal(fname_check_id(id, 513, &err), FERRY_ENAME);
	expect_msg(&err, "bad document id 'xxxx",
		   "it is 513 bytes long; the limit is 512");
	assert_non_null(strstr(err.msg, "...'"));

	/* 512 bytes of multi-byte characters: 170 x U+20AC + "ab" */
	for (int i = 0; i < 170; i++)
		memcpy(id + 3 * i, "\xe2\x82\xac", 3);
	memcpy(id + 510, "ab", 2);
	assert_int_equal(fname_check_id(id, 512, &err), 0);
	/* cut inside a character */
	assert_int_equal(fname_check_id(id, 509, &err), FERRY_ENAME);
	expect_msg(&err, "bad document id '", "byte 508 (\\xe2)");
}

/* ---- patterns ---------------------------------------------------------- */

struct globcase {
	const char *pat, *s;
	int want;
};

static const struct globcase globs[] = {
	{NULL, "anything", 1},
	{"", "anything", 1},
	{"*", "", 1},
	{"*", "abc", 1},
	{"_all", "abc", 1},
	{"abc", "abc", 1},
	{"abc", "abd", 0},
	{"ab", "abc", 0},
	{"abc", "ab", 0},
	{"a*", "a", 1},
	{"a*", "abc", 1},
	{"a*", "ba", 0},
	{"*c", "abc", 1},
	{"*c", "abcd", 0},
	{"a*c", "abbbc", 1},
	{"a*c", "ac", 1},
	{"a*c", "acb", 0},
	{"a*b*c", "axxbyyc", 1},
	{"a*b*c", "axxcyyb", 0},
	{"*a*", "bab", 1},
	{"**", "", 1},
	{"*?*", "", 0},
	{"*?*", "x", 1},
	{"?", "a", 1},
	{"?", "", 0},
	{"?", "ab", 0},
	{"a?c", "abc", 1},
	{"a?c", "ac", 0},
	{"?", "\xc3\xa9", 1},
	{"??", "\xc3\xa9", 0},
	{"caf?", "caf\xc3\xa9", 1},
	{"*.profile", "acme.profile", 1},
	{"*.profile", "acme.event", 0},
	{"v0_8_*,-v0_8_1.*", "v0_8_0.acme.profile", 1},
	{"v0_8_*,-v0_8_1.*", "v0_8_1.acme.profile", 0},
	{"v0_8_*,-v0_8_1.*", "v0_9_0.acme.profile", 0},
	{"a,b", "a", 1},
	{"a,b", "b", 1},
	{"a,b", "c", 0},
	{"-a", "a", 0},
	{"-a", "b", 1},
	{"-a*,-b*", "c", 1},
	{"-a*,-b*", "bc", 0},
	{"a*,-ab*,abc", "abc", 1},
	{"a*,-ab*,abc", "abd", 0},
	{"a*,-ab*,abc", "ax", 1},
	{",,a,,", "a", 1},
	{",,a,,", "b", 0},
	{",", "a", 0},
	{"a,_all", "zzz", 1},
	{"a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
	{"*x", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaax", 1},
};

static void test_glob(void **state)
{
	for (size_t i = 0; i < N_ELEMS(globs); i++) {
		int got = fname_glob(globs[i].pat, globs[i].s);
		if (got != globs[i].want)
			fail_msg("glob('%s', '%s') = %d, want %d",
				 globs[i].pat ? globs[i].pat : "(null)",
				 globs[i].s, got, globs[i].want);
	}
	assert_int_equal(fname_glob("*", NULL), 1);
	assert_int_equal(fname_glob("a", NULL), 0);
}

/* ---- fname_show -------------------------------------------------------- */

static void test_show(void **state)
{
	char out[FNAME_SHOW_BUF];
	char small[6];
	char in[200];

	fname_show("ab\x01\xff", 4, out, sizeof out);
	assert_string_equal(out, "ab\\x01\\xff");
	fname_show(NULL, 3, out, sizeof out);
	assert_string_equal(out, "");
	memset(in, 'y', sizeof in);
	fname_show(in, sizeof in, out, sizeof out);
	assert_int_equal(strlen(out), 64 + 3);
	assert_string_equal(out + 64, "...");
	memset(in, 0xff, sizeof in);
	fname_show(in, sizeof in, out, sizeof out);
	assert_int_equal(strlen(out), 64 * 4 + 3);
	fname_show("abcdefgh", 8, small, sizeof small);
	assert_string_equal(small, "abcde");
	fname_show("\xff\xff", 2, small, sizeof small);
	assert_string_equal(small, "\\xff");
	fname_show("abc", 3, small, 0); /* no write at all */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_part_good),
		cmocka_unit_test(test_part_bad_every_position),
		cmocka_unit_test(test_part_bad_first),
		cmocka_unit_test(test_part_empty_and_length),
		cmocka_unit_test(test_physical_good),
		cmocka_unit_test(test_physical_bad),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_physical_and_alias),
		cmocka_unit_test(test_physical_from_versions),
		cmocka_unit_test(test_id_utf8_exhaustive),
		cmocka_unit_test(test_id_cases),
		cmocka_unit_test(test_id_length),
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_show),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
