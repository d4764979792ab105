/*
 * create.c - ferry_snapshot_create: one read transaction for everything
 * (catalog and documents), so the snapshot is one point in time; records
 * are cut into content-defined chunks on this thread while worker threads
 * hash, compress and store them; the manifest is written last, under the
 * repository lock, and only then is the snapshot visible.
 *
 * Per index (see docs/snapshot-format.md, "Bases and deltas"):
 *  - the latest earlier snapshot of the same index (same deployment id,
 *    index number and creation time) in this repository is the candidate;
 *  - nothing written since: its parts are reused as they are;
 *  - a few changes: its parts plus a delta, the changes since its seq read
 *    from the change log (documents written, ids deleted);
 *  - many writes, or the change log trimmed past its seq: the current
 *    documents are merged in id order with its base (also in id order) and
 *    only what differs is stored, as one delta against the base (a
 *    re-import that rewrites every document but changes 1 % costs 1 %);
 *  - else (no candidate, the difference over half the base, too many
 *    deltas, a chunk of it gone or damaged): a new base, every live
 *    document in id order.
 * Every chunk the new manifest reuses is touched first, so a delete
 * running meanwhile keeps it (see repo.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "core/catalog.h"
#include "core/db.h"
#include "core/err.h"
#include "core/names.h"
#include "snapshot/snapshot.h"

#define STOP FERRY_EINTERNAL /* returned by visitors to stop a scan */

enum { MODE_BASE, MODE_DELTA, MODE_DIFF, MODE_SAME };

typedef struct cjob {
	unsigned char *raw;
	size_t len;
	uint64_t recs;
	fsnap_part *part;
	fsnap_chunk_ref ref;
	int is_new;
	int rc;
	ferry_err err;
} cjob;

typedef struct wstate {
	ZSTD_CCtx *zc;
	fbuf tmp;
} wstate;

/* What is known of an index before reading it. */
typedef struct cand {
	int64_t finished_ms;
	fsnap_part *parts; /* deep copy of the earlier snapshot's parts */
	size_t nparts;
	uint64_t seq;
} cand;

/* Reads a base part's records back in order (for the diff). */
typedef struct breader {
	fsnap_loader *l;
	const fsnap_part *part;
	size_t next;           /* next chunk to submit */
	fsnap_load_job *job;
	size_t off;
	fsnap_rec rec;         /* the current record, if `have` */
	int have;
	char last[FERRY_ID_MAX];
	size_t last_len;
	int started;
} breader;

typedef struct cctx {
	ferry_db *db;
	fsnap_repo *r;
	fsnap_manifest *m;
	fstore_txn *t;
	const char *pattern;
	cand *cands;           /* one per m->ix */
	int *mode;
	fsnap_pool *pool;
	wstate *ws;
	unsigned nws;
	fsnap_chunker ch;
	fsnap_part *cur;
	ferry_snapshot_progress_fn progress;
	void *pctx;
	ferry_snapshot_progress pr;
	uint64_t reported;     /* bytes_done at the last report */
	int rc;                /* first error; its message is in *err */
	ferry_err *err;
	/* diff against a base */
	breader br;
	int abandon;           /* the diff is no good: write a base */
	uint64_t limit;        /* most delta bytes worth keeping */
	uint64_t added, removed;
	char prev[FERRY_ID_MAX];
	size_t prev_len;
	int have_prev;
} cctx;

static int fail(cctx *c, int rc)
{
	if (!c->rc)
		c->rc = rc;
	return c->rc;
}

static void parts_free(fsnap_part *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].chunks);
	free(p);
}

/* ---- chunks out, results back ---- */

static void store_job(void *ctx, unsigned w, void *job)
{
	cctx *c = ctx;
	cjob *j = job;
	j->rc = fsnap_chunk_store(c->r, c->ws[w].zc, &c->ws[w].tmp, j->raw,
				  j->len, &j->ref, &j->is_new, &j->err);
	j->ref.recs = j->recs;
	free(j->raw);
	j->raw = NULL;
}

static int report(cctx *c)
{
	if (c->progress && c->progress(c->pctx, &c->pr))
		return ferry_err_set(c->err, FERRY_EINVAL, "snapshot stopped by "
				     "the caller");
	return 0;
}

