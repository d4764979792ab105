/*
 * test_json.c - unit tests of src/json: the valid and invalid corpora with
 * exact error offsets, escapes and UTF-8 edges, depth and duplicate keys,
 * number lexemes, the writer, paths, equality, clone and the arena.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ferry/ferry.h"
#include "json/json.h"
#include "testutil.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static json_arena *arena;

static int setup(void **state)
{
	arena = json_arena_new();
	return arena ? 0 : -1;
}

static int teardown(void **state)
{
	json_arena_free(arena);
	arena = NULL;
	return 0;
}

/* Parses s (asserting success) into the test arena. */
static json_value *P(const char *s)
{
	json_value *v = NULL;
	json_error e = {0, NULL};
	int rc = json_parse(arena, s, strlen(s), &v, &e);
	if (rc)
		fail_msg("parse of %s failed at %zu: %s", s, e.offset, e.msg);
	assert_non_null(v);
	return v;
}

/* Writes v into a fresh string (freed by the caller). */
static char *W(const json_value *v)
{
	fbuf b = FBUF_INIT;
	assert_int_equal(json_write(v, &b), 0);
	return fbuf_detach(&b, NULL);
}

static void expect_valid_n(const char *s, size_t n)
{
	json_error e = {0, NULL};
	json_value *v = NULL;
	if (json_validate(s, n, &e))
		fail_msg("validate of %.*s failed at %zu: %s", (int)n, s,
			 e.offset, e.msg);
	assert_int_equal(json_parse(arena, s, n, &v, &e), 0);
	assert_non_null(v);
}

static void expect_valid(const char *s) { expect_valid_n(s, strlen(s)); }

/* validate and parse must both fail at `off` with the same message. */
static void expect_invalid_n(const char *s, size_t n, size_t off)
{
	json_error e = {999999, NULL}, e2 = {999999, NULL};
	json_value *v = NULL;
	assert_int_equal(json_validate(s, n, &e), FERRY_EJSON);
	if (e.offset != off)
		fail_msg("%.*s: offset %zu (%s), want %zu", (int)n, s, e.offset,
			 e.msg, off);
	assert_non_null(e.msg);
	assert_true(strlen(e.msg) > 0);
	assert_int_equal(json_parse(arena, s, n, &v, &e2), FERRY_EJSON);
	assert_null(v);
	assert_int_equal(e2.offset, off);
	assert_string_equal(e2.msg, e.msg);
	assert_int_equal(json_validate(s, n, NULL), FERRY_EJSON);
}

static void expect_invalid(const char *s, size_t off)
{
	expect_invalid_n(s, strlen(s), off);
}

static void expect_msg(const char *s, const char *msg)
{
	json_error e = {0, NULL};
	assert_int_equal(json_validate(s, strlen(s), &e), FERRY_EJSON);
	assert_string_equal(e.msg, msg);
}

/* parse -> write gives exactly `out`. */
static void expect_write(const char *in, const char *out)
{
	char *s = W(P(in));
	assert_string_equal(s, out);
	free(s);
}

/* ------------------------------------------------------------------ */
/* Validation corpus                                                   */

static void t_valid_corpus(void **state)
{
	static const char *ok[] = {
		"null", "true", "false", "0", "-0", "1", "-1", "0.5", "-0.5",
		"1e5", "1E5", "1e+5", "1e-5", "1.25e-10", "123456789012345678901234567890",
		"\"\"", "\"abc\"", "[]", "{}", "[[]]", "[{}]", "{\"a\":[]}",
		" \t\r\n[ 1 , 2 ]\n ", "{ \"a\" : 1 , \"b\" : [ true , null ] }",
		"[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\ud83d\\ude00\"]",
		"\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "\"\\u0000\"",
		"{\"\":0}", "[1,\"a\",{\"b\":null},[false]]", "\"\x7f\"",
		"\"\xef\xbf\xbf\"", "\"\xf4\x8f\xbf\xbf\"", "\"\xed\x9f\xbf\"",
		"\"\xee\x80\x80\"", "\"\xe0\xa0\x80\"", "\"\xf0\x90\x80\x80\"",
		"\"\xc2\x80\"", "\"\\uDBFF\\uDFFF\"", "\"\\uFFFF\"",
	};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
		expect_valid(ok[i]);
}

static void t_invalid_structure(void **state)
{
	expect_invalid("", 0);
	expect_invalid("   ", 3);
	expect_invalid("{", 1);
	expect_invalid("[", 1);
	expect_invalid("[1,", 3);
	expect_invalid("[1,]", 3);
	expect_invalid("[,1]", 1);
	expect_invalid("{\"a\":1,}", 7);
	expect_invalid("{,}", 1);
	expect_invalid("{\"a\" 1}", 5);
	expect_invalid("{\"a\":1 \"b\":2}", 7);
	expect_invalid("{\"a\"", 4);
	expect_invalid("{\"a\":", 5);
	expect_invalid("{\"a\":1", 6);
	expect_invalid("[1 2]", 3);
	expect_invalid("[\"a\":1]", 4);
	expect_invalid("{a:1}", 1);
	expect_invalid("{1:1}", 1);
	expect_invalid("[1}", 2);
	expect_invalid("{\"a\":1]", 6);
	expect_invalid("]", 0);
	expect_invalid("1 2", 2);
	expect_invalid("[1]x", 3);
	expect_invalid("{} {}", 3);
	expect_invalid("[1]]", 3);
	expect_invalid_n("[1]\0", 4, 3);
	expect_invalid_n("\0", 1, 0);
	expect_invalid("'a'", 0);
	expect_invalid("\xef\xbb\xbf{}", 0); /* no BOM */
}

static void t_invalid_literals_numbers(void **state)
{
	expect_invalid("tru", 3);
	expect_invalid("trux", 3);
	expect_invalid("True", 0);
	expect_invalid("nul", 3);
	expect_invalid("nulll", 4);
	expect_invalid("fals", 4);
	expect_invalid("falsy", 4);
	expect_invalid("NaN", 0);
	expect_invalid("Infinity", 0);
	expect_invalid("-Infinity", 1);
	expect_invalid("01", 1);
	expect_invalid("-01", 2);
	expect_invalid("00", 1);
	expect_invalid("-", 1);
	expect_invalid("-a", 1);
	expect_invalid("1.", 2);
	expect_invalid("1.e5", 2);
	expect_invalid("[1.]", 3);
	expect_invalid("1e", 2);
	expect_invalid("1e+", 3);
	expect_invalid("1ex", 2);
	expect_invalid("1e+-1", 3);
	expect_invalid("+1", 0);
	expect_invalid(".5", 0);
	expect_invalid("1x", 1);
	expect_invalid("0x10", 1);
	expect_invalid("1.5.2", 3);
	expect_invalid("[-]", 2);
	expect_msg("01", "leading zeros are not allowed");
	expect_msg("1.x", "expected a digit after '.'");
	expect_msg("1ex", "expected a digit in the exponent");
	expect_msg("-x", "expected a digit after '-'");
	expect_msg("trux", "invalid literal");
}

