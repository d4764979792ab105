/*
 * cmd_snapshot.c - `ferry snapshot repo add|list|remove` and `ferry
 * snapshot create|list|show|delete|verify|restore`, on the public
 * snapshot API (include/ferry/ferry.h, "Snapshots").
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "json/json.h"

static const char snapshot_help[] =
"usage: ferry snapshot repo add NAME PATH [--chunk-size BYTES]\n"
"       ferry snapshot repo list [--json]\n"
"       ferry snapshot repo remove NAME\n"
"       ferry snapshot create REPO [NAME] [--indices PATTERN] [--json]\n"
"       ferry snapshot list REPO [--json]\n"
"       ferry snapshot show REPO NAME [--json]\n"
"       ferry snapshot delete REPO NAME [--json]\n"
"       ferry snapshot verify REPO [NAME] [--json]\n"
"       ferry snapshot restore REPO NAME [--indices PATTERN]\n"
"                [--rename-pattern REGEX --rename-replacement S]\n"
"                [--partial] [--json]\n"
"       ferry snapshot restore REPO NAME --all\n\n"
"A repository is a directory (local or shared) registered under a NAME;\n"
"REPO is that name, or a path (anything with a '/', e.g. ./backups),\n"
"which needs no registration. Chunks are content-addressed and stored\n"
"once; an index snapshotted before is stored as the changes since.\n\n"
"create    NAME defaults to snap-YYYYMMDD-HHMMSS (UTC); PATTERN is a glob\n"
"          list over physical names and aliases ('v0_8_*,-*.session');\n"
"          the whole catalog is always included\n"
"delete    removes the snapshot and the chunks no other one uses\n"
"verify    re-reads and re-hashes every chunk (of NAME, or of all); a\n"
"          damaged chunk is repaired by removing its file and taking a\n"
"          new snapshot of the same data\n"
"restore   creates the chosen indices with their documents; each name is\n"
"          rewritten by replacing matches of the POSIX extended REGEX with\n"
"          S ($1..$9 are groups); an existing index is an error and then\n"
"          nothing is written. --partial leaves damaged chunks out.\n"
"          --all brings back a whole deployment (settings, versions,\n"
"          tenants, indices, aliases) into an uninitialised data dir.\n"
"options:  --json (machine-readable output)  --quiet (no progress bar)\n"
"A killed create, delete or restore is finished by running it again.\n";

typedef struct sargs {
	const char *pos[3];
	int npos;
	const char *indices, *rename_pattern, *rename_replacement, *chunk;
	int json, quiet, all, partial;
} sargs;

static int parse(int argc, char **argv, int maxpos, sargs *a)
{
	const char *v;
	memset(a, 0, sizeof *a);
	for (int i = 1; i < argc; i++) {
		if (cli_opt_value(argc, argv, &i, "--indices", &v)) {
			if (!(a->indices = v))
				return cli_usage_error("snapshot", "--indices needs a "
						       "pattern");
		} else if (cli_opt_value(argc, argv, &i, "--rename-pattern", &v)) {
			if (!(a->rename_pattern = v))
				return cli_usage_error("snapshot", "--rename-pattern "
						       "needs a regex");
		} else if (cli_opt_value(argc, argv, &i, "--rename-replacement",
					 &v)) {
			if (!(a->rename_replacement = v))
				return cli_usage_error("snapshot", "--rename-replacement "
						       "needs a string");
		} else if (cli_opt_value(argc, argv, &i, "--chunk-size", &v)) {
			if (!(a->chunk = v))
				return cli_usage_error("snapshot", "--chunk-size needs a "
						       "number of bytes");
		} else if (!strcmp(argv[i], "--json")) {
			a->json = 1;
		} else if (!strcmp(argv[i], "--quiet")) {
			a->quiet = 1;
		} else if (!strcmp(argv[i], "--all")) {
			a->all = 1;
		} else if (!strcmp(argv[i], "--partial")) {
			a->partial = 1;
		} else if (argv[i][0] == '-' || a->npos >= maxpos) {
			return cli_usage_error("snapshot", "unexpected '%s'", argv[i]);
		} else {
			a->pos[a->npos++] = argv[i];
		}
	}
	return 0;
}

/* A path repository works without a data directory. */
static int open_for(const char *repo, ferry_db **db)
{
	ferry_err err = {0};
	*db = NULL;
	if (strchr(repo, '/')) {
		if (ferry_db_open(cli_data_dir(), 0, db, &err))
			*db = NULL;
		return 0;
	}
	return cli_open(0, db);
}

