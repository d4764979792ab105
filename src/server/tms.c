/*
 * tms.c - ferryd's multi-tenant plumbing (issue 6 §1, docs/tenants.md):
 *
 *  - `ferryd --tms`: a Tenant Management Service. Its route lookup
 *    (fsrv_tms_route_find) serves GET /, GET and POST /tenants and
 *    DELETE /tenants/{name}, all behind its FERRY_ADMIN_KEY (which is
 *    the MULTI_TENANT_MANAGER_API_KEY of its clients); any other path is
 *    400 "not served in --tms mode". The registry is its own data dir:
 *    tenants and hashed tenant keys (src/core/tkey.c).
 *  - MULTI_TENANT=yes: a client thread (libcurl) fetches
 *    GET {MULTI_TENANT_MANAGER_URL}/tenants at start and every
 *    FERRY_TMS_REFRESH seconds, adds new tenants locally (they get their
 *    index set and join a running upgrade) and mirrors the keys (source
 *    "tms"). Nothing is ever deleted because the TMS stopped listing it;
 *    when the TMS is down or answers garbage, the last list stays (it is
 *    in the catalog) and the outage is logged once per change and shown
 *    by GET /info/version (fsrv_tms_json).
 *
 * The thread's own memory (the last list, what was logged) lives on its
 * stack; what requests read is in fsrv under srv->mu.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json/json.h"
#include "server/server.h"

#define TMS_BODY_MAX ((size_t)16 << 20) /* bytes of a TMS answer */
#define TMS_CONNECT_MS 2000L
#define TMS_TOTAL_MS 5000L

/* ------------------------------------------------------------------ */
/* configuration                                                       */

static int tms_refresh(fsrv *s)
{
	const char *v = getenv("FERRY_TMS_REFRESH");
	char *end;
	long n;

	s->tms_refresh_s = 30;
	if (!v || !*v)
		return 0;
	n = strtol(v, &end, 10);
	if (*end || n < 1 || n > 86400) {
		fprintf(stderr, "ferryd: FERRY_TMS_REFRESH=%s is not a number of "
				"seconds from 1 to 86400\n", v);
		return -1;
	}
	s->tms_refresh_s = (int)n;
	return 0;
}

static int tms_url(fsrv *s, const char *url)
{
	size_t n = strlen(url);

	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
		fprintf(stderr, "ferryd: MULTI_TENANT_MANAGER_URL=%s must start "
				"with http:// or https:// (e.g. http://tms:9200)\n",
			url);
		return -1;
	}
	while (n > 8 && url[n - 1] == '/')
		n--;
	if (n >= sizeof(s->tms_url) - 16) {
		fprintf(stderr, "ferryd: MULTI_TENANT_MANAGER_URL is too long\n");
		return -1;
	}
	memcpy(s->tms_url, url, n);
	s->tms_url[n] = 0;
	return 0;
}

int fsrv_tms_configure(fsrv *s)
{
	const char *url = getenv("MULTI_TENANT_MANAGER_URL");
	const char *key = getenv("MULTI_TENANT_MANAGER_API_KEY");

	if (s->tms_mode && s->multi_tenant) {
		fprintf(stderr, "ferryd: --tms and MULTI_TENANT=yes exclude each "
				"other: a tenant manager keeps its own registry; "
				"unset MULTI_TENANT for --tms\n");
		return -1;
	}
	if (s->tms_mode && !s->admin_key) {
		fprintf(stderr, "ferryd: --tms needs FERRY_ADMIN_KEY: it is the "
				"API key the tenant manager's clients send (their "
				"MULTI_TENANT_MANAGER_API_KEY)\n");
		return -1;
	}
	if (!s->multi_tenant)
		return 0;
	if ((!url || !*url) || (!key || !*key)) {
		fprintf(stderr, "ferryd: MULTI_TENANT=yes needs %s%s%s: the "
				"tenant manager's base URL (e.g. http://tms:9200, "
				"a ferryd --tms) and the API key it expects\n",
			!url || !*url ? "MULTI_TENANT_MANAGER_URL" : "",
			(!url || !*url) && (!key || !*key) ? " and " : "",
			!key || !*key ? "MULTI_TENANT_MANAGER_API_KEY" : "");
		return -1;
	}
	s->tms_key = key;
	return tms_url(s, url) || tms_refresh(s) ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* fetching GET {url}/tenants                                          */

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	return fbuf_add(ctx, p, size * n) ? 0 : size * n;
}

