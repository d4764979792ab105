/*
 * snapshot.h - internals of snapshots (docs/snapshot-format.md is the
 * format; include/ferry/ferry.h "Snapshots" the public API).
 *
 * A repository is a directory:
 *
 *   config.json                 {"format":1,"chunk_size":..,"zstd_level":..}
 *   snapshots/<name>.json       manifests (self-checksummed)
 *   chunks/<2 hex>/<sha256>     zstd frames of records, named by the
 *                               SHA-256 of their uncompressed content
 *   locks/<host>.<pid>.<n>.json one per running create (shared)
 *   lock                        the exclusive writer lock (delete, and a
 *                               create while it commits its manifest)
 *   trash/<sha256>              chunks a running delete set aside
 *
 * Files of this module:
 *   fsutil.c    crash-safe writes (temp -> fsync -> rename -> fsync dir),
 *               capped reads, hex, SHA-256, names
 *   repo.c      repositories: resolve, config, probe, locks; the
 *               ferry_snaprepo_* API
 *   chunk.c     records, the content-defined chunker, chunk files
 *   pool.c      worker threads that hash, compress and write chunks (or
 *               read, decompress and check them) while the caller reads
 *               or writes LMDB
 *   manifest.c  the manifest: struct, writer, checksum, strict parser
 *   create.c    ferry_snapshot_create
 *   restore.c   ferry_snapshot_restore
 *   admin.c     list, show, delete (with garbage collection), verify
 */
#ifndef FERRY_SNAPSHOT_H
#define FERRY_SNAPSHOT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "ferry/ferry.h"
#include "json/json.h"

#define FSNAP_FORMAT 2                  /* written; 1 is read and kept */
#define FSNAP_PATH (PATH_MAX + 512)      /* any path inside a repository */
#define FSNAP_NAME_MAX FERRY_SNAPSHOT_NAME_MAX
#define FSNAP_CHUNK_DEFAULT (4u << 20)   /* target (average) chunk size */
#define FSNAP_CHUNK_DELTA (1u << 20)     /* at most this in deltas */
#define FSNAP_CHUNK_LOW (4u << 10)       /* smallest target accepted */
#define FSNAP_CHUNK_HIGH (64u << 20)     /* largest target accepted */
#define FSNAP_ZSTD_DEFAULT 1
#define FSNAP_MANIFEST_MAX (256u << 20)  /* bytes of one manifest file */
#define FSNAP_CONFIG_MAX (64u << 10)
#define FSNAP_REC_HDR 7                  /* type(1) idlen(2) bodylen(4) */
#define FSNAP_REC_MIN 5                  /* the smallest record (format 2) */
#define FSNAP_DELTA_MAX 32               /* deltas on one base */
#define FSNAP_LOCK_STALE_MS (10 * 60 * 1000) /* silent lock of another host */
#define FSNAP_LOCK_REFRESH_MS (30 * 1000)

/* Catalog keys this module owns. */
#define FSNAP_KEY_REPO "snaprepo/"            /* + name: {"path","created_ms"} */
#define FSNAP_KEY_DEPLOYMENT "snapshot/deployment" /* random id, hex */
#define FSNAP_KEY_RESTORE "snapshot/restore/" /* + physical: restore marker */
#define FSNAP_KEY_RESTORE_ALL "snapshot/restore-all"

/* ------------------------------------------------------------------ */
/* fsutil.c                                                            */

/* Writes `len` bytes as dir/name crash-safely: a temp file in dir,
 * fsync, rename (or link with FSNAP_W_NOREPLACE: FERRY_EEXISTS if
 * dir/name exists), fsync dir (not with FSNAP_W_NODIRSYNC: the caller
 * fsyncs dir before anything durable refers to the name). Nothing is
 * left behind on error. */
#define FSNAP_W_NOREPLACE 1u
#define FSNAP_W_NODIRSYNC 2u
int fsnap_write_atomic(const char *dir, const char *name, const void *data,
		       size_t len, unsigned flags, ferry_err *err);
