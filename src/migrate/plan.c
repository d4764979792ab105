/*
 * plan.c - the chain of hops between two data versions. Hops only go
 * forward (to > from, checked when loading), so the hops sorted by their
 * from version are a topological order and one pass finds, for each hop,
 * the fewest hops that reach it from the start and how many such chains
 * exist. A missing hop is named by the gap: the newest version reachable
 * from the start and the oldest one the target is reachable from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "migrate/internal.h"

typedef struct fmig_node {
	size_t dist;   /* hops on the shortest chain ending here; 0: none */
	int paths;     /* shortest chains ending here, saturated at 2 */
	long par[2];   /* first two predecessors at that distance, or -1 */
} fmig_node;

/* One pass over the hops in from-order (see the file comment). */
static void fmig_reach(const fmig_set *s, const fversion *f,
		       const fversion *t, fmig_node *nd)
{
	for (size_t h = 0; h < s->n; h++) {
		const fmig_hop *hp = s->hops[h];
		nd[h] = (fmig_node){0, 0, {-1, -1}};
		if (fversion_cmp(&hp->vto, t) > 0)
			continue;
		if (!fversion_cmp(&hp->vfrom, f)) {
			nd[h].dist = 1;
			nd[h].paths = 1;
			continue;
		}
		for (size_t g = 0; g < h; g++) {
			if (!nd[g].dist ||
			    fversion_cmp(&s->hops[g]->vto, &hp->vfrom))
				continue;
			size_t d = nd[g].dist + 1;
			if (!nd[h].dist || d < nd[h].dist)
				nd[h] = (fmig_node){d, 0, {(long)g, -1}};
			else if (d == nd[h].dist && nd[h].par[1] < 0)
				nd[h].par[1] = (long)g;
			if (d == nd[h].dist)
				nd[h].paths = nd[h].paths + nd[g].paths > 1 ?
					2 : 1;
		}
	}
}

/* Writes "a->b, c->d" (all hops) into buf. */
static void fmig_known(const fmig_set *s, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; i < s->n && used < n; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s%s->%s",
					 i ? ", " : "", s->hops[i]->info.from,
					 s->hops[i]->info.to);
	if (!s->n)
		snprintf(buf, n, "none");
}

static int fmig_missing(const fmig_set *s, const fversion *f,
			const fversion *t, const char *fs, const char *ts,
			const fmig_node *nd, ferry_err *err)
{
	const char *gap_from = fs, *gap_to = ts;
	const fversion *gf = f, *gt = t;
	char known[400];
	int *back = calloc(s->n + 1, sizeof *back);
	if (!back)
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	for (size_t h = 0; h < s->n; h++)
		if (nd[h].dist && fversion_cmp(&s->hops[h]->vto, gf) > 0) {
			gf = &s->hops[h]->vto;
			gap_from = s->hops[h]->info.to;
		}
	for (size_t h = s->n; h-- > 0;) { /* which hops lead to t */
		const fmig_hop *hp = s->hops[h];
		back[h] = !fversion_cmp(&hp->vto, t);
		for (size_t g = h + 1; g < s->n && !back[h]; g++)
			back[h] = back[g] &&
				  !fversion_cmp(&s->hops[g]->vfrom, &hp->vto);
		if (back[h] && fversion_cmp(&hp->vfrom, gf) > 0 &&
		    fversion_cmp(&hp->vfrom, gt) < 0) {
			gt = &hp->vfrom;
			gap_to = hp->info.from;
		}
	}
	free(back);
	fmig_known(s, known, sizeof known);
	int same = gf == f && gt == t;
	return ferry_err_set(err, FERRY_ENOTFOUND, "no migration from %s to "
			     "%s; known hops: %s%s%s%s%s", gap_from, gap_to,
			     known, same ? "" : "; needed for ", same ? "" : fs,
			     same ? "" : " -> ", same ? "" : ts);
}

/* "a->b->c" for the chain that ends with hop h, taking par[1] at hop
 * `alt` (or never if alt < 0). */