/* Aborts a transfer when the server shuts down. */
static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn,
		       curl_off_t ut, curl_off_t un)
{
	fsrv *s = ctx;
	int stop;

	(void)dt, (void)dn, (void)ut, (void)un;
	pthread_mutex_lock(&s->mu);
	stop = s->stopping;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

/* The reason of an error reply ("error.reason" of ES's envelope), or the
 * start of the body. */
static void reply_reason(const fbuf *b, char *why, size_t n)
{
	json_arena *a = json_arena_new();
	json_value *v = NULL;
	const char *r = NULL;

	if (a && b->p && !json_parse(a, b->p, b->len, &v, NULL))
		r = json_str_member(json_get(v, "error", 5), "reason", NULL);
	snprintf(why, n, "%.200s", r ? r : b->p ? b->p : "");
	json_arena_free(a);
	for (char *p = why; *p; p++) /* it goes into a log line */
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

static CURL *tms_handle(fsrv *s, fbuf *body, struct curl_slist *h)
{
	char url[sizeof(s->tms_url) + 16];
	CURL *c = curl_easy_init();

	if (!c)
		return NULL;
	snprintf(url, sizeof(url), "%s/tenants", s->tms_url);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, TMS_CONNECT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, TMS_TOTAL_MS);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "ferryd/" FERRY_VERSION_STRING);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
	return c;
}

