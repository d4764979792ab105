/*
 * auth.c - who may call what. Maintenance and destructive routes need the
 * admin key (FERRY_ADMIN_KEY) as "Authorization: Bearer KEY"; without a
 * configured key they are switched off (403) rather than open. The
 * document API is open in single-tenant mode, but a credential that is
 * sent is always checked: a wrong key is a 401 everywhere, never silently
 * ignored. Keys are compared in constant time.
 */
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

/* 1: valid admin key, 0: no credential, -1: a bad one (replied). */
static int read_credential(freq *r)
{
	const char *h = freq_header(r, "Authorization");

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
	freq_error(r, 401, "security_exception",
		   "invalid key in the Authorization header");
	return -1;
}

int fsrv_auth_check(freq *r, enum fsrv_auth need)
{
	int c;

	if (need == FA_OPEN)
		return 0;
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
	if (need == FA_DATA || c == 1)
		return 0;
	freq_error(r, 401, "security_exception",
		   "missing credentials for [%s %s]: this route needs the "
		   "admin key as 'Authorization: Bearer <key>'",
		   r->method_name, r->url);
	return -1;
}
