/*
 * utenant.c - a tenant created while an upgrade builds its target set
 * joins that upgrade (ferry_tenant_add calls ujob_tenant_join in the
 * same write transaction that creates the tenant's active indices).
 *
 * The job's existing items serve as templates: one per program entry
 * (preferring tenant "default", else the first tenant by name, the same
 * choice ferry_tenant_add makes for the active bodies). The new tenant
 * gets the same target indices with the template's target body, and one
 * item per entry. Its sources are brand new and empty, so its items start
 * in "catchup" from seq 0: whatever is written to them before the switch
 * is applied by the catch-up rounds and, at the latest, inside the
 * cutover transaction. The runner reads the new items from the catalog
 * (urun_absorb) before each catch-up round and in the cutover, so the
 * one cutover transaction switches the new tenant with all the others.
 *
 * A tenant created after the cutover, while the version the upgrade came
 * from can still be rolled back to (the job is in verify, done or failed,
 * its target is active, its source version retired, not deleted), joins
 * the switched job the same way: the tenant gets the old version's set,
 * empty and without aliases, and one item per entry in phase "done" whose
 * dst_seq_cut is 0 (every write to the tenant's new indices came after
 * the switch). ferry_rollback then moves its aliases back with everyone
 * else's and counts its writes among those it drops. The rollback also
 * calls this for tenants that have no items (added before this rule).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/catalog.h"
#include "core/err.h"
#include "core/index.h"
#include "core/names.h"
#include "core/version.h"
#include "migrate/upgrade.h"

int ujob_building(const ujob *j)
{
	return !strcmp(j->state, "copy") || !strcmp(j->state, "catchup") ||
	       !strcmp(j->state, "cutover");
}

/* The better template of two items of one program entry. */
static int better(const uitem *a, const uitem *b)
{
	if (!strcmp(a->tenant, "default") != !strcmp(b->tenant, "default"))
		return !strcmp(a->tenant, "default");
	return strcmp(a->tenant, b->tenant) < 0;
}

/* Item numbers of the templates, one per program entry, in entry order;
 * items of tenant `skip` (the one joining) are never templates. */
static int templates(const ujob *j, const char *skip, size_t **out,
		     size_t *n)
{
	size_t *v = calloc(j->n ? j->n : 1, sizeof *v), k = 0;
	if (!v)
		return FERRY_ENOMEM;
	for (size_t i = 0; i < j->n; i++) {
		size_t x;
		if (!strcmp(j->items[i].tenant, skip))
			continue;
		for (x = 0; x < k && j->items[v[x]].pi != j->items[i].pi; x++)
			;
		if (x == k)
			v[k++] = i;
		else if (better(&j->items[i], &j->items[v[x]]))
			v[x] = i;
	}
	for (size_t a = 1; a < k; a++) /* entry order */
		for (size_t b = a; b > 0 && j->items[v[b - 1]].pi > j->items[v[b]].pi;
		     b--) {
			size_t tmp = v[b];
			v[b] = v[b - 1];
			v[b - 1] = tmp;
		}
	*out = v;
	*n = k;
	return 0;
}

static int token_of(const char *dv, char *tok, size_t n)
{
	fversion v;
	int rc = fversion_parse(dv, &v, NULL);
	return rc ? FERRY_ECORRUPT : fversion_token(&v, tok, n);
}

/* Creates the tenant's target index like the template's (same body). */
static int make_dst(fstore_txn *t, const uitem *tp, uitem *it,
		    ferry_err *err)
{
	fcat_index ix;
	int rc;
	if (fcat_index_get(t, it->dst, &ix) == 0 && /* left by a removed tenant */
	    (rc = findex_delete_txn(t, it->dst, 1, err)))
		return rc;
	return ujob_index_like(t, tp->dst, it->dst, &it->dst_ix, err);
}

/* Starts the tenant's item for template tp (names and program) and
 * gives the index-name tokens of the job's two versions (64 bytes each). */