/* GETs the list into `body`. 0, or -1 with `why` saying what failed. */
static int tms_get(fsrv *s, fbuf *body, char *why, size_t n)
{
	char auth[1100], reason[256];
	struct curl_slist *h = NULL, *h2;
	long status = 0;
	CURL *c = NULL;
	CURLcode cc = CURLE_OUT_OF_MEMORY;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %.1000s", s->tms_key);
	h = curl_slist_append(NULL, auth);
	h2 = h ? curl_slist_append(h, "Accept: application/json") : NULL;
	if (h2 && (c = tms_handle(s, body, h)))
		cc = curl_easy_perform(c);
	if (!cc)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	if (cc == CURLE_WRITE_ERROR)
		snprintf(why, n, "its answer is larger than %zu MiB",
			 TMS_BODY_MAX >> 20);
	else if (cc)
		snprintf(why, n, "cannot reach it: %s", curl_easy_strerror(cc));
	else if (status != 200) {
		reply_reason(body, reason, sizeof(reason));
		snprintf(why, n, "GET /tenants answered HTTP %ld%s%s%s", status,
			 reason[0] ? " (" : "", reason, reason[0] ? ")" : "");
		if (status == 401 || status == 403)
			snprintf(why + strlen(why), n - strlen(why), "; check "
				 "MULTI_TENANT_MANAGER_API_KEY");
	}
	return cc || status != 200 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* applying an answer                                                  */

/* What the thread remembers between refreshes. */
typedef struct tms_memory {
	char **listed;     /* names of the last good answer (malloc'd strv) */
	int seen;          /* a good answer was applied once */
	int state;         /* logged: -1 nothing yet, 0 down, 1 up */
	char logged[512];  /* the outage reason last logged */
	char **refused;    /* "tenant: reason" of the adds refused at the last
			      refresh (logged then, not again while the same) */
} tms_memory;

static int strv_has(char **v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return 1;
	return 0;
}

/* Checks the answer's shape; fills `names` (borrowed from the tree, NULL
 * terminated) and `keys`. */
static int answer_parse(json_arena *a, const fbuf *b, const char ***names,
			json_value **keys, char *why, size_t n)
{
	json_value *root, *t;
	json_error je;

	if (json_parse(a, b->p ? b->p : "", b->len, &root, &je)) {
		snprintf(why, n, "its answer is not JSON (%s at byte %zu)",
			 je.msg, je.offset);
		return -1;
	}
	t = json_get(root, "tenants", 7);
	*keys = json_get(root, "keys", 4);
	if (!t || t->type != JSON_ARRAY || !*keys || (*keys)->type != JSON_ARRAY) {
		snprintf(why, n, "its answer is not a tenant list (an object "
			 "with \"tenants\" and \"keys\" arrays)");
		return -1;
	}
	if (!(*names = json_arena_alloc(a, (t->u.arr.n + 1) * sizeof(char *))))
		return snprintf(why, n, "out of memory"), -1;
	for (size_t i = 0; i < t->u.arr.n; i++) {
		const char *nm = json_str_member(t->u.arr.v[i], "name", NULL);

		if (!nm || !*nm) {
			snprintf(why, n, "its answer lists a tenant without a "
				 "name (entry %zu)", i + 1);
			return -1;
		}
		(*names)[i] = nm;
	}
	(*names)[t->u.arr.n] = NULL;
	return 0;
}

/* Appends a copy of `str` to the NULL-terminated *v (n entries). */
static int strv_push(char ***v, size_t n, const char *str)
{
	char **nv = realloc(*v, (n + 2) * sizeof(*nv));

	if (!nv)
		return -1;
	*v = nv;
	nv[n] = strdup(str);
	nv[n + 1] = NULL;
	return nv[n] ? 0 : -1;
}

/* A refused add (over the index budget, say): logged once per tenant and
 * reason, kept in *now for the next refresh, which tries it again. */
static void refused(fsrv *s, tms_memory *m, char ***now, size_t k,
		    const char *name, const char *msg)
{
	char line[FERRY_PART_MAX + sizeof(((ferry_err *)0)->msg) + 4];

	snprintf(line, sizeof(line), "%s: %s", name, msg);
	if (!strv_has(m->refused, line))
		fprintf(stderr, "ferryd: tms: tenant %s, listed by the tenant "
				"manager, cannot be added here: %s; ferryd tries again "
				"at every refresh (every %d s)\n", name, msg,
			s->tms_refresh_s);
	strv_push(now, k, line);
}

/* Adds the listed tenants this data dir lacks. A failure is logged once
 * (refused()) and reported through `why` (the first one, and how many
 * more) for GET /info/version; the tenant is tried again next time. */
static int add_new(fsrv *s, tms_memory *m, const char **names, char **local,
		   char *why, size_t n)
{
	ferry_err e = {0, ""};
	char **now = NULL;
	size_t bad = 0;

	for (size_t i = 0; names[i]; i++) {
		if (strv_has(local, names[i]))
			continue;
		if (ferry_tenant_add(s->db, names[i], &e) &&
		    e.code != FERRY_EEXISTS) {
			refused(s, m, &now, bad, names[i], e.msg);
			if (!bad++)
				snprintf(why, n, "tenant %.63s was not added here: "
					 "%.400s", names[i], e.msg);
			continue;
		}
		fprintf(stderr, "ferryd: tms: added tenant %s (listed by the "
				"tenant manager)\n", names[i]);
	}
	if (bad > 1)
		snprintf(why + strlen(why), n - strlen(why), " (and %zu more)",
			 bad - 1);
	ferry_strv_free(m->refused);
	m->refused = now;
	return bad ? -1 : 0;
}

/* Logs tenants that were listed before (or, at the first answer, that
 * this data dir has) and are not listed now. Their data stays. */
static void log_gone(tms_memory *m, const char **names, char **local)
{
	char **before = m->seen ? m->listed : local;

	for (size_t i = 0; before && before[i]; i++) {
		int listed = 0;

		for (size_t j = 0; names[j] && !listed; j++)
			listed = !strcmp(names[j], before[i]);
		/* only tenants whose data is here matter (and "default" is
		 * everywhere, listed or not) */
		if (listed || !strv_has(local, before[i]) ||
		    (!m->seen && !strcmp(before[i], "default")))
			continue;
		fprintf(stderr, "ferryd: tms: tenant %s is %s listed by the "
				"tenant manager; its data stays here (`ferry tenant "
				"remove %s` deletes it)\n", before[i],
			m->seen ? "no longer" : "not", before[i]);
	}
}

static int remember(tms_memory *m, const char **names)
{
	size_t n = 0;
	char **v;

	while (names[n])
		n++;
	if (!(v = calloc(n + 1, sizeof(*v))))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!(v[i] = strdup(names[i]))) {
			ferry_strv_free(v);
			return -1;
		}
	ferry_strv_free(m->listed);
	m->listed = v;
	m->seen = 1;
	return 0;
}

