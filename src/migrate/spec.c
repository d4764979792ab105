/*
 * spec.c - one hop file ("0.7.2_to_0.8.0.json") to an fmig_hop: the file
 * name, the top-level keys, the "indices" specs and their ops. Everything
 * is checked here, once, so that running a program never meets a
 * malformed op: unknown keys are errors (a typo must not silently do
 * nothing), every error says file:line:col and what was expected.
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/names.h"
#include "migrate/internal.h"

typedef struct fmig_pctx {
	fmig_set *set;
	fmig_src src;
	fmig_hop *hop;
	const char *name_from, *name_to; /* as written in the file name */
	fbuf luasum;                     /* "path\nchecksum\n" per Lua file */
	ferry_err *err;
} fmig_pctx;

/* Checks that t has type `want`; the message names `what`. */
static int fmig_want(fmig_pctx *c, const fmig_tok *t, json_type want,
		     const char *what)
{
	if (t->type == want)
		return 0;
	return fmig_err_at(c->err, FERRY_EINVAL, &c->src, t->off,
			   "%s must be %s, not %s", what,
			   fmig_type_name(want), fmig_type_name(t->type));
}

/* A string value, decoded and NUL-free, into *out. */
static int fmig_want_str(fmig_pctx *c, const fmig_tok *t, const char *what,
			 const char **out)
{
	size_t len;
	int rc = fmig_want(c, t, JSON_STRING, what);
	if (rc)
		return rc;
	if (!(*out = fmig_tok_str(&c->src, t, &len)))
		return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	if (strlen(*out) != len)
		return fmig_err_at(c->err, FERRY_EINVAL, &c->src, t->off,
				   "%s must not contain a NUL character",
				   what);
	return 0;
}

/* The error for key m not in names[0..count), reported at `off`. */
static int fmig_unknown_at(fmig_pctx *c, size_t off, const fmig_mem *m,
			   const char *what, const char *const *names,
			   size_t count)
{
	char list[256] = "";
	size_t used = 0;
	for (size_t i = 0; i < count && used < sizeof list; i++)
		used += (size_t)snprintf(list + used, sizeof list - used,
					 "%s%s", i ? ", " : "", names[i]);
	const char *near = fmig_suggest(m->k, names, count);
	return fmig_err_at(c->err, FERRY_EINVAL, &c->src, off,
			   "%s '%s' is not known; expected one of %s%s%s%s",
			   what, m->k, list, near ? " (did you mean '" : "",
			   near ? near : "", near ? "'?)" : "");
}

/* The same at the key itself. */
static int fmig_unknown(fmig_pctx *c, const fmig_mem *m, const char *what,
			const char *const *names, size_t count)
{
	return fmig_unknown_at(c, m->key.off, m, what, names, count);
}

/* Index of m's key in names, or -1. */
static int fmig_key_index(const fmig_mem *m, const char *const *names,
			  size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (names[i] && strlen(names[i]) == m->klen &&
		    memcmp(names[i], m->k, m->klen) == 0)
			return (int)i;
	return -1;
}

/* Counts the members or elements of t. */
static size_t fmig_count(fmig_pctx *c, const fmig_tok *t)
{
	size_t pos = t->off + 1, n = 0;
	fmig_tok e;
	if (t->type == JSON_ARRAY) {
		while (fmig_arr_next(&c->src, &pos, &e) == 1)
			n++;
		return n;
	}
	return fmig_obj_count(&c->src, t);
}

/* ------------------------------------------------------------------ */
/* Ops                                                                 */

/* A dotted path: a non-empty string, no empty segment, no trailing lone
 * backslash. */
static int fmig_want_path(fmig_pctx *c, const fmig_tok *t, const char *what,
			  const char **out)
{
	int rc = fmig_want_str(c, t, what, out);
	if (rc)
		return rc;
	const char *p = *out;
	size_t seg = 0;
	for (;; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			seg++;
		} else if (*p == '\\') {
			return fmig_err_at(c->err, FERRY_EINVAL, &c->src,
					   t->off, "%s '%s' ends in a lone "
					   "backslash; write '\\\\' for a "
					   "backslash in a key", what, *out);
		} else if (*p == '.' || *p == 0) {
			if (!seg)
				return fmig_err_at(c->err, FERRY_EINVAL,
						   &c->src, t->off, "%s '%s' "
						   "has an empty segment; "
						   "expected a dotted path like "
						   "'pii.name' ('\\.' is a dot "
						   "inside a key)", what, *out);
			if (!*p)
				return 0;
			seg = 0;
		} else {
			seg++;
		}
	}
}

