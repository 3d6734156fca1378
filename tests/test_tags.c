/*
 * test_tags.c - tag invalidation: hard versus soft, many tags per entry,
 * limits (nothing stored on error), record lifetime (freed with its last
 * entry, an invalidated entry never comes back), tombstones through tags.
 * Invalidations answer with their HLC stamp: non-zero, strictly increasing
 * on one store, known tag or not.
 */
#include <stdio.h>
#include <string.h>

#include "rc_test.h"
#include "recache/rc_errors.h"
#include "test_store_util.h"

#define NOW0 1000000u

/* Write key with the given tags (NULL-terminated list). */
static int set_tagged(rc_store *st, const char *key, const char *value, uint64_t version,
                      const char *const *tags)
{
    rc_slice names[64];
    uint8_t enc[64 * 256];
    size_t n = 0;
    while (tags && tags[n]) {
        names[n] = rc_slice_str(tags[n]);
        n++;
    }
    long len = rc_list_encode(names, n, enc, sizeof(enc));
    RC_CHECK(len >= 0);
    rc_store_key k = ts_key("recs", key, 0);
    rc_store_write w = ts_write(value, 0);
    rc_store_write_result res;
    w.entry_version = version;
    w.ntags = (uint8_t)n;
    w.tags.ptr = enc;
    w.tags.len = (uint32_t)len;
    return rc_store_set(st, &k, &w, NOW0, &res);
}

/* The stamp of the previous invalidate() call on the same store: each must be above it. */
static uint64_t last_stamp;
static const rc_store *last_store;

static uint64_t invalidate(rc_store *st, const char *tag, uint8_t mode)
{
    uint64_t stamp = 0;
    RC_CHECK_RC(rc_store_invalidate_tag(st, rc_slice_str(tag), mode, &stamp), 0);
    RC_CHECK(stamp > 0);
    if (st == last_store)
        RC_CHECK(stamp > last_stamp);
    last_store = st;
    last_stamp = stamp;
    return stamp;
}

static void test_hard_and_soft(void)
{
    rc_store *st = ts_store(1 << 20, 4, 1024);
    const char *const product[] = {"product:QL2000", NULL};
    const char *const segment[] = {"segment:eu", NULL};
    ts_buf buf;
    rc_store_read rd;
    RC_CHECK_RC(set_tagged(st, "u1", "list-a", 0, product), 0);
    RC_CHECK_RC(set_tagged(st, "u2", "list-b", 0, segment), 0);
    RC_CHECK_EQ_INT(ts_totals(st).tags_live, 2);

    invalidate(st, "segment:eu", RC_INVAL_SOFT);
    RC_CHECK_RC(ts_get(st, "recs", "u2", 0, NOW0, &buf, &rd), 0);
    RC_CHECK_EQ_INT(rd.state, RC_STATE_STALE);
    RC_CHECK_MEM(buf.data, buf.len, "list-b", 6);
    RC_CHECK_RC(ts_get(st, "recs", "u1", 0, NOW0, &buf, &rd), 0);
    RC_CHECK_EQ_INT(rd.state, RC_STATE_FRESH);

    invalidate(st, "product:QL2000", RC_INVAL_HARD);
    RC_CHECK_RC(ts_get(st, "recs", "u1", 0, NOW0, &buf, &rd), RC_EMISS);
    /* A hard invalidation after a soft one: now a miss. */
    invalidate(st, "segment:eu", RC_INVAL_HARD);
    RC_CHECK_RC(ts_get(st, "recs", "u2", 0, NOW0, &buf, &rd), RC_EMISS);
    RC_CHECK_EQ_INT(ts_totals(st).entries, 0);
    RC_CHECK_EQ_INT(ts_totals(st).tags_live, 0);

    /* Rewriting after an invalidation gives a fresh entry. */
    RC_CHECK_RC(set_tagged(st, "u1", "list-c", 0, product), 0);
    RC_CHECK(ts_has(st, "recs", "u1", 0, NOW0, "list-c"));
    RC_CHECK_RC(ts_get(st, "recs", "u1", 0, NOW0, &buf, &rd), 0);
    RC_CHECK_EQ_INT(rd.state, RC_STATE_FRESH);
    RC_CHECK_RC(rc_store_invalidate_tag(st, rc_slice_str("x"), 5, NULL), RC_EBAD_ARGUMENT);
    rc_store_destroy(st);
    last_store = NULL; /* a new store may reuse the address */
}

