/*
 * bulk.c - many document operations in one write transaction, with a
 * result per operation (Elasticsearch _bulk semantics).
 *
 * Bodies are validated and ids generated before the write lock is taken.
 * Inside the transaction the operations are applied sorted by (index, id),
 * stably, so that the id tree is walked in order (FACTS.md: sorted batches
 * insert much faster) while operations on one id keep their order.
 *
 * An update (FERRY_OP_UPDATE) has its request body checked at prepare
 * time; at commit it reads the stored body inside the same write
 * transaction, merges `doc` into it (json/merge.c) and writes the result,
 * so an update sees every write committed or applied before it, including
 * earlier ops of the same bulk or group.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/catalog.h"
#include "core/db.h"
#include "core/doc.h"
#include "core/err.h"
#include "core/names.h"
#include "json/json.h"
#include "json/merge.h"

/* bulk_op.uflags of an update */
#define UPD_DOC 0x1        /* has "doc" */
#define UPD_UPSERT 0x2     /* has "upsert" */
#define UPD_DOC_UPSERT 0x4 /* "doc_as_upsert": true */
#define UPD_NOOP 0x8       /* "detect_noop" (default true) */

typedef struct bulk_op {
	uint8_t op;
	int code;
	uint32_t ix;
	uint32_t index_len, id_len;
	size_t index_off, id_off, body_off, body_len, msg_off;
	uint64_t seq;
	int created;
	uint8_t uflags;                 /* UPD_*, updates only */
	size_t doc_off, doc_len;        /* raw "doc" in data, updates only */
	size_t ups_off, ups_len;        /* raw "upsert" in data */
} bulk_op;

struct ferry_bulk {
	ferry_db *db;
	fbuf data;      /* index names, ids and bodies, back to back */
	fbuf msgs;      /* per-op error messages, NUL-separated */
	bulk_op *ops;
	size_t n, cap;
	uint32_t *order; /* apply order: add indices */
	uint32_t *place; /* once packed: an op's place in ops, by add index */
	bulk_op *spare;  /* the other ops array of pack_ops, capacity cap */
	char id_field[64];
	int prepared;
	int packed;      /* ops and data are in apply order (pack_ops) */
	fbuf scratch;    /* unescaping ids */
	fbuf spare_data; /* the other data buffer of pack_ops */
	json_arena *arena; /* updates: parsing and merging, reset per op */
	fbuf merged;       /* updates: the merged body, capped */
};

static void unpack_ops(ferry_bulk *b);

int ferry_bulk_new(ferry_db *db, ferry_bulk **out)
{
	ferry_bulk *b = calloc(1, sizeof *b);
	if (!b)
		return FERRY_ENOMEM;
	b->db = db;
	fbuf_init(&b->data, (size_t)4 << 30);
	fbuf_init(&b->msgs, 0);
	fbuf_init(&b->scratch, 0);
	fbuf_init(&b->spare_data, (size_t)4 << 30);
	fbuf_init(&b->merged, FERRY_DOC_MAX);
	*out = b;
	return 0;
}

size_t ferry_bulk_count(const ferry_bulk *b) { return b->n; }

int ferry_bulk_set_id_field(ferry_bulk *b, const char *field)
{
	if (field && strlen(field) >= sizeof b->id_field)
		return FERRY_ELIMIT;
	snprintf(b->id_field, sizeof b->id_field, "%s", field ? field : "");
	return 0;
}

