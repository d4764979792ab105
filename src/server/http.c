/*
 * http.c - libmicrohttpd glue: one freq per request, the body collected
 * under a hard cap, the raw path split into %-decoded segments (ids may
 * hold an encoded '/'), routing, auth, the query-string check (every
 * parameter must %-decode), the handler call, the reply and
 * one access-log line. Also the daemon's start and its graceful stop:
 * stop accepting, let requests in flight finish (nothing acknowledged is
 * lost), then close.
 *
 * libmicrohttpd runs a pool of worker threads (MHD_OPTION_THREAD_POOL_SIZE)
 * each with its own epoll loop; a handler runs on the worker that owns the
 * connection, so LMDB work happens right there.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "json/json.h"
#include "server/server.h"

struct conn_state {
	freq r;
	fbuf body;
	char *path;     /* copy of the URL that r.seg points into */
	int too_large;
	int late;       /* arrived after shutdown began */
};

static const char *method_names[] = {"GET", "HEAD", "POST", "PUT", "DELETE"};

static int method_of(const char *m)
{
	size_t i;

	for (i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
		if (!strcmp(m, method_names[i]))
			return 1 << i;
	return 0;
}

/* libmicrohttpd must not decode the path: we split first, then decode. */
static size_t unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The byte the escape at s (s[0] is '%') stands for, or -1 if it is not
 * two hex digits or is %00: the one rule for paths and query strings. */
static int pct_byte(const char *s)
{
	int h = hexval(s[1]), l = h < 0 ? -1 : hexval(s[2]);
	return h < 0 || l < 0 || (h == 0 && l == 0) ? -1 : h * 16 + l;
}

/* Decodes %XX (and '+' when `plus`) in place. -1 on a bad escape or NUL. */
static int pct_decode(char *s, int plus)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '%') {
			int b = pct_byte(s);

			if (b < 0)
				return -1;
			*w++ = (char)b;
			s += 2;
		} else {
			*w++ = plus && *s == '+' ? ' ' : *s;
		}
	}
	*w = 0;
	return 0;
}

/* Offset of the first escape in s that pct_decode() refuses, or
 * SIZE_MAX. */
static size_t pct_bad(const char *s)
{
	for (size_t i = 0; s[i]; i++) {
		if (s[i] != '%')
			continue;
		if (pct_byte(s + i) < 0)
			return i;
		i += 2;
	}
	return SIZE_MAX;
}

/* Replies 400 for the bad escape at `off` of `s`, a parameter's name or
 * its value, showing s cut at 80 bytes (not inside a UTF-8 sequence). */
static void bad_arg(freq *r, const char *key, const char *s, int in_name,
		    size_t off)
{
	size_t n = strlen(s), shown = n, el = strnlen(s + off, 3);

	if (shown > 80)
		for (shown = 80; shown && ((unsigned char)s[shown] & 0xC0) == 0x80;)
			shown--;
	if (el == 3 && !strncmp(s + off, "%00", 3))
		freq_error(r, 400, "illegal_argument_exception", "query parameter "
			   "%s [%.*s%s] has %%00 (a NUL byte) at offset %zu: "
			   "remove it", in_name ? "name" : key, (int)shown, s,
			   shown < n ? "..." : "", off);
	else
		freq_error(r, 400, "illegal_argument_exception", "query parameter "
			   "%s [%.*s%s] has a bad %%-escape '%.*s' at offset %zu: "
			   "'%%' must be followed by two hex digits; %%-encode a "
			   "literal '%%' as %%25", in_name ? "name" : key,
			   (int)shown, s, shown < n ? "..." : "", (int)el,
			   s + off, off);
}

struct arg_check {
	freq *r;
	int bad;
};

static enum MHD_Result arg_visit(void *cls, enum MHD_ValueKind kind,
				 const char *key, const char *value)
{
	struct arg_check *c = cls;
	size_t off;

	(void)kind;
	if ((off = pct_bad(key)) != SIZE_MAX)
		bad_arg(c->r, key, key, 1, off);
	else if (value && (off = pct_bad(value)) != SIZE_MAX)
		bad_arg(c->r, key, value, 0, off);
	else
		return MHD_YES;
	c->bad = 1;
	return MHD_NO;
}

/* Every query-string parameter, name and value, must %-decode (as
 * freq_arg() decodes it): a bad escape is a 400 naming the parameter and
 * the offset, as Elasticsearch refuses a bad URI escape, rather than the
 * raw text taken literally (q=name:%zz searching for "%zz"). 0, or
 * replied 400. */
static int check_args(freq *r)
{
	struct arg_check c = {r, 0};

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, arg_visit, &c);
	return c.bad ? -1 : 0;
}

