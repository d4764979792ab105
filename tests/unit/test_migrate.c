/*
 * test_migrate.c - unit tests of src/migrate: every op and its edge cases,
 * every convert pair, every load error with its file:line:col, checksum
 * normalisation, chains and missing hops, composition across hops
 * (rename_to, drop, create, mappings), the Lua op (transform, drop,
 * sandbox, limits, errors, exact round trip), and the example CDP
 * migrations run over cdp-gen output. Run from the repository root.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "migrate/internal.h"
#include "migrate/lwatch.h"
#include "migrate/migrate.h"
#include "testutil.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static char tmpdir[512];

static int setup(void **state)
{
	(void)state;
	t_mkdtemp(tmpdir, sizeof tmpdir, "migrate");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	t_rmtree(tmpdir);
	return 0;
}

/* s with every ' turned into " (test JSON is easier to read that way);
 * from a ring of buffers, valid for the next few calls. */
static const char *Q(const char *s)
{
	static char ring[6][16384];
	static int next;
	char *b = ring[next++ % 6];
	size_t n = strlen(s);
	assert_true(n < sizeof ring[0]);
	for (size_t i = 0; i <= n; i++)
		b[i] = s[i] == '\'' ? '"' : s[i];
	return b;
}

/* Writes tmpdir/rel (one level of subdirectory is created). */
static void wfile(const char *rel, const char *text, size_t n)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
	char *slash = strrchr(path, '/');
	if (slash > path + strlen(tmpdir)) {
		*slash = 0;
		mkdir(path, 0755);
		*slash = '/';
	}
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, n, f), n);
	fclose(f);
}

static void wfiles(const char *rel, const char *text)
{
	wfile(rel, text, strlen(text));
}

/* A finished set from (name, text) pairs, NULL-terminated. */
static int load_set(fmig_set **out, ferry_err *err, ...)
{
	fmig_set *s = NULL;
	va_list ap;
	int rc = fmig_set_new(tmpdir, &s, err);
	va_start(ap, err);
	for (const char *name; !rc && (name = va_arg(ap, const char *));) {
		const char *text = va_arg(ap, const char *);
		rc = fmig_set_add(s, name, text, strlen(text), err);
	}
	va_end(ap);
	if (!rc)
		rc = fmig_set_finish(s, err);
	if (rc)
		fmig_set_free(s);
	else
		*out = s;
	return rc;
}

/* Loads one hop file; expects failure with `code` and `part` in the
 * message (part is prefixed with tmpdir/ when it starts with '/'). */
static void expect_load_fail(const char *name, const char *text, int code,
			     const char *part)
{
	ferry_err err = {0, ""};
	fmig_set *s = NULL;
	char want[1024];
	snprintf(want, sizeof want, "%s%s", part[0] == '/' ? tmpdir : "",
		 part);
	int rc = load_set(&s, &err, name, text, NULL);
	if (rc == 0) {
		fmig_set_free(s);
		fail_msg("loading %s succeeded; expected '%s'", name, want);
	}
	if (rc != code)
		fail_msg("code %d (%s), want %d: %s", rc, ferry_strerror(rc),
			 code, err.msg);
	T_CONTAINS(err.msg, want);
}

typedef struct tprog {
	fmig_set *s;
	fmig_chain *c;
	fmig_program *p;
} tprog;

static void tprog_free(tprog *t)
{
	fmig_program_free(t->p);
	fmig_chain_free(t->c);
	fmig_set_free(t->s);
	memset(t, 0, sizeof *t);
}

static const char *const SRC3[] = {"profile", "event", "session"};

/* Plans and composes from..to over set t->s for SRC3. */
static int tprog_compose(tprog *t, const char *from, const char *to,
			 ferry_err *err)
{
	int rc = fmig_plan_chain(t->s, from, to, &t->c, err);
	return rc ? rc : fmig_compose(t->c, SRC3, 3, &t->p, err);
}

/* A program of one hop 0.1.0 -> 0.2.0 whose "profile" has ops `ops` (a
 * JSON array body with ' for "). */
static void prog_ops(tprog *t, const char *ops)
{
	ferry_err err = {0, ""};
	char text[16384];
	snprintf(text, sizeof text, "{\"from\":\"0.1.0\",\"to\":\"0.2.0\","
		 "\"indices\":{\"profile\":{\"ops\":[%s]}}}", Q(ops));
	memset(t, 0, sizeof *t);
	T_OK(load_set(&t->s, &err, "0.1.0_to_0.2.0.json", text, NULL), &err);
	T_OK(tprog_compose(t, "0.1.0", "0.2.0", &err), &err);
}

/* Runs doc (' for ") through entry ix; returns the output (malloc'd),
 * or NULL if dropped; *rc gets the code. */
/* run() with the document read by json_parse_lazy (as an upgrade reads
 * stored bodies) when `lazy`. */
static char *run_mode(tprog *t, size_t ix, const char *doc, int lazy, int *rc,
		      ferry_err *err)
{
	json_arena *a = json_arena_new();
	json_value *v = NULL;
	fbuf out = FBUF_INIT;
	int dropped = 0;
	const char *text = Q(doc);
	size_t n = strlen(text);
	char *copy = json_arena_alloc(a, n + JSON_LAZY_PAD);
	assert_non_null(copy);
	memcpy(copy, text, n);
	memset(copy + n, 0, JSON_LAZY_PAD);
	if (lazy ? json_parse_lazy(a, copy, n, &v, NULL) :
		   json_parse(a, copy, n, &v, NULL))
		fail_msg("test document does not parse: %s", text);
	*rc = fmig_program_apply(t->p, ix, a, &v, &dropped, err);
	if (!*rc && !dropped)
		assert_int_equal(json_write(v, &out), 0);
	json_arena_free(a);
	return *rc || dropped ? NULL : fbuf_detach(&out, NULL);
}

static char *run(tprog *t, size_t ix, const char *doc, int *rc,
		 ferry_err *err)
{
	return run_mode(t, ix, doc, 0, rc, err);
}

/* ops applied to in must give exactly out (' for " in all three). */
static void expect_doc(const char *ops, const char *in, const char *out)
{
	tprog t;
	ferry_err err = {0, ""};
	int rc;
	prog_ops(&t, ops);
	char *got = run(&t, 0, in, &rc, &err);
	if (rc)
		fail_msg("ops %s on %s failed: %s", ops, in, err.msg);
	if (!got || strcmp(got, Q(out)))
		fail_msg("ops %s on %s gave %s, want %s", ops, in,
			 got ? got : "(dropped)", Q(out));
	free(got);
	tprog_free(&t);
}

/* ops applied to in must fail with code and part in the message. */
static void expect_doc_fail(const char *ops, const char *in, int code,
			    const char *part)
{
	tprog t;
	ferry_err err = {0, ""};
	int rc;
	prog_ops(&t, ops);
	char *got = run(&t, 0, in, &rc, &err);
	if (!rc)
		fail_msg("ops %s on %s gave %s; expected an error", ops, in,
			 got ? got : "(dropped)");
	if (rc != code)
		fail_msg("code %d, want %d: %s", rc, code, err.msg);
	T_CONTAINS(err.msg, part);
	tprog_free(&t);
}

/* ------------------------------------------------------------------ */
/* Ops                                                                 */

static void test_op_rename(void **state)
{
	(void)state;
	const char *r = "{'rename':{'from':'a','to':'b'}}";
	expect_doc(r, "{'a':1,'c':2}", "{'c':2,'b':1}");
	expect_doc(r, "{'c':2}", "{'c':2}");            /* absent: no-op */
	expect_doc(r, "{'a':1,'b':{'x':1}}", "{'b':1}"); /* overwrites */
	expect_doc(r, "{'a':null}", "{'b':null}");
	expect_doc("{'rename':{'from':'p.name','to':'data.pii.first'}}",
		   "{'p':{'name':'Zoë','x':1}}",
		   "{'p':{'x':1},'data':{'pii':{'first':'Zoë'}}}");
	expect_doc("{'rename':{'from':'a','to':'a'}}", "{'a':1,'b':2}",
		   "{'a':1,'b':2}");
	expect_doc("{'rename':{'from':'a','to':'a.b'}}", "{'a':{'x':1}}",
		   "{'a':{'b':{'x':1}}}");
	expect_doc("{'rename':{'from':'a.b','to':'a'}}", "{'a':{'b':[1]}}",
		   "{'a':[1]}");
	expect_doc("{'rename':{'from':'a\\\\.b','to':'c'}}",
		   "{'a.b':1,'a':{'b':2}}", "{'a':{'b':2},'c':1}");
	expect_doc(r, "{'x':[{'a':1}]}", "{'x':[{'a':1}]}");
	expect_doc_fail("{'rename':{'from':'a','to':'s.t'}}",
			"{'a':1,'s':'str'}", FERRY_EINVAL,
			"index 'profile' op 1 (rename): cannot set 's.t': "
			"'s' is a string, not an object");
}

static void test_op_set(void **state)
{
	(void)state;
	expect_doc("{'set':{'field':'a','value':1}}", "{}", "{'a':1}");
	expect_doc("{'set':{'field':'a','value':{'b':[1,2.50]}}}", "{'a':0}",
		   "{'a':{'b':[1,2.50]}}");
	expect_doc("{'set':{'field':'x.y.z','value':null}}", "{'x':{}}",
		   "{'x':{'y':{'z':null}}}");
	/* the set value is copied: a later op cannot change the program */
	const char *ops = "{'set':{'field':'a','value':{'n':1}}},"
			  "{'set':{'field':'a.n','value':2}}";
	tprog t;
	ferry_err err = {0, ""};
	int rc;
	prog_ops(&t, ops);
	for (int i = 0; i < 3; i++) {
		char *got = run(&t, 0, "{}", &rc, &err);
		assert_int_equal(rc, 0);
		assert_string_equal(got, Q("{'a':{'n':2}}"));
		free(got);
	}
	tprog_free(&t);
	expect_doc_fail("{'set':{'field':'a.b.c','value':1}}",
			"{'a':{'b':[1]}}", FERRY_EINVAL,
			"cannot set 'a.b.c': 'a.b' is an array");
	expect_doc_fail("{'set':{'field':'a.b','value':1}}", "{'a':3}",
			FERRY_EINVAL, "'a' is a number");
}

static void test_op_remove(void **state)
{
	(void)state;
	const char *r = "{'remove':{'field':'a.b'}}";
	expect_doc(r, "{'a':{'b':1,'c':2}}", "{'a':{'c':2}}");
	expect_doc(r, "{'a':{'c':2}}", "{'a':{'c':2}}");
	expect_doc(r, "{'a':[{'b':1}]}", "{'a':[{'b':1}]}");
	expect_doc(r, "{'a':'s'}", "{'a':'s'}");
	expect_doc("{'remove':{'field':'a'}}", "{'x':1,'a':{},'y':2}",
		   "{'x':1,'y':2}");
}

static void test_op_default(void **state)
{
	(void)state;
	const char *d = "{'default':{'field':'s.v','value':0}}";
	expect_doc(d, "{}", "{'s':{'v':0}}");
	expect_doc(d, "{'s':{'v':null}}", "{'s':{'v':0}}");
	expect_doc(d, "{'s':{'v':5}}", "{'s':{'v':5}}");
	expect_doc(d, "{'s':{'v':false}}", "{'s':{'v':false}}");
	expect_doc(d, "{'s':{'v':''}}", "{'s':{'v':''}}");
	expect_doc(d, "{'s':{'v':0.0}}", "{'s':{'v':0.0}}");
	expect_doc("{'default':{'field':'t','value':[]}}", "{}", "{'t':[]}");
	expect_doc_fail(d, "{'s':[]}", FERRY_EINVAL, "'s' is an array");
}

static void test_op_copy(void **state)
{
	(void)state;
	expect_doc("{'copy':{'from':'a','to':'b.c'}}", "{'a':{'x':[1]}}",
		   "{'a':{'x':[1]},'b':{'c':{'x':[1]}}}");
	expect_doc("{'copy':{'from':'a','to':'b'}}", "{'z':1}", "{'z':1}");
	/* a deep copy: changing the copy leaves the source alone */
	expect_doc("{'copy':{'from':'a','to':'b'}},"
		   "{'set':{'field':'b.x','value':2}}", "{'a':{'x':1}}",
		   "{'a':{'x':1},'b':{'x':2}}");
	expect_doc("{'copy':{'from':'a','to':'a.self'}}", "{'a':{'x':1}}",
		   "{'a':{'x':1,'self':{'x':1}}}");
	expect_doc("{'copy':{'from':'a','to':'a'}}", "{'a':1,'b':2}",
		   "{'a':1,'b':2}");
	expect_doc_fail("{'copy':{'from':'a','to':'b.c'}}", "{'a':1,'b':true}",
			FERRY_EINVAL, "op 1 (copy): cannot set 'b.c': 'b' is "
			"a boolean");
}

/* One convert case: {"v": in} converted to `to` gives {"v": out}, or fails
 * (out NULL) with `why` in the message. */
typedef struct conv_case {
	const char *to, *in, *out, *why;
} conv_case;

