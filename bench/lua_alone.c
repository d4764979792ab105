/*
 * lua_alone.c - benchmark floor: what a lua op's script costs in Lua 5.4
 * itself, with no document behind it. It loads SCRIPT (a migration's Lua
 * file), gives it a stand-in `json.object` (returns its argument or a new
 * table), and calls transform(doc) N times on one thread, where doc is a
 * plain table made in C for each call holding only what the example
 * profile script reads: {stats = {visits = V, views = W}}. No parse, no
 * lazy tables, no pull of the result: the interpreter's own share of a
 * Lua hop. Prints "lua_alone calls=N secs=S us_per_call=U".
 *
 *   lua_alone SCRIPT [N]          (N defaults to 1000000)
 *
 * Built by bench/run (bench_build_helper in bench/lib.sh).
 */
#define _POSIX_C_SOURCE 200809L
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int object(lua_State *L)
{
	if (lua_istable(L, 1)) {
		lua_settop(L, 1);
		return 1;
	}
	lua_newtable(L);
	return 1;
}

int main(int argc, char **argv)
{
	long n = 1000000;
	if (argc < 2 || argc > 3 || (argc == 3 && (n = atol(argv[2])) <= 0)) {
		fputs("usage: lua_alone SCRIPT [N]\n", stderr);
		return 2;
	}
	lua_State *L = luaL_newstate();
	if (!L)
		return 1;
	luaL_openlibs(L);
	lua_newtable(L);
	lua_pushcfunction(L, object);
	lua_setfield(L, -2, "object");
	lua_setglobal(L, "json");
	if (luaL_dofile(L, argv[1])) {
		fprintf(stderr, "lua_alone: %s\n", lua_tostring(L, -1));
		lua_close(L);
		return 1;
	}
	double t0 = now();
	for (long i = 0; i < n; i++) {
		lua_getglobal(L, "transform");
		lua_createtable(L, 0, 1);
		lua_createtable(L, 0, 2);
		lua_pushinteger(L, i % 60);
		lua_setfield(L, -2, "visits");
		lua_pushinteger(L, i % 97);
		lua_setfield(L, -2, "views");
		lua_setfield(L, -2, "stats");
		if (lua_pcall(L, 1, 1, 0)) {
			fprintf(stderr, "lua_alone: %s\n", lua_tostring(L, -1));
			lua_close(L);
			return 1;
		}
		lua_pop(L, 1);
	}
	double secs = now() - t0;
	printf("lua_alone calls=%ld secs=%.3f us_per_call=%.3f\n", n, secs,
	       secs * 1e6 / (double)n);
	lua_close(L);
	return 0;
}
