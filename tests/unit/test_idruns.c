/*
 * test_idruns.c - random-id writes checked against an in-memory model of
 * the index (id -> body and seq, deleted ids) through the public API only.
 *
 * The LMDB backend may keep the id -> seq mappings of recent commits in
 * sorted runs beside the id tree, compacting them when there are more
 * than FERRY_RUN_MAX and merging them into the tree once they hold
 * FERRY_RUN_MERGE ids (both read by ferry_db_open). These tests set both
 * small, so that runs are written, compacted and merged all the time, and
 * check that none of it shows: write results (created, no-op, seqs),
 * gets, counts, full and resumed scans, the change log, a handle in
 * another process, reopening with other settings, kill -9 in the middle
 * of commits, deleting the index and trimmed tombstones. A backend
 * without runs ignores the variables, and all of it must hold there too.
 *
 * Randomized with a fixed seed, printed; TEST_SEED=n runs another one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <sys/wait.h>

#include <lmdb.h>
#include <openssl/evp.h>

#include "testutil.h"

#include "core/db.h"

#define WHY_MAX 700
#define TOUCH_MAX 512   /* ids remembered per commit (for gets) */
#define RECENT_MAX 256  /* ids of the last commits (to rewrite them) */
#define NONE ((size_t)-1)

static uint64_t g_seed;

/* ---- randomness, environment, messages ---------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

static uint64_t rnd_below(uint64_t *s, uint64_t n)
{
	return n ? t_rnd_next(s) % n : 0;
}

/* Each test has its own stream, so that one can be changed alone. */
static uint64_t test_seed(unsigned test)
{
	return mix64(g_seed * 1000 + test) | 1;
}

/* Sets (or with NULL unsets) the run settings for the next open. */
static void runs_env(const char *merge, const char *max)
{
	if (merge)
		setenv("FERRY_RUN_MERGE", merge, 1);
	else
		unsetenv("FERRY_RUN_MERGE");
	if (max)
		setenv("FERRY_RUN_MAX", max, 1);
	else
		unsetenv("FERRY_RUN_MAX");
}

static int setup(void **state)
{
	runs_env("200", "3");
	return t_state_setup(state, "idruns");
}

static int teardown(void **state)
{
	int rc = t_state_teardown(state);
	runs_env(NULL, NULL);
	return rc;
}

static void reopen(tdb *t, const char *merge, const char *max)
{
	ferry_db_close(t->db);
	t->db = NULL;
	runs_env(merge, max);
	t_open(t, 0);
}

