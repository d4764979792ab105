/*
 * job.c - the background upgrade of ferryd (POST /migration, and
 * FERRY_AUTO_UPGRADE=yes at start-up): one thread at a time runs
 * ferry_upgrade_run() while the server keeps serving the old version;
 * its progress callback copies step, item and counts into srv->job under
 * srv->mu, where GET /migration/status reads them.
 *
 * Lifetime: a finished thread is joined by the next fsrv_job_start() or by
 * fsrv_job_stop() at shutdown; whoever clears job.thread_live under the
 * mutex joins. fsrv_job_stop() sets job.stop, which makes the progress
 * callback return non-zero: the run stops after its current batch and
 * stays resumable (the next POST /migration, or `ferry upgrade resume`,
 * finishes it). Nothing here needs the HTTP daemon, so main.c may start
 * a job before it listens. FERRY_UPGRADE_THROTTLE caps the copy rate.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "server/server.h"

#define JOB_RATE_SAMPLE_US 500000 /* rate: one sample per half second */

/* Documents the plan copies: every index but the dropped ones. */
static uint64_t plan_docs(const char *plan)
{
	json_arena *a = json_arena_new();
	json_value *root, *ix;
	uint64_t n = 0;

	if (!a)
		return 0;
	if (!json_parse(a, plan, strlen(plan), &root, NULL) &&
	    (ix = json_get(root, "indices", 7)) && ix->type == JSON_ARRAY)
		for (size_t i = 0; i < ix->u.arr.n; i++) {
			const json_value *it = ix->u.arr.v[i];
			if (strcmp(json_str_member(it, "action", ""), "drop"))
				n += (uint64_t)json_int_member(it, "docs", 0);
		}
	json_arena_free(a);
	return n;
}