int ferry_bulk_add(ferry_bulk *b, enum ferry_op op, const char *index,
		   const char *id, size_t idlen, const char *body,
		   size_t body_len)
{
	if ((unsigned)op > FERRY_OP_UPDATE)
		return FERRY_EINVAL;
	if (b->packed)
		unpack_ops(b);
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		bulk_op *ops = realloc(b->ops, cap * sizeof *ops);
		if (!ops)
			return FERRY_ENOMEM;
		fmem_populate(ops + b->cap, (cap - b->cap) * sizeof *ops);
		b->ops = ops;
		b->cap = cap;
		free(b->spare); /* pack_ops allocates it again at cap */
		b->spare = NULL;
	}
	size_t ilen = index ? strlen(index) : 0;
	if (!id)
		idlen = 0;
	if (op == FERRY_OP_DELETE || !body)
		body_len = 0;
	if (ilen > FERRY_NAME_MAX || idlen > FERRY_ID_MAX + 1)
		return FERRY_ELIMIT;
	int rc = fbuf_grow_populate(&b->data, ilen + idlen + body_len);
	if (rc)
		return rc;
	bulk_op *o = &b->ops[b->n];
	memset(o, 0, sizeof *o);
	o->op = (uint8_t)op;
	o->index_off = b->data.len;
	o->index_len = (uint32_t)ilen;
	rc = fbuf_add(&b->data, index, ilen);
	o->id_off = b->data.len;
	o->id_len = (uint32_t)idlen;
	rc = rc ? rc : fbuf_add(&b->data, id, idlen);
	o->body_off = b->data.len;
	o->body_len = body_len;
	rc = rc ? rc : fbuf_add(&b->data, body, body_len);
	if (rc)
		return rc;
	o->code = body ? 0 : -1; /* -1: body missing, reported at commit */
	b->n++;
	b->prepared = 0;
	return 0;
}

static void op_fail(ferry_bulk *b, bulk_op *o, const ferry_err *e)
{
	o->code = e->code ? e->code : FERRY_EINTERNAL;
	o->msg_off = b->msgs.len;
	fbuf_add(&b->msgs, e->msg, strlen(e->msg) + 1);
}

/* Sets the op's id from the raw JSON value of the id field, if usable. */
static int id_from_field(ferry_bulk *b, bulk_op *o, const char *raw,
			 size_t rlen)
{
	const char *id = raw;
	size_t n = rlen;
	if (raw[0] == '"') {
		if (memchr(raw, '\\', rlen)) {
			fbuf_clear(&b->scratch);
			if (json_unescape(raw, rlen, &b->scratch))
				return 0;
			id = b->scratch.p;
			n = b->scratch.len;
		} else {
			id = raw + 1;
			n = rlen - 2;
		}
	} else if (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0; /* not a string or number: generate one */
	}
	if (n == 0 || n > FERRY_ID_MAX)
		return -2; /* present but unusable: the op fails */
	if (id != b->scratch.p) { /* `id` points into b->data, which may move */
		fbuf_clear(&b->scratch);
		if (fbuf_add(&b->scratch, id, n))
			return FERRY_ENOMEM;
		id = b->scratch.p;
	}
	o->id_off = b->data.len;
	o->id_len = (uint32_t)n;
	return fbuf_add(&b->data, id, n) ? FERRY_ENOMEM : 1;
}

/* Validates one body, taking the id from the id field when set. */
static int check_op_body(ferry_bulk *b, bulk_op *o, ferry_err *e)
{
	const char *body = b->data.p + o->body_off, *raw = NULL;
	size_t rlen = 0;
	json_error je;
	if (o->code == -1 && !o->body_len)
		return ferry_err_set(e, FERRY_EJSON, "document body is missing");
	if (o->body_len > FERRY_DOC_MAX)
		return ferry_err_set(e, FERRY_ELIMIT, "document body is %zu bytes;"
			" the limit is %u", o->body_len, FERRY_DOC_MAX);
	int want = b->id_field[0] && o->id_len == 0;
	if (json_validate_object(body, o->body_len, want ? b->id_field : NULL,
				 &raw, &rlen, &je))
		return ferry_err_set(e, FERRY_EJSON, "invalid JSON at byte %zu: %s",
				     je.offset, je.msg);
	int r = want && raw ? id_from_field(b, o, raw, rlen) : 0;
	if (r == FERRY_ENOMEM)
		return ferry_err_set(e, FERRY_ENOMEM, NULL);
	if (r == -2)
		return ferry_err_set(e, FERRY_ENAME, "the id field '%s' is empty "
			"or longer than %d bytes", b->id_field, FERRY_ID_MAX);
	return 0;
}

static int key_is(const json_member *m, const char *k)
{
	return m->klen == strlen(k) && !memcmp(m->key, k, m->klen);
}

static const char *type_name(json_type t)
{
	static const char *const names[] = {"null", "false", "true", "a number",
					    "a string", "an array", "an object"};
	return names[t];
}