static int whyf(char *why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Checks explain a failure in why[WHY_MAX] and return -1, so that they
 * also run in forked children, where cmocka must not be used. */
static int whyf(char *why, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, WHY_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

/* Runs a check that uses a buffer named `why`; fails the test with it. */
#define T_CHECK(call)                                                        \
	do {                                                                 \
		char why[WHY_MAX] = "";                                      \
		if (call)                                                    \
			fail_msg("%s", why);                                 \
	} while (0)

typedef struct idtxt {
	char s[112];
} idtxt;

/* An id for messages: its ends, non-ASCII shown as '?', and its length. */
static idtxt id_show(const char *id, size_t len)
{
	idtxt t;
	size_t o = 0;
	for (size_t i = 0; i < len && o < 90; i++) {
		if (len > 48 && i == 20) {
			memcpy(t.s + o, "...", 3);
			o += 3;
			i = len - 21;
			continue;
		}
		unsigned char c = (unsigned char)id[i];
		t.s[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	snprintf(t.s + o, sizeof t.s - o, " (%zu bytes)", len);
	return t;
}

/* ---- the order of ids in scans ------------------------------------------ */

/* Scans return ids in the byte order of their keys in the id tree (see
 * id_key() in src/store/lmdb/lmdb_docs.c): an id of up to 507 bytes is
 * its own key; a longer one is keyed by its first 490 bytes, a 0 byte and
 * 16 bytes of its SHA-256. So ids are in byte order, except among ids
 * that share their first 490 bytes: there those over 507 bytes come
 * before those of 491 to 507, and in hash order. That is the order of
 * today's code, which runs must keep (not plain byte order). */
#define KEY_PLAIN 507
#define KEY_PREFIX 490

static size_t order_key(const char *id, size_t len, unsigned char *k)
{
	if (len <= KEY_PLAIN) {
		memcpy(k, id, len);
		return len;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	memcpy(k, id, KEY_PREFIX);
	k[KEY_PREFIX] = 0;
	EVP_Digest(id, len, md, &mdlen, EVP_sha256(), NULL);
	memcpy(k + KEY_PREFIX + 1, md, 16);
	return KEY_PREFIX + 17;
}

static int bytes_cmp(const void *a, size_t al, const void *b, size_t bl)
{
	int r = memcmp(a, b, al < bl ? al : bl);
	if (r)
		return r;
	return al < bl ? -1 : al > bl;
}

static int id_order(const char *a, size_t al, const char *b, size_t bl)
{
	if (al <= KEY_PLAIN && bl <= KEY_PLAIN)
		return bytes_cmp(a, al, b, bl);
	unsigned char ka[KEY_PLAIN], kb[KEY_PLAIN];
	size_t kal = order_key(a, al, ka), kbl = order_key(b, bl, kb);
	return bytes_cmp(ka, kal, kb, kbl);
}

/* ---- pools of ids ------------------------------------------------------- */

typedef struct idv {
	char *p;
	size_t n;
} idv;

typedef struct idvec {
	idv *v;
	size_t n, cap;
} idvec;

static void idvec_push(idvec *iv, const char *p, size_t n)
{
	if (iv->n == iv->cap) {
		iv->cap = iv->cap ? iv->cap * 2 : 256;
		iv->v = realloc(iv->v, iv->cap * sizeof *iv->v);
		assert_non_null(iv->v);
	}
	char *c = malloc(n + 1);
	assert_non_null(c);
	memcpy(c, p, n);
	c[n] = 0;
	iv->v[iv->n++] = (idv){c, n};
}

/* Appends one character to s at *n: ASCII, or with `wide` now and then
 * 1 to 4 bytes of UTF-8 (control bytes, é, €, an emoji). */
static void rnd_char(char *s, size_t *n, uint64_t *rs, int wide)
{
	static const char ascii[] = "abcdefghijklmnopqrstuvwxyz0123456789-_.~";
	static const char *const w[] = {"\x01", "\x7f", "\xc3\xa9",
		"\xe2\x82\xac", "\xf0\x9f\x98\x80", "Z"};
	if (!wide || rnd_below(rs, 6)) {
		s[(*n)++] = ascii[rnd_below(rs, sizeof ascii - 1)];
		return;
	}
	const char *c = w[rnd_below(rs, 6)];
	memcpy(s + *n, c, strlen(c));
	*n += strlen(c);
}

/* Fills s[0..len) with whole characters (len + 4 bytes must fit). */
static void rnd_text(char *s, size_t len, uint64_t *rs, int wide)
{
	size_t n = 0;
	while (n < len) {
		size_t before = n;
		rnd_char(s, &n, rs, wide);
		if (n > len) { /* did not fit: pad with ASCII */
			n = before;
			s[n++] = 'x';
		}
	}
}

/* Ids as applications make them: UUIDs, numbers, shared prefixes. */
static void pool_random(idvec *iv, size_t n, uint64_t *rs)
{
	char buf[64];
	for (size_t i = 0; i < n; i++) {
		uint64_t a = t_rnd_next(rs), b = t_rnd_next(rs);
		int l;
		if (i % 4 == 0)
			l = snprintf(buf, sizeof buf,
				     "%08x-%04x-%04x-%04x-%012llx", (unsigned)a,
				     (unsigned)(a >> 32) & 0xffff,
				     (unsigned)(a >> 48), (unsigned)b & 0xffff,
				     (unsigned long long)(b >> 16));
		else if (i % 4 == 1)
			l = snprintf(buf, sizeof buf, "%llu",
				     (unsigned long long)(a % 1000000000));
		else if (i % 4 == 2)
			l = snprintf(buf, sizeof buf, "order-%06u-%02u",
				     (unsigned)(a % 1000000),
				     (unsigned)(b % 100));
		else
			rnd_text(buf, (size_t)(l = 5 + (int)(a % 16)), rs, 0);
		idvec_push(iv, buf, (size_t)l);
	}
}

/* len, shortened so that s[0..len) ends with a whole character. */
static size_t char_cut(const char *s, size_t len)
{
	while (len > 0 && len < FERRY_ID_MAX &&
	       ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	return len;
}

static void push_cut(idvec *iv, const char *stem, size_t len)
{
	if ((len = char_cut(stem, len)))
		idvec_push(iv, stem, len);
}

/* Ids that share long prefixes: nested prefixes of a 512-byte stem, the
 * stem with one byte changed near the 490 / 503 / 507 byte marks, and
 * random tails after long prefixes. */
static void pool_stem(idvec *iv, uint64_t *rs, int wide)
{
	static const size_t cuts[] = {1, 2, 16, 200, 400, 480, 489, 490,
		491, 492, 500, 502, 503, 504, 505, 506, 507, 508, 509, 510,
		511, 512};
	static const size_t flips[] = {0, 100, 488, 489, 490, 491, 500, 503,
				       504, 506, 507, 508, 510, 511};
	static const size_t heads[] = {480, 490, 495, 503, 507};
	char stem[FERRY_ID_MAX + 8], id[FERRY_ID_MAX + 8];
	rnd_text(stem, FERRY_ID_MAX, rs, wide);
	for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++)
		push_cut(iv, stem, cuts[i]);
	for (size_t i = 0; !wide && i < sizeof flips / sizeof *flips; i++) {
		size_t q = flips[i], lens[3] = {q + 1, FERRY_ID_MAX,
			q + 1 + rnd_below(rs, FERRY_ID_MAX - q)};
		for (int j = 0; j < 3; j++) {
			memcpy(id, stem, lens[j]);
			id[q] = stem[q] == 'q' ? 'r' : 'q';
			idvec_push(iv, id, lens[j]);
		}
	}
	for (size_t i = 0; i < sizeof heads / sizeof *heads; i++)
		for (int j = 0; j < 5; j++) {
			size_t h = char_cut(stem, heads[i]);
			size_t len = h + 1 + rnd_below(rs, FERRY_ID_MAX - h);
			memcpy(id, stem, h);
			rnd_text(id + h, len - h, rs, wide);
			idvec_push(iv, id, len);
		}
}

/* Ids from 1 to FERRY_ID_MAX bytes long. */
static void pool_lengths(idvec *iv, uint64_t *rs)
{
	char buf[FERRY_ID_MAX + 8];
	for (int i = 0; i < 300; i++) {
		size_t len = 1 + rnd_below(rs, 12);
		rnd_text(buf, len, rs, 1);
		idvec_push(iv, buf, len);
	}
	for (int i = 0; i < 200; i++) {
		size_t len = 13 + rnd_below(rs, 288);
		rnd_text(buf, len, rs, i % 2);
		idvec_push(iv, buf, len);
	}
	for (int i = 0; i < 8; i++)
		pool_stem(iv, rs, i >= 4);
}

/* ---- the model ---------------------------------------------------------- */

typedef struct mdoc {
	char *id;
	size_t len;
	char *body;      /* NULL: absent (never written, or deleted) */
	uint64_t seq;    /* of the latest write or delete; 0: never written */
	unsigned commit; /* of the latest write or delete */
} mdoc;

typedef struct model {
	const char *index;               /* the alias */
	char phys[FERRY_NAME_MAX + 1];   /* its physical name */
	mdoc *d;                         /* the pool, in scan order */
	size_t n;
	uint64_t live, seq, rs, bodies, ops;
	unsigned commit;
	size_t touched[TOUCH_MAX], ntouched;
	size_t recent[RECENT_MAX], nrecent, rpos;
	uint64_t *seqs;                  /* this commit's new seqs */
	size_t nseqs, capseqs;
} model;

/* What the model expects of one op. */
typedef struct pend {
	size_t di;
	enum ferry_op op;
	int code, created, noop;
} pend;

static int idv_cmp(const void *a, const void *b)
{
	const idv *x = a, *y = b;
	return id_order(x->p, x->n, y->p, y->n);
}

/* A model of index `index` (just created or empty) over the ids of iv,
 * which it takes. */
static void model_init(model *m, ferry_db *db, const char *index, idvec *iv,
		       uint64_t seed)
{
	memset(m, 0, sizeof *m);
	qsort(iv->v, iv->n, sizeof *iv->v, idv_cmp);
	m->d = calloc(iv->n ? iv->n : 1, sizeof *m->d);
	assert_non_null(m->d);
	for (size_t i = 0; i < iv->n; i++) {
		const mdoc *last = m->n ? &m->d[m->n - 1] : NULL;
		if (last && last->len == iv->v[i].n &&
		    !memcmp(last->id, iv->v[i].p, last->len)) {
			free(iv->v[i].p); /* a duplicate */
			continue;
		}
		m->d[m->n].id = iv->v[i].p;
		m->d[m->n++].len = iv->v[i].n;
	}
	free(iv->v);
	memset(iv, 0, sizeof *iv);
	ferry_index_info info = t_info(db, index);
	m->index = index;
	memcpy(m->phys, info.name, sizeof m->phys);
	m->seq = info.seq;
	m->rs = seed;
	assert_int_equal(info.docs, 0);
}

/* Forgets every document: the index was deleted and created again. */
static void model_reset(model *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->d[i].body);
		m->d[i].body = NULL;
		m->d[i].seq = 0;
		m->d[i].commit = 0;
	}
	m->live = m->seq = 0;
	m->commit = 0;
	m->ntouched = m->nrecent = m->rpos = 0;
}

static void model_free(model *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->d[i].id);
		free(m->d[i].body);
	}
	free(m->d);
	free(m->seqs);
}

static char *body_new(model *m)
{
	static const char pad[] = "abcdefghijklmnopqrstuvwxyz0123456789"
				  "abcdefghijklmnopqrstuvwxyz";
	char buf[160];
	int pl = (int)rnd_below(&m->rs, 48);
	snprintf(buf, sizeof buf, "{\"c\":%u,\"k\":%llu,\"p\":\"%.*s\"}",
		 m->commit, (unsigned long long)++m->bodies, pl,
		 pad + rnd_below(&m->rs, 8));
	char *b = strdup(buf);
	assert_non_null(b);
	return b;
}

/* Applies op p (add order) to the model and sets what it must return.
 * Takes `body`. Ops on different ids are independent and ops on one id
 * apply in add order, so this is the order a bulk's result follows. */
static void model_plan(model *m, pend *p, char *body)
{
	mdoc *d = &m->d[p->di];
	p->code = p->created = p->noop = 0;
	m->ops++;
	if (p->op == FERRY_OP_DELETE) {
		if (!d->body) {
			p->code = FERRY_ENOTFOUND;
			return;
		}
		free(d->body);
		d->body = NULL;
		m->live--;
		return;
	}
	if (d->body && (p->op == FERRY_OP_CREATE || !strcmp(d->body, body))) {
		p->code = p->op == FERRY_OP_CREATE ? FERRY_EEXISTS : 0;
		p->noop = p->op != FERRY_OP_CREATE;
		free(body);
		return;
	}
	p->created = !d->body;
	m->live += !d->body;
	free(d->body);
	d->body = body;
}

static void touch(model *m, size_t di)
{
	if (m->ntouched < TOUCH_MAX)
		m->touched[m->ntouched++] = di;
	m->recent[m->rpos] = di;
	m->rpos = (m->rpos + 1) % RECENT_MAX;
	if (m->nrecent < RECENT_MAX)
		m->nrecent++;
}

/* ---- write results ------------------------------------------------------ */

static const char *op_name(enum ferry_op op)
{
	return op == FERRY_OP_DELETE ? "delete" :
	       op == FERRY_OP_CREATE ? "create" : "index";
}

static int seq_push(model *m, uint64_t seq, char *why)
{
	if (m->nseqs == m->capseqs) {
		size_t cap = m->capseqs ? m->capseqs * 2 : 512;
		uint64_t *ns = realloc(m->seqs, cap * sizeof *ns);
		if (!ns)
			return whyf(why, "out of memory");
		m->seqs = ns;
		m->capseqs = cap;
	}
	m->seqs[m->nseqs++] = seq;
	return 0;
}

/* Checks op p's result (in add order) and takes its seq into the model:
 * above every earlier commit's, and above the earlier ops' on the id. */
static int settle(model *m, const pend *p, int rc,
		  const ferry_write_result *r, char *why)
{
	mdoc *d = &m->d[p->di];
	idtxt it = id_show(d->id, d->len);
	const char *id = it.s, *op = op_name(p->op);
	if (rc != p->code)
		return whyf(why, "commit %u: %s of %s: %s, the model says %s",
			    m->commit, op, id, ferry_strerror(rc),
			    ferry_strerror(p->code));
	if (rc)
		return 0;
	if (strlen(r->id) != d->len || memcmp(r->id, d->id, d->len))
		return whyf(why, "commit %u: %s of %s: result names %s",
			    m->commit, op, id, id_show(r->id, strlen(r->id)).s);
	if (r->created != p->created || r->noop != p->noop)
		return whyf(why, "commit %u: %s of %s: created %d noop %d, the "
			    "model says %d %d", m->commit, op, id, r->created,
			    r->noop, p->created, p->noop);
	if (p->noop)
		return r->seq == d->seq ? 0 : whyf(why, "commit %u: no-op on "
			"%s has seq %llu, the document's is %llu", m->commit,
			id, (unsigned long long)r->seq,
			(unsigned long long)d->seq);
	if (r->seq <= m->seq || (d->commit == m->commit && r->seq <= d->seq))
		return whyf(why, "commit %u: %s of %s got seq %llu; earlier "
			    "commits went to %llu, this id had %llu", m->commit,
			    op, id, (unsigned long long)r->seq,
			    (unsigned long long)m->seq,
			    (unsigned long long)d->seq);
	d->seq = r->seq;
	d->commit = m->commit;
	return seq_push(m, r->seq, why);
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The commit's writes took the next seqs, one each, none skipped. */
static int seqs_end(model *m, char *why)
{
	if (m->nseqs) /* none yet: m->seqs may be NULL */
		qsort(m->seqs, m->nseqs, sizeof *m->seqs, u64_cmp);
	for (size_t i = 0; i < m->nseqs; i++)
		if (m->seqs[i] != m->seq + 1 + i)
			return whyf(why, "commit %u: %zu writes got seqs "
				    "%llu..%llu (#%zu is %llu), expected "
				    "%llu..",
				    m->commit, m->nseqs,
				    (unsigned long long)m->seqs[0],
				    (unsigned long long)m->seqs[m->nseqs - 1],
				    i, (unsigned long long)m->seqs[i],
				    (unsigned long long)m->seq + 1);
	m->seq += m->nseqs;
	m->nseqs = 0;
	return 0;
}

/* ---- writing ------------------------------------------------------------ */

/* An id to write: one this commit wrote already, one of the last
 * commits' (re-creates after deletes, rewrites of ids still in runs), or
 * any of the pool. */
static size_t pick_doc(model *m)
{
	uint64_t r = rnd_below(&m->rs, 100);
	if (r < 15 && m->ntouched)
		return m->touched[rnd_below(&m->rs, m->ntouched)];
	if (r < 35 && m->nrecent)
		return m->recent[rnd_below(&m->rs, m->nrecent)];
	return (size_t)rnd_below(&m->rs, m->n);
}

/* An op for d; *same: put the body it has (a no-op). */
static enum ferry_op pick_op(model *m, size_t di, int *same)
{
	uint64_t r = rnd_below(&m->rs, 100);
	*same = r < 4 && m->d[di].body;
	if (*same || r < 50)
		return FERRY_OP_INDEX;
	return r < 72 ? FERRY_OP_CREATE : FERRY_OP_DELETE;
}

static size_t bulk_size(model *m)
{
	uint64_t r = rnd_below(&m->rs, 100);
	if (r < 8) /* more ids than FERRY_RUN_MERGE in one commit */
		return 150 + (size_t)rnd_below(&m->rs, 250);
	if (r < 20)
		return 1 + (size_t)rnd_below(&m->rs, 3);
	return 4 + (size_t)rnd_below(&m->rs, 40);
}

static void commit_begin(model *m)
{
	m->commit++;
	m->ntouched = 0;
	m->nseqs = 0;
}

/* Adds op `op` on d[di] to b (through the alias or the physical name)
 * and to the model. */
static void add_op(model *m, ferry_bulk *b, pend *p, size_t di,
		   enum ferry_op op, int same)
{
	mdoc *d = &m->d[di];
	char *body = op == FERRY_OP_DELETE ? NULL :
		     same ? strdup(d->body) : body_new(m);
	const char *name = rnd_below(&m->rs, 4) ? m->index : m->phys;
	assert_int_equal(ferry_bulk_add(b, op, name, d->id, d->len, body,
					body ? strlen(body) : 0), 0);
	p->di = di;
	p->op = op;
	model_plan(m, p, body);
	touch(m, di);
}

static void bulk_finish(model *m, ferry_bulk *b, pend *p, size_t n)
{
	ferry_err err = {0, ""};
	T_OK(ferry_bulk_commit(b, &err), &err);
	assert_int_equal(ferry_bulk_count(b), n);
	for (size_t i = 0; i < n; i++) {
		ferry_write_result r;
		ferry_err oe = {0, ""};
		memset(&r, 0, sizeof r);
		int rc = ferry_bulk_result(b, i, &r, &oe);
		T_CHECK(settle(m, &p[i], rc, &r, why));
	}
	T_CHECK(seqs_end(m, why));
}

static void bulk_round(model *m, ferry_bulk *b)
{
	size_t n = bulk_size(m);
	pend *p = calloc(n, sizeof *p);
	assert_non_null(p);
	commit_begin(m);
	ferry_bulk_clear(b);
	for (size_t i = 0; i < n; i++) {
		int same;
		size_t di = pick_doc(m);
		enum ferry_op op = pick_op(m, di, &same);
		add_op(m, b, &p[i], di, op, same);
	}
	bulk_finish(m, b, p, n);
	free(p);
}

/* One ferry_doc_put or ferry_doc_delete. */
static void single_round(model *m, ferry_db *db)
{
	ferry_err err = {0, ""};
	ferry_write_result r;
	pend p = {0, FERRY_OP_INDEX, 0, 0, 0};
	int same, rc;
	commit_begin(m);
	p.di = pick_doc(m);
	p.op = pick_op(m, p.di, &same);
	mdoc *d = &m->d[p.di];
	memset(&r, 0, sizeof r);
	if (p.op == FERRY_OP_DELETE) {
		rc = ferry_doc_delete(db, m->index, d->id, d->len, &r, &err);
		model_plan(m, &p, NULL);
	} else {
		char *body = same ? strdup(d->body) : body_new(m);
		rc = ferry_doc_put(db, m->index, d->id, d->len, body,
				   strlen(body), p.op, &r, &err);
		model_plan(m, &p, body);
	}
	touch(m, p.di);
	T_CHECK(settle(m, &p, rc, &r, why));
	T_CHECK(seqs_end(m, why));
}

/* The same op on d[di[0..n)], in commits of `per`. */
static void bulk_ops(model *m, ferry_db *db, const size_t *di, size_t n,
		     size_t per, enum ferry_op op)
{
	ferry_bulk *b;
	pend *p = calloc(per, sizeof *p);
	assert_non_null(p);
	assert_int_equal(ferry_bulk_new(db, &b), 0);
	for (size_t i = 0; i < n; i += per) {
		size_t k = n - i < per ? n - i : per;
		commit_begin(m);
		ferry_bulk_clear(b);
		for (size_t j = 0; j < k; j++)
			add_op(m, b, &p[j], di[i + j], op, 0);
		bulk_finish(m, b, p, k);
	}
	ferry_bulk_free(b);
	free(p);
}

/* ---- reading ------------------------------------------------------------ */

static int chk_count(ferry_db *db, const model *m, char *why)
{
	ferry_err err = {0, ""};
	ferry_index_info info;
	uint64_t n = 0;
	if (ferry_doc_count(db, m->index, &n, &err) ||
	    ferry_index_get(db, m->index, &info, &err))
		return whyf(why, "count of %s: %s", m->index, err.msg);
	if (n != m->live || info.docs != m->live || info.seq != m->seq)
		return whyf(why, "after commit %u: count %llu, index info docs "
			    "%llu seq %llu; the model has %llu docs, seq %llu",
			    m->commit, (unsigned long long)n,
			    (unsigned long long)info.docs,
			    (unsigned long long)info.seq,
			    (unsigned long long)m->live,
			    (unsigned long long)m->seq);
	return 0;
}

static int chk_get(ferry_db *db, const model *m, size_t di, char *why)
{
	ferry_err err = {0, ""};
	const mdoc *d = &m->d[di];
	char *body = NULL;
	size_t len = 0;
	uint64_t seq = 0;
	int rc = ferry_doc_get(db, m->index, d->id, d->len, &body, &len, &seq,
			       &err);
	if (rc == FERRY_ENOTFOUND && !d->body)
		return 0;
	if (rc)
		return whyf(why, "after commit %u: get %s: %s (%s)", m->commit,
			    id_show(d->id, d->len).s, ferry_strerror(rc),
			    err.msg);
	int bad = !d->body || seq != d->seq || len != strlen(d->body) ||
		  memcmp(body, d->body, len);
	if (bad)
		whyf(why, "after commit %u: get %s: seq %llu %.*s; the model "
		     "has seq %llu %s", m->commit, id_show(d->id, d->len).s,
		     (unsigned long long)seq, (int)(len > 200 ? 200 : len),
		     body, (unsigned long long)d->seq,
		     d->body ? d->body : "nothing");
	ferry_free(body);
	return bad ? -1 : 0;
}

/* This commit's ids and a few others. */
static int chk_sample(ferry_db *db, model *m, char *why)
{
	for (size_t i = 0; i < m->ntouched; i++)
		if (chk_get(db, m, m->touched[i], why))
			return -1;
	for (int i = 0; i < 8; i++)
		if (chk_get(db, m, (size_t)rnd_below(&m->rs, m->n), why))
			return -1;
	return 0;
}

static int doc_match(const model *m, const mdoc *d, const ferry_doc *x,
		     const char *what, char *why)
{
	if (x->idlen != d->len || memcmp(x->id, d->id, d->len))
		return whyf(why, "after commit %u: %s returned %s where the "
			    "model has %s next (%s)", m->commit, what,
			    id_show(x->id, x->idlen).s,
			    id_show(d->id, d->len).s,
			    id_order(x->id, x->idlen, d->id, d->len) < 0 ?
			    "an extra id, or out of order" : "one missing");
	if (x->deleted || x->seq != d->seq || x->body_len != strlen(d->body) ||
	    memcmp(x->body, d->body, x->body_len))
		return whyf(why, "after commit %u: %s: %s has seq %llu deleted "
			    "%d %.*s, the model seq %llu %s", m->commit, what,
			    id_show(d->id, d->len).s,
			    (unsigned long long)x->seq,
			    x->deleted, (int)(x->body_len > 200 ? 200 :
			    x->body_len), x->body, (unsigned long long)d->seq,
			    d->body);
	return 0;
}

/* A scan from the start (after == NONE) or after d[after].id returns
 * the model's live ids after it, in order, each once. */
static int chk_scan(ferry_db *db, const model *m, size_t after, char *why)
{
	ferry_err err = {0, ""};
	ferry_scan *s;
	ferry_doc x;
	const mdoc *a = after == NONE ? NULL : &m->d[after];
	char what[160];
	snprintf(what, sizeof what, "scan after %s",
		 a ? id_show(a->id, a->len).s : "nothing");
	int rc = ferry_scan_open(db, m->index, a ? a->id : NULL,
				 a ? a->len : 0, &s, &err);
	if (rc)
		return whyf(why, "%s: open: %s", what, err.msg);
	size_t j = a ? after + 1 : 0;
	while ((rc = ferry_scan_next(s, &x, &err)) == 0) {
		while (j < m->n && !m->d[j].body)
			j++;
		rc = j == m->n ? whyf(why, "after commit %u: %s returned %s "
				      "past the model's last id", m->commit,
				      what, id_show(x.id, x.idlen).s) :
				 doc_match(m, &m->d[j++], &x, what, why);
		if (rc)
			break;
	}
	ferry_scan_free(s);
	if (rc != FERRY_EOF)
		return rc < 0 ? rc : whyf(why, "%s: %s", what, err.msg);
	while (j < m->n && !m->d[j].body)
		j++;
	return j == m->n ? 0 : whyf(why, "after commit %u: %s ended before "
				    "%s", m->commit, what,
				    id_show(m->d[j].id, m->d[j].len).s);
}

/* A full scan and `resumed` scans from random ids (live or not). */
static int chk_scans(ferry_db *db, model *m, int resumed, char *why)
{
	if (chk_scan(db, m, NONE, why))
		return -1;
	for (int i = 0; i < resumed; i++)
		if (chk_scan(db, m, (size_t)rnd_below(&m->rs, m->n), why))
			return -1;
	return 0;
}

typedef struct seqd {
	uint64_t seq;
	size_t di;
} seqd;

static int seqd_cmp(const void *a, const void *b)
{
	return u64_cmp(&((const seqd *)a)->seq, &((const seqd *)b)->seq);
}

static int change_match(const model *m, const seqd *want, const ferry_doc *x,
			char *why)
{
	const mdoc *d = &m->d[want->di];
	if (x->seq == want->seq && x->idlen == d->len &&
	    !memcmp(x->id, d->id, d->len) && x->deleted == !d->body &&
	    (!d->body || (x->body_len == strlen(d->body) &&
			  !memcmp(x->body, d->body, x->body_len))))
		return 0;
	return whyf(why, "after commit %u: changes: %s seq %llu deleted %d; "
		    "the model has %s seq %llu deleted %d", m->commit,
		    id_show(x->id, x->idlen).s, (unsigned long long)x->seq,
		    x->deleted, id_show(d->id, d->len).s,
		    (unsigned long long)want->seq, !d->body);
}

/* The change log from 0: every id ever written, once, at its latest seq
 * (deleted ones as tombstones), in seq order. */
static int chk_changes(ferry_db *db, const model *m, char *why)
{
	ferry_err err = {0, ""};
	ferry_changes *c;
	ferry_doc x;
	uint64_t upto = 0;
	size_t k = 0, i = 0;
	seqd *v = malloc((m->n ? m->n : 1) * sizeof *v);
	if (!v)
		return whyf(why, "out of memory");
	for (size_t di = 0; di < m->n; di++)
		if (m->d[di].seq)
			v[k++] = (seqd){m->d[di].seq, di};
	qsort(v, k, sizeof *v, seqd_cmp);
	int rc = ferry_changes_open(db, m->index, 0, &c, &upto, &err);
	if (rc || upto != m->seq) {
		free(v);
		if (!rc)
			ferry_changes_free(c);
		return whyf(why, "changes: %s, upto %llu (model seq %llu)",
			    rc ? err.msg : "open", (unsigned long long)upto,
			    (unsigned long long)m->seq);
	}
	while ((rc = ferry_changes_next(c, &x, &err)) == 0 &&
	       !(rc = i < k ? change_match(m, &v[i], &x, why) :
		      whyf(why, "changes: an extra entry %s",
			   id_show(x.id, x.idlen).s)))
		i++;
	ferry_changes_free(c);
	free(v);
	if (rc != FERRY_EOF)
		return rc < 0 ? rc : whyf(why, "changes: %s", err.msg);
	return i == k ? 0 : whyf(why, "changes: %zu entries, the model has "
				 "%zu", i, k);
}

/* Everything: count, every id of the pool, scans, the change log. */
static int chk_all(ferry_db *db, model *m, char *why)
{
	if (chk_count(db, m, why))
		return -1;
	for (size_t i = 0; i < m->n; i++)
		if (chk_get(db, m, i, why))
			return -1;
	if (chk_scans(db, m, 5, why))
		return -1;
	return chk_changes(db, m, why);
}

/* n commits (one in ten a single put or delete), each checked with the
 * count and gets; every `scan_every` also with scans. */
static void run_commits(model *m, ferry_db *db, unsigned n,
			unsigned scan_every)
{
	ferry_bulk *b;
	assert_int_equal(ferry_bulk_new(db, &b), 0);
	for (unsigned i = 0; i < n; i++) {
		if (rnd_below(&m->rs, 10) == 0)
			single_round(m, db);
		else
			bulk_round(m, b);
		T_CHECK(chk_count(db, m, why));
		T_CHECK(chk_sample(db, m, why));
		if (scan_every && (i + 1) % scan_every == 0)
			T_CHECK(chk_scans(db, m, 2, why));
	}
	ferry_bulk_free(b);
}

/* ---- 1. random ops ------------------------------------------------------ */

static void test_random_ops(void **state)
{
	tdb *t = *state;
	model m;
	idvec iv = {0};
	uint64_t rs = test_seed(1);
	t_create(t->db, "rnd");
	pool_random(&iv, 3000, &rs);
	model_init(&m, t->db, "rnd", &iv, rs);
	double t0 = t_now_ms();
	run_commits(&m, t->db, 400, 20);
	T_CHECK(chk_all(t->db, &m, why));
	printf("# random ops: %u commits, %llu ops on %zu ids (%llu live) in "
	       "%.0f ms\n", m.commit, (unsigned long long)m.ops, m.n,
	       (unsigned long long)m.live, t_now_ms() - t0);
	model_free(&m);
}

/* ---- 2. ids of every length, long shared prefixes ----------------------- */

static void test_id_lengths(void **state)
{
	tdb *t = *state;
	model m;
	idvec iv = {0};
	uint64_t rs = test_seed(2);
	size_t longer = 0;
	reopen(t, "97", "2");
	t_create(t->db, "len");
	pool_lengths(&iv, &rs);
	model_init(&m, t->db, "len", &iv, rs);
	for (size_t i = 0; i < m.n; i++)
		longer += m.d[i].len > 503;
	double t0 = t_now_ms();
	run_commits(&m, t->db, 250, 25);
	T_CHECK(chk_all(t->db, &m, why));
	reopen(t, NULL, NULL);
	T_CHECK(chk_all(t->db, &m, why));
	printf("# ids of 1..%d bytes: %zu ids (%zu over 503 bytes), %u "
	       "commits, %llu ops in %.0f ms\n", FERRY_ID_MAX, m.n, longer,
	       m.commit, (unsigned long long)m.ops, t_now_ms() - t0);
	model_free(&m);
}

/* ---- 3. a handle in another process ------------------------------------- */

typedef struct reader {
	pid_t pid;
	int cmd, rep; /* pipes: commands to it, replies from it */
} reader;

typedef struct reply {
	char ok; /* 'k' or 'f' */
	char why[WHY_MAX];
} reply;

/* Writes the model's state (not its ids, which a forked reader has). */
static void model_save(const model *m, const char *path)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fwrite(&m->live, sizeof m->live, 1, f);
	fwrite(&m->seq, sizeof m->seq, 1, f);
	fwrite(&m->commit, sizeof m->commit, 1, f);
	for (size_t i = 0; i < m->n; i++) {
		const mdoc *d = &m->d[i];
		uint32_t bl = d->body ? (uint32_t)strlen(d->body) : UINT32_MAX;
		fwrite(&d->seq, sizeof d->seq, 1, f);
		fwrite(&bl, sizeof bl, 1, f);
		if (d->body)
			fwrite(d->body, 1, bl, f);
	}
	assert_int_equal(fclose(f), 0);
}

static int model_load(model *m, const char *path, char *why)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return whyf(why, "reader: cannot open %s", path);
	int ok = fread(&m->live, sizeof m->live, 1, f) == 1 &&
		 fread(&m->seq, sizeof m->seq, 1, f) == 1 &&
		 fread(&m->commit, sizeof m->commit, 1, f) == 1;
	for (size_t i = 0; ok && i < m->n; i++) {
		mdoc *d = &m->d[i];
		uint32_t bl = 0;
		ok = fread(&d->seq, sizeof d->seq, 1, f) == 1 &&
		     fread(&bl, sizeof bl, 1, f) == 1;
		free(d->body);
		d->body = NULL;
		if (!ok || bl == UINT32_MAX)
			continue;
		if ((ok = !!(d->body = malloc(bl + 1)))) {
			ok = fread(d->body, 1, bl, f) == bl;
			d->body[bl] = 0;
		}
	}
	fclose(f);
	return ok ? 0 : whyf(why, "reader: cannot read the model");
}

