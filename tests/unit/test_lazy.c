/*
 * test_lazy.c - unit tests of json_parse_lazy() and json_expand()
 * (src/json/lazy.c): a lazily parsed document, expanded everywhere, is the
 * tree json_parse() builds; written back it is the same JSON; quotes,
 * backslashes and brackets inside strings are skipped right wherever they
 * fall in the 64-byte blocks of the scan; broken structure is an error at
 * the level that is expanded; raw nodes are written, cloned and compared
 * as documented. Every text is parsed from a heap copy with exactly
 * JSON_LAZY_PAD bytes after it, so ASan catches a read past the padding.
 */
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

static json_arena *arena;
static char *copies[4096]; /* texts the trees point into, freed at teardown */
static size_t ncopies;

static int setup(void **state)
{
	arena = json_arena_new();
	return arena ? 0 : -1;
}

static int teardown(void **state)
{
	json_arena_free(arena);
	arena = NULL;
	while (ncopies)
		free(copies[--ncopies]);
	return 0;
}

/* A heap copy of s[0..n) followed by exactly JSON_LAZY_PAD bytes of 'x'
 * (not zeros: what the padding holds must not matter). */
static char *padded(const char *s, size_t n)
{
	char *c = malloc(n + JSON_LAZY_PAD);
	assert_non_null(c);
	memcpy(c, s, n);
	memset(c + n, 'x', JSON_LAZY_PAD);
	assert_true(ncopies < sizeof copies / sizeof *copies);
	copies[ncopies++] = c;
	return c;
}

static int lazy(const char *s, json_value **v, json_error *e)
{
	size_t n = strlen(s);
	return json_parse_lazy(arena, padded(s, n), n, v, e);
}

/* Expands every raw node under v. */
static int expand_all(json_value *v)
{
	int rc = json_expand(arena, v, NULL);
	if (rc)
		return rc;
	if (v->type == JSON_ARRAY)
		for (size_t i = 0; i < v->u.arr.n && !rc; i++)
			rc = expand_all(v->u.arr.v[i]);
	if (v->type == JSON_OBJECT)
		for (size_t i = 0; i < v->u.obj.n && !rc; i++)
			rc = expand_all(v->u.obj.m[i].val);
	return rc;
}

static json_value *full(const char *s)
{
	json_value *v = NULL;
	assert_int_equal(json_parse(arena, s, strlen(s), &v, NULL), 0);
	return v;
}

static char *W(const json_value *v)
{
	fbuf b = FBUF_INIT;
	assert_int_equal(json_write(v, &b), 0);
	return fbuf_detach(&b, NULL);
}

/* s (valid JSON) read lazily: written back at once it parses to the same
 * tree; expanded everywhere it is the same tree and writes the same text
 * as json_parse's tree. */
static void check_same(const char *s)
{
	json_value *v = NULL, *ref = full(s);
	json_error e = {0, NULL};
	if (lazy(s, &v, &e))
		fail_msg("lazy parse of %s failed at %zu: %s", s, e.offset,
			 e.msg);
	char *raw = W(v);
	if (!json_equal(full(raw), ref))
		fail_msg("%s: written lazily as %s", s, raw);
	free(raw);
	assert_int_equal(expand_all(v), 0);
	if (!json_equal(v, ref))
		fail_msg("%s: expanded tree differs", s);
	char *a = W(v), *b = W(ref);
	assert_string_equal(a, b);
	free(a);
	free(b);
}

static void t_lazy_corpus(void **state)
{
	static const char *const docs[] = {
		"{}", "[]", "{\"a\":1}", "[1,2,3]", "\"x\"", "42", "-0.5e3",
		"true", "false", "null", " { } ", "\t[ ]\n",
		"{\"a\":{\"b\":{\"c\":[1,{\"d\":null}]}},\"e\":[]}",
		"{ \"a\" : { \"b\" : [ 1 , 2 ] } , \"c\" : \"d\" }\n",
		"{\"s\":\"a\\\"b\",\"t\":\"]}\",\"u\":\"\\\\\",\"v\":\"{[\"}",
		"{\"k\\\"ey\":1,\"\\u0041\":\"\\u00e9\\n\\t\\/\"}",
		"{\"a\":[\"]\",\"[\",{\"}\":\"{\"}],\"b\":\"\\\\\\\"\"}",
		"{\"Zoë\":\"日本\",\"e\":\"\\ud83d\\ude00\"}",
		"[[[[[[[[[[]]]]]]]]]]", "{\"a\":[{},[],{\"b\":[]}]}",
		"{\"n\":14.0,\"m\":1e400,\"o\":-0}",
	};
	for (size_t i = 0; i < sizeof docs / sizeof *docs; i++)
		check_same(docs[i]);
}