static void t_invalid_strings(void **state)
{
	expect_invalid("\"abc", 4);
	expect_invalid("\"", 1);
	expect_invalid("[\"a]", 4);
	expect_invalid("\"a\x01\"", 2);
	expect_invalid("\"\x1f\"", 1);
	expect_invalid("\"a\tb\"", 2);
	expect_invalid("\"a\nb\"", 2);
	expect_invalid_n("\"a\0b\"", 5, 2);
	expect_invalid("\"\\x\"", 1);
	expect_invalid("\"ab\\'\"", 3);
	expect_invalid("\"\\", 2);
	expect_invalid("\"\\u12G4\"", 1);
	expect_invalid("\"\\u12", 5);
	expect_invalid("\"\\u\"", 1);
	expect_invalid("\"\\U0041\"", 1);
	expect_msg("\"a\x01\"", "control character in string");
	expect_msg("\"\\x\"", "invalid escape in string");
	expect_msg("\"abc", "unterminated string");
}

static void t_surrogates(void **state)
{
	expect_invalid("\"\\uD800\"", 1);
	expect_invalid("\"\\uDC00\"", 1);
	expect_invalid("\"\\uDFFF\"", 1);
	expect_invalid("\"x\\uD800\\u0041\"", 2);
	expect_invalid("\"\\uD800\\n\"", 1);
	expect_invalid("\"\\uD800x\"", 1);
	expect_invalid("\"\\uDBFF\\uDBFF\"", 1);
	expect_invalid("\"\\uDC00\\uD800\"", 1);
	expect_invalid("\"ab\\uD800\\uZZZZ\"", 9);
	expect_invalid("\"\\uD800", 7);
	expect_invalid("\"\\uD800\\", 8);
	expect_invalid("\"\\uD800\\uDC0", 12);
	expect_msg("\"\\uD800\"", "lone surrogate in \\u escape");
	expect_valid("\"\\uD800\\uDC00\"");
	expect_valid("\"\\ud83d\\ude00\"");
}

static void t_utf8_edges(void **state)
{
	expect_invalid("\"\xc0\x80\"", 1);         /* overlong NUL */
	expect_invalid("\"\xc1\xbf\"", 1);         /* overlong */
	expect_invalid("\"\xe0\x80\x80\"", 1);     /* overlong 3-byte */
	expect_invalid("\"\xe0\x9f\xbf\"", 1);     /* overlong 3-byte */
	expect_invalid("\"\xf0\x80\x80\x80\"", 1); /* overlong 4-byte */
	expect_invalid("\"\xf0\x8f\xbf\xbf\"", 1);
	expect_invalid("\"\xed\xa0\x80\"", 1);     /* U+D800 in UTF-8 */
	expect_invalid("\"\xed\xbf\xbf\"", 1);     /* U+DFFF in UTF-8 */
	expect_invalid("\"\xf4\x90\x80\x80\"", 1); /* > U+10FFFF */
	expect_invalid("\"\xf5\x80\x80\x80\"", 1);
	expect_invalid("\"\xf8\x88\x80\x80\x80\"", 1);
	expect_invalid("\"\xff\"", 1);
	expect_invalid("\"\xfe\"", 1);
	expect_invalid("\"a\x80\"", 2);            /* lone continuation */
	expect_invalid("\"\xc3\"", 1);             /* cut by the quote */
	expect_invalid("\"a\xe2\x82\"", 2);
	expect_invalid("\"\xe2\x82x\"", 1);
	expect_invalid("\"\xc3", 2);               /* cut by the end */
	expect_invalid("\"\xf0\x9f\x98", 4);
	expect_invalid("[\"ok\",\"\xc3\x28\"]", 7);
	expect_msg("\"\xff\"", "invalid UTF-8 in string");
	/* 8-byte fast path: the bad byte deep inside a long run */
	expect_invalid("\"abcdefghijklmnop\xffqrstuvwxyz\"", 17);
	expect_invalid("\"abcdefghijklmnop\x01qrstuvwxyz\"", 17);
	expect_valid("\"abcdefghijklmnop\xc3\xa9qrstuvwxyz\"");
}

static void t_depth_limit(void **state)
{
	size_t n = JSON_MAX_DEPTH;
	char *s = malloc(2 * n + 4);
	assert_non_null(s);
	memset(s, '[', n);
	memset(s + n, ']', n);
	expect_valid_n(s, 2 * n);
	memset(s, '[', n + 1);
	memset(s + n + 1, ']', n + 1);
	expect_invalid_n(s, 2 * n + 2, n);
	expect_msg("[", "unexpected end of input");
	json_error e;
	assert_int_equal(json_validate(s, 2 * n + 2, &e), FERRY_EJSON);
	assert_string_equal(e.msg, "nesting too deep");
	/* objects count too: {"a":[{"a":... */
	fbuf b = FBUF_INIT;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(fbuf_adds(&b, i % 2 ? "[" : "{\"a\":"), 0);
	assert_int_equal(fbuf_adds(&b, "1"), 0);
	for (size_t i = n; i-- > 0;)
		assert_int_equal(fbuf_adds(&b, i % 2 ? "]" : "}"), 0);
	expect_valid_n(b.p, b.len);
	fbuf_release(&b);
	free(s);
}

/* ------------------------------------------------------------------ */
/* Duplicate keys                                                      */

static void t_duplicate_keys(void **state)
{
	expect_invalid("{\"a\":1,\"a\":2}", 7);
	expect_invalid("{\"a\":1,\"b\":2,\"a\":3}", 13);
	expect_invalid("{\"a\":1,\"\\u0061\":2}", 7);
	expect_invalid("{\"\\u0061\":1,\"a\":2}", 12);
	expect_invalid("{\"\\u0061\":1,\"\\u0061\":2}", 12);
	expect_invalid("{\"\xc3\xa9\":1,\"\\u00e9\":2}", 8);
	expect_invalid("{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}", 18);
	expect_invalid("{\"\":1,\"\":2}", 6);
	expect_invalid("{\"a\":{\"x\":1,\"x\":2}}", 12);
	expect_invalid("[{\"a\":1},{\"b\":1,\"b\":1}]", 16);
	expect_msg("{\"a\":1,\"a\":2}", "duplicate key");
	/* same key in different objects, or as a value, is fine */
	expect_valid("{\"a\":{\"a\":1},\"b\":{\"a\":2}}");
	expect_valid("{\"a\":\"a\",\"b\":[{\"a\":1},{\"a\":2}]}");
	expect_valid("{\"a\":1,\"A\":2,\"a \":3,\"\\\\a\":4,\"ab\":5}");
	expect_valid("{\"a\\\\\":1,\"a\\\\\\\\\":2}");
	expect_valid("{\"a\\u0000\":1,\"a\":2}");
	/* closed objects drop their keys: the outer "x" is not a dup */
	expect_valid("{\"o\":{\"x\":1},\"x\":2}");
}

