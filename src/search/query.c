/*
 * query.c - the query DSL parser: turns the "query" object of a search or
 * count body into a tree of fsq clauses (internal.h) living in the
 * request's arena, with Elasticsearch's error types and wording, plus
 * where in the body the problem is and what was expected there.
 *
 * Supported: match_all, match_none, term, terms, ids, range, exists,
 * prefix, bool, constant_score. term/terms/ids all become one sorted term
 * set (FSQ_TERMS), so matching a value is a binary search.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/internal.h"

typedef struct qctx {
	json_arena *a;
	size_t *clauses;
	fsearch_error *e;
} qctx;

typedef int (*qparse_fn)(qctx *c, const json_value *body, const char *where,
			 fsq *q);

static const char *const SUPPORTED =
	"match_all, match_none, term, terms, ids, range, exists, prefix, "
	"bool, constant_score";

/* "where.suffix" (or "where[i]") in the arena, cut at 200 bytes. */
static const char *q_where(qctx *c, const char *where, const char *sep,
			   const char *name, long idx)
{
	char buf[256];
	if (idx >= 0)
		snprintf(buf, sizeof buf, "%.200s[%ld]", where, idx);
	else
		snprintf(buf, sizeof buf, "%.200s%s%.40s", where, sep, name);
	size_t n = strlen(buf) + 1;
	char *p = json_arena_alloc(c->a, n);
	if (p)
		memcpy(p, buf, n);
	return p ? p : where;
}

static fsq *q_new(qctx *c, fsq_kind kind)
{
	fsq *q = json_arena_alloc(c->a, sizeof *q);
	if (!q)
		return NULL;
	memset(q, 0, sizeof *q);
	q->kind = kind;
	return q;
}

/* "boost" and "_name" are allowed in every query: 1 if `key` is one (and
 * its value has the right type), 0 if not, -1 on a bad value. */
static int q_common(qctx *c, const char *qn, const json_member *m,
		    const char *where)
{
	if (strcmp(m->key, "boost") == 0) {
		if (m->val->type == JSON_NUMBER)
			return 1;
		FSE_PARSE(c->e, "[%s] query: [boost] must be a number, got %s "
			  "(at %s)", qn, fs_type_name(m->val), where);
		return -1;
	}
	if (strcmp(m->key, "_name") == 0) {
		if (m->val->type == JSON_STRING)
			return 1;
		FSE_PARSE(c->e, "[%s] query: [_name] must be a string, got %s "
			  "(at %s)", qn, fs_type_name(m->val), where);
		return -1;
	}
	return 0;
}

static int q_need_object(qctx *c, const char *qn, const json_value *v,
			 const char *where)
{
	if (v->type == JSON_OBJECT)
		return 0;
	return FSE_PARSE(c->e, "[%s] query malformed, expected an object "
			 "at %s, got %s", qn, where, fs_type_name(v));
}

static int q_field_name(qctx *c, const char *qn, const json_member *m,
			const char *where, fsq_field *f)
{
	if (m->klen == 0 || memchr(m->key, 0, m->klen))
		return FSE_PARSE(c->e, "[%s] query: a field name must not be "
				 "empty (at %s)", qn, where);
	fs_field_init(f, m->key, m->klen);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Term sets                                                           */

static int q_str_cmp(const void *a, const void *b)
{
	const fs_str *x = a, *y = b;
	return fs_bytes_cmp(x->s, x->len, y->s, y->len);
}

static int q_str_cmp_ci(const void *a, const void *b)
{
	const fs_str *x = a, *y = b;
	return fs_bytes_cmp_ci(x->s, x->len, y->s, y->len);
}

static int q_num_cmp(const void *a, const void *b)
{
	return fs_numcmp(*(const long double *)a, *(const long double *)b);
}

static size_t q_dedupe_str(fs_str *v, size_t n, int ci)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k && !(ci ? fs_bytes_cmp_ci : fs_bytes_cmp)(
				 v[k - 1].s, v[k - 1].len, v[i].s, v[i].len))
			continue;
		v[k++] = v[i];
	}
	return k;
}

