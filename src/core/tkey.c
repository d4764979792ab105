/*
 * tkey.c - tenant keys: the credentials that limit an HTTP request to
 * one tenant (or to a few, chosen by the Host name). A key is "fk_" and
 * 40 lowercase hex digits from RAND_bytes; the catalog keeps only its
 * SHA-256, as the record
 *
 *   tkey/<sha256 hex>  {"tenants":["acme"],"created_ms":N,"source":"local"}
 *
 * so a copy of the data dir (or a snapshot of it) gives away no key.
 * "source" says who manages the key: "local" (ferry tenant key create,
 * POST /tenants) or "tms" (mirrored from a Tenant Management Service by
 * ferry_tenant_key_sync, which replaces all keys of one source in one
 * transaction). The module keeps its own records through the store's
 * kv ops, like the snapshot repositories do (docs/tenants.md).
 */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "core/catalog.h"
#include "core/db.h"
#include "core/err.h"
#include "core/names.h"
#include "core/tkey.h"
#include "json/json.h"

#define TKEY_PREFIX "tkey/"
#define TKEY_KEY_LEN (sizeof TKEY_PREFIX - 1 + FERRY_KEY_HASH_MAX)
#define TKEY_SYNC_MAX ((size_t)64 << 20) /* bytes of a synced key list */

/* ---- shapes and hashes ---- */

static int is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int key_shaped(const char *key)
{
	return key && strlen(key) == FERRY_KEY_MAX && !memcmp(key, "fk_", 3) &&
	       is_hex(key + 3, FERRY_KEY_MAX - 3);
}

static int hash_shaped(const char *h, size_t n)
{
	return n == FERRY_KEY_HASH_MAX && is_hex(h, n);
}

static void to_hex(const unsigned char *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = 0;
}

static int key_hash(const char *key, char hex[FERRY_KEY_HASH_MAX + 1])
{
	unsigned char md[32];
	unsigned int len = 0;
	if (!EVP_Digest(key, strlen(key), md, &len, EVP_sha256(), NULL) ||
	    len != 32)
		return FERRY_EINTERNAL;
	to_hex(md, 32, hex);
	return 0;
}

static void record_key(const char *hex, char out[TKEY_KEY_LEN + 1])
{
	memcpy(out, TKEY_PREFIX, sizeof TKEY_PREFIX - 1);
	memcpy(out + sizeof TKEY_PREFIX - 1, hex, FERRY_KEY_HASH_MAX + 1);
}

/* A key's scope: 1..FERRY_KEY_TENANTS_MAX valid names without repeats,
 * or "*" alone. `where` prefixes the message ("" or "key list entry 3: "). */
static int scope_check(const char *const *t, size_t n, const char *where,
		       ferry_err *err)
{
	if (n == 0)
		return ferry_err_set(err, FERRY_EINVAL, "%sa key needs at least "
				     "one tenant (or \"*\" for all)", where);
	if (n > FERRY_KEY_TENANTS_MAX)
		return ferry_err_set(err, FERRY_ELIMIT, "%sa key may name at most "
				     "%d tenants; use \"*\" for all", where,
				     FERRY_KEY_TENANTS_MAX);
	for (size_t i = 0; i < n; i++) {
		ferry_err e;
		if (!t[i])
			return ferry_err_set(err, FERRY_EINVAL, "%stenant %zu is "
					     "NULL", where, i + 1);
		if (!strcmp(t[i], "*")) {
			if (n > 1)
				return ferry_err_set(err, FERRY_EINVAL, "%s\"*\" "
					"(every tenant) cannot be combined with "
					"other names", where);
			continue;
		}
		if (fname_check_part(t[i], "tenant", &e))
			return ferry_err_set(err, FERRY_ENAME, "%s%s", where, e.msg);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(t[i], t[j]))
				return ferry_err_set(err, FERRY_EINVAL, "%stenant '%s' "
					"is named twice", where, t[i]);
	}
	return 0;
}

/* ---- records ---- */

