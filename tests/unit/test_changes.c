/*
 * test_changes.c - the change log through the public API
 * (ferry_changes_open / ferry_changes_next) on real LMDB files: each id
 * once at its latest seq in seq order, tombstones, since/upto semantics,
 * the copy-then-catch-up use of an upgrade, the tombstone horizon, and
 * readers that see their index deleted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "store/lmdb/lmdb_int.h" /* FLMDB_TOMB_MIN, FLMDB_TRIM_MAX */
#include "testutil.h"

static int setup(void **state)
{
	return t_state_setup(state, "changes");
}

/* One change as read back, copied out of the reader. */
typedef struct chg {
	char id[24];
	char body[40];
	uint64_t seq;
	int deleted;
} chg;

typedef struct chglist {
	chg *v;
	size_t n, cap;
	uint64_t upto;
} chglist;

static void chg_free(chglist *l)
{
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* Reads all changes since `since`; returns the code that ended it
 * (FERRY_EOF normally) with err filled. */
static int read_changes(ferry_db *db, const char *index, uint64_t since,
			chglist *l, ferry_err *err)
{
	ferry_changes *c;
	ferry_doc d;
	int rc;
	memset(l, 0, sizeof *l);
	if ((rc = ferry_changes_open(db, index, since, &c, &l->upto, err)))
		return rc;
	while ((rc = ferry_changes_next(c, &d, err)) == 0) {
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 1024;
			l->v = realloc(l->v, l->cap * sizeof *l->v);
			assert_non_null(l->v);
		}
		chg *e = &l->v[l->n++];
		memset(e, 0, sizeof *e);
		assert_true(d.idlen < sizeof e->id);
		memcpy(e->id, d.id, d.idlen);
		e->seq = d.seq;
		e->deleted = d.deleted;
		if (d.deleted) {
			if (d.body && d.body_len)
				fail_msg("tombstone '%s' has a body", e->id);
		} else {
			assert_non_null(d.body);
			assert_true(d.body_len < sizeof e->body);
			memcpy(e->body, d.body, d.body_len);
		}
	}
	/* EOF is sticky */
	if (rc == FERRY_EOF)
		assert_int_equal(ferry_changes_next(c, &d, err), FERRY_EOF);
	ferry_changes_free(c);
	return rc;
}

static void expect_change(const chglist *l, size_t i, const char *id,
			  uint64_t seq, int deleted, const char *body)
{
	if (i >= l->n)
		fail_msg("change %zu missing (have %zu)", i, l->n);
	const chg *e = &l->v[i];
	if (strcmp(e->id, id) || e->seq != seq || e->deleted != deleted ||
	    (body && strcmp(e->body, body)))
		fail_msg("change %zu: got %s@%llu deleted=%d %s; want "
			 "%s@%llu deleted=%d %s", i, e->id,
			 (unsigned long long)e->seq, e->deleted, e->body, id,
			 (unsigned long long)seq, deleted, body ? body : "");
}

