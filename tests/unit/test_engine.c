/*
 * test_engine.c - the document engine through the public API (ferry.h)
 * on real LMDB files in temporary directories: open/init/close, documents
 * (put/get/delete, op_type create, invalid bodies, ids generated and
 * given), sequence numbers, bulk, scans (order, resume, exactly-once under
 * concurrent writes), counters, many indices, deleting a big index and
 * reusing its pages, threads on one handle, two processes on one
 * directory, and read-only handles.
 *
 * Timings are printed ("# ..."), never asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "testutil.h"

#include "core/catalog.h"
#include "core/db.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static int setup(void **state)
{
	return t_state_setup(state, "engine");
}

/* Byte order of ids as LMDB keys: memcmp, then the shorter first. */
static int id_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	int r = memcmp(a, b, al < bl ? al : bl);
	if (r)
		return r;
	return al < bl ? -1 : al > bl;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Puts n docs id_fmt % i, body {"n":i,"s":"<word>"} through bulks of
 * `batch`. */
static void bulk_fill_word(ferry_db *db, const char *index,
			   const char *id_fmt, size_t from, size_t n,
			   size_t batch, const char *word)
{
	ferry_err err = {0, ""};
	ferry_bulk *b;
	char id[64], body[64];
	assert_int_equal(ferry_bulk_new(db, &b), 0);
	for (size_t i = from; i < from + n;) {
		ferry_bulk_clear(b);
		size_t end = i + batch < from + n ? i + batch : from + n;
		for (; i < end; i++) {
			int il = snprintf(id, sizeof id, id_fmt, i);
			int bl = snprintf(body, sizeof body,
					  "{\"n\":%zu,\"s\":\"%s\"}", i, word);
			assert_int_equal(ferry_bulk_add(b, FERRY_OP_INDEX, index,
						id, (size_t)il, body, (size_t)bl), 0);
		}
		T_OK(ferry_bulk_commit(b, &err), &err);
		for (size_t k = 0; k < ferry_bulk_count(b); k++) {
			ferry_err oe = {0, ""};
			T_OK(ferry_bulk_result(b, k, NULL, &oe), &oe);
		}
	}
	ferry_bulk_free(b);
}

static void bulk_fill(ferry_db *db, const char *index, const char *id_fmt,
		      size_t from, size_t n, size_t batch)
{
	bulk_fill_word(db, index, id_fmt, from, n, batch, "small");
}

/* ---- open, init, close -------------------------------------------------- */