/* The progress callback: runs on the job thread (inside the copy). */
static int job_progress(void *ctx, const ferry_upgrade_progress *p)
{
	fsrv *s = ctx;
	fsrv_job *j = &s->job;
	int stop, was_copy;

	pthread_mutex_lock(&s->mu);
	stop = j->stop;
	was_copy = !strcmp(j->step, "copy");
	if (strcmp(j->step, p->step)) {
		snprintf(j->step, sizeof(j->step), "%s", p->step);
		j->step_ms = fsrv_now_ms();
	}
	j->items = p->items;
	if (p->item < p->items) {
		int copy = !strcmp(p->step, "copy");
		if (copy && was_copy && p->item != j->item)
			j->base_done += j->done;
		j->item = p->item;
		j->done = p->done;
		j->total = p->total;
		snprintf(j->tenant, sizeof(j->tenant), "%s",
			 p->tenant ? p->tenant : "");
		snprintf(j->source, sizeof(j->source), "%s",
			 p->source ? p->source : "");
		snprintf(j->target, sizeof(j->target), "%s",
			 p->target ? p->target : "");
		if (copy)
			j->docs_done = j->base_done + p->done;
	}
	if (was_copy && strcmp(p->step, "copy") && j->rate <= 0 &&
	    j->copy_us && j->docs_done) {
		/* a copy shorter than one sample: its average rate */
		int64_t us = fsrv_mono_us() - j->copy_us;
		j->rate = (double)j->docs_done * 1e6 / (double)(us > 0 ? us : 1);
	}
	if (!strcmp(p->step, "copy")) {
		int64_t now = fsrv_mono_us();
		if (!j->copy_us)
			j->copy_us = now;
		if (!j->rate_us || j->docs_done < j->rate_docs) {
			j->rate_us = now;
			j->rate_docs = j->docs_done;
		} else if (now - j->rate_us >= JOB_RATE_SAMPLE_US) {
			double inst = (double)(j->docs_done - j->rate_docs) *
				      1e6 / (double)(now - j->rate_us);
			j->rate = j->rate > 0 ? 0.6 * j->rate + 0.4 * inst : inst;
			j->rate_us = now;
			j->rate_docs = j->docs_done;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return stop;
}

/* FERRY_UPGRADE_THROTTLE: at most this many documents per second copied
 * by the background upgrade, so that a live server keeps its latency
 * (0 or unset: no limit). Read at each start. */
static uint64_t job_throttle(void)
{
	const char *v = getenv("FERRY_UPGRADE_THROTTLE");
	char *end;
	unsigned long long n;

	if (!v || !*v)
		return 0;
	n = strtoull(v, &end, 10);
	if (*end || v[0] == '-') {
		fprintf(stderr, "ferryd: FERRY_UPGRADE_THROTTLE=%s is not a "
			"number of documents per second; copying without a "
			"limit\n", v);
		return 0;
	}
	return (uint64_t)n;
}

static void *job_main(void *arg)
{
	fsrv *s = arg;
	ferry_upgrade_opts o;
	ferry_err e = {0, ""};
	char to[64], msg[sizeof(s->job.error)];
	int rc;

	memset(&o, 0, sizeof(o));
	pthread_mutex_lock(&s->mu);
	snprintf(to, sizeof(to), "%s", s->job.to);
	o.allow_dev = s->job.allow_dev;
	o.skip_bad = s->job.skip_bad;
	o.no_snapshot = s->job.no_snapshot;
	pthread_mutex_unlock(&s->mu);
	o.migrations_dir = s->migrations;
	o.to = to;
	o.throttle = job_throttle();
	o.progress = job_progress;
	o.ctx = s;
	rc = ferry_upgrade_run(s->db, &o, &e);

	pthread_mutex_lock(&s->mu);
	s->job.result = rc;
	if (rc && s->job.stop)
		snprintf(s->job.error, sizeof(s->job.error), "the upgrade to %s "
			 "stopped because ferryd shut down; it is resumable: "
			 "POST /migration {\"to\":\"%s\"} (or `ferry upgrade "
			 "resume`) finishes it", to, to);
	else if (rc)
		snprintf(s->job.error, sizeof(s->job.error), "%s",
			 e.msg[0] ? e.msg : ferry_strerror(rc));
	if (!rc) {
		snprintf(s->job.step, sizeof(s->job.step), "done");
		s->job.docs_done = s->job.docs_total > s->job.docs_done ?
				   s->job.docs_total : s->job.docs_done;
		s->pending[0] = 0;
	}
	s->job.finished_ms = fsrv_now_ms();
	s->job.running = 0;
	snprintf(msg, sizeof(msg), "%s", s->job.error);
	pthread_mutex_unlock(&s->mu);
	fprintf(stderr, "ferryd: upgrade to %s %s%s\n", to,
		rc ? "stopped: " : "finished", msg);
	return NULL;
}

/* Resets the job record for a new run; under s->mu. */
static void job_reset(fsrv_job *j, const char *to, int allow_dev,
		      int skip_bad, int no_snapshot, uint64_t docs_total)
{
	pthread_t keep = j->thread;

	memset(j, 0, sizeof(*j));
	j->thread = keep;
	j->running = 1;
	snprintf(j->to, sizeof(j->to), "%s", to);
	snprintf(j->kind, sizeof(j->kind), "upgrade");
	snprintf(j->step, sizeof(j->step), "starting");
	j->started_ms = j->step_ms = fsrv_now_ms();
	j->item = (size_t)-1;
	j->docs_total = docs_total;
	j->allow_dev = allow_dev;
	j->skip_bad = skip_bad;
	j->no_snapshot = no_snapshot;
}

/* Under s->mu: refuses while stopping or running, joins a finished
 * thread. */
static int job_claim(fsrv *s, ferry_err *err)
{
	if (s->stopping || s->job.stop) {
		snprintf(err->msg, sizeof(err->msg), "ferryd is shutting down; "
			 "start the upgrade after it restarts");
		return err->code = FERRY_EBUSY;
	}
	if (s->job.running) {
		snprintf(err->msg, sizeof(err->msg), "an upgrade to %s is already "
			 "running in this server (step %s); follow it with GET "
			 "/migration/status", s->job.to, s->job.step);
		return err->code = FERRY_EBUSY;
	}
	if (s->job.thread_live) {
		pthread_join(s->job.thread, NULL);
		s->job.thread_live = 0;
		s->job.joined = 1;
	}
	return 0;
}

int fsrv_job_start(fsrv *s, const char *to, int allow_dev, int skip_bad,
		   int no_snapshot, ferry_err *err)
{
	ferry_upgrade_opts o;
	ferry_err tmp;
	char *plan = NULL;
	uint64_t docs;
	int rc;

	if (!err)
		err = &tmp;
	if (!to || !*to || strlen(to) >= sizeof(s->job.to)) {
		snprintf(err->msg, sizeof(err->msg), "the target release is "
			 "missing or too long: say which release to upgrade to, "
			 "e.g. {\"to\":\"0.8.1\"}");
		return err->code = FERRY_EINVAL;
	}
	/* plan first: a refusal (missing hop, downgrade, budget) is told
	 * now, not as a failed job */
	memset(&o, 0, sizeof(o));
	o.migrations_dir = s->migrations;
	o.to = to;
	o.allow_dev = allow_dev;
	o.skip_bad = skip_bad;
	o.no_snapshot = no_snapshot;
	if ((rc = ferry_upgrade_plan(s->db, &o, &plan, err)))
		return rc;
	docs = plan_docs(plan);
	ferry_free(plan);

	pthread_mutex_lock(&s->mu);
	if ((rc = job_claim(s, err)))
		goto out;
	job_reset(&s->job, to, allow_dev, skip_bad, no_snapshot, docs);
	if (pthread_create(&s->job.thread, NULL, job_main, s)) {
		s->job.running = 0;
		snprintf(err->msg, sizeof(err->msg), "cannot start the upgrade "
			 "thread (out of resources); try again");
		rc = err->code = FERRY_ENOMEM;
		goto out;
	}
	s->job.thread_live = 1;
	fprintf(stderr, "ferryd: upgrade to %s started\n", to);
out:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void fsrv_job_stop(fsrv *s)
{
	pthread_t th;
	int live;

	pthread_mutex_lock(&s->mu);
	s->job.stop = 1;
	live = s->job.thread_live;
	th = s->job.thread;
	s->job.thread_live = 0;
	pthread_mutex_unlock(&s->mu);
	if (!live)
		return;
	pthread_join(th, NULL);
	pthread_mutex_lock(&s->mu);
	s->job.joined = 1;
	pthread_mutex_unlock(&s->mu);
}

/* How far the run is, 0..100: the copy is most of the work. */
static int job_percent(const fsrv_job *j)
{
	double f;

	if (!j->started_ms)
		return 0;
	if (!j->running && !j->result)
		return 100;
	if (!strcmp(j->step, "copy")) {
		if (j->docs_total)
			f = (double)j->docs_done / (double)j->docs_total;
		else
			f = j->items ? (double)j->item / (double)j->items : 0;
		return 2 + (int)(88.0 * (f > 1 ? 1 : f));
	}
	if (!strcmp(j->step, "catch-up"))
		return 90;
	if (!strcmp(j->step, "cutover"))
		return 92;
	if (!strcmp(j->step, "verify"))
		return 93 + (j->items && j->item < j->items ?
			     (int)(6 * j->item / j->items) : 0);
	if (!strcmp(j->step, "done"))
		return 100;
	return !strcmp(j->step, "prepare") ? 1 : 0;
}

static const char *err_type(int code)
{
	switch (code) {
	case FERRY_ENOTFOUND:
		return "resource_not_found_exception";
	case FERRY_EINVAL:
	case FERRY_ENAME:
	case FERRY_EVERSION:
	case FERRY_ELIMIT:
	case FERRY_EJSON:
		return "illegal_argument_exception";
	case FERRY_EBUSY:
		return "illegal_state_exception";
	case FERRY_EPERM:
		return "security_exception";
	default:
		return "exception";
	}
}

static void add_str_or_null(fbuf *out, const char *key, const char *v)
{
	fbuf_addf(out, ",\"%s\":", key);
	if (v && *v)
		fbuf_add_jstr(out, v, strlen(v));
	else
		fbuf_adds(out, "null");
}

static void add_ms_or_null(fbuf *out, const char *key, int64_t ms)
{
	if (ms)
		fbuf_addf(out, ",\"%s\":%lld", key, (long long)ms);
	else
		fbuf_addf(out, ",\"%s\":null", key);
}

/* The result and error members of a finished run; under s->mu. */
static void job_result_json(const fsrv_job *j, fbuf *out)
{
	if (j->running || !j->started_ms) {
		fbuf_adds(out, ",\"result\":null,\"error\":null");
		return;
	}
	fbuf_addf(out, ",\"result\":\"%s\",\"error\":", j->result ? "failed"
		  : "ok");
	if (!j->result) {
		fbuf_adds(out, "null");
		return;
	}
	fbuf_addf(out, "{\"type\":\"%s\",\"code\":\"%s\",\"reason\":",
		  err_type(j->result), ferry_strerror(j->result));
	fbuf_add_jstr(out, j->error, strlen(j->error));
	fbuf_addc(out, '}');
}

void fsrv_job_json(fsrv *s, fbuf *out)
{
	const fsrv_job *j = &s->job;
	double eta;

	pthread_mutex_lock(&s->mu);
	fbuf_addf(out, "{\"running\":%s", j->running ? "true" : "false");
	add_str_or_null(out, "kind", j->kind);
	add_str_or_null(out, "to", j->to);
	add_str_or_null(out, "step", j->step);
	add_ms_or_null(out, "started_ms", j->started_ms);
	add_ms_or_null(out, "step_ms", j->step_ms);
	add_ms_or_null(out, "finished_ms", j->finished_ms);
	fbuf_addf(out, ",\"percent\":%d,\"docs_done\":%llu,\"docs_total\":%llu,"
		  "\"rate\":%.1f", job_percent(j),
		  (unsigned long long)j->docs_done,
		  (unsigned long long)j->docs_total, j->rate);
	eta = j->rate > 0 && j->docs_total > j->docs_done ?
	      (double)(j->docs_total - j->docs_done) / j->rate : 0;
	if (j->running && !strcmp(j->step, "copy") && j->rate > 0)
		fbuf_addf(out, ",\"eta_s\":%.0f", eta);
	else
		fbuf_adds(out, j->running || !j->started_ms ? ",\"eta_s\":null"
			  : ",\"eta_s\":0");
	job_result_json(j, out);
	if (j->running && j->item < j->items) {
		fbuf_addf(out, ",\"item\":{\"index\":%zu,\"count\":%zu", j->item,
			  j->items);
		add_str_or_null(out, "tenant", j->tenant);
		add_str_or_null(out, "source", j->source);
		add_str_or_null(out, "target", j->target);
		fbuf_addf(out, ",\"done\":%llu,\"total\":%llu}",
			  (unsigned long long)j->done,
			  (unsigned long long)j->total);
	} else {
		fbuf_adds(out, ",\"item\":null");
	}
	fbuf_addf(out, ",\"options\":{\"allow_dev\":%s,\"skip_bad\":%s,"
		  "\"no_snapshot\":%s}}", j->allow_dev ? "true" : "false",
		  j->skip_bad ? "true" : "false",
		  j->no_snapshot ? "true" : "false");
	pthread_mutex_unlock(&s->mu);
}
