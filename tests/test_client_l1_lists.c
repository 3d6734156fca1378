/*
 * test_client_l1_lists.c - lists in the L1 near-cache against a real server.
 *
 * Cases: a cached list is served from the L1 with the read's top and
 * exclude set applied to the copy; a suppression by another client reaches
 * the L1, which filters its cached list in place (still a hit: no drop, no
 * refetch); an in-place removal by another client drops the list (its KEY
 * event), so the next read refetches it without the item; an unsuppression
 * drops the namespace's cached lists so the item comes back; byte reads
 * never see a cached list and list reads never see cached bytes; a
 * namespace outside the L1's subscription bypasses it.
 *
 * Synchronisation is by sequence number (rc_harness_sync_l1: the node's
 * newest seq, then rc_l1_wait_applied); only "the channel is subscribed"
 * is polled, with a deadline.
 */
#define _GNU_SOURCE

#include <stdio.h>
#include <string.h>

#include "rc_harness.h"
#include "rc_test.h"

#define DEADLINE_MS 10000
#define WAIT_MS     5000

static rc_harness_server srv;

static void wait_healthy(rc_l1 *l1)
{
    uint64_t deadline = rc_harness_now_ms() + DEADLINE_MS;
    while (!rc_harness_l1_stats(l1).healthy) {
        RC_CHECK(rc_harness_now_ms() < deadline);
        rc_harness_poll_pause();
    }
}

static void put_list(rc_client *c, const char *ns, const char *key, const uint64_t *ids, size_t n)
{
    rc_list_item items[16];
    for (size_t i = 0; i < n; i++)
        items[i] = (rc_list_item){ids[i], 1.0f / (float)(i + 1)};
    RC_CHECK_RC(rc_list_set(c, ns, key, strlen(key), items, n, NULL, NULL), 0);
}

/* read_l1 - key's list through the L1 is exactly ids; returns whether the L1 answered. */
static int read_l1(rc_l1 *l1, rc_client *c, const char *key, const rc_list_get_options *o,
                   const uint64_t *ids, size_t n)
{
    uint64_t hits = rc_harness_l1_stats(l1).hits;
    rc_list l;
    RC_CHECK_RC(rc_l1_list_get(l1, c, "recs", key, strlen(key), o, &l), 0);
    RC_CHECK_EQ_INT(l.n, n);
    for (size_t i = 0; i < n && i < l.n; i++)
        RC_CHECK_EQ_U64(l.items[i].id, ids[i]);
    rc_list_free(&l);
    return rc_harness_l1_stats(l1).hits == hits + 1;
}

int main(void)
{
    RC_CHECK_RC(rc_harness_start(&srv, NULL), 0);
    rc_client *writer = rc_harness_client(&srv), *reader = rc_harness_client(&srv);
    const char *names[] = {"recs"};
    rc_l1_options o = {.port = srv.port, .namespaces = names, .n_namespaces = 1};
    rc_l1 *l1 = NULL;
    RC_CHECK_RC(rc_l1_open(&o, &l1), 0);
    wait_healthy(l1);

    put_list(writer, "recs", "u1", (uint64_t[]){1, 2, 3, 4}, 4);
    rc_harness_sync_l1(l1, writer, WAIT_MS); /* its KEY event is applied: the copy stays */
    RC_CHECK(!read_l1(l1, reader, "u1", NULL, (uint64_t[]){1, 2, 3, 4}, 4)); /* fills */
    RC_CHECK(read_l1(l1, reader, "u1", NULL, (uint64_t[]){1, 2, 3, 4}, 4));
    uint64_t ex[] = {1};
    rc_list_get_options top2 = {.top = 2, .exclude = ex, .nexclude = 1};
    RC_CHECK(read_l1(l1, reader, "u1", &top2, (uint64_t[]){2, 3}, 2));

    /* Suppression: the cached list is filtered in place, still served from the L1. */
    rc_l1_stats before = rc_harness_l1_stats(l1);
    RC_CHECK_RC(rc_suppress(writer, "recs", (uint64_t[]){2}, 1, 0, NULL), 0);
    rc_harness_sync_l1(l1, writer, WAIT_MS);
    rc_l1_stats after = rc_harness_l1_stats(l1);
    RC_CHECK_EQ_U64(after.entries, before.entries);
    RC_CHECK_EQ_U64(after.invalidations, before.invalidations);
    RC_CHECK(read_l1(l1, reader, "u1", NULL, (uint64_t[]){1, 3, 4}, 3));
    RC_CHECK(read_l1(l1, reader, "u1", &top2, (uint64_t[]){3, 4}, 2));

    /* Removal: the KEY event drops the list; the next read refetches it without the item. */
    RC_CHECK_RC(rc_list_remove(writer, "recs", "u1", 2, (uint64_t[]){3}, 1, 0, NULL), 0);
    rc_harness_sync_l1(l1, writer, WAIT_MS);
    RC_CHECK(!read_l1(l1, reader, "u1", NULL, (uint64_t[]){1, 4}, 2));
    RC_CHECK(read_l1(l1, reader, "u1", NULL, (uint64_t[]){1, 4}, 2));

    /* Unsuppression: the namespace's cached lists go; the item is back on the next read. */
    RC_CHECK_RC(rc_unsuppress(writer, "recs", (uint64_t[]){2}, 1, NULL), 0);
    rc_harness_sync_l1(l1, writer, WAIT_MS);
    RC_CHECK(!read_l1(l1, reader, "u1", NULL, (uint64_t[]){1, 2, 4}, 3));

    /* Kinds stay apart in the L1 as on the server. */
    rc_value v;
    RC_CHECK_RC(rc_l1_get(l1, reader, "recs", "u1", 2, &v), RC_EWRONG_KIND);
    RC_CHECK_RC(rc_set(writer, "recs", "b", 1, "bytes", 5, NULL, NULL), 0);
    RC_CHECK_RC(rc_l1_get(l1, reader, "recs", "b", 1, &v), 0);
    rc_value_free(&v);
    rc_list l;
    RC_CHECK_RC(rc_l1_list_get(l1, reader, "recs", "b", 1, NULL, &l), RC_EWRONG_KIND);

    /* Outside the subscription: straight to the server, nothing cached. */
    put_list(writer, "other", "u", (uint64_t[]){9}, 1);
    /* The KEY event of the SET of "b" may still be on its way and drop the copy just filled:
     * let it land before counting. */
    rc_harness_sync_l1(l1, writer, WAIT_MS);
    uint64_t entries = rc_harness_l1_stats(l1).entries;
    RC_CHECK_RC(rc_l1_list_get(l1, reader, "other", "u", 1, NULL, &l), 0);
    RC_CHECK_EQ_INT(l.n, 1);
    rc_list_free(&l);
    RC_CHECK_EQ_U64(rc_harness_l1_stats(l1).entries, entries);

    rc_l1_close(l1);
    rc_close(reader);
    rc_close(writer);
    RC_CHECK_RC(rc_harness_stop(&srv), 0);
    fprintf(stderr, "test_client_l1_lists: all passed\n");
    return 0;
}
