/*
 * repo.c - snapshot repositories: registering them in the catalog
 * ("snaprepo/<name>"), resolving a name or path, config.json, the write
 * probe, and the locks that let creates run beside a delete:
 *
 *  - `lock` is the exclusive writer lock (a delete for its whole run, a
 *    create while it commits its manifest). It is made by link(2) of a
 *    complete temp file, so it is never seen half written.
 *  - locks/<host>.<pid>.<n>.json marks each running create; its start is
 *    the file's mtime, in the same clock as the chunk files' mtimes. A
 *    delete removes only chunks older than the oldest running create and
 *    than its own lock, and every chunk a create uses is touched by it.
 *  - A lock of a dead process on this host is broken at once; one of
 *    another host when it has not been refreshed for 10 minutes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/catalog.h"
#include "core/db.h"
#include "core/err.h"
#include "core/names.h"
#include "snapshot/snapshot.h"

#define KEY_MAX (16 + FERRY_PART_MAX)

static int64_t mtime_ms(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

/* ---- config.json ---- */

static int parse_config(fsnap_repo *r, const fbuf *b, ferry_err *err)
{
	json_arena *a = json_arena_new();
	json_value *root, *v;
	json_error je;
	int64_t format = 0, chunk = FSNAP_CHUNK_DEFAULT, level = FSNAP_ZSTD_DEFAULT;
	int rc = a ? json_parse(a, b->p, b->len, &root, &je) : FERRY_ENOMEM;
	if (!rc && root->type != JSON_OBJECT)
		rc = FERRY_EJSON;
	if (!rc && (!(v = json_get(root, "format", 6)) ||
		    json_number_int64(v, &format) || format < 1))
		rc = FERRY_EJSON;
	if (!rc && (v = json_get(root, "chunk_size", 10)) &&
	    (json_number_int64(v, &chunk) || chunk < FSNAP_CHUNK_LOW ||
	     chunk > FSNAP_CHUNK_HIGH))
		rc = FERRY_EJSON;
	if (!rc && (v = json_get(root, "zstd_level", 10)) &&
	    (json_number_int64(v, &level) || level < 1 || level > 19))
		rc = FERRY_EJSON;
	json_arena_free(a);
	if (rc == FERRY_ENOMEM)
		return ferry_err_set(err, rc, NULL);
	if (rc)
		return ferry_err_set(err, FERRY_ECORRUPT, "%s/config.json is "
			"damaged (not a repository config with a format number); "
			"restore it from a copy", r->path);
	if (format > FSNAP_FORMAT)
		return ferry_err_set(err, FERRY_EVERSION, "repository %s has "
			"format %lld, newer than this ferry %s reads (%d); use a "
			"newer ferry", r->label, (long long)format,
			FERRY_VERSION_STRING, FSNAP_FORMAT);
	r->format = (unsigned)format;
	r->chunk_size = (size_t)chunk;
	r->zstd_level = (int)level;
	return 0;
}

static int read_config(fsnap_repo *r, ferry_err *err)
{
	char p[FSNAP_PATH];
	fbuf b;
	fbuf_init(&b, FSNAP_CONFIG_MAX);
	snprintf(p, sizeof p, "%s/config.json", r->path);
	int rc = fsnap_read_file(p, FSNAP_CONFIG_MAX, &b, err);
	if (rc == FERRY_ENOTFOUND)
		ferry_err_set(err, rc, "%s is not a snapshot repository (no "
			"config.json in '%s'); register a directory with `ferry "
			"snapshot repo add NAME PATH`", r->label, r->path);
	if (!rc)
		rc = parse_config(r, &b, err);
	fbuf_release(&b);
	return rc;
}

