/*
 * store.h - the storage backend interface.
 *
 * The core (catalog, indices, documents, upgrades) talks to storage only
 * through this table of operations, so that LMDB specifics stay in
 * src/store/lmdb and an Elasticsearch backend can implement the same
 * table later. Indices are numbered (uint32 "ix") by the catalog; the
 * backend knows nothing of names, versions or tenants.
 *
 * Everything happens inside a transaction. A write transaction is atomic:
 * documents, change log, index statistics and catalog records commit
 * together (a cutover is one transaction). Pointers a read call returns
 * are borrowed and stay valid until the transaction ends or the next write
 * in it, whichever comes first.
 *
 * Change log model: every write to index ix gets the next per-index
 * sequence number. A document lives at its latest seq; a delete leaves a
 * tombstone at its seq. So "what changed after seq S" is every live doc and
 * tombstone with seq > S, each id once. Tombstones are discarded past a
 * retention bound; the highest discarded seq is the index's horizon.
 */
#ifndef FERRY_STORE_H
#define FERRY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/ferry.h"

typedef struct fstore fstore;
typedef struct fstore_txn fstore_txn;

typedef struct fstore_stats {
	uint64_t next_seq; /* the seq the next write gets (first is 1) */
	uint64_t docs;     /* live documents */
	uint64_t bytes;    /* sum of live body bytes */
	uint64_t tombs;    /* tombstones kept */
	uint64_t horizon;  /* highest discarded tombstone seq (0: none) */
} fstore_stats;

typedef struct fstore_info {
	uint64_t map_size;
	uint64_t file_size;
	unsigned readers_max;
	unsigned readers_used;
} fstore_info;

/* One entry of a scan or change page. Borrowed (see above). */
typedef struct fstore_entry {
	const char *id;
	size_t idlen;
	const char *body;
	size_t body_len;
	uint64_t seq;
	int deleted;
} fstore_entry;

/* Callback for scans: return 0 to go on, 1 to stop, <0... any other value
 * stops and is returned by the scan. */
typedef int (*fstore_visit)(void *ctx, const fstore_entry *e);

#define FSTORE_NOOP 2

typedef struct fstore_ops {
	const char *name;
	int (*open)(const char *dir, unsigned flags, fstore **out,
		    ferry_err *err);
	void (*close)(fstore *s);
	int (*info)(fstore *s, fstore_info *out);
	int (*sync)(fstore *s, ferry_err *err);

	int (*txn_begin)(fstore *s, int write, fstore_txn **out,
			 ferry_err *err);
	int (*txn_commit)(fstore_txn *t, ferry_err *err);
	void (*txn_abort)(fstore_txn *t);

	/* Catalog records: opaque bytes under string keys. */
	int (*kv_get)(fstore_txn *t, const char *key, const char **val,
		      size_t *len);
	int (*kv_put)(fstore_txn *t, const char *key, const void *val,
		      size_t len, ferry_err *err);
	int (*kv_del)(fstore_txn *t, const char *key);
	/* Visits records whose key starts with `prefix`, in key order; the
	 * entry's id/idlen is the key, body/body_len the value. */
	int (*kv_scan)(fstore_txn *t, const char *prefix, fstore_visit fn,
		       void *ctx);

	/* Index storage. */
	int (*ix_create)(fstore_txn *t, uint32_t ix, ferry_err *err);
	/* Makes ix empty and invisible at once; its space is freed by
	 * ix_purge_step (resumable: the backend remembers pending purges). */
	int (*ix_drop)(fstore_txn *t, uint32_t ix, ferry_err *err);
	/* Frees up to `budget` entries of dropped indices. *more is set to 1
	 * while work remains. Runs in its own transactions. */
	int (*ix_purge_step)(fstore *s, size_t budget, int *more,
			     ferry_err *err);
	int (*ix_stats)(fstore_txn *t, uint32_t ix, fstore_stats *out);
	/* 1 if dropped indices still have entries to free, else 0. */
	int (*purge_pending)(fstore_txn *t);

	/* Documents. `op` is FERRY_OP_INDEX, _CREATE or _DELETE, or
	 * _UPDATE: an index op that writes even an identical body (the core
	 * has merged the update; detect_noop off). `body` is
	 * stored as given (the core validates it). Fills seq and created:
	 * 1 new, 0 replaced or deleted, FSTORE_NOOP if the body is identical
	 * to the stored one (nothing written: the change log, and so
	 * catch-up and incremental snapshots, do not see a re-import of
	 * unchanged data). */
	int (*doc_write)(fstore_txn *t, uint32_t ix, enum ferry_op op,
			 const char *id, size_t idlen, const char *body,
			 size_t body_len, uint64_t *seq, int *created,
			 ferry_err *err);
	int (*doc_get)(fstore_txn *t, uint32_t ix, const char *id,
		       size_t idlen, fstore_entry *out);
	/* Visits live documents with id > after (all if after is NULL), in
	 * id order, at most `limit` of them. */
	int (*doc_scan)(fstore_txn *t, uint32_t ix, const char *after,
			size_t after_len, size_t limit, fstore_visit fn,
			void *ctx);
	/* Visits live documents and tombstones with seq > since, in seq
	 * order, at most `limit`. FERRY_EHORIZON if since < horizon. */
	int (*changes)(fstore_txn *t, uint32_t ix, uint64_t since,
		       size_t limit, fstore_visit fn, void *ctx);
} fstore_ops;

/* Every backend handle and transaction starts with these, so the core
 * can reach the ops table from either. */
struct fstore {
	const fstore_ops *ops;
};
struct fstore_txn {
	fstore *store;
};

extern const fstore_ops fstore_lmdb_ops;

/* Picks the backend named by FERRY_BACKEND (default "lmdb").
 * FERRY_EINVAL with a message naming the known backends otherwise. */
int fstore_lookup(const char *name, const fstore_ops **out, ferry_err *err);

#endif
