/*
 * lmdb_docs.c - documents in the LMDB backend: write (index, create,
 * delete), get, the id-ordered scan and the seq-ordered change log, and
 * the trimming of old tombstones.
 *
 * A write looks the id up in `ids`, removes the old body (or tombstone)
 * at its old seq, and stores the new one at the next seq. Bodies are
 * appended at the end of their index's range of `docs`, so each id is in
 * the change log once, at its latest seq, and the log's size is bounded by
 * the number of ids.
 */
#include <stdlib.h>

#include <openssl/evp.h>

#include "core/err.h"
#include "store/lmdb/lmdb_int.h"

#define KEYBUF (4 + FERRY_ID_MAX)

/* The key of an id in `ids`: ix + the id. LMDB keys hold at most 511
 * bytes, so an id longer than FLMDB_ID_PLAIN bytes is keyed by its first
 * FLMDB_ID_PREFIX bytes, a NUL (ids never contain one, so such a key can
 * never equal a plain one) and 16 bytes of its SHA-256. Scans still see
 * the full id: it is stored with the body. */
#define FLMDB_ID_PLAIN (511 - 4)
#define FLMDB_ID_PREFIX (511 - 4 - 1 - 16)

static MDB_val id_key(unsigned char *buf, uint32_t ix, const char *id,
		      size_t idlen)
{
	flmdb_be32(buf, ix);
	if (idlen <= FLMDB_ID_PLAIN) {
		if (idlen)
			memcpy(buf + 4, id, idlen);
		return (MDB_val){4 + idlen, buf};
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	memcpy(buf + 4, id, FLMDB_ID_PREFIX);
	buf[4 + FLMDB_ID_PREFIX] = 0;
	EVP_Digest(id, idlen, md, &mdlen, EVP_sha256(), NULL);
	memcpy(buf + 5 + FLMDB_ID_PREFIX, md, 16);
	return (MDB_val){511, buf};
}

static MDB_val seq_key(unsigned char *buf, uint32_t ix, uint64_t seq)
{
	flmdb_be32(buf, ix);
	flmdb_be64(buf + 4, seq);
	return (MDB_val){12, buf};
}

/* Looks id up: in the transaction's pending mappings and the index's runs
 * first (lmdb_runs.c), then in `ids`. 0 and seq/len/deleted,
 * FERRY_ENOTFOUND, or another ferry code. h is flmdb_id_hash(id). */
static int id_lookup(flmdb_txn *t, flmdb_mslot *sl, const char *id,
		     size_t idlen, uint64_t h, uint64_t *seq, uint32_t *len,
		     int *deleted)
{
	unsigned char kb[KEYBUF];
	MDB_val k, v;
	uint64_t s = 0;
	int rc = MDB_NOTFOUND;
	if (idlen <= FLMDB_RUN_ID_MAX)
		rc = flmdb_runs_find(t, sl, id, idlen, h, &s, len);
	if (rc == MDB_NOTFOUND) {
		k = id_key(kb, sl->ix, id, idlen);
		rc = mdb_get(t->txn, t->s->ids, &k, &v);
		if (!rc && v.mv_size != 12)
			return FERRY_ECORRUPT;
		if (!rc) {
			s = flmdb_rd64(v.mv_data);
			*len = flmdb_rd32((const unsigned char *)v.mv_data + 8);
		}
	}
	if (rc == MDB_NOTFOUND || (!rc && !s)) /* s 0: removed */
		return FERRY_ENOTFOUND;
	if (rc)
		return flmdb_error(rc, NULL, "reading ids");
	*deleted = !!(s & FLMDB_DELETED);
	*seq = s & ~FLMDB_DELETED;
	return 0;
}

static int id_store(flmdb_txn *t, uint32_t ix, const char *id, size_t idlen,
		    uint64_t seq, uint32_t len)
{
	unsigned char kb[KEYBUF], vb[12];
	MDB_val k = id_key(kb, ix, id, idlen), v = {12, vb};
	flmdb_be64(vb, seq);
	flmdb_be32(vb + 8, len);
	return mdb_put(t->txn, t->s->ids, &k, &v, 0);
}

/* Maps id to seq (with FLMDB_DELETED for a tombstone, 0 for removed):
 * in the pending run, or in `ids` for ids too long for runs. */
static int map_put(flmdb_txn *t, flmdb_mslot *sl, const char *id,
		   size_t idlen, uint64_t h, uint64_t seq, uint32_t len)
{
	if (idlen <= FLMDB_RUN_ID_MAX)
		return flmdb_pend_put(&sl->pend, id, idlen, h, seq, len);
	if (seq)
		return id_store(t, sl->ix, id, idlen, seq, len);
	unsigned char kb[KEYBUF];
	MDB_val k = id_key(kb, sl->ix, id, idlen);
	int rc = mdb_del(t->txn, t->s->ids, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Appends to `db` when the key is past its last key (the common case for
 * the newest index), otherwise inserts normally. `data` is reserved
 * space of `size` bytes the caller fills. */
static int put_reserve(flmdb_txn *t, MDB_dbi db, MDB_val *k, size_t size,
		       void **data)
{
	MDB_cursor *c = t->docs_cur;
	int rc;
	if (db != t->s->docs || !c) {
		rc = mdb_cursor_open(t->txn, db, &c);
		if (rc)
			return rc;
		if (db == t->s->docs)
			t->docs_cur = c;
	}
	MDB_val v = {size, NULL};
	rc = mdb_cursor_put(c, k, &v, MDB_APPEND | MDB_RESERVE);
	if (rc == MDB_KEYEXIST) {
		v = (MDB_val){size, NULL};
		rc = mdb_cursor_put(c, k, &v, MDB_RESERVE);
	}
	if (db != t->s->docs)
		mdb_cursor_close(c);
	if (!rc)
		*data = v.mv_data;
	return rc;
}

/* Removes whatever id currently has in docs or tombs. */
static int unlink_old(flmdb_txn *t, flmdb_mslot *sl, uint64_t oldseq,
		      uint32_t oldlen, int deleted)
{
	unsigned char kb[12];
	MDB_val k = seq_key(kb, sl->ix, oldseq);
	int rc = mdb_del(t->txn, deleted ? t->s->tombs : t->s->docs, &k, NULL);
	if (rc)
		return rc; /* MDB_NOTFOUND: the id points at a missing entry */
	if (deleted) {
		sl->m.tombs--;
	} else {
		sl->m.docs--;
		sl->m.bytes -= oldlen;
	}
	return 0;
}

static int write_body(flmdb_txn *t, flmdb_mslot *sl, uint64_t seq,
		      const char *id, size_t idlen, const char *body,
		      size_t blen)
{
	unsigned char kb[12];
	MDB_val k = seq_key(kb, sl->ix, seq);
	void *p;
	int rc = put_reserve(t, t->s->docs, &k, 2 + idlen + blen, &p);
	if (rc)
		return rc;
	unsigned char *d = p;
	d[0] = (unsigned char)(idlen >> 8);
	d[1] = (unsigned char)idlen;
	memcpy(d + 2, id, idlen);
	memcpy(d + 2 + idlen, body, blen);
	sl->m.docs++;
	sl->m.bytes += blen;
	return 0;
}

static int write_tomb(flmdb_txn *t, flmdb_mslot *sl, uint64_t seq,
		      const char *id, size_t idlen, uint64_t h)
{
	unsigned char kb[12];
	MDB_val k = seq_key(kb, sl->ix, seq);
	void *p;
	int rc = put_reserve(t, t->s->tombs, &k, 8 + idlen, &p);
	if (rc)
		return rc;
	flmdb_be64(p, (uint64_t)flmdb_now_ms());
	memcpy((unsigned char *)p + 8, id, idlen);
	sl->m.tombs++;
	sl->deleted_any = 1;
	return map_put(t, sl, id, idlen, h, seq | FLMDB_DELETED, 0);
}

/* Resolves the id a write is about to map to seq: 0 if it is new,
 * FERRY_EEXISTS with its current mapping, or another ferry code with err
 * set. A new id past the end of `ids` with nothing in the runs that could
 * hide it is appended there at once (*stored): copies into a new index
 * write ids in key order, and appends cost no descent and fill pages. */
static int id_claim(flmdb_txn *t, flmdb_mslot *sl, const char *id,
		    size_t idlen, uint64_t h, uint64_t seq, uint32_t len,
		    uint64_t *oldseq, uint32_t *oldlen, int *deleted,
		    int *stored, ferry_err *err)
{
	unsigned char kb[KEYBUF], vb[12];
	MDB_val k = id_key(kb, sl->ix, id, idlen), v = {12, vb};
	int rc = FERRY_ENOTFOUND;
	*stored = 0;
	if (idlen <= FLMDB_RUN_ID_MAX) {
		rc = flmdb_runs_find(t, sl, id, idlen, h, oldseq, oldlen);
		if (!rc && !*oldseq)
			return 0; /* removed: new, and it must go to a run */
		if (!rc)
			goto known;
		if (rc != MDB_NOTFOUND)
			goto fail;
	}
	flmdb_be64(vb, seq);
	flmdb_be32(vb + 8, len);
	/* After misses, try appending only now and then, so that random
	 * ids pay almost nothing for it. */
	if (t->ids_miss < 4 || (t->ids_miss & 255) == 0) {
		if (!t->ids_cur &&
		    (rc = mdb_cursor_open(t->txn, t->s->ids, &t->ids_cur)))
			goto fail;
		rc = mdb_cursor_put(t->ids_cur, &k, &v, MDB_APPEND);
		if (rc != MDB_KEYEXIST) {
			t->ids_miss = 0;
			*stored = !rc;
			if (rc)
				goto fail;
			if (sl->m.filtered) { /* the filter misses this id */
				sl->m.filtered = 0;
				sl->dirty = 1;
			}
			return 0;
		}
		v = (MDB_val){12, vb};
	}
	t->ids_miss++;
	if (idlen <= FLMDB_RUN_ID_MAX && flmdb_tree_absent(t, sl, h))
		return 0;
	rc = mdb_get(t->txn, t->s->ids, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		goto fail;
	if (v.mv_size != 12)
		return ferry_err_set(err, FERRY_ECORRUPT, "id '%.*s' has a "
				     "mapping of %zu bytes", (int)idlen, id,
				     v.mv_size);
	*oldseq = flmdb_rd64(v.mv_data);
	*oldlen = flmdb_rd32((const unsigned char *)v.mv_data + 8);
known:
	*deleted = !!(*oldseq & FLMDB_DELETED);
	*oldseq &= ~FLMDB_DELETED;
	return FERRY_EEXISTS;
fail:
	return flmdb_error(rc, err, "reading ids");
}

static int body_at(flmdb_txn *t, uint32_t ix, uint64_t seq,
		   fstore_entry *out);

/* 1 if the body stored at seq equals body. */
static int same_body(flmdb_txn *t, uint32_t ix, uint64_t seq,
		     const char *body, size_t blen)
{
	fstore_entry e;
	return body_at(t, ix, seq, &e) == 0 && e.body_len == blen &&
	       !memcmp(e.body, body, blen);
}

/* Index or create: the common case (a new id) costs one descent of the
 * id tree and an append to docs. FERRY_OP_UPDATE (an update's merged
 * body, with detect_noop off) is index without the no-op check. */
static int put_doc(flmdb_txn *t, flmdb_mslot *sl, enum ferry_op op,
		   const char *id, size_t idlen, const char *body, size_t blen,
		   uint64_t *seq, int *created, ferry_err *err)
{
	uint64_t oldseq = 0, s = sl->m.next_seq;
	uint64_t h = idlen <= FLMDB_RUN_ID_MAX ? flmdb_id_hash(id, idlen) : 0;
	uint32_t oldlen = 0;
	int deleted = 0, stored = 0;
	int rc = id_claim(t, sl, id, idlen, h, s, (uint32_t)blen, &oldseq,
			  &oldlen, &deleted, &stored, err);
	int known = rc == FERRY_EEXISTS;
	if (known && op == FERRY_OP_CREATE && !deleted)
		return ferry_err_set(err, FERRY_EEXISTS,
			"document '%.*s' already exists (op_type create)",
			(int)idlen, id);
	if (rc && !known)
		return rc;
	if (known && !deleted && op != FERRY_OP_UPDATE && oldlen == blen &&
	    same_body(t, sl->ix, oldseq, body, blen)) {
		*seq = oldseq;
		*created = FSTORE_NOOP;
		return 0;
	}
	if (known && (rc = unlink_old(t, sl, oldseq, oldlen, deleted)))
		goto fail;
	sl->m.next_seq++;
	sl->dirty = 1;
	if ((rc = write_body(t, sl, s, id, idlen, body, blen)) ||
	    (!stored && (rc = map_put(t, sl, id, idlen, h, s, (uint32_t)blen))))
		goto fail;
	*seq = s;
	*created = !known || deleted;
	return 0;
fail:
	if (rc == MDB_NOTFOUND)
		return ferry_err_set(err, FERRY_ECORRUPT, "id '%.*s' points at "
				     "a missing entry", (int)idlen, id);
	return flmdb_error(rc, err, "writing a document");
}

static int delete_doc(flmdb_txn *t, flmdb_mslot *sl, const char *id,
		      size_t idlen, uint64_t *seq, ferry_err *err)
{
	uint64_t oldseq = 0;
	uint64_t h = idlen <= FLMDB_RUN_ID_MAX ? flmdb_id_hash(id, idlen) : 0;
	uint32_t oldlen = 0;
	int deleted = 1;
	int rc = id_lookup(t, sl, id, idlen, h, &oldseq, &oldlen, &deleted);
	if (rc && rc != FERRY_ENOTFOUND)
		return ferry_err_set(err, rc, "reading id '%.*s'", (int)idlen, id);
	if (rc || deleted)
		return ferry_err_set(err, FERRY_ENOTFOUND,
			"document '%.*s' not found", (int)idlen, id);
	if ((rc = unlink_old(t, sl, oldseq, oldlen, 0)))
		goto fail;
	uint64_t s = sl->m.next_seq++;
	sl->dirty = 1;
	if ((rc = write_tomb(t, sl, s, id, idlen, h)))
		goto fail;
	*seq = s;
	return 0;
fail:
	if (rc == MDB_NOTFOUND)
		return ferry_err_set(err, FERRY_ECORRUPT, "id '%.*s' points at "
				     "a missing entry", (int)idlen, id);
	return flmdb_error(rc, err, "deleting a document");
}

int flmdb_doc_write(fstore_txn *base, uint32_t ix, enum ferry_op op,
		    const char *id, size_t idlen, const char *body,
		    size_t body_len, uint64_t *seq, int *created,
		    ferry_err *err)
{
	flmdb_txn *t = (flmdb_txn *)base;
	flmdb_mslot *sl;
	int rc;
	if (idlen == 0 || idlen > FERRY_ID_MAX)
		return ferry_err_set(err, FERRY_ENAME, "id must be 1 to %d bytes",
				     FERRY_ID_MAX);
	if ((rc = flmdb_meta_get(t, ix, &sl)))
		return ferry_err_set(err, rc, "index storage %u is missing", ix);
	if (op == FERRY_OP_DELETE) {
		*created = 0;
		return delete_doc(t, sl, id, idlen, seq, err);
	}
	return put_doc(t, sl, op, id, idlen, body, body_len, seq, created, err);
}

static int body_at(flmdb_txn *t, uint32_t ix, uint64_t seq,
		   fstore_entry *out)
{
	unsigned char kb[12];
	MDB_val k = seq_key(kb, ix, seq), v;
	int rc = mdb_get(t->txn, t->s->docs, &k, &v);
	if (rc)
		return rc == MDB_NOTFOUND ? FERRY_ECORRUPT : FERRY_EIO;
	return flmdb_entry_read(&v, seq, out);
}

int flmdb_body_at(MDB_cursor *c, uint32_t ix, uint64_t seq,
		  fstore_entry *out)
{
	unsigned char kb[12];
	MDB_val k = seq_key(kb, ix, seq), v;
	int rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	if (rc)
		return rc == MDB_NOTFOUND ? FERRY_ECORRUPT : FERRY_EIO;
	return flmdb_entry_read(&v, seq, out);
}

int flmdb_entry_read(const MDB_val *v, uint64_t seq, fstore_entry *out)
{
	const unsigned char *d = v->mv_data;
	size_t idlen = v->mv_size >= 2 ? (size_t)d[0] << 8 | d[1] : 0;
	if (v->mv_size < 2 + idlen)
		return FERRY_ECORRUPT;
	out->id = (const char *)d + 2;
	out->idlen = idlen;
	out->body = (const char *)d + 2 + idlen;
	out->body_len = v->mv_size - 2 - idlen;
	out->seq = seq;
	out->deleted = 0;
	return 0;
}

int flmdb_doc_get(fstore_txn *base, uint32_t ix, const char *id, size_t idlen,
		  fstore_entry *out)
{
	flmdb_txn *t = (flmdb_txn *)base;
	flmdb_mslot *sl;
	uint64_t seq;
	uint32_t len;
	int deleted;
	if (idlen == 0 || idlen > FERRY_ID_MAX)
		return FERRY_ENOTFOUND;
	int rc = flmdb_meta_get(t, ix, &sl);
	if (!rc)
		rc = id_lookup(t, sl, id, idlen, idlen <= FLMDB_RUN_ID_MAX ?
			       flmdb_id_hash(id, idlen) : 0, &seq, &len,
			       &deleted);
	if (rc)
		return rc;
	if (deleted)
		return FERRY_ENOTFOUND;
	return body_at(t, ix, seq, out);
}

/* Scans read bodies a window at a time: the window's ids in id order
 * from the id tree, then their bodies in sequence order, then hand them
 * out in id order. When ids were written in random order their bodies lie
 * at random in docs; fetched in seq order, neighbouring lookups share the
 * upper pages of the tree and walk its leaves forward, which the caches
 * and the prefetcher reward (on 5 M documents, 1.7 GB of bodies). Half of
 * a window's bodies are read on a helper thread (lmdb_fetch.c); 8192 per
 * window pays for the hand-over (1 M profiles: 0.45 s against 0.49 s with
 * 2048, and 0.53 s on one thread). */
#define SCAN_WINDOW 8192

/* Sorts by k: an LSD radix sort on the bytes in which the keys differ
 * (k - min; a window of seqs takes 3 passes for 16 M writes; a pass whose
 * byte is the same everywhere is skipped), stable, via tmp (n entries).
 * qsort with a comparator was ~4 % of a snapshot's CPU. */
void flmdb_radix_sort(flmdb_ksort *a, flmdb_ksort *tmp, size_t n)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	for (size_t i = 0; i < n; i++) {
		lo = a[i].k < lo ? a[i].k : lo;
		hi = a[i].k > hi ? a[i].k : hi;
	}
	flmdb_ksort *src = a, *dst = tmp;
	for (unsigned sh = 0; n > 1 && sh < 64 && (hi - lo) >> sh; sh += 8) {
		size_t cnt[256] = {0};
		for (size_t i = 0; i < n; i++)
			cnt[(src[i].k - lo) >> sh & 255]++;
		if (cnt[(src[0].k - lo) >> sh & 255] == n)
			continue;
		for (size_t d = 0, sum = 0; d < 256; d++) {
			size_t c = cnt[d];
			cnt[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[cnt[(src[i].k - lo) >> sh & 255]++] = src[i];
		flmdb_ksort *x = src;
		src = dst;
		dst = x;
	}
	if (src != a)
		memcpy(a, src, n * sizeof *a);
}

/* Fills ord[0..*w) with the seqs of the next live ids of the merged view
 * (`ids`, runs, pending), skipping `skip` (the scan's `after`); *done at
 * the end of the index. */
static int scan_window_ids(flmdb_merge *m, const MDB_val *skip,
			   flmdb_ksort *ord, size_t cap, size_t *w, int *done)
{
	const unsigned char *id;
	size_t idlen;
	uint64_t s;
	uint32_t len;
	int rc = 0;
	*w = 0;
	while (*w < cap && !(rc = flmdb_merge_next(m, &id, &idlen, &s, &len))) {
		if (skip && idlen == skip->mv_size &&
		    !memcmp(id, skip->mv_data, idlen))
			continue; /* resume strictly after `after` */
		if (!s || (s & FLMDB_DELETED))
			continue;
		ord[*w].k = s;
		ord[*w].i = *w;
		(*w)++;
	}
	if (rc == MDB_NOTFOUND) {
		*done = 1;
		rc = 0;
	}
	return rc;
}

int flmdb_doc_scan(fstore_txn *base, uint32_t ix, const char *after,
		   size_t after_len, size_t limit, fstore_visit fn, void *ctx)
{
	flmdb_txn *t = (flmdb_txn *)base;
	flmdb_mslot *sl;
	flmdb_merge m;
	MDB_cursor *dc = NULL;
	unsigned char kb[KEYBUF];
	size_t alen = after && after_len <= FERRY_ID_MAX ? after_len : 0;
	MDB_val k = id_key(kb, ix, after, alen);
	MDB_val start = {k.mv_size - 4, kb + 4}; /* the id part of the key */
	size_t wcap = limit < SCAN_WINDOW ? limit : SCAN_WINDOW, n = 0, w;
	flmdb_ksort *ord = malloc((wcap ? wcap : 1) * 2 * sizeof *ord);
	fstore_entry *win = malloc((wcap ? wcap : 1) * sizeof *win);
	int done = 0;
	int rc = flmdb_meta_get(t, ix, &sl);
	memset(&m, 0, sizeof m);
	if (rc) {
		rc = rc == FERRY_ENOTFOUND ? 0 : rc;
		goto out;
	}
	rc = ord && win ? flmdb_merge_open(t, sl, 1, 0, 1, start.mv_data,
					   start.mv_size, &m) : ENOMEM;
	if (!rc)
		rc = mdb_cursor_open(t->txn, t->s->docs, &dc);
	while (!rc && !done && n < limit) {
		size_t cap = limit - n < wcap ? limit - n : wcap;
		if ((rc = scan_window_ids(&m, alen ? &start : NULL, ord, cap,
					  &w, &done)))
			break;
		flmdb_radix_sort(ord, ord + wcap, w);
		rc = flmdb_fetch_window(t->s->fetch, t->txn, t->write, dc, ix,
					ord, w, win);
		for (size_t j = 0; j < w && !rc; j++, n++)
			rc = fn(ctx, &win[j]);
	}
out:
	if (dc)
		mdb_cursor_close(dc);
	flmdb_merge_close(&m);
	free(ord);
	free(win);
	if (rc == 1)
		return 0;
	if (rc == ENOMEM)
		return FERRY_ENOMEM;
	return rc > 0 && rc < FERRY_ECODE_END ? rc : rc ? FERRY_EIO : 0;
}

/* Reads the entry under cursor c into e, or marks it absent (seq 0) when
 * the cursor left index ix. */
static int change_at(MDB_cursor *c, MDB_cursor_op op, uint32_t ix, int tomb,
		     MDB_val *k, fstore_entry *e)
{
	MDB_val v;
	int rc = mdb_cursor_get(c, k, &v, op);
	e->seq = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return FERRY_EIO;
	const unsigned char *kp = k->mv_data, *d = v.mv_data;
	if (k->mv_size != 12 || flmdb_rd32(kp) != ix)
		return 0;
	e->seq = flmdb_rd64(kp + 4);
	e->deleted = tomb;
	if (tomb) {
		e->id = (const char *)d + 8;
		e->idlen = v.mv_size - 8;
		e->body = NULL;
		e->body_len = 0;
		return 0;
	}
	e->idlen = (size_t)d[0] << 8 | d[1];
	e->id = (const char *)d + 2;
	e->body = (const char *)d + 2 + e->idlen;
	e->body_len = v.mv_size - 2 - e->idlen;
	return 0;
}

int flmdb_changes(fstore_txn *base, uint32_t ix, uint64_t since, size_t limit,
		  fstore_visit fn, void *ctx)
{
	flmdb_txn *t = (flmdb_txn *)base;
	flmdb_mslot *sl;
	MDB_cursor *dc = NULL, *tc = NULL;
	int rc = flmdb_meta_get(t, ix, &sl);
	if (rc)
		return rc;
	if (since < sl->m.horizon)
		return FERRY_EHORIZON;
	unsigned char k1[12], k2[12];
	MDB_val kd = seq_key(k1, ix, since + 1), kt = seq_key(k2, ix, since + 1);
	fstore_entry d, tb;
	if ((rc = mdb_cursor_open(t->txn, t->s->docs, &dc)) ||
	    (rc = mdb_cursor_open(t->txn, t->s->tombs, &tc)))
		goto out;
	if ((rc = change_at(dc, MDB_SET_RANGE, ix, 0, &kd, &d)) ||
	    (rc = change_at(tc, MDB_SET_RANGE, ix, 1, &kt, &tb)))
		goto out;
	for (size_t n = 0; n < limit && (d.seq || tb.seq); n++) {
		int use_doc = d.seq && (!tb.seq || d.seq < tb.seq);
		if ((rc = fn(ctx, use_doc ? &d : &tb)))
			goto out;
		rc = use_doc ? change_at(dc, MDB_NEXT, ix, 0, &kd, &d)
			     : change_at(tc, MDB_NEXT, ix, 1, &kt, &tb);
		if (rc)
			goto out;
	}
out:
	if (dc)
		mdb_cursor_close(dc);
	if (tc)
		mdb_cursor_close(tc);
	if (rc == 1)
		return 0;
	return rc > 0 && rc < FERRY_ECODE_END ? rc : rc ? FERRY_EIO : 0;
}

/* Discards the oldest tombstones of an index while there are more than
 * max(live docs, FLMDB_TOMB_MIN) of them or they are older than
 * FLMDB_TOMB_AGE_MS, at most FLMDB_TRIM_MAX per commit, and raises the
 * horizon to the highest discarded seq. */
int flmdb_trim_tombs(flmdb_txn *t, flmdb_mslot *sl, ferry_err *err)
{
	uint64_t keep = sl->m.docs > FLMDB_TOMB_MIN ? sl->m.docs : FLMDB_TOMB_MIN;
	int64_t cutoff = flmdb_now_ms() - FLMDB_TOMB_AGE_MS;
	MDB_cursor *c;
	unsigned char kb[12];
	MDB_val k = seq_key(kb, sl->ix, 0), v;
	int rc = mdb_cursor_open(t->txn, t->s->tombs, &c);
	if (rc)
		return flmdb_error(rc, err, "trimming tombstones");
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	for (int n = 0; rc == 0 && n < FLMDB_TRIM_MAX; n++) {
		const unsigned char *kp = k.mv_data;
		if (k.mv_size != 12 || flmdb_rd32(kp) != sl->ix)
			break;
		int64_t when = (int64_t)flmdb_rd64(v.mv_data);
		if (sl->m.tombs <= keep && when >= cutoff)
			break;
		uint64_t seq = flmdb_rd64(kp + 4);
		const char *id = (const char *)v.mv_data + 8;
		size_t idlen = v.mv_size - 8;
		if ((rc = map_put(t, sl, id, idlen, idlen <= FLMDB_RUN_ID_MAX ?
				  flmdb_id_hash(id, idlen) : 0, 0, 0)))
			break;
		if ((rc = mdb_cursor_del(c, 0)))
			break;
		sl->m.tombs--;
		sl->m.horizon = seq;
		sl->dirty = 1;
		rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND || rc == EINVAL)
		rc = 0;
	return rc ? flmdb_error(rc, err, "trimming tombstones") : 0;
}
