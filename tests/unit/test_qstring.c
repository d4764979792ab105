/*
 * test_qstring.c - the URL query-string parser (src/search/qstring.c):
 * every syntax it accepts with the query DSL it becomes, the way Lucene
 * combines AND / OR / NOT / + / - (and default_operator), df, escapes and
 * typed values, every error with its offset, and, through fsearch_parse()
 * and fsearch_matches() on in-memory documents, what the translated
 * queries match and the request-level rules (q with a body query, bad
 * default_operator).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json/json.h"
#include "search/internal.h"
#include "search/qstring.h"

/* The DSL that q becomes (compact JSON), "ERR" on an error. */
static char dsl_buf[8192];

static const char *dsl_o(const char *q, const char *df, int and_default)
{
	json_arena *a = json_arena_new();
	fqs_opts o = {df, and_default};
	fsearch_error e;
	json_value *v;
	fbuf b = FBUF_INIT;

	assert_non_null(a);
	memset(&e, 0, sizeof e);
	if (fqs_parse(a, q, strlen(q), &o, &v, &e)) {
		snprintf(dsl_buf, sizeof dsl_buf, "ERR %s", e.err.msg);
	} else {
		assert_int_equal(json_write(v, &b), 0);
		snprintf(dsl_buf, sizeof dsl_buf, "%s", b.p);
	}
	fbuf_release(&b);
	json_arena_free(a);
	return dsl_buf;
}

#define DSL(q, want) assert_string_equal(dsl_o(q, NULL, 0), want)
#define DSL_AND(q, want) assert_string_equal(dsl_o(q, NULL, 1), want)

/* q must fail with a 400 query_shard_exception whose reason holds
 * `part`. */
static void bad_q(const char *q, size_t len, const char *part)
{
	json_arena *a = json_arena_new();
	fsearch_error e;
	json_value *v;

	memset(&e, 0, sizeof e);
	int rc = fqs_parse(a, q, len, NULL, &v, &e);
	json_arena_free(a);
	if (rc == 0)
		fail_msg("[%s] parsed, expected an error with '%s'", q, part);
	assert_int_equal(rc, FERRY_EINVAL);
	assert_int_equal(e.status, 400);
	assert_string_equal(e.type, "query_shard_exception");
	if (!strstr(e.err.msg, part))
		fail_msg("[%s]: '%s' is not in: %s", q, part, e.err.msg);
	if (strncmp(e.err.msg, "Failed to parse query [", 23))
		fail_msg("[%s]: reason does not show the query: %s", q,
			 e.err.msg);
}

#define BAD(q, part) bad_q(q, strlen(q), part)

#define T(f, v) "{\"term\":{\"" f "\":" v "}}"

/* ------------------------------------------------------------------ */

static void test_leaves(void **state)
{
	(void)state;
	DSL("name:ann", T("name", "\"ann\""));
	DSL("  name : ann  ", T("name", "\"ann\""));
	DSL("traits.country:PL", T("traits.country", "\"PL\""));
	DSL("name:\"Ann Lee\"", T("name", "\"Ann Lee\""));
	DSL("name:\"\"", T("name", "\"\""));
	DSL("name:\"a (b) AND c:d\"", T("name", "\"a (b) AND c:d\""));
	DSL("name:Ann-Lee", T("name", "\"Ann-Lee\""));
	DSL("name:\xc3\xa5se", T("name", "\"\xc3\xa5se\""));
	DSL("name:an*", "{\"prefix\":{\"name\":\"an\"}}");
	DSL("name:*", "{\"exists\":{\"field\":\"name\"}}");
	DSL("_exists_:email", "{\"exists\":{\"field\":\"email\"}}");
	DSL("_exists_:\"a b\"", "{\"exists\":{\"field\":\"a b\"}}");
	DSL("_id:u1", T("_id", "\"u1\""));
	DSL("_id:u*", "{\"prefix\":{\"_id\":\"u\"}}");
	DSL("*:*", "{\"match_all\":{}}");
	DSL("*", "{\"match_all\":{}}");
	DSL("name:ann^2", T("name", "\"ann\""));
	DSL("name:ann^0.5", T("name", "\"ann\""));
}