/* Creates the directories of a repository (those that are missing). */
static int layout(const char *root, ferry_err *err)
{
	static const char *const sub[] = {"snapshots", "chunks", "locks",
					  "trash"};
	char p[FSNAP_PATH];
	int e = 0;
	for (size_t i = 0; !e && i < sizeof sub / sizeof *sub; i++) {
		snprintf(p, sizeof p, "%s/%s", root, sub[i]);
		e = fsnap_mkdir(p);
	}
	for (int i = 0; !e && i < 256; i++) {
		snprintf(p, sizeof p, "%s/chunks/%02x", root, i);
		e = fsnap_mkdir(p);
	}
	if (!e) {
		snprintf(p, sizeof p, "%s/chunks", root);
		e = fsnap_fsync_dir(p);
	}
	if (!e)
		e = fsnap_fsync_dir(root);
	if (e)
		return ferry_err_set(err, e == EACCES || e == EROFS || e == EPERM ?
			FERRY_EPERM : FERRY_EIO, "cannot lay out the repository in "
			"'%s': %s", root, strerror(e));
	return 0;
}

/* Creates, fsyncs and removes a probe file: can we write there? */
static int probe(const char *dir, ferry_err *err)
{
	char p[FSNAP_PATH];
	snprintf(p, sizeof p, "%s/.ferry-probe-%ld", dir, (long)getpid());
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), e = 0;
	if (fd < 0) {
		e = errno;
	} else {
		if (write(fd, "ferry\n", 6) != 6 || fsync(fd))
			e = errno ? errno : EIO;
		close(fd);
		if (unlink(p) && !e)
			e = errno;
	}
	if (!e)
		e = fsnap_fsync_dir(dir);
	if (e)
		return ferry_err_set(err, e == ENOSPC ? FERRY_EFULL : FERRY_EPERM,
			"cannot write in repository path '%s': %s; make it writable "
			"for this user, or pick another path", dir, strerror(e));
	return 0;
}

/* ---- the catalog records ---- */

static int repo_record(fstore_txn *t, const char *name, char *path,
		       size_t n, int64_t *created)
{
	char key[KEY_MAX];
	const char *v;
	size_t vl;
	json_error je;
	json_value *root, *x;
	snprintf(key, sizeof key, FSNAP_KEY_REPO "%s", name);
	int rc = t->store->ops->kv_get(t, key, &v, &vl);
	if (rc)
		return rc;
	json_arena *a = json_arena_new();
	if (!a)
		return FERRY_ENOMEM;
	rc = json_parse(a, v, vl, &root, &je) ? FERRY_ECORRUPT : 0;
	if (!rc && (!(x = json_get(root, "path", 4)) || x->type != JSON_STRING ||
		    x->u.str.len >= n))
		rc = FERRY_ECORRUPT;
	if (!rc) {
		memcpy(path, x->u.str.s, x->u.str.len + 1);
		int64_t c = 0;
		if (created && (x = json_get(root, "created_ms", 10)) &&
		    !json_number_int64(x, &c))
			*created = c;
	}
	json_arena_free(a);
	return rc;
}

int fsnap_repo_open(ferry_db *db, const char *repo, fsnap_repo *out,
		    ferry_err *err)
{
	struct stat st;
	int rc;
	memset(out, 0, sizeof *out);
	if (!repo || !*repo)
		return ferry_err_set(err, FERRY_EINVAL, "no repository given");
	if (strchr(repo, '/')) {
		if (strlen(repo) >= PATH_MAX - 128)
			return ferry_err_set(err, FERRY_ELIMIT, "repository path is "
					     "too long");
		snprintf(out->label, sizeof out->label, "'%s'", repo);
		if (!realpath(repo, out->path))
			return ferry_err_set(err, errno == ENOENT ? FERRY_ENOTFOUND :
				FERRY_EIO, "repository path '%s' is not reachable: %s",
				repo, strerror(errno));
	} else {
		fstore_txn *t;
		if (!db)
			return ferry_err_set(err, FERRY_EINVAL, "no data directory to "
				"look up repository '%s' in; give the repository's path "
				"instead (e.g. ./%s)", repo, repo);
		if (fname_check_part(repo, "repository", NULL))
			return ferry_err_set(err, FERRY_ENAME, "'%s' is neither a "
				"repository name nor a path (a path contains '/')",
				repo);
		if ((rc = fdb_begin(db, 0, &t, err)))
			return rc;
		rc = repo_record(t, repo, out->path, sizeof out->path - 128, NULL);
		fdb_abort(t);
		if (rc == FERRY_ENOTFOUND)
			return ferry_err_set(err, rc, "no snapshot repository '%s'; "
				"`ferry snapshot repo list` shows them, `ferry snapshot "
				"repo add %s PATH` registers one", repo, repo);
		if (rc)
			return ferry_err_set(err, rc, "reading repository '%s' from the "
					     "catalog: %s", repo, ferry_strerror(rc));
		snprintf(out->label, sizeof out->label, "'%s' (%s)", repo,
			 out->path);
		if (stat(out->path, &st) || !S_ISDIR(st.st_mode))
			return ferry_err_set(err, FERRY_ENOTFOUND, "repository %s is "
				"not reachable: %s; mount it, or register its new place "
				"with `ferry snapshot repo remove` and `add`", out->label,
				errno ? strerror(errno) : "not a directory");
	}
	return read_config(out, err);
}