const char *freq_header(freq *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *freq_arg(freq *r, const char *key)
{
	const char *raw = MHD_lookup_connection_value(r->conn,
						      MHD_GET_ARGUMENT_KIND, key);
	char *d;

	if (!raw || !strpbrk(raw, "%+"))
		return raw;
	if (r->ndecoded == (int)(sizeof(r->decoded) / sizeof(r->decoded[0])))
		return raw;
	if (!(d = strdup(raw)))
		return raw;
	if (pct_decode(d, 1)) { /* not reached: check_args() refused it */
		free(d);
		return raw;
	}
	r->decoded[r->ndecoded++] = d;
	return d;
}

int freq_flag(freq *r, const char *key, int dflt)
{
	const char *v = MHD_lookup_connection_value(r->conn,
						    MHD_GET_ARGUMENT_KIND, key);

	if (!MHD_lookup_connection_value_n(r->conn, MHD_GET_ARGUMENT_KIND, key,
					   strlen(key), NULL, NULL))
		return dflt;
	if (!v || !*v || !strcmp(v, "true"))
		return 1;
	if (!strcmp(v, "false"))
		return 0;
	return dflt;
}

/* Splits the raw path into decoded segments. 0, or replied 400. */
static int split_path(freq *r, char *path)
{
	char *p = path, *seg;

	r->nseg = 0;
	while (*p == '/')
		p++;
	while (*p) {
		seg = p;
		p += strcspn(p, "/");
		if (*p)
			*p++ = 0;
		if (!*seg)
			continue;
		if (r->nseg == FREQ_SEG_MAX) {
			freq_error(r, 400, "illegal_argument_exception",
				   "path [%s] has more than %d segments",
				   r->url, FREQ_SEG_MAX);
			return -1;
		}
		if (pct_decode(seg, 0) || !strcmp(seg, ".") ||
		    !strcmp(seg, "..")) {
			freq_error(r, 400, "illegal_argument_exception",
				   "path [%s] has a bad segment: a bad %%-escape, "
				   "%%00, '.' or '..'", r->url);
			return -1;
		}
		r->seg[r->nseg++] = seg;
	}
	return 0;
}

static void allowed_text(int mask, char *buf, size_t n)
{
	size_t i, off = 0;

	buf[0] = 0;
	for (i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
		if (mask & (1 << i))
			off += (size_t)snprintf(buf + off, n - off, "%s%s",
						off ? ", " : "", method_names[i]);
}

static void dispatch(freq *r, char *path)
{
	const fsrv_route *rt;
	int allowed;
	char allow[64];

	if (split_path(r, path))
		return;
	rt = r->srv->tms_mode ?
		fsrv_tms_route_find(r->method, r->seg, r->nseg, &allowed) :
		fsrv_route_find(r->method, r->seg, r->nseg, &allowed);
	if (!rt && allowed) {
		allowed_text(allowed, allow, sizeof(allow));
		freq_error(r, 405, "method_not_allowed_exception",
			   "Incorrect HTTP method for uri [%s] and method [%s], "
			   "allowed: [%s]", r->url, r->method_name, allow);
		return;
	}
	if (!rt) {
		freq_error(r, 400, "illegal_argument_exception",
			   "no handler found for uri [%s] and method [%s]",
			   r->url, r->method_name);
		return;
	}
	if (fsrv_auth_check(r, rt->auth) || check_args(r))
		return;
	rt->fn(r);
}

static void access_log(freq *r, size_t bytes, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;
	char ip[INET6_ADDRSTRLEN] = "-", line[1200], ts[32];
	struct tm tm;
	int64_t now = fsrv_now_ms();
	time_t secs = (time_t)(now / 1000);
	int n;

	if (r->srv->log_fd < 0)
		return;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;

		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
				  ip, sizeof(ip));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6,
				  &((const struct sockaddr_in6 *)sa)->sin6_addr, ip,
				  sizeof(ip));
	}
	gmtime_r(&secs, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03dZ %s \"%s %.900s\" %d %zu %.1fms\n",
		     ts, (int)(now % 1000), ip, r->method_name, r->url, r->status,
		     bytes, (double)(fsrv_mono_us() - r->start_us) / 1000.0);
	if (n > (int)sizeof(line))
		n = (int)sizeof(line);
	/* one write per line: lines from several threads never interleave */
	if (write(r->srv->log_fd, line, (size_t)n) < 0)
		return;
}

/* `?pretty` (Elasticsearch's): a JSON reply re-indented for people. A
 * reply that is not JSON (the page, _cat) goes out as it is; HEAD gets
 * the Content-Length of the pretty GET. */
static void pretty_reply(freq *r)
{
	fbuf p = FBUF_INIT;

	if (r->ctype || !r->out.len || !freq_flag(r, "pretty", 0))
		return;
	if (json_pretty(r->out.p, r->out.len, &p)) {
		fbuf_release(&p); /* the compact reply goes out instead */
		return;
	}
	fbuf_release(&r->out);
	r->out = p;
}

