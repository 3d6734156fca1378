/*
 * test_ghost_races.c - races that used to let a ghost through, reproduced
 * through a real server over loopback TCP, many rounds each.
 *
 * A ghost is a value an acknowledged invalidation should have killed that is
 * served again.  Each case drives the exact interleaving that used to let
 * one through and checks, once every party has been answered, that nothing
 * is served:
 *   - a lease fill racing a hard tag invalidation of a tag it carries
 *     (the fill's tag epochs used to be snapshotted long after its lease
 *     check, so an invalidation in between was missed);
 *   - an L1 holding a key the server has since evicted, then DELETE and
 *     INVALIDATE_KEY of that key (which used to publish nothing on a miss);
 *   - an L1 opened for some namespaces reading another one (which used to be
 *     cached with no event ever able to drop it);
 *   - readers parked on a lease, released by a fill that gave no TTL (they
 *     used to be told "no expiry" instead of the namespace default applied).
 *
 * Synchronisation: responses and rc_l1_wait_applied (a condition variable
 * on the L1's applied sequence number); no sleeps.
 */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rc_harness.h"
#include "rc_test.h"

#define BIG_VALUE   (1u << 20)
#define MAX_FRAME   (4u << 20)
#define FILL_ROUNDS 600
#define WAIT_MS     5000

static rc_harness_server srv;
static uint32_t next_id = 1;

/* ---- raw frames ----------------------------------------------------------------------------- */

/* encode - msg as a request with a fresh id into buf (malloc'ed, *len bytes); returns the id. */
static uint32_t encode(rc_msg *msg, uint8_t **buf, size_t *len)
{
    msg->hflags = 0;
    msg->request_id = next_id++;
    long n = rc_encoded_size(msg);
    RC_CHECK(n > 0);
    *buf = malloc((size_t)n);
    RC_CHECK(*buf != NULL);
    RC_CHECK(rc_encode(msg, *buf, (size_t)n) == n);
    *len = (size_t)n;
    return msg->request_id;
}

/* recv_status - read frames on fd until the response to id; returns its status. */
static uint16_t recv_status(int fd, uint32_t id, rc_msg *resp)
{
    static uint8_t body[MAX_FRAME];
    do {
        RC_CHECK(rc_harness_recv_frame(fd, resp, body, sizeof body, MAX_FRAME) == 0);
    } while (resp->request_id != id);
    return resp->status;
}

/* lease - an LGET miss on fd that must grant this connection the lease; copies the token. */
static void lease(int fd, const char *key, uint8_t token[RC_TOKEN_SIZE])
{
    rc_msg m = {.opcode = RC_OP_LGET, .ns = rc_slice_str("race"), .key = rc_slice_str(key)};
    uint8_t *buf;
    size_t len;
    uint32_t id = encode(&m, &buf, &len);
    rc_harness_send_all(fd, buf, len);
    free(buf);
    rc_msg resp;
    RC_CHECK_EQ_INT(recv_status(fd, id, &resp), RC_STATUS_MISS);
    RC_CHECK_EQ_INT(resp.lease, RC_LEASE_GRANTED);
    memcpy(token, resp.token, RC_TOKEN_SIZE);
}

/*
 * spin_us - busy-wait about us microseconds: it staggers two sends so that
 * successive rounds land the second one at different points of the first
 * one's processing.  It orders nothing (both parties are awaited through
 * their responses); it only varies the interleaving.
 */
static void spin_us(unsigned us)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - start.tv_sec) * 1000000L + (now.tv_nsec - start.tv_nsec) / 1000L <
             (long)us);
}

/*
 * Defect: a lease fill survived a hard tag invalidation.  Each round takes a
 * lease on a fresh key, sends a 1 MiB fill carrying tag "sku" except its
 * last byte, then releases the last byte and an INVALIDATE_TAG sku (from a
 * second connection) together: in alternating order, and with the
 * invalidation staggered by 0 to 95 us so it lands anywhere in the fill's
 * processing (the old window was the 1 MiB allocation and copy).  Whatever the order the
 * server saw, once both are answered the key must be a miss: the fill was
 * either rejected, or stored and then killed by the invalidation.
 */
