/*
 * lazy.c - json_parse_lazy() and json_expand(): a tree built only where it
 * is walked. An upgrade's ops touch a few fields of each document (rename
 * pii.name, set metadata.schema); validating, building and writing back
 * every other byte was 40 % of an upgrade's CPU. Here a document starts
 * as one JSON_RAW node over its text. json_expand() turns a raw object or
 * array into a real one whose members are raw again, and a raw scalar into
 * a real scalar (parsed strictly). json_write() copies raw nodes verbatim,
 * so the untouched parts of a document go from input to output with one
 * memcpy.
 *
 * Only the levels that are expanded are checked (keys, ':' and ',', the
 * closing bracket); inside a raw value only quotes and brackets are
 * matched, nothing is validated. So this is for texts that were validated
 * when they were stored. Whatever the text, nothing is read past the
 * JSON_LAZY_PAD bytes that must follow it (the scan loads whole 64-byte
 * blocks; what lies past the end is masked off). The tree points into
 * that text, which must outlive it.
 */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "ferry/ferry.h"
#include "json/internal.h"

static const char *lz_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/* p at '"': just past the closing quote, or NULL if there is none. */
static const char *lz_string(const char *p, const char *end)
{
	p++;
	for (;;) {
		p = json_find_qb(p, end);
		if (p == end)
			return NULL;
		if (*p == '"')
			return p + 1;
		if (end - p < 2)
			return NULL;
		p += 2; /* a backslash and the byte it escapes */
	}
}

/* Skipping a container is a scan of 64-byte blocks, the way simdjson
 * finds structure: a bit mask per block for quotes, backslashes and
 * brackets; the bytes escaped by backslashes; the bytes inside strings as
 * the prefix XOR of the unescaped quotes; then only the brackets outside
 * strings are looked at one by one. No branch per string: most blocks
 * cost a few dozen instructions. */
typedef struct lz_masks {
	uint64_t quote, bslash, open, close; /* open: '{' '[', close: '}' ']' */
} lz_masks;

#ifdef __SSE2__
/* Bit i set for each byte i of v equal to the byte in all lanes of c. */
#define LZ_EQ16(v, c) \
	((uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8((v), (c))))

/* The four masks of 16 bytes at p, in the low 16 bits of each. */
static inline void lz_classify16(const char *p, uint64_t out[4])
{
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
		      open = _mm_set1_epi8('{'), close = _mm_set1_epi8('}');
	__m128i v = _mm_loadu_si128((const __m128i *)p);
	__m128i v5 = _mm_or_si128(v, _mm_set1_epi8(0x20)); /* [ -> {, ] -> } */
	out[0] = LZ_EQ16(v, quote);
	out[1] = LZ_EQ16(v, bslash);
	out[2] = LZ_EQ16(v5, open);
	out[3] = LZ_EQ16(v5, close);
}
#endif

static void lz_classify(const char *p, lz_masks *m)
{
#ifdef __SSE2__
	uint64_t a[4], b[4], c[4], d[4];
	lz_classify16(p, a);
	lz_classify16(p + 16, b);
	lz_classify16(p + 32, c);
	lz_classify16(p + 48, d);
	m->quote = a[0] | b[0] << 16 | c[0] << 32 | d[0] << 48;
	m->bslash = a[1] | b[1] << 16 | c[1] << 32 | d[1] << 48;
	m->open = a[2] | b[2] << 16 | c[2] << 32 | d[2] << 48;
	m->close = a[3] | b[3] << 16 | c[3] << 32 | d[3] << 48;
#else
	m->quote = m->bslash = m->open = m->close = 0;
	for (int i = 0; i < 64; i++) {
		uint64_t bit = 1ull << i;
		char x = p[i];
		m->quote |= x == '"' ? bit : 0;
		m->bslash |= x == '\\' ? bit : 0;
		m->open |= x == '{' || x == '[' ? bit : 0;
		m->close |= x == '}' || x == ']' ? bit : 0;
	}
#endif
}

/* The bytes escaped by a backslash. *carry: the block's first byte is
 * escaped (in), the next block's is (out). Backslashes are rare: a loop
 * over them. */
static uint64_t lz_escaped(uint64_t bs, uint64_t *carry)
{
	uint64_t e = *carry;
	*carry = 0;
	while (bs) {
		int i = __builtin_ctzll(bs);
		bs &= bs - 1;
		if (e >> i & 1)
			continue; /* an escaped backslash escapes nothing */
		if (i == 63)
			*carry = 1;
		else
			e |= 1ull << (i + 1);
	}
	return e;
}

/* Bit i = the XOR of bits 0..i: 1 from an opening quote up to, not
 * including, its closing one. */
static uint64_t lz_prefix_xor(uint64_t x)
{
	x ^= x << 1;
	x ^= x << 2;
	x ^= x << 4;
	x ^= x << 8;
	x ^= x << 16;
	x ^= x << 32;
	return x;
}

