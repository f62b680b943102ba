/** @file port_os.c  What the POSIX and lwIP backends share on a Linux
 * host: the clocks, random bytes, the log sink, the state directory's
 * filesystem and reserved memory (the network is each backend's own).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/vfs.h>
#include <syslog.h>
#include <time.h>

#include "port.h"
#include "port_os.h"

/* ------------------------------------------------------ socket addresses */

socklen_t port_os_to_sockaddr(struct sockaddr_storage *ss,
			      const struct port_addr *a)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == PORT_AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		memcpy(&s6->sin6_addr, a->ip, 16);
		return sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		memcpy(&s4->sin_addr, a->ip, 4);
		return sizeof(*s4);
	}
}

void port_os_from_sockaddr(struct port_addr *a,
			   const struct sockaddr_storage *ss)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		a->family = PORT_AF_INET6;
		a->port = ntohs(s6->sin6_port);
		memcpy(a->ip, &s6->sin6_addr, 16);
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		a->family = PORT_AF_INET;
		a->port = ntohs(s4->sin_port);
		memcpy(a->ip, &s4->sin_addr, 4);
	}
}

static int use_syslog;
static int errors_to_stderr;

uint32_t port_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000u +
			  (uint64_t)ts.tv_nsec / 1000000u);
}

uint64_t port_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* time() past 2038 (32-bit glibc: _TIME_BITS=64, set by the build). */
_Static_assert(sizeof(time_t) >= 8, "time_t must be 64-bit");

int64_t port_wall_s(void)
{
	return (int64_t)time(NULL);
}

int port_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void port_log_syslog(const char *ident)
{
	openlog(ident, LOG_PID, LOG_DAEMON);
	use_syslog = 1;
}

void port_log_errors_to_stderr(int on)
{
	errors_to_stderr = on;
}

void port_log(int level, const char *line)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	static const char *const tag[] = {"err", "warn", "info", "debug"};

	if (level < PORT_LOG_ERR || level > PORT_LOG_DEBUG) {
		level = PORT_LOG_DEBUG;
	}
	if (use_syslog) {
		syslog(prio[level], "%s", line);
	}
	if (!use_syslog || (errors_to_stderr && level == PORT_LOG_ERR)) {
		fprintf(stderr, "simpled[%s]: %s\n", tag[level], line);
	}
}

/* ---------------------------------------------------------- filesystems */

/* statfs f_type values (linux/magic.h). */
#define FS_JFFS2 0x72b6
#define FS_TMPFS 0x01021994
#define FS_RAMFS 0x858458f6
#define FS_OVERLAY 0x794c7630
#define FS_UBIFS 0x24051905
#define FS_EXT4 0xef53
#define FS_SQUASHFS 0x73717368

/* The upper directory of the overlay mounted at the longest mount point
 * above path (OpenWrt's / over /overlay/upper), from mountinfo. */
static int overlay_upper(const char *mountinfo, const char *path,
			 char *upper, size_t size)
{
	char line[4096], mnt[512], opts[3072];
	size_t best = 0;
	FILE *f = fopen(mountinfo, "r");

	if (!f) {
		return errno;
	}
	upper[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		const char *dash = strstr(line, " - overlay ");
		const char *u;
		size_t n;

		/* id parent maj:min root mountpoint ... - overlay src opts */
		if (!dash || sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1 ||
		    sscanf(dash + 11, "%*s %3071s", opts) != 1) {
			continue;
		}
		n = strlen(mnt);
		if (strncmp(path, mnt, n) ||
		    (path[n] != '/' && path[n] != '\0' && n > 1) ||
		    n < best) {
			continue;
		}
		u = strstr(opts, "upperdir=");
		if (u) {
			best = n;
			snprintf(upper, size, "%.*s", (int)strcspn(u + 9, ","),
				 u + 9);
		}
	}
	fclose(f);
	return upper[0] ? 0 : ENOENT;
}

int port_fs_kind(const char *path, enum port_fs *kind, char *name,
		 size_t size)
{
	static const struct {
		unsigned long magic;
		const char *name;
		enum port_fs kind;
	} known[] = {
		{FS_JFFS2, "jffs2", PORT_FS_JFFS2},
		{FS_TMPFS, "tmpfs", PORT_FS_RAM},
		{FS_RAMFS, "ramfs", PORT_FS_RAM},
		{FS_UBIFS, "ubifs", PORT_FS_DISK},
		{FS_EXT4, "ext4", PORT_FS_DISK},
		{FS_SQUASHFS, "squashfs", PORT_FS_DISK},
	};
	char upper[512], real[PATH_MAX];
	struct statfs st;
	size_t i;

	if (statfs(path, &st)) {
		return errno;
	}
	if ((unsigned long)st.f_type == FS_OVERLAY &&
	    realpath(path, real) &&
	    !overlay_upper("/proc/self/mountinfo", real, upper,
			   sizeof(upper)) &&
	    statfs(upper, &st)) {
		return errno;
	}
	*kind = PORT_FS_DISK;
	snprintf(name, size, "0x%lx", (unsigned long)st.f_type);
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if ((unsigned long)st.f_type == known[i].magic) {
			*kind = known[i].kind;
			snprintf(name, size, "%s", known[i].name);
		}
	}
	return 0;
}

/* -------------------------------------------------------------- memory */

void *port_reserve(size_t size)
{
	/* Anonymous pages are the zero page until written (calloc from the
	 * heap may clear, and so touch, what it reuses). */
	void *p = mmap(NULL, size ? size : 1, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void port_unreserve(void *p, size_t size)
{
	if (p) {
		munmap(p, size ? size : 1);
	}
}

