/*
 * main.c - ferryd: reads the environment, opens the data dir, follows
 * FERRY_RELEASE (DESIGN.md "Start-up"), starts the HTTP daemon and the
 * SLM scheduler, and on SIGTERM/SIGINT stops accepting, lets requests in
 * flight finish, pauses a running upgrade at a batch boundary (it is
 * resumable) and closes the data dir. Signals are taken with sigwait()
 * in the main thread, so no handler runs in signal context.
 */
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/version.h"
#include "server/server.h"

static void usage(FILE *f)
{
	fputs("usage: ferryd [--help] [--version] [--tms]\n"
	      "\n"
	      "Serves a ferry data dir over HTTP: an Elasticsearch-style document\n"
	      "API, snapshot and lifecycle-policy routes, the maintenance API and\n"
	      "the maintenance page at / (docs/rest-api.md). Configured by the\n"
	      "environment:\n"
	      "  FERRY_DATA          data dir (default ./ferry-data)\n"
	      "  FERRY_LISTEN        host:port (default 127.0.0.1:9200)\n"
	      "  FERRY_RELEASE       the release this server is deployed as; a new\n"
	      "                      data dir is initialised with it\n"
	      "  FERRY_AUTO_UPGRADE  yes: run a pending major upgrade at start\n"
	      "  FERRY_ADMIN_KEY     key for maintenance routes (Bearer); unset\n"
	      "                      switches them off\n"
	      "  FERRY_MIGRATIONS    migration files (default ./migrations)\n"
	      "  FERRY_MAX_BODY      request body limit in bytes (default 100 MiB)\n"
	      "  FERRY_THREADS       HTTP worker threads (default 8 x cores, >= 16)\n"
	      "  FERRY_ACCESS_LOG    file for the access log, '-' for stdout\n"
	      "                      (default), 'off' for none\n"
	      "  FERRY_SLM_INTERVAL  seconds between lifecycle-policy checks (60)\n"
	      "  FERRY_UPGRADE_THROTTLE  max documents/s an upgrade started by\n"
	      "                      ferryd copies (default: no limit)\n"
	      "  MULTI_TENANT        yes: take tenants and their keys from a tenant\n"
	      "                      manager (docs/tenants.md); needs\n"
	      "  MULTI_TENANT_MANAGER_URL      its base URL (http://tms:9300)\n"
	      "  MULTI_TENANT_MANAGER_API_KEY  the key it expects (Bearer)\n"
	      "  FERRY_TMS_REFRESH   seconds between refreshes of its list (30)\n"
	      "--tms serves a tenant manager instead (GET/POST/DELETE /tenants on\n"
	      "the registry in FERRY_DATA, FERRY_ADMIN_KEY as its API key).\n"
	      "Stops cleanly on SIGTERM or SIGINT.\n", f);
}

static long env_long(const char *name, long dflt, long lo, long hi)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (!v || !*v)
		return dflt;
	n = strtol(v, &end, 10);
	if (*end || n < lo || n > hi) {
		fprintf(stderr, "ferryd: %s=%s is not a number from %ld to %ld\n",
			name, v, lo, hi);
		exit(2);
	}
	return n;
}

