/*
 * manifest.c - snapshot manifests (docs/snapshot-format.md, "Manifest"):
 * the in-memory form, the writer, the checksum and a strict parser.
 *
 * The checksum is the last member, `,"checksum":"<64 hex>"`, and is the
 * SHA-256 of the text without that member (the text up to it, then "}").
 * So a truncated manifest is recognised at once (its end is not a
 * checksum), and any changed byte makes the sum differ.
 *
 * The parser trusts nothing: every member is checked for type and range,
 * and a manifest's chunks must add up to its parts' counts, so restore and
 * delete can rely on what they read. tests/fuzz/fuzz_manifest.c feeds it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/err.h"
#include "snapshot/snapshot.h"

#define CHECKSUM_TAIL 78 /* ,"checksum":"<64 hex>" */
#define CHUNK_SIZE_MAX ((uint64_t)FSNAP_CHUNK_HIGH * 4 + FERRY_DOC_MAX + 1024)

int fsnap_manifest_new(fsnap_manifest **out)
{
	fsnap_manifest *m = calloc(1, sizeof *m);
	if (!m || !(m->a = json_arena_new())) {
		free(m);
		return FERRY_ENOMEM;
	}
	m->format = FSNAP_FORMAT;
	snprintf(m->ferry, sizeof m->ferry, "%s", FERRY_VERSION_STRING);
	m->pattern = "*";
	if (!(m->settings = json_new_object(m->a)) ||
	    !(m->versions = json_new_object(m->a)) ||
	    !(m->tenants = json_new_object(m->a)) ||
	    !(m->aliases = json_new_object(m->a)) ||
	    !(m->applied = json_new_object(m->a)) ||
	    !(m->repos = json_new_object(m->a))) {
		fsnap_manifest_free(m);
		return FERRY_ENOMEM;
	}
	*out = m;
	return 0;
}

void fsnap_manifest_free(fsnap_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nix; i++) {
		for (size_t j = 0; j < m->ix[i].nparts; j++)
			free(m->ix[i].parts[j].chunks);
		free(m->ix[i].parts);
	}
	free(m->ix);
	json_arena_free(m->a);
	free(m);
}

int fsnap_part_add(fsnap_part *p, const fsnap_chunk_ref *c)
{
	if (p->nchunks == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		fsnap_chunk_ref *nv = realloc(p->chunks, cap * sizeof *nv);
		if (!nv)
			return FERRY_ENOMEM;
		p->chunks = nv;
		p->cap = cap;
	}
	p->chunks[p->nchunks++] = *c;
	return 0;
}

/* ---- writer ---- */

static int put_str(fbuf *b, const char *k, const char *v)
{
	int rc = fbuf_addf(b, "\"%s\":", k);
	return rc ? rc : fbuf_add_jstr(b, v, strlen(v));
}

static int write_part(fbuf *b, const fsnap_part *p)
{
	char hex[65];
	int rc = fbuf_addf(b, "{\"kind\":\"%s\",\"since\":%llu,\"seq\":%llu,"
		"\"docs\":%llu,\"tombs\":%llu,\"bytes\":%llu,\"chunks\":[",
		p->kind == FSNAP_BASE ? "base" : "delta",
		(unsigned long long)p->since, (unsigned long long)p->seq,
		(unsigned long long)p->docs, (unsigned long long)p->tombs,
		(unsigned long long)p->bytes);
	for (size_t i = 0; !rc && i < p->nchunks; i++) {
		const fsnap_chunk_ref *c = &p->chunks[i];
		fsnap_hex(c->sha, 32, hex);
		rc = fbuf_addf(b, "%s\n  {\"sha256\":\"%s\",\"size\":%llu,"
			"\"stored\":%llu,\"records\":%llu}", i ? "," : "", hex,
			(unsigned long long)c->size, (unsigned long long)c->stored,
			(unsigned long long)c->recs);
	}
	return rc ? rc : fbuf_adds(b, "]}");
}