static void test_changes_latest_once(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	chglist l;
	t_create(t->db, "ch");
	/* empty index */
	T_CODE(read_changes(t->db, "ch", 0, &l, &err), FERRY_EOF, &err);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.upto, 0);
	chg_free(&l);

	t_put(t->db, "ch", "a", "{\"a\":1}");  /* 1 */
	t_put(t->db, "ch", "b", "{\"b\":1}");  /* 2 */
	t_put(t->db, "ch", "c", "{\"c\":1}");  /* 3 */
	t_put(t->db, "ch", "d", "{\"d\":1}");  /* 4 */
	t_put(t->db, "ch", "b", "{\"b\":2}");  /* 5 */
	t_del(t->db, "ch", "c");               /* 6 */
	t_put(t->db, "ch", "e", "{\"e\":1}");  /* 7 */
	t_put(t->db, "ch", "a", "{\"a\":2}");  /* 8 */
	t_del(t->db, "ch", "e");               /* 9 */
	t_put(t->db, "ch", "f", "{\"f\":1}");  /* 10 */
	t_put(t->db, "ch", "f", "{\"f\":2}");  /* 11 */
	t_put(t->db, "ch", "f", "{\"f\":3}");  /* 12 */

	T_CODE(read_changes(t->db, "default.ch", 0, &l, &err), FERRY_EOF, &err);
	assert_int_equal(l.upto, 12);
	assert_int_equal(l.n, 6);
	expect_change(&l, 0, "d", 4, 0, "{\"d\":1}");
	expect_change(&l, 1, "b", 5, 0, "{\"b\":2}");
	expect_change(&l, 2, "c", 6, 1, NULL);
	expect_change(&l, 3, "a", 8, 0, "{\"a\":2}");
	expect_change(&l, 4, "e", 9, 1, NULL);
	expect_change(&l, 5, "f", 12, 0, "{\"f\":3}");
	chg_free(&l);

	/* since S: only what was written after S */
	T_CODE(read_changes(t->db, "ch", 6, &l, &err), FERRY_EOF, &err);
	assert_int_equal(l.n, 3);
	expect_change(&l, 0, "a", 8, 0, NULL);
	expect_change(&l, 1, "e", 9, 1, NULL);
	expect_change(&l, 2, "f", 12, 0, NULL);
	chg_free(&l);
	T_CODE(read_changes(t->db, "ch", 11, &l, &err), FERRY_EOF, &err);
	assert_int_equal(l.n, 1);
	expect_change(&l, 0, "f", 12, 0, NULL);
	chg_free(&l);
	/* since the last seq, and past it */
	T_CODE(read_changes(t->db, "ch", 12, &l, &err), FERRY_EOF, &err);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.upto, 12);
	chg_free(&l);
	T_CODE(read_changes(t->db, "ch", 1000, &l, &err), FERRY_EOF, &err);
	assert_int_equal(l.n, 0);
	chg_free(&l);
	/* unknown index */
	ferry_changes *c = NULL;
	uint64_t upto = 77;
	T_CODE(ferry_changes_open(t->db, "nosuch", 0, &c, &upto, &err),
	       FERRY_ENOTFOUND, &err);
	assert_null(c);
	assert_int_equal(upto, 77);
	/* upto_seq may be NULL */
	T_OK(ferry_changes_open(t->db, "ch", 0, &c, NULL, &err), &err);
	ferry_changes_free(c);
	ferry_changes_free(NULL);
}

/* Random writes against a model: for every since S, the changes are the
 * ids whose latest write is after S, at that write's seq, in order. */
