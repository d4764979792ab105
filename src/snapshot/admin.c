/*
 * admin.c - the snapshot API besides create and restore: list, show,
 * delete (with garbage collection of chunks) and verify.
 *
 * Delete, under the repository lock:
 *  1. renames snapshots/<name>.json to <name>.json.deleting, so a delete
 *     killed midway is finished by running it again;
 *  2. reads every other manifest: the chunks they name stay (if one is
 *     damaged, no chunk is removed at all: we cannot know what it needs);
 *  3. removes the other chunks, but only those older (mtime) than the
 *     oldest running create and this delete's lock: a create touches every
 *     chunk it uses. A candidate is first renamed into trash/ and its
 *     mtime checked again there, so a create touching it in between wins;
 *     trash/ left by a killed delete is put back by the next lock holder;
 *  4. removes the .deleting manifest.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "snapshot/snapshot.h"


/* ---- a set of chunks keyed by hash ---- */

typedef struct hent {
	fsnap_chunk_ref ref;
	uint32_t user;   /* first user: index into the users list */
	uint32_t nusers;
	int used;
} hent;

typedef struct hset {
	hent *v;
	size_t cap, n;
} hset;

static uint64_t hkey(const unsigned char *sha)
{
	uint64_t k;
	memcpy(&k, sha, sizeof k);
	return k;
}

static int hset_grow(hset *h)
{
	size_t cap = h->cap ? h->cap * 2 : 1024;
	hent *nv = calloc(cap, sizeof *nv);
	if (!nv)
		return FERRY_ENOMEM;
	for (size_t i = 0; i < h->cap; i++) {
		if (!h->v[i].used)
			continue;
		size_t j = hkey(h->v[i].ref.sha) & (cap - 1);
		while (nv[j].used)
			j = (j + 1) & (cap - 1);
		nv[j] = h->v[i];
	}
	free(h->v);
	h->v = nv;
	h->cap = cap;
	return 0;
}

/* The entry of sha; with `add`, made if missing (*added = 1). NULL if
 * absent (or out of memory when adding). */
static hent *hset_get(hset *h, const unsigned char *sha, int add, int *added)
{
	if (added)
		*added = 0;
	if (add && (h->n + 1) * 2 > h->cap && hset_grow(h))
		return NULL;
	if (!h->cap)
		return NULL;
	size_t j = hkey(sha) & (h->cap - 1);
	while (h->v[j].used) {
		if (!memcmp(h->v[j].ref.sha, sha, 32))
			return &h->v[j];
		j = (j + 1) & (h->cap - 1);
	}
	if (!add)
		return NULL;
	h->v[j].used = 1;
	memcpy(h->v[j].ref.sha, sha, 32);
	h->n++;
	if (added)
		*added = 1;
	return &h->v[j];
}

/* ---- list and show ---- */

static int cmp_info(const void *a, const void *b)
{
	const ferry_snapshot_info *x = a, *y = b;
	if (x->started_ms != y->started_ms)
		return x->started_ms < y->started_ms ? -1 : 1;
	return strcmp(x->name, y->name);
}

int ferry_snapshot_list(ferry_db *db, const char *repo,
			ferry_snapshot_info **out, size_t *n, ferry_err *err)
{
	fsnap_repo r;
	char **names;
	size_t cnt;
	int rc = fsnap_repo_open(db, repo, &r, err);
	if (rc || (rc = fsnap_manifest_names(&r, &names, &cnt, err)))
		return rc;
	ferry_snapshot_info *v = calloc(cnt + 1, sizeof *v);
	if (!v) {
		ferry_strv_free(names);
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	}
	for (size_t i = 0; i < cnt; i++) {
		fsnap_manifest *m;
		ferry_err e = {0, ""};
		int lrc = fsnap_manifest_load(&r, names[i], &m, &e);
		if (lrc) {
			snprintf(v[i].name, sizeof v[i].name, "%s", names[i]);
			snprintf(v[i].state, sizeof v[i].state, "%s",
				 lrc == FERRY_EVERSION ? "newer" : "damaged");
			continue;
		}
		fsnap_manifest_info(m, &v[i]);
		fsnap_manifest_free(m);
	}
	ferry_strv_free(names);
	qsort(v, cnt, sizeof *v, cmp_info);
	*out = v;
	*n = cnt;
	return 0;
}