void fsnap_repo_close(fsnap_repo *r)
{
	fsnap_inprogress_drop(r);
	fsnap_lock_drop(r);
}

void fsnap_path_chunkdir(const fsnap_repo *r, const unsigned char sha[32],
			 char *out, size_t n)
{
	snprintf(out, n, "%s/chunks/%02x", r->path, sha[0]);
}

void fsnap_path_chunk(const fsnap_repo *r, const unsigned char sha[32],
		      char *out, size_t n)
{
	char hex[65];
	fsnap_hex(sha, 32, hex);
	snprintf(out, n, "%s/chunks/%.2s/%s", r->path, hex, hex);
}

void fsnap_path_manifest(const fsnap_repo *r, const char *name, char *out,
			 size_t n)
{
	snprintf(out, n, "%s/snapshots/%s.json", r->path, name);
}

/* ---- the public repository API ---- */

int ferry_snaprepo_add(ferry_db *db, const char *name, const char *path,
		       size_t chunk_size, ferry_err *err)
{
	fsnap_repo r;
	struct stat st;
	fstore_txn *t;
	fcat_settings s;
	char key[KEY_MAX], cfg[FSNAP_PATH], old[PATH_MAX];
	int rc = fname_check_part(name, "repository", err);
	if (rc)
		return rc;
	if (!path || !*path)
		return ferry_err_set(err, FERRY_EINVAL, "no repository path given");
	if (chunk_size && (chunk_size < FSNAP_CHUNK_LOW ||
			   chunk_size > FSNAP_CHUNK_HIGH))
		return ferry_err_set(err, FERRY_EINVAL, "chunk size must be %u KiB "
			"to %u MiB", FSNAP_CHUNK_LOW >> 10, FSNAP_CHUNK_HIGH >> 20);
	if ((rc = fdb_begin(db, 0, &t, err)))
		return rc;
	if (!(rc = fcat_settings_get(t, &s, err)) &&
	    repo_record(t, name, old, sizeof old, NULL) != FERRY_ENOTFOUND)
		rc = ferry_err_set(err, FERRY_EEXISTS, "repository '%s' already "
			"exists (%s); remove it first with `ferry snapshot repo "
			"remove %s`", name, old, name);
	fdb_abort(t);
	if (rc)
		return rc;
	memset(&r, 0, sizeof r);
	snprintf(r.label, sizeof r.label, "'%s'", path);
	if (stat(path, &st))
		return ferry_err_set(err, errno == ENOENT ? FERRY_ENOTFOUND :
			FERRY_EIO, "repository path '%s' %s; create it first (mkdir "
			"-p '%s') or pick another", path, errno == ENOENT ?
			"does not exist" : strerror(errno), path);
	if (!S_ISDIR(st.st_mode))
		return ferry_err_set(err, FERRY_EINVAL, "repository path '%s' is "
				     "not a directory", path);
	if (strlen(path) >= PATH_MAX - 128 || !realpath(path, r.path) ||
	    strlen(r.path) >= sizeof((ferry_snaprepo_info *)0)->path)
		return ferry_err_set(err, FERRY_ELIMIT, "repository path '%s' is "
				     "too long", path);
	if ((rc = probe(r.path, err)))
		return rc;
	snprintf(cfg, sizeof cfg, "%s/config.json", r.path);
	if (stat(cfg, &st) == 0) {
		if ((rc = read_config(&r, err)) || (rc = layout(r.path, err)))
			return rc;
	} else {
		char body[256];
		snprintf(body, sizeof body, "{\"format\":%d,\"chunk_size\":%zu,"
			 "\"zstd_level\":%d,\"created_ms\":%lld}\n", FSNAP_FORMAT,
			 chunk_size ? chunk_size : FSNAP_CHUNK_DEFAULT,
			 FSNAP_ZSTD_DEFAULT, (long long)fsnap_now_ms());
		if ((rc = layout(r.path, err)) ||
		    (rc = fsnap_write_atomic(r.path, "config.json", body,
					     strlen(body), FSNAP_W_NOREPLACE,
					     err)))
			return rc;
	}
	fbuf b = FBUF_INIT;
	rc = fbuf_adds(&b, "{\"path\":");
	rc = rc ? rc : fbuf_add_jstr(&b, r.path, strlen(r.path));
	rc = rc ? rc : fbuf_addf(&b, ",\"created_ms\":%lld}",
				 (long long)fsnap_now_ms());
	if (rc) {
		fbuf_release(&b);
		return ferry_err_set(err, rc, NULL);
	}
	snprintf(key, sizeof key, FSNAP_KEY_REPO "%s", name);
	if (!(rc = fdb_begin(db, 1, &t, err))) {
		if (repo_record(t, name, old, sizeof old, NULL) != FERRY_ENOTFOUND)
			rc = ferry_err_set(err, FERRY_EEXISTS, "repository '%s' "
					   "already exists", name);
		else
			rc = t->store->ops->kv_put(t, key, b.p, b.len, err);
		rc = rc ? (fdb_abort(t), rc) : fdb_commit(t, err);
	}
	fbuf_release(&b);
	return rc;
}

