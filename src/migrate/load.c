/*
 * load.c - the migration set: reading the directory (sorted, so errors
 * and results do not depend on readdir order), reading files under a size
 * cap, checksums that survive a re-save (CRLF -> LF, trailing whitespace
 * dropped), ordering the hops and refusing two files for one hop. The
 * validation of each file's content is spec.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/err.h"
#include "migrate/internal.h"

/* ------------------------------------------------------------------ */
/* Files and checksums                                                 */

static int fmig_read_fd(int fd, const char *path, size_t max, fbuf *out,
			ferry_err *err)
{
	char chunk[65536];
	for (;;) {
		ssize_t got = read(fd, chunk, sizeof chunk);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return ferry_err_set(err, FERRY_EIO, "%s: cannot read: "
					     "%s", path, strerror(errno));
		if (got == 0)
			return 0;
		if (out->len + (size_t)got > max)
			return ferry_err_set(err, FERRY_ELIMIT, "%s: more than "
					     "%zu bytes; a migration file may "
					     "have at most %zu", path, max,
					     max);
		if (fbuf_add(out, chunk, (size_t)got))
			return ferry_err_set(err, FERRY_ENOMEM, NULL);
	}
}

int fmig_read_file(const char *path, size_t max, fbuf *out, ferry_err *err)
{
	struct stat st;
	int rc, fd = open(path, O_RDONLY | O_CLOEXEC);
	fbuf_clear(out);
	if (fd < 0)
		return ferry_err_set(err, errno == ENOENT ? FERRY_ENOTFOUND :
				     FERRY_EIO, "%s: cannot open: %s", path,
				     strerror(errno));
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		rc = ferry_err_set(err, FERRY_EIO, "%s: not a regular file",
				   path);
	} else if (st.st_size > 0 && (size_t)st.st_size > max) {
		rc = ferry_err_set(err, FERRY_ELIMIT, "%s: %lld bytes; a "
				   "migration file may have at most %zu", path,
				   (long long)st.st_size, max);
	} else {
		rc = fmig_read_fd(fd, path, max, out, err);
	}
	close(fd);
	return rc;
}

static int fmig_is_trailing_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* Feeds s[0..n) with every "\r\n" turned into "\n". */
static int fmig_digest_lf(EVP_MD_CTX *ctx, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		const char *cr = memchr(s + i, '\r', n - i);
		size_t stop = cr ? (size_t)(cr - s) : n;
		if (stop > i && !EVP_DigestUpdate(ctx, s + i, stop - i))
			return -1;
		if (!cr)
			break;
		if (stop + 1 < n && s[stop + 1] == '\n') {
			i = stop + 1; /* drop the '\r' */
		} else {
			if (!EVP_DigestUpdate(ctx, "\r", 1))
				return -1;
			i = stop + 1;
		}
	}
	return 0;
}

int fmig_checksum(const char *text, size_t n, char out[FMIG_CHECKSUM_HEX])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int rc = FERRY_ENOMEM;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	while (n && fmig_is_trailing_ws(text[n - 1]))
		n--;
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
	    fmig_digest_lf(ctx, text, n) ||
	    !EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 32)
		goto out;
	for (unsigned i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = 0;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The set                                                             */

int fmig_set_new(const char *dir, fmig_set **out, ferry_err *err)
{
	fmig_set *s = calloc(1, sizeof *s);
	if (!dir || !*dir)
		dir = ".";
	size_t len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (!s || !(s->a = json_arena_new()) || !(s->dir = strndup(dir, len))) {
		fmig_set_free(s);
		return ferry_err_set(err, FERRY_ENOMEM, NULL);
	}
	*out = s;
	return 0;
}

void fmig_set_free(fmig_set *s)
{
	if (!s)
		return;
	json_arena_free(s->a);
	free(s->hops);
	free(s->dir);
	free(s);
}

int fmig_set_add(fmig_set *s, const char *fname, const char *text, size_t n,
		 ferry_err *err)
{
	fmig_hop *h = NULL;
	if (!s || !fname || (!text && n) || s->finished)
		return ferry_err_set(err, FERRY_EINVAL, "fmig_set_add: bad "
				     "arguments or set already finished");
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		fmig_hop **p = realloc(s->hops, cap * sizeof *p);
		if (!p)
			return ferry_err_set(err, FERRY_ENOMEM, NULL);
		s->hops = p;
		s->cap = cap;
	}
	int rc = fmig_hop_parse(s, fname, text ? text : "", n, &h, err);
	if (rc)
		return rc;
	s->hops[s->n++] = h;
	return 0;
}

