/*
 * test_search.c - the search engine (src/search) on a real LMDB data dir:
 * every query type, arrays, dotted keys and missing fields, type
 * coercion, sort asc/desc with ties and missing values, search_after
 * paging that visits every document exactly once, from/size edges,
 * track_total_hits, _source filtering, several indices, _count, and bad
 * requests with their Elasticsearch error types.
 *
 * One data dir for the whole group: index "t" holds the ten documents of
 * DOCS below; tests that need more create their own indices.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "json/json.h"
#include "search/search.h"
#include "testutil.h"

static const char *const DOCS[][2] = {
	{"p01", "{\"name\":\"Ann\",\"age\":30,\"tags\":[\"red\",\"blue\"],"
		"\"city\":\"Oslo\",\"at\":\"2024-01-05T10:00:00Z\",\"vip\":true,"
		"\"addr\":{\"zip\":\"0150\",\"street\":\"Main\"},"
		"\"kids\":[{\"name\":\"Al\",\"age\":3},{\"name\":\"Bo\",\"age\":7}]}"},
	{"p02", "{\"name\":\"bob\",\"age\":25,\"tags\":[\"green\"],"
		"\"city\":\"Bergen\",\"at\":\"2024-02-01T00:00:00Z\",\"vip\":false}"},
	{"p03", "{\"name\":\"Cid\",\"age\":\"30\",\"tags\":[],\"city\":null,"
		"\"at\":\"2023-12-31T23:59:59Z\"}"},
	{"p04", "{\"name\":\"Dee\",\"age\":41.5,\"tags\":\"red\",\"city\":\"Oslo\","
		"\"a.b\":1}"},
	{"p05", "{\"name\":\"Eve\",\"age\":25,\"city\":\"Oslo\",\"vip\":true,"
		"\"a\":{\"b\":2}}"},
	{"p06", "{\"name\":\"Fay\"}"},
	{"p07", "{\"name\":\"Gus\",\"age\":19,\"tags\":[\"blue\",[\"red\"]],"
		"\"city\":\"Troms\xc3\xb8\"}"},
	{"p08", "{\"name\":\"ann\",\"age\":-3,"
		"\"nested\":{\"deep\":{\"x\":[1,2,{\"y\":\"z\"}]}}}"},
	{"p09", "{\"name\":\"Ida\",\"age\":1e2,\"score\":12345678901234567}"},
	{"p10", "{\"name\":\"Jo\",\"age\":30,\"score\":12345678901234568}"},
};
#define NDOCS (sizeof DOCS / sizeof DOCS[0])
#define ALL "p01,p02,p03,p04,p05,p06,p07,p08,p09,p10"

static int group_setup(void **state)
{
	tdb *t = calloc(1, sizeof *t);
	if (!t)
		return -1;
	t_setup(t, "search", "0.1.0");
	t_create(t->db, "t");
	for (size_t i = 0; i < NDOCS; i++)
		t_put(t->db, "t", DOCS[i][0], DOCS[i][1]);
	*state = t;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Running a search and reading its response                            */

typedef struct res {
	json_arena *a;
	json_value *root;
	char ids[65536];  /* hit ids joined with ',' */
	int64_t total;    /* -1 when hits.total is absent */
	const char *rel;
	size_t nhits;
	fsearch_error e;
	int rc;
} res;

static res last_res; /* the last response, freed by the next search */

static void res_free(res *r)
{
	json_arena_free(r->a);
	memset(r, 0, sizeof *r);
}

static int group_teardown(void **state)
{
	res_free(&last_res);
	return t_state_teardown(state);
}

static json_value *at(const json_value *v, const char *path)
{
	return (json_value *)json_path_get(v, path);
}

static void res_read(res *r, const char *text, size_t len)
{
	json_value *hits;
	r->a = json_arena_new();
	if (json_parse(r->a, text, len, &r->root, NULL))
		fail_msg("response is not JSON: %s", text);
	r->total = -1;
	r->rel = "";
	json_value *tot = at(r->root, "hits.total.value");
	if (tot)
		r->total = json_int_member(at(r->root, "hits.total"), "value", -1);
	r->rel = json_str_member(at(r->root, "hits.total"), "relation", "");
	hits = at(r->root, "hits.hits");
	if (!hits)
		return;
	r->nhits = hits->u.arr.n;
	for (size_t i = 0; i < hits->u.arr.n; i++) {
		const char *id = json_str_member(hits->u.arr.v[i], "_id", "?");
		if (i)
			strcat(r->ids, ",");
		strncat(r->ids, id, sizeof r->ids - strlen(r->ids) - 2);
	}
}

/* Runs a search; a failure is kept in r->rc / r->e. */
static res *srch_p(void **state, const char *index, const char *body,
		   const fsearch_params *p)
{
	tdb *t = *state;
	res *rp = &last_res, r;
	fbuf out = FBUF_INIT;
	res_free(rp);
	memset(&r, 0, sizeof r);
	r.rc = fsearch_run(t->db, index, body, body ? strlen(body) : 0, p,
			   &out, &r.e);
	if (r.rc == 0)
		res_read(&r, out.p, out.len);
	else if (out.len)
		fail_msg("error %d left output: %s", r.rc, out.p);
	fbuf_release(&out);
	*rp = r;
	return rp;
}

static res *srch(void **state, const char *body)
{
	return srch_p(state, "t", body, NULL);
}

/* The ids a query over "t" finds (in id order: no sort). */
static const char *ids_of(void **state, const char *query)
{
	char body[2048];
	snprintf(body, sizeof body, "{\"query\":%s,\"size\":100}", query);
	res *r = srch(state, body);
	if (r->rc)
		fail_msg("%s -> %d %s: %s", query, r->rc, r->e.type,
			 r->e.err.msg);
	if (r->total != (int64_t)r->nhits)
		fail_msg("%s: total %lld, %zu hits", query,
			 (long long)r->total, r->nhits);
	return r->ids;
}

#define IDS(q, want) assert_string_equal(ids_of(state, q), want)

/* A request that must fail with `status` and `type`; the reason must
 * contain `part`. */
static void bad_req(void **state, const char *index, const char *body,
		    const fsearch_params *p, int status, const char *type,
		    const char *part)
{
	res *r = srch_p(state, index, body, p);
	if (r->rc == 0)
		fail_msg("%s succeeded, expected %s", body, type);
	assert_int_equal(r->e.status, status);
	assert_string_equal(r->e.type, type);
	T_CONTAINS(r->e.err.msg, part);
}

#define BAD(body, type, part) bad_req(state, "t", body, NULL, 400, type, part)

/* ------------------------------------------------------------------ */
/* Queries                                                              */

