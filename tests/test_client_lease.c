/*
 * test_client_lease.c - lease reads, fills and rc_get_or_fill against a
 * real server: the LGET outcomes and their tokens, stale-while-revalidate
 * (stale readers answered at once, exactly one lease), lease expiry on a
 * server with a 200 ms lease, late fills rejected after delete, key and tag
 * invalidation (hard and soft) and a bump, wait timeouts that leave no
 * parked request behind, a parked connection that disconnects, early
 * refresh (one refresh lease among many fresh reads), a parked LGET that
 * does not hold back later pipelined requests (raw frames and batches),
 * and every branch of rc_get_or_fill.
 *
 * Waiting is on events where the server offers one (a parked read is
 * answered by a fill; stats say when a request is parked, polled with a
 * deadline).  Only expiry (TTL, lease time) has no event, so those loops
 * poll the state itself, bounded by a deadline, never a fixed sleep.
 */
#define _POSIX_C_SOURCE 200809L /* pthread barriers */

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rc_harness.h"
#include "rc_test.h"
#include "recache/rc_proto.h"

/* Lease lifetime of the main server: longer than any test step, so no lease expires by accident. */
#define MAIN_LEASE_MS   "20000"
#define SHORT_LEASE_MS  200
#define STALE_READERS   8
#define STALE_READS     5
#define REFRESH_THREADS 8
#define DEADLINE_MS     10000

static rc_harness_server srv;
static rc_client *cli; /* the main client; threads open their own */

/* ---- helpers -------------------------------------------------------------------------------- */

/* ns_stat - one line of a namespace's report, -1 if absent. */
static long long ns_stat(rc_client *c, const char *ns, const char *name)
{
    char *text = NULL;
    if (rc_ns_info(c, ns, &text, NULL) != 0)
        return -1;
    long long v = rc_harness_stat(text, name);
    free(text);
    return v;
}

/* wait_parked - poll STATS until `parked` equals want; 0, or -1 at the deadline. */
static int wait_parked(rc_client *c, long long want)
{
    uint64_t deadline = rc_harness_now_ms() + DEADLINE_MS;
    while (rc_harness_node_stat(c, "parked") != want)
        if (rc_harness_now_ms() > deadline)
            return -1;
    return 0;
}

static int token_is_zero(const rc_lease_token *t)
{
    for (size_t i = 0; i < RC_LEASE_TOKEN_SIZE; i++)
        if (t->bytes[i])
            return 0;
    return 1;
}

/* grab_lease - an LGET on a missing key that must win its lease; returns the token. */
static rc_lease_token grab_lease(rc_client *c, const char *ns, const char *key)
{
    rc_lease_result r;
    RC_CHECK_RC(rc_lget(c, ns, key, strlen(key), NULL, &r), RC_EMISS);
    RC_CHECK_EQ_INT(r.lease, RC_LGET_LEASE_GRANTED);
    RC_CHECK(!token_is_zero(&r.token));
    RC_CHECK(r.value.data == NULL && r.hit == 0);
    return r.token;
}

/* fill_str - rc_fill of a string value with default options. */
static int fill_str(rc_client *c, const char *ns, const char *key, const rc_lease_token *t,
                    const char *value)
{
    return rc_fill(c, ns, key, strlen(key), t, value, strlen(value), NULL, NULL);
}

/* expect_value - a plain GET returns exactly `want`. */
static void expect_value(rc_client *c, const char *ns, const char *key, const char *want)
{
    rc_value v;
    RC_CHECK_RC(rc_get(c, ns, key, strlen(key), NULL, &v), 0);
    RC_CHECK_MEM(v.data, v.len, want, strlen(want));
    rc_value_free(&v);
}

/* set_stale_ready - store key with a long stale window (no TTL), so soft invalidation makes it
 * stale. */
static void set_stale_ready(rc_client *c, const char *ns, const char *key, const char *value,
                            const char *tag)
{
    const char *tags[1] = {tag};
    rc_set_options o = {.stale_ms = 60000, .tags = tags, .ntags = tag ? 1 : 0};
    RC_CHECK_RC(rc_set(c, ns, key, strlen(key), value, strlen(value), &o, NULL), 0);
}

/* stale_lease - an LGET on a stale key that must win its lease; returns the token. */
static rc_lease_token stale_lease(rc_client *c, const char *ns, const char *key)
{
    rc_lease_result r;
    RC_CHECK_RC(rc_lget(c, ns, key, strlen(key), NULL, &r), 0);
    RC_CHECK_EQ_INT(r.value.stale, 1);
    RC_CHECK_EQ_INT(r.lease, RC_LGET_LEASE_GRANTED);
    rc_lease_token t = r.token;
    rc_lease_result_free(&r);
    return t;
}

/* A fill callback's state: counts calls; may fail, or act on the key before returning. */
typedef struct fill_ctx {
    atomic_int calls;
    const char *value;
    int fail;        /* non-zero: return this code */
    rc_client *c;    /* for `action` */
    int delete_key;  /* 1: delete the key first (so the fill is rejected) */
    uint32_t ttl_ms; /* for the fill */
} fill_ctx;

