/*
 * ucut.c - the cutover and the verification of an upgrade.
 *
 * The cutover is ONE write transaction: it replays the changes the
 * catch-up had not applied yet, checks the counts, moves every alias of
 * every tenant, makes the new version active and the old one retired.
 * Writers wait only for this transaction; a write that comes after it
 * resolves its alias to the new set, one that came before is replayed in
 * it, so no write is lost.
 *
 * Items a tenant added during the upgrade appended (ujob_tenant_join)
 * are read inside the cutover transaction, so they switch with the rest:
 * a tenant added before it commits is in, one added after it is created
 * in the new version only.
 *
 * Verification then re-transforms a sample of source documents and
 * compares them with the target (documents changed after the switch are
 * skipped: they are newer than the source). The sample is taken over the
 * whole job: about VERIFY_SAMPLES documents spread over all of them, plus
 * the first document of every index, so a hundred small tenants cost
 * about what one big one does. Samples are read by sequence number (a
 * lookup each), not by walking the index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/catalog.h"
#include "core/err.h"
#include "core/names.h"
#include "migrate/urun.h"

#define VERIFY_SAMPLES 500

static int replay_rest(urun *r, fstore_txn *t, size_t i, ferry_err *err)
{
	uitem *it = &r->job.items[i];
	upage *pg = &r->pages[0];
	int rc;
	if (!it->src[0] || !it->dst[0])
		return 0;
	for (;;) {
		if ((rc = urun_read_changes(r, pg, t, it, r->batch)))
			return ferry_err_set(err, rc, "reading changes of %s",
					     it->src);
		if (pg->n == 0)
			return 0;
		it->seq = pg->ents[pg->n - 1].seq;
		uxf xf = urun_xf(r);
		if ((rc = urun_transform(&xf, pg, it, err)) ||
		    (rc = urun_apply(r, pg, t, it, err)))
			return rc;
	}
}

static int check_counts(urun *r, fstore_txn *t, const uitem *it,
			ferry_err *err)
{
	fstore_stats s = {0}, d = {0};
	if (!it->src[0] || !it->dst[0] || it->dropped || it->failed)
		return 0; /* a program that drops cannot be counted exactly */
	t->store->ops->ix_stats(t, it->src_ix, &s);
	t->store->ops->ix_stats(t, it->dst_ix, &d);
	if (s.docs == d.docs)
		return 0;
	return ferry_err_set(err, FERRY_ECORRUPT, "counts differ before the "
		"switch: %s has %llu documents, %s has %llu; nothing was "
		"switched (run `ferry upgrade resume` to retry, or abort)",
		it->src, (unsigned long long)s.docs, it->dst,
		(unsigned long long)d.docs);
}

/* Points {tenant}.{target} at the target and removes aliases of source
 * indices that were renamed or dropped. */
static int move_aliases(fstore_txn *t, const uitem *it, ferry_err *err)
{
	char alias[FERRY_NAME_MAX + 1], cur[FERRY_NAME_MAX + 1];
	int rc;
	if (it->src[0] && (!it->dst[0] || strcmp(it->source, it->target))) {
		fname_alias(it->tenant, it->source, alias, sizeof alias);
		if (fcat_alias_get(t, alias, cur) == 0 && !strcmp(cur, it->src))
			fcat_alias_del(t, alias);
	}
	if (!it->dst[0])
		return 0;
	fname_alias(it->tenant, it->target, alias, sizeof alias);
	rc = fcat_alias_put(t, alias, it->dst, err);
	return rc;
}

static int set_version(fstore_txn *t, const char *dv, const char *state,
		       const char *release, const char *event,
		       const char *extra, ferry_err *err)
{
	fcat_version v;
	int rc = fcat_version_get(t, dv, &v);
	if (rc)
		return ferry_err_set(err, rc, "version record %s is missing", dv);
	snprintf(v.state, sizeof v.state, "%s", state);
	if (release)
		snprintf(v.release, sizeof v.release, "%s", release);
	if (!strcmp(state, "active"))
		v.activated_ms = fcat_now_ms();
	rc = fcat_version_event(&v, event, extra);
	rc = rc ? ferry_err_set(err, rc, NULL) : fcat_version_put(t, &v, err);
	fcat_version_release(&v);
	return rc;
}

