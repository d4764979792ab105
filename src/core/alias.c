/*
 * alias.c - atomic alias updates and name resolution (public API).
 */
#include <stdio.h>
#include <string.h>

#include "core/catalog.h"
#include "core/db.h"
#include "core/err.h"
#include "core/names.h"

static int apply_op(fstore_txn *t, const ferry_alias_op *op, ferry_err *err)
{
	fname_parts p;
	fcat_index ix;
	char cur[FERRY_NAME_MAX + 1];
	int via, rc = fname_parse(op->alias ? op->alias : "", &p, err);
	if (rc)
		return rc;
	if (p.kind != FNAME_ALIAS)
		return ferry_err_set(err, FERRY_ENAME, "alias '%s' must have the "
			"form {tenant}.{index}, e.g. acme.profile", op->alias);
	if (op->action == FERRY_ALIAS_REMOVE) {
		if (fcat_alias_get(t, op->alias, cur))
			return ferry_err_set(err, FERRY_ENOTFOUND, "no alias '%s'",
					     op->alias);
		if (op->index && *op->index &&
		    (rc = fcat_resolve(t, op->index, &ix, &via, err)) == 0 &&
		    strcmp(ix.name, cur))
			return ferry_err_set(err, FERRY_ENOTFOUND, "alias '%s' points "
				"at '%s', not '%s'", op->alias, cur, ix.name);
		if (rc)
			return rc;
		return fcat_alias_del(t, op->alias);
	}
	if (op->action != FERRY_ALIAS_ADD)
		return ferry_err_set(err, FERRY_EINVAL, "unknown alias action %d",
				     (int)op->action);
	fcat_index clash;
	if (fcat_index_get(t, op->alias, &clash) == 0)
		return ferry_err_set(err, FERRY_EEXISTS, "'%s' is an index name; "
				     "an alias cannot shadow it", op->alias);
	if ((rc = fcat_resolve(t, op->index ? op->index : "", &ix, &via, err)))
		return rc;
	return fcat_alias_put(t, op->alias, ix.name, err);
}

int ferry_alias_update(ferry_db *db, const ferry_alias_op *ops, size_t n,
		       ferry_err *err)
{
	fstore_txn *t;
	int rc = fdb_begin(db, 1, &t, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = apply_op(t, &ops[i], err))) {
			fdb_abort(t);
			return rc;
		}
	return fdb_commit(t, err);
}

int ferry_alias_resolve(ferry_db *db, const char *name,
			char out[FERRY_NAME_MAX + 1], ferry_err *err)
{
	fstore_txn *t;
	fcat_index ix;
	int via, rc = fdb_begin(db, 0, &t, err);
	if (rc)
		return rc;
	if (!(rc = fcat_resolve(t, name, &ix, &via, err)))
		memcpy(out, ix.name, sizeof ix.name);
	fdb_abort(t);
	return rc;
}
