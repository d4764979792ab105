/*
 * restore.c - ferry_snapshot_restore: chosen indices into a running
 * deployment (Elasticsearch semantics: a rename pattern, an existing
 * target is an error and nothing is written), or the whole deployment
 * into an uninitialised data dir.
 *
 * Crash safety: every index being restored carries a marker record
 * ("snapshot/restore/<physical>", and "snapshot/restore-all" for a whole
 * deployment) from the transaction that creates it to the one that
 * finishes the restore. The marker keeps its alias away (and, for a whole
 * deployment, the catalog settings, so the data dir stays uninitialised
 * to every other command) until then. Run again after a kill, the same
 * restore drops what it finds marked as its own and starts over; a
 * different restore reports the leftover.
 *
 * Documents stream chunk by chunk (worker threads read, decompress and
 * check the next chunks while this thread writes) and commit in batches.
 * A damaged chunk undoes the restore unless `partial` is set, which leaves
 * out just that chunk's records and reports them.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/catalog.h"
#include "core/db.h"
#include "core/err.h"
#include "core/index.h"
#include "core/names.h"
#include "snapshot/snapshot.h"

#define BATCH_RECS 50000
#define BATCH_BYTES (64u << 20)
#define KEY_MAX (32 + FERRY_NAME_MAX)

typedef struct target {
	const fsnap_index *src;
	char name[FERRY_NAME_MAX + 1]; /* physical name restored to */
	uint32_t ix;
	char alias[FERRY_NAME_MAX + 1]; /* to add when done, or "" */
	int created;                    /* exists now, made by us */
	int redo;                       /* left by a killed run of ours */
	uint64_t docs, bad_chunks, lost;
} target;

typedef struct rctx {
	ferry_db *db;
	fsnap_repo *r;
	fsnap_manifest *m;
	const ferry_restore_opts *o;
	target *tg;
	size_t ntg;
	fbuf marker;     /* the marker record's value */
	fbuf damaged;    /* report entries of left-out chunks */
	ferry_snapshot_progress pr;
	ferry_err *err;
} rctx;

static void key_of(char *out, const char *name)
{
	snprintf(out, KEY_MAX, FSNAP_KEY_RESTORE "%s", name);
}

/* 1 if the marker under `key` is ours (same repository and snapshot). */
static int marker_mine(fstore_txn *t, const char *key, const rctx *c)
{
	const char *v;
	size_t n;
	return t->store->ops->kv_get(t, key, &v, &n) == 0 &&
	       n == c->marker.len && !memcmp(v, c->marker.p, n);
}

/* ---- choosing targets ---- */

static int rename_one(const regex_t *re, const char *repl, const char *in,
		      char *out, size_t n, ferry_err *err)
{
	fbuf b;
	regmatch_t mt[10];
	const char *p = in;
	int rc = 0;
	fbuf_init(&b, n - 1);
	while (!rc && *p && regexec(re, p, 10, mt, p == in ? 0 : REG_NOTBOL) == 0) {
		rc = fbuf_add(&b, p, (size_t)mt[0].rm_so);
		for (const char *s = repl; !rc && *s; s++) {
			if (s[0] == '$' && s[1] >= '0' && s[1] <= '9') {
				int g = s[1] - '0';
				if (mt[g].rm_so >= 0)
					rc = fbuf_add(&b, p + mt[g].rm_so,
						      (size_t)(mt[g].rm_eo - mt[g].rm_so));
				s++;
			} else if (s[0] == '$' && s[1] == '$') {
				rc = fbuf_addc(&b, '$');
				s++;
			} else {
				rc = fbuf_addc(&b, *s);
			}
		}
		if (mt[0].rm_eo == mt[0].rm_so) { /* empty match: step over a char */
			if (!rc && p[mt[0].rm_eo])
				rc = fbuf_addc(&b, p[mt[0].rm_eo]);
			p += mt[0].rm_eo + (p[mt[0].rm_eo] ? 1 : 0);
		} else {
			p += mt[0].rm_eo;
		}
	}
	rc = rc ? rc : fbuf_adds(&b, p);
	if (!rc)
		snprintf(out, n, "%s", b.p ? b.p : "");
	fbuf_release(&b);
	if (rc)
		return ferry_err_set(err, FERRY_ENAME, "renaming '%s' gives a name "
				     "longer than %d bytes", in, FERRY_NAME_MAX);
	return 0;
}