/* p at '{' or '[': just past the bracket that closes it, or NULL. *depth
 * gets the deepest nesting inside (1 for "[]"). Brackets are counted, not
 * matched by kind: json_expand() checks each level it opens. */
static const char *lz_container(const char *p, const char *end, size_t *depth)
{
	uint64_t esc = 0, instr = 0; /* carried from block to block */
	size_t d = 0, max = 0;
	for (; p < end; p += 64) {
		lz_masks m;
		lz_classify(p, &m); /* may read into the JSON_LAZY_PAD bytes */
		uint64_t quotes = m.quote & ~lz_escaped(m.bslash, &esc);
		uint64_t in = lz_prefix_xor(quotes) ^ instr;
		instr = (uint64_t)((int64_t)in >> 63);
		uint64_t br = (m.open | m.close) & ~in;
		if (end - p < 64)
			br &= (1ull << (end - p)) - 1; /* not past the text */
		while (br) {
			int i = __builtin_ctzll(br);
			br &= br - 1;
			if (m.open >> i & 1) {
				if (++d > max)
					max = d;
			} else if (--d == 0) {
				*depth = max;
				return p + i + 1;
			}
		}
	}
	return NULL;
}

/* The end of the value at p (p < end, not whitespace), or NULL. */
static const char *lz_value(const char *p, const char *end, size_t *depth)
{
	*depth = 0;
	if (*p == '"')
		return lz_string(p, end);
	if (*p == '{' || *p == '[')
		return lz_container(p, end, depth);
	const char *q = p;
	while (q < end && *q != ',' && *q != '}' && *q != ']' && *q != ' ' &&
	       *q != '\n' && *q != '\r' && *q != '\t')
		q++;
	return q > p ? q : NULL;
}

static int lz_fail(json_error *e, const char *base, const char *at,
		   const char *msg)
{
	if (e) {
		e->offset = (size_t)(at - base);
		e->msg = msg;
	}
	return FERRY_EJSON;
}

static json_value *lz_raw(json_arena *a, const char *s, size_t n,
			  size_t depth)
{
	json_value *v = json_arena_node(a, sizeof *v);
	if (v) {
		v->type = JSON_RAW;
		v->u.raw.text = s;
		v->u.raw.len = n;
		v->u.raw.depth = depth;
	}
	return v;
}

/* The key token k[0..n) (quotes included) into m: copied, or decoded
 * strictly when it has escapes. */
static int lz_key(json_arena *a, const char *k, size_t n, json_member *m)
{
	if (!memchr(k, '\\', n)) {
		char *s = json_arena_bytes(a, n - 1);
		if (!s)
			return FERRY_ENOMEM;
		memcpy(s, k + 1, n - 2);
		s[n - 2] = 0;
		m->key = s;
		m->klen = n - 2;
		return 0;
	}
	json_value *v;
	int rc = json_parse(a, k, n, &v, NULL);
	if (rc)
		return rc;
	m->key = v->u.str.s;
	m->klen = v->u.str.len;
	return 0;
}

/* A growing array in the arena (the old storage is left there). */
static void *lz_grow(json_arena *a, void *old, size_t n, size_t *cap,
		     size_t size)
{
	size_t nc = *cap ? *cap * 2 : 8;
	void *p = json_arena_node(a, nc * size);
	if (p && n)
		memcpy(p, old, n * size);
	*cap = nc;
	return p;
}

/* One member (or element, when m is NULL) at *pp: its key, ':' and raw
 * value, then ',' or the closing `close`. *more = 0 after the last. */
static int lz_item(json_arena *a, const char *base, const char **pp,
		   const char *end, char close, json_member *m,
		   json_value **val, int *more, json_error *e)
{
	const char *p = lz_ws(*pp, end), *q;
	size_t depth;
	int rc;
	if (m) {
		if (p == end || *p != '"' || !(q = lz_string(p, end)))
			return lz_fail(e, base, p, "expected a string key");
		if ((rc = lz_key(a, p, (size_t)(q - p), m)))
			return rc == FERRY_EJSON ?
				lz_fail(e, base, p, "bad object key") : rc;
		p = lz_ws(q, end);
		if (p == end || *p != ':')
			return lz_fail(e, base, p,
				       "expected ':' after object key");
		p = lz_ws(p + 1, end);
	}
	if (p == end || !(q = lz_value(p, end, &depth)))
		return lz_fail(e, base, p, "expected a value");
	if (!(*val = lz_raw(a, p, (size_t)(q - p), depth)))
		return FERRY_ENOMEM;
	p = lz_ws(q, end);
	if (p < end && *p == ',') {
		*more = 1;
	} else if (p < end && *p == close) {
		*more = 0;
	} else {
		return lz_fail(e, base, p, close == '}' ?
			       "expected ',' or '}'" : "expected ',' or ']'");
	}
	*pp = p + 1;
	return 0;
}

