/*
 * ferry.h - the public API of ferry: versioned, multi-tenant document
 * indices and their zero-loss upgrades.
 *
 * This header is the manual. Conventions, as in LMDB:
 *  - opaque handles (ferry_db, ferry_bulk, ferry_scan, ferry_changes);
 *  - functions are ferry_<object>_<verb>() and return an int: 0 (FERRY_OK)
 *    on success or a FERRY_E* code; ferry_strerror() names a code;
 *  - results go through out-params placed last; an optional ferry_err*
 *    (may be NULL) receives a one-line message saying what went wrong,
 *    where (index, id, byte offset) and how to fix it;
 *  - the caller owns everything it passes in; memory a call returns is
 *    owned by the caller and released with the matching _free(), unless the
 *    comment says the pointer is borrowed and until when it stays valid.
 *  - On error, out-params are left untouched and nothing was written.
 *
 * Names (see docs/architecture.md): a physical index is
 * "v{data version with _}.{tenant}.{index}" (v0_8_1.acme.profile); an alias
 * is "{tenant}.{index}" (acme.profile); a bare "{index}" means the alias
 * "default.{index}". Every call that takes an index name accepts all three.
 */
#ifndef FERRY_FERRY_H
#define FERRY_FERRY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FERRY_VERSION_STRING "0.1.0"

/* Error codes. 0 is success; codes are only ever added at the end. */
enum ferry_code {
	FERRY_OK = 0,
	FERRY_ENOTFOUND,  /* no such index, document, alias or version */
	FERRY_EEXISTS,    /* already exists (index, or doc with op_type create) */
	FERRY_EINVAL,     /* bad argument or option */
	FERRY_EJSON,      /* body is not valid JSON (message has byte offset) */
	FERRY_ENAME,      /* bad index, tenant or alias name, or bad id */
	FERRY_EIO,        /* operating-system or storage I/O error */
	FERRY_ENOMEM,     /* out of memory */
	FERRY_EFULL,      /* data file reached its map size or disk is full */
	FERRY_EHORIZON,   /* change log no longer reaches back that far */
	FERRY_EBUSY,      /* locked by another owner (lease held) */
	FERRY_EVERSION,   /* bad version string, or version rule violated */
	FERRY_ECORRUPT,   /* stored data failed a consistency check */
	FERRY_ELIMIT,     /* a size or count limit was crossed */
	FERRY_EPERM,      /* not allowed (e.g. deleting the active version) */
	FERRY_ENOTINIT,   /* data dir has no catalog yet: run `ferry init` */
	FERRY_EOF,        /* iteration finished (not an error for iterators) */
	FERRY_EINTERNAL,  /* a bug: please report it */
	FERRY_ECODE_END   /* keep last */
};

/* A caller-owned error record. Functions fill it (if non-NULL) whenever
 * they return non-zero; on success it is left untouched. */
typedef struct ferry_err {
	int code;
	char msg[512];
} ferry_err;

/* Static, never NULL, for any int. */
const char *ferry_strerror(int code);

/* Limits. */
#define FERRY_ID_MAX 512          /* bytes of UTF-8 in a document id */
#define FERRY_NAME_MAX 255        /* bytes in an index or alias name */
#define FERRY_PART_MAX 63         /* bytes in a tenant or logical index name */
#define FERRY_DOC_MAX (64u << 20) /* bytes in one document body */

/* ------------------------------------------------------------------ */
/* Data directory                                                      */

typedef struct ferry_db ferry_db;

#define FERRY_OPEN_CREATE 0x1 /* create the data dir if missing */
#define FERRY_OPEN_RDONLY 0x2 /* read-only access */
#define FERRY_OPEN_NOSYNC 0x4 /* do not fsync each commit (see docs) */

/* Opens (and with FERRY_OPEN_CREATE creates) the data directory `dir`.
 * Several processes may open one directory at once. The handle may be
 * used from several threads. Close with ferry_db_close(). */
int ferry_db_open(const char *dir, unsigned flags, ferry_db **out,
		  ferry_err *err);
/* Closes the handle; NULL is allowed. Open scans and bulks must be freed
 * first. */
void ferry_db_close(ferry_db *db);

/* First-time set-up of the catalog: the active release (e.g. "0.7.1"),
 * `data_parts` (0 means the default 3) and tenant "default".
 * FERRY_EEXISTS if already initialised. */
int ferry_db_init(ferry_db *db, const char *release, unsigned data_parts,
		  ferry_err *err);

/* Forces everything committed so far to stable storage. */
int ferry_db_sync(ferry_db *db, ferry_err *err);

typedef struct ferry_status {
	char release[64];      /* active release, e.g. "0.8.1.3" */
	char data_version[64]; /* its data version, e.g. "0.8.1" */
	unsigned data_parts;
	unsigned index_budget;  /* max indices (default 1000) */
	uint64_t indices;       /* live indices, all versions */
	uint64_t tenants;
	uint64_t docs;          /* documents over all indices */
	uint64_t bytes;         /* body bytes over all indices */
	uint64_t map_size;      /* bytes reserved for the data file */
	uint64_t file_size;     /* bytes used by the data file */
	uint64_t purge_pending; /* deleted indices whose space is being freed */
} ferry_status;

