/*
 * cmd_import.c - `ferry import INDEX FILE`: NDJSON (one document per
 * line, id from a field) or Elasticsearch _bulk pairs, into an index.
 *
 * Two threads keep both cores busy: this one reads lines and prepares
 * (validates) batch k+1 while a committer thread writes batch k. A batch
 * with a bad line is never committed: the import stops before it (or,
 * with --skip-bad, leaves out the bad lines), and says which line and
 * byte, and what was already written.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/lines.h"
#include "cli/progress.h"
#include "core/buf.h"
#include "json/json.h"

static const char import_help[] =
"usage: ferry import INDEX FILE [--format ndjson|bulk] [--id-field NAME]\n"
"                    [--batch N] [--skip-bad] [--quiet] [--json]\n\n"
"Loads documents into INDEX (created if missing). FILE is a path or '-'.\n"
"  --format ndjson  one JSON object per line (default); the id is taken\n"
"                   from --id-field (default \"id\"), else generated\n"
"  --format bulk    Elasticsearch _bulk pairs: {\"index\":{\"_id\":..}} then\n"
"                   the document; create and delete actions too\n"
"  --batch N        documents per transaction (default: 50000, or fewer\n"
"                   so that a batch holds at most 24 MiB of input; the\n"
"                   first two default batches are 1/4 and 1/2 of that)\n"
"  --skip-bad       leave out invalid lines (listed) instead of stopping\n"
"Each committed batch is durable; re-running with ids from the data is\n"
"idempotent: the same documents are replaced, not doubled.\n";

/* Default batches: 50 000 documents or 24 MiB of input, whichever comes
 * first. They were 200 000 when every commit rewrote most leaves of the
 * random-id tree; since recent ids go to runs it does not, and smaller
 * batches keep the working set (bulk buffers, LMDB's dirty pages) small:
 * 1 M profiles with fsync took 2.5 s in batches of 50 000 against 3.1 s in
 * batches of 200 000, with 46 k page faults instead of 119 k
 * (docs/benchmarks.md, session 9). The byte cap keeps memory flat for large
 * documents: two batches are in memory at once. The committer idles until
 * the first batch is prepared, so the first two are 1/4 and 1/2 the size. */
#define IMPORT_BATCH_DOCS 50000
#define IMPORT_BATCH_BYTES ((size_t)24 << 20)
#define IMPORT_RAMP 2

typedef struct batch {
	ferry_bulk *b;
	uint64_t *line; /* input line of each op */
	size_t cap;
	uint64_t end_bytes; /* input consumed when the batch was cut */
	size_t in_bytes;    /* document bytes added to this batch */
} batch;

typedef struct import_job {
	ferry_db *db;
	const char *index, *file;
	int bulk_format, skip_bad, quiet, json;
	size_t batch_docs, batch_bytes; /* a batch is cut at either limit */
	unsigned ramp; /* the next batch is cut at the limits >> ramp */
	batch slots[2];
	/* hand-off to the committer thread */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	batch *pending;
	int free_mask, finished, failed;
	ferry_err commit_err;
	uint64_t written, rejected, op_failed, bytes_done;
	progress prog;
} import_job;

static int batch_add_line(batch *bt, uint64_t lineno)
{
	size_t n = ferry_bulk_count(bt->b);
	if (n >= bt->cap) {
		size_t cap = bt->cap ? bt->cap * 2 : 4096;
		uint64_t *nl = realloc(bt->line, cap * sizeof *nl);
		if (!nl)
			return FERRY_ENOMEM;
		bt->line = nl;
		bt->cap = cap;
	}
	bt->line[n - 1] = lineno;
	return 0;
}

static void set_line_err(ferry_err *err, const char *file, uint64_t line,
			 const char *msg)
{
	err->code = FERRY_EJSON;
	snprintf(err->msg, sizeof err->msg, "%s line %llu: %s", file,
		 (unsigned long long)line, msg);
}

