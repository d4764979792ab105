/*
 * h_search.c - GET|POST /_search, /{index}/_search, /_count and
 * /{index}/_count, and POST /{index}/_delete_by_query (below: the
 * engine's matcher over an id-ordered scan, deletes committed in
 * batches). A thin layer: the URL parameters Elasticsearch lets
 * override the body (q, df, default_operator, from, size, sort, _source,
 * ...) are handed over as text, %-decoded once by freq_arg() ('+' is a
 * space, so a query's '+' travels as %2B; a bad %-escape in any parameter
 * was answered 400 before the handler runs, http.c), and the engine in
 * src/search (search.h) parses, runs and writes the response; its errors
 * come with their HTTP status and Elasticsearch error type.
 */
#include <stdint.h>
#include <string.h>

#include "json/json.h"
#include "search/search.h"
#include "server/server.h"

static const char *h_index_of(const freq *r)
{
	/* "/{index}/_search" has two segments, "/_search" one */
	return r->nseg >= 2 ? r->seg[0] : NULL;
}

static void h_params(freq *r, fsearch_params *p)
{
	p->from = freq_arg(r, "from");
	p->size = freq_arg(r, "size");
	p->sort = freq_arg(r, "sort");
	p->source = freq_arg(r, "_source");
	p->track_total_hits = freq_arg(r, "track_total_hits");
	p->seq_no_primary_term = freq_arg(r, "seq_no_primary_term");
	p->q = freq_arg(r, "q");
	p->df = freq_arg(r, "df");
	p->default_operator = freq_arg(r, "default_operator");
}

typedef int (*h_search_fn)(ferry_db *db, const char *index, const char *body,
			   size_t len, const fsearch_params *url, fbuf *out,
			   fsearch_error *e);

static void h_run(freq *r, h_search_fn fn)
{
	fsearch_params p;
	fsearch_error e;
	fbuf scoped = FBUF_INIT;
	const char *index = h_index_of(r);

	/* a tenant key searches only its tenant's indices (tenant.c) */
	if (r->tenant[0]) {
		if (freq_index_expr(r, index, &scoped))
			goto out;
		index = scoped.p;
	}
	h_params(r, &p);
	fbuf_clear(&r->out);
	if (fn(r->db, index, r->body, r->body ? r->body_len : 0, &p, &r->out,
	       &e)) {
		freq_error(r, e.status, e.type, "%s", e.err.msg);
		goto out;
	}
	freq_ok(r, 200);
out:
	fbuf_release(&scoped);
}

void h_search(freq *r)
{
	h_run(r, fsearch_run);
}

void h_count(freq *r)
{
	h_run(r, fsearch_count);
}

/* ------------------------------------------------------------------ */
/* _delete_by_query                                                     */

#define DBQ_BATCH 1000 /* deletes a commit */

typedef struct dbq {
	freq *r;
	const char *index;     /* physical */
	fsearch_req *rq;
	json_arena *da;        /* one document at a time */
	ferry_bulk *b;
	uint64_t max;          /* max_docs: stop after this many matches */
	uint64_t total, deleted, batches, scanned;
} dbq;

/* The body's members: "query" (written back alone into *query, for the
 * search parser), "max_docs" (*max) and "conflicts" (ferry has no version
 * conflicts: either value is accepted). 0, or replied 400. */
static int dbq_body(freq *r, json_arena *a, fbuf *query, uint64_t *max)
{
	json_value *b;
	int64_t m;
	if (freq_body_object(r, a, 0, &b) || !b)
		return r->status == 200 ? 0 : -1;
	for (size_t i = 0; i < b->u.obj.n; i++) {
		const json_member *mb = &b->u.obj.m[i];
		const json_value *v = mb->val;
		if (strlen(mb->key) != mb->klen) {
			freq_error(r, 400, "parsing_exception", "a key of the "
				   "_delete_by_query body holds a NUL character");
			return -1;
		} else if (!strcmp(mb->key, "query")) {
			if (fbuf_adds(query, "{\"query\":") ||
			    json_write(v, query) || fbuf_addc(query, '}'))
				goto nomem;
		} else if (!strcmp(mb->key, "max_docs")) {
			if (json_number_int64(v, &m) || m < 1) {
				freq_error(r, 400, "illegal_argument_exception",
					   "max_docs must be a positive integer");
				return -1;
			}
			*max = (uint64_t)m;
		} else if (strcmp(mb->key, "conflicts")) {
			freq_error(r, 400, "parsing_exception", "_delete_by_query "
				   "does not support [%s]: its body holds query, "
				   "max_docs and conflicts", mb->key);
			return -1;
		}
	}
	return 0;
nomem:
	freq_error(r, 503, "out_of_memory_exception", "out of memory");
	return -1;
}