/* The reader process: on each 'c' it (opens the directory the first
 * time, then) loads the model and checks everything. No cmocka here. */
static int reader_main(model *m, const char *dir, const char *path,
		       unsigned flags, int cmd, int rep)
{
	ferry_err err = {0, ""};
	ferry_db *db = NULL;
	reply r;
	char c;
	while (read(cmd, &c, 1) == 1 && c == 'c') {
		memset(&r, 0, sizeof r);
		r.ok = 'f';
		if (!db && ferry_db_open(dir, flags, &db, &err))
			snprintf(r.why, sizeof r.why, "reader: open: %s",
				 err.msg);
		else if (!model_load(m, path, r.why) && !chk_all(db, m, r.why))
			r.ok = 'k';
		if (write(rep, &r, sizeof r) != (ssize_t)sizeof r)
			break;
	}
	ferry_db_close(db);
	return 0;
}

static void reader_spawn(reader *r, model *m, const char *dir,
			 const char *path, unsigned flags)
{
	int c[2], p[2];
	assert_int_equal(pipe(c), 0);
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	r->pid = fork();
	assert_true(r->pid >= 0);
	if (r->pid == 0) {
		close(c[1]);
		close(p[0]);
		_exit(reader_main(m, dir, path, flags, c[0], p[1]));
	}
	close(c[0]);
	close(p[1]);
	r->cmd = c[1];
	r->rep = p[0];
}