/* Records each applied hop file's checksums ("applied/<file>"). */
static int record_files(urun *r, fstore_txn *t, ferry_err *err)
{
	for (size_t i = 0; i < fmig_set_count(r->set); i++) {
		const fmig_hop_info *h = fmig_set_hop(r->set, i);
		if (!strstr(r->job.hops.p, h->checksum))
			continue;
		const char *base = strrchr(h->path, '/');
		char key[512], val[256];
		snprintf(key, sizeof key, "applied/%s", base ? base + 1 : h->path);
		snprintf(val, sizeof val, "%s %s", h->checksum, h->lua_checksum);
		int rc = t->store->ops->kv_put(t, key, val, strlen(val), err);
		if (rc)
			return rc;
	}
	return 0;
}

static int switch_catalog(urun *r, fstore_txn *t, ferry_err *err)
{
	fcat_settings s;
	char extra[256];
	int rc = fcat_settings_get(t, &s, err);
	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < r->job.n; i++)
		rc = move_aliases(t, &r->job.items[i], err);
	if (rc)
		return rc;
	snprintf(s.release, sizeof s.release, "%s", r->job.to_release);
	snprintf(s.data_version, sizeof s.data_version, "%s", r->job.to);
	snprintf(extra, sizeof extra, "\"to\":\"%s\"", r->job.to);
	if ((rc = fcat_settings_put(t, &s, err)) ||
	    (rc = set_version(t, r->job.from, "retired", NULL, "retired", extra,
			      err)))
		return rc;
	fbuf ex = FBUF_INIT;
	fbuf_addf(&ex, "\"from\":\"%s\",\"release\":\"%s\",\"hops\":%s",
		  r->job.from, r->job.to_release, r->job.hops.p);
	rc = set_version(t, r->job.to, "active", r->job.to_release, "upgrade",
			 ex.p, err);
	fbuf_release(&ex);
	return rc ? rc : record_files(r, t, err);
}

int urun_cutover(urun *r, ferry_err *err)
{
	fstore_txn *t;
	r->step = "cutover";
	urun_report(r, r->job.n, 0);
	int rc = fdb_begin(r->db, 1, &t, err);
	if (rc)
		return rc;
	if ((rc = ulease_renew(t, r->token, err)) ||
	    (rc = urun_absorb(r, t, err)))
		goto fail;
	for (size_t i = 0; i < r->job.n; i++) {
		uitem *it = &r->job.items[i];
		if ((rc = replay_rest(r, t, i, err)) ||
		    (rc = check_counts(r, t, it, err)))
			goto fail;
		snprintf(it->phase, sizeof it->phase, "done");
	}
	r->totals_ok = 0;
	if ((rc = switch_catalog(r, t, err)))
		goto fail;
	for (size_t i = 0; i < r->job.n; i++) {
		fstore_stats d = {0};
		uitem *it = &r->job.items[i];
		if (it->dst[0])
			t->store->ops->ix_stats(t, it->dst_ix, &d);
		it->dst_seq_cut = d.next_seq ? d.next_seq - 1 : 0;
	}
	snprintf(r->job.state, sizeof r->job.state, "verify");
	r->job.cutover_ms = fcat_now_ms();
	if ((rc = ujob_save(t, &r->job, err)))
		goto fail;
	return fdb_commit(t, err);
fail:
	fdb_abort(t);
	return rc;
}

/* Ids written or deleted in the target after the switch: newer than the
 * source, so verification skips them. Sorted, for bsearch. */
typedef struct idset {
	fbuf ids;     /* NUL-terminated ids back to back */
	size_t *off;
	size_t n;
} idset;

static int cmp_off(const void *a, const void *b, void *base)
{
	return strcmp((const char *)base + *(const size_t *)a,
		      (const char *)base + *(const size_t *)b);
}