/* An object of n keys "k0".."k{n-1}", then optionally key `dup` again. */
static char *big_object(size_t n, long dup, int escape_dup)
{
	fbuf b = FBUF_INIT;
	assert_int_equal(fbuf_addc(&b, '{'), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(fbuf_addf(&b, "%s\"k%zu\":%zu", i ? "," : "", i, i), 0);
	if (dup >= 0)
		assert_int_equal(fbuf_addf(&b, escape_dup ? ",\"\\u006b%ld\":0" : ",\"k%ld\":0", dup), 0);
	assert_int_equal(fbuf_addc(&b, '}'), 0);
	return fbuf_detach(&b, NULL);
}

static void t_duplicate_keys_big(void **state)
{
	size_t sizes[] = {31, 32, 33, 64, 129, 1000, 20000};
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		size_t n = sizes[i];
		char *s = big_object(n, -1, 0);
		expect_valid(s);
		json_value *v = P(s);
		assert_int_equal(v->u.obj.n, n);
		size_t len = strlen(s);
		free(s);
		for (int esc = 0; esc < 2; esc++) {
			long dups[] = {0, (long)n / 2, (long)n - 1};
			for (int d = 0; d < 3; d++) {
				s = big_object(n, dups[d], esc);
				expect_invalid(s, len);
				free(s);
			}
		}
	}
}

static void t_duplicate_keys_nested_big(void **state)
{
	/* many objects open at once, each with many keys: the key stack
	 * outgrows its on-stack part and indexes nest */
	fbuf b = FBUF_INIT;
	for (int d = 0; d < 10; d++) {
		assert_int_equal(fbuf_addc(&b, '{'), 0);
		for (int i = 0; i < 40; i++)
			assert_int_equal(fbuf_addf(&b, "\"k%d\":%d,", i, i), 0);
		assert_int_equal(fbuf_adds(&b, "\"in\":"), 0);
	}
	assert_int_equal(fbuf_adds(&b, "1"), 0);
	for (int d = 0; d < 10; d++)
		assert_int_equal(fbuf_adds(&b, ",\"z\":0}"), 0);
	expect_valid_n(b.p, b.len);
	/* now repeat "k5" in the innermost object */
	fbuf_clear(&b);
	for (int d = 0; d < 10; d++) {
		assert_int_equal(fbuf_addc(&b, '{'), 0);
		for (int i = 0; i < 40; i++)
			assert_int_equal(fbuf_addf(&b, "\"k%d\":%d,", i, i), 0);
		assert_int_equal(fbuf_adds(&b, "\"in\":"), 0);
	}
	size_t off = b.len + 2;
	assert_int_equal(fbuf_adds(&b, "1,\"k5\":1}"), 0);
	expect_invalid_n(b.p, b.len, off);
	fbuf_release(&b);
}

/* ------------------------------------------------------------------ */
/* validate_object                                                     */

static void expect_key(const char *doc, const char *key, const char *want)
{
	const char *val = (const char *)1;
	size_t vlen = 12345;
	json_error e;
	assert_int_equal(json_validate_object(doc, strlen(doc), key, &val, &vlen, &e), 0);
	if (!want) {
		assert_null(val);
		return;
	}
	assert_non_null(val);
	assert_int_equal(vlen, strlen(want));
	assert_memory_equal(val, want, vlen);
}

static void t_validate_object(void **state)
{
	expect_key("{\"id\":\"x1\",\"a\":{\"id\":2}}", "id", "\"x1\"");
	expect_key("{\"a\":{\"id\":2}}", "id", NULL);
	expect_key("{\"a\":[{\"id\":2}],\"b\":\"id\"}", "id", NULL);
	expect_key("{\"a\":{\"id\":2},\"id\":3}", "id", "3");
	expect_key("{\"x\":1,\"id\":{\"k\":[1,2]} , \"y\":2}", "id", "{\"k\":[1,2]}");
	expect_key("{ \"id\" : 12 }", "id", "12");
	expect_key("{\"id\":[]}", "id", "[]");
	expect_key("{\"id\":{}}", "id", "{}");
	expect_key("{\"a\":1,\"id\":true}", "id", "true");
	expect_key("{\"\\u0069d\":5}", "id", "5");
	expect_key("{\"i\\\\d\":5}", "i\\d", "5");
	expect_key("{\"idx\":1,\"i\":2}", "id", NULL);
	expect_key("{}", "id", NULL);
	expect_key("{\"a\":1}", NULL, NULL);
	expect_key("{\"id\":-0.5e3}", "id", "-0.5e3");

	json_error e;
	const char *val = NULL;
	size_t vlen = 0;
	assert_int_equal(json_validate_object("[1]", 3, "id", &val, &vlen, &e), FERRY_EJSON);
	assert_int_equal(e.offset, 0);
	assert_string_equal(e.msg, "expected an object");
	assert_int_equal(json_validate_object("  1", 3, "id", &val, &vlen, &e), FERRY_EJSON);
	assert_int_equal(e.offset, 2);
	assert_int_equal(json_validate_object("", 0, "id", &val, &vlen, &e), FERRY_EJSON);
	assert_int_equal(e.offset, 0);
	assert_int_equal(json_validate_object("{\"id\":1,}", 9, "id", &val, &vlen, &e), FERRY_EJSON);
	assert_int_equal(e.offset, 8);
	assert_int_equal(json_validate_object("{\"id\":1,\"id\":2}", 15, "id", &val, &vlen, &e), FERRY_EJSON);
	assert_int_equal(e.offset, 8);
	assert_null(val); /* untouched on error */
}

/* ------------------------------------------------------------------ */
/* Escapes and strings                                                 */

