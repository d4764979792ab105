/*
 * h_slm.c - snapshot lifecycle policies (Elasticsearch SLM) in ferryd:
 * the /_slm routes in ES's shapes over ferry_slm_* (including
 * POST /_slm/_execute_retention), and the scheduler
 * thread that runs due policies every srv->slm_interval_s seconds.
 *
 * ferry stores a policy body as given; ES's "version" and
 * "modified_date_millis" have no place in ferry's policy state, so PUT
 * keeps them in a member "ferryd" of the stored body (ferry ignores
 * members it does not know) and GET takes it out again. ES's
 * config.indices may be an array; ferry wants a comma list, so PUT joins
 * it.
 *
 * The scheduler waits on srv->cond with a CLOCK_REALTIME deadline, so
 * that setting srv->stopping and broadcasting stops it at once; each
 * policy run is one line on stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json/json.h"
#include "server/server.h"

/* h_snapshot.c: stops the background creates (for server.h). */
void fsrv_snapjobs_stop(fsrv *s);
/* GET /_slm/status (its route is still to be added to route.c). */
void h_slm_status(freq *r);

/* ------------------------------------------------------------------ */
/* policies                                                            */

/* The version recorded in the stored policy `id`, 0 if none. */
static int64_t policy_version(ferry_db *db, const char *id)
{
	char *text = NULL;
	json_arena *a;
	json_value *v;
	int64_t ver = 0;
	if (ferry_slm_get(db, id, &text, NULL))
		return 0;
	if ((a = json_arena_new()) &&
	    !json_parse(a, text, strlen(text), &v, NULL))
		ver = json_int_member(json_path_get(json_get(v, id, strlen(id)),
						    "policy.ferryd"), "version", 0);
	json_arena_free(a);
	ferry_free(text);
	return ver;
}

/* An array of strings as one comma list; -1 for anything else. */
static int indices_join(const json_value *ix, fbuf *l)
{
	if (ix->type != JSON_ARRAY)
		return -1;
	for (size_t i = 0; i < ix->u.arr.n; i++) {
		const json_value *v = ix->u.arr.v[i];
		if (v->type != JSON_STRING || memchr(v->u.str.s, 0, v->u.str.len) ||
		    (i && fbuf_addc(l, ',')) || fbuf_add(l, v->u.str.s, v->u.str.len))
			return -1;
	}
	return 0;
}

/* Joins an array config.indices into a comma list and records version
 * and modification time. Returns 0, -1 (replied 400) or a ferry code. */
static int policy_prepare(freq *r, json_arena *a, json_value *b, int64_t ver)
{
	json_value *cfg = json_get(b, "config", 6), *ix, *meta, *v;
	fbuf l = FBUF_INIT;
	int rc = 0;
	if (cfg && (ix = json_get(cfg, "indices", 7)) && ix->type != JSON_STRING) {
		if (indices_join(ix, &l)) {
			fbuf_release(&l);
			freq_error(r, 400, "illegal_argument_exception", "config.indices "
				   "must be a string (\"profile,acme.*\") or an array "
				   "of strings");
			return -1;
		}
		v = json_new_string(a, l.p ? l.p : "", l.len);
		rc = v ? json_obj_set(a, cfg, "indices", 7, v) : FERRY_ENOMEM;
		fbuf_release(&l);
	}
	meta = json_new_object(a);
	if (!rc && (!meta ||
	    json_obj_set(a, meta, "version", 7, json_new_int(a, ver + 1)) ||
	    json_obj_set(a, meta, "modified_date_millis", 20,
			 json_new_int(a, fsrv_now_ms())) ||
	    json_obj_set(a, b, "ferryd", 6, meta)))
		rc = FERRY_ENOMEM;
	return rc;
}

/* PUT /_slm/policy/{id} */
void h_slm_put(freq *r)
{
	const char *id = r->seg[2];
	json_arena *a = json_arena_new();
	json_value *b;
	fbuf text = FBUF_INIT;
	ferry_err e = {0, ""};
	int rc;
	if (!a) {
		freq_ferr(r, FERRY_ENOMEM, NULL);
		return;
	}
	if (freq_body_object(r, a, 1, &b))
		goto out;
	rc = policy_prepare(r, a, b, policy_version(r->db, id));
	if (rc < 0)
		goto out;
	if (rc || (rc = json_write(b, &text))) {
		freq_ferr(r, rc, NULL);
		goto out;
	}
	rc = ferry_slm_put(r->db, id, text.p, text.len, &e);
	if (rc == FERRY_ENOTFOUND || rc == FERRY_EINVAL || rc == FERRY_ENAME)
		freq_error(r, 400, "illegal_argument_exception", "%s", e.msg);
	else if (rc)
		freq_ferr(r, rc, &e);
	else
		freq_ack(r);
out:
	fbuf_release(&text);
	json_arena_free(a);
}

