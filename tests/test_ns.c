/*
 * test_ns.c - versioned namespaces: bumps, explicit and staged versions,
 * min_version adoption, settings (parse errors change nothing), reports,
 * the namespace limit and TTL jitter bounds.
 */
#include <stdio.h>
#include <string.h>

#include "rc_ns.h"
#include "rc_test.h"
#include "recache/rc_errors.h"
#include "test_store_util.h"

#define NOW0 1000000u

static void test_bump_semantics(void)
{
    rc_store *st = ts_store(1 << 20, 4, 1024);
    uint64_t v = 0;
    RC_CHECK_RC(ts_set(st, "recs", "u1", "model-1", NOW0), 0);
    RC_CHECK_RC(rc_store_bump(st, rc_slice_str("recs"), 0, &v), 0);
    RC_CHECK_EQ_U64(v, 2);
    /* Readers of "current" never again see the version-1 entry... */
    ts_buf buf;
    rc_store_read rd;
    RC_CHECK_RC(ts_get(st, "recs", "u1", 0, NOW0, &buf, &rd), RC_EMISS);
    RC_CHECK_EQ_U64(rd.ns_version, 2);
    /* ...which stays readable by explicit version until reclaimed. */
    RC_CHECK(ts_has(st, "recs", "u1", 1, NOW0, "model-1"));
    RC_CHECK_RC(ts_get(st, "recs", "u1", 1, NOW0, &buf, &rd), 0);
    RC_CHECK_EQ_U64(rd.ns_version, 1);

    /* Explicit targets: only upwards; a lower or equal target is a no-op. */
    RC_CHECK_RC(rc_store_bump(st, rc_slice_str("recs"), 10, &v), 0);
    RC_CHECK_EQ_U64(v, 10);
    RC_CHECK_RC(rc_store_bump(st, rc_slice_str("recs"), 5, &v), 0);
    RC_CHECK_EQ_U64(v, 10);
    RC_CHECK_RC(rc_store_bump(st, rc_slice_str("recs"), 10, &v), 0);
    RC_CHECK_EQ_U64(v, 10);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "bumps"), 2);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "version"), 10);

    /* Bump creates a namespace; an invalid name is refused. */
    RC_CHECK_RC(rc_store_bump(st, rc_slice_str("fresh"), 0, &v), 0);
    RC_CHECK_EQ_U64(v, 2);
    RC_CHECK_RC(rc_store_bump(st, rc_slice_str(""), 0, &v), RC_EBAD_NAMESPACE);

    /* The background sweep leaves old versions alone: without memory pressure
     * they stay readable by explicit version (the evictor takes them first). */
    RC_CHECK_EQ_U64(rc_store_sweep(st, NOW0, 1000, NULL), 0);
    RC_CHECK(ts_has(st, "recs", "u1", 1, NOW0, "model-1"));
    rc_store_destroy(st);
}

static void test_staged_writes(void)
{
    rc_store *st = ts_store(1 << 20, 4, 1024);
    rc_store_write_result res;
    /* Warm version 2 before the bump. */
    RC_CHECK_RC(ts_set(st, "recs", "u1", "model-1", NOW0), 0);
    rc_store_key k2 = ts_key("recs", "u1", 2);
    rc_store_write w = ts_write("model-2", 0);
    RC_CHECK_RC(rc_store_set(st, &k2, &w, NOW0, &res), 0);
    RC_CHECK_EQ_U64(res.ns_version, 2);
    RC_CHECK(ts_has(st, "recs", "u1", 0, NOW0, "model-1"));
    RC_CHECK(ts_has(st, "recs", "u1", 2, NOW0, "model-2"));
    /* Staging is not reclaimed as obsolete: it is newer, not older. */
    RC_CHECK_EQ_U64(rc_store_sweep(st, NOW0, 1000, NULL), 0);
    uint64_t v;
    RC_CHECK_RC(rc_store_bump(st, rc_slice_str("recs"), 0, &v), 0);
    RC_CHECK_EQ_U64(v, 2);
    /* The bump finds a warm cache. */
    RC_CHECK(ts_has(st, "recs", "u1", 0, NOW0, "model-2"));
    rc_store_destroy(st);
}

