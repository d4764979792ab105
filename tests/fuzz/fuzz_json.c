/*
 * fuzz_json.c - libFuzzer target for src/json. Checks invariants rather
 * than just crashes: validate and parse agree (result, offset, message);
 * parse -> write -> parse -> write is a fixed point and keeps the tree
 * equal; json_validate_object agrees with json_validate on objects and
 * finds the same member as json_get; clone is equal; a number that reads
 * as an int64 reads as the same double; json_pretty() keeps the value
 * and is a fixed point, and refuses what json_validate() refuses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/ferry.h"
#include "json/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static json_arena *arena;

static void check_number(const json_value *v)
{
	int64_t i;
	double d;
	if (json_number_int64(v, &i) == 0 && i > -(1LL << 53) && i < (1LL << 53))
		CHECK(json_number_double(v, &d) == 0 && d == (double)i);
}

/* Walks the tree: numbers convert consistently. */
static void walk(const json_value *v, int depth)
{
	CHECK(depth <= JSON_MAX_DEPTH);
	if (v->type == JSON_NUMBER)
		check_number(v);
	if (v->type == JSON_ARRAY)
		for (size_t i = 0; i < v->u.arr.n; i++)
			walk(v->u.arr.v[i], depth + 1);
	if (v->type == JSON_OBJECT)
		for (size_t i = 0; i < v->u.obj.n; i++)
			walk(v->u.obj.m[i].val, depth + 1);
}

static void check_object_key(const char *s, size_t n, const json_value *v,
			     const char *key)
{
	const char *val = NULL;
	size_t vlen = 0;
	json_error e;
	CHECK(json_validate_object(s, n, key, &val, &vlen, &e) == 0);
	json_value *want = json_get(v, key, strlen(key));
	if (!want) {
		CHECK(val == NULL);
		return;
	}
	CHECK(val && val >= s && val + vlen <= s + n);
	json_value *got = NULL;
	CHECK(json_parse(arena, val, vlen, &got, NULL) == 0);
	CHECK(json_equal(got, want));
}

static void check_pretty(const char *s, size_t n, const json_value *v)
{
	fbuf p1 = FBUF_INIT, p2 = FBUF_INIT;
	json_value *pv = NULL;
	CHECK(json_pretty(s, n, &p1) == 0);
	CHECK(json_parse(arena, p1.p, p1.len, &pv, NULL) == 0);
	CHECK(json_equal(v, pv));
	CHECK(json_pretty(p1.p, p1.len, &p2) == 0);
	CHECK(p1.len == p2.len && memcmp(p1.p, p2.p, p1.len) == 0);
	fbuf_release(&p1);
	fbuf_release(&p2);
}

static void check_valid(const char *s, size_t n, json_value *v)
{
	fbuf w1 = FBUF_INIT, w2 = FBUF_INIT;
	json_value *v2 = NULL;
	CHECK(json_write(v, &w1) == 0);
	CHECK(json_validate(w1.p, w1.len, NULL) == 0);
	CHECK(json_parse(arena, w1.p, w1.len, &v2, NULL) == 0);
	CHECK(json_equal(v, v2) && json_equal(v2, v));
	CHECK(json_write(v2, &w2) == 0);
	CHECK(w1.len == w2.len && memcmp(w1.p, w2.p, w1.len) == 0);
	json_value *c = json_clone(arena, v);
	CHECK(c && json_equal(c, v));
	check_pretty(s, n, v);
	walk(v, 0);
	if (v->type == JSON_OBJECT) {
		check_object_key(s, n, v, "id");
		check_object_key(s, n, v, "a");
		check_object_key(s, n, v, "");
		if (v->u.obj.n && !memchr(v->u.obj.m[0].key, 0, v->u.obj.m[0].klen))
			check_object_key(s, n, v, v->u.obj.m[0].key);
	}
	if (v->type == JSON_STRING && n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		fbuf u = FBUF_INIT;
		CHECK(json_unescape(s, n, &u) == 0);
		CHECK(u.len == v->u.str.len &&
		      (u.len == 0 || memcmp(u.p, v->u.str.s, u.len) == 0));
		fbuf_release(&u);
	}
	fbuf_release(&w1);
	fbuf_release(&w2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	json_error e1 = {0, NULL}, e2 = {0, NULL}, e3 = {0, NULL};
	json_value *v = NULL;
	if (!arena)
		arena = json_arena_new();
	CHECK(arena);
	json_arena_reset(arena);

	int r1 = json_validate(s, size, &e1);
	int r2 = json_parse(arena, s, size, &v, &e2);
	CHECK(r1 == r2);
	CHECK(r1 == 0 || r1 == FERRY_EJSON);
	if (r1) {
		CHECK(e1.offset == e2.offset && e1.offset <= size);
		CHECK(e1.msg && e1.msg[0] && strcmp(e1.msg, e2.msg) == 0);
		CHECK(v == NULL);
		fbuf p = FBUF_INIT;
		CHECK(json_pretty(s, size, &p) == FERRY_EJSON && p.len == 0);
		fbuf_release(&p);
	} else {
		CHECK(v);
		check_valid(s, size, v);
	}

	size_t i = 0;
	while (i < size && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	const char *val = NULL;
	size_t vlen = 0;
	int r3 = json_validate_object(s, size, "id", &val, &vlen, &e3);
	if (i < size && s[i] == '{') {
		CHECK(r3 == r1);
		if (r1)
			CHECK(e3.offset == e1.offset && strcmp(e3.msg, e1.msg) == 0);
	} else {
		CHECK(r3 == FERRY_EJSON);
		CHECK(e3.offset == i);
	}
	return 0;
}
