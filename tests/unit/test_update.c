/*
 * test_update.c - partial updates (FERRY_OP_UPDATE) through the public
 * bulk API on real LMDB files: merging into an existing document, a
 * missing id (404 "document missing"), doc_as_upsert and upsert, noops
 * that keep the seq, detect_noop off, the change log seeing an update as
 * a write, ordering with other ops of one bulk and of a commit group,
 * every refused request body, and threads updating distinct keys of one
 * document without losing any.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>

#include "testutil.h"

static int setup(void **state)
{
	return t_state_setup(state, "update");
}

/* One update through a one-op bulk; returns the op's code, with *res
 * and *err filled. A failing commit fails the test. */
static int upd(ferry_db *db, const char *index, const char *id,
	       const char *body, ferry_write_result *res, ferry_err *err)
{
	ferry_err ce = {0, ""};
	ferry_bulk *b;
	assert_int_equal(ferry_bulk_new(db, &b), 0);
	assert_int_equal(ferry_bulk_add(b, FERRY_OP_UPDATE, index, id,
					id ? strlen(id) : 0, body,
					body ? strlen(body) : 0), 0);
	T_OK(ferry_bulk_commit(b, &ce), &ce);
	memset(res, 0, sizeof *res);
	err->msg[0] = 0;
	int rc = ferry_bulk_result(b, 0, res, err);
	ferry_bulk_free(b);
	return rc;
}

/* Asserts the stored body of id is exactly `want` (NULL: absent). */
static void expect_body(ferry_db *db, const char *index, const char *id,
			const char *want, uint64_t *seq)
{
	char *got = t_get(db, index, id, seq);
	if (!want) {
		if (got)
			fail_msg("'%s' should be absent, has %s", id, got);
		return;
	}
	if (!got)
		fail_msg("'%s' is absent, want %s", id, want);
	if (strcmp(got, want))
		fail_msg("'%s':\n  got  %s\n  want %s", id, got, want);
	ferry_free(got);
}

static void test_update_existing(void **state)
{
	tdb *t = *state;
	ferry_write_result r;
	ferry_err err = {0, ""};
	uint64_t seq;
	t_create(t->db, "docs");
	uint64_t s1 = t_put(t->db, "docs", "p1",
			    "{\"name\":\"Ann\",\"o\":{\"x\":1,\"l\":[1,2]},\"n\":1}");
	T_OK(upd(t->db, "docs", "p1", "{\"doc\":{\"o\":{\"l\":[3],\"y\":null},"
		 "\"new\":true}}", &r, &err), &err);
	assert_string_equal(r.id, "p1");
	assert_true(r.seq > s1);
	assert_int_equal(r.created, 0);
	assert_int_equal(r.noop, 0);
	expect_body(t->db, "docs", "p1", "{\"name\":\"Ann\",\"o\":{\"x\":1,"
		    "\"l\":[3],\"y\":null},\"n\":1,\"new\":true}", &seq);
	assert_int_equal(seq, r.seq);
	assert_int_equal(t_info(t->db, "docs").docs, 1);
	assert_int_equal(t_info(t->db, "docs").seq, r.seq);
	/* the index's other options are fine alongside doc */
	T_OK(upd(t->db, "docs", "p1", "{\"doc\":{\"n\":2},\"doc_as_upsert\":"
		 "true,\"upsert\":{\"z\":1},\"detect_noop\":true}", &r, &err),
	     &err);
	assert_int_equal(r.created, 0);
	expect_body(t->db, "docs", "p1", "{\"name\":\"Ann\",\"o\":{\"x\":1,"
		    "\"l\":[3],\"y\":null},\"n\":2,\"new\":true}", NULL);
}

static void test_update_missing(void **state)
{
	tdb *t = *state;
	ferry_write_result r;
	ferry_err err = {0, ""};
	t_create(t->db, "docs");
	uint64_t s1 = t_put(t->db, "docs", "other", "{}");
	T_CODE(upd(t->db, "docs", "nope", "{\"doc\":{\"a\":1}}", &r, &err),
	       FERRY_ENOTFOUND, &err);
	assert_string_equal(err.msg, "[nope]: document missing");
	expect_body(t->db, "docs", "nope", NULL, NULL);
	assert_int_equal(t_info(t->db, "docs").seq, s1);
	assert_int_equal(t_info(t->db, "docs").docs, 1);
	/* a deleted id is missing too */
	t_del(t->db, "docs", "other");
	T_CODE(upd(t->db, "docs", "other", "{\"doc\":{\"a\":1}}", &r, &err),
	       FERRY_ENOTFOUND, &err);
	T_CONTAINS(err.msg, "document missing");
	/* a missing index is not a missing document */
	T_CODE(upd(t->db, "nosuch", "x", "{\"doc\":{}}", &r, &err),
	       FERRY_ENOTFOUND, &err);
	T_CONTAINS(err.msg, "nosuch");
}

