/*
 * path.c - dotted paths into object trees, as migration ops name fields
 * ("pii.name", "data.pii.firstname"). A backslash makes the next
 * character literal ("a\.b" is the key "a.b"). Segments are matched
 * against keys without decoding them into a buffer first.
 */
#include <string.h>

#include "ferry/ferry.h"
#include "json/internal.h"

typedef struct json_seg {
	const char *raw; /* the segment as written in the path */
	size_t rawlen;
	size_t len;      /* length of the key it names */
	int esc;         /* has backslashes */
	int last;
} json_seg;

/* Cuts the next segment off *pp. -1 if it ends in a lone backslash. */
static int json_seg_next(const char **pp, json_seg *sg)
{
	const char *p = *pp;
	sg->raw = p;
	sg->len = 0;
	sg->esc = 0;
	while (*p && *p != '.') {
		if (*p == '\\') {
			if (!p[1])
				return -1;
			sg->esc = 1;
			p++;
		}
		p++;
		sg->len++;
	}
	sg->rawlen = (size_t)(p - sg->raw);
	sg->last = *p == 0;
	*pp = sg->last ? p : p + 1;
	return 0;
}

/* 1 if every segment of path is well formed. */
static int json_path_ok(const char *path)
{
	json_seg sg;
	if (!path)
		return 0;
	do {
		if (json_seg_next(&path, &sg))
			return 0;
	} while (!sg.last);
	return 1;
}

static int json_seg_eq(const json_seg *sg, const char *key, size_t klen)
{
	if (sg->len != klen)
		return 0;
	if (!sg->esc)
		return klen == 0 || memcmp(sg->raw, key, klen) == 0;
	const char *p = sg->raw;
	for (size_t i = 0; i < klen; i++, p++) {
		if (*p == '\\')
			p++;
		if (*p != key[i])
			return 0;
	}
	return 1;
}

static json_member *json_seg_find(const json_value *obj, const json_seg *sg)
{
	for (size_t i = 0; i < obj->u.obj.n; i++)
		if (json_seg_eq(sg, obj->u.obj.m[i].key, obj->u.obj.m[i].klen))
			return &obj->u.obj.m[i];
	return NULL;
}

/* json_obj_set() with the key a segment names. */
static int json_seg_set(json_arena *a, json_value *obj, const json_seg *sg,
			json_value *v)
{
	if (!sg->esc)
		return json_obj_set(a, obj, sg->raw, sg->len, v);
	char *key = json_arena_bytes(a, sg->len + 1);
	if (!key)
		return FERRY_ENOMEM;
	const char *p = sg->raw;
	for (size_t i = 0; i < sg->len; i++, p++) {
		if (*p == '\\')
			p++;
		key[i] = *p;
	}
	return json_obj_set(a, obj, key, sg->len, v);
}

json_value *json_path_get(const json_value *root, const char *path)
{
	const json_value *cur = root;
	json_seg sg;
	if (!path)
		return NULL;
	do {
		if (!cur || cur->type != JSON_OBJECT || json_seg_next(&path, &sg))
			return NULL;
		json_member *m = json_seg_find(cur, &sg);
		cur = m ? m->val : NULL;
	} while (!sg.last);
	return (json_value *)cur;
}

/* Builds the missing objects for the rest of the path (segment sg
 * onwards) as a detached chain ending in v, then hangs it on `at` in one
 * step, so running out of memory changes nothing in the tree. */
static int json_path_create(json_arena *a, json_value *at, json_seg first,
			    const char *rest, json_value *v)
{
	json_seg sg = first;
	json_value *top = json_new_object(a), *obj = top;
	if (!top)
		return FERRY_ENOMEM;
	int rc = 0;
	while (!rc) {
		json_seg_next(&rest, &sg);
		if (sg.last) {
			rc = json_seg_set(a, obj, &sg, v);
			break;
		}
		json_value *child = json_new_object(a);
		rc = child ? json_seg_set(a, obj, &sg, child) : FERRY_ENOMEM;
		obj = child;
	}
	return rc ? rc : json_seg_set(a, at, &first, top);
}

int json_path_set(json_arena *a, json_value *root, const char *path,
		  json_value *v)
{
	json_value *cur = root;
	json_seg sg;
	if (!root || root->type != JSON_OBJECT || !v || !json_path_ok(path))
		return FERRY_EINVAL;
	for (;;) {
		json_seg_next(&path, &sg);
		if (sg.last)
			return json_seg_set(a, cur, &sg, v);
		json_member *m = json_seg_find(cur, &sg);
		if (!m)
			return json_path_create(a, cur, sg, path, v);
		if (m->val->type != JSON_OBJECT)
			return FERRY_EINVAL;
		cur = m->val;
	}
}

int json_path_remove(json_value *root, const char *path, json_value **removed)
{
	json_value *cur = root;
	json_seg sg;
	if (!json_path_ok(path))
		return FERRY_EINVAL;
	for (;;) {
		if (!cur || cur->type != JSON_OBJECT)
			return FERRY_ENOTFOUND;
		json_seg_next(&path, &sg);
		json_member *m = json_seg_find(cur, &sg);
		if (!m)
			return FERRY_ENOTFOUND;
		if (!sg.last) {
			cur = m->val;
			continue;
		}
		json_value *val = m->val;
		size_t i = (size_t)(m - cur->u.obj.m);
		memmove(m, m + 1, (cur->u.obj.n - i - 1) * sizeof *m);
		cur->u.obj.n--;
		if (removed)
			*removed = val;
		return 0;
	}
}
