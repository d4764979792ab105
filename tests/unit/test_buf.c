/*
 * test_buf.c - growable buffers (src/core/buf.c): contents survive every
 * growth, plain or populated (fbuf_grow_populate); the cap is enforced
 * with nothing appended; fmem_populate() leaves a filled block as it was
 * and, where the kernel has MADV_POPULATE_WRITE (Linux 5.14), makes a
 * fresh mapping resident, and so does a populated growth (mincore).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/buf.h"
#include "ferry/ferry.h"

/* The byte at offset i of the test pattern. */
static unsigned char pat(size_t i)
{
	return (unsigned char)(i * 131 + (i >> 12) * 7 + 1);
}

static void t_growth_keeps_contents(void **state)
{
	(void)state;
	fbuf b = FBUF_INIT;
	unsigned char chunk[1000];
	size_t total = (size_t)9 << 20; /* several populated growths */
	while (b.len < total) {
		size_t n = sizeof chunk;
		for (size_t i = 0; i < n; i++)
			chunk[i] = pat(b.len + i);
		if (b.len > total / 2) /* the second half grows populated */
			assert_int_equal(fbuf_grow_populate(&b, n), 0);
		assert_int_equal(fbuf_add(&b, chunk, n), 0);
	}
	assert_true(b.cap > b.len);
	assert_int_equal(b.p[b.len], 0);
	for (size_t i = 0; i < b.len; i++)
		if ((unsigned char)b.p[i] != pat(i))
			fail_msg("byte %zu changed after growth", i);
	fbuf_release(&b);
	assert_null(b.p);
}

static void t_cap_refuses_whole(void **state)
{
	(void)state;
	fbuf b;
	fbuf_init(&b, 2 << 20);
	char *block = malloc((size_t)1 << 20);
	assert_non_null(block);
	memset(block, 'x', (size_t)1 << 20);
	assert_int_equal(fbuf_add(&b, block, (size_t)1 << 20), 0);
	assert_int_equal(fbuf_add(&b, block, (size_t)1 << 20), 0);
	assert_int_equal(fbuf_add(&b, "y", 1), FERRY_ELIMIT);
	assert_int_equal(b.len, (size_t)2 << 20);
	assert_int_equal(b.p[b.len - 1], 'x');
	free(block);
	fbuf_release(&b);
}

static void t_populate_keeps_contents(void **state)
{
	(void)state;
	size_t n = (size_t)3 << 20;
	unsigned char *p = malloc(n + 100);
	assert_non_null(p);
	for (size_t i = 0; i < n + 100; i++)
		p[i] = pat(i);
	(void)fmem_populate(p + 100, n); /* unaligned start and end */
	for (size_t i = 0; i < n + 100; i++)
		if (p[i] != pat(i))
			fail_msg("byte %zu changed by fmem_populate", i);
	free(p);
}

/* Resident 4 KiB pages of [p, p + n), by mincore. */
static size_t resident(void *p, size_t n)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), pages = n / ps, r = 0;
	unsigned char *v = malloc(pages);
	assert_non_null(v);
	assert_int_equal(mincore(p, n, v), 0);
	for (size_t i = 0; i < pages; i++)
		r += v[i] & 1;
	free(v);
	return r;
}

static void t_populate_maps_fresh_pages(void **state)
{
	(void)state;
	size_t n = (size_t)4 << 20, ps = (size_t)sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(resident(p, n), 0);
	assert_int_equal(fmem_populate(p, 4096), -1); /* too small: nothing */
	assert_int_equal(resident(p, n), 0);
	if (fmem_populate(p, n) == 0) {
		assert_int_equal(resident(p, n), n / ps);
		assert_int_equal(((unsigned char *)p)[n - 1], 0);
	} else {
		print_message("# this kernel has no MADV_POPULATE_WRITE: "
			      "pages fault in one by one\n");
	}
	munmap(p, n);
}

/* 1 if this kernel populates (a fresh 2 MiB mapping becomes resident). */
static int kernel_populates(void)
{
	size_t n = (size_t)2 << 20;
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	int ok = fmem_populate(p, n) == 0;
	munmap(p, n);
	return ok;
}

static void t_grow_populate_maps_new_room(void **state)
{
	(void)state;
	if (!kernel_populates()) {
		print_message("# this kernel has no MADV_POPULATE_WRITE\n");
		return;
	}
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	fbuf b = FBUF_INIT;
	char *block = malloc((size_t)2 << 20);
	assert_non_null(block);
	memset(block, 'q', (size_t)2 << 20);
	assert_int_equal(fbuf_add(&b, block, (size_t)2 << 20), 0);
	size_t old = b.cap;
	assert_int_equal(fbuf_grow_populate(&b, (size_t)4 << 20), 0);
	assert_true(b.cap >= ((size_t)6 << 20) + 1);
	uintptr_t lo = ((uintptr_t)b.p + old + ps - 1) & ~(uintptr_t)(ps - 1);
	uintptr_t hi = ((uintptr_t)b.p + b.cap) & ~(uintptr_t)(ps - 1);
	assert_true(hi > lo);
	assert_int_equal(resident((void *)lo, hi - lo), (hi - lo) / ps);
	for (size_t i = 0; i < ((size_t)2 << 20); i++)
		if (b.p[i] != 'q')
			fail_msg("byte %zu changed by the populated growth", i);
	free(block);
	fbuf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_growth_keeps_contents),
		cmocka_unit_test(t_cap_refuses_whole),
		cmocka_unit_test(t_populate_keeps_contents),
		cmocka_unit_test(t_populate_maps_fresh_pages),
		cmocka_unit_test(t_grow_populate_maps_new_room),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