static int item_init(const ujob *j, const uitem *tp, const char *tenant,
		     uitem *it, char *ftok, char *ttok, ferry_err *err)
{
	int rc;
	memset(it, 0, sizeof *it);
	snprintf(it->tenant, sizeof it->tenant, "%s", tenant);
	snprintf(it->source, sizeof it->source, "%s", tp->source);
	snprintf(it->target, sizeof it->target, "%s", tp->target);
	it->pi = tp->pi;
	if ((rc = token_of(j->from, ftok, 64)) || (rc = token_of(j->to, ttok, 64)))
		return ferry_err_set(err, rc, "the upgrade record names bad "
				     "versions (%s -> %s)", j->from, j->to);
	return 0;
}

/* The tenant's item for template tp; *skip when the tenant lacks the
 * source (it has no index of that name in the active version). */
static int make_item(fstore_txn *t, const ujob *j, const uitem *tp,
		     const char *tenant, uitem *it, int *skip, ferry_err *err)
{
	char ftok[64], ttok[64];
	fcat_index src;
	int rc;
	*skip = 0;
	if ((rc = item_init(j, tp, tenant, it, ftok, ttok, err)))
		return rc;
	if (tp->src[0]) {
		fname_physical(ftok, tenant, tp->source, it->src, sizeof it->src);
		if (fcat_index_get(t, it->src, &src)) {
			*skip = 1;
			return 0;
		}
		fstore_stats st = {0};
		t->store->ops->ix_stats(t, src.ix, &st);
		it->src_ix = src.ix;
		it->start_seq = it->seq = st.next_seq ? st.next_seq - 1 : 0;
		it->total = st.docs;
	}
	if (tp->dst[0]) {
		fname_physical(ttok, tenant, tp->target, it->dst, sizeof it->dst);
		if ((rc = make_dst(t, tp, it, err)))
			return rc;
	}
	snprintf(it->phase, sizeof it->phase, "%s",
		 it->src[0] && it->dst[0] ? "catchup" : "done");
	return 0;
}

static int join(fstore_txn *t, ujob *j, const char *tenant, ferry_err *err)
{
	size_t *tp = NULL, ntp = 0;
	int rc = templates(j, tenant, &tp, &ntp);
	if (rc)
		return ferry_err_set(err, rc, NULL);
	size_t n0 = j->n;
	uitem *ni = realloc(j->items, (n0 + ntp + 1) * sizeof *ni);
	if (!ni) {
		free(tp);
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	}
	j->items = ni;
	for (size_t k = 0; !rc && k < ntp; k++) {
		int skip;
		uitem it;
		rc = make_item(t, j, &j->items[tp[k]], tenant, &it, &skip, err);
		if (rc || skip)
			continue;
		j->items[j->n++] = it;
		rc = ujob_save_item(t, j, j->n - 1, err);
	}
	free(tp);
	return rc ? rc : ujob_save_header(t, j, err);
}

/* ---- joining a switched job (a rollback is still possible) ---- */

int ujob_rollbackable(fstore_txn *t, const ujob *j)
{
	fcat_settings s;
	fcat_version v;
	if (strcmp(j->state, "verify") && strcmp(j->state, "done") &&
	    strcmp(j->state, "failed"))
		return 0;
	if (fcat_settings_get(t, &s, NULL) || strcmp(s.data_version, j->to) ||
	    fcat_version_get(t, j->from, &v))
		return 0;
	int ok = !strcmp(v.state, "retired");
	fcat_version_release(&v);
	return ok;
}