static void t_unescape(void **state)
{
	static const char raw[] =
		"\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\\ud83d\\ude00\\u0000z\"";
	static const char want[] =
		"a\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0z";
	fbuf b = FBUF_INIT;
	assert_int_equal(fbuf_adds(&b, ">"), 0);
	assert_int_equal(json_unescape(raw, sizeof raw - 1, &b), 0);
	assert_int_equal(b.len, 1 + sizeof want - 1);
	assert_memory_equal(b.p + 1, want, sizeof want - 1);
	assert_int_equal(b.p[b.len], 0);
	size_t len = b.len;
	assert_int_equal(json_unescape("\"\\x\"", 4, &b), FERRY_EJSON);
	assert_int_equal(json_unescape("\"a\" ", 4, &b), FERRY_EJSON);
	assert_int_equal(json_unescape("1", 1, &b), FERRY_EJSON);
	assert_int_equal(json_unescape("\"", 1, &b), FERRY_EJSON);
	assert_int_equal(json_unescape("\"a\",\"b\"", 7, &b), FERRY_EJSON);
	assert_int_equal(b.len, len);
	fbuf_clear(&b);
	assert_int_equal(json_unescape("\"\"", 2, &b), 0);
	assert_int_equal(b.len, 0);
	fbuf_release(&b);
}

static void t_parse_strings(void **state)
{
	json_value *v = P("[\"plain\",\"\\u0041\\n\",\"a\\u0000b\",\"\xc3\xa9\",\"\"]");
	assert_int_equal(v->type, JSON_ARRAY);
	assert_int_equal(v->u.arr.n, 5);
	assert_string_equal(v->u.arr.v[0]->u.str.s, "plain");
	assert_int_equal(v->u.arr.v[1]->u.str.len, 2);
	assert_string_equal(v->u.arr.v[1]->u.str.s, "A\n");
	assert_int_equal(v->u.arr.v[2]->u.str.len, 3);
	assert_memory_equal(v->u.arr.v[2]->u.str.s, "a\0b", 4);
	assert_string_equal(v->u.arr.v[3]->u.str.s, "\xc3\xa9");
	assert_int_equal(v->u.arr.v[4]->u.str.len, 0);
	assert_string_equal(v->u.arr.v[4]->u.str.s, "");
	/* the tree does not point into the caller's text */
	char doc[] = "{\"k\\u0041\":\"v\"}";
	json_value *o = NULL;
	assert_int_equal(json_parse(arena, doc, strlen(doc), &o, NULL), 0);
	memset(doc, 'x', strlen(doc));
	assert_string_equal(o->u.obj.m[0].key, "kA");
	assert_string_equal(o->u.obj.m[0].val->u.str.s, "v");
}

static void t_write_escapes(void **state)
{
	expect_write("\"\\u0041\\/\\u00e9\"", "\"A/\xc3\xa9\"");
	expect_write("\"\\\"\\\\\"", "\"\\\"\\\\\"");
	expect_write("\"\\b\\f\\n\\r\\t\"", "\"\\b\\f\\n\\r\\t\"");
	expect_write("\"\\u0001\\u001F\\u0000\"", "\"\\u0001\\u001f\\u0000\"");
	expect_write("\"\\u007f\\u2028\"", "\"\x7f\xe2\x80\xa8\"");
	expect_write("\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"");
	expect_write("{\"a\\nb\":\"x\\ty\"}", "{\"a\\nb\":\"x\\ty\"}");
	expect_write("\"0123456789abcdef\\\"0123456789\"", "\"0123456789abcdef\\\"0123456789\"");
}

static void t_write_invalid_utf8(void **state)
{
	fbuf b = FBUF_INIT;
	assert_int_equal(fbuf_adds(&b, "keep"), 0);
	json_value *arr = json_new_array(arena);
	assert_int_equal(json_arr_push(arena, arr, json_new_string(arena, "ok", 2)), 0);
	assert_int_equal(json_arr_push(arena, arr, json_new_string(arena, "bad\xff", 4)), 0);
	assert_int_equal(json_write(arr, &b), FERRY_EINVAL);
	assert_string_equal(b.p, "keep");
	json_value *o = json_new_object(arena);
	assert_int_equal(json_obj_set(arena, o, "\xed\xa0\x80", 3, json_new_null(arena)), 0);
	assert_int_equal(json_write(o, &b), FERRY_EINVAL);
	assert_string_equal(b.p, "keep");
	assert_int_equal(json_write(NULL, &b), FERRY_EINVAL);
	fbuf_release(&b);
}

static void t_write_depth_limit(void **state)
{
	json_value *root = json_new_array(arena), *cur = root;
	for (int i = 1; i < JSON_MAX_DEPTH; i++) {
		json_value *c = json_new_array(arena);
		assert_int_equal(json_arr_push(arena, cur, c), 0);
		cur = c;
	}
	char *s = W(root); /* exactly the limit: fine */
	json_value *back = P(s);
	assert_true(json_equal(root, back));
	free(s);
	assert_int_equal(json_arr_push(arena, cur, json_new_object(arena)), 0);
	fbuf b = FBUF_INIT;
	assert_int_equal(json_write(root, &b), FERRY_ELIMIT);
	assert_int_equal(b.len, 0);
	fbuf_release(&b);
}

/* ------------------------------------------------------------------ */
/* Numbers                                                             */

static void t_number_lexemes(void **state)
{
	static const char *nums[] = {
		"14.0", "1e5", "-0", "1E+05", "0.000", "-0.0e-0", "100",
		"123456789012345678901234567890.123456789e-999", "1e999",
	};
	for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
		json_value *v = P(nums[i]);
		assert_int_equal(v->type, JSON_NUMBER);
		assert_int_equal(v->u.num.len, strlen(nums[i]));
		assert_memory_equal(v->u.num.text, nums[i], v->u.num.len);
		expect_write(nums[i], nums[i]);
	}
	expect_write("{\"price\":14.0,\"n\":[1e5,-0,1.50]}",
		     "{\"price\":14.0,\"n\":[1e5,-0,1.50]}");
}

static void expect_int(const char *text, int rc, int64_t want)
{
	int64_t got = 77;
	json_value *v = P(text);
	assert_int_equal(json_number_int64(v, &got), rc);
	if (!rc)
		assert_true(got == want);
	else
		assert_true(got == 77);
}

static void t_number_int64(void **state)
{
	expect_int("14", 0, 14);
	expect_int("14.0", 0, 14);
	expect_int("1e5", 0, 100000);
	expect_int("-0", 0, 0);
	expect_int("0.0e-5", 0, 0);
	expect_int("0e99999999999999999999", 0, 0);
	expect_int("100e-2", 0, 1);
	expect_int("1.5e1", 0, 15);
	expect_int("-12.500e1", 0, -125);
	expect_int("9223372036854775807", 0, INT64_MAX);
	expect_int("-9223372036854775808", 0, INT64_MIN);
	expect_int("922337203685477580.7e1", 0, INT64_MAX);
	expect_int("12345678901234567890e-1", 0, 1234567890123456789);
}