static int fill_cb(void *ctx, const char *ns, const void *key, size_t key_len, rc_fill_output *out)
{
    fill_ctx *f = ctx;
    atomic_fetch_add(&f->calls, 1);
    if (f->fail)
        return f->fail;
    if (f->delete_key)
        (void)rc_delete(f->c, ns, key, key_len, 0); /* the callback may use the client */
    out->len = strlen(f->value);
    out->data = malloc(out->len);
    if (out->data == NULL)
        return RC_ENOMEM;
    memcpy(out->data, f->value, out->len);
    out->set.ttl_ms = f->ttl_ms;
    return 0;
}

/* ---- raw lease reads ------------------------------------------------------------------------ */

static void test_lget_outcomes(void)
{
    rc_lease_token t = grab_lease(cli, "lease", "k1");
    rc_lease_result r;
    /* Another reader that may not wait is told the lease is held. */
    RC_CHECK_RC(rc_lget(cli, "lease", "k1", 2, NULL, &r), RC_ELEASE_HELD);
    RC_CHECK_EQ_INT(r.lease, RC_LGET_LEASE_HELD);
    RC_CHECK(token_is_zero(&r.token) && r.value.data == NULL);
    RC_CHECK_EQ_U64(r.value.ns_version, 1);

    rc_lease_token zero = {{0}};
    RC_CHECK_RC(fill_str(cli, "lease", "k1", &zero, "x"), RC_EINVAL); /* never a plain set */
    RC_CHECK_RC(fill_str(cli, "lease", "k1", &t, "filled"), 0);
    RC_CHECK_RC(fill_str(cli, "lease", "k1", &t, "again"), RC_ELEASE_REJECTED); /* used up */

    RC_CHECK_RC(rc_lget(cli, "lease", "k1", 2, NULL, &r), 0);
    RC_CHECK(r.hit == 1 && r.value.stale == 0);
    RC_CHECK_EQ_INT(r.lease, RC_LGET_LEASE_NONE);
    RC_CHECK(token_is_zero(&r.token));
    RC_CHECK_MEM(r.value.data, r.value.len, "filled", 6);
    rc_lease_result_free(&r);
    RC_CHECK(r.value.data == NULL);

    /* A token for one key does not fill another. */
    t = grab_lease(cli, "lease", "k2");
    RC_CHECK_RC(fill_str(cli, "lease", "k3", &t, "wrong"), RC_ELEASE_REJECTED);
    RC_CHECK_RC(fill_str(cli, "lease", "k2", &t, "right"), 0);
    RC_CHECK(rc_client_ok(cli));
}

/* ---- stale-while-revalidate ----------------------------------------------------------------- */

typedef struct stale_reader {
    pthread_barrier_t *start;
    int granted;
    int held;
    int bad;
    uint64_t slowest_ms;
    rc_lease_token token;
} stale_reader;

static void *stale_reader_main(void *arg)
{
    stale_reader *sr = arg;
    rc_client *c = rc_harness_client(&srv);
    rc_lget_options o = {.wait_ms = 5000}; /* a stale hit must never park */
    pthread_barrier_wait(sr->start);
    for (int i = 0; i < STALE_READS; i++) {
        rc_lease_result r;
        uint64_t t0 = rc_harness_now_ms();
        int rc = rc_lget(c, "swr", "hot", 3, &o, &r);
        uint64_t took = rc_harness_now_ms() - t0;
        sr->slowest_ms = took > sr->slowest_ms ? took : sr->slowest_ms;
        int good =
            rc == 0 && r.value.stale && r.value.len == 3 && memcmp(r.value.data, "old", 3) == 0;
        if (good && r.lease == RC_LGET_LEASE_GRANTED) {
            sr->granted++;
            sr->token = r.token;
        } else if (good && r.lease == RC_LGET_LEASE_HELD) {
            sr->held++;
        } else {
            sr->bad++;
        }
        rc_lease_result_free(&r);
    }
    rc_close(c);
    return NULL;
}