/* Mirrors one good answer; *listed gets its tenant count. -1 if it cannot
 * be applied (`why` says why), 1 if it was but some tenant could not be
 * added here (refused() logged it; `why` names the first). */
static int tms_apply(fsrv *s, tms_memory *m, const fbuf *b, size_t *listed,
		     char *why, size_t n)
{
	json_arena *a = json_arena_new();
	const char **names = NULL;
	json_value *keys = NULL;
	char **local = NULL;
	fbuf kt = FBUF_INIT;
	ferry_err e = {0, ""};
	int rc = -1;

	if (!a || answer_parse(a, b, &names, &keys, why, n))
		goto out;
	if (ferry_tenant_list(s->db, &local, &e)) {
		snprintf(why, n, "reading the local tenants: %.400s", e.msg);
		goto out;
	}
	rc = add_new(s, m, names, local, why, n) ? 1 : 0;
	log_gone(m, names, local);
	if (json_write(keys, &kt) ||
	    ferry_tenant_key_sync(s->db, kt.p, "tms", &e)) {
		snprintf(why, n, "its keys cannot be mirrored: %.400s",
			 e.msg[0] ? e.msg : "out of memory");
		rc = -1;
	}
	for (*listed = 0; names[*listed]; (*listed)++)
		;
	if (remember(m, names)) {
		snprintf(why, n, "out of memory");
		rc = -1;
	}
out:
	fbuf_release(&kt);
	ferry_strv_free(local);
	json_arena_free(a);
	return rc;
}

/* ------------------------------------------------------------------ */
/* the client thread                                                   */

static size_t local_count(fsrv *s)
{
	char **t = NULL;
	size_t n = 0;

	if (!ferry_tenant_list(s->db, &t, NULL))
		while (t[n])
			n++;
	ferry_strv_free(t);
	return n;
}

/* Logs a change of state: down (once per reason), back up, first list. */
static void log_state(fsrv *s, tms_memory *m, int ok, const char *why,
		      size_t listed, size_t here)
{
	if (ok && m->state != 1)
		fprintf(stderr, "ferryd: tms: %s %s: %zu tenants listed, %zu "
				"here\n", m->state == 0 ? "tenant manager is back at" :
			"following the tenant manager at", s->tms_url, listed, here);
	else if (!ok && (m->state != 0 || strcmp(m->logged, why)))
		fprintf(stderr, "ferryd: tms: tenant manager %s: %s; serving the "
				"last known %zu tenants until it answers (refresh "
				"every %d s)\n", s->tms_url, why, here,
			s->tms_refresh_s);
	m->state = ok;
	snprintf(m->logged, sizeof(m->logged), "%s", ok ? "" : why);
}

