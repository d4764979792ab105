/*
 * ucopy.c - the copy step of an upgrade, for every item of every tenant
 * at once.
 *
 * Workers (one per core, at most UCOPY_WORKERS) each take a free page
 * slot, fill it (one worker at a time: the reading position walks the
 * items in order), then transform it with their own program and arena,
 * outside any lock. A page holds up to `page` documents: of one big item,
 * or of several small consecutive items (one segment each, an empty item
 * being an empty segment). The calling thread commits pages strictly in
 * the order they were read, several in one write transaction (up to the
 * batch size), each item's checkpoint (last id, or the move to catch-up)
 * with its documents.
 *
 * So the transforms of many tenants, or of consecutive pages of one big
 * index, run on every core; a hundred small tenants fill pages and
 * transactions like one big tenant does instead of paying a read, a slot
 * and a commit (an fsync) per index; and every item's checkpoint still
 * advances in id order, so a run killed at any point resumes from the
 * last commit exactly as before. Progress is reported from the calling
 * thread after each commit, in item order. The first error of any worker
 * (a document a transform refuses, naming its tenant, index and id) stops
 * them all before anything is switched; what was committed stays and
 * `ferry upgrade resume` goes on.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/err.h"
#include "migrate/uplan.h"
#include "migrate/urun.h"

#define UCOPY_WORKERS 8
#define UCOPY_WORKER_NICE 10 /* added to the workers' nice value */

enum { SLOT_FREE, SLOT_BUSY, SLOT_READY };

/* Entries [from, to) of a page belong to item `item`; `last`: the item
 * had no more documents (its copy ends with this segment). */
typedef struct cseg {
	size_t item, from, to;
	int last;
} cseg;

typedef struct cslot {
	upage pg;
	cseg *segs;
	size_t nsegs, cap;
	uint64_t no;     /* read order */
	int state;
} cslot;

typedef struct copier copier;

typedef struct cworker {
	copier *c;
	pthread_t th;
	uxf xf;
	int own;         /* xf was made for this worker (else borrowed) */
} cworker;

struct copier {
	urun *r;
	pthread_mutex_t mu;  /* slots, counters, errors */
	pthread_cond_t cv;
	pthread_mutex_t rmu; /* the reading position */
	cslot *slots;
	size_t nslots, page;
	cworker *w;
	size_t nw, started;
	/* under rmu */
	size_t cur;          /* item being read */
	int loaded;          /* after/after_len hold cur's position */
	char after[FERRY_ID_MAX + 1];
	size_t after_len;
	uint64_t next_no;
	/* under mu */
	uint64_t commit_no, pages;
	int read_all, stop, rc;
	ferry_err err;
};

