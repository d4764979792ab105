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

typedef struct fmig_lconv {
	json_arena *a; /* where converted-back values go */
	int amt, omt;  /* stack indices of the array and object metatables */
	int orig;      /* stack index of a table: Lua table -> its json_value */
	/* where in the document (for messages), written out only when
	 * needed: key (k, len) or array position (k NULL, len = index) */
	struct { const char *k; size_t len; } at[JSON_MAX_DEPTH + 2];
	size_t depth;
	char path[160]; /* the text, made by an error */
} fmig_lconv;

/* Pushes v: objects and arrays as tables marked with the metatables,
 * integers as integers, other numbers as floats, null as json.null (the
 * NULL light userdata). Each table is recorded in x->orig. */
void fmig_lua_push(lua_State *L, fmig_lconv *x, const json_value *v,
		   int depth);

/* The value at stack index idx (absolute) as JSON in x->a. `orig` is the
 * value it came from, if known (keeps member order and number lexemes).
 * Raises a Lua error naming x->path for a value JSON cannot hold. */
json_value *fmig_lua_pull(lua_State *L, fmig_lconv *x, int idx,
			  const json_value *orig, int depth);

#endif
