/*
 * qstring.c - the URL query string (q=) parser: a lexer over the decoded
 * text and a recursive-descent parser that builds the query DSL as a JSON
 * tree in the request's arena, which query.c then parses like a body
 * query. qstring.h says what is accepted and why operators combine the
 * way Lucene's classic query parser combines them.
 *
 * Every error names what is wrong, its byte offset in q and how to fix it;
 * the query is shown (cut at 80 bytes) so that the offset can be counted.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "search/internal.h"
#include "search/qstring.h"

typedef enum qt_kind {
	QT_EOF,
	QT_WORD,        /* a bare value or field name */
	QT_QUOTED,      /* "..." */
	QT_CMP,         /* >=10, <"b" (only where a value goes) */
	QT_LPAREN,
	QT_RPAREN,
	QT_RANGE_OPEN,  /* [ or { */
	QT_RANGE_CLOSE, /* ] or } */
	QT_AND,         /* AND && */
	QT_OR,          /* OR || */
	QT_NOT,         /* NOT ! */
	QT_PLUS,
	QT_MINUS,
	QT_COLON,
	QT_CARET,
	QT_TILDE,
	QT_SLASH
} qt_kind;

/* What the lexer expects: anything, a value (after "field:"), or a range
 * bound (inside [..]). */
enum { LEX_NORMAL, LEX_VALUE, LEX_RANGE, LEX_CMP };

typedef struct qtok {
	qt_kind k;
	size_t off, end;   /* the raw token is q[off..end) */
	char *s;           /* WORD, QUOTED, CMP: unescaped text (arena) */
	size_t len;
	int nesc;          /* escapes in it */
	size_t nwild;      /* unescaped '*' and '?' */
	size_t wild_off;   /* offset of the first of them */
	int trail_star;    /* the last byte is an unescaped '*' */
	int incl;          /* RANGE_OPEN '[', RANGE_CLOSE ']' */
	char op[3];        /* CMP: ">", ">=", "<", "<=" */
	int quoted;        /* CMP: its value was quoted */
} qtok;

typedef struct qfield {
	const char *s; /* NULL: no field */
	size_t len;
} qfield;

typedef struct qs {
	json_arena *a;
	const char *q;
	size_t len, pos;
	const fqs_opts *o;
	fsearch_error *e;
	size_t shown; /* bytes of q the messages show */
	qtok t;       /* the current token */
} qs;

/* Lucene's clause occurrences, conjunctions and modifiers. */
enum { OC_MUST, OC_SHOULD, OC_MUST_NOT };
enum { CONJ_NONE, CONJ_AND, CONJ_OR };
enum { MOD_NONE, MOD_REQ, MOD_NOT };

/* ------------------------------------------------------------------ */
/* Errors                                                              */

/* The longest prefix of s[0..n) of at most max bytes that does not cut
 * a UTF-8 sequence. */
static size_t qs_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

static int qs_fail(qs *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int qs_fail(qs *c, const char *fmt, ...)
{
	char what[384];
	va_list ap;
	size_t n = qs_cut(c->q, c->shown, 80);

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return fse_set(c->e, 400, "query_shard_exception", FERRY_EINVAL,
		       "Failed to parse query [%.*s%s]: q: %s", (int)n, c->q,
		       n < c->shown ? "..." : "", what);
}

/* The current token for a message: "'AND'", "the end of the query". */
static const char *qs_show(qs *c, char *buf, size_t len)
{
	const qtok *t = &c->t;
	if (t->k == QT_EOF)
		return "the end of the query";
	size_t n = t->end - t->off, k = qs_cut(c->q + t->off, n, 40);
	snprintf(buf, len, "'%.*s%s'", (int)k, c->q + t->off, k < n ? "..." : "");
	return buf;
}

/* A field name for a message, cut at 60 bytes. */
#define QF_FMT "%.*s"
#define QF_ARG(f) (int)qs_cut((f)->s, (f)->len, 60), (f)->s

/* Offset of the first byte of s[0..n) that is not valid UTF-8 (or is a
 * NUL), n if there is none. */
static size_t qs_bad_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], lo = 0x80, hi = 0xBF;
		size_t need;
		if (c == 0)
			return i;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c < 0xC2 || c > 0xF4)
			return i;
		need = c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
		else if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
		for (size_t k = 1; k <= need; k++) {
			unsigned d = i + k < n ? s[i + k] : 0;
			if (d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xBF))
				return i;
		}
		i += need + 1;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Lexer                                                               */