static const char *const fmig_params[FMIG_OPKIND_COUNT][2] = {
	[FMIG_RENAME] = {"from", "to"},   [FMIG_SET] = {"field", "value"},
	[FMIG_REMOVE] = {"field", NULL},  [FMIG_DEFAULT] = {"field", "value"},
	[FMIG_COPY] = {"from", "to"},     [FMIG_CONVERT] = {"field", "to"},
	[FMIG_LUA] = {"file", "code"},
};

/* Collects the parameters of op `k` from object t into p[0..1]. */
static int fmig_op_params(fmig_pctx *c, fmig_opkind k, const fmig_tok *t,
			  fmig_tok p[2], int have[2])
{
	const char *const *names = fmig_params[k];
	size_t count = names[1] ? 2 : 1, pos = t->off + 1;
	fmig_mem m;
	int rc;
	char what[64];
	snprintf(what, sizeof what, "parameter of %s", fmig_opname(k));
	if ((rc = fmig_want(c, t, JSON_OBJECT, what)))
		return rc;
	while ((rc = fmig_obj_next(&c->src, &pos, &m)) == 1) {
		int i = fmig_key_index(&m, names, count);
		if (i < 0)
			return fmig_unknown(c, &m, what, names, count);
		p[i] = m.val;
		have[i] = 1;
	}
	if (rc)
		return ferry_err_set(c->err, rc, NULL);
	if (k == FMIG_LUA && have[0] == have[1])
		return fmig_err_at(c->err, FERRY_EINVAL, &c->src, t->off,
				   "lua needs exactly one of \"file\" (a path "
				   "relative to the migrations directory) or "
				   "\"code\"");
	for (size_t i = 0; k != FMIG_LUA && i < count; i++)
		if (!have[i])
			return fmig_err_at(c->err, FERRY_EINVAL, &c->src,
					   t->off, "%s needs \"%s\"",
					   fmig_opname(k), names[i]);
	return 0;
}

static int fmig_op_convert(fmig_pctx *c, fmig_op *op, const fmig_tok *t)
{
	const char *to, *names[FMIG_CONV_COUNT];
	int rc = fmig_want_str(c, t, "convert's \"to\"", &to);
	if (rc)
		return rc;
	for (int i = 0; i < FMIG_CONV_COUNT; i++) {
		names[i] = fmig_convname((fmig_conv)i);
		if (!strcmp(to, names[i])) {
			op->conv = (fmig_conv)i;
			return 0;
		}
	}
	return fmig_err_at(c->err, FERRY_EINVAL, &c->src, t->off,
			   "convert to '%s' is not known; expected one of "
			   "string, integer, float, boolean", to);
}

/* 0 if rel is a safe relative path (not absolute, no ".." segment). */
static int fmig_rel_ok(const char *rel)
{
	if (!*rel || rel[0] == '/')
		return -1;
	for (const char *p = rel; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return -1;
		p += n + (p[n] == '/');
	}
	return 0;
}

