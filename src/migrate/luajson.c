/*
 * luajson.c - documents into Lua values and back, for the lua op. The
 * round trip must be exact for what a script does not touch: objects stay
 * objects and arrays arrays even when empty (metatables mark them),
 * integers stay integers and floats floats, member order is kept (a
 * table remembers the json_value it came from), and numbers keep their
 * lexeme ("743.70", "1e5") when the script left their value alone.
 * Objects and arrays reach the script as lazy tables (see luajson.h):
 * an object fetches a member when the script first reads or writes it,
 * an array fills itself when first used. Most scripts read a few fields.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "ferry/ferry.h"
#include "migrate/luajson.h"

/* What the map (see fmig_lctx) maps a document's table to: the value it
 * was made from; for an object fetched member by member, which members
 * have been (by index; NULL before the first); and whether the pull has
 * handed v's nodes to the result already (see fmig_pull). */
typedef struct fmig_src {
	json_value *v;
	unsigned char *got;
	int taken;
	unsigned added; /* assignments to keys v does not have (see pull) */
} fmig_src;

/* The extra space holds a void pointer to the struct whose first member
 * is the fmig_lctx (C11 6.7.2.1: it points at that member too). */
static fmig_lctx *fmig_cx(lua_State *L)
{
	return *(void **)lua_getextraspace(L);
}

/* ------------------------------------------------------------------ */
/* The map of a document's tables                                      */

/* These records used to live in a Lua table keyed by the tables: one
 * table made per document, a rawset per lazy table and a rawget per
 * lookup, all through the C API, 5 % of a 3-hop upgrade's instructions.
 * A C table keyed by address costs a multiply and a probe or two. */
struct fmig_oslot {
	const void *t; /* the table (lua_topointer), NULL: free */
	fmig_src *src;
};

static size_t fmig_oslot_of(const void *t, size_t mask)
{
	uint64_t h = (uint64_t)(uintptr_t)t * UINT64_C(0x9e3779b97f4a7c15);
	return (size_t)(h >> 32) & mask;
}

/* The record of table t in this document, or NULL. */
static fmig_src *fmig_map_find(const fmig_lctx *cx, const void *t)
{
	if (!cx->mcap)
		return NULL;
	size_t mask = cx->mcap - 1;
	for (size_t i = fmig_oslot_of(t, mask);; i = (i + 1) & mask) {
		if (cx->map[i].t == t)
			return cx->map[i].src;
		if (!cx->map[i].t)
			return NULL;
	}
}

static void fmig_map_insert(struct fmig_oslot *map, size_t cap, const void *t,
			    fmig_src *src)
{
	size_t i = fmig_oslot_of(t, cap - 1);
	while (map[i].t)
		i = (i + 1) & (cap - 1);
	map[i].t = t;
	map[i].src = src;
}

/* Maps the table on top to src and anchors it (see fmig_lctx). The map
 * grows in the document's arena (at most half full). */
static void fmig_map_put(lua_State *L, fmig_lctx *cx, fmig_src *src)
{
	const void *t = lua_topointer(L, -1);
	if (2 * (cx->mn + 1) > cx->mcap) {
		size_t cap = cx->mcap ? 2 * cx->mcap : 16;
		struct fmig_oslot *m = json_arena_alloc(cx->a, cap * sizeof *m);
		if (!m)
			luaL_error(L, "out of memory");
		memset(m, 0, cap * sizeof *m);
		for (size_t i = 0; i < cx->mcap; i++)
			if (cx->map[i].t)
				fmig_map_insert(m, cap, cx->map[i].t,
						cx->map[i].src);
		cx->map = m;
		cx->mcap = cap;
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, cx->anchor);
	lua_pushvalue(L, -2);
	lua_rawseti(L, -2, (lua_Integer)cx->mn + 1); /* may raise: not mapped */
	lua_pop(L, 1);
	fmig_map_insert(cx->map, cx->mcap, t, src);
	cx->mn++;
}

/* Lets go of the document's tables: empties the anchor array (nil in
 * its array part allocates nothing, so this cannot raise) and the map. */
