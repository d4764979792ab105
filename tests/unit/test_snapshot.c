/*
 * test_snapshot.c - snapshots on real LMDB files and real repository
 * directories: round trips (every index's content and the whole catalog
 * equal after a restore into a fresh data dir), dedupe of small changes
 * (change-log deltas and re-imports), garbage collection, corruption and
 * truncation, newer formats, bad repository paths, name clashes, restores
 * and creates that die midway, deletes beside running creates, and the
 * chunker's insert stability.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <openssl/evp.h>

#include "core/db.h"
#include "snapshot/snapshot.h"
#include "testutil.h"

typedef struct fix {
	tdb t;
	char repo[600];  /* repository directory */
	char other[600]; /* a second data dir for restores */
} fix;

static int setup(void **state)
{
	fix *f = calloc(1, sizeof *f);
	ferry_err err = {0, ""};
	if (!f)
		return -1;
	t_setup(&f->t, "snap", "0.7.1");
	snprintf(f->repo, sizeof f->repo, "%s/repo", f->t.dir);
	snprintf(f->other, sizeof f->other, "%s/other", f->t.dir);
	mkdir(f->repo, 0755);
	T_OK(ferry_snaprepo_add(f->t.db, "backup", f->repo, 16 << 10, &err),
	     &err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fix *f = *state;
	t_teardown(&f->t);
	free(f);
	return 0;
}

/* ---- building deployments ---- */

static void body_of(char *out, size_t n, unsigned i, unsigned rev)
{
	unsigned pad = 40 + (i * 7919u) % 200;
	int k = snprintf(out, n, "{\"n\":%u,\"name\":\"user %u\",\"rev\":%u,"
			 "\"pad\":\"", i, i, rev);
	for (unsigned j = 0; j < pad && (size_t)k + 4 < n; j++)
		out[k++] = (char)('a' + (i + j) % 26);
	snprintf(out + k, n - (size_t)k, "\"}");
}

/* Puts docs [from, to) of index, every `every`-th with revision rev. */
static void put_range(ferry_db *db, const char *index, unsigned from,
		      unsigned to, unsigned every, unsigned rev)
{
	ferry_err err = {0, ""};
	ferry_bulk *b;
	char id[32], body[400];
	T_OK(ferry_bulk_new(db, &b), &err);
	for (unsigned i = from; i < to; i++) {
		snprintf(id, sizeof id, "id%07u", i * 2654435761u % 10000000u);
		body_of(body, sizeof body, i, every && i % every == 0 ? rev : 0);
		T_OK(ferry_bulk_add(b, FERRY_OP_INDEX, index, id, strlen(id), body,
				    strlen(body)), &err);
		if (ferry_bulk_count(b) == 20000) {
			T_OK(ferry_bulk_commit(b, &err), &err);
			ferry_bulk_clear(b);
		}
	}
	T_OK(ferry_bulk_commit(b, &err), &err);
	ferry_bulk_free(b);
}

static void make_deployment(ferry_db *db, unsigned n)
{
	ferry_err err = {0, ""};
	const char *body = "{\"settings\":{\"number_of_shards\":1},\"mappings\":"
			   "{\"properties\":{\"n\":{\"type\":\"integer\"}}}}";
	T_OK(ferry_tenant_add(db, "acme", &err), &err);
	T_OK(ferry_index_create(db, "profile", body, strlen(body), &err), &err);
	t_create(db, "acme.profile");
	t_create(db, "acme.event");
	t_create(db, "v0_6_0.default.old");
	put_range(db, "profile", 0, n, 0, 0);
	put_range(db, "acme.profile", 0, n / 10, 0, 0);
	t_put(db, "acme.event", "e1", "{\"type\":\"visit\",\"v\":1.50}");
	t_put(db, "acme.event", "e2", "{\"type\":\"buy\"}");
	t_del(db, "acme.event", "e1");
	T_OK(ferry_release_record(db, "0.7.1.2", &err), &err);
}

/* SHA-256 over every document of an index (ids and bodies, id order). */
static void index_hash(ferry_db *db, const char *index, char out[65])
{
	ferry_err err = {0, ""};
	ferry_scan *s;
	ferry_doc d;
	unsigned char md[32];
	unsigned int len;
	int rc;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	T_OK(ferry_scan_open(db, index, NULL, 0, &s, &err), &err);
	while ((rc = ferry_scan_next(s, &d, &err)) == 0) {
		uint32_t l[2] = {(uint32_t)d.idlen, (uint32_t)d.body_len};
		EVP_DigestUpdate(ctx, l, sizeof l);
		EVP_DigestUpdate(ctx, d.id, d.idlen);
		EVP_DigestUpdate(ctx, d.body, d.body_len);
	}
	assert_int_equal(rc, FERRY_EOF);
	ferry_scan_free(s);
	EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	fsnap_hex(md, 32, out);
}

/* Every catalog record but this module's own state, as "key\0value\0". */
static int dump_visit(void *p, const fstore_entry *e)
{
	fbuf *b = p;
	if (e->idlen >= 9 && !memcmp(e->id, "snapshot/", 9))
		return 0;
	fbuf_add(b, e->id, e->idlen);
	fbuf_addc(b, 0);
	fbuf_add(b, e->body, e->body_len);
	fbuf_addc(b, '\n');
	return 0;
}

static void catalog_dump(ferry_db *db, fbuf *out)
{
	ferry_err err = {0, ""};
	fstore_txn *t;
	fbuf_init(out, 0);
	T_OK(fdb_begin(db, 0, &t, &err), &err);
	T_OK(t->store->ops->kv_scan(t, "", dump_visit, out), &err);
	fdb_abort(t);
}

/* Fails unless both data dirs hold the same catalog and documents. */
static void assert_same_deployment(ferry_db *a, ferry_db *b)
{
	ferry_err err = {0, ""};
	ferry_index_info *va, *vb;
	size_t na, nb;
	fbuf ca, cb;
	char ha[65], hb[65];
	catalog_dump(a, &ca);
	catalog_dump(b, &cb);
	if (ca.len != cb.len || memcmp(ca.p, cb.p, ca.len)) {
		size_t i = 0;
		while (i < ca.len && i < cb.len && ca.p[i] == cb.p[i])
			i++;
		size_t from = i > 80 ? i - 80 : 0;
		fail_msg("catalogs differ at byte %zu:\n  source:   %.160s\n  "
			 "restored: %.160s", i, ca.p + from, cb.p + from);
	}
	fbuf_release(&ca);
	fbuf_release(&cb);
	T_OK(ferry_index_list(a, NULL, &va, &na, &err), &err);
	T_OK(ferry_index_list(b, NULL, &vb, &nb, &err), &err);
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++) {
		assert_string_equal(va[i].name, vb[i].name);
		assert_string_equal(va[i].alias, vb[i].alias);
		assert_int_equal(va[i].docs, vb[i].docs);
		index_hash(a, va[i].name, ha);
		index_hash(b, vb[i].name, hb);
		assert_string_equal(ha, hb);
	}
	ferry_free(va);
	ferry_free(vb);
}

static ferry_db *open_other(const fix *f)
{
	ferry_err err = {0, ""};
	ferry_db *db;
	T_OK(ferry_db_open(f->other, FERRY_OPEN_CREATE | FERRY_OPEN_NOSYNC, &db,
			   &err), &err);
	return db;
}