/* Parses an action line of the _bulk format. */
static int parse_action(const char *s, size_t n, json_arena *a, int *op,
			const char **index, const char **id, size_t *idlen,
			char *errbuf, size_t errn)
{
	json_value *root, *meta = NULL;
	json_error je;
	if (json_parse(a, s, n, &root, &je)) {
		snprintf(errbuf, errn, "invalid JSON at byte %zu: %s", je.offset,
			 je.msg);
		return -1;
	}
	static const char *const names[] = {"index", "create", "delete"};
	for (int i = 0; i < 3 && root->type == JSON_OBJECT; i++)
		if ((meta = json_get(root, names[i], strlen(names[i])))) {
			*op = i; /* matches enum ferry_op order */
			break;
		}
	if (!meta || meta->type != JSON_OBJECT || root->u.obj.n != 1) {
		snprintf(errbuf, errn, "expected an action line like "
			 "{\"index\":{\"_id\":\"1\"}} (index, create or delete)");
		return -1;
	}
	json_value *ix = json_get(meta, "_index", 6), *i = json_get(meta, "_id", 3);
	*index = ix && ix->type == JSON_STRING ? ix->u.str.s : NULL;
	*id = NULL;
	*idlen = 0;
	if (i && i->type == JSON_STRING) {
		*id = i->u.str.s;
		*idlen = i->u.str.len;
	}
	if (*op == FERRY_OP_DELETE && !*id) {
		snprintf(errbuf, errn, "a delete action needs an _id");
		return -1;
	}
	return 0;
}

