/*
 * doc.c - the public single-document API: put, get, delete, count.
 * Bodies are validated before any transaction starts, so a bad body
 * never costs a write lock and never writes anything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/catalog.h"
#include "core/db.h"
#include "core/doc.h"
#include "core/err.h"
#include "core/names.h"
#include "json/json.h"

int fdoc_check_body(const char *body, size_t len, ferry_err *err)
{
	json_error je;
	const char *v;
	size_t vl;
	if (!body)
		return ferry_err_set(err, FERRY_EJSON, "document body is missing");
	if (len > FERRY_DOC_MAX)
		return ferry_err_set(err, FERRY_ELIMIT, "document body is %zu "
			"bytes; the limit is %u", len, FERRY_DOC_MAX);
	if (json_validate_object(body, len, NULL, &v, &vl, &je))
		return ferry_err_set(err, FERRY_EJSON, "invalid JSON at byte %zu: "
				     "%s", je.offset, je.msg);
	return 0;
}

static void fill_result(ferry_write_result *out, const char *id, size_t idlen,
			uint64_t seq, int created)
{
	if (!out)
		return;
	memcpy(out->id, id, idlen);
	out->id[idlen] = 0;
	out->seq = seq;
	out->created = created == 1;
	out->noop = created == FSTORE_NOOP;
}

static int write_one(ferry_db *db, const char *index, const char *id,
		     size_t idlen, const char *body, size_t blen,
		     enum ferry_op op, ferry_write_result *out, ferry_err *err)
{
	fstore_txn *t;
	fcat_index ix;
	uint64_t seq;
	int via, created, rc = fdb_begin(db, 1, &t, err);
	if (rc)
		return rc;
	if ((rc = fcat_resolve(t, index, &ix, &via, err)) ||
	    (rc = fcat_check_writable(t, &ix, err)) ||
	    (rc = db->ops->doc_write(t, ix.ix, op, id, idlen, body, blen, &seq,
				     &created, err))) {
		fdb_abort(t);
		return rc;
	}
	if ((rc = fdb_commit(t, err)))
		return rc;
	fill_result(out, id, idlen, seq, created);
	return 0;
}

int ferry_doc_put(ferry_db *db, const char *index, const char *id,
		  size_t idlen, const char *body, size_t body_len,
		  enum ferry_op op, ferry_write_result *out, ferry_err *err)
{
	char gen[21];
	int rc;
	if (op != FERRY_OP_INDEX && op != FERRY_OP_CREATE)
		return ferry_err_set(err, FERRY_EINVAL, "put takes op index or "
				     "create");
	if ((rc = fdoc_check_body(body, body_len, err)))
		return rc;
	if (!id || !idlen) {
		fdb_gen_id(db, gen);
		id = gen;
		idlen = 20;
	} else if ((rc = fname_check_id(id, idlen, err))) {
		return rc;
	}
	return write_one(db, index, id, idlen, body, body_len, op, out, err);
}

int ferry_doc_delete(ferry_db *db, const char *index, const char *id,
		     size_t idlen, ferry_write_result *out, ferry_err *err)
{
	int rc = fname_check_id(id, idlen, err);
	if (rc)
		return rc;
	return write_one(db, index, id, idlen, NULL, 0, FERRY_OP_DELETE, out,
			 err);
}

int ferry_doc_get(ferry_db *db, const char *index, const char *id,
		  size_t idlen, char **body, size_t *body_len, uint64_t *seq,
		  ferry_err *err)
{
	return ferry_doc_fetch(db, index, id, idlen, body, body_len, seq, NULL,
			       err);
}

int ferry_doc_fetch(ferry_db *db, const char *index, const char *id,
		    size_t idlen, char **body, size_t *body_len, uint64_t *seq,
		    char physical[FERRY_NAME_MAX + 1], ferry_err *err)
{
	fstore_txn *t;
	fcat_index ix;
	fstore_entry e;
	int via, rc = fdb_begin(db, 0, &t, err);
	if (rc)
		return rc;
	if ((rc = fcat_resolve(t, index, &ix, &via, err)))
		goto out;
	if (physical)
		snprintf(physical, FERRY_NAME_MAX + 1, "%s", ix.name);
	rc = db->ops->doc_get(t, ix.ix, id, idlen, &e);
	if (rc == FERRY_ENOTFOUND) {
		ferry_err_set(err, rc, "document '%.*s' not found in '%s'",
			      (int)(idlen > 200 ? 200 : idlen), id, ix.name);
		goto out;
	}
	if (rc) {
		ferry_err_set(err, rc, "reading document: %s", ferry_strerror(rc));
		goto out;
	}
	char *p = malloc(e.body_len + 1);
	if (!p) {
		rc = ferry_err_set(err, FERRY_ENOMEM, NULL);
		goto out;
	}
	memcpy(p, e.body, e.body_len);
	p[e.body_len] = 0;
	*body = p;
	*body_len = e.body_len;
	if (seq)
		*seq = e.seq;
out:
	fdb_abort(t);
	return rc;
}

int ferry_doc_count(ferry_db *db, const char *index, uint64_t *out,
		    ferry_err *err)
{
	ferry_index_info info;
	int rc = ferry_index_get(db, index, &info, err);
	if (!rc)
		*out = info.docs;
	return rc;
}