static void test_open_init_close(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	ferry_status st;
	ferry_db *db = (ferry_db *)&err; /* sentinel: must stay untouched */
	char path[600];

	/* Missing dir without FERRY_OPEN_CREATE. */
	snprintf(path, sizeof path, "%s/missing", t->dir);
	T_CODE(ferry_db_open(path, 0, &db, &err), FERRY_ENOTINIT, &err);
	assert_ptr_equal(db, (ferry_db *)&err);
	assert_true(err.msg[0] != 0);
	T_CODE(ferry_db_open("", FERRY_OPEN_CREATE, &db, &err), FERRY_EINVAL,
	       &err);
	/* A regular file is not a data directory. */
	snprintf(path, sizeof path, "%s/afile", t->dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	int rc = ferry_db_open(path, FERRY_OPEN_CREATE, &db, &err);
	assert_int_not_equal(rc, 0);
	assert_ptr_equal(db, (ferry_db *)&err);

	/* The fixture initialised the dir with 0.1.0. */
	T_OK(ferry_db_status(t->db, &st, &err), &err);
	assert_string_equal(st.release, "0.1.0");
	assert_string_equal(st.data_version, "0.1.0");
	assert_int_equal(st.data_parts, 3);
	assert_int_equal(st.index_budget, 1000);
	assert_int_equal(st.indices, 0);
	assert_int_equal(st.tenants, 1);
	assert_int_equal(st.docs, 0);
	assert_true(st.map_size > 0);
	assert_true(st.file_size > 0 && st.file_size <= st.map_size);

	/* Twice: EEXISTS and nothing changes. */
	err.msg[0] = 0;
	T_CODE(ferry_db_init(t->db, "0.2.0", 0, &err), FERRY_EEXISTS, &err);
	assert_int_equal(err.code, FERRY_EEXISTS);
	T_CONTAINS(err.msg, "0.1.0");
	T_OK(ferry_db_status(t->db, &st, &err), &err);
	assert_string_equal(st.release, "0.1.0");

	/* Close and reopen without CREATE: the catalog persisted. */
	t_create(t->db, "docs");
	t_put(t->db, "docs", "a", "{\"x\":1}");
	ferry_db_close(t->db);
	t->db = NULL;
	ferry_db_close(NULL);
	T_OK(ferry_db_open(t->dir, 0, &t->db, &err), &err);
	T_OK(ferry_db_status(t->db, &st, &err), &err);
	assert_string_equal(st.release, "0.1.0");
	assert_int_equal(st.indices, 1);
	assert_int_equal(st.docs, 1);
	char *body = t_get(t->db, "docs", "a", NULL);
	assert_non_null(body);
	assert_string_equal(body, "{\"x\":1}");
	ferry_free(body);
	T_OK(ferry_db_sync(t->db, &err), &err);

	/* Bad release / data_parts on a fresh dir write nothing. */
	tdb u;
	t_setup(&u, "engine2", NULL);
	T_CODE(ferry_db_init(u.db, "not-a-version", 0, &err), FERRY_EVERSION,
	       &err);
	T_CODE(ferry_db_init(u.db, "1.0.0", 5, &err), FERRY_EINVAL, &err);
	T_CODE(ferry_db_status(u.db, &st, &err), FERRY_ENOTINIT, &err);
	T_OK(ferry_db_init(u.db, "1.2", 2, &err), &err);
	T_OK(ferry_db_status(u.db, &st, &err), &err);
	assert_int_equal(st.data_parts, 2);
	assert_string_equal(st.data_version, "1.2");
	t_teardown(&u);

	/* ferry_strerror is total. */
	for (int c = -3; c < FERRY_ECODE_END + 3; c++)
		assert_non_null(ferry_strerror(c));
	assert_string_not_equal(ferry_strerror(FERRY_EJSON),
				ferry_strerror(FERRY_ENAME));
}

/* Every call on a data dir that was never initialised says ENOTINIT. */
static void test_ops_before_init(void **state)
{
	(void)state;
	tdb u;
	ferry_err err = {0, ""};
	char bad[2048] = "";
	size_t bl = 0;
	t_setup(&u, "noinit", NULL);
	ferry_db *db = u.db;

#define EXPECT_NOTINIT(expr)                                                 \
	do {                                                                 \
		err.msg[0] = 0;                                              \
		int rc_ = (expr);                                            \
		if (rc_ != FERRY_ENOTINIT && bl < sizeof bad)                \
			bl += (size_t)snprintf(bad + bl, sizeof bad - bl,    \
				"\n#   %.60s -> %s", #expr,                  \
				ferry_strerror(rc_));                        \
	} while (0)

	ferry_write_result wr;
	ferry_index_info info, *list = NULL;
	ferry_version_info *vl = NULL;
	ferry_status st;
	ferry_scan *sc = NULL;
	ferry_changes *ch = NULL;
	char **tv = NULL, *body = NULL, phys[FERRY_NAME_MAX + 1];
	size_t n = 0, len = 0;
	uint64_t cnt, upto;
	ferry_alias_op aop = {FERRY_ALIAS_ADD, "default.x", "docs"};

	EXPECT_NOTINIT(ferry_index_create(db, "docs", NULL, 0, &err));
	EXPECT_NOTINIT(ferry_index_get(db, "docs", &info, &err));
	EXPECT_NOTINIT(ferry_index_list(db, NULL, &list, &n, &err));
	EXPECT_NOTINIT(ferry_index_delete(db, "docs", 1, &err));
	EXPECT_NOTINIT(ferry_doc_put(db, "docs", "a", 1, "{}", 2,
				     FERRY_OP_INDEX, &wr, &err));
	EXPECT_NOTINIT(ferry_doc_get(db, "docs", "a", 1, &body, &len, NULL,
				     &err));
	EXPECT_NOTINIT(ferry_doc_delete(db, "docs", "a", 1, &wr, &err));
	EXPECT_NOTINIT(ferry_doc_count(db, "docs", &cnt, &err));
	EXPECT_NOTINIT(ferry_scan_open(db, "docs", NULL, 0, &sc, &err));
	EXPECT_NOTINIT(ferry_changes_open(db, "docs", 0, &ch, &upto, &err));
	EXPECT_NOTINIT(ferry_alias_update(db, &aop, 1, &err));
	EXPECT_NOTINIT(ferry_alias_resolve(db, "docs", phys, &err));
	EXPECT_NOTINIT(ferry_version_list(db, &vl, &n, &err));
	EXPECT_NOTINIT(ferry_release_record(db, "0.1.1", &err));
	EXPECT_NOTINIT(ferry_tenant_add(db, "acme", &err));
	EXPECT_NOTINIT(ferry_tenant_list(db, &tv, &err));
	EXPECT_NOTINIT(ferry_db_status(db, &st, &err));
#undef EXPECT_NOTINIT
	/* Release whatever a wrongly successful call returned. */
	ferry_free(list);
	ferry_free(body);
	ferry_version_list_free(vl, vl ? n : 0);
	ferry_strv_free(tv);
	ferry_scan_free(sc);
	ferry_changes_free(ch);
	t_teardown(&u);
	if (bl) {
		printf("# calls before `ferry init` that did not return "
		       "FERRY_ENOTINIT:%s\n", bad);
		fflush(stdout);
		fail_msg("some calls before init did not return FERRY_ENOTINIT "
			 "(listed above)");
	}
}

/* ---- documents ---------------------------------------------------------- */

static void test_put_get_delete(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	ferry_write_result r, keep;
	ferry_index_info info;
	t_create(t->db, "docs");

	T_OK(ferry_doc_put(t->db, "docs", "a", 1, "{\"v\":1}", 7,
			   FERRY_OP_INDEX, &r, &err), &err);
	assert_string_equal(r.id, "a");
	assert_int_equal(r.seq, 1);
	assert_int_equal(r.created, 1);

	/* The same doc under its logical, alias and physical names. */
	const char *names[] = {"docs", "default.docs", "v0_1_0.default.docs"};
	for (size_t i = 0; i < N_ELEMS(names); i++) {
		uint64_t seq = 0;
		char *b = t_get(t->db, names[i], "a", &seq);
		assert_non_null(b);
		assert_string_equal(b, "{\"v\":1}");
		assert_int_equal(seq, 1);
		ferry_free(b);
	}

	/* op index replaces. */
	T_OK(ferry_doc_put(t->db, "default.docs", "a", 1, "{\"v\":2}", 7,
			   FERRY_OP_INDEX, &r, &err), &err);
	assert_int_equal(r.seq, 2);
	assert_int_equal(r.created, 0);

	/* op create on an existing id: EEXISTS, nothing changed, out
	 * untouched. */
	memset(&keep, 0x5a, sizeof keep);
	r = keep;
	err.msg[0] = 0;
	T_CODE(ferry_doc_put(t->db, "docs", "a", 1, "{\"v\":3}", 7,
			     FERRY_OP_CREATE, &r, &err), FERRY_EEXISTS, &err);
	assert_int_equal(err.code, FERRY_EEXISTS);
	T_CONTAINS(err.msg, "a");
	assert_memory_equal(&r, &keep, sizeof r);
	uint64_t seq;
	char *b = t_get(t->db, "docs", "a", &seq);
	assert_string_equal(b, "{\"v\":2}");
	assert_int_equal(seq, 2);
	ferry_free(b);
	info = t_info(t->db, "docs");
	assert_int_equal(info.docs, 1);
	assert_int_equal(info.seq, 2);

	/* op create on a new id. */
	T_OK(ferry_doc_put(t->db, "docs", "b", 1, "{}", 2, FERRY_OP_CREATE, &r,
			   &err), &err);
	assert_int_equal(r.created, 1);
	assert_int_equal(r.seq, 3);

	/* delete. */
	T_OK(ferry_doc_delete(t->db, "docs", "a", 1, &r, &err), &err);
	assert_string_equal(r.id, "a");
	assert_int_equal(r.seq, 4);
	assert_int_equal(r.created, 0);
	assert_null(t_get(t->db, "docs", "a", NULL));
	char *sentinel = (char *)&keep;
	b = sentinel;
	size_t blen = 77;
	T_CODE(ferry_doc_get(t->db, "docs", "a", 1, &b, &blen, NULL, &err),
	       FERRY_ENOTFOUND, &err);
	assert_ptr_equal(b, sentinel);
	assert_int_equal(blen, 77);

	/* delete of a missing id: ENOTFOUND, no seq used. */
	r = keep;
	T_CODE(ferry_doc_delete(t->db, "docs", "a", 1, &r, &err),
	       FERRY_ENOTFOUND, &err);
	T_CODE(ferry_doc_delete(t->db, "docs", "never", 5, &r, &err),
	       FERRY_ENOTFOUND, &err);
	assert_memory_equal(&r, &keep, sizeof r);
	info = t_info(t->db, "docs");
	assert_int_equal(info.seq, 4);
	assert_int_equal(info.docs, 1);

	/* create after delete is a new document. */
	T_OK(ferry_doc_put(t->db, "docs", "a", 1, "{\"v\":5}", 7,
			   FERRY_OP_CREATE, &r, &err), &err);
	assert_int_equal(r.created, 1);
	assert_int_equal(r.seq, 5);

	/* Bad op, unknown index, bad index name. */
	T_CODE(ferry_doc_put(t->db, "docs", "c", 1, "{}", 2, FERRY_OP_DELETE,
			     &r, &err), FERRY_EINVAL, &err);
	T_CODE(ferry_doc_put(t->db, "nosuch", "c", 1, "{}", 2, FERRY_OP_INDEX,
			     &r, &err), FERRY_ENOTFOUND, &err);
	T_CODE(ferry_doc_put(t->db, "No Such", "c", 1, "{}", 2,
			     FERRY_OP_INDEX, &r, &err), FERRY_ENAME, &err);
	T_CODE(ferry_doc_get(t->db, "nosuch", "a", 1, &b, &blen, NULL, &err),
	       FERRY_ENOTFOUND, &err);

	uint64_t cnt = 0;
	T_OK(ferry_doc_count(t->db, "docs", &cnt, &err), &err);
	assert_int_equal(cnt, 2);
	info = t_info(t->db, "docs");
	assert_int_equal(info.seq, 5);
}

static void test_invalid_json(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	ferry_write_result r;
	t_create(t->db, "docs");
	t_put(t->db, "docs", "keep", "{\"ok\":true}");
	static const struct {
		const char *what, *body;
		size_t len;
		long off; /* expected byte offset, -1: any */
	} cases[] = {
		{"truncated", "{\"a\":1", 6, 6},
		{"truncated in string", "{\"a\":\"xy", 8, 8},
		{"trailing garbage", "{\"a\":1} x", 9, 8},
		{"two objects", "{\"a\":1}{\"b\":2}", 14, 7},
		{"array", "[1,2]", 5, 0},
		{"string", "\"s\"", 3, 0},
		{"number", "42", 2, 0},
		{"empty", "", 0, 0},
		{"spaces", "   ", 3, 3},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", 9, 6},
		{"overlong UTF-8", "{\"a\":\"\xc0\x80\"}", 10, 6},
		{"UTF-8 surrogate", "{\"a\":\"\xed\xa0\x80\"}", 11, 6},
		{"bad UTF-8 in key", "{\"\xfe\":1}", 7, 2},
		{"trailing comma", "{\"a\":1,}", 8, 7},
		{"missing colon", "{\"a\" 1}", 7, 5},
		{"bad literal", "{\"a\":tru}", 9, -1},
		{"duplicate key", "{\"a\":1,\"a\":2}", 13, -1},
		{"control char", "{\"a\":\"\x01\"}", 9, 6},
		{"NUL byte", "{\"a\":1}\0", 8, 7},
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		for (int op = FERRY_OP_INDEX; op <= FERRY_OP_CREATE; op++) {
			err.msg[0] = 0;
			int rc = ferry_doc_put(t->db, "docs", "x", 1,
					       cases[i].body, cases[i].len,
					       (enum ferry_op)op, &r, &err);
			if (rc != FERRY_EJSON)
				fail_msg("%s: got %s (%s), want FERRY_EJSON",
					 cases[i].what, ferry_strerror(rc),
					 err.msg);
			const char *p = strstr(err.msg, "byte ");
			if (!p)
				fail_msg("%s: no byte offset in '%s'",
					 cases[i].what, err.msg);
			char *end;
			long off = strtol(p + 5, &end, 10);
			if (end == p + 5 || off < 0 || (size_t)off > cases[i].len)
				fail_msg("%s: bad offset in '%s'", cases[i].what,
					 err.msg);
			if (cases[i].off >= 0 && off != cases[i].off)
				fail_msg("%s: offset %ld, expected %ld: %s",
					 cases[i].what, off, cases[i].off,
					 err.msg);
		}
	}
	/* NULL body. */
	T_CODE(ferry_doc_put(t->db, "docs", "x", 1, NULL, 0, FERRY_OP_INDEX, &r,
			     &err), FERRY_EJSON, &err);
	/* A bad body over an existing doc leaves it alone. */
	T_CODE(ferry_doc_put(t->db, "docs", "keep", 4, "{", 1, FERRY_OP_INDEX,
			     &r, &err), FERRY_EJSON, &err);
	ferry_index_info info = t_info(t->db, "docs");
	assert_int_equal(info.docs, 1);
	assert_int_equal(info.seq, 1);
	assert_null(t_get(t->db, "docs", "x", NULL));
	char *b = t_get(t->db, "docs", "keep", NULL);
	assert_string_equal(b, "{\"ok\":true}");
	ferry_free(b);
	/* Over FERRY_DOC_MAX: ELIMIT, nothing written. */
	char *huge = malloc(FERRY_DOC_MAX + 1);
	assert_non_null(huge);
	memset(huge, ' ', FERRY_DOC_MAX + 1);
	huge[0] = '{';
	huge[FERRY_DOC_MAX] = '}';
	T_CODE(ferry_doc_put(t->db, "docs", "huge", 4, huge, FERRY_DOC_MAX + 1,
			     FERRY_OP_INDEX, &r, &err), FERRY_ELIMIT, &err);
	free(huge);
	assert_null(t_get(t->db, "docs", "huge", NULL));
	/* Valid edge cases are accepted. */
	t_put(t->db, "docs", "e1", "{}");
	t_put(t->db, "docs", "e2", " {\"a\":[1,{\"b\":null}],\"c\":\"\\u00e9\xc3\xa9\"} ");
	info = t_info(t->db, "docs");
	assert_int_equal(info.docs, 3);
}

static void test_generated_ids(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	enum { NB = 100000, NP = 2000 };
	static const char alphabet[] =
		"-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
	t_create(t->db, "gen");
	char (*ids)[21] = calloc(NB + NP, 21);
	assert_non_null(ids);

	/* 100k through one bulk (ids are generated in add order). */
	ferry_bulk *b;
	assert_int_equal(ferry_bulk_new(t->db, &b), 0);
	double t0 = t_now_ms();
	for (int i = 0; i < NB; i++)
		assert_int_equal(ferry_bulk_add(b, FERRY_OP_INDEX, "gen", NULL, 0,
						"{}", 2), 0);
	T_OK(ferry_bulk_commit(b, &err), &err);
	for (int i = 0; i < NB; i++) {
		ferry_write_result r;
		ferry_err oe = {0, ""};
		T_OK(ferry_bulk_result(b, (size_t)i, &r, &oe), &oe);
		assert_int_equal(strlen(r.id), 20);
		assert_int_equal(r.created, 1);
		memcpy(ids[i], r.id, 21);
	}
	ferry_bulk_free(b);
	/* 2k through single puts. */
	for (int i = NB; i < NB + NP; i++) {
		ferry_write_result r;
		T_OK(ferry_doc_put(t->db, "gen", NULL, 0, "{}", 2,
				   FERRY_OP_INDEX, &r, &err), &err);
		assert_int_equal(strlen(r.id), 20);
		assert_int_equal(r.created, 1);
		memcpy(ids[i], r.id, 21);
	}
	printf("# %d generated ids (bulk + single puts) in %.0f ms\n", NB + NP,
	       t_now_ms() - t0);
	for (int i = 0; i < NB + NP; i++) {
		if (strspn(ids[i], alphabet) != 20)
			fail_msg("id %d '%s' has a character outside the id "
				 "alphabet", i, ids[i]);
		if (i && strcmp(ids[i - 1], ids[i]) >= 0)
			fail_msg("generated ids not increasing at %d: '%s' then "
				 "'%s'", i, ids[i - 1], ids[i]);
	}
	/* Increasing implies unique; the index agrees. */
	ferry_index_info info = t_info(t->db, "gen");
	assert_int_equal(info.docs, NB + NP);
	/* The scan returns them in generation order. */
	ferry_scan *s;
	ferry_doc d;
	int n = 0, rc;
	T_OK(ferry_scan_open(t->db, "gen", NULL, 0, &s, &err), &err);
	while ((rc = ferry_scan_next(s, &d, &err)) == 0) {
		assert_true(n < NB + NP);
		if (d.idlen != 20 || memcmp(d.id, ids[n], 20))
			fail_msg("scan position %d: '%.*s' != '%s'", n,
				 (int)d.idlen, d.id, ids[n]);
		n++;
	}
	ferry_scan_free(s);
	assert_int_equal(rc, FERRY_EOF);
	assert_int_equal(n, NB + NP);
	free(ids);
}

/* Ids of 1 to FERRY_ID_MAX bytes work, longer ones are refused, and a
 * long id never fails a whole bulk. */
static void test_id_lengths(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	ferry_write_result r;
	char id[FERRY_ID_MAX + 8], bad[2048] = "";
	size_t bl = 0;
	t_create(t->db, "ids");

	/* 1 byte. */
	T_OK(ferry_doc_put(t->db, "ids", "z", 1, "{}", 2, FERRY_OP_INDEX, &r,
			   &err), &err);
	assert_string_equal(r.id, "z");
	/* Every length near the limit, single puts: put, get, delete. */
	for (size_t len = FERRY_ID_MAX - 12; len <= FERRY_ID_MAX; len++) {
		memset(id, 'k', len);
		int rc = ferry_doc_put(t->db, "ids", id, len, "{\"n\":1}", 7,
				       FERRY_OP_INDEX, &r, &err);
		if (rc) {
			bl += (size_t)snprintf(bad + bl, sizeof bad - bl,
				"\n#   put of a %zu-byte id: %s: %.80s", len,
				ferry_strerror(rc), err.msg);
			continue;
		}
		assert_int_equal(strlen(r.id), len);
		assert_memory_equal(r.id, id, len);
		char *body = NULL;
		size_t blen;
		T_OK(ferry_doc_get(t->db, "ids", id, len, &body, &blen, NULL,
				   &err), &err);
		assert_string_equal(body, "{\"n\":1}");
		ferry_free(body);
		T_OK(ferry_doc_delete(t->db, "ids", id, len, &r, &err), &err);
	}
	/* FERRY_ID_MAX bytes ending in 4-byte UTF-8 characters. */
	char utf[FERRY_ID_MAX + 8];
	size_t ul = FERRY_ID_MAX % 4;
	memset(utf, 'u', ul);
	while (ul < FERRY_ID_MAX) {
		memcpy(utf + ul, "\xf0\x9f\x98\x80", 4);
		ul += 4;
	}
	int rc = ferry_doc_put(t->db, "ids", utf, ul, "{}", 2, FERRY_OP_INDEX,
			       &r, &err);
	if (rc)
		bl += (size_t)snprintf(bad + bl, sizeof bad - bl,
			"\n#   put of a %zu-byte UTF-8 id: %s", ul,
			ferry_strerror(rc));
	else
		T_OK(ferry_doc_delete(t->db, "ids", utf, ul, &r, &err), &err);
	/* A bulk with a FERRY_ID_MAX-byte id and a normal op: the bulk
	 * commits and the normal op is applied whatever happens to the
	 * long one. */
	ferry_bulk *b;
	assert_int_equal(ferry_bulk_new(t->db, &b), 0);
	memset(id, 'q', FERRY_ID_MAX);
	assert_int_equal(ferry_bulk_add(b, FERRY_OP_INDEX, "ids", "normal", 6,
					"{}", 2), 0);
	assert_int_equal(ferry_bulk_add(b, FERRY_OP_INDEX, "ids", id,
					FERRY_ID_MAX, "{}", 2), 0);
	rc = ferry_bulk_commit(b, &err);
	if (rc) {
		bl += (size_t)snprintf(bad + bl, sizeof bad - bl,
			"\n#   bulk with a %d-byte id: commit failed as a whole: "
			"%s: %.80s", FERRY_ID_MAX, ferry_strerror(rc), err.msg);
	} else {
		T_OK(ferry_bulk_result(b, 0, &r, &err), &err);
		rc = ferry_bulk_result(b, 1, &r, &err);
		if (rc)
			bl += (size_t)snprintf(bad + bl, sizeof bad - bl,
				"\n#   bulk op with a %d-byte id: %s",
				FERRY_ID_MAX, ferry_strerror(rc));
	}
	ferry_bulk_free(b);

	/* FERRY_ID_MAX + 1 bytes: refused, nothing written. */
	ferry_index_info before = t_info(t->db, "ids");
	const size_t over = FERRY_ID_MAX + 1;
	memset(id, 'k', over);
	T_CODE(ferry_doc_put(t->db, "ids", id, over, "{}", 2, FERRY_OP_INDEX,
			     &r, &err), FERRY_ENAME, &err);
	T_CODE(ferry_doc_put(t->db, "ids", id, over, "{}", 2, FERRY_OP_CREATE,
			     &r, &err), FERRY_ENAME, &err);
	T_CODE(ferry_doc_delete(t->db, "ids", id, over, &r, &err), FERRY_ENAME,
	       &err);
	memcpy(id + over - 2, "\xc3\xa9", 2); /* ends in a 2-byte char */
	T_CODE(ferry_doc_put(t->db, "ids", id, over, "{}", 2, FERRY_OP_INDEX,
			     &r, &err), FERRY_ENAME, &err);
	assert_int_equal(ferry_bulk_new(t->db, &b), 0);
	assert_int_equal(ferry_bulk_add(b, FERRY_OP_INDEX, "ids", id, over,
					"{}", 2), 0);
	T_OK(ferry_bulk_commit(b, &err), &err);
	assert_int_equal(ferry_bulk_result(b, 0, NULL, NULL), FERRY_ENAME);
	ferry_bulk_free(b);
	ferry_index_info after = t_info(t->db, "ids");
	assert_int_equal(after.docs, before.docs);
	assert_int_equal(after.seq, before.seq);
	if (bl) {
		printf("# document ids up to FERRY_ID_MAX (%d) bytes that "
		       "failed:%s\n", FERRY_ID_MAX, bad);
		fflush(stdout);
		fail_msg("ids within FERRY_ID_MAX were refused (listed above)");
	}
}

static void test_id_bytes(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	ferry_write_result r;
	t_create(t->db, "ids");
	t_put(t->db, "ids", "z", "{}");
	/* Not UTF-8, NUL inside, surrogate, empty. */
	T_CODE(ferry_doc_put(t->db, "ids", "a\xff", 2, "{}", 2, FERRY_OP_INDEX,
			     &r, &err), FERRY_ENAME, &err);
	T_CODE(ferry_doc_put(t->db, "ids", "a\0b", 3, "{}", 2, FERRY_OP_INDEX,
			     &r, &err), FERRY_ENAME, &err);
	T_CODE(ferry_doc_put(t->db, "ids", "\xed\xa0\x80", 3, "{}", 2,
			     FERRY_OP_INDEX, &r, &err), FERRY_ENAME, &err);
	T_CODE(ferry_doc_delete(t->db, "ids", "", 0, &r, &err), FERRY_ENAME,
	       &err);
	assert_int_equal(t_info(t->db, "ids").docs, 1);
	assert_int_equal(t_info(t->db, "ids").seq, 1);

	/* Ids with UTF-8 and with bytes that mean something in paths and
	 * names; each reads back and the scan returns them in byte order. */
	static const char *odd[] = {
		"caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80",
		"a/b", "/", "//x//", "a.b", ".", "..", "../etc/passwd", "a b",
		"?#&%=+", "\\", "\"quoted\"", "a\tb", "-", "_", "*",
		"{\"json\":1}", "\x7f", "a,b",
	};
	for (size_t i = 0; i < N_ELEMS(odd); i++) {
		char bodybuf[64];
		snprintf(bodybuf, sizeof bodybuf, "{\"i\":%zu}", i);
		T_OK(ferry_doc_put(t->db, "ids", odd[i], strlen(odd[i]), bodybuf,
				   strlen(bodybuf), FERRY_OP_CREATE, &r, &err),
		     &err);
		assert_string_equal(r.id, odd[i]);
	}
	for (size_t i = 0; i < N_ELEMS(odd); i++) {
		char bodybuf[64];
		snprintf(bodybuf, sizeof bodybuf, "{\"i\":%zu}", i);
		char *got = t_get(t->db, "ids", odd[i], NULL);
		if (!got)
			fail_msg("id '%s' not found", odd[i]);
		assert_string_equal(got, bodybuf);
		ferry_free(got);
	}
	ferry_scan *s;
	ferry_doc d;
	char prev[600];
	size_t prevlen = 0, n = 0;
	int rc;
	T_OK(ferry_scan_open(t->db, "ids", NULL, 0, &s, &err), &err);
	while ((rc = ferry_scan_next(s, &d, &err)) == 0) {
		if (n && id_cmp(prev, prevlen, d.id, d.idlen) >= 0)
			fail_msg("scan out of order at %zu", n);
		memcpy(prev, d.id, d.idlen);
		prevlen = d.idlen;
		n++;
	}
	ferry_scan_free(s);
	assert_int_equal(rc, FERRY_EOF);
	assert_int_equal(n, 1 + N_ELEMS(odd));
	/* Delete them again by the same bytes. */
	for (size_t i = 0; i < N_ELEMS(odd); i++)
		T_OK(ferry_doc_delete(t->db, "ids", odd[i], strlen(odd[i]), &r,
				      &err), &err);
	assert_int_equal(t_info(t->db, "ids").docs, 1);
}

static void test_seq_per_index(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	ferry_write_result r;
	t_create(t->db, "sa");
	t_create(t->db, "sb");
	uint64_t last_a = 0, last_b = 0;
	for (int i = 0; i < 300; i++) {
		char id[32], body[32];
		snprintf(id, sizeof id, "d%d", i % 40);
		snprintf(body, sizeof body, "{\"i\":%d}", i); /* never identical:
						an identical put is a noop */
		uint64_t s = t_put(t->db, "sa", id, body);
		assert_true(s > last_a);
		assert_int_equal(s, last_a + 1);
		last_a = s;
		if (i % 3 == 0) {
			s = t_put(t->db, "sb", id, body);
			assert_int_equal(s, last_b + 1);
			last_b = s;
		}
		if (i % 7 == 0) {
			/* a delete takes a seq, a failed op does not */
			s = t_del(t->db, "sa", id);
			assert_int_equal(s, last_a + 1);
			last_a = s;
			T_CODE(ferry_doc_delete(t->db, "sa", id, strlen(id), &r,
						&err), FERRY_ENOTFOUND, &err);
		}
	}
	assert_int_equal(t_info(t->db, "sa").seq, last_a);
	assert_int_equal(t_info(t->db, "sb").seq, last_b);
	assert_int_equal(last_b, 100);

	/* A bulk over both indices: per index, the seqs it used are the
	 * next ones, all distinct. */
	ferry_bulk *b;
	assert_int_equal(ferry_bulk_new(t->db, &b), 0);
	for (int i = 0; i < 50; i++) {
		char id[32];
		snprintf(id, sizeof id, "z%d", 49 - i);
		assert_int_equal(ferry_bulk_add(b, FERRY_OP_INDEX,
			i % 2 ? "sa" : "sb", id, strlen(id), "{}", 2), 0);
	}
	T_OK(ferry_bulk_commit(b, &err), &err);
	int seen_a[26] = {0}, seen_b[26] = {0};
	for (size_t i = 0; i < 50; i++) {
		T_OK(ferry_bulk_result(b, i, &r, &err), &err);
		uint64_t base = i % 2 ? last_a : last_b;
		int *seen = i % 2 ? seen_a : seen_b;
		assert_true(r.seq > base && r.seq <= base + 25);
		assert_int_equal(seen[r.seq - base], 0);
		seen[r.seq - base] = 1;
	}
	ferry_bulk_free(b);
	assert_int_equal(t_info(t->db, "sa").seq, last_a + 25);
	assert_int_equal(t_info(t->db, "sb").seq, last_b + 25);
}

/* ---- bulk --------------------------------------------------------------- */

static void test_bulk_mixed(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	ferry_write_result r;
	t_create(t->db, "b1");
	t_create(t->db, "b2");
	t_put(t->db, "b1", "x1", "{\"v\":1}");
	t_put(t->db, "b1", "x2", "{\"v\":1}");
	ferry_bulk *b;
	assert_int_equal(ferry_bulk_new(t->db, &b), 0);
	static const struct {
		enum ferry_op op;
		const char *index, *id, *body;
		int code, created;
	} ops[] = {
		{FERRY_OP_INDEX, "b1", "n1", "{\"n\":1}", 0, 1},
		{FERRY_OP_CREATE, "b1", "x1", "{\"v\":9}", FERRY_EEXISTS, 0},
		{FERRY_OP_DELETE, "b1", "x2", NULL, 0, 0},
		{FERRY_OP_DELETE, "b1", "missing", NULL, FERRY_ENOTFOUND, 0},
		{FERRY_OP_INDEX, "nosuch", "q", "{}", FERRY_ENOTFOUND, 0},
		{FERRY_OP_INDEX, "b1", "bad", "{oops", FERRY_EJSON, 0},
		{FERRY_OP_CREATE, "b2", "c1", "{\"c\":1}", 0, 1},
		{FERRY_OP_INDEX, "b1", "x1", "{\"v\":2}", 0, 0},
		{FERRY_OP_INDEX, "default.b1", NULL, "{\"gen\":1}", 0, 1},
		{FERRY_OP_DELETE, "b1", NULL, NULL, FERRY_ENAME, 0},
		{FERRY_OP_INDEX, "Bad Name", "q", "{}", FERRY_ENAME, 0},
		{FERRY_OP_INDEX, "b1", "nobody", NULL, FERRY_EJSON, 0},
		{FERRY_OP_INDEX, "v0_1_0.default.b2", "c2", "{\"c\":2}", 0, 1},
		/* same id, in add order: put v1, put v2, delete, put v3 */
		{FERRY_OP_INDEX, "b1", "s", "{\"s\":1}", 0, 1},
		{FERRY_OP_INDEX, "b1", "s", "{\"s\":2}", 0, 0},
		{FERRY_OP_DELETE, "b1", "s", NULL, 0, 0},
		{FERRY_OP_INDEX, "b1", "s", "{\"s\":3}", 0, 1},
		/* create twice, delete twice */
		{FERRY_OP_CREATE, "b1", "cc", "{}", 0, 1},
		{FERRY_OP_CREATE, "b1", "cc", "{}", FERRY_EEXISTS, 0},
		{FERRY_OP_DELETE, "b1", "cc", NULL, 0, 0},
		{FERRY_OP_DELETE, "b1", "cc", NULL, FERRY_ENOTFOUND, 0},
		/* an op on "a" sorts before the others but was added last */
		{FERRY_OP_DELETE, "b1", "a", NULL, FERRY_ENOTFOUND, 0},
		/* one id of b2 through its alias and its physical name: the
		 * ops keep their add order whatever the names sort like */
		{FERRY_OP_INDEX, "v0_1_0.default.b2", "m", "{\"m\":1}", 0, 1},
		{FERRY_OP_INDEX, "b2", "m", "{\"m\":2}", 0, 0},
		{FERRY_OP_DELETE, "v0_1_0.default.b2", "m", NULL, 0, 0},
		{FERRY_OP_CREATE, "b2", "m", "{\"m\":3}", 0, 1},
		/* ids sharing their first 8 bytes, added in reverse order */
		{FERRY_OP_CREATE, "b2", "longprefix-2", "{\"l\":2}", 0, 1},
		{FERRY_OP_CREATE, "b2", "longprefix-1", "{\"l\":1}", 0, 1},
		{FERRY_OP_CREATE, "b2", "longprefix-1", "{\"l\":9}", FERRY_EEXISTS, 0},
	};
	for (size_t i = 0; i < N_ELEMS(ops); i++)
		assert_int_equal(ferry_bulk_add(b, ops[i].op, ops[i].index,
			ops[i].id, ops[i].id ? strlen(ops[i].id) : 0, ops[i].body,
			ops[i].body ? strlen(ops[i].body) : 0), 0);
	assert_int_equal(ferry_bulk_count(b), N_ELEMS(ops));
	uint64_t b1_before = t_info(t->db, "b1").seq;
	T_OK(ferry_bulk_commit(b, &err), &err);
	uint64_t s_seq[4];
	size_t s_n = 0, ok_b1 = 0;
	char gen_id[FERRY_ID_MAX + 1] = "";
	for (size_t i = 0; i < N_ELEMS(ops); i++) {
		ferry_err oe = {0, ""};
		memset(&r, 0, sizeof r);
		int rc = ferry_bulk_result(b, i, &r, &oe);
		if (rc != ops[i].code)
			fail_msg("op %zu: %s (%s), expected %s", i,
				 ferry_strerror(rc), oe.msg,
				 ferry_strerror(ops[i].code));
		if (rc) {
			assert_int_equal(oe.code, rc);
			assert_true(oe.msg[0] != 0);
			if (rc == FERRY_EJSON && ops[i].body)
				T_CONTAINS(oe.msg, "byte");
			continue;
		}
		assert_int_equal(r.created, ops[i].created);
		if (ops[i].id)
			assert_string_equal(r.id, ops[i].id);
		else
			snprintf(gen_id, sizeof gen_id, "%s", r.id);
		if (ops[i].id && !strcmp(ops[i].id, "s"))
			s_seq[s_n++] = r.seq;
		if (strstr(ops[i].index, "b1"))
			ok_b1++;
	}
	assert_int_equal(s_n, 4);
	for (size_t i = 1; i < s_n; i++)
		assert_true(s_seq[i] > s_seq[i - 1]);
	assert_int_equal(strlen(gen_id), 20);
	/* Every successful op on b1 used one seq. */
	assert_int_equal(t_info(t->db, "b1").seq, b1_before + ok_b1);
	/* Out of range. */
	ferry_err oe = {0, ""};
	assert_int_equal(ferry_bulk_result(b, N_ELEMS(ops), &r, &oe),
			 FERRY_EINVAL);

	/* Resulting state. */
	t_expect(t->db, "b1", "n1", "{\"n\":1}");
	t_expect(t->db, "b1", "x1", "{\"v\":2}");
	assert_null(t_get(t->db, "b1", "x2", NULL));
	assert_null(t_get(t->db, "b1", "bad", NULL));
	assert_null(t_get(t->db, "b1", "nobody", NULL));
	assert_null(t_get(t->db, "b1", "cc", NULL));
	t_expect(t->db, "b1", "s", "{\"s\":3}");
	t_expect(t->db, "b1", gen_id, "{\"gen\":1}");
	t_expect(t->db, "b2", "c1", "{\"c\":1}");
	t_expect(t->db, "b2", "c2", "{\"c\":2}");
	t_expect(t->db, "b2", "m", "{\"m\":3}");
	t_expect(t->db, "b2", "longprefix-1", "{\"l\":1}");
	assert_int_equal(t_info(t->db, "b1").docs, 4); /* n1 x1 s gen */
	assert_int_equal(t_info(t->db, "b2").docs, 5); /* c1 c2 m longprefix-* */

	/* Reuse after clear: results are those of the new ops. */
	ferry_bulk_clear(b);
	assert_int_equal(ferry_bulk_count(b), 0);
	assert_int_equal(ferry_bulk_add(b, FERRY_OP_DELETE, "b1", "n1", 2, NULL,
					0), 0);
	assert_int_equal(ferry_bulk_add(b, FERRY_OP_CREATE, "b1", "n1", 2,
					"{\"again\":1}", 11), 0);
	T_OK(ferry_bulk_prepare(b, &err), &err);
	/* adding after prepare is allowed; commit prepares the rest */
	assert_int_equal(ferry_bulk_add(b, FERRY_OP_INDEX, "b2", "late", 4,
					"{", 1), 0);
	T_OK(ferry_bulk_commit(b, &err), &err);
	T_OK(ferry_bulk_result(b, 0, &r, &oe), &oe);
	assert_string_equal(r.id, "n1");
	T_OK(ferry_bulk_result(b, 1, &r, &oe), &oe);
	assert_int_equal(r.created, 1);
	assert_int_equal(ferry_bulk_result(b, 2, NULL, &oe), FERRY_EJSON);
	assert_int_equal(ferry_bulk_result(b, 3, NULL, NULL), FERRY_EINVAL);
	t_expect(t->db, "b1", "n1", "{\"again\":1}");
	/* An empty bulk commits. */
	ferry_bulk_clear(b);
	T_OK(ferry_bulk_commit(b, &err), &err);
	ferry_bulk_free(b);
	ferry_bulk_free(NULL);
}

static void test_bulk_id_field(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	ferry_write_result r;
	t_create(t->db, "idf");
	char long513[600], long600[700];
	/* {"id":"000..."} with FERRY_ID_MAX + 1 and 600 digits */
	snprintf(long513, sizeof long513, "{\"id\":\"%0*d\"}", FERRY_ID_MAX + 1,
		 0);
	snprintf(long600, sizeof long600, "{\"id\":\"%0600d\"}", 0);
	static const char a_quote_b[] = "a\"b";
	const struct {
		const char *id, *body, *want; /* want NULL: generated */
		int code;
	} ops[] = {
		{NULL, "{\"id\":\"abc\",\"v\":1}", "abc", 0},
		{NULL, "{\"v\":2,\"id\":42}", "42", 0},
		{NULL, "{\"id\":\"a\\\"b\"}", a_quote_b, 0},
		{NULL, "{\"id\":\"caf\\u00e9\"}", "caf\xc3\xa9", 0},
		{NULL, "{\"id\":\"x/y.z\"}", "x/y.z", 0},
		{NULL, "{\"id\":-1.5e3}", "-1.5e3", 0},
		{NULL, "{\"v\":3}", NULL, 0},
		{NULL, "{\"nested\":{\"id\":\"no\"}}", NULL, 0},
		{"explicit", "{\"id\":\"other\"}", "explicit", 0},
		{NULL, "{\"id\":\"bad\\u0000nul\"}", NULL, FERRY_ENAME},
		{NULL, long513, NULL, FERRY_ENAME},
		{NULL, long600, NULL, FERRY_ENAME},
		{NULL, "{\"id\":\"\"}", NULL, FERRY_ENAME},
		{NULL, "{\"id\":\"abc\"", NULL, FERRY_EJSON},
	};
	ferry_bulk *b;
	assert_int_equal(ferry_bulk_new(t->db, &b), 0);
	assert_int_equal(ferry_bulk_set_id_field(b, "id"), 0);
	for (size_t i = 0; i < N_ELEMS(ops); i++)
		assert_int_equal(ferry_bulk_add(b, FERRY_OP_INDEX, "idf",
			ops[i].id, ops[i].id ? strlen(ops[i].id) : 0, ops[i].body,
			strlen(ops[i].body)), 0);
	T_OK(ferry_bulk_commit(b, &err), &err);
	char bad[1024] = "";
	size_t bl = 0, okn = 0;
	for (size_t i = 0; i < N_ELEMS(ops); i++) {
		ferry_err oe = {0, ""};
		memset(&r, 0, sizeof r);
		int rc = ferry_bulk_result(b, i, &r, &oe);
		if (rc != ops[i].code) {
			bl += (size_t)snprintf(bad + bl, sizeof bad - bl,
				"\n  op %zu: %s (%s) id '%.40s', expected %s", i,
				ferry_strerror(rc), oe.msg, rc ? "" : r.id,
				ferry_strerror(ops[i].code));
			continue;
		}
		if (rc)
			continue;
		okn++;
		if (ops[i].want) {
			assert_string_equal(r.id, ops[i].want);
		} else {
			assert_int_equal(strlen(r.id), 20);
		}
		char *got = t_get(t->db, "idf", r.id, NULL);
		assert_non_null(got);
		assert_string_equal(got, ops[i].body);
		ferry_free(got);
	}
	ferry_bulk_free(b);
	if (bl)
		fail_msg("id field results differ:%s", bad);
	assert_int_equal(t_info(t->db, "idf").docs, okn);

	/* NULL turns it off: the field is ignored. */
	assert_int_equal(ferry_bulk_new(t->db, &b), 0);
	assert_int_equal(ferry_bulk_set_id_field(b, "id"), 0);
	assert_int_equal(ferry_bulk_set_id_field(b, NULL), 0);
	assert_int_equal(ferry_bulk_add(b, FERRY_OP_INDEX, "idf", NULL, 0,
					"{\"id\":\"abc\"}", 12), 0);
	T_OK(ferry_bulk_commit(b, &err), &err);
	T_OK(ferry_bulk_result(b, 0, &r, &err), &err);
	assert_int_equal(strlen(r.id), 20);
	/* Another field name. */
	ferry_bulk_clear(b);
	assert_int_equal(ferry_bulk_set_id_field(b, "_key"), 0);
	assert_int_equal(ferry_bulk_add(b, FERRY_OP_CREATE, "idf", NULL, 0,
					"{\"id\":\"no\",\"_key\":\"k1\"}", 23), 0);
	T_OK(ferry_bulk_commit(b, &err), &err);
	T_OK(ferry_bulk_result(b, 0, &r, &err), &err);
	assert_string_equal(r.id, "k1");
	ferry_bulk_free(b);
}

/* ---- scans -------------------------------------------------------------- */

typedef struct idlist {
	char **v;
	size_t n;
} idlist;

static void idlist_free(idlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Scans index from after (may be NULL) to the end into l. */
static void scan_all(ferry_db *db, const char *index, const char *after,
		     idlist *l, size_t cap)
{
	ferry_err err = {0, ""};
	ferry_scan *s;
	ferry_doc d;
	int rc;
	l->v = calloc(cap, sizeof *l->v);
	l->n = 0;
	assert_non_null(l->v);
	T_OK(ferry_scan_open(db, index, after, after ? strlen(after) : 0, &s,
			     &err), &err);
	while ((rc = ferry_scan_next(s, &d, &err)) == 0) {
		if (l->n == cap)
			fail_msg("scan returned more than %zu docs", cap);
		l->v[l->n++] = strndup(d.id, d.idlen);
	}
	ferry_scan_free(s);
	T_CODE(rc, FERRY_EOF, &err);
}

/* The store's scan with a limit, collecting ids (a visit per entry). */
typedef struct wscan {
	char **ids;
	size_t n, bad;
	uint64_t max_seq;
} wscan;

static int wscan_visit(void *ctx, const fstore_entry *e)
{
	wscan *w = ctx;
	char body[128];
	int bl = snprintf(body, sizeof body, "{\"id\":\"%.*s\"}",
			  (int)e->idlen, e->id);
	if (e->body_len != (size_t)bl || memcmp(e->body, body, e->body_len) ||
	    e->deleted || e->seq == 0 || e->seq > w->max_seq)
		w->bad++;
	w->ids[w->n] = strndup(e->id, e->idlen);
	w->n++;
	return 0;
}

/* The LMDB scan fetches bodies a window of 8192 at a time in seq order
 * and hands them out in id order: through several windows, with limits
 * that end inside one, after a resume point and past deleted ids. */
static void store_scan_windows(ferry_db *db, char **ids, size_t n_ids,
			       size_t deleted)
{
	ferry_err err = {0, ""};
	fstore_txn *t;
	fcat_index ix;
	int via;
	T_OK(fdb_begin(db, 0, &t, &err), &err);
	T_OK(fcat_resolve(t, "sc", &ix, &via, &err), &err);
	size_t limits[] = {(size_t)-1, 8192, 8193, 9000, 1};
	for (size_t li = 0; li < sizeof limits / sizeof *limits; li++) {
		for (int from = -1; from < 2; from++) {
			/* from -1: the start; 0: after ids[0]; 1: after the
			 * deleted id */
			const char *after = from < 0 ? NULL :
					    ids[from ? deleted : 0];
			size_t first = from < 0 ? 0 : from ? deleted + 1 : 1;
			wscan w = {calloc(n_ids, sizeof(char *)), 0, 0, n_ids};
			assert_non_null(w.ids);
			assert_int_equal(db->ops->doc_scan(t, ix.ix, after,
				after ? strlen(after) : 0, limits[li],
				wscan_visit, &w), 0);
			size_t want = 0;
			for (size_t i = first; i < n_ids; i++)
				want += i != deleted;
			if (want > limits[li])
				want = limits[li];
			assert_int_equal(w.n, want);
			assert_int_equal(w.bad, 0);
			for (size_t j = 0, i = first; j < w.n; j++, i++) {
				if (i == deleted)
					i++;
				if (strcmp(w.ids[j], ids[i]))
					fail_msg("limit %zu, from %d, position "
						 "%zu: '%s', want '%s'",
						 limits[li], from, j, w.ids[j],
						 ids[i]);
			}
			for (size_t j = 0; j < w.n; j++)
				free(w.ids[j]);
			free(w.ids);
		}
	}
	fdb_abort(t);
}

static void test_scan_order_resume(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	enum { N = 10000 };
	t_create(t->db, "sc");
	/* ids of different lengths, put in a scrambled order */
	char **ids = calloc(N, sizeof *ids);
	assert_non_null(ids);
	uint64_t rs = 88172645463325252u;
	for (int i = 0; i < N; i++) {
		char buf[64];
		int len = 1 + (int)(t_rnd_next(&rs) % 12);
		snprintf(buf, sizeof buf, "%08x%s", (unsigned)(i * 2654435761u),
			 "abcdefghijkl" + (12 - len));
		ids[i] = strdup(buf);
	}
	ferry_bulk *b;
	assert_int_equal(ferry_bulk_new(t->db, &b), 0);
	for (int i = 0; i < N; i++) {
		char body[128];
		int bl = snprintf(body, sizeof body, "{\"id\":\"%s\"}", ids[i]);
		assert_int_equal(ferry_bulk_add(b, FERRY_OP_INDEX, "sc", ids[i],
			strlen(ids[i]), body, (size_t)bl), 0);
	}
	T_OK(ferry_bulk_commit(b, &err), &err);
	ferry_bulk_free(b);
	qsort(ids, N, sizeof *ids, cmp_str);

	/* Full scan: every id once, in order, with its own body. */
	ferry_scan *s;
	ferry_doc d;
	int rc, n = 0;
	T_OK(ferry_scan_open(t->db, "sc", NULL, 0, &s, &err), &err);
	while ((rc = ferry_scan_next(s, &d, &err)) == 0) {
		assert_true(n < N);
		if (d.idlen != strlen(ids[n]) || memcmp(d.id, ids[n], d.idlen))
			fail_msg("position %d: got '%.*s', want '%s'", n,
				 (int)d.idlen, d.id, ids[n]);
		char body[128];
		int bl = snprintf(body, sizeof body, "{\"id\":\"%s\"}", ids[n]);
		assert_int_equal(d.body_len, (size_t)bl);
		assert_memory_equal(d.body, body, d.body_len);
		assert_int_equal(d.deleted, 0);
		assert_true(d.seq >= 1 && d.seq <= N);
		n++;
	}
	assert_int_equal(rc, FERRY_EOF);
	assert_int_equal(ferry_scan_next(s, &d, &err), FERRY_EOF);
	ferry_scan_free(s);
	assert_int_equal(n, N);

	/* Resume after every 1000th id reproduces the rest exactly. */
	for (int k = 0; k < N; k += 1000) {
		idlist l;
		scan_all(t->db, "sc", ids[k], &l, N);
		assert_int_equal(l.n, (size_t)(N - k - 1));
		for (size_t j = 0; j < l.n; j++)
			if (strcmp(l.v[j], ids[k + 1 + j]))
				fail_msg("resume after '%s': position %zu is "
					 "'%s', want '%s'", ids[k], j, l.v[j],
					 ids[k + 1 + j]);
		idlist_free(&l);
	}
	/* Resuming a scan chain page by page (1000 at a time) gives the
	 * whole sequence. */
	{
		char last[600] = "";
		int total = 0;
		for (;;) {
			int got = 0;
			T_OK(ferry_scan_open(t->db, "sc", total ? last : NULL,
					     total ? strlen(last) : 0, &s, &err),
			     &err);
			while (got < 1000 &&
			       (rc = ferry_scan_next(s, &d, &err)) == 0) {
				assert_int_equal(d.idlen, strlen(ids[total]));
				assert_memory_equal(d.id, ids[total], d.idlen);
				memcpy(last, d.id, d.idlen);
				last[d.idlen] = 0;
				got++;
				total++;
			}
			ferry_scan_free(s);
			if (got < 1000)
				break;
		}
		assert_int_equal(total, N);
	}
	/* after an id that does not exist: starts at the next one */
	{
		char probe[64];
		snprintf(probe, sizeof probe, "%s~", ids[4999]); /* > ids[4999] */
		idlist l;
		scan_all(t->db, "sc", probe, &l, N);
		assert_int_equal(l.n, N - 5000);
		assert_string_equal(l.v[0], ids[5000]);
		idlist_free(&l);
		scan_all(t->db, "sc", "\x7f", &l, N); /* past the end */
		assert_int_equal(l.n, 0);
		idlist_free(&l);
		scan_all(t->db, "sc", "", &l, N); /* "" is from the start */
		assert_int_equal(l.n, N);
		idlist_free(&l);
	}
	/* after a deleted id */
	t_del(t->db, "sc", ids[3000]);
	{
		idlist l;
		scan_all(t->db, "sc", ids[3000], &l, N);
		assert_int_equal(l.n, N - 3001);
		assert_string_equal(l.v[0], ids[3001]);
		idlist_free(&l);
	}
	/* errors */
	char big[600];
	memset(big, 'a', sizeof big);
	T_CODE(ferry_scan_open(t->db, "nosuch", NULL, 0, &s, &err),
	       FERRY_ENOTFOUND, &err);
	T_CODE(ferry_scan_open(t->db, "sc", big, 513, &s, &err), FERRY_ENAME,
	       &err);
	/* empty index */
	t_create(t->db, "empty");
	T_OK(ferry_scan_open(t->db, "empty", NULL, 0, &s, &err), &err);
	assert_int_equal(ferry_scan_next(s, &d, &err), FERRY_EOF);
	ferry_scan_free(s);
	ferry_scan_free(NULL);
	store_scan_windows(t->db, ids, N, 3000);
	for (int i = 0; i < N; i++)
		free(ids[i]);
	free(ids);
}

/* Big bodies: pages are cut by bytes as well as by count. */
static void test_scan_big_bodies(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	enum { N = 150, SZ = 100000 };
	t_create(t->db, "big");
	char *body = malloc(SZ + 64);
	assert_non_null(body);
	for (int i = 0; i < N; i++) {
		char id[16];
		snprintf(id, sizeof id, "b%04d", i);
		int hl = snprintf(body, 64, "{\"i\":%d,\"pad\":\"", i);
		memset(body + hl, 'a' + i % 26, SZ - hl - 2);
		memcpy(body + SZ - 2, "\"}", 3);
		T_OK(ferry_doc_put(t->db, "big", id, strlen(id), body, SZ,
				   FERRY_OP_INDEX, NULL, &err), &err);
	}
	ferry_scan *s;
	ferry_doc d;
	int rc, n = 0;
	T_OK(ferry_scan_open(t->db, "big", NULL, 0, &s, &err), &err);
	while ((rc = ferry_scan_next(s, &d, &err)) == 0) {
		char id[16];
		snprintf(id, sizeof id, "b%04d", n);
		assert_int_equal(d.idlen, 5);
		assert_memory_equal(d.id, id, 5);
		assert_int_equal(d.body_len, SZ);
		assert_int_equal(d.body[SZ - 3], 'a' + n % 26);
		n++;
	}
	ferry_scan_free(s);
	assert_int_equal(rc, FERRY_EOF);
	assert_int_equal(n, N);
	ferry_index_info info = t_info(t->db, "big");
	assert_int_equal(info.bytes, (uint64_t)N * SZ);
	free(body);
	/* Documents bigger than a whole scan page. */
	enum { HUGE = 5 << 20 };
	body = malloc(HUGE);
	assert_non_null(body);
	memset(body, ' ', HUGE);
	body[0] = '{';
	body[HUGE - 1] = '}';
	for (int i = 0; i < 3; i++) {
		char id[16];
		snprintf(id, sizeof id, "c%d", i);
		T_OK(ferry_doc_put(t->db, "big", id, 2, body, HUGE,
				   FERRY_OP_INDEX, NULL, &err), &err);
	}
	free(body);
	T_OK(ferry_scan_open(t->db, "big", "b0149", 5, &s, &err), &err);
	for (n = 0; (rc = ferry_scan_next(s, &d, &err)) == 0; n++) {
		assert_int_equal(d.idlen, 2);
		assert_int_equal(d.id[1], '0' + n);
		assert_int_equal(d.body_len, HUGE);
		assert_int_equal(d.body[HUGE - 1], '}');
	}
	ferry_scan_free(s);
	assert_int_equal(rc, FERRY_EOF);
	assert_int_equal(n, 3);
}

/* A writer thread for the concurrent-scan tests: rewrites "stable" ids
 * (they exist throughout), deletes and re-creates "churn" ids and adds
 * new ones, as fast as it can, until told to stop. */
typedef struct churn {
	ferry_db *db;
	const char *index;
	int nstable;
	atomic_int stop;
	atomic_long commits;
	int failed;
	char msg[600];
} churn;

static void *churn_main(void *p)
{
	churn *c = p;
	ferry_err err = {0, ""};
	uint64_t rs = 0x9E3779B97F4A7C15u;
	unsigned fresh = 0;
	ferry_bulk *b;
	if (ferry_bulk_new(c->db, &b)) {
		c->failed = 1;
		return NULL;
	}
	while (!atomic_load(&c->stop)) {
		ferry_bulk_clear(b);
		for (int k = 0; k < 20; k++) {
			char id[64], body[128];
			unsigned j = (unsigned)(t_rnd_next(&rs) % (uint64_t)c->nstable);
			int what = (int)(t_rnd_next(&rs) % 4);
			if (what == 0)
				snprintf(id, sizeof id, "%06u-s", j);
			else if (what == 3)
				snprintf(id, sizeof id, "%06u-n%u", j, fresh++);
			else
				snprintf(id, sizeof id, "%06u-c", j);
			int bl = snprintf(body, sizeof body,
					  "{\"id\":\"%s\",\"rev\":%ld}", id,
					  atomic_load(&c->commits) + 1);
			enum ferry_op op = what == 1 ? FERRY_OP_DELETE
						     : FERRY_OP_INDEX;
			if (ferry_bulk_add(b, op, c->index, id, strlen(id), body,
					   (size_t)bl)) {
				c->failed = 1;
				break;
			}
		}
		if (ferry_bulk_commit(b, &err)) {
			c->failed = 1;
			snprintf(c->msg, sizeof c->msg, "%s", err.msg);
			break;
		}
		atomic_fetch_add(&c->commits, 1);
	}
	ferry_bulk_free(b);
	return NULL;
}

/* Seeds index with nstable "%06d-s" and as many "%06d-c" docs. */
static void seed_churn(ferry_db *db, const char *index, int nstable)
{
	bulk_fill(db, index, "%06zu-s", 0, (size_t)nstable, 10000);
	bulk_fill(db, index, "%06zu-c", 0, (size_t)nstable, 10000);
}

/* Waits (yielding) until the writer has committed more than `since`. */
static void wait_writer(churn *c, long since)
{
	while (atomic_load(&c->commits) <= since && !c->failed)
		sched_yield();
}

static void test_scan_concurrent_exactly_once(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	enum { NS = 20000 };
	t_create(t->db, "cc");
	seed_churn(t->db, "cc", NS);
	unsigned char *seen = calloc(NS, 1);
	assert_non_null(seen);

	churn c = {.db = t->db, .index = "cc", .nstable = NS};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, churn_main, &c), 0);
	wait_writer(&c, 0);

	ferry_scan *s;
	ferry_doc d;
	char prev[64] = "";
	size_t prevlen = 0;
	long n = 0, handshakes = 0;
	int rc;
	T_OK(ferry_scan_open(t->db, "cc", NULL, 0, &s, &err), &err);
	while ((rc = ferry_scan_next(s, &d, &err)) == 0) {
		if (n && id_cmp(prev, prevlen, d.id, d.idlen) >= 0)
			fail_msg("scan not strictly increasing (a doc seen "
				 "twice or out of order): '%.*s' after '%.*s'",
				 (int)d.idlen, d.id, (int)prevlen, prev);
		assert_true(d.idlen < sizeof prev);
		memcpy(prev, d.id, d.idlen);
		prevlen = d.idlen;
		/* the body belongs to this id */
		char want[80];
		int wl = snprintf(want, sizeof want, "\"%.*s\"", (int)d.idlen, d.id);
		if (!memmem(d.body, d.body_len, want, (size_t)wl) &&
		    !(d.body_len > 4 && !memcmp(d.body, "{\"n\":", 5)))
			fail_msg("doc '%.*s' has body '%.*s'", (int)d.idlen,
				 d.id, (int)d.body_len, d.body);
		if (d.idlen == 8 && !memcmp(d.id + 6, "-s", 2)) {
			int j = atoi(d.id);
			assert_true(j >= 0 && j < NS);
			assert_int_equal(seen[j], 0);
			seen[j] = 1;
		}
		/* make the writer commit between our pages */
		if (++n % 500 == 0) {
			wait_writer(&c, atomic_load(&c.commits));
			handshakes++;
		}
	}
	ferry_scan_free(s);
	atomic_store(&c.stop, 1);
	pthread_join(th, NULL);
	T_CODE(rc, FERRY_EOF, &err);
	if (c.failed)
		fail_msg("writer failed: %s", c.msg);
	for (int j = 0; j < NS; j++)
		if (!seen[j])
			fail_msg("stable doc %06d-s was not returned", j);
	printf("# scan of %ld docs while a writer committed %ld bulks of 20 "
	       "(%ld handshakes)\n", n, atomic_load(&c.commits), handshakes);
	assert_true(atomic_load(&c.commits) > handshakes);
	free(seen);
}

