/*
 * urun.h - one run of the upgrade engine: the state shared by the files
 * that implement its steps (urun.c: prepare, catch-up and the run itself;
 * ucopy.c: the parallel copy; ucut.c: cutover and verify).
 */
#ifndef FERRY_URUN_H
#define FERRY_URUN_H

#include <pthread.h>

#include "core/buf.h"
#include "core/db.h"
#include "migrate/migrate.h"
#include "migrate/upgrade.h"

/* One document read from the source, and what the transform made of it. */
typedef struct rent {
	size_t id_off, idlen, body_off, body_len;
	uint64_t seq;
	int deleted;      /* a tombstone (catch-up) */
	int dropped;      /* the program dropped it */
	int failed;       /* the program refused it (--skip-bad) */
	size_t out_off, out_len; /* transformed body, or failure record */
} rent;

/* A page of entries and their transformed bodies (of one item, or in the
 * copy of several consecutive items: see ucopy.c). */
typedef struct upage {
	fbuf in, out;     /* source ids and bodies; transformed bodies */
	rent *ents;
	size_t n, cap;
} upage;

/* What a transform needs: a program and an arena, which belong to one
 * thread at a time (each copy worker has its own). */
typedef struct uxf {
	fmig_program *prog;
	json_arena *a;
	int skip_bad;
} uxf;

typedef struct urun {
	ferry_db *db;
	const ferry_upgrade_opts *o;
	fmig_set *set;
	fmig_program *prog;
	ujob job;
	char token[96];
	json_arena *a;
	upage pages[2];
	size_t batch;
	double t0;
	uint64_t throttled; /* docs counted for --throttle (copy: under the
			       copier's mutex) */
	const char *step;
	fbuf warnings;      /* the plan's warnings (JSON strings, no []) */
	char snapshot[4096 + FERRY_PART_MAX + FERRY_SNAPSHOT_NAME_MAX + 8];
			    /* "repo/name" taken before the upgrade, or "" */
	size_t *tenant_of;  /* per item: its tenant's number (see urun_tenants) */
	size_t ntenants, tenant_items; /* tenants; items tenant_of covers */
	/* progress totals, per tenant and overall, recomputed when stale
	 * (every change to an item's counts or phase clears totals_ok) */
	uint64_t *tdone, *ttotal, all_done, all_total;
	size_t tenants_done;
	int totals_ok;
} urun;

double urun_now(void);
/* The transform context of the calling thread (r->prog, r->a). */
uxf urun_xf(urun *r);
/* Calls the progress callback (on the calling thread only) for item
 * `item` with `done` documents handled. FERRY_EBUSY if it asked to stop. */
int urun_report(urun *r, size_t item, uint64_t done);
/* Numbers the tenants of r->job (again when items were added). */
int urun_tenants(urun *r);
/* Loads items another process appended to the job (a tenant added while
 * the upgrade runs; see ujob_tenant_join) inside t. */
int urun_absorb(urun *r, fstore_txn *t, ferry_err *err);
/* Appends up to `limit` documents of item it after `after` to pg (in a
 * read transaction of its own); *got says how many. Fewer than `limit`:
 * the source had no more when they were read (what is written to it
 * later, the catch-up applies). */
int urun_read_more(urun *r, upage *pg, const uitem *it, const char *after,
		   size_t after_len, size_t limit, size_t *got);
int urun_read_changes(urun *r, upage *pg, fstore_txn *t, const uitem *it,
		      size_t limit);
/* Transforms (writes) every entry of pg, or entries [from, to), as
 * documents of item it. */
int urun_transform(const uxf *x, upage *pg, const uitem *it, ferry_err *err);
int urun_transform_range(const uxf *x, upage *pg, size_t from, size_t to,
			 const uitem *it, ferry_err *err);
int urun_apply(urun *r, upage *pg, fstore_txn *t, uitem *it, ferry_err *err);
int urun_apply_range(urun *r, upage *pg, size_t from, size_t to,
		     fstore_txn *t, uitem *it, ferry_err *err);
void upage_reset(upage *pg);
void upage_release(upage *pg);
/* --throttle: sleeps so that the rate stays under the limit; `docs` were
 * just read. `mu` (may be NULL) guards r->throttled between threads. */
void urun_throttle(urun *r, size_t docs, pthread_mutex_t *mu);
/* The copy step (ucopy.c): every item in phase "copy" ends in "catchup". */
int urun_copy(urun *r, ferry_err *err);
int urun_cutover(urun *r, ferry_err *err);
int urun_verify(urun *r, ferry_err *err);

#endif