static int fmig_hop_order(const void *pa, const void *pb)
{
	const fmig_hop *a = *(fmig_hop *const *)pa, *b = *(fmig_hop *const *)pb;
	int c = fversion_cmp(&a->vfrom, &b->vfrom);
	if (!c)
		c = fversion_cmp(&a->vto, &b->vto);
	return c ? c : strcmp(a->info.path, b->info.path);
}

int fmig_set_finish(fmig_set *s, ferry_err *err)
{
	if (!s || s->finished)
		return ferry_err_set(err, FERRY_EINVAL, "fmig_set_finish: "
				     "set missing or already finished");
	if (s->n)
		qsort(s->hops, s->n, sizeof *s->hops, fmig_hop_order);
	for (size_t i = 1; i < s->n; i++) {
		const fmig_hop *a = s->hops[i - 1], *b = s->hops[i];
		if (!fversion_cmp(&a->vfrom, &b->vfrom) &&
		    !fversion_cmp(&a->vto, &b->vto))
			return ferry_err_set(err, FERRY_EEXISTS, "two files "
					     "for the hop %s->%s: %s and %s; "
					     "keep one", a->info.from,
					     a->info.to, a->info.path,
					     b->info.path);
	}
	s->finished = 1;
	return 0;
}

size_t fmig_set_count(const fmig_set *s) { return s ? s->n : 0; }

const fmig_hop_info *fmig_set_hop(const fmig_set *s, size_t i)
{
	return s && i < s->n ? &s->hops[i]->info : NULL;
}

/* ------------------------------------------------------------------ */
/* The directory                                                       */

static int fmig_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 1 if directory entry `name` is a candidate hop file. */
static int fmig_wanted(const char *dir, const char *name)
{
	size_t len = strlen(name);
	struct stat st;
	char path[4096];
	if (name[0] == '.' || len < 5 || strcmp(name + len - 5, ".json"))
		return 0;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &st) != 0 || !S_ISDIR(st.st_mode);
}

/* The sorted names of the candidate files of dir, NULL-terminated. */
static int fmig_list(const char *dir, char ***out, size_t *n, ferry_err *err)
{
	DIR *d = opendir(dir);
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *e;
	if (!d) {
		int oe = errno;
		return ferry_err_set(err, oe == ENOENT ? FERRY_ENOTFOUND : FERRY_EIO,
			"migrations directory '%s': %s%s", dir, strerror(oe),
			oe == ENOENT ? "; set FERRY_MIGRATIONS (or pass --migrations "
			"DIR) to the directory of the {from}_to_{to}.json files" :
			"");
	}
	while ((e = readdir(d))) {
		if (!fmig_wanted(dir, e->d_name))
			continue;
		if (cnt + 1 >= cap) {
			char **p = realloc(v, (cap = cap ? 2 * cap : 16) *
						      sizeof *v);
			if (!p)
				goto nomem;
			v = p;
		}
		if (!(v[cnt] = strdup(e->d_name)))
			goto nomem;
		v[++cnt] = NULL;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof *v, fmig_name_cmp);
	*out = v;
	*n = cnt;
	return 0;
nomem:
	closedir(d);
	for (size_t i = 0; i < cnt; i++)
		free(v[i]);
	free(v);
	return ferry_err_set(err, FERRY_ENOMEM, NULL);
}

int fmig_dir_load(const char *dir, fmig_set **out, ferry_err *err)
{
	fmig_set *s = NULL;
	char **names = NULL, path[4096];
	size_t n = 0;
	fbuf b = FBUF_INIT;
	int rc;
	if ((rc = fmig_set_new(dir, &s, err)) ||
	    (rc = fmig_list(s->dir, &names, &n, err)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", s->dir, names[i]);
		if ((rc = fmig_read_file(path, FMIG_FILE_MAX, &b, err)) ||
		    (rc = fmig_set_add(s, names[i], b.p, b.len, err)))
			goto out;
	}
	if ((rc = fmig_set_finish(s, err)))
		goto out;
	*out = s;
	s = NULL;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	fbuf_release(&b);
	fmig_set_free(s);
	return rc;
}