static const char *when(int64_t ms, char buf[32])
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	if (!ms || !gmtime_r(&s, &tm))
		return "-";
	strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

/* ---- progress ---- */

typedef struct pstate {
	progress p;
	int started, quiet;
	const char *label;
} pstate;

static int on_progress(void *ctx, const ferry_snapshot_progress *pr)
{
	pstate *s = ctx;
	if (!s->started) {
		progress_init(&s->p, s->label, "MiB", pr->bytes_total, s->quiet);
		s->started = 1;
	}
	s->p.total = pr->bytes_total > pr->bytes_done ? pr->bytes_total
						       : pr->bytes_done;
	progress_update(&s->p, pr->bytes_done, pr->bytes_done >> 20);
	return 0;
}

/* The summary line on success; on failure only the error is left. */
static void progress_end(pstate *s, int rc)
{
	if (!s->started)
		return;
	if (!rc)
		progress_finish(&s->p);
	else if (s->p.tty && !s->p.quiet)
		fputs("\r\033[K", s->p.out);
}

/* ---- repo ---- */

static int repo_add(int argc, char **argv)
{
	sargs a;
	int rc = parse(argc, argv, 2, &a);
	if (rc)
		return rc;
	if (a.npos != 2)
		return cli_usage_error("snapshot", "repo add needs NAME and PATH");
	size_t chunk = 0;
	if (a.chunk) {
		char *end;
		unsigned long long v = strtoull(a.chunk, &end, 10);
		if (*end == 'k' || *end == 'K')
			v <<= 10, end++;
		else if (*end == 'm' || *end == 'M')
			v <<= 20, end++;
		if (*end || !v)
			return cli_usage_error("snapshot", "--chunk-size needs a size "
					       "like 1048576, 256K or 1M");
		chunk = (size_t)v;
	}
	ferry_db *db;
	ferry_err err = {0};
	if ((rc = cli_open(0, &db)))
		return rc;
	rc = ferry_snaprepo_add(db, a.pos[0], a.pos[1], chunk, &err);
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	printf("added snapshot repository %s at %s\n", a.pos[0], a.pos[1]);
	return 0;
}

static int repo_list(int argc, char **argv)
{
	sargs a;
	ferry_db *db;
	ferry_err err = {0};
	ferry_snaprepo_info *v;
	size_t n;
	char w[32];
	int rc = parse(argc, argv, 0, &a);
	if (rc || (rc = cli_open(0, &db)))
		return rc;
	rc = ferry_snaprepo_list(db, &v, &n, &err);
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	if (!a.json)
		printf("%-20s %-20s %s\n", "NAME", "ADDED (UTC)", "PATH");
	for (size_t i = 0; i < n; i++) {
		if (!a.json) {
			printf("%-20s %-20s %s\n", v[i].name, when(v[i].created_ms, w),
			       v[i].path);
			continue;
		}
		fputs(i ? ",{\"name\":" : "[{\"name\":", stdout);
		cli_json_str(stdout, v[i].name);
		fputs(",\"path\":", stdout);
		cli_json_str(stdout, v[i].path);
		printf(",\"created_ms\":%lld}", (long long)v[i].created_ms);
	}
	if (a.json)
		puts(n ? "]" : "[]");
	ferry_free(v);
	return 0;
}

static int repo_remove(int argc, char **argv)
{
	sargs a;
	ferry_db *db;
	ferry_err err = {0};
	int rc = parse(argc, argv, 1, &a);
	if (rc)
		return rc;
	if (a.npos != 1)
		return cli_usage_error("snapshot", "repo remove needs NAME");
	if ((rc = cli_open(0, &db)))
		return rc;
	rc = ferry_snaprepo_remove(db, a.pos[0], &err);
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	printf("removed snapshot repository %s (its files are left as they "
	       "are)\n", a.pos[0]);
	return 0;
}

static const cli_cmd repo_cmds[] = {
	{"add", repo_add, "register a directory as a repository"},
	{"list", repo_list, "list registered repositories"},
	{"remove", repo_remove, "forget a repository (files stay)"},
	{NULL, NULL, NULL},
};

static int snap_repo(int argc, char **argv)
{
	return cli_dispatch("snapshot repo", repo_cmds, argc - 1, argv + 1);
}

/* ---- create, list, show, delete ---- */

