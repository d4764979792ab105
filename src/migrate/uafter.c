/*
 * uafter.c - the upgrade API around the run: plan, status, abort,
 * rollback, and deleting an old version's indices.
 *
 * A rollback leaves no alias of any tenant on the version it leaves: the
 * job's items move theirs (tenants added after the cutover joined the job
 * with an empty set in the old version, utenant.c), tenants without items
 * join it first, and an alias still on the new version after that (an
 * index created there after the switch) gets an empty index of its name
 * in the old version. Writes made to the new version after the switch
 * are dropped and counted, whoever made them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/catalog.h"
#include "core/db.h"
#include "core/err.h"
#include "core/index.h"
#include "core/names.h"
#include "core/version.h"
#include "json/json.h"
#include "migrate/uplan.h"
#include "migrate/upgrade.h"

int ferry_upgrade_plan(ferry_db *db, const ferry_upgrade_opts *o,
		       char **plan_json, ferry_err *err)
{
	fstore_txn *t;
	uplan p;
	fbuf out = FBUF_INIT;
	if (!o || !o->to || !*o->to)
		return ferry_err_set(err, FERRY_EINVAL, "the target release is "
				     "missing (--to VERSION)");
	int rc = fdb_begin(db, 0, &t, err);
	if (rc)
		return rc;
	rc = uplan_build(db, t, o, &p, err);
	if (!rc && (rc = uplan_json(&p, &out)))
		ferry_err_set(err, rc, NULL);
	uplan_release(&p);
	fdb_abort(t);
	if (!rc)
		*plan_json = fbuf_detach(&out, NULL);
	fbuf_release(&out);
	return rc;
}

int ferry_upgrade_status(ferry_db *db, char **status_json, ferry_err *err)
{
	fstore_txn *t;
	ujob j;
	fbuf out = FBUF_INIT;
	int rc = fdb_begin(db, 0, &t, err);
	if (rc)
		return rc;
	rc = ujob_load(t, &j);
	if (rc == FERRY_ENOTFOUND) {
		rc = fbuf_adds(&out, "{}");
	} else if (!rc) {
		rc = ujob_json(&j, &out);
		if (!rc) {
			out.len--; /* reopen the object for the lease */
			rc = fbuf_adds(&out, ",\"lease\":");
			rc = rc ? rc : ulease_json(t, &out);
			rc = rc ? rc : fbuf_addc(&out, '}');
		}
		ujob_release(&j);
	}
	fdb_abort(t);
	if (rc) {
		fbuf_release(&out);
		return ferry_err_set(err, rc, "reading the upgrade job");
	}
	*status_json = fbuf_detach(&out, NULL);
	return 0;
}

static int abort_in(fstore_txn *t, ujob *j, const char *token, int force,
		    ferry_err *err)
{
	int rc;
	if (strcmp(j->state, "copy") && strcmp(j->state, "catchup") &&
	    strcmp(j->state, "cutover"))
		return ferry_err_set(err, FERRY_EPERM, "the upgrade to %s is %s; "
			"only one that has not switched over can be aborted%s",
			j->to, j->state, !strcmp(j->state, "done") ||
			!strcmp(j->state, "verify") ? " (use `ferry rollback`)" : "");
	if ((rc = ulease_take(t, token, err)) && !force)
		return rc;
	for (size_t i = 0; i < j->n; i++) {
		fcat_index ix;
		if (j->items[i].dst[0] && !fcat_index_get(t, j->items[i].dst, &ix) &&
		    (rc = findex_delete_txn(t, j->items[i].dst, 1, err)))
			return rc;
	}
	fcat_version v;
	if (fcat_version_get(t, j->to, &v) == 0) {
		snprintf(v.state, sizeof v.state, "aborted");
		fcat_version_event(&v, "aborted", NULL);
		rc = fcat_version_put(t, &v, err);
		fcat_version_release(&v);
		if (rc)
			return rc;
	}
	snprintf(j->state, sizeof j->state, "aborted");
	j->finished_ms = fcat_now_ms();
	if ((rc = ujob_save_header(t, j, err)))
		return rc;
	return ulease_drop(t, NULL);
}

