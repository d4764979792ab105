/*
 * uplan.c - builds an upgrade plan: classifies the move between releases,
 * finds and composes the chain of hops, lists one item per tenant and
 * source index, checks the index budget and hop files changed since they
 * were applied, and renders the plan as JSON.
 *
 * One plan covers every tenant. The budget counts physical indices, so
 * tenants x versions: every index of every version that exists now plus
 * the ones the upgrade creates; the plan shows both per tenant, and a
 * refusal says how the count is made up and which old versions to delete.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/db.h"
#include "core/err.h"
#include "core/names.h"
#include "migrate/uplan.h"

const char *uplan_migrations_dir(const ferry_upgrade_opts *o)
{
	const char *d = o && o->migrations_dir ? o->migrations_dir : NULL;
	if (!d || !*d)
		d = getenv("FERRY_MIGRATIONS");
	return d && *d ? d : "./migrations";
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void uplan_release(uplan *p)
{
	fmig_program_free(p->prog);
	fmig_chain_free(p->chain);
	fmig_set_free(p->set);
	strv_free(p->sources, p->nsources);
	strv_free(p->tenants, p->ntenants);
	ujob_release(&p->job);
	fbuf_release(&p->warnings);
	free(p->tc);
	free(p->vc);
	memset(p, 0, sizeof *p);
}

/* The count record of `tenant`, added if new. NULL when out of memory. */
static utcount *tcount(uplan *p, const char *tenant)
{
	for (size_t i = 0; i < p->ntc; i++)
		if (!strcmp(p->tc[i].tenant, tenant))
			return &p->tc[i];
	utcount *n = realloc(p->tc, (p->ntc + 1) * sizeof *n);
	if (!n)
		return NULL;
	p->tc = n;
	memset(&n[p->ntc], 0, sizeof *n);
	snprintf(n[p->ntc].tenant, sizeof n->tenant, "%s", tenant);
	return &n[p->ntc++];
}

static int vcount(uplan *p, const char *version)
{
	for (size_t i = 0; i < p->nvc; i++)
		if (!strcmp(p->vc[i].version, version)) {
			p->vc[i].n++;
			return 0;
		}
	uvcount *n = realloc(p->vc, (p->nvc + 1) * sizeof *n);
	if (!n)
		return FERRY_ENOMEM;
	p->vc = n;
	snprintf(n[p->nvc].version, sizeof n->version, "%s", version);
	n[p->nvc++].n = 1;
	return 0;
}

static int strv_add_unique(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], s))
			return 0;
	char **nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv)
		return FERRY_ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return FERRY_ENOMEM;
	(*n)++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Source indices of the active version, and tenants, from the catalog. */
struct src_ctx {
	uplan *p;
	fstore_txn *t;
};

static int collect_source(void *ctx, const fcat_index *ix)
{
	struct src_ctx *c = ctx;
	utcount *tc = tcount(c->p, ix->tenant);
	if (!tc || vcount(c->p, ix->version))
		return FERRY_ENOMEM;
	tc->now++;
	c->p->live_indices++;
	if (strcmp(ix->version, c->p->st.data_version) || !ix->index[0] ||
	    !strcmp(ix->index, FNAME_FAILED))
		return 0;
	return strv_add_unique(&c->p->sources, &c->p->nsources, ix->index);
}

static int collect_tenant(void *ctx, const fstore_entry *e)
{
	uplan *p = ctx;
	char name[FERRY_PART_MAX + 1];
	size_t n = e->idlen - 7;
	if (n > FERRY_PART_MAX)
		return FERRY_ECORRUPT;
	memcpy(name, e->id + 7, n);
	name[n] = 0;
	return strv_add_unique(&p->tenants, &p->ntenants, name);
}