static int q_add_value(fsq_terms *t, const json_value *v, int id_only)
{
	if (v->type == JSON_NUMBER) {
		t->strs[t->nstr++] = (fs_str){v->u.num.text, v->u.num.len};
		if (!id_only && fs_num(v, &t->nums[t->nnum]) == 0)
			t->nnum++;
		return 0;
	}
	if (v->type == JSON_TRUE || v->type == JSON_FALSE) {
		t->bools |= v->type == JSON_TRUE ? 2u : 1u;
		return 0;
	}
	const char *s = v->u.str.s;
	size_t len = v->u.str.len;
	t->strs[t->nstr++] = (fs_str){s, len};
	if (id_only)
		return 0;
	if (fs_str_num(s, len, &t->nums[t->nnum]) == 0)
		t->nnum++;
	if (len == 4 && memcmp(s, "true", 4) == 0)
		t->bools |= 2u;
	if (len == 5 && memcmp(s, "false", 5) == 0)
		t->bools |= 1u;
	return 0;
}

/* Builds the term set of the n values vals[] (already type-checked). */
static int q_terms_build(qctx *c, json_value *const *vals, size_t n, int ci,
			 int id_only, fsq_terms *t)
{
	memset(t, 0, sizeof *t);
	t->ci = ci;
	t->strs = json_arena_alloc(c->a, (n ? n : 1) * sizeof *t->strs);
	t->nums = json_arena_alloc(c->a, (n ? n : 1) * sizeof *t->nums);
	if (!t->strs || !t->nums)
		return fse_nomem(c->e);
	for (size_t i = 0; i < n; i++)
		q_add_value(t, vals[i], id_only);
	qsort(t->strs, t->nstr, sizeof *t->strs, ci ? q_str_cmp_ci : q_str_cmp);
	t->nstr = q_dedupe_str(t->strs, t->nstr, ci);
	qsort(t->nums, t->nnum, sizeof *t->nums, q_num_cmp);
	return 0;
}

/* A term value must be a string, number or boolean (string or number
 * for _id). */
static int q_check_value(qctx *c, const char *qn, const fsq_field *f,
			 const json_value *v, const char *where)
{
	switch (v->type) {
	case JSON_STRING:
	case JSON_NUMBER:
		return 0;
	case JSON_TRUE:
	case JSON_FALSE:
		if (!f->is_id)
			return 0;
		break;
	case JSON_ARRAY:
		if (strcmp(qn, "term") == 0)
			return FSE_PARSE(c->e, "[term] query does not support "
					 "array of values (field [%.*s] at "
					 "%s): use a terms query",
					 (int)f->len, f->path, where);
		break;
	default:
		break;
	}
	return FSE_PARSE(c->e, "[%s] query on field [%.*s] at %s: a value "
			 "must be a string%s, got %s", qn, (int)f->len,
			 f->path, where,
			 f->is_id ? " or a number" : ", a number or a boolean",
			 fs_type_name(v));
}

/* ------------------------------------------------------------------ */
/* The queries                                                          */

static int q_match_all(qctx *c, const json_value *body, const char *where,
		       fsq *q)
{
	const char *qn = q->kind == FSQ_ALL ? "match_all" : "match_none";
	if (q_need_object(c, qn, body, where))
		return FERRY_EINVAL;
	for (size_t i = 0; i < body->u.obj.n; i++) {
		int r = q_common(c, qn, &body->u.obj.m[i], where);
		if (r < 0)
			return FERRY_EINVAL;
		if (r == 0)
			return FSE_PARSE(c->e, "[%s] query does not support "
					 "[%s] (at %s)", qn,
					 body->u.obj.m[i].key, where);
	}
	return 0;
}

static int q_match_none(qctx *c, const json_value *body, const char *where,
			fsq *q)
{
	return q_match_all(c, body, where, q);
}

/* The single field member of a term/terms/range/prefix body; the
 * others must be boost/_name. */