static int collect(cctx *c, cjob *j)
{
	int rc = j->rc;
	if (rc) {
		if (!c->rc && c->err)
			*c->err = j->err;
	} else if ((rc = fsnap_part_add(j->part, &j->ref))) {
		ferry_err_set(c->err, rc, NULL);
	} else {
		if (j->is_new) {
			c->m->stats.new_chunks++;
			c->m->stats.new_bytes += j->ref.stored;
			c->pr.bytes_stored += j->ref.stored;
		}
		rc = report(c);
	}
	free(j);
	return rc ? fail(c, rc) : 0;
}

static int emit(cctx *c)
{
	cjob *j;
	if (!c->ch.len)
		return 0;
	if (!(j = calloc(1, sizeof *j)))
		return fail(c, ferry_err_set(c->err, FERRY_ENOMEM, NULL));
	j->raw = fsnap_chunker_take(&c->ch, &j->len, &j->recs);
	j->part = c->cur;
	while (fsnap_pool_full(c->pool))
		if (collect(c, fsnap_pool_take(c->pool))) {
			free(j->raw);
			free(j);
			return c->rc;
		}
	fsnap_pool_submit(c->pool, j);
	fsnap_lock_refresh(c->r);
	return 0;
}

/* Appends one record to the current part, emitting chunks as they end. */
static int add_rec(cctx *c, int type, const char *id, size_t idlen,
		   const char *body, size_t blen)
{
	if (fsnap_chunker_full(&c->ch, idlen, blen) && emit(c))
		return STOP;
	size_t before = c->ch.len;
	if (fsnap_chunker_add(&c->ch, type, id, idlen, body, blen)) {
		fail(c, ferry_err_set(c->err, FERRY_ENOMEM, NULL));
		return STOP;
	}
	if (type == FSNAP_REC_TOMB)
		c->cur->tombs++;
	else
		c->cur->docs++;
	c->cur->bytes += c->ch.len - before; /* as encoded: the chunks' sum */
	return c->ch.cut && emit(c) ? STOP : 0;
}

/* Read progress, reported about every MiB. */
static int read_progress(cctx *c, size_t idlen, size_t blen)
{
	c->pr.bytes_done += FSNAP_REC_HDR + idlen + blen;
	c->pr.docs_done++;
	if (c->pr.bytes_done - c->reported < (1u << 20))
		return 0;
	c->reported = c->pr.bytes_done;
	fsnap_lock_refresh(c->r); /* a long diff emits few chunks */
	int rc = report(c);
	return rc ? (fail(c, rc), STOP) : 0;
}

static int visit_rec(void *p, const fstore_entry *e)
{
	cctx *c = p;
	int type = e->deleted ? FSNAP_REC_TOMB : FSNAP_REC_DOC;
	size_t blen = e->deleted ? 0 : e->body_len;
	if (add_rec(c, type, e->id, e->idlen, e->body, blen))
		return STOP;
	return read_progress(c, e->idlen, blen);
}

/* ---- the diff: current documents against the base, both in id order ---- */

/* The next base record: 0 (b->have = 0 at its end), or -1 if the base
 * cannot be read, holds a deletion or is out of order. */
static int br_next(breader *b)
{
	for (;;) {
		if (b->job) {
			int rc = fsnap_rec_next((const unsigned char *)b->job->raw.p,
						b->job->raw.len, &b->off, &b->rec);
			if (rc == 0) {
				if (b->rec.type != FSNAP_REC_DOC ||
				    (b->started && fsnap_id_cmp(b->last, b->last_len,
								 b->rec.id,
								 b->rec.idlen) >= 0))
					return -1;
				memcpy(b->last, b->rec.id, b->rec.idlen);
				b->last_len = b->rec.idlen;
				b->started = b->have = 1;
				return 0;
			}
			if (rc != FERRY_EOF)
				return -1;
			fsnap_load_job_free(b->job);
			b->job = NULL;
		}
		b->have = 0;
		while (b->next < b->part->nchunks && !fsnap_loader_full(b->l))
			if (fsnap_loader_submit(b->l, &b->part->chunks[b->next++], 0))
				return -1;
		if (!(b->job = fsnap_loader_take(b->l)))
			return 0;
		if (b->job->rc)
			return -1;
		b->off = 0;
	}
}

static int give_up(cctx *c)
{
	c->abandon = 1;
	return STOP;
}

