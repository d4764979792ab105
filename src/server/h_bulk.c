/*
 * h_bulk.c - POST /_bulk and /{index}/_bulk: Elasticsearch's NDJSON bulk
 * format (action line, then a source line for index, create and update), all
 * operations of one request committed in ONE ferry transaction (shared
 * with concurrent requests by commitq.c's group commit), and ES's
 * response: {"took","errors","items":[{"index":{..,"status":201}}]} with a
 * per-item error object for items that failed. A line that is not an
 * action fails the whole request (400, naming the line) before anything is
 * written, as ES does.
 *
 * An update's source line is ES's update request ({"doc":{..},
 * "doc_as_upsert":true,..}); ferry checks it and merges `doc` into the
 * stored document inside the commit's transaction (FERRY_OP_UPDATE).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "server/server.h"

enum { ACT_INDEX, ACT_CREATE, ACT_DELETE, ACT_UPDATE };
static const char *act_names[] = {"index", "create", "delete", "update"};

/* One item of the request, in order. */
typedef struct bitem {
	int act;
	int op;            /* position in the ferry_bulk, -1 if not added */
	int name;          /* slot in the name table */
	size_t id_off;     /* the decoded id in bctx.ids */
	size_t idlen;      /* its length + 1; 0: no id given */
	const char *why;   /* item-level error found while parsing */
} bitem;

/* Distinct index names of the request and what they resolve to. */
typedef struct bname {
	char given[FERRY_NAME_MAX + 1];
	char phys[FERRY_NAME_MAX + 1];
	int found;
	int forbidden;  /* another tenant's index */
} bname;

typedef struct bctx {
	freq *r;
	json_arena *a;
	ferry_bulk *b;
	bitem *items;
	size_t n, cap;
	bname *names;
	size_t nnames, names_cap;
	fbuf ids; /* decoded ids, NUL-separated */
} bctx;

static int name_slot(bctx *c, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < c->nnames; i++)
		if (strlen(c->names[i].given) == len &&
		    !memcmp(c->names[i].given, name, len))
			return (int)i;
	if (c->nnames == c->names_cap) {
		size_t nc = c->names_cap ? c->names_cap * 2 : 4;
		bname *nn = realloc(c->names, nc * sizeof(*nn));

		if (!nn)
			return -1;
		c->names = nn;
		c->names_cap = nc;
	}
	bname *s = &c->names[c->nnames];
	char scoped[FERRY_NAME_MAX + 1];

	snprintf(s->given, sizeof(s->given), "%.*s", (int)len, name);
	/* a tenant key writes only its tenant's indices (tenant.c) */
	s->forbidden = len > FERRY_NAME_MAX ||
		       freq_scope_name(c->r, s->given, scoped, sizeof(scoped));
	s->found = !s->forbidden &&
		   !ferry_alias_resolve(c->r->db, scoped, s->phys, NULL);
	return (int)c->nnames++;
}

static bitem *item_new(bctx *c)
{
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 256;
		bitem *ni = realloc(c->items, nc * sizeof(*ni));

		if (!ni)
			return NULL;
		c->items = ni;
		c->cap = nc;
	}
	memset(&c->items[c->n], 0, sizeof(bitem));
	c->items[c->n].op = -1;
	return &c->items[c->n++];
}

/* Next line [*p, end) -> [line, line+len); returns 0 at the end. */
static int next_line(const char **p, const char *end, const char **line,
		     size_t *len, size_t *lineno)
{
	while (*p < end) {
		const char *nl = memchr(*p, '\n', (size_t)(end - *p));
		const char *e = nl ? nl : end;

		*line = *p;
		*len = (size_t)(e - *p);
		*p = nl ? nl + 1 : end;
		(*lineno)++;
		if (*len && (*line)[*len - 1] == '\r')
			(*len)--;
		if (*len)
			return 1;
	}
	return 0;
}

