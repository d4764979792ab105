/*
 * fuzz_lazy.c - libFuzzer target for json_parse_lazy() and json_expand()
 * (src/json/lazy.c). Any input: no crash and no read past the padding
 * (the input is copied with exactly JSON_LAZY_PAD bytes after it), and
 * what is written back is what was read where nothing was expanded.
 * Valid JSON: the lazy parse succeeds, expanding every node succeeds and
 * gives the tree json_parse() builds, and the lazily read document written
 * back parses to that tree too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/ferry.h"
#include "json/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static json_arena *arena;

/* Expands every raw node under v; the first error. */
static int expand_all(json_value *v, int depth)
{
	int rc = json_expand(arena, v, NULL);
	if (rc || depth > JSON_MAX_DEPTH)
		return rc;
	if (v->type == JSON_ARRAY)
		for (size_t i = 0; i < v->u.arr.n && !rc; i++)
			rc = expand_all(v->u.arr.v[i], depth + 1);
	if (v->type == JSON_OBJECT)
		for (size_t i = 0; i < v->u.obj.n && !rc; i++)
			rc = expand_all(v->u.obj.m[i].val, depth + 1);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!arena && !(arena = json_arena_new()))
		return 0;
	json_arena_reset(arena);
	char *s = malloc(size + JSON_LAZY_PAD);
	if (!s)
		return 0;
	if (size)
		memcpy(s, data, size);
	memset(s + size, '"', JSON_LAZY_PAD); /* padding that looks like JSON */
	json_value *lz = NULL, *ref = NULL;
	json_error e = {0, NULL};
	int valid = json_validate(s, size, NULL) == 0;
	int rc = json_parse_lazy(arena, s, size, &lz, &e);
	if (valid)
		CHECK(rc == 0);
	if (rc) {
		CHECK(rc != FERRY_EJSON || (e.msg && e.offset <= size));
		goto done;
	}
	fbuf out = FBUF_INIT;
	int wrc = json_write(lz, &out);
	if (valid) {
		CHECK(wrc == 0);
		CHECK(json_parse(arena, s, size, &ref, NULL) == 0);
		json_value *back = NULL;
		CHECK(json_parse(arena, out.p, out.len, &back, NULL) == 0);
		CHECK(json_equal(back, ref));
		CHECK(expand_all(lz, 0) == 0);
		CHECK(json_equal(lz, ref));
	} else {
		expand_all(lz, 0); /* may fail anywhere; must not crash */
	}
	fbuf_release(&out);
done:
	free(s);
	return 0;
}
