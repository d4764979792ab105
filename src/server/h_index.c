/*
 * h_index.c - index-level routes in Elasticsearch's shapes: GET|HEAD|PUT
 * |DELETE /{index}, GET /{index}/_mapping and /_mapping, /_refresh (a
 * no-op: ferry's writes are visible when acknowledged), GET /_cat/indices
 * (text or ?format=json), GET /_cluster/health, and the alias routes
 * POST /_aliases (all actions in one atomic call) and GET /_aliases.
 * Names may be aliases or physical names everywhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "server/server.h"

static void add_str_member(fbuf *o, const char *k, const char *v, int comma)
{
	if (comma)
		fbuf_addc(o, ',');
	fbuf_add_jstr(o, k, strlen(k));
	fbuf_addc(o, ':');
	fbuf_add_jstr(o, v, strlen(v));
}

/* Drops the indices of other tenants from a list; returns the new count. */
static size_t keep_own(const freq *r, ferry_index_info *l, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (freq_tenant_owns(r, l[i].name))
			l[k++] = l[i];
	return k;
}

/* Member `key` of the index's stored create body, as JSON ({} if none). */
static void body_member(const json_value *v, const char *key, fbuf *o)
{
	const json_value *m = v ? json_get(v, key, strlen(key)) : NULL;
	if (!m || json_write(m, o))
		fbuf_adds(o, "{}");
}

/* The parsed create body of physical index `name` (NULL if it has none)
 * in arena *a (made here; the caller frees it and *text). */
static json_value *index_body(freq *r, const char *name, json_arena **a,
			      char **text)
{
	json_value *v = NULL;
	size_t len = 0;
	*a = NULL;
	*text = NULL;
	if (ferry_index_body(r->db, name, text, &len, NULL) == 0 && len &&
	    (*a = json_arena_new()) && json_parse(*a, *text, len, &v, NULL))
		v = NULL;
	return v;
}

void h_index_get(freq *r)
{
	ferry_index_info info;
	ferry_err err;
	json_arena *a;
	json_value *v;
	char *body, name[FERRY_NAME_MAX + 1];
	int rc;

	if (freq_index_name(r, r->seg[0], name))
		return;
	if ((rc = ferry_index_get(r->db, name, &info, &err))) {
		freq_ferr_index(r, rc, &err, name);
		return;
	}
	if (r->method == FM_HEAD)
		return;
	v = index_body(r, info.name, &a, &body);
	fbuf_addc(&r->out, '{');
	fbuf_add_jstr(&r->out, info.name, strlen(info.name));
	fbuf_adds(&r->out, ":{\"aliases\":{");
	if (info.alias[0]) {
		fbuf_add_jstr(&r->out, info.alias, strlen(info.alias));
		fbuf_adds(&r->out, ":{}");
	}
	fbuf_adds(&r->out, "},\"mappings\":");
	body_member(v, "mappings", &r->out);
	fbuf_adds(&r->out, ",\"settings\":");
	body_member(v, "settings", &r->out);
	fbuf_addf(&r->out, ",\"ferry\":{\"data_version\":\"%s\",\"tenant\":\"%s\","
			   "\"index\":\"%s\",\"docs\":%llu,\"seq\":%llu}}}",
		  info.data_version, info.tenant, info.index,
		  (unsigned long long)info.docs, (unsigned long long)info.seq);
	json_arena_free(a);
	ferry_free(body);
}

/* GET /{index}/_mapping, GET /_mapping: {physical:{"mappings":{..}}} for
 * the index (or every index the request may see), as created. */
void h_index_mapping(freq *r)
{
	ferry_index_info *l = NULL, one, *list = &one;
	ferry_err err;
	size_t n = 1;
	char name[FERRY_NAME_MAX + 1];
	int rc;

	if (r->nseg == 2) {
		if (freq_index_name(r, r->seg[0], name))
			return;
		if ((rc = ferry_index_get(r->db, name, &one, &err))) {
			freq_ferr_index(r, rc, &err, name);
			return;
		}
	} else if ((rc = ferry_index_list(r->db, NULL, &l, &n, &err))) {
		freq_ferr(r, rc, &err);
		return;
	} else {
		list = l;
		n = keep_own(r, l, n);
	}
	fbuf_addc(&r->out, '{');
	for (size_t i = 0; i < n; i++) {
		json_arena *a;
		char *body;
		json_value *v = index_body(r, list[i].name, &a, &body);
		if (i)
			fbuf_addc(&r->out, ',');
		fbuf_add_jstr(&r->out, list[i].name, strlen(list[i].name));
		fbuf_adds(&r->out, ":{\"mappings\":");
		body_member(v, "mappings", &r->out);
		fbuf_addc(&r->out, '}');
		json_arena_free(a);
		ferry_free(body);
	}
	fbuf_addc(&r->out, '}');
	ferry_free(l);
}

