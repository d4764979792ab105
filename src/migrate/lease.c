/*
 * lease.c - the upgrade lease: one process at a time runs an upgrade.
 * The record names its owner (token, host, pid) and an expiry that the
 * owner pushes forward with every batch it commits. A lease past its
 * expiry, or held by a process on this host that no longer exists, is
 * free to take: a dead owner never leaves a lock that needs a manual edit.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/catalog.h"
#include "core/err.h"
#include "json/json.h"
#include "migrate/upgrade.h"

#define LEASE_KEY "lease/upgrade"

typedef struct lease {
	char owner[128], host[128];
	long pid;
	int64_t expires_ms;
} lease;

static int lease_read(fstore_txn *t, lease *l)
{
	const char *v;
	size_t n;
	json_error je;
	json_value *root, *x;
	int rc = t->store->ops->kv_get(t, LEASE_KEY, &v, &n);
	if (rc)
		return rc;
	json_arena *a = json_arena_new();
	if (!a)
		return FERRY_ENOMEM;
	memset(l, 0, sizeof *l);
	if (json_parse(a, v, n, &root, &je) || root->type != JSON_OBJECT) {
		json_arena_free(a);
		return FERRY_ECORRUPT;
	}
	if ((x = json_get(root, "owner", 5)) && x->type == JSON_STRING)
		snprintf(l->owner, sizeof l->owner, "%.*s", (int)x->u.str.len,
			 x->u.str.s);
	if ((x = json_get(root, "host", 4)) && x->type == JSON_STRING)
		snprintf(l->host, sizeof l->host, "%.*s", (int)x->u.str.len,
			 x->u.str.s);
	int64_t i = 0;
	if ((x = json_get(root, "pid", 3)) && !json_number_int64(x, &i))
		l->pid = (long)i;
	if ((x = json_get(root, "expires_ms", 10)) && !json_number_int64(x, &i))
		l->expires_ms = i;
	json_arena_free(a);
	return 0;
}

static int owner_dead(const lease *l)
{
	char host[128] = "";
	gethostname(host, sizeof host - 1);
	if (strcmp(host, l->host) || l->pid <= 0)
		return 0; /* another machine: only the expiry tells */
	return kill((pid_t)l->pid, 0) != 0 && errno == ESRCH;
}

int ulease_take(fstore_txn *t, const char *token, ferry_err *err)
{
	lease cur;
	int64_t now = fcat_now_ms();
	int rc = lease_read(t, &cur);
	if (rc == 0 && strcmp(cur.owner, token) && cur.expires_ms > now &&
	    !owner_dead(&cur))
		return ferry_err_set(err, FERRY_EBUSY, "another upgrade runner "
			"holds the lease: pid %ld on %s, for %lld more seconds; "
			"wait for it, or let it expire and run `ferry upgrade "
			"resume`", cur.pid, cur.host,
			(long long)(cur.expires_ms - now + 999) / 1000);
	if (rc && rc != FERRY_ENOTFOUND && rc != FERRY_ECORRUPT)
		return ferry_err_set(err, rc, "reading the upgrade lease");
	char host[128] = "";
	gethostname(host, sizeof host - 1);
	fbuf b = FBUF_INIT;
	rc = fbuf_adds(&b, "{\"owner\":");
	rc = rc ? rc : fbuf_add_jstr(&b, token, strlen(token));
	rc = rc ? rc : fbuf_adds(&b, ",\"host\":");
	rc = rc ? rc : fbuf_add_jstr(&b, host, strlen(host));
	rc = rc ? rc : fbuf_addf(&b, ",\"pid\":%ld,\"expires_ms\":%lld}",
				 (long)getpid(), (long long)(now + UPG_LEASE_MS));
	rc = rc ? ferry_err_set(err, rc, NULL)
		: t->store->ops->kv_put(t, LEASE_KEY, b.p, b.len, err);
	fbuf_release(&b);
	return rc;
}

int ulease_renew(fstore_txn *t, const char *token, ferry_err *err)
{
	lease cur;
	int rc = lease_read(t, &cur);
	if (rc == 0 && !strcmp(cur.owner, token))
		return ulease_take(t, token, err);
	if (rc == 0)
		return ferry_err_set(err, FERRY_EBUSY, "this runner lost the upgrade "
			"lease (it stalled past its expiry) to pid %ld on %s; it "
			"stops, that one goes on", cur.pid, cur.host);
	return ferry_err_set(err, FERRY_EBUSY, "this runner lost the upgrade "
		"lease (another run finished or aborted the upgrade); it stops");
}

int ulease_drop(fstore_txn *t, const char *token)
{
	lease cur;
	if (lease_read(t, &cur) == 0 && (!token || !strcmp(cur.owner, token)))
		t->store->ops->kv_del(t, LEASE_KEY);
	return 0;
}

int ulease_json(fstore_txn *t, fbuf *out)
{
	lease cur;
	if (lease_read(t, &cur))
		return fbuf_adds(out, "null");
	int64_t now = fcat_now_ms();
	int rc = fbuf_adds(out, "{\"host\":");
	rc = rc ? rc : fbuf_add_jstr(out, cur.host, strlen(cur.host));
	return rc ? rc : fbuf_addf(out, ",\"pid\":%ld,\"expires_in_ms\":%lld,"
		"\"alive\":%s}", cur.pid, (long long)(cur.expires_ms - now),
		cur.expires_ms > now && !owner_dead(&cur) ? "true" : "false");
}