static int qs_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* 1 if ch ends a word in mode `mode`. */
static int qs_stop(char ch, int mode)
{
	if (qs_space(ch))
		return 1;
	if (mode == LEX_RANGE)
		return ch == ']' || ch == '}';
	if (mode == LEX_CMP)
		return ch == '(' || ch == ')';
	return ch && strchr("()[]{}\":^~/", ch) != NULL;
}

/* Reads a word at c->pos: up to white space or a byte that ends it in
 * `mode`; '\' takes the next byte as it is. */
static int lex_word(qs *c, int mode, qtok *t)
{
	size_t i = c->pos, n = 0;
	char *w = json_arena_alloc(c->a, c->len - i + 1);
	if (!w)
		return fse_nomem(c->e);
	t->k = QT_WORD;
	t->s = w;
	while (i < c->len && !qs_stop(c->q[i], mode)) {
		char ch = c->q[i];
		if (ch == '\\') {
			if (i + 1 >= c->len)
				return qs_fail(c, "a lone '\\' at offset %zu ends "
					       "the query: escape a backslash "
					       "itself as '\\\\'", i);
			w[n++] = c->q[i + 1];
			t->nesc++;
			t->trail_star = 0;
			i += 2;
			continue;
		}
		if ((ch == '*' || ch == '?') && !t->nwild++)
			t->wild_off = i;
		t->trail_star = ch == '*';
		w[n++] = ch;
		i++;
	}
	w[n] = 0;
	t->len = n;
	t->end = c->pos = i;
	return 0;
}

/* Reads "..." at c->pos; '\' takes the next byte as it is. */
static int lex_quoted(qs *c, qtok *t)
{
	size_t i = c->pos + 1, n = 0;
	char *w = json_arena_alloc(c->a, c->len - c->pos + 1);
	if (!w)
		return fse_nomem(c->e);
	while (i < c->len && c->q[i] != '"') {
		if (c->q[i] == '\\' && i + 1 < c->len) {
			w[n++] = c->q[i + 1];
			t->nesc++;
			i += 2;
		} else {
			w[n++] = c->q[i++];
		}
	}
	if (i >= c->len)
		return qs_fail(c, "the quoted value at offset %zu has no closing "
			       "'\"': add one (a '\"' inside a value is written "
			       "\\\")", c->pos);
	w[n] = 0;
	t->k = QT_QUOTED;
	t->s = w;
	t->len = n;
	t->end = c->pos = i + 1;
	return 0;
}

/* Reads >=10, <"x" ... at c->pos. The value runs to white space or a
 * parenthesis, so that ts:>=2024-01-05T10:00:00 needs no quotes. */
static int lex_cmp(qs *c, qtok *t)
{
	size_t at = c->pos;
	int rc;
	t->op[0] = c->q[c->pos++];
	if (c->pos < c->len && c->q[c->pos] == '=')
		t->op[1] = c->q[c->pos++];
	if (c->pos < c->len && c->q[c->pos] == '"') {
		t->quoted = 1;
		rc = lex_quoted(c, t);
	} else {
		rc = lex_word(c, LEX_CMP, t);
	}
	if (rc)
		return rc;
	t->k = QT_CMP;
	t->off = at;
	if (!t->quoted && !t->len)
		return qs_fail(c, "'%s' at offset %zu needs a value right after "
			       "it: write field:%s10 (no space)", t->op, at,
			       t->op);
	return 0;
}

