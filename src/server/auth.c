/*
 * auth.c - who may call what, and for which tenant. Maintenance and
 * destructive routes need the admin key (FERRY_ADMIN_KEY) as
 * "Authorization: Bearer KEY"; without a configured key they are switched
 * off (403) rather than open. The document API takes the admin key (all
 * tenants) or a tenant key (ferry_tenant_key_lookup: only that tenant's
 * indices, see tenant.c). A key scoped to several tenants picks one with
 * the Host name's first label (acme.example.com -> acme). Without a key
 * the document API is open on a single-tenant server and refused (401)
 * with MULTI_TENANT=yes. A credential that is sent is always checked: a
 * wrong key is a 401 everywhere, never silently ignored. The admin key is
 * compared in constant time; tenant keys are looked up by their SHA-256.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/server.h"

int fsrv_key_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	/* walk the expected key's length whatever the given one is */
	for (i = 0; i < lb; i++)
		d |= (unsigned char)(b[i] ^ (i < la ? a[i] : 0));
	return d == 0;
}

/* The Host header's first label ("acme" of "acme.example.com:9200"). */
static void host_label(freq *r, char out[FERRY_PART_MAX + 1])
{
	const char *h = freq_header(r, "Host");
	size_t n = h ? strcspn(h, ".:") : 0;

	out[0] = 0;
	if (n && n <= FERRY_PART_MAX && h[n] == '.') {
		memcpy(out, h, n);
		out[n] = 0;
	}
}

/* Sets r->tenant from a tenant key's scope. 0, or replied 403. */
static int pick_tenant(freq *r, char **scope)
{
	char label[FERRY_PART_MAX + 1];
	size_t i, n = 0;
	int any = 0;

	for (i = 0; scope[i]; i++, n++)
		any |= !strcmp(scope[i], "*");
	if (n == 1 && !any) {
		snprintf(r->tenant, sizeof(r->tenant), "%s", scope[0]);
		return 0;
	}
	host_label(r, label);
	for (i = 0; label[0] && scope[i]; i++)
		if (any || !strcmp(scope[i], label)) {
			snprintf(r->tenant, sizeof(r->tenant), "%s", label);
			return 0;
		}
	freq_error(r, 403, "security_exception",
		   label[0] ? "this key is not allowed for tenant [%s] (from the "
			      "Host name)" :
			      "this key serves several tenants%s: name one as the "
			      "first label of the Host name (acme.example.com)",
		   label);
	return -1;
}

/* 1: admin key, 2: tenant key, 0: no credential, -1: a bad one (replied). */
static int read_credential(freq *r)
{
	const char *h = freq_header(r, "Authorization");
	char **scope = NULL;
	int rc;

	if (!h)
		return 0;
	if (strncasecmp(h, "Bearer ", 7) || !h[7]) {
		freq_error(r, 401, "security_exception",
			   "unsupported Authorization header: send "
			   "'Authorization: Bearer <key>'");
		return -1;
	}
	if (r->srv->admin_key && fsrv_key_equal(h + 7, r->srv->admin_key)) {
		r->admin = 1;
		return 1;
	}
	rc = ferry_tenant_key_lookup(r->db, h + 7, &scope, NULL);
	if (rc == 0) {
		rc = pick_tenant(r, scope);
		ferry_strv_free(scope);
		return rc ? -1 : 2;
	}
	freq_error(r, 401, "security_exception",
		   "invalid key in the Authorization header");
	return -1;
}

int fsrv_auth_check(freq *r, enum fsrv_auth need)
{
	int c;

	if (need == FA_ADMIN && !r->srv->admin_key) {
		freq_error(r, 403, "security_exception",
			   "maintenance routes are disabled: start ferryd "
			   "with FERRY_ADMIN_KEY set and send it as "
			   "'Authorization: Bearer <key>'");
		return -1;
	}
	c = read_credential(r);
	if (c < 0)
		return -1;
	if (need == FA_OPEN || c == 1)
		return 0;
	if (need == FA_ADMIN && c == 2) {
		freq_error(r, 403, "security_exception",
			   "[%s %s] needs the admin key; a tenant key reaches "
			   "only its tenant's documents", r->method_name, r->url);
		return -1;
	}
	if (need == FA_DATA && (c == 2 || !r->srv->multi_tenant))
		return 0;
	freq_error(r, 401, "security_exception",
		   "missing credentials for [%s %s]: send %s as "
		   "'Authorization: Bearer <key>'", r->method_name, r->url,
		   need == FA_ADMIN ? "the admin key" : "a tenant key");
	return -1;
}
