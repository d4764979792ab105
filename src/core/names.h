/*
 * names.h - the names users give and see: tenant and logical index names,
 * aliases ("acme.profile"), physical index names ("v0_8_1.acme.profile"),
 * Elasticsearch's own index-name rules, document ids, and ES-style index
 * patterns ("v0_8_*,-v0_8_1.*"). Everything that accepts a name from
 * outside checks it here, so the rules and messages are the same in the
 * library, the CLI and the server (DESIGN.md "Names").
 */
#ifndef FERRY_NAMES_H
#define FERRY_NAMES_H

#include <stddef.h>

#include "ferry/ferry.h"

/* Checks a tenant or logical index name: [a-z0-9][a-z0-9_-]{0,62}.
 * `what` ("tenant" or "index", NULL for "name") is used in the message.
 * Returns 0 or FERRY_ENAME with a message naming the bad character and its
 * 1-based position, or the length. */
/* The one index name outside the rule: an upgrade run with --skip-bad
 * puts documents its transform refused into v{version}.{tenant}._failed. */
#define FNAME_FAILED "_failed"
#define FNAME_FAILED_LEN 7

int fname_check_part(const char *s, const char *what, ferry_err *err);

/* Checks a name against Elasticsearch's index-name rules: 1..255 bytes of
 * valid UTF-8, no uppercase ASCII, none of \ / * ? " < > | , # : space or
 * a control character, not starting with '-', '_' or '+', not "." or
 * "..". Returns 0 or FERRY_ENAME. */
int fname_check_physical(const char *s, ferry_err *err);

/* Checks a document id of `len` bytes: 1..FERRY_ID_MAX bytes of valid
 * UTF-8 (no overlong forms, surrogates or code points above U+10FFFF) and
 * no NUL byte. Returns 0 or FERRY_ENAME. */
int fname_check_id(const char *id, size_t len, ferry_err *err);

enum fname_kind {
	FNAME_LOGICAL,  /* "profile": one part */
	FNAME_ALIAS,    /* "acme.profile": tenant.index */
	FNAME_PHYSICAL, /* "v0_8_1.acme.profile": vtoken.tenant.index */
	FNAME_OTHER     /* a valid ES index name that is none of these,
			   e.g. "a.b.c.d", "logs+2024", ".kibana" */
};

typedef struct fname_parts {
	enum fname_kind kind;
	char vtoken[64]; /* PHYSICAL only, else "" */
	char tenant[64]; /* ALIAS and PHYSICAL, else "" */
	char index[64];  /* LOGICAL, ALIAS and PHYSICAL, else "" */
} fname_parts;

/* Splits an index name into its kind and parts. PHYSICAL needs a token
 * that fversion_parse_token accepts ("v0_8_1", "v0_9_0-dev") and two
 * valid parts; ALIAS two valid parts; LOGICAL one valid part. Any other
 * name that passes fname_check_physical is FNAME_OTHER (returns 0 with
 * empty parts). Returns FERRY_ENAME for a name ES would refuse; `out` is
 * untouched on error. */
int fname_parse(const char *name, fname_parts *out, ferry_err *err);

/* Writes "vtoken.tenant.index" ("v0_8_1.acme.profile") into `out` (n
 * bytes). Returns 0, FERRY_ENAME if a piece is invalid (see
 * fname_parse), FERRY_ELIMIT if `out` is too small (FERRY_NAME_MAX + 1
 * is always enough). `out` is untouched on error. */
int fname_physical(const char *vtoken, const char *tenant, const char *index,
		   char *out, size_t n);

/* Writes "tenant.index" ("acme.profile"); returns as fname_physical. */
int fname_alias(const char *tenant, const char *index, char *out, size_t n);

/* Returns 1 if `s` matches the ES-style pattern, else 0. A pattern is a
 * comma-separated list of alternatives; in each, '*' matches any run of
 * characters and '?' exactly one (UTF-8) character. Alternatives apply
 * left to right: a plain one includes the names it matches, one starting
 * with '-' excludes them ("v0_8_*,-v0_8_1.*"). A list that starts with an
 * exclusion starts from "everything". NULL, "", "*" and "_all" match
 * every name. Empty alternatives are ignored. */
int fname_glob(const char *pattern, const char *s);
/* The same for a thing known by two names (an index and its alias): an
 * alternative matches if it matches either; "" or NULL s2 is ignored. */
int fname_glob2(const char *pattern, const char *s, const char *s2);

#define FNAME_SHOW_BUF 264 /* always enough for fname_show */

/* Writes a printable excerpt of the `len` bytes at `s` into `out` (n
 * bytes, always NUL-terminated when n > 0) for use in error messages:
 * printable ASCII as is, other bytes as \xNN, cut with "..." after about
 * 64 bytes. `s` may be NULL (writes ""). */
void fname_show(const char *s, size_t len, char *out, size_t n);

#endif
