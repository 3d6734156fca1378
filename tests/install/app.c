/*
 * app.c - a program that uses an installed librecache the way a user's
 * program would: only <recache/recache.h>, nothing from the source tree.
 * test_install (tests/install_test.sh) builds it three ways (pkg-config
 * shared, pkg-config static, find_package) and runs each build against a
 * real server.
 *
 *   app PORT LABEL   -> connects to 127.0.0.1:PORT, writes key LABEL, reads
 *                       it back, checks a miss and the error strings, and
 *                       prints "LABEL ok"; exit 0 only if everything held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <recache/recache.h>

/* fail - report what went wrong with the library's own sentence; exit 1. */
static int fail(const char *what, int err)
{
    fprintf(stderr, "app: %s: %s (%s)\n", what, rc_strerror(err), rc_error_name(err));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: app PORT LABEL\n");
        return 2;
    }
    rc_client_options opts = {.host = "127.0.0.1", .port = (uint16_t)atoi(argv[1])};
    rc_client *c;
    int err = rc_connect(&opts, &c);
    if (err)
        return fail("connect", err);
    const char *key = argv[2];
    const char value[] = "[101,7,33]";
    err = rc_set(c, "install", key, strlen(key), value, sizeof value - 1, NULL, NULL);
    if (err)
        return fail("set", err);
    rc_value v;
    err = rc_get(c, "install", key, strlen(key), NULL, &v);
    if (err)
        return fail("get", err);
    int same = v.len == sizeof value - 1 && memcmp(v.data, value, v.len) == 0;
    rc_value_free(&v);
    err = rc_get(c, "install", "absent", 6, NULL, &v);
    rc_close(c);
    if (!same || err != RC_EMISS || strcmp(rc_error_name(RC_EMISS), "MISS") != 0) {
        fprintf(stderr, "app: wrong answers (same=%d, absent: %s)\n", same, rc_strerror(err));
        return 1;
    }
    printf("%s ok (librecache %s)\n", key, RECACHE_CLIENT_VERSION);
    return 0;
}