static void test_doc_as_upsert(void **state)
{
	tdb *t = *state;
	ferry_write_result r;
	ferry_err err = {0, ""};
	t_create(t->db, "docs");
	/* missing: the doc becomes the document, as it was written */
	const char *req = "{\"doc_as_upsert\":true,\"doc\":{ \"a\" : 1 }}";
	T_OK(upd(t->db, "docs", "u1", req, &r, &err), &err);
	assert_int_equal(r.created, 1);
	assert_int_equal(r.noop, 0);
	expect_body(t->db, "docs", "u1", "{ \"a\" : 1 }", NULL);
	/* present: merged like any update; the same again is a noop */
	req = "{\"doc\":{\"b\":2},\"doc_as_upsert\":true}";
	T_OK(upd(t->db, "docs", "u1", req, &r, &err), &err);
	assert_int_equal(r.created, 0);
	assert_int_equal(r.noop, 0);
	uint64_t s = r.seq;
	expect_body(t->db, "docs", "u1", "{\"a\":1,\"b\":2}", NULL);
	T_OK(upd(t->db, "docs", "u1", req, &r, &err), &err);
	assert_int_equal(r.noop, 1);
	assert_int_equal(r.seq, s);
	/* a deleted id comes back */
	t_del(t->db, "docs", "u1");
	T_OK(upd(t->db, "docs", "u1", "{\"doc\":{\"c\":3},\"doc_as_upsert\":"
		 "true}", &r, &err), &err);
	assert_int_equal(r.created, 1);
	expect_body(t->db, "docs", "u1", "{\"c\":3}", NULL);
	/* doc_as_upsert false is a plain update */
	T_CODE(upd(t->db, "docs", "u2", "{\"doc\":{\"c\":3},\"doc_as_upsert\":"
		   "false}", &r, &err), FERRY_ENOTFOUND, &err);
}

static void test_upsert(void **state)
{
	tdb *t = *state;
	ferry_write_result r;
	ferry_err err = {0, ""};
	t_create(t->db, "docs");
	const char *req = "{\"doc\":{\"n\":2},\"upsert\":{\"n\":1,\"first\":true}}";
	T_OK(upd(t->db, "docs", "c1", req, &r, &err), &err);
	assert_int_equal(r.created, 1);
	expect_body(t->db, "docs", "c1", "{\"n\":1,\"first\":true}", NULL);
	T_OK(upd(t->db, "docs", "c1", req, &r, &err), &err);
	assert_int_equal(r.created, 0);
	assert_int_equal(r.noop, 0);
	expect_body(t->db, "docs", "c1", "{\"n\":2,\"first\":true}", NULL);
	/* upsert alone: inserts when missing, leaves a document alone */
	req = "{\"upsert\":{\"only\":1}}";
	T_OK(upd(t->db, "docs", "c2", req, &r, &err), &err);
	assert_int_equal(r.created, 1);
	uint64_t s = r.seq;
	T_OK(upd(t->db, "docs", "c2", "{\"upsert\":{\"only\":2}}", &r, &err),
	     &err);
	assert_int_equal(r.noop, 1);
	assert_int_equal(r.seq, s);
	expect_body(t->db, "docs", "c2", "{\"only\":1}", NULL);
	/* doc_as_upsert wins over upsert (as in Elasticsearch) */
	T_OK(upd(t->db, "docs", "c3", "{\"doc\":{\"d\":1},\"upsert\":{\"u\":1},"
		 "\"doc_as_upsert\":true}", &r, &err), &err);
	expect_body(t->db, "docs", "c3", "{\"d\":1}", NULL);
}

