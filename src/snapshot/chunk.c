/*
 * chunk.c - what goes inside chunks and how chunks are cut, stored and
 * read back (docs/snapshot-format.md, "Chunks").
 *
 * A record is  type(1: 'D' document, 'T' deleted id)  idlen(2, BE)
 * bodylen(4, BE)  id  body. Format 2 adds two document records without
 * the body length, which is that of the body's JSON object: 'O' idlen id
 * body, and 'E' idlen id rest, where the body is {"id":"<id>" + rest (a
 * document that starts with its own id, as most do). That takes 10 % off
 * the raw bytes of typical documents and about 9 % off the compressed
 * ones (docs/benchmarks.md). A chunk is a run of whole records; its file
 * is one zstd frame of them, named by the SHA-256 of the uncompressed
 * bytes.
 *
 * Chunk boundaries are content-defined (a gear hash, as in FastCDC, over
 * the record bytes; a chunk ends after the record in which the hash first
 * hits, past a minimum size), so inserting or changing a document changes
 * only its own chunk, and the next snapshot of a rebuilt base dedupes the
 * rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "core/err.h"
#include "snapshot/snapshot.h"

/* ---- records ---- */

#define ID_PLAIN (511 - 4)            /* as FLMDB_ID_PLAIN */
#define ID_PREFIX (511 - 4 - 1 - 16)  /* as FLMDB_ID_PREFIX */

static size_t id_key(const char *id, size_t n, unsigned char *out)
{
	unsigned char sha[32];
	if (n <= ID_PLAIN) {
		memcpy(out, id, n);
		return n;
	}
	memcpy(out, id, ID_PREFIX);
	out[ID_PREFIX] = 0;
	fsnap_sha256(id, n, sha);
	memcpy(out + ID_PREFIX + 1, sha, 16);
	return ID_PREFIX + 17;
}

int fsnap_id_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	unsigned char ka[ID_PLAIN + 1], kb[ID_PLAIN + 1];
	const unsigned char *pa = (const unsigned char *)a;
	const unsigned char *pb = (const unsigned char *)b;
	if (an > ID_PLAIN) {
		an = id_key(a, an, ka);
		pa = ka;
	}
	if (bn > ID_PLAIN) {
		bn = id_key(b, bn, kb);
		pb = kb;
	}
	int d = memcmp(pa, pb, an < bn ? an : bn);
	return d ? d : an < bn ? -1 : an > bn;
}

#define ID_PREFIX_TEXT "{\"id\":\""
#define ID_PREFIX_LEN 7 /* {"id":" */

/* The length of a JSON object's text, up to and including its closing
 * brace: from its '{' at p[0] (depth 0), or from just after its first
 * member (depth 1). 0 if it does not end within n bytes. Only strings
 * and brackets are looked at: the text was JSON when it was stored and
 * the chunk's SHA-256 is checked before its records are read, so this
 * finds the end, within bounds, rather than validating. */
static size_t obj_len(const unsigned char *p, size_t n, size_t depth)
{
	size_t i = 0;
	if (!depth) {
		if (!n || p[0] != '{')
			return 0;
		depth = i = 1;
	}
	while (i < n) {
		unsigned char ch = p[i++];
		if (ch == '"') {
			while (i < n && p[i] != '"')
				i += p[i] == '\\' ? 2 : 1;
			if (i++ >= n)
				return 0;
		} else if (ch == '{' || ch == '[') {
			depth++;
		} else if ((ch == '}' || ch == ']') && --depth == 0) {
			return i;
		}
	}
	return 0;
}

/* A format 2 document record at p[o..n): 'O' or 'E', no body length. */
static int rec_compact(const unsigned char *p, size_t n, size_t o,
		       fsnap_rec *out, size_t *end)
{
	int elided = p[o] == FSNAP_REC_IDOBJ;
	size_t idlen, at, blen;
	if (n - o < 3)
		return FERRY_ECORRUPT;
	idlen = (size_t)p[o + 1] << 8 | p[o + 2];
	at = o + 3 + idlen;
	if (idlen == 0 || idlen > FERRY_ID_MAX || n - o - 3 <= idlen)
		return FERRY_ECORRUPT;
	blen = obj_len(p + at, n - at, elided);
	if (!blen || blen + (elided ? ID_PREFIX_LEN + idlen + 1 : 0) >
		     FERRY_DOC_MAX)
		return FERRY_ECORRUPT;
	out->type = FSNAP_REC_DOC;
	out->elided = elided;
	out->id = (const char *)p + o + 3;
	out->idlen = idlen;
	out->body = (const char *)p + at;
	out->body_len = blen;
	*end = at + blen;
	return 0;
}