static uint64_t new_bytes(ferry_db *db, const char *repo, const char *name)
{
	ferry_err err = {0, ""};
	ferry_snapshot_info info;
	T_OK(ferry_snapshot_create(db, repo, name, NULL, NULL, NULL, &info, NULL,
				   &err), &err);
	return info.new_bytes;
}

/* ---- round trip ---- */

static void test_roundtrip_all(void **state)
{
	fix *f = *state;
	ferry_err err = {0, ""};
	ferry_snapshot_info info;
	char *manifest = NULL, *report = NULL;
	make_deployment(f->t.db, 3000);
	/* bodies for each record type of format 2: starting with their own
	 * id ('E'; brackets and escapes inside strings after it), an id that
	 * needs escaping ('O'), space around the object ('D') */
	static const char *const odd[][2] = {
		{"e1", "{\"id\":\"e1\"}"},
		{"e2", "{\"id\":\"e2\",\"s\":\"}]\\\"{[\",\"a\":[{\"b\":\"\\\\\"}],\"z\":{}}"},
		{"e3", "{\"id\":\"e3x\",\"n\":1}"},
		{"q\"1", "{\"id\":\"q\\\"1\",\"n\":2}"},
		{"w1", " {\"id\":\"w1\"} "},
		{"n1", "{\"n\":{\"id\":\"n1\"}}"},
	};
	for (size_t i = 0; i < sizeof odd / sizeof *odd; i++)
		t_put(f->t.db, "profile", odd[i][0], odd[i][1]);
	T_OK(ferry_snapshot_create(f->t.db, "backup", "full", NULL, NULL, NULL,
				   &info, &manifest, &err), &err);
	assert_int_equal(info.indices, 4);
	assert_int_equal(info.docs, 3000 + 300 + 1 + 6);
	assert_true(info.new_chunks > 10);
	T_CONTAINS(manifest, "\"checksum\":\"");
	ferry_free(manifest);

	ferry_db *db = open_other(f);
	ferry_restore_opts o = {.all = 1};
	/* a fresh data dir knows no repository names: by path */
	T_OK(ferry_snapshot_restore(db, f->repo, "full", &o, &report, &err),
	     &err);
	T_CONTAINS(report, "\"all\":true");
	ferry_free(report);
	assert_same_deployment(f->t.db, db);
	/* and it is a working deployment: writes, the alias, versions */
	t_put(db, "profile", "new", "{\"x\":1}");
	ferry_version_info *v;
	size_t nv;
	T_OK(ferry_version_list(db, &v, &nv, &err), &err);
	assert_int_equal(nv, 1);
	assert_string_equal(v[0].release, "0.7.1.2");
	T_CONTAINS(v[0].history_json, "0.7.1.2");
	ferry_version_list_free(v, nv);
	/* a second --all into it is refused */
	T_CODE(ferry_snapshot_restore(db, f->repo, "full", &o, NULL, &err),
	       FERRY_EEXISTS, &err);
	T_CONTAINS(err.msg, "uninitialised");
	ferry_db_close(db);
}

static void test_restore_rename(void **state)
{
	fix *f = *state;
	ferry_err err = {0, ""};
	ferry_index_info *v0, *v1;
	size_t n0, n1;
	char h1[65], h2[65];
	make_deployment(f->t.db, 500);
	T_CODE(ferry_snapshot_create(f->t.db, "backup", "s", "nothing*", NULL,
				     NULL, NULL, NULL, &err), FERRY_ENOTFOUND, &err);
	T_OK(ferry_snapshot_create(f->t.db, "backup", "s", "acme.*", NULL, NULL,
				   NULL, NULL, &err), &err);
	T_OK(ferry_index_list(f->t.db, NULL, &v0, &n0, &err), &err);
	/* same names: a clash, nothing written */
	ferry_restore_opts o = {0};
	T_CODE(ferry_snapshot_restore(f->t.db, "backup", "s", &o, NULL, &err),
	       FERRY_EEXISTS, &err);
	T_CONTAINS(err.msg, "v0_7_1.acme.");
	T_CONTAINS(err.msg, "--rename-pattern");
	T_OK(ferry_index_list(f->t.db, NULL, &v1, &n1, &err), &err);
	assert_int_equal(n0, n1);
	ferry_free(v1);
	/* a rename that does not give a physical name */
	o.rename_pattern = "^v0_7_1\\.";
	o.rename_replacement = "copy_";
	T_CODE(ferry_snapshot_restore(f->t.db, "backup", "s", &o, NULL, &err),
	       FERRY_ENAME, &err);
	/* ES semantics: groups in the replacement */
	o.indices = "acme.profile";
	o.rename_pattern = "^(v[^.]+)\\.acme\\.(.+)$";
	o.rename_replacement = "$1.acme.restored_$2";
	T_OK(ferry_snapshot_restore(f->t.db, "backup", "s", &o, NULL, &err),
	     &err);
	ferry_index_info info = t_info(f->t.db, "v0_7_1.acme.restored_profile");
	assert_int_equal(info.docs, 50);
	assert_string_equal(info.alias, "acme.restored_profile");
	index_hash(f->t.db, "acme.profile", h1);
	index_hash(f->t.db, "acme.restored_profile", h2);
	assert_string_equal(h1, h2);
	/* the pattern chose one index only */
	T_OK(ferry_index_list(f->t.db, NULL, &v1, &n1, &err), &err);
	assert_int_equal(n1, n0 + 1);
	ferry_free(v1);
	ferry_free(v0);
	/* a bad regex */
	o.rename_pattern = "(";
	T_CODE(ferry_snapshot_restore(f->t.db, "backup", "s", &o, NULL, &err),
	       FERRY_EINVAL, &err);
	T_CONTAINS(err.msg, "rename-pattern");
}

/* ---- dedupe ---- */

static void test_dedupe_small_changes(void **state)
{
	fix *f = *state;
	ferry_err err = {0, ""};
	char h[65], hr[65];
	make_deployment(f->t.db, 20000);
	uint64_t first = new_bytes(f->t.db, "backup", "s1");
	/* every 100th document changed through the API: a change-log delta */
	put_range(f->t.db, "profile", 0, 20000, 100, 1);
	/* (put_range rewrote all 20000: every document is in the change log,
	 * 99 % with the same content: the diff against the base stores 1 %) */
	uint64_t second = new_bytes(f->t.db, "backup", "s2");
	print_message("# full %llu bytes, after rewriting all with 1 %% "
		      "changed: %llu new bytes (%.2f %%)\n",
		      (unsigned long long)first, (unsigned long long)second,
		      100.0 * (double)second / (double)first);
	assert_true(second * 20 < first);
	/* now only the changed documents are written */
	ferry_err e2 = {0, ""};
	char body[400], id[32];
	for (unsigned i = 0; i < 20000; i += 100) {
		snprintf(id, sizeof id, "id%07u", i * 2654435761u % 10000000u);
		body_of(body, sizeof body, i, 2);
		ferry_write_result r;
		T_OK(ferry_doc_put(f->t.db, "profile", id, strlen(id), body,
				   strlen(body), FERRY_OP_INDEX, &r, &e2), &e2);
	}
	uint64_t third = new_bytes(f->t.db, "backup", "s3");
	print_message("# then 1 %% changed in place: %llu new bytes (%.2f %%)\n",
		      (unsigned long long)third,
		      100.0 * (double)third / (double)first);
	assert_true(third * 20 < first);
	/* unchanged: nothing new at all */
	assert_int_equal(new_bytes(f->t.db, "backup", "s4"), 0);
	/* the chain restores to the current content */
	ferry_restore_opts o = {"profile,default.profile", "profile$", "r3",
				0, 0, NULL, NULL};
	T_OK(ferry_snapshot_restore(f->t.db, "backup", "s3", &o, NULL, &err),
	     &err);
	index_hash(f->t.db, "profile", h);
	index_hash(f->t.db, "default.r3", hr);
	assert_string_equal(h, hr);
	char *m;
	T_OK(ferry_snapshot_show(f->t.db, "backup", "s3", &m, &err), &err);
	T_CONTAINS(m, "\"kind\":\"delta\"");
	ferry_free(m);
}

