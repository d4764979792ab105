/*
 * h_snapshot.c - ferryd's snapshot routes in Elasticsearch's shapes:
 * repositories (/_snapshot/{repo}), snapshots (/_snapshot/{repo}/{snap}),
 * restore and verify. Everything goes through the public API
 * (ferry_snaprepo_*, ferry_snapshot_*); this file only translates bodies,
 * replies and errors to what ES clients expect.
 *
 * A create runs as a "job" recorded in srv->snapjobs (under srv->mu) so
 * that GET shows it IN_PROGRESS, a second create of the same name is
 * refused and DELETE can stop it. wait_for_completion=true runs the job
 * on the request thread; otherwise a detached thread runs it and the
 * request answers {"accepted":true} at once. A failed background create
 * stays in the table (the newest SNAPJOB_FAILED_KEEP) so that GET shows
 * it FAILED with its reason, as ES does; a finished one is dropped, the
 * manifest in the repository being the truth. Shutdown
 * (fsrv_snapjobs_stop, called by fsrv_slm_stop) stops the running ones
 * through their progress callback and waits for their threads.
 *
 * Snapshot names are [a-z0-9._-], or ES's date math ("<nightly-{now/d}>",
 * URL-encoded), resolved in UTC by ferry_snapshot_name_expand() as SLM
 * policies do.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json/json.h"
#include "server/server.h"

#define SNAPJOB_FAILED_KEEP 16

typedef struct fsrv_snapjob {
	struct fsrv_snapjob *next;
	fsrv *srv;
	char repo[FERRY_PART_MAX + 1];
	char name[FERRY_SNAPSHOT_NAME_MAX + 1];
	char *pattern;       /* indices pattern, NULL for all */
	char *indices;       /* JSON array of the physical names it covers */
	size_t nindices;
	int64_t started_ms, finished_ms;
	uint64_t bytes_done, bytes_total, docs_done, bytes_stored;
	int background;      /* runs on its own thread */
	int done, cancel, rc;
	ferry_err err;
	char *manifest;      /* sync job: the manifest written */
} fsrv_snapjob;

/* Called by fsrv_slm_stop (h_slm.c) at shutdown; for server.h. */
void fsrv_snapjobs_stop(fsrv *s);

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

/* 1 if `s` can be a repository name ([a-z0-9][a-z0-9_-]{0,62}); a name
 * with '/' would be taken for a path by the API, so it never gets there. */
static int repo_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > FERRY_PART_MAX || !(islower((unsigned char)s[0]) ||
					       isdigit((unsigned char)s[0])))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) &&
		    s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* 1 if `s` is a plain snapshot name: 1 to 128 of [a-z0-9._-] starting
 * with a letter or digit. */
static int snap_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > FERRY_SNAPSHOT_NAME_MAX ||
	    !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) &&
		    !strchr("._-", s[i]))
			return 0;
	return 1;
}

/* "2026-11-22T05:03:00.123Z" */
static void iso_ms(int64_t ms, char out[40])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char b[32];
	gmtime_r(&t, &tm);
	strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%s.%03dZ", b, (int)(ms % 1000));
}

/* Appends ,"key":"<iso>","key_in_millis":ms */
static int add_time(fbuf *o, const char *key, int64_t ms)
{
	char iso[40];
	iso_ms(ms, iso);
	return fbuf_addf(o, ",\"%s\":\"%s\",\"%s_in_millis\":%" PRId64, key, iso,
			 key, ms);
}

/* A string or an array of strings (ES's `indices`) as one comma list in
 * `out`. Returns 0, or -1 if `v` has another type. */
static int comma_list(const json_value *v, fbuf *out)
{
	if (v->type == JSON_STRING)
		return fbuf_add(out, v->u.str.s, v->u.str.len) ? -1 : 0;
	if (v->type != JSON_ARRAY)
		return -1;
	for (size_t i = 0; i < v->u.arr.n; i++) {
		const json_value *e = v->u.arr.v[i];
		if (e->type != JSON_STRING || (i && fbuf_addc(out, ',')) ||
		    fbuf_add(out, e->u.str.s, e->u.str.len))
			return -1;
	}
	return 0;
}

/* 1 if `name` matches one alternative of the comma list `sel` (fnmatch
 * globs; "_all" and "*" match everything). */
static int sel_match(const char *sel, const char *name)
{
	char alt[256];
	while (*sel) {
		size_t n = strcspn(sel, ",");
		if (n < sizeof alt) {
			memcpy(alt, sel, n);
			alt[n] = 0;
			if (!strcmp(alt, "_all") || !fnmatch(alt, name, 0))
				return 1;
		}
		sel += n + (sel[n] == ',');
	}
	return 0;
}

/* The first alternative of `sel` without wildcards for which `known`
 * says no, copied to `missing`; 0 if every plain name is known. */
static int sel_missing(const char *sel, int (*known)(void *, const char *),
		       void *ctx, char *missing, size_t mlen)
{
	char alt[256];
	while (*sel) {
		size_t n = strcspn(sel, ",");
		if (n && n < sizeof alt) {
			memcpy(alt, sel, n);
			alt[n] = 0;
			if (strcmp(alt, "_all") && !strpbrk(alt, "*?[") &&
			    !known(ctx, alt)) {
				snprintf(missing, mlen, "%s", alt);
				return 1;
			}
		}
		sel += n + (sel[n] == ',');
	}
	return 0;
}

/* Looks up repository `name` without replying: 0 and *out (may be NULL),
 * FERRY_ENOTFOUND, or the list's error in *e. */
static int repo_lookup(ferry_db *db, const char *name, ferry_snaprepo_info *out,
		       ferry_err *e)
{
	ferry_snaprepo_info *v = NULL;
	size_t n = 0;
	int rc, found = 0;
	if (!repo_name_ok(name))
		return FERRY_ENOTFOUND;
	if ((rc = ferry_snaprepo_list(db, &v, &n, e)))
		return rc;
	for (size_t i = 0; i < n && !found; i++)
		if (!strcmp(v[i].name, name)) {
			if (out)
				*out = v[i];
			found = 1;
		}
	ferry_free(v);
	return found ? 0 : FERRY_ENOTFOUND;
}

/* The same, replying 404 repository_missing_exception (or the list's
 * error) and returning non-zero when the repository is not there. */
static int repo_find(freq *r, const char *name, ferry_snaprepo_info *out)
{
	ferry_err e = {0, ""};
	int rc = repo_lookup(r->db, name, out, &e);
	if (rc == FERRY_ENOTFOUND)
		freq_error(r, 404, "repository_missing_exception", "[%s] missing",
			   name);
	else if (rc)
		freq_ferr(r, rc, &e);
	return rc;
}

