/*
 * test_store_util.h - small helpers shared by the store's unit tests.
 *
 * They build configurations, keys and writes from C strings, collect values
 * through a value sink into a fixed buffer, and check the memory invariant
 * (bytes used never above the limit).  Header-only (static functions), so
 * each test program stays a single source file plus this header.
 */
#ifndef RECACHE_TEST_STORE_UTIL_H
#define RECACHE_TEST_STORE_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rc_store.h"
#include "rc_test.h"

/* A configuration with small, test-friendly limits. */
static inline rc_store_config ts_config(size_t limit, uint32_t nshards, uint32_t max_value)
{
    rc_store_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.memory_limit = limit;
    cfg.nshards = nshards;
    cfg.max_value = max_value;
    cfg.max_namespaces = 16;
    cfg.max_tags = 32;
    cfg.max_tag_len = 128;
    cfg.tombstone_ms = 1000;
    cfg.hash_seed[0] = 0x1234567887654321ull;
    cfg.hash_seed[1] = 0x0fedcba987654321ull;
    cfg.max_key = 250;
    return cfg;
}

static inline rc_store *ts_store(size_t limit, uint32_t nshards, uint32_t max_value)
{
    rc_store_config cfg = ts_config(limit, nshards, max_value);
    rc_store *st = NULL;
    RC_CHECK_RC(rc_store_create(&cfg, &st), 0);
    return st;
}

static inline rc_store_key ts_key(const char *ns, const char *key, uint64_t version)
{
    rc_store_key k;
    memset(&k, 0, sizeof(k));
    k.ns = rc_slice_str(ns);
    k.key = rc_slice_str(key);
    k.version = version;
    return k;
}

/* A plain write of a NUL-terminated value. */
static inline rc_store_write ts_write(const char *value, uint32_t ttl_ms)
{
    rc_store_write w;
    memset(&w, 0, sizeof(w));
    w.value = (const uint8_t *)value;
    w.value_len = (uint32_t)strlen(value);
    w.ttl_ms = ttl_ms;
    w.stale_ms = 0;
    return w;
}

/* Collects one value. */
typedef struct ts_buf {
    uint8_t data[8192];
    size_t len;
    int calls;
} ts_buf;

static inline uint8_t *ts_sink(void *ctx, size_t len)
{
    ts_buf *b = ctx;
    b->len = len;
    b->calls++;
    return len <= sizeof(b->data) ? b->data : NULL;
}

static inline int ts_set(rc_store *st, const char *ns, const char *key, const char *value,
                         uint64_t now)
{
    rc_store_key k = ts_key(ns, key, 0);
    rc_store_write w = ts_write(value, 0);
    rc_store_write_result res;
    return rc_store_set(st, &k, &w, now, &res);
}

/* Read key at version (0 = current); on a hit the value is in *buf. */
static inline int ts_get(rc_store *st, const char *ns, const char *key, uint64_t version,
                         uint64_t now, ts_buf *buf, rc_store_read *out)
{
    rc_store_key k = ts_key(ns, key, version);
    memset(buf, 0, sizeof(*buf));
    return rc_store_get(st, &k, now, ts_sink, buf, out);
}

/* Whether key reads as the given value (fresh or stale). */
static inline int ts_has(rc_store *st, const char *ns, const char *key, uint64_t version,
                         uint64_t now, const char *value)
{
    ts_buf buf;
    rc_store_read rd;
    if (ts_get(st, ns, key, version, now, &buf, &rd) != 0)
        return 0;
    return buf.len == strlen(value) && memcmp(buf.data, value, buf.len) == 0;
}

static inline void ts_check_within_limit(rc_store *st)
{
    rc_store_totals tot;
    rc_store_totals_get(st, &tot);
    RC_CHECK(tot.bytes_used <= tot.bytes_limit);
}

static inline rc_store_totals ts_totals(rc_store *st)
{
    rc_store_totals tot;
    rc_store_totals_get(st, &tot);
    return tot;
}

/* A counter or setting from rc_store_ns_info ("name value" lines); fails the test if absent. */
static inline uint64_t ts_ns_stat(rc_store *st, const char *ns, const char *name)
{
    char text[4096];
    uint64_t version;
    long n = rc_store_ns_info(st, rc_slice_str(ns), text, sizeof(text) - 1, &version);
    RC_CHECK(n > 0);
    text[n] = '\0';
    size_t len = strlen(name);
    for (const char *line = text; *line;) {
        if (strncmp(line, name, len) == 0 && line[len] == ' ')
            return strtoull(line + len + 1, NULL, 10);
        const char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    fprintf(stderr, "no line '%s' in ns info:\n%s", name, text);
    exit(1);
}

/*
 * The entry version stored for key, observed through a CAS that cannot
 * match: it changes nothing and touches no reference bit, so CLOCK tests
 * can look without disturbing the hand.  0 means nothing is stored (a
 * tombstone reports the version it remembers).
 */
static inline uint64_t ts_probe(rc_store *st, const char *ns, const char *key, uint64_t now)
{
    rc_store_key k = ts_key(ns, key, 0);
    rc_store_write w = ts_write("", 0);
    rc_store_write_result res;
    w.cond = RC_COND_CAS;
    w.cas_version = UINT64_MAX;
    RC_CHECK_RC(rc_store_set(st, &k, &w, now, &res), RC_ECAS_MISMATCH);
    return res.entry_version;
}

#endif /* RECACHE_TEST_STORE_UTIL_H */
