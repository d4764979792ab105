/*
 * urun.c - running an upgrade: take the lease, plan or load the job,
 * prepare the target set, copy every item (ucopy.c), and catch up with
 * the changes made meanwhile; then ucut.c switches over and verifies.
 *
 * Each batch is read in a short read transaction, transformed without
 * any lock, and written in one write transaction together with its
 * items' checkpoints and a renewal of the lease. So a run killed at any
 * point resumes from the last committed batch: nothing is lost or
 * doubled, and the source stays readable and writable throughout.
 *
 * One job covers every tenant. A tenant added while it runs joins it
 * (ujob_tenant_join, in the tenant's own transaction); the runner picks
 * its items up before each catch-up round and in the cutover, so the
 * cutover switches it with the rest.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/catalog.h"
#include "core/err.h"
#include "core/index.h"
#include "core/names.h"
#include "migrate/uplan.h"
#include "migrate/urun.h"

#define CATCHUP_LAG 2000 /* switch over once a round applies fewer */

double urun_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uxf urun_xf(urun *r)
{
	uxf x = {r->prog, r->a, r->job.skip_bad};
	return x;
}

int urun_tenants(urun *r)
{
	size_t *tof = realloc(r->tenant_of, (r->job.n + 1) * sizeof *tof);
	if (!tof)
		return FERRY_ENOMEM;
	r->tenant_of = tof;
	r->ntenants = 0;
	for (size_t i = 0; i < r->job.n; i++) {
		const char *tn = r->job.items[i].tenant;
		/* items are grouped by tenant: mostly the previous one's */
		size_t k = i && !strcmp(r->job.items[i - 1].tenant, tn) ? i - 1 : 0;
		while (k < i && strcmp(r->job.items[k].tenant, tn))
			k++;
		tof[i] = k == i ? r->ntenants++ : tof[k];
	}
	r->tenant_items = r->job.n;
	r->totals_ok = 0;
	return 0;
}

static uint64_t item_done(const uitem *it)
{
	return it->copied + it->dropped + it->failed;
}

/* Per-tenant and overall counts for the progress callback, from every
 * item: once per change, not once per report (a job may have thousands
 * of items). */
static int totals(urun *r)
{
	unsigned char *open = NULL;
	uint64_t *td, *tt;
	if (r->tenant_items != r->job.n && urun_tenants(r))
		return FERRY_ENOMEM;
	size_t nt = r->ntenants ? r->ntenants : 1;
	if (!(td = realloc(r->tdone, nt * sizeof *td)))
		return FERRY_ENOMEM;
	r->tdone = td;
	if (!(tt = realloc(r->ttotal, nt * sizeof *tt)))
		return FERRY_ENOMEM;
	r->ttotal = tt;
	if (!(open = calloc(nt, 1)))
		return FERRY_ENOMEM;
	memset(td, 0, nt * sizeof *td);
	memset(tt, 0, nt * sizeof *tt);
	r->all_done = r->all_total = 0;
	for (size_t i = 0; i < r->job.n; i++) {
		const uitem *it = &r->job.items[i];
		uint64_t d = item_done(it), tot = it->total;
		if (!it->src[0] || !it->dst[0])
			d = tot = 0;
		if (d > tot)
			d = tot; /* catch-up writes count too */
		r->all_done += d;
		r->all_total += tot;
		td[r->tenant_of[i]] += d;
		tt[r->tenant_of[i]] += tot;
		if (!strcmp(it->phase, "copy"))
			open[r->tenant_of[i]] = 1;
	}
	r->tenants_done = 0;
	for (size_t k = 0; k < r->ntenants; k++)
		r->tenants_done += !open[k];
	free(open);
	r->totals_ok = 1;
	return 0;
}

static void report_totals(urun *r, size_t item, ferry_upgrade_progress *p)
{
	if (!r->totals_ok && totals(r))
		return;
	p->all_done = r->all_done;
	p->all_total = r->all_total;
	p->tenants = r->ntenants;
	p->tenants_done = r->tenants_done;
	if (item < r->job.n) {
		p->tenant_no = r->tenant_of[item];
		p->tenant_done = r->tdone[p->tenant_no];
		p->tenant_total = r->ttotal[p->tenant_no];
	}
}

