/*
 * test_store_lease.c - unit tests of the store's leases: grant, park,
 * fill, cancellation by every kind of invalidation, expiry, promotion,
 * early refresh, bounds, and exactly one grant under a concurrent herd.
 *
 * Time is driven by hand (now_ms) so expiry is exact; the herd case uses
 * real threads released together by a barrier.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "test_store_util.h"

#define NOW0     1000000u
#define LEASE_MS 100u

static rc_store *lease_store(uint32_t max_waiters)
{
    rc_store_config cfg = ts_config(1 << 20, 4, 4096);
    cfg.max_waiters = max_waiters;
    rc_store *st = NULL;
    RC_CHECK_RC(rc_store_create(&cfg, &st), 0);
    return st;
}

static rc_store_lease_opts opts_for(rc_lease_waiter *w)
{
    rc_store_lease_opts o = {.lease_ms = LEASE_MS, .max_waiters_key = 8, .waiter = w};
    return o;
}

static int lget(rc_store *st, const char *key, uint64_t now, rc_lease_waiter *w,
                rc_store_lease_read *out)
{
    rc_store_key k = ts_key("recs", key, 0);
    rc_store_lease_opts o = opts_for(w);
    ts_buf buf;
    return rc_store_lget(st, &k, &o, now, ts_sink, &buf, out);
}

/* A write of value to key, optionally as a lease fill with token, optionally tagged. */
static int fill(rc_store *st, const char *key, const char *value, const uint8_t *token,
                const char *tag, uint64_t now, rc_store_write_result *res)
{
    rc_store_key k = ts_key("recs", key, 0);
    rc_store_write w = ts_write(value, 0);
    uint8_t list[130];
    if (tag) {
        rc_slice one = rc_slice_str(tag);
        long n = rc_list_encode(&one, 1, list, sizeof(list));
        RC_CHECK(n > 0);
        w.tags = (rc_slice){list, (uint32_t)n};
        w.ntags = 1;
    }
    w.token = token;
    return rc_store_set(st, &k, &w, now, res);
}

static size_t woken_count(const rc_lease_waiter *w, uint8_t outcome)
{
    size_t n = 0;
    for (; w; w = w->next)
        n += w->outcome == outcome;
    return n;
}

static void test_grant_park_fill(void)
{
    rc_store *st = lease_store(16);
    size_t baseline = ts_totals(st).bytes_used;
    rc_store_lease_read a, b, c;
    RC_CHECK_RC(lget(st, "u1", NOW0, NULL, &a), 0);
    RC_CHECK_EQ_INT(a.outcome, RC_LGET_MISS_GRANTED);
    RC_CHECK_EQ_INT(a.lease, RC_LEASE_GRANTED);
    RC_CHECK(ts_totals(st).bytes_used > baseline); /* the lease record is charged */

    /* Without a waiter the second reader is told the lease is held... */
    RC_CHECK_RC(lget(st, "u1", NOW0, NULL, &b), 0);
    RC_CHECK_EQ_INT(b.outcome, RC_LGET_MISS_HELD);
    RC_CHECK_EQ_INT(b.lease, RC_LEASE_HELD);
    /* ...with one it is parked. */
    rc_lease_waiter w1 = {0}, w2 = {0};
    RC_CHECK_RC(lget(st, "u1", NOW0, &w1, &b), 0);
    RC_CHECK_EQ_INT(b.outcome, RC_LGET_PARKED);
    RC_CHECK_RC(lget(st, "u1", NOW0, &w2, &b), 0);
    RC_CHECK_EQ_U64(rc_store_parked(st), 2);

    /* A forged token is rejected and the lease survives. */
    uint8_t forged[RC_TOKEN_SIZE];
    memcpy(forged, a.token, sizeof(forged));
    forged[0] ^= 1;
    rc_store_write_result res;
    RC_CHECK_RC(fill(st, "u1", "x", forged, NULL, NOW0, &res), RC_ELEASE_REJECTED);
    RC_CHECK(res.woken == NULL);

    /* The holder's fill stores and releases both readers. */
    RC_CHECK_RC(fill(st, "u1", "list", a.token, NULL, NOW0 + 1, &res), 0);
    RC_CHECK_EQ_U64(woken_count(res.woken, RC_WAITER_RELEASED), 2);
    RC_CHECK_EQ_U64(rc_store_parked(st), 0);
    RC_CHECK(w1.lease == NULL && w2.lease == NULL);

    RC_CHECK_RC(lget(st, "u1", NOW0 + 2, NULL, &c), 0);
    RC_CHECK_EQ_INT(c.outcome, RC_LGET_HIT);
    RC_CHECK_EQ_INT(c.lease, RC_LEASE_NONE);
    /* The same token cannot fill twice. */
    RC_CHECK_RC(fill(st, "u1", "again", a.token, NULL, NOW0 + 3, &res), RC_ELEASE_REJECTED);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "leases_granted"), 1);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "waits"), 2);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "waits_served"), 2);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "fills_accepted"), 1);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "fills_rejected_lease"), 2);
    rc_store_destroy(st);
}