static void test_changes_since_model(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	enum { IDS = 6000, OPS = 20000, BATCH = 400 };
	t_create(t->db, "m");
	uint64_t *mseq = calloc(IDS, sizeof *mseq); /* 0: never written */
	int *mdel = calloc(IDS, sizeof *mdel);
	assert_non_null(mseq);
	assert_non_null(mdel);
	uint64_t rs = 0x2545F4914F6CDD1Du, last = 0;
	ferry_bulk *b;
	assert_int_equal(ferry_bulk_new(t->db, &b), 0);
	int *opid = calloc(BATCH, sizeof *opid);
	enum ferry_op *opk = calloc(BATCH, sizeof *opk);
	for (int done = 0; done < OPS; done += BATCH) {
		ferry_bulk_clear(b);
		for (int k = 0; k < BATCH; k++) {
			char id[16], body[64];
			int j = (int)(t_rnd_next(&rs) % IDS);
			enum ferry_op op = t_rnd_next(&rs) % 4 == 0 ? FERRY_OP_DELETE
								   : FERRY_OP_INDEX;
			snprintf(id, sizeof id, "id%05d", j);
			int bl = snprintf(body, sizeof body, "{\"v\":%d}", done + k);
			assert_int_equal(ferry_bulk_add(b, op, "m", id, strlen(id),
							body, (size_t)bl), 0);
			opid[k] = j;
			opk[k] = op;
		}
		T_OK(ferry_bulk_commit(b, &err), &err);
		for (int k = 0; k < BATCH; k++) {
			ferry_write_result r;
			int rc = ferry_bulk_result(b, (size_t)k, &r, NULL);
			int j = opid[k];
			if (rc) {
				/* only deletes of absent ids may fail */
				assert_int_equal(rc, FERRY_ENOTFOUND);
				assert_int_equal(opk[k], FERRY_OP_DELETE);
				assert_true(!mseq[j] || mdel[j]);
				continue;
			}
			assert_true(r.seq > mseq[j]);
			mseq[j] = r.seq;
			mdel[j] = opk[k] == FERRY_OP_DELETE;
			if (r.seq > last)
				last = r.seq;
		}
	}
	ferry_bulk_free(b);
	free(opid);
	free(opk);
	assert_int_equal(t_info(t->db, "m").seq, last);

	uint64_t sinces[] = {0, 1, 777, last / 3, last / 2, last - 2100,
			     last - 1, last, last + 1};
	for (size_t si = 0; si < sizeof sinces / sizeof sinces[0]; si++) {
		uint64_t since = sinces[si];
		chglist l;
		T_CODE(read_changes(t->db, "m", since, &l, &err), FERRY_EOF,
		       &err);
		assert_int_equal(l.upto, last);
		size_t want = 0;
		for (int j = 0; j < IDS; j++)
			if (mseq[j] > since)
				want++;
		if (l.n != want)
			fail_msg("since %llu: %zu changes, want %zu",
				 (unsigned long long)since, l.n, want);
		for (size_t i = 0; i < l.n; i++) {
			chg *e = &l.v[i];
			int j = atoi(e->id + 2);
			if (i && e->seq <= l.v[i - 1].seq)
				fail_msg("since %llu: seq order broken at %zu",
					 (unsigned long long)since, i);
			if (e->seq != mseq[j] || e->deleted != mdel[j])
				fail_msg("since %llu: %s@%llu deleted=%d, model "
					 "@%llu deleted=%d",
					 (unsigned long long)since, e->id,
					 (unsigned long long)e->seq, e->deleted,
					 (unsigned long long)mseq[j], mdel[j]);
		}
		chg_free(&l);
	}
	free(mseq);
	free(mdel);
}

/* Writes after ferry_changes_open are not returned, even when they land
 * before the reader gets to the page that would hold them. */
static void test_changes_upto_snapshot(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	enum { N = 5000 };
	t_create(t->db, "up");
	char id[32];
	for (int i = 0; i < N; i += 1000) {
		ferry_bulk *b;
		assert_int_equal(ferry_bulk_new(t->db, &b), 0);
		for (int k = i; k < i + 1000; k++) {
			snprintf(id, sizeof id, "u%05d", k);
			assert_int_equal(ferry_bulk_add(b, FERRY_OP_INDEX, "up", id,
							strlen(id), "{}", 2), 0);
		}
		T_OK(ferry_bulk_commit(b, &err), &err);
		ferry_bulk_free(b);
	}
	ferry_changes *c;
	ferry_doc d;
	uint64_t upto = 0;
	T_OK(ferry_changes_open(t->db, "up", 0, &c, &upto, &err), &err);
	assert_int_equal(upto, N);
	int n = 0, rc;
	unsigned char *seen = calloc(N, 1);
	/* read a few, then write: new docs, rewrites and deletes of docs
	 * not read yet, and of one already read */
	for (; n < 10; n++)
		T_OK(ferry_changes_next(c, &d, &err), &err);
	for (int k = 0; k < 10; k++) {
		snprintf(id, sizeof id, "u%05d", k);
		seen[k] = 1;
	}
	for (int k = 0; k < 100; k++) {
		snprintf(id, sizeof id, "new%03d", k);
		t_put(t->db, "up", id, "{\"late\":1}");
	}
	for (int k = N - 100; k < N; k++) { /* rewrite the last 100 */
		snprintf(id, sizeof id, "u%05d", k);
		t_put(t->db, "up", id, "{\"late\":2}");
	}
	for (int k = N - 300; k < N - 200; k++) { /* delete 100 */
		snprintf(id, sizeof id, "u%05d", k);
		t_del(t->db, "up", id);
	}
	t_put(t->db, "up", "u00000", "{\"late\":3}");
	while ((rc = ferry_changes_next(c, &d, &err)) == 0) {
		if (d.seq > upto)
			fail_msg("change %.*s@%llu is after upto %llu",
				 (int)d.idlen, d.id, (unsigned long long)d.seq,
				 (unsigned long long)upto);
		assert_int_equal(d.deleted, 0);
		assert_true(d.idlen == 6 && d.id[0] == 'u');
		int k = atoi(d.id + 1);
		assert_int_equal(seen[k], 0);
		seen[k] = 1;
		n++;
	}
	T_CODE(rc, FERRY_EOF, &err);
	ferry_changes_free(c);
	/* every doc not touched after open came back exactly once */
	for (int k = 0; k < N - 300; k++)
		if (!seen[k])
			fail_msg("u%05d missing", k);
	for (int k = N - 200; k < N - 100; k++)
		if (!seen[k])
			fail_msg("u%05d missing", k);
	free(seen);
	/* and the next reader, since upto, gets exactly the late writes */
	chglist l;
	T_CODE(read_changes(t->db, "up", upto, &l, &err), FERRY_EOF, &err);
	assert_int_equal(l.n, 100 + 100 + 100 + 1);
	assert_int_equal(l.upto, upto + 301);
	for (size_t i = 0; i < l.n; i++) {
		assert_int_equal(l.v[i].seq, upto + 1 + i);
		assert_int_equal(l.v[i].deleted, i >= 200 && i < 300);
	}
	expect_change(&l, 300, "u00000", upto + 301, 0, "{\"late\":3}");
	chg_free(&l);
}

