/*
 * test_lists.c - list values, in-place removal and suppression through a
 * real server and the client library.
 *
 * Cases (one server, started with small list limits so the bounds are
 * reachable: max-list-items 8, max-exclude 4, max-suppressed 3):
 *   - round trip: items in rank order, scores, metadata, top N, exclude
 *     set, an empty list;
 *   - every SET option on a list: TTL, tags (a hard tag invalidation kills
 *     the list), if-absent, if-newer, CAS, entry version;
 *   - wrong kind both ways (and list-remove of a byte value) is WRONG_KIND
 *     and changes nothing;
 *   - bad input, each with its status and nothing changed: a frame whose
 *     list is not whole items (BAD_LIST, raw socket), a duplicate id and a
 *     NaN score (BAD_LIST), too many items (TOO_MANY_ITEMS), an exclude set
 *     over max-exclude (EXCLUDE_TOO_LARGE), a suppression set that would be
 *     full (SUPPRESS_FULL), a removal of more ids than max-list-items;
 *   - in-place removal keeps order, version, TTL; a miss is MISS;
 *   - suppression hides an item from every list of the namespace only,
 *     top N counts after suppression, unsuppress restores, SUPPRESSED lists
 *     ids with ascending stamps, STATS and NS_INFO report the set and its
 *     bytes (charged under bytes_used <= bytes_limit), a TTL'd suppression
 *     ends by itself;
 *   - a lease fill can be a list; a parked list lease read is answered with
 *     the filled list through its own filter (top, exclude, suppression);
 *   - rc_list_get_or_fill: one computation, the hit afterwards, and a
 *     computed list shown without the namespace's suppressed items.
 * Waiting is on server state (STATS "parked") with a deadline, never a
 * bare sleep.
 */
#define _GNU_SOURCE

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rc_harness.h"
#include "rc_test.h"

#define DEADLINE_MS 10000

static rc_harness_server srv;

static void items_of(rc_list_item *out, const uint64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[i].id = ids[i];
        out[i].score = 1.0f / (float)(i + 1);
    }
}

static void put_list(rc_client *c, const char *ns, const char *key, const uint64_t *ids, size_t n)
{
    rc_list_item items[16];
    items_of(items, ids, n);
    RC_CHECK_RC(rc_list_set(c, ns, key, strlen(key), items, n, NULL, NULL), 0);
}

/* expect_ids - key's list read with opts is exactly ids (in this order). */
static void expect_ids(rc_client *c, const char *ns, const char *key,
                       const rc_list_get_options *opts, const uint64_t *ids, size_t n)
{
    rc_list l;
    RC_CHECK_RC(rc_list_get(c, ns, key, strlen(key), opts, &l), 0);
    RC_CHECK_EQ_INT(l.n, n);
    for (size_t i = 0; i < n && i < l.n; i++)
        RC_CHECK_EQ_U64(l.items[i].id, ids[i]);
    rc_list_free(&l);
}

static void test_round_trip(rc_client *c)
{
    rc_list_item items[4] = {{101, 0.9f}, {202, 0.5f}, {303, -1.25f}, {UINT64_MAX, 0.0f}};
    rc_set_options o = {.stale_ms = RC_STALE_DEFAULT, .ttl_ms = 60000, .client_flags = 7};
    rc_write_info info;
    RC_CHECK_RC(rc_list_set(c, "rt", "u1", 2, items, 4, &o, &info), 0);
    rc_list l;
    RC_CHECK_RC(rc_list_get(c, "rt", "u1", 2, NULL, &l), 0);
    RC_CHECK_EQ_INT(l.n, 4);
    for (size_t i = 0; i < 4; i++) {
        RC_CHECK_EQ_U64(l.items[i].id, items[i].id);
        RC_CHECK(l.items[i].score == items[i].score);
    }
    RC_CHECK_EQ_INT(l.client_flags, 7);
    RC_CHECK(l.ttl_left_ms > 0 && l.ttl_left_ms <= 60000);
    RC_CHECK_EQ_INT(l.stale, 0);
    RC_CHECK_EQ_U64(l.ns_version, info.ns_version);
    rc_list_free(&l);

    rc_list_get_options top2 = {.top = 2};
    expect_ids(c, "rt", "u1", &top2, (uint64_t[]){101, 202}, 2);
    uint64_t ex[] = {202, 999};
    rc_list_get_options excl = {.top = 2, .exclude = ex, .nexclude = 2};
    expect_ids(c, "rt", "u1", &excl, (uint64_t[]){101, 303}, 2);

    RC_CHECK_RC(rc_list_set(c, "rt", "empty", 5, NULL, 0, NULL, NULL), 0);
    expect_ids(c, "rt", "empty", NULL, NULL, 0);
    RC_CHECK_RC(rc_list_get(c, "rt", "nope", 4, NULL, &l), RC_EMISS);
}

