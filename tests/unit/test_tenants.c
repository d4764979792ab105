/*
 * test_tenants.c - upgrades of many tenants at once, through the public
 * API on real data dirs (issue 6): a new tenant gets the others' index
 * set; one plan covers every tenant, with per-tenant counts and a budget
 * of tenants x versions; the copy reports per tenant, in item order; a
 * transform failure in one tenant switches nobody and names the tenant,
 * index and id; the cutover moves every tenant's aliases, an abort none;
 * a tenant added while the upgrade copies joins it and is switched with
 * the rest; removing tenants.
 *
 * The migrations (written into the test's directory): 1.0.0 -> 1.1.0 sets
 * a field on profiles; 1.1.0 -> 2.0.0 runs Lua on profiles (refusing
 * documents with "fail": true), renames event to events, drops session
 * and creates consent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

#include "core/catalog.h"
#include "core/db.h"
#include "migrate/upgrade.h"

#define NDOCS 1200 /* profiles per tenant: a few batches of 500 */

static const char hop1[] =
	"{\"from\":\"1.0.0\",\"to\":\"1.1.0\",\"indices\":{\"profile\":{\"ops\":"
	"[{\"set\":{\"field\":\"v\",\"value\":\"1.1\"}}]}}}";
static const char hop2[] =
	"{\"from\":\"1.1.0\",\"to\":\"2.0.0\",\"indices\":{"
	"\"profile\":{\"ops\":[{\"lua\":{\"file\":\"2.0.0/p.lua\"}}],"
	"\"mappings\":{\"properties\":{\"lua\":{\"type\":\"boolean\"}}}},"
	"\"event\":{\"rename_to\":\"events\"},"
	"\"session\":{\"drop\":true},"
	"\"consent\":{\"create\":true}}}";
static const char lua[] =
	"function transform(doc)\n"
	"  if doc.fail then error('refused on purpose') end\n"
	"  doc.lua = true\n"
	"  return doc\n"
	"end\n";

typedef struct fx {
	tdb t;
	char mig[600];
} fx;

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[800];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		fail_msg("cannot write %s", path);
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	char sub[700];
	if (!f)
		return -1;
	t_setup(&f->t, "tenants", "1.0.0");
	snprintf(f->mig, sizeof f->mig, "%s/mig", f->t.dir);
	snprintf(sub, sizeof sub, "%s/2.0.0", f->mig);
	if (mkdir(f->mig, 0700) || mkdir(sub, 0700))
		return -1;
	write_file(f->mig, "1.0.0_to_1.1.0.json", hop1);
	write_file(f->mig, "1.1.0_to_2.0.0.json", hop2);
	write_file(f->mig, "2.0.0/p.lua", lua);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	t_teardown(&f->t);
	free(f);
	return 0;
}

/* Tenant `tn` with profile (NDOCS docs), event (NDOCS / 2) and an empty
 * session; the first tenant makes the indices, later ones get them from
 * ferry_tenant_add. */
static void load_tenant(ferry_db *db, const char *tn, int first)
{
	ferry_err err = {0, ""};
	ferry_bulk *b;
	char ix[80], id[32], body[96];
	if (strcmp(tn, "default"))
		T_OK(ferry_tenant_add(db, tn, &err), &err);
	if (first) {
		const char *names[] = {"profile", "event", "session"};
		for (int i = 0; i < 3; i++) {
			snprintf(ix, sizeof ix, "%s.%s", tn, names[i]);
			const char *ib = "{\"settings\":{\"n\":1}}";
			T_OK(ferry_index_create(db, ix, ib, strlen(ib), &err),
			     &err);
		}
	}
	T_OK(ferry_bulk_new(db, &b), &err);
	for (int i = 0; i < NDOCS; i++) {
		snprintf(id, sizeof id, "p%05d", i);
		snprintf(body, sizeof body, "{\"id\":\"%s\",\"tenant\":\"%s\",\"n\":%d}",
			 id, tn, i);
		snprintf(ix, sizeof ix, "%s.profile", tn);
		T_OK(ferry_bulk_add(b, FERRY_OP_INDEX, ix, id, strlen(id), body,
				    strlen(body)), &err);
		if (i % 2 == 0) {
			snprintf(ix, sizeof ix, "%s.event", tn);
			T_OK(ferry_bulk_add(b, FERRY_OP_INDEX, ix, id, strlen(id), body,
					    strlen(body)), &err);
		}
	}
	T_OK(ferry_bulk_commit(b, &err), &err);
	for (size_t i = 0; i < ferry_bulk_count(b); i++)
		T_OK(ferry_bulk_result(b, i, NULL, &err), &err);
	ferry_bulk_free(b);
}