static int visit_diff(void *p, const fstore_entry *e)
{
	cctx *c = p;
	breader *b = &c->br;
	if (c->have_prev &&
	    fsnap_id_cmp(c->prev, c->prev_len, e->id, e->idlen) >= 0)
		return give_up(c); /* not the order the merge relies on */
	memcpy(c->prev, e->id, e->idlen);
	c->prev_len = e->idlen;
	c->have_prev = 1;
	for (;;) {
		int d = b->have ? fsnap_id_cmp(b->rec.id, b->rec.idlen, e->id,
					       e->idlen) : 1;
		if (d < 0) { /* in the base, gone now */
			if (add_rec(c, FSNAP_REC_TOMB, b->rec.id, b->rec.idlen,
				    NULL, 0))
				return STOP;
			c->removed++;
			if (br_next(b))
				return give_up(c);
			continue;
		}
		if (d > 0) { /* new since the base */
			if (add_rec(c, FSNAP_REC_DOC, e->id, e->idlen, e->body,
				    e->body_len))
				return STOP;
			c->added++;
		} else {
			if (!fsnap_rec_body_eq(&b->rec, e->body, e->body_len) &&
			    add_rec(c, FSNAP_REC_DOC, e->id, e->idlen, e->body,
				    e->body_len))
				return STOP;
			if (br_next(b))
				return give_up(c);
		}
		break;
	}
	if (c->cur->bytes > c->limit)
		return give_up(c);
	return read_progress(c, e->idlen, e->body_len);
}

/* Stores the difference of index x from its base as a delta: 0, or
 * c->abandon set (then nothing of it is kept), or an error. */
static int diff_index(cctx *c, fsnap_index *x)
{
	fstore_txn *t = c->t;
	breader *b = &c->br;
	const fsnap_part *base = &x->parts[0];
	int rc = fsnap_loader_new(c->r, &b->l);
	if (rc)
		return fail(c, ferry_err_set(c->err, rc, NULL));
	b->part = base;
	c->limit = base->bytes / 2;
	c->added = c->removed = 0;
	c->have_prev = 0;
	if (br_next(b)) {
		c->abandon = 1;
	} else {
		rc = t->store->ops->doc_scan(t, x->ix, NULL, 0, SIZE_MAX,
					     visit_diff, c);
		if (!rc && !c->rc && !c->abandon) {
			while (b->have && !c->rc) {
				if (add_rec(c, FSNAP_REC_TOMB, b->rec.id, b->rec.idlen,
					    NULL, 0))
					break;
				c->removed++;
				if (br_next(b))
					c->abandon = 1;
			}
			if (base->docs + c->added - c->removed != x->docs ||
			    c->cur->bytes > c->limit)
				c->abandon = 1;
		}
	}
	fsnap_load_job_free(b->job);
	fsnap_loader_free(b->l);
	memset(b, 0, sizeof *b);
	if (c->rc)
		return c->rc;
	if (rc && !c->abandon)
		return fail(c, ferry_err_set(c->err, rc, "reading index '%s': %s",
					     x->name, ferry_strerror(rc)));
	return c->abandon ? 0 : emit(c);
}

/* Makes p the part that records go to. A base is cut at the repository's
 * chunk size, the rule that lets bases dedupe; a delta is never shared,
 * so its chunks are cut smaller, to be compressed on all cores (a delta
 * of 10 000 profiles is one or two 4 MiB chunks otherwise). */
static void part_begin(cctx *c, fsnap_part *p)
{
	size_t avg = c->r->chunk_size;
	if (p->kind != FSNAP_BASE && avg > FSNAP_CHUNK_DELTA)
		avg = FSNAP_CHUNK_DELTA;
	fsnap_chunker_size(&c->ch, avg);
	c->cur = p;
}

/* Drops the half-made delta of x and turns x into a new base. */
static int rebase(cctx *c, fsnap_index *x)
{
	size_t len;
	uint64_t recs;
	cjob *j;
	free(fsnap_chunker_take(&c->ch, &len, &recs));
	while ((j = fsnap_pool_take(c->pool)))
		if (collect(c, j))
			return c->rc;
	for (size_t k = 0; k < x->nparts; k++)
		free(x->parts[k].chunks);
	memset(x->parts, 0, sizeof *x->parts);
	x->parts[0].kind = FSNAP_BASE;
	x->parts[0].seq = x->seq;
	x->nparts = 1;
	part_begin(c, &x->parts[0]);
	c->abandon = 0;
	return 0;
}

/* ---- earlier snapshots ---- */

static int same_index(const fsnap_index *a, const fsnap_index *b)
{
	return !strcmp(a->name, b->name) && a->ix == b->ix &&
	       a->created_ms == b->created_ms;
}