/* Unquoted numbers and booleans are JSON values; quoted ones, _id's
 * and anything that is not exactly a JSON number are strings. */
static void test_typed_values(void **state)
{
	(void)state;
	DSL("age:30", T("age", "30"));
	DSL("age:-2.5", T("age", "-2.5"));
	DSL("age:1e3", T("age", "1e3"));
	DSL("age:\"30\"", T("age", "\"30\""));
	DSL("vip:true", T("vip", "true"));
	DSL("vip:false", T("vip", "false"));
	DSL("vip:\"true\"", T("vip", "\"true\""));
	DSL("vip:True", T("vip", "\"True\""));
	DSL("zip:0150", T("zip", "\"0150\""));
	DSL("v:1.", T("v", "\"1.\""));
	DSL("v:1e400", T("v", "1e400"));
	DSL("v:1e99999", T("v", "\"1e99999\"")); /* not finite */
	DSL("_id:30", T("_id", "\"30\""));
	DSL("_id:true", T("_id", "\"true\""));
}

static void test_ranges(void **state)
{
	(void)state;
	DSL("age:[10 TO 20]", "{\"range\":{\"age\":{\"gte\":10,\"lte\":20}}}");
	DSL("age:{10 TO 20}", "{\"range\":{\"age\":{\"gt\":10,\"lt\":20}}}");
	DSL("age:[10 TO 20}", "{\"range\":{\"age\":{\"gte\":10,\"lt\":20}}}");
	DSL("age:{10 TO 20]", "{\"range\":{\"age\":{\"gt\":10,\"lte\":20}}}");
	DSL("age:[10 TO *]", "{\"range\":{\"age\":{\"gte\":10}}}");
	DSL("age:[* TO 20]", "{\"range\":{\"age\":{\"lte\":20}}}");
	DSL("age:[* TO *]", "{\"range\":{\"age\":{}}}");
	DSL("name:[a TO m]",
	    "{\"range\":{\"name\":{\"gte\":\"a\",\"lte\":\"m\"}}}");
	DSL("zip:[\"0100\" TO 0200]",
	    "{\"range\":{\"zip\":{\"gte\":\"0100\",\"lte\":\"0200\"}}}");
	DSL("n:[\"10\" TO 20]",
	    "{\"range\":{\"n\":{\"gte\":\"10\",\"lte\":20}}}");
	DSL("at:[2024-01-01T00:00:00Z TO *]",
	    "{\"range\":{\"at\":{\"gte\":\"2024-01-01T00:00:00Z\"}}}");
	DSL("v:[true TO x]", "{\"range\":{\"v\":{\"gte\":\"true\",\"lte\":"
			     "\"x\"}}}");
	DSL("age:>=10", "{\"range\":{\"age\":{\"gte\":10}}}");
	DSL("age:>10", "{\"range\":{\"age\":{\"gt\":10}}}");
	DSL("age:<=10", "{\"range\":{\"age\":{\"lte\":10}}}");
	DSL("age:<5", "{\"range\":{\"age\":{\"lt\":5}}}");
	DSL("age:<-5", "{\"range\":{\"age\":{\"lt\":-5}}}");
	DSL("age:-5", T("age", "-5"));
	DSL("name:>\"m n\"", "{\"range\":{\"name\":{\"gt\":\"m n\"}}}");
	DSL("ts:>2024-01-05T10:00:00",
	    "{\"range\":{\"ts\":{\"gt\":\"2024-01-05T10:00:00\"}}}");
	DSL("(ts:<b)", "{\"range\":{\"ts\":{\"lt\":\"b\"}}}");
	DSL("_id:[a TO b}", "{\"range\":{\"_id\":{\"gte\":\"a\",\"lt\":\"b\"}}}");
}