static void resolve_is(ferry_db *db, const char *alias, const char *want)
{
	ferry_err err = {0, ""};
	char phys[FERRY_NAME_MAX + 1];
	T_OK(ferry_alias_resolve(db, alias, phys, &err), &err);
	assert_string_equal(phys, want);
}

static ferry_upgrade_opts opts(fx *f, const char *to)
{
	ferry_upgrade_opts o;
	memset(&o, 0, sizeof o);
	o.migrations_dir = f->mig;
	o.to = to;
	o.batch = 500;
	o.no_snapshot = 1;
	return o;
}

static char *status_json(ferry_db *db)
{
	ferry_err err = {0, ""};
	char *s;
	T_OK(ferry_upgrade_status(db, &s, &err), &err);
	return s;
}

/* ---- a new tenant gets the index set ---- */

static void test_add_copies_index_set(void **state)
{
	fx *f = *state;
	ferry_db *db = f->t.db;
	ferry_err err = {0, ""};
	char *b1, *b2;
	size_t l1, l2;
	const char *body = "{\"mappings\":{\"properties\":{\"a\":{\"type\":\"keyword\"}}}}";
	T_OK(ferry_index_create(db, "profile", body, strlen(body), &err), &err);
	T_OK(ferry_tenant_add(db, "acme", &err), &err);
	resolve_is(db, "acme.profile", "v1_0_0.acme.profile");
	T_OK(ferry_index_body(db, "acme.profile", &b1, &l1, &err), &err);
	T_OK(ferry_index_body(db, "profile", &b2, &l2, &err), &err);
	assert_int_equal(l1, l2);
	assert_memory_equal(b1, b2, l1);
	ferry_free(b1);
	ferry_free(b2);
	/* an index only acme has: the next tenant gets it with acme's body */
	T_OK(ferry_index_create(db, "acme.extra", "{\"x\":1}", 7, &err), &err);
	T_OK(ferry_tenant_add(db, "beta", &err), &err);
	resolve_is(db, "beta.extra", "v1_0_0.beta.extra");
	resolve_is(db, "beta.profile", "v1_0_0.beta.profile");
	T_OK(ferry_index_body(db, "beta.extra", &b1, &l1, &err), &err);
	assert_int_equal(l1, 7);
	assert_memory_equal(b1, "{\"x\":1}", 7);
	ferry_free(b1);
	/* the new tenant's indices are empty, the others untouched */
	uint64_t n = 1;
	T_OK(ferry_doc_count(db, "beta.profile", &n, &err), &err);
	assert_int_equal(n, 0);
	T_CODE(ferry_tenant_add(db, "beta", &err), FERRY_EEXISTS, &err);
	T_CODE(ferry_tenant_add(db, "Beta", &err), FERRY_ENAME, &err);
}

/* ---- one plan for every tenant; the budget counts them all ---- */

