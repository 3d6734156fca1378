/*
 * test_store.c - the store's core: reads, writes, conditions, tombstones,
 * TTLs, limits, memory accounting, CLOCK eviction and the "obsolete first"
 * rule.  Time is passed in by hand (now), so expiry is tested to the
 * millisecond without sleeping.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rc_hlc.h"
#include "rc_test.h"
#include "recache/rc_errors.h"
#include "test_store_util.h"

#define NOW0 1000000u

/* Every write is stamped by the store's hybrid logical clock: increasing, and dated. */
static void test_write_stamps(void)
{
    rc_store *st = ts_store(1 << 20, 1, 100);
    uint64_t before = rc_hlc_wall_ms();
    RC_CHECK_RC(ts_set(st, "recs", "a", "1", NOW0), 0);
    RC_CHECK_RC(ts_set(st, "recs", "b", "2", NOW0), 0);
    uint64_t after = rc_hlc_wall_ms();
    ts_buf buf;
    rc_store_read a, b;
    RC_CHECK_RC(ts_get(st, "recs", "a", 0, NOW0, &buf, &a), 0);
    RC_CHECK_RC(ts_get(st, "recs", "b", 0, NOW0, &buf, &b), 0);
    RC_CHECK(a.written < b.written);
    RC_CHECK(rc_hlc_ms(a.written) >= before && rc_hlc_ms(b.written) <= after);
    rc_store_destroy(st);

    /* A clock that observed a stamp from the future stamps above it. */
    rc_hlc c;
    rc_hlc_init(&c);
    uint64_t future = (rc_hlc_wall_ms() + 60000u) << RC_HLC_LOGICAL_BITS;
    rc_hlc_observe(&c, future);
    uint64_t s1 = rc_hlc_now(&c), s2 = rc_hlc_now(&c);
    RC_CHECK(s1 > future && s2 > s1);
}

static void test_create_rejects_impossible_configs(void)
{
    rc_store *st = NULL;
    rc_store_config cfg = ts_config(0, 1, 100);
    RC_CHECK_RC(rc_store_create(&cfg, &st), RC_EINVAL);
    cfg = ts_config(1 << 20, 3, 100);
    RC_CHECK_RC(rc_store_create(&cfg, &st), RC_EINVAL);
    cfg = ts_config(1 << 20, 8192, 100);
    RC_CHECK_RC(rc_store_create(&cfg, &st), RC_EINVAL);
    cfg = ts_config(64 * 1024, 1, 1 << 20); /* one max-size value cannot fit */
    RC_CHECK_RC(rc_store_create(&cfg, &st), RC_EINVAL);
    cfg = ts_config(1 << 20, 1, 100);
    cfg.max_namespaces = 0;
    RC_CHECK_RC(rc_store_create(&cfg, &st), RC_EINVAL);
    RC_CHECK(st == NULL);
}