static void test_match_all_none(void **state)
{
	res *r = srch(state, NULL);
	assert_int_equal(r->rc, 0);
	assert_string_equal(r->ids, "p01,p02,p03,p04,p05,p06,p07,p08,p09,p10");
	assert_int_equal(r->total, 10);
	assert_string_equal(r->rel, "eq");
	json_value *h0 = at(r->root, "hits.hits")->u.arr.v[0];
	assert_string_equal(json_str_member(h0, "_index", ""),
			    "v0_1_0.default.t");
	assert_non_null(json_get(h0, "_source", 7));
	assert_null(json_get(h0, "sort", 4));
	assert_string_equal(at(h0, "_source.name")->u.str.s, "Ann");
	assert_int_equal(json_int_member(at(r->root, "_shards"), "total", 0), 1);
	assert_int_equal(at(r->root, "timed_out")->type, JSON_FALSE);
	IDS("{\"match_all\":{}}", ALL);
	IDS("{\"match_all\":{\"boost\":1.2}}", ALL);
	IDS("{\"match_none\":{}}", "");
	r = srch(state, "{\"query\":{\"match_none\":{}}}");
	assert_int_equal(at(r->root, "hits.max_score")->type, JSON_NULL);
	assert_int_equal(r->total, 0);
	r = srch(state, "   ");
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->total, 10);
}

static void test_term(void **state)
{
	IDS("{\"term\":{\"name\":\"Ann\"}}", "p01");
	IDS("{\"term\":{\"name\":{\"value\":\"Ann\"}}}", "p01");
	IDS("{\"term\":{\"name\":{\"value\":\"ann\",\"case_insensitive\":true}}}",
	    "p01,p08");
	IDS("{\"term\":{\"name\":\"nobody\"}}", "");
	/* numbers: 30, 30.0 and "30" are one value; a numeric string too */
	IDS("{\"term\":{\"age\":30}}", "p01,p03,p10");
	IDS("{\"term\":{\"age\":\"30\"}}", "p01,p03,p10");
	IDS("{\"term\":{\"age\":30.0}}", "p01,p03,p10");
	IDS("{\"term\":{\"age\":100}}", "p09");
	IDS("{\"term\":{\"age\":41.5}}", "p04");
	/* 64-bit integers stay exact */
	IDS("{\"term\":{\"score\":12345678901234567}}", "p09");
	IDS("{\"term\":{\"score\":12345678901234568}}", "p10");
	/* booleans, and their text */
	IDS("{\"term\":{\"vip\":true}}", "p01,p05");
	IDS("{\"term\":{\"vip\":\"false\"}}", "p02");
	/* arrays: any element; nested arrays are flattened */
	IDS("{\"term\":{\"tags\":\"red\"}}", "p01,p04,p07");
	IDS("{\"term\":{\"tags\":\"blue\"}}", "p01,p07");
	/* objects inside arrays, paths through them */
	IDS("{\"term\":{\"kids.name\":\"Bo\"}}", "p01");
	IDS("{\"term\":{\"kids.age\":7}}", "p01");
	IDS("{\"term\":{\"nested.deep.x.y\":\"z\"}}", "p08");
	IDS("{\"term\":{\"nested.deep.x\":2}}", "p08");
	/* a dotted key is the same field as the nested object */
	IDS("{\"term\":{\"a.b\":1}}", "p04");
	IDS("{\"term\":{\"a.b\":2}}", "p05");
	/* missing fields, null, objects never match */
	IDS("{\"term\":{\"missing\":\"x\"}}", "");
	IDS("{\"term\":{\"addr\":\"Main\"}}", "");
	IDS("{\"term\":{\"addr.street\":\"Main\"}}", "p01");
	/* "f.keyword" finds the string field f (dynamic mapping habit) */
	IDS("{\"term\":{\"name.keyword\":\"Ann\"}}", "p01");
	IDS("{\"term\":{\"age.keyword\":30}}", "p03");
	/* UTF-8 byte for byte */
	IDS("{\"term\":{\"city\":\"Troms\\u00f8\"}}", "p07");
	/* _id */
	IDS("{\"term\":{\"_id\":\"p05\"}}", "p05");
	IDS("{\"term\":{\"_id\":{\"value\":\"P05\",\"case_insensitive\":true}}}",
	    "p05");
}

static void test_terms_ids(void **state)
{
	IDS("{\"terms\":{\"name\":[\"Ann\",\"bob\",\"zzz\"]}}", "p01,p02");
	IDS("{\"terms\":{\"age\":[25,41.5]}}", "p02,p04,p05");
	IDS("{\"terms\":{\"tags\":[\"green\",\"blue\"],\"boost\":2}}",
	    "p01,p02,p07");
	IDS("{\"terms\":{\"name\":[]}}", "");
	IDS("{\"terms\":{\"_id\":[\"p09\",\"p02\",\"p09\"]}}", "p02,p09");
	IDS("{\"ids\":{\"values\":[\"p03\",\"p01\",\"nope\"]}}", "p01,p03");
	IDS("{\"ids\":{\"values\":[]}}", "");
	/* ids inside a bool: direct gets, then the rest of the query */
	IDS("{\"bool\":{\"filter\":[{\"ids\":{\"values\":[\"p01\",\"p02\","
	    "\"p05\"]}},{\"term\":{\"city\":\"Oslo\"}}]}}", "p01,p05");
	IDS("{\"bool\":{\"must\":{\"ids\":{\"values\":[\"p01\",\"p02\"]}},"
	    "\"must_not\":{\"ids\":{\"values\":[\"p01\"]}}}}", "p02");
	/* ids that are not valid ids find nothing */
	char body[1200];
	memset(body, 0, sizeof body);
	strcpy(body, "{\"ids\":{\"values\":[\"\",\"");
	memset(body + strlen(body), 'x', 600);
	strcat(body, "\"]}}");
	IDS(body, "");
}