static void tms_tick(fsrv *s, tms_memory *m)
{
	char why[512] = "";
	size_t listed = 0, here;
	fbuf b;
	int ok, applied, stopping;

	fbuf_init(&b, TMS_BODY_MAX);
	applied = tms_get(s, &b, why, sizeof(why)) ? -1 :
		  tms_apply(s, m, &b, &listed, why, sizeof(why));
	fbuf_release(&b);
	ok = applied == 0;
	here = local_count(s);
	pthread_mutex_lock(&s->mu);
	s->tms_ok = ok;
	s->tms_last_try_ms = fsrv_now_ms();
	if (ok)
		s->tms_last_ok_ms = s->tms_last_try_ms;
	if (applied >= 0) /* a good answer, maybe with refused adds */
		s->tms_listed = listed;
	s->tms_tenants = here;
	snprintf(s->tms_error, sizeof(s->tms_error), "%s", ok ? "" : why);
	stopping = s->stopping;
	pthread_mutex_unlock(&s->mu);
	/* a refresh cut short by shutdown is no outage; a refused add is
	 * none either (the manager answered; refused() logged it) */
	if (!stopping || applied >= 0)
		log_state(s, m, applied >= 0, why, listed, here);
}

static void *tms_main(void *arg)
{
	fsrv *s = arg;
	tms_memory m = {NULL, 0, -1, "", NULL};
	struct timespec dl;

	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		pthread_mutex_unlock(&s->mu);
		tms_tick(s, &m);
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += s->tms_refresh_s;
		pthread_mutex_lock(&s->mu);
		while (!s->stopping &&
		       !pthread_cond_timedwait(&s->cond, &s->mu, &dl))
			; /* woken for something else: keep the deadline */
	}
	pthread_mutex_unlock(&s->mu);
	ferry_strv_free(m.listed);
	ferry_strv_free(m.refused);
	return NULL;
}

int fsrv_tms_start(fsrv *s)
{
	int e;

	if (!s->multi_tenant || s->tms_started)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		fprintf(stderr, "ferryd: cannot initialise libcurl for the tenant "
				"manager client\n");
		return -1;
	}
	snprintf(s->tms_error, sizeof(s->tms_error), "not asked yet");
	s->tms_tenants = local_count(s);
	if ((e = pthread_create(&s->tms_thread, NULL, tms_main, s))) {
		fprintf(stderr, "ferryd: cannot start the tenant manager client: "
				"%s\n", strerror(e));
		curl_global_cleanup();
		return -1;
	}
	s->tms_started = 1;
	return 0;
}

void fsrv_tms_stop(fsrv *s)
{
	if (!s->tms_started)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->tms_thread, NULL);
	s->tms_started = 0;
	curl_global_cleanup();
}

static void add_ms_or_null(fbuf *b, int64_t ms)
{
	if (ms)
		fbuf_addf(b, "%lld", (long long)ms);
	else
		fbuf_adds(b, "null");
}