int ferry_db_status(ferry_db *db, ferry_status *out, ferry_err *err);

/* Sets the deployment's index budget (1 to 10,000,000; FERRY_EINVAL
 * otherwise): the most physical indices, over every version and tenant,
 * that an upgrade plan, a tenant add or an index create may leave.
 * Lowering it below the indices that exist deletes nothing; it refuses
 * what would add more. */
int ferry_index_budget_set(ferry_db *db, unsigned budget, ferry_err *err);

/* Frees memory returned by ferry calls that say "free with ferry_free". */
void ferry_free(void *p);

/* ------------------------------------------------------------------ */
/* Versions and tenants                                                */

typedef struct ferry_version_info {
	char data_version[64]; /* "0.8.1" */
	char release[64];      /* latest release recorded for it */
	char state[16];        /* "active", "retired", "building", "failed" */
	char from[64];         /* data version it was upgraded from, or "" */
	int64_t created_ms;    /* unix ms */
	int64_t activated_ms;  /* unix ms, 0 if never */
	uint64_t indices;      /* live indices of this version */
	char *history_json;    /* JSON array of events; owned by the list */
} ferry_version_info;

/* Lists every known data version, oldest first. Free with
 * ferry_version_list_free(). */
int ferry_version_list(ferry_db *db, ferry_version_info **out, size_t *n,
		       ferry_err *err);
void ferry_version_list_free(ferry_version_info *list, size_t n);

/* Records a release of the active data version (a minor upgrade:
 * "0.8.1.1" -> "0.8.1.4"). FERRY_EVERSION if its data version differs
 * (that is a major upgrade: see the upgrade API) or it is older. */
int ferry_release_record(ferry_db *db, const char *release, ferry_err *err);

/* Adds tenant `tenant` ([a-z0-9][a-z0-9_-]{0,62}) with the index set the
 * other tenants have: every logical index some tenant has in the active
 * version, created for the new tenant with the same create body (tenant
 * "default"'s, else the first tenant's by name) and its alias
 * "{tenant}.{index}". While an upgrade is building a new version (before
 * its cutover), the new tenant also gets that version's target indices
 * and joins the upgrade, so the cutover switches its aliases with every
 * other tenant's. After a cutover, while the previous version can still
 * be rolled back to, the tenant also gets that version's set (empty, no
 * aliases) and joins the switched upgrade, so ferry_rollback moves it
 * back with the others. All in one transaction. FERRY_EEXISTS if it
 * exists; FERRY_ELIMIT, with nothing written, if the indices it needs
 * would cross the index budget (the message gives the counts and what
 * makes room). */
int ferry_tenant_add(ferry_db *db, const char *tenant, ferry_err *err);
/* Removes tenant `tenant` and its indices in every version (with their
 * aliases; pages are freed as for ferry_index_delete). Refuses
 * (FERRY_EPERM) tenant "default", and a tenant whose indices hold
 * documents unless `force`; FERRY_EBUSY while an upgrade is building a
 * new version; FERRY_ENOTFOUND for an unknown tenant. */
int ferry_tenant_remove(ferry_db *db, const char *tenant, int force,
			ferry_err *err);
/* Lists tenants; `*out` is a NULL-terminated array, free with
 * ferry_strv_free(). */
int ferry_tenant_list(ferry_db *db, char ***out, ferry_err *err);
void ferry_strv_free(char **v);

/* ------------------------------------------------------------------ */
/* Indices                                                             */

/* Creates an index. `name` is a logical name (creates the physical index
 * of the active version for tenant "default" and its alias), an alias
 * "{tenant}.{index}" (same, for that tenant), or a full physical name.
 * `body` is the ES create-index body ({"settings":..,"mappings":..}) or
 * NULL; it is validated and stored. FERRY_EEXISTS if it exists;
 * FERRY_ELIMIT, with nothing written, if it would cross the index budget
 * (the message gives the counts and what makes room, as for
 * ferry_tenant_add). */
int ferry_index_create(ferry_db *db, const char *name, const char *body,
		       size_t body_len, ferry_err *err);

/* Deletes an index and the aliases pointing at it. The name is free and
 * the documents invisible when this returns; disk pages are reclaimed
 * in bounded steps (resumed by any process if this one dies). Refuses
 * (FERRY_EPERM) an index of the active version reached through an alias
 * unless `force` is set. */
int ferry_index_delete(ferry_db *db, const char *name, int force,
		       ferry_err *err);

typedef struct ferry_index_info {
	char name[FERRY_NAME_MAX + 1];   /* physical name */
	char alias[FERRY_NAME_MAX + 1];  /* alias pointing at it, or "" */
	char tenant[FERRY_PART_MAX + 1];
	char index[FERRY_PART_MAX + 1];  /* logical name */
	char data_version[64];
	uint64_t docs;
	uint64_t bytes;   /* sum of body bytes */
	uint64_t seq;     /* highest sequence number used */
	int64_t created_ms;
} ferry_index_info;

/* Resolves `name` (alias or physical) and fills `out`.
 * FERRY_ENOTFOUND if neither exists. */