/* Checks one member of an update request and records it in o->uflags. */
static int update_member(bulk_op *o, const json_member *m, ferry_err *e)
{
	const json_value *v = m->val;
	int flag;
	if (key_is(m, "doc") || key_is(m, "upsert")) {
		if (v->type != JSON_OBJECT)
			return ferry_err_set(e, FERRY_EINVAL, "update: \"%s\" must "
				"be a JSON object, not %s", m->key, type_name(v->type));
		o->uflags |= key_is(m, "doc") ? UPD_DOC : UPD_UPSERT;
		return 0;
	}
	if (key_is(m, "doc_as_upsert") || key_is(m, "detect_noop")) {
		if (v->type != JSON_TRUE && v->type != JSON_FALSE)
			return ferry_err_set(e, FERRY_EINVAL, "update: \"%s\" must "
				"be true or false, not %s", m->key,
				type_name(v->type));
		flag = key_is(m, "detect_noop") ? UPD_NOOP : UPD_DOC_UPSERT;
		if (v->type == JSON_TRUE)
			o->uflags |= flag;
		else
			o->uflags &= (uint8_t)~flag;
		return 0;
	}
	return ferry_err_set(e, FERRY_EINVAL, "update: unknown field [%.*s]: an "
		"update takes \"doc\", \"upsert\", \"doc_as_upsert\" and "
		"\"detect_noop\"", (int)(m->klen > 100 ? 100 : m->klen), m->key);
}

/* The raw text of top-level member `key` of the update body, as an
 * offset and length in b->data (the body was validated already). */
static void update_span(ferry_bulk *b, const bulk_op *o, const char *key,
			size_t *off, size_t *len)
{
	const char *body = b->data.p + o->body_off, *raw = NULL;
	size_t rlen = 0;
	json_error je;
	if (!json_validate_object(body, o->body_len, key, &raw, &rlen, &je) &&
	    raw) {
		*off = o->body_off + (size_t)(raw - body);
		*len = rlen;
	}
}

/* Checks an update request body ({"doc":..,"upsert":..,..}). */
static int check_update(ferry_bulk *b, bulk_op *o, ferry_err *e)
{
	json_value *root;
	json_error je = {0, NULL};
	if (!o->body_len)
		return ferry_err_set(e, FERRY_EINVAL, "update body is missing: "
			"send {\"doc\":{...}} with the fields to change");
	if (o->body_len > FERRY_DOC_MAX)
		return ferry_err_set(e, FERRY_ELIMIT, "update body is %zu bytes;"
			" the limit is %u", o->body_len, FERRY_DOC_MAX);
	if (!b->arena && !(b->arena = json_arena_new()))
		return ferry_err_set(e, FERRY_ENOMEM, NULL);
	json_arena_reset(b->arena);
	int rc = json_parse(b->arena, b->data.p + o->body_off, o->body_len,
			    &root, &je);
	if (rc == FERRY_EJSON)
		return ferry_err_set(e, rc, "invalid JSON at byte %zu: %s",
				     je.offset, je.msg);
	if (rc)
		return ferry_err_set(e, FERRY_ENOMEM, NULL);
	if (root->type != JSON_OBJECT)
		return ferry_err_set(e, FERRY_EJSON, "an update body must be a "
			"JSON object like {\"doc\":{...}}, not %s",
			type_name(root->type));
	if (json_get(root, "script", 6) || json_get(root, "scripted_upsert", 15))
		return ferry_err_set(e, FERRY_EINVAL, "update: scripts are not "
			"supported by ferry: send the fields to change as a "
			"partial document, {\"doc\":{\"field\":\"value\"}}");
	o->uflags = UPD_NOOP;
	for (size_t i = 0; i < root->u.obj.n; i++)
		if ((rc = update_member(o, &root->u.obj.m[i], e)))
			return rc;
	if (!(o->uflags & (UPD_DOC | UPD_UPSERT)))
		return ferry_err_set(e, FERRY_EINVAL, "update: \"doc\" is "
			"missing: send {\"doc\":{...}} with the fields to change"
			" (or an \"upsert\" body)");
	if ((o->uflags & UPD_DOC_UPSERT) && !(o->uflags & UPD_DOC))
		return ferry_err_set(e, FERRY_EINVAL, "update: \"doc_as_upsert\""
			" needs \"doc\", the document to insert when the id is "
			"missing");
	if (o->uflags & UPD_DOC)
		update_span(b, o, "doc", &o->doc_off, &o->doc_len);
	if (o->uflags & UPD_UPSERT)
		update_span(b, o, "upsert", &o->ups_off, &o->ups_len);
	return 0;
}

