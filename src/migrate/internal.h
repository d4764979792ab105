/*
 * internal.h - what the files of src/migrate share and nothing else uses:
 * the loaded model (set, hop, index spec, op), the program's tracks, the
 * cursor over a validated JSON text that gives each value's byte offset
 * (json_parse keeps no positions, and load errors must say line:col), and
 * the entry points of each file:
 *   text.c    cursor, "file:line:col:" messages, small string helpers
 *   spec.c    one hop file -> fmig_hop (validation of every key)
 *   ops.c     the non-Lua ops on a document, compiled paths
 *   convert.c the convert op
 *   lua.c     the Lua sandbox and JSON <-> Lua conversion
 *   load.c    directory, file reading with its cap, checksums, the set
 *   plan.c    the chain of hops
 *   compose.c programs: composition and apply
 */
#ifndef FERRY_MIGRATE_INTERNAL_H
#define FERRY_MIGRATE_INTERNAL_H

#include <stddef.h>

#include "core/buf.h"
#include "core/version.h"
#include "json/json.h"
#include "migrate/migrate.h"

/* ------------------------------------------------------------------ */
/* The model                                                           */

typedef enum fmig_opkind {
	FMIG_RENAME,
	FMIG_SET,
	FMIG_REMOVE,
	FMIG_DEFAULT,
	FMIG_COPY,
	FMIG_CONVERT,
	FMIG_LUA,
	FMIG_OPKIND_COUNT
} fmig_opkind;

typedef enum fmig_conv {
	FMIG_TO_STRING,
	FMIG_TO_INTEGER,
	FMIG_TO_FLOAT,
	FMIG_TO_BOOLEAN,
	FMIG_CONV_COUNT
} fmig_conv;

/* "rename", ... and "string", ...; "a string", "null"...: static
 * strings for messages. */
const char *fmig_type_name(json_type t);
const char *fmig_opname(fmig_opkind k);
const char *fmig_convname(fmig_conv c);

/* A dotted path cut into its keys once, when loading (the ops walk
 * paths for every document; re-reading "a.b\.c" each time costs). */
typedef struct fmig_seg {
	const char *k; /* decoded key */
	size_t len;
} fmig_seg;

typedef struct fmig_path {
	fmig_seg *seg;
	size_t n; /* >= 1 */
} fmig_path;

typedef struct fmig_op {
	fmig_opkind kind;
	const char *a;           /* field (set/remove/default/convert), from */
	const char *b;           /* to (rename/copy); NULL otherwise */
	fmig_path pa, pb;        /* a and b cut into keys */
	int same;                /* rename/copy with a == b */
	const json_value *value; /* set/default */
	fmig_conv conv;          /* convert */
	const char *lua_src;     /* lua: the script text */
	size_t lua_len;
	const char *lua_chunk;   /* lua: chunk name ("@dir/x.lua", "=...") */
	/* "file:line:col: index 'profile' op 3 (convert)" for messages */
	const char *where;
	const char *at; /* "file:line:col" of the op */
} fmig_op;

typedef struct fmig_ispec {
	const char *name;
	fmig_op *ops;
	size_t nops;
	const char *rename_to; /* NULL if absent */
	int drop, create;
	const json_value *mappings; /* NULL if absent */
	const char *where;          /* "file:line:col" of its key */
} fmig_ispec;

typedef struct fmig_hop {
	fmig_hop_info info; /* first: the public view */
	fversion vfrom, vto;
	fmig_ispec *ix;
	size_t nix;
} fmig_hop;

struct fmig_set {
	json_arena *a; /* everything of the hops lives here */
	char *dir;
	fmig_hop **hops;
	size_t n, cap;
	int finished;
};

struct fmig_chain {
	const fmig_set *set;
	const fmig_hop **hops;
	size_t n;
};

/* ------------------------------------------------------------------ */
/* text.c: a cursor over a JSON text that json_validate() accepted     */

typedef struct fmig_src {
	const char *path; /* for messages: "dir/file.json" */
	const char *s;
	size_t n;
	json_arena *a; /* where decoded strings and parsed values go */
} fmig_src;

typedef struct fmig_tok {
	size_t off, len; /* the value's text */
	json_type type;  /* JSON_TRUE / JSON_FALSE for booleans */
} fmig_tok;

typedef struct fmig_mem {
	fmig_tok key;   /* the key's string token */
	const char *k;  /* decoded key, NUL-terminated (in src->a) */
	size_t klen;
	fmig_tok val;
} fmig_mem;

/* The value that starts at or after `off` (whitespace skipped). */
void fmig_tok_at(const fmig_src *src, size_t off, fmig_tok *t);
/* Iterate an object: `*pos = obj.off + 1` first; then each call gives
 * the next member and returns 1, or 0 at the end, or FERRY_ENOMEM (< 0
 * is never returned; codes are positive, so test `== 1`). */
