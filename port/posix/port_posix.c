/** @file port_posix.c  POSIX port: non-blocking sockets, epoll, monotonic
 * clock, getrandom and stderr/syslog logging for Linux and OpenWrt.
 *
 * Signals: SIGTERM, SIGINT and SIGHUP are blocked and read from a signalfd
 * that epoll watches beside the sockets, so a signal sent at any moment,
 * including just before the loop goes to sleep, wakes epoll_wait() at once
 * (a handler setting a flag would be seen only after the next event or
 * timer). They stay blocked after port_close_all(): one arriving while the
 * daemon stops is left pending, not taken as a kill.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/errqueue.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "port.h"
#include "port_os.h"

/* One slot per file descriptor; fds above this are refused. */
#define PORT_MAX_FDS 4096
#define PORT_EPOLL_BATCH 64

struct watch {
	port_ev_h *h;
	void *arg;
	unsigned events;
};

static struct watch watches[PORT_MAX_FDS];
static int epfd = -1;
static int sigfd = -1;
/* Signals read from sigfd, for port_signals_take(); written by port_poll()
 * only, never from a handler. */
static unsigned sig_flags;

/* Block the signals the loop takes and open a signalfd for them, watched
 * by epoll. Blocking first: one sent before signalfd() stays pending. */
static int signals_open(void)
{
	struct epoll_event ev;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
		return errno;
	}
	sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigfd < 0) {
		return errno;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = sigfd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, sigfd, &ev) < 0) {
		return errno;
	}
	return 0;
}

/* Fold every signal queued on sigfd into sig_flags. */
static void signals_read(void)
{
	struct signalfd_siginfo si;

	while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			sig_flags |= PORT_SIG_TERM;
		} else if (si.ssi_signo == SIGHUP) {
			sig_flags |= PORT_SIG_HUP;
		}
	}
}

int port_init(void)
{
	int err;

	if (epfd >= 0) {
		return 0;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0) {
		return errno;
	}
	err = signals_open();
	if (err) {
		port_close_all();
		return err;
	}
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

void port_close_all(void)
{
	int fd;

	for (fd = 0; fd < PORT_MAX_FDS; fd++) {
		if (watches[fd].h) {
			port_close(fd);
		}
	}
	if (sigfd >= 0) {
		close(sigfd);
		sigfd = -1;
	}
	if (epfd >= 0) {
		close(epfd);
		epfd = -1;
	}
	sig_flags = 0;
}

unsigned port_signals_take(void)
{
	unsigned s = sig_flags;

	sig_flags = 0;
	return s;
}

/* errno of a failed socket call, with EWOULDBLOCK spelled EAGAIN. */
static int sock_errno(void)
{
	return errno == EWOULDBLOCK ? EAGAIN : errno;
}

static int new_socket(int *sock, const struct port_addr *a, int type)
{
	int fd = socket(a->family == PORT_AF_INET6 ? AF_INET6 : AF_INET,
			type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		return errno;
	}
	if (fd >= PORT_MAX_FDS) {
		close(fd);
		return EMFILE;
	}
	*sock = fd;
	return 0;
}

static int bind_socket(int fd, const struct port_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t sl = port_os_to_sockaddr(&ss, a);
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->family == PORT_AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		return errno;
	}
	return 0;
}

/* A new socket bound to a, listening when it is a stream; closed again
 * on failure. */
#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78 /* Linux 4.15; older headers lack the name */
#endif

