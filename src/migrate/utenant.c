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

/* Item numbers of the templates, one per program entry, in entry order. */
static int templates(const ujob *j, size_t **out, size_t *n)
{
	size_t *v = calloc(j->n ? j->n : 1, sizeof *v), k = 0;
	if (!v)
		return FERRY_ENOMEM;
	for (size_t i = 0; i < j->n; i++) {
		size_t x;
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
	char key[8 + FERRY_NAME_MAX];
	const char *v;
	size_t vl = 0;
	char *body = NULL;
	fcat_index ix;
	int rc;
	snprintf(key, sizeof key, "ibody/%s", tp->dst);
	if (t->store->ops->kv_get(t, key, &v, &vl) == 0 && vl) {
		if (!(body = malloc(vl))) /* the next write moves v */
			return ferry_err_set(err, FERRY_ENOMEM, NULL);
		memcpy(body, v, vl);
	}
	if (fcat_index_get(t, it->dst, &ix) == 0 && /* left by a removed tenant */
	    (rc = findex_delete_txn(t, it->dst, 1, err)))
		goto out;
	if ((rc = findex_create_txn(t, it->dst, body, vl, err)) ||
	    (rc = fcat_index_get(t, it->dst, &ix)))
		goto out;
	it->dst_ix = ix.ix;
out:
	free(body);
	return rc;
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
	memset(it, 0, sizeof *it);
	snprintf(it->tenant, sizeof it->tenant, "%s", tenant);
	snprintf(it->source, sizeof it->source, "%s", tp->source);
	snprintf(it->target, sizeof it->target, "%s", tp->target);
	it->pi = tp->pi;
	if ((rc = token_of(j->from, ftok, sizeof ftok)) ||
	    (rc = token_of(j->to, ttok, sizeof ttok)))
		return ferry_err_set(err, rc, "the upgrade record names bad "
				     "versions (%s -> %s)", j->from, j->to);
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
	int rc = templates(j, &tp, &ntp);
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

int ujob_tenant_join(fstore_txn *t, const char *tenant, ferry_err *err)
{
	ujob j;
	int rc = ujob_load_header(t, &j);
	if (rc == FERRY_ENOTFOUND)
		return 0;
	int building = !rc && ujob_building(&j);
	ujob_release(&j);
	if (!rc && !building)
		return 0; /* no set being built: nothing to join */
	if (!rc)
		rc = ujob_load(t, &j);
	if (rc)
		return ferry_err_set(err, rc, "reading the upgrade job");
	int in = 0;
	for (size_t i = 0; i < j.n && !in; i++)
		in = !strcmp(j.items[i].tenant, tenant);
	if (ujob_building(&j) && !in && j.n)
		rc = join(t, &j, tenant, err);
	ujob_release(&j);
	return rc;
}
