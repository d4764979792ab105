/*
 * request.c - the body of a _search or _count request and the URL
 * parameters that override it, parsed into an fsearch_req: from/size and
 * the result window, sort, search_after, track_total_hits, _source,
 * post_filter, and the URL's query string q (parsed by qstring.c). Also
 * the error helpers every file of the module uses (Elasticsearch error
 * types and wording, plus where and how to fix).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "search/internal.h"
#include "search/qstring.h"

#define MAX_SORT_KEYS 32

int fse_set(fsearch_error *e, int status, const char *type, int code,
	    const char *fmt, ...)
{
	va_list ap;
	if (!e)
		return code;
	e->status = status;
	e->type = type;
	e->err.code = code;
	va_start(ap, fmt);
	vsnprintf(e->err.msg, sizeof e->err.msg, fmt, ap);
	va_end(ap);
	return code;
}

int fse_nomem(fsearch_error *e)
{
	return fse_set(e, 500, "exception", FERRY_ENOMEM,
		       "out of memory while searching");
}

int fse_ferry(fsearch_error *e, int code, const ferry_err *fe)
{
	const char *msg = fe && fe->msg[0] ? fe->msg : ferry_strerror(code);
	switch (code) {
	case FERRY_ENOTFOUND:
		return fse_set(e, 404, "index_not_found_exception", code, "%s",
			       msg);
	case FERRY_EINVAL:
	case FERRY_ELIMIT:
		return fse_set(e, 400, "illegal_argument_exception", code,
			       "%s", msg);
	case FERRY_ENAME:
		return fse_set(e, 400, "invalid_index_name_exception", code,
			       "%s", msg);
	case FERRY_ENOTINIT:
		return fse_set(e, 503, "exception", code, "%s", msg);
	default:
		return fse_set(e, 500, "exception", code, "%s", msg);
	}
}

const char *fs_type_name(const json_value *v)
{
	static const char *const names[] = {"null", "false", "true",
					    "a number", "a string",
					    "an array", "an object"};
	return v && v->type <= JSON_OBJECT ? names[v->type] : "nothing";
}

/* Elasticsearch's token names, for "Unknown key for a ... in [k]." */
static const char *r_token(const json_value *v)
{
	switch (v->type) {
	case JSON_OBJECT:
		return "START_OBJECT";
	case JSON_ARRAY:
		return "START_ARRAY";
	case JSON_STRING:
		return "VALUE_STRING";
	case JSON_NUMBER:
		return "VALUE_NUMBER";
	case JSON_NULL:
		return "VALUE_NULL";
	default:
		return "VALUE_BOOLEAN";
	}
}

/* ------------------------------------------------------------------ */
/* Scalars                                                              */

static int r_int_text(const char *s, size_t len, long long *out)
{
	char buf[32], *end;
	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	long long x = strtoll(buf, &end, 10);
	if (*end || x > 1000000000000LL || x < -1000000000000LL)
		return -1;
	*out = x;
	return 0;
}

/* An integer given as a number or a numeric string. */
static int r_int(const char *name, const json_value *v, long long *out,
		 fsearch_error *e)
{
	int64_t i;
	if (v->type == JSON_NUMBER && json_number_int64(v, &i) == 0 &&
	    i <= 1000000000000LL && i >= -1000000000000LL) {
		*out = i;
		return 0;
	}
	if (v->type == JSON_STRING && r_int_text(v->u.str.s, v->u.str.len, out) == 0)
		return 0;
	return FSE_PARSE(e, "[%s] must be an integer, got %s", name,
			 fs_type_name(v));
}

static int r_bool(const char *name, const json_value *v, int *out,
		  fsearch_error *e)
{
	if (v->type == JSON_TRUE || v->type == JSON_FALSE) {
		*out = v->type == JSON_TRUE;
		return 0;
	}
	return FSE_PARSE(e, "[%s] must be true or false, got %s", name,
			 fs_type_name(v));
}

