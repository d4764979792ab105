/*
 * h_maint.c - the maintenance API of ferryd (issue 5 §3, DESIGN.md
 * "Server"): versions, migrations and plans, starting the background
 * upgrade (job.c) and following it, rollback, indices grouped by data
 * version, deleting an old version, tenants. Every route needs the admin
 * key (route.c). The JSON shapes are the ones the web page reads; fields
 * may be added, never renamed. Refusals come in the Elasticsearch error
 * envelope with the ferry message (what, where, how to fix).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json/json.h"
#include "server/server.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static void add_jstr(fbuf *b, const char *s)
{
	fbuf_add_jstr(b, s, strlen(s));
}

static void add_jstr_or_null(fbuf *b, const char *s)
{
	if (s && *s)
		add_jstr(b, s);
	else
		fbuf_adds(b, "null");
}

/* Reads a copy of srv->pending (guarded by srv->mu) and whether a job runs. */
static int job_running(fsrv *s, char pending[64])
{
	int running;

	pthread_mutex_lock(&s->mu);
	running = s->job.running;
	if (pending)
		snprintf(pending, 64, "%s", s->pending);
	pthread_mutex_unlock(&s->mu);
	return running;
}

/* The upgrade record (ferry_upgrade_status) parsed into `a`; NULL if it
 * cannot be read. *raw (may be NULL) gets the text, free with ferry_free. */
static json_value *upgrade_record(ferry_db *db, json_arena *a, char **raw)
{
	char *js = NULL;
	json_value *root = NULL;

	if (ferry_upgrade_status(db, &js, NULL))
		return NULL;
	if (json_parse(a, js, strlen(js), &root, NULL) ||
	    root->type != JSON_OBJECT)
		root = NULL;
	if (raw)
		*raw = js;
	else
		ferry_free(js);
	return root;
}

/* 1 if the upgrade record is one that has not finished (a run was killed
 * or stopped): POST /migration with its target resumes it. */
static int upgrade_unfinished(const json_value *up)
{
	const char *st = json_str_member(up, "state", "");

	return !strcmp(st, "copy") || !strcmp(st, "catchup") ||
	       !strcmp(st, "cutover") || !strcmp(st, "verify");
}

/* 1 (and a message in `why`) if another process holds a live upgrade
 * lease: the CLI or another ferryd is upgrading this data dir. */
static int lease_elsewhere(const json_value *up, char *why, size_t n)
{
	const json_value *l = up ? json_get(up, "lease", 5) : NULL;
	const json_value *alive = l ? json_get(l, "alive", 5) : NULL;
	char host[128] = "";
	int64_t pid;

	if (!alive || alive->type != JSON_TRUE)
		return 0;
	pid = json_int_member(l, "pid", 0);
	gethostname(host, sizeof(host) - 1);
	if (pid == (int64_t)getpid() && !strcmp(host,
						json_str_member(l, "host", "")))
		return 0;
	snprintf(why, n, "another process holds the upgrade lease: pid %lld "
		 "on %s (for %lld more seconds); wait for it to finish (`ferry "
		 "upgrade status`), or, if it died, until the lease expires",
		 (long long)pid, json_str_member(l, "host", "?"),
		 (long long)(json_int_member(l, "expires_in_ms", 0) + 999) / 1000);
	return 1;
}

/* 409 if an upgrade runs here or elsewhere; `what` names the refused
 * action. Returns 1 when it replied. */
static int refuse_if_upgrading(freq *r, json_arena *a, const char *what)
{
	char why[400];
	json_value *up;

	if (job_running(r->srv, NULL)) {
		freq_error(r, 409, "illegal_state_exception", "cannot %s while "
			   "an upgrade is running in this server; wait for it "
			   "(GET /migration/status)", what);
		return 1;
	}
	up = upgrade_record(r->db, a, NULL);
	if (lease_elsewhere(up, why, sizeof(why))) {
		freq_error(r, 409, "illegal_state_exception", "cannot %s: %s",
			   what, why);
		return 1;
	}
	return 0;
}

