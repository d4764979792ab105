/*
 * path.c - compiled dotted paths for the ops. json_path_*() re-read the
 * path text (escapes and all) at every call; an upgrade walks the same
 * few paths for millions of documents, so each path is cut into decoded
 * keys once, when the migration file is loaded, and walked here with
 * plain length + memcmp lookups.
 */
#include <string.h>

#include "ferry/ferry.h"
#include "migrate/internal.h"

int fmig_path_compile(json_arena *a, const char *path, fmig_path *out)
{
	size_t n = 1, len = strlen(path);
	for (const char *p = path; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '.')
			n++;
	}
	char *keys = json_arena_alloc(a, len + n);
	fmig_seg *seg = json_arena_alloc(a, n * sizeof *seg);
	if (!keys || !seg)
		return FERRY_ENOMEM;
	size_t i = 0;
	seg[0].k = keys;
	for (const char *p = path;; p++) {
		if (*p == '\\' && p[1]) {
			*keys++ = *++p;
		} else if (*p == '.' || !*p) {
			seg[i].len = (size_t)(keys - seg[i].k);
			*keys++ = 0;
			if (!*p)
				break;
			seg[++i].k = keys;
		} else {
			*keys++ = *p;
		}
	}
	out->seg = seg;
	out->n = n;
	return 0;
}

/* The member of obj with the key of s, or NULL. */
static json_member *fmig_member(const json_value *obj, const fmig_seg *s)
{
	for (size_t i = 0; i < obj->u.obj.n; i++) {
		json_member *m = &obj->u.obj.m[i];
		if (m->klen == s->len &&
		    (!s->len || (m->key[0] == s->k[0] &&
				 memcmp(m->key, s->k, s->len) == 0)))
			return m;
	}
	return NULL;
}

/* v as a real node: a raw one (from json_parse_lazy) is expanded in
 * place, one level. */
static int fmig_real(json_arena *a, json_value *v)
{
	json_error je;
	return v && v->type == JSON_RAW ? json_expand(a, v, &je) : 0;
}

int fmig_path_get(json_arena *a, json_value *root, const fmig_path *p,
		  json_value **out)
{
	json_value *cur = root;
	int rc;
	*out = NULL;
	for (size_t i = 0; i < p->n; i++) {
		if ((rc = fmig_real(a, cur)))
			return rc;
		if (cur->type != JSON_OBJECT)
			return 0;
		json_member *m = fmig_member(cur, &p->seg[i]);
		if (!m)
			return 0;
		cur = m->val;
	}
	if ((rc = fmig_real(a, cur)))
		return rc;
	*out = cur;
	return 0;
}

int fmig_path_set(json_arena *a, json_value *root, const fmig_path *p,
		  json_value *v, size_t *bad)
{
	json_value *cur = root;
	size_t i = 0;
	int rc;
	if (!v)
		return FERRY_ENOMEM;
	if ((rc = fmig_real(a, cur)))
		return rc;
	for (; i + 1 < p->n; i++) {
		json_member *m = fmig_member(cur, &p->seg[i]);
		if (!m)
			break;
		if ((rc = fmig_real(a, m->val)))
			return rc;
		if (m->val->type != JSON_OBJECT) {
			*bad = i + 1;
			return FERRY_EINVAL;
		}
		cur = m->val;
	}
	/* the missing objects, built detached, hung on in one step */
	json_value *top = v;
	for (size_t k = p->n - 1; k > i; k--) {
		json_value *o = json_new_object(a);
		if (!o || json_obj_set(a, o, p->seg[k].k, p->seg[k].len, top))
			return FERRY_ENOMEM;
		top = o;
	}
	return json_obj_set(a, cur, p->seg[i].k, p->seg[i].len, top) ?
		FERRY_ENOMEM : 0;
}

int fmig_path_remove(json_arena *a, json_value *root, const fmig_path *p,
		     json_value **removed)
{
	json_value *cur = root;
	int rc;
	for (size_t i = 0; i < p->n; i++) {
		if ((rc = fmig_real(a, cur)))
			return rc;
		if (cur->type != JSON_OBJECT)
			return FERRY_ENOTFOUND;
		json_member *m = fmig_member(cur, &p->seg[i]);
		if (!m)
			return FERRY_ENOTFOUND;
		if (i + 1 < p->n) {
			cur = m->val;
			continue;
		}
		size_t at = (size_t)(m - cur->u.obj.m);
		if (removed)
			*removed = m->val;
		memmove(m, m + 1, (cur->u.obj.n - at - 1) * sizeof *m);
		cur->u.obj.n--;
	}
	return 0;
}
