/*
 * policy.c - snapshot lifecycle policies like Elasticsearch SLM: stored
 * in the catalog ("slm/<id>" the policy as given, "slmstate/<id>" its
 * schedule and history), run on demand or when due, with retention
 * (also on its own, for every policy: ferry_slm_execute_retention).
 * `ferry snapshot policy run-due` from a system cron drives them until
 * ferryd's scheduler does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/catalog.h"
#include "core/db.h"
#include "core/err.h"
#include "core/names.h"
#include "json/json.h"
#include "snapshot/policy.h"

#define SLM_TAKEN_MAX 1000 /* snapshots remembered per policy */

typedef struct slm {
	char id[FERRY_PART_MAX + 1];
	char schedule[128], name[160], repo[FERRY_PART_MAX + 1];
	char indices[256];
	fslm_retention ret;
	fslm_cron cron;
} slm;

typedef struct slm_state {
	int64_t next_ms, last_ok_ms, last_fail_ms;
	char last_ok[FERRY_SNAPSHOT_NAME_MAX + 1];
	char last_fail[512];
	size_t n;
	char (*taken)[FERRY_SNAPSHOT_NAME_MAX + 1];
	int64_t *at;
} slm_state;



/* Reads and checks an ES-shaped policy body into p. */
static int slm_parse(const char *id, const char *body, size_t len, slm *p,
		     ferry_err *err)
{
	json_arena *a = json_arena_new();
	json_value *root, *ret;
	json_error je;
	char tmp[FERRY_SNAPSHOT_NAME_MAX + 1];
	int rc = FERRY_EINVAL;
	memset(p, 0, sizeof *p);
	snprintf(p->id, sizeof p->id, "%s", id);
	if (!a)
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	if (json_parse(a, body, len, &root, &je) || root->type != JSON_OBJECT) {
		ferry_err_set(err, FERRY_EJSON, "policy '%s' is not a JSON object "
			      "(byte %zu: %s)", id, je.offset, je.msg ? je.msg : "");
		rc = FERRY_EJSON;
		goto out;
	}
	const char *s = json_str_member(root, "schedule", NULL), *n = json_str_member(root, "name", NULL),
		   *r = json_str_member(root, "repository", NULL),
		   *ix = json_str_member(json_get(root, "config", 6), "indices", NULL);
	if (!s || !n || !r) {
		ferry_err_set(err, rc, "policy '%s' needs schedule, name and "
			      "repository", id);
		goto out;
	}
	snprintf(p->schedule, sizeof p->schedule, "%s", s);
	snprintf(p->name, sizeof p->name, "%s", n);
	snprintf(p->repo, sizeof p->repo, "%s", r);
	snprintf(p->indices, sizeof p->indices, "%s", ix ? ix : "*");
	if ((rc = fslm_cron_parse(s, &p->cron, err)) ||
	    (rc = fslm_name_expand(n, fcat_now_ms(), tmp, sizeof tmp, err)))
		goto out;
	ret = json_get(root, "retention", 9);
	const char *exp = json_str_member(ret, "expire_after", NULL);
	if (exp && (rc = fslm_duration_ms(exp, &p->ret.expire_after_ms, err)))
		goto out;
	int64_t minc = json_int_member(ret, "min_count", 0), maxc = json_int_member(ret, "max_count", 0);
	if (minc < 0 || maxc < 0 || minc > 100000 || maxc > 100000) {
		rc = ferry_err_set(err, FERRY_EINVAL, "retention counts must be 0 "
				   "to 100000");
		goto out;
	}
	p->ret.min_count = (unsigned)minc;
	p->ret.max_count = (unsigned)maxc;
	rc = 0;
out:
	json_arena_free(a);
	return rc;
}

/* ---- state records ---- */

static void state_free(slm_state *s)
{
	free(s->taken);
	free(s->at);
	memset(s, 0, sizeof *s);
}

static int state_push(slm_state *s, const char *name, int64_t at)
{
	void *nt = realloc(s->taken, (s->n + 1) * sizeof *s->taken);
	if (!nt)
		return FERRY_ENOMEM;
	s->taken = nt;
	int64_t *na = realloc(s->at, (s->n + 1) * sizeof *na);
	if (!na)
		return FERRY_ENOMEM;
	s->at = na;
	snprintf(s->taken[s->n], sizeof s->taken[0], "%s", name);
	s->at[s->n++] = at;
	return 0;
}

