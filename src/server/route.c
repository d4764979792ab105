/*
 * route.c - ferryd's route table and how a request path finds its route.
 *
 * Patterns are matched segment by segment: a literal must be equal, "{}"
 * matches any one segment that does not start with '_' (Elasticsearch
 * reserves those for APIs, and no index, id-less route or version starts
 * with one; document ids may, so id positions use "{*}", which matches
 * anything non-empty). The first route whose pattern and method match
 * wins, so specific routes come before general ones. The table is the
 * one place that says which routes exist and who may call them. A path
 * that a literal pattern names is never taken by a placeholder route
 * under another method: GET /migration/rollback is a 405, not a plan
 * "from rollback".
 */
#include <string.h>

#include "server/server.h"

#define R(m, p, a, f) {m, p, a, f}
#define GH (FM_GET | FM_HEAD)
#define PP (FM_PUT | FM_POST)
#define GP (FM_GET | FM_POST)

static const fsrv_route routes[] = {
	R(GH, "/", FA_OPEN, h_root),
	R(GH, "/ui", FA_OPEN, h_root),
	R(GH, "/ui/{}", FA_OPEN, h_web_asset),

	/* maintenance */
	R(GH, "/info/version", FA_ADMIN, h_info_version),
	R(GH, "/migrations", FA_ADMIN, h_migrations),
	R(GH, "/migration/status", FA_ADMIN, h_migration_status),
	R(FM_POST, "/migration/rollback", FA_ADMIN, h_migration_rollback),
	R(GH, "/migration/{}", FA_ADMIN, h_migration_from),
	R(FM_POST, "/migration", FA_ADMIN, h_migration_start),
	R(GH, "/indices", FA_ADMIN, h_indices),
	R(FM_DELETE, "/indices/version/{}", FA_ADMIN, h_indices_version_delete),
	R(GH, "/tenants", FA_ADMIN, h_tenants_get),
	R(FM_POST, "/tenants", FA_ADMIN, h_tenants_post),
	R(FM_DELETE, "/tenants/{}", FA_ADMIN, h_tenants_delete),

	/* snapshots and lifecycle policies, Elasticsearch-style */
	R(GH, "/_snapshot", FA_ADMIN, h_snap_repo_get),
	R(GH, "/_snapshot/_all", FA_ADMIN, h_snap_repo_get),
	R(GH, "/_snapshot/{}", FA_ADMIN, h_snap_repo_get),
	R(PP, "/_snapshot/{}", FA_ADMIN, h_snap_repo_put),
	R(FM_DELETE, "/_snapshot/{}", FA_ADMIN, h_snap_repo_delete),
	R(FM_POST, "/_snapshot/{}/_verify", FA_ADMIN, h_snap_verify),
	R(GH, "/_snapshot/{}/_all", FA_ADMIN, h_snap_get),
	R(GH, "/_snapshot/{}/{*}", FA_ADMIN, h_snap_get),
	R(PP, "/_snapshot/{}/{}", FA_ADMIN, h_snap_put),
	R(FM_DELETE, "/_snapshot/{}/{}", FA_ADMIN, h_snap_delete),
	R(FM_POST, "/_snapshot/{}/{}/_restore", FA_ADMIN, h_snap_restore),
	R(FM_POST, "/_snapshot/{}/{}/_verify", FA_ADMIN, h_snap_verify),
	R(GH, "/_slm/status", FA_ADMIN, h_slm_status),
	R(GH, "/_slm/policy", FA_ADMIN, h_slm_get),
	R(GH, "/_slm/policy/{}", FA_ADMIN, h_slm_get),
	R(FM_PUT, "/_slm/policy/{}", FA_ADMIN, h_slm_put),
	R(FM_DELETE, "/_slm/policy/{}", FA_ADMIN, h_slm_delete),
	R(FM_POST, "/_slm/policy/{}/_execute", FA_ADMIN, h_slm_execute),
	R(FM_POST, "/_slm/_execute_retention", FA_ADMIN, h_slm_execute_retention),

	/* document API */
	R(PP, "/_bulk", FA_DATA, h_bulk),
	R(FM_POST, "/_aliases", FA_ADMIN, h_aliases_post),
	R(GH, "/_aliases", FA_DATA, h_aliases_get),
	R(GH, "/_alias", FA_DATA, h_aliases_get),
	R(GH, "/_cat/indices", FA_DATA, h_cat_indices),
	R(GH, "/_cat/indices/{}", FA_DATA, h_cat_indices),
	R(GP, "/_search", FA_DATA, h_search),
	R(GP, "/_count", FA_DATA, h_count),
	R(GP, "/_all/_search", FA_DATA, h_search),
	R(GP, "/_all/_count", FA_DATA, h_count),
	R(GP, "/_refresh", FA_DATA, h_index_refresh),
	R(GP, "/_mget", FA_DATA, h_mget),
	R(GH, "/_mapping", FA_DATA, h_index_mapping),
	R(GH, "/_cluster/health", FA_DATA, h_cluster_health),

	R(GH, "/{}", FA_DATA, h_index_get),
	R(FM_PUT, "/{}", FA_DATA, h_index_put),
	R(FM_DELETE, "/{}", FA_ADMIN, h_index_delete),
	R(GP, "/{}/_refresh", FA_DATA, h_index_refresh),
	R(GP, "/{}/_search", FA_DATA, h_search),
	R(GP, "/{}/_count", FA_DATA, h_count),
	R(FM_POST, "/{}/_delete_by_query", FA_DATA, h_delete_by_query),
	R(PP, "/{}/_bulk", FA_DATA, h_bulk),
	R(GP, "/{}/_mget", FA_DATA, h_mget),
	R(GH, "/{}/_mapping", FA_DATA, h_index_mapping),
	R(FM_POST, "/{}/_doc", FA_DATA, h_doc_post),
	R(GH, "/{}/_doc/{*}", FA_DATA, h_doc_get),
	R(PP, "/{}/_doc/{*}", FA_DATA, h_doc_put),
	R(FM_DELETE, "/{}/_doc/{*}", FA_DATA, h_doc_delete),
	R(PP, "/{}/_create/{*}", FA_DATA, h_doc_put),
	R(FM_POST, "/{}/_update/{*}", FA_DATA, h_doc_update),
	R(GH, "/{}/_source/{*}", FA_DATA, h_doc_get),
};

