/*
 * err.h - internal helper to fill a caller's ferry_err and return the code:
 *     return ferry_err_set(err, FERRY_ENOTFOUND, "no index '%s'", name);
 */
#ifndef FERRY_ERR_H
#define FERRY_ERR_H

#include <stdarg.h>

#include "ferry/ferry.h"

int ferry_err_set(ferry_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