int urun_report(urun *r, size_t item, uint64_t done)
{
	if (!r->o->progress)
		return 0;
	const uitem *it = item < r->job.n ? &r->job.items[item] : NULL;
	ferry_upgrade_progress p;
	memset(&p, 0, sizeof p);
	p.step = r->step;
	p.tenant = it ? it->tenant : NULL;
	p.source = it ? it->src : NULL;
	p.target = it ? it->dst : NULL;
	p.done = done;
	p.total = it ? it->total : 0;
	p.item = item;
	p.items = r->job.n;
	report_totals(r, item, &p);
	return r->o->progress(r->o->ctx, &p) ? FERRY_EBUSY : 0;
}

/* --throttle: sleep so that the average rate stays under the limit. */
void urun_throttle(urun *r, size_t docs, pthread_mutex_t *mu)
{
	if (!r->o->throttle)
		return;
	if (mu)
		pthread_mutex_lock(mu);
	r->throttled += docs;
	double want = (double)r->throttled / (double)r->o->throttle;
	if (mu)
		pthread_mutex_unlock(mu);
	double el = urun_now() - r->t0;
	if (want > el)
		usleep((useconds_t)((want - el) * 1e6));
}

int urun_absorb(urun *r, fstore_txn *t, ferry_err *err)
{
	size_t n = r->job.n;
	int rc = ujob_absorb(t, &r->job);
	if (rc)
		return ferry_err_set(err, rc, "reading the upgrade's items");
	if (r->job.n != n)
		rc = urun_tenants(r);
	return rc ? ferry_err_set(err, rc, NULL) : 0;
}

/* ---- reading a page of source entries ---- */

static int keep(void *ctx, const fstore_entry *e)
{
	upage *pg = ctx;
	if (pg->n == pg->cap) {
		size_t cap = pg->cap ? pg->cap * 2 : 1024;
		rent *ne = realloc(pg->ents, cap * sizeof *ne);
		if (!ne)
			return FERRY_ENOMEM;
		pg->ents = ne;
		pg->cap = cap;
	}
	rent *x = &pg->ents[pg->n];
	memset(x, 0, sizeof *x);
	x->id_off = pg->in.len;
	x->idlen = e->idlen;
	int rc = fbuf_add(&pg->in, e->id, e->idlen);
	x->body_off = pg->in.len;
	x->body_len = e->body_len;
	rc = rc ? rc : fbuf_add(&pg->in, e->body, e->body_len);
	if (rc)
		return rc;
	x->seq = e->seq;
	x->deleted = e->deleted;
	pg->n++;
	return 0;
}

/* json_parse_lazy reads up to JSON_LAZY_PAD bytes past a body: the next
 * entry's bytes, or after the last one these. Once per read, not per
 * document. */
static int upage_pad(upage *pg)
{
	int rc = fbuf_grow(&pg->in, JSON_LAZY_PAD);
	if (!rc)
		memset(pg->in.p + pg->in.len, 0, JSON_LAZY_PAD);
	return rc;
}

void upage_reset(upage *pg)
{
	pg->n = 0;
	fbuf_clear(&pg->in);
	fbuf_clear(&pg->out);
}

void upage_release(upage *pg)
{
	fbuf_release(&pg->in);
	fbuf_release(&pg->out);
	free(pg->ents);
	memset(pg, 0, sizeof *pg);
}

int urun_read_more(urun *r, upage *pg, const uitem *it, const char *after,
		   size_t after_len, size_t limit, size_t *got)
{
	fstore_txn *t;
	size_t n0 = pg->n;
	int rc = fdb_begin(r->db, 0, &t, NULL);
	if (rc)
		return rc;
	rc = r->db->ops->doc_scan(t, it->src_ix, after_len ? after : NULL,
				  after_len, limit, keep, pg);
	fdb_abort(t);
	rc = rc ? rc : upage_pad(pg);
	*got = pg->n - n0;
	return rc;
}

