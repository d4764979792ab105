/*
 * lmdb_runs.c - recent id mappings, kept as sorted runs beside the id tree.
 *
 * Why: a synced commit of ids in random order dirtied one 4 KiB leaf of
 * `ids` per id (3-4 KB written per 0.45 KB document, docs/benchmarks.md),
 * which capped ferryd's bulk at ~40 k docs/s. Instead, a write transaction
 * keeps the mappings it makes in memory (the pending table); at commit
 * they become one sorted run in `idrun`, packed in blocks and appended at
 * the end of that table, with a Bloom filter in `runs`. Lookups ask the
 * pending table, then the runs newest first (through their filters), then
 * `ids` (through a filter of its ids, which merges keep up to date).
 *
 * When an index has more than run_max runs, the newest are merged into
 * one; when its runs would hold run_merge ids or half the index,
 * they are merged into `ids` in key order, a slice per commit (see "in
 * steps" below), or at once for a batch of that size. All of it happens
 * inside the writer's LMDB transaction, so other processes, snapshots and
 * crashes see the runs exactly as committed. LMDB has no such structure,
 * hence this file; the id-ordered merge of the sources is in lmdb_merge.c.
 */
#include <stdlib.h>

#include "core/err.h"
#include "store/lmdb/lmdb_int.h"

#define RUN_HDR 16       /* format(4) count(4) nblocks(4) reserved(4) */
#define RUN_FORMAT 2     /* entries packed in blocks */
#define BLOOM_BLOCK 64   /* bytes: one cache line per lookup */
#define BLOOM_BITS 10    /* per id: about 1 % false positives */
#define BLOOM_PROBES 7

/* ---- hashing and Bloom filters ---- */

uint64_t flmdb_id_hash(const char *id, size_t n)
{
	const unsigned char *p = (const unsigned char *)id;
	uint64_t h = UINT64_C(0x243f6a8885a308d3) ^ n, w;
	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * UINT64_C(0x9e3779b97f4a7c15);
		h ^= h >> 32;
	}
	w = 0;
	if (n)
		memcpy(&w, p, n);
	h = (h ^ w) * UINT64_C(0x9e3779b97f4a7c15);
	h ^= h >> 29;
	h *= UINT64_C(0xbf58476d1ce4e5b9);
	return h ^ (h >> 32);
}

static uint32_t bloom_blocks(uint64_t count)
{
	uint64_t b = (count * BLOOM_BITS + BLOOM_BLOCK * 8 - 1) /
		     (BLOOM_BLOCK * 8);
	return b ? (uint32_t)b : 1;
}

/* The block of h (its high half), and BLOOM_PROBES bits in it taken 9 at a
 * time from a second hash (its low half, multiplied). */
static size_t bloom_off(uint32_t nb, uint64_t h)
{
	return (size_t)(((h >> 32) * nb) >> 32) * BLOOM_BLOCK;
}

static void bloom_add(unsigned char *bl, uint32_t nb, uint64_t h)
{
	unsigned char *b = bl + bloom_off(nb, h);
	uint64_t g = h * UINT64_C(0xc2b2ae3d27d4eb4f);
	for (int i = 0; i < BLOOM_PROBES; i++, g >>= 9)
		b[(g & 511) >> 3] |= (unsigned char)(1u << (g & 7));
}

static int bloom_test(const unsigned char *bl, uint32_t nb, uint64_t h)
{
	const unsigned char *b = bl + bloom_off(nb, h);
	uint64_t g = h * UINT64_C(0xc2b2ae3d27d4eb4f);
	for (int i = 0; i < BLOOM_PROBES; i++, g >>= 9)
		if (!(b[(g & 511) >> 3] & (1u << (g & 7))))
			return 0;
	return 1;
}

/* ---- the runs of an index ---- */

/* A merge into `ids` in steps (see flmdb_runs_flush) keeps its state
 * under ix | 8 x 0xff | 'M' in `runs`: after every run of ix (a key of 12
 * bytes), where a binary that knows no such merge stops reading. The
 * value: format 1 (4), the newest run in the merge (8), the first id not
 * merged yet. */