static void fail(copier *c, int rc, const ferry_err *e)
{
	pthread_mutex_lock(&c->mu);
	if (!c->rc) {
		c->rc = rc;
		if (e)
			c->err = *e;
		else
			ferry_err_set(&c->err, rc, NULL);
	}
	c->stop = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* A free slot marked busy, or NULL once everything is read or stopped. */
static cslot *take_slot(copier *c)
{
	cslot *s = NULL;
	pthread_mutex_lock(&c->mu);
	while (!s && !c->stop && !c->read_all) {
		for (size_t i = 0; !s && i < c->nslots; i++)
			if (c->slots[i].state == SLOT_FREE)
				s = &c->slots[i];
		if (!s)
			pthread_cond_wait(&c->cv, &c->mu);
	}
	if (s)
		s->state = SLOT_BUSY;
	pthread_mutex_unlock(&c->mu);
	return s;
}

static void put_slot(copier *c, cslot *s, int state)
{
	pthread_mutex_lock(&c->mu);
	s->state = state;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static int add_seg(cslot *s, size_t item, size_t from, size_t to, int last)
{
	if (s->nsegs == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		cseg *ns = realloc(s->segs, cap * sizeof *ns);
		if (!ns)
			return FERRY_ENOMEM;
		s->segs = ns;
		s->cap = cap;
	}
	s->segs[s->nsegs++] = (cseg){item, from, to, last};
	return 0;
}

/* Appends to s the next documents of the item being read (under rmu);
 * *full when the page is. Moves on to the next item when this one ends. */
static int read_item(copier *c, cslot *s, int *full, ferry_err *err)
{
	urun *r = c->r;
	const uitem *it = &r->job.items[c->cur];
	size_t from = s->pg.n, want = c->page - from, got;
	if (!c->loaded) {
		memcpy(c->after, it->after, it->after_len);
		c->after_len = it->after_len;
		c->loaded = 1;
	}
	int rc = urun_read_more(r, &s->pg, it, c->after, c->after_len, want,
				&got);
	if (rc)
		return ferry_err_set(err, rc, "tenant '%s': reading %s: %s",
				     it->tenant, it->src, ferry_strerror(rc));
	if (got) {
		const rent *x = &s->pg.ents[s->pg.n - 1];
		memcpy(c->after, s->pg.in.p + x->id_off, x->idlen);
		c->after_len = x->idlen;
	}
	if ((rc = add_seg(s, c->cur, from, s->pg.n, got < want)))
		return ferry_err_set(err, rc, NULL);
	*full = got == want;
	if (got < want) {
		c->cur++;
		c->loaded = 0;
	}
	return 0;
}

/* Fills s with the next page. FERRY_EOF when every item is read. */
static int read_next(copier *c, cslot *s, ferry_err *err)
{
	urun *r = c->r;
	int rc = 0, full = 0;
	pthread_mutex_lock(&c->rmu);
	upage_reset(&s->pg);
	s->nsegs = 0;
	while (!rc && !full) {
		while (c->cur < r->job.n &&
		       strcmp(r->job.items[c->cur].phase, "copy")) {
			c->cur++;
			c->loaded = 0;
		}
		if (c->cur >= r->job.n)
			break;
		rc = read_item(c, s, &full, err);
	}
	if (!rc && s->nsegs)
		s->no = c->next_no++;
	uint64_t pages = c->next_no;
	pthread_mutex_unlock(&c->rmu);
	if (rc || s->nsegs)
		return rc;
	pthread_mutex_lock(&c->mu);
	c->read_all = 1;
	c->pages = pages;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return FERRY_EOF;
}

static int transform_page(cworker *w, cslot *s, ferry_err *err)
{
	int rc = 0;
	for (size_t k = 0; !rc && k < s->nsegs; k++) {
		const cseg *g = &s->segs[k];
		rc = urun_transform_range(&w->xf, &s->pg, g->from, g->to,
					  &w->c->r->job.items[g->item], err);
	}
	return rc;
}

/* The commits are the copy's critical path: the committing thread never
 * waits for pages, while workers competing with it for the cores made
 * every commit slower (1 M profiles on 2 cores: 1.78 s in commits with
 * equal priorities, 1.38 s with workers at nice +10; the workers still
 * keep up). So a worker lowers its own priority (Linux: per thread), and
 * in ferryd an upgrade also yields to the HTTP workers. Failure is
 * harmless: the copy is only slower. */
static void worker_lower_priority(void)
{
	id_t tid = (id_t)gettid();
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, tid);
	if (nice == -1 && errno)
		return;
	nice += UCOPY_WORKER_NICE;
	(void)setpriority(PRIO_PROCESS, tid, nice < 19 ? nice : 19);
}

static void *worker_main(void *arg)
{
	cworker *w = arg;
	copier *c = w->c;
	ferry_err e = {0};
	cslot *s;
	worker_lower_priority();
	while ((s = take_slot(c))) {
		int rc = read_next(c, s, &e);
		if (rc == FERRY_EOF) {
			put_slot(c, s, SLOT_FREE);
			break;
		}
		if (!rc)
			rc = transform_page(w, s, &e);
		if (rc) {
			put_slot(c, s, SLOT_FREE);
			fail(c, rc, &e);
			break;
		}
		urun_throttle(c->r, s->pg.n, &c->mu);
		put_slot(c, s, SLOT_READY);
	}
	return NULL;
}

/* ---- the calling thread: commits ---- */

static cslot *slot_no(copier *c, uint64_t no)
{
	for (size_t i = 0; i < c->nslots; i++)
		if (c->slots[i].state == SLOT_READY && c->slots[i].no == no)
			return &c->slots[i];
	return NULL;
}

/* The pages ready in a row from commit_no, into g, up to the batch size
 * and half the slots (the other half keeps the workers busy meanwhile);
 * returns how many. Under mu. */
static size_t ready_run(copier *c, cslot **g, size_t *docs)
{
	size_t n = 0, max = c->nslots / 2 ? c->nslots / 2 : 1;
	cslot *s;
	*docs = 0;
	while (n < max && *docs < c->r->batch &&
	       (s = slot_no(c, c->commit_no + n))) {
		g[n++] = s;
		*docs += s->pg.n;
	}
	return n;
}

/* Waits for the next pages in read order until they make a batch, fill
 * half the slots, or are the last ones; fills g with them. 0 pages:
 * finished or stopped. */
static size_t gather(copier *c, cslot **g)
{
	size_t n = 0, docs;
	size_t max = c->nslots / 2 ? c->nslots / 2 : 1;
	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		n = ready_run(c, g, &docs);
		if (n && (docs >= c->r->batch || n == max ||
			  (c->read_all && c->commit_no + n == c->pages)))
			break;
		n = 0;
		if (c->read_all && c->commit_no == c->pages)
			break;
		pthread_cond_wait(&c->cv, &c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return n;
}

/* Applies one segment and moves its item's checkpoint. */
static int apply_seg(urun *r, upage *pg, const cseg *g, fstore_txn *t,
		     ferry_err *err)
{
	uitem *it = &r->job.items[g->item];
	int rc = urun_apply_range(r, pg, g->from, g->to, t, it, err);
	if (rc)
		return rc;
	if (g->to > g->from) {
		const rent *x = &pg->ents[g->to - 1];
		memcpy(it->after, pg->in.p + x->id_off, x->idlen);
		it->after_len = (uint32_t)x->idlen;
	}
	if (g->last) {
		snprintf(it->phase, sizeof it->phase, "catchup");
		it->seq = it->start_seq;
		r->totals_ok = 0;
	}
	return ujob_save_item(t, &r->job, g->item, err);
}

/* Commits pages g[0..n) and their items' checkpoints in one transaction.
 * The items in memory follow; on failure the run stops (the catalog
 * keeps the last committed state for the resume). */
static int commit_pages(copier *c, cslot **g, size_t n, ferry_err *err)
{
	urun *r = c->r;
	fstore_txn *t;
	int rc = fdb_begin(r->db, 1, &t, err);
	if (rc)
		return rc;
	if ((rc = ulease_renew(t, r->token, err)))
		goto fail;
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < g[k]->nsegs; i++)
			if ((rc = apply_seg(r, &g[k]->pg, &g[k]->segs[i], t, err)))
				goto fail;
	return fdb_commit(t, err);
fail:
	fdb_abort(t);
	return rc;
}

/* Reports each item the pages touched, once, in order. */
static int report_pages(copier *c, cslot **g, size_t n, ferry_err *err)
{
	urun *r = c->r;
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < g[k]->nsegs; i++) {
			size_t item = g[k]->segs[i].item;
			const uitem *it = &r->job.items[item];
			if (i + 1 < g[k]->nsegs ? g[k]->segs[i + 1].item == item :
			    k + 1 < n && g[k + 1]->segs[0].item == item)
				continue; /* reported with its next segment */
			if (urun_report(r, item, it->copied + it->dropped +
					it->failed))
				return ferry_err_set(err, FERRY_EBUSY, "stopped by "
					"the caller; `ferry upgrade resume` goes on");
		}
	return 0;
}

