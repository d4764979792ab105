/*
 * ujob.c - the upgrade job and its items as catalog records (JSON), and
 * the job's status JSON. See upgrade.h for the keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "json/json.h"
#include "migrate/upgrade.h"

void ujob_release(ujob *j)
{
	fbuf_release(&j->hops);
	free(j->items);
	j->items = NULL;
	j->n = 0;
}

static void jstr(const json_value *o, const char *k, char *out, size_t n)
{
	const json_value *v = json_get(o, k, strlen(k));
	out[0] = 0;
	if (v && v->type == JSON_STRING) {
		size_t l = v->u.str.len < n - 1 ? v->u.str.len : n - 1;
		memcpy(out, v->u.str.s, l);
		out[l] = 0;
	}
}

static uint64_t jnum(const json_value *o, const char *k)
{
	const json_value *v = json_get(o, k, strlen(k));
	int64_t x = 0;
	if (v && v->type == JSON_NUMBER && json_number_int64(v, &x))
		x = 0;
	return (uint64_t)x;
}

static int load_rec(fstore_txn *t, const char *key, json_arena *a,
		    json_value **root)
{
	const char *v;
	size_t n;
	json_error je;
	int rc = t->store->ops->kv_get(t, key, &v, &n);
	if (rc)
		return rc;
	rc = json_parse(a, v, n, root, &je);
	if (!rc && (*root)->type != JSON_OBJECT)
		rc = FERRY_ECORRUPT;
	return rc ? FERRY_ECORRUPT : 0;
}

static void item_from(const json_value *o, uitem *it)
{
	memset(it, 0, sizeof *it);
	jstr(o, "tenant", it->tenant, sizeof it->tenant);
	jstr(o, "src", it->src, sizeof it->src);
	jstr(o, "dst", it->dst, sizeof it->dst);
	jstr(o, "source", it->source, sizeof it->source);
	jstr(o, "target", it->target, sizeof it->target);
	jstr(o, "phase", it->phase, sizeof it->phase);
	const json_value *a = json_get(o, "after", 5);
	if (a && a->type == JSON_STRING && a->u.str.len <= FERRY_ID_MAX) {
		memcpy(it->after, a->u.str.s, a->u.str.len);
		it->after_len = (uint32_t)a->u.str.len;
	}
	it->src_ix = (uint32_t)jnum(o, "src_ix");
	it->dst_ix = (uint32_t)jnum(o, "dst_ix");
	it->pi = (uint32_t)jnum(o, "pi");
	it->start_seq = jnum(o, "start_seq");
	it->seq = jnum(o, "seq");
	it->copied = jnum(o, "copied");
	it->failed = jnum(o, "failed");
	it->dropped = jnum(o, "dropped");
	it->total = jnum(o, "total");
	it->dst_seq_cut = jnum(o, "dst_seq_cut");
}

/* Loads items j->n..n-1 (all of them for a new job). */
static int load_items(fstore_txn *t, ujob *j, json_arena *a, size_t n)
{
	char key[48];
	json_value *root;
	if (n > 1000000)
		return FERRY_ECORRUPT;
	if (n <= j->n && j->items)
		return 0;
	uitem *ni = realloc(j->items, (n ? n : 1) * sizeof *ni);
	if (!ni)
		return FERRY_ENOMEM;
	j->items = ni;
	for (size_t i = j->n; i < n; i++) {
		snprintf(key, sizeof key, "upgrade/item/%05zu", i);
		json_arena_reset(a);
		int rc = load_rec(t, key, a, &root);
		if (rc)
			return rc == FERRY_ENOTFOUND ? FERRY_ECORRUPT : rc;
		item_from(root, &j->items[i]);
		j->n = i + 1;
	}
	return 0;
}

int ujob_absorb(fstore_txn *t, ujob *j)
{
	json_arena *a = json_arena_new();
	json_value *root;
	if (!a)
		return FERRY_ENOMEM;
	int rc = load_rec(t, "upgrade", a, &root);
	if (!rc) {
		size_t n = (size_t)jnum(root, "items");
		if (n > j->n)
			rc = load_items(t, j, a, n);
	}
	json_arena_free(a);
	return rc;
}

static int load_job(fstore_txn *t, ujob *j, int items);

int ujob_load(fstore_txn *t, ujob *j)
{
	return load_job(t, j, 1);
}

int ujob_load_header(fstore_txn *t, ujob *j)
{
	return load_job(t, j, 0);
}