static int q_one_field(qctx *c, const char *qn, const json_value *body,
		       const char *where, const json_member **out)
{
	const json_member *fm = NULL;
	if (q_need_object(c, qn, body, where))
		return FERRY_EINVAL;
	for (size_t i = 0; i < body->u.obj.n; i++) {
		const json_member *m = &body->u.obj.m[i];
		int r = strcmp(qn, "terms") == 0 ? q_common(c, qn, m, where) : 0;
		if (r < 0)
			return FERRY_EINVAL;
		if (r > 0)
			continue;
		if (fm)
			return FSE_PARSE(c->e, "[%s] query doesn't support "
					 "multiple fields, found [%s] and [%s] "
					 "(at %s): combine them with bool",
					 qn, fm->key, m->key, where);
		fm = m;
	}
	if (!fm)
		return FSE_PARSE(c->e, "[%s] query at %s names no field: "
				 "expected {\"%s\":{\"FIELD\":...}}", qn, where,
				 qn);
	*out = fm;
	return 0;
}

/* The object form {"value":..,"case_insensitive":..,"boost":..}. */
static int q_value_object(qctx *c, const char *qn, const json_value *o,
			  const char *where, const json_value **val, int *ci)
{
	for (size_t i = 0; i < o->u.obj.n; i++) {
		const json_member *m = &o->u.obj.m[i];
		int r = q_common(c, qn, m, where);
		if (r < 0)
			return FERRY_EINVAL;
		if (r > 0 || strcmp(m->key, "rewrite") == 0)
			continue;
		if (strcmp(m->key, "value") == 0) {
			*val = m->val;
		} else if (strcmp(m->key, "case_insensitive") == 0) {
			if (m->val->type != JSON_TRUE &&
			    m->val->type != JSON_FALSE)
				return FSE_PARSE(c->e, "[%s] query: "
						 "[case_insensitive] must be "
						 "true or false (at %s)", qn,
						 where);
			*ci = m->val->type == JSON_TRUE;
		} else {
			return FSE_PARSE(c->e, "[%s] query does not support "
					 "[%s] (at %s)", qn, m->key, where);
		}
	}
	if (!*val)
		return FSE_PARSE(c->e, "[%s] query at %s: the field's object "
				 "needs a [value]", qn, where);
	return 0;
}

static int q_term(qctx *c, const json_value *body, const char *where,
		  fsq *q)
{
	const json_member *fm;
	const json_value *val = NULL;
	int ci = 0;

	if (q_one_field(c, "term", body, where, &fm) ||
	    q_field_name(c, "term", fm, where, &q->f))
		return FERRY_EINVAL;
	if (fm->val->type == JSON_OBJECT) {
		if (q_value_object(c, "term", fm->val, where, &val, &ci))
			return FERRY_EINVAL;
	} else {
		val = fm->val;
	}
	if (q_check_value(c, "term", &q->f, val, where))
		return FERRY_EINVAL;
	q->kind = FSQ_TERMS;
	json_value *v = (json_value *)val;
	return q_terms_build(c, &v, 1, ci, q->f.is_id, &q->u.t);
}

static int q_term_list(qctx *c, const char *qn, const fsq_field *f,
		       const json_value *arr, const char *where, fsq *q)
{
	if (arr->type != JSON_ARRAY)
		return FSE_PARSE(c->e, "[%s] query on field [%.*s] at %s "
				 "expects an array of values, got %s%s", qn,
				 (int)f->len, f->path, where,
				 fs_type_name(arr),
				 arr->type == JSON_OBJECT
					 ? " (terms lookup is not supported)"
					 : "");
	if (arr->u.arr.n > FSEARCH_MAX_TERMS)
		return FSE_ARG(c->e, "The number of terms [%zu] used in the "
			       "[%s] query at %s exceeds the limit of [%d]",
			       arr->u.arr.n, qn, where, FSEARCH_MAX_TERMS);
	for (size_t i = 0; i < arr->u.arr.n; i++)
		if (q_check_value(c, qn, f, arr->u.arr.v[i],
				  q_where(c, where, "", NULL, (long)i)))
			return FERRY_EINVAL;
	q->kind = FSQ_TERMS;
	q->f = *f;
	return q_terms_build(c, arr->u.arr.v, arr->u.arr.n, 0, f->is_id,
			     &q->u.t);
}

