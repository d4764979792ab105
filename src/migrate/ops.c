/*
 * ops.c - the declarative ops (rename, set, remove, default, copy,
 * convert) on one document, in place. This is the hot loop of an upgrade:
 * no allocation except the values an op writes, which are deep copies in
 * the document's arena (the program's values are never shared with a
 * document, so a later op cannot change them through it).
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "migrate/internal.h"

/* The message when a path could not be set: `bad` keys of the path lead
 * to a value that is not an object. */
static int fmig_set_failed(const fmig_op *op, json_arena *a, json_value *doc,
			   const fmig_path *p, const char *text, size_t bad,
			   ferry_err *err)
{
	char prefix[256];
	size_t used = 0;
	fmig_path head = {p->seg, bad};
	for (size_t i = 0; i < bad && used < sizeof prefix; i++)
		used += (size_t)snprintf(prefix + used, sizeof prefix - used,
					 "%s%s", i ? "." : "", p->seg[i].k);
	json_value *v = NULL;
	fmig_path_get(a, doc, &head, &v); /* walked already: cannot fail */
	return ferry_err_set(err, FERRY_EINVAL, "%s: cannot set '%s': '%s' "
			     "is %s, not an object", op->where, text, prefix,
			     v ? fmig_type_name(v->type) : "missing");
}

/* The message when walking to `text` failed (rc from fmig_path_*). */
static int fmig_walk_failed(const fmig_op *op, const char *text, int rc,
			    ferry_err *err)
{
	if (rc == FERRY_EJSON)
		return ferry_err_set(err, rc, "%s: the stored document is not "
				     "JSON on the way to '%s'", op->where, text);
	return ferry_err_set(err, rc, "%s: out of memory", op->where);
}

/* Puts v (already owned by the document) at path p (text for messages). */
static int fmig_put(const fmig_op *op, json_arena *a, json_value *doc,
		    const fmig_path *p, const char *text, json_value *v,
		    ferry_err *err)
{
	size_t bad = 0;
	int rc = fmig_path_set(a, doc, p, v, &bad);
	if (rc == FERRY_EINVAL)
		return fmig_set_failed(op, a, doc, p, text, bad, err);
	return rc ? fmig_walk_failed(op, text, rc, err) : 0;
}

static int fmig_op_convert(const fmig_op *op, json_arena *a, json_value *doc,
			   ferry_err *err)
{
	char why[160], shown[80];
	json_value *cur, *nv;
	int rc = fmig_path_get(a, doc, &op->pa, &cur);
	if (rc)
		return fmig_walk_failed(op, op->a, rc, err);
	if (!cur || cur->type == JSON_NULL)
		return 0;
	nv = cur;
	rc = fmig_convert(a, op->conv, &nv, why, sizeof why);
	if (rc == FERRY_EINVAL) {
		fmig_show(cur, shown, sizeof shown);
		return ferry_err_set(err, rc, "%s: cannot convert '%s' = %s "
				     "to %s: %s", op->where, op->a, shown,
				     fmig_convname(op->conv), why);
	}
	if (rc)
		return ferry_err_set(err, rc, "%s: out of memory", op->where);
	if (nv != cur)
		*cur = *nv; /* nv's storage is in the same arena */
	return 0;
}

int fmig_op_apply(const fmig_op *op, json_arena *a, json_value *doc,
		  ferry_err *err)
{
	json_value *v = NULL;
	int rc = 0;
	switch (op->kind) {
	case FMIG_RENAME:
		if (op->same)
			return 0;
		rc = fmig_path_remove(a, doc, &op->pa, &v);
		if (rc == FERRY_ENOTFOUND)
			return 0;
		if (rc)
			return fmig_walk_failed(op, op->a, rc, err);
		return fmig_put(op, a, doc, &op->pb, op->b, v, err);
	case FMIG_SET:
		return fmig_put(op, a, doc, &op->pa, op->a,
				json_clone(a, op->value), err);
	case FMIG_REMOVE:
		rc = fmig_path_remove(a, doc, &op->pa, NULL);
		return rc && rc != FERRY_ENOTFOUND ?
			fmig_walk_failed(op, op->a, rc, err) : 0;
	case FMIG_DEFAULT:
		if ((rc = fmig_path_get(a, doc, &op->pa, &v)))
			return fmig_walk_failed(op, op->a, rc, err);
		if (v && v->type != JSON_NULL)
			return 0;
		return fmig_put(op, a, doc, &op->pa, op->a,
				json_clone(a, op->value), err);
	case FMIG_COPY:
		if ((rc = fmig_path_get(a, doc, &op->pa, &v)))
			return fmig_walk_failed(op, op->a, rc, err);
		if (!v)
			return 0;
		return fmig_put(op, a, doc, &op->pb, op->b, json_clone(a, v),
				err);
	case FMIG_CONVERT:
		return fmig_op_convert(op, a, doc, err);
	default:
		return ferry_err_set(err, FERRY_EINTERNAL, "%s: not a "
				     "declarative op", op->where);
	}
}
