/*
 * fuzz_query.c - libFuzzer target for the search engine (src/search): the
 * input is a _search body run against a small real data dir (made once in
 * a temp dir, removed at exit). Besides memory safety it checks:
 *  - a failed request has a 400/404/500 status, a type and a reason, and
 *    leaves the output untouched; a successful one writes valid JSON
 *    with at most `size` hits;
 *  - the engine (direct gets, bounded scans, early stops) counts exactly
 *    the documents that brute-force evaluation of the parsed query over
 *    every document matches, through both _search and _count;
 *  - hits come in the request's sort order (fsearch_compare), and the
 *    order is antisymmetric; _source filtering writes valid JSON.
 * An input starting with '#' and a digit picks another index expression
 * (lists, globs, a missing index) for the body that follows.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry/ferry.h"
#include "json/json.h"
#include "search/search.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "check failed: %s (line %d)\n", #x, __LINE__); abort(); } } while (0)

static const char *const DOCS_T[][2] = {
	{"a", "{\"n\":1,\"s\":\"x\",\"w\":\"hello world\",\"arr\":[1,\"2\",[3]],\"o\":{\"p\":{\"q\":true}},"
	      "\"d.k\":\"v\"}"},
	{"aa", "{\"n\":2.5,\"s\":\"Y\",\"w\":[\"hel\",\"help\"],\"arr\":[],\"o\":{\"p\":[{\"q\":false},"
	       "{\"q\":null}]}}"},
	{"b", "{\"n\":\"3\",\"s\":null,\"t\":[\"a\",\"b\",\"c\"],"
	      "\"big\":12345678901234567890}"},
	{"c", "{\"s\":\"\",\"o\":{},\"n\":-0.0,\"d\":{\"k\":\"v\"}}"},
	{"d", "{\"n\":1e400,\"s\":\"x\",\"t\":\"a\"}"},
	{"e", "{\"s\":\"\\u00e9\\ud83d\\ude00\",\"w\":\"he\\u006clo\",\"n\":1,\"t\":[[\"b\"]],\"b\":true}"},
	{"f", "{\"n\":10,\"s\":\"X\",\"w\":\"Hello\",\"b\":\"true\",\"o\":{\"p\":{\"q\":\"true\"}}}"},
	{"g", "{}"},
};
#define NT (sizeof DOCS_T / sizeof DOCS_T[0])

static const char *const INDEX_EXPR[] = {
	"t", "u", "t,u", "*", "nope", "v0_1_0.default.t", "*,-*.u", "_all",
	"default.t", "t,t",
};

static char dir[256];
static ferry_db *db;
static json_value *docs[NT];
static json_arena *docs_arena;

static int rm_one(const char *p, const struct stat *st, int f, struct FTW *w)
{
	(void)st, (void)f, (void)w;
	return remove(p);
}

static void cleanup(void)
{
	ferry_db_close(db);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void put(const char *index, const char *id, const char *body)
{
	ferry_err err;
	ferry_write_result r;
	CHECK(ferry_doc_put(db, index, id, strlen(id), body, strlen(body),
			    FERRY_OP_INDEX, &r, &err) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	ferry_err err;
	(void)argc, (void)argv;
	snprintf(dir, sizeof dir, "/tmp/ferry-fuzzq-XXXXXX");
	CHECK(mkdtemp(dir));
	CHECK(ferry_db_open(dir, FERRY_OPEN_CREATE | FERRY_OPEN_NOSYNC, &db,
			    &err) == 0);
	CHECK(ferry_db_init(db, "0.1.0", 0, &err) == 0);
	CHECK(ferry_index_create(db, "t", NULL, 0, &err) == 0);
	CHECK(ferry_index_create(db, "u", NULL, 0, &err) == 0);
	docs_arena = json_arena_new();
	for (size_t i = 0; i < NT; i++) {
		put("t", DOCS_T[i][0], DOCS_T[i][1]);
		CHECK(json_parse(docs_arena, DOCS_T[i][1], strlen(DOCS_T[i][1]),
				 &docs[i], NULL) == 0);
	}
	put("u", "a", "{\"n\":5}");
	put("u", "z", "{\"n\":[5,6],\"s\":\"x\"}");
	atexit(cleanup);
	return 0;
}

static const json_value *doc_by_id(const char *id)
{
	for (size_t i = 0; i < NT; i++)
		if (!strcmp(DOCS_T[i][0], id))
			return docs[i];
	return NULL;
}

static void check_error(const fsearch_error *e, int rc, const fbuf *out,
			size_t before)
{
	CHECK(rc != 0);
	CHECK(e->status == 400 || e->status == 404 || e->status == 500);
	CHECK(e->type && e->type[0]);
	CHECK(e->err.msg[0]);
	CHECK(e->err.code == rc);
	CHECK(out->len == before);
}

/* Brute force over index "t": how many documents the parsed query
 * matches; and the _source option writes valid JSON for each. */