static int choose(rctx *c)
{
	const ferry_restore_opts *o = c->o;
	regex_t re;
	int have_re = 0, rc = 0;
	if (o->rename_pattern && *o->rename_pattern) {
		int e = regcomp(&re, o->rename_pattern, REG_EXTENDED);
		if (e) {
			char msg[128];
			regerror(e, &re, msg, sizeof msg);
			return ferry_err_set(c->err, FERRY_EINVAL, "bad --rename-pattern "
					     "'%s': %s", o->rename_pattern, msg);
		}
		have_re = 1;
	}
	if (!(c->tg = calloc(c->m->nix + 1, sizeof *c->tg))) {
		rc = ferry_err_set(c->err, FERRY_ENOMEM, NULL);
		goto out;
	}
	for (size_t i = 0; !rc && i < c->m->nix; i++) {
		const fsnap_index *x = &c->m->ix[i];
		if (!o->all && o->indices && *o->indices &&
		    !fname_glob2(o->indices, x->name, x->alias))
			continue;
		target *t = &c->tg[c->ntg];
		t->src = x;
		if (have_re)
			rc = rename_one(&re, o->rename_replacement, x->name, t->name,
					sizeof t->name, c->err);
		else
			snprintf(t->name, sizeof t->name, "%s", x->name);
		fname_parts p;
		if (!rc && !o->all && (fname_parse(t->name, &p, NULL) ||
				       p.kind != FNAME_PHYSICAL))
			rc = ferry_err_set(c->err, FERRY_ENAME, "index '%s' would be "
				"restored as '%s', which is not a physical index name "
				"(v{version}.{tenant}.{index}); fix --rename-replacement",
				x->name, t->name);
		for (size_t k = 0; !rc && k < c->ntg; k++)
			if (!strcmp(c->tg[k].name, t->name))
				rc = ferry_err_set(c->err, FERRY_EINVAL, "indices '%s' and "
					"'%s' would both be restored as '%s'; change the "
					"rename pattern", c->tg[k].src->name, x->name,
					t->name);
		c->ntg++;
	}
	if (!rc && !c->ntg)
		rc = ferry_err_set(c->err, FERRY_ENOTFOUND, "no index of snapshot "
			"'%s' matches '%s'; `ferry snapshot show` lists its indices",
			c->m->name, o->indices ? o->indices : "*");
out:
	if (have_re)
		regfree(&re);
	return rc;
}

/* Missing chunks or chunks of the wrong size, before anything is written. */
static int precheck(rctx *c)
{
	char path[FSNAP_PATH], hex[65];
	struct stat st;
	for (size_t i = 0; i < c->ntg; i++) {
		const fsnap_index *x = c->tg[i].src;
		for (size_t k = 0; k < x->nparts; k++)
			for (size_t n = 0; n < x->parts[k].nchunks; n++) {
				const fsnap_chunk_ref *ref = &x->parts[k].chunks[n];
				fsnap_path_chunk(c->r, ref->sha, path, sizeof path);
				if (stat(path, &st) == 0 &&
				    (uint64_t)st.st_size == ref->stored)
					continue;
				if (c->o->partial)
					continue; /* reported when it is loaded */
				fsnap_hex(ref->sha, 32, hex);
				return ferry_err_set(c->err, FERRY_ECORRUPT, "chunks/%.2s/%s "
					"of index %s is %s; nothing was restored (`ferry "
					"snapshot restore --partial` restores the rest)", hex,
					hex, x->name, stat(path, &st) ? "missing" :
					"damaged (wrong size)");
			}
	}
	return 0;
}

