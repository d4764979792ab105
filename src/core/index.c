/*
 * index.c - the public index API: create, delete, get, list, body.
 *
 * A logical name ("profile") or alias ("acme.profile") given to create
 * makes the physical index of the active data version
 * ("v0_8_1.acme.profile") and points the alias at it, in one transaction.
 * ferry_index_create counts the indices before and after the create inside
 * that transaction and aborts it when the create would cross the index
 * budget (budget.h), as a tenant add does (a count of the catalog's index
 * keys first: the full count per version only when one more may not fit); findex_create_txn does not:
 * its callers (tenant add, the upgrade) count their whole operation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/budget.h"
#include "core/catalog.h"
#include "core/db.h"
#include "core/err.h"
#include "core/index.h"
#include "core/names.h"
#include "core/version.h"
#include "json/json.h"

/* Works out physical name, tenant and logical index for a create. */
static int plan_name(fstore_txn *t, const char *name, const fcat_settings *s,
		     fcat_index *ix, char alias[FERRY_NAME_MAX + 1],
		     ferry_err *err)
{
	fname_parts p;
	fversion dv;
	char tok[64];
	int rc = fname_parse(name, &p, err);
	if (rc)
		return rc;
	alias[0] = 0;
	memset(ix, 0, sizeof *ix);
	if (p.kind == FNAME_OTHER)
		return ferry_err_set(err, FERRY_ENAME, "'%s' is not a ferry index "
			"name; use a logical name like profile (a-z 0-9 _ -, at most "
			"63), an alias like acme.profile, or a physical name like "
			"v0_8_1.acme.profile", name);
	snprintf(ix->tenant, sizeof ix->tenant, "%s",
		 p.kind == FNAME_LOGICAL ? "default" : p.tenant);
	if (p.kind == FNAME_PHYSICAL) {
		if ((rc = fversion_parse_token(p.vtoken, &dv, err)))
			return rc;
		fversion_format(&dv, ix->version, sizeof ix->version);
		snprintf(ix->name, sizeof ix->name, "%s", name);
	} else {
		if ((rc = fversion_parse(s->data_version, &dv, err)))
			return rc;
		snprintf(ix->version, sizeof ix->version, "%s", s->data_version);
		fversion_token(&dv, tok, sizeof tok);
		fname_physical(tok, ix->tenant, p.index, ix->name, sizeof ix->name);
	}
	snprintf(ix->index, sizeof ix->index, "%s", p.index);
	if (!fcat_tenant_exists(t, ix->tenant))
		return ferry_err_set(err, FERRY_ENOTFOUND, "unknown tenant '%s' in "
			"'%s'; add it with `ferry tenant add %s`", ix->tenant, name,
			ix->tenant);
	if (!strcmp(ix->version, s->data_version))
		fname_alias(ix->tenant, ix->index, alias, FERRY_NAME_MAX + 1);
	return 0;
}

static int check_body(const char *body, size_t len, ferry_err *err)
{
	json_error je;
	const char *v;
	size_t vl;
	if (json_validate_object(body, len, NULL, &v, &vl, &je))
		return ferry_err_set(err, FERRY_EJSON, "index body is not a valid "
			"JSON object: %s at byte %zu", je.msg, je.offset);
	return 0;
}

int findex_create_txn(fstore_txn *t, const char *name, const char *body,
		      size_t blen, ferry_err *err)
{
	fcat_settings s;
	fcat_index ix, old;
	char alias[FERRY_NAME_MAX + 1], cur[FERRY_NAME_MAX + 1];
	int rc = fcat_settings_get(t, &s, err);
	if (rc || (rc = plan_name(t, name, &s, &ix, alias, err)))
		return rc;
	if (fcat_index_get(t, ix.name, &old) == 0)
		return ferry_err_set(err, FERRY_EEXISTS, "index '%s' already "
				     "exists", ix.name);
	ix.ix = s.next_ix++;
	ix.created_ms = fcat_now_ms();
	if ((rc = t->store->ops->ix_create(t, ix.ix, err)) ||
	    (rc = fcat_index_put(t, &ix, err)) ||
	    (rc = fcat_settings_put(t, &s, err)))
		return rc;
	if (blen) {
		char key[8 + FERRY_NAME_MAX];
		snprintf(key, sizeof key, "ibody/%s", ix.name);
		if ((rc = t->store->ops->kv_put(t, key, body, blen, err)))
			return rc;
	}
	if (alias[0] && fcat_alias_get(t, alias, cur) == FERRY_ENOTFOUND)
		rc = fcat_alias_put(t, alias, ix.name, err);
	return rc;
}

