/*
 * test_client_ns.c - versioned namespaces through the client, against a
 * real server:
 *   - bump semantics (+1, explicit target, never backwards);
 *   - explicit reads of an old version after a bump;
 *   - staged warm-up: current+1 invisible until the bump, then all visible;
 *   - a read's minimum version makes a node adopt it;
 *   - the bump race: threads read and write on their own connections while
 *     another bumps repeatedly; every read's ns_version is at least the
 *     highest bump acknowledged before the read was sent, and every value
 *     served is the one written for the version that served it;
 *   - ns-config / ns-info round trip and the per-namespace counters.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "rc_harness.h"
#include "rc_test.h"

#define RACE_BUMPS   150
#define RACE_READERS 2
#define RACE_WRITERS 2
#define RACE_KEYS    16

static rc_harness_server srv;
static rc_client *cli;

static void test_bump_semantics(void)
{
    uint64_t v = 0;
    RC_CHECK_RC(rc_bump(cli, "bump", 0, &v), 0);
    RC_CHECK_EQ_U64(v, 2);
    RC_CHECK_RC(rc_bump(cli, "bump", 10, &v), 0);
    RC_CHECK_EQ_U64(v, 10);
    RC_CHECK_RC(rc_bump(cli, "bump", 7, &v), 0); /* idempotent: never moves down */
    RC_CHECK_EQ_U64(v, 10);
    RC_CHECK_RC(rc_bump(cli, "bump", 10, &v), 0);
    RC_CHECK_EQ_U64(v, 10);
    char *text;
    RC_CHECK_RC(rc_ns_info(cli, "bump", &text, &v), 0);
    RC_CHECK_EQ_U64(v, 10);
    RC_CHECK_EQ_INT(rc_harness_stat(text, "version"), 10);
    free(text);
    RC_CHECK_RC(rc_ns_info(cli, "never-seen", &text, &v), RC_EMISS);
    RC_CHECK(text == NULL);
}

static void check_get(const char *ns, const char *key, uint64_t version, const char *want,
                      uint64_t want_ns_version)
{
    rc_get_options o = {.version = version};
    rc_value v;
    int rc = rc_get(cli, ns, key, strlen(key), &o, &v);
    if (want == NULL) {
        RC_CHECK_RC(rc, RC_EMISS);
    } else {
        RC_CHECK_RC(rc, 0);
        RC_CHECK_MEM(v.data, v.len, want, strlen(want));
    }
    RC_CHECK_EQ_U64(v.ns_version, want_ns_version);
    rc_value_free(&v);
}

static void test_old_version_readable_explicitly(void)
{
    RC_CHECK_RC(rc_set(cli, "old", "k", 1, "model-1", 7, NULL, NULL), 0);
    uint64_t v;
    RC_CHECK_RC(rc_bump(cli, "old", 0, &v), 0);
    RC_CHECK_EQ_U64(v, 2);
    check_get("old", "k", 0, NULL, 2); /* current no longer sees version 1 */
    RC_CHECK_RC(rc_set(cli, "old", "k", 1, "model-2", 7, NULL, NULL), 0);
    check_get("old", "k", 0, "model-2", 2);
    check_get("old", "k", 1, "model-1", 1);
    check_get("old", "k", 2, "model-2", 2);
}

/*
 * An old version stays readable by explicit version while memory allows:
 * only the evictor, under pressure, may reclaim it first.  Polled for
 * OLD_VERSION_WATCH_MS (several periods of the server's background sweep),
 * a time-based property, so a bounded polling loop is the right tool.
 */
#define OLD_VERSION_WATCH_MS 500

static void test_old_version_survives_without_pressure(void)
{
    RC_CHECK_RC(rc_set(cli, "keep", "k", 1, "model-1", 7, NULL, NULL), 0);
    uint64_t v;
    RC_CHECK_RC(rc_bump(cli, "keep", 0, &v), 0);
    RC_CHECK_EQ_U64(v, 2);
    uint64_t deadline = rc_harness_now_ms() + OLD_VERSION_WATCH_MS;
    long reads = 0;
    do {
        check_get("keep", "k", 1, "model-1", 1);
        reads++;
    } while (rc_harness_now_ms() < deadline);
    fprintf(stderr, "   version 1 readable for %d ms (%ld reads)\n", OLD_VERSION_WATCH_MS, reads);
}

