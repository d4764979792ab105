/*
 * lmdb_append.c - benchmark peer: the fastest any copy into LMDB can write
 * the same documents. It sorts the lines of an NDJSON file by their "id"
 * (untimed: an upgrade reads its source in id order), then, timed, appends
 * them to a fresh LMDB environment in one thread (LMDB has one writer) in
 * transactions of BATCH documents, committed with fdatasync as ferry's
 * default is (`nosync`, for FERRY_SYNC=off: MDB_NOSYNC):
 *
 *   bodies  one put per document: key a big-endian 8-byte sequence number,
 *           value the line, MDB_APPEND;
 *   ids     the same plus a second put per document into a second
 *           database, id -> 12 bytes, MDB_APPEND: the least a store that
 *           finds documents by id must write (ferry's docs and ids).
 *
 * No parsing, no transform, no change log, no checkpoints: a floor, not a
 * rival. cpu= is the user and system time the run took (LMDB copying
 * bodies into its pages, the kernel copying those into the page cache and
 * writing them back). An untimed first pass over up to 100 000
 * documents warms the process (fresh heap pages cost 12 us each on this
 * VM), so the floor is the fastest LMDB gets. Prints "MODE docs=N secs=S rate=R cpu=C" per mode.
 *
 *   lmdb_append FILE.ndjson TMPDIR [BATCH [nosync]]   (BATCH: 50000)
 *
 * Built by bench/run (bench_build_helper in bench/lib.sh).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct line {
	const char *p, *id;
	size_t len, idlen;
} line;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds (user + system) the process has used. */
static double cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static int by_id(const void *a, const void *b)
{
	const line *x = a, *y = b;
	size_t n = x->idlen < y->idlen ? x->idlen : y->idlen;
	int c = memcmp(x->id, y->id, n);
	return c ? c : (x->idlen > y->idlen) - (x->idlen < y->idlen);
}

/* The whole file in memory, *n bytes; NULL with a message on failure. */
static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf = NULL;
	if (!f || fstat(fileno(f), &st) || !(buf = malloc((size_t)st.st_size + 1)) ||
	    fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		fprintf(stderr, "lmdb_append: %s: %s\n", path, strerror(errno));
		free(buf);
		buf = NULL;
	} else {
		*n = (size_t)st.st_size;
		buf[*n] = 0;
	}
	if (f)
		fclose(f);
	return buf;
}

/* The lines of buf with their "id" string value; lines without one are
 * an error (the bench's data always has it). */
static line *split(char *buf, size_t n, size_t *count)
{
	size_t cap = 1 << 16, k = 0;
	line *v = malloc(cap * sizeof *v);
	for (char *p = buf, *end = buf + n; v && p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *e = nl ? nl : end;
		if (e > p) {
			char *id = memmem(p, (size_t)(e - p), "\"id\":\"", 6);
			char *q = id ? memchr(id + 6, '"', (size_t)(e - id - 6)) : NULL;
			if (!q) {
				fprintf(stderr, "lmdb_append: a line without \"id\"\n");
				free(v);
				return NULL;
			}
			if (k == cap) {
				line *nv = realloc(v, (cap *= 2) * sizeof *v);
				if (!nv) {
					free(v);
					return NULL;
				}
				v = nv;
			}
			v[k++] = (line){p, id + 6, (size_t)(e - p), (size_t)(q - id - 6)};
		}
		p = e + 1;
	}
	*count = k;
	return v;
}

static int check(int rc, const char *what)
{
	if (rc)
		fprintf(stderr, "lmdb_append: %s: %s\n", what, mdb_strerror(rc));
	return rc;
}