/* ---- catch-up: copy via scan, then replay changes ------------------------ */

typedef struct writer {
	ferry_db *db;
	atomic_int stop;
	atomic_long commits;
	int failed;
	char msg[600];
} writer;

static void *writer_main(void *p)
{
	writer *w = p;
	ferry_err err = {0, ""};
	uint64_t rs = 0xDEADBEEFCAFEF00Du;
	ferry_bulk *b;
	unsigned fresh = 0;
	if (ferry_bulk_new(w->db, &b)) {
		w->failed = 1;
		return NULL;
	}
	while (!atomic_load(&w->stop)) {
		ferry_bulk_clear(b);
		for (int k = 0; k < 25; k++) {
			char id[32], body[96];
			unsigned j = (unsigned)(t_rnd_next(&rs) % 20000);
			int what = (int)(t_rnd_next(&rs) % 3);
			if (what == 2)
				snprintf(id, sizeof id, "%05u-new%u", j, fresh++);
			else
				snprintf(id, sizeof id, "%05u", j);
			int bl = snprintf(body, sizeof body, "{\"w\":%ld,\"k\":%d}",
					  atomic_load(&w->commits), k);
			if (ferry_bulk_add(b, what == 1 ? FERRY_OP_DELETE
							: FERRY_OP_INDEX,
					   "src", id, strlen(id), body, (size_t)bl))
				w->failed = 1;
		}
		if (ferry_bulk_commit(b, &err)) {
			w->failed = 1;
			snprintf(w->msg, sizeof w->msg, "%s", err.msg);
			break;
		}
		atomic_fetch_add(&w->commits, 1);
	}
	ferry_bulk_free(b);
	return NULL;
}

static void wait_commit(writer *w, long since)
{
	while (atomic_load(&w->commits) <= since && !w->failed)
		sched_yield();
}

/* Applies changes of src since `since` to dst; returns how many. */
static size_t catch_up(ferry_db *db, uint64_t since, uint64_t *upto)
{
	ferry_err err = {0, ""};
	ferry_changes *c;
	ferry_doc d;
	ferry_bulk *b;
	size_t n = 0;
	int rc;
	T_OK(ferry_changes_open(db, "src", since, &c, upto, &err), &err);
	assert_int_equal(ferry_bulk_new(db, &b), 0);
	while ((rc = ferry_changes_next(c, &d, &err)) == 0) {
		assert_int_equal(ferry_bulk_add(b, d.deleted ? FERRY_OP_DELETE
							     : FERRY_OP_INDEX,
				"dst", d.id, d.idlen, d.body, d.body_len), 0);
		n++;
	}
	T_CODE(rc, FERRY_EOF, &err);
	ferry_changes_free(c);
	T_OK(ferry_bulk_commit(b, &err), &err);
	for (size_t i = 0; i < ferry_bulk_count(b); i++) {
		int orc = ferry_bulk_result(b, i, NULL, &err);
		/* a delete of a doc the copy never saw is fine */
		if (orc && orc != FERRY_ENOTFOUND)
			fail_msg("catch-up op %zu: %s", i, err.msg);
	}
	ferry_bulk_free(b);
	return n;
}