/* A repository with the default chunk size (4 MiB) cuts its bases at
 * that size, so that bases dedupe, but a delta, which is never shared,
 * at FSNAP_CHUNK_DELTA, so that its chunks compress on all cores. */
static void test_chunk_sizes(void **state)
{
	fix *f = *state;
	ferry_err err = {0, ""};
	char dir[700];
	fsnap_repo r;
	fsnap_manifest *m;
	snprintf(dir, sizeof dir, "%s/big", f->t.dir);
	mkdir(dir, 0755);
	T_OK(ferry_snaprepo_add(f->t.db, "big", dir, 0, &err), &err);
	t_create(f->t.db, "p");
	put_range(f->t.db, "p", 0, 60000, 0, 0);   /* ~12 MB */
	new_bytes(f->t.db, "big", "full");
	put_range(f->t.db, "p", 0, 15000, 1, 1);   /* ~3 MB changed */
	assert_true(new_bytes(f->t.db, "big", "incr") > 0);
	T_OK(fsnap_repo_open(NULL, dir, &r, &err), &err);
	assert_int_equal(r.chunk_size, FSNAP_CHUNK_DEFAULT);
	T_OK(fsnap_manifest_load(&r, "incr", &m, &err), &err);
	assert_int_equal(m->nix, 1);
	const fsnap_index *x = &m->ix[0];
	assert_int_equal(x->nparts, 2);
	const fsnap_part *base = &x->parts[0], *delta = &x->parts[1];
	assert_int_equal(base->kind, FSNAP_BASE);
	assert_int_equal(delta->kind, FSNAP_DELTA);
	/* every base chunk but the last is at least the minimum, avg / 2 */
	assert_true(base->nchunks >= 2);
	for (size_t k = 0; k + 1 < base->nchunks; k++)
		assert_true(base->chunks[k].size >= FSNAP_CHUNK_DEFAULT / 2);
	/* the delta's ~3 MB are cut at 1 MiB: chunks that end before the
	 * base rule's minimum (2 MiB), none over 4 x 1 MiB */
	print_message("# base %zu chunks, delta %zu chunks of %llu bytes\n",
		      base->nchunks, delta->nchunks,
		      (unsigned long long)delta->bytes);
	assert_true(delta->nchunks >= 2);
	size_t small = 0;
	for (size_t k = 0; k < delta->nchunks; k++) {
		assert_true(delta->chunks[k].size <= 4 * FSNAP_CHUNK_DELTA);
		if (k + 1 < delta->nchunks &&
		    delta->chunks[k].size < FSNAP_CHUNK_DEFAULT / 2)
			small++;
	}
	assert_true(small >= 1);
	fsnap_manifest_free(m);
	fsnap_repo_close(&r);
}

/* ---- garbage collection ---- */

static int add_chunk(void *ctx, const unsigned char sha[32]);

typedef struct nameset {
	char (*v)[65];
	size_t n, cap;
} nameset;

static int add_chunk(void *ctx, const unsigned char sha[32])
{
	nameset *s = ctx;
	char hex[65];
	fsnap_hex(sha, 32, hex);
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], hex))
			return 0;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = realloc(s->v, s->cap * sizeof *s->v);
	}
	strcpy(s->v[s->n++], hex);
	return 0;
}

