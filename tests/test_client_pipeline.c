/*
 * test_client_pipeline.c - pipelining and concurrency against a real
 * server: a 1,000-request batch (all answered, in order, values right),
 * mixed batches whose requests depend on their order, per-result statuses,
 * batch reuse, and 50 concurrent connections spread over several threads,
 * each writing and reading back its own keys.
 */
#define _POSIX_C_SOURCE 200809L /* pthread barriers */

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "rc_harness.h"
#include "rc_test.h"

#define PIPELINE_OPS     1000
#define CONC_THREADS     5
#define CONC_CONNECTIONS 50 /* spread evenly over the threads */
#define CONC_ROUNDS      20

static rc_harness_server srv;

static void test_batch_of_1000(void)
{
    rc_client *c;
    RC_CHECK_RC(rc_harness_connect(&srv, &c), 0);
    rc_batch *b = rc_batch_new(c);
    RC_CHECK(b != NULL);

    char key[32], val[64];
    for (int i = 0; i < PIPELINE_OPS; i++) {
        int kl = snprintf(key, sizeof key, "key-%d", i);
        int vl = snprintf(val, sizeof val, "value-%d-%d", i, i * 7);
        rc_set_options o = {.stale_ms = RC_STALE_DEFAULT, .entry_version = (uint64_t)i + 1};
        RC_CHECK_EQ_INT(rc_batch_set(b, "pipe", key, (size_t)kl, val, (size_t)vl, &o), i);
    }
    RC_CHECK_EQ_INT(rc_batch_count(b), PIPELINE_OPS);
    RC_CHECK(rc_batch_get_result(b, 0) == NULL); /* nothing before exec */
    RC_CHECK_RC(rc_batch_exec(b), 0);
    for (int i = 0; i < PIPELINE_OPS; i++) {
        const rc_batch_result *r = rc_batch_get_result(b, (size_t)i);
        RC_CHECK(r != NULL);
        RC_CHECK_RC(r->status, 0);
        RC_CHECK_EQ_U64(r->write.entry_version, (uint64_t)i + 1);
    }
    RC_CHECK(rc_batch_get_result(b, PIPELINE_OPS) == NULL);

    /* Reuse the batch: 1,000 GETs, each answer at its own index. */
    rc_batch_reset(b);
    RC_CHECK_EQ_INT(rc_batch_count(b), 0);
    for (int i = 0; i < PIPELINE_OPS; i++) {
        int kl = snprintf(key, sizeof key, "key-%d", i);
        RC_CHECK_EQ_INT(rc_batch_get(b, "pipe", key, (size_t)kl, NULL), i);
    }
    RC_CHECK_RC(rc_batch_exec(b), 0);
    for (int i = 0; i < PIPELINE_OPS; i++) {
        const rc_batch_result *r = rc_batch_get_result(b, (size_t)i);
        int vl = snprintf(val, sizeof val, "value-%d-%d", i, i * 7);
        RC_CHECK_RC(r->status, 0);
        RC_CHECK_MEM(r->value.data, r->value.len, val, (size_t)vl);
        RC_CHECK_EQ_U64(r->value.entry_version, (uint64_t)i + 1);
        RC_CHECK_EQ_U64(r->value.ns_version, 1);
    }
    rc_batch_free(b);
    RC_CHECK(rc_client_ok(c));
    rc_close(c);
}

/* Requests run in arrival order: set, get, delete, get of one key see each other. */
static void test_batch_order_and_statuses(void)
{
    rc_client *c;
    RC_CHECK_RC(rc_harness_connect(&srv, &c), 0);
    rc_batch *b = rc_batch_new(c);
    RC_CHECK(b != NULL);
    rc_set_options absent = {.stale_ms = RC_STALE_DEFAULT, .cond = RC_SET_IF_ABSENT};

    RC_CHECK_EQ_INT(rc_batch_get(b, "order", "k", 1, NULL), 0);
    RC_CHECK_EQ_INT(rc_batch_set(b, "order", "k", 1, "one", 3, NULL), 1);
    RC_CHECK_EQ_INT(rc_batch_get(b, "order", "k", 1, NULL), 2);
    RC_CHECK_EQ_INT(rc_batch_set(b, "order", "k", 1, "two", 3, &absent), 3);
    RC_CHECK_EQ_INT(rc_batch_delete(b, "order", "k", 1, 0), 4);
    RC_CHECK_EQ_INT(rc_batch_get(b, "order", "k", 1, NULL), 5);
    RC_CHECK_EQ_INT(rc_batch_delete(b, "order", "k", 1, 0), 6);
    RC_CHECK_EQ_INT(rc_batch_get(b, "", "k", 1, NULL),
                    RC_EBAD_NAMESPACE); /* refused at queue time */
    RC_CHECK_EQ_INT(rc_batch_count(b), 7);
    RC_CHECK_RC(rc_batch_exec(b), 0);

    RC_CHECK_RC(rc_batch_get_result(b, 0)->status, RC_EMISS);
    RC_CHECK_RC(rc_batch_get_result(b, 1)->status, 0);
    const rc_batch_result *r = rc_batch_get_result(b, 2);
    RC_CHECK_RC(r->status, 0);
    RC_CHECK_MEM(r->value.data, r->value.len, "one", 3);
    RC_CHECK_RC(rc_batch_get_result(b, 3)->status, RC_EEXISTS);
    RC_CHECK_RC(rc_batch_get_result(b, 4)->status, 0);
    RC_CHECK_RC(rc_batch_get_result(b, 5)->status, RC_EMISS);
    RC_CHECK_RC(rc_batch_get_result(b, 6)->status, RC_EMISS);

    /* The same batch cannot be extended after exec; reset first. */
    RC_CHECK_EQ_INT(rc_batch_get(b, "order", "k", 1, NULL), RC_EINVAL);
    rc_batch_reset(b);
    RC_CHECK_RC(rc_batch_exec(b), 0); /* an empty batch is a no-op */
    rc_batch_free(b);
    RC_CHECK(rc_client_ok(c));
    rc_close(c);
}