static void *committer(void *arg)
{
	import_job *j = arg;
	pthread_setname_np(pthread_self(), "ferry-commit");
	pthread_mutex_lock(&j->mu);
	for (;;) {
		while (!j->pending && !j->finished)
			pthread_cond_wait(&j->cv, &j->mu);
		if (!j->pending)
			break;
		batch *bt = j->pending;
		j->pending = NULL;
		pthread_cond_broadcast(&j->cv);
		pthread_mutex_unlock(&j->mu);
		ferry_err err = {0}, oe;
		int skip = j->failed; /* after a failure nothing more is written */
		int rc = skip ? 0 : ferry_bulk_commit(bt->b, &err);
		size_t n = ferry_bulk_count(bt->b);
		uint64_t ok = 0, bad = 0;
		if (!rc && !skip && !ferry_bulk_failed(bt->b))
			ok = n, n = 0; /* all written: no result to look at */
		for (size_t i = 0; !rc && !skip && i < n; i++) {
			int orc = ferry_bulk_result(bt->b, i, NULL, &oe);
			if (!orc)
				ok++;
			else if (orc != FERRY_EJSON && orc != FERRY_ENAME &&
				 orc != FERRY_ELIMIT && bad++ < 5) /* not --skip-bad */
				fprintf(stderr, "ferry: %s line %llu: %s\n", j->file,
					(unsigned long long)bt->line[i], oe.msg);
		}
		pthread_mutex_lock(&j->mu);
		if (rc && !j->failed) {
			j->failed = 1;
			j->commit_err = err;
		}
		j->written += ok;
		j->op_failed += bad;
		if (!rc)
			j->bytes_done = bt->end_bytes;
		progress_update(&j->prog, j->bytes_done, j->written);
		ferry_bulk_clear(bt->b);
		bt->in_bytes = 0;
		j->free_mask |= 1 << (int)(bt - j->slots);
		pthread_cond_broadcast(&j->cv);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* Waits for a free batch slot. NULL if the committer failed. */
static batch *take_free(import_job *j)
{
	batch *bt = NULL;
	pthread_mutex_lock(&j->mu);
	while (!j->free_mask && !j->failed)
		pthread_cond_wait(&j->cv, &j->mu);
	if (!j->failed) {
		int k = j->free_mask & 1 ? 0 : 1;
		j->free_mask &= ~(1 << k);
		bt = &j->slots[k];
	}
	pthread_mutex_unlock(&j->mu);
	return bt;
}

static void hand_over(import_job *j, batch *bt)
{
	pthread_mutex_lock(&j->mu);
	while (j->pending && !j->failed)
		pthread_cond_wait(&j->cv, &j->mu);
	j->pending = bt;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

/* Prepares a batch and checks its per-op errors. Returns 0 to commit it,
 * or 1 when the import must stop (bad line, not --skip-bad). */
static int check_batch(import_job *j, batch *bt, ferry_err *first)
{
	ferry_err e;
	size_t n = ferry_bulk_count(bt->b);
	if (ferry_bulk_prepare(bt->b, first))
		return 1;
	if (!ferry_bulk_failed(bt->b))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!ferry_bulk_result(bt->b, i, NULL, &e) ||
		    (e.code != FERRY_EJSON && e.code != FERRY_ENAME &&
		     e.code != FERRY_ELIMIT))
			continue;
		if (!j->skip_bad) {
			first->code = e.code;
			snprintf(first->msg, sizeof first->msg, "%s line %llu: %.400s",
				 j->file, (unsigned long long)bt->line[i], e.msg);
			return 1;
		}
		if (j->rejected++ < 20)
			fprintf(stderr, "ferry: skipped %s line %llu: %s\n", j->file,
				(unsigned long long)bt->line[i], e.msg);
	}
	return 0;
}

static int read_all(import_job *j, lines *in, ferry_err *err)
{
	json_arena *a = json_arena_new();
	batch *bt = take_free(j);
	const char *line, *index = NULL, *id = NULL;
	size_t len, idlen = 0;
	int rc = 0, op = FERRY_OP_INDEX, want_body = 0;
	char ebuf[256];
	while (bt && a && (rc = lines_next(in, &line, &len)) == 1) {
		if (len == 0 || (len == 1 && line[0] == ' '))
			continue;
		if (j->bulk_format && !want_body) {
			json_arena_reset(a);
			if (parse_action(line, len, a, &op, &index, &id, &idlen,
					 ebuf, sizeof ebuf)) {
				set_line_err(err, j->file, in->lineno, ebuf);
				goto stop;
			}
			want_body = op != FERRY_OP_DELETE;
			if (want_body)
				continue;
			line = NULL;
			len = 0;
		}
		want_body = 0;
		if (ferry_bulk_add(bt->b, (enum ferry_op)op,
				   index ? index : j->index, id, idlen, line, len) ||
		    batch_add_line(bt, in->lineno)) {
			err->code = FERRY_ENOMEM;
			snprintf(err->msg, sizeof err->msg, "out of memory");
			goto stop;
		}
		index = id = NULL;
		idlen = 0;
		op = FERRY_OP_INDEX;
		bt->in_bytes += len;
		if (ferry_bulk_count(bt->b) >= j->batch_docs >> j->ramp ||
		    bt->in_bytes >= j->batch_bytes >> j->ramp) {
			bt->end_bytes = in->consumed;
			if (check_batch(j, bt, err))
				goto stop;
			hand_over(j, bt);
			bt = take_free(j);
			j->ramp -= j->ramp > 0;
		}
	}
	if (rc < 0) {
		err->code = FERRY_EIO;
		snprintf(err->msg, sizeof err->msg, "%s line %llu: %s", j->file,
			 (unsigned long long)in->lineno + 1, errno == EFBIG ?
			 "line is longer than the document limit" : strerror(errno));
		goto stop;
	}
	if (want_body) {
		set_line_err(err, j->file, in->lineno,
				   "the last action line has no document line");
		goto stop;
	}
	if (bt && ferry_bulk_count(bt->b)) {
		bt->end_bytes = in->consumed;
		if (check_batch(j, bt, err))
			goto stop;
		hand_over(j, bt);
	}
	json_arena_free(a);
	return 0;
stop:
	if (bt) {
		ferry_bulk_clear(bt->b);
		pthread_mutex_lock(&j->mu);
		j->free_mask |= 1 << (int)(bt - j->slots);
		pthread_mutex_unlock(&j->mu);
	}
	json_arena_free(a);
	return 1;
}

static int ensure_index(ferry_db *db, const char *index, int quiet)
{
	ferry_index_info info;
	ferry_err err = {0};
	int rc = ferry_index_get(db, index, &info, &err);
	if (rc == FERRY_ENOTFOUND) {
		memset(&err, 0, sizeof err);
		rc = ferry_index_create(db, index, NULL, 0, &err);
		if (rc == FERRY_EEXISTS) /* another process just created it */
			return 0;
		if (rc)
			return cli_fail(&err);
		if (!quiet)
			fprintf(stderr, "created index %s\n", index);
		return 0;
	}
	return rc ? cli_fail(&err) : 0;
}

static int parse_args(int argc, char **argv, import_job *j,
		      const char **id_field)
{
	const char *v;
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(import_help, stdout);
			return -1;
		} else if (cli_opt_value(argc, argv, &i, "--format", &v)) {
			if (!v || (strcmp(v, "ndjson") && strcmp(v, "bulk")))
				return cli_usage_error("import", "--format is ndjson or "
						       "bulk");
			j->bulk_format = !strcmp(v, "bulk");
		} else if (cli_opt_value(argc, argv, &i, "--id-field", &v)) {
			if (!(*id_field = v))
				return cli_usage_error("import", "--id-field needs a name");
		} else if (cli_opt_value(argc, argv, &i, "--batch", &v)) {
			char *end;
			long n = v ? strtol(v, &end, 10) : 0;
			if (!v || *end || n < 1 || n > 10000000)
				return cli_usage_error("import", "--batch must be 1 to "
						       "10000000");
			j->batch_docs = (size_t)n;
			j->batch_bytes = SIZE_MAX;
			j->ramp = 0;
		} else if (!strcmp(argv[i], "--skip-bad")) {
			j->skip_bad = 1;
		} else if (!strcmp(argv[i], "--quiet")) {
			j->quiet = 1;
		} else if (!strcmp(argv[i], "--json")) {
			j->json = 1;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage_error("import", "unknown option '%s'", argv[i]);
		} else if (!j->index) {
			j->index = argv[i];
		} else if (!j->file) {
			j->file = argv[i];
		} else {
			return cli_usage_error("import", "unexpected '%s'", argv[i]);
		}
	}
	if (!j->index || !j->file)
		return cli_usage_error("import", "needs INDEX and FILE");
	return 0;
}