/* Reads every change since `since`: ids and bodies as "id=body;..." */
static void changes_text(ferry_db *db, const char *index, uint64_t since,
			 char *out, size_t n)
{
	ferry_err err = {0, ""};
	ferry_changes *c;
	ferry_doc d;
	uint64_t upto;
	size_t len = 0;
	int rc;
	out[0] = 0;
	T_OK(ferry_changes_open(db, index, since, &c, &upto, &err), &err);
	while ((rc = ferry_changes_next(c, &d, &err)) == 0)
		len += (size_t)snprintf(out + len, n - len, "%.*s@%llu=%.*s;",
					(int)d.idlen, d.id,
					(unsigned long long)d.seq,
					(int)d.body_len, d.deleted ? "" : d.body);
	T_CODE(rc, FERRY_EOF, &err);
	ferry_changes_free(c);
}

static void test_noop_and_change_log(void **state)
{
	tdb *t = *state;
	ferry_write_result r;
	ferry_err err = {0, ""};
	char log[512], want[512];
	t_create(t->db, "docs");
	/* stored with spaces: a noop keeps the stored bytes */
	uint64_t s1 = t_put(t->db, "docs", "d", "{\"a\": 1, \"o\": {\"b\": \"x\"}}");
	T_OK(upd(t->db, "docs", "d", "{\"doc\":{\"o\":{\"b\":\"x\"},\"a\":1}}",
		 &r, &err), &err);
	assert_int_equal(r.noop, 1);
	assert_int_equal(r.created, 0);
	assert_int_equal(r.seq, s1);
	assert_int_equal(t_info(t->db, "docs").seq, s1);
	expect_body(t->db, "docs", "d", "{\"a\": 1, \"o\": {\"b\": \"x\"}}", NULL);
	T_OK(upd(t->db, "docs", "d", "{\"doc\":{}}", &r, &err), &err);
	assert_int_equal(r.noop, 1);
	changes_text(t->db, "docs", s1, log, sizeof log);
	assert_string_equal(log, ""); /* a noop is not in the change log */

	/* an update is a write: the change log has the merged body */
	T_OK(upd(t->db, "docs", "d", "{\"doc\":{\"c\":[1]}}", &r, &err), &err);
	assert_int_equal(r.seq, s1 + 1);
	changes_text(t->db, "docs", s1, log, sizeof log);
	snprintf(want, sizeof want, "d@%llu={\"a\":1,\"o\":{\"b\":\"x\"},"
		 "\"c\":[1]};", (unsigned long long)(s1 + 1));
	assert_string_equal(log, want);

	/* detect_noop false writes anyway: a new seq, the same body */
	T_OK(upd(t->db, "docs", "d", "{\"doc\":{\"c\":[1]},\"detect_noop\":"
		 "false}", &r, &err), &err);
	assert_int_equal(r.noop, 0);
	assert_int_equal(r.created, 0);
	assert_int_equal(r.seq, s1 + 2);
	changes_text(t->db, "docs", s1 + 1, log, sizeof log);
	snprintf(want, sizeof want, "d@%llu={\"a\":1,\"o\":{\"b\":\"x\"},"
		 "\"c\":[1]};", (unsigned long long)(s1 + 2));
	assert_string_equal(log, want);
	assert_int_equal(t_info(t->db, "docs").docs, 1);
	/* ...and detect_noop true (explicitly) is a noop again */
	T_OK(upd(t->db, "docs", "d", "{\"doc\":{\"c\":[1]},\"detect_noop\":"
		 "true}", &r, &err), &err);
	assert_int_equal(r.noop, 1);
	assert_int_equal(r.seq, s1 + 2);
	/* a number written differently is a change (1 -> 1.0) */
	T_OK(upd(t->db, "docs", "d", "{\"doc\":{\"a\":1.0}}", &r, &err), &err);
	assert_int_equal(r.noop, 0);
	expect_body(t->db, "docs", "d", "{\"a\":1.0,\"o\":{\"b\":\"x\"},"
		    "\"c\":[1]}", NULL);
}

/* Adds one op to b (asserting it is accepted). */
static void add(ferry_bulk *b, enum ferry_op op, const char *index,
		const char *id, const char *body)
{
	assert_int_equal(ferry_bulk_add(b, op, index, id, id ? strlen(id) : 0,
					body, body ? strlen(body) : 0), 0);
}

