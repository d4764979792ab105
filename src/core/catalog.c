/*
 * catalog.c - catalog records (see catalog.h for the key layout): encode
 * with fbuf, decode with the JSON parser, inside the caller's transaction.
 */
#include "core/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/names.h"
#include "json/json.h"

#define KEY_MAX (16 + FERRY_NAME_MAX)

int64_t fcat_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int kv_get(fstore_txn *t, const char *key, const char **v, size_t *n)
{
	return t->store->ops->kv_get(t, key, v, n);
}

static int kv_put(fstore_txn *t, const char *key, const fbuf *b,
		  ferry_err *err)
{
	return t->store->ops->kv_put(t, key, b->p, b->len, err);
}

/* A parsed record: its arena and root object. */
typedef struct rec {
	json_arena *a;
	json_value *root;
} rec;

static int rec_load(fstore_txn *t, const char *key, rec *r)
{
	const char *v;
	size_t n;
	json_error je;
	int rc = kv_get(t, key, &v, &n);
	if (rc)
		return rc;
	if (!(r->a = json_arena_new()))
		return FERRY_ENOMEM;
	rc = json_parse(r->a, v, n, &r->root, &je);
	if (!rc && r->root->type != JSON_OBJECT)
		rc = FERRY_ECORRUPT;
	if (rc) {
		json_arena_free(r->a);
		return rc == FERRY_ENOMEM ? rc : FERRY_ECORRUPT;
	}
	return 0;
}

static void rec_str(const rec *r, const char *k, char *out, size_t n)
{
	json_value *v = json_get(r->root, k, strlen(k));
	out[0] = 0;
	if (v && v->type == JSON_STRING)
		snprintf(out, n, "%.*s", (int)v->u.str.len, v->u.str.s);
}

static int64_t rec_int(const rec *r, const char *k)
{
	json_value *v = json_get(r->root, k, strlen(k));
	int64_t x = 0;
	if (v && v->type == JSON_NUMBER && json_number_int64(v, &x))
		x = 0;
	return x;
}

/* ---- settings ---- */

int fcat_settings_get(fstore_txn *t, fcat_settings *out, ferry_err *err)
{
	rec r;
	int rc = rec_load(t, "settings", &r);
	if (rc == FERRY_ENOTFOUND)
		return ferry_err_set(err, FERRY_ENOTINIT,
			"the data directory is not initialised; run `ferry init "
			"--version X.Y.Z` first");
	if (rc)
		return ferry_err_set(err, rc, "reading catalog settings: %s",
				     ferry_strerror(rc));
	rec_str(&r, "release", out->release, sizeof out->release);
	rec_str(&r, "data_version", out->data_version, sizeof out->data_version);
	out->data_parts = (unsigned)rec_int(&r, "data_parts");
	out->index_budget = (unsigned)rec_int(&r, "index_budget");
	out->next_ix = (uint32_t)rec_int(&r, "next_ix");
	out->created_ms = rec_int(&r, "created_ms");
	json_arena_free(r.a);
	return 0;
}

int fcat_settings_put(fstore_txn *t, const fcat_settings *s, ferry_err *err)
{
	fbuf b = FBUF_INIT;
	int rc = fbuf_adds(&b, "{\"release\":");
	rc = rc ? rc : fbuf_add_jstr(&b, s->release, strlen(s->release));
	rc = rc ? rc : fbuf_adds(&b, ",\"data_version\":");
	rc = rc ? rc : fbuf_add_jstr(&b, s->data_version, strlen(s->data_version));
	rc = rc ? rc : fbuf_addf(&b, ",\"data_parts\":%u,\"index_budget\":%u,"
		"\"next_ix\":%u,\"created_ms\":%lld}", s->data_parts,
		s->index_budget, s->next_ix, (long long)s->created_ms);
	rc = rc ? ferry_err_set(err, rc, NULL) : kv_put(t, "settings", &b, err);
	fbuf_release(&b);
	return rc;
}

/* ---- indices ---- */