/* AND, OR and NOT (in capitals, unescaped) are operators. */
static void lex_keyword(qtok *t)
{
	if (t->k != QT_WORD || t->nesc)
		return;
	if (!strcmp(t->s, "AND"))
		t->k = QT_AND;
	else if (!strcmp(t->s, "OR"))
		t->k = QT_OR;
	else if (!strcmp(t->s, "NOT"))
		t->k = QT_NOT;
}

/* Moves to the next token, lexed as `mode` expects. */
static int lex_next(qs *c, int mode)
{
	qtok *t = &c->t;
	static const struct {
		char ch;
		qt_kind k;
	} one[] = {{'(', QT_LPAREN}, {')', QT_RPAREN}, {'[', QT_RANGE_OPEN},
		   {'{', QT_RANGE_OPEN}, {']', QT_RANGE_CLOSE},
		   {'}', QT_RANGE_CLOSE}, {':', QT_COLON}, {'^', QT_CARET},
		   {'~', QT_TILDE}, {'/', QT_SLASH}, {'+', QT_PLUS},
		   {'-', QT_MINUS}, {'!', QT_NOT}};

	memset(t, 0, sizeof *t);
	while (c->pos < c->len && qs_space(c->q[c->pos]))
		c->pos++;
	t->off = t->end = c->pos;
	if (c->pos >= c->len)
		return 0; /* QT_EOF */
	const char *p = c->q + c->pos;
	size_t left = c->len - c->pos;
	if (*p == '"')
		return lex_quoted(c, t);
	if (mode == LEX_RANGE && *p != ']' && *p != '}')
		return lex_word(c, LEX_RANGE, t);
	if (mode == LEX_VALUE && (*p == '>' || *p == '<'))
		return lex_cmp(c, t);
	if (mode == LEX_VALUE && *p == '-' && left > 1 &&
	    isdigit((unsigned char)p[1]))
		return lex_word(c, LEX_NORMAL, t); /* age:-5 */
	if (left > 1 && (*p == '&' || *p == '|') && p[1] == *p) {
		t->k = *p == '&' ? QT_AND : QT_OR;
		t->end = c->pos += 2;
		return 0;
	}
	for (size_t i = 0; i < sizeof one / sizeof one[0]; i++) {
		if (*p != one[i].ch)
			continue;
		t->k = one[i].k;
		t->incl = *p == '[' || *p == ']';
		t->end = ++c->pos;
		return 0;
	}
	int rc = lex_word(c, LEX_NORMAL, t);
	if (!rc)
		lex_keyword(t);
	return rc;
}

/* 1 if the next byte after white space is ':' (the current word is a
 * field name). */
static int qs_colon_next(const qs *c)
{
	size_t i = c->pos;
	while (i < c->len && qs_space(c->q[i]))
		i++;
	return i < c->len && c->q[i] == ':';
}

/* ------------------------------------------------------------------ */
/* JSON building                                                       */

/* {"kind":{"key":v}} */
static int j_wrap(qs *c, const char *kind, const char *key, size_t klen,
		  json_value *v, json_value **out)
{
	json_value *in = json_new_object(c->a), *o = json_new_object(c->a);
	if (!v || !in || !o || json_obj_set(c->a, in, key, klen, v) ||
	    json_obj_set(c->a, o, kind, strlen(kind), in))
		return fse_nomem(c->e);
	*out = o;
	return 0;
}

/* 1 for a lone unescaped '*'. */
static int qt_star(const qtok *t)
{
	return t->k == QT_WORD && t->len == 1 && t->nwild == 1 &&
	       t->s[0] == '*';
}

static int qf_is(const qfield *f, const char *name)
{
	return f->len == strlen(name) && !memcmp(f->s, name, f->len);
}

/* How a value becomes JSON: an unquoted JSON number as a number (and
 * true/false as booleans where a term takes them), anything else as a
 * string. */
enum { J_STR, J_NUM, J_TYPED };