int ferry_snapshot_show(ferry_db *db, const char *repo, const char *name,
			char **manifest_json, ferry_err *err)
{
	fsnap_repo r;
	fsnap_manifest *m;
	char path[FSNAP_PATH];
	fbuf b;
	int rc = fsnap_repo_open(db, repo, &r, err);
	if (rc || (rc = fsnap_manifest_load(&r, name, &m, err)))
		return rc;
	fsnap_manifest_free(m);
	fsnap_path_manifest(&r, name, path, sizeof path);
	fbuf_init(&b, FSNAP_MANIFEST_MAX);
	if ((rc = fsnap_read_file(path, FSNAP_MANIFEST_MAX, &b, err)))
		return rc;
	*manifest_json = fbuf_detach(&b, NULL);
	return 0;
}

/* ---- delete ---- */

static int64_t mtime_ms(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

static int referenced(fsnap_repo *r, hset *keep, int *skipped, ferry_err *err)
{
	char **names;
	size_t n;
	int rc = fsnap_manifest_names(r, &names, &n, err);
	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < n; i++) {
		fsnap_manifest *m;
		if (fsnap_manifest_load(r, names[i], &m, NULL)) {
			*skipped = 1;
			continue;
		}
		for (size_t x = 0; !rc && x < m->nix; x++)
			for (size_t p = 0; !rc && p < m->ix[x].nparts; p++)
				for (size_t k = 0; !rc && k < m->ix[x].parts[p].nchunks; k++)
					if (!hset_get(keep, m->ix[x].parts[p].chunks[k].sha, 1,
						      NULL))
						rc = ferry_err_set(err, FERRY_ENOMEM, NULL);
		fsnap_manifest_free(m);
	}
	ferry_strv_free(names);
	return rc;
}

/* One candidate chunk: into trash/, checked again, then gone (or back). */
static void sweep_one(fsnap_repo *r, const char *path, const char *hex,
		      int64_t cutoff, ferry_snapshot_gc *gc)
{
	char tpath[FSNAP_PATH];
	struct stat st;
	snprintf(tpath, sizeof tpath, "%s/trash/%s", r->path, hex);
	if (rename(path, tpath))
		return;
	if (stat(tpath, &st) == 0 && mtime_ms(&st) >= cutoff) {
		if (link(tpath, path) == 0 || errno == EEXIST)
			unlink(tpath); /* a create touched it meanwhile */
		gc->chunks_kept++;
		return;
	}
	if (unlink(tpath) == 0) {
		gc->chunks_removed++;
		gc->bytes_freed += (uint64_t)st.st_size;
	}
}

static void sweep(fsnap_repo *r, const hset *keep, int64_t cutoff,
		  ferry_snapshot_gc *gc)
{
	char dir[PATH_MAX + 16], path[FSNAP_PATH];
	unsigned char sha[32];
	struct stat st;
	for (int i = 0; i < 256; i++) {
		snprintf(dir, sizeof dir, "%s/chunks/%02x", r->path, i);
		DIR *d = opendir(dir);
		struct dirent *de;
		fsnap_lock_refresh(r);
		if (!d)
			continue;
		while ((de = readdir(d))) {
			const char *nm = de->d_name;
			if (!strcmp(nm, ".") || !strcmp(nm, ".."))
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, nm);
			if (lstat(path, &st) || !S_ISREG(st.st_mode))
				continue;
			if (!strncmp(nm, ".tmp-", 5)) { /* of a killed writer */
				if (mtime_ms(&st) < cutoff)
					unlink(path);
				continue;
			}
			if (strlen(nm) != 64 || fsnap_unhex(nm, 32, sha))
				continue;
			if (hset_get((hset *)keep, sha, 0, NULL)) {
				gc->chunks_kept++;
				continue;
			}
			if (mtime_ms(&st) >= cutoff) {
				gc->chunks_kept++; /* a running create may need it */
				continue;
			}
			sweep_one(r, path, nm, cutoff, gc);
		}
		closedir(d);
	}
	fsnap_fsync_dir(r->path);
}

