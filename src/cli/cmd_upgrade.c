/*
 * cmd_upgrade.c - `ferry upgrade plan|run|status|resume|abort`,
 * `ferry rollback` and `ferry indices delete --version V`.
 *
 * One upgrade covers every tenant: the plan lists each tenant's indices
 * now and after (the budget counts them all), the run shows one bar for
 * the whole copy and a line as each tenant's copy completes, and status
 * summarises every tenant before listing the items.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "json/json.h"

static const char upgrade_help[] =
"usage: ferry upgrade plan   --to VERSION [options] [--json]\n"
"       ferry upgrade run    --to VERSION [options]\n"
"       ferry upgrade status [--json]\n"
"       ferry upgrade resume [options]\n"
"       ferry upgrade abort  [--force]\n\n"
"Upgrades the data to release VERSION: a minor release (same data\n"
"version) is recorded; a major one runs the chain of migrations from\n"
"$FERRY_MIGRATIONS (default ./migrations): prepare the new index set,\n"
"copy and transform, catch up with live writes, switch every alias in\n"
"one step, verify. The old set stays until `ferry indices delete`.\n\n"
"options:\n"
"  --migrations DIR     migration files (default $FERRY_MIGRATIONS)\n"
"  --allow-dev          allow development releases (-dev, -rc): data may\n"
"                       be lost\n"
"  --accept-changed     accept migration files changed after they were\n"
"                       applied\n"
"  --skip-bad           documents a transform refuses go to the _failed\n"
"                       index instead of stopping the upgrade\n"
"  --throttle N         copy at most N documents per second\n"
"  --batch N            documents per transaction (default 20000)\n"
"  --index-budget N     index budget for this plan (default: the\n"
"                       deployment's, 1000)\n"
"  --snapshot-repo R    repository for the snapshot every major upgrade\n"
"                       takes first (default: $FERRY_SNAPSHOT_REPO, or the\n"
"                       only registered repository)\n"
"  --no-snapshot        skip that snapshot (a warning is recorded)\n"
"  --quiet              no progress output\n"
"A killed run is finished by `ferry upgrade resume` (or run again); the\n"
"lease of a dead runner expires after 30 s, at once on the same host.\n";

typedef struct up_args {
	ferry_upgrade_opts o;
	int json, quiet, force;
} up_args;

static int parse_opts(int argc, char **argv, up_args *a)
{
	const char *v;
	for (int i = 2; i < argc; i++) {
		char *end;
		if (cli_opt_value(argc, argv, &i, "--to", &v)) {
			if (!(a->o.to = v))
				return cli_usage_error("upgrade", "--to needs a version");
		} else if (cli_opt_value(argc, argv, &i, "--migrations", &v)) {
			if (!(a->o.migrations_dir = v))
				return cli_usage_error("upgrade", "--migrations needs a "
						       "directory");
		} else if (cli_opt_value(argc, argv, &i, "--throttle", &v)) {
			a->o.throttle = v ? strtoull(v, &end, 10) : 0;
			if (!v || *end || !a->o.throttle)
				return cli_usage_error("upgrade", "--throttle needs a "
						       "positive number of docs/s");
		} else if (cli_opt_value(argc, argv, &i, "--batch", &v)) {
			a->o.batch = v ? strtoull(v, &end, 10) : 0;
			if (!v || *end || a->o.batch < 1 || a->o.batch > 1000000)
				return cli_usage_error("upgrade", "--batch must be 1 to "
						       "1000000");
		} else if (cli_opt_value(argc, argv, &i, "--index-budget", &v)) {
			unsigned long n = v ? strtoul(v, &end, 10) : 0;
			if (!v || *end || n < 1 || n > 10000000)
				return cli_usage_error("upgrade", "--index-budget needs a "
						       "positive number");
			a->o.index_budget = (unsigned)n;
		} else if (cli_opt_value(argc, argv, &i, "--snapshot-repo", &v)) {
			if (!(a->o.snapshot_repo = v))
				return cli_usage_error("upgrade", "--snapshot-repo needs a "
						       "repository");
		} else if (!strcmp(argv[i], "--no-snapshot")) {
			a->o.no_snapshot = 1;
		} else if (!strcmp(argv[i], "--allow-dev")) {
			a->o.allow_dev = 1;
		} else if (!strcmp(argv[i], "--accept-changed")) {
			a->o.accept_changed = 1;
		} else if (!strcmp(argv[i], "--skip-bad")) {
			a->o.skip_bad = 1;
		} else if (!strcmp(argv[i], "--json")) {
			a->json = 1;
		} else if (!strcmp(argv[i], "--quiet")) {
			a->quiet = 1;
		} else if (!strcmp(argv[i], "--force")) {
			a->force = 1;
		} else {
			return cli_usage_error("upgrade", "unexpected '%s'", argv[i]);
		}
	}
	return 0;
}

/* ---- plan, rendered for people ---- */