/* Escapes, quotes and brackets in strings land on every byte of a block
 * (and across block ends): the skip must agree with the strict parser. */
static void t_lazy_block_edges(void **state)
{
	static const char *const tricky[] = {
		"\"a\\\"]}\"",           /* an escaped quote, then brackets */
		"\"\\\\\"",              /* an escaped backslash before the quote */
		"\"\\\\\\\\\\\"}\"",     /* \\ \\ \" } */
		"\"\\\\\\\\\"",          /* two escaped backslashes */
		"\"{[\\\"\"",            /* open brackets in a string */
		"[\"]\",{\"a\":\"}\"}]", /* brackets as strings in a container */
	};
	char doc[512];
	for (size_t t = 0; t < sizeof tricky / sizeof *tricky; t++)
		for (int pad = 0; pad < 140; pad++) {
			int n = snprintf(doc, sizeof doc, "{\"o\":{\"p\":\"%*s\","
					 "\"v\":%s,\"w\":[%s,1]},\"z\":%s}",
					 pad, "", tricky[t], tricky[t], tricky[t]);
			assert_true(n > 0 && (size_t)n < sizeof doc);
			check_same(doc);
		}
}

static void expect_error(const char *s, int expand, const char *msg)
{
	json_value *v = NULL;
	json_error e = {0, NULL};
	int rc = lazy(s, &v, &e);
	if (!rc && expand)
		rc = expand_all(v);
	if (rc != FERRY_EJSON)
		fail_msg("%s: rc %d, want FERRY_EJSON", s, rc);
	if (msg && !expand && strcmp(e.msg, msg))
		fail_msg("%s: '%s', want '%s'", s, e.msg, msg);
}

static void t_lazy_errors(void **state)
{
	/* found by the top level */
	expect_error("", 0, "expected a value");
	expect_error("   ", 0, "expected a value");
	expect_error("{\"a\":1", 0, "unterminated value");
	expect_error("{\"a\":\"x}", 0, "unterminated value");
	expect_error("[1,2", 0, "unterminated value");
	expect_error("{\"a\":[1,2}", 0, "unterminated value");
	expect_error("{\"a\":1} x", 0, "unexpected text after the value");
	expect_error("{\"a\":1,}", 0, "expected a string key");
	expect_error("{a:1}", 0, "expected a string key");
	expect_error("{\"a\" 1}", 0, "expected ':' after object key");
	expect_error("{\"a\":1 \"b\":2}", 0, "expected ',' or '}'");
	expect_error("[1 2]", 0, "expected ',' or ']'");
	expect_error("{\"a\":}", 0, "expected a value");
	expect_error("{\"\\x\":1}", 0, "bad object key");
	expect_error("tru", 0, NULL);
	/* found only when the level is expanded */
	expect_error("{\"a\":{\"b\":1]}", 1, NULL);
	expect_error("{\"a\":tru}", 1, NULL);
	expect_error("{\"a\":[1,,2]}", 1, NULL);
	expect_error("{\"a\":\"\\q\"}", 1, NULL);
	/* ...and not before: a raw value is not checked */
	json_value *v = NULL;
	assert_int_equal(lazy("{\"a\":{\"b\":1]}", &v, NULL), 0);
	char *w = W(v);
	assert_string_equal(w, "{\"a\":{\"b\":1]}");
	free(w);
}

/* The nesting limit holds at the top level, for objects and arrays: a
 * text JSON_MAX_DEPTH deep parses, one level more is refused. */
