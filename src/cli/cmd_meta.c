/*
 * cmd_meta.c - `ferry init`, `ferry status`, `ferry versions` and
 * `ferry tenant add|list|remove`: the deployment as a whole.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "json/json.h"

static const char init_help[] =
"usage: ferry init [--version V] [--data-parts N] [--json]\n\n"
"Creates the data directory (FERRY_DATA, default ./ferry-data) and its\n"
"catalog with release V active (default: $FERRY_RELEASE, else 0.1.0).\n"
"  --data-parts N  numbers of the release that make the data version\n"
"                  (default 3: 0.8.1.4 has data version 0.8.1)\n";

int cmd_init(int argc, char **argv)
{
	const char *ver = getenv("FERRY_RELEASE"), *parts = NULL, *v;
	int json = 0;
	ferry_db *db;
	ferry_err err = {0};
	if (!ver || !*ver)
		ver = "0.1.0";
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(init_help, stdout);
			return 0;
		} else if (cli_opt_value(argc, argv, &i, "--version", &v)) {
			if (!(ver = v))
				return cli_usage_error("init", "--version needs a value");
		} else if (cli_opt_value(argc, argv, &i, "--data-parts", &v)) {
			if (!(parts = v))
				return cli_usage_error("init", "--data-parts needs a value");
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else {
			return cli_usage_error("init", "unexpected '%s'", argv[i]);
		}
	}
	char *end = NULL;
	long np = parts ? strtol(parts, &end, 10) : 0;
	if (parts && (*end || np < 1 || np > 4))
		return cli_usage_error("init", "--data-parts must be 1 to 4, "
				       "got '%s'", parts);
	int rc = cli_open(FERRY_OPEN_CREATE, &db);
	if (rc)
		return rc;
	rc = ferry_db_init(db, ver, (unsigned)np, &err);
	if (rc) {
		ferry_db_close(db);
		return cli_fail(&err);
	}
	ferry_status st;
	rc = ferry_db_status(db, &st, &err);
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	if (json) {
		printf("{\"data_dir\":");
		cli_json_str(stdout, cli_data_dir());
		printf(",\"release\":\"%s\",\"data_version\":\"%s\","
		       "\"data_parts\":%u}\n", st.release, st.data_version,
		       st.data_parts);
	} else {
		printf("initialised %s: release %s, data version %s\n",
		       cli_data_dir(), st.release, st.data_version);
	}
	return 0;
}

static const char status_help[] =
"usage: ferry status [--json]\n\n"
"Shows the active release and data version, index budget, and totals.\n";

int cmd_status(int argc, char **argv)
{
	int json = 0;
	ferry_db *db;
	ferry_err err = {0};
	ferry_status st;
	char a[32], b[32], c[32], d[32];
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(status_help, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else {
			return cli_usage_error("status", "unexpected '%s'", argv[i]);
		}
	}
	int rc = cli_open(0, &db);
	if (rc)
		return rc;
	rc = ferry_db_status(db, &st, &err);
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	if (json) {
		printf("{\"data_dir\":");
		cli_json_str(stdout, cli_data_dir());
		printf(",\"release\":\"%s\",\"data_version\":\"%s\","
		       "\"data_parts\":%u,\"indices\":%llu,\"index_budget\":%u,"
		       "\"tenants\":%llu,\"docs\":%llu,\"bytes\":%llu,"
		       "\"file_bytes\":%llu,\"purge_pending\":%s}\n",
		       st.release, st.data_version, st.data_parts,
		       (unsigned long long)st.indices, st.index_budget,
		       (unsigned long long)st.tenants, (unsigned long long)st.docs,
		       (unsigned long long)st.bytes,
		       (unsigned long long)st.file_size,
		       st.purge_pending ? "true" : "false");
		return 0;
	}
	printf("data dir:      %s\n", cli_data_dir());
	printf("release:       %s (data version %s, data_parts %u)\n",
	       st.release, st.data_version, st.data_parts);
	printf("indices:       %s of a budget of %u\n", cli_count(st.indices, a),
	       st.index_budget);
	printf("tenants:       %s\n", cli_count(st.tenants, b));
	printf("documents:     %s (%s of JSON)\n", cli_count(st.docs, c),
	       cli_bytes(st.bytes, d));
	printf("data file:     %s\n", cli_bytes(st.file_size, a));
	if (st.purge_pending)
		printf("note:          space of deleted indices is still being "
		       "freed\n");
	return 0;
}

static void print_time(int64_t ms, char *buf, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	if (!ms) {
		snprintf(buf, n, "-");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Prints a version's history: one line per event, and the migration
 * files (with checksums) an upgrade applied. */
