/*
 * test_lalloc.c - the Lua states' allocator (src/migrate/lalloc.c), its
 * pool forced on even under ASan (the product turns it off there): random
 * allocations, resizes and frees of small and big blocks, each block
 * filled with its own pattern and checked on every resize and free (two
 * blocks sharing memory would break a pattern), the byte count after
 * every step, and the limit.
 *
 * Randomized with a fixed seed, printed; TEST_SEED=n runs another one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define FLA_POOL 1
#include "../../src/migrate/lalloc.c"

#include "testutil.h"

#define LIVE 1500

static uint64_t g_seed;

typedef struct blk {
	unsigned char *p;
	size_t n;
	unsigned char tag;
} blk;

static void fill(blk *b)
{
	for (size_t i = 0; i < b->n; i++)
		b->p[i] = (unsigned char)(b->tag + i * 7);
}

/* The first `n` bytes of b still hold its pattern. */
static void check(const blk *b, size_t n, int step)
{
	for (size_t i = 0; i < n && i < b->n; i++)
		if (b->p[i] != (unsigned char)(b->tag + i * 7))
			fail_msg("step %d: block of %zu bytes changed at byte "
				 "%zu", step, b->n, i);
}

/* Sizes around the class edges and the small/big boundary. */
static size_t pick_size(uint64_t r)
{
	static const size_t edge[] = {1, 15, 16, 17, 31, 32, 33, 255, 256,
				      257, 300, 1000, 5000};
	if (r % 3 == 0)
		return edge[(r >> 8) % (sizeof edge / sizeof *edge)];
	return 1 + (size_t)((r >> 8) % 700);
}

static void test_random_blocks(void **state)
{
	(void)state;
	uint64_t s = g_seed;
	fmig_lalloc a;
	fmig_lalloc_init(&a, (size_t)1 << 30);
	static blk b[LIVE];
	size_t used = 0;
	memset(b, 0, sizeof b);
	for (int step = 0; step < 300000; step++) {
		uint64_t r = t_rnd_next(&s);
		blk *x = &b[r % LIVE];
		size_t n = pick_size(r >> 16);
		if (!x->p) { /* a new block (osize: a type, not a size) */
			x->p = fmig_lalloc_fn(&a, NULL, 5, n);
			assert_non_null(x->p);
			x->n = n;
			x->tag = (unsigned char)(r >> 40);
			fill(x);
			used += n;
		} else if ((r >> 50) % 3) { /* resize: the prefix stays */
			check(x, x->n, step);
			unsigned char *q = fmig_lalloc_fn(&a, x->p, x->n, n);
			assert_non_null(q);
			used = used - x->n + n;
			x->p = q;
			check(x, n, step);
			x->n = n;
			fill(x);
		} else { /* free */
			check(x, x->n, step);
			assert_null(fmig_lalloc_fn(&a, x->p, x->n, 0));
			used -= x->n;
			x->p = NULL;
		}
		assert_int_equal(a.used, used);
	}
	for (size_t i = 0; i < LIVE; i++)
		if (b[i].p) {
			check(&b[i], b[i].n, -1);
			fmig_lalloc_fn(&a, b[i].p, b[i].n, 0);
		}
	assert_int_equal(a.used, 0);
	assert_int_equal(a.hit, 0);
	fmig_lalloc_release(&a);
	assert_null(a.slabs);
}

/* Past the limit a request is refused and marked; what is held stays. */
static void test_limit(void **state)
{
	(void)state;
	fmig_lalloc a;
	fmig_lalloc_init(&a, 1000);
	blk small = {fmig_lalloc_fn(&a, NULL, 0, 100), 100, 3};
	assert_non_null(small.p);
	fill(&small);
	assert_null(fmig_lalloc_fn(&a, NULL, 0, 901));
	assert_int_equal(a.hit, 1);
	assert_int_equal(a.used, 100);
	a.hit = 0;
	/* growing past it fails too, and the block is kept */
	assert_null(fmig_lalloc_fn(&a, small.p, 100, 1001));
	assert_int_equal(a.hit, 1);
	check(&small, 100, 0);
	/* up to it is fine; shrinking always is */
	void *p = fmig_lalloc_fn(&a, small.p, 100, 1000);
	assert_non_null(p);
	assert_int_equal(a.used, 1000);
	small.p = p;
	check(&small, 100, 1);
	p = fmig_lalloc_fn(&a, small.p, 1000, 10);
	assert_non_null(p);
	assert_int_equal(a.used, 10);
	fmig_lalloc_fn(&a, p, 10, 0);
	assert_int_equal(a.used, 0);
	fmig_lalloc_release(&a);
}

int main(void)
{
	const char *s = getenv("TEST_SEED");
	g_seed = s && *s ? strtoull(s, NULL, 0) : 0x1a11c0cu;
	if (!g_seed)
		g_seed = 1; /* xorshift needs a bit set */
	printf("# seed %llu (TEST_SEED=n to use another)\n",
	       (unsigned long long)g_seed);
	fflush(stdout);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_blocks),
		cmocka_unit_test(test_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