static void t_lazy_depth_limit(void **state)
{
	static char doc[2 * JSON_MAX_DEPTH + 64];
	for (int extra = 0; extra < 2; extra++)
		for (int obj = 0; obj < 2; obj++) {
			size_t n = 0, levels = JSON_MAX_DEPTH + (size_t)extra;
			for (size_t i = 0; i < levels; i++)
				n += (size_t)snprintf(doc + n, sizeof doc - n, "%s",
						      obj && i == 0 ? "{\"k\":" :
								     "[");
			for (size_t i = levels; i-- > 0;)
				doc[n++] = obj && i == 0 ? '}' : ']';
			doc[n] = 0;
			json_value *v = NULL;
			json_error e = {0, NULL};
			int rc = lazy(doc, &v, &e);
			if (extra) {
				assert_int_equal(rc, FERRY_EJSON);
				assert_string_equal(e.msg, "nested too deeply");
			} else {
				assert_int_equal(rc, 0);
				assert_int_equal(v->type, obj ? JSON_OBJECT :
								JSON_ARRAY);
			}
		}
	(void)state;
}

static void t_lazy_offsets(void **state)
{
	json_value *v = NULL;
	json_error e = {0, NULL};
	assert_int_equal(lazy("  {\"a\":1 \"b\":2}", &v, &e), FERRY_EJSON);
	assert_int_equal(e.offset, 9); /* the '"' of "b", from the text */
	assert_int_equal(lazy("{\"a\":{\"b\" 1}}", &v, &e), 0);
	json_value *a = json_get(v, "a", 1);
	assert_int_equal(json_expand(arena, a, &e), FERRY_EJSON);
	assert_int_equal(e.offset, 5); /* from the raw value's first byte */
	assert_string_equal(e.msg, "expected ':' after object key");
}

static void t_lazy_shape(void **state)
{
	json_value *v = NULL;
	assert_int_equal(lazy("{\"a\":{\"b\":[1]},\"c\":\"x\",\"d\":7}", &v,
			      NULL), 0);
	assert_int_equal(v->type, JSON_OBJECT);
	assert_int_equal(v->u.obj.n, 3);
	json_value *a = json_get(v, "a", 1);
	assert_int_equal(a->type, JSON_RAW);
	assert_int_equal(a->u.raw.len, strlen("{\"b\":[1]}"));
	assert_int_equal(a->u.raw.depth, 2);
	assert_int_equal(json_get(v, "d", 1)->u.raw.depth, 0);
	assert_int_equal(json_expand(arena, a, NULL), 0);
	assert_int_equal(a->type, JSON_OBJECT);
	assert_int_equal(json_get(a, "b", 1)->type, JSON_RAW);
	json_value *c = json_get(v, "c", 1);
	assert_int_equal(json_expand(arena, c, NULL), 0);
	assert_int_equal(c->type, JSON_STRING);
	assert_string_equal(c->u.str.s, "x");
	/* expanding a real node changes nothing */
	assert_int_equal(json_expand(arena, c, NULL), 0);
	assert_int_equal(c->type, JSON_STRING);
}

/* A raw number expands to its lexeme, kept where it is in the text and
 * checked as strictly as json_parse() checks it; a bad one is an error
 * with json_parse()'s message. */
static void t_lazy_numbers(void **state)
{
	static const char *const good[] = {"0", "-0", "7", "21", "-12.50",
		"1.5e-3", "1E+9", "743.70", "123456789012345678901234567890"};
	static const char *const bad[][2] = {
		{"01", "leading zeros are not allowed"},
		{"-", NULL}, {"1.", NULL}, {"1e", NULL}, {"--1", NULL},
		{"1.2.3", NULL}, {"-a", NULL}, {"1x", NULL}};
	char doc[128];
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		json_value *v = NULL;
		snprintf(doc, sizeof doc, "{\"n\":%s}", good[i]);
		assert_int_equal(lazy(doc, &v, NULL), 0);
		json_value *n = json_get(v, "n", 1);
		assert_int_equal(n->type, JSON_RAW);
		const char *at = n->u.raw.text;
		assert_int_equal(json_expand(arena, n, NULL), 0);
		assert_int_equal(n->type, JSON_NUMBER);
		assert_ptr_equal(n->u.num.text, at);
		assert_int_equal(n->u.num.len, strlen(good[i]));
		assert_memory_equal(n->u.num.text, good[i], n->u.num.len);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		json_value *v = NULL, *parsed = NULL;
		json_error e = {0, NULL}, pe = {0, NULL};
		snprintf(doc, sizeof doc, "{\"n\":%s}", bad[i][0]);
		assert_int_equal(lazy(doc, &v, NULL), 0);
		json_value *n = json_get(v, "n", 1);
		if (json_expand(arena, n, &e) != FERRY_EJSON)
			fail_msg("%s expanded", bad[i][0]);
		/* the same message json_parse gives for the value alone */
		assert_int_equal(json_parse(arena, bad[i][0], strlen(bad[i][0]),
					    &parsed, &pe), FERRY_EJSON);
		assert_string_equal(e.msg, pe.msg);
		if (bad[i][1])
			assert_string_equal(e.msg, bad[i][1]);
	}
	(void)state;
}