static int write_index(fbuf *b, const fsnap_index *x)
{
	int rc = fbuf_adds(b, "{");
	rc = rc ? rc : put_str(b, "name", x->name);
	rc = rc ? rc : fbuf_adds(b, ",");
	rc = rc ? rc : put_str(b, "alias", x->alias);
	rc = rc ? rc : fbuf_adds(b, ",");
	rc = rc ? rc : put_str(b, "tenant", x->tenant);
	rc = rc ? rc : fbuf_adds(b, ",");
	rc = rc ? rc : put_str(b, "index", x->index);
	rc = rc ? rc : fbuf_adds(b, ",");
	rc = rc ? rc : put_str(b, "version", x->version);
	rc = rc ? rc : fbuf_addf(b, ",\"ix\":%u,\"created_ms\":%lld,\"seq\":%llu,"
		"\"docs\":%llu,\"bytes\":%llu,\"body\":", x->ix,
		(long long)x->created_ms, (unsigned long long)x->seq,
		(unsigned long long)x->docs, (unsigned long long)x->bytes);
	if (!rc)
		rc = x->body ? json_write(x->body, b) : fbuf_adds(b, "null");
	rc = rc ? rc : fbuf_adds(b, ",\"parts\":[");
	for (size_t i = 0; !rc && i < x->nparts; i++) {
		rc = i ? fbuf_adds(b, ",\n ") : 0;
		rc = rc ? rc : write_part(b, &x->parts[i]);
	}
	return rc ? rc : fbuf_adds(b, "]}");
}

int fsnap_manifest_write(const fsnap_manifest *m, fbuf *b)
{
	static const char *const names[] = {"settings", "versions", "tenants",
					    "aliases", "applied", "repos"};
	const json_value *cat[] = {m->settings, m->versions, m->tenants,
				   m->aliases, m->applied, m->repos};
	unsigned char sha[32];
	char hex[65];
	const fsnap_stats *s = &m->stats;
	fbuf_clear(b);
	int rc = fbuf_addf(b, "{\"format\":%u,", m->format);
	rc = rc ? rc : put_str(b, "name", m->name);
	rc = rc ? rc : fbuf_adds(b, ",");
	rc = rc ? rc : put_str(b, "deployment", m->deployment);
	rc = rc ? rc : fbuf_adds(b, ",");
	rc = rc ? rc : put_str(b, "ferry", m->ferry);
	rc = rc ? rc : fbuf_adds(b, ",");
	rc = rc ? rc : put_str(b, "pattern", m->pattern ? m->pattern : "*");
	rc = rc ? rc : fbuf_addf(b, ",\"started_ms\":%lld,\"finished_ms\":%lld,"
		"\n\"stats\":{\"docs\":%llu,\"bytes\":%llu,\"chunks\":%llu,"
		"\"stored\":%llu,\"new_chunks\":%llu,\"new_bytes\":%llu,"
		"\"took_ms\":%lld},\n\"catalog\":{", (long long)m->started_ms,
		(long long)m->finished_ms, (unsigned long long)s->docs,
		(unsigned long long)s->bytes, (unsigned long long)s->chunks,
		(unsigned long long)s->stored, (unsigned long long)s->new_chunks,
		(unsigned long long)s->new_bytes, (long long)s->took_ms);
	for (size_t i = 0; !rc && i < 6; i++) {
		rc = fbuf_addf(b, "%s\n \"%s\":", i ? "," : "", names[i]);
		rc = rc ? rc : json_write(cat[i], b);
	}
	rc = rc ? rc : fbuf_adds(b, "},\n\"indices\":[");
	for (size_t i = 0; !rc && i < m->nix; i++) {
		rc = fbuf_adds(b, i ? ",\n" : "\n");
		rc = rc ? rc : write_index(b, &m->ix[i]);
	}
	rc = rc ? rc : fbuf_adds(b, "]}");
	if (rc)
		return rc;
	fsnap_sha256(b->p, b->len, sha);
	fsnap_hex(sha, 32, hex);
	b->len--; /* drop the closing brace: the checksum goes last */
	return fbuf_addf(b, ",\"checksum\":\"%s\"}\n", hex);
}

/* ---- parser ---- */

typedef struct pctx {
	const char *what;
	ferry_err *err;
	char where[FERRY_NAME_MAX + 16]; /* the index being read, or "" */
} pctx;

static int bad(pctx *c, const char *why)
{
	return ferry_err_set(c->err, FERRY_ECORRUPT, "snapshot manifest %s is "
			     "damaged: %s%s%s", c->what, why, c->where[0] ? " of " :
			     "", c->where);
}

