/*
 * commitq.c - group commit for _bulk. LMDB has one writer and no log: a
 * commit writes its dirty pages and syncs, and with random ids a 1000-doc
 * bulk dirties about one page per document. When every request commits
 * alone, concurrent requests queue on the writer lock and each pays its
 * own sync. Here the first request to find no commit running becomes the
 * leader: it takes every bulk queued at that moment (its own included),
 * commits them in ONE transaction with ferry_bulk_commit_group() and
 * wakes their owners; requests arriving meanwhile form the next group.
 * Each request is still acknowledged only after its data is durable, and
 * a group is all or nothing. Validation (ferry_bulk_prepare) runs on each
 * request's own thread before it queues, so both cores stay busy.
 */
#include <string.h>

#include "server/server.h"

#define GROUP_MAX 64

typedef struct fsrv_cq_item {
	ferry_bulk *b;
	int done;
	int rc;
	ferry_err err;
	struct fsrv_cq_item *next;
} fsrv_cq_item;

/* Takes up to GROUP_MAX queued items off the queue (under cq_mu). */
static size_t take_group(fsrv *s, fsrv_cq_item **g)
{
	size_t n = 0;

	while (s->cq_head && n < GROUP_MAX) {
		g[n++] = s->cq_head;
		s->cq_head = s->cq_head->next;
	}
	if (!s->cq_head)
		s->cq_tail = NULL;
	return n;
}

/* Commits one group as the leader; called and returns with cq_mu held. */
static void lead(fsrv *s)
{
	fsrv_cq_item *g[GROUP_MAX];
	ferry_bulk *bs[GROUP_MAX];
	ferry_err err = {0, ""};
	size_t n = take_group(s, g), i;
	int rc;

	s->cq_busy = 1;
	pthread_mutex_unlock(&s->cq_mu);
	for (i = 0; i < n; i++)
		bs[i] = g[i]->b;
	rc = ferry_bulk_commit_group(bs, n, &err);
	pthread_mutex_lock(&s->cq_mu);
	for (i = 0; i < n; i++) {
		g[i]->rc = rc;
		g[i]->err = err;
		g[i]->done = 1;
	}
	s->cq_groups++;
	s->cq_bulks += n;
	s->cq_busy = 0;
	pthread_cond_broadcast(&s->cq_cond);
}

int fsrv_bulk_commit(fsrv *s, ferry_bulk *b, ferry_err *err)
{
	fsrv_cq_item it;
	int rc;

	if ((rc = ferry_bulk_prepare(b, err)))
		return rc;
	memset(&it, 0, sizeof(it));
	it.b = b;
	pthread_mutex_lock(&s->cq_mu);
	if (s->cq_tail)
		s->cq_tail->next = &it;
	else
		s->cq_head = &it;
	s->cq_tail = &it;
	while (!it.done) {
		if (!s->cq_busy)
			lead(s);
		else
			pthread_cond_wait(&s->cq_cond, &s->cq_mu);
	}
	pthread_mutex_unlock(&s->cq_mu);
	if (it.rc && err)
		*err = it.err;
	return it.rc;
}
