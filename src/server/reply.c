/*
 * reply.c - the shapes every ferryd reply shares: Elasticsearch's error
 * envelope, the mapping from ferry error codes to HTTP statuses and ES
 * error types, {"acknowledged":true}, and reading a JSON request body
 * with an error that names the byte where it went wrong.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json/json.h"
#include "server/server.h"

int64_t fsrv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t fsrv_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void freq_error_object(fbuf *out, const char *type, const char *reason)
{
	size_t rl = strlen(reason), tl = strlen(type);

	fbuf_adds(out, "{\"root_cause\":[{\"type\":");
	fbuf_add_jstr(out, type, tl);
	fbuf_adds(out, ",\"reason\":");
	fbuf_add_jstr(out, reason, rl);
	fbuf_adds(out, "}],\"type\":");
	fbuf_add_jstr(out, type, tl);
	fbuf_adds(out, ",\"reason\":");
	fbuf_add_jstr(out, reason, rl);
	fbuf_addc(out, '}');
}

static void error_body(fbuf *out, int status, const char *type,
		       const char *reason)
{
	fbuf_clear(out);
	fbuf_adds(out, "{\"error\":");
	freq_error_object(out, type, reason);
	fbuf_addf(out, ",\"status\":%d}", status);
}

void freq_error(freq *r, int status, const char *type, const char *fmt, ...)
{
	char reason[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	r->status = status;
	r->ctype = NULL;
	error_body(&r->out, status, type, reason);
}

void freq_ferr(freq *r, int code, const ferry_err *e)
{
	const char *reason = e && e->msg[0] ? e->msg : ferry_strerror(code);
	int status = 500;
	const char *type = "exception";

	switch (code) {
	case FERRY_ENOTFOUND:
		status = 404, type = "resource_not_found_exception";
		break;
	case FERRY_EEXISTS:
		status = 400, type = "resource_already_exists_exception";
		break;
	case FERRY_EJSON:
		status = 400, type = "parse_exception";
		break;
	case FERRY_EINVAL:
	case FERRY_ENAME:
	case FERRY_EVERSION:
	case FERRY_ELIMIT:
		status = 400, type = "illegal_argument_exception";
		break;
	case FERRY_EHORIZON:
		status = 400, type = "illegal_argument_exception";
		break;
	case FERRY_EBUSY:
		status = 409, type = "illegal_state_exception";
		break;
	case FERRY_EPERM:
		status = 403, type = "security_exception";
		break;
	case FERRY_ENOTINIT:
		status = 503, type = "illegal_state_exception";
		break;
	case FERRY_EFULL:
		status = 507, type = "cluster_block_exception";
		break;
	case FERRY_ENOMEM:
		status = 503, type = "out_of_memory_exception";
		break;
	default:
		break;
	}
	freq_error(r, status, type, "%s", reason);
}

void freq_ack(freq *r)
{
	fbuf_clear(&r->out);
	fbuf_adds(&r->out, "{\"acknowledged\":true}");
	r->status = 200;
}

int freq_body_object(freq *r, json_arena *a, int required, json_value **out)
{
	json_error je = {0, NULL};
	size_t i;

	for (i = 0; i < r->body_len && strchr(" \t\r\n", r->body[i]); i++)
		;
	if (i == r->body_len) {
		if (!required) {
			*out = NULL;
			return 0;
		}
		freq_error(r, 400, "parse_exception",
			   "request body is required: send a JSON object");
		return -1;
	}
	if (json_parse(a, r->body, r->body_len, out, &je)) {
		if (!je.msg) {
			freq_error(r, 503, "out_of_memory_exception",
				   "out of memory parsing the request body");
			return -1;
		}
		freq_error(r, 400, "parse_exception",
			   "request body is not valid JSON: %s at byte %zu",
			   je.msg, je.offset);
		return -1;
	}
	if ((*out)->type != JSON_OBJECT) {
		freq_error(r, 400, "parse_exception",
			   "request body must be a JSON object");
		return -1;
	}
	return 0;
}

void freq_ferr_index(freq *r, int code, const ferry_err *e, const char *name)
{
	const char *msg = e && e->msg[0] ? e->msg : ferry_strerror(code);

	if (code == FERRY_ENOTFOUND)
		freq_error(r, 404, "index_not_found_exception",
			   "no such index [%s]: %s", name, msg);
	else if (code == FERRY_EPERM)
		freq_error(r, 403, "cluster_block_exception", "%s", msg);
	else
		freq_ferr(r, code, e);
}
