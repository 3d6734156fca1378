/*
 * test_client_l1.c - the L1 near-cache against a real server: coherence.
 *
 * Cases (each on its own server): a write through client A stops client
 * B's L1 from serving the old value once B applied the event; a paused
 * channel replays what it missed on resume (no resync), and with a ring
 * too small for the gap gets RESYNC and drops its L1; bump and tag events
 * reach the L1 (unknown-tag entries dropped on any TAG); entries with
 * known tags survive a TAG they do not carry; the fill race rule refuses
 * a read that an invalidation overtook; the L1 stays within its entry
 * bound; the raw channel calls; an L1 limited to one namespace advances by
 * heartbeats past the events it is not sent.
 *
 * Synchronisation is by sequence number: after a write the node's newest
 * seq (rc_node_seq) is awaited with rc_l1_wait_applied, a condition
 * variable.  Only "the channel is subscribed / unsubscribed" has no event a
 * test can wait on, so wait_healthy / wait_disconnected poll rc_l1 stats
 * with a deadline.  The race-rule and known-tag cases drive the L1's
 * internal event entry point (rc_l1_int.h) to place an event exactly
 * where a real one could land.
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "rc_harness.h"
#include "rc_l1_int.h"
#include "rc_test.h"

#define DEADLINE_MS 10000
#define WAIT_MS     5000

/* ---- helpers -------------------------------------------------------------------------------- */

static rc_l1 *open_l1(const rc_harness_server *s, uint32_t health_ms)
{
    rc_l1_options o = {.port = s->port, .health_timeout_ms = health_ms};
    rc_l1 *l1 = NULL;
    RC_CHECK_RC(rc_l1_open(&o, &l1), 0);
    return l1;
}

/* wait_healthy - poll until the L1 may serve (no signal exists for "subscribed"); 0 or -1. */
static int wait_healthy(rc_l1 *l1, int want)
{
    uint64_t deadline = rc_harness_now_ms() + DEADLINE_MS;
    while (rc_harness_l1_stats(l1).healthy != want) {
        if (rc_harness_now_ms() > deadline)
            return -1;
        rc_harness_poll_pause();
    }
    return 0;
}

static int wait_disconnected(rc_l1 *l1)
{
    uint64_t deadline = rc_harness_now_ms() + DEADLINE_MS;
    while (rc_harness_l1_stats(l1).connected) {
        if (rc_harness_now_ms() > deadline)
            return -1;
        rc_harness_poll_pause();
    }
    return 0;
}

static void put(rc_client *c, const char *ns, const char *key, const char *value)
{
    RC_CHECK_RC(rc_set(c, ns, key, strlen(key), value, strlen(value), NULL, NULL), 0);
}

/* expect_l1 - rc_l1_get returns `want`, and it was (hit = 1) or was not a hit. */
static void expect_l1(rc_l1 *l1, rc_client *c, const char *ns, const char *key, const char *want,
                      int hit)
{
    rc_l1_stats before = rc_harness_l1_stats(l1);
    rc_value v;
    RC_CHECK_RC(rc_l1_get(l1, c, ns, key, strlen(key), &v), 0);
    RC_CHECK_MEM(v.data, v.len, want, strlen(want));
    rc_value_free(&v);
    rc_l1_stats after = rc_harness_l1_stats(l1);
    RC_CHECK_EQ_U64(after.hits - before.hits, hit ? 1 : 0);
    RC_CHECK_EQ_U64(after.misses - before.misses, hit ? 0 : 1);
}

/* A server plus writer A, reader B and B's L1. */
typedef struct fixture {
    rc_harness_server srv;
    rc_client *a;
    rc_client *b;
    rc_l1 *l1;
} fixture;

static void fixture_start(fixture *f, const char *const args[])
{
    RC_CHECK(rc_harness_start(&f->srv, args) == 0);
    f->a = rc_harness_client(&f->srv);
    f->b = rc_harness_client(&f->srv);
    f->l1 = open_l1(&f->srv, 3000);
    RC_CHECK(wait_healthy(f->l1, 1) == 0);
}

static void fixture_stop(fixture *f)
{
    rc_l1_close(f->l1);
    rc_close(f->a);
    rc_close(f->b);
    RC_CHECK_EQ_INT(rc_harness_stop(&f->srv), 0);
}

/* ---- cases ---------------------------------------------------------------------------------- */

