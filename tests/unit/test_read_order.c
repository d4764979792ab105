/*
 * test_read_order.c - a read never sees an older state than a read that
 * ended before it began (monotonic reads), on one handle shared by
 * threads, against real LMDB files.
 *
 * The race this guards against (CI, session 14: test_engine's
 * test_threads_one_handle saw a count of 1696 and then 1695): LMDB's
 * mdb_txn_begin() reads the id of the last commit, then copies that
 * commit's meta page. A reader paused between the two while the writer
 * commits twice copies the newer meta page (the slots alternate) under the
 * older id; if the writer is then between writing its next meta page and
 * publishing its id, the reader's next transaction gets the older id and
 * its older page: the state goes back. store/lmdb/lmdb_env.c checks each
 * new read against the newest meta page.
 *
 * To make the second window wide enough to hit in a test, this file
 * interposes pwrite(): after LMDB writes a meta page (the first two pages
 * of data.mdb; the environment is not WRITEMAP) the writer sleeps before
 * it publishes the commit, as if it were preempted there. The write itself
 * is the real one. The first window (a reader preempted inside its begin)
 * comes from running more reader threads than the machine has cores.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "testutil.h"

static atomic_int hold_us; /* test shim: 0 leaves pwrite() alone */

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	long r = syscall(SYS_pwrite64, fd, buf, n, off);
	int us = atomic_load(&hold_us);
	if (us && r > 0 && off < 8192 && n < 512) /* a meta page */
		usleep((useconds_t)us);
	return (ssize_t)r;
}

static int setup(void **state)
{
	return t_state_setup(state, "order");
}

enum { RO_READERS = 12 };

typedef struct ro {
	ferry_db *db;
	atomic_int done, errors;
	atomic_long reads;
	pthread_mutex_t mu;
	char msg[640];	/* room for err.msg (512) and two counts */
} ro;

static void *ro_reader(void *p)
{
	ro *m = p;
	ferry_err err = {0, ""};
	uint64_t last = 0;
	while (!atomic_load(&m->done)) {
		uint64_t n = 0;
		if (ferry_doc_count(m->db, "mo", &n, &err) || n < last) {
			pthread_mutex_lock(&m->mu);
			if (atomic_fetch_add(&m->errors, 1) == 0)
				snprintf(m->msg, sizeof m->msg, "count %llu after "
					 "%llu (%s)", (unsigned long long)n,
					 (unsigned long long)last, err.msg);
			pthread_mutex_unlock(&m->mu);
			break;
		}
		last = n;
		atomic_fetch_add(&m->reads, 1);
	}
	return NULL;
}

/* One writer puts documents one commit each for `ms` while the readers
 * count; every reader's counts must never go down. */
static void run_order(tdb *t, int hold, double ms)
{
	ferry_err err = {0, ""};
	ro m;
	memset(&m, 0, sizeof m);
	m.db = t->db;
	pthread_mutex_init(&m.mu, NULL);
	pthread_t r[RO_READERS];
	for (int i = 0; i < RO_READERS; i++)
		assert_int_equal(pthread_create(&r[i], NULL, ro_reader, &m), 0);
	atomic_store(&hold_us, hold);
	double t0 = t_now_ms();
	int puts = 0;
	while (t_now_ms() - t0 < ms && !atomic_load(&m.errors)) {
		char id[16], body[32];
		snprintf(id, sizeof id, "d%07d", puts);
		int bl = snprintf(body, sizeof body, "{\"n\":%d}", puts);
		T_OK(ferry_doc_put(t->db, "mo", id, strlen(id), body,
				   (size_t)bl, FERRY_OP_INDEX, NULL, &err), &err);
		puts++;
	}
	atomic_store(&hold_us, 0);
	atomic_store(&m.done, 1);
	for (int i = 0; i < RO_READERS; i++)
		pthread_join(r[i], NULL);
	pthread_mutex_destroy(&m.mu);
	printf("# %d commits (meta write held %d us), %ld counts by %d "
	       "readers\n", puts, hold, atomic_load(&m.reads), RO_READERS);
	if (atomic_load(&m.errors))
		fail_msg("a read went back in time: %s", m.msg);
	assert_true(puts > 100);
	assert_true(atomic_load(&m.reads) > 1000);
	uint64_t n = 0;
	T_OK(ferry_doc_count(t->db, "mo", &n, &err), &err);
	assert_int_equal(n, (uint64_t)puts);
}

static void test_reads_never_go_back(void **state)
{
	tdb *t = *state;
	t_create(t->db, "mo");
	run_order(t, 200, 3000);
}

/* The same without the shim: the plain interleavings of threads. */
static void test_reads_never_go_back_free(void **state)
{
	tdb *t = *state;
	t_create(t->db, "mo");
	run_order(t, 0, 1500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reads_never_go_back, setup,
						t_state_teardown),
		cmocka_unit_test_setup_teardown(test_reads_never_go_back_free,
						setup, t_state_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
