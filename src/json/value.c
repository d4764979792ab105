/*
 * value.c - building and comparing trees: constructors, member and element
 * insertion, lookup, deep copy and deep equality. Everything allocates in
 * the arena; a growing array abandons its old storage there (it is freed
 * with the document). Numbers are in number.c, paths in path.c.
 */
#include <string.h>

#include "ferry/ferry.h"
#include "json/internal.h"

static json_value *json_new(json_arena *a, json_type t)
{
	json_value *v = json_arena_node(a, sizeof *v);
	if (v) {
		memset(v, 0, sizeof *v);
		v->type = t;
	}
	return v;
}

json_value *json_new_null(json_arena *a) { return json_new(a, JSON_NULL); }

json_value *json_new_bool(json_arena *a, int b)
{
	return json_new(a, b ? JSON_TRUE : JSON_FALSE);
}

json_value *json_new_array(json_arena *a) { return json_new(a, JSON_ARRAY); }

json_value *json_new_object(json_arena *a) { return json_new(a, JSON_OBJECT); }

/* A NUL-terminated arena copy of s[0..n). */
static char *json_dup(json_arena *a, const char *s, size_t n)
{
	char *p = n < SIZE_MAX ? json_arena_bytes(a, n + 1) : NULL;
	if (p) {
		if (n)
			memcpy(p, s, n);
		p[n] = 0;
	}
	return p;
}

json_value *json_new_string(json_arena *a, const char *s, size_t len)
{
	char *copy = json_dup(a, s, len);
	json_value *v = copy ? json_new(a, JSON_STRING) : NULL;
	if (v) {
		v->u.str.s = copy;
		v->u.str.len = len;
	}
	return v;
}

/* Makes room for one more element of `size` bytes in *arr. */
static int json_reserve(json_arena *a, void **arr, size_t n, size_t *cap,
			size_t size)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 4;
	if (ncap > SIZE_MAX / size)
		return FERRY_ENOMEM;
	void *p = json_arena_node(a, ncap * size);
	if (!p)
		return FERRY_ENOMEM;
	if (n)
		memcpy(p, *arr, n * size);
	*arr = p;
	*cap = ncap;
	return 0;
}

static int json_same(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static json_member *json_find(const json_value *obj, const char *key,
			      size_t klen)
{
	for (size_t i = 0; i < obj->u.obj.n; i++) {
		json_member *m = &obj->u.obj.m[i];
		if (json_same(m->key, m->klen, key, klen))
			return m;
	}
	return NULL;
}

json_value *json_get(const json_value *obj, const char *key, size_t klen)
{
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	json_member *m = json_find(obj, key, klen);
	return m ? m->val : NULL;
}

int json_obj_set(json_arena *a, json_value *obj, const char *key,
		 size_t klen, json_value *v)
{
	if (!obj || obj->type != JSON_OBJECT || !v)
		return FERRY_EINVAL;
	json_member *m = json_find(obj, key, klen);
	if (m) {
		m->val = v;
		return 0;
	}
	char *k = json_dup(a, key, klen);
	if (!k || json_reserve(a, (void **)&obj->u.obj.m, obj->u.obj.n,
			       &obj->u.obj.cap, sizeof(json_member)))
		return FERRY_ENOMEM;
	m = &obj->u.obj.m[obj->u.obj.n++];
	m->key = k;
	m->klen = klen;
	m->val = v;
	return 0;
}

int json_arr_push(json_arena *a, json_value *arr, json_value *v)
{
	if (!arr || arr->type != JSON_ARRAY || !v)
		return FERRY_EINVAL;
	if (json_reserve(a, (void **)&arr->u.arr.v, arr->u.arr.n,
			 &arr->u.arr.cap, sizeof(json_value *)))
		return FERRY_ENOMEM;
	arr->u.arr.v[arr->u.arr.n++] = v;
	return 0;
}

static int json_clone_children(json_arena *a, json_value *c,
			       const json_value *v)
{
	size_t n = v->type == JSON_ARRAY ? v->u.arr.n : v->u.obj.n;
	if (v->type == JSON_ARRAY) {
		c->u.arr.v = json_arena_node(a, n * sizeof(json_value *));
		if (!c->u.arr.v)
			return FERRY_ENOMEM;
		for (size_t i = 0; i < n; i++)
			if (!(c->u.arr.v[i] = json_clone(a, v->u.arr.v[i])))
				return FERRY_ENOMEM;
		c->u.arr.n = c->u.arr.cap = n;
		return 0;
	}
	c->u.obj.m = json_arena_node(a, n * sizeof(json_member));
	if (!c->u.obj.m)
		return FERRY_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const json_member *m = &v->u.obj.m[i];
		c->u.obj.m[i].klen = m->klen;
		if (!(c->u.obj.m[i].key = json_dup(a, m->key, m->klen)) ||
		    !(c->u.obj.m[i].val = json_clone(a, m->val)))
			return FERRY_ENOMEM;
	}
	c->u.obj.n = c->u.obj.cap = n;
	return 0;
}

