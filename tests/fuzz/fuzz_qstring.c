/*
 * fuzz_qstring.c - libFuzzer target for the URL query-string parser
 * (src/search/qstring.c). The first input byte picks the options (bit 0:
 * default_operator AND, bit 1: df=name), the rest is q. Besides memory
 * safety it checks:
 *  - a refused q gets 400 query_shard_exception with a reason that shows
 *    the query, is valid UTF-8, and names an offset inside q;
 *  - an accepted q becomes a query DSL that writes as valid JSON, parses
 *    back to the same tree, and that query.c accepts (unless it has more
 *    clauses than a request may hold);
 *  - "(q)" is the same query as q, and on every test document "-(q)"
 *    matches exactly when q does not;
 *  - the request path (fsearch_parse with the q parameter) agrees with
 *    the parser on what is accepted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "search/internal.h"
#include "search/qstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "check failed: %s (line %d)\n", #x, __LINE__); abort(); } } while (0)

static const char *const DOCS[] = {
	"{\"name\":\"ann\",\"a\":1,\"b\":\"2\",\"c\":[3,\"x\"],\"t\":true,\"n\":{\"d\":\"PL\"}}",
	"{\"name\":\"Bob Lee\",\"a\":\"1\",\"b\":2.0,\"c\":null,\"t\":\"true\",\"n.d\":\"x\"}",
	"{\"name\":[\"a:b\",\"a*\"],\"a\":-3,\"z\":\"0150\",\"t\":false}",
	"{}",
};
#define ND (sizeof DOCS / sizeof DOCS[0])

static void check_error(const fsearch_error *e, int rc, const char *q,
			size_t n)
{
	CHECK(rc == FERRY_EINVAL || rc == FERRY_ENOMEM);
	if (rc == FERRY_ENOMEM)
		return;
	CHECK(e->status == 400);
	CHECK(!strcmp(e->type, "query_shard_exception"));
	CHECK(!strncmp(e->err.msg, "Failed to parse query [", 23));
	CHECK(strstr(e->err.msg, "]: q: "));
	const char *off = strstr(e->err.msg, "at offset ");
	if (off && !memmem(q, n, "offset", 6)) /* not one q itself shows */
		CHECK(strtoull(off + 10, NULL, 10) <= n);
	fbuf b = FBUF_INIT;
	CHECK(fbuf_add_jstr(&b, e->err.msg, strlen(e->err.msg)) == 0);
	CHECK(json_validate(b.p, b.len, NULL) == 0);
	fbuf_release(&b);
}

/* q's DSL written to `out`; 0, or the parser's code. */
static int dsl(json_arena *a, const char *q, size_t n, const fqs_opts *o,
	       json_value **v, fbuf *out)
{
	fsearch_error e;
	int rc = fqs_parse(a, q, n, o, v, &e);
	if (rc) {
		check_error(&e, rc, q, n);
		return rc;
	}
	CHECK(json_write(*v, out) == 0);
	return 0;
}

/* What q's DSL matches on each document: a bit per document; -1 when
 * query.c refuses it (too many clauses). */
static int matches(json_arena *a, json_value *v, json_value **docs)
{
	fsearch_error e;
	size_t clauses = 0;
	fsq *q;
	int bits = 0;
	if (fsq_parse(a, v, "q", &clauses, &q, &e)) {
		CHECK(strstr(e.err.msg, "too many query clauses"));
		return -1;
	}
	for (size_t i = 0; i < ND; i++) {
		fsq_doc d = {docs[i], "d1", 2};
		int m = fsq_match(q, &d);
		CHECK(m == 0 || m == 1);
		bits |= m << i;
	}
	return bits;
}

/* q wrapped as pre + q + ")". */
static char *wrap(const char *pre, const char *q, size_t n, size_t *len)
{
	size_t pl = strlen(pre);
	char *w = malloc(pl + n + 2);
	CHECK(w);
	memcpy(w, pre, pl);
	if (n)
		memcpy(w + pl, q, n);
	w[pl + n] = ')';
	*len = pl + n + 1;
	return w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	fqs_opts o = {data[0] & 2 ? "name" : NULL, data[0] & 1};
	const char *q = (const char *)data + 1;
	size_t n = size - 1, wl;
	json_arena *a = json_arena_new();
	json_value *v, *v2, *docs[ND];
	fbuf w = FBUF_INIT, w2 = FBUF_INIT;
	CHECK(a);
	for (size_t i = 0; i < ND; i++)
		CHECK(json_parse(a, DOCS[i], strlen(DOCS[i]), &docs[i], NULL) == 0);

	int rc = dsl(a, q, n, &o, &v, &w);

	/* the request path agrees (it takes a NUL-terminated q) */
	if (!memchr(q, 0, n)) {
		char *z = malloc(n + 1);
		fsearch_params p = {.q = z, .df = o.df,
				    .default_operator = o.and_default ? "and" : NULL};
		fsearch_req *rq;
		fsearch_error e;
		CHECK(z);
		memcpy(z, q, n);
		z[n] = 0;
		int r2 = fsearch_parse(a, NULL, 0, &p, 0, &rq, &e);
		if (rc)
			CHECK(r2 == rc);
		else
			CHECK(r2 == 0 || strstr(e.err.msg, "too many query clauses"));
		free(z);
	}
	if (rc)
		goto out;

	/* the DSL round-trips through JSON text */
	CHECK(json_parse(a, w.p, w.len, &v2, NULL) == 0);
	CHECK(json_equal(v, v2));
	int m = matches(a, v, docs);

	/* (q) is q */
	char *pq = wrap("(", q, n, &wl);
	fbuf_clear(&w2);
	if (dsl(a, pq, wl, &o, &v2, &w2) == 0)
		CHECK(w.len == w2.len && !memcmp(w.p, w2.p, w.len));
	free(pq);

	/* -(q) is its complement */
	pq = wrap("-(", q, n, &wl);
	fbuf_clear(&w2);
	if (m >= 0 && dsl(a, pq, wl, &o, &v2, &w2) == 0) {
		int nm = matches(a, v2, docs);
		if (nm >= 0)
			CHECK(nm == (~m & ((1 << ND) - 1)));
	}
	free(pq);
out:
	fbuf_release(&w);
	fbuf_release(&w2);
	json_arena_free(a);
	return 0;
}
