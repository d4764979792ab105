/*
 * lmdb_env.c - the LMDB backend's environment, transactions, catalog
 * records and per-index counters, and its ops table.
 *
 * One environment per data directory, opened with MDB_NOTLS so that the
 * server's worker threads can each hold read transactions. Several
 * processes may open the same directory: LMDB's lock file serialises
 * writers and its reader table lets readers run alongside.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "core/err.h"
#include "store/lmdb/lmdb_int.h"

#define FLMDB_MAP_DEFAULT (UINT64_C(256) << 30) /* 256 GiB of address space */

int64_t flmdb_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int flmdb_error(int rc, ferry_err *err, const char *what)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_MAP_FULL:
		return ferry_err_set(err, FERRY_EFULL,
			"%s: the data file reached its map size; set FERRY_MAP_SIZE "
			"(bytes) higher and retry", what);
	case ENOSPC:
		return ferry_err_set(err, FERRY_EFULL,
			"%s: no space left on the device holding FERRY_DATA; free "
			"space and retry (nothing was written)", what);
	case MDB_READERS_FULL:
		return ferry_err_set(err, FERRY_EBUSY,
			"%s: too many concurrent readers", what);
	case MDB_CORRUPTED: case MDB_PAGE_NOTFOUND: case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		return ferry_err_set(err, FERRY_ECORRUPT, "%s: %s", what,
				     mdb_strerror(rc));
	case ENOMEM:
		return ferry_err_set(err, FERRY_ENOMEM, "%s: out of memory", what);
	default:
		return ferry_err_set(err, FERRY_EIO, "%s: %s", what,
				     mdb_strerror(rc));
	}
}

static uint64_t map_size_from_env(void)
{
	const char *s = getenv("FERRY_MAP_SIZE");
	if (!s || !*s)
		return FLMDB_MAP_DEFAULT;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end == 'G' || *end == 'g')
		v <<= 30;
	else if (*end == 'M' || *end == 'm')
		v <<= 20;
	return v >= (1u << 20) ? v : FLMDB_MAP_DEFAULT;
}

static int open_dbs(flmdb *s, ferry_err *err)
{
	MDB_txn *txn;
	unsigned fl = s->rdonly ? 0 : MDB_CREATE;
	int rc = mdb_txn_begin(s->env, NULL, s->rdonly ? MDB_RDONLY : 0, &txn);
	if (rc)
		return flmdb_error(rc, err, "opening the data file");
	struct { const char *name; MDB_dbi *dbi; } t[] = {
		{"catalog", &s->catalog}, {"meta", &s->meta},
		{"purge", &s->purge},     {"ids", &s->ids},
		{"docs", &s->docs},       {"tombs", &s->tombs},
		{"runs", &s->runs},       {"idrun", &s->idrun},
	};
	s->has_runs = 1;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		rc = mdb_dbi_open(txn, t[i].name, fl, t[i].dbi);
		if (rc == MDB_NOTFOUND && i >= 6) {
			s->has_runs = 0; /* read-only, written by ferry < 0.2 */
			continue;
		}
		if (rc == MDB_NOTFOUND) {
			mdb_txn_abort(txn);
			return ferry_err_set(err, FERRY_ENOTINIT,
				"the data directory has no ferry tables yet; run "
				"`ferry init` first");
		}
		if (rc) {
			mdb_txn_abort(txn);
			return flmdb_error(rc, err, "opening tables");
		}
	}
	rc = mdb_txn_commit(txn);
	return rc ? flmdb_error(rc, err, "opening tables") : 0;
}

/* A positive integer from the environment, or def. */
static uint64_t tuning_from_env(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v = s && *s ? strtoull(s, &end, 10) : 0;
	return v && !*end ? v : def;
}