/* ---- concurrency ---------------------------------------------------------------------------- */

typedef struct conc_worker {
    pthread_t thread;
    int id;
    int failures;
    char why[160];
} conc_worker;

static atomic_int conc_ops_done;
/* Every thread connects first, so all 50 connections are open at once while they work. */
static pthread_barrier_t conc_all_connected;

/* One thread: CONC_CONNECTIONS / CONC_THREADS connections used round-robin. */
static void *conc_run(void *arg)
{
    conc_worker *w = arg;
    enum { PER = CONC_CONNECTIONS / CONC_THREADS };
    rc_client *conns[PER];
    int connected = 0;
    for (; connected < PER; connected++) {
        int rc = rc_harness_connect(&srv, &conns[connected]);
        if (rc != 0) {
            snprintf(w->why, sizeof w->why, "connect %d: %s", connected, rc_strerror(rc));
            w->failures++;
            break;
        }
    }
    pthread_barrier_wait(&conc_all_connected); /* reached even after a failure: no deadlock */
    for (int round = 0; round < CONC_ROUNDS && w->failures == 0; round++) {
        for (int i = 0; i < PER; i++) {
            char key[48], val[64];
            int kl = snprintf(key, sizeof key, "w%d-c%d-k%d", w->id, i, round % 5);
            int vl = snprintf(val, sizeof val, "value of %s in round %d", key, round);
            int rc = rc_set(conns[i], "conc", key, (size_t)kl, val, (size_t)vl, NULL, NULL);
            rc_value v;
            if (rc == 0)
                rc = rc_get(conns[i], "conc", key, (size_t)kl, NULL, &v);
            if (rc != 0) {
                snprintf(w->why, sizeof w->why, "%s: %s", key, rc_strerror(rc));
                w->failures++;
                break;
            }
            if (v.len != (size_t)vl || memcmp(v.data, val, v.len) != 0) {
                snprintf(w->why, sizeof w->why, "%s: got another value", key);
                w->failures++;
            }
            rc_value_free(&v);
            atomic_fetch_add(&conc_ops_done, 2);
        }
    }
    for (int i = 0; i < connected; i++)
        rc_close(conns[i]);
    return NULL;
}

static void test_50_concurrent_connections(void)
{
    conc_worker workers[CONC_THREADS];
    RC_CHECK(pthread_barrier_init(&conc_all_connected, NULL, CONC_THREADS) == 0);
    for (int t = 0; t < CONC_THREADS; t++) {
        workers[t] = (conc_worker){.id = t};
        RC_CHECK(pthread_create(&workers[t].thread, NULL, conc_run, &workers[t]) == 0);
    }
    for (int t = 0; t < CONC_THREADS; t++) {
        pthread_join(workers[t].thread, NULL);
        if (workers[t].failures)
            fprintf(stderr, "worker %d: %s\n", t, workers[t].why);
        RC_CHECK_EQ_INT(workers[t].failures, 0);
    }
    pthread_barrier_destroy(&conc_all_connected);
    RC_CHECK_EQ_INT(atomic_load(&conc_ops_done), CONC_CONNECTIONS * CONC_ROUNDS * 2);
}

int main(void)
{
    RC_CHECK(rc_harness_start(&srv, NULL) == 0);
    RC_TEST_RUN(test_batch_of_1000);
    RC_TEST_RUN(test_batch_order_and_statuses);
    RC_TEST_RUN(test_50_concurrent_connections);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    return 0;
}