static void test_escapes(void **state)
{
	(void)state;
	DSL("name:a\\:b", T("name", "\"a:b\""));
	DSL("name:a\\*", T("name", "\"a*\""));
	DSL("name:a\\*b*", "{\"prefix\":{\"name\":\"a*b\"}}");
	DSL("name:a\\?", T("name", "\"a?\""));
	DSL("name:\\(x\\)", T("name", "\"(x)\""));
	DSL("name:a\\ b", T("name", "\"a b\""));
	DSL("name:\\\\", T("name", "\"\\\\\""));
	DSL("name:\"say \\\"hi\\\"\"", T("name", "\"say \\\"hi\\\"\""));
	DSL("a\\.b:x", T("a.b", "\"x\""));
	DSL("odd\\:name:x", T("odd:name", "\"x\""));
	DSL("name:\\AND", T("name", "\"AND\""));
	DSL("name:\"OR\"", T("name", "\"OR\""));
	DSL("name:\\>5", T("name", "\">5\""));
	DSL("name:\\-x", T("name", "\"-x\""));
	DSL("url:\"/a/b\"", T("url", "\"/a/b\""));
}

#define A T("a", "1")
#define B T("b", "2")
#define C T("c", "3")

static void test_operators(void **state)
{
	(void)state;
	DSL("a:1 b:2", "{\"bool\":{\"should\":[" A "," B "]}}");
	DSL("a:1 OR b:2", "{\"bool\":{\"should\":[" A "," B "]}}");
	DSL("a:1 || b:2", "{\"bool\":{\"should\":[" A "," B "]}}");
	DSL("a:1 AND b:2", "{\"bool\":{\"must\":[" A "," B "]}}");
	DSL("a:1 && b:2", "{\"bool\":{\"must\":[" A "," B "]}}");
	DSL("a:1 AND b:2 AND c:3", "{\"bool\":{\"must\":[" A "," B "," C "]}}");
	DSL("+a:1 b:2 -c:3", "{\"bool\":{\"must\":[" A "],\"should\":[" B
			     "],\"must_not\":[" C "]}}");
	DSL("NOT a:1", "{\"bool\":{\"must_not\":[" A "]}}");
	DSL("!a:1", "{\"bool\":{\"must_not\":[" A "]}}");
	DSL("-a:1", "{\"bool\":{\"must_not\":[" A "]}}");
	DSL("+a:1", A);
	DSL("a:1 NOT b:2", "{\"bool\":{\"should\":[" A "],\"must_not\":[" B
			   "]}}");
	DSL("a:1 AND NOT b:2", "{\"bool\":{\"must\":[" A "],\"must_not\":[" B
			       "]}}");
	DSL("a:1 AND -b:2", "{\"bool\":{\"must\":[" A "],\"must_not\":[" B
			    "]}}");
	DSL("a:1 OR NOT b:2", "{\"bool\":{\"should\":[" A "],\"must_not\":["
			      B "]}}");
	/* keywords are case-sensitive: "and" is a bare value */
	BAD("a:1 and b:2", "a field is required for 'and' at offset 4");
}

/* Lucene's rules, not the usual precedence: AND makes both of its
 * neighbours required, so a OR b AND c is +b +c a. */
static void test_precedence(void **state)
{
	(void)state;
	DSL("a:1 OR b:2 AND c:3", "{\"bool\":{\"must\":[" B "," C
				  "],\"should\":[" A "]}}");
	DSL("a:1 AND b:2 OR c:3", "{\"bool\":{\"must\":[" A "," B
				  "],\"should\":[" C "]}}");
	DSL("a:1 OR (b:2 AND c:3)", "{\"bool\":{\"should\":[" A
				    ",{\"bool\":{\"must\":[" B "," C "]}}]}}");
	DSL("(a:1 OR b:2) AND c:3", "{\"bool\":{\"must\":[{\"bool\":{"
				    "\"should\":[" A "," B "]}}," C "]}}");
	DSL("-a:1 AND b:2", "{\"bool\":{\"must\":[" B "],\"must_not\":[" A
			    "]}}");
	/* default_operator=AND: bare juxtaposition is AND, OR makes both
	 * neighbours optional */
	DSL_AND("a:1 b:2", "{\"bool\":{\"must\":[" A "," B "]}}");
	DSL_AND("a:1 OR b:2", "{\"bool\":{\"should\":[" A "," B "]}}");
	DSL_AND("a:1 b:2 OR c:3", "{\"bool\":{\"must\":[" A "],\"should\":["
				  B "," C "]}}");
	DSL_AND("a:1 -b:2", "{\"bool\":{\"must\":[" A "],\"must_not\":[" B
			    "]}}");
	DSL_AND("a:1 OR +b:2", "{\"bool\":{\"must\":[" B "],\"should\":[" A
			       "]}}");
}