static int idset_load(urun *r, const uitem *it, idset *s, ferry_err *err)
{
	ferry_changes *c;
	ferry_doc d;
	size_t cap = 0;
	int rc = ferry_changes_open(r->db, it->dst, it->dst_seq_cut, &c, NULL,
				    err);
	if (rc)
		return rc;
	while ((rc = ferry_changes_next(c, &d, err)) == 0) {
		if (s->n == cap) {
			cap = cap ? cap * 2 : 64;
			size_t *no = realloc(s->off, cap * sizeof *no);
			if (!no) {
				rc = FERRY_ENOMEM;
				break;
			}
			s->off = no;
		}
		s->off[s->n++] = s->ids.len;
		if ((rc = fbuf_add(&s->ids, d.id, d.idlen)) ||
		    (rc = fbuf_addc(&s->ids, 0)))
			break;
	}
	ferry_changes_free(c);
	if (rc != FERRY_EOF)
		return rc;
	if (s->n)
		qsort_r(s->off, s->n, sizeof *s->off, cmp_off, s->ids.p);
	return 0;
}

static int idset_has(const idset *s, const char *id, size_t len)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *m = s->ids.p + s->off[mid];
		size_t ml = strlen(m), k = ml < len ? ml : len;
		int c = memcmp(m, id, k);
		if (!c)
			c = ml < len ? -1 : ml > len;
		if (!c)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Compares one source document, re-transformed, with the target. */
static int verify_doc(urun *r, const uitem *it, const idset *newer,
		      const ferry_doc *d, ferry_err *err)
{
	if (idset_has(newer, d->id, d->idlen))
		return 0; /* written or deleted after the switch */
	json_value *want, *got;
	json_error je;
	char *body = NULL;
	size_t blen;
	uint64_t seq;
	int dropped = 0;
	json_arena_reset(r->a);
	if (json_parse(r->a, d->body, d->body_len, &want, &je) ||
	    fmig_program_apply(r->prog, it->pi, r->a, &want, &dropped, NULL))
		return 0; /* failed docs were reported when copied */
	int rc = ferry_doc_get(r->db, it->dst, d->id, d->idlen, &body, &blen,
			       &seq, NULL);
	if (rc == FERRY_ENOTFOUND && dropped)
		return 0;
	if (rc == 0 && seq > it->dst_seq_cut) {
		ferry_free(body);
		return 0; /* written after the switch */
	}
	int same = rc == 0 && !dropped &&
		   !json_parse(r->a, body, blen, &got, &je) && json_equal(want, got);
	ferry_free(body);
	if (same)
		return 0;
	return ferry_err_set(err, FERRY_ECORRUPT, "verify: document '%.*s' "
		"of %s differs from its transformed source in %s; the switch "
		"is done: `ferry rollback` returns to %s", (int)d->idlen, d->id,
		it->src, it->dst, r->job.from);
}

/* The sample of one source index: the first live document after each of
 * m sequence numbers spread evenly over the index's range (so the first
 * document is always in), copied out of one short read transaction.
 * Reading them by seq costs a lookup each, where walking the index in id
 * order to pick every k-th one read every body of it. */
typedef struct vsample {
	fbuf ids, bodies;          /* back to back */
	size_t *idoff, *boff;      /* m + 1 offsets each */
	size_t n, m;
	uint64_t last;             /* seq of the last document taken */
} vsample;

static int sample_take(void *ctx, const fstore_entry *e)
{
	vsample *v = ctx;
	if (e->deleted)
		return 0;
	if (v->n && e->seq == v->last)
		return 1; /* the same document as the previous sample */
	if (fbuf_add(&v->ids, e->id, e->idlen) ||
	    fbuf_add(&v->bodies, e->body, e->body_len))
		return FERRY_ENOMEM;
	v->last = e->seq;
	v->n++;
	v->idoff[v->n] = v->ids.len;
	v->boff[v->n] = v->bodies.len;
	return 1;
}