static void test_auto_shard_count(void)
{
    /*
     * With 1 MiB values, 250-byte keys and 32 tags of 128 bytes, the largest
     * entry is charged a little over 1 MiB, so a shard needs just over 4 MiB.
     */
    struct {
        size_t limit;
        uint32_t shards;
    } cases[] = {
        {(size_t)2 << 30, 256}, /* 8 MiB per shard at the 256 cap */
        {(size_t)1 << 30, 128}, /* 256 shards would be 4 MiB: too small */
        {(size_t)64 << 20, 8},
        {(size_t)8 << 20, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rc_store_config cfg = ts_config(cases[i].limit, 0, 1u << 20);
        rc_store *st;
        RC_CHECK_RC(rc_store_create(&cfg, &st), 0);
        RC_CHECK_EQ_INT(ts_totals(st).nshards, cases[i].shards);
        rc_store_destroy(st);
    }
    /* Too small for even one shard holding one max entry. */
    rc_store_config cfg = ts_config((size_t)1 << 20, 0, 1u << 20);
    rc_store *st;
    RC_CHECK_RC(rc_store_create(&cfg, &st), RC_EINVAL);
}

static void test_set_get_delete_touch(void)
{
    rc_store *st = ts_store(1 << 20, 4, 1024);
    ts_buf buf;
    rc_store_read rd;
    uint64_t ver = 0;

    /* Unknown namespace: a miss at version 1, and the namespace is not created. */
    RC_CHECK_RC(ts_get(st, "recs", "u1", 0, NOW0, &buf, &rd), RC_EMISS);
    RC_CHECK_EQ_U64(rd.ns_version, 1);
    RC_CHECK_RC(rc_store_ns_info(st, rc_slice_str("recs"), NULL, 0, &ver), RC_EMISS);

    rc_store_key k = ts_key("recs", "u1", 0);
    rc_store_write w = ts_write("list-1", 0);
    w.client_flags = 0xabcd;
    w.entry_version = 7;
    rc_store_write_result res;
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), 0);
    RC_CHECK_EQ_U64(res.ns_version, 1);
    RC_CHECK_EQ_U64(res.entry_version, 7);

    RC_CHECK_RC(ts_get(st, "recs", "u1", 0, NOW0, &buf, &rd), 0);
    RC_CHECK_MEM(buf.data, buf.len, "list-1", 6);
    RC_CHECK_EQ_INT(buf.calls, 1);
    RC_CHECK_EQ_INT(rd.client_flags, 0xabcd);
    RC_CHECK_EQ_U64(rd.entry_version, 7);
    RC_CHECK_EQ_INT(rd.state, RC_STATE_FRESH);
    RC_CHECK_EQ_INT(rd.ttl_left_ms, RC_TTL_NONE);
    RC_CHECK_EQ_INT(rd.value_len, 6);
    /* A NULL sink still reports the metadata. */
    RC_CHECK_RC(rc_store_get(st, &k, NOW0, NULL, NULL, &rd), 0);
    RC_CHECK_EQ_INT(rd.value_len, 6);

    /* Overwrite replaces the value; binary-safe values. */
    rc_store_write w2 = ts_write("", 0);
    const uint8_t bin[5] = {0, 1, 0, 255, 7};
    w2.value = bin;
    w2.value_len = sizeof(bin);
    RC_CHECK_RC(rc_store_set(st, &k, &w2, NOW0, &res), 0);
    RC_CHECK_RC(ts_get(st, "recs", "u1", 0, NOW0, &buf, &rd), 0);
    RC_CHECK_MEM(buf.data, buf.len, bin, sizeof(bin));
    RC_CHECK_EQ_INT(ts_totals(st).entries, 1);

    /* Touch sets a TTL on a live entry. */
    RC_CHECK_RC(rc_store_touch(st, &k, 500, NOW0, &ver), 0);
    RC_CHECK_RC(ts_get(st, "recs", "u1", 0, NOW0 + 100, &buf, &rd), 0);
    RC_CHECK_EQ_INT(rd.ttl_left_ms, 400);
    RC_CHECK_RC(ts_get(st, "recs", "u1", 0, NOW0 + 500, &buf, &rd), RC_EMISS);
    rc_store_key missing = ts_key("recs", "nobody", 0);
    RC_CHECK_RC(rc_store_touch(st, &missing, 500, NOW0, &ver), RC_EMISS);

    /* Delete, then a second delete misses. */
    RC_CHECK_RC(ts_set(st, "recs", "u2", "x", NOW0), 0);
    rc_store_key k2 = ts_key("recs", "u2", 0);
    RC_CHECK_RC(rc_store_delete(st, &k2, NOW0, &ver, NULL), 0);
    RC_CHECK_EQ_U64(ver, 1);
    RC_CHECK_RC(ts_get(st, "recs", "u2", 0, NOW0, &buf, &rd), RC_EMISS);
    RC_CHECK_RC(rc_store_delete(st, &k2, NOW0, &ver, NULL), RC_EMISS);
    RC_CHECK_EQ_INT(ts_totals(st).entries, 0); /* unversioned: no tombstone */
    rc_store_destroy(st);
}

static void test_key_and_namespace_validation(void)
{
    rc_store *st = ts_store(1 << 20, 1, 1024);
    rc_store_write_result res;
    rc_store_write w = ts_write("v", 0);
    char longkey[252];
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[251] = '\0'; /* 251 bytes: one over max_key */
    rc_store_key k = ts_key("recs", longkey, 0);
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), RC_EKEY_TOO_LONG);
    longkey[250] = '\0';
    k = ts_key("recs", longkey, 0);
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), 0);
    k = ts_key("recs", "", 0);
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), RC_EBAD_ARGUMENT);
    k = ts_key("", "key", 0);
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), RC_EBAD_NAMESPACE);
    w.cond = 9;
    k = ts_key("recs", "key", 0);
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), RC_EBAD_ARGUMENT);
    RC_CHECK_EQ_INT(ts_totals(st).entries, 1);
    rc_store_destroy(st);
}