/* Checks every body a store scan hands out: {"n":i,"s":"<word>"} with i
 * the id's number and <word> the one this snapshot must show. */
typedef struct snapscan {
	const char *word;
	size_t n, bad;
} snapscan;

static int snapscan_visit(void *ctx, const fstore_entry *e)
{
	snapscan *v = ctx;
	char want[96];
	int wl = snprintf(want, sizeof want, "{\"n\":%d,\"s\":\"%s\"}",
			  atoi(e->id), v->word);
	if (e->body_len != (size_t)wl || memcmp(e->body, want, e->body_len)) {
		if (v->bad++ < 3)
			print_message("# '%.*s': '%.*s', want '%s'\n",
				      (int)e->idlen, e->id, (int)e->body_len,
				      e->body, want);
	}
	v->n++;
	return 0;
}

/* Scans index ix through read transaction t (then ends it): n documents,
 * every body showing `word`. */
static void expect_snapshot(ferry_db *db, fstore_txn *t, uint32_t ix,
			    const char *word, size_t n)
{
	snapscan v = {word, 0, 0};
	assert_int_equal(db->ops->doc_scan(t, ix, NULL, 0, (size_t)-1,
					   snapscan_visit, &v), 0);
	fdb_abort(t);
	assert_int_equal(v.n, n);
	assert_int_equal(v.bad, 0);
}