/* ---- creating the targets ---- */

static int check_targets(rctx *c, fstore_txn *t)
{
	fcat_settings s;
	fcat_index ci;
	char key[KEY_MAX];
	size_t clash = 0, first = 0;
	int rc = fcat_settings_get(t, &s, NULL);
	if (rc == FERRY_ENOTINIT)
		return ferry_err_set(c->err, rc, "the data directory is not "
			"initialised; restore a whole deployment into it with "
			"`ferry snapshot restore REPO NAME --all`");
	if (rc)
		return ferry_err_set(c->err, rc, "reading the catalog settings");
	for (size_t i = 0; i < c->ntg; i++) {
		if (fcat_index_get(t, c->tg[i].name, &ci))
			continue;
		key_of(key, c->tg[i].name);
		if (marker_mine(t, key, c)) {
			c->tg[i].redo = 1;
			continue;
		}
		if (!clash++)
			first = i;
	}
	if (clash)
		return ferry_err_set(c->err, FERRY_EEXISTS, "index '%s' already "
			"exists%s%.0zu%s; nothing was restored: restore under other "
			"names with --rename-pattern and --rename-replacement, or "
			"delete the index first", c->tg[first].name,
			clash > 1 ? " (and " : "", clash > 1 ? clash - 1 : 0,
			clash > 1 ? " more)" : "");
	return 0;
}

static int drop_redo(rctx *c)
{
	fstore_txn *t;
	char key[KEY_MAX];
	int any = 0, rc;
	for (size_t i = 0; i < c->ntg; i++)
		any |= c->tg[i].redo;
	if (!any)
		return 0;
	if ((rc = fdb_begin(c->db, 1, &t, c->err)))
		return rc;
	for (size_t i = 0; !rc && i < c->ntg; i++) {
		if (!c->tg[i].redo)
			continue;
		rc = findex_delete_txn(t, c->tg[i].name, 1, c->err);
		key_of(key, c->tg[i].name);
		t->store->ops->kv_del(t, key);
	}
	rc = rc ? (fdb_abort(t), rc) : fdb_commit(t, c->err);
	return rc ? rc : fdb_purge(c->db, c->err);
}

static int create_targets(rctx *c)
{
	fstore_txn *t;
	fbuf body = FBUF_INIT;
	char key[KEY_MAX], alias[FERRY_NAME_MAX + 1], cur[FERRY_NAME_MAX + 1];
	int rc = fdb_begin(c->db, 1, &t, c->err);
	if (rc)
		return rc;
	if ((rc = check_targets(c, t)))
		goto out;
	for (size_t i = 0; !rc && i < c->ntg; i++) {
		target *g = &c->tg[i];
		fname_parts p;
		fcat_index ci;
		fname_parse(g->name, &p, NULL);
		if (!fcat_tenant_exists(t, p.tenant) &&
		    (rc = fcat_tenant_put(t, p.tenant, c->err)))
			break;
		fname_alias(p.tenant, p.index, alias, sizeof alias);
		int had_alias = fcat_alias_get(t, alias, cur) == 0;
		fbuf_clear(&body);
		if (g->src->body && (rc = json_write(g->src->body, &body))) {
			ferry_err_set(c->err, rc, NULL);
			break;
		}
		if ((rc = findex_create_txn(t, g->name, body.p, body.len, c->err)))
			break;
		if ((rc = fcat_index_get(t, g->name, &ci))) {
			ferry_err_set(c->err, rc, "reading back index '%s'", g->name);
			break;
		}
		g->ix = ci.ix;
		/* the alias comes when the documents are in */
		if (!had_alias && fcat_alias_get(t, alias, cur) == 0) {
			fcat_alias_del(t, alias);
			snprintf(g->alias, sizeof g->alias, "%s", alias);
		}
		key_of(key, g->name);
		rc = t->store->ops->kv_put(t, key, c->marker.p, c->marker.len,
					   c->err);
	}
out:
	fbuf_release(&body);
	if (rc) {
		fdb_abort(t);
		return rc;
	}
	if ((rc = fdb_commit(t, c->err)))
		return rc;
	for (size_t i = 0; i < c->ntg; i++)
		c->tg[i].created = 1;
	return 0;
}