static int record_build(fbuf *b, const char *const *t, size_t n,
			int64_t created, const char *source)
{
	int rc = fbuf_adds(b, "{\"tenants\":[");
	for (size_t i = 0; !rc && i < n; i++) {
		rc = i ? fbuf_addc(b, ',') : 0;
		rc = rc ? rc : fbuf_add_jstr(b, t[i], strlen(t[i]));
	}
	rc = rc ? rc : fbuf_addf(b, "],\"created_ms\":%lld,\"source\":",
				 (long long)created);
	rc = rc ? rc : fbuf_add_jstr(b, source, strlen(source));
	return rc ? rc : fbuf_addc(b, '}');
}

/* A parsed record; pointers live in the arena. */
typedef struct trec {
	const json_value *tenants; /* array of strings */
	const char *source;
	int64_t created_ms;
} trec;

static int record_parse(json_arena *a, const char *v, size_t n, trec *out)
{
	json_value *root;
	if (json_parse(a, v, n, &root, NULL) || root->type != JSON_OBJECT)
		return FERRY_ECORRUPT;
	out->tenants = json_get(root, "tenants", 7);
	if (!out->tenants || out->tenants->type != JSON_ARRAY)
		return FERRY_ECORRUPT;
	for (size_t i = 0; i < out->tenants->u.arr.n; i++)
		if (out->tenants->u.arr.v[i]->type != JSON_STRING)
			return FERRY_ECORRUPT;
	out->source = json_str_member(root, "source", "local");
	out->created_ms = json_int_member(root, "created_ms", 0);
	return 0;
}

/* Appends {"sha256","tenants","created_ms","source"} for one record. */
static int record_json(fbuf *b, const char *hex, const trec *r)
{
	int rc = fbuf_adds(b, "{\"sha256\":");
	rc = rc ? rc : fbuf_add_jstr(b, hex, strlen(hex));
	rc = rc ? rc : fbuf_adds(b, ",\"tenants\":");
	rc = rc ? rc : json_write(r->tenants, b);
	rc = rc ? rc : fbuf_addf(b, ",\"created_ms\":%lld,\"source\":",
				 (long long)r->created_ms);
	rc = rc ? rc : fbuf_add_jstr(b, r->source, strlen(r->source));
	return rc ? rc : fbuf_addc(b, '}');
}

/* The record's scope as a NULL-terminated strv (ferry_strv_free). */
static int record_strv(const trec *r, char ***out)
{
	size_t n = r->tenants->u.arr.n;
	char **v = calloc(n + 1, sizeof *v);
	if (!v)
		return FERRY_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const json_value *s = r->tenants->u.arr.v[i];
		if (!(v[i] = strndup(s->u.str.s, s->u.str.len))) {
			ferry_strv_free(v);
			return FERRY_ENOMEM;
		}
	}
	*out = v;
	return 0;
}

/* ---- create, lookup, revoke ---- */

static int new_key(char key[FERRY_KEY_MAX + 1], ferry_err *err)
{
	unsigned char rnd[20];
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		return ferry_err_set(err, FERRY_EIO, "the system's random number "
				     "generator failed; no key was made");
	memcpy(key, "fk_", 3);
	to_hex(rnd, sizeof rnd, key + 3);
	return 0;
}

static int create_in(fstore_txn *t, const char *const *tenants, size_t n,
		     char key[FERRY_KEY_MAX + 1], ferry_err *err)
{
	fcat_settings s;
	char hex[FERRY_KEY_HASH_MAX + 1], rk[TKEY_KEY_LEN + 1];
	const char *v;
	size_t vl;
	fbuf b = FBUF_INIT;
	int rc = fcat_settings_get(t, &s, err);
	for (size_t i = 0; !rc && i < n; i++)
		if (strcmp(tenants[i], "*") && !fcat_tenant_exists(t, tenants[i]))
			rc = ferry_err_set(err, FERRY_ENOTFOUND, "no tenant '%s'; "
				"`ferry tenant list` shows them, `ferry tenant add "
				"%s` creates it", tenants[i], tenants[i]);
	for (int tries = 0; !rc; tries++) {
		if ((rc = new_key(key, err)) || (rc = key_hash(key, hex)))
			break;
		record_key(hex, rk);
		int got = t->store->ops->kv_get(t, rk, &v, &vl);
		if (got == FERRY_ENOTFOUND)
			break;
		if (got)
			rc = ferry_err_set(err, got, "reading tenant keys: %s",
					   ferry_strerror(got));
		else if (tries > 3)
			rc = ferry_err_set(err, FERRY_EINTERNAL, "random keys keep "
					   "colliding: the random source is broken");
	}
	if (!rc && (rc = record_build(&b, tenants, n, fcat_now_ms(), "local")))
		ferry_err_set(err, rc, NULL);
	if (!rc)
		rc = t->store->ops->kv_put(t, rk, b.p, b.len, err);
	fbuf_release(&b);
	return rc;
}