/* GET /_cluster/health: Elasticsearch's shape for clients that wait for
 * a usable cluster at start. ferry is one node with one shard an index
 * and no replicas, so it is green whenever it answers. */
void h_cluster_health(freq *r)
{
	ferry_index_info *l = NULL;
	ferry_err err;
	size_t n = 0;
	int rc = ferry_index_list(r->db, NULL, &l, &n, &err);
	if (rc) {
		freq_ferr(r, rc, &err);
		return;
	}
	n = keep_own(r, l, n);
	ferry_free(l);
	fbuf_addf(&r->out, "{\"cluster_name\":\"ferry\",\"status\":\"green\","
		  "\"timed_out\":false,\"number_of_nodes\":1,"
		  "\"number_of_data_nodes\":1,\"active_primary_shards\":%zu,"
		  "\"active_shards\":%zu,\"relocating_shards\":0,"
		  "\"initializing_shards\":0,\"unassigned_shards\":0,"
		  "\"delayed_unassigned_shards\":0,\"number_of_pending_tasks\":0,"
		  "\"number_of_in_flight_fetch\":0,"
		  "\"task_max_waiting_in_queue_millis\":0,"
		  "\"active_shards_percent_as_number\":100.0}", n, n);
}

void h_index_put(freq *r)
{
	ferry_index_info info;
	ferry_err err;
	char name[FERRY_NAME_MAX + 1];
	int rc;

	if (freq_index_name(r, r->seg[0], name))
		return;
	rc = ferry_index_create(r->db, name, r->body_len ? r->body : NULL,
				r->body_len, &err);
	if (rc == FERRY_EEXISTS) {
		freq_error(r, 400, "resource_already_exists_exception",
			   "index [%s] already exists", name);
		return;
	}
	if (rc == FERRY_ELIMIT) { /* ES's answer to a shard limit, as for
				   * POST /tenants */
		freq_error(r, 400, "validation_exception", "%s", err.msg);
		return;
	}
	if (rc) {
		freq_ferr(r, rc, &err);
		return;
	}
	if (ferry_index_get(r->db, name, &info, NULL))
		snprintf(info.name, sizeof(info.name), "%s", name);
	fbuf_adds(&r->out, "{\"acknowledged\":true,\"shards_acknowledged\":true");
	add_str_member(&r->out, "index", info.name, 1);
	fbuf_addc(&r->out, '}');
}

void h_index_delete(freq *r)
{
	ferry_err err;
	int rc = ferry_index_delete(r->db, r->seg[0], freq_flag(r, "force", 0),
				    &err);

	if (rc == FERRY_EPERM) {
		freq_error(r, 403, "illegal_argument_exception",
			   "%s; add ?force=true to delete it anyway", err.msg);
		return;
	}
	if (rc) {
		freq_ferr_index(r, rc, &err, r->seg[0]);
		return;
	}
	freq_ack(r);
}

void h_index_refresh(freq *r)
{
	ferry_index_info info;
	ferry_err err;
	char name[FERRY_NAME_MAX + 1];
	int rc;

	if (r->nseg == 2 && freq_index_name(r, r->seg[0], name))
		return;
	if (r->nseg == 2 && (rc = ferry_index_get(r->db, name, &info, &err))) {
		freq_ferr_index(r, rc, &err, name);
		return;
	}
	fbuf_adds(&r->out, "{\"_shards\":{\"total\":1,\"successful\":1,\"failed\":0}}");
}

static void cat_json(fbuf *o, const ferry_index_info *l, size_t n)
{
	size_t i;

	fbuf_addc(o, '[');
	for (i = 0; i < n; i++) {
		fbuf_adds(o, i ? ",{" : "{");
		fbuf_adds(o, "\"health\":\"green\",\"status\":\"open\"");
		add_str_member(o, "index", l[i].name, 1);
		add_str_member(o, "alias", l[i].alias, 1);
		fbuf_addf(o, ",\"pri\":\"1\",\"rep\":\"0\",\"docs.count\":\"%llu\","
			     "\"docs.deleted\":\"0\",\"store.size\":\"%llu\","
			     "\"pri.store.size\":\"%llu\",\"data_version\":\"%s\"}",
			  (unsigned long long)l[i].docs,
			  (unsigned long long)l[i].bytes,
			  (unsigned long long)l[i].bytes, l[i].data_version);
	}
	fbuf_addc(o, ']');
}

static void cat_text(fbuf *o, const ferry_index_info *l, size_t n, int head)
{
	size_t i;

	if (head)
		fbuf_addf(o, "%-6s %-6s %-40s %-24s %10s %12s\n", "health",
			  "status", "index", "alias", "docs.count", "store.size");
	for (i = 0; i < n; i++)
		fbuf_addf(o, "%-6s %-6s %-40s %-24s %10llu %12llu\n", "green",
			  "open", l[i].name, l[i].alias[0] ? l[i].alias : "-",
			  (unsigned long long)l[i].docs,
			  (unsigned long long)l[i].bytes);
}