static int get_u64(pctx *c, const json_value *o, const char *k, uint64_t *out)
{
	const json_value *v = json_get(o, k, strlen(k));
	int64_t x;
	char why[96];
	if (!v || v->type != JSON_NUMBER || json_number_int64(v, &x) || x < 0) {
		snprintf(why, sizeof why, "\"%s\" is missing or not a count", k);
		return bad(c, why);
	}
	*out = (uint64_t)x;
	return 0;
}

static int get_i64(pctx *c, const json_value *o, const char *k, int64_t *out)
{
	const json_value *v = json_get(o, k, strlen(k));
	char why[96];
	if (!v || v->type != JSON_NUMBER || json_number_int64(v, out)) {
		snprintf(why, sizeof why, "\"%s\" is missing or not an integer", k);
		return bad(c, why);
	}
	return 0;
}

static int get_str(pctx *c, const json_value *o, const char *k, char *out,
		   size_t n)
{
	const json_value *v = json_get(o, k, strlen(k));
	char why[96];
	if (!v || v->type != JSON_STRING || v->u.str.len >= n ||
	    memchr(v->u.str.s, 0, v->u.str.len)) {
		snprintf(why, sizeof why, "\"%s\" is missing, not a string or too "
			 "long", k);
		return bad(c, why);
	}
	memcpy(out, v->u.str.s, v->u.str.len + 1);
	return 0;
}

static const json_value *get_typed(pctx *c, const json_value *o,
				   const char *k, json_type t)
{
	const json_value *v = json_get(o, k, strlen(k));
	if (!v || v->type != t) {
		char why[96];
		snprintf(why, sizeof why, "\"%s\" is missing or not %s", k,
			 t == JSON_ARRAY ? "an array" : "an object");
		bad(c, why);
		return NULL;
	}
	return v;
}

static int parse_chunk(pctx *c, const json_value *o, fsnap_chunk_ref *out)
{
	const json_value *v;
	if (o->type != JSON_OBJECT)
		return bad(c, "a chunk is not an object");
	if (!(v = json_get(o, "sha256", 6)) || v->type != JSON_STRING ||
	    v->u.str.len != 64 || fsnap_unhex(v->u.str.s, 32, out->sha))
		return bad(c, "a chunk's sha256 is not 64 lowercase hex digits");
	int rc = get_u64(c, o, "size", &out->size);
	rc = rc ? rc : get_u64(c, o, "stored", &out->stored);
	rc = rc ? rc : get_u64(c, o, "records", &out->recs);
	if (!rc && (out->size > CHUNK_SIZE_MAX || out->recs == 0 ||
		    out->recs > out->size / FSNAP_REC_MIN ||
		    out->stored > out->size + out->size / 8 + 65536))
		rc = bad(c, "a chunk's size or record count is out of range");
	return rc;
}

static int parse_part(pctx *c, const json_value *o, int first,
		      uint64_t prev_seq, fsnap_part *out)
{
	char kind[8];
	uint64_t recs = 0, bytes = 0;
	if (o->type != JSON_OBJECT)
		return bad(c, "a part is not an object");
	int rc = get_str(c, o, "kind", kind, sizeof kind);
	rc = rc ? rc : get_u64(c, o, "since", &out->since);
	rc = rc ? rc : get_u64(c, o, "seq", &out->seq);
	rc = rc ? rc : get_u64(c, o, "docs", &out->docs);
	rc = rc ? rc : get_u64(c, o, "tombs", &out->tombs);
	rc = rc ? rc : get_u64(c, o, "bytes", &out->bytes);
	if (rc)
		return rc;
	out->kind = !strcmp(kind, "base") ? FSNAP_BASE :
		    !strcmp(kind, "delta") ? FSNAP_DELTA : -1;
	if (out->kind < 0 || (first != (out->kind == FSNAP_BASE)))
		return bad(c, "parts must be one base followed by deltas");
	if (out->kind == FSNAP_BASE && (out->since || out->tombs))
		return bad(c, "a base has changes or deletions");
	if (out->kind == FSNAP_DELTA && (out->since != prev_seq ||
					 out->seq < out->since))
		return bad(c, "a delta does not follow the part before it");
	const json_value *ch = get_typed(c, o, "chunks", JSON_ARRAY);
	if (!ch)
		return FERRY_ECORRUPT;
	if (ch->u.arr.n && !(out->chunks = calloc(ch->u.arr.n,
						  sizeof *out->chunks)))
		return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	out->cap = ch->u.arr.n;
	for (size_t i = 0; i < ch->u.arr.n; i++) {
		if ((rc = parse_chunk(c, ch->u.arr.v[i], &out->chunks[i])))
			return rc;
		out->nchunks++;
		recs += out->chunks[i].recs;
		bytes += out->chunks[i].size;
	}
	if (recs != out->docs + out->tombs || bytes != out->bytes)
		return bad(c, "a part's chunks do not add up to its counts");
	return 0;
}

