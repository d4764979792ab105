/*
 * sort.c - sort keys and the hit collector. A document's sort value for a
 * field is its smallest value (largest for desc, or as "mode" says), a
 * missing value goes last unless "missing":"_first"; values of different
 * types order number < string < boolean. Ties break on _id, then on the
 * index. The collector keeps only the best from+size hits: a max-heap
 * whose top is the worst kept hit, so a sorted search over a million
 * documents holds at most from+size bodies.
 */
#include <stdlib.h>
#include <string.h>

#include "search/internal.h"

/* Natural order of two values: type rank, then value. */
static int sk_natcmp(const skey *a, const skey *b)
{
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	switch (a->type) {
	case SKV_NUM:
		return fs_numcmp(a->num, b->num);
	case SKV_STR:
		return fs_bytes_cmp(a->s.s, a->s.len, b->s.s, b->s.len);
	case SKV_BOOL:
		return (a->b > b->b) - (a->b < b->b);
	default:
		return 0;
	}
}

/* The value v as a key; 0, or -1 if it cannot be one (object, null). */
static int sk_from_value(const json_value *v, skey *k)
{
	memset(k, 0, sizeof *k);
	switch (v->type) {
	case JSON_NUMBER:
		if (fs_num(v, &k->num))
			return -1;
		k->type = SKV_NUM;
		k->s = (fs_str){v->u.num.text, v->u.num.len};
		return 0;
	case JSON_STRING:
		k->type = SKV_STR;
		k->s = (fs_str){v->u.str.s, v->u.str.len};
		return 0;
	case JSON_TRUE:
	case JSON_FALSE:
		k->type = SKV_BOOL;
		k->b = v->type == JSON_TRUE;
		return 0;
	default:
		return -1;
	}
}

typedef struct sk_pick {
	skey best;
	int found;
	int max;
} sk_pick;

static int sk_pick_leaf(void *ctx, const json_value *v)
{
	sk_pick *p = ctx;
	skey k;
	if (sk_from_value(v, &k))
		return 0;
	if (!p->found || (p->max ? sk_natcmp(&k, &p->best) > 0
				 : sk_natcmp(&k, &p->best) < 0))
		p->best = k;
	p->found = 1;
	return 0;
}

void fsort_keys(const fsort *keys, size_t n, const json_value *doc,
		const char *id, size_t idlen, const char *index, skey *out)
{
	for (size_t i = 0; i < n; i++) {
		const fsort *k = &keys[i];
		skey *o = &out[i];
		memset(o, 0, sizeof *o);
		if (k->kind == FSK_ID || k->kind == FSK_DOC) {
			o->type = SKV_STR;
			o->s = (fs_str){id, idlen};
		} else if (k->kind == FSK_INDEX) {
			o->type = SKV_STR;
			o->s = (fs_str){index, strlen(index)};
		} else if (k->kind == FSK_SCORE) {
			o->type = SKV_NUM;
			o->num = 1;
			o->s = (fs_str){"1.0", 3};
		} else {
			sk_pick p = {.max = k->mode_max};
			fs_field_visit(doc, &k->f, sk_pick_leaf, &p, NULL);
			if (p.found)
				*o = p.best;
			else if (!k->missing || sk_from_value(k->missing, o))
				o->type = SKV_MISSING;
		}
	}
}

int fsort_cmp1(const fsort *k, const skey *a, const skey *b)
{
	int am = a->type == SKV_MISSING, bm = b->type == SKV_MISSING;
	if (am || bm) {
		if (am && bm)
			return 0;
		return (am ? 1 : -1) * (k->missing_first ? -1 : 1);
	}
	int c = sk_natcmp(a, b);
	return k->desc ? -c : c;
}

int fsort_cmp(const fsort *keys, size_t n, const skey *a, const skey *b)
{
	for (size_t i = 0; i < n; i++) {
		int c = fsort_cmp1(&keys[i], &a[i], &b[i]);
		if (c)
			return c;
	}
	return 0;
}

int fsort_after_value(const fsort *k, const json_value *v, size_t i,
		      skey *out, fsearch_error *e)
{
	if (v->type == JSON_NULL && k->kind == FSK_FIELD) {
		memset(out, 0, sizeof *out);
		out->type = SKV_MISSING;
		return 0;
	}
	if (sk_from_value(v, out))
		return FSE_ARG(e, "search_after value [%zu] must be a string, "
			       "a number, a boolean or null (as the hit's "
			       "\"sort\" array gave it), got %s", i,
			       fs_type_name(v));
	int named = k->kind == FSK_ID || k->kind == FSK_DOC ||
		    k->kind == FSK_INDEX;
	if (named && out->type == SKV_NUM)
		out->type = SKV_STR; /* an id written as a number */
	if (named && out->type != SKV_STR)
		return FSE_ARG(e, "search_after value [%zu] is for [%s] and "
			       "must be a string, got %s", i,
			       k->kind == FSK_INDEX ? "_index" : "_id",
			       fs_type_name(v));
	return 0;
}

int skey_write(const skey *k, fbuf *out)
{
	switch (k->type) {
	case SKV_NUM:
		return fbuf_add(out, k->s.s, k->s.len);
	case SKV_STR:
		return fbuf_add_jstr(out, k->s.s, k->s.len);
	case SKV_BOOL:
		return fbuf_adds(out, k->b ? "true" : "false");
	default:
		return fbuf_adds(out, "null");
	}
}

