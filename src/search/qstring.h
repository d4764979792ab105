/*
 * qstring.h - the query string of a URL search (`_search?q=...`,
 * `_count?q=...`): the subset of Lucene's query-string syntax that people
 * type into URLs, translated into the query DSL that query.c parses, so a
 * q search and the body query it stands for are one and the same query.
 *
 * Syntax (docs/rest-api.md, "URI search", is the user manual):
 *   field:value  field:"quoted value"  field:val*  field:*  _id:x
 *   field:[a TO b]  field:{a TO b]  field:[* TO b]  field:>=10  field:<5
 *   _exists_:field  *:*  *  field:(a OR b)  ( ... )
 *   AND && OR || NOT ! + -   value^2 (a boost: accepted, ignored)
 *   \ escapes the next character.
 * Operators combine as Lucene's classic query parser does (so a q gives
 * the hits Elasticsearch gives): each clause of a group is required (+,
 * AND on either side of it, or the default operator AND), prohibited (-,
 * NOT, !) or optional (OR, or the default operator OR), and the group is
 * a bool query of them; "a OR b AND c" is +b +c a, where a changes
 * nothing. Parentheses give any other grouping.
 *
 * Values: an unquoted JSON number (30, -2.5, 1e3) or true/false becomes
 * that JSON value, anything else and every quoted value a string (always
 * a string for _id). A term query matches "30" and 30 alike, so this only
 * matters in ranges: an unquoted number compares numerically with numbers
 * and numeric strings; a quoted bound compares byte-wise with strings.
 */
#ifndef FERRY_SEARCH_QSTRING_H
#define FERRY_SEARCH_QSTRING_H

#include <stddef.h>

#include "json/json.h"
#include "search/search.h"

#define FQS_MAX_LEN 65536 /* bytes of one query string */
#define FQS_MAX_DEPTH 32  /* nested parentheses and field groups */

typedef struct fqs_opts {
	const char *df;  /* the field of values written without one (ES's
			    `df` parameter), or NULL: such values are an
			    error, as ferry has no default field */
	int and_default; /* default_operator=AND (else OR, as ES) */
} fqs_opts;

/* Parses the query string q[0..len) (already %-decoded) into a query DSL
 * object ({"term":{...}}, {"bool":{...}}, ...) built in arena `a`; *out
 * lives as long as the arena. `o` may be NULL (no df, OR).
 * Errors: FERRY_EINVAL with e set to 400 query_shard_exception and a
 * reason "Failed to parse query [q]: q: <what> at offset N: <how to
 * fix>" (N is the byte offset in q, from 0); FERRY_ENOMEM (500). */
int fqs_parse(json_arena *a, const char *q, size_t len, const fqs_opts *o,
	      json_value **out, fsearch_error *e);

#endif