int fcat_index_get(fstore_txn *t, const char *physical, fcat_index *out)
{
	char key[KEY_MAX];
	rec r;
	if (strlen(physical) > FERRY_NAME_MAX)
		return FERRY_ENOTFOUND;
	snprintf(key, sizeof key, "index/%s", physical);
	int rc = rec_load(t, key, &r);
	if (rc)
		return rc;
	snprintf(out->name, sizeof out->name, "%s", physical);
	out->ix = (uint32_t)rec_int(&r, "ix");
	rec_str(&r, "tenant", out->tenant, sizeof out->tenant);
	rec_str(&r, "index", out->index, sizeof out->index);
	rec_str(&r, "version", out->version, sizeof out->version);
	out->created_ms = rec_int(&r, "created_ms");
	json_arena_free(r.a);
	return 0;
}

int fcat_index_put(fstore_txn *t, const fcat_index *ix, ferry_err *err)
{
	char key[KEY_MAX];
	fbuf b = FBUF_INIT;
	snprintf(key, sizeof key, "index/%s", ix->name);
	int rc = fbuf_addf(&b, "{\"ix\":%u,\"tenant\":", ix->ix);
	rc = rc ? rc : fbuf_add_jstr(&b, ix->tenant, strlen(ix->tenant));
	rc = rc ? rc : fbuf_adds(&b, ",\"index\":");
	rc = rc ? rc : fbuf_add_jstr(&b, ix->index, strlen(ix->index));
	rc = rc ? rc : fbuf_adds(&b, ",\"version\":");
	rc = rc ? rc : fbuf_add_jstr(&b, ix->version, strlen(ix->version));
	rc = rc ? rc : fbuf_addf(&b, ",\"created_ms\":%lld}",
				 (long long)ix->created_ms);
	rc = rc ? ferry_err_set(err, rc, NULL) : kv_put(t, key, &b, err);
	fbuf_release(&b);
	return rc;
}

int fcat_index_del(fstore_txn *t, const char *physical)
{
	char key[KEY_MAX];
	snprintf(key, sizeof key, "ibody/%s", physical);
	t->store->ops->kv_del(t, key);
	snprintf(key, sizeof key, "index/%s", physical);
	return t->store->ops->kv_del(t, key);
}

struct each_ctx {
	fstore_txn *t;
	int (*fn)(void *, const fcat_index *);
	void *ctx;
};

static int index_visit(void *p, const fstore_entry *e)
{
	struct each_ctx *c = p;
	char name[FERRY_NAME_MAX + 1];
	fcat_index ix;
	size_t n = e->idlen - 6; /* strip "index/" */
	if (n > FERRY_NAME_MAX)
		return FERRY_ECORRUPT;
	memcpy(name, e->id + 6, n);
	name[n] = 0;
	int rc = fcat_index_get(c->t, name, &ix);
	return rc ? rc : c->fn(c->ctx, &ix);
}

int fcat_index_each(fstore_txn *t, int (*fn)(void *, const fcat_index *),
		    void *ctx)
{
	struct each_ctx c = {t, fn, ctx};
	return t->store->ops->kv_scan(t, "index/", index_visit, &c);
}

static int count_visit(void *p, const fstore_entry *e)
{
	(void)e;
	(*(size_t *)p)++;
	return 0;
}

int fcat_index_count(fstore_txn *t, size_t *n)
{
	*n = 0;
	return t->store->ops->kv_scan(t, "index/", count_visit, n);
}

/* ---- aliases and name resolution ---- */

int fcat_alias_get(fstore_txn *t, const char *alias, char out[FERRY_NAME_MAX + 1])
{
	char key[KEY_MAX];
	const char *v;
	size_t n;
	if (strlen(alias) > FERRY_NAME_MAX)
		return FERRY_ENOTFOUND;
	snprintf(key, sizeof key, "alias/%s", alias);
	int rc = kv_get(t, key, &v, &n);
	if (rc)
		return rc;
	if (n > FERRY_NAME_MAX)
		return FERRY_ECORRUPT;
	memcpy(out, v, n);
	out[n] = 0;
	return 0;
}