static void readers_end(reader *r, size_t n, int force)
{
	for (size_t i = 0; i < n; i++) {
		int st = 0;
		if (force)
			kill(r[i].pid, SIGKILL);
		else if (write(r[i].cmd, "q", 1) != 1)
			kill(r[i].pid, SIGKILL);
		close(r[i].cmd);
		close(r[i].rep);
		assert_int_equal(waitpid(r[i].pid, &st, 0), r[i].pid);
		if (!force && (!WIFEXITED(st) || WEXITSTATUS(st)))
			fail_msg("reader %zu ended with status %d", i, st);
	}
}

/* Every reader checks the model that was saved last. */
static void readers_ask(reader *r, size_t n)
{
	char why[2 * WHY_MAX + 32] = "";
	for (size_t i = 0; i < n; i++)
		if (write(r[i].cmd, "c", 1) != 1)
			snprintf(why, sizeof why, "reader %zu is gone", i);
	for (size_t i = 0; i < n && !why[0]; i++) {
		reply rp;
		size_t got = 0;
		ssize_t k = 1;
		while (got < sizeof rp && (k = read(r[i].rep, (char *)&rp + got,
						    sizeof rp - got)) > 0)
			got += (size_t)k;
		if (got < sizeof rp)
			snprintf(why, sizeof why, "reader %zu died", i);
		else if (rp.ok != 'k')
			snprintf(why, sizeof why, "reader %zu: %.*s", i,
				 WHY_MAX - 1, rp.why);
	}
	if (why[0]) {
		readers_end(r, n, 1);
		fail_msg("%s", why);
	}
}