static int state_load(fstore_txn *t, const char *id, slm_state *s)
{
	char key[96];
	const char *v;
	size_t n;
	json_value *root, *tk;
	json_error je;
	memset(s, 0, sizeof *s);
	snprintf(key, sizeof key, "slmstate/%s", id);
	if (t->store->ops->kv_get(t, key, &v, &n))
		return 0; /* never ran */
	json_arena *a = json_arena_new();
	if (!a)
		return FERRY_ENOMEM;
	int rc = 0;
	if (!json_parse(a, v, n, &root, &je) && root->type == JSON_OBJECT) {
		s->next_ms = json_int_member(root, "next_ms", 0);
		s->last_ok_ms = json_int_member(root, "last_ok_ms", 0);
		s->last_fail_ms = json_int_member(root, "last_fail_ms", 0);
		snprintf(s->last_ok, sizeof s->last_ok, "%s",
			 json_str_member(root, "last_ok", NULL) ? json_str_member(root, "last_ok", NULL) : "");
		snprintf(s->last_fail, sizeof s->last_fail, "%s",
			 json_str_member(root, "last_fail", NULL) ? json_str_member(root, "last_fail", NULL) : "");
		tk = json_get(root, "taken", 5);
		for (size_t i = 0; !rc && tk && tk->type == JSON_ARRAY &&
				   i < tk->u.arr.n; i++) {
			const char *nm = json_str_member(tk->u.arr.v[i], "name", NULL);
			if (nm)
				rc = state_push(s, nm, json_int_member(tk->u.arr.v[i], "at", 0));
		}
	}
	json_arena_free(a);
	return rc;
}

static int state_json(const slm_state *s, fbuf *b)
{
	int rc = fbuf_addf(b, "{\"next_ms\":%lld,\"last_ok_ms\":%lld,"
		"\"last_fail_ms\":%lld,\"last_ok\":", (long long)s->next_ms,
		(long long)s->last_ok_ms, (long long)s->last_fail_ms);
	rc = rc ? rc : fbuf_add_jstr(b, s->last_ok, strlen(s->last_ok));
	rc = rc ? rc : fbuf_adds(b, ",\"last_fail\":");
	rc = rc ? rc : fbuf_add_jstr(b, s->last_fail, strlen(s->last_fail));
	rc = rc ? rc : fbuf_adds(b, ",\"taken\":[");
	size_t from = s->n > SLM_TAKEN_MAX ? s->n - SLM_TAKEN_MAX : 0;
	for (size_t i = from; !rc && i < s->n; i++) {
		rc = fbuf_adds(b, i > from ? ",{\"name\":" : "{\"name\":");
		rc = rc ? rc : fbuf_add_jstr(b, s->taken[i], strlen(s->taken[i]));
		rc = rc ? rc : fbuf_addf(b, ",\"at\":%lld}", (long long)s->at[i]);
	}
	return rc ? rc : fbuf_adds(b, "]}");
}

static int state_save(ferry_db *db, const char *id, const slm_state *s,
		      ferry_err *err)
{
	fstore_txn *t;
	char key[96];
	fbuf b = FBUF_INIT;
	snprintf(key, sizeof key, "slmstate/%s", id);
	int rc = state_json(s, &b);
	if (rc || (rc = fdb_begin(db, 1, &t, err))) {
		fbuf_release(&b);
		return rc;
	}
	rc = t->store->ops->kv_put(t, key, b.p, b.len, err);
	fbuf_release(&b);
	if (rc) {
		fdb_abort(t);
		return rc;
	}
	return fdb_commit(t, err);
}

/* Loads policy `id` (and its state if s is non-NULL) in a read txn. */
static int slm_load(ferry_db *db, const char *id, slm *p, slm_state *s,
		    ferry_err *err)
{
	fstore_txn *t;
	char key[96];
	const char *v;
	size_t n;
	int rc = fdb_begin(db, 0, &t, err);
	if (rc)
		return rc;
	snprintf(key, sizeof key, "slm/%s", id);
	if ((rc = t->store->ops->kv_get(t, key, &v, &n)))
		rc = ferry_err_set(err, FERRY_ENOTFOUND, "no snapshot policy '%s'; "
			"`ferry snapshot policy list` shows them", id);
	else if (!(rc = slm_parse(id, v, n, p, err)) && s)
		rc = state_load(t, id, s);
	fdb_abort(t);
	return rc;
}

