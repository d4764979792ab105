/*
 * lmdb_merge.c - the id-ordered view of an index: `ids`, its runs and the
 * transaction's pending mappings, merged.
 *
 * Scans read through it, and so do the compaction and the merge into
 * `ids` in lmdb_runs.c. Sources are kept newest first, so that of several
 * mappings of one id the first source's wins; an index has a handful of
 * runs, so the smallest key is found by a linear pass, not a heap.
 */
#include <stdlib.h>

#include "store/lmdb/lmdb_int.h"

static int keycmp(const unsigned char *a, size_t an, const unsigned char *b,
		  size_t bn)
{
	size_t n = an < bn ? an : bn;
	int c = n ? memcmp(a, b, n) : 0;
	return c ? c : (an > bn) - (an < bn);
}

/* Reads the entry under a source's cursor (after moving it by op), or
 * marks the source finished when it left its prefix. */
static int src_read(flmdb_merge *m, flmdb_src *s, MDB_cursor_op op,
		    MDB_val *k)
{
	if (!s->c) {
		if (op == MDB_NEXT)
			s->pi++;
		s->live = s->pi < m->pn;
		if (s->live) {
			const flmdb_pent *e = &m->pe[s->pi];
			s->k = (const unsigned char *)m->pkeys + e->koff;
			s->klen = e->klen;
			s->seq = e->seq;
			s->len = e->len;
		}
		return 0;
	}
	MDB_val v;
	int rc = mdb_cursor_get(s->c, k, &v, op);
	s->live = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	const unsigned char *kp = k->mv_data;
	uint64_t no = s->pfx == 4 ? flmdb_rd32(kp) : flmdb_rd64(kp);
	if (k->mv_size <= s->pfx || no != s->no)
		return 0;
	if (v.mv_size != 12)
		return MDB_CORRUPTED;
	s->k = kp + s->pfx;
	s->klen = k->mv_size - s->pfx;
	s->seq = flmdb_rd64(v.mv_data);
	s->len = flmdb_rd32((const unsigned char *)v.mv_data + 8);
	s->live = 1;
	return 0;
}

/* Puts a source on its first id >= after. */
static int src_seek(flmdb_merge *m, flmdb_src *s, const unsigned char *after,
		    size_t alen)
{
	unsigned char kb[8 + 511];
	size_t n = alen;
	if (!s->c) {
		size_t lo = 0, hi = m->pn;
		while (lo < hi) { /* the first entry >= after */
			size_t mid = lo + (hi - lo) / 2;
			const flmdb_pent *e = &m->pe[mid];
			if (keycmp((const unsigned char *)m->pkeys + e->koff,
				   e->klen, after, alen) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		s->pi = lo;
		return src_read(m, s, MDB_GET_CURRENT, NULL);
	}
	if (s->pfx + n > 511)
		n = 511 - s->pfx; /* a shorter prefix sorts first: skip below */
	if (s->pfx == 4)
		flmdb_be32(kb, (uint32_t)s->no);
	else
		flmdb_be64(kb, s->no);
	if (n)
		memcpy(kb + s->pfx, after, n);
	MDB_val k = {s->pfx + n, kb};
	int rc = src_read(m, s, MDB_SET_RANGE, &k);
	while (!rc && s->live && keycmp(s->k, s->klen, after, alen) < 0)
		rc = src_read(m, s, MDB_NEXT, &k);
	return rc;
}

static int src_add(flmdb_txn *t, flmdb_merge *m, MDB_dbi db, size_t pfx,
		   uint64_t no, const unsigned char *after, size_t alen)
{
	flmdb_src *s = &m->src[m->n++];
	s->pfx = pfx;
	s->no = no;
	if (db) {
		int rc = mdb_cursor_open(t->txn, db, &s->c);
		if (rc)
			return rc;
	}
	return src_seek(m, s, after, alen);
}

int flmdb_merge_open(flmdb_txn *t, flmdb_mslot *sl, int pending,
		     size_t from, int tree, const unsigned char *after,
		     size_t alen, flmdb_merge *m)
{
	memset(m, 0, sizeof *m);
	int rc = flmdb_runs_load(t, sl);
	if (rc)
		return rc;
	pending = pending && sl->pend.n;
	size_t runs = from < sl->nruns ? sl->nruns - from : 0;
	m->src = calloc((size_t)pending + runs + (size_t)!!tree,
			sizeof *m->src);
	if (!m->src)
		return ENOMEM;
	if (pending) {
		if ((rc = flmdb_pend_sorted(&sl->pend, &m->pe, &m->pkeys)))
			return rc;
		m->pn = sl->pend.n;
		if ((rc = src_add(t, m, 0, 0, 0, after, alen)))
			return rc;
	}
	for (size_t i = sl->nruns; i-- > sl->nruns - runs && !rc;)
		rc = src_add(t, m, t->s->idrun, 8, sl->runs[i].no, after, alen);
	if (tree && !rc)
		rc = src_add(t, m, t->s->ids, 4, sl->ix, after, alen);
	return rc;
}

int flmdb_merge_next(flmdb_merge *m, const unsigned char **id, size_t *idlen,
		     uint64_t *seq, uint32_t *len)
{
	flmdb_src *best = NULL;
	MDB_val k;
	for (size_t i = 0; i < m->n; i++) {
		flmdb_src *s = &m->src[i];
		if (s->adv) {
			s->adv = 0;
			int rc = src_read(m, s, MDB_NEXT, &k);
			if (rc)
				return rc;
		}
	}
	for (size_t i = 0; i < m->n; i++) {
		flmdb_src *s = &m->src[i];
		if (s->live &&
		    (!best || keycmp(s->k, s->klen, best->k, best->klen) < 0))
			best = s;
	}
	if (!best)
		return MDB_NOTFOUND;
	for (size_t i = 0; i < m->n; i++) {
		flmdb_src *s = &m->src[i];
		s->adv = s->live && (s == best || (s->klen == best->klen &&
			 !memcmp(s->k, best->k, s->klen)));
	}
	*id = best->k;
	*idlen = best->klen;
	*seq = best->seq;
	*len = best->len;
	return 0;
}

void flmdb_merge_close(flmdb_merge *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->src[i].c)
			mdb_cursor_close(m->src[i].c);
	free(m->src);
	free(m->pe);
	free(m->pkeys);
	memset(m, 0, sizeof *m);
}
