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

int flmdb_block_open(const MDB_val *v, flmdb_block *b)
{
	const unsigned char *p = v->mv_data;
	if (v->mv_size < 2)
		return MDB_CORRUPTED;
	b->p = p;
	b->size = v->mv_size;
	b->n = (unsigned)p[v->mv_size - 2] << 8 | p[v->mv_size - 1];
	if (!b->n || 2 + (2 + 14) * (size_t)b->n > v->mv_size)
		return MDB_CORRUPTED;
	const unsigned char *offs = p + v->mv_size - 2 - 2 * (size_t)b->n;
	for (unsigned i = 0; i < b->n; i++) { /* every entry inside */
		size_t o = (size_t)offs[2 * i] << 8 | offs[2 * i + 1];
		if (o + 14 > (size_t)(offs - p) ||
		    o + 14 + ((size_t)p[o] << 8 | p[o + 1]) > (size_t)(offs - p))
			return MDB_CORRUPTED;
	}
	return 0;
}

void flmdb_block_entry(const flmdb_block *b, unsigned i,
		       const unsigned char **id, size_t *idlen, uint64_t *seq,
		       uint32_t *len)
{
	const unsigned char *offs = b->p + b->size - 2 - 2 * (size_t)b->n;
	const unsigned char *e = b->p + ((size_t)offs[2 * i] << 8 |
					 offs[2 * i + 1]);
	*idlen = (size_t)e[0] << 8 | e[1];
	*id = e + 2;
	*seq = flmdb_rd64(e + 2 + *idlen);
	*len = flmdb_rd32(e + 10 + *idlen);
}

/* s->kp from s->k: the heap compares these first (one integer compare
 * instead of a memcmp call; random ids nearly always differ there). */
static void src_pfx(flmdb_src *s)
{
	unsigned char b[8] = {0};
	memcpy(b, s->k, s->klen < 8 ? s->klen : 8);
	s->kp = flmdb_rd64(b);
}

static void src_pending(flmdb_merge *m, flmdb_src *s)
{
	s->live = s->pi < m->pn;
	if (s->live) {
		const flmdb_pent *e = &m->pe[s->pi];
		s->k = (const unsigned char *)m->pkeys + e->koff;
		s->klen = e->klen;
		src_pfx(s);
		s->seq = e->seq;
		s->len = e->len;
	}
}

/* Reads the entry under a source's cursor (after moving it by op), or
 * marks the source finished when it left its prefix. A run's cursor
 * moves by blocks, and within a block by bi. */
static int src_read(flmdb_merge *m, flmdb_src *s, MDB_cursor_op op,
		    MDB_val *k)
{
	MDB_val v;
	if (!s->c) {
		s->pi += op == MDB_NEXT;
		src_pending(m, s);
		return 0;
	}
	if (s->pfx == 8 && op == MDB_NEXT && ++s->bi < s->blk.n) {
		flmdb_block_entry(&s->blk, s->bi, &s->k, &s->klen, &s->seq,
				  &s->len);
		src_pfx(s);
		return 0;
	}
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
	s->live = 1;
	if (s->pfx == 8) {
		if ((rc = flmdb_block_open(&v, &s->blk)))
			return rc;
		s->bi = 0;
		flmdb_block_entry(&s->blk, 0, &s->k, &s->klen, &s->seq,
				  &s->len);
		src_pfx(s);
		return 0;
	}
	if (v.mv_size != 12)
		return MDB_CORRUPTED;
	s->k = kp + s->pfx;
	s->klen = k->mv_size - s->pfx;
	src_pfx(s);
	s->seq = flmdb_rd64(v.mv_data);
	s->len = flmdb_rd32((const unsigned char *)v.mv_data + 8);
	return 0;
}

/* Puts a source on its first id >= after. A run starts from the block
 * before the first one keyed >= after: that block may hold it. */