static void test_staged_warmup(void)
{
    char key[16], val[32];
    rc_set_options next = {.stale_ms = RC_STALE_DEFAULT, .version = 2};
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "u%d", i);
        snprintf(val, sizeof val, "v1-%d", i);
        RC_CHECK_RC(rc_set(cli, "warm", key, strlen(key), val, strlen(val), NULL, NULL), 0);
        snprintf(val, sizeof val, "v2-%d", i);
        rc_write_info wi;
        RC_CHECK_RC(rc_set(cli, "warm", key, strlen(key), val, strlen(val), &next, &wi), 0);
        RC_CHECK_EQ_U64(wi.ns_version, 2);
        snprintf(key, sizeof key, "new%d", i);
        RC_CHECK_RC(rc_set(cli, "warm", key, strlen(key), val, strlen(val), &next, NULL), 0);
    }
    /* Before the bump, readers of current see version 1 only. */
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "u%d", i);
        snprintf(val, sizeof val, "v1-%d", i);
        check_get("warm", key, 0, val, 1);
        snprintf(key, sizeof key, "new%d", i);
        check_get("warm", key, 0, NULL, 1);
    }
    uint64_t v;
    RC_CHECK_RC(rc_bump(cli, "warm", 0, &v), 0);
    RC_CHECK_EQ_U64(v, 2);
    /* After it, the cache is warm: every staged entry is served. */
    for (int i = 0; i < 20; i++) {
        snprintf(val, sizeof val, "v2-%d", i);
        snprintf(key, sizeof key, "u%d", i);
        check_get("warm", key, 0, val, 2);
        snprintf(key, sizeof key, "new%d", i);
        check_get("warm", key, 0, val, 2);
    }
}

static void test_min_version_adopts(void)
{
    RC_CHECK_RC(rc_set(cli, "mv", "k", 1, "at-1", 4, NULL, NULL), 0);
    rc_get_options o = {.min_version = 4};
    rc_value val;
    RC_CHECK_RC(rc_get(cli, "mv", "k", 1, &o, &val), RC_EMISS);
    RC_CHECK_EQ_U64(val.ns_version, 4);
    uint64_t v;
    char *text;
    RC_CHECK_RC(rc_ns_info(cli, "mv", &text, &v), 0);
    RC_CHECK_EQ_U64(v, 4);
    free(text);
    check_get("mv", "k", 0, NULL, 4); /* the node stays at 4 */
    /* A minimum below the current version changes nothing. */
    o.min_version = 2;
    RC_CHECK_RC(rc_get(cli, "mv", "k", 1, &o, &val), RC_EMISS);
    RC_CHECK_EQ_U64(val.ns_version, 4);
    check_get("mv", "k", 1, "at-1", 1);

    /* min_version on a namespace nobody wrote creates it at that version. */
    o.min_version = 3;
    RC_CHECK_RC(rc_get(cli, "mv-fresh", "k", 1, &o, &val), RC_EMISS);
    RC_CHECK_EQ_U64(val.ns_version, 3);
}

/* ---- the bump race -------------------------------------------------------------------------- */

typedef struct race_shared {
    _Atomic uint64_t acked; /* highest bump acknowledged to the bumper */
    atomic_int stop;
} race_shared;

typedef struct race_thread {
    pthread_t thread;
    race_shared *shared;
    int id;
    long ops;
    long hits;
    int failures;
    char why[200];
} race_thread;

static race_shared race;

static void race_fail(race_thread *t, const char *fmt, uint64_t a, uint64_t b)
{
    if (t->failures++ == 0)
        snprintf(t->why, sizeof t->why, fmt, a, b);
}

/*
 * race_check_read - read key once and check the invariant against `before`,
 * the highest acknowledged bump sampled before the request was sent.
 * Returns the rc of the read.
 */
static int race_check_read(race_thread *t, rc_client *c, const char *key, uint64_t before)
{
    rc_value v;
    int rc = rc_get(c, "race", key, strlen(key), NULL, &v);
    if (rc != 0 && rc != RC_EMISS) {
        race_fail(t, "get failed (%" PRIu64 ", %" PRIu64 ")", (uint64_t)-rc, 0);
        return rc;
    }
    if (v.ns_version < before)
        race_fail(t, "read served version %" PRIu64 " after bump to %" PRIu64 " was acked",
                  v.ns_version, before);
    if (rc == 0) {
        t->hits++;
        uint64_t stamped = strtoull((const char *)v.data, NULL, 10);
        if (stamped != v.ns_version)
            race_fail(t, "value written for version %" PRIu64 " served as %" PRIu64, stamped,
                      v.ns_version);
    }
    rc_value_free(&v);
    return rc;
}

