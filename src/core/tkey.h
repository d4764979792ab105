/*
 * tkey.h - tenant keys inside the core (the public half is the "Tenant
 * keys" block of ferry.h; the records are described in tkey.c). What is
 * here runs in the caller's write transaction, so that removing a tenant
 * and revoking its keys commit together.
 */
#ifndef FERRY_TKEY_H
#define FERRY_TKEY_H

#include <stddef.h>

#include "ferry/ferry.h"
#include "store/store.h"

/* Removes `tenant` from the scope of every key in transaction `t`; keys
 * left with no tenant are deleted, and *revoked (may be NULL) counts
 * them. Keys scoped to "*" are untouched. A later tenant of the same
 * name must not inherit an old tenant's keys: ferry_tenant_remove()
 * calls this in its own transaction. */
int ftkey_drop_tenant(fstore_txn *t, const char *tenant, size_t *revoked,
		      ferry_err *err);

#endif