static void test_write_through_invalidates(void)
{
    fixture f;
    fixture_start(&f, NULL);
    put(f.a, "recs", "u1", "v1");
    rc_harness_sync_l1(f.l1, f.a,
                       WAIT_MS); /* else the write's own event could drop the first fill */
    expect_l1(f.l1, f.b, "recs", "u1", "v1", 0);
    expect_l1(f.l1, f.b, "recs", "u1", "v1", 1);
    RC_CHECK_EQ_U64(rc_harness_l1_stats(f.l1).entries, 1);

    put(f.a, "recs", "u1", "v2");
    rc_harness_sync_l1(f.l1, f.a, WAIT_MS);
    rc_l1_stats st = rc_harness_l1_stats(f.l1);
    RC_CHECK(st.invalidations >= 1);
    RC_CHECK_EQ_U64(st.entries, 0);
    expect_l1(f.l1, f.b, "recs", "u1", "v2", 0);
    expect_l1(f.l1, f.b, "recs", "u1", "v2", 1);

    /* A delete reaches the L1 too: the next read is a server miss. */
    RC_CHECK_RC(rc_delete(f.a, "recs", "u1", 2, 0), 0);
    rc_harness_sync_l1(f.l1, f.a, WAIT_MS);
    rc_value v;
    RC_CHECK_RC(rc_l1_get(f.l1, f.b, "recs", "u1", 2, &v), RC_EMISS);

    /* rc_l1_set writes through and reads its own write. */
    const char *tags[] = {"segment:eu"};
    rc_set_options so = {.ttl_ms = 60000, .stale_ms = RC_STALE_DEFAULT, .tags = tags, .ntags = 1};
    RC_CHECK_RC(rc_l1_set(f.l1, f.b, "recs", "u2", 2, "w1", 2, &so, NULL), 0);
    RC_CHECK_RC(rc_get(f.a, "recs", "u2", 2, NULL, &v), 0);
    RC_CHECK_MEM(v.data, v.len, "w1", 2);
    rc_value_free(&v);
    rc_harness_sync_l1(f.l1, f.a, WAIT_MS); /* the write's own KEY event drops the local copy */
    expect_l1(f.l1, f.b, "recs", "u2", "w1", 0);
    RC_CHECK_EQ_U64(rc_harness_l1_stats(f.l1).resyncs, 0);
    fixture_stop(&f);
}

/* fill_keys - read n keys through the L1 twice: the second round must hit. */
static void fill_keys(fixture *f, int n, const char *prefix)
{
    char key[32], val[32];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "k%d", i);
        snprintf(val, sizeof val, "%s%d", prefix, i);
        put(f->a, "recs", key, val);
    }
    rc_harness_sync_l1(f->l1, f->a, WAIT_MS);
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < n; i++) {
            snprintf(key, sizeof key, "k%d", i);
            snprintf(val, sizeof val, "%s%d", prefix, i);
            expect_l1(f->l1, f->b, "recs", key, val, round);
        }
}

static void test_gap_replayed(void)
{
    fixture f;
    char key[32], val[32];
    fixture_start(&f, NULL);
    fill_keys(&f, 10, "old");
    rc_l1_pause(f.l1);
    RC_CHECK(wait_disconnected(f.l1) == 0);
    RC_CHECK(wait_healthy(f.l1, 0) == 0);
    for (int i = 0; i < 5; i++) {
        snprintf(key, sizeof key, "k%d", i);
        snprintf(val, sizeof val, "new%d", i);
        put(f.a, "recs", key, val);
    }
    /* While paused the L1 does not serve: reads go to the server and see the new values. */
    expect_l1(f.l1, f.b, "recs", "k0", "new0", 0);
    rc_l1_resume(f.l1);
    rc_harness_sync_l1(f.l1, f.a, WAIT_MS);
    RC_CHECK(wait_healthy(f.l1, 1) == 0);
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "k%d", i);
        snprintf(val, sizeof val, "%s%d", i < 5 ? "new" : "old", i);
        expect_l1(f.l1, f.b, "recs", key, val, i >= 5);
    }
    rc_l1_stats st = rc_harness_l1_stats(f.l1);
    RC_CHECK_EQ_U64(st.resyncs, 0);
    RC_CHECK_EQ_U64(st.reconnects, 1);
    fixture_stop(&f);
}