static int open_bound(int *sock, const struct port_addr *a, int type)
{
	int err = new_socket(sock, a, type);
	int one = 1;

	if (err) {
		return err;
	}
	/* An address the interface does not have yet (the LAN not up at
	 * boot) can be bound: it is served once the interface has it. */
	if (a->family == PORT_AF_INET6) {
		setsockopt(*sock, IPPROTO_IPV6, IPV6_FREEBIND, &one,
			   sizeof(one));
	} else {
		setsockopt(*sock, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	}
	err = bind_socket(*sock, a);
	if (!err && type == SOCK_STREAM && listen(*sock, 64) < 0) {
		err = errno;
	}
	if (err) {
		close(*sock);
		*sock = -1;
	}
	return err;
}

int port_udp_open(int *sock, const struct port_addr *bind)
{
	int err = open_bound(sock, bind, SOCK_DGRAM);
	int one = 1;

	if (!err) {
		/* ICMP errors for what we send reach the error queue. */
		if (bind->family == PORT_AF_INET6) {
			setsockopt(*sock, IPPROTO_IPV6, IPV6_RECVERR, &one,
				   sizeof(one));
		} else {
			setsockopt(*sock, IPPROTO_IP, IP_RECVERR, &one,
				   sizeof(one));
		}
	}
	return err;
}

int port_udp_rcvbuf(int sock, size_t bytes, size_t *got)
{
	int v = bytes > INT_MAX / 2 ? INT_MAX / 2 : (int)bytes;
	socklen_t sl = sizeof(v);

	/* Past rmem_max when the process may (CAP_NET_ADMIN), else up to
	 * it. Linux doubles what it is given, for its bookkeeping, and
	 * reports the doubled size. */
	if (setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) &&
	    setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v))) {
		return errno;
	}
	if (getsockopt(sock, SOL_SOCKET, SO_RCVBUF, &v, &sl)) {
		return errno;
	}
	*got = (size_t)v / 2;
	return 0;
}

int port_recv_error(int sock, void *buf, size_t *len, struct port_addr *dst)
{
	struct sockaddr_storage ss;
	char ctl[512];
	struct iovec iov = {buf, *len};
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &ss;
	mh.msg_namelen = sizeof(ss);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl;
	mh.msg_controllen = sizeof(ctl);
	n = recvmsg(sock, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
	if (n < 0) {
		return sock_errno();
	}
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		struct sock_extended_err ee;

		if (!((c->cmsg_level == IPPROTO_IP &&
		       c->cmsg_type == IP_RECVERR) ||
		      (c->cmsg_level == IPPROTO_IPV6 &&
		       c->cmsg_type == IPV6_RECVERR))) {
			continue;
		}
		memcpy(&ee, CMSG_DATA(c), sizeof(ee));
		if ((ee.ee_origin == SO_EE_ORIGIN_ICMP ||
		     ee.ee_origin == SO_EE_ORIGIN_ICMP6) &&
		    (ee.ee_errno == ECONNREFUSED ||
		     ee.ee_errno == EHOSTUNREACH ||
		     ee.ee_errno == ENETUNREACH)) {
			port_os_from_sockaddr(dst, &ss);
			*len = (size_t)n;
			return 0;
		}
	}
	*len = 0;
	return EPROTO; /* not an unreachable: nothing to report */
}

int port_tcp_listen(int *sock, const struct port_addr *bind)
{
	return open_bound(sock, bind, SOCK_STREAM);
}

int port_tcp_accept(int lsock, int *sock, struct port_addr *peer)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int one = 1;
	int fd = accept4(lsock, (struct sockaddr *)&ss, &sl,
			 SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		return sock_errno();
	}
	if (fd >= PORT_MAX_FDS) {
		close(fd);
		return EMFILE;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	port_os_from_sockaddr(peer, &ss);
	*sock = fd;
	return 0;
}

static int local_sockaddr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		return ENAMETOOLONG;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

int port_local_connect(int *sock, const char *path, unsigned timeout_ms)
{
	struct timeval tv = {(time_t)(timeout_ms / 1000),
			     (suseconds_t)(timeout_ms % 1000) * 1000};
	struct sockaddr_un sa;
	int fd, err = local_sockaddr(&sa, path);

	if (err) {
		return err;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return errno;
	}
	/* Before connect, which a full backlog blocks (SO_SNDTIMEO). */
	if (timeout_ms) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = errno;
		close(fd);
		return err == EAGAIN ? ETIMEDOUT : err;
	}
	*sock = fd;
	return 0;
}

