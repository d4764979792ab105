/*
 * h_doc.c - single-document routes in Elasticsearch's shapes:
 * GET|HEAD /{index}/_doc/{id} (and /_source/{id}), PUT|POST
 * /{index}/_doc/{id} (op_type=create and /_create/{id} fail on an
 * existing id with 409), POST /{index}/_doc (generated id), DELETE, and
 * POST /{index}/_update/{id} (a partial update: a one-op bulk through
 * commitq.c, so it merges inside the write transaction and shares the
 * group commit with concurrent bulks and updates).
 *
 * ferry has no per-document version counter: "_version" and "_seq_no"
 * both carry the write's per-index sequence number, which grows with every
 * write to the document (docs/rest-api.md). Writes are visible at once, so
 * `refresh` is accepted and ignored. Indices are never created by a
 * document write (ES's auto-create): index sets belong to data versions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

/* The physical name behind `name`, or `name` itself if it cannot be read. */
static void physical_of(freq *r, const char *name, char out[FERRY_NAME_MAX + 1])
{
	if (ferry_alias_resolve(r->db, name, out, NULL))
		snprintf(out, FERRY_NAME_MAX + 1, "%s", name);
}

/* {"_index":..,"_id":.. (the object is left open) */
static void add_ident(fbuf *o, const char *index, const char *id, size_t idlen)
{
	fbuf_adds(o, "{\"_index\":");
	fbuf_add_jstr(o, index, strlen(index));
	fbuf_adds(o, ",\"_id\":");
	fbuf_add_jstr(o, id, idlen);
}

static void add_meta(fbuf *o, const char *index, const char *id, size_t idlen,
		     uint64_t seq)
{
	add_ident(o, index, id, idlen);
	fbuf_addf(o, ",\"_version\":%llu,\"_seq_no\":%llu,\"_primary_term\":1",
		  (unsigned long long)seq, (unsigned long long)seq);
}

void h_doc_get(freq *r)
{
	const char *id = r->seg[2];
	char index[FERRY_NAME_MAX + 1];
	char phys[FERRY_NAME_MAX + 1] = "";
	char *body = NULL;
	size_t len;
	uint64_t seq;
	ferry_err err;
	int rc, source_only = !strcmp(r->seg[1], "_source");

	if (freq_index_name(r, r->seg[0], index))
		return;
	rc = ferry_doc_fetch(r->db, index, id, strlen(id), &body, &len, &seq,
			     phys, &err);
	if (rc == FERRY_ENOTFOUND && phys[0]) {
		if (source_only) {
			freq_error(r, 404, "resource_not_found_exception",
				   "Document not found [%s]/[%s]", phys, id);
			return;
		}
		add_ident(&r->out, phys, id, strlen(id));
		fbuf_adds(&r->out, ",\"found\":false}");
		r->status = 404;
		return;
	}
	if (rc) {
		freq_ferr_index(r, rc, &err, index);
		return;
	}
	if (source_only) {
		fbuf_add(&r->out, body, len);
	} else {
		add_meta(&r->out, phys, id, strlen(id), seq);
		fbuf_adds(&r->out, ",\"found\":true,\"_source\":");
		fbuf_add(&r->out, body, len);
		fbuf_addc(&r->out, '}');
	}
	ferry_free(body);
}

static void write_reply(freq *r, const char *index, const ferry_write_result *w,
			int deleted)
{
	char phys[FERRY_NAME_MAX + 1];
	const char *result = deleted ? "deleted" :
			     w->noop ? "noop" :
			     w->created ? "created" : "updated";

	physical_of(r, index, phys);
	fbuf_clear(&r->out);
	add_meta(&r->out, phys, w->id, strlen(w->id), w->seq);
	fbuf_addf(&r->out, ",\"result\":\"%s\",\"_shards\":{\"total\":1,"
			   "\"successful\":1,\"failed\":0}}", result);
	r->status = !deleted && w->created ? 201 : 200;
}