static int parse_index(pctx *c, const json_value *o, fsnap_index *x)
{
	uint64_t ix;
	if (o->type != JSON_OBJECT)
		return bad(c, "an index is not an object");
	int rc = get_str(c, o, "name", x->name, sizeof x->name);
	if (!rc)
		snprintf(c->where, sizeof c->where, "index '%s'", x->name);
	rc = rc ? rc : get_str(c, o, "alias", x->alias, sizeof x->alias);
	rc = rc ? rc : get_str(c, o, "tenant", x->tenant, sizeof x->tenant);
	rc = rc ? rc : get_str(c, o, "index", x->index, sizeof x->index);
	rc = rc ? rc : get_str(c, o, "version", x->version, sizeof x->version);
	rc = rc ? rc : get_u64(c, o, "ix", &ix);
	rc = rc ? rc : get_i64(c, o, "created_ms", &x->created_ms);
	rc = rc ? rc : get_u64(c, o, "seq", &x->seq);
	rc = rc ? rc : get_u64(c, o, "docs", &x->docs);
	rc = rc ? rc : get_u64(c, o, "bytes", &x->bytes);
	if (rc)
		return rc;
	if (!x->name[0] || ix > UINT32_MAX)
		return bad(c, "an index has no name or a bad number");
	x->ix = (uint32_t)ix;
	json_value *body = json_get(o, "body", 4);
	if (!body || (body->type != JSON_NULL && body->type != JSON_OBJECT))
		return bad(c, "an index body is not an object or null");
	x->body = body->type == JSON_OBJECT ? body : NULL;
	const json_value *parts = get_typed(c, o, "parts", JSON_ARRAY);
	if (!parts)
		return FERRY_ECORRUPT;
	if (!parts->u.arr.n || parts->u.arr.n > FSNAP_DELTA_MAX + 1)
		return bad(c, "an index has no base or too many deltas");
	if (!(x->parts = calloc(parts->u.arr.n, sizeof *x->parts)))
		return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	uint64_t prev = 0;
	for (size_t i = 0; i < parts->u.arr.n; i++) {
		x->nparts++;
		if ((rc = parse_part(c, parts->u.arr.v[i], i == 0, prev,
				     &x->parts[i])))
			return rc;
		prev = x->parts[i].seq;
	}
	if (prev != x->seq)
		return bad(c, "an index's parts do not reach its seq");
	return 0;
}

static int check_catalog(pctx *c, const json_value *cat, fsnap_manifest *m)
{
	static const char *const names[] = {"settings", "versions", "tenants",
					    "aliases", "applied", "repos"};
	json_value **slot[] = {&m->settings, &m->versions, &m->tenants,
			       &m->aliases, &m->applied, &m->repos};
	for (size_t i = 0; i < 6; i++) {
		const json_value *v = get_typed(c, cat, names[i], JSON_OBJECT);
		if (!v)
			return FERRY_ECORRUPT;
		for (size_t j = 0; i && j < v->u.obj.n; j++) {
			const json_member *mb = &v->u.obj.m[j];
			json_type want = i == 3 || i == 4 ? JSON_STRING : JSON_OBJECT;
			if (mb->val->type != want || !mb->klen || mb->klen > 255 ||
			    memchr(mb->key, 0, mb->klen) || memchr(mb->key, '/',
								   mb->klen) ||
			    (want == JSON_STRING &&
			     (mb->val->u.str.len > 4096 ||
			      memchr(mb->val->u.str.s, 0, mb->val->u.str.len))))
				return bad(c, "a catalog record has a bad key or value");
		}
		*slot[i] = (json_value *)v;
	}
	return 0;
}