int ferry_upgrade_abort(ferry_db *db, int force, ferry_err *err)
{
	fstore_txn *t;
	ujob j;
	char token[64];
	snprintf(token, sizeof token, "abort:%ld", (long)getpid());
	int rc = fdb_begin(db, 1, &t, err);
	if (rc)
		return rc;
	if ((rc = ujob_load(t, &j))) {
		fdb_abort(t);
		return ferry_err_set(err, rc == FERRY_ENOTFOUND ? rc : rc,
				     "there is no upgrade to abort");
	}
	rc = abort_in(t, &j, token, force, err);
	ujob_release(&j);
	if (rc) {
		fdb_abort(t);
		return rc;
	}
	if ((rc = fdb_commit(t, err)))
		return rc;
	fdb_purge(db, NULL);
	return 0;
}

/* Writes to the new set since the switch, which a rollback drops. */
static uint64_t writes_since(fstore_txn *t, const ujob *j)
{
	uint64_t n = 0;
	for (size_t i = 0; i < j->n; i++) {
		fstore_stats d = {0};
		if (!j->items[i].dst[0] ||
		    t->store->ops->ix_stats(t, j->items[i].dst_ix, &d))
			continue;
		uint64_t last = d.next_seq ? d.next_seq - 1 : 0;
		if (last > j->items[i].dst_seq_cut)
			n += last - j->items[i].dst_seq_cut;
	}
	return n;
}