static void test_stale_one_lease(void)
{
    RC_CHECK_RC(rc_ns_config(cli, "swr", "stale=60000", NULL), 0);
    rc_set_options o = {.ttl_ms = 100, .stale_ms = RC_STALE_DEFAULT};
    RC_CHECK_RC(rc_set(cli, "swr", "hot", 3, "old", 3, &o, NULL), 0);
    uint64_t deadline = rc_harness_now_ms() + DEADLINE_MS;
    rc_value v;
    while (rc_get(cli, "swr", "hot", 3, NULL, &v) == 0 && !v.stale &&
           rc_harness_now_ms() < deadline)
        rc_value_free(&v);
    RC_CHECK_EQ_INT(v.stale, 1); /* expired into the namespace's stale window */
    rc_value_free(&v);

    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, STALE_READERS);
    pthread_t th[STALE_READERS];
    stale_reader sr[STALE_READERS];
    memset(sr, 0, sizeof sr);
    for (int i = 0; i < STALE_READERS; i++) {
        sr[i].start = &start;
        RC_CHECK(pthread_create(&th[i], NULL, stale_reader_main, &sr[i]) == 0);
    }
    int granted = 0, held = 0, winner = -1;
    for (int i = 0; i < STALE_READERS; i++) {
        pthread_join(th[i], NULL);
        RC_CHECK_EQ_INT(sr[i].bad, 0);
        RC_CHECK(sr[i].slowest_ms < 2500); /* answered at once, not parked for the 5 s wait */
        granted += sr[i].granted;
        held += sr[i].held;
        winner = sr[i].granted ? i : winner;
    }
    pthread_barrier_destroy(&start);
    RC_CHECK_EQ_INT(granted, 1);
    RC_CHECK_EQ_INT(held, STALE_READERS * STALE_READS - 1);

    /* The one lease holder's fill makes the key fresh again. */
    RC_CHECK_RC(fill_str(cli, "swr", "hot", &sr[winner].token, "new"), 0);
    rc_lease_result r;
    RC_CHECK_RC(rc_lget(cli, "swr", "hot", 3, NULL, &r), 0);
    RC_CHECK(!r.value.stale && r.lease == RC_LGET_LEASE_NONE);
    RC_CHECK_MEM(r.value.data, r.value.len, "new", 3);
    rc_lease_result_free(&r);
}

/* ---- late fills ----------------------------------------------------------------------------- */

static void test_late_fill_after_delete(void)
{
    /* Lease on a missing key, then a delete: the fill is late. */
    rc_lease_token t = grab_lease(cli, "late", "d1");
    (void)rc_delete(cli, "late", "d1", 2, 0);
    RC_CHECK_RC(fill_str(cli, "late", "d1", &t, "stale-data"), RC_ELEASE_REJECTED);
    rc_value v;
    RC_CHECK_RC(rc_get(cli, "late", "d1", 2, NULL, &v), RC_EMISS);

    /* Lease on a stale entry, then a delete of that entry. */
    set_stale_ready(cli, "late", "d2", "v", NULL);
    RC_CHECK_RC(rc_invalidate_key(cli, "late", "d2", 2, RC_SOFT, 0), 0);
    t = stale_lease(cli, "late", "d2");
    RC_CHECK_RC(rc_delete(cli, "late", "d2", 2, 0), 0);
    RC_CHECK_RC(fill_str(cli, "late", "d2", &t, "stale-data"), RC_ELEASE_REJECTED);
    RC_CHECK_RC(rc_get(cli, "late", "d2", 2, NULL, &v), RC_EMISS);

    /* Hard key invalidation cancels the lease the same way. */
    set_stale_ready(cli, "late", "d3", "v", NULL);
    RC_CHECK_RC(rc_invalidate_key(cli, "late", "d3", 2, RC_SOFT, 0), 0);
    t = stale_lease(cli, "late", "d3");
    RC_CHECK_RC(rc_invalidate_key(cli, "late", "d3", 2, RC_HARD, 0), 0);
    RC_CHECK_RC(fill_str(cli, "late", "d3", &t, "stale-data"), RC_ELEASE_REJECTED);
}

/* late_fill_after_tag - lease on a tagged stale entry, invalidate the tag in `mode`, fill. */
static void late_fill_after_tag(const char *key, const char *tag, int mode)
{
    set_stale_ready(cli, "late", key, "v", tag);
    RC_CHECK_RC(rc_invalidate_tag(cli, tag, RC_SOFT, NULL), 0); /* stale now */
    rc_lease_token t = stale_lease(cli, "late", key);
    RC_CHECK_RC(rc_invalidate_tag(cli, tag, mode, NULL), 0);
    /* The recomputed value carries the entry's tag, which was invalidated after the grant. */
    const char *tags[1] = {tag};
    rc_set_options o = {.stale_ms = RC_STALE_DEFAULT, .tags = tags, .ntags = 1};
    RC_CHECK_RC(rc_fill(cli, "late", key, strlen(key), &t, "stale-data", 10, &o, NULL),
                RC_ELEASE_REJECTED);
    rc_value v;
    int rc = rc_get(cli, "late", key, strlen(key), NULL, &v);
    if (mode == RC_HARD) {
        RC_CHECK_RC(rc, RC_EMISS);
    } else {
        RC_CHECK_RC(rc, 0);
        RC_CHECK_MEM(v.data, v.len, "v", 1); /* the old value, still stale: the fill did not land */
        RC_CHECK_EQ_INT(v.stale, 1);
        rc_value_free(&v);
    }
}

static void test_late_fill_after_tag_invalidation(void)
{
    late_fill_after_tag("t-soft", "late-tag-soft", RC_SOFT);
    late_fill_after_tag("t-hard", "late-tag-hard", RC_HARD);
}