static int load_job(fstore_txn *t, ujob *j, int items)
{
	json_arena *a = json_arena_new();
	json_value *root;
	memset(j, 0, sizeof *j);
	fbuf_init(&j->hops, 0);
	if (!a)
		return FERRY_ENOMEM;
	int rc = load_rec(t, "upgrade", a, &root);
	if (rc)
		goto out;
	jstr(root, "from", j->from, sizeof j->from);
	jstr(root, "to", j->to, sizeof j->to);
	jstr(root, "from_release", j->from_release, sizeof j->from_release);
	jstr(root, "to_release", j->to_release, sizeof j->to_release);
	jstr(root, "state", j->state, sizeof j->state);
	jstr(root, "error", j->error, sizeof j->error);
	j->started_ms = (int64_t)jnum(root, "started_ms");
	j->finished_ms = (int64_t)jnum(root, "finished_ms");
	j->cutover_ms = (int64_t)jnum(root, "cutover_ms");
	j->skip_bad = jnum(root, "skip_bad") != 0;
	const json_value *h = json_get(root, "hops", 4);
	rc = h ? json_write(h, &j->hops) : fbuf_adds(&j->hops, "[]");
	size_t n = (size_t)jnum(root, "items");
	if (!rc && items)
		rc = load_items(t, j, a, n);
out:
	json_arena_free(a);
	if (rc)
		ujob_release(j);
	return rc;
}

static int put(fstore_txn *t, const char *key, const fbuf *b, ferry_err *err)
{
	return t->store->ops->kv_put(t, key, b->p, b->len, err);
}

static int add_str(fbuf *b, const char *k, const char *v, size_t n, int first)
{
	int rc = fbuf_addf(b, "%s\"%s\":", first ? "" : ",", k);
	return rc ? rc : fbuf_add_jstr(b, v, n);
}

int ujob_save_header(fstore_txn *t, const ujob *j, ferry_err *err)
{
	fbuf b = FBUF_INIT;
	int rc = fbuf_addc(&b, '{');
	rc = rc ? rc : add_str(&b, "from", j->from, strlen(j->from), 1);
	rc = rc ? rc : add_str(&b, "to", j->to, strlen(j->to), 0);
	rc = rc ? rc : add_str(&b, "from_release", j->from_release,
			       strlen(j->from_release), 0);
	rc = rc ? rc : add_str(&b, "to_release", j->to_release,
			       strlen(j->to_release), 0);
	rc = rc ? rc : add_str(&b, "state", j->state, strlen(j->state), 0);
	rc = rc ? rc : add_str(&b, "error", j->error, strlen(j->error), 0);
	rc = rc ? rc : fbuf_addf(&b, ",\"started_ms\":%lld,\"finished_ms\":%lld,"
		"\"cutover_ms\":%lld,\"skip_bad\":%d,\"items\":%zu,\"hops\":%s}",
		(long long)j->started_ms, (long long)j->finished_ms,
		(long long)j->cutover_ms, j->skip_bad, j->n,
		j->hops.len ? j->hops.p : "[]");
	rc = rc ? ferry_err_set(err, rc, NULL) : put(t, "upgrade", &b, err);
	fbuf_release(&b);
	return rc;
}

static int item_json(const uitem *it, fbuf *b)
{
	int rc = fbuf_addc(b, '{');
	rc = rc ? rc : add_str(b, "tenant", it->tenant, strlen(it->tenant), 1);
	rc = rc ? rc : add_str(b, "src", it->src, strlen(it->src), 0);
	rc = rc ? rc : add_str(b, "dst", it->dst, strlen(it->dst), 0);
	rc = rc ? rc : add_str(b, "source", it->source, strlen(it->source), 0);
	rc = rc ? rc : add_str(b, "target", it->target, strlen(it->target), 0);
	rc = rc ? rc : add_str(b, "phase", it->phase, strlen(it->phase), 0);
	rc = rc ? rc : add_str(b, "after", it->after, it->after_len, 0);
	return rc ? rc : fbuf_addf(b, ",\"src_ix\":%u,\"dst_ix\":%u,\"pi\":%u,"
		"\"start_seq\":%llu,\"seq\":%llu,\"copied\":%llu,\"failed\":%llu,"
		"\"dropped\":%llu,\"total\":%llu,\"dst_seq_cut\":%llu}",
		it->src_ix, it->dst_ix, it->pi,
		(unsigned long long)it->start_seq, (unsigned long long)it->seq,
		(unsigned long long)it->copied, (unsigned long long)it->failed,
		(unsigned long long)it->dropped, (unsigned long long)it->total,
		(unsigned long long)it->dst_seq_cut);
}