/* 1 if a manifest named `name` is in the repository (even a damaged or
 * newer one), 0 if not. */
static int manifest_exists(ferry_db *db, const char *repo, const char *name)
{
	char *m = NULL;
	int rc = ferry_snapshot_show(db, repo, name, &m, NULL);
	ferry_free(m);
	return rc != FERRY_ENOTFOUND && rc != FERRY_ENAME;
}

/* ------------------------------------------------------------------ */
/* snapshot info, ES's shape                                           */

/* Appends ES snapshot info for parsed manifest `m`. */
static int info_fields(fbuf *o, const char *repo, const json_value *m)
{
	const json_value *ix, *st;
	int rc;
	const char *name = json_str_member(m, "name", "");
	const char *sum = json_str_member(m, "checksum", "");
	const char *ver = json_str_member(m, "ferry", "");
	const char *rel = json_str_member(json_path_get(m, "catalog.settings"),
					  "release", "");
	int64_t t0 = json_int_member(m, "started_ms", 0);
	int64_t t1 = json_int_member(m, "finished_ms", t0);
	ix = json_get(m, "indices", 7);
	size_t n = ix && ix->type == JSON_ARRAY ? ix->u.arr.n : 0;
	rc = fbuf_adds(o, "{\"snapshot\":");
	rc = rc ? rc : fbuf_add_jstr(o, name, strlen(name));
	rc = rc ? rc : fbuf_addf(o, ",\"uuid\":\"%.22s\",\"repository\":", sum);
	rc = rc ? rc : fbuf_add_jstr(o, repo, strlen(repo));
	rc = rc ? rc : fbuf_adds(o, ",\"version\":");
	rc = rc ? rc : fbuf_add_jstr(o, ver, strlen(ver));
	rc = rc ? rc : fbuf_adds(o, ",\"indices\":[");
	for (size_t i = 0; !rc && i < n; i++) {
		const char *x = json_str_member(ix->u.arr.v[i], "name", "");
		rc = fbuf_adds(o, i ? "," : "");
		rc = rc ? rc : fbuf_add_jstr(o, x, strlen(x));
	}
	rc = rc ? rc : fbuf_adds(o, "],\"data_streams\":[],\"include_global_state\":"
				 "true,\"state\":\"SUCCESS\"");
	rc = rc ? rc : add_time(o, "start_time", t0);
	rc = rc ? rc : add_time(o, "end_time", t1);
	st = json_get(m, "stats", 5);
	rc = rc ? rc : fbuf_addf(o, ",\"duration_in_millis\":%" PRId64 ",\"failures\""
		":[],\"shards\":{\"total\":%zu,\"failed\":0,\"successful\":%zu},"
		"\"stats\":{\"docs\":%" PRId64 ",\"bytes\":%" PRId64 ",\"chunks\":%"
		PRId64 ",\"stored\":%" PRId64 ",\"new_chunks\":%" PRId64
		",\"new_bytes\":%" PRId64 "},\"release\":", t1 - t0, n, n,
		json_int_member(st, "docs", 0), json_int_member(st, "bytes", 0),
		json_int_member(st, "chunks", 0), json_int_member(st, "stored", 0),
		json_int_member(st, "new_chunks", 0),
		json_int_member(st, "new_bytes", 0));
	rc = rc ? rc : fbuf_add_jstr(o, rel, strlen(rel));
	return rc ? rc : fbuf_addc(o, '}');
}

/* Appends ES snapshot info for a manifest (its JSON text). */
static int info_manifest(fbuf *o, const char *repo, const char *text)
{
	json_arena *a = json_arena_new();
	json_value *m;
	int rc = a ? json_parse(a, text, strlen(text), &m, NULL) : FERRY_ENOMEM;
	if (!rc)
		rc = info_fields(o, repo, m);
	json_arena_free(a);
	return rc;
}

/* Appends ES snapshot info for a manifest that cannot be read. */
static int info_damaged(fbuf *o, const char *repo, const ferry_snapshot_info *v,
			const char *why)
{
	int rc = fbuf_adds(o, "{\"snapshot\":");
	rc = rc ? rc : fbuf_add_jstr(o, v->name, strlen(v->name));
	rc = rc ? rc : fbuf_adds(o, ",\"uuid\":\"_na_\",\"repository\":");
	rc = rc ? rc : fbuf_add_jstr(o, repo, strlen(repo));
	rc = rc ? rc : fbuf_addf(o, ",\"indices\":[],\"state\":\"%s\",\"reason\":",
				 strcmp(v->state, "newer") ? "FAILED" : "INCOMPATIBLE");
	rc = rc ? rc : fbuf_add_jstr(o, why, strlen(why));
	rc = rc ? rc : fbuf_adds(o, ",\"failures\":[{\"reason\":");
	rc = rc ? rc : fbuf_add_jstr(o, why, strlen(why));
	rc = rc ? rc : fbuf_adds(o, ",\"status\":\"INTERNAL_SERVER_ERROR\"}],"
				 "\"shards\":{\"total\":0,\"failed\":0,\"successful\":0}}");
	return rc;
}

/* Appends ES snapshot info for a job (IN_PROGRESS or FAILED). mu held. */
static int info_job(fbuf *o, const fsrv_snapjob *j, int64_t now)
{
	int failed = j->done && j->rc;
	size_t n = j->nindices;
	int rc = fbuf_adds(o, "{\"snapshot\":");
	rc = rc ? rc : fbuf_add_jstr(o, j->name, strlen(j->name));
	rc = rc ? rc : fbuf_adds(o, ",\"uuid\":\"_na_\",\"repository\":");
	rc = rc ? rc : fbuf_add_jstr(o, j->repo, strlen(j->repo));
	rc = rc ? rc : fbuf_addf(o, ",\"version\":\"%s\",\"indices\":%s,"
		"\"data_streams\":[],\"include_global_state\":true,\"state\":\"%s\"",
		FERRY_VERSION_STRING, j->indices ? j->indices : "[]",
		failed ? "FAILED" : "IN_PROGRESS");
	rc = rc ? rc : add_time(o, "start_time", j->started_ms);
	if (failed) {
		rc = rc ? rc : add_time(o, "end_time", j->finished_ms);
		rc = rc ? rc : fbuf_adds(o, ",\"reason\":");
		rc = rc ? rc : fbuf_add_jstr(o, j->err.msg, strlen(j->err.msg));
	}
	rc = rc ? rc : fbuf_addf(o, ",\"duration_in_millis\":%" PRId64,
				 (failed ? j->finished_ms : now) - j->started_ms);
	rc = rc ? rc : fbuf_adds(o, ",\"failures\":[");
	if (failed) {
		rc = rc ? rc : fbuf_adds(o, "{\"reason\":");
		rc = rc ? rc : fbuf_add_jstr(o, j->err.msg, strlen(j->err.msg));
		rc = rc ? rc : fbuf_adds(o, ",\"status\":\"INTERNAL_SERVER_ERROR\"}");
	}
	rc = rc ? rc : fbuf_addf(o, "],\"shards\":{\"total\":%zu,\"failed\":%zu,"
		"\"successful\":0},\"stats\":{\"docs_done\":%" PRIu64 ",\"bytes_done\":%"
		PRIu64 ",\"bytes_total\":%" PRIu64 ",\"bytes_stored\":%" PRIu64 "}}",
		n, failed ? n : 0, j->docs_done, j->bytes_done, j->bytes_total,
		j->bytes_stored);
	return rc;
}

