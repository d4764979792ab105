/*
 * index.h - index creation and deletion inside a caller's write
 * transaction, for jobs that must do them atomically with other changes
 * (an upgrade's prepare step, abort, deleting a version).
 */
#ifndef FERRY_INDEX_H
#define FERRY_INDEX_H

#include "ferry/ferry.h"
#include "store/store.h"

/* As ferry_index_create, inside t. */
int findex_create_txn(fstore_txn *t, const char *name, const char *body,
		      size_t blen, ferry_err *err);
/* As ferry_index_delete, inside t; the caller runs fdb_purge() after the
 * commit. */
int findex_delete_txn(fstore_txn *t, const char *name, int force,
		      ferry_err *err);

#endif