static void test_min_version_adoption(void)
{
    rc_store *st = ts_store(1 << 20, 4, 1024);
    ts_buf buf;
    rc_store_read rd;
    /* A read never creates a namespace: an unknown one is a miss reported at
     * the minimum asked for, and leaves nothing behind (read-only clients
     * cannot fill the namespace table). */
    rc_store_key k = ts_key("late", "u1", 0);
    k.min_version = 5;
    RC_CHECK_RC(rc_store_get(st, &k, NOW0, ts_sink, &buf, &rd), RC_EMISS);
    RC_CHECK_EQ_U64(rd.ns_version, 5);
    char text[256];
    uint64_t version;
    RC_CHECK_RC(rc_store_ns_info(st, rc_slice_str("late"), text, sizeof(text), &version), RC_EMISS);
    /* Versions above RC_NS_VERSION_MAX are refused, in reads and bumps. */
    k.min_version = RC_NS_VERSION_MAX + 1u;
    RC_CHECK_RC(rc_store_get(st, &k, NOW0, ts_sink, &buf, &rd), RC_EBAD_ARGUMENT);

    /* A node behind adopts the version before answering: old entries are not served. */
    RC_CHECK_RC(ts_set(st, "recs", "u1", "model-1", NOW0), 0);
    k = ts_key("recs", "u1", 0);
    k.min_version = 3;
    RC_CHECK_RC(rc_store_get(st, &k, NOW0, ts_sink, &buf, &rd), RC_EMISS);
    RC_CHECK_EQ_U64(rd.ns_version, 3);
    /* A node ahead is unaffected. */
    k.min_version = 2;
    RC_CHECK_RC(ts_set(st, "recs", "u1", "model-3", NOW0), 0);
    RC_CHECK_RC(rc_store_get(st, &k, NOW0, ts_sink, &buf, &rd), 0);
    RC_CHECK_EQ_U64(rd.ns_version, 3);
    RC_CHECK_MEM(buf.data, buf.len, "model-3", 7);
    rc_store_destroy(st);
}

static void test_settings(void)
{
    rc_store *st = ts_store(1 << 20, 1, 1024);
    char err[160];
    rc_slice ns = rc_slice_str("recs");
    RC_CHECK_RC(rc_store_ns_configure(st, ns,
                                      rc_slice_str("default-ttl=60000 stale=5000\n"
                                                   "early-refresh=1000\tttl-jitter=10 max-value=0"),
                                      err, sizeof(err)),
                0);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "default-ttl"), 60000);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "stale"), 5000);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "early-refresh"), 1000);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "ttl-jitter"), 10);

    /* Each bad request is refused as a whole, with a sentence, and changes nothing. */
    const char *bad[] = {
        "stale=1 nonsense=3",
        "ttl-jitter=51 stale=2",
        "default-ttl=-1",
        "stale=12x",
        "stale",
        "default-ttl=4294967296",
        "stale=99999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        RC_CHECK_RC(rc_store_ns_configure(st, ns, rc_slice_str(bad[i]), err, sizeof(err)),
                    RC_EBAD_ARGUMENT);
        RC_CHECK(strlen(err) > 10);
        printf("'%s' -> %s\n", bad[i], err);
    }
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "stale"), 5000);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "ttl-jitter"), 10);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "recs", "default-ttl"), 60000);

    /* A refused request does not create the namespace; an empty one does. */
    RC_CHECK_RC(
        rc_store_ns_configure(st, rc_slice_str("other"), rc_slice_str("bogus=1"), err, sizeof(err)),
        RC_EBAD_ARGUMENT);
    uint64_t v;
    RC_CHECK_RC(rc_store_ns_info(st, rc_slice_str("other"), err, sizeof(err), &v), RC_EMISS);
    RC_CHECK_RC(rc_store_ns_configure(st, rc_slice_str("other"), rc_slice_str(""), err, 0), 0);
    RC_CHECK(rc_store_ns_info(st, rc_slice_str("other"), err, sizeof(err), &v) > 0);
    RC_CHECK_EQ_U64(v, 1);
    rc_store_destroy(st);
}