static const conv_case conv_cases[] = {
	/* integer */
	{"integer", "42", "42", NULL},
	{"integer", "-7", "-7", NULL},
	{"integer", "'42'", "42", NULL},
	{"integer", "'-42'", "-42", NULL},
	{"integer", "4.0", "4", NULL},
	{"integer", "'4.0'", "4", NULL},
	{"integer", "1e3", "1000", NULL},
	{"integer", "-0", "0", NULL},
	{"integer", "9223372036854775807", "9223372036854775807", NULL},
	{"integer", "-9223372036854775808", "-9223372036854775808", NULL},
	{"integer", "true", "1", NULL},
	{"integer", "false", "0", NULL},
	{"integer", "4.5", NULL, "'v' = 4.5 to integer: it has a fraction"},
	{"integer", "'4.5'", NULL, "it has a fraction"},
	{"integer", "'abc'", NULL, "'v' = \"abc\" to integer: the string "
				   "is not a JSON number"},
	{"integer", "' 42'", NULL, "not a JSON number"},
	{"integer", "''", NULL, "not a JSON number"},
	{"integer", "'0x10'", NULL, "not a JSON number"},
	{"integer", "9223372036854775808", NULL, "outside the int64 range"},
	{"integer", "1e300", NULL, "outside the int64 range"},
	{"integer", "{}", NULL, "objects and arrays do not convert"},
	{"integer", "[1]", NULL, "objects and arrays do not convert"},
	/* float */
	{"float", "42", "42.0", NULL},
	{"float", "-3", "-3.0", NULL},
	{"float", "7.0", "7.0", NULL},
	{"float", "743.70", "743.70", NULL},
	{"float", "1e5", "1e5", NULL},
	{"float", "'3.14'", "3.14", NULL},
	{"float", "'42'", "42.0", NULL},
	{"float", "'1E-2'", "1E-2", NULL},
	{"float", "true", "1.0", NULL},
	{"float", "false", "0.0", NULL},
	{"float", "'abc'", NULL, "the string is not a JSON number"},
	{"float", "1e400", NULL, "out of the range of a double"},
	{"float", "'1e400'", NULL, "out of the range of a double"},
	{"float", "{'a':1}", NULL, "objects and arrays do not convert"},
	{"float", "[]", NULL, "objects and arrays do not convert"},
	/* boolean */
	{"boolean", "true", "true", NULL},
	{"boolean", "false", "false", NULL},
	{"boolean", "'true'", "true", NULL},
	{"boolean", "'false'", "false", NULL},
	{"boolean", "1", "true", NULL},
	{"boolean", "0", "false", NULL},
	{"boolean", "1.0", "true", NULL},
	{"boolean", "-0", "false", NULL},
	{"boolean", "2", NULL, "only the numbers 1 and 0 convert"},
	{"boolean", "0.5", NULL, "only the numbers 1 and 0 convert"},
	{"boolean", "'yes'", NULL, "only the strings \"true\" and \"false\""},
	{"boolean", "'True'", NULL, "only the strings"},
	{"boolean", "'1'", NULL, "only the strings"},
	{"boolean", "[]", NULL, "objects and arrays do not convert"},
	/* string */
	{"string", "'x'", "'x'", NULL},
	{"string", "''", "''", NULL},
	{"string", "42", "'42'", NULL},
	{"string", "7.0", "'7.0'", NULL},
	{"string", "1e5", "'1e5'", NULL},
	{"string", "-0.5", "'-0.5'", NULL},
	{"string", "true", "'true'", NULL},
	{"string", "false", "'false'", NULL},
	{"string", "{}", NULL, "'v' = {} to string: objects and arrays"},
	{"string", "[1,2]", NULL, "'v' = [1,2] to string"},
	/* null and absent are left alone, whatever the target */
	{"integer", "null", "null", NULL},
	{"float", "null", "null", NULL},
	{"boolean", "null", "null", NULL},
	{"string", "null", "null", NULL},
};

static void test_op_convert(void **state)
{
	(void)state;
	char ops[128], in[256], out[256];
	for (size_t i = 0; i < sizeof conv_cases / sizeof *conv_cases; i++) {
		const conv_case *c = &conv_cases[i];
		snprintf(ops, sizeof ops, "{'convert':{'field':'v','to':'%s'}}",
			 c->to);
		snprintf(in, sizeof in, "{'v':%s,'w':1}", c->in);
		if (c->out) {
			snprintf(out, sizeof out, "{'v':%s,'w':1}", c->out);
			expect_doc(ops, in, out);
		} else {
			expect_doc_fail(ops, in, FERRY_EINVAL, c->why);
		}
	}
	for (const char *to = "integer"; to; to = NULL) {
		snprintf(ops, sizeof ops, "{'convert':{'field':'a.v','to':'%s'}}",
			 to);
		expect_doc(ops, "{'w':1}", "{'w':1}");
		expect_doc(ops, "{'a':[1]}", "{'a':[1]}");
	}
	/* the whole message names the op, its place, the field and value */
	expect_doc_fail("{'set':{'field':'k','value':1}},"
			"{'convert':{'field':'age','to':'integer'}}",
			"{'age':'forty-two'}", FERRY_EINVAL,
			"/0.1.0_to_0.2.0.json:1:91: index 'profile' op 2 "
			"(convert)");
	expect_doc_fail("{'convert':{'field':'age','to':'integer'}}",
			"{'age':'forty-two'}", FERRY_EINVAL,
			"index 'profile' op 1 (convert): cannot convert 'age' "
			"= \"forty-two\" to integer: the string is not a JSON "
			"number");
	/* long values are cut in the message */
	char big[400];
	memset(big, 'x', 300);
	big[300] = 0;
	char doc[512];
	snprintf(doc, sizeof doc, "{'v':'%s'}", big);
	expect_doc_fail("{'convert':{'field':'v','to':'integer'}}", doc,
			FERRY_EINVAL, "xxx...");
}

static void test_ops_in_order(void **state)
{
	(void)state;
	expect_doc("{'rename':{'from':'a','to':'b'}},"
		   "{'convert':{'field':'b','to':'integer'}},"
		   "{'copy':{'from':'b','to':'c'}},"
		   "{'convert':{'field':'c','to':'string'}},"
		   "{'default':{'field':'d','value':'x'}},"
		   "{'remove':{'field':'b'}}",
		   "{'a':'42'}", "{'c':'42','d':'x'}");
	/* an op on a value an earlier op made */
	expect_doc("{'set':{'field':'m','value':{'k':'true'}}},"
		   "{'convert':{'field':'m.k','to':'boolean'}}",
		   "{}", "{'m':{'k':true}}");
}

static void test_apply_args(void **state)
{
	(void)state;
	tprog t;
	ferry_err err = {0, ""};
	json_arena *a = json_arena_new();
	json_value *v = json_new_array(a);
	int dropped = 7;
	prog_ops(&t, "{'remove':{'field':'a'}}");
	T_CODE(fmig_program_apply(t.p, 0, a, &v, &dropped, &err), FERRY_EINVAL,
	       &err);
	T_CONTAINS(err.msg, "not a JSON object");
	v = json_new_object(a);
	T_CODE(fmig_program_apply(t.p, 99, a, &v, &dropped, &err),
	       FERRY_EINVAL, &err);
	T_CODE(fmig_program_apply(NULL, 0, a, &v, &dropped, &err),
	       FERRY_EINVAL, &err);
	T_OK(fmig_program_apply(t.p, 1, a, &v, &dropped, &err), &err);
	assert_int_equal(dropped, 0);
	json_arena_free(a);
	tprog_free(&t);
}

/* ------------------------------------------------------------------ */
/* Load errors                                                         */

#define HOP "0.7.2_to_0.8.0.json"

/* The example of DESIGN.md with the lua op on line 12 misspelt. */
static const char design_bad[] =
	"{\n"
	"  \"from\": \"0.7.2\", \"to\": \"0.8.0\",\n"
	"  \"description\": \"Profiles move PII under data.pii.\",\n"
	"  \"indices\": {\n"
	"    \"profile\": {\n"
	"      \"ops\": [\n"
	"        {\"rename\":  {\"from\": \"pii.name\", \"to\": \"data.pii.firstname\"}},\n"
	"        {\"remove\":  {\"field\": \"pii\"}},\n"
	"        {\"default\": {\"field\": \"stats.visits\", \"value\": 0}},\n"
	"        {\"convert\": {\"field\": \"age\", \"to\": \"integer\"}},\n"
	"        {\"set\":     {\"field\": \"metadata.schema\", \"value\": \"0.8.0\"}},\n"
	"        {\"renme\":   {\"from\": \"a\", \"to\": \"b\"}}\n"
	"      ]\n"
	"    }\n"
	"  }\n"
	"}\n";

static void test_load_unknown_op(void **state)
{
	(void)state;
	expect_load_fail(HOP, design_bad, FERRY_EINVAL,
			 "/" HOP ":12:9: op 'renme' is not known; expected "
			 "one of rename, set, remove, default, copy, convert, "
			 "lua (did you mean 'rename'?)");
}

static void test_load_unknown_keys(void **state)
{
	(void)state;
	expect_load_fail(HOP, Q("{'from':'0.7.2','to':'0.8.0',\n"
				"  'indexes':{}}"), FERRY_EINVAL,
			 "/" HOP ":2:3: key 'indexes' is not known; expected "
			 "one of from, to, description, breaking, "
			 "deprecations, indices (did you mean 'indices'?)");
	expect_load_fail(HOP, Q("{'from':'0.7.2','to':'0.8.0','indices':{\n"
				"'profile':{'opz':[]}}}"), FERRY_EINVAL,
			 ":2:12: index key 'opz' is not known; expected one "
			 "of ops, rename_to, drop, create, mappings (did you "
			 "mean 'ops'?)");
	expect_load_fail(HOP, Q("{'from':'0.7.2','to':'0.8.0','indices':{\n"
				"'profile':{'ops':[{'set':{'feild':'a',"
				"'value':1}}]}}}"), FERRY_EINVAL,
			 ":2:27: parameter of set 'feild' is not known; "
			 "expected one of field, value (did you mean "
			 "'field'?)");
	expect_load_fail(HOP, Q("{'from':'0.7.2','to':'0.8.0','zzz':1}"),
			 FERRY_EINVAL, ":1:30: key 'zzz' is not known");
	expect_load_fail(HOP, Q("{'from':'0.7.2','to':'0.8.0','deprecations':"
				"[{'field':'a','removed_in':'0.9.0','usee':'b'}]}"),
			 FERRY_EINVAL, "deprecation key 'usee' is not known");
}

static void test_load_types(void **state)
{
	(void)state;
	const char *pre = "{'from':'0.7.2','to':'0.8.0','indices':{'profile':";
	struct { const char *spec, *msg; int code; } cases[] = {
		{"[]", "an index's spec must be an object, not an array",
		 FERRY_EINVAL},
		{"{'ops':{}}", "ops must be an array, not an object",
		 FERRY_EINVAL},
		{"{'ops':[1]}", "op 1 must be an object with one key",
		 FERRY_EINVAL},
		{"{'ops':[{'set':{'field':'a','value':1},'remove':{'field':'a'}}]}",
		 "op 1 must be an object with one key", FERRY_EINVAL},
		{"{'ops':[{}]}", "op 1 must be an object with one key",
		 FERRY_EINVAL},
		{"{'ops':[{'set':1}]}", "parameter of set must be an object",
		 FERRY_EINVAL},
		{"{'ops':[{'set':{'field':'a'}}]}", "set needs \"value\"",
		 FERRY_EINVAL},
		{"{'ops':[{'rename':{'to':'a'}}]}", "rename needs \"from\"",
		 FERRY_EINVAL},
		{"{'ops':[{'remove':{'field':3}}]}",
		 "field must be a string, not a number", FERRY_EINVAL},
		{"{'ops':[{'remove':{'field':''}}]}", "has an empty segment",
		 FERRY_EINVAL},
		{"{'ops':[{'remove':{'field':'a..b'}}]}",
		 "field 'a..b' has an empty segment", FERRY_EINVAL},
		{"{'ops':[{'remove':{'field':'a.'}}]}", "has an empty segment",
		 FERRY_EINVAL},
		{"{'ops':[{'remove':{'field':'a\\\\'}}]}",
		 "ends in a lone backslash", FERRY_EINVAL},
		{"{'ops':[{'remove':{'field':'a\\u0000b'}}]}",
		 "must not contain a NUL", FERRY_EINVAL},
		{"{'ops':[{'convert':{'field':'a','to':'int'}}]}",
		 "convert to 'int' is not known; expected one of string, "
		 "integer, float, boolean", FERRY_EINVAL},
		{"{'ops':[{'lua':{}}]}", "lua needs exactly one of \"file\"",
		 FERRY_EINVAL},
		{"{'ops':[{'lua':{'file':'a.lua','code':'x'}}]}",
		 "lua needs exactly one of", FERRY_EINVAL},
		{"{'ops':[{'lua':{'file':'../x.lua'}}]}",
		 "must be a path relative to the migrations directory",
		 FERRY_EINVAL},
		{"{'ops':[{'lua':{'file':'/etc/passwd'}}]}",
		 "must be a path relative", FERRY_EINVAL},
		{"{'ops':[{'lua':{'file':'missing.lua'}}]}",
		 "missing.lua: cannot open", FERRY_ENOTFOUND},
		{"{'rename_to':'Events'}", "rename_to: bad index name 'Events'",
		 FERRY_ENAME},
		{"{'rename_to':'profile'}", "rename_to is the index's own name",
		 FERRY_EINVAL},
		{"{'rename_to':5}", "rename_to must be a string", FERRY_EINVAL},
		{"{'drop':false}", "\"drop\" must be true (leave it out",
		 FERRY_EINVAL},
		{"{'create':1}", "\"create\" must be true", FERRY_EINVAL},
		{"{'drop':true,'ops':[]}", "\"drop\" cannot be combined with \"ops\"",
		 FERRY_EINVAL},
		{"{'drop':true,'rename_to':'x'}", "cannot be combined with "
		 "\"rename_to\"", FERRY_EINVAL},
		{"{'drop':true,'mappings':{}}", "cannot be combined with "
		 "\"mappings\"", FERRY_EINVAL},
		{"{'create':true,'drop':true}", "\"drop\" cannot be combined with "
		 "\"create\"", FERRY_EINVAL},
		{"{'create':true,'ops':[]}", "\"create\" cannot be combined with "
		 "\"ops\"", FERRY_EINVAL},
		{"{'mappings':[]}", "mappings must be an object", FERRY_EINVAL},
	};
	char text[1024];
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		snprintf(text, sizeof text, "%s%s}}", pre, cases[i].spec);
		char text2[1024];
		snprintf(text2, sizeof text2, "%s", Q(text));
		expect_load_fail(HOP, text2, cases[i].code, cases[i].msg);
	}
	expect_load_fail(HOP, Q("{'from':'0.7.2','to':'0.8.0','indices':"
				"{'Profile':{}}}"), FERRY_ENAME,
			 ":1:41: bad index name 'Profile'");
	expect_load_fail(HOP, Q("{'from':'0.7.2','to':'0.8.0','indices':[]}"),
			 FERRY_EINVAL, ":1:40: indices must be an object");
	expect_load_fail(HOP, Q("{'from':'0.7.2','to':'0.8.0','breaking':"
				"['a',2]}"), FERRY_EINVAL,
			 ":1:46: an entry of breaking must be a string");
	expect_load_fail(HOP, Q("{'from':'0.7.2','to':'0.8.0','description':"
				"null}"), FERRY_EINVAL,
			 "description must be a string, not null");
	expect_load_fail(HOP, Q("{'from':'0.7.2','to':'0.8.0','deprecations':"
				"[{'field':'a'}]}"), FERRY_EINVAL,
			 "a deprecation needs \"field\" and \"removed_in\"");
	expect_load_fail(HOP, Q("{'from':'0.7.2','to':'0.8.0','deprecations':"
				"[{'field':'a','removed_in':'v1'}]}"),
			 FERRY_EVERSION, "removed_in: bad version 'v1'");
	expect_load_fail(HOP, "[1]", FERRY_EINVAL,
			 ":1:1: expected an object with \"from\", \"to\" and "
			 "\"indices\", not an array");
}

