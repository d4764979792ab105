/*
 * cmd_doc.c - `ferry doc put | get | delete`: single documents.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char doc_help[] =
"usage: ferry doc put INDEX [ID] [--create] [--body JSON]\n"
"       ferry doc get INDEX ID [--json]\n"
"       ferry doc delete INDEX ID\n\n"
"put reads the body from --body or stdin; without ID an id is generated.\n"
"--create fails (exit 4) if the id exists (Elasticsearch op_type=create).\n"
"get prints the body; --json prints {_index,_id,_seq_no,found,_source}.\n";

typedef struct doc_args {
	const char *index, *id, *body;
	int create, json;
} doc_args;

static int parse(int argc, char **argv, doc_args *a)
{
	const char *v;
	memset(a, 0, sizeof *a);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--create"))
			a->create = 1;
		else if (!strcmp(argv[i], "--json"))
			a->json = 1;
		else if (cli_opt_value(argc, argv, &i, "--body", &v)) {
			if (!(a->body = v))
				return cli_usage_error("doc", "--body needs JSON");
		} else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("doc", "unknown option '%s'", argv[i]);
		else if (!a->index)
			a->index = argv[i];
		else if (!a->id)
			a->id = argv[i];
		else if (!strcmp(argv[1], "put") && !a->body)
			return cli_usage_error("doc", "unexpected '%s' after the ID; "
				"a body goes in --body '%s' or on stdin", argv[i],
				argv[i]);
		else
			return cli_usage_error("doc", "unexpected '%s'", argv[i]);
	}
	if (!a->index)
		return cli_usage_error("doc", "%s needs an INDEX", argv[1]);
	return 0;
}

static int doc_put(ferry_db *db, const doc_args *a)
{
	ferry_err err = {0};
	ferry_write_result res;
	size_t len = 0;
	char *owned = NULL;
	const char *body = a->body;
	if (body) {
		len = strlen(body);
	} else if (!(owned = cli_read_file("-", FERRY_DOC_MAX + 1, &len))) {
		fprintf(stderr, "ferry: error: reading the body from stdin: %s\n",
			strerror(errno));
		return 1;
	} else {
		body = owned;
	}
	int rc = ferry_doc_put(db, a->index, a->id, a->id ? strlen(a->id) : 0,
			       body, len, a->create ? FERRY_OP_CREATE :
			       FERRY_OP_INDEX, &res, &err);
	free(owned);
	if (rc)
		return cli_fail(&err);
	printf("{\"_index\":");
	cli_json_str(stdout, a->index);
	printf(",\"_id\":");
	cli_json_str(stdout, res.id);
	printf(",\"_seq_no\":%llu,\"result\":\"%s\"}\n",
	       (unsigned long long)res.seq, res.created ? "created" :
	       res.noop ? "noop" : "updated");
	return 0;
}

static int doc_get(ferry_db *db, const doc_args *a)
{
	ferry_err err = {0};
	char *body;
	size_t len;
	uint64_t seq;
	int rc = ferry_doc_get(db, a->index, a->id, strlen(a->id), &body, &len,
			       &seq, &err);
	if (rc)
		return cli_fail(&err);
	if (a->json) {
		char phys[FERRY_NAME_MAX + 1];
		ferry_alias_resolve(db, a->index, phys, NULL);
		printf("{\"_index\":");
		cli_json_str(stdout, phys);
		printf(",\"_id\":");
		cli_json_str(stdout, a->id);
		printf(",\"_seq_no\":%llu,\"found\":true,\"_source\":",
		       (unsigned long long)seq);
	}
	fwrite(body, 1, len, stdout);
	fputs(a->json ? "}\n" : "\n", stdout);
	ferry_free(body);
	return 0;
}

static int doc_delete(ferry_db *db, const doc_args *a)
{
	ferry_err err = {0};
	ferry_write_result res;
	int rc = ferry_doc_delete(db, a->index, a->id, strlen(a->id), &res,
				  &err);
	if (rc)
		return cli_fail(&err);
	printf("{\"_id\":");
	cli_json_str(stdout, res.id);
	printf(",\"_seq_no\":%llu,\"result\":\"deleted\"}\n",
	       (unsigned long long)res.seq);
	return 0;
}

int cmd_doc(int argc, char **argv)
{
	doc_args a;
	ferry_db *db;
	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(doc_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	for (int i = 2; i < argc; i++)
		if (cli_is_help(argv[i])) {
			fputs(doc_help, stdout);
			return 0;
		}
	int (*fn)(ferry_db *, const doc_args *) =
		!strcmp(argv[1], "put") ? doc_put :
		!strcmp(argv[1], "get") ? doc_get :
		!strcmp(argv[1], "delete") ? doc_delete : NULL;
	if (!fn)
		return cli_usage_error("doc", "unknown command '%s'", argv[1]);
	int rc = parse(argc, argv, &a);
	if (rc)
		return rc;
	if (fn != doc_put && !a.id)
		return cli_usage_error("doc", "%s needs INDEX and ID", argv[1]);
	if ((rc = cli_open(0, &db)))
		return rc;
	rc = fn(db, &a);
	ferry_db_close(db);
	return rc;
}