/* "host:port", "[v6]:port", ":port" or "port" -> a socket address. */
static int parse_listen(const char *spec, struct sockaddr_storage *out)
{
	char host[256] = "127.0.0.1";
	const char *port = spec, *colon = strrchr(spec, ':');
	struct addrinfo hints, *ai = NULL;
	size_t hl;

	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');

		if (!rb || rb[1] != ':' || (size_t)(rb - spec - 1) >= sizeof(host))
			return -1;
		memcpy(host, spec + 1, (size_t)(rb - spec - 1));
		host[rb - spec - 1] = 0;
		port = rb + 2;
	} else if (colon) {
		hl = (size_t)(colon - spec);
		if (hl >= sizeof(host))
			return -1;
		if (hl) {
			memcpy(host, spec, hl);
			host[hl] = 0;
		}
		port = colon + 1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	if (!*port || getaddrinfo(host, port, &hints, &ai) || !ai)
		return -1;
	memcpy(out, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return 0;
}

/* Opens the data dir, initialising it with FERRY_RELEASE when new. */
static int open_data(fsrv *s, ferry_status *st)
{
	ferry_err err;
	int rc;

	if (ferry_db_open(s->data_dir, FERRY_OPEN_CREATE, &s->db, &err)) {
		fprintf(stderr, "ferryd: %s\n", err.msg);
		return -1;
	}
	rc = ferry_db_status(s->db, st, &err);
	if (rc == FERRY_ENOTINIT && s->release[0]) {
		if (ferry_db_init(s->db, s->release, 0, &err) ||
		    ferry_db_status(s->db, st, &err)) {
			fprintf(stderr, "ferryd: %s\n", err.msg);
			return -1;
		}
		fprintf(stderr, "ferryd: initialised %s at release %s\n",
			s->data_dir, s->release);
		return 0;
	}
	if (rc == FERRY_ENOTINIT) {
		fprintf(stderr, "ferryd: data dir %s is not initialised: set "
				"FERRY_RELEASE (ferryd then initialises it) or run "
				"`ferry init`\n", s->data_dir);
		return -1;
	}
	if (rc) {
		fprintf(stderr, "ferryd: %s\n", err.msg);
		return -1;
	}
	return 0;
}

/* DESIGN.md "Start-up": same data version -> record and serve; newer ->
 * serve the old data, the upgrade is pending (or runs now with
 * FERRY_AUTO_UPGRADE=yes); older -> refuse to start. */
static int follow_release(fsrv *s, const ferry_status *st)
{
	fversion want, wdata, active, adata;
	ferry_err err;
	const char *aut = getenv("FERRY_AUTO_UPGRADE");
	int c;

	if (!s->release[0])
		return 0;
	if (fversion_parse(s->release, &want, &err) ||
	    fversion_parse(st->release, &active, &err)) {
		fprintf(stderr, "ferryd: FERRY_RELEASE: %s\n", err.msg);
		return -1;
	}
	fversion_data(&want, st->data_parts, &wdata);
	fversion_data(&active, st->data_parts, &adata);
	c = fversion_cmp(&wdata, &adata);
	if (c < 0) {
		fprintf(stderr, "ferryd: FERRY_RELEASE %s is older than the data "
				"(active release %s, data version %s): a downgrade is "
				"refused; deploy %s or newer, or use `ferry rollback`\n",
			s->release, st->release, st->data_version, st->data_version);
		return -1;
	}
	if (c == 0) {
		if (fversion_cmp(&want, &active) > 0 &&
		    ferry_release_record(s->db, s->release, &err)) {
			fprintf(stderr, "ferryd: %s\n", err.msg);
			return -1;
		}
		if (fversion_cmp(&want, &active) > 0)
			fprintf(stderr, "ferryd: recorded release %s (minor upgrade "
					"from %s, same data version %s)\n",
				s->release, st->release, st->data_version);
		return 0;
	}
	snprintf(s->pending, sizeof(s->pending), "%s", s->release);
	fprintf(stderr, "ferryd: major upgrade pending: data version %s -> %s; "
			"serving %s until it completes (POST /migration or the "
			"page's button%s)\n", st->data_version, s->release,
		st->data_version,
		aut && !strcmp(aut, "yes") ? "; starting it now" :
		", or FERRY_AUTO_UPGRADE=yes");
	if (aut && !strcmp(aut, "yes") &&
	    fsrv_job_start(s, s->release, 0, 0, 0, &err)) {
		fprintf(stderr, "ferryd: automatic upgrade: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int open_log(fsrv *s)
{
	const char *l = getenv("FERRY_ACCESS_LOG");

	s->log_fd = -1;
	if (l && !strcmp(l, "off"))
		return 0;
	if (!l || !*l || !strcmp(l, "-")) {
		s->log_fd = 1;
		return 0;
	}
	s->log_fd = open(l, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (s->log_fd < 0) {
		fprintf(stderr, "ferryd: FERRY_ACCESS_LOG=%s: %m\n", l);
		return -1;
	}
	return 0;
}

static int configure(fsrv *s)
{
	const char *rel = getenv("FERRY_RELEASE");
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	s->data_dir = getenv("FERRY_DATA") && *getenv("FERRY_DATA") ?
			      getenv("FERRY_DATA") : "./ferry-data";
	s->migrations = getenv("FERRY_MIGRATIONS");
	s->admin_key = getenv("FERRY_ADMIN_KEY");
	s->multi_tenant = getenv("MULTI_TENANT") && !strcmp(getenv("MULTI_TENANT"), "yes");
	if (s->admin_key && !*s->admin_key)
		s->admin_key = NULL;
	if (s->admin_key && strlen(s->admin_key) < 16) {
		fprintf(stderr, "ferryd: FERRY_ADMIN_KEY is shorter than 16 "
				"characters; use a long random key (e.g. `openssl "
				"rand -hex 24`)\n");
		return -1;
	}
	if (rel && strlen(rel) >= sizeof(s->release)) {
		fprintf(stderr, "ferryd: FERRY_RELEASE is too long\n");
		return -1;
	}
	snprintf(s->release, sizeof(s->release), "%s", rel ? rel : "");
	s->max_body = (size_t)env_long("FERRY_MAX_BODY", 100L << 20, 1024,
				       1L << 30);
	/* A worker waits out its request's group commit (fsync) and every
	 * connection it owns waits with it; with 4 workers, 4 clients often
	 * share one and bulk lost 10 % (docs/benchmarks.md, session 7). */
	s->threads = (unsigned)env_long("FERRY_THREADS",
					cores > 2 ? 8 * cores : 16, 1, 256);
	s->slm_interval_s = (int)env_long("FERRY_SLM_INTERVAL", 60, 1, 86400);
	s->started_ms = fsrv_now_ms();
	return open_log(s);
}

static int wait_for_signal(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigwait(&set, &sig);
	return sig;
}

static void shut_down(fsrv *s, int sig)
{
	fprintf(stderr, "ferryd: %s: finishing %d request(s) in flight\n",
		sig == SIGINT ? "SIGINT" : "SIGTERM", s->in_flight);
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
	fsrv_http_stop(s, 30);
	fsrv_slm_stop(s);
	fsrv_tms_stop(s);
	fsrv_job_stop(s);
	ferry_db_sync(s->db, NULL);
	fprintf(stderr, "ferryd: stopped\n");
}

int main(int argc, char **argv)
{
	static fsrv srv; /* the one server context; zeroed */
	struct sockaddr_storage addr;
	const char *listen_spec = getenv("FERRY_LISTEN");
	ferry_status st;
	sigset_t set;
	int rc = 1;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("ferryd %s\n", FERRY_VERSION_STRING);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--tms"))
		srv.tms_mode = 1;
	else if (argc > 1) {
		fprintf(stderr, "ferryd: unknown argument '%s'\n", argv[1]);
		usage(stderr);
		return 2;
	}
	/* every thread started from here on inherits the blocked signals */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	pthread_mutex_init(&srv.mu, NULL);
	pthread_cond_init(&srv.cond, NULL);
	pthread_mutex_init(&srv.cq_mu, NULL);
	pthread_cond_init(&srv.cq_cond, NULL);
	if (!listen_spec || !*listen_spec)
		listen_spec = "127.0.0.1:9200";
	if (parse_listen(listen_spec, &addr)) {
		fprintf(stderr, "ferryd: FERRY_LISTEN=%s: expected host:port, "
				"e.g. 127.0.0.1:9200 or [::1]:9200\n", listen_spec);
		return 2;
	}
	if (configure(&srv) || fsrv_tms_configure(&srv) ||
	    open_data(&srv, &st) || follow_release(&srv, &st) ||
	    fsrv_tms_start(&srv))
		goto out;
	if (fsrv_http_start(&srv, (struct sockaddr *)&addr)) {
		fprintf(stderr, "ferryd: cannot listen on %s: %m (port in use? "
				"set FERRY_LISTEN)\n", listen_spec);
		goto out;
	}
	fsrv_slm_start(&srv);
	fprintf(stderr, "ferryd %s listening on http://%s (data %s, release %s, "
			"%u threads, maintenance %s)\n", FERRY_VERSION_STRING,
		listen_spec, srv.data_dir, st.release, srv.threads,
		srv.admin_key ? "on" : "off: FERRY_ADMIN_KEY unset");
	shut_down(&srv, wait_for_signal());
	rc = 0;
out:
	fsrv_tms_stop(&srv);
	fsrv_job_stop(&srv);
	ferry_db_close(srv.db);
	if (srv.log_fd > 2)
		close(srv.log_fd);
	pthread_cond_destroy(&srv.cond);
	pthread_mutex_destroy(&srv.mu);
	pthread_cond_destroy(&srv.cq_cond);
	pthread_mutex_destroy(&srv.cq_mu);
	return rc;
}
