/*
 * versions.c - the public API for data versions, releases and tenants.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/catalog.h"
#include "core/db.h"
#include "core/err.h"
#include "core/names.h"
#include "core/version.h"

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

int ferry_tenant_add(ferry_db *db, const char *tenant, ferry_err *err)
{
	fstore_txn *t;
	fcat_settings s;
	int rc = fname_check_part(tenant, "tenant", err);
	if (rc || (rc = fdb_begin(db, 1, &t, err)))
		return rc;
	if ((rc = fcat_settings_get(t, &s, err)))
		goto fail;
	if (fcat_tenant_exists(t, tenant)) {
		rc = ferry_err_set(err, FERRY_EEXISTS, "tenant '%s' already "
				   "exists", tenant);
		goto fail;
	}
	if ((rc = fcat_tenant_put(t, tenant, err)))
		goto fail;
	return fdb_commit(t, err);
fail:
	fdb_abort(t);
	return rc;
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