/* Readers in other processes (a writable and a read-only handle), opened
 * after the first writes, agree with the model while this one writes. */
static void test_second_process(void **state)
{
	tdb *t = *state;
	model m;
	idvec iv = {0};
	reader r[2];
	char path[600];
	uint64_t rs = test_seed(3);
	t_create(t->db, "two");
	pool_random(&iv, 2500, &rs);
	model_init(&m, t->db, "two", &iv, rs);
	run_commits(&m, t->db, 150, 50);
	snprintf(path, sizeof path, "%s/model.bin", t->dir);
	model_save(&m, path);
	ferry_db_close(t->db); /* as two programs would: no handle forked */
	t->db = NULL;
	reader_spawn(&r[0], &m, t->dir, path, FERRY_OPEN_NOSYNC);
	reader_spawn(&r[1], &m, t->dir, path, FERRY_OPEN_RDONLY);
	t_open(t, 0);
	readers_ask(r, 2);
	for (int k = 0; k < 3; k++) {
		run_commits(&m, t->db, 60, 30);
		model_save(&m, path);
		readers_ask(r, 2);
	}
	readers_end(r, 2, 0);
	printf("# two readers checked 4 times; %u commits, %llu live\n",
	       m.commit, (unsigned long long)m.live);
	model_free(&m);
}