static void test_plan_per_tenant_and_budget(void **state)
{
	fx *f = *state;
	ferry_db *db = f->t.db;
	ferry_err err = {0, ""};
	char *plan;
	load_tenant(db, "default", 1);
	load_tenant(db, "acme", 0);
	load_tenant(db, "beta", 0);
	ferry_upgrade_opts o = opts(f, "1.1.0");
	T_OK(ferry_upgrade_run(db, &o, &err), &err);
	o = opts(f, "2.0.0");
	T_OK(ferry_upgrade_plan(db, &o, &plan, &err), &err);
	/* 3 tenants x 3 indices in 1.0.0 and in 1.1.0, 3 new each */
	T_CONTAINS(plan, "{\"tenant\":\"acme\",\"now\":6,\"new\":3,\"after\":9,"
		   "\"items\":4,\"docs\":1800}");
	T_CONTAINS(plan, "\"budget\":{\"limit\":1000,\"now\":18,\"after\":27,"
		   "\"tenants\":3,\"versions\":[{\"data_version\":\"1.0.0\","
		   "\"indices\":9},{\"data_version\":\"1.1.0\",\"indices\":9},"
		   "{\"data_version\":\"2.0.0\",\"indices\":9}]}");
	ferry_free(plan);
	/* over the budget: the breakdown and the version whose deletion fits */
	o.index_budget = 20;
	T_CODE(ferry_upgrade_plan(db, &o, &plan, &err), FERRY_ELIMIT, &err);
	T_CONTAINS(err.msg, "27 indices, over the index budget of 20");
	T_CONTAINS(err.msg, "3 tenants with 9 each (6 now + 3 new)");
	T_CONTAINS(err.msg, "candidates: 1.0.0 (9 indices)");
	T_CONTAINS(err.msg, "deleting 1.0.0 makes room");
	if (strstr(err.msg, "1.1.0 ("))
		fail_msg("the active version is offered for deletion: %s", err.msg);
	o.index_budget = 10;
	T_CODE(ferry_upgrade_plan(db, &o, &plan, &err), FERRY_ELIMIT, &err);
	T_CONTAINS(err.msg, "deleting all of them is not enough");
	T_CODE(ferry_upgrade_run(db, &o, &err), FERRY_ELIMIT, &err);
	resolve_is(db, "beta.profile", "v1_1_0.beta.profile");
}

/* ---- progress per tenant, in item order ---- */

typedef struct watch {
	fx *f;
	size_t last_item, copy_reports, tenants, tenants_done;
	uint64_t all_done, all_total;
	int disorder, over;
	/* tenant_add_at: add tenant "delta" at this copy report (0: never) */
	size_t add_at;
	int added, add_rc;
	ferry_err add_err;
} watch;

static int on_progress(void *ctx, const ferry_upgrade_progress *p)
{
	watch *w = ctx;
	if (strcmp(p->step, "copy") || p->item >= p->items)
		return 0;
	if (w->copy_reports++ && p->item < w->last_item)
		w->disorder = 1;
	w->last_item = p->item;
	w->tenants = p->tenants;
	w->tenants_done = p->tenants_done;
	w->all_done = p->all_done;
	w->all_total = p->all_total;
	if (p->tenant_done > p->tenant_total || p->all_done > p->all_total)
		w->over = 1;
	if (w->add_at && w->copy_reports == w->add_at && !w->added) {
		ferry_write_result r;
		w->added = 1;
		w->add_rc = ferry_tenant_add(w->f->t.db, "delta", &w->add_err);
		for (int i = 0; !w->add_rc && i < 10; i++) {
			char id[16], body[64];
			snprintf(id, sizeof id, "d%d", i);
			snprintf(body, sizeof body, "{\"id\":\"%s\",\"n\":%d}", id, i);
			w->add_rc = ferry_doc_put(w->f->t.db, "delta.profile", id,
				strlen(id), body, strlen(body), FERRY_OP_INDEX, &r,
				&w->add_err);
		}
	}
	return 0;
}

