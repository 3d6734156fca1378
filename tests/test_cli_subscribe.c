/*
 * test_cli_subscribe.c - `recache-cli subscribe` against a real server.
 *
 * The CLI runs synchronously (rc_harness_cli), so instead of racing a
 * write against the CLI's subscription, the write happens first and the
 * CLI resumes from the sequence number before it (--from/--instance): the
 * node replays the event, which is the same line a live subscriber prints.
 * Also checked: a live --count 1 run started on its own thread prints the
 * event of a write made once the server counts it as a subscriber, a
 * stale instance id gives a resync line, and bad arguments are refused.
 */
#define _GNU_SOURCE

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rc_harness.h"
#include "rc_test.h"

#define DEADLINE_MS 10000

static rc_harness_server srv;
static rc_client *cli;

static void test_replayed_event_line(void)
{
    uint64_t seq = 0, instance = 0;
    RC_CHECK_RC(rc_node_seq(cli, &seq, &instance), 0);
    RC_CHECK_RC(rc_set(cli, "recs", "user:1", 6, "v", 1, NULL, NULL), 0);
    RC_CHECK_RC(rc_delete(cli, "recs", "user:1", 6, 0), 0);
    char from[32], inst[32];
    snprintf(from, sizeof from, "%" PRIu64, seq);
    snprintf(inst, sizeof inst, "%" PRIu64, instance);
    const char *const args[] = {"subscribe", "--from",  from, "--instance",
                                inst,        "--count", "2",  NULL};
    rc_cli_result r;
    RC_CHECK_EQ_INT(rc_harness_cli(&srv, args, &r), 0);
    /* A write and a delete are told apart by their cause. */
    char want[256];
    snprintf(want, sizeof want,
             "seq=%" PRIu64 " kind=key ns=recs version=1 key=user:1 mode=hard cause=set\n"
             "seq=%" PRIu64 " kind=key ns=recs version=1 key=user:1 mode=hard cause=delete\n",
             seq + 1, seq + 2);
    RC_CHECK_MEM(r.out, r.out_len, want, strlen(want));
    RC_CHECK(strstr(r.err, "subscribed seq=") != NULL);
    rc_cli_result_free(&r);
}

static void test_stale_instance_resyncs(void)
{
    const char *const args[] = {"subscribe", "--from",  "1", "--instance",
                                "12345",     "--count", "1", NULL};
    rc_cli_result r;
    RC_CHECK_EQ_INT(rc_harness_cli(&srv, args, &r), 0);
    RC_CHECK(strstr(r.out, "kind=resync") != NULL);
    RC_CHECK(strchr(r.out, '\n') == r.out + r.out_len - 1); /* exactly one line */
    rc_cli_result_free(&r);
}

/* A live `subscribe recs --count 1` on its own thread. */
static void *live_cli(void *arg)
{
    const char *const args[] = {"subscribe", "recs", "--count", "1", NULL};
    rc_harness_cli(&srv, args, arg);
    return NULL;
}

/*
 * wait_subscribers - poll the server's subscriber count until it equals
 * want (no signal says a CLI subscribed or that the server saw an earlier
 * one leave), bounded by a deadline.
 */
static void wait_subscribers(long long want)
{
    uint64_t deadline = rc_harness_now_ms() + DEADLINE_MS;
    for (;;) {
        char *text = NULL;
        RC_CHECK_RC(rc_stats(cli, NULL, &text), 0);
        long long n = rc_harness_stat(text, "subscribers");
        free(text);
        if (n == want)
            return;
        RC_CHECK(rc_harness_now_ms() < deadline);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

static void test_live_event_line(void)
{
    wait_subscribers(0); /* the earlier runs' subscriptions are gone */
    rc_cli_result r;
    pthread_t t;
    RC_CHECK(pthread_create(&t, NULL, live_cli, &r) == 0);
    wait_subscribers(1);
    RC_CHECK_RC(rc_set(cli, "other", "x", 1, "v", 1, NULL, NULL), 0); /* filtered out */
    RC_CHECK_RC(rc_set(cli, "recs", "live", 4, "v", 1, NULL, NULL), 0);
    RC_CHECK(pthread_join(t, NULL) == 0);
    RC_CHECK_EQ_INT(r.status, 0);
    RC_CHECK(strstr(r.out, "kind=key ns=recs version=1 key=live mode=hard cause=set\n") != NULL);
    RC_CHECK(strchr(r.out, '\n') == r.out + r.out_len - 1);
    rc_cli_result_free(&r);
}

static void test_bad_arguments(void)
{
    const char *const args[] = {"subscribe", "--count", "many", NULL};
    rc_cli_result r;
    RC_CHECK_EQ_INT(rc_harness_cli(&srv, args, &r), 2);
    rc_cli_result_free(&r);
}

int main(void)
{
    RC_CHECK(rc_harness_start(&srv, NULL) == 0);
    RC_CHECK_RC(rc_harness_connect(&srv, &cli), 0);
    RC_TEST_RUN(test_replayed_event_line);
    RC_TEST_RUN(test_stale_instance_resyncs);
    RC_TEST_RUN(test_live_event_line);
    RC_TEST_RUN(test_bad_arguments);
    rc_close(cli);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    return 0;
}
