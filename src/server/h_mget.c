/*
 * h_mget.c - GET|POST /_mget and /{index}/_mget: many documents by id in
 * one request, in Elasticsearch's shapes. The body is
 * {"docs":[{"_index":..,"_id":..,"_source":false}, ..]} or, with an index
 * in the path, {"ids":[..]}; `?_source=false` leaves every _source out.
 *
 * The reply has one entry per requested document, in request order: GET's
 * shape when found, {"_index","_id","found":false} when the index has no
 * such id, and an "error" object for that document alone (no such index,
 * a bad name, another tenant's index) that does not fail the others. A
 * body that is not an mget request fails as a whole with 400, before
 * anything is read. Each document is read on its own, as ES's realtime
 * gets are: the reply is not one snapshot across documents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "server/server.h"

#define MGET_MAX 10000 /* documents a request (ES's max_result_window) */

typedef struct mget_doc {
	const char *index; /* as given: the path's or the doc's "_index" */
	const char *id;
	size_t idlen;
	int source;        /* include _source */
} mget_doc;

/* An id: a non-empty string, or an integer (ES takes 7 for "7"). */
static int id_of(const json_value *v, const char **id, size_t *len)
{
	if (v && v->type == JSON_STRING && v->u.str.len) {
		*id = v->u.str.s;
		*len = v->u.str.len;
		return 0;
	}
	if (v && v->type == JSON_NUMBER) {
		for (size_t i = 0; i < v->u.num.len; i++)
			if (strchr(".eE", v->u.num.text[i]))
				return -1;
		*id = v->u.num.text;
		*len = v->u.num.len;
		return 0;
	}
	return -1;
}

/* 1 if member m's key is exactly `key`. */
static int key_is(const json_member *m, const char *key)
{
	return m->klen == strlen(key) && !memcmp(m->key, key, m->klen);
}

static int bad(freq *r, size_t i, const char *what)
{
	freq_error(r, 400, "action_request_validation_exception",
		   "Validation Failed: 1: %s for doc %zu;", what, i);
	return -1;
}

/* One member of "docs". 0, or replied 400. */
static int doc_spec(freq *r, const json_value *d, size_t i,
		    const char *path_index, int source, mget_doc *out)
{
	const json_value *v;
	if (d->type != JSON_OBJECT)
		return bad(r, i, "a doc must be an object like "
			   "{\"_index\":\"profile\",\"_id\":\"1\"}");
	for (size_t k = 0; k < d->u.obj.n; k++) {
		const json_member *m = &d->u.obj.m[k];
		if (!key_is(m, "_index") && !key_is(m, "_id") &&
		    !key_is(m, "_source")) {
			freq_error(r, 400, "illegal_argument_exception",
				   "unknown field [%s] in doc %zu of the _mget "
				   "body; known fields: _index, _id, _source",
				   m->key, i);
			return -1;
		}
	}
	out->index = path_index;
	if ((v = json_get(d, "_index", 6))) {
		if (v->type != JSON_STRING || !v->u.str.len ||
		    strlen(v->u.str.s) != v->u.str.len)
			return bad(r, i, "_index must be a non-empty string");
		out->index = v->u.str.s;
	}
	if (!out->index)
		return bad(r, i, "index is missing");
	if (id_of(json_get(d, "_id", 3), &out->id, &out->idlen))
		return bad(r, i, "_id must be a non-empty string or an integer");
	out->source = source;
	if ((v = json_get(d, "_source", 7))) {
		if (v->type != JSON_TRUE && v->type != JSON_FALSE)
			return bad(r, i, "_source must be true or false here "
				   "(field lists are not supported)");
		out->source = v->type == JSON_TRUE;
	}
	return 0;
}

/* The body -> the documents to get. 0, or replied 400. */
static int parse_body(freq *r, const json_value *b, const char *path_index,
		      int source, mget_doc **docs, size_t *n)
{
	const json_value *dv = NULL, *iv = NULL;
	for (size_t k = 0; k < b->u.obj.n; k++) {
		const json_member *m = &b->u.obj.m[k];
		if (key_is(m, "docs"))
			dv = m->val;
		else if (key_is(m, "ids"))
			iv = m->val;
		else {
			freq_error(r, 400, "illegal_argument_exception",
				   "unknown field [%s] in the _mget body; "
				   "send {\"docs\":[..]} or {\"ids\":[..]}",
				   m->key);
			return -1;
		}
	}
	const json_value *list = dv ? dv : iv;
	if ((dv && iv) || !list || list->type != JSON_ARRAY || !list->u.arr.n) {
		freq_error(r, 400, "action_request_validation_exception",
			   "Validation Failed: 1: no documents to get; send "
			   "{\"docs\":[{\"_index\":..,\"_id\":..}]} or, with "
			   "an index in the path, {\"ids\":[..]};");
		return -1;
	}
	if (list->u.arr.n > MGET_MAX) {
		freq_error(r, 400, "illegal_argument_exception", "%zu documents "
			   "asked for; one _mget gets at most %d", list->u.arr.n,
			   MGET_MAX);
		return -1;
	}
	if (!(*docs = calloc(list->u.arr.n, sizeof **docs))) {
		freq_error(r, 503, "out_of_memory_exception", "out of memory");
		return -1;
	}
	*n = list->u.arr.n;
	for (size_t i = 0; i < *n; i++) {
		mget_doc *d = &(*docs)[i];
		if (dv && doc_spec(r, list->u.arr.v[i], i, path_index, source, d))
			return -1;
		if (dv)
			continue;
		if (!path_index)
			return bad(r, i, "index is missing");
		if (id_of(list->u.arr.v[i], &d->id, &d->idlen))
			return bad(r, i, "_id must be a non-empty string or an integer");
		d->index = path_index;
		d->source = source;
	}
	return 0;
}