static void test_catch_up_copy(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	enum { N = 20000 };
	t_create(t->db, "src");
	t_create(t->db, "dst");
	{
		ferry_bulk *b;
		assert_int_equal(ferry_bulk_new(t->db, &b), 0);
		for (int i = 0; i < N; i++) {
			char id[16], body[32];
			snprintf(id, sizeof id, "%05d", i);
			int bl = snprintf(body, sizeof body, "{\"orig\":%d}", i);
			assert_int_equal(ferry_bulk_add(b, FERRY_OP_INDEX, "src", id,
					strlen(id), body, (size_t)bl), 0);
		}
		T_OK(ferry_bulk_commit(b, &err), &err);
		ferry_bulk_free(b);
	}
	writer w = {.db = t->db};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, writer_main, &w), 0);
	wait_commit(&w, 0);

	/* copy: the seq before the scan starts, then the scan */
	uint64_t start_seq = t_info(t->db, "src").seq;
	ferry_scan *s;
	ferry_doc d;
	ferry_bulk *b;
	int rc;
	long copied = 0;
	assert_int_equal(ferry_bulk_new(t->db, &b), 0);
	T_OK(ferry_scan_open(t->db, "src", NULL, 0, &s, &err), &err);
	while ((rc = ferry_scan_next(s, &d, &err)) == 0) {
		assert_int_equal(ferry_bulk_add(b, FERRY_OP_INDEX, "dst", d.id,
						d.idlen, d.body, d.body_len), 0);
		if (++copied % 1000 == 0) {
			T_OK(ferry_bulk_commit(b, &err), &err);
			ferry_bulk_clear(b);
			wait_commit(&w, atomic_load(&w.commits));
		}
	}
	T_CODE(rc, FERRY_EOF, &err);
	ferry_scan_free(s);
	T_OK(ferry_bulk_commit(b, &err), &err);
	ferry_bulk_free(b);

	/* catch-up rounds while the writer still writes, then the last one
	 * after it stopped (the cutover) */
	uint64_t since = start_seq, upto = 0;
	size_t r1 = catch_up(t->db, since, &upto);
	since = upto;
	wait_commit(&w, atomic_load(&w.commits));
	size_t r2 = catch_up(t->db, since, &upto);
	since = upto;
	atomic_store(&w.stop, 1);
	pthread_join(th, NULL);
	if (w.failed)
		fail_msg("writer failed: %s", w.msg);
	size_t r3 = catch_up(t->db, since, &upto);
	since = upto;
	size_t r4 = catch_up(t->db, since, &upto);
	assert_int_equal(r4, 0);
	printf("# copied %ld docs while the writer made %ld commits; catch-up "
	       "rounds applied %zu, %zu, %zu, %zu changes\n", copied,
	       atomic_load(&w.commits), r1, r2, r3, r4);
	assert_true(r1 > 0);

	/* the copy equals the source */
	ferry_scan *a, *c;
	ferry_doc da, dc;
	int ra, rcc;
	long n = 0;
	T_OK(ferry_scan_open(t->db, "src", NULL, 0, &a, &err), &err);
	T_OK(ferry_scan_open(t->db, "dst", NULL, 0, &c, &err), &err);
	for (;;) {
		ra = ferry_scan_next(a, &da, &err);
		rcc = ferry_scan_next(c, &dc, &err);
		if (ra || rcc)
			break;
		if (da.idlen != dc.idlen || memcmp(da.id, dc.id, da.idlen) ||
		    da.body_len != dc.body_len ||
		    memcmp(da.body, dc.body, da.body_len))
			fail_msg("doc %ld differs: src %.*s %.*s, dst %.*s %.*s",
				 n, (int)da.idlen, da.id, (int)da.body_len,
				 da.body, (int)dc.idlen, dc.id, (int)dc.body_len,
				 dc.body);
		n++;
	}
	ferry_scan_free(a);
	ferry_scan_free(c);
	assert_int_equal(ra, FERRY_EOF);
	assert_int_equal(rcc, FERRY_EOF);
	ferry_index_info is = t_info(t->db, "src"), id = t_info(t->db, "dst");
	assert_int_equal(is.docs, id.docs);
	assert_int_equal(is.bytes, id.bytes);
	assert_int_equal(is.docs, (uint64_t)n);
}