/* Reads the Lua file of op (relative path `rel`, token t). */
static int fmig_op_luafile(fmig_pctx *c, fmig_op *op, const char *rel,
			   const fmig_tok *t)
{
	fbuf b = FBUF_INIT;
	char sum[FMIG_CHECKSUM_HEX];
	const char *path;
	int rc;
	if (fmig_rel_ok(rel))
		return fmig_err_at(c->err, FERRY_EINVAL, &c->src, t->off,
				   "lua file '%s' must be a path relative to "
				   "the migrations directory, without '..'",
				   rel);
	if (!(path = fmig_aprintf(c->set->a, "%s/%s", c->set->dir, rel)))
		return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	if ((rc = fmig_read_file(path, FMIG_FILE_MAX, &b, c->err))) {
		char msg[sizeof c->err->msg];
		snprintf(msg, sizeof msg, "%s", c->err ? c->err->msg : "");
		rc = fmig_err_at(c->err, rc, &c->src, t->off, "%s", msg);
		goto out;
	}
	rc = FERRY_ENOMEM;
	if (!(op->lua_chunk = fmig_aprintf(c->set->a, "@%s", path)) ||
	    !(op->lua_src = json_arena_alloc(c->set->a, b.len + 1)) ||
	    fmig_checksum(b.p ? b.p : "", b.len, sum) ||
	    fbuf_addf(&c->luasum, "%s\n%s\n", rel, sum)) {
		ferry_err_set(c->err, rc, NULL);
		goto out;
	}
	memcpy((char *)op->lua_src, b.p ? b.p : "", b.len + 1);
	op->lua_len = b.len;
	rc = 0;
out:
	fbuf_release(&b);
	return rc;
}

static int fmig_op_lua(fmig_pctx *c, fmig_op *op, const fmig_tok p[2],
		       const int have[2])
{
	const char *s;
	int rc = fmig_want_str(c, &p[have[0] ? 0 : 1],
			       have[0] ? "lua's \"file\"" : "lua's \"code\"",
			       &s);
	if (rc)
		return rc;
	if (have[0])
		rc = fmig_op_luafile(c, op, s, &p[0]);
	else if (!(op->lua_chunk = fmig_aprintf(c->set->a, "@%s code",
						op->at)))
		rc = ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	else {
		op->lua_src = s;
		op->lua_len = strlen(s);
	}
	if (rc)
		return rc;
	if ((rc = fmig_lua_check(op, c->err))) {
		char msg[sizeof c->err->msg];
		snprintf(msg, sizeof msg, "%s", c->err ? c->err->msg : "");
		return ferry_err_set(c->err, rc, "%s (lua op at %s)", msg,
				     op->where);
	}
	return 0;
}

/* Fills op's path fields from its parameters. */
static int fmig_op_paths(fmig_pctx *c, fmig_op *op, const fmig_tok p[2])
{
	const char *const *names = fmig_params[op->kind];
	int two = op->kind == FMIG_RENAME || op->kind == FMIG_COPY;
	int rc = fmig_want_path(c, &p[0], names[0], &op->a);
	if (!rc && two)
		rc = fmig_want_path(c, &p[1], names[1], &op->b);
	op->same = !rc && two && !strcmp(op->a, op->b);
	if (!rc && (fmig_path_compile(c->set->a, op->a, &op->pa) ||
		    (two && fmig_path_compile(c->set->a, op->b, &op->pb))))
		rc = ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	return rc;
}

/* Fills op from its parameters. */
static int fmig_op_fill(fmig_pctx *c, fmig_op *op, const fmig_tok p[2],
			const int have[2])
{
	int rc;
	if (op->kind == FMIG_LUA)
		return fmig_op_lua(c, op, p, have);
	if ((rc = fmig_op_paths(c, op, p)))
		return rc;
	if (op->kind == FMIG_CONVERT)
		return fmig_op_convert(c, op, &p[1]);
	if ((op->kind == FMIG_SET || op->kind == FMIG_DEFAULT) &&
	    !(op->value = fmig_tok_value(&c->src, &p[1])))
		return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	return 0;
}