int ferry_tenant_key_create(ferry_db *db, const char *const *tenants,
			    size_t n, char key[FERRY_KEY_MAX + 1],
			    ferry_err *err)
{
	char k[FERRY_KEY_MAX + 1];
	fstore_txn *t;
	int rc = tenants || !n ? scope_check(tenants, n, "", err) :
		 ferry_err_set(err, FERRY_EINVAL, "no tenant list given");
	if (rc || (rc = fdb_begin(db, 1, &t, err)))
		return rc;
	if ((rc = create_in(t, tenants, n, k, err))) {
		fdb_abort(t);
		return rc;
	}
	if ((rc = fdb_commit(t, err)))
		return rc;
	memcpy(key, k, sizeof k);
	return 0;
}

int ferry_tenant_key_lookup(ferry_db *db, const char *key, char ***tenants,
			    ferry_err *err)
{
	char hex[FERRY_KEY_HASH_MAX + 1], rk[TKEY_KEY_LEN + 1];
	fstore_txn *t;
	const char *v;
	size_t vl;
	trec r;
	if (!key_shaped(key))
		return ferry_err_set(err, FERRY_EINVAL, "not a tenant key: a key "
				     "is fk_ followed by 40 lowercase hex digits");
	int rc = key_hash(key, hex);
	if (rc)
		return ferry_err_set(err, rc, "hashing the key failed");
	if ((rc = fdb_begin(db, 0, &t, err)))
		return rc;
	record_key(hex, rk);
	rc = t->store->ops->kv_get(t, rk, &v, &vl);
	if (rc == FERRY_ENOTFOUND) {
		fdb_abort(t);
		return ferry_err_set(err, rc, "unknown tenant key (revoked, or "
				     "never issued by this deployment)");
	}
	json_arena *a = rc ? NULL : json_arena_new();
	if (!rc && !a)
		rc = FERRY_ENOMEM;
	if (!rc && (rc = record_parse(a, v, vl, &r)) == 0)
		rc = record_strv(&r, tenants);
	json_arena_free(a);
	fdb_abort(t);
	if (rc)
		return ferry_err_set(err, rc, "reading tenant key %.12s...: %s",
				     hex, ferry_strerror(rc));
	return 0;
}

int ferry_tenant_key_hash(const char *key, char hex[FERRY_KEY_HASH_MAX + 1])
{
	if (!key_shaped(key))
		return FERRY_EINVAL;
	return key_hash(key, hex);
}

/* `s` is a key or its hash: the hash, or FERRY_EINVAL. */
static int hash_of(const char *s, char hex[FERRY_KEY_HASH_MAX + 1],
		   ferry_err *err)
{
	if (s && key_shaped(s))
		return key_hash(s, hex);
	if (!s || !hash_shaped(s, strlen(s)))
		return ferry_err_set(err, FERRY_EINVAL, "'%s' is not a key's "
			"SHA-256 (64 lowercase hex digits, as `ferry tenant key "
			"list` shows them)", s ? s : "");
	memcpy(hex, s, FERRY_KEY_HASH_MAX + 1);
	return 0;
}

static int revoke_in(fstore_txn *t, const char *hex, ferry_err *err)
{
	char rk[TKEY_KEY_LEN + 1];
	const char *v;
	size_t vl;
	trec r;
	record_key(hex, rk);
	int rc = t->store->ops->kv_get(t, rk, &v, &vl);
	if (rc == FERRY_ENOTFOUND)
		return ferry_err_set(err, rc, "no tenant key with SHA-256 %s; "
				     "`ferry tenant key list` shows them", hex);
	if (rc)
		return ferry_err_set(err, rc, "reading tenant key %.12s...: %s",
				     hex, ferry_strerror(rc));
	json_arena *a = json_arena_new();
	if (!a)
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	/* a damaged record can always be revoked */
	if (!record_parse(a, v, vl, &r) && strcmp(r.source, "local"))
		rc = ferry_err_set(err, FERRY_EPERM, "key %.12s... comes from the "
			"tenant manager (source \"%s\") and would come back at its "
			"next refresh; remove it there", hex, r.source);
	json_arena_free(a);
	if (rc)
		return rc;
	if ((rc = t->store->ops->kv_del(t, rk)))
		return ferry_err_set(err, rc, "revoking key %.12s...: %s", hex,
				     ferry_strerror(rc));
	return 0;
}