struct create_args {
	const char *name, *body;
	size_t blen;
};

static int create_op(fstore_txn *t, void *ctx, ferry_err *err)
{
	const struct create_args *a = ctx;
	return findex_create_txn(t, a->name, a->body, a->blen, err);
}

/* The create inside t, counted against the index budget: over it,
 * FERRY_ELIMIT and the caller aborts t, so nothing is written. */
static int create_in(fstore_txn *t, const char *name, const char *body,
		     size_t blen, ferry_err *err)
{
	struct create_args a = {name, body, blen};
	fcat_settings s;
	char what[FERRY_NAME_MAX + 32];
	size_t n;
	int rc = fcat_index_count(t, &n);
	if (rc)
		return ferry_err_set(err, rc, "counting indices: %s",
				     ferry_strerror(rc));
	if ((rc = fcat_settings_get(t, &s, err)))
		return rc;
	if (n < fbudget_limit(&s)) /* room for one more: the common case */
		return findex_create_txn(t, name, body, blen, err);
	snprintf(what, sizeof what, "index '%s' was not created", name);
	return fbudget_run(t, what, create_op, &a, err);
}

int ferry_index_create(ferry_db *db, const char *name, const char *body,
		       size_t body_len, ferry_err *err)
{
	fstore_txn *t;
	int rc;
	if (!body)
		body_len = 0;
	if (body_len && (rc = check_body(body, body_len, err)))
		return rc;
	if ((rc = fdb_begin(db, 1, &t, err)))
		return rc;
	if ((rc = create_in(t, name, body, body_len, err))) {
		fdb_abort(t);
		return rc;
	}
	if ((rc = fdb_commit(t, err)))
		return rc;
	fdb_purge(db, NULL); /* finish freeing indices a killed delete left */
	return 0;
}

struct alias_ctx {
	const char *target;
	char (*names)[FERRY_NAME_MAX + 1];
	size_t n, cap;
};

static int alias_visit(void *p, const fstore_entry *e)
{
	struct alias_ctx *c = p;
	size_t kl = e->idlen - 6; /* strip "alias/" */
	if (e->body_len != strlen(c->target) ||
	    memcmp(e->body, c->target, e->body_len) || kl > FERRY_NAME_MAX)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4;
		void *nv = realloc(c->names, cap * sizeof *c->names);
		if (!nv)
			return FERRY_ENOMEM;
		c->names = nv;
		c->cap = cap;
	}
	memcpy(c->names[c->n], e->id + 6, kl);
	c->names[c->n++][kl] = 0;
	return 0;
}

static int drop_aliases(fstore_txn *t, const char *physical)
{
	struct alias_ctx c = {physical, NULL, 0, 0};
	int rc = t->store->ops->kv_scan(t, "alias/", alias_visit, &c);
	for (size_t i = 0; !rc && i < c.n; i++)
		rc = fcat_alias_del(t, c.names[i]);
	free(c.names);
	return rc;
}

int findex_delete_txn(fstore_txn *t, const char *name, int force,
		      ferry_err *err)
{
	fcat_index ix;
	fcat_settings s;
	char alias[FERRY_NAME_MAX + 1];
	int via_alias, rc = fcat_resolve(t, name, &ix, &via_alias, err);
	if (rc || (rc = fcat_settings_get(t, &s, err)))
		return rc;
	if ((rc = drop_aliases(t, ix.name)))
		return ferry_err_set(err, rc, "removing aliases of '%s'", ix.name);
	if (via_alias && !force && !strcmp(ix.version, s.data_version))
		return ferry_err_set(err, FERRY_EPERM, "'%s' is an alias of index "
			"'%s'; to delete it, name the index itself (or pass "
			"--force)", name, ix.name);
	if ((rc = fcat_alias_of(t, &ix, alias)))
		return rc;
	if (alias[0])
		fcat_alias_del(t, alias);
	if ((rc = t->store->ops->ix_drop(t, ix.ix, err)))
		return rc;
	rc = fcat_index_del(t, ix.name);
	return rc ? ferry_err_set(err, rc, "removing '%s' from the catalog",
				  ix.name) : 0;
}