static int check_checksum(pctx *c, const char *s, size_t n)
{
	static const char head[] = ",\"checksum\":\"";
	unsigned char sha[32], want[32];
	if (n < CHECKSUM_TAIL + 2 || s[n - 1] != '}' ||
	    memcmp(s + n - 1 - CHECKSUM_TAIL, head, sizeof head - 1) ||
	    s[n - 2] != '"' ||
	    fsnap_unhex(s + n - 1 - CHECKSUM_TAIL + sizeof head - 1, 32, want))
		return ferry_err_set(c->err, FERRY_ECORRUPT, "snapshot manifest %s "
			"is truncated or damaged: it does not end with its "
			"checksum", c->what);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int len = 0;
	int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
		 EVP_DigestUpdate(md, s, n - 1 - CHECKSUM_TAIL) &&
		 EVP_DigestUpdate(md, "}", 1) && EVP_DigestFinal_ex(md, sha, &len);
	EVP_MD_CTX_free(md);
	if (!ok)
		return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	if (memcmp(sha, want, 32))
		return ferry_err_set(c->err, FERRY_ECORRUPT, "snapshot manifest %s "
			"is damaged: its checksum does not match its content",
			c->what);
	return 0;
}

static int parse_top(pctx *c, const json_value *root, fsnap_manifest *m)
{
	const json_value *v;
	uint64_t fmt;
	int rc = get_u64(c, root, "format", &fmt);
	if (rc)
		return rc;
	if (fmt == 0)
		return bad(c, "format 0");
	if (fmt > FSNAP_FORMAT)
		return ferry_err_set(c->err, FERRY_EVERSION, "snapshot manifest %s "
			"has format %llu, newer than this ferry %s reads (%d); use "
			"a newer ferry", c->what, (unsigned long long)fmt,
			FERRY_VERSION_STRING, FSNAP_FORMAT);
	m->format = (unsigned)fmt;
	rc = get_str(c, root, "name", m->name, sizeof m->name);
	rc = rc ? rc : get_str(c, root, "deployment", m->deployment,
			       sizeof m->deployment);
	rc = rc ? rc : get_str(c, root, "ferry", m->ferry, sizeof m->ferry);
	rc = rc ? rc : get_i64(c, root, "started_ms", &m->started_ms);
	rc = rc ? rc : get_i64(c, root, "finished_ms", &m->finished_ms);
	if (rc)
		return rc;
	if (fsnap_check_name(m->name, NULL))
		return bad(c, "the snapshot name is not valid");
	if (!(v = json_get(root, "pattern", 7)) || v->type != JSON_STRING ||
	    memchr(v->u.str.s, 0, v->u.str.len))
		return bad(c, "\"pattern\" is missing or not a string");
	m->pattern = v->u.str.s;
	const json_value *st = get_typed(c, root, "stats", JSON_OBJECT);
	if (!st)
		return FERRY_ECORRUPT;
	fsnap_stats *s = &m->stats;
	rc = get_u64(c, st, "docs", &s->docs);
	rc = rc ? rc : get_u64(c, st, "bytes", &s->bytes);
	rc = rc ? rc : get_u64(c, st, "chunks", &s->chunks);
	rc = rc ? rc : get_u64(c, st, "stored", &s->stored);
	rc = rc ? rc : get_u64(c, st, "new_chunks", &s->new_chunks);
	rc = rc ? rc : get_u64(c, st, "new_bytes", &s->new_bytes);
	rc = rc ? rc : get_i64(c, st, "took_ms", &s->took_ms);
	if (rc)
		return rc;
	const json_value *cat = get_typed(c, root, "catalog", JSON_OBJECT);
	if (!cat || (rc = check_catalog(c, cat, m)))
		return cat ? rc : FERRY_ECORRUPT;
	const json_value *ix = get_typed(c, root, "indices", JSON_ARRAY);
	if (!ix)
		return FERRY_ECORRUPT;
	if (ix->u.arr.n && !(m->ix = calloc(ix->u.arr.n, sizeof *m->ix)))
		return ferry_err_set(c->err, FERRY_ENOMEM, NULL);
	for (size_t i = 0; i < ix->u.arr.n; i++) {
		m->nix++;
		if ((rc = parse_index(c, ix->u.arr.v[i], &m->ix[i])))
			return rc;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(m->ix[j].name, m->ix[i].name))
				return bad(c, "an index is listed twice");
		c->where[0] = 0;
	}
	return 0;
}

