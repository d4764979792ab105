/*
 * budget.c - the index budget for operations outside an upgrade plan
 * (budget.h): counting the indices of a transaction per data version, the
 * check with its message, and ferry_index_budget_set.
 *
 * The message names what makes room the way the plan's refusal does: old
 * versions to delete, oldest first, until the operation fits. Deleting a
 * version also spares the operation the indices it would have created in
 * that version (a new tenant's set kept for a rollback), so both count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/budget.h"
#include "core/db.h"
#include "core/err.h"
#include "core/version.h"

static int cmp_ver(const void *a, const void *b)
{
	const char *x = ((const fbudget_ver *)a)->version;
	const char *y = ((const fbudget_ver *)b)->version;
	fversion vx, vy;
	if (fversion_parse(x, &vx, NULL) || fversion_parse(y, &vy, NULL))
		return strcmp(x, y);
	return fversion_cmp(&vx, &vy);
}

static int count_visit(void *ctx, const fcat_index *ix)
{
	fbudget *b = ctx;
	size_t i;
	b->total++;
	for (i = 0; i < b->nv && strcmp(b->v[i].version, ix->version); i++)
		;
	if (i == b->nv) {
		fbudget_ver *nv = realloc(b->v, (b->nv + 1) * sizeof *nv);
		if (!nv)
			return FERRY_ENOMEM;
		b->v = nv;
		memset(&nv[i], 0, sizeof *nv);
		snprintf(nv[i].version, sizeof nv[i].version, "%s", ix->version);
		b->nv++;
	}
	b->v[i].n++;
	return 0;
}

int fbudget_count(fstore_txn *t, fbudget *out)
{
	memset(out, 0, sizeof *out);
	int rc = fcat_index_each(t, count_visit, out);
	if (!rc && out->nv > 1)
		qsort(out->v, out->nv, sizeof *out->v, cmp_ver);
	return rc;
}

void fbudget_release(fbudget *b)
{
	free(b->v);
	memset(b, 0, sizeof *b);
}

unsigned fbudget_limit(const fcat_settings *s)
{
	return s->index_budget ? s->index_budget : FBUDGET_DEFAULT;
}

static size_t count_of(const fbudget *b, const char *version)
{
	for (size_t i = 0; i < b->nv; i++)
		if (!strcmp(b->v[i].version, version))
			return b->v[i].n;
	return 0;
}

/* A version whose deletion makes room: it has indices and is neither
 * active nor being built by an upgrade. */
static int deletable(fstore_txn *t, const char *version)
{
	fcat_version v;
	if (fcat_version_get(t, version, &v))
		return 1; /* indices without a version record: old */
	int ok = strcmp(v.state, "active") && strcmp(v.state, "building");
	fcat_version_release(&v);
	return ok;
}

/* What a version's indices are for, in a few words. */
static const char *role(fstore_txn *t, const char *version)
{
	fcat_version v;
	const char *r = "";
	if (fcat_version_get(t, version, &v))
		return r;
	if (!strcmp(v.state, "active"))
		r = " (active)";
	else if (!strcmp(v.state, "building"))
		r = " (being built by the upgrade)";
	else if (!strcmp(v.state, "retired"))
		r = " (kept for `ferry rollback`)";
	fcat_version_release(&v);
	return r;
}

/* "3 in 0.8.1 (active), 3 in 0.7.1 (...)": the new indices per version,
 * newest first. */
static int new_per_version(fstore_txn *t, const fbudget *before,
			   const fbudget *after, fbuf *out)
{
	int rc = 0, first = 1;
	for (size_t i = after->nv; !rc && i-- > 0;) {
		const char *dv = after->v[i].version;
		size_t was = count_of(before, dv);
		if (after->v[i].n <= was)
			continue;
		rc = fbuf_addf(out, "%s%zu in %s%s", first ? "" : ", ",
			       after->v[i].n - was, dv, role(t, dv));
		first = 0;
	}
	return rc;
}

