/*
 * migrate.h - migration programs (DESIGN.md "Migrations"): loading a
 * directory of hop files, planning the chain of hops between two data
 * versions, composing that chain into ONE program per source index, and
 * running documents through it. Internal to ferry; the upgrade engine,
 * the CLI and the server use it.
 *
 * Life cycle and ownership:
 *   fmig_dir_load()      -> fmig_set      (free with fmig_set_free)
 *   fmig_plan_chain(set) -> fmig_chain    (free with fmig_chain_free;
 *                                          borrows the set)
 *   fmig_compose(chain)  -> fmig_program  (free with fmig_program_free;
 *                                          borrows the set, not the chain)
 * A set must outlive every chain and program made from it. Every string
 * and json_value the info accessors return is owned by the set (or the
 * program for fmig_index_info) and valid until it is freed.
 *
 * Threads: a set and a chain are read-only after loading and may be shared.
 * A program holds one Lua state per Lua op and must be used by one thread
 * at a time; compose one program per worker thread.
 *
 * Errors: every function returns 0 or a FERRY_E* code and fills the
 * optional ferry_err. Load errors start with "file:line:col: " (columns
 * count UTF-8 characters, both 1-based) and say what was expected.
 * Per-document errors of fmig_program_apply() start with the op's origin,
 * "file:line:col: index 'profile' op 3 (convert): ", and give the reason;
 * the caller adds the document id.
 *
 * Semantics of the ops (dotted paths as in json_path_get: "a.b" is
 * doc["a"]["b"], "a\.b" is the key "a.b"; empty segments are refused when
 * loading):
 *   rename  {from,to}    moves the value; absent source: no-op; missing
 *                        intermediate objects are created; an existing
 *                        target is overwritten; from == to: no-op.
 *   set     {field,value}  sets (a copy of) value.
 *   remove  {field}      removes; absent: no-op.
 *   default {field,value}  sets when absent or null.
 *   copy    {from,to}    deep copy; absent source: no-op.
 *   convert {field,to}   to "string" | "integer" | "float" | "boolean";
 *                        absent or null: no-op. See fmig_convert below.
 *   lua     {file}|{code}  Lua 5.4 `transform(doc)` returns the new
 *                        document (a table) or nil to drop it.
 * A path through a value that is not an object (set "a.b" when "a" is a
 * string) is a per-document error.
 *
 * convert, exactly:
 *   integer: an integral number in int64 range ("4.0" -> 4, "1e3" ->
 *            1000); a string holding such a JSON number ("42" -> 42,
 *            "4.0" -> 4); true/false -> 1/0. "4.5", "abc", " 42",
 *            "9223372036854775808", objects and arrays: error.
 *   float:   a number keeps its lexeme if it already has a '.', 'e' or
 *            'E' ("7.0", "1e5"); an integer lexeme gets ".0" ("42" ->
 *            42.0) so stores that infer types see a float; a string
 *            holding a JSON number becomes that number (same rule);
 *            true/false -> 1.0/0.0; a string that is not a JSON number,
 *            a number that overflows a double, objects, arrays: error.
 *   boolean: true/false unchanged; "true"/"false" (exactly); a number
 *            equal to 1 or 0 ("1", "0", "1.0"); anything else: error.
 *   string:  strings unchanged; a number -> its JSON lexeme ("7.0" ->
 *            "7.0"); true/false -> "true"/"false"; objects, arrays:
 *            error.
 *
 * Lua sandbox (one lua_State per Lua op of a program, made by
 * fmig_compose): base library without dofile, loadfile, collectgarbage
 * and with print a no-op and load text-only; string (without dump),
 * table, math (seeded with 0), utf8; no io, os, require, package, debug.
 * A transform call that has used about 50 ms of CPU may run
 * FMIG_LUA_STEPS_MAX more VM instructions (lwatch.c: counting them from
 * the start would slow every call), and the state may hold
 * FMIG_LUA_MEM_MAX bytes; crossing either is a per-document
 * FERRY_ELIMIT error. Time spent inside one C library call
 * (a pathological string.find pattern) is not counted. Global variables
 * are frozen after the script's main chunk ran: assigning a new global in
 * transform is an error, so documents cannot leak state into each other
 * through globals (locals captured as upvalues still can; don't).
 * Documents as Lua values: objects are tables with string keys (metatable
 * json.object_mt), arrays are sequences (metatable json.array_mt), so an
 * empty array stays an array; integers are Lua integers, other numbers
 * floats; null is json.null (a light userdata). Tables a script builds
 * without those metatables become an array when they are a non-empty
 * sequence 1..n, else an object (then every key must be a string);
 * json.array(t) / json.object(t) mark a table (a new one if t is nil).
 * On the way back, members keep their original order (new keys follow,
 * sorted), and a number the script did not change keeps its lexeme, so
 * the result does not depend on Lua's table order. A script's own use of
 * pairs() does: its order changes from state to state (Lua seeds string
 * hashes at random); sort the keys when the output depends on them.
 */
