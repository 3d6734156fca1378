/*
 * test_bench_units.c - unit tests of the load tester's building blocks:
 * the Zipf sampler against theory, histogram percentiles against exact
 * ones, the value format, the oracle's judge and its orders of events
 * (every ghost kind, legal concurrent orders), the peers' reply parsers,
 * the reference CLOCK simulator and the options table.
 */
#define _GNU_SOURCE
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

/* Facts of a read of user 5 sent at stamp 100, nothing invalidated, version floor 3. */
static rb_read_facts facts(void)
{
    rb_read_facts f = {.snap = {.user = 5, .floor = 3, .acked = 10, .sent = 100},
                       .check_version = true,
                       .write_basis = 50,
                       .write_useq = 10};
    return f;
}

/* The pure judge, kind by kind: each ghost, its legal concurrent orders, and priorities. */
static void test_oracle_judge(void)
{
    rb_value_info vi = {.user = 5, .version = 3, .seq = 1234, .nitems = 4};
    uint64_t stale;
    rb_read_facts f = facts();
    /* Correct: right user, version at the floor, newest write. */
    RC_CHECK_EQ_INT(rb_oracle_judge(&f, &vi, &stale), RB_VERDICT_OK);
    RC_CHECK_EQ_U64(stale, 0);
    /* Behind the newest acknowledged write: OK but stale by 2 writes. */
    f.snap.acked = 12;
    RC_CHECK_EQ_INT(rb_oracle_judge(&f, &vi, &stale), RB_VERDICT_OK);
    RC_CHECK_EQ_U64(stale, 2);
    /* Wrong user. */
    f = facts();
    f.snap.user = 6;
    RC_CHECK_EQ_INT(rb_oracle_judge(&f, &vi, &stale), RB_VERDICT_WRONG_USER);

    /* ghost_version: a model version below an acknowledged bump, unless version checks are off. */
    f = facts();
    f.snap.floor = 4;
    RC_CHECK_EQ_INT(rb_oracle_judge(&f, &vi, &stale), RB_VERDICT_GHOST_VERSION);
    f.check_version = false;
    RC_CHECK_EQ_INT(rb_oracle_judge(&f, &vi, &stale), RB_VERDICT_OK);

    /* ghost_key: write acknowledged at 50, hard key invalidation sent at 60 (and acknowledged
     * before the read: it is in the snapshot). */
    f = facts();
    f.snap.key_hard = 60;
    RC_CHECK_EQ_INT(rb_oracle_judge(&f, &vi, &stale), RB_VERDICT_GHOST_KEY);
    /* Legal: the invalidation was sent at 40, before the write was acknowledged (concurrent). */
    f.snap.key_hard = 40;
    RC_CHECK_EQ_INT(rb_oracle_judge(&f, &vi, &stale), RB_VERDICT_OK);
    /* Legal: the write is not acknowledged (yet): it may have landed after the invalidation. */
    f.snap.key_hard = 60;
    f.write_basis = 0;
    RC_CHECK_EQ_INT(rb_oracle_judge(&f, &vi, &stale), RB_VERDICT_OK);
    /* Served stale does not excuse a hard invalidation. */
    f = facts();
    f.snap.key_hard = 60;
    f.served_stale = true;
    RC_CHECK_EQ_INT(rb_oracle_judge(&f, &vi, &stale), RB_VERDICT_GHOST_KEY);

    /* ghost_tag: likewise for a hard invalidation of one of the value's tags. */
    f = facts();
    f.tag_hard = 51;
    RC_CHECK_EQ_INT(rb_oracle_judge(&f, &vi, &stale), RB_VERDICT_GHOST_TAG);
    f.tag_hard = 49; /* sent before the write was acknowledged: concurrent, legal */
    RC_CHECK_EQ_INT(rb_oracle_judge(&f, &vi, &stale), RB_VERDICT_OK);
    f.tag_hard = 0; /* none acknowledged before the read was sent */
    RC_CHECK_EQ_INT(rb_oracle_judge(&f, &vi, &stale), RB_VERDICT_OK);

    /* ghost_soft: soft invalidation (key or tag) after the write, value served FRESH. */
    f = facts();
    f.snap.key_soft = 70;
    RC_CHECK_EQ_INT(rb_oracle_judge(&f, &vi, &stale), RB_VERDICT_GHOST_SOFT);
    f.served_stale = true; /* served stale: exactly what soft means */
    RC_CHECK_EQ_INT(rb_oracle_judge(&f, &vi, &stale), RB_VERDICT_OK);
    f = facts();
    f.tag_soft = 70;
    RC_CHECK_EQ_INT(rb_oracle_judge(&f, &vi, &stale), RB_VERDICT_GHOST_SOFT);
    f.tag_soft = 30; /* sent before the write was acknowledged: a fresh value is legal */
    RC_CHECK_EQ_INT(rb_oracle_judge(&f, &vi, &stale), RB_VERDICT_OK);

    /* Priorities: version before key before tag before soft. */
    f = facts();
    f.snap.floor = 4;
    f.snap.key_hard = f.tag_hard = f.snap.key_soft = 60;
    RC_CHECK_EQ_INT(rb_oracle_judge(&f, &vi, &stale), RB_VERDICT_GHOST_VERSION);
    f.snap.floor = 3;
    RC_CHECK_EQ_INT(rb_oracle_judge(&f, &vi, &stale), RB_VERDICT_GHOST_KEY);
    f.snap.key_hard = 0;
    RC_CHECK_EQ_INT(rb_oracle_judge(&f, &vi, &stale), RB_VERDICT_GHOST_TAG);
    f.tag_hard = 0;
    RC_CHECK_EQ_INT(rb_oracle_judge(&f, &vi, &stale), RB_VERDICT_GHOST_SOFT);
    RC_CHECK(strcmp(rb_verdict_name(RB_VERDICT_GHOST_SOFT), "ghost-soft") == 0);
}

