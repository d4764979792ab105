/*
 * luajson.h - JSON <-> Lua values for the lua op (luajson.c), shared with
 * the sandbox (lua.c) only. Both directions run inside a protected call
 * (lua_pcall): they raise Lua errors (luaL_error) on bad values and out
 * of memory, and allocate only in the Lua state and the JSON arena, so an
 * error leaks nothing.
 */
#ifndef FERRY_MIGRATE_LUAJSON_H
#define FERRY_MIGRATE_LUAJSON_H

#include <lua.h>

#include "json/json.h"

#define FMIG_LUA_ARRAY_MT "ferry.json.array"
#define FMIG_LUA_OBJECT_MT "ferry.json.object"
#define FMIG_LUA_LAZY_MT "ferry.json.lazy"

/* What the conversions keep in a Lua state: registry references (fixed
 * integer slots, fast to fetch) of the three metatables and of the anchor
 * array; the arena of the document being converted (NULL between
 * documents); and the document's lazy tables, each mapped by its address
 * to what it was made from (`map`, open addressing, in that arena, so it
 * goes with the document) and anchored in the anchor array until the
 * document ends, so no table is collected and its address reused by
 * another while the map knows it. The state's extra space
 * (lua_getextraspace) holds a void pointer to it, or to the struct it is
 * the first member of. */
struct fmig_oslot;
typedef struct fmig_lctx {
	json_arena *a;
	int amt, omt, lmt, anchor;
	struct fmig_oslot *map;
	size_t mcap, mn; /* slots, tables mapped (= anchored) */
} fmig_lctx;

/* Where a conversion to Lua puts things: the arena that raw nodes expand
 * in, and the stack indices of the metatables (in the frame of the C
 * function that runs it; fmig_lua_frame pushes them). */
typedef struct fmig_lframe {
	json_arena *a;
	int amt, omt, lmt;
} fmig_lframe;

typedef struct fmig_lconv {
	fmig_lframe f; /* f.a: where converted-back values go too */
	/* where in the document (for messages), written out only when
	 * needed: key (k, len) or array position (k NULL, len = index) */
	struct { const char *k; size_t len; } at[JSON_MAX_DEPTH + 2];
	size_t depth;
	char path[160]; /* the text, made by an error */
} fmig_lconv;

/* After the json library's metatables exist (FMIG_LUA_ARRAY_MT,
 * FMIG_LUA_OBJECT_MT) and before the first document: registers
 * FMIG_LUA_LAZY_MT (`next` is the real next, for __pairs) and fills
 * *cx, which the extra space must point at. */
void fmig_lua_json_init(lua_State *L, fmig_lctx *cx);
/* A document's conversion begins (with its arena; an empty map, so the
 * tables of earlier documents are unknown) and ends (its tables are no
 * longer anchored). */
void fmig_lua_doc_begin(lua_State *L, json_arena *a);
void fmig_lua_doc_end(lua_State *L);
/* Pushes the metatables (3 values) and fills *f. */
void fmig_lua_frame(lua_State *L, fmig_lframe *f);

/* Pushes v: integers as integers, other numbers as floats, null as
 * json.null (the NULL light userdata), an object or array as an empty
 * *lazy* table (metatable FMIG_LUA_LAZY_MT) recorded in the map.
 *
 * A lazy object fetches a member, as a scalar or another lazy table, the
 * first time the script reads or writes it (__index, __newindex); a lazy
 * array fills itself, one level, the first time it is used. Whatever
 * needs a whole table (__len, __pairs, the sandbox's next, rawget,
 * rawset, rawlen, getmetatable, setmetatable, json.array and
 * json.object) fills it first (fmig_lua_touch) and it becomes a plain
 * marked table. A script reads a few fields of a document; converting
 * all of it both ways was most of the lua op's time. On the way back an
 * unused table, or the unused members of an object, go back as their
 * json_values, untouched. Runs between fmig_lua_doc_begin and _end. */
void fmig_lua_push(lua_State *L, const fmig_lconv *x, const json_value *v);

/* Fills the table at idx if it is lazy (a no-op for other values). */
void fmig_lua_touch(lua_State *L, int idx);
/* A C closure body: calls upvalue 1 with the same arguments after
 * fmig_lua_touch() on the first; for wrapping next, rawget, .... */
int fmig_lua_touch_call(lua_State *L);

/* The value at stack index idx (absolute) as JSON in x->a. Tables made
 * from the document keep its member order and number lexemes, and hand
 * its nodes over instead of copying them: the document pushed is
 * consumed (its nodes become the result's; it must not be used after).
 * Raises a Lua error naming x->path for a value JSON cannot hold. */
json_value *fmig_lua_pull(lua_State *L, fmig_lconv *x, int idx);

#endif
