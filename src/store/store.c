/*
 * store.c - the table of storage backends, chosen by FERRY_BACKEND.
 */
#include <string.h>

#include "core/err.h"
#include "store/store.h"

static const fstore_ops *const backends[] = {&fstore_lmdb_ops};

int fstore_lookup(const char *name, const fstore_ops **out, ferry_err *err)
{
	if (!name || !*name)
		name = "lmdb";
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
		if (!strcmp(backends[i]->name, name)) {
			*out = backends[i];
			return 0;
		}
	return ferry_err_set(err, FERRY_EINVAL,
		"unknown FERRY_BACKEND '%s'; known backends: lmdb "
		"(elasticsearch is not built in yet)", name);
}