int ferry_index_delete(ferry_db *db, const char *name, int force,
		       ferry_err *err)
{
	fstore_txn *t;
	int rc = fdb_begin(db, 1, &t, err);
	if (rc)
		return rc;
	if ((rc = findex_delete_txn(t, name, force, err))) {
		fdb_abort(t);
		return rc;
	}
	if ((rc = fdb_commit(t, err)))
		return rc;
	fdb_purge(db, NULL); /* on failure, the next delete or create resumes */
	return 0;
}

static int fill_info(fstore_txn *t, const fcat_index *ix,
		     ferry_index_info *out)
{
	fstore_stats s = {0};
	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "%s", ix->name);
	snprintf(out->tenant, sizeof out->tenant, "%s", ix->tenant);
	snprintf(out->index, sizeof out->index, "%s", ix->index);
	snprintf(out->data_version, sizeof out->data_version, "%s", ix->version);
	out->created_ms = ix->created_ms;
	fcat_alias_of(t, ix, out->alias);
	int rc = t->store->ops->ix_stats(t, ix->ix, &s);
	out->docs = s.docs;
	out->bytes = s.bytes;
	out->seq = s.next_seq ? s.next_seq - 1 : 0;
	return rc;
}

int ferry_index_get(ferry_db *db, const char *name, ferry_index_info *out,
		    ferry_err *err)
{
	fstore_txn *t;
	fcat_index ix;
	int via, rc = fdb_begin(db, 0, &t, err);
	if (rc)
		return rc;
	if (!(rc = fcat_resolve(t, name, &ix, &via, err)) &&
	    (rc = fill_info(t, &ix, out)))
		ferry_err_set(err, rc, "reading index '%s'", ix.name);
	fdb_abort(t);
	return rc;
}

struct list_ctx {
	fstore_txn *t;
	const char *pattern;
	ferry_index_info *v;
	size_t n, cap;
};

static int list_visit(void *p, const fcat_index *ix)
{
	struct list_ctx *c = p;
	ferry_index_info info;
	int rc = fill_info(c->t, ix, &info);
	if (rc)
		return rc;
	if (!fname_glob2(c->pattern, info.name, info.alias))
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		ferry_index_info *nv = realloc(c->v, cap * sizeof *nv);
		if (!nv)
			return FERRY_ENOMEM;
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n++] = info;
	return 0;
}

int ferry_index_list(ferry_db *db, const char *pattern,
		     ferry_index_info **out, size_t *n, ferry_err *err)
{
	fstore_txn *t;
	struct list_ctx c = {0};
	int rc = fdb_begin(db, 0, &t, err);
	if (rc)
		return rc;
	c.t = t;
	c.pattern = pattern && strcmp(pattern, "*") ? pattern : NULL;
	fcat_settings s;
	if (!(rc = fcat_settings_get(t, &s, err)) &&
	    (rc = fcat_index_each(t, list_visit, &c)))
		ferry_err_set(err, rc, "listing indices: %s", ferry_strerror(rc));
	fdb_abort(t);
	if (rc) {
		free(c.v);
		return rc;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}

int ferry_index_body(ferry_db *db, const char *name, char **out,
		     size_t *len, ferry_err *err)
{
	fstore_txn *t;
	fcat_index ix;
	char key[8 + FERRY_NAME_MAX];
	const char *v = "{}";
	size_t vl = 2;
	int via, rc = fdb_begin(db, 0, &t, err);
	if (rc)
		return rc;
	if ((rc = fcat_resolve(t, name, &ix, &via, err)))
		goto out;
	snprintf(key, sizeof key, "ibody/%s", ix.name);
	t->store->ops->kv_get(t, key, &v, &vl);
	char *p = malloc(vl + 1);
	if (!p) {
		rc = ferry_err_set(err, FERRY_ENOMEM, NULL);
		goto out;
	}
	memcpy(p, v, vl);
	p[vl] = 0;
	*out = p;
	*len = vl;
out:
	fdb_abort(t);
	return rc;
}
