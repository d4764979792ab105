/*
 * arena.c - the bump allocator every DOM lives in. A document's nodes are
 * freed together, so there is no per-node free: blocks are chained, and a
 * reset drops all but the first block so the next document reuses it.
 * The inline fast path is in internal.h; this file opens blocks.
 */
#include <stdalign.h>
#include <stdlib.h>

#include "ferry/ferry.h"
#include "json/internal.h"

#define JSON_BLOCK_SIZE ((size_t)64 << 10)  /* first and usual block */
#define JSON_BLOCK_MAX ((size_t)4 << 20)    /* growth stops here */
#define JSON_SCRATCH_KEEP ((size_t)64 << 10) /* scratch kept on reset */

static json_block *json_block_new(size_t size)
{
	if (size > SIZE_MAX - sizeof(json_block))
		return NULL;
	json_block *b = malloc(sizeof(json_block) + size);
	if (!b)
		return NULL;
	b->next = NULL;
	b->size = size;
	return b;
}

static void json_arena_use(json_arena *a, json_block *b)
{
	a->cur = (char *)(b + 1);
	a->end = a->cur + b->size;
}

json_arena *json_arena_new(void)
{
	json_arena *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->first = json_block_new(JSON_BLOCK_SIZE);
	if (!a->first) {
		free(a);
		return NULL;
	}
	json_arena_use(a, a->first);
	return a;
}

void *json_arena_grow(json_arena *a, size_t n, size_t align)
{
	size_t size = a->extra ? a->extra->size : JSON_BLOCK_SIZE;
	if (size < JSON_BLOCK_MAX)
		size *= 2;
	if (n > SIZE_MAX - align)
		return NULL;
	if (size < n + align)
		size = n + align;
	json_block *b = json_block_new(size);
	if (!b)
		return NULL;
	b->next = a->extra;
	a->extra = b;
	json_arena_use(a, b);
	return json_arena_get(a, n, align);
}

void *json_arena_alloc(json_arena *a, size_t n)
{
	return json_arena_get(a, n, alignof(max_align_t));
}

static void json_arena_drop_extra(json_arena *a)
{
	while (a->extra) {
		json_block *next = a->extra->next;
		free(a->extra);
		a->extra = next;
	}
}

void json_arena_reset(json_arena *a)
{
	json_arena_drop_extra(a);
	json_arena_use(a, a->first);
	if (a->sv_cap * sizeof *a->sv > JSON_SCRATCH_KEEP) {
		free(a->sv);
		a->sv = NULL;
		a->sv_cap = 0;
	}
	if (a->sm_cap * sizeof *a->sm > JSON_SCRATCH_KEEP) {
		free(a->sm);
		a->sm = NULL;
		a->sm_cap = 0;
	}
}

void json_arena_free(json_arena *a)
{
	if (!a)
		return;
	json_arena_drop_extra(a);
	free(a->first);
	free(a->sv);
	free(a->sm);
	free(a);
}