static void test_entry_with_32_tags(void)
{
    rc_store *st = ts_store(1 << 20, 1, 1024);
    char names[32][16];
    const char *tags[33];
    for (int i = 0; i < 32; i++) {
        snprintf(names[i], sizeof(names[i]), "item:%d", i);
        tags[i] = names[i];
    }
    tags[32] = NULL;
    RC_CHECK_RC(set_tagged(st, "many", "v", 0, tags), 0);
    const char *const first_only[] = {"item:0", NULL};
    RC_CHECK_RC(set_tagged(st, "one", "v", 0, first_only), 0);
    RC_CHECK_EQ_INT(ts_totals(st).tags_live, 32);
    /* Invalidating the 31st tag kills "many" but not "one". */
    invalidate(st, "item:30", RC_INVAL_HARD);
    ts_buf buf;
    rc_store_read rd;
    RC_CHECK_RC(ts_get(st, "recs", "many", 0, NOW0, &buf, &rd), RC_EMISS);
    RC_CHECK(ts_has(st, "recs", "one", 0, NOW0, "v"));
    RC_CHECK_EQ_INT(ts_totals(st).tags_live, 1);
    rc_store_destroy(st);
    last_store = NULL; /* a new store may reuse the address */
}

static void test_limits_store_nothing(void)
{
    rc_store *st = ts_store(1 << 20, 1, 1024);
    char names[33][16];
    const char *tags[34];
    for (int i = 0; i < 33; i++) {
        snprintf(names[i], sizeof(names[i]), "t%d", i);
        tags[i] = names[i];
    }
    tags[33] = NULL;
    RC_CHECK_RC(set_tagged(st, "k", "v", 0, tags), RC_ETOO_MANY_TAGS);
    char longtag[130];
    memset(longtag, 'x', 129);
    longtag[129] = '\0';
    const char *const too_long[] = {"ok", longtag, NULL};
    RC_CHECK_RC(set_tagged(st, "k", "v", 0, too_long), RC_ETAG_TOO_LONG);
    longtag[128] = '\0';
    rc_store_totals tot = ts_totals(st);
    RC_CHECK_EQ_INT(tot.entries, 0);
    RC_CHECK_EQ_INT(tot.tags_live, 0);
    /* 128 bytes is within the limit. */
    const char *const at_limit[] = {longtag, NULL};
    RC_CHECK_RC(set_tagged(st, "k", "v", 0, at_limit), 0);
    /* Invalidation applies the same length limit. */
    char longer[200];
    memset(longer, 'y', 199);
    longer[199] = '\0';
    RC_CHECK_RC(rc_store_invalidate_tag(st, rc_slice_str(longer), RC_INVAL_HARD, NULL),
                RC_ETAG_TOO_LONG);

    /* A malformed list encoding is refused. */
    rc_store_key k = ts_key("recs", "bad", 0);
    rc_store_write w = ts_write("v", 0);
    rc_store_write_result res;
    const uint8_t broken[] = {5, 'a', 'b'};
    w.ntags = 1;
    w.tags.ptr = broken;
    w.tags.len = sizeof(broken);
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), RC_EBAD_ARGUMENT);
    const uint8_t empty_tag[] = {0};
    w.tags.ptr = empty_tag;
    w.tags.len = sizeof(empty_tag);
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), RC_ETAG_TOO_LONG);
    RC_CHECK_EQ_INT(ts_totals(st).entries, 1);
    rc_store_destroy(st);
    last_store = NULL; /* a new store may reuse the address */
}

