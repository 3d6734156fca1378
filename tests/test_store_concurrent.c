/*
 * test_store_concurrent.c - the hash index growing under concurrent access.
 *
 * Four threads each insert 50,000 distinct keys into a store with only four
 * shards (so every shard's table doubles many times while the others keep
 * working), read back their own keys as they go, and read and write a small
 * set of shared keys that every thread touches.  Afterwards every distinct
 * key must be present with its value and the counts must add up.
 *
 * A second case mixes every operation (tagged writes under memory pressure,
 * reads, deletes, touches, key and tag invalidations, bumps, sweeps,
 * settings, reports) from four threads on a small store, checking return
 * codes as it goes and the memory limit and gauges at the end.  Both run
 * under TSan as well; the threads start together on a barrier.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "rc_test.h"
#include "recache/rc_errors.h"
#include "test_store_util.h"

#define NTHREADS   4
#define PER_THREAD 50000
#define NSHARED    1000
#define NOW0       1000000u

typedef struct worker {
    rc_store *st;
    pthread_barrier_t *start;
    int id;
    int failures;
} worker;

static void key_of(char *buf, size_t cap, int thread, int i)
{
    snprintf(buf, cap, "t%d:user:%d", thread, i);
}

/*
 * run_workers - run fn on NTHREADS threads against st, started together on
 * a barrier, join them all and check each reported no failures (a failed
 * create / join / count fails the test).  Everything lives on this stack
 * frame, so nothing is left to release.
 */
static void run_workers(rc_store *st, void *(*fn)(void *))
{
    pthread_barrier_t start;
    pthread_t threads[NTHREADS];
    worker workers[NTHREADS];
    pthread_barrier_init(&start, NULL, NTHREADS);
    for (int t = 0; t < NTHREADS; t++) {
        workers[t] = (worker){.st = st, .start = &start, .id = t};
        RC_CHECK_EQ_INT(pthread_create(&threads[t], NULL, fn, &workers[t]), 0);
    }
    for (int t = 0; t < NTHREADS; t++) {
        RC_CHECK_EQ_INT(pthread_join(threads[t], NULL), 0);
        RC_CHECK_EQ_INT(workers[t].failures, 0);
    }
    pthread_barrier_destroy(&start);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    char key[48], shared[32], value[64];
    pthread_barrier_wait(w->start);
    for (int i = 0; i < PER_THREAD; i++) {
        key_of(key, sizeof(key), w->id, i);
        snprintf(value, sizeof(value), "value-of-%s", key);
        if (ts_set(w->st, "recs", key, value, NOW0) != 0)
            w->failures++;
        /* Read back an earlier key of ours: it must be there, whatever the migration state. */
        int back = i / 2;
        key_of(key, sizeof(key), w->id, back);
        snprintf(value, sizeof(value), "value-of-%s", key);
        if (!ts_has(w->st, "recs", key, 0, NOW0, value))
            w->failures++;
        snprintf(shared, sizeof(shared), "shared:%d", i % NSHARED);
        if (i % 3 == 0) {
            if (ts_set(w->st, "recs", shared, "shared-value", NOW0) != 0)
                w->failures++;
        } else {
            ts_buf buf;
            rc_store_read rd;
            int rc = ts_get(w->st, "recs", shared, 0, NOW0, &buf, &rd);
            if (rc == 0 && (buf.len != 12 || memcmp(buf.data, "shared-value", 12) != 0))
                w->failures++;
            if (rc != 0 && rc != RC_EMISS)
                w->failures++;
        }
    }
    return NULL;
}

static void test_concurrent_growth(void)
{
    rc_store *st = ts_store((size_t)512 << 20, 4, 1024);
    run_workers(st, worker_main);

    char key[48], value[64];
    for (int t = 0; t < NTHREADS; t++) {
        for (int i = 0; i < PER_THREAD; i++) {
            key_of(key, sizeof(key), t, i);
            snprintf(value, sizeof(value), "value-of-%s", key);
            RC_CHECK(ts_has(st, "recs", key, 0, NOW0, value));
        }
    }
    for (int i = 0; i < NSHARED; i++) {
        snprintf(key, sizeof(key), "shared:%d", i);
        RC_CHECK(ts_has(st, "recs", key, 0, NOW0, "shared-value"));
    }
    rc_store_totals tot = ts_totals(st);
    RC_CHECK_EQ_U64(tot.entries, NTHREADS * PER_THREAD + NSHARED);
    RC_CHECK_EQ_U64(tot.evictions, 0);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "entries"), NTHREADS * PER_THREAD + NSHARED);
    RC_CHECK(tot.bytes_used <= tot.bytes_limit);
    rc_store_destroy(st);
}

#define MIXED_OPS 20000

static const char *const mixed_ns[] = {"recs", "feed", "ads"};
static const char *const mixed_tags[] = {"p:1",    "p:2", "p:3", "seg:eu",
                                         "seg:us", "b:x", "b:y", "b:z"};