static void t_number_int64_reject(void **state)
{
	static const char *bad[] = {
		"1.5", "1e-2", "0.1", "9223372036854775808", "-9223372036854775809",
		"1e19", "10000000000000000000", "1e99999999999999999999",
		"1e-99999999999999999999", "18446744073709551616",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int64_t got = 77;
		assert_int_equal(json_number_int64(P(bad[i]), &got), FERRY_EINVAL);
		assert_true(got == 77);
	}
	int64_t got;
	assert_int_equal(json_number_int64(P("\"1\""), &got), FERRY_EINVAL);
	assert_int_equal(json_number_int64(NULL, &got), FERRY_EINVAL);
}

static void t_number_double(void **state)
{
	double d = 0;
	assert_int_equal(json_number_double(P("1.5"), &d), 0);
	assert_true(d == 1.5);
	assert_int_equal(json_number_double(P("-2e-3"), &d), 0);
	assert_true(d == -2e-3);
	assert_int_equal(json_number_double(P("1e400"), &d), FERRY_EINVAL);
	assert_int_equal(json_number_double(P("1e-400"), &d), 0);
	assert_true(d == 0);
	const char *longnum = "0.1000000000000000000000000000000000000000000000000000000000000000000000000001";
	assert_int_equal(json_number_double(P(longnum), &d), 0);
	assert_true(d == 0.1);
	assert_int_equal(json_number_double(P("null"), &d), FERRY_EINVAL);
}

static void expect_number_text(json_value *v, const char *want)
{
	assert_non_null(v);
	assert_int_equal(v->type, JSON_NUMBER);
	assert_int_equal(v->u.num.len, strlen(want));
	assert_memory_equal(v->u.num.text, want, v->u.num.len);
}

static void t_number_constructors(void **state)
{
	expect_number_text(json_new_int(arena, 0), "0");
	expect_number_text(json_new_int(arena, -42), "-42");
	expect_number_text(json_new_int(arena, INT64_MIN), "-9223372036854775808");
	expect_number_text(json_new_int(arena, INT64_MAX), "9223372036854775807");
	expect_number_text(json_new_double(arena, 0.1), "0.1");
	expect_number_text(json_new_double(arena, 14.0), "14");
	expect_number_text(json_new_double(arena, -0.0), "-0");
	expect_number_text(json_new_double(arena, 1e300), "1e+300");
	expect_number_text(json_new_double(arena, 5e-324), "4.94065645841247e-324");
	double third = 1.0 / 3, d;
	json_value *v = json_new_double(arena, third);
	assert_non_null(v);
	assert_int_equal(json_number_double(v, &d), 0);
	assert_true(d == third);
	assert_null(json_new_double(arena, INFINITY));
	assert_null(json_new_double(arena, -INFINITY));
	assert_null(json_new_double(arena, NAN));
	expect_number_text(json_new_number_text(arena, "14.0", 4), "14.0");
	expect_number_text(json_new_number_text(arena, "1e5xyz", 3), "1e5");
	static const char *bad[] = {"", "01", "1.", "abc", " 1", "1 ", "+1",
				    "-", ".5", "1e", "0x1", "NaN"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_null(json_new_number_text(arena, bad[i], strlen(bad[i])));
	assert_null(json_new_number_text(arena, NULL, 0));
}

/* What json_double_text() wrote before its fast path: the shortest of
 * "%.15g", "%.16g", "%.17g" that reads back. Its output must not change. */
static void printf_double(double d, char *buf, size_t n)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}

static void expect_double_text(double d)
{
	char got[JSON_DOUBLE_MAX], want[JSON_DOUBLE_MAX];
	size_t n = json_double_text(d, got);
	printf_double(d, want, sizeof want);
	if (n != strlen(got) || strcmp(got, want))
		fail_msg("%.17g: json_double_text wrote '%s' (length %zu), "
			 "printf '%s'", d, got, n, want);
	assert_true(strtod(got, NULL) == d);
}

/* The fast path (a few digits, no exponent) and the printf path give the
 * same text as printf alone: edges, short decimals, random doubles. */
static void t_double_text(void **state)
{
	static const double edge[] = {
		0.0, -0.0, 1.0, -1.0, 0.5, 0.1, 0.2, 0.3, 0.1 + 0.2, 2.08,
		3.57, 9.99, 10.0, 1e-4, 9.99e-5, 1.0001e-4, 0.00012345678901234,
		1e15, 999999999999999.0, 999999999999999.9, 99999999999999.98,
		1e14, 123456789012345.0, 12345678901234.5, 1.23456789012345,
		0.123456789012345, 4503599627370496.5, 9007199254740992.0,
		1.0 / 3, 2.0 / 3, 5e-324, 2.2250738585072014e-308, 1e300,
		1.7976931348623157e308, 0.30000000000000004, 7.25, 743.7,
		1e-5, 123e-7, 0.001, 0.015, 0.035, 1.005, 2.675};
	for (size_t i = 0; i < sizeof edge / sizeof *edge; i++) {
		expect_double_text(edge[i]);
		expect_double_text(-edge[i]);
	}
	uint64_t s = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 200000; i++) {
		/* k / 10^p with few digits, as scripts make them */
		uint64_t r = t_rnd_next(&s);
		double k = (double)(r % 100000000), p10 = 1;
		for (int p = (int)((r >> 40) % 12); p > 0; p--)
			p10 *= 10;
		expect_double_text(k / p10);
		/* any finite double */
		uint64_t bits = t_rnd_next(&s);
		double d;
		memcpy(&d, &bits, sizeof d);
		if (isfinite(d))
			expect_double_text(d);
		/* a value of ordinary size with full precision */
		expect_double_text((double)(r >> 11) / 9007199254740992.0 *
				   (double)(1 + r % 100000));
	}
	(void)state;
}

/* ------------------------------------------------------------------ */
/* Round trips                                                         */

static const char *docs[] = {
	"{\"id\":\"c-000123\",\"email\":\"ann@example.com\",\"name\":{\"first\":\"Ann\",\"last\":\"L\\u00f3pez\"},"
	"\"age\":\"41\",\"score\":14.0,\"tags\":[\"vip\",\"eu\"],\"visits\":[1,2,3],\"consent\":true,"
	"\"last_seen\":null,\"geo\":{\"lat\":48.8566,\"lon\":2.3522},\"note\":\"line1\\nline2 \\\"q\\\"\"}",
	"[]", "{}", "[[],{},[[]],{\"a\":{}}]", "\"\\u0000\"", "-0", "[1e5,1E-5,0.000]",
	"{\"\":{\"\":{\"\":[null,true,false]}}}",
};

