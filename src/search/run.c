/*
 * run.c - executes a parsed search over ferry's ordered scan and writes
 * Elasticsearch's response. How it avoids reading what it need not:
 *  - a query confined to a list of ids (ids, term(s) on _id) is answered
 *    with direct gets; a range or prefix on _id bounds the scan;
 *  - a query that needs no field (match_all, _id queries) and no field
 *    sort never parses a body; match_all takes its total from the
 *    index counters;
 *  - in natural order (no sort, or _id ascending) the scan stops once
 *    from+size hits are in and track_total_hits is satisfied, and jumps
 *    straight to the search_after id once counting no longer needs the
 *    documents before it.
 * Sorted searches keep only the best from+size hits (sort.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "search/internal.h"

typedef struct fx {
	ferry_db *db;
	const fsearch_req *rq;
	fsearch_error *e;
	json_arena *da;      /* one document at a time */
	const char **names;  /* physical names of the searched indices */
	size_t nnames;
	int need_doc;        /* parse bodies: the query or a sort reads them */
	int natural;         /* hits arrive in their final order */
	fhits hits;
	skey *keys;          /* scratch, rq->nkeys */
	uint64_t total;
	int total_known;     /* `total` came from the index counters */
	int stop;
} fx;

static int64_t fx_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* Which indices                                                        */

static int fx_add(fx *x, json_arena *a, const char *name)
{
	for (size_t i = 0; i < x->nnames; i++)
		if (!strcmp(x->names[i], name))
			return 0;
	if (x->nnames >= FSEARCH_MAX_INDICES)
		return FSE_ARG(x->e, "a search may cover at most %d indices",
			       FSEARCH_MAX_INDICES);
	size_t n = strlen(name) + 1;
	char *p = json_arena_alloc(a, n);
	if (!p)
		return fse_nomem(x->e);
	memcpy(p, name, n);
	x->names[x->nnames++] = p;
	return 0;
}

static int fx_glob(fx *x, json_arena *a, const char *pat, int exclude)
{
	ferry_index_info *list = NULL;
	ferry_err fe = {0, ""};
	size_t n = 0;
	int rc = ferry_index_list(x->db, exclude ? "*" : pat, &list, &n, &fe);
	if (rc)
		return fse_ferry(x->e, rc, &fe);
	for (size_t i = 0; i < n && !rc; i++) {
		const ferry_index_info *in = &list[i];
		if (!exclude) {
			rc = fx_add(x, a, in->name);
			continue;
		}
		if (!fs_glob(pat, strlen(pat), in->name, strlen(in->name)) &&
		    !(in->alias[0] && fs_glob(pat, strlen(pat), in->alias,
					      strlen(in->alias))))
			continue;
		for (size_t k = 0; k < x->nnames; k++)
			if (!strcmp(x->names[k], in->name)) {
				memmove(&x->names[k], &x->names[k + 1],
					(x->nnames - k - 1) * sizeof *x->names);
				x->nnames--;
				break;
			}
	}
	ferry_free(list);
	return rc;
}

static int fx_one(fx *x, json_arena *a, const char *item)
{
	ferry_index_info info;
	ferry_err fe = {0, ""};
	if (!strcmp(item, "_all"))
		return fx_glob(x, a, "*", 0);
	if (item[0] == '-' && x->nnames)
		return fx_glob(x, a, item + 1, 1);
	if (strpbrk(item, "*?"))
		return fx_glob(x, a, item, 0);
	int rc = ferry_index_get(x->db, item, &info, &fe);
	if (rc == FERRY_ENOTFOUND || rc == FERRY_ENAME)
		return fse_set(x->e, 404, "index_not_found_exception",
			       FERRY_ENOTFOUND, "no such index [%s]", item);
	if (rc)
		return fse_ferry(x->e, rc, &fe);
	return fx_add(x, a, info.name);
}