static void test_info_report(void)
{
    rc_store *st = ts_store(1 << 20, 1, 1024);
    RC_CHECK_RC(ts_set(st, "recs", "k", "v", NOW0), 0);
    char text[2048];
    uint64_t v;
    long n = rc_store_ns_info(st, rc_slice_str("recs"), text, sizeof(text) - 1, &v);
    RC_CHECK(n > 0);
    text[n] = '\0';
    const char *expected[] = {"version 1\n",    "default-ttl 0\n", "stale 0\n", "early-refresh 0\n",
                              "ttl-jitter 0\n", "max-value 0\n",   "sets 1\n",  "entries 1\n",
                              "hits 0\n",       "evictions 0\n"};
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
        RC_CHECK(strstr(text, expected[i]) != NULL);
    /* The entry's whole allocation is charged: header, key "k" and value "v". */
    RC_CHECK(ts_ns_stat(st, "recs", "bytes") >= rc_store_entry_overhead() + 2);
    rc_store_destroy(st);
}

static void test_namespace_limit(void)
{
    rc_store_config cfg = ts_config(1 << 20, 1, 1024);
    cfg.max_namespaces = 3;
    rc_store *st;
    RC_CHECK_RC(rc_store_create(&cfg, &st), 0);
    RC_CHECK_RC(ts_set(st, "a", "k", "v", NOW0), 0);
    RC_CHECK_RC(ts_set(st, "b", "k", "v", NOW0), 0);
    RC_CHECK_RC(ts_set(st, "c", "k", "v", NOW0), 0);
    RC_CHECK_RC(ts_set(st, "d", "k", "v", NOW0), RC_ETOO_MANY_NAMESPACES);
    uint64_t v;
    RC_CHECK_RC(rc_store_bump(st, rc_slice_str("e"), 0, &v), RC_ETOO_MANY_NAMESPACES);
    /* Reads of unknown namespaces are still plain misses. */
    ts_buf buf;
    rc_store_read rd;
    RC_CHECK_RC(ts_get(st, "d", "k", 0, NOW0, &buf, &rd), RC_EMISS);
    RC_CHECK(ts_has(st, "c", "k", 0, NOW0, "v"));

    /* Empty, unconfigured namespaces at version 1 are reclaimed when the
     * table is full: after a flush, "d" fits.  One that was bumped or
     * configured keeps its slot (its state must not be forgotten). */
    RC_CHECK_RC(rc_store_bump(st, rc_slice_str("a"), 0, &v), 0);
    char err[128];
    RC_CHECK_RC(
        rc_store_ns_configure(st, rc_slice_str("b"), rc_slice_str("stale=10"), err, sizeof(err)),
        0);
    rc_store_flush(st, NULL);
    RC_CHECK_RC(ts_set(st, "d", "k", "v", NOW0), 0);
    RC_CHECK_RC(ts_set(st, "e", "k", "v", NOW0), RC_ETOO_MANY_NAMESPACES);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "a", "version"), 2);
    RC_CHECK_EQ_U64(ts_ns_stat(st, "b", "stale"), 10);
    RC_CHECK(ts_has(st, "d", "k", 0, NOW0, "v"));
    char text[4096];
    uint64_t version;
    RC_CHECK_RC(rc_store_ns_info(st, rc_slice_str("c"), text, sizeof(text), &version), RC_EMISS);
    RC_CHECK(rc_store_stats_text(st, text, sizeof(text)) > 0);
    RC_CHECK(strstr(text, "namespaces 3\n") != NULL);
    RC_CHECK(strstr(text, "namespaces_reclaimed 1\n") != NULL);
    rc_store_destroy(st);
}