static void *race_bumper(void *arg)
{
    race_thread *t = arg;
    rc_client *c;
    if (rc_harness_connect(&srv, &c) != 0) {
        race_fail(t, "bumper connect %" PRIu64 "%" PRIu64, 0, 0);
        atomic_store(&t->shared->stop, 1);
        return NULL;
    }
    for (int i = 0; i < RACE_BUMPS; i++) {
        uint64_t v;
        int rc = rc_bump(c, "race", 0, &v);
        if (rc != 0) {
            race_fail(t, "bump failed (%" PRIu64 ", %" PRIu64 ")", (uint64_t)-rc, 0);
            break;
        }
        if (v <= atomic_load(&t->shared->acked))
            race_fail(t, "bump went from %" PRIu64 " to %" PRIu64, atomic_load(&t->shared->acked),
                      v);
        atomic_store(&t->shared->acked, v);
        t->ops++;
        /* Read right after the acknowledgement (the tightest case), which also
         * leaves the writers time to fill the new version. */
        for (int k = 0; k < RACE_KEYS / 2; k++) {
            char key[16];
            snprintf(key, sizeof key, "k%d", (i + k) % RACE_KEYS);
            if (race_check_read(t, c, key, v) != 0 && t->failures)
                break;
        }
    }
    atomic_store(&t->shared->stop, 1);
    rc_close(c);
    return NULL;
}

/* Writers stamp each value with the version they write it to (sometimes the next one). */
static void *race_writer(void *arg)
{
    race_thread *t = arg;
    rc_client *c;
    if (rc_harness_connect(&srv, &c) != 0) {
        race_fail(t, "writer connect %" PRIu64 "%" PRIu64, 0, 0);
        return NULL;
    }
    for (long i = 0; !atomic_load(&t->shared->stop); i++) {
        uint64_t version = atomic_load(&t->shared->acked) + (uint64_t)(i % 3 == 0);
        char key[16], val[48];
        snprintf(key, sizeof key, "k%ld", (i + t->id) % RACE_KEYS);
        int vl = snprintf(val, sizeof val, "%" PRIu64 ":%s", version, key);
        rc_set_options o = {.stale_ms = RC_STALE_DEFAULT, .version = version};
        rc_write_info wi;
        int rc = rc_set(c, "race", key, strlen(key), val, (size_t)vl, &o, &wi);
        if (rc != 0 || wi.ns_version != version)
            race_fail(t, "set to version %" PRIu64 " answered %" PRIu64, version, wi.ns_version);
        t->ops++;
    }
    rc_close(c);
    return NULL;
}

static void *race_reader(void *arg)
{
    race_thread *t = arg;
    rc_client *c;
    if (rc_harness_connect(&srv, &c) != 0) {
        race_fail(t, "reader connect %" PRIu64 "%" PRIu64, 0, 0);
        return NULL;
    }
    for (long i = 0; !atomic_load(&t->shared->stop); i++) {
        char key[16];
        snprintf(key, sizeof key, "k%ld", i % RACE_KEYS);
        uint64_t before = atomic_load(&t->shared->acked); /* sampled before sending */
        int rc = race_check_read(t, c, key, before);
        if (rc != 0 && rc != RC_EMISS)
            break;
        t->ops++;
    }
    rc_close(c);
    return NULL;
}

static void test_bump_race(void)
{
    race_thread threads[1 + RACE_READERS + RACE_WRITERS];
    const int n = 1 + RACE_READERS + RACE_WRITERS;
    atomic_store(&race.acked, 1);
    atomic_store(&race.stop, 0);
    for (int i = 0; i < n; i++) {
        threads[i] = (race_thread){.shared = &race, .id = i};
        void *(*fn)(void *) = i == 0 ? race_bumper : i <= RACE_READERS ? race_reader : race_writer;
        RC_CHECK(pthread_create(&threads[i].thread, NULL, fn, &threads[i]) == 0);
    }
    long reads = 0, hits = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(threads[i].thread, NULL);
        if (threads[i].failures)
            fprintf(stderr, "thread %d: %d failures, first: %s\n", i, threads[i].failures,
                    threads[i].why);
        RC_CHECK_EQ_INT(threads[i].failures, 0);
        hits += threads[i].hits; /* the bumper reads too */
        if (i >= 1 && i <= RACE_READERS)
            reads += threads[i].ops;
    }
    fprintf(stderr, "   %ld reads (%ld hits) during %d bumps\n", reads, hits, RACE_BUMPS);
    RC_CHECK_EQ_INT(threads[0].ops, RACE_BUMPS);
    RC_CHECK(reads > 0);
    uint64_t v;
    char *text;
    RC_CHECK_RC(rc_ns_info(cli, "race", &text, &v), 0);
    RC_CHECK_EQ_U64(v, 1 + RACE_BUMPS);
    free(text);
}

/* ---- configuration and counters ------------------------------------------------------------- */