int ferry_tenant_key_revoke(ferry_db *db, const char *sha256_hex,
			    ferry_err *err)
{
	char hex[FERRY_KEY_HASH_MAX + 1];
	fstore_txn *t;
	int rc = hash_of(sha256_hex, hex, err);
	if (rc || (rc = fdb_begin(db, 1, &t, err)))
		return rc;
	if ((rc = revoke_in(t, hex, err))) {
		fdb_abort(t);
		return rc;
	}
	return fdb_commit(t, err);
}

/* ---- list and registry ---- */

struct list_ctx {
	fbuf *b;
	json_arena *a;
	size_t n;
};

/* The SHA-256 hex of a `tkey/<sha256hex>` entry; -1 for another key. */
static int entry_hex(const fstore_entry *e, char hex[FERRY_KEY_HASH_MAX + 1])
{
	if (e->idlen != TKEY_KEY_LEN)
		return -1;
	memcpy(hex, e->id + sizeof TKEY_PREFIX - 1, FERRY_KEY_HASH_MAX);
	hex[FERRY_KEY_HASH_MAX] = 0;
	return 0;
}

static int list_visit(void *p, const fstore_entry *e)
{
	struct list_ctx *c = p;
	char hex[FERRY_KEY_HASH_MAX + 1];
	trec r;
	if (entry_hex(e, hex))
		return 0;
	json_arena_reset(c->a);
	int rc = c->n++ ? fbuf_addc(c->b, ',') : 0;
	if (rc)
		return rc;
	if (record_parse(c->a, e->body, e->body_len, &r)) {
		/* listed so that it can be seen and revoked */
		return fbuf_addf(c->b, "{\"sha256\":\"%s\",\"tenants\":[],"
				 "\"created_ms\":0,\"source\":\"damaged\"}", hex);
	}
	return record_json(c->b, hex, &r);
}

static int tenant_visit(void *p, const fstore_entry *e)
{
	struct list_ctx *c = p;
	size_t pre = sizeof "tenant/" - 1;
	json_value *v = NULL;
	json_arena_reset(c->a);
	if (json_parse(c->a, e->body, e->body_len, &v, NULL))
		v = NULL;
	int rc = fbuf_adds(c->b, c->n++ ? ",{\"name\":" : "{\"name\":");
	rc = rc ? rc : fbuf_add_jstr(c->b, e->id + pre, e->idlen - pre);
	rc = rc ? rc : fbuf_addf(c->b, ",\"created_ms\":%lld}",
				 (long long)json_int_member(v, "created_ms", 0));
	return rc;
}

/* Appends "[...]" of tkey records (keys) or tenant records to `b`. */
static int scan_json(fstore_txn *t, int keys, fbuf *b, ferry_err *err)
{
	struct list_ctx c = {b, json_arena_new(), 0};
	int rc = c.a ? fbuf_addc(b, '[') : FERRY_ENOMEM;
	if (!rc)
		rc = t->store->ops->kv_scan(t, keys ? TKEY_PREFIX : "tenant/",
					    keys ? list_visit : tenant_visit, &c);
	rc = rc ? rc : fbuf_addc(b, ']');
	json_arena_free(c.a);
	return rc ? ferry_err_set(err, rc, "listing %s: %s", keys ? "tenant "
				  "keys" : "tenants", ferry_strerror(rc)) : 0;
}

