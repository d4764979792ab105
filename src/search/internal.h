/*
 * internal.h - what the files of src/search share: the compiled query
 * (fsq), sort keys and their values (fsort, skey), the parsed request
 * (fsearch_req), the field walker and value comparisons, and error
 * helpers. Everything a request holds lives in its JSON arena.
 *
 *   field.c   field paths into documents, value equality and order
 *   query.c   the query DSL parser              match.c  its evaluation
 *   request.c the search/count body and URL    sort.c   sort keys, hits
 *   source.c  _source filtering                run.c    execution, output
 *   qstring.c the URL query string (q=), turned into query DSL (qstring.h)
 */
#ifndef FERRY_SEARCH_INTERNAL_H
#define FERRY_SEARCH_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "json/json.h"
#include "search/search.h"

/* ------------------------------------------------------------------ */
/* Errors                                                              */

int fse_set(fsearch_error *e, int status, const char *type, int code,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* 400 parsing_exception / illegal_argument_exception, FERRY_EINVAL. */
#define FSE_PARSE(e, ...) \
	fse_set((e), 400, "parsing_exception", FERRY_EINVAL, __VA_ARGS__)
#define FSE_ARG(e, ...) \
	fse_set((e), 400, "illegal_argument_exception", FERRY_EINVAL, \
		__VA_ARGS__)
/* From a failed ferry call: ENOTFOUND -> 404, ENOMEM -> 500, ... */
int fse_ferry(fsearch_error *e, int code, const ferry_err *fe);
int fse_nomem(fsearch_error *e);
/* "an object", "a string", ... for messages. */
const char *fs_type_name(const json_value *v);

/* ------------------------------------------------------------------ */
/* Fields and values (field.c)                                         */

typedef struct fs_str {
	const char *s;
	size_t len;
} fs_str;

typedef struct fsq_field {
	const char *path; /* dotted: "a.b" names {"a":{"b":..}} or {"a.b":..} */
	size_t len;
	int is_id;        /* the document id ("_id") */
	size_t kwlen;     /* path ends in ".keyword": its length without it,
			     tried when the full path finds nothing; else 0 */
} fsq_field;

/* Called for every value found at a path, arrays flattened (null
 * values skipped); returns 1 to stop the walk. */
typedef int (*fs_visit_fn)(void *ctx, const json_value *v);
/* Walks `f` in `doc`: returns 1 if fn stopped it, else 0; *seen (may be
 * NULL) is set to 1 when any value was found. */
int fs_field_visit(const json_value *doc, const fsq_field *f, fs_visit_fn fn,
		   void *ctx, int *seen);
void fs_field_init(fsq_field *f, const char *path, size_t len);

/* A number's value, exact for integers up to 64 bits. 0 or -1. */
int fs_num(const json_value *v, long double *out);
/* A string that is exactly a JSON number, as a number. 0 or -1. */
int fs_str_num(const char *s, size_t len, long double *out);
/* Byte-wise order of two strings (shorter first on a common prefix). */
int fs_bytes_cmp(const char *a, size_t al, const char *b, size_t bl);
/* Same with ASCII letters folded to lower case. */
int fs_bytes_cmp_ci(const char *a, size_t al, const char *b, size_t bl);
int fs_numcmp(long double a, long double b);
/* 1 if the value holds anything (not null, an empty array, or an
 * object of such). */
int fs_has_value(const json_value *v);
/* Glob with '*' (any run of bytes) and '?' (one byte). */
int fs_glob(const char *pat, size_t pl, const char *s, size_t sl);

/* ------------------------------------------------------------------ */
/* Queries (query.c, match.c)                                          */

typedef enum fsq_kind {
	FSQ_ALL,
	FSQ_NONE,
	FSQ_TERMS,   /* term, terms, ids */
	FSQ_RANGE,
	FSQ_EXISTS,
	FSQ_PREFIX,
	FSQ_BOOL
} fsq_kind;

/* A term set, sorted for binary search. A string term that reads as a
 * number is also in `nums`, "true"/"false" also in `bools`. */
typedef struct fsq_terms {
	fs_str *strs;
	size_t nstr;
	long double *nums;
	size_t nnum;
	unsigned bools; /* bit 0: false, bit 1: true */
	int ci;         /* case_insensitive (ASCII) */
} fsq_terms;

typedef struct fsq_bound {
	int set, incl;
	int is_num;        /* a number bound (or a numeric string: num_ok) */
	int num_ok;        /* `num` is valid */
	long double num;
	fs_str s;          /* a string bound's bytes */
} fsq_bound;

enum { FSB_MUST, FSB_FILTER, FSB_SHOULD, FSB_MUST_NOT, FSB_N };

typedef struct fsq fsq;
struct fsq {
	fsq_kind kind;
	fsq_field f;
	union {
		fsq_terms t;
		struct { fsq_bound lo, hi; } r;
		struct { fs_str p; int ci; } pre;
		struct {
			fsq **c[FSB_N];
			size_t n[FSB_N];
			size_t msm; /* should clauses that must match */
		} b;
	} u;
};

/* Parses the query object `v` ("query" of a body); `where` names it in
 * messages. *clauses counts against FSEARCH_MAX_CLAUSES. */
int fsq_parse(json_arena *a, const json_value *v, const char *where,
	      size_t *clauses, fsq **out, fsearch_error *e);

typedef struct fsq_doc {
	const json_value *doc; /* NULL when the query needs no body */
	const char *id;
	size_t idlen;
} fsq_doc;

int fsq_match(const fsq *q, const fsq_doc *d);
/* 1 if evaluating q reads the document body (not only its id). */
int fsq_needs_body(const fsq *q);
/* 0 when the raw body `text` certainly does not match (a required term or
 * prefix does not occur in it as a JSON string), else 1. Lets a scan
 * skip parsing most documents of a selective term query. */
int fsq_prefilter(const fsq *q, const char *text, size_t len);
/* 1 for a query that matches every document. */
int fsq_is_all(const fsq *q);
/* If q only matches ids from a finite list (ids, term(s) on _id, in a
 * must/filter of a bool), the smallest such list; else NULL. */
const fsq_terms *fsq_candidates(const fsq *q);
/* Id range bounds implied by q (range or prefix on _id in q itself or a
 * must/filter); lo/hi/prefix are left untouched when not implied. */
void fsq_id_bounds(const fsq *q, const fsq_bound **lo, const fsq_bound **hi,
		   const fs_str **prefix);
/* 1 if an id lies inside a lower / upper bound. */
int fsq_bound_lo_ok(const fsq_bound *b, const char *id, size_t len);
int fsq_bound_hi_ok(const fsq_bound *b, const char *id, size_t len);

/* ------------------------------------------------------------------ */
/* Sort (sort.c)                                                       */

enum fsort_kind { FSK_FIELD, FSK_ID, FSK_DOC, FSK_SCORE, FSK_INDEX };
enum skey_type { SKV_NUM = 0, SKV_STR = 1, SKV_BOOL = 2, SKV_MISSING = 3 };

typedef struct fsort {
	enum fsort_kind kind;
	fsq_field f;
	int desc;
	int missing_first;
	int mode_max;              /* an array sorts by its max, else min */
	const json_value *missing; /* a replacement value, or NULL */
} fsort;

/* One sort value of one document. Strings and number lexemes point into
 * the document's arena (or a hit's own memory once kept). */
typedef struct skey {
	int type;        /* SKV_* */
	int b;           /* SKV_BOOL */
	long double num; /* SKV_NUM */
	fs_str s;        /* SKV_STR: bytes; SKV_NUM: the lexeme for output */
} skey;

/* Computes the sort values of `doc` (may be NULL when no key reads it)
 * in index `index`. */
void fsort_keys(const fsort *keys, size_t n, const json_value *doc,
		const char *id, size_t idlen, const char *index, skey *out);
/* Order of two documents' keys, direction and missing placement applied. */
int fsort_cmp(const fsort *keys, size_t n, const skey *a, const skey *b);
/* Order of one value pair under sort key k. */
int fsort_cmp1(const fsort *k, const skey *a, const skey *b);
/* The search_after value `v` as a key value for sort key k. */
int fsort_after_value(const fsort *k, const json_value *v, size_t i,
		      skey *out, fsearch_error *e);
/* Appends a key value as JSON (a sort value in a hit). */
int skey_write(const skey *k, fbuf *out);

/* One collected hit: its id, sort values and (when _source is wanted
 * and it can be shown) body, copied into its own block `mem`. */
typedef struct fhit {
	char *mem;
	size_t cap;
	const char *id;
	size_t idlen;
	const char *body; /* NULL when not kept */
	size_t blen;
	uint64_t seq;
	uint32_t ix;      /* which of the searched indices */
	skey *keys;       /* rq->nkeys values */
} fhit;

/* The hits of a search: the best from+size under the sort order (a
 * max-heap with the worst kept hit on top, so memory stays bounded by
 * from+size), or in natural order the first from+size that come. */
typedef struct fhits {
	const struct fsearch_req *rq;
	fhit **v;
	size_t n, k;
	int heap;
} fhits;

/* `natural`: hits arrive in their final order (no heap). */
int fhits_init(fhits *h, const struct fsearch_req *rq, int natural,
	       fsearch_error *e);
/* 1 if a document with these keys comes after search_after (or there is
 * none). */
int fhits_after_ok(const fhits *h, const skey *keys, const char *id,
		   size_t idlen);
/* Offers a matching document. Returns 0 (kept or not) or FERRY_ENOMEM.
 * The body is copied only when kept and `body` is non-NULL; a natural
 * order hit before `from` never keeps it. */
int fhits_offer(fhits *h, const skey *keys, const char *id, size_t idlen,
		uint32_t ix, uint64_t seq, const char *body, size_t blen);
/* 1 when no later document in natural order can be kept. */
int fhits_full(const fhits *h);
/* Puts the hits in their final order (v[0] first). */
void fhits_finish(fhits *h);
void fhits_release(fhits *h);

/* ------------------------------------------------------------------ */
/* The request (request.c)                                             */

typedef struct fsrc_pats {
	fs_str *v;
	size_t n;
} fsrc_pats;

struct fsearch_req {
	int count;            /* a _count request */
	fsq *query;           /* query AND post_filter, never NULL */
	int64_t from, size;
	fsort *sort;          /* user keys, then the implicit tie-breaks */
	size_t nsort;         /* user keys; 0: no sort (id order) */
	size_t nkeys;         /* keys compared: nsort, + the _id tie-break
				 unless the last key is _id/_doc, + the
				 index name with FSEARCH_MULTI */
	int natural;          /* hits come in scan order (id ascending) */
	skey *after;          /* search_after values */
	size_t nafter;        /* 0: none; nsort .. nkeys */
	fs_str after_id;      /* natural order: the id hits start after */
	int has_after_id;
	int track;            /* count hits at all */
	uint64_t limit;       /* count up to this many (UINT64_MAX: all) */
	int source;           /* 0 no _source, 1 whole, 2 filtered */
	fsrc_pats incl, excl;
	int seq_no;           /* seq_no_primary_term */
	int scores;           /* report _score 1.0 (unsorted or track_scores) */
};

/* ------------------------------------------------------------------ */
/* _source filtering (source.c)                                        */

int fsrc_write(const fsearch_req *rq, const json_value *doc, fbuf *out);

#endif