/* One element of an "ops" array: {"<op>": {params}}. */
static int fmig_op_parse(fmig_pctx *c, const fmig_ispec *ix, size_t no,
			 const fmig_tok *t, fmig_op *op)
{
	const char *names[FMIG_OPKIND_COUNT];
	fmig_tok p[2];
	int have[2] = {0, 0}, rc, k;
	size_t pos = t->off + 1;
	fmig_mem m;
	for (int i = 0; i < FMIG_OPKIND_COUNT; i++)
		names[i] = fmig_opname((fmig_opkind)i);
	if (t->type != JSON_OBJECT || fmig_count(c, t) != 1)
		return fmig_err_at(c->err, FERRY_EINVAL, &c->src, t->off,
				   "op %zu must be an object with one key, the "
				   "op name, like {\"rename\": {\"from\": "
				   "\"a\", \"to\": \"b\"}}", no);
	if ((rc = fmig_obj_next(&c->src, &pos, &m)) != 1)
		return ferry_err_set(c->err, rc ? rc : FERRY_EINTERNAL, NULL);
	if ((k = fmig_key_index(&m, names, FMIG_OPKIND_COUNT)) < 0)
		return fmig_unknown_at(c, t->off, &m, "op", names,
				       FMIG_OPKIND_COUNT);
	memset(op, 0, sizeof *op);
	op->kind = (fmig_opkind)k;
	size_t line, col;
	fmig_linecol(c->src.s, c->src.n, t->off, &line, &col);
	op->at = fmig_aprintf(c->set->a, "%s:%zu:%zu", c->src.path, line,
			      col);
	op->where = fmig_aprintf(c->set->a, "%s:%zu:%zu: index '%s' op %zu "
				 "(%s)", c->src.path, line, col, ix->name, no,
				 names[k]);
	if (!op->where || !op->at)
		return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	if ((rc = fmig_op_params(c, op->kind, &m.val, p, have)))
		return rc;
	return fmig_op_fill(c, op, p, have);
}