/* ---- tombstone horizon --------------------------------------------------- */

static void bulk_ops(ferry_db *db, const char *index, enum ferry_op op,
		     size_t from, size_t to, size_t batch)
{
	ferry_err err = {0, ""};
	ferry_bulk *b;
	assert_int_equal(ferry_bulk_new(db, &b), 0);
	for (size_t i = from; i < to;) {
		ferry_bulk_clear(b);
		size_t end = i + batch < to ? i + batch : to;
		for (; i < end; i++) {
			char id[16];
			snprintf(id, sizeof id, "t%07zu", i);
			assert_int_equal(ferry_bulk_add(b, op, index, id,
							strlen(id), "{}", 2), 0);
		}
		T_OK(ferry_bulk_commit(b, &err), &err);
		for (size_t k = 0; k < ferry_bulk_count(b); k++)
			T_OK(ferry_bulk_result(b, k, NULL, &err), &err);
	}
	ferry_bulk_free(b);
}

/* The horizon from the EHORIZON message ("... starts after seq H ..."). */
static uint64_t horizon_of(const ferry_err *err)
{
	const char *p = strstr(err->msg, "after seq ");
	if (!p)
		fail_msg("EHORIZON message names no seq: %s", err->msg);
	return strtoull(p + 10, NULL, 10);
}

static void test_tombstone_horizon(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	const size_t N = FLMDB_TOMB_MIN + FLMDB_TOMB_MIN / 10; /* 110000 */
	chglist l;
	t_create(t->db, "tomb");
	double t0 = t_now_ms();
	bulk_ops(t->db, "tomb", FERRY_OP_INDEX, 0, N, 50000);
	/* delete everything: N tombstones, 0 live docs, so the bound is
	 * FLMDB_TOMB_MIN and the oldest ones are trimmed */
	bulk_ops(t->db, "tomb", FERRY_OP_DELETE, 0, N, 50000);
	printf("# %zu puts + %zu deletes in %.0f ms\n", N, N, t_now_ms() - t0);
	uint64_t last = t_info(t->db, "tomb").seq;
	assert_int_equal(last, 2 * N);
	assert_int_equal(t_info(t->db, "tomb").docs, 0);

	ferry_changes *c = NULL;
	uint64_t upto = 12345;
	err.msg[0] = 0;
	T_CODE(ferry_changes_open(t->db, "tomb", 0, &c, &upto, &err),
	       FERRY_EHORIZON, &err);
	assert_null(c);
	assert_int_equal(upto, 12345);
	assert_int_equal(err.code, FERRY_EHORIZON);
	T_CONTAINS(err.msg, "v0_1_0.default.tomb");
	T_CONTAINS(err.msg, "copy");
	uint64_t h = horizon_of(&err);
	printf("# horizon after %zu deletes: seq %llu (%llu tombstones "
	       "trimmed)\n", N, (unsigned long long)h,
	       (unsigned long long)(h - N));
	/* some, not all, were trimmed, and at least FLMDB_TOMB_MIN remain */
	assert_true(h > N);
	assert_true(last - h >= FLMDB_TOMB_MIN);
	/* anything before the horizon is refused */
	T_CODE(ferry_changes_open(t->db, "tomb", N, &c, NULL, &err),
	       FERRY_EHORIZON, &err);
	T_CODE(ferry_changes_open(t->db, "tomb", h - 1, &c, NULL, &err),
	       FERRY_EHORIZON, &err);
	/* since >= horizon works and returns exactly the kept tombstones */
	T_CODE(read_changes(t->db, "tomb", h, &l, &err), FERRY_EOF, &err);
	assert_int_equal(l.upto, last);
	assert_int_equal(l.n, last - h);
	for (size_t i = 0; i < l.n; i++) {
		char id[16];
		assert_int_equal(l.v[i].seq, h + 1 + i);
		assert_int_equal(l.v[i].deleted, 1);
		snprintf(id, sizeof id, "t%07llu",
			 (unsigned long long)(h + i - N));
		assert_string_equal(l.v[i].id, id);
	}
	chg_free(&l);
	T_CODE(read_changes(t->db, "tomb", h + 1000, &l, &err), FERRY_EOF,
	       &err);
	assert_int_equal(l.n, last - h - 1000);
	chg_free(&l);
	/* a trimmed id can be written again, as a new document */
	ferry_write_result r;
	T_OK(ferry_doc_put(t->db, "tomb", "t0000000", 8, "{\"back\":1}", 10,
			   FERRY_OP_CREATE, &r, &err), &err);
	assert_int_equal(r.created, 1);
	assert_int_equal(r.seq, last + 1);
	T_CODE(read_changes(t->db, "tomb", last, &l, &err), FERRY_EOF, &err);
	assert_int_equal(l.n, 1);
	expect_change(&l, 0, "t0000000", last + 1, 0, "{\"back\":1}");
	chg_free(&l);
}