static void test_late_fill_after_bump(void)
{
    rc_lease_token t = grab_lease(cli, "late-bump", "b");
    uint64_t version = 0;
    RC_CHECK_RC(rc_bump(cli, "late-bump", 0, &version), 0);
    RC_CHECK_EQ_U64(version, 2);
    RC_CHECK_RC(fill_str(cli, "late-bump", "b", &t, "old-model"), RC_ELEASE_REJECTED);
    rc_value v;
    RC_CHECK_RC(rc_get(cli, "late-bump", "b", 1, NULL, &v), RC_EMISS);
    rc_get_options old = {.version = 1};
    RC_CHECK_RC(rc_get(cli, "late-bump", "b", 1, &old, &v), RC_EMISS);
    /* The new version hands out its own lease, and that fill lands. */
    t = grab_lease(cli, "late-bump", "b");
    RC_CHECK_RC(fill_str(cli, "late-bump", "b", &t, "new-model"), 0);
    expect_value(cli, "late-bump", "b", "new-model");
}

/* ---- waiting -------------------------------------------------------------------------------- */

static void test_wait_timeout_leaves_no_trace(void)
{
    rc_lease_token t = grab_lease(cli, "wait", "w");
    rc_client *b = rc_harness_client(&srv);
    rc_lget_options o = {.wait_ms = 100};
    rc_lease_result r;
    uint64_t t0 = rc_harness_now_ms();
    RC_CHECK_RC(rc_lget(b, "wait", "w", 1, &o, &r), RC_EWAIT_TIMEOUT);
    RC_CHECK(rc_harness_now_ms() - t0 >= 90); /* it did wait (timer granularity aside) */
    RC_CHECK(r.value.data == NULL && r.lease != RC_LGET_LEASE_GRANTED);
    RC_CHECK(rc_client_ok(b));
    RC_CHECK_EQ_INT(rc_harness_node_stat(cli, "parked"), 0);
    /* The timed-out reader left nothing behind: the fill still works and wakes nobody. */
    RC_CHECK_RC(fill_str(cli, "wait", "w", &t, "done"), 0);
    RC_CHECK_RC(rc_lget(b, "wait", "w", 1, &o, &r), 0);
    RC_CHECK_MEM(r.value.data, r.value.len, "done", 4);
    rc_lease_result_free(&r);
    rc_close(b);
}

/* send_lget_raw - an LGET frame by hand (so the socket can be dropped while it is parked). */
static void send_raw(int fd, rc_msg *m)
{
    uint8_t buf[512];
    m->hflags = 0;
    long n = rc_encode(m, buf, sizeof buf);
    RC_CHECK(n > 0);
    RC_CHECK(write(fd, buf, (size_t)n) == n);
}

static void raw_lget(int fd, uint32_t id, const char *ns, const char *key, uint32_t wait_ms)
{
    rc_msg m = {.opcode = RC_OP_LGET, .request_id = id, .wait_ms = wait_ms};
    m.ns = rc_slice_str(ns);
    m.key = rc_slice_str(key);
    send_raw(fd, &m);
}

/* recv_raw - one response frame (body into buf); RC_CHECKs that it decodes. */
static void recv_raw(int fd, rc_msg *m, uint8_t *buf, size_t cap)
{
    size_t have = 0, need = RC_HEADER_SIZE;
    uint32_t frame_len = 0;
    while (have < need) {
        ssize_t n = read(fd, buf + have, need - have);
        if (n < 0 && errno == EINTR)
            continue;
        RC_CHECK(n > 0);
        have += (size_t)n;
        if (have == RC_HEADER_SIZE && need == RC_HEADER_SIZE) {
            RC_CHECK_RC(rc_decode_header(buf, have, (uint32_t)cap, m, &frame_len), 0);
            need = frame_len;
        }
    }
    rc_limits lim = rc_limits_wire();
    RC_CHECK_RC(rc_decode_body(buf + RC_HEADER_SIZE, frame_len - RC_HEADER_SIZE, &lim, m), 0);
}

static void test_parked_disconnect(void)
{
    rc_lease_token t = grab_lease(cli, "wait", "gone");
    int fd = rc_harness_raw_connect(&srv);
    RC_CHECK(fd >= 0);
    raw_lget(fd, 7, "wait", "gone", 30000);
    RC_CHECK(wait_parked(cli, 1) == 0);
    close(fd); /* the parked request's connection goes away */
    RC_CHECK(wait_parked(cli, 0) == 0);
    RC_CHECK_RC(rc_ping(cli), 0);
    RC_CHECK_RC(fill_str(cli, "wait", "gone", &t, "still-works"), 0);
    expect_value(cli, "wait", "gone", "still-works");
}

/* ---- lease expiry (a second server with short leases) --------------------------------------- */