static void test_load_versions(void **state)
{
	(void)state;
	const char *ok = Q("{'from':'0.7.2','to':'0.8.0'}");
	expect_load_fail("0.7.2-to-0.8.0.json", ok, FERRY_EINVAL,
			 "/0.7.2-to-0.8.0.json: a migration file is named "
			 "{from}_to_{to}.json");
	expect_load_fail("0.7.2_to_0.8.0.txt", ok, FERRY_EINVAL,
			 "a migration file is named");
	expect_load_fail("0.7.x_to_0.8.0.json", ok, FERRY_EVERSION,
			 "/0.7.x_to_0.8.0.json: file name: bad version "
			 "'0.7.x'");
	expect_load_fail("0.8.0_to_0.8.0.json", ok, FERRY_EVERSION,
			 "'from' and 'to' are the same version");
	expect_load_fail("0.8.0_to_0.8.json", ok, FERRY_EVERSION,
			 "'from' and 'to' are the same version");
	expect_load_fail("0.8.0_to_0.7.2.json", ok, FERRY_EVERSION,
			 "'to' is older than 'from'");
	expect_load_fail(HOP, Q("{'from':'0.7.3','to':'0.8.0'}"),
			 FERRY_EVERSION, ":1:9: \"from\" is \"0.7.3\" but the "
			 "file name says 0.7.2");
	expect_load_fail(HOP, Q("{'from':'0.7.2',\n 'to':'0.8'}"),
			 FERRY_EVERSION, ":2:7: \"to\" is \"0.8\" but the "
			 "file name says 0.8.0");
	expect_load_fail(HOP, Q("{'to':'0.8.0'}"), FERRY_EINVAL,
			 ":1:1: missing required key \"from\"");
	expect_load_fail(HOP, Q("{'from':'0.7.2'}"), FERRY_EINVAL,
			 "missing required key \"to\"");
	expect_load_fail(HOP, Q("{'from':7,'to':'0.8.0'}"), FERRY_EINVAL,
			 "from must be a string, not a number");
}

static void test_load_json_errors(void **state)
{
	(void)state;
	expect_load_fail(HOP, "{\n  \"from\": \"0.7.2\",\n  \"to\" \"0.8.0\"\n}",
			 FERRY_EJSON, "/" HOP ":3:8: invalid JSON: expected "
			 "':' after object key");
	expect_load_fail(HOP, "", FERRY_EJSON, ":1:1: invalid JSON");
	expect_load_fail(HOP, "{\"from\":\"0.7.2\",\"from\":\"0.7.2\"}",
			 FERRY_EJSON, "duplicate key");
	/* CRLF line ends and UTF-8 before the error: columns count
	 * characters */
	expect_load_fail(HOP, "{\r\n\"description\":\"Zoë\",\r\n\"from\":1}",
			 FERRY_EINVAL, ":3:8: from must be a string");
	expect_load_fail(HOP, "{\"description\":\"żółw\", \"x\":1}",
			 FERRY_EINVAL, ":1:24: key 'x' is not known");
}

static void test_linecol(void **state)
{
	(void)state;
	size_t l, c;
	const char *s = "ab\ncd\r\nxé\ty";
	fmig_linecol(s, strlen(s), 0, &l, &c);
	assert_true(l == 1 && c == 1);
	fmig_linecol(s, strlen(s), 3, &l, &c);
	assert_true(l == 2 && c == 1);
	fmig_linecol(s, strlen(s), 7, &l, &c);
	assert_true(l == 3 && c == 1);
	fmig_linecol(s, strlen(s), 10, &l, &c); /* the tab after "xé" */
	assert_true(l == 3 && c == 3);
	fmig_linecol(s, strlen(s), 999, &l, &c);
	assert_true(l == 3 && c == 5);
}

static void test_load_dir(void **state)
{
	(void)state;
	ferry_err err = {0, ""};
	fmig_set *s = NULL;
	char sub[600];
	T_CODE(fmig_dir_load("/nonexistent/ferry-migrations", &s, &err),
	       FERRY_ENOTFOUND, &err);
	T_CONTAINS(err.msg, "migrations directory '/nonexistent");
	T_CONTAINS(err.msg, "set FERRY_MIGRATIONS");
	/* empty directory: an empty set */
	snprintf(sub, sizeof sub, "%s/empty", tmpdir);
	mkdir(sub, 0755);
	T_OK(fmig_dir_load(sub, &s, &err), &err);
	assert_int_equal(fmig_set_count(s), 0);
	fmig_set_free(s);
	/* other files are skipped, a .json that is not a hop is not */
	wfiles("README.md", "notes");
	wfiles(".0.1.0_to_0.2.0.json.swp", "garbage");
	wfiles("0.2.0_to_0.3.0.json", Q("{'from':'0.2.0','to':'0.3.0'}"));
	wfiles("0.1.0_to_0.2.0.json", Q("{'from':'0.1.0','to':'0.2.0'}"));
	mkdir(strcat(strcpy(sub, tmpdir), "/lua.json"), 0755);
	T_OK(fmig_dir_load(tmpdir, &s, &err), &err);
	assert_int_equal(fmig_set_count(s), 2);
	assert_string_equal(fmig_set_hop(s, 0)->from, "0.1.0");
	assert_string_equal(fmig_set_hop(s, 1)->from, "0.2.0");
	T_CONTAINS(fmig_set_hop(s, 1)->path, "/0.2.0_to_0.3.0.json");
	assert_null(fmig_set_hop(s, 2));
	fmig_set_free(s);
	wfiles("notes.json", "{}");
	T_CODE(fmig_dir_load(tmpdir, &s, &err), FERRY_EINVAL, &err);
	T_CONTAINS(err.msg, "/notes.json: a migration file is named");
	remove(strcat(strcpy(sub, tmpdir), "/notes.json"));
	/* two files for one hop */
	wfiles("0.2_to_0.3.0.json", Q("{'from':'0.2','to':'0.3.0'}"));
	T_CODE(fmig_dir_load(tmpdir, &s, &err), FERRY_EEXISTS, &err);
	T_CONTAINS(err.msg, "two files for the hop 0.2.0->0.3.0: ");
	T_CONTAINS(err.msg, "0.2_to_0.3.0.json; keep one");
	T_CONTAINS(err.msg, "0.2.0_to_0.3.0.json");
	remove(strcat(strcpy(sub, tmpdir), "/0.2_to_0.3.0.json"));
	/* a cycle needs a backward hop, which is refused */
	wfiles("0.3.0_to_0.1.0.json", Q("{'from':'0.3.0','to':'0.1.0'}"));
	T_CODE(fmig_dir_load(tmpdir, &s, &err), FERRY_EVERSION, &err);
	T_CONTAINS(err.msg, "0.3.0_to_0.1.0.json: 'to' is older than 'from'");
	remove(strcat(strcpy(sub, tmpdir), "/0.3.0_to_0.1.0.json"));
}

static void test_load_size_cap(void **state)
{
	(void)state;
	ferry_err err = {0, ""};
	fmig_set *s = NULL;
	size_t n = FMIG_FILE_MAX + 1;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, ' ', n);
	memcpy(big, "{\"from\":\"0.1.0\",\"to\":\"0.2.0\"}", 29);
	big[n] = 0;
	wfile("0.1.0_to_0.2.0.json", big, n);
	T_CODE(fmig_dir_load(tmpdir, &s, &err), FERRY_ELIMIT, &err);
	T_CONTAINS(err.msg, "0.1.0_to_0.2.0.json: 4194305 bytes; a migration "
		   "file may have at most 4194304");
	T_OK(fmig_set_new(tmpdir, &s, &err), &err);
	T_CODE(fmig_set_add(s, "0.1.0_to_0.2.0.json", big, n, &err),
	       FERRY_ELIMIT, &err);
	fmig_set_free(s);
	/* exactly at the cap is fine */
	T_OK(fmig_set_new(tmpdir, &s, &err), &err);
	T_OK(fmig_set_add(s, "0.1.0_to_0.2.0.json", big, n - 1, &err), &err);
	fmig_set_free(s);
	free(big);
}

static void test_load_info(void **state)
{
	(void)state;
	ferry_err err = {0, ""};
	fmig_set *s = NULL;
	T_OK(load_set(&s, &err, "0.1.0_to_0.2.0.json",
		      Q("{'from':'0.1.0','to':'0.2.0','description':'d',"
			"'breaking':['b1','b2'],'deprecations':[{'field':'f',"
			"'removed_in':'0.9.0','use':'g'},{'field':'h',"
			"'removed_in':'1.0'}]}"), NULL), &err);
	const fmig_hop_info *h = fmig_set_hop(s, 0);
	assert_string_equal(h->description, "d");
	assert_int_equal(h->nbreaking, 2);
	assert_string_equal(h->breaking[1], "b2");
	assert_int_equal(h->ndeprecations, 2);
	assert_string_equal(h->deprecations[0].use, "g");
	assert_string_equal(h->deprecations[1].removed_in, "1.0");
	assert_string_equal(h->deprecations[1].use, "");
	assert_string_equal(h->lua_checksum, "");
	fmig_set_free(s);
	/* after an add error the set can only be freed; finish twice is
	 * refused */
	T_OK(fmig_set_new(tmpdir, &s, &err), &err);
	T_OK(fmig_set_finish(s, &err), &err);
	T_CODE(fmig_set_finish(s, &err), FERRY_EINVAL, &err);
	T_CODE(fmig_set_add(s, "0.1.0_to_0.2.0.json", "{}", 2, &err),
	       FERRY_EINVAL, &err);
	fmig_set_free(s);
	fmig_set_free(NULL);
	fmig_chain_free(NULL);
	fmig_program_free(NULL);
}

/* ------------------------------------------------------------------ */
/* Checksums                                                           */

static void test_checksum(void **state)
{
	(void)state;
	char a[FMIG_CHECKSUM_HEX], b[FMIG_CHECKSUM_HEX];
	assert_int_equal(fmig_checksum("abc", 3, a), 0);
	assert_string_equal(a, "ba7816bf8f01cfea414140de5dae2223b00361a396177a"
			       "9cb410ff61f20015ad");
	const char *same[] = {"abc\n", "abc\r\n", "abc\n\n\n", "abc \t\r\n ",
			      "abc\r\n\r\n"};
	for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
		assert_int_equal(fmig_checksum(same[i], strlen(same[i]), b), 0);
		assert_string_equal(a, b);
	}
	const char *lf = "{\n  \"a\": 1\n}\n", *crlf = "{\r\n  \"a\": 1\r\n}";
	assert_int_equal(fmig_checksum(lf, strlen(lf), a), 0);
	assert_int_equal(fmig_checksum(crlf, strlen(crlf), b), 0);
	assert_string_equal(a, b);
	const char *other[] = {"{\n  \"a\": 2\n}", "{\n  \"a\":1\n}",
			       "{\r  \"a\": 1\r}", " {\n  \"a\": 1\n}"};
	for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
		assert_int_equal(fmig_checksum(other[i], strlen(other[i]), b),
				 0);
		assert_string_not_equal(a, b);
	}
	assert_int_equal(fmig_checksum("", 0, a), 0);
	assert_int_equal(fmig_checksum(" \n", 2, b), 0);
	assert_string_equal(a, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b93"
			       "4ca495991b7852b855");
	assert_string_equal(a, b);
}