/* fsyncs a directory; 0 or an errno. */
int fsnap_fsync_dir(const char *dir);
/* fsyncs the chunks/xx directories of repository r whose bit xx is set
 * in `dirs` (a missing one is skipped). */
struct fsnap_repo;
int fsnap_fsync_chunkdirs(const struct fsnap_repo *r, const uint64_t dirs[4],
			  ferry_err *err);
/* Reads a whole file of at most `max` bytes into `out` (cleared first).
 * FERRY_ENOTFOUND if it does not exist, FERRY_ELIMIT if larger, else
 * FERRY_EIO; the message names the path. */
int fsnap_read_file(const char *path, size_t max, fbuf *out,
		    ferry_err *err);
/* Creates dir if missing; 0 or an errno. */
int fsnap_mkdir(const char *dir);

void fsnap_hex(const unsigned char *in, size_t n, char *out);
/* Decodes 2n lowercase hex digits; 0, or -1 if any is not [0-9a-f]. */
int fsnap_unhex(const char *s, size_t n, unsigned char *out);
void fsnap_sha256(const void *p, size_t n, unsigned char out[32]);
/* Snapshot names: 1..FSNAP_NAME_MAX of [a-z0-9._-], starting with
 * [a-z0-9]. FERRY_ENAME with a message otherwise. */
int fsnap_check_name(const char *name, ferry_err *err);
int64_t fsnap_now_ms(void);
/* Host name for lock files (never empty). */
void fsnap_host(char out[128]);

/* ------------------------------------------------------------------ */
/* repo.c                                                              */

typedef struct fsnap_repo {
	char path[PATH_MAX];   /* absolute, no trailing slash */
	char label[PATH_MAX + 80]; /* as the user named it, for messages */
	unsigned format;
	size_t chunk_size;     /* target average chunk size */
	int zstd_level;
	int locked;            /* holds `lock` */
	char create_lock[FSNAP_PATH]; /* our file in locks/, or "" */
	int64_t create_started_ms;
	int64_t lock_refreshed_ms;
} fsnap_repo;

/* Resolves `repo`: a registered name (catalog "snaprepo/<name>"; needs
 * db) or a path (anything containing '/'; db may be NULL). Reads and
 * checks config.json: FERRY_EVERSION for a newer format, FERRY_ECORRUPT
 * for a damaged one, FERRY_ENOTFOUND for a missing repository. */
int fsnap_repo_open(ferry_db *db, const char *repo, fsnap_repo *out,
		    ferry_err *err);
void fsnap_repo_close(fsnap_repo *r); /* drops locks still held */

void fsnap_path_chunk(const fsnap_repo *r, const unsigned char sha[32],
		      char *out, size_t n);
void fsnap_path_chunkdir(const fsnap_repo *r, const unsigned char sha[32],
			 char *out, size_t n);
/* "snapshots/<name>.json" relative, for messages and files. */
void fsnap_path_manifest(const fsnap_repo *r, const char *name, char *out,
			 size_t n);

/* How long writers wait for the exclusive lock: FERRY_SNAPSHOT_LOCK_WAIT
 * (seconds), default 60. */
int fsnap_lock_wait_ms(void);
/* The exclusive writer lock. Waits up to wait_ms for a live holder;
 * breaks a lock whose holder is dead (same host) or silent for
 * FSNAP_LOCK_STALE_MS (another host). FERRY_EBUSY naming the holder. */
int fsnap_lock_take(fsnap_repo *r, const char *op, const char *snapshot,
		    int wait_ms, ferry_err *err);
void fsnap_lock_drop(fsnap_repo *r);
/* When the lock was taken (the lock file's mtime, in the file system's
 * clock), in ms. */
int64_t fsnap_lock_started(const fsnap_repo *r);
/* Touches our lock files at most every FSNAP_LOCK_REFRESH_MS. */
void fsnap_lock_refresh(fsnap_repo *r);