static int sample_load(urun *r, const uitem *it, vsample *v, ferry_err *err)
{
	fstore_txn *t;
	fcat_index ix;
	fstore_stats st;
	int rc = fdb_begin(r->db, 0, &t, err);
	if (rc)
		return rc;
	int via;
	if ((rc = fcat_resolve(t, it->src, &ix, &via, err)))
		goto out;
	if ((rc = r->db->ops->ix_stats(t, ix.ix, &st)))
		goto fail;
	v->idoff = calloc(v->m + 1, sizeof *v->idoff);
	v->boff = calloc(v->m + 1, sizeof *v->boff);
	if (!v->idoff || !v->boff) {
		rc = FERRY_ENOMEM;
		goto fail;
	}
	uint64_t lo = st.horizon, span = st.next_seq > lo ? st.next_seq - lo : 0;
	for (size_t j = 0; j < v->m && span; j++) {
		uint64_t since = lo + span / v->m * j + span % v->m * j / v->m;
		rc = r->db->ops->changes(t, ix.ix, since, 256, sample_take, v);
		if (rc)
			goto fail;
	}
out:
	fdb_abort(t);
	return rc;
fail:
	ferry_err_set(err, rc, "verify: cannot read a sample of '%s'", it->src);
	goto out;
}

static int verify_item(urun *r, const uitem *it, uint64_t k, ferry_err *err)
{
	vsample v;
	idset newer;
	memset(&v, 0, sizeof v);
	memset(&newer, 0, sizeof newer);
	fbuf_init(&v.ids, 0);
	fbuf_init(&v.bodies, 0);
	fbuf_init(&newer.ids, 0);
	v.m = it->total / k + 1;
	int rc = idset_load(r, it, &newer, err);
	if (!rc)
		rc = sample_load(r, it, &v, err);
	for (size_t i = 0; !rc && i < v.n; i++) {
		ferry_doc d = {
			.id = v.ids.p + v.idoff[i],
			.idlen = v.idoff[i + 1] - v.idoff[i],
			.body = v.bodies.p + v.boff[i],
			.body_len = v.boff[i + 1] - v.boff[i],
		};
		if (!verify_doc(r, it, &newer, &d, err))
			continue;
		/* the target may have been written since the set was loaded:
		 * look again before calling it a difference */
		fbuf_clear(&newer.ids);
		newer.n = 0;
		rc = idset_load(r, it, &newer, err);
		if (!rc)
			rc = verify_doc(r, it, &newer, &d, err);
	}
	fbuf_release(&v.ids);
	fbuf_release(&v.bodies);
	free(v.idoff);
	free(v.boff);
	fbuf_release(&newer.ids);
	free(newer.off);
	return rc;
}

/* Records the verification's outcome (r->job's state) and frees the
 * lease. Tenants added meanwhile joined the job (their items are in the
 * catalog), so the header keeps counting them; a rollback done meanwhile
 * is not overwritten. */
static int save_verdict(urun *r)
{
	fstore_txn *t;
	ujob cur;
	int moved = 0, rc = fdb_begin(r->db, 1, &t, NULL);
	if (rc)
		return rc;
	if (ujob_load_header(t, &cur) == 0) {
		moved = strcmp(cur.state, "verify") != 0;
		ujob_release(&cur);
	}
	ujob_absorb(t, &r->job);
	if (!moved)
		ujob_save_header(t, &r->job, NULL);
	ulease_drop(t, r->token);
	return fdb_commit(t, NULL);
}

int urun_verify(urun *r, ferry_err *err)
{
	int rc = 0;
	uint64_t docs = 0;
	r->step = "verify";
	for (size_t i = 0; i < r->job.n; i++)
		if (r->job.items[i].src[0] && r->job.items[i].dst[0])
			docs += r->job.items[i].total;
	for (size_t i = 0; !rc && i < r->job.n; i++) {
		const uitem *it = &r->job.items[i];
		if (it->src[0] && it->dst[0])
			rc = verify_item(r, it, docs / VERIFY_SAMPLES + 1, err);
		urun_report(r, i, it->total);
	}
	snprintf(r->job.state, sizeof r->job.state, rc ? "failed" : "done");
	if (rc)
		snprintf(r->job.error, sizeof r->job.error, "%s",
			 err ? err->msg : ferry_strerror(rc));
	r->job.finished_ms = fcat_now_ms();
	int wrc = save_verdict(r);
	return rc ? rc : wrc;
}
