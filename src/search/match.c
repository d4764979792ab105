/*
 * match.c - evaluates a parsed query (fsq) against one document, and the
 * facts about a query that let run.c read less: whether it needs the
 * document body at all, whether it matches everything, and which ids or
 * id ranges it is confined to (answered with direct gets or a bounded
 * scan instead of a full one).
 */
#include <string.h>

#include "search/internal.h"

#define PREFILTER_MAX_TERMS 8

static int m_find_str(const fsq_terms *t, const char *s, size_t len)
{
	size_t lo = 0, hi = t->nstr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const fs_str *x = &t->strs[mid];
		int c = t->ci ? fs_bytes_cmp_ci(x->s, x->len, s, len)
			      : fs_bytes_cmp(x->s, x->len, s, len);
		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int m_find_num(const fsq_terms *t, long double d)
{
	size_t lo = 0, hi = t->nnum;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = fs_numcmp(t->nums[mid], d);
		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int m_bool_text(const char *s, size_t len)
{
	if (len == 4 && memcmp(s, "true", 4) == 0)
		return 2;
	if (len == 5 && memcmp(s, "false", 5) == 0)
		return 1;
	return 0;
}

static int m_term_leaf(void *ctx, const json_value *v)
{
	const fsq_terms *t = ctx;
	long double d;

	switch (v->type) {
	case JSON_STRING:
		if (m_find_str(t, v->u.str.s, v->u.str.len))
			return 1;
		if (t->nnum && fs_str_num(v->u.str.s, v->u.str.len, &d) == 0 &&
		    m_find_num(t, d))
			return 1;
		return (t->bools & (unsigned)m_bool_text(v->u.str.s,
							 v->u.str.len)) != 0;
	case JSON_NUMBER:
		return t->nnum && fs_num(v, &d) == 0 && m_find_num(t, d);
	case JSON_TRUE:
		return (t->bools & 2u) != 0;
	case JSON_FALSE:
		return (t->bools & 1u) != 0;
	default:
		return 0;
	}
}

/* Compares value v with bound b: 0 and *c, or -1 when they are not
 * comparable (a word against a number bound, a boolean, an object). */
static int m_bound_cmp(const json_value *v, const fsq_bound *b, int *c)
{
	long double d;
	if (v->type == JSON_STRING) {
		if (!b->is_num) {
			*c = fs_bytes_cmp(v->u.str.s, v->u.str.len, b->s.s,
					  b->s.len);
			return 0;
		}
		if (fs_str_num(v->u.str.s, v->u.str.len, &d))
			return -1;
	} else if (v->type == JSON_NUMBER) {
		if (!b->num_ok || fs_num(v, &d))
			return -1;
	} else {
		return -1;
	}
	*c = fs_numcmp(d, b->num);
	return 0;
}

typedef struct m_range {
	const fsq_bound *lo, *hi;
} m_range;

static int m_range_leaf(void *ctx, const json_value *v)
{
	const m_range *r = ctx;
	int c;
	if (r->lo->set) {
		if (m_bound_cmp(v, r->lo, &c) || c < 0 || (c == 0 && !r->lo->incl))
			return 0;
	}
	if (r->hi->set) {
		if (m_bound_cmp(v, r->hi, &c) || c > 0 || (c == 0 && !r->hi->incl))
			return 0;
	}
	return 1;
}

static int m_exists_leaf(void *ctx, const json_value *v)
{
	(void)ctx;
	return fs_has_value(v);
}

static int m_prefix_leaf(void *ctx, const json_value *v)
{
	const fsq *q = ctx;
	const fs_str *p = &q->u.pre.p;
	if (v->type != JSON_STRING || v->u.str.len < p->len)
		return 0;
	if (q->u.pre.ci)
		return fs_bytes_cmp_ci(v->u.str.s, p->len, p->s, p->len) == 0;
	return p->len == 0 || memcmp(v->u.str.s, p->s, p->len) == 0;
}

static int m_bool(const fsq *q, const fsq_doc *d)
{
	for (size_t i = 0; i < q->u.b.n[FSB_MUST]; i++)
		if (!fsq_match(q->u.b.c[FSB_MUST][i], d))
			return 0;
	for (size_t i = 0; i < q->u.b.n[FSB_FILTER]; i++)
		if (!fsq_match(q->u.b.c[FSB_FILTER][i], d))
			return 0;
	for (size_t i = 0; i < q->u.b.n[FSB_MUST_NOT]; i++)
		if (fsq_match(q->u.b.c[FSB_MUST_NOT][i], d))
			return 0;
	size_t need = q->u.b.msm, n = q->u.b.n[FSB_SHOULD];
	if (need > n)
		return 0;
	for (size_t i = 0; i < n && need; i++)
		if (fsq_match(q->u.b.c[FSB_SHOULD][i], d))
			need--;
	return need == 0;
}

int fsq_match(const fsq *q, const fsq_doc *d)
{
	json_value idv = {.type = JSON_STRING};
	m_range r;
	fs_visit_fn fn;
	const void *ctx;

	switch (q->kind) {
	case FSQ_ALL:
		return 1;
	case FSQ_NONE:
		return 0;
	case FSQ_BOOL:
		return m_bool(q, d);
	case FSQ_TERMS:
		if (q->f.is_id)
			return m_find_str(&q->u.t, d->id, d->idlen);
		fn = m_term_leaf;
		ctx = &q->u.t;
		break;
	case FSQ_RANGE:
		r.lo = &q->u.r.lo;
		r.hi = &q->u.r.hi;
		fn = m_range_leaf;
		ctx = &r;
		break;
	case FSQ_EXISTS:
		if (q->f.is_id)
			return 1;
		fn = m_exists_leaf;
		ctx = NULL;
		break;
	case FSQ_PREFIX:
		fn = m_prefix_leaf;
		ctx = q;
		break;
	default:
		return 0;
	}
	if (q->f.is_id) {
		idv.u.str.s = d->id;
		idv.u.str.len = d->idlen;
		return fn((void *)ctx, &idv);
	}
	return fs_field_visit(d->doc, &q->f, fn, (void *)ctx, NULL);
}

/* 1 if s[0..n) occurs in text as the start (prefix) or the whole of a
 * JSON string: preceded by '"' and, unless prefix, followed by '"'. */
static int m_occurs(const char *text, size_t len, const char *s, size_t n,
		    int prefix)
{
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *hit = memmem(p, (size_t)(end - p), s, n);
		if (!hit)
			return 0;
		if (hit > text && hit[-1] == '"' &&
		    (prefix || (hit + n < end && hit[n] == '"')))
			return 1;
		p = hit + 1;
	}
	return 0;
}

/* -1: q says nothing; 0: certainly no match; 1: may match. */
static int m_prefilter(const fsq *q, const char *text, size_t len)
{
	if (q->kind == FSQ_TERMS && !q->f.is_id && !q->u.t.ci &&
	    !q->u.t.nnum && !q->u.t.bools && q->u.t.nstr &&
	    q->u.t.nstr <= PREFILTER_MAX_TERMS) {
		for (size_t i = 0; i < q->u.t.nstr; i++)
			if (!q->u.t.strs[i].len ||
			    m_occurs(text, len, q->u.t.strs[i].s,
				     q->u.t.strs[i].len, 0))
				return 1;
		return 0;
	}
	if (q->kind == FSQ_PREFIX && !q->f.is_id && !q->u.pre.ci)
		return !q->u.pre.p.len ||
		       m_occurs(text, len, q->u.pre.p.s, q->u.pre.p.len, 1);
	if (q->kind != FSQ_BOOL)
		return -1;
	for (int k = FSB_MUST; k <= FSB_FILTER; k++)
		for (size_t i = 0; i < q->u.b.n[k]; i++)
			if (m_prefilter(q->u.b.c[k][i], text, len) == 0)
				return 0;
	return -1;
}

int fsq_prefilter(const fsq *q, const char *text, size_t len)
{
	if (m_prefilter(q, text, len) != 0)
		return 1;
	/* an escaped string may hide the term: only then parse anyway */
	return memchr(text, '\\', len) != NULL;
}

int fsq_needs_body(const fsq *q)
{
	if (q->kind == FSQ_ALL || q->kind == FSQ_NONE)
		return 0;
	if (q->kind != FSQ_BOOL)
		return !q->f.is_id;
	for (int k = 0; k < FSB_N; k++)
		for (size_t i = 0; i < q->u.b.n[k]; i++)
			if (fsq_needs_body(q->u.b.c[k][i]))
				return 1;
	return 0;
}

int fsq_is_all(const fsq *q)
{
	if (q->kind == FSQ_ALL || (q->kind == FSQ_EXISTS && q->f.is_id))
		return 1;
	if (q->kind != FSQ_BOOL || q->u.b.n[FSB_MUST_NOT] || q->u.b.msm)
		return 0;
	for (size_t i = 0; i < q->u.b.n[FSB_MUST]; i++)
		if (!fsq_is_all(q->u.b.c[FSB_MUST][i]))
			return 0;
	for (size_t i = 0; i < q->u.b.n[FSB_FILTER]; i++)
		if (!fsq_is_all(q->u.b.c[FSB_FILTER][i]))
			return 0;
	return 1;
}

const fsq_terms *fsq_candidates(const fsq *q)
{
	if (q->kind == FSQ_TERMS)
		return q->f.is_id && !q->u.t.ci ? &q->u.t : NULL;
	if (q->kind != FSQ_BOOL)
		return NULL;
	const fsq_terms *best = NULL;
	for (int k = FSB_MUST; k <= FSB_FILTER; k++)
		for (size_t i = 0; i < q->u.b.n[k]; i++) {
			const fsq_terms *t = fsq_candidates(q->u.b.c[k][i]);
			if (t && (!best || t->nstr < best->nstr))
				best = t;
		}
	return best;
}

void fsq_id_bounds(const fsq *q, const fsq_bound **lo, const fsq_bound **hi,
		   const fs_str **prefix)
{
	if (q->kind == FSQ_RANGE && q->f.is_id) {
		if (!*lo && q->u.r.lo.set && !q->u.r.lo.is_num)
			*lo = &q->u.r.lo;
		if (!*hi && q->u.r.hi.set && !q->u.r.hi.is_num)
			*hi = &q->u.r.hi;
	} else if (q->kind == FSQ_PREFIX && q->f.is_id && !q->u.pre.ci) {
		if (!*prefix)
			*prefix = &q->u.pre.p;
	} else if (q->kind == FSQ_BOOL) {
		for (int k = FSB_MUST; k <= FSB_FILTER; k++)
			for (size_t i = 0; i < q->u.b.n[k]; i++)
				fsq_id_bounds(q->u.b.c[k][i], lo, hi, prefix);
	}
}

int fsq_bound_lo_ok(const fsq_bound *b, const char *id, size_t len)
{
	int c = fs_bytes_cmp(id, len, b->s.s, b->s.len);
	return c > 0 || (c == 0 && b->incl);
}

int fsq_bound_hi_ok(const fsq_bound *b, const char *id, size_t len)
{
	int c = fs_bytes_cmp(id, len, b->s.s, b->s.len);
	return c < 0 || (c == 0 && b->incl);
}