int port_local_listen(int *sock, const char *path, unsigned mode)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old_mask;
	int fd, probe, err = local_sockaddr(&sa, path);

	if (err) {
		return err;
	}
	/* Someone answers there: another daemon; a stale socket is
	 * replaced; anything else at that path is not ours to remove. */
	if (!port_local_connect(&probe, path, 1000)) {
		close(probe);
		return EADDRINUSE;
	}
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			return EEXIST;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return errno;
	}
	if (fd >= PORT_MAX_FDS) {
		close(fd);
		return EMFILE;
	}
	/* Created with no permission for anyone else, then set to mode:
	 * nobody can connect in between. */
	old_mask = umask(0177);
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? errno : 0;
	umask(old_mask);
	if (err || chmod(path, mode) < 0 || listen(fd, 16) < 0) {
		err = err ? err : errno;
		close(fd);
		return err;
	}
	*sock = fd;
	return 0;
}

int port_local_accept(int lsock, int *sock)
{
	int fd = accept4(lsock, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		return sock_errno();
	}
	if (fd >= PORT_MAX_FDS) {
		close(fd);
		return EMFILE;
	}
	*sock = fd;
	return 0;
}

int port_tcp_connect(int *sock, const struct port_addr *dst)
{
	struct sockaddr_storage ss;
	socklen_t sl = port_os_to_sockaddr(&ss, dst);
	int one = 1;
	int err = new_socket(sock, dst, SOCK_STREAM);

	if (err) {
		return err;
	}
	setsockopt(*sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(*sock, (struct sockaddr *)&ss, sl) < 0 &&
	    errno != EINPROGRESS) {
		err = errno;
		close(*sock);
		*sock = -1;
		return err;
	}
	return 0;
}

int port_local_addr(int sock, struct port_addr *addr)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(sock, (struct sockaddr *)&ss, &sl) < 0) {
		return errno;
	}
	port_os_from_sockaddr(addr, &ss);
	return 0;
}

int port_addr_is_local(const struct port_addr *a)
{
	struct ifaddrs *ifs = NULL, *i;
	int found = 0;

	/* Asked afresh each time: a router's addresses come and go (PPP,
	 * DHCP), and the question is rare (a contact at our own port). */
	if (getifaddrs(&ifs)) {
		return 0;
	}
	for (i = ifs; i && !found; i = i->ifa_next) {
		struct sockaddr_storage ss;
		struct port_addr x;
		size_t sl;

		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET &&
				     i->ifa_addr->sa_family != AF_INET6)) {
			continue;
		}
		sl = i->ifa_addr->sa_family == AF_INET6 ?
		     sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, i->ifa_addr, sl);
		port_os_from_sockaddr(&x, &ss);
		found = x.family == a->family &&
			!memcmp(x.ip, a->ip,
				a->family == PORT_AF_INET6 ? 16 : 4);
	}
	freeifaddrs(ifs);
	return found;
}

int port_sendto(int sock, const void *buf, size_t len,
		const struct port_addr *dst)
{
	struct sockaddr_storage ss;
	socklen_t sl = port_os_to_sockaddr(&ss, dst);

	if (sendto(sock, buf, len, 0, (struct sockaddr *)&ss, sl) < 0) {
		/* A refusal pending from an earlier datagram (IP_RECVERR)
		 * is that one's, not this one's: send again. */
		if (errno != ECONNREFUSED ||
		    sendto(sock, buf, len, 0, (struct sockaddr *)&ss, sl) < 0) {
			return sock_errno();
		}
	}
	return 0;
}

int port_recvfrom(int sock, void *buf, size_t *len, struct port_addr *src)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	ssize_t n = recvfrom(sock, buf, *len, MSG_TRUNC,
			     (struct sockaddr *)&ss, &sl);
	int err;

	if (n < 0) {
		return sock_errno();
	}
	port_os_from_sockaddr(src, &ss);
	/* MSG_TRUNC: n is the datagram's real size; the buffer holds its
	 * first *len bytes. */
	err = (size_t)n > *len ? EMSGSIZE : 0;
	if (!err) {
		*len = (size_t)n;
	}
	return err;
}

