/*
 * db.c - opening a data directory, first-time initialisation, status,
 * and transaction helpers shared by the public API's files.
 */
#include "core/db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/catalog.h"
#include "core/err.h"
#include "core/version.h"

#define PURGE_STEP 50000

int fdb_begin(ferry_db *db, int write, fstore_txn **out, ferry_err *err)
{
	if (write && db->rdonly)
		return ferry_err_set(err, FERRY_EPERM,
				     "the data directory was opened read-only");
	return db->ops->txn_begin(db->store, write, out, err);
}

int fdb_commit(fstore_txn *t, ferry_err *err)
{
	return t->store->ops->txn_commit(t, err);
}

void fdb_abort(fstore_txn *t)
{
	if (t)
		t->store->ops->txn_abort(t);
}

static int make_dir(const char *dir, ferry_err *err)
{
	struct stat st;
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return ferry_err_set(err, FERRY_EIO, "data directory '%s' "
				"is not a directory; set FERRY_DATA to a directory",
				dir);
		return 0;
	}
	if (mkdir(dir, 0755) && errno != EEXIST)
		return ferry_err_set(err, FERRY_EIO, "cannot create data directory "
			"'%s': %s; create it or set FERRY_DATA elsewhere", dir,
			strerror(errno));
	return 0;
}

/* A data dir that exists but was never initialised (a fresh volume) is
 * FERRY_ENOTINIT, not "no such index" further down. */
static int check_init(ferry_db *db, const char *dir, ferry_err *err)
{
	fstore_txn *t;
	fcat_settings s;
	int rc = db->ops->txn_begin(db->store, 0, &t, err);
	if (rc)
		return rc;
	rc = fcat_settings_get(t, &s, NULL);
	db->ops->txn_abort(t);
	if (rc == FERRY_ENOTINIT)
		return ferry_err_set(err, rc, "'%s' holds no ferry data yet; run "
			"`ferry init --version X.Y.Z` (or set FERRY_DATA)", dir);
	return rc ? ferry_err_set(err, rc, "reading the catalog of '%s'", dir)
		  : 0;
}

int ferry_db_open(const char *dir, unsigned flags, ferry_db **out,
		  ferry_err *err)
{
	struct stat st;
	ferry_db *db;
	int rc;
	if (!dir || !*dir)
		return ferry_err_set(err, FERRY_EINVAL, "no data directory given");
	if (strlen(dir) >= PATH_MAX)
		return ferry_err_set(err, FERRY_ELIMIT, "data directory path is "
				     "too long");
	if (flags & FERRY_OPEN_CREATE) {
		if ((rc = make_dir(dir, err)))
			return rc;
	} else if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		return ferry_err_set(err, FERRY_ENOTINIT, "no data directory at "
			"'%s'; run `ferry init` or set FERRY_DATA", dir);
	} else {
		char f[PATH_MAX + 16];
		snprintf(f, sizeof f, "%s/data.mdb", dir);
		if (stat(f, &st))
			return ferry_err_set(err, FERRY_ENOTINIT, "'%s' holds no "
				"ferry data yet; run `ferry init --version X.Y.Z` (or "
				"set FERRY_DATA)", dir);
	}
	if (!(db = calloc(1, sizeof *db)))
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	if ((rc = fstore_lookup(getenv("FERRY_BACKEND"), &db->ops, err)) ||
	    (rc = db->ops->open(dir, flags, &db->store, err))) {
		free(db);
		return rc;
	}
	db->rdonly = !!(flags & FERRY_OPEN_RDONLY);
	if (!(flags & FERRY_OPEN_CREATE) && (rc = check_init(db, dir, err))) {
		ferry_db_close(db);
		return rc;
	}
	if (getrandom(&db->id_node, sizeof db->id_node, 0) !=
	    (ssize_t)sizeof db->id_node)
		db->id_node = (uint64_t)getpid() * 0x9E3779B97F4A7C15u;
	snprintf(db->dir, sizeof db->dir, "%s", dir);
	*out = db;
	return 0;
}

void ferry_db_close(ferry_db *db)
{
	if (!db)
		return;
	db->ops->close(db->store);
	free(db);
}

void ferry_free(void *p) { free(p); }

int ferry_db_sync(ferry_db *db, ferry_err *err)
{
	return db->ops->sync(db->store, err);
}

static int init_catalog(fstore_txn *t, const fversion *rel,
			unsigned data_parts, ferry_err *err)
{
	fcat_settings s = {0};
	fcat_version v = {0};
	fversion dv;
	fversion_data(rel, data_parts, &dv);
	fversion_format(rel, s.release, sizeof s.release);
	fversion_format(&dv, s.data_version, sizeof s.data_version);
	s.data_parts = data_parts;
	s.index_budget = 1000;
	s.next_ix = 1;
	s.created_ms = fcat_now_ms();
	int rc = fcat_settings_put(t, &s, err);
	if (rc)
		return rc;
	snprintf(v.data_version, sizeof v.data_version, "%s", s.data_version);
	snprintf(v.release, sizeof v.release, "%s", s.release);
	snprintf(v.state, sizeof v.state, "active");
	v.created_ms = v.activated_ms = s.created_ms;
	fbuf_init(&v.history, 0);
	char extra[128];
	snprintf(extra, sizeof extra, "\"release\":\"%s\"", s.release);
	rc = fcat_version_event(&v, "init", extra);
	rc = rc ? ferry_err_set(err, rc, NULL) : fcat_version_put(t, &v, err);
	fcat_version_release(&v);
	return rc ? rc : fcat_tenant_put(t, "default", err);
}