static int cmp65(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Chunks the manifests of the repository at path need. */
static void needed(const char *path, nameset *s)
{
	ferry_err err = {0, ""};
	fsnap_repo r;
	char **names;
	size_t n;
	T_OK(fsnap_repo_open(NULL, path, &r, &err), &err);
	T_OK(fsnap_manifest_names(&r, &names, &n, &err), &err);
	for (size_t i = 0; i < n; i++) {
		fsnap_manifest *m;
		T_OK(fsnap_manifest_load(&r, names[i], &m, &err), &err);
		for (size_t x = 0; x < m->nix; x++)
			for (size_t p = 0; p < m->ix[x].nparts; p++)
				for (size_t k = 0; k < m->ix[x].parts[p].nchunks; k++)
					add_chunk(s, m->ix[x].parts[p].chunks[k].sha);
		fsnap_manifest_free(m);
	}
	ferry_strv_free(names);
	if (s->n)
		qsort(s->v, s->n, sizeof *s->v, cmp65);
}

/* Chunk files in the repository. */
static void present(const char *path, nameset *s)
{
	char dir[700];
	for (int i = 0; i < 256; i++) {
		snprintf(dir, sizeof dir, "%s/chunks/%02x", path, i);
		DIR *d = opendir(dir);
		struct dirent *de;
		while (d && (de = readdir(d)))
			if (strlen(de->d_name) == 64) {
				unsigned char sha[32];
				fsnap_unhex(de->d_name, 32, sha);
				add_chunk(s, sha);
			}
		if (d)
			closedir(d);
	}
	if (s->n)
		qsort(s->v, s->n, sizeof *s->v, cmp65);
}

static void assert_gc_exact(const char *repo)
{
	nameset need = {0}, have = {0};
	needed(repo, &need);
	present(repo, &have);
	assert_int_equal(need.n, have.n);
	for (size_t i = 0; i < need.n; i++)
		assert_string_equal(need.v[i], have.v[i]);
	free(need.v);
	free(have.v);
}

static void test_gc(void **state)
{
	fix *f = *state;
	ferry_err err = {0, ""};
	ferry_snapshot_gc gc;
	char h2[65], h3[65], hr[65];
	make_deployment(f->t.db, 6000);
	new_bytes(f->t.db, "backup", "s1");
	/* most documents change: s2 gets a new base */
	put_range(f->t.db, "profile", 0, 6000, 1, 7);
	new_bytes(f->t.db, "backup", "s2");
	index_hash(f->t.db, "profile", h2);
	put_range(f->t.db, "profile", 0, 6000, 50, 8);
	new_bytes(f->t.db, "backup", "s3");
	index_hash(f->t.db, "profile", h3);
	T_OK(ferry_snapshot_delete(f->t.db, "backup", "s1", &gc, &err), &err);
	print_message("# delete s1: %llu chunks removed (%llu bytes), %llu "
		      "kept\n", (unsigned long long)gc.chunks_removed,
		      (unsigned long long)gc.bytes_freed,
		      (unsigned long long)gc.chunks_kept);
	assert_true(gc.chunks_removed > 0);
	assert_int_equal(gc.gc_skipped, 0);
	assert_gc_exact(f->repo);
	T_OK(ferry_snapshot_verify(f->t.db, "backup", NULL, NULL, NULL, NULL,
				   &err), &err);
	ferry_restore_opts o = {"profile", "profile$", "p2", 0, 0, NULL, NULL};
	o.indices = "default.profile";
	T_OK(ferry_snapshot_restore(f->t.db, "backup", "s2", &o, NULL, &err),
	     &err);
	index_hash(f->t.db, "default.p2", hr);
	assert_string_equal(hr, h2);
	o.rename_replacement = "p3";
	T_OK(ferry_snapshot_restore(f->t.db, "backup", "s3", &o, NULL, &err),
	     &err);
	index_hash(f->t.db, "default.p3", hr);
	assert_string_equal(hr, h3);
	/* deleting the rest leaves no chunk; a second delete: not found */
	T_OK(ferry_snapshot_delete(f->t.db, "backup", "s2", NULL, &err), &err);
	T_OK(ferry_snapshot_delete(f->t.db, "backup", "s3", NULL, &err), &err);
	assert_gc_exact(f->repo);
	T_CODE(ferry_snapshot_delete(f->t.db, "backup", "s3", NULL, &err),
	       FERRY_ENOTFOUND, &err);
}

/* A delete never removes a chunk a running create has touched, and a
 * killed delete is finished by the next one. */
static void test_gc_beside_create(void **state)
{
	fix *f = *state;
	ferry_err err = {0, ""};
	ferry_snapshot_gc gc;
	fsnap_repo r;
	nameset s1 = {0};
	make_deployment(f->t.db, 2000);
	new_bytes(f->t.db, "backup", "s1");
	needed(f->repo, &s1);
	/* a create starts (registers) and reuses s1's chunks */
	T_OK(fsnap_repo_open(NULL, f->repo, &r, &err), &err);
	struct timespec ts = {0, 20 * 1000 * 1000};
	nanosleep(&ts, NULL);
	T_OK(fsnap_inprogress_add(&r, "s2", &err), &err);
	for (size_t i = 0; i < s1.n; i++) {
		unsigned char sha[32];
		fsnap_unhex(s1.v[i], 32, sha);
		T_OK(fsnap_chunk_touch(&r, sha), &err);
	}
	T_OK(ferry_snapshot_delete(f->t.db, "backup", "s1", &gc, &err), &err);
	assert_int_equal(gc.chunks_removed, 0);
	assert_int_equal(gc.chunks_kept, s1.n);
	/* the create ends without a manifest (it died): the next delete
	 * collects the orphans once its lock is gone */
	fsnap_repo_close(&r);
	new_bytes(f->t.db, "backup", "s3");
	/* a delete killed after renaming the manifest away */
	char from[800], to[800];
	snprintf(from, sizeof from, "%s/snapshots/s3.json", f->repo);
	snprintf(to, sizeof to, "%s/snapshots/s3.json.deleting", f->repo);
	assert_int_equal(rename(from, to), 0);
	ferry_snapshot_info *v;
	size_t n;
	T_OK(ferry_snapshot_list(f->t.db, "backup", &v, &n, &err), &err);
	assert_int_equal(n, 0);
	ferry_free(v);
	T_OK(ferry_snapshot_delete(f->t.db, "backup", "s3", &gc, &err), &err);
	assert_true(gc.chunks_removed >= s1.n / 2);
	assert_gc_exact(f->repo);
	free(s1.v);
}

/* Creates and deletes at once, from two threads: every snapshot left
 * verifies, and the last one restores to what was snapshotted. */
typedef struct racer {
	ferry_db *db;
	int rounds, done, failed;
	char msg[512];
	char hash[65];
} racer;

static void *create_loop(void *p)
{
	racer *rc = p;
	ferry_err err = {0, ""};
	char name[32];
	for (int i = 0; i < rc->rounds && !rc->failed; i++) {
		put_range(rc->db, "profile", (unsigned)i * 500,
			  (unsigned)i * 500 + 3000, 3, (unsigned)i + 1);
		snprintf(name, sizeof name, "c%02d", i);
		if (ferry_snapshot_create(rc->db, "backup", name, "*.profile", NULL,
					  NULL, NULL, NULL, &err)) {
			rc->failed = 1;
			snprintf(rc->msg, sizeof rc->msg, "%s", err.msg);
		}
		if (i == rc->rounds - 1)
			index_hash(rc->db, "profile", rc->hash);
	}
	rc->done = 1;
	return NULL;
}

static void test_create_delete_race(void **state)
{
	fix *f = *state;
	ferry_err err = {0, ""};
	pthread_t th;
	racer rc = {f->t.db, 10, 0, 0, "", ""};
	char h[65];
	make_deployment(f->t.db, 3000);
	new_bytes(f->t.db, "backup", "base");
	assert_int_equal(pthread_create(&th, NULL, create_loop, &rc), 0);
	int deletes = 0;
	while (!rc.done) {
		ferry_snapshot_info *v;
		size_t n;
		T_OK(ferry_snapshot_list(f->t.db, "backup", &v, &n, &err), &err);
		for (size_t i = 0; i + 1 < n; i++) /* all but the newest */
			if (ferry_snapshot_delete(f->t.db, "backup", v[i].name, NULL,
						  &err) == 0)
				deletes++;
		ferry_free(v);
		sched_yield();
	}
	pthread_join(th, NULL);
	if (rc.failed)
		fail_msg("create failed: %s", rc.msg);
	print_message("# %d deletes beside %d creates\n", deletes, rc.rounds);
	T_OK(ferry_snapshot_verify(f->t.db, "backup", NULL, NULL, NULL, NULL,
				   &err), &err);
	ferry_restore_opts o = {"profile", "profile$", "raced", 0, 0, NULL, NULL};
	o.indices = "default.profile";
	T_OK(ferry_snapshot_restore(f->t.db, "backup", "c09", &o, NULL, &err),
	     &err);
	index_hash(f->t.db, "default.raced", h);
	assert_string_equal(h, rc.hash);
	/* once the creates are over, a delete leaves exactly what is needed */
	T_OK(ferry_snapshot_create(f->t.db, "backup", "last", NULL, NULL, NULL,
				   NULL, NULL, &err), &err);
	T_OK(ferry_snapshot_delete(f->t.db, "backup", "last", NULL, &err), &err);
	assert_gc_exact(f->repo);
}

/* ---- damage ---- */

static void chunk_file(const fix *f, const char *snap, const char *index,
		       size_t part, size_t k, char *out, size_t n,
		       uint64_t *recs)
{
	ferry_err err = {0, ""};
	fsnap_repo r;
	fsnap_manifest *m;
	T_OK(fsnap_repo_open(NULL, f->repo, &r, &err), &err);
	T_OK(fsnap_manifest_load(&r, snap, &m, &err), &err);
	for (size_t i = 0; i < m->nix; i++)
		if (!strcmp(m->ix[i].name, index)) {
			const fsnap_chunk_ref *c = &m->ix[i].parts[part].chunks[k];
			fsnap_path_chunk(&r, c->sha, out, n);
			*recs = c->recs;
		}
	fsnap_manifest_free(m);
}

static void flip_byte(const char *path)
{
	struct stat st;
	unsigned char c;
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	off_t at = st.st_size / 2;
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x20;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	close(fd);
}

static void test_corrupt_chunk(void **state)
{
	fix *f = *state;
	ferry_err err = {0, ""};
	char path[800], *report = NULL;
	uint64_t recs = 0;
	make_deployment(f->t.db, 4000);
	new_bytes(f->t.db, "backup", "s1");
	chunk_file(f, "s1", "v0_7_1.default.profile", 0, 3, path, sizeof path,
		   &recs);
	flip_byte(path);
	const char *rel = strstr(path, "chunks/");
	/* verify names it */
	T_CODE(ferry_snapshot_verify(f->t.db, "backup", NULL, NULL, NULL,
				     &report, &err), FERRY_ECORRUPT, &err);
	T_CONTAINS(err.msg, rel);
	T_CONTAINS(err.msg, "v0_7_1.default.profile");
	T_CONTAINS(report, rel);
	T_CONTAINS(report, "\"ok\":false");
	ferry_free(report);
	/* restore refuses and leaves nothing */
	ferry_restore_opts o = {"default.profile", "profile$", "back", 0, 0,
				NULL, NULL};
	T_CODE(ferry_snapshot_restore(f->t.db, "backup", "s1", &o, NULL, &err),
	       FERRY_ECORRUPT, &err);
	T_CONTAINS(err.msg, rel);
	T_CONTAINS(err.msg, "--partial");
	ferry_index_info info;
	T_CODE(ferry_index_get(f->t.db, "v0_7_1.default.back", &info, &err),
	       FERRY_ENOTFOUND, &err);
	/* a whole restore too: the data dir stays uninitialised */
	ferry_db *db = open_other(f);
	ferry_restore_opts all = {.all = 1};
	T_CODE(ferry_snapshot_restore(db, f->repo, "s1", &all, NULL, &err),
	       FERRY_ECORRUPT, &err);
	ferry_status st;
	T_CODE(ferry_db_status(db, &st, &err), FERRY_ENOTINIT, &err);
	/* --partial restores the rest */
	o.partial = 1;
	T_OK(ferry_snapshot_restore(f->t.db, "backup", "s1", &o, &report, &err),
	     &err);
	T_CONTAINS(report, rel);
	ferry_free(report);
	info = t_info(f->t.db, "v0_7_1.default.back");
	assert_int_equal(info.docs, 4000 - recs);
	all.partial = 1;
	T_OK(ferry_snapshot_restore(db, f->repo, "s1", &all, NULL, &err), &err);
	info = t_info(db, "profile");
	assert_int_equal(info.docs, 4000 - recs);
	ferry_db_close(db);
	/* a missing chunk is named before anything is written */
	char gone[800];
	chunk_file(f, "s1", "v0_7_1.acme.profile", 0, 0, gone, sizeof gone,
		   &recs);
	assert_int_equal(unlink(gone), 0);
	o.partial = 0;
	o.indices = "acme.profile";
	o.rename_replacement = "back2";
	T_CODE(ferry_snapshot_restore(f->t.db, "backup", "s1", &o, NULL, &err),
	       FERRY_ECORRUPT, &err);
	T_CONTAINS(err.msg, "missing");
	T_CODE(ferry_index_get(f->t.db, "v0_7_1.acme.back2", &info, &err),
	       FERRY_ENOTFOUND, &err);
	/* with the damaged file removed too, a new snapshot of the same data
	 * writes both chunks anew: the repository heals, s1 included */
	assert_int_equal(unlink(path), 0);
	new_bytes(f->t.db, "backup", "s2");
	T_OK(ferry_snapshot_verify(f->t.db, "backup", NULL, NULL, NULL, NULL,
				   &err), &err);
}

static void truncate_half(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size / 2), 0);
}