static void fmig_map_clear(lua_State *L, fmig_lctx *cx)
{
	if (cx->mn) {
		lua_rawgeti(L, LUA_REGISTRYINDEX, cx->anchor);
		for (size_t i = 1; i <= cx->mn; i++) {
			lua_pushnil(L);
			lua_rawseti(L, -2, (lua_Integer)i);
		}
		lua_pop(L, 1);
	}
	cx->map = NULL;
	cx->mcap = cx->mn = 0;
}

/* ------------------------------------------------------------------ */
/* Numbers                                                             */

/* Reads a JSON number lexeme the way Lua reads numerals: 1 and *i for an
 * integer, 2 and *d for a float. */
static int fmig_lexeme(lua_State *L, const char *s, size_t n, lua_Integer *i,
		       lua_Number *d)
{
	size_t k = n && s[0] == '-', j = k;
	char buf[80];
	const char *z = buf;
	if (n - k >= 1 && n - k <= 18) {
		lua_Integer v = 0;
		for (; j < n && s[j] >= '0' && s[j] <= '9'; j++)
			v = v * 10 + (s[j] - '0');
		if (j == n) {
			*i = k ? -v : v;
			return 1;
		}
	}
	if (n < sizeof buf) {
		memcpy(buf, s, n);
		buf[n] = 0;
	} else {
		z = lua_pushlstring(L, s, n);
	}
	size_t ok = lua_stringtonumber(L, z);
	if (n >= sizeof buf)
		lua_remove(L, ok ? -2 : -1);
	if (!ok)
		luaL_error(L, "number %s cannot be read by Lua", z);
	int isint = lua_isinteger(L, -1);
	if (isint)
		*i = lua_tointeger(L, -1);
	else
		*d = lua_tonumber(L, -1);
	lua_pop(L, 1);
	return isint ? 1 : 2;
}

static json_value *fmig_new_float(json_arena *a, double d)
{
	char buf[JSON_DOUBLE_MAX + 2];
	size_t n = json_double_text(d, buf);
	if (!strpbrk(buf, ".eE")) {
		buf[n++] = '.'; /* keep it a float for the next reader */
		buf[n++] = '0';
	}
	return json_new_number_text(a, buf, n);
}

/* ------------------------------------------------------------------ */
/* JSON -> Lua                                                         */

/* Marks the table on top with metatable `mt` and records its origin. */
static void fmig_mark(lua_State *L, const fmig_lframe *f, int mt,
		      const json_value *v)
{
	fmig_src *src = json_arena_alloc(f->a, sizeof *src);
	if (!src)
		luaL_error(L, "out of memory");
	src->v = (json_value *)v; /* the document's own node: see fmig_pull */
	src->got = NULL;
	src->taken = 0;
	src->added = 0;
	lua_pushvalue(L, mt);
	lua_setmetatable(L, -2);
	fmig_map_put(L, fmig_cx(L), src);
}

/* v as a real node (a raw one from json_parse_lazy is expanded in place:
 * the same value, so the document does not change). */
static void fmig_real(lua_State *L, const fmig_lframe *f,
		      const json_value *v)
{
	json_error je;
	int rc = v->type == JSON_RAW ?
		json_expand(f->a, (json_value *)v, &je) : 0;
	if (rc == FERRY_ENOMEM)
		luaL_error(L, "out of memory");
	if (rc)
		luaL_error(L, "the stored document is not JSON: %s", je.msg);
}

static int fmig_is_container(const json_value *v)
{
	if (v->type == JSON_RAW)
		return *v->u.raw.text == '{' || *v->u.raw.text == '[';
	return v->type == JSON_OBJECT || v->type == JSON_ARRAY;
}

static void fmig_push_scalar(lua_State *L, const fmig_lframe *f,
			     const json_value *v)
{
	lua_Integer i = 0;
	lua_Number d = 0;
	fmig_real(L, f, v);
	switch (v->type) {
	case JSON_NULL:
		lua_pushlightuserdata(L, NULL);
		return;
	case JSON_TRUE:
	case JSON_FALSE:
		lua_pushboolean(L, v->type == JSON_TRUE);
		return;
	case JSON_NUMBER:
		if (fmig_lexeme(L, v->u.num.text, v->u.num.len, &i, &d) == 1)
			lua_pushinteger(L, i);
		else
			lua_pushnumber(L, d);
		return;
	default:
		lua_pushlstring(L, v->u.str.s, v->u.str.len);
		return;
	}
}

