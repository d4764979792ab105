/*
 * test_catalog.c - the catalog through the public API on real LMDB files:
 * aliases (atomic updates, moves, names, resolution), tenants, index
 * creation by logical, alias and physical names, index deletion and the
 * aliases it removes, data versions and their history, recording minor
 * releases, index patterns and the deployment status; index creates
 * counted against the index budget.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static int setup(void **state)
{
	return t_state_setup(state, "catalog");
}

/* The physical name `name` resolves to, or "" with *rc set. */
static const char *resolve(ferry_db *db, const char *name, int *rc)
{
	static char out[FERRY_NAME_MAX + 1];
	ferry_err err = {0, ""};
	out[0] = 0;
	*rc = ferry_alias_resolve(db, name, out, &err);
	return *rc ? "" : out;
}

static void expect_resolves(ferry_db *db, const char *name, const char *phys)
{
	int rc;
	const char *got = resolve(db, name, &rc);
	if (rc)
		fail_msg("'%s' does not resolve: %s", name, ferry_strerror(rc));
	if (strcmp(got, phys))
		fail_msg("'%s' resolves to '%s', expected '%s'", name, got, phys);
}

static void expect_unresolved(ferry_db *db, const char *name)
{
	int rc;
	const char *got = resolve(db, name, &rc);
	if (rc != FERRY_ENOTFOUND)
		fail_msg("'%s' resolves to '%s' (%s), expected ENOTFOUND", name,
			 got, ferry_strerror(rc));
}

/* Number of events in a history_json array. */
static int count_events(const char *json)
{
	int n = 0;
	for (const char *p = json; (p = strstr(p, "\"event\":")); p++)
		n++;
	return n;
}

/* ---- aliases ------------------------------------------------------------- */

static void test_alias_update_atomic(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	t_create(t->db, "p1");
	t_create(t->db, "p2");
	t_put(t->db, "p1", "in", "{\"in\":1}");
	t_put(t->db, "p2", "in", "{\"in\":2}");
	const char *P1 = "v0_1_0.default.p1", *P2 = "v0_1_0.default.p2";
	expect_resolves(t->db, "default.p1", P1);

	/* one bad op (unknown target) in the middle: none applied */
	ferry_alias_op bad1[] = {
		{FERRY_ALIAS_ADD, "default.x", P1},
		{FERRY_ALIAS_REMOVE, "default.p1", NULL},
		{FERRY_ALIAS_ADD, "default.y", "v0_1_0.default.nosuch"},
		{FERRY_ALIAS_ADD, "default.z", P2},
	};
	err.msg[0] = 0;
	T_CODE(ferry_alias_update(t->db, bad1, N_ELEMS(bad1), &err),
	       FERRY_ENOTFOUND, &err);
	assert_true(err.msg[0] != 0);
	expect_unresolved(t->db, "default.x");
	expect_unresolved(t->db, "default.z");
	expect_resolves(t->db, "default.p1", P1);
	/* bad alias name last: none applied */
	ferry_alias_op bad2[] = {
		{FERRY_ALIAS_ADD, "default.x", P1},
		{FERRY_ALIAS_REMOVE, "default.p1", NULL},
		{FERRY_ALIAS_ADD, "Default.Bad", P2},
	};
	T_CODE(ferry_alias_update(t->db, bad2, N_ELEMS(bad2), &err),
	       FERRY_ENAME, &err);
	expect_unresolved(t->db, "default.x");
	expect_resolves(t->db, "default.p1", P1);
	/* removing an alias that does not exist: none applied */
	ferry_alias_op bad3[] = {
		{FERRY_ALIAS_ADD, "default.x", P1},
		{FERRY_ALIAS_REMOVE, "default.never", NULL},
	};
	T_CODE(ferry_alias_update(t->db, bad3, N_ELEMS(bad3), &err),
	       FERRY_ENOTFOUND, &err);
	expect_unresolved(t->db, "default.x");
	/* removing with the wrong index: none applied */
	ferry_alias_op bad4[] = {
		{FERRY_ALIAS_ADD, "default.x", P1},
		{FERRY_ALIAS_REMOVE, "default.p1", P2},
	};
	T_CODE(ferry_alias_update(t->db, bad4, N_ELEMS(bad4), &err),
	       FERRY_ENOTFOUND, &err);
	expect_unresolved(t->db, "default.x");
	expect_resolves(t->db, "default.p1", P1);
	/* unknown action */
	ferry_alias_op bad5[] = {
		{FERRY_ALIAS_ADD, "default.x", P1},
		{(enum ferry_alias_action)7, "default.p1", P1},
	};
	T_CODE(ferry_alias_update(t->db, bad5, N_ELEMS(bad5), &err),
	       FERRY_EINVAL, &err);
	expect_unresolved(t->db, "default.x");

	/* a good batch applies all: swap p1 and p2 and add two */
	ferry_alias_op good[] = {
		{FERRY_ALIAS_REMOVE, "default.p1", P1},
		{FERRY_ALIAS_ADD, "default.p1", P2},
		{FERRY_ALIAS_ADD, "default.p2", P1}, /* moves it */
		{FERRY_ALIAS_ADD, "default.x", "default.p1"}, /* via alias: P2 */
		{FERRY_ALIAS_ADD, "default.w", "p2"},       /* logical: P1 */
	};
	T_OK(ferry_alias_update(t->db, good, N_ELEMS(good), &err), &err);
	expect_resolves(t->db, "default.p1", P2);
	expect_resolves(t->db, "p1", P2);
	expect_resolves(t->db, "default.p2", P1);
	expect_resolves(t->db, "default.x", P2);
	expect_resolves(t->db, "default.w", P1);
	/* documents follow the alias */
	t_expect(t->db, "p1", "in", "{\"in\":2}");
	t_expect(t->db, "default.w", "in", "{\"in\":1}");
	/* an add on an existing alias moves it */
	ferry_alias_op mv = {FERRY_ALIAS_ADD, "default.x", P1};
	T_OK(ferry_alias_update(t->db, &mv, 1, &err), &err);
	expect_resolves(t->db, "default.x", P1);
	/* remove */
	ferry_alias_op rm = {FERRY_ALIAS_REMOVE, "default.x", NULL};
	T_OK(ferry_alias_update(t->db, &rm, 1, &err), &err);
	expect_unresolved(t->db, "default.x");
	/* an empty list is fine */
	T_OK(ferry_alias_update(t->db, NULL, 0, &err), &err);
}

