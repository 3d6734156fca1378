/*
 * rc_addr.c - address predicates (see rc_addr.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "rc_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* 127.0.0.0/8. */
static bool rc__v4_loopback(const struct in_addr *a)
{
    return (ntohl(a->s_addr) >> 24) == 127u;
}

/* ::1, or ::ffff:127.x.y.z. */
static bool rc__v6_loopback(const struct in6_addr *a)
{
    static const unsigned char loop6[16] = {[15] = 1};
    static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
    if (memcmp(a->s6_addr, loop6, 16) == 0)
        return true;
    return memcmp(a->s6_addr, mapped, 12) == 0 && a->s6_addr[12] == 127u;
}

bool rc_addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return rc__v4_loopback(&((const struct sockaddr_in *)sa)->sin_addr);
    if (sa->sa_family == AF_INET6)
        return rc__v6_loopback(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return false;
}

bool rc_addr_text_is_loopback(const char *text)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, text, &a4) == 1)
        return rc__v4_loopback(&a4);
    if (inet_pton(AF_INET6, text, &a6) == 1)
        return rc__v6_loopback(&a6);
    return false;
}