static void test_bulk_order(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""}, oe;
	ferry_write_result r;
	ferry_bulk *b;
	t_create(t->db, "docs");
	assert_int_equal(ferry_bulk_new(t->db, &b), 0);
	add(b, FERRY_OP_UPDATE, "docs", "x", "{\"doc\":{\"v\":0}}");   /* 404 */
	add(b, FERRY_OP_INDEX, "docs", "x", "{\"v\":1}");
	add(b, FERRY_OP_UPDATE, "docs", "x", "{\"doc\":{\"w\":2}}");
	add(b, FERRY_OP_INDEX, "docs", "y", "{\"y\":1}");
	add(b, FERRY_OP_UPDATE, "docs", "x", "{\"doc\":{\"v\":3}}");
	add(b, FERRY_OP_DELETE, "docs", "x", NULL);
	add(b, FERRY_OP_UPDATE, "docs", "x", "{\"doc\":{\"v\":4}}");   /* 404 */
	add(b, FERRY_OP_UPDATE, "docs", "x", "{\"doc\":{\"v\":5},"
	    "\"doc_as_upsert\":true}");
	add(b, FERRY_OP_UPDATE, "docs", "x", "{\"doc\":{\"v\":5}}");   /* noop */
	add(b, FERRY_OP_UPDATE, "docs", "y", "{\"script\":\"x\"}");    /* 400 */
	T_OK(ferry_bulk_commit(b, &err), &err);
	static const int codes[] = {FERRY_ENOTFOUND, 0, 0, 0, 0, 0,
				    FERRY_ENOTFOUND, 0, 0, FERRY_EINVAL};
	for (size_t i = 0; i < 10; i++) {
		oe.msg[0] = 0;
		int rc = ferry_bulk_result(b, i, &r, &oe);
		if (rc != codes[i])
			fail_msg("op %zu: %d (%s), want %d", i, rc, oe.msg,
				 codes[i]);
		if (i == 7)
			assert_int_equal(r.created, 1);
		if (i == 8)
			assert_int_equal(r.noop, 1);
	}
	expect_body(t->db, "docs", "x", "{\"v\":5}", NULL);
	expect_body(t->db, "docs", "y", "{\"y\":1}", NULL);
	assert_int_equal(ferry_bulk_failed(b), 3);
	ferry_bulk_free(b);
}

/* Unsorted ops are packed in apply order at prepare (bulk.c pack_ops):
 * results must still answer by add index, an update's doc and upsert must
 * move with its body, and an op added after prepare must unpack them. */
static void test_bulk_packed(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""}, oe;
	ferry_write_result r[7];
	ferry_bulk *b;
	t_create(t->db, "docs");
	t_put(t->db, "docs", "m", "{\"n\":1}");
	assert_int_equal(ferry_bulk_new(t->db, &b), 0);
	add(b, FERRY_OP_INDEX, "docs", "z", "{\"z\":1}");
	add(b, FERRY_OP_UPDATE, "docs", "m", "{\"doc\":{\"k\":2}}");
	add(b, FERRY_OP_UPDATE, "docs", "q", "{\"doc\":{\"d\":1},"
	    "\"upsert\":{\"u\":1}}");
	add(b, FERRY_OP_INDEX, "docs", "a", "{\"a\":1}");
	add(b, FERRY_OP_CREATE, "docs", "a", "{\"a\":2}");
	T_OK(ferry_bulk_prepare(b, &err), &err);
	assert_int_equal(ferry_bulk_failed(b), 0); /* all valid so far */
	add(b, FERRY_OP_DELETE, "docs", "z", NULL);
	add(b, FERRY_OP_UPDATE, "docs", "a", "{\"doc\":{\"b\":2}}");
	T_OK(ferry_bulk_commit(b, &err), &err);
	static const int codes[] = {0, 0, 0, 0, FERRY_EEXISTS, 0, 0};
	for (size_t i = 0; i < 7; i++) {
		oe.msg[0] = 0;
		int rc = ferry_bulk_result(b, i, &r[i], &oe);
		if (rc != codes[i])
			fail_msg("op %zu: %d (%s), want %d", i, rc, oe.msg,
				 codes[i]);
	}
	assert_int_equal(ferry_bulk_failed(b), 1); /* the create of "a" */
	assert_string_equal(r[0].id, "z");
	assert_string_equal(r[2].id, "q");
	assert_string_equal(r[6].id, "a");
	assert_int_equal(r[2].created, 1);
	/* applied by id (a, a, m, q, z, z), each id in add order */
	assert_true(r[3].seq < r[6].seq);
	assert_true(r[6].seq < r[1].seq);
	assert_true(r[1].seq < r[2].seq);
	assert_true(r[2].seq < r[0].seq);
	assert_true(r[0].seq < r[5].seq);
	expect_body(t->db, "docs", "m", "{\"n\":1,\"k\":2}", NULL);
	expect_body(t->db, "docs", "q", "{\"u\":1}", NULL);
	expect_body(t->db, "docs", "a", "{\"a\":1,\"b\":2}", NULL);
	expect_body(t->db, "docs", "z", NULL, NULL);
	ferry_bulk_free(b);
}

