/*
 * lmdb_int.h - internals shared by the LMDB backend's files.
 *
 * Layout of the one LMDB environment in the data directory (see
 * docs/architecture.md, "Storage format"):
 *
 *   catalog  string key          -> catalog record (JSON, owned by core)
 *   meta     ix(4)               -> flmdb_meta (per-index counters)
 *   purge    ix(4)               -> "" (dropped index whose pages remain)
 *   ids      ix(4) id            -> seq(8) | len(4)   (top bit of seq: deleted)
 *   docs     ix(4) seq(8)        -> idlen(2) id body   (live documents)
 *   tombs    ix(4) seq(8)        -> time_ms(8) id      (deleted ids)
 *
 * Integers in keys are big-endian so that byte order is numeric order.
 * Bodies are appended in seq order (fast, and the docs table doubles as
 * the change log); ids are a separate small tree so that random ids cost
 * small inserts, not moves of whole bodies (FACTS.md: 200 k/s vs 1 M/s).
 */
#ifndef FERRY_LMDB_INT_H
#define FERRY_LMDB_INT_H

#include <errno.h>
#include <lmdb.h>
#include <stdint.h>
#include <string.h>

#include "store/store.h"

#define FLMDB_DELETED (UINT64_C(1) << 63)
#define FLMDB_TOMB_MIN 100000        /* tombstones always kept */
#define FLMDB_TOMB_AGE_MS (7LL * 24 * 3600 * 1000) /* and for 7 days */
#define FLMDB_TRIM_MAX 4096          /* tombstones trimmed per commit */

typedef struct flmdb {
	fstore base;
	MDB_env *env;
	MDB_dbi catalog, meta, purge, ids, docs, tombs;
	int rdonly;
} flmdb;

typedef struct flmdb_meta {
	uint32_t format; /* 1 */
	uint32_t pad;
	uint64_t next_seq, docs, bytes, tombs, horizon;
} flmdb_meta;

typedef struct flmdb_mslot {
	uint32_t ix;
	int dirty;
	int deleted_any; /* a delete happened: trim tombstones at commit */
	flmdb_meta m;
} flmdb_mslot;

typedef struct flmdb_txn {
	fstore_txn base;
	flmdb *s;
	MDB_txn *txn;
	int write;
	MDB_cursor *docs_cur; /* write txns: reused for appends */
	MDB_cursor *ids_cur;  /* likewise, for ids written in key order */
	unsigned ids_miss;    /* failed append attempts in a row */
	flmdb_mslot *slots;
	size_t nslots, capslots;
} flmdb_txn;

static inline void flmdb_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);  p[3] = (unsigned char)v;
}
static inline void flmdb_be64(unsigned char *p, uint64_t v)
{
	flmdb_be32(p, (uint32_t)(v >> 32));
	flmdb_be32(p + 4, (uint32_t)v);
}
static inline uint32_t flmdb_rd32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t flmdb_rd64(const unsigned char *p)
{
	return (uint64_t)flmdb_rd32(p) << 32 | flmdb_rd32(p + 4);
}

/* Maps an LMDB or errno code to a ferry code with a message. */
int flmdb_error(int rc, ferry_err *err, const char *what);
/* The per-index counters of ix inside txn t (loaded once, written at
 * commit). FERRY_ENOTFOUND if ix does not exist. */
int flmdb_meta_get(flmdb_txn *t, uint32_t ix, flmdb_mslot **out);
int flmdb_meta_flush(flmdb_txn *t, ferry_err *err);
int64_t flmdb_now_ms(void);

/* lmdb_docs.c */
int flmdb_doc_write(fstore_txn *t, uint32_t ix, enum ferry_op op,
		    const char *id, size_t idlen, const char *body,
		    size_t body_len, uint64_t *seq, int *created,
		    ferry_err *err);
int flmdb_doc_get(fstore_txn *t, uint32_t ix, const char *id, size_t idlen,
		  fstore_entry *out);
int flmdb_doc_scan(fstore_txn *t, uint32_t ix, const char *after,
		   size_t after_len, size_t limit, fstore_visit fn, void *ctx);
int flmdb_changes(fstore_txn *t, uint32_t ix, uint64_t since, size_t limit,
		  fstore_visit fn, void *ctx);
int flmdb_trim_tombs(flmdb_txn *t, flmdb_mslot *slot, ferry_err *err);

/* lmdb_index.c */
int flmdb_ix_create(fstore_txn *t, uint32_t ix, ferry_err *err);
int flmdb_ix_drop(fstore_txn *t, uint32_t ix, ferry_err *err);
int flmdb_ix_purge_step(fstore *s, size_t budget, int *more, ferry_err *err);
int flmdb_ix_stats(fstore_txn *t, uint32_t ix, fstore_stats *out);
int flmdb_purge_pending(fstore_txn *t);

#endif