static void test_value_limits(void)
{
    rc_store *st = ts_store(1 << 20, 1, 1000);
    static uint8_t big[2000];
    rc_store_key k = ts_key("recs", "k", 0);
    rc_store_write w = ts_write("", 0);
    rc_store_write_result res;
    w.value = big;
    w.value_len = 1000;
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), 0);
    w.value_len = 1001;
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), RC_EVALUE_TOO_LARGE);
    /* The rejected write changed nothing: the 1000-byte value is still there. */
    rc_store_read rd;
    RC_CHECK_RC(rc_store_get(st, &k, NOW0, NULL, NULL, &rd), 0);
    RC_CHECK_EQ_INT(rd.value_len, 1000);

    /* A namespace may lower the limit; it cannot raise it. */
    char err[128];
    RC_CHECK_RC(rc_store_ns_configure(st, rc_slice_str("small"), rc_slice_str("max-value=100"), err,
                                      sizeof(err)),
                0);
    rc_store_key ks = ts_key("small", "k", 0);
    w.value_len = 100;
    RC_CHECK_RC(rc_store_set(st, &ks, &w, NOW0, &res), 0);
    w.value_len = 101;
    RC_CHECK_RC(rc_store_set(st, &ks, &w, NOW0, &res), RC_EVALUE_TOO_LARGE);
    /* Asking for more than the global limit is refused and changes nothing. */
    RC_CHECK_RC(rc_store_ns_configure(st, rc_slice_str("small"), rc_slice_str("max-value=5000"),
                                      err, sizeof(err)),
                RC_EBAD_ARGUMENT);
    RC_CHECK(strstr(err, "max-value must not exceed") != NULL);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "small", "max-value"), 100);
    RC_CHECK_RC(rc_store_ns_configure(st, rc_slice_str("small"), rc_slice_str("max-value=1000"),
                                      err, sizeof(err)),
                0);
    w.value_len = 1001;
    RC_CHECK_RC(rc_store_set(st, &ks, &w, NOW0, &res), RC_EVALUE_TOO_LARGE);
    RC_CHECK_EQ_INT(ts_totals(st).entries, 2);
    rc_store_destroy(st);
}

static int set_cond(rc_store *st, const char *key, uint8_t cond, uint64_t version, uint64_t cas,
                    uint64_t now, uint64_t *winner)
{
    rc_store_key k = ts_key("recs", key, 0);
    rc_store_write w = ts_write("value", 0);
    rc_store_write_result res;
    w.cond = cond;
    w.entry_version = version;
    w.cas_version = cas;
    int rc = rc_store_set(st, &k, &w, now, &res);
    if (winner)
        *winner = res.entry_version;
    return rc;
}

/*
 * The optional header part (version, client flags, stale window) is stored
 * only when one of them is set: every combination reads back exactly, the
 * ones without it cost less, and a tombstone keeps the version whatever else
 * its entry carried.
 */
static void test_optional_header_fields(void)
{
    rc_store *st = ts_store(1 << 20, 1, 1024);
    ts_buf buf;
    rc_store_read rd;
    size_t plain_bytes = 0;
    for (unsigned combo = 0; combo < 8; combo++) {
        char key[16];
        snprintf(key, sizeof(key), "k%u", combo);
        rc_store_key k = ts_key("recs", key, 0);
        rc_store_write w = ts_write("0123456789abcdef", 100);
        w.entry_version = (combo & 1u) ? 40u + combo : 0;
        w.client_flags = (combo & 2u) ? 0xf00du + combo : 0;
        w.stale_ms = (combo & 4u) ? 50 : 0;
        rc_store_write_result res;
        size_t before = ts_totals(st).bytes_used;
        RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), 0);
        size_t charge = ts_totals(st).bytes_used - before;
        if (combo == 0)
            plain_bytes = charge;
        else
            RC_CHECK(charge > plain_bytes);
        RC_CHECK_RC(ts_get(st, "recs", key, 0, NOW0, &buf, &rd), 0);
        RC_CHECK_MEM(buf.data, buf.len, "0123456789abcdef", 16);
        RC_CHECK_EQ_U64(rd.entry_version, w.entry_version);
        RC_CHECK_EQ_INT(rd.client_flags, w.client_flags);
        /* Past the TTL only a stale window keeps it readable. */
        RC_CHECK_RC(ts_get(st, "recs", key, 0, NOW0 + 120, &buf, &rd), (combo & 4u) ? 0 : RC_EMISS);
    }
    char key[16];
    snprintf(key, sizeof(key), "k%u", 7u); /* version 47, flags, stale: still stale-readable */
    rc_store_key k = ts_key("recs", key, 0);
    RC_CHECK_RC(rc_store_delete(st, &k, NOW0 + 120, NULL, NULL), 0);
    RC_CHECK_EQ_U64(ts_probe(st, "recs", key, NOW0 + 120), 47);
    RC_CHECK_RC(ts_get(st, "recs", key, 0, NOW0 + 120, &buf, &rd), RC_EMISS);
    rc_store_destroy(st);
}