static int classify(uplan *p, const ferry_upgrade_opts *o, ferry_err *err)
{
	fversion from, to, dv;
	int rc = fversion_parse(p->st.release, &from, err);
	if (rc || (rc = fversion_parse(o->to ? o->to : "", &to, err)))
		return rc;
	fversion_data(&to, p->st.data_parts, &dv);
	fversion_format(&to, p->to_release, sizeof p->to_release);
	fversion_format(&dv, p->to_dv, sizeof p->to_dv);
	fversion_token(&dv, p->to_token, sizeof p->to_token);
	p->kind = fversion_classify(&from, &to, p->st.data_parts);
	if (p->kind == FVERSION_DOWNGRADE)
		return ferry_err_set(err, FERRY_EVERSION, "%s is older than the "
			"active release %s; downgrades are refused (`ferry "
			"rollback` moves back to the previous version while its "
			"indices exist)", p->to_release, p->st.release);
	if (p->kind != FVERSION_SAME && !o->allow_dev &&
	    (fversion_is_dev(&from) || fversion_is_dev(&to)))
		return ferry_err_set(err, FERRY_EVERSION, "%s -> %s involves a "
			"development build; pass --allow-dev to go ahead (data of "
			"development versions may be lost)", p->st.release,
			p->to_release);
	return 0;
}

/* Items: one per tenant and source index, then the created indices. */
static int add_item(uplan *p, const char *tenant, const fcat_index *src,
		    uint32_t pi, fstore_txn *t)
{
	const fmig_index_info *in = fmig_program_index(p->prog, pi);
	ujob *j = &p->job;
	uitem *ni = realloc(j->items, (j->n + 1) * sizeof *ni);
	if (!ni)
		return FERRY_ENOMEM;
	j->items = ni;
	uitem *it = &ni[j->n++];
	memset(it, 0, sizeof *it);
	snprintf(it->tenant, sizeof it->tenant, "%s", tenant);
	snprintf(it->phase, sizeof it->phase, in->dropped ? "done" : "copy");
	it->pi = pi;
	if (src) {
		fstore_stats s = {0};
		t->store->ops->ix_stats(t, src->ix, &s);
		snprintf(it->src, sizeof it->src, "%s", src->name);
		snprintf(it->source, sizeof it->source, "%s", src->index);
		it->src_ix = src->ix;
		it->total = s.docs;
		p->docs_total += s.docs;
	}
	utcount *tc = tcount(p, tenant);
	if (!tc)
		return FERRY_ENOMEM;
	tc->items++;
	tc->docs += it->total;
	if (!in->dropped) {
		snprintf(it->target, sizeof it->target, "%s", in->target);
		fname_physical(p->to_token, tenant, in->target, it->dst,
			       sizeof it->dst);
		p->new_indices++;
		tc->add++;
	}
	if (!src)
		snprintf(it->phase, sizeof it->phase, "done");
	return 0;
}