/* Writes the body under id (NULL: generated). */
static void put_doc(freq *r, const char *id, enum ferry_op op)
{
	char index[FERRY_NAME_MAX + 1];
	ferry_write_result w;
	ferry_err err;
	int rc;

	if (freq_index_name(r, r->seg[0], index))
		return;
	rc = ferry_doc_put(r->db, index, id, id ? strlen(id) : 0, r->body,
			   r->body_len, op, &w, &err);
	if (rc == FERRY_EEXISTS) {
		uint64_t seq = 0;
		char *b = NULL;
		size_t bl;

		if (!ferry_doc_get(r->db, index, id, strlen(id), &b, &bl, &seq,
				   NULL))
			ferry_free(b);
		freq_error(r, 409, "version_conflict_engine_exception",
			   "[%s]: version conflict, document already exists "
			   "(current version [%llu])", id,
			   (unsigned long long)seq);
		return;
	}
	if (rc == FERRY_EJSON && r->body_len == 0) {
		freq_error(r, 400, "action_request_validation_exception",
			   "Validation Failed: 1: source is missing;");
		return;
	}
	if (rc) {
		freq_ferr_index(r, rc, &err, index);
		return;
	}
	write_reply(r, index, &w, 0);
}

void h_doc_put(freq *r)
{
	const char *op = freq_arg(r, "op_type");
	enum ferry_op fop = FERRY_OP_INDEX;

	if (!strcmp(r->seg[1], "_create") || (op && !strcmp(op, "create")))
		fop = FERRY_OP_CREATE;
	else if (op && strcmp(op, "index")) {
		freq_error(r, 400, "illegal_argument_exception",
			   "op_type must be 'index' or 'create', got [%s]", op);
		return;
	}
	put_doc(r, r->seg[2], fop);
}

void h_doc_post(freq *r)
{
	put_doc(r, NULL, FERRY_OP_CREATE);
}

void h_doc_delete(freq *r)
{
	const char *id = r->seg[2];
	char index[FERRY_NAME_MAX + 1], phys[FERRY_NAME_MAX + 1] = "";
	ferry_write_result w;
	ferry_err err;
	int rc;

	if (freq_index_name(r, r->seg[0], index))
		return;
	rc = ferry_doc_delete(r->db, index, id, strlen(id), &w, &err);
	if (rc == FERRY_ENOTFOUND &&
	    !ferry_alias_resolve(r->db, index, phys, NULL)) {
		add_ident(&r->out, phys, id, strlen(id));
		fbuf_adds(&r->out, ",\"result\":\"not_found\",\"_shards\":"
				   "{\"total\":1,\"successful\":1,\"failed\":0}}");
		r->status = 404;
		return;
	}
	if (rc) {
		freq_ferr_index(r, rc, &err, index);
		return;
	}
	write_reply(r, index, &w, 1);
}

/* The error of a failed update op, in ES's shapes. */
static void update_error(freq *r, int rc, const ferry_err *err,
			 const char *index)
{
	char phys[FERRY_NAME_MAX + 1];

	if (rc == FERRY_ENOTFOUND &&
	    !ferry_alias_resolve(r->db, index, phys, NULL))
		freq_error(r, 404, "document_missing_exception", "%s", err->msg);
	else if (rc == FERRY_EJSON)
		freq_error(r, 400, "parse_exception", "%s", err->msg);
	else
		freq_ferr_index(r, rc, err, index);
}

void h_doc_update(freq *r)
{
	const char *id = r->seg[2];
	char index[FERRY_NAME_MAX + 1];
	ferry_bulk *b = NULL;
	ferry_write_result w;
	ferry_err err = {0, ""};
	int rc;

	if (freq_index_name(r, r->seg[0], index))
		return;
	if (strlen(id) > FERRY_ID_MAX) {
		freq_error(r, 400, "illegal_argument_exception", "id is %zu bytes "
			   "long; the limit is %d", strlen(id), FERRY_ID_MAX);
		return;
	}
	if (ferry_bulk_new(r->db, &b) ||
	    ferry_bulk_add(b, FERRY_OP_UPDATE, index, id, strlen(id), r->body,
			   r->body_len)) {
		freq_error(r, 503, "out_of_memory_exception", "out of memory");
		goto out;
	}
	if ((rc = fsrv_bulk_commit(r->srv, b, &err))) {
		freq_ferr(r, rc, &err);
		goto out;
	}
	if ((rc = ferry_bulk_result(b, 0, &w, &err)))
		update_error(r, rc, &err, index);
	else
		write_reply(r, index, &w, 0);
out:
	ferry_bulk_free(b);
}