/* 1 if the pattern matches the segments. */
static int pattern_match(const char *p, char *const *seg, size_t nseg)
{
	size_t i = 0;

	if (!strcmp(p, "/"))
		return nseg == 0;
	while (*p == '/') {
		const char *end = strchr(p + 1, '/');
		size_t n = end ? (size_t)(end - p - 1) : strlen(p + 1);
		const char *lit = p + 1;

		if (i >= nseg)
			return 0;
		if (n == 2 && !memcmp(lit, "{}", 2)) {
			if (!seg[i][0] || seg[i][0] == '_')
				return 0;
		} else if (n == 3 && !memcmp(lit, "{*}", 3)) {
			if (!seg[i][0])
				return 0;
		} else if (strlen(seg[i]) != n || memcmp(seg[i], lit, n)) {
			return 0;
		}
		i++;
		p = end ? end : p + 1 + n;
	}
	return i == nseg;
}

const fsrv_route *fsrv_route_find(int method, char *const *seg, size_t nseg,
				  int *allowed)
{
	size_t i;

	*allowed = 0;
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!pattern_match(routes[i].pattern, seg, nseg))
			continue;
		if (routes[i].methods & method)
			return &routes[i];
		*allowed |= routes[i].methods;
		/* a literal path ("/migration/rollback") is never captured by
		 * a later placeholder route ("/migration/{}"): 405 instead */
		if (!strchr(routes[i].pattern, '{')) {
			size_t j;

			for (j = i + 1; j < sizeof(routes) / sizeof(routes[0]); j++)
				if (!strchr(routes[j].pattern, '{') &&
				    pattern_match(routes[j].pattern, seg, nseg))
					*allowed |= routes[j].methods;
			for (j = i + 1; j < sizeof(routes) / sizeof(routes[0]); j++)
				if (!strchr(routes[j].pattern, '{') &&
				    (routes[j].methods & method) &&
				    pattern_match(routes[j].pattern, seg, nseg))
					return &routes[j];
			return NULL;
		}
	}
	return NULL;
}