static void test_version_saturation(void)
{
    rc_store *st = ts_store(1 << 20, 1, 1024);
    uint64_t v;
    /* Higher than the maximum is refused; the maximum itself is allowed and
     * then the namespace saturates instead of wrapping to 0. */
    RC_CHECK_RC(rc_store_bump(st, rc_slice_str("n"), UINT64_MAX, &v), RC_EBAD_ARGUMENT);
    RC_CHECK_RC(rc_store_bump(st, rc_slice_str("n"), RC_NS_VERSION_MAX, &v), 0);
    RC_CHECK_EQ_U64(v, RC_NS_VERSION_MAX);
    RC_CHECK_RC(rc_store_bump(st, rc_slice_str("n"), 0, &v), RC_EBAD_ARGUMENT);
    RC_CHECK_EQ_U64(v, RC_NS_VERSION_MAX);
    RC_CHECK_RC(ts_set(st, "n", "k", "top", NOW0), 0);
    RC_CHECK(ts_has(st, "n", "k", 0, NOW0, "top"));
    RC_CHECK_EQ_U64(ts_ns_stat(st, "n", "version"), RC_NS_VERSION_MAX);
    rc_store_destroy(st);
}

static void test_ttl_jitter_bounds(void)
{
    rc_store *st = ts_store(4 << 20, 1, 1024);
    char err[128], key[32];
    RC_CHECK_RC(rc_store_ns_configure(st, rc_slice_str("recs"), rc_slice_str("ttl-jitter=20"), err,
                                      sizeof(err)),
                0);
    uint32_t lo = UINT32_MAX, hi = 0;
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        rc_store_key k = ts_key("recs", key, 0);
        rc_store_write w = ts_write("v", 10000);
        rc_store_write_result res;
        RC_CHECK_RC(rc_store_set(st, &k, &w, NOW0, &res), 0);
        rc_store_read rd;
        RC_CHECK_RC(rc_store_get(st, &k, NOW0, NULL, NULL, &rd), 0);
        RC_CHECK(rd.ttl_left_ms >= 8000 && rd.ttl_left_ms <= 10000);
        lo = rd.ttl_left_ms < lo ? rd.ttl_left_ms : lo;
        hi = rd.ttl_left_ms > hi ? rd.ttl_left_ms : hi;
    }
    printf("jittered TTLs in [%u, %u]\n", lo, hi);
    /* Spread over the range, not constant. */
    RC_CHECK(lo < 8200 && hi > 9800);
    rc_store_destroy(st);
}

/* Records every on_version call. */
typedef struct version_log {
    char ns[8][16];
    uint64_t version[8];
    int n;
} version_log;

static void log_version(void *ctx, rc_slice ns, uint64_t version)
{
    version_log *log = ctx;
    RC_CHECK(log->n < 8 && ns.len < 16);
    memcpy(log->ns[log->n], ns.ptr, ns.len);
    log->ns[log->n][ns.len] = '\0';
    log->version[log->n++] = version;
}

static void test_version_hook(void)
{
    version_log log = {0};
    rc_store_config cfg = ts_config(1 << 20, 4, 1024);
    cfg.on_version = log_version;
    cfg.hook_ctx = &log;
    rc_store *st = NULL;
    RC_CHECK_RC(rc_store_create(&cfg, &st), 0);
    uint64_t v;
    RC_CHECK_RC(rc_store_bump(st, rc_slice_str("recs"), 0, &v), 0);
    RC_CHECK_RC(rc_store_bump(st, rc_slice_str("recs"), 1, &v), 0); /* no move: no call */
    /* A read adopting a minimum version is a version change too. */
    rc_store_key k = ts_key("recs", "u1", 0);
    k.min_version = 7;
    rc_store_read rd;
    RC_CHECK_RC(rc_store_get(st, &k, NOW0, NULL, NULL, &rd), RC_EMISS);
    RC_CHECK_EQ_INT(log.n, 2);
    RC_CHECK(strcmp(log.ns[0], "recs") == 0 && log.version[0] == 2);
    RC_CHECK(strcmp(log.ns[1], "recs") == 0 && log.version[1] == 7);
    rc_store_destroy(st);
}

int main(void)
{
    RC_TEST_RUN(test_version_hook);
    RC_TEST_RUN(test_bump_semantics);
    RC_TEST_RUN(test_staged_writes);
    RC_TEST_RUN(test_min_version_adoption);
    RC_TEST_RUN(test_settings);
    RC_TEST_RUN(test_info_report);
    RC_TEST_RUN(test_namespace_limit);
    RC_TEST_RUN(test_version_saturation);
    RC_TEST_RUN(test_ttl_jitter_bounds);
    return 0;
}
