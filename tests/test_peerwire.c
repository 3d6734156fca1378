/*
 * test_peerwire.c - the PEER_SYNC record codec (rc_peerwire.h): round trips
 * of both kinds, the exact bytes of each, unknown kinds skipped by their
 * length, and every truncation and length disagreement refused.
 */
#include <stdint.h>
#include <string.h>

#include "rc_test.h"
#include "recache/rc_peerwire.h"

static void test_round_trip(void)
{
    uint8_t buf[1024];
    size_t len = 0;
    rc_peerwire_rec v = {.kind = RC_PEERWIRE_VERSION, .name = rc_slice_str("recs"), .version = 7};
    rc_peerwire_rec t = {.kind = RC_PEERWIRE_TAG,
                         .name = rc_slice_str("product:1"),
                         .hard = 0x0102030405060708u,
                         .any = 0x1112131415161718u};
    long n = rc_peerwire_encode(&v, buf, sizeof(buf));
    RC_CHECK_EQ_INT(n, 3 + 1 + 4 + 8);
    static const uint8_t want_v[] = {1, 13, 0, 4, 'r', 'e', 'c', 's', 7, 0, 0, 0, 0, 0, 0, 0};
    RC_CHECK_MEM(buf, (size_t)n, want_v, sizeof(want_v));
    len += (size_t)n;
    n = rc_peerwire_encode(&t, buf + len, sizeof(buf) - len);
    RC_CHECK_EQ_INT(n, 3 + 1 + 9 + 16);
    len += (size_t)n;

    rc_slice rest = {buf, (uint32_t)len};
    rc_peerwire_rec got;
    RC_CHECK_EQ_INT(rc_peerwire_next(&rest, &got), 1);
    RC_CHECK_EQ_INT(got.kind, RC_PEERWIRE_VERSION);
    RC_CHECK_MEM(got.name.ptr, got.name.len, "recs", 4);
    RC_CHECK_EQ_U64(got.version, 7);
    RC_CHECK_EQ_INT(rc_peerwire_next(&rest, &got), 1);
    RC_CHECK_EQ_INT(got.kind, RC_PEERWIRE_TAG);
    RC_CHECK_MEM(got.name.ptr, got.name.len, "product:1", 9);
    RC_CHECK_EQ_U64(got.hard, 0x0102030405060708u);
    RC_CHECK_EQ_U64(got.any, 0x1112131415161718u);
    RC_CHECK_EQ_INT(rc_peerwire_next(&rest, &got), 0);
}

/* A SUPPRESS record keeps every field; a suppressed flag other than 0 or 1 is malformed. */
static void test_suppress_round_trip(void)
{
    uint8_t buf[RC_PEERWIRE_MAX_RECORD];
    rc_peerwire_rec r = {.kind = RC_PEERWIRE_SUPPRESS,
                         .name = rc_slice_str("recs"),
                         .item = 0x0102030405060708ull,
                         .stamp = 0x1122334455667788ull,
                         .ttl_ms = 0xA0B0C0D0u,
                         .suppressed = 1};
    long n = rc_peerwire_encode(&r, buf, sizeof(buf));
    RC_CHECK_EQ_INT(n, 3 + 1 + 4 + 21);
    rc_slice rest = {buf, (uint32_t)n};
    rc_peerwire_rec got;
    RC_CHECK_EQ_INT(rc_peerwire_next(&rest, &got), 1);
    RC_CHECK_EQ_INT(got.kind, RC_PEERWIRE_SUPPRESS);
    RC_CHECK_MEM(got.name.ptr, got.name.len, "recs", 4);
    RC_CHECK_EQ_U64(got.item, r.item);
    RC_CHECK_EQ_U64(got.stamp, r.stamp);
    RC_CHECK_EQ_U64(got.ttl_ms, r.ttl_ms);
    RC_CHECK_EQ_INT(got.suppressed, 1);
    RC_CHECK_EQ_INT(rest.len, 0);
    buf[n - 1] = 2;
    rest = (rc_slice){buf, (uint32_t)n};
    RC_CHECK_EQ_INT(rc_peerwire_next(&rest, &got), RC_EBAD_FRAME);
}