#define FMIG_SLOTS_MAX 8 /* hash slots made ahead for an object's table */

/* Hash slots for the table of v: the members a script reads go in
 * without the table growing (each growth rehashes and reallocates). An
 * object not yet expanded gets a guess; an array fills its array part
 * at once when used. */
static int fmig_slots(const json_value *v)
{
	if (v->type == JSON_OBJECT)
		return v->u.obj.n < FMIG_SLOTS_MAX ? (int)v->u.obj.n :
						     FMIG_SLOTS_MAX;
	return v->type == JSON_RAW && *v->u.raw.text == '{' ? 4 : 0;
}

/* A member or element: a scalar, or an empty lazy table. */
static void fmig_push_child(lua_State *L, const fmig_lframe *f,
			    const json_value *v)
{
	if (!fmig_is_container(v)) {
		fmig_push_scalar(L, f, v);
		return;
	}
	lua_createtable(L, 0, fmig_slots(v));
	fmig_mark(L, f, f->lmt, v);
}

/* Fills the table on top from v (an object or array, real), but for the
 * members `got` marks: fetched before, they are in the table already, or
 * were deleted from it. */
static void fmig_fill(lua_State *L, const fmig_lframe *f,
		      const json_value *v, const unsigned char *got)
{
	int t = lua_gettop(L);
	if (!lua_checkstack(L, 4))
		luaL_error(L, "out of memory");
	if (v->type == JSON_ARRAY) {
		for (size_t k = 0; k < v->u.arr.n; k++) {
			fmig_push_child(L, f, v->u.arr.v[k]);
			lua_rawseti(L, t, (lua_Integer)k + 1);
		}
		return;
	}
	for (size_t k = 0; k < v->u.obj.n; k++) {
		const json_member *m = &v->u.obj.m[k];
		if (got && got[k])
			continue;
		lua_pushlstring(L, m->key, m->klen);
		fmig_push_child(L, f, m->val);
		lua_rawset(L, t);
	}
}

void fmig_lua_push(lua_State *L, const fmig_lconv *x, const json_value *v)
{
	fmig_push_child(L, &x->f, v);
}

/* ------------------------------------------------------------------ */
/* Lazy tables                                                         */

/* 1 if the value at idx is a table with the lazy metatable. */
static int fmig_is_lazy(lua_State *L, int idx)
{
	if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx))
		return 0;
	lua_rawgeti(L, LUA_REGISTRYINDEX, fmig_cx(L)->lmt);
	int lazy = lua_rawequal(L, -1, -2);
	lua_pop(L, 2);
	return lazy;
}

/* The record of what the lazy table at idx (absolute) was made from, its
 * value expanded; f: the whole frame, set already. */
static fmig_src *fmig_lazy_src(lua_State *L, fmig_lframe *f, int idx)
{
	fmig_src *src = fmig_map_find(fmig_cx(L), lua_topointer(L, idx));
	if (!src || !f->a)
		luaL_error(L, "transform kept a table of an earlier document; "
			   "documents must not share state: use a local");
	fmig_real(L, f, src->v);
	return src;
}

void fmig_lua_touch(lua_State *L, int idx)
{
	if (!fmig_is_lazy(L, idx))
		return;
	idx = lua_absindex(L, idx);
	int top = lua_gettop(L);
	if (!lua_checkstack(L, 8))
		luaL_error(L, "out of memory");
	fmig_lframe f;
	fmig_lua_frame(L, &f);
	const fmig_src *src = fmig_lazy_src(L, &f, idx);
	lua_pushvalue(L, idx);
	fmig_fill(L, &f, src->v, src->got);
	lua_pushvalue(L, src->v->type == JSON_ARRAY ? f.amt : f.omt);
	lua_setmetatable(L, idx);
	lua_settop(L, top);
}

