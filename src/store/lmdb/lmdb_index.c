/*
 * lmdb_index.c - index lifecycle in the LMDB backend: create, drop (at
 * once invisible) and the resumable purge that frees a dropped index's
 * pages in bounded steps, plus per-index statistics.
 *
 * Dropping writes the index number into `purge` in the same transaction
 * that removes its counters, so a process killed while purging leaves a
 * record that the next purge step (any process) continues from.
 */
#include <stdlib.h>

#include "core/err.h"
#include "store/lmdb/lmdb_int.h"

int flmdb_ix_create(fstore_txn *base, uint32_t ix, ferry_err *err)
{
	flmdb_txn *t = (flmdb_txn *)base;
	unsigned char k[4];
	flmdb_be32(k, ix);
	flmdb_meta m = {.format = 1, .next_seq = 1};
	MDB_val key = {4, k}, val = {sizeof m, &m};
	int rc = mdb_put(t->txn, t->s->meta, &key, &val, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return ferry_err_set(err, FERRY_EEXISTS,
				     "index storage %u already exists", ix);
	return rc ? flmdb_error(rc, err, "creating an index") : 0;
}

int flmdb_ix_drop(fstore_txn *base, uint32_t ix, ferry_err *err)
{
	flmdb_txn *t = (flmdb_txn *)base;
	unsigned char k[4];
	flmdb_be32(k, ix);
	MDB_val key = {4, k}, empty = {0, ""};
	int rc = mdb_del(t->txn, t->s->meta, &key, NULL);
	if (rc == MDB_NOTFOUND)
		return ferry_err_set(err, FERRY_ENOTFOUND,
				     "index storage %u does not exist", ix);
	if (!rc)
		rc = mdb_put(t->txn, t->s->purge, &key, &empty, 0);
	for (size_t i = 0; i < t->nslots; i++)
		if (t->slots[i].ix == ix) { /* forget cached counters */
			flmdb_slot_free(&t->slots[i]);
			t->slots[i] = t->slots[--t->nslots];
			break;
		}
	return rc ? flmdb_error(rc, err, "dropping an index") : 0;
}

/* Deletes up to *budget entries of `db` whose key starts with ix. Returns
 * MDB_NOTFOUND-free rc; *budget is decreased by what was deleted. */
static int purge_range(MDB_txn *txn, MDB_dbi db, uint32_t ix, size_t *budget)
{
	MDB_cursor *c;
	unsigned char kb[4];
	flmdb_be32(kb, ix);
	MDB_val k = {4, kb}, v;
	int rc = mdb_cursor_open(txn, db, &c);
	if (rc)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && *budget > 0) {
		if (k.mv_size < 4 || flmdb_rd32(k.mv_data) != ix)
			break;
		if ((rc = mdb_cursor_del(c, 0)))
			break;
		(*budget)--;
		rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
		if (rc == EINVAL) /* deleted the last entry */
			rc = MDB_NOTFOUND;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int flmdb_ix_purge_step(fstore *base, size_t budget, int *more,
			ferry_err *err)
{
	flmdb *s = (flmdb *)base;
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	*more = 0;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc)
		return flmdb_error(rc, err, "freeing deleted indices");
	if ((rc = mdb_cursor_open(txn, s->purge, &c)))
		goto fail;
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	if (rc == 0 && budget == 0) /* a probe: is anything pending? */
		*more = 1;
	while (rc == 0 && budget > 0) {
		uint32_t ix = flmdb_rd32(k.mv_data);
		MDB_dbi dbs[3] = {s->docs, s->ids, s->tombs};
		int runs_done = 0;
		for (int i = 0; i < 3 && !rc; i++)
			rc = purge_range(txn, dbs[i], ix, &budget);
		if (!rc)
			rc = flmdb_runs_purge(s, txn, ix, &budget, &runs_done);
		if (rc)
			break;
		if (budget == 0 || !runs_done) {
			*more = 1; /* possibly: the next step finds out */
			break;
		}
		if ((rc = mdb_cursor_del(c, 0)))
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
		if (rc == EINVAL)
			rc = MDB_NOTFOUND;
	}
	if (rc && rc != MDB_NOTFOUND)
		goto fail;
	mdb_cursor_close(c);
	rc = mdb_txn_commit(txn);
	return rc ? flmdb_error(rc, err, "freeing deleted indices") : 0;
fail:
	mdb_txn_abort(txn);
	*more = 0;
	return flmdb_error(rc, err, "freeing deleted indices");
}

int flmdb_ix_stats(fstore_txn *base, uint32_t ix, fstore_stats *out)
{
	flmdb_txn *t = (flmdb_txn *)base;
	flmdb_mslot *sl;
	int rc = flmdb_meta_get(t, ix, &sl);
	if (rc)
		return rc;
	out->next_seq = sl->m.next_seq;
	out->docs = sl->m.docs;
	out->bytes = sl->m.bytes;
	out->tombs = sl->m.tombs;
	out->horizon = sl->m.horizon;
	return 0;
}

int flmdb_purge_pending(fstore_txn *base)
{
	flmdb_txn *t = (flmdb_txn *)base;
	MDB_stat st;
	if (mdb_stat(t->txn, t->s->purge, &st))
		return 0;
	return st.ms_entries > 0;
}