static int rollback_aliases(fstore_txn *t, const ujob *j, ferry_err *err)
{
	char alias[FERRY_NAME_MAX + 1], cur[FERRY_NAME_MAX + 1];
	for (size_t i = 0; i < j->n; i++) {
		const uitem *it = &j->items[i];
		fcat_index ix;
		if (!fcat_tenant_exists(t, it->tenant))
			continue; /* removed since, with its indices */
		if (it->dst[0]) {
			fname_alias(it->tenant, it->target, alias, sizeof alias);
			if (!fcat_alias_get(t, alias, cur) && !strcmp(cur, it->dst))
				fcat_alias_del(t, alias);
		}
		if (!it->src[0])
			continue;
		if (fcat_index_get(t, it->src, &ix))
			return ferry_err_set(err, FERRY_ENOTFOUND, "the old index %s "
				"no longer exists; rollback is not possible", it->src);
		fname_alias(it->tenant, it->source, alias, sizeof alias);
		int rc = fcat_alias_put(t, alias, it->src, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int rollback_versions(fstore_txn *t, const ujob *j, ferry_err *err)
{
	fcat_settings s;
	fcat_version v;
	int rc = fcat_settings_get(t, &s, err);
	if (rc)
		return rc;
	snprintf(s.release, sizeof s.release, "%s", j->from_release);
	snprintf(s.data_version, sizeof s.data_version, "%s", j->from);
	if ((rc = fcat_settings_put(t, &s, err)))
		return rc;
	const char *dv[2] = {j->to, j->from}, *st[2] = {"rolled-back", "active"};
	for (int k = 0; k < 2; k++) {
		if (fcat_version_get(t, dv[k], &v))
			continue;
		snprintf(v.state, sizeof v.state, "%s", st[k]);
		if (k)
			v.activated_ms = fcat_now_ms();
		fcat_version_event(&v, k ? "reactivated" : "rolled-back", NULL);
		rc = fcat_version_put(t, &v, err);
		fcat_version_release(&v);
		if (rc)
			return rc;
	}
	return 0;
}

/* Tenant names in t, NUL-separated in *b; their number in *n. */
struct tnames {
	fbuf b;
	size_t n;
};

static int tname_visit(void *p, const fstore_entry *e)
{
	struct tnames *c = p;
	int rc = fbuf_add(&c->b, e->id + 7, e->idlen - 7);
	c->n++;
	return rc ? rc : fbuf_addc(&c->b, 0);
}

static int has_items(const ujob *j, const char *tenant)
{
	for (size_t i = 0; i < j->n; i++)
		if (!strcmp(j->items[i].tenant, tenant))
			return 1;
	return 0;
}

/* Tenants the job has no item of (added after the cutover by a ferry
 * that did not yet keep their rollback set) join it now, so that their
 * aliases move back too and their writes are counted. */
static int join_itemless(fstore_txn *t, ujob *j, ferry_err *err)
{
	struct tnames c = {FBUF_INIT, 0};
	int rc;
	if (!j->n || !ujob_rollbackable(t, j))
		return 0; /* rollback_aliases says why it cannot be done */
	if ((rc = t->store->ops->kv_scan(t, "tenant/", tname_visit, &c)))
		rc = ferry_err_set(err, rc, "reading the tenants");
	const char *p = c.b.p;
	for (size_t i = 0; !rc && i < c.n; i++, p += strlen(p) + 1)
		if (!has_items(j, p))
			rc = ujob_join_switched(t, j, p, err);
	fbuf_release(&c.b);
	return rc;
}

static int alias_visit(void *p, const fstore_entry *e)
{
	fbuf *b = p; /* alias \0 physical \0 ... */
	int rc = fbuf_add(b, e->id + 6, e->idlen - 6);
	rc = rc ? rc : fbuf_addc(b, 0);
	rc = rc ? rc : fbuf_add(b, e->body, e->body_len);
	return rc ? rc : fbuf_addc(b, 0);
}

/* One alias still on an index of the version rolled back from: an index
 * created there after the switch. It gets an empty index of its name in
 * the old version (same body); its writes are among those dropped. */
static int move_stray(fstore_txn *t, const ujob *j, const char *alias,
		      const char *phys, uint64_t *lost, ferry_err *err)
{
	fcat_index ix;
	fname_parts np;
	fversion v;
	fstore_stats st = {0};
	char tok[64], old[FERRY_NAME_MAX + 1];
	uint32_t no;
	if (fcat_index_get(t, phys, &ix) || strcmp(ix.version, j->to) ||
	    fname_parse(alias, &np, NULL) || np.kind != FNAME_ALIAS)
		return 0;
	if (fversion_parse(j->from, &v, NULL) ||
	    fversion_token(&v, tok, sizeof tok))
		return ferry_err_set(err, FERRY_ECORRUPT, "the upgrade record "
				     "names a bad version '%s'", j->from);
	fname_physical(tok, np.tenant, np.index, old, sizeof old);
	t->store->ops->ix_stats(t, ix.ix, &st);
	*lost += st.next_seq ? st.next_seq - 1 : 0;
	int rc = ujob_index_like(t, ix.name, old, &no, err);
	return rc ? rc : fcat_alias_put(t, alias, old, err);
}

/* After the items moved theirs, no alias may stay on j->to. */
static int rollback_strays(fstore_txn *t, const ujob *j, uint64_t *lost,
			   ferry_err *err)
{
	fbuf b = FBUF_INIT;
	int rc = t->store->ops->kv_scan(t, "alias/", alias_visit, &b);
	if (rc)
		rc = ferry_err_set(err, rc, "reading the aliases");
	for (size_t off = 0; !rc && off < b.len;) {
		const char *alias = b.p + off, *phys = alias + strlen(alias) + 1;
		off = (size_t)(phys - b.p) + strlen(phys) + 1;
		rc = move_stray(t, j, alias, phys, lost, err);
	}
	fbuf_release(&b);
	return rc;
}

/* The whole rollback inside t; *lost gets the writes it drops. */
static int rollback_in(fstore_txn *t, ujob *j, uint64_t *lost,
		       ferry_err *err)
{
	int rc = join_itemless(t, j, err);
	if (rc)
		return rc;
	*lost = writes_since(t, j);
	if ((rc = rollback_aliases(t, j, err)) ||
	    (rc = rollback_strays(t, j, lost, err)) ||
	    (rc = rollback_versions(t, j, err)))
		return rc;
	snprintf(j->state, sizeof j->state, "rolledback");
	return ujob_save_header(t, j, err);
}

/* Without `yes` the rollback is done all the same in a write transaction
 * and aborted: the count it reports is the one --yes would drop, and a
 * rollback that cannot be done says so at once. One transaction either
 * way, so a rollback killed at any point has happened or not at all. */
int ferry_rollback(ferry_db *db, int yes, uint64_t *writes_dropped,
		   ferry_err *err)
{
	fstore_txn *t;
	ujob j;
	uint64_t lost = 0;
	int rc = fdb_begin(db, 1, &t, err);
	if (rc)
		return rc;
	if ((rc = ujob_load(t, &j))) {
		fdb_abort(t);
		return ferry_err_set(err, FERRY_ENOTFOUND, "there is no upgrade to "
				     "roll back");
	}
	if (strcmp(j.state, "done") && strcmp(j.state, "verify") &&
	    strcmp(j.state, "failed")) {
		rc = ferry_err_set(err, FERRY_EPERM, "the last upgrade (to %s) is "
			"%s; only a switched upgrade can be rolled back%s", j.to,
			j.state, strcmp(j.state, "rolledback") ? " (an unfinished "
			"one is stopped with `ferry upgrade abort`)" : "");
		goto out;
	}
	if ((rc = rollback_in(t, &j, &lost, err)))
		goto out;
	if (writes_dropped)
		*writes_dropped = lost;
	if (!yes)
		goto out;
	ujob_release(&j);
	return fdb_commit(t, err);
out:
	ujob_release(&j);
	fdb_abort(t);
	return rc;
}

struct vdel {
	const char *version;
	fbuf names;     /* NUL-separated physical names */
	size_t n;
	uint64_t docs;
	fstore_txn *t;
};

static int collect_version(void *ctx, const fcat_index *ix)
{
	struct vdel *c = ctx;
	fstore_stats s = {0};
	if (strcmp(ix->version, c->version))
		return 0;
	c->t->store->ops->ix_stats(c->t, ix->ix, &s);
	c->docs += s.docs;
	c->n++;
	return fbuf_add(&c->names, ix->name, strlen(ix->name) + 1);
}

static int vdel_check(fstore_txn *t, const char *version, ferry_err *err)
{
	fcat_settings s;
	ujob j;
	int rc = fcat_settings_get(t, &s, err);
	if (rc)
		return rc;
	if (!strcmp(s.data_version, version))
		return ferry_err_set(err, FERRY_EPERM, "%s is the active version; "
			"it cannot be deleted", version);
	if (ujob_load_header(t, &j) == 0) {
		int busy = !strcmp(j.to, version) && (!strcmp(j.state, "copy") ||
			   !strcmp(j.state, "catchup") || !strcmp(j.state, "cutover"));
		ujob_release(&j);
		if (busy)
			return ferry_err_set(err, FERRY_EBUSY, "an upgrade is building "
				"%s; abort it first (`ferry upgrade abort`)", version);
	}
	return 0;
}

/* 1 if a snapshot in a registered repository holds an index of `version`
 * (its manifest lists indices with their data version). */
static int version_in_snapshot(ferry_db *db, const char *version)
{
	ferry_snaprepo_info *repos;
	size_t nr;
	int found = 0;
	if (ferry_snaprepo_list(db, &repos, &nr, NULL))
		return 0;
	json_arena *a = json_arena_new();
	for (size_t i = 0; a && !found && i < nr; i++) {
		ferry_snapshot_info *snaps;
		size_t ns;
		if (ferry_snapshot_list(db, repos[i].name, &snaps, &ns, NULL))
			continue;
		for (size_t k = 0; !found && k < ns; k++) {
			char *m;
			json_value *root, *ix;
			json_error je;
			if (ferry_snapshot_show(db, repos[i].name, snaps[k].name, &m,
						NULL))
				continue;
			json_arena_reset(a);
			if (!json_parse(a, m, strlen(m), &root, &je) &&
			    (ix = json_get(root, "indices", 7)) &&
			    ix->type == JSON_ARRAY)
				for (size_t x = 0; !found && x < ix->u.arr.n; x++) {
					json_value *v = json_get(ix->u.arr.v[x],
								 "version", 7);
					found = v && v->type == JSON_STRING &&
						!strcmp(v->u.str.s, version);
				}
			ferry_free(m);
		}
		ferry_free(snaps);
	}
	json_arena_free(a);
	ferry_free(repos);
	return found;
}

static int vdel_report(const struct vdel *c, int dry_run, fbuf *out)
{
	int rc = fbuf_adds(out, "{\"version\":");
	rc = rc ? rc : fbuf_add_jstr(out, c->version, strlen(c->version));
	rc = rc ? rc : fbuf_addf(out, ",\"dry_run\":%s,\"docs\":%llu,"
		"\"indices\":[", dry_run ? "true" : "false",
		(unsigned long long)c->docs);
	const char *p = c->names.p;
	for (size_t i = 0; !rc && i < c->n; i++, p += strlen(p) + 1) {
		rc = i ? fbuf_addc(out, ',') : 0;
		rc = rc ? rc : fbuf_add_jstr(out, p, strlen(p));
	}
	return rc ? rc : fbuf_adds(out, "]}");
}

/* 1 if `v` is an item of the ", "-separated `list`. */
static int list_has(const char *list, const char *v)
{
	size_t n = strlen(v);
	for (const char *p = list; (p = strstr(p, v)); p++)
		if ((p == list || p[-1] == ' ') && (p[n] == ',' || !p[n]))
			return 1;
	return 0;
}

/* Appends each data version that has indices once, ", "-separated. */
static int list_version(void *ctx, const fcat_index *ix)
{
	fbuf *b = ctx;
	if (b->len && list_has(b->p, ix->version))
		return 0;
	int rc = b->len ? fbuf_adds(b, ", ") : 0;
	return rc ? rc : fbuf_adds(b, ix->version);
}

static int vdel_none(fstore_txn *t, const char *version, ferry_err *err)
{
	fbuf have = FBUF_INIT;
	int rc = fcat_index_each(t, list_version, &have);
	rc = ferry_err_set(err, rc ? rc : FERRY_ENOTFOUND, "version %s has no "
		"indices; versions with indices: %s", version,
		have.len ? have.p : "none");
	fbuf_release(&have);
	return rc;
}

int ferry_version_delete(ferry_db *db, const char *version, int dry_run,
			 int force, char **report_json, ferry_err *err)
{
	fstore_txn *t;
	fversion pv;
	char canon[FVERSION_LEN_MAX + 1];
	int rc0 = fversion_parse(version, &pv, err);
	if (rc0)
		return rc0;
	if (fversion_format(&pv, canon, sizeof canon) == 0)
		version = canon; /* 0.08.1 is 0.8.1 */
	struct vdel c = {version, FBUF_INIT, 0, 0, NULL};
	fbuf out = FBUF_INIT;
	/* read-only checks first: the active version, an upgrade building
	 * it, and whether a snapshot holds it */
	fstore_txn *rt;
	struct vdel pre = {version, FBUF_INIT, 0, 0, NULL};
	if ((rc0 = fdb_begin(db, 0, &rt, err)))
		return rc0;
	pre.t = rt;
	if (!(rc0 = vdel_check(rt, version, err)))
		rc0 = fcat_index_each(rt, collect_version, &pre);
	fdb_abort(rt);
	fbuf_release(&pre.names);
	if (rc0)
		return rc0;
	if (!dry_run && !force && pre.n && !version_in_snapshot(db, version)) {
		fversion v;
		char tok[64] = "v*";
		if (!fversion_parse(version, &v, NULL))
			fversion_token(&v, tok, sizeof tok);
		return ferry_err_set(err, FERRY_EPERM, "no snapshot holds version "
			"%s, so deleting it could not be undone; take one first "
			"(`ferry snapshot create REPO --indices '%s.*'`) or pass "
			"--force", version, tok);
	}
	int rc = fdb_begin(db, !dry_run, &t, err);
	if (rc)
		return rc;
	c.t = t;
	if ((rc = vdel_check(t, version, err)) ||
	    (rc = fcat_index_each(t, collect_version, &c)))
		goto fail;
	if (c.n == 0 && !force) {
		rc = vdel_none(t, version, err);
		goto fail;
	}
	const char *p = c.names.p;
	for (size_t i = 0; !dry_run && i < c.n; i++, p += strlen(p) + 1)
		if ((rc = findex_delete_txn(t, p, 1, err)))
			goto fail;
	fcat_version v;
	if (!dry_run && fcat_version_get(t, version, &v) == 0) {
		snprintf(v.state, sizeof v.state, "deleted");
		fcat_version_event(&v, "deleted", NULL);
		rc = fcat_version_put(t, &v, err);
		fcat_version_release(&v);
		if (rc)
			goto fail;
	}
	if ((rc = vdel_report(&c, dry_run, &out)))
		goto fail;
	rc = dry_run ? (fdb_abort(t), 0) : fdb_commit(t, err);
	if (!rc && !dry_run)
		fdb_purge(db, NULL);
	if (!rc && report_json)
		*report_json = fbuf_detach(&out, NULL);
	fbuf_release(&out);
	fbuf_release(&c.names);
	return rc;
fail:
	fdb_abort(t);
	fbuf_release(&out);
	fbuf_release(&c.names);
	return rc;
}
