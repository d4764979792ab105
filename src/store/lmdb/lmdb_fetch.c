/*
 * lmdb_fetch.c - reads the bodies of an id-ordered scan window on two
 * threads.
 *
 * Why: the scan finds each body by its seq, one descent of the docs tree
 * per document, and a descent waits on a cache (and TLB) miss at every
 * level: the next page's address is in the page just read, so the CPU
 * cannot overlap them. On 1 M random-id profiles the descents were about
 * two thirds of a scan (perf, docs/benchmarks.md, session 12). A helper
 * thread doing half of each window's descents keeps two of them in flight.
 *
 * Both halves must read one snapshot. The helper has its own read
 * transaction, and a window is split only when that transaction's id
 * (mdb_txn_id) is the caller's: no write committed between the two. If
 * one did, or the helper is busy with another scan, or the machine has one
 * core, the caller reads the whole window itself. The entries the helper
 * fills point into the map; they stay valid after its transaction is
 * reset because the caller's transaction holds the same snapshot. LMDB
 * read transactions (the environment uses MDB_NOTLS) may pass between
 * threads but are used by one at a time: the caller renews the helper's,
 * the helper reads with it, the caller resets it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/err.h"
#include "store/lmdb/lmdb_int.h"

/* Windows smaller than this are read by the caller: handing half of it
 * over costs a few microseconds, about the time of 20 descents. */
#define FETCH_SPLIT_MIN 256

struct flmdb_fetch {
	pthread_mutex_t busy; /* held by the scan that uses the helper */
	pthread_mutex_t mu;   /* guards the fields below */
	pthread_cond_t cv;
	pthread_t th;
	pid_t pid;            /* the process that started th (0: none) */
	int solo;             /* one core: nothing to overlap, never start */
	int stop, posted, done;
	MDB_env *env;
	MDB_dbi docs;
	MDB_txn *txn;         /* the helper's; reset while idle */
	uint32_t ix;          /* the job: ord[0..n) into win */
	const flmdb_ksort *ord;
	size_t n;
	fstore_entry *win;
	int rc;
};

/* Fills win[ord[j].i] with the body of seq ord[j].k, j in [0, n). */
static int fetch_range(MDB_cursor *c, uint32_t ix, const flmdb_ksort *ord,
		       size_t n, fstore_entry *win)
{
	int rc = 0;
	for (size_t j = 0; j < n && !rc; j++)
		rc = flmdb_body_at(c, ix, ord[j].k, &win[ord[j].i]);
	return rc;
}

static void *helper_main(void *arg)
{
	flmdb_fetch *f = arg;
	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (!f->posted && !f->stop)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->stop)
			break;
		f->posted = 0;
		pthread_mutex_unlock(&f->mu);
		MDB_cursor *c;
		int rc = mdb_cursor_open(f->txn, f->docs, &c);
		if (!rc) {
			rc = fetch_range(c, f->ix, f->ord, f->n, f->win);
			mdb_cursor_close(c);
		} else {
			rc = FERRY_EIO;
		}
		pthread_mutex_lock(&f->mu);
		f->rc = rc;
		f->done = 1;
		pthread_cond_broadcast(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

int flmdb_fetch_new(MDB_env *env, MDB_dbi docs, flmdb_fetch **out)
{
	*out = NULL;
	flmdb_fetch *f = calloc(1, sizeof *f);
	if (!f)
		return ENOMEM;
	pthread_mutex_init(&f->busy, NULL);
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	f->env = env;
	f->docs = docs;
	*out = f;
	return 0;
}

void flmdb_fetch_free(flmdb_fetch *f)
{
	if (!f)
		return;
	if (f->pid && f->pid == getpid()) {
		pthread_mutex_lock(&f->mu);
		f->stop = 1;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
		pthread_join(f->th, NULL);
	}
	if (f->txn)
		mdb_txn_abort(f->txn);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	pthread_mutex_destroy(&f->busy);
	free(f);
}

/* With f->busy held: the helper runs and its transaction reads the
 * snapshot of `txn`. 0, or non-zero when the caller must read alone. */
static int helper_ready(flmdb_fetch *f, MDB_txn *txn)
{
	if (f->solo)
		return -1;
	if (f->pid != getpid()) { /* never started, or started before a fork */
		/* counted here, not at open: most opens never scan */
		if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
			f->solo = 1;
			return -1;
		}
		f->txn = NULL;    /* the parent's, not ours to close */
		if (pthread_create(&f->th, NULL, helper_main, f))
			return -1;
		f->pid = getpid();
	}
	int rc = flmdb_read_begin(f->env, &f->txn);
	if (rc)
		return rc;
	if (mdb_txn_id(f->txn) != mdb_txn_id(txn)) {
		mdb_txn_reset(f->txn);
		return -1;
	}
	return 0;
}

int flmdb_fetch_window(flmdb_fetch *f, MDB_txn *txn, int write,
		       MDB_cursor *c, uint32_t ix, const flmdb_ksort *ord,
		       size_t n, fstore_entry *win)
{
	if (!f || write || n < FETCH_SPLIT_MIN ||
	    pthread_mutex_trylock(&f->busy))
		return fetch_range(c, ix, ord, n, win);
	if (helper_ready(f, txn)) {
		pthread_mutex_unlock(&f->busy);
		return fetch_range(c, ix, ord, n, win);
	}
	size_t half = n / 2;
	pthread_mutex_lock(&f->mu);
	f->ix = ix;
	f->ord = ord + half;
	f->n = n - half;
	f->win = win;
	f->done = 0;
	f->posted = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	int rc = fetch_range(c, ix, ord, half, win);
	pthread_mutex_lock(&f->mu);
	while (!f->done)
		pthread_cond_wait(&f->cv, &f->mu);
	int hrc = f->rc;
	pthread_mutex_unlock(&f->mu);
	mdb_txn_reset(f->txn);
	pthread_mutex_unlock(&f->busy);
	return rc ? rc : hrc;
}
