/*
 * source.c - _source filtering as Elasticsearch does it: "includes" and
 * "excludes" are field paths or globs ("pii.*", "*.email"); a field that
 * an include names comes whole (minus excluded parts), an object that
 * only holds included fields further down is kept with just those, and
 * arrays of objects are filtered element by element. Writes JSON text
 * straight into the response, undoing a member when nothing of it stays.
 */
#include <string.h>

#include "search/internal.h"

typedef struct src_ctx {
	const fsearch_req *rq;
	fbuf path; /* dotted path of the value being written */
	fbuf *out;
	int depth;
} src_ctx;

static int src_any(const fsrc_pats *p, const char *s, size_t len)
{
	for (size_t i = 0; i < p->n; i++)
		if (fs_glob(p->v[i].s, p->v[i].len, s, len))
			return 1;
	return 0;
}

/* 1 if some include may name a field below `path`: the literal part of
 * a pattern and "path." agree as far as both go. */
static int src_below(const fsrc_pats *p, const char *path, size_t len)
{
	for (size_t i = 0; i < p->n; i++) {
		const char *pat = p->v[i].s;
		size_t lit = p->v[i].len, star;
		const char *st = memchr(pat, '*', lit);
		const char *q = memchr(pat, '?', lit);
		if (q && (!st || q < st))
			st = q;
		star = st ? (size_t)(st - pat) : lit;
		size_t n = star < len + 1 ? star : len + 1;
		if (!st && lit <= len)
			continue;
		size_t cmp = n < len ? n : len;
		if (cmp && memcmp(pat, path, cmp) != 0)
			continue;
		if (n == len + 1 && pat[len] != '.')
			continue;
		return 1;
	}
	return 0;
}

static void src_undo(fbuf *b, size_t mark)
{
	b->len = mark;
	if (b->p)
		b->p[mark] = 0;
}

static int src_val(src_ctx *c, const json_value *v, int all, int *kept);

static int src_member(src_ctx *c, const json_member *m, int all, int *first,
		      int *kept)
{
	const fsearch_req *rq = c->rq;
	size_t pmark = c->path.len, omark = c->out->len;
	int rc, k = 0;

	if ((pmark && fbuf_addc(&c->path, '.')) ||
	    fbuf_add(&c->path, m->key, m->klen))
		return FERRY_ENOMEM;
	const char *full = c->path.p;
	size_t flen = c->path.len;
	if (src_any(&rq->excl, full, flen))
		goto skip;
	int inc = all || !rq->incl.n || src_any(&rq->incl, full, flen);
	if (!inc && !src_below(&rq->incl, full, flen))
		goto skip;
	if ((!*first && fbuf_addc(c->out, ',')) ||
	    fbuf_add_jstr(c->out, m->key, m->klen) || fbuf_addc(c->out, ':'))
		return FERRY_ENOMEM;
	if ((rc = src_val(c, m->val, inc, &k)))
		return rc;
	if (!k) {
		src_undo(c->out, omark);
		goto skip;
	}
	*first = 0;
	*kept = 1;
skip:
	src_undo(&c->path, pmark);
	return 0;
}

static int src_obj(src_ctx *c, const json_value *o, int all, int *kept)
{
	int first = 1, rc;
	*kept = all;
	if (fbuf_addc(c->out, '{'))
		return FERRY_ENOMEM;
	for (size_t i = 0; i < o->u.obj.n; i++)
		if ((rc = src_member(c, &o->u.obj.m[i], all, &first, kept)))
			return rc;
	return fbuf_addc(c->out, '}') ? FERRY_ENOMEM : 0;
}

static int src_arr(src_ctx *c, const json_value *a, int all, int *kept)
{
	int first = 1, rc;
	*kept = all;
	if (fbuf_addc(c->out, '['))
		return FERRY_ENOMEM;
	for (size_t i = 0; i < a->u.arr.n; i++) {
		size_t mark = c->out->len;
		int k = 0;
		if (!first && fbuf_addc(c->out, ','))
			return FERRY_ENOMEM;
		if ((rc = src_val(c, a->u.arr.v[i], all, &k)))
			return rc;
		if (!k) {
			src_undo(c->out, mark);
			continue;
		}
		first = 0;
		*kept = 1;
	}
	return fbuf_addc(c->out, ']') ? FERRY_ENOMEM : 0;
}

static int src_val(src_ctx *c, const json_value *v, int all, int *kept)
{
	int rc;
	if (c->depth >= JSON_MAX_DEPTH)
		return FERRY_ELIMIT;
	if (all && !c->rq->excl.n) {
		*kept = 1;
		return json_write(v, c->out);
	}
	c->depth++;
	if (v->type == JSON_OBJECT)
		rc = src_obj(c, v, all, kept);
	else if (v->type == JSON_ARRAY)
		rc = src_arr(c, v, all, kept);
	else if ((*kept = all))
		rc = json_write(v, c->out);
	else
		rc = 0;
	c->depth--;
	return rc;
}

int fsrc_write(const fsearch_req *rq, const json_value *doc, fbuf *out)
{
	src_ctx c = {rq, FBUF_INIT, out, 0};
	size_t mark = out->len;
	int kept = 0, rc;

	fbuf_init(&c.path, 1u << 20);
	if (doc->type != JSON_OBJECT)
		rc = json_write(doc, out);
	else
		rc = src_obj(&c, doc, 0, &kept);
	fbuf_release(&c.path);
	if (rc)
		src_undo(out, mark);
	return rc;
}