int ferry_index_get(ferry_db *db, const char *name, ferry_index_info *out,
		    ferry_err *err);

/* Lists indices whose physical name or alias matches the glob `pattern`
 * (NULL or "*" for all), sorted by name. Free with ferry_free(). */
int ferry_index_list(ferry_db *db, const char *pattern,
		     ferry_index_info **out, size_t *n, ferry_err *err);

/* Returns the stored create-index body; free with ferry_free(). */
int ferry_index_body(ferry_db *db, const char *name, char **out,
		     size_t *len, ferry_err *err);

/* ------------------------------------------------------------------ */
/* Documents                                                           */

enum ferry_op {
	FERRY_OP_INDEX = 0,  /* create or replace */
	FERRY_OP_CREATE = 1, /* fail with FERRY_EEXISTS if the id exists */
	FERRY_OP_DELETE = 2,
	/* Partial update (bulk only): the body is Elasticsearch's update
	 * request {"doc":{..},"upsert":{..},"doc_as_upsert":B,
	 * "detect_noop":B}. Inside the write transaction the stored body is
	 * read and `doc` merged into it (objects key by key, recursively;
	 * any other value replaces; new keys are appended), so concurrent
	 * updates of one id never lose each other's keys. The id is
	 * required. A missing id is FERRY_ENOTFOUND "[id]: document missing"
	 * unless doc_as_upsert (doc becomes the document) or upsert (that
	 * body is inserted; created = 1). With detect_noop (default true) a
	 * merge that changes nothing writes nothing (noop = 1, old seq); an
	 * upsert without doc leaves an existing document as it is (noop).
	 * "script" is refused (FERRY_EINVAL), as is any other field; a bad
	 * body is FERRY_EJSON. */
	FERRY_OP_UPDATE = 3
};

typedef struct ferry_write_result {
	char id[FERRY_ID_MAX + 1]; /* the id (generated if none was given) */
	uint64_t seq;              /* the write's sequence number */
	int created;               /* 1 new document, 0 replaced / deleted */
	int noop;                  /* 1: identical to the stored document:
				      nothing written, seq is the old one */
} ferry_write_result;

/* Puts one document. `id` NULL (or idlen 0) generates a sortable
 * 20-character id. The body must be a JSON object; invalid JSON fails
 * with FERRY_EJSON and the byte offset, and nothing is written. */
int ferry_doc_put(ferry_db *db, const char *index, const char *id,
		  size_t idlen, const char *body, size_t body_len,
		  enum ferry_op op, ferry_write_result *out, ferry_err *err);

/* Gets a document; `*body` is malloc'd, free with ferry_free(). `seq` may
 * be NULL. FERRY_ENOTFOUND if absent. */
int ferry_doc_get(ferry_db *db, const char *index, const char *id,
		  size_t idlen, char **body, size_t *body_len, uint64_t *seq,
		  ferry_err *err);

/* ferry_doc_get() that also names the physical index `index` resolves
 * to (`physical` may be NULL). Unlike other out-params, `physical` is set
 * as soon as the index is found, so after FERRY_ENOTFOUND a non-empty
 * `physical` means the index exists and the document does not; callers
 * set physical[0] = 0 first. */
int ferry_doc_fetch(ferry_db *db, const char *index, const char *id,
		    size_t idlen, char **body, size_t *body_len, uint64_t *seq,
		    char physical[FERRY_NAME_MAX + 1], ferry_err *err);

/* Deletes a document; FERRY_ENOTFOUND if absent. */
int ferry_doc_delete(ferry_db *db, const char *index, const char *id,
		     size_t idlen, ferry_write_result *out, ferry_err *err);

int ferry_doc_count(ferry_db *db, const char *index, uint64_t *out,
		    ferry_err *err);

/* Bulk: many operations in one transaction with per-op results.
 * Operations on the same id apply in the order they were added. An op
 * that fails (bad JSON, create on an existing id, delete of a missing
 * id, unknown index) gets its own error and the others still apply. */
typedef struct ferry_bulk ferry_bulk;

int ferry_bulk_new(ferry_db *db, ferry_bulk **out);
/* Copies its arguments. `body` is ignored for FERRY_OP_DELETE. */
int ferry_bulk_add(ferry_bulk *b, enum ferry_op op, const char *index,
		   const char *id, size_t idlen, const char *body,
		   size_t body_len);
size_t ferry_bulk_count(const ferry_bulk *b);
/* Ops added without an id take it from this top-level field of their
 * body (e.g. "id"): a string as it is, a number as its text; a body
 * without it gets a generated id. NULL (the default) turns this off.
 * The field name is copied. */
int ferry_bulk_set_id_field(ferry_bulk *b, const char *field);
/* Validates bodies and settles ids without taking the write lock, so a
 * caller can prepare one bulk while another commits (both cores busy).
 * ferry_bulk_commit() calls it when it was not called. Per-op errors are
 * recorded for ferry_bulk_result(); non-zero only if out of memory. */
int ferry_bulk_prepare(ferry_bulk *b, ferry_err *err);
/* Commits every op in the bulk in one transaction. A
 * non-zero return means the transaction as a whole failed (I/O, full)
 * and nothing was written; per-op errors are read with
 * ferry_bulk_result(). After a commit the bulk may be reused with
 * ferry_bulk_clear(). */
