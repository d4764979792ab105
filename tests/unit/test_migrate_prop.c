/*
 * test_migrate_prop.c - the property that makes one-pass upgrades safe:
 * a chain of hops composed into ONE program gives the same result as
 * running each hop's own program in turn - the same documents (json_equal),
 * the same drops, the same errors (code and message), the same target
 * names and the same merged mappings. Random documents and random chains
 * of 1..5 hops of random ops (all kinds, Lua included), renames, drops and
 * creates, from a seeded PRNG. FERRY_PROP_SEED and FERRY_PROP_CASES
 * override the seed (default fixed) and the number of cases (2500); a
 * failure prints the seed and the case to replay it.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "migrate/migrate.h"

#define MAX_HOPS 5
#define MAX_TRACKS 32
#define DOCS_PER_INDEX 4

typedef struct rng {
	uint64_t s;
} rng;

static uint64_t rnd(rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned below(rng *r, unsigned n) { return (unsigned)(rnd(r) % n); }
static int chance(rng *r, unsigned pct) { return below(r, 100) < pct; }

/* ------------------------------------------------------------------ */
/* Random JSON                                                         */

static const char *const keys[] = {"a", "b", "c", "d", "k.z"};
#define NKEYS (sizeof keys / sizeof *keys)

static void gen_scalar(rng *r, fbuf *b)
{
	static const char *const pool[] = {
		"0", "1", "-3", "42", "100", "1.5", "7.0", "2e3", "-0",
		"\"42\"", "\"4.0\"", "\"true\"", "\"false\"", "\"x\"", "\"\"",
		"\"Zoë\"", "true", "false", "null", "9223372036854775807",
		"1e400", "743.70",
		/* escapes, quotes and brackets inside strings: the lazy
		 * parser must skip them right */
		"\"a\\\"]}\"", "\"\\u0041\\\\\"", "\"[{\\\\\"", "\"\\/\\n\""};
	fbuf_adds(b, pool[below(r, sizeof pool / sizeof *pool)]);
}

static void gen_value(rng *r, fbuf *b, int depth);

static void gen_object(rng *r, fbuf *b, int depth)
{
	int used[NKEYS] = {0};
	unsigned n = below(r, depth ? 4 : 6);
	fbuf_addc(b, '{');
	for (unsigned i = 0, first = 1; i < n; i++) {
		unsigned k = below(r, NKEYS);
		if (used[k])
			continue;
		used[k] = 1;
		if (!first)
			fbuf_addc(b, ',');
		first = 0;
		fbuf_add_jstr(b, keys[k], strlen(keys[k]));
		fbuf_addc(b, ':');
		gen_value(r, b, depth + 1);
	}
	fbuf_addc(b, '}');
}

static void gen_value(rng *r, fbuf *b, int depth)
{
	unsigned c = below(r, 10);
	if (depth < 3 && c < 4) {
		gen_object(r, b, depth);
	} else if (depth < 3 && c == 4) {
		unsigned n = below(r, 3);
		fbuf_addc(b, '[');
		for (unsigned i = 0; i < n; i++) {
			if (i)
				fbuf_addc(b, ',');
			gen_value(r, b, depth + 1);
		}
		fbuf_addc(b, ']');
	} else {
		gen_scalar(r, b);
	}
}

/* A dotted path of 1..3 keys, as a JSON string. */
static void gen_path(rng *r, fbuf *b)
{
	unsigned n = 1 + below(r, 3);
	fbuf_addc(b, '"');
	for (unsigned i = 0; i < n; i++) {
		const char *k = keys[below(r, NKEYS)];
		if (i)
			fbuf_addc(b, '.');
		fbuf_adds(b, strcmp(k, "k.z") ? k : "k\\\\.z");
	}
	fbuf_addc(b, '"');
}

/* ------------------------------------------------------------------ */
/* Random hops                                                         */

static const char *const scripts[] = {
	"function transform(d) return d end",
	"function transform(d) if d.a == nil then return nil end return d end",
	"function transform(d) d.b = d.a; return d end",
	"function transform(d) local n = 0 for _ in pairs(d) do n = n + 1 "
	"end d.n = n return d end",
	"function transform(d) if math.type(d.c) == 'integer' then "
	"d.c = d.c * 2 end return d end",
	"function transform(d) d.e = json.array(); d.o = {x = 1.5} return d "
	"end",
};