#define MSTATE_KEY 13

static MDB_val mstate_key(unsigned char *kb, uint32_t ix)
{
	flmdb_be32(kb, ix);
	memset(kb + 4, 0xff, 8);
	kb[12] = 'M';
	return (MDB_val){MSTATE_KEY, kb};
}

static int mstate_is(const MDB_val *k, uint32_t ix)
{
	unsigned char kb[MSTATE_KEY];
	mstate_key(kb, ix);
	return k->mv_size == MSTATE_KEY && !memcmp(k->mv_data, kb, MSTATE_KEY);
}

static int mstate_read(flmdb_mslot *sl, const MDB_val *v)
{
	const unsigned char *d = v->mv_data;
	if (v->mv_size <= 12 || v->mv_size > 12 + FLMDB_RUN_ID_MAX ||
	    flmdb_rd32(d) != 1 || !flmdb_rd64(d + 4))
		return MDB_CORRUPTED;
	sl->mg_upto = flmdb_rd64(d + 4);
	sl->mg_klen = v->mv_size - 12;
	memcpy(sl->mg_key, d + 12, sl->mg_klen);
	return 0;
}

static int mstate_put(flmdb_txn *t, uint32_t ix, uint64_t upto,
		      const unsigned char *id, size_t idlen)
{
	unsigned char kb[MSTATE_KEY], vb[12 + FLMDB_RUN_ID_MAX];
	MDB_val k = mstate_key(kb, ix), v = {12 + idlen, vb};
	flmdb_be32(vb, 1);
	flmdb_be64(vb + 4, upto);
	memcpy(vb + 12, id, idlen);
	return mdb_put(t->txn, t->s->runs, &k, &v, 0);
}

