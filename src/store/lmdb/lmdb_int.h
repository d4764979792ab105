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
 *   runs     ix(4) run(8)        -> run header + Bloom filter
 *            ix(4) 0(8)          -> the same over the index's ids in `ids`
 *            0x00                -> the next run number(8)
 *   idrun    run(8) id           -> seq(8) | len(4)   (seq 0: id removed)
 *
 * Integers in keys are big-endian so that byte order is numeric order.
 * Bodies are appended in seq order (fast, and the docs table doubles as
 * the change log); ids are a separate small tree so that random ids cost
 * small inserts, not moves of whole bodies (FACTS.md: 200 k/s vs 1 M/s).
 *
 * Ids written out of key order do not go into `ids` one by one: each
 * commit writes them as one sorted run in `idrun` (lmdb_runs.c), and runs
 * are merged into `ids` in large sorted passes. A mapping in a newer run
 * hides the same id's in older runs and in `ids`.
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
#define FLMDB_RUN_ID_MAX (511 - 8)   /* longest id kept in runs */

typedef struct flmdb_fetch flmdb_fetch;

typedef struct flmdb {
	fstore base;
	MDB_env *env;
	MDB_dbi catalog, meta, purge, ids, docs, tombs, runs, idrun;
	int rdonly;
	int has_runs;        /* 0: an older read-only data dir without runs */
	uint64_t run_merge;  /* FERRY_RUN_MERGE: ids in runs before a merge */
	unsigned run_max;    /* FERRY_RUN_MAX: runs before a compaction */
	flmdb_fetch *fetch;  /* lmdb_fetch.c */
} flmdb;

typedef struct flmdb_meta {
	uint32_t format; /* 1 */
	uint32_t filtered; /* 1: the tree filter (lmdb_runs.c) covers `ids` */
	uint64_t next_seq, docs, bytes, tombs, horizon;
} flmdb_meta;

/* One run of an index, as listed in `runs` (bloom points into the map). */
typedef struct flmdb_run {
	uint64_t no;
	uint32_t count, nblocks;
	const unsigned char *bloom;
} flmdb_run;

/* A mapping written in this transaction, not yet in a run. */
typedef struct flmdb_pent {
	uint64_t hash;
	uint64_t seq; /* with FLMDB_DELETED for a tombstone; 0: id removed */
	uint32_t len;
	uint32_t koff;
	uint32_t klen;
} flmdb_pent;

typedef struct flmdb_pend {
	flmdb_pent *e;
	size_t n, cap;
	uint32_t *tab; /* open addressing: entry index + 1, 0 empty */
	size_t tcap;   /* a power of two */
	char *keys;
	size_t klen, kcap;
	int unsorted;  /* entries were not added in key order */
} flmdb_pend;

typedef struct flmdb_mslot {
	uint32_t ix;
	int dirty;
	int deleted_any; /* a delete happened: trim tombstones at commit */
	flmdb_meta m;
	int runs_loaded; /* runs[] is valid for this transaction */
	flmdb_run *runs; /* oldest first */
	flmdb_run tree;  /* the filter of ix's ids in `ids` (run number 0) */
	size_t nruns, caprun;
	uint64_t run_ids;
	/* a merge into `ids` in steps (lmdb_runs.c): runs numbered up to
	 * mg_upto (0: none under way); ids before mg_key are merged */
	uint64_t mg_upto;
	size_t mg_klen;
	unsigned char mg_key[FLMDB_RUN_ID_MAX];
	flmdb_pend pend;
} flmdb_mslot;