static void test_alias_names(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	t_create(t->db, "p1");
	t_create(t->db, "v0_0_9.default.logs");
	const char *P1 = "v0_1_0.default.p1";
	static const char *bad[] = {
		"", "nodot", "a.b.c", "Default.p1", "default.P1", "a..b", ".a",
		"a.", "-a.b", "a.-b", "_a.b", "a/b.c", "a.b c", "a.b*",
		"a\xff.b", "v0_1_0.default.p2",
	};
	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		ferry_alias_op op = {FERRY_ALIAS_ADD, bad[i], P1};
		err.msg[0] = 0;
		int rc = ferry_alias_update(t->db, &op, 1, &err);
		if (rc != FERRY_ENAME)
			fail_msg("alias '%s': %s (%s), expected FERRY_ENAME",
				 bad[i], ferry_strerror(rc), err.msg);
		assert_true(err.msg[0] != 0);
	}
	ferry_alias_op nul = {FERRY_ALIAS_ADD, NULL, P1};
	T_CODE(ferry_alias_update(t->db, &nul, 1, &err), FERRY_ENAME, &err);
	/* an alias cannot shadow an index name */
	const char *shadow[] = {P1, "v0_0_9.default.logs"};
	for (size_t i = 0; i < N_ELEMS(shadow); i++) {
		ferry_alias_op op = {FERRY_ALIAS_ADD, shadow[i],
				     "v0_1_0.default.logs"};
		int rc = ferry_alias_update(t->db, &op, 1, &err);
		if (rc != FERRY_ENAME && rc != FERRY_EEXISTS)
			fail_msg("alias named like index '%s': %s", shadow[i],
				 ferry_strerror(rc));
	}
	expect_resolves(t->db, P1, P1);
	expect_resolves(t->db, "v0_0_9.default.logs", "v0_0_9.default.logs");
	/* an alias needs a target */
	ferry_alias_op none = {FERRY_ALIAS_ADD, "default.q", NULL};
	assert_int_not_equal(ferry_alias_update(t->db, &none, 1, &err), 0);
	expect_unresolved(t->db, "default.q");
	/* index creation does not take over a name used by an alias */
	ferry_alias_op a = {FERRY_ALIAS_ADD, "default.taken", P1};
	T_OK(ferry_alias_update(t->db, &a, 1, &err), &err);
	int rc = ferry_index_create(t->db, "taken", NULL, 0, &err);
	if (rc == 0)
		expect_resolves(t->db, "taken", P1); /* alias kept */
	else
		assert_int_equal(rc, FERRY_EEXISTS);
}