static int fx_indices(fx *x, json_arena *a, const char *index)
{
	char item[FERRY_NAME_MAX + 2];
	const char *s = index && *index ? index : "_all";
	x->names = json_arena_alloc(a, FSEARCH_MAX_INDICES * sizeof *x->names);
	if (!x->names)
		return fse_nomem(x->e);
	while (*s) {
		size_t len = strcspn(s, ",");
		if (len == 0 || len > FERRY_NAME_MAX)
			return fse_set(x->e, 400, "invalid_index_name_exception",
				       FERRY_ENAME, "bad index name [%.*s] in "
				       "[%.100s]: names are 1 to %d bytes, "
				       "separated by commas",
				       (int)(len > 100 ? 100 : len), s,
				       index, FERRY_NAME_MAX);
		memcpy(item, s, len);
		item[len] = 0;
		int rc = fx_one(x, a, item);
		if (rc)
			return rc;
		s += len + (s[len] == ',');
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* One document                                                         */

static int fx_counted(const fx *x)
{
	return !x->rq->track || x->total_known || x->total > x->rq->limit;
}

static int fx_doc(fx *x, uint32_t ix, const char *id, size_t idlen,
		  const char *body, size_t blen, uint64_t seq)
{
	const fsearch_req *rq = x->rq;
	json_value *doc = NULL;
	json_error je;

	if (x->need_doc && !fsq_prefilter(rq->query, body, blen))
		return 0;
	if (x->need_doc) {
		json_arena_reset(x->da);
		int rc = json_parse(x->da, body, blen, &doc, &je);
		if (rc == FERRY_ENOMEM)
			return fse_nomem(x->e);
		if (rc)
			return fse_set(x->e, 500, "exception", FERRY_ECORRUPT,
				       "document [%.*s] of [%s] is not valid "
				       "JSON (%s at byte %zu): run ferry "
				       "verify", (int)(idlen > 200 ? 200 : idlen),
				       id, x->names[ix], je.msg, je.offset);
	}
	fsq_doc d = {doc, id, idlen};
	if (!fsq_match(rq->query, &d))
		return 0;
	if (rq->track && !x->total_known && x->total <= rq->limit)
		x->total++;
	if (x->hits.k) {
		fsort_keys(rq->sort, rq->nkeys, doc, id, idlen, x->names[ix],
			   x->keys);
		if (fhits_after_ok(&x->hits, x->keys, id, idlen) &&
		    fhits_offer(&x->hits, x->keys, id, idlen, ix, seq,
				rq->source ? body : NULL, blen))
			return fse_nomem(x->e);
	}
	if (x->natural && fhits_full(&x->hits) && fx_counted(x))
		x->stop = 1;
	return 0;
}

static int fx_id_ok(const char *s, size_t len)
{
	return len > 0 && len <= FERRY_ID_MAX && !memchr(s, 0, len);
}

/* The direct gets of a query confined to ids. */
static int fx_gets(fx *x, uint32_t ix, const fsq_terms *t)
{
	for (size_t i = 0; i < t->nstr && !x->stop; i++) {
		const fs_str *id = &t->strs[i];
		ferry_err fe = {0, ""};
		char *body = NULL;
		size_t blen = 0;
		uint64_t seq = 0;
		if (!fx_id_ok(id->s, id->len))
			continue;
		int rc = ferry_doc_get(x->db, x->names[ix], id->s, id->len,
				       &body, &blen, &seq, &fe);
		if (rc == FERRY_ENOTFOUND)
			continue;
		if (rc)
			return fse_ferry(x->e, rc, &fe);
		rc = fx_doc(x, ix, id->s, id->len, body, blen, seq);
		ferry_free(body);
		if (rc)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The scan                                                             */

typedef struct fx_range {
	fs_str start;   /* first id to consider ("" none) */
	int start_incl;
	const fsq_bound *hi;
	const fs_str *prefix;
} fx_range;

static void fx_start_at(fx_range *r, const char *s, size_t len, int incl)
{
	if (!fx_id_ok(s, len))
		return;
	int c = fs_bytes_cmp(s, len, r->start.s, r->start.len);
	if (!r->start.len || c > 0 || (c == 0 && !incl)) {
		r->start = (fs_str){s, len};
		r->start_incl = incl;
	}
}

static void fx_plan(const fx *x, fx_range *r)
{
	const fsearch_req *rq = x->rq;
	const fsq_bound *lo = NULL;
	memset(r, 0, sizeof *r);
	fsq_id_bounds(rq->query, &lo, &r->hi, &r->prefix);
	if (lo)
		fx_start_at(r, lo->s.s, lo->s.len, lo->incl);
	if (r->prefix)
		fx_start_at(r, r->prefix->s, r->prefix->len, 1);
	if (x->natural && rq->has_after_id && fx_counted(x))
		fx_start_at(r, rq->after_id.s, rq->after_id.len, 0);
}

/* 0 while id is inside the upper bounds, 1 once past them. */
static int fx_past(const fx_range *r, const char *id, size_t len)
{
	if (r->hi && !fsq_bound_hi_ok(r->hi, id, len))
		return 1;
	if (r->prefix && (len < r->prefix->len ||
			  memcmp(id, r->prefix->s, r->prefix->len)))
		return 1;
	return 0;
}

static int fx_open(fx *x, uint32_t ix, const char *after, size_t alen,
		   ferry_scan **s)
{
	ferry_err fe = {0, ""};
	int rc = ferry_scan_open(x->db, x->names[ix], after, alen, s, &fe);
	return rc ? fse_ferry(x->e, rc, &fe) : 0;
}

static int fx_scan(fx *x, uint32_t ix)
{
	const fsearch_req *rq = x->rq;
	ferry_scan *s = NULL;
	ferry_doc d;
	ferry_err fe = {0, ""};
	fx_range r;
	int rc, jumped = 0;

	fx_plan(x, &r);
	if (r.start.len && r.start_incl) {
		fsq_terms one = {.strs = &r.start, .nstr = 1};
		if ((rc = fx_gets(x, ix, &one)) || x->stop)
			return rc;
	}
	if ((rc = fx_open(x, ix, r.start.len ? r.start.s : NULL, r.start.len,
			  &s)))
		return rc;
	while (!x->stop && (rc = ferry_scan_next(s, &d, &fe)) == 0) {
		if (fx_past(&r, d.id, d.idlen))
			break;
		if (x->natural && rq->has_after_id && !jumped && fx_counted(x) &&
		    fs_bytes_cmp(d.id, d.idlen, rq->after_id.s,
				 rq->after_id.len) <= 0 &&
		    fx_id_ok(rq->after_id.s, rq->after_id.len)) {
			/* counting is done: skip to the search_after id */
			jumped = 1;
			ferry_scan_free(s);
			s = NULL;
			if ((rc = fx_open(x, ix, rq->after_id.s,
					  rq->after_id.len, &s)))
				return rc;
			continue;
		}
		if ((rc = fx_doc(x, ix, d.id, d.idlen, d.body, d.body_len,
				 d.seq)))
			goto out;
	}
	rc = rc == FERRY_EOF || rc == 0 ? 0 : fse_ferry(x->e, rc, &fe);
out:
	ferry_scan_free(s);
	return rc;
}

/* match_all: the total from the index counters. */
static int fx_count_all(fx *x)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < x->nnames; i++) {
		uint64_t n = 0;
		ferry_err fe = {0, ""};
		int rc = ferry_doc_count(x->db, x->names[i], &n, &fe);
		if (rc)
			return fse_ferry(x->e, rc, &fe);
		sum += n;
	}
	x->total = sum;
	x->total_known = 1;
	return 0;
}

static int fx_execute(fx *x)
{
	const fsearch_req *rq = x->rq;
	const fsq_terms *cand = fsq_candidates(rq->query);
	int rc = 0;

	if (rq->track && fsq_is_all(rq->query) && (rc = fx_count_all(x)))
		return rc;
	if (!x->hits.k && fx_counted(x))
		return 0;
	for (size_t i = 0; i < x->nnames && !x->stop && !rc; i++)
		rc = cand ? fx_gets(x, (uint32_t)i, cand)
			  : fx_scan(x, (uint32_t)i);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Output                                                               */

static int fx_shards(const fx *x, fbuf *out)
{
	return fbuf_addf(out, "\"_shards\":{\"total\":%zu,\"successful\":%zu,"
			 "\"skipped\":0,\"failed\":0}", x->nnames, x->nnames);
}

static int fx_source(fx *x, const fhit *h, fbuf *out)
{
	const fsearch_req *rq = x->rq;
	json_value *doc;
	if (rq->source == 1 || !h->body)
		return fbuf_add(out, h->body, h->blen);
	json_arena_reset(x->da);
	int rc = json_parse(x->da, h->body, h->blen, &doc, NULL);
	return rc ? rc : fsrc_write(rq, doc, out);
}

static int fx_hit(fx *x, const fhit *h, fbuf *out)
{
	const fsearch_req *rq = x->rq;
	int rc = fbuf_adds(out, "{\"_index\":");
	rc = rc ? rc : fbuf_add_jstr(out, x->names[h->ix],
				     strlen(x->names[h->ix]));
	rc = rc ? rc : fbuf_adds(out, ",\"_id\":");
	rc = rc ? rc : fbuf_add_jstr(out, h->id, h->idlen);
	if (!rc && rq->seq_no)
		rc = fbuf_addf(out, ",\"_seq_no\":%llu,\"_primary_term\":1",
			       (unsigned long long)h->seq);
	rc = rc ? rc : fbuf_adds(out, rq->scores ? ",\"_score\":1.0"
						 : ",\"_score\":null");
	if (!rc && rq->source && h->body) {
		rc = fbuf_adds(out, ",\"_source\":");
		rc = rc ? rc : fx_source(x, h, out);
	}
	if (!rc && rq->nkeys) {
		rc = fbuf_adds(out, ",\"sort\":[");
		for (size_t i = 0; !rc && i < rq->nkeys; i++) {
			if (i)
				rc = fbuf_addc(out, ',');
			rc = rc ? rc : skey_write(&h->keys[i], out);
		}
		rc = rc ? rc : fbuf_addc(out, ']');
	}
	return rc ? rc : fbuf_addc(out, '}');
}

static int fx_total(const fx *x, fbuf *out)
{
	const fsearch_req *rq = x->rq;
	if (!rq->track)
		return 0;
	int over = x->total > rq->limit;
	return fbuf_addf(out, "\"total\":{\"value\":%llu,\"relation\":\"%s\"},",
			 (unsigned long long)(over ? rq->limit : x->total),
			 over ? "gte" : "eq");
}

static int fx_write(fx *x, int64_t t0, fbuf *out)
{
	const fsearch_req *rq = x->rq;
	size_t from = (size_t)rq->from, mark = out->len;
	int shown = x->hits.n > from;
	int rc = fbuf_addf(out, "{\"took\":%lld,\"timed_out\":false,",
			   (long long)(fx_now_ms() - t0));
	rc = rc ? rc : fx_shards(x, out);
	rc = rc ? rc : fbuf_adds(out, ",\"hits\":{");
	rc = rc ? rc : fx_total(x, out);
	rc = rc ? rc : fbuf_adds(out, rq->scores && shown
					      ? "\"max_score\":1.0,\"hits\":["
					      : "\"max_score\":null,\"hits\":[");
	for (size_t i = from; !rc && i < x->hits.n; i++) {
		if (i > from)
			rc = fbuf_addc(out, ',');
		rc = rc ? rc : fx_hit(x, x->hits.v[i], out);
	}
	rc = rc ? rc : fbuf_adds(out, "]}}");
	if (rc) {
		out->len = mark;
		if (out->p)
			out->p[mark] = 0;
		return rc == FERRY_ENOMEM ? fse_nomem(x->e)
			: fse_set(x->e, 500, "exception", rc, "cannot write "
				  "the response: %s", ferry_strerror(rc));
	}
	return 0;
}

/* ------------------------------------------------------------------ */

static int fx_setup(fx *x, ferry_db *db, json_arena *a, const char *index,
		    const fsearch_req *rq, fsearch_error *e)
{
	memset(x, 0, sizeof *x);
	x->db = db;
	x->rq = rq;
	x->e = e;
	if (fx_indices(x, a, index))
		return e->err.code;
	/* several indices: one after the other unless sorted */
	x->natural = rq->natural && (x->nnames <= 1 || !rq->nsort);
	if (!(x->da = json_arena_new()))
		return fse_nomem(e);
	x->keys = json_arena_alloc(a, (rq->nkeys + 1) * sizeof *x->keys);
	if (!x->keys)
		return fse_nomem(e);
	if (fhits_init(&x->hits, rq, x->natural, e))
		return e->err.code;
	x->need_doc = fsq_needs_body(rq->query);
	for (size_t i = 0; x->hits.k && i < rq->nkeys; i++)
		x->need_doc |= rq->sort[i].kind == FSK_FIELD;
	return 0;
}

static void fx_release(fx *x)
{
	fhits_release(&x->hits);
	json_arena_free(x->da);
}

/* Names several indices (or may): a list, a glob, _all. */
static unsigned fx_flags(const char *index, unsigned flags)
{
	if (!index || !*index || strpbrk(index, ",*?") ||
	    !strcmp(index, "_all"))
		flags |= FSEARCH_MULTI;
	return flags;
}

static void fse_clear(fsearch_error *e)
{
	memset(e, 0, sizeof *e);
	e->status = 200;
	e->type = "";
}

/* The count reply: {"count":N,"_shards":{...}}. */
static int write_count(fx *x, fbuf *out, fsearch_error *e)
{
	size_t mark = out->len;
	int rc = fbuf_addf(out, "{\"count\":%llu,",
			   (unsigned long long)x->total);
	rc = rc ? rc : fx_shards(x, out);
	rc = rc ? rc : fbuf_addc(out, '}');
	if (rc) {
		out->len = mark;
		rc = fse_nomem(e);
	}
	return rc;
}

/* _search (count 0) and _count (count 1): parse, set up, run, reply. */
static int run_request(ferry_db *db, const char *index, const char *body,
		       size_t len, const fsearch_params *url, int count,
		       fbuf *out, fsearch_error *e)
{
	int64_t t0 = fx_now_ms();
	fsearch_req *rq;
	fx x;
	int rc;

	fse_clear(e);
	json_arena *a = json_arena_new();
	if (!a)
		return fse_nomem(e);
	memset(&x, 0, sizeof x);
	if (!(rc = fsearch_parse(a, body, len, url,
				 count ? FSEARCH_COUNT : fx_flags(index, 0), &rq,
				 e)) &&
	    !(rc = fx_setup(&x, db, a, index, rq, e)) &&
	    !(rc = fx_execute(&x))) {
		if (count) {
			rc = write_count(&x, out, e);
		} else {
			fhits_finish(&x.hits);
			rc = fx_write(&x, t0, out);
		}
	}
	fx_release(&x);
	json_arena_free(a);
	return rc;
}

int fsearch_run(ferry_db *db, const char *index, const char *body,
		size_t len, const fsearch_params *url, fbuf *out,
		fsearch_error *e)
{
	return run_request(db, index, body, len, url, 0, out, e);
}

int fsearch_count(ferry_db *db, const char *index, const char *body,
		  size_t len, const fsearch_params *url, fbuf *out,
		  fsearch_error *e)
{
	return run_request(db, index, body, len, url, 1, out, e);
}

/* ------------------------------------------------------------------ */
/* The lower-level entry points (search.h)                              */

int fsearch_matches(const fsearch_req *rq, const json_value *doc,
		    const char *id, size_t idlen)
{
	fsq_doc d = {doc, id, idlen};
	return fsq_match(rq->query, &d);
}

int fsearch_compare(const fsearch_req *rq, const json_value *a,
		    const char *aid, size_t aidlen, const json_value *b,
		    const char *bid, size_t bidlen)
{
	skey ka[64], kb[64];
	size_t n = rq->nkeys < 64 ? rq->nkeys : 64;
	fsort_keys(rq->sort, n, a, aid, aidlen, "", ka);
	fsort_keys(rq->sort, n, b, bid, bidlen, "", kb);
	int c = fsort_cmp(rq->sort, n, ka, kb);
	return c ? c : fs_bytes_cmp(aid, aidlen, bid, bidlen);
}

int fsearch_source(const fsearch_req *rq, const json_value *doc, fbuf *out)
{
	if (rq->source == 0)
		return 0;
	if (rq->source == 1)
		return json_write(doc, out);
	return fsrc_write(rq, doc, out);
}