static void test_record_lifetime(void)
{
    rc_store *st = ts_store(1 << 20, 1, 1024);
    const char *const x[] = {"x", NULL};
    ts_buf buf;
    rc_store_read rd;
    /* Nobody carries "x": stamped, but nothing is allocated. */
    invalidate(st, "x", RC_INVAL_HARD);
    RC_CHECK_EQ_INT(ts_totals(st).tags_live, 0);

    RC_CHECK_RC(set_tagged(st, "a", "old", 0, x), 0);
    invalidate(st, "x", RC_INVAL_HARD);
    /* "a" is dead but still holds the record; "b" written now shares it, fresh. */
    RC_CHECK_RC(set_tagged(st, "b", "new", 0, x), 0);
    RC_CHECK_EQ_INT(ts_totals(st).tags_live, 1);
    RC_CHECK_RC(ts_get(st, "recs", "a", 0, NOW0, &buf, &rd), RC_EMISS);
    RC_CHECK(ts_has(st, "recs", "b", 0, NOW0, "new"));

    /* Last carrier gone: the record is freed. */
    rc_store_key kb = ts_key("recs", "b", 0);
    RC_CHECK_RC(rc_store_delete(st, &kb, NOW0, NULL, NULL), 0);
    RC_CHECK_EQ_INT(ts_totals(st).tags_live, 0);
    invalidate(st, "x", RC_INVAL_SOFT);
    RC_CHECK_EQ_INT(ts_totals(st).tags_live, 0);

    /* A new carrier gets a fresh record (stamps 0); "a" never comes back. */
    RC_CHECK_RC(set_tagged(st, "c", "newest", 0, x), 0);
    RC_CHECK(ts_has(st, "recs", "c", 0, NOW0, "newest"));
    RC_CHECK_RC(ts_get(st, "recs", "a", 0, NOW0, &buf, &rd), RC_EMISS);
    invalidate(st, "x", RC_INVAL_SOFT);
    RC_CHECK_RC(ts_get(st, "recs", "c", 0, NOW0, &buf, &rd), 0);
    RC_CHECK_EQ_INT(rd.state, RC_STATE_STALE);
    rc_store_destroy(st);
    last_store = NULL; /* a new store may reuse the address */
}

static void test_hard_tag_leaves_tombstone(void)
{
    rc_store *st = ts_store(1 << 20, 1, 1024);
    const char *const p[] = {"product:1", NULL};
    RC_CHECK_RC(set_tagged(st, "k", "v9", 9, p), 0);
    invalidate(st, "product:1", RC_INVAL_HARD);
    /* A slow writer holding version 8 must not put its value back. */
    rc_store_key k = ts_key("recs", "k", 0);
    rc_store_write w = ts_write("v8", 0);
    rc_store_write_result res;
    w.cond = RC_COND_IF_NEWER;
    w.entry_version = 8;
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), RC_ENOT_NEWER);
    RC_CHECK_EQ_U64(res.entry_version, 9);
    ts_buf buf;
    rc_store_read rd;
    RC_CHECK_RC(ts_get(st, "recs", "k", 0, NOW0, &buf, &rd), RC_EMISS);
    /* The tombstone holds no tag reference. */
    RC_CHECK_EQ_INT(ts_totals(st).tags_live, 0);
    w.entry_version = 10;
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), 0);
    RC_CHECK(ts_has(st, "recs", "k", 0, NOW0, "v8"));
    rc_store_destroy(st);
    last_store = NULL; /* a new store may reuse the address */
}

static void test_hard_invalidation_reclaimed_first(void)
{
    /* The hand frees hard-invalidated entries before evicting live ones. */
    rc_store *st = ts_store(32 * 1024, 1, 512);
    const char *const doomed[] = {"doomed", NULL};
    char key[32];
    int n = 0;
    while (ts_totals(st).evictions == 0) {
        snprintf(key, sizeof(key), "d%d", n++);
        RC_CHECK_RC(set_tagged(st, key, "doomed-value", 0, doomed), 0);
    }
    uint64_t evictions = ts_totals(st).evictions;
    invalidate(st, "doomed", RC_INVAL_HARD);
    for (int i = 0; i < n / 2; i++) {
        snprintf(key, sizeof(key), "live%d", i);
        RC_CHECK_RC(set_tagged(st, key, "live-value", 0, NULL), 0);
        ts_check_within_limit(st);
    }
    RC_CHECK_EQ_U64(ts_totals(st).evictions, evictions);
    /* The reclaim pass is incremental (a bounded number of ring slots per
     * eviction, never one full scan): it has finished within 4n more writes,
     * and no step ever examined more than its bound. */
    for (int i = 0; i < 4 * n && ts_totals(st).tags_live > 0; i++) {
        snprintf(key, sizeof(key), "more%d", i);
        RC_CHECK_RC(set_tagged(st, key, "live-value", 0, NULL), 0);
    }
    RC_CHECK_EQ_INT(ts_totals(st).tags_live, 0);
    RC_CHECK(ts_totals(st).reclaim_scan_max <= 64);
    rc_store_destroy(st);
    last_store = NULL; /* a new store may reuse the address */
}

int main(void)
{
    RC_TEST_RUN(test_hard_and_soft);
    RC_TEST_RUN(test_entry_with_32_tags);
    RC_TEST_RUN(test_limits_store_nothing);
    RC_TEST_RUN(test_record_lifetime);
    RC_TEST_RUN(test_hard_tag_leaves_tombstone);
    RC_TEST_RUN(test_hard_invalidation_reclaimed_first);
    return 0;
}