/* v is raw over "{...}" or "[...]": becomes an object or array of raw
 * members. */
static int lz_open(json_arena *a, json_value *v, json_error *e)
{
	const char *base = v->u.raw.text, *end = base + v->u.raw.len;
	char close = *base == '{' ? '}' : ']';
	const char *p = lz_ws(base + 1, end);
	json_member *mm = NULL;
	json_value **vv = NULL;
	size_t n = 0, cap = 0;
	int more = 1, rc;
	if (p < end && *p == close)
		more = 0, p++;
	while (more) {
		if (n == cap) {
			void *g = close == '}' ?
				lz_grow(a, mm, n, &cap, sizeof *mm) :
				lz_grow(a, vv, n, &cap, sizeof *vv);
			if (!g)
				return FERRY_ENOMEM;
			if (close == '}')
				mm = g;
			else
				vv = g;
		}
		rc = close == '}' ?
			lz_item(a, base, &p, end, close, &mm[n], &mm[n].val,
				&more, e) :
			lz_item(a, base, &p, end, close, NULL, &vv[n], &more, e);
		if (rc)
			return rc;
		n++;
	}
	if (lz_ws(p, end) != end)
		return lz_fail(e, base, p, "unexpected text after the value");
	if (close == '}') {
		v->type = JSON_OBJECT;
		v->u.obj.m = mm;
		v->u.obj.n = v->u.obj.cap = n;
	} else {
		v->type = JSON_ARRAY;
		v->u.arr.v = vv;
		v->u.arr.n = v->u.arr.cap = n;
	}
	return 0;
}

int json_expand(json_arena *a, json_value *v, json_error *e)
{
	if (!v || v->type != JSON_RAW)
		return 0;
	const char *s = v->u.raw.text;
	if (*s == '{' || *s == '[')
		return lz_open(a, v, e);
	if (*s == '-' || json_isdigit((unsigned char)*s)) {
		/* a number is its lexeme: checked strictly and kept where it
		 * is (the tree points into the text anyway), without a parse
		 * and a copy; a bad one goes to json_parse for its message */
		const char *bad, *msg, *end = s + v->u.raw.len;
		if (json_lex_number(s, end, &bad, &msg) == end) {
			v->type = JSON_NUMBER;
			v->u.num.text = s;
			v->u.num.len = (size_t)(end - s);
			return 0;
		}
	}
	json_value *x;
	int rc = json_parse(a, s, v->u.raw.len, &x, e);
	if (!rc)
		*v = *x;
	return rc;
}

/* 1 if no member of the expanded v nests deeper than the limit allows. */
static int lz_depth_ok(const json_value *v)
{
	size_t n = v->type == JSON_OBJECT ? v->u.obj.n : v->u.arr.n;
	for (size_t i = 0; i < n; i++) {
		const json_value *m = v->type == JSON_OBJECT ? v->u.obj.m[i].val :
							      v->u.arr.v[i];
		if (m->u.raw.depth + 1 > JSON_MAX_DEPTH)
			return 0;
	}
	return 1;
}

int json_parse_lazy(json_arena *a, const char *s, size_t n, json_value **out,
		    json_error *e)
{
	const char *end = s + n, *p = lz_ws(s, end), *q;
	size_t depth;
	while (end > p && (end[-1] == ' ' || end[-1] == '\n' ||
			   end[-1] == '\r' || end[-1] == '\t'))
		end--;
	if (p == end)
		return lz_fail(e, s, p, "expected a value");
	if (*p == '{' || *p == '[') {
		/* The usual text, a stored document: expanded at once, each
		 * member's end found on the way, without first scanning the
		 * whole text for its end (that scan read every byte twice).
		 * Whatever fails is looked at again below, the careful way,
		 * so errors read as before. */
		json_value *v = lz_raw(a, p, (size_t)(end - p), 0);
		if (!v)
			return FERRY_ENOMEM;
		int rc = lz_open(a, v, NULL);
		if (rc == FERRY_ENOMEM)
			return rc;
		if (!rc && lz_depth_ok(v)) {
			*out = v;
			return 0;
		}
	}
	if (!(q = lz_value(p, end, &depth)) || q != end)
		return lz_fail(e, s, q ? q : p, q ? "unexpected text after "
			       "the value" : "unterminated value");
	if (depth > JSON_MAX_DEPTH)
		return lz_fail(e, s, p, "nested too deeply");
	json_value *v = lz_raw(a, p, (size_t)(end - p), depth);
	if (!v)
		return FERRY_ENOMEM;
	int rc = json_expand(a, v, e);
	if (rc == FERRY_EJSON && e)
		e->offset += (size_t)(p - s);
	if (!rc)
		*out = v;
	return rc;
}