/* Commits the batch; counts what it deleted. 0, or replied. */
static int dbq_flush(dbq *q)
{
	ferry_err err = {0, ""};
	ferry_write_result w;
	size_t n = ferry_bulk_count(q->b);
	int rc;
	if (!n)
		return 0;
	if ((rc = fsrv_bulk_commit(q->r->srv, q->b, &err))) {
		freq_error(q->r, rc == FERRY_EPERM ? 403 : 500, rc == FERRY_EPERM ?
			   "cluster_block_exception" : "exception", "%s (%llu "
			   "documents were deleted before; run it again to "
			   "finish)", err.msg[0] ? err.msg : ferry_strerror(rc),
			   (unsigned long long)q->deleted);
		return -1;
	}
	q->batches++;
	for (size_t i = 0; i < n; i++) {
		rc = ferry_bulk_result(q->b, i, &w, &err);
		if (rc == 0)
			q->deleted++;
		else if (rc != FERRY_ENOTFOUND) { /* gone already: not ours */
			freq_ferr_index(q->r, rc, &err, q->index);
			return -1;
		}
	}
	ferry_bulk_clear(q->b);
	return 0;
}

/* Scans the index in id order and deletes what the query matches. */
static int dbq_run(dbq *q)
{
	ferry_scan *sc = NULL;
	ferry_err err = {0, ""};
	ferry_doc d;
	json_value *doc;
	int rc = ferry_scan_open(q->r->db, q->index, NULL, 0, &sc, &err);
	if (rc) {
		freq_ferr_index(q->r, rc, &err, q->index);
		return -1;
	}
	while ((rc = ferry_scan_next(sc, &d, &err)) == 0) {
		q->scanned++;
		json_arena_reset(q->da);
		if (json_parse(q->da, d.body, d.body_len, &doc, NULL))
			continue; /* not reached: stored bodies are valid */
		if (!fsearch_matches(q->rq, doc, d.id, d.idlen))
			continue;
		if (++q->total > q->max) {
			q->total = q->max;
			break;
		}
		if (ferry_bulk_add(q->b, FERRY_OP_DELETE, q->index, d.id, d.idlen,
				   NULL, 0) ||
		    (ferry_bulk_count(q->b) >= DBQ_BATCH && dbq_flush(q))) {
			if (q->r->status == 200)
				freq_error(q->r, 503, "out_of_memory_exception",
					   "out of memory");
			ferry_scan_free(sc);
			return -1;
		}
	}
	ferry_scan_free(sc);
	if (rc != FERRY_EOF && rc != 0) {
		freq_ferr_index(q->r, rc, &err, q->index);
		return -1;
	}
	return dbq_flush(q);
}

void h_delete_by_query(freq *r)
{
	fsearch_params p;
	fsearch_error e;
	ferry_index_info info;
	ferry_err err;
	char name[FERRY_NAME_MAX + 1];
	dbq q = {r, NULL, NULL, NULL, NULL, UINT64_MAX, 0, 0, 0, 0};
	fbuf query = FBUF_INIT;
	json_arena *a = json_arena_new();
	int64_t t0 = fsrv_mono_us();
	int rc;
	if (!a || !(q.da = json_arena_new()) || ferry_bulk_new(r->db, &q.b)) {
		freq_error(r, 503, "out_of_memory_exception", "out of memory");
		goto out;
	}
	if (freq_index_name(r, r->seg[0], name))
		goto out;
	if ((rc = ferry_index_get(r->db, name, &info, &err))) {
		freq_ferr_index(r, rc, &err, name);
		goto out;
	}
	q.index = info.name;
	h_params(r, &p);
	if (dbq_body(r, a, &query, &q.max) || (!query.len && !p.q)) {
		if (r->status == 200)
			freq_error(r, 400, "action_request_validation_exception",
				   "Validation Failed: 1: query is missing; send "
				   "{\"query\":{...}} (match_all deletes every "
				   "document) or ?q=;");
		goto out;
	}
	if (fsearch_parse(a, query.p, query.len, &p, FSEARCH_COUNT, &q.rq,
			  &e)) {
		freq_error(r, e.status, e.type, "%s", e.err.msg);
		goto out;
	}
	if (dbq_run(&q))
		goto out;
	fbuf_clear(&r->out);
	fbuf_addf(&r->out, "{\"took\":%lld,\"timed_out\":false,\"total\":%llu,"
		  "\"deleted\":%llu,\"batches\":%llu,\"version_conflicts\":0,"
		  "\"noops\":0,\"retries\":{\"bulk\":0,\"search\":0},"
		  "\"throttled_millis\":0,\"requests_per_second\":-1.0,"
		  "\"throttled_until_millis\":0,\"failures\":[]}",
		  (long long)((fsrv_mono_us() - t0) / 1000),
		  (unsigned long long)q.total, (unsigned long long)q.deleted,
		  (unsigned long long)q.batches);
	freq_ok(r, 200);
out:
	fbuf_release(&query);
	ferry_bulk_free(q.b);
	json_arena_free(q.da);
	json_arena_free(a);
}