static int read_json(ferry_db *db, int registry, char **json, ferry_err *err)
{
	fstore_txn *t;
	fcat_settings s;
	fbuf b = FBUF_INIT;
	int rc = fdb_begin(db, 0, &t, err);
	if (rc)
		return rc;
	rc = fcat_settings_get(t, &s, err);
	if (!rc && registry) {
		if ((rc = fbuf_adds(&b, "{\"tenants\":")))
			ferry_err_set(err, rc, NULL);
		rc = rc ? rc : scan_json(t, 0, &b, err);
		if (!rc && (rc = fbuf_adds(&b, ",\"keys\":")))
			ferry_err_set(err, rc, NULL);
	}
	rc = rc ? rc : scan_json(t, 1, &b, err);
	if (!rc && registry && (rc = fbuf_addc(&b, '}')))
		ferry_err_set(err, rc, NULL);
	fdb_abort(t);
	if (rc) {
		fbuf_release(&b);
		return rc;
	}
	*json = fbuf_detach(&b, NULL);
	return 0;
}

int ferry_tenant_key_list(ferry_db *db, char **json, ferry_err *err)
{
	return read_json(db, 0, json, err);
}

int ferry_tenant_registry(ferry_db *db, char **json, ferry_err *err)
{
	return read_json(db, 1, json, err);
}

/* ---- changes found by a scan, applied after it ---- */

typedef struct tchange {
	char rk[TKEY_KEY_LEN + 1];
	char *val;   /* new record, or NULL: delete */
	size_t len;
} tchange;

typedef struct tchanges {
	tchange *v;
	size_t n, cap;
} tchanges;

/* Takes `rec` (malloc'd or NULL). */
static int changes_add(tchanges *c, const char *rk, size_t rklen, char *rec,
		       size_t len)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		tchange *nv = realloc(c->v, cap * sizeof *nv);
		if (!nv) {
			free(rec);
			return FERRY_ENOMEM;
		}
		c->v = nv;
		c->cap = cap;
	}
	memcpy(c->v[c->n].rk, rk, rklen);
	c->v[c->n].rk[rklen] = 0;
	c->v[c->n].val = rec;
	c->v[c->n++].len = len;
	return 0;
}

static void changes_release(tchanges *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].val);
	free(c->v);
	memset(c, 0, sizeof *c);
}

static int changes_apply(fstore_txn *t, const tchanges *c, ferry_err *err)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < c->n; i++) {
		if (c->v[i].val)
			rc = t->store->ops->kv_put(t, c->v[i].rk, c->v[i].val,
						   c->v[i].len, err);
		else if ((rc = t->store->ops->kv_del(t, c->v[i].rk)) ==
			 FERRY_ENOTFOUND)
			rc = 0;
		else if (rc)
			ferry_err_set(err, rc, "removing a tenant key: %s",
				      ferry_strerror(rc));
	}
	return rc;
}

/* Commits if there is anything to write, else aborts (no fsync). */
static int changes_finish(fstore_txn *t, const tchanges *c, int rc,
			  ferry_err *err)
{
	if (!rc && c->n && !(rc = changes_apply(t, c, err)))
		return fdb_commit(t, err);
	fdb_abort(t);
	return rc;
}

/* ---- dropping a tenant from every key ---- */

struct drop_ctx {
	const char *tenant;
	json_arena *a;
	tchanges ch;
	size_t revoked;
};

static int drop_visit(void *p, const fstore_entry *e)
{
	struct drop_ctx *c = p;
	const char *keep[FERRY_KEY_TENANTS_MAX];
	size_t n = 0, found = 0;
	fbuf b = FBUF_INIT;
	trec r;
	json_arena_reset(c->a);
	if (e->idlen != TKEY_KEY_LEN ||
	    record_parse(c->a, e->body, e->body_len, &r))
		return 0;
	for (size_t i = 0; i < r.tenants->u.arr.n; i++) {
		const char *s = r.tenants->u.arr.v[i]->u.str.s;
		if (!strcmp(s, c->tenant))
			found = 1;
		else if (n < FERRY_KEY_TENANTS_MAX)
			keep[n++] = s;
	}
	if (!found)
		return 0;
	if (!n) {
		c->revoked++;
		return changes_add(&c->ch, e->id, e->idlen, NULL, 0);
	}
	int rc = record_build(&b, keep, n, r.created_ms, r.source);
	size_t len = b.len;
	char *rec = rc ? NULL : fbuf_detach(&b, &len);
	fbuf_release(&b);
	return rc ? rc : changes_add(&c->ch, e->id, e->idlen, rec, len);
}