static int src_seek(flmdb_merge *m, flmdb_src *s, const unsigned char *after,
		    size_t alen)
{
	unsigned char kb[8 + 511];
	size_t n = alen;
	int rc;
	if (!s->c) {
		size_t lo = 0, hi = m->pn;
		while (lo < hi) { /* the first entry >= after */
			size_t mid = lo + (hi - lo) / 2;
			const flmdb_pent *e = &m->pe[mid];
			if (flmdb_keycmp((const unsigned char *)m->pkeys + e->koff,
				   e->klen, after, alen) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		s->pi = lo;
		src_pending(m, s);
		return 0;
	}
	if (s->pfx + n > 511)
		n = 511 - s->pfx; /* a shorter prefix sorts first: skip below */
	if (s->pfx == 4)
		flmdb_be32(kb, (uint32_t)s->no);
	else
		flmdb_be64(kb, s->no);
	if (n)
		memcpy(kb + s->pfx, after, n);
	MDB_val k = {s->pfx + n, kb}, v;
	if (s->pfx == 8 && alen) {
		rc = mdb_cursor_get(s->c, &k, &v, MDB_SET_RANGE);
		if (rc && rc != MDB_NOTFOUND)
			return rc;
		rc = mdb_cursor_get(s->c, &k, &v, rc == MDB_NOTFOUND ?
				    MDB_LAST : MDB_PREV);
		if (rc == MDB_NOTFOUND)
			rc = mdb_cursor_get(s->c, &k, &v, MDB_FIRST);
		if (rc)
			return rc == MDB_NOTFOUND ? 0 : rc;
		if (k.mv_size <= 8 || flmdb_rd64(k.mv_data) != s->no) {
			rc = src_read(m, s, MDB_NEXT, &k);
		} else {
			rc = src_read(m, s, MDB_GET_CURRENT, &k);
		}
	} else {
		rc = src_read(m, s, MDB_SET_RANGE, &k);
	}
	while (!rc && s->live && flmdb_keycmp(s->k, s->klen, after, alen) < 0)
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

/* Pending mappings if `pending`, runs[lo..hi) newest first, `ids` if
 * `tree`, each on its first id >= after. */
static int merge_open(flmdb_txn *t, flmdb_mslot *sl, int pending, size_t lo,
		      size_t hi, int tree, const unsigned char *after,
		      size_t alen, flmdb_merge *m)
{
	memset(m, 0, sizeof *m);
	int rc = flmdb_runs_load(t, sl);
	if (rc)
		return rc;
	pending = pending && sl->pend.n;
	if (hi > sl->nruns)
		hi = sl->nruns;
	size_t runs = lo < hi ? hi - lo : 0;
	m->src = calloc((size_t)pending + runs + (size_t)!!tree + 1,
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
	for (size_t i = hi; i-- > hi - runs && !rc;)
		rc = src_add(t, m, t->s->idrun, 8, sl->runs[i].no, after, alen);
	if (tree && !rc)
		rc = src_add(t, m, t->s->ids, 4, sl->ix, after, alen);
	return rc;
}

int flmdb_merge_open(flmdb_txn *t, flmdb_mslot *sl, int pending,
		     size_t from, int tree, const unsigned char *after,
		     size_t alen, flmdb_merge *m)
{
	return merge_open(t, sl, pending, from, SIZE_MAX, tree, after, alen,
			  m);
}

int flmdb_merge_open_runs(flmdb_txn *t, flmdb_mslot *sl, size_t lo,
			  size_t hi, const unsigned char *after, size_t alen,
			  flmdb_merge *m)
{
	return merge_open(t, sl, 0, lo, hi, 0, after, alen, m);
}

/* The merge keeps its live sources in a binary heap ordered by (current
 * id, source number): the newest source wins among equal ids. A step pops
 * the smallest and every source showing the same id, and moves them on at
 * the next call (the id handed out points into the source). With the tree
 * and ten runs that is about 7 comparisons an id instead of 22 for a walk
 * over all sources (a scan of 1 M random-id profiles with half of them in
 * runs: docs/benchmarks.md, session 12). */
static int src_less(const flmdb_merge *m, uint32_t a, uint32_t b)
{
	const flmdb_src *x = &m->src[a], *y = &m->src[b];
	if (x->kp != y->kp)
		return x->kp < y->kp;
	int c = flmdb_keycmp(x->k, x->klen, y->k, y->klen);
	return c ? c < 0 : a < b;
}

static void heap_push(flmdb_merge *m, uint32_t s)
{
	size_t i = m->hn++;
	while (i) {
		size_t up = (i - 1) / 2;
		if (!src_less(m, s, m->heap[up]))
			break;
		m->heap[i] = m->heap[up];
		i = up;
	}
	m->heap[i] = s;
}

static uint32_t heap_pop(flmdb_merge *m)
{
	uint32_t top = m->heap[0], last = m->heap[--m->hn];
	size_t i = 0, n = m->hn;
	while (2 * i + 1 < n) {
		size_t c = 2 * i + 1;
		if (c + 1 < n && src_less(m, m->heap[c + 1], m->heap[c]))
			c++;
		if (!src_less(m, m->heap[c], last))
			break;
		m->heap[i] = m->heap[c];
		i = c;
	}
	if (n)
		m->heap[i] = last;
	return top;
}

/* Moves on the sources the previous step handed out and puts the live
 * ones in the heap (at the first step: every live source, as merge_open
 * positioned it). */
static int merge_advance(flmdb_merge *m)
{
	MDB_val k;
	int rc;
	if (!m->heap) {
		if (!(m->heap = malloc(2 * (m->n ? m->n : 1) * sizeof *m->heap)))
			return ENOMEM;
		m->advl = m->heap + (m->n ? m->n : 1);
		for (uint32_t i = 0; i < m->n; i++)
			if (m->src[i].live)
				heap_push(m, i);
		return 0;
	}
	for (size_t j = 0; j < m->nadv; j++) {
		flmdb_src *s = &m->src[m->advl[j]];
		if ((rc = src_read(m, s, MDB_NEXT, &k)))
			return rc;
		if (s->live)
			heap_push(m, m->advl[j]);
	}
	m->nadv = 0;
	return 0;
}

int flmdb_merge_next(flmdb_merge *m, const unsigned char **id, size_t *idlen,
		     uint64_t *seq, uint32_t *len)
{
	int rc = merge_advance(m);
	if (rc)
		return rc;
	if (!m->hn)
		return MDB_NOTFOUND;
	uint32_t b = heap_pop(m);
	const flmdb_src *best = &m->src[b];
	m->advl[m->nadv++] = b;
	while (m->hn) {
		const flmdb_src *s = &m->src[m->heap[0]];
		if (s->kp != best->kp || s->klen != best->klen ||
		    memcmp(s->k, best->k, s->klen))
			break;
		m->advl[m->nadv++] = heap_pop(m);
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
	free(m->heap);
	free(m->pe);
	free(m->pkeys);
	memset(m, 0, sizeof *m);
}
