/*
 * test_merge.c - unit tests of src/json/merge.c, the partial-document
 * merge of updates: nested objects merge key by key, arrays and scalars
 * and null replace, key order (existing keys keep their place, new keys
 * are appended in the patch's order), the `changed` flag that drives
 * detect_noop, exact comparison (json_same_text), invalid input, and big
 * objects (the hashed key lookup).
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
#include "json/merge.h"

static json_arena *arena;

static int setup(void **state)
{
	(void)state;
	arena = json_arena_new();
	return arena ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	json_arena_free(arena);
	arena = NULL;
	return 0;
}

static json_value *P(const char *s)
{
	json_value *v = NULL;
	json_error e = {0, NULL};
	if (json_parse(arena, s, strlen(s), &v, &e))
		fail_msg("parse of %s failed at %zu: %s", s, e.offset, e.msg);
	return v;
}

/* Compact text of v; the buffer is released by the caller. */
static void W(const json_value *v, fbuf *out)
{
	fbuf_init(out, 0);
	assert_int_equal(json_write(v, out), 0);
}

/* Merges patch into target and checks the text and the changed flag. */
static void M(const char *target, const char *patch, const char *want,
	      int want_changed)
{
	json_value *t = P(target), *p = P(patch);
	fbuf before, after, out;
	int changed = -1;

	W(p, &before);
	assert_int_equal(json_merge(arena, t, p, &changed), 0);
	W(t, &out);
	if (strcmp(out.p, want))
		fail_msg("merge %s <- %s\n  got  %s\n  want %s", target, patch,
			 out.p, want);
	if (changed != want_changed)
		fail_msg("merge %s <- %s: changed %d, want %d", target, patch,
			 changed, want_changed);
	W(p, &after); /* the patch itself is never modified */
	assert_string_equal(before.p, after.p);
	fbuf_release(&before);
	fbuf_release(&after);
	fbuf_release(&out);
	json_arena_reset(arena);
}

static void t_nested_objects(void **state)
{
	(void)state;
	M("{\"a\":{\"b\":1,\"c\":{\"d\":2}},\"e\":3}",
	  "{\"a\":{\"c\":{\"f\":4},\"b\":5}}",
	  "{\"a\":{\"b\":5,\"c\":{\"d\":2,\"f\":4}},\"e\":3}", 1);
	/* three levels, siblings untouched at each */
	M("{\"x\":{\"y\":{\"z\":{\"k\":1,\"l\":2},\"w\":0},\"v\":0}}",
	  "{\"x\":{\"y\":{\"z\":{\"l\":3}}}}",
	  "{\"x\":{\"y\":{\"z\":{\"k\":1,\"l\":3},\"w\":0},\"v\":0}}", 1);
	/* a new nested object is taken whole */
	M("{\"a\":1}", "{\"b\":{\"c\":{\"d\":[1]}}}",
	  "{\"a\":1,\"b\":{\"c\":{\"d\":[1]}}}", 1);
	/* an empty object in the patch merges nothing into an object... */
	M("{\"a\":{\"b\":1}}", "{\"a\":{}}", "{\"a\":{\"b\":1}}", 0);
	/* ...but replaces a value that is not one */
	M("{\"a\":1}", "{\"a\":{}}", "{\"a\":{}}", 1);
	M("{}", "{}", "{}", 0);
	M("{}", "{\"a\":1}", "{\"a\":1}", 1);
}

