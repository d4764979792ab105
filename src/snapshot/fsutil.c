/*
 * fsutil.c - file helpers for snapshot repositories: crash-safe writes
 * (temp -> fsync -> rename -> fsync dir, Redis' habit), capped reads,
 * hex, SHA-256 and snapshot names.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/err.h"
#include "snapshot/snapshot.h"

int fsnap_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int rc = fsync(fd) ? errno : 0;
	close(fd);
	return rc == EINVAL ? 0 : rc; /* some file systems cannot */
}

int fsnap_mkdir(const char *dir)
{
	if (mkdir(dir, 0755) == 0 || errno == EEXIST)
		return 0;
	return errno;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int io_code(int e)
{
	return e == ENOSPC || e == EDQUOT ? FERRY_EFULL :
	       e == EACCES || e == EPERM || e == EROFS ? FERRY_EPERM :
	       e == ENOENT ? FERRY_ENOTFOUND : FERRY_EIO;
}

int fsnap_write_atomic(const char *dir, const char *name, const void *data,
		       size_t len, unsigned flags, ferry_err *err)
{
	static _Atomic unsigned counter;
	char tmp[FSNAP_PATH], dst[PATH_MAX];
	int e = 0, fd;
	if (snprintf(dst, sizeof dst, "%s/%s", dir, name) >= (int)sizeof dst ||
	    snprintf(tmp, sizeof tmp, "%s/.tmp-%ld-%u-%s", dir, (long)getpid(),
		     atomic_fetch_add(&counter, 1), name) >= (int)sizeof tmp)
		return ferry_err_set(err, FERRY_ELIMIT, "path too long in '%s'",
				     dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		e = errno;
		return ferry_err_set(err, io_code(e), "cannot create a file in "
			"'%s': %s", dir, strerror(e));
	}
	if ((e = write_all(fd, data, len)) == 0 && fsync(fd))
		e = errno;
	if (close(fd) && !e)
		e = errno;
	if (e) {
		unlink(tmp);
		return ferry_err_set(err, io_code(e), "cannot write '%s': %s", dst,
				     strerror(e));
	}
	if (flags & FSNAP_W_NOREPLACE) {
		if (link(tmp, dst)) {
			e = errno;
			unlink(tmp);
			if (e == EEXIST)
				return ferry_err_set(err, FERRY_EEXISTS, "'%s' already "
						     "exists", dst);
			return ferry_err_set(err, io_code(e), "cannot create '%s': %s",
					     dst, strerror(e));
		}
		unlink(tmp);
	} else if (rename(tmp, dst)) {
		e = errno;
		unlink(tmp);
		return ferry_err_set(err, io_code(e), "cannot rename into '%s': %s",
				     dst, strerror(e));
	}
	if (!(flags & FSNAP_W_NODIRSYNC) && (e = fsnap_fsync_dir(dir)))
		return ferry_err_set(err, io_code(e), "cannot fsync '%s': %s", dir,
				     strerror(e));
	return 0;
}

int fsnap_read_file(const char *path, size_t max, fbuf *out, ferry_err *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	fbuf_clear(out);
	if (fd < 0) {
		int e = errno;
		return ferry_err_set(err, e == ENOENT ? FERRY_ENOTFOUND :
				     io_code(e), "cannot open '%s': %s", path,
				     strerror(e));
	}
	if (fstat(fd, &st) || (uint64_t)st.st_size > max) {
		int big = (uint64_t)st.st_size > max;
		close(fd);
		return ferry_err_set(err, big ? FERRY_ELIMIT : FERRY_EIO, "'%s' is "
			"%s", path, big ? "larger than the limit" : "unreadable");
	}
	int rc = fbuf_grow(out, (size_t)st.st_size);
	while (!rc) {
		if (out->len == out->cap - 1 && (rc = fbuf_grow(out, 65536)))
			break;
		size_t room = out->cap - 1 - out->len;
		ssize_t n = read(fd, out->p + out->len, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = FERRY_EIO;
			break;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		if (out->len > max)
			rc = FERRY_ELIMIT;
	}
	close(fd);
	if (rc)
		return ferry_err_set(err, rc, "cannot read '%s': %s", path,
				     ferry_strerror(rc));
	out->p[out->len] = 0;
	return 0;
}

void fsnap_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
									 : -1;
}

int fsnap_unhex(const char *s, size_t n, unsigned char *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

void fsnap_sha256(const void *p, size_t n, unsigned char out[32])
{
	unsigned int len = 0;
	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

int fsnap_check_name(const char *name, ferry_err *err)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > FSNAP_NAME_MAX)
		return ferry_err_set(err, FERRY_ENAME, "snapshot name must be 1 to "
				     "%d characters", FSNAP_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			 (i && (c == '.' || c == '_' || c == '-'));
		if (!ok)
			return ferry_err_set(err, FERRY_ENAME, "bad snapshot name "
				"'%.*s': character %zu ('%c') is not allowed; use a-z "
				"0-9 . _ - and start with a letter or digit",
				FSNAP_NAME_MAX, name, i + 1,
				c >= 32 && c < 127 ? c : '?');
	}
	return 0;
}

int64_t fsnap_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fsnap_host(char out[128])
{
	if (gethostname(out, 127) || !out[0])
		snprintf(out, 128, "localhost");
	out[127] = 0;
}

int fsnap_fsync_chunkdirs(const struct fsnap_repo *r, const uint64_t dirs[4],
			  ferry_err *err)
{
	char dir[FSNAP_PATH];
	for (int i = 0; i < 256; i++) {
		if (!(dirs[i >> 6] >> (i & 63) & 1))
			continue;
		snprintf(dir, sizeof dir, "%s/chunks/%02x", r->path, i);
		int e = fsnap_fsync_dir(dir);
		if (e && e != ENOENT)
			return ferry_err_set(err, io_code(e), "cannot fsync '%s': "
					     "%s", dir, strerror(e));
	}
	return 0;
}