static void test_range(void **state)
{
	IDS("{\"range\":{\"age\":{\"gte\":25,\"lt\":30}}}", "p02,p05");
	IDS("{\"range\":{\"age\":{\"gt\":25,\"lte\":30}}}", "p01,p03,p10");
	IDS("{\"range\":{\"age\":{\"gt\":30}}}", "p04,p09");
	IDS("{\"range\":{\"age\":{\"lt\":0}}}", "p08");
	IDS("{\"range\":{\"age\":{\"gte\":\"41.5\"}}}", "p04,p09");
	IDS("{\"range\":{\"age\":{\"gte\":null,\"lt\":20}}}", "p07,p08");
	IDS("{\"range\":{\"age\":{}}}", "p01,p02,p03,p04,p05,p07,p08,p09,p10");
	IDS("{\"range\":{\"score\":{\"gt\":12345678901234567}}}", "p10");
	/* ISO dates are strings compared byte-wise */
	IDS("{\"range\":{\"at\":{\"gte\":\"2024-01-01\"}}}", "p01,p02");
	IDS("{\"range\":{\"at\":{\"lte\":\"2024-01-05T10:00:00Z\"}}}",
	    "p01,p03");
	IDS("{\"range\":{\"at\":{\"gt\":\"2024-01-05T10:00:00Z\"}}}", "p02");
	/* strings byte-wise: lower case after upper case */
	IDS("{\"range\":{\"name\":{\"gte\":\"a\"}}}", "p02,p08");
	IDS("{\"range\":{\"name\":{\"gte\":\"B\",\"lt\":\"E\"}}}", "p03,p04");
	/* any one element of an array satisfies both bounds */
	IDS("{\"range\":{\"kids.age\":{\"gt\":5,\"lt\":8}}}", "p01");
	IDS("{\"range\":{\"kids.age\":{\"gt\":3,\"lt\":7}}}", "");
	/* deprecated from/to */
	IDS("{\"range\":{\"age\":{\"from\":25,\"to\":30,\"include_upper\":false}}}",
	    "p02,p05");
	/* on _id: a bounded scan */
	IDS("{\"range\":{\"_id\":{\"gte\":\"p03\",\"lt\":\"p06\"}}}",
	    "p03,p04,p05");
	IDS("{\"range\":{\"_id\":{\"gt\":\"p03\",\"lte\":\"p06\"}}}",
	    "p04,p05,p06");
	IDS("{\"range\":{\"_id\":{\"gt\":\"p09\"}}}", "p10");
	IDS("{\"range\":{\"_id\":{\"gt\":\"p10\"}}}", "");
	IDS("{\"range\":{\"_id\":{\"gte\":\"\"}}}", ALL);
	IDS("{\"bool\":{\"filter\":[{\"range\":{\"_id\":{\"gte\":\"p02\"}}},"
	    "{\"range\":{\"_id\":{\"lte\":\"p04\"}}},{\"term\":{\"city\":\"Oslo\"}}]}}",
	    "p04");
}

static void test_exists_prefix(void **state)
{
	IDS("{\"exists\":{\"field\":\"city\"}}", "p01,p02,p04,p05,p07");
	IDS("{\"exists\":{\"field\":\"tags\"}}", "p01,p02,p04,p07");
	IDS("{\"exists\":{\"field\":\"addr\"}}", "p01");
	IDS("{\"exists\":{\"field\":\"nested.deep\"}}", "p08");
	IDS("{\"exists\":{\"field\":\"kids.name\"}}", "p01");
	IDS("{\"exists\":{\"field\":\"a.b\"}}", "p04,p05");
	IDS("{\"exists\":{\"field\":\"_id\"}}", ALL);
	IDS("{\"exists\":{\"field\":\"nope\"}}", "");
	IDS("{\"prefix\":{\"name\":\"A\"}}", "p01");
	IDS("{\"prefix\":{\"name\":{\"value\":\"a\",\"case_insensitive\":true}}}",
	    "p01,p08");
	IDS("{\"prefix\":{\"tags\":\"bl\"}}", "p01,p07");
	IDS("{\"prefix\":{\"at\":\"2024-01\"}}", "p01");
	IDS("{\"prefix\":{\"name\":\"\"}}", ALL);
	IDS("{\"prefix\":{\"age\":\"3\"}}", "p03");
	IDS("{\"prefix\":{\"_id\":\"p0\"}}",
	    "p01,p02,p03,p04,p05,p06,p07,p08,p09");
	IDS("{\"prefix\":{\"_id\":\"p1\"}}", "p10");
	IDS("{\"prefix\":{\"_id\":\"q\"}}", "");
}

static void test_bool(void **state)
{
	IDS("{\"bool\":{}}", ALL);
	IDS("{\"bool\":{\"must\":{\"term\":{\"city\":\"Oslo\"}},"
	    "\"must_not\":{\"term\":{\"vip\":true}}}}", "p04");
	IDS("{\"bool\":{\"must_not\":[{\"exists\":{\"field\":\"age\"}}]}}",
	    "p06");
	/* should alone: at least one */
	IDS("{\"bool\":{\"should\":[{\"term\":{\"name\":\"Ann\"}},"
	    "{\"term\":{\"name\":\"bob\"}}]}}", "p01,p02");
	/* should beside must: optional */
	IDS("{\"bool\":{\"filter\":{\"term\":{\"city\":\"Oslo\"}},"
	    "\"should\":{\"term\":{\"name\":\"nobody\"}}}}", "p01,p04,p05");
	/* minimum_should_match: count, negative, percentage */
	const char *three =
		"[{\"term\":{\"city\":\"Oslo\"}},{\"term\":{\"vip\":true}},"
		"{\"range\":{\"age\":{\"gte\":30}}}]";
	char q[512];
	snprintf(q, sizeof q, "{\"bool\":{\"should\":%s,"
		 "\"minimum_should_match\":2}}", three);
	IDS(q, "p01,p04,p05");
	snprintf(q, sizeof q, "{\"bool\":{\"should\":%s,"
		 "\"minimum_should_match\":\"-1\"}}", three);
	IDS(q, "p01,p04,p05");
	snprintf(q, sizeof q, "{\"bool\":{\"should\":%s,"
		 "\"minimum_should_match\":\"100%%\"}}", three);
	IDS(q, "p01");
	snprintf(q, sizeof q, "{\"bool\":{\"should\":%s,"
		 "\"minimum_should_match\":\"34%%\"}}", three);
	IDS(q, "p01,p03,p04,p05,p09,p10");
	snprintf(q, sizeof q, "{\"bool\":{\"should\":%s,"
		 "\"minimum_should_match\":4}}", three);
	IDS(q, "");
	snprintf(q, sizeof q, "{\"bool\":{\"must\":{\"exists\":{\"field\":"
		 "\"name\"}},\"should\":%s,\"minimum_should_match\":0}}", three);
	IDS(q, ALL);
	/* nesting and constant_score */
	IDS("{\"bool\":{\"must\":[{\"bool\":{\"should\":[{\"term\":{\"tags\":"
	    "\"red\"}},{\"term\":{\"tags\":\"green\"}}]}}],\"must_not\":"
	    "{\"bool\":{\"filter\":{\"term\":{\"city\":\"Oslo\"}}}}}}",
	    "p02,p07");
	IDS("{\"constant_score\":{\"filter\":{\"term\":{\"name\":\"Eve\"}},"
	    "\"boost\":3}}", "p05");
}

/* ------------------------------------------------------------------ */
/* Sort, search_after, from/size, track_total_hits                      */

static const char *sorted(void **state, const char *sort)
{
	char body[512];
	snprintf(body, sizeof body, "{\"sort\":%s}", sort);
	res *r = srch(state, body);
	if (r->rc)
		fail_msg("%s -> %s", sort, r->e.err.msg);
	return r->ids;
}