static void test_set_options(rc_client *c)
{
    uint64_t a[] = {1, 2}, b[] = {3};
    rc_list_item ia[2], ib[1];
    items_of(ia, a, 2);
    items_of(ib, b, 1);
    const char *tags[] = {"model:v1"};
    rc_set_options o = {.stale_ms = RC_STALE_DEFAULT, .tags = tags, .ntags = 1, .entry_version = 5};
    RC_CHECK_RC(rc_list_set(c, "opt", "k", 1, ia, 2, &o, NULL), 0);
    rc_set_options absent = {.stale_ms = RC_STALE_DEFAULT, .cond = RC_SET_IF_ABSENT};
    RC_CHECK_RC(rc_list_set(c, "opt", "k", 1, ib, 1, &absent, NULL), RC_EEXISTS);
    rc_set_options newer = {
        .stale_ms = RC_STALE_DEFAULT, .cond = RC_SET_IF_NEWER, .entry_version = 5};
    RC_CHECK_RC(rc_list_set(c, "opt", "k", 1, ib, 1, &newer, NULL), RC_ENOT_NEWER);
    rc_set_options cas = {.stale_ms = RC_STALE_DEFAULT, .cond = RC_SET_CAS, .cas_version = 4};
    RC_CHECK_RC(rc_list_set(c, "opt", "k", 1, ib, 1, &cas, NULL), RC_ECAS_MISMATCH);
    expect_ids(c, "opt", "k", NULL, a, 2);
    cas.cas_version = 5;
    cas.entry_version = 6;
    RC_CHECK_RC(rc_list_set(c, "opt", "k", 1, ib, 1, &cas, NULL), 0);
    rc_list l;
    RC_CHECK_RC(rc_list_get(c, "opt", "k", 1, NULL, &l), 0);
    RC_CHECK_EQ_U64(l.entry_version, 6);
    rc_list_free(&l);

    /* Tags: a hard invalidation of the list's tag makes it a miss. */
    RC_CHECK_RC(rc_list_set(c, "opt", "t", 1, ia, 2, &o, NULL), 0);
    RC_CHECK_RC(rc_invalidate_tag(c, "model:v1", RC_HARD, NULL), 0);
    RC_CHECK_RC(rc_list_get(c, "opt", "t", 1, NULL, &l), RC_EMISS);
}

static void test_wrong_kind(rc_client *c)
{
    RC_CHECK_RC(rc_set(c, "wk", "bytes", 5, "hello", 5, NULL, NULL), 0);
    put_list(c, "wk", "list", (uint64_t[]){1, 2, 3}, 3);
    rc_list l;
    rc_value v;
    RC_CHECK_RC(rc_list_get(c, "wk", "bytes", 5, NULL, &l), RC_EWRONG_KIND);
    RC_CHECK_RC(rc_get(c, "wk", "list", 4, NULL, &v), RC_EWRONG_KIND);
    RC_CHECK_RC(rc_list_remove(c, "wk", "bytes", 5, (uint64_t[]){1}, 1, 0, NULL), RC_EWRONG_KIND);
    rc_lease_result lr;
    RC_CHECK_RC(rc_lget(c, "wk", "list", 4, NULL, &lr), RC_EWRONG_KIND);
    RC_CHECK_RC(rc_get(c, "wk", "bytes", 5, NULL, &v), 0);
    RC_CHECK_MEM(v.data, v.len, "hello", 5);
    rc_value_free(&v);
    expect_ids(c, "wk", "list", NULL, (uint64_t[]){1, 2, 3}, 3);
    /* A write may change the kind: SET replaces whatever is stored. */
    put_list(c, "wk", "bytes", (uint64_t[]){9}, 1);
    expect_ids(c, "wk", "bytes", NULL, (uint64_t[]){9}, 1);
}