int urun_read_changes(urun *r, upage *pg, fstore_txn *t, const uitem *it,
		      size_t limit)
{
	upage_reset(pg);
	int rc = r->db->ops->changes(t, it->src_ix, it->seq, limit, keep, pg);
	return rc ? rc : upage_pad(pg);
}

/* ---- transforming ---- */

static int fail_record(upage *pg, rent *x, const uitem *it, const char *why)
{
	x->failed = 1;
	x->out_off = pg->out.len;
	int rc = fbuf_adds(&pg->out, "{\"id\":");
	rc = rc ? rc : fbuf_add_jstr(&pg->out, pg->in.p + x->id_off, x->idlen);
	rc = rc ? rc : fbuf_adds(&pg->out, ",\"index\":");
	rc = rc ? rc : fbuf_add_jstr(&pg->out, it->src, strlen(it->src));
	rc = rc ? rc : fbuf_adds(&pg->out, ",\"error\":");
	rc = rc ? rc : fbuf_add_jstr(&pg->out, why, strlen(why));
	rc = rc ? rc : fbuf_adds(&pg->out, ",\"source\":");
	rc = rc ? rc : fbuf_add(&pg->out, pg->in.p + x->body_off, x->body_len);
	rc = rc ? rc : fbuf_addc(&pg->out, '}');
	x->out_len = pg->out.len - x->out_off;
	return rc;
}

static int transform_one(const uxf *xf, upage *pg, rent *x, const uitem *it,
			 ferry_err *err)
{
	json_value *doc;
	json_error je;
	ferry_err e = {0};
	int rc;
	if (fmig_program_index(xf->prog, it->pi)->nops == 0) {
		x->out_off = pg->out.len; /* no ops: the body as it is, byte */
		x->out_len = x->body_len; /* for byte (escapes kept) */
		rc = fbuf_add(&pg->out, pg->in.p + x->body_off, x->body_len);
		return rc ? ferry_err_set(err, rc, NULL) : 0;
	}
	json_arena_reset(xf->a);
	/* stored bodies were validated when written: build only the parts
	 * the ops walk, copy the rest (json_parse_lazy) */
	rc = json_parse_lazy(xf->a, pg->in.p + x->body_off, x->body_len, &doc,
			     &je);
	if (rc == FERRY_EJSON)
		snprintf(e.msg, sizeof e.msg, "stored body is not JSON (byte "
			 "%zu: %s)", je.offset, je.msg);
	else
		rc = fmig_program_apply(xf->prog, it->pi, xf->a, &doc, &x->dropped,
					&e);
	if (rc == FERRY_ENOMEM)
		return ferry_err_set(err, rc, NULL);
	if (rc && xf->skip_bad)
		return fail_record(pg, x, it, e.msg);
	if (rc)
		return ferry_err_set(err, rc, "tenant '%s': document '%.*s' of %s: "
			"%s; nothing was switched (for any tenant): fix the "
			"document or the migration and resume, or run with "
			"--skip-bad to put such documents into the _failed index",
			it->tenant, (int)x->idlen, pg->in.p + x->id_off, it->src,
			e.msg);
	if (x->dropped)
		return 0;
	x->out_off = pg->out.len;
	rc = json_write(doc, &pg->out);
	x->out_len = pg->out.len - x->out_off;
	return rc ? ferry_err_set(err, rc, NULL) : 0;
}

int urun_transform(const uxf *xf, upage *pg, const uitem *it, ferry_err *err)
{
	return urun_transform_range(xf, pg, 0, pg->n, it, err);
}

