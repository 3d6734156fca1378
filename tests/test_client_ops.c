/*
 * test_client_ops.c - every basic operation and every write condition
 * through librecache against a real server on loopback: hello, ping,
 * set/get (binary-safe, metadata), delete, touch, stats, flush, the
 * if-absent / if-newer / cas conditions, the delete tombstone that rejects
 * an older only-if-newer write, TTL expiry and the stale window.
 *
 * Time-based expiry is observed with a short polling loop bounded by a
 * deadline: expiry has no event to wait for.
 */
#include <string.h>

#include "rc_harness.h"
#include "rc_test.h"

static rc_harness_server srv;
static rc_client *cli;

static void test_hello_and_ping(void)
{
    const rc_server_info *info = rc_server_info_get(cli);
    RC_CHECK(info != NULL);
    RC_CHECK(info->server_version[0] != '\0');
    RC_CHECK_EQ_INT(info->protocol_version, 1);
    RC_CHECK(info->max_frame > info->max_value);
    RC_CHECK(info->max_value >= 1024);
    RC_CHECK(info->max_key >= 200);
    RC_CHECK(info->max_tags >= 1);
    RC_CHECK(info->max_tag_len >= 1);
    RC_CHECK_RC(rc_ping(cli), 0);
    RC_CHECK(rc_client_ok(cli));
}

static void test_set_get_binary(void)
{
    static const uint8_t key[] = {'k', 0, 'e', 0xff, 'y'};
    static const uint8_t val[] = {0, 1, 2, 0, 0xfe, 'x', 0};
    rc_set_options o = {.stale_ms = RC_STALE_DEFAULT, .client_flags = 0xA5A5u, .entry_version = 7};
    rc_write_info wi;
    RC_CHECK_RC(rc_set(cli, "ops", key, sizeof key, val, sizeof val, &o, &wi), 0);
    RC_CHECK_EQ_U64(wi.ns_version, 1);
    RC_CHECK_EQ_U64(wi.entry_version, 7);

    rc_value v;
    RC_CHECK_RC(rc_get(cli, "ops", key, sizeof key, NULL, &v), 0);
    RC_CHECK_MEM(v.data, v.len, val, sizeof val);
    RC_CHECK_EQ_INT(v.data[v.len], 0); /* NUL after the bytes for convenience */
    RC_CHECK_EQ_INT(v.client_flags, 0xA5A5u);
    RC_CHECK_EQ_U64(v.entry_version, 7);
    RC_CHECK_EQ_U64(v.ns_version, 1);
    RC_CHECK_EQ_U64(v.ttl_left_ms, RC_TTL_NONE);
    RC_CHECK_EQ_INT(v.stale, 0);
    rc_value_free(&v);
    RC_CHECK(v.data == NULL);

    /* An empty value is a value, not a miss. */
    RC_CHECK_RC(rc_set(cli, "ops", "empty", 5, "", 0, NULL, NULL), 0);
    RC_CHECK_RC(rc_get(cli, "ops", "empty", 5, NULL, &v), 0);
    RC_CHECK_EQ_INT(v.len, 0);
    rc_value_free(&v);

    /* Overwrite with a plain set replaces the value. */
    RC_CHECK_RC(rc_set(cli, "ops", key, sizeof key, "new", 3, NULL, NULL), 0);
    RC_CHECK_RC(rc_get(cli, "ops", key, sizeof key, NULL, &v), 0);
    RC_CHECK_MEM(v.data, v.len, "new", 3);
    rc_value_free(&v);
}

static void test_miss_delete_touch(void)
{
    rc_value v;
    RC_CHECK_RC(rc_get(cli, "ops", "absent", 6, NULL, &v), RC_EMISS);
    RC_CHECK(v.data == NULL);
    RC_CHECK_EQ_U64(v.ns_version, 1); /* a miss still names the version it looked at */
    RC_CHECK_RC(rc_delete(cli, "ops", "absent", 6, 0), RC_EMISS);
    RC_CHECK_RC(rc_touch(cli, "ops", "absent", 6, 1000, 0), RC_EMISS);

    RC_CHECK_RC(rc_set(cli, "ops", "d", 1, "x", 1, NULL, NULL), 0);
    RC_CHECK_RC(rc_delete(cli, "ops", "d", 1, 0), 0);
    RC_CHECK_RC(rc_get(cli, "ops", "d", 1, NULL, &v), RC_EMISS);
    RC_CHECK_RC(rc_delete(cli, "ops", "d", 1, 0), RC_EMISS);

    /* touch gives a never-expiring entry a TTL. */
    RC_CHECK_RC(rc_set(cli, "ops", "t", 1, "x", 1, NULL, NULL), 0);
    RC_CHECK_RC(rc_touch(cli, "ops", "t", 1, 60000, 0), 0);
    RC_CHECK_RC(rc_get(cli, "ops", "t", 1, NULL, &v), 0);
    RC_CHECK(v.ttl_left_ms != RC_TTL_NONE && v.ttl_left_ms <= 60000 && v.ttl_left_ms > 50000);
    rc_value_free(&v);
    RC_CHECK(rc_client_ok(cli));
}

