/*
 * lua.c - the lua op: a sandboxed Lua 5.4 state per op of a program, with
 * the script's transform(doc) loaded once, and one call per document.
 * The sandbox (see migrate.h) keeps scripts away from files, processes and
 * the debug library; an instruction hook (set by the watch, lwatch.c,
 * once a call runs long) and a counting allocator (lalloc.c) turn a
 * runaway script into a per-document error instead of a hang or an OOM.
 * Every step that can raise a Lua error runs under lua_pcall, so nothing
 * ever reaches the panic handler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "core/err.h"
#include "migrate/internal.h"
#include "migrate/lalloc.h"
#include "migrate/luajson.h"
#include "migrate/lwatch.h"

#define FMIG_HOOK_EVERY 1000 /* instructions between hook calls */

struct fmig_lua {
	fmig_lctx cx;    /* first: the extra space points at both */
	lua_State *L;
	fmig_lalloc al;  /* the state's memory, and its limit */
	long steps;      /* instructions run in the current call */
	int steps_hit;   /* the hook stopped the script */
	int fn;          /* registry reference of transform */
	const fmig_op *op;
};

/* What one protected step works on. */
typedef struct fmig_run {
	fmig_lua *l;
	json_arena *a;
	json_value *in, *out;
	int dropped;
} fmig_run;

static fmig_lua *fmig_self(lua_State *L)
{
	return *(void **)lua_getextraspace(L);
}

static void fmig_lua_hook(lua_State *L, lua_Debug *ar)
{
	fmig_lua *l = fmig_self(L);
	(void)ar;
	l->steps += FMIG_HOOK_EVERY;
	if (l->steps > FMIG_LUA_STEPS_MAX || l->al.hit) {
		l->steps_hit |= !l->al.hit;
		luaL_error(L, "limit reached");
	}
}

/* ------------------------------------------------------------------ */
/* The sandbox                                                         */

static int fmig_lua_noop(lua_State *L)
{
	(void)L;
	return 0;
}

/* load(chunk [, name [, mode [, env]]]): text chunks only. */
static int fmig_lua_load(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	const char *name = luaL_optstring(L, 2, "=(load)");
	int has_env = !lua_isnone(L, 4);
	if (luaL_loadbufferx(L, s, len, name, "t") != LUA_OK) {
		lua_pushnil(L);
		lua_insert(L, -2);
		return 2;
	}
	if (has_env) {
		lua_pushvalue(L, 4);
		if (!lua_setupvalue(L, -2, 1))
			lua_pop(L, 1);
	}
	return 1;
}

/* pcall/xpcall that cannot swallow a limit: once the hook or the
 * allocator stopped the script, the error goes on up. */
static int fmig_lua_pcall(lua_State *L)
{
	fmig_lua *l = fmig_self(L);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	if (l->steps_hit || l->al.hit)
		return luaL_error(L, "limit reached");
	return lua_gettop(L);
}

static int fmig_lua_newindex(lua_State *L)
{
	return luaL_error(L, "assignment to global '%s' in transform; "
			  "documents must not share state: use a local",
			  lua_tostring(L, 2) ? lua_tostring(L, 2) : "?");
}

/* json.array(t) / json.object(t): marks t (a new table if nil). */
static int fmig_lua_mark(lua_State *L)
{
	if (lua_isnoneornil(L, 1)) {
		lua_settop(L, 0);
		lua_newtable(L);
	}
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	fmig_lua_touch(L, 1); /* a lazy table is filled before it is marked */
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_setmetatable(L, 1);
	return 1;
}

static void fmig_wrap_global(lua_State *L, const char *name, lua_CFunction f)
{
	lua_getglobal(L, name);
	lua_pushcclosure(L, f, 1);
	lua_setglobal(L, name);
}

/* The json table: null, array, object, array_mt, object_mt. */
static void fmig_lua_json_lib(lua_State *L)
{
	lua_createtable(L, 0, 5);
	lua_pushlightuserdata(L, NULL);
	lua_setfield(L, -2, "null");
	luaL_newmetatable(L, FMIG_LUA_ARRAY_MT);
	lua_pushvalue(L, -1);
	lua_setfield(L, -3, "array_mt");
	lua_pushcclosure(L, fmig_lua_mark, 1);
	lua_setfield(L, -2, "array");
	luaL_newmetatable(L, FMIG_LUA_OBJECT_MT);
	lua_pushvalue(L, -1);
	lua_setfield(L, -3, "object_mt");
	lua_pushcclosure(L, fmig_lua_mark, 1);
	lua_setfield(L, -2, "object");
	lua_setglobal(L, "json");
}

