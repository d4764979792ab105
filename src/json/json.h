/*
 * json.h - ferry's own JSON: a strict validator, an arena DOM, a writer and
 * dotted paths. Internal to ferry (the public API never exposes it).
 *
 * Why not jansson or another library: document bodies must be validated at
 * more than 1 M docs/s and transformed during upgrades at more than 1 M
 * docs/s. jansson allocates one heap block per node and rewrites numbers
 * through doubles. We need zero-allocation validation that reports byte
 * offsets, and a DOM that lives in an arena (freed in one step per
 * document) and keeps every number lexeme exactly as written: jq rewrites
 * 14.0 as 14, an upgrade must not.
 *
 * Strictness (validation and parsing alike): RFC 8259, plus
 *  - strings must be valid UTF-8: overlong forms, UTF-8-encoded surrogates
 *    and bytes above F4 are rejected; so are lone \u surrogates and raw
 *    control characters below 0x20;
 *  - at most JSON_MAX_DEPTH nested arrays/objects;
 *  - duplicate keys in one object are rejected ("duplicate key"); keys are
 *    compared after unescaping, so "a" and "\u0061" are the same key;
 *  - only whitespace may follow the value.
 *
 * Lifetimes: every json_value, key and string built by json_parse(),
 * json_new_*() or json_clone() lives in the arena passed to it and dies at
 * json_arena_reset() / json_arena_free(). Nothing keeps a pointer into the
 * caller's input text. A tree must not contain cycles or shared subtrees
 * that are later modified through one parent only.
 */
#ifndef FERRY_JSON_H
#define FERRY_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Where and why a text is not valid JSON. `msg` is static, plain English
 * without a trailing period, e.g. "expected ':' after object key";
 * `offset` is the byte where the problem is (the input length when the
 * text ended too early). */
typedef struct json_error {
	size_t offset;
	const char *msg;
} json_error;

/* Arrays and objects nested deeper than this are rejected. */
#define JSON_MAX_DEPTH 512

/* ------------------------------------------------------------------ */
/* Validation (no DOM)                                                 */

/* Checks that s[0..n) is one JSON value (see strictness above). Does not
 * allocate, except for a key index while an object has more than 32
 * members or more than 128 keys are open at once; uses about 13 KB of
 * stack.
 * Returns 0, FERRY_EJSON with *e filled (e may be NULL), or FERRY_ENOMEM. */
int json_validate(const char *s, size_t n, json_error *e);

/* Like json_validate(), but the value must be an object, and in the same
 * pass finds the top-level member named `key` (plain UTF-8, NUL-terminated;
 * NULL to look for nothing): *val and *vlen get the raw text of its value (a
 * span of s, e.g. "\"abc\"" or "{...}"), or *val = NULL if absent. Members
 * of nested objects are never matched. val/vlen are set only on success. */
int json_validate_object(const char *s, size_t n, const char *key,
			 const char **val, size_t *vlen, json_error *e);

/* Decodes the raw JSON string token raw[0..n) (with its quotes) and
 * appends the UTF-8 text to `out` (not NUL-checked: may contain NUL).
 * FERRY_EJSON (nothing appended) if it is not exactly one valid string
 * token; FERRY_ENOMEM / FERRY_ELIMIT from the buffer. */
int json_unescape(const char *raw, size_t n, fbuf *out);

/* ------------------------------------------------------------------ */
/* Arena                                                               */

/* A bump allocator over big blocks. json_arena_reset() frees everything
 * allocated so far but keeps the first block for reuse, so parsing one
 * document after another does not call malloc in the steady state. */
typedef struct json_arena json_arena;

json_arena *json_arena_new(void); /* NULL if out of memory */
void json_arena_reset(json_arena *a);
void json_arena_free(json_arena *a); /* NULL is allowed */
/* n bytes aligned for any type; NULL if out of memory. */
void *json_arena_alloc(json_arena *a, size_t n);

/* ------------------------------------------------------------------ */
/* DOM                                                                 */

typedef enum json_type {
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
	JSON_RAW /* not yet parsed: see json_parse_lazy() */
} json_type;

typedef struct json_value json_value;

typedef struct json_member {
	const char *key; /* decoded UTF-8, NUL-terminated, may contain NUL */
	size_t klen;
	json_value *val;
} json_member;

struct json_value {
	json_type type;
	union {
		/* decoded UTF-8 (may contain NUL); s[len] is always NUL */
		struct { const char *s; size_t len; } str;
		/* the original lexeme, written back verbatim (not
		 * NUL-terminated) */
		struct { const char *text; size_t len; } num;
		struct { json_value **v; size_t n, cap; } arr;
		/* insertion order kept */
		struct { json_member *m; size_t n, cap; } obj;
		/* the text of one value, not decoded; `depth` is its deepest
		 * nesting of arrays and objects (0 for a scalar) */
		struct { const char *text; size_t len, depth; } raw;
	} u;
};

/* Parses s[0..n) into a tree in arena `a`. Same strictness, offsets and
 * messages as json_validate(). Returns 0 and *out, FERRY_EJSON with *e
 * filled (e may be NULL), or FERRY_ENOMEM. *out is set only on success. */
int json_parse(json_arena *a, const char *s, size_t n, json_value **out,
	       json_error *e);