static void test_condition_if_absent(void)
{
    rc_set_options o = {.stale_ms = RC_STALE_DEFAULT, .cond = RC_SET_IF_ABSENT};
    RC_CHECK_RC(rc_set(cli, "cond", "a", 1, "first", 5, &o, NULL), 0);
    RC_CHECK_RC(rc_set(cli, "cond", "a", 1, "second", 6, &o, NULL), RC_EEXISTS);
    rc_value v;
    RC_CHECK_RC(rc_get(cli, "cond", "a", 1, NULL, &v), 0);
    RC_CHECK_MEM(v.data, v.len, "first", 5);
    rc_value_free(&v);
}

static void test_condition_if_newer(void)
{
    rc_set_options o = {.stale_ms = RC_STALE_DEFAULT, .cond = RC_SET_IF_NEWER, .entry_version = 5};
    rc_write_info wi;
    RC_CHECK_RC(rc_set(cli, "cond", "n", 1, "v5", 2, &o, &wi), 0);
    RC_CHECK_EQ_U64(wi.entry_version, 5);
    RC_CHECK_RC(rc_set(cli, "cond", "n", 1, "v5b", 3, &o, &wi), RC_ENOT_NEWER); /* equal */
    RC_CHECK_EQ_U64(wi.entry_version, 5); /* the rejection reports the version that won */
    o.entry_version = 4;
    RC_CHECK_RC(rc_set(cli, "cond", "n", 1, "v4", 2, &o, NULL), RC_ENOT_NEWER);
    o.entry_version = 6;
    RC_CHECK_RC(rc_set(cli, "cond", "n", 1, "v6", 2, &o, &wi), 0);
    RC_CHECK_EQ_U64(wi.entry_version, 6);

    rc_value v;
    RC_CHECK_RC(rc_get(cli, "cond", "n", 1, NULL, &v), 0);
    RC_CHECK_MEM(v.data, v.len, "v6", 2);
    RC_CHECK_EQ_U64(v.entry_version, 6);
    rc_value_free(&v);

    /* After a delete, a tombstone remembers version 6: an older write stays out. */
    RC_CHECK_RC(rc_delete(cli, "cond", "n", 1, 0), 0);
    o.entry_version = 5;
    RC_CHECK_RC(rc_set(cli, "cond", "n", 1, "late", 4, &o, NULL), RC_ENOT_NEWER);
    RC_CHECK_RC(rc_get(cli, "cond", "n", 1, NULL, &v), RC_EMISS);
    o.entry_version = 7;
    RC_CHECK_RC(rc_set(cli, "cond", "n", 1, "v7", 2, &o, NULL), 0);
    RC_CHECK_RC(rc_get(cli, "cond", "n", 1, NULL, &v), 0);
    RC_CHECK_MEM(v.data, v.len, "v7", 2);
    rc_value_free(&v);
}

static void test_condition_cas(void)
{
    rc_set_options o = {.stale_ms = RC_STALE_DEFAULT, .entry_version = 10};
    RC_CHECK_RC(rc_set(cli, "cond", "c", 1, "ten", 3, &o, NULL), 0);
    o.cond = RC_SET_CAS;
    o.cas_version = 9;
    o.entry_version = 11;
    RC_CHECK_RC(rc_set(cli, "cond", "c", 1, "bad", 3, &o, NULL), RC_ECAS_MISMATCH);
    o.cas_version = 10;
    RC_CHECK_RC(rc_set(cli, "cond", "c", 1, "eleven", 6, &o, NULL), 0);
    rc_value v;
    RC_CHECK_RC(rc_get(cli, "cond", "c", 1, NULL, &v), 0);
    RC_CHECK_MEM(v.data, v.len, "eleven", 6);
    RC_CHECK_EQ_U64(v.entry_version, 11);
    rc_value_free(&v);
    /* CAS on a key that does not exist cannot match. */
    RC_CHECK_RC(rc_set(cli, "cond", "nokey", 5, "x", 1, &o, NULL), RC_ECAS_MISMATCH);
    RC_CHECK_RC(rc_get(cli, "cond", "nokey", 5, NULL, &v), RC_EMISS);
    RC_CHECK(rc_client_ok(cli));
}

/* Poll key until it misses or the deadline passes; returns the last status. */
static int wait_for_miss(const char *ns, const char *key, uint64_t deadline_ms)
{
    for (;;) {
        rc_value v;
        int rc = rc_get(cli, ns, key, strlen(key), NULL, &v);
        rc_value_free(&v);
        if (rc != 0 || rc_harness_now_ms() > deadline_ms)
            return rc;
    }
}