/* Removes *.deleting manifests (their chunks are already accounted). */
static void drop_deleting(fsnap_repo *r)
{
	char dir[PATH_MAX + 16], path[FSNAP_PATH];
	snprintf(dir, sizeof dir, "%s/snapshots", r->path);
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n > 9 && !strcmp(de->d_name + n - 9, ".deleting")) {
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			unlink(path);
		} else if (!strncmp(de->d_name, ".tmp-", 5)) {
			struct stat st;
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			if (stat(path, &st) == 0 &&
			    fsnap_now_ms() - mtime_ms(&st) > FSNAP_LOCK_STALE_MS)
				unlink(path);
		}
	}
	closedir(d);
	fsnap_fsync_dir(dir);
}

int ferry_snapshot_delete(ferry_db *db, const char *repo, const char *name,
			  ferry_snapshot_gc *out, ferry_err *err)
{
	fsnap_repo r;
	ferry_snapshot_gc gc = {0};
	hset keep = {0};
	char path[FSNAP_PATH], gone[FSNAP_PATH + 16], dir[PATH_MAX + 16];
	struct stat st;
	int rc = fsnap_check_name(name, err);
	if (rc || (rc = fsnap_repo_open(db, repo, &r, err)))
		return rc;
	if ((rc = fsnap_lock_take(&r, "delete", name, fsnap_lock_wait_ms(), err)))
		goto out;
	fsnap_trash_recover(&r);
	fsnap_path_manifest(&r, name, path, sizeof path);
	snprintf(gone, sizeof gone, "%s.deleting", path);
	snprintf(dir, sizeof dir, "%s/snapshots", r.path);
	if (stat(path, &st) == 0) {
		if (rename(path, gone)) {
			rc = ferry_err_set(err, FERRY_EIO, "cannot remove snapshot "
				"'%s': %s", name, strerror(errno));
			goto out;
		}
		fsnap_fsync_dir(dir);
	} else if (stat(gone, &st)) {
		rc = ferry_err_set(err, FERRY_ENOTFOUND, "no snapshot '%s' in "
			"repository %s; `ferry snapshot list` shows them", name,
			r.label);
		goto out;
	}
	int64_t cutoff = fsnap_lock_started(&r), oldest;
	if ((oldest = fsnap_inprogress_oldest(&r)) < cutoff)
		cutoff = oldest;
	if ((rc = referenced(&r, &keep, &gc.gc_skipped, err)))
		goto out;
	if (!gc.gc_skipped)
		sweep(&r, &keep, cutoff, &gc);
	drop_deleting(&r);
	if (out)
		*out = gc;
out:
	free(keep.v);
	fsnap_repo_close(&r);
	return rc;
}

/* ---- verify ---- */

typedef struct vctx {
	hset chunks;
	char **users;       /* "snapshot/index" strings */
	size_t nusers, capusers;
	fbuf problems;      /* report entries */
	size_t nproblems;
	char first[512];    /* message of the first problem */
	uint64_t bytes, stored;
} vctx;

static int add_user(vctx *v, const char *snap, const char *ix, uint32_t *id)
{
	char buf[FSNAP_NAME_MAX + FERRY_NAME_MAX + 8];
	snprintf(buf, sizeof buf, "%s/%s", snap, ix);
	if (v->nusers && !strcmp(v->users[v->nusers - 1], buf)) {
		*id = (uint32_t)(v->nusers - 1);
		return 0;
	}
	if (v->nusers == v->capusers) {
		size_t cap = v->capusers ? v->capusers * 2 : 64;
		char **nv = realloc(v->users, cap * sizeof *nv);
		if (!nv)
			return FERRY_ENOMEM;
		v->users = nv;
		v->capusers = cap;
	}
	if (!(v->users[v->nusers] = strdup(buf)))
		return FERRY_ENOMEM;
	*id = (uint32_t)v->nusers++;
	return 0;
}