/* Appends one policy of ferry_slm_get's answer in ES's shape:
 * "id":{"version","modified_date_millis","policy","last_success",
 * "last_failure","next_execution_millis","stats"}. */
static int policy_json(fbuf *o, const json_member *m)
{
	json_value *pol = json_get(m->val, "policy", 6);
	const json_value *st = json_get(m->val, "state", 5);
	const json_value *meta = json_get(pol, "ferryd", 6), *tk;
	int64_t ver = json_int_member(meta, "version", 1);
	int64_t mod = json_int_member(meta, "modified_date_millis", 0);
	int64_t ok = json_int_member(st, "last_ok_ms", 0);
	int64_t fail = json_int_member(st, "last_fail_ms", 0);
	const char *okn = json_str_member(st, "last_ok", "");
	const char *why = json_str_member(st, "last_fail", "");
	int rc;
	if (meta)
		json_path_remove(pol, "ferryd", NULL);
	tk = json_get(st, "taken", 5);
	rc = fbuf_add_jstr(o, m->key, m->klen);
	rc = rc ? rc : fbuf_addf(o, ":{\"version\":%" PRId64 ",\"modified_date_millis"
				 "\":%" PRId64 ",\"policy\":", ver, mod);
	rc = rc ? rc : pol ? json_write(pol, o) : fbuf_adds(o, "{}");
	if (ok) {
		rc = rc ? rc : fbuf_adds(o, ",\"last_success\":{\"snapshot_name\":");
		rc = rc ? rc : fbuf_add_jstr(o, okn, strlen(okn));
		rc = rc ? rc : fbuf_addf(o, ",\"time\":%" PRId64 "}", ok);
	}
	if (fail) {
		rc = rc ? rc : fbuf_addf(o, ",\"last_failure\":{\"time\":%" PRId64
					 ",\"details\":", fail);
		rc = rc ? rc : fbuf_add_jstr(o, why, strlen(why));
		rc = rc ? rc : fbuf_addc(o, '}');
	}
	rc = rc ? rc : fbuf_addf(o, ",\"next_execution_millis\":%" PRId64
		",\"stats\":{\"policy\":", json_int_member(st, "next_ms", 0));
	rc = rc ? rc : fbuf_add_jstr(o, m->key, m->klen);
	rc = rc ? rc : fbuf_addf(o, ",\"snapshots_held\":%zu}}",
				 tk && tk->type == JSON_ARRAY ? tk->u.arr.n : 0);
	return rc;
}

/* 1 if `id` is one of the comma list `sel` (NULL: all). */
static int id_selected(const char *sel, const char *id, size_t n)
{
	if (!sel || !strcmp(sel, "_all") || !strcmp(sel, "*"))
		return 1;
	while (*sel) {
		size_t k = strcspn(sel, ",");
		if (k == n && !memcmp(sel, id, n))
			return 1;
		sel += k + (sel[k] == ',');
	}
	return 0;
}

/* The first id of `sel` that is not a member of `all`, or NULL. */
static const char *id_missing(const char *sel, const json_value *all,
			      char *buf, size_t len)
{
	while (sel && *sel) {
		size_t k = strcspn(sel, ",");
		if (k && strncmp(sel, "_all", k) && strncmp(sel, "*", k) &&
		    !json_get(all, sel, k)) {
			snprintf(buf, len, "%.*s", (int)k, sel);
			return buf;
		}
		sel += k + (sel[k] == ',');
	}
	return NULL;
}

/* GET /_slm/policy, GET /_slm/policy/{id[,id2]} */
void h_slm_get(freq *r)
{
	const char *sel = r->nseg > 2 ? r->seg[2] : NULL, *miss;
	char *text = NULL, buf[128];
	json_arena *a = json_arena_new();
	json_value *all;
	ferry_err e = {0, ""};
	size_t k = 0;
	int rc = a ? ferry_slm_get(r->db, NULL, &text, &e) : FERRY_ENOMEM;
	if (rc || (rc = json_parse(a, text, strlen(text), &all, NULL))) {
		freq_ferr(r, rc, e.msg[0] ? &e : NULL);
		goto out;
	}
	if ((miss = id_missing(sel, all, buf, sizeof buf))) {
		freq_error(r, 404, "resource_not_found_exception", "snapshot "
			   "lifecycle policy or policies [%s] not found", miss);
		goto out;
	}
	rc = fbuf_addc(&r->out, '{');
	for (size_t i = 0; !rc && all->type == JSON_OBJECT && i < all->u.obj.n; i++) {
		const json_member *m = &all->u.obj.m[i];
		if (!id_selected(sel, m->key, m->klen))
			continue;
		rc = fbuf_adds(&r->out, k++ ? "," : "");
		rc = rc ? rc : policy_json(&r->out, m);
	}
	rc = rc ? rc : fbuf_addc(&r->out, '}');
	if (rc)
		freq_ferr(r, rc, NULL);
out:
	ferry_free(text);
	json_arena_free(a);
}