int fmig_lua_touch_call(lua_State *L)
{
	int n = lua_gettop(L);
	if (n)
		fmig_lua_touch(L, 1);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, n, LUA_MULTRET);
	return lua_gettop(L);
}

/* For t[k] on a lazy table t at 1 with k at 2. On an object the members
 * named k are marked fetched: from then on the table itself holds k's
 * value, or has had it deleted. Returns the index of the last of them
 * (the one a full fill leaves in the table) or -1 if there is none; with
 * *fresh 1 if this is the first time. An array is filled whole: -2.
 * Leaves the frame's values on the stack. Any use of an object, even of
 * a key it does not have, makes the pull look at the table (got set).
 * `assign`: t[k] = v, counted in src->added when k is not a member. */
static long fmig_lazy_member(lua_State *L, fmig_lframe *f,
			     const json_value **obj, int *fresh, int assign)
{
	/* __index and __newindex carry the metatables as upvalues */
	f->amt = lua_upvalueindex(1);
	f->omt = lua_upvalueindex(2);
	f->lmt = lua_upvalueindex(3);
	f->a = fmig_cx(L)->a;
	fmig_src *src = fmig_lazy_src(L, f, 1);
	const json_value *o = src->v;
	size_t klen, n = o->u.obj.n;
	long last = -1;
	*obj = o;
	*fresh = 0;
	if (o->type != JSON_OBJECT) {
		fmig_lua_touch(L, 1);
		return -2;
	}
	if (!src->got) { /* used: the pull must look at the table */
		if (!(src->got = json_arena_alloc(f->a, n ? n : 1)))
			luaL_error(L, "out of memory");
		memset(src->got, 0, n ? n : 1);
	}
	if (lua_type(L, 2) != LUA_TSTRING) {
		src->added += assign;
		return -1;
	}
	const char *k = lua_tolstring(L, 2, &klen);
	for (size_t i = 0; i < n; i++) {
		if (o->u.obj.m[i].klen != klen ||
		    memcmp(o->u.obj.m[i].key, k, klen))
			continue;
		if (last < 0) /* members of one name are marked together */
			*fresh = !src->got[i];
		src->got[i] = 1;
		last = (long)i;
	}
	if (last < 0)
		src->added += assign;
	return last;
}

static int fmig_lazy_index(lua_State *L)
{
	fmig_lframe f;
	const json_value *o;
	int fresh;
	lua_settop(L, 2);
	long i = fmig_lazy_member(L, &f, &o, &fresh, 0);
	if (i >= 0 && fresh) { /* the first use: fetch it */
		fmig_push_child(L, &f, o->u.obj.m[i].val);
		lua_pushvalue(L, 2);
		lua_pushvalue(L, -2);
		lua_rawset(L, 1);
		return 1;
	}
	lua_pushvalue(L, 2);
	lua_rawget(L, 1);
	return 1;
}

static int fmig_lazy_newindex(lua_State *L)
{
	fmig_lframe f;
	const json_value *o;
	int fresh;
	lua_settop(L, 3);
	fmig_lazy_member(L, &f, &o, &fresh, 1);
	lua_settop(L, 3);
	lua_rawset(L, 1);
	return 0;
}

static int fmig_lazy_len(lua_State *L)
{
	fmig_lua_touch(L, 1);
	lua_pushinteger(L, (lua_Integer)lua_rawlen(L, 1));
	return 1;
}

/* __pairs: upvalue 1 is the real next. */
static int fmig_lazy_pairs(lua_State *L)
{
	fmig_lua_touch(L, 1);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	return 3;
}

