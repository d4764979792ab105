/*
 * compose.c - a chain of hops becomes ONE program: a track per source
 * index (and per index a hop creates) follows the index through every hop
 * (its ops appended, its mappings merged, its renames and drop applied),
 * so an upgrade reads and writes the data once whatever the number of
 * hops. Then fmig_program_apply() runs a document through its track.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "migrate/internal.h"

typedef struct fmig_step {
	const fmig_op *op;
	fmig_lua *lua; /* the op's Lua state, for lua ops */
} fmig_step;

typedef struct fmig_track {
	fmig_index_info info; /* info.target is the current name */
	fmig_step *steps;
	size_t cap;
	json_value *mappings;
} fmig_track;

struct fmig_program {
	json_arena *a; /* names and mappings */
	fmig_track *t;
	size_t n, cap;
	size_t *out; /* entries: indices into t */
	size_t nout;
	unsigned flags;   /* FMIG_ABSENT_OK */
	char absent[512]; /* names skipped under FMIG_ABSENT_OK */
};

/* ------------------------------------------------------------------ */
/* Mappings                                                            */

int fmig_json_merge(json_arena *a, json_value *base, const json_value *over)
{
	if (!base || !over || base->type != JSON_OBJECT ||
	    over->type != JSON_OBJECT)
		return FERRY_EINVAL;
	for (size_t i = 0; i < over->u.obj.n; i++) {
		const json_member *m = &over->u.obj.m[i];
		json_value *b = json_get(base, m->key, m->klen);
		int rc;
		if (b && b->type == JSON_OBJECT && m->val->type == JSON_OBJECT)
			rc = fmig_json_merge(a, b, m->val);
		else
			rc = json_obj_set(a, base, m->key, m->klen,
					  json_clone(a, m->val));
		if (rc)
			return rc == FERRY_EINVAL ? FERRY_ENOMEM : rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Tracks                                                              */

static int fmig_track_add(fmig_program *p, const char *source,
			  const char *name, ferry_err *err)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 8;
		fmig_track *t = realloc(p->t, cap * sizeof *t);
		if (!t)
			return ferry_err_set(err, FERRY_ENOMEM, NULL);
		p->t = t;
		p->cap = cap;
	}
	fmig_track *t = &p->t[p->n];
	memset(t, 0, sizeof *t);
	t->info.source = source ? fmig_strdup(p->a, source) : NULL;
	t->info.target = fmig_strdup(p->a, name);
	t->info.created = !source;
	if (!t->info.target || (source && !t->info.source))
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	p->n++;
	return 0;
}

/* The live (not dropped) track named `name`, or -1. */
static long fmig_track_find(const fmig_program *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (!p->t[i].info.dropped && !strcmp(p->t[i].info.target, name))
			return (long)i;
	return -1;
}