/* DELETE /_slm/policy/{id} (its snapshots stay) */
void h_slm_delete(freq *r)
{
	ferry_err e = {0, ""};
	int rc = ferry_slm_delete(r->db, r->seg[2], &e);
	if (rc == FERRY_ENOTFOUND)
		freq_error(r, 404, "resource_not_found_exception", "snapshot "
			   "lifecycle policy not found: %s", r->seg[2]);
	else if (rc)
		freq_ferr(r, rc, &e);
	else
		freq_ack(r);
}

/* POST /_slm/policy/{id}/_execute: takes the snapshot now (on the
 * request thread), applies retention, answers {"snapshot_name":..}. */
void h_slm_execute(freq *r)
{
	const char *id = r->seg[2];
	char name[FERRY_SNAPSHOT_NAME_MAX + 1] = "", *text = NULL;
	ferry_err e = {0, ""};
	int rc = ferry_slm_get(r->db, id, &text, &e);
	ferry_free(text);
	if (rc == FERRY_ENOTFOUND) {
		freq_error(r, 404, "resource_not_found_exception", "no such snapshot "
			   "lifecycle policy [%s]", id);
		return;
	}
	if (rc || (rc = ferry_slm_execute(r->db, id, name, &e))) {
		fprintf(stderr, "ferryd: slm: policy '%s' (run by request) failed: "
			"%s\n", id, e.msg);
		freq_ferr(r, rc, &e);
		return;
	}
	fprintf(stderr, "ferryd: slm: policy '%s' (run by request) took "
		"snapshot '%s'\n", id, name);
	rc = fbuf_adds(&r->out, "{\"snapshot_name\":");
	rc = rc ? rc : fbuf_add_jstr(&r->out, name, strlen(name));
	rc = rc ? rc : fbuf_addc(&r->out, '}');
	if (rc)
		freq_ferr(r, rc, NULL);
}

/* Logs the deletions of ferry_slm_execute_retention's report, one line
 * each; `fail` gets the first failure ("" if none). */
static void retention_log(const char *report, char *fail, size_t len)
{
	json_arena *a = json_arena_new();
	json_value *v;
	if (!a || json_parse(a, report, strlen(report), &v, NULL) ||
	    v->type != JSON_ARRAY)
		goto out;
	for (size_t i = 0; i < v->u.arr.n; i++) {
		const json_value *x = v->u.arr.v[i], *l;
		const char *pol = json_str_member(x, "policy", "?");
		const char *err = json_str_member(x, "error", "");
		static const char *const what[] = {"deleted", "forgotten"};
		for (int k = 0; k < 2; k++) {
			l = json_get(x, what[k], strlen(what[k]));
			for (size_t j = 0; l && l->type == JSON_ARRAY &&
					   j < l->u.arr.n; j++)
				fprintf(stderr, "ferryd: slm: retention of policy "
					"'%s' %s snapshot '%s'%s\n", pol,
					k ? "forgot" : "deleted",
					l->u.arr.v[j]->type == JSON_STRING
						? l->u.arr.v[j]->u.str.s : "?",
					k ? " (it was already gone)" : "");
		}
		if (*err) {
			fprintf(stderr, "ferryd: slm: retention of policy '%s' "
				"failed: %s\n", pol, err);
			if (!fail[0])
				snprintf(fail, len, "policy '%s': %s", pol, err);
		}
	}
out:
	json_arena_free(a);
}

/* POST /_slm/_execute_retention: applies every policy's retention now,
 * on the request thread, deleting through the repository lock as a
 * scheduled run does; {"acknowledged":true} once done. */
void h_slm_execute_retention(freq *r)
{
	char *report = NULL, fail[600] = "";
	ferry_err e = {0, ""};
	int rc = ferry_slm_execute_retention(r->db, 0, &report, &e);
	if (rc == FERRY_ENOTINIT) {
		freq_ack(r); /* no data dir yet: no policies */
		return;
	}
	if (rc) {
		freq_ferr(r, rc, &e);
		return;
	}
	retention_log(report, fail, sizeof fail);
	ferry_free(report);
	if (fail[0])
		freq_error(r, 500, "exception", "snapshot retention did not "
			   "finish: %s; the other deletions were done, and the "
			   "next run tries this one again", fail);
	else
		freq_ack(r);
}

