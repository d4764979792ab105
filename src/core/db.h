/*
 * db.h - the ferry_db handle and the helpers every public-API file uses
 * to run a transaction on it.
 */
#ifndef FERRY_DB_H
#define FERRY_DB_H

#include <limits.h>
#include <stdatomic.h>

#include "ferry/ferry.h"
#include "store/store.h"

struct ferry_db {
	fstore *store;
	const fstore_ops *ops;
	int rdonly;
	char dir[PATH_MAX];
	uint64_t id_node;             /* random, fixed per handle */
	_Atomic uint32_t id_counter;  /* for generated ids */
	_Atomic uint64_t id_last_us;  /* they never go back with the clock */
};

/* Generates a 20-character id that sorts by creation time (so generated
 * ids append to the id tree). out must hold 21 bytes. */
void fdb_gen_id(ferry_db *db, char out[21]);

int fdb_begin(ferry_db *db, int write, fstore_txn **out, ferry_err *err);
int fdb_commit(fstore_txn *t, ferry_err *err);
void fdb_abort(fstore_txn *t);

/* Frees pages of deleted indices until none remain (or an error). */
int fdb_purge(ferry_db *db, ferry_err *err);

#endif