/* {"_index":..,"_id":..,"error":{..}} for one document. */
static void doc_error(fbuf *o, const mget_doc *d, const char *type,
		      const char *reason)
{
	fbuf_adds(o, "{\"_index\":");
	fbuf_add_jstr(o, d->index, strlen(d->index));
	fbuf_adds(o, ",\"_id\":");
	fbuf_add_jstr(o, d->id, d->idlen);
	fbuf_adds(o, ",\"error\":");
	freq_error_object(o, type, reason);
	fbuf_addc(o, '}');
}

/* One entry of "docs" in the reply. */
static void get_one(freq *r, const mget_doc *d, fbuf *o)
{
	char scoped[FERRY_NAME_MAX + 1], phys[FERRY_NAME_MAX + 1] = "";
	char why[FERRY_NAME_MAX + 64];
	char *body = NULL;
	size_t len = 0;
	uint64_t seq = 0;
	ferry_err e = {0, ""};
	if (strpbrk(d->index, "*?,")) {
		doc_error(o, d, "illegal_argument_exception", "a single index "
			  "name is needed for each document, not a pattern");
		return;
	}
	if (freq_scope_name(r, d->index, scoped, sizeof scoped)) {
		doc_error(o, d, "security_exception", "a tenant key reaches only "
			  "its own tenant's indices");
		return;
	}
	int rc = ferry_doc_fetch(r->db, scoped, d->id, d->idlen, &body, &len,
				 &seq, phys, &e);
	if (rc == FERRY_ENOTFOUND && !phys[0]) {
		snprintf(why, sizeof why, "no such index [%s]", d->index);
		doc_error(o, d, "index_not_found_exception", why);
	} else if (rc && rc != FERRY_ENOTFOUND) {
		doc_error(o, d, rc == FERRY_ENAME ? "illegal_argument_exception" :
			  "exception", e.msg[0] ? e.msg : ferry_strerror(rc));
	} else {
		fbuf_adds(o, "{\"_index\":");
		fbuf_add_jstr(o, phys, strlen(phys));
		fbuf_adds(o, ",\"_id\":");
		fbuf_add_jstr(o, d->id, d->idlen);
		if (rc) {
			fbuf_adds(o, ",\"found\":false}");
		} else {
			fbuf_addf(o, ",\"_version\":%llu,\"_seq_no\":%llu,"
				  "\"_primary_term\":1,\"found\":true",
				  (unsigned long long)seq, (unsigned long long)seq);
			if (d->source) {
				fbuf_adds(o, ",\"_source\":");
				fbuf_add(o, body, len);
			}
			fbuf_addc(o, '}');
		}
	}
	ferry_free(body);
}

void fsrv_mget(freq *r, int source)
{
	json_arena *a = json_arena_new();
	json_value *b;
	mget_doc *docs = NULL;
	size_t n = 0;
	const char *path_index = r->nseg == 2 ? r->seg[0] : NULL;
	if (!a) {
		freq_error(r, 503, "out_of_memory_exception", "out of memory");
		return;
	}
	if (path_index && strpbrk(path_index, "*?,")) {
		freq_error(r, 400, "illegal_argument_exception", "[%s]: _mget "
			   "takes a single index name in the path", path_index);
		goto out;
	}
	if (freq_body_object(r, a, 1, &b) ||
	    parse_body(r, b, path_index, source, &docs, &n))
		goto out;
	fbuf_clear(&r->out);
	fbuf_adds(&r->out, "{\"docs\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			fbuf_addc(&r->out, ',');
		get_one(r, &docs[i], &r->out);
	}
	fbuf_adds(&r->out, "]}");
	r->status = 200;
out:
	free(docs);
	json_arena_free(a);
}

void h_mget(freq *r)
{
	fsrv_mget(r, freq_flag(r, "_source", 1));
}