static int r_bool_text(const char *name, const char *s, int *out,
		       fsearch_error *e)
{
	if (!strcmp(s, "true") || !strcmp(s, "")) {
		*out = 1;
		return 0;
	}
	if (!strcmp(s, "false")) {
		*out = 0;
		return 0;
	}
	return FSE_ARG(e, "Failed to parse value [%s] as only [true] or "
		       "[false] are allowed (parameter [%s])", s, name);
}

static int r_tth_int(fsearch_req *rq, long long x, fsearch_error *e)
{
	if (x < -1)
		return FSE_ARG(e, "[track_total_hits] parameter must be "
			       "positive or equals to -1, got %lld", x);
	rq->track = 1;
	rq->limit = x == -1 ? UINT64_MAX : (uint64_t)x;
	return 0;
}

static int r_tth(fsearch_req *rq, const json_value *v, fsearch_error *e)
{
	long long x;
	if (v->type == JSON_TRUE || v->type == JSON_FALSE) {
		rq->track = v->type == JSON_TRUE;
		rq->limit = UINT64_MAX;
		return 0;
	}
	if (v->type != JSON_NUMBER || r_int("track_total_hits", v, &x, e))
		return FSE_PARSE(e, "[track_total_hits] must be true, false or "
				 "an integer, got %s", fs_type_name(v));
	return r_tth_int(rq, x, e);
}

/* ------------------------------------------------------------------ */
/* Sort                                                                 */

static int r_order(const char *s, size_t len, int *desc, const char *where,
		   fsearch_error *e)
{
	if (len == 3 && fs_bytes_cmp_ci(s, 3, "asc", 3) == 0) {
		*desc = 0;
		return 0;
	}
	if (len == 4 && fs_bytes_cmp_ci(s, 4, "desc", 4) == 0) {
		*desc = 1;
		return 0;
	}
	return FSE_ARG(e, "Unknown SortOrder [%.*s] at %s: use \"asc\" or "
		       "\"desc\"", (int)(len > 40 ? 40 : len), s, where);
}

/* A sort key named `name`, with its default order. */
static int r_sort_key(const char *name, size_t len, const char *where,
		      fsort *k, fsearch_error *e)
{
	memset(k, 0, sizeof *k);
	if (len == 0 || memchr(name, 0, len))
		return FSE_PARSE(e, "empty field name in sort at %s", where);
	if (len == 6 && !memcmp(name, "_score", 6)) {
		k->kind = FSK_SCORE;
		k->desc = 1;
	} else if (len == 4 && !memcmp(name, "_doc", 4)) {
		k->kind = FSK_DOC;
	} else if (len == 3 && !memcmp(name, "_id", 3)) {
		k->kind = FSK_ID;
	} else if (len == 6 && !memcmp(name, "_index", 6)) {
		k->kind = FSK_INDEX;
	} else if (name[0] == '_' && (!strcmp(name, "_geo_distance") ||
				      !strcmp(name, "_script"))) {
		return FSE_ARG(e, "sort by [%s] is not supported (at %s); sort "
			       "by fields, _id, _doc or _score", name, where);
	} else {
		k->kind = FSK_FIELD;
		fs_field_init(&k->f, name, len);
	}
	return 0;
}

static int r_sort_opt(const json_member *m, const char *where, fsort *k,
		      fsearch_error *e)
{
	const json_value *v = m->val;
	const char *key = m->key;
	if (!strcmp(key, "order")) {
		if (v->type != JSON_STRING)
			return FSE_PARSE(e, "[order] at %s must be \"asc\" or "
					 "\"desc\"", where);
		return r_order(v->u.str.s, v->u.str.len, &k->desc, where, e);
	}
	if (!strcmp(key, "mode")) {
		if (v->type == JSON_STRING && !strcmp(v->u.str.s, "min"))
			k->mode_max = 0;
		else if (v->type == JSON_STRING && !strcmp(v->u.str.s, "max"))
			k->mode_max = 1;
		else
			return FSE_ARG(e, "sort [mode] at %s: only \"min\" and "
				       "\"max\" are supported", where);
		return 0;
	}
	if (!strcmp(key, "missing")) {
		if (v->type == JSON_STRING && !strcmp(v->u.str.s, "_last"))
			k->missing_first = 0;
		else if (v->type == JSON_STRING && !strcmp(v->u.str.s, "_first"))
			k->missing_first = 1;
		else if (v->type == JSON_OBJECT || v->type == JSON_ARRAY)
			return FSE_PARSE(e, "sort [missing] at %s must be "
					 "\"_last\", \"_first\" or a value",
					 where);
		else if (v->type != JSON_NULL)
			k->missing = v;
		return 0;
	}
	if (!strcmp(key, "unmapped_type") || !strcmp(key, "numeric_type") ||
	    !strcmp(key, "format"))
		return 0; /* no mappings: every field sorts by its values */
	return FSE_PARSE(e, "[field_sort] unknown field [%s] at %s; use order, "
			 "missing, mode, unmapped_type", key, where);
}