json_value *json_clone(json_arena *a, const json_value *v)
{
	json_value *c = v ? json_new(a, v->type) : NULL;
	if (!c)
		return NULL;
	switch (v->type) {
	case JSON_STRING:
	case JSON_NUMBER:
		/* str and num share their layout: text, length */
		c->u.str.len = v->u.str.len;
		if (!(c->u.str.s = json_dup(a, v->u.str.s, v->u.str.len)))
			return NULL;
		return c;
	case JSON_ARRAY:
	case JSON_OBJECT:
		return json_clone_children(a, c, v) ? NULL : c;
	case JSON_RAW:
		c->u.raw = v->u.raw; /* the text is not changed through it */
		return c;
	default:
		return c;
	}
}

static int json_num_equal(const json_value *a, const json_value *b)
{
	double da, db;
	if (json_same(a->u.num.text, a->u.num.len, b->u.num.text, b->u.num.len))
		return 1;
	return json_number_double(a, &da) == 0 &&
	       json_number_double(b, &db) == 0 && da == db;
}

static int json_obj_equal(const json_value *a, const json_value *b)
{
	if (a->u.obj.n != b->u.obj.n)
		return 0;
	for (size_t i = 0; i < a->u.obj.n; i++) {
		const json_member *ma = &a->u.obj.m[i], *mb = &b->u.obj.m[i];
		/* same order is the usual case: try the same slot first */
		if (!json_same(ma->key, ma->klen, mb->key, mb->klen))
			mb = json_find(b, ma->key, ma->klen);
		if (!mb || !json_equal(ma->val, mb->val))
			return 0;
	}
	return 1;
}

int json_equal(const json_value *a, const json_value *b)
{
	if (!a || !b)
		return a == b;
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case JSON_NUMBER:
		return json_num_equal(a, b);
	case JSON_STRING:
		return json_same(a->u.str.s, a->u.str.len, b->u.str.s,
				 b->u.str.len);
	case JSON_ARRAY:
		if (a->u.arr.n != b->u.arr.n)
			return 0;
		for (size_t i = 0; i < a->u.arr.n; i++)
			if (!json_equal(a->u.arr.v[i], b->u.arr.v[i]))
				return 0;
		return 1;
	case JSON_OBJECT:
		return json_obj_equal(a, b);
	case JSON_RAW: /* not parsed: only the same text is known equal */
		return json_same(a->u.raw.text, a->u.raw.len, b->u.raw.text,
				 b->u.raw.len);
	default:
		return 1;
	}
}

const char *json_str_member(const json_value *o, const char *k,
			    const char *dflt)
{
	const json_value *v = o ? json_get(o, k, strlen(k)) : NULL;
	return v && v->type == JSON_STRING ? v->u.str.s : dflt;
}

int64_t json_int_member(const json_value *o, const char *k, int64_t dflt)
{
	const json_value *v = o ? json_get(o, k, strlen(k)) : NULL;
	int64_t x;
	if (!v || v->type != JSON_NUMBER || json_number_int64(v, &x))
		return dflt;
	return x;
}