static void print_items(const json_value *ix)
{
	char cnt[32];
	printf("\n  %-10s %-30s %-30s %-9s %4s %12s\n", "TENANT", "SOURCE",
	       "TARGET", "ACTION", "OPS", "DOCS");
	for (size_t i = 0; i < ix->u.arr.n; i++) {
		const json_value *it = ix->u.arr.v[i];
		const char *src = json_str_member(it, "source", "");
		const char *dst = json_str_member(it, "target", "");
		printf("  %-10s %-30s %-30s %-9s %4lld %12s\n",
		       json_str_member(it, "tenant", ""), *src ? src : "-",
		       *dst ? dst : "-", json_str_member(it, "action", ""),
		       (long long)json_int_member(it, "ops", 0),
		       cli_count((uint64_t)json_int_member(it, "docs", 0), cnt));
	}
}

/* Per tenant: its physical indices now (every version), the ones the
 * upgrade adds, and the documents it copies. */
static void print_tenants(const json_value *tn)
{
	char cnt[32];
	if (!tn || tn->type != JSON_ARRAY || !tn->u.arr.n)
		return;
	printf("\n  %-20s %8s %8s %8s %12s\n", "TENANT", "INDICES", "NEW",
	       "AFTER", "DOCS");
	for (size_t i = 0; i < tn->u.arr.n; i++) {
		const json_value *t = tn->u.arr.v[i];
		printf("  %-20s %8lld %8lld %8lld %12s\n",
		       json_str_member(t, "tenant", ""),
		       (long long)json_int_member(t, "now", 0),
		       (long long)json_int_member(t, "new", 0),
		       (long long)json_int_member(t, "after", 0),
		       cli_count((uint64_t)json_int_member(t, "docs", 0), cnt));
	}
}

static void print_budget(const json_value *p, const json_value *b)
{
	const json_value *v = json_get(b, "versions", 8);
	printf("\n  %lld documents, estimated %lld s; indices after the "
	       "upgrade: %lld of a budget of %lld (%lld tenants",
	       (long long)json_int_member(p, "docs", 0),
	       (long long)json_int_member(p, "estimated_seconds", 0) + 1,
	       (long long)json_int_member(b, "after", 0),
	       (long long)json_int_member(b, "limit", 0),
	       (long long)json_int_member(b, "tenants", 0));
	for (size_t i = 0; v && v->type == JSON_ARRAY && i < v->u.arr.n; i++)
		printf("%s%s: %lld", i ? ", " : "; ",
		       json_str_member(v->u.arr.v[i], "data_version", ""),
		       (long long)json_int_member(v->u.arr.v[i], "indices", 0));
	printf(")\n");
}

