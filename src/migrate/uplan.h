/*
 * uplan.h - planning an upgrade: what `ferry upgrade plan` shows and what
 * `ferry upgrade run` executes. Built inside a transaction from the
 * catalog and the migrations directory.
 */
#ifndef FERRY_UPLAN_H
#define FERRY_UPLAN_H

#include "core/catalog.h"
#include "core/version.h"
#include "migrate/migrate.h"
#include "migrate/upgrade.h"

/* Physical indices of one tenant now (every version) and the ones the
 * upgrade adds, for the plan and the budget. */
typedef struct utcount {
	char tenant[FERRY_PART_MAX + 1];
	size_t now, add, items;
	uint64_t docs;
} utcount;

/* Indices per data version, now. */
typedef struct uvcount {
	char version[64];
	size_t n;
} uvcount;

typedef struct uplan {
	fcat_settings st;
	enum fversion_change kind;
	char to_dv[64], to_release[64], to_token[64];
	fmig_set *set;
	fmig_chain *chain;
	fmig_program *prog;
	char **sources; /* logical source indices = program entries 0..n) */
	size_t nsources;
	char **tenants;
	size_t ntenants;
	ujob job;        /* items to run, state "plan" */
	uint64_t docs_total;
	size_t live_indices, new_indices;
	unsigned budget;
	utcount *tc;     /* per tenant, by name */
	size_t ntc;
	uvcount *vc;     /* per version holding indices, oldest first */
	size_t nvc;
	fbuf warnings;   /* JSON array text without brackets */
} uplan;

int uplan_build(ferry_db *db, fstore_txn *t, const ferry_upgrade_opts *o,
		uplan *p, ferry_err *err);
/* Only the kind of move (same, minor, major) and its refusals (downgrade,
 * dev release): no migrations are read. */
int uplan_kind(fstore_txn *t, const ferry_upgrade_opts *o,
	       enum fversion_change *kind, ferry_err *err);
/* Composes the program again for a job under way (resume), checking that
 * the hop files still have the checksums the job recorded. */
int uplan_program_for(const ujob *j, const ferry_upgrade_opts *o,
		      fmig_set **set, fmig_program **prog, ferry_err *err);
/* Composes another program for job j from a loaded set (one per copy
 * worker: a program is used by one thread at a time). Its entries are
 * numbered as in the job's items. */
int uplan_compose(const ujob *j, const fmig_set *set, fmig_program **prog,
		  ferry_err *err);
void uplan_release(uplan *p);
int uplan_json(const uplan *p, fbuf *out);
const char *uplan_migrations_dir(const ferry_upgrade_opts *o);

#endif