static void t_lazy_clone_equal(void **state)
{
	json_value *v = NULL, *u = NULL;
	assert_int_equal(lazy("{\"a\":{\"b\":\"\\u0041\"}}", &v, NULL), 0);
	assert_int_equal(lazy("{\"a\":{\"b\":\"A\"}}", &u, NULL), 0);
	json_value *c = json_clone(arena, v);
	assert_non_null(c);
	json_value *ca = json_get(c, "a", 1);
	assert_int_equal(ca->type, JSON_RAW);
	assert_ptr_equal(ca->u.raw.text, json_get(v, "a", 1)->u.raw.text);
	assert_true(json_equal(c, v)); /* the same text */
	/* the same value, other text: only known equal once expanded */
	assert_false(json_equal(u, v));
	assert_int_equal(expand_all(u), 0);
	assert_int_equal(expand_all(v), 0);
	assert_true(json_equal(u, v));
	/* expanding the clone leaves the original alone */
	assert_int_equal(json_expand(arena, ca, NULL), 0);
	assert_int_equal(ca->type, JSON_OBJECT);
	assert_int_equal(json_get(c, "a", 1)->type, JSON_OBJECT);
}

/* A raw value moved deeper must not make json_write emit more nesting
 * than json_parse accepts. */
static void t_lazy_write_depth(void **state)
{
	char doc[2 * JSON_MAX_DEPTH + 16];
	size_t n = 0;
	n += (size_t)snprintf(doc + n, sizeof doc - n, "{\"a\":");
	for (int i = 0; i < JSON_MAX_DEPTH - 1; i++)
		doc[n++] = '[';
	for (int i = 0; i < JSON_MAX_DEPTH - 1; i++)
		doc[n++] = ']';
	doc[n++] = '}';
	doc[n] = 0;
	assert_int_equal(json_validate(doc, n, NULL), 0); /* the deepest */
	json_value *v = NULL;
	assert_int_equal(lazy(doc, &v, NULL), 0);
	char *w = W(v); /* as deep as it was: fine */
	assert_string_equal(w, doc);
	free(w);
	/* one level deeper */
	json_value *deep = json_new_object(arena);
	json_value *top = json_new_object(arena);
	assert_int_equal(json_obj_set(arena, deep, "x", 1,
				      json_get(v, "a", 1)), 0);
	fbuf b = FBUF_INIT;
	assert_int_equal(json_write(deep, &b), 0); /* as deep as before */
	assert_int_equal(json_validate(b.p, b.len, NULL), 0);
	fbuf_clear(&b);
	assert_int_equal(json_obj_set(arena, top, "y", 1, deep), 0);
	assert_int_equal(json_write(top, &b), FERRY_ELIMIT);
	fbuf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_lazy_corpus),
		cmocka_unit_test(t_lazy_block_edges),
		cmocka_unit_test(t_lazy_errors),
		cmocka_unit_test(t_lazy_depth_limit),
		cmocka_unit_test(t_lazy_offsets),
		cmocka_unit_test(t_lazy_shape),
		cmocka_unit_test(t_lazy_numbers),
		cmocka_unit_test(t_lazy_clone_equal),
		cmocka_unit_test(t_lazy_write_depth),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