void h_cat_indices(freq *r)
{
	const char *fmt = freq_arg(r, "format");
	ferry_index_info *l = NULL;
	size_t n = 0;
	ferry_err err;
	int rc;

	char pat[FERRY_NAME_MAX + 2];
	const char *p = r->nseg > 2 ? r->seg[2] : NULL;

	/* a bare name or pattern means the tenant's aliases ("profile" ->
	 * "default.profile"); a tenant key lists only its own (tenant.c) */
	if (p && !r->tenant[0] && !strchr(p, '.') && strcmp(p, "*") &&
	    strcmp(p, "_all")) {
		snprintf(pat, sizeof(pat), "default.%s", p);
		p = pat;
	}
	if (p && r->tenant[0] && freq_scope_name(r, p, pat, sizeof(pat))) {
		freq_error(r, 403, "security_exception",
			   "[%s] is outside tenant [%s]", p, r->tenant);
		return;
	}
	rc = ferry_index_list(r->db, p && r->tenant[0] ? pat : p, &l, &n, &err);
	if (rc) {
		freq_ferr(r, rc, &err);
		return;
	}
	n = keep_own(r, l, n);
	if (fmt && !strcmp(fmt, "json")) {
		cat_json(&r->out, l, n);
	} else if (fmt) {
		freq_error(r, 400, "illegal_argument_exception",
			   "format [%s] is not supported: use format=json or "
			   "leave it out for text", fmt);
	} else {
		cat_text(&r->out, l, n, freq_flag(r, "v", 0));
		r->ctype = "text/plain; charset=UTF-8";
	}
	ferry_free(l);
}

/* One {"add":{...}} or {"remove":{...}} action into ops[*n]. */
static int alias_action(freq *r, const json_value *act, ferry_alias_op *op)
{
	const json_member *m;
	const char *ix, *al;

	if (act->type != JSON_OBJECT || act->u.obj.n != 1) {
		freq_error(r, 400, "x_content_parse_exception",
			   "each action must be an object with one key: add or "
			   "remove");
		return -1;
	}
	m = &act->u.obj.m[0];
	if (!strcmp(m->key, "add"))
		op->action = FERRY_ALIAS_ADD;
	else if (!strcmp(m->key, "remove"))
		op->action = FERRY_ALIAS_REMOVE;
	else {
		freq_error(r, 400, "x_content_parse_exception",
			   "unknown alias action [%s]: ferry supports add and "
			   "remove", m->key);
		return -1;
	}
	ix = json_str_member(m->val, "index", NULL);
	al = json_str_member(m->val, "alias", NULL);
	if (!ix || !al) {
		freq_error(r, 400, "action_request_validation_exception",
			   "Validation Failed: 1: [%s] needs string members "
			   "\"index\" and \"alias\";", m->key);
		return -1;
	}
	op->index = ix;
	op->alias = al;
	return 0;
}

void h_aliases_post(freq *r)
{
	json_arena *a = json_arena_new();
	json_value *body, *acts;
	ferry_alias_op *ops = NULL;
	ferry_err err;
	size_t i;
	int rc;

	if (!a || freq_body_object(r, a, 1, &body))
		goto out;
	acts = json_get(body, "actions", 7);
	if (!acts || acts->type != JSON_ARRAY || !acts->u.arr.n) {
		freq_error(r, 400, "action_request_validation_exception",
			   "Validation Failed: 1: no actions: send "
			   "{\"actions\":[{\"add\":{\"index\":..,\"alias\":..}}]};");
		goto out;
	}
	if (!(ops = calloc(acts->u.arr.n, sizeof(*ops))))
		goto out;
	for (i = 0; i < acts->u.arr.n; i++)
		if (alias_action(r, acts->u.arr.v[i], &ops[i]))
			goto out;
	if ((rc = ferry_alias_update(r->db, ops, acts->u.arr.n, &err)))
		freq_ferr(r, rc, &err);
	else
		freq_ack(r);
out:
	free(ops);
	json_arena_free(a);
}

void h_aliases_get(freq *r)
{
	ferry_index_info *l = NULL;
	size_t n = 0, i;
	ferry_err err;
	int rc = ferry_index_list(r->db, NULL, &l, &n, &err);

	if (rc) {
		freq_ferr(r, rc, &err);
		return;
	}
	n = keep_own(r, l, n);
	fbuf_addc(&r->out, '{');
	for (i = 0; i < n; i++) {
		if (i)
			fbuf_addc(&r->out, ',');
		fbuf_add_jstr(&r->out, l[i].name, strlen(l[i].name));
		fbuf_adds(&r->out, ":{\"aliases\":{");
		if (l[i].alias[0]) {
			fbuf_add_jstr(&r->out, l[i].alias, strlen(l[i].alias));
			fbuf_adds(&r->out, ":{}");
		}
		fbuf_adds(&r->out, "}}");
	}
	fbuf_addc(&r->out, '}');
	ferry_free(l);
}