static void test_alias_resolve(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	T_OK(ferry_tenant_add(t->db, "acme", &err), &err);
	t_create(t->db, "profile");
	t_create(t->db, "acme.profile");
	t_create(t->db, "v0_2_0.acme.profile");
	t_create(t->db, "v0_0_9.default.logs");
	expect_resolves(t->db, "profile", "v0_1_0.default.profile");
	expect_resolves(t->db, "default.profile", "v0_1_0.default.profile");
	expect_resolves(t->db, "v0_1_0.default.profile", "v0_1_0.default.profile");
	expect_resolves(t->db, "acme.profile", "v0_1_0.acme.profile");
	expect_resolves(t->db, "v0_1_0.acme.profile", "v0_1_0.acme.profile");
	expect_resolves(t->db, "v0_2_0.acme.profile", "v0_2_0.acme.profile");
	expect_resolves(t->db, "v0_0_9.default.logs", "v0_0_9.default.logs");
	expect_unresolved(t->db, "nosuch");
	expect_unresolved(t->db, "acme.nosuch");
	expect_unresolved(t->db, "other.profile");
	expect_unresolved(t->db, "v0_3_0.acme.profile");
	char out[FERRY_NAME_MAX + 1] = "untouched";
	T_CODE(ferry_alias_resolve(t->db, "nosuch", out, &err), FERRY_ENOTFOUND,
	       &err);
	T_CONTAINS(err.msg, "nosuch");
	assert_string_equal(out, "untouched");
	T_CODE(ferry_alias_resolve(t->db, "Bad Name", out, &err), FERRY_ENAME,
	       &err);
	assert_string_equal(out, "untouched");
	char long_name[300];
	memset(long_name, 'a', 256);
	long_name[256] = 0;
	T_CODE(ferry_alias_resolve(t->db, long_name, out, &err), FERRY_ENAME,
	       &err);
}

/* ---- tenants ------------------------------------------------------------- */

static void test_tenants(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	char **v;
	T_OK(ferry_tenant_list(t->db, &v, &err), &err);
	assert_non_null(v[0]);
	assert_string_equal(v[0], "default");
	assert_null(v[1]);
	ferry_strv_free(v);

	char max63[64];
	memset(max63, 'x', 63);
	max63[63] = 0;
	static const char *good[] = {"acme", "b-2", "t_3", "9lives"};
	for (size_t i = 0; i < N_ELEMS(good); i++)
		T_OK(ferry_tenant_add(t->db, good[i], &err), &err);
	T_OK(ferry_tenant_add(t->db, max63, &err), &err);
	/* duplicates */
	err.msg[0] = 0;
	T_CODE(ferry_tenant_add(t->db, "acme", &err), FERRY_EEXISTS, &err);
	T_CONTAINS(err.msg, "acme");
	T_CODE(ferry_tenant_add(t->db, "default", &err), FERRY_EEXISTS, &err);
	/* bad names */
	char max64[65];
	memset(max64, 'x', 64);
	max64[64] = 0;
	static const char *badn[] = {
		"", "Acme", "a.b", "-x", "_x", "a b", "a/b", "caf\xc3\xa9",
		"a*", "tenant!",
	};
	for (size_t i = 0; i < N_ELEMS(badn); i++) {
		err.msg[0] = 0;
		int rc = ferry_tenant_add(t->db, badn[i], &err);
		if (rc != FERRY_ENAME)
			fail_msg("tenant '%s': %s, expected FERRY_ENAME", badn[i],
				 ferry_strerror(rc));
		assert_true(err.msg[0] != 0);
	}
	T_CODE(ferry_tenant_add(t->db, max64, &err), FERRY_ENAME, &err);
	T_CODE(ferry_tenant_add(t->db, NULL, &err), FERRY_ENAME, &err);
	/* the list: sorted, no duplicates, no bad ones */
	T_OK(ferry_tenant_list(t->db, &v, &err), &err);
	const char *want[] = {"9lives", "acme", "b-2", "default", "t_3", max63};
	size_t n = 0;
	while (v[n])
		n++;
	assert_int_equal(n, N_ELEMS(want));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(v[i], want[i]);
	ferry_strv_free(v);
	ferry_strv_free(NULL);
	ferry_status st;
	T_OK(ferry_db_status(t->db, &st, &err), &err);
	assert_int_equal(st.tenants, N_ELEMS(want));
	/* a tenant's indices */
	t_create(t->db, "b-2.events");
	expect_resolves(t->db, "b-2.events", "v0_1_0.b-2.events");
}

/* ---- indices ------------------------------------------------------------- */