int fsnap_manifest_parse(const char *text, size_t len, unsigned flags,
			 const char *what, fsnap_manifest **out,
			 ferry_err *err)
{
	pctx c = {what ? what : "", err, ""};
	fsnap_manifest *m;
	json_value *root;
	json_error je;
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' ' ||
		       text[len - 1] == '\r' || text[len - 1] == '\t'))
		len--;
	int rc = fsnap_manifest_new(&m);
	if (rc)
		return ferry_err_set(err, rc, NULL);
	rc = json_parse(m->a, text, len, &root, &je);
	if (rc == FERRY_ENOMEM) {
		rc = ferry_err_set(err, rc, NULL);
	} else if (rc) {
		rc = ferry_err_set(err, FERRY_ECORRUPT, "snapshot manifest %s is "
			"truncated or damaged: %s at byte %zu", c.what, je.msg,
			je.offset);
	} else if (root->type != JSON_OBJECT) {
		rc = bad(&c, "it is not a JSON object");
	} else if (!(rc = parse_top(&c, root, m)) &&
		   !(flags & FSNAP_PARSE_NOCHECK)) {
		rc = check_checksum(&c, text, len);
	}
	if (rc) {
		fsnap_manifest_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int fsnap_manifest_load(const fsnap_repo *r, const char *name,
			fsnap_manifest **out, ferry_err *err)
{
	char path[PATH_MAX + FSNAP_NAME_MAX + 32], what[FSNAP_NAME_MAX + 32];
	fbuf b;
	int rc = fsnap_check_name(name, err);
	if (rc)
		return rc;
	fsnap_path_manifest(r, name, path, sizeof path);
	snprintf(what, sizeof what, "snapshots/%s.json", name);
	fbuf_init(&b, FSNAP_MANIFEST_MAX);
	rc = fsnap_read_file(path, FSNAP_MANIFEST_MAX, &b, err);
	if (rc == FERRY_ENOTFOUND)
		ferry_err_set(err, rc, "no snapshot '%s' in repository %s; `ferry "
			      "snapshot list` shows them", name, r->label);
	if (!rc)
		rc = fsnap_manifest_parse(b.p, b.len, 0, what, out, err);
	if (!rc && strcmp((*out)->name, name)) {
		fsnap_manifest_free(*out);
		rc = ferry_err_set(err, FERRY_ECORRUPT, "snapshot manifest %s names "
				   "another snapshot ('%s')", what, (*out)->name);
	}
	fbuf_release(&b);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int fsnap_manifest_names(const fsnap_repo *r, char ***out, size_t *n,
			 ferry_err *err)
{
	char dir[FSNAP_PATH];
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	snprintf(dir, sizeof dir, "%s/snapshots", r->path);
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return ferry_err_set(err, errno == ENOENT ? FERRY_ENOTFOUND :
			FERRY_EIO, "cannot list '%s': %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len < 6 || len - 5 > FSNAP_NAME_MAX ||
		    strcmp(de->d_name + len - 5, ".json"))
			continue;
		char name[FSNAP_NAME_MAX + 1];
		memcpy(name, de->d_name, len - 5);
		name[len - 5] = 0;
		if (fsnap_check_name(name, NULL))
			continue;
		if (cnt + 1 >= cap) {
			size_t nc = cap ? cap * 2 : 16;
			char **nv = realloc(v, nc * sizeof *nv);
			if (!nv)
				break;
			v = nv;
			cap = nc;
		}
		if (!(v[cnt] = strdup(name)))
			break;
		v[++cnt] = NULL;
	}
	closedir(d);
	if (!v && !(v = calloc(1, sizeof *v)))
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	qsort(v, cnt, sizeof *v, cmp_str);
	*out = v;
	*n = cnt;
	return 0;
}

void fsnap_manifest_info(const fsnap_manifest *m, ferry_snapshot_info *o)
{
	memset(o, 0, sizeof *o);
	snprintf(o->name, sizeof o->name, "%s", m->name);
	snprintf(o->state, sizeof o->state, "ok");
	const json_value *rel = json_get(m->settings, "release", 7);
	if (rel && rel->type == JSON_STRING)
		snprintf(o->release, sizeof o->release, "%s", rel->u.str.s);
	o->started_ms = m->started_ms;
	o->took_ms = m->stats.took_ms;
	o->indices = m->nix;
	o->docs = m->stats.docs;
	o->bytes = m->stats.bytes;
	o->chunks = m->stats.chunks;
	o->stored = m->stats.stored;
	o->new_chunks = m->stats.new_chunks;
	o->new_bytes = m->stats.new_bytes;
}
