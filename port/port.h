/** @file port.h  The porting layer: the only contract between simpled and
 * the operating system. Backends: posix/ (Linux, OpenWrt) and sim/ (virtual
 * clock and in-memory network for deterministic tests).
 *
 * Sockets are small integers owned by the port. Every call returns 0 or a
 * positive errno value; results come back through out-pointers.
 */
#ifndef PORT_H
#define PORT_H

#include <stddef.h>
#include <stdint.h>

/** A transport address, independent of the OS socket structures. */
struct port_addr {
	uint8_t family;		/**< PORT_AF_INET or PORT_AF_INET6 */
	uint16_t port;		/**< host byte order */
	uint8_t ip[16];		/**< 4 bytes used for IPv4 */
};

enum {
	PORT_AF_INET = 4,
	PORT_AF_INET6 = 6,
};

/** Socket readiness bits for port_watch() and the event handler. */
enum {
	PORT_EV_READ = 1,
	PORT_EV_WRITE = 2,
	PORT_EV_ERROR = 4,
};

/** Called from port_poll() when a watched socket is ready. */
typedef void (port_ev_h)(int sock, unsigned events, void *arg);

/** Log levels of the port sink; same order as core/log.h. */
enum {
	PORT_LOG_ERR = 0,
	PORT_LOG_WARN,
	PORT_LOG_INFO,
	PORT_LOG_DEBUG,
};

int port_init(void);
void port_close_all(void);

/** Monotonic milliseconds; wraps at 2^32 (compare with tmr_before()). */
uint32_t port_now_ms(void);
/** Monotonic microseconds, for measuring short waits (commit times). */
uint64_t port_now_us(void);
/** Wall-clock seconds since the epoch, for Date headers. */
int64_t port_wall_s(void);
int port_random(void *buf, size_t len);

/** Log sink: stderr by default, syslog once port_log_syslog() is called. */
void port_log_syslog(const char *ident);
/** While on, error lines also go to stderr when syslog is the sink: a
 * failed start-up reaches whoever started the daemon. */
void port_log_errors_to_stderr(int on);
void port_log(int level, const char *line);

int port_udp_open(int *sock, const struct port_addr *bind);
/** Ask for a receive buffer of bytes on a UDP socket (room for a burst
 * while the loop is busy); *got is what the system gave, which may be
 * less (Linux: net.core.rmem_max, unless the process may force it). */
int port_udp_rcvbuf(int sock, size_t bytes, size_t *got);
int port_tcp_listen(int *sock, const struct port_addr *bind);
int port_tcp_accept(int lsock, int *sock, struct port_addr *peer);
/** Non-blocking connect; completion is reported as PORT_EV_WRITE. */
int port_tcp_connect(int *sock, const struct port_addr *dst);
int port_local_addr(int sock, struct port_addr *addr);
/** A local (AF_UNIX) stream socket listening at path, with that file's
 * mode: a stale socket file is replaced; one a live process listens on
 * is EADDRINUSE. ENOSYS where the port has none (port/sim). */
int port_local_listen(int *sock, const char *path, unsigned mode);
int port_local_accept(int lsock, int *sock);
/** A blocking connect to the local socket at path (the ctl client);
 * timeout_ms > 0 bounds each later blocking send and receive on it. */
int port_local_connect(int *sock, const char *path, unsigned timeout_ms);
/** The address of the given family interface name ("br-lan") has now.
 * @return 0, ENODEV (no such interface) or EADDRNOTAVAIL (none yet). */
int port_if_addr(const char *name, int family, struct port_addr *a);
/** h runs (from port_poll()) whenever an interface address is added or
 * removed; one watcher. @return 0, or an errno (no such notice here). */
int port_if_watch(void (*h)(void *arg), void *arg);
void port_if_unwatch(void);

/** size bytes of zeroed memory whose pages take no room until they are
 * written: the pools reserve their configured size with it, and idle
 * memory follows use. NULL when there is none. */
