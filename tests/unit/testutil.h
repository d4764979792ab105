/*
 * testutil.h - helpers shared by the engine test suites (test_engine.c,
 * test_catalog.c, test_changes.c): temporary data directories, opening
 * and initialising a ferry_db, asserting on ferry return codes with the
 * error message shown, and wall-clock timing for printed measurements.
 *
 * Include after <cmocka.h>. Everything here is static inline so that a
 * suite that uses only part of it still compiles with -Werror.
 */
#ifndef FERRY_TESTUTIL_H
#define FERRY_TESTUTIL_H

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ferry/ferry.h"

/* Fails the test with the code's name and the message when rc != 0. */
#define T_OK(expr, errp)                                                     \
	do {                                                                 \
		int t_rc_ = (expr);                                          \
		if (t_rc_ != 0)                                              \
			fail_msg("%s -> %d (%s): %s", #expr, t_rc_,          \
				 ferry_strerror(t_rc_), (errp)->msg);        \
	} while (0)

/* Fails unless expr returns exactly `code`. */
#define T_CODE(expr, code, errp)                                             \
	do {                                                                 \
		int t_rc_ = (expr);                                          \
		if (t_rc_ != (code))                                         \
			fail_msg("%s -> %d (%s), expected %d (%s): %s",      \
				 #expr, t_rc_, ferry_strerror(t_rc_),        \
				 (int)(code), ferry_strerror(code),          \
				 t_rc_ ? (errp)->msg : "");                  \
	} while (0)

/* Fails unless string s contains part. */
#define T_CONTAINS(s, part)                                                  \
	do {                                                                 \
		if (!strstr((s), (part)))                                    \
			fail_msg("'%s' does not contain '%s'", (s), (part)); \
	} while (0)

/* xorshift64: the suites' reproducible pseudo-random numbers (*s != 0). */
static inline uint64_t t_rnd_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

typedef struct tdb {
	char dir[512];
	ferry_db *db;
} tdb;

static inline double t_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Makes a fresh directory under $FERRY_TEST_TMP (or /tmp). */
static inline void t_mkdtemp(char *out, size_t n, const char *tag)
{
	const char *root = getenv("FERRY_TEST_TMP");
	if (!root || !*root)
		root = "/tmp";
	snprintf(out, n, "%s/ferry-%s-XXXXXX", root, tag);
	if (!mkdtemp(out))
		fail_msg("mkdtemp(%s) failed", out);
}

static inline int t_rm_one(const char *path, const struct stat *st, int flag,
			   struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void t_rmtree(const char *dir)
{
	if (dir && *dir)
		nftw(dir, t_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Opens (creating) dir without fsync per commit: the tests measure and
 * check behaviour, not durability. */
static inline void t_open(tdb *t, unsigned extra_flags)
{
	ferry_err err = {0, ""};
	T_OK(ferry_db_open(t->dir, FERRY_OPEN_CREATE | FERRY_OPEN_NOSYNC |
				   extra_flags, &t->db, &err), &err);
}

/* A temp dir, opened and initialised with `release`. */
static inline void t_setup(tdb *t, const char *tag, const char *release)
{
	ferry_err err = {0, ""};
	memset(t, 0, sizeof *t);
	t_mkdtemp(t->dir, sizeof t->dir, tag);
	t_open(t, 0);
	if (release)
		T_OK(ferry_db_init(t->db, release, 0, &err), &err);
}

static inline void t_teardown(tdb *t)
{
	if (!t)
		return;
	ferry_db_close(t->db);
	t->db = NULL;
	t_rmtree(t->dir);
	t->dir[0] = 0;
}

/* cmocka group fixtures: a fresh initialised data dir (release 0.1.0)
 * per test, removed afterwards. A suite defines its tag with
 *     static int setup(void **s) { return t_state_setup(s, "engine"); }
 */
static inline int t_state_setup(void **state, const char *tag)
{
	tdb *t = calloc(1, sizeof *t);
	if (!t)
		return -1;
	t_setup(t, tag, "0.1.0");
	*state = t;
	return 0;
}

static inline int t_state_teardown(void **state)
{
	tdb *t = *state;
	t_teardown(t);
	free(t);
	return 0;
}

/* Puts body under id (NUL-terminated) in index, op INDEX; returns seq. */
static inline uint64_t t_put(ferry_db *db, const char *index, const char *id,
			     const char *body)
{
	ferry_err err = {0, ""};
	ferry_write_result r;
	T_OK(ferry_doc_put(db, index, id, id ? strlen(id) : 0, body,
			   strlen(body), FERRY_OP_INDEX, &r, &err), &err);
	return r.seq;
}

static inline uint64_t t_del(ferry_db *db, const char *index, const char *id)
{
	ferry_err err = {0, ""};
	ferry_write_result r;
	T_OK(ferry_doc_delete(db, index, id, strlen(id), &r, &err), &err);
	return r.seq;
}

/* The document's body (malloc'd) or NULL if it is absent. */
static inline char *t_get(ferry_db *db, const char *index, const char *id,
			  uint64_t *seq)
{
	ferry_err err = {0, ""};
	char *body = NULL;
	size_t len = 0;
	int rc = ferry_doc_get(db, index, id, strlen(id), &body, &len, seq,
			       &err);
	if (rc == FERRY_ENOTFOUND)
		return NULL;
	T_OK(rc, &err);
	if (strlen(body) != len)
		fail_msg("body length %zu != strlen %zu", len, strlen(body));
	return body;
}

/* Asserts that the document's body is `want` byte for byte. */
static inline void t_expect(ferry_db *db, const char *index, const char *id,
			    const char *want)
{
	char *body = t_get(db, index, id, NULL);
	if (!body)
		fail_msg("%s/%s is absent, wanted %s", index, id, want);
	assert_string_equal(body, want);
	ferry_free(body);
}

static inline ferry_index_info t_info(ferry_db *db, const char *index)
{
	ferry_err err = {0, ""};
	ferry_index_info info;
	T_OK(ferry_index_get(db, index, &info, &err), &err);
	return info;
}

static inline void t_create(ferry_db *db, const char *name)
{
	ferry_err err = {0, ""};
	T_OK(ferry_index_create(db, name, NULL, 0, &err), &err);
}

#endif