/* ---- the public API ---- */

static int repo_known(ferry_db *db, const char *repo, ferry_err *err)
{
	ferry_snaprepo_info *v;
	size_t n;
	int rc = ferry_snaprepo_list(db, &v, &n, err), found = 0;
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		found |= !strcmp(v[i].name, repo);
	ferry_free(v);
	return found ? 0 : ferry_err_set(err, FERRY_ENOTFOUND, "no snapshot "
		"repository '%s'; add it with `ferry snapshot repo add %s PATH`",
		repo, repo);
}

int ferry_slm_put(ferry_db *db, const char *id, const char *body,
		  size_t len, ferry_err *err)
{
	slm p;
	slm_state s;
	fstore_txn *t;
	char key[96];
	int rc = fname_check_part(id ? id : "", "policy", err);
	if (rc || (rc = slm_parse(id, body, len, &p, err)) ||
	    (rc = repo_known(db, p.repo, err)) || (rc = fdb_begin(db, 1, &t, err)))
		return rc;
	snprintf(key, sizeof key, "slm/%s", id);
	if (!(rc = t->store->ops->kv_put(t, key, body, len, err)) &&
	    !(rc = state_load(t, id, &s))) {
		fbuf b = FBUF_INIT;
		fslm_cron_next(&p.cron, fcat_now_ms(), &s.next_ms);
		rc = state_json(&s, &b);
		snprintf(key, sizeof key, "slmstate/%s", id);
		rc = rc ? rc : t->store->ops->kv_put(t, key, b.p, b.len, err);
		fbuf_release(&b);
		state_free(&s);
	}
	if (rc) {
		fdb_abort(t);
		return rc;
	}
	return fdb_commit(t, err);
}

int ferry_slm_delete(ferry_db *db, const char *id, ferry_err *err)
{
	fstore_txn *t;
	char key[96];
	int rc = fdb_begin(db, 1, &t, err);
	if (rc)
		return rc;
	snprintf(key, sizeof key, "slm/%s", id);
	if (t->store->ops->kv_del(t, key)) {
		fdb_abort(t);
		return ferry_err_set(err, FERRY_ENOTFOUND, "no snapshot policy "
				     "'%s'", id);
	}
	snprintf(key, sizeof key, "slmstate/%s", id);
	t->store->ops->kv_del(t, key);
	return fdb_commit(t, err); /* its snapshots stay */
}

struct list_ctx {
	fstore_txn *t;
	fbuf *out;
	const char *only;
	size_t n;
};

static int list_visit(void *ctx, const fstore_entry *e)
{
	struct list_ctx *c = ctx;
	char id[FERRY_PART_MAX + 1];
	slm_state s;
	size_t il = e->idlen - 4;
	if (il > FERRY_PART_MAX)
		return 0;
	memcpy(id, e->id + 4, il);
	id[il] = 0;
	if (c->only && strcmp(c->only, id))
		return 0;
	int rc = state_load(c->t, id, &s);
	rc = rc ? rc : fbuf_adds(c->out, c->n++ ? "," : "");
	rc = rc ? rc : fbuf_add_jstr(c->out, id, il);
	rc = rc ? rc : fbuf_adds(c->out, ":{\"policy\":");
	rc = rc ? rc : fbuf_add(c->out, e->body, e->body_len);
	rc = rc ? rc : fbuf_adds(c->out, ",\"state\":");
	rc = rc ? rc : state_json(&s, c->out);
	rc = rc ? rc : fbuf_addc(c->out, '}');
	state_free(&s);
	return rc;
}