static int copy_parts(const fsnap_index *from, cand *to)
{
	fsnap_part *p = calloc(from->nparts, sizeof *p);
	if (!p)
		return FERRY_ENOMEM;
	for (size_t i = 0; i < from->nparts; i++) {
		p[i] = from->parts[i];
		p[i].chunks = NULL;
		p[i].nchunks = p[i].cap = 0;
		for (size_t k = 0; k < from->parts[i].nchunks; k++)
			if (fsnap_part_add(&p[i], &from->parts[i].chunks[k])) {
				parts_free(p, from->nparts);
				return FERRY_ENOMEM;
			}
	}
	parts_free(to->parts, to->nparts);
	to->parts = p;
	to->nparts = from->nparts;
	to->seq = from->seq;
	return 0;
}

static int find_ix(const fsnap_manifest *m, const char *name)
{
	size_t lo = 0, hi = m->nix;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int d = strcmp(m->ix[mid].name, name);
		if (!d)
			return (int)mid;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* For each index of c->m, the latest earlier snapshot of it (one
 * manifest in memory at a time). Damaged manifests are passed over. */
static int load_cands(cctx *c)
{
	char **names;
	size_t n;
	int rc = fsnap_manifest_names(c->r, &names, &n, c->err);
	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < n; i++) {
		fsnap_manifest *pm;
		if (fsnap_manifest_load(c->r, names[i], &pm, NULL))
			continue;
		if (!strcmp(pm->deployment, c->m->deployment))
			for (size_t k = 0; !rc && k < pm->nix; k++) {
				int at = find_ix(c->m, pm->ix[k].name);
				if (at < 0 || !same_index(&c->m->ix[at], &pm->ix[k]))
					continue;
				cand *cd = &c->cands[at];
				if (cd->parts && cd->finished_ms >= pm->finished_ms)
					continue;
				if ((rc = copy_parts(&pm->ix[k], cd)))
					ferry_err_set(c->err, rc, NULL);
				cd->finished_ms = pm->finished_ms;
			}
		fsnap_manifest_free(pm);
	}
	ferry_strv_free(names);
	return rc;
}

/* ---- the catalog, read in the snapshot's transaction ---- */

typedef struct catvisit {
	cctx *c;
	json_value *obj;
	size_t prefix;
	int raw; /* the value is a plain string, not JSON */
} catvisit;

static int cat_visit(void *p, const fstore_entry *e)
{
	catvisit *v = p;
	json_arena *a = v->c->m->a;
	json_value *val;
	json_error je;
	if (v->raw)
		val = json_new_string(a, e->body, e->body_len);
	else if (json_parse(a, e->body, e->body_len, &val, &je))
		val = NULL;
	if (!val || json_obj_set(a, v->obj, e->id + v->prefix,
				 e->idlen - v->prefix, val)) {
		fail(v->c, ferry_err_set(v->c->err, FERRY_ECORRUPT, "catalog record "
			"'%.*s' is not valid JSON", (int)e->idlen, e->id));
		return STOP;
	}
	return 0;
}

static int read_catalog(cctx *c)
{
	static const struct { const char *prefix; size_t off; int raw; } k[] = {
		{"version/", offsetof(fsnap_manifest, versions), 0},
		{"tenant/", offsetof(fsnap_manifest, tenants), 0},
		{"alias/", offsetof(fsnap_manifest, aliases), 1},
		{"applied/", offsetof(fsnap_manifest, applied), 1},
		{FSNAP_KEY_REPO, offsetof(fsnap_manifest, repos), 0},
	};
	const char *v;
	size_t n;
	json_error je;
	fstore_txn *t = c->t;
	int rc = t->store->ops->kv_get(t, "settings", &v, &n);
	if (rc)
		return ferry_err_set(c->err, FERRY_ENOTINIT, "the data directory "
			"is not initialised; there is nothing to snapshot");
	if (json_parse(c->m->a, v, n, &c->m->settings, &je) ||
	    c->m->settings->type != JSON_OBJECT)
		return ferry_err_set(c->err, FERRY_ECORRUPT, "catalog settings are "
				     "not a JSON object");
	for (size_t i = 0; i < sizeof k / sizeof *k; i++) {
		catvisit cv = {c, *(json_value **)((char *)c->m + k[i].off),
			       strlen(k[i].prefix), k[i].raw};
		rc = t->store->ops->kv_scan(t, k[i].prefix, cat_visit, &cv);
		if (c->rc)
			return c->rc;
		if (rc)
			return ferry_err_set(c->err, rc, "reading the catalog: %s",
					     ferry_strerror(rc));
	}
	return 0;
}