int fcat_alias_put(fstore_txn *t, const char *alias, const char *physical,
		   ferry_err *err)
{
	char key[KEY_MAX];
	snprintf(key, sizeof key, "alias/%s", alias);
	return t->store->ops->kv_put(t, key, physical, strlen(physical), err);
}

int fcat_alias_del(fstore_txn *t, const char *alias)
{
	char key[KEY_MAX];
	snprintf(key, sizeof key, "alias/%s", alias);
	return t->store->ops->kv_del(t, key);
}

int fcat_alias_of(fstore_txn *t, const fcat_index *ix,
		  char out[FERRY_NAME_MAX + 1])
{
	char alias[FERRY_NAME_MAX + 1], target[FERRY_NAME_MAX + 1];
	out[0] = 0;
	if (!ix->tenant[0] || !ix->index[0])
		return 0;
	fname_alias(ix->tenant, ix->index, alias, sizeof alias);
	if (fcat_alias_get(t, alias, target) == 0 && !strcmp(target, ix->name))
		snprintf(out, FERRY_NAME_MAX + 1, "%s", alias);
	return 0;
}

int fcat_resolve(fstore_txn *t, const char *name, fcat_index *out,
		 int *via_alias, ferry_err *err)
{
	char alias[FERRY_NAME_MAX + 1], phys[FERRY_NAME_MAX + 1];
	const char *sv;
	size_t sn;
	fname_parts p;
	int rc = fname_parse(name, &p, err);
	if (rc)
		return rc;
	*via_alias = 0;
	if (p.kind == FNAME_LOGICAL || p.kind == FNAME_ALIAS) {
		if (p.kind == FNAME_LOGICAL)
			fname_alias("default", name, alias, sizeof alias);
		else
			snprintf(alias, sizeof alias, "%s", name);
		if (fcat_alias_get(t, alias, phys) == 0) {
			*via_alias = 1;
			name = phys;
		}
	}
	rc = fcat_index_get(t, name, out);
	if (rc == FERRY_ENOTFOUND && kv_get(t, "settings", &sv, &sn) ==
	    FERRY_ENOTFOUND)
		return ferry_err_set(err, FERRY_ENOTINIT, "the data directory is "
			"not initialised; run `ferry init --version X.Y.Z` first");
	if (rc == FERRY_ENOTFOUND)
		return ferry_err_set(err, rc, "no such index '%s'; `ferry index "
			"list` shows the indices and aliases that exist", name);
	if (rc)
		return ferry_err_set(err, rc, "reading catalog for '%s': %s", name,
				     ferry_strerror(rc));
	return 0;
}

/* ---- versions ---- */

int fcat_version_get(fstore_txn *t, const char *dv, fcat_version *out)
{
	char key[KEY_MAX];
	rec r;
	snprintf(key, sizeof key, "version/%s", dv);
	int rc = rec_load(t, key, &r);
	if (rc)
		return rc;
	rec_str(&r, "data_version", out->data_version, sizeof out->data_version);
	rec_str(&r, "release", out->release, sizeof out->release);
	rec_str(&r, "state", out->state, sizeof out->state);
	rec_str(&r, "from", out->from, sizeof out->from);
	out->created_ms = rec_int(&r, "created_ms");
	out->activated_ms = rec_int(&r, "activated_ms");
	fbuf_init(&out->history, 0);
	json_value *h = json_get(r.root, "history", 7);
	rc = h ? json_write(h, &out->history) : fbuf_adds(&out->history, "[]");
	json_arena_free(r.a);
	if (rc)
		fbuf_release(&out->history);
	return rc;
}

