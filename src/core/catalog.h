/*
 * catalog.h - the catalog: deployment settings, index records, aliases,
 * versions and tenants, kept as small JSON records in the store's
 * key/value table, inside the caller's transaction. Keys:
 *
 *   settings            {"release","data_version","data_parts",
 *                        "index_budget","next_ix","created_ms"}
 *   index/<physical>    {"ix","tenant","index","version","created_ms"}
 *   ibody/<physical>    the create-index body as given
 *   alias/<alias>       physical name (raw bytes)
 *   version/<data ver>  {"data_version","release","state","from",
 *                        "created_ms","activated_ms","history":[...]}
 *   tenant/<name>       {"created_ms"}
 *
 * Nothing here is cached across transactions: several processes share a
 * data dir, and a record read in a transaction is the truth for it.
 */
#ifndef FERRY_CATALOG_H
#define FERRY_CATALOG_H

#include <stdint.h>

#include "core/buf.h"
#include "ferry/ferry.h"
#include "store/store.h"

typedef struct fcat_settings {
	char release[64];
	char data_version[64];
	unsigned data_parts;
	unsigned index_budget;
	uint32_t next_ix;
	int64_t created_ms;
} fcat_settings;

typedef struct fcat_index {
	char name[FERRY_NAME_MAX + 1];
	uint32_t ix;
	char tenant[FERRY_PART_MAX + 1];
	char index[FERRY_PART_MAX + 1];
	char version[64];
	int64_t created_ms;
} fcat_index;

typedef struct fcat_version {
	char data_version[64];
	char release[64];
	char state[16];
	char from[64];
	int64_t created_ms;
	int64_t activated_ms;
	fbuf history; /* JSON array text; fcat_version_release() frees it */
} fcat_version;

int64_t fcat_now_ms(void);

/* FERRY_ENOTINIT if the data dir was never initialised. */
int fcat_settings_get(fstore_txn *t, fcat_settings *out, ferry_err *err);
int fcat_settings_put(fstore_txn *t, const fcat_settings *s, ferry_err *err);

int fcat_index_get(fstore_txn *t, const char *physical, fcat_index *out);
int fcat_index_put(fstore_txn *t, const fcat_index *ix, ferry_err *err);
int fcat_index_del(fstore_txn *t, const char *physical);
/* Visits every index record in name order. */
/* The number of indices (their records, not read). */
int fcat_index_count(fstore_txn *t, size_t *n);
int fcat_index_each(fstore_txn *t, int (*fn)(void *ctx, const fcat_index *),
		    void *ctx);

/* Resolves a logical name, alias or physical name to its index record.
 * *via_alias is set when the name was an alias (or logical) name. */
int fcat_resolve(fstore_txn *t, const char *name, fcat_index *out,
		 int *via_alias, ferry_err *err);

/* Documents are written only to indices of the active data version: the
 * old set is read-only after a switch, a set being built belongs to the
 * upgrade. FERRY_EPERM with a message otherwise. */
int fcat_check_writable(fstore_txn *t, const fcat_index *ix, ferry_err *err);

int fcat_alias_get(fstore_txn *t, const char *alias,
		   char out[FERRY_NAME_MAX + 1]);
int fcat_alias_put(fstore_txn *t, const char *alias, const char *physical,
		   ferry_err *err);
int fcat_alias_del(fstore_txn *t, const char *alias);
/* The alias pointing at `physical`, or "" (aliases are "{tenant}.{index}"
 * so at most one alias can name a given tenant/index pair). */
int fcat_alias_of(fstore_txn *t, const fcat_index *ix,
		  char out[FERRY_NAME_MAX + 1]);

int fcat_version_get(fstore_txn *t, const char *data_version,
		     fcat_version *out);
int fcat_version_put(fstore_txn *t, const fcat_version *v, ferry_err *err);
/* Appends {"at":ms,"event":event,...extra} to v->history; `extra` is
 * either NULL or more JSON members without braces ("\"release\":\"x\""). */
int fcat_version_event(fcat_version *v, const char *event, const char *extra);
void fcat_version_release(fcat_version *v);
int fcat_version_each(fstore_txn *t,
		      int (*fn)(void *ctx, fcat_version *v), void *ctx);

int fcat_tenant_put(fstore_txn *t, const char *tenant, ferry_err *err);
int fcat_tenant_exists(fstore_txn *t, const char *tenant);
/* Removes the tenant record only (its indices are the caller's). */
int fcat_tenant_del(fstore_txn *t, const char *tenant);

#endif