struct names {
	char (*v)[FERRY_NAME_MAX + 1];
	uint32_t *ix;
	size_t n, cap;
};

static int collect_ix(void *p, const fcat_index *ci)
{
	struct names *l = p;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		void *nv = realloc(l->v, cap * sizeof *l->v);
		if (!nv)
			return FERRY_ENOMEM;
		l->v = nv;
		if (!(nv = realloc(l->ix, cap * sizeof *l->ix)))
			return FERRY_ENOMEM;
		l->ix = nv;
		l->cap = cap;
	}
	snprintf(l->v[l->n], sizeof l->v[l->n], "%s", ci->name);
	l->ix[l->n++] = ci->ix;
	return 0;
}

/* Whole deployment: drops every index record and its storage (a dir
 * without settings holds only what an interrupted restore of ours made). */
static int drop_all_indices(fstore_txn *t)
{
	struct names l = {0};
	char key[KEY_MAX];
	int rc = fcat_index_each(t, collect_ix, &l);
	for (size_t i = 0; !rc && i < l.n; i++) {
		rc = t->store->ops->ix_drop(t, l.ix[i], NULL);
		if (!rc)
			rc = fcat_index_del(t, l.v[i]);
		key_of(key, l.v[i]);
		t->store->ops->kv_del(t, key);
	}
	free(l.v);
	free(l.ix);
	return rc;
}

static int create_all(rctx *c)
{
	fstore_txn *t;
	fcat_settings s;
	fbuf body = FBUF_INIT;
	const char *v;
	size_t n;
	char key[KEY_MAX];
	int rc = fdb_begin(c->db, 1, &t, c->err);
	if (rc)
		return rc;
	if (fcat_settings_get(t, &s, NULL) == 0) {
		rc = ferry_err_set(c->err, FERRY_EEXISTS, "restore --all needs an "
			"uninitialised data directory, and '%s' holds release %s; use "
			"an empty FERRY_DATA, or restore chosen indices without --all",
			c->db->dir, s.release);
		goto out;
	}
	if (t->store->ops->kv_get(t, FSNAP_KEY_RESTORE_ALL, &v, &n) == 0) {
		if (!marker_mine(t, FSNAP_KEY_RESTORE_ALL, c)) {
			rc = ferry_err_set(c->err, FERRY_EBUSY, "'%s' holds an "
				"interrupted restore of another snapshot (%.*s); run that "
				"restore again to finish it, or start from an empty data "
				"directory", c->db->dir, (int)(n > 300 ? 300 : n), v);
			goto out;
		}
		if ((rc = drop_all_indices(t))) {
			fdb_abort(t);
			return ferry_err_set(c->err, rc, "dropping an interrupted "
					     "restore: %s", ferry_strerror(rc));
		}
		if ((rc = fdb_commit(t, c->err)) ||
		    (rc = fdb_purge(c->db, c->err)) ||
		    (rc = fdb_begin(c->db, 1, &t, c->err)))
			return rc;
	}
	rc = t->store->ops->kv_put(t, FSNAP_KEY_RESTORE_ALL, c->marker.p,
				   c->marker.len, c->err);
	for (size_t i = 0; !rc && i < c->ntg; i++) {
		target *g = &c->tg[i];
		const fsnap_index *x = g->src;
		fcat_index ci = {0};
		if (fcat_index_get(t, g->name, &ci) == 0) {
			rc = ferry_err_set(c->err, FERRY_EEXISTS, "'%s' already holds "
				"index '%s' though it is not initialised; start from an "
				"empty data directory", c->db->dir, g->name);
			break;
		}
		snprintf(ci.name, sizeof ci.name, "%s", x->name);
		snprintf(ci.tenant, sizeof ci.tenant, "%s", x->tenant);
		snprintf(ci.index, sizeof ci.index, "%s", x->index);
		snprintf(ci.version, sizeof ci.version, "%s", x->version);
		ci.ix = x->ix;
		ci.created_ms = x->created_ms;
		g->ix = x->ix;
		if ((rc = t->store->ops->ix_create(t, ci.ix, c->err)) ||
		    (rc = fcat_index_put(t, &ci, c->err)))
			break;
		fbuf_clear(&body);
		if (x->body && !(rc = json_write(x->body, &body))) {
			snprintf(key, sizeof key, "ibody/%s", ci.name);
			rc = t->store->ops->kv_put(t, key, body.p, body.len, c->err);
		}
		key_of(key, g->name);
		rc = rc ? rc : t->store->ops->kv_put(t, key, c->marker.p,
						     c->marker.len, c->err);
	}
out:
	fbuf_release(&body);
	if (rc) {
		fdb_abort(t);
		return c->err && c->err->code == rc ? rc :
		       ferry_err_set(c->err, rc, "creating the indices: %s",
				     ferry_strerror(rc));
	}
	if ((rc = fdb_commit(t, c->err)))
		return rc;
	for (size_t i = 0; i < c->ntg; i++)
		c->tg[i].created = 1;
	return 0;
}

