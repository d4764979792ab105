/*
 * h_search.c - GET|POST /_search, /{index}/_search, /_count and
 * /{index}/_count. A thin layer: the URL parameters Elasticsearch lets
 * override the body (q, df, default_operator, from, size, sort, _source,
 * ...) are handed over as text, %-decoded once by freq_arg() ('+' is a
 * space, so a query's '+' travels as %2B; a bad %-escape in any parameter
 * was answered 400 before the handler runs, http.c), and the engine in
 * src/search (search.h) parses, runs and writes the response; its errors
 * come with their HTTP status and Elasticsearch error type.
 */
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