int fsnap_rec_next(const unsigned char *p, size_t n, size_t *off,
		   fsnap_rec *out)
{
	size_t o = *off;
	if (o == n)
		return FERRY_EOF;
	if (o > n)
		return FERRY_ECORRUPT;
	int type = p[o];
	if (type == FSNAP_REC_OBJ || type == FSNAP_REC_IDOBJ)
		return rec_compact(p, n, o, out, off);
	if (n - o < FSNAP_REC_HDR)
		return FERRY_ECORRUPT;
	size_t idlen = (size_t)p[o + 1] << 8 | p[o + 2];
	size_t blen = (size_t)p[o + 3] << 24 | (size_t)p[o + 4] << 16 |
		      (size_t)p[o + 5] << 8 | p[o + 6];
	if ((type != FSNAP_REC_DOC && type != FSNAP_REC_TOMB) || idlen == 0 ||
	    idlen > FERRY_ID_MAX || blen > FERRY_DOC_MAX ||
	    (type == FSNAP_REC_TOMB && blen) ||
	    n - o - FSNAP_REC_HDR < idlen + blen)
		return FERRY_ECORRUPT;
	out->type = type;
	out->elided = 0;
	out->id = (const char *)p + o + FSNAP_REC_HDR;
	out->idlen = idlen;
	out->body = out->id + idlen;
	out->body_len = blen;
	*off = o + FSNAP_REC_HDR + idlen + blen;
	return 0;
}

const char *fsnap_rec_body(const fsnap_rec *r, fbuf *tmp, size_t *len)
{
	if (!r->elided) {
		*len = r->body_len;
		return r->body;
	}
	fbuf_clear(tmp);
	if (fbuf_add(tmp, ID_PREFIX_TEXT, ID_PREFIX_LEN) ||
	    fbuf_add(tmp, r->id, r->idlen) || fbuf_addc(tmp, '"') ||
	    fbuf_add(tmp, r->body, r->body_len))
		return NULL;
	*len = tmp->len;
	return tmp->p;
}

int fsnap_rec_body_eq(const fsnap_rec *r, const char *body, size_t len)
{
	size_t pre = ID_PREFIX_LEN + r->idlen + 1;
	if (!r->elided)
		return r->body_len == len && !memcmp(r->body, body, len);
	return len == pre + r->body_len &&
	       !memcmp(body, ID_PREFIX_TEXT, ID_PREFIX_LEN) &&
	       !memcmp(body + ID_PREFIX_LEN, r->id, r->idlen) &&
	       body[pre - 1] == '"' && !memcmp(body + pre, r->body, r->body_len);
}

/* ---- the chunker ---- */

/* 256 random 64-bit values: splitmix64 from the seed 0x6665727279
 * ("ferry"). Fixed by format 1: other values would still restore, but
 * would cut differently and so dedupe worse against older chunks. */
static uint64_t gear[256];
static pthread_once_t gear_once = PTHREAD_ONCE_INIT;

static void gear_init(void)
{
	uint64_t s = UINT64_C(0x6665727279);
	for (int i = 0; i < 256; i++) {
		uint64_t z = (s += UINT64_C(0x9E3779B97F4A7C15));
		z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
		z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
		gear[i] = z ^ (z >> 31);
	}
}

void fsnap_chunker_init(fsnap_chunker *c, size_t avg, unsigned format)
{
	pthread_once(&gear_once, gear_init);
	memset(c, 0, sizeof *c);
	c->compact = format >= 2;
	fsnap_chunker_size(c, avg);
}

void fsnap_chunker_size(fsnap_chunker *c, size_t avg)
{
	c->min = avg / 2;
	c->max = avg * 4;
	unsigned bits = 0;
	while (((size_t)2 << bits) <= avg / 2)
		bits++;
	c->bits = bits; /* a hit every ~avg/2 bytes after min: ~avg on average */
}

