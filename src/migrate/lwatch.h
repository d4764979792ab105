/*
 * lwatch.h - the watch on long Lua calls (lwatch.c). Private to
 * src/migrate.
 */
#ifndef FERRY_MIGRATE_LWATCH_H
#define FERRY_MIGRATE_LWATCH_H

#include <lua.h>

/* Around each protected call on L, on the thread that runs it: the call
 * starts without a hook; once it has used about 50 ms of CPU, `hook`
 * is set on L as a count hook (every `every` instructions), and end
 * takes it off. Where the thread cannot be watched, the hook is set at
 * once. */
void fmig_lwatch_begin(lua_State *L, lua_Hook hook, int every);
void fmig_lwatch_end(lua_State *L);
/* 1 if this thread's calls are watched (else they carry the hook). */
int fmig_lwatch_running(void);

#endif