static void test_groups(void **state)
{
	(void)state;
	DSL("(a:1)", A);
	DSL("((a:1))^2", A);
	DSL("(a:1 b:2)", "{\"bool\":{\"should\":[" A "," B "]}}");
	DSL("(-a:1)", "{\"bool\":{\"must_not\":[" A "]}}");
	DSL("tags:(red OR blue)", "{\"bool\":{\"should\":[" T("tags", "\"red\"")
				  "," T("tags", "\"blue\"") "]}}");
	DSL("tags:(red -blue)", "{\"bool\":{\"should\":[" T("tags", "\"red\"")
				"],\"must_not\":[" T("tags", "\"blue\"") "]}}");
	DSL("tags:(red x:1)", "{\"bool\":{\"should\":[" T("tags", "\"red\"")
			      "," T("x", "1") "]}}");
	DSL("n:([1 TO 2] OR >5 OR 9*)",
	    "{\"bool\":{\"should\":[{\"range\":{\"n\":{\"gte\":1,\"lte\":2}}},"
	    "{\"range\":{\"n\":{\"gt\":5}}},{\"prefix\":{\"n\":\"9\"}}]}}");
	DSL("_exists_:(a OR b)", "{\"bool\":{\"should\":[{\"exists\":{"
				 "\"field\":\"a\"}},{\"exists\":{\"field\":"
				 "\"b\"}}]}}");
	DSL("a:1 AND (b:2 OR (c:3 AND NOT a:1))",
	    "{\"bool\":{\"must\":[" A ",{\"bool\":{\"should\":[" B
	    ",{\"bool\":{\"must\":[" C "],\"must_not\":[" A "]}}]}}]}}");
}

static void test_df(void **state)
{
	(void)state;
	assert_string_equal(dsl_o("ann", "name", 0), T("name", "\"ann\""));
	assert_string_equal(dsl_o("\"Ann Lee\"", "name", 0),
			    T("name", "\"Ann Lee\""));
	assert_string_equal(dsl_o("an*", "name", 0),
			    "{\"prefix\":{\"name\":\"an\"}}");
	assert_string_equal(dsl_o("*", "name", 0),
			    "{\"exists\":{\"field\":\"name\"}}");
	assert_string_equal(dsl_o("[a TO b]", "name", 0),
			    "{\"range\":{\"name\":{\"gte\":\"a\",\"lte\":"
			    "\"b\"}}}");
	assert_string_equal(dsl_o("ann bob", "name", 1),
			    "{\"bool\":{\"must\":[" T("name", "\"ann\"") ","
			    T("name", "\"bob\"") "]}}");
	assert_string_equal(dsl_o("ann x:1", "name", 0),
			    "{\"bool\":{\"should\":[" T("name", "\"ann\"") ","
			    T("x", "1") "]}}");
}

