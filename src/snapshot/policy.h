/*
 * policy.h - snapshot lifecycle policies (Elasticsearch SLM): the cron
 * schedule, the date-math snapshot name, and the retention arithmetic,
 * as pure functions the policy runner (policy.c) and its tests use.
 */
#ifndef FERRY_POLICY_H
#define FERRY_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/ferry.h"

/* A cron schedule in UTC: 5 fields "min hour dom month dow" or Quartz's
 * 6/7 "sec min hour dom month dow [year]" as Elasticsearch SLM writes
 * them ("0 30 1 * * ?"); seconds must be 0 and a year field is ignored.
 * Fields take *, ?, numbers, a-b ranges, lists and /steps; dow 0-7
 * (0 and 7 are Sunday) or SUN-SAT, month 1-12 or JAN-DEC. */
typedef struct fslm_cron {
	uint64_t min;   /* bit per minute 0..59 */
	uint32_t hour;  /* 0..23 */
	uint32_t dom;   /* 1..31 */
	uint16_t month; /* 1..12 */
	uint8_t dow;    /* 0..6 */
	int dom_any, dow_any;
} fslm_cron;

int fslm_cron_parse(const char *expr, fslm_cron *out, ferry_err *err);
/* The first minute strictly after `after_ms` that matches; FERRY_ENOTFOUND
 * if none in the next 5 years (e.g. "0 0 31 2 *"). */
int fslm_cron_next(const fslm_cron *c, int64_t after_ms, int64_t *next_ms);

/* "<nightly-{now/d}>" -> "nightly-2026.11.22" (UTC). Supports {now},
 * {now/d}, {now/M}, {now/y}, {now/H}, {now/m} and an explicit format
 * {now/d{yyyy.MM.dd}} with yyyy MM dd HH mm ss. A name without <...> is
 * used as it is. FERRY_EINVAL for a bad expression. */
int fslm_name_expand(const char *pattern, int64_t now_ms, char *out,
		     size_t n, ferry_err *err);

/* "30d", "12h", "90m", "2w" -> milliseconds. */
int fslm_duration_ms(const char *s, int64_t *out, ferry_err *err);

typedef struct fslm_retention {
	int64_t expire_after_ms; /* 0: no age limit */
	unsigned min_count;      /* always keep at least this many */
	unsigned max_count;      /* 0: no count limit */
} fslm_retention;

/* Retention like SLM over a policy's successful snapshots, oldest first
 * (start_ms ascending): del[i] = 1 for those to delete. Expired ones go
 * while more than min_count remain; then the oldest beyond max_count.
 * Returns how many are marked. */
size_t fslm_retention_pick(const int64_t *start_ms, size_t n,
			   const fslm_retention *r, int64_t now_ms,
			   unsigned char *del);

#endif