static void gen_op(rng *r, fbuf *b)
{
	static const char *const conv[] = {"string", "integer", "float",
					   "boolean"};
	unsigned k = below(r, 100);
	if (k < 14) {
		fbuf_adds(b, "{\"rename\":{\"from\":");
		gen_path(r, b);
		fbuf_adds(b, ",\"to\":");
		gen_path(r, b);
	} else if (k < 30) {
		fbuf_adds(b, "{\"set\":{\"field\":");
		gen_path(r, b);
		fbuf_adds(b, ",\"value\":");
		gen_value(r, b, 2);
	} else if (k < 44) {
		fbuf_adds(b, "{\"remove\":{\"field\":");
		gen_path(r, b);
	} else if (k < 58) {
		fbuf_adds(b, "{\"default\":{\"field\":");
		gen_path(r, b);
		fbuf_adds(b, ",\"value\":");
		gen_value(r, b, 2);
	} else if (k < 72) {
		fbuf_adds(b, "{\"copy\":{\"from\":");
		gen_path(r, b);
		fbuf_adds(b, ",\"to\":");
		gen_path(r, b);
	} else if (k < 95) {
		fbuf_adds(b, "{\"convert\":{\"field\":");
		gen_path(r, b);
		fbuf_addf(b, ",\"to\":\"%s\"", conv[below(r, 4)]);
	} else {
		const char *s = scripts[below(r, sizeof scripts /
					    sizeof *scripts)];
		fbuf_adds(b, "{\"lua\":{\"code\":");
		fbuf_add_jstr(b, s, strlen(s));
	}
	fbuf_adds(b, "}}");
}

typedef struct names {
	char v[MAX_TRACKS][8];
	size_t n;
} names;

static const char *const pool[] = {"p", "q", "r", "s", "t", "u", "v", "w"};
#define NPOOL (sizeof pool / sizeof *pool)

static int has(const names *ns, const char *s)
{
	for (size_t i = 0; i < ns->n; i++)
		if (!strcmp(ns->v[i], s))
			return 1;
	return 0;
}

static void add_name(names *ns, const char *s)
{
	snprintf(ns->v[ns->n++], sizeof ns->v[0], "%s", s);
}

/* A name of the pool not live and not taken in this hop, or NULL. */
static const char *fresh(rng *r, const names *live, const names *taken)
{
	for (unsigned tries = 0; tries < 16; tries++) {
		const char *s = pool[below(r, NPOOL)];
		if (!has(live, s) && !has(taken, s))
			return s;
	}
	return NULL;
}

/* The spec of live index `name` in a hop; updates next (its name after
 * the hop, unless dropped). */
static void gen_spec(rng *r, fbuf *b, const char *name, const names *live,
		     names *taken, names *next)
{
	const char *to = NULL;
	fbuf_add_jstr(b, name, strlen(name));
	if (chance(r, 6)) {
		fbuf_adds(b, ":{\"drop\":true}");
		return;
	}
	fbuf_adds(b, ":{\"ops\":[");
	for (unsigned i = 0, n = below(r, 5); i < n; i++) {
		if (i)
			fbuf_addc(b, ',');
		gen_op(r, b);
	}
	fbuf_addc(b, ']');
	if (chance(r, 25)) {
		fbuf_adds(b, ",\"mappings\":");
		gen_object(r, b, 1);
	}
	if (chance(r, 15) && (to = fresh(r, live, taken))) {
		fbuf_addf(b, ",\"rename_to\":\"%s\"", to);
		add_name(taken, to);
	}
	fbuf_addc(b, '}');
	add_name(next, to ? to : name);
}

/* One hop file from version v to v+1 over the live names; *live becomes
 * the names after the hop. */