static int fmig_ref(lua_State *L, const char *mt_name)
{
	luaL_getmetatable(L, mt_name);
	return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Pushes f as a closure over the three metatables (array, object, lazy;
 * the lazy one at -1). */
static void fmig_push_mm(lua_State *L, lua_CFunction f)
{
	luaL_getmetatable(L, FMIG_LUA_ARRAY_MT);
	luaL_getmetatable(L, FMIG_LUA_OBJECT_MT);
	lua_pushvalue(L, -3);
	lua_pushcclosure(L, f, 3);
}

void fmig_lua_json_init(lua_State *L, fmig_lctx *cx)
{
	luaL_newmetatable(L, FMIG_LUA_LAZY_MT);
	fmig_push_mm(L, fmig_lazy_index);
	lua_setfield(L, -2, "__index");
	fmig_push_mm(L, fmig_lazy_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushcfunction(L, fmig_lazy_len);
	lua_setfield(L, -2, "__len");
	lua_getglobal(L, "next");
	lua_pushcclosure(L, fmig_lazy_pairs, 1);
	lua_setfield(L, -2, "__pairs");
	lua_pop(L, 1);
	cx->a = NULL;
	cx->amt = fmig_ref(L, FMIG_LUA_ARRAY_MT);
	cx->omt = fmig_ref(L, FMIG_LUA_OBJECT_MT);
	cx->lmt = fmig_ref(L, FMIG_LUA_LAZY_MT);
	lua_createtable(L, 64, 0);
	cx->anchor = luaL_ref(L, LUA_REGISTRYINDEX);
	cx->map = NULL;
	cx->mcap = cx->mn = 0;
}

void fmig_lua_doc_begin(lua_State *L, json_arena *a)
{
	fmig_lctx *cx = fmig_cx(L);
	fmig_map_clear(L, cx); /* in case the last document did not end */
	cx->a = a;
}

void fmig_lua_doc_end(lua_State *L)
{
	fmig_lctx *cx = fmig_cx(L);
	fmig_map_clear(L, cx);
	cx->a = NULL;
}

void fmig_lua_frame(lua_State *L, fmig_lframe *f)
{
	const fmig_lctx *cx = fmig_cx(L);
	lua_rawgeti(L, LUA_REGISTRYINDEX, cx->amt);
	f->amt = lua_gettop(L);
	lua_rawgeti(L, LUA_REGISTRYINDEX, cx->omt);
	f->omt = f->amt + 1;
	lua_rawgeti(L, LUA_REGISTRYINDEX, cx->lmt);
	f->lmt = f->amt + 2;
	f->a = cx->a;
}

/* ------------------------------------------------------------------ */
/* Lua -> JSON                                                         */

/* The current place in the document as text ("data.tags[2]"). */
static const char *fmig_at(fmig_lconv *x)
{
	size_t used = 0, n = sizeof x->path;
	x->path[0] = 0;
	for (size_t i = 0; i < x->depth && used < n; i++) {
		if (x->at[i].k)
			used += (size_t)snprintf(x->path + used, n - used,
						 "%s%.*s", i ? "." : "",
						 (int)(x->at[i].len > 40 ? 40 :
						       x->at[i].len),
						 x->at[i].k);
		else
			used += (size_t)snprintf(x->path + used, n - used,
						 "[%zu]", x->at[i].len);
	}
	return used ? x->path : "(the document)";
}

static json_value *fmig_chk(lua_State *L, json_value *v)
{
	if (!v)
		luaL_error(L, "out of memory");
	return v;
}

/* Enters member `key` or element `idx` (key NULL) of the current place. */
static void fmig_enter(fmig_lconv *x, const char *key, size_t klen,
		       size_t idx)
{
	if (x->depth < sizeof x->at / sizeof *x->at) {
		x->at[x->depth].k = key;
		x->at[x->depth].len = key ? klen : idx;
	}
	x->depth++;
}

static void fmig_leave(fmig_lconv *x) { x->depth--; }

/* 1 if s[0..n) is valid UTF-8 (no overlong forms, surrogates or code
 * points above U+10FFFF). */
static int fmig_utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t need = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
		unsigned char lo = 0x80, hi = 0xBF;
		if (c < 0xC2 || c > 0xF4 || n - i <= need)
			return 0;
		if (c == 0xE0) lo = 0xA0;
		if (c == 0xED) hi = 0x9F;
		if (c == 0xF0) lo = 0x90;
		if (c == 0xF4) hi = 0x8F;
		for (size_t k = 1; k <= need; k++, lo = 0x80, hi = 0xBF)
			if (s[i + k] < lo || s[i + k] > hi)
				return 0;
		i += need + 1;
	}
	return 1;
}

