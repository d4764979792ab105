/*
 * upgrade.h - the upgrade engine's internal state (DESIGN.md "The
 * upgrade"): the job record and its items in the catalog, and the lease
 * that lets one process at a time run it.
 *
 * Catalog keys:
 *   upgrade               the job header (JSON, see ujob_save)
 *   upgrade/item/NNNNN    one item: a (tenant, source index) pair and its
 *                         copy checkpoint; rewritten in the same write
 *                         transaction as the batch it describes, so a
 *                         killed run resumes exactly where it stopped
 *   lease/upgrade         {"owner","host","pid","expires_ms"}
 */
#ifndef FERRY_UPGRADE_H
#define FERRY_UPGRADE_H

#include <stdint.h>

#include "core/buf.h"
#include "ferry/ferry.h"
#include "store/store.h"

#define UPG_LEASE_MS 30000

typedef struct uitem {
	char tenant[FERRY_PART_MAX + 1];
	char src[FERRY_NAME_MAX + 1]; /* physical source, "" if created */
	char dst[FERRY_NAME_MAX + 1]; /* physical target, "" if dropped */
	char target[FERRY_PART_MAX + 1]; /* logical target name */
	char source[FERRY_PART_MAX + 1]; /* logical source name */
	uint32_t src_ix, dst_ix;
	uint32_t pi;        /* entry of the composed program */
	char phase[12];     /* "copy", "catchup", "done" */
	char after[FERRY_ID_MAX + 1]; /* copy checkpoint: last id copied */
	uint32_t after_len;
	uint64_t start_seq; /* source seq when the copy started */
	uint64_t seq;       /* source changes applied up to here */
	uint64_t copied, failed, dropped, total;
	uint64_t dst_seq_cut; /* target seq right after the cutover */
} uitem;

typedef struct ujob {
	char from[64], to[64], from_release[64], to_release[64];
	char state[16]; /* prepare copy catchup cutover verify done failed
			   aborted rolledback */
	int64_t started_ms, finished_ms, cutover_ms;
	int skip_bad;
	char error[512];
	fbuf hops; /* JSON array: [{"file","checksum","lua_checksum"}] */
	uitem *items;
	size_t n;
} ujob;

void ujob_release(ujob *j);
/* FERRY_ENOTFOUND if there is no job record. */
int ujob_load(fstore_txn *t, ujob *j);
/* The header only (state, versions, error): no items (j->n is 0), for
 * callers that need the state of a job with thousands of items. */
int ujob_load_header(fstore_txn *t, ujob *j);
int ujob_save_header(fstore_txn *t, const ujob *j, ferry_err *err);
int ujob_save_item(fstore_txn *t, const ujob *j, size_t i, ferry_err *err);
int ujob_save(fstore_txn *t, const ujob *j, ferry_err *err);
int ujob_delete(fstore_txn *t, size_t nitems);
/* Loads the items another process appended since j was loaded (the
 * header's count grew: a tenant joined). Items already in j are kept as
 * they are in memory. */
int ujob_absorb(fstore_txn *t, ujob *j);
/* The job as JSON for `ferry upgrade status` and GET /migration/status:
 * the header, "items" (each with its checkpoint and counts) and
 * "tenants" ([{"tenant","items","phase","done","total"}]: per tenant,
 * documents handled and to copy, and its least advanced item's phase). */
int ujob_json(const ujob *j, fbuf *out);
/* 1 while the job's target set is being built (copy, catch-up, cutover):
 * the states in which a new tenant must join it. */
int ujob_building(const ujob *j);
/* Makes tenant `tenant` (its active-version indices already created in t)
 * part of the upgrade under way, inside t (after a cutover that can still
 * be rolled back: ujob_join_switched): for each of the job's program
 * entries, the tenant's target index (with the body other tenants' target
 * has) and an item in phase "catchup" (its source is new, so there is
 * nothing to copy; the catch-up and the cutover apply what is written to
 * it meanwhile), and the header's item count. Nothing if no upgrade is
 * building a set (or can be rolled back) or the tenant is already in the
 * set being built. */
int ujob_tenant_join(fstore_txn *t, const char *tenant, ferry_err *err);
/* 1 if j has switched over (verify, done, failed), its target is the
 * active version and the version it came from is retired, not deleted:
 * `ferry rollback` can still return to it. */
int ujob_rollbackable(fstore_txn *t, const ujob *j);
/* Makes tenant `tenant` (its active indices already created in t) part
 * of the switched job j, inside t: per program entry its index in j->from
 * (empty, created if missing, no alias) and in j->to (created with its
 * alias if missing), and an item in phase "done" with dst_seq_cut 0, so
 * a rollback moves its aliases and counts all its writes to j->to as
 * dropped. A tenant that has items (removed and added again) gets them
 * rewritten in place. Saves the items and the header; j is updated. */
int ujob_join_switched(fstore_txn *t, ujob *j, const char *tenant,
		       ferry_err *err);
/* Index `name` (physical): its number in *ix if it exists, else it is
 * created with the create body of index `like` (none if `like` has none
 * or is gone); in the active version the create also adds its alias. */
int ujob_index_like(fstore_txn *t, const char *like, const char *name,
		    uint32_t *ix, ferry_err *err);

/* Takes the lease (or renews ours). FERRY_EBUSY, with the owner named,
 * if a live owner holds it. `token` identifies this run. */
int ulease_take(fstore_txn *t, const char *token, ferry_err *err);
/* Renews the lease held under `token`. FERRY_EBUSY if the lease is gone
 * or another runner has it: a runner that stalled past its expiry must
 * stop, not take the lease back under the one that took over. */
int ulease_renew(fstore_txn *t, const char *token, ferry_err *err);
int ulease_drop(fstore_txn *t, const char *token);
/* Describes the current holder into out (JSON object or "null"). */
int ulease_json(fstore_txn *t, fbuf *out);

#endif