static void print_plan(const json_value *p)
{
	const json_value *from = json_get(p, "from", 4), *to = json_get(p, "to", 2);
	const json_value *hops = json_get(p, "hops", 4);
	const json_value *ix = json_get(p, "indices", 7);
	const char *kind = json_str_member(p, "kind", "");
	printf("upgrade %s (data %s) -> %s (data %s): %s upgrade\n",
	       json_str_member(from, "release", ""),
	       json_str_member(from, "data_version", ""),
	       json_str_member(to, "release", ""),
	       json_str_member(to, "data_version", ""), kind);
	if (!strcmp(kind, "minor"))
		printf("same data version: the release is recorded, no data "
		       "moves\n");
	if (!strcmp(kind, "same"))
		printf("nothing to do: already at this release\n");
	for (size_t i = 0; hops && i < hops->u.arr.n; i++) {
		const json_value *h = hops->u.arr.v[i];
		printf("  hop %s -> %s  %s  sha256 %.12s\n",
		       json_str_member(h, "from", ""), json_str_member(h, "to", ""),
		       json_str_member(h, "file", ""),
		       json_str_member(h, "checksum", ""));
		if (*json_str_member(h, "description", ""))
			printf("      %s\n", json_str_member(h, "description", ""));
	}
	if (ix && ix->u.arr.n) {
		print_items(ix);
		print_tenants(json_get(p, "tenants", 7));
		print_budget(p, json_get(p, "budget", 6));
	}
	const json_value *w = json_get(p, "warnings", 8);
	for (size_t i = 0; w && i < w->u.arr.n; i++)
		if (w->u.arr.v[i]->type == JSON_STRING)
			printf("  warning: %s\n", w->u.arr.v[i]->u.str.s);
}

static int upgrade_plan(ferry_db *db, up_args *a)
{
	ferry_err err = {0};
	char *plan;
	json_arena *ar;
	json_value *root;
	json_error je;
	if (!a->o.to)
		return cli_usage_error("upgrade", "plan needs --to VERSION");
	if (ferry_upgrade_plan(db, &a->o, &plan, &err))
		return cli_fail(&err);
	if (a->json) {
		puts(plan);
	} else if ((ar = json_arena_new())) {
		if (!json_parse(ar, plan, strlen(plan), &root, &je))
			print_plan(root);
		json_arena_free(ar);
	}
	ferry_free(plan);
	return 0;
}

/* ---- run / resume with progress ---- */

typedef struct ui {
	char step[16];
	int bar_open, quiet, tty;
	char label[64];
	progress bar;
	char tenant[FERRY_PART_MAX + 1]; /* tenant whose copy is running */
	uint64_t tdone, ttotal;          /* its documents so far */
	size_t tenants, tno;             /* tenants; its number (0..) */
} ui;

/* A tenant's copy is complete: one line above the bar. */
static void tenant_line(ui *u)
{
	char a[32], b[32];
	if (!u->tenant[0])
		return;
	fprintf(stderr, "%s  tenant %s: %s of %s docs copied (%zu/%zu tenants)\n",
		u->tty && u->bar_open ? "\r\033[K" : "", u->tenant,
		cli_count(u->tdone, a), cli_count(u->ttotal, b), u->tno + 1,
		u->tenants);
	u->tenant[0] = 0;
}

static int on_progress(void *ctx, const ferry_upgrade_progress *p)
{
	ui *u = ctx;
	if (u->quiet)
		return 0;
	int new_step = strcmp(u->step, p->step) != 0;
	if (new_step && !strcmp(u->step, "copy"))
		tenant_line(u);
	if (new_step && u->bar_open) {
		progress_finish(&u->bar);
		u->bar_open = 0;
	}
	if (new_step) {
		snprintf(u->step, sizeof u->step, "%s", p->step);
		fprintf(stderr, "== %s\n", p->step);
	}
	if (p->item >= p->items || !p->tenant || strcmp(p->step, "copy"))
		return 0;
	if (strcmp(u->tenant, p->tenant))
		tenant_line(u);
	snprintf(u->tenant, sizeof u->tenant, "%s", p->tenant);
	u->tdone = p->tenant_done;
	u->ttotal = p->tenant_total;
	u->tenants = p->tenants;
	u->tno = p->tenant_no;
	if (!u->bar_open) {
		snprintf(u->label, sizeof u->label, "copy, %zu tenant%s",
			 p->tenants, p->tenants == 1 ? "" : "s");
		progress_init(&u->bar, u->label, "docs", p->all_total, 0);
		u->bar_open = 1;
	}
	progress_update(&u->bar, p->all_done, p->all_done);
	return 0;
}

