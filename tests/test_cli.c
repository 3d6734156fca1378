/*
 * test_cli.c - recache-cli against a real server: every command, its
 * output, and its exit status (0 success, 1 miss, 2 error, 3 a condition
 * rejected the write), including the namespace and tag features.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rc_harness.h"
#include "rc_test.h"

static rc_harness_server srv;

/* Run, check the exit status and that stdout is exactly `out`. */
static void cli_out(int want_status, const char *out, const char *first, ...)
{
    rc_cli_result r;
    va_list ap;
    va_start(ap, first);
    rc_harness_cli_va(&srv, &r, first, ap);
    va_end(ap);
    if (r.status != want_status || strcmp(r.out, out) != 0)
        fprintf(stderr, "%s ...: exit %d (want %d), stdout '%s' (want '%s'), stderr '%s'\n", first,
                r.status, want_status, r.out, out, r.err);
    RC_CHECK_EQ_INT(r.status, want_status);
    RC_CHECK(strcmp(r.out, out) == 0);
    if (want_status != 0)
        RC_CHECK(r.err_len > 0); /* every failure says why */
    rc_cli_result_free(&r);
}

static void test_help_and_usage_errors(void)
{
    rc_cli_result r = rc_harness_cli_expect(&srv, 0, "--help", NULL);
    static const char *const commands[] = {
        "ping",           "set",   "get",     "del",       "touch",
        "stats",          "bump",  "ns-info", "ns-config", "invalidate-tag",
        "invalidate-key", "flush", "hello"};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        RC_CHECK(strstr(r.out, commands[i]) != NULL);
    RC_CHECK(strstr(r.out, "--if-newer") != NULL);
    rc_cli_result_free(&r);

    cli_out(2, "", "no-such-command", NULL);
    cli_out(2, "", "get", "onlyns", NULL);                        /* too few arguments */
    cli_out(2, "", "ping", "extra", NULL);                        /* too many */
    cli_out(2, "", "set", "ns", "k", "v", "--ttl", "soon", NULL); /* not a number */
    cli_out(2, "", "set", "ns", "k", "v", "--soft", NULL);        /* option of another command */
    cli_out(2, "", "set", "ns", "k", "v", "--if-absent", "--cas", "1", NULL);
    cli_out(2, "", "-p", "1", "ping", NULL); /* nothing listens on port 1 */
}

static void test_ping_hello_stats(void)
{
    cli_out(0, "PONG\n", "ping", NULL);
    rc_cli_result r = rc_harness_cli_expect(&srv, 0, "hello", NULL);
    RC_CHECK(strstr(r.out, "server_version ") != NULL);
    RC_CHECK(rc_harness_stat(r.out, "max_value") > 0);
    rc_cli_result_free(&r);
    r = rc_harness_cli_expect(&srv, 0, "stats", NULL);
    RC_CHECK(r.out_len > 0);
    rc_cli_result_free(&r);
}

static void test_set_get_del_touch(void)
{
    cli_out(0, "OK ns_version=1 entry_version=3\n", "set", "c", "k", "hello world", "--ttl",
            "60000", "--flags", "7", "--entry-version", "3", NULL);
    cli_out(0, "hello world\n", "get", "c", "k", NULL);
    cli_out(0, "hello world", "get", "c", "k", "--raw", NULL);

    rc_cli_result r = rc_harness_cli_expect(&srv, 0, "get", "c", "k", "-v", NULL);
    RC_CHECK(strcmp(r.out, "hello world\n") == 0);
    RC_CHECK_EQ_INT(rc_harness_stat(r.err, "ns_version"), 1);
    RC_CHECK_EQ_INT(rc_harness_stat(r.err, "entry_version"), 3);
    RC_CHECK_EQ_INT(rc_harness_stat(r.err, "flags"), 7);
    long long ttl = rc_harness_stat(r.err, "ttl_ms");
    RC_CHECK(ttl > 50000 && ttl <= 60000);
    RC_CHECK(strstr(r.err, "state fresh") != NULL);
    rc_cli_result_free(&r);

    cli_out(1, "", "get", "c", "missing", NULL);
    cli_out(0, "TOUCHED\n", "touch", "c", "k", "120000", NULL);
    cli_out(1, "", "touch", "c", "missing", "1000", NULL);
    cli_out(0, "DELETED\n", "del", "c", "k", NULL);
    cli_out(1, "", "del", "c", "k", NULL);
    cli_out(1, "", "get", "c", "k", NULL);

    /* A server-side refusal is an error with the server's reason. */
    static char key[60000]; /* within the wire format, over any configured max-key */
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    cli_out(2, "", "set", "c", key, "v", NULL);
    r = rc_harness_cli_expect(&srv, 0, "stats", "c", NULL);
    RC_CHECK(rc_harness_stat(r.out, "sets") >= 1);
    rc_cli_result_free(&r);
}