static void test_tokens_are_unpredictable(void)
{
    rc_store *st = lease_store(0);
    rc_store_lease_read a, b;
    RC_CHECK_RC(lget(st, "k1", NOW0, NULL, &a), 0);
    RC_CHECK_RC(lget(st, "k2", NOW0, NULL, &b), 0);
    RC_CHECK(memcmp(a.token, b.token, RC_TOKEN_SIZE) != 0);
    static const uint8_t zero[RC_TOKEN_SIZE];
    RC_CHECK(memcmp(a.token, zero, RC_TOKEN_SIZE) != 0);
    rc_store_destroy(st);
}

/* Cancellation by delete or key invalidation promotes the oldest parked reader. */
static void test_invalidation_promotes(int use_delete, uint8_t mode)
{
    rc_store *st = lease_store(16);
    rc_store_lease_read a, b;
    rc_lease_waiter w1 = {0}, w2 = {0};
    RC_CHECK_RC(lget(st, "u1", NOW0, NULL, &a), 0);
    RC_CHECK_RC(lget(st, "u1", NOW0, &w1, &b), 0);
    RC_CHECK_RC(lget(st, "u1", NOW0, &w2, &b), 0);
    rc_store_key k = ts_key("recs", "u1", 0);
    rc_lease_waiter *woken = NULL;
    int rc = use_delete ? rc_store_delete(st, &k, NOW0, NULL, &woken)
                        : rc_store_invalidate_key(st, &k, mode, NOW0, NULL, &woken);
    RC_CHECK_RC(rc, RC_EMISS); /* no entry existed, but the lease is cancelled all the same */
    RC_CHECK(woken == &w1 && w1.next == NULL);
    RC_CHECK_EQ_INT(w1.outcome, RC_WAITER_PROMOTED);
    RC_CHECK(memcmp(w1.token, a.token, RC_TOKEN_SIZE) != 0);
    rc_store_write_result res;
    RC_CHECK_RC(fill(st, "u1", "late", a.token, NULL, NOW0 + 1, &res), RC_ELEASE_REJECTED);
    RC_CHECK_RC(fill(st, "u1", "fresh", w1.token, NULL, NOW0 + 1, &res), 0);
    RC_CHECK(res.woken == &w2 && w2.outcome == RC_WAITER_RELEASED);
    RC_CHECK(ts_has(st, "recs", "u1", 0, NOW0 + 2, "fresh"));
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "lease_promotions"), 1);
    rc_store_destroy(st);
}

static void test_delete_promotes(void)
{
    test_invalidation_promotes(1, RC_INVAL_HARD);
}

static void test_key_invalidation_promotes(void)
{
    test_invalidation_promotes(0, RC_INVAL_HARD);
    test_invalidation_promotes(0, RC_INVAL_SOFT);
}

static void test_bump_rejects_fill(void)
{
    rc_store *st = lease_store(0);
    rc_store_lease_read a;
    RC_CHECK_RC(lget(st, "u1", NOW0, NULL, &a), 0);
    uint64_t v;
    RC_CHECK_RC(rc_store_bump(st, rc_slice_str("recs"), 0, &v), 0);
    rc_store_write_result res;
    /* The fill addresses "current", which is now version 2: a different key, no lease. */
    RC_CHECK_RC(fill(st, "u1", "old-model", a.token, NULL, NOW0, &res), RC_ELEASE_REJECTED);
    /* Addressed at the leased version explicitly, it is rejected because of the bump. */
    rc_store_key k = ts_key("recs", "u1", 1);
    rc_store_write w = ts_write("old-model", 0);
    w.token = a.token;
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), RC_ELEASE_REJECTED);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "fills_rejected_bump"), 1);
    RC_CHECK(!ts_has(st, "recs", "u1", 1, NOW0, "old-model"));
    rc_store_destroy(st);
}