/* The apply order: by id, and by add order among equal ids, so that the
 * writes of one commit land in id order (neighbouring keys of the id tree
 * share pages) while the ops on one id keep their order. Indices are not
 * part of the key: ops on one id in two indices are independent, and ops
 * naming one index two ways (alias, physical) must keep their add order.
 * Computed in prepare, so it runs on the thread that validates and not on
 * the one that holds LMDB's write lock. Sorting compares an 8-byte
 * big-endian prefix of each id first; batches already in id order
 * (generated ids, ordered imports) are detected and not sorted. */
typedef struct ord_key {
	uint64_t pfx;
	uint32_t i;
} ord_key;

static int cmp_key(const void *pa, const void *pb, void *ctx)
{
	const ferry_bulk *b = ctx;
	const ord_key *x = pa, *y = pb;
	if (x->pfx != y->pfx)
		return x->pfx < y->pfx ? -1 : 1;
	const bulk_op *a = &b->ops[x->i], *c = &b->ops[y->i];
	size_t n = a->id_len < c->id_len ? a->id_len : c->id_len;
	int r = n > 8 ? memcmp(b->data.p + a->id_off + 8,
			       b->data.p + c->id_off + 8, n - 8) : 0;
	if (r)
		return r;
	if (a->id_len != c->id_len)
		return a->id_len < c->id_len ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static uint64_t id_prefix(const ferry_bulk *b, const bulk_op *o)
{
	uint64_t k = 0;
	const unsigned char *p = (const unsigned char *)b->data.p + o->id_off;
	for (size_t j = 0; j < 8; j++)
		k = k << 8 | (j < o->id_len ? p[j] : 0);
	return k;
}

/* Puts the ops and their bytes in apply order, so that the committing
 * thread reads both front to back: a sorted batch of random ids otherwise
 * visits its input in random order, a cache and TLB miss per op, id and
 * body (an import of 1 M random-id profiles: the apply took a third less
 * time). Index name, id and body of each op are copied into
 * b->spare_data, which is then swapped with b->data (offsets inside a
 * body, an update's doc and upsert, move with it); the ops go to b->spare,
 * swapped with b->ops; b->place then maps an op's add index to its place.
 * Runs on the preparing thread; both spares are kept for the next batch
 * (fresh memory costs a page fault per 4 KiB). */
static int pack_ops(ferry_bulk *b)
{
	fbuf *pk = &b->spare_data;
	fbuf_clear(pk);
	uint32_t *place = realloc(b->place, (b->n ? b->n : 1) * sizeof *place);
	if (place)
		b->place = place;
	if (!place || fbuf_grow_populate(pk, b->data.len))
		return FERRY_ENOMEM;
	if (!b->spare) {
		if (!(b->spare = malloc(b->cap * sizeof *b->spare)))
			return FERRY_ENOMEM;
		fmem_populate(b->spare, b->cap * sizeof *b->spare);
	}
	for (size_t k = 0; k < b->n; k++) {
		bulk_op *o = &b->spare[k];
		*o = b->ops[b->order[k]];
		size_t base = pk->len, boff = o->body_off;
		memcpy(pk->p + base, b->data.p + o->index_off, o->index_len);
		memcpy(pk->p + base + o->index_len, b->data.p + o->id_off,
		       o->id_len);
		memcpy(pk->p + base + o->index_len + o->id_len,
		       b->data.p + o->body_off, o->body_len);
		o->index_off = base;
		o->id_off = base + o->index_len;
		o->body_off = o->id_off + o->id_len;
		if (o->doc_len)
			o->doc_off = o->doc_off - boff + o->body_off;
		if (o->ups_len)
			o->ups_off = o->ups_off - boff + o->body_off;
		pk->len = o->body_off + o->body_len;
	}
	pk->p[pk->len] = 0;
	fbuf tmp = b->data;
	b->data = *pk;
	*pk = tmp;
	bulk_op *ops = b->ops;
	b->ops = b->spare;
	b->spare = ops;
	for (size_t k = 0; k < b->n; k++)
		b->place[b->order[k]] = (uint32_t)k;
	b->packed = 1;
	return 0;
}

/* Back to add order (an op added after prepare); data stays packed. */
static void unpack_ops(ferry_bulk *b)
{
	for (size_t k = 0; k < b->n; k++)
		b->spare[b->order[k]] = b->ops[k];
	bulk_op *ops = b->ops;
	b->ops = b->spare;
	b->spare = ops;
	b->packed = 0;
}

static int order_ops(ferry_bulk *b)
{
	uint32_t *ord = realloc(b->order, (b->n ? b->n : 1) * sizeof *ord);
	ord_key *keys = malloc((b->n ? b->n : 1) * sizeof *keys);
	size_t i, sorted = 1;
	if (ord)
		b->order = ord;
	if (!ord || !keys) {
		free(keys);
		return FERRY_ENOMEM;
	}
	for (i = 0; i < b->n; i++) {
		keys[i].pfx = id_prefix(b, &b->ops[i]);
		keys[i].i = (uint32_t)i;
		if (i && sorted)
			sorted = cmp_key(&keys[i - 1], &keys[i], b) < 0;
	}
	if (!sorted)
		qsort_r(keys, b->n, sizeof *keys, cmp_key, b);
	for (i = 0; i < b->n; i++)
		ord[i] = keys[i].i;
	free(keys);
	return sorted ? 0 : pack_ops(b);
}

int ferry_bulk_prepare(ferry_bulk *b, ferry_err *err)
{
	ferry_err e;
	if (b->prepared)
		return 0;
	for (size_t i = 0; i < b->n; i++) {
		bulk_op *o = &b->ops[i];
		e.msg[0] = 0;
		if (o->op == FERRY_OP_UPDATE ? check_update(b, o, &e) :
		    o->op != FERRY_OP_DELETE && check_op_body(b, o, &e)) {
			if (e.code == FERRY_ENOMEM)
				return ferry_err_set(err, FERRY_ENOMEM, NULL);
			op_fail(b, o, &e);
			continue;
		}
		o->code = 0;
		if (o->id_len == 0 && o->op == FERRY_OP_UPDATE) {
			ferry_err_set(&e, FERRY_EINVAL, "an update needs the id "
				      "of the document to change");
			op_fail(b, o, &e);
		} else if (o->id_len == 0 && o->op != FERRY_OP_DELETE) {
			char gen[21];
			fdb_gen_id(b->db, gen);
			o->id_off = b->data.len;
			o->id_len = 20;
			if (fbuf_add(&b->data, gen, 20))
				return ferry_err_set(err, FERRY_ENOMEM, NULL);
		} else if (fname_check_id(b->data.p + o->id_off, o->id_len, &e)) {
			op_fail(b, o, &e);
		}
	}
	if (b->arena)
		json_arena_reset(b->arena);
	if (order_ops(b))
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	b->prepared = 1;
	return 0;
}

/* Resolves every op's index name; names repeat, so remember the last. */
static void resolve_all(ferry_bulk *b, fstore_txn *t)
{
	char name[FERRY_NAME_MAX + 1], last[FERRY_NAME_MAX + 1] = "";
	uint32_t last_ix = 0;
	int last_rc = -1;
	ferry_err e, last_e;
	for (size_t i = 0; i < b->n; i++) {
		bulk_op *o = &b->ops[i];
		if (o->code)
			continue;
		memcpy(name, b->data.p + o->index_off, o->index_len);
		name[o->index_len] = 0;
		if (last_rc < 0 || strcmp(name, last)) {
			fcat_index ix;
			int via;
			last_rc = fcat_resolve(t, name, &ix, &via, &last_e);
			if (!last_rc)
				last_rc = fcat_check_writable(t, &ix, &last_e);
			last_ix = ix.ix;
			memcpy(last, name, o->index_len + 1);
		}
		if (last_rc) {
			e = last_e;
			op_fail(b, o, &e);
		} else {
			o->ix = last_ix;
		}
	}
}

/* Writes op o's id with `op` and `body`. Per-op failures are recorded
 * on o (returns 0); non-zero means the transaction failed. */
static int write_op(ferry_bulk *b, fstore_txn *t, bulk_op *o,
		    enum ferry_op op, const char *body, size_t len,
		    ferry_err *err)
{
	ferry_err e;
	e.msg[0] = 0;
	int rc = b->db->ops->doc_write(t, o->ix, op, b->data.p + o->id_off,
		o->id_len, body, len, &o->seq, &o->created, &e);
	if (rc == FERRY_EEXISTS || rc == FERRY_ENOTFOUND || rc == FERRY_ENAME)
		op_fail(b, o, &e);
	else if (rc) /* the transaction itself failed */
		return ferry_err_set(err, rc, "bulk write failed, nothing was "
				     "written: %s", e.msg);
	return 0;
}

/* An update of a missing id: insert the upsert body, or fail the op. */
static int update_missing(ferry_bulk *b, fstore_txn *t, bulk_op *o,
			  ferry_err *err)
{
	ferry_err e;
	if (o->uflags & UPD_DOC_UPSERT)
		return write_op(b, t, o, FERRY_OP_INDEX, b->data.p + o->doc_off,
				o->doc_len, err);
	if (o->uflags & UPD_UPSERT)
		return write_op(b, t, o, FERRY_OP_INDEX, b->data.p + o->ups_off,
				o->ups_len, err);
	ferry_err_set(&e, FERRY_ENOTFOUND, "[%.*s]: document missing",
		      (int)(o->id_len > 200 ? 200 : o->id_len),
		      b->data.p + o->id_off);
	op_fail(b, o, &e);
	return 0;
}

/* Merges `doc` into the stored body `cur` and writes the result unless
 * nothing changed and detect_noop is on. Same returns as write_op(). */
static int update_merge(ferry_bulk *b, fstore_txn *t, bulk_op *o,
			const fstore_entry *cur, ferry_err *err)
{
	json_value *tv, *pv;
	ferry_err e;
	int changed = 0, rc;
	json_arena_reset(b->arena);
	rc = json_parse(b->arena, cur->body, cur->body_len, &tv, NULL);
	if (rc == FERRY_EJSON || (!rc && tv->type != JSON_OBJECT)) {
		ferry_err_set(&e, FERRY_ECORRUPT, "the stored body of '%.*s' is "
			      "not a JSON object, so nothing can be merged into "
			      "it: replace it with an index op",
			      (int)(o->id_len > 200 ? 200 : o->id_len),
			      b->data.p + o->id_off);
		op_fail(b, o, &e);
		return 0;
	}
	if (rc || (rc = json_parse(b->arena, b->data.p + o->doc_off, o->doc_len,
				   &pv, NULL)) ||
	    (rc = json_merge(b->arena, tv, pv, &changed)))
		goto fail;
	if (!changed && (o->uflags & UPD_NOOP)) {
		o->seq = cur->seq;
		o->created = FSTORE_NOOP;
		return 0;
	}
	fbuf_clear(&b->merged);
	if ((rc = json_write(tv, &b->merged)) == FERRY_ELIMIT) {
		ferry_err_set(&e, FERRY_ELIMIT, "document '%.*s' would be over "
			      "%u bytes after the update; nothing was changed",
			      (int)(o->id_len > 200 ? 200 : o->id_len),
			      b->data.p + o->id_off, FERRY_DOC_MAX);
		op_fail(b, o, &e);
		return 0;
	}
	if (rc)
		goto fail;
	/* FERRY_OP_UPDATE makes the store write even an identical body */
	return write_op(b, t, o, o->uflags & UPD_NOOP ? FERRY_OP_INDEX :
			FERRY_OP_UPDATE, b->merged.p, b->merged.len, err);
fail: /* out of memory (anything else would be a bug: doc was checked) */
	if (rc != FERRY_ENOMEM)
		rc = FERRY_EINTERNAL;
	return ferry_err_set(err, rc, "bulk write failed, nothing was written: "
			     "merging into '%.*s': %s",
			     (int)(o->id_len > 200 ? 200 : o->id_len),
			     b->data.p + o->id_off, ferry_strerror(rc));
}

/* Applies update op o: reads the id's current body inside transaction t
 * (so it sees every earlier write), then merges or upserts. */
static int apply_update(ferry_bulk *b, fstore_txn *t, bulk_op *o,
			ferry_err *err)
{
	fstore_entry cur;
	int rc = b->db->ops->doc_get(t, o->ix, b->data.p + o->id_off,
				     o->id_len, &cur);
	if (rc == FERRY_ENOTFOUND)
		return update_missing(b, t, o, err);
	if (rc)
		return ferry_err_set(err, rc, "bulk write failed, nothing was "
			"written: reading '%.*s' to update it: %s",
			(int)(o->id_len > 200 ? 200 : o->id_len),
			b->data.p + o->id_off, ferry_strerror(rc));
	if (!(o->uflags & UPD_DOC)) { /* upsert only: the doc exists */
		o->seq = cur.seq;
		o->created = FSTORE_NOOP;
		return 0;
	}
	if (!b->arena && !(b->arena = json_arena_new()))
		return FERRY_ENOMEM;
	return update_merge(b, t, o, &cur, err);
}

static int apply_all(ferry_bulk *b, fstore_txn *t, ferry_err *err)
{
	const uint32_t *ord = b->order;
	for (size_t k = 0; k < b->n; k++) {
		bulk_op *o = &b->ops[b->packed ? k : ord[k]];
		int rc;
		if (o->code)
			continue;
		rc = o->op == FERRY_OP_UPDATE ? apply_update(b, t, o, err) :
			write_op(b, t, o, (enum ferry_op)o->op,
				 b->data.p + o->body_off, o->body_len, err);
		if (rc)
			return rc;
	}
	if (b->arena)
		json_arena_reset(b->arena);
	return 0;
}

int ferry_bulk_commit(ferry_bulk *b, ferry_err *err)
{
	fstore_txn *t;
	int rc = ferry_bulk_prepare(b, err);
	if (rc)
		return rc;
	if ((rc = fdb_begin(b->db, 1, &t, err)))
		return rc;
	resolve_all(b, t);
	if ((rc = apply_all(b, t, err))) {
		fdb_abort(t);
		if (rc == FERRY_ENOMEM)
			ferry_err_set(err, rc, "bulk write failed, nothing was "
				      "written: out of memory");
		return rc;
	}
	return fdb_commit(t, err);
}

int ferry_bulk_commit_group(ferry_bulk *const *bs, size_t n, ferry_err *err)
{
	fstore_txn *t;
	size_t i;
	int rc;

	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		if (bs[i]->db != bs[0]->db)
			return ferry_err_set(err, FERRY_EINVAL, "bulks of one "
					     "group must use one data dir");
	for (i = 0; i < n; i++)
		if ((rc = ferry_bulk_prepare(bs[i], err)))
			return rc;
	if ((rc = fdb_begin(bs[0]->db, 1, &t, err)))
		return rc;
	for (i = 0; i < n; i++) {
		resolve_all(bs[i], t);
		if ((rc = apply_all(bs[i], t, err))) {
			fdb_abort(t);
			if (rc == FERRY_ENOMEM)
				ferry_err_set(err, rc, "bulk write failed, nothing "
					      "was written: out of memory");
			return rc;
		}
	}
	return fdb_commit(t, err);
}

int ferry_bulk_result(const ferry_bulk *b, size_t i, ferry_write_result *res,
		      ferry_err *op_err)
{
	if (i >= b->n)
		return FERRY_EINVAL;
	const bulk_op *o = &b->ops[b->packed ? b->place[i] : i];
	if (o->code) {
		if (op_err) {
			op_err->code = o->code;
			snprintf(op_err->msg, sizeof op_err->msg, "%s",
				 b->msgs.p + o->msg_off);
		}
		return o->code;
	}
	if (res) {
		size_t n = o->id_len > FERRY_ID_MAX ? FERRY_ID_MAX : o->id_len;
		memcpy(res->id, b->data.p + o->id_off, n);
		res->id[n] = 0;
		res->seq = o->seq;
		res->created = o->created == 1;
		res->noop = o->created == FSTORE_NOOP;
	}
	return 0;
}

size_t ferry_bulk_failed(const ferry_bulk *b)
{
	size_t n = 0;
	for (size_t i = 0; i < b->n; i++) /* in place order: front to back */
		n += b->ops[i].code != 0;
	return n;
}

void ferry_bulk_clear(ferry_bulk *b)
{
	b->n = 0;
	b->prepared = 0;
	b->packed = 0;
	fbuf_clear(&b->data);
	fbuf_clear(&b->msgs);
}

void ferry_bulk_free(ferry_bulk *b)
{
	if (!b)
		return;
	fbuf_release(&b->data);
	fbuf_release(&b->msgs);
	fbuf_release(&b->scratch);
	fbuf_release(&b->spare_data);
	fbuf_release(&b->merged);
	json_arena_free(b->arena);
	free(b->ops);
	free(b->order);
	free(b->place);
	free(b->spare);
	free(b);
}