static void t_arrays_replace(void **state)
{
	(void)state;
	M("{\"a\":[1,2,3]}", "{\"a\":[4]}", "{\"a\":[4]}", 1);
	M("{\"a\":[1,2,3]}", "{\"a\":[]}", "{\"a\":[]}", 1);
	/* objects inside arrays are not merged: the array is replaced */
	M("{\"a\":[{\"x\":1,\"y\":2}]}", "{\"a\":[{\"y\":3}]}",
	  "{\"a\":[{\"y\":3}]}", 1);
	M("{\"a\":{\"x\":1}}", "{\"a\":[1]}", "{\"a\":[1]}", 1);
	M("{\"a\":[1]}", "{\"a\":{\"x\":1}}", "{\"a\":{\"x\":1}}", 1);
	M("{\"a\":[1,[2,{\"b\":3}]]}", "{\"a\":[1,[2,{\"b\":3}]]}",
	  "{\"a\":[1,[2,{\"b\":3}]]}", 0);
	/* scalars of every kind replace */
	M("{\"a\":\"s\",\"b\":true,\"c\":1}",
	  "{\"a\":2,\"b\":false,\"c\":\"1\"}",
	  "{\"a\":2,\"b\":false,\"c\":\"1\"}", 1);
}

static void t_null(void **state)
{
	(void)state;
	/* null sets the value to null; it never removes the key */
	M("{\"a\":1,\"b\":{\"c\":1},\"d\":2}", "{\"a\":null,\"b\":null}",
	  "{\"a\":null,\"b\":null,\"d\":2}", 1);
	M("{\"a\":null}", "{\"a\":{\"b\":1}}", "{\"a\":{\"b\":1}}", 1);
	M("{\"a\":null}", "{\"a\":null}", "{\"a\":null}", 0);
	M("{\"a\":1}", "{\"n\":null}", "{\"a\":1,\"n\":null}", 1);
}

static void t_key_order(void **state)
{
	(void)state;
	M("{\"z\":1,\"a\":2,\"m\":3}", "{\"q\":9,\"a\":7,\"b\":8}",
	  "{\"z\":1,\"a\":7,\"m\":3,\"q\":9,\"b\":8}", 1);
	M("{\"o\":{\"z\":1,\"a\":2}}", "{\"o\":{\"c\":3,\"z\":0}}",
	  "{\"o\":{\"z\":0,\"a\":2,\"c\":3}}", 1);
	/* keys are compared as decoded bytes: escapes, NUL, the empty key */
	M("{\"A\":1,\"a\\u0000b\":2,\"\":3}",
	  "{\"\\u0041\":4,\"a\":5,\"\":6,\"a\\u0000b\":7}",
	  "{\"A\":4,\"a\\u0000b\":7,\"\":6,\"a\":5}", 1);
}

static void t_changed_flag(void **state)
{
	(void)state;
	/* a patch the target already contains changes nothing */
	M("{\"a\":1,\"b\":{\"c\":\"x\",\"d\":[1]},\"e\":2}",
	  "{\"b\":{\"d\":[1]},\"a\":1}",
	  "{\"a\":1,\"b\":{\"c\":\"x\",\"d\":[1]},\"e\":2}", 0);
	/* the same string written with an escape is the same string */
	M("{\"a\":\"\\u0041\"}", "{\"a\":\"A\"}", "{\"a\":\"A\"}", 0);
	/* a different number lexeme is a change (the text changes) */
	M("{\"a\":1}", "{\"a\":1.0}", "{\"a\":1.0}", 1);
	M("{\"a\":1e2}", "{\"a\":100}", "{\"a\":100}", 1);
	M("{\"a\":true}", "{\"a\":true}", "{\"a\":true}", 0);
	M("{\"a\":true}", "{\"a\":false}", "{\"a\":false}", 1);
	/* object key order inside a replaced array counts */
	M("{\"a\":[{\"x\":1,\"y\":2}]}", "{\"a\":[{\"y\":2,\"x\":1}]}",
	  "{\"a\":[{\"y\":2,\"x\":1}]}", 1);
	/* changed may be NULL */
	json_value *t = P("{\"a\":1}"), *p = P("{\"a\":2}");
	assert_int_equal(json_merge(arena, t, p, NULL), 0);
	assert_int_equal(json_int_member(t, "a", 0), 2);
	json_arena_reset(arena);
}