static void test_all_tenants_switch_together(void **state)
{
	fx *f = *state;
	ferry_db *db = f->t.db;
	ferry_err err = {0, ""};
	const char *tn[] = {"default", "acme", "beta", "gamma"};
	watch w;
	memset(&w, 0, sizeof w);
	for (int i = 0; i < 4; i++)
		load_tenant(db, tn[i], i == 0);
	ferry_upgrade_opts o = opts(f, "2.0.0");
	o.progress = on_progress;
	o.ctx = &w;
	T_OK(ferry_upgrade_run(db, &o, &err), &err);
	assert_false(w.disorder);
	assert_false(w.over);
	assert_int_equal(w.tenants, 4);
	assert_int_equal(w.tenants_done, 4);
	assert_int_equal(w.all_total, 4 * (NDOCS + NDOCS / 2));
	assert_int_equal(w.all_done, w.all_total);
	for (int i = 0; i < 4; i++) {
		char a[80], p[80];
		const char *ix[] = {"profile", "events", "consent"};
		for (int k = 0; k < 3; k++) {
			snprintf(a, sizeof a, "%s.%s", tn[i], ix[k]);
			snprintf(p, sizeof p, "v2_0_0.%s.%s", tn[i], ix[k]);
			resolve_is(db, a, p);
		}
		snprintf(a, sizeof a, "%s.profile", tn[i]);
		char *body = t_get(db, a, "p00007", NULL);
		assert_non_null(body);
		T_CONTAINS(body, "\"v\":\"1.1\"");
		T_CONTAINS(body, "\"lua\":true");
		free(body);
	}
	char *s = status_json(db);
	T_CONTAINS(s, "\"tenants\":[{\"tenant\":\"acme\",\"items\":4,"
		   "\"phase\":\"done\",\"done\":1800,\"total\":1800}");
	T_CONTAINS(s, "{\"tenant\":\"default\",\"items\":4,\"phase\":\"done\","
		   "\"done\":1800,\"total\":1800}");
	T_CONTAINS(s, "{\"tenant\":\"gamma\",\"items\":4,\"phase\":\"done\","
		   "\"done\":1800,\"total\":1800}");
	ferry_free(s);
}

/* ---- a failure in one tenant switches nobody ---- */

static void test_one_tenant_fails(void **state)
{
	fx *f = *state;
	ferry_db *db = f->t.db;
	ferry_err err = {0, ""};
	ferry_write_result r;
	const char *tn[] = {"default", "acme", "beta"};
	for (int i = 0; i < 3; i++)
		load_tenant(db, tn[i], i == 0);
	const char *bad = "{\"id\":\"p00900\",\"fail\":true}";
	T_OK(ferry_doc_put(db, "beta.profile", "p00900", 6, bad, strlen(bad),
			   FERRY_OP_INDEX, &r, &err), &err);
	ferry_upgrade_opts o = opts(f, "2.0.0");
	int rc = ferry_upgrade_run(db, &o, &err);
	assert_int_equal(rc, FERRY_EINVAL);
	T_CONTAINS(err.msg, "tenant 'beta'");
	T_CONTAINS(err.msg, "document 'p00900' of v1_0_0.beta.profile");
	T_CONTAINS(err.msg, "refused on purpose");
	T_CONTAINS(err.msg, "--skip-bad");
	ferry_status st;
	T_OK(ferry_db_status(db, &st, &err), &err);
	assert_string_equal(st.data_version, "1.0.0");
	for (int i = 0; i < 3; i++) {
		char a[64], p[64];
		snprintf(a, sizeof a, "%s.profile", tn[i]);
		snprintf(p, sizeof p, "v1_0_0.%s.profile", tn[i]);
		resolve_is(db, a, p);
	}
	char *s = status_json(db);
	T_CONTAINS(s, "tenant 'beta'");
	ferry_free(s);
	/* abort: the new set goes, no alias moved */
	T_OK(ferry_upgrade_abort(db, 0, &err), &err);
	ferry_index_info *list;
	size_t n;
	T_OK(ferry_index_list(db, "v2_0_0.*", &list, &n, &err), &err);
	assert_int_equal(n, 0);
	ferry_free(list);
	for (int i = 0; i < 3; i++) {
		char a[64], p[64];
		snprintf(a, sizeof a, "%s.event", tn[i]);
		snprintf(p, sizeof p, "v1_0_0.%s.event", tn[i]);
		resolve_is(db, a, p);
	}
	/* with --skip-bad the same upgrade goes through; beta's _failed
	 * index holds the document */
	o.skip_bad = 1;
	T_OK(ferry_upgrade_run(db, &o, &err), &err);
	resolve_is(db, "beta.profile", "v2_0_0.beta.profile");
	char *body = t_get(db, "v2_0_0.beta._failed", "p00900", NULL);
	assert_non_null(body);
	T_CONTAINS(body, "refused on purpose");
	free(body);
}

