/*
 * rc_addr.h - small, pure address predicates shared by the listeners.
 *
 * Design.  Protected mode (rc_server.c) needs two questions answered the
 * same way everywhere: is this bind address loopback, and is this peer
 * loopback.  Loopback is 127.0.0.0/8, ::1 and the IPv4-mapped form of
 * 127.0.0.0/8 (::ffff:127.x.y.z).  The wildcard addresses (0.0.0.0, ::)
 * are not loopback: they accept connections from anywhere.  No I/O, no
 * state; thread-safe.
 */
#ifndef RECACHE_RC_ADDR_H
#define RECACHE_RC_ADDR_H

#include <stdbool.h>
#include <sys/socket.h>

/* rc_addr_is_loopback - sa (AF_INET or AF_INET6) is a loopback address; false for other families.
 */
bool rc_addr_is_loopback(const struct sockaddr *sa);

/* rc_addr_text_is_loopback - the IPv4/IPv6 literal text is loopback; false when it is not a
 * literal. */
bool rc_addr_text_is_loopback(const char *text);

#endif /* RECACHE_RC_ADDR_H */
