/*
 * server.h - ferryd internals: the server context (the only mutable state
 * the process has), one HTTP request as handlers see it, the route table
 * and the response helpers every handler uses.
 *
 * A request flows: libmicrohttpd worker thread -> http.c collects the body
 * (capped), splits and decodes the path, matches a route (route.c),
 * checks auth (auth.c), calls the handler, sends r->out with r->status
 * and writes one access-log line. Handlers never touch libmicrohttpd
 * directly except through freq_arg()/freq_header(); they fill r->out with
 * JSON (or set r->ctype for other content) and r->status.
 *
 * Files: main.c (env, start-up, signals), http.c (libmicrohttpd glue),
 * route.c (table + matching), auth.c, reply.c (errors, ferry code ->
 * HTTP), h_doc.c, h_index.c, h_bulk.c, h_search.c (document API),
 * h_maint.c (versions, migrations, indices), job.c (background upgrade
 * job), h_snapshot.c (+ SLM and its scheduler), web.c (embedded page).
 */
#ifndef FERRY_SERVER_H
#define FERRY_SERVER_H

#include <pthread.h>
#include <stdint.h>

#include "core/buf.h"
#include "ferry/ferry.h"

/* Methods, as bits so that a route can accept several. */
enum {
	FM_GET = 1,
	FM_HEAD = 2,
	FM_POST = 4,
	FM_PUT = 8,
	FM_DELETE = 16
};

/* Who may call a route. */
enum fsrv_auth {
	FA_OPEN = 0, /* anyone (GET /, the page and its assets) */
	FA_DATA,     /* document API: open in single-tenant mode; the admin
			key (and, later, tenant keys) always pass */
	FA_ADMIN     /* maintenance and destructive routes: admin key only */
};

#define FREQ_SEG_MAX 8

/* The background upgrade job (job.c). Guarded by srv->mu. */
typedef struct fsrv_job {
	int running;          /* a thread is working on it */
	int joined;           /* 1 once the thread was joined */
	pthread_t thread;
	char to[64];          /* target release */
	char kind[16];        /* "upgrade" */
	char step[16];        /* last step reported */
	char tenant[64], source[256], target[256];
	uint64_t done, total; /* of the current item */
	size_t item, items;
	uint64_t docs_done;   /* over all items */
	int64_t started_ms, finished_ms, step_ms;
	double rate;          /* docs/s, smoothed */
	int result;           /* ferry code of the finished run */
	char error[512];      /* its message, "" if none */
	int stop;             /* set on shutdown: the progress callback stops */
	int allow_dev, skip_bad, no_snapshot;
	/* job.c's bookkeeping */
	int thread_live;      /* a thread was created and not joined yet */
	uint64_t docs_total;  /* documents to copy, from the plan */
	uint64_t base_done;   /* docs of the items before `item` */
	int64_t rate_us;      /* last rate sample (fsrv_mono_us) */
	uint64_t rate_docs;   /* docs_done at that sample */
	int64_t copy_us;      /* when the copy step was first reported */
} fsrv_job;