static void t_roundtrip(void **state)
{
	for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
		json_value *v = P(docs[i]);
		char *s1 = W(v);
		json_value *v2 = P(s1);
		assert_true(json_equal(v, v2));
		char *s2 = W(v2);
		assert_string_equal(s1, s2);
		free(s1);
		free(s2);
	}
	/* compact input without optional escapes comes back byte for byte */
	expect_write("{\"a\":[1,2.50,{\"b\":\"\xc3\xa9\"}],\"c\":null}",
		     "{\"a\":[1,2.50,{\"b\":\"\xc3\xa9\"}],\"c\":null}");
	expect_write(" { \"a\" : [ 1 , 2 ] } ", "{\"a\":[1,2]}");
}

static void t_parse_shape(void **state)
{
	json_value *v = P(docs[0]);
	assert_int_equal(v->type, JSON_OBJECT);
	assert_int_equal(v->u.obj.n, 11);
	assert_string_equal(v->u.obj.m[0].key, "id");
	assert_string_equal(v->u.obj.m[10].key, "note");
	json_value *name = json_get(v, "name", 4);
	assert_non_null(name);
	assert_string_equal(json_get(name, "last", 4)->u.str.s, "L\xc3\xb3pez");
	assert_int_equal(json_get(v, "consent", 7)->type, JSON_TRUE);
	assert_int_equal(json_get(v, "last_seen", 9)->type, JSON_NULL);
	assert_int_equal(json_get(v, "visits", 6)->u.arr.n, 3);
	assert_null(json_get(v, "nope", 4));
	assert_null(json_get(v, "i", 1));
	assert_null(json_get(json_get(v, "tags", 4), "a", 1));
	assert_null(json_get(NULL, "a", 1));
}