static void t_same_text(void **state)
{
	(void)state;
	assert_true(json_same_text(P("[1,\"a\",{\"b\":null}]"),
				   P("[1,\"\\u0061\",{\"b\":null}]")));
	assert_false(json_same_text(P("1"), P("1.0")));
	assert_false(json_same_text(P("{\"a\":1,\"b\":2}"),
				    P("{\"b\":2,\"a\":1}")));
	assert_true(json_equal(P("{\"a\":1,\"b\":2}"), P("{\"b\":2,\"a\":1}")));
	assert_false(json_same_text(P("[1]"), P("[1,2]")));
	assert_false(json_same_text(P("{\"a\":1}"), P("{\"a\":1,\"b\":1}")));
	assert_false(json_same_text(P("null"), P("false")));
	assert_false(json_same_text(P("\"a\""), NULL));
	assert_true(json_same_text(NULL, NULL));
	json_arena_reset(arena);
}

static void t_invalid_input(void **state)
{
	(void)state;
	json_value *obj = P("{\"a\":1}"), *arr = P("[1]"), *num = P("2");
	fbuf out;
	int changed = 7;

	assert_int_equal(json_merge(arena, arr, obj, &changed), FERRY_EINVAL);
	assert_int_equal(json_merge(arena, obj, arr, &changed), FERRY_EINVAL);
	assert_int_equal(json_merge(arena, obj, num, &changed), FERRY_EINVAL);
	assert_int_equal(json_merge(arena, NULL, obj, &changed), FERRY_EINVAL);
	assert_int_equal(json_merge(arena, obj, NULL, &changed), FERRY_EINVAL);
	assert_int_equal(changed, 7); /* untouched on error */
	W(obj, &out);
	assert_string_equal(out.p, "{\"a\":1}");
	fbuf_release(&out);
	W(arr, &out);
	assert_string_equal(out.p, "[1]");
	fbuf_release(&out);
	/* text that is not JSON never becomes a tree to merge */
	json_value *v = NULL;
	json_error e = {0, NULL};
	assert_int_equal(json_parse(arena, "{\"doc\":{", 8, &v, &e),
			 FERRY_EJSON);
	assert_null(v);
	assert_int_equal(e.offset, 8);
	json_arena_reset(arena);
}

/* Parses {"k{from}":v+from,...,"k{to-1}":v+to-1} (built as text, so
 * that building it is not itself quadratic). */
static json_value *big_object(size_t from, size_t to, int v)
{
	fbuf b;
	fbuf_init(&b, 0);
	fbuf_addc(&b, '{');
	for (size_t i = from; i < to; i++)
		fbuf_addf(&b, "%s\"k%zu\":%d", i > from ? "," : "", i,
			  v + (int)i);
	fbuf_addc(&b, '}');
	json_value *o = P(b.p);
	fbuf_release(&b);
	return o;
}

static void t_big_objects(void **state)
{
	(void)state;
	/* 20000 keys, 10000 of them overlapping: the hashed lookup */
	json_value *t = big_object(0, 20000, 0), *p = big_object(10000, 30000,
								 100000);
	int changed = 0;
	int64_t x;
	char key[32];
	assert_int_equal(json_merge(arena, t, p, &changed), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(t->u.obj.n, 30000);
	for (size_t i = 0; i < 30000; i++) {
		snprintf(key, sizeof key, "k%zu", i);
		assert_string_equal(t->u.obj.m[i].key, key);
		assert_int_equal(json_number_int64(t->u.obj.m[i].val, &x), 0);
		assert_int_equal(x, i < 10000 ? (int64_t)i : (int64_t)(100000 + i));
	}
	/* merging the same patch again changes nothing */
	json_value *p2 = big_object(10000, 30000, 100000);
	assert_int_equal(json_merge(arena, t, p2, &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(t->u.obj.n, 30000);
	json_arena_reset(arena);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_nested_objects),
		cmocka_unit_test(t_arrays_replace),
		cmocka_unit_test(t_null),
		cmocka_unit_test(t_key_order),
		cmocka_unit_test(t_changed_flag),
		cmocka_unit_test(t_same_text),
		cmocka_unit_test(t_invalid_input),
		cmocka_unit_test(t_big_objects),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