static json_value *fmig_pull(lua_State *L, fmig_lconv *x, int idx,
			     json_value *orig, int take, int depth);

/* `orig` itself when the result may take it (see fmig_pull), else a copy. */
static json_value *fmig_reuse(lua_State *L, fmig_lconv *x, json_value *orig,
			      int take)
{
	return take ? orig : fmig_chk(L, json_clone(x->f.a, orig));
}

static json_value *fmig_pull_string(lua_State *L, fmig_lconv *x, int idx,
				    json_value *orig, int take)
{
	size_t len;
	const char *s = lua_tolstring(L, idx, &len);
	if (orig && orig->type == JSON_STRING && orig->u.str.len == len &&
	    !memcmp(orig->u.str.s, s, len))
		return fmig_reuse(L, x, orig, take);
	if (!fmig_utf8_ok((const unsigned char *)s, len))
		luaL_error(L, "transform's result at '%s': the string is not "
			   "valid UTF-8", fmig_at(x));
	return fmig_chk(L, json_new_string(x->f.a, s, len));
}

static json_value *fmig_pull_number(lua_State *L, fmig_lconv *x, int idx,
				    json_value *orig, int take)
{
	lua_Integer oi = 0;
	lua_Number od = 0;
	int isint = lua_isinteger(L, idx);
	if (orig && orig->type == JSON_NUMBER) {
		int k = fmig_lexeme(L, orig->u.num.text, orig->u.num.len, &oi,
				    &od);
		if (isint ? k == 1 && oi == lua_tointeger(L, idx) :
			    k == 2 && od == lua_tonumber(L, idx))
			return fmig_reuse(L, x, orig, take);
	}
	if (isint)
		return fmig_chk(L, json_new_int(x->f.a, lua_tointeger(L, idx)));
	double d = lua_tonumber(L, idx);
	if (!isfinite(d))
		luaL_error(L, "transform's result at '%s': %f is not a finite "
			   "number", fmig_at(x), d);
	return fmig_chk(L, fmig_new_float(x->f.a, d));
}

/* The record of what the table at idx was made from, or NULL. */
static fmig_src *fmig_origin(lua_State *L, int idx)
{
	return fmig_map_find(fmig_cx(L), lua_topointer(L, idx));
}

/* 1 if the table at idx becomes an array, 0 an object. */
static int fmig_is_array(lua_State *L, fmig_lconv *x, int idx)
{
	int mark = -1;
	if (lua_getmetatable(L, idx)) {
		if (lua_rawequal(L, -1, x->f.amt))
			mark = 1;
		else if (lua_rawequal(L, -1, x->f.omt))
			mark = 0;
		lua_pop(L, 1);
	}
	if (mark >= 0)
		return mark;
	lua_Unsigned n = lua_rawlen(L, idx), count = 0;
	if (!n)
		return 0;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		count++;
		lua_pop(L, 1);
	}
	return count == n;
}

static json_value *fmig_pull_array(lua_State *L, fmig_lconv *x, int idx,
				   const json_value *o, int take, int depth)
{
	lua_Unsigned n = lua_rawlen(L, idx), count = 0;
	json_value *arr = fmig_chk(L, json_new_array(x->f.a));
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		count++;
		lua_pop(L, 1);
	}
	if (count != n)
		luaL_error(L, "transform's result at '%s': an array must have "
			   "exactly the keys 1..n (no holes, no other keys)",
			   fmig_at(x));
	if (n && !(arr->u.arr.v = json_arena_alloc(x->f.a, n * sizeof(void *))))
		luaL_error(L, "out of memory");
	arr->u.arr.cap = (size_t)n;
	if (o && o->type != JSON_ARRAY)
		o = NULL;
	for (lua_Unsigned i = 0; i < n; i++) {
		lua_rawgeti(L, idx, (lua_Integer)i + 1);
		fmig_enter(x, NULL, 0, (size_t)i);
		arr->u.arr.v[i] = fmig_pull(L, x, lua_gettop(L),
			o && i < o->u.arr.n ? o->u.arr.v[i] : NULL, take,
			depth + 1);
		fmig_leave(x);
		lua_pop(L, 1);
	}
	arr->u.arr.n = (size_t)n;
	return arr;
}