static int flmdb_open(const char *dir, unsigned flags, fstore **out,
		      ferry_err *err)
{
	flmdb *s = calloc(1, sizeof *s);
	if (!s)
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	s->base.ops = &fstore_lmdb_ops;
	s->rdonly = !!(flags & FERRY_OPEN_RDONLY);
	/* Tuning of lmdb_runs.c, for tests and experiments. */
	s->run_merge = tuning_from_env("FERRY_RUN_MERGE", 65536);
	s->run_max = (unsigned)tuning_from_env("FERRY_RUN_MAX", 10);
	int rc = mdb_env_create(&s->env);
	if (rc) {
		free(s);
		return flmdb_error(rc, err, "creating LMDB environment");
	}
	mdb_env_set_maxdbs(s->env, 16);
	mdb_env_set_maxreaders(s->env, 1024);
	mdb_env_set_mapsize(s->env, map_size_from_env());
	const char *sync = getenv("FERRY_SYNC");
	unsigned ef = MDB_NOTLS;
	if (s->rdonly)
		ef |= MDB_RDONLY;
	if ((flags & FERRY_OPEN_NOSYNC) || (sync && !strcmp(sync, "off")))
		ef |= MDB_NOSYNC;
	/* FERRY_WRITEMAP=on writes pages in place through the map: about a
	 * third less CPU per write, but the data file is a sparse file of the
	 * map size and a full disk kills the process with SIGBUS instead of
	 * failing the write (nothing committed is lost either way). Off by
	 * default for that reason; see docs/architecture.md. */
	const char *wm = getenv("FERRY_WRITEMAP");
	if (!s->rdonly && wm && !strcmp(wm, "on"))
		ef |= MDB_WRITEMAP;
	rc = mdb_env_open(s->env, dir, ef, 0644);
	if (rc) {
		mdb_env_close(s->env);
		free(s);
		if (rc == EACCES || rc == EROFS)
			return ferry_err_set(err, FERRY_EIO,
				"cannot open data directory '%s': %s; check its "
				"permissions or set FERRY_DATA", dir, strerror(rc));
		flmdb_error(rc, err, "opening");
		return ferry_err_set(err, err ? err->code : FERRY_EIO,
			"cannot open data directory '%s': %s", dir,
			rc > 0 && rc < 200 ? strerror(rc) : mdb_strerror(rc));
	}
	int dead = 0;
	mdb_reader_check(s->env, &dead); /* clear slots of dead processes */
	if ((rc = open_dbs(s, err)) ||
	    (flmdb_fetch_new(s->env, s->docs, &s->fetch) &&
	     (rc = ferry_err_set(err, FERRY_ENOMEM, NULL)))) {
		mdb_env_close(s->env);
		free(s);
		return rc;
	}
	*out = &s->base;
	return 0;
}

static void flmdb_close(fstore *base)
{
	flmdb *s = (flmdb *)base;
	if (!s)
		return;
	flmdb_fetch_free(s->fetch);
	mdb_env_close(s->env);
	free(s);
}

static int flmdb_info(fstore *base, fstore_info *out)
{
	flmdb *s = (flmdb *)base;
	MDB_envinfo ei;
	MDB_stat st;
	mdb_env_info(s->env, &ei);
	mdb_env_stat(s->env, &st);
	out->map_size = ei.me_mapsize;
	out->file_size = (uint64_t)(ei.me_last_pgno + 1) * st.ms_psize;
	out->readers_max = ei.me_maxreaders;
	out->readers_used = ei.me_numreaders;
	return 0;
}

static int flmdb_sync(fstore *base, ferry_err *err)
{
	flmdb *s = (flmdb *)base;
	return flmdb_error(mdb_env_sync(s->env, 1), err, "syncing the data file");
}

/*
 * Read transactions. Why a check after mdb_txn_begin(): LMDB (0.9.24,
 * mdb_txn_renew0) takes a reader's snapshot id from the lock file, then
 * copies that commit's meta page; the two meta pages alternate. A reader
 * paused between the two steps while the writer commits twice copies the
 * newer page under the older id, and if the writer is then between
 * writing its next meta page and publishing its id, the reader's next
 * transaction gets an older state than this one had (a count went from
 * 1696 back to 1695; tests/unit/test_read_order.c makes it happen).
 *
 * So a snapshot is kept only when no meta page is two or more commits
 * newer than its id once it was taken: the page it copied cannot have been
 * rewritten then. One newer is normal (a commit writing its meta page, for
 * the length of an fsync when synced, or a writer that died there) and
 * costs nothing. Left open: a reader paused for a whole commit whose copy
 * overlaps the next commit's write of that very page, before its id is
 * visible (a window of a few hundred nanoseconds after a pause).
 */
#define FLMDB_READ_TRIES 1000 /* then the snapshot is taken as it is */