static int mstate_del(MDB_txn *txn, MDB_dbi runs, uint32_t ix)
{
	unsigned char kb[MSTATE_KEY];
	MDB_val k = mstate_key(kb, ix);
	int rc = mdb_del(txn, runs, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int flmdb_runs_load(flmdb_txn *t, flmdb_mslot *sl)
{
	if (sl->runs_loaded)
		return 0;
	sl->nruns = 0;
	sl->run_ids = 0;
	sl->mg_upto = 0;
	sl->mg_klen = 0;
	memset(&sl->tree, 0, sizeof sl->tree);
	if (!t->s->has_runs) {
		sl->runs_loaded = 1;
		return 0;
	}
	MDB_cursor *c;
	unsigned char kb[4];
	flmdb_be32(kb, sl->ix);
	MDB_val k = {4, kb}, v;
	int rc = mdb_cursor_open(t->txn, t->s->runs, &c);
	if (rc)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !rc;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const unsigned char *d = v.mv_data;
		if (k.mv_size != 12 || flmdb_rd32(k.mv_data) != sl->ix)
			break;
		uint32_t nb = v.mv_size >= RUN_HDR ? flmdb_rd32(d + 8) : 0;
		if (!nb || v.mv_size != RUN_HDR + (size_t)nb * BLOOM_BLOCK ||
		    flmdb_rd32(d) != RUN_FORMAT) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (sl->nruns == sl->caprun) {
			size_t cap = sl->caprun ? sl->caprun * 2 : 16;
			flmdb_run *r = realloc(sl->runs, cap * sizeof *r);
			if (!r) {
				rc = ENOMEM;
				break;
			}
			sl->runs = r;
			sl->caprun = cap;
		}
		uint64_t no = flmdb_rd64((const unsigned char *)k.mv_data + 4);
		flmdb_run *r = no ? &sl->runs[sl->nruns++] : &sl->tree;
		r->no = no;
		r->count = flmdb_rd32(d + 4);
		r->nblocks = nb;
		r->bloom = d + RUN_HDR;
		if (no)
			sl->run_ids += r->count;
	}
	if (!rc && mstate_is(&k, sl->ix))
		rc = mstate_read(sl, &v);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	sl->runs_loaded = !rc;
	return rc;
}

int flmdb_tree_absent(flmdb_txn *t, flmdb_mslot *sl, uint64_t h)
{
	return sl->m.filtered && !flmdb_runs_load(t, sl) && sl->tree.bloom &&
	       !bloom_test(sl->tree.bloom, sl->tree.nblocks, h);
}

/* Looks id up in run `no`: the block whose first id is the greatest <= id,
 * then a binary search in it. */
static int block_find(MDB_cursor *c, uint64_t no, const unsigned char *id,
		      size_t idlen, uint64_t *seq, uint32_t *len)
{
	unsigned char kb[8 + FLMDB_RUN_ID_MAX];
	flmdb_be64(kb, no);
	memcpy(kb + 8, id, idlen);
	MDB_val k = {8 + idlen, kb}, v;
	flmdb_block b;
	int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	else if (!rc && (k.mv_size != 8 + idlen || memcmp(k.mv_data, kb,
							 8 + idlen)))
		rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	if (rc)
		return rc;
	if (k.mv_size <= 8 || flmdb_rd64(k.mv_data) != no)
		return MDB_NOTFOUND;
	if ((rc = flmdb_block_open(&v, &b)))
		return rc;
	for (unsigned lo = 0, hi = b.n; lo < hi;) {
		unsigned mid = lo + (hi - lo) / 2;
		const unsigned char *e;
		size_t elen;
		flmdb_block_entry(&b, mid, &e, &elen, seq, len);
		int cmp = flmdb_keycmp(e, elen, id, idlen);
		if (!cmp)
			return 0;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return MDB_NOTFOUND;
}

int flmdb_runs_find(flmdb_txn *t, flmdb_mslot *sl, const char *id,
		    size_t idlen, uint64_t h, uint64_t *seq, uint32_t *len)
{
	flmdb_pent *e = flmdb_pend_find(&sl->pend, id, idlen, h);
	if (e) {
		*seq = e->seq;
		*len = e->len;
		return 0;
	}
	int rc = flmdb_runs_load(t, sl);
	if (rc)
		return rc;
	MDB_cursor *c = NULL;
	for (size_t i = sl->nruns; i-- > 0 && !rc;) {
		flmdb_run *r = &sl->runs[i];
		if (!bloom_test(r->bloom, r->nblocks, h))
			continue;
		if (!c && (rc = mdb_cursor_open(t->txn, t->s->idrun, &c)))
			break;
		rc = block_find(c, r->no, (const unsigned char *)id, idlen,
				seq, len);
		if (!rc) {
			mdb_cursor_close(c);
			return 0;
		}
		rc = rc == MDB_NOTFOUND ? 0 : rc;
	}
	if (c)
		mdb_cursor_close(c);
	return rc ? rc : MDB_NOTFOUND;
}

/* ---- writing, compacting and merging runs ---- */

/* Deletes the blocks of run `no` from `idrun` through cursor c, at most
 * *budget of them (counted off): 0 when none are left or the budget ran
 * out, or an LMDB error. */
static int blocks_del(MDB_cursor *c, uint64_t no, size_t *budget)
{
	unsigned char kb[8];
	flmdb_be64(kb, no);
	MDB_val k = {8, kb}, v;
	int rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	     !rc && *budget && k.mv_size > 8 && flmdb_rd64(k.mv_data) == no;
	     rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT)) {
		if ((rc = mdb_cursor_del(c, 0)))
			return rc;
		(*budget)--;
	}
	return rc == MDB_NOTFOUND || rc == EINVAL ? 0 : rc;
}

/* Deletes runs[from..to) of sl: their blocks in `idrun`, then their
 * headers in `runs`. */