/* Parses one action line into an item. 0, or replied 400. */
static int parse_action(bctx *c, const char *line, size_t len, size_t lineno,
			bitem *it, const char *dflt_index)
{
	json_value *v, *meta;
	const char *ix, *idv;
	json_error je = {0, NULL};
	int k;

	json_arena_reset(c->a);
	if (json_parse(c->a, line, len, &v, &je) || v->type != JSON_OBJECT ||
	    v->u.obj.n != 1 || v->u.obj.m[0].val->type != JSON_OBJECT) {
		freq_error(c->r, 400, "illegal_argument_exception",
			   "Malformed action/metadata line [%zu], expected an "
			   "object with one key: index, create, delete or update%s%s",
			   lineno, je.msg ? ": " : "", je.msg ? je.msg : "");
		return -1;
	}
	for (k = 0; k < 4; k++)
		if (!strcmp(v->u.obj.m[0].key, act_names[k]))
			break;
	if (k == 4) {
		freq_error(c->r, 400, "illegal_argument_exception",
			   "Malformed action/metadata line [%zu], expected field "
			   "[create], [delete], [index] or [update] but found [%s]",
			   lineno, v->u.obj.m[0].key);
		return -1;
	}
	it->act = k;
	meta = v->u.obj.m[0].val;
	ix = json_str_member(meta, "_index", dflt_index);
	if (!ix) {
		it->why = "index is missing: give \"_index\" or use /{index}/_bulk";
		ix = "";
	}
	if ((it->name = name_slot(c, ix, strlen(ix))) < 0)
		return -1;
	idv = json_str_member(meta, "_id", NULL);
	if (idv) {
		size_t off = c->ids.len;

		if (fbuf_add(&c->ids, idv, strlen(idv) + 1))
			return -1;
		it->id_off = off;
		it->idlen = strlen(idv) + 1;
	}
	return 0;
}

static const char *item_id(const bctx *c, const bitem *it, size_t *len)
{
	if (!it->idlen) {
		*len = 0;
		return NULL;
	}
	*len = it->idlen - 1;
	return c->ids.p + it->id_off;
}

/* Adds the item to the ferry bulk unless it already failed. */
static int add_op(bctx *c, bitem *it, const char *src, size_t srclen)
{
	static const enum ferry_op fop[] = {FERRY_OP_INDEX, FERRY_OP_CREATE,
					    FERRY_OP_DELETE, FERRY_OP_UPDATE};
	const bname *nm = &c->names[it->name];
	const char *id;
	size_t idlen;

	if (it->why || !nm->found)
		return 0;
	id = item_id(c, it, &idlen);
	if ((it->act == ACT_DELETE || it->act == ACT_UPDATE) && !id) {
		it->why = it->act == ACT_DELETE ? "delete needs an \"_id\"" :
			  "update needs an \"_id\": the document to change";
		return 0;
	}
	it->op = (int)ferry_bulk_count(c->b);
	return ferry_bulk_add(c->b, fop[it->act], nm->phys, id, idlen, src,
			      srclen);
}

static int parse_body(bctx *c, const char *dflt_index)
{
	const char *p = c->r->body, *end = p + c->r->body_len, *line;
	size_t len, lineno = 0;
	bitem *it;

	while (next_line(&p, end, &line, &len, &lineno)) {
		if (!(it = item_new(c)) ||
		    parse_action(c, line, len, lineno, it, dflt_index))
			return -1;
		if (it->act == ACT_DELETE) {
			if (add_op(c, it, NULL, 0))
				return -1;
			continue;
		}
		if (!next_line(&p, end, &line, &len, &lineno)) {
			freq_error(c->r, 400, "illegal_argument_exception",
				   "The bulk request must be terminated by a "
				   "newline [\\n]: action on line %zu has no "
				   "source line", lineno);
			return -1;
		}
		if (add_op(c, it, line, len))
			return -1;
	}
	if (!c->n) {
		freq_error(c->r, 400, "action_request_validation_exception",
			   "Validation Failed: 1: no requests added;");
		return -1;
	}
	return 0;
}

static void item_error(fbuf *o, int status, const char *type, const char *why)
{
	fbuf_addf(o, ",\"status\":%d,\"error\":{\"type\":\"%s\",\"reason\":",
		  status, type);
	fbuf_add_jstr(o, why, strlen(why));
	fbuf_adds(o, "}}}");
}