void fsnap_chunker_release(fsnap_chunker *c)
{
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

int fsnap_chunker_full(const fsnap_chunker *c, size_t idlen, size_t blen)
{
	return c->len && c->len + FSNAP_REC_HDR + idlen + blen > c->max;
}

/* Runs the gear hash over the record just appended at chunk offset pos.
 * The hash depends on the last 64 bytes only, so positions before
 * min - 64 need not be hashed. Returns 1 on a hit at or past min. */
static int gear_scan(fsnap_chunker *c, size_t pos, size_t n)
{
	size_t warm = c->min > 64 ? c->min - 64 : 0, i = 0;
	const unsigned char *p = c->buf + pos;
	uint64_t h = c->h;
	unsigned shift = 64 - c->bits;
	if (pos + n <= warm)
		return 0;
	if (pos < warm)
		i = warm - pos;
	for (; i < n; i++) {
		h = (h << 1) + gear[p[i]];
		if (pos + i >= c->min && !(h >> shift)) {
			c->h = h;
			return 1;
		}
	}
	c->h = h;
	return 0;
}

/* The record type a document gets, and how many of its body's first
 * bytes it leaves out. A body that is one JSON object, '{' to '}' with
 * nothing around it, needs no length (it was validated when stored, so
 * its first brace closes at its last byte); one that starts with its own
 * id as {"id":"<id>" leaves that out, if the id has no '"' or '\\' (so
 * the text after it is outside any string). */
static int doc_type(const fsnap_chunker *c, const char *id, size_t idlen,
		    const char *body, size_t blen, size_t *skip)
{
	size_t pre = ID_PREFIX_LEN + idlen + 1;
	*skip = 0;
	if (!c->compact || blen < 2 || body[0] != '{' || body[blen - 1] != '}')
		return FSNAP_REC_DOC;
	if (blen <= pre || memcmp(body, ID_PREFIX_TEXT, ID_PREFIX_LEN) ||
	    memcmp(body + ID_PREFIX_LEN, id, idlen) || body[pre - 1] != '"' ||
	    memchr(id, '"', idlen) || memchr(id, '\\', idlen))
		return FSNAP_REC_OBJ;
	*skip = pre;
	return FSNAP_REC_IDOBJ;
}

int fsnap_chunker_add(fsnap_chunker *c, int type, const char *id,
		      size_t idlen, const char *body, size_t blen)
{
	size_t skip = 0;
	if (type == FSNAP_REC_DOC)
		type = doc_type(c, id, idlen, body, blen, &skip);
	size_t hdr = type == FSNAP_REC_OBJ || type == FSNAP_REC_IDOBJ ? 3 :
		     FSNAP_REC_HDR;
	body += skip;
	blen -= skip;
	size_t need = hdr + idlen + blen;
	if (c->cap - c->len < need) {
		size_t cap = c->cap ? c->cap : c->min + c->min / 2 + 4096;
		while (cap - c->len < need)
			cap *= 2;
		unsigned char *nb = realloc(c->buf, cap);
		if (!nb)
			return FERRY_ENOMEM;
		c->buf = nb;
		c->cap = cap;
	}
	unsigned char *p = c->buf + c->len;
	p[0] = (unsigned char)type;
	p[1] = (unsigned char)(idlen >> 8);
	p[2] = (unsigned char)idlen;
	if (hdr == FSNAP_REC_HDR) {
		p[3] = (unsigned char)(blen >> 24);
		p[4] = (unsigned char)(blen >> 16);
		p[5] = (unsigned char)(blen >> 8);
		p[6] = (unsigned char)blen;
	}
	memcpy(p + hdr, id, idlen);
	if (blen)
		memcpy(p + hdr + idlen, body, blen);
	size_t pos = c->len;
	c->len += need;
	c->recs++;
	if (type == FSNAP_REC_TOMB)
		c->tombs++;
	else
		c->docs++;
	if (!c->cut && (gear_scan(c, pos, need) || c->len >= c->max))
		c->cut = 1;
	return 0;
}

unsigned char *fsnap_chunker_take(fsnap_chunker *c, size_t *len,
				  uint64_t *recs)
{
	unsigned char *b = c->buf;
	*len = c->len;
	*recs = c->recs;
	c->buf = NULL;
	c->len = c->cap = 0;
	c->recs = 0;
	c->h = 0;
	c->cut = 0;
	return b;
}

/* ---- chunk files ---- */

static void chunk_rel(const unsigned char sha[32], char *out, size_t n)
{
	char hex[65];
	fsnap_hex(sha, 32, hex);
	snprintf(out, n, "chunks/%.2s/%s", hex, hex);
}

int fsnap_chunk_touch(const fsnap_repo *r, const unsigned char sha[32])
{
	char path[FSNAP_PATH];
	fsnap_path_chunk(r, sha, path, sizeof path);
	if (utimensat(AT_FDCWD, path, NULL, 0) == 0)
		return 0;
	return errno == ENOENT ? FERRY_ENOTFOUND : FERRY_EIO;
}

int fsnap_chunk_store(const fsnap_repo *r, void *zc, fbuf *tmp,
		      const unsigned char *raw, size_t len,
		      fsnap_chunk_ref *ref, int *is_new, ferry_err *err)
{
	char path[FSNAP_PATH], dir[FSNAP_PATH], hex[65], rel[96];
	struct stat st;
	fsnap_sha256(raw, len, ref->sha);
	ref->size = len;
	fsnap_path_chunk(r, ref->sha, path, sizeof path);
	/* Exists: touch it, so that a delete running now keeps it. */
	if (utimensat(AT_FDCWD, path, NULL, 0) == 0 && stat(path, &st) == 0) {
		ref->stored = (uint64_t)st.st_size;
		*is_new = 0;
		return 0;
	}
	if (errno != ENOENT) {
		chunk_rel(ref->sha, rel, sizeof rel);
		return ferry_err_set(err, FERRY_EIO, "cannot reach %s in "
			"repository %s: %s", rel, r->label, strerror(errno));
	}
	size_t bound = ZSTD_compressBound(len);
	fbuf_clear(tmp);
	if (fbuf_grow(tmp, bound))
		return ferry_err_set(err, FERRY_ENOMEM, "no memory to compress a "
				     "chunk of %zu bytes", len);
	ZSTD_CCtx_reset(zc, ZSTD_reset_session_only);
	size_t clen = ZSTD_compressCCtx(zc, tmp->p, bound, raw, len,
					r->zstd_level);
	if (ZSTD_isError(clen))
		return ferry_err_set(err, FERRY_EINTERNAL, "zstd: %s",
				     ZSTD_getErrorName(clen));
	fsnap_path_chunkdir(r, ref->sha, dir, sizeof dir);
	fsnap_hex(ref->sha, 32, hex);
	/* The file's content is synced before its name appears; the names
	 * are made durable together, by one fsync per chunks/xx directory
	 * before the manifest that uses them is written (commit in
	 * create.c): a dir fsync per chunk cost ~10 % of a 5 M snapshot. */
	int rc = fsnap_write_atomic(dir, hex, tmp->p, clen,
				    FSNAP_W_NODIRSYNC, err);
	if (rc == FERRY_ENOTFOUND) { /* chunks/xx removed by hand? */
		fsnap_mkdir(dir);
		rc = fsnap_write_atomic(dir, hex, tmp->p, clen,
					FSNAP_W_NODIRSYNC, err);
	}
	if (rc)
		return rc;
	ref->stored = clen;
	*is_new = 1;
	return 0;
}

int fsnap_chunk_load(const fsnap_repo *r, void *zd, fbuf *file,
		     const fsnap_chunk_ref *ref, fbuf *out, ferry_err *err)
{
	char path[FSNAP_PATH], rel[96];
	unsigned char sha[32];
	char got[65];
	chunk_rel(ref->sha, rel, sizeof rel);
	fsnap_path_chunk(r, ref->sha, path, sizeof path);
	fbuf_clear(out);
	size_t cap = ZSTD_compressBound((size_t)ref->size) + 4096;
	int rc = fsnap_read_file(path, cap, file, NULL);
	if (rc == FERRY_ENOTFOUND)
		return ferry_err_set(err, FERRY_ENOTFOUND, "%s is missing", rel);
	if (rc == FERRY_ELIMIT || (!rc && ref->stored &&
				   file->len != ref->stored))
		return ferry_err_set(err, FERRY_ECORRUPT, "%s is damaged: %zu bytes "
			"on disk, %llu expected", rel, file->len,
			(unsigned long long)ref->stored);
	if (rc)
		return ferry_err_set(err, rc, "cannot read %s: %s", rel,
				     strerror(errno));
	unsigned long long fsize = ZSTD_getFrameContentSize(file->p, file->len);
	if (fsize != ref->size)
		return ferry_err_set(err, FERRY_ECORRUPT, "%s is damaged: not a "
				     "zstd frame of %llu bytes", rel,
				     (unsigned long long)ref->size);
	if (fbuf_grow(out, (size_t)ref->size))
		return ferry_err_set(err, FERRY_ENOMEM, "no memory for %s", rel);
	size_t n = ZSTD_decompressDCtx(zd, out->p, (size_t)ref->size + 1,
				       file->p, file->len);
	if (ZSTD_isError(n) || n != ref->size)
		return ferry_err_set(err, FERRY_ECORRUPT, "%s is damaged: cannot "
			"decompress (%s)", rel, ZSTD_isError(n) ?
			ZSTD_getErrorName(n) : "wrong size");
	out->len = n;
	fsnap_sha256(out->p, n, sha);
	if (memcmp(sha, ref->sha, 32)) {
		fsnap_hex(sha, 12, got);
		return ferry_err_set(err, FERRY_ECORRUPT, "%s is damaged: its "
				     "content hashes to %s..., not to its name",
				     rel, got);
	}
	size_t off = 0;
	uint64_t recs = 0;
	fsnap_rec rec;
	while ((rc = fsnap_rec_next((unsigned char *)out->p, n, &off, &rec)) == 0)
		recs++;
	if (rc != FERRY_EOF || recs != ref->recs)
		return ferry_err_set(err, FERRY_ECORRUPT, "%s holds %s (%llu "
			"records, %llu expected)", rel, rc != FERRY_EOF ?
			"malformed records" : "a different record count",
			(unsigned long long)recs, (unsigned long long)ref->recs);
	return 0;
}