int ferry_slm_get(ferry_db *db, const char *id, char **json, ferry_err *err)
{
	fstore_txn *t;
	fbuf out = FBUF_INIT;
	struct list_ctx c = {NULL, &out, id, 0};
	int rc = fdb_begin(db, 0, &t, err);
	if (rc)
		return rc;
	c.t = t;
	rc = fbuf_addc(&out, '{');
	rc = rc ? rc : t->store->ops->kv_scan(t, "slm/", list_visit, &c);
	rc = rc ? rc : fbuf_addc(&out, '}');
	fdb_abort(t);
	if (!rc && id && !c.n)
		rc = ferry_err_set(err, FERRY_ENOTFOUND, "no snapshot policy '%s'",
				   id);
	if (rc) {
		fbuf_release(&out);
		return rc;
	}
	*json = fbuf_detach(&out, NULL);
	return 0;
}

/* Deletes what retention says must go; forgets snapshots that are gone.
 * The names of those deleted and of those found gone are added to
 * `deleted` and `gone` (either may be NULL); the first failed delete is
 * kept in *fail (may be NULL). */
static void apply_retention(ferry_db *db, const slm *p, slm_state *s,
			    int64_t now, slm_state *deleted, slm_state *gone,
			    ferry_err *fail)
{
	unsigned char *del = calloc(s->n ? s->n : 1, 1);
	if (!del) {
		if (fail && !fail->code)
			ferry_err_set(fail, FERRY_ENOMEM, NULL);
		return;
	}
	fslm_retention_pick(s->at, s->n, &p->ret, now, del);
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++) {
		ferry_err e = {0};
		if (del[i] && ferry_snapshot_delete(db, p->repo, s->taken[i], NULL,
						    &e) == 0) {
			if (deleted)
				state_push(deleted, s->taken[i], s->at[i]);
			continue;
		}
		if (del[i] && e.code == FERRY_ENOTFOUND) {
			if (gone)
				state_push(gone, s->taken[i], s->at[i]);
			continue;
		}
		if (del[i] && fail && !fail->code)
			*fail = e;
		memmove(s->taken[k], s->taken[i], sizeof s->taken[0]);
		s->at[k++] = s->at[i];
	}
	s->n = k;
	free(del);
}

/* Runs policy `id` as if the clock said `now` (run-due passes its own). */
static int slm_execute_at(ferry_db *db, const char *id, int64_t now,
			  char name[FERRY_SNAPSHOT_NAME_MAX + 1], ferry_err *err)
{
	slm p;
	slm_state s;
	char *m = NULL;
	int rc = slm_load(db, id, &p, &s, err);
	if (rc)
		return rc;
	if ((rc = fslm_name_expand(p.name, now, name, FERRY_SNAPSHOT_NAME_MAX + 1,
				   err)))
		goto out;
	if (ferry_snapshot_show(db, p.repo, name, &m, NULL) == 0) {
		/* taken already today: make it unique ("-<secs>", then
		 * "-<secs>-2", "-<secs>-3"... when runs share a second) */
		size_t l = strlen(name), at = l < 90 ? l : 90;
		int k;

		for (k = 1; k < 1000; k++) {
			ferry_free(m);
			m = NULL;
			if (k == 1)
				snprintf(name + at, 38, "-%lld", (long long)(now / 1000));
			else
				snprintf(name + at, 38, "-%lld-%d",
					 (long long)(now / 1000), k);
			if (ferry_snapshot_show(db, p.repo, name, &m, NULL))
				break;
		}
	}
	ferry_free(m);
	ferry_snapshot_info info;
	rc = ferry_snapshot_create(db, p.repo, name, p.indices, NULL, NULL, &info,
				   NULL, err);
	if (rc) {
		s.last_fail_ms = now;
		snprintf(s.last_fail, sizeof s.last_fail, "%s",
			 err && err->msg[0] ? err->msg : ferry_strerror(rc));
	} else {
		s.last_ok_ms = now;
		snprintf(s.last_ok, sizeof s.last_ok, "%s", name);
		state_push(&s, name, now);
		apply_retention(db, &p, &s, now, NULL, NULL, NULL);
	}
	fslm_cron_next(&p.cron, now, &s.next_ms);
	int src = state_save(db, id, &s, NULL);
	if (!rc)
		rc = src;
out:
	state_free(&s);
	return rc;
}

int ferry_slm_execute(ferry_db *db, const char *id,
		      char name[FERRY_SNAPSHOT_NAME_MAX + 1], ferry_err *err)
{
	return slm_execute_at(db, id, fcat_now_ms(), name, err);
}