static int writer(copier *c, ferry_err *err)
{
	cslot **g = calloc(c->nslots, sizeof *g);
	size_t n;
	int rc = 0;
	if (!g)
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	while (!rc && (n = gather(c, g)) > 0) {
		rc = commit_pages(c, g, n, err);
		/* report before the slots go back: workers refill them */
		if (!rc)
			rc = report_pages(c, g, n, err);
		pthread_mutex_lock(&c->mu);
		for (size_t k = 0; k < n; k++)
			g[k]->state = SLOT_FREE;
		c->commit_no += n;
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	free(g);
	return rc;
}

/* ---- set-up ---- */

/* One worker per core, fewer when there are not two batches to copy. */
static size_t workers_for(const urun *r)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = cores > 0 ? (size_t)cores : 1;
	uint64_t docs = 0;
	for (size_t i = 0; i < r->job.n; i++)
		if (!strcmp(r->job.items[i].phase, "copy"))
			docs += r->job.items[i].total;
	if (want > UCOPY_WORKERS)
		want = UCOPY_WORKERS;
	if (docs < 2 * (uint64_t)r->batch)
		want = 1;
	return want ? want : 1;
}

static int setup(copier *c, urun *r, ferry_err *err)
{
	memset(c, 0, sizeof *c);
	c->r = r;
	/* pages of batch / (2 workers) documents in 4 slots per worker: at
	 * most two batches in memory, one being written while the other
	 * fills */
	c->nw = workers_for(r);
	c->nslots = 4 * c->nw;
	c->page = r->batch / (2 * c->nw) ? r->batch / (2 * c->nw) : 1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	pthread_mutex_init(&c->rmu, NULL);
	c->slots = calloc(c->nslots, sizeof *c->slots);
	c->w = calloc(c->nw, sizeof *c->w);
	if (!c->slots || !c->w)
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	for (size_t i = 0; i < c->nw; i++) {
		cworker *w = &c->w[i];
		w->c = c;
		if (i == 0) { /* the calling thread transforms nothing now */
			w->xf = urun_xf(r);
			continue;
		}
		w->own = 1;
		w->xf.skip_bad = r->job.skip_bad;
		if (!(w->xf.a = json_arena_new()))
			return ferry_err_set(err, FERRY_ENOMEM, NULL);
		int rc = uplan_compose(&r->job, r->set, &w->xf.prog, err);
		if (rc)
			return rc;
	}
	return 0;
}

