/*
 * test_tkey.c - tenant keys through the public API on real data dirs
 * (issue 6 §1): create prints a key of the documented shape whose scope
 * lookup returns; unknown, malformed and revoked keys are refused; the
 * catalog holds only SHA-256 hashes (the data file never contains a key);
 * list and the registry JSON; dropping a tenant from every key; sync
 * replaces one source's keys in one transaction and checks the whole list
 * before changing anything; bad input everywhere.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "testutil.h"

static int setup(void **s)
{
	ferry_err err = {0, ""};
	int rc = t_state_setup(s, "tkey");
	tdb *t = *s;
	T_OK(ferry_tenant_add(t->db, "acme", &err), &err);
	T_OK(ferry_tenant_add(t->db, "beta", &err), &err);
	return rc;
}

static int teardown(void **s) { return t_state_teardown(s); }

static void sha_hex(const char *s, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* "a,b" for a strv, in `out`. */
static const char *joined(char **v, char *out, size_t n)
{
	out[0] = 0;
	for (size_t i = 0; v && v[i]; i++)
		snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? "," : "",
			 v[i]);
	return out;
}

static const char *scope_of(ferry_db *db, const char *key, char *out,
			    size_t n)
{
	ferry_err err = {0, ""};
	char **v = NULL;
	T_OK(ferry_tenant_key_lookup(db, key, &v, &err), &err);
	joined(v, out, n);
	ferry_strv_free(v);
	return out;
}

/* 1 if the bytes of `needle` occur in the file. */
static int file_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 20, len = 0, got, nl = strlen(needle);
	char *buf = malloc(cap);
	int found = 0;
	assert_non_null(f);
	while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap && !(buf = realloc(buf, cap *= 2)))
			fail_msg("out of memory");
	}
	fclose(f);
	for (size_t i = 0; i + nl <= len && !found; i++)
		found = !memcmp(buf + i, needle, nl);
	free(buf);
	return found;
}

static void test_create_lookup(void **s)
{
	tdb *t = *s;
	ferry_err err = {0, ""};
	const char *one[] = {"acme"}, *two[] = {"acme", "beta"}, *all[] = {"*"};
	char k1[FERRY_KEY_MAX + 1], k2[FERRY_KEY_MAX + 1], k3[FERRY_KEY_MAX + 1];
	char b[600];
	T_OK(ferry_tenant_key_create(t->db, one, 1, k1, &err), &err);
	T_OK(ferry_tenant_key_create(t->db, two, 2, k2, &err), &err);
	T_OK(ferry_tenant_key_create(t->db, all, 1, k3, &err), &err);
	assert_int_equal(strlen(k1), FERRY_KEY_MAX);
	assert_memory_equal(k1, "fk_", 3);
	for (int i = 3; i < FERRY_KEY_MAX; i++)
		assert_non_null(strchr("0123456789abcdef", k1[i]));
	assert_string_not_equal(k1, k2);
	assert_string_equal(scope_of(t->db, k1, b, sizeof b), "acme");
	assert_string_equal(scope_of(t->db, k2, b, sizeof b), "acme,beta");
	assert_string_equal(scope_of(t->db, k3, b, sizeof b), "*");
	/* hashes only at rest: the data file never holds a key's text */
	T_OK(ferry_db_sync(t->db, &err), &err);
	snprintf(b, sizeof b, "%s/data.mdb", t->dir);
	assert_false(file_has(b, k1));
	assert_false(file_has(b, k1 + 3));
	assert_false(file_has(b, k2 + 3));
	char h[65];
	sha_hex(k1, h);
	assert_true(file_has(b, h));
}