/* Reads an optional boolean member; replies 400 on another type. */
static int body_bool(freq *r, const json_value *o, const char *k, int *out)
{
	const json_value *v = o ? json_get(o, k, strlen(k)) : NULL;

	if (!v)
		return 0;
	if (v->type == JSON_TRUE || v->type == JSON_FALSE) {
		*out = v->type == JSON_TRUE;
		return 0;
	}
	freq_error(r, 400, "illegal_argument_exception", "\"%s\" must be true "
		   "or false", k);
	return -1;
}

/* Replies 400 if the body has a member not in `known` (NULL-terminated),
 * so that a misspelt option is not silently ignored. */
static int body_known(freq *r, const json_value *o, const char *const *known)
{
	char list[256] = "";
	size_t used = 0, k;

	for (size_t i = 0; o && i < o->u.obj.n; i++) {
		for (k = 0; known[k] && strcmp(known[k], o->u.obj.m[i].key); k++)
			;
		if (known[k])
			continue;
		for (k = 0; known[k] && used < sizeof(list); k++)
			used += (size_t)snprintf(list + used, sizeof(list) - used,
						 "%s\"%s\"", k ? ", " : "",
						 known[k]);
		freq_error(r, 400, "illegal_argument_exception", "unknown field "
			   "\"%.100s\" in the request body; known fields: %s",
			   o->u.obj.m[i].key, list);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* GET /info/version                                                   */

static void versions_json(fbuf *b, const ferry_version_info *v, size_t n)
{
	fbuf_adds(b, ",\"versions\":[");
	for (size_t i = 0; i < n; i++) {
		fbuf_adds(b, i ? ",{\"data_version\":" : "{\"data_version\":");
		add_jstr(b, v[i].data_version);
		fbuf_adds(b, ",\"release\":");
		add_jstr(b, v[i].release);
		fbuf_adds(b, ",\"state\":");
		add_jstr(b, v[i].state);
		fbuf_adds(b, ",\"from\":");
		add_jstr_or_null(b, v[i].from);
		fbuf_addf(b, ",\"created_ms\":%lld,\"activated_ms\":%lld,"
			  "\"indices\":%llu}", (long long)v[i].created_ms,
			  (long long)v[i].activated_ms,
			  (unsigned long long)v[i].indices);
	}
	fbuf_addc(b, ']');
}

static void tenants_json(fbuf *b, char **t, int objects)
{
	for (size_t i = 0; t && t[i]; i++) {
		fbuf_adds(b, i ? "," : "");
		fbuf_adds(b, objects ? "{\"name\":" : "");
		add_jstr(b, t[i]);
		fbuf_adds(b, objects ? "}" : "");
	}
}

void h_info_version(freq *r)
{
	fsrv *s = r->srv;
	ferry_status st;
	ferry_version_info *v = NULL;
	size_t nv = 0;
	char **t = NULL, pending[64], why[400];
	ferry_err e = {0, ""};
	json_arena *a = json_arena_new();
	int rc, running;

	if (!a) {
		freq_ferr(r, FERRY_ENOMEM, NULL);
		return;
	}
	if ((rc = ferry_db_status(r->db, &st, &e)) ||
	    (rc = ferry_version_list(r->db, &v, &nv, &e)) ||
	    (rc = ferry_tenant_list(r->db, &t, &e))) {
		freq_ferr(r, rc, &e);
		goto out;
	}
	running = job_running(s, pending);
	fbuf_adds(&r->out, "{\"name\":\"ferry\",\"version\":");
	add_jstr(&r->out, FERRY_VERSION_STRING);
	fbuf_adds(&r->out, ",\"release\":");
	add_jstr(&r->out, st.release);
	fbuf_adds(&r->out, ",\"data_version\":");
	add_jstr(&r->out, st.data_version);
	fbuf_adds(&r->out, ",\"deployed_release\":");
	add_jstr_or_null(&r->out, s->release);
	fbuf_adds(&r->out, ",\"pending_upgrade\":");
	add_jstr_or_null(&r->out, pending);
	fbuf_addf(&r->out, ",\"index_budget\":%u,\"indices\":%llu,\"docs\":%llu,"
		  "\"data_parts\":%u,\"tenants\":[", st.index_budget,
		  (unsigned long long)st.indices, (unsigned long long)st.docs,
		  st.data_parts);
	tenants_json(&r->out, t, 0);
	fbuf_addf(&r->out, "],\"upgrade_running\":%s,\"upgrade_elsewhere\":%s",
		  running ? "true" : "false",
		  lease_elsewhere(upgrade_record(r->db, a, NULL), why,
				  sizeof(why)) ? "true" : "false");
	fsrv_tms_json(s, &r->out);
	versions_json(&r->out, v, nv);
	fbuf_addc(&r->out, '}');
	freq_ok(r, 200);
out:
	ferry_version_list_free(v, nv);
	ferry_strv_free(t);
	json_arena_free(a);
}

/* ------------------------------------------------------------------ */
/* GET /migrations, GET /migration/{from}                              */

void h_migrations(freq *r)
{
	char *js = NULL;
	ferry_err e = {0, ""};
	int rc = ferry_migration_list(r->db, r->srv->migrations, &js, &e);

	if (rc) {
		freq_ferr(r, rc, &e);
		return;
	}
	fbuf_adds(&r->out, js);
	ferry_free(js);
	freq_ok(r, 200);
}

/* The highest target of the migrations directory into `out`, or "". */
static int highest_target(freq *r, char *out, size_t n)
{
	char *js = NULL;
	ferry_err e = {0, ""};
	json_arena *a = json_arena_new();
	json_value *root, *t;
	int rc = a ? ferry_migration_list(r->db, r->srv->migrations, &js, &e)
		   : FERRY_ENOMEM;

	out[0] = 0;
	if (rc) {
		freq_ferr(r, rc, &e);
		json_arena_free(a);
		return rc;
	}
	if (!json_parse(a, js, strlen(js), &root, NULL) &&
	    (t = json_get(root, "targets", 7)) && t->type == JSON_ARRAY &&
	    t->u.arr.n && t->u.arr.v[t->u.arr.n - 1]->type == JSON_STRING)
		snprintf(out, n, "%s", t->u.arr.v[t->u.arr.n - 1]->u.str.s);
	ferry_free(js);
	json_arena_free(a);
	return 0;
}

void h_migration_from(freq *r)
{
	const char *from = r->seg[1], *to = freq_arg(r, "to");
	ferry_upgrade_opts o;
	ferry_status st;
	ferry_err e = {0, ""};
	char target[64], *plan = NULL;
	int rc;

	if ((rc = ferry_db_status(r->db, &st, &e))) {
		freq_ferr(r, rc, &e);
		return;
	}
	if (strcmp(from, st.data_version) && strcmp(from, st.release)) {
		freq_error(r, 409, "illegal_state_exception", "the active data "
			   "version is %s, not %s: plans start from the active "
			   "version (GET /migration/%s)", st.data_version, from,
			   st.data_version);
		return;
	}
	if (!to || !*to) {
		job_running(r->srv, target);
		if (!target[0] && highest_target(r, target, sizeof(target)))
			return;
		to = target[0] ? target : st.release;
	}
	memset(&o, 0, sizeof(o));
	o.migrations_dir = r->srv->migrations;
	o.to = to;
	o.allow_dev = freq_flag(r, "allow_dev", 0);
	if ((rc = ferry_upgrade_plan(r->db, &o, &plan, &e))) {
		freq_ferr(r, rc, &e);
		return;
	}
	fbuf_adds(&r->out, plan);
	ferry_free(plan);
	freq_ok(r, 200);
}

/* ------------------------------------------------------------------ */
/* POST /migration                                                     */

typedef struct start_req {
	char to[64];
	int allow_dev, skip_bad, no_snapshot;
} start_req;

/* Reads the body into q; replies and returns -1 on a bad one. */
static int start_read(freq *r, json_arena *a, start_req *q)
{
	static const char *const known[] = {"to", "allow_dev", "skip_bad",
					    "no_snapshot", NULL};
	json_value *body, *to;

	memset(q, 0, sizeof(*q));
	if (freq_body_object(r, a, 0, &body) || body_known(r, body, known) ||
	    body_bool(r, body, "allow_dev", &q->allow_dev) ||
	    body_bool(r, body, "skip_bad", &q->skip_bad) ||
	    body_bool(r, body, "no_snapshot", &q->no_snapshot))
		return -1;
	to = body ? json_get(body, "to", 2) : NULL;
	if (to && (to->type != JSON_STRING || !to->u.str.len ||
		   to->u.str.len >= sizeof(q->to))) {
		freq_error(r, 400, "illegal_argument_exception", "\"to\" must be "
			   "a release such as \"0.8.1\"");
		return -1;
	}
	if (to) {
		memcpy(q->to, to->u.str.s, to->u.str.len + 1);
	} else {
		job_running(r->srv, q->to); /* the pending release, if any */
		if (!q->to[0])
			snprintf(q->to, sizeof(q->to), "%s", r->srv->release);
	}
	if (!q->to[0]) {
		freq_error(r, 400, "illegal_argument_exception", "say which "
			   "release to upgrade to: {\"to\":\"0.8.1\"} (no upgrade "
			   "is pending and FERRY_RELEASE is not set; GET "
			   "/migrations lists the targets)");
		return -1;
	}
	return 0;
}

/* The plan's kind ("same", "minor", "major") and target data version. */
static int plan_kind(freq *r, json_arena *a, const start_req *q,
		     char kind[16], char to_dv[64])
{
	ferry_upgrade_opts o;
	ferry_err e = {0, ""};
	char *plan = NULL;
	json_value *root;
	int rc;

	memset(&o, 0, sizeof(o));
	o.migrations_dir = r->srv->migrations;
	o.to = q->to;
	o.allow_dev = q->allow_dev;
	o.skip_bad = q->skip_bad;
	o.no_snapshot = q->no_snapshot;
	if ((rc = ferry_upgrade_plan(r->db, &o, &plan, &e))) {
		freq_ferr(r, rc, &e);
		return -1;
	}
	rc = json_parse(a, plan, strlen(plan), &root, NULL);
	snprintf(kind, 16, "%s", rc ? "" : json_str_member(root, "kind", ""));
	snprintf(to_dv, 64, "%s", rc ? "" : json_str_member(json_get(root,
		 "to", 2), "data_version", ""));
	ferry_free(plan);
	return 0;
}

/* A minor upgrade: recorded at once. */
static void start_minor(freq *r, const start_req *q)
{
	ferry_err e = {0, ""};
	int rc = ferry_release_record(r->db, q->to, &e);

	if (rc) {
		freq_ferr(r, rc, &e);
		return;
	}
	pthread_mutex_lock(&r->srv->mu);
	if (!strcmp(r->srv->pending, q->to))
		r->srv->pending[0] = 0;
	pthread_mutex_unlock(&r->srv->mu);
	fbuf_adds(&r->out, "{\"acknowledged\":true,\"kind\":\"minor\",\"to\":");
	add_jstr(&r->out, q->to);
	fbuf_addc(&r->out, '}');
	freq_ok(r, 200);
}

static void start_job(freq *r, const start_req *q, const char *kind)
{
	ferry_err e = {0, ""};
	int rc = fsrv_job_start(r->srv, q->to, q->allow_dev, q->skip_bad,
				q->no_snapshot, &e);

	if (rc == FERRY_EBUSY) {
		freq_error(r, 409, "illegal_state_exception", "%s", e.msg);
		return;
	}
	if (rc) {
		freq_ferr(r, rc, &e);
		return;
	}
	fbuf_adds(&r->out, "{\"acknowledged\":true,\"to\":");
	add_jstr(&r->out, q->to);
	fbuf_addf(&r->out, ",\"kind\":\"%s\",\"status\":\"/migration/status\"}",
		  kind);
	r->location = "/migration/status";
	freq_ok(r, 202);
}

void h_migration_start(freq *r)
{
	json_arena *a = json_arena_new();
	json_value *up;
	start_req q;
	char kind[16], to_dv[64];

	if (!a) {
		freq_ferr(r, FERRY_ENOMEM, NULL);
		return;
	}
	if (start_read(r, a, &q) || refuse_if_upgrading(r, a, "start an "
							 "upgrade") ||
	    plan_kind(r, a, &q, kind, to_dv))
		goto out;
	up = upgrade_record(r->db, a, NULL);
	if (upgrade_unfinished(up) && strcmp(json_str_member(up, "to", ""),
					     to_dv)) {
		freq_error(r, 409, "illegal_state_exception", "an upgrade to %s "
			   "is unfinished: POST /migration {\"to\":\"%s\"} "
			   "resumes it (or stop it with `ferry upgrade abort`) "
			   "before upgrading to %s",
			   json_str_member(up, "to", "?"),
			   json_str_member(up, "to_release", "?"), q.to);
	} else if (!strcmp(kind, "minor")) {
		start_minor(r, &q);
	} else if (!strcmp(kind, "same") && !upgrade_unfinished(up)) {
		fbuf_adds(&r->out, "{\"acknowledged\":true,\"kind\":\"same\","
			  "\"to\":");
		add_jstr(&r->out, q.to);
		fbuf_adds(&r->out, ",\"note\":\"already at this release: "
			  "nothing to do\"}");
		freq_ok(r, 200);
	} else {
		start_job(r, &q, upgrade_unfinished(up) ? "resume" : kind);
	}
out:
	json_arena_free(a);
}

/* ------------------------------------------------------------------ */
/* GET /migration/status                                               */

/* Per item progress from the upgrade record; the live count of the item
 * being copied (job.c) where it is ahead of the last checkpoint. */
static void status_items(freq *r, const json_value *up)
{
	fsrv *s = r->srv;
	const json_value *items = up ? json_get(up, "items", 5) : NULL;
	size_t live_item = (size_t)-1;
	uint64_t live_done = 0;

	pthread_mutex_lock(&s->mu);
	if (s->job.running && !strcmp(s->job.step, "copy")) {
		live_item = s->job.item;
		live_done = s->job.done;
	}
	pthread_mutex_unlock(&s->mu);
	fbuf_adds(&r->out, ",\"items\":[");
	for (size_t i = 0; items && items->type == JSON_ARRAY &&
			   i < items->u.arr.n; i++) {
		const json_value *it = items->u.arr.v[i];
		const char *phase = json_str_member(it, "phase", "");
		uint64_t total = (uint64_t)json_int_member(it, "total", 0);
		uint64_t done = (uint64_t)(json_int_member(it, "copied", 0) +
			json_int_member(it, "failed", 0) +
			json_int_member(it, "dropped", 0));
		if (i == live_item && live_done > done)
			done = live_done;
		if (strcmp(phase, "copy") && done < total)
			done = total; /* copied, or dropped by the migration */
		fbuf_adds(&r->out, i ? ",{\"tenant\":" : "{\"tenant\":");
		add_jstr(&r->out, json_str_member(it, "tenant", ""));
		fbuf_adds(&r->out, ",\"source\":");
		add_jstr_or_null(&r->out, json_str_member(it, "src", ""));
		fbuf_adds(&r->out, ",\"target\":");
		add_jstr_or_null(&r->out, json_str_member(it, "dst", ""));
		fbuf_adds(&r->out, ",\"phase\":");
		add_jstr(&r->out, phase);
		fbuf_addf(&r->out, ",\"done\":%llu,\"total\":%llu}",
			  (unsigned long long)done,
			  (unsigned long long)(total > done ? total : done));
	}
	fbuf_addc(&r->out, ']');
}

/* The live job is read before the upgrade record: a job seen finished
 * has committed its last state, so the two never contradict each other
 * (the other order can show a finished job next to a record that was
 * read while it still ran). */
void h_migration_status(freq *r)
{
	json_arena *a = json_arena_new();
	char *raw = NULL, why[400];
	json_value *up, *lease;
	int elsewhere, running, idle;

	if (!a) {
		freq_ferr(r, FERRY_ENOMEM, NULL);
		return;
	}
	running = job_running(r->srv, NULL);
	fsrv_job_json(r->srv, &r->out);
	if (r->out.len && r->out.p[r->out.len - 1] == '}')
		r->out.p[--r->out.len] = 0; /* reopen the object */
	up = upgrade_record(r->db, a, &raw);
	elsewhere = lease_elsewhere(up, why, sizeof(why));
	lease = up ? json_get(up, "lease", 5) : NULL;
	lease = lease ? json_get(lease, "alive", 5) : NULL;
	idle = !running && !(lease && lease->type == JSON_TRUE);
	fbuf_addf(&r->out, ",\"unfinished\":%s,\"elsewhere\":%s",
		  upgrade_unfinished(up) && idle ? "true" : "false",
		  elsewhere ? "true" : "false");
	status_items(r, up);
	fbuf_adds(&r->out, ",\"upgrade\":");
	fbuf_adds(&r->out, raw ? raw : "{}");
	fbuf_addc(&r->out, '}');
	ferry_free(raw);
	json_arena_free(a);
	freq_ok(r, 200);
}

/* ------------------------------------------------------------------ */
/* POST /migration/rollback                                            */

/* After a rollback the deployed release may be ahead of the data again:
 * then it is the pending upgrade once more. */
static void pending_refresh(fsrv *s)
{
	ferry_upgrade_opts o;
	char *plan = NULL, kind[16] = "";
	json_arena *a;
	json_value *root;
	int rc;

	if (!s->release[0])
		return;
	memset(&o, 0, sizeof(o));
	o.migrations_dir = s->migrations;
	o.to = s->release;
	o.allow_dev = 1;
	rc = ferry_upgrade_plan(s->db, &o, &plan, NULL);
	if (!rc && (a = json_arena_new())) {
		if (!json_parse(a, plan, strlen(plan), &root, NULL))
			snprintf(kind, sizeof(kind), "%s",
				 json_str_member(root, "kind", ""));
		json_arena_free(a);
	}
	ferry_free(plan);
	pthread_mutex_lock(&s->mu);
	if (!strcmp(kind, "major") || (rc && rc != FERRY_EVERSION))
		snprintf(s->pending, sizeof(s->pending), "%s", s->release);
	else if (!rc || rc == FERRY_EVERSION)
		s->pending[0] = 0;
	pthread_mutex_unlock(&s->mu);
}

void h_migration_rollback(freq *r)
{
	static const char *const known[] = {"yes", NULL};
	json_arena *a = json_arena_new();
	json_value *body;
	ferry_status st;
	ferry_err e = {0, ""};
	uint64_t dropped = 0;
	int yes = 0, rc;

	if (!a) {
		freq_ferr(r, FERRY_ENOMEM, NULL);
		return;
	}
	if (freq_body_object(r, a, 0, &body) || body_known(r, body, known) ||
	    body_bool(r, body, "yes", &yes) ||
	    refuse_if_upgrading(r, a, "roll back"))
		goto out;
	rc = ferry_rollback(r->db, yes, &dropped, &e);
	if (rc == FERRY_EPERM) {
		freq_error(r, 409, "illegal_state_exception", "%s", e.msg);
		goto out;
	}
	if (rc || (yes && (rc = ferry_db_status(r->db, &st, &e)))) {
		freq_ferr(r, rc, &e);
		goto out;
	}
	fbuf_addf(&r->out, "{\"rolled_back\":%s,\"writes_dropped\":%llu",
		  yes ? "true" : "false", (unsigned long long)dropped);
	if (yes) {
		pending_refresh(r->srv);
		fbuf_adds(&r->out, ",\"active\":");
		add_jstr(&r->out, st.data_version);
		fbuf_adds(&r->out, ",\"release\":");
		add_jstr(&r->out, st.release);
	} else {
		fbuf_adds(&r->out, ",\"note\":\"nothing changed; send "
			  "{\\\"yes\\\":true} to roll back\"");
	}
	fbuf_addc(&r->out, '}');
	freq_ok(r, 200);
out:
	json_arena_free(a);
}

/* ------------------------------------------------------------------ */
/* GET /indices, DELETE /indices/version/{version}                     */

static void index_json(fbuf *b, const ferry_index_info *ix, int first)
{
	char alias[2 * FERRY_PART_MAX + 2];

	if (ix->alias[0])
		snprintf(alias, sizeof(alias), "%s", ix->alias);
	else if (ix->tenant[0] && ix->index[0])
		snprintf(alias, sizeof(alias), "%s.%s", ix->tenant, ix->index);
	else
		alias[0] = 0;
	fbuf_adds(b, first ? "{\"name\":" : ",{\"name\":");
	add_jstr(b, ix->name);
	fbuf_adds(b, ",\"alias\":");
	add_jstr_or_null(b, alias);
	fbuf_addf(b, ",\"active_alias\":%s,\"tenant\":",
		  ix->alias[0] ? "true" : "false");
	add_jstr_or_null(b, ix->tenant);
	fbuf_adds(b, ",\"index\":");
	add_jstr_or_null(b, ix->index);
	fbuf_addf(b, ",\"docs\":%llu,\"bytes\":%llu,\"created_ms\":%lld}",
		  (unsigned long long)ix->docs, (unsigned long long)ix->bytes,
		  (long long)ix->created_ms);
}

/* One group: the indices of data version `dv` with its state. */
static void version_group(fbuf *b, const char *dv, const char *state,
			  const ferry_index_info *ix, size_t n, int first)
{
	int k = 0;

	fbuf_adds(b, first ? "{\"data_version\":" : ",{\"data_version\":");
	add_jstr(b, dv);
	fbuf_adds(b, ",\"state\":");
	add_jstr(b, state);
	fbuf_adds(b, ",\"indices\":[");
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ix[i].data_version, dv))
			index_json(b, &ix[i], !k++);
	fbuf_addf(b, "],\"count\":%d}", k);
}