static void test_sort(void **state)
{
	/* ages: p08 -3, p07 19, p02 25, p05 25, p01 30, p10 30, p04 41.5,
	 * p09 100; p03 "30" is a string (after numbers); p06 has none */
	assert_string_equal(sorted(state, "[{\"age\":\"asc\"}]"),
			    "p08,p07,p02,p05,p01,p10,p04,p09,p03,p06");
	assert_string_equal(sorted(state, "[{\"age\":{\"order\":\"desc\"}}]"),
			    "p03,p09,p04,p01,p10,p02,p05,p07,p08,p06");
	assert_string_equal(sorted(state, "[{\"age\":{\"order\":\"desc\","
				   "\"missing\":\"_first\"}}]"),
			    "p06,p03,p09,p04,p01,p10,p02,p05,p07,p08");
	assert_string_equal(sorted(state, "[{\"age\":{\"missing\":0}}]"),
			    "p08,p06,p07,p02,p05,p01,p10,p04,p09,p03");
	assert_string_equal(sorted(state, "\"age\""),
			    "p08,p07,p02,p05,p01,p10,p04,p09,p03,p06");
	/* two keys: city asc (missing last), then age desc */
	assert_string_equal(sorted(state, "[\"city\",{\"age\":\"desc\"}]"),
			    "p02,p04,p01,p05,p07,p03,p09,p10,p08,p06");
	/* arrays sort by their min (asc) or max (desc) */
	assert_string_equal(sorted(state, "[{\"tags\":\"asc\"}]"),
			    "p01,p07,p02,p04,p03,p05,p06,p08,p09,p10");
	assert_string_equal(sorted(state, "[{\"tags\":\"desc\"}]"),
			    "p01,p04,p07,p02,p03,p05,p06,p08,p09,p10");
	assert_string_equal(sorted(state, "[{\"tags\":{\"order\":\"asc\","
				   "\"mode\":\"max\"}}]"),
			    "p02,p01,p04,p07,p03,p05,p06,p08,p09,p10");
	/* _id, _doc, _score */
	assert_string_equal(sorted(state, "[{\"_id\":\"desc\"}]"),
			    "p10,p09,p08,p07,p06,p05,p04,p03,p02,p01");
	assert_string_equal(sorted(state, "[\"_doc\"]"), ALL);
	assert_string_equal(sorted(state, "[\"_score\"]"), ALL);
	/* sort values in hits: the keys, then the _id tie-break */
	res *r = srch(state, "{\"sort\":[{\"age\":\"desc\"}],\"size\":2}");
	json_value *h = at(r->root, "hits.hits")->u.arr.v[1];
	json_value *sv = json_get(h, "sort", 4);
	assert_non_null(sv);
	assert_int_equal(sv->u.arr.n, 2);
	assert_int_equal(sv->u.arr.v[0]->type, JSON_NUMBER);
	assert_string_equal(sv->u.arr.v[1]->u.str.s, "p09");
	assert_int_equal(json_get(h, "_score", 6)->type, JSON_NULL);
	assert_int_equal(at(r->root, "hits.max_score")->type, JSON_NULL);
	r = srch(state, "{\"sort\":[\"_id\"],\"size\":1}");
	sv = json_get(at(r->root, "hits.hits")->u.arr.v[0], "sort", 4);
	assert_int_equal(sv->u.arr.n, 1);
	r = srch(state, "{\"sort\":[\"age\"],\"size\":10,\"from\":9}");
	sv = json_get(at(r->root, "hits.hits")->u.arr.v[0], "sort", 4);
	assert_int_equal(sv->u.arr.v[0]->type, JSON_NULL); /* missing */
	r = srch(state, "{\"sort\":[\"age\"],\"track_scores\":true,\"size\":1}");
	assert_int_equal(at(r->root, "hits.max_score")->type, JSON_NUMBER);
	/* URL sort overrides the body */
	fsearch_params p = {.sort = "age:desc,_id"};
	r = srch_p(state, "t", "{\"sort\":[\"name\"]}", &p);
	assert_string_equal(r->ids, "p03,p09,p04,p01,p10,p02,p05,p07,p08,p06");
}

/* Pages through the whole result with search_after; every id once, in
 * the order of one big request. */
static void page_all(void **state, const char *index, const char *sort,
		     const char *query, int size, int pass_keys_only)
{
	char body[2048], after[1024] = "";
	char *all = calloc(1, 65536), *paged = calloc(1, 65536);
	res *r;
	assert_true(all && paged);
	snprintf(body, sizeof body, "{\"query\":%s,\"sort\":%s,\"size\":10000}",
		 query, sort);
	r = srch_p(state, index, body, NULL);
	if (r->rc)
		fail_msg("%s", r->e.err.msg);
	snprintf(all, 65536, "%s", r->ids);
	size_t want = r->nhits, got = 0;
	for (int round = 0; round < 100000; round++) {
		snprintf(body, sizeof body, "{\"query\":%s,\"sort\":%s,"
			 "\"size\":%d%s%s%s}", query, sort, size,
			 after[0] ? ",\"search_after\":" : "", after, "");
		r = srch_p(state, index, body, NULL);
		if (r->rc)
			fail_msg("page %d: %s", round, r->e.err.msg);
		if (!r->nhits)
			break;
		got += r->nhits;
		if (strlen(paged) + strlen(r->ids) + 2 > 65536)
			fail_msg("page_all: too many ids for the test buffer");
		if (paged[0])
			strcat(paged, ",");
		strcat(paged, r->ids);
		json_value *hits = at(r->root, "hits.hits");
		json_value *sv = json_get(hits->u.arr.v[hits->u.arr.n - 1],
					  "sort", 4);
		fbuf b = FBUF_INIT;
		if (pass_keys_only)
			sv->u.arr.n--; /* without the _id tie-break */
		assert_int_equal(json_write(sv, &b), 0);
		snprintf(after, sizeof after, "%s", b.p);
		fbuf_release(&b);
	}
	assert_int_equal(got, want);
	assert_string_equal(paged, all);
	free(all);
	free(paged);
}

static void test_search_after(void **state)
{
	page_all(state, "t", "[{\"age\":\"asc\"}]", "{\"match_all\":{}}", 3, 0);
	page_all(state, "t", "[{\"age\":\"desc\"}]", "{\"match_all\":{}}", 1, 0);
	page_all(state, "t", "[{\"tags\":{\"order\":\"desc\",\"missing\":"
		 "\"_first\"}},\"name\"]", "{\"match_all\":{}}", 4, 0);
	page_all(state, "t", "[\"_id\"]", "{\"match_all\":{}}", 3, 0);
	page_all(state, "t", "[{\"_id\":\"desc\"}]", "{\"match_all\":{}}", 3, 0);
	page_all(state, "t", "[\"_score\"]",
		 "{\"exists\":{\"field\":\"city\"}}", 2, 0);
	page_all(state, "t", "[\"name\"]", "{\"match_all\":{}}", 3, 1);
	/* only the user's keys: documents tied on them are skipped */
	res *r = srch(state, "{\"sort\":[\"age\"],\"search_after\":[25]}");
	assert_string_equal(r->ids, "p01,p10,p04,p09,p03,p06");
	r = srch(state, "{\"sort\":[\"age\"],\"search_after\":[25,\"p02\"]}");
	assert_string_equal(r->ids, "p05,p01,p10,p04,p09,p03,p06");
	r = srch(state, "{\"sort\":[\"age\"],\"search_after\":[\"30\",\"p03\"]}");
	assert_string_equal(r->ids, "p06");
	r = srch(state, "{\"sort\":[\"age\"],\"search_after\":[null,\"p06\"]}");
	assert_string_equal(r->ids, "");
	/* the total still counts every match */
	r = srch(state, "{\"sort\":[\"_id\"],\"search_after\":[\"p08\"]}");
	assert_string_equal(r->ids, "p09,p10");
	assert_int_equal(r->total, 10);
	r = srch(state, "{\"sort\":[\"_id\"],\"search_after\":[\"p08\"],"
		 "\"query\":{\"exists\":{\"field\":\"age\"}}}");
	assert_string_equal(r->ids, "p09,p10");
	assert_int_equal(r->total, 9);
	r = srch(state, "{\"sort\":[\"_id\"],\"search_after\":[\"p08\"],"
		 "\"track_total_hits\":false}");
	assert_string_equal(r->ids, "p09,p10");
	assert_int_equal(r->total, -1);
	r = srch(state, "{\"sort\":[\"_id\"],\"search_after\":[\"p08\"],"
		 "\"track_total_hits\":2,\"query\":{\"prefix\":{\"name\":\"\"}}}");
	assert_string_equal(r->ids, "p09,p10");
	assert_int_equal(r->total, 2);
	assert_string_equal(r->rel, "gte");
}