struct due_ctx {
	char (*ids)[FERRY_PART_MAX + 1];
	size_t n;
	int64_t now;
	fstore_txn *t;
	int all; /* every policy, due or not */
};

static int due_visit(void *ctx, const fstore_entry *e)
{
	struct due_ctx *c = ctx;
	char id[FERRY_PART_MAX + 1];
	slm_state s;
	size_t il = e->idlen - 4;
	if (il > FERRY_PART_MAX)
		return 0;
	memcpy(id, e->id + 4, il);
	id[il] = 0;
	if (state_load(c->t, id, &s))
		return FERRY_ENOMEM;
	int due = c->all || (s.next_ms && s.next_ms <= c->now);
	state_free(&s);
	if (!due)
		return 0;
	void *nv = realloc(c->ids, (c->n + 1) * sizeof *c->ids);
	if (!nv)
		return FERRY_ENOMEM;
	c->ids = nv;
	memcpy(c->ids[c->n++], id, il + 1);
	return 0;
}

/* The ids of the policies c selects (due at c->now, or all), read in a
 * transaction of their own into c->ids (the caller frees them). On
 * error nothing is kept and err says `what` failed. */
static int policy_ids(ferry_db *db, struct due_ctx *c, const char *what,
		      ferry_err *err)
{
	fstore_txn *t;
	int rc = fdb_begin(db, 0, &t, err);
	if (rc)
		return rc;
	c->t = t;
	rc = t->store->ops->kv_scan(t, "slm/", due_visit, c);
	fdb_abort(t);
	c->t = NULL;
	if (rc) {
		free(c->ids);
		c->ids = NULL;
		return ferry_err_set(err, rc, "%s: %s", what, ferry_strerror(rc));
	}
	return 0;
}

int ferry_slm_run_due(ferry_db *db, int64_t now_ms, char **report_json,
		      ferry_err *err)
{
	struct due_ctx c = {NULL, 0, now_ms ? now_ms : fcat_now_ms(), NULL, 0};
	fbuf out = FBUF_INIT;
	int rc = policy_ids(db, &c, "reading policies", err);
	if (rc)
		return rc;
	fbuf_addc(&out, '[');
	for (size_t i = 0; i < c.n; i++) {
		char name[FERRY_SNAPSHOT_NAME_MAX + 1] = "";
		ferry_err e = {0};
		int r = slm_execute_at(db, c.ids[i], c.now, name, &e);
		fbuf_addf(&out, "%s{\"policy\":\"%s\",\"snapshot\":", i ? "," : "",
			  c.ids[i]);
		fbuf_add_jstr(&out, name, strlen(name));
		fbuf_adds(&out, ",\"error\":");
		fbuf_add_jstr(&out, r ? e.msg : "", r ? strlen(e.msg) : 0);
		fbuf_addc(&out, '}');
	}
	fbuf_addc(&out, ']');
	free(c.ids);
	if (report_json)
		*report_json = fbuf_detach(&out, NULL);
	fbuf_release(&out);
	return 0;
}

/* 1 if `name` is one of l's names. */
static int state_has(const slm_state *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->taken[i], name))
			return 1;
	return 0;
}

/* Removes the names of `drop` from the stored state of policy `id` as it
 * is now: a run of the policy may have saved it since it was read. A
 * policy deleted meanwhile is left deleted. */
static int state_forget(ferry_db *db, const char *id, const slm_state *drop,
			ferry_err *err)
{
	fstore_txn *t;
	slm_state s;
	char key[96];
	const char *v;
	size_t n, k = 0;
	fbuf b = FBUF_INIT;
	int rc = fdb_begin(db, 1, &t, err);
	if (rc)
		return rc;
	snprintf(key, sizeof key, "slm/%s", id);
	if (t->store->ops->kv_get(t, key, &v, &n)) {
		fdb_abort(t);
		return 0;
	}
	if ((rc = state_load(t, id, &s))) {
		fdb_abort(t);
		return ferry_err_set(err, rc, NULL);
	}
	for (size_t i = 0; i < s.n; i++) {
		if (state_has(drop, s.taken[i]))
			continue;
		memmove(s.taken[k], s.taken[i], sizeof s.taken[0]);
		s.at[k++] = s.at[i];
	}
	s.n = k;
	snprintf(key, sizeof key, "slmstate/%s", id);
	rc = state_json(&s, &b);
	rc = rc ? ferry_err_set(err, rc, NULL)
		: t->store->ops->kv_put(t, key, b.p, b.len, err);
	fbuf_release(&b);
	state_free(&s);
	if (rc) {
		fdb_abort(t);
		return rc;
	}
	return fdb_commit(t, err);
}

