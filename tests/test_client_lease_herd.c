/*
 * test_client_lease_herd.c - the thundering herd, end to end: 500
 * concurrent rc_get_or_fill calls for one missing key, each on its own
 * connection (500 connections over 500 threads, spread by the server over
 * its two workers), released together by a barrier.  Exactly one caller may
 * win the lease and run the callback (an atomic counter); the callback
 * holds off filling until every other reader is parked on the server (the
 * namespace's `waits` counter, polled with a deadline), so the fill is
 * known to release a full herd; then every reader must get the filled value.
 *
 * A synchronous client carries one request at a time, so concurrency comes
 * from threads; their stacks are kept small (the work is a socket wait).
 */
#define _POSIX_C_SOURCE 200809L /* pthread barriers */

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "rc_harness.h"
#include "rc_test.h"

#define HERD_READERS   500
#define HERD_STACK     (256u * 1024u)
#define HERD_WAIT_MS   60000 /* per read: far above any scheduling delay, even under TSan */
#define HERD_PARK_WAIT 60000 /* how long the winner waits for the herd to park */
#define HERD_VALUE     "the-one-origin-fetch"

static rc_harness_server srv;
static atomic_int callback_calls;
static atomic_int herd_parked_seen; /* 1 once the winner saw every other reader parked */

typedef struct reader {
    pthread_barrier_t *start;
    rc_client *c;
    int rc;
    int value_ok;
    rc_get_or_fill_report report;
} reader;

/*
 * The origin fetch: runs once.  Before answering it waits (bounded) until
 * the other HERD_READERS - 1 reads are parked, using its own idle client.
 */
static int herd_fill(void *ctx, const char *ns, const void *key, size_t key_len,
                     rc_fill_output *out)
{
    reader *r = ctx;
    (void)key;
    (void)key_len;
    atomic_fetch_add(&callback_calls, 1);
    uint64_t deadline = rc_harness_now_ms() + HERD_PARK_WAIT;
    while (rc_harness_now_ms() < deadline) {
        char *text = NULL;
        if (rc_ns_info(r->c, ns, &text, NULL) != 0)
            break;
        long long waits = rc_harness_stat(text, "waits");
        free(text);
        if (waits >= HERD_READERS - 1) {
            atomic_store(&herd_parked_seen, 1);
            break;
        }
    }
    out->len = strlen(HERD_VALUE);
    out->data = malloc(out->len);
    if (out->data == NULL)
        return RC_ENOMEM;
    memcpy(out->data, HERD_VALUE, out->len);
    out->set.ttl_ms = 600000;
    return 0;
}

static void *reader_main(void *arg)
{
    reader *r = arg;
    rc_get_or_fill_options o = {.wait_ms = HERD_WAIT_MS, .max_attempts = 1, .report = &r->report};
    rc_value v;
    pthread_barrier_wait(r->start);
    r->rc = rc_get_or_fill(r->c, "herd", "hot-key", 7, &o, herd_fill, r, &v);
    r->value_ok = r->rc == 0 && v.len == strlen(HERD_VALUE) &&
                  memcmp(v.data, HERD_VALUE, v.len) == 0 && !v.stale;
    rc_value_free(&v);
    return NULL;
}

static void test_herd_single_flight(void)
{
    static reader readers[HERD_READERS];
    static pthread_t th[HERD_READERS];
    pthread_barrier_t start;
    pthread_attr_t attr;
    RC_CHECK(pthread_barrier_init(&start, NULL, HERD_READERS) == 0);
    RC_CHECK(pthread_attr_init(&attr) == 0);
    RC_CHECK(pthread_attr_setstacksize(&attr, HERD_STACK) == 0);
    for (int i = 0; i < HERD_READERS; i++) {
        readers[i].start = &start;
        RC_CHECK_RC(rc_harness_connect(&srv, &readers[i].c), 0);
    }
    for (int i = 0; i < HERD_READERS; i++)
        RC_CHECK(pthread_create(&th[i], &attr, reader_main, &readers[i]) == 0);

    int ok = 0, fillers = 0;
    for (int i = 0; i < HERD_READERS; i++) {
        pthread_join(th[i], NULL);
        if (readers[i].rc != 0)
            fprintf(stderr, "reader %d: %s\n", i, rc_strerror(readers[i].rc));
        ok += readers[i].value_ok;
        fillers += readers[i].report.filled;
        if (readers[i].report.filled)
            RC_CHECK_RC(readers[i].report.fill_status, 0);
        rc_close(readers[i].c);
    }
    pthread_attr_destroy(&attr);
    pthread_barrier_destroy(&start);
    RC_CHECK_EQ_INT(atomic_load(&callback_calls), 1); /* one origin fetch */
    RC_CHECK_EQ_INT(fillers, 1);                      /* one lease granted */
    RC_CHECK(atomic_load(&herd_parked_seen));         /* the fill released a full herd */
    RC_CHECK_EQ_INT(ok, HERD_READERS);                /* and everyone got its value */

    /* The server's own counters agree: one grant, one fill, everyone else parked and served. */
    rc_client *c;
    RC_CHECK_RC(rc_harness_connect(&srv, &c), 0);
    char *text = NULL;
    RC_CHECK_RC(rc_ns_info(c, "herd", &text, NULL), 0);
    fprintf(stderr, "herd namespace:\n%s", text);
    RC_CHECK_EQ_INT(rc_harness_stat(text, "leases_granted"), 1);
    RC_CHECK_EQ_INT(rc_harness_stat(text, "fills_accepted"), 1);
    RC_CHECK_EQ_INT(rc_harness_stat(text, "waits"), HERD_READERS - 1);
    RC_CHECK_EQ_INT(rc_harness_stat(text, "waits_served"), HERD_READERS - 1);
    free(text);
    RC_CHECK_RC(rc_stats(c, NULL, &text), 0);
    RC_CHECK_EQ_INT(rc_harness_stat(text, "parked"), 0);
    free(text);
    rc_close(c);
}

int main(void)
{
    const char *const args[] = {
        "--max-waiters", "100000", "--max-waiters-key", "10000", "--lease-ms", "120000", NULL};
    RC_CHECK(rc_harness_start(&srv, args) == 0);
    RC_TEST_RUN(test_herd_single_flight);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    return 0;
}