static int read_is_safe(MDB_env *env, MDB_txn *txn)
{
	MDB_envinfo ei;
	atomic_thread_fence(memory_order_seq_cst); /* after the meta copy */
	if (mdb_env_info(env, &ei))
		return 1;
	return ei.me_last_txnid <= mdb_txn_id(txn) + 1;
}

/* On failure *txn is aborted and NULL. */
int flmdb_read_begin(MDB_env *env, MDB_txn **txn)
{
	for (unsigned tries = 1;; tries++) {
		int rc = *txn ? mdb_txn_renew(*txn) :
			mdb_txn_begin(env, NULL, MDB_RDONLY, txn);
		if (rc && *txn) {
			mdb_txn_abort(*txn);
			*txn = NULL;
		}
		if (rc || tries == FLMDB_READ_TRIES || read_is_safe(env, *txn))
			return rc;
		mdb_txn_reset(*txn);
		sched_yield(); /* let the writer publish its commit */
	}
}

static int flmdb_txn_begin(fstore *base, int write, fstore_txn **out,
			   ferry_err *err)
{
	flmdb *s = (flmdb *)base;
	flmdb_txn *t = calloc(1, sizeof *t);
	if (!t)
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	t->base.store = base;
	t->s = s;
	t->write = write;
	int rc = write ? mdb_txn_begin(s->env, NULL, 0, &t->txn) :
		flmdb_read_begin(s->env, &t->txn);
	if (rc == MDB_MAP_RESIZED) { /* another process grew the map */
		mdb_env_set_mapsize(s->env, 0);
		rc = write ? mdb_txn_begin(s->env, NULL, 0, &t->txn) :
			flmdb_read_begin(s->env, &t->txn);
	}
	if (rc) {
		free(t);
		return flmdb_error(rc, err, write ? "starting a write" :
				   "starting a read");
	}
	*out = &t->base;
	return 0;
}

static void txn_free(flmdb_txn *t)
{
	for (size_t i = 0; i < t->nslots; i++)
		flmdb_slot_free(&t->slots[i]);
	free(t->slots);
	free(t);
}

static void flmdb_txn_abort(fstore_txn *base)
{
	flmdb_txn *t = (flmdb_txn *)base;
	if (!t)
		return;
	mdb_txn_abort(t->txn); /* closes its cursors too */
	txn_free(t);
}

static int flmdb_txn_commit(fstore_txn *base, ferry_err *err)
{
	flmdb_txn *t = (flmdb_txn *)base;
	int rc = 0;
	if (t->write) {
		for (size_t i = 0; i < t->nslots && !rc; i++)
			if (t->slots[i].deleted_any)
				rc = flmdb_trim_tombs(t, &t->slots[i], err);
		for (size_t i = 0; i < t->nslots && !rc; i++)
			rc = flmdb_runs_flush(t, &t->slots[i], err);
		if (!rc)
			rc = flmdb_meta_flush(t, err);
	}
	if (rc) {
		flmdb_txn_abort(base);
		return rc;
	}
	int mrc = mdb_txn_commit(t->txn);
	txn_free(t);
	return mrc ? flmdb_error(mrc, err, "committing") : 0;
}

/* ---- per-index counters ---- */

/* Frees what a slot holds besides its counters: runs list, pending table. */
void flmdb_slot_free(flmdb_mslot *sl)
{
	free(sl->runs);
	free(sl->pend.e);
	free(sl->pend.tab);
	free(sl->pend.keys);
	memset(sl, 0, sizeof *sl);
}

int flmdb_meta_get(flmdb_txn *t, uint32_t ix, flmdb_mslot **out)
{
	for (size_t i = 0; i < t->nslots; i++)
		if (t->slots[i].ix == ix) {
			*out = &t->slots[i];
			return 0;
		}
	unsigned char k[4];
	flmdb_be32(k, ix);
	MDB_val key = {4, k}, val;
	int rc = mdb_get(t->txn, t->s->meta, &key, &val);
	if (rc == MDB_NOTFOUND)
		return FERRY_ENOTFOUND;
	if (rc || val.mv_size != sizeof(flmdb_meta))
		return rc ? FERRY_EIO : FERRY_ECORRUPT;
	if (t->nslots == t->capslots) {
		size_t cap = t->capslots ? t->capslots * 2 : 4;
		flmdb_mslot *ns = realloc(t->slots, cap * sizeof *ns);
		if (!ns)
			return FERRY_ENOMEM;
		t->slots = ns;
		t->capslots = cap;
	}
	flmdb_mslot *sl = &t->slots[t->nslots++];
	memset(sl, 0, sizeof *sl);
	sl->ix = ix;
	memcpy(&sl->m, val.mv_data, sizeof sl->m);
	*out = sl;
	return 0;
}