/* The scan reads half of a window on a helper thread (lmdb_fetch.c) with
 * its own read transaction: both halves must show the caller's snapshot,
 * also when a write committed after the caller's transaction began (the
 * helper's would then see newer data, so it must not be used). */
static void test_scan_helper_one_snapshot(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	fstore_txn *old, *now;
	fcat_index ix;
	int via;
	enum { N = 5000 };
	t_create(t->db, "snap");
	bulk_fill(t->db, "snap", "%05zu", 0, N, 1000);
	T_OK(fdb_begin(t->db, 0, &old, &err), &err);
	T_OK(fcat_resolve(old, "snap", &ix, &via, &err), &err);

	bulk_fill_word(t->db, "snap", "%05zu", 0, N, N, "rewritten");
	expect_snapshot(t->db, old, ix.ix, "small", N);
	T_OK(fdb_begin(t->db, 0, &now, &err), &err);
	expect_snapshot(t->db, now, ix.ix, "rewritten", N);
}

/* ---- counters ----------------------------------------------------------- */

static void test_counts_bytes(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	ferry_write_result r;
	t_create(t->db, "cnt");
	t_create(t->db, "cnt2");
	ferry_index_info i0 = t_info(t->db, "cnt");
	assert_int_equal(i0.docs, 0);
	assert_int_equal(i0.bytes, 0);
	assert_int_equal(i0.seq, 0);
	assert_string_equal(i0.name, "v0_1_0.default.cnt");
	assert_string_equal(i0.alias, "default.cnt");
	assert_string_equal(i0.tenant, "default");
	assert_string_equal(i0.index, "cnt");
	assert_string_equal(i0.data_version, "0.1.0");

	uint64_t docs = 0, bytes = 0;
	for (int i = 0; i < 100; i++) {
		char id[16], body[64];
		snprintf(id, sizeof id, "d%d", i);
		int bl = snprintf(body, sizeof body, "{\"n\":%d}", i * 1000);
		t_put(t->db, "cnt", id, body);
		docs++;
		bytes += (uint64_t)bl;
	}
	ferry_index_info in = t_info(t->db, "cnt");
	assert_int_equal(in.docs, docs);
	assert_int_equal(in.bytes, bytes);
	assert_int_equal(in.seq, 100);
	/* replacements: longer and shorter */
	t_put(t->db, "cnt", "d1", "{\"n\":1000,\"more\":\"xxxxxxxxxx\"}");
	bytes += strlen("{\"n\":1000,\"more\":\"xxxxxxxxxx\"}") -
		 strlen("{\"n\":1000}");
	t_put(t->db, "cnt", "d2", "{}");
	bytes -= strlen("{\"n\":2000}") - 2;
	in = t_info(t->db, "cnt");
	assert_int_equal(in.docs, docs);
	assert_int_equal(in.bytes, bytes);
	/* deletes */
	t_del(t->db, "cnt", "d1");
	bytes -= strlen("{\"n\":1000,\"more\":\"xxxxxxxxxx\"}");
	t_del(t->db, "cnt", "d50");
	bytes -= strlen("{\"n\":50000}");
	docs -= 2;
	/* failed ops change nothing */
	T_CODE(ferry_doc_delete(t->db, "cnt", "d1", 2, &r, &err),
	       FERRY_ENOTFOUND, &err);
	T_CODE(ferry_doc_put(t->db, "cnt", "d3", 2, "{}", 2, FERRY_OP_CREATE,
			     &r, &err), FERRY_EEXISTS, &err);
	T_CODE(ferry_doc_put(t->db, "cnt", "d3", 2, "{", 1, FERRY_OP_INDEX,
			     &r, &err), FERRY_EJSON, &err);
	in = t_info(t->db, "cnt");
	assert_int_equal(in.docs, docs);
	assert_int_equal(in.bytes, bytes);
	assert_int_equal(in.seq, 104);
	/* re-put a deleted one */
	t_put(t->db, "cnt", "d1", "{}");
	docs++;
	bytes += 2;
	/* a bulk with replacements and deletes of the same ids */
	ferry_bulk *b;
	assert_int_equal(ferry_bulk_new(t->db, &b), 0);
	assert_int_equal(ferry_bulk_add(b, FERRY_OP_INDEX, "cnt", "d7", 2,
					"{\"a\":1}", 7), 0);
	assert_int_equal(ferry_bulk_add(b, FERRY_OP_DELETE, "cnt", "d7", 2,
					NULL, 0), 0);
	assert_int_equal(ferry_bulk_add(b, FERRY_OP_INDEX, "cnt", "new", 3,
					"{\"abc\":1}", 9), 0);
	assert_int_equal(ferry_bulk_add(b, FERRY_OP_INDEX, "cnt2", "x", 1,
					"{\"z\":1}", 7), 0);
	T_OK(ferry_bulk_commit(b, &err), &err);
	ferry_bulk_free(b);
	bytes -= strlen("{\"n\":7000}");
	bytes += 9;
	in = t_info(t->db, "cnt");
	assert_int_equal(in.docs, docs); /* -d7 +new */
	assert_int_equal(in.bytes, bytes);
	uint64_t cnt;
	T_OK(ferry_doc_count(t->db, "default.cnt", &cnt, &err), &err);
	assert_int_equal(cnt, docs);
	/* the scan agrees with the counters */
	ferry_scan *s;
	ferry_doc d;
	uint64_t sd = 0, sb = 0;
	T_OK(ferry_scan_open(t->db, "cnt", NULL, 0, &s, &err), &err);
	while (ferry_scan_next(s, &d, &err) == 0) {
		sd++;
		sb += d.body_len;
	}
	ferry_scan_free(s);
	assert_int_equal(sd, docs);
	assert_int_equal(sb, bytes);
	/* status totals over both indices */
	ferry_status st;
	T_OK(ferry_db_status(t->db, &st, &err), &err);
	assert_int_equal(st.indices, 2);
	assert_int_equal(st.docs, docs + 1);
	assert_int_equal(st.bytes, bytes + 7);
}