static void test_fill_vs_hard_tag_invalidation(void)
{
    RC_CHECK_RC(rc_harness_start(&srv, NULL), 0);
    int filler = rc_harness_raw_connect(&srv), inval = rc_harness_raw_connect(&srv);
    RC_CHECK(filler >= 0 && inval >= 0);
    uint8_t *value = malloc(BIG_VALUE);
    RC_CHECK(value != NULL);
    memset(value, 'g', BIG_VALUE);
    uint8_t tags[16];
    rc_slice sku = rc_slice_str("sku");
    long tags_len = rc_list_encode(&sku, 1, tags, sizeof tags);
    RC_CHECK(tags_len > 0);
    int stored = 0;
    for (int round = 0; round < FILL_ROUNDS; round++) {
        char key[32];
        snprintf(key, sizeof key, "user:%d", round);
        rc_msg fill = {.opcode = RC_OP_SET,
                       .ns = rc_slice_str("race"),
                       .key = rc_slice_str(key),
                       .ntags = 1,
                       .tags = {tags, (uint32_t)tags_len},
                       .stale_ms = RC_STALE_DEFAULT,
                       .value = {value, BIG_VALUE}};
        lease(filler, key, fill.token);
        rc_msg inv = {.opcode = RC_OP_INVALIDATE_TAG, .mode = RC_INVAL_HARD, .tag = sku};
        uint8_t *fill_buf, *inv_buf;
        size_t fill_len, inv_len;
        uint32_t fill_id = encode(&fill, &fill_buf, &fill_len);
        uint32_t inv_id = encode(&inv, &inv_buf, &inv_len);
        rc_harness_send_all(filler, fill_buf, fill_len - 1);
        if (round % 2 == 0) {
            rc_harness_send_all(filler, fill_buf + fill_len - 1, 1);
            spin_us((unsigned)(round / 2 % 20) * 5u);
            rc_harness_send_all(inval, inv_buf, inv_len);
        } else {
            rc_harness_send_all(inval, inv_buf, inv_len);
            rc_harness_send_all(filler, fill_buf + fill_len - 1, 1);
        }
        free(fill_buf);
        free(inv_buf);
        rc_msg resp;
        uint16_t fill_status = recv_status(filler, fill_id, &resp);
        RC_CHECK(fill_status == RC_STATUS_OK || fill_status == RC_STATUS_LEASE_REJECTED);
        stored += fill_status == RC_STATUS_OK;
        RC_CHECK_EQ_INT(recv_status(inval, inv_id, &resp), RC_STATUS_OK);
        rc_msg get = {.opcode = RC_OP_GET, .ns = rc_slice_str("race"), .key = rc_slice_str(key)};
        uint8_t *get_buf;
        size_t get_len;
        uint32_t get_id = encode(&get, &get_buf, &get_len);
        rc_harness_send_all(inval, get_buf, get_len);
        free(get_buf);
        uint16_t status = recv_status(inval, get_id, &resp);
        if (status != RC_STATUS_MISS)
            fprintf(stderr, "round %d: fill %s, then GET answered status %u state %u: a ghost\n",
                    round, fill_status == RC_STATUS_OK ? "stored" : "rejected", status, resp.state);
        RC_CHECK_EQ_INT(status, RC_STATUS_MISS);
    }
    fprintf(stderr, "%d rounds, %d fills stored before the invalidation landed\n", FILL_ROUNDS,
            stored);
    free(value);
    close(filler);
    close(inval);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
}

/* ---- L1 cases ------------------------------------------------------------------------------- */

static rc_l1 *open_l1(const char *const *namespaces, size_t n)
{
    rc_l1_options o = {.port = srv.port, .namespaces = namespaces, .n_namespaces = n};
    rc_l1 *l1 = NULL;
    RC_CHECK_RC(rc_l1_open(&o, &l1), 0);
    uint64_t deadline = rc_harness_now_ms() + 10000;
    while (!rc_harness_l1_stats(l1).healthy) { /* no signal exists for "subscribed" */
        RC_CHECK(rc_harness_now_ms() < deadline);
        rc_harness_poll_pause();
    }
    return l1;
}

