/*
 * merge.h - Elasticsearch's partial-document merge (the `doc` of an
 * update): objects merge recursively key by key; any other value in the
 * patch (array, string, number, boolean, null) replaces the target's
 * value at that key. Keys the target has keep their place; keys only the
 * patch has are appended in the patch's order. Nothing is ever removed:
 * null in the patch sets the value to null, as in Elasticsearch.
 */
#ifndef FERRY_JSON_MERGE_H
#define FERRY_JSON_MERGE_H

#include "json/json.h"

/* Merges `patch` into `target` in place. Both must be objects parsed or
 * built in arena `a`; values of `patch` are linked into `target`, not
 * copied, so `patch` must not be changed (or its arena reset) while
 * `target` is used. Objects holding many keys are matched through a hash
 * table, so the cost is linear in the sizes of both trees.
 *
 * *changed (may be NULL) is set to 1 if the merge changed `target` in any
 * way that shows in its text: a new key, or a value that differs in type,
 * number lexeme ("1" vs "1.0"), string bytes, array elements or object
 * key order; else 0 (merging a patch already contained in the target).
 *
 * Returns 0, FERRY_EINVAL if either is NULL or not an object (nothing
 * changed), or FERRY_ENOMEM (target may be partly merged). */
int json_merge(json_arena *a, json_value *target, json_value *patch,
	       int *changed);

/* 1 if a and b write the same text (json_write), else 0: same types,
 * same number lexemes, same string bytes, same array elements, same
 * object keys in the same order; a raw node is the same as a raw node
 * of the same text only. Stricter than json_equal(). */
int json_same_text(const json_value *a, const json_value *b);

#endif