static void test_condition_if_absent(void)
{
    rc_store *st = ts_store(1 << 20, 1, 1024);
    uint64_t winner;
    RC_CHECK_RC(set_cond(st, "a", RC_COND_IF_ABSENT, 3, 0, NOW0, &winner), 0);
    RC_CHECK_RC(set_cond(st, "a", RC_COND_IF_ABSENT, 4, 0, NOW0, &winner), RC_EEXISTS);
    RC_CHECK_EQ_U64(winner, 3);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "rejected_exists"), 1);

    /* A stale entry may be replaced by IF_ABSENT. */
    rc_store_key k = ts_key("recs", "s", 0);
    rc_store_write w = ts_write("old", 100);
    w.stale_ms = 1000;
    rc_store_write_result res;
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), 0);
    RC_CHECK_RC(set_cond(st, "s", RC_COND_IF_ABSENT, 0, 0, NOW0 + 50, NULL), RC_EEXISTS);
    RC_CHECK_RC(set_cond(st, "s", RC_COND_IF_ABSENT, 0, 0, NOW0 + 150, NULL), 0);

    /* A tombstone counts as absent. */
    rc_store_key ka = ts_key("recs", "a", 0);
    RC_CHECK_RC(rc_store_delete(st, &ka, NOW0, NULL, NULL), 0);
    RC_CHECK_RC(set_cond(st, "a", RC_COND_IF_ABSENT, 1, 0, NOW0, NULL), 0);
    rc_store_destroy(st);
}

static void test_condition_if_newer_and_tombstones(void)
{
    rc_store *st = ts_store(1 << 20, 1, 1024);
    uint64_t winner;
    ts_buf buf;
    rc_store_read rd;
    RC_CHECK_RC(set_cond(st, "k", RC_COND_IF_NEWER, 5, 0, NOW0, &winner), 0);
    RC_CHECK_RC(set_cond(st, "k", RC_COND_IF_NEWER, 4, 0, NOW0, &winner), RC_ENOT_NEWER);
    RC_CHECK_EQ_U64(winner, 5);
    RC_CHECK_RC(set_cond(st, "k", RC_COND_IF_NEWER, 5, 0, NOW0, &winner), RC_ENOT_NEWER);
    RC_CHECK_RC(set_cond(st, "k", RC_COND_IF_NEWER, 6, 0, NOW0, &winner), 0);
    RC_CHECK_EQ_U64(winner, 6);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "rejected_not_newer"), 2);

    /* Delete leaves a tombstone holding version 6 for tombstone_ms (1000). */
    rc_store_key k = ts_key("recs", "k", 0);
    RC_CHECK_RC(rc_store_delete(st, &k, NOW0, NULL, NULL), 0);
    RC_CHECK_RC(ts_get(st, "recs", "k", 0, NOW0, &buf, &rd), RC_EMISS);
    RC_CHECK_RC(rc_store_delete(st, &k, NOW0, NULL, NULL), RC_EMISS);
    RC_CHECK_EQ_INT(ts_totals(st).entries, 1);
    RC_CHECK_RC(set_cond(st, "k", RC_COND_IF_NEWER, 5, 0, NOW0 + 999, &winner), RC_ENOT_NEWER);
    RC_CHECK_EQ_U64(winner, 6);
    /* A newer version replaces the tombstone. */
    RC_CHECK_RC(set_cond(st, "k", RC_COND_IF_NEWER, 7, 0, NOW0 + 999, NULL), 0);
    RC_CHECK(ts_has(st, "recs", "k", 0, NOW0 + 999, "value"));

    /* Hard key invalidation of a versioned entry also leaves a tombstone. */
    RC_CHECK_RC(rc_store_invalidate_key(st, &k, RC_INVAL_HARD, NOW0 + 1000, NULL, NULL), 0);
    RC_CHECK_RC(ts_get(st, "recs", "k", 0, NOW0 + 1000, &buf, &rd), RC_EMISS);
    RC_CHECK_RC(set_cond(st, "k", RC_COND_IF_NEWER, 6, 0, NOW0 + 1500, NULL), RC_ENOT_NEWER);
    /* After tombstone_ms the tombstone is gone and an older version is accepted. */
    RC_CHECK_RC(set_cond(st, "k", RC_COND_IF_NEWER, 3, 0, NOW0 + 2000, NULL), 0);
    RC_CHECK_EQ_INT(ts_totals(st).entries, 1);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "invalidations_hard"), 2);
    rc_store_destroy(st);
}

static void test_condition_cas(void)
{
    rc_store *st = ts_store(1 << 20, 1, 1024);
    uint64_t winner;
    /* Missing key: mismatch. */
    RC_CHECK_RC(set_cond(st, "c", RC_COND_CAS, 2, 0, NOW0, &winner), RC_ECAS_MISMATCH);
    RC_CHECK_EQ_U64(winner, 0);
    RC_CHECK_RC(set_cond(st, "c", RC_COND_NONE, 1, 0, NOW0, NULL), 0);
    RC_CHECK_RC(set_cond(st, "c", RC_COND_CAS, 3, 2, NOW0, &winner), RC_ECAS_MISMATCH);
    RC_CHECK_EQ_U64(winner, 1);
    RC_CHECK_RC(set_cond(st, "c", RC_COND_CAS, 2, 1, NOW0, &winner), 0);
    RC_CHECK_EQ_U64(winner, 2);
    /* A stale entry is live for CAS. */
    rc_store_key k = ts_key("recs", "c", 0);
    RC_CHECK_RC(rc_store_invalidate_key(st, &k, RC_INVAL_SOFT, NOW0, NULL, NULL), 0);
    RC_CHECK_RC(set_cond(st, "c", RC_COND_CAS, 3, 2, NOW0, NULL), 0);
    /* A tombstone is not. */
    RC_CHECK_RC(rc_store_delete(st, &k, NOW0, NULL, NULL), 0);
    RC_CHECK_RC(set_cond(st, "c", RC_COND_CAS, 4, 3, NOW0, &winner), RC_ECAS_MISMATCH);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "rejected_cas"), 3);
    rc_store_destroy(st);
}