/* ------------------------------------------------------------------ */
/* the job table                                                       */

static void job_free(fsrv_snapjob *j)
{
	if (!j)
		return;
	free(j->pattern);
	free(j->indices);
	ferry_free(j->manifest);
	free(j);
}

/* Unlinks and frees finished jobs that are of no more interest: those
 * that succeeded or were cancelled, and failed ones beyond the newest
 * SNAPJOB_FAILED_KEEP. Sync jobs are their request's to remove. mu held. */
static void jobs_reap(fsrv *s)
{
	size_t failed = 0;
	for (fsrv_snapjob **pp = &s->snapjobs; *pp;) {
		fsrv_snapjob *j = *pp;
		int drop = j->background && j->done &&
			   (!j->rc || j->cancel || ++failed > SNAPJOB_FAILED_KEEP);
		if (drop) {
			*pp = j->next;
			job_free(j);
		} else {
			pp = &j->next;
		}
	}
}

/* 1 unless the job was stopped by a delete and has ended: it is gone. */
static int job_visible(const fsrv_snapjob *j)
{
	return !(j->done && j->cancel);
}

/* The visible job for repo/name, NULL if none. mu held. */
static fsrv_snapjob *job_find(fsrv *s, const char *repo, const char *name)
{
	for (fsrv_snapjob *j = s->snapjobs; j; j = j->next)
		if (job_visible(j) && !strcmp(j->repo, repo) &&
		    !strcmp(j->name, name))
			return j;
	return NULL;
}

/* Progress callback of a create: records the figures; non-zero stops it
 * (a DELETE of the snapshot, or shutdown). */