static int problem(vctx *v, const char *kind, const char *what,
		   const char *msg, const char *user, uint32_t others)
{
	fbuf *b = &v->problems;
	if (!v->nproblems++)
		snprintf(v->first, sizeof v->first, "%s%s%s%s", msg,
			 user ? " (used by " : "", user ? user : "",
			 !user ? "" : others ? " and others)" : ")");
	int rc = fbuf_adds(b, b->len ? ",{\"" : "{\"");
	rc = rc ? rc : fbuf_adds(b, kind);
	rc = rc ? rc : fbuf_adds(b, "\":");
	rc = rc ? rc : fbuf_add_jstr(b, what, strlen(what));
	rc = rc ? rc : fbuf_adds(b, ",\"problem\":");
	rc = rc ? rc : fbuf_add_jstr(b, msg, strlen(msg));
	if (!rc && user) {
		rc = fbuf_adds(b, ",\"used_by\":");
		rc = rc ? rc : fbuf_add_jstr(b, user, strlen(user));
		rc = rc ? rc : fbuf_addf(b, ",\"other_users\":%u", others);
	}
	return rc ? rc : fbuf_adds(b, "}");
}

/* Reads one manifest's chunk list into the set. */
static int gather(vctx *v, const fsnap_manifest *m)
{
	char hex[65], msg[256];
	int rc = 0;
	for (size_t x = 0; !rc && x < m->nix; x++) {
		uint32_t user;
		if ((rc = add_user(v, m->name, m->ix[x].name, &user)))
			return rc;
		for (size_t p = 0; !rc && p < m->ix[x].nparts; p++)
			for (size_t k = 0; !rc && k < m->ix[x].parts[p].nchunks; k++) {
				const fsnap_chunk_ref *ref = &m->ix[x].parts[p].chunks[k];
				int added;
				hent *e = hset_get(&v->chunks, ref->sha, 1, &added);
				if (!e)
					return FERRY_ENOMEM;
				if (added) {
					e->ref = *ref;
					e->user = user;
				} else if (e->ref.size != ref->size ||
					   e->ref.recs != ref->recs) {
					fsnap_hex(ref->sha, 32, hex);
					snprintf(msg, sizeof msg, "chunks/%.2s/%s is listed "
						 "with different sizes by two snapshots", hex,
						 hex);
					rc = problem(v, "chunk", msg, msg, v->users[user], 0);
				}
				e->nusers++;
			}
	}
	return rc;
}

static int check_all(vctx *v, fsnap_repo *r, ferry_snapshot_progress_fn fn,
		     void *ctx, ferry_err *err)
{
	fsnap_loader *l;
	ferry_snapshot_progress pr = {"verify", NULL, 0, 0, 0, 0};
	char hex[65], rel[80];
	int rc = fsnap_loader_new(r, &l);
	if (rc)
		return ferry_err_set(err, rc, NULL);
	for (size_t i = 0; i < v->chunks.cap; i++)
		if (v->chunks.v[i].used)
			pr.bytes_total += v->chunks.v[i].ref.size;
	for (size_t i = 0; !rc && i <= v->chunks.cap; i++) {
		int last = i == v->chunks.cap;
		while (!rc && (last ? fsnap_loader_pending(l) > 0 :
			       fsnap_loader_full(l) != 0)) {
			fsnap_load_job *j = fsnap_loader_take(l);
			hent *e = &v->chunks.v[j->tag];
			pr.bytes_done += j->ref.size;
			pr.bytes_stored += j->ref.stored;
			pr.docs_done += j->ref.recs;
			if (j->rc) {
				fsnap_hex(j->ref.sha, 32, hex);
				snprintf(rel, sizeof rel, "chunks/%.2s/%s", hex, hex);
				rc = problem(v, "chunk", rel, j->err.msg,
					     v->users[e->user], e->nusers - 1);
			}
			fsnap_load_job_free(j);
			if (!rc && fn && fn(ctx, &pr))
				rc = ferry_err_set(err, FERRY_EINVAL, "verify stopped by "
						   "the caller");
		}
		if (!rc && !last && v->chunks.v[i].used) {
			v->bytes += v->chunks.v[i].ref.size;
			v->stored += v->chunks.v[i].ref.stored;
			rc = fsnap_loader_submit(l, &v->chunks.v[i].ref, i);
		}
	}
	fsnap_loader_free(l);
	return rc;
}