static void test_truncated_manifest(void **state)
{
	fix *f = *state;
	ferry_err err = {0, ""};
	ferry_snapshot_gc gc;
	char path[800], *text;
	make_deployment(f->t.db, 500);
	new_bytes(f->t.db, "backup", "s1");
	new_bytes(f->t.db, "backup", "s2");
	snprintf(path, sizeof path, "%s/snapshots/s1.json", f->repo);
	truncate_half(path);
	T_CODE(ferry_snapshot_show(f->t.db, "backup", "s1", &text, &err),
	       FERRY_ECORRUPT, &err);
	T_CONTAINS(err.msg, "snapshots/s1.json");
	T_CONTAINS(err.msg, "truncated");
	ferry_snapshot_info *v;
	size_t n;
	T_OK(ferry_snapshot_list(f->t.db, "backup", &v, &n, &err), &err);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].state, "damaged");
	assert_string_equal(v[1].state, "ok");
	ferry_free(v);
	ferry_restore_opts o = {.all = 1};
	ferry_db *db = open_other(f);
	T_CODE(ferry_snapshot_restore(db, f->repo, "s1", &o, NULL, &err),
	       FERRY_ECORRUPT, &err);
	ferry_db_close(db);
	/* a changed byte (same length) is caught by the checksum */
	snprintf(path, sizeof path, "%s/snapshots/s2.json", f->repo);
	T_OK(ferry_snapshot_show(f->t.db, "backup", "s2", &text, &err), &err);
	char *p = strstr(text, "\"docs\":");
	assert_non_null(p);
	p[7] = p[7] == '1' ? '2' : '1';
	FILE *fp = fopen(path, "w");
	fputs(text, fp);
	fclose(fp);
	ferry_free(text);
	T_CODE(ferry_snapshot_show(f->t.db, "backup", "s2", &text, &err),
	       FERRY_ECORRUPT, &err);
	T_CONTAINS(err.msg, "checksum");
	/* creates go on; a delete keeps every chunk while a manifest is
	 * unreadable */
	new_bytes(f->t.db, "backup", "s3");
	T_OK(ferry_snapshot_delete(f->t.db, "backup", "s3", &gc, &err), &err);
	assert_int_equal(gc.gc_skipped, 1);
	assert_int_equal(gc.chunks_removed, 0);
}

static void write_file(const char *path, const char *s)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(s, fp);
	fclose(fp);
}