/* The server context: one per process; everything mutable lives here. */
typedef struct fsrv {
	ferry_db *db;
	const char *data_dir;
	const char *migrations;  /* FERRY_MIGRATIONS or NULL */
	char release[64];        /* FERRY_RELEASE as deployed, "" if unset */
	char pending[64];        /* a newer data version waiting, "" if none */
	const char *admin_key;   /* FERRY_ADMIN_KEY or NULL (maintenance off) */
	int multi_tenant;        /* MULTI_TENANT=yes: data routes need a key */
	size_t max_body;         /* bytes; FERRY_MAX_BODY, default 100 MiB */
	int log_fd;              /* access log, -1 for none */
	int64_t started_ms;
	unsigned threads;
	int slm_interval_s;      /* SLM scheduler tick (FERRY_SLM_INTERVAL) */
	pthread_mutex_t mu;      /* guards job, slm_* and `stopping` */
	pthread_cond_t cond;     /* signalled on shutdown */
	int stopping;
	fsrv_job job;
	pthread_t slm_thread;
	int slm_started;
	char slm_last_error[512];
	int64_t slm_last_run_ms;
	struct MHD_Daemon *httpd;
	int in_flight;           /* requests between first byte and reply sent */
	/* commitq.c: bulks waiting for the next group commit */
	pthread_mutex_t cq_mu;
	pthread_cond_t cq_cond;
	struct fsrv_cq_item *cq_head, *cq_tail;
	int cq_busy;             /* a leader is committing a group */
	uint64_t cq_groups, cq_bulks; /* commits made, bulks they carried */
	/* h_snapshot.c */
	struct fsrv_snapjob *snapjobs; /* snapshot creates under way and the
					  last failed ones; guarded by mu */
	unsigned snapjobs_running;     /* background create threads alive */
	uint64_t slm_runs, slm_failures; /* policy runs by the scheduler */
	/* tms.c */
	int tms_mode;            /* ferryd --tms: a tenant manager serving
				    only its own routes (fsrv_tms_route_find) */
	char tms_url[1024];      /* MULTI_TENANT_MANAGER_URL, no trailing '/' */
	const char *tms_key;     /* MULTI_TENANT_MANAGER_API_KEY */
	int tms_refresh_s;       /* FERRY_TMS_REFRESH, default 30 */
	pthread_t tms_thread;    /* the client: mirrors the TMS's list */
	int tms_started;
	/* what the client last saw; guarded by mu */
	int tms_ok;              /* the last refresh succeeded */
	int64_t tms_last_ok_ms, tms_last_try_ms; /* 0: never */
	size_t tms_listed;       /* tenants in the TMS's last good answer */
	size_t tms_tenants;      /* tenants here after the last refresh */
	char tms_error[512];     /* why the last refresh failed, "" if ok */
} fsrv;

/* One request as a handler sees it. */
typedef struct freq {
	fsrv *srv;
	ferry_db *db;                /* srv->db */
	void *conn;                  /* struct MHD_Connection * (http.c) */
	int method;                  /* one FM_* */
	const char *method_name;     /* "GET", ... */
	const char *url;             /* path as received, without query */
	char *seg[FREQ_SEG_MAX];     /* %-decoded path segments */
	size_t nseg;
	const char *body;            /* complete request body, NUL-terminated */
	size_t body_len;
	int admin;                   /* the request carried the admin key */
	char tenant[FERRY_PART_MAX + 1]; /* the tenant a tenant key limits the
					    request to; "" = not limited */
	/* the response, filled by the handler */
	int status;                  /* 200 unless set */
	fbuf out;                    /* response body */
	const char *ctype;           /* NULL: application/json */
	const char *location;        /* optional Location header */
	int64_t start_us;
	char *decoded[16];           /* freq_arg() results, freed by http.c */
	int ndecoded;
} freq;

typedef void (*fsrv_handler)(freq *r);

typedef struct fsrv_route {
	int methods;         /* FM_* bits */
	const char *pattern; /* "/_snapshot/{}/{}/_restore"; {} is any segment
				not starting with '_' */
	enum fsrv_auth auth;
	fsrv_handler fn;
} fsrv_route;

/* route.c: finds the route for (method, segments). Returns the route, or
 * NULL with *allowed set to the FM_* methods the path has under other
 * methods (non-zero -> 405 with an Allow header; 0 -> unknown route). */
const fsrv_route *fsrv_route_find(int method, char *const *seg, size_t nseg,
				  int *allowed);

/* http.c: starts the daemon on `addr` with srv->threads workers; stops
 * it, letting requests in flight finish for up to wait_s seconds. */
struct sockaddr;
struct MHD_Daemon;
int fsrv_http_start(fsrv *s, const struct sockaddr *addr);
void fsrv_http_stop(fsrv *s, int wait_s);

/* auth.c: 0 if the request may go on; else it has replied (401/403). */
int fsrv_auth_check(freq *r, enum fsrv_auth need);
/* Constant-time comparison of two strings (length leaks, content not). */
int fsrv_key_equal(const char *a, const char *b);