/* ---- a tenant added while the upgrade copies ---- */

static void test_tenant_added_mid_upgrade(void **state)
{
	fx *f = *state;
	ferry_db *db = f->t.db;
	ferry_err err = {0, ""};
	watch w;
	memset(&w, 0, sizeof w);
	w.f = f;
	w.add_at = 2;
	const char *tn[] = {"default", "acme", "beta"};
	for (int i = 0; i < 3; i++)
		load_tenant(db, tn[i], i == 0);
	ferry_upgrade_opts o = opts(f, "2.0.0");
	o.progress = on_progress;
	o.ctx = &w;
	T_OK(ferry_upgrade_run(db, &o, &err), &err);
	assert_true(w.added);
	T_OK(w.add_rc, &w.add_err);
	/* both index sets, and switched with the rest */
	resolve_is(db, "delta.profile", "v2_0_0.delta.profile");
	resolve_is(db, "delta.events", "v2_0_0.delta.events");
	resolve_is(db, "delta.consent", "v2_0_0.delta.consent");
	(void)t_info(db, "v1_0_0.delta.profile");
	(void)t_info(db, "v1_0_0.delta.event");
	(void)t_info(db, "v1_0_0.delta.session");
	uint64_t n = 0;
	T_OK(ferry_doc_count(db, "delta.profile", &n, &err), &err);
	assert_int_equal(n, 10);
	char *body = t_get(db, "delta.profile", "d3", NULL);
	assert_non_null(body);
	assert_string_equal(body, "{\"id\":\"d3\",\"n\":3,\"v\":\"1.1\",\"lua\":true}");
	free(body);
	char *s = status_json(db);
	T_CONTAINS(s, "{\"tenant\":\"delta\",\"items\":4,\"phase\":\"done\"");
	ferry_free(s);
	/* a tenant added after the switch: the active set, and the old one
	 * (empty, no aliases) for a rollback */
	T_OK(ferry_tenant_add(db, "late", &err), &err);
	resolve_is(db, "late.profile", "v2_0_0.late.profile");
	ferry_index_info *list;
	size_t k;
	T_OK(ferry_index_list(db, "v1_0_0.late.*", &list, &k, &err), &err);
	assert_int_equal(k, 3);
	for (size_t i = 0; i < k; i++)
		assert_string_equal(list[i].alias, "");
	ferry_free(list);
	t_put(db, "late.profile", "l1", "{\"id\":\"l1\"}");
	t_put(db, "late.events", "e1", "{\"id\":\"e1\"}");
	/* rollback moves delta and late back with the others; late's writes
	 * (all after the switch) are among those dropped */
	uint64_t dropped = 0;
	T_OK(ferry_rollback(db, 0, &dropped, &err), &err);
	assert_int_equal(dropped, 2);
	resolve_is(db, "late.profile", "v2_0_0.late.profile");
	T_OK(ferry_rollback(db, 1, &dropped, &err), &err);
	assert_int_equal(dropped, 2);
	resolve_is(db, "delta.profile", "v1_0_0.delta.profile");
	resolve_is(db, "acme.profile", "v1_0_0.acme.profile");
	resolve_is(db, "late.profile", "v1_0_0.late.profile");
	resolve_is(db, "late.event", "v1_0_0.late.event");
	resolve_is(db, "late.session", "v1_0_0.late.session");
	T_CODE(ferry_alias_resolve(db, "late.events", NULL, &err),
	       FERRY_ENOTFOUND, &err);
	T_CODE(ferry_alias_resolve(db, "late.consent", NULL, &err),
	       FERRY_ENOTFOUND, &err);
}

