/** @file port_lwip.c  The network half of the porting contract on lwIP's
 * socket API (lwip_socket, lwip_poll, ...): UDP and TCP sockets, their
 * readiness and the wait of the loop. The rest (clocks, random bytes,
 * log, filesystem, memory) is the host's, from port/posix/port_os.c.
 *
 * This proves the contract holds on another socket API; a real lwIP
 * target brings its own lwipopts.h, netif driver, clock and entropy. On
 * the host, Debian's liblwip (a GNU Hurd build with its own stack thread)
 * runs beside the daemon and port_lwip_netif_up() gives it an interface
 * whose address loops back to itself. No local (AF_UNIX) sockets, so the
 * daemon runs without `simpled ctl` here; no interface notices.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>

#include "lwip/netif.h"
#include "lwip/sockets.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"

#include "port.h"
#include "port_lwip.h"
#include "port_os.h"

/* lwIP's sockets are numbered from LWIP_SOCKET_OFFSET, one slot each. */
#define PORT_MAX_SOCKS 256
/* lwip_poll() cannot wait for a signal: the longest a signal waits. */
#define PORT_SIGNAL_MS 50

struct watch {
	port_ev_h *h;
	void *arg;
	unsigned events;
};

static struct watch watches[PORT_MAX_SOCKS];
static volatile sig_atomic_t sig_term, sig_hup;
static int stack_up;
static struct netif nif;
static ip4_addr_t nif_ip;

/* ------------------------------------------------------------ the stack */

static sys_sem_t stack_ready;

static void on_stack_ready(void *arg)
{
	(void)arg;
	sys_sem_signal(&stack_ready);
}

/* Our interface has no link: what is not for its own address is dropped
 * (lwIP's LWIP_NETIF_LOOPBACK delivers what is). */
static err_t nif_output(struct netif *n, struct pbuf *p, const ip4_addr_t *a)
{
	(void)n;
	(void)p;
	(void)a;
	return ERR_OK;
}

static err_t nif_init(struct netif *n)
{
	n->name[0] = 's';
	n->name[1] = 'd';
	n->output = nif_output;
	n->mtu = 1500;
	return ERR_OK;
}

int port_lwip_netif_up(const char *ip)
{
	ip4_addr_t mask, gw;

	if (!stack_up || !ip4addr_aton(ip, &nif_ip)) {
		return EINVAL;
	}
	IP4_ADDR(&mask, 255, 255, 255, 0);
	IP4_ADDR(&gw, 0, 0, 0, 0);
	LOCK_TCPIP_CORE();
	if (!netif_add(&nif, &nif_ip, &mask, &gw, NULL, nif_init,
		       tcpip_input)) {
		UNLOCK_TCPIP_CORE();
		return ENODEV;
	}
	netif_set_default(&nif);
	netif_set_up(&nif);
	netif_set_link_up(&nif);
	UNLOCK_TCPIP_CORE();
	return 0;
}

static void on_signal(int sig)
{
	if (sig == SIGHUP) {
		sig_hup = 1;
	} else {
		sig_term = 1;
	}
}

int port_init(void)
{
	struct sigaction sa;

	if (!stack_up) {
		/* Once per process: lwIP has no way to stop its thread. */
		if (sys_sem_new(&stack_ready, 0) != ERR_OK) {
			return ENOMEM;
		}
		tcpip_init(on_stack_ready, NULL);
		sys_sem_wait(&stack_ready);
		stack_up = 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

void port_close_all(void)
{
	int s;

	for (s = 0; s < PORT_MAX_SOCKS; s++) {
		if (watches[s].h) {
			port_close(s);
		}
	}
	sig_term = sig_hup = 0;
}

unsigned port_signals_take(void)
{
	unsigned s = (sig_term ? PORT_SIG_TERM : 0) |
		     (sig_hup ? PORT_SIG_HUP : 0);

	sig_term = sig_hup = 0;
	return s;
}

/* ------------------------------------------------------------- sockets */

static int new_socket(int *sock, const struct port_addr *a, int type)
{
	int s = lwip_socket(a->family == PORT_AF_INET6 ? AF_INET6 : AF_INET,
			    type, 0);

	if (s < 0) {
		return errno ? errno : ENOMEM;
	}
	if (s >= PORT_MAX_SOCKS) {
		lwip_close(s);
		return EMFILE;
	}
	lwip_fcntl(s, F_SETFL, O_NONBLOCK);
	*sock = s;
	return 0;
}

static int open_bound(int *sock, const struct port_addr *a, int type)
{
	struct sockaddr_storage ss;
	socklen_t sl = port_os_to_sockaddr(&ss, a);
	int one = 1, err = new_socket(sock, a, type);

	if (err) {
		return err;
	}
	lwip_setsockopt(*sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lwip_bind(*sock, (struct sockaddr *)&ss, sl) < 0 ||
	    (type == SOCK_STREAM && lwip_listen(*sock, 16) < 0)) {
		err = errno;
		lwip_close(*sock);
		*sock = -1;
	}
	return err;
}

int port_udp_open(int *sock, const struct port_addr *bind)
{
	return open_bound(sock, bind, SOCK_DGRAM);
}

int port_tcp_listen(int *sock, const struct port_addr *bind)
{
	return open_bound(sock, bind, SOCK_STREAM);
}

int port_tcp_accept(int lsock, int *sock, struct port_addr *peer)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int s = lwip_accept(lsock, (struct sockaddr *)&ss, &sl);

	if (s < 0) {
		return errno == EWOULDBLOCK ? EAGAIN : errno;
	}
	if (s >= PORT_MAX_SOCKS) {
		lwip_close(s);
		return EMFILE;
	}
	lwip_fcntl(s, F_SETFL, O_NONBLOCK);
	port_os_from_sockaddr(peer, &ss);
	*sock = s;
	return 0;
}

int port_tcp_connect(int *sock, const struct port_addr *dst)
{
	struct sockaddr_storage ss;
	socklen_t sl = port_os_to_sockaddr(&ss, dst);
	int err = new_socket(sock, dst, SOCK_STREAM);

	if (err) {
		return err;
	}
	if (lwip_connect(*sock, (struct sockaddr *)&ss, sl) < 0 &&
	    errno != EINPROGRESS) {
		err = errno;
		lwip_close(*sock);
		*sock = -1;
	}
	return err;
}

int port_local_addr(int sock, struct port_addr *addr)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (lwip_getsockname(sock, (struct sockaddr *)&ss, &sl) < 0) {
		return errno;
	}
	port_os_from_sockaddr(addr, &ss);
	return 0;
}