static void fmig_path_text(const fmig_set *s, const fmig_node *nd, long h,
			   long alt, char *buf, size_t n)
{
	long chain[64];
	size_t k = 0, used = 0;
	for (long x = h; x >= 0 && k < 64; k++) {
		chain[k] = x;
		x = nd[x].par[x == alt ? 1 : 0];
	}
	buf[0] = 0;
	if (k)
		used = (size_t)snprintf(buf, n, "%s",
					s->hops[chain[k - 1]]->info.from);
	for (size_t i = k; i-- > 0 && used < n;)
		used += (size_t)snprintf(buf + used, n - used, "->%s",
					 s->hops[chain[i]]->info.to);
}

static int fmig_ambiguous(const fmig_set *s, const fmig_node *nd, long h1,
			  long h2, const char *fs, const char *ts,
			  ferry_err *err)
{
	char a[200], b[200];
	long alt = -1;
	if (h2 < 0) { /* both chains end in h1: find where they part */
		for (long x = h1; x >= 0 && alt < 0; x = nd[x].par[0])
			if (nd[x].par[1] >= 0)
				alt = x;
		h2 = h1;
	}
	fmig_path_text(s, nd, h1, -1, a, sizeof a);
	fmig_path_text(s, nd, h2, alt, b, sizeof b);
	return ferry_err_set(err, FERRY_EINVAL, "more than one chain of %zu "
			     "hops leads from %s to %s: %s and %s; remove "
			     "the migration file that is not needed",
			     nd[h1].dist, fs, ts, a, b);
}

/* Fills c with the chain that ends in hop `last`. */
static int fmig_chain_fill(const fmig_set *s, const fmig_node *nd, long last,
			   fmig_chain *c, ferry_err *err)
{
	c->n = nd[last].dist;
	if (!(c->hops = calloc(c->n, sizeof *c->hops)))
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	size_t i = c->n;
	for (long x = last; x >= 0 && i > 0; x = nd[x].par[0])
		c->hops[--i] = s->hops[x];
	return 0;
}

/* Picks the end of the chain among the hops that reach t. */
static int fmig_chain_find(const fmig_set *s, const fversion *f,
			   const fversion *t, const char *fs, const char *ts,
			   fmig_chain *c, ferry_err *err)
{
	long best = -1, second = -1;
	int rc;
	fmig_node *nd = calloc(s->n + 1, sizeof *nd);
	if (!nd)
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	fmig_reach(s, f, t, nd);
	for (size_t h = 0; h < s->n; h++) {
		if (!nd[h].dist || fversion_cmp(&s->hops[h]->vto, t))
			continue;
		if (best < 0 || nd[h].dist < nd[best].dist) {
			best = (long)h;
			second = -1;
		} else if (nd[h].dist == nd[best].dist && second < 0) {
			second = (long)h;
		}
	}
	if (best < 0)
		rc = fmig_missing(s, f, t, fs, ts, nd, err);
	else if (second >= 0 || nd[best].paths > 1)
		rc = fmig_ambiguous(s, nd, best, second, fs, ts, err);
	else
		rc = fmig_chain_fill(s, nd, best, c, err);
	free(nd);
	return rc;
}

int fmig_plan_chain(const fmig_set *s, const char *from_dv,
		    const char *to_dv, fmig_chain **out, ferry_err *err)
{
	fversion f, t;
	int rc;
	if (!s || !s->finished || !out)
		return ferry_err_set(err, FERRY_EINVAL, "fmig_plan_chain: no "
				     "finished migration set");
	if ((rc = fversion_parse(from_dv, &f, err)) ||
	    (rc = fversion_parse(to_dv, &t, err)))
		return rc;
	if (fversion_cmp(&f, &t) > 0)
		return ferry_err_set(err, FERRY_EVERSION, "cannot migrate "
				     "from %s down to %s: migrations only go "
				     "forward (use rollback)", from_dv, to_dv);
	fmig_chain *c = calloc(1, sizeof *c);
	if (!c)
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	c->set = s;
	if (fversion_cmp(&f, &t) &&
	    (rc = fmig_chain_find(s, &f, &t, from_dv, to_dv, c, err))) {
		fmig_chain_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void fmig_chain_free(fmig_chain *c)
{
	if (!c)
		return;
	free(c->hops);
	free(c);
}

size_t fmig_chain_count(const fmig_chain *c) { return c ? c->n : 0; }

const fmig_hop_info *fmig_chain_hop(const fmig_chain *c, size_t i)
{
	return c && i < c->n ? &c->hops[i]->info : NULL;
}