static void test_ttl_expiry(void)
{
    rc_set_options o = {.stale_ms = 0, .ttl_ms = 150};
    rc_set_options keep = {.stale_ms = 0, .ttl_ms = 600000};
    RC_CHECK_RC(rc_set(cli, "ttl", "long", 4, "x", 1, &keep, NULL), 0);
    RC_CHECK_RC(rc_set(cli, "ttl", "short", 5, "x", 1, &o, NULL), 0);
    rc_value v;
    int rc = rc_get(cli, "ttl", "short", 5, NULL, &v);
    if (rc == 0)
        RC_CHECK(v.ttl_left_ms <= 150);
    rc_value_free(&v);
    RC_CHECK_RC(wait_for_miss("ttl", "short", rc_harness_now_ms() + 5000), RC_EMISS);
    RC_CHECK_RC(rc_get(cli, "ttl", "long", 4, NULL, &v), 0);
    RC_CHECK(v.ttl_left_ms > 500000 && v.ttl_left_ms <= 600000);
    rc_value_free(&v);
}

static void test_stale_window(void)
{
    /* Expires after 100 ms, then is served stale for a minute. */
    rc_set_options o = {.stale_ms = 60000, .ttl_ms = 100};
    RC_CHECK_RC(rc_set(cli, "ttl", "sw", 2, "old", 3, &o, NULL), 0);
    uint64_t deadline = rc_harness_now_ms() + 5000;
    rc_value v;
    int rc;
    while ((rc = rc_get(cli, "ttl", "sw", 2, NULL, &v)) == 0 && !v.stale &&
           rc_harness_now_ms() < deadline)
        rc_value_free(&v);
    RC_CHECK_RC(rc, 0);
    RC_CHECK_EQ_INT(v.stale, 1);
    RC_CHECK_MEM(v.data, v.len, "old", 3);
    rc_value_free(&v);
}

static void test_stats_and_flush(void)
{
    char *text = NULL;
    RC_CHECK_RC(rc_stats(cli, NULL, &text), 0);
    RC_CHECK(text != NULL && strlen(text) > 0);
    free(text);
    RC_CHECK_RC(rc_stats(cli, "ops", &text), 0);
    RC_CHECK(text != NULL && strlen(text) > 0);
    free(text);

    RC_CHECK_RC(rc_flush(cli), 0);
    rc_value v;
    RC_CHECK_RC(rc_get(cli, "ops", "empty", 5, NULL, &v), RC_EMISS);
    RC_CHECK_RC(rc_get(cli, "ttl", "long", 4, NULL, &v), RC_EMISS);
}

static void test_server_error_keeps_connection(void)
{
    const rc_server_info *info = rc_server_info_get(cli);
    size_t len = (size_t)info->max_key + 1;
    char *key = malloc(len);
    RC_CHECK(key != NULL);
    memset(key, 'k', len);
    RC_CHECK_RC(rc_set(cli, "ops", key, len, "x", 1, NULL, NULL), RC_EKEY_TOO_LONG);
    RC_CHECK(rc_client_error_message(cli)[0] != '\0');
    free(key);
    RC_CHECK(rc_client_ok(cli));
    RC_CHECK_RC(rc_ping(cli), 0);
    RC_CHECK_EQ_INT(rc_client_error_message(cli)[0], '\0');

    /* Arguments the library refuses never reach the wire. */
    rc_value v;
    RC_CHECK_RC(rc_get(cli, "", "k", 1, NULL, &v), RC_EBAD_NAMESPACE);
    RC_CHECK_RC(rc_get(cli, "ops", "", 0, NULL, &v), RC_EINVAL);
    rc_set_options bad = {.cond = 9};
    RC_CHECK_RC(rc_set(cli, "ops", "k", 1, "x", 1, &bad, NULL), RC_EINVAL);
    RC_CHECK(rc_client_ok(cli));
}

static void test_connect_failures(void)
{
    rc_client *c = NULL;
    rc_client_options o = {.host = "no-such-host.invalid", .port = srv.port};
    RC_CHECK_RC(rc_connect(&o, &c), RC_ERESOLVE);
    RC_CHECK(c == NULL);
    rc_close(NULL);
}

int main(void)
{
    RC_CHECK(rc_harness_start(&srv, NULL) == 0);
    RC_CHECK_RC(rc_harness_connect(&srv, &cli), 0);
    RC_TEST_RUN(test_hello_and_ping);
    RC_TEST_RUN(test_set_get_binary);
    RC_TEST_RUN(test_miss_delete_touch);
    RC_TEST_RUN(test_condition_if_absent);
    RC_TEST_RUN(test_condition_if_newer);
    RC_TEST_RUN(test_condition_cas);
    RC_TEST_RUN(test_ttl_expiry);
    RC_TEST_RUN(test_stale_window);
    RC_TEST_RUN(test_server_error_keeps_connection);
    RC_TEST_RUN(test_stats_and_flush);
    RC_TEST_RUN(test_connect_failures);
    rc_close(cli);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    return 0;
}