/* tenant.c: names from a request, kept inside its tenant (r->tenant).
 * freq_index_name() rewrites one index name ("profile" -> "acme.profile")
 * or replies 403 (another tenant's) / 400 (a pattern) and returns -1;
 * freq_index_expr() does the same for a comma list of names and patterns
 * ("" and "_all" -> "acme.*"); freq_tenant_owns() tells whether a
 * physical name or alias belongs to the request's tenant. */
int freq_index_name(freq *r, const char *name, char out[FERRY_NAME_MAX + 1]);
int freq_index_expr(freq *r, const char *expr, fbuf *out);
int freq_tenant_owns(const freq *r, const char *name);
/* The rewrite alone, without replying: 0, or -1 if `name` is another
 * tenant's (or does not fit in n bytes). */
int freq_scope_name(const freq *r, const char *name, char *out, size_t n);

/* Request helpers (http.c). */
const char *freq_arg(freq *r, const char *key);    /* ?key=..., or NULL */
const char *freq_header(freq *r, const char *name);
/* Boolean query flag: "" / "true" -> 1, "false" -> 0, absent -> dflt. */
int freq_flag(freq *r, const char *key, int dflt);

/* reply.c. Every error body has Elasticsearch's envelope:
 * {"error":{"root_cause":[{"type":..,"reason":..}],"type":..,"reason":..},
 *  "status":N}. freq_error() replaces r->out. */
void freq_error(freq *r, int status, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Appends the envelope's inner object alone, {"root_cause":[..],"type":..,
 * "reason":..}: the per-item "error" of replies that list many results. */
void freq_error_object(fbuf *out, const char *type, const char *reason);
/* Maps a ferry code and message to status and type (ENOTFOUND -> 404,
 * EEXISTS -> 400 resource_already_exists_exception, EJSON -> 400
 * parse_exception, EINVAL/ENAME/EVERSION -> 400, EBUSY -> 409, EPERM ->
 * 403, ELIMIT -> 400, ENOTINIT -> 503, else 500). `e` may be NULL. */
void freq_ferr(freq *r, int code, const ferry_err *e);
/* Like freq_ferr() for calls about index `name`: ENOTFOUND -> 404
 * index_not_found_exception "no such index [name]" (plus ferry's message),
 * EPERM -> 403 cluster_block_exception (writes to a version that is not
 * active are blocked), else as freq_ferr(). */
void freq_ferr_index(freq *r, int code, const ferry_err *e, const char *name);
/* Sets status and leaves r->out as the handler built it. */
static inline void freq_ok(freq *r, int status) { r->status = status; }
/* Replies {"acknowledged":true}. */
void freq_ack(freq *r);
/* Parses the body as a JSON object; on failure replies 400 (parse_exception
 * with the byte offset, or "request body is required") and returns
 * non-zero. `required` 0 makes an empty body yield *out = NULL. */
struct json_arena;
struct json_value;
int freq_body_object(freq *r, struct json_arena *a, int required,
		     struct json_value **out);

/* Unix time in ms / monotonic µs. */
int64_t fsrv_now_ms(void);
int64_t fsrv_mono_us(void);

/* Handlers, one per route (see route.c for the table). */
void h_root(freq *r);           /* GET / (JSON or the page) */
void h_web_asset(freq *r);      /* GET /ui/{file} */
/* h_index.c */
void h_index_get(freq *r);
void h_index_mapping(freq *r);
void h_cluster_health(freq *r);
void h_index_put(freq *r);
void h_index_delete(freq *r);
void h_index_refresh(freq *r);
void h_cat_indices(freq *r);
void h_aliases_post(freq *r);
void h_aliases_get(freq *r);
/* h_mget.c; fsrv_mget() is h_mget() with ?_source given (true: bodies
 * included), for callers without a connection (the fuzz target). */