static int fmig_track_ops(fmig_track *t, const fmig_ispec *ix, ferry_err *err)
{
	if (!ix->nops)
		return 0;
	if (t->info.nops + ix->nops > t->cap) {
		size_t cap = (t->info.nops + ix->nops) * 2;
		fmig_step *s = realloc(t->steps, cap * sizeof *s);
		if (!s)
			return ferry_err_set(err, FERRY_ENOMEM, NULL);
		t->steps = s;
		t->cap = cap;
	}
	for (size_t i = 0; i < ix->nops; i++) {
		fmig_step *s = &t->steps[t->info.nops];
		s->op = &ix->ops[i];
		s->lua = NULL;
		t->info.nops++;
		if (s->op->kind == FMIG_LUA) {
			int rc = fmig_lua_new(s->op, &s->lua, err);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int fmig_track_maps(fmig_program *p, fmig_track *t,
			   const fmig_ispec *ix, ferry_err *err)
{
	int rc = 0;
	if (!ix->mappings)
		return 0;
	if (!t->mappings)
		rc = (t->mappings = json_clone(p->a, ix->mappings)) ? 0 :
			FERRY_ENOMEM;
	else
		rc = fmig_json_merge(p->a, t->mappings, ix->mappings);
	t->info.mappings = t->mappings;
	return rc ? ferry_err_set(err, rc, NULL) : 0;
}

/* ------------------------------------------------------------------ */
/* One hop                                                             */

/* Lists the live index names (for messages). */
static void fmig_live_names(const fmig_program *p, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; i < p->n && used < n; i++)
		if (!p->t[i].info.dropped)
			used += (size_t)snprintf(buf + used, n - used, "%s%s",
						 used ? ", " : "",
						 p->t[i].info.target);
	if (!used)
		snprintf(buf, n, "none");
}

/* 1 if some track started under `name` (it was renamed or dropped since:
 * naming it now is a mistake even when absent indices are allowed). */
static int fmig_ever_named(const fmig_program *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->t[i].info.source && !strcmp(p->t[i].info.source, name))
			return 1;
	return 0;
}

/* An index a hop names that the deployment does not have: it is tracked
 * like a source with no documents, and remembered for the plan. */
static int fmig_absent_add(fmig_program *p, const char *name, ferry_err *err)
{
	size_t used = strlen(p->absent);
	if (used + strlen(name) + 3 < sizeof p->absent)
		snprintf(p->absent + used, sizeof p->absent - used, "%s%s",
			 used ? ", " : "", name);
	return fmig_track_add(p, name, name, err);
}

/* Which track each non-create spec of hop h names (before the hop). */
static int fmig_hop_resolve(fmig_program *p, const fmig_hop *h,
			    long *which, ferry_err *err)
{
	char names[256];
	for (size_t i = 0; i < h->nix; i++) {
		const fmig_ispec *ix = &h->ix[i];
		which[i] = ix->create ? -1 : fmig_track_find(p, ix->name);
		if (ix->create || which[i] >= 0)
			continue;
		if ((p->flags & FMIG_ABSENT_OK) && !fmig_ever_named(p, ix->name)) {
			int rc = fmig_absent_add(p, ix->name, err);
			if (rc)
				return rc;
			which[i] = (long)p->n - 1;
			continue;
		}
		fmig_live_names(p, names, sizeof names);
		return ferry_err_set(err, FERRY_EINVAL, "%s: index '%s' does "
				     "not exist at %s (indices then: %s); a "
				     "typo?", ix->where, ix->name,
				     h->info.from, names);
	}
	return 0;
}

/* After a hop no two live indices may share a name. */
static int fmig_hop_unique(const fmig_program *p, const fmig_hop *h,
			   ferry_err *err)
{
	for (size_t i = 0; i < p->n; i++)
		for (size_t j = i + 1; j < p->n; j++)
			if (!p->t[i].info.dropped && !p->t[j].info.dropped &&
			    !strcmp(p->t[i].info.target, p->t[j].info.target))
				return ferry_err_set(err, FERRY_EINVAL, "%s: "
						     "after this hop two "
						     "indices are named '%s' "
						     "(create or rename_to "
						     "clashes)", h->info.path,
						     p->t[i].info.target);
	return 0;
}

static int fmig_hop_apply(fmig_program *p, const fmig_hop *h, long *which,
			  ferry_err *err)
{
	int rc = fmig_hop_resolve(p, h, which, err);
	for (size_t i = 0; !rc && i < h->nix; i++) {
		const fmig_ispec *ix = &h->ix[i];
		if (ix->create)
			continue;
		fmig_track *t = &p->t[which[i]];
		t->info.dropped |= ix->drop;
		if ((rc = fmig_track_ops(t, ix, err)) ||
		    (rc = fmig_track_maps(p, t, ix, err)))
			break;
		if (ix->rename_to &&
		    !(t->info.target = fmig_strdup(p->a, ix->rename_to)))
			rc = ferry_err_set(err, FERRY_ENOMEM, NULL);
	}
	for (size_t i = 0; !rc && i < h->nix; i++) {
		if (!h->ix[i].create)
			continue;
		if (!(rc = fmig_track_add(p, NULL, h->ix[i].name, err)))
			rc = fmig_track_maps(p, &p->t[p->n - 1], &h->ix[i],
					     err);
	}
	return rc ? rc : fmig_hop_unique(p, h, err);
}

/* ------------------------------------------------------------------ */
/* Programs                                                            */

static int fmig_program_entries(fmig_program *p, size_t nsrc, ferry_err *err)
{
	if (!(p->out = calloc(p->n + 1, sizeof *p->out)))
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	for (size_t i = 0; i < p->n; i++)
		if (i < nsrc || !p->t[i].info.dropped)
			p->out[p->nout++] = i;
	return 0;
}

static int fmig_sources(fmig_program *p, const char *const *src, size_t n,
			ferry_err *err)
{
	int rc;
	for (size_t i = 0; i < n; i++) {
		if (!src[i])
			return ferry_err_set(err, FERRY_EINVAL, "source index "
					     "%zu is NULL", i);
		if (fmig_track_find(p, src[i]) >= 0)
			return ferry_err_set(err, FERRY_EINVAL, "source index "
					     "'%s' is listed twice", src[i]);
		if ((rc = fmig_track_add(p, src[i], src[i], err)))
			return rc;
	}
	return 0;
}

int fmig_compose(const fmig_chain *c, const char *const *source_indices,
		 size_t n, fmig_program **out, ferry_err *err)
{
	return fmig_compose_flags(c, source_indices, n, 0, out, err);
}

const char *fmig_program_absent(const fmig_program *p)
{
	return p ? p->absent : "";
}

int fmig_compose_flags(const fmig_chain *c, const char *const *source_indices,
		       size_t n, unsigned flags, fmig_program **out,
		       ferry_err *err)
{
	long *which = NULL;
	size_t most = 1;
	int rc = FERRY_ENOMEM;
	fmig_program *p = calloc(1, sizeof *p);
	if (!c || (n && !source_indices) || !out) {
		free(p);
		return ferry_err_set(err, FERRY_EINVAL, "fmig_compose: bad "
				     "arguments");
	}
	for (size_t i = 0; i < c->n; i++)
		most = c->hops[i]->nix > most ? c->hops[i]->nix : most;
	if (!p || !(p->a = json_arena_new()) ||
	    !(which = calloc(most, sizeof *which))) {
		ferry_err_set(err, rc, NULL);
		goto out;
	}
	p->flags = flags;
	if ((rc = fmig_sources(p, source_indices, n, err)))
		goto out;
	for (size_t i = 0; i < c->n; i++)
		if ((rc = fmig_hop_apply(p, c->hops[i], which, err)))
			goto out;
	if ((rc = fmig_program_entries(p, n, err)))
		goto out;
	*out = p;
	p = NULL;
out:
	free(which);
	fmig_program_free(p);
	return rc;
}

void fmig_program_free(fmig_program *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		for (size_t k = 0; k < p->t[i].info.nops; k++)
			fmig_lua_free(p->t[i].steps[k].lua);
		free(p->t[i].steps);
	}
	free(p->t);
	free(p->out);
	json_arena_free(p->a);
	free(p);
}