/* Appends member key = the value on top of the stack (popped). The key
 * must outlive the result: the original's, or a copy in the arena. */
static void fmig_put_member(lua_State *L, fmig_lconv *x, json_value *obj,
			    const char *key, size_t klen, json_value *orig,
			    int take, int depth)
{
	fmig_enter(x, key, klen, 0);
	json_member *m = &obj->u.obj.m[obj->u.obj.n];
	m->val = fmig_pull(L, x, lua_gettop(L), orig, take, depth + 1);
	m->key = key;
	m->klen = klen;
	obj->u.obj.n++;
	fmig_leave(x);
	lua_pop(L, 1);
}

static int fmig_member_cmp(const void *pa, const void *pb)
{
	const json_member *a = pa, *b = pb;
	int c = memcmp(a->key, b->key, a->klen < b->klen ? a->klen : b->klen);
	return c ? c : (a->klen > b->klen) - (a->klen < b->klen);
}

/* Room in obj for one more member (doubling in the arena). */
static void fmig_room(lua_State *L, fmig_lconv *x, json_value *obj)
{
	if (obj->u.obj.n < obj->u.obj.cap)
		return;
	size_t cap = obj->u.obj.cap ? 2 * obj->u.obj.cap : 4;
	json_member *m = json_arena_alloc(x->f.a, cap * sizeof *m);
	if (!m)
		luaL_error(L, "out of memory");
	if (obj->u.obj.n)
		memcpy(m, obj->u.obj.m, obj->u.obj.n * sizeof *m);
	obj->u.obj.m = m;
	obj->u.obj.cap = cap;
}

/* The members of the table at idx whose keys `o` does not have,
 * converted in one walk of the table and appended to obj, sorted by key
 * (a table's order is a hash order). Every key must be a string. */
static void fmig_pull_new_keys(lua_State *L, fmig_lconv *x, int idx,
			       const json_value *o, json_value *obj, int depth)
{
	size_t from = obj->u.obj.n;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		size_t len;
		if (lua_type(L, -2) != LUA_TSTRING)
			luaL_error(L, "transform's result at '%s': an object "
				   "key is %s, not a string (json.array() "
				   "marks a table as an array)", fmig_at(x),
				   luaL_typename(L, -2));
		const char *key = lua_tolstring(L, -2, &len);
		if (o && json_get(o, key, len)) {
			lua_pop(L, 1);
			continue;
		}
		char *k = json_arena_alloc(x->f.a, len + 1);
		if (!k)
			luaL_error(L, "out of memory");
		memcpy(k, key, len);
		k[len] = 0;
		if (!fmig_utf8_ok((const unsigned char *)k, len))
			luaL_error(L, "transform's result at '%s': a key is "
				   "not valid UTF-8", fmig_at(x));
		fmig_room(L, x, obj);
		fmig_put_member(L, x, obj, k, len, NULL, 0, depth);
	}
	if (obj->u.obj.n - from > 1)
		qsort(obj->u.obj.m + from, obj->u.obj.n - from,
		      sizeof(json_member), fmig_member_cmp);
}

/* The object table at idx, members in the order of `o` (the value it was
 * made from, if any), then its new keys. With `got` (a lazy object, some
 * of whose members the script fetched) the members `got` does not mark go
 * back as they came, without a trip through Lua. `added` 0: the table
 * has no keys but o's (a lazy object never assigned a new key), so it
 * need not be walked. */