/* Every error, with its offset. */
static void test_errors(void **state)
{
	char deep[128];
	(void)state;
	BAD("ann", "q: a field is required for 'ann' at offset 0: ferry has "
		   "no default field");
	BAD("name:x \"Ann\"", "a field is required for '\"Ann\"' at offset 7");
	BAD("name:(a OR b))", "q: unexpected ')' at offset 13: no '(' is open");
	BAD(")", "unexpected ')' at offset 0");
	BAD("(a:1", "the '(' at offset 0 is not closed: expected ')' at offset "
		    "4, got the end of the query");
	BAD("a:(b c", "the '(' at offset 2 is not closed");
	BAD("()", "empty parentheses at offset 0");
	BAD("a:1 ( )", "empty parentheses at offset 4");
	BAD("", "the query is empty");
	BAD("  \t ", "the query is empty");
	BAD("AND a:1", "'AND' at offset 0 has nothing before it");
	BAD("|| a:1", "'||' at offset 0 has nothing before it");
	BAD("a:1 AND", "'AND' at offset 4 must be followed by a clause, got "
		       "the end of the query");
	BAD("a:1 OR OR b:2", "'OR' at offset 4 must be followed by a clause, "
			     "got 'OR'");
	BAD("a:1 AND )", "'AND' at offset 4 must be followed by a clause, "
			 "got ')'");
	BAD("-", "'-' at offset 0 must be followed by a clause");
	BAD("a:1 NOT", "'NOT' at offset 4 must be followed by a clause");
	BAD("+-a:1", "unexpected '-' at offset 1");
	BAD("name:\"ann", "the quoted value at offset 5 has no closing '\"'");
	BAD("name:\"ann\\\"", "the quoted value at offset 5 has no closing");
	BAD("name:a\\", "a lone '\\' at offset 6 ends the query");
	BAD("name:a?c", "the wildcard '?' at offset 6 is not supported: only "
			"a trailing '*' is");
	BAD("name:?", "the wildcard '?' at offset 5");
	BAD("name:*nn", "the wildcard '*' at offset 5");
	BAD("name:a*b*", "the wildcard '*' at offset 6");
	BAD("name:ann~2", "fuzzy and proximity searches ('~' at offset 8)");
	BAD("name:\"a b\"~2", "('~' at offset 10)");
	BAD("name:/an.*/", "regular expressions ('/' at offset 5)");
	BAD("path:a/b", "regular expressions ('/' at offset 6)");
	BAD("age:[10 20]", "the range at offset 4 needs 'TO' between its "
			   "bounds, got '20' at offset 8");
	BAD("age:[10 to 20]", "needs 'TO' between its bounds, got 'to'");
	BAD("age:[10 TO 20", "the range opened at offset 4 is not closed: "
			     "expected ']' or '}' at offset 13");
	BAD("age:[10 TO 20 30]", "expected ']' or '}' at offset 14, got '30'");
	BAD("age:[]", "the range at offset 4 needs a lower bound, got ']'");
	BAD("age:[1 TO ]", "needs an upper bound after 'TO', got ']'");
	BAD("age:>=", "'>=' at offset 4 needs a value right after it");
	BAD("age:> 5", "'>' at offset 4 needs a value right after it");
	BAD("name:", "the field [name] needs a value at offset 5, got the end "
		     "of the query");
	BAD("name: AND b:1", "the field [name] needs a value at offset 6, got "
			     "'AND'");
	BAD("name:)", "the field [name] needs a value at offset 5, got ')'");
	BAD("*:ann", "the field name '*' at offset 0 has a wildcard");
	BAD("na*e:x", "the field name 'na*e' at offset 0 has a wildcard");
	BAD("_exists_:[a TO b]", "_exists_ takes a field name (_exists_:email), "
				 "not a range");
	BAD("_exists_:>3", "not a comparison");
	BAD("_exists_:a*", "not a prefix");
	BAD("_exists_:*", "not '*'");
	BAD("a:1^x", "'^' at offset 3 needs a number right after it");
	BAD("a:1^", "'^' at offset 3 needs a number");
	DSL("a:1 ^2", A); /* Lucene too skips the space */
	BAD("^2 a:1", "unexpected '^' at offset 0: a boost follows a value");
	BAD(":a", "unexpected ':' at offset 0: a ':' follows a field name");
	BAD("a:1 ]", "unexpected ']' at offset 4: no range is open");
	BAD("a:1 ~", "('~' at offset 4)");
	BAD("/x/", "regular expressions ('/' at offset 0)");
	memset(deep, '(', 33);
	strcpy(deep + 33, "a:1");
	BAD(deep, "parentheses nested deeper than 32 at offset 32");
	memset(deep, '(', 32);
	strcpy(deep + 32, "a:1");
	for (int i = 0; i < 32; i++)
		strcat(deep, ")");
	DSL(deep, A);
	bad_q("a:\xff", 3, "not UTF-8 text (or a NUL) at offset 2");
	bad_q("a:\xc3", 3, "at offset 2");
	bad_q("a:\xed\xa0\x80", 5, "at offset 2"); /* a surrogate */
	bad_q("a:b\0c", 5, "at offset 3");
	/* long queries and tokens are shown cut */
	char *big = malloc(FQS_MAX_LEN + 2);
	assert_non_null(big);
	memset(big, 'a', FQS_MAX_LEN + 1);
	big[FQS_MAX_LEN + 1] = 0;
	BAD(big, "the query string is 65537 bytes, more than 65536");
	memcpy(big, "name:(", 6);
	big[200] = 0;
	BAD(big, "...]: q: the '(' at offset 5 is not closed: expected ')' at "
		 "offset 200, got the end");
	free(big);
}

