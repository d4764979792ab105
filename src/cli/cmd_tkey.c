/*
 * cmd_tkey.c - `ferry tenant key create|list|revoke`: the keys that give
 * an HTTP client one tenant's data (docs/tenants.md). A key is printed
 * once, when it is made; the data dir keeps only its SHA-256, which is
 * what list shows and revoke takes. Reached from `ferry tenant key ...`
 * (cmd_tenant in cmd_meta.c hands over argv from "key" on).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "json/json.h"

int cmd_tenant_key(int argc, char **argv);

static const char key_help[] =
"usage: ferry tenant key create TENANT... [--json]\n"
"       ferry tenant key list [--json]\n"
"       ferry tenant key revoke SHA256\n\n"
"A tenant key lets an HTTP client of ferryd reach one tenant's indices\n"
"(send it as 'Authorization: Bearer KEY'). A key for several tenants,\n"
"or for \"*\" (every tenant), serves the tenant named by the first label\n"
"of the Host name (acme.example.com -> acme).\n\n"
"create prints the new key once: store it now, it cannot be shown again\n"
"(only its SHA-256 is kept). list shows each key's SHA-256, scope, age\n"
"and source (local, or tms when mirrored from a tenant manager).\n"
"revoke takes the SHA-256 that list shows (or the key itself).\n";

static int key_create(int argc, char **argv)
{
	const char **names = calloc((size_t)argc, sizeof *names);
	char key[FERRY_KEY_MAX + 1], hex[FERRY_KEY_HASH_MAX + 1];
	ferry_err err = {0, ""};
	ferry_db *db = NULL;
	size_t n = 0;
	int json = 0, rc;
	if (!names)
		return 1;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (argv[i][0] == '-') {
			rc = cli_usage_error("tenant key", "unknown option '%s'",
					     argv[i]);
			goto out;
		} else {
			names[n++] = argv[i];
		}
	}
	rc = n ? cli_open(0, &db) : cli_usage_error("tenant key", "create "
		"takes one or more TENANT names (or '*' for every tenant)");
	if (rc)
		goto out;
	rc = ferry_tenant_key_create(db, names, n, key, &err);
	ferry_db_close(db);
	if (rc || (rc = ferry_tenant_key_hash(key, hex))) {
		rc = cli_fail(&err);
		goto out;
	}
	if (json) {
		printf("{\"key\":\"%s\",\"sha256\":\"%s\",\"tenants\":[", key, hex);
		for (size_t i = 0; i < n; i++) {
			fputs(i ? "," : "", stdout);
			cli_json_str(stdout, names[i]);
		}
		puts("]}");
	} else {
		puts(key);
		fprintf(stderr, "ferry: key %.16s... created; it is shown only "
			"this once: store it now\n", hex);
	}
out:
	free(names);
	return rc;
}

static void print_row(const json_value *k)
{
	const json_value *ts = json_get(k, "tenants", 7);
	int64_t ms = json_int_member(k, "created_ms", 0);
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char when[32] = "-";
	if (ms > 0 && gmtime_r(&s, &tm))
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	printf("%-64s  %-6s  %-19s  ", json_str_member(k, "sha256", "?"),
	       json_str_member(k, "source", "?"), when);
	for (size_t i = 0; ts && ts->type == JSON_ARRAY && i < ts->u.arr.n; i++)
		if (ts->u.arr.v[i]->type == JSON_STRING)
			printf("%s%s", i ? "," : "", ts->u.arr.v[i]->u.str.s);
	putchar('\n');
}

static int key_list(int argc, char **argv)
{
	ferry_err err = {0, ""};
	ferry_db *db;
	json_arena *a = NULL;
	json_value *v;
	char *json = NULL;
	int asjson = 0, rc;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json"))
			return cli_usage_error("tenant key", "unexpected '%s'",
					       argv[i]);
		asjson = 1;
	}
	if ((rc = cli_open(0, &db)))
		return rc;
	rc = ferry_tenant_key_list(db, &json, &err);
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	if (asjson) {
		puts(json);
		goto out;
	}
	if (!(a = json_arena_new()) ||
	    json_parse(a, json, strlen(json), &v, NULL) || v->type != JSON_ARRAY) {
		fputs("ferry: error: cannot read the key list\n", stderr);
		rc = 1;
		goto out;
	}
	if (!v->u.arr.n)
		fputs("no tenant keys; `ferry tenant key create TENANT` makes "
		      "one\n", stderr);
	else
		printf("%-64s  %-6s  %-19s  %s\n", "SHA256", "SOURCE",
		       "CREATED (UTC)", "TENANTS");
	for (size_t i = 0; i < v->u.arr.n; i++)
		print_row(v->u.arr.v[i]);
out:
	json_arena_free(a);
	ferry_free(json);
	return rc;
}

static int key_revoke(int argc, char **argv)
{
	ferry_err err = {0, ""};
	ferry_db *db;
	int rc;
	if (argc != 3 || argv[2][0] == '-')
		return cli_usage_error("tenant key", "revoke takes one SHA256 "
				       "(as `ferry tenant key list` shows it)");
	if ((rc = cli_open(0, &db)))
		return rc;
	rc = ferry_tenant_key_revoke(db, argv[2], &err);
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	printf("revoked key %.16s...\n", argv[2]);
	return 0;
}

/* argv[0] is "key", argv[1] the sub-command. */
int cmd_tenant_key(int argc, char **argv)
{
	static const cli_cmd table[] = {
		{"create", key_create, "make a key for tenants (shown once)"},
		{"list", key_list, "list keys by SHA-256"},
		{"revoke", key_revoke, "revoke a key"},
		{NULL, NULL, NULL}};
	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(key_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	for (int i = 2; i < argc; i++)
		if (cli_is_help(argv[i])) {
			fputs(key_help, stdout);
			return 0;
		}
	for (size_t i = 0; table[i].name; i++)
		if (!strcmp(argv[1], table[i].name))
			return table[i].fn(argc, argv);
	return cli_usage_error("tenant key", "unknown command '%s' (create, "
			       "list, revoke)", argv[1]);
}
