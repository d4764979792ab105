/*
 * cmd_index.c - `ferry index create | list | delete`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char index_help[] =
"usage: ferry index create NAME [--body JSON | --body-file FILE]\n"
"       ferry index list [PATTERN] [--json]\n"
"       ferry index delete NAME [--force]\n\n"
"NAME is a logical name (profile: tenant default, active version), an\n"
"alias (acme.profile) or a physical name (v0_8_1.acme.profile). The body\n"
"is Elasticsearch's create-index body: {\"settings\":..,\"mappings\":..}.\n"
"create is refused (exit 1), with nothing created, if it would cross the\n"
"index budget (`ferry indices budget`).\n"
"delete refuses an alias (name the physical index, or pass --force).\n"
"PATTERN is a glob over physical names and aliases: 'v0_7_*,-*.session'.\n";

static int index_create(int argc, char **argv)
{
	const char *name = NULL, *body = NULL, *file = NULL, *v;
	char *owned = NULL;
	size_t blen = 0;
	for (int i = 2; i < argc; i++) {
		if (cli_opt_value(argc, argv, &i, "--body", &v)) {
			if (!(body = v))
				return cli_usage_error("index", "--body needs JSON");
		} else if (cli_opt_value(argc, argv, &i, "--body-file", &v)) {
			if (!(file = v))
				return cli_usage_error("index", "--body-file needs a file");
		} else if (argv[i][0] == '-' || name) {
			return cli_usage_error("index", "unexpected '%s'", argv[i]);
		} else {
			name = argv[i];
		}
	}
	if (!name)
		return cli_usage_error("index", "create needs a NAME");
	if (file) {
		if (!(owned = cli_read_file(file, 16u << 20, &blen))) {
			fprintf(stderr, "ferry: error: cannot read body file '%s': "
				"%s\n", file, strerror(errno));
			return 1;
		}
		body = owned;
	} else if (body) {
		blen = strlen(body);
	}
	ferry_db *db;
	ferry_err err = {0};
	int rc = cli_open(0, &db);
	if (!rc) {
		rc = ferry_index_create(db, name, body, blen, &err);
		ferry_db_close(db);
		rc = rc ? cli_fail(&err) : 0;
	}
	if (!rc)
		printf("created index %s\n", name);
	free(owned);
	return rc;
}

static void print_list(const ferry_index_info *v, size_t n, int json)
{
	char a[32], b[32];
	if (!json)
		printf("%-34s %-24s %-10s %12s %10s\n", "INDEX", "ALIAS",
		       "VERSION", "DOCS", "SIZE");
	for (size_t i = 0; i < n; i++) {
		if (!json) {
			printf("%-34s %-24s %-10s %12s %10s\n", v[i].name,
			       v[i].alias[0] ? v[i].alias : "-",
			       v[i].data_version[0] ? v[i].data_version : "-",
			       cli_count(v[i].docs, a), cli_bytes(v[i].bytes, b));
			continue;
		}
		fputs(i ? ",{\"index\":" : "[{\"index\":", stdout);
		cli_json_str(stdout, v[i].name);
		fputs(",\"alias\":", stdout);
		cli_json_str(stdout, v[i].alias);
		printf(",\"tenant\":\"%s\",\"name\":\"%s\",\"version\":\"%s\","
		       "\"docs\":%llu,\"bytes\":%llu,\"seq\":%llu}", v[i].tenant,
		       v[i].index, v[i].data_version,
		       (unsigned long long)v[i].docs,
		       (unsigned long long)v[i].bytes,
		       (unsigned long long)v[i].seq);
	}
	if (json)
		puts(n ? "]" : "[]");
}

static int index_list(int argc, char **argv)
{
	const char *pattern = NULL;
	int json = 0;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (argv[i][0] == '-' || pattern)
			return cli_usage_error("index", "unexpected '%s'", argv[i]);
		else
			pattern = argv[i];
	}
	ferry_db *db;
	ferry_err err = {0};
	ferry_index_info *v;
	size_t n;
	int rc = cli_open(0, &db);
	if (rc)
		return rc;
	rc = ferry_index_list(db, pattern, &v, &n, &err);
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	print_list(v, n, json);
	ferry_free(v);
	return 0;
}

static int index_delete(int argc, char **argv)
{
	const char *name = NULL;
	int force = 0;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			force = 1;
		else if (argv[i][0] == '-' || name)
			return cli_usage_error("index", "unexpected '%s'", argv[i]);
		else
			name = argv[i];
	}
	if (!name)
		return cli_usage_error("index", "delete needs a NAME");
	ferry_db *db;
	ferry_err err = {0};
	int rc = cli_open(0, &db);
	if (rc)
		return rc;
	rc = ferry_index_delete(db, name, force, &err);
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	printf("deleted index %s\n", name);
	return 0;
}

int cmd_index(int argc, char **argv)
{
	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(index_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	for (int i = 2; i < argc; i++)
		if (cli_is_help(argv[i])) {
			fputs(index_help, stdout);
			return 0;
		}
	if (!strcmp(argv[1], "create"))
		return index_create(argc, argv);
	if (!strcmp(argv[1], "list"))
		return index_list(argc, argv);
	if (!strcmp(argv[1], "delete"))
		return index_delete(argc, argv);
	return cli_usage_error("index", "unknown command '%s'", argv[1]);
}