static int fmig_ops_parse(fmig_pctx *c, fmig_ispec *ix, const fmig_tok *t)
{
	size_t pos = t->off + 1, no = 0;
	fmig_tok e;
	int rc = fmig_want(c, t, JSON_ARRAY, "ops");
	if (rc)
		return rc;
	ix->nops = fmig_count(c, t);
	ix->ops = json_arena_alloc(c->set->a, (ix->nops + 1) * sizeof *ix->ops);
	if (!ix->ops)
		return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	while (fmig_arr_next(&c->src, &pos, &e) == 1) {
		if ((rc = fmig_op_parse(c, ix, no + 1, &e, &ix->ops[no])))
			return rc;
		no++;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Index specs                                                         */

static const char *const fmig_ix_keys[] = {"ops", "rename_to", "drop",
					   "create", "mappings"};
#define FMIG_IX_KEYS (sizeof fmig_ix_keys / sizeof *fmig_ix_keys)

/* drop and create exclude some other keys. */
static int fmig_ix_combine(fmig_pctx *c, const fmig_ispec *ix,
			   const int have[FMIG_IX_KEYS], size_t off)
{
	static const int drop_bad[] = {0, 1, 3, 4}, create_bad[] = {0, 1, 2};
	for (size_t i = 0; ix->drop && i < 4; i++)
		if (have[drop_bad[i]])
			return fmig_err_at(c->err, FERRY_EINVAL, &c->src, off,
					   "index '%s': \"drop\" cannot be "
					   "combined with \"%s\"", ix->name,
					   fmig_ix_keys[drop_bad[i]]);
	for (size_t i = 0; ix->create && i < 3; i++)
		if (have[create_bad[i]])
			return fmig_err_at(c->err, FERRY_EINVAL, &c->src, off,
					   "index '%s': \"create\" cannot be "
					   "combined with \"%s\" (a created "
					   "index starts empty)", ix->name,
					   fmig_ix_keys[create_bad[i]]);
	return 0;
}

/* "drop": true / "create": true. */
static int fmig_want_true(fmig_pctx *c, const fmig_mem *m)
{
	if (m->val.type == JSON_TRUE)
		return 0;
	return fmig_err_at(c->err, FERRY_EINVAL, &c->src, m->val.off,
			   "\"%s\" must be true (leave it out otherwise), "
			   "not %s", m->k, fmig_type_name(m->val.type));
}

static int fmig_ix_member(fmig_pctx *c, fmig_ispec *ix, const fmig_mem *m,
			  int k)
{
	ferry_err e;
	int rc;
	switch (k) {
	case 0:
		return fmig_ops_parse(c, ix, &m->val);
	case 1:
		if ((rc = fmig_want_str(c, &m->val, "rename_to",
					&ix->rename_to)))
			return rc;
		if (fname_check_part(ix->rename_to, "index", &e))
			return fmig_err_at(c->err, FERRY_ENAME, &c->src,
					   m->val.off, "rename_to: %s", e.msg);
		if (!strcmp(ix->rename_to, ix->name))
			return fmig_err_at(c->err, FERRY_EINVAL, &c->src,
					   m->val.off, "rename_to is the "
					   "index's own name '%s'", ix->name);
		return 0;
	case 2:
		ix->drop = 1;
		return fmig_want_true(c, m);
	case 3:
		ix->create = 1;
		return fmig_want_true(c, m);
	default:
		if ((rc = fmig_want(c, &m->val, JSON_OBJECT, "mappings")))
			return rc;
		if (!(ix->mappings = fmig_tok_value(&c->src, &m->val)))
			return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
		return 0;
	}
}

static int fmig_ix_parse(fmig_pctx *c, const fmig_mem *im, fmig_ispec *ix)
{
	int have[FMIG_IX_KEYS] = {0}, rc, k;
	size_t pos = im->val.off + 1;
	ferry_err e;
	fmig_mem m;
	memset(ix, 0, sizeof *ix);
	ix->name = im->k;
	if (!(ix->where = fmig_where(&c->src, im->key.off)))
		return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	if (strlen(im->k) != im->klen || fname_check_part(im->k, "index", &e))
		return fmig_err_at(c->err, FERRY_ENAME, &c->src, im->key.off,
				   "%s", strlen(im->k) != im->klen ?
				   "index name has a NUL character" : e.msg);
	if ((rc = fmig_want(c, &im->val, JSON_OBJECT, "an index's spec")))
		return rc;
	while ((rc = fmig_obj_next(&c->src, &pos, &m)) == 1) {
		if ((k = fmig_key_index(&m, fmig_ix_keys, FMIG_IX_KEYS)) < 0)
			return fmig_unknown(c, &m, "index key", fmig_ix_keys,
					    FMIG_IX_KEYS);
		have[k] = 1;
		if ((rc = fmig_ix_member(c, ix, &m, k)))
			return rc;
	}
	if (rc)
		return ferry_err_set(c->err, rc, NULL);
	return fmig_ix_combine(c, ix, have, im->key.off);
}

static int fmig_indices_parse(fmig_pctx *c, const fmig_tok *t)
{
	size_t pos = t->off + 1;
	fmig_mem m;
	int rc = fmig_want(c, t, JSON_OBJECT, "indices");
	if (rc)
		return rc;
	fmig_hop *h = c->hop;
	size_t cap = fmig_count(c, t);
	if (!(h->ix = json_arena_alloc(c->set->a, (cap + 1) * sizeof *h->ix)))
		return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	while ((rc = fmig_obj_next(&c->src, &pos, &m)) == 1)
		if ((rc = fmig_ix_parse(c, &m, &h->ix[h->nix++])))
			return rc;
	return rc ? ferry_err_set(c->err, rc, NULL) : 0;
}

/* ------------------------------------------------------------------ */
/* breaking, deprecations                                              */

static int fmig_breaking_parse(fmig_pctx *c, const fmig_tok *t)
{
	size_t pos = t->off + 1, n = 0;
	fmig_tok e;
	int rc = fmig_want(c, t, JSON_ARRAY, "breaking");
	if (rc)
		return rc;
	const char **v = json_arena_alloc(c->set->a,
					  (fmig_count(c, t) + 1) * sizeof *v);
	if (!v)
		return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	while (fmig_arr_next(&c->src, &pos, &e) == 1)
		if ((rc = fmig_want_str(c, &e, "an entry of breaking",
					&v[n++])))
			return rc;
	c->hop->info.breaking = v;
	c->hop->info.nbreaking = n;
	return 0;
}

static int fmig_depr_parse(fmig_pctx *c, const fmig_tok *t,
			   fmig_deprecation *d)
{
	static const char *const keys[] = {"field", "removed_in", "use"};
	const char **dst[] = {&d->field, &d->removed_in, &d->use};
	size_t pos = t->off + 1;
	fmig_mem m;
	int rc, k;
	fversion v;
	ferry_err e;
	d->field = d->removed_in = NULL;
	d->use = "";
	if ((rc = fmig_want(c, t, JSON_OBJECT, "a deprecation")))
		return rc;
	while ((rc = fmig_obj_next(&c->src, &pos, &m)) == 1) {
		if ((k = fmig_key_index(&m, keys, 3)) < 0)
			return fmig_unknown(c, &m, "deprecation key", keys, 3);
		if ((rc = fmig_want_str(c, &m.val, keys[k], dst[k])))
			return rc;
		if (k == 1 && fversion_parse(d->removed_in, &v, &e))
			return fmig_err_at(c->err, FERRY_EVERSION, &c->src,
					   m.val.off, "removed_in: %s", e.msg);
	}
	if (rc)
		return ferry_err_set(c->err, rc, NULL);
	if (!d->field || !d->removed_in)
		return fmig_err_at(c->err, FERRY_EINVAL, &c->src, t->off,
				   "a deprecation needs \"field\" and "
				   "\"removed_in\" (and may have \"use\")");
	return 0;
}

static int fmig_deprs_parse(fmig_pctx *c, const fmig_tok *t)
{
	size_t pos = t->off + 1, n = 0;
	fmig_tok e;
	int rc = fmig_want(c, t, JSON_ARRAY, "deprecations");
	if (rc)
		return rc;
	fmig_deprecation *v = json_arena_alloc(
		c->set->a, (fmig_count(c, t) + 1) * sizeof *v);
	if (!v)
		return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	while (fmig_arr_next(&c->src, &pos, &e) == 1)
		if ((rc = fmig_depr_parse(c, &e, &v[n++])))
			return rc;
	c->hop->info.deprecations = v;
	c->hop->info.ndeprecations = n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The file                                                            */

static const char *const fmig_top_keys[] = {
	"from", "to", "description", "breaking", "deprecations", "indices"};
#define FMIG_TOP_KEYS (sizeof fmig_top_keys / sizeof *fmig_top_keys)

/* "from" / "to" must repeat the file name. */
static int fmig_version_key(fmig_pctx *c, const fmig_mem *m, int to)
{
	const char *s, *want = to ? c->name_to : c->name_from;
	int rc = fmig_want_str(c, &m->val, m->k, &s);
	if (rc)
		return rc;
	if (strcmp(s, want))
		return fmig_err_at(c->err, FERRY_EVERSION, &c->src, m->val.off,
				   "\"%s\" is \"%s\" but the file name says "
				   "%s", m->k, s, want);
	return 0;
}

static int fmig_top_member(fmig_pctx *c, const fmig_mem *m, int k)
{
	switch (k) {
	case 0:
	case 1:
		return fmig_version_key(c, m, k);
	case 2:
		return fmig_want_str(c, &m->val, "description",
				     &c->hop->info.description);
	case 3:
		return fmig_breaking_parse(c, &m->val);
	case 4:
		return fmig_deprs_parse(c, &m->val);
	default:
		return fmig_indices_parse(c, &m->val);
	}
}

static int fmig_top_parse(fmig_pctx *c)
{
	int have[FMIG_TOP_KEYS] = {0}, rc, k;
	json_error je = {0, NULL};
	fmig_tok root;
	fmig_mem m;
	if ((rc = json_validate(c->src.s, c->src.n, &je)))
		return rc == FERRY_EJSON ?
			fmig_err_at(c->err, rc, &c->src, je.offset,
				    "invalid JSON: %s", je.msg) :
			ferry_err_set(c->err, rc, NULL);
	fmig_tok_at(&c->src, 0, &root);
	if (root.type != JSON_OBJECT)
		return fmig_err_at(c->err, FERRY_EINVAL, &c->src, root.off,
				   "expected an object with \"from\", \"to\" "
				   "and \"indices\", not %s",
				   fmig_type_name(root.type));
	size_t pos = root.off + 1;
	while ((rc = fmig_obj_next(&c->src, &pos, &m)) == 1) {
		if ((k = fmig_key_index(&m, fmig_top_keys, FMIG_TOP_KEYS)) < 0)
			return fmig_unknown(c, &m, "key", fmig_top_keys,
					    FMIG_TOP_KEYS);
		have[k] = 1;
		if ((rc = fmig_top_member(c, &m, k)))
			return rc;
	}
	if (rc)
		return ferry_err_set(c->err, rc, NULL);
	for (k = 0; k < 2; k++)
		if (!have[k])
			return fmig_err_at(c->err, FERRY_EINVAL, &c->src,
					   root.off, "missing required key "
					   "\"%s\"", fmig_top_keys[k]);
	return 0;
}

/* Splits "{from}_to_{to}.json" and checks both versions and their order. */
static int fmig_name_parse(fmig_pctx *c, const char *fname)
{
	size_t len = strlen(fname);
	const char *sep = strstr(fname, "_to_");
	ferry_err e;
	if (len < 5 || strcmp(fname + len - 5, ".json") || !sep)
		return ferry_err_set(c->err, FERRY_EINVAL, "%s: a migration "
				     "file is named {from}_to_{to}.json with "
				     "two data versions, e.g. "
				     "0.7.2_to_0.8.0.json", c->src.path);
	c->name_from = json_arena_alloc(c->set->a, len);
	if (!c->name_from)
		return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	memcpy((char *)c->name_from, fname, len - 5);
	((char *)c->name_from)[len - 5] = 0;
	((char *)c->name_from)[sep - fname] = 0;
	c->name_to = c->name_from + (sep - fname) + 4;
	if (fversion_parse(c->name_from, &c->hop->vfrom, &e) ||
	    fversion_parse(c->name_to, &c->hop->vto, &e))
		return ferry_err_set(c->err, FERRY_EVERSION, "%s: file name: "
				     "%s", c->src.path, e.msg);
	int cmp = fversion_cmp(&c->hop->vfrom, &c->hop->vto);
	if (cmp >= 0)
		return ferry_err_set(c->err, FERRY_EVERSION, "%s: %s; a hop "
				     "goes to a newer data version (use "
				     "rollback to go back)", c->src.path,
				     cmp ? "'to' is older than 'from'" :
				     "'from' and 'to' are the same version");
	c->hop->info.from = c->name_from;
	c->hop->info.to = c->name_to;
	return 0;
}

static int fmig_hop_sums(fmig_pctx *c)
{
	char *sum = json_arena_alloc(c->set->a, FMIG_CHECKSUM_HEX);
	char *lsum = json_arena_alloc(c->set->a, FMIG_CHECKSUM_HEX);
	if (!sum || !lsum || fmig_checksum(c->src.s, c->src.n, sum) ||
	    (c->luasum.len && fmig_checksum(c->luasum.p, c->luasum.len, lsum)))
		return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	if (!c->luasum.len)
		lsum[0] = 0;
	c->hop->info.checksum = sum;
	c->hop->info.lua_checksum = lsum;
	return 0;
}

int fmig_hop_parse(fmig_set *s, const char *fname, const char *text,
		   size_t n, fmig_hop **out, ferry_err *err)
{
	fmig_pctx c;
	int rc = FERRY_ENOMEM;
	memset(&c, 0, sizeof c);
	c.set = s;
	c.err = err;
	c.src.s = text;
	c.src.n = n;
	c.src.a = s->a;
	fbuf_init(&c.luasum, 0);
	if (!(c.hop = json_arena_alloc(s->a, sizeof *c.hop)) ||
	    !(c.src.path = fmig_aprintf(s->a, "%s/%s", s->dir, fname))) {
		ferry_err_set(err, rc, NULL);
		goto out;
	}
	memset(c.hop, 0, sizeof *c.hop);
	c.hop->info.path = c.src.path;
	c.hop->info.description = "";
	if (n > FMIG_FILE_MAX) {
		rc = ferry_err_set(err, FERRY_ELIMIT, "%s: %zu bytes; a "
				   "migration file may have at most %zu",
				   c.src.path, n, FMIG_FILE_MAX);
		goto out;
	}
	if ((rc = fmig_name_parse(&c, fname)) || (rc = fmig_top_parse(&c)) ||
	    (rc = fmig_hop_sums(&c)))
		goto out;
	*out = c.hop;
out:
	fbuf_release(&c.luasum);
	return rc;
}