static void test_gap_too_large_resyncs(void)
{
    fixture f;
    char key[32];
    const char *const args[] = {"--event-ring", "16", NULL};
    fixture_start(&f, args);
    fill_keys(&f, 4, "old");
    RC_CHECK_EQ_U64(rc_harness_l1_stats(f.l1).entries, 4);
    rc_l1_pause(f.l1);
    RC_CHECK(wait_disconnected(f.l1) == 0);
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "other%d", i);
        put(f.a, "misc", key, "x");
    }
    rc_l1_resume(f.l1);
    rc_harness_sync_l1(f.l1, f.a, WAIT_MS);
    rc_l1_stats st = rc_harness_l1_stats(f.l1);
    RC_CHECK_EQ_U64(st.resyncs, 1);
    RC_CHECK_EQ_U64(st.entries, 0);
    RC_CHECK(wait_healthy(f.l1, 1) == 0);
    expect_l1(f.l1, f.b, "recs", "k0", "old0", 0);
    fixture_stop(&f);
}

static void test_bump_and_tag(void)
{
    fixture f;
    fixture_start(&f, NULL);
    put(f.a, "recs", "a", "1");
    put(f.a, "recs", "b", "2");
    put(f.a, "other", "c", "3");
    rc_harness_sync_l1(f.l1, f.a, WAIT_MS);
    expect_l1(f.l1, f.b, "recs", "a", "1", 0);
    expect_l1(f.l1, f.b, "recs", "b", "2", 0);
    expect_l1(f.l1, f.b, "other", "c", "3", 0);

    /* Bump recs: its entries go, other namespaces stay. */
    uint64_t version = 0;
    RC_CHECK_RC(rc_bump(f.a, "recs", 0, &version), 0);
    RC_CHECK_EQ_U64(version, 2);
    rc_harness_sync_l1(f.l1, f.a, WAIT_MS);
    RC_CHECK_EQ_U64(rc_harness_l1_stats(f.l1).entries, 1);
    expect_l1(f.l1, f.b, "other", "c", "3", 1);
    rc_value v;
    RC_CHECK_RC(rc_l1_get(f.l1, f.b, "recs", "a", 1, &v), RC_EMISS); /* new version is empty */

    /* A tag event drops every entry whose tags are unknown (all read-through copies). */
    const char *tags[] = {"product:QL2000"};
    rc_set_options so = {.stale_ms = RC_STALE_DEFAULT, .tags = tags, .ntags = 1};
    RC_CHECK_RC(rc_set(f.a, "recs", "t", 1, "tv", 2, &so, NULL), 0);
    rc_harness_sync_l1(f.l1, f.a, WAIT_MS);
    expect_l1(f.l1, f.b, "recs", "t", "tv", 0);
    expect_l1(f.l1, f.b, "other", "c", "3", 1);
    RC_CHECK_EQ_U64(rc_harness_l1_stats(f.l1).entries, 2);
    uint64_t inval_before = rc_harness_l1_stats(f.l1).invalidations;
    RC_CHECK_RC(rc_invalidate_tag(f.a, "product:QL2000", RC_HARD, NULL), 0);
    rc_harness_sync_l1(f.l1, f.a, WAIT_MS);
    rc_l1_stats st = rc_harness_l1_stats(f.l1);
    RC_CHECK_EQ_U64(st.entries, 0);
    RC_CHECK_EQ_U64(st.invalidations - inval_before, 2);
    RC_CHECK_RC(rc_l1_get(f.l1, f.b, "recs", "t", 1, &v), RC_EMISS);
    expect_l1(f.l1, f.b, "other", "c", "3", 0);

    /* A flush reaches the L1 as a flush. */
    RC_CHECK_RC(rc_flush(f.a), 0);
    rc_harness_sync_l1(f.l1, f.a, WAIT_MS);
    st = rc_harness_l1_stats(f.l1);
    RC_CHECK_EQ_U64(st.entries, 0);
    RC_CHECK_EQ_U64(st.flushes, 1);
    fixture_stop(&f);
}

/* synthetic - apply an event by hand (seq 0: it does not move the applied sequence). */
static void synthetic(rc_l1 *l1, int kind, const char *ns, const char *key, const char *tag)
{
    rc_event ev = {.kind = kind};
    ev.ns = ns;
    ev.ns_len = ns ? strlen(ns) : 0;
    ev.key = (const uint8_t *)key;
    ev.key_len = key ? strlen(key) : 0;
    ev.tag = tag;
    ev.tag_len = tag ? strlen(tag) : 0;
    rc__l1_apply_event(l1, &ev);
}