int urun_transform_range(const uxf *xf, upage *pg, size_t from, size_t to,
			 const uitem *it, ferry_err *err)
{
	for (size_t i = from; i < to; i++) {
		rent *x = &pg->ents[i];
		if (x->deleted)
			continue;
		int rc = transform_one(xf, pg, x, it, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- writing ---- */

static int put_failed(urun *r, upage *pg, fstore_txn *t, const uitem *it,
		      rent *x, ferry_err *err)
{
	char name[FERRY_NAME_MAX + 1], vt[64];
	fversion dv;
	fcat_index fx;
	uint64_t seq;
	int created, rc;
	fversion_parse(r->job.to, &dv, NULL);
	fversion_token(&dv, vt, sizeof vt);
	fname_physical(vt, it->tenant, FNAME_FAILED, name, sizeof name);
	if (fcat_index_get(t, name, &fx) &&
	    ((rc = findex_create_txn(t, name, NULL, 0, err)) ||
	     (rc = fcat_index_get(t, name, &fx))))
		return rc;
	return r->db->ops->doc_write(t, fx.ix, FERRY_OP_INDEX,
		pg->in.p + x->id_off, x->idlen, pg->out.p + x->out_off,
		x->out_len, &seq, &created, err);
}

/* Writes a transformed page into the item's target inside t. */
int urun_apply(urun *r, upage *pg, fstore_txn *t, uitem *it, ferry_err *err)
{
	return urun_apply_range(r, pg, 0, pg->n, t, it, err);
}

int urun_apply_range(urun *r, upage *pg, size_t from, size_t to,
		     fstore_txn *t, uitem *it, ferry_err *err)
{
	r->totals_ok = 0; /* the item's counts change */
	for (size_t i = from; i < to; i++) {
		rent *x = &pg->ents[i];
		const char *id = pg->in.p + x->id_off;
		uint64_t seq;
		int created, rc = 0;
		if (x->failed) {
			rc = put_failed(r, pg, t, it, x, err);
			it->failed++;
		} else if (x->deleted || x->dropped) {
			rc = r->db->ops->doc_write(t, it->dst_ix, FERRY_OP_DELETE, id,
				x->idlen, NULL, 0, &seq, &created, err);
			if (rc == FERRY_ENOTFOUND)
				rc = 0;
			it->dropped += x->dropped;
		} else {
			rc = r->db->ops->doc_write(t, it->dst_ix, FERRY_OP_INDEX, id,
				x->idlen, pg->out.p + x->out_off, x->out_len, &seq,
				&created, err);
			it->copied++;
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* Commits a page for item i with its checkpoint and the lease. On
 * failure the item is as it was. */
static int write_page(urun *r, upage *pg, size_t i, ferry_err *err)
{
	fstore_txn *t;
	uitem *it = &r->job.items[i], saved = *it;
	int rc = fdb_begin(r->db, 1, &t, err);
	if (rc)
		return rc;
	if ((rc = ulease_renew(t, r->token, err)) ||
	    (rc = urun_apply(r, pg, t, it, err)) ||
	    (rc = ujob_save_item(t, &r->job, i, err))) {
		fdb_abort(t);
		*it = saved;
		return rc;
	}
	if ((rc = fdb_commit(t, err)))
		*it = saved;
	return rc;
}

static int set_state(urun *r, const char *state, ferry_err *err)
{
	fstore_txn *t;
	snprintf(r->job.state, sizeof r->job.state, "%s", state);
	int rc = fdb_begin(r->db, 1, &t, err);
	if (rc)
		return rc;
	if ((rc = ulease_renew(t, r->token, err)) ||
	    (rc = urun_absorb(r, t, err)) ||
	    (rc = ujob_save_header(t, &r->job, err))) {
		fdb_abort(t);
		return rc;
	}
	return fdb_commit(t, err);
}

/* One catch-up round over all items: applies changes since each item's
 * checkpoint. *applied counts what it did. */
static int catchup_round(urun *r, uint64_t *applied, ferry_err *err)
{
	upage *pg = &r->pages[0];
	uxf xf = urun_xf(r);
	fstore_txn *rt;
	int rc0 = fdb_begin(r->db, 0, &rt, err);
	if (rc0)
		return rc0;
	rc0 = urun_absorb(r, rt, err); /* tenants added meanwhile */
	fdb_abort(rt);
	if (rc0)
		return rc0;
	*applied = 0;
	for (size_t i = 0; i < r->job.n; i++) {
		uitem *it = &r->job.items[i];
		if (strcmp(it->phase, "catchup"))
			continue;
		for (;;) {
			fstore_txn *t;
			uint64_t seq0 = it->seq;
			int rc = fdb_begin(r->db, 0, &t, err);
			if (rc)
				return rc;
			rc = urun_read_changes(r, pg, t, it, r->batch);
			fdb_abort(t);
			if (rc)
				return ferry_err_set(err, rc, "reading changes of %s: %s",
					it->src, ferry_strerror(rc));
			if (pg->n == 0)
				break;
			it->seq = pg->ents[pg->n - 1].seq;
			if ((rc = urun_transform(&xf, pg, it, err)) ||
			    (rc = write_page(r, pg, i, err))) {
				it->seq = seq0;
				return rc;
			}
			*applied += pg->n;
			urun_report(r, i, it->copied);
		}
	}
	return 0;
}

/* ---- prepare: the target set, the job, the building version ---- */

/* The target's create body: the source's, with the hops' mappings merged
 * over its "mappings". */
static int target_body(urun *r, fstore_txn *t, const uitem *it, fbuf *out)
{
	const fmig_index_info *in = fmig_program_index(r->prog, it->pi);
	char key[8 + FERRY_NAME_MAX];
	const char *v = "{}";
	size_t vl = 2;
	json_value *root, *m;
	json_error je;
	if (it->src[0]) {
		snprintf(key, sizeof key, "ibody/%s", it->src);
		t->store->ops->kv_get(t, key, &v, &vl);
	}
	json_arena_reset(r->a);
	if (json_parse(r->a, v, vl, &root, &je) || root->type != JSON_OBJECT)
		root = json_new_object(r->a);
	if (!root)
		return FERRY_ENOMEM;
	if (in->mappings) {
		if (!(m = json_get(root, "mappings", 8)) || m->type != JSON_OBJECT) {
			m = json_new_object(r->a);
			if (!m || json_obj_set(r->a, root, "mappings", 8, m))
				return FERRY_ENOMEM;
		}
		int rc = fmig_json_merge(r->a, m, in->mappings);
		if (rc)
			return rc;
	}
	return json_write(root, out);
}

static int make_target(urun *r, fstore_txn *t, uitem *it, ferry_err *err)
{
	fcat_index ix;
	fstore_stats st = {0};
	fbuf body = FBUF_INIT;
	int rc;
	if (it->src[0] && (rc = t->store->ops->ix_stats(t, it->src_ix, &st)))
		return ferry_err_set(err, rc, "reading %s", it->src);
	it->start_seq = st.next_seq ? st.next_seq - 1 : 0;
	it->total = st.docs;
	if (!it->dst[0])
		return 0;
	if (fcat_index_get(t, it->dst, &ix) == 0 && /* left by an earlier try */
	    (rc = findex_delete_txn(t, it->dst, 1, err)))
		return rc;
	rc = target_body(r, t, it, &body);
	rc = rc ? ferry_err_set(err, rc, "building the body of %s", it->dst)
		: findex_create_txn(t, it->dst, body.p, body.len, err);
	fbuf_release(&body);
	if (rc || (rc = fcat_index_get(t, it->dst, &ix)))
		return rc;
	it->dst_ix = ix.ix;
	return 0;
}

static int building_version(urun *r, fstore_txn *t, ferry_err *err)
{
	fcat_version v;
	memset(&v, 0, sizeof v);
	if (fcat_version_get(t, r->job.to, &v)) { /* else: an earlier attempt,
						    whose history goes on */
		memset(&v, 0, sizeof v);
		fbuf_init(&v.history, 0);
		v.created_ms = fcat_now_ms();
	}
	snprintf(v.data_version, sizeof v.data_version, "%s", r->job.to);
	snprintf(v.release, sizeof v.release, "%s", r->job.to_release);
	snprintf(v.state, sizeof v.state, "building");
	snprintf(v.from, sizeof v.from, "%s", r->job.from);
	fbuf ex = FBUF_INIT;
	fbuf_addf(&ex, "\"from\":\"%s\",\"hops\":%s,\"warnings\":[%s],"
		  "\"snapshot\":", r->job.from, r->job.hops.p,
		  r->warnings.len ? r->warnings.p : "");
	fbuf_add_jstr(&ex, r->snapshot, strlen(r->snapshot));
	int rc = fcat_version_event(&v, "prepare", ex.p);
	fbuf_release(&ex);
	rc = rc ? ferry_err_set(err, rc, NULL) : fcat_version_put(t, &v, err);
	fcat_version_release(&v);
	return rc;
}

static int prepare(urun *r, fstore_txn *t, ferry_err *err)
{
	int rc = 0;
	r->step = "prepare";
	for (size_t i = 0; !rc && i < r->job.n; i++)
		rc = make_target(r, t, &r->job.items[i], err);
	if (rc || (rc = building_version(r, t, err)))
		return rc;
	snprintf(r->job.state, sizeof r->job.state, "copy");
	r->job.started_ms = fcat_now_ms();
	return ujob_save(t, &r->job, err);
}

/* ---- the run ---- */

static int job_active(const ujob *j)
{
	static const char *const live[] = {"copy", "catchup", "cutover",
					   "verify"};
	for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
		if (!strcmp(j->state, live[i]))
			return 1;
	return 0;
}

/* Plans and prepares a new job inside t, or decides there is nothing
 * to do (*noop). */
static int start_job(urun *r, fstore_txn *t, ferry_err *err, int *noop,
		     int *minor)
{
	uplan p;
	ujob old;
	int rc = uplan_build(r->db, t, r->o, &p, err);
	if (rc) {
		uplan_release(&p);
		return rc;
	}
	*noop = p.kind == FVERSION_SAME;
	*minor = p.kind == FVERSION_MINOR;
	if (*noop || *minor) {
		uplan_release(&p);
		return 0;
	}
	if (ujob_load(t, &old) == 0) { /* a finished earlier job */
		ujob_delete(t, old.n);
		ujob_release(&old);
	}
	if (r->warnings.len && p.warnings.len)
		fbuf_addc(&r->warnings, ',');
	fbuf_add(&r->warnings, p.warnings.p, p.warnings.len);
	r->job = p.job; /* take over the items and hops */
	memset(&p.job, 0, sizeof p.job);
	r->set = p.set;
	r->prog = p.prog;
	p.set = NULL;
	p.prog = NULL;
	uplan_release(&p);
	return prepare(r, t, err);
}

static int begin(urun *r, int resume, ferry_err *err, int *noop, int *minor)
{
	fstore_txn *t;
	ujob j;
	int rc = fdb_begin(r->db, 1, &t, err);
	if (rc)
		return rc;
	if ((rc = ulease_take(t, r->token, err)))
		goto fail;
	int have = ujob_load(t, &j) == 0;
	if (have && job_active(&j)) {
		fversion want, dv;
		char wdv[64] = "";
		if (!resume && r->o->to && !fversion_parse(r->o->to, &want, NULL)) {
			fcat_settings s;
			fcat_settings_get(t, &s, NULL);
			fversion_data(&want, s.data_parts, &dv);
			fversion_format(&dv, wdv, sizeof wdv);
		}
		if (wdv[0] && strcmp(wdv, j.to)) {
			rc = ferry_err_set(err, FERRY_EBUSY, "an upgrade to %s is under "
				"way; finish it with `ferry upgrade resume` or stop it "
				"with `ferry upgrade abort`", j.to);
			ujob_release(&j);
			goto fail;
		}
		r->job = j;
		r->job.error[0] = 0;
		if (r->o->skip_bad && !r->job.skip_bad) { /* asked for on resume */
			r->job.skip_bad = 1;
			rc = ujob_save_header(t, &r->job, err);
		}
		if (!rc)
			rc = uplan_program_for(&r->job, r->o, &r->set, &r->prog,
					       err);
	} else {
		if (have)
			ujob_release(&j);
		if (resume)
			rc = ferry_err_set(err, FERRY_ENOTFOUND, "there is no upgrade "
				"under way to resume; `ferry upgrade status` shows the "
				"last one");
		else
			rc = start_job(r, t, err, noop, minor);
	}
	if (rc)
		goto fail;
	if (*noop || *minor)
		ulease_drop(t, r->token);
	return fdb_commit(t, err);
fail:
	fdb_abort(t);
	return rc;
}

static int run_steps(urun *r, ferry_err *err)
{
	int rc = 0;
	if (!strcmp(r->job.state, "copy")) {
		r->step = "copy";
		if ((rc = urun_copy(r, err)) ||
		    (rc = set_state(r, "catchup", err)))
			return rc;
	}
	if (!strcmp(r->job.state, "catchup")) {
		uint64_t applied;
		r->step = "catch-up";
		do
			rc = catchup_round(r, &applied, err);
		while (!rc && applied >= CATCHUP_LAG);
		if (rc || (rc = set_state(r, "cutover", err)))
			return rc;
	}
	if (!strcmp(r->job.state, "cutover") && (rc = urun_cutover(r, err)))
		return rc;
	if (!strcmp(r->job.state, "verify"))
		rc = urun_verify(r, err);
	return rc;
}

/* A run that stopped on an error records why (for `upgrade status`) and
 * frees the lease at once, so that a fixed run can resume without
 * waiting for it to expire. */
static void record_stop(urun *r, const ferry_err *err)
{
	fstore_txn *t;
	if (!r->job.state[0] || fdb_begin(r->db, 1, &t, NULL))
		return;
	ujob cur;
	if (ujob_load(t, &cur) == 0) {
		snprintf(cur.error, sizeof cur.error, "%s",
			 err && err->msg[0] ? err->msg : "stopped");
		ujob_save_header(t, &cur, NULL);
		ujob_release(&cur);
	}
	ulease_drop(t, r->token);
	if (fdb_commit(t, NULL))
		return;
}

static void urun_release(urun *r)
{
	fmig_program_free(r->prog);
	fmig_set_free(r->set);
	ujob_release(&r->job);
	json_arena_free(r->a);
	upage_release(&r->pages[0]);
	upage_release(&r->pages[1]);
	fbuf_release(&r->warnings);
	free(r->tenant_of);
	free(r->tdone);
	free(r->ttotal);
}

/* 1 if a new major upgrade would start (no job under way, a MAJOR move);
 * only the releases are compared (cheap with thousands of tenants). */
static int needs_snapshot(urun *r, ferry_err *err)
{
	fstore_txn *t;
	ujob j;
	enum fversion_change kind = FVERSION_SAME;
	if (fdb_begin(r->db, 0, &t, err))
		return 0;
	if (ujob_load_header(t, &j) == 0) {
		int live = job_active(&j);
		ujob_release(&j);
		if (live) {
			fdb_abort(t);
			return 0;
		}
	}
	int rc = uplan_kind(t, r->o, &kind, NULL);
	fdb_abort(t);
	return !rc && kind == FVERSION_MAJOR;
}

/* 1 if the whole plan builds: no snapshot for an upgrade that would be
 * refused (begin() then says why). */
static int plan_builds(urun *r)
{
	fstore_txn *t;
	uplan p;
	if (fdb_begin(r->db, 0, &t, NULL))
		return 0;
	int rc = uplan_build(r->db, t, r->o, &p, NULL);
	uplan_release(&p);
	fdb_abort(t);
	return rc == 0;
}

static int pick_repo(urun *r, char *out, size_t n, ferry_err *err)
{
	const char *want = r->o->snapshot_repo;
	ferry_snaprepo_info *v;
	size_t nv;
	if (!want || !*want)
		want = getenv("FERRY_SNAPSHOT_REPO");
	if (want && *want) {
		snprintf(out, n, "%s", want);
		return 0;
	}
	int rc = ferry_snaprepo_list(r->db, &v, &nv, err);
	if (rc)
		return rc;
	out[0] = 0;
	if (nv == 1)
		snprintf(out, n, "%s", v[0].name);
	ferry_free(v);
	if (nv > 1)
		return ferry_err_set(err, FERRY_EINVAL, "%zu snapshot repositories "
			"are registered: choose the one for the pre-upgrade snapshot "
			"with --snapshot-repo (or FERRY_SNAPSHOT_REPO)", nv);
	return 0;
}

/* The snapshot before a major upgrade: the whole deployment, so the old
 * version can always be restored, whatever the upgrade does. */
static int pre_snapshot(urun *r, ferry_err *err)
{
	char repo[FERRY_PART_MAX + 1 + 4096], name[FERRY_SNAPSHOT_NAME_MAX + 1];
	fstore_txn *t;
	fcat_settings s;
	int rc = pick_repo(r, repo, sizeof repo, err);
	if (rc)
		return rc;
	if (!repo[0]) {
		fbuf_addf(&r->warnings, "%s\"no snapshot repository is registered: "
			  "upgraded without a snapshot\"", r->warnings.len ? "," : "");
		return 0;
	}
	if (!plan_builds(r))
		return 0;
	if ((rc = fdb_begin(r->db, 0, &t, err)))
		return rc;
	rc = fcat_settings_get(t, &s, err);
	fdb_abort(t);
	if (rc)
		return rc;
	snprintf(name, sizeof name, "pre-upgrade-%s-to-%s-%lld", s.release,
		 r->o->to, (long long)(fcat_now_ms() / 1000));
	for (char *c = name; *c; c++)
		if (!(*c >= 'a' && *c <= 'z') && !(*c >= '0' && *c <= '9') &&
		    *c != '.' && *c != '-')
			*c = '-';
	r->step = "snapshot";
	urun_report(r, (size_t)-1, 0);
	if ((rc = ferry_snapshot_create(r->db, repo, name, NULL, NULL, NULL, NULL,
					NULL, err)))
		return rc;
	snprintf(r->snapshot, sizeof r->snapshot, "%s/%s", repo, name);
	return 0;
}

static int urun_main(ferry_db *db, const ferry_upgrade_opts *o, int resume,
		     ferry_err *err)
{
	urun r;
	char host[64] = "";
	int noop = 0, minor = 0;
	memset(&r, 0, sizeof r);
	r.db = db;
	r.o = o;
	r.batch = o->batch ? o->batch : 20000;
	if (o->throttle && r.batch > o->throttle * 2 + 100)
		r.batch = o->throttle * 2 + 100; /* commit, and renew the lease,
						    every few seconds */
	r.t0 = urun_now();
	gethostname(host, sizeof host - 1);
	snprintf(r.token, sizeof r.token, "%s:%ld:%llx", host, (long)getpid(),
		 (unsigned long long)(urun_now() * 1e6));
	if (!(r.a = json_arena_new()))
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	int rc = 0;
	if (!resume && needs_snapshot(&r, err)) {
		if (o->no_snapshot)
			fbuf_addf(&r.warnings, "\"upgraded without a snapshot "
				  "(--no-snapshot)\"");
		else
			rc = pre_snapshot(&r, err);
	}
	if (!rc)
		rc = begin(&r, resume, err, &noop, &minor);
	if (!rc && minor)
		rc = ferry_release_record(db, o->to, err);
	if (!rc && !noop && !minor && !(rc = run_steps(&r, err)))
		r.job.error[0] = 0;
	else if (rc && r.job.n)
		record_stop(&r, err);
	if (!rc && !noop && !minor) {
		r.step = "done";
		urun_report(&r, r.job.n, 0);
	}
	urun_release(&r);
	return rc;
}

int ferry_upgrade_run(ferry_db *db, const ferry_upgrade_opts *opts,
		      ferry_err *err)
{
	if (!opts || !opts->to || !*opts->to)
		return ferry_err_set(err, FERRY_EINVAL, "the target release is "
				     "missing (--to VERSION)");
	return urun_main(db, opts, 0, err);
}

int ferry_upgrade_resume(ferry_db *db, const ferry_upgrade_opts *opts,
			 ferry_err *err)
{
	ferry_upgrade_opts o = {0};
	return urun_main(db, opts ? opts : &o, 1, err);
}