/* ---- rollback of a tenant the job has no items of ---- */

/* What a data dir looks like when `tenant` was added after the cutover by
 * a ferry that made no rollback set: its items and old indices removed. */
static void forget_rollback_set(ferry_db *db, const char *tenant)
{
	ferry_err err = {0, ""};
	fstore_txn *t;
	ujob j;
	size_t n = 0;
	char pattern[80];
	T_OK(fdb_begin(db, 1, &t, &err), &err);
	if (ujob_load(t, &j))
		fail_msg("no upgrade job");
	while (n < j.n && strcmp(j.items[j.n - n - 1].tenant, tenant) == 0)
		n++;
	assert_int_equal(n, 3); /* its items are the last ones */
	j.n -= n;
	T_OK(ujob_save_header(t, &j, &err), &err);
	j.n += n;
	ujob_release(&j);
	T_OK(fdb_commit(t, &err), &err);
	snprintf(pattern, sizeof pattern, "v1_0_0.%s.*", tenant);
	ferry_index_info *list;
	size_t k;
	T_OK(ferry_index_list(db, pattern, &list, &k, &err), &err);
	assert_int_equal(k, 3);
	for (size_t i = 0; i < k; i++)
		T_OK(ferry_index_delete(db, list[i].name, 1, &err), &err);
	ferry_free(list);
}

static void test_rollback_tenant_without_items(void **state)
{
	fx *f = *state;
	ferry_db *db = f->t.db;
	ferry_err err = {0, ""};
	load_tenant(db, "default", 1);
	load_tenant(db, "acme", 0);
	ferry_upgrade_opts o = opts(f, "1.1.0");
	T_OK(ferry_upgrade_run(db, &o, &err), &err);
	T_OK(ferry_tenant_add(db, "old", &err), &err);
	forget_rollback_set(db, "old");
	for (int i = 0; i < 5; i++) {
		char id[16];
		snprintf(id, sizeof id, "o%d", i);
		t_put(db, "old.profile", id, "{\"n\":1}");
	}
	/* an index created after the switch, for an old tenant */
	t_create(db, "acme.notes");
	t_put(db, "acme.notes", "n1", "{\"n\":1}");
	uint64_t dropped = 0;
	T_OK(ferry_rollback(db, 0, &dropped, &err), &err);
	assert_int_equal(dropped, 6);
	resolve_is(db, "old.profile", "v1_1_0.old.profile"); /* no change */
	T_OK(ferry_rollback(db, 1, &dropped, &err), &err);
	assert_int_equal(dropped, 6);
	/* every alias on 1.0.0: old's on a new empty set, acme.notes too */
	resolve_is(db, "old.profile", "v1_0_0.old.profile");
	resolve_is(db, "old.event", "v1_0_0.old.event");
	resolve_is(db, "old.session", "v1_0_0.old.session");
	resolve_is(db, "acme.notes", "v1_0_0.acme.notes");
	resolve_is(db, "acme.profile", "v1_0_0.acme.profile");
	assert_int_equal(t_info(db, "v1_0_0.old.profile").docs, 0);
	assert_int_equal(t_info(db, "v1_0_0.acme.notes").docs, 0);
	assert_int_equal(t_info(db, "v1_0_0.acme.profile").docs, NDOCS);
	ferry_index_info *list;
	size_t k;
	T_OK(ferry_index_list(db, NULL, &list, &k, &err), &err);
	for (size_t i = 0; i < k; i++)
		if (list[i].alias[0] && strcmp(list[i].data_version, "1.0.0"))
			fail_msg("alias %s is on %s", list[i].alias, list[i].name);
	ferry_free(list);
	t_put(db, "old.profile", "after", "{\"n\":2}");
}