/* 1 if data version dv is in v[0..n) or among ix[0..i). */
static int version_seen(const ferry_version_info *v, size_t n,
			const ferry_index_info *ix, size_t i, const char *dv)
{
	for (size_t k = 0; k < n; k++)
		if (!strcmp(v[k].data_version, dv))
			return 1;
	for (size_t k = 0; k < i; k++)
		if (!strcmp(ix[k].data_version, dv))
			return 1;
	return 0;
}

void h_indices(freq *r)
{
	ferry_status st;
	ferry_version_info *v = NULL;
	ferry_index_info *ix = NULL;
	size_t nv = 0, n = 0, g = 0;
	ferry_err e = {0, ""};
	int rc;

	if ((rc = ferry_db_status(r->db, &st, &e)) ||
	    (rc = ferry_version_list(r->db, &v, &nv, &e)) ||
	    (rc = ferry_index_list(r->db, NULL, &ix, &n, &e))) {
		freq_ferr(r, rc, &e);
		goto out;
	}
	fbuf_addf(&r->out, "{\"budget\":%u,\"count\":%zu,\"active\":",
		  st.index_budget, n);
	add_jstr(&r->out, st.data_version);
	fbuf_adds(&r->out, ",\"versions\":[");
	for (size_t i = nv; i-- > 0;) /* newest first */
		version_group(&r->out, v[i].data_version, v[i].state, ix, n, !g++);
	for (size_t i = 0; i < n; i++) /* indices of no recorded version */
		if (!version_seen(v, nv, ix, i, ix[i].data_version))
			version_group(&r->out, ix[i].data_version, "unknown", ix,
				      n, !g++);
	fbuf_adds(&r->out, "]}");
	freq_ok(r, 200);
out:
	ferry_version_list_free(v, nv);
	ferry_free(ix);
}

