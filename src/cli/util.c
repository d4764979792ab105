/*
 * util.c - helpers shared by the CLI's commands: dispatch, options,
 * opening the data directory, errors, and number formatting.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"

int cli_is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h") ||
	       !strcmp(arg, "help");
}

int cli_dispatch(const char *group, const cli_cmd *table, int argc,
		 char **argv)
{
	if (argc >= 1 && !cli_is_help(argv[0]))
		for (const cli_cmd *c = table; c->name; c++)
			if (!strcmp(c->name, argv[0]))
				return c->fn(argc, argv);
	FILE *out = argc >= 1 && cli_is_help(argv[0]) ? stdout : stderr;
	if (argc >= 1 && !cli_is_help(argv[0]))
		fprintf(stderr, "ferry: unknown command '%s%s%s'\n",
			group ? group : "", group ? " " : "", argv[0]);
	fprintf(out, "usage: ferry %s%s<command> [options]\n\ncommands:\n",
		group ? group : "[--data DIR]", " ");
	for (const cli_cmd *c = table; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out, "\nRun 'ferry %s%s<command> --help' for its options.\n",
		group ? group : "", group ? " " : "");
	return out == stdout ? 0 : EXIT_USAGE;
}

const char *cli_data_dir(void)
{
	const char *d = getenv("FERRY_DATA");
	return d && *d ? d : "./ferry-data";
}

int cli_exit_code(int code)
{
	switch (code) {
	case FERRY_OK: return 0;
	case FERRY_ENOTFOUND: return EXIT_NOTFOUND;
	case FERRY_EEXISTS: return EXIT_EXISTS;
	case FERRY_ENOTINIT: return EXIT_NOTINIT;
	case FERRY_ENAME: return EXIT_USAGE;
	default: return 1;
	}
}

int cli_fail(const ferry_err *err)
{
	fprintf(stderr, "ferry: error: %s\n",
		err->msg[0] ? err->msg : ferry_strerror(err->code));
	return cli_exit_code(err->code);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "ferry%s%s: ", *cmd ? " " : "", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun 'ferry%s%s --help' for usage.\n", *cmd ? " " : "",
		cmd);
	return EXIT_USAGE;
}

int cli_open(unsigned flags, ferry_db **out)
{
	ferry_err err = {0};
	int rc = ferry_db_open(cli_data_dir(), flags, out, &err);
	return rc ? cli_fail(&err) : 0;
}

int cli_opt_value(int argc, char **argv, int *i, const char *name,
		  const char **val)
{
	size_t n = strlen(name);
	const char *a = argv[*i];
	if (strncmp(a, name, n))
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n] != 0)
		return 0;
	if (*i + 1 >= argc) {
		*val = NULL; /* caller reports the missing value */
		return 1;
	}
	*val = argv[++*i];
	return 1;
}

char *cli_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	fbuf b;
	char chunk[65536];
	size_t n;
	if (!f)
		return NULL;
	fbuf_init(&b, max);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (fbuf_add(&b, chunk, n)) {
			errno = EFBIG;
			fbuf_release(&b);
			if (f != stdin)
				fclose(f);
			return NULL;
		}
	int bad = ferror(f);
	if (f != stdin)
		fclose(f);
	if (bad) {
		fbuf_release(&b);
		errno = EIO;
		return NULL;
	}
	return fbuf_detach(&b, len);
}

void cli_json_str(FILE *f, const char *s)
{
	fbuf b = FBUF_INIT;
	if (fbuf_add_jstr(&b, s, strlen(s)) == 0)
		fwrite(b.p, 1, b.len, f);
	fbuf_release(&b);
}

const char *cli_count(uint64_t n, char buf[32])
{
	char tmp[32];
	int len = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)n);
	int o = 0;
	for (int i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = 0;
	return buf;
}

const char *cli_bytes(uint64_t n, char buf[32])
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, 32, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
	return buf;
}