static void test_known_tags_survive_other_tags(void)
{
    fixture f;
    fixture_start(&f, NULL);
    /* Paused: no real event can drop the entry rc_l1_set keeps. */
    rc_l1_pause(f.l1);
    RC_CHECK(wait_disconnected(f.l1) == 0);
    const char *tags[] = {"t1", "t2"};
    rc_set_options so = {.ttl_ms = 60000, .stale_ms = RC_STALE_DEFAULT, .tags = tags, .ntags = 2};
    RC_CHECK_RC(rc_l1_set(f.l1, f.b, "recs", "k", 1, "v", 1, &so, NULL), 0);
    RC_CHECK_EQ_U64(rc_harness_l1_stats(f.l1).entries, 1);
    synthetic(f.l1, RC_EVENT_TAG, NULL, NULL, "t3");
    RC_CHECK_EQ_U64(rc_harness_l1_stats(f.l1).entries, 1);
    synthetic(f.l1, RC_EVENT_TAG, NULL, NULL, "t2");
    RC_CHECK_EQ_U64(rc_harness_l1_stats(f.l1).entries, 0);
    rc_l1_resume(f.l1);
    RC_CHECK(wait_healthy(f.l1, 1) == 0);
    fixture_stop(&f);
}

/* A read-through running on its own thread (the server is stopped while it is in flight). */
typedef struct reader {
    rc_l1 *l1;
    rc_client *c;
    int rc;
    rc_value v;
} reader;

static void *reader_main(void *arg)
{
    reader *r = arg;
    r->rc = rc_l1_get(r->l1, r->c, "recs", "race", 4, &r->v);
    return NULL;
}

/*
 * race_once - start a read-through while the server is stopped (so it is
 * in flight after noting the L1's invalidation counter: stats.misses moves
 * in the same critical section), optionally apply an invalidation of the
 * key, let the server answer, and return whether the L1 kept the value.
 */
static int race_once(fixture *f, int invalidate_kind)
{
    reader r = {.l1 = f->l1, .c = f->b};
    uint64_t misses = rc_harness_l1_stats(f->l1).misses;
    RC_CHECK(kill(f->srv.pid, SIGSTOP) == 0);
    pthread_t t;
    RC_CHECK(pthread_create(&t, NULL, reader_main, &r) == 0);
    uint64_t deadline = rc_harness_now_ms() + DEADLINE_MS;
    while (rc_harness_l1_stats(f->l1).misses == misses) {
        RC_CHECK(rc_harness_now_ms() < deadline);
        rc_harness_poll_pause();
    }
    if (invalidate_kind == RC_EVENT_KEY)
        synthetic(f->l1, RC_EVENT_KEY, "recs", "race", NULL);
    else if (invalidate_kind != 0)
        synthetic(f->l1, invalidate_kind, "recs", NULL, "sometag");
    RC_CHECK(kill(f->srv.pid, SIGCONT) == 0);
    RC_CHECK(pthread_join(t, NULL) == 0);
    RC_CHECK_RC(r.rc, 0);
    RC_CHECK_MEM(r.v.data, r.v.len, "old", 3);
    rc_value_free(&r.v);
    int kept = rc_harness_l1_stats(f->l1).entries == 1;
    rc_l1_invalidate_local(f->l1, "recs", "race", 4);
    return kept;
}

static void test_fill_race_rule(void)
{
    fixture f;
    fixture_start(&f, NULL);
    put(f.a, "recs", "race", "old");
    rc_harness_sync_l1(f.l1, f.a, WAIT_MS);
    RC_CHECK_EQ_INT(race_once(&f, 0), 1);            /* control: nothing overtook the read */
    RC_CHECK_EQ_INT(race_once(&f, RC_EVENT_KEY), 0); /* a KEY event for the key did */
    RC_CHECK_EQ_INT(race_once(&f, RC_EVENT_TAG), 0); /* any TAG event does */
    RC_CHECK(wait_healthy(f.l1, 1) == 0);
    fixture_stop(&f);
}

