/*
 * scan.c - the id-ordered scan and the seq-ordered change log reader.
 *
 * Both read in pages: each page is one short read transaction whose
 * entries are copied out, so a long scan never pins old pages of the
 * data file (which would make it grow under concurrent writes) and never
 * blocks a writer. A scan resumes after the last id it returned; the
 * change reader after the last seq, and stops at the seq that was the
 * newest when it was opened.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/catalog.h"
#include "core/db.h"
#include "core/err.h"

/* 8192: the LMDB scan reads a page's bodies on two threads and needs that
 * many to pay for the hand-over (lmdb_docs.c, SCAN_WINDOW); a page's read
 * transaction still lasts only milliseconds. */
#define PAGE_DOCS 8192
#define PAGE_BYTES (4u << 20)

typedef struct page_ent {
	size_t id_off, idlen, body_off, body_len;
	uint64_t seq;
	int deleted;
} page_ent;

typedef struct page {
	fbuf data;
	page_ent *e;
	size_t n, pos;
	int done; /* the source has no more entries */
} page;

/* The scan does not copy: a page is a list of pointers into the data
 * file, valid while the page's read transaction stays open, which is
 * until the caller asks for the entry after the page's last one. */
struct ferry_scan {
	ferry_db *db;
	uint32_t ix;
	char name[FERRY_NAME_MAX + 1];
	char last[FERRY_ID_MAX];
	size_t last_len;
	fstore_txn *t;    /* the current page's read transaction */
	fstore_entry *e;  /* PAGE_DOCS borrowed entries */
	size_t n, pos;
	int done;
};

struct ferry_changes {
	ferry_db *db;
	uint32_t ix;
	char name[FERRY_NAME_MAX + 1];
	uint64_t last, upto;
	page pg;
};

static int page_init(page *p)
{
	fbuf_init(&p->data, 0);
	p->e = malloc(PAGE_DOCS * sizeof *p->e);
	p->n = p->pos = 0;
	p->done = 0;
	return p->e ? 0 : FERRY_ENOMEM;
}

static void page_release(page *p)
{
	fbuf_release(&p->data);
	free(p->e);
}

struct fill_ctx {
	page *p;
	uint64_t upto; /* changes only: stop past this seq (0: no limit) */
};

static int page_visit(void *ctx, const fstore_entry *e)
{
	struct fill_ctx *c = ctx;
	page *p = c->p;
	if (c->upto && e->seq > c->upto) {
		p->done = 1;
		return 1;
	}
	page_ent *pe = &p->e[p->n];
	pe->id_off = p->data.len;
	pe->idlen = e->idlen;
	int rc = fbuf_add(&p->data, e->id, e->idlen);
	pe->body_off = p->data.len;
	pe->body_len = e->body_len;
	rc = rc ? rc : fbuf_add(&p->data, e->body, e->body_len);
	if (rc)
		return rc;
	pe->seq = e->seq;
	pe->deleted = e->deleted;
	p->n++;
	return p->n == PAGE_DOCS || p->data.len >= PAGE_BYTES ? 1 : 0;
}

static void page_reset(page *p)
{
	fbuf_clear(&p->data);
	p->n = p->pos = 0;
}

static void page_take(page *p, ferry_doc *out)
{
	const page_ent *pe = &p->e[p->pos++];
	out->id = p->data.p + pe->id_off;
	out->idlen = pe->idlen;
	out->body = p->data.p + pe->body_off;
	out->body_len = pe->body_len;
	out->seq = pe->seq;
	out->deleted = pe->deleted;
}

/* Checks that the index still is the one the reader opened. */
static int still_there(fstore_txn *t, const char *name, uint32_t ix,
		       ferry_err *err)
{
	fcat_index rec;
	if (fcat_index_get(t, name, &rec) || rec.ix != ix)
		return ferry_err_set(err, FERRY_ENOTFOUND, "index '%s' was "
				     "deleted while it was being read", name);
	return 0;
}

int ferry_scan_open(ferry_db *db, const char *index, const char *after_id,
		    size_t after_len, ferry_scan **out, ferry_err *err)
{
	fstore_txn *t;
	fcat_index ix;
	int via, rc;
	if (after_id && after_len > FERRY_ID_MAX)
		return ferry_err_set(err, FERRY_ENAME, "resume id is longer than "
				     "%d bytes", FERRY_ID_MAX);
	if ((rc = fdb_begin(db, 0, &t, err)))
		return rc;
	rc = fcat_resolve(t, index, &ix, &via, err);
	fdb_abort(t);
	if (rc)
		return rc;
	ferry_scan *s = calloc(1, sizeof *s);
	if (!s || !(s->e = malloc(PAGE_DOCS * sizeof *s->e))) {
		free(s);
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	}
	s->db = db;
	s->ix = ix.ix;
	memcpy(s->name, ix.name, sizeof s->name);
	if (after_id && after_len) {
		memcpy(s->last, after_id, after_len);
		s->last_len = after_len;
	}
	*out = s;
	return 0;
}

