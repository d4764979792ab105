/*
 * fuzz_mget.c - libFuzzer target for ferryd's _mget (src/server/h_mget.c)
 * over a real LMDB data dir in /tmp holding index "profile" with ids
 * "1".."5". The first byte picks the path (/_mget or /profile/_mget),
 * ?_source and whether a tenant key ("acme") limits the request; the
 * rest is the body. Besides memory safety it checks:
 *  - the reply is valid JSON: 200 with {"docs":[..]}, or an ES error
 *    envelope with a 4xx/5xx status;
 *  - with 200, the body asked for exactly as many documents as came back,
 *    each entry names an _id and has either "found" or an "error";
 *  - a found document's _source is the stored one (when asked for), and
 *    a tenant-limited request never gets a document of index "profile"
 *    (the default tenant's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json/json.h"
#include "server/server.h"
#include "fuzz_db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* http.c's query-flag reader needs a libmicrohttpd connection, which an
 * in-process request has not: h_mget() is linked but not called here
 * (fsrv_mget() takes ?_source from the first byte instead). */
int freq_flag(freq *r, const char *key, int dflt)
{
	(void)r;
	(void)key;
	return dflt;
}

#define CHECK(x) do { if (!(x)) abort(); } while (0)

/* The data dir with documents "1".."5" = {"n":<id>} in "profile". */
static ferry_db *fuzz_db(void)
{
	int fresh;
	ferry_db *db = fuzz_db_get("mget", "64M", &fresh);
	for (int i = 1; fresh && i <= 5; i++) {
		char id[4], body[32];
		ferry_write_result w;
		snprintf(id, sizeof id, "%d", i);
		snprintf(body, sizeof body, "{\"n\":%d}", i);
		if (ferry_doc_put(db, "profile", id, strlen(id), body,
				  strlen(body), FERRY_OP_INDEX, &w, NULL))
			abort();
	}
	return db;
}

/* How many documents the body asks for, or -1 if it is not a list;
 * *pinned: some doc sets its own "_source". */
static long asked(json_arena *a, const char *s, size_t n, int *pinned)
{
	json_value *v = NULL, *l;
	*pinned = 0;
	if (json_parse(a, s, n, &v, NULL) || v->type != JSON_OBJECT)
		return -1;
	if (!(l = json_get(v, "docs", 4)) && !(l = json_get(v, "ids", 3)))
		return -1;
	if (l->type != JSON_ARRAY)
		return -1;
	for (size_t i = 0; i < l->u.arr.n; i++)
		*pinned |= json_get(l->u.arr.v[i], "_source", 7) != NULL;
	return (long)l->u.arr.n;
}

/* source: 1 / 0 the reply must / must not carry bodies, -1 either. */
static void check_doc(const json_value *d, int tenant, int source)
{
	const json_value *f = json_get(d, "found", 5);
	const char *ix = json_str_member(d, "_index", NULL);
	CHECK(d->type == JSON_OBJECT && json_get(d, "_id", 3) && ix);
	CHECK(f || json_get(d, "error", 5));
	if (!f || f->type != JSON_TRUE)
		return;
	CHECK(!tenant || strstr(ix, ".acme."));
	const json_value *src = json_get(d, "_source", 7);
	CHECK(source < 0 || !src == !source);
	if (src) { /* the stored body: {"n":<the id>} */
		const json_value *num = json_get(src, "n", 1);
		const char *id = json_str_member(d, "_id", NULL);
		CHECK(num && id && num->type == JSON_NUMBER &&
		      num->u.num.len == strlen(id) &&
		      !memcmp(num->u.num.text, id, num->u.num.len));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fsrv srv;
	if (!size)
		return 0;
	uint8_t mode = data[0];
	char *body = malloc(size), *seg0 = strdup("profile"),
	     *seg1 = strdup("_mget");
	json_arena *a = json_arena_new();
	json_value *v = NULL;
	freq r;
	CHECK(body && seg0 && seg1 && a);
	memcpy(body, data + 1, size - 1);
	body[size - 1] = 0;
	memset(&r, 0, sizeof(r));
	srv.db = fuzz_db();
	r.srv = &srv;
	r.db = srv.db;
	r.method = FM_POST;
	r.method_name = "POST";
	r.url = mode & 1 ? "/profile/_mget" : "/_mget";
	r.seg[0] = mode & 1 ? seg0 : seg1;
	r.seg[1] = seg1;
	r.nseg = mode & 1 ? 2 : 1;
	r.body = body;
	r.body_len = size - 1;
	r.status = 200;
	if (mode & 4)
		snprintf(r.tenant, sizeof r.tenant, "acme");
	fbuf_init(&r.out, 0);
	fsrv_mget(&r, !(mode & 2));
	CHECK(json_parse(a, r.out.p, r.out.len, &v, NULL) == 0 &&
	      v->type == JSON_OBJECT);
	if (r.status == 200) {
		json_value *docs = json_get(v, "docs", 4);
		CHECK(docs && docs->type == JSON_ARRAY);
		int pinned;
		CHECK((long)docs->u.arr.n == asked(a, body, size - 1, &pinned));
		for (size_t i = 0; i < docs->u.arr.n; i++)
			check_doc(docs->u.arr.v[i], mode & 4,
				  pinned ? -1 : !(mode & 2));
	} else {
		CHECK(r.status >= 400 && json_get(v, "error", 5));
	}
	fbuf_release(&r.out);
	json_arena_free(a);
	free(body);
	free(seg0);
	free(seg1);
	return 0;
}