static int runs_drop(flmdb_txn *t, flmdb_mslot *sl, size_t from, size_t to)
{
	MDB_cursor *c = NULL;
	size_t all = SIZE_MAX;
	int rc = mdb_cursor_open(t->txn, t->s->idrun, &c);
	for (size_t i = from; i < to && i < sl->nruns && !rc; i++) {
		unsigned char kb[12];
		if ((rc = blocks_del(c, sl->runs[i].no, &all)))
			break;
		flmdb_be32(kb, sl->ix);
		flmdb_be64(kb + 4, sl->runs[i].no);
		MDB_val k = {12, kb};
		rc = mdb_del(t->txn, t->s->runs, &k, NULL);
	}
	if (c)
		mdb_cursor_close(c);
	sl->runs_loaded = 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Takes the next run number from the counter in `runs` (key 0x00, before
 * every index's). Numbers only grow, so a new run's keys come last in
 * `idrun` (they are appended) and a newer run has a higher number. */
static int run_number(flmdb_txn *t, uint64_t *no)
{
	unsigned char kb[1] = {0}, vb[8];
	MDB_val k = {1, kb}, v;
	int rc = 0;
	if (!t->run_next) {
		rc = mdb_get(t->txn, t->s->runs, &k, &v);
		if (!rc && v.mv_size != 8)
			return MDB_CORRUPTED;
		t->run_next = rc ? 1 : flmdb_rd64(v.mv_data);
		if (rc && rc != MDB_NOTFOUND)
			return rc;
	}
	*no = t->run_next++;
	flmdb_be64(vb, t->run_next);
	v = (MDB_val){8, vb};
	return mdb_put(t->txn, t->s->runs, &k, &v, 0);
}

/* Packs a run's entries into blocks (see FLMDB_BLOCK_MAX) and appends
 * each full block to `idrun`. */
typedef struct bwriter {
	MDB_cursor *c;
	size_t used;          /* entry bytes in buf */
	unsigned n;           /* entries in buf */
	size_t flen;
	unsigned char buf[FLMDB_BLOCK_MAX];
	uint16_t offs[FLMDB_BLOCK_MAX / 16];
	unsigned char first[8 + FLMDB_RUN_ID_MAX]; /* the block's key */
} bwriter;

static int bw_flush(bwriter *w)
{
	unsigned char *p = w->buf + w->used;
	if (!w->n)
		return 0;
	for (unsigned i = 0; i < w->n; i++) {
		p[2 * i] = (unsigned char)(w->offs[i] >> 8);
		p[2 * i + 1] = (unsigned char)w->offs[i];
	}
	p[2 * w->n] = (unsigned char)(w->n >> 8);
	p[2 * w->n + 1] = (unsigned char)w->n;
	MDB_val k = {w->flen, w->first}, v = {w->used + 2 * w->n + 2, w->buf};
	w->n = 0;
	w->used = 0;
	return mdb_cursor_put(w->c, &k, &v, MDB_APPEND);
}

static int bw_add(bwriter *w, uint64_t no, const unsigned char *id,
		  size_t idlen, uint64_t seq, uint32_t len)
{
	int rc;
	if (w->n && w->used + 14 + idlen + 2 * (w->n + 1) + 2 >
		    FLMDB_BLOCK_MAX && (rc = bw_flush(w)))
		return rc;
	if (!w->n) {
		flmdb_be64(w->first, no);
		memcpy(w->first + 8, id, idlen);
		w->flen = 8 + idlen;
	}
	unsigned char *e = w->buf + w->used;
	e[0] = (unsigned char)(idlen >> 8);
	e[1] = (unsigned char)idlen;
	memcpy(e + 2, id, idlen);
	flmdb_be64(e + 2 + idlen, seq);
	flmdb_be32(e + 10 + idlen, len);
	w->offs[w->n++] = (uint16_t)w->used;
	w->used += 14 + idlen;
	return 0;
}

/* Writes pending mappings (if `pending`) and runs[from..] as one new run,
 * then drops those runs. */
static int run_write(flmdb_txn *t, flmdb_mslot *sl, int pending,
		     size_t from)
{
	uint64_t cap = pending ? sl->pend.n : 0, no = 0;
	for (size_t i = from; i < sl->nruns; i++)
		cap += sl->runs[i].count;
	uint32_t nb = bloom_blocks(cap), count = 0;
	unsigned char *hdr = calloc(1, RUN_HDR + (size_t)nb * BLOOM_BLOCK);
	unsigned char kb[12];
	bwriter *w = calloc(1, sizeof *w);
	const unsigned char *id;
	size_t idlen;
	uint64_t seq;
	uint32_t len;
	flmdb_merge m;
	int rc = flmdb_merge_open(t, sl, pending, from, 0, NULL, 0, &m);
	if (!rc && (!hdr || !w))
		rc = ENOMEM;
	if (!rc)
		rc = mdb_cursor_open(t->txn, t->s->idrun, &w->c);
	if (!rc)
		rc = run_number(t, &no);
	while (!rc && !(rc = flmdb_merge_next(&m, &id, &idlen, &seq, &len))) {
		if ((rc = bw_add(w, no, id, idlen, seq, len)))
			break;
		bloom_add(hdr + RUN_HDR, nb, flmdb_id_hash((const char *)id,
							   idlen));
		count++;
	}
	flmdb_merge_close(&m);
	if (rc == MDB_NOTFOUND)
		rc = bw_flush(w);
	if (w && w->c)
		mdb_cursor_close(w->c);
	if (!rc) {
		flmdb_be32(hdr, RUN_FORMAT);
		flmdb_be32(hdr + 4, count);
		flmdb_be32(hdr + 8, nb);
		flmdb_be32(kb, sl->ix);
		flmdb_be64(kb + 4, no);
		MDB_val k = {12, kb}, v = {RUN_HDR + (size_t)nb * BLOOM_BLOCK,
					   hdr};
		rc = mdb_put(t->txn, t->s->runs, &k, &v, 0);
	}
	if (!rc)
		rc = runs_drop(t, sl, from, SIZE_MAX);
	free(hdr);
	free(w);
	return rc;
}

/* The filter of every id of ix in `ids` (run number 0 in `runs`): after
 * a merge, a new id's lookup costs one cache line instead of a descent of
 * the tree. A merge adds the ids it brings to the filter while it has
 * room (tfilter_begin copies it), so that only the new ids are hashed;
 * when it has none, or the tree changed outside merges (an append clears
 * m.filtered until the next merge), tfilter_rebuild hashes the whole tree
 * into a filter with room for as many ids again. Removed ids stay in the
 * filter until a rebuild: a false positive costs one descent. Ids too
 * long for runs are hashed in their keys and not filtered. */
typedef struct tfilter {
	unsigned char *hdr;  /* RUN_HDR, then nb Bloom blocks */
	uint32_t nb, count;
} tfilter;

/* Up to how many ids a filter of nb blocks takes. */
static uint64_t tfilter_room(uint32_t nb)
{
	return (uint64_t)nb * BLOOM_BLOCK * 8 / BLOOM_BITS;
}

/* Before a merge of `adding` ids: a copy of the current filter if it
 * covers the tree and has room for them (f->hdr set), else f->hdr NULL
 * (the merge then calls tfilter_rebuild). */
static int tfilter_begin(flmdb_mslot *sl, uint64_t adding, tfilter *f)
{
	memset(f, 0, sizeof *f);
	if (!sl->m.filtered || !sl->tree.bloom ||
	    sl->tree.count + adding > tfilter_room(sl->tree.nblocks))
		return 0;
	f->nb = sl->tree.nblocks;
	f->count = sl->tree.count;
	size_t size = RUN_HDR + (size_t)f->nb * BLOOM_BLOCK;
	if (!(f->hdr = malloc(size)))
		return ENOMEM;
	memcpy(f->hdr, sl->tree.bloom - RUN_HDR, size);
	return 0;
}

static void tfilter_add(tfilter *f, const unsigned char *id, size_t idlen)
{
	bloom_add(f->hdr + RUN_HDR, f->nb, flmdb_id_hash((const char *)id,
							 idlen));
	f->count++;
}

/* Stores f as ix's tree filter and frees it. */
static int tfilter_put(flmdb_txn *t, flmdb_mslot *sl, tfilter *f)
{
	unsigned char kb[12];
	flmdb_be32(f->hdr, RUN_FORMAT);
	flmdb_be32(f->hdr + 4, f->count);
	flmdb_be32(f->hdr + 8, f->nb);
	flmdb_be32(kb, sl->ix);
	flmdb_be64(kb + 4, 0);
	MDB_val k = {12, kb}, v = {RUN_HDR + (size_t)f->nb * BLOOM_BLOCK,
				   f->hdr};
	int rc = mdb_put(t->txn, t->s->runs, &k, &v, 0);
	free(f->hdr);
	f->hdr = NULL;
	sl->m.filtered = !rc;
	sl->dirty = 1;
	sl->runs_loaded = 0;
	return rc;
}

static int tfilter_rebuild(flmdb_txn *t, flmdb_mslot *sl)
{
	tfilter f = {NULL, bloom_blocks(2 * (sl->m.docs + sl->m.tombs)), 0};
	unsigned char kb[4];
	MDB_cursor *c = NULL;
	MDB_val k = {4, kb}, v;
	int rc = (f.hdr = calloc(1, RUN_HDR + (size_t)f.nb * BLOOM_BLOCK)) ?
		 mdb_cursor_open(t->txn, t->s->ids, &c) : ENOMEM;
	flmdb_be32(kb, sl->ix);
	for (rc = rc ? rc : mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !rc;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size <= 4 || flmdb_rd32(k.mv_data) != sl->ix)
			break;
		if (k.mv_size - 4 <= FLMDB_RUN_ID_MAX)
			tfilter_add(&f, (const unsigned char *)k.mv_data + 4,
				    k.mv_size - 4);
	}
	if (c)
		mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	if (rc) {
		free(f.hdr);
		return rc;
	}
	return tfilter_put(t, sl, &f);
}

/* Writes one mapping into `ids` through cursor c (a removed id is
 * deleted from it) and adds a kept id to filter f, if any. */
static int tree_apply(MDB_cursor *c, uint32_t ix, const unsigned char *id,
		      size_t idlen, uint64_t seq, uint32_t len, tfilter *f)
{
	unsigned char kb[4 + FLMDB_RUN_ID_MAX], vb[12];
	flmdb_be32(kb, ix);
	memcpy(kb + 4, id, idlen);
	MDB_val k = {4 + idlen, kb}, v = {12, vb};
	int rc;
	if (!seq) {
		rc = mdb_cursor_get(c, &k, &v, MDB_SET);
		return rc ? rc == MDB_NOTFOUND ? 0 : rc : mdb_cursor_del(c, 0);
	}
	flmdb_be64(vb, seq);
	flmdb_be32(vb + 8, len);
	if (!(rc = mdb_cursor_put(c, &k, &v, 0)) && f && f->hdr)
		tfilter_add(f, id, idlen); /* known ids count again */
	return rc;
}

/* Ends a merge that put runs[0..to) into `ids` (rc: MDB_NOTFOUND from
 * its walk, else its error): drops those runs and the record of a merge
 * in steps, and stores the tree filter (f, or one rebuilt from `ids`). */
static int merge_end(flmdb_txn *t, flmdb_mslot *sl, size_t to, int rc,
		     tfilter *f)
{
	if (rc == MDB_NOTFOUND && !(rc = runs_drop(t, sl, 0, to)))
		rc = mstate_del(t->txn, t->s->runs, sl->ix);
	if (rc) {
		free(f->hdr);
		return rc;
	}
	return f->hdr ? tfilter_put(t, sl, f) : tfilter_rebuild(t, sl);
}

/* Applies pending mappings and every run to `ids` in key order, then
 * drops the runs (and ends a merge in steps under way: this one covers
 * it). */
static int runs_merge_tree(flmdb_txn *t, flmdb_mslot *sl)
{
	const unsigned char *id;
	size_t idlen;
	uint64_t seq;
	uint32_t len;
	MDB_cursor *c = NULL;
	flmdb_merge m;
	tfilter f = {NULL, 0, 0};
	int rc = flmdb_merge_open(t, sl, 1, 0, 0, NULL, 0, &m);
	if (!rc)
		rc = tfilter_begin(sl, sl->pend.n + sl->run_ids, &f);
	if (!rc)
		rc = mdb_cursor_open(t->txn, t->s->ids, &c);
	while (!rc && !(rc = flmdb_merge_next(&m, &id, &idlen, &seq, &len)))
		rc = tree_apply(c, sl->ix, id, idlen, seq, len, &f);
	flmdb_merge_close(&m);
	if (c)
		mdb_cursor_close(c);
	return merge_end(t, sl, SIZE_MAX, rc, &f);
}

/* ---- merging into `ids` in steps ----
 *
 * A merge of every run at once rewrites nearly every leaf of the tree in
 * one commit: ~0.4 s at 1 M random ids, and it grows with the index, a
 * pause for every writer. So when the runs reach the merge size, the runs
 * there are then (the "old" runs, always the oldest) are merged in key
 * order a slice per commit, each commit taking twice as many of their ids
 * as it brings, and dropped after the last slice. Until then a merged id
 * is both in `ids` and in its old run with the same mapping: lookups and
 * scans take the newest source, so they see no difference; newer runs
 * still override both. The compaction leaves the old runs alone. The tree
 * filter learns the old runs' ids when they are dropped; until then those
 * runs' own filters answer for them. */

/* The number of old runs (those numbered up to mg_upto), 0 if no merge
 * is under way. */
static size_t merge_old(const flmdb_mslot *sl)
{
	size_t n = 0;
	while (sl->mg_upto && n < sl->nruns && sl->runs[n].no <= sl->mg_upto)
		n++;
	return n;
}

/* After the last slice: the old runs' ids go into the tree filter, the
 * runs and the merge state go. */
static int merge_finish(flmdb_txn *t, flmdb_mslot *sl, size_t nold)
{
	const unsigned char *id;
	size_t idlen;
	uint64_t seq, count = 0;
	uint32_t len;
	flmdb_merge m = {0};
	tfilter f;
	for (size_t i = 0; i < nold; i++)
		count += sl->runs[i].count;
	int rc = tfilter_begin(sl, count, &f);
	if (!rc && f.hdr && !(rc = flmdb_merge_open_runs(t, sl, 0, nold, NULL,
							 0, &m)))
		while (!(rc = flmdb_merge_next(&m, &id, &idlen, &seq, &len)))
			if (seq)
				tfilter_add(&f, id, idlen);
	flmdb_merge_close(&m);
	return merge_end(t, sl, nold, rc ? rc : MDB_NOTFOUND, &f);
}

/* Merges the next `step` ids of the old runs runs[0..nold) into `ids`,
 * from where the last step stopped; records where this one stops, or
 * finishes the merge. */
static int merge_step(flmdb_txn *t, flmdb_mslot *sl, size_t nold,
		      uint64_t step)
{
	unsigned char from[FLMDB_RUN_ID_MAX];
	const unsigned char *id;
	size_t flen = 0, idlen;
	uint64_t seq, n = 0;
	uint32_t len;
	MDB_cursor *c = NULL;
	flmdb_merge m = {0};
	int rc = flmdb_runs_load(t, sl);
	if (rc || !nold || nold > sl->nruns)
		return rc ? rc : MDB_CORRUPTED;
	uint64_t upto = sl->runs[nold - 1].no;
	if (sl->mg_upto == upto) {
		flen = sl->mg_klen;
		memcpy(from, sl->mg_key, flen);
	}
	if (!(rc = flmdb_merge_open_runs(t, sl, 0, nold, from, flen, &m)))
		rc = mdb_cursor_open(t->txn, t->s->ids, &c);
	while (!rc && !(rc = flmdb_merge_next(&m, &id, &idlen, &seq, &len))) {
		if (n++ == step) { /* the first id of the next step */
			rc = mstate_put(t, sl->ix, upto, id, idlen);
			break;
		}
		rc = tree_apply(c, sl->ix, id, idlen, seq, len, NULL);
	}
	flmdb_merge_close(&m);
	if (c)
		mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? merge_finish(t, sl, nold) : rc;
}

/* Ids of the old runs to merge in a commit that adds `adding`: all of
 * them are merged by the time half a merge size more has come. */
static uint64_t merge_step_size(uint64_t adding, uint64_t old_ids,
				uint64_t limit)
{
	uint64_t step = (2 * adding * old_ids + limit - 1) / limit;
	return step < 16 ? 16 : step;
}

/* Which runs a new run takes in with the pending mappings: none while
 * the index has fewer than run_max runs; otherwise the newest ones,
 * walking back while the next older run is no bigger than what is taken
 * so far, and as many as it needs to stay within run_max. Big old runs are
 * not rewritten for small new ones: each id is rewritten about 2.5 times
 * before it reaches `ids` (a simulation of 1 000-4 000-id commits). Runs
 * before lo (those of a merge under way) are neither taken nor counted. */
static size_t runs_take(const flmdb_mslot *sl, unsigned run_max, size_t lo)
{
	size_t from = sl->nruns;
	uint64_t acc = sl->pend.n;
	if (from - lo + 1 <= run_max)
		return from;
	while (from > lo &&
	       (sl->runs[from - 1].count <= acc || from - lo + 1 > run_max))
		acc += sl->runs[--from].count;
	return from;
}

/* At commit: the pending mappings become a run, and the merge in steps
 * goes on, or starts when the runs reach half the index (at least
 * run_merge ids). A batch that alone reaches that size (an import), or
 * runs that grew to twice it, are merged at once. Each merge rewrites
 * about every leaf of the tree, so the fraction sets how often the tree
 * is rewritten while it grows: at a quarter, a 1 M-id import wrote 563 MB
 * and took 2.53 s; at half, 528 MB and 2.25 s (docs/benchmarks.md,
 * session 12). The merge goes in steps sized by the commit, so a commit's
 * pause does not grow with the fraction. */
int flmdb_runs_flush(flmdb_txn *t, flmdb_mslot *sl, ferry_err *err)
{
	if (!sl->pend.n)
		return 0;
	int rc = flmdb_runs_load(t, sl);
	uint64_t size = sl->m.docs + sl->m.tombs, adding = sl->pend.n;
	uint64_t limit = size / 2 > t->s->run_merge ? size / 2 :
		t->s->run_merge;
	if (!rc && (adding >= limit || adding + sl->run_ids >= 2 * limit)) {
		rc = runs_merge_tree(t, sl);
	} else if (!rc) {
		size_t nold = merge_old(sl);
		if (!nold && adding + sl->run_ids >= limit)
			nold = sl->nruns; /* start a merge of every run so far */
		uint64_t old_ids = 0;
		for (size_t i = 0; i < nold; i++)
			old_ids += sl->runs[i].count;
		rc = run_write(t, sl, 1, runs_take(sl, t->s->run_max, nold));
		if (!rc && nold)
			rc = merge_step(t, sl, nold,
					merge_step_size(adding, old_ids, limit));
	}
	flmdb_pend_clear(&sl->pend);
	sl->runs_loaded = 0;
	return rc ? flmdb_error(rc, err, "writing recent ids") : 0;
}

/* ---- dropped indices ---- */

int flmdb_runs_purge(flmdb *s, MDB_txn *txn, uint32_t ix, size_t *budget,
		     int *done)
{
	MDB_cursor *rc_ = NULL, *ic = NULL;
	unsigned char kb[12];
	MDB_val k, v;
	int rc = 0;
	*done = 1;
	if (!s->has_runs)
		return 0;
	if ((rc = mdb_cursor_open(txn, s->runs, &rc_)) ||
	    (rc = mdb_cursor_open(txn, s->idrun, &ic)))
		goto out;
	flmdb_be32(kb, ix);
	k = (MDB_val){4, kb};
	for (rc = mdb_cursor_get(rc_, &k, &v, MDB_SET_RANGE); !rc;
	     rc = mdb_cursor_get(rc_, &k, &v, MDB_GET_CURRENT)) {
		if (k.mv_size != 12 || flmdb_rd32(k.mv_data) != ix)
			break;
		uint64_t no = flmdb_rd64((const unsigned char *)k.mv_data + 4);
		if ((rc = blocks_del(ic, no, budget)))
			break;
		if (!*budget) {
			*done = 0;
			rc = 0;
			break;
		}
		if ((rc = mdb_cursor_del(rc_, 0)))
			break;
	}
out:
	if (ic)
		mdb_cursor_close(ic);
	if (rc_)
		mdb_cursor_close(rc_);
	if (rc == MDB_NOTFOUND || rc == EINVAL)
		rc = 0;
	return !rc && *done ? mstate_del(txn, s->runs, ix) : rc;
}
