/*
 * urun.h - one run of the upgrade engine: the state shared by the files
 * that implement its steps (urun.c: prepare, copy, catch-up; ucut.c:
 * cutover and verify).
 */
#ifndef FERRY_URUN_H
#define FERRY_URUN_H

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

/* A page of entries and their transformed bodies. Two of them let one
 * thread transform the next page while another writes this one. */
typedef struct upage {
	fbuf in, out;     /* source ids and bodies; transformed bodies */
	rent *ents;
	size_t n, cap;
	char after[FERRY_ID_MAX + 1]; /* copy: last id of the page */
	uint32_t after_len;
	int last;         /* copy: the source had no more documents */
} upage;

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
	uint64_t throttled; /* docs counted for --throttle */
	const char *step;
	fbuf warnings;      /* the plan's warnings (JSON strings, no []) */
	char snapshot[4096 + FERRY_PART_MAX + FERRY_SNAPSHOT_NAME_MAX + 8];
			    /* "repo/name" taken before the upgrade, or "" */
} urun;

int urun_report(urun *r, size_t item, uint64_t done);
int urun_read_changes(urun *r, upage *pg, fstore_txn *t, const uitem *it,
		      size_t limit);
int urun_transform(urun *r, upage *pg, const uitem *it, ferry_err *err);
int urun_apply(urun *r, upage *pg, fstore_txn *t, uitem *it, ferry_err *err);
void upage_release(upage *pg);
int urun_cutover(urun *r, ferry_err *err);
int urun_verify(urun *r, ferry_err *err);

#endif