int ujob_save_item(fstore_txn *t, const ujob *j, size_t i, ferry_err *err)
{
	char key[48];
	fbuf b = FBUF_INIT;
	snprintf(key, sizeof key, "upgrade/item/%05zu", i);
	int rc = item_json(&j->items[i], &b);
	rc = rc ? ferry_err_set(err, rc, NULL) : put(t, key, &b, err);
	fbuf_release(&b);
	return rc;
}

int ujob_save(fstore_txn *t, const ujob *j, ferry_err *err)
{
	int rc = ujob_save_header(t, j, err);
	for (size_t i = 0; !rc && i < j->n; i++)
		rc = ujob_save_item(t, j, i, err);
	return rc;
}

int ujob_delete(fstore_txn *t, size_t nitems)
{
	char key[48];
	for (size_t i = 0; i < nitems; i++) {
		snprintf(key, sizeof key, "upgrade/item/%05zu", i);
		t->store->ops->kv_del(t, key);
	}
	t->store->ops->kv_del(t, "upgrade");
	return 0;
}

/* Per tenant, in the order tenants first appear among the items: item
 * count, documents handled and to copy, and the phase of the tenant's
 * least advanced item. */
static int tenants_json(const ujob *j, fbuf *out)
{
	static const char *const order[] = {"copy", "catchup", "done"};
	int rc = fbuf_adds(out, ",\"tenants\":[");
	size_t nt = 0;
	for (size_t i = 0; !rc && i < j->n; i++) {
		const char *tn = j->items[i].tenant;
		size_t k, items = 0, ph = 2;
		uint64_t done = 0, total = 0;
		if (i && !strcmp(j->items[i - 1].tenant, tn))
			continue; /* items are grouped by tenant */
		for (k = 0; k < i && strcmp(j->items[k].tenant, tn); k++)
			;
		if (k < i)
			continue; /* listed with its first item */
		for (k = i; k < j->n; k++) {
			const uitem *it = &j->items[k];
			if (strcmp(it->tenant, tn))
				continue;
			items++;
			if (it->src[0] && it->dst[0]) {
				uint64_t d = it->copied + it->dropped + it->failed;
				total += it->total;
				done += d < it->total ? d : it->total;
			}
			for (size_t o = 0; o < ph; o++)
				if (!strcmp(it->phase, order[o]))
					ph = o;
		}
		rc = fbuf_adds(out, nt++ ? ",{\"tenant\":" : "{\"tenant\":");
		rc = rc ? rc : fbuf_add_jstr(out, tn, strlen(tn));
		rc = rc ? rc : fbuf_addf(out, ",\"items\":%zu,\"phase\":\"%s\","
			"\"done\":%llu,\"total\":%llu}", items, order[ph],
			(unsigned long long)done, (unsigned long long)total);
	}
	return rc ? rc : fbuf_addc(out, ']');
}

int ujob_json(const ujob *j, fbuf *out)
{
	int rc = fbuf_addc(out, '{');
	rc = rc ? rc : add_str(out, "state", j->state, strlen(j->state), 1);
	rc = rc ? rc : add_str(out, "from", j->from, strlen(j->from), 0);
	rc = rc ? rc : add_str(out, "to", j->to, strlen(j->to), 0);
	rc = rc ? rc : add_str(out, "to_release", j->to_release,
			       strlen(j->to_release), 0);
	rc = rc ? rc : add_str(out, "error", j->error, strlen(j->error), 0);
	rc = rc ? rc : fbuf_addf(out, ",\"started_ms\":%lld,\"finished_ms\":%lld,"
		"\"cutover_ms\":%lld,\"hops\":%s,\"items\":[",
		(long long)j->started_ms, (long long)j->finished_ms,
		(long long)j->cutover_ms, j->hops.len ? j->hops.p : "[]");
	for (size_t i = 0; !rc && i < j->n; i++) {
		if (i)
			rc = fbuf_addc(out, ',');
		rc = rc ? rc : item_json(&j->items[i], out);
	}
	rc = rc ? rc : fbuf_addc(out, ']');
	rc = rc ? rc : tenants_json(j, out);
	return rc ? rc : fbuf_addc(out, '}');
}