/* The names of l as a JSON array. */
static int names_json(const slm_state *l, fbuf *out)
{
	int rc = fbuf_addc(out, '[');
	for (size_t i = 0; !rc && i < l->n; i++) {
		rc = i ? fbuf_addc(out, ',') : 0;
		rc = rc ? rc : fbuf_add_jstr(out, l->taken[i], strlen(l->taken[i]));
	}
	return rc ? rc : fbuf_addc(out, ']');
}

/* One policy's retention: appends its report entry to `out` when it
 * deleted or forgot anything, or failed. */
static int retention_one(ferry_db *db, const char *id, int64_t now,
			 fbuf *out)
{
	slm p;
	slm_state s, del = {0}, gone = {0};
	ferry_err fail = {0};
	int rc = slm_load(db, id, &p, &s, &fail);
	if (rc == FERRY_ENOTFOUND)
		return 0; /* deleted since the list was read */
	if (!rc) {
		apply_retention(db, &p, &s, now, &del, &gone, &fail);
		state_free(&s);
	}
	if (!rc && (del.n || gone.n)) {
		slm_state drop = {0};
		int r2 = 0;
		for (size_t i = 0; !r2 && i < del.n; i++)
			r2 = state_push(&drop, del.taken[i], del.at[i]);
		for (size_t i = 0; !r2 && i < gone.n; i++)
			r2 = state_push(&drop, gone.taken[i], gone.at[i]);
		ferry_err fe = {0};
		r2 = r2 ? r2 : state_forget(db, id, &drop, &fe);
		if (r2 && !fail.code)
			fail = fe.code ? fe : (ferry_err){r2, ""};
		state_free(&drop);
	}
	int w = 0;
	if (del.n || gone.n || fail.code) {
		const char *why = fail.code ? (fail.msg[0] ? fail.msg
				  : ferry_strerror(fail.code)) : "";
		w = fbuf_adds(out, out->len > 1 ? ",{\"policy\":" : "{\"policy\":");
		w = w ? w : fbuf_add_jstr(out, id, strlen(id));
		w = w ? w : fbuf_adds(out, ",\"deleted\":");
		w = w ? w : names_json(&del, out);
		w = w ? w : fbuf_adds(out, ",\"forgotten\":");
		w = w ? w : names_json(&gone, out);
		w = w ? w : fbuf_adds(out, ",\"error\":");
		w = w ? w : fbuf_add_jstr(out, why, strlen(why));
		w = w ? w : fbuf_addc(out, '}');
	}
	state_free(&del);
	state_free(&gone);
	return w;
}

int ferry_slm_execute_retention(ferry_db *db, int64_t now_ms,
				char **report_json, ferry_err *err)
{
	struct due_ctx c = {NULL, 0, now_ms ? now_ms : fcat_now_ms(), NULL, 1};
	fbuf out = FBUF_INIT;
	int rc = policy_ids(db, &c, "applying retention", err);
	if (rc)
		return rc;
	rc = fbuf_addc(&out, '[');
	for (size_t i = 0; !rc && i < c.n; i++)
		rc = retention_one(db, c.ids[i], c.now, &out);
	rc = rc ? rc : fbuf_addc(&out, ']');
	free(c.ids);
	if (rc) {
		fbuf_release(&out);
		return ferry_err_set(err, rc, "applying retention: %s",
				     ferry_strerror(rc));
	}
	if (report_json)
		*report_json = fbuf_detach(&out, NULL);
	fbuf_release(&out);
	return 0;
}

int ferry_snapshot_name_expand(const char *pattern, int64_t now_ms,
			       char out[FERRY_SNAPSHOT_NAME_MAX + 1],
			       ferry_err *err)
{
	return fslm_name_expand(pattern, now_ms ? now_ms : fcat_now_ms(), out,
				FERRY_SNAPSHOT_NAME_MAX + 1, err);
}
