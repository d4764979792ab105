/*
 * lalloc.h - the allocator of a lua op's Lua state (lalloc.c): size-class
 * free lists for small blocks, a byte count and a limit. Private to
 * src/migrate.
 */
#ifndef FERRY_MIGRATE_LALLOC_H
#define FERRY_MIGRATE_LALLOC_H

#include <stddef.h>

#define FLA_GRAIN 16  /* size classes are multiples of this */
#define FLA_SMALL 256 /* bigger blocks come from malloc */

typedef struct fmig_lalloc {
	void *free[FLA_SMALL / FLA_GRAIN]; /* per class, linked through
					      their first bytes */
	struct fla_slab *slabs;
	char *cur, *end; /* what is left of the newest slab */
	size_t used;     /* bytes the state holds (as Lua asked for them) */
	size_t limit;
	int hit;         /* a request was refused: the limit */
} fmig_lalloc;

void fmig_lalloc_init(fmig_lalloc *a, size_t limit);
/* The lua_Alloc function; ud is the fmig_lalloc. */
void *fmig_lalloc_fn(void *ud, void *ptr, size_t osize, size_t nsize);
/* Gives the slabs back; after lua_close of the state that used it. */
void fmig_lalloc_release(fmig_lalloc *a);

#endif