/* A LIST_SET frame whose list is 13 bytes, sent by hand: BAD_LIST, and the connection lives. */
static void test_malformed_frame(rc_client *c)
{
    put_list(c, "bad", "k", (uint64_t[]){1, 2}, 2);
    uint8_t value[13] = {0}, frame[256], body[256];
    rc_msg m = {.opcode = RC_OP_LIST_SET, .request_id = 7, .stale_ms = RC_STALE_DEFAULT};
    m.ns = rc_slice_str("bad");
    m.key = rc_slice_str("k");
    m.value = (rc_slice){value, 12};
    long n = rc_encode(&m, frame, sizeof frame);
    RC_CHECK(n > 0);
    frame[n - 12 - 4] = 13; /* the items' length prefix */
    frame[n] = 0;
    frame[12]++;
    int fd = rc_harness_raw_connect(&srv);
    RC_CHECK(fd >= 0);
    rc_harness_send_all(fd, frame, (size_t)n + 1);
    rc_msg resp;
    RC_CHECK_RC(rc_harness_recv_frame(fd, &resp, body, sizeof body, 1u << 20), 0);
    RC_CHECK_EQ_INT(resp.status, RC_STATUS_BAD_LIST);
    RC_CHECK_EQ_U64(resp.request_id, 7);
    rc_msg ping = {.opcode = RC_OP_PING, .request_id = 8};
    n = rc_encode(&ping, frame, sizeof frame);
    rc_harness_send_all(fd, frame, (size_t)n);
    RC_CHECK_RC(rc_harness_recv_frame(fd, &resp, body, sizeof body, 1u << 20), 0);
    RC_CHECK_EQ_INT(resp.status, 0);
    close(fd);
    expect_ids(c, "bad", "k", NULL, (uint64_t[]){1, 2}, 2);
}

