/*
 * versions.c - the public API for data versions, releases and tenants.
 *
 * A new tenant gets the index set the others have: every logical index
 * tenants have in the active version, with the same create body (tenant
 * "default"'s, else the first tenant's by name), and its aliases. While
 * an upgrade builds a new version, the same transaction also gives it
 * the target indices and upgrade items (ujob_tenant_join), so the
 * cutover switches it with every other tenant; after a cutover, the set
 * of the version a rollback returns to. The add is counted against the
 * index budget inside its transaction, which is aborted when over.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/budget.h"
#include "core/catalog.h"
#include "core/db.h"
#include "core/err.h"
#include "core/names.h"
#include "core/tkey.h"
#include "core/version.h"
#include "core/index.h"
#include "migrate/upgrade.h"

struct vlist {
	fstore_txn *t;
	ferry_version_info *v;
	size_t n, cap;
};

struct count_ctx {
	const char *version;
	uint64_t n;
};

static int count_version(void *p, const fcat_index *ix)
{
	struct count_ctx *c = p;
	if (!strcmp(ix->version, c->version))
		c->n++;
	return 0;
}

static int version_visit(void *p, fcat_version *v)
{
	struct vlist *l = p;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		ferry_version_info *nv = realloc(l->v, cap * sizeof *nv);
		if (!nv)
			return FERRY_ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	ferry_version_info *o = &l->v[l->n];
	memset(o, 0, sizeof *o);
	snprintf(o->data_version, sizeof o->data_version, "%s", v->data_version);
	snprintf(o->release, sizeof o->release, "%s", v->release);
	snprintf(o->state, sizeof o->state, "%s", v->state);
	snprintf(o->from, sizeof o->from, "%s", v->from);
	o->created_ms = v->created_ms;
	o->activated_ms = v->activated_ms;
	struct count_ctx c = {v->data_version, 0};
	fcat_index_each(l->t, count_version, &c);
	o->indices = c.n;
	if (!(o->history_json = fbuf_detach(&v->history, NULL)))
		return FERRY_ENOMEM;
	l->n++;
	return 0;
}

static int cmp_version(const void *a, const void *b)
{
	const ferry_version_info *x = a, *y = b;
	fversion vx, vy;
	if (fversion_parse(x->data_version, &vx, NULL) ||
	    fversion_parse(y->data_version, &vy, NULL))
		return strcmp(x->data_version, y->data_version);
	return fversion_cmp(&vx, &vy);
}

int ferry_version_list(ferry_db *db, ferry_version_info **out, size_t *n,
		       ferry_err *err)
{
	fstore_txn *t;
	fcat_settings s;
	struct vlist l = {0};
	int rc = fdb_begin(db, 0, &t, err);
	if (rc)
		return rc;
	l.t = t;
	if (!(rc = fcat_settings_get(t, &s, err)) &&
	    (rc = fcat_version_each(t, version_visit, &l)))
		ferry_err_set(err, rc, "listing versions: %s", ferry_strerror(rc));
	fdb_abort(t);
	if (rc) {
		ferry_version_list_free(l.v, l.n);
		return rc;
	}
	qsort(l.v, l.n, sizeof *l.v, cmp_version);
	*out = l.v;
	*n = l.n;
	return 0;
}

void ferry_version_list_free(ferry_version_info *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		free(list[i].history_json);
	free(list);
}

static int record_in(fstore_txn *t, const char *release, ferry_err *err)
{
	fcat_settings s;
	fversion cur, rel;
	fcat_version v;
	int rc = fcat_settings_get(t, &s, err);
	if (rc || (rc = fversion_parse(release, &rel, err)) ||
	    (rc = fversion_parse(s.release, &cur, err)))
		return rc;
	switch (fversion_classify(&cur, &rel, s.data_parts)) {
	case FVERSION_SAME:
		return 0;
	case FVERSION_MAJOR:
		return ferry_err_set(err, FERRY_EVERSION, "release %s has a new "
			"data version (active: %s); that is a major upgrade: run "
			"`ferry upgrade plan --to %s`", release, s.data_version,
			release);
	case FVERSION_DOWNGRADE:
		return ferry_err_set(err, FERRY_EVERSION, "release %s is older "
			"than the active release %s; downgrades are refused "
			"(`ferry rollback` is the way back)", release, s.release);
	case FVERSION_MINOR:
		break;
	}
	if ((rc = fcat_version_get(t, s.data_version, &v)))
		return ferry_err_set(err, rc, "version record %s is missing",
				     s.data_version);
	fversion_format(&rel, s.release, sizeof s.release);
	snprintf(v.release, sizeof v.release, "%s", s.release);
	char extra[128];
	snprintf(extra, sizeof extra, "\"release\":\"%s\"", s.release);
	rc = fcat_version_event(&v, "release", extra);
	rc = rc ? ferry_err_set(err, rc, NULL) : fcat_version_put(t, &v, err);
	fcat_version_release(&v);
	return rc ? rc : fcat_settings_put(t, &s, err);
}

int ferry_release_record(ferry_db *db, const char *release, ferry_err *err)
{
	fstore_txn *t;
	int rc = fdb_begin(db, 1, &t, err);
	if (rc)
		return rc;
	if ((rc = record_in(t, release, err))) {
		fdb_abort(t);
		return rc;
	}
	return fdb_commit(t, err);
}

/* The logical indices tenants have in the active version, each with the
 * physical index whose body the new tenant copies. */