static void test_index_create_names(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	ferry_index_info info;

	/* logical name */
	t_create(t->db, "profile");
	info = t_info(t->db, "profile");
	assert_string_equal(info.name, "v0_1_0.default.profile");
	assert_string_equal(info.alias, "default.profile");
	assert_string_equal(info.tenant, "default");
	assert_string_equal(info.index, "profile");
	assert_string_equal(info.data_version, "0.1.0");
	assert_true(info.created_ms > 1600000000000LL);

	/* alias name: the tenant must exist */
	err.msg[0] = 0;
	T_CODE(ferry_index_create(t->db, "acme.profile", NULL, 0, &err),
	       FERRY_ENOTFOUND, &err);
	T_CONTAINS(err.msg, "acme");
	T_CONTAINS(err.msg, "tenant");
	expect_unresolved(t->db, "acme.profile");
	expect_unresolved(t->db, "v0_1_0.acme.profile");
	T_CODE(ferry_index_create(t->db, "v0_1_0.acme.profile", NULL, 0, &err),
	       FERRY_ENOTFOUND, &err);
	T_OK(ferry_tenant_add(t->db, "acme", &err), &err);
	info = t_info(t->db, "acme.profile");
	assert_string_equal(info.name, "v0_1_0.acme.profile");
	assert_string_equal(info.alias, "acme.profile");
	assert_string_equal(info.tenant, "acme");

	/* physical name of the active version: gets its alias */
	t_create(t->db, "v0_1_0.default.event");
	info = t_info(t->db, "default.event");
	assert_string_equal(info.name, "v0_1_0.default.event");
	assert_string_equal(info.alias, "default.event");
	/* physical name of another version: no alias, the alias stays */
	t_create(t->db, "v0_2_0.default.profile");
	info = t_info(t->db, "v0_2_0.default.profile");
	assert_string_equal(info.alias, "");
	assert_string_equal(info.data_version, "0.2.0");
	assert_string_equal(info.tenant, "default");
	assert_string_equal(info.index, "profile");
	expect_resolves(t->db, "profile", "v0_1_0.default.profile");
	/* an ES-valid name that is none of the three is refused: it would
	 * escape versions and upgrades */
	T_CODE(ferry_index_create(t->db, "logs+2024", NULL, 0, &err),
	       FERRY_ENAME, &err);
	assert_non_null(strstr(err.msg, "not a ferry index name"));
	t_create(t->db, "v0_0_9.default.logs");
	info = t_info(t->db, "v0_0_9.default.logs");
	assert_string_equal(info.alias, "");

	/* exists, under each of its names */
	static const char *dup[] = {"profile", "default.profile",
				    "v0_1_0.default.profile", "v0_0_9.default.logs",
				    "acme.profile"};
	for (size_t i = 0; i < N_ELEMS(dup); i++)
		T_CODE(ferry_index_create(t->db, dup[i], NULL, 0, &err),
		       FERRY_EEXISTS, &err);
	/* bad names */
	static const char *badn[] = {"", "Profile", "a/b", "a b", "-x", "_x",
				     "+x", ".", "..", "a*", "a,b", "a\xff"};
	for (size_t i = 0; i < N_ELEMS(badn); i++) {
		int rc = ferry_index_create(t->db, badn[i], NULL, 0, &err);
		if (rc != FERRY_ENAME)
			fail_msg("index '%s': %s, expected FERRY_ENAME", badn[i],
				 ferry_strerror(rc));
	}
	char long_name[300];
	memset(long_name, 'a', 256);
	long_name[256] = 0;
	T_CODE(ferry_index_create(t->db, long_name, NULL, 0, &err), FERRY_ENAME,
	       &err);

	/* bodies: stored as given, validated */
	const char *body = "{\"settings\":{\"n\":1},\"mappings\":{}}";
	T_OK(ferry_index_create(t->db, "withbody", body, strlen(body), &err),
	     &err);
	char *got = NULL;
	size_t len = 0;
	T_OK(ferry_index_body(t->db, "withbody", &got, &len, &err), &err);
	assert_int_equal(len, strlen(body));
	assert_string_equal(got, body);
	ferry_free(got);
	T_OK(ferry_index_body(t->db, "profile", &got, &len, &err), &err);
	assert_string_equal(got, "{}");
	ferry_free(got);
	T_CODE(ferry_index_create(t->db, "badbody", "{\"settings\":", 12, &err),
	       FERRY_EJSON, &err);
	T_CONTAINS(err.msg, "byte");
	T_CODE(ferry_index_create(t->db, "badbody", "[]", 2, &err), FERRY_EJSON,
	       &err);
	expect_unresolved(t->db, "badbody");
	T_CODE(ferry_index_body(t->db, "badbody", &got, &len, &err),
	       FERRY_ENOTFOUND, &err);

	ferry_status st;
	T_OK(ferry_db_status(t->db, &st, &err), &err);
	assert_int_equal(st.indices, 6);
}