static int job_progress(void *ctx, const ferry_snapshot_progress *p)
{
	fsrv_snapjob *j = ctx;
	fsrv *s = j->srv;
	int stop;
	pthread_mutex_lock(&s->mu);
	j->bytes_done = p->bytes_done;
	j->bytes_total = p->bytes_total;
	j->docs_done = p->docs_done;
	j->bytes_stored = p->bytes_stored;
	stop = j->cancel || s->stopping;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

/* Runs the create of job j and marks it done; j must not be touched by a
 * background thread after this returns (a reaper may free it). */
static void job_run(fsrv_snapjob *j)
{
	fsrv *s = j->srv;
	ferry_err e = {0, ""};
	char *man = NULL;
	int rc = ferry_snapshot_create(s->db, j->repo, j->name, j->pattern,
				       job_progress, j, NULL, &man, &e);
	pthread_mutex_lock(&s->mu);
	if (rc && (j->cancel || s->stopping))
		snprintf(e.msg, sizeof e.msg, "snapshot [%s:%s] was aborted %s",
			 j->repo, j->name, s->stopping ?
			 "because ferryd is shutting down" : "by a delete");
	j->rc = rc;
	j->err = e;
	j->manifest = man;
	j->finished_ms = fsrv_now_ms();
	if (j->background)
		fprintf(stderr, "ferryd: snapshot [%s:%s] %s%s (%" PRId64 " ms)\n",
			j->repo, j->name, rc ? "failed: " : "done",
			rc ? e.msg : "", j->finished_ms - j->started_ms);
	j->done = 1;
	if (j->background)
		s->snapjobs_running--;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
}

static void *job_thread(void *arg)
{
	job_run(arg);
	return NULL;
}

/* Fills j->indices with the physical names `pattern` covers now (none if
 * they cannot be listed: the create will say why). */
static int job_indices(ferry_db *db, fsrv_snapjob *j)
{
	ferry_index_info *v = NULL;
	size_t n = 0;
	fbuf b = FBUF_INIT;
	int rc;
	if (ferry_index_list(db, j->pattern, &v, &n, NULL))
		v = NULL, n = 0;
	rc = fbuf_addc(&b, '[');
	for (size_t i = 0; !rc && i < n; i++) {
		rc = fbuf_adds(&b, i ? "," : "");
		rc = rc ? rc : fbuf_add_jstr(&b, v[i].name, strlen(v[i].name));
	}
	rc = rc ? rc : fbuf_addc(&b, ']');
	ferry_free(v);
	if (rc) {
		fbuf_release(&b);
		return rc;
	}
	j->indices = fbuf_detach(&b, NULL);
	j->nindices = n;
	return 0;
}

/* Registers a new job; replies 400 invalid_snapshot_name_exception and
 * returns NULL if one of that name is already under way. */
static fsrv_snapjob *job_add(freq *r, const char *repo, const char *name,
			     const char *pattern, int background)
{
	fsrv *s = r->srv;
	fsrv_snapjob *j = calloc(1, sizeof *j), *old;
	if (!j || (pattern && !(j->pattern = strdup(pattern))) ||
	    job_indices(r->db, j)) {
		job_free(j);
		freq_ferr(r, FERRY_ENOMEM, NULL);
		return NULL;
	}
	j->srv = s;
	snprintf(j->repo, sizeof j->repo, "%s", repo);
	snprintf(j->name, sizeof j->name, "%s", name);
	j->background = background;
	j->started_ms = fsrv_now_ms();
	pthread_mutex_lock(&s->mu);
	if (s->stopping) {
		pthread_mutex_unlock(&s->mu);
		job_free(j);
		freq_error(r, 503, "node_closed_exception", "ferryd is shutting "
			   "down; take the snapshot after it restarts");
		return NULL;
	}
	jobs_reap(s);
	old = job_find(s, repo, name);
	if (old && old->done && old->background) { /* a failed one: forget it */
		old->cancel = 1;
		jobs_reap(s);
		old = NULL;
	}
	if (!old) {
		j->next = s->snapjobs;
		s->snapjobs = j;
		s->snapjobs_running += background;
	}
	pthread_mutex_unlock(&s->mu);
	if (old) {
		job_free(j);
		freq_error(r, 400, "invalid_snapshot_name_exception", "[%s:%s] Invalid "
			   "snapshot name [%s], snapshot with the same name is "
			   "already in-progress", repo, name, name);
		return NULL;
	}
	return j;
}

/* Unlinks and frees job j (a sync job, once its request has its result). */
static void job_remove(fsrv *s, fsrv_snapjob *j)
{
	pthread_mutex_lock(&s->mu);
	for (fsrv_snapjob **pp = &s->snapjobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	pthread_mutex_unlock(&s->mu);
	job_free(j);
}

void fsrv_snapjobs_stop(fsrv *s)
{
	pthread_mutex_lock(&s->mu);
	for (fsrv_snapjob *j = s->snapjobs; j; j = j->next)
		j->cancel = 1;
	while (s->snapjobs_running)
		pthread_cond_wait(&s->cond, &s->mu);
	for (fsrv_snapjob **pp = &s->snapjobs; *pp;) {
		fsrv_snapjob *j = *pp;
		if (j->background) { /* sync ones belong to their requests */
			*pp = j->next;
			job_free(j);
		} else {
			pp = &j->next;
		}
	}
	pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------ */
/* repositories                                                        */

/* 1 if `s` (len bytes) is an absolute, normalised path: no NUL, no empty,
 * "." or ".." segment. */
static int location_ok(const char *s, size_t len)
{
	if (!len || s[0] != '/' || strlen(s) != len || len >= PATH_MAX - 128)
		return 0;
	if (len == 1)
		return 1;
	for (const char *p = s; *p;) {
		const char *seg = p + 1;
		size_t n = strcspn(seg, "/");
		if (!n || (n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return 0;
		p = seg + n;
	}
	return 1;
}

/* settings.chunk_size: a number of bytes or "64kb", "1mb", "1gb", "512b".
 * Returns 0 and *out, or -1. */
static int chunk_size_of(const json_value *v, size_t *out)
{
	char num[32], *end;
	const char *t = v->type == JSON_STRING ? v->u.str.s : v->u.num.text;
	size_t n = v->type == JSON_STRING ? v->u.str.len : v->u.num.len;
	if ((v->type != JSON_STRING && v->type != JSON_NUMBER) || !n ||
	    n >= sizeof num)
		return -1;
	memcpy(num, t, n);
	num[n] = 0;
	errno = 0;
	unsigned long long x = strtoull(num, &end, 10);
	unsigned shift = 0;
	if (end == num || errno || num[0] == '-')
		return -1;
	if (!strcasecmp(end, "kb"))
		shift = 10;
	else if (!strcasecmp(end, "mb"))
		shift = 20;
	else if (!strcasecmp(end, "gb"))
		shift = 30;
	else if (*end && strcasecmp(end, "b"))
		return -1;
	if (x > (SIZE_MAX >> 31))
		return -1;
	*out = (size_t)(x << shift);
	return 0;
}

/* Appends "name":{"type":"fs","settings":{"location":..}} */
static int repo_json(fbuf *o, const ferry_snaprepo_info *v, int first)
{
	int rc = fbuf_adds(o, first ? "" : ",");
	rc = rc ? rc : fbuf_add_jstr(o, v->name, strlen(v->name));
	rc = rc ? rc : fbuf_adds(o, ":{\"type\":\"fs\",\"settings\":{\"location\":");
	rc = rc ? rc : fbuf_add_jstr(o, v->path, strlen(v->path));
	return rc ? rc : fbuf_adds(o, "}}");
}

struct repo_set {
	ferry_snaprepo_info *v;
	size_t n;
};

static int repo_known(void *ctx, const char *name)
{
	const struct repo_set *rs = ctx;
	for (size_t i = 0; i < rs->n; i++)
		if (!strcmp(rs->v[i].name, name))
			return 1;
	return 0;
}

/* GET /_snapshot, GET /_snapshot/{repo} (comma list, globs, _all). */
void h_snap_repo_get(freq *r)
{
	struct repo_set rs = {NULL, 0};
	const char *sel = r->nseg > 1 ? r->seg[1] : "_all";
	char miss[256];
	ferry_err e = {0, ""};
	size_t k = 0;
	int rc = ferry_snaprepo_list(r->db, &rs.v, &rs.n, &e);
	if (rc) {
		freq_ferr(r, rc, &e);
		return;
	}
	if (sel_missing(sel, repo_known, &rs, miss, sizeof miss)) {
		freq_error(r, 404, "repository_missing_exception", "[%s] missing", miss);
		goto out;
	}
	rc = fbuf_addc(&r->out, '{');
	for (size_t i = 0; !rc && i < rs.n; i++)
		if (sel_match(sel, rs.v[i].name))
			rc = repo_json(&r->out, &rs.v[i], !k++);
	rc = rc ? rc : fbuf_addc(&r->out, '}');
	if (rc)
		freq_ferr(r, rc, NULL);
out:
	ferry_free(rs.v);
}

/* ferry_snaprepo_add's refusals in ES's words. */
static void repo_add_error(freq *r, const char *name, const char *path,
			   int rc, const ferry_err *e)
{
	switch (rc) {
	case FERRY_EPERM:
	case FERRY_EIO:
		freq_error(r, 500, "repository_verification_exception", "[%s] "
			   "location [%s] is not accessible: %s", name, path, e->msg);
		break;
	case FERRY_ENAME:
		freq_error(r, 400, "invalid_repository_name_exception", "[%s] %s",
			   name, e->msg);
		break;
	case FERRY_ENOTFOUND:
	case FERRY_EINVAL:
	case FERRY_EVERSION:
	case FERRY_ECORRUPT:
	case FERRY_ELIMIT:
		freq_error(r, 400, "repository_exception", "[%s] %s", name, e->msg);
		break;
	default:
		freq_ferr(r, rc, e);
	}
}

/* Reads {"type":"fs","settings":{"location":..,"chunk_size":..}}; replies
 * 400 repository_exception and returns non-zero when it is not that. */
static int repo_body(freq *r, const char *name, json_value *b,
		     const char **loc, size_t *chunk)
{
	const json_value *t = json_get(b, "type", 4);
	const json_value *st = json_get(b, "settings", 8), *l, *cs;
	if (!t || t->type != JSON_STRING) {
		freq_error(r, 400, "repository_exception", "[%s] missing repository "
			   "type: send {\"type\":\"fs\",\"settings\":{\"location\":"
			   "\"/abs/path\"}}", name);
		return -1;
	}
	if (strcmp(t->u.str.s, "fs")) {
		freq_error(r, 400, "repository_exception", "[%s] repository type "
			   "[%s] does not exist: ferry supports \"fs\" (a directory, "
			   "local or on a shared file system)", name, t->u.str.s);
		return -1;
	}
	l = json_get(st, "location", 8);
	if (!l || l->type != JSON_STRING || !location_ok(l->u.str.s, l->u.str.len)) {
		freq_error(r, 400, "repository_exception", "[%s] settings.location "
			   "must be an absolute, normalised path (no \".\", \"..\" or "
			   "empty parts), e.g. \"/var/backups/ferry\"", name);
		return -1;
	}
	*loc = l->u.str.s;
	*chunk = 0;
	cs = json_get(st, "chunk_size", 10);
	if (cs && chunk_size_of(cs, chunk)) {
		freq_error(r, 400, "repository_exception", "[%s] settings.chunk_size "
			   "must be bytes or a size such as \"1mb\" or \"256kb\"", name);
		return -1;
	}
	return 0;
}

/* PUT|POST /_snapshot/{repo} */
void h_snap_repo_put(freq *r)
{
	const char *name = r->seg[1], *loc;
	json_arena *a = json_arena_new();
	json_value *b;
	ferry_snaprepo_info have;
	ferry_err e = {0, ""};
	char real[PATH_MAX];
	size_t chunk;
	int rc;
	if (!a) {
		freq_ferr(r, FERRY_ENOMEM, NULL);
		return;
	}
	if (freq_body_object(r, a, 1, &b) || repo_body(r, name, b, &loc, &chunk))
		goto out;
	if (!(rc = repo_lookup(r->db, name, &have, &e))) {
		/* ES re-registers idempotently; a new place needs a DELETE */
		if (realpath(loc, real) && !strcmp(real, have.path))
			freq_ack(r);
		else
			freq_error(r, 400, "repository_exception", "[%s] is registered "
				   "at [%s]; to move it, DELETE /_snapshot/%s first (its "
				   "files stay), then register the new location", name,
				   have.path, name);
		goto out;
	}
	if (rc != FERRY_ENOTFOUND) {
		freq_ferr(r, rc, &e);
		goto out;
	}
	if ((rc = ferry_snaprepo_add(r->db, name, loc, chunk, &e)))
		repo_add_error(r, name, loc, rc, &e);
	else
		freq_ack(r);
out:
	json_arena_free(a);
}

/* DELETE /_snapshot/{repo} */
void h_snap_repo_delete(freq *r)
{
	const char *name = r->seg[1];
	ferry_err e = {0, ""};
	int rc;
	if (repo_find(r, name, NULL))
		return;
	if ((rc = ferry_snaprepo_remove(r->db, name, &e))) {
		if (rc == FERRY_ENOTFOUND)
			freq_error(r, 404, "repository_missing_exception", "[%s] missing",
				   name);
		else
			freq_ferr(r, rc, &e);
		return;
	}
	freq_ack(r);
}

/* POST /_snapshot/{repo}/_verify: the repository can be read (its
 * config.json) and written (a probe file, created, fsync'd, removed). */
static void repo_verify(freq *r, const char *name)
{
	ferry_snaprepo_info info;
	ferry_snapshot_info *v = NULL;
	ferry_err e = {0, ""};
	char probe[PATH_MAX + 64], host[256] = "ferryd";
	size_t n;
	int rc, fd;
	if (repo_find(r, name, &info))
		return;
	if ((rc = ferry_snapshot_list(r->db, name, &v, &n, &e))) {
		freq_error(r, 500, "repository_verification_exception", "[%s] %s",
			   name, e.msg);
		return;
	}
	ferry_free(v);
	snprintf(probe, sizeof probe, "%s/.verify-%ld-%" PRId64, info.path,
		 (long)getpid(), fsrv_mono_us());
	fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || fsync(fd)) {
		int en = errno;
		if (fd >= 0) {
			close(fd);
			unlink(probe);
		}
		freq_error(r, 500, "repository_verification_exception", "[%s] "
			   "location [%s] is not writable: %s; fix its permissions or "
			   "mount", name, info.path, strerror(en));
		return;
	}
	close(fd);
	unlink(probe);
	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = 0;
	rc = fbuf_adds(&r->out, "{\"nodes\":{\"ferryd\":{\"name\":");
	rc = rc ? rc : fbuf_add_jstr(&r->out, host, strlen(host));
	rc = rc ? rc : fbuf_adds(&r->out, "}}}");
	if (rc)
		freq_ferr(r, rc, NULL);
}

/* ------------------------------------------------------------------ */
/* snapshots                                                           */

/* Progress callback of the calls a request waits for: stop on shutdown. */
static int stop_on_shutdown(void *ctx, const ferry_snapshot_progress *p)
{
	fsrv *s = ctx;
	int stop;
	(void)p;
	pthread_mutex_lock(&s->mu);
	stop = s->stopping;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

static void snap_missing(freq *r, const char *repo, const char *name)
{
	freq_error(r, 404, "snapshot_missing_exception", "[%s:%s] is missing",
		   repo, name);
}

struct snap_set {
	fsrv *s;
	const char *repo;
	ferry_snapshot_info *v;
	size_t n;
};

static int snap_known(void *ctx, const char *name)
{
	struct snap_set *ss = ctx;
	int found = 0;
	for (size_t i = 0; i < ss->n && !found; i++)
		found = !strcmp(ss->v[i].name, name);
	if (!found) {
		pthread_mutex_lock(&ss->s->mu);
		found = job_find(ss->s, ss->repo, name) != NULL;
		pthread_mutex_unlock(&ss->s->mu);
	}
	return found;
}

/* Appends the info of manifest `name` (or of its damage). */
static int info_named(freq *r, const char *repo, const ferry_snapshot_info *v)
{
	char *m = NULL;
	ferry_err e = {0, ""};
	int rc;
	if (strcmp(v->state, "ok"))
		return info_damaged(&r->out, repo, v, v->state);
	if ((rc = ferry_snapshot_show(r->db, repo, v->name, &m, &e)))
		rc = info_damaged(&r->out, repo, v, e.msg);
	else
		rc = info_manifest(&r->out, repo, m);
	ferry_free(m);
	return rc;
}

/* Appends the jobs of `repo` matching `sel` that have no manifest in ss
 * (only running ones for _current), counting them in *k. */
static int info_jobs(freq *r, struct snap_set *ss, const char *sel, size_t *k)
{
	fsrv *s = r->srv;
	int current = !strcmp(sel, "_current"), rc = 0;
	int64_t now = fsrv_now_ms();
	pthread_mutex_lock(&s->mu);
	for (fsrv_snapjob *j = s->snapjobs; !rc && j; j = j->next) {
		int listed = 0;
		for (size_t i = 0; i < ss->n && !listed; i++)
			listed = !strcmp(ss->v[i].name, j->name);
		if (listed || !job_visible(j) || strcmp(j->repo, ss->repo) ||
		    (current && j->done) ||
		    (!current && !sel_match(sel, j->name)))
			continue;
		rc = fbuf_adds(&r->out, (*k)++ ? "," : "");
		rc = rc ? rc : info_job(&r->out, j, now);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* GET /_snapshot/{repo}/{snap} (comma list, globs, _all, _current). */
void h_snap_get(freq *r)
{
	const char *repo = r->seg[1], *sel = r->seg[2];
	struct snap_set ss = {r->srv, repo, NULL, 0};
	ferry_err e = {0, ""};
	char miss[256];
	size_t k = 0;
	int rc, current = !strcmp(sel, "_current");
	if (repo_find(r, repo, NULL))
		return;
	if ((rc = ferry_snapshot_list(r->db, repo, &ss.v, &ss.n, &e))) {
		freq_ferr(r, rc, &e);
		return;
	}
	if (!current && sel_missing(sel, snap_known, &ss, miss, sizeof miss)) {
		snap_missing(r, repo, miss);
		goto out;
	}
	rc = fbuf_adds(&r->out, "{\"snapshots\":[");
	for (size_t i = 0; !rc && !current && i < ss.n; i++) {
		if (!sel_match(sel, ss.v[i].name))
			continue;
		rc = fbuf_adds(&r->out, k++ ? "," : "");
		rc = rc ? rc : info_named(r, repo, &ss.v[i]);
	}
	rc = rc ? rc : info_jobs(r, &ss, sel, &k);
	rc = rc ? rc : fbuf_addf(&r->out, "],\"total\":%zu,\"remaining\":0}", k);
	if (rc)
		freq_ferr(r, rc, NULL);
out:
	ferry_free(ss.v);
}

/* The create body: {"indices": "a,b" | ["a","b"], ...}; other ES members
 * (ignore_unavailable, include_global_state, metadata, partial) are
 * accepted and ignored. Returns 0 (pattern in *pat, "" for all) or
 * non-zero having replied. */
static int create_body(freq *r, json_arena *a, fbuf *pat)
{
	json_value *b, *ix;
	if (freq_body_object(r, a, 0, &b))
		return -1;
	if (!b || !(ix = json_get(b, "indices", 7)))
		return 0;
	if (comma_list(ix, pat)) {
		freq_error(r, 400, "illegal_argument_exception", "\"indices\" must be "
			   "a string (\"profile,acme.*\") or an array of strings");
		return -1;
	}
	return 0;
}

/* A create's failure in ES's words. */
static void create_error(freq *r, const fsrv_snapjob *j)
{
	switch (j->rc) {
	case FERRY_EEXISTS:
		freq_error(r, 400, "invalid_snapshot_name_exception", "[%s:%s] Invalid "
			   "snapshot name [%s], snapshot with the same name already "
			   "exists", j->repo, j->name, j->name);
		break;
	case FERRY_ENAME:
		freq_error(r, 400, "invalid_snapshot_name_exception", "[%s:%s] "
			   "Invalid snapshot name [%s], %s", j->repo, j->name, j->name,
			   j->err.msg);
		break;
	case FERRY_EPERM:
	case FERRY_EIO:
		freq_error(r, 500, "repository_exception", "[%s:%s] %s", j->repo,
			   j->name, j->err.msg);
		break;
	default:
		if (j->cancel || r->srv->stopping)
			freq_error(r, 500, "snapshot_exception", "%s", j->err.msg);
		else
			freq_ferr(r, j->rc, &j->err);
	}
}

/* Checks the name of a new snapshot; replies 400 and returns non-zero
 * when it cannot be taken. */
static int create_name_check(freq *r, const char *repo, const char *name)
{
	if (!snap_name_ok(name)) {
		freq_error(r, 400, "invalid_snapshot_name_exception", "[%s:%s] Invalid "
			   "snapshot name [%s], must be 1 to %d characters of a-z, 0-9, "
			   "'.', '_' and '-', starting with a letter or digit", repo,
			   name, name, FERRY_SNAPSHOT_NAME_MAX);
		return -1;
	}
	if (manifest_exists(r->db, repo, name)) {
		freq_error(r, 400, "invalid_snapshot_name_exception", "[%s:%s] Invalid "
			   "snapshot name [%s], snapshot with the same name already "
			   "exists", repo, name, name);
		return -1;
	}
	return 0;
}

/* Starts job j on a detached thread (counted in snapjobs_running). */
static int job_start_thread(freq *r, fsrv_snapjob *j)
{
	pthread_attr_t at;
	pthread_t th;
	int e = pthread_attr_init(&at);
	if (!e) {
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		e = pthread_create(&th, &at, job_thread, j);
		pthread_attr_destroy(&at);
	}
	if (!e)
		return 0;
	pthread_mutex_lock(&r->srv->mu);
	r->srv->snapjobs_running--;
	j->background = 0; /* so that job_remove, not the reaper, frees it */
	pthread_mutex_unlock(&r->srv->mu);
	job_remove(r->srv, j);
	freq_error(r, 500, "snapshot_exception", "cannot start a thread for the "
		   "snapshot: %s; retry with ?wait_for_completion=true", strerror(e));
	return -1;
}

/* PUT|POST /_snapshot/{repo}/{snap}[?wait_for_completion=true] */
void h_snap_put(freq *r)
{
	const char *repo = r->seg[1], *name = r->seg[2];
	int wait = freq_flag(r, "wait_for_completion", 0), rc;
	json_arena *a = json_arena_new();
	fbuf pat = FBUF_INIT;
	fsrv_snapjob *j;
	char expanded[FERRY_SNAPSHOT_NAME_MAX + 1];
	ferry_err e = {0, ""};

	if (!a) {
		freq_ferr(r, FERRY_ENOMEM, NULL);
		return;
	}
	if (name[0] == '<') {
		if (ferry_snapshot_name_expand(name, 0, expanded, &e)) {
			freq_error(r, 400, "invalid_snapshot_name_exception",
				   "[%s:%s] Invalid snapshot name [%s]: %s", repo,
				   name, name, e.msg);
			goto out;
		}
		name = expanded;
	}
	if (repo_find(r, repo, NULL) || create_name_check(r, repo, name) ||
	    create_body(r, a, &pat) ||
	    !(j = job_add(r, repo, name, pat.len ? pat.p : NULL, !wait)))
		goto out;
	if (!wait) {
		if (!job_start_thread(r, j))
			fbuf_adds(&r->out, "{\"accepted\":true}");
		goto out;
	}
	job_run(j);
	if (j->rc) {
		create_error(r, j);
	} else {
		rc = fbuf_adds(&r->out, "{\"snapshot\":");
		rc = rc ? rc : info_manifest(&r->out, repo, j->manifest);
		rc = rc ? rc : fbuf_addc(&r->out, '}');
		if (rc)
			freq_ferr(r, rc, NULL);
	}
	job_remove(r->srv, j);
out:
	fbuf_release(&pat);
	json_arena_free(a);
}

/* Stops the running create of repo/name, if any, and waits for it; a
 * failed one is forgotten. Returns 1 if there was one. */
static int job_cancel(fsrv *s, const char *repo, const char *name)
{
	fsrv_snapjob *j;
	int had = 0;
	pthread_mutex_lock(&s->mu);
	while ((j = job_find(s, repo, name)) && !j->done) {
		j->cancel = 1;
		had = 1;
		pthread_cond_wait(&s->cond, &s->mu);
	}
	if (j && j->background) {
		j->cancel = 1;
		had = 1;
	}
	jobs_reap(s);
	pthread_mutex_unlock(&s->mu);
	return had;
}

static int gc_json(fbuf *o, const ferry_snapshot_gc *g)
{
	return fbuf_addf(o, "{\"acknowledged\":true,\"gc\":{\"chunks_removed\":%"
		PRIu64 ",\"bytes_freed\":%" PRIu64 ",\"chunks_kept\":%" PRIu64
		",\"gc_skipped\":%s}}", g->chunks_removed, g->bytes_freed,
		g->chunks_kept, g->gc_skipped ? "true" : "false");
}

/* Deletes one snapshot (stopping its create if it runs), adding to *t. */
static int delete_one(freq *r, const char *repo, const char *name,
		      ferry_snapshot_gc *t, ferry_err *e)
{
	ferry_snapshot_gc g = {0, 0, 0, 0};
	int had = job_cancel(r->srv, repo, name);
	int rc = ferry_snapshot_delete(r->db, repo, name, &g, e);
	if (rc == FERRY_ENOTFOUND && had)
		return 0; /* it never got as far as its manifest */
	t->chunks_removed += g.chunks_removed;
	t->bytes_freed += g.bytes_freed;
	t->chunks_kept += g.chunks_kept;
	t->gc_skipped |= g.gc_skipped;
	return rc;
}

/* The name of a visible job of `repo` matching `sel` that is running or
 * failed in the background; 0 if none. */
static int job_selected(fsrv *s, const char *repo, const char *sel,
			char name[FERRY_SNAPSHOT_NAME_MAX + 1])
{
	name[0] = 0;
	pthread_mutex_lock(&s->mu);
	for (fsrv_snapjob *j = s->snapjobs; j && !name[0]; j = j->next)
		if (job_visible(j) && !strcmp(j->repo, repo) &&
		    sel_match(sel, j->name) && (!j->done || j->background))
			snprintf(name, FERRY_SNAPSHOT_NAME_MAX + 1, "%s", j->name);
	pthread_mutex_unlock(&s->mu);
	return name[0] != 0;
}

/* DELETE /_snapshot/{repo}/{snap} (comma list, globs). */
void h_snap_delete(freq *r)
{
	const char *repo = r->seg[1], *sel = r->seg[2];
	struct snap_set ss = {r->srv, repo, NULL, 0};
	ferry_snapshot_gc tot = {0, 0, 0, 0};
	ferry_err e = {0, ""};
	char miss[256], name[FERRY_SNAPSHOT_NAME_MAX + 1];
	int rc;
	if (repo_find(r, repo, NULL))
		return;
	if ((rc = ferry_snapshot_list(r->db, repo, &ss.v, &ss.n, &e))) {
		freq_ferr(r, rc, &e);
		return;
	}
	if (sel_missing(sel, snap_known, &ss, miss, sizeof miss)) {
		snap_missing(r, repo, miss);
		goto out;
	}
	for (size_t i = 0; !rc && i < ss.n; i++)
		if (sel_match(sel, ss.v[i].name))
			rc = delete_one(r, repo, ss.v[i].name, &tot, &e);
	/* creates under way that have no manifest yet, failed ones */
	while (!rc && job_selected(r->srv, repo, sel, name))
		rc = delete_one(r, repo, name, &tot, &e);
	if (rc)
		freq_ferr(r, rc, &e);
	else if ((rc = gc_json(&r->out, &tot)))
		freq_ferr(r, rc, NULL);
out:
	ferry_free(ss.v);
}

/* ------------------------------------------------------------------ */
/* restore and verify                                                  */

struct restore_req {
	fbuf indices;
	const char *rename_pattern, *rename_replacement;
	int partial;
};

/* Reads ES's restore body (all members optional; include_global_state,
 * ignore_unavailable, include_aliases, index_settings... are ignored).
 * Returns 0, or non-zero having replied 400. */
static int restore_body(freq *r, json_arena *a, struct restore_req *q)
{
	json_value *b, *v;
	if (freq_body_object(r, a, 0, &b))
		return -1;
	if (!b)
		return 0;
	if ((v = json_get(b, "indices", 7)) && comma_list(v, &q->indices)) {
		freq_error(r, 400, "illegal_argument_exception", "\"indices\" must be "
			   "a string (\"profile,acme.*\") or an array of strings");
		return -1;
	}
	const char *keys[] = {"rename_pattern", "rename_replacement"};
	const char **dst[] = {&q->rename_pattern, &q->rename_replacement};
	for (size_t i = 0; i < 2; i++) {
		if (!(v = json_get(b, keys[i], strlen(keys[i]))))
			continue;
		if (v->type != JSON_STRING || strlen(v->u.str.s) != v->u.str.len) {
			freq_error(r, 400, "illegal_argument_exception", "\"%s\" must "
				   "be a string", keys[i]);
			return -1;
		}
		*dst[i] = v->u.str.s;
	}
	if ((v = json_get(b, "partial", 7))) {
		if (v->type != JSON_TRUE && v->type != JSON_FALSE) {
			freq_error(r, 400, "illegal_argument_exception", "\"partial\" "
				   "must be true or false");
			return -1;
		}
		q->partial = v->type == JSON_TRUE;
	}
	return 0;
}

/* A restore's failure in ES's words. */
static void restore_error(freq *r, const char *repo, const char *name,
			  int rc, const ferry_err *e)
{
	char ix[FERRY_NAME_MAX + 1];
	switch (rc) {
	case FERRY_EEXISTS:
		if (sscanf(e->msg, "index '%255[^']' already exists", ix) != 1)
			snprintf(ix, sizeof ix, "?");
		freq_error(r, 500, "snapshot_restore_exception", "[%s:%s] cannot "
			   "restore index [%s] because an open index with same name "
			   "already exists in the cluster. Either delete the existing "
			   "index or restore the index under a different name by "
			   "providing a rename pattern and replacement name", repo,
			   name, ix);
		break;
	case FERRY_ECORRUPT:
		freq_error(r, 500, "snapshot_restore_exception", "[%s:%s] %s", repo,
			   name, e->msg);
		break;
	case FERRY_ENOTFOUND:
		freq_error(r, 404, "index_not_found_exception", "%s", e->msg);
		break;
	case FERRY_EINVAL:
	case FERRY_ENAME:
		freq_error(r, 400, "illegal_argument_exception", "%s", e->msg);
		break;
	default:
		freq_ferr(r, rc, e);
	}
}

/* {"snapshot":{"snapshot","indices":[targets],"shards":{..}}} from
 * ferry's restore report. */
static int restore_reply(freq *r, const char *name, const char *report)
{
	json_arena *a = json_arena_new();
	json_value *rep, *ix;
	size_t n = 0, failed = 0;
	int rc = a ? 0 : FERRY_ENOMEM;
	if (rc || (rc = json_parse(a, report, strlen(report), &rep, NULL)))
		goto out;
	ix = json_get(rep, "indices", 7);
	n = ix && ix->type == JSON_ARRAY ? ix->u.arr.n : 0;
	rc = fbuf_adds(&r->out, "{\"snapshot\":{\"snapshot\":");
	rc = rc ? rc : fbuf_add_jstr(&r->out, name, strlen(name));
	rc = rc ? rc : fbuf_adds(&r->out, ",\"indices\":[");
	for (size_t i = 0; !rc && i < n; i++) {
		const char *t = json_str_member(ix->u.arr.v[i], "target", "");
		failed += json_int_member(ix->u.arr.v[i], "records_left_out", 0) > 0;
		rc = fbuf_adds(&r->out, i ? "," : "");
		rc = rc ? rc : fbuf_add_jstr(&r->out, t, strlen(t));
	}
	rc = rc ? rc : fbuf_addf(&r->out, "],\"shards\":{\"total\":%zu,\"failed\":"
		"%zu,\"successful\":%zu},\"docs\":%" PRId64 "}}", n, failed,
		n - failed, json_int_member(rep, "docs", 0));
out:
	json_arena_free(a);
	return rc;
}

/* POST /_snapshot/{repo}/{snap}/_restore. Runs to the end on the request
 * thread whatever wait_for_completion says; without it the answer is
 * ES's {"accepted":true}. */
void h_snap_restore(freq *r)
{
	const char *repo = r->seg[1], *name = r->seg[2];
	int wait = freq_flag(r, "wait_for_completion", 0), rc;
	struct restore_req q = {FBUF_INIT, NULL, NULL, 0};
	json_arena *a = json_arena_new();
	ferry_restore_opts o = {NULL, NULL, NULL, 0, 0, stop_on_shutdown, r->srv};
	ferry_err e = {0, ""};
	char *report = NULL;
	if (!a) {
		freq_ferr(r, FERRY_ENOMEM, NULL);
		return;
	}
	if (repo_find(r, repo, NULL) || restore_body(r, a, &q))
		goto out;
	if (!manifest_exists(r->db, repo, name)) {
		snap_missing(r, repo, name);
		goto out;
	}
	o.indices = q.indices.len ? q.indices.p : NULL;
	o.rename_pattern = q.rename_pattern;
	o.rename_replacement = q.rename_replacement;
	o.partial = q.partial;
	if ((rc = ferry_snapshot_restore(r->db, repo, name, &o, &report, &e)))
		restore_error(r, repo, name, rc, &e);
	else if (!wait)
		fbuf_adds(&r->out, "{\"accepted\":true}");
	else if ((rc = restore_reply(r, name, report)))
		freq_ferr(r, rc, NULL);
out:
	ferry_free(report);
	fbuf_release(&q.indices);
	json_arena_free(a);
}

/* POST /_snapshot/{repo}/{snap}/_verify (ferry): re-reads and re-hashes
 * every chunk. 200 with "valid" true or false and ferry's report. */
static void snap_verify(freq *r, const char *repo, const char *name)
{
	ferry_err e = {0, ""};
	char *report = NULL;
	int rc, bad;
	if (repo_find(r, repo, NULL))
		return;
	if (!manifest_exists(r->db, repo, name)) {
		snap_missing(r, repo, name);
		return;
	}
	rc = ferry_snapshot_verify(r->db, repo, name, stop_on_shutdown, r->srv,
				   &report, &e);
	if (rc && !(rc == FERRY_ECORRUPT && report)) {
		freq_ferr(r, rc, &e);
		goto out;
	}
	bad = rc != 0;
	rc = fbuf_adds(&r->out, "{\"snapshot\":");
	rc = rc ? rc : fbuf_add_jstr(&r->out, name, strlen(name));
	rc = rc ? rc : fbuf_adds(&r->out, ",\"repository\":");
	rc = rc ? rc : fbuf_add_jstr(&r->out, repo, strlen(repo));
	rc = rc ? rc : fbuf_addf(&r->out, ",\"valid\":%s,\"reason\":",
				 bad ? "false" : "true");
	rc = rc ? rc : fbuf_add_jstr(&r->out, bad ? e.msg : "",
				     bad ? strlen(e.msg) : 0);
	rc = rc ? rc : fbuf_adds(&r->out, ",\"report\":");
	rc = rc ? rc : fbuf_adds(&r->out, report);
	rc = rc ? rc : fbuf_addc(&r->out, '}');
	if (rc)
		freq_ferr(r, rc, NULL);
out:
	ferry_free(report);
}

/* POST /_snapshot/{repo}/_verify and /_snapshot/{repo}/{snap}/_verify */
void h_snap_verify(freq *r)
{
	if (r->nseg == 4)
		snap_verify(r, r->seg[1], r->seg[2]);
	else
		repo_verify(r, r->seg[1]);
}