/* Lazy parsing, for transforms that touch a few fields of a document and
 * copy the rest (lazy.c). json_parse_lazy() checks the top level of
 * s[0..n) and builds it: an object or array whose members are JSON_RAW
 * nodes, or a scalar. json_expand() does the same to one raw node in place
 * (a no-op on other nodes). Only the levels built are checked; the text
 * inside raw nodes is skipped by matching quotes and brackets, so s must
 * be a text that was validated before (a stored body). The tree points
 * into s: s must outlive it. Raw nodes are for json_write() (copied
 * verbatim), json_clone() (shares the text) and json_expand(); other
 * readers must expand a node before they look at it. The JSON_LAZY_PAD
 * bytes after s[n - 1] must be readable (what they hold does not matter):
 * the scan reads whole 64-byte blocks. Returns 0,
 * FERRY_EJSON with *e filled (offsets into s, or into the raw node's text
 * for json_expand()), or FERRY_ENOMEM. */
#define JSON_LAZY_PAD 64
int json_parse_lazy(json_arena *a, const char *s, size_t n, json_value **out,
		    json_error *e);
int json_expand(json_arena *a, json_value *v, json_error *e);

/* Appends compact JSON to `out`: no whitespace, numbers verbatim, strings
 * with only '"', '\\' and bytes below 0x20 escaped (\b \f \n \r \t, else
 * \u00XX), other UTF-8 written raw. FERRY_EINVAL if a string or key is not
 * valid UTF-8, FERRY_ELIMIT if nested deeper than JSON_MAX_DEPTH (so the
 * output always parses again), FERRY_ENOMEM / FERRY_ELIMIT from the
 * buffer. On error `out` is left as it was. Raw nodes go out as their
 * text, unchecked. */
int json_write(const json_value *v, fbuf *out);

/* Appends s[0..n), a JSON text, re-indented for people (Elasticsearch's
 * `?pretty`): two spaces a level, `"key" : value`, `{ }` / `[ ]` when
 * empty, then a newline; strings and numbers byte for byte. FERRY_EJSON
 * if s is not valid JSON; on any error `out` is left as it was. */
int json_pretty(const char *s, size_t n, fbuf *out);

/* The value of member `key` (klen bytes), or NULL if `obj` is not an
 * object or has no such member. Linear in the number of members. */
/* Reading records: the string member `k` of object `o` (NUL-terminated)
 * or `dflt`; the integer member `k` or `dflt`. `o` may be NULL. */
const char *json_str_member(const json_value *o, const char *k,
			    const char *dflt);
int64_t json_int_member(const json_value *o, const char *k, int64_t dflt);

json_value *json_get(const json_value *obj, const char *key, size_t klen);

/* Dotted paths: "a.b.c" names obj["a"]["b"]["c"]. A backslash makes the
 * next character literal, so "a\\.b" (C source) names the key "a.b" and
 * "a\\\\b" the key "a\\b". Segments may be empty ("" is the key ""). Only
 * objects are walked; a path through an array finds nothing. */
json_value *json_path_get(const json_value *root, const char *path);
/* Sets the value at `path`, creating missing intermediate objects, and
 * replacing an existing value in place. FERRY_EINVAL if root or an
 * existing intermediate is not an object or the path ends in a lone
 * backslash (nothing changed then); FERRY_ENOMEM. */
int json_path_set(json_arena *a, json_value *root, const char *path,
		  json_value *v);
/* Removes the member at `path` (order of the others kept) and hands its
 * value to *removed (removed may be NULL). FERRY_ENOTFOUND if absent. */
int json_path_remove(json_value *root, const char *path,
		     json_value **removed);

/* Constructors; all return NULL if out of memory. */
json_value *json_new_null(json_arena *a);
json_value *json_new_bool(json_arena *a, int b);
/* Copies s[0..len). */
json_value *json_new_string(json_arena *a, const char *s, size_t len);
/* Copies a number lexeme; NULL if it is not exactly a JSON number. */
json_value *json_new_number_text(json_arena *a, const char *text,
				 size_t len);
json_value *json_new_int(json_arena *a, int64_t i);
/* Shortest "%.{15,16,17}g" that reads back as the same double; NULL if
 * d is not finite. Assumes the C locale's decimal point. */
json_value *json_new_double(json_arena *a, double d);
/* That text of d (finite), NUL-terminated, and its length. */
#define JSON_DOUBLE_MAX 40
size_t json_double_text(double d, char buf[JSON_DOUBLE_MAX]);
json_value *json_new_array(json_arena *a);
json_value *json_new_object(json_arena *a);

/* Sets member `key` (copied into the arena) to v: replaces the value in
 * place if the key exists, else appends. FERRY_EINVAL if obj is not an
 * object or v is NULL; FERRY_ENOMEM. */
int json_obj_set(json_arena *a, json_value *obj, const char *key,
		 size_t klen, json_value *v);
/* Appends v. FERRY_EINVAL if arr is not an array or v is NULL. */
int json_arr_push(json_arena *a, json_value *arr, json_value *v);

/* Deep copy into `a`; NULL if out of memory. */
json_value *json_clone(json_arena *a, const json_value *v);

/* 1 if deeply equal, else 0. Numbers are equal if their lexemes are, or
 * if they read as the same finite double ("1.0" == "1" == "1e0"); object
 * member order is ignored. A raw node equals only a raw node of the same
 * text. */
int json_equal(const json_value *a, const json_value *b);

/* Reads a number as a double. FERRY_EINVAL if v is not a number or its
 * magnitude overflows a double. */
int json_number_double(const json_value *v, double *out);
/* Reads a number whose value is exactly an integer in int64 range
 * ("14", "14.0", "1e5", "-0"); FERRY_EINVAL otherwise ("1.5", "1e19"). */
int json_number_int64(const json_value *v, int64_t *out);

#endif
