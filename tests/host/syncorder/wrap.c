/** @file wrap.c  Watches the order of disk writes, syncs and answers in a
 * build of the daemon linked with -Wl,--wrap for fdatasync, fsync, msync,
 * pwrite, write, writev, sendto and send (see CMakeLists.txt beside it).
 *
 * Each line of the log named by SYNCORDER_LOG is one event, in the order
 * they happened:
 *   W <n>   a write to a file held "dur-<n>#" or "dur-<n>_" (a record)
 *   S       fdatasync, fsync or msync returned
 *   M       a write of an LMDB meta page (offset below 2 pages) returned
 *   A <n>   a 2xx response for Call-ID "dur-<n>@..." was sent
 * syncorder.py reads it. LMDB must be linked statically (liblmdb.a) for
 * its calls to be seen; the daemon's own logging goes through stdio,
 * which glibc writes with its internal __write, not through write().
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __real_pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t __real_writev(int fd, const struct iovec *iov, int cnt);
int __real_fdatasync(int fd);
int __real_fsync(int fd);
int __real_msync(void *addr, size_t len, int flags);
ssize_t __real_sendto(int fd, const void *buf, size_t n, int flags,
		      const struct sockaddr *to, socklen_t tolen);
ssize_t __real_send(int fd, const void *buf, size_t n, int flags);

ssize_t __wrap_write(int fd, const void *buf, size_t n);
ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t __wrap_writev(int fd, const struct iovec *iov, int cnt);
int __wrap_fdatasync(int fd);
int __wrap_fsync(int fd);
int __wrap_msync(void *addr, size_t len, int flags);
ssize_t __wrap_sendto(int fd, const void *buf, size_t n, int flags,
		      const struct sockaddr *to, socklen_t tolen);
ssize_t __wrap_send(int fd, const void *buf, size_t n, int flags);

static int log_fd = -2;

static void note(const char *line)
{
	if (log_fd == -2) {
		const char *path = getenv("SYNCORDER_LOG");

		log_fd = path ? open(path, O_WRONLY | O_CREAT | O_APPEND,
				     0600) : -1;
	}
	if (log_fd >= 0 && __real_write(log_fd, line, strlen(line)) < 0) {
		log_fd = -1;
	}
}

/* Every "dur-<n>#" in buf is a W line. */
static void scan_written(const void *buf, size_t n)
{
	const char *p = buf, *end = p + n;
	char line[32];

	while (p + 5 < end && (p = memmem(p, (size_t)(end - p), "dur-", 4))) {
		const char *d = p + 4;
		unsigned long v = 0;

		while (d < end && *d >= '0' && *d <= '9') {
			v = v * 10 + (unsigned long)(*d++ - '0');
		}
		if (d < end && (*d == '#' || *d == '_') && d > p + 4) {
			snprintf(line, sizeof(line), "W %lu\n", v);
			note(line);
		}
		p = d;
	}
}

/* A 2xx answer whose Call-ID is dur-<n>@... is an A line. */
static void scan_sent(const void *buf, size_t n)
{
	const char *p = buf, *c;
	char line[32];

	if (n < 12 || memcmp(p, "SIP/2.0 2", 9)) {
		return;
	}
	c = memmem(p, n, "Call-ID: dur-", 13);
	if (c) {
		snprintf(line, sizeof(line), "A %lu\n",
			 strtoul(c + 13, NULL, 10));
		note(line);
	}
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	ssize_t r = __real_write(fd, buf, n);

	scan_written(buf, n);
	return r;
}

ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	ssize_t r = __real_pwrite(fd, buf, n, off);

	scan_written(buf, n);
	if (off < 2 * 4096) {
		note("M\n");
	}
	return r;
}

ssize_t __wrap_writev(int fd, const struct iovec *iov, int cnt)
{
	ssize_t r = __real_writev(fd, iov, cnt);
	int i;

	for (i = 0; i < cnt; i++) {
		scan_written(iov[i].iov_base, iov[i].iov_len);
	}
	return r;
}

int __wrap_fdatasync(int fd)
{
	int r = __real_fdatasync(fd);

	note("S\n");
	return r;
}

int __wrap_fsync(int fd)
{
	int r = __real_fsync(fd);

	note("S\n");
	return r;
}

int __wrap_msync(void *addr, size_t len, int flags)
{
	int r = __real_msync(addr, len, flags);

	note("S\n");
	return r;
}

ssize_t __wrap_sendto(int fd, const void *buf, size_t n, int flags,
		      const struct sockaddr *to, socklen_t tolen)
{
	scan_sent(buf, n);
	return __real_sendto(fd, buf, n, flags, to, tolen);
}

ssize_t __wrap_send(int fd, const void *buf, size_t n, int flags)
{
	scan_sent(buf, n);
	return __real_send(fd, buf, n, flags);
}