static void test_encode_refusals(void)
{
    uint8_t buf[16];
    rc_peerwire_rec r = {.kind = RC_PEERWIRE_TAG, .name = rc_slice_str("product:1")};
    RC_CHECK_RC(rc_peerwire_encode(&r, buf, sizeof(buf)), RC_EBUFFER);
    r.name = rc_slice_str("");
    RC_CHECK_RC(rc_peerwire_encode(&r, buf, sizeof(buf)), RC_EINVAL);
    r.name = rc_slice_str("x");
    r.kind = 9;
    RC_CHECK_RC(rc_peerwire_encode(&r, buf, sizeof(buf)), RC_EINVAL);
}

static void test_unknown_kind_skipped(void)
{
    /* A kind this codec does not know (say a later suppression record), then a version. */
    uint8_t buf[64] = {0x33, 5, 0, 'a', 'b', 'c', 'd', 'e'};
    size_t len = 8;
    rc_peerwire_rec v = {.kind = RC_PEERWIRE_VERSION, .name = rc_slice_str("n"), .version = 2};
    len += (size_t)rc_peerwire_encode(&v, buf + len, sizeof(buf) - len);
    rc_slice rest = {buf, (uint32_t)len};
    rc_peerwire_rec got;
    RC_CHECK_EQ_INT(rc_peerwire_next(&rest, &got), 1);
    RC_CHECK_EQ_INT(got.kind, 0x33);
    RC_CHECK_EQ_INT(got.name.len, 0);
    RC_CHECK_EQ_INT(rc_peerwire_next(&rest, &got), 1);
    RC_CHECK_EQ_U64(got.version, 2);
    RC_CHECK_EQ_INT(rc_peerwire_next(&rest, &got), 0);
}

static void test_malformed(void)
{
    uint8_t buf[64];
    rc_peerwire_rec t = {.kind = RC_PEERWIRE_TAG, .name = rc_slice_str("tag"), .hard = 1, .any = 2};
    long n = rc_peerwire_encode(&t, buf, sizeof(buf));
    RC_CHECK(n > 0);
    rc_peerwire_rec got;
    /* Every truncation is refused and leaves the cursor in place. */
    for (long cut = 1; cut < n; cut++) {
        rc_slice rest = {buf, (uint32_t)cut};
        RC_CHECK_RC(rc_peerwire_next(&rest, &got), RC_EBAD_FRAME);
        RC_CHECK(rest.ptr == buf && rest.len == (uint32_t)cut);
    }
    /* A name length that disagrees with the body length. */
    uint8_t bad[64];
    memcpy(bad, buf, (size_t)n);
    bad[3] = 4;
    rc_slice rest = {bad, (uint32_t)n};
    RC_CHECK_RC(rc_peerwire_next(&rest, &got), RC_EBAD_FRAME);
    /* An empty name. */
    memcpy(bad, buf, (size_t)n);
    bad[3] = 0;
    rest = (rc_slice){bad, (uint32_t)n};
    RC_CHECK_RC(rc_peerwire_next(&rest, &got), RC_EBAD_FRAME);
    /* A known kind with an empty body. */
    const uint8_t empty[] = {RC_PEERWIRE_VERSION, 0, 0};
    rest = (rc_slice){empty, sizeof(empty)};
    RC_CHECK_RC(rc_peerwire_next(&rest, &got), RC_EBAD_FRAME);
}

int main(void)
{
    RC_TEST_RUN(test_round_trip);
    RC_TEST_RUN(test_suppress_round_trip);
    RC_TEST_RUN(test_encode_refusals);
    RC_TEST_RUN(test_unknown_kind_skipped);
    RC_TEST_RUN(test_malformed);
    return 0;
}