static void test_ttl_fresh_stale_gone(void)
{
    rc_store *st = ts_store(1 << 20, 1, 1024);
    ts_buf buf;
    rc_store_read rd;
    rc_store_key k = ts_key("recs", "t", 0);
    rc_store_write w = ts_write("v", 100);
    w.stale_ms = 50;
    rc_store_write_result res;
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), 0);
    RC_CHECK_RC(ts_get(st, "recs", "t", 0, NOW0 + 99, &buf, &rd), 0);
    RC_CHECK_EQ_INT(rd.state, RC_STATE_FRESH);
    RC_CHECK_EQ_INT(rd.ttl_left_ms, 1);
    RC_CHECK_RC(ts_get(st, "recs", "t", 0, NOW0 + 100, &buf, &rd), 0);
    RC_CHECK_EQ_INT(rd.state, RC_STATE_STALE);
    RC_CHECK_EQ_INT(rd.ttl_left_ms, 0);
    RC_CHECK_RC(ts_get(st, "recs", "t", 0, NOW0 + 149, &buf, &rd), 0);
    RC_CHECK_EQ_INT(rd.state, RC_STATE_STALE);
    RC_CHECK_RC(ts_get(st, "recs", "t", 0, NOW0 + 150, &buf, &rd), RC_EMISS);
    RC_CHECK_EQ_INT(ts_totals(st).entries, 0); /* reclaimed on the spot */
    RC_CHECK_RC(ts_get(st, "recs", "t", 0, NOW0 + 120, &buf, &rd), RC_EMISS);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "expirations"), 1);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "hits"), 1);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "stale_hits"), 2);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "misses"), 2);

    /* Namespace defaults: TTL 0 and RC_STALE_DEFAULT take default-ttl and stale. */
    char err[128];
    RC_CHECK_RC(rc_store_ns_configure(st, rc_slice_str("recs"),
                                      rc_slice_str("default-ttl=200\nstale=10"), err, sizeof(err)),
                0);
    w = ts_write("d", 0);
    w.stale_ms = RC_STALE_DEFAULT;
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), 0);
    RC_CHECK_RC(ts_get(st, "recs", "t", 0, NOW0 + 199, &buf, &rd), 0);
    RC_CHECK_EQ_INT(rd.state, RC_STATE_FRESH);
    RC_CHECK_RC(ts_get(st, "recs", "t", 0, NOW0 + 209, &buf, &rd), 0);
    RC_CHECK_EQ_INT(rd.state, RC_STATE_STALE);
    RC_CHECK_RC(ts_get(st, "recs", "t", 0, NOW0 + 210, &buf, &rd), RC_EMISS);

    /* An explicit stale window overrides the default, 0 included. */
    w.stale_ms = 0;
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), 0);
    RC_CHECK_RC(ts_get(st, "recs", "t", 0, NOW0 + 200, &buf, &rd), RC_EMISS);
    rc_store_destroy(st);
}

static void test_sweep_reclaims_expired(void)
{
    rc_store *st = ts_store(1 << 20, 4, 1024);
    char key[32];
    for (int i = 0; i < 200; i++) {
        rc_store_key k;
        snprintf(key, sizeof(key), "k%d", i);
        k = ts_key("recs", key, 0);
        rc_store_write w = ts_write("value", i < 100 ? 10 : 0);
        rc_store_write_result res;
        RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), 0);
    }
    RC_CHECK_EQ_U64(rc_store_sweep(st, NOW0 + 5, 1000, NULL), 0);
    size_t freed = 0;
    for (int round = 0; round < 100 && freed < 100; round++)
        freed += rc_store_sweep(st, NOW0 + 10, 8, NULL);
    RC_CHECK_EQ_INT(freed, 100);
    RC_CHECK_EQ_INT(ts_totals(st).entries, 100);
    RC_CHECK_EQ_INT(ts_totals(st).reclaimed, 100);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "expirations"), 100);
    rc_store_destroy(st);
}