static void test_newer_format(void **state)
{
	fix *f = *state;
	ferry_err err = {0, ""};
	char path[800], *text, *p;
	make_deployment(f->t.db, 100);
	new_bytes(f->t.db, "backup", "s1");
	/* a manifest written by a newer ferry */
	T_OK(ferry_snapshot_show(f->t.db, "backup", "s1", &text, &err), &err);
	p = strstr(text, "\"format\":2");
	assert_non_null(p);
	p[9] = '3';
	snprintf(path, sizeof path, "%s/snapshots/s1.json", f->repo);
	write_file(path, text);
	ferry_free(text);
	T_CODE(ferry_snapshot_show(f->t.db, "backup", "s1", &text, &err),
	       FERRY_EVERSION, &err);
	T_CONTAINS(err.msg, "format 3");
	ferry_restore_opts o = {.all = 1};
	ferry_db *db = open_other(f);
	T_CODE(ferry_snapshot_restore(db, f->repo, "s1", &o, NULL, &err),
	       FERRY_EVERSION, &err);
	ferry_db_close(db);
	/* a repository of a newer format */
	snprintf(path, sizeof path, "%s/config.json", f->repo);
	write_file(path, "{\"format\":3,\"chunk_size\":1048576}");
	ferry_snapshot_info *v;
	size_t n;
	T_CODE(ferry_snapshot_list(f->t.db, "backup", &v, &n, &err),
	       FERRY_EVERSION, &err);
	T_CONTAINS(err.msg, "format 3");
	T_CONTAINS(err.msg, "newer");
	T_CODE(ferry_snapshot_create(f->t.db, "backup", "s2", NULL, NULL, NULL,
				     NULL, NULL, &err), FERRY_EVERSION, &err);
	snprintf(path, sizeof path, "%s/snapshots/s2.json", f->repo);
	assert_int_not_equal(access(path, F_OK), 0);
	write_file(path, "garbage");
	snprintf(path, sizeof path, "%s/config.json", f->repo);
	write_file(path, "{\"format\":");
	T_CODE(ferry_snapshot_list(f->t.db, "backup", &v, &n, &err),
	       FERRY_ECORRUPT, &err);
	T_CONTAINS(err.msg, "config.json");
}

/* A read-only repository path, in a child process: as root with a
 * read-only tmpfs in a private mount namespace, else with mode 0555. */
static int ro_child(const char *data, const char *dir)
{
	ferry_err err = {0, ""};
	ferry_db *db;
	if (geteuid() == 0) {
		if (unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("none", dir, "tmpfs", MS_RDONLY, NULL))
			return 100; /* cannot test here */
	} else if (chmod(dir, 0555)) {
		return 100;
	}
	if (ferry_db_open(data, FERRY_OPEN_NOSYNC, &db, &err))
		return 101;
	int rc = ferry_snaprepo_add(db, "ro", dir, 0, &err);
	if (rc == FERRY_EPERM && !strstr(err.msg, dir))
		rc = 102;
	ferry_db_close(db);
	return rc;
}

static void test_bad_repo_paths(void **state)
{
	fix *f = *state;
	ferry_err err = {0, ""};
	char dir[700];
	snprintf(dir, sizeof dir, "%s/missing", f->t.dir);
	T_CODE(ferry_snaprepo_add(f->t.db, "m", dir, 0, &err), FERRY_ENOTFOUND,
	       &err);
	T_CONTAINS(err.msg, "does not exist");
	T_CODE(ferry_snaprepo_add(f->t.db, "backup", f->repo, 0, &err),
	       FERRY_EEXISTS, &err);
	T_CODE(ferry_snaprepo_add(f->t.db, "Bad", f->repo, 0, &err), FERRY_ENAME,
	       &err);
	snprintf(dir, sizeof dir, "%s/ro", f->t.dir);
	mkdir(dir, 0755);
	pid_t pid = fork();
	if (pid == 0)
		_exit(ro_child(f->t.dir, dir));
	int ws;
	waitpid(pid, &ws, 0);
	assert_true(WIFEXITED(ws));
	if (WEXITSTATUS(ws) == 100)
		print_message("# (read-only path not testable here)\n");
	else
		assert_int_equal(WEXITSTATUS(ws), FERRY_EPERM);
	/* nothing registered by the failures */
	ferry_snaprepo_info *v;
	size_t n;
	T_OK(ferry_snaprepo_list(f->t.db, &v, &n, &err), &err);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].name, "backup");
	ferry_free(v);
	/* a repository whose directory went away */
	char moved[700];
	snprintf(moved, sizeof moved, "%s/moved", f->t.dir);
	assert_int_equal(rename(f->repo, moved), 0);
	T_CODE(ferry_snapshot_create(f->t.db, "backup", NULL, NULL, NULL, NULL,
				     NULL, NULL, &err), FERRY_ENOTFOUND, &err);
	T_CONTAINS(err.msg, "not reachable");
	assert_int_equal(rename(moved, f->repo), 0);
	T_OK(ferry_snaprepo_remove(f->t.db, "backup", &err), &err);
	T_CODE(ferry_snaprepo_remove(f->t.db, "backup", &err), FERRY_ENOTFOUND,
	       &err);
	/* the same directory added again (as another deployment would) */
	T_OK(ferry_snaprepo_add(f->t.db, "again", f->repo, 0, &err), &err);
}

/* ---- killed midway ---- */

static int die_after(void *ctx, const ferry_snapshot_progress *p)
{
	int *left = ctx;
	if (--*left <= 0)
		_exit(42); /* as kill -9: no cleanup at all */
	return 0;
}

static void test_killed_restore_and_create(void **state)
{
	fix *f = *state;
	ferry_err err = {0, ""};
	ferry_restore_opts o = {.all = 1};
	int ws;
	make_deployment(f->t.db, 8000);
	new_bytes(f->t.db, "backup", "s1");
	for (int round = 0; round < 2; round++) {
		pid_t pid = fork();
		if (pid == 0) {
			int left = 5 + round * 20;
			ferry_db *db;
			if (ferry_db_open(f->other, FERRY_OPEN_CREATE |
					  FERRY_OPEN_NOSYNC, &db, &err))
				_exit(1);
			ferry_restore_opts ko = {.all = 1, .progress = die_after,
						 .ctx = &left};
			ferry_snapshot_restore(db, f->repo, "s1", &ko, NULL, &err);
			_exit(2);
		}
		waitpid(pid, &ws, 0);
		assert_int_equal(WEXITSTATUS(ws), 42);
	}
	ferry_db *db = open_other(f);
	ferry_status st;
	T_CODE(ferry_db_status(db, &st, &err), FERRY_ENOTINIT, &err);
	T_OK(ferry_snapshot_restore(db, f->repo, "s1", &o, NULL, &err), &err);
	assert_same_deployment(f->t.db, db);
	ferry_db_close(db);

	/* a partial restore killed midway, then run again */
	ferry_restore_opts po = {"default.profile", "profile$", "again", 0, 0,
				 NULL, NULL};
	pid_t pid = fork();
	if (pid == 0) {
		int left = 4;
		ferry_db *cdb;
		if (ferry_db_open(f->t.dir, FERRY_OPEN_NOSYNC, &cdb, &err))
			_exit(1);
		po.progress = die_after;
		po.ctx = &left;
		ferry_snapshot_restore(cdb, "backup", "s1", &po, NULL, &err);
		_exit(2);
	}
	waitpid(pid, &ws, 0);
	assert_int_equal(WEXITSTATUS(ws), 42);
	/* the half index has no alias yet */
	ferry_index_info info;
	T_OK(ferry_index_get(f->t.db, "v0_7_1.default.again", &info, &err),
	     &err);
	assert_string_equal(info.alias, "");
	/* another restore onto it is told what it is */
	ferry_restore_opts other = po;
	other.progress = NULL;
	T_OK(ferry_snapshot_create(f->t.db, "backup", "s2", NULL, NULL, NULL,
				   NULL, NULL, &err), &err);
	T_CODE(ferry_snapshot_restore(f->t.db, "backup", "s2", &other, NULL,
				      &err), FERRY_EEXISTS, &err);
	T_OK(ferry_snapshot_restore(f->t.db, "backup", "s1", &other, NULL, &err),
	     &err);
	char a[65], b[65];
	index_hash(f->t.db, "profile", a);
	index_hash(f->t.db, "default.again", b);
	assert_string_equal(a, b);

	/* a create killed midway leaves no snapshot; running it again works */
	put_range(f->t.db, "profile", 0, 8000, 1, 3);
	pid = fork();
	if (pid == 0) {
		int left = 3;
		ferry_db *cdb;
		if (ferry_db_open(f->t.dir, FERRY_OPEN_NOSYNC, &cdb, &err))
			_exit(1);
		ferry_snapshot_create(cdb, "backup", "s3", NULL, die_after, &left,
				      NULL, NULL, &err);
		_exit(2);
	}
	waitpid(pid, &ws, 0);
	assert_int_equal(WEXITSTATUS(ws), 42);
	char *m;
	T_CODE(ferry_snapshot_show(f->t.db, "backup", "s3", &m, &err),
	       FERRY_ENOTFOUND, &err);
	T_OK(ferry_snapshot_verify(f->t.db, "backup", NULL, NULL, NULL, NULL,
				   &err), &err);
	T_OK(ferry_snapshot_create(f->t.db, "backup", "s3", NULL, NULL, NULL,
				   NULL, NULL, &err), &err);
	T_OK(ferry_snapshot_verify(f->t.db, "backup", "s3", NULL, NULL, NULL,
				   &err), &err);
}

