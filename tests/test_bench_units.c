/*
 * test_bench_units.c - unit tests of the load tester's building blocks:
 * the Zipf sampler against theory, histogram percentiles against exact
 * ones, the value format, the oracle's verdicts, the peers' reply parsers,
 * the reference CLOCK simulator and the options table.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "rb_hist.h"
#include "rb_opts.h"
#include "rb_oracle.h"
#include "rb_trace.h"
#include "rb_value.h"
#include "rb_wire.h"
#include "rb_zipf.h"
#include "rc_test.h"
#include "recache/rc_errors.h"

/* Rank frequencies of 1e6 draws match the exact probabilities (chi-square over the head). */
static void test_zipf_distribution(void)
{
    rb_zipf z;
    rb_rng r;
    RC_CHECK_RC(rb_zipf_init(&z, 1000, 0.99), 0);
    rb_rng_seed(&r, 42);
    enum { DRAWS = 1000000, HEAD = 20 };
    uint64_t counts[HEAD + 1] = {0};
    for (int i = 0; i < DRAWS; i++) {
        uint64_t k = rb_zipf_draw(&z, &r);
        RC_CHECK(k < 1000);
        counts[k < HEAD ? k : HEAD]++;
    }
    /* Rank 1 against 1 / H(n, alpha), computed independently here. */
    double h = 0;
    for (int k = 1; k <= 1000; k++)
        h += 1.0 / pow(k, 0.99);
    double p1 = 1.0 / h;
    RC_CHECK(fabs(rb_zipf_prob(&z, 0) - p1) < 1e-9);
    RC_CHECK(fabs((double)counts[0] / DRAWS - p1) < 0.005);
    double chi2 = 0, tail = 1.0;
    for (int k = 0; k < HEAD; k++) {
        double e = rb_zipf_prob(&z, (uint64_t)k) * DRAWS;
        chi2 += ((double)counts[k] - e) * ((double)counts[k] - e) / e;
        tail -= rb_zipf_prob(&z, (uint64_t)k);
    }
    double e = tail * DRAWS;
    chi2 += ((double)counts[HEAD] - e) * ((double)counts[HEAD] - e) / e;
    /* 20 degrees of freedom: the 99.9th percentile of chi-square is 45.3. */
    RC_CHECK(chi2 < 45.3);
    rb_zipf_free(&z);
}

/* alpha 0 is uniform; a single rank always draws 0. */
static void test_zipf_edges(void)
{
    rb_zipf z;
    rb_rng r;
    rb_rng_seed(&r, 7);
    RC_CHECK_RC(rb_zipf_init(&z, 1, 0.99), 0);
    for (int i = 0; i < 100; i++)
        RC_CHECK_EQ_INT(rb_zipf_draw(&z, &r), 0);
    rb_zipf_free(&z);
    RC_CHECK_RC(rb_zipf_init(&z, 4, 0.0), 0);
    RC_CHECK(fabs(rb_zipf_prob(&z, 3) - 0.25) < 1e-12);
    rb_zipf_free(&z);
    RC_CHECK_RC(rb_zipf_init(&z, 0, 1.0), RC_EINVAL);
}

static int rb__cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Percentiles are within one bucket (1/64) of the exact order statistics. */
static void test_hist_percentiles(void)
{
    static rb_hist h;
    static uint64_t vals[100000];
    rb_rng r;
    rb_rng_seed(&r, 3);
    rb_hist_reset(&h);
    for (size_t i = 0; i < 100000; i++) {
        vals[i] = 1 + rb_rng_below(&r, 10000000); /* up to 10 ms in ns */
        rb_hist_record(&h, vals[i]);
    }
    qsort(vals, 100000, sizeof(vals[0]), rb__cmp_u64);
    const double ps[] = {50, 90, 99, 99.9, 100};
    for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
        size_t rank = (size_t)ceil(ps[i] / 100.0 * 100000);
        uint64_t exact = vals[rank - 1], got = rb_hist_percentile(&h, ps[i]);
        RC_CHECK(got >= exact);
        RC_CHECK((double)(got - exact) <= (double)exact / 64.0 + 1);
    }
    RC_CHECK_EQ_U64(h.max, vals[99999]);
    RC_CHECK_EQ_U64(h.min, vals[0]);
    /* Small values are exact; a known set. */
    rb_hist_reset(&h);
    for (uint64_t v = 1; v <= 100; v++)
        rb_hist_record(&h, v);
    RC_CHECK_EQ_U64(rb_hist_percentile(&h, 50), 50);
    RC_CHECK_EQ_U64(rb_hist_percentile(&h, 99), 99);
    RC_CHECK_EQ_U64(rb_hist_percentile(&h, 100), 100);
    /* Every bucket's high value maps back to the bucket; merge adds counts. */
    for (unsigned i = 0; i < RB_HIST_BUCKETS; i++)
        RC_CHECK_EQ_INT(rb_hist_index(rb_hist_bucket_high(i)), i);
    static rb_hist h2;
    rb_hist_reset(&h2);
    rb_hist_record(&h2, 1000000);
    rb_hist_add(&h, &h2);
    RC_CHECK_EQ_U64(h.count, 101);
    RC_CHECK_EQ_U64(h.max, 1000000);
}