static void print_history(const char *history)
{
	json_arena *a = json_arena_new();
	json_value *h;
	json_error je;
	if (!a || json_parse(a, history, strlen(history), &h, &je) ||
	    h->type != JSON_ARRAY) {
		json_arena_free(a);
		return;
	}
	for (size_t i = 0; i < h->u.arr.n; i++) {
		json_value *e = h->u.arr.v[i], *x, *hops;
		char when[32];
		int64_t at = 0;
		if ((x = json_get(e, "at", 2)))
			json_number_int64(x, &at);
		print_time(at, when, sizeof when);
		x = json_get(e, "event", 5);
		printf("    %s  %s", when, x && x->type == JSON_STRING ?
		       x->u.str.s : "?");
		if ((x = json_get(e, "release", 7)) && x->type == JSON_STRING)
			printf(" release %s", x->u.str.s);
		if ((x = json_get(e, "from", 4)) && x->type == JSON_STRING)
			printf(" from %s", x->u.str.s);
		putchar('\n');
		if ((x = json_get(e, "snapshot", 8)) && x->type == JSON_STRING &&
		    x->u.str.len)
			printf("        snapshot %s\n", x->u.str.s);
		json_value *w = json_get(e, "warnings", 8);
		for (size_t k = 0; w && w->type == JSON_ARRAY && k < w->u.arr.n; k++)
			if (w->u.arr.v[k]->type == JSON_STRING)
				printf("        warning: %s\n", w->u.arr.v[k]->u.str.s);
		hops = json_get(e, "hops", 4);
		for (size_t k = 0; hops && hops->type == JSON_ARRAY &&
				   k < hops->u.arr.n; k++) {
			json_value *f = json_get(hops->u.arr.v[k], "file", 4),
				   *c = json_get(hops->u.arr.v[k], "checksum", 8);
			if (f && c && f->type == JSON_STRING && c->type == JSON_STRING)
				printf("        %s  sha256 %.16s\n", f->u.str.s,
				       c->u.str.s);
		}
	}
	json_arena_free(a);
}

static const char versions_help[] =
"usage: ferry versions [--history] [--json]\n\n"
"Lists every data version: state (active, retired, building, failed),\n"
"release, when it was created and activated, and (--history) every event\n"
"with the migration files and checksums an upgrade applied.\n";

int cmd_versions(int argc, char **argv)
{
	int json = 0, history = 0;
	ferry_db *db;
	ferry_err err = {0};
	ferry_version_info *v;
	size_t n;
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(versions_help, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!strcmp(argv[i], "--history")) {
			history = 1;
		} else {
			return cli_usage_error("versions", "unexpected '%s'", argv[i]);
		}
	}
	int rc = cli_open(0, &db);
	if (rc)
		return rc;
	rc = ferry_version_list(db, &v, &n, &err);
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	if (!json)
		printf("%-14s %-12s %-14s %-12s %-21s %s\n", "DATA VERSION",
		       "STATE", "RELEASE", "FROM", "ACTIVATED", "INDICES");
	for (size_t i = 0; i < n; i++) {
		char t1[32], t2[32];
		print_time(v[i].created_ms, t1, sizeof t1);
		print_time(v[i].activated_ms, t2, sizeof t2);
		if (json) {
			printf("%s{\"data_version\":\"%s\",\"state\":\"%s\","
			       "\"release\":\"%s\",\"from\":\"%s\",\"created\":\"%s\","
			       "\"activated\":\"%s\",\"indices\":%llu,\"history\":%s}",
			       i ? "," : "[", v[i].data_version, v[i].state,
			       v[i].release, v[i].from, t1, t2,
			       (unsigned long long)v[i].indices, v[i].history_json);
		} else {
			printf("%-14s %-12s %-14s %-12s %-21s %llu\n",
			       v[i].data_version, v[i].state, v[i].release,
			       v[i].from[0] ? v[i].from : "-", t2,
			       (unsigned long long)v[i].indices);
			if (history)
				print_history(v[i].history_json);
		}
	}
	if (json)
		printf("%s]\n", n ? "" : "[");
	ferry_version_list_free(v, n);
	return 0;
}