static void test_from_size(void **state)
{
	res *r = srch(state, "{\"from\":8,\"size\":5}");
	assert_string_equal(r->ids, "p09,p10");
	assert_int_equal(r->total, 10);
	r = srch(state, "{\"from\":10}");
	assert_string_equal(r->ids, "");
	assert_int_equal(r->total, 10);
	r = srch(state, "{\"size\":0}");
	assert_int_equal(r->nhits, 0);
	assert_int_equal(r->total, 10);
	assert_int_equal(at(r->root, "hits.max_score")->type, JSON_NULL);
	r = srch(state, "{\"size\":3}");
	assert_string_equal(r->ids, "p01,p02,p03");
	r = srch(state, "{\"from\":2,\"size\":3,\"sort\":[{\"age\":\"asc\"}]}");
	assert_string_equal(r->ids, "p02,p05,p01");
	r = srch(state, "{\"from\":\"2\",\"size\":\"1\"}");
	assert_string_equal(r->ids, "p03");
	r = srch(state, "{\"from\":9990,\"size\":10}");
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->nhits, 0);
	r = srch(state, "{\"size\":10000,\"sort\":[\"age\"]}");
	assert_int_equal(r->nhits, 10);
	fsearch_params p = {.from = "1", .size = "2"};
	r = srch_p(state, "t", "{\"size\":5}", &p);
	assert_string_equal(r->ids, "p02,p03");
	BAD("{\"size\":10001}", "illegal_argument_exception",
	    "Result window is too large, from + size must be less than or "
	    "equal to: [10000] but was [10001]");
	BAD("{\"from\":9999,\"size\":2}", "illegal_argument_exception",
	    "but was [10001]");
	BAD("{\"size\":-1}", "illegal_argument_exception",
	    "[size] parameter cannot be negative, found [-1]");
	BAD("{\"from\":-5}", "illegal_argument_exception",
	    "[from] parameter cannot be negative");
	BAD("{\"size\":1.5}", "parsing_exception", "[size] must be an integer");
	BAD("{\"size\":\"ten\"}", "parsing_exception", "[size]");
	p = (fsearch_params){.size = "x"};
	bad_req(state, "t", NULL, &p, 400, "illegal_argument_exception",
		"[size] parameter must be an integer");
}

static void test_track_total_hits(void **state)
{
	const char *qs[] = {"{\"match_all\":{}}", "{\"prefix\":{\"name\":\"\"}}"};
	for (int i = 0; i < 2; i++) {
		char body[256];
		snprintf(body, sizeof body, "{\"query\":%s,\"track_total_hits\":"
			 "false,\"size\":2}", qs[i]);
		res *r = srch(state, body);
		assert_int_equal(r->total, -1);
		assert_null(at(r->root, "hits.total"));
		assert_string_equal(r->ids, "p01,p02");
		snprintf(body, sizeof body, "{\"query\":%s,\"track_total_hits\":"
			 "3,\"size\":1}", qs[i]);
		r = srch(state, body);
		assert_int_equal(r->total, 3);
		assert_string_equal(r->rel, "gte");
		snprintf(body, sizeof body, "{\"query\":%s,\"track_total_hits\":"
			 "10,\"size\":1}", qs[i]);
		r = srch(state, body);
		assert_int_equal(r->total, 10);
		assert_string_equal(r->rel, "eq");
		snprintf(body, sizeof body, "{\"query\":%s,\"track_total_hits\":"
			 "0,\"size\":0}", qs[i]);
		r = srch(state, body);
		assert_int_equal(r->total, 0);
		assert_string_equal(r->rel, "gte");
		snprintf(body, sizeof body, "{\"query\":%s,\"track_total_hits\":"
			 "-1,\"sort\":[\"age\"]}", qs[i]);
		r = srch(state, body);
		assert_int_equal(r->total, 10);
		assert_string_equal(r->rel, "eq");
		snprintf(body, sizeof body, "{\"query\":%s,\"track_total_hits\":"
			 "4,\"sort\":[{\"age\":\"desc\"}],\"size\":2}", qs[i]);
		r = srch(state, body);
		assert_int_equal(r->total, 4);
		assert_string_equal(r->rel, "gte");
		assert_string_equal(r->ids, "p03,p09");
	}
	fsearch_params p = {.track_total_hits = "false"};
	res *r = srch_p(state, "t", NULL, &p);
	assert_int_equal(r->total, -1);
	p.track_total_hits = "5";
	r = srch_p(state, "t", NULL, &p);
	assert_int_equal(r->total, 5);
	BAD("{\"track_total_hits\":-2}", "illegal_argument_exception",
	    "[track_total_hits] parameter must be positive or equals to -1, "
	    "got -2");
	BAD("{\"track_total_hits\":\"yes\"}", "parsing_exception",
	    "[track_total_hits]");
}

/* ------------------------------------------------------------------ */
/* _source, seq numbers, indices, _count                                */

static const char *src_of(void **state, const char *source, const char *id)
{
	static char text[1024];
	char body[512];
	snprintf(body, sizeof body, "{\"query\":{\"ids\":{\"values\":[\"%s\"]}},"
		 "\"_source\":%s}", id, source);
	res *r = srch(state, body);
	if (r->rc)
		fail_msg("%s: %s", source, r->e.err.msg);
	json_value *h = at(r->root, "hits.hits")->u.arr.v[0];
	json_value *s = json_get(h, "_source", 7);
	if (!s)
		return "(none)";
	fbuf b = FBUF_INIT;
	json_write(s, &b);
	snprintf(text, sizeof text, "%s", b.p);
	fbuf_release(&b);
	return text;
}