typedef struct ixlist {
	cctx *c;
	fsnap_index *v;
	size_t n, cap;
} ixlist;

static int ix_visit(void *p, const fcat_index *ci)
{
	ixlist *l = p;
	char alias[FERRY_NAME_MAX + 1], key[8 + FERRY_NAME_MAX];
	const char *v;
	size_t vn;
	json_error je;
	fstore_txn *t = l->c->t;
	fcat_alias_of(t, ci, alias);
	if (!fname_glob2(l->c->pattern, ci->name, alias))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		fsnap_index *nv = realloc(l->v, cap * sizeof *nv);
		if (!nv)
			return FERRY_ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	fsnap_index *x = &l->v[l->n++];
	memset(x, 0, sizeof *x);
	snprintf(x->name, sizeof x->name, "%s", ci->name);
	snprintf(x->alias, sizeof x->alias, "%s", alias);
	snprintf(x->tenant, sizeof x->tenant, "%s", ci->tenant);
	snprintf(x->index, sizeof x->index, "%s", ci->index);
	snprintf(x->version, sizeof x->version, "%s", ci->version);
	x->ix = ci->ix;
	x->created_ms = ci->created_ms;
	snprintf(key, sizeof key, "ibody/%s", ci->name);
	if (t->store->ops->kv_get(t, key, &v, &vn) == 0 && vn &&
	    (json_parse(l->c->m->a, v, vn, &x->body, &je) ||
	     x->body->type != JSON_OBJECT)) {
		ferry_err_set(l->c->err, FERRY_ECORRUPT, "the create body of index "
			      "'%s' is not a JSON object", ci->name);
		return FERRY_ECORRUPT;
	}
	return 0;
}

/* ---- planning ---- */

typedef struct measure {
	uint64_t bytes, limit;
} measure;

static int measure_visit(void *p, const fstore_entry *e)
{
	measure *ms = p;
	ms->bytes += FSNAP_REC_HDR + e->idlen + (e->deleted ? 0 : e->body_len);
	return ms->bytes > ms->limit ? 1 : 0;
}

static int touch_all(cctx *c, const cand *cd, size_t nparts)
{
	for (size_t i = 0; i < nparts; i++)
		for (size_t k = 0; k < cd->parts[i].nchunks; k++)
			if (fsnap_chunk_touch(c->r, cd->parts[i].chunks[k].sha))
				return -1;
	return 0;
}

/* Decides base, delta, diff or unchanged for index i and sets up its
 * parts. */
static int plan_index(cctx *c, size_t i, uint64_t *estimate)
{
	fsnap_index *x = &c->m->ix[i];
	cand *cd = &c->cands[i];
	fstore_stats st;
	fstore_txn *t = c->t;
	int rc = t->store->ops->ix_stats(t, x->ix, &st);
	if (rc)
		return ferry_err_set(c->err, rc, "reading index '%s': %s", x->name,
				     ferry_strerror(rc));
	x->seq = st.next_seq ? st.next_seq - 1 : 0;
	x->docs = st.docs;
	x->bytes = st.bytes;
	c->mode[i] = MODE_BASE;
	if (cd->parts && cd->seq <= x->seq) {
		uint64_t base = cd->parts[0].bytes, deltas = 0;
		for (size_t k = 1; k < cd->nparts; k++)
			deltas += cd->parts[k].bytes;
		measure ms = {0, base / 2 > deltas ? base / 2 - deltas : 0};
		if (cd->seq == x->seq) {
			c->mode[i] = MODE_SAME;
		} else {
			rc = cd->nparts <= FSNAP_DELTA_MAX ?
			     t->store->ops->changes(t, x->ix, cd->seq, SIZE_MAX,
						    measure_visit, &ms) : FERRY_ELIMIT;
			if (rc && rc != FERRY_EHORIZON && rc != FERRY_ELIMIT)
				return ferry_err_set(c->err, rc, "reading the changes "
					"of '%s': %s", x->name, ferry_strerror(rc));
			c->mode[i] = !rc && ms.bytes <= ms.limit ? MODE_DELTA
								 : MODE_DIFF;
		}
		if (touch_all(c, cd, c->mode[i] == MODE_DIFF ? 1 : cd->nparts))
			c->mode[i] = MODE_BASE; /* a chunk of it is gone */
		if (c->mode[i] == MODE_DELTA)
			*estimate += ms.bytes;
	}
	size_t keep = c->mode[i] == MODE_BASE ? 0 :
		      c->mode[i] == MODE_DIFF ? 1 : cd->nparts;
	x->parts = calloc(keep + 1 + 1, sizeof *x->parts);
	if (!x->parts)
		return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	for (size_t k = 0; k < keep; k++) {
		x->parts[k] = cd->parts[k];
		cd->parts[k].chunks = NULL; /* moved */
	}
	x->nparts = keep;
	if (c->mode[i] == MODE_SAME)
		return 0;
	fsnap_part *np = &x->parts[x->nparts++];
	np->kind = c->mode[i] == MODE_BASE ? FSNAP_BASE : FSNAP_DELTA;
	np->since = np->kind == FSNAP_BASE ? 0 : x->parts[np - x->parts - 1].seq;
	np->seq = x->seq;
	if (c->mode[i] != MODE_DELTA)
		*estimate += st.bytes + st.docs * (FSNAP_REC_HDR + 24);
	return 0;
}