struct list_ctx {
	ferry_snaprepo_info *v;
	size_t n, cap;
	fstore_txn *t;
};

static int list_visit(void *p, const fstore_entry *e)
{
	struct list_ctx *c = p;
	size_t pre = strlen(FSNAP_KEY_REPO), kl = e->idlen - pre;
	if (kl > FERRY_PART_MAX)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		ferry_snaprepo_info *nv = realloc(c->v, cap * sizeof *nv);
		if (!nv)
			return FERRY_ENOMEM;
		c->v = nv;
		c->cap = cap;
	}
	ferry_snaprepo_info *o = &c->v[c->n];
	memset(o, 0, sizeof *o);
	memcpy(o->name, e->id + pre, kl);
	if (repo_record(c->t, o->name, o->path, sizeof o->path, &o->created_ms))
		snprintf(o->path, sizeof o->path, "?");
	c->n++;
	return 0;
}

int ferry_snaprepo_list(ferry_db *db, ferry_snaprepo_info **out, size_t *n,
			ferry_err *err)
{
	fstore_txn *t;
	fcat_settings s;
	struct list_ctx c = {0};
	int rc = fdb_begin(db, 0, &t, err);
	if (rc)
		return rc;
	c.t = t;
	if (!(rc = fcat_settings_get(t, &s, err)) &&
	    (rc = t->store->ops->kv_scan(t, FSNAP_KEY_REPO, list_visit, &c)))
		ferry_err_set(err, rc, "listing repositories: %s",
			      ferry_strerror(rc));
	fdb_abort(t);
	if (rc) {
		free(c.v);
		return rc;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}

int ferry_snaprepo_remove(ferry_db *db, const char *name, ferry_err *err)
{
	fstore_txn *t;
	char key[KEY_MAX], path[PATH_MAX];
	int rc = fname_check_part(name, "repository", err);
	if (rc || (rc = fdb_begin(db, 1, &t, err)))
		return rc;
	snprintf(key, sizeof key, FSNAP_KEY_REPO "%s", name);
	rc = repo_record(t, name, path, sizeof path, NULL);
	if (rc == FERRY_ENOTFOUND) {
		fdb_abort(t);
		return ferry_err_set(err, rc, "no snapshot repository '%s'; `ferry "
				     "snapshot repo list` shows them", name);
	}
	if (rc && rc != FERRY_ECORRUPT) {
		fdb_abort(t);
		return ferry_err_set(err, rc, "reading repository '%s': %s", name,
				     ferry_strerror(rc));
	}
	if ((rc = t->store->ops->kv_del(t, key))) {
		fdb_abort(t);
		return ferry_err_set(err, rc, "removing repository '%s': %s", name,
				     ferry_strerror(rc));
	}
	return fdb_commit(t, err);
}

/* ---- locks ---- */

typedef struct holder {
	char op[32], snapshot[FSNAP_NAME_MAX + 1], host[128];
	long pid;
	int64_t started_ms, mtime_ms;
} holder;

static void read_holder(const char *path, holder *h)
{
	fbuf b;
	struct stat st;
	json_error je;
	json_value *root, *x;
	memset(h, 0, sizeof *h);
	if (stat(path, &st) == 0)
		h->mtime_ms = mtime_ms(&st);
	fbuf_init(&b, 4096);
	json_arena *a = json_arena_new();
	if (a && fsnap_read_file(path, 4096, &b, NULL) == 0 &&
	    json_parse(a, b.p, b.len, &root, &je) == 0 &&
	    root->type == JSON_OBJECT) {
		static const struct { const char *k; size_t off, n; } s[] = {
			{"op", offsetof(holder, op), sizeof h->op},
			{"snapshot", offsetof(holder, snapshot), sizeof h->snapshot},
			{"host", offsetof(holder, host), sizeof h->host},
		};
		for (size_t i = 0; i < sizeof s / sizeof *s; i++)
			if ((x = json_get(root, s[i].k, strlen(s[i].k))) &&
			    x->type == JSON_STRING)
				snprintf((char *)h + s[i].off, s[i].n, "%s", x->u.str.s);
		int64_t v;
		if ((x = json_get(root, "pid", 3)) && !json_number_int64(x, &v))
			h->pid = (long)v;
		if ((x = json_get(root, "started_ms", 10)) &&
		    !json_number_int64(x, &v))
			h->started_ms = v;
	}
	json_arena_free(a);
	fbuf_release(&b);
}

/* A lock whose owner cannot be alive any more. */
static int holder_stale(const holder *h)
{
	char host[128];
	fsnap_host(host);
	if (!strcmp(host, h->host) && h->pid > 0)
		return kill((pid_t)h->pid, 0) != 0 && errno == ESRCH;
	/* another host (or unreadable): only silence tells */
	return h->mtime_ms && fsnap_now_ms() - h->mtime_ms > FSNAP_LOCK_STALE_MS;
}

static int lock_json(fbuf *b, const char *op, const char *snapshot,
		     int64_t started)
{
	char host[128];
	fsnap_host(host);
	int rc = fbuf_adds(b, "{\"op\":");
	rc = rc ? rc : fbuf_add_jstr(b, op, strlen(op));
	rc = rc ? rc : fbuf_adds(b, ",\"snapshot\":");
	rc = rc ? rc : fbuf_add_jstr(b, snapshot ? snapshot : "",
				     snapshot ? strlen(snapshot) : 0);
	rc = rc ? rc : fbuf_adds(b, ",\"host\":");
	rc = rc ? rc : fbuf_add_jstr(b, host, strlen(host));
	return rc ? rc : fbuf_addf(b, ",\"pid\":%ld,\"started_ms\":%lld}\n",
				   (long)getpid(), (long long)started);
}

/* Writes a complete temp file and returns its path and mtime. */
static int lock_tmp(const char *dir, const char *op, const char *snapshot,
		    char *tmp, size_t n, int64_t *started, ferry_err *err)
{
	static _Atomic unsigned counter;
	struct stat st;
	fbuf b = FBUF_INIT;
	char host[128];
	fsnap_host(host);
	snprintf(tmp, n, "%s/.tmp-lock-%s-%ld-%u", dir, host, (long)getpid(),
		 atomic_fetch_add(&counter, 1));
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), e = 0;
	if (fd < 0 || fstat(fd, &st)) {
		e = errno;
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return ferry_err_set(err, e == EACCES || e == EROFS ? FERRY_EPERM :
			FERRY_EIO, "cannot create a lock file in '%s': %s", dir,
			strerror(e));
	}
	*started = mtime_ms(&st);
	if (lock_json(&b, op, snapshot, *started))
		e = ENOMEM;
	else if (write(fd, b.p, b.len) != (ssize_t)b.len || fsync(fd))
		e = errno ? errno : EIO;
	close(fd);
	fbuf_release(&b);
	if (e) {
		unlink(tmp);
		return ferry_err_set(err, FERRY_EIO, "cannot write a lock file in "
				     "'%s': %s", dir, strerror(e));
	}
	return 0;
}