int ujob_index_like(fstore_txn *t, const char *like, const char *name,
		    uint32_t *ix, ferry_err *err)
{
	char key[8 + FERRY_NAME_MAX];
	const char *v;
	size_t vl = 0;
	char *body = NULL;
	fcat_index rec;
	int rc = 0;
	if (fcat_index_get(t, name, &rec) == 0)
		goto out;
	snprintf(key, sizeof key, "ibody/%s", like);
	if (t->store->ops->kv_get(t, key, &v, &vl) == 0 && vl) {
		if (!(body = malloc(vl))) /* the next write moves v */
			return ferry_err_set(err, FERRY_ENOMEM, NULL);
		memcpy(body, v, vl);
	}
	if (!(rc = findex_create_txn(t, name, body, vl, err)) &&
	    (rc = fcat_index_get(t, name, &rec)))
		rc = ferry_err_set(err, rc, "index %s vanished", name);
out:
	free(body);
	if (!rc)
		*ix = rec.ix;
	return rc;
}

/* The tenant's item of a switched job for template tp: the source in the
 * old version (empty), the target in the active one (made by
 * ferry_tenant_add, or here if missing). */
static int make_switched(fstore_txn *t, const ujob *j, const uitem *tp,
			 const char *tenant, uitem *it, ferry_err *err)
{
	char ftok[64], ttok[64];
	int rc;
	if ((rc = item_init(j, tp, tenant, it, ftok, ttok, err)))
		return rc;
	snprintf(it->phase, sizeof it->phase, "done");
	if (tp->src[0]) {
		fname_physical(ftok, tenant, tp->source, it->src, sizeof it->src);
		if ((rc = ujob_index_like(t, tp->src, it->src, &it->src_ix, err)))
			return rc;
	}
	if (tp->dst[0]) {
		fname_physical(ttok, tenant, tp->target, it->dst, sizeof it->dst);
		rc = ujob_index_like(t, tp->dst, it->dst, &it->dst_ix, err);
	}
	return rc; /* dst_seq_cut 0: all its writes came after the switch */
}

/* The slot of the tenant's item for entry pi (a tenant removed and added
 * again reuses its old items' slots), or j->n. */
static size_t slot_of(const ujob *j, const char *tenant, uint32_t pi)
{
	size_t i;
	for (i = 0; i < j->n; i++)
		if (j->items[i].pi == pi && !strcmp(j->items[i].tenant, tenant))
			break;
	return i;
}

int ujob_join_switched(fstore_txn *t, ujob *j, const char *tenant,
		       ferry_err *err)
{
	size_t *tp = NULL, ntp = 0;
	int rc = templates(j, tenant, &tp, &ntp);
	if (rc)
		return ferry_err_set(err, rc, NULL);
	uitem *ni = realloc(j->items, (j->n + ntp + 1) * sizeof *ni);
	if (!ni) {
		free(tp);
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	}
	j->items = ni;
	for (size_t k = 0; !rc && k < ntp; k++) {
		uitem it;
		size_t at = slot_of(j, tenant, j->items[tp[k]].pi);
		if ((rc = make_switched(t, j, &j->items[tp[k]], tenant, &it, err)))
			break;
		j->items[at] = it;
		if (at == j->n)
			j->n++;
		rc = ujob_save_item(t, j, at, err);
	}
	free(tp);
	return rc ? rc : ujob_save_header(t, j, err);
}

int ujob_tenant_join(fstore_txn *t, const char *tenant, ferry_err *err)
{
	ujob j;
	int rc = ujob_load_header(t, &j);
	if (rc == FERRY_ENOTFOUND)
		return 0;
	int building = !rc && ujob_building(&j);
	int switched = !rc && !building && ujob_rollbackable(t, &j);
	ujob_release(&j);
	if (!rc && !building && !switched)
		return 0; /* no set being built, no rollback set to keep */
	if (!rc)
		rc = ujob_load(t, &j);
	if (rc)
		return ferry_err_set(err, rc, "reading the upgrade job");
	int in = 0;
	for (size_t i = 0; i < j.n && !in; i++)
		in = !strcmp(j.items[i].tenant, tenant);
	if (switched && j.n)
		rc = ujob_join_switched(t, &j, tenant, err);
	else if (ujob_building(&j) && !in && j.n)
		rc = join(t, &j, tenant, err);
	ujob_release(&j);
	return rc;
}