/* The plan's warnings (an index the migrations name that no tenant has:
 * a typo would silently skip ops), before a run starts. */
static void run_warnings(ferry_db *db, up_args *a)
{
	char *plan = NULL;
	json_arena *ar = json_arena_new();
	json_value *root, *w;
	json_error je;
	if (ar && !ferry_upgrade_plan(db, &a->o, &plan, NULL) &&
	    !json_parse(ar, plan, strlen(plan), &root, &je) &&
	    (w = json_get(root, "warnings", 8)) && w->type == JSON_ARRAY)
		for (size_t i = 0; i < w->u.arr.n; i++)
			if (w->u.arr.v[i]->type == JSON_STRING)
				fprintf(stderr, "ferry: warning: %s\n",
					w->u.arr.v[i]->u.str.s);
	ferry_free(plan);
	json_arena_free(ar);
}

static int upgrade_run(ferry_db *db, up_args *a, int resume)
{
	ferry_err err = {0};
	ui u;
	memset(&u, 0, sizeof u);
	u.quiet = a->quiet;
	u.tty = isatty(STDERR_FILENO);
	a->o.progress = on_progress;
	a->o.ctx = &u;
	if (!resume && !a->o.to)
		return cli_usage_error("upgrade", "run needs --to VERSION");
	if (a->o.no_snapshot && !a->quiet)
		fprintf(stderr, "ferry: warning: upgrading without a snapshot "
			"(--no-snapshot): keep the old version until you are sure\n");
	if (!resume && !a->quiet)
		run_warnings(db, a);
	int rc = resume ? ferry_upgrade_resume(db, &a->o, &err)
			: ferry_upgrade_run(db, &a->o, &err);
	if (!u.quiet && !strcmp(u.step, "copy"))
		tenant_line(&u);
	if (u.bar_open)
		progress_finish(&u.bar);
	if (rc)
		return cli_fail(&err);
	ferry_status st;
	if (!ferry_db_status(db, &st, &err))
		printf("active: release %s (data version %s)\n", st.release,
		       st.data_version);
	return 0;
}

/* Per tenant: the phase of its least advanced item and its documents. */
static void print_status_tenants(const json_value *tn)
{
	char a[32], b[32];
	if (!tn || tn->type != JSON_ARRAY || !tn->u.arr.n)
		return;
	printf("tenants: %zu\n", tn->u.arr.n);
	for (size_t i = 0; i < tn->u.arr.n; i++) {
		const json_value *t = tn->u.arr.v[i];
		printf("  %-20s %-8s %s/%s docs, %lld items\n",
		       json_str_member(t, "tenant", ""),
		       json_str_member(t, "phase", ""),
		       cli_count((uint64_t)json_int_member(t, "done", 0), a),
		       cli_count((uint64_t)json_int_member(t, "total", 0), b),
		       (long long)json_int_member(t, "items", 0));
	}
}