/* ------------------------------------------------------------------ */
/* Through the request parser: what the translated queries match        */

static const char *const DOCS[][2] = {
	{"d1", "{\"name\":\"Ann\",\"age\":30,\"vip\":true,\"zip\":\"0150\","
	       "\"tags\":[\"red\",\"blue\"],\"traits\":{\"country\":\"PL\"}}"},
	{"d2", "{\"name\":\"bob\",\"age\":\"30\",\"vip\":\"true\",\"zip\":\"2000\","
	       "\"tags\":\"green\"}"},
	{"d3", "{\"name\":\"Cid Lee\",\"age\":30.0,\"vip\":false,\"zip\":9,"
	       "\"traits.country\":\"PL\"}"},
	{"d4", "{\"name\":\"ann\",\"age\":\"9\",\"email\":\"a@x\"}"},
	{"d5", "{\"name\":\"a:b\",\"age\":null,\"email\":null}"},
};
#define ND (sizeof DOCS / sizeof DOCS[0])

/* The ids of DOCS that q matches (with df / default_operator). */
static char hits_buf[256];

static const char *hits_o(const char *q, const char *df, const char *op)
{
	json_arena *a = json_arena_new();
	fsearch_params p = {.q = q, .df = df, .default_operator = op};
	fsearch_error e;
	fsearch_req *rq;

	hits_buf[0] = 0;
	if (fsearch_parse(a, NULL, 0, &p, 0, &rq, &e))
		fail_msg("[%s] -> %s: %s", q, e.type, e.err.msg);
	for (size_t i = 0; i < ND; i++) {
		json_value *d;
		assert_int_equal(json_parse(a, DOCS[i][1], strlen(DOCS[i][1]),
					    &d, NULL), 0);
		if (fsearch_matches(rq, d, DOCS[i][0], 2)) {
			if (hits_buf[0])
				strcat(hits_buf, ",");
			strcat(hits_buf, DOCS[i][0]);
		}
	}
	json_arena_free(a);
	return hits_buf;
}

#define HITS(q, want) assert_string_equal(hits_o(q, NULL, NULL), want)