int ferry_bulk_commit(ferry_bulk *b, ferry_err *err);
/* Group commit: commits the bulks bs[0..n) in ONE transaction (one
 * fsync), in that order; each keeps its own per-op results. A server
 * calls it with the bulks of requests that arrived while the previous
 * commit ran. All or none: non-zero means nothing of any was written. */
int ferry_bulk_commit_group(ferry_bulk *const *bs, size_t n, ferry_err *err);
/* Result of op i (0-based, in add order) of the last commit. `res` and
 * `op_err` may be NULL. Returns the op's code (0 ok). */
int ferry_bulk_result(const ferry_bulk *b, size_t i, ferry_write_result *res,
		      ferry_err *op_err);
/* How many ops failed (prepare or the last commit): a caller that only
 * needs ferry_bulk_result() for failures can skip it when this is 0. */
size_t ferry_bulk_failed(const ferry_bulk *b);
/* Drops ops and results, keeps memory for reuse. */
void ferry_bulk_clear(ferry_bulk *b);
void ferry_bulk_free(ferry_bulk *b);

/* Ordered scan by id. Starts after `after_id` (NULL: from the first id),
 * so a scan can be resumed from the last id it returned. Reads in pages
 * of short read transactions: writers are never blocked, and every
 * document that exists throughout the scan is returned exactly once. */
typedef struct ferry_scan ferry_scan;

typedef struct ferry_doc {
	const char *id;   /* borrowed: valid until the next call on the scan */
	size_t idlen;
	const char *body; /* borrowed, likewise */
	size_t body_len;
	uint64_t seq;
	int deleted;      /* changes only: 1 if this is a tombstone */
} ferry_doc;

int ferry_scan_open(ferry_db *db, const char *index, const char *after_id,
		    size_t after_len, ferry_scan **out, ferry_err *err);
/* 0 and a document, FERRY_EOF at the end, or an error code. */
int ferry_scan_next(ferry_scan *s, ferry_doc *out, ferry_err *err);
void ferry_scan_free(ferry_scan *s);

/* Change log: every id written or deleted after `since_seq`, each once
 * at its latest sequence number, in sequence order. Deleted ids come back
 * with deleted=1 and no body. FERRY_EHORIZON if tombstones older than
 * `since_seq` were already discarded (the caller must copy in full).
 * `upto_seq` is set to the highest seq visible to this reader. */
typedef struct ferry_changes ferry_changes;

int ferry_changes_open(ferry_db *db, const char *index, uint64_t since_seq,
		       ferry_changes **out, uint64_t *upto_seq,
		       ferry_err *err);
int ferry_changes_next(ferry_changes *c, ferry_doc *out, ferry_err *err);
void ferry_changes_free(ferry_changes *c);

/* ------------------------------------------------------------------ */
/* Aliases                                                             */

enum ferry_alias_action { FERRY_ALIAS_ADD = 0, FERRY_ALIAS_REMOVE = 1 };

typedef struct ferry_alias_op {
	enum ferry_alias_action action;
	const char *alias; /* "{tenant}.{index}" */
	const char *index; /* physical name (or alias, resolved) */
} ferry_alias_op;

/* Applies all ops in one atomic transaction: all or none. An add on an
 * existing alias moves it. */
int ferry_alias_update(ferry_db *db, const ferry_alias_op *ops, size_t n,
		       ferry_err *err);

/* Resolves an alias or physical name to the physical name. */
int ferry_alias_resolve(ferry_db *db, const char *name,
			char out[FERRY_NAME_MAX + 1], ferry_err *err);

/* ------------------------------------------------------------------ */
/* Upgrades (docs/operations.md)                                       */

/* An upgrade has one item per tenant and source index (and per index a
 * hop creates). Items are numbered tenant by tenant; the copy reports
 * them in that order, even though several tenants' items are copied at
 * once. The callback runs on the thread that called ferry_upgrade_run(). */
typedef struct ferry_upgrade_progress {
	const char *step;    /* "snapshot", "prepare", "copy", "catch-up",
				"cutover", "verify", "done" */
	const char *tenant;  /* current item's tenant, or NULL */
	const char *source;  /* physical source index, or NULL */
	const char *target;  /* physical target index, or NULL */
	uint64_t done;       /* documents of this item handled so far */
	uint64_t total;      /* documents in the source (estimate) */
	size_t item, items;  /* item number (0-based) and count */
	/* Per tenant and overall (added with multi-tenant upgrades): */
	size_t tenant_no;      /* this item's tenant: 0.. in item order */
	uint64_t tenant_done;  /* documents of this item's tenant handled */
	uint64_t tenant_total; /* documents in that tenant's sources */
	size_t tenants_done;   /* tenants whose every item is copied */
	size_t tenants;        /* tenants the upgrade covers */
	uint64_t all_done;     /* documents handled over every item */
	uint64_t all_total;    /* documents in every source (estimate) */
} ferry_upgrade_progress;