static void report(import_job *j, int stopped, const ferry_err *err)
{
	if (!stopped)
		progress_finish(&j->prog);
	if (j->json) {
		printf("{\"index\":");
		cli_json_str(stdout, j->index);
		printf(",\"written\":%llu,\"failed_ops\":%llu,\"skipped\":%llu,"
		       "\"seconds\":%.3f,\"complete\":%s}\n",
		       (unsigned long long)j->written,
		       (unsigned long long)j->op_failed,
		       (unsigned long long)j->rejected,
		       progress_now() - j->prog.start, stopped ? "false" : "true");
	}
	if (j->op_failed)
		fprintf(stderr, "ferry: %llu operations were refused (the first "
			"ones are listed above)\n",
			(unsigned long long)j->op_failed);
	if (j->rejected)
		fprintf(stderr, "ferry: %llu invalid lines were skipped\n",
			(unsigned long long)j->rejected);
	if (stopped) {
		fprintf(stderr, "ferry: error: %s\n", err->msg);
		fprintf(stderr, "ferry: %llu documents before that batch were "
			"written; nothing from the failing batch was. Fix the input "
			"and run again (or pass --skip-bad).\n",
			(unsigned long long)j->written);
	}
}

static int run(import_job *j, lines *in)
{
	pthread_t th;
	ferry_err err = {0};
	int stopped;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	j->free_mask = 3;
	if (pthread_create(&th, NULL, committer, j)) {
		fprintf(stderr, "ferry: error: cannot start a thread\n");
		return 1;
	}
	stopped = read_all(j, in, &err);
	pthread_mutex_lock(&j->mu);
	j->finished = 1;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	pthread_join(th, NULL);
	if (j->failed) {
		stopped = 1;
		err = j->commit_err;
	}
	report(j, stopped, &err);
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	if (!stopped)
		return 0;
	/* bad input lines are a failed import (1), not a usage error */
	int code = cli_exit_code(err.code);
	return code == EXIT_USAGE || code == 0 ? 1 : code;
}

int cmd_import(int argc, char **argv)
{
	import_job j;
	const char *id_field = "id";
	lines in;
	struct stat st;
	memset(&j, 0, sizeof j);
	j.batch_docs = IMPORT_BATCH_DOCS;
	j.batch_bytes = IMPORT_BATCH_BYTES;
	j.ramp = IMPORT_RAMP;
	int rc = parse_args(argc, argv, &j, &id_field);
	if (rc)
		return rc < 0 ? 0 : rc;
	if ((rc = lines_open(&in, j.file, FERRY_DOC_MAX))) {
		fprintf(stderr, "ferry: error: cannot open '%s': %s\n", j.file,
			strerror(rc));
		return 1;
	}
	if ((rc = cli_open(0, &j.db)) ||
	    (rc = ensure_index(j.db, j.index, j.quiet)))
		goto out;
	for (int k = 0; k < 2; k++) {
		if (ferry_bulk_new(j.db, &j.slots[k].b)) {
			rc = 1;
			goto out;
		}
		ferry_bulk_set_id_field(j.slots[k].b, j.bulk_format ? NULL :
					id_field);
	}
	uint64_t total = in.fd > 0 && fstat(in.fd, &st) == 0 &&
			 S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	progress_init(&j.prog, j.index, "docs", total, j.quiet);
	rc = run(&j, &in);
out:
	for (int k = 0; k < 2; k++) {
		ferry_bulk_free(j.slots[k].b);
		free(j.slots[k].line);
	}
	ferry_db_close(j.db);
	lines_close(&in);
	return rc;
}
