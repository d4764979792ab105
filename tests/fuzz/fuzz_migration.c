/*
 * fuzz_migration.c - libFuzzer target for src/migrate. The input is tried
 * two ways:
 *  - as a hop file "0.1.0_to_0.2.0.json": loading either fails with a
 *    message that starts with the file's path (and, for JSON and schema
 *    errors, a line:col inside the text) or gives a hop whose checksum is
 *    fmig_checksum() of the text; a loaded hop is then planned, composed
 *    for three source indices and run over fixed documents;
 *  - as a document, run through a fixed program that uses every op kind,
 *    and through an identity Lua script alone.
 * Besides memory safety it checks: every output is an object that writes
 * and parses again; a failed apply leaves a message naming the op; the
 * identity script gives back exactly the same bytes (Lua conversion keeps
 * types, member order and number lexemes).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/ferry.h"
#include "json/json.h"
#include "migrate/migrate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define DIR "/nonexistent-ferry-fuzz"
#define NAME "0.1.0_to_0.2.0.json"
#define MAX_IN (1 << 16)

static const char *const sources[] = {"profile", "event", "session"};

static const char *const docs[] = {
	"{}",
	"{\"a\":1,\"b\":{\"c\":\"42\",\"d\":[1,2.50,null]},\"pii\":{\"name\":"
	"\"Zoë\"},\"age\":\"42\",\"stats\":{\"visits\":3}}",
	"{\"a\":{\"a\":{\"a\":{}}},\"b\":true,\"c\":-0,\"e\":1e400}",
};

/* A program with every op kind, for the document mode. */
static const char fixed_hop[] =
	"{\"from\":\"0.1.0\",\"to\":\"0.2.0\",\"indices\":{\"profile\":"
	"{\"ops\":["
	"{\"lua\":{\"code\":\"function transform(d) return d end\"}},"
	"{\"rename\":{\"from\":\"pii.name\",\"to\":\"data.pii.first\"}},"
	"{\"copy\":{\"from\":\"a\",\"to\":\"z.copy\"}},"
	"{\"default\":{\"field\":\"stats.visits\",\"value\":0}},"
	"{\"convert\":{\"field\":\"age\",\"to\":\"integer\"}},"
	"{\"convert\":{\"field\":\"b\",\"to\":\"string\"}},"
	"{\"remove\":{\"field\":\"c\"}},"
	"{\"set\":{\"field\":\"m.s\",\"value\":{\"v\":[1,\"x\"]}}}]},"
	"\"event\":{\"ops\":["
	"{\"lua\":{\"code\":\"function transform(d) return d end\"}}]}}}";

/* Output must be an object that writes and parses back equal. */
static void check_output(json_arena *a, const json_value *v)
{
	fbuf b = FBUF_INIT;
	json_value *back = NULL;
	CHECK(v && v->type == JSON_OBJECT);
	if (json_write(v, &b) == 0) {
		CHECK(json_parse(a, b.p, b.len, &back, NULL) == 0);
		CHECK(json_equal(v, back));
	}
	fbuf_release(&b);
}

/* The same document read lazily (as an upgrade reads stored bodies) must
 * give the same outcome: the same error, or a document with the same
 * value (untouched parts may keep their stored escapes). */
static void check_lazy(fmig_program *p, size_t ix, json_arena *a,
		       const char *text, size_t n, int rc, const char *msg,
		       int dropped, const json_value *want)
{
	char *copy = json_arena_alloc(a, n + JSON_LAZY_PAD);
	json_value *v = NULL, *back = NULL;
	ferry_err err = {0, ""};
	int gone = 0;
	fbuf b = FBUF_INIT;
	if (!copy)
		return;
	memcpy(copy, text, n);
	memset(copy + n, '"', JSON_LAZY_PAD);
	CHECK(json_parse_lazy(a, copy, n, &v, NULL) == 0);
	int lrc = fmig_program_apply(p, ix, a, &v, &gone, &err);
	CHECK(lrc == rc);
	if (rc) {
		CHECK(rc == FERRY_ENOMEM || !strcmp(err.msg, msg));
		return;
	}
	CHECK(gone == dropped);
	if (dropped)
		return;
	CHECK(json_write(v, &b) == 0);
	CHECK(json_parse(a, b.p, b.len, &back, NULL) == 0);
	CHECK(json_equal(back, want));
	fbuf_release(&b);
}