typedef struct ferry_upgrade_opts {
	const char *migrations_dir; /* NULL: $FERRY_MIGRATIONS or ./migrations */
	const char *to;             /* target release, e.g. "0.8.1" */
	int allow_dev;              /* allow -dev/-rc releases on either side */
	int accept_changed;         /* accept hop files changed since applied */
	int skip_bad;               /* failing docs go to the _failed index */
	uint64_t throttle;          /* max documents/s while copying (0: none) */
	unsigned index_budget;      /* 0: the deployment's budget */
	size_t batch;               /* docs per write transaction (0: 20000) */
	int no_snapshot;            /* skip the snapshot before a major upgrade */
	const char *snapshot_repo;  /* repository for it; NULL: $FERRY_SNAPSHOT_REPO,
				       else the only registered one */
	/* Called after each batch and at each step; may be NULL. Returning
	 * non-zero stops the run (it can be resumed). */
	int (*progress)(void *ctx, const ferry_upgrade_progress *p);
	void *ctx;
} ferry_upgrade_opts;

/* Plans an upgrade to opts->to without changing anything. *plan_json
 * (free with ferry_free) describes it: kind (same, minor, major), hops
 * with files and checksums, per tenant and index the source and target
 * names, ops and document counts, an estimated time, and the index count
 * after the upgrade against the budget. Refusals (FERRY_EVERSION for a
 * downgrade or a dev version without allow_dev, FERRY_ENOTFOUND for a
 * missing hop, FERRY_ELIMIT for the budget, naming the old versions whose
 * deletion would make room) come with a message. */
int ferry_upgrade_plan(ferry_db *db, const ferry_upgrade_opts *opts,
		       char **plan_json, ferry_err *err);

/* Lists what the migrations directory `dir` (NULL or "": $FERRY_MIGRATIONS,
 * else ./migrations) offers, as JSON (free with ferry_free):
 * {"dir":..,"active":..,"hops":[{"from","to","file","checksum",
 *  "description","breaking":[..]}],"targets":[..]}. Hops are in the
 * order of their from, then to, versions; "file" is the file name. With
 * `db` (may be NULL), "active" is its active data version and "targets"
 * the data versions that ferry_upgrade_plan can reach from it through a
 * chain of hops, oldest first; without, "active" is null and "targets"
 * empty. A directory that does not load fails as planning would: the
 * code and message of the loader (FERRY_ENOTFOUND for a missing
 * directory, "file:line:col: ..." for a bad file). */
int ferry_migration_list(ferry_db *db, const char *dir, char **json,
			 ferry_err *err);

/* Runs (or, if one is under way for the same target, resumes) the
 * upgrade: snapshot, prepare, copy, catch-up, cutover, verify. The
 * snapshot of the whole deployment goes to opts->snapshot_repo (see
 * there); with no repository registered the upgrade goes on without one
 * and the version history says so. Holds the upgrade
 * lease while it runs: FERRY_EBUSY if another live process holds it.
 * Killed at any point, a later run or ferry_upgrade_resume() finishes
 * with the same result. Running a finished upgrade again does nothing. */
int ferry_upgrade_run(ferry_db *db, const ferry_upgrade_opts *opts,
		      ferry_err *err);
/* Resumes the upgrade under way (its target comes from the catalog). */
int ferry_upgrade_resume(ferry_db *db, const ferry_upgrade_opts *opts,
			 ferry_err *err);
/* Status of the current or last upgrade as JSON (free with ferry_free):
 * state, step, per item progress, lease owner, errors. "{}" if none. */
int ferry_upgrade_status(ferry_db *db, char **status_json, ferry_err *err);
/* Stops an upgrade before its cutover: drops the target set and leaves
 * the old set as it was. FERRY_EPERM after the cutover (use rollback). */
int ferry_upgrade_abort(ferry_db *db, int force, ferry_err *err);

/* Moves the aliases back to the previous version while its indices
 * exist. With yes == 0 nothing changes and *writes_dropped tells how many
 * writes to the new version since the switch would be lost. No alias of
 * any tenant stays on the new version: a tenant added after the switch
 * goes back to its (empty) set of the previous version, made now if it
 * has none, and an index created after the switch gets an empty index of
 * its name there; their writes since are among those dropped. One write
 * transaction (also with yes == 0, then aborted): a rollback that is
 * killed has happened in full or not at all. */
int ferry_rollback(ferry_db *db, int yes, uint64_t *writes_dropped,
		   ferry_err *err);

/* Deletes every index of data version `version` (refuses the active one
 * and one an upgrade is building, and, unless `force`, one that no
 * snapshot in a registered repository holds). With dry_run, only *report_json (free
 * with ferry_free) lists what would go. */
int ferry_version_delete(ferry_db *db, const char *version, int dry_run,
			 int force, char **report_json, ferry_err *err);

/* ------------------------------------------------------------------ */
/* Snapshots (docs/snapshot-format.md)                                 */
/*
 * A repository is a directory (local disk or a shared file system):
 * config.json, snapshots/<name>.json manifests and content-addressed,
 * zstd-compressed chunks/<2 hex>/<sha256>. A chunk is stored once however
 * many snapshots use it. Every file is written temp -> fsync -> rename ->
 * fsync dir, so a killed writer leaves no half file a reader could see.
 *
 * `repo` arguments below are a registered repository name (see
 * ferry_snaprepo_add) or a path: any string containing '/' (use "./x"
 * for a relative one). A path needs no data directory, so `db` may be
 * NULL for list, show and verify of a path, and must be a handle of an
 * uninitialised data dir (opened with FERRY_OPEN_CREATE) for a
 * whole-deployment restore.
 */