static int upgrade_status(ferry_db *db, up_args *a)
{
	ferry_err err = {0};
	char *s;
	json_arena *ar;
	json_value *root, *items;
	json_error je;
	if (ferry_upgrade_status(db, &s, &err))
		return cli_fail(&err);
	if (a->json || !(ar = json_arena_new())) {
		puts(s);
		ferry_free(s);
		return 0;
	}
	if (!json_parse(ar, s, strlen(s), &root, &je)) {
		if (!*json_str_member(root, "state", "")) {
			printf("no upgrade has run in this data directory\n");
		} else {
			printf("upgrade %s -> %s (release %s): %s\n", json_str_member(root, "from", ""),
			       json_str_member(root, "to", ""), json_str_member(root, "to_release", ""), json_str_member(root, "state", ""));
			if (*json_str_member(root, "error", ""))
				printf("error: %s\n", json_str_member(root, "error", ""));
			print_status_tenants(json_get(root, "tenants", 7));
			items = json_get(root, "items", 5);
			if (items && items->u.arr.n)
				printf("items:\n");
			for (size_t i = 0; items && i < items->u.arr.n; i++) {
				const json_value *it = items->u.arr.v[i];
				printf("  %-8s %-30s -> %-30s %-8s %lld/%lld docs\n",
				       json_str_member(it, "tenant", ""), json_str_member(it, "src", ""), json_str_member(it, "dst", ""),
				       json_str_member(it, "phase", ""), (long long)json_int_member(it, "copied", 0), (long long)json_int_member(it, "total", 0));
			}
		}
	}
	json_arena_free(ar);
	ferry_free(s);
	return 0;
}

int cmd_upgrade(int argc, char **argv)
{
	up_args a;
	ferry_db *db;
	ferry_err err = {0};
	memset(&a, 0, sizeof a);
	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(upgrade_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	for (int i = 2; i < argc; i++)
		if (cli_is_help(argv[i])) {
			fputs(upgrade_help, stdout);
			return 0;
		}
	static const char *const subs[] = {"plan", "run", "status", "resume",
					   "abort", NULL};
	int k = 0;
	while (subs[k] && strcmp(subs[k], argv[1]))
		k++;
	if (!subs[k])
		return cli_usage_error("upgrade", "unknown command '%s'", argv[1]);
	int rc = parse_opts(argc, argv, &a);
	if (rc)
		return rc;
	if ((k == 0 || k == 1) && !a.o.to)
		return cli_usage_error("upgrade", "%s needs --to VERSION", argv[1]);
	if ((rc = cli_open(0, &db)))
		return rc;
	switch (k) {
	case 0: rc = upgrade_plan(db, &a); break;
	case 1: rc = upgrade_run(db, &a, 0); break;
	case 2: rc = upgrade_status(db, &a); break;
	case 3: rc = upgrade_run(db, &a, 1); break;
	default:
		rc = ferry_upgrade_abort(db, a.force, &err) ? cli_fail(&err) : 0;
		if (!rc)
			printf("aborted: the new index set was removed; the old one "
			       "is untouched\n");
	}
	ferry_db_close(db);
	return rc;
}

static const char rollback_help[] =
"usage: ferry rollback [--yes] [--json]\n\n"
"Moves every alias back to the previous data version while its indices\n"
"exist. Without --yes it only says how many writes made to the new\n"
"version since the switch would be dropped.\n";

int cmd_rollback(int argc, char **argv)
{
	int yes = 0, json = 0, rc;
	ferry_db *db;
	ferry_err err = {0};
	uint64_t lost = 0;
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(rollback_help, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--yes")) {
			yes = 1;
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else {
			return cli_usage_error("rollback", "unexpected '%s'", argv[i]);
		}
	}
	if ((rc = cli_open(0, &db)))
		return rc;
	rc = ferry_rollback(db, yes, &lost, &err);
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	if (json)
		printf("{\"rolled_back\":%s,\"writes_dropped\":%llu}\n",
		       yes ? "true" : "false", (unsigned long long)lost);
	else if (yes)
		printf("rolled back; %llu writes made since the switch were "
		       "dropped\n", (unsigned long long)lost);
	else
		printf("a rollback would drop %llu writes made to the new version "
		       "since the switch; run `ferry rollback --yes` to do it\n",
		       (unsigned long long)lost);
	return 0;
}

static const char indices_help[] =
"usage: ferry indices delete --version V [--dry-run] [--force] [--json]\n"
"       ferry indices budget [N] [--json]\n\n"
"delete removes every index of data version V (refuses the active version\n"
"and one an upgrade is building). --dry-run lists what would go. A version\n"
"no snapshot holds is refused unless --force.\n\n"
"budget shows the index budget (the most indices, over every version and\n"
"tenant, that an upgrade, a tenant add or an index create may leave;\n"
"default 1000) and the indices that exist; with N (1 to 10000000) it sets\n"
"the budget.\n";

/* `ferry indices budget [N] [--json]` */
static int indices_budget(int argc, char **argv)
{
	const char *n = NULL;
	int json = 0, rc;
	char *end = NULL;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!n && argv[i][0] != '-')
			n = argv[i];
		else
			return cli_usage_error("indices", "budget takes one number N "
					       "and --json, got '%s'", argv[i]);
	}
	unsigned long v = n ? strtoul(n, &end, 10) : 0;
	if (n && (*end || v < 1 || v > 10000000 || n[0] == '-'))
		return cli_usage_error("indices", "the budget must be a number "
				       "from 1 to 10000000, got '%s'", n);
	ferry_db *db;
	ferry_err err = {0};
	ferry_status st;
	if ((rc = cli_open(0, &db)))
		return rc;
	if (!(rc = n ? ferry_index_budget_set(db, (unsigned)v, &err) : 0))
		rc = ferry_db_status(db, &st, &err);
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	if (json)
		printf("{\"index_budget\":%u,\"indices\":%llu}\n", st.index_budget,
		       (unsigned long long)st.indices);
	else
		printf("index budget %s%u; %llu indices exist%s\n", n ? "set to " :
		       "", st.index_budget, (unsigned long long)st.indices,
		       st.indices > st.index_budget ? " (over it: upgrades and "
		       "tenant adds that create indices are refused)" : "");
	return 0;
}

