/*
 * live_writer.c - a client that keeps writing through an alias while an
 * upgrade runs, for tests/cli/test_upgrade_live.sh.
 *
 *   live_writer DATA_DIR ALIAS LOG STOP_FILE [SEED]
 *
 * Loops until STOP_FILE exists: mostly puts of new documents, every 5th
 * operation an update of an earlier live document (a new "rev"), every
 * 9th a delete of an earlier live document. Each write is one
 * ferry_doc_put/ferry_doc_delete call, i.e. one committed transaction.
 * Only after the call returned 0 (the write is acknowledged) is a line
 * appended to LOG:
 *
 *   P <id> <rev> <where> <ms>     put acknowledged
 *   D <id> <where> <ms>           delete acknowledged
 *
 * <where> says which physical index the alias named around the write:
 * the alias is resolved just before and just after the call; both the
 * same gives that name, else "either" (the switch happened meanwhile).
 * Failed writes go to stderr as "E ..." lines and are counted; the last
 * stderr line is "writer: N ok, N failed".
 *
 * Ids are "<8 hex>-lw-<n>" with a scrambled prefix, so they fall all
 * over the id order of the index (ahead of and behind the copy cursor),
 * except the first EARLY ones: "0000000<n>-lw-<n>", first in id order,
 * which are neither updated nor deleted at random. As soon as the writer
 * sees the alias name another index than at its start (the switch), it
 * deletes them, in id order, at once: the upgrade's verify step reads
 * the first documents of an index right after the switch, so this checks
 * that it copes with deletes meanwhile.
 * Bodies have the 0.7.1 profile shape of examples/cdp: pii.name, a
 * string age, stats.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ferry/ferry.h"

#define EARLY 4

static uint32_t scramble(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void resolve(ferry_db *db, const char *alias, char *out)
{
	if (ferry_alias_resolve(db, alias, out, NULL))
		snprintf(out, FERRY_NAME_MAX + 1, "?");
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: live_writer DATA_DIR ALIAS LOG STOP_FILE "
			"[SEED]\n");
		return 2;
	}
	const char *dir = argv[1], *alias = argv[2], *stop = argv[4];
	uint32_t seed = argc > 5 ? (uint32_t)strtoul(argv[5], NULL, 10) : 1;
	FILE *log = fopen(argv[3], "w");
	ferry_db *db;
	ferry_err err = {0};
	if (!log) {
		perror(argv[3]);
		return 1;
	}
	if (ferry_db_open(dir, 0, &db, &err)) {
		fprintf(stderr, "live_writer: %s\n", err.msg);
		return 1;
	}
	/* ids of live documents written so far, and their revisions */
	size_t cap = 1 << 16, nlive = 0;
	char (*live)[40] = malloc(cap * sizeof *live);
	unsigned *rev = malloc(cap * sizeof *rev);
	if (!live || !rev)
		return 1;
	unsigned long ok = 0, failed = 0, next = 0;
	uint32_t rnd = seed;
	char first[FERRY_NAME_MAX + 1];
	int switched = 0;
	resolve(db, alias, first);
	for (unsigned long op = 0; access(stop, F_OK) != 0; op++) {
		char before[FERRY_NAME_MAX + 1], after[FERRY_NAME_MAX + 1];
		char body[512], id[40];
		size_t k = 0, e = nlive;
		int del = 0, rc;
		unsigned r = 1;
		rnd = scramble(rnd + (uint32_t)op);
		if (switched) /* the first early id still live, in id order */
			for (size_t i = 0; i < nlive; i++)
				if (!strncmp(live[i], "0000000", 7) &&
				    (e == nlive || strcmp(live[i], live[e]) < 0))
					e = i;
		k = nlive ? rnd % nlive : 0;
		if (e < nlive) {
			del = 1;
			k = e;
		} else if (nlive > 0 && op % 9 == 8 &&
			   strncmp(live[k], "0000000", 7)) {
			del = 1;
		} else if (nlive > 0 && op % 5 == 4 &&
			   strncmp(live[k], "0000000", 7)) {
			r = rev[k] + 1;
		} else {
			if (nlive == cap) {
				cap *= 2;
				live = realloc(live, cap * sizeof *live);
				rev = realloc(rev, cap * sizeof *rev);
				if (!live || !rev)
					return 1;
			}
			k = nlive;
			snprintf(live[k], sizeof live[k], "%08x-lw-%lu", next < EARLY ?
				 (uint32_t)next : scramble((uint32_t)next ^ seed *
							   0x9e3779b9U), next);
			next++;
		}
		snprintf(id, sizeof id, "%s", live[k]);
		snprintf(body, sizeof body, "{\"id\":\"%s\",\"rev\":%u,\"pii\":{"
			 "\"name\":\"LW\",\"email\":\"lw%u@example.com\"},\"age\":"
			 "\"41\",\"stats\":{\"visits\":3,\"views\":12},\"segments\":[]}",
			 id, r, r);
		resolve(db, alias, before);
		if (del)
			rc = ferry_doc_delete(db, alias, id, strlen(id), NULL, &err);
		else
			rc = ferry_doc_put(db, alias, id, strlen(id), body,
					   strlen(body), FERRY_OP_INDEX, NULL, &err);
		resolve(db, alias, after);
		if (strcmp(after, first))
			switched = 1;
		if (rc) {
			failed++;
			fprintf(stderr, "E %s %s: %s\n", del ? "delete" : "put", id,
				err.msg);
			continue;
		}
		ok++;
		const char *where = strcmp(before, after) ? "either" : before;
		if (del) {
			fprintf(log, "D %s %s %lld\n", id, where, now_ms());
			/* swap-remove */
			nlive--;
			memcpy(live[k], live[nlive], sizeof live[k]);
			rev[k] = rev[nlive];
		} else {
			fprintf(log, "P %s %u %s %lld\n", id, r, where, now_ms());
			rev[k] = r;
			if (k == nlive)
				nlive++;
		}
		fflush(log);
	}
	fclose(log);
	ferry_db_close(db);
	free(live);
	free(rev);
	fprintf(stderr, "writer: %lu ok, %lu failed\n", ok, failed);
	return failed ? 1 : 0;
}