/* ---- 4. close and reopen ------------------------------------------------ */

static void test_reopen(void **state)
{
	tdb *t = *state;
	model m;
	idvec iv = {0};
	uint64_t rs = test_seed(4);
	t_create(t->db, "re");
	pool_random(&iv, 2500, &rs);
	model_init(&m, t->db, "re", &iv, rs);
	run_commits(&m, t->db, 120, 40);
	reopen(t, "200", "3");
	T_CHECK(chk_all(t->db, &m, why));
	run_commits(&m, t->db, 60, 30);
	reopen(t, NULL, NULL); /* defaults: runs left by small settings */
	T_CHECK(chk_all(t->db, &m, why));
	run_commits(&m, t->db, 40, 20);
	T_CHECK(chk_all(t->db, &m, why));
	reopen(t, "50", "2");
	T_CHECK(chk_all(t->db, &m, why));
	run_commits(&m, t->db, 40, 20);
	T_CHECK(chk_all(t->db, &m, why));
	reopen(t, NULL, NULL);
	T_CHECK(chk_all(t->db, &m, why));
	model_free(&m);
}

/* ---- 5. kill -9 while committing ---------------------------------------- */

/* Batch k: ids "<hash>-b<k>-<j>" (random in id order, the batch number
 * readable), body {"b":k,"j":j}. */
static size_t batch_size(unsigned k)
{
	return 20 + (size_t)(mix64(k) % 180);
}

static int batch_id(char *out, unsigned k, unsigned j)
{
	return snprintf(out, 40, "%08x-b%06u-%03u",
			(unsigned)mix64((uint64_t)k << 16 | j), k, j);
}

static int batch_body(char *out, unsigned k, unsigned j)
{
	return snprintf(out, 48, "{\"b\":%u,\"j\":%u}", k, j);
}

/* The writer process: commits batches from `from` on, writing each one's
 * number to `ack` once committed, until it is killed. No cmocka here. */
static int writer_main(const char *dir, unsigned from, int ack)
{
	ferry_err err = {0, ""};
	ferry_db *db;
	ferry_bulk *b;
	char id[40], body[48];
	if (ferry_db_open(dir, FERRY_OPEN_NOSYNC, &db, &err) ||
	    ferry_bulk_new(db, &b)) {
		fprintf(stderr, "# writer: open: %s\n", err.msg);
		return 2;
	}
	for (unsigned k = from; k < from + 100000; k++) {
		ferry_bulk_clear(b);
		for (unsigned j = 0; j < batch_size(k); j++) {
			int il = batch_id(id, k, j);
			int bl = batch_body(body, k, j);
			if (ferry_bulk_add(b, FERRY_OP_CREATE, "k9", id,
					   (size_t)il, body, (size_t)bl))
				return 3;
		}
		if (ferry_bulk_commit(b, &err)) {
			fprintf(stderr, "# writer: batch %u: %s\n", k, err.msg);
			return 4;
		}
		for (unsigned j = 0; j < batch_size(k); j++) {
			ferry_write_result r;
			if (ferry_bulk_result(b, j, &r, &err) || !r.created) {
				fprintf(stderr, "# writer: batch %u op %u: "
					"%s\n", k, j, err.msg);
				return 5;
			}
		}
		if (write(ack, &k, sizeof k) != (ssize_t)sizeof k)
			return 6;
	}
	return 0;
}

/* Runs a writer from batch `from`, kills it after a few acknowledgements
 * and a random pause; returns the batches acknowledged (0..n). */
static unsigned kill_round(tdb *t, unsigned from, uint64_t *rs)
{
	int p[2], st = 0;
	unsigned k, acked = from, got = 0;
	unsigned want = 1 + (unsigned)rnd_below(rs, 8);
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		_exit(writer_main(t->dir, from, p[1]));
	}
	close(p[1]);
	while (got < want && read(p[0], &k, sizeof k) == (ssize_t)sizeof k)
		acked = k + 1, got++;
	if (got == want) { /* mostly a commit or two later, sometimes more */
		uint64_t us = rnd_below(rs, rnd_below(rs, 4) ? 3000 : 30000);
		struct timespec ts = {0, (long)us * 1000};
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
	}
	while (read(p[0], &k, sizeof k) == (ssize_t)sizeof k)
		acked = k + 1;
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
		fail_msg("the writer ended by itself (status %d) after %u "
			 "batches", st, acked - from);
	return acked;
}

/* 1 if every id of batch k is there with its body, 0 if none is. */
static int batch_state(ferry_db *db, unsigned k)
{
	char id[40], want[48];
	size_t n = batch_size(k), in = 0;
	for (unsigned j = 0; j < n; j++) {
		batch_id(id, k, j);
		char *body = t_get(db, "k9", id, NULL);
		if (!body)
			continue;
		batch_body(want, k, j);
		if (strcmp(body, want))
			fail_msg("%s has %s, wanted %s", id, body, want);
		ferry_free(body);
		in++;
	}
	if (in && in < n)
		fail_msg("batch %u is partly there: %zu of %zu ids", k, in, n);
	return in == n;
}