static void fmig_lua_libs(lua_State *L)
{
	static const luaL_Reg libs[] = {
		{LUA_GNAME, luaopen_base},      {LUA_STRLIBNAME, luaopen_string},
		{LUA_TABLIBNAME, luaopen_table}, {LUA_MATHLIBNAME, luaopen_math},
		{LUA_UTF8LIBNAME, luaopen_utf8}, {NULL, NULL}};
	static const char *const drop[] = {"dofile", "loadfile",
					   "collectgarbage", NULL};
	for (const luaL_Reg *r = libs; r->name; r++) {
		luaL_requiref(L, r->name, r->func, 1);
		lua_pop(L, 1);
	}
	for (size_t i = 0; drop[i]; i++) {
		lua_pushnil(L);
		lua_setglobal(L, drop[i]);
	}
	lua_register(L, "print", fmig_lua_noop);
	lua_register(L, "load", fmig_lua_load);
	fmig_wrap_global(L, "pcall", fmig_lua_pcall);
	fmig_wrap_global(L, "xpcall", fmig_lua_pcall);
	/* a document's nested tables fill themselves when first used
	 * (luajson.h); what bypasses their metamethods fills them first */
	fmig_lua_json_lib(L);
	fmig_lua_json_init(L, &fmig_self(L)->cx);
	static const char *const raw[] = {"next", "rawget", "rawset", "rawlen",
					  "getmetatable", "setmetatable", NULL};
	for (size_t i = 0; raw[i]; i++)
		fmig_wrap_global(L, raw[i], fmig_lua_touch_call);
	lua_getglobal(L, LUA_STRLIBNAME);
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	lua_pop(L, 1);
	lua_getglobal(L, LUA_MATHLIBNAME);
	lua_getfield(L, -1, "randomseed");
	lua_pushinteger(L, 0);
	lua_call(L, 1, 0);
	lua_pop(L, 1);
}

/* Freezes the globals: new ones can no longer be created. */
static void fmig_lua_freeze(lua_State *L)
{
	lua_pushglobaltable(L);
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, fmig_lua_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_setmetatable(L, -2);
	lua_pop(L, 1);
}

/* Protected (its argument is unused): builds the sandbox, runs the
 * chunk, finds transform. */
static int fmig_lua_setup(lua_State *L)
{
	fmig_lua *l = fmig_self(L);
	const fmig_op *op = l->op;
	fmig_lua_libs(L);
	if (luaL_loadbufferx(L, op->lua_src, op->lua_len, op->lua_chunk,
			     "t") != LUA_OK)
		return lua_error(L);
	lua_call(L, 0, 0);
	if (lua_getglobal(L, "transform") != LUA_TFUNCTION)
		return luaL_error(L, "%s does not define a global function "
				  "transform(doc)", op->lua_chunk + 1);
	l->fn = luaL_ref(L, LUA_REGISTRYINDEX);
	fmig_lua_freeze(L);
	lua_gc(L, LUA_GCGEN, 0, 0);
	return 0;
}

/* ------------------------------------------------------------------ */
/* States and calls                                                    */

/* Runs f(ud) protected with fresh limits; on error copies the message. */
static int fmig_lua_protect(fmig_lua *l, lua_CFunction f, void *ud,
			    char *msg, size_t n)
{
	lua_State *L = l->L;
	l->steps = 0;
	l->steps_hit = l->al.hit = 0;
	lua_settop(L, 0);
	lua_pushcfunction(L, f);
	lua_pushlightuserdata(L, ud);
	fmig_lwatch_begin(L, fmig_lua_hook, FMIG_HOOK_EVERY);
	int st = lua_pcall(L, 1, 0, 0);
	fmig_lwatch_end(L);
	if (st != LUA_OK) {
		const char *s = lua_tostring(L, -1);
		snprintf(msg, n, "%s", s ? s : "(an error that is not a string)");
	}
	lua_settop(L, 0);
	if (st == LUA_OK)
		return 0;
	if (l->steps_hit || l->al.hit)
		return FERRY_ELIMIT;
	return st == LUA_ERRMEM ? FERRY_ENOMEM : FERRY_EINVAL;
}

