/*
 * main.c - the `ferry` command: global options and the command table.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const cli_cmd commands[] = {
	{"init", cmd_init, "create and initialise a data directory"},
	{"status", cmd_status, "show the active version and what is stored"},
	{"versions", cmd_versions, "list data versions with state and history"},
	{"index", cmd_index, "create, list and delete indices"},
	{"doc", cmd_doc, "put, get and delete single documents"},
	{"import", cmd_import, "load NDJSON or _bulk documents into an index"},
	{"export", cmd_export, "write an index's documents as NDJSON"},
	{"tenant", cmd_tenant, "add and list tenants"},
	{"upgrade", cmd_upgrade, "plan, run, resume or abort a data upgrade"},
	{"rollback", cmd_rollback, "switch back to the previous data version"},
	{"indices", cmd_indices, "delete an old data version's indices; the "
	 "index budget"},
	{"snapshot", cmd_snapshot, "snapshot repositories: create, verify, "
	 "restore"},
	{NULL, NULL, NULL},
};

/* The title line; cli_dispatch prints the usage line and the commands. */
static void usage_head(FILE *f)
{
	fprintf(f, "ferry %s - versioned document indices and zero-loss "
		"upgrades\n\n", FERRY_VERSION_STRING);
}

static void usage_tail(FILE *f)
{
	fprintf(f, "\nglobal options:\n"
		"  --data DIR   data directory (default: $FERRY_DATA or "
		"./ferry-data)\n  --version    print the version\n");
}

/* `ferry`, `ferry --help`: title, commands, global options. */
static int usage_all(int help)
{
	usage_head(help ? stdout : stderr);
	int rc = help ? cli_dispatch(NULL, commands, 1, (char *[]){"--help"}) :
		cli_dispatch(NULL, commands, 0, NULL);
	usage_tail(help ? stdout : stderr);
	return rc;
}

int main(int argc, char **argv)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *v;
		if (cli_opt_value(argc, argv, &i, "--data", &v)) {
			if (!v)
				return cli_usage_error("", "--data needs a directory");
			setenv("FERRY_DATA", v, 1);
		} else if (!strcmp(argv[i], "--version")) {
			printf("ferry %s\n", FERRY_VERSION_STRING);
			return 0;
		} else if (cli_is_help(argv[i])) {
			return usage_all(1);
		} else {
			return cli_usage_error("", "unknown option '%s'", argv[i]);
		}
	}
	if (i >= argc)
		return usage_all(0);
	return cli_dispatch(NULL, commands, argc - i, argv + i);
}