static json_value *j_value(qs *c, const qtok *t, int how)
{
	long double d;
	int unquoted = t->k == QT_WORD || (t->k == QT_CMP && !t->quoted);
	if (unquoted && how != J_STR) {
		if (fs_str_num(t->s, t->len, &d) == 0)
			return json_new_number_text(c->a, t->s, t->len);
		if (how == J_TYPED &&
		    (!strcmp(t->s, "true") || !strcmp(t->s, "false")))
			return json_new_bool(c->a, t->s[0] == 't');
	}
	return json_new_string(c->a, t->s, t->len);
}

static int j_match_all(qs *c, json_value **out)
{
	json_value *in = json_new_object(c->a), *o = json_new_object(c->a);
	if (!in || !o || json_obj_set(c->a, o, "match_all", 9, in))
		return fse_nomem(c->e);
	*out = o;
	return 0;
}

static int j_exists(qs *c, const char *f, size_t len, json_value **out)
{
	return j_wrap(c, "exists", "field", 5, json_new_string(c->a, f, len),
		      out);
}

/* ------------------------------------------------------------------ */
/* Parser                                                              */

typedef struct qitem {
	int occ;
	json_value *q;
} qitem;

typedef struct qlist {
	qitem *v;
	size_t n, cap;
} qlist;

static int p_query(qs *c, const qfield *f, int depth, size_t open,
		   json_value **out);

/* _exists_ takes a field name, nothing else. */
static int p_not_exists(qs *c, const qfield *f, const char *what)
{
	if (!qf_is(f, "_exists_"))
		return 0;
	return qs_fail(c, "_exists_ takes a field name (_exists_:email), not "
		       "%s (at offset %zu)", what, c->t.off);
}

/* A boost (^2: accepted and ignored) and no fuzziness (~). */
static int p_suffix(qs *c)
{
	char buf[64];
	int rc;
	if (c->t.k == QT_CARET) {
		size_t at = c->t.off;
		long double d;
		if ((rc = lex_next(c, LEX_NORMAL)))
			return rc;
		if (c->t.k != QT_WORD || c->t.off != at + 1 ||
		    fs_str_num(c->t.s, c->t.len, &d))
			return qs_fail(c, "'^' at offset %zu needs a number right "
				       "after it (a boost such as ^2, which "
				       "ferry accepts and ignores), got %s",
				       at, qs_show(c, buf, sizeof buf));
		if ((rc = lex_next(c, LEX_NORMAL)))
			return rc;
	}
	if (c->t.k == QT_TILDE)
		return qs_fail(c, "fuzzy and proximity searches ('~' at offset "
			       "%zu) are not supported: ferry matches exact "
			       "values; remove the '~' and its number",
			       c->t.off);
	return 0;
}

/* A regular expression or a fuzzy search where a value goes. */
static int p_unsupported(qs *c)
{
	if (c->t.k == QT_TILDE)
		return p_suffix(c);
	return qs_fail(c, "regular expressions ('/' at offset %zu) are not "
		       "supported: quote a value that holds a '/' "
		       "(path:\"/a/b\"), or search a prefix (path:\\/a*)",
		       c->t.off);
}