static void teardown(copier *c)
{
	for (size_t i = 0; c->w && i < c->nw; i++)
		if (c->w[i].own) {
			fmig_program_free(c->w[i].xf.prog);
			json_arena_free(c->w[i].xf.a);
		}
	for (size_t i = 0; c->slots && i < c->nslots; i++) {
		upage_release(&c->slots[i].pg);
		free(c->slots[i].segs);
	}
	free(c->slots);
	free(c->w);
	pthread_mutex_destroy(&c->rmu);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
}

int urun_copy(urun *r, ferry_err *err)
{
	copier c;
	int rc = setup(&c, r, err);
	for (; !rc && c.started < c.nw; c.started++)
		if (pthread_create(&c.w[c.started].th, NULL, worker_main,
				   &c.w[c.started]))
			rc = ferry_err_set(err, FERRY_ENOMEM, "cannot start a copy "
					   "thread");
	if (!rc)
		rc = writer(&c, err);
	if (rc && !c.stop)
		fail(&c, rc, NULL); /* stop the workers */
	for (size_t i = 0; i < c.started; i++)
		pthread_join(c.w[i].th, NULL);
	if (!rc && c.rc) {
		rc = c.rc;
		if (err)
			*err = c.err;
	}
	teardown(&c);
	return rc;
}
