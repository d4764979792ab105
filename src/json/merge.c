/*
 * merge.c - json_merge(): the partial-document merge of Elasticsearch's
 * update API (see merge.h), and json_same_text(), the exact comparison
 * that tells whether a merge changed anything (detect_noop).
 *
 * Each object level looks every patch key up in the target first, then
 * grows the target's member array once and appends the new keys, so the
 * target's own keys keep their slots. Small objects are searched
 * linearly; when (target keys x patch keys) is large, the target's keys
 * go into an open-addressing table in the arena, so a patch of a million
 * keys does not cost a million squared comparisons.
 */
#include <stdint.h>
#include <string.h>

#include "ferry/ferry.h"
#include "json/merge.h"

#define LINEAR_MAX 1024 /* target keys x patch keys searched linearly */
#define NO_SLOT SIZE_MAX

/* The target's keys by hash; slot values are member index + 1. */
typedef struct keytab {
	size_t *slot;
	size_t mask; /* size - 1; size is a power of two */
} keytab;

static uint64_t key_hash(const char *k, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
	return h;
}

static int key_eq(const json_member *m, const char *k, size_t n)
{
	return m->klen == n && (n == 0 || !memcmp(m->key, k, n));
}

static int keytab_build(json_arena *a, keytab *kt, const json_value *t)
{
	size_t n = t->u.obj.n, size = 16;
	while (size < 2 * n)
		size *= 2;
	if (size > SIZE_MAX / sizeof(size_t) ||
	    !(kt->slot = json_arena_alloc(a, size * sizeof(size_t))))
		return FERRY_ENOMEM;
	memset(kt->slot, 0, size * sizeof(size_t));
	kt->mask = size - 1;
	for (size_t i = 0; i < n; i++) {
		const json_member *m = &t->u.obj.m[i];
		size_t s = (size_t)key_hash(m->key, m->klen) & kt->mask;
		while (kt->slot[s])
			s = (s + 1) & kt->mask;
		kt->slot[s] = i + 1;
	}
	return 0;
}

/* Index of key k in t, or NO_SLOT. `kt` is NULL for a linear search. */
static size_t find_key(const json_value *t, const keytab *kt, const char *k,
		       size_t n)
{
	if (!kt) {
		for (size_t i = 0; i < t->u.obj.n; i++)
			if (key_eq(&t->u.obj.m[i], k, n))
				return i;
		return NO_SLOT;
	}
	for (size_t s = (size_t)key_hash(k, n) & kt->mask; kt->slot[s];
	     s = (s + 1) & kt->mask)
		if (key_eq(&t->u.obj.m[kt->slot[s] - 1], k, n))
			return kt->slot[s] - 1;
	return NO_SLOT;
}

/* Looks every patch key up (at[i]: its index in t or NO_SLOT) and makes
 * room in t for the keys it lacks. */
static int plan_level(json_arena *a, json_value *t, const json_value *p,
		      size_t **at_out)
{
	size_t n = t->u.obj.n, k = p->u.obj.n, add = 0;
	keytab kt, *ktp = NULL;
	size_t *at;

	if (k > SIZE_MAX / sizeof(size_t) ||
	    !(at = json_arena_alloc(a, k * sizeof(size_t))))
		return FERRY_ENOMEM;
	if (n > 1 && k > 1 && n > LINEAR_MAX / k) {
		if (keytab_build(a, &kt, t))
			return FERRY_ENOMEM;
		ktp = &kt;
	}
	for (size_t i = 0; i < k; i++) {
		const json_member *pm = &p->u.obj.m[i];
		at[i] = find_key(t, ktp, pm->key, pm->klen);
		add += at[i] == NO_SLOT;
	}
	if (add && t->u.obj.cap - n < add) {
		json_member *m;
		if (add > SIZE_MAX / sizeof(*m) - n ||
		    !(m = json_arena_alloc(a, (n + add) * sizeof(*m))))
			return FERRY_ENOMEM;
		if (n)
			memcpy(m, t->u.obj.m, n * sizeof(*m));
		t->u.obj.m = m;
		t->u.obj.cap = n + add;
	}
	*at_out = at;
	return 0;
}

static int merge_obj(json_arena *a, json_value *t, json_value *p,
		     int *changed)
{
	size_t *at;
	int rc;

	if (!p->u.obj.n)
		return 0;
	if ((rc = plan_level(a, t, p, &at)))
		return rc;
	for (size_t i = 0; i < p->u.obj.n; i++) {
		json_member *pm = &p->u.obj.m[i];
		if (at[i] == NO_SLOT) {
			t->u.obj.m[t->u.obj.n++] = *pm;
			*changed = 1;
			continue;
		}
		json_value **tv = &t->u.obj.m[at[i]].val;
		if ((*tv)->type == JSON_OBJECT && pm->val->type == JSON_OBJECT) {
			if ((rc = merge_obj(a, *tv, pm->val, changed)))
				return rc;
		} else if (!json_same_text(*tv, pm->val)) {
			*tv = pm->val;
			*changed = 1;
		}
	}
	return 0;
}

int json_merge(json_arena *a, json_value *target, json_value *patch,
	       int *changed)
{
	int dummy = 0;

	if (!target || !patch || target->type != JSON_OBJECT ||
	    patch->type != JSON_OBJECT)
		return FERRY_EINVAL;
	if (!changed)
		changed = &dummy;
	*changed = 0;
	return merge_obj(a, target, patch, changed);
}

static int bytes_eq(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && (an == 0 || !memcmp(a, b, an));
}

int json_same_text(const json_value *a, const json_value *b)
{
	if (!a || !b)
		return a == b;
	if (a == b)
		return 1;
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case JSON_NUMBER:
		return bytes_eq(a->u.num.text, a->u.num.len, b->u.num.text,
				b->u.num.len);
	case JSON_STRING:
		return bytes_eq(a->u.str.s, a->u.str.len, b->u.str.s,
				b->u.str.len);
	case JSON_ARRAY:
		if (a->u.arr.n != b->u.arr.n)
			return 0;
		for (size_t i = 0; i < a->u.arr.n; i++)
			if (!json_same_text(a->u.arr.v[i], b->u.arr.v[i]))
				return 0;
		return 1;
	case JSON_OBJECT:
		if (a->u.obj.n != b->u.obj.n)
			return 0;
		for (size_t i = 0; i < a->u.obj.n; i++) {
			const json_member *ma = &a->u.obj.m[i],
					  *mb = &b->u.obj.m[i];
			if (!bytes_eq(ma->key, ma->klen, mb->key, mb->klen) ||
			    !json_same_text(ma->val, mb->val))
				return 0;
		}
		return 1;
	case JSON_RAW:
		return bytes_eq(a->u.raw.text, a->u.raw.len, b->u.raw.text,
				b->u.raw.len);
	default:
		return 1;
	}
}