static enum MHD_Result send_reply(struct MHD_Connection *c, freq *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len;
	char *body;
	char allow[64];

	pretty_reply(r);
	if (!r->out.p && fbuf_adds(&r->out, ""))
		return MHD_NO;
	body = fbuf_detach(&r->out, &len);
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type",
				r->ctype ? r->ctype : "application/json; charset=UTF-8");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (r->location)
		MHD_add_response_header(resp, "Location", r->location);
	if (r->status == 401)
		MHD_add_response_header(resp, "WWW-Authenticate",
					"Bearer realm=\"ferry\"");
	if (r->status == 405 && r->method) {
		int allowed;

		(r->srv->tms_mode ? fsrv_tms_route_find : fsrv_route_find)(
			r->method, r->seg, r->nseg, &allowed);
		allowed_text(allowed, allow, sizeof(allow));
		MHD_add_response_header(resp, "Allow", allow);
	}
	if (r->srv->stopping)
		MHD_add_response_header(resp, "Connection", "close");
	ret = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	access_log(r, len, c);
	return ret;
}

static struct conn_state *state_new(fsrv *s, struct MHD_Connection *c,
				    const char *url, const char *method)
{
	struct conn_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->r.srv = s;
	st->r.db = s->db;
	st->r.conn = c;
	st->r.method = method_of(method);
	st->r.method_name = method;
	st->r.url = url;
	st->r.status = 200;
	st->r.start_us = fsrv_mono_us();
	fbuf_init(&st->r.out, 0);
	fbuf_init(&st->body, s->max_body);
	if (!(st->path = strdup(url))) {
		free(st);
		return NULL;
	}
	pthread_mutex_lock(&s->mu);
	s->in_flight++;
	st->late = s->stopping;
	pthread_mutex_unlock(&s->mu);
	return st;
}

/* Content-Length above the cap: refuse before reading the body. */
static int declared_too_large(fsrv *s, struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     "Content-Length");

	return cl && strtoull(cl, NULL, 10) > s->max_body;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	fsrv *s = cls;
	struct conn_state *st = *con_cls;

	(void)version;
	if (!st) {
		if (!(st = state_new(s, c, url, method)))
			return MHD_NO;
		*con_cls = st;
		if (declared_too_large(s, c))
			st->too_large = 1;
		else
			return MHD_YES; /* the body, if any, comes next */
	}
	if (*upload_size) {
		if (!st->too_large && fbuf_add(&st->body, upload, *upload_size))
			st->too_large = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	freq *r = &st->r;

	if (!r->method) {
		freq_error(r, 405, "method_not_allowed_exception",
			   "method [%s] is not supported", method);
	} else if (st->too_large) {
		freq_error(r, 413, "request_entity_too_large_exception",
			   "request body is larger than %zu bytes (FERRY_MAX_BODY)",
			   s->max_body);
	} else if (st->late) {
		freq_error(r, 503, "node_closed_exception",
			   "ferryd is shutting down; retry on another node or "
			   "after the restart");
	} else {
		r->body = st->body.p ? st->body.p : "";
		r->body_len = st->body.len;
		dispatch(r, st->path);
	}
	return send_reply(c, r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	fsrv *s = cls;
	struct conn_state *st = *con_cls;
	int i;

	(void)c;
	(void)toe;
	if (!st)
		return;
	for (i = 0; i < st->r.ndecoded; i++)
		free(st->r.decoded[i]);
	fbuf_release(&st->r.out);
	fbuf_release(&st->body);
	free(st->path);
	free(st);
	*con_cls = NULL;
	pthread_mutex_lock(&s->mu);
	s->in_flight--;
	/* only shutdown waits for this; waking the SLM thread on every
	 * request cost up to a third of GET throughput (measured) */
	if (s->stopping && s->in_flight == 0)
		pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("ferryd: http: ", stderr);
	vfprintf(stderr, fmt, ap);
}

int fsrv_http_start(fsrv *s, const struct sockaddr *addr)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_USE_ITC | MHD_USE_ERROR_LOG;

	if (addr->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->httpd = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, addr,
		MHD_OPTION_THREAD_POOL_SIZE, s->threads,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_UNESCAPE_CALLBACK, unescape_none, NULL,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
		MHD_OPTION_CONNECTION_TIMEOUT, 120u,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
		MHD_OPTION_END);
	return s->httpd ? 0 : -1;
}

/* Stops accepting, waits (up to `wait_s`) for requests in flight, stops. */
void fsrv_http_stop(fsrv *s, int wait_s)
{
	struct timespec until;
	int listen_fd;

	if (!s->httpd)
		return;
	listen_fd = MHD_quiesce_daemon(s->httpd);
	if (listen_fd >= 0)
		close(listen_fd);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_s;
	pthread_mutex_lock(&s->mu);
	while (s->in_flight > 0 &&
	       pthread_cond_timedwait(&s->cond, &s->mu, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&s->mu);
	MHD_stop_daemon(s->httpd);
	s->httpd = NULL;
}