/* A fill carrying a tag invalidated after the grant is rejected, whatever the mode. */
static void test_tag_invalidation_rejects_fill(uint8_t mode, int tag_known)
{
    rc_store *st = lease_store(0);
    rc_store_write_result res;
    if (tag_known) /* another entry carries the tag, so it has a record */
        RC_CHECK_RC(fill(st, "other", "v", NULL, "product:1", NOW0, &res), 0);
    rc_store_lease_read a;
    RC_CHECK_RC(lget(st, "u1", NOW0, NULL, &a), 0);
    uint64_t stamp;
    RC_CHECK_RC(rc_store_invalidate_tag(st, rc_slice_str("product:1"), mode, &stamp), 0);
    RC_CHECK_RC(fill(st, "u1", "with-1", a.token, "product:1", NOW0, &res), RC_ELEASE_REJECTED);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "fills_rejected_tag"), 1);
    rc_store_read rd;
    ts_buf buf;
    RC_CHECK_RC(ts_get(st, "recs", "u1", 0, NOW0, &buf, &rd), RC_EMISS);
    rc_store_destroy(st);
}

static void test_tag_invalidations(void)
{
    test_tag_invalidation_rejects_fill(RC_INVAL_HARD, 1);
    test_tag_invalidation_rejects_fill(RC_INVAL_SOFT, 1);
    test_tag_invalidation_rejects_fill(RC_INVAL_HARD, 0);
    /* An invalidation of an unrelated tag does not reject the fill. */
    rc_store *st = lease_store(0);
    rc_store_lease_read a;
    RC_CHECK_RC(lget(st, "u1", NOW0, NULL, &a), 0);
    RC_CHECK_RC(rc_store_invalidate_tag(st, rc_slice_str("product:2"), RC_INVAL_HARD, NULL), 0);
    rc_store_write_result res;
    rc_store_write_result other;
    RC_CHECK_RC(fill(st, "x", "v", NULL, "product:3", NOW0, &other), 0);
    RC_CHECK_RC(fill(st, "u1", "ok", a.token, "product:3", NOW0, &res), 0);
    rc_store_destroy(st);
}

static void test_expiry_and_renewal(void)
{
    rc_store *st = lease_store(16);
    rc_store_lease_read a, b;
    RC_CHECK_RC(lget(st, "u1", NOW0, NULL, &a), 0);
    RC_CHECK_RC(lget(st, "u1", NOW0 + LEASE_MS - 1, NULL, &b), 0);
    RC_CHECK_EQ_INT(b.outcome, RC_LGET_MISS_HELD);
    /* The holder died: once the lease time has passed the next reader wins. */
    RC_CHECK_RC(lget(st, "u1", NOW0 + LEASE_MS, NULL, &b), 0);
    RC_CHECK_EQ_INT(b.outcome, RC_LGET_MISS_GRANTED);
    RC_CHECK(memcmp(a.token, b.token, RC_TOKEN_SIZE) != 0);
    rc_store_write_result res;
    RC_CHECK_RC(fill(st, "u1", "late", a.token, NULL, NOW0 + LEASE_MS, &res), RC_ELEASE_REJECTED);
    RC_CHECK_RC(fill(st, "u1", "ok", b.token, NULL, NOW0 + LEASE_MS, &res), 0);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "lease_expiries"), 1);
    rc_store_destroy(st);
}

