/*
 * cmd_policy.c - `ferry snapshot policy put|list|run|delete|run-due`:
 * snapshot lifecycle policies like Elasticsearch SLM.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"

static const char policy_help[] =
"usage: ferry snapshot policy put ID --schedule CRON --repo R --name NAME\n"
"                            [--indices PATTERN] [--expire-after 30d]\n"
"                            [--min-count N] [--max-count N]\n"
"       ferry snapshot policy list [ID] [--json]\n"
"       ferry snapshot policy run ID\n"
"       ferry snapshot policy delete ID\n"
"       ferry snapshot policy run-due [--at UNIX_MS]\n\n"
"CRON is UTC, 5 fields ('30 1 * * *') or Quartz ('0 30 1 * * ?'). NAME may\n"
"use date math: '<nightly-{now/d}>' -> nightly-2026.11.22. Retention keeps\n"
"at least --min-count snapshots, deletes those older than --expire-after,\n"
"and keeps at most --max-count. run-due runs what is due: call it from a\n"
"system cron every minute until ferryd schedules policies itself; --at\n"
"runs it as if the clock said UNIX_MS (catching up, tests).\n";

static int put(int argc, char **argv)
{
	const char *id = NULL, *sched = NULL, *repo = NULL, *name = NULL,
		   *ix = "*", *exp = NULL, *minc = "0", *maxc = "0", *v;
	static const char *const opts[] = {"--schedule", "--repo", "--name",
		"--indices", "--expire-after", "--min-count", "--max-count"};
	const char **dst[] = {&sched, &repo, &name, &ix, &exp, &minc, &maxc};
	for (int i = 2; i < argc; i++) {
		size_t k = 0;
		while (k < 7 && !cli_opt_value(argc, argv, &i, opts[k], &v))
			k++;
		if (k < 7 && !v)
			return cli_usage_error("snapshot policy", "%s needs a value",
					       opts[k]);
		if (k < 7)
			*dst[k] = v;
		else if (argv[i][0] == '-' || id)
			return cli_usage_error("snapshot policy", "unexpected '%s'",
					       argv[i]);
		else
			id = argv[i];
	}
	if (!id || !sched || !repo || !name)
		return cli_usage_error("snapshot policy", "put needs ID, --schedule, "
				       "--repo and --name");
	char *e1, *e2;
	long mn = strtol(minc, &e1, 10), mx = strtol(maxc, &e2, 10);
	if (*e1 || *e2 || mn < 0 || mx < 0)
		return cli_usage_error("snapshot policy", "counts are whole "
				       "numbers >= 0");
	fbuf b = FBUF_INIT;
	fbuf_adds(&b, "{\"schedule\":");
	fbuf_add_jstr(&b, sched, strlen(sched));
	fbuf_adds(&b, ",\"name\":");
	fbuf_add_jstr(&b, name, strlen(name));
	fbuf_adds(&b, ",\"repository\":");
	fbuf_add_jstr(&b, repo, strlen(repo));
	fbuf_adds(&b, ",\"config\":{\"indices\":");
	fbuf_add_jstr(&b, ix, strlen(ix));
	fbuf_adds(&b, "},\"retention\":{");
	if (exp) {
		fbuf_adds(&b, "\"expire_after\":");
		fbuf_add_jstr(&b, exp, strlen(exp));
		fbuf_addc(&b, ',');
	}
	fbuf_addf(&b, "\"min_count\":%ld,\"max_count\":%ld}}", mn, mx);
	ferry_db *db;
	ferry_err err = {0};
	int rc = cli_open(0, &db);
	if (!rc) {
		rc = ferry_slm_put(db, id, b.p, b.len, &err) ? cli_fail(&err) : 0;
		ferry_db_close(db);
	}
	fbuf_release(&b);
	if (!rc)
		printf("policy %s saved\n", id);
	return rc;
}

static int one_id(int argc, char **argv, const char **id, int *json,
		  long long *at)
{
	const char *v;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			*json = 1;
		else if (cli_opt_value(argc, argv, &i, "--at", &v)) {
			char *end;
			*at = v ? strtoll(v, &end, 10) : 0;
			if (!v || *end || *at <= 0)
				return cli_usage_error("snapshot policy", "--at needs "
						       "unix milliseconds");
		}
		else if (argv[i][0] == '-' || *id)
			return cli_usage_error("snapshot policy", "unexpected '%s'",
					       argv[i]);
		else
			*id = argv[i];
	}
	return 0;
}

int cmd_snapshot_policy(int argc, char **argv)
{
	const char *id = NULL;
	long long at = 0;
	int json = 0, rc;
	ferry_db *db;
	ferry_err err = {0};
	char *out = NULL;
	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(policy_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "put"))
		return put(argc, argv);
	if ((rc = one_id(argc, argv, &id, &json, &at)))
		return rc;
	int k = !strcmp(argv[1], "list") ? 0 : !strcmp(argv[1], "run") ? 1 :
		!strcmp(argv[1], "delete") ? 2 : !strcmp(argv[1], "run-due") ? 3 : -1;
	if (k < 0)
		return cli_usage_error("snapshot policy", "unknown command '%s'",
				       argv[1]);
	if ((k == 1 || k == 2) && !id)
		return cli_usage_error("snapshot policy", "%s needs an ID", argv[1]);
	if ((rc = cli_open(0, &db)))
		return rc;
	char name[FERRY_SNAPSHOT_NAME_MAX + 1] = "";
	switch (k) {
	case 0: rc = ferry_slm_get(db, id, &out, &err); break;
	case 1: rc = ferry_slm_execute(db, id, name, &err); break;
	case 2: rc = ferry_slm_delete(db, id, &err); break;
	default: rc = ferry_slm_run_due(db, at, &out, &err);
	}
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	if (out)
		puts(out);
	else if (k == 1)
		printf("policy %s took snapshot %s\n", id, name);
	else
		printf("policy %s deleted (its snapshots stay)\n", id);
	ferry_free(out);
	return 0;
}