static void print_info_json(const ferry_snapshot_info *s)
{
	fputs("{\"name\":", stdout);
	cli_json_str(stdout, s->name);
	printf(",\"state\":\"%s\",\"release\":", s->state);
	cli_json_str(stdout, s->release);
	printf(",\"started_ms\":%lld,\"took_ms\":%lld,\"indices\":%llu,"
	       "\"docs\":%llu,\"bytes\":%llu,\"chunks\":%llu,\"stored\":%llu,"
	       "\"new_chunks\":%llu,\"new_bytes\":%llu}",
	       (long long)s->started_ms, (long long)s->took_ms,
	       (unsigned long long)s->indices, (unsigned long long)s->docs,
	       (unsigned long long)s->bytes, (unsigned long long)s->chunks,
	       (unsigned long long)s->stored, (unsigned long long)s->new_chunks,
	       (unsigned long long)s->new_bytes);
}

static int snap_create(int argc, char **argv)
{
	sargs a;
	ferry_db *db;
	ferry_err err = {0};
	ferry_snapshot_info info;
	char b1[32], b2[32], b3[32], c1[32];
	int rc = parse(argc, argv, 2, &a);
	if (rc)
		return rc;
	if (a.npos < 1)
		return cli_usage_error("snapshot", "create needs a REPO");
	if ((rc = cli_open(0, &db)))
		return rc;
	pstate ps = {.quiet = a.quiet || a.json, .label = "snapshot"};
	rc = ferry_snapshot_create(db, a.pos[0], a.npos > 1 ? a.pos[1] : NULL,
				   a.indices, on_progress, &ps, &info, NULL, &err);
	progress_end(&ps, rc);
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	if (a.json) {
		print_info_json(&info);
		putchar('\n');
		return 0;
	}
	printf("snapshot %s created in %s: %llu indices, %s documents, %s of "
	       "records\n  stored as %llu chunks (%s); new: %llu chunks, %s; "
	       "took %.2fs\n", info.name, a.pos[0],
	       (unsigned long long)info.indices, cli_count(info.docs, c1),
	       cli_bytes(info.bytes, b1), (unsigned long long)info.chunks,
	       cli_bytes(info.stored, b2), (unsigned long long)info.new_chunks,
	       cli_bytes(info.new_bytes, b3), (double)info.took_ms / 1000);
	return 0;
}

static int snap_list(int argc, char **argv)
{
	sargs a;
	ferry_db *db;
	ferry_err err = {0};
	ferry_snapshot_info *v;
	size_t n;
	char w[32], c[32], b1[32], b2[32];
	int rc = parse(argc, argv, 1, &a);
	if (rc)
		return rc;
	if (a.npos != 1)
		return cli_usage_error("snapshot", "list needs a REPO");
	if ((rc = open_for(a.pos[0], &db)))
		return rc;
	rc = ferry_snapshot_list(db, a.pos[0], &v, &n, &err);
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	if (!a.json)
		printf("%-28s %-20s %-10s %7s %12s %10s %10s  %s\n", "NAME",
		       "STARTED (UTC)", "RELEASE", "INDICES", "DOCS", "SIZE",
		       "NEW", "STATE");
	for (size_t i = 0; i < n; i++) {
		if (a.json) {
			fputs(i ? "," : "[", stdout);
			print_info_json(&v[i]);
			continue;
		}
		printf("%-28s %-20s %-10s %7llu %12s %10s %10s  %s\n", v[i].name,
		       when(v[i].started_ms, w), v[i].release[0] ? v[i].release : "-",
		       (unsigned long long)v[i].indices, cli_count(v[i].docs, c),
		       cli_bytes(v[i].stored, b1), cli_bytes(v[i].new_bytes, b2),
		       v[i].state);
	}
	if (a.json)
		puts(n ? "]" : "[]");
	ferry_free(v);
	return 0;
}