#define FERRY_SNAPSHOT_NAME_MAX 128 /* bytes of [a-z0-9._-] */

typedef struct ferry_snaprepo_info {
	char name[FERRY_PART_MAX + 1];
	char path[4096];     /* absolute */
	int64_t created_ms;  /* when it was added */
} ferry_snaprepo_info;

/* Registers the directory `path` (must exist) as repository `name`
 * ([a-z0-9][a-z0-9_-]{0,62}) in the catalog. Checks it can write there
 * (creates, fsyncs and removes a probe file) and lays out the repository
 * (config.json with format 1) unless it already holds one, which it then
 * checks (an existing repository can be added by several deployments).
 * `chunk_size` is the target chunk size of a new repository in bytes
 * (0: 1 MiB; 4 KiB to 64 MiB); it is ignored for an existing one.
 * FERRY_ENOTFOUND for a missing path, FERRY_EPERM if it is not writable,
 * FERRY_EEXISTS if the name is taken, FERRY_EVERSION for a repository of
 * a newer format. */
int ferry_snaprepo_add(ferry_db *db, const char *name, const char *path,
		       size_t chunk_size, ferry_err *err);
/* Registered repositories by name; free with ferry_free(). */
int ferry_snaprepo_list(ferry_db *db, ferry_snaprepo_info **out, size_t *n,
			ferry_err *err);
/* Forgets a repository; its files are left as they are. */
int ferry_snaprepo_remove(ferry_db *db, const char *name, ferry_err *err);

typedef struct ferry_snapshot_progress {
	const char *step;      /* "read", "restore", "verify" */
	const char *index;     /* physical index being handled, or NULL */
	uint64_t bytes_done;   /* raw (uncompressed) record bytes so far */
	uint64_t bytes_total;  /* estimate of the total, for % and ETA */
	uint64_t docs_done;    /* records (documents, deletions) so far */
	uint64_t bytes_stored; /* compressed bytes written (create) or read */
} ferry_snapshot_progress;

/* Called on the calling thread after each chunk (about every MiB) and at
 * each index. Returning non-zero stops the call, which
 * then fails with FERRY_EINVAL and changes nothing (chunks a create
 * already stored are reused by the next one). */
typedef int (*ferry_snapshot_progress_fn)(void *ctx,
					  const ferry_snapshot_progress *p);

typedef struct ferry_snapshot_info {
	char name[FERRY_SNAPSHOT_NAME_MAX + 1];
	char state[16];       /* "ok", or "damaged" (manifest unreadable) */
	char release[64];     /* active release when it was taken */
	int64_t started_ms;   /* unix ms */
	int64_t took_ms;
	uint64_t indices;
	uint64_t docs;        /* live documents over its indices */
	uint64_t bytes;       /* raw record bytes its chunks hold */
	uint64_t chunks;      /* chunks it needs */
	uint64_t stored;      /* their bytes in the repository */
	uint64_t new_chunks;  /* chunks it added to the repository */
	uint64_t new_bytes;   /* their bytes */
} ferry_snapshot_info;

/* Takes a snapshot named `name` (NULL: "snap-YYYYMMDD-HHMMSS" in UTC) of
 * the indices matching `pattern` (a glob list over physical names and
 * aliases as in ferry_index_list; NULL for all) and of the whole catalog
 * (settings, versions with history, tenants, index bodies, aliases).
 * Point-in-time consistent: everything is read in one read transaction.
 * An index snapshotted before into this repository from this deployment
 * is stored as the earlier base plus the changes since (a delta), unless
 * the change log no longer reaches back or the deltas grew past half the
 * base; then a new base is cut into content-defined chunks, so that
 * unchanged stretches dedupe anyway. Memory stays bounded; compression
 * runs on every core. Several creates may run at once.
 * `info` and `manifest_json` (free with ferry_free) may be NULL.
 * FERRY_EEXISTS if the name is taken; FERRY_EBUSY if a delete holds the
 * repository lock for longer than a minute (naming it). Killed at any
 * point, nothing is visible; running it again reuses the stored chunks. */
int ferry_snapshot_create(ferry_db *db, const char *repo, const char *name,
			  const char *pattern,
			  ferry_snapshot_progress_fn progress, void *ctx,
			  ferry_snapshot_info *info, char **manifest_json,
			  ferry_err *err);

/* Resolves Elasticsearch date math in a snapshot name, in UTC:
 * "<nightly-{now/d}>" -> "nightly-2026.11.22" ({now}, {now/d}, {now/M},
 * {now/y}, {now/H}, {now/m}, and {now/d{yyyy.MM.dd}} with yyyy MM dd HH mm
 * ss). A name without <...> is copied. now_ms 0 means now. FERRY_EINVAL
 * (with the reason) for a bad expression, FERRY_ELIMIT if it does not
 * fit in `out`. */