static void test_index_delete(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	t_create(t->db, "p1");
	t_put(t->db, "p1", "a", "{}");
	/* through an alias of the active version: refused without force */
	T_CODE(ferry_index_delete(t->db, "p1", 0, &err), FERRY_EPERM, &err);
	T_CODE(ferry_index_delete(t->db, "default.p1", 0, &err), FERRY_EPERM,
	       &err);
	expect_resolves(t->db, "p1", "v0_1_0.default.p1");
	T_OK(ferry_index_delete(t->db, "default.p1", 1, &err), &err);
	expect_unresolved(t->db, "p1");
	expect_unresolved(t->db, "v0_1_0.default.p1");
	T_CODE(ferry_index_delete(t->db, "v0_1_0.default.p1", 0, &err),
	       FERRY_ENOTFOUND, &err);
	T_CODE(ferry_index_delete(t->db, "nosuch", 1, &err), FERRY_ENOTFOUND,
	       &err);
	T_CODE(ferry_index_delete(t->db, "Bad Name", 1, &err), FERRY_ENAME,
	       &err);
	/* by physical name: its alias goes too */
	t_create(t->db, "p2");
	T_OK(ferry_index_delete(t->db, "v0_1_0.default.p2", 0, &err), &err);
	expect_unresolved(t->db, "default.p2");
	/* other aliases pointing at it go too: a new index of the same
	 * name must not be reached through them */
	t_create(t->db, "p3");
	ferry_alias_op ops[] = {
		{FERRY_ALIAS_ADD, "default.other", "v0_1_0.default.p3"},
	};
	T_OK(ferry_alias_update(t->db, ops, 1, &err), &err);
	T_OK(ferry_index_delete(t->db, "v0_1_0.default.p3", 0, &err), &err);
	expect_unresolved(t->db, "default.p3");
	t_create(t->db, "v0_1_0.default.p3");
	expect_unresolved(t->db, "default.other");
}

/* Only indices of the active version are protected from deletion through
 * an alias; an old version's index reached through one may be deleted. */
static void test_index_delete_old_via_alias(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	t_create(t->db, "v0_0_9.default.old");
	ferry_alias_op op = {FERRY_ALIAS_ADD, "default.old",
			     "v0_0_9.default.old"};
	T_OK(ferry_alias_update(t->db, &op, 1, &err), &err);
	T_OK(ferry_index_delete(t->db, "default.old", 0, &err), &err);
	expect_unresolved(t->db, "v0_0_9.default.old");
	expect_unresolved(t->db, "default.old");
}

/* ---- versions and releases ----------------------------------------------- */

static void test_versions_after_init(void **state)
{
	(void)state;
	tdb u;
	ferry_err err = {0, ""};
	ferry_version_info *v = NULL;
	size_t n = 0;
	t_setup(&u, "versions", "0.8.1.1");
	T_OK(ferry_version_list(u.db, &v, &n, &err), &err);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].data_version, "0.8.1");
	assert_string_equal(v[0].release, "0.8.1.1");
	assert_string_equal(v[0].state, "active");
	assert_string_equal(v[0].from, "");
	assert_true(v[0].created_ms > 1600000000000LL);
	assert_true(v[0].activated_ms >= v[0].created_ms);
	assert_int_equal(v[0].indices, 0);
	assert_non_null(v[0].history_json);
	const char *h = v[0].history_json;
	assert_int_equal(h[0], '[');
	assert_int_equal(h[strlen(h) - 1], ']');
	T_CONTAINS(h, "\"event\":\"init\"");
	T_CONTAINS(h, "0.8.1.1");
	assert_int_equal(count_events(h), 1);
	ferry_version_list_free(v, n);
	ferry_version_list_free(NULL, 0);
	/* indices are counted per version */
	t_create(u.db, "a");
	t_create(u.db, "b");
	t_create(u.db, "v0_9_0.default.a");
	T_OK(ferry_version_list(u.db, &v, &n, &err), &err);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].indices, 2);
	ferry_version_list_free(v, n);
	ferry_status st;
	T_OK(ferry_db_status(u.db, &st, &err), &err);
	assert_string_equal(st.release, "0.8.1.1");
	assert_string_equal(st.data_version, "0.8.1");
	t_teardown(&u);
}