static json_value *fmig_pull_object(lua_State *L, fmig_lconv *x, int idx,
				    const json_value *o,
				    const unsigned char *got, unsigned added,
				    int take, int depth)
{
	if (o && o->type != JSON_OBJECT)
		o = NULL;
	size_t n = o ? o->u.obj.n : 0;
	json_value *obj = fmig_chk(L, json_new_object(x->f.a));
	/* room for o's members and, for a lazy object, the keys it was
	 * given; a plain table's new keys make room as they come */
	size_t cap = n + (got ? added : 0);
	if (cap && !(obj->u.obj.m = json_arena_alloc(
			     x->f.a, cap * sizeof(json_member))))
		luaL_error(L, "out of memory");
	obj->u.obj.cap = cap;
	for (size_t i = 0; i < n; i++) {
		const json_member *m = &o->u.obj.m[i];
		if (got && !got[i]) {
			json_member *to = &obj->u.obj.m[obj->u.obj.n++];
			to->key = m->key;
			to->klen = m->klen;
			to->val = fmig_reuse(L, x, m->val, take);
			continue;
		}
		lua_pushlstring(L, m->key, m->klen);
		if (lua_rawget(L, idx) == LUA_TNIL)
			lua_pop(L, 1);
		else
			fmig_put_member(L, x, obj, m->key, m->klen, m->val,
					take, depth);
	}
	if (added)
		fmig_pull_new_keys(L, x, idx, o, obj, depth);
	return obj;
}

/* A table made from the document (src not NULL) hands the nodes of
 * src->v to the result the first time it is pulled, and copies them when
 * it is pulled again (the script put it in two places). */
static json_value *fmig_pull_table(lua_State *L, fmig_lconv *x, int idx,
				   int depth)
{
	if (depth > JSON_MAX_DEPTH)
		luaL_error(L, "transform's result at '%s': nested deeper than "
			   "%d (does a table contain itself?)", fmig_at(x),
			   JSON_MAX_DEPTH);
	luaL_checkstack(L, 8, "document nested too deeply");
	fmig_src *src = fmig_origin(L, idx);
	json_value *o = src ? src->v : NULL;
	int take = src && !src->taken;
	if (src)
		src->taken = 1;
	if (lua_getmetatable(L, idx)) {
		int lazy = lua_rawequal(L, -1, x->f.lmt);
		lua_pop(L, 1);
		if (lazy && !o)
			luaL_error(L, "transform's result at '%s': a table of "
				   "an earlier document; documents must not "
				   "share state", fmig_at(x));
		if (lazy && src->got) /* some members fetched */
			return fmig_pull_object(L, x, idx, o, src->got,
						src->added, take, depth);
		if (lazy) /* never used: as it came (maybe raw) */
			return fmig_reuse(L, x, o, take);
	}
	if (fmig_is_array(L, x, idx))
		return fmig_pull_array(L, x, idx, o, take, depth);
	return fmig_pull_object(L, x, idx, o, NULL, 1, take, depth);
}

/* The value at idx as JSON. `orig` is the document's node it replaces,
 * if any: a scalar equal to it becomes orig itself when `take` is 1 (its
 * parent's nodes are the result's), else a copy. The document is
 * consumed: each of its nodes ends up in the result at most once, so
 * later ops can change the result in place. */
static json_value *fmig_pull(lua_State *L, fmig_lconv *x, int idx,
			     json_value *orig, int take, int depth)
{
	switch (lua_type(L, idx)) {
	case LUA_TBOOLEAN:
		return fmig_chk(L, json_new_bool(x->f.a, lua_toboolean(L, idx)));
	case LUA_TNUMBER:
		return fmig_pull_number(L, x, idx, orig, take);
	case LUA_TSTRING:
		return fmig_pull_string(L, x, idx, orig, take);
	case LUA_TTABLE:
		return fmig_pull_table(L, x, idx, depth);
	case LUA_TLIGHTUSERDATA:
		if (!lua_touserdata(L, idx))
			return fmig_chk(L, json_new_null(x->f.a));
		/* fall through */
	default:
		return luaL_error(L, "transform's result at '%s': %s cannot "
				  "be stored in JSON", fmig_at(x),
				  luaL_typename(L, idx)), NULL;
	}
}

json_value *fmig_lua_pull(lua_State *L, fmig_lconv *x, int idx)
{
	return fmig_pull(L, x, idx, NULL, 0, 0);
}