static void test_matching(void **state)
{
	(void)state;
	/* a number matches numbers and numeric strings, as term does */
	HITS("age:30", "d1,d2,d3");
	HITS("age:\"30\"", "d1,d2,d3");
	HITS("vip:true", "d1,d2");
	HITS("vip:\"true\"", "d1,d2");
	HITS("name:ann", "d4");
	HITS("name:Ann", "d1");
	HITS("name:\"Cid Lee\"", "d3");
	HITS("name:a\\:b", "d5");
	HITS("traits.country:PL", "d1,d3");
	HITS("tags:blue", "d1");
	HITS("tags:(green OR blue)", "d1,d2");
	HITS("name:a*", "d4,d5");
	HITS("_exists_:email", "d4");
	HITS("email:*", "d4");
	HITS("_id:d2", "d2");
	HITS("_id:[d2 TO d4}", "d2,d3");
	HITS("*:*", "d1,d2,d3,d4,d5");
	/* an unquoted number bound compares numerically, numeric strings
	 * too; a quoted bound compares strings byte-wise */
	HITS("age:[9 TO 29]", "d4");
	HITS("age:>=30", "d1,d2,d3");
	HITS("age:<10", "d4");
	HITS("zip:[0100 TO 0200]", "d1");
	HITS("zip:[\"0100\" TO \"0200\"]", "d1");
	HITS("zip:[1 TO 9]", "d3");
	/* operators */
	HITS("name:ann OR name:bob", "d2,d4");
	HITS("age:30 AND NOT vip:false", "d1,d2");
	HITS("age:30 -vip:false", "d1,d2");
	HITS("NOT age:30", "d4,d5");
	HITS("+age:30 name:nobody", "d1,d2,d3");
	HITS("name:ann OR name:bob AND age:30", "d2"); /* Lucene: +bob +30 */
	HITS("name:ann OR (name:bob AND age:30)", "d2,d4");
	assert_string_equal(hits_o("name:ann name:bob", NULL, "AND"), "");
	assert_string_equal(hits_o("name:ann name:bob", NULL, "and"), "");
	assert_string_equal(hits_o("name:ann name:bob", NULL, "OR"), "d2,d4");
	assert_string_equal(hits_o("age:30 vip:true", NULL, "AND"), "d1,d2");
	assert_string_equal(hits_o("ann OR bob", "name", NULL), "d2,d4");
}

/* q at the request level: with a body, _count, bad parameters. */
static void test_request(void **state)
{
	json_arena *a = json_arena_new();
	fsearch_params p = {.q = "name:ann"};
	fsearch_error e;
	fsearch_req *rq;
	const char *body = "{\"query\":{\"match_all\":{}}}";
	(void)state;

	assert_int_not_equal(fsearch_parse(a, body, strlen(body), &p, 0, &rq,
					   &e), 0);
	assert_int_equal(e.status, 400);
	assert_string_equal(e.type, "illegal_argument_exception");
	assert_non_null(strstr(e.err.msg, "the [q] parameter and a request "
				"body \"query\" were both given: use one"));
	assert_int_not_equal(fsearch_parse(a, body, strlen(body), &p,
					   FSEARCH_COUNT, &rq, &e), 0);
	assert_non_null(strstr(e.err.msg, "use one"));
	/* a body without a query is fine: its sort and size apply */
	body = "{\"size\":1,\"sort\":[\"_id\"]}";
	assert_int_equal(fsearch_parse(a, body, strlen(body), &p, 0, &rq, &e),
			 0);
	assert_int_equal(rq->size, 1);
	assert_int_equal(fsearch_parse(a, NULL, 0, &p, FSEARCH_COUNT, &rq, &e),
			 0);
	p.default_operator = "XOR";
	assert_int_not_equal(fsearch_parse(a, NULL, 0, &p, 0, &rq, &e), 0);
	assert_string_equal(e.type, "illegal_argument_exception");
	assert_non_null(strstr(e.err.msg, "[default_operator] must be AND or "
				"OR, got [XOR]"));
	p = (fsearch_params){.q = "name:(", .from = "1"};
	assert_int_not_equal(fsearch_parse(a, NULL, 0, &p, 0, &rq, &e), 0);
	assert_string_equal(e.type, "query_shard_exception");
	/* a q of more clauses than a request may hold */
	fbuf b = FBUF_INIT;
	for (int i = 0; i < 4200; i++)
		fbuf_adds(&b, i ? " a:1" : "a:1");
	p = (fsearch_params){.q = b.p};
	assert_int_not_equal(fsearch_parse(a, NULL, 0, &p, 0, &rq, &e), 0);
	assert_non_null(strstr(e.err.msg, "too many query clauses"));
	fbuf_release(&b);
	json_arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leaves),
		cmocka_unit_test(test_typed_values),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_df),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_matching),
		cmocka_unit_test(test_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