static void test_release_record(void **state)
{
	(void)state;
	tdb u;
	ferry_err err = {0, ""};
	ferry_version_info *v = NULL;
	ferry_status st;
	size_t n = 0;
	t_setup(&u, "release", "0.8.1.1");

	/* minor: recorded */
	T_OK(ferry_release_record(u.db, "0.8.1.4", &err), &err);
	T_OK(ferry_version_list(u.db, &v, &n, &err), &err);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].release, "0.8.1.4");
	assert_string_equal(v[0].state, "active");
	assert_int_equal(count_events(v[0].history_json), 2);
	T_CONTAINS(v[0].history_json, "\"event\":\"init\"");
	T_CONTAINS(v[0].history_json, "0.8.1.4");
	const char *first = strstr(v[0].history_json, "\"init\"");
	const char *second = strstr(v[0].history_json, "0.8.1.4");
	assert_true(first < second); /* appended, oldest first */
	ferry_version_list_free(v, n);
	T_OK(ferry_db_status(u.db, &st, &err), &err);
	assert_string_equal(st.release, "0.8.1.4");
	assert_string_equal(st.data_version, "0.8.1");
	/* the same release again: nothing new */
	T_OK(ferry_release_record(u.db, "0.8.1.4", &err), &err);
	/* major: refused, pointing at the upgrade */
	static const char *major[] = {"0.8.2", "0.9.0", "1.0.0", "0.8.2.1"};
	for (size_t i = 0; i < N_ELEMS(major); i++) {
		err.msg[0] = 0;
		T_CODE(ferry_release_record(u.db, major[i], &err),
		       FERRY_EVERSION, &err);
		T_CONTAINS(err.msg, "ferry upgrade plan");
	}
	/* downgrades: refused */
	static const char *down[] = {"0.8.1.2", "0.8.1", "0.8.0", "0.7.9.9",
				     "0.8.1.3"};
	for (size_t i = 0; i < N_ELEMS(down); i++) {
		err.msg[0] = 0;
		T_CODE(ferry_release_record(u.db, down[i], &err), FERRY_EVERSION,
		       &err);
		assert_true(err.msg[0] != 0);
		if (strstr(err.msg, "ferry upgrade plan"))
			fail_msg("downgrade %s called an upgrade: %s", down[i],
				 err.msg);
	}
	/* not versions */
	static const char *junk[] = {"", "x.y", "v0.8.1.5", "0.8.1.5.6",
				     "0.8.01.5"};
	for (size_t i = 0; i < N_ELEMS(junk); i++)
		T_CODE(ferry_release_record(u.db, junk[i], &err), FERRY_EVERSION,
		       &err);
	/* none of that changed anything */
	T_OK(ferry_version_list(u.db, &v, &n, &err), &err);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].release, "0.8.1.4");
	assert_int_equal(count_events(v[0].history_json), 2);
	ferry_version_list_free(v, n);
	T_OK(ferry_db_status(u.db, &st, &err), &err);
	assert_string_equal(st.release, "0.8.1.4");
	/* another minor */
	T_OK(ferry_release_record(u.db, "0.8.1.10", &err), &err);
	T_OK(ferry_version_list(u.db, &v, &n, &err), &err);
	assert_string_equal(v[0].release, "0.8.1.10");
	assert_int_equal(count_events(v[0].history_json), 3);
	ferry_version_list_free(v, n);
	t_teardown(&u);

	/* data_parts 2: minor releases differ in the third number */
	t_setup(&u, "release2", NULL);
	T_OK(ferry_db_init(u.db, "0.8.1", 2, &err), &err);
	T_OK(ferry_release_record(u.db, "0.8.5", &err), &err);
	T_OK(ferry_release_record(u.db, "0.8.5.1", &err), &err);
	T_CODE(ferry_release_record(u.db, "0.9.0", &err), FERRY_EVERSION, &err);
	T_CONTAINS(err.msg, "ferry upgrade plan");
	T_OK(ferry_db_status(u.db, &st, &err), &err);
	assert_string_equal(st.release, "0.8.5.1");
	assert_string_equal(st.data_version, "0.8");
	t_teardown(&u);
}

/* ---- listing and status -------------------------------------------------- */

/* Lists with pattern and checks the names, in order ("" ends want). */
static void expect_list(ferry_db *db, const char *pattern,
			const char *const *want, size_t nwant)
{
	ferry_err err = {0, ""};
	ferry_index_info *list = NULL;
	size_t n = 99;
	T_OK(ferry_index_list(db, pattern, &list, &n, &err), &err);
	char got[2048] = "";
	size_t gl = 0;
	for (size_t i = 0; i < n; i++)
		gl += (size_t)snprintf(got + gl, sizeof got - gl, " %s",
				       list[i].name);
	int ok = n == nwant;
	for (size_t i = 0; ok && i < n; i++)
		ok = !strcmp(list[i].name, want[i]);
	ferry_free(list);
	if (!ok) {
		char w[2048] = "";
		size_t wl = 0;
		for (size_t i = 0; i < nwant; i++)
			wl += (size_t)snprintf(w + wl, sizeof w - wl, " %s",
					       want[i]);
		fail_msg("pattern '%s': got [%s ], want [%s ]",
			 pattern ? pattern : "(null)", got, w);
	}
}

#define LIST(pattern, ...)                                                   \
	do {                                                                 \
		const char *const w_[] = {__VA_ARGS__};                      \
		expect_list(t->db, pattern, w_ + 1, N_ELEMS(w_) - 1);        \
	} while (0)