static void test_lease_expiry(void)
{
    rc_harness_server s2;
    char lease_ms[16];
    snprintf(lease_ms, sizeof lease_ms, "%d", SHORT_LEASE_MS);
    const char *const args[] = {"--lease-ms", lease_ms, NULL};
    RC_CHECK(rc_harness_start(&s2, args) == 0);
    rc_client *a = rc_harness_client(&s2), *b = rc_harness_client(&s2);

    rc_lease_token dead = grab_lease(a, "exp", "k"); /* a holder that never fills */
    rc_lease_result r;
    RC_CHECK_RC(rc_lget(b, "exp", "k", 1, NULL, &r), RC_ELEASE_HELD);
    /* A parked reader is promoted when the lease expires: it now holds a new lease. */
    rc_lget_options o = {.wait_ms = 5000};
    RC_CHECK_RC(rc_lget(b, "exp", "k", 1, &o, &r), RC_EMISS);
    RC_CHECK_EQ_INT(r.lease, RC_LGET_LEASE_GRANTED);
    RC_CHECK(memcmp(r.token.bytes, dead.bytes, RC_LEASE_TOKEN_SIZE) != 0);
    rc_lease_token promoted = r.token;

    /* That one is never filled either: after the lease time a plain new reader wins. */
    uint64_t deadline = rc_harness_now_ms() + DEADLINE_MS;
    int rc;
    while ((rc = rc_lget(a, "exp", "k", 1, NULL, &r)) == RC_ELEASE_HELD &&
           rc_harness_now_ms() < deadline)
        ;
    RC_CHECK_RC(rc, RC_EMISS);
    RC_CHECK_EQ_INT(r.lease, RC_LGET_LEASE_GRANTED);
    RC_CHECK_RC(fill_str(b, "exp", "k", &dead, "x"), RC_ELEASE_REJECTED);
    RC_CHECK_RC(fill_str(b, "exp", "k", &promoted, "x"), RC_ELEASE_REJECTED);
    RC_CHECK_RC(fill_str(a, "exp", "k", &r.token, "fresh"), 0);
    expect_value(b, "exp", "k", "fresh");
    rc_close(a);
    rc_close(b);
    RC_CHECK_EQ_INT(rc_harness_stop(&s2), 0);
}

/* ---- early refresh -------------------------------------------------------------------------- */

typedef struct refresh_reader {
    atomic_int *stop;
    int fresh_granted;
    int stale_granted;
    int bad;
    long reads;
    rc_lease_token token;
} refresh_reader;

/* Read "er" until it turns stale (or the test deadline): count the leases seen. */
static void *refresh_reader_main(void *arg)
{
    refresh_reader *rr = arg;
    rc_client *c = rc_harness_client(&srv);
    uint64_t deadline = rc_harness_now_ms() + DEADLINE_MS;
    while (!atomic_load(rr->stop) && rc_harness_now_ms() < deadline) {
        rc_lease_result r;
        int rc = rc_lget(c, "er", "hot", 3, NULL, &r);
        rr->reads++;
        if (rc != 0 || r.value.len != 3 || memcmp(r.value.data, "cur", 3) != 0)
            rr->bad++;
        if (r.lease == RC_LGET_LEASE_GRANTED) {
            rr->token = r.token;
            *(r.value.stale ? &rr->stale_granted : &rr->fresh_granted) += 1;
        }
        if (rc == 0 && r.value.stale)
            atomic_store(rr->stop, 1);
        rc_lease_result_free(&r);
    }
    rc_close(c);
    return NULL;
}

static void test_early_refresh_one_lease(void)
{
    /* 1.5 s TTL, all of it inside the refresh window; leases outlive the test. */
    RC_CHECK_RC(rc_ns_config(cli, "er", "early-refresh=1500 stale=60000", NULL), 0);
    rc_set_options o = {.ttl_ms = 1500, .stale_ms = RC_STALE_DEFAULT};
    RC_CHECK_RC(rc_set(cli, "er", "hot", 3, "cur", 3, &o, NULL), 0);

    atomic_int stop = 0;
    pthread_t th[REFRESH_THREADS];
    refresh_reader rr[REFRESH_THREADS];
    memset(rr, 0, sizeof rr);
    for (int i = 0; i < REFRESH_THREADS; i++) {
        rr[i].stop = &stop;
        RC_CHECK(pthread_create(&th[i], NULL, refresh_reader_main, &rr[i]) == 0);
    }
    int fresh = 0, stale = 0, holder = -1;
    long reads = 0;
    for (int i = 0; i < REFRESH_THREADS; i++) {
        pthread_join(th[i], NULL);
        RC_CHECK_EQ_INT(rr[i].bad, 0); /* every read got the value */
        fresh += rr[i].fresh_granted;
        stale += rr[i].stale_granted;
        reads += rr[i].reads;
        holder = rr[i].fresh_granted + rr[i].stale_granted ? i : holder;
    }
    fprintf(stderr, "early refresh: %ld reads, %d fresh grants, %d stale grants\n", reads, fresh,
            stale);
    RC_CHECK(atomic_load(&stop)); /* the readers saw the key expire */
    /* One lease lifetime spans the whole run: exactly one lease, and it came early. */
    RC_CHECK_EQ_INT(fresh + stale, 1);
    RC_CHECK_EQ_INT(fresh, 1);
    RC_CHECK_RC(fill_str(cli, "er", "hot", &rr[holder].token, "cur"), 0);
}