static void gen_hop(rng *r, fbuf *b, unsigned v, names *live)
{
	names taken = {.n = 0}, next = {.n = 0};
	int first = 1;
	fbuf_addf(b, "{\"from\":\"1.0.%u\",\"to\":\"1.0.%u\",\"indices\":{", v,
		  v + 1);
	for (size_t i = 0; i < live->n; i++) {
		if (!chance(r, 70)) {
			add_name(&next, live->v[i]);
			continue;
		}
		if (!first)
			fbuf_addc(b, ',');
		first = 0;
		gen_spec(r, b, live->v[i], live, &taken, &next);
	}
	const char *c = chance(r, 15) ? fresh(r, live, &taken) : NULL;
	if (c && next.n < MAX_TRACKS - 1) {
		fbuf_addf(b, "%s\"%s\":{\"create\":true%s}", first ? "" : ",", c,
			  chance(r, 50) ? ",\"mappings\":{\"m\":1}" : "");
		add_name(&next, c);
	}
	fbuf_adds(b, "}}");
	*live = next;
}

/* ------------------------------------------------------------------ */
/* The check                                                           */

typedef struct track {
	char name[8];
	int alive;
	int src;           /* index of its source, or -1 if created */
	json_value *maps;  /* merged mappings so far */
} track;

typedef struct outcome {
	int rc, gone;
	json_value *doc;
	char msg[512];
} outcome;

typedef struct tally {
	unsigned long ok, failed, gone, index_dropped, created, renamed;
} tally;

typedef struct pcase {
	tally *tally;
	uint64_t seed;
	unsigned no;
	unsigned hops;
	char *text[MAX_HOPS];
	char *doc[3][DOCS_PER_INDEX];
	json_arena *a;
} pcase;

static const char *const sources[] = {"p", "q", "r"};

static void report(const pcase *c, const char *what)
{
	print_message("property failed: %s\n  case %u; to replay it alone: "
		      "FERRY_PROP_SEED=%" PRIu64 " FERRY_PROP_CASES=1\n", what,
		      c->no, c->seed);
	for (unsigned i = 0; i < c->hops; i++)
		print_message("  hop %u: %s\n", i, c->text[i]);
	for (int s = 0; s < 3; s++)
		for (int d = 0; d < DOCS_PER_INDEX; d++)
			print_message("  doc %s/%d: %s\n", sources[s], d,
				      c->doc[s][d]);
	fail_msg("see above");
}

static json_value *parse(json_arena *a, const char *s)
{
	json_value *v = NULL;
	assert_int_equal(json_parse(a, s, strlen(s), &v, NULL), 0);
	return v;
}

/* s parsed lazily (json_parse_lazy), from a copy with the padding it
 * needs; the copy lives in the arena as long as the tree. */
static json_value *parse_lazy(json_arena *a, const char *s)
{
	size_t n = strlen(s);
	char *copy = json_arena_alloc(a, n + JSON_LAZY_PAD);
	json_value *v = NULL;
	assert_non_null(copy);
	memcpy(copy, s, n);
	memset(copy + n, 0, JSON_LAZY_PAD);
	assert_int_equal(json_parse_lazy(a, copy, n, &v, NULL), 0);
	return v;
}

static void run_doc(fmig_program *p, size_t ix, json_arena *a, outcome *o)
{
	ferry_err err = {0, ""};
	if (o->rc || o->gone)
		return;
	o->rc = fmig_program_apply(p, ix, a, &o->doc, &o->gone, &err);
	if (o->rc)
		snprintf(o->msg, sizeof o->msg, "%s", err.msg);
}

/* The mappings rule, written again here so that the property does not
 * test fmig_json_merge against itself: objects merge member by member,
 * anything else is replaced. */
static json_value *ref_merge(json_arena *a, const json_value *base,
			     const json_value *over)
{
	if (!base || base->type != JSON_OBJECT || over->type != JSON_OBJECT)
		return json_clone(a, over);
	json_value *out = json_clone(a, base);
	for (size_t i = 0; i < over->u.obj.n; i++) {
		const json_member *m = &over->u.obj.m[i];
		json_value *v = ref_merge(a, json_get(out, m->key, m->klen),
					  m->val);
		assert_int_equal(json_obj_set(a, out, m->key, m->klen, v), 0);
	}
	return out;
}

static void merge_into(json_arena *a, json_value **base, const json_value *m)
{
	if (m)
		*base = ref_merge(a, *base, m);
}

