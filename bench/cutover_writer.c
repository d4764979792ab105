/*
 * cutover_writer.c - a client that writes new documents through an alias
 * without pause while an upgrade runs, for bench/30-cutover.sh.
 *
 *   cutover_writer DATA_DIR STOP_FILE IDS_FILE [--index NAME]
 *                  [--ready FILE] [--lat FILE]
 *
 * Opens DATA_DIR (fsync per commit unless FERRY_SYNC=off) and, until
 * STOP_FILE exists, puts one new document after another through NAME
 * (default "default.profile"), each with ferry_doc_put (one committed
 * write transaction) under the ids w-000001, w-000002, ... Bodies have the
 * shape of a 0.7.1 cdp-gen profile (pii, stats, a string or integer age),
 * so the upgrade's ops all apply to them. Every call is timed with
 * CLOCK_MONOTONIC; a write counts as acknowledged when the call returned 0.
 *
 * --ready FILE   created after the first acknowledged write
 * --lat FILE     one line per write: "<ms since start> <latency ms> <rc>"
 *
 * At the end the ids of the acknowledged writes go to IDS_FILE, one a
 * line, and one line of key=value goes to stdout:
 *
 *   writes=N acked=N failed=N secs=S p50_ms=X p90_ms=X p99_ms=X
 *   p999_ms=X max_ms=X pause_ms=X
 *
 * Latencies are over all writes (failed ones too). pause_ms is the
 * longest time between two consecutive acknowledgements (or from the
 * start to the first one): how long a client saw no write go through.
 * The first failures are printed to stderr. Exit status 0, or 1 if it
 * could not start or no write was acknowledged.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ferry/ferry.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The q-quantile (0..1) of sorted v[0..n), nearest rank. */
static double quantile(const double *v, size_t n, double q)
{
	if (!n)
		return 0;
	size_t k = (size_t)(q * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static int body_for(char *buf, size_t cap, const char *id, unsigned long n)
{
	char t[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
	unsigned visits = (unsigned)(n % 7) + 1, views = (unsigned)(n % 23) + visits;
	char age[16];
	if (n % 3 == 0)
		snprintf(age, sizeof age, "\"%lu\"", 18 + n % 60);
	else
		snprintf(age, sizeof age, "%lu", 18 + n % 60);
	return snprintf(buf, cap,
		"{\"id\":\"%s\",\"metadata\":{\"time\":{\"insert\":\"%s\","
		"\"visit\":{\"current\":\"%s\",\"count\":%u}}},"
		"\"stats\":{\"visits\":%u,\"views\":%u},\"traits\":{},"
		"\"pii\":{\"name\":\"Live\",\"surname\":\"Writer\","
		"\"email\":\"w%06lu@live.example\"},"
		"\"segments\":[\"live\"],\"consents\":{},\"age\":%s}",
		id, t, t, visits, visits, views, n, age);
}

int main(int argc, char **argv)
{
	const char *index = "default.profile", *ready = NULL, *latf = NULL;
	if (argc < 4) {
		fprintf(stderr, "usage: cutover_writer DATA_DIR STOP_FILE IDS_FILE "
			"[--index NAME] [--ready FILE] [--lat FILE]\n");
		return 2;
	}
	for (int i = 4; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--index"))
			index = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--ready"))
			ready = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--lat"))
			latf = argv[++i];
		else {
			fprintf(stderr, "cutover_writer: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	const char *dir = argv[1], *stop = argv[2], *idsf = argv[3];
	ferry_db *db;
	ferry_err err = {0};
	if (ferry_db_open(dir, 0, &db, &err)) {
		fprintf(stderr, "cutover_writer: %s\n", err.msg);
		return 1;
	}
	FILE *lat = NULL;
	if (latf && !(lat = fopen(latf, "w"))) {
		perror(latf);
		return 1;
	}

	size_t cap = 1 << 16, n = 0;
	double *ms = malloc(cap * sizeof *ms);
	unsigned char *ok = malloc(cap);
	if (!ms || !ok) {
		fprintf(stderr, "cutover_writer: out of memory\n");
		return 1;
	}
	unsigned long acked = 0, failed = 0;
	double t0 = now_ms(), last_ack = t0, pause = 0;
	char id[32], body[1024];
	while (access(stop, F_OK) != 0) {
		if (n == cap) {
			cap *= 2;
			double *nm = realloc(ms, cap * sizeof *ms);
			unsigned char *no = nm ? realloc(ok, cap) : NULL;
			if (!nm || !no) {
				fprintf(stderr, "cutover_writer: out of memory\n");
				return 1;
			}
			ms = nm;
			ok = no;
		}
		unsigned long k = (unsigned long)n + 1;
		int idlen = snprintf(id, sizeof id, "w-%06lu", k);
		int blen = body_for(body, sizeof body, id, k);
		ferry_write_result res;
		double a = now_ms();
		int rc = ferry_doc_put(db, index, id, (size_t)idlen, body,
				       (size_t)blen, FERRY_OP_INDEX, &res, &err);
		double b = now_ms();
		ms[n] = b - a;
		ok[n] = rc == 0;
		if (lat)
			fprintf(lat, "%.3f %.3f %d\n", a - t0, b - a, rc);
		if (rc == 0) {
			acked++;
			if (b - last_ack > pause)
				pause = b - last_ack;
			last_ack = b;
			if (acked == 1 && ready) {
				FILE *f = fopen(ready, "w");
				if (f)
					fclose(f);
			}
		} else if (++failed <= 5) {
			fprintf(stderr, "cutover_writer: %s: %s (%s)\n", id, err.msg,
				ferry_strerror(rc));
		}
		n++;
	}
	double secs = (now_ms() - t0) / 1e3;

	FILE *ids = fopen(idsf, "w");
	if (!ids) {
		perror(idsf);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		if (ok[i])
			fprintf(ids, "w-%06lu\n", (unsigned long)i + 1);
	if (fclose(ids)) {
		perror(idsf);
		return 1;
	}
	if (lat)
		fclose(lat);
	ferry_db_close(db);

	qsort(ms, n, sizeof *ms, cmp_double);
	printf("writes=%zu acked=%lu failed=%lu secs=%.3f p50_ms=%.3f "
	       "p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f pause_ms=%.3f\n",
	       n, acked, failed, secs, quantile(ms, n, 0.50),
	       quantile(ms, n, 0.90), quantile(ms, n, 0.99),
	       quantile(ms, n, 0.999), n ? ms[n - 1] : 0.0, pause);
	free(ms);
	free(ok);
	return acked ? 0 : 1;
}