int port_addr_is_local(const struct port_addr *a)
{
	return a->family == PORT_AF_INET && stack_up &&
	       !memcmp(a->ip, &nif_ip, 4);
}

int port_sendto(int sock, const void *buf, size_t len,
		const struct port_addr *dst)
{
	struct sockaddr_storage ss;
	socklen_t sl = port_os_to_sockaddr(&ss, dst);

	if (lwip_sendto(sock, buf, len, 0, (struct sockaddr *)&ss, sl) < 0) {
		return errno == EWOULDBLOCK ? EAGAIN : errno;
	}
	return 0;
}

int port_recvfrom(int sock, void *buf, size_t *len, struct port_addr *src)
{
	/* lwIP cuts a longer datagram to the buffer without saying so: it
	 * is read whole here, so that one too long is told (EMSGSIZE). */
	static char whole[65536];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	ssize_t n = lwip_recvfrom(sock, whole, sizeof(whole), 0,
				  (struct sockaddr *)&ss, &sl);
	int err = 0;

	if (n < 0) {
		return errno == EWOULDBLOCK ? EAGAIN : errno;
	}
	if ((size_t)n > *len) {
		n = (ssize_t)*len;
		err = EMSGSIZE;
	}
	memcpy(buf, whole, (size_t)n);
	*len = (size_t)n;
	port_os_from_sockaddr(src, &ss);
	return err;
}

int port_recv_error(int sock, void *buf, size_t *len, struct port_addr *dst)
{
	(void)sock;
	(void)buf;
	(void)len;
	(void)dst;
	return EAGAIN; /* lwIP's sockets pass no ICMP errors up */
}

int port_send(int sock, const void *buf, size_t len, size_t *sent)
{
	ssize_t n = lwip_send(sock, buf, len, 0);

	if (n < 0) {
		*sent = 0;
		return errno == EWOULDBLOCK ? EAGAIN : errno;
	}
	*sent = (size_t)n;
	return 0;
}

int port_recv(int sock, void *buf, size_t len, size_t *got)
{
	ssize_t n = lwip_recv(sock, buf, len, 0);

	if (n < 0) {
		*got = 0;
		return errno == EWOULDBLOCK ? EAGAIN : errno;
	}
	*got = (size_t)n;
	return 0;
}

int port_close(int sock)
{
	if (sock >= 0 && sock < PORT_MAX_SOCKS) {
		memset(&watches[sock], 0, sizeof(watches[sock]));
	}
	return lwip_close(sock) < 0 ? errno : 0;
}

int port_watch(int sock, unsigned events, port_ev_h *h, void *arg)
{
	if (sock < 0 || sock >= PORT_MAX_SOCKS) {
		return EBADF;
	}
	watches[sock].h = events ? h : NULL;
	watches[sock].arg = arg;
	watches[sock].events = events;
	return 0;
}

int port_poll(int timeout_ms)
{
	struct pollfd fds[PORT_MAX_SOCKS];
	nfds_t n = 0, i;
	int s, rc;

	if (sig_term || sig_hup) {
		return 0;
	}
	for (s = 0; s < PORT_MAX_SOCKS; s++) {
		if (watches[s].h) {
			fds[n].fd = s;
			fds[n].events =
				(short)((watches[s].events & PORT_EV_READ ?
					 POLLIN : 0) |
					(watches[s].events & PORT_EV_WRITE ?
					 POLLOUT : 0));
			fds[n].revents = 0;
			n++;
		}
	}
	if (timeout_ms < 0 || timeout_ms > PORT_SIGNAL_MS) {
		timeout_ms = PORT_SIGNAL_MS;
	}
	rc = lwip_poll(fds, n, timeout_ms);
	if (rc < 0) {
		return errno == EINTR ? EINTR : 0;
	}
	for (i = 0; i < n; i++) {
		unsigned ev = 0;
		struct watch *w = &watches[fds[i].fd];

		if (fds[i].revents & POLLIN) {
			ev |= PORT_EV_READ;
		}
		if (fds[i].revents & POLLOUT) {
			ev |= PORT_EV_WRITE;
		}
		if (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			ev |= PORT_EV_READ | PORT_EV_ERROR;
		}
		/* A handler may have closed this socket or another. */
		if (ev && w->h) {
			w->h(fds[i].fd, ev, w->arg);
		}
	}
	return 0;
}

/* --------------------------------------------------------- interfaces */

int port_if_addr(const char *name, int family, struct port_addr *a)
{
	(void)name;
	(void)family;
	(void)a;
	return ENODEV;
}

int port_if_watch(void (*h)(void *arg), void *arg)
{
	(void)h;
	(void)arg;
	return ENOSYS;
}

void port_if_unwatch(void)
{
}

int port_udp_rcvbuf(int sock, size_t bytes, size_t *got)
{
	(void)sock;
	*got = bytes; /* no kernel queue to size here */
	return 0;
}