/* The message for a failed call. */
static int fmig_lua_fail(fmig_lua *l, int rc, const char *msg, ferry_err *err)
{
	if (l->steps_hit)
		return ferry_err_set(err, rc, "%s: the script ran more than "
				     "%ld Lua instructions (an endless loop?)",
				     l->op->where, FMIG_LUA_STEPS_MAX);
	if (l->al.hit)
		return ferry_err_set(err, rc, "%s: the script needs more than "
				     "%zu MiB of memory", l->op->where,
				     FMIG_LUA_MEM_MAX >> 20);
	return ferry_err_set(err, rc, "%s: %s", l->op->where, msg);
}

static fmig_lua *fmig_lua_state(const fmig_op *op)
{
	fmig_lua *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->op = op;
	l->fn = LUA_NOREF;
	fmig_lalloc_init(&l->al, FMIG_LUA_MEM_MAX);
	if (!(l->L = lua_newstate(fmig_lalloc_fn, &l->al))) {
		fmig_lalloc_release(&l->al);
		free(l);
		return NULL;
	}
	*(void **)lua_getextraspace(l->L) = l; /* also its cx: see luajson.h */
	return l;
}

int fmig_lua_new(const fmig_op *op, fmig_lua **out, ferry_err *err)
{
	char msg[400];
	fmig_lua *l = fmig_lua_state(op);
	if (!l)
		return ferry_err_set(err, FERRY_ENOMEM, "%s: cannot create a "
				     "Lua state", op->where);
	int rc = fmig_lua_protect(l, fmig_lua_setup, NULL, msg, sizeof msg);
	if (rc) {
		fmig_lua_fail(l, rc, msg, err);
		fmig_lua_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

void fmig_lua_free(fmig_lua *l)
{
	if (!l)
		return;
	lua_close(l->L);
	fmig_lalloc_release(&l->al);
	free(l);
}

static int fmig_lua_compile(lua_State *L)
{
	const fmig_op *op = fmig_self(L)->op;
	if (luaL_loadbufferx(L, op->lua_src, op->lua_len, op->lua_chunk,
			     "t") != LUA_OK)
		return lua_error(L);
	return 0;
}

int fmig_lua_check(const fmig_op *op, ferry_err *err)
{
	char msg[400];
	fmig_lua *l = fmig_lua_state(op);
	if (!l)
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	int rc = fmig_lua_protect(l, fmig_lua_compile, NULL, msg, sizeof msg);
	if (rc)
		ferry_err_set(err, rc, "%s", msg);
	fmig_lua_free(l);
	return rc;
}

/* Protected: doc -> table, transform, result -> doc. */
static int fmig_lua_call(lua_State *L)
{
	fmig_run *r = lua_touserdata(L, 1);
	fmig_lconv x; /* not zeroed: its place stack is large */
	x.depth = 0;
	fmig_lua_doc_begin(L, r->a);
	fmig_lua_frame(L, &x.f);
	lua_rawgeti(L, LUA_REGISTRYINDEX, r->l->fn);
	fmig_lua_push(L, &x, r->in);
	lua_call(L, 1, 1);
	if (lua_isnil(L, -1)) {
		r->dropped = 1;
		return 0;
	}
	if (lua_type(L, -1) != LUA_TTABLE)
		return luaL_error(L, "transform must return a table (the "
				  "document) or nil (drop it), not %s",
				  luaL_typename(L, -1));
	r->out = fmig_lua_pull(L, &x, lua_gettop(L)); /* r->in consumed */
	json_error je;
	int rc = json_expand(x.f.a, r->out, &je); /* a lazy table returned */
	if (rc)
		return luaL_error(L, rc == FERRY_ENOMEM ? "out of memory" :
				  "the stored document is not JSON: %s", je.msg);
	if (r->out->type != JSON_OBJECT)
		return luaL_error(L, "transform returned an array; a document "
				  "is an object");
	return 0;
}

int fmig_lua_apply(fmig_lua *l, const fmig_op *op, json_arena *a,
		   json_value **doc, int *dropped, ferry_err *err)
{
	char msg[400];
	fmig_run r = {l, a, *doc, NULL, 0};
	(void)op;
	int rc = fmig_lua_protect(l, fmig_lua_call, &r, msg, sizeof msg);
	fmig_lua_doc_end(l->L); /* also after an error */
	if (rc)
		return fmig_lua_fail(l, rc, msg, err);
	*dropped = r.dropped;
	if (!r.dropped)
		*doc = r.out;
	return 0;
}