/* ---- locks ---- */

/* A create killed while writing its in-progress file leaves a lock temp
 * file in locks/: the next delete removes it if its writer (on this
 * host) is dead, and leaves another host's alone (CI once found one). */
static void test_dead_lock_tmp(void **state)
{
	fix *f = *state;
	ferry_err err = {0, ""};
	char dead[800], other[800], live[800], host[128];
	make_deployment(f->t.db, 100);
	new_bytes(f->t.db, "backup", "s1");
	new_bytes(f->t.db, "backup", "s2");
	fsnap_host(host);
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	snprintf(dead, sizeof dead, "%s/locks/.tmp-lock-%s-%ld-0", f->repo, host,
		 (long)pid);
	snprintf(other, sizeof other, "%s/locks/.tmp-lock-%s-2-%ld-0", f->repo,
		 host, (long)pid);
	snprintf(live, sizeof live, "%s/locks/.tmp-lock-%s-%ld-0", f->repo, host,
		 (long)getpid());
	write_file(dead, "{");
	write_file(other, "{");
	write_file(live, "{");
	T_OK(ferry_snapshot_delete(f->t.db, "backup", "s1", NULL, &err), &err);
	assert_int_not_equal(access(dead, F_OK), 0);
	assert_int_equal(access(other, F_OK), 0); /* host "<host>-2" */
	assert_int_equal(access(live, F_OK), 0);
	unlink(other);
	unlink(live);
}

static void test_locks(void **state)
{
	fix *f = *state;
	ferry_err err = {0, ""};
	char path[800], host[128], buf[512];
	make_deployment(f->t.db, 100);
	new_bytes(f->t.db, "backup", "s1");
	fsnap_host(host);
	snprintf(path, sizeof path, "%s/lock", f->repo);
	/* a dead writer's lock is broken */
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	snprintf(buf, sizeof buf, "{\"op\":\"delete\",\"snapshot\":\"x\",\"host\":"
		 "\"%s\",\"pid\":%ld,\"started_ms\":1}", host, (long)pid);
	write_file(path, buf);
	T_OK(ferry_snapshot_create(f->t.db, "backup", "s2", NULL, NULL, NULL,
				   NULL, NULL, &err), &err);
	assert_int_not_equal(access(path, F_OK), 0);
	/* a live one is reported */
	snprintf(buf, sizeof buf, "{\"op\":\"delete\",\"snapshot\":\"x\",\"host\":"
		 "\"%s\",\"pid\":%ld,\"started_ms\":1}", host, (long)getppid());
	write_file(path, buf);
	setenv("FERRY_SNAPSHOT_LOCK_WAIT", "0", 1);
	T_CODE(ferry_snapshot_delete(f->t.db, "backup", "s1", NULL, &err),
	       FERRY_EBUSY, &err);
	T_CONTAINS(err.msg, "delete of 'x'");
	T_CONTAINS(err.msg, host);
	T_CODE(ferry_snapshot_create(f->t.db, "backup", "s3", NULL, NULL, NULL,
				     NULL, NULL, &err), FERRY_EBUSY, &err);
	unsetenv("FERRY_SNAPSHOT_LOCK_WAIT");
	unlink(path);
	/* the stopped create left no manifest, no lock of its own */
	char lockdir[800];
	snprintf(lockdir, sizeof lockdir, "%s/locks", f->repo);
	DIR *d = opendir(lockdir);
	struct dirent *de;
	int files = 0;
	while ((de = readdir(d)))
		files += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(files, 0);
	/* names taken */
	T_CODE(ferry_snapshot_create(f->t.db, "backup", "s1", NULL, NULL, NULL,
				     NULL, NULL, &err), FERRY_EEXISTS, &err);
	T_CODE(ferry_snapshot_create(f->t.db, "backup", "Bad Name", NULL, NULL,
				     NULL, NULL, NULL, &err), FERRY_ENAME, &err);
	ferry_snapshot_info info;
	T_OK(ferry_snapshot_create(f->t.db, "backup", NULL, NULL, NULL, NULL,
				   &info, NULL, &err), &err);
	assert_memory_equal(info.name, "snap-", 5);
}

/* ---- the chunker ---- */

typedef struct cut {
	unsigned char (*sha)[32];
	size_t n;
} cut;

static void cut_records(size_t avg, unsigned n, unsigned skip_from,
			unsigned insert_at, cut *out)
{
	fsnap_chunker c;
	char id[32], body[400];
	fsnap_chunker_init(&c, avg, FSNAP_FORMAT);
	out->sha = calloc(4096, 32);
	out->n = 0;
	for (unsigned i = 0; i < n; i++) {
		if (i == insert_at) {
			assert_int_equal(fsnap_chunker_add(&c, FSNAP_REC_DOC, "new", 3,
							   "{\"x\":1}", 7), 0);
		}
		if (i == skip_from)
			continue;
		snprintf(id, sizeof id, "id%07u", i);
		body_of(body, sizeof body, i, 0);
		if (fsnap_chunker_full(&c, strlen(id), strlen(body)) || c.cut) {
			size_t len;
			uint64_t recs;
			unsigned char *b = fsnap_chunker_take(&c, &len, &recs);
			fsnap_sha256(b, len, out->sha[out->n++]);
			free(b);
		}
		assert_int_equal(fsnap_chunker_add(&c, FSNAP_REC_DOC, id,
						   strlen(id), body, strlen(body)), 0);
	}
	size_t len;
	uint64_t recs;
	unsigned char *b = fsnap_chunker_take(&c, &len, &recs);
	fsnap_sha256(b, len, out->sha[out->n++]);
	free(b);
	fsnap_chunker_release(&c);
}

static size_t shared(const cut *a, const cut *b)
{
	size_t same = 0;
	for (size_t i = 0; i < a->n; i++)
		for (size_t k = 0; k < b->n; k++)
			if (!memcmp(a->sha[i], b->sha[k], 32)) {
				same++;
				break;
			}
	return same;
}

