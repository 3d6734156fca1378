/*
 * rc_test.h - the few assertion macros every recache test uses.
 *
 * A failed check prints file:line, the expression and (for the typed forms)
 * both values, then exits the test process with status 1 so ctest reports
 * it.  No framework: each test is a small program with a main() that runs
 * its cases in order.  RC_TEST_RUN prints each case name so a failure is
 * easy to place.
 */
#ifndef RECACHE_RC_TEST_H
#define RECACHE_RC_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RC_CHECK(expr)                                                                             \
    do {                                                                                           \
        if (!(expr)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr);               \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define RC_CHECK_EQ_INT(a, b)                                                                      \
    do {                                                                                           \
        long long rc__a = (long long)(a), rc__b = (long long)(b);                                  \
        if (rc__a != rc__b) {                                                                      \
            fprintf(stderr, "%s:%d: check failed: %s == %s (%lld vs %lld)\n", __FILE__, __LINE__,  \
                    #a, #b, rc__a, rc__b);                                                         \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define RC_CHECK_EQ_U64(a, b)                                                                      \
    do {                                                                                           \
        uint64_t rc__a = (uint64_t)(a), rc__b = (uint64_t)(b);                                     \
        if (rc__a != rc__b) {                                                                      \
            fprintf(stderr, "%s:%d: check failed: %s == %s (%" PRIu64 " vs %" PRIu64 ")\n",        \
                    __FILE__, __LINE__, #a, #b, rc__a, rc__b);                                     \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define RC_CHECK_MEM(p, len, q, qlen)                                                              \
    do {                                                                                           \
        size_t rc__l1 = (size_t)(len), rc__l2 = (size_t)(qlen);                                    \
        if (rc__l1 != rc__l2 || memcmp((p), (q), rc__l1) != 0) {                                   \
            fprintf(stderr, "%s:%d: check failed: bytes of %s equal %s (len %zu vs %zu)\n",        \
                    __FILE__, __LINE__, #p, #q, rc__l1, rc__l2);                                   \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* Compare a returned rc error code with the expected one, naming both. */
#define RC_CHECK_RC(got, want)                                                                     \
    do {                                                                                           \
        int rc__g = (int)(got), rc__w = (int)(want);                                               \
        if (rc__g != rc__w) {                                                                      \
            fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d (%s)\n", __FILE__, __LINE__,  \
                    #got, rc__g, rc_strerror(rc__g), rc__w, rc_strerror(rc__w));                   \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define RC_TEST_RUN(fn)                                                                            \
    do {                                                                                           \
        fprintf(stderr, "-- %s\n", #fn);                                                           \
        fn();                                                                                      \
    } while (0)

#endif /* RECACHE_RC_TEST_H */
