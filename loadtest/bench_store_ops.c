/*
 * bench_store_ops.c - does a bump or a tag invalidation cost the same
 * whatever the number of entries?  (A benchmark, not a test: it prints
 * numbers and asserts nothing about them.)
 *
 * For each store size (1,000 then 1,000,000 entries by default) it fills a
 * fresh store with small entries carrying two tags each - one shared by a
 * tenth of the entries ("seg:N"), one by a thousandth ("item:N") - then
 * times many single calls of rc_store_bump, rc_store_invalidate_tag (hard
 * and soft, on the widely shared tags) and, for reference, rc_store_get,
 * each call timed on its own with CLOCK_MONOTONIC, and prints the median
 * and 99th percentile in nanoseconds as a table.  The clock's own cost
 * (measured the same way) is printed so it can be subtracted by eye.
 *
 * Usage: bench-store-ops [repetitions] [sizes...]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rc_store.h"
#include "recache/rc_errors.h"

#define BENCH_NOW 1000000u

typedef struct bench_samples {
    uint64_t *ns;
    size_t n;
} bench_samples;

static uint64_t bench_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int bench_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* bench_quantile - the q-quantile (0..1) of the samples; sorts them in place. */
static uint64_t bench_quantile(bench_samples *s, double q)
{
    qsort(s->ns, s->n, sizeof(uint64_t), bench_cmp);
    size_t i = (size_t)(q * (double)(s->n - 1));
    return s->ns[i];
}

static void bench_die(const char *what, int rc)
{
    fprintf(stderr, "bench-store-ops: %s: %s\n", what, rc_strerror(rc));
    exit(1);
}

/* bench_fill - a store holding n entries of 16-byte values, two tags each. */
static rc_store *bench_fill(size_t n)
{
    rc_store_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.memory_limit = (size_t)2 << 30;
    cfg.max_value = 1u << 20;
    cfg.max_namespaces = 64;
    cfg.max_tags = 8;
    cfg.max_tag_len = 64;
    cfg.tombstone_ms = 1000;
    cfg.hash_seed[0] = 0x243f6a8885a308d3ull;
    cfg.hash_seed[1] = 0x13198a2e03707344ull;
    rc_store *st;
    int rc = rc_store_create(&cfg, &st);
    if (rc)
        bench_die("create", rc);
    static const uint8_t value[16] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char key[32], seg[32], item[32];
        uint8_t enc[80];
        snprintf(key, sizeof(key), "user:%zu", i);
        snprintf(seg, sizeof(seg), "seg:%zu", i % 10);
        snprintf(item, sizeof(item), "item:%zu", i % 1000);
        rc_slice names[2] = {rc_slice_str(seg), rc_slice_str(item)};
        long len = rc_list_encode(names, 2, enc, sizeof(enc));
        if (len < 0)
            bench_die("encode", (int)len);
        rc_store_key k = {.ns = rc_slice_str("recs"), .key = rc_slice_str(key)};
        rc_store_write w = {
            .value = value, .value_len = sizeof(value), .ntags = 2, .tags = {enc, (uint32_t)len}};
        rc_store_write_result res;
        rc = rc_store_set(st, &k, &w, BENCH_NOW, &res);
        if (rc)
            bench_die("set", rc);
    }
    return st;
}

enum bench_op { BENCH_CLOCK, BENCH_BUMP, BENCH_TAG_HARD, BENCH_TAG_SOFT, BENCH_GET, BENCH_NOPS };

static const char *const bench_op_names[BENCH_NOPS] = {
    "clock_gettime alone", "rc_store_bump", "rc_store_invalidate_tag hard",
    "rc_store_invalidate_tag soft", "rc_store_get (hit)"};

/* bench_one - run op once (the i-th repetition) between two clock reads; returns ns. */
static uint64_t bench_one(rc_store *st, enum bench_op op, size_t i, size_t entries)
{
    char name[32];
    uint64_t out;
    rc_store_read rd;
    if (op == BENCH_TAG_HARD || op == BENCH_TAG_SOFT)
        snprintf(name, sizeof(name), "seg:%zu", i % 10);
    else
        snprintf(name, sizeof(name), "user:%zu", (i * 7919u) % entries);
    rc_store_key k = {.ns = rc_slice_str("recs"), .key = rc_slice_str(name), .version = 1};
    int rc = 0;
    uint64_t t0 = bench_clock();
    switch (op) {
    case BENCH_BUMP:
        rc = rc_store_bump(st, rc_slice_str("recs"), 0, &out);
        break;
    case BENCH_TAG_HARD:
        rc = rc_store_invalidate_tag(st, rc_slice_str(name), RC_INVAL_HARD, &out);
        break;
    case BENCH_TAG_SOFT:
        rc = rc_store_invalidate_tag(st, rc_slice_str(name), RC_INVAL_SOFT, &out);
        break;
    case BENCH_GET:
        rc = rc_store_get(st, &k, BENCH_NOW, NULL, NULL, &rd);
        break;
    default:
        break;
    }
    uint64_t t1 = bench_clock();
    if (rc < 0 && !(op == BENCH_GET && rc == RC_EMISS))
        bench_die(bench_op_names[op], rc);
    return t1 - t0;
}

int main(int argc, char **argv)
{
    size_t reps = argc > 1 ? strtoull(argv[1], NULL, 10) : 20001;
    size_t default_sizes[] = {1000, 1000000};
    size_t nsizes = argc > 2 ? (size_t)(argc - 2) : 2;
    bench_samples s = {calloc(reps ? reps : 1, sizeof(uint64_t)), reps};
    if (!s.ns || reps == 0)
        return 1;
    printf("%-30s %12s %12s %12s\n", "operation", "entries", "median_ns", "p99_ns");
    for (size_t z = 0; z < nsizes; z++) {
        size_t entries = argc > 2 ? strtoull(argv[2 + z], NULL, 10) : default_sizes[z];
        rc_store *st = bench_fill(entries);
        /* Gets first: the bumps that follow make version 1 obsolete. */
        static const enum bench_op order[] = {BENCH_CLOCK, BENCH_GET, BENCH_TAG_SOFT,
                                              BENCH_TAG_HARD, BENCH_BUMP};
        for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++) {
            for (size_t i = 0; i < reps; i++)
                s.ns[i] = bench_one(st, order[o], i, entries);
            uint64_t p99 = bench_quantile(&s, 0.99);
            printf("%-30s %12zu %12llu %12llu\n", bench_op_names[order[o]], entries,
                   (unsigned long long)bench_quantile(&s, 0.5), (unsigned long long)p99);
        }
        rc_store_destroy(st);
    }
    free(s.ns);
    return 0;
}