static void print_manifest(const json_value *m)
{
	const json_value *ix = json_get(m, "indices", 7);
	const json_value *cat = json_get(m, "catalog", 7);
	const json_value *st = json_get(m, "stats", 5);
	char w[32], c[32], b[32];
	printf("snapshot %s  (format %lld, ferry %s)\n", json_str_member(m, "name", ""),
	       (long long)json_int_member(m, "format", 0), json_str_member(m, "ferry", ""));
	printf("  taken %s UTC in %.2fs, release %s, indices '%s'\n",
	       when((long long)json_int_member(m, "started_ms", 0), w), (double)(long long)json_int_member(st, "took_ms", 0) / 1000,
	       json_str_member(json_get(cat, "settings", 8), "release", ""), json_str_member(m, "pattern", ""));
	printf("  %lld chunks, %s stored; %lld new chunks, %s new\n",
	       (long long)json_int_member(st, "chunks", 0), cli_bytes((uint64_t)(long long)json_int_member(st, "stored", 0), b),
	       (long long)json_int_member(st, "new_chunks", 0), cli_bytes((uint64_t)(long long)json_int_member(st, "new_bytes", 0), c));
	printf("\n  %-34s %-24s %12s %10s %s\n", "INDEX", "ALIAS", "DOCS", "SEQ",
	       "PARTS");
	for (size_t i = 0; ix && i < ix->u.arr.n; i++) {
		const json_value *x = ix->u.arr.v[i];
		const json_value *parts = json_get(x, "parts", 5);
		size_t np = parts && parts->type == JSON_ARRAY ? parts->u.arr.n : 0;
		printf("  %-34s %-24s %12s %10lld base", json_str_member(x, "name", ""),
		       *json_str_member(x, "alias", "") ? json_str_member(x, "alias", "") : "-",
		       cli_count((uint64_t)(long long)json_int_member(x, "docs", 0), c), (long long)json_int_member(x, "seq", 0));
		if (np > 1)
			printf(" + %zu delta%s", np - 1, np > 2 ? "s" : "");
		putchar('\n');
	}
}

static int snap_show(int argc, char **argv)
{
	sargs a;
	ferry_db *db;
	ferry_err err = {0};
	char *text;
	int rc = parse(argc, argv, 2, &a);
	if (rc)
		return rc;
	if (a.npos != 2)
		return cli_usage_error("snapshot", "show needs REPO and NAME");
	if ((rc = open_for(a.pos[0], &db)))
		return rc;
	rc = ferry_snapshot_show(db, a.pos[0], a.pos[1], &text, &err);
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	if (a.json) {
		fputs(text, stdout);
		ferry_free(text);
		return 0;
	}
	json_arena *ar = json_arena_new();
	json_value *root;
	if (ar && json_parse(ar, text, strlen(text), &root, NULL) == 0)
		print_manifest(root);
	json_arena_free(ar);
	ferry_free(text);
	return 0;
}

static int snap_delete(int argc, char **argv)
{
	sargs a;
	ferry_db *db;
	ferry_err err = {0};
	ferry_snapshot_gc gc;
	char b[32];
	int rc = parse(argc, argv, 2, &a);
	if (rc)
		return rc;
	if (a.npos != 2)
		return cli_usage_error("snapshot", "delete needs REPO and NAME");
	if ((rc = open_for(a.pos[0], &db)))
		return rc;
	rc = ferry_snapshot_delete(db, a.pos[0], a.pos[1], &gc, &err);
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	if (a.json) {
		printf("{\"deleted\":");
		cli_json_str(stdout, a.pos[1]);
		printf(",\"chunks_removed\":%llu,\"bytes_freed\":%llu,"
		       "\"chunks_kept\":%llu,\"gc_skipped\":%s}\n",
		       (unsigned long long)gc.chunks_removed,
		       (unsigned long long)gc.bytes_freed,
		       (unsigned long long)gc.chunks_kept,
		       gc.gc_skipped ? "true" : "false");
		return 0;
	}
	printf("deleted snapshot %s: removed %llu chunks (%s), kept %llu\n",
	       a.pos[1], (unsigned long long)gc.chunks_removed,
	       cli_bytes(gc.bytes_freed, b), (unsigned long long)gc.chunks_kept);
	if (gc.gc_skipped)
		fprintf(stderr, "ferry: warning: another manifest is damaged, so no "
			"chunk was removed; `ferry snapshot verify` names it\n");
	return 0;
}

/* ---- verify, restore ---- */

static int snap_verify(int argc, char **argv)
{
	sargs a;
	ferry_db *db;
	ferry_err err = {0};
	char *report = NULL;
	int rc = parse(argc, argv, 2, &a);
	if (rc)
		return rc;
	if (a.npos < 1)
		return cli_usage_error("snapshot", "verify needs a REPO");
	if ((rc = open_for(a.pos[0], &db)))
		return rc;
	pstate ps = {.quiet = a.quiet || a.json, .label = "verify"};
	rc = ferry_snapshot_verify(db, a.pos[0], a.npos > 1 ? a.pos[1] : NULL,
				   on_progress, &ps, &report, &err);
	progress_end(&ps, rc);
	ferry_db_close(db);
	if (a.json && report)
		puts(report);
	if (!rc && !a.json && report) {
		json_arena *ar = json_arena_new();
		json_value *root;
		char b[32];
		if (ar && json_parse(ar, report, strlen(report), &root, NULL) == 0)
			printf("verified %lld snapshot%s: %lld chunks, %s: all "
			       "intact\n", (long long)json_int_member(root, "snapshots", 0),
			       (long long)json_int_member(root, "snapshots", 0) == 1 ? "" : "s",
			       (long long)json_int_member(root, "chunks", 0),
			       cli_bytes((uint64_t)(long long)json_int_member(root, "bytes", 0), b));
		json_arena_free(ar);
	}
	ferry_free(report);
	return rc ? cli_fail(&err) : 0;
}