int ftkey_drop_tenant(fstore_txn *t, const char *tenant, size_t *revoked,
		      ferry_err *err)
{
	struct drop_ctx c = {tenant, json_arena_new(), {0}, 0};
	int rc = c.a ? 0 : ferry_err_set(err, FERRY_ENOMEM, NULL);
	if (!rc && (rc = t->store->ops->kv_scan(t, TKEY_PREFIX, drop_visit, &c)))
		ferry_err_set(err, rc, "reading tenant keys: %s",
			      ferry_strerror(rc));
	if (!rc)
		rc = changes_apply(t, &c.ch, err);
	json_arena_free(c.a);
	changes_release(&c.ch);
	if (!rc && revoked)
		*revoked = c.revoked;
	return rc;
}

int ferry_tenant_key_drop_tenant(ferry_db *db, const char *tenant,
				 size_t *revoked, ferry_err *err)
{
	fstore_txn *t;
	size_t n = 0;
	int rc = fname_check_part(tenant, "tenant", err);
	if (rc || (rc = fdb_begin(db, 1, &t, err)))
		return rc;
	if ((rc = ftkey_drop_tenant(t, tenant, &n, err))) {
		fdb_abort(t);
		return rc;
	}
	if ((rc = fdb_commit(t, err)))
		return rc;
	if (revoked)
		*revoked = n;
	return 0;
}

/* ---- mirroring a key list (ferry_tenant_key_sync) ---- */

typedef struct skey {
	const char *hex;            /* in the arena */
	const char **tenants;       /* in the arena */
	size_t n;
	int64_t created_ms;
} skey;

typedef struct sync_ctx {
	const char *source;
	skey *keys;                 /* sorted by hex */
	size_t n;
	json_arena *rec;            /* for reading stored records */
	tchanges ch;
} sync_ctx;

static int skey_cmp(const void *a, const void *b)
{
	return strcmp(((const skey *)a)->hex, ((const skey *)b)->hex);
}

/* Checks entry i of the list and fills `out`. */
static int sync_entry(json_arena *a, const json_value *v, size_t i,
		      skey *out, ferry_err *err)
{
	char where[48];
	const json_value *h, *ts, *c;
	snprintf(where, sizeof where, "key list entry %zu: ", i + 1);
	if (v->type != JSON_OBJECT)
		return ferry_err_set(err, FERRY_EINVAL, "%snot an object", where);
	h = json_get(v, "sha256", 6);
	if (!h || h->type != JSON_STRING || !hash_shaped(h->u.str.s, h->u.str.len))
		return ferry_err_set(err, FERRY_EINVAL, "%s\"sha256\" must be 64 "
				     "lowercase hex digits", where);
	ts = json_get(v, "tenants", 7);
	if (!ts || ts->type != JSON_ARRAY)
		return ferry_err_set(err, FERRY_EINVAL, "%s\"tenants\" must be an "
				     "array of tenant names", where);
	out->hex = h->u.str.s;
	out->n = ts->u.arr.n;
	if (!(out->tenants = json_arena_alloc(a, (out->n + 1) * sizeof(char *))))
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	for (size_t j = 0; j < out->n; j++) {
		const json_value *s = ts->u.arr.v[j];
		if (s->type != JSON_STRING || strlen(s->u.str.s) != s->u.str.len)
			return ferry_err_set(err, FERRY_EINVAL, "%s\"tenants\" must "
					     "hold tenant names", where);
		out->tenants[j] = s->u.str.s;
	}
	out->created_ms = fcat_now_ms();
	if ((c = json_get(v, "created_ms", 10)) &&
	    (json_number_int64(c, &out->created_ms) || out->created_ms < 0))
		return ferry_err_set(err, FERRY_EINVAL, "%s\"created_ms\" must be "
				     "a non-negative integer", where);
	return scope_check(out->tenants, out->n, where, err);
}