int ferry_snapshot_verify(ferry_db *db, const char *repo, const char *name,
			  ferry_snapshot_progress_fn progress, void *ctx,
			  char **report_json, ferry_err *err)
{
	fsnap_repo r;
	vctx v = {0};
	char **names = NULL;
	size_t n = 0, good = 0;
	int rc = fsnap_repo_open(db, repo, &r, err);
	if (rc)
		return rc;
	fbuf_init(&v.problems, 0);
	if (name) {
		if ((rc = fsnap_check_name(name, err)))
			goto out;
		if (!(names = calloc(2, sizeof *names)) ||
		    !(names[0] = strdup(name))) {
			rc = ferry_err_set(err, FERRY_ENOMEM, NULL);
			goto out;
		}
		n = 1;
	} else if ((rc = fsnap_manifest_names(&r, &names, &n, err))) {
		goto out;
	}
	for (size_t i = 0; !rc && i < n; i++) {
		fsnap_manifest *m;
		ferry_err e = {0, ""};
		char what[FSNAP_NAME_MAX + 32];
		int lrc = fsnap_manifest_load(&r, names[i], &m, &e);
		if (lrc && name) {
			rc = lrc;
			if (err)
				*err = e;
			goto out;
		}
		if (lrc) {
			snprintf(what, sizeof what, "snapshots/%s.json", names[i]);
			rc = problem(&v, "manifest", what, e.msg, NULL, 0);
			continue;
		}
		good++;
		rc = gather(&v, m);
		fsnap_manifest_free(m);
	}
	if (rc || (rc = check_all(&v, &r, progress, ctx, err))) {
		if (rc == FERRY_ENOMEM && (!err || err->code != rc))
			ferry_err_set(err, rc, NULL);
		goto out;
	}
	if (report_json) {
		fbuf b = FBUF_INIT;
		rc = fbuf_addf(&b, "{\"snapshots\":%zu,\"chunks\":%zu,\"bytes\":%llu,"
			"\"stored\":%llu,\"ok\":%s,\"problems\":[", good, v.chunks.n,
			(unsigned long long)v.bytes, (unsigned long long)v.stored,
			v.nproblems ? "false" : "true");
		rc = rc ? rc : fbuf_add(&b, v.problems.p ? v.problems.p : "",
					v.problems.len);
		rc = rc ? rc : fbuf_adds(&b, "]}");
		if (rc) {
			fbuf_release(&b);
			ferry_err_set(err, rc, NULL);
			goto out;
		}
		*report_json = fbuf_detach(&b, NULL);
	}
	if (v.nproblems)
		rc = ferry_err_set(err, FERRY_ECORRUPT, "%s%s%zu problem%s in all; "
			"`ferry snapshot verify --json` lists them", v.first,
			v.first[0] ? "; " : "", v.nproblems,
			v.nproblems == 1 ? "" : "s");
out:
	for (size_t i = 0; i < v.nusers; i++)
		free(v.users[i]);
	free(v.users);
	free(v.chunks.v);
	fbuf_release(&v.problems);
	ferry_strv_free(names);
	fsnap_repo_close(&r);
	return rc;
}