static void test_checksum_files(void **state)
{
	(void)state;
	ferry_err err = {0, ""};
	fmig_set *s = NULL;
	char want[FMIG_CHECKSUM_HEX], first[FMIG_CHECKSUM_HEX],
		lua1[FMIG_CHECKSUM_HEX];
	const char *lf = "{\n \"from\": \"0.1.0\", \"to\": \"0.2.0\",\n"
			 " \"indices\": {\"profile\": {\"ops\": [{\"lua\": "
			 "{\"file\": \"s/x.lua\"}}]}}\n}\n";
	char crlf[512];
	size_t k = 0;
	for (const char *p = lf; *p; p++) {
		if (*p == '\n')
			crlf[k++] = '\r';
		crlf[k++] = *p;
	}
	crlf[k] = 0;
	wfiles("s/x.lua", "function transform(d) return d end\n");
	wfiles("0.1.0_to_0.2.0.json", lf);
	T_OK(fmig_dir_load(tmpdir, &s, &err), &err);
	assert_int_equal(fmig_checksum(lf, strlen(lf), want), 0);
	assert_string_equal(fmig_set_hop(s, 0)->checksum, want);
	strcpy(first, want);
	strcpy(lua1, fmig_set_hop(s, 0)->lua_checksum);
	assert_int_equal(strlen(lua1), 64);
	fmig_set_free(s);
	/* the same file saved with CRLF, the script too: same checksums */
	wfiles("0.1.0_to_0.2.0.json", crlf);
	wfiles("s/x.lua", "function transform(d) return d end\r\n\r\n");
	T_OK(fmig_dir_load(tmpdir, &s, &err), &err);
	assert_string_equal(fmig_set_hop(s, 0)->checksum, first);
	assert_string_equal(fmig_set_hop(s, 0)->lua_checksum, lua1);
	fmig_set_free(s);
	/* a changed script changes lua_checksum only */
	wfiles("s/x.lua", "function transform(d) return nil end\n");
	T_OK(fmig_dir_load(tmpdir, &s, &err), &err);
	assert_string_equal(fmig_set_hop(s, 0)->checksum, first);
	assert_string_not_equal(fmig_set_hop(s, 0)->lua_checksum, lua1);
	fmig_set_free(s);
	/* a changed file changes checksum */
	wfiles("0.1.0_to_0.2.0.json", Q("{'from':'0.1.0','to':'0.2.0'}"));
	T_OK(fmig_dir_load(tmpdir, &s, &err), &err);
	assert_string_not_equal(fmig_set_hop(s, 0)->checksum, first);
	fmig_set_free(s);
}

/* ------------------------------------------------------------------ */
/* Chains                                                              */

static const char *hop_text(const char *from, const char *to)
{
	static char ring[8][128];
	static int next;
	char *b = ring[next++ % 8];
	snprintf(b, sizeof ring[0], "{\"from\":\"%s\",\"to\":\"%s\"}", from, to);
	return b;
}

static char *chain_text(const fmig_chain *c)
{
	static char buf[512];
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; i < fmig_chain_count(c); i++)
		used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s->%s",
					 i ? " " : "", fmig_chain_hop(c, i)->from,
					 fmig_chain_hop(c, i)->to);
	return buf;
}

static void test_plan(void **state)
{
	(void)state;
	ferry_err err = {0, ""};
	fmig_set *s = NULL;
	fmig_chain *c = NULL;
	T_OK(load_set(&s, &err, "0.8.0_to_0.8.1.json", hop_text("0.8.0", "0.8.1"),
		      "0.7.1_to_0.7.2.json", hop_text("0.7.1", "0.7.2"), NULL),
	     &err);
	T_CODE(fmig_plan_chain(s, "0.7.1", "0.8.1", &c, &err), FERRY_ENOTFOUND,
	       &err);
	assert_string_equal(err.msg, "no migration from 0.7.2 to 0.8.0; known "
			    "hops: 0.7.1->0.7.2, 0.8.0->0.8.1; needed for "
			    "0.7.1 -> 0.8.1");
	T_CODE(fmig_plan_chain(s, "0.7.2", "0.8.0", &c, &err), FERRY_ENOTFOUND,
	       &err);
	assert_string_equal(err.msg, "no migration from 0.7.2 to 0.8.0; known "
			    "hops: 0.7.1->0.7.2, 0.8.0->0.8.1");
	T_CODE(fmig_plan_chain(s, "0.7.0", "0.7.2", &c, &err), FERRY_ENOTFOUND,
	       &err);
	T_CONTAINS(err.msg, "no migration from 0.7.0 to 0.7.1;");
	T_CODE(fmig_plan_chain(s, "0.8.0", "0.9.0", &c, &err), FERRY_ENOTFOUND,
	       &err);
	T_CONTAINS(err.msg, "no migration from 0.8.1 to 0.9.0;");
	T_CODE(fmig_plan_chain(s, "0.8.1", "0.8.0", &c, &err), FERRY_EVERSION,
	       &err);
	T_CONTAINS(err.msg, "cannot migrate from 0.8.1 down to 0.8.0");
	T_CODE(fmig_plan_chain(s, "0.8.x", "0.8.1", &c, &err), FERRY_EVERSION,
	       &err);
	T_OK(fmig_plan_chain(s, "0.8.0", "0.8.1", &c, &err), &err);
	assert_string_equal(chain_text(c), "0.8.0->0.8.1");
	fmig_chain_free(c);
	T_OK(fmig_plan_chain(s, "0.8", "0.8.1.0", &c, &err), &err);
	assert_int_equal(fmig_chain_count(c), 1);
	fmig_chain_free(c);
	T_OK(fmig_plan_chain(s, "0.8.1", "0.8.1", &c, &err), &err);
	assert_int_equal(fmig_chain_count(c), 0);
	assert_null(fmig_chain_hop(c, 0));
	fmig_chain_free(c);
	fmig_set_free(s);
	T_OK(load_set(&s, &err, NULL), &err);
	T_CODE(fmig_plan_chain(s, "0.1", "0.2", &c, &err), FERRY_ENOTFOUND,
	       &err);
	assert_string_equal(err.msg, "no migration from 0.1 to 0.2; known "
			    "hops: none");
	fmig_set_free(s);
}

static void test_plan_paths(void **state)
{
	(void)state;
	ferry_err err = {0, ""};
	fmig_set *s = NULL;
	fmig_chain *c = NULL;
	/* a long chain, loaded in any order */
	T_OK(load_set(&s, &err,
		      "0.3.0_to_0.4.0.json", hop_text("0.3.0", "0.4.0"),
		      "0.1.0_to_0.2.0.json", hop_text("0.1.0", "0.2.0"),
		      "0.4.0_to_1.0.0.json", hop_text("0.4.0", "1.0.0"),
		      "0.2.0_to_0.3.0.json", hop_text("0.2.0", "0.3.0"),
		      "0.2.0_to_0.4.0.json", hop_text("0.2.0", "0.4.0"), NULL),
	     &err);
	/* the fewest hops: the shortcut 0.2.0 -> 0.4.0 */
	T_OK(fmig_plan_chain(s, "0.1.0", "1.0.0", &c, &err), &err);
	assert_string_equal(chain_text(c), "0.1.0->0.2.0 0.2.0->0.4.0 "
			    "0.4.0->1.0.0");
	fmig_chain_free(c);
	T_OK(fmig_plan_chain(s, "0.2.0", "0.3.0", &c, &err), &err);
	assert_string_equal(chain_text(c), "0.2.0->0.3.0");
	fmig_chain_free(c);
	T_OK(fmig_plan_chain(s, "0.3.0", "1.0.0", &c, &err), &err);
	assert_string_equal(chain_text(c), "0.3.0->0.4.0 0.4.0->1.0.0");
	fmig_chain_free(c);
	fmig_set_free(s);
	/* two chains of the same length: refused, both named */
	T_OK(load_set(&s, &err,
		      "0.1.0_to_0.2.0.json", hop_text("0.1.0", "0.2.0"),
		      "0.2.0_to_0.4.0.json", hop_text("0.2.0", "0.4.0"),
		      "0.1.0_to_0.3.0.json", hop_text("0.1.0", "0.3.0"),
		      "0.3.0_to_0.4.0.json", hop_text("0.3.0", "0.4.0"),
		      "0.4.0_to_0.5.0.json", hop_text("0.4.0", "0.5.0"), NULL),
	     &err);
	T_CODE(fmig_plan_chain(s, "0.1.0", "0.4.0", &c, &err), FERRY_EINVAL,
	       &err);
	T_CONTAINS(err.msg, "more than one chain of 2 hops leads from 0.1.0 "
		   "to 0.4.0: ");
	T_CONTAINS(err.msg, "0.1.0->0.2.0->0.4.0");
	T_CONTAINS(err.msg, "0.1.0->0.3.0->0.4.0");
	T_CODE(fmig_plan_chain(s, "0.1.0", "0.5.0", &c, &err), FERRY_EINVAL,
	       &err);
	T_CONTAINS(err.msg, "0.1.0->0.2.0->0.4.0->0.5.0");
	T_CONTAINS(err.msg, "0.1.0->0.3.0->0.4.0->0.5.0");
	T_OK(fmig_plan_chain(s, "0.2.0", "0.5.0", &c, &err), &err);
	assert_string_equal(chain_text(c), "0.2.0->0.4.0 0.4.0->0.5.0");
	fmig_chain_free(c);
	fmig_set_free(s);
	/* development versions */
	T_OK(load_set(&s, &err, "0.9.0-dev_to_0.9.0.json",
		      hop_text("0.9.0-dev", "0.9.0"), NULL), &err);
	T_OK(fmig_plan_chain(s, "0.9.0-dev", "0.9.0", &c, &err), &err);
	assert_int_equal(fmig_chain_count(c), 1);
	fmig_chain_free(c);
	fmig_set_free(s);
}

/* ------------------------------------------------------------------ */
/* Composition                                                         */

static void expect_entry(const fmig_program *p, size_t i, const char *source,
			 const char *target, int dropped, int created,
			 size_t nops)
{
	const fmig_index_info *ii = fmig_program_index(p, i);
	assert_non_null(ii);
	if (source)
		assert_string_equal(ii->source, source);
	else
		assert_null(ii->source);
	assert_string_equal(ii->target, target);
	assert_int_equal(ii->dropped, dropped);
	assert_int_equal(ii->created, created);
	assert_int_equal(ii->nops, nops);
}

static char *mapping_text(const fmig_program *p, size_t i)
{
	static char buf[1024];
	fbuf b = FBUF_INIT;
	const json_value *m = fmig_program_index(p, i)->mappings;
	if (!m)
		return strcpy(buf, "null");
	assert_int_equal(json_write(m, &b), 0);
	snprintf(buf, sizeof buf, "%s", b.p);
	fbuf_release(&b);
	return buf;
}

static void test_compose(void **state)
{
	(void)state;
	ferry_err err = {0, ""};
	tprog t = {0};
	T_OK(load_set(&t.s, &err,
		"0.1.0_to_0.2.0.json", Q(
		"{'from':'0.1.0','to':'0.2.0','indices':{"
		" 'profile':{'ops':[{'set':{'field':'v','value':1}}],"
		"  'mappings':{'properties':{'a':{'type':'keyword'},"
		"   'v':{'type':'long'}},'dynamic':false}},"
		" 'event':{'rename_to':'events',"
		"  'ops':[{'set':{'field':'e','value':1}}]},"
		" 'tmp':{'create':true},"
		" 'consent':{'create':true,'mappings':{'properties':{}}}}}"),
		"0.2.0_to_0.3.0.json", Q(
		"{'from':'0.2.0','to':'0.3.0','indices':{"
		" 'profile':{'ops':[{'set':{'field':'v','value':2}},"
		"  {'set':{'field':'w','value':2}}],"
		"  'mappings':{'properties':{'v':{'type':'integer'},"
		"   'w':{'type':'long'}},'dynamic':'strict'}},"
		" 'events':{'rename_to':'evts',"
		"  'ops':[{'rename':{'from':'e','to':'f'}}]},"
		" 'session':{'drop':true},"
		" 'tmp':{'drop':true},"
		" 'consent':{'rename_to':'consents'}}}"),
		"0.3.0_to_0.4.0.json", Q(
		"{'from':'0.3.0','to':'0.4.0','indices':{"
		" 'consents':{'ops':[{'remove':{'field':'x'}}]},"
		" 'session':{'create':true}}}"),
		NULL), &err);
	T_OK(tprog_compose(&t, "0.1.0", "0.4.0", &err), &err);
	assert_int_equal(fmig_program_count(t.p), 5);
	expect_entry(t.p, 0, "profile", "profile", 0, 0, 3);
	expect_entry(t.p, 1, "event", "evts", 0, 0, 2);
	expect_entry(t.p, 2, "session", "session", 1, 0, 0);
	expect_entry(t.p, 3, NULL, "consents", 0, 1, 1);
	expect_entry(t.p, 4, NULL, "session", 0, 1, 0);
	assert_null(fmig_program_index(t.p, 5));
	assert_string_equal(mapping_text(t.p, 0), Q(
		"{'properties':{'a':{'type':'keyword'},'v':{'type':'integer'},"
		"'w':{'type':'long'}},'dynamic':'strict'}"));
	assert_string_equal(mapping_text(t.p, 1), "null");
	assert_string_equal(mapping_text(t.p, 3), Q("{'properties':{}}"));
	int rc;
	char *out = run(&t, 0, "{'v':0}", &rc, &err);
	assert_string_equal(out, Q("{'v':2,'w':2}"));
	free(out);
	out = run(&t, 1, "{'x':0}", &rc, &err);
	assert_string_equal(out, Q("{'x':0,'f':1}"));
	free(out);
	assert_null(run(&t, 2, "{'x':0}", &rc, &err)); /* dropped */
	assert_int_equal(rc, 0);
	tprog_free(&t);
}