typedef struct flmdb_txn {
	fstore_txn base;
	flmdb *s;
	MDB_txn *txn;
	int write;
	MDB_cursor *docs_cur; /* write txns: reused for appends */
	MDB_cursor *ids_cur;  /* likewise, for ids written in key order */
	unsigned ids_miss;    /* failed append attempts in a row */
	uint64_t run_next;    /* the next run's number (0: not read yet) */
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

/* LMDB's default key order: bytes, then the shorter first. */
static inline int flmdb_keycmp(const unsigned char *a, size_t an,
			       const unsigned char *b, size_t bn)
{
	size_t n = an < bn ? an : bn;
	int c = n ? memcmp(a, b, n) : 0;
	return c ? c : (an > bn) - (an < bn);
}

/* Maps an LMDB or errno code to a ferry code with a message. */
int flmdb_error(int rc, ferry_err *err, const char *what);
/* The per-index counters of ix inside txn t (loaded once, written at
 * commit). FERRY_ENOTFOUND if ix does not exist. */
int flmdb_meta_get(flmdb_txn *t, uint32_t ix, flmdb_mslot **out);
int flmdb_meta_flush(flmdb_txn *t, ferry_err *err);
void flmdb_slot_free(flmdb_mslot *sl);
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
/* A 64-bit sort key and the position it came from. */
typedef struct flmdb_ksort {
	uint64_t k;
	size_t i;
} flmdb_ksort;
/* Stable LSD radix sort of a[0..n) by k, using tmp[0..n). */
void flmdb_radix_sort(flmdb_ksort *a, flmdb_ksort *tmp, size_t n);

/* lmdb_docs.c: the body stored at seq of index ix, through a cursor on
 * `docs` (0, FERRY_ECORRUPT if missing, FERRY_EIO). */
int flmdb_body_at(MDB_cursor *c, uint32_t ix, uint64_t seq,
		  fstore_entry *out);
/* Fills *out from a `docs` value (id length, id, body) stored at seq. */
int flmdb_entry_read(const MDB_val *v, uint64_t seq, fstore_entry *out);
/* lmdb_env.c: starts (*txn NULL) or renews a read transaction whose id
 * names the snapshot it reads (see there); an LMDB code, and then *txn
 * is aborted and NULL. */
int flmdb_read_begin(MDB_env *env, MDB_txn **txn);
/* lmdb_fetch.c: */
/* The scan helper of an environment (its thread starts at the first
 * window it can split, never on a one-core machine); ENOMEM. Freed (its
 * thread stopped) before the environment closes. */
int flmdb_fetch_new(MDB_env *env, MDB_dbi docs, flmdb_fetch **out);
void flmdb_fetch_free(flmdb_fetch *f);
/* Fills win[ord[j].i] with the body of seq ord[j].k for j in [0, n)
 * through cursor c of txn, half of them on the helper thread when it can
 * read the same snapshot (see lmdb_fetch.c). */
int flmdb_fetch_window(flmdb_fetch *f, MDB_txn *txn, int write,
		       MDB_cursor *c, uint32_t ix, const flmdb_ksort *ord,
		       size_t n, fstore_entry *win);

/* lmdb_runs.c. Ids longer than FLMDB_RUN_ID_MAX (top of this file) never
 * go into runs (their `ids` key is hashed), so `ids` alone answers for
 * them. */
uint64_t flmdb_id_hash(const char *id, size_t n);
/* The newest mapping of id among pending writes and runs: 0 and *seq
 * (0 if the id was removed) and *len, or MDB_NOTFOUND: `ids` decides.
 * Like the rest of lmdb_runs.c and lmdb_merge.c, returns LMDB or errno
 * codes; callers turn them into ferry codes with flmdb_error(). */
int flmdb_runs_find(flmdb_txn *t, flmdb_mslot *sl, const char *id,
		    size_t idlen, uint64_t h, uint64_t *seq, uint32_t *len);
/* Lists ix's runs in sl->runs and its tree filter in sl->tree (once per
 * transaction, and again after runs change). */
int flmdb_runs_load(flmdb_txn *t, flmdb_mslot *sl);
/* 1 if the tree filter says id (hash h) is certainly not in `ids`. */
int flmdb_tree_absent(flmdb_txn *t, flmdb_mslot *sl, uint64_t h);
/* lmdb_pend.c: a transaction's mappings of one index, not yet in a run. */
flmdb_pent *flmdb_pend_find(flmdb_pend *p, const char *id, size_t n,
			    uint64_t h);
/* Records (or replaces) the mapping of id; ENOMEM. */
int flmdb_pend_put(flmdb_pend *p, const char *id, size_t idlen, uint64_t h,
		   uint64_t seq, uint32_t len);
void flmdb_pend_clear(flmdb_pend *p);
/* A copy of the pending mappings in key order (koff into *keys); the
 * caller frees both. */
int flmdb_pend_sorted(const flmdb_pend *p, flmdb_pent **out, char **keys);
/* At commit: writes pending mappings as a run, compacts runs, or merges
 * them all into `ids`, by size (see lmdb_runs.c). */
int flmdb_runs_flush(flmdb_txn *t, flmdb_mslot *sl, ferry_err *err);
/* Frees up to *budget run entries of a dropped index; *done is 1 when
 * none are left. */
int flmdb_runs_purge(flmdb *s, MDB_txn *txn, uint32_t ix, size_t *budget,
		     int *done);

/* A run is stored in blocks of up to FLMDB_BLOCK_MAX bytes, each one
 * overflow page, under the key run(8) + the block's first id: entries
 * klen(2) id seq(8) len(4), then their offsets (2 each), then their
 * count (2). Per-entry LMDB operations cost more than the run's bytes. */
#define FLMDB_BLOCK_MAX (4096 - 16)
typedef struct flmdb_block {
	const unsigned char *p;
	unsigned n;
	size_t size;
} flmdb_block;
/* Checks a block value: 0, or MDB_CORRUPTED. */
int flmdb_block_open(const MDB_val *v, flmdb_block *b);
/* Entry i of a block. */
void flmdb_block_entry(const flmdb_block *b, unsigned i,
		       const unsigned char **id, size_t *idlen, uint64_t *seq,
		       uint32_t *len);

/* Id-ordered merge of an index's `ids`, runs and pending mappings. Each
 * next() yields an id once, with its newest mapping (seq 0: removed). */
typedef struct flmdb_src {
	MDB_cursor *c;         /* NULL: the pending array */
	size_t pfx;            /* key bytes before the id: 4 (ids), 8 (run) */
	uint64_t no;           /* ix or run number those bytes hold */
	const unsigned char *k;
	size_t klen;
	uint64_t kp;           /* k's first 8 bytes, big-endian, 0-padded */
	uint64_t seq;
	uint32_t len;
	int live;
	size_t pi;             /* pending: position in pe */
	flmdb_block blk;       /* run: the block being read */
	unsigned bi;           /* run: position in blk */
} flmdb_src;

typedef struct flmdb_merge {
	flmdb_src *src;        /* src[0] newest ... src[n-1] oldest */
	size_t n;
	uint32_t *heap;        /* live sources by (id, source), hn of them */
	uint32_t *advl;        /* sources to move on at the next call */
	size_t hn, nadv;
	flmdb_pent *pe;        /* pending mappings in key order */
	char *pkeys;
	size_t pn;
} flmdb_merge;

/* Sources: pending mappings if `pending`, runs[from..] and `ids` if
 * `tree`; positioned at the first id >= after (all if alen is 0). */
int flmdb_merge_open(flmdb_txn *t, flmdb_mslot *sl, int pending,
		     size_t from, int tree, const unsigned char *after,
		     size_t alen, flmdb_merge *m);
/* Sources: runs[lo..hi) only, positioned as above. */
int flmdb_merge_open_runs(flmdb_txn *t, flmdb_mslot *sl, size_t lo,
			  size_t hi, const unsigned char *after, size_t alen,
			  flmdb_merge *m);
/* 0 with the next id, MDB_NOTFOUND at the end, or an LMDB error. */
int flmdb_merge_next(flmdb_merge *m, const unsigned char **id, size_t *idlen,
		     uint64_t *seq, uint32_t *len);
void flmdb_merge_close(flmdb_merge *m);

/* lmdb_index.c */
int flmdb_ix_create(fstore_txn *t, uint32_t ix, ferry_err *err);
int flmdb_ix_drop(fstore_txn *t, uint32_t ix, ferry_err *err);
int flmdb_ix_purge_step(fstore *s, size_t budget, int *more, ferry_err *err);
int flmdb_ix_stats(fstore_txn *t, uint32_t ix, fstore_stats *out);
int flmdb_purge_pending(fstore_txn *t);

#endif