static int q_terms(qctx *c, const json_value *body, const char *where,
		   fsq *q)
{
	const json_member *fm;
	fsq_field f;

	if (q_one_field(c, "terms", body, where, &fm) ||
	    q_field_name(c, "terms", fm, where, &f))
		return FERRY_EINVAL;
	return q_term_list(c, "terms", &f, fm->val,
			   q_where(c, where, ".", fm->key, -1), q);
}

static int q_ids(qctx *c, const json_value *body, const char *where, fsq *q)
{
	const json_value *vals = NULL;
	fsq_field f;

	if (q_need_object(c, "ids", body, where))
		return FERRY_EINVAL;
	for (size_t i = 0; i < body->u.obj.n; i++) {
		const json_member *m = &body->u.obj.m[i];
		int r = q_common(c, "ids", m, where);
		if (r < 0)
			return FERRY_EINVAL;
		if (r > 0 || strcmp(m->key, "type") == 0)
			continue;
		if (strcmp(m->key, "values") != 0)
			return FSE_PARSE(c->e, "[ids] query does not support "
					 "[%s] (at %s)", m->key, where);
		vals = m->val;
	}
	if (!vals)
		return FSE_PARSE(c->e, "[ids] query at %s needs [values]: "
				 "{\"ids\":{\"values\":[\"id1\",\"id2\"]}}",
				 where);
	fs_field_init(&f, "_id", 3);
	return q_term_list(c, "ids", &f, vals,
			   q_where(c, where, ".", "values", -1), q);
}

static int q_exists(qctx *c, const json_value *body, const char *where,
		    fsq *q)
{
	const json_value *fv = NULL;
	if (q_need_object(c, "exists", body, where))
		return FERRY_EINVAL;
	for (size_t i = 0; i < body->u.obj.n; i++) {
		const json_member *m = &body->u.obj.m[i];
		int r = q_common(c, "exists", m, where);
		if (r < 0)
			return FERRY_EINVAL;
		if (r > 0)
			continue;
		if (strcmp(m->key, "field") != 0)
			return FSE_PARSE(c->e, "[exists] query does not "
					 "support [%s] (at %s)", m->key, where);
		fv = m->val;
	}
	if (!fv)
		return FSE_PARSE(c->e, "[exists] must be provided with a "
				 "[field] (at %s)", where);
	if (fv->type != JSON_STRING || fv->u.str.len == 0)
		return FSE_PARSE(c->e, "[exists] query at %s: [field] must be "
				 "a non-empty string, got %s", where,
				 fs_type_name(fv));
	q->kind = FSQ_EXISTS;
	fs_field_init(&q->f, fv->u.str.s, fv->u.str.len);
	return 0;
}

static int q_prefix(qctx *c, const json_value *body, const char *where,
		    fsq *q)
{
	const json_member *fm;
	const json_value *val = NULL;
	int ci = 0;

	if (q_one_field(c, "prefix", body, where, &fm) ||
	    q_field_name(c, "prefix", fm, where, &q->f))
		return FERRY_EINVAL;
	if (fm->val->type == JSON_OBJECT) {
		if (q_value_object(c, "prefix", fm->val, where, &val, &ci))
			return FERRY_EINVAL;
	} else {
		val = fm->val;
	}
	q->kind = FSQ_PREFIX;
	q->u.pre.ci = ci;
	if (val->type == JSON_STRING) {
		q->u.pre.p = (fs_str){val->u.str.s, val->u.str.len};
		return 0;
	}
	if (val->type == JSON_NUMBER) {
		q->u.pre.p = (fs_str){val->u.num.text, val->u.num.len};
		return 0;
	}
	return FSE_PARSE(c->e, "[prefix] query on field [%s] at %s: the "
			 "prefix must be a string, got %s", fm->key, where,
			 fs_type_name(val));
}

/* ------------------------------------------------------------------ */
/* Range                                                                */

