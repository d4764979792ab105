/*
 * tenant.c - keeps a request inside its tenant. auth.c sets r->tenant
 * from the request's tenant key (or the Host name's first label, when the
 * key serves several tenants); every handler passes the index names it
 * got from the path or body through here before using them:
 *
 *   "profile"               -> "{T}.profile"   (a logical name is the
 *                                               tenant's own alias)
 *   "{T}.profile"           -> itself; another tenant's alias -> 403
 *   "v0_8_1.{T}.profile"    -> itself; another tenant's index -> 403
 *   "_all", "*", ""         -> "{T}.*" (searches and listings)
 *
 * Patterns follow the same rule: the tenant part must be the request's
 * tenant literally, so "*.profile" or "v*.*.profile" are refused rather
 * than widened. With no tenant (the admin key, or a single-tenant server
 * without keys) names pass unchanged. This file is the one place that
 * decides; a name that did not go through it never reaches ferry.
 */
#include <stdio.h>
#include <string.h>

#include "server/server.h"

/* The tenant part of a name: 0 dots -> none (logical), 1 -> first part
 * (alias), 2 -> middle part (physical). Returns the dot count. */
static int tenant_part(const char *name, const char **t, size_t *tl)
{
	const char *d1 = strchr(name, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;

	if (!d1)
		return 0;
	if (!d2) {
		*t = name;
		*tl = (size_t)(d1 - name);
		return 1;
	}
	if (strchr(d2 + 1, '.'))
		return 3;
	*t = d1 + 1;
	*tl = (size_t)(d2 - d1 - 1);
	return 2;
}

int freq_tenant_owns(const freq *r, const char *name)
{
	const char *t;
	size_t tl;
	int dots;

	if (!r->tenant[0])
		return 1;
	dots = tenant_part(name, &t, &tl);
	return (dots == 1 || dots == 2) && tl == strlen(r->tenant) &&
	       !memcmp(t, r->tenant, tl);
}

int freq_scope_name(const freq *r, const char *name, char *out, size_t n)
{
	if (!r->tenant[0] || (!strchr(name, '.') && strcmp(name, "_all"))) {
		if ((size_t)snprintf(out, n, r->tenant[0] ? "%s.%s" : "%s%s",
				     r->tenant, name) >= n)
			return -1;
		return 0;
	}
	if (!strcmp(name, "_all")) {
		snprintf(out, n, "%s.*", r->tenant);
		return 0;
	}
	if (!freq_tenant_owns(r, name))
		return -1;
	return (size_t)snprintf(out, n, "%s", name) >= n ? -1 : 0;
}

static void refuse(freq *r, const char *name)
{
	freq_error(r, 403, "security_exception",
		   "action on [%s] is unauthorized for tenant [%s]: a tenant key "
		   "reaches only its own indices (\"%s.*\")", name, r->tenant,
		   r->tenant);
}

int freq_index_name(freq *r, const char *name, char out[FERRY_NAME_MAX + 1])
{
	if (strpbrk(name, "*?,")) {
		freq_error(r, 400, "illegal_argument_exception",
			   "[%s]: a single index name is needed here, not a "
			   "pattern or list", name);
		return -1;
	}
	if (freq_scope_name(r, name, out, FERRY_NAME_MAX + 1)) {
		refuse(r, name);
		return -1;
	}
	return 0;
}

int freq_index_expr(freq *r, const char *expr, fbuf *out)
{
	char item[FERRY_NAME_MAX + 2], scoped[FERRY_NAME_MAX + 2];
	const char *p = expr ? expr : "";
	size_t len;

	fbuf_clear(out);
	if (!r->tenant[0])
		return fbuf_adds(out, p) ? -1 : 0;
	if (!*p || !strcmp(p, "*"))
		p = "_all";
	while (*p) {
		int neg = *p == '-';

		len = strcspn(p, ",");
		if (len - (size_t)neg >= sizeof(item)) {
			refuse(r, p);
			return -1;
		}
		memcpy(item, p + neg, len - (size_t)neg);
		item[len - (size_t)neg] = 0;
		if (freq_scope_name(r, !strcmp(item, "*") ? "_all" : item, scoped,
			      sizeof(scoped))) {
			refuse(r, item);
			return -1;
		}
		fbuf_addf(out, "%s%s%s", out->len ? "," : "", neg ? "-" : "",
			  scoped);
		p += len + (p[len] == ',');
	}
	return 0;
}