struct tset {
	const char *active, *tenant;
	struct tix {
		char index[FERRY_PART_MAX + 1];
		char from[FERRY_NAME_MAX + 1];
		char owner[FERRY_PART_MAX + 1];
	} *v;
	size_t n;
};

static int tset_visit(void *p, const fcat_index *ix)
{
	struct tset *c = p;
	size_t i;
	if (strcmp(ix->version, c->active) || !ix->index[0] ||
	    !strcmp(ix->index, FNAME_FAILED) || !strcmp(ix->tenant, c->tenant))
		return 0;
	for (i = 0; i < c->n && strcmp(c->v[i].index, ix->index); i++)
		;
	if (i == c->n) {
		struct tix *nv = realloc(c->v, (c->n + 1) * sizeof *nv);
		if (!nv)
			return FERRY_ENOMEM;
		c->v = nv;
		c->n++;
	} else if (!strcmp(c->v[i].owner, "default") ||
		   (strcmp(ix->tenant, "default") &&
		    strcmp(ix->tenant, c->v[i].owner) > 0)) {
		return 0; /* keep default's, else the first tenant's by name */
	}
	snprintf(c->v[i].index, sizeof c->v[i].index, "%s", ix->index);
	snprintf(c->v[i].from, sizeof c->v[i].from, "%s", ix->name);
	snprintf(c->v[i].owner, sizeof c->v[i].owner, "%s", ix->tenant);
	return 0;
}

/* Creates tenant's index and alias like c->v[i] (same body). */
static int tset_create(fstore_txn *t, const struct tset *c, size_t i,
		       ferry_err *err)
{
	char key[8 + FERRY_NAME_MAX], alias[FERRY_NAME_MAX + 1];
	const char *v;
	size_t vl = 0;
	char *body = NULL;
	snprintf(key, sizeof key, "ibody/%s", c->v[i].from);
	if (t->store->ops->kv_get(t, key, &v, &vl) == 0 && vl) {
		if (!(body = malloc(vl))) /* the next write moves v */
			return ferry_err_set(err, FERRY_ENOMEM, NULL);
		memcpy(body, v, vl);
	}
	fname_alias(c->tenant, c->v[i].index, alias, sizeof alias);
	int rc = findex_create_txn(t, alias, body, vl, err);
	free(body);
	return rc;
}

/* Creates the tenant's indices in t: the active set, and through
 * ujob_tenant_join the upgrade's target set or the set kept for a
 * rollback. */
static int tenant_sets(fstore_txn *t, const char *tenant, const char *active,
		       ferry_err *err)
{
	struct tset c = {active, tenant, NULL, 0};
	int rc = fcat_tenant_put(t, tenant, err);
	if (rc)
		return rc;
	if ((rc = fcat_index_each(t, tset_visit, &c)))
		rc = ferry_err_set(err, rc, "reading the catalog");
	for (size_t i = 0; !rc && i < c.n; i++)
		rc = tset_create(t, &c, i, err);
	free(c.v);
	return rc ? rc : ujob_tenant_join(t, tenant, err);
}

struct add_args {
	const char *tenant, *active;
};

static int add_op(fstore_txn *t, void *ctx, ferry_err *err)
{
	const struct add_args *a = ctx;
	return tenant_sets(t, a->tenant, a->active, err);
}

/* The whole add inside t, counted against the index budget: over it, an
 * error and the caller aborts t, so nothing is written. */
static int tenant_add_in(fstore_txn *t, const char *tenant, ferry_err *err)
{
	fcat_settings s;
	char what[128];
	int rc = fcat_settings_get(t, &s, err);
	if (rc)
		return rc;
	if (fcat_tenant_exists(t, tenant))
		return ferry_err_set(err, FERRY_EEXISTS, "tenant '%s' already "
				     "exists", tenant);
	struct add_args a = {tenant, s.data_version};
	snprintf(what, sizeof what, "tenant '%s' was not added", tenant);
	return fbudget_run(t, what, add_op, &a, err);
}