/* One sort entry: "field" or {"field": "desc" | {...}}. */
static int r_sort_entry(const json_value *v, const char *where, fsort *k,
			fsearch_error *e)
{
	if (v->type == JSON_STRING)
		return r_sort_key(v->u.str.s, v->u.str.len, where, k, e);
	if (v->type != JSON_OBJECT || v->u.obj.n != 1)
		return FSE_PARSE(e, "sort entry at %s must be a field name or "
				 "an object with one field, like "
				 "{\"age\":\"desc\"}, got %s", where,
				 v->type == JSON_OBJECT ? "several fields"
							: fs_type_name(v));
	const json_member *m = &v->u.obj.m[0];
	if (r_sort_key(m->key, m->klen, where, k, e))
		return FERRY_EINVAL;
	k->mode_max = k->desc;
	if (m->val->type == JSON_STRING) {
		if (r_order(m->val->u.str.s, m->val->u.str.len, &k->desc,
			    where, e))
			return FERRY_EINVAL;
		k->mode_max = k->desc;
		return 0;
	}
	if (m->val->type != JSON_OBJECT)
		return FSE_PARSE(e, "sort [%s] at %s expects \"asc\", \"desc\" "
				 "or an object of options, got %s", m->key,
				 where, fs_type_name(m->val));
	int mode_set = 0;
	for (size_t i = 0; i < m->val->u.obj.n; i++) {
		const json_member *o = &m->val->u.obj.m[i];
		if (r_sort_opt(o, where, k, e))
			return FERRY_EINVAL;
		mode_set |= !strcmp(o->key, "mode");
	}
	if (!mode_set)
		k->mode_max = k->desc;
	return 0;
}

static int r_sort(fsearch_req *rq, json_arena *a, const json_value *v,
		  fsearch_error *e)
{
	size_t n = v->type == JSON_ARRAY ? v->u.arr.n : 1;
	char where[32];
	if (n > MAX_SORT_KEYS)
		return FSE_ARG(e, "too many sort keys: %zu (at most %d)", n,
			       MAX_SORT_KEYS);
	rq->sort = json_arena_alloc(a, (n + 2) * sizeof *rq->sort);
	if (!rq->sort)
		return fse_nomem(e);
	for (size_t i = 0; i < n; i++) {
		snprintf(where, sizeof where, "sort[%zu]", i);
		const json_value *ev = v->type == JSON_ARRAY ? v->u.arr.v[i] : v;
		if (r_sort_entry(ev, where, &rq->sort[i], e))
			return FERRY_EINVAL;
	}
	rq->nsort = n;
	return 0;
}