static void put(rc_client *c, const char *ns, const char *key, const char *value)
{
    RC_CHECK_RC(rc_set(c, ns, key, strlen(key), value, strlen(value), NULL, NULL), 0);
}

/* l1_read - rc_l1_get of ns/key: 0 and the value compared to want, or RC_EMISS when want NULL. */
static void l1_read(rc_l1 *l1, rc_client *c, const char *ns, const char *key, const char *want)
{
    rc_value v;
    int rc = rc_l1_get(l1, c, ns, key, strlen(key), &v);
    if (want == NULL) {
        RC_CHECK_RC(rc, RC_EMISS);
        return;
    }
    RC_CHECK_RC(rc, 0);
    if (v.len != strlen(want) || memcmp(v.data, want, v.len) != 0)
        fprintf(stderr, "%s/%s: got '%.*s', want '%s'\n", ns, key, (int)v.len, (const char *)v.data,
                want);
    RC_CHECK_MEM(v.data, v.len, want, strlen(want));
    rc_value_free(&v);
}

/* applied - wait until the L1 has applied every event the node published so far. */
static void applied(rc_l1 *l1, rc_client *c)
{
    uint64_t seq = 0;
    RC_CHECK_RC(rc_node_seq(c, &seq, NULL), 0);
    RC_CHECK_RC(rc_l1_wait_applied(l1, seq, WAIT_MS), 0);
}

/*
 * Defect: DELETE or INVALIDATE_KEY of a key the server no longer holds
 * published nothing, so an L1 holding it kept serving it.  The server here
 * is small; each round caches a key in the L1, pushes it out of the server
 * with other writes, then deletes (or invalidates) it: the L1 must stop
 * serving it.
 */
static void test_l1_invalidation_of_evicted_key(void)
{
    const char *const args[] = {"--memory", "4mb",         "--shards", "1", "--max-value",
                                "64kb",     "--max-frame", "256kb",    NULL};
    RC_CHECK_RC(rc_harness_start(&srv, args), 0);
    rc_client *a, *b;
    RC_CHECK_RC(rc_harness_connect(&srv, &a), 0);
    RC_CHECK_RC(rc_harness_connect(&srv, &b), 0);
    rc_l1 *l1 = open_l1(NULL, 0);
    static char filler[48 * 1024];
    memset(filler, 'f', sizeof filler - 1);
    for (int round = 0; round < 10; round++) {
        char key[32];
        snprintf(key, sizeof key, "cached:%d", round);
        put(a, "recs", key, "old-list");
        l1_read(l1, b, "recs", key, "old-list"); /* fills the L1 */
        l1_read(l1, b, "recs", key, "old-list"); /* served by the L1 */
        /* Three times the memory limit of other writes: the hand passes the key
         * at least twice (a second chance for its reference bit), so it is evicted. */
        for (int i = 0; i < 3 * 4 * 1024 / 48; i++) {
            char other[32];
            snprintf(other, sizeof other, "push:%d:%d", round, i);
            put(a, "bulk", other, filler);
        }
        rc_value v;
        RC_CHECK_RC(rc_get(a, "recs", key, strlen(key), NULL, &v), RC_EMISS);
        if (round % 2 == 0)
            RC_CHECK_RC(rc_delete(a, "recs", key, strlen(key), 0), RC_EMISS);
        else
            RC_CHECK_RC(rc_invalidate_key(a, "recs", key, strlen(key), RC_HARD, 0), RC_EMISS);
        applied(l1, a);
        l1_read(l1, b, "recs", key, NULL);
    }
    rc_l1_close(l1);
    rc_close(a);
    rc_close(b);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
}

/*
 * Defect: an L1 opened for namespace "a" cached reads of "b" too, but the
 * server sends it no events for "b": another client's overwrite of b/k left
 * the L1 serving the old value.  Reads of other namespaces must bypass it.
 */