static void test_source(void **state)
{
	assert_string_equal(src_of(state, "false", "p02"), "(none)");
	assert_string_equal(src_of(state, "true", "p06"), "{\"name\":\"Fay\"}");
	assert_string_equal(src_of(state, "[\"name\",\"age\"]", "p02"),
			    "{\"name\":\"bob\",\"age\":25}");
	assert_string_equal(src_of(state, "\"city\"", "p02"),
			    "{\"city\":\"Bergen\"}");
	assert_string_equal(src_of(state, "[\"kids.name\"]", "p01"),
			    "{\"kids\":[{\"name\":\"Al\"},{\"name\":\"Bo\"}]}");
	assert_string_equal(src_of(state, "[\"addr\"]", "p01"),
			    "{\"addr\":{\"zip\":\"0150\",\"street\":\"Main\"}}");
	assert_string_equal(src_of(state, "[\"addr.*\"]", "p01"),
			    "{\"addr\":{\"zip\":\"0150\",\"street\":\"Main\"}}");
	assert_string_equal(src_of(state, "[\"a*\"]", "p01"),
			    "{\"age\":30,\"at\":\"2024-01-05T10:00:00Z\","
			    "\"addr\":{\"zip\":\"0150\",\"street\":\"Main\"}}");
	assert_string_equal(src_of(state, "{\"includes\":[\"addr\",\"name\"],"
				   "\"excludes\":[\"addr.zip\"]}", "p01"),
			    "{\"name\":\"Ann\",\"addr\":{\"street\":\"Main\"}}");
	assert_string_equal(src_of(state, "{\"excludes\":[\"kids\",\"tags\","
				   "\"a*\",\"vip\",\"city\"]}", "p01"),
			    "{\"name\":\"Ann\"}");
	assert_string_equal(src_of(state, "[\"nope\"]", "p01"), "{}");
	assert_string_equal(src_of(state, "[\"*.y\"]", "p08"),
			    "{\"nested\":{\"deep\":{\"x\":[{\"y\":\"z\"}]}}}");
	fsearch_params p = {.source = "name,age"};
	res *r = srch_p(state, "t", "{\"query\":{\"ids\":{\"values\":[\"p02\"]}}}",
			&p);
	json_value *s = at(at(r->root, "hits.hits")->u.arr.v[0], "_source");
	assert_int_equal(s->u.obj.n, 2);
	p.source = "false";
	r = srch_p(state, "t", NULL, &p);
	assert_null(at(at(r->root, "hits.hits")->u.arr.v[0], "_source"));
	BAD("{\"_source\":1}", "parsing_exception", "[_source] must be");
	BAD("{\"_source\":[1]}", "parsing_exception", "field names");
	BAD("{\"_source\":{\"fields\":[\"a\"]}}", "parsing_exception",
	    "[_source] does not support [fields]");
}

static void test_seq_no(void **state)
{
	tdb *t = *state;
	uint64_t seq = 0;
	char *b = t_get(t->db, "t", "p04", &seq);
	free(b);
	res *r = srch(state, "{\"query\":{\"ids\":{\"values\":[\"p04\"]}},"
		      "\"seq_no_primary_term\":true}");
	json_value *h = at(r->root, "hits.hits")->u.arr.v[0];
	assert_int_equal(json_int_member(h, "_seq_no", -1), (int64_t)seq);
	assert_int_equal(json_int_member(h, "_primary_term", -1), 1);
	r = srch(state, "{\"size\":1}");
	assert_null(json_get(at(r->root, "hits.hits")->u.arr.v[0], "_seq_no", 7));
}

static void test_indices(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	t_create(t->db, "u");
	t_put(t->db, "u", "p01", "{\"name\":\"U1\",\"age\":5}");
	t_put(t->db, "u", "x9", "{\"name\":\"U2\",\"age\":500}");
	/* alias, logical and physical names */
	res *r = srch_p(state, "default.t", NULL, NULL);
	assert_int_equal(r->total, 10);
	r = srch_p(state, "v0_1_0.default.t", NULL, NULL);
	assert_int_equal(r->total, 10);
	/* lists, globs, exclusions */
	r = srch_p(state, "t,u", "{\"size\":20}", NULL);
	assert_int_equal(r->total, 12);
	assert_int_equal(json_int_member(at(r->root, "_shards"), "total", 0), 2);
	T_CONTAINS(r->ids, "p10,p01,x9"); /* index by index in natural order */
	r = srch_p(state, "v0_1_0.default.*", "{\"size\":0}", NULL);
	assert_int_equal(r->total, 12);
	r = srch_p(state, "*,-*.u", "{\"size\":0}", NULL);
	assert_int_equal(r->total, 10);
	r = srch_p(state, "_all", "{\"size\":0}", NULL);
	assert_int_equal(r->total, 12);
	r = srch_p(state, NULL, "{\"size\":0}", NULL);
	assert_int_equal(r->total, 12);
	r = srch_p(state, "nothing*", NULL, NULL);
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->total, 0);
	assert_int_equal(json_int_member(at(r->root, "_shards"), "total", 9), 0);
	r = srch_p(state, "u,t", "{\"sort\":[{\"_index\":\"desc\"},\"_id\"],"
		   "\"size\":3}", NULL);
	assert_string_equal(r->ids, "p01,x9,p01");
	r = srch_p(state, "t,u,default.t", "{\"sort\":[{\"age\":\"desc\"}],"
		   "\"size\":3}", NULL);
	assert_int_equal(r->total, 12);
	assert_string_equal(r->ids, "p03,x9,p09");
	json_value *h = at(r->root, "hits.hits")->u.arr.v[1];
	assert_string_equal(json_str_member(h, "_index", ""), "v0_1_0.default.u");
	/* the same id in two indices: both, ties broken by index */
	r = srch_p(state, "u,t", "{\"query\":{\"ids\":{\"values\":[\"p01\"]}},"
		   "\"sort\":[\"_id\"]}", NULL);
	assert_int_equal(r->total, 2);
	page_all(state, "t,u", "[\"name\"]", "{\"match_all\":{}}", 5, 0);
	page_all(state, "t,u", "[\"_id\"]", "{\"match_all\":{}}", 5, 0);
	bad_req(state, "nope", NULL, NULL, 404, "index_not_found_exception",
		"no such index [nope]");
	bad_req(state, "t,nope", NULL, NULL, 404, "index_not_found_exception",
		"no such index [nope]");
	bad_req(state, "t,,u", NULL, NULL, 400, "invalid_index_name_exception",
		"bad index name");
	T_OK(ferry_index_delete(t->db, "v0_1_0.default.u", 1, &err), &err);
}

static uint64_t count_of(void **state, const char *index, const char *body,
			 fsearch_error *e, int *rc)
{
	tdb *t = *state;
	fbuf out = FBUF_INIT;
	json_arena *a = json_arena_new();
	json_value *v;
	uint64_t n = (uint64_t)-1;
	*rc = fsearch_count(t->db, index, body, body ? strlen(body) : 0, NULL,
			    &out, e);
	if (*rc == 0) {
		assert_int_equal(json_parse(a, out.p, out.len, &v, NULL), 0);
		n = (uint64_t)json_int_member(v, "count", -1);
		assert_non_null(json_get(v, "_shards", 7));
	}
	fbuf_release(&out);
	json_arena_free(a);
	return n;
}