/* Reads index i's new part into chunks. */
static int read_index(cctx *c, size_t i)
{
	fsnap_index *x = &c->m->ix[i];
	fstore_txn *t = c->t;
	int rc;
	if (c->mode[i] == MODE_SAME)
		return 0;
	part_begin(c, &x->parts[x->nparts - 1]);
	c->pr.index = x->name;
	if ((rc = report(c)))
		return fail(c, rc);
	if (c->mode[i] == MODE_DIFF) {
		if ((rc = diff_index(c, x)))
			return rc;
		if (!c->abandon)
			return 0;
		if ((rc = rebase(c, x))) /* the difference is too large */
			return rc;
	}
	if (c->cur->kind == FSNAP_BASE)
		rc = t->store->ops->doc_scan(t, x->ix, NULL, 0, SIZE_MAX,
					     visit_rec, c);
	else
		rc = t->store->ops->changes(t, x->ix, c->cur->since, SIZE_MAX,
					    visit_rec, c);
	if (c->rc)
		return c->rc;
	if (rc)
		return fail(c, ferry_err_set(c->err, rc, "reading index '%s': %s",
					     x->name, ferry_strerror(rc)));
	return emit(c); /* a part ends its last chunk */
}

/* ---- around it ---- */

static int deployment_id(ferry_db *db, char out[33], ferry_err *err)
{
	fstore_txn *t;
	const char *v;
	size_t n;
	unsigned char raw[16];
	out[0] = 0;
	int rc = fdb_begin(db, 0, &t, err);
	if (rc)
		return rc;
	if (t->store->ops->kv_get(t, FSNAP_KEY_DEPLOYMENT, &v, &n) == 0 &&
	    n == 32) {
		memcpy(out, v, 32);
		out[32] = 0;
	}
	fdb_abort(t);
	if (out[0] || db->rdonly)
		return 0;
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		return ferry_err_set(err, FERRY_EIO, "no random bytes");
	if ((rc = fdb_begin(db, 1, &t, err)))
		return rc;
	if (t->store->ops->kv_get(t, FSNAP_KEY_DEPLOYMENT, &v, &n) == 0 &&
	    n == 32) { /* another process was faster */
		memcpy(out, v, 32);
		out[32] = 0;
		fdb_abort(t);
		return 0;
	}
	fsnap_hex(raw, 16, out);
	if ((rc = t->store->ops->kv_put(t, FSNAP_KEY_DEPLOYMENT, out, 32, err))) {
		fdb_abort(t);
		return rc;
	}
	return fdb_commit(t, err);
}

static int pick_name(const fsnap_repo *r, const char *given, char *out,
		     ferry_err *err)
{
	char path[FSNAP_PATH];
	struct stat st;
	if (given) {
		snprintf(out, FSNAP_NAME_MAX + 1, "%s", given);
		fsnap_path_manifest(r, out, path, sizeof path);
		if (stat(path, &st) == 0)
			return ferry_err_set(err, FERRY_EEXISTS, "snapshot '%s' already "
				"exists in repository %s; pick another name or delete it",
				given, r->label);
		return 0;
	}
	time_t now = time(NULL);
	struct tm tm;
	char base[64];
	gmtime_r(&now, &tm);
	strftime(base, sizeof base, "snap-%Y%m%d-%H%M%S", &tm);
	for (int i = 1; i < 1000; i++) {
		if (i == 1)
			snprintf(out, FSNAP_NAME_MAX + 1, "%s", base);
		else
			snprintf(out, FSNAP_NAME_MAX + 1, "%s-%d", base, i);
		fsnap_path_manifest(r, out, path, sizeof path);
		if (stat(path, &st))
			return 0;
	}
	return ferry_err_set(err, FERRY_EEXISTS, "too many snapshots named %s-*",
			     base);
}