void h_mget(freq *r);
void fsrv_mget(freq *r, int source);
/* h_doc.c */
void h_doc_get(freq *r);
void h_doc_put(freq *r);       /* PUT|POST /{i}/_doc/{id}, _create/{id} */
void h_doc_post(freq *r);      /* POST /{i}/_doc (generated id) */
void h_doc_delete(freq *r);
void h_doc_update(freq *r);    /* POST /{i}/_update/{id} */
/* h_bulk.c */
void h_bulk(freq *r);          /* POST /_bulk, /{i}/_bulk */
/* h_search.c */
void h_search(freq *r);
void h_count(freq *r);
void h_delete_by_query(freq *r);
/* h_maint.c */
void h_info_version(freq *r);
void h_migrations(freq *r);
void h_migration_from(freq *r);
void h_migration_start(freq *r);
void h_migration_status(freq *r);
void h_migration_rollback(freq *r);
void h_indices(freq *r);
void h_indices_version_delete(freq *r);
void h_tenants_get(freq *r);
void h_tenants_post(freq *r);
/* h_snapshot.c */
void h_snap_repo_get(freq *r);
void h_snap_repo_put(freq *r);
void h_snap_repo_delete(freq *r);
void h_snap_get(freq *r);
void h_snap_put(freq *r);
void h_snap_delete(freq *r);
void h_snap_restore(freq *r);
void h_snap_verify(freq *r);
void h_slm_get(freq *r);
void h_slm_put(freq *r);
void h_slm_delete(freq *r);
void h_slm_execute(freq *r);
void h_slm_execute_retention(freq *r);
void h_slm_status(freq *r);

/* commitq.c: commits bulk `b` together with the bulks of other requests
 * waiting at the same moment (one transaction, one fsync); returns when
 * b's data is durable. Same results as ferry_bulk_commit(). */
int fsrv_bulk_commit(fsrv *s, ferry_bulk *b, ferry_err *err);

/* job.c: the background upgrade. fsrv_job_start() returns 0, or
 * FERRY_EBUSY (one is running; message says which). */
int fsrv_job_start(fsrv *s, const char *to, int allow_dev, int skip_bad,
		   int no_snapshot, ferry_err *err);
/* Appends the live part of GET /migration/status to `out` (an object). */
void fsrv_job_json(fsrv *s, fbuf *out);
/* Asks a running job to stop at its next batch and joins it. */
void fsrv_job_stop(fsrv *s);

/* h_snapshot.c: the SLM scheduler thread. */
int fsrv_slm_start(fsrv *s);
void fsrv_slm_stop(fsrv *s);
/* Stops snapshot creates running in the background and joins them. */
void fsrv_snapjobs_stop(fsrv *s);

/* web.c: the embedded page and its assets. */
typedef struct fsrv_asset {
	const char *name;   /* "index.html", "app.js", "style.css" */
	const char *ctype;
	const unsigned char *data;
	size_t len;
} fsrv_asset;
extern const fsrv_asset fsrv_assets[]; /* generated; ends with {0} */
const fsrv_asset *fsrv_asset_find(const char *name);

/* tms.c: multi-tenant plumbing (docs/tenants.md).
 * fsrv_tms_configure() reads MULTI_TENANT_MANAGER_URL,
 * MULTI_TENANT_MANAGER_API_KEY and FERRY_TMS_REFRESH when
 * s->multi_tenant, and checks that --tms has an admin key; it prints
 * what is missing and returns -1 (exit 1). fsrv_tms_start() starts the
 * client thread (MULTI_TENANT=yes only; a no-op otherwise) and
 * fsrv_tms_stop() stops it promptly (safe to call when not started). */
int fsrv_tms_configure(fsrv *s);
int fsrv_tms_start(fsrv *s);
void fsrv_tms_stop(fsrv *s);
/* Appends ,"multi_tenant":B and, with MULTI_TENANT=yes,
 * ,"tenant_manager":{"url","ok","error","last_ok_ms","last_try_ms",
 * "listed","tenants","refresh_s"} (leading commas included) for
 * GET /info/version. */
void fsrv_tms_json(fsrv *s, fbuf *out);
/* The route lookup of a --tms server (instead of fsrv_route_find): GET /,
 * GET and POST /tenants, DELETE /tenants/{name}, all admin; a known path
 * with another method is NULL with *allowed set (405); any other path
 * gets a route that answers 400 "not served in --tms mode". */
const fsrv_route *fsrv_tms_route_find(int method, char *const *seg,
				      size_t nseg, int *allowed);
void h_tms_root(freq *r);        /* GET / of a --tms server */
void h_tenants_delete(freq *r);  /* DELETE /tenants/{name}[?force=true] */

#endif