/* Registers a running create in locks/ (its start time is the file's
 * mtime, so it shares the clock of the chunk files' mtimes). */
int fsnap_inprogress_add(fsnap_repo *r, const char *snapshot,
			 ferry_err *err);
void fsnap_inprogress_drop(fsnap_repo *r);
/* Oldest start (ms) of the running creates, INT64_MAX if none; removes
 * the files of dead ones. */
int64_t fsnap_inprogress_oldest(fsnap_repo *r);
/* Moves chunks a killed delete left in trash/ back to chunks/ (call with
 * the exclusive lock held). */
void fsnap_trash_recover(fsnap_repo *r);

/* ------------------------------------------------------------------ */
/* chunk.c                                                             */

/* On-disk record types. 'O' and 'E' (format 2) are documents whose
 * length is that of their JSON object; 'E' leaves out the body's leading
 * {"id":"<id>" (docs/snapshot-format.md, "Records"). */
enum { FSNAP_REC_DOC = 'D', FSNAP_REC_TOMB = 'T', FSNAP_REC_OBJ = 'O',
       FSNAP_REC_IDOBJ = 'E' };

/* A record as read: type is FSNAP_REC_DOC or FSNAP_REC_TOMB whatever
 * its encoding. If `elided`, the document's body is {"id":"<id>"
 * followed by body[0..body_len): use fsnap_rec_body() or
 * fsnap_rec_body_eq() rather than body directly. */
typedef struct fsnap_rec {
	int type;
	int elided;
	const char *id;
	size_t idlen;
	const char *body;
	size_t body_len;
} fsnap_rec;

/* The whole body of a document record: a pointer into the chunk, or
 * into tmp when part of it was left out. NULL if out of memory. */
const char *fsnap_rec_body(const fsnap_rec *r, fbuf *tmp, size_t *len);
/* 1 if the record's whole body is body[0..len). */
int fsnap_rec_body_eq(const fsnap_rec *r, const char *body, size_t len);

/* Orders ids as the LMDB backend's scans return them (memcmp of the key,
 * shorter first; ids over 507 bytes keyed by a prefix, a NUL and 16 bytes
 * of their SHA-256). A merge that relies on it must check that both of
 * its inputs ascend under it, and fall back if they do not. */
int fsnap_id_cmp(const char *a, size_t an, const char *b, size_t bn);

/* Reads the record at p[*off..n): 0 and *off advanced, FERRY_EOF at the
 * end, FERRY_ECORRUPT if malformed. */
int fsnap_rec_next(const unsigned char *p, size_t n, size_t *off,
		   fsnap_rec *out);

/* Content-defined chunking at record boundaries: a gear hash runs over
 * the record bytes; after `min` bytes the first position where its top
 * bits are zero ends the chunk at the end of that record. A chunk never
 * grows past `max` unless one record is larger. Boundaries depend only
 * on nearby content, so an insert does not move later boundaries. */
typedef struct fsnap_chunker {
	size_t min, max;
	unsigned bits;
	uint64_t h;
	int cut;                 /* the chunk ends after the current record */
	int compact;             /* format 2 records ('O', 'E') allowed */
	unsigned char *buf;
	size_t len, cap;
	uint64_t recs, docs, tombs;
} fsnap_chunker;

/* format: the repository's; from 2 on documents take the compact
 * record types. */
void fsnap_chunker_init(fsnap_chunker *c, size_t avg, unsigned format);
/* Sets the target size for the chunks that follow (between chunks). */
void fsnap_chunker_size(fsnap_chunker *c, size_t avg);
void fsnap_chunker_release(fsnap_chunker *c);
/* 1 if the record would not fit: emit the chunk before adding it. */
int fsnap_chunker_full(const fsnap_chunker *c, size_t idlen, size_t blen);
/* Appends a record; afterwards c->cut says whether to emit the chunk. */
int fsnap_chunker_add(fsnap_chunker *c, int type, const char *id,
		      size_t idlen, const char *body, size_t blen);