/* Applies hop i's own program to the tracks and their documents. */
static void step_hop(const pcase *c, fmig_set *s, unsigned i, track *t,
		     size_t *nt, outcome out[3][DOCS_PER_INDEX])
{
	ferry_err err = {0, ""};
	fmig_chain *ch = NULL;
	fmig_program *p = NULL;
	const char *srcs[MAX_TRACKS];
	size_t map[MAX_TRACKS], n = 0;
	char from[16], to[16];
	snprintf(from, sizeof from, "1.0.%u", i);
	snprintf(to, sizeof to, "1.0.%u", i + 1);
	for (size_t k = 0; k < *nt; k++)
		if (t[k].alive) {
			map[n] = k;
			srcs[n++] = t[k].name;
		}
	if (fmig_plan_chain(s, from, to, &ch, &err) ||
	    fmig_compose(ch, srcs, n, &p, &err))
		report(c, err.msg);
	for (size_t k = 0; k < fmig_program_count(p); k++) {
		const fmig_index_info *ii = fmig_program_index(p, k);
		track *tr = k < n ? &t[map[k]] : &t[(*nt)++];
		if (k >= n) {
			tr->src = -1;
			tr->maps = NULL;
		}
		for (int d = 0; tr->src >= 0 && d < DOCS_PER_INDEX; d++)
			run_doc(p, k, c->a, &out[tr->src][d]);
		snprintf(tr->name, sizeof tr->name, "%s", ii->target);
		tr->alive = !ii->dropped;
		merge_into(c->a, &tr->maps, ii->mappings);
	}
	fmig_program_free(p);
	fmig_chain_free(ch);
}

/* Composed vs hop by hop for entry k of the composed program. */
static void compare_entry(pcase *c, fmig_program *p, size_t k,
			  const track *tr, outcome *seq)
{
	const fmig_index_info *ii = fmig_program_index(p, k);
	char what[1200];
	if (strcmp(ii->target, tr->name) || ii->dropped != !tr->alive)
		report(c, "target name or drop differs");
	c->tally->index_dropped += (unsigned long)ii->dropped;
	c->tally->created += (unsigned long)ii->created;
	c->tally->renamed += ii->source && strcmp(ii->source, ii->target);
	if ((ii->mappings || tr->maps) &&
	    !(ii->mappings && tr->maps && json_equal(ii->mappings, tr->maps)))
		report(c, "merged mappings differ");
	for (int d = 0; tr->src >= 0 && !ii->dropped && d < DOCS_PER_INDEX;
	     d++) {
		outcome o = {0, 0, parse(c->a, c->doc[tr->src][d]), ""};
		run_doc(p, k, c->a, &o);
		outcome *q = &seq[d];
		snprintf(what, sizeof what, "doc %s/%d: composed rc %d gone %d "
			 "'%s', hop by hop rc %d gone %d '%s'",
			 sources[tr->src], d, o.rc, o.gone, o.msg, q->rc,
			 q->gone, q->msg);
		if (o.rc != q->rc || strcmp(o.msg, q->msg) ||
		    (!o.rc && o.gone != q->gone))
			report(c, what);
		if (!o.rc && !o.gone && !json_equal(o.doc, q->doc))
			report(c, what);
		/* the same program on the lazily parsed document (what an
		 * upgrade does): the same outcome, the same text */
		outcome z = {0, 0, parse_lazy(c->a, c->doc[tr->src][d]), ""};
		run_doc(p, k, c->a, &z);
		fbuf zt = FBUF_INIT;
		if (z.rc != o.rc || strcmp(z.msg, o.msg) ||
		    (!z.rc && z.gone != o.gone))
		{
			snprintf(what, sizeof what, "lazy parse: rc %d gone %d "
				 "'%s', full parse: rc %d gone %d '%s'", z.rc,
				 z.gone, z.msg, o.rc, o.gone, o.msg);
			report(c, what);
		}
		if (!z.rc && !z.gone &&
		    (json_write(z.doc, &zt) ||
		     !json_equal(parse(c->a, zt.p), o.doc)))
			report(c, "lazy parse: other document");
		fbuf_release(&zt);
		c->tally->ok += !o.rc && !o.gone;
		c->tally->failed += o.rc != 0;
		c->tally->gone += !o.rc && o.gone;
	}
}