/* One timed run into a fresh environment under dir; ids: also the id put. */
static int run(const line *v, size_t n, const char *dir, size_t batch,
	       unsigned flags, int ids, double *secs)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi docs, idb;
	MDB_cursor *dc = NULL, *ic = NULL;
	unsigned char kb[8], vb[12];
	int rc;
	char path[4096];
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/lock.mdb", dir);
	unlink(path);
	if ((rc = check(mdb_env_create(&env), "env")) ||
	    (rc = check(mdb_env_set_mapsize(env, (size_t)64 << 30), "mapsize")) ||
	    (rc = check(mdb_env_set_maxdbs(env, 4), "maxdbs")) ||
	    (rc = check(mdb_env_open(env, dir, MDB_NOTLS | flags, 0644), dir)))
		goto out;
	double t0 = now();
	for (size_t i = 0; i < n;) {
		if ((rc = check(mdb_txn_begin(env, NULL, 0, &txn), "begin")) ||
		    (rc = check(mdb_dbi_open(txn, "docs", MDB_CREATE, &docs), "docs")) ||
		    (rc = check(mdb_dbi_open(txn, "ids", MDB_CREATE, &idb), "ids")) ||
		    (rc = check(mdb_cursor_open(txn, docs, &dc), "cursor")) ||
		    (ids && (rc = check(mdb_cursor_open(txn, idb, &ic), "cursor"))))
			goto out;
		for (size_t end = i + batch < n ? i + batch : n; i < end; i++) {
			MDB_val k = {8, kb}, d = {v[i].len, (void *)v[i].p};
			for (int b = 0; b < 8; b++)
				kb[b] = (unsigned char)((uint64_t)(i + 1) >> (56 - 8 * b));
			if ((rc = check(mdb_cursor_put(dc, &k, &d, MDB_APPEND), "put")))
				goto out;
			if (!ids)
				continue;
			MDB_val ik = {v[i].idlen, (void *)v[i].id}, iv = {12, vb};
			memcpy(vb, kb, 8);
			memset(vb + 8, 0, 4);
			if ((rc = check(mdb_cursor_put(ic, &ik, &iv, MDB_APPEND), "id put")))
				goto out;
		}
		rc = check(mdb_txn_commit(txn), "commit");
		txn = NULL;
		dc = ic = NULL;
		if (rc)
			goto out;
	}
	*secs = now() - t0;
out:
	if (txn)
		mdb_txn_abort(txn);
	if (env)
		mdb_env_close(env);
	return rc;
}

int main(int argc, char **argv)
{
	size_t n = 0, count = 0, batch = 50000;
	unsigned flags = 0;
	if (argc < 3 || argc > 5) {
		fputs("usage: lmdb_append FILE.ndjson TMPDIR [BATCH [nosync]]\n",
		      stderr);
		return 2;
	}
	if (argc >= 4 && !(batch = strtoul(argv[3], NULL, 10))) {
		fputs("lmdb_append: BATCH must be a positive number\n", stderr);
		return 2;
	}
	if (argc == 5 && strcmp(argv[4], "nosync")) {
		fprintf(stderr, "lmdb_append: '%s': the last argument can only "
			"be nosync\n", argv[4]);
		return 2;
	}
	if (argc == 5)
		flags = MDB_NOSYNC;
	char *buf = slurp(argv[1], &n);
	line *v = buf ? split(buf, n, &count) : NULL;
	int rc = 1;
	if (!v)
		goto out;
	qsort(v, count, sizeof *v, by_id);
	double warm;
	if (run(v, count < 100000 ? count : 100000, argv[2], batch, flags, 1,
		&warm))
		goto out;
	for (int ids = 0; ids <= 1; ids++) {
		double secs = 0, c0 = cpu();
		if (run(v, count, argv[2], batch, flags, ids, &secs))
			goto out;
		printf("%s docs=%zu secs=%.3f rate=%.0f cpu=%.3f\n",
		       ids ? "ids" : "bodies", count, secs,
		       secs > 0 ? (double)count / secs : 0.0, cpu() - c0);
	}
	rc = 0;
out:
	free(v);
	free(buf);
	return rc;
}
