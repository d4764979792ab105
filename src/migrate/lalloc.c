/*
 * lalloc.c - the allocator of a lua op's Lua state: blocks of up to
 * FLA_SMALL bytes come from free lists, one per 16-byte size class,
 * carved out of 64 KiB slabs; bigger ones from malloc. It counts the
 * bytes the state holds and refuses to go past a limit.
 *
 * Why not malloc alone: converting one document makes and frees some
 * thirty small tables, strings and node arrays, and malloc plus free
 * cost ~100 instructions a block there (5% of a 3-hop upgrade), a free
 * list ~15. Lua passes the old size of every block it frees or resizes
 * (lua_Alloc), so a block needs no header: its size class follows from
 * that size. A state is used by one thread at a time: no locks. The
 * slabs go back to malloc when the state is closed; what is free stays
 * in the lists until then (at most the state's peak, itself limited).
 *
 * Built with AddressSanitizer, every block comes from malloc, so the
 * sanitizer still sees each one.
 */
#include <stdlib.h>
#include <string.h>

#include "migrate/lalloc.h"

#ifndef FLA_POOL /* test_lalloc sets it, to test the pool under ASan */
#if defined(__SANITIZE_ADDRESS__)
#define FLA_POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FLA_POOL 0
#endif
#endif
#endif
#ifndef FLA_POOL
#define FLA_POOL 1
#endif

#define FLA_SLAB (64 * 1024)

typedef struct fla_slab {
	struct fla_slab *next;
	max_align_t align[]; /* the blocks */
} fla_slab;

void fmig_lalloc_init(fmig_lalloc *a, size_t limit)
{
	memset(a, 0, sizeof *a);
	a->limit = limit;
}

void fmig_lalloc_release(fmig_lalloc *a)
{
	while (a->slabs) {
		fla_slab *s = a->slabs;
		a->slabs = s->next;
		free(s);
	}
	memset(a->free, 0, sizeof a->free);
	a->cur = a->end = NULL;
}

/* Size class of a block of n bytes (1 <= n <= FLA_SMALL). */
static size_t fla_class(size_t n)
{
	return (n - 1) / FLA_GRAIN;
}

static void *fla_small(fmig_lalloc *a, size_t n)
{
	size_t c = fla_class(n), size = (c + 1) * FLA_GRAIN;
	void *p = a->free[c];
	if (p) {
		memcpy(&a->free[c], p, sizeof(void *)); /* its next */
		return p;
	}
	if ((size_t)(a->end - a->cur) < size) {
		fla_slab *s = malloc(FLA_SLAB);
		if (!s)
			return NULL;
		s->next = a->slabs;
		a->slabs = s;
		a->cur = (char *)s->align;
		a->end = (char *)s + FLA_SLAB;
	}
	p = a->cur;
	a->cur += size;
	return p;
}

static void fla_free(fmig_lalloc *a, void *p, size_t n)
{
	if (!FLA_POOL || n > FLA_SMALL) {
		free(p);
		return;
	}
	size_t c = fla_class(n);
	memcpy(p, &a->free[c], sizeof(void *));
	a->free[c] = p;
}

/* A block of n bytes holding the first `keep` bytes of p (old size o). */
static void *fla_resize(fmig_lalloc *a, void *p, size_t o, size_t n)
{
	if (!FLA_POOL || (o > FLA_SMALL && n > FLA_SMALL))
		return realloc(p, n);
	if (p && o <= FLA_SMALL && n <= FLA_SMALL &&
	    fla_class(o) == fla_class(n))
		return p; /* the block is big enough already */
	void *q = n <= FLA_SMALL ? fla_small(a, n) : malloc(n);
	if (q && p) {
		memcpy(q, p, o < n ? o : n);
		fla_free(a, p, o);
	}
	return q;
}

void *fmig_lalloc_fn(void *ud, void *ptr, size_t osize, size_t nsize)
{
	fmig_lalloc *a = ud;
	size_t old = ptr ? osize : 0; /* without ptr, osize is a type */
	if (nsize == 0) {
		if (ptr)
			fla_free(a, ptr, old);
		a->used -= old;
		return NULL;
	}
	if (nsize > old && nsize - old > a->limit - a->used) {
		a->hit = 1;
		return NULL;
	}
	void *p = fla_resize(a, ptr, old, nsize);
	if (p)
		a->used = a->used - old + nsize;
	return p;
}
