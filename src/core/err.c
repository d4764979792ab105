/*
 * err.c - error codes to text, and filling a caller's ferry_err.
 */
#include "core/err.h"

#include <stdio.h>
#include <string.h>

static const char *const messages[FERRY_ECODE_END] = {
	[FERRY_OK] = "success",
	[FERRY_ENOTFOUND] = "not found",
	[FERRY_EEXISTS] = "already exists",
	[FERRY_EINVAL] = "invalid argument",
	[FERRY_EJSON] = "invalid JSON",
	[FERRY_ENAME] = "invalid name or id",
	[FERRY_EIO] = "I/O error",
	[FERRY_ENOMEM] = "out of memory",
	[FERRY_EFULL] = "data file or disk is full",
	[FERRY_EHORIZON] = "change log does not reach back that far",
	[FERRY_EBUSY] = "locked by another owner",
	[FERRY_EVERSION] = "bad version or version rule violated",
	[FERRY_ECORRUPT] = "stored data is corrupt",
	[FERRY_ELIMIT] = "limit exceeded",
	[FERRY_EPERM] = "operation not permitted",
	[FERRY_ENOTINIT] = "data directory not initialised (run `ferry init`)",
	[FERRY_EOF] = "end of iteration",
	[FERRY_EINTERNAL] = "internal error (a bug: please report it)",
};

const char *ferry_strerror(int code)
{
	if (code < 0 || code >= FERRY_ECODE_END)
		return "unknown error code";
	return messages[code];
}

int ferry_err_set(ferry_err *err, int code, const char *fmt, ...)
{
	if (!err)
		return code;
	err->code = code;
	if (!fmt) {
		snprintf(err->msg, sizeof err->msg, "%s", ferry_strerror(code));
		return code;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return code;
}