#define PORT_BATCH_MAX 32

/* The headers of a recvmmsg/sendmmsg for d[0..n), n <= PORT_BATCH_MAX:
 * to send, each datagram's bytes and where it goes; to receive, its room
 * and space for where it came from. */
struct mm_batch {
	struct mmsghdr mm[PORT_BATCH_MAX];
	struct sockaddr_storage ss[PORT_BATCH_MAX];
	struct iovec iov[PORT_BATCH_MAX];
};

static void mm_setup(struct mm_batch *b, const struct port_dgram *d,
		     unsigned n, int send)
{
	unsigned i;

	memset(b->mm, 0, sizeof(b->mm[0]) * n);
	for (i = 0; i < n; i++) {
		b->iov[i].iov_base = d[i].buf;
		b->iov[i].iov_len = send ? d[i].len : d[i].size;
		b->mm[i].msg_hdr.msg_iov = &b->iov[i];
		b->mm[i].msg_hdr.msg_iovlen = 1;
		b->mm[i].msg_hdr.msg_name = &b->ss[i];
		b->mm[i].msg_hdr.msg_namelen = send ?
			port_os_to_sockaddr(&b->ss[i], &d[i].peer) :
			sizeof(b->ss[i]);
	}
}

int port_recv_batch(int sock, struct port_dgram *d, unsigned n,
		    unsigned *got)
{
	struct mm_batch b;
	struct mmsghdr *mm = b.mm;
	struct sockaddr_storage *ss = b.ss;
	unsigned i;
	int r;

	if (n > PORT_BATCH_MAX) {
		n = PORT_BATCH_MAX;
	}
	mm_setup(&b, d, n, 0);
	r = recvmmsg(sock, mm, n, MSG_DONTWAIT, NULL);
	if (r <= 0) {
		*got = 0;
		return r < 0 ? sock_errno() : EAGAIN;
	}
	for (i = 0; i < (unsigned)r; i++) {
		d[i].truncated = (mm[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
		d[i].len = mm[i].msg_len < d[i].size ? mm[i].msg_len :
			   d[i].size;
		port_os_from_sockaddr(&d[i].peer, &ss[i]);
	}
	*got = (unsigned)r;
	return 0;
}

int port_send_batch(int sock, const struct port_dgram *d, unsigned n,
		    unsigned *sent)
{
	struct mm_batch b;
	int r;

	if (n > PORT_BATCH_MAX) {
		n = PORT_BATCH_MAX;
	}
	mm_setup(&b, d, n, 1);
	r = sendmmsg(sock, b.mm, n, 0);
	if (r < 0 && errno == ECONNREFUSED) {
		/* A refusal pending from an earlier datagram (IP_RECVERR)
		 * is that one's, not these ones': send again. */
		r = sendmmsg(sock, b.mm, n, 0);
	}
	if (r <= 0) {
		*sent = 0;
		return r < 0 ? sock_errno() : EAGAIN;
	}
	*sent = (unsigned)r;
	return 0;
}

int port_send(int sock, const void *buf, size_t len, size_t *sent)
{
	ssize_t n = send(sock, buf, len, MSG_NOSIGNAL);

	if (n < 0) {
		*sent = 0;
		return sock_errno();
	}
	*sent = (size_t)n;
	return 0;
}

int port_recv(int sock, void *buf, size_t len, size_t *got)
{
	ssize_t n = recv(sock, buf, len, 0);

	if (n < 0) {
		*got = 0;
		return sock_errno();
	}
	*got = (size_t)n;
	return 0;
}

int port_close(int sock)
{
	if (sock < 0 || sock >= PORT_MAX_FDS) {
		return EINVAL;
	}
	if (watches[sock].events && epfd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, sock, NULL);
	}
	memset(&watches[sock], 0, sizeof(watches[sock]));
	return close(sock) < 0 ? errno : 0;
}

int port_watch(int sock, unsigned events, port_ev_h *h, void *arg)
{
	struct epoll_event ev;
	int op;

	if (sock < 0 || sock >= PORT_MAX_FDS || epfd < 0) {
		return EINVAL;
	}
	memset(&ev, 0, sizeof(ev));
	ev.data.fd = sock;
	if (events & PORT_EV_READ) {
		ev.events |= EPOLLIN;
	}
	if (events & PORT_EV_WRITE) {
		ev.events |= EPOLLOUT;
	}
	if (!events) {
		op = EPOLL_CTL_DEL;
	} else if (watches[sock].events) {
		op = EPOLL_CTL_MOD;
	} else {
		op = EPOLL_CTL_ADD;
	}
	if (op != EPOLL_CTL_DEL || watches[sock].events) {
		if (epoll_ctl(epfd, op, sock, &ev) < 0) {
			return errno;
		}
	}
	watches[sock].h = h;
	watches[sock].arg = arg;
	watches[sock].events = events;
	return 0;
}

int port_poll(int timeout_ms)
{
	struct epoll_event evs[PORT_EPOLL_BATCH];
	int n, i;

	n = epoll_wait(epfd, evs, PORT_EPOLL_BATCH, timeout_ms);
	if (n < 0) {
		return errno;
	}
	for (i = 0; i < n; i++) {
		int fd = evs[i].data.fd;
		unsigned e = 0;

		if (fd == sigfd) {
			signals_read();
			continue;
		}
		if (evs[i].events & EPOLLIN) {
			e |= PORT_EV_READ;
		}
		if (evs[i].events & EPOLLOUT) {
			e |= PORT_EV_WRITE;
		}
		if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
			e |= PORT_EV_ERROR | PORT_EV_READ;
		}
		/* A handler earlier in this batch may have closed fd. */
		if (watches[fd].h && watches[fd].events) {
			watches[fd].h(fd, e, watches[fd].arg);
		}
	}
	return 0;
}

