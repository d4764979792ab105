/*
 * web.c - GET / and the maintenance page embedded in ferryd.
 *
 * The page's files (index.html, app.js, style.css in src/server/web/) are compiled into
 * the binary by tools/embed.c as the table fsrv_assets[], so a deployed
 * ferryd needs nothing beside it. GET / answers a browser (an Accept
 * header naming text/html) with the page and everybody else with the
 * Elasticsearch-style greeting that clients probe; /ui/ and /ui/{file}
 * serve the page and its assets. Only names in the table can be served,
 * so no request path ever reaches the file system.
 */
#include <string.h>

#include "server/server.h"

#define WEB_INDEX "index.html"

const fsrv_asset *fsrv_asset_find(const char *name)
{
	const fsrv_asset *a;

	for (a = fsrv_assets; a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

/* Replies with an embedded file; 404 if the table lacks it. */
static void web_send(freq *r, const char *name)
{
	const fsrv_asset *a = fsrv_asset_find(name);

	if (!a) {
		freq_error(r, 404, "resource_not_found_exception",
			   "no file /ui/%.64s: the maintenance page is at / "
			   "and its files are /ui/app.js and /ui/style.css",
			   name);
		return;
	}
	fbuf_clear(&r->out);
	if (fbuf_add(&r->out, a->data, a->len)) {
		freq_error(r, 500, "exception", "out of memory sending /ui/%s",
			   a->name);
		return;
	}
	r->ctype = a->ctype;
	freq_ok(r, 200);
}

/* 1 if the request's Accept header names text/html (a browser). */
static int web_wants_html(freq *r)
{
	const char *accept = freq_header(r, "Accept");

	return accept && strstr(accept, "text/html") != NULL;
}

/* The greeting of GET / in Elasticsearch's shape, plus the release ferryd
 * is deployed as and the active data version. */
static void root_json(freq *r)
{
	ferry_status st;
	ferry_err e;
	fbuf *o = &r->out;
	int rc;

	rc = ferry_db_status(r->db, &st, &e);
	if (rc) {
		freq_ferr(r, rc, &e);
		return;
	}
	fbuf_clear(o);
	rc = fbuf_adds(o, "{\"name\":\"ferry\",\"cluster_name\":\"ferry\","
			  "\"version\":{\"number\":\"" FERRY_VERSION_STRING "\","
			  "\"distribution\":\"ferry\",\"release\":");
	if (r->srv->release[0])
		rc |= fbuf_add_jstr(o, r->srv->release, strlen(r->srv->release));
	else
		rc |= fbuf_adds(o, "null");
	rc |= fbuf_adds(o, ",\"active_release\":");
	rc |= fbuf_add_jstr(o, st.release, strlen(st.release));
	rc |= fbuf_adds(o, ",\"data_version\":");
	rc |= fbuf_add_jstr(o, st.data_version, strlen(st.data_version));
	rc |= fbuf_adds(o, "},\"tagline\":\"You Know, for Search\"}");
	if (rc) {
		freq_error(r, 500, "exception", "out of memory writing GET /");
		return;
	}
	freq_ok(r, 200);
}

/* GET / and GET /ui: the page for a browser (and always under /ui). */
void h_root(freq *r)
{
	int ui = r->nseg > 0 && !strcmp(r->seg[0], "ui");

	if (ui || web_wants_html(r))
		web_send(r, WEB_INDEX);
	else
		root_json(r);
}

/* GET /ui/ (the page) and GET /ui/{file} (its assets). */
void h_web_asset(freq *r)
{
	if (r->nseg < 2 || !r->seg[1][0])
		web_send(r, WEB_INDEX);
	else
		web_send(r, r->seg[1]);
}