static int build_items(uplan *p, fstore_txn *t)
{
	size_t n = fmig_program_count(p->prog);
	for (size_t ti = 0; ti < p->ntenants; ti++) {
		const char *tn = p->tenants[ti];
		for (size_t i = 0; i < n; i++) {
			const fmig_index_info *in = fmig_program_index(p->prog, i);
			fcat_index src;
			char phys[FERRY_NAME_MAX + 1], vt[64];
			int rc;
			if (in->source) {
				fversion dv;
				fversion_parse(p->st.data_version, &dv, NULL);
				fversion_token(&dv, vt, sizeof vt);
				fname_physical(vt, tn, in->source, phys, sizeof phys);
				if (fcat_index_get(t, phys, &src))
					continue; /* this tenant lacks it */
				rc = add_item(p, tn, &src, (uint32_t)i, t);
			} else {
				rc = add_item(p, tn, NULL, (uint32_t)i, t);
			}
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* Hop files changed after they were applied ("applied/<file>"). */
static int check_changed(uplan *p, fstore_txn *t, int accept, ferry_err *err)
{
	for (size_t i = 0; i < fmig_set_count(p->set); i++) {
		const fmig_hop_info *h = fmig_set_hop(p->set, i);
		const char *base = strrchr(h->path, '/');
		char key[512];
		const char *v;
		size_t n;
		snprintf(key, sizeof key, "applied/%s", base ? base + 1 : h->path);
		if (t->store->ops->kv_get(t, key, &v, &n))
			continue;
		char want[256];
		snprintf(want, sizeof want, "%s %s", h->checksum, h->lua_checksum);
		if (n == strlen(want) && !memcmp(v, want, n))
			continue;
		if (!accept)
			return ferry_err_set(err, FERRY_EINVAL, "%s changed after it "
				"was applied (recorded checksum %.12s..., now %.12s...); "
				"restore it, or pass --accept-changed to use it as it is",
				h->path, v, h->checksum);
		fbuf_addf(&p->warnings, "%s\"%s changed after it was applied "
			  "(accepted)\"", p->warnings.len ? "," : "", h->path);
	}
	return 0;
}

static int budget_error(uplan *p, ferry_err *err);

static int cmp_tcount(const void *a, const void *b)
{
	return strcmp(((const utcount *)a)->tenant, ((const utcount *)b)->tenant);
}

static int cmp_vcount(const void *a, const void *b)
{
	fversion x, y;
	const char *vx = ((const uvcount *)a)->version;
	const char *vy = ((const uvcount *)b)->version;
	if (fversion_parse(vx, &x, NULL) || fversion_parse(vy, &y, NULL))
		return strcmp(vx, vy);
	return fversion_cmp(&x, &y);
}

static int plan_major(uplan *p, fstore_txn *t, const ferry_upgrade_opts *o,
		      ferry_err *err)
{
	struct src_ctx c = {p, t};
	int rc = fmig_dir_load(uplan_migrations_dir(o), &p->set, err);
	if (rc || (rc = check_changed(p, t, o->accept_changed, err)) ||
	    (rc = fmig_plan_chain(p->set, p->st.data_version, p->to_dv,
				  &p->chain, err)))
		return rc;
	if ((rc = fcat_index_each(t, collect_source, &c)) ||
	    (rc = t->store->ops->kv_scan(t, "tenant/", collect_tenant, p)))
		return ferry_err_set(err, rc, "reading the catalog");
	qsort(p->sources, p->nsources, sizeof *p->sources, cmp_str);
	if ((rc = fmig_compose_flags(p->chain, (const char *const *)p->sources,
				     p->nsources, FMIG_ABSENT_OK, &p->prog, err)))
		return rc;
	if (*fmig_program_absent(p->prog))
		fbuf_addf(&p->warnings, "%s\"the migrations name indices this "
			  "deployment does not have (skipped): %s\"",
			  p->warnings.len ? "," : "", fmig_program_absent(p->prog));
	if ((rc = build_items(p, t)))
		return ferry_err_set(err, rc, "planning items");
	qsort(p->tc, p->ntc, sizeof *p->tc, cmp_tcount);
	qsort(p->vc, p->nvc, sizeof *p->vc, cmp_vcount);
	if (p->live_indices + p->new_indices > p->budget)
		return budget_error(p, err);
	return 0;
}

int uplan_kind(fstore_txn *t, const ferry_upgrade_opts *o,
	       enum fversion_change *kind, ferry_err *err)
{
	uplan p;
	memset(&p, 0, sizeof p);
	int rc = fcat_settings_get(t, &p.st, err);
	if (rc || (rc = classify(&p, o, err)))
		return rc;
	*kind = p.kind;
	return 0;
}

int uplan_build(ferry_db *db, fstore_txn *t, const ferry_upgrade_opts *o,
		uplan *p, ferry_err *err)
{
	memset(p, 0, sizeof *p);
	fbuf_init(&p->warnings, 0);
	fbuf_init(&p->job.hops, 0);
	int rc = fcat_settings_get(t, &p->st, err);
	if (rc || (rc = classify(p, o, err)))
		return rc;
	p->budget = o->index_budget ? o->index_budget : p->st.index_budget;
	snprintf(p->job.from, sizeof p->job.from, "%s", p->st.data_version);
	snprintf(p->job.to, sizeof p->job.to, "%s", p->to_dv);
	snprintf(p->job.from_release, sizeof p->job.from_release, "%s",
		 p->st.release);
	snprintf(p->job.to_release, sizeof p->job.to_release, "%s",
		 p->to_release);
	snprintf(p->job.state, sizeof p->job.state, "plan");
	p->job.skip_bad = o->skip_bad;
	if (p->kind != FVERSION_MAJOR)
		return 0;
	if ((rc = plan_major(p, t, o, err)))
		return rc;
	fbuf_addc(&p->job.hops, '[');
	for (size_t i = 0; i < fmig_chain_count(p->chain); i++) {
		const fmig_hop_info *h = fmig_chain_hop(p->chain, i);
		fbuf_addf(&p->job.hops, "%s{\"from\":\"%s\",\"to\":\"%s\",\"file\":",
			  i ? "," : "", h->from, h->to);
		fbuf_add_jstr(&p->job.hops, h->path, strlen(h->path));
		fbuf_addf(&p->job.hops, ",\"checksum\":\"%s\",\"lua_checksum\":"
			  "\"%s\"}", h->checksum, h->lua_checksum);
	}
	(void)db;
	return fbuf_addc(&p->job.hops, ']');
}

/* The tenants' counts in a few words: tenants with the same counts are
 * grouped ("100 tenants with 8 each (4 now + 4 new)"), the biggest groups
 * first, singles by name ("acme 10 (6 now + 4 new)"). */
static void tenant_breakdown(const uplan *p, char *out, size_t n)
{
	size_t used = 0, shown = 0, groups = 0;
	unsigned char *done = calloc(p->ntc ? p->ntc : 1, 1);
	out[0] = 0;
	if (!done)
		return;
	while (used + 60 < n) {
		size_t best = p->ntc, cnt = 0;
		for (size_t i = 0; i < p->ntc; i++) { /* the biggest group left */
			size_t k = 0;
			if (done[i])
				continue;
			for (size_t j = i; j < p->ntc; j++)
				k += !done[j] && p->tc[j].now == p->tc[i].now &&
				     p->tc[j].add == p->tc[i].add;
			if (k > cnt)
				best = i, cnt = k;
		}
		if (best == p->ntc)
			break;
		const utcount *g = &p->tc[best];
		if (groups++ == 4) {
			snprintf(out + used, n - used, ", %zu more tenants",
				 p->ntc - shown);
			break;
		}
		if (cnt > 1)
			used += (size_t)snprintf(out + used, n - used, "%s%zu tenants "
				"with %zu each (%zu now + %zu new)", shown ? ", " : "",
				cnt, g->now + g->add, g->now, g->add);
		else
			used += (size_t)snprintf(out + used, n - used, "%s%s %zu (%zu "
				"now + %zu new)", shown ? ", " : "", g->tenant,
				g->now + g->add, g->now, g->add);
		for (size_t j = best; j < p->ntc; j++)
			if (p->tc[j].now == g->now && p->tc[j].add == g->add)
				done[j] = 1;
		shown += cnt;
	}
	free(done);
}

/* Old versions (not the active one) to delete, oldest first, until the
 * upgrade fits; *enough is 0 when deleting all of them does not do. */
static size_t room_by_deleting(const uplan *p, int *enough)
{
	size_t after = p->live_indices + p->new_indices, k = 0;
	*enough = after <= p->budget;
	for (size_t i = 0; !*enough && i < p->nvc; i++) {
		if (!strcmp(p->vc[i].version, p->st.data_version))
			continue;
		after -= p->vc[i].n;
		k = i + 1;
		*enough = after <= p->budget;
	}
	return k; /* versions vc[0..k) that are not active */
}

static int budget_error(uplan *p, ferry_err *err)
{
	char per[200], list[160] = "", fix[160] = "";
	size_t used = 0, nold = 0;
	int enough;
	tenant_breakdown(p, per, sizeof per);
	for (size_t i = 0; i < p->nvc && used < sizeof list - 40; i++) {
		if (!strcmp(p->vc[i].version, p->st.data_version))
			continue;
		used += (size_t)snprintf(list + used, sizeof list - used,
			"%s%s (%zu indices)", nold++ ? ", " : "", p->vc[i].version,
			p->vc[i].n);
	}
	size_t k = room_by_deleting(p, &enough);
	used = 0;
	for (size_t i = 0; nold && enough && i < k && used < sizeof fix - 30; i++)
		if (strcmp(p->vc[i].version, p->st.data_version))
			used += (size_t)snprintf(fix + used, sizeof fix - used,
				"%s%s", used ? " and " : "; deleting ", p->vc[i].version);
	if (nold && enough)
		snprintf(fix + used, sizeof fix - used, " makes room");
	else if (nold)
		snprintf(fix, sizeof fix, "; deleting all of them is not enough: "
			 "raise the budget (`ferry indices budget N`, or "
			 "--index-budget for one plan)");
	return ferry_err_set(err, FERRY_ELIMIT, "the upgrade would make %zu "
		"indices, over the index budget of %u (%zu now + %zu new; per "
		"tenant: %s); delete an old version first (`ferry indices delete "
		"--version V`)%s%s%s", p->live_indices + p->new_indices, p->budget,
		p->live_indices, p->new_indices, per, nold ? ": candidates: " :
		" (there is none to delete; raise the budget: `ferry indices "
		"budget N`, or --index-budget for one plan)",
		list, fix);
}

int uplan_compose(const ujob *j, const fmig_set *set, fmig_program **prog,
		  ferry_err *err)
{
	fmig_chain *chain = NULL;
	char **src = NULL;
	size_t nsrc = 0;
	int rc = fmig_plan_chain(set, j->from, j->to, &chain, err);
	for (size_t i = 0; !rc && i < j->n; i++)
		if (j->items[i].source[0] &&
		    (rc = strv_add_unique(&src, &nsrc, j->items[i].source)))
			ferry_err_set(err, rc, NULL);
	if (!rc) {
		qsort(src, nsrc, sizeof *src, cmp_str);
		rc = fmig_compose_flags(chain, (const char *const *)src, nsrc,
					FMIG_ABSENT_OK, prog, err);
	}
	fmig_chain_free(chain);
	strv_free(src, nsrc);
	return rc;
}

int uplan_program_for(const ujob *j, const ferry_upgrade_opts *o,
		      fmig_set **set, fmig_program **prog, ferry_err *err)
{
	fmig_chain *chain = NULL;
	int rc = fmig_dir_load(uplan_migrations_dir(o), set, err);
	if (rc || (rc = fmig_plan_chain(*set, j->from, j->to, &chain, err)))
		goto out;
	for (size_t i = 0; i < fmig_chain_count(chain); i++) {
		const fmig_hop_info *h = fmig_chain_hop(chain, i);
		if (!strstr(j->hops.p, h->checksum) && !o->accept_changed) {
			rc = ferry_err_set(err, FERRY_EINVAL, "%s changed since the "
				"upgrade started; restore it, or pass --accept-changed",
				h->path);
			goto out;
		}
	}
	rc = uplan_compose(j, *set, prog, err);
out:
	fmig_chain_free(chain);
	return rc;
}

static const char *kind_name(enum fversion_change k)
{
	switch (k) {
	case FVERSION_SAME: return "same";
	case FVERSION_MINOR: return "minor";
	case FVERSION_MAJOR: return "major";
	default: return "downgrade";
	}
}

static int hops_json(const uplan *p, fbuf *out)
{
	int rc = fbuf_adds(out, ",\"hops\":[");
	for (size_t i = 0; !rc && p->chain && i < fmig_chain_count(p->chain);
	     i++) {
		rc = i ? fbuf_addc(out, ',') : 0;
		rc = rc ? rc : fmig_hop_json(fmig_chain_hop(p->chain, i), 0, out);
	}
	return rc ? rc : fbuf_addc(out, ']');
}

static int items_json(const uplan *p, fbuf *out)
{
	int rc = fbuf_adds(out, ",\"indices\":[");
	for (size_t i = 0; !rc && i < p->job.n; i++) {
		const uitem *it = &p->job.items[i];
		const fmig_index_info *in = fmig_program_index(p->prog, it->pi);
		const char *action = in->dropped ? "drop" : in->created ? "create"
				     : in->nops ? "transform" : "copy";
		rc = fbuf_addf(out, "%s{\"tenant\":\"%s\",\"source\":", i ? "," : "",
			       it->tenant);
		rc = rc ? rc : fbuf_add_jstr(out, it->src, strlen(it->src));
		rc = rc ? rc : fbuf_adds(out, ",\"target\":");
		rc = rc ? rc : fbuf_add_jstr(out, it->dst, strlen(it->dst));
		rc = rc ? rc : fbuf_addf(out, ",\"action\":\"%s\",\"ops\":%zu,"
			"\"docs\":%llu}", action, in->nops,
			(unsigned long long)it->total);
	}
	return rc ? rc : fbuf_addc(out, ']');
}

/* "tenants":[{"tenant","now","new","after","items","docs"}] */
static int tenants_json(const uplan *p, fbuf *out)
{
	int rc = fbuf_adds(out, ",\"tenants\":[");
	for (size_t i = 0; !rc && i < p->ntc; i++) {
		const utcount *c = &p->tc[i];
		rc = fbuf_adds(out, i ? ",{\"tenant\":" : "{\"tenant\":");
		rc = rc ? rc : fbuf_add_jstr(out, c->tenant, strlen(c->tenant));
		rc = rc ? rc : fbuf_addf(out, ",\"now\":%zu,\"new\":%zu,"
			"\"after\":%zu,\"items\":%zu,\"docs\":%llu}", c->now, c->add,
			c->now + c->add, c->items, (unsigned long long)c->docs);
	}
	return rc ? rc : fbuf_addc(out, ']');
}

/* "budget":{"limit","now","after","tenants","versions":[{"data_version",
 * "indices"}]}: every version's indices after the upgrade (the target's
 * are the new ones). A plan over the budget is refused instead, with the
 * per-tenant breakdown and the versions to delete in its message. */
static int budget_json(const uplan *p, fbuf *out)
{
	int rc = fbuf_addf(out, ",\"budget\":{\"limit\":%u,\"now\":%zu,"
		"\"after\":%zu,\"tenants\":%zu,\"versions\":[", p->budget,
		p->live_indices, p->live_indices + p->new_indices, p->ntc);
	for (size_t i = 0; !rc && i < p->nvc; i++)
		rc = fbuf_addf(out, "%s{\"data_version\":\"%s\",\"indices\":%zu}",
			       i ? "," : "", p->vc[i].version, p->vc[i].n);
	if (!rc && p->new_indices)
		rc = fbuf_addf(out, "%s{\"data_version\":\"%s\",\"indices\":%zu}",
			       p->nvc ? "," : "", p->to_dv, p->new_indices);
	return rc ? rc : fbuf_adds(out, "]}");
}

int uplan_json(const uplan *p, fbuf *out)
{
	/* Rough rate for the estimate; docs/benchmarks.md has measured ones. */
	const double rate = 400000.0;
	int rc = fbuf_addf(out, "{\"kind\":\"%s\",\"from\":{\"release\":\"%s\","
		"\"data_version\":\"%s\"},\"to\":{\"release\":\"%s\","
		"\"data_version\":\"%s\"}", kind_name(p->kind), p->st.release,
		p->st.data_version, p->to_release, p->to_dv);
	rc = rc ? rc : hops_json(p, out);
	if (!rc && p->prog)
		rc = items_json(p, out);
	if (!rc && p->prog)
		rc = tenants_json(p, out);
	rc = rc ? rc : fbuf_addf(out, ",\"docs\":%llu,\"estimated_seconds\":%.1f",
		(unsigned long long)p->docs_total, (double)p->docs_total / rate);
	rc = rc ? rc : budget_json(p, out);
	rc = rc ? rc : fbuf_addf(out, ",\"warnings\":[%s]}",
		p->warnings.len ? p->warnings.p : "");
	return rc;
}
