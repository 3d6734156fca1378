/*
 * test_tags_merge.c - tag stamps merged between stores (rc_store_sync.h):
 * the X/Y counterexample that per-node counters lose, idempotence (a merge
 * that brings nothing new raises nothing, so gossip stops), soft merges,
 * names no entry carries, lease fills refused after a raising merge, the
 * clock observing merged stamps, and the snapshot listings.
 *
 * Two stores stand for two nodes; "sending" node B's state to node A is
 * listing B's tags and merging each into A, as a PEER_SYNC snapshot does.
 */
#include <stdio.h>
#include <string.h>

#include "rc_store_sync.h"
#include "rc_test.h"
#include "recache/rc_errors.h"
#include "test_store_util.h"

#define NOW0 1000000u

static int set_tagged(rc_store *st, const char *key, const char *value, const char *tag,
                      const uint8_t *token)
{
    uint8_t list[130];
    rc_slice one = rc_slice_str(tag);
    long n = rc_list_encode(&one, 1, list, sizeof(list));
    RC_CHECK(n > 0);
    rc_store_key k = ts_key("recs", key, 0);
    rc_store_write w = ts_write(value, 0);
    rc_store_write_result res;
    w.tags = (rc_slice){list, (uint32_t)n};
    w.ntags = 1;
    w.token = token;
    return rc_store_set(st, &k, &w, NOW0, &res);
}

/* 0 fresh, 1 stale, -1 miss. */
static int state_of(rc_store *st, const char *key)
{
    ts_buf buf;
    rc_store_read rd;
    int rc = ts_get(st, "recs", key, 0, NOW0, &buf, &rd);
    if (rc == RC_EMISS)
        return -1;
    RC_CHECK_RC(rc, 0);
    return rd.state == RC_STATE_FRESH ? 0 : 1;
}

/* Send every invalidated tag of `from` to `to` (one snapshot); returns how many raised. */
static int send_tags(rc_store *from, rc_store *to)
{
    rc_tag_state states[16];
    uint32_t cursor = 0;
    int raised_count = 0;
    while (cursor < rc_store_tag_id_limit(from)) {
        size_t n = rc_store_list_tags(from, &cursor, states, 16);
        for (size_t i = 0; i < n; i++) {
            unsigned raised;
            rc_slice name = {states[i].name, states[i].name_len};
            RC_CHECK_RC(rc_store_merge_tag(to, name, states[i].hard, states[i].any, &raised), 0);
            raised_count += raised != 0;
        }
    }
    return raised_count;
}

/*
 * X reaches only A, a later Y of the same tag reaches only B.  Counters
 * would stand at 1 on both nodes and a max-merge would change nothing, so
 * A's entry written between X and Y would survive Y.  With stamps, after
 * both merges every entry written before Y is dead on both nodes.
 */
static void test_x_y_counterexample(void)
{
    rc_store *a = ts_store(1 << 20, 2, 1024), *b = ts_store(1 << 20, 2, 1024);
    RC_CHECK_RC(set_tagged(a, "a-before-x", "v", "product:1", NULL), 0);
    RC_CHECK_RC(set_tagged(b, "b-before-x", "v", "product:1", NULL), 0);
    uint64_t x, y;
    RC_CHECK_RC(rc_store_invalidate_tag(a, rc_slice_str("product:1"), RC_INVAL_HARD, &x), 0);
    /* Written after X (B's clock has seen A's stamps through an earlier exchange). */
    rc_store_observe(b, x);
    RC_CHECK_RC(set_tagged(a, "a-between", "v", "product:1", NULL), 0);
    RC_CHECK_RC(set_tagged(b, "b-between", "v", "product:1", NULL), 0);
    RC_CHECK_RC(rc_store_invalidate_tag(b, rc_slice_str("product:1"), RC_INVAL_HARD, &y), 0);
    RC_CHECK(y > x);
    /* Written after Y: keeps B's record live (a snapshot lists tags some entry carries; the
     * control log carries the others, tested over the wire in test_cluster_peers). */
    RC_CHECK_RC(set_tagged(b, "b-after-y", "v", "product:1", NULL), 0);
    /* Before the merge: each node saw only its own invalidation. */
    RC_CHECK_EQ_INT(state_of(a, "a-before-x"), -1);
    RC_CHECK_EQ_INT(state_of(a, "a-between"), 0); /* Y has not reached A */
    RC_CHECK_EQ_INT(state_of(b, "b-before-x"), -1);
    RC_CHECK_EQ_INT(state_of(b, "b-between"), -1);

    RC_CHECK_EQ_INT(send_tags(b, a), 1); /* Y raises A */
    RC_CHECK_EQ_INT(send_tags(a, b), 0); /* A's state (now Y) brings B nothing new */
    RC_CHECK_EQ_INT(state_of(a, "a-before-x"), -1);
    RC_CHECK_EQ_INT(state_of(a, "a-between"), -1); /* the entry counters would have kept */
    RC_CHECK_EQ_INT(state_of(b, "b-between"), -1);
    RC_CHECK_EQ_INT(state_of(b, "b-after-y"), 0);
    /* Converged: sending again raises nothing, either way. */
    RC_CHECK_EQ_INT(send_tags(b, a), 0);
    RC_CHECK_EQ_INT(send_tags(a, b), 0);
    /* Written after the merge: stamped above Y on both nodes, so fresh. */
    RC_CHECK_RC(set_tagged(a, "a-after", "v", "product:1", NULL), 0);
    RC_CHECK_RC(set_tagged(b, "b-after", "v", "product:1", NULL), 0);
    RC_CHECK_EQ_INT(state_of(a, "a-after"), 0);
    RC_CHECK_EQ_INT(state_of(b, "b-after"), 0);
    rc_store_destroy(a);
    rc_store_destroy(b);
}