int fmig_obj_next(const fmig_src *src, size_t *pos, fmig_mem *m);
/* The number of members of object t. */
size_t fmig_obj_count(const fmig_src *src, const fmig_tok *t);
/* Iterate an array the same way (`*pos = arr.off + 1`). Returns 1 or 0. */
int fmig_arr_next(const fmig_src *src, size_t *pos, fmig_tok *t);
/* The token as a DOM value in src->a (NULL if out of memory). */
json_value *fmig_tok_value(const fmig_src *src, const fmig_tok *t);
/* A string token decoded into src->a; NULL if out of memory. */
const char *fmig_tok_str(const fmig_src *src, const fmig_tok *t,
			 size_t *len);

/* 1-based line and column (UTF-8 characters) of byte `off` of s. */
void fmig_linecol(const char *s, size_t n, size_t off, size_t *line,
		  size_t *col);
/* ferry_err_set() with "path:line:col: " in front. */
int fmig_err_at(ferry_err *err, int code, const fmig_src *src, size_t off,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* "path:line:col" in src->a (NULL if out of memory). */
const char *fmig_where(const fmig_src *src, size_t off);
/* printf into the arena; NULL if out of memory. */
char *fmig_aprintf(json_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
char *fmig_strdup(json_arena *a, const char *s);
/* Writes up to `max` bytes of v as JSON into buf (n bytes), with "..."
 * when cut; for messages. */
void fmig_show(const json_value *v, char *buf, size_t n);
/* The closest of `names` to s if it is a likely typo (edit distance <= 2),
 * else NULL. */
const char *fmig_suggest(const char *s, const char *const *names,
			 size_t count);

/* ------------------------------------------------------------------ */
/* spec.c / load.c                                                     */

/* Validates one hop file `fname` (no directory part) with text[0..n)
 * into a hop in s->a. */
int fmig_hop_parse(fmig_set *s, const char *fname, const char *text,
		   size_t n, fmig_hop **out, ferry_err *err);
/* Reads a whole file of at most `max` bytes into out (cleared first).
 * FERRY_ENOTFOUND, FERRY_EIO, FERRY_ELIMIT, FERRY_ENOMEM; the message
 * starts with `path`. */
int fmig_read_file(const char *path, size_t max, fbuf *out, ferry_err *err);

/* ------------------------------------------------------------------ */
/* ops.c, convert.c                                                    */

/* Cuts a path that fmig_want_path accepted into keys in arena a.
 * FERRY_ENOMEM. */
int fmig_path_compile(json_arena *a, const char *path, fmig_path *out);
/* Like json_path_get / json_path_set / json_path_remove on a compiled
 * path, on trees from json_parse() or json_parse_lazy(): raw nodes on the
 * way are expanded in place, and so is the one get finds (one level), so
 * its type is its own. get: 0 and *out (NULL if absent). set: FERRY_EINVAL
 * if a value on the way is not an object (*bad then says how many keys
 * lead to it). remove: 0 and *removed (as it is, maybe raw), or
 * FERRY_ENOTFOUND. All: FERRY_EJSON if raw text on the way is not JSON,
 * FERRY_ENOMEM. */
int fmig_path_get(json_arena *a, json_value *root, const fmig_path *p,
		  json_value **out);
int fmig_path_set(json_arena *a, json_value *root, const fmig_path *p,
		  json_value *v, size_t *bad);
int fmig_path_remove(json_arena *a, json_value *root, const fmig_path *p,
		     json_value **removed);

/* Applies a non-Lua op to object `doc`. Messages start with op->where. */
int fmig_op_apply(const fmig_op *op, json_arena *a, json_value *doc,
		  ferry_err *err);
/* The convert op on the value *v (not NULL, not null): *v is replaced by
 * the converted value. On error: FERRY_EINVAL and a reason in why. */
int fmig_convert(json_arena *a, fmig_conv to, json_value **v, char *why,
		 size_t whylen);

/* ------------------------------------------------------------------ */
/* lua.c                                                               */

typedef struct fmig_lua fmig_lua;

/* Compiles (does not run) a script, for load-time syntax errors. */
int fmig_lua_check(const fmig_op *op, ferry_err *err);
/* A sandboxed state with the op's script loaded and transform found. */
int fmig_lua_new(const fmig_op *op, fmig_lua **out, ferry_err *err);
void fmig_lua_free(fmig_lua *l);
/* Runs transform on *doc; see fmig_program_apply. */
int fmig_lua_apply(fmig_lua *l, const fmig_op *op, json_arena *a,
		   json_value **doc, int *dropped, ferry_err *err);

#endif