#ifndef FERRY_MIGRATE_H
#define FERRY_MIGRATE_H

#include <stddef.h>

#include "ferry/ferry.h"
#include "json/json.h"

#define FMIG_FILE_MAX ((size_t)4 << 20)     /* bytes in a .json or .lua file */
#define FMIG_LUA_STEPS_MAX 10000000L        /* VM instructions per call */
#define FMIG_LUA_MEM_MAX ((size_t)64 << 20) /* bytes per Lua state */
#define FMIG_CHECKSUM_HEX 65                /* 64 hex digits + NUL */

typedef struct fmig_set fmig_set;
typedef struct fmig_chain fmig_chain;
typedef struct fmig_program fmig_program;

/* ------------------------------------------------------------------ */
/* Loading                                                             */

/* Loads every "{from}_to_{to}.json" of directory `dir` (names starting
 * with '.' and non-.json entries are skipped; any other .json name is an
 * error), validates it (see the file comment and DESIGN.md) and reads
 * the Lua files its ops name (paths relative to `dir`, no ".." and not
 * absolute). Refused: a file over FMIG_FILE_MAX bytes (FERRY_ELIMIT),
 * invalid JSON (FERRY_EJSON), an unknown key or a wrong type anywhere
 * (FERRY_EINVAL), a bad index name (FERRY_ENAME), a bad version, from ==
 * to, to older than from (so there are no cycles) (FERRY_EVERSION), two
 * files for the same hop (FERRY_EEXISTS), a Lua syntax error
 * (FERRY_EINVAL), an unreadable file (FERRY_EIO / FERRY_ENOTFOUND).
 * Stops at the first error. An empty directory gives an empty set. */
int fmig_dir_load(const char *dir, fmig_set **out, ferry_err *err);

/* The same from memory, for tests and fuzzers: fmig_set_new() makes an
 * empty set whose Lua files are looked up under `dir`; fmig_set_add()
 * validates one file's text under its file name (as fmig_dir_load does;
 * "0.7.2_to_0.8.0.json", no directory part); fmig_set_finish() sorts the
 * hops and checks for duplicate hops. Only a finished set can be planned.
 * After an error of add or finish the set must only be freed. */
int fmig_set_new(const char *dir, fmig_set **out, ferry_err *err);
int fmig_set_add(fmig_set *s, const char *fname, const char *text, size_t n,
		 ferry_err *err);
int fmig_set_finish(fmig_set *s, ferry_err *err);
void fmig_set_free(fmig_set *s); /* NULL is allowed */

typedef struct fmig_deprecation {
	const char *field;
	const char *removed_in; /* a version */
	const char *use;        /* "" if absent */
} fmig_deprecation;

/* What a hop file says, for plans, history and the web page. */
typedef struct fmig_hop_info {
	const char *from, *to; /* data versions as written in the file */
	const char *path;      /* "{dir}/{from}_to_{to}.json" */
	/* SHA-256 (lowercase hex) of the file with CRLF -> LF and trailing
	 * whitespace removed, so a re-saved file keeps its checksum. */
	const char *checksum;
	/* "" if the hop has no Lua file; else SHA-256 over "path\n checksum
	 * \n" of each Lua file it uses (each normalised like the JSON), in
	 * op order. The upgrade history must record it next to checksum, or a
	 * changed script would go unnoticed. */
	const char *lua_checksum;
	const char *description;     /* "" if absent */
	const char *const *breaking; /* nbreaking strings */
	size_t nbreaking;
	const fmig_deprecation *deprecations;
	size_t ndeprecations;
} fmig_hop_info;

/* Appends a hop as JSON: {"from","to","file","checksum","description",
 * "breaking":[..]}; "file" is the path, or its last part if file_base.
 * Used by the plan and by ferry_migration_list (mlist.c). */
int fmig_hop_json(const fmig_hop_info *h, int file_base, fbuf *out);

/* Hops ordered by from, then to. i < fmig_set_count(s). */
size_t fmig_set_count(const fmig_set *s);
const fmig_hop_info *fmig_set_hop(const fmig_set *s, size_t i);