static int q_bound(qctx *c, const char *fname, const json_member *m,
		   const char *where, fsq_bound *b, int incl)
{
	const json_value *v = m->val;
	memset(b, 0, sizeof *b);
	if (v->type == JSON_NULL)
		return 0; /* null: unbounded, as Elasticsearch has it */
	if (v->type == JSON_NUMBER) {
		if (fs_num(v, &b->num))
			return FSE_PARSE(c->e, "[range] query on [%s] at %s: "
					 "[%s] is out of range", fname, where,
					 m->key);
		b->is_num = b->num_ok = 1;
		b->s = (fs_str){v->u.num.text, v->u.num.len};
	} else if (v->type == JSON_STRING) {
		b->s = (fs_str){v->u.str.s, v->u.str.len};
		b->num_ok = fs_str_num(b->s.s, b->s.len, &b->num) == 0;
	} else {
		return FSE_PARSE(c->e, "[range] query on [%s] at %s: [%s] must "
				 "be a number or a string, got %s", fname,
				 where, m->key, fs_type_name(v));
	}
	b->set = 1;
	b->incl = incl;
	return 0;
}

static int q_flag(qctx *c, const json_member *m, const char *where, int *out)
{
	if (m->val->type != JSON_TRUE && m->val->type != JSON_FALSE)
		return FSE_PARSE(c->e, "[range] query: [%s] must be true or "
				 "false (at %s)", m->key, where);
	*out = m->val->type == JSON_TRUE;
	return 0;
}

static int q_range_param(qctx *c, const char *fname, const json_member *m,
			 const char *where, fsq *q, int *il, int *iu)
{
	const char *k = m->key;
	fsq_bound *lo = &q->u.r.lo, *hi = &q->u.r.hi;

	if (!strcmp(k, "gt") || !strcmp(k, "gte") || !strcmp(k, "from"))
		return q_bound(c, fname, m, where, lo, k[0] == 'f' || k[2]);
	if (!strcmp(k, "lt") || !strcmp(k, "lte") || !strcmp(k, "to"))
		return q_bound(c, fname, m, where, hi, k[0] == 't' || k[2]);
	if (!strcmp(k, "include_lower"))
		return q_flag(c, m, where, il);
	if (!strcmp(k, "include_upper"))
		return q_flag(c, m, where, iu);
	if (!strcmp(k, "relation") || !strcmp(k, "format") ||
	    !strcmp(k, "time_zone"))
		return FSE_PARSE(c->e, "[range] query on [%s] at %s: [%s] is "
				 "not supported: ferry compares numbers "
				 "numerically and strings byte-wise (ISO-8601 "
				 "dates in one time zone compare correctly)",
				 fname, where, k);
	return FSE_PARSE(c->e, "[range] query does not support [%s] (at %s); "
			 "use gt, gte, lt, lte", k, where);
}

static int q_range(qctx *c, const json_value *body, const char *where,
		   fsq *q)
{
	const json_member *fm;
	int il = -1, iu = -1;

	if (q_one_field(c, "range", body, where, &fm) ||
	    q_field_name(c, "range", fm, where, &q->f))
		return FERRY_EINVAL;
	if (fm->val->type != JSON_OBJECT)
		return FSE_PARSE(c->e, "[range] query on [%s] at %s expects an "
				 "object like {\"gte\":10,\"lt\":20}, got %s",
				 fm->key, where, fs_type_name(fm->val));
	q->kind = FSQ_RANGE;
	const json_value *o = fm->val;
	for (size_t i = 0; i < o->u.obj.n; i++) {
		int r = q_common(c, "range", &o->u.obj.m[i], where);
		if (r < 0)
			return FERRY_EINVAL;
		if (r == 0 && q_range_param(c, fm->key, &o->u.obj.m[i], where,
					    q, &il, &iu))
			return FERRY_EINVAL;
	}
	if (il >= 0 && q->u.r.lo.set)
		q->u.r.lo.incl = il;
	if (iu >= 0 && q->u.r.hi.set)
		q->u.r.hi.incl = iu;
	return 0;
}