/* Removes what this restore made (a damaged chunk, not --partial). */
static void undo(rctx *c)
{
	fstore_txn *t;
	char key[KEY_MAX];
	if (fdb_begin(c->db, 1, &t, NULL))
		return;
	for (size_t i = 0; i < c->ntg; i++) {
		if (!c->tg[i].created)
			continue;
		if (c->o->all) {
			t->store->ops->ix_drop(t, c->tg[i].ix, NULL);
			fcat_index_del(t, c->tg[i].name);
		} else {
			findex_delete_txn(t, c->tg[i].name, 1, NULL);
		}
		key_of(key, c->tg[i].name);
		t->store->ops->kv_del(t, key);
	}
	if (c->o->all)
		t->store->ops->kv_del(t, FSNAP_KEY_RESTORE_ALL);
	if (fdb_commit(t, NULL) == 0)
		fdb_purge(c->db, NULL);
}

/* ---- documents ---- */

typedef struct writer {
	rctx *c;
	fstore_txn *t;
	size_t recs, bytes;
	fbuf body; /* a body rebuilt from an 'E' record */
} writer;

static int flush(writer *w)
{
	int rc = 0;
	if (w->t) {
		rc = fdb_commit(w->t, w->c->err);
		w->t = NULL;
	}
	w->recs = w->bytes = 0;
	return rc;
}

static int apply(writer *w, target *g, const fbuf *raw)
{
	fsnap_rec rec;
	size_t off = 0;
	int rc;
	const unsigned char *p = (const unsigned char *)raw->p;
	while ((rc = fsnap_rec_next(p, raw->len, &off, &rec)) == 0) {
		uint64_t seq;
		int created;
		ferry_err e;
		if (!w->t && (rc = fdb_begin(w->c->db, 1, &w->t, w->c->err)))
			return rc;
		enum ferry_op op = rec.type == FSNAP_REC_DOC ? FERRY_OP_INDEX :
			FERRY_OP_DELETE;
		size_t blen = 0;
		const char *body = op == FERRY_OP_INDEX ?
			fsnap_rec_body(&rec, &w->body, &blen) : NULL;
		if (op == FERRY_OP_INDEX && !body)
			return ferry_err_set(w->c->err, FERRY_ENOMEM, NULL);
		rc = w->t->store->ops->doc_write(w->t, g->ix, op, rec.id, rec.idlen,
						 body, blen, &seq, &created, &e);
		if (rc == FERRY_ENOTFOUND && op == FERRY_OP_DELETE)
			rc = 0; /* deleted before it was first snapshotted */
		if (rc) {
			fdb_abort(w->t);
			w->t = NULL;
			return ferry_err_set(w->c->err, rc, "restoring into '%s': %s",
					     g->name, e.msg);
		}
		w->recs++;
		w->bytes += rec.idlen + blen;
		if (w->recs >= BATCH_RECS || w->bytes >= BATCH_BYTES)
			if ((rc = flush(w)))
				return rc;
	}
	return rc == FERRY_EOF ? 0 : ferry_err_set(w->c->err, rc, "bad records");
}