static const char tenant_help[] =
"usage: ferry tenant add NAME\n"
"       ferry tenant list [--json]\n"
"       ferry tenant remove NAME [--force]\n\n"
"Tenants own indices: the alias acme.profile belongs to tenant acme.\n"
"Names: a-z 0-9 then a-z 0-9 _ -, at most 63 characters.\n\n"
"add creates the tenant with the index set the others have in the active\n"
"version (same settings and mappings, empty); during an upgrade also the\n"
"new version's indices, so the cutover switches it with every tenant;\n"
"after one, while `ferry rollback` is possible, the previous version's\n"
"too, so a rollback moves it back. An add whose indices would cross the\n"
"index budget is refused with the counts and changes nothing (`ferry\n"
"indices delete --version V` or `ferry indices budget N` make room).\n"
"remove deletes the tenant and its indices in every version; --force is\n"
"needed when they hold documents. Not while an upgrade is under way.\n";

/* `ferry tenant add NAME` and `ferry tenant remove NAME [--force]`. */
static int tenant_change(int argc, char **argv, int add)
{
	ferry_db *db;
	ferry_err err = {0};
	const char *name = NULL;
	int force = 0, rc;
	for (int i = 2; i < argc; i++) {
		if (!add && !strcmp(argv[i], "--force"))
			force = 1;
		else if (!name && argv[i][0] != '-')
			name = argv[i];
		else
			return cli_usage_error("tenant", "%s takes one NAME%s",
					       argv[1], add ? "" : " [--force]");
	}
	if (!name)
		return cli_usage_error("tenant", "%s takes one NAME", argv[1]);
	if ((rc = cli_open(0, &db)))
		return rc;
	rc = add ? ferry_tenant_add(db, name, &err)
		 : ferry_tenant_remove(db, name, force, &err);
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	printf("%s tenant %s\n", add ? "added" : "removed", name);
	return 0;
}

int cmd_tenant(int argc, char **argv)
{
	ferry_db *db;
	ferry_err err = {0};
	int json = 0, rc;
	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(tenant_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "key"))
		return cmd_tenant_key(argc - 1, argv + 1);
	for (int i = 2; i < argc; i++)
		if (cli_is_help(argv[i])) {
			fputs(tenant_help, stdout);
			return 0;
		}
	if (!strcmp(argv[1], "add") || !strcmp(argv[1], "remove"))
		return tenant_change(argc, argv, argv[1][0] == 'a');
	if (strcmp(argv[1], "list"))
		return cli_usage_error("tenant", "unknown command '%s'", argv[1]);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json"))
			return cli_usage_error("tenant", "unexpected '%s'", argv[i]);
		json = 1;
	}
	char **v;
	if ((rc = cli_open(0, &db)))
		return rc;
	rc = ferry_tenant_list(db, &v, &err);
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	for (size_t i = 0; v[i]; i++) {
		if (json) {
			fputs(i ? "," : "[", stdout);
			cli_json_str(stdout, v[i]);
		} else {
			puts(v[i]);
		}
	}
	if (json)
		puts(v[0] ? "]" : "[]");
	ferry_strv_free(v);
	return 0;
}