static void t_large_arrays(void **state)
{
	const size_t n = 200000;
	fbuf b = FBUF_INIT;
	assert_int_equal(fbuf_addc(&b, '['), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(fbuf_addf(&b, "%s[%zu,\"s%zu\"]", i ? "," : "", i, i), 0);
	assert_int_equal(fbuf_addc(&b, ']'), 0);
	json_value *v = NULL;
	assert_int_equal(json_parse(arena, b.p, b.len, &v, NULL), 0);
	assert_int_equal(v->u.arr.n, n);
	assert_int_equal(v->u.arr.v[n - 1]->u.arr.n, 2);
	assert_string_equal(v->u.arr.v[n - 1]->u.arr.v[1]->u.str.s, "s199999");
	char *s = W(v);
	assert_string_equal(s, b.p);
	free(s);
	fbuf_release(&b);
	json_value *arr = json_new_array(arena);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(json_arr_push(arena, arr, json_new_int(arena, (int64_t)i)), 0);
	assert_int_equal(arr->u.arr.n, n);
	int64_t x;
	assert_int_equal(json_number_int64(arr->u.arr.v[n - 1], &x), 0);
	assert_true(x == (int64_t)n - 1);
}

/* ------------------------------------------------------------------ */
/* Building, paths                                                     */

static void t_build(void **state)
{
	json_value *o = json_new_object(arena);
	assert_int_equal(json_obj_set(arena, o, "b", 1, json_new_int(arena, 1)), 0);
	assert_int_equal(json_obj_set(arena, o, "a", 1, json_new_bool(arena, 0)), 0);
	assert_int_equal(json_obj_set(arena, o, "c", 1, json_new_string(arena, "x\"y", 3)), 0);
	assert_int_equal(json_obj_set(arena, o, "b", 1, json_new_array(arena)), 0);
	assert_int_equal(json_obj_set(arena, o, "n", 1, json_new_null(arena)), 0);
	assert_int_equal(json_obj_set(arena, o, "t", 1, json_new_bool(arena, 7)), 0);
	char *s = W(o);
	assert_string_equal(s, "{\"b\":[],\"a\":false,\"c\":\"x\\\"y\",\"n\":null,\"t\":true}");
	free(s);
	char key[] = "kk";
	assert_int_equal(json_obj_set(arena, o, key, 2, json_new_object(arena)), 0);
	key[0] = 'z'; /* the key was copied */
	assert_non_null(json_get(o, "kk", 2));
	assert_int_equal(json_obj_set(arena, o, "x", 1, NULL), FERRY_EINVAL);
	assert_int_equal(json_obj_set(arena, json_new_array(arena), "x", 1, o), FERRY_EINVAL);
	assert_int_equal(json_arr_push(arena, o, o), FERRY_EINVAL);
	assert_int_equal(json_arr_push(arena, json_new_array(arena), NULL), FERRY_EINVAL);
	json_value *sv = json_new_string(arena, "a\0b", 3);
	assert_int_equal(sv->u.str.len, 3);
	s = W(sv);
	assert_string_equal(s, "\"a\\u0000b\"");
	free(s);
	/* keys with NUL bytes are kept whole */
	assert_int_equal(json_obj_set(arena, o, "a\0b", 3, json_new_null(arena)), 0);
	assert_non_null(json_get(o, "a\0b", 3));
	assert_ptr_not_equal(json_get(o, "a\0b", 3), json_get(o, "a", 1));
}

static void t_path_get(void **state)
{
	json_value *v = P("{\"a\":{\"b\":{\"c\":1}},\"x.y\":2,\"p\":{\"q.r\":{\"s\":3}},"
			  "\"arr\":[{\"a\":1}],\"\":{\"\":4},\"k\\\\\":5}");
	assert_int_equal(json_path_get(v, "a.b.c")->type, JSON_NUMBER);
	assert_int_equal(json_path_get(v, "a.b")->type, JSON_OBJECT);
	assert_ptr_equal(json_path_get(v, "a"), json_get(v, "a", 1));
	assert_null(json_path_get(v, "a.b.c.d"));
	assert_null(json_path_get(v, "a.x"));
	assert_null(json_path_get(v, "x.y"));
	assert_non_null(json_path_get(v, "x\\.y"));
	assert_non_null(json_path_get(v, "p.q\\.r.s"));
	assert_null(json_path_get(v, "arr.0.a"));
	assert_non_null(json_path_get(v, "."));
	assert_non_null(json_path_get(v, ""));
	assert_non_null(json_path_get(v, "k\\\\"));
	assert_null(json_path_get(v, "k\\"));
	assert_null(json_path_get(v, NULL));
	assert_null(json_path_get(NULL, "a"));
	assert_null(json_path_get(P("[1]"), "a"));
}

static void t_path_set(void **state)
{
	json_value *v = P("{\"a\":{\"b\":1},\"z\":0}");
	assert_int_equal(json_path_set(arena, v, "a.b", json_new_int(arena, 2)), 0);
	assert_int_equal(json_path_set(arena, v, "a.c", json_new_int(arena, 3)), 0);
	assert_int_equal(json_path_set(arena, v, "n.m.o", json_new_int(arena, 4)), 0);
	assert_int_equal(json_path_set(arena, v, "a.d\\.e.f", json_new_bool(arena, 1)), 0);
	assert_int_equal(json_path_set(arena, v, "top", json_new_null(arena)), 0);
	char *s = W(v);
	assert_string_equal(s, "{\"a\":{\"b\":2,\"c\":3,\"d.e\":{\"f\":true}},\"z\":0,"
			       "\"n\":{\"m\":{\"o\":4}},\"top\":null}");
	free(s);
	/* an intermediate that is not an object: error, nothing changed */
	s = W(v);
	assert_int_equal(json_path_set(arena, v, "z.y", json_new_int(arena, 1)), FERRY_EINVAL);
	assert_int_equal(json_path_set(arena, v, "a.b.c.d", json_new_int(arena, 1)), FERRY_EINVAL);
	assert_int_equal(json_path_set(arena, v, "q.r\\", json_new_int(arena, 1)), FERRY_EINVAL);
	assert_int_equal(json_path_set(arena, v, "q", NULL), FERRY_EINVAL);
	assert_int_equal(json_path_set(arena, P("[]"), "q", json_new_null(arena)), FERRY_EINVAL);
	char *s2 = W(v);
	assert_string_equal(s, s2);
	free(s);
	free(s2);
	/* the last segment may replace a non-object */
	assert_int_equal(json_path_set(arena, v, "z", json_new_object(arena)), 0);
	assert_int_equal(json_path_set(arena, v, "z.y", json_new_int(arena, 1)), 0);
	assert_int_equal(json_path_get(v, "z.y")->type, JSON_NUMBER);
}

static void t_path_remove(void **state)
{
	json_value *v = P("{\"a\":{\"b\":1,\"c\":2,\"d\":3},\"e\":4,\"f.g\":5}");
	json_value *got = NULL;
	assert_int_equal(json_path_remove(v, "a.c", &got), 0);
	assert_non_null(got);
	assert_int_equal(got->type, JSON_NUMBER);
	assert_int_equal(json_path_remove(v, "a.c", &got), FERRY_ENOTFOUND);
	assert_int_equal(json_path_remove(v, "x.y", NULL), FERRY_ENOTFOUND);
	assert_int_equal(json_path_remove(v, "e.y", NULL), FERRY_ENOTFOUND);
	assert_int_equal(json_path_remove(v, "f\\.g", NULL), 0);
	assert_int_equal(json_path_remove(v, "a\\", NULL), FERRY_EINVAL);
	char *s = W(v);
	assert_string_equal(s, "{\"a\":{\"b\":1,\"d\":3},\"e\":4}");
	free(s);
	assert_int_equal(json_path_remove(v, "a", NULL), 0);
	assert_int_equal(json_path_remove(v, "e", NULL), 0);
	s = W(v);
	assert_string_equal(s, "{}");
	free(s);
	assert_int_equal(json_path_remove(P("[1]"), "a", NULL), FERRY_ENOTFOUND);
}

/* ------------------------------------------------------------------ */
/* Equality, clone, arena                                              */

static void t_equal(void **state)
{
	assert_true(json_equal(P("{\"a\":1,\"b\":[1,2]}"), P("{\"b\":[1,2],\"a\":1}")));
	assert_true(json_equal(P("[1.0,1e0,10e-1]"), P("[1,1,1]")));
	assert_true(json_equal(P("-0"), P("0")));
	assert_true(json_equal(P("\"a\\u0000\""), P("\"a\\u0000\"")));
	assert_true(json_equal(P("1e400"), P("1e400")));
	assert_false(json_equal(P("1e400"), P("2e400")));
	assert_false(json_equal(P("[1,2]"), P("[2,1]")));
	assert_false(json_equal(P("{\"a\":1}"), P("{\"a\":1,\"b\":2}")));
	assert_false(json_equal(P("{\"a\":1,\"c\":2}"), P("{\"a\":1,\"b\":2}")));
	assert_false(json_equal(P("\"a\\u0000\""), P("\"a\"")));
	assert_false(json_equal(P("1"), P("\"1\"")));
	assert_false(json_equal(P("true"), P("false")));
	assert_false(json_equal(P("null"), P("false")));
	assert_false(json_equal(P("1.5"), P("1.50001")));
	assert_true(json_equal(P("null"), P("null")));
	assert_true(json_equal(NULL, NULL));
	assert_false(json_equal(P("null"), NULL));
	assert_true(json_equal(P("{}"), P("{}")));
	assert_false(json_equal(P("{}"), P("[]")));
}

static void t_clone(void **state)
{
	json_arena *other = json_arena_new();
	assert_non_null(other);
	json_value *v = NULL;
	assert_int_equal(json_parse(other, docs[0], strlen(docs[0]), &v, NULL), 0);
	json_value *c = json_clone(arena, v);
	assert_non_null(c);
	assert_true(json_equal(v, c));
	char *s1 = W(v);
	json_arena_free(other); /* the clone owns nothing of the original */
	char *s2 = W(c);
	assert_string_equal(s1, s2);
	assert_int_equal(json_path_set(arena, c, "name.first", json_new_string(arena, "Bo", 2)), 0);
	assert_int_equal(json_arr_push(arena, json_get(c, "tags", 4), json_new_null(arena)), 0);
	char *s3 = W(c);
	assert_string_not_equal(s2, s3);
	free(s1);
	free(s2);
	free(s3);
	assert_null(json_clone(arena, NULL));
	json_value *e = json_clone(arena, P("[{},[],\"\",0]"));
	assert_true(json_equal(e, P("[{},[],\"\",0]")));
}

static void t_arena(void **state)
{
	json_arena *a = json_arena_new();
	assert_non_null(a);
	void *p1 = json_arena_alloc(a, 24);
	assert_non_null(p1);
	assert_int_equal((uintptr_t)p1 % _Alignof(max_align_t), 0);
	char *p2 = json_arena_alloc(a, 1);
	assert_int_equal((uintptr_t)p2 % _Alignof(max_align_t), 0);
	void *big = json_arena_alloc(a, 10u << 20); /* beyond a block */
	assert_non_null(big);
	memset(big, 0xab, 10u << 20);
	for (int i = 0; i < 100000; i++)
		assert_non_null(json_arena_alloc(a, 100));
	json_arena_reset(a);
	void *p3 = json_arena_alloc(a, 24);
	assert_ptr_equal(p1, p3); /* the first block is reused */
	/* parse, reset, parse again: same memory */
	json_value *v1 = NULL, *v2 = NULL;
	json_arena_reset(a);
	assert_int_equal(json_parse(a, docs[0], strlen(docs[0]), &v1, NULL), 0);
	json_arena_reset(a);
	assert_int_equal(json_parse(a, docs[0], strlen(docs[0]), &v2, NULL), 0);
	assert_ptr_equal(v1, v2);
	/* a failed parse gives its copy back */
	char *mark = json_arena_alloc(a, 1);
	json_value *v3 = NULL;
	assert_int_equal(json_parse(a, "[1,", 3, &v3, NULL), FERRY_EJSON);
	assert_null(v3);
	char *mark2 = json_arena_alloc(a, 1);
	assert_ptr_equal(mark + 16, mark2);
	json_arena_free(a);
	json_arena_free(NULL);
}

static void t_many_docs_one_arena(void **state)
{
	json_arena *a = json_arena_new();
	assert_non_null(a);
	fbuf out = FBUF_INIT;
	for (int i = 0; i < 2000; i++) {
		json_value *v = NULL;
		json_arena_reset(a);
		assert_int_equal(json_parse(a, docs[0], strlen(docs[0]), &v, NULL), 0);
		assert_int_equal(json_path_set(a, v, "stats.visits", json_new_int(a, i)), 0);
		fbuf_clear(&out);
		assert_int_equal(json_write(v, &out), 0);
	}
	assert_non_null(strstr(out.p, "\"stats\":{\"visits\":1999}"));
	fbuf_release(&out);
	json_arena_free(a);
}

/* ------------------------------------------------------------------ */
/* json_pretty (?pretty)                                               */

static void expect_pretty(const char *in, const char *want)
{
	fbuf b = FBUF_INIT;
	assert_int_equal(json_pretty(in, strlen(in), &b), 0);
	assert_string_equal(b.p, want);
	json_value *v1 = NULL, *v2 = NULL; /* and it is the same value */
	assert_int_equal(json_parse(arena, in, strlen(in), &v1, NULL), 0);
	assert_int_equal(json_parse(arena, b.p, b.len, &v2, NULL), 0);
	assert_true(json_equal(v1, v2));
	fbuf_release(&b);
}

static void t_pretty(void **state)
{
	(void)state;
	expect_pretty("{\"a\":1,\"b\":[true,null,\"x\"]}",
		      "{\n  \"a\" : 1,\n  \"b\" : [\n    true,\n    null,\n"
		      "    \"x\"\n  ]\n}\n");
	expect_pretty(" { } ", "{ }\n");
	expect_pretty("[ [], {},[ ] ]", "[\n  [ ],\n  { },\n  [ ]\n]\n");
	/* separators inside strings, escapes, numbers kept byte for byte */
	expect_pretty("{\"k,:{}\\\"\":\"v[]\\\\\",\"n\":-1.50e+3}",
		      "{\n  \"k,:{}\\\"\" : \"v[]\\\\\",\n  \"n\" : -1.50e+3\n}\n");
	expect_pretty("42", "42\n");
	expect_pretty("{\"a\":{\"b\":{\"c\":{}}}}",
		      "{\n  \"a\" : {\n    \"b\" : {\n      \"c\" : { }\n    }\n  }\n}\n");

	/* deeper than the 32 spaces written at a time */
	char deep[200] = "", want[4000] = "";
	for (int i = 0; i < 20; i++)
		strcat(deep, "[");
	strcat(deep, "1");
	for (int i = 0; i < 20; i++)
		strcat(deep, "]");
	fbuf b = FBUF_INIT;
	assert_int_equal(json_pretty(deep, strlen(deep), &b), 0);
	size_t off = 0;
	for (int i = 0; i < 20; i++)
		off += (size_t)sprintf(want + off, "%*s[\n", 2 * i, "");
	off += (size_t)sprintf(want + off, "%*s1\n", 40, "");
	for (int i = 19; i >= 0; i--)
		off += (size_t)sprintf(want + off, "%*s]\n", 2 * i, "");
	assert_string_equal(b.p, want);

	/* not JSON: refused, the buffer left as it was */
	fbuf_clear(&b);
	assert_int_equal(fbuf_adds(&b, "keep"), 0);
	assert_int_equal(json_pretty("{\"a\":}", 6, &b), FERRY_EJSON);
	assert_int_equal(json_pretty("", 0, &b), FERRY_EJSON);
	assert_int_equal(json_pretty("{} x", 4, &b), FERRY_EJSON);
	assert_string_equal(b.p, "keep");
	fbuf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_valid_corpus),
		cmocka_unit_test(t_double_text),
		cmocka_unit_test(t_invalid_structure),
		cmocka_unit_test(t_invalid_literals_numbers),
		cmocka_unit_test(t_invalid_strings),
		cmocka_unit_test(t_surrogates),
		cmocka_unit_test(t_utf8_edges),
		cmocka_unit_test(t_depth_limit),
		cmocka_unit_test(t_duplicate_keys),
		cmocka_unit_test(t_duplicate_keys_big),
		cmocka_unit_test(t_duplicate_keys_nested_big),
		cmocka_unit_test(t_validate_object),
		cmocka_unit_test(t_unescape),
		cmocka_unit_test(t_parse_strings),
		cmocka_unit_test(t_write_escapes),
		cmocka_unit_test(t_write_invalid_utf8),
		cmocka_unit_test(t_write_depth_limit),
		cmocka_unit_test(t_number_lexemes),
		cmocka_unit_test(t_number_int64),
		cmocka_unit_test(t_number_int64_reject),
		cmocka_unit_test(t_number_double),
		cmocka_unit_test(t_number_constructors),
		cmocka_unit_test(t_roundtrip),
		cmocka_unit_test(t_parse_shape),
		cmocka_unit_test(t_large_arrays),
		cmocka_unit_test(t_build),
		cmocka_unit_test(t_path_get),
		cmocka_unit_test(t_path_set),
		cmocka_unit_test(t_path_remove),
		cmocka_unit_test(t_equal),
		cmocka_unit_test(t_clone),
		cmocka_unit_test(t_arena),
		cmocka_unit_test(t_many_docs_one_arena),
		cmocka_unit_test(t_pretty),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