/* Encode a value of user written as wid into buf; its length. */
static size_t value_of(uint8_t *buf, uint32_t user, uint64_t version, uint64_t wid)
{
    rb_value_info vi = {.user = user, .version = version, .seq = wid, .nitems = 2};
    rb_value_encode(buf, &vi);
    return rb_value_size(2);
}

/*
 * The stateful oracle over whole orders of events, as the engine drives it:
 * stamps from the clock, snapshots at send, acknowledgements recorded.
 */
static void test_oracle_orders(void)
{
    rb_oracle o;
    rb_tag_cfg tc = {.products = 10, .per_value = 2, .segments = 4};
    RC_CHECK_RC(rb_oracle_init(&o, 8, &tc), 0);
    uint8_t buf[64];
    rb_value_info vi;
    rb_read_facts f;
    uint64_t stale;
    bool check = true;

    /* Key: write acknowledged, then DELETE sent and acknowledged, then a read: a ghost. */
    uint64_t w = rb_oracle_new_write(&o, 1, 0);
    RC_CHECK(w != 0);
    RC_CHECK_EQ_U64(rb_oracle_write_seq(&o, w), 1);
    rb_oracle_ack_write(&o, 1, w, rb_oracle_tick(&o));
    uint64_t del_sent = rb_oracle_tick(&o);
    rb_read_snap early;
    rb_oracle_snap(&o, 1, &early); /* a read sent before the DELETE was acknowledged */
    rb_oracle_tick(&o);            /* the DELETE's acknowledgement */
    rb_oracle_ack_key(&o, 1, false, del_sent);
    rb_read_snap late;
    rb_oracle_snap(&o, 1, &late);
    size_t len = value_of(buf, 1, 0, w);
    RC_CHECK_EQ_INT(rb_oracle_check_read(&o, &late, check, false, buf, len, &vi, &stale, &f),
                    RB_VERDICT_GHOST_KEY);
    RC_CHECK(f.write_basis != 0 && f.write_basis < del_sent);
    RC_CHECK_EQ_U64(f.snap.key_hard, del_sent);
    /* The same write id from another run (another nonce) is not this run's write: no facts. */
    len = value_of(buf, 1, 0, w ^ (1ull << 40));
    RC_CHECK_EQ_INT(rb_oracle_check_read(&o, &late, check, false, buf, len, &vi, &stale, &f),
                    RB_VERDICT_OK);
    RC_CHECK_EQ_U64(f.write_basis, 0);
    /* Legal: the read was sent before the DELETE was acknowledged (concurrent). */
    RC_CHECK_EQ_INT(rb_oracle_check_read(&o, &early, check, false, buf, len, &vi, &stale, &f),
                    RB_VERDICT_OK);
    /* Legal: a write acknowledged after the DELETE was sent survives it. */
    uint64_t w2 = rb_oracle_new_write(&o, 1, 0);
    uint64_t del2 = rb_oracle_tick(&o);
    rb_oracle_ack_write(&o, 1, w2, rb_oracle_tick(&o));
    rb_oracle_tick(&o);
    rb_oracle_ack_key(&o, 1, false, del2);
    rb_oracle_snap(&o, 1, &late);
    len = value_of(buf, 1, 0, w2);
    RC_CHECK_EQ_INT(rb_oracle_check_read(&o, &late, check, false, buf, len, &vi, &stale, &f),
                    RB_VERDICT_OK);
    /* Staleness from the per-user sequence: w is 1 behind w2. */
    len = value_of(buf, 1, 0, w);
    rb_oracle_check_read(&o, &early, check, false, buf, len, &vi, &stale, &f);
    RC_CHECK_EQ_U64(f.write_useq, 1);

    /* Tag: the value's tags come from the value; only invalidations acknowledged before the
     * read was sent count, whatever the order they are recorded in. */
    uint64_t w3 = rb_oracle_new_write(&o, 2, 0);
    rb_oracle_ack_write(&o, 2, w3, rb_oracle_tick(&o));
    uint32_t tags[RB_ORACLE_MAX_TAGS];
    RC_CHECK_EQ_INT(rb_oracle_tags(&tc, 2, w3, tags), 3);
    RC_CHECK_EQ_INT(tags[2], 10 + 2 % 4); /* the segment tag comes last */
    RC_CHECK(tags[0] < 10 && tags[1] < 10);
    uint64_t tag_sent = rb_oracle_tick(&o);
    rb_read_snap before_ack;
    rb_oracle_snap(&o, 2, &before_ack);
    uint64_t tag_acked = rb_oracle_tick(&o);
    rb_oracle_snap(&o, 2, &late);
    rb_oracle_ack_tag(&o, tags[2], false, tag_sent, tag_acked); /* recorded after both reads */
    len = value_of(buf, 2, 0, w3);
    RC_CHECK_EQ_INT(rb_oracle_check_read(&o, &late, check, false, buf, len, &vi, &stale, &f),
                    RB_VERDICT_GHOST_TAG);
    RC_CHECK_EQ_INT(rb_oracle_check_read(&o, &before_ack, check, false, buf, len, &vi, &stale, &f),
                    RB_VERDICT_OK);
    /* A tag the value does not carry does not concern it. */
    uint64_t w4 = rb_oracle_new_write(&o, 3, 0);
    rb_oracle_ack_write(&o, 3, w4, rb_oracle_tick(&o));
    rb_oracle_tags(&tc, 3, w4, tags);
    uint32_t other = tags[2] == 10 ? 11 : 10; /* another segment */
    uint64_t s5 = rb_oracle_tick(&o);
    rb_oracle_ack_tag(&o, other, false, s5, rb_oracle_tick(&o));
    rb_oracle_snap(&o, 3, &late);
    len = value_of(buf, 3, 0, w4);
    RC_CHECK_EQ_INT(rb_oracle_check_read(&o, &late, check, false, buf, len, &vi, &stale, &f),
                    RB_VERDICT_OK);
    /* Soft on the value's segment: fresh is a ghost, stale is right. */
    uint64_t s6 = rb_oracle_tick(&o);
    rb_oracle_ack_tag(&o, tags[2], true, s6, rb_oracle_tick(&o));
    rb_oracle_snap(&o, 3, &late);
    RC_CHECK_EQ_INT(rb_oracle_check_read(&o, &late, check, false, buf, len, &vi, &stale, &f),
                    RB_VERDICT_GHOST_SOFT);
    RC_CHECK_EQ_INT(rb_oracle_check_read(&o, &late, check, true, buf, len, &vi, &stale, &f),
                    RB_VERDICT_OK);
    /* Many more invalidations of one of its tags overflow that tag's ring (which keeps a bound
     * for the entries it drops): w4 is still a ghost, w5, acknowledged after them all, is not. */
    uint64_t w5 = rb_oracle_new_write(&o, 3, 0);
    for (uint32_t i = 0; i < 3 * RB_ORACLE_RING; i++) {
        uint64_t si = rb_oracle_tick(&o);
        rb_oracle_ack_tag(&o, tags[0], false, si, rb_oracle_tick(&o));
    }
    rb_oracle_snap(&o, 3, &late);
    RC_CHECK_EQ_INT(rb_oracle_check_read(&o, &late, check, false, buf, len, &vi, &stale, &f),
                    RB_VERDICT_GHOST_TAG);
    rb_oracle_ack_write(&o, 3, w5, rb_oracle_tick(&o));
    len = value_of(buf, 3, 0, w5);
    RC_CHECK_EQ_INT(rb_oracle_check_read(&o, &late, check, false, buf, len, &vi, &stale, &f),
                    RB_VERDICT_OK);

    /* A lease fill's basis is its grant: an invalidation sent after the grant must kill the
     * fill even if the fill was acknowledged after the invalidation was sent. */
    uint64_t grant = rb_oracle_tick(&o);
    uint64_t w6 = rb_oracle_new_write(&o, 4, grant);
    uint64_t inv = rb_oracle_tick(&o);
    rb_oracle_ack_write(&o, 4, w6, rb_oracle_tick(&o)); /* the fill's ack: after inv was sent */
    rb_oracle_tick(&o);
    rb_oracle_ack_key(&o, 4, false, inv);
    rb_oracle_snap(&o, 4, &late);
    len = value_of(buf, 4, 0, w6);
    RC_CHECK_EQ_INT(rb_oracle_check_read(&o, &late, check, false, buf, len, &vi, &stale, &f),
                    RB_VERDICT_GHOST_KEY);
    RC_CHECK_EQ_U64(f.write_basis, grant);

    /* Bumps: the floor only moves up; a corrupt value is judged before anything else. */
    rb_oracle_ack_bump(&o, 5);
    rb_oracle_ack_bump(&o, 4);
    RC_CHECK_EQ_U64(atomic_load(&o.bump_acked), 5);
    RC_CHECK_EQ_U64(atomic_load(&o.version_seen), 5);
    rb_oracle_snap(&o, 4, &late);
    RC_CHECK_EQ_INT(rb_oracle_check_read(&o, &late, check, false, buf, len, &vi, &stale, &f),
                    RB_VERDICT_GHOST_VERSION);
    RC_CHECK_EQ_INT(rb_oracle_check_read(&o, &late, check, false, buf, 10, &vi, &stale, &f),
                    RB_VERDICT_CORRUPT);
    RC_CHECK_RC(rb_oracle_init(&o, 0, &tc), RC_EINVAL);
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
                  .has_segment = 1,
                  .segment = 7,
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
    RC_CHECK_EQ_INT(m.ntags, 3); /* product:4, product:8, segment:7 */
    RC_CHECK(memmem(m.tags.ptr, m.tags.len, "segment:7", 9) != NULL);
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

/*
 * SIEVE on hand-checked traces (capacity 2), then against CLOCK on a Zipf
 * trace: it keeps hot keys in place, so it never misses more there.
 */
static void test_sieve_sim(void)
{
    /* 1 2 | 1 hit (visited) | 3: the hand clears 1, evicts 2 | 1 hit | 2: evicts 3. */
    uint64_t keys[] = {1, 2, 1, 3, 1, 2};
    rb_trace t = {keys, 6};
    rb_trace_result r;
    RC_CHECK_RC(rb_sieve_sim(&t, 2, &r), 0);
    RC_CHECK_EQ_U64(r.misses, 4);
    /* After 4 evicts 3, the hand rests on 1 (cleared) and evicts it next, not the new 4. */
    uint64_t keys2[] = {1, 3, 1, 4, 5, 4};
    rb_trace t2 = {keys2, 6};
    RC_CHECK_RC(rb_sieve_sim(&t2, 2, &r), 0);
    RC_CHECK_EQ_U64(r.misses, 4); /* 1, 3, 4, 5; then 4 hits */
    RC_CHECK_RC(rb_sieve_sim(&t, 0, &r), RC_EINVAL);
    static uint64_t big[200000];
    rb_zipf z;
    rb_rng rng;
    rb_rng_seed(&rng, 3);
    RC_CHECK_RC(rb_zipf_init(&z, 20000, 1.0), 0);
    for (size_t i = 0; i < 200000; i++)
        big[i] = rb_zipf_draw(&z, &rng);
    rb_zipf_free(&z);
    rb_trace bt = {big, 200000};
    for (uint64_t cap = 200; cap <= 2000; cap *= 10) {
        rb_trace_result c, s;
        RC_CHECK_RC(rb_clock_sim(&bt, cap, &c), 0);
        RC_CHECK_RC(rb_sieve_sim(&bt, cap, &s), 0);
        RC_CHECK(s.miss_ratio < c.miss_ratio);
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
    /* The churn preset, and an explicit option overriding it (rb_main re-parses after it). */
    rb_opts c;
    rb_opts_defaults(&c);
    rb_opts_churn(&c);
    RC_CHECK(strcmp(c.mode, "lease") == 0 && c.l1 == 2 && c.chase == 1 && c.big_permille > 0);
    RC_CHECK(strcmp(c.l1_filter, "mixed") == 0 && c.calm_ms > 0);
    RC_CHECK(c.bump_every > 0 && c.tag_every > 0 && c.key_every > 0 && c.delete_every > 0);
    RC_CHECK(c.soft_pct > 0 && c.soft_pct < 100 && c.segments > 0 && c.lease_wait_ms > 0);
    char *over[] = {"recache-bench", "--churn", "1", "--l1", "0"};
    RC_CHECK_RC(rb_opts_parse(&c, 5, over), 0);
    RC_CHECK_EQ_INT(c.l1, 0);
    RC_CHECK_EQ_INT(c.churn, 1);
}

int main(void)
{
    RC_TEST_RUN(test_zipf_distribution);
    RC_TEST_RUN(test_zipf_edges);
    RC_TEST_RUN(test_hist_percentiles);
    RC_TEST_RUN(test_value_roundtrip);
    RC_TEST_RUN(test_oracle_judge);
    RC_TEST_RUN(test_oracle_orders);
    RC_TEST_RUN(test_peer_parsers);
    RC_TEST_RUN(test_recache_wire);
    RC_TEST_RUN(test_clock_sim);
    RC_TEST_RUN(test_sieve_sim);
    RC_TEST_RUN(test_opts);
    return 0;
}