/* With more live docs than FLMDB_TOMB_MIN, tombstones up to the live
 * count are kept: nothing is trimmed. */
static void test_tombstone_bound_live_docs(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	const size_t LIVE = FLMDB_TOMB_MIN + FLMDB_TOMB_MIN / 2; /* 150000 */
	const size_t DEAD = FLMDB_TOMB_MIN + FLMDB_TOMB_MIN / 5; /* 120000 */
	chglist l;
	t_create(t->db, "live");
	bulk_ops(t->db, "live", FERRY_OP_INDEX, 0, LIVE + DEAD, 50000);
	bulk_ops(t->db, "live", FERRY_OP_DELETE, LIVE, LIVE + DEAD, 50000);
	assert_int_equal(t_info(t->db, "live").docs, LIVE);
	T_CODE(read_changes(t->db, "live", 0, &l, &err), FERRY_EOF, &err);
	assert_int_equal(l.n, LIVE + DEAD);
	size_t dead = 0;
	for (size_t i = 0; i < l.n; i++)
		dead += (size_t)l.v[i].deleted;
	assert_int_equal(dead, DEAD);
	chg_free(&l);
}

static void test_reput_removes_tombstone(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	chglist l;
	t_create(t->db, "rp");
	t_put(t->db, "rp", "x", "{\"v\":1}");  /* 1 */
	t_put(t->db, "rp", "y", "{}");         /* 2 */
	t_del(t->db, "rp", "x");               /* 3 */
	T_CODE(read_changes(t->db, "rp", 0, &l, &err), FERRY_EOF, &err);
	assert_int_equal(l.n, 2);
	expect_change(&l, 1, "x", 3, 1, NULL);
	chg_free(&l);
	t_put(t->db, "rp", "x", "{\"v\":2}");  /* 4 */
	T_CODE(read_changes(t->db, "rp", 0, &l, &err), FERRY_EOF, &err);
	assert_int_equal(l.n, 2);
	expect_change(&l, 0, "y", 2, 0, "{}");
	expect_change(&l, 1, "x", 4, 0, "{\"v\":2}");
	chg_free(&l);
	/* since the delete: only the re-put */
	T_CODE(read_changes(t->db, "rp", 3, &l, &err), FERRY_EOF, &err);
	assert_int_equal(l.n, 1);
	expect_change(&l, 0, "x", 4, 0, NULL);
	chg_free(&l);
	/* delete, re-put, delete again in one bulk: one tombstone */
	ferry_bulk *b;
	assert_int_equal(ferry_bulk_new(t->db, &b), 0);
	assert_int_equal(ferry_bulk_add(b, FERRY_OP_DELETE, "rp", "x", 1, NULL,
					0), 0);
	assert_int_equal(ferry_bulk_add(b, FERRY_OP_INDEX, "rp", "x", 1, "{}",
					2), 0);
	assert_int_equal(ferry_bulk_add(b, FERRY_OP_DELETE, "rp", "x", 1, NULL,
					0), 0);
	T_OK(ferry_bulk_commit(b, &err), &err);
	ferry_bulk_free(b);
	T_CODE(read_changes(t->db, "rp", 0, &l, &err), FERRY_EOF, &err);
	assert_int_equal(l.n, 2);
	expect_change(&l, 1, "x", 7, 1, NULL);
	chg_free(&l);
	assert_int_equal(t_info(t->db, "rp").docs, 1);
}