/* ---- many indices, big deletes ------------------------------------------ */

static void test_many_indices(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	enum { N = 5000 };
	char name[64], body[64];
	/* more than the default budget of 1000 indices */
	T_OK(ferry_index_budget_set(t->db, N, &err), &err);
	double t0 = t_now_ms();
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof name, "i%04d", i);
		t_create(t->db, name);
	}
	double t1 = t_now_ms();
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof name, "i%04d", i);
		snprintf(body, sizeof body, "{\"i\":%d}", i);
		t_put(t->db, name, "only", body);
	}
	double t2 = t_now_ms();
	ferry_index_info *list = NULL;
	size_t n = 0;
	T_OK(ferry_index_list(t->db, NULL, &list, &n, &err), &err);
	double t3 = t_now_ms();
	assert_int_equal(n, N);
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof name, "v0_1_0.default.i%04zu", i);
		assert_string_equal(list[i].name, name);
		assert_int_equal(list[i].docs, 1);
		assert_int_equal(list[i].seq, 1);
		assert_string_equal(list[i].alias, name + 7);
	}
	ferry_free(list);
	for (int i = 0; i < N; i += 2) {
		snprintf(name, sizeof name, "v0_1_0.default.i%04d", i);
		T_OK(ferry_index_delete(t->db, name, 0, &err), &err);
	}
	double t4 = t_now_ms();
	T_OK(ferry_index_list(t->db, "*", &list, &n, &err), &err);
	double t5 = t_now_ms();
	assert_int_equal(n, N / 2);
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof name, "v0_1_0.default.i%04zu", 2 * i + 1);
		assert_string_equal(list[i].name, name);
		assert_int_equal(list[i].docs, 1);
	}
	ferry_free(list);
	/* Deleted names are gone; the others still read. */
	ferry_index_info info;
	T_CODE(ferry_index_get(t->db, "i0000", &info, &err), FERRY_ENOTFOUND,
	       &err);
	char *v = t_get(t->db, "i4999", "only", NULL);
	assert_string_equal(v, "{\"i\":4999}");
	ferry_free(v);
	ferry_status st;
	T_OK(ferry_db_status(t->db, &st, &err), &err);
	assert_int_equal(st.indices, N / 2);
	assert_int_equal(st.docs, N / 2);
	assert_int_equal(st.purge_pending, 0);
	printf("# %d indices: create %.0f ms, put one doc in each %.0f ms, "
	       "list all %.1f ms, delete half %.0f ms, list again %.1f ms\n",
	       N, t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4);
}

