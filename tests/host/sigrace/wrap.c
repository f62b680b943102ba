/** @file wrap.c  Sends the daemon SIGTERM at the worst moment, in a build
 * linked with -Wl,--wrap for epoll_wait, recvfrom and recvmmsg (see
 * CMakeLists.txt
 * beside it): after the loop has taken its signal flags and just before
 * it sleeps in epoll_wait() with nothing due for a long time.
 *
 * SIGRACE in the environment says which sleep:
 *   start   the first one (the daemon has just logged its start-up)
 *   recv    the first one after a datagram was read (and answered)
 * The daemon must still stop at once and exit 0. A port that folds the
 * signal into a flag from a handler sleeps instead, until the next event.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

int __real_epoll_wait(int epfd, struct epoll_event *evs, int max,
		      int timeout);
ssize_t __real_recvfrom(int fd, void *buf, size_t n, int flags,
			struct sockaddr *from, socklen_t *fromlen);

int __wrap_epoll_wait(int epfd, struct epoll_event *evs, int max,
		      int timeout);
ssize_t __wrap_recvfrom(int fd, void *buf, size_t n, int flags,
			struct sockaddr *from, socklen_t *fromlen);
int __real_recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags,
		    struct timespec *t);
int __wrap_recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags,
		    struct timespec *t);

/* 0: not yet decided; 1: at the next sleep; 2: after a datagram; 3: done
 * or not asked for. */
static int armed;

static void arm(void)
{
	const char *when = getenv("SIGRACE");

	if (!when) {
		armed = 3;
	} else if (!strcmp(when, "start")) {
		armed = 1;
	} else if (!strcmp(when, "recv")) {
		armed = 2;
	} else {
		armed = 3;
	}
}

int __wrap_epoll_wait(int epfd, struct epoll_event *evs, int max,
		      int timeout)
{
	if (!armed) {
		arm();
	}
	if (armed == 1 && timeout != 0) {
		armed = 3;
		kill(getpid(), SIGTERM);
	}
	return __real_epoll_wait(epfd, evs, max, timeout);
}

ssize_t __wrap_recvfrom(int fd, void *buf, size_t n, int flags,
			struct sockaddr *from, socklen_t *fromlen)
{
	ssize_t r = __real_recvfrom(fd, buf, n, flags, from, fromlen);

	if (!armed) {
		arm();
	}
	if (armed == 2 && r > 0) {
		armed = 1;
	}
	return r;
}

/* The UDP listeners read in batches: the same as recvfrom. */
int __wrap_recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags,
		    struct timespec *t)
{
	int r = __real_recvmmsg(fd, v, n, flags, t);

	if (!armed) {
		arm();
	}
	if (armed == 2 && r > 0) {
		armed = 1;
	}
	return r;
}