/* FMIG_ABSENT_OK: an index the deployment never had is tracked empty and
 * reported; naming one after it was renamed stays an error. */
static void test_compose_absent_ok(void **state)
{
	(void)state;
	ferry_err err = {0, ""};
	tprog t = {0};
	const char *two[] = {"profile", "event"};
	T_OK(load_set(&t.s, &err, "0.1.0_to_0.2.0.json", Q(
		"{'from':'0.1.0','to':'0.2.0','indices':{\n"
		"  'profile':{},\n  'session':{'drop':true},"
		"  'legacy':{'rename_to':'old'}}}"), NULL), &err);
	T_OK(fmig_plan_chain(t.s, "0.1.0", "0.2.0", &t.c, &err), &err);
	T_CODE(fmig_compose(t.c, two, 2, &t.p, &err), FERRY_EINVAL, &err);
	T_OK(fmig_compose_flags(t.c, two, 2, FMIG_ABSENT_OK, &t.p, &err), &err);
	assert_string_equal(fmig_program_absent(t.p), "session, legacy");
	/* entries: the two sources, then "legacy" (renamed, not dropped) */
	assert_int_equal(fmig_program_count(t.p), 3);
	assert_string_equal(fmig_program_index(t.p, 2)->target, "old");
	assert_string_equal(fmig_program_index(t.p, 2)->source, "legacy");
	tprog_free(&t);
	/* renamed earlier, then named by its old name: still refused */
	T_OK(load_set(&t.s, &err,
		"0.1.0_to_0.2.0.json", Q("{'from':'0.1.0','to':'0.2.0',"
		"'indices':{'event':{'rename_to':'events'}}}"),
		"0.2.0_to_0.3.0.json", Q("{'from':'0.2.0','to':'0.3.0',"
		"'indices':{'event':{}}}"), NULL), &err);
	T_OK(fmig_plan_chain(t.s, "0.1.0", "0.3.0", &t.c, &err), &err);
	T_CODE(fmig_compose_flags(t.c, two, 2, FMIG_ABSENT_OK, &t.p, &err),
	       FERRY_EINVAL, &err);
	T_CONTAINS(err.msg, "index 'event' does not exist at 0.2.0");
	tprog_free(&t);
}

static void test_compose_errors(void **state)
{
	(void)state;
	ferry_err err = {0, ""};
	tprog t = {0};
	/* a typo in an index name */
	T_OK(load_set(&t.s, &err, "0.1.0_to_0.2.0.json", Q(
		"{'from':'0.1.0','to':'0.2.0','indices':{\n"
		"  'profile':{},\n  'sesion':{'drop':true}}}"), NULL), &err);
	T_CODE(tprog_compose(&t, "0.1.0", "0.2.0", &err), FERRY_EINVAL, &err);
	T_CONTAINS(err.msg, "/0.1.0_to_0.2.0.json:3:3: index 'sesion' does not "
		   "exist at 0.1.0 (indices then: profile, event, session); a "
		   "typo?");
	tprog_free(&t);
	/* the index was renamed in an earlier hop */
	T_OK(load_set(&t.s, &err,
		"0.1.0_to_0.2.0.json", Q("{'from':'0.1.0','to':'0.2.0',"
		"'indices':{'event':{'rename_to':'events'}}}"),
		"0.2.0_to_0.3.0.json", Q("{'from':'0.2.0','to':'0.3.0',"
		"'indices':{'event':{}}}"), NULL), &err);
	T_CODE(tprog_compose(&t, "0.1.0", "0.3.0", &err), FERRY_EINVAL, &err);
	T_CONTAINS(err.msg, "index 'event' does not exist at 0.2.0 (indices "
		   "then: profile, events, session)");
	tprog_free(&t);
	/* create an index that exists, rename onto one */
	T_OK(load_set(&t.s, &err, "0.1.0_to_0.2.0.json", Q(
		"{'from':'0.1.0','to':'0.2.0','indices':{'event':"
		"{'create':true}}}"), NULL), &err);
	T_CODE(tprog_compose(&t, "0.1.0", "0.2.0", &err), FERRY_EINVAL, &err);
	T_CONTAINS(err.msg, "0.1.0_to_0.2.0.json: after this hop two indices "
		   "are named 'event'");
	tprog_free(&t);
	T_OK(load_set(&t.s, &err, "0.1.0_to_0.2.0.json", Q(
		"{'from':'0.1.0','to':'0.2.0','indices':{'event':"
		"{'rename_to':'session'}}}"), NULL), &err);
	T_CODE(tprog_compose(&t, "0.1.0", "0.2.0", &err), FERRY_EINVAL, &err);
	T_CONTAINS(err.msg, "two indices are named 'session'");
	tprog_free(&t);
	/* swapping two names in one hop is fine; so is reusing a dropped
	 * one */
	T_OK(load_set(&t.s, &err, "0.1.0_to_0.2.0.json", Q(
		"{'from':'0.1.0','to':'0.2.0','indices':{"
		"'event':{'rename_to':'session'},"
		"'session':{'rename_to':'event'}}}"),
		"0.2.0_to_0.3.0.json", Q(
		"{'from':'0.2.0','to':'0.3.0','indices':{"
		"'profile':{'drop':true},'event':{'rename_to':'profile'}}}"),
		NULL), &err);
	T_OK(tprog_compose(&t, "0.1.0", "0.3.0", &err), &err);
	expect_entry(t.p, 0, "profile", "profile", 1, 0, 0);
	expect_entry(t.p, 1, "event", "session", 0, 0, 0);
	expect_entry(t.p, 2, "session", "profile", 0, 0, 0);
	fmig_program_free(t.p);
	t.p = NULL;
	/* bad arguments */
	const char *dup[] = {"a", "a"};
	T_CODE(fmig_compose(t.c, dup, 2, &t.p, &err), FERRY_EINVAL, &err);
	T_CONTAINS(err.msg, "source index 'a' is listed twice");
	T_CODE(fmig_compose(NULL, dup, 1, &t.p, &err), FERRY_EINVAL, &err);
	tprog_free(&t);
}

/* An error in a later hop names that hop's file and op number. */
static void test_compose_provenance(void **state)
{
	(void)state;
	ferry_err err = {0, ""};
	tprog t = {0};
	int rc;
	T_OK(load_set(&t.s, &err,
		"0.1.0_to_0.2.0.json", Q("{'from':'0.1.0','to':'0.2.0',"
		"'indices':{'profile':{'ops':[{'set':{'field':'a','value':'x'}},"
		"{'set':{'field':'b','value':1}}]}}}"),
		"0.2.0_to_0.3.0.json", Q("{'from':'0.2.0','to':'0.3.0',"
		"'indices':{'profile':{'ops':[\n"
		"  {'remove':{'field':'b'}},\n"
		"  {'convert':{'field':'a','to':'float'}}]}}}"), NULL), &err);
	T_OK(tprog_compose(&t, "0.1.0", "0.3.0", &err), &err);
	assert_null(run(&t, 0, "{}", &rc, &err));
	assert_int_equal(rc, FERRY_EINVAL);
	T_CONTAINS(err.msg, "/0.2.0_to_0.3.0.json:3:3: index 'profile' op 2 "
		   "(convert): cannot convert 'a' = \"x\" to float");
	tprog_free(&t);
}

static void test_merge(void **state)
{
	(void)state;
	json_arena *a = json_arena_new();
	json_value *base = NULL, *over = NULL;
	fbuf b = FBUF_INIT;
	const char *bt = Q("{'p':{'a':{'t':'k'},'b':1},'x':[1],'y':{}}");
	const char *ot = Q("{'p':{'a':{'u':2},'c':3},'x':{'z':1},'y':5}");
	assert_int_equal(json_parse(a, bt, strlen(bt), &base, NULL), 0);
	assert_int_equal(json_parse(a, ot, strlen(ot), &over, NULL), 0);
	assert_int_equal(fmig_json_merge(a, base, over), 0);
	assert_int_equal(json_write(base, &b), 0);
	assert_string_equal(b.p, Q("{'p':{'a':{'t':'k','u':2},'b':1,'c':3},"
				   "'x':{'z':1},'y':5}"));
	assert_int_equal(fmig_json_merge(a, base, json_new_array(a)),
			 FERRY_EINVAL);
	fbuf_release(&b);
	json_arena_free(a);
}

/* ------------------------------------------------------------------ */
/* Lua                                                                 */

/* A program whose profile runs Lua `code` (plain C string). */
/* A program of one hop: the script, then the ops `then` (JSON). */
static int prog_lua_then(tprog *t, const char *code, const char *then,
			 ferry_err *err)
{
	fbuf text = FBUF_INIT;
	memset(t, 0, sizeof *t);
	fbuf_adds(&text, "{\"from\":\"0.1.0\",\"to\":\"0.2.0\",\"indices\":"
		  "{\"profile\":{\"ops\":[{\"lua\":{\"code\":");
	fbuf_add_jstr(&text, code, strlen(code));
	fbuf_adds(&text, "}},");
	fbuf_adds(&text, then);
	fbuf_adds(&text, "]}}}");
	int rc = load_set(&t->s, err, "0.1.0_to_0.2.0.json", text.p, NULL);
	fbuf_release(&text);
	return rc ? rc : tprog_compose(t, "0.1.0", "0.2.0", err);
}

static int prog_lua(tprog *t, const char *code, ferry_err *err)
{
	return prog_lua_then(t, code,
			     "{\"set\":{\"field\":\"after\",\"value\":1}}", err);
}

/* The script on `in`, parsed fully and lazily, gives `out` both times
 * (NULL: dropped). */
static void expect_lua(const char *code, const char *in, const char *out)
{
	tprog t;
	ferry_err err = {0, ""};
	int rc;
	T_OK(prog_lua(&t, code, &err), &err);
	for (int lazy = 0; lazy < 2; lazy++) {
		char *got = run_mode(&t, 0, in, lazy, &rc, &err);
		if (rc)
			fail_msg("lua on %s failed: %s", in, err.msg);
		if (out && (!got || strcmp(got, Q(out))))
			fail_msg("lua on %s (lazy %d) gave %s, want %s", in,
				 lazy, got ? got : "(dropped)", Q(out));
		if (!out && got)
			fail_msg("lua on %s gave %s, want it dropped", in, got);
		free(got);
	}
	tprog_free(&t);
}

static void expect_lua_fail(const char *code, const char *in, int code_rc,
			    const char *part)
{
	tprog t;
	ferry_err err = {0, ""};
	int rc;
	T_OK(prog_lua(&t, code, &err), &err);
	char *got = run(&t, 0, in, &rc, &err);
	if (!rc)
		fail_msg("lua on %s gave %s; expected an error", in,
			 got ? got : "(dropped)");
	if (rc != code_rc)
		fail_msg("code %d, want %d: %s", rc, code_rc, err.msg);
	T_CONTAINS(err.msg, part);
	/* the state still works after an error */
	free(run(&t, 0, "{'ok':1}", &rc, &err));
	tprog_free(&t);
}

static void test_lua_transform(void **state)
{
	(void)state;
	expect_lua("function transform(d) d.n = d.a + 1; d.a = nil; "
		   "return d end", "{'a':41,'b':'x'}",
		   "{'b':'x','n':42,'after':1}");
	expect_lua("function transform(d) return {id = d.id, "
		   "name = string.upper(d.name)} end",
		   "{'id':'7','name':'zoë x','junk':[1]}",
		   "{'id':'7','name':'ZOë X','after':1}");
	/* nil drops; later ops do not run */
	expect_lua("function transform(d) if d.email == nil then return nil "
		   "end return d end", "{'x':1}", NULL);
	expect_lua("function transform(d) if d.email == nil then return nil "
		   "end return d end", "{'email':'a@b'}",
		   "{'email':'a@b','after':1}");
	/* helpers and locals at chunk level are fine */
	expect_lua("local function twice(x) return 2 * x end\n"
		   "function transform(d) d.v = twice(d.v) return d end",
		   "{'v':21}", "{'v':42,'after':1}");
	/* json helpers */
	expect_lua("function transform(d) d.e = json.array(); "
		   "d.o = json.object(); d.n = json.null; d.s = {3,2,1}; "
		   "d.m = {}; d.k = json.object({1}) == nil; return d end",
		   "{}", "{'e':[],'k':false,'m':{},'n':null,'o':{},"
		   "'s':[3,2,1],'after':1}");
}