/* ------------------------------------------------------------------ */
/* The collector                                                        */

int fhits_init(fhits *h, const fsearch_req *rq, int natural,
	       fsearch_error *e)
{
	memset(h, 0, sizeof *h);
	h->rq = rq;
	h->k = (size_t)(rq->from + rq->size);
	h->heap = !natural;
	if (h->k && !(h->v = calloc(h->k, sizeof *h->v)))
		return fse_nomem(e);
	return 0;
}

void fhits_release(fhits *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i]->mem);
		free(h->v[i]);
	}
	free(h->v);
	memset(h, 0, sizeof *h);
}

/* Order of a candidate against a kept hit. */
static int fh_cmp_raw(const fsearch_req *rq, const skey *keys, const char *id,
		      size_t idlen, uint32_t ix, const fhit *b)
{
	int c = fsort_cmp(rq->sort, rq->nkeys, keys, b->keys);
	if (c)
		return c;
	c = fs_bytes_cmp(id, idlen, b->id, b->idlen);
	if (c)
		return c;
	return (ix > b->ix) - (ix < b->ix);
}

static int fh_cmp(const fsearch_req *rq, const fhit *a, const fhit *b)
{
	return fh_cmp_raw(rq, a->keys, a->id, a->idlen, a->ix, b);
}

int fhits_after_ok(const fhits *h, const skey *keys, const char *id,
		   size_t idlen)
{
	const fsearch_req *rq = h->rq;
	if (!rq->nafter)
		return 1;
	for (size_t i = 0; i < rq->nafter; i++) {
		int c = fsort_cmp1(&rq->sort[i], &keys[i], &rq->after[i]);
		if (c)
			return c > 0;
	}
	return 0;
}

/* Fills hit `t` (reusing its memory) with the candidate. */
static int fh_fill(const fsearch_req *rq, fhit *t, const skey *keys,
		   const char *id, size_t idlen, uint32_t ix, uint64_t seq,
		   const char *body, size_t blen)
{
	size_t nk = rq->nkeys;
	size_t need = nk * sizeof(skey) + idlen + 1 + (body ? blen + 1 : 0);
	for (size_t i = 0; i < nk; i++)
		need += keys[i].s.len;
	if (need > t->cap) {
		char *m = realloc(t->mem, need);
		if (!m)
			return FERRY_ENOMEM;
		t->mem = m;
		t->cap = need;
	}
	char *p = t->mem;
	t->keys = (skey *)(void *)p;
	p += nk * sizeof(skey);
	for (size_t i = 0; i < nk; i++) {
		t->keys[i] = keys[i];
		if (keys[i].s.len)
			memcpy(p, keys[i].s.s, keys[i].s.len);
		t->keys[i].s.s = p;
		p += keys[i].s.len;
	}
	memcpy(p, id, idlen);
	p[idlen] = 0;
	t->id = p;
	t->idlen = idlen;
	p += idlen + 1;
	t->body = NULL;
	t->blen = 0;
	if (body) {
		memcpy(p, body, blen);
		p[blen] = 0;
		t->body = p;
		t->blen = blen;
	}
	t->ix = ix;
	t->seq = seq;
	return 0;
}

static void fh_swap(fhit **v, size_t a, size_t b)
{
	fhit *t = v[a];
	v[a] = v[b];
	v[b] = t;
}

static void fh_sift_up(fhits *h, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (fh_cmp(h->rq, h->v[i], h->v[p]) <= 0)
			break;
		fh_swap(h->v, i, p);
		i = p;
	}
}

static void fh_sift_down(fhits *h, size_t i, size_t n)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && fh_cmp(h->rq, h->v[l], h->v[m]) > 0)
			m = l;
		if (r < n && fh_cmp(h->rq, h->v[r], h->v[m]) > 0)
			m = r;
		if (m == i)
			return;
		fh_swap(h->v, i, m);
		i = m;
	}
}

int fhits_full(const fhits *h)
{
	return h->n >= h->k;
}

int fhits_offer(fhits *h, const skey *keys, const char *id, size_t idlen,
		uint32_t ix, uint64_t seq, const char *body, size_t blen)
{
	const fsearch_req *rq = h->rq;
	fhit *t;

	if (h->k == 0)
		return 0;
	if (h->n < h->k) {
		if (!(t = calloc(1, sizeof *t)))
			return FERRY_ENOMEM;
		if (!h->heap && h->n < (size_t)rq->from)
			body = NULL; /* will be skipped by from */
		if (fh_fill(rq, t, keys, id, idlen, ix, seq, body, blen)) {
			free(t);
			return FERRY_ENOMEM;
		}
		h->v[h->n++] = t;
		if (h->heap)
			fh_sift_up(h, h->n - 1);
		return 0;
	}
	if (!h->heap || fh_cmp_raw(rq, keys, id, idlen, ix, h->v[0]) >= 0)
		return 0;
	if (fh_fill(rq, h->v[0], keys, id, idlen, ix, seq, body, blen))
		return FERRY_ENOMEM;
	fh_sift_down(h, 0, h->n);
	return 0;
}

void fhits_finish(fhits *h)
{
	if (!h->heap)
		return;
	for (size_t i = h->n; i > 1; i--) {
		fh_swap(h->v, 0, i - 1);
		fh_sift_down(h, 0, i - 1);
	}
}