static void test_sweep_promotes_and_frees(void)
{
    rc_store *st = lease_store(16);
    size_t baseline = ts_totals(st).bytes_used;
    rc_store_lease_read a, b;
    rc_lease_waiter w = {0};
    RC_CHECK_RC(lget(st, "u1", NOW0, NULL, &a), 0);
    RC_CHECK_RC(lget(st, "u1", NOW0, &w, &b), 0);
    RC_CHECK_RC(lget(st, "u2", NOW0, NULL, &b), 0);
    rc_lease_waiter *woken = NULL;
    rc_store_sweep(st, NOW0 + LEASE_MS - 1, 64, &woken);
    RC_CHECK(woken == NULL);
    rc_store_sweep(st, NOW0 + LEASE_MS, 64, &woken);
    RC_CHECK(woken == &w && w.outcome == RC_WAITER_PROMOTED);
    /* u2's abandoned lease is gone; u1's now belongs to the promoted reader. */
    rc_store_write_result res;
    RC_CHECK_RC(fill(st, "u1", "v", w.token, NULL, NOW0 + LEASE_MS, &res), 0);
    rc_store_key k = ts_key("recs", "u1", 0);
    RC_CHECK_RC(rc_store_delete(st, &k, NOW0 + LEASE_MS, NULL, NULL), 0);
    rc_store_sweep(st, NOW0 + 10 * LEASE_MS, 64, NULL);
    /* Every lease record was given back: only the (unchanged) structure remains charged. */
    RC_CHECK_EQ_U64(ts_totals(st).entries, 0);
    RC_CHECK(ts_totals(st).bytes_used <= baseline + 512);
    rc_store_destroy(st);
}

static void test_unpark_bounds_and_flush(void)
{
    rc_store *st = lease_store(2);
    rc_store_lease_read a, b;
    rc_lease_waiter w1 = {0}, w2 = {0}, w3 = {0};
    RC_CHECK_RC(lget(st, "u1", NOW0, NULL, &a), 0);
    RC_CHECK_RC(lget(st, "u1", NOW0, &w1, &b), 0);
    /* A timeout detaches exactly once. */
    RC_CHECK(rc_store_unpark(st, &w1, RC_WAITER_TIMED_OUT));
    RC_CHECK(!rc_store_unpark(st, &w1, RC_WAITER_TIMED_OUT));
    RC_CHECK_EQ_U64(rc_store_parked(st), 0);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "wait_timeouts"), 1);
    /* Node-wide bound: 2 parked readers. */
    RC_CHECK_RC(lget(st, "u1", NOW0, &w1, &b), 0);
    RC_CHECK_RC(lget(st, "u1", NOW0, &w2, &b), 0);
    RC_CHECK_RC(lget(st, "u1", NOW0, &w3, &b), RC_ETOO_MANY_WAITERS);
    RC_CHECK(w3.lease == NULL);
    /* Flush cancels every lease; parked readers are told to retry. */
    rc_lease_waiter *woken = NULL;
    rc_store_flush(st, &woken);
    RC_CHECK_EQ_U64(woken_count(woken, RC_WAITER_CANCELLED), 2);
    RC_CHECK_EQ_U64(rc_store_parked(st), 0);
    rc_store_write_result res;
    RC_CHECK_RC(fill(st, "u1", "v", a.token, NULL, NOW0, &res), RC_ELEASE_REJECTED);
    rc_store_destroy(st);
}

static void test_plain_set_releases(void)
{
    rc_store *st = lease_store(16);
    rc_store_lease_read a, b;
    rc_lease_waiter w = {0};
    RC_CHECK_RC(lget(st, "u1", NOW0, NULL, &a), 0);
    RC_CHECK_RC(lget(st, "u1", NOW0, &w, &b), 0);
    rc_store_write_result res;
    RC_CHECK_RC(fill(st, "u1", "plain", NULL, NULL, NOW0, &res), 0);
    RC_CHECK(res.woken == &w && w.outcome == RC_WAITER_RELEASED);
    /* The slower holder can no longer overwrite the newer plain write. */
    RC_CHECK_RC(fill(st, "u1", "slow", a.token, NULL, NOW0, &res), RC_ELEASE_REJECTED);
    RC_CHECK(ts_has(st, "recs", "u1", 0, NOW0, "plain"));
    rc_store_destroy(st);
}

static void test_stale_serves_and_leases_once(void)
{
    rc_store *st = lease_store(0);
    rc_store_key k = ts_key("recs", "u1", 0);
    rc_store_write w = ts_write("old", 100);
    w.stale_ms = 1000;
    rc_store_write_result res;
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), 0);
    rc_store_lease_read a, b;
    RC_CHECK_RC(lget(st, "u1", NOW0 + 50, NULL, &a), 0);
    RC_CHECK(a.outcome == RC_LGET_HIT && a.read.state == RC_STATE_FRESH &&
             a.lease == RC_LEASE_NONE);
    RC_CHECK_RC(lget(st, "u1", NOW0 + 150, NULL, &a), 0);
    RC_CHECK(a.outcome == RC_LGET_HIT && a.read.state == RC_STATE_STALE);
    RC_CHECK_EQ_INT(a.lease, RC_LEASE_GRANTED);
    RC_CHECK_RC(lget(st, "u1", NOW0 + 151, NULL, &b), 0);
    RC_CHECK(b.outcome == RC_LGET_HIT && b.read.state == RC_STATE_STALE);
    RC_CHECK_EQ_INT(b.lease, RC_LEASE_HELD);
    RC_CHECK_RC(fill(st, "u1", "new", a.token, NULL, NOW0 + 160, &res), 0);
    RC_CHECK(ts_has(st, "recs", "u1", 0, NOW0 + 161, "new"));
    rc_store_destroy(st);
}