/* ---- pipelining ----------------------------------------------------------------------------- */

static void test_parked_lget_does_not_block_pipeline_raw(void)
{
    rc_lease_token t = grab_lease(cli, "pipe-l", "held");
    RC_CHECK_RC(rc_set(cli, "pipe-l", "other", 5, "o", 1, NULL, NULL), 0);
    int fd = rc_harness_raw_connect(&srv);
    RC_CHECK(fd >= 0);
    raw_lget(fd, 1, "pipe-l", "held", 30000);
    rc_msg get = {.opcode = RC_OP_GET, .request_id = 2};
    get.ns = rc_slice_str("pipe-l");
    get.key = rc_slice_str("other");
    send_raw(fd, &get);

    /* The GET sent second is answered first, while the LGET stays parked. */
    uint8_t buf[4096];
    rc_msg m;
    recv_raw(fd, &m, buf, sizeof buf);
    RC_CHECK_EQ_INT(m.request_id, 2);
    RC_CHECK_EQ_INT(m.opcode, RC_OP_GET);
    RC_CHECK_EQ_INT(m.status, RC_STATUS_OK);
    RC_CHECK_MEM(m.value.ptr, m.value.len, "o", 1);
    RC_CHECK_EQ_INT(rc_harness_node_stat(cli, "parked"), 1);

    RC_CHECK_RC(fill_str(cli, "pipe-l", "held", &t, "filled"), 0);
    recv_raw(fd, &m, buf, sizeof buf);
    RC_CHECK_EQ_INT(m.request_id, 1);
    RC_CHECK_EQ_INT(m.opcode, RC_OP_LGET);
    RC_CHECK_EQ_INT(m.status, RC_STATUS_OK);
    RC_CHECK_EQ_INT(m.lease, RC_LEASE_NONE);
    RC_CHECK_MEM(m.value.ptr, m.value.len, "filled", 6);
    close(fd);
}

/* Filler thread of the batch test: fills once the LGET is parked and the GET was served. */
typedef struct batch_filler {
    rc_lease_token token;
    long long hits_before;
    int ok;
} batch_filler;

static void *batch_filler_main(void *arg)
{
    batch_filler *bf = arg;
    rc_client *c = rc_harness_client(&srv);
    uint64_t deadline = rc_harness_now_ms() + DEADLINE_MS;
    while (rc_harness_now_ms() < deadline) {
        if (rc_harness_node_stat(c, "parked") == 1 &&
            ns_stat(c, "pipe-b2", "hits") > bf->hits_before) {
            bf->ok = fill_str(c, "pipe-b", "held", &bf->token, "filled") == 0;
            break;
        }
    }
    rc_close(c);
    return NULL;
}

static void test_parked_lget_in_batch(void)
{
    batch_filler bf = {.token = grab_lease(cli, "pipe-b", "held")};
    RC_CHECK_RC(rc_set(cli, "pipe-b2", "other", 5, "o", 1, NULL, NULL), 0);
    bf.hits_before = ns_stat(cli, "pipe-b2", "hits");
    rc_client *c = rc_harness_client(&srv);
    rc_batch *b = rc_batch_new(c);
    RC_CHECK(b != NULL);
    rc_lget_options wait = {.wait_ms = 30000};
    RC_CHECK_EQ_INT(rc_batch_lget(b, "pipe-b", "held", 4, &wait), 0);
    RC_CHECK_EQ_INT(rc_batch_get(b, "pipe-b2", "other", 5, NULL), 1);
    RC_CHECK_EQ_INT(rc_batch_lget(b, "pipe-b2", "other", 5, NULL), 2);

    pthread_t th;
    RC_CHECK(pthread_create(&th, NULL, batch_filler_main, &bf) == 0);
    RC_CHECK_RC(rc_batch_exec(b), 0); /* the filler only fills after the GET was served */
    pthread_join(th, NULL);
    RC_CHECK(bf.ok);

    const rc_batch_result *r = rc_batch_get_result(b, 0);
    RC_CHECK_RC(r->status, 0);
    RC_CHECK_EQ_INT(r->lease, RC_LGET_LEASE_NONE);
    RC_CHECK_MEM(r->value.data, r->value.len, "filled", 6);
    r = rc_batch_get_result(b, 1);
    RC_CHECK_RC(r->status, 0);
    RC_CHECK_MEM(r->value.data, r->value.len, "o", 1);
    r = rc_batch_get_result(b, 2);
    RC_CHECK_RC(r->status, 0);
    RC_CHECK_EQ_INT(r->lease, RC_LGET_LEASE_NONE);
    RC_CHECK_MEM(r->value.data, r->value.len, "o", 1);

    /* A batch LGET that wins a lease reports its token. */
    rc_batch_reset(b);
    RC_CHECK_EQ_INT(rc_batch_lget(b, "pipe-b", "fresh-miss", 10, NULL), 0);
    RC_CHECK_RC(rc_batch_exec(b), 0);
    r = rc_batch_get_result(b, 0);
    RC_CHECK_RC(r->status, RC_EMISS);
    RC_CHECK_EQ_INT(r->lease, RC_LGET_LEASE_GRANTED);
    RC_CHECK(!token_is_zero(&r->token));
    RC_CHECK_RC(fill_str(c, "pipe-b", "fresh-miss", &r->token, "z"), 0);
    rc_batch_free(b);
    rc_close(c);
}