/* "; make room by deleting an old version (...)" or how to raise it. */
static int room(fstore_txn *t, const fbudget *before, const fbudget *after,
		unsigned limit, fbuf *out)
{
	size_t total = after->total, nold = 0;
	fbuf fix = FBUF_INIT;
	int rc = 0;
	for (size_t i = 0; !rc && i < before->nv; i++) {
		const fbudget_ver *v = &before->v[i];
		if (!v->n || !deletable(t, v->version))
			continue;
		if (nold++ < 4) /* the oldest few: the message has a size */
			rc = fbuf_addf(out, "%s%s (%zu indices)", nold > 1 ? ", " :
				"make room by deleting an old version (`ferry "
				"indices delete --version V`; candidates: ",
				v->version, v->n);
		else if (nold == 5)
			rc = fbuf_adds(out, ", more");
		if (total > limit) {
			total -= count_of(after, v->version); /* now and new */
			if (nold <= 4)
				rc = rc ? rc : fbuf_addf(&fix, "%s%s", fix.len ?
							 " and " : "", v->version);
			else if (nold == 5)
				rc = rc ? rc : fbuf_adds(&fix, " and more");
		}
	}
	if (!rc && nold && total <= limit)
		rc = fbuf_addf(out, "; deleting %s makes room) or raise the budget",
			       fix.p);
	else if (!rc && nold)
		rc = fbuf_adds(out, "; deleting all of them is not enough), or "
			       "raise the budget");
	else if (!rc)
		rc = fbuf_adds(out, "there is no old version to delete: raise the "
			       "budget");
	fbuf_release(&fix);
	return rc ? rc : fbuf_addf(out, " (`ferry indices budget %zu`)",
				   after->total);
}

int fbudget_check(fstore_txn *t, const char *what, const fbudget *before,
		  const fbudget *after, ferry_err *err)
{
	fcat_settings s;
	fbuf m = FBUF_INIT;
	int rc = fcat_settings_get(t, &s, err);
	if (rc)
		return rc;
	unsigned limit = fbudget_limit(&s);
	if (after->total <= before->total || after->total <= limit)
		return 0;
	size_t add = after->total - before->total;
	rc = fbuf_addf(&m, "%s: it needs %zu new ind%s (", what, add,
		       add == 1 ? "ex" : "ices");
	rc = rc ? rc : new_per_version(t, before, after, &m);
	rc = rc ? rc : fbuf_addf(&m, "), which would make %zu indices, over "
		"the index budget of %u (%zu now); ", after->total, limit,
		before->total);
	rc = rc ? rc : room(t, before, after, limit, &m);
	if (rc)
		rc = ferry_err_set(err, rc, NULL);
	else
		rc = ferry_err_set(err, FERRY_ELIMIT, "%s", m.p);
	fbuf_release(&m);
	return rc;
}

int ferry_index_budget_set(ferry_db *db, unsigned budget, ferry_err *err)
{
	fstore_txn *t;
	fcat_settings s;
	if (budget < 1 || budget > FBUDGET_MAX)
		return ferry_err_set(err, FERRY_EINVAL, "the index budget must be "
				     "1 to %u, got %u", FBUDGET_MAX, budget);
	int rc = fdb_begin(db, 1, &t, err);
	if (rc)
		return rc;
	if (!(rc = fcat_settings_get(t, &s, err))) {
		s.index_budget = budget;
		rc = fcat_settings_put(t, &s, err);
	}
	if (rc) {
		fdb_abort(t);
		return rc;
	}
	return fdb_commit(t, err);
}

static int count_in(fstore_txn *t, fbudget *b, ferry_err *err)
{
	int rc = fbudget_count(t, b);
	return rc ? ferry_err_set(err, rc, "counting indices: %s",
				  ferry_strerror(rc)) : 0;
}

int fbudget_run(fstore_txn *t, const char *what, fbudget_op op, void *ctx,
		ferry_err *err)
{
	fbudget before, after;
	memset(&after, 0, sizeof after);
	int rc = count_in(t, &before, err);
	if (!rc)
		rc = op(t, ctx, err);
	if (!rc)
		rc = count_in(t, &after, err);
	if (!rc)
		rc = fbudget_check(t, what, &before, &after, err);
	fbudget_release(&before);
	fbudget_release(&after);
	return rc;
}