/* URL form: "f1:desc,f2,_id:asc". */
static int r_sort_url(fsearch_req *rq, json_arena *a, const char *s,
		      fsearch_error *e)
{
	size_t n = 1;
	for (const char *p = s; *p; p++)
		n += *p == ',';
	if (n > MAX_SORT_KEYS)
		return FSE_ARG(e, "too many sort keys in the [sort] parameter "
			       "(at most %d)", MAX_SORT_KEYS);
	rq->sort = json_arena_alloc(a, (n + 2) * sizeof *rq->sort);
	if (!rq->sort)
		return fse_nomem(e);
	rq->nsort = 0;
	while (*s) {
		size_t len = strcspn(s, ",");
		const char *colon = memchr(s, ':', len);
		size_t nl = colon ? (size_t)(colon - s) : len;
		fsort *k = &rq->sort[rq->nsort++];
		char *name = json_arena_alloc(a, nl + 1);
		if (!name)
			return fse_nomem(e);
		memcpy(name, s, nl);
		name[nl] = 0;
		if (r_sort_key(name, nl, "the [sort] parameter", k, e))
			return FERRY_EINVAL;
		if (colon && r_order(colon + 1, len - nl - 1, &k->desc,
				     "the [sort] parameter", e))
			return FERRY_EINVAL;
		k->mode_max = k->desc;
		s += len;
		if (*s == ',')
			s++;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* _source                                                              */

static int r_pats(json_arena *a, const json_value *v, const char *where,
		  fsrc_pats *out, fsearch_error *e)
{
	size_t n = v->type == JSON_ARRAY ? v->u.arr.n : 1;
	out->v = json_arena_alloc(a, (n ? n : 1) * sizeof *out->v);
	if (!out->v)
		return fse_nomem(e);
	out->n = 0;
	for (size_t i = 0; i < n; i++) {
		const json_value *p = v->type == JSON_ARRAY ? v->u.arr.v[i] : v;
		if (p->type != JSON_STRING)
			return FSE_PARSE(e, "[_source] %s must hold field names "
					 "(strings), got %s", where,
					 fs_type_name(p));
		out->v[out->n++] = (fs_str){p->u.str.s, p->u.str.len};
	}
	return 0;
}

static int r_source(fsearch_req *rq, json_arena *a, const json_value *v,
		    fsearch_error *e)
{
	rq->incl.n = rq->excl.n = 0;
	if (v->type == JSON_TRUE || v->type == JSON_FALSE) {
		rq->source = v->type == JSON_TRUE;
		return 0;
	}
	rq->source = 2;
	if (v->type == JSON_STRING || v->type == JSON_ARRAY)
		return r_pats(a, v, "fields", &rq->incl, e);
	if (v->type != JSON_OBJECT)
		return FSE_PARSE(e, "[_source] must be true, false, a field "
				 "name, an array of them or {\"includes\":[..],"
				 "\"excludes\":[..]}, got %s", fs_type_name(v));
	for (size_t i = 0; i < v->u.obj.n; i++) {
		const json_member *m = &v->u.obj.m[i];
		if (!strcmp(m->key, "includes") || !strcmp(m->key, "include")) {
			if (r_pats(a, m->val, "includes", &rq->incl, e))
				return FERRY_EINVAL;
		} else if (!strcmp(m->key, "excludes") ||
			   !strcmp(m->key, "exclude")) {
			if (r_pats(a, m->val, "excludes", &rq->excl, e))
				return FERRY_EINVAL;
		} else {
			return FSE_PARSE(e, "[_source] does not support [%s]; "
					 "use includes and excludes", m->key);
		}
	}
	return 0;
}

static int r_source_url(fsearch_req *rq, json_arena *a, const char *s,
			fsearch_error *e)
{
	if (!strcmp(s, "true") || !strcmp(s, "false")) {
		rq->source = s[0] == 't';
		return 0;
	}
	size_t n = 1;
	for (const char *p = s; *p; p++)
		n += *p == ',';
	rq->source = 2;
	rq->excl.n = 0;
	rq->incl.v = json_arena_alloc(a, n * sizeof *rq->incl.v);
	if (!rq->incl.v)
		return fse_nomem(e);
	rq->incl.n = 0;
	while (*s) {
		size_t len = strcspn(s, ",");
		rq->incl.v[rq->incl.n++] = (fs_str){s, len};
		s += len;
		if (*s == ',')
			s++;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The body                                                             */

static const char *const UNSUPPORTED[] = {
	"aggs", "aggregations", "highlight", "suggest", "collapse", "rescore",
	"script_fields", "docvalue_fields", "stored_fields", "fields",
	"min_score", "indices_boost", "pit", "runtime_mappings", "knn",
	"slice", "stats", "terminate_after", "profile", "ext", "explain",
	"version", "scroll", NULL};

static int r_unsupported(const char *key, fsearch_error *e)
{
	for (size_t i = 0; UNSUPPORTED[i]; i++)
		if (!strcmp(key, UNSUPPORTED[i]))
			return FSE_ARG(e, "[%s] is not supported by ferry's "
				       "search; supported: query, post_filter, "
				       "from, size, sort, search_after, "
				       "track_total_hits, _source, "
				       "seq_no_primary_term, track_scores, "
				       "timeout", key);
	return 0;
}

typedef struct r_body {
	const json_value *query, *post_filter, *sort, *after;
	size_t clauses;
} r_body;

static int r_member(fsearch_req *rq, json_arena *a, const json_member *m,
		    r_body *b, fsearch_error *e)
{
	const char *k = m->key;
	const json_value *v = m->val;
	long long x;

	if (!strcmp(k, "query"))
		b->query = v;
	else if (rq->count)
		return FSE_PARSE(e, "request does not support [%s]: a _count "
				 "body holds only \"query\"", k);
	else if (!strcmp(k, "post_filter"))
		b->post_filter = v;
	else if (!strcmp(k, "sort"))
		b->sort = v;
	else if (!strcmp(k, "search_after"))
		b->after = v;
	else if (!strcmp(k, "from") || !strcmp(k, "size")) {
		if (r_int(k, v, &x, e))
			return FERRY_EINVAL;
		*(k[0] == 'f' ? &rq->from : &rq->size) = x;
	} else if (!strcmp(k, "track_total_hits"))
		return r_tth(rq, v, e);
	else if (!strcmp(k, "_source"))
		return r_source(rq, a, v, e);
	else if (!strcmp(k, "seq_no_primary_term"))
		return r_bool(k, v, &rq->seq_no, e);
	else if (!strcmp(k, "track_scores"))
		return r_bool(k, v, &rq->scores, e);
	else if (!strcmp(k, "timeout"))
		return 0;
	else if (r_unsupported(k, e))
		return FERRY_EINVAL;
	else
		return FSE_PARSE(e, "Unknown key for a %s in [%s].",
				 r_token(v), k);
	return 0;
}

static int r_url(fsearch_req *rq, json_arena *a, const fsearch_params *u,
		 fsearch_error *e)
{
	long long x;
	if (rq->count)
		return 0;
	if (u->from && r_int_text(u->from, strlen(u->from), &x) == 0)
		rq->from = x;
	else if (u->from)
		return FSE_ARG(e, "the [from] parameter must be an integer, "
			       "got [%s]", u->from);
	if (u->size && r_int_text(u->size, strlen(u->size), &x) == 0)
		rq->size = x;
	else if (u->size)
		return FSE_ARG(e, "the [size] parameter must be an integer, "
			       "got [%s]", u->size);
	if (u->track_total_hits) {
		const char *t = u->track_total_hits;
		if (!strcmp(t, "true") || !strcmp(t, "false")) {
			rq->track = t[0] == 't';
			rq->limit = UINT64_MAX;
		} else if (r_int_text(t, strlen(t), &x) == 0) {
			if (r_tth_int(rq, x, e))
				return FERRY_EINVAL;
		} else {
			return FSE_ARG(e, "the [track_total_hits] parameter "
				       "must be true, false or an integer, got "
				       "[%s]", t);
		}
	}
	if (u->seq_no_primary_term &&
	    r_bool_text("seq_no_primary_term", u->seq_no_primary_term,
			&rq->seq_no, e))
		return FERRY_EINVAL;
	if (u->source && r_source_url(rq, a, u->source, e))
		return FERRY_EINVAL;
	if (u->sort && r_sort_url(rq, a, u->sort, e))
		return FERRY_EINVAL;
	return 0;
}

/* Sort keys: the implicit tie-breaks, natural order, scores. */
static void r_finish_sort(fsearch_req *rq, int multi)
{
	rq->nkeys = rq->nsort;
	if (rq->nsort) {
		enum fsort_kind last = rq->sort[rq->nsort - 1].kind;
		if (last != FSK_ID && last != FSK_DOC) {
			fsort *k = &rq->sort[rq->nkeys++];
			memset(k, 0, sizeof *k);
			k->kind = FSK_ID;
		}
		if (multi) {
			fsort *k = &rq->sort[rq->nkeys++];
			memset(k, 0, sizeof *k);
			k->kind = FSK_INDEX;
		}
	}
	rq->natural = 1;
	for (size_t i = 0; i < rq->nkeys; i++) {
		const fsort *k = &rq->sort[i];
		if (k->kind == FSK_SCORE)
			rq->scores = 1;
		else if (i + 1 < rq->nkeys || k->kind == FSK_FIELD || k->desc)
			rq->natural = 0;
	}
	if (!rq->nsort)
		rq->scores = 1;
}

static int r_after(fsearch_req *rq, json_arena *a, const json_value *v,
		   fsearch_error *e)
{
	if (v->type != JSON_ARRAY)
		return FSE_PARSE(e, "[search_after] must be an array (the "
				 "\"sort\" values of the last hit), got %s",
				 fs_type_name(v));
	if (!rq->nsort)
		return FSE_ARG(e, "Sort must contain at least one field: "
			       "[search_after] needs a [sort], e.g. "
			       "\"sort\":[\"_id\"]");
	size_t n = v->u.arr.n;
	if (n < rq->nsort || n > rq->nkeys)
		return FSE_ARG(e, "search_after has %zu value(s) but sort has "
			       "%zu; pass the \"sort\" array of the last hit "
			       "as it is", n, rq->nkeys);
	if (rq->from > 0)
		return FSE_ARG(e, "[from] parameter must be set to 0 when "
			       "[search_after] is used");
	rq->after = json_arena_alloc(a, (n ? n : 1) * sizeof *rq->after);
	if (!rq->after)
		return fse_nomem(e);
	for (size_t i = 0; i < n; i++)
		if (fsort_after_value(&rq->sort[i], v->u.arr.v[i], i,
				      &rq->after[i], e))
			return FERRY_EINVAL;
	rq->nafter = n;
	if (rq->natural && n == rq->nkeys &&
	    rq->sort[n - 1].kind != FSK_INDEX) {
		rq->after_id = rq->after[n - 1].s;
		rq->has_after_id = 1;
	}
	return 0;
}

static int r_window(const fsearch_req *rq, fsearch_error *e)
{
	if (rq->from < 0)
		return FSE_ARG(e, "[from] parameter cannot be negative, found "
			       "[%lld]", (long long)rq->from);
	if (rq->size < 0)
		return FSE_ARG(e, "[size] parameter cannot be negative, found "
			       "[%lld]", (long long)rq->size);
	if (rq->from + rq->size > FSEARCH_MAX_WINDOW)
		return FSE_ARG(e, "Result window is too large, from + size "
			       "must be less than or equal to: [%d] but was "
			       "[%lld]. To page deeper, sort and pass the last "
			       "hit's \"sort\" values as [search_after]",
			       FSEARCH_MAX_WINDOW,
			       (long long)(rq->from + rq->size));
	return 0;
}

/* The URL's q (with df and default_operator) as the query. */
static int r_qstring(json_arena *a, const fsearch_params *u, r_body *b,
		     fsq **out, fsearch_error *e)
{
	fqs_opts o = {u->df, 0};
	const char *op = u->default_operator;
	json_value *v;

	if (b->query)
		return FSE_ARG(e, "the [q] parameter and a request body "
			       "\"query\" were both given: use one, q=... for "
			       "a query string or the body's query DSL");
	if (op && !strcasecmp(op, "AND"))
		o.and_default = 1;
	else if (op && strcasecmp(op, "OR"))
		return FSE_ARG(e, "[default_operator] must be AND or OR, got "
			       "[%.40s]", op);
	if (fqs_parse(a, u->q, strlen(u->q), &o, &v, e) ||
	    fsq_parse(a, v, "q", &b->clauses, out, e))
		return e->err.code;
	return 0;
}

/* query AND post_filter (either may be absent; neither is match_all). */
static int r_query(fsearch_req *rq, json_arena *a, r_body *b,
		   const fsearch_params *url, fsearch_error *e)
{
	fsq *q = NULL, *pf = NULL, **c;
	if (url && url->q) {
		if (r_qstring(a, url, b, &q, e))
			return e->err.code;
	} else if (b->query &&
		   fsq_parse(a, b->query, "query", &b->clauses, &q, e)) {
		return e->err.code;
	}
	if (b->post_filter && fsq_parse(a, b->post_filter, "post_filter",
					&b->clauses, &pf, e))
		return e->err.code;
	if (q && !pf) {
		rq->query = q;
		return 0;
	}
	if (pf && !q) {
		rq->query = pf;
		return 0;
	}
	if (!(rq->query = json_arena_alloc(a, sizeof *rq->query)))
		return fse_nomem(e);
	memset(rq->query, 0, sizeof *rq->query);
	rq->query->kind = FSQ_ALL;
	if (!q)
		return 0;
	if (!(c = json_arena_alloc(a, 2 * sizeof *c)))
		return fse_nomem(e);
	c[0] = q;
	c[1] = pf;
	rq->query->kind = FSQ_BOOL;
	rq->query->u.b.c[FSB_FILTER] = c;
	rq->query->u.b.n[FSB_FILTER] = 2;
	return 0;
}

static int r_body_parse(json_arena *a, const char *body, size_t len,
			json_value **out, fsearch_error *e)
{
	json_error je;
	size_t i = 0;
	*out = NULL;
	while (i < len && (body[i] == ' ' || body[i] == '\n' ||
			   body[i] == '\r' || body[i] == '\t'))
		i++;
	if (i == len)
		return 0;
	int rc = json_parse(a, body, len, out, &je);
	if (rc == FERRY_ENOMEM)
		return fse_nomem(e);
	if (rc)
		return fse_set(e, 400, "parse_exception", FERRY_EJSON,
			       "request body is not valid JSON: %s at byte "
			       "%zu", je.msg, je.offset);
	if ((*out)->type != JSON_OBJECT)
		return fse_set(e, 400, "parse_exception", FERRY_EJSON,
			       "request body must be a JSON object like "
			       "{\"query\":{...}}, got %s", fs_type_name(*out));
	return 0;
}

int fsearch_parse(json_arena *a, const char *body, size_t len,
		  const fsearch_params *url, unsigned flags, fsearch_req **out,
		  fsearch_error *e)
{
	int count = (flags & FSEARCH_COUNT) != 0;
	json_value *root;
	r_body b = {0};
	fsearch_req *rq = json_arena_alloc(a, sizeof *rq);
	if (!rq)
		return fse_nomem(e);
	memset(rq, 0, sizeof *rq);
	rq->count = count;
	rq->size = count ? 0 : FSEARCH_DEFAULT_SIZE;
	rq->track = 1;
	rq->limit = count ? UINT64_MAX : FSEARCH_DEFAULT_TOTAL;
	rq->source = 1;
	if (r_body_parse(a, body, len, &root, e))
		goto fail;
	for (size_t i = 0; root && i < root->u.obj.n; i++)
		if (r_member(rq, a, &root->u.obj.m[i], &b, e))
			goto fail;
	if (r_query(rq, a, &b, url, e) || (b.sort && r_sort(rq, a, b.sort, e)) ||
	    (url && r_url(rq, a, url, e)))
		goto fail;
	r_finish_sort(rq, (flags & FSEARCH_MULTI) != 0);
	if ((b.after && r_after(rq, a, b.after, e)) ||
	    (!count && r_window(rq, e)))
		goto fail;
	*out = rq;
	return 0;
fail:
	return e->err.code;
}