static int note_damage(rctx *c, target *g, const fsnap_load_job *j)
{
	char hex[65];
	fsnap_hex(j->ref.sha, 32, hex);
	g->bad_chunks++;
	g->lost += j->ref.recs;
	int rc = fbuf_adds(&c->damaged, c->damaged.len ? "," : "");
	rc = rc ? rc : fbuf_addf(&c->damaged, "{\"chunk\":\"chunks/%.2s/%s\","
		"\"index\":", hex, hex);
	rc = rc ? rc : fbuf_add_jstr(&c->damaged, g->src->name,
				     strlen(g->src->name));
	rc = rc ? rc : fbuf_addf(&c->damaged, ",\"records\":%llu,\"problem\":",
				 (unsigned long long)j->ref.recs);
	rc = rc ? rc : fbuf_add_jstr(&c->damaged, j->err.msg,
				     strlen(j->err.msg));
	return rc ? rc : fbuf_addc(&c->damaged, '}');
}

static int handle(rctx *c, writer *w, fsnap_load_job *j)
{
	target *g = &c->tg[j->tag];
	int rc;
	c->pr.index = g->name;
	c->pr.bytes_done += j->ref.size;
	c->pr.bytes_stored += j->ref.stored;
	if (j->rc) {
		if (!c->o->partial) {
			char msg[sizeof j->err.msg];
			snprintf(msg, sizeof msg, "%s", j->err.msg);
			return ferry_err_set(c->err, FERRY_ECORRUPT, "%s (index %s); "
				"nothing was restored (`ferry snapshot restore "
				"--partial` restores the rest)", msg, g->src->name);
		}
		if ((rc = note_damage(c, g, j)))
			return ferry_err_set(c->err, rc, NULL);
	} else if ((rc = apply(w, g, &j->raw))) {
		return rc;
	}
	c->pr.docs_done += j->ref.recs;
	if (c->o->progress && c->o->progress(c->o->ctx, &c->pr))
		return ferry_err_set(c->err, FERRY_EINVAL, "restore stopped by the "
				     "caller");
	return 0;
}

static int stream(rctx *c)
{
	fsnap_loader *l;
	writer w = {c, NULL, 0, 0, {0}};
	int rc = fsnap_loader_new(c->r, &l);
	if (rc)
		return ferry_err_set(c->err, rc, NULL);
	fbuf_init(&w.body, 0);
	c->pr.step = "restore";
	for (size_t i = 0; i < c->ntg; i++)
		for (size_t k = 0; k < c->tg[i].src->nparts; k++)
			c->pr.bytes_total += c->tg[i].src->parts[k].bytes;
	for (size_t i = 0; !rc && i < c->ntg; i++) {
		const fsnap_index *x = c->tg[i].src;
		for (size_t k = 0; !rc && k < x->nparts; k++)
			for (size_t n = 0; !rc && n < x->parts[k].nchunks; n++) {
				while (!rc && fsnap_loader_full(l)) {
					fsnap_load_job *j = fsnap_loader_take(l);
					rc = handle(c, &w, j);
					fsnap_load_job_free(j);
				}
				if (!rc && fsnap_loader_submit(l, &x->parts[k].chunks[n], i))
					rc = ferry_err_set(c->err, FERRY_ENOMEM, NULL);
			}
	}
	fsnap_load_job *j;
	while (!rc && (j = fsnap_loader_take(l))) {
		rc = handle(c, &w, j);
		fsnap_load_job_free(j);
	}
	fsnap_loader_free(l);
	fbuf_release(&w.body);
	if (rc) {
		fdb_abort(w.t);
		return rc;
	}
	return flush(&w);
}

/* ---- finishing ---- */