/* One element of "items". Returns 1 if it is an error. */
static int item_json(bctx *c, const bitem *it, fbuf *o)
{
	const bname *nm = &c->names[it->name];
	ferry_write_result w;
	ferry_err e;
	const char *id;
	size_t idlen;
	int rc;

	fbuf_addf(o, "{\"%s\":{\"_index\":", act_names[it->act]);
	fbuf_add_jstr(o, nm->found ? nm->phys : nm->given,
		      strlen(nm->found ? nm->phys : nm->given));
	if (it->op < 0) {
		id = item_id(c, it, &idlen);
		if (id) {
			fbuf_adds(o, ",\"_id\":");
			fbuf_add_jstr(o, id, idlen);
		}
		if (it->why)
			item_error(o, 400, "action_request_validation_exception",
				   it->why);
		else if (nm->forbidden)
			item_error(o, 403, "security_exception",
				   "a tenant key writes only its own tenant's "
				   "indices");
		else
			item_error(o, 404, "index_not_found_exception",
				   "no such index");
		return 1;
	}
	w.id[0] = 0;
	rc = ferry_bulk_result(c->b, (size_t)it->op, &w, &e);
	if (!(id = item_id(c, it, &idlen)) && rc == 0) {
		id = w.id;
		idlen = strlen(w.id);
	}
	if (id) {
		fbuf_adds(o, ",\"_id\":");
		fbuf_add_jstr(o, id, idlen);
	}
	if (rc == 0 || (rc == FERRY_ENOTFOUND && it->act == ACT_DELETE)) {
		const char *res = rc ? "not_found" :
				  it->act == ACT_DELETE ? "deleted" :
				  w.noop ? "noop" : w.created ? "created" : "updated";
		int st = rc ? 404 : (w.created && it->act != ACT_DELETE) ? 201 : 200;

		fbuf_addf(o, ",\"_version\":%llu,\"result\":\"%s\",\"_shards\":{"
			     "\"total\":1,\"successful\":1,\"failed\":0},"
			     "\"_seq_no\":%llu,\"_primary_term\":1,\"status\":%d}}",
			  (unsigned long long)w.seq, res,
			  (unsigned long long)w.seq, st);
		return 0;
	}
	if (rc == FERRY_EEXISTS)
		item_error(o, 409, "version_conflict_engine_exception",
			   "version conflict, document already exists");
	else if (rc == FERRY_ENOTFOUND && it->act == ACT_UPDATE)
		item_error(o, 404, "document_missing_exception", e.msg);
	else if (rc == FERRY_EJSON && it->act == ACT_UPDATE)
		item_error(o, 400, "parse_exception", e.msg);
	else if (rc == FERRY_EJSON)
		item_error(o, 400, "mapper_parsing_exception", e.msg);
	else if (rc == FERRY_EPERM)
		item_error(o, 403, "cluster_block_exception", e.msg);
	else
		item_error(o, 400, "illegal_argument_exception", e.msg);
	return 1;
}

static void reply(bctx *c)
{
	fbuf items = FBUF_INIT;
	size_t i;
	int errors = 0;

	fbuf_init(&items, 0);
	fbuf_grow(&items, c->n * 200);
	for (i = 0; i < c->n; i++) {
		if (i)
			fbuf_addc(&items, ',');
		errors |= item_json(c, &c->items[i], &items);
	}
	fbuf_clear(&c->r->out);
	fbuf_grow(&c->r->out, items.len + 64);
	fbuf_addf(&c->r->out, "{\"took\":%lld,\"errors\":%s,\"items\":[",
		  (long long)(fsrv_mono_us() - c->r->start_us) / 1000,
		  errors ? "true" : "false");
	fbuf_add(&c->r->out, items.p, items.len);
	fbuf_adds(&c->r->out, "]}");
	fbuf_release(&items);
}

void h_bulk(freq *r)
{
	bctx c;
	ferry_err err;
	int rc;

	memset(&c, 0, sizeof(c));
	c.r = r;
	fbuf_init(&c.ids, 0);
	if (!(c.a = json_arena_new()) || ferry_bulk_new(r->db, &c.b)) {
		freq_error(r, 503, "out_of_memory_exception", "out of memory");
		goto out;
	}
	if (parse_body(&c, r->nseg == 2 ? r->seg[0] : NULL)) {
		if (r->status == 200)
			freq_error(r, 503, "out_of_memory_exception",
				   "out of memory reading the bulk request");
		goto out;
	}
	if (ferry_bulk_count(c.b) && (rc = fsrv_bulk_commit(r->srv, c.b, &err))) {
		freq_ferr(r, rc, &err);
		goto out;
	}
	reply(&c);
out:
	ferry_bulk_free(c.b);
	json_arena_free(c.a);
	free(c.items);
	free(c.names);
	fbuf_release(&c.ids);
}