/* Runs text (a document) through entry ix of p; the result, or NULL if
 * it failed or was dropped. `lazy`: run it lazily too and compare (only
 * for the fixed program: a fuzzed script may keep state from one call to
 * the next). */
static json_value *run_doc(fmig_program *p, size_t ix, json_arena *a,
			   const char *text, size_t n, int lazy)
{
	json_value *v = NULL;
	ferry_err err = {0, ""};
	int dropped = 0;
	if (json_parse(a, text, n, &v, NULL) || v->type != JSON_OBJECT)
		return NULL;
	int rc = fmig_program_apply(p, ix, a, &v, &dropped, &err);
	if (lazy)
		check_lazy(p, ix, a, text, n, rc, err.msg, dropped, v);
	if (rc) {
		CHECK(err.msg[0] && rc > 0 && rc < FERRY_ECODE_END);
		CHECK(rc == FERRY_ENOMEM || strstr(err.msg, ": index '") ||
		      strstr(err.msg, "not a JSON object"));
		return NULL;
	}
	if (dropped)
		return NULL;
	check_output(a, v);
	return v;
}

/* The identity script must give back the very same bytes. */
static void check_identity(fmig_program *p, json_arena *a, const char *in,
			   size_t size)
{
	json_value *orig = NULL;
	fbuf x = FBUF_INIT, y = FBUF_INIT;
	if (json_parse(a, in, size, &orig, NULL) || orig->type != JSON_OBJECT)
		return;
	json_value *v = run_doc(p, 1, a, in, size, 1);
	CHECK(v);
	if (json_write(orig, &x) == 0) {
		CHECK(json_write(v, &y) == 0);
		CHECK(x.len == y.len && !memcmp(x.p, y.p, x.len));
	}
	fbuf_release(&x);
	fbuf_release(&y);
}

static fmig_program *compose(fmig_set *s)
{
	fmig_chain *c = NULL;
	fmig_program *p = NULL;
	ferry_err err = {0, ""};
	if (fmig_plan_chain(s, "0.1.0", "0.2.0", &c, &err) == 0) {
		if (fmig_compose(c, sources, 3, &p, &err))
			CHECK(err.msg[0]);
	} else {
		abort(); /* a loaded 0.1.0 -> 0.2.0 hop is always found */
	}
	fmig_chain_free(c);
	return p;
}

static void as_hop(const char *in, size_t size, json_arena *a)
{
	ferry_err err = {0, ""};
	fmig_set *s = NULL;
	char sum[FMIG_CHECKSUM_HEX];
	CHECK(fmig_set_new(DIR, &s, &err) == 0);
	int rc = fmig_set_add(s, NAME, in, size, &err);
	if (rc) {
		CHECK(!strncmp(err.msg, DIR "/" NAME, strlen(DIR "/" NAME)) ||
		      rc == FERRY_ENOMEM);
		fmig_set_free(s);
		return;
	}
	CHECK(fmig_set_finish(s, &err) == 0);
	CHECK(fmig_checksum(in, size, sum) == 0);
	CHECK(!strcmp(fmig_set_hop(s, 0)->checksum, sum));
	fmig_program *p = compose(s);
	for (size_t i = 0; p && i < fmig_program_count(p); i++)
		for (size_t d = 0; d < sizeof docs / sizeof *docs; d++) {
			json_arena_reset(a);
			run_doc(p, i, a, docs[d], strlen(docs[d]), 0);
		}
	fmig_program_free(p);
	fmig_set_free(s);
}

static void as_doc(const char *in, size_t size, json_arena *a)
{
	ferry_err err = {0, ""};
	fmig_set *s = NULL;
	CHECK(fmig_set_new(DIR, &s, &err) == 0);
	CHECK(fmig_set_add(s, NAME, fixed_hop, strlen(fixed_hop), &err) == 0);
	CHECK(fmig_set_finish(s, &err) == 0);
	fmig_program *p = compose(s);
	CHECK(p);
	json_arena_reset(a);
	run_doc(p, 0, a, in, size, 1);
	check_identity(p, a, in, size);
	fmig_program_free(p);
	fmig_set_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_arena *a;
	if (size > MAX_IN || !(a = json_arena_new()))
		return 0;
	as_hop((const char *)data, size, a);
	as_doc((const char *)data, size, a);
	json_arena_free(a);
	return 0;
}