void fsrv_tms_json(fsrv *s, fbuf *out)
{
	fbuf_addf(out, ",\"multi_tenant\":%s", s->multi_tenant ? "true" :
		  "false");
	if (!s->multi_tenant)
		return;
	fbuf_adds(out, ",\"tenant_manager\":{\"url\":");
	fbuf_add_jstr(out, s->tms_url, strlen(s->tms_url));
	pthread_mutex_lock(&s->mu);
	fbuf_addf(out, ",\"ok\":%s,\"error\":", s->tms_ok ? "true" : "false");
	if (s->tms_error[0])
		fbuf_add_jstr(out, s->tms_error, strlen(s->tms_error));
	else
		fbuf_adds(out, "null");
	fbuf_adds(out, ",\"last_ok_ms\":");
	add_ms_or_null(out, s->tms_last_ok_ms);
	fbuf_adds(out, ",\"last_try_ms\":");
	add_ms_or_null(out, s->tms_last_try_ms);
	fbuf_addf(out, ",\"listed\":%zu,\"tenants\":%zu,\"refresh_s\":%d}",
		  s->tms_listed, s->tms_tenants, s->tms_refresh_s);
	pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------ */
/* --tms mode: its routes                                              */

static void h_tms_not_served(freq *r)
{
	freq_error(r, 400, "illegal_argument_exception", "[%s %s] is not "
		   "served in --tms mode: this ferryd is a tenant manager and "
		   "serves only GET /, GET and POST /tenants and DELETE "
		   "/tenants/{name}", r->method_name, r->url);
}

static const fsrv_route tms_routes[] = {
	{FM_GET | FM_HEAD, "/", FA_ADMIN, h_tms_root},
	{FM_GET | FM_HEAD, "/tenants", FA_ADMIN, h_tenants_get},
	{FM_POST, "/tenants", FA_ADMIN, h_tenants_post},
	{FM_DELETE, "/tenants/{}", FA_ADMIN, h_tenants_delete},
};
static const fsrv_route tms_other = {
	FM_GET | FM_HEAD | FM_POST | FM_PUT | FM_DELETE, "", FA_OPEN,
	h_tms_not_served};

const fsrv_route *fsrv_tms_route_find(int method, char *const *seg,
				      size_t nseg, int *allowed)
{
	size_t i = 0;

	*allowed = 0;
	if (nseg == 0)
		i = 0;
	else if (nseg == 1 && !strcmp(seg[0], "tenants"))
		i = 1;
	else if (nseg == 2 && !strcmp(seg[0], "tenants") && seg[1][0] &&
		 seg[1][0] != '_')
		i = 3;
	else
		return &tms_other;
	for (size_t j = i; j < i + (i == 1 ? 2 : 1); j++) {
		if (tms_routes[j].methods & method)
			return &tms_routes[j];
		*allowed |= tms_routes[j].methods;
	}
	return NULL;
}

void h_tms_root(freq *r)
{
	ferry_status st;
	ferry_err e = {0, ""};
	int rc = ferry_db_status(r->db, &st, &e);

	if (rc) {
		freq_ferr(r, rc, &e);
		return;
	}
	fbuf_adds(&r->out, "{\"name\":\"ferry\",\"mode\":\"tms\",\"tagline\":"
		  "\"ferry tenant manager: GET and POST /tenants, DELETE "
		  "/tenants/{name} (docs/tenants.md)\",\"version\":{\"number\":");
	fbuf_add_jstr(&r->out, FERRY_VERSION_STRING,
		      strlen(FERRY_VERSION_STRING));
	fbuf_addf(&r->out, "},\"tenants\":%llu}",
		  (unsigned long long)st.tenants);
	freq_ok(r, 200);
}

/* How many keys name `tenant` as their only tenant (they are revoked
 * with it). */
static size_t sole_keys(ferry_db *db, const char *tenant)
{
	json_arena *a = json_arena_new();
	json_value *v = NULL, *ts;
	char *js = NULL;
	size_t i, n = 0;

	if (a && !ferry_tenant_key_list(db, &js, NULL) &&
	    !json_parse(a, js, strlen(js), &v, NULL) && v->type == JSON_ARRAY)
		for (i = 0; i < v->u.arr.n; i++) {
			ts = json_get(v->u.arr.v[i], "tenants", 7);
			if (ts && ts->type == JSON_ARRAY && ts->u.arr.n == 1 &&
			    ts->u.arr.v[0]->type == JSON_STRING &&
			    !strcmp(ts->u.arr.v[0]->u.str.s, tenant))
				n++;
		}
	ferry_free(js);
	json_arena_free(a);
	return n;
}

/* DELETE /tenants/{name}[?force=true]: the tenant and its indices go
 * (refused while they hold documents, unless forced), then it leaves the
 * scope of every key (a key left with none is revoked). */
void h_tenants_delete(freq *r)
{
	const char *name = r->nseg > 1 ? r->seg[1] : "";
	ferry_err e = {0, ""};
	size_t revoked = sole_keys(r->db, name);
	/* removing a tenant drops it from every key's scope in the same
	 * transaction (a key left with no tenant is revoked) */
	int rc = ferry_tenant_remove(r->db, name, freq_flag(r, "force", 0), &e);

	if (rc) {
		freq_ferr(r, rc, &e);
		return;
	}
	fbuf_adds(&r->out, "{\"acknowledged\":true,\"name\":");
	fbuf_add_jstr(&r->out, name, strlen(name));
	fbuf_addf(&r->out, ",\"keys_revoked\":%zu}", revoked);
	freq_ok(r, 200);
}