static void describe(const holder *h, char *out, size_t n)
{
	time_t s = (time_t)((h->started_ms ? h->started_ms : h->mtime_ms) / 1000);
	struct tm tm;
	char when[32] = "?";
	if (gmtime_r(&s, &tm))
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
	snprintf(out, n, "%s%s%s%s by pid %ld on %s since %s",
		 h->op[0] ? h->op : "unknown", h->snapshot[0] ? " of '" : "",
		 h->snapshot, h->snapshot[0] ? "'" : "", h->pid,
		 h->host[0] ? h->host : "?", when);
}

int fsnap_lock_wait_ms(void)
{
	const char *v = getenv("FERRY_SNAPSHOT_LOCK_WAIT");
	char *end;
	long s = v && *v ? strtol(v, &end, 10) : 60;
	if (v && *v && (*end || s < 0 || s > 86400))
		s = 60;
	return (int)s * 1000;
}

int fsnap_lock_take(fsnap_repo *r, const char *op, const char *snapshot,
		    int wait_ms, ferry_err *err)
{
	char tmp[FSNAP_PATH], lock[FSNAP_PATH];
	int64_t started, deadline = fsnap_now_ms() + wait_ms;
	int rc = lock_tmp(r->path, op, snapshot, tmp, sizeof tmp, &started, err);
	if (rc)
		return rc;
	snprintf(lock, sizeof lock, "%s/lock", r->path);
	for (;;) {
		if (link(tmp, lock) == 0) {
			struct stat st;
			unlink(tmp);
			fsnap_fsync_dir(r->path);
			r->locked = 1;
			r->lock_refreshed_ms = started;
			if (stat(lock, &st) == 0)
				r->lock_refreshed_ms = mtime_ms(&st);
			return 0;
		}
		if (errno != EEXIST) {
			int e = errno;
			unlink(tmp);
			return ferry_err_set(err, FERRY_EIO, "cannot take the lock of "
				"repository %s: %s", r->label, strerror(e));
		}
		holder h;
		read_holder(lock, &h);
		if (holder_stale(&h)) {
			holder again;
			read_holder(lock, &again);
			if (!memcmp(&h, &again, sizeof h))
				unlink(lock); /* a dead writer's lock */
			continue;
		}
		if (fsnap_now_ms() >= deadline) {
			char who[512];
			unlink(tmp);
			describe(&h, who, sizeof who);
			return ferry_err_set(err, FERRY_EBUSY, "repository %s is "
				"locked: %s; wait for it to finish (or, if that process "
				"is gone, remove %s/lock)", r->label, who, r->path);
		}
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

int64_t fsnap_lock_started(const fsnap_repo *r)
{
	char lock[FSNAP_PATH];
	struct stat st;
	snprintf(lock, sizeof lock, "%s/lock", r->path);
	return stat(lock, &st) == 0 ? mtime_ms(&st) : fsnap_now_ms();
}

void fsnap_lock_drop(fsnap_repo *r)
{
	char lock[FSNAP_PATH];
	if (!r->locked)
		return;
	snprintf(lock, sizeof lock, "%s/lock", r->path);
	unlink(lock);
	fsnap_fsync_dir(r->path);
	r->locked = 0;
}

void fsnap_lock_refresh(fsnap_repo *r)
{
	int64_t now = fsnap_now_ms();
	char lock[FSNAP_PATH];
	if (now - r->lock_refreshed_ms < FSNAP_LOCK_REFRESH_MS)
		return;
	r->lock_refreshed_ms = now;
	if (r->locked) {
		snprintf(lock, sizeof lock, "%s/lock", r->path);
		utimensat(AT_FDCWD, lock, NULL, 0);
	}
	if (r->create_lock[0])
		utimensat(AT_FDCWD, r->create_lock, NULL, 0);
}

int fsnap_inprogress_add(fsnap_repo *r, const char *snapshot, ferry_err *err)
{
	static _Atomic unsigned counter;
	char dir[PATH_MAX + 8], tmp[FSNAP_PATH], host[128];
	int64_t started;
	snprintf(dir, sizeof dir, "%s/locks", r->path);
	int rc = lock_tmp(dir, "create", snapshot, tmp, sizeof tmp, &started,
			  err);
	if (rc)
		return rc;
	fsnap_host(host);
	for (char *p = host; *p; p++)
		if (*p == '/' || *p == '.')
			*p = '_';
	snprintf(r->create_lock, sizeof r->create_lock, "%s/%s.%ld.%u.json", dir,
		 host, (long)getpid(), atomic_fetch_add(&counter, 1));
	if (rename(tmp, r->create_lock)) {
		int e = errno;
		unlink(tmp);
		r->create_lock[0] = 0;
		return ferry_err_set(err, FERRY_EIO, "cannot register in '%s': %s",
				     dir, strerror(e));
	}
	fsnap_fsync_dir(dir);
	r->create_started_ms = started;
	r->lock_refreshed_ms = started;
	return 0;
}

void fsnap_inprogress_drop(fsnap_repo *r)
{
	if (!r->create_lock[0])
		return;
	unlink(r->create_lock);
	r->create_lock[0] = 0;
}

/* 1 for a lock temp file (lock_tmp's ".tmp-lock-<host>-<pid>-<n>") of
 * a process of this host that died before renaming or linking it; those
 * of other hosts are left alone. */
static int tmp_of_dead(const char *name)
{
	char host[128];
	const char *p, *q, *e = name + strlen(name);
	size_t hl;
	if (strncmp(name, ".tmp-lock-", 10))
		return 0;
	name += 10;
	fsnap_host(host);
	hl = strlen(host);
	if ((size_t)(e - name) <= hl || strncmp(name, host, hl) || name[hl] != '-')
		return 0;
	p = name + hl + 1; /* then exactly <pid>-<n>: another host may be
			      called "<host>-2" */
	if (!(q = strchr(p, '-')) || q == p || q + 1 == e ||
	    strspn(p, "0123456789") != (size_t)(q - p) ||
	    strspn(q + 1, "0123456789") != (size_t)(e - q - 1))
		return 0;
	long pid = strtol(p, NULL, 10);
	return pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

int64_t fsnap_inprogress_oldest(fsnap_repo *r)
{
	char dir[PATH_MAX + 8], p[FSNAP_PATH];
	int64_t oldest = INT64_MAX;
	snprintf(dir, sizeof dir, "%s/locks", r->path);
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return oldest;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (tmp_of_dead(de->d_name)) {
			snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
			unlink(p);
			continue;
		}
		if (de->d_name[0] == '.' || n < 6 ||
		    strcmp(de->d_name + n - 5, ".json"))
			continue;
		holder h;
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		read_holder(p, &h);
		if (holder_stale(&h)) {
			unlink(p);
			continue;
		}
		int64_t s = h.started_ms ? h.started_ms : h.mtime_ms;
		if (s < oldest)
			oldest = s;
	}
	closedir(d);
	return oldest;
}

void fsnap_trash_recover(fsnap_repo *r)
{
	char dir[PATH_MAX + 8], from[FSNAP_PATH], to[FSNAP_PATH];
	unsigned char sha[32];
	snprintf(dir, sizeof dir, "%s/trash", r->path);
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
		snprintf(from, sizeof from, "%s/%s", dir, de->d_name);
		if (strlen(de->d_name) != 64 || fsnap_unhex(de->d_name, 32, sha)) {
			if (de->d_name[0] != '.')
				unlink(from);
			continue;
		}
		fsnap_path_chunk(r, sha, to, sizeof to);
		if (link(from, to) == 0 || errno == EEXIST)
			unlink(from);
	}
	closedir(d);
}
