/*
 * lmdb_pend.c - the id mappings a write transaction makes, per index,
 * before they become a run at commit (lmdb_runs.c): an open-addressing
 * hash table over the ids, and their sorting by key.
 *
 * A bulk is usually prepared in id order (ferry_bulk_prepare), so the
 * table notes whether ids came in key order and sorts only if not: a
 * radix sort on the first 8 bytes, then a comparison sort of the ids that
 * share them.
 */
#include <stdlib.h>

#include "core/buf.h"
#include "store/lmdb/lmdb_int.h"

flmdb_pent *flmdb_pend_find(flmdb_pend *p, const char *id, size_t n,
			    uint64_t h)
{
	if (!p->n)
		return NULL;
	for (size_t j = h & (p->tcap - 1); p->tab[j];
	     j = (j + 1) & (p->tcap - 1)) {
		flmdb_pent *e = &p->e[p->tab[j] - 1];
		if (e->hash == h && e->klen == n &&
		    !memcmp(p->keys + e->koff, id, n))
			return e;
	}
	return NULL;
}

static int pend_grow(flmdb_pend *p, size_t idlen)
{
	if ((p->n + 1) * 2 > p->tcap) {
		size_t cap = p->tcap ? p->tcap * 2 : 1024;
		uint32_t *tab = calloc(cap, sizeof *tab);
		if (!tab)
			return ENOMEM;
		for (size_t i = 0; i < p->n; i++) {
			size_t j = p->e[i].hash & (cap - 1);
			while (tab[j])
				j = (j + 1) & (cap - 1);
			tab[j] = (uint32_t)(i + 1);
		}
		free(p->tab);
		p->tab = tab;
		p->tcap = cap;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 512;
		flmdb_pent *e = realloc(p->e, cap * sizeof *e);
		if (!e)
			return ENOMEM;
		p->e = e;
		p->cap = cap;
	}
	if (p->klen + idlen > p->kcap) {
		size_t cap = p->kcap ? p->kcap * 2 : 16384;
		while (cap < p->klen + idlen)
			cap *= 2;
		char *k = realloc(p->keys, cap);
		if (!k)
			return ENOMEM;
		p->keys = k;
		p->kcap = cap;
	}
	return 0;
}

int flmdb_pend_put(flmdb_pend *p, const char *id, size_t idlen, uint64_t h,
		   uint64_t seq, uint32_t len)
{
	flmdb_pent *e = flmdb_pend_find(p, id, idlen, h);
	if (e) {
		e->seq = seq;
		e->len = len;
		return 0;
	}
	if (pend_grow(p, idlen))
		return ENOMEM;
	if (p->n && !p->unsorted) {
		flmdb_pent *last = &p->e[p->n - 1];
		p->unsorted = flmdb_keycmp((unsigned char *)p->keys + last->koff,
				     last->klen, (const unsigned char *)id,
				     idlen) > 0;
	}
	e = &p->e[p->n];
	*e = (flmdb_pent){h, seq, len, (uint32_t)p->klen, (uint32_t)idlen};
	memcpy(p->keys + p->klen, id, idlen);
	p->klen += idlen;
	size_t j = h & (p->tcap - 1);
	while (p->tab[j])
		j = (j + 1) & (p->tcap - 1);
	p->tab[j] = (uint32_t)++p->n;
	return 0;
}

void flmdb_pend_clear(flmdb_pend *p)
{
	if (p->n)
		memset(p->tab, 0, p->tcap * sizeof *p->tab);
	p->n = 0;
	p->klen = 0;
	p->unsorted = 0;
}

/* Orders entries that share their first 8 key bytes (ksort.k). */
static int pkey_cmp(const void *a, const void *b, void *ctx)
{
	const flmdb_pend *p = ctx;
	const flmdb_pent *x = &p->e[((const flmdb_ksort *)a)->i];
	const flmdb_pent *y = &p->e[((const flmdb_ksort *)b)->i];
	return flmdb_keycmp((const unsigned char *)p->keys + x->koff, x->klen,
		      (const unsigned char *)p->keys + y->koff, y->klen);
}

/* A radix sort on the 8-byte prefixes, then a comparison sort of each
 * group of equal prefixes (ids that share their first 8 bytes). */
static void pkey_sort(const flmdb_pend *p, flmdb_ksort *a, flmdb_ksort *tmp,
		      size_t n)
{
	flmdb_radix_sort(a, tmp, n);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && a[j].k == a[i].k; j++)
			;
		if (j - i > 1)
			qsort_r(a + i, j - i, sizeof *a, pkey_cmp, (void *)p);
	}
}

int flmdb_pend_sorted(const flmdb_pend *p, flmdb_pent **out, char **keys)
{
	flmdb_pent *e = malloc((p->n ? p->n : 1) * sizeof *e);
	char *k = malloc(p->klen ? p->klen : 1);
	flmdb_ksort *a = p->unsorted ? malloc(p->n * 2 * sizeof *a) : NULL;
	if (!e || !k || (p->unsorted && !a)) {
		free(e);
		free(k);
		free(a);
		return ENOMEM;
	}
	/* fresh memory at every commit (core/buf.c: why populate) */
	fmem_populate(e, p->n * sizeof *e);
	fmem_populate(k, p->klen);
	for (size_t i = 0; a && i < p->n; i++) {
		unsigned char b[8] = {0};
		memcpy(b, p->keys + p->e[i].koff, p->e[i].klen < 8 ?
		       p->e[i].klen : 8);
		a[i].k = flmdb_rd64(b);
		a[i].i = i;
	}
	if (a)
		pkey_sort(p, a, a + p->n, p->n);
	for (size_t i = 0, off = 0; i < p->n; i++) {
		e[i] = p->e[a ? a[i].i : i];
		memcpy(k + off, p->keys + e[i].koff, e[i].klen);
		e[i].koff = (uint32_t)off;
		off += e[i].klen;
	}
	free(a);
	*out = e;
	*keys = k;
	return 0;
}