static int start_pool(cctx *c)
{
	c->nws = fsnap_ncpu();
	if (!(c->ws = calloc(c->nws, sizeof *c->ws)))
		return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	for (unsigned i = 0; i < c->nws; i++) {
		fbuf_init(&c->ws[i].tmp, 0);
		if (!(c->ws[i].zc = ZSTD_createCCtx()))
			return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	}
	if (fsnap_pool_new(c->nws, 2 * c->nws + 2, store_job, c, &c->pool))
		return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	return 0;
}

static void stop_pool(cctx *c)
{
	cjob *j;
	while (c->pool && (j = fsnap_pool_take(c->pool)))
		free(j);
	fsnap_pool_free(c->pool);
	c->pool = NULL;
	for (unsigned i = 0; c->ws && i < c->nws; i++) {
		ZSTD_freeCCtx(c->ws[i].zc);
		fbuf_release(&c->ws[i].tmp);
	}
	free(c->ws);
	c->ws = NULL;
}

/* Reads everything in one read transaction and stores the chunks. */
static int read_all(cctx *c)
{
	ixlist l = {c, NULL, 0, 0};
	uint64_t estimate = 0;
	int rc = fdb_begin(c->db, 0, &c->t, c->err);
	if (rc)
		return rc;
	c->m->started_ms = fsnap_now_ms();
	if ((rc = read_catalog(c)))
		return rc;
	rc = fcat_index_each(c->t, ix_visit, &l);
	c->m->ix = l.v;
	c->m->nix = l.n;
	if (rc)
		return c->err && c->err->code == rc ? rc :
		       ferry_err_set(c->err, rc, "listing indices: %s",
				     ferry_strerror(rc));
	if (!l.n && c->pattern)
		return ferry_err_set(c->err, FERRY_ENOTFOUND, "no index matches "
			"'%s'; a pattern matches physical names and aliases "
			"(for example v0_8_1.* or default.profile) as `ferry "
			"index list` shows them",
			c->pattern);
	if (!(c->cands = calloc(l.n + 1, sizeof *c->cands)) ||
	    !(c->mode = calloc(l.n + 1, sizeof *c->mode)))
		return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	if (c->m->deployment[0] && (rc = load_cands(c)))
		return rc;
	for (size_t i = 0; i < c->m->nix; i++)
		if ((rc = plan_index(c, i, &estimate)))
			return rc;
	c->pr.step = "read";
	c->pr.bytes_total = estimate;
	if ((rc = start_pool(c)))
		return rc;
	fsnap_chunker_init(&c->ch, c->r->chunk_size, c->r->format);
	for (size_t i = 0; i < c->m->nix; i++)
		if ((rc = read_index(c, i)))
			return rc;
	cjob *j;
	while ((j = fsnap_pool_take(c->pool)))
		if ((rc = collect(c, j)))
			return rc;
	c->pr.index = NULL;
	return report(c);
}

static void finish_stats(fsnap_manifest *m)
{
	fsnap_stats *s = &m->stats;
	s->docs = s->bytes = s->chunks = s->stored = 0;
	for (size_t i = 0; i < m->nix; i++) {
		s->docs += m->ix[i].docs;
		for (size_t k = 0; k < m->ix[i].nparts; k++) {
			const fsnap_part *p = &m->ix[i].parts[k];
			s->bytes += p->bytes;
			s->chunks += p->nchunks;
			for (size_t n = 0; n < p->nchunks; n++)
				s->stored += p->chunks[n].stored;
		}
	}
	m->finished_ms = fsnap_now_ms();
	s->took_ms = m->finished_ms - m->started_ms;
}

/* Under the repository lock: every chunk is there and its name durable,
 * the name is free; then the manifest appears in one rename. */