static void test_group_commit(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	ferry_write_result r;
	ferry_bulk *bs[3];
	t_create(t->db, "docs");
	t_put(t->db, "docs", "g", "{\"n\":0}");
	for (int i = 0; i < 3; i++) {
		char body[64];
		assert_int_equal(ferry_bulk_new(t->db, &bs[i]), 0);
		snprintf(body, sizeof body, "{\"doc\":{\"k%d\":%d}}", i, i);
		add(bs[i], FERRY_OP_UPDATE, "docs", "g", body);
		T_OK(ferry_bulk_prepare(bs[i], &err), &err);
	}
	/* each bulk's update sees the ones committed before it in the group */
	T_OK(ferry_bulk_commit_group(bs, 3, &err), &err);
	uint64_t last = 0;
	for (int i = 0; i < 3; i++) {
		T_OK(ferry_bulk_result(bs[i], 0, &r, &err), &err);
		assert_true(r.seq > last);
		last = r.seq;
		ferry_bulk_free(bs[i]);
	}
	expect_body(t->db, "docs", "g", "{\"n\":0,\"k0\":0,\"k1\":1,\"k2\":2}",
		    NULL);
}

static void expect_refused(ferry_db *db, const char *id, const char *body,
			   int code, const char *part)
{
	ferry_write_result r;
	ferry_err err = {0, ""};
	T_CODE(upd(db, "docs", id, body, &r, &err), code, &err);
	if (!strstr(err.msg, part))
		fail_msg("update %s: message '%s' lacks '%s'", body ? body : "-",
			 err.msg, part);
}

static void test_bad_requests(void **state)
{
	tdb *t = *state;
	ferry_write_result r;
	ferry_err err = {0, ""};
	t_create(t->db, "docs");
	uint64_t s = t_put(t->db, "docs", "e", "{\"a\":1}");
	expect_refused(t->db, "e", "{\"script\":{\"source\":\"ctx._source.a++\"}}",
		       FERRY_EINVAL, "send the fields to change as a partial "
		       "document");
	expect_refused(t->db, "e", "{\"doc\":{},\"script\":\"x\"}", FERRY_EINVAL,
		       "scripts are not supported");
	expect_refused(t->db, "e", "{\"scripted_upsert\":true,\"doc\":{}}",
		       FERRY_EINVAL, "scripts are not supported");
	expect_refused(t->db, "e", "{\"doc\":{},\"fields\":[]}", FERRY_EINVAL,
		       "unknown field [fields]");
	expect_refused(t->db, "e", "{\"doc\":[1]}", FERRY_EINVAL,
		       "\"doc\" must be a JSON object, not an array");
	expect_refused(t->db, "e", "{\"upsert\":\"x\"}", FERRY_EINVAL,
		       "\"upsert\" must be a JSON object, not a string");
	expect_refused(t->db, "e", "{\"doc\":{},\"detect_noop\":\"no\"}",
		       FERRY_EINVAL, "\"detect_noop\" must be true or false");
	expect_refused(t->db, "e", "{\"doc\":{},\"doc_as_upsert\":1}",
		       FERRY_EINVAL, "\"doc_as_upsert\" must be true or false");
	expect_refused(t->db, "e", "{\"detect_noop\":true}", FERRY_EINVAL,
		       "\"doc\" is missing");
	expect_refused(t->db, "e", "{}", FERRY_EINVAL, "\"doc\" is missing");
	expect_refused(t->db, "e", "{\"doc_as_upsert\":true,\"upsert\":{}}",
		       FERRY_EINVAL, "\"doc_as_upsert\" needs \"doc\"");
	expect_refused(t->db, "e", "{\"doc\":{\"a\":1,}}", FERRY_EJSON,
		       "byte 14");
	expect_refused(t->db, "e", "{\"doc\":{\"a\":1,\"a\":2}}", FERRY_EJSON,
		       "duplicate key");
	expect_refused(t->db, "e", "[{\"doc\":{}}]", FERRY_EJSON,
		       "must be a JSON object");
	expect_refused(t->db, "e", "", FERRY_EINVAL, "update body is missing");
	expect_refused(t->db, "e", NULL, FERRY_EINVAL, "update body is missing");
	expect_refused(t->db, NULL, "{\"doc\":{}}", FERRY_EINVAL,
		       "needs the id");
	/* nothing of that was written */
	assert_int_equal(t_info(t->db, "docs").seq, s);
	expect_body(t->db, "docs", "e", "{\"a\":1}", NULL);
	/* an unknown op and an update through ferry_doc_put are refused */
	ferry_bulk *b;
	assert_int_equal(ferry_bulk_new(t->db, &b), 0);
	assert_int_equal(ferry_bulk_add(b, (enum ferry_op)9, "docs", "e", 1,
					"{}", 2), FERRY_EINVAL);
	assert_int_equal(ferry_bulk_count(b), 0);
	ferry_bulk_free(b);
	T_CODE(ferry_doc_put(t->db, "docs", "e", 1, "{\"doc\":{}}", 10,
			     FERRY_OP_UPDATE, &r, &err), FERRY_EINVAL, &err);
	/* writes to an index of a version that is not active are blocked */
	T_OK(ferry_index_create(t->db, "v0_0_9.default.old", NULL, 0, &err),
	     &err);
	T_CODE(upd(t->db, "v0_0_9.default.old", "e", "{\"doc\":{},"
		   "\"doc_as_upsert\":true}", &r, &err), FERRY_EPERM, &err);
}