int ferry_db_init(ferry_db *db, const char *release, unsigned data_parts,
		  ferry_err *err)
{
	fversion rel;
	fcat_settings cur;
	fstore_txn *t;
	if (!data_parts)
		data_parts = FVERSION_DATA_PARTS_DEFAULT;
	if (data_parts < 1 || data_parts > 4)
		return ferry_err_set(err, FERRY_EINVAL, "data_parts must be 1 to "
				     "4 (got %u)", data_parts);
	int rc = fversion_parse(release, &rel, err);
	if (rc || (rc = fdb_begin(db, 1, &t, err)))
		return rc;
	if (fcat_settings_get(t, &cur, NULL) == 0) {
		fdb_abort(t);
		return ferry_err_set(err, FERRY_EEXISTS, "'%s' is already "
			"initialised (release %s, data version %s)", db->dir,
			cur.release, cur.data_version);
	}
	if ((rc = init_catalog(t, &rel, data_parts, err))) {
		fdb_abort(t);
		return rc;
	}
	return fdb_commit(t, err);
}

struct status_ctx {
	fstore_txn *t;
	ferry_status *st;
};

static int status_index(void *p, const fcat_index *ix)
{
	struct status_ctx *c = p;
	fstore_stats s;
	if (c->t->store->ops->ix_stats(c->t, ix->ix, &s) == 0) {
		c->st->docs += s.docs;
		c->st->bytes += s.bytes;
	}
	c->st->indices++;
	return 0;
}

static int count_entry(void *p, const fstore_entry *e)
{
	(void)e;
	++*(uint64_t *)p;
	return 0;
}

int ferry_db_status(ferry_db *db, ferry_status *out, ferry_err *err)
{
	fstore_txn *t;
	fcat_settings s;
	fstore_info info;
	ferry_status st = {0};
	struct status_ctx c = {0, &st};
	int rc = fdb_begin(db, 0, &t, err);
	if (rc)
		return rc;
	if ((rc = fcat_settings_get(t, &s, err)))
		goto out;
	c.t = t;
	snprintf(st.release, sizeof st.release, "%s", s.release);
	snprintf(st.data_version, sizeof st.data_version, "%s", s.data_version);
	st.data_parts = s.data_parts;
	st.index_budget = s.index_budget;
	if ((rc = fcat_index_each(t, status_index, &c)) ||
	    (rc = db->ops->kv_scan(t, "tenant/", count_entry, &st.tenants)))
		goto out;
	db->ops->info(db->store, &info);
	st.map_size = info.map_size;
	st.file_size = info.file_size;
	st.purge_pending = (uint64_t)db->ops->purge_pending(t);
	*out = st;
out:
	fdb_abort(t);
	if (rc && err && !err->msg[0])
		ferry_err_set(err, rc, NULL);
	return rc;
}

int fdb_purge(ferry_db *db, ferry_err *err)
{
	int more = 1, rc = 0;
	while (more && !rc)
		rc = db->ops->ix_purge_step(db->store, PURGE_STEP, &more, err);
	return rc;
}

/* Base64 alphabet in ASCII order, so that byte order is id order. */
static const char id_alphabet[] =
	"-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

void fdb_gen_id(ferry_db *db, char out[21])
{
	struct timespec ts;
	unsigned char raw[15];
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	uint64_t last = atomic_load(&db->id_last_us);
	while (us > last && !atomic_compare_exchange_weak(&db->id_last_us, &last,
							   us))
		;
	if (us < last)
		us = last; /* the clock stepped back: keep ids increasing */
	uint32_t n = atomic_fetch_add(&db->id_counter, 1);
	for (int i = 0; i < 7; i++) /* 56 bits of microseconds */
		raw[i] = (unsigned char)(us >> (8 * (6 - i)));
	raw[7] = (unsigned char)(n >> 16);
	raw[8] = (unsigned char)(n >> 8);
	raw[9] = (unsigned char)n;
	for (int i = 0; i < 5; i++)
		raw[10 + i] = (unsigned char)(db->id_node >> (8 * i));
	for (int i = 0; i < 5; i++) { /* 15 bytes -> 20 characters */
		uint32_t v = (uint32_t)raw[3 * i] << 16 |
			     (uint32_t)raw[3 * i + 1] << 8 | raw[3 * i + 2];
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = id_alphabet[(v >> (18 - 6 * j)) & 63];
	}
	out[20] = 0;
}
