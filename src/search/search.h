/*
 * search.h - the search engine behind ferryd's `_search` and `_count`: an
 * Elasticsearch-compatible subset of the query DSL evaluated over ferry's
 * ordered scan. Internal to ferry (the HTTP layer calls it; the public
 * API in ferry.h does not expose it), kept free of HTTP so that unit tests
 * and the fuzzer drive it directly.
 *
 * What is supported (docs/rest-api.md, "Search", is the user manual):
 *  - queries: match_all, match_none, term, terms, ids, range, exists,
 *    prefix, bool (must, filter, should, must_not, minimum_should_match),
 *    constant_score; `_id` is a field like any other;
 *  - the URL query string q= (qstring.h), translated into those queries;
 *  - from / size (from + size <= FSEARCH_MAX_WINDOW), sort (fields,
 *    `_id`, `_doc`, `_score`), search_after, track_total_hits, _source
 *    filtering, post_filter, seq_no_primary_term, track_scores.
 * Fields are compared like Elasticsearch keyword, numeric and boolean
 * fields, without text analysis; scores are a constant 1.0.
 *
 * Conventions: functions return 0 or a FERRY_E* code; on error the
 * caller's fsearch_error says which HTTP status and Elasticsearch error
 * type to answer with, and why (what, where, how to fix). `out` buffers
 * are appended to only on success.
 */
#ifndef FERRY_SEARCH_H
#define FERRY_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "ferry/ferry.h"

#define FSEARCH_MAX_WINDOW 10000     /* index.max_result_window */
#define FSEARCH_DEFAULT_SIZE 10
#define FSEARCH_DEFAULT_TOTAL 10000  /* track_total_hits default */
#define FSEARCH_MAX_TERMS 65536      /* index.max_terms_count */
#define FSEARCH_MAX_CLAUSES 4096     /* clauses in one request */
#define FSEARCH_MAX_INDICES 1024     /* indices one request may name */

/* Why a call failed, ready for freq_error(r, status, type, "%s",
 * err.msg). `type` is a static string. */
typedef struct fsearch_error {
	int status;       /* 400 bad request, 404 no such index, 500 */
	const char *type; /* "parsing_exception", "illegal_argument_exception",
			     "index_not_found_exception", "parse_exception",
			     "query_shard_exception" (a bad q), "exception" */
	ferry_err err;    /* code: FERRY_EINVAL for a bad request, else the
			     code of the failing ferry call; and the reason */
} fsearch_error;

/* URL query parameters that Elasticsearch lets override the body: each is
 * the raw (decoded) text, or NULL when absent. `q` is a query string
 * (qstring.h) that takes the place of the body's "query" (a request with
 * both is refused); `df` and `default_operator` only matter with `q`. */
typedef struct fsearch_params {
	const char *from;
	const char *size;
	const char *sort;             /* "f1:desc,f2,_id:asc" */
	const char *source;           /* _source: "false", "true", "a,b.*" */
	const char *track_total_hits; /* "true", "false" or a number */
	const char *seq_no_primary_term;
	const char *q;                /* "name:ann AND age:>=30" */
	const char *df;               /* the field of bare values in q */
	const char *default_operator; /* "AND" or "OR" (default) */
} fsearch_params;

/* Runs a search. `index` is an index name, an alias, or a comma-separated
 * list of them where each item may be a glob (`*`, `?`), "_all", or an
 * exclusion "-pattern"; NULL or "" means "_all". `body` (len bytes, may
 * be NULL when len is 0) is the JSON request body; `url` may be NULL.
 * Appends the Elasticsearch search response to `out`. Errors:
 * FERRY_EINVAL / FERRY_EJSON for a bad request (400), FERRY_ENOTFOUND
 * for an index that does not exist (404), else the storage error. */
int fsearch_run(ferry_db *db, const char *index, const char *body,
		size_t len, const fsearch_params *url, fbuf *out,
		fsearch_error *e);

/* Counts matches: the body may only hold "query". Appends
 * {"count":N,"_shards":{...}} to `out`. Same errors as fsearch_run(). */
int fsearch_count(ferry_db *db, const char *index, const char *body,
		  size_t len, const fsearch_params *url, fbuf *out,
		  fsearch_error *e);

/* ------------------------------------------------------------------ */
/* Lower level, for tests and the fuzzer: a parsed request on its own.  */

struct json_arena;
struct json_value;
typedef struct fsearch_req fsearch_req;

#define FSEARCH_COUNT 0x1 /* a _count request: only "query" */
#define FSEARCH_MULTI 0x2 /* over several indices: sorted hits get the
			     index name as a last tie-break sort value */

/* Parses a search or count request (flags FSEARCH_*) into `a`; the
 * request lives until the arena is reset or freed. */
int fsearch_parse(struct json_arena *a, const char *body, size_t len,
		  const fsearch_params *url, unsigned flags, fsearch_req **out,
		  fsearch_error *e);

/* 1 if the request's query (and post_filter) matches document `doc` (a
 * parsed JSON object) with id `id`, else 0. */
int fsearch_matches(const fsearch_req *rq, const struct json_value *doc,
		    const char *id, size_t idlen);

/* Compares two documents in the request's sort order (its sort keys,
 * then id): <0 if a comes first, >0 if b does, 0 if they tie. */
int fsearch_compare(const fsearch_req *rq, const struct json_value *a,
		    const char *aid, size_t aidlen,
		    const struct json_value *b, const char *bid,
		    size_t bidlen);

/* Appends the document as the request's _source option shows it (the
 * whole object, the filtered object, or nothing when _source is false;
 * returns 0 and appends nothing then). */
int fsearch_source(const fsearch_req *rq, const struct json_value *doc,
		   fbuf *out);

#endif