static void test_l1_outside_its_namespaces(void)
{
    RC_CHECK_RC(rc_harness_start(&srv, NULL), 0);
    rc_client *a, *b;
    RC_CHECK_RC(rc_harness_connect(&srv, &a), 0);
    RC_CHECK_RC(rc_harness_connect(&srv, &b), 0);
    const char *const only_a[] = {"a"};
    rc_l1 *l1 = open_l1(only_a, 1);
    for (int round = 0; round < 20; round++) {
        char v1[32], v2[32];
        snprintf(v1, sizeof v1, "old-%d", round);
        snprintf(v2, sizeof v2, "new-%d", round);
        put(a, "b", "k", v1);
        put(a, "a", "k", v1);
        applied(l1, a);
        l1_read(l1, b, "b", "k", v1);
        l1_read(l1, b, "a", "k", v1);
        l1_read(l1, b, "a", "k", v1);
        put(a, "b", "k", v2);
        put(a, "a", "k", v2);
        applied(l1, a);
        l1_read(l1, b, "b", "k", v2);
        l1_read(l1, b, "a", "k", v2);
    }
    /* One L1 hit per round, the second read of "a"; "b" is never cached, so never a hit. */
    RC_CHECK_EQ_U64(rc_harness_l1_stats(l1).hits, 20);
    rc_l1_close(l1);
    rc_close(a);
    rc_close(b);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
}

/*
 * Defect: readers parked on a lease were answered with the fill request's
 * TTL (0 = "namespace default", reported as "no expiry"), not the TTL the
 * server applied.  They must get the stored entry's TTL, as a GET would.
 */
static void test_released_readers_get_stored_ttl(void)
{
    RC_CHECK_RC(rc_harness_start(&srv, NULL), 0);
    rc_client *holder, *config;
    RC_CHECK_RC(rc_harness_connect(&srv, &holder), 0);
    RC_CHECK_RC(rc_harness_connect(&srv, &config), 0);
    char *settings = NULL;
    RC_CHECK_RC(rc_ns_config(config, "ttl", "default-ttl=60000", &settings), 0);
    free(settings);
    int waiter = rc_harness_raw_connect(&srv);
    RC_CHECK(waiter >= 0);
    for (int round = 0; round < 10; round++) {
        char key[32];
        snprintf(key, sizeof key, "k%d", round);
        rc_lease_result lr;
        RC_CHECK_RC(rc_lget(holder, "ttl", key, strlen(key), NULL, &lr), RC_EMISS);
        RC_CHECK_EQ_INT(lr.lease, RC_LGET_LEASE_GRANTED);
        rc_msg park = {.opcode = RC_OP_LGET,
                       .ns = rc_slice_str("ttl"),
                       .key = rc_slice_str(key),
                       .wait_ms = WAIT_MS};
        uint8_t *buf;
        size_t len;
        uint32_t id = encode(&park, &buf, &len);
        rc_harness_send_all(waiter, buf, len);
        free(buf);
        /* The park is in place once a second, non-waiting lease read sees the lease held. */
        uint64_t deadline = rc_harness_now_ms() + 10000;
        for (;;) {
            char *text = NULL;
            RC_CHECK_RC(rc_stats(config, "ttl", &text), 0);
            long long waits = rc_harness_stat(text, "waits");
            free(text);
            if (waits > round)
                break;
            RC_CHECK(rc_harness_now_ms() < deadline);
            rc_harness_poll_pause();
        }
        RC_CHECK_RC(rc_fill(holder, "ttl", key, strlen(key), &lr.token, "v", 1, NULL, NULL), 0);
        rc_msg resp;
        RC_CHECK_EQ_INT(recv_status(waiter, id, &resp), RC_STATUS_OK);
        RC_CHECK(resp.ttl_ms != RC_TTL_NONE);
        RC_CHECK(resp.ttl_ms > 50000 && resp.ttl_ms <= 60000);
        rc_lease_result_free(&lr);
    }
    close(waiter);
    rc_close(holder);
    rc_close(config);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
}

/* Runs every case, or only the one named by argv[1] (to reproduce one race on its own). */
int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*run)(void);
    } cases[] = {
        {"fill_vs_hard_tag", test_fill_vs_hard_tag_invalidation},
        {"l1_evicted_key", test_l1_invalidation_of_evicted_key},
        {"l1_namespaces", test_l1_outside_its_namespaces},
        {"released_ttl", test_released_readers_get_stored_ttl},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
            continue;
        fprintf(stderr, "-- %s\n", cases[i].name);
        cases[i].run();
    }
    return 0;
}