static void test_index_list_glob(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	T_OK(ferry_tenant_add(t->db, "acme", &err), &err);
	t_create(t->db, "profile");
	t_create(t->db, "event");
	t_create(t->db, "acme.profile");
	t_create(t->db, "v0_2_0.default.profile");
	t_create(t->db, "v0_0_9.default.logs");
	const char *ALL[] = {"v0_0_9.default.logs", "v0_1_0.acme.profile",
			     "v0_1_0.default.event", "v0_1_0.default.profile",
			     "v0_2_0.default.profile"};
	expect_list(t->db, NULL, ALL, 5);
	expect_list(t->db, "*", ALL, 5);
	expect_list(t->db, "_all", ALL, 5);
	expect_list(t->db, "", ALL, 5);
	LIST("v0_1_0.*", "", "v0_1_0.acme.profile", "v0_1_0.default.event",
	     "v0_1_0.default.profile");
	LIST("*.profile", "", "v0_1_0.acme.profile", "v0_1_0.default.profile",
	     "v0_2_0.default.profile");
	/* aliases match too */
	LIST("default.*", "", "v0_1_0.default.event", "v0_1_0.default.profile");
	LIST("acme.profile", "", "v0_1_0.acme.profile");
	LIST("v0_0_9.default.log?", "", "v0_0_9.default.logs");
	LIST("v0_?_0.default.profile", "", "v0_1_0.default.profile",
	     "v0_2_0.default.profile");
	LIST("nomatch*", "");
	LIST("event,v0_0_9*", "", "v0_0_9.default.logs");
	LIST("default.event,v0_0_9*", "", "v0_0_9.default.logs", "v0_1_0.default.event");
	/* exclusions */
	LIST("v0_*,-v0_1_0.acme.*", "", "v0_0_9.default.logs",
	     "v0_1_0.default.event",
	     "v0_1_0.default.profile", "v0_2_0.default.profile");
	LIST("*.profile,-v0_2_0.*", "", "v0_1_0.acme.profile",
	     "v0_1_0.default.profile");
	LIST("v0_*,-*.event,-*acme*", "", "v0_0_9.default.logs",
	     "v0_1_0.default.profile",
	     "v0_2_0.default.profile");
	/* an exclusion must exclude an index that also has an alias */
	LIST("*,-v0_1_0.*", "", "v0_0_9.default.logs", "v0_2_0.default.profile");
	LIST("-v0_1_0.*", "", "v0_0_9.default.logs", "v0_2_0.default.profile");
	LIST("-v0_0_9*", "", "v0_1_0.acme.profile", "v0_1_0.default.event",
	     "v0_1_0.default.profile", "v0_2_0.default.profile");
	/* list info is filled */
	ferry_index_info *list;
	size_t n;
	t_put(t->db, "profile", "a", "{\"x\":1}");
	T_OK(ferry_index_list(t->db, "v0_1_0.default.profile", &list, &n, &err),
	     &err);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].alias, "default.profile");
	assert_string_equal(list[0].tenant, "default");
	assert_string_equal(list[0].index, "profile");
	assert_string_equal(list[0].data_version, "0.1.0");
	assert_int_equal(list[0].docs, 1);
	assert_int_equal(list[0].bytes, 7);
	assert_int_equal(list[0].seq, 1);
	ferry_free(list);
}

static void test_db_status(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	ferry_status st;
	T_OK(ferry_db_status(t->db, &st, &err), &err);
	assert_int_equal(st.indices, 0);
	assert_int_equal(st.tenants, 1);
	assert_int_equal(st.docs, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.index_budget, 1000);
	assert_int_equal(st.data_parts, 3);
	assert_int_equal(st.purge_pending, 0);
	assert_true(st.map_size >= st.file_size && st.file_size > 0);

	T_OK(ferry_tenant_add(t->db, "acme", &err), &err);
	t_create(t->db, "a");
	t_create(t->db, "acme.a");
	t_create(t->db, "v0_2_0.acme.a");
	/* only the active version's indices take writes */
	T_CODE(ferry_doc_put(t->db, "v0_2_0.acme.a", "x", 1, "{}", 2,
			     FERRY_OP_INDEX, NULL, &err), FERRY_EPERM, &err);
	assert_non_null(strstr(err.msg, "read-only"));
	t_create(t->db, "v0_1_0.acme.b");
	uint64_t docs = 0, bytes = 0;
	const char *idx[] = {"a", "acme.a", "v0_1_0.acme.b"};
	for (int i = 0; i < 300; i++) {
		char id[16], body[64];
		snprintf(id, sizeof id, "d%d", i);
		int bl = snprintf(body, sizeof body, "{\"i\":%d}", i);
		t_put(t->db, idx[i % 3], id, body);
		docs++;
		bytes += (uint64_t)bl;
	}
	t_put(t->db, "a", "d0", "{}"); /* replace: 7 bytes -> 2 */
	bytes -= 5;
	t_del(t->db, "acme.a", "d1");
	docs--;
	bytes -= 7;
	T_OK(ferry_db_status(t->db, &st, &err), &err);
	assert_int_equal(st.indices, 4);
	assert_int_equal(st.tenants, 2);
	assert_int_equal(st.docs, docs);
	assert_int_equal(st.bytes, bytes);
	/* the totals are the sum over ferry_index_list */
	ferry_index_info *list;
	size_t n;
	T_OK(ferry_index_list(t->db, NULL, &list, &n, &err), &err);
	uint64_t ld = 0, lb = 0;
	for (size_t i = 0; i < n; i++) {
		ld += list[i].docs;
		lb += list[i].bytes;
	}
	ferry_free(list);
	assert_int_equal(ld, st.docs);
	assert_int_equal(lb, st.bytes);
	/* deleting an index takes its docs out of the totals */
	ferry_index_info gone = t_info(t->db, "v0_1_0.acme.b");
	T_OK(ferry_index_delete(t->db, "v0_1_0.acme.b", 0, &err), &err);
	T_OK(ferry_db_status(t->db, &st, &err), &err);
	assert_int_equal(st.indices, 3);
	assert_int_equal(st.docs, docs - gone.docs);
	assert_int_equal(st.bytes, bytes - gone.bytes);
	assert_int_equal(st.purge_pending, 0);
	assert_string_equal(st.release, "0.1.0");
}