int ferry_snapshot_name_expand(const char *pattern, int64_t now_ms,
			       char out[FERRY_SNAPSHOT_NAME_MAX + 1],
			       ferry_err *err);

/* Snapshots of a repository, oldest first. A manifest that cannot be
 * read is listed with state "damaged". Free with ferry_free(). */
int ferry_snapshot_list(ferry_db *db, const char *repo,
			ferry_snapshot_info **out, size_t *n, ferry_err *err);

/* The manifest of one snapshot (checksum verified); free with
 * ferry_free(). FERRY_ENOTFOUND, FERRY_ECORRUPT (truncated or damaged),
 * FERRY_EVERSION (written by a newer ferry). */
int ferry_snapshot_show(ferry_db *db, const char *repo, const char *name,
			char **manifest_json, ferry_err *err);

typedef struct ferry_snapshot_gc {
	uint64_t chunks_removed;
	uint64_t bytes_freed;
	uint64_t chunks_kept;   /* chunks other snapshots still use */
	int gc_skipped;         /* 1: another manifest is damaged, so no
				   chunk was removed (the snapshot was) */
} ferry_snapshot_gc;

/* Deletes a snapshot and the chunks no other snapshot needs. Safe while
 * creates run: a chunk touched after the oldest running create started
 * is kept. Holds the repository lock. A delete killed midway is finished
 * by running it again. `out` may be NULL. */
int ferry_snapshot_delete(ferry_db *db, const char *repo, const char *name,
			  ferry_snapshot_gc *out, ferry_err *err);

/* Re-reads and re-hashes every chunk of snapshot `name` (NULL: of every
 * snapshot, each chunk once) and checks the manifests. Returns 0 if all
 * is intact, else FERRY_ECORRUPT naming the first bad chunk or manifest
 * and how many there are. *report_json (may be NULL; free with
 * ferry_free; set on success and on FERRY_ECORRUPT) lists counts and
 * every problem with the snapshots and indices it touches. */
int ferry_snapshot_verify(ferry_db *db, const char *repo, const char *name,
			  ferry_snapshot_progress_fn progress, void *ctx,
			  char **report_json, ferry_err *err);

typedef struct ferry_restore_opts {
	const char *indices;       /* glob over physical names and aliases of
				      the snapshot's indices; NULL: all */
	const char *rename_pattern;     /* POSIX extended regex, or NULL */
	const char *rename_replacement; /* "$1".."$9" groups, "$0" match */
	int all;       /* whole deployment into an uninitialised data dir */
	int partial;   /* restore what is intact, leaving out damaged chunks */
	ferry_snapshot_progress_fn progress;
	void *ctx;
} ferry_restore_opts;

/* Restores indices of a snapshot, Elasticsearch-style: each chosen index
 * (renamed by replacing every match of rename_pattern in its physical
 * name, which must stay a physical name) is created with its body and
 * documents; its alias "{tenant}.{index}" is added if free and the
 * version is active. An existing index with a target name is an error
 * (FERRY_EEXISTS) and nothing is written. With `all`, the data dir must
 * be uninitialised and the whole deployment comes back: settings,
 * versions with history, tenants, indices, aliases.
 * A damaged or missing chunk fails the restore (FERRY_ECORRUPT naming it)
 * and what was restored so far is removed again, unless `partial`.
 * Killed midway, running the same restore again finishes it.
 * *report_json (may be NULL; free with ferry_free) lists what was
 * restored and, with `partial`, what was left out. */
int ferry_snapshot_restore(ferry_db *db, const char *repo, const char *name,
			   const ferry_restore_opts *opts, char **report_json,
			   ferry_err *err);

/* ------------------------------------------------------------------ */
/* Snapshot lifecycle policies (like Elasticsearch SLM)                */

/* Creates or replaces policy `id` from an ES-shaped JSON body:
 * {"schedule":"0 30 1 * * ?","name":"<nightly-{now/d}>",
 *  "repository":"backups","config":{"indices":"*"},
 *  "retention":{"expire_after":"30d","min_count":5,"max_count":50}}.
 * The schedule is cron (UTC); the repository must be registered. */
int ferry_slm_put(ferry_db *db, const char *id, const char *body,
		  size_t len, ferry_err *err);
/* {"id":{"policy":{...},"state":{next_ms, last_ok, last_fail, taken}}}
 * for policy `id`, or for all when id is NULL. Free with ferry_free. */
int ferry_slm_get(ferry_db *db, const char *id, char **json, ferry_err *err);
/* Deletes the policy (its snapshots stay). */
int ferry_slm_delete(ferry_db *db, const char *id, ferry_err *err);
/* Takes the policy's snapshot now, then applies its retention; `name`
 * receives the snapshot's name. */
int ferry_slm_execute(ferry_db *db, const char *id,
		      char name[FERRY_SNAPSHOT_NAME_MAX + 1], ferry_err *err);
/* Executes every policy whose next run is at or before now_ms (0: now);
 * *report_json (may be NULL) lists [{policy, snapshot, error}]. */
int ferry_slm_run_due(ferry_db *db, int64_t now_ms, char **report_json,
		      ferry_err *err);