static uint64_t mixed_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* One random write with 0..2 tags and a short TTL; every outcome but success is a failure. */
static int mixed_set(rc_store *st, uint64_t *seed, rc_store_key *k, uint64_t now)
{
    static const uint8_t value[1500];
    uint8_t enc[64];
    rc_slice names[2];
    size_t ntags = mixed_rand(seed) % 3;
    for (size_t i = 0; i < ntags; i++)
        names[i] = rc_slice_str(mixed_tags[mixed_rand(seed) % 8]);
    long len = rc_list_encode(names, ntags, enc, sizeof(enc));
    uint32_t ttl = (uint32_t)(mixed_rand(seed) % 200);
    rc_store_write w = ts_write("", ttl < 140 ? 0 : ttl);
    rc_store_write_result res;
    w.value = value;
    w.value_len = (uint32_t)(mixed_rand(seed) % sizeof(value));
    w.ntags = (uint8_t)ntags;
    w.tags.ptr = enc;
    w.tags.len = (uint32_t)len;
    w.stale_ms = (uint32_t)(mixed_rand(seed) % 20);
    w.cond = (uint8_t)(mixed_rand(seed) % 4);
    w.entry_version = mixed_rand(seed) % 8;
    w.cas_version = mixed_rand(seed) % 8;
    int rc = rc_store_set(st, k, &w, now, &res);
    return rc == 0 || rc == RC_EEXISTS || rc == RC_ENOT_NEWER || rc == RC_ECAS_MISMATCH;
}

/* One random operation; returns whether its outcome was an allowed one. */
static int mixed_op(rc_store *st, uint64_t *seed, uint64_t now)
{
    char key[32], text[1024];
    snprintf(key, sizeof(key), "u%u", (unsigned)(mixed_rand(seed) % 3000));
    rc_store_key k = ts_key(mixed_ns[mixed_rand(seed) % 3], key, 0);
    uint64_t v, r = mixed_rand(seed) % 1000;
    rc_store_read rd;
    ts_buf buf;
    if (r < 500) {
        int rc = rc_store_get(st, &k, now, ts_sink, &buf, &rd);
        return rc == 0 ? buf.len == rd.value_len : rc == RC_EMISS;
    }
    if (r < 940)
        return mixed_set(st, seed, &k, now);
    if (r < 960)
        return rc_store_delete(st, &k, now, &v, NULL) <= 0;
    if (r < 970)
        return rc_store_touch(st, &k, 30, now, &v) <= 0;
    if (r < 980)
        return rc_store_invalidate_key(st, &k, (uint8_t)(r & 1), now, &v, NULL) <= 0;
    if (r < 985)
        return rc_store_invalidate_tag(st, rc_slice_str(mixed_tags[r % 8]), (uint8_t)(r & 1), &v) ==
               0;
    if (r < 987)
        return rc_store_bump(st, k.ns, 0, &v) == 0;
    if (r < 992)
        return rc_store_sweep(st, now, 64, NULL) <= 3000;
    if (r < 994)
        return rc_store_ns_configure(st, k.ns, rc_slice_str("ttl-jitter=10 stale=5"), text,
                                     sizeof(text)) == 0;
    if (r < 997)
        return rc_store_ns_info(st, k.ns, text, sizeof(text), &v) != 0;
    return rc_store_stats_text(st, text, sizeof(text)) > 0;
}

static void *mixed_main(void *arg)
{
    worker *w = arg;
    uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)(w->id + 1);
    pthread_barrier_wait(w->start);
    for (int i = 0; i < MIXED_OPS; i++)
        if (!mixed_op(w->st, &seed, NOW0 + (uint64_t)i / 4))
            w->failures++;
    return NULL;
}

static void test_concurrent_mixed(void)
{
    const size_t limit = 256u << 10;
    rc_store *st = ts_store(limit, 4, 4096);
    run_workers(st, mixed_main);
    rc_store_totals tot = ts_totals(st);
    printf("mixed: %" PRIu64 " entries, %" PRIu64 " bytes used of %" PRIu64 ", %" PRIu64
           " evictions, %" PRIu64 " reclaimed\n",
           tot.entries, tot.bytes_used, tot.bytes_limit, tot.evictions, tot.reclaimed);
    RC_CHECK(tot.bytes_used <= limit);
    RC_CHECK(tot.evictions > 0 && tot.reclaimed > 0);
    rc_store_flush(st, NULL);
    tot = ts_totals(st);
    RC_CHECK_EQ_U64(tot.entries, 0);
    RC_CHECK_EQ_U64(tot.tags_live, 0);
    for (int i = 0; i < 3; i++) {
        RC_CHECK_EQ_U64(ts_ns_stat(st, mixed_ns[i], "entries"), 0);
        RC_CHECK_EQ_U64(ts_ns_stat(st, mixed_ns[i], "bytes"), 0);
    }
    rc_store_destroy(st);
}

int main(void)
{
    RC_TEST_RUN(test_concurrent_growth);
    RC_TEST_RUN(test_concurrent_mixed);
    return 0;
}