int cmd_indices(int argc, char **argv)
{
	const char *version = NULL, *v;
	int dry = 0, force = 0, json = 0, rc;
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(indices_help, stdout);
			return 0;
		}
	}
	if (argc >= 2 && !strcmp(argv[1], "budget"))
		return indices_budget(argc, argv);
	if (argc < 2 || strcmp(argv[1], "delete"))
		return cli_usage_error("indices", "expected 'delete' or 'budget'");
	for (int i = 2; i < argc; i++) {
		if (cli_opt_value(argc, argv, &i, "--version", &v)) {
			if (!(version = v))
				return cli_usage_error("indices", "--version needs a value");
		} else if (!strcmp(argv[i], "--dry-run")) {
			dry = 1;
		} else if (!strcmp(argv[i], "--force")) {
			force = 1;
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else {
			return cli_usage_error("indices", "unexpected '%s'", argv[i]);
		}
	}
	if (!version)
		return cli_usage_error("indices", "delete needs --version V");
	ferry_db *db;
	ferry_err err = {0};
	char *report = NULL;
	if ((rc = cli_open(0, &db)))
		return rc;
	rc = ferry_version_delete(db, version, dry, force, &report, &err);
	ferry_db_close(db);
	if (rc)
		return cli_fail(&err);
	if (json) {
		puts(report);
	} else {
		json_arena *ar = json_arena_new();
		json_value *root, *list;
		json_error je;
		if (ar && !json_parse(ar, report, strlen(report), &root, &je) &&
		    (list = json_get(root, "indices", 7))) {
			printf("%s %zu indices of version %s (%lld documents):\n",
			       dry ? "would delete" : "deleted", list->u.arr.n, version,
			       (long long)json_int_member(root, "docs", 0));
			for (size_t i = 0; i < list->u.arr.n; i++)
				printf("  %s\n", list->u.arr.v[i]->u.str.s);
		}
		json_arena_free(ar);
	}
	ferry_free(report);
	return 0;
}