static uint64_t file_bytes(const char *dir)
{
	char path[600];
	struct stat st;
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	return stat(path, &st) ? 0 : (uint64_t)st.st_size;
}

static void test_delete_big_index(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	enum { N = 1000000, BATCH = 50000 };
	ferry_status st;
	t_create(t->db, "big");
	t_create(t->db, "small");
	t_put(t->db, "small", "k", "{\"keep\":1}");
	double t0 = t_now_ms();
	bulk_fill(t->db, "big", "d%07zu", 0, N, BATCH);
	double t1 = t_now_ms();
	ferry_index_info info = t_info(t->db, "big");
	assert_int_equal(info.docs, N);
	T_OK(ferry_db_status(t->db, &st, &err), &err);
	uint64_t size1 = st.file_size, disk1 = file_bytes(t->dir);

	double t2 = t_now_ms();
	T_OK(ferry_index_delete(t->db, "v0_1_0.default.big", 0, &err), &err);
	double t3 = t_now_ms();
	printf("# import of %d small docs (bulks of %d) took %.0f ms\n", N,
	       BATCH, t1 - t0);
	printf("# delete of an index with %d docs took %.0f ms\n", N, t3 - t2);

	/* The name is gone (index and alias), nothing is left to purge. */
	char phys[FERRY_NAME_MAX + 1];
	T_CODE(ferry_index_get(t->db, "big", &info, &err), FERRY_ENOTFOUND,
	       &err);
	T_CODE(ferry_index_get(t->db, "v0_1_0.default.big", &info, &err),
	       FERRY_ENOTFOUND, &err);
	T_CODE(ferry_alias_resolve(t->db, "default.big", phys, &err),
	       FERRY_ENOTFOUND, &err);
	ferry_index_info *list;
	size_t n;
	T_OK(ferry_index_list(t->db, "*big*", &list, &n, &err), &err);
	assert_int_equal(n, 0);
	ferry_free(list);
	T_OK(ferry_db_status(t->db, &st, &err), &err);
	assert_int_equal(st.indices, 1);
	assert_int_equal(st.docs, 1);
	assert_int_equal(st.purge_pending, 0);

	/* A new index of the same name is empty. */
	t_create(t->db, "big");
	info = t_info(t->db, "big");
	assert_int_equal(info.docs, 0);
	assert_int_equal(info.seq, 0);
	assert_null(t_get(t->db, "big", "d0000000", NULL));
	assert_null(t_get(t->db, "big", "d0999999", NULL));
	ferry_scan *s;
	ferry_doc d;
	T_OK(ferry_scan_open(t->db, "big", NULL, 0, &s, &err), &err);
	assert_int_equal(ferry_scan_next(s, &d, &err), FERRY_EOF);
	ferry_scan_free(s);
	ferry_changes *ch;
	uint64_t upto = 99;
	T_OK(ferry_changes_open(t->db, "big", 0, &ch, &upto, &err), &err);
	assert_int_equal(upto, 0);
	assert_int_equal(ferry_changes_next(ch, &d, &err), FERRY_EOF);
	ferry_changes_free(ch);
	char *v = t_get(t->db, "small", "k", NULL);
	assert_string_equal(v, "{\"keep\":1}");
	ferry_free(v);

	/* Re-importing the same data reuses the freed pages. */
	double t4 = t_now_ms();
	bulk_fill(t->db, "big", "d%07zu", 0, N, BATCH);
	double t5 = t_now_ms();
	assert_int_equal(t_info(t->db, "big").docs, N);
	T_OK(ferry_db_status(t->db, &st, &err), &err);
	uint64_t size2 = st.file_size, disk2 = file_bytes(t->dir);
	printf("# re-import took %.0f ms; data file used %.1f MiB after the "
	       "first import, %.1f MiB after delete + re-import (on disk "
	       "%.1f / %.1f MiB)\n", t5 - t4, size1 / 1048576.0,
	       size2 / 1048576.0, disk1 / 1048576.0, disk2 / 1048576.0);
	if (size2 * 2 > size1 * 3)
		fail_msg("data file grew from %llu to %llu bytes: freed pages "
			 "were not reused", (unsigned long long)size1,
			 (unsigned long long)size2);
}