static uint64_t brute(const fsearch_req *rq, json_arena *a)
{
	uint64_t n = 0;
	for (size_t i = 0; i < NT; i++) {
		const char *id = DOCS_T[i][0];
		int m = fsearch_matches(rq, docs[i], id, strlen(id));
		CHECK(m == 0 || m == 1);
		n += (uint64_t)m;
		CHECK(fsearch_compare(rq, docs[i], id, strlen(id), docs[i], id,
				      strlen(id)) == 0);
		for (size_t k = 0; k < NT; k++) {
			const char *o = DOCS_T[k][0];
			int c1 = fsearch_compare(rq, docs[i], id, strlen(id),
						 docs[k], o, strlen(o));
			int c2 = fsearch_compare(rq, docs[k], o, strlen(o),
						 docs[i], id, strlen(id));
			CHECK((c1 > 0) == (c2 < 0) && (c1 == 0) == (c2 == 0));
		}
		fbuf b = FBUF_INIT;
		int rc = fsearch_source(rq, docs[i], &b);
		CHECK(rc == 0 || rc == FERRY_ENOMEM);
		if (rc == 0 && b.len)
			CHECK(json_validate(b.p, b.len, NULL) == 0);
		fbuf_release(&b);
	}
	(void)a;
	return n;
}

/* Hits of a successful search on "t": in sort order, at most `size`. */
static void check_hits(const fsearch_req *rq, const fbuf *out, json_arena *a,
		       int64_t *total, int *eq)
{
	json_value *root, *hits;
	CHECK(json_parse(a, out->p, out->len, &root, NULL) == 0);
	hits = json_path_get(root, "hits.hits");
	CHECK(hits && hits->type == JSON_ARRAY);
	json_value *tv = json_path_get(root, "hits.total.value");
	*total = tv ? json_int_member(json_path_get(root, "hits.total"),
				      "value", -1) : -1;
	*eq = !strcmp(json_str_member(json_path_get(root, "hits.total"),
				      "relation", ""), "eq");
	const json_value *prev = NULL;
	const char *prev_id = NULL;
	for (size_t i = 0; i < hits->u.arr.n; i++) {
		const char *id = json_str_member(hits->u.arr.v[i], "_id", NULL);
		CHECK(id);
		const json_value *d = doc_by_id(id);
		CHECK(d);
		CHECK(fsearch_matches(rq, d, id, strlen(id)) == 1);
		if (prev)
			CHECK(fsearch_compare(rq, prev, prev_id, strlen(prev_id),
					      d, id, strlen(id)) < 0);
		prev = d;
		prev_id = id;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	const char *index = "t";
	fsearch_error e;
	fsearch_req *rq = NULL;
	fbuf out = FBUF_INIT;

	if (size > 1 << 16)
		return 0;
	if (size >= 2 && data[0] == '#' && data[1] >= '0' && data[1] <= '9') {
		index = INDEX_EXPR[data[1] - '0'];
		body += 2;
		size -= 2;
	}
	json_arena *a = json_arena_new();
	CHECK(a);
	int prc = fsearch_parse(a, body, size, NULL, 0, &rq, &e);
	if (prc)
		check_error(&e, prc, &out, 0);

	fbuf_adds(&out, "x");
	int rc = fsearch_run(db, index, body, size, NULL, &out, &e);
	if (rc) {
		check_error(&e, rc, &out, 1);
	} else {
		CHECK(json_validate(out.p + 1, out.len - 1, NULL) == 0);
	}
	if (!rc && !prc && !strcmp(index, "t")) {
		fbuf o2 = FBUF_INIT;
		int64_t total;
		int eq = 0;
		fbuf_add(&o2, out.p + 1, out.len - 1);
		check_hits(rq, &o2, a, &total, &eq);
		uint64_t want = brute(rq, a);
		if (total >= 0 && eq)
			CHECK((uint64_t)total == want);
		if (total >= 0 && !eq) /* "gte": capped by track_total_hits */
			CHECK((uint64_t)total < want);
		fbuf_release(&o2);

		/* _count over the same query agrees with brute force */
		fsearch_req *cq;
		json_arena *ca = json_arena_new();
		json_value *root;
		if (json_parse(ca, body, size, &root, NULL) == 0 &&
		    root->type == JSON_OBJECT && root->u.obj.n == 1 &&
		    !strcmp(root->u.obj.m[0].key, "query") &&
		    fsearch_parse(ca, body, size, NULL, FSEARCH_COUNT, &cq,
				  &e) == 0) {
			fbuf co = FBUF_INIT;
			json_value *cv;
			CHECK(fsearch_count(db, index, body, size, NULL, &co,
					    &e) == 0);
			CHECK(json_parse(ca, co.p, co.len, &cv, NULL) == 0);
			CHECK(json_int_member(cv, "count", -1) == (int64_t)want);
			fbuf_release(&co);
		}
		json_arena_free(ca);
	} else if (!rc && prc && !strcmp(index, "t")) {
		abort(); /* the engine accepted what the parser refused */
	}
	fbuf_release(&out);
	json_arena_free(a);
	return 0;
}