/* Putting a body identical to the stored one writes nothing: the seq
 * stays, the change log does not grow (so a re-import of unchanged data
 * costs catch-up and incremental snapshots nothing). A changed body, or a
 * put after a delete, is a real write. */
static void test_identical_put_is_noop(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	ferry_write_result r;
	chglist l;
	t_create(t->db, "np");
	t_put(t->db, "np", "a", "{\"v\":1}");  /* 1 */
	t_put(t->db, "np", "b", "{}");         /* 2 */
	T_OK(ferry_doc_put(t->db, "np", "a", 1, "{\"v\":1}", 7, FERRY_OP_INDEX,
			   &r, &err), &err);
	assert_int_equal(r.noop, 1);
	assert_int_equal(r.created, 0);
	assert_int_equal(r.seq, 1);
	T_CODE(read_changes(t->db, "np", 2, &l, &err), FERRY_EOF, &err);
	assert_int_equal(l.n, 0);
	chg_free(&l);
	assert_int_equal(t_info(t->db, "np").seq, 2);
	/* in a bulk too */
	ferry_bulk *b;
	assert_int_equal(ferry_bulk_new(t->db, &b), 0);
	assert_int_equal(ferry_bulk_add(b, FERRY_OP_INDEX, "np", "b", 1, "{}",
					2), 0);
	T_OK(ferry_bulk_commit(b, &err), &err);
	assert_int_equal(ferry_bulk_result(b, 0, &r, NULL), 0);
	assert_int_equal(r.noop, 1);
	ferry_bulk_free(b);
	/* same length, other bytes: a write */
	T_OK(ferry_doc_put(t->db, "np", "a", 1, "{\"v\":2}", 7, FERRY_OP_INDEX,
			   &r, &err), &err);
	assert_int_equal(r.noop, 0);
	assert_int_equal(r.seq, 3);
	/* after a delete the same body is a new document */
	t_del(t->db, "np", "b");               /* 4 */
	T_OK(ferry_doc_put(t->db, "np", "b", 1, "{}", 2, FERRY_OP_INDEX, &r,
			   &err), &err);
	assert_int_equal(r.noop, 0);
	assert_int_equal(r.created, 1);
	assert_int_equal(r.seq, 5);
	assert_int_equal(t_info(t->db, "np").docs, 2);
}

/* A reader whose index is deleted under it says so. */
static void test_reader_sees_index_delete(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	ferry_changes *c;
	ferry_scan *s;
	ferry_doc d;
	t_create(t->db, "gone");
	t_put(t->db, "gone", "a", "{}");
	T_OK(ferry_changes_open(t->db, "gone", 0, &c, NULL, &err), &err);
	T_OK(ferry_scan_open(t->db, "gone", NULL, 0, &s, &err), &err);
	T_OK(ferry_index_delete(t->db, "v0_1_0.default.gone", 0, &err), &err);
	/* and a new index of the same name must not be read instead */
	t_create(t->db, "gone");
	t_put(t->db, "gone", "b", "{}");
	T_CODE(ferry_changes_next(c, &d, &err), FERRY_ENOTFOUND, &err);
	T_CONTAINS(err.msg, "deleted");
	T_CODE(ferry_scan_next(s, &d, &err), FERRY_ENOTFOUND, &err);
	ferry_changes_free(c);
	ferry_scan_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, t_state_teardown)
		T(test_changes_latest_once),
		T(test_changes_since_model),
		T(test_changes_upto_snapshot),
		T(test_catch_up_copy),
		T(test_tombstone_horizon),
		T(test_tombstone_bound_live_docs),
		T(test_reput_removes_tombstone),
		T(test_reader_sees_index_delete),
		T(test_identical_put_is_noop),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