static void test_bounds(void)
{
    rc_harness_server srv;
    RC_CHECK(rc_harness_start(&srv, NULL) == 0);
    rc_client *c = rc_harness_client(&srv);
    rc_l1_options o = {.port = srv.port, .max_entries = 8};
    rc_l1 *l1 = NULL;
    RC_CHECK_RC(rc_l1_open(&o, &l1), 0);
    RC_CHECK(wait_healthy(l1, 1) == 0);
    char key[16];
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "b%d", i);
        put(c, "recs", key, "value");
    }
    rc_harness_sync_l1(l1, c, WAIT_MS);
    rc_value v;
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "b%d", i);
        RC_CHECK_RC(rc_l1_get(l1, c, "recs", key, strlen(key), &v), 0);
        rc_value_free(&v);
    }
    RC_CHECK_EQ_U64(rc_harness_l1_stats(l1).entries, 8);
    /* The newest 8 are the ones kept (LRU). */
    expect_l1(l1, c, "recs", "b19", "value", 1);
    expect_l1(l1, c, "recs", "b0", "value", 0);
    rc_l1_close(l1);
    rc_close(c);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
}

/* The raw channel: events through rc_next_event; requests refused on a subscribed client. */
static void test_raw_channel(void)
{
    rc_harness_server srv;
    RC_CHECK(rc_harness_start(&srv, NULL) == 0);
    rc_client *a = rc_harness_client(&srv), *s = rc_harness_client(&srv);
    uint64_t seq = 0, instance = 0;
    RC_CHECK_RC(rc_subscribe(s, NULL, 0, 0, 0, &seq, &instance), 0);
    RC_CHECK(instance != 0);
    RC_CHECK_RC(rc_ping(s), RC_ESTATE); /* its answer would hide among the events */
    put(a, "recs", "raw", "v");
    rc_event ev;
    do
        RC_CHECK_RC(rc_next_event(s, WAIT_MS, &ev), 0);
    while (ev.kind == RC_EVENT_HEARTBEAT);
    RC_CHECK_EQ_INT(ev.kind, RC_EVENT_KEY);
    RC_CHECK_EQ_U64(ev.seq, seq + 1);
    RC_CHECK_EQ_U64(ev.instance_id, instance);
    RC_CHECK_MEM(ev.ns, ev.ns_len, "recs", 4);
    RC_CHECK_MEM(ev.key, ev.key_len, "raw", 3);
    RC_CHECK_EQ_INT(ev.mode, RC_HARD);
    /* Silence is not an error: the client stays usable. */
    int err = rc_next_event(s, 0, &ev);
    RC_CHECK(err == RC_ETIMEDOUT || (err == 0 && ev.kind == RC_EVENT_HEARTBEAT));
    RC_CHECK(rc_client_ok(s));
    RC_CHECK_RC(rc_next_event(a, 0, &ev), RC_ESTATE); /* not subscribed */
    rc_close(s);
    rc_close(a);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
}

/* An L1 of one namespace: other namespaces' writes neither reach nor stall it. */
static void test_filtered_l1(void)
{
    rc_harness_server srv;
    const char *const args[] = {"--heartbeat-ms", "50", NULL};
    RC_CHECK(rc_harness_start(&srv, args) == 0);
    rc_client *c = rc_harness_client(&srv);
    const char *const names[] = {"recs"};
    rc_l1_options o = {.port = srv.port, .namespaces = names, .n_namespaces = 1};
    rc_l1 *l1 = NULL;
    RC_CHECK_RC(rc_l1_open(&o, &l1), 0);
    RC_CHECK(wait_healthy(l1, 1) == 0);
    put(c, "recs", "k", "v1");
    rc_harness_sync_l1(l1, c, WAIT_MS);
    expect_l1(l1, c, "recs", "k", "v1", 0);
    for (int i = 0; i < 20; i++)
        put(c, "other", "x", "y");
    /* Filtered-out events never arrive: the heartbeat's position is what moves applied_seq. */
    rc_harness_sync_l1(l1, c, WAIT_MS);
    expect_l1(l1, c, "recs", "k", "v1", 1);
    RC_CHECK_EQ_U64(rc_harness_l1_stats(l1).resyncs, 0);
    put(c, "recs", "k", "v2");
    rc_harness_sync_l1(l1, c, WAIT_MS);
    expect_l1(l1, c, "recs", "k", "v2", 0);
    rc_l1_close(l1);
    rc_close(c);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
}

int main(void)
{
    RC_TEST_RUN(test_write_through_invalidates);
    RC_TEST_RUN(test_gap_replayed);
    RC_TEST_RUN(test_gap_too_large_resyncs);
    RC_TEST_RUN(test_bump_and_tag);
    RC_TEST_RUN(test_known_tags_survive_other_tags);
    RC_TEST_RUN(test_fill_race_rule);
    RC_TEST_RUN(test_bounds);
    RC_TEST_RUN(test_raw_channel);
    RC_TEST_RUN(test_filtered_l1);
    return 0;
}
