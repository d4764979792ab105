/*
 * doc.h - document helpers shared by the single-document and bulk APIs.
 */
#ifndef FERRY_DOC_H
#define FERRY_DOC_H

#include <stddef.h>

#include "ferry/ferry.h"

/* Validates a document body: a JSON object of at most FERRY_DOC_MAX
 * bytes. The message gives the byte offset of the first problem. */
int fdoc_check_body(const char *body, size_t len, ferry_err *err);

#endif