/* The reverse order of arrival gives the same result: the merge is a max. */
static void test_merge_order_does_not_matter(void)
{
    rc_store *a = ts_store(1 << 20, 1, 1024);
    RC_CHECK_RC(set_tagged(a, "k", "v", "t", NULL), 0);
    uint64_t s1 = rc_store_clock_now(a) + 10, s2 = s1 + 10;
    unsigned raised;
    RC_CHECK_RC(rc_store_merge_tag(a, rc_slice_str("t"), s2, s2, &raised), 0);
    RC_CHECK_EQ_INT(raised, RC_TAGS_RAISED_HARD | RC_TAGS_RAISED_ANY);
    RC_CHECK_RC(rc_store_merge_tag(a, rc_slice_str("t"), s1, s1, &raised), 0);
    RC_CHECK_EQ_INT(raised, 0);
    rc_tag_state st;
    uint32_t cursor = 0;
    RC_CHECK_EQ_INT(rc_store_list_tags(a, &cursor, &st, 1), 1);
    RC_CHECK_EQ_U64(st.hard, s2);
    RC_CHECK_EQ_U64(st.any, s2);
    RC_CHECK_EQ_INT(state_of(a, "k"), -1);
    /* The clock observed s2: the next write is stamped above it, so it is fresh. */
    RC_CHECK(rc_store_clock_now(a) > s2);
    RC_CHECK_RC(set_tagged(a, "k2", "v", "t", NULL), 0);
    RC_CHECK_EQ_INT(state_of(a, "k2"), 0);
    rc_store_destroy(a);
}

static void test_soft_merge(void)
{
    rc_store *a = ts_store(1 << 20, 1, 1024);
    RC_CHECK_RC(set_tagged(a, "k", "v", "t", NULL), 0);
    uint64_t s = rc_store_clock_now(a) + 1;
    unsigned raised;
    RC_CHECK_RC(rc_store_merge_tag(a, rc_slice_str("t"), 0, s, &raised), 0);
    RC_CHECK_EQ_INT(raised, RC_TAGS_RAISED_ANY);
    RC_CHECK_EQ_INT(state_of(a, "k"), 1);
    /* A later hard stamp on top of it kills. */
    RC_CHECK_RC(rc_store_merge_tag(a, rc_slice_str("t"), s + 1, s + 1, &raised), 0);
    RC_CHECK_EQ_INT(raised, RC_TAGS_RAISED_HARD | RC_TAGS_RAISED_ANY);
    RC_CHECK_EQ_INT(state_of(a, "k"), -1);
    /* An empty name is refused; one longer than the limit is ignored. */
    RC_CHECK_RC(rc_store_merge_tag(a, rc_slice_str(""), s, s, &raised), RC_ETAG_TOO_LONG);
    char longtag[200];
    memset(longtag, 'x', sizeof(longtag) - 1);
    longtag[sizeof(longtag) - 1] = '\0';
    RC_CHECK_RC(rc_store_merge_tag(a, rc_slice_str(longtag), s + 5, s + 5, &raised), 0);
    RC_CHECK_EQ_INT(raised, 0);
    rc_store_destroy(a);
}

