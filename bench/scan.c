/*
 * scan.c - benchmark helper: one full ordered scan of an index through the
 * public API (ferry_scan_open / ferry_scan_next), the way a reindex or an
 * export reads. Prints "docs=N bytes=B check=C" on stdout; C folds one byte
 * from each end of every body, so the bodies are really read.
 *
 *   scan DATA_DIR [INDEX]      (INDEX defaults to "profile")
 *
 * Built by bench/run against build/libferry.a; exit status 0 on success,
 * 1 with a message on stderr otherwise.
 */
#include <inttypes.h>
#include <stdio.h>

#include "ferry/ferry.h"

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fputs("usage: scan DATA_DIR [INDEX]\n", stderr);
		return 2;
	}
	const char *dir = argv[1];
	const char *index = argc == 3 ? argv[2] : "profile";
	ferry_db *db = NULL;
	ferry_scan *s = NULL;
	ferry_err err = { 0, "" };
	ferry_doc doc;
	uint64_t docs = 0, bytes = 0, check = 0;

	int rc = ferry_db_open(dir, FERRY_OPEN_RDONLY, &db, &err);
	if (rc)
		goto out;
	rc = ferry_scan_open(db, index, NULL, 0, &s, &err);
	if (rc)
		goto out;
	while ((rc = ferry_scan_next(s, &doc, &err)) == FERRY_OK) {
		docs++;
		bytes += doc.body_len;
		if (doc.body_len)
			check += (unsigned char)doc.body[0] +
				 (unsigned char)doc.body[doc.body_len - 1];
	}
	if (rc == FERRY_EOF)
		rc = FERRY_OK;
out:
	if (rc)
		fprintf(stderr, "scan: %s: %s: %s\n", index, ferry_strerror(rc),
			err.msg[0] ? err.msg : "(no message)");
	else
		printf("docs=%" PRIu64 " bytes=%" PRIu64 " check=%" PRIu64 "\n",
		       docs, bytes, check);
	if (s)
		ferry_scan_free(s);
	ferry_db_close(db);
	return rc ? 1 : 0;
}