static void test_early_refresh_once(void)
{
    rc_store *st = lease_store(0);
    char err[128];
    RC_CHECK_RC(rc_store_ns_configure(st, rc_slice_str("recs"),
                                      rc_slice_str("early-refresh=1000000"), err, sizeof(err)),
                0);
    rc_store_key k = ts_key("recs", "u1", 0);
    rc_store_write w = ts_write("v", 2000000);
    rc_store_write_result res;
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), 0);
    rc_store_lease_read r;
    /* Outside the window: never. */
    for (int i = 0; i < 100; i++) {
        RC_CHECK_RC(lget(st, "u1", NOW0, NULL, &r), 0);
        RC_CHECK_EQ_INT(r.lease, RC_LEASE_NONE);
    }
    /* One millisecond before expiry the chance is ~1: one reader refreshes, the rest just read. */
    int granted = 0;
    for (int i = 0; i < 100; i++) {
        RC_CHECK_RC(lget(st, "u1", NOW0 + 2000000 - 1, NULL, &r), 0);
        RC_CHECK(r.outcome == RC_LGET_HIT && r.read.state == RC_STATE_FRESH);
        granted += r.lease == RC_LEASE_GRANTED;
    }
    RC_CHECK_EQ_INT(granted, 1);
    rc_store_destroy(st);
}

/* ---- a herd of threads ---------------------------------------------------------- */

typedef struct herd {
    rc_store *st;
    pthread_barrier_t start;
    int granted;
    int held;
    pthread_mutex_t lock;
} herd;

static void *herd_reader(void *arg)
{
    herd *h = arg;
    pthread_barrier_wait(&h->start);
    for (int i = 0; i < 200; i++) {
        rc_store_lease_read r;
        RC_CHECK_RC(lget(h->st, "hot", NOW0, NULL, &r), 0);
        pthread_mutex_lock(&h->lock);
        h->granted += r.outcome == RC_LGET_MISS_GRANTED;
        h->held += r.outcome == RC_LGET_MISS_HELD;
        pthread_mutex_unlock(&h->lock);
    }
    return NULL;
}

static void test_herd_one_grant(void)
{
    herd h = {.st = lease_store(0)};
    enum { THREADS = 8 };
    pthread_t t[THREADS];
    pthread_barrier_init(&h.start, NULL, THREADS);
    pthread_mutex_init(&h.lock, NULL);
    for (int i = 0; i < THREADS; i++)
        RC_CHECK_EQ_INT(pthread_create(&t[i], NULL, herd_reader, &h), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    RC_CHECK_EQ_INT(h.granted, 1);
    RC_CHECK_EQ_INT(h.held, THREADS * 200 - 1);
    pthread_barrier_destroy(&h.start);
    pthread_mutex_destroy(&h.lock);
    rc_store_destroy(h.st);
}

int main(void)
{
    RC_TEST_RUN(test_grant_park_fill);
    RC_TEST_RUN(test_tokens_are_unpredictable);
    RC_TEST_RUN(test_delete_promotes);
    RC_TEST_RUN(test_key_invalidation_promotes);
    RC_TEST_RUN(test_bump_rejects_fill);
    RC_TEST_RUN(test_tag_invalidations);
    RC_TEST_RUN(test_expiry_and_renewal);
    RC_TEST_RUN(test_sweep_promotes_and_frees);
    RC_TEST_RUN(test_unpark_bounds_and_flush);
    RC_TEST_RUN(test_plain_set_releases);
    RC_TEST_RUN(test_stale_serves_and_leases_once);
    RC_TEST_RUN(test_early_refresh_once);
    RC_TEST_RUN(test_herd_one_grant);
    return 0;
}