/* ---- a tenant add and the index budget ---- */

static void test_add_over_budget(void **state)
{
	fx *f = *state;
	ferry_db *db = f->t.db;
	ferry_err err = {0, ""};
	ferry_status st;
	load_tenant(db, "default", 1);
	T_CODE(ferry_index_budget_set(db, 0, &err), FERRY_EINVAL, &err);
	T_OK(ferry_index_budget_set(db, 6, &err), &err);
	T_OK(ferry_tenant_add(db, "acme", &err), &err); /* 6 of 6 */
	T_CODE(ferry_tenant_add(db, "beta", &err), FERRY_ELIMIT, &err);
	T_CONTAINS(err.msg, "tenant 'beta' was not added: it needs 3 new "
		   "indices (3 in 1.0.0 (active)), which would make 9 indices, "
		   "over the index budget of 6 (6 now)");
	T_CONTAINS(err.msg, "`ferry indices budget 9`");
	T_OK(ferry_db_status(db, &st, &err), &err);
	assert_int_equal(st.indices, 6);
	assert_int_equal(st.tenants, 2);
	/* after the switch the set kept for a rollback counts too, and the
	 * old version is offered for deletion */
	T_OK(ferry_index_budget_set(db, 12, &err), &err);
	ferry_upgrade_opts o = opts(f, "1.1.0");
	T_OK(ferry_upgrade_run(db, &o, &err), &err);
	T_CODE(ferry_tenant_add(db, "beta", &err), FERRY_ELIMIT, &err);
	T_CONTAINS(err.msg, "(3 in 1.1.0 (active), 3 in 1.0.0 (kept for "
		   "`ferry rollback`))");
	T_CONTAINS(err.msg, "candidates: 1.0.0 (6 indices); deleting 1.0.0 "
		   "makes room");
	T_OK(ferry_db_status(db, &st, &err), &err);
	assert_int_equal(st.indices, 12);
	char *s = status_json(db);
	if (strstr(s, "\"beta\""))
		fail_msg("the refused tenant is in the job: %s", s);
	ferry_free(s);
	T_OK(ferry_index_budget_set(db, 18, &err), &err);
	T_OK(ferry_tenant_add(db, "beta", &err), &err);
	T_OK(ferry_db_status(db, &st, &err), &err);
	assert_int_equal(st.indices, 18);
}

/* ---- removing tenants ---- */

static int remove_in_copy(void *ctx, const ferry_upgrade_progress *p)
{
	watch *w = ctx;
	if (!strcmp(p->step, "copy") && !w->added) {
		w->added = 1;
		w->add_rc = ferry_tenant_remove(w->f->t.db, "acme", 1, &w->add_err);
	}
	return 0;
}

