/*
 * fuzz_bulk.c - libFuzzer target for ferryd's _bulk parser and writer
 * (src/server/h_bulk.c) over a real LMDB data dir in /tmp. Each input is
 * a request body for POST /profile/_bulk. Besides memory safety it checks:
 *  - the reply is 200 or an ES error envelope with a 4xx/5xx status;
 *  - with 200, the reply is valid JSON with one item per action line and
 *    the index's document count moved by at most that many;
 *  - with an error, the document count did not move (nothing written);
 *  - every document an item names that exists afterwards is a valid JSON
 *    object (update items merge into stored documents: json/merge.c).
 * The seeds include update actions (doc, doc_as_upsert, upsert,
 * detect_noop, script, nested merges) so the merge path is reached.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json/json.h"
#include "server/server.h"
#include "fuzz_db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ferry_db *fuzz_db(void)
{
	int fresh;
	return fuzz_db_get("bulk", "256M", &fresh);
}

/* Every document an item of the reply names is absent or a JSON object. */
static void check_items(ferry_db *db, const json_value *items)
{
	for (size_t i = 0; i < items->u.arr.n; i++) {
		const json_value *it = items->u.arr.v[i], *meta;
		const char *id;
		char *body = NULL;
		size_t len = 0;
		int rc;

		if (it->type != JSON_OBJECT || it->u.obj.n != 1)
			abort();
		meta = it->u.obj.m[0].val;
		id = json_str_member(meta, "_id", NULL);
		if (!id)
			continue;
		rc = ferry_doc_get(db, "profile", id, strlen(id), &body, &len,
				   NULL, NULL);
		if (rc == 0 && json_validate_object(body, len, NULL, NULL, NULL,
						    NULL))
			abort();
		if (rc && rc != FERRY_ENOTFOUND && rc != FERRY_ENAME)
			abort();
		ferry_free(body);
	}
}

static uint64_t docs(ferry_db *db)
{
	uint64_t n = 0;

	if (ferry_doc_count(db, "profile", &n, NULL))
		abort();
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fsrv srv;
	ferry_db *db = fuzz_db();
	char *body = malloc(size + 1), *seg0 = strdup("profile"),
	     *seg1 = strdup("_bulk");
	json_arena *a = json_arena_new();
	json_value *v = NULL;
	uint64_t before = docs(db), after;
	freq r;

	if (!body || !seg0 || !seg1 || !a)
		abort();
	memcpy(body, data, size);
	body[size] = 0;
	memset(&r, 0, sizeof(r));
	srv.db = db;
	r.srv = &srv;
	r.db = db;
	r.method = FM_POST;
	r.method_name = "POST";
	r.url = "/profile/_bulk";
	r.seg[0] = seg0;
	r.seg[1] = seg1;
	r.nseg = 2;
	r.body = body;
	r.body_len = size;
	r.status = 200;
	fbuf_init(&r.out, 0);
	h_bulk(&r);
	after = docs(db);
	if (json_parse(a, r.out.p, r.out.len, &v, NULL) || v->type != JSON_OBJECT)
		abort();
	if (r.status == 200) {
		json_value *items = json_get(v, "items", 5);

		if (!items || items->type != JSON_ARRAY ||
		    (after > before + items->u.arr.n) ||
		    (before > after + items->u.arr.n))
			abort();
		check_items(db, items);
	} else if (r.status < 400 || !json_get(v, "error", 5) ||
		   after != before) {
		abort();
	}
	fbuf_release(&r.out);
	json_arena_free(a);
	free(body);
	free(seg0);
	free(seg1);
	return 0;
}