static void test_conditions_exit_3(void)
{
    cli_out(0, "OK ns_version=1 entry_version=0\n", "set", "cond", "a", "1", "--if-absent", NULL);
    cli_out(3, "", "set", "cond", "a", "2", "--if-absent", NULL);
    cli_out(0, "OK ns_version=1 entry_version=5\n", "set", "cond", "n", "five", "--if-newer", "5",
            NULL);
    cli_out(3, "", "set", "cond", "n", "again", "--if-newer", "5", NULL);
    cli_out(3, "", "set", "cond", "n", "older", "--if-newer", "4", NULL);
    cli_out(3, "", "set", "cond", "n", "wrong", "--cas", "4", "--entry-version", "6", NULL);
    cli_out(0, "OK ns_version=1 entry_version=6\n", "set", "cond", "n", "six", "--cas", "5",
            "--entry-version", "6", NULL);
    cli_out(0, "six\n", "get", "cond", "n", NULL);
    /* The tombstone of a deleted versioned entry rejects an older write too. */
    cli_out(0, "DELETED\n", "del", "cond", "n", NULL);
    cli_out(3, "", "set", "cond", "n", "five", "--if-newer", "5", NULL);
}

static void test_versions(void)
{
    cli_out(0, "OK ns_version=1 entry_version=0\n", "set", "v", "k", "one", NULL);
    cli_out(0, "2\n", "bump", "v", NULL);
    cli_out(1, "", "get", "v", "k", NULL);
    cli_out(0, "one\n", "get", "v", "k", "--version", "1", NULL);
    cli_out(0, "10\n", "bump", "v", "--to", "10", NULL);
    cli_out(0, "10\n", "bump", "v", "--to", "5", NULL); /* never backwards */

    /* Staged warm-up: write 11 before it is current. */
    cli_out(0, "OK ns_version=11 entry_version=0\n", "set", "v", "k", "eleven", "--version", "11",
            NULL);
    cli_out(1, "", "get", "v", "k", NULL);
    cli_out(0, "eleven\n", "get", "v", "k", "--version", "11", NULL);
    cli_out(0, "11\n", "bump", "v", NULL);
    cli_out(0, "eleven\n", "get", "v", "k", "--version", "current", NULL);

    /* A minimum version makes the node adopt it. */
    rc_cli_result r =
        rc_harness_cli_expect(&srv, 1, "get", "v", "k", "--min-version", "20", "-v", NULL);
    RC_CHECK_EQ_INT(rc_harness_stat(r.err, "ns_version"), 20);
    rc_cli_result_free(&r);
    r = rc_harness_cli_expect(&srv, 0, "ns-info", "v", NULL);
    RC_CHECK_EQ_INT(rc_harness_stat(r.out, "version"), 20);
    RC_CHECK(rc_harness_stat(r.out, "hits") >= 2);
    RC_CHECK(rc_harness_stat(r.out, "misses") >= 2);
    RC_CHECK_EQ_INT(rc_harness_stat(r.out, "sets"), 2);
    rc_cli_result_free(&r);
    cli_out(1, "", "ns-info", "never-written", NULL);
}