size_t fmig_program_count(const fmig_program *p) { return p ? p->nout : 0; }

const fmig_index_info *fmig_program_index(const fmig_program *p, size_t i)
{
	return p && i < p->nout ? &p->t[p->out[i]].info : NULL;
}

int fmig_program_apply(fmig_program *p, size_t index_no, json_arena *a,
		       json_value **doc, int *dropped, ferry_err *err)
{
	int gone = 0, rc = 0;
	if (!p || index_no >= p->nout || !a || !doc || !*doc || !dropped)
		return ferry_err_set(err, FERRY_EINVAL, "fmig_program_apply: "
				     "bad arguments");
	const fmig_track *t = &p->t[p->out[index_no]];
	*dropped = 0;
	if ((*doc)->type != JSON_OBJECT)
		return ferry_err_set(err, FERRY_EINVAL, "the document is not "
				     "a JSON object");
	if (t->info.dropped) {
		*dropped = 1;
		return 0;
	}
	for (size_t i = 0; i < t->info.nops && !rc && !gone; i++) {
		const fmig_step *s = &t->steps[i];
		if (s->lua)
			rc = fmig_lua_apply(s->lua, s->op, a, doc, &gone, err);
		else
			rc = fmig_op_apply(s->op, a, *doc, err);
	}
	*dropped = !rc && gone;
	return rc;
}