static void test_soft_invalidation_of_key(void)
{
    rc_store *st = ts_store(1 << 20, 1, 1024);
    ts_buf buf;
    rc_store_read rd;
    rc_store_key k = ts_key("recs", "k", 0);
    RC_CHECK_RC(ts_set(st, "recs", "k", "v", NOW0), 0);
    RC_CHECK_RC(rc_store_invalidate_key(st, &k, RC_INVAL_SOFT, NOW0, NULL, NULL), 0);
    /* No expiry: stale until replaced. */
    RC_CHECK_RC(ts_get(st, "recs", "k", 0, NOW0 + 1000000, &buf, &rd), 0);
    RC_CHECK_EQ_INT(rd.state, RC_STATE_STALE);
    RC_CHECK_RC(ts_set(st, "recs", "k", "v2", NOW0), 0);
    RC_CHECK_RC(ts_get(st, "recs", "k", 0, NOW0, &buf, &rd), 0);
    RC_CHECK_EQ_INT(rd.state, RC_STATE_FRESH);
    /* With an expiry: stale now, gone after expiry + stale window. */
    rc_store_write w = ts_write("v3", 100);
    w.stale_ms = 20;
    rc_store_write_result res;
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), 0);
    RC_CHECK_RC(rc_store_invalidate_key(st, &k, RC_INVAL_SOFT, NOW0, NULL, NULL), 0);
    RC_CHECK_RC(ts_get(st, "recs", "k", 0, NOW0 + 10, &buf, &rd), 0);
    RC_CHECK_EQ_INT(rd.state, RC_STATE_STALE);
    RC_CHECK_EQ_INT(rd.ttl_left_ms, 0);
    RC_CHECK_RC(ts_get(st, "recs", "k", 0, NOW0 + 119, &buf, &rd), 0);
    RC_CHECK_RC(ts_get(st, "recs", "k", 0, NOW0 + 120, &buf, &rd), RC_EMISS);
    RC_CHECK_RC(rc_store_invalidate_key(st, &k, RC_INVAL_SOFT, NOW0, NULL, NULL), RC_EMISS);
    RC_CHECK_RC(rc_store_invalidate_key(st, &k, 7, NOW0, NULL, NULL), RC_EBAD_ARGUMENT);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "invalidations_soft"), 2);
    rc_store_destroy(st);
}

/* Pseudo-random numbers for the fill tests (deterministic). */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_memory_limit_never_exceeded(void)
{
    const size_t limit = 256 * 1024;
    rc_store *st = ts_store(limit, 4, 4096);
    uint64_t empty = ts_totals(st).bytes_used;
    static uint8_t value[4096];
    const char *pool[] = {"p:1", "p:2", "segment:eu", "segment:us", "brand:x", "brand:y"};
    uint64_t seed = 42, written = 0;
    char key[32];
    uint8_t tags[64];
    memset(value, 'v', sizeof(value));
    while (written < 10 * limit) {
        snprintf(key, sizeof(key), "user:%u", (unsigned)(next_rand(&seed) % 5000));
        rc_store_key k = ts_key("recs", key, 0);
        rc_store_write w = ts_write("", (uint32_t)(next_rand(&seed) % 3) * 1000);
        w.value = value;
        w.value_len = (uint32_t)(1 + next_rand(&seed) % sizeof(value));
        rc_slice names[3];
        size_t ntags = next_rand(&seed) % 4;
        for (size_t i = 0; i < ntags; i++)
            names[i] = rc_slice_str(pool[next_rand(&seed) % 6]);
        long n = rc_list_encode(names, ntags, tags, sizeof(tags));
        RC_CHECK(n >= 0);
        w.tags.ptr = tags;
        w.tags.len = (uint32_t)n;
        w.ntags = (uint8_t)ntags;
        rc_store_write_result res;
        RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0 + written / 1024, &res), 0);
        written += w.value_len;
        ts_check_within_limit(st);
        if (next_rand(&seed) % 4 == 0) {
            rc_store_read rd;
            rc_store_get(st, &k, NOW0, NULL, NULL, &rd);
        }
    }
    rc_store_totals tot = ts_totals(st);
    printf("wrote %" PRIu64 " bytes into %zu: %" PRIu64 " entries, %" PRIu64 " bytes used, %" PRIu64
           " evictions\n",
           written, limit, tot.entries, tot.bytes_used, tot.evictions);
    RC_CHECK(tot.evictions > 0);
    RC_CHECK(tot.bytes_used > limit / 2); /* the budget is actually used */
    rc_store_flush(st, NULL);
    tot = ts_totals(st);
    RC_CHECK_EQ_INT(tot.entries, 0);
    RC_CHECK_EQ_INT(tot.tags_live, 0);
    /*
     * Only the initial rings and bucket arrays remain; malloc may hand out a
     * chunk up to 16 bytes larger than last time when it reuses a free one.
     */
    RC_CHECK(tot.bytes_used <= empty + 2 * 16 * tot.nshards);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "entries"), 0);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "bytes"), 0);
    rc_store_destroy(st);
}

/*
 * A shard's index and ring grow past RC_ARRAY_MAP_MIN into arrays mapped on
 * their own: the limit still holds at every step, the entries stay
 * readable, and a flush gives back exactly what the arrays were charged
 * (the store is back to its empty charge).
 */
