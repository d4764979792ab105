/*
 * cli.h - what the `ferry` command's files share: the command table
 * entry type, option parsing helpers, opening the data directory, and
 * error and JSON output. Every command is a cmd_<name>() routed from the
 * table in main.c (git's habit).
 *
 * Exit codes (docs/cli.md): 0 ok, 1 failed, 2 usage error, 3 not found,
 * 4 already exists / conflict, 5 data directory not initialised.
 */
#ifndef FERRY_CLI_H
#define FERRY_CLI_H

#include <stdio.h>

#include "ferry/ferry.h"

enum { EXIT_USAGE = 2, EXIT_NOTFOUND = 3, EXIT_EXISTS = 4, EXIT_NOTINIT = 5 };

typedef struct cli_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} cli_cmd;

/* Runs the sub-command named argv[0] from `table`, or prints usage. */
int cli_dispatch(const char *group, const cli_cmd *table, int argc,
		 char **argv);

/* The data directory: FERRY_DATA or ./ferry-data. */
const char *cli_data_dir(void);
/* Opens the data dir; prints the error and returns non-zero on failure. */
int cli_open(unsigned flags, ferry_db **out);

/* Prints "ferry: error: <msg>" and returns the exit code for err. */
int cli_fail(const ferry_err *err);
/* Prints "ferry: <fmt>" plus a hint to use --help; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int cli_exit_code(int ferry_code);

/* Options: returns 1 if argv[*i] is --name (value in argv[*i+1] or after
 * '='), stores the value and advances *i. */
int cli_opt_value(int argc, char **argv, int *i, const char *name,
		  const char **val);
int cli_is_help(const char *arg);

/* Reads a whole file ("-" for stdin) up to `max` bytes; free with free().*/
char *cli_read_file(const char *path, size_t max, size_t *len);

/* Prints s as a JSON string. */
void cli_json_str(FILE *f, const char *s);
/* Human-friendly numbers: 1234567 -> "1,234,567"; bytes -> "1.2 MiB". */
const char *cli_count(uint64_t n, char buf[32]);
const char *cli_bytes(uint64_t n, char buf[32]);

int cmd_init(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_versions(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_doc(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_tenant(int argc, char **argv);
int cmd_tenant_key(int argc, char **argv); /* cmd_tkey.c */
int cmd_upgrade(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_indices(int argc, char **argv);
int cmd_snapshot_policy(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);

#endif