/* ---- rc_get_or_fill ---------------------------------------------------------------------------
 */

static void test_get_or_fill_miss_then_hit(void)
{
    fill_ctx f = {.value = "computed", .ttl_ms = 60000};
    rc_get_or_fill_report rep;
    rc_get_or_fill_options o = {.report = &rep};
    rc_value v;
    RC_CHECK_RC(rc_get_or_fill(cli, "gof", "a", 1, &o, fill_cb, &f, &v), 0);
    RC_CHECK_MEM(v.data, v.len, "computed", 8);
    RC_CHECK_EQ_INT(v.data[v.len], 0);
    RC_CHECK_EQ_INT(v.stale, 0);
    RC_CHECK_EQ_U64(v.ns_version, 1);
    rc_value_free(&v);
    RC_CHECK_EQ_INT(atomic_load(&f.calls), 1);
    RC_CHECK(rep.filled == 1 && rep.fill_status == 0 && rep.fill_rejected == 0);
    RC_CHECK_EQ_INT(rep.attempts, 1);

    RC_CHECK_RC(rc_get_or_fill(cli, "gof", "a", 1, &o, fill_cb, &f, &v), 0);
    RC_CHECK_MEM(v.data, v.len, "computed", 8);
    RC_CHECK(v.ttl_left_ms > 50000 && v.ttl_left_ms <= 60000);
    rc_value_free(&v);
    RC_CHECK_EQ_INT(atomic_load(&f.calls), 1); /* a hit never calls back */
    RC_CHECK_EQ_INT(rep.filled, 0);

    /* Defaults (NULL options) work too. */
    RC_CHECK_RC(rc_get_or_fill(cli, "gof", "b", 1, NULL, fill_cb, &f, &v), 0);
    RC_CHECK_MEM(v.data, v.len, "computed", 8);
    rc_value_free(&v);
    RC_CHECK_RC(rc_get_or_fill(cli, "gof", "b", 1, NULL, NULL, &f, &v), RC_EINVAL);
}

static void test_get_or_fill_stale(void)
{
    fill_ctx f = {.value = "recomputed"};
    rc_get_or_fill_report rep;
    rc_get_or_fill_options o = {.report = &rep};
    rc_value v;

    /* Stale, lease held elsewhere: the stale value at once, no callback. */
    set_stale_ready(cli, "gof", "s", "old", NULL);
    RC_CHECK_RC(rc_invalidate_key(cli, "gof", "s", 1, RC_SOFT, 0), 0);
    rc_lease_token t = stale_lease(cli, "gof", "s");
    RC_CHECK_RC(rc_get_or_fill(cli, "gof", "s", 1, &o, fill_cb, &f, &v), 0);
    RC_CHECK_MEM(v.data, v.len, "old", 3);
    RC_CHECK_EQ_INT(v.stale, 1);
    rc_value_free(&v);
    RC_CHECK_EQ_INT(atomic_load(&f.calls), 0);

    /* Stale, this reader wins the lease: callback, fill, the new value. */
    RC_CHECK_RC(rc_invalidate_key(cli, "gof", "s", 1, RC_SOFT, 0), 0); /* cancels t */
    RC_CHECK_RC(fill_str(cli, "gof", "s", &t, "late"), RC_ELEASE_REJECTED);
    RC_CHECK_RC(rc_get_or_fill(cli, "gof", "s", 1, &o, fill_cb, &f, &v), 0);
    RC_CHECK_MEM(v.data, v.len, "recomputed", 10);
    RC_CHECK_EQ_INT(v.stale, 0);
    rc_value_free(&v);
    RC_CHECK_EQ_INT(atomic_load(&f.calls), 1);
    RC_CHECK(rep.filled == 1 && rep.refresh == 0 && rep.fill_status == 0);
    expect_value(cli, "gof", "s", "recomputed");
}

static void test_get_or_fill_callback_failure(void)
{
    fill_ctx f = {.value = "never", .fail = -7777};
    rc_value v;
    RC_CHECK_RC(rc_get_or_fill(cli, "gof", "fail", 4, NULL, fill_cb, &f, &v), -7777);
    RC_CHECK(v.data == NULL);
    RC_CHECK_EQ_INT(atomic_load(&f.calls), 1);
    /* The failed holder's lease stays until it expires on the server. */
    rc_lease_result r;
    RC_CHECK_RC(rc_lget(cli, "gof", "fail", 4, NULL, &r), RC_ELEASE_HELD);
    RC_CHECK(rc_client_ok(cli));
}