static void test_large_structure_arrays(void)
{
    rc_store *st = ts_store(64u << 20, 1, 1024);
    uint64_t empty = ts_totals(st).bytes_used;
    enum { N = 20000 }; /* a 32768-slot ring and bucket array: 256 KiB each */
    char key[32];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "user:%d", i);
        RC_CHECK_RC(ts_set(st, "recs", key, "v", NOW0), 0);
        if (i % 1000 == 0)
            ts_check_within_limit(st);
    }
    RC_CHECK_EQ_INT(ts_totals(st).entries, N);
    RC_CHECK(ts_totals(st).bytes_used > empty + 2u * 32768u * sizeof(void *));
    for (int i = 0; i < N; i += 997) {
        snprintf(key, sizeof(key), "user:%d", i);
        RC_CHECK(ts_has(st, "recs", key, 0, NOW0, "v"));
    }
    rc_store_flush(st, NULL);
    RC_CHECK_EQ_INT(ts_totals(st).entries, 0);
    RC_CHECK_EQ_U64(ts_totals(st).bytes_used, empty);
    RC_CHECK_RC(ts_set(st, "recs", "again", "v", NOW0), 0);
    RC_CHECK(ts_has(st, "recs", "again", 0, NOW0, "v"));
    rc_store_destroy(st);
}

static void test_value_that_cannot_fit(void)
{
    /* Explicit shard count: the budget holds one max-size entry, not two. */
    rc_store_config cfg = ts_config(8 * 1024, 1, 4096);
    cfg.max_tags = 0;
    rc_store *st;
    RC_CHECK_RC(rc_store_create(&cfg, &st), 0);
    static uint8_t value[4096];
    rc_store_write w = ts_write("", 0);
    rc_store_write_result res;
    w.value = value;
    w.value_len = 4096;
    rc_store_key k = ts_key("recs", "a", 0);
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), 0);
    k = ts_key("recs", "b", 0);
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), 0); /* evicts a */
    RC_CHECK_EQ_INT(ts_totals(st).evictions, 1);
    ts_check_within_limit(st);
    rc_store_destroy(st);
}

static void clock_set(rc_store *st, const char *key, uint64_t version)
{
    static uint8_t value[200];
    rc_store_key k = ts_key("recs", key, 0);
    rc_store_write w = ts_write("", 0);
    rc_store_write_result res;
    w.value = value;
    w.value_len = sizeof(value);
    w.entry_version = version;
    RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), 0);
    ts_check_within_limit(st);
}

/*
 * A referenced entry survives one pass of the hand; unreferenced ones go in
 * ring order; inserting does not set the reference bit (if it did, the
 * first victim would be "a", not "b").
 */
static void test_clock_eviction_order(void)
{
    /* Measure one entry's charge on a roomy store. */
    rc_store *probe = ts_store(1 << 20, 1, 256);
    uint64_t empty = ts_totals(probe).bytes_used;
    clock_set(probe, "a", 1);
    uint64_t charge = ts_totals(probe).bytes_used - empty;
    rc_store_destroy(probe);

    /* Room for exactly four entries. */
    rc_store_config cfg = ts_config((size_t)(empty + 4 * charge + charge / 2), 1, 256);
    cfg.max_tags = 0;
    cfg.max_key = 16;
    rc_store *st;
    RC_CHECK_RC(rc_store_create(&cfg, &st), 0);
    clock_set(st, "a", 1);
    clock_set(st, "b", 2);
    clock_set(st, "c", 3);
    clock_set(st, "d", 4);
    RC_CHECK_EQ_INT(ts_totals(st).entries, 4);
    RC_CHECK_EQ_INT(ts_totals(st).evictions, 0);

    rc_store_read rd;
    rc_store_key ka = ts_key("recs", "a", 0);
    RC_CHECK_RC(rc_store_get(st, &ka, NOW0, NULL, NULL, &rd), 0); /* reference a */

    clock_set(st, "e", 5);
    RC_CHECK_EQ_INT(ts_totals(st).evictions, 1);
    RC_CHECK_EQ_U64(ts_probe(st, "recs", "a", NOW0), 1);
    RC_CHECK_EQ_U64(ts_probe(st, "recs", "b", NOW0), 0);
    RC_CHECK_EQ_U64(ts_probe(st, "recs", "c", NOW0), 3);

    clock_set(st, "f", 6);
    RC_CHECK_EQ_U64(ts_probe(st, "recs", "c", NOW0), 0);
    RC_CHECK_EQ_U64(ts_probe(st, "recs", "a", NOW0), 1);
    clock_set(st, "g", 7);
    RC_CHECK_EQ_U64(ts_probe(st, "recs", "d", NOW0), 0);
    RC_CHECK_EQ_U64(ts_probe(st, "recs", "a", NOW0), 1);
    /* a's second chance is used up: it is next. */
    clock_set(st, "h", 8);
    RC_CHECK_EQ_U64(ts_probe(st, "recs", "a", NOW0), 0);
    RC_CHECK_EQ_U64(ts_probe(st, "recs", "e", NOW0), 5);
    RC_CHECK_EQ_U64(ts_probe(st, "recs", "h", NOW0), 8);
    RC_CHECK_EQ_INT(ts_totals(st).evictions, 4);
    RC_CHECK_EQ_INT(ts_totals(st).entries, 4);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "evictions"), 4);
    rc_store_destroy(st);
}