static void test_value_roundtrip(void)
{
    uint8_t buf[32 + 8 * 100];
    rb_value_info in = {.user = 123456, .version = 7, .seq = 99, .nitems = 100}, out;
    RC_CHECK_EQ_INT(rb_value_size(100), sizeof(buf));
    rb_value_encode(buf, &in);
    RC_CHECK_RC(rb_value_decode(buf, sizeof(buf), &out), 0);
    RC_CHECK_EQ_INT(out.user, 123456);
    RC_CHECK_EQ_U64(out.version, 7);
    RC_CHECK_EQ_U64(out.seq, 99);
    RC_CHECK_EQ_INT(out.nitems, 100);
    /* Truncation and any flipped bit are detected. */
    RC_CHECK_RC(rb_value_decode(buf, sizeof(buf) - 8, &out), RC_EPROTOCOL);
    buf[500] ^= 1;
    RC_CHECK_RC(rb_value_decode(buf, sizeof(buf), &out), RC_EPROTOCOL);
    buf[500] ^= 1;
    buf[5] ^= 0x10; /* the user id */
    RC_CHECK_RC(rb_value_decode(buf, sizeof(buf), &out), RC_EPROTOCOL);
    rb_value_info empty = {.user = 1, .version = 1, .seq = 1, .nitems = 0};
    rb_value_encode(buf, &empty);
    RC_CHECK_RC(rb_value_decode(buf, 32, &out), 0);
}

static void test_oracle_verdicts(void)
{
    uint8_t buf[32 + 8 * 4];
    rb_value_info vi = {.user = 5, .version = 3, .seq = 10, .nitems = 4}, got;
    uint64_t stale;
    rb_value_encode(buf, &vi);
    /* Correct: right user, version at the floor, newest write. */
    RC_CHECK_EQ_INT(rb_oracle_check(5, 3, 10, true, buf, sizeof(buf), &got, &stale), RB_VERDICT_OK);
    RC_CHECK_EQ_U64(stale, 0);
    /* Behind the newest acknowledged write: OK but stale by 2 writes. */
    RC_CHECK_EQ_INT(rb_oracle_check(5, 1, 12, true, buf, sizeof(buf), &got, &stale), RB_VERDICT_OK);
    RC_CHECK_EQ_U64(stale, 2);
    /* A planted wrong user. */
    RC_CHECK_EQ_INT(rb_oracle_check(6, 0, 0, true, buf, sizeof(buf), &got, &stale),
                    RB_VERDICT_WRONG_USER);
    /* A model version older than an acknowledged bump: a ghost, unless version checks are off. */
    RC_CHECK_EQ_INT(rb_oracle_check(5, 4, 0, true, buf, sizeof(buf), &got, &stale),
                    RB_VERDICT_GHOST);
    RC_CHECK_EQ_INT(rb_oracle_check(5, 4, 0, false, buf, sizeof(buf), &got, &stale), RB_VERDICT_OK);
    RC_CHECK_EQ_INT(rb_oracle_check(5, 0, 0, true, buf, 10, &got, &stale), RB_VERDICT_CORRUPT);
    /* Shared state: sequences, acknowledgements and the bump floor only move up. */
    rb_oracle o;
    RC_CHECK_RC(rb_oracle_init(&o, 10), 0);
    RC_CHECK_EQ_U64(rb_oracle_next_seq(&o, 2), 1);
    RC_CHECK_EQ_U64(rb_oracle_next_seq(&o, 2), 2);
    rb_oracle_ack_write(&o, 2, 2);
    rb_oracle_ack_write(&o, 2, 1);
    RC_CHECK_EQ_U64(rb_oracle_acked(&o, 2), 2);
    rb_oracle_ack_bump(&o, 5);
    rb_oracle_ack_bump(&o, 4);
    RC_CHECK_EQ_U64(atomic_load(&o.bump_acked), 5);
    RC_CHECK_EQ_U64(atomic_load(&o.version_seen), 5);
    rb_oracle_free(&o);
}

/* Parse one complete reply from a string. */
static long parse(rb_target t, const char *s, rc_msg *m)
{
    return rb_wire_parse(t, (const uint8_t *)s, strlen(s), m);
}