/* `first` goes through t's script, which keeps a table of it; the next
 * document's use of that table is refused. */
static void expect_stale(tprog *t, const char *first)
{
	ferry_err err = {0, ""};
	int rc;
	free(run(t, 0, first, &rc, &err));
	T_OK(rc, &err);
	assert_null(run(t, 0, "{'a':{'x':2}}", &rc, &err));
	assert_int_equal(rc, FERRY_EINVAL);
	T_CONTAINS(err.msg, "kept a table of an earlier document");
}

/* Nested objects and arrays reach a script as lazy tables that fill
 * themselves when first used (luajson.h). Every way a script can look at
 * or change a table must see the document as it is. */
static void test_lua_lazy_tables(void **state)
{
	(void)state;
	const char *in = "{'a':{'x':1,'y':{'z':[1,2]}},'arr':[5,6,7],"
			 "'e':{},'s':'k'}";
	/* untouched nested values come back exactly */
	expect_lua("function transform(d) d.s = 'v' return d end", in,
		   "{'a':{'x':1,'y':{'z':[1,2]}},'arr':[5,6,7],'e':{},"
		   "'s':'v','after':1}");
	/* next, pairs, rawget, rawlen, #, ipairs on unfilled tables */
	expect_lua("function transform(d) local n = 0 "
		   "for k in next, d.a do n = n + 1 end "
		   "local m = 0 for k, v in pairs(d.a.y) do m = m + #v end "
		   "local s = 0 for _, v in ipairs(d.arr) do s = s + v end "
		   "return {n = n, m = m, s = s, r = rawget(d.a, 'x'), "
		   "l = rawlen(d.arr), h = #d.arr} end", in,
		   "{'h':3,'l':3,'m':2,'n':2,'r':1,'s':18,'after':1}");
	/* rawset and table.insert/remove change the right table */
	expect_lua("function transform(d) rawset(d.a, 'w', 3) "
		   "table.insert(d.arr, 8) table.remove(d.arr, 1) "
		   "d.a.y.z[3] = 9 return d end", in,
		   "{'a':{'x':1,'y':{'z':[1,2,9]},'w':3},'arr':[6,7,8],"
		   "'e':{},'s':'k','after':1}");
	/* metatables: the json marks, and a script that drops them */
	expect_lua("function transform(d) "
		   "d.o = getmetatable(d.a) == json.object_mt "
		   "d.r = getmetatable(d.arr) == json.array_mt "
		   "setmetatable(d.e, nil) json.array(d.a.y) json.array(d.z) "
		   "json.object(d.w) return d end",
		   "{'a':{'y':{}},'arr':[],'e':{'k':1},'z':[1,2],'w':{'q':2}}",
		   "{'a':{'y':[]},'arr':[],'e':{'k':1},'z':[1,2],'w':{'q':2},"
		   "'o':true,'r':true,'after':1}");
	/* a nested table returned as the document, one used twice */
	expect_lua("function transform(d) return d.a end", in,
		   "{'x':1,'y':{'z':[1,2]},'after':1}");
	expect_lua("function transform(d) d.b = d.a.y d.c = d.a.y return d "
		   "end", "{'a':{'y':{'q':1}}}",
		   "{'a':{'y':{'q':1}},'b':{'q':1},'c':{'q':1},'after':1}");
	/* a table kept from one document and used in the next */
	const char *keep = "local kept function transform(d) "
			   "if kept then d.old = kept.x end kept = d.a "
			   "return d end";
	tprog t;
	ferry_err err = {0, ""};
	int rc;
	T_OK(prog_lua(&t, keep, &err), &err);
	expect_stale(&t, "{'a':{'x':1}}");
	tprog_free(&t);
	/* the same after a document of many tables */
	T_OK(prog_lua(&t, "local kept function transform(d) "
		      "if kept then local k = kept kept = nil d.old = k.x "
		      "end for _, v in pairs(d) do kept = v end return d end",
		      &err), &err);
	char big[4096];
	size_t bl = (size_t)snprintf(big, sizeof big, "{");
	for (int i = 0; i < 100; i++)
		bl += (size_t)snprintf(big + bl, sizeof big - bl,
				       "%s'k%d':{'x':%d}", i ? "," : "", i, i);
	snprintf(big + bl, sizeof big - bl, "}");
	expect_stale(&t, big);
	expect_stale(&t, "{'a':{'x':1}}");
	tprog_free(&t);
	/* the same error caught by the script: the conversion goes on */
	T_OK(prog_lua(&t, "local kept function transform(d) "
		      "if kept then d.ok = pcall(function() return kept.x "
		      "end) end kept = d.a d.n = #d.b.c return d end", &err),
	     &err);
	const char *in2 = "{'a':{'x':1},'b':{'c':[1,2]}}";
	char *got = run_mode(&t, 0, in2, 0, &rc, &err);
	T_OK(rc, &err);
	assert_string_equal(got, Q("{'a':{'x':1},'b':{'c':[1,2]},'n':2,"
				   "'after':1}"));
	free(got);
	for (int lazy = 0; lazy < 2; lazy++) {
		got = run_mode(&t, 0, in2, lazy, &rc, &err);
		T_OK(rc, &err);
		assert_string_equal(got, Q("{'a':{'x':1},'b':{'c':[1,2]},"
					   "'n':2,'ok':false,'after':1}"));
		free(got);
	}
	tprog_free(&t);
}

/* An object fetches a member when the script first reads or writes it;
 * the members it never used go back without entering Lua. Reads, writes,
 * deletes and full walks mixed in every order must see one document. */
static void test_lua_lazy_members(void **state)
{
	(void)state;
	const char *in = "{'a':1,'b':{'x':1},'c':'k'}";
	/* deleted without being read, read then deleted, deleted twice */
	expect_lua("function transform(d) d.a = nil return d end", in,
		   "{'b':{'x':1},'c':'k','after':1}");
	expect_lua("function transform(d) local v = d.b d.b = nil d.b = nil "
		   "d.v = v.x return d end", in,
		   "{'a':1,'c':'k','v':1,'after':1}");
	/* nothing left, or nothing there */
	expect_lua("function transform(d) d.a = nil return d end", "{'a':1}",
		   "{'after':1}");
	expect_lua("function transform(d) local v = d.q return d end", "{}",
		   "{'after':1}");
	/* deleted then set again: back in its place */
	expect_lua("function transform(d) d.a = nil d.a = 5 return d end", in,
		   "{'a':5,'b':{'x':1},'c':'k','after':1}");
	/* a key it does not have, read and then written */
	expect_lua("function transform(d) d.n = d.zz == nil d.zz = 2 "
		   "return d end", in,
		   "{'a':1,'b':{'x':1},'c':'k','n':true,'zz':2,'after':1}");
	/* a walk after changes sees them and brings nothing deleted back */
	expect_lua("function transform(d) d.a = 10 d.c = nil local n = 0 "
		   "for k, v in pairs(d) do n = n + 1 end d.n = n "
		   "d.r = rawget(d, 'a') return d end", in,
		   "{'a':10,'b':{'x':1},'n':2,'r':10,'after':1}");
	expect_lua("function transform(d) d.b.y = d.a local k = {} "
		   "for key in next, d.b do k[#k + 1] = key end "
		   "table.sort(k) d.k = table.concat(k, ',') return d end", in,
		   "{'a':1,'b':{'x':1,'y':1},'c':'k','k':'x,y','after':1}");
	/* a member read and written back unchanged keeps its text */
	expect_lua("function transform(d) d.a = d.a d.c = d.c return d end",
		   "{'a':743.70,'c':'k'}", "{'a':743.70,'c':'k','after':1}");
	/* only the objects a script uses are looked at */
	expect_lua("function transform(d) d.b.z = json.object() return d end",
		   "{'a':[1,{'q':[]}],'b':{'x':{'y':[2]}},'c':{}}",
		   "{'a':[1,{'q':[]}],'b':{'x':{'y':[2]},'z':{}},'c':{},"
		   "'after':1}");
	expect_lua_fail("function transform(d) d[1] = 'x' return d end", in,
			FERRY_EINVAL, "an object key is number");
}

/* With the document read lazily, what the script leaves alone keeps its
 * stored text (escapes included), down to single members of an object it
 * changed; what it read or changed is written anew. */
static void test_lua_lazy_raw(void **state)
{
	(void)state;
	tprog t;
	ferry_err err = {0, ""};
	int rc;
	T_OK(prog_lua(&t, "function transform(d) d.b.n = 2 d.b.u = d.b.t "
		      "return d end", &err), &err);
	const char *in = "{'a':{'s':'\\u0041'},'b':{'s':'\\u0042',"
			 "'t':'\\u0043'}}";
	char *lazy = run_mode(&t, 0, in, 1, &rc, &err);
	T_OK(rc, &err);
	assert_string_equal(lazy, Q("{'a':{'s':'\\u0041'},'b':{'s':'\\u0042',"
				    "'t':'C','n':2,'u':'C'},'after':1}"));
	char *full = run_mode(&t, 0, in, 0, &rc, &err);
	T_OK(rc, &err);
	assert_string_equal(full, Q("{'a':{'s':'A'},'b':{'s':'B','t':'C',"
				    "'n':2,'u':'C'},'after':1}"));
	free(lazy);
	free(full);
	tprog_free(&t);
}

/* The pull hands the document's nodes to the result instead of copying
 * them; a table the script puts in two places must still give two
 * separate values, or the ops after the script would change both. */