/* ---- index creates and the index budget ---- */

static uint64_t count_indices(ferry_db *db)
{
	ferry_err err = {0, ""};
	ferry_status st;
	T_OK(ferry_db_status(db, &st, &err), &err);
	return st.indices;
}

static void test_index_create_over_budget(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	const char *body = "{\"mappings\":{}}";

	T_OK(ferry_index_budget_set(t->db, 3, &err), &err);
	T_OK(ferry_tenant_add(t->db, "acme", &err), &err);
	t_create(t->db, "a");
	t_create(t->db, "acme.a");
	t_create(t->db, "v0_0_9.acme.old"); /* 3 of 3 fits exactly */
	assert_int_equal(count_indices(t->db), 3);

	/* one more is refused with the numbers and what makes room */
	err.msg[0] = 0;
	T_CODE(ferry_index_create(t->db, "b", NULL, 0, &err), FERRY_ELIMIT,
	       &err);
	T_CONTAINS(err.msg, "index 'b' was not created: it needs 1 new index "
		   "(1 in 0.1.0 (active)), which would make 4 indices, over the "
		   "index budget of 3 (3 now); ");
	T_CONTAINS(err.msg, "candidates: 0.0.9 (1 indices); deleting 0.0.9 "
		   "makes room) or raise the budget (`ferry indices budget 4`)");
	/* nothing written: no index, no alias */
	assert_int_equal(count_indices(t->db), 3);
	expect_unresolved(t->db, "b");
	expect_unresolved(t->db, "v0_1_0.default.b");
	/* the same for an alias name with a body and a physical name */
	T_CODE(ferry_index_create(t->db, "acme.b", body, strlen(body), &err),
	       FERRY_ELIMIT, &err);
	T_CONTAINS(err.msg, "index 'acme.b' was not created");
	T_CODE(ferry_index_create(t->db, "v0_0_9.acme.b", NULL, 0, &err),
	       FERRY_ELIMIT, &err);
	T_CONTAINS(err.msg, "(1 in 0.0.9), which would make 4 indices");
	assert_int_equal(count_indices(t->db), 3);
	expect_unresolved(t->db, "acme.b");
	expect_unresolved(t->db, "v0_0_9.acme.b");
	/* an existing name is still "exists", a bad one still a name error */
	T_CODE(ferry_index_create(t->db, "a", NULL, 0, &err), FERRY_EEXISTS,
	       &err);
	T_CODE(ferry_index_create(t->db, "Bad", NULL, 0, &err), FERRY_ENAME,
	       &err);

	/* deleting the old version's index makes room for one */
	T_OK(ferry_index_delete(t->db, "v0_0_9.acme.old", 0, &err), &err);
	T_OK(ferry_index_create(t->db, "acme.b", body, strlen(body), &err),
	     &err);
	expect_resolves(t->db, "acme.b", "v0_1_0.acme.b");
	T_CODE(ferry_index_create(t->db, "b", NULL, 0, &err), FERRY_ELIMIT,
	       &err);
	T_CONTAINS(err.msg, "there is no old version to delete: raise the "
		   "budget (`ferry indices budget 4`)");
	/* and so does raising the budget */
	T_OK(ferry_index_budget_set(t->db, 4, &err), &err);
	t_create(t->db, "b");
	assert_int_equal(count_indices(t->db), 4);
	/* a budget below what exists deletes nothing and refuses more */
	T_OK(ferry_index_budget_set(t->db, 2, &err), &err);
	assert_int_equal(count_indices(t->db), 4);
	T_CODE(ferry_index_create(t->db, "c", NULL, 0, &err), FERRY_ELIMIT,
	       &err);
	T_CONTAINS(err.msg, "which would make 5 indices, over the index budget "
		   "of 2 (4 now)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, t_state_teardown)
		T(test_alias_update_atomic),
		T(test_alias_names),
		T(test_alias_resolve),
		T(test_tenants),
		T(test_index_create_names),
		T(test_index_create_over_budget),
		T(test_index_delete),
		T(test_index_delete_old_via_alias),
		T(test_versions_after_init),
		T(test_release_record),
		T(test_index_list_glob),
		T(test_db_status),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
