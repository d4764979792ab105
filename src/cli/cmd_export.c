/*
 * cmd_export.c - `ferry export INDEX`: every document in id order, as
 * NDJSON bodies or as _bulk pairs (which keep ids that are not in the
 * body), to stdout.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "core/buf.h"

static const char export_help[] =
"usage: ferry export INDEX [--format ndjson|bulk] [--after ID] [--quiet]\n\n"
"Writes INDEX's documents to stdout in id order.\n"
"  --format ndjson  one body per line (default)\n"
"  --format bulk    {\"index\":{\"_id\":ID}} before each body; `ferry import\n"
"                   --format bulk` reads it back with the same ids\n"
"  --after ID       resume after this id (the last one you got)\n";

int cmd_export(int argc, char **argv)
{
	const char *index = NULL, *after = NULL, *v;
	int bulk = 0, quiet = 0, rc;
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(export_help, stdout);
			return 0;
		} else if (cli_opt_value(argc, argv, &i, "--format", &v)) {
			if (!v || (strcmp(v, "ndjson") && strcmp(v, "bulk")))
				return cli_usage_error("export", "--format is ndjson or "
						       "bulk");
			bulk = !strcmp(v, "bulk");
		} else if (cli_opt_value(argc, argv, &i, "--after", &v)) {
			if (!(after = v))
				return cli_usage_error("export", "--after needs an id");
		} else if (!strcmp(argv[i], "--quiet")) {
			quiet = 1;
		} else if (argv[i][0] == '-' || index) {
			return cli_usage_error("export", "unexpected '%s'", argv[i]);
		} else {
			index = argv[i];
		}
	}
	if (!index)
		return cli_usage_error("export", "needs an INDEX");
	ferry_db *db;
	ferry_scan *s = NULL;
	ferry_err err = {0};
	ferry_index_info info;
	ferry_doc d;
	progress p;
	fbuf line = FBUF_INIT;
	static char obuf[1 << 20];
	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	if ((rc = cli_open(FERRY_OPEN_RDONLY, &db)))
		return rc;
	if ((rc = ferry_index_get(db, index, &info, &err)) ||
	    (rc = ferry_scan_open(db, index, after, after ? strlen(after) : 0,
				  &s, &err)))
		goto out;
	progress_init(&p, index, "docs", info.docs, quiet);
	uint64_t n = 0;
	while ((rc = ferry_scan_next(s, &d, &err)) == 0) {
		if (bulk) {
			fbuf_clear(&line);
			fbuf_adds(&line, "{\"index\":{\"_id\":");
			fbuf_add_jstr(&line, d.id, d.idlen);
			fbuf_adds(&line, "}}\n");
			fwrite(line.p, 1, line.len, stdout);
		}
		fwrite(d.body, 1, d.body_len, stdout);
		putchar('\n');
		if ((++n & 4095) == 0)
			progress_update(&p, n, n);
	}
	if (rc == FERRY_EOF) {
		rc = 0;
		progress_update(&p, n, n);
		progress_finish(&p);
	}
out:
	fflush(stdout);
	fbuf_release(&line);
	ferry_scan_free(s);
	ferry_db_close(db);
	return rc ? cli_fail(&err) : 0;
}