int ferry_tenant_add(ferry_db *db, const char *tenant, ferry_err *err)
{
	fstore_txn *t;
	int rc = fname_check_part(tenant, "tenant", err);
	if (rc || (rc = fdb_begin(db, 1, &t, err)))
		return rc;
	if ((rc = tenant_add_in(t, tenant, err))) {
		fdb_abort(t);
		return rc;
	}
	return fdb_commit(t, err);
}

/* The tenant's indices in every version. */
struct tdel {
	const char *tenant;
	fstore_txn *t;
	fbuf names;  /* NUL-separated */
	size_t n;
	uint64_t docs;
};

static int tdel_visit(void *p, const fcat_index *ix)
{
	struct tdel *c = p;
	fstore_stats st = {0};
	if (strcmp(ix->tenant, c->tenant))
		return 0;
	c->t->store->ops->ix_stats(c->t, ix->ix, &st);
	c->docs += st.docs;
	c->n++;
	return fbuf_add(&c->names, ix->name, strlen(ix->name) + 1);
}

static int tenant_remove_in(fstore_txn *t, struct tdel *c, int force,
			    ferry_err *err)
{
	fcat_settings s;
	ujob j;
	int rc = fcat_settings_get(t, &s, err);
	if (rc)
		return rc;
	if (!strcmp(c->tenant, "default"))
		return ferry_err_set(err, FERRY_EPERM, "tenant 'default' cannot be "
			"removed: logical names without a tenant mean it");
	if (!fcat_tenant_exists(t, c->tenant))
		return ferry_err_set(err, FERRY_ENOTFOUND, "there is no tenant "
				     "'%s'", c->tenant);
	if (ujob_load_header(t, &j) == 0) {
		int busy = ujob_building(&j);
		if (busy)
			rc = ferry_err_set(err, FERRY_EBUSY, "an upgrade to %s is "
				"under way and covers tenant '%s'; remove it after the "
				"upgrade finished or was aborted", j.to, c->tenant);
		ujob_release(&j);
		if (rc)
			return rc;
	}
	if ((rc = fcat_index_each(t, tdel_visit, c)))
		return ferry_err_set(err, rc, "reading the catalog");
	if (c->docs && !force)
		return ferry_err_set(err, FERRY_EPERM, "tenant '%s' has %zu indices "
			"holding %llu documents; pass --force to delete them with "
			"the tenant", c->tenant, c->n, (unsigned long long)c->docs);
	const char *p = c->names.p;
	for (size_t i = 0; i < c->n; i++, p += strlen(p) + 1)
		if ((rc = findex_delete_txn(t, p, 1, err)))
			return rc;
	/* its keys go in the same transaction: a tenant created later under
	 * the same name must not inherit them */
	if ((rc = ftkey_drop_tenant(t, c->tenant, NULL, err)))
		return rc;
	return fcat_tenant_del(t, c->tenant);
}

int ferry_tenant_remove(ferry_db *db, const char *tenant, int force,
			ferry_err *err)
{
	fstore_txn *t;
	struct tdel c = {tenant, NULL, FBUF_INIT, 0, 0};
	int rc = fname_check_part(tenant, "tenant", err);
	if (rc || (rc = fdb_begin(db, 1, &t, err)))
		return rc;
	c.t = t;
	rc = tenant_remove_in(t, &c, force, err);
	fbuf_release(&c.names);
	if (rc) {
		fdb_abort(t);
		return rc;
	}
	if ((rc = fdb_commit(t, err)))
		return rc;
	fdb_purge(db, NULL); /* free the deleted indices' pages */
	return 0;
}

struct strv {
	char **v;
	size_t n, cap;
};

static int tenant_visit(void *p, const fstore_entry *e)
{
	struct strv *s = p;
	if (s->n + 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		char **nv = realloc(s->v, cap * sizeof *nv);
		if (!nv)
			return FERRY_ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n] = strndup(e->id + 7, e->idlen - 7);
	if (!s->v[s->n])
		return FERRY_ENOMEM;
	s->v[++s->n] = NULL;
	return 0;
}

int ferry_tenant_list(ferry_db *db, char ***out, ferry_err *err)
{
	fstore_txn *t;
	struct strv s = {0};
	fcat_settings st;
	int rc = fdb_begin(db, 0, &t, err);
	if (rc)
		return rc;
	if ((rc = fcat_settings_get(t, &st, err))) {
		fdb_abort(t);
		return rc;
	}
	rc = db->ops->kv_scan(t, "tenant/", tenant_visit, &s);
	fdb_abort(t);
	if (!rc && !s.v && !(s.v = calloc(1, sizeof *s.v)))
		rc = FERRY_ENOMEM;
	if (rc) {
		ferry_strv_free(s.v);
		return ferry_err_set(err, rc, "listing tenants");
	}
	*out = s.v;
	return 0;
}

void ferry_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}