void h_indices_version_delete(freq *r)
{
	const char *version = r->seg[2];
	int dry_run = freq_flag(r, "dry_run", 0), force = freq_flag(r, "force", 0);
	ferry_status st;
	ferry_err e = {0, ""};
	char *report = NULL;
	int rc;

	if ((rc = ferry_db_status(r->db, &st, &e))) {
		freq_ferr(r, rc, &e);
		return;
	}
	if (!strcmp(version, st.data_version)) {
		freq_error(r, 403, "security_exception", "%s is the active "
			   "version; it cannot be deleted (roll back or upgrade "
			   "first)", version);
		return;
	}
	rc = ferry_version_delete(r->db, version, dry_run, force, &report, &e);
	if (rc == FERRY_EPERM) {
		/* the only EPERM left: no snapshot holds the version */
		freq_error(r, 409, "illegal_state_exception", "no snapshot holds "
			   "version %s, so deleting it could not be undone; take "
			   "a snapshot first (PUT /_snapshot/{repo}/{name}, or "
			   "`ferry snapshot create`), or add force=true to "
			   "delete it anyway", version);
		return;
	}
	if (rc) {
		freq_ferr(r, rc, &e);
		return;
	}
	fbuf_adds(&r->out, report);
	ferry_free(report);
	freq_ok(r, 200);
}