static void test_limits(rc_client *c)
{
    put_list(c, "lim", "k", (uint64_t[]){1, 2, 3}, 3);
    rc_list_item items[9];
    items_of(items, (uint64_t[]){1, 2, 3, 4, 5, 6, 7, 8, 9}, 9);
    RC_CHECK_RC(rc_list_set(c, "lim", "k", 1, items, 9, NULL, NULL), RC_ETOO_MANY_ITEMS);
    RC_CHECK_RC(rc_list_set(c, "lim", "k", 1, items, 8, NULL, NULL), 0); /* exactly the bound */
    put_list(c, "lim", "k", (uint64_t[]){1, 2, 3}, 3);
    items[1].id = items[0].id;
    RC_CHECK_RC(rc_list_set(c, "lim", "k", 1, items, 3, NULL, NULL), RC_EBAD_LIST);
    items_of(items, (uint64_t[]){1, 2}, 2);
    items[1].score = NAN;
    RC_CHECK_RC(rc_list_set(c, "lim", "k", 1, items, 2, NULL, NULL), RC_EBAD_LIST);
    RC_CHECK(strstr(rc_client_error_message(c), "malformed list") != NULL ||
             rc_client_error_message(c)[0] != '\0');
    expect_ids(c, "lim", "k", NULL, (uint64_t[]){1, 2, 3}, 3);

    uint64_t ex[5] = {10, 11, 12, 13, 14};
    rc_list_get_options o = {.exclude = ex, .nexclude = 5};
    rc_list l;
    RC_CHECK_RC(rc_list_get(c, "lim", "k", 1, &o, &l), RC_EEXCLUDE_TOO_LARGE);
    o.nexclude = 4;
    expect_ids(c, "lim", "k", &o, (uint64_t[]){1, 2, 3}, 3);

    uint64_t rm[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    RC_CHECK_RC(rc_list_remove(c, "lim", "k", 1, rm, 9, 0, NULL), RC_ETOO_MANY_ITEMS);
    expect_ids(c, "lim", "k", NULL, (uint64_t[]){1, 2, 3}, 3);

    /* max-suppressed 3: 4 at once, or 2 + 2, is full and changes nothing. */
    RC_CHECK_RC(rc_suppress(c, "lim", (uint64_t[]){1, 2, 3, 4}, 4, 0, NULL), RC_ESUPPRESS_FULL);
    RC_CHECK_RC(rc_suppress(c, "lim", (uint64_t[]){1, 2}, 2, 0, NULL), 0);
    RC_CHECK_RC(rc_suppress(c, "lim", (uint64_t[]){3, 4}, 2, 0, NULL), RC_ESUPPRESS_FULL);
    RC_CHECK_RC(rc_suppress(c, "lim", (uint64_t[]){1, 2}, 2, 0, NULL), 0); /* already in */
    rc_suppression *s;
    size_t n;
    RC_CHECK_RC(rc_suppressed(c, "lim", &s, &n), 0);
    RC_CHECK_EQ_INT(n, 2);
    free(s);
    expect_ids(c, "lim", "k", NULL, (uint64_t[]){3}, 1);
    RC_CHECK_RC(rc_unsuppress(c, "lim", (uint64_t[]){1, 2}, 2, NULL), 0);
    RC_CHECK_RC(rc_suppress(c, "lim", (uint64_t[]){3, 4, 5}, 3, 0, NULL), 0); /* room again */
    RC_CHECK_RC(rc_unsuppress(c, "lim", (uint64_t[]){3, 4, 5}, 3, NULL), 0);
}

static void test_remove(rc_client *c)
{
    rc_list_item items[5];
    items_of(items, (uint64_t[]){10, 20, 30, 40, 50}, 5);
    rc_set_options o = {.stale_ms = RC_STALE_DEFAULT, .ttl_ms = 600000, .entry_version = 42};
    RC_CHECK_RC(rc_list_set(c, "rm", "u", 1, items, 5, &o, NULL), 0);
    size_t removed;
    RC_CHECK_RC(rc_list_remove(c, "rm", "u", 1, (uint64_t[]){40, 20, 20, 77}, 4, 0, &removed), 0);
    RC_CHECK_EQ_INT(removed, 2);
    rc_list l;
    RC_CHECK_RC(rc_list_get(c, "rm", "u", 1, NULL, &l), 0);
    RC_CHECK_EQ_INT(l.n, 3);
    RC_CHECK_EQ_U64(l.items[0].id, 10);
    RC_CHECK_EQ_U64(l.items[1].id, 30);
    RC_CHECK_EQ_U64(l.items[2].id, 50);
    RC_CHECK(l.items[1].score == items[2].score);
    RC_CHECK_EQ_U64(l.entry_version, 42);
    RC_CHECK(l.ttl_left_ms > 500000 && l.ttl_left_ms != RC_TTL_NONE);
    rc_list_free(&l);
    RC_CHECK_RC(rc_list_remove(c, "rm", "absent", 6, (uint64_t[]){1}, 1, 0, &removed), RC_EMISS);
    char *text;
    RC_CHECK_RC(rc_ns_info(c, "rm", &text, NULL), 0);
    RC_CHECK_EQ_INT(rc_harness_stat(text, "list_items_removed"), 2);
    free(text);
}

static void test_suppression(rc_client *c)
{
    put_list(c, "sup", "u1", (uint64_t[]){1, 2, 3, 4}, 4);
    put_list(c, "sup", "u2", (uint64_t[]){3, 5, 1}, 3);
    put_list(c, "other", "u1", (uint64_t[]){1, 2, 3}, 3);
    uint64_t stamp1, stamp2;
    RC_CHECK_RC(rc_suppress(c, "sup", (uint64_t[]){1}, 1, 0, &stamp1), 0);
    RC_CHECK_RC(rc_suppress(c, "sup", (uint64_t[]){3}, 1, 600000, &stamp2), 0);
    RC_CHECK(stamp2 > stamp1);
    expect_ids(c, "sup", "u1", NULL, (uint64_t[]){2, 4}, 2);
    expect_ids(c, "sup", "u2", NULL, (uint64_t[]){5}, 1);
    expect_ids(c, "other", "u1", NULL, (uint64_t[]){1, 2, 3}, 3); /* per namespace */
    rc_list_get_options top1 = {.top = 1};
    expect_ids(c, "sup", "u1", &top1, (uint64_t[]){2}, 1); /* top counts after suppression */

    rc_suppression *s;
    size_t n;
    RC_CHECK_RC(rc_suppressed(c, "sup", &s, &n), 0);
    RC_CHECK_EQ_INT(n, 2);
    for (size_t i = 0; i < n; i++) {
        if (s[i].id == 1) {
            RC_CHECK_EQ_U64(s[i].stamp, stamp1);
            RC_CHECK_EQ_U64(s[i].ttl_left_ms, RC_TTL_NONE);
        } else {
            RC_CHECK_EQ_U64(s[i].id, 3);
            RC_CHECK_EQ_U64(s[i].stamp, stamp2);
            RC_CHECK(s[i].ttl_left_ms > 0 && s[i].ttl_left_ms <= 600000);
        }
    }
    free(s);
    char *text;
    RC_CHECK_RC(rc_ns_info(c, "sup", &text, NULL), 0);
    RC_CHECK_EQ_INT(rc_harness_stat(text, "suppressed"), 2);
    RC_CHECK(rc_harness_stat(text, "suppress_bytes") > 0);
    RC_CHECK(rc_harness_stat(text, "list_items_hidden") >= 4);
    free(text);
    RC_CHECK(rc_harness_node_stat(c, "suppressed") >= 2);
    RC_CHECK(rc_harness_node_stat(c, "suppress_bytes") > 0);
    RC_CHECK(rc_harness_node_stat(c, "bytes_used") <= rc_harness_node_stat(c, "bytes_limit"));

    uint64_t stamp3;
    RC_CHECK_RC(rc_unsuppress(c, "sup", (uint64_t[]){1, 3}, 2, &stamp3), 0);
    RC_CHECK(stamp3 > stamp2);
    expect_ids(c, "sup", "u1", NULL, (uint64_t[]){1, 2, 3, 4}, 4);
    RC_CHECK_RC(rc_suppressed(c, "sup", &s, &n), 0);
    RC_CHECK_EQ_INT(n, 0);
    free(s);
    RC_CHECK_RC(rc_suppressed(c, "never-seen", &s, &n), 0);
    RC_CHECK_EQ_INT(n, 0);

    /* A suppression with a TTL ends by itself: wait for the item to come back. */
    RC_CHECK_RC(rc_suppress(c, "sup", (uint64_t[]){4}, 1, 50, NULL), 0);
    uint64_t deadline = rc_harness_now_ms() + DEADLINE_MS;
    for (;;) {
        rc_list l;
        RC_CHECK_RC(rc_list_get(c, "sup", "u1", 1 + 1, NULL, &l), 0);
        size_t len = l.n;
        rc_list_free(&l);
        if (len == 4)
            break;
        RC_CHECK(len == 3 && rc_harness_now_ms() < deadline);
        rc_harness_poll_pause();
    }
}

/* ---- leases ---------------------------------------------------------------------------------- */

typedef struct parked_read {
    rc_client *c;
    int rc;
    rc_list_lease_result r;
} parked_read;

static void *parked_reader(void *arg)
{
    parked_read *p = arg;
    uint64_t ex[] = {7};
    rc_list_get_options o = {.top = 2, .exclude = ex, .nexclude = 1};
    p->rc = rc_list_lget(p->c, "ls", "k", 1, &o, 5000, &p->r);
    return NULL;
}

static void test_lease_fill(rc_client *c)
{
    rc_list_lease_result r;
    RC_CHECK_RC(rc_list_lget(c, "ls", "k", 1, NULL, 0, &r), RC_EMISS);
    RC_CHECK_EQ_INT(r.lease, RC_LGET_LEASE_GRANTED);
    rc_lease_token token = r.token;
    rc_list_lease_result_free(&r);

    RC_CHECK_RC(rc_suppress(c, "ls", (uint64_t[]){8}, 1, 0, NULL), 0);
    parked_read p = {.c = rc_harness_client(&srv)};
    long long parked0 = rc_harness_node_stat(c, "parked");
    pthread_t t;
    RC_CHECK(pthread_create(&t, NULL, parked_reader, &p) == 0);
    uint64_t deadline = rc_harness_now_ms() + DEADLINE_MS;
    while (rc_harness_node_stat(c, "parked") <= parked0) {
        RC_CHECK(rc_harness_now_ms() < deadline);
        rc_harness_poll_pause();
    }
    rc_list_item items[4];
    items_of(items, (uint64_t[]){7, 8, 9, 10}, 4);
    RC_CHECK_RC(rc_list_fill(c, "ls", "k", 1, &token, items, 4, NULL, NULL), 0);
    RC_CHECK(pthread_join(t, NULL) == 0);
    RC_CHECK_RC(p.rc, 0);
    RC_CHECK_EQ_INT(p.r.list.n, 2); /* 7 excluded, 8 suppressed, top 2 */
    RC_CHECK_EQ_U64(p.r.list.items[0].id, 9);
    RC_CHECK_EQ_U64(p.r.list.items[1].id, 10);
    rc_list_lease_result_free(&p.r);
    rc_close(p.c);
    expect_ids(c, "ls", "k", NULL, (uint64_t[]){7, 9, 10}, 3);
    /* The lease is spent: a second fill is rejected. */
    RC_CHECK_RC(rc_list_fill(c, "ls", "k", 1, &token, items, 1, NULL, NULL), RC_ELEASE_REJECTED);
    /* A removal cancels a lease in flight: its fill cannot put the item back. */
    RC_CHECK_RC(rc_delete(c, "ls", "k", 1, 0), 0);
    RC_CHECK_RC(rc_list_lget(c, "ls", "k", 1, NULL, 0, &r), RC_EMISS);
    token = r.token;
    rc_list_lease_result_free(&r);
    RC_CHECK_RC(rc_list_remove(c, "ls", "k", 1, (uint64_t[]){9}, 1, 0, NULL), RC_EMISS);
    RC_CHECK_RC(rc_list_fill(c, "ls", "k", 1, &token, items, 4, NULL, NULL), RC_ELEASE_REJECTED);
}

typedef struct origin {
    int calls;
} origin;

static int compute_list(void *ctx, const char *ns, const void *key, size_t key_len,
                        rc_list_fill_output *out)
{
    (void)ns;
    (void)key;
    (void)key_len;
    origin *o = ctx;
    o->calls++;
    out->items = calloc(3, sizeof(rc_list_item));
    if (out->items == NULL)
        return RC_ENOMEM;
    items_of(out->items, (uint64_t[]){500, 501, 502}, 3);
    out->n = 3;
    out->set.ttl_ms = 60000;
    return 0;
}

static void test_get_or_fill(rc_client *c)
{
    RC_CHECK_RC(rc_suppress(c, "gof", (uint64_t[]){501}, 1, 0, NULL), 0);
    origin o = {0};
    rc_list l;
    rc_get_or_fill_report rep;
    rc_get_or_fill_options go = {.report = &rep};
    RC_CHECK_RC(rc_list_get_or_fill(c, "gof", "u", 1, &go, NULL, compute_list, &o, &l), 0);
    RC_CHECK_EQ_INT(o.calls, 1);
    RC_CHECK_EQ_INT(rep.filled, 1);
    RC_CHECK_EQ_INT(l.n, 2); /* computed, stored, and shown without the suppressed item */
    RC_CHECK_EQ_U64(l.items[0].id, 500);
    RC_CHECK_EQ_U64(l.items[1].id, 502);
    rc_list_free(&l);
    rc_list_get_options filter = {.top = 1};
    RC_CHECK_RC(rc_list_get_or_fill(c, "gof", "u", 1, &go, &filter, compute_list, &o, &l), 0);
    RC_CHECK_EQ_INT(o.calls, 1); /* a hit: no second computation */
    RC_CHECK_EQ_INT(rep.filled, 0);
    RC_CHECK_EQ_INT(l.n, 1);
    RC_CHECK_EQ_U64(l.items[0].id, 500);
    rc_list_free(&l);
    /* A byte value under the key is the wrong kind, not a recomputation. */
    RC_CHECK_RC(rc_set(c, "gof", "b", 1, "x", 1, NULL, NULL), 0);
    RC_CHECK_RC(rc_list_get_or_fill(c, "gof", "b", 1, &go, NULL, compute_list, &o, &l),
                RC_EWRONG_KIND);
    RC_CHECK_EQ_INT(o.calls, 1);
}

int main(void)
{
    const char *args[] = {
        "--max-list-items", "8", "--max-exclude", "4", "--max-suppressed", "3", NULL};
    RC_CHECK_RC(rc_harness_start(&srv, args), 0);
    rc_client *c = rc_harness_client(&srv);
    test_round_trip(c);
    test_set_options(c);
    test_wrong_kind(c);
    test_malformed_frame(c);
    test_limits(c);
    test_remove(c);
    test_suppression(c);
    test_lease_fill(c);
    test_get_or_fill(c);
    rc_close(c);
    RC_CHECK_RC(rc_harness_stop(&srv), 0);
    fprintf(stderr, "test_lists: all passed\n");
    return 0;
}