/* ---- threads and processes ---------------------------------------------- */

typedef struct mt {
	ferry_db *db;
	atomic_int written; /* docs w000000.. w(written-1) are committed */
	atomic_int done;
	atomic_long reads;
	atomic_int errors;
	pthread_mutex_t mu;
	char msg[600];
} mt;

static void mt_fail(mt *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void mt_fail(mt *m, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&m->mu);
	if (atomic_fetch_add(&m->errors, 1) == 0) {
		va_start(ap, fmt);
		vsnprintf(m->msg, sizeof m->msg, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&m->mu);
}

enum { MT_DOCS = 3000, MT_READERS = 4 };

static void *mt_writer(void *p)
{
	mt *m = p;
	ferry_err err = {0, ""};
	for (int i = 0; i < MT_DOCS && !atomic_load(&m->errors); i++) {
		char id[16], body[64];
		snprintf(id, sizeof id, "w%06d", i);
		int bl = snprintf(body, sizeof body, "{\"id\":\"%s\",\"r\":0}", id);
		if (ferry_doc_put(m->db, "mt", id, strlen(id), body, (size_t)bl,
				  FERRY_OP_INDEX, NULL, &err)) {
			mt_fail(m, "writer put %s: %s", id, err.msg);
			break;
		}
		atomic_store(&m->written, i + 1);
		if (i % 10 == 9) { /* rewrite an older one */
			snprintf(id, sizeof id, "w%06d", i / 2);
			bl = snprintf(body, sizeof body, "{\"id\":\"%s\",\"r\":%d}",
				      id, i);
			if (ferry_doc_put(m->db, "mt", id, strlen(id), body,
					  (size_t)bl, FERRY_OP_INDEX, NULL, &err))
				mt_fail(m, "writer rewrite %s: %s", id, err.msg);
		}
	}
	atomic_store(&m->done, 1);
	return NULL;
}

static void *mt_reader(void *p)
{
	mt *m = p;
	ferry_err err = {0, ""};
	uint64_t rs = (uint64_t)(uintptr_t)&err | 1, last_count = 0;
	while (!atomic_load(&m->done) && !atomic_load(&m->errors)) {
		int w = atomic_load(&m->written);
		uint64_t cnt = 0;
		if (ferry_doc_count(m->db, "mt", &cnt, &err)) {
			mt_fail(m, "count: %s", err.msg);
			break;
		}
		if (cnt < (uint64_t)w || cnt < last_count) {
			mt_fail(m, "count %llu, but %d written and %llu seen "
				"before", (unsigned long long)cnt, w,
				(unsigned long long)last_count);
			break;
		}
		last_count = cnt;
		if (w == 0)
			continue;
		char id[16];
		int j = (int)(t_rnd_next(&rs) % (uint64_t)w);
		snprintf(id, sizeof id, "w%06d", j);
		char *body = NULL;
		size_t len;
		int rc = ferry_doc_get(m->db, "mt", id, strlen(id), &body, &len,
				       NULL, &err);
		if (rc) {
			mt_fail(m, "get %s (of %d written): %s", id, w, err.msg);
			break;
		}
		if (!strstr(body, id))
			mt_fail(m, "get %s returned %s", id, body);
		ferry_free(body);
		if (j % 64 == 0) { /* a short scan */
			ferry_scan *s;
			ferry_doc d;
			int k = 0;
			if (ferry_scan_open(m->db, "mt", id, strlen(id), &s, &err)) {
				mt_fail(m, "scan open: %s", err.msg);
				break;
			}
			char prev[16];
			snprintf(prev, sizeof prev, "%s", id);
			while (k < 50 && (rc = ferry_scan_next(s, &d, &err)) == 0) {
				if (d.idlen != 7 || memcmp(d.id, prev, 7) <= 0)
					mt_fail(m, "scan order after %s", prev);
				memcpy(prev, d.id, 7);
				k++;
			}
			ferry_scan_free(s);
		}
		atomic_fetch_add(&m->reads, 1);
	}
	return NULL;
}

static void test_threads_one_handle(void **state)
{
	tdb *t = *state;
	t_create(t->db, "mt");
	mt m;
	memset(&m, 0, sizeof m);
	m.db = t->db;
	pthread_mutex_init(&m.mu, NULL);
	pthread_t w, r[MT_READERS];
	for (int i = 0; i < MT_READERS; i++)
		assert_int_equal(pthread_create(&r[i], NULL, mt_reader, &m), 0);
	double t0 = t_now_ms();
	assert_int_equal(pthread_create(&w, NULL, mt_writer, &m), 0);
	pthread_join(w, NULL);
	for (int i = 0; i < MT_READERS; i++)
		pthread_join(r[i], NULL);
	double t1 = t_now_ms();
	pthread_mutex_destroy(&m.mu);
	if (atomic_load(&m.errors))
		fail_msg("%d thread errors, first: %s", atomic_load(&m.errors),
			 m.msg);
	printf("# %d writes and %ld reads by %d readers on one handle in "
	       "%.0f ms\n", MT_DOCS, atomic_load(&m.reads), MT_READERS,
	       t1 - t0);
	assert_int_equal(t_info(t->db, "mt").docs, MT_DOCS);
	/* Two writer threads at once on one handle. */
	churn c1 = {.db = t->db, .index = "mt", .nstable = 500};
	churn c2 = {.db = t->db, .index = "mt", .nstable = 500};
	pthread_t a, b;
	assert_int_equal(pthread_create(&a, NULL, churn_main, &c1), 0);
	assert_int_equal(pthread_create(&b, NULL, churn_main, &c2), 0);
	wait_writer(&c1, 50);
	wait_writer(&c2, 50);
	atomic_store(&c1.stop, 1);
	atomic_store(&c2.stop, 1);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	if (c1.failed || c2.failed)
		fail_msg("writer failed: %s%s", c1.msg, c2.msg);
	ferry_index_info info = t_info(t->db, "mt");
	/* every commit took 20 seqs except failed deletes (missing ids) */
	assert_true(info.seq > (uint64_t)MT_DOCS + MT_DOCS / 10);
}

/* Two handles on one dir, one per process, as two programs would. */
static int child_wait(int fd)
{
	char c;
	return read(fd, &c, 1) == 1 ? c : -1;
}

static void child_tell(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		_exit(90);
}

static int child_main(const char *dir, int rd, int wr)
{
	ferry_err err = {0, ""};
	ferry_db *db;
	uint64_t cnt;
	if (child_wait(rd) != 'a')
		return 1;
	if (ferry_db_open(dir, FERRY_OPEN_NOSYNC, &db, &err))
		return 2;
	char *body = NULL;
	size_t len;
	if (ferry_doc_get(db, "two", "p1", 2, &body, &len, NULL, &err) ||
	    strcmp(body, "{\"by\":\"parent\"}"))
		return 3;
	ferry_free(body);
	if (ferry_doc_put(db, "two", "c1", 2, "{\"by\":\"child\"}", 14,
			  FERRY_OP_CREATE, NULL, &err))
		return 4;
	child_tell(wr, 'b');
	if (child_wait(rd) != 'c')
		return 5;
	/* the parent wrote p2 while this handle was open */
	if (ferry_doc_get(db, "two", "p2", 2, &body, &len, NULL, &err))
		return 6;
	ferry_free(body);
	if (ferry_doc_count(db, "two", &cnt, &err) || cnt != 3)
		return 7;
	if (ferry_index_create(db, "fromchild", NULL, 0, &err))
		return 8;
	child_tell(wr, 'd');
	/* both processes write at once */
	for (int i = 0; i < 500; i++) {
		char id[16];
		snprintf(id, sizeof id, "c%04d", i);
		if (ferry_doc_put(db, "two", id, strlen(id), "{}", 2,
				  FERRY_OP_INDEX, NULL, &err))
			return 9;
	}
	ferry_db_close(db);
	return 0;
}

static void test_two_processes(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	t_create(t->db, "two");
	ferry_db_close(t->db);
	t->db = NULL;
	int p2c[2], c2p[2];
	assert_int_equal(pipe(p2c), 0);
	assert_int_equal(pipe(c2p), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p2c[1]);
		close(c2p[0]);
		_exit(child_main(t->dir, p2c[0], c2p[1]));
	}
	close(p2c[0]);
	close(c2p[1]);
	t_open(t, 0);
	t_put(t->db, "two", "p1", "{\"by\":\"parent\"}");
	child_tell(p2c[1], 'a');
	int got = child_wait(c2p[0]);
	if (got != 'b') {
		int status = 0;
		waitpid(pid, &status, 0);
		fail_msg("child failed at step %d", WEXITSTATUS(status));
	}
	char *v = t_get(t->db, "two", "c1", NULL);
	assert_non_null(v);
	assert_string_equal(v, "{\"by\":\"child\"}");
	ferry_free(v);
	t_put(t->db, "two", "p2", "{}");
	child_tell(p2c[1], 'c');
	got = child_wait(c2p[0]);
	if (got != 'd') {
		int status = 0;
		waitpid(pid, &status, 0);
		fail_msg("child failed at step %d", WEXITSTATUS(status));
	}
	/* the child's catalog change is visible here */
	ferry_index_info info = t_info(t->db, "fromchild");
	assert_string_equal(info.name, "v0_1_0.default.fromchild");
	for (int i = 0; i < 500; i++) {
		char id[16];
		snprintf(id, sizeof id, "p%04d", i);
		t_put(t->db, "two", id, "{}");
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status))
		fail_msg("child failed at step %d", WEXITSTATUS(status));
	close(p2c[1]);
	close(c2p[0]);
	info = t_info(t->db, "two");
	assert_int_equal(info.docs, 1003);
	assert_int_equal(info.seq, 1003);
	/* every doc has its own seq */
	unsigned char *seen = calloc(1004, 1);
	ferry_scan *s;
	ferry_doc d;
	int n = 0;
	T_OK(ferry_scan_open(t->db, "two", NULL, 0, &s, &err), &err);
	while (ferry_scan_next(s, &d, &err) == 0) {
		assert_true(d.seq >= 1 && d.seq <= 1003);
		assert_int_equal(seen[d.seq], 0);
		seen[d.seq] = 1;
		n++;
	}
	ferry_scan_free(s);
	free(seen);
	assert_int_equal(n, 1003);
}