/* [a TO b], {a TO b}, [* TO b} ... */
static int p_range(qs *c, const qfield *f, json_value **out)
{
	static const char *const lo_key[2] = {"gt", "gte"};
	static const char *const hi_key[2] = {"lt", "lte"};
	size_t open = c->t.off;
	int lo_incl = c->t.incl, rc;
	qtok lo, hi;
	char buf[64];

	if ((rc = p_not_exists(c, f, "a range")) ||
	    (rc = lex_next(c, LEX_RANGE)))
		return rc;
	if (c->t.k != QT_WORD && c->t.k != QT_QUOTED)
		return qs_fail(c, "the range at offset %zu needs a lower bound, "
			       "got %s: write " QF_FMT ":[a TO b] ([* TO b] "
			       "for none)", open, qs_show(c, buf, sizeof buf),
			       QF_ARG(f));
	lo = c->t;
	if ((rc = lex_next(c, LEX_RANGE)))
		return rc;
	if (c->t.k != QT_WORD || c->t.nesc || strcmp(c->t.s, "TO"))
		return qs_fail(c, "the range at offset %zu needs 'TO' between "
			       "its bounds, got %s at offset %zu: write "
			       QF_FMT ":[a TO b]", open,
			       qs_show(c, buf, sizeof buf), c->t.off, QF_ARG(f));
	if ((rc = lex_next(c, LEX_RANGE)))
		return rc;
	if (c->t.k != QT_WORD && c->t.k != QT_QUOTED)
		return qs_fail(c, "the range at offset %zu needs an upper bound "
			       "after 'TO', got %s: write " QF_FMT ":[a TO b] "
			       "([a TO *] for none)", open,
			       qs_show(c, buf, sizeof buf), QF_ARG(f));
	hi = c->t;
	if ((rc = lex_next(c, LEX_RANGE)))
		return rc;
	if (c->t.k != QT_RANGE_CLOSE)
		return qs_fail(c, "the range opened at offset %zu is not "
			       "closed: expected ']' or '}' at offset %zu, got "
			       "%s", open, c->t.off,
			       qs_show(c, buf, sizeof buf));
	/* a bound that reads as a number is a JSON number, a quoted one a
	 * string (no booleans: range refuses them; ids are strings) */
	int how = qf_is(f, "_id") ? J_STR : J_NUM;
	json_value *b = json_new_object(c->a);
	if (!b)
		return fse_nomem(c->e);
	if (!qt_star(&lo) &&
	    json_obj_set(c->a, b, lo_key[lo_incl], strlen(lo_key[lo_incl]),
			 j_value(c, &lo, how)))
		return fse_nomem(c->e);
	if (!qt_star(&hi) &&
	    json_obj_set(c->a, b, hi_key[c->t.incl],
			 strlen(hi_key[c->t.incl]), j_value(c, &hi, how)))
		return fse_nomem(c->e);
	if ((rc = j_wrap(c, "range", f->s, f->len, b, out)) ||
	    (rc = lex_next(c, LEX_NORMAL)))
		return rc;
	return p_suffix(c);
}

/* field:>=10, field:<"m" */
static int p_cmp(qs *c, const qfield *f, json_value **out)
{
	static const char *const keys[][2] = {
		{">", "gt"}, {">=", "gte"}, {"<", "lt"}, {"<=", "lte"}};
	const char *key = "gt";
	json_value *b = json_new_object(c->a);
	int rc;

	if ((rc = p_not_exists(c, f, "a comparison")))
		return rc;
	for (size_t i = 0; i < 4; i++)
		if (!strcmp(c->t.op, keys[i][0]))
			key = keys[i][1];
	if (!b || json_obj_set(c->a, b, key, strlen(key),
			       j_value(c, &c->t,
				       qf_is(f, "_id") ? J_STR : J_NUM)))
		return fse_nomem(c->e);
	if ((rc = j_wrap(c, "range", f->s, f->len, b, out)) ||
	    (rc = lex_next(c, LEX_NORMAL)))
		return rc;
	return p_suffix(c);
}

/* A word value: a term, field:* (exists), field:ab* (prefix). */
static int p_word(qs *c, const qfield *f, json_value **out)
{
	qtok *t = &c->t;
	int rc;
	int is_id = qf_is(f, "_id");

	if (qt_star(t)) {
		if ((rc = p_not_exists(c, f, "'*'")))
			return rc;
		rc = j_exists(c, f->s, f->len, out);
	} else if (t->nwild == 1 && t->trail_star) {
		if ((rc = p_not_exists(c, f, "a prefix")))
			return rc;
		rc = j_wrap(c, "prefix", f->s, f->len,
			    json_new_string(c->a, t->s, t->len - 1), out);
	} else if (t->nwild) {
		return qs_fail(c, "the wildcard '%c' at offset %zu is not "
			       "supported: only a trailing '*' is (a prefix: "
			       QF_FMT ":ab*); write '\\%c' to search for the "
			       "character itself", c->q[t->wild_off],
			       t->wild_off, QF_ARG(f), c->q[t->wild_off]);
	} else if (qf_is(f, "_exists_")) {
		rc = j_exists(c, t->s, t->len, out);
	} else {
		rc = j_wrap(c, "term", f->s, f->len,
			    j_value(c, t, is_id ? J_STR : J_TYPED), out);
	}
	if (rc || (rc = lex_next(c, LEX_NORMAL)))
		return rc;
	return p_suffix(c);
}