static void test_get_or_fill_rejected_fill(void)
{
    /* The callback deletes the key while computing: the fill is late, the value still returned. */
    fill_ctx f = {.value = "mine", .c = cli, .delete_key = 1};
    rc_get_or_fill_report rep;
    rc_get_or_fill_options o = {.report = &rep};
    rc_value v;
    RC_CHECK_RC(rc_get_or_fill(cli, "gof", "rej", 3, &o, fill_cb, &f, &v), 0);
    RC_CHECK_MEM(v.data, v.len, "mine", 4);
    rc_value_free(&v);
    RC_CHECK(rep.filled == 1 && rep.fill_rejected == 1);
    RC_CHECK_RC(rep.fill_status, RC_ELEASE_REJECTED);
    RC_CHECK_RC(rc_get(cli, "gof", "rej", 3, NULL, &v), RC_EMISS); /* not cached */
}

static void test_get_or_fill_gives_up(void)
{
    rc_lease_token t = grab_lease(cli, "gof", "busy");
    fill_ctx f = {.value = "x"};
    rc_get_or_fill_report rep;
    rc_get_or_fill_options o = {.wait_ms = 50, .max_attempts = 2, .report = &rep};
    rc_value v;
    RC_CHECK_RC(rc_get_or_fill(cli, "gof", "busy", 4, &o, fill_cb, &f, &v), RC_EWAIT_TIMEOUT);
    RC_CHECK(v.data == NULL);
    RC_CHECK_EQ_INT(rep.attempts, 2);
    RC_CHECK_EQ_INT(atomic_load(&f.calls), 0);
    RC_CHECK_RC(fill_str(cli, "gof", "busy", &t, "x"), 0);
}

static void test_get_or_fill_early_refresh(void)
{
    RC_CHECK_RC(rc_ns_config(cli, "gof-er", "early-refresh=1000 stale=60000", NULL), 0);
    rc_set_options so = {.ttl_ms = 1000, .stale_ms = RC_STALE_DEFAULT};
    RC_CHECK_RC(rc_set(cli, "gof-er", "k", 1, "v1", 2, &so, NULL), 0);
    fill_ctx f = {.value = "v2", .ttl_ms = 60000};
    rc_get_or_fill_report rep = {0};
    rc_get_or_fill_options o = {.report = &rep};
    uint64_t deadline = rc_harness_now_ms() + DEADLINE_MS;
    rc_value v = {0};
    while (!rep.filled && rc_harness_now_ms() < deadline) {
        rc_value_free(&v);
        RC_CHECK_RC(rc_get_or_fill(cli, "gof-er", "k", 1, &o, fill_cb, &f, &v), 0);
    }
    RC_CHECK_EQ_INT(rep.filled, 1);
    RC_CHECK_EQ_INT(atomic_load(&f.calls), 1);
    RC_CHECK_EQ_INT(rep.fill_status, 0);
    /* A refresh returns the fresh value read; past expiry the stale path returns the new one. */
    if (rep.refresh)
        RC_CHECK_MEM(v.data, v.len, "v1", 2);
    else
        RC_CHECK_MEM(v.data, v.len, "v2", 2);
    fprintf(stderr, "get_or_fill early refresh: %s\n", rep.refresh ? "refreshed early" : "stale");
    rc_value_free(&v);
    expect_value(cli, "gof-er", "k", "v2");
}

int main(void)
{
    const char *const args[] = {"--lease-ms", MAIN_LEASE_MS, NULL};
    RC_CHECK(rc_harness_start(&srv, args) == 0);
    cli = rc_harness_client(&srv);
    RC_TEST_RUN(test_lget_outcomes);
    RC_TEST_RUN(test_stale_one_lease);
    RC_TEST_RUN(test_late_fill_after_delete);
    RC_TEST_RUN(test_late_fill_after_tag_invalidation);
    RC_TEST_RUN(test_late_fill_after_bump);
    RC_TEST_RUN(test_wait_timeout_leaves_no_trace);
    RC_TEST_RUN(test_parked_disconnect);
    RC_TEST_RUN(test_early_refresh_one_lease);
    RC_TEST_RUN(test_parked_lget_does_not_block_pipeline_raw);
    RC_TEST_RUN(test_parked_lget_in_batch);
    RC_TEST_RUN(test_get_or_fill_miss_then_hit);
    RC_TEST_RUN(test_get_or_fill_stale);
    RC_TEST_RUN(test_get_or_fill_callback_failure);
    RC_TEST_RUN(test_get_or_fill_rejected_fill);
    RC_TEST_RUN(test_get_or_fill_gives_up);
    RC_TEST_RUN(test_get_or_fill_early_refresh);
    RC_TEST_RUN(test_lease_expiry);
    rc_close(cli);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    return 0;
}