void *port_reserve(size_t size);
void port_unreserve(void *p, size_t size);

/** What kind of filesystem holds a directory, as far as LMDB cares. */
enum port_fs {
	PORT_FS_DISK = 0,	/**< anything kept across a reboot */
	PORT_FS_RAM,		/**< tmpfs, ramfs: lost at reboot */
	PORT_FS_JFFS2,		/**< no shared writable mapping: no LMDB */
};
/** The filesystem of path (for an overlay, that of its upper layer,
 * where writes go), with its name ("jffs2", "tmpfs", "ext4" when known,
 * else its magic number) in name. @return 0 or an errno. */
int port_fs_kind(const char *path, enum port_fs *kind, char *name,
		 size_t size);

/** Is a (IP only) an address of one of this host's interfaces, i.e. one
 * a listener on 0.0.0.0 or :: answers on? @return 1 or 0. */
int port_addr_is_local(const struct port_addr *a);

int port_sendto(int sock, const void *buf, size_t len,
		const struct port_addr *dst);
/**
 * Receive one datagram into buf (*len bytes of room; *len is set to what
 * was stored). @return EAGAIN when nothing is queued; EMSGSIZE when the
 * datagram was longer than *len: buf then holds its first *len bytes and
 * the rest is lost (*src is set).
 */
int port_recvfrom(int sock, void *buf, size_t *len, struct port_addr *src);
/** One datagram of a batch (port_recv_batch(), port_send_batch()). */
struct port_dgram {
	void *buf;
	size_t size;		/**< room in buf */
	size_t len;		/**< bytes stored (to send) */
	struct port_addr peer;	/**< where it came from (goes to) */
	int truncated;		/**< it was longer: only its first size bytes */
};
/**
 * Receive up to n queued datagrams: in one call where the system can
 * (recvmmsg), one by one where not (port/common/port_batch.c).
 * @return 0 with *got >= 1 of them, or EAGAIN when none is queued.
 */
int port_recv_batch(int sock, struct port_dgram *d, unsigned n,
		    unsigned *got);
/**
 * Send n datagrams (buf, len, to peer) from one socket: in one call where
 * the system can (sendmmsg), one by one where not. @return 0 with *sent
 * >= 1 of them gone, the first *sent; or the error of the first, none
 * gone (*sent 0): the caller skips it and sends the rest.
 */
int port_send_batch(int sock, const struct port_dgram *d, unsigned n,
		    unsigned *sent);
/**
 * The next error a UDP socket was told of (an ICMP unreachable for a
 * datagram it sent), signalled by PORT_EV_ERROR: the start of that
 * datagram into buf (*len in: size, out: bytes) and where it went.
 * @return 0, or EAGAIN when there is none. A hint, not proof: ICMP is
 * rate-limited, filtered and forgeable.
 */
int port_recv_error(int sock, void *buf, size_t *len, struct port_addr *dst);
/** Stream send; *sent may be short. EAGAIN when the socket is full. */
int port_send(int sock, const void *buf, size_t len, size_t *sent);
/** Stream receive; *got == 0 with return 0 means the peer closed. */
int port_recv(int sock, void *buf, size_t len, size_t *got);
int port_close(int sock);

/** Watch a socket for the given events (0 stops watching). */
int port_watch(int sock, unsigned events, port_ev_h *h, void *arg);

/**
 * Wait at most timeout_ms (negative: no limit) for socket events and run
 * their handlers. A signal of port_signals_take() ends the wait at once,
 * also one that arrived before the call and was not taken yet. Returns 0,
 * or EINTR when another signal interrupted the wait.
 */
int port_poll(int timeout_ms);

/** Signals folded into flags by port_poll(): read and cleared by the loop
 * after each poll. TERM stands for SIGTERM and SIGINT. */
enum {
	PORT_SIG_TERM = 1,
	PORT_SIG_HUP = 2,
};
unsigned port_signals_take(void);

#endif