static void test_rdonly(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	ferry_write_result r;
	t_create(t->db, "ro");
	t_put(t->db, "ro", "a", "{\"a\":1}");
	ferry_db_close(t->db);
	t->db = NULL;
	ferry_db *db;
	T_OK(ferry_db_open(t->dir, FERRY_OPEN_RDONLY, &db, &err), &err);
	/* reads work */
	char *v = t_get(db, "ro", "a", NULL);
	assert_string_equal(v, "{\"a\":1}");
	ferry_free(v);
	ferry_status st;
	T_OK(ferry_db_status(db, &st, &err), &err);
	assert_int_equal(st.docs, 1);
	ferry_scan *s;
	ferry_doc d;
	T_OK(ferry_scan_open(db, "ro", NULL, 0, &s, &err), &err);
	T_OK(ferry_scan_next(s, &d, &err), &err);
	ferry_scan_free(s);
	/* writes are refused */
	ferry_alias_op aop = {FERRY_ALIAS_ADD, "default.x", "ro"};
	ferry_bulk *b;
	T_CODE(ferry_doc_put(db, "ro", "b", 1, "{}", 2, FERRY_OP_INDEX, &r,
			     &err), FERRY_EPERM, &err);
	T_CONTAINS(err.msg, "read-only");
	T_CODE(ferry_doc_put(db, "ro", "a", 1, "{}", 2, FERRY_OP_INDEX, &r,
			     &err), FERRY_EPERM, &err);
	T_CODE(ferry_doc_delete(db, "ro", "a", 1, &r, &err), FERRY_EPERM, &err);
	assert_int_equal(ferry_bulk_new(db, &b), 0);
	assert_int_equal(ferry_bulk_add(b, FERRY_OP_INDEX, "ro", "c", 1, "{}",
					2), 0);
	T_CODE(ferry_bulk_commit(b, &err), FERRY_EPERM, &err);
	ferry_bulk_free(b);
	T_CODE(ferry_index_create(db, "other", NULL, 0, &err), FERRY_EPERM,
	       &err);
	T_CODE(ferry_index_delete(db, "v0_1_0.default.ro", 1, &err),
	       FERRY_EPERM, &err);
	T_CODE(ferry_alias_update(db, &aop, 1, &err), FERRY_EPERM, &err);
	T_CODE(ferry_tenant_add(db, "acme", &err), FERRY_EPERM, &err);
	T_CODE(ferry_release_record(db, "0.1.0.1", &err), FERRY_EPERM, &err);
	T_CODE(ferry_db_init(db, "0.1.0", 0, &err), FERRY_EPERM, &err);
	ferry_db_close(db);
	/* nothing changed */
	t_open(t, 0);
	T_OK(ferry_db_status(t->db, &st, &err), &err);
	assert_int_equal(st.indices, 1);
	assert_int_equal(st.tenants, 1);
	assert_int_equal(st.docs, 1);
	assert_string_equal(st.release, "0.1.0");
	t_expect(t->db, "ro", "a", "{\"a\":1}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, t_state_teardown)
		T(test_open_init_close),
		T(test_ops_before_init),
		T(test_put_get_delete),
		T(test_invalid_json),
		T(test_generated_ids),
		T(test_id_lengths),
		T(test_id_bytes),
		T(test_seq_per_index),
		T(test_bulk_mixed),
		T(test_bulk_id_field),
		T(test_scan_order_resume),
		T(test_scan_big_bodies),
		T(test_scan_concurrent_exactly_once),
		T(test_scan_helper_one_snapshot),
		T(test_counts_bytes),
		T(test_many_indices),
		T(test_delete_big_index),
		T(test_threads_one_handle),
		T(test_two_processes),
		T(test_rdonly),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