static int commit(cctx *c, const fbuf *text)
{
	char dir[PATH_MAX + 16], file[FSNAP_NAME_MAX + 8], rel[96], hex[65];
	uint64_t dirs[4] = {0};
	int rc = fsnap_lock_take(c->r, "create", c->m->name, fsnap_lock_wait_ms(),
				 c->err);
	if (rc)
		return rc;
	fsnap_trash_recover(c->r);
	for (size_t i = 0; !rc && i < c->m->nix; i++)
		for (size_t k = 0; !rc && k < c->m->ix[i].nparts; k++) {
			const fsnap_part *p = &c->m->ix[i].parts[k];
			for (size_t n = 0; !rc && n < p->nchunks; n++) {
				unsigned d = p->chunks[n].sha[0];
				dirs[d >> 6] |= (uint64_t)1 << (d & 63);
				if (fsnap_chunk_touch(c->r, p->chunks[n].sha)) {
					fsnap_hex(p->chunks[n].sha, 32, hex);
					snprintf(rel, sizeof rel, "chunks/%.2s/%s", hex,
						 hex);
					rc = ferry_err_set(c->err, FERRY_ECORRUPT,
						"%s vanished while snapshot '%s' was "
						"taken (removed by hand?); run the create "
						"again", rel, c->m->name);
				}
			}
		}
	/* The names of the chunks it uses (ours, and another create's that
	 * we reuse) become durable before the manifest that needs them. */
	if (!rc)
		rc = fsnap_fsync_chunkdirs(c->r, dirs, c->err);
	snprintf(dir, sizeof dir, "%s/snapshots", c->r->path);
	snprintf(file, sizeof file, "%s.json", c->m->name);
	if (!rc)
		rc = fsnap_write_atomic(dir, file, text->p, text->len,
					FSNAP_W_NOREPLACE, c->err);
	if (rc == FERRY_EEXISTS)
		ferry_err_set(c->err, rc, "snapshot '%s' was created meanwhile by "
			      "another process; pick another name", c->m->name);
	fsnap_lock_drop(c->r);
	return rc;
}

int ferry_snapshot_create(ferry_db *db, const char *repo, const char *name,
			  const char *pattern,
			  ferry_snapshot_progress_fn progress, void *ctx,
			  ferry_snapshot_info *info, char **manifest_json,
			  ferry_err *err)
{
	fsnap_repo r;
	fbuf text;
	cctx c = {0};
	int rc;
	if (!db)
		return ferry_err_set(err, FERRY_EINVAL, "no data directory");
	if (name && (rc = fsnap_check_name(name, err)))
		return rc;
	fbuf_init(&text, FSNAP_MANIFEST_MAX);
	c.db = db;
	c.r = &r;
	c.err = err;
	c.progress = progress;
	c.pctx = ctx;
	c.pattern = pattern && *pattern && strcmp(pattern, "*") ? pattern : NULL;
	if ((rc = fsnap_repo_open(db, repo, &r, err)))
		return rc;
	if ((rc = fsnap_manifest_new(&c.m))) {
		ferry_err_set(err, rc, NULL);
		goto out;
	}
	c.m->format = r.format; /* a format 1 repository stays readable by
				   the ferry that made it */
	if (pattern && *pattern) {
		json_value *pv = json_new_string(c.m->a, pattern, strlen(pattern));
		if (!pv) {
			rc = ferry_err_set(err, FERRY_ENOMEM, NULL);
			goto out;
		}
		c.m->pattern = pv->u.str.s;
	}
	if ((rc = deployment_id(db, c.m->deployment, err)) ||
	    (rc = pick_name(&r, name, c.m->name, err)) ||
	    (rc = fsnap_inprogress_add(&r, c.m->name, err)))
		goto out;
	rc = read_all(&c);
	fdb_abort(c.t);
	c.t = NULL;
	stop_pool(&c);
	if (rc)
		goto out;
	finish_stats(c.m);
	if ((rc = fsnap_manifest_write(c.m, &text))) {
		ferry_err_set(err, rc, "writing the manifest: %s",
			      ferry_strerror(rc));
		goto out;
	}
	if ((rc = commit(&c, &text)))
		goto out;
	if (info)
		fsnap_manifest_info(c.m, info);
	if (manifest_json)
		*manifest_json = fbuf_detach(&text, NULL);
out:
	fdb_abort(c.t);
	stop_pool(&c);
	fsnap_chunker_release(&c.ch);
	for (size_t i = 0; c.cands && c.m && i < c.m->nix; i++)
		parts_free(c.cands[i].parts, c.cands[i].nparts);
	free(c.cands);
	free(c.mode);
	fsnap_manifest_free(c.m);
	fsnap_repo_close(&r);
	fbuf_release(&text);
	return rc;
}