/* A name nobody carries allocates nothing; a repeat of it raises nothing. */
static void test_unknown_name(void)
{
    rc_store *a = ts_store(1 << 20, 1, 1024);
    uint64_t s = rc_store_clock_now(a) + 1;
    unsigned raised;
    RC_CHECK_RC(rc_store_merge_tag(a, rc_slice_str("nobody"), s, s, &raised), 0);
    RC_CHECK(raised != 0);
    RC_CHECK_EQ_INT(ts_totals(a).tags_live, 0);
    RC_CHECK_RC(rc_store_merge_tag(a, rc_slice_str("nobody"), s, s, &raised), 0);
    RC_CHECK_EQ_INT(raised, 0);
    /* An entry written now is stamped after the merge: fresh. */
    RC_CHECK_RC(set_tagged(a, "k", "v", "nobody", NULL), 0);
    RC_CHECK_EQ_INT(state_of(a, "k"), 0);
    rc_store_destroy(a);
}

/* A merge that raised a fill's tag after the grant refuses the fill, like a local invalidation. */
static void test_raising_merge_rejects_fill(void)
{
    rc_store_config cfg = ts_config(1 << 20, 1, 1024);
    cfg.max_waiters = 4;
    rc_store *a = NULL;
    RC_CHECK_RC(rc_store_create(&cfg, &a), 0);
    rc_store_key k = ts_key("recs", "u1", 0);
    rc_store_lease_opts o = {.lease_ms = 1000, .max_waiters_key = 1};
    rc_store_lease_read lr;
    ts_buf buf;
    RC_CHECK_RC(rc_store_lget(a, &k, &o, NOW0, ts_sink, &buf, &lr), 0);
    RC_CHECK_EQ_INT(lr.outcome, RC_LGET_MISS_GRANTED);
    /* A stamp below everything this store wrote still counts: the fill cannot tell. */
    unsigned raised;
    RC_CHECK_RC(rc_store_merge_tag(a, rc_slice_str("product:1"), 5, 5, &raised), 0);
    RC_CHECK(raised != 0);
    RC_CHECK_RC(set_tagged(a, "u1", "late", "product:1", lr.token), RC_ELEASE_REJECTED);
    RC_CHECK_EQ_INT(state_of(a, "u1"), -1);
    rc_store_destroy(a);
}

/* Snapshot listings: versions above 1 and invalidated tags, resumable by cursor. */
static void test_listings(void)
{
    rc_store *a = ts_store(1 << 20, 1, 1024);
    RC_CHECK_RC(rc_store_bump(a, rc_slice_str("n1"), 5, NULL), 0);
    RC_CHECK_RC(rc_store_bump(a, rc_slice_str("n2"), 1, NULL), 0); /* stays at 1: not listed */
    RC_CHECK_RC(rc_store_bump(a, rc_slice_str("n3"), 0, NULL), 0); /* 2 */
    rc_ns_state ns[4];
    uint32_t cursor = 0;
    size_t got = 0;
    while (cursor < rc_store_ns_id_limit(a))
        got += rc_store_list_versions(a, &cursor, ns + got, 1);
    RC_CHECK_EQ_INT(got, 2);
    RC_CHECK_MEM(ns[0].name, ns[0].name_len, "n1", 2);
    RC_CHECK_EQ_U64(ns[0].version, 5);
    RC_CHECK_MEM(ns[1].name, ns[1].name_len, "n3", 2);
    RC_CHECK_EQ_U64(ns[1].version, 2);

    RC_CHECK_RC(set_tagged(a, "k1", "v", "never", NULL), 0);
    RC_CHECK_RC(set_tagged(a, "k2", "v", "soft", NULL), 0);
    uint64_t s;
    RC_CHECK_RC(rc_store_invalidate_tag(a, rc_slice_str("soft"), RC_INVAL_SOFT, &s), 0);
    rc_tag_state tags[4];
    uint32_t tc = 0;
    RC_CHECK_EQ_INT(rc_store_list_tags(a, &tc, tags, 4), 1); /* "never" was never invalidated */
    RC_CHECK_MEM(tags[0].name, tags[0].name_len, "soft", 4);
    RC_CHECK_EQ_U64(tags[0].hard, 0);
    RC_CHECK_EQ_U64(tags[0].any, s);
    RC_CHECK(tc >= rc_store_tag_id_limit(a));
    rc_store_destroy(a);
}

int main(void)
{
    RC_TEST_RUN(test_x_y_counterexample);
    RC_TEST_RUN(test_merge_order_does_not_matter);
    RC_TEST_RUN(test_soft_merge);
    RC_TEST_RUN(test_unknown_name);
    RC_TEST_RUN(test_raising_merge_rejects_fill);
    RC_TEST_RUN(test_listings);
    return 0;
}