/* Threads each bumping their own key of one document, one update per
 * commit: no update may be lost to another. */
typedef struct bumper {
	ferry_db *db;
	int k, rounds, failed;
} bumper;

static void *bump_main(void *p)
{
	bumper *bp = p;
	for (int i = 1; i <= bp->rounds && !bp->failed; i++) {
		char body[64];
		ferry_write_result r;
		ferry_err err = {0, ""};
		ferry_bulk *b;
		if (ferry_bulk_new(bp->db, &b)) {
			bp->failed = 1;
			break;
		}
		snprintf(body, sizeof body, "{\"doc\":{\"k%d\":%d}}", bp->k, i);
		if (ferry_bulk_add(b, FERRY_OP_UPDATE, "docs", "shared", 6, body,
				   strlen(body)) ||
		    ferry_bulk_commit(b, &err) ||
		    ferry_bulk_result(b, 0, &r, &err) || r.noop)
			bp->failed = 1;
		ferry_bulk_free(b);
	}
	return NULL;
}

static void test_threads_lose_nothing(void **state)
{
	tdb *t = *state;
	enum { NT = 6, ROUNDS = 150 };
	pthread_t th[NT];
	bumper bp[NT];
	char want[512];
	size_t len;
	t_create(t->db, "docs");
	t_put(t->db, "docs", "shared", "{\"base\":true}");
	for (int i = 0; i < NT; i++) {
		bp[i] = (bumper){t->db, i, ROUNDS, 0};
		assert_int_equal(pthread_create(&th[i], NULL, bump_main, &bp[i]), 0);
	}
	for (int i = 0; i < NT; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(bp[i].failed, 0);
	}
	char *got = t_get(t->db, "docs", "shared", NULL);
	assert_non_null(got);
	for (int i = 0; i < NT; i++) {
		len = (size_t)snprintf(want, sizeof want, "\"k%d\":%d", i, ROUNDS);
		if (!strstr(got, want) || len == 0)
			fail_msg("lost an update: %s lacks %s", got, want);
	}
	T_CONTAINS(got, "{\"base\":true,");
	ferry_free(got);
	assert_int_equal(t_info(t->db, "docs").seq, 1 + NT * ROUNDS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, t_state_teardown)
		T(test_update_existing),
		T(test_update_missing),
		T(test_doc_as_upsert),
		T(test_upsert),
		T(test_noop_and_change_log),
		T(test_bulk_order),
		T(test_bulk_packed),
		T(test_group_commit),
		T(test_bad_requests),
		T(test_threads_lose_nothing),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