static int put_members(fstore_txn *t, const char *prefix, const json_value *o,
		       int raw, ferry_err *err)
{
	fbuf b = FBUF_INIT;
	char key[KEY_MAX + 256];
	int rc = 0;
	for (size_t i = 0; !rc && i < o->u.obj.n; i++) {
		const json_member *mb = &o->u.obj.m[i];
		snprintf(key, sizeof key, "%s%.*s", prefix, (int)mb->klen, mb->key);
		fbuf_clear(&b);
		if (raw)
			rc = fbuf_add(&b, mb->val->u.str.s, mb->val->u.str.len);
		else
			rc = json_write(mb->val, &b);
		rc = rc ? ferry_err_set(err, rc, NULL) :
			  t->store->ops->kv_put(t, key, b.p ? b.p : "", b.len, err);
	}
	fbuf_release(&b);
	return rc;
}

static int restored(const rctx *c, const char *physical)
{
	for (size_t i = 0; i < c->ntg; i++)
		if (!strcmp(c->tg[i].name, physical))
			return 1;
	return 0;
}

static int finish(rctx *c)
{
	fstore_txn *t;
	char key[KEY_MAX], cur[FERRY_NAME_MAX + 1];
	fbuf b = FBUF_INIT;
	int rc = fdb_begin(c->db, 1, &t, c->err);
	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < c->ntg; i++) {
		key_of(key, c->tg[i].name);
		t->store->ops->kv_del(t, key);
		if (!c->o->all && c->tg[i].alias[0] &&
		    fcat_alias_get(t, c->tg[i].alias, cur) == FERRY_ENOTFOUND)
			rc = fcat_alias_put(t, c->tg[i].alias, c->tg[i].name, c->err);
	}
	if (!rc && c->o->all) {
		const json_value *al = c->m->aliases;
		rc = json_write(c->m->settings, &b);
		rc = rc ? ferry_err_set(c->err, rc, NULL) :
			  t->store->ops->kv_put(t, "settings", b.p, b.len, c->err);
		rc = rc ? rc : put_members(t, "version/", c->m->versions, 0, c->err);
		rc = rc ? rc : put_members(t, "tenant/", c->m->tenants, 0, c->err);
		rc = rc ? rc : put_members(t, "applied/", c->m->applied, 1, c->err);
		rc = rc ? rc : put_members(t, FSNAP_KEY_REPO, c->m->repos, 0,
					   c->err);
		for (size_t i = 0; !rc && i < al->u.obj.n; i++) {
			const json_member *mb = &al->u.obj.m[i];
			if (!restored(c, mb->val->u.str.s))
				continue;
			snprintf(key, sizeof key, "alias/%.*s", (int)mb->klen, mb->key);
			rc = t->store->ops->kv_put(t, key, mb->val->u.str.s,
						   mb->val->u.str.len, c->err);
		}
		t->store->ops->kv_del(t, FSNAP_KEY_RESTORE_ALL);
	}
	fbuf_release(&b);
	if (rc) {
		fdb_abort(t);
		return rc;
	}
	return fdb_commit(t, c->err);
}