/* Hands the buffer to the caller (malloc'd) and starts a new chunk. */
unsigned char *fsnap_chunker_take(fsnap_chunker *c, size_t *len,
				  uint64_t *recs);

/* A chunk's decoded content, checked against its reference. */
typedef struct fsnap_chunk_ref {
	unsigned char sha[32];
	uint64_t size;   /* raw bytes */
	uint64_t stored; /* bytes of the chunk file */
	uint64_t recs;   /* records */
} fsnap_chunk_ref;

/* Stores a raw chunk unless it exists (then touches it, so that a
 * running delete keeps it). `zc` is a ZSTD_CCtx* (worker-owned) and `tmp`
 * a scratch buffer. Fills sha/stored; *is_new is 1 if written. */
int fsnap_chunk_store(const fsnap_repo *r, void *zc, fbuf *tmp,
		      const unsigned char *raw, size_t len,
		      fsnap_chunk_ref *ref, int *is_new, ferry_err *err);
/* Reads, decompresses and checks a chunk: size, SHA-256, record
 * structure and count. `out` receives the raw records. `zd` is a
 * ZSTD_DCtx*. FERRY_ECORRUPT / FERRY_ENOTFOUND with a message naming the
 * chunk file and what is wrong. */
int fsnap_chunk_load(const fsnap_repo *r, void *zd, fbuf *file,
		     const fsnap_chunk_ref *ref, fbuf *out, ferry_err *err);
/* Touches an existing chunk; 0, or FERRY_ENOTFOUND if it is gone. */
int fsnap_chunk_touch(const fsnap_repo *r, const unsigned char sha[32]);

/* ------------------------------------------------------------------ */
/* pool.c                                                              */

/* Jobs run on worker threads and come back in submission order. */
typedef struct fsnap_pool fsnap_pool;
typedef void (*fsnap_work_fn)(void *ctx, unsigned worker, void *job);

int fsnap_pool_new(unsigned workers, unsigned depth, fsnap_work_fn fn,
		   void *ctx, fsnap_pool **out);
/* 1 if `depth` jobs are under way (take one before submitting more). */
int fsnap_pool_full(const fsnap_pool *p);
size_t fsnap_pool_pending(const fsnap_pool *p);
void fsnap_pool_submit(fsnap_pool *p, void *job); /* never blocks */
/* The oldest job once it is done (blocks), NULL if none is pending. */
void *fsnap_pool_take(fsnap_pool *p);
/* Waits for every job (the caller must take them first) and frees. */
void fsnap_pool_free(fsnap_pool *p);
unsigned fsnap_ncpu(void);

/* Loaders: a pool whose jobs read, decompress and check chunks
 * (fsnap_chunk_load) for restore and verify. */
typedef struct fsnap_load_job {
	fsnap_chunk_ref ref;
	size_t tag;        /* the caller's: which index or entry */
	fbuf raw;          /* the records, if rc == 0 */
	int rc;
	ferry_err err;
} fsnap_load_job;

typedef struct fsnap_loader fsnap_loader;

int fsnap_loader_new(const fsnap_repo *r, fsnap_loader **out);
int fsnap_loader_full(const fsnap_loader *l);
size_t fsnap_loader_pending(const fsnap_loader *l);
/* Queues a copy of ref; never blocks (check fsnap_loader_full first). */
int fsnap_loader_submit(fsnap_loader *l, const fsnap_chunk_ref *ref,
			size_t tag);
/* The oldest job once loaded, NULL if none; free with
 * fsnap_load_job_free. */
fsnap_load_job *fsnap_loader_take(fsnap_loader *l);
void fsnap_load_job_free(fsnap_load_job *j);
void fsnap_loader_free(fsnap_loader *l); /* takes and frees what is left */