static int borrow(void *ctx, const fstore_entry *e)
{
	ferry_scan *s = ctx;
	s->e[s->n++] = *e;
	return s->n == PAGE_DOCS ? 1 : 0;
}

static int scan_fill(ferry_scan *s, ferry_err *err)
{
	int rc;
	fdb_abort(s->t); /* the previous page's pointers end here */
	s->t = NULL;
	s->n = s->pos = 0;
	if ((rc = fdb_begin(s->db, 0, &s->t, err)))
		return rc;
	if (!(rc = still_there(s->t, s->name, s->ix, err))) {
		rc = s->db->ops->doc_scan(s->t, s->ix, s->last_len ? s->last : NULL,
			s->last_len, PAGE_DOCS, borrow, s);
		if (rc)
			ferry_err_set(err, rc, "scanning '%s': %s", s->name,
				      ferry_strerror(rc));
	}
	if (!rc && s->n < PAGE_DOCS)
		s->done = 1;
	return rc;
}

int ferry_scan_next(ferry_scan *s, ferry_doc *out, ferry_err *err)
{
	if (s->pos == s->n) {
		if (s->done)
			return FERRY_EOF;
		int rc = scan_fill(s, err);
		if (rc)
			return rc;
		if (s->n == 0)
			return FERRY_EOF;
	}
	const fstore_entry *e = &s->e[s->pos++];
	out->id = e->id;
	out->idlen = e->idlen;
	out->body = e->body;
	out->body_len = e->body_len;
	out->seq = e->seq;
	out->deleted = 0;
	memcpy(s->last, e->id, e->idlen);
	s->last_len = e->idlen;
	return 0;
}

void ferry_scan_free(ferry_scan *s)
{
	if (!s)
		return;
	fdb_abort(s->t);
	free(s->e);
	free(s);
}

int ferry_changes_open(ferry_db *db, const char *index, uint64_t since_seq,
		       ferry_changes **out, uint64_t *upto_seq,
		       ferry_err *err)
{
	fstore_txn *t;
	fcat_index ix;
	fstore_stats st;
	int via, rc = fdb_begin(db, 0, &t, err);
	if (rc)
		return rc;
	if (!(rc = fcat_resolve(t, index, &ix, &via, err)) &&
	    (rc = db->ops->ix_stats(t, ix.ix, &st)))
		ferry_err_set(err, rc, "reading '%s'", ix.name);
	fdb_abort(t);
	if (rc)
		return rc;
	if (since_seq < st.horizon)
		return ferry_err_set(err, FERRY_EHORIZON, "the change log of '%s' "
			"starts after seq %llu (asked for changes after %llu); "
			"copy the index in full instead", ix.name,
			(unsigned long long)st.horizon,
			(unsigned long long)since_seq);
	ferry_changes *c = calloc(1, sizeof *c);
	if (!c || page_init(&c->pg)) {
		free(c);
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	}
	c->db = db;
	c->ix = ix.ix;
	memcpy(c->name, ix.name, sizeof c->name);
	c->last = since_seq;
	c->upto = st.next_seq - 1;
	if (upto_seq)
		*upto_seq = c->upto;
	*out = c;
	return 0;
}

static int changes_fill(ferry_changes *c, ferry_err *err)
{
	fstore_txn *t;
	struct fill_ctx fc = {&c->pg, c->upto};
	int rc = fdb_begin(c->db, 0, &t, err);
	if (rc)
		return rc;
	page_reset(&c->pg);
	if (!(rc = still_there(t, c->name, c->ix, err))) {
		rc = c->db->ops->changes(t, c->ix, c->last, PAGE_DOCS,
					 page_visit, &fc);
		if (rc == FERRY_EHORIZON)
			ferry_err_set(err, rc, "the change log of '%s' was trimmed "
				"past seq %llu while it was read; copy in full",
				c->name, (unsigned long long)c->last);
		else if (rc)
			ferry_err_set(err, rc, "reading changes of '%s'", c->name);
	}
	fdb_abort(t);
	if (!rc && c->pg.n < PAGE_DOCS && c->pg.data.len < PAGE_BYTES)
		c->pg.done = 1;
	return rc;
}

int ferry_changes_next(ferry_changes *c, ferry_doc *out, ferry_err *err)
{
	if (c->last >= c->upto)
		return FERRY_EOF;
	if (c->pg.pos == c->pg.n) {
		if (c->pg.done)
			return FERRY_EOF;
		int rc = changes_fill(c, err);
		if (rc)
			return rc;
		if (c->pg.n == 0)
			return FERRY_EOF;
	}
	page_take(&c->pg, out);
	if (out->deleted)
		out->body = NULL;
	c->last = out->seq;
	return 0;
}

void ferry_changes_free(ferry_changes *c)
{
	if (!c)
		return;
	page_release(&c->pg);
	free(c);
}