static void test_ns_config_round_trip(void)
{
    char *text = NULL;
    RC_CHECK_RC(rc_ns_config(cli, "cfg", "default-ttl=60000 stale=5000", &text), 0);
    RC_CHECK(text != NULL);
    RC_CHECK_EQ_INT(rc_harness_stat(text, "default-ttl"), 60000);
    RC_CHECK_EQ_INT(rc_harness_stat(text, "stale"), 5000);
    free(text);

    uint64_t v;
    RC_CHECK_RC(rc_ns_info(cli, "cfg", &text, &v), 0);
    RC_CHECK_EQ_U64(v, 1);
    RC_CHECK_EQ_INT(rc_harness_stat(text, "default-ttl"), 60000);
    free(text);

    /* All or nothing: one bad item and nothing changes, with a reason. */
    RC_CHECK_RC(rc_ns_config(cli, "cfg", "default-ttl=1\nno-such-setting=1", &text),
                RC_EBAD_ARGUMENT);
    RC_CHECK(text == NULL);
    RC_CHECK(strlen(rc_client_error_message(cli)) > 0);
    RC_CHECK(rc_client_ok(cli));
    RC_CHECK_RC(rc_ns_info(cli, "cfg", &text, &v), 0);
    RC_CHECK_EQ_INT(rc_harness_stat(text, "default-ttl"), 60000);
    free(text);

    /* The namespace default TTL applies to sets that give none. */
    RC_CHECK_RC(rc_set(cli, "cfg", "k", 1, "x", 1, NULL, NULL), 0);
    rc_value val;
    RC_CHECK_RC(rc_get(cli, "cfg", "k", 1, NULL, &val), 0);
    RC_CHECK(val.ttl_left_ms <= 60000 && val.ttl_left_ms > 50000);
    rc_value_free(&val);
}

static void test_ns_counters(void)
{
    rc_value v;
    rc_set_options absent = {.stale_ms = RC_STALE_DEFAULT, .cond = RC_SET_IF_ABSENT};
    rc_set_options newer = {.stale_ms = RC_STALE_DEFAULT, .cond = RC_SET_IF_NEWER};
    rc_set_options cas = {.stale_ms = RC_STALE_DEFAULT, .cond = RC_SET_CAS, .cas_version = 99};
    rc_set_options stamped = {.stale_ms = RC_STALE_DEFAULT, .entry_version = 5};

    RC_CHECK_RC(rc_set(cli, "cnt", "a", 1, "1", 1, NULL, NULL), 0);             /* set 1 */
    RC_CHECK_RC(rc_set(cli, "cnt", "b", 1, "2", 1, &stamped, NULL), 0);         /* set 2 */
    RC_CHECK_RC(rc_set(cli, "cnt", "c", 1, "3", 1, &absent, NULL), 0);          /* set 3 */
    RC_CHECK_RC(rc_set(cli, "cnt", "a", 1, "x", 1, &absent, NULL), RC_EEXISTS); /* rejection */
    newer.entry_version = 5;
    RC_CHECK_RC(rc_set(cli, "cnt", "b", 1, "x", 1, &newer, NULL), RC_ENOT_NEWER);  /* rejection */
    RC_CHECK_RC(rc_set(cli, "cnt", "b", 1, "x", 1, &cas, NULL), RC_ECAS_MISMATCH); /* rejection */
    for (int i = 0; i < 2; i++) {
        RC_CHECK_RC(rc_get(cli, "cnt", "a", 1, NULL, &v), 0); /* hits */
        rc_value_free(&v);
    }
    for (int i = 0; i < 3; i++)
        RC_CHECK_RC(rc_get(cli, "cnt", "zz", 2, NULL, &v), RC_EMISS); /* misses */

    char *text;
    uint64_t version;
    RC_CHECK_RC(rc_ns_info(cli, "cnt", &text, &version), 0);
    RC_CHECK_EQ_INT(rc_harness_stat(text, "hits"), 2);
    RC_CHECK_EQ_INT(rc_harness_stat(text, "misses"), 3);
    RC_CHECK_EQ_INT(rc_harness_stat(text, "sets"), 3);
    RC_CHECK_EQ_INT(rc_harness_stat(text, "rejected_exists"), 1);
    RC_CHECK_EQ_INT(rc_harness_stat(text, "rejected_not_newer"), 1);
    RC_CHECK_EQ_INT(rc_harness_stat(text, "rejected_cas"), 1);
    RC_CHECK_EQ_INT(rc_harness_stat(text, "entries"), 3);
    free(text);
}

int main(void)
{
    RC_CHECK(rc_harness_start(&srv, NULL) == 0);
    RC_CHECK_RC(rc_harness_connect(&srv, &cli), 0);
    RC_TEST_RUN(test_bump_semantics);
    RC_TEST_RUN(test_old_version_readable_explicitly);
    RC_TEST_RUN(test_old_version_survives_without_pressure);
    RC_TEST_RUN(test_staged_warmup);
    RC_TEST_RUN(test_min_version_adopts);
    RC_TEST_RUN(test_bump_race);
    RC_TEST_RUN(test_ns_config_round_trip);
    RC_TEST_RUN(test_ns_counters);
    rc_close(cli);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    return 0;
}