static int make_report(rctx *c, int64_t took, char **out)
{
	fbuf b = FBUF_INIT;
	uint64_t docs = 0;
	int rc = fbuf_adds(&b, "{\"snapshot\":");
	rc = rc ? rc : fbuf_add_jstr(&b, c->m->name, strlen(c->m->name));
	rc = rc ? rc : fbuf_adds(&b, ",\"repository\":");
	rc = rc ? rc : fbuf_add_jstr(&b, c->r->path, strlen(c->r->path));
	rc = rc ? rc : fbuf_addf(&b, ",\"all\":%s,\"partial\":%s,\"indices\":[",
				 c->o->all ? "true" : "false",
				 c->o->partial ? "true" : "false");
	for (size_t i = 0; !rc && i < c->ntg; i++) {
		const target *g = &c->tg[i];
		docs += g->src->docs;
		rc = fbuf_adds(&b, i ? ",{\"source\":" : "{\"source\":");
		rc = rc ? rc : fbuf_add_jstr(&b, g->src->name, strlen(g->src->name));
		rc = rc ? rc : fbuf_adds(&b, ",\"target\":");
		rc = rc ? rc : fbuf_add_jstr(&b, g->name, strlen(g->name));
		rc = rc ? rc : fbuf_addf(&b, ",\"docs\":%llu,\"damaged_chunks\":%llu,"
			"\"records_left_out\":%llu}",
			(unsigned long long)g->src->docs,
			(unsigned long long)g->bad_chunks,
			(unsigned long long)g->lost);
	}
	rc = rc ? rc : fbuf_addf(&b, "],\"docs\":%llu,\"took_ms\":%lld,"
				 "\"damaged\":[", (unsigned long long)docs,
				 (long long)took);
	rc = rc ? rc : fbuf_add(&b, c->damaged.p ? c->damaged.p : "",
				c->damaged.len);
	rc = rc ? rc : fbuf_adds(&b, "]}");
	if (rc) {
		fbuf_release(&b);
		return ferry_err_set(c->err, rc, NULL);
	}
	*out = fbuf_detach(&b, NULL);
	return 0;
}

int ferry_snapshot_restore(ferry_db *db, const char *repo, const char *name,
			   const ferry_restore_opts *opts, char **report_json,
			   ferry_err *err)
{
	static const ferry_restore_opts none = {0};
	fsnap_repo r;
	rctx c = {0};
	int64_t start = fsnap_now_ms();
	int rc;
	c.o = opts ? opts : &none;
	c.db = db;
	c.r = &r;
	c.err = err;
	fbuf_init(&c.marker, 0);
	fbuf_init(&c.damaged, 0);
	if (!db)
		return ferry_err_set(err, FERRY_EINVAL, "no data directory");
	if (!name)
		return ferry_err_set(err, FERRY_EINVAL, "no snapshot named");
	if (c.o->all && ((c.o->indices && *c.o->indices &&
			  strcmp(c.o->indices, "*")) || c.o->rename_pattern))
		return ferry_err_set(err, FERRY_EINVAL, "--all restores every index "
			"under its own name; leave out --indices and --rename-*");
	if (!c.o->rename_pattern != !c.o->rename_replacement)
		return ferry_err_set(err, FERRY_EINVAL, "--rename-pattern and "
			"--rename-replacement go together");
	if ((rc = fsnap_repo_open(db, repo, &r, err)))
		return rc;
	if ((rc = fsnap_manifest_load(&r, name, &c.m, err)))
		goto out;
	rc = fbuf_adds(&c.marker, "{\"repo\":");
	rc = rc ? rc : fbuf_add_jstr(&c.marker, r.path, strlen(r.path));
	rc = rc ? rc : fbuf_adds(&c.marker, ",\"snapshot\":");
	rc = rc ? rc : fbuf_add_jstr(&c.marker, name, strlen(name));
	rc = rc ? rc : fbuf_adds(&c.marker, "}");
	if (rc) {
		ferry_err_set(err, rc, NULL);
		goto out;
	}
	if ((rc = choose(&c)) || (rc = precheck(&c)))
		goto out;
	if (c.o->all) {
		rc = create_all(&c);
	} else {
		fstore_txn *t;
		if (!(rc = fdb_begin(db, 0, &t, err))) {
			rc = check_targets(&c, t);
			fdb_abort(t);
		}
		rc = rc ? rc : drop_redo(&c);
		rc = rc ? rc : create_targets(&c);
	}
	if (rc)
		goto out;
	if ((rc = stream(&c)) || (rc = finish(&c))) {
		undo(&c);
		goto out;
	}
	if (report_json)
		rc = make_report(&c, fsnap_now_ms() - start, report_json);
out:
	free(c.tg);
	fsnap_manifest_free(c.m);
	fbuf_release(&c.marker);
	fbuf_release(&c.damaged);
	fsnap_repo_close(&r);
	return rc;
}