/* A parenthesised group; its bare values take field f (if any). */
static int p_group(qs *c, const qfield *f, int depth, json_value **out)
{
	size_t open = c->t.off;
	char buf[64];
	int rc;

	if (depth >= FQS_MAX_DEPTH)
		return qs_fail(c, "parentheses nested deeper than %d at offset "
			       "%zu: write a flatter query", FQS_MAX_DEPTH, open);
	if ((rc = lex_next(c, LEX_NORMAL)) ||
	    (rc = p_query(c, f, depth + 1, open, out)))
		return rc;
	if (c->t.k != QT_RPAREN)
		return qs_fail(c, "the '(' at offset %zu is not closed: expected "
			       "')' at offset %zu, got %s", open, c->t.off,
			       qs_show(c, buf, sizeof buf));
	if ((rc = lex_next(c, LEX_NORMAL)))
		return rc;
	return p_suffix(c);
}

/* What follows "field:" (or a bare value given field f). */
static int p_value(qs *c, const qfield *f, int depth, json_value **out)
{
	char buf[64];
	int rc;

	switch (c->t.k) {
	case QT_LPAREN:
		return p_group(c, f, depth, out);
	case QT_RANGE_OPEN:
		return p_range(c, f, out);
	case QT_CMP:
		return p_cmp(c, f, out);
	case QT_WORD:
		return p_word(c, f, out);
	case QT_QUOTED:
		if (qf_is(f, "_exists_"))
			rc = j_exists(c, c->t.s, c->t.len, out);
		else
			rc = j_wrap(c, "term", f->s, f->len,
				    json_new_string(c->a, c->t.s, c->t.len),
				    out);
		if (rc || (rc = lex_next(c, LEX_NORMAL)))
			return rc;
		return p_suffix(c);
	case QT_SLASH:
	case QT_TILDE:
		return p_unsupported(c);
	default:
		return qs_fail(c, "the field [" QF_FMT "] needs a value at "
			       "offset %zu, got %s: write " QF_FMT ":value",
			       QF_ARG(f), c->t.off, qs_show(c, buf, sizeof buf),
			       QF_ARG(f));
	}
}

/* field:value with an explicit field (the current token is its name). */
static int p_field(qs *c, int depth, json_value **out)
{
	qtok ft = c->t;
	qfield nf = {ft.s, ft.len};
	int rc;

	if ((rc = lex_next(c, LEX_NORMAL)) || (rc = lex_next(c, LEX_VALUE)))
		return rc; /* the name, then the ':' */
	if (!ft.nwild)
		return p_value(c, &nf, depth, out);
	if (qt_star(&ft) && qt_star(&c->t)) {
		if ((rc = j_match_all(c, out)) ||
		    (rc = lex_next(c, LEX_NORMAL)))
			return rc;
		return p_suffix(c); /* *:* */
	}
	return qs_fail(c, "the field name '" QF_FMT "' at offset %zu has a "
		       "wildcard: ferry searches one named field at a time "
		       "(only *:* is allowed, for every document); escape a "
		       "'*' in a name as '\\*'", QF_ARG(&nf), ft.off);
}