/* The normalised checksum of any text (see checksum above): 64 hex
 * digits and a NUL into out. FERRY_ENOMEM. */
int fmig_checksum(const char *text, size_t n, char out[FMIG_CHECKSUM_HEX]);

/* ------------------------------------------------------------------ */
/* Planning and composing                                              */

/* Finds the chain of hops that leads from data version `from_dv` to
 * `to_dv` with the fewest hops (versions compare as in fversion_cmp, so
 * "0.8" is "0.8.0"). from == to gives an empty chain. Errors:
 * FERRY_EVERSION (bad version, or to older than from: use rollback),
 * FERRY_ENOTFOUND naming the gap, e.g. "no migration from 0.7.2 to
 * 0.8.0; known hops: 0.7.1->0.7.2, 0.8.0->0.8.1", FERRY_EINVAL if two
 * different shortest chains exist (remove one of the files). */
int fmig_plan_chain(const fmig_set *s, const char *from_dv,
		    const char *to_dv, fmig_chain **out, ferry_err *err);
void fmig_chain_free(fmig_chain *c); /* NULL is allowed */
size_t fmig_chain_count(const fmig_chain *c);
const fmig_hop_info *fmig_chain_hop(const fmig_chain *c, size_t i);

/* Composes chain `c` into one program for the source version's logical
 * indices `source_indices[0..n)`: for each, in that order, its name in
 * the target version (after every rename_to), whether a hop dropped it,
 * the concatenated ops and the mappings of the hops (later hops merged
 * over earlier ones: objects member by member, other values replaced).
 * Indices a hop does not name are carried over unchanged. Then, at
 * positions n.., the indices some hop created (with their later renames)
 * and that no later hop dropped. Lua states are created here (each runs
 * its script's main chunk). Errors (FERRY_EINVAL, message "file:line:col:
 * ..."): a hop names an index that does not exist at that point (a typo),
 * creates one that exists, or two indices end up with one name. */
int fmig_compose(const fmig_chain *c, const char *const *source_indices,
		 size_t n, fmig_program **out, ferry_err *err);
void fmig_program_free(fmig_program *p); /* NULL is allowed */

/* fmig_compose with flags. FMIG_ABSENT_OK: an index a hop names that is
 * neither a source nor was ever one (this deployment never had it, or a
 * typo) is tracked as an empty source instead of being an error;
 * fmig_program_absent() lists such names ("a, b") for the plan to warn
 * about. Naming an index after it was renamed or dropped stays an error. */
#define FMIG_ABSENT_OK 0x1
int fmig_compose_flags(const fmig_chain *c, const char *const *source_indices,
		       size_t n, unsigned flags, fmig_program **out,
		       ferry_err *err);
const char *fmig_program_absent(const fmig_program *p);

typedef struct fmig_index_info {
	const char *source; /* logical name at the source; NULL if created */
	const char *target; /* logical name at the target version */
	int dropped;        /* 1: not carried over; documents are skipped */
	int created;        /* 1: made empty by a hop */
	size_t nops;
	const json_value *mappings; /* merged mappings of the hops, or NULL */
} fmig_index_info;

/* Entries: n source indices first (dropped ones included, flagged), then
 * the created ones. i < fmig_program_count(p). */
size_t fmig_program_count(const fmig_program *p);
const fmig_index_info *fmig_program_index(const fmig_program *p, size_t i);

/* Runs *doc (an object in arena `a`) through the ops of entry
 * `index_no`, in order, modifying it in place; a Lua op may replace *doc
 * with a new tree in `a`. *dropped is set to 1 if a Lua op dropped the
 * document (later ops are not run) or the index is dropped, else 0.
 * Values set or copied are deep copies in `a`, so the program is never
 * shared with the document. On error the code (FERRY_EINVAL for a value
 * an op cannot handle or a Lua error, FERRY_ELIMIT for a Lua limit,
 * FERRY_ENOMEM) and a message naming the op and the reason; *doc is then
 * valid JSON but partly transformed, and *dropped is 0. */
int fmig_program_apply(fmig_program *p, size_t index_no, json_arena *a,
		       json_value **doc, int *dropped, ferry_err *err);

/* Merges object `over` into object `base` (both in `a`, base modified):
 * members that are objects on both sides merge recursively, others are
 * replaced by a copy. The rule fmig_compose uses for mappings, exposed so
 * the caller can merge the program's mappings over the source index's.
 * FERRY_EINVAL if either is not an object; FERRY_ENOMEM. */
int fmig_json_merge(json_arena *a, json_value *base, const json_value *over);

#endif