/* ------------------------------------------------------------------ */
/* bool and constant_score                                              */

static int q_parse(qctx *c, const json_value *v, const char *where,
		   fsq **out);

static int q_bool_clauses(qctx *c, const json_value *v, const char *where,
			  int which, fsq *q)
{
	size_t n = v->type == JSON_ARRAY ? v->u.arr.n : 1;
	if (v->type != JSON_ARRAY && v->type != JSON_OBJECT)
		return FSE_PARSE(c->e, "[bool] query at %s: expected a query "
				 "object or an array of them, got %s", where,
				 fs_type_name(v));
	fsq **arr = json_arena_alloc(c->a, (n ? n : 1) * sizeof *arr);
	if (!arr)
		return fse_nomem(c->e);
	for (size_t i = 0; i < n; i++) {
		const json_value *qv = v->type == JSON_ARRAY ? v->u.arr.v[i] : v;
		const char *w = v->type == JSON_ARRAY
					? q_where(c, where, "", NULL, (long)i)
					: where;
		if (q_parse(c, qv, w, &arr[i]))
			return FERRY_EINVAL;
	}
	q->u.b.c[which] = arr;
	q->u.b.n[which] = n;
	return 0;
}

/* minimum_should_match: 2, -1, "2", "75%", "-25%" against n clauses. */
static int q_msm(qctx *c, const json_value *v, size_t n, const char *where,
		 size_t *out)
{
	char buf[32];
	long long x;
	char *end;
	if (v->type == JSON_NUMBER && v->u.num.len < sizeof buf) {
		memcpy(buf, v->u.num.text, v->u.num.len);
		buf[v->u.num.len] = 0;
	} else if (v->type == JSON_STRING && v->u.str.len < sizeof buf &&
		   v->u.str.len > 0) {
		memcpy(buf, v->u.str.s, v->u.str.len + 1);
	} else {
		goto bad;
	}
	x = strtoll(buf, &end, 10);
	if (end == buf || (*end && strcmp(end, "%") != 0) ||
	    x < -1000000 || x > 1000000)
		goto bad;
	long long k;
	if (*end == '%') {
		long long p = x < 0 ? -x : x;
		if (p > 100)
			goto bad;
		k = (long long)n * p / 100;
		if (x < 0)
			k = (long long)n - k;
	} else {
		k = x < 0 ? (long long)n + x : x;
	}
	*out = k < 0 ? 0 : (size_t)k;
	return 0;
bad:
	return FSE_PARSE(c->e, "[bool] query at %s: [minimum_should_match] "
			 "must be an integer (2, -1) or a percentage "
			 "(\"75%%\", \"-25%%\")", where);
}

static int q_bool(qctx *c, const json_value *body, const char *where,
		  fsq *q)
{
	static const char *const names[FSB_N] = {"must", "filter", "should",
						 "must_not"};
	const json_value *msm = NULL;

	if (q_need_object(c, "bool", body, where))
		return FERRY_EINVAL;
	q->kind = FSQ_BOOL;
	for (size_t i = 0; i < body->u.obj.n; i++) {
		const json_member *m = &body->u.obj.m[i];
		int which = -1, r = q_common(c, "bool", m, where);
		if (r < 0)
			return FERRY_EINVAL;
		if (r > 0 || strcmp(m->key, "adjust_pure_negative") == 0)
			continue;
		if (strcmp(m->key, "minimum_should_match") == 0) {
			msm = m->val;
			continue;
		}
		for (int k = 0; k < FSB_N; k++)
			if (strcmp(m->key, names[k]) == 0)
				which = k;
		if (which < 0)
			return FSE_PARSE(c->e, "[bool] query does not support "
					 "[%s] (at %s); use must, filter, "
					 "should, must_not", m->key, where);
		if (q_bool_clauses(c, m->val,
				   q_where(c, where, ".", m->key, -1), which,
				   q))
			return FERRY_EINVAL;
	}
	size_t nshould = q->u.b.n[FSB_SHOULD];
	if (msm)
		return q_msm(c, msm, nshould, where, &q->u.b.msm);
	q->u.b.msm = nshould && !q->u.b.n[FSB_MUST] && !q->u.b.n[FSB_FILTER];
	return 0;
}