/* Parses and checks the whole list; *keys sorted by hash, in the arena. */
static int sync_parse(json_arena *a, const char *json, skey **keys,
		      size_t *n, ferry_err *err)
{
	json_value *root;
	json_error je;
	size_t len = json ? strlen(json) : 0;
	if (!json || len > TKEY_SYNC_MAX)
		return ferry_err_set(err, json ? FERRY_ELIMIT : FERRY_EINVAL,
				     "the key list is %s", json ? "too long" :
				     "missing");
	int rc = json_parse(a, json, len, &root, &je);
	if (rc == FERRY_EJSON)
		return ferry_err_set(err, rc, "the key list is not valid JSON: %s "
				     "at byte %zu", je.msg, je.offset);
	if (rc)
		return ferry_err_set(err, rc, NULL);
	if (root->type != JSON_ARRAY)
		return ferry_err_set(err, FERRY_EINVAL, "the key list must be a "
				     "JSON array");
	*n = root->u.arr.n;
	if (!(*keys = json_arena_alloc(a, (*n + 1) * sizeof **keys)))
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	for (size_t i = 0; i < *n; i++)
		if ((rc = sync_entry(a, root->u.arr.v[i], i, &(*keys)[i], err)))
			return rc;
	qsort(*keys, *n, sizeof **keys, skey_cmp);
	for (size_t i = 1; i < *n; i++)
		if (!strcmp((*keys)[i - 1].hex, (*keys)[i].hex))
			return ferry_err_set(err, FERRY_EINVAL, "the key list names "
				"SHA-256 %.12s... twice", (*keys)[i].hex);
	return 0;
}

/* Stored keys of the source that the list no longer has go. */
static int sync_visit(void *p, const fstore_entry *e)
{
	sync_ctx *c = p;
	skey probe;
	char hex[FERRY_KEY_HASH_MAX + 1];
	trec r;
	if (entry_hex(e, hex))
		return 0;
	probe.hex = hex;
	json_arena_reset(c->rec);
	if (record_parse(c->rec, e->body, e->body_len, &r) ||
	    strcmp(r.source, c->source) ||
	    bsearch(&probe, c->keys, c->n, sizeof *c->keys, skey_cmp))
		return 0;
	return changes_add(&c->ch, e->id, e->idlen, NULL, 0);
}

/* Listed keys whose stored record differs (or is missing) are written. */
static int sync_puts(fstore_txn *t, sync_ctx *c, ferry_err *err)
{
	char rk[TKEY_KEY_LEN + 1];
	const char *v;
	size_t vl;
	fbuf b = FBUF_INIT;
	int rc = 0;
	for (size_t i = 0; !rc && i < c->n; i++) {
		const skey *k = &c->keys[i];
		fbuf_clear(&b);
		record_key(k->hex, rk);
		if ((rc = record_build(&b, k->tenants, k->n, k->created_ms,
				       c->source)))
			break;
		int got = t->store->ops->kv_get(t, rk, &v, &vl);
		if (!got && vl == b.len && !memcmp(v, b.p, vl))
			continue;
		char *rec = malloc(b.len + 1);
		if (!rec) {
			rc = FERRY_ENOMEM;
			break;
		}
		memcpy(rec, b.p, b.len + 1);
		rc = changes_add(&c->ch, rk, TKEY_KEY_LEN, rec, b.len);
	}
	fbuf_release(&b);
	return rc ? ferry_err_set(err, rc, NULL) : 0;
}

int ferry_tenant_key_sync(ferry_db *db, const char *json_keys,
			  const char *source, ferry_err *err)
{
	sync_ctx c = {source, NULL, 0, NULL, {0}};
	json_arena *a = json_arena_new();
	fstore_txn *t = NULL;
	fcat_settings s;
	int rc = a ? fname_check_part(source, "key source", err) :
		 ferry_err_set(err, FERRY_ENOMEM, NULL);
	if (!rc && !(c.rec = json_arena_new()))
		rc = ferry_err_set(err, FERRY_ENOMEM, NULL);
	rc = rc ? rc : sync_parse(a, json_keys, &c.keys, &c.n, err);
	if (rc || (rc = fdb_begin(db, 1, &t, err)))
		goto out;
	rc = fcat_settings_get(t, &s, err);
	if (!rc && (rc = t->store->ops->kv_scan(t, TKEY_PREFIX, sync_visit, &c)))
		ferry_err_set(err, rc, "reading tenant keys: %s",
			      ferry_strerror(rc));
	rc = rc ? rc : sync_puts(t, &c, err);
	rc = changes_finish(t, &c.ch, rc, err);
out:
	changes_release(&c.ch);
	json_arena_free(c.rec);
	json_arena_free(a);
	return rc;
}