static void test_lua_consumes_doc(void **state)
{
	(void)state;
	static const char *const cases[][3] = {
		/* a table never read, placed twice */
		{"function transform(d) d.c = d.a return d end",
		 "{'a':{'y':1,'s':'t'}}",
		 "{'a':{'y':'1','s':'t','x':9},'c':{'y':1,'s':'t'}}"},
		/* read and changed, placed twice */
		{"function transform(d) local t = d.a t.z = t.y d.c = t "
		 "return d end",
		 "{'a':{'y':1,'s':'t'}}",
		 "{'a':{'y':'1','s':'t','z':1,'x':9},"
		 "'c':{'y':1,'s':'t','z':1}}"},
		/* a filled table (pairs), placed twice */
		{"function transform(d) for k in pairs(d.a) do end "
		 "d.c = d.a return d end",
		 "{'a':{'y':1,'s':'t'}}",
		 "{'a':{'y':'1','s':'t','x':9},'c':{'y':1,'s':'t'}}"},
		/* an array inside, placed twice */
		{"function transform(d) d.c = d.a return d end",
		 "{'a':{'y':1,'l':[{'q':2}]}}",
		 "{'a':{'y':'1','l':[{'q':2}],'x':9},'c':{'y':1,'l':[{'q':2}]}}"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		tprog t;
		ferry_err err = {0, ""};
		int rc;
		T_OK(prog_lua_then(&t, cases[i][0],
				   "{\"set\":{\"field\":\"a.x\",\"value\":9}},"
				   "{\"convert\":{\"field\":\"a.y\","
				   "\"to\":\"string\"}}", &err), &err);
		for (int lazy = 0; lazy < 2; lazy++) {
			char *got = run_mode(&t, 0, cases[i][1], lazy, &rc,
					     &err);
			T_OK(rc, &err);
			if (strcmp(got, Q(cases[i][2])))
				fail_msg("case %zu (lazy %d): %s gave %s, want "
					 "%s", i, lazy, cases[i][0], got,
					 Q(cases[i][2]));
			free(got);
		}
		tprog_free(&t);
	}
}

/* A document's lazy tables are known by address until it ends: one the
 * script drops must not be collected then, or a new table could get its
 * address and be taken for it (members in the old table's order, its
 * nodes handed over). The state's allocator reuses freed blocks of a
 * size at once, so garbage made after the drop makes that likely (this
 * failed at the 6th document without the anchors); many documents
 * through one state, in both parse modes. */
static void test_lua_dropped_tables(void **state)
{
	(void)state;
	tprog t;
	ferry_err err = {0, ""};
	int rc;
	T_OK(prog_lua(&t, "function transform(d) "
		      "local s = d.s local n = s.b d.s = nil s = nil "
		      "for i = 1, 20000 do local g = {i} end "
		      "d.s = json.object({b = n + 1, a = 2}) "
		      "d.m = {z = 1, y = 2} return d end", &err), &err);
	for (int i = 0; i < 60; i++) {
		char *got = run_mode(&t, 0, Q("{'s':{'b':1,'a':0,'c':3},"
					      "'m':{'y':0,'z':0}}"), i & 1,
				     &rc, &err);
		T_OK(rc, &err);
		if (strcmp(got, Q("{'s':{'a':2,'b':2},'m':{'y':2,'z':1},"
				  "'after':1}")))
			fail_msg("document %d (lazy %d): %s", i, i & 1, got);
		free(got);
	}
	tprog_free(&t);
}

static void test_lua_roundtrip(void **state)
{
	(void)state;
	const char *id = "function transform(d) return d end";
	const char *doc = "{'i':1,'neg':-0,'f':1.5,'g':7.0,'m':743.70,"
			  "'e':1e5,'E':-2.5E-3,'big':123456789012345678901234,"
			  "'huge':1e400,'s':'a\\u0000b\\\"\\\\ – Zoë',"
			  "'t':true,'n':null,'ea':[],'eo':{},"
			  "'nest':{'z':1,'a':[{},[],[null,false]],'m':2},"
			  "'after':0}";
	char want[1024];
	snprintf(want, sizeof want, "%s", Q(doc));
	want[strlen(want) - 2] = '1'; /* the set op after the script */
	tprog t;
	ferry_err err = {0, ""};
	int rc;
	T_OK(prog_lua(&t, id, &err), &err);
	char *got = run(&t, 0, doc, &rc, &err);
	if (rc)
		fail_msg("%s", err.msg);
	assert_string_equal(got, want);
	free(got);
	tprog_free(&t);
	/* types as the script sees them */
	expect_lua("function transform(d) return {i = math.type(d.i), "
		   "f = math.type(d.f), g = math.type(d.g), e = math.type(d.e), "
		   "n = d.n == json.null, ea = getmetatable(d.ea) == "
		   "json.array_mt, eo = getmetatable(d.eo) == json.object_mt} "
		   "end", "{'i':1,'f':1.5,'g':7.0,'e':1e2,'n':null,'ea':[],"
		   "'eo':{}}",
		   "{'e':'float','ea':true,'eo':true,'f':'float','g':'float',"
		   "'i':'integer','n':true,'after':1}");
	/* changed numbers: integers stay integers, floats floats */
	expect_lua("function transform(d) d.i = d.i * 2; d.f = d.f * 2; "
		   "d.g = d.g + 1; d.h = 10 / 4; d.k = 2^53; d.j = 3 // 1; "
		   "d.m = 0.1 + 0.2; return d end",
		   "{'i':2,'f':1.25,'g':7.0}",
		   "{'i':4,'f':2.5,'g':8.0,'h':2.5,'j':3,"
		   "'k':9007199254740992.0,'m':0.30000000000000004,'after':1}");
	/* member order: the original order, then new keys sorted */
	expect_lua("function transform(d) d.zz = 1; d.aa = 2; d.b = nil; "
		   "d.mm = 3; d.c.y = 0; return d end",
		   "{'c':{'x':1},'b':2,'a':1}",
		   "{'c':{'x':1,'y':0},'a':1,'aa':2,'mm':3,'zz':1,'after':1}");
	/* a table moved elsewhere keeps its own order */
	expect_lua("function transform(d) d.w = d.v; d.v = nil; return d end",
		   "{'v':{'q':1,'b':2,'x':3}}",
		   "{'w':{'q':1,'b':2,'x':3},'after':1}");
}

static void test_lua_bad_results(void **state)
{
	(void)state;
	expect_lua_fail("function transform(d) return 5 end", "{}",
			FERRY_EINVAL, "transform must return a table (the "
			"document) or nil (drop it), not number");
	expect_lua_fail("function transform(d) return {1,2} end", "{}",
			FERRY_EINVAL, "transform returned an array");
	expect_lua_fail("function transform(d) d.f = print; return d end", "{}",
			FERRY_EINVAL, "transform's result at 'f': function "
			"cannot be stored in JSON");
	expect_lua_fail("function transform(d) d.a.b = {[1]='x', y=2}; return d "
			"end", "{'a':{}}", FERRY_EINVAL,
			"transform's result at 'a.b': an object key is number, "
			"not a string");
	expect_lua_fail("function transform(d) d.a[1] = 'x'; return d end",
			"{'a':{'b':1}}", FERRY_EINVAL, "transform's result at "
			"'a': an object key is number, not a string");
	expect_lua_fail("function transform(d) d.a[5] = 1; return d end",
			"{'a':[1,2]}", FERRY_EINVAL, "at 'a': an array must "
			"have exactly the keys 1..n");
	expect_lua_fail("function transform(d) d.x = {1, 'a', 0/0}; return d "
			"end", "{}", FERRY_EINVAL, "at 'x[2]': ");
	expect_lua_fail("function transform(d) d.x = '\\xff'; return d end",
			"{}", FERRY_EINVAL, "at 'x': the string is not valid "
			"UTF-8");
	expect_lua_fail("function transform(d) d.a['\\xff'] = 1; return d end",
			"{'a':{'b':1}}", FERRY_EINVAL, "at 'a': a key is not "
			"valid UTF-8");
	expect_lua_fail("function transform(d) d['k\\xc3'] = 1; return d end",
			"{}", FERRY_EINVAL, "at '(the document)': a key is not "
			"valid UTF-8");
	expect_lua_fail("function transform(d) d.self = d; return d end", "{}",
			FERRY_EINVAL, "nested deeper than 512");
	expect_lua_fail("function transform(d) d.u = io.stdout; return d end",
			"{}", FERRY_EINVAL, "attempt to index a nil value "
			"(global 'io')");
}

static void test_lua_sandbox(void **state)
{
	(void)state;
	expect_lua("function transform(d) return {io = type(io), os = type(os),"
		   " require = type(require), package = type(package), "
		   "debug = type(debug), dofile = type(dofile), "
		   "loadfile = type(loadfile), cg = type(collectgarbage), "
		   "dump = type(string.dump), coroutine = type(coroutine), "
		   "str = type(string), tbl = type(table), math = type(math), "
		   "utf8 = type(utf8), print = type(print)} end", "{}",
		   "{'cg':'nil','coroutine':'nil','debug':'nil',"
		   "'dofile':'nil','dump':'nil','io':'nil','loadfile':'nil',"
		   "'math':'table','os':'nil','package':'nil',"
		   "'print':'function','require':'nil','str':'table',"
		   "'tbl':'table','utf8':'table','after':1}");
	expect_lua_fail("function transform(d) io.open('/etc/passwd') end",
			"{}", FERRY_EINVAL, "global 'io'");
	expect_lua_fail("function transform(d) os.execute('true') end", "{}",
			FERRY_EINVAL, "global 'os'");
	expect_lua_fail("function transform(d) require('io') end", "{}",
			FERRY_EINVAL, "global 'require'");
	/* load is text only, print is harmless */
	expect_lua("function transform(d) local f, e = load('\\27Lua') "
		   "d.bin = (f == nil) and e:find('binary') ~= nil; "
		   "d.txt = load('return 6 * 7')(); print('hi'); return d end",
		   "{}", "{'bin':true,'txt':42,'after':1}");
	/* no new globals while transforming */
	expect_lua_fail("function transform(d) counter = 1; return d end", "{}",
			FERRY_EINVAL, "assignment to global 'counter' in "
			"transform");
	/* math.random is seeded the same way in every state */
	tprog a, b;
	ferry_err err = {0, ""};
	int rc;
	const char *rnd = "function transform(d) d.r = math.random(1, 1000000)"
			  " return d end";
	T_OK(prog_lua(&a, rnd, &err), &err);
	T_OK(prog_lua(&b, rnd, &err), &err);
	char *ra = run(&a, 0, "{}", &rc, &err), *rb = run(&b, 0, "{}", &rc, &err);
	assert_string_equal(ra, rb);
	free(ra);
	free(rb);
	tprog_free(&a);
	tprog_free(&b);
}

/* POSIX timers of this process (/proc/self/timers), -1 if unknown. */
static int timer_count(void)
{
	FILE *f = fopen("/proc/self/timers", "r");
	char line[256];
	int n = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		n += strncmp(line, "ID:", 3) == 0;
	fclose(f);
	return n;
}

static void *run_one(void *arg)
{
	tprog *t = arg;
	int rc;
	ferry_err err = {0, ""};
	char *out = run(t, 0, "{'n':1}", &rc, &err);
	free(out);
	return (void *)(intptr_t)(rc ? -1 : fmig_lwatch_running());
}

/* Calls run without a hook under the watch (lwatch.c): it runs on every
 * thread that makes calls, stops endless loops there, and a thread's
 * timer goes when the thread does. */
static void test_lua_watch(void **state)
{
	(void)state;
	tprog t;
	ferry_err err = {0, ""};
	int rc;
	T_OK(prog_lua(&t, "function transform(d) if d.loop then "
		      "while true do end end return d end", &err), &err);
	free(run(&t, 0, "{}", &rc, &err));
	T_OK(rc, &err);
	assert_int_equal(fmig_lwatch_running(), 1);
	int before = timer_count();
	assert_true(before >= 1);
	for (int i = 0; i < 20; i++) { /* one program, one thread at a time */
		pthread_t th;
		void *res;
		assert_int_equal(pthread_create(&th, NULL, run_one, &t), 0);
		assert_int_equal(pthread_join(th, &res), 0);
		assert_int_equal((intptr_t)res, 1);
	}
	assert_int_equal(timer_count(), before);
	/* an endless loop on this thread is still stopped, and the state
	 * runs the next document without the hook */
	assert_null(run(&t, 0, "{'loop':true}", &rc, &err));
	assert_int_equal(rc, FERRY_ELIMIT);
	T_CONTAINS(err.msg, "more than 10000000 Lua instructions");
	char *out = run(&t, 0, "{'x':1}", &rc, &err);
	T_OK(rc, &err);
	assert_string_equal(out, Q("{'x':1,'after':1}"));
	free(out);
	/* a child of fork (no timers of its own at first) still stops a
	 * loop; the alarm turns a hang into a failure */
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(30);
		char *o = run(&t, 0, "{'loop':true}", &rc, &err);
		_exit(!o && rc == FERRY_ELIMIT && fmig_lwatch_running() ? 0 : 1);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	tprog_free(&t);
}

static void test_lua_limits(void **state)
{
	(void)state;
	double t0 = t_now_ms();
	expect_lua_fail("function transform(d) while true do end end", "{}",
			FERRY_ELIMIT, "index 'profile' op 1 (lua): the script "
			"ran more than 10000000 Lua instructions (an endless "
			"loop?)");
	expect_lua_fail("function transform(d) while true do pcall(function() "
			"while true do end end) end end", "{}", FERRY_ELIMIT,
			"more than 10000000 Lua instructions");
	expect_lua_fail("function transform(d) local t = {} for i = 1, 1e9 do "
			"t[i] = {i} end end", "{}", FERRY_ELIMIT,
			"the script needs more than 64 MiB of memory");
	expect_lua_fail("function transform(d) local s = string.rep('x', "
			"1 << 30) end", "{}", FERRY_ELIMIT,
			"needs more than 64 MiB");
	expect_lua_fail("function transform(d) local s = 'x' while true do "
			"pcall(function() s = s .. s end) end end", "{}",
			FERRY_ELIMIT, "needs more than 64 MiB");
	print_message("  [ limits ] five runaway scripts stopped in %.0f ms\n",
		      t_now_ms() - t0);
	/* a limit is per call: the next document gets a fresh budget */
	tprog t;
	ferry_err err = {0, ""};
	int rc;
	T_OK(prog_lua(&t, "function transform(d) local n = 0 for i = 1, "
		      "d.n do n = n + 1 end d.n = n return d end", &err), &err);
	for (int i = 0; i < 3; i++) {
		char *out = run(&t, 0, "{'n':1000000}", &rc, &err);
		T_OK(rc, &err);
		free(out);
	}
	assert_null(run(&t, 0, "{'n':100000000}", &rc, &err));
	assert_int_equal(rc, FERRY_ELIMIT);
	tprog_free(&t);
}

static void test_lua_errors(void **state)
{
	(void)state;
	ferry_err err = {0, ""};
	tprog t = {0};
	int rc;
	/* a runtime error names the script file and line */
	wfiles("0.2.0/p.lua", "-- p.lua\nfunction transform(doc)\n"
	       "  return doc.stats.visits + 1\nend\n");
	T_OK(load_set(&t.s, &err, "0.1.0_to_0.2.0.json", Q(
		"{'from':'0.1.0','to':'0.2.0','indices':{'profile':{'ops':"
		"[{'lua':{'file':'0.2.0/p.lua'}}]}}}"), NULL), &err);
	T_OK(tprog_compose(&t, "0.1.0", "0.2.0", &err), &err);
	assert_null(run(&t, 0, "{}", &rc, &err));
	assert_int_equal(rc, FERRY_EINVAL);
	T_CONTAINS(err.msg, "/0.1.0_to_0.2.0.json:1:59: index 'profile' op 1 "
		   "(lua): ");
	T_CONTAINS(err.msg, "0.2.0/p.lua:3: attempt to index a nil value "
		   "(field 'stats')");
	tprog_free(&t);
	/* an error raised by the script */
	expect_lua_fail("function transform(d)\n error('no id') end", "{}",
			FERRY_EINVAL, ":2: no id");
	expect_lua_fail("function transform(d) error({}) end", "{}",
			FERRY_EINVAL, "an error that is not a string");
	/* syntax errors when loading */
	wfiles("0.2.0/bad.lua", "function transform(d)\n  return d +\nend\n");
	expect_load_fail("0.1.0_to_0.2.0.json", Q(
		"{'from':'0.1.0','to':'0.2.0','indices':{'profile':{'ops':"
		"[{'lua':{'file':'0.2.0/bad.lua'}}]}}}"), FERRY_EINVAL,
		"0.2.0/bad.lua:3: unexpected symbol near 'end' (lua op at ");
	expect_load_fail("0.1.0_to_0.2.0.json", Q(
		"{'from':'0.1.0','to':'0.2.0','indices':{'profile':{'ops':"
		"[{'lua':{'code':'function transform(d'}}]}}}"), FERRY_EINVAL,
		"0.1.0_to_0.2.0.json:1:59 code:1: ");
	/* no transform, or a main chunk that fails: when composing */
	T_OK(load_set(&t.s, &err, "0.1.0_to_0.2.0.json", Q(
		"{'from':'0.1.0','to':'0.2.0','indices':{'profile':{'ops':"
		"[{'lua':{'code':'function transfrom(d) return d end'}}]}}}"),
		NULL), &err);
	T_CODE(tprog_compose(&t, "0.1.0", "0.2.0", &err), FERRY_EINVAL, &err);
	T_CONTAINS(err.msg, "does not define a global function transform(doc)");
	tprog_free(&t);
	T_OK(load_set(&t.s, &err, "0.1.0_to_0.2.0.json", Q(
		"{'from':'0.1.0','to':'0.2.0','indices':{'profile':{'ops':"
		"[{'lua':{'code':'while true do end'}}]}}}"), NULL), &err);
	T_CODE(tprog_compose(&t, "0.1.0", "0.2.0", &err), FERRY_ELIMIT, &err);
	tprog_free(&t);
}

/* ------------------------------------------------------------------ */
/* The CDP example                                                     */

#define CDP_DIR "examples/cdp/migrations"

/* Reads `cdp-gen args` output (malloc'd). */
static char *cdp_gen(const char *args, size_t *len)
{
	const char *b = getenv("B");
	const char *cands[] = {b, "build", "build-san"};
	char cmd[512], path[256];
	fbuf out = FBUF_INIT;
	for (size_t i = 0; i < 3; i++) {
		if (!cands[i])
			continue;
		snprintf(path, sizeof path, "%s/cdp-gen", cands[i]);
		if (access(path, X_OK) == 0)
			break;
		path[0] = 0;
	}
	if (!path[0])
		fail_msg("no cdp-gen in $B, build/ or build-san/: run make");
	snprintf(cmd, sizeof cmd, "%s %s", path, args);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	char chunk[65536];
	size_t got;
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
		assert_int_equal(fbuf_add(&out, chunk, got), 0);
	assert_int_equal(pclose(f), 0);
	return fbuf_detach(&out, len);
}

/* Runs every line of text through entry ix of p; counts outcomes. The
 * output of the last document goes to last (if non-NULL). */
static void cdp_run(fmig_program *p, size_t ix, const char *text, size_t n,
		    size_t *docs, size_t *dropped, fbuf *last,
		    void (*check)(const json_value *))
{
	json_arena *a = json_arena_new();
	ferry_err err = {0, ""};
	*docs = *dropped = 0;
	for (const char *q = text, *e = text + n; q < e;) {
		const char *nl = memchr(q, '\n', (size_t)(e - q));
		json_value *v = NULL;
		int gone = 0;
		json_arena_reset(a);
		assert_int_equal(json_parse(a, q, (size_t)(nl - q), &v, NULL), 0);
		T_OK(fmig_program_apply(p, ix, a, &v, &gone, &err), &err);
		if (gone) {
			(*dropped)++;
		} else {
			if (check)
				check(v);
			if (last) {
				fbuf_clear(last);
				assert_int_equal(json_write(v, last), 0);
			}
		}
		(*docs)++;
		q = nl + 1;
	}
	json_arena_free(a);
}

static void check_profile(const json_value *v)
{
	const json_value *age = json_path_get(v, "age");
	const json_value *eng = json_path_get(v, "data.metrics.engagement");
	const json_value *sch = json_path_get(v, "metadata.schema");
	int64_t i;
	assert_null(json_path_get(v, "pii"));
	assert_true(!age || json_number_int64(age, &i) == 0);
	assert_true(!age || !memchr(age->u.num.text, '.', age->u.num.len));
	assert_non_null(eng);
	assert_int_equal(eng->type, JSON_NUMBER);
	assert_true(memchr(eng->u.num.text, '.', eng->u.num.len) != NULL);
	assert_non_null(json_path_get(v, "data.metrics.tier"));
	assert_non_null(json_path_get(v, "stats.visits"));
	assert_true(sch && sch->type == JSON_STRING &&
		    !strcmp(sch->u.str.s, "0.8.1"));
}

static void check_event(const json_value *v)
{
	assert_null(json_path_get(v, "time"));
	assert_non_null(json_path_get(v, "metadata.time.insert"));
	assert_non_null(json_path_get(v, "type"));
}

static void test_cdp_examples(void **state)
{
	(void)state;
	ferry_err err = {0, ""};
	tprog t = {0};
	size_t plen, elen, slen, docs, dropped;
	fbuf last = FBUF_INIT;
	T_OK(fmig_dir_load(CDP_DIR, &t.s, &err), &err);
	assert_int_equal(fmig_set_count(t.s), 3);
	assert_string_not_equal(fmig_set_hop(t.s, 2)->lua_checksum, "");
	assert_int_equal(fmig_set_hop(t.s, 1)->ndeprecations, 1);
	T_OK(tprog_compose(&t, "0.7.1", "0.8.1", &err), &err);
	assert_int_equal(fmig_chain_count(t.c), 3);
	expect_entry(t.p, 0, "profile", "profile", 0, 0, 14);
	expect_entry(t.p, 1, "event", "events", 0, 0, 2);
	expect_entry(t.p, 2, "session", "session", 1, 0, 0);
	expect_entry(t.p, 3, NULL, "consent", 0, 1, 0);
	T_CONTAINS(mapping_text(t.p, 0), Q("'engagement':{'type':'float'}"));
	T_CONTAINS(mapping_text(t.p, 0), Q("'age':{'type':'integer'}"));

	char *prof = cdp_gen("--type profile --count 3000", &plen);
	char *ev = cdp_gen("--type event --count 3000 --profiles 1000", &elen);
	char *ses = cdp_gen("--type session --count 1000", &slen);
	cdp_run(t.p, 0, prof, plen, &docs, &dropped, &last, check_profile);
	assert_int_equal(docs, 3000);
	assert_int_equal(dropped, 0);
	cdp_run(t.p, 1, ev, elen, &docs, &dropped, NULL, check_event);
	assert_int_equal(docs, 3000);
	assert_int_equal(dropped, 0);
	cdp_run(t.p, 2, ses, slen, &docs, &dropped, NULL, NULL);
	assert_int_equal(dropped, 1000);
	/* the first profile of cdp-gen, fully */
	tprog_free(&t);
	T_OK(fmig_dir_load(CDP_DIR, &t.s, &err), &err);
	T_OK(tprog_compose(&t, "0.7.1", "0.8.1", &err), &err);
	const char *nl = strchr(prof, '\n');
	cdp_run(t.p, 0, prof, (size_t)(nl + 1 - prof), &docs, &dropped, &last,
		NULL);
	assert_string_equal(last.p,
		"{\"id\":\"9de73eb7-b61b-4460-82d1-57cee3b963b5\",\"metadata\":"
		"{\"time\":{\"insert\":\"2025-07-15T18:38:58Z\",\"update\":"
		"\"2025-08-25T02:52:34Z\",\"visit\":{\"last\":"
		"\"2025-08-10T07:07:21Z\",\"current\":\"2025-08-25T02:52:34Z\","
		"\"count\":21}},\"schema\":\"0.8.1\"},\"stats\":{\"visits\":21,"
		"\"views\":67},\"traits\":{\"public\":{\"plan\":\"free\","
		"\"channel\":\"push\"}},\"segments\":[],\"consents\":"
		"{\"analytics\":{\"revoke\":null}},\"data\":{\"pii\":"
		"{\"firstname\":\"Zoë\",\"lastname\":\"Papadopoulos\"},"
		"\"contact\":{\"email\":\"zoe.papadopoulos@example.org\"},"
		"\"metrics\":{\"engagement\":9.86,\"tier\":\"engaged\"}}}");
	fbuf_release(&last);
	free(prof);
	free(ev);
	free(ses);
	tprog_free(&t);
}

/* Composed == hop by hop, on the CDP profiles. */
static void test_cdp_composed_equals_hops(void **state)
{
	(void)state;
	ferry_err err = {0, ""};
	tprog all = {0}, h[3] = {{0}};
	const char *v[] = {"0.7.1", "0.7.2", "0.8.0", "0.8.1"};
	size_t plen;
	char *prof = cdp_gen("--type profile --count 500 --seed 7", &plen);
	json_arena *a = json_arena_new(), *b = json_arena_new();
	T_OK(fmig_dir_load(CDP_DIR, &all.s, &err), &err);
	T_OK(tprog_compose(&all, "0.7.1", "0.8.1", &err), &err);
	for (int i = 0; i < 3; i++) {
		T_OK(fmig_dir_load(CDP_DIR, &h[i].s, &err), &err);
		T_OK(tprog_compose(&h[i], v[i], v[i + 1], &err), &err);
	}
	for (const char *q = prof, *e = prof + plen; q < e;) {
		const char *nl = memchr(q, '\n', (size_t)(e - q));
		json_value *x = NULL, *y = NULL;
		int gone = 0;
		json_arena_reset(a);
		json_arena_reset(b);
		assert_int_equal(json_parse(a, q, (size_t)(nl - q), &x, NULL), 0);
		assert_int_equal(json_parse(b, q, (size_t)(nl - q), &y, NULL), 0);
		T_OK(fmig_program_apply(all.p, 0, a, &x, &gone, &err), &err);
		for (int i = 0; i < 3; i++)
			T_OK(fmig_program_apply(h[i].p, 0, b, &y, &gone, &err),
			     &err);
		assert_true(json_equal(x, y));
		q = nl + 1;
	}
	json_arena_free(a);
	json_arena_free(b);
	free(prof);
	tprog_free(&all);
	for (int i = 0; i < 3; i++)
		tprog_free(&h[i]);
}

/* ferry_migration_list: hops of a directory, targets from the active
 * data version (only those a chain reaches), and load errors. */
static void test_migration_list(void **state)
{
	(void)state;
	ferry_err err = {0, ""};
	tdb d;
	char *js = NULL, sub[600];
	t_setup(&d, "mlist", "0.7.1");
	T_OK(ferry_migration_list(d.db, CDP_DIR, &js, &err), &err);
	T_CONTAINS(js, Q("'active':'0.7.1'"));
	T_CONTAINS(js, Q("'targets':['0.7.2','0.8.0','0.8.1']"));
	T_CONTAINS(js, Q("'from':'0.7.2','to':'0.8.0','file':"
			 "'0.7.2_to_0.8.0.json'"));
	T_CONTAINS(js, Q("'breaking':['profile pii.name, pii.surname"));
	ferry_free(js);
	T_OK(ferry_migration_list(NULL, CDP_DIR, &js, &err), &err);
	T_CONTAINS(js, Q("'active':null"));
	T_CONTAINS(js, Q("'targets':[]"));
	ferry_free(js);
	/* a gap: 0.7.3 is not reachable from 0.7.1; older hops are no target */
	snprintf(sub, sizeof sub, "%s/m", tmpdir);
	mkdir(sub, 0755);
	wfiles("m/0.7.0_to_0.7.1.json", Q("{'from':'0.7.0','to':'0.7.1'}"));
	wfiles("m/0.7.1_to_0.7.2.json", Q("{'from':'0.7.1','to':'0.7.2',"
					  "'description':'two'}"));
	wfiles("m/0.7.2_to_0.7.2.1.json", Q("{'from':'0.7.2','to':'0.7.2.1'}"));
	wfiles("m/0.7.2.5_to_0.7.3.json", Q("{'from':'0.7.2.5','to':'0.7.3'}"));
	T_OK(ferry_migration_list(d.db, sub, &js, &err), &err);
	T_CONTAINS(js, Q("'targets':['0.7.2']"));
	T_CONTAINS(js, Q("'description':'two'"));
	ferry_free(js);
	js = NULL;
	T_CODE(ferry_migration_list(d.db, "/nonexistent/ferry-m", &js, &err),
	       FERRY_ENOTFOUND, &err);
	T_CONTAINS(err.msg, "/nonexistent/ferry-m");
	assert_null(js);
	t_teardown(&d);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_op_rename),
		T(test_op_set),
		T(test_op_remove),
		T(test_op_default),
		T(test_op_copy),
		T(test_op_convert),
		T(test_ops_in_order),
		T(test_apply_args),
		T(test_load_unknown_op),
		T(test_load_unknown_keys),
		T(test_load_types),
		T(test_load_versions),
		T(test_load_json_errors),
		T(test_linecol),
		T(test_load_dir),
		T(test_load_size_cap),
		T(test_load_info),
		T(test_checksum),
		T(test_checksum_files),
		T(test_plan),
		T(test_plan_paths),
		T(test_compose),
		T(test_compose_errors),
		T(test_compose_absent_ok),
		T(test_compose_provenance),
		T(test_merge),
		T(test_lua_transform),
		T(test_lua_roundtrip),
		T(test_lua_lazy_tables),
		T(test_lua_lazy_members),
		T(test_lua_lazy_raw),
		T(test_lua_consumes_doc),
		T(test_lua_dropped_tables),
		T(test_lua_bad_results),
		T(test_lua_sandbox),
		T(test_lua_limits),
		T(test_lua_watch),
		T(test_lua_errors),
		T(test_cdp_examples),
		T(test_cdp_composed_equals_hops),
		T(test_migration_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
