/*
 * pool.c - a small pool of worker threads for chunk work: a create hashes,
 * compresses and writes chunks on every core while its own thread reads
 * LMDB and cuts records into chunks; a restore or verify reads,
 * decompresses and checks the next chunks while its thread writes.
 *
 * At most `depth` jobs are under way (so memory stays bounded); workers
 * take them in submission order, and the caller takes them back in the
 * same order, which keeps chunk lists and restores in order.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include <zstd.h>

#include "core/err.h"
#include "snapshot/snapshot.h"

enum { SLOT_QUEUED = 1, SLOT_DONE = 2 };

struct fsnap_pool {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	fsnap_work_fn fn;
	void *ctx;
	pthread_t *th;
	unsigned nth;
	unsigned depth;
	void **jobs;
	unsigned char *state;
	size_t head, tail, claim; /* counters; slot = counter % depth */
	int stop;
};

struct worker_arg {
	fsnap_pool *p;
	unsigned no;
};

static void *worker(void *arg)
{
	struct worker_arg *wa = arg;
	fsnap_pool *p = wa->p;
	unsigned no = wa->no;
	free(wa);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->claim == p->tail)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->claim == p->tail)
			break; /* stopping and nothing left */
		size_t i = p->claim++ % p->depth;
		pthread_mutex_unlock(&p->mu);
		p->fn(p->ctx, no, p->jobs[i]);
		pthread_mutex_lock(&p->mu);
		p->state[i] = SLOT_DONE;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

unsigned fsnap_ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 16 ? 16 : (unsigned)n;
}

int fsnap_pool_new(unsigned workers, unsigned depth, fsnap_work_fn fn,
		   void *ctx, fsnap_pool **out)
{
	fsnap_pool *p = calloc(1, sizeof *p);
	if (!p)
		return FERRY_ENOMEM;
	if (workers < 1)
		workers = 1;
	if (depth < workers)
		depth = workers;
	p->fn = fn;
	p->ctx = ctx;
	p->depth = depth;
	p->jobs = calloc(depth, sizeof *p->jobs);
	p->state = calloc(depth, 1);
	p->th = calloc(workers, sizeof *p->th);
	if (!p->jobs || !p->state || !p->th) {
		free(p->jobs);
		free(p->state);
		free(p->th);
		free(p);
		return FERRY_ENOMEM;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	for (; p->nth < workers; p->nth++) {
		struct worker_arg *wa = malloc(sizeof *wa);
		if (!wa)
			break;
		wa->p = p;
		wa->no = p->nth;
		if (pthread_create(&p->th[p->nth], NULL, worker, wa)) {
			free(wa);
			break;
		}
	}
	if (!p->nth) {
		fsnap_pool_free(p);
		return FERRY_ENOMEM;
	}
	*out = p;
	return 0;
}

int fsnap_pool_full(const fsnap_pool *p)
{
	return p->tail - p->head >= p->depth;
}

size_t fsnap_pool_pending(const fsnap_pool *p)
{
	return p->tail - p->head;
}

void fsnap_pool_submit(fsnap_pool *p, void *job)
{
	pthread_mutex_lock(&p->mu);
	size_t i = p->tail % p->depth;
	p->jobs[i] = job;
	p->state[i] = SLOT_QUEUED;
	p->tail++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
}

void *fsnap_pool_take(fsnap_pool *p)
{
	void *job = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->head != p->tail) {
		size_t i = p->head % p->depth;
		while (p->state[i] != SLOT_DONE)
			pthread_cond_wait(&p->done, &p->mu);
		job = p->jobs[i];
		p->state[i] = 0;
		p->head++;
	}
	pthread_mutex_unlock(&p->mu);
	return job;
}

void fsnap_pool_free(fsnap_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->nth; i++)
		pthread_join(p->th[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p->jobs);
	free(p->state);
	free(p->th);
	free(p);
}

/* ---- loaders ---- */

typedef struct lws {
	ZSTD_DCtx *zd;
	fbuf file;
} lws;

struct fsnap_loader {
	const fsnap_repo *r;
	fsnap_pool *pool;
	lws *ws;
	unsigned nws;
};

static void load_job(void *ctx, unsigned w, void *job)
{
	fsnap_loader *l = ctx;
	fsnap_load_job *j = job;
	j->rc = fsnap_chunk_load(l->r, l->ws[w].zd, &l->ws[w].file, &j->ref,
				 &j->raw, &j->err);
	if (j->rc)
		fbuf_release(&j->raw);
	if (l->ws[w].file.cap > (8u << 20))
		fbuf_release(&l->ws[w].file); /* do not keep a huge one */
}

int fsnap_loader_new(const fsnap_repo *r, fsnap_loader **out)
{
	fsnap_loader *l = calloc(1, sizeof *l);
	if (!l)
		return FERRY_ENOMEM;
	l->r = r;
	l->nws = fsnap_ncpu();
	if (!(l->ws = calloc(l->nws, sizeof *l->ws))) {
		free(l);
		return FERRY_ENOMEM;
	}
	for (unsigned i = 0; i < l->nws; i++) {
		fbuf_init(&l->ws[i].file, 0);
		if (!(l->ws[i].zd = ZSTD_createDCtx())) {
			fsnap_loader_free(l);
			return FERRY_ENOMEM;
		}
	}
	if (fsnap_pool_new(l->nws, 2 * l->nws + 2, load_job, l, &l->pool)) {
		fsnap_loader_free(l);
		return FERRY_ENOMEM;
	}
	*out = l;
	return 0;
}

int fsnap_loader_full(const fsnap_loader *l)
{
	return fsnap_pool_full(l->pool);
}

size_t fsnap_loader_pending(const fsnap_loader *l)
{
	return fsnap_pool_pending(l->pool);
}

int fsnap_loader_submit(fsnap_loader *l, const fsnap_chunk_ref *ref,
			size_t tag)
{
	fsnap_load_job *j = calloc(1, sizeof *j);
	if (!j)
		return FERRY_ENOMEM;
	j->ref = *ref;
	j->tag = tag;
	fbuf_init(&j->raw, 0);
	fsnap_pool_submit(l->pool, j);
	return 0;
}

fsnap_load_job *fsnap_loader_take(fsnap_loader *l)
{
	return fsnap_pool_take(l->pool);
}

void fsnap_load_job_free(fsnap_load_job *j)
{
	if (!j)
		return;
	fbuf_release(&j->raw);
	free(j);
}

void fsnap_loader_free(fsnap_loader *l)
{
	if (!l)
		return;
	if (l->pool) {
		fsnap_load_job *j;
		while ((j = fsnap_pool_take(l->pool)))
			fsnap_load_job_free(j);
		fsnap_pool_free(l->pool);
	}
	for (unsigned i = 0; i < l->nws; i++) {
		ZSTD_freeDCtx(l->ws[i].zd);
		fbuf_release(&l->ws[i].file);
	}
	free(l->ws);
	free(l);
}