static void test_peer_parsers(void)
{
    rc_msg m;
    const char *hit = "VALUE recs:u:1 0 5\r\nhello\r\nEND\r\n";
    RC_CHECK_EQ_INT(parse(RB_TARGET_MEMCACHED, hit, &m), strlen(hit));
    RC_CHECK_EQ_INT(m.status, RC_STATUS_OK);
    RC_CHECK_MEM(m.value.ptr, m.value.len, "hello", 5);
    RC_CHECK_EQ_INT(rb_wire_parse(RB_TARGET_MEMCACHED, (const uint8_t *)hit, 25, &m), 0);
    RC_CHECK_EQ_INT(parse(RB_TARGET_MEMCACHED, "END\r\n", &m), 5);
    RC_CHECK_EQ_INT(m.status, RC_STATUS_MISS);
    RC_CHECK_EQ_INT(parse(RB_TARGET_MEMCACHED, "STORED\r\n", &m), 8);
    RC_CHECK_EQ_INT(m.status, RC_STATUS_OK);
    RC_CHECK_EQ_INT(parse(RB_TARGET_MEMCACHED, "SERVER_ERROR out of memory\r\n", &m), 28);
    RC_CHECK_EQ_INT(m.status, RC_STATUS_INTERNAL);
    RC_CHECK_EQ_INT(parse(RB_TARGET_MEMCACHED, "BOGUS\r\n", &m), RC_EPROTOCOL);
    RC_CHECK_EQ_INT(parse(RB_TARGET_REDIS, "$5\r\nhello\r\n", &m), 11);
    RC_CHECK_MEM(m.value.ptr, m.value.len, "hello", 5);
    RC_CHECK_EQ_INT(parse(RB_TARGET_REDIS, "$5\r\nhel", &m), 0);
    RC_CHECK_EQ_INT(parse(RB_TARGET_REDIS, "$-1\r\n", &m), 5);
    RC_CHECK_EQ_INT(m.status, RC_STATUS_MISS);
    RC_CHECK_EQ_INT(parse(RB_TARGET_REDIS, "+OK\r\n", &m), 5);
    RC_CHECK_EQ_INT(parse(RB_TARGET_REDIS, ":0\r\n", &m), 4);
    RC_CHECK_EQ_INT(m.status, RC_STATUS_MISS);
    RC_CHECK_EQ_INT(parse(RB_TARGET_REDIS, "-ERR oom\r\n", &m), 10);
    RC_CHECK_EQ_INT(m.status, RC_STATUS_INTERNAL);
    /* Encoders produce what the peers expect. */
    rb_buf b = {0};
    uint8_t v[3] = {'a', 'b', 'c'};
    rb_req req = {.op = RB_OP_SET, .ns = "recs", .user = 9, .value = v, .vlen = 3};
    RC_CHECK_RC(rb_wire_encode(RB_TARGET_MEMCACHED, &req, &b), 0);
    RC_CHECK_MEM(b.p, b.len, "set recs:u:9 0 0 3\r\nabc\r\n", 25);
    b.len = 0;
    RC_CHECK_RC(rb_wire_encode(RB_TARGET_REDIS, &req, &b), 0);
    const char *resp = "*3\r\n$3\r\nSET\r\n$8\r\nrecs:u:9\r\n$3\r\nabc\r\n";
    RC_CHECK_MEM(b.p, b.len, resp, strlen(resp));
    req.op = RB_OP_BUMP;
    RC_CHECK_RC(rb_wire_encode(RB_TARGET_REDIS, &req, &b), RC_EINVAL);
    rb_buf_free(&b);
}