int fcat_version_put(fstore_txn *t, const fcat_version *v, ferry_err *err)
{
	char key[KEY_MAX];
	fbuf b = FBUF_INIT;
	snprintf(key, sizeof key, "version/%s", v->data_version);
	int rc = fbuf_adds(&b, "{\"data_version\":");
	rc = rc ? rc : fbuf_add_jstr(&b, v->data_version, strlen(v->data_version));
	rc = rc ? rc : fbuf_adds(&b, ",\"release\":");
	rc = rc ? rc : fbuf_add_jstr(&b, v->release, strlen(v->release));
	rc = rc ? rc : fbuf_adds(&b, ",\"state\":");
	rc = rc ? rc : fbuf_add_jstr(&b, v->state, strlen(v->state));
	rc = rc ? rc : fbuf_adds(&b, ",\"from\":");
	rc = rc ? rc : fbuf_add_jstr(&b, v->from, strlen(v->from));
	rc = rc ? rc : fbuf_addf(&b, ",\"created_ms\":%lld,\"activated_ms\":%lld,"
		"\"history\":%s}", (long long)v->created_ms,
		(long long)v->activated_ms,
		v->history.len ? v->history.p : "[]");
	rc = rc ? ferry_err_set(err, rc, NULL) : kv_put(t, key, &b, err);
	fbuf_release(&b);
	return rc;
}

int fcat_version_event(fcat_version *v, const char *event, const char *extra)
{
	fbuf *h = &v->history;
	if (h->len < 2)
		fbuf_clear(h);
	else
		h->len--; /* drop the closing ']' */
	int rc = fbuf_adds(h, h->len > 1 ? "," : (h->len ? "" : "["));
	rc = rc ? rc : fbuf_addf(h, "{\"at\":%lld,\"event\":",
				 (long long)fcat_now_ms());
	rc = rc ? rc : fbuf_add_jstr(h, event, strlen(event));
	if (!rc && extra && *extra)
		rc = fbuf_addf(h, ",%s", extra);
	return rc ? rc : fbuf_adds(h, "}]");
}

void fcat_version_release(fcat_version *v)
{
	fbuf_release(&v->history);
}

struct vctx {
	fstore_txn *t;
	int (*fn)(void *, fcat_version *);
	void *ctx;
};

static int version_visit(void *p, const fstore_entry *e)
{
	struct vctx *c = p;
	char dv[64];
	fcat_version v;
	if (e->idlen - 8 >= sizeof dv)
		return FERRY_ECORRUPT;
	memcpy(dv, e->id + 8, e->idlen - 8);
	dv[e->idlen - 8] = 0;
	int rc = fcat_version_get(c->t, dv, &v);
	if (rc)
		return rc;
	rc = c->fn(c->ctx, &v);
	fcat_version_release(&v);
	return rc;
}

int fcat_version_each(fstore_txn *t, int (*fn)(void *, fcat_version *),
		      void *ctx)
{
	struct vctx c = {t, fn, ctx};
	return t->store->ops->kv_scan(t, "version/", version_visit, &c);
}

/* ---- tenants ---- */

int fcat_tenant_put(fstore_txn *t, const char *tenant, ferry_err *err)
{
	char key[KEY_MAX];
	fbuf b = FBUF_INIT;
	snprintf(key, sizeof key, "tenant/%s", tenant);
	int rc = fbuf_addf(&b, "{\"created_ms\":%lld}", (long long)fcat_now_ms());
	rc = rc ? ferry_err_set(err, rc, NULL) : kv_put(t, key, &b, err);
	fbuf_release(&b);
	return rc;
}

int fcat_tenant_del(fstore_txn *t, const char *tenant)
{
	char key[KEY_MAX];
	snprintf(key, sizeof key, "tenant/%s", tenant);
	return t->store->ops->kv_del(t, key);
}

int fcat_tenant_exists(fstore_txn *t, const char *tenant)
{
	char key[KEY_MAX];
	const char *v;
	size_t n;
	snprintf(key, sizeof key, "tenant/%s", tenant);
	return kv_get(t, key, &v, &n) == 0;
}

int fcat_check_writable(fstore_txn *t, const fcat_index *ix, ferry_err *err)
{
	fcat_settings s;
	int rc = fcat_settings_get(t, &s, err);
	if (rc || !ix->version[0] || !strcmp(ix->version, s.data_version))
		return rc;
	return ferry_err_set(err, FERRY_EPERM, "index '%s' belongs to data "
		"version %s, which is not active (active: %s); it is read-only: "
		"write through the alias %s.%s", ix->name, ix->version,
		s.data_version, ix->tenant, ix->index);
}
