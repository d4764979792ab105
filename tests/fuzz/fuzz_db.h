/*
 * fuzz_db.h - the data dir of the fuzz targets that drive ferryd's
 * handlers in-process (fuzz_bulk, fuzz_mget): a real LMDB data dir made
 * once per run under /tmp, initialised at release 0.7.1 with an empty
 * index "profile", no fsync, removed at exit. Each target includes it
 * once; the state is that target's own.
 */
#ifndef FERRY_FUZZ_DB_H
#define FERRY_FUZZ_DB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/ferry.h"

static ferry_db *fuzz_db_handle;
static char fuzz_db_dir[64];

static void fuzz_db_cleanup(void)
{
	char cmd[96];

	ferry_db_close(fuzz_db_handle);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fuzz_db_dir);
	if (system(cmd))
		return;
}

/* The data dir, made at the first call in /tmp/ferry-fuzz-NAME.XXXXXX
 * with a map of `map_size` (e.g. "256M"); *fresh is 1 on that call. */
static ferry_db *fuzz_db_get(const char *name, const char *map_size,
			     int *fresh)
{
	*fresh = 0;
	if (fuzz_db_handle)
		return fuzz_db_handle;
	*fresh = 1;
	setenv("FERRY_SYNC", "off", 1);
	setenv("FERRY_MAP_SIZE", map_size, 1);
	snprintf(fuzz_db_dir, sizeof(fuzz_db_dir), "/tmp/ferry-fuzz-%s.XXXXXX",
		 name);
	if (!mkdtemp(fuzz_db_dir) ||
	    ferry_db_open(fuzz_db_dir, FERRY_OPEN_CREATE, &fuzz_db_handle,
			  NULL) ||
	    ferry_db_init(fuzz_db_handle, "0.7.1", 0, NULL) ||
	    ferry_index_create(fuzz_db_handle, "profile", NULL, 0, NULL))
		abort();
	atexit(fuzz_db_cleanup);
	return fuzz_db_handle;
}

#endif