static void print_restore(const char *report)
{
	json_arena *ar = json_arena_new();
	json_value *root;
	char c[32];
	if (!ar || json_parse(ar, report, strlen(report), &root, NULL)) {
		json_arena_free(ar);
		return;
	}
	const json_value *ix = json_get(root, "indices", 7);
	const json_value *dmg = json_get(root, "damaged", 7);
	printf("restored %zu ind%s (%s documents) from snapshot %s in %.2fs\n",
	       ix ? ix->u.arr.n : 0, ix && ix->u.arr.n == 1 ? "ex" : "ices",
	       cli_count((uint64_t)(long long)json_int_member(root, "docs", 0), c), json_str_member(root, "snapshot", ""),
	       (double)(long long)json_int_member(root, "took_ms", 0) / 1000);
	for (size_t i = 0; ix && i < ix->u.arr.n; i++) {
		const json_value *x = ix->u.arr.v[i];
		if (strcmp(json_str_member(x, "source", ""), json_str_member(x, "target", "")))
			printf("  %s -> %s\n", json_str_member(x, "source", ""), json_str_member(x, "target", ""));
		else
			printf("  %s\n", json_str_member(x, "target", ""));
	}
	for (size_t i = 0; dmg && i < dmg->u.arr.n; i++) {
		const json_value *d = dmg->u.arr.v[i];
		fprintf(stderr, "ferry: warning: left out %lld records of %s: %s\n",
			(long long)json_int_member(d, "records", 0), json_str_member(d, "index", ""), json_str_member(d, "problem", ""));
	}
	json_arena_free(ar);
}

static int snap_restore(int argc, char **argv)
{
	sargs a;
	ferry_db *db;
	ferry_err err = {0};
	char *report = NULL;
	int rc = parse(argc, argv, 2, &a);
	if (rc)
		return rc;
	if (a.npos != 2)
		return cli_usage_error("snapshot", "restore needs REPO and NAME");
	if (!a.rename_pattern != !a.rename_replacement)
		return cli_usage_error("snapshot", "--rename-pattern and "
				       "--rename-replacement go together");
	if ((rc = cli_open(a.all ? FERRY_OPEN_CREATE : 0, &db)))
		return rc;
	pstate ps = {.quiet = a.quiet || a.json, .label = "restore"};
	ferry_restore_opts o = {a.indices, a.rename_pattern, a.rename_replacement,
				a.all, a.partial, on_progress, &ps};
	rc = ferry_snapshot_restore(db, a.pos[0], a.pos[1], &o, &report, &err);
	progress_end(&ps, rc);
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	if (a.json)
		puts(report);
	else
		print_restore(report);
	ferry_free(report);
	return 0;
}

static const cli_cmd snapshot_cmds[] = {
	{"repo", snap_repo, "add, list or remove snapshot repositories"},
	{"create", snap_create, "take a snapshot of indices and the catalog"},
	{"list", snap_list, "list the snapshots of a repository"},
	{"show", snap_show, "show a snapshot's manifest"},
	{"delete", snap_delete, "delete a snapshot and its unused chunks"},
	{"verify", snap_verify, "re-hash every chunk of one or all snapshots"},
	{"restore", snap_restore, "restore indices, or a whole deployment"},
	{"policy", cmd_snapshot_policy, "lifecycle policies: put, list, run, "
	 "delete, run-due"},
	{NULL, NULL, NULL},
};

int cmd_snapshot(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "policy")) /* has its own --help */
		return cmd_snapshot_policy(argc - 1, argv + 1);
	for (int i = 1; i < argc; i++)
		if (cli_is_help(argv[i])) {
			fputs(snapshot_help, stdout);
			return 0;
		}
	if (argc < 2) {
		fputs(snapshot_help, stderr);
		return EXIT_USAGE;
	}
	return cli_dispatch("snapshot", snapshot_cmds, argc - 1, argv + 1);
}