static void test_count(void **state)
{
	fsearch_error e;
	int rc;
	assert_int_equal(count_of(state, "t", NULL, &e, &rc), 10);
	assert_int_equal(count_of(state, "t", "{}", &e, &rc), 10);
	assert_int_equal(count_of(state, "t", "{\"query\":{\"term\":{\"city\":"
				  "\"Oslo\"}}}", &e, &rc), 3);
	assert_int_equal(count_of(state, "t", "{\"query\":{\"ids\":{\"values\":"
				  "[\"p01\",\"zz\"]}}}", &e, &rc), 1);
	assert_int_equal(count_of(state, "t", "{\"query\":{\"match_none\":{}}}",
				  &e, &rc), 0);
	count_of(state, "t", "{\"size\":1}", &e, &rc);
	assert_int_equal(rc, FERRY_EINVAL);
	assert_string_equal(e.type, "parsing_exception");
	T_CONTAINS(e.err.msg, "request does not support [size]");
	count_of(state, "t", "{\"query\":{\"nope\":{}}}", &e, &rc);
	T_CONTAINS(e.err.msg, "unknown query [nope]");
	count_of(state, "gone", NULL, &e, &rc);
	assert_int_equal(e.status, 404);
}

/* ------------------------------------------------------------------ */
/* Bad requests                                                         */

static void test_bad_queries(void **state)
{
	BAD("{\"query\":{\"match\":{\"name\":\"x\"}}}", "parsing_exception",
	    "unknown query [match]");
	BAD("{\"query\":{\"bool\":{\"must\":[{\"frob\":{}}]}}}",
	    "parsing_exception", "unknown query [frob] at query.bool.must[0]");
	BAD("{\"query\":{}}", "parsing_exception", "empty clause");
	BAD("{\"query\":[]}", "parsing_exception", "expected an object");
	BAD("{\"query\":{\"term\":{\"a\":1},\"terms\":{\"b\":[1]}}}",
	    "parsing_exception", "[term] malformed query, expected [END_OBJECT]");
	BAD("{\"query\":{\"term\":{\"a\":1,\"b\":2}}}", "parsing_exception",
	    "[term] query doesn't support multiple fields, found [a] and [b]");
	BAD("{\"query\":{\"term\":{\"a\":[1,2]}}}", "parsing_exception",
	    "[term] query does not support array of values");
	BAD("{\"query\":{\"term\":{\"a\":null}}}", "parsing_exception",
	    "got null");
	BAD("{\"query\":{\"term\":{\"a\":{\"val\":1}}}}", "parsing_exception",
	    "[term] query does not support [val]");
	BAD("{\"query\":{\"term\":{}}}", "parsing_exception", "names no field");
	BAD("{\"query\":{\"term\":{\"\":1}}}", "parsing_exception",
	    "field name must not be empty");
	BAD("{\"query\":{\"terms\":{\"a\":\"x\"}}}", "parsing_exception",
	    "expects an array of values, got a string");
	BAD("{\"query\":{\"terms\":{\"a\":{\"index\":\"i\"}}}}",
	    "parsing_exception", "terms lookup is not supported");
	BAD("{\"query\":{\"terms\":{\"a\":[{}]}}}", "parsing_exception",
	    "query.terms.a[0]");
	BAD("{\"query\":{\"ids\":{\"values\":\"p1\"}}}", "parsing_exception",
	    "expects an array");
	BAD("{\"query\":{\"ids\":{}}}", "parsing_exception", "needs [values]");
	BAD("{\"query\":{\"ids\":{\"values\":[true]}}}", "parsing_exception",
	    "a string or a number");
	BAD("{\"query\":{\"range\":{\"a\":{\"gte\":[1]}}}}", "parsing_exception",
	    "[gte] must be a number or a string");
	BAD("{\"query\":{\"range\":{\"a\":{\"gte\":1,\"frob\":2}}}}",
	    "parsing_exception", "[range] query does not support [frob]");
	BAD("{\"query\":{\"range\":{\"a\":{\"gte\":\"now-1d\",\"format\":"
	    "\"x\"}}}}", "parsing_exception", "[format] is not supported");
	BAD("{\"query\":{\"range\":{\"a\":5}}}", "parsing_exception",
	    "expects an object");
	BAD("{\"query\":{\"exists\":{}}}", "parsing_exception",
	    "[exists] must be provided with a [field]");
	BAD("{\"query\":{\"exists\":{\"field\":3}}}", "parsing_exception",
	    "non-empty string");
	BAD("{\"query\":{\"prefix\":{\"a\":true}}}", "parsing_exception",
	    "must be a string");
	BAD("{\"query\":{\"bool\":{\"musts\":[]}}}", "parsing_exception",
	    "[bool] query does not support [musts]");
	BAD("{\"query\":{\"bool\":{\"must\":\"x\"}}}", "parsing_exception",
	    "expected a query object or an array");
	BAD("{\"query\":{\"bool\":{\"should\":[],\"minimum_should_match\":"
	    "\"abc\"}}}", "parsing_exception", "[minimum_should_match]");
	BAD("{\"query\":{\"match_all\":{\"x\":1}}}", "parsing_exception",
	    "[match_all] query does not support [x]");
	BAD("{\"query\":{\"match_all\":{\"boost\":\"x\"}}}", "parsing_exception",
	    "[boost] must be a number");
	BAD("{\"query\":{\"constant_score\":{}}}", "parsing_exception",
	    "requires a 'filter'");
}