/* ---------------------------------------------------------- interfaces */

int port_if_addr(const char *name, int family, struct port_addr *a)
{
	struct ifaddrs *ifs, *i;
	int err = if_nametoindex(name) ? EADDRNOTAVAIL : ENODEV;

	if (err == ENODEV || getifaddrs(&ifs)) {
		return err;
	}
	for (i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, name) ||
		    i->ifa_addr->sa_family != (family == PORT_AF_INET6 ?
					       AF_INET6 : AF_INET)) {
			continue;
		}
		port_os_from_sockaddr(a, (struct sockaddr_storage *)i->ifa_addr);
		a->port = 0;
		err = 0;
		break;
	}
	freeifaddrs(ifs);
	return err;
}

static int if_sock = -1;
static void (*if_h)(void *arg);
static void *if_arg;

static void if_event(int sock, unsigned events, void *arg)
{
	char buf[8192];
	int changed = 0;

	(void)events;
	(void)arg;
	/* Any address message: the watcher looks again itself. A lost one
	 * (ENOBUFS: the kernel dropped notices) counts as a change too. */
	for (;;) {
		ssize_t n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			changed = 1;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			changed = 1;
		}
		if (n < 0 && errno == EINTR) {
			continue;
		}
		break;
	}
	if (changed && if_h) {
		if_h(if_arg);
	}
}

int port_if_watch(void (*h)(void *arg), void *arg)
{
	struct sockaddr_nl sa;
	int fd;

	if (if_sock >= 0) {
		return EBUSY;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    NETLINK_ROUTE);
	if (fd < 0) {
		return errno;
	}
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    fd >= PORT_MAX_FDS) {
		int err = fd >= PORT_MAX_FDS ? EMFILE : errno;

		close(fd);
		return err;
	}
	if_sock = fd;
	if_h = h;
	if_arg = arg;
	return port_watch(fd, PORT_EV_READ, if_event, NULL);
}

void port_if_unwatch(void)
{
	if (if_sock >= 0) {
		port_close(if_sock);
	}
	if_sock = -1;
	if_h = NULL;
}