/* A recache request encodes through the codec and a response round-trips through the parser. */
static void test_recache_wire(void)
{
    rb_buf b = {0};
    uint32_t products[2] = {4, 8};
    uint8_t v[40];
    rb_value_info vi = {.user = 1, .version = 2, .seq = 3, .nitems = 1};
    rb_value_encode(v, &vi);
    rb_req req = {.op = RB_OP_FILL,
                  .id = 77,
                  .ns = "recs",
                  .user = 1,
                  .ns_version = 2,
                  .has_token = 1,
                  .products = products,
                  .nproducts = 2,
                  .value = v,
                  .vlen = 40};
    req.token[0] = 0xAB;
    RC_CHECK_RC(rb_wire_encode(RB_TARGET_RECACHE, &req, &b), 0);
    rc_msg m;
    rc_limits lim = rc_limits_wire();
    size_t used;
    RC_CHECK_RC(rc_decode(b.p, b.len, &lim, &m, &used), 0);
    RC_CHECK_EQ_INT(used, b.len);
    RC_CHECK_EQ_INT(m.opcode, RC_OP_SET);
    RC_CHECK_EQ_INT(m.request_id, 77);
    RC_CHECK_EQ_INT(m.ntags, 2);
    RC_CHECK_EQ_INT(m.token[0], 0xAB);
    RC_CHECK_MEM(m.key.ptr, m.key.len, "u:1", 3);
    /* A response frame is accepted by rb_wire_parse; a request frame is not. */
    RC_CHECK_EQ_INT(rb_wire_parse(RB_TARGET_RECACHE, b.p, b.len, &m), RC_EPROTOCOL);
    rc_msg r;
    memset(&r, 0, sizeof(r));
    r.opcode = RC_OP_GET;
    r.hflags = RC_HF_RESPONSE;
    r.request_id = 78;
    r.value = (rc_slice){v, 40};
    uint8_t frame[256];
    long n = rc_encode(&r, frame, sizeof(frame));
    RC_CHECK(n > 0);
    RC_CHECK_EQ_INT(rb_wire_parse(RB_TARGET_RECACHE, frame, (size_t)n - 1, &m), 0);
    RC_CHECK_EQ_INT(rb_wire_parse(RB_TARGET_RECACHE, frame, (size_t)n, &m), n);
    RC_CHECK_EQ_INT(m.request_id, 78);
    rb_buf_free(&b);
}

/* CLOCK on a hand-checked trace: capacity 2, keys 1 2 1 3 1 2. */
static void test_clock_sim(void)
{
    uint64_t keys[] = {1, 2, 1, 3, 1, 2};
    rb_trace t = {keys, 6};
    rb_trace_result r;
    /* 1 miss, 2 miss, 1 hit (ref 1), 3 miss: hand clears 1, evicts 2; 1 hit; 2 miss: hand at 1
     * (ref set again) clears it, evicts 3. */
    RC_CHECK_RC(rb_clock_sim(&t, 2, &r), 0);
    RC_CHECK_EQ_U64(r.requests, 6);
    RC_CHECK_EQ_U64(r.misses, 4);
    /* Capacity above the distinct keys: only cold misses. */
    RC_CHECK_RC(rb_clock_sim(&t, 10, &r), 0);
    RC_CHECK_EQ_U64(r.misses, 3);
    /* A larger trace exercises eviction and index deletion; bigger caches never miss more. */
    static uint64_t big[200000];
    rb_zipf z;
    rb_rng rng;
    rb_rng_seed(&rng, 1);
    RC_CHECK_RC(rb_zipf_init(&z, 20000, 0.9), 0);
    for (size_t i = 0; i < 200000; i++)
        big[i] = rb_zipf_draw(&z, &rng);
    rb_zipf_free(&z);
    rb_trace bt = {big, 200000};
    double last = 1.0;
    for (uint64_t cap = 500; cap <= 16000; cap *= 2) {
        RC_CHECK_RC(rb_clock_sim(&bt, cap, &r), 0);
        RC_CHECK(r.miss_ratio < last);
        last = r.miss_ratio;
    }
}

static void test_opts(void)
{
    rb_opts o;
    rb_opts_defaults(&o);
    RC_CHECK(strcmp(o.target, "recache") == 0);
    RC_CHECK_EQ_INT(o.items, 100);
    RC_CHECK(fabs(o.alpha - 0.99) < 1e-12);
    char *argv[] = {"recache-bench", "herd", "--readers", "9", "--alpha=0.5", "--json", "x.json"};
    RC_CHECK_RC(rb_opts_parse(&o, 7, argv), 0);
    RC_CHECK_EQ_INT(o.readers, 9);
    RC_CHECK(fabs(o.alpha - 0.5) < 1e-12);
    RC_CHECK(strcmp(o.json, "x.json") == 0 && o.npos == 1 && strcmp(o.pos[0], "herd") == 0);
    char *bad[] = {"recache-bench", "--nope", "1"};
    RC_CHECK_RC(rb_opts_parse(&o, 3, bad), RC_EINVAL);
    char *badv[] = {"recache-bench", "--users", "many"};
    RC_CHECK_RC(rb_opts_parse(&o, 3, badv), RC_EINVAL);
}

int main(void)
{
    RC_TEST_RUN(test_zipf_distribution);
    RC_TEST_RUN(test_zipf_edges);
    RC_TEST_RUN(test_hist_percentiles);
    RC_TEST_RUN(test_value_roundtrip);
    RC_TEST_RUN(test_oracle_verdicts);
    RC_TEST_RUN(test_peer_parsers);
    RC_TEST_RUN(test_recache_wire);
    RC_TEST_RUN(test_clock_sim);
    RC_TEST_RUN(test_opts);
    return 0;
}