static void check_case(pcase *c)
{
	ferry_err err = {0, ""};
	fmig_set *s = NULL;
	fmig_chain *ch = NULL;
	fmig_program *p = NULL;
	track t[MAX_TRACKS];
	size_t nt = 3;
	outcome seq[3][DOCS_PER_INDEX];
	char to[16], name[40];
	assert_int_equal(fmig_set_new("/nonexistent", &s, &err), 0);
	for (unsigned i = 0; i < c->hops; i++) {
		snprintf(name, sizeof name, "1.0.%u_to_1.0.%u.json", i, i + 1);
		if (fmig_set_add(s, name, c->text[i], strlen(c->text[i]), &err))
			report(c, err.msg);
	}
	assert_int_equal(fmig_set_finish(s, &err), 0);
	for (int k = 0; k < 3; k++) {
		t[k] = (track){"", 1, k, NULL};
		snprintf(t[k].name, sizeof t[k].name, "%s", sources[k]);
		for (int d = 0; d < DOCS_PER_INDEX; d++)
			seq[k][d] = (outcome){0, 0, parse(c->a, c->doc[k][d]),
					      ""};
	}
	for (unsigned i = 0; i < c->hops; i++)
		step_hop(c, s, i, t, &nt, seq);
	snprintf(to, sizeof to, "1.0.%u", c->hops);
	if (fmig_plan_chain(s, "1.0.0", to, &ch, &err) ||
	    fmig_compose(ch, sources, 3, &p, &err))
		report(c, err.msg);
	size_t k = 0;
	for (size_t i = 0; i < nt; i++) {
		if (i >= 3 && !t[i].alive)
			continue; /* created, then dropped: not an entry */
		if (k >= fmig_program_count(p))
			report(c, "composed program has too few entries");
		compare_entry(c, p, k++, &t[i], i < 3 ? seq[i] : NULL);
	}
	if (k != fmig_program_count(p))
		report(c, "composed program has too many entries");
	fmig_program_free(p);
	fmig_chain_free(ch);
	fmig_set_free(s);
}

static void gen_case(pcase *c, uint64_t seed, unsigned no)
{
	rng r = {seed};
	names live = {.n = 0};
	fbuf b = FBUF_INIT;
	c->seed = seed;
	c->no = no;
	c->hops = 1 + below(&r, MAX_HOPS);
	for (int i = 0; i < 3; i++)
		add_name(&live, sources[i]);
	for (unsigned i = 0; i < c->hops; i++) {
		gen_hop(&r, &b, i, &live);
		c->text[i] = fbuf_detach(&b, NULL);
	}
	for (int s = 0; s < 3; s++)
		for (int d = 0; d < DOCS_PER_INDEX; d++) {
			gen_object(&r, &b, 0);
			c->doc[s][d] = fbuf_detach(&b, NULL);
		}
}

static void free_case(pcase *c)
{
	for (unsigned i = 0; i < c->hops; i++)
		free(c->text[i]);
	for (int s = 0; s < 3; s++)
		for (int d = 0; d < DOCS_PER_INDEX; d++)
			free(c->doc[s][d]);
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);
	return s && *s ? strtoull(s, NULL, 10) : dflt;
}

static void test_composed_equals_hop_by_hop(void **state)
{
	(void)state;
	uint64_t base = env_u64("FERRY_PROP_SEED", 20261122);
	unsigned cases = (unsigned)env_u64("FERRY_PROP_CASES", 2500);
	unsigned long hops = 0;
	tally t = {0, 0, 0, 0, 0, 0};
	json_arena *a = json_arena_new();
	assert_non_null(a);
	print_message("  seed %" PRIu64 ", %u cases\n", base, cases);
	for (unsigned i = 0; i < cases; i++) {
		pcase c;
		memset(&c, 0, sizeof c);
		gen_case(&c, base + i, i);
		c.tally = &t;
		c.a = a;
		check_case(&c);
		hops += c.hops;
		free_case(&c);
		json_arena_reset(a);
	}
	print_message("  %u chains, %lu hops: composed == hop by hop\n"
		      "  documents: %lu transformed, %lu failed alike, %lu "
		      "dropped by Lua; indices: %lu dropped, %lu renamed, %lu "
		      "created\n", cases, hops, t.ok, t.failed, t.gone,
		      t.index_dropped, t.renamed, t.created);
	json_arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_composed_equals_hop_by_hop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
