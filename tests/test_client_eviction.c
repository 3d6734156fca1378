/*
 * test_client_eviction.c - old-version entries are evicted first.  On a
 * server with --memory 8mb --shards 1 (one CLOCK ring, so the preference is
 * not blurred by per-shard budgets), version 1 of a namespace is filled past
 * the limit and every surviving entry is read (setting its reference bit,
 * so a plain CLOCK would keep them).  After a bump, fewer version-2 entries
 * than fit are written: every one of them must still be present, because
 * the evictor reclaims the now-obsolete version-1 entries before any current
 * one.
 */
#include <stdio.h>
#include <string.h>

#include "rc_harness.h"
#include "rc_test.h"

#define VALUE_SIZE (16 * 1024)
#define V1_ENTRIES 1024 /* 16 MiB: twice the limit */
#define V2_ENTRIES 192  /* 3 MiB: well under the limit */
#define BATCH_OPS  64

static rc_harness_server srv;
static rc_client *cli;

/* Run one batch of sets (version 0 = current) or gets over keys [first, first + n). */
static int run_batch(rc_batch *b, int sets, int first, int n, const uint8_t *value)
{
    char key[32];
    rc_batch_reset(b);
    for (int i = first; i < first + n; i++) {
        int kl = snprintf(key, sizeof key, "user:%d", i);
        long idx = sets ? rc_batch_set(b, "evict", key, (size_t)kl, value, VALUE_SIZE, NULL)
                        : rc_batch_get(b, "evict", key, (size_t)kl, NULL);
        RC_CHECK(idx >= 0);
    }
    RC_CHECK_RC(rc_batch_exec(b), 0);
    int hits = 0;
    for (int i = 0; i < n; i++) {
        int st = rc_batch_get_result(b, (size_t)i)->status;
        if (sets)
            RC_CHECK_RC(st, 0);
        else if (st == 0)
            hits++;
        else
            RC_CHECK_RC(st, RC_EMISS);
    }
    return hits;
}

static void test_old_version_evicted_first(void)
{
    static uint8_t value[VALUE_SIZE];
    memset(value, 'v', sizeof value);
    rc_batch *b = rc_batch_new(cli);
    RC_CHECK(b != NULL);

    for (int i = 0; i < V1_ENTRIES; i += BATCH_OPS)
        run_batch(b, 1, i, BATCH_OPS, value);
    int v1_alive = 0;
    for (int i = 0; i < V1_ENTRIES; i += BATCH_OPS)
        v1_alive += run_batch(b, 0, i, BATCH_OPS, NULL); /* sets reference bits */
    char *text;
    RC_CHECK_RC(rc_stats(cli, NULL, &text), 0);
    long long evictions = rc_harness_stat(text, "evictions");
    free(text);
    fprintf(stderr, "   version 1: %d of %d entries alive, %lld evictions\n", v1_alive, V1_ENTRIES,
            evictions);
    RC_CHECK(evictions > 0);         /* the limit was really reached */
    RC_CHECK(v1_alive > V2_ENTRIES); /* and far more than V2 fit in it */

    uint64_t version;
    RC_CHECK_RC(rc_bump(cli, "evict", 0, &version), 0);
    RC_CHECK_EQ_U64(version, 2);
    for (int i = 0; i < V2_ENTRIES; i += BATCH_OPS)
        run_batch(b, 1, 100000 + i, BATCH_OPS, value);
    int v2_alive = 0;
    for (int i = 0; i < V2_ENTRIES; i += BATCH_OPS)
        v2_alive += run_batch(b, 0, 100000 + i, BATCH_OPS, NULL);
    RC_CHECK_EQ_INT(v2_alive, V2_ENTRIES);
    rc_batch_free(b);
}

int main(void)
{
    static const char *const args[] = {"--memory", "8mb", "--shards", "1", NULL};
    RC_CHECK(rc_harness_start(&srv, args) == 0);
    RC_CHECK_RC(rc_harness_connect(&srv, &cli), 0);
    RC_TEST_RUN(test_old_version_evicted_first);
    rc_close(cli);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    return 0;
}