int flmdb_meta_flush(flmdb_txn *t, ferry_err *err)
{
	for (size_t i = 0; i < t->nslots; i++) {
		flmdb_mslot *sl = &t->slots[i];
		if (!sl->dirty)
			continue;
		unsigned char k[4];
		flmdb_be32(k, sl->ix);
		MDB_val key = {4, k}, val = {sizeof sl->m, &sl->m};
		int rc = mdb_put(t->txn, t->s->meta, &key, &val, 0);
		if (rc)
			return flmdb_error(rc, err, "updating index counters");
		sl->dirty = 0;
	}
	return 0;
}

/* ---- catalog records ---- */

static int flmdb_kv_get(fstore_txn *base, const char *key, const char **v,
			size_t *len)
{
	flmdb_txn *t = (flmdb_txn *)base;
	MDB_val k = {strlen(key), (void *)key}, val;
	int rc = mdb_get(t->txn, t->s->catalog, &k, &val);
	if (rc == MDB_NOTFOUND)
		return FERRY_ENOTFOUND;
	if (rc)
		return flmdb_error(rc, NULL, "reading the catalog");
	*v = val.mv_data;
	*len = val.mv_size;
	return 0;
}

static int flmdb_kv_put(fstore_txn *base, const char *key, const void *v,
			size_t len, ferry_err *err)
{
	flmdb_txn *t = (flmdb_txn *)base;
	MDB_val k = {strlen(key), (void *)key}, val = {len, (void *)v};
	int rc = mdb_put(t->txn, t->s->catalog, &k, &val, 0);
	return rc ? flmdb_error(rc, err, "writing the catalog") : 0;
}

static int flmdb_kv_del(fstore_txn *base, const char *key)
{
	flmdb_txn *t = (flmdb_txn *)base;
	MDB_val k = {strlen(key), (void *)key};
	int rc = mdb_del(t->txn, t->s->catalog, &k, NULL);
	if (rc == MDB_NOTFOUND)
		return FERRY_ENOTFOUND;
	return rc ? flmdb_error(rc, NULL, "writing the catalog") : 0;
}

static int flmdb_kv_scan(fstore_txn *base, const char *prefix,
			 fstore_visit fn, void *ctx)
{
	flmdb_txn *t = (flmdb_txn *)base;
	MDB_cursor *c;
	size_t plen = strlen(prefix);
	int rc = mdb_cursor_open(t->txn, t->s->catalog, &c);
	if (rc)
		return flmdb_error(rc, NULL, "reading the catalog");
	MDB_val k = {plen, (void *)prefix}, v;
	int op = plen ? MDB_SET_RANGE : MDB_FIRST;
	while ((rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen))
			break;
		fstore_entry e = {k.mv_data, k.mv_size, v.mv_data, v.mv_size,
				  0, 0};
		if ((rc = fn(ctx, &e)))
			break;
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND || rc == 1)
		return 0;
	return rc;
}

const fstore_ops fstore_lmdb_ops = {
	.name = "lmdb",
	.open = flmdb_open,
	.close = flmdb_close,
	.info = flmdb_info,
	.sync = flmdb_sync,
	.txn_begin = flmdb_txn_begin,
	.txn_commit = flmdb_txn_commit,
	.txn_abort = flmdb_txn_abort,
	.kv_get = flmdb_kv_get,
	.kv_put = flmdb_kv_put,
	.kv_del = flmdb_kv_del,
	.kv_scan = flmdb_kv_scan,
	.ix_create = flmdb_ix_create,
	.ix_drop = flmdb_ix_drop,
	.ix_purge_step = flmdb_ix_purge_step,
	.ix_stats = flmdb_ix_stats,
	.purge_pending = flmdb_purge_pending,
	.doc_write = flmdb_doc_write,
	.doc_get = flmdb_doc_get,
	.doc_scan = flmdb_doc_scan,
	.changes = flmdb_changes,
};