/*
 * Fill to the limit under version 1, bump, write version-2 entries: until
 * the last version-1 entry is gone, no version-2 entry is evicted.
 */
static void test_eviction_prefers_old_versions(void)
{
    rc_store *st = ts_store(64 * 1024, 1, 512);
    static uint8_t value[300];
    char key[32];
    int filled = 0;
    rc_store_write w = ts_write("", 0);
    rc_store_write_result res;
    w.value = value;
    w.value_len = sizeof(value);
    while (ts_totals(st).evictions == 0) {
        snprintf(key, sizeof(key), "v1-%d", filled++);
        rc_store_key k = ts_key("recs", key, 0);
        RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), 0);
    }
    uint64_t evictions_at_bump = ts_totals(st).evictions;
    uint64_t version;
    RC_CHECK_RC(rc_store_bump(st, rc_slice_str("recs"), 0, &version), 0);
    RC_CHECK_EQ_U64(version, 2);
    for (int i = 0; i < 2 * filled; i++) {
        snprintf(key, sizeof(key), "v2-%d", i);
        rc_store_key k = ts_key("recs", key, 0);
        RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), 0);
        RC_CHECK_EQ_U64(res.ns_version, 2);
        ts_check_within_limit(st);
        if (ts_totals(st).evictions == evictions_at_bump)
            continue;
        /* Some v2 entry was evicted: no v1 entry may remain. */
        for (int j = 0; j < filled; j++) {
            snprintf(key, sizeof(key), "v1-%d", j);
            rc_store_key k1 = ts_key("recs", key, 1);
            rc_store_read rd;
            RC_CHECK_RC(rc_store_get(st, &k1, NOW0, NULL, NULL, &rd), RC_EMISS);
        }
    }
    RC_CHECK(ts_totals(st).evictions > evictions_at_bump);
    /* Every version-1 entry left at the bump (the fill's own evictions aside) was reclaimed. */
    RC_CHECK(ts_totals(st).reclaimed >= (uint64_t)filled - evictions_at_bump);
    rc_store_destroy(st);
}

static void test_stats_text(void)
{
    rc_store *st = ts_store(1 << 20, 2, 1024);
    RC_CHECK_RC(ts_set(st, "recs", "k", "v", NOW0), 0);
    char text[1024];
    long n = rc_store_stats_text(st, text, sizeof(text) - 1);
    RC_CHECK(n > 0);
    text[n] = '\0';
    RC_CHECK(strstr(text, "entries 1\n") != NULL);
    RC_CHECK(strstr(text, "shards 2\n") != NULL);
    RC_CHECK(strstr(text, "namespaces 1\n") != NULL);
    RC_CHECK(strstr(text, "bytes_limit 1048576\n") != NULL);
    /* Truncation: never more than cap bytes. */
    char small[10];
    memset(small, 'x', sizeof(small));
    RC_CHECK_EQ_INT(rc_store_stats_text(st, small, 5), 5);
    RC_CHECK_EQ_INT(small[5], 'x');
    rc_store_destroy(st);
}

int main(void)
{
    RC_TEST_RUN(test_write_stamps);
    RC_TEST_RUN(test_create_rejects_impossible_configs);
    RC_TEST_RUN(test_auto_shard_count);
    RC_TEST_RUN(test_set_get_delete_touch);
    RC_TEST_RUN(test_optional_header_fields);
    RC_TEST_RUN(test_key_and_namespace_validation);
    RC_TEST_RUN(test_value_limits);
    RC_TEST_RUN(test_condition_if_absent);
    RC_TEST_RUN(test_condition_if_newer_and_tombstones);
    RC_TEST_RUN(test_condition_cas);
    RC_TEST_RUN(test_ttl_fresh_stale_gone);
    RC_TEST_RUN(test_sweep_reclaims_expired);
    RC_TEST_RUN(test_soft_invalidation_of_key);
    RC_TEST_RUN(test_memory_limit_never_exceeded);
    RC_TEST_RUN(test_large_structure_arrays);
    RC_TEST_RUN(test_value_that_cannot_fit);
    RC_TEST_RUN(test_clock_eviction_order);
    RC_TEST_RUN(test_eviction_prefers_old_versions);
    RC_TEST_RUN(test_stats_text);
    return 0;
}