static void test_remove(void **state)
{
	fx *f = *state;
	ferry_db *db = f->t.db;
	ferry_err err = {0, ""};
	load_tenant(db, "default", 1);
	load_tenant(db, "acme", 0);
	T_OK(ferry_tenant_add(db, "empty", &err), &err);
	T_CODE(ferry_tenant_remove(db, "default", 1, &err), FERRY_EPERM, &err);
	T_CODE(ferry_tenant_remove(db, "nobody", 1, &err), FERRY_ENOTFOUND, &err);
	T_CODE(ferry_tenant_remove(db, "acme", 0, &err), FERRY_EPERM, &err);
	T_CONTAINS(err.msg, "3 indices holding 1800 documents");
	T_OK(ferry_tenant_remove(db, "empty", 0, &err), &err);
	/* not while an upgrade builds a version */
	watch w;
	memset(&w, 0, sizeof w);
	w.f = f;
	ferry_upgrade_opts o = opts(f, "2.0.0");
	o.progress = remove_in_copy;
	o.ctx = &w;
	T_OK(ferry_upgrade_run(db, &o, &err), &err);
	assert_true(w.added);
	assert_int_equal(w.add_rc, FERRY_EBUSY);
	T_CONTAINS(w.add_err.msg, "under way");
	/* after it: gone in every version; a rollback skips it */
	T_OK(ferry_tenant_remove(db, "acme", 1, &err), &err);
	ferry_index_info *list;
	size_t n;
	T_OK(ferry_index_list(db, "*.acme.*", &list, &n, &err), &err);
	assert_int_equal(n, 0);
	ferry_free(list);
	char **v;
	T_OK(ferry_tenant_list(db, &v, &err), &err);
	assert_string_equal(v[0], "default");
	assert_null(v[1]);
	ferry_strv_free(v);
	uint64_t dropped;
	T_OK(ferry_rollback(db, 1, &dropped, &err), &err);
	resolve_is(db, "profile", "v1_0_0.default.profile");
}

/* ---- verification finds a target that differs from its source ---- */

/* Just before the cutover, overwrites the target's first profile (the
 * lowest sequence number, which verification always samples) behind the
 * upgrade's back, through the store: a copy that went wrong. */
static int spoil_target(void *ctx, const ferry_upgrade_progress *p)
{
	watch *w = ctx;
	ferry_db *db = w->f->t.db;
	fstore_txn *t;
	fcat_index ix;
	uint64_t seq;
	int via, created;
	const char *body = "{\"id\":\"p00000\",\"spoiled\":true}";
	if (strcmp(p->step, "cutover") || w->added)
		return 0;
	w->added = 1;
	w->add_rc = fdb_begin(db, 1, &t, &w->add_err);
	if (w->add_rc)
		return 0;
	w->add_rc = fcat_resolve(t, "v1_1_0.default.profile", &ix, &via,
				 &w->add_err);
	if (!w->add_rc)
		w->add_rc = db->ops->doc_write(t, ix.ix, FERRY_OP_INDEX, "p00000",
					       6, body, strlen(body), &seq,
					       &created, &w->add_err);
	if (w->add_rc)
		fdb_abort(t);
	else
		w->add_rc = fdb_commit(t, &w->add_err);
	return 0;
}

static void test_verify_finds_difference(void **state)
{
	fx *f = *state;
	ferry_db *db = f->t.db;
	ferry_err err = {0, ""};
	watch w;
	load_tenant(db, "default", 1);
	memset(&w, 0, sizeof w);
	w.f = f;
	ferry_upgrade_opts o = opts(f, "1.1.0");
	o.progress = spoil_target;
	o.ctx = &w;
	T_CODE(ferry_upgrade_run(db, &o, &err), FERRY_ECORRUPT, &err);
	assert_true(w.added);
	T_OK(w.add_rc, &w.add_err);
	T_CONTAINS(err.msg, "verify: document 'p00000' of v1_0_0.default.profile "
		   "differs from its transformed source in v1_1_0.default.profile");
	T_CONTAINS(err.msg, "`ferry rollback` returns to 1.0.0");
	char *st = status_json(db);
	T_CONTAINS(st, "\"state\":\"failed\"");
	ferry_free(st);
	/* the switch happened; a rollback brings the old set back */
	resolve_is(db, "profile", "v1_1_0.default.profile");
	uint64_t dropped;
	T_OK(ferry_rollback(db, 1, &dropped, &err), &err);
	resolve_is(db, "profile", "v1_0_0.default.profile");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_copies_index_set, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_plan_per_tenant_and_budget,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_tenants_switch_together,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_tenant_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tenant_added_mid_upgrade,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_tenant_without_items,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_over_budget, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_verify_finds_difference,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