/* ------------------------------------------------------------------ */
/* /tenants (also served by ferryd --tms, see tms.c)                   */

/* The registry a tenant manager serves (docs/tenants.md):
 * {"tenants":[{"name","created_ms"}],"keys":[{"sha256","tenants",
 * "created_ms","source"}],"generated_ms"}. Keys appear by hash only. */
static void tenants_registry(freq *r)
{
	char *js = NULL;
	ferry_err e = {0, ""};
	int rc = ferry_tenant_registry(r->db, &js, &e);

	if (rc) {
		freq_ferr(r, rc, &e);
		return;
	}
	fbuf_add(&r->out, js, strlen(js) - 1); /* without its closing brace */
	fbuf_addf(&r->out, ",\"generated_ms\":%lld}", (long long)fsrv_now_ms());
	ferry_free(js);
	freq_ok(r, 200);
}

/* GET /tenants: {"tenants":[{"name"}]}; in --tms mode or with
 * ?keys=true, the registry with the keys' hashes. */
void h_tenants_get(freq *r)
{
	char **t = NULL;
	ferry_err e = {0, ""};
	int rc;

	if (freq_flag(r, "keys", r->srv->tms_mode)) {
		tenants_registry(r);
		return;
	}
	if ((rc = ferry_tenant_list(r->db, &t, &e))) {
		freq_ferr(r, rc, &e);
		return;
	}
	fbuf_adds(&r->out, "{\"tenants\":[");
	tenants_json(&r->out, t, 1);
	fbuf_adds(&r->out, "]}");
	ferry_strv_free(t);
	freq_ok(r, 200);
}