static void test_bad_requests(void **state)
{
	bad_req(state, "t", "{\"query\":", NULL, 400, "parse_exception",
		"not valid JSON");
	bad_req(state, "t", "[1]", NULL, 400, "parse_exception",
		"must be a JSON object");
	BAD("{\"frob\":1}", "parsing_exception",
	    "Unknown key for a VALUE_NUMBER in [frob].");
	BAD("{\"frob\":{}}", "parsing_exception",
	    "Unknown key for a START_OBJECT in [frob].");
	BAD("{\"aggs\":{}}", "illegal_argument_exception",
	    "[aggs] is not supported");
	BAD("{\"sort\":[{\"a\":\"up\"}]}", "illegal_argument_exception",
	    "Unknown SortOrder [up]");
	BAD("{\"sort\":[{\"a\":\"asc\",\"b\":\"asc\"}]}", "parsing_exception",
	    "several fields");
	BAD("{\"sort\":[{\"a\":{\"frob\":1}}]}", "parsing_exception",
	    "[field_sort] unknown field [frob]");
	BAD("{\"sort\":[{\"a\":{\"mode\":\"avg\"}}]}",
	    "illegal_argument_exception", "only \"min\" and \"max\"");
	BAD("{\"sort\":[\"_script\"]}", "illegal_argument_exception",
	    "not supported");
	BAD("{\"sort\":[3]}", "parsing_exception", "sort[0]");
	BAD("{\"search_after\":[1]}", "illegal_argument_exception",
	    "Sort must contain at least one field");
	BAD("{\"sort\":[\"age\"],\"search_after\":[1,\"a\",2]}",
	    "illegal_argument_exception",
	    "search_after has 3 value(s) but sort has 2");
	BAD("{\"sort\":[\"age\"],\"search_after\":{}}", "parsing_exception",
	    "[search_after] must be an array");
	BAD("{\"sort\":[\"age\"],\"search_after\":[{}]}",
	    "illegal_argument_exception", "search_after value [0]");
	BAD("{\"sort\":[\"_id\"],\"search_after\":[true]}",
	    "illegal_argument_exception", "is for [_id]");
	BAD("{\"sort\":[\"age\"],\"search_after\":[1],\"from\":1}",
	    "illegal_argument_exception", "[from] parameter must be set to 0");
	BAD("{\"seq_no_primary_term\":1}", "parsing_exception",
	    "must be true or false");
	fsearch_params p = {.q = "name:Ann"};
	bad_req(state, "t", "{\"query\":{\"match_all\":{}}}", &p, 400,
		"illegal_argument_exception", "use one");
	p = (fsearch_params){.q = "name:(Ann"};
	bad_req(state, "t", NULL, &p, 400, "query_shard_exception",
		"the '(' at offset 5 is not closed");
	p = (fsearch_params){.sort = "age:sideways"};
	bad_req(state, "t", NULL, &p, 400, "illegal_argument_exception",
		"Unknown SortOrder");
	p = (fsearch_params){.track_total_hits = "lots"};
	bad_req(state, "t", NULL, &p, 400, "illegal_argument_exception",
		"[track_total_hits]");
	/* too many clauses */
	fbuf b = FBUF_INIT;
	fbuf_adds(&b, "{\"query\":{\"bool\":{\"should\":[");
	for (int i = 0; i < FSEARCH_MAX_CLAUSES + 1; i++)
		fbuf_addf(&b, "%s{\"term\":{\"a\":%d}}", i ? "," : "", i);
	fbuf_adds(&b, "]}}}");
	BAD(b.p, "illegal_argument_exception", "too many query clauses");
	fbuf_release(&b);
}

/* ------------------------------------------------------------------ */
/* Many documents: top-k against a full sort, paging, bounded scans      */

typedef struct gdoc {
	char id[16];
	int grp;   /* 0..9, many ties */
	int val;   /* 0..999 or missing (-1) */
} gdoc;

static int gdoc_cmp_grp_val(const void *a, const void *b)
{
	const gdoc *x = a, *y = b;
	if (x->grp != y->grp)
		return x->grp < y->grp ? -1 : 1;
	/* val desc, missing last */
	if ((x->val < 0) != (y->val < 0))
		return x->val < 0 ? 1 : -1;
	if (x->val != y->val)
		return x->val > y->val ? -1 : 1;
	return strcmp(x->id, y->id);
}

static void test_many(void **state)
{
	tdb *t = *state;
	enum { N = 3000 };
	gdoc *d = calloc(N, sizeof *d);
	ferry_bulk *bk;
	ferry_err err = {0, ""};
	uint64_t rnd = 88172645463325252ull;
	char body[128], want[N * 8] = "";

	assert_non_null(d);
	t_create(t->db, "many");
	T_OK(ferry_bulk_new(t->db, &bk), &err);
	for (int i = 0; i < N; i++) {
		rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
		snprintf(d[i].id, sizeof d[i].id, "d%05d", i);
		d[i].grp = (int)(rnd % 10);
		d[i].val = rnd % 7 == 0 ? -1 : (int)((rnd >> 8) % 1000);
		if (d[i].val < 0)
			snprintf(body, sizeof body, "{\"grp\":%d}", d[i].grp);
		else
			snprintf(body, sizeof body, "{\"grp\":%d,\"val\":%d}",
				 d[i].grp, d[i].val);
		T_OK(ferry_bulk_add(bk, FERRY_OP_INDEX, "many", d[i].id,
				    strlen(d[i].id), body, strlen(body)), &err);
	}
	T_OK(ferry_bulk_commit(bk, &err), &err);
	ferry_bulk_free(bk);
	qsort(d, N, sizeof *d, gdoc_cmp_grp_val);
	for (int i = 100; i < 150; i++) {
		if (i > 100)
			strcat(want, ",");
		strcat(want, d[i].id);
	}
	const char *sort = "[\"grp\",{\"val\":\"desc\"}]";
	snprintf(body, sizeof body, "{\"sort\":%s,\"from\":100,\"size\":50}",
		 sort);
	res *r = srch_p(state, "many", body, NULL);
	assert_int_equal(r->rc, 0);
	assert_string_equal(r->ids, want);
	assert_int_equal(r->total, N);
	/* the default counts to 10000: here exactly */
	assert_string_equal(r->rel, "eq");
	page_all(state, "many", sort, "{\"match_all\":{}}", 97, 0);
	page_all(state, "many", "[\"_id\"]", "{\"range\":{\"val\":{\"gte\":500}}}",
		 250, 0);
	page_all(state, "many", "[{\"_id\":\"desc\"}]",
		 "{\"term\":{\"grp\":3}}", 33, 0);
	/* natural order stops early but still counts to the limit */
	r = srch_p(state, "many", "{\"query\":{\"term\":{\"grp\":3}},"
		   "\"track_total_hits\":50,\"size\":5}", NULL);
	assert_int_equal(r->total, 50);
	assert_string_equal(r->rel, "gte");
	assert_int_equal(r->nhits, 5);
	/* a bounded scan on _id */
	r = srch_p(state, "many", "{\"query\":{\"prefix\":{\"_id\":\"d012\"}},"
		   "\"size\":1000}", NULL);
	assert_int_equal(r->total, 100);
	assert_int_equal(r->nhits, 100);
	T_CONTAINS(r->ids, "d01200,d01201");
	free(d);
}

/* The whole window at once, and its far end. */
static void test_big_window(void **state)
{
	res *r = srch_p(state, "many", "{\"size\":10000,\"sort\":[{\"val\":"
			"\"desc\"}],\"_source\":false}", NULL);
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->nhits, 3000);
	r = srch_p(state, "many", "{\"from\":2990,\"size\":20}", NULL);
	assert_int_equal(r->nhits, 10);
	T_CONTAINS(r->ids, "d02999");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_all_none),
		cmocka_unit_test(test_term),
		cmocka_unit_test(test_terms_ids),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_exists_prefix),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_search_after),
		cmocka_unit_test(test_from_size),
		cmocka_unit_test(test_track_total_hits),
		cmocka_unit_test(test_source),
		cmocka_unit_test(test_seq_no),
		cmocka_unit_test(test_indices),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_bad_queries),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_big_window),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