static void test_lookup_refuses(void **s)
{
	tdb *t = *s;
	ferry_err err = {0, ""};
	char **v = NULL;
	const char *unknown = "fk_0123456789abcdef0123456789abcdef01234567";
	T_CODE(ferry_tenant_key_lookup(t->db, unknown, &v, &err),
	       FERRY_ENOTFOUND, &err);
	T_CONTAINS(err.msg, "unknown tenant key");
	static const char *const bad[] = {
		"", "fk_", "fk_0123456789ABCDEF0123456789abcdef01234567",
		"fk_0123456789abcdef0123456789abcdef0123456",
		"fk_0123456789abcdef0123456789abcdef012345678",
		"xx_0123456789abcdef0123456789abcdef01234567",
		"test-admin-key-0123456789"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		T_CODE(ferry_tenant_key_lookup(t->db, bad[i], &v, &err),
		       FERRY_EINVAL, &err);
	T_CODE(ferry_tenant_key_lookup(t->db, NULL, &v, &err), FERRY_EINVAL,
	       &err);
	assert_null(v);
}

static void test_create_refuses(void **s)
{
	tdb *t = *s;
	ferry_err err = {0, ""};
	char k[FERRY_KEY_MAX + 1] = "untouched";
	const char *nope[] = {"nope"}, *bad[] = {"Acme"},
		   *dup[] = {"acme", "acme"}, *mix[] = {"*", "acme"};
	T_CODE(ferry_tenant_key_create(t->db, nope, 1, k, &err), FERRY_ENOTFOUND,
	       &err);
	T_CONTAINS(err.msg, "no tenant 'nope'");
	T_CODE(ferry_tenant_key_create(t->db, bad, 1, k, &err), FERRY_ENAME,
	       &err);
	T_CODE(ferry_tenant_key_create(t->db, dup, 2, k, &err), FERRY_EINVAL,
	       &err);
	T_CONTAINS(err.msg, "named twice");
	T_CODE(ferry_tenant_key_create(t->db, mix, 2, k, &err), FERRY_EINVAL,
	       &err);
	T_CODE(ferry_tenant_key_create(t->db, nope, 0, k, &err), FERRY_EINVAL,
	       &err);
	T_CODE(ferry_tenant_key_create(t->db, NULL, 1, k, &err), FERRY_EINVAL,
	       &err);
	assert_string_equal(k, "untouched");
	char *json = NULL;
	T_OK(ferry_tenant_key_list(t->db, &json, &err), &err);
	assert_string_equal(json, "[]");
	ferry_free(json);
}

static void test_revoke_list(void **s)
{
	tdb *t = *s;
	ferry_err err = {0, ""};
	const char *one[] = {"acme"}, *two[] = {"beta"};
	char k1[FERRY_KEY_MAX + 1], k2[FERRY_KEY_MAX + 1], h1[65], h2[65];
	char *json = NULL, **v = NULL, exp[512];
	T_OK(ferry_tenant_key_create(t->db, one, 1, k1, &err), &err);
	T_OK(ferry_tenant_key_create(t->db, two, 1, k2, &err), &err);
	sha_hex(k1, h1);
	sha_hex(k2, h2);
	T_OK(ferry_tenant_key_list(t->db, &json, &err), &err);
	snprintf(exp, sizeof exp, "\"sha256\":\"%s\",\"tenants\":[\"acme\"],"
		 "\"created_ms\":", h1);
	T_CONTAINS(json, exp);
	T_CONTAINS(json, h2);
	T_CONTAINS(json, "\"source\":\"local\"");
	assert_null(strstr(json, k1 + 3));
	ferry_free(json);
	T_OK(ferry_tenant_key_revoke(t->db, h1, &err), &err);
	T_CODE(ferry_tenant_key_lookup(t->db, k1, &v, &err), FERRY_ENOTFOUND,
	       &err);
	T_CODE(ferry_tenant_key_revoke(t->db, h1, &err), FERRY_ENOTFOUND, &err);
	/* the key itself is accepted too */
	T_OK(ferry_tenant_key_revoke(t->db, k2, &err), &err);
	T_CODE(ferry_tenant_key_revoke(t->db, "abc", &err), FERRY_EINVAL, &err);
	T_CODE(ferry_tenant_key_revoke(t->db, NULL, &err), FERRY_EINVAL, &err);
	T_OK(ferry_tenant_key_list(t->db, &json, &err), &err);
	assert_string_equal(json, "[]");
	ferry_free(json);
}

static void test_drop_tenant(void **s)
{
	tdb *t = *s;
	ferry_err err = {0, ""};
	const char *a[] = {"acme"}, *ab[] = {"acme", "beta"}, *all[] = {"*"};
	char ka[FERRY_KEY_MAX + 1], kab[FERRY_KEY_MAX + 1];
	char kall[FERRY_KEY_MAX + 1], b[128], **v = NULL;
	size_t revoked = 99;
	T_OK(ferry_tenant_key_create(t->db, a, 1, ka, &err), &err);
	T_OK(ferry_tenant_key_create(t->db, ab, 2, kab, &err), &err);
	T_OK(ferry_tenant_key_create(t->db, all, 1, kall, &err), &err);
	T_OK(ferry_tenant_key_drop_tenant(t->db, "acme", &revoked, &err), &err);
	assert_int_equal(revoked, 1);
	T_OK(ferry_tenant_remove(t->db, "acme", 0, &err), &err);
	T_CODE(ferry_tenant_key_lookup(t->db, ka, &v, &err), FERRY_ENOTFOUND,
	       &err);
	assert_string_equal(scope_of(t->db, kab, b, sizeof b), "beta");
	assert_string_equal(scope_of(t->db, kall, b, sizeof b), "*");
	T_OK(ferry_tenant_key_drop_tenant(t->db, "nobody", &revoked, &err),
	     &err);
	assert_int_equal(revoked, 0);
	T_CODE(ferry_tenant_key_drop_tenant(t->db, "No Body", NULL, &err),
	       FERRY_ENAME, &err);
}

/* A key list entry for `key` scoped to `tenants` (JSON array text). */
static void entry(char *out, size_t n, const char *key, const char *tenants)
{
	char h[65];
	sha_hex(key, h);
	snprintf(out + strlen(out), n - strlen(out), "%s{\"sha256\":\"%s\","
		 "\"tenants\":%s,\"created_ms\":1700000000000}",
		 out[1] ? "," : "", h, tenants);
}

static const char K1[] = "fk_1111111111111111111111111111111111111111";
static const char K2[] = "fk_2222222222222222222222222222222222222222";
static const char K3[] = "fk_3333333333333333333333333333333333333333";

static void test_sync(void **s)
{
	tdb *t = *s;
	ferry_err err = {0, ""};
	const char *a[] = {"acme"};
	char local[FERRY_KEY_MAX + 1], list[2048] = "[", b[128], **v = NULL;
	char *json = NULL;
	T_OK(ferry_tenant_key_create(t->db, a, 1, local, &err), &err);
	entry(list, sizeof list, K1, "[\"acme\"]");
	entry(list, sizeof list, K2, "[\"gamma\",\"beta\"]");
	strcat(list, "]");
	T_OK(ferry_tenant_key_sync(t->db, list, "tms", &err), &err);
	assert_string_equal(scope_of(t->db, K1, b, sizeof b), "acme");
	/* tenants need not exist here (yet) */
	assert_string_equal(scope_of(t->db, K2, b, sizeof b), "gamma,beta");
	T_OK(ferry_tenant_key_list(t->db, &json, &err), &err);
	T_CONTAINS(json, "\"created_ms\":1700000000000,\"source\":\"tms\"");
	ferry_free(json);
	/* a TMS key cannot be revoked locally: it would come back */
	T_CODE(ferry_tenant_key_revoke(t->db, K1, &err), FERRY_EPERM, &err);
	T_CONTAINS(err.msg, "tenant manager");
	/* the same list again changes nothing; a new list replaces it */
	T_OK(ferry_tenant_key_sync(t->db, list, "tms", &err), &err);
	strcpy(list, "[");
	entry(list, sizeof list, K2, "[\"beta\"]");
	entry(list, sizeof list, K3, "[\"*\"]");
	strcat(list, "]");
	T_OK(ferry_tenant_key_sync(t->db, list, "tms", &err), &err);
	T_CODE(ferry_tenant_key_lookup(t->db, K1, &v, &err), FERRY_ENOTFOUND,
	       &err);
	assert_string_equal(scope_of(t->db, K2, b, sizeof b), "beta");
	assert_string_equal(scope_of(t->db, K3, b, sizeof b), "*");
	/* another source's keys are left alone, and an empty list clears */
	assert_string_equal(scope_of(t->db, local, b, sizeof b), "acme");
	T_OK(ferry_tenant_key_sync(t->db, "[]", "tms", &err), &err);
	T_CODE(ferry_tenant_key_lookup(t->db, K3, &v, &err), FERRY_ENOTFOUND,
	       &err);
	assert_string_equal(scope_of(t->db, local, b, sizeof b), "acme");
}

static void test_sync_bad_input(void **s)
{
	tdb *t = *s;
	ferry_err err = {0, ""};
	char good[512] = "[", b[64], h[65];
	entry(good, sizeof good, K1, "[\"acme\"]");
	strcat(good, "]");
	T_OK(ferry_tenant_key_sync(t->db, good, "tms", &err), &err);
	sha_hex(K2, h);
	char bad[8][400];
	snprintf(bad[0], 400, "{\"keys\":[]}");
	snprintf(bad[1], 400, "[{\"sha256\":\"%s\",\"tenants\":[\"acme\"]},"
		 "{\"sha256\":\"%s\",\"tenants\":[\"beta\"]}]", h, h);
	snprintf(bad[2], 400, "[{\"sha256\":\"%.60s\",\"tenants\":[\"a\"]}]", h);
	snprintf(bad[3], 400, "[{\"sha256\":\"%s\",\"tenants\":[]}]", h);
	snprintf(bad[4], 400, "[{\"sha256\":\"%s\",\"tenants\":[\"A B\"]}]", h);
	snprintf(bad[5], 400, "[{\"sha256\":\"%s\",\"tenants\":[\"*\",\"a\"]}]",
		 h);
	snprintf(bad[6], 400, "[{\"sha256\":\"%s\",\"tenants\":\"acme\"}]", h);
	snprintf(bad[7], 400, "[{\"sha256\":\"%s\",\"tenants\":[\"a\"],"
		 "\"created_ms\":-1}]", h);
	for (int i = 0; i < 8; i++) {
		int rc = ferry_tenant_key_sync(t->db, bad[i], "tms", &err);
		if (rc != FERRY_EINVAL && rc != FERRY_ENAME)
			fail_msg("bad list %d: %s -> %d", i, bad[i], rc);
		/* nothing changed: the good list's key is still there */
		assert_string_equal(scope_of(t->db, K1, b, sizeof b), "acme");
	}
	T_CODE(ferry_tenant_key_sync(t->db, "[{", "tms", &err), FERRY_EJSON,
	       &err);
	T_CONTAINS(err.msg, "at byte");
	T_CODE(ferry_tenant_key_sync(t->db, NULL, "tms", &err), FERRY_EINVAL,
	       &err);
	T_CODE(ferry_tenant_key_sync(t->db, "[]", "T M S", &err), FERRY_ENAME,
	       &err);
	assert_string_equal(scope_of(t->db, K1, b, sizeof b), "acme");
}

static void test_registry(void **s)
{
	tdb *t = *s;
	ferry_err err = {0, ""};
	const char *a[] = {"beta"};
	char k[FERRY_KEY_MAX + 1], h[65], *json = NULL;
	T_OK(ferry_tenant_key_create(t->db, a, 1, k, &err), &err);
	sha_hex(k, h);
	T_OK(ferry_tenant_registry(t->db, &json, &err), &err);
	T_CONTAINS(json, "{\"tenants\":[{\"name\":\"acme\",\"created_ms\":");
	T_CONTAINS(json, "{\"name\":\"beta\",\"created_ms\":");
	T_CONTAINS(json, "{\"name\":\"default\",\"created_ms\":");
	T_CONTAINS(json, "],\"keys\":[{\"sha256\":\"");
	T_CONTAINS(json, h);
	assert_int_equal(json[strlen(json) - 1], '}');
	ferry_free(json);
}

static void test_uninitialised(void **s)
{
	(void)s;
	tdb t;
	ferry_err err = {0, ""};
	const char *a[] = {"*"};
	char k[FERRY_KEY_MAX + 1], *json = NULL;
	t_setup(&t, "tkey-new", NULL);
	T_CODE(ferry_tenant_key_create(t.db, a, 1, k, &err), FERRY_ENOTINIT,
	       &err);
	T_CODE(ferry_tenant_key_list(t.db, &json, &err), FERRY_ENOTINIT, &err);
	t_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_lookup, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lookup_refuses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_refuses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_revoke_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_tenant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_bad_input, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
		cmocka_unit_test(test_uninitialised),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