static int q_constant_score(qctx *c, const json_value *body,
			    const char *where, fsq *q)
{
	const json_value *fv = NULL;
	if (q_need_object(c, "constant_score", body, where))
		return FERRY_EINVAL;
	for (size_t i = 0; i < body->u.obj.n; i++) {
		const json_member *m = &body->u.obj.m[i];
		int r = q_common(c, "constant_score", m, where);
		if (r < 0)
			return FERRY_EINVAL;
		if (r > 0)
			continue;
		if (strcmp(m->key, "filter") != 0)
			return FSE_PARSE(c->e, "[constant_score] query does "
					 "not support [%s] (at %s)", m->key,
					 where);
		fv = m->val;
	}
	if (!fv)
		return FSE_PARSE(c->e, "[constant_score] requires a 'filter' "
				 "element (at %s)", where);
	fsq *inner;
	if (q_parse(c, fv, q_where(c, where, ".", "filter", -1), &inner))
		return FERRY_EINVAL;
	*q = *inner;
	return 0;
}

/* ------------------------------------------------------------------ */

static const struct {
	const char *name;
	fsq_kind kind;
	qparse_fn fn;
} QUERIES[] = {
	{"match_all", FSQ_ALL, q_match_all},
	{"match_none", FSQ_NONE, q_match_none},
	{"term", FSQ_TERMS, q_term},
	{"terms", FSQ_TERMS, q_terms},
	{"ids", FSQ_TERMS, q_ids},
	{"range", FSQ_RANGE, q_range},
	{"exists", FSQ_EXISTS, q_exists},
	{"prefix", FSQ_PREFIX, q_prefix},
	{"bool", FSQ_BOOL, q_bool},
	{"constant_score", FSQ_ALL, q_constant_score},
};

static int q_parse(qctx *c, const json_value *v, const char *where,
		   fsq **out)
{
	if (v->type != JSON_OBJECT)
		return FSE_PARSE(c->e, "query malformed at %s: expected an "
				 "object like {\"term\":{\"field\":\"value\"}}, "
				 "got %s", where, fs_type_name(v));
	if (v->u.obj.n == 0)
		return FSE_PARSE(c->e, "query malformed, empty clause found "
				 "at %s", where);
	if (v->u.obj.n > 1)
		return FSE_PARSE(c->e, "[%s] malformed query, expected "
				 "[END_OBJECT] but found [FIELD_NAME] [%s] at "
				 "%s: an object holds one query; combine "
				 "queries with bool", v->u.obj.m[0].key,
				 v->u.obj.m[1].key, where);
	if (++*c->clauses > FSEARCH_MAX_CLAUSES)
		return FSE_ARG(c->e, "too many query clauses: more than %d "
			       "(at %s)", FSEARCH_MAX_CLAUSES, where);
	const json_member *m = &v->u.obj.m[0];
	for (size_t i = 0; i < sizeof QUERIES / sizeof QUERIES[0]; i++) {
		if (strcmp(m->key, QUERIES[i].name) != 0 ||
		    strlen(m->key) != m->klen)
			continue;
		fsq *q = q_new(c, QUERIES[i].kind);
		if (!q)
			return fse_nomem(c->e);
		if (QUERIES[i].fn(c, m->val,
				  q_where(c, where, ".", m->key, -1), q))
			return FERRY_EINVAL;
		*out = q;
		return 0;
	}
	return FSE_PARSE(c->e, "unknown query [%s] at %s; supported: %s",
			 m->key, where, SUPPORTED);
}

int fsq_parse(json_arena *a, const json_value *v, const char *where,
	      size_t *clauses, fsq **out, fsearch_error *e)
{
	qctx c = {a, clauses, e};
	/* a failure deep down may be ENOMEM: the error record says which */
	return q_parse(&c, v, where, out) ? e->err.code : 0;
}