/* GET /_slm/status: ES's operation mode, and ferryd's scheduler. */
void h_slm_status(freq *r)
{
	fsrv *s = r->srv;
	int rc;
	pthread_mutex_lock(&s->mu);
	rc = fbuf_addf(&r->out, "{\"operation_mode\":\"%s\",\"scheduler\":{"
		"\"interval_s\":%d,\"last_run_millis\":%" PRId64 ",\"runs\":%"
		PRIu64 ",\"failures\":%" PRIu64 ",\"last_error\":",
		s->slm_started ? "RUNNING" : "STOPPED", s->slm_interval_s,
		s->slm_last_run_ms, s->slm_runs, s->slm_failures);
	rc = rc ? rc : fbuf_add_jstr(&r->out, s->slm_last_error,
				     strlen(s->slm_last_error));
	pthread_mutex_unlock(&s->mu);
	rc = rc ? rc : fbuf_adds(&r->out, "}}");
	if (rc)
		freq_ferr(r, rc, NULL);
}

/* ------------------------------------------------------------------ */
/* the scheduler                                                       */

/* Logs each run of ferry_slm_run_due's report and counts them; `last`
 * gets the last failure ("" if none). */
static void slm_log(const char *report, char *last, size_t len,
		    uint64_t *runs, uint64_t *fails)
{
	json_arena *a = json_arena_new();
	json_value *v;
	if (!a || json_parse(a, report, strlen(report), &v, NULL) ||
	    v->type != JSON_ARRAY)
		goto out;
	for (size_t i = 0; i < v->u.arr.n; i++) {
		const json_value *x = v->u.arr.v[i];
		const char *pol = json_str_member(x, "policy", "?");
		const char *snap = json_str_member(x, "snapshot", "");
		const char *err = json_str_member(x, "error", "");
		(*runs)++;
		if (*err) {
			(*fails)++;
			snprintf(last, len, "policy '%s': %s", pol, err);
			fprintf(stderr, "ferryd: slm: policy '%s' failed: %s\n", pol,
				err);
		} else {
			fprintf(stderr, "ferryd: slm: policy '%s' took snapshot '%s'\n",
				pol, snap);
		}
	}
out:
	json_arena_free(a);
}

/* One tick: runs the due policies and records the outcome. */
static void slm_tick(fsrv *s)
{
	char *report = NULL, last[512] = "";
	ferry_err e = {0, ""};
	uint64_t runs = 0, fails = 0;
	int rc = ferry_slm_run_due(s->db, 0, &report, &e);
	if (rc == FERRY_ENOTINIT)
		rc = 0; /* nothing to run before `ferry init` */
	else if (rc) {
		snprintf(last, sizeof last, "%s", e.msg);
		fprintf(stderr, "ferryd: slm: cannot run due policies: %s\n", e.msg);
	} else if (report) {
		slm_log(report, last, sizeof last, &runs, &fails);
	}
	pthread_mutex_lock(&s->mu);
	s->slm_last_run_ms = fsrv_now_ms();
	if (rc || runs)
		snprintf(s->slm_last_error, sizeof s->slm_last_error, "%s", last);
	s->slm_runs += runs;
	s->slm_failures += fails;
	pthread_mutex_unlock(&s->mu);
	ferry_free(report);
}

static void *slm_main(void *arg)
{
	fsrv *s = arg;
	struct timespec dl;
	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		pthread_mutex_unlock(&s->mu);
		slm_tick(s);
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += s->slm_interval_s;
		pthread_mutex_lock(&s->mu);
		while (!s->stopping &&
		       !pthread_cond_timedwait(&s->cond, &s->mu, &dl))
			; /* woken for something else: keep the deadline */
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int fsrv_slm_start(fsrv *s)
{
	int e;
	if (s->slm_interval_s <= 0)
		s->slm_interval_s = 60;
	if ((e = pthread_create(&s->slm_thread, NULL, slm_main, s))) {
		fprintf(stderr, "ferryd: cannot start the SLM scheduler: %s; "
			"policies will not run by themselves\n", strerror(e));
		return FERRY_EIO;
	}
	s->slm_started = 1;
	return 0;
}

/* Stops the scheduler (it may be in the middle of a policy's snapshot,
 * which then finishes first) and the background snapshot creates. Sets
 * srv->stopping: call it only at shutdown. */
void fsrv_slm_stop(fsrv *s)
{
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
	if (s->slm_started) {
		pthread_join(s->slm_thread, NULL);
		s->slm_started = 0;
	}
	fsrv_snapjobs_stop(s);
}