/* Applies every policy's retention now, as of now_ms (0: now), without
 * taking snapshots (Elasticsearch's _execute_retention): deletes the
 * snapshots a policy took that its retention lets go, through
 * ferry_snapshot_delete() (under the repository lock, as a policy run
 * does), and forgets those already gone. Snapshots no policy took are
 * never touched. *report_json (may be NULL; free with ferry_free) lists
 * [{"policy","deleted":[..],"forgotten":[..],"error"}] for each policy
 * where something happened; a failed delete is reported there (the
 * snapshot stays and the next run tries again), not as the return
 * code, which is for failing to read the policies. */
int ferry_slm_execute_retention(ferry_db *db, int64_t now_ms,
				char **report_json, ferry_err *err);

/* ------------------------------------------------------------------ */
/* Tenant keys (docs/tenants.md)                                       */
/*
 * A tenant key is "fk_" followed by 40 lowercase hex digits (160 random
 * bits). Only its SHA-256 (64 lowercase hex digits) is stored, in the
 * catalog record "tkey/<sha256>" = {"tenants":[..],"created_ms",
 * "source"}: the key itself is shown once, when it is created, and can
 * never be read back. A key's scope is one tenant, several tenants, or
 * ["*"] (every tenant, present and future). `source` says who manages
 * the key: "local" (created here) or "tms" (mirrored from a Tenant
 * Management Service by ferry_tenant_key_sync()).
 */

#define FERRY_KEY_MAX 43       /* bytes of a key: "fk_" + 40 hex */
#define FERRY_KEY_HASH_MAX 64  /* bytes of its SHA-256 in hex */
#define FERRY_KEY_TENANTS_MAX 1024 /* tenants in one key's scope */

/* Creates a key scoped to tenants[0..n) (each must exist; "*" alone means
 * every tenant) and writes it, NUL-terminated, to `key`. This is the only
 * time the key can be seen. Duplicates in the list are an error.
 * FERRY_ENOTFOUND for an unknown tenant, FERRY_ENAME for a bad name,
 * FERRY_EINVAL for an empty list, "*" beside other names or duplicates. */
int ferry_tenant_key_create(ferry_db *db, const char *const *tenants,
			    size_t n, char key[FERRY_KEY_MAX + 1],
			    ferry_err *err);
/* The scope of `key`: *tenants is a NULL-terminated array of tenant names
 * (or {"*"}); free with ferry_strv_free(). One SHA-256 and one read
 * transaction, so it may be called on every request. FERRY_ENOTFOUND for
 * a key that is unknown (or revoked), FERRY_EINVAL for a string that is
 * not shaped like a key at all. */
int ferry_tenant_key_lookup(ferry_db *db, const char *key, char ***tenants,
			    ferry_err *err);
/* Every key as a JSON array, by hash: [{"sha256","tenants":[..],
 * "created_ms","source"}]. Free with ferry_free(). */
int ferry_tenant_key_list(ferry_db *db, char **json, ferry_err *err);
/* Revokes the key whose SHA-256 is `sha256_hex` (the key itself is also
 * accepted). FERRY_ENOTFOUND if there is none; FERRY_EPERM for a key
 * mirrored from a TMS (it would come back at the next refresh: delete
 * the tenant in the TMS instead). */
int ferry_tenant_key_revoke(ferry_db *db, const char *sha256_hex,
			    ferry_err *err);
/* Removes `tenant` from the scope of every key; a key left with no tenant
 * is revoked. `*revoked` (may be NULL) gets how many were. Call it after
 * ferry_tenant_remove(). A tenant no key names is not an error. */
int ferry_tenant_key_drop_tenant(ferry_db *db, const char *tenant,
				 size_t *revoked, ferry_err *err);
/* Makes the keys of `source` ([a-z0-9][a-z0-9_-]{0,62}, e.g. "tms")
 * exactly `json_keys`, a JSON array [{"sha256","tenants":[..],
 * "created_ms"}] (other members are ignored), in one transaction: keys of
 * that source not in the list are revoked, listed ones are added or
 * updated; keys of other sources are left alone (a listed hash that is a
 * key of another source becomes this source's). Tenants need not exist
 * locally. The whole list is checked first: FERRY_EJSON or FERRY_EINVAL
 * (naming the entry) and nothing changes. */
int ferry_tenant_key_sync(ferry_db *db, const char *json_keys,
			  const char *source, ferry_err *err);
/* Writes the SHA-256 of `key` (64 lowercase hex digits, the name a key is
 * listed and revoked by) to `hex`. FERRY_EINVAL if `key` is not shaped
 * like a key. */
int ferry_tenant_key_hash(const char *key,
			  char hex[FERRY_KEY_HASH_MAX + 1]);
/* The tenant registry as one JSON object, read in one transaction:
 * {"tenants":[{"name","created_ms"}],"keys":[as ferry_tenant_key_list]}.
 * Tenants by name. Free with ferry_free(). This is what a Tenant
 * Management Service serves (docs/tenants.md). */
int ferry_tenant_registry(ferry_db *db, char **json, ferry_err *err);

#ifdef __cplusplus
}
#endif
#endif /* FERRY_FERRY_H */
