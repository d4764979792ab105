/*
 * budget.h - the deployment's index budget (settings "index_budget",
 * default 1000: Elasticsearch's per-node shard limit) for operations that
 * create indices outside an upgrade plan: adding a tenant (versions.c)
 * and ferry_index_create (index.c). The upgrade plan checks the same
 * budget itself (src/migrate/uplan.c).
 *
 * An operation is built inside its write transaction and the indices are
 * counted there, per data version, before and after it: the difference
 * is exactly what it creates, whatever created it (the active set, an
 * upgrade's target set, a set kept for a rollback). Over the budget the
 * caller aborts the transaction, so nothing is written.
 */
#ifndef FERRY_BUDGET_H
#define FERRY_BUDGET_H

#include <stddef.h>

#include "core/catalog.h"

#define FBUDGET_DEFAULT 1000
#define FBUDGET_MAX 10000000u

typedef struct fbudget_ver {
	char version[64];
	size_t n;
} fbudget_ver;

/* The live indices in one transaction: all, and per data version. */
typedef struct fbudget {
	size_t total;
	fbudget_ver *v; /* oldest version first */
	size_t nv;
} fbudget;

/* Counts the indices of every version in t. Release with
 * fbudget_release(), also after an error. FERRY_ENOMEM. */
int fbudget_count(fstore_txn *t, fbudget *out);
void fbudget_release(fbudget *b);

/* The budget in force: the settings' index_budget (the default for a
 * record without one). */
unsigned fbudget_limit(const fcat_settings *s);

/* 0 if `after` fits the budget or adds nothing to `before`; otherwise
 * FERRY_ELIMIT with a message that starts with `what` ("tenant 'zed' was
 * not added"), gives the new indices per version, the totals and the
 * budget, and says what makes room: the old versions whose deletion
 * would do (not the active one, nor one an upgrade is building), and
 * `ferry indices budget N`. */
int fbudget_check(fstore_txn *t, const char *what, const fbudget *before,
		  const fbudget *after, ferry_err *err);

/* Runs op(t, ctx, err) inside t with the indices counted before and after
 * it, then fbudget_check(): op's error, FERRY_ELIMIT over the budget (the
 * caller aborts t), or 0. */
typedef int (*fbudget_op)(fstore_txn *t, void *ctx, ferry_err *err);
int fbudget_run(fstore_txn *t, const char *what, fbudget_op op, void *ctx,
		ferry_err *err);

#endif