/* Makes a key scoped to the new tenant and appends ,"key":..,"sha256":..
 * to r->out; on failure replies 500 and returns -1. */
static int tenant_key_reply(freq *r, const char *name)
{
	const char *scope[1] = {name};
	char key[FERRY_KEY_MAX + 1], hex[FERRY_KEY_HASH_MAX + 1];
	ferry_err e = {0, ""};
	int rc = ferry_tenant_key_create(r->db, scope, 1, key, &e);

	if (!rc && (rc = ferry_tenant_key_hash(key, hex)))
		snprintf(e.msg, sizeof(e.msg), "%s", ferry_strerror(rc));
	if (rc) {
		freq_error(r, 500, "exception", "tenant %s was added, but no key "
			   "was made for it: %s; make one with `ferry tenant key "
			   "create %s`", name, e.msg, name);
		return -1;
	}
	fbuf_adds(&r->out, ",\"key\":");
	add_jstr(&r->out, key);
	fbuf_adds(&r->out, ",\"sha256\":");
	add_jstr(&r->out, hex);
	return 0;
}

/* POST /tenants {"name":"acme"[,"key":true]}: adds the tenant; with
 * "key" (the default in --tms mode) also a key scoped to it, shown only
 * in this reply. */
void h_tenants_post(freq *r)
{
	static const char *const known[] = {"name", "key", NULL};
	json_arena *a = json_arena_new();
	json_value *body, *name;
	ferry_err e = {0, ""};
	int rc, want_key = r->srv->tms_mode;

	if (!a) {
		freq_ferr(r, FERRY_ENOMEM, NULL);
		return;
	}
	if (freq_body_object(r, a, 1, &body) || body_known(r, body, known) ||
	    body_bool(r, body, "key", &want_key))
		goto out;
	name = json_get(body, "name", 4);
	if (!name || name->type != JSON_STRING) {
		freq_error(r, 400, "illegal_argument_exception", "the body must "
			   "name the tenant: {\"name\":\"acme\"}");
		goto out;
	}
	if (strlen(name->u.str.s) != name->u.str.len) {
		freq_error(r, 400, "illegal_argument_exception", "bad tenant "
			   "name: it contains a NUL character");
		goto out;
	}
	if ((rc = ferry_tenant_add(r->db, name->u.str.s, &e))) {
		if (rc == FERRY_ELIMIT) /* ES's answer to a shard limit */
			freq_error(r, 400, "validation_exception", "%s", e.msg);
		else
			freq_ferr(r, rc, &e);
		goto out;
	}
	fbuf_adds(&r->out, "{\"acknowledged\":true,\"name\":");
	add_jstr(&r->out, name->u.str.s);
	if (want_key && tenant_key_reply(r, name->u.str.s))
		goto out;
	fbuf_addc(&r->out, '}');
	freq_ok(r, 201);
out:
	json_arena_free(a);
}