static int p_clause(qs *c, const qfield *f, int depth, json_value **out)
{
	qtok *t = &c->t;
	char buf[64];
	qfield bf = {NULL, 0};

	if (t->k == QT_LPAREN)
		return p_group(c, f, depth, out);
	if (t->k == QT_WORD && qs_colon_next(c))
		return p_field(c, depth, out);
	if (t->k == QT_WORD || t->k == QT_QUOTED || t->k == QT_RANGE_OPEN) {
		if (f && f->s)
			bf = *f;
		else if (c->o && c->o->df && c->o->df[0])
			bf = (qfield){c->o->df, strlen(c->o->df)};
		if (bf.s && t->k == QT_WORD &&
		    (c->q[t->off] == '>' || c->q[t->off] == '<')) {
			int rc; /* (>5 OR <2): lex it again as a comparison */
			c->pos = t->off;
			if ((rc = lex_next(c, LEX_VALUE)))
				return rc;
		}
		if (bf.s)
			return p_value(c, &bf, depth, out);
		if (qt_star(t)) {
			int rc = j_match_all(c, out); /* a lone * */
			if (rc || (rc = lex_next(c, LEX_NORMAL)))
				return rc;
			return p_suffix(c);
		}
		return qs_fail(c, "a field is required for %s at offset %zu: "
			       "ferry has no default field to search; write "
			       "field:value (e.g. name:ann), pass df=FIELD, or "
			       "use *:* for every document",
			       qs_show(c, buf, sizeof buf), t->off);
	}
	if (t->k == QT_SLASH || t->k == QT_TILDE)
		return p_unsupported(c);
	return qs_fail(c, "unexpected %s at offset %zu%s",
		       qs_show(c, buf, sizeof buf), t->off,
		       t->k == QT_COLON ? ": a ':' follows a field name" :
		       t->k == QT_RANGE_CLOSE ? ": no range is open" :
		       t->k == QT_CARET ? ": a boost follows a value (a:b^2)" :
		       "");
}

/* Lucene's addClause(): a conjunction makes its neighbours required
 * (AND) or optional (OR, with default operator AND); a modifier makes its
 * clause required (+) or prohibited (-, NOT, !). */
static int ql_add(qs *c, qlist *l, int conj, int mods, json_value *q)
{
	int and_default = c->o && c->o->and_default, req, prohib, occ;

	if (l->n && conj == CONJ_AND && l->v[l->n - 1].occ != OC_MUST_NOT)
		l->v[l->n - 1].occ = OC_MUST;
	if (l->n && and_default && conj == CONJ_OR &&
	    l->v[l->n - 1].occ != OC_MUST_NOT)
		l->v[l->n - 1].occ = OC_SHOULD;
	prohib = mods == MOD_NOT;
	if (!and_default)
		req = mods == MOD_REQ || (conj == CONJ_AND && !prohib);
	else
		req = mods == MOD_REQ || (!prohib && conj != CONJ_OR);
	occ = prohib ? OC_MUST_NOT : req ? OC_MUST : OC_SHOULD;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		qitem *v = json_arena_alloc(c->a, cap * sizeof *v);
		if (!v)
			return fse_nomem(c->e);
		if (l->n)
			memcpy(v, l->v, l->n * sizeof *v);
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (qitem){occ, q};
	return 0;
}

/* The clauses as one query: a single required or optional clause as it
 * is, else {"bool":{"must":[..],"should":[..],"must_not":[..]}}. */
static int ql_build(qs *c, const qlist *l, json_value **out)
{
	static const char *const names[] = {"must", "should", "must_not"};
	json_value *b;

	if (l->n == 1 && l->v[0].occ != OC_MUST_NOT) {
		*out = l->v[0].q;
		return 0;
	}
	if (!(b = json_new_object(c->a)))
		return fse_nomem(c->e);
	for (int occ = OC_MUST; occ <= OC_MUST_NOT; occ++) {
		json_value *arr = NULL;
		for (size_t i = 0; i < l->n; i++) {
			if (l->v[i].occ != occ)
				continue;
			if ((!arr && !(arr = json_new_array(c->a))) ||
			    json_arr_push(c->a, arr, l->v[i].q))
				return fse_nomem(c->e);
		}
		if (arr && json_obj_set(c->a, b, names[occ], strlen(names[occ]),
					arr))
			return fse_nomem(c->e);
	}
	json_value *o = json_new_object(c->a);
	if (!o || json_obj_set(c->a, o, "bool", 4, b))
		return fse_nomem(c->e);
	*out = o;
	return 0;
}