/* A scanned id must be "<hash>-b<k>-<j>" of a batch k < batches. */
static int batch_of(const ferry_doc *x, unsigned batches)
{
	char id[40], again[40], want[48];
	unsigned h, k, j;
	int end = 0;
	if (x->idlen >= sizeof id)
		return -1;
	memcpy(id, x->id, x->idlen);
	id[x->idlen] = 0;
	if (sscanf(id, "%8x-b%6u-%3u%n", &h, &k, &j, &end) != 3 ||
	    (size_t)end != x->idlen || k >= batches || j >= batch_size(k) ||
	    batch_id(again, k, j) != end || strcmp(again, id))
		return -1;
	batch_body(want, k, j);
	return x->body_len == strlen(want) &&
	       !memcmp(x->body, want, x->body_len) ? 0 : -1;
}

/* The scan holds batches [0, batches) and nothing else, each id once and
 * in order, as many as ferry_doc_count says. */
static void batch_scan(ferry_db *db, unsigned batches)
{
	ferry_err err = {0, ""};
	ferry_scan *s;
	ferry_doc x;
	char prev[40];
	size_t n = 0, plen = 0, want = 0;
	uint64_t cnt = 0;
	int rc;
	for (unsigned k = 0; k < batches; k++)
		want += batch_size(k);
	T_OK(ferry_scan_open(db, "k9", NULL, 0, &s, &err), &err);
	while ((rc = ferry_scan_next(s, &x, &err)) == 0) {
		if (batch_of(&x, batches))
			fail_msg("scan: unexpected %s",
				 id_show(x.id, x.idlen).s);
		if (n && id_order(prev, plen, x.id, x.idlen) >= 0)
			fail_msg("scan: %s after %s", id_show(x.id, x.idlen).s,
				 id_show(prev, plen).s);
		memcpy(prev, x.id, plen = x.idlen);
		n++;
	}
	assert_int_equal(rc, FERRY_EOF);
	ferry_scan_free(s);
	T_OK(ferry_doc_count(db, "k9", &cnt, &err), &err);
	if (n != want || cnt != want)
		fail_msg("%u batches hold %zu ids; the scan has %zu, the count "
			 "says %llu", batches, want, n,
			 (unsigned long long)cnt);
}

/* Batches [0, acked) were acknowledged; the one after may have
 * committed without it. Returns how many are in, each whole. */
static unsigned check_batches(ferry_db *db, unsigned acked)
{
	unsigned k = 0;
	while (batch_state(db, k))
		k++;
	if (k < acked || k > acked + 1)
		fail_msg("%u batches acknowledged, %u in the index", acked, k);
	for (unsigned x = k + 1; x < k + 3; x++)
		if (batch_state(db, x))
			fail_msg("batch %u is in, batch %u is not", x, k);
	batch_scan(db, k);
	return k;
}

static void test_kill9(void **state)
{
	static const char *const env[][2] = {
		{"64", "2"}, {"300", "3"}, {"1000", "2"}, {"300", "4"}};
	tdb *t = *state;
	uint64_t rs = test_seed(5);
	unsigned in = 0, acked = 0, rounds = 6;
	t_create(t->db, "k9");
	double t0 = t_now_ms();
	for (unsigned r = 0; r < rounds; r++) {
		ferry_db_close(t->db);
		t->db = NULL;
		runs_env(env[r % 4][0], env[r % 4][1]);
		acked = kill_round(t, in, &rs);
		t_open(t, 0);
		in = check_batches(t->db, acked);
	}
	reopen(t, NULL, NULL);
	assert_int_equal(check_batches(t->db, in), in);
	printf("# kill -9: %u writers killed, %u batches (%llu ids) in, the "
	       "last one %s, in %.0f ms\n", rounds, in,
	       (unsigned long long)t_info(t->db, "k9").docs,
	       in > acked ? "committed unacknowledged" : "acknowledged",
	       t_now_ms() - t0);
}

/* ---- 6. deleting the index ---------------------------------------------- */

static void test_delete_recreate(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	ferry_status st;
	model c, k;
	idvec iv = {0};
	uint64_t rs = test_seed(6);
	t_create(t->db, "churn");
	t_create(t->db, "keep");
	pool_random(&iv, 2500, &rs);
	model_init(&c, t->db, "churn", &iv, t_rnd_next(&rs));
	pool_random(&iv, 1500, &rs);
	model_init(&k, t->db, "keep", &iv, t_rnd_next(&rs));
	for (int i = 0; i < 30; i++) { /* their runs interleave */
		run_commits(&c, t->db, 6, 0);
		run_commits(&k, t->db, 1, 0);
	}
	T_CHECK(chk_all(t->db, &c, why));
	T_CODE(ferry_index_delete(t->db, "churn", 0, &err), FERRY_EPERM, &err);
	T_OK(ferry_index_delete(t->db, "churn", 1, &err), &err);
	T_OK(fdb_purge(t->db, &err), &err); /* finished already: a no-op */
	T_OK(ferry_db_status(t->db, &st, &err), &err);
	assert_int_equal(st.purge_pending, 0);
	assert_int_equal(st.docs, k.live);
	uint64_t n;
	T_CODE(ferry_doc_count(t->db, "churn", &n, &err), FERRY_ENOTFOUND,
	       &err);
	T_CHECK(chk_all(t->db, &k, why));
	/* The same name again: empty, whatever the old runs held. */
	t_create(t->db, "churn");
	model_reset(&c);
	T_CHECK(chk_all(t->db, &c, why));
	run_commits(&c, t->db, 80, 20); /* old ids come back as created */
	T_CHECK(chk_all(t->db, &c, why));
	T_CHECK(chk_all(t->db, &k, why));
	reopen(t, NULL, NULL);
	T_CHECK(chk_all(t->db, &c, why));
	T_CHECK(chk_all(t->db, &k, why));
	model_free(&c);
	model_free(&k);
}

/* ---- 7. trimmed tombstones ---------------------------------------------- */

/* Over 100000 tombstones (FLMDB_TOMB_MIN) the oldest are discarded with
 * their ids. Those ids stay absent, and come back as created. */
static void test_trimmed_tombstones(void **state)
{
	enum { N = 103000, PER = 2000, AGAIN = 2500 };
	tdb *t = *state;
	ferry_err err = {0, ""};
	model m;
	idvec iv = {0};
	uint64_t rs = test_seed(7);
	char id[32];
	reopen(t, "5000", "3"); /* several commits' ids in runs at a time */
	t_create(t->db, "tt");
	for (int i = 0; i < N; i++)
		idvec_push(&iv, id, (size_t)snprintf(id, sizeof id, "t%016llx",
			(unsigned long long)t_rnd_next(&rs)));
	model_init(&m, t->db, "tt", &iv, rs);
	size_t *perm = malloc(m.n * sizeof *perm), *again = NULL;
	assert_non_null(perm);
	for (size_t i = 0; i < m.n; i++) {
		size_t j = (size_t)rnd_below(&rs, i + 1);
		perm[i] = perm[j];
		perm[j] = i;
	}
	double t0 = t_now_ms();
	bulk_ops(&m, t->db, perm, m.n, PER, FERRY_OP_INDEX);
	T_CHECK(chk_count(t->db, &m, why));
	bulk_ops(&m, t->db, perm, m.n, PER, FERRY_OP_DELETE);
	double t1 = t_now_ms();
	T_CHECK(chk_count(t->db, &m, why));
	ferry_changes *ch;
	uint64_t upto;
	T_CODE(ferry_changes_open(t->db, "tt", 0, &ch, &upto, &err),
	       FERRY_EHORIZON, &err);
	for (size_t i = 0; i < m.n; i++)
		T_CHECK(chk_get(t->db, &m, i, why));
	T_CHECK(chk_scan(t->db, &m, NONE, why));
	/* The first deleted (tombstones gone) and the last (kept). */
	reopen(t, "200", "3");
	again = malloc(2 * AGAIN * sizeof *again);
	assert_non_null(again);
	memcpy(again, perm, AGAIN * sizeof *again);
	memcpy(again + AGAIN, perm + m.n - AGAIN, AGAIN * sizeof *again);
	bulk_ops(&m, t->db, again, 2 * AGAIN, 500, FERRY_OP_CREATE);
	T_CHECK(chk_count(t->db, &m, why));
	for (size_t i = 0; i < 2 * AGAIN; i++)
		T_CHECK(chk_get(t->db, &m, again[i], why));
	T_CHECK(chk_scans(t->db, &m, 5, why));
	printf("# %zu ids written and deleted in %.0f ms\n", m.n, t1 - t0);
	free(again);
	free(perm);
	model_free(&m);
}

