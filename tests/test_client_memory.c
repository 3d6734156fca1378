/*
 * test_client_memory.c - the memory limit holds under load: a server
 * started with --memory 8mb receives about ten times that in values
 * (pipelined batches of 64 KiB values); STATS must then show the bytes
 * charged at or under the limit and a non-zero eviction count, the newest
 * values must still be readable byte-exact, and the namespace's own report
 * must agree.
 */
#include <stdio.h>
#include <string.h>

#include "rc_harness.h"
#include "rc_test.h"

#define LIMIT_BYTES (8ull * 1024 * 1024)
#define VALUE_SIZE  (64 * 1024)
#define BATCH_OPS   32
#define TOTAL_OPS   1280 /* 80 MiB of values */

static rc_harness_server srv;

static void fill_value(uint8_t *p, size_t len, int i)
{
    for (size_t j = 0; j < len; j++)
        p[j] = (uint8_t)(i * 31 + (int)(j % 251));
}

static void test_write_ten_times_the_limit(void)
{
    rc_client *c;
    RC_CHECK_RC(rc_harness_connect(&srv, &c), 0);
    rc_batch *b = rc_batch_new(c);
    RC_CHECK(b != NULL);
    static uint8_t value[VALUE_SIZE];
    char key[32];

    for (int done = 0; done < TOTAL_OPS; done += BATCH_OPS) {
        rc_batch_reset(b);
        for (int i = done; i < done + BATCH_OPS; i++) {
            fill_value(value, sizeof value, i);
            int kl = snprintf(key, sizeof key, "user:%d", i);
            RC_CHECK(rc_batch_set(b, "mem", key, (size_t)kl, value, sizeof value, NULL) >= 0);
        }
        RC_CHECK_RC(rc_batch_exec(b), 0);
        for (int i = 0; i < BATCH_OPS; i++) {
            /* A write may only fail for lack of room, never silently. */
            int st = rc_batch_get_result(b, (size_t)i)->status;
            if (st != 0)
                RC_CHECK_RC(st, RC_ENO_MEMORY);
        }
    }
    rc_batch_free(b);

    char *text;
    RC_CHECK_RC(rc_stats(c, NULL, &text), 0);
    long long used = rc_harness_stat(text, "bytes_used");
    long long limit = rc_harness_stat(text, "bytes_limit");
    long long evictions = rc_harness_stat(text, "evictions");
    fprintf(stderr, "   bytes_used %lld, bytes_limit %lld, evictions %lld\n", used, limit,
            evictions);
    RC_CHECK(used > 0);
    RC_CHECK(limit > 0 && (unsigned long long)limit <= LIMIT_BYTES);
    RC_CHECK(used <= limit);
    RC_CHECK(evictions > 0);
    free(text);

    uint64_t version;
    RC_CHECK_RC(rc_ns_info(c, "mem", &text, &version), 0);
    long long ns_bytes = rc_harness_stat(text, "bytes");
    RC_CHECK(ns_bytes > 0 && ns_bytes <= limit);
    RC_CHECK(rc_harness_stat(text, "evictions") > 0);
    free(text);

    /* The newest value is still there, byte-exact. */
    rc_value v;
    int last = TOTAL_OPS - 1;
    int kl = snprintf(key, sizeof key, "user:%d", last);
    RC_CHECK_RC(rc_get(c, "mem", key, (size_t)kl, NULL, &v), 0);
    fill_value(value, sizeof value, last);
    RC_CHECK_MEM(v.data, v.len, value, sizeof value);
    rc_value_free(&v);
    rc_close(c);
}

int main(void)
{
    static const char *const args[] = {"--memory", "8mb", NULL};
    RC_CHECK(rc_harness_start(&srv, args) == 0);
    RC_TEST_RUN(test_write_ten_times_the_limit);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    return 0;
}