/* A sequence of clauses up to ')' or the end; `open` is the offset of
 * the '(' that began it (SIZE_MAX at the top). */
static int p_query(qs *c, const qfield *f, int depth, size_t open,
		   json_value **out)
{
	qlist l = {NULL, 0, 0};
	char buf[64];
	int rc;

	for (int first = 1;; first = 0) {
		qtok *t = &c->t;
		int conj = CONJ_NONE, mods = MOD_NONE;
		char op[48] = "";
		size_t op_off = 0;
		json_value *q;

		if (t->k == QT_RPAREN && open == SIZE_MAX)
			return qs_fail(c, "unexpected ')' at offset %zu: no '(' "
				       "is open; remove it or add the matching "
				       "'('", t->off);
		if (t->k == QT_EOF || t->k == QT_RPAREN)
			break;
		if (t->k == QT_AND || t->k == QT_OR) {
			if (first)
				return qs_fail(c, "%s at offset %zu has nothing "
					       "before it: write a:1 %s b:2",
					       qs_show(c, buf, sizeof buf),
					       t->off, t->k == QT_AND ? "AND"
								      : "OR");
			conj = t->k == QT_AND ? CONJ_AND : CONJ_OR;
			qs_show(c, op, sizeof op);
			op_off = t->off;
			if ((rc = lex_next(c, LEX_NORMAL)))
				return rc;
		}
		if (t->k == QT_PLUS || t->k == QT_MINUS || t->k == QT_NOT) {
			mods = t->k == QT_PLUS ? MOD_REQ : MOD_NOT;
			qs_show(c, op, sizeof op);
			op_off = t->off;
			if ((rc = lex_next(c, LEX_NORMAL)))
				return rc;
		}
		if (op[0] && (t->k == QT_EOF || t->k == QT_RPAREN ||
			      t->k == QT_AND || t->k == QT_OR))
			return qs_fail(c, "%s at offset %zu must be followed by "
				       "a clause, got %s", op, op_off,
				       qs_show(c, buf, sizeof buf));
		if ((rc = p_clause(c, f, depth, &q)) ||
		    (rc = ql_add(c, &l, conj, mods, q)))
			return rc;
	}
	if (!l.n && open == SIZE_MAX)
		return qs_fail(c, "the query is empty: write field:value, or "
			       "*:* for every document");
	if (!l.n)
		return qs_fail(c, "empty parentheses at offset %zu: put a query "
			       "inside them", open);
	return ql_build(c, &l, out);
}

int fqs_parse(json_arena *a, const char *q, size_t len, const fqs_opts *o,
	      json_value **out, fsearch_error *e)
{
	qs c = {a, q, len, 0, o, e, len, {0}};
	char buf[64];
	json_value *v;
	size_t bad;
	int rc;

	if (len > FQS_MAX_LEN) {
		c.shown = 40;
		return qs_fail(&c, "the query string is %zu bytes, more than "
			       "%d: send the query in a request body", len,
			       FQS_MAX_LEN);
	}
	if ((bad = qs_bad_utf8((const unsigned char *)q, len)) < len) {
		c.shown = bad;
		return qs_fail(&c, "a byte that is not UTF-8 text (or a NUL) at "
			       "offset %zu: %%-encode the query's UTF-8 bytes",
			       bad);
	}
	if ((rc = lex_next(&c, LEX_NORMAL)) ||
	    (rc = p_query(&c, NULL, 0, SIZE_MAX, &v)))
		return rc;
	if (c.t.k != QT_EOF)
		return qs_fail(&c, "unexpected %s at offset %zu: no '(' is open; "
			       "remove it or add the matching '('",
			       qs_show(&c, buf, sizeof buf), c.t.off);
	*out = v;
	return 0;
}