/* The tree filter (built when runs merge into the id tree) must stop
 * answering once ids are appended to the tree outside a merge: ids
 * written in key order past the end after a merge, then written again,
 * are replacements (created 0), never second copies. */
static void test_tree_filter_appends(void **state)
{
	enum { RANDOM = 600, TAIL = 300 };
	tdb *t = *state;
	ferry_err err = {0, ""};
	ferry_write_result r;
	ferry_index_info info;
	uint64_t rs = test_seed(8);
	char id[32], body[64];
	reopen(t, "100", "3");
	t_create(t->db, "tf");
	for (int i = 0; i < RANDOM; i++) { /* random ids: runs, merges */
		snprintf(id, sizeof id, "m%016llx",
			 (unsigned long long)t_rnd_next(&rs));
		int bl = snprintf(body, sizeof body, "{\"i\":%d}", i);
		T_OK(ferry_doc_put(t->db, "tf", id, strlen(id), body,
				   (size_t)bl, FERRY_OP_INDEX, &r, &err), &err);
	}
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < TAIL; i++) { /* past every "m..." id */
			snprintf(id, sizeof id, "z%06d", i);
			int bl = snprintf(body, sizeof body, "{\"p\":%d}", pass);
			T_OK(ferry_doc_put(t->db, "tf", id, strlen(id), body,
					   (size_t)bl, FERRY_OP_INDEX, &r, &err),
			     &err);
			if (r.created != !pass)
				fail_msg("pass %d, %s: created %d", pass, id,
					 r.created);
		}
	T_OK(ferry_index_get(t->db, "tf", &info, &err), &err);
	assert_int_equal(info.docs, RANDOM + TAIL);
	uint64_t seq;
	char *b = t_get(t->db, "tf", "z000123", &seq);
	assert_non_null(b);
	assert_string_equal(b, "{\"p\":1}");
	ferry_free(b);
}

/* Entries of one LMDB table of the data dir, read with LMDB itself. */
static size_t lmdb_entries(const char *dir, const char *table)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_stat st = {0};
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 16);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0644),
			 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	if (mdb_dbi_open(txn, table, 0, &dbi) == 0)
		mdb_stat(txn, dbi, &st);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return st.ms_entries;
}

/* Deleting every index frees its runs too: no block is left in idrun,
 * and runs holds only the run counter. */
static void test_purge_frees_runs(void **state)
{
	tdb *t = *state;
	ferry_err err = {0, ""};
	model m;
	idvec iv = {0};
	uint64_t rs = test_seed(9);
	reopen(t, "100000", "4"); /* no merge into the tree: runs stay */
	t_create(t->db, "gone");
	pool_random(&iv, 3000, &rs);
	model_init(&m, t->db, "gone", &iv, rs);
	run_commits(&m, t->db, 40, 0);
	T_CHECK(chk_all(t->db, &m, why));
	assert_true(lmdb_entries(t->dir, "idrun") > 0);
	T_OK(ferry_index_delete(t->db, "gone", 1, &err), &err);
	T_OK(fdb_purge(t->db, &err), &err);
	assert_int_equal(lmdb_entries(t->dir, "idrun"), 0);
	assert_int_equal(lmdb_entries(t->dir, "runs"), 1);
	model_free(&m);
}

/* Keys of `runs` that record a merge into `ids` in steps (13 bytes). */
static size_t lmdb_merges(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val k, v;
	size_t n = 0;
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 16);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0644),
			 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "runs", 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &c), 0);
	while (!mdb_cursor_get(c, &k, &v, MDB_NEXT))
		n += k.mv_size == 13;
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return n;
}

/* When the runs reach the merge size, they go into the tree a slice per
 * commit (about twice what the commit adds), not all in one commit, and
 * nothing is lost or doubled meanwhile; deleting the index while such a
 * merge is under way leaves nothing behind. */
static void test_merge_in_steps(void **state)
{
	enum { PER = 50, COMMITS = 120 };
	tdb *t = *state;
	ferry_err err = {0, ""};
	model m;
	idvec iv = {0};
	size_t *di = malloc(PER * COMMITS * sizeof *di);
	uint64_t rs = test_seed(10);
	unsigned stepping = 0;
	assert_non_null(di);
	reopen(t, "200", "4");
	t_create(t->db, "steps");
	pool_random(&iv, PER * COMMITS, &rs);
	model_init(&m, t->db, "steps", &iv, rs);
	for (size_t i = 0; i < m.n; i++)
		di[i] = i;
	for (size_t i = m.n; i > 1; i--) { /* random order: new ids, runs */
		size_t j = (size_t)(t_rnd_next(&rs) % i), x = di[i - 1];
		di[i - 1] = di[j];
		di[j] = x;
	}
	size_t before = lmdb_entries(t->dir, "ids");
	for (unsigned c = 0; c < COMMITS; c++) {
		bulk_ops(&m, t->db, di + (size_t)c * PER, PER, PER,
			 FERRY_OP_CREATE);
		size_t now = lmdb_entries(t->dir, "ids");
		if (now > before + 4 * PER + 16)
			fail_msg("commit %u moved %zu ids into the tree at once "
				 "(%d new ids a commit)", c, now - before, PER);
		before = now;
		stepping += lmdb_merges(t->dir) == 1;
		if (c % 20 == 19)
			T_CHECK(chk_all(t->db, &m, why));
	}
	printf("# %u of %d commits left a merge in steps under way\n",
	       stepping, COMMITS);
	assert_true(stepping >= 10);
	T_CHECK(chk_all(t->db, &m, why));
	T_CHECK(chk_scans(t->db, &m, 3, why));
	while (!lmdb_merges(t->dir)) /* delete in the middle of a merge */
		bulk_ops(&m, t->db, di, 1, 1, FERRY_OP_INDEX);
	T_OK(ferry_index_delete(t->db, "steps", 1, &err), &err);
	T_OK(fdb_purge(t->db, &err), &err);
	assert_int_equal(lmdb_entries(t->dir, "idrun"), 0);
	assert_int_equal(lmdb_entries(t->dir, "runs"), 1);
	assert_int_equal(lmdb_merges(t->dir), 0);
	model_free(&m);
	free(di);
}

int main(void)
{
	const char *s = getenv("TEST_SEED");
	g_seed = s && *s ? strtoull(s, NULL, 0) : 20240611u;
	printf("# seed %llu (TEST_SEED=n to use another)\n",
	       (unsigned long long)g_seed);
	fflush(stdout);
	signal(SIGPIPE, SIG_IGN); /* a dead reader must fail a test, not us */
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_random_ops),
		T(test_id_lengths),
		T(test_second_process),
		T(test_reopen),
		T(test_kill9),
		T(test_delete_recreate),
		T(test_trimmed_tombstones),
		T(test_tree_filter_appends),
		T(test_purge_frees_runs),
		T(test_merge_in_steps),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