/* ------------------------------------------------------------------ */
/* manifest.c                                                          */

enum { FSNAP_BASE = 0, FSNAP_DELTA = 1 };

typedef struct fsnap_part {
	int kind;
	uint64_t since;  /* delta: changes after this seq (base: 0) */
	uint64_t seq;    /* state as of this seq */
	uint64_t docs, tombs, bytes; /* records and their raw bytes */
	fsnap_chunk_ref *chunks;
	size_t nchunks, cap;
} fsnap_part;

typedef struct fsnap_index {
	char name[FERRY_NAME_MAX + 1];
	char alias[FERRY_NAME_MAX + 1];
	char tenant[FERRY_PART_MAX + 1];
	char index[FERRY_PART_MAX + 1];
	char version[64];
	uint32_t ix;
	int64_t created_ms;
	uint64_t seq;    /* high-water mark: highest seq included */
	uint64_t docs;   /* live documents */
	uint64_t bytes;  /* their body bytes */
	json_value *body; /* create-index body, or NULL */
	fsnap_part *parts; /* parts[0] is the base, then deltas in order */
	size_t nparts;
} fsnap_index;

typedef struct fsnap_stats {
	uint64_t docs, bytes, chunks, stored, new_chunks, new_bytes;
	int64_t took_ms;
} fsnap_stats;

typedef struct fsnap_manifest {
	json_arena *a;          /* catalog values, bodies, pattern */
	unsigned format;
	char name[FSNAP_NAME_MAX + 1];
	char deployment[33];
	char ferry[32];         /* FERRY_VERSION_STRING of the writer */
	const char *pattern;    /* as given ("*" for all) */
	int64_t started_ms, finished_ms;
	/* catalog state: objects keyed like the catalog without prefix */
	json_value *settings;   /* the settings record */
	json_value *versions;   /* data version -> version record */
	json_value *tenants;    /* tenant -> record */
	json_value *aliases;    /* alias -> physical name (string) */
	json_value *applied;    /* hop file -> checksums (string) */
	json_value *repos;      /* repository name -> record */
	fsnap_index *ix;
	size_t nix;
	fsnap_stats stats;
} fsnap_manifest;

/* An empty manifest with its arena and empty catalog objects. */
int fsnap_manifest_new(fsnap_manifest **out);
void fsnap_manifest_free(fsnap_manifest *m); /* NULL is allowed */
/* Appends a chunk reference to a part. */
int fsnap_part_add(fsnap_part *p, const fsnap_chunk_ref *c);
/* The text of the manifest, its checksum member last (see the format
 * doc). FERRY_ENOMEM / FERRY_ELIMIT / FERRY_EINVAL. */
int fsnap_manifest_write(const fsnap_manifest *m, fbuf *out);

#define FSNAP_PARSE_NOCHECK 0x1 /* skip the checksum (fuzzing only) */
/* Parses and checks a manifest text: checksum, format (FERRY_EVERSION
 * if newer), every member's type and range, chunk and part consistency.
 * FERRY_ECORRUPT with a message ("truncated", "checksum mismatch", what
 * member) otherwise. `what` names the file in messages. */
int fsnap_manifest_parse(const char *text, size_t len, unsigned flags,
			 const char *what, fsnap_manifest **out,
			 ferry_err *err);
/* Reads snapshots/<name>.json of r. FERRY_ENOTFOUND if absent. */
int fsnap_manifest_load(const fsnap_repo *r, const char *name,
			fsnap_manifest **out, ferry_err *err);
/* Names of the manifests in snapshots/ (without ".json"), sorted; free
 * with ferry_strv_free. */
int fsnap_manifest_names(const fsnap_repo *r, char ***out, size_t *n,
			 ferry_err *err);
/* Summary of a manifest for ferry_snapshot_info. */
void fsnap_manifest_info(const fsnap_manifest *m, ferry_snapshot_info *out);

#endif