/* ---- records ---- */

/* Adds (id, body) to a chunker of `format`; returns the on-disk type of
 * the record it wrote. */
static int add_one(fsnap_chunker *c, const char *id, const char *body)
{
	size_t at = c->len;
	assert_int_equal(fsnap_chunker_add(c, body ? FSNAP_REC_DOC :
					   FSNAP_REC_TOMB, id, strlen(id), body,
					   body ? strlen(body) : 0), 0);
	return c->buf[at];
}

static void test_records(void **state)
{
	static const struct { const char *id, *body; int t2; } r[] = {
		{"u1", "{\"id\":\"u1\",\"x\":\"}{[\\\"\",\"y\":[1,{}]}", 'E'},
		{"u2", "{\"id\":\"u2\"}", 'E'},
		{"u3", "{\"a\":1}", 'O'},
		{"u4", "{\"a\":1} ", 'D'},
		{"u5", "[1]", 'D'},
		{"u6", "{\"id\":\"u6x\"}", 'O'},
		{"a\"b", "{\"id\":\"a\\\"b\"}", 'O'},
		{"a\\b", "{\"id\":\"a\\b\"}", 'O'},
		{"gone", NULL, 'T'},
	};
	size_t n = sizeof r / sizeof *r;
	fbuf tmp;
	fbuf_init(&tmp, 0);
	(void)state;
	for (unsigned format = 1; format <= 2; format++) {
		fsnap_chunker c;
		fsnap_chunker_init(&c, 1 << 20, format);
		for (size_t i = 0; i < n; i++) {
			int want = format == 1 ? (r[i].body ? 'D' : 'T') : r[i].t2;
			assert_int_equal(add_one(&c, r[i].id, r[i].body), want);
		}
		size_t len, off = 0, blen;
		uint64_t recs;
		unsigned char *b = fsnap_chunker_take(&c, &len, &recs);
		assert_int_equal(recs, n);
		for (size_t i = 0; i < n; i++) {
			fsnap_rec rec;
			assert_int_equal(fsnap_rec_next(b, len, &off, &rec), 0);
			assert_int_equal(rec.idlen, strlen(r[i].id));
			assert_memory_equal(rec.id, r[i].id, rec.idlen);
			if (!r[i].body) {
				assert_int_equal(rec.type, FSNAP_REC_TOMB);
				continue;
			}
			assert_int_equal(rec.type, FSNAP_REC_DOC);
			assert_int_equal(rec.elided, r[i].t2 == 'E' && format == 2);
			const char *body = fsnap_rec_body(&rec, &tmp, &blen);
			assert_int_equal(blen, strlen(r[i].body));
			assert_memory_equal(body, r[i].body, blen);
			assert_true(fsnap_rec_body_eq(&rec, r[i].body, blen));
			assert_false(fsnap_rec_body_eq(&rec, "{}", 2));
		}
		fsnap_rec rec;
		assert_int_equal(fsnap_rec_next(b, len, &off, &rec), FERRY_EOF);
		/* every cut short of the end is malformed, never read past */
		size_t first = 0;
		assert_int_equal(fsnap_rec_next(b, len, &first, &rec), 0);
		if (format == 2)
			for (size_t cutlen = 1; cutlen < first; cutlen++) {
				off = 0;
				assert_int_equal(fsnap_rec_next(b, cutlen, &off, &rec),
						 FERRY_ECORRUPT);
			}
		free(b);
		fsnap_chunker_release(&c);
	}
	/* hand-made format 2 records that do not end */
	static const char *const bad[] = {
		"E\0\1x,\"a\":\"}",   /* the object's string never closes */
		"E\0\1x,\"a\":[}",     /* '}' closes the array: one level short */
		"O\0\1x\"a\"}",        /* an 'O' body must start with '{' */
		"O\0\1x",                /* no body at all */
		"Q\0\1x{}",              /* no such type */
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		size_t off = 0, len = 3 + strlen(bad[i] + 3);
		fsnap_rec rec;
		assert_int_equal(fsnap_rec_next((const unsigned char *)bad[i], len,
						&off, &rec), FERRY_ECORRUPT);
	}
	fbuf_release(&tmp);
}

/* A format 1 repository keeps getting format 1 snapshots (readable by
 * the ferry that made it), and format 2 stores the same data smaller. */
static void test_format1_repo(void **state)
{
	fix *f = *state;
	ferry_err err = {0, ""};
	char path[800], *text;
	make_deployment(f->t.db, 2000);
	uint64_t b2 = new_bytes(f->t.db, "backup", "s2");
	char old[600];
	snprintf(old, sizeof old, "%s/old", f->t.dir);
	mkdir(old, 0755);
	T_OK(ferry_snaprepo_add(f->t.db, "old", old, 16 << 10, &err), &err);
	snprintf(path, sizeof path, "%s/config.json", old);
	write_file(path, "{\"format\":1,\"chunk_size\":16384,\"zstd_level\":1}");
	uint64_t b1 = new_bytes(f->t.db, old, "s1");
	print_message("# the same data: format 1 %llu bytes, format 2 %llu\n",
		      (unsigned long long)b1, (unsigned long long)b2);
	assert_true(b2 < b1);
	T_OK(ferry_snapshot_show(f->t.db, old, "s1", &text, &err), &err);
	T_CONTAINS(text, "{\"format\":1,");
	ferry_free(text);
	T_OK(ferry_snapshot_show(f->t.db, "backup", "s2", &text, &err), &err);
	T_CONTAINS(text, "{\"format\":2,");
	ferry_free(text);
	ferry_db *db = open_other(f);
	ferry_restore_opts o = {.all = 1};
	T_OK(ferry_snapshot_restore(db, old, "s1", &o, NULL, &err), &err);
	assert_same_deployment(f->t.db, db);
	ferry_db_close(db);
}

static void test_chunker_stability(void **state)
{
	(void)state;
	cut a, b, d;
	cut_records(16 << 10, 20000, UINT32_MAX, UINT32_MAX, &a);
	cut_records(16 << 10, 20000, UINT32_MAX, 7000, &b);
	cut_records(16 << 10, 20000, 12000, UINT32_MAX, &d);
	print_message("# %zu chunks; after an insert %zu shared, after a "
		      "removal %zu shared\n", a.n, shared(&a, &b), shared(&a, &d));
	/* ~4 MB at 16 KiB (the periodic padding hits less often) */
	assert_true(a.n > 100 && a.n < 800);
	assert_true(shared(&a, &b) >= a.n - 3);
	assert_true(shared(&a, &d) >= a.n - 3);
	free(a.sha);
	free(b.sha);
	free(d.sha);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_roundtrip_all),
		T(test_restore_rename),
		T(test_dedupe_small_changes),
		T(test_chunk_sizes),
		T(test_gc),
		T(test_gc_beside_create),
		T(test_create_delete_race),
		T(test_corrupt_chunk),
		T(test_truncated_manifest),
		T(test_newer_format),
		T(test_bad_repo_paths),
		T(test_killed_restore_and_create),
		T(test_locks),
		T(test_dead_lock_tmp),
		T(test_format1_repo),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_chunker_stability),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