static void test_ns_config(void)
{
    rc_cli_result r =
        rc_harness_cli_expect(&srv, 0, "ns-config", "nc", "default-ttl=30000", "stale=100", NULL);
    RC_CHECK_EQ_INT(rc_harness_stat(r.out, "default-ttl"), 30000);
    RC_CHECK_EQ_INT(rc_harness_stat(r.out, "stale"), 100);
    rc_cli_result_free(&r);
    r = rc_harness_cli_expect(&srv, 0, "ns-info", "nc", NULL);
    RC_CHECK_EQ_INT(rc_harness_stat(r.out, "default-ttl"), 30000);
    rc_cli_result_free(&r);
    cli_out(2, "", "ns-config", "nc", "no-such-setting=1", NULL);
    cli_out(2, "", "ns-config", "nc", "not-key-value", NULL);
    cli_out(2, "", "ns-config", "nc", NULL);
}

static void test_invalidation(void)
{
    cli_out(0, "OK ns_version=1 entry_version=0\n", "set", "t", "a", "A", "--tag", "product:1",
            "--tag", "segment:eu", "--stale", "60000", NULL);
    cli_out(0, "OK ns_version=1 entry_version=0\n", "set", "t", "b", "B", "--tag", "product:2",
            "--stale", "60000", NULL);
    rc_cli_result r = rc_harness_cli_expect(&srv, 0, "invalidate-tag", "product:1", NULL);
    RC_CHECK(strncmp(r.out, "OK stamp=", 9) == 0);
    rc_cli_result_free(&r);
    cli_out(1, "", "get", "t", "a", NULL);
    cli_out(0, "B\n", "get", "t", "b", NULL);

    r = rc_harness_cli_expect(&srv, 0, "invalidate-tag", "product:2", "--soft", NULL);
    rc_cli_result_free(&r);
    r = rc_harness_cli_expect(&srv, 0, "get", "t", "b", "-v", NULL);
    RC_CHECK(strcmp(r.out, "B\n") == 0);
    RC_CHECK(strstr(r.err, "state stale") != NULL);
    rc_cli_result_free(&r);

    cli_out(0, "OK ns_version=1 entry_version=0\n", "set", "t", "k", "K", "--stale", "60000", NULL);
    cli_out(0, "OK\n", "invalidate-key", "t", "k", "--soft", NULL);
    r = rc_harness_cli_expect(&srv, 0, "get", "t", "k", "-v", NULL);
    RC_CHECK(strstr(r.err, "state stale") != NULL);
    rc_cli_result_free(&r);
    cli_out(0, "OK\n", "invalidate-key", "t", "k", NULL);
    cli_out(1, "", "get", "t", "k", NULL);
    cli_out(1, "", "invalidate-key", "t", "k", NULL);

    /* Tag limits are clear errors. */
    char tag[300];
    memset(tag, 'g', sizeof tag - 1);
    tag[sizeof tag - 1] = '\0';
    cli_out(2, "", "set", "t", "x", "X", "--tag", tag, NULL);
    cli_out(1, "", "get", "t", "x", NULL);
}

static void test_flush(void)
{
    cli_out(0, "OK ns_version=1 entry_version=0\n", "set", "f", "k", "v", NULL);
    cli_out(0, "OK\n", "flush", NULL);
    cli_out(1, "", "get", "f", "k", NULL);
}

int main(void)
{
    RC_CHECK(rc_harness_start(&srv, NULL) == 0);
    RC_TEST_RUN(test_help_and_usage_errors);
    RC_TEST_RUN(test_ping_hello_stats);
    RC_TEST_RUN(test_set_get_del_touch);
    RC_TEST_RUN(test_conditions_exit_3);
    RC_TEST_RUN(test_versions);
    RC_TEST_RUN(test_ns_config);
    RC_TEST_RUN(test_invalidation);
    RC_TEST_RUN(test_flush);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    return 0;
}
