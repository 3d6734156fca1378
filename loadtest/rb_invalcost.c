/*
 * rb_invalcost.c - recache-bench invalcost: what an invalidation costs, at
 * once and later.
 *
 * Design.  One client (librecache) fills the namespace with `entries`
 * tagged values (pipelined), then, for each invalidation kind (BUMP, hard
 * tag invalidation, soft tag invalidation): times the invalidation itself,
 * then times each of the next `writes` writes (new keys), which is where
 * deferred work would show (a reclaim scan, an index walk).  The server
 * should be sized so the fill reaches its memory limit: then those writes
 * evict, and the reclaim of what the invalidation made obsolete happens
 * during them.  Flat means: neither the invalidation nor the writes after
 * it get slower as `entries` grows.
 *
 * Latencies are wall-clock microseconds of single synchronous calls on
 * loopback; the percentiles come from rb_hist.
 */
#define _POSIX_C_SOURCE 200809L
#include "rb_invalcost.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rb_hist.h"

static uint64_t rb__us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* rb__fill - count pipelined SETs of prefix<i>, tagged "inv:all"; 0 or an error. */
static int rb__fill(rc_client *c, const char *ns, const char *prefix, uint64_t first,
                    uint64_t count, const char *value, size_t len, const char *tag)
{
    const char *tags[] = {tag};
    rc_set_options o = {.stale_ms = RC_STALE_DEFAULT, .tags = tags, .ntags = tag ? 1u : 0u};
    rc_batch *b = rc_batch_new(c);
    if (b == NULL)
        return RC_ENOMEM;
    char key[64];
    int err = 0;
    for (uint64_t done = 0; err == 0 && done < count;) {
        rc_batch_reset(b);
        uint64_t n = count - done < 1000 ? count - done : 1000;
        for (uint64_t i = 0; i < n; i++) {
            snprintf(key, sizeof key, "%s%" PRIu64, prefix, first + done + i);
            if (rc_batch_set(b, ns, key, strlen(key), value, len, &o) < 0)
                err = RC_ENOMEM;
        }
        if (err == 0)
            err = rc_batch_exec(b);
        done += n;
    }
    rc_batch_free(b);
    return err;
}

/* rb__timed_writes - `count` single SETs of new keys, each timed into h. */
static int rb__timed_writes(rc_client *c, const char *ns, const char *prefix, uint64_t count,
                            const char *value, size_t len, rb_hist *h)
{
    char key[64];
    rc_set_options o = {.stale_ms = RC_STALE_DEFAULT};
    for (uint64_t i = 0; i < count; i++) {
        snprintf(key, sizeof key, "%s%" PRIu64, prefix, i);
        uint64_t t0 = rb__us();
        int err = rc_set(c, ns, key, strlen(key), value, len, &o, NULL);
        rb_hist_record(h, rb__us() - t0);
        if (err != 0)
            return err;
    }
    return 0;
}

int rb_invalcost_run(const rb_invalcost_cfg *cfg, rb_invalcost_result *res)
{
    memset(res, 0, sizeof *res);
    rc_client_options co = {.host = cfg->host, .port = cfg->port, .io_timeout_ms = 30000};
    rc_client *c = NULL;
    int err = rc_connect(&co, &c);
    if (err != 0)
        return err;
    char *value = malloc(cfg->value_len);
    if (value == NULL) {
        rc_close(c);
        return RC_ENOMEM;
    }
    memset(value, 'v', cfg->value_len);
    static const char *const kinds[RB_INVALCOST_KINDS] = {"bump", "tag-hard", "tag-soft"};
    for (int k = 0; err == 0 && k < RB_INVALCOST_KINDS; k++) {
        rb_invalcost_row *row = &res->row[k];
        row->kind = kinds[k];
        char prefix[32], tag[32];
        snprintf(prefix, sizeof prefix, "fill%d:", k);
        snprintf(tag, sizeof tag, "inv:%d", k);
        err = rb__fill(c, cfg->ns, prefix, 0, cfg->entries, value, cfg->value_len, tag);
        if (err != 0)
            break;
        char *stats = NULL;
        if (rc_stats(c, NULL, &stats) == 0) {
            const char *e = strstr(stats, "\nentries ");
            row->entries_held = e ? strtoull(e + 9, NULL, 10) : 0;
            const char *ev = strstr(stats, "\nevictions ");
            row->evicting = ev && strtoull(ev + 11, NULL, 10) > 0;
            free(stats);
        }
        uint64_t version, t0 = rb__us();
        if (k == 0)
            err = rc_bump(c, cfg->ns, 0, &version);
        else
            err = rc_invalidate_tag(c, tag, k == 1 ? RC_HARD : RC_SOFT, NULL);
        row->invalidation_us = rb__us() - t0;
        rb_hist_reset(&row->writes_us);
        snprintf(prefix, sizeof prefix, "after%d:", k);
        if (err == 0)
            err = rb__timed_writes(c, cfg->ns, prefix, cfg->writes, value, cfg->value_len,
                                   &row->writes_us);
    }
    free(value);
    rc_close(c);
    return err;
}

void rb_invalcost_print(const rb_invalcost_cfg *cfg, const rb_invalcost_result *res)
{
    printf("invalcost: %" PRIu64 " entries of %zu bytes per kind, then %" PRIu64 " timed writes\n",
           cfg->entries, cfg->value_len, cfg->writes);
    printf("%-9s %10s %9s %16s %10s %10s %10s %10s\n", "kind", "entries", "evicting",
           "invalidation us", "write p50", "write p99", "p99.9", "max");
    for (int k = 0; k < RB_INVALCOST_KINDS; k++) {
        const rb_invalcost_row *r = &res->row[k];
        if (r->kind == NULL)
            continue;
        printf("%-9s %10" PRIu64 " %9s %16" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64
               " %10" PRIu64 "\n",
               r->kind, r->entries_held, r->evicting ? "yes" : "no", r->invalidation_us,
               rb_hist_percentile(&r->writes_us, 50.0), rb_hist_percentile(&r->writes_us, 99.0),
               rb_hist_percentile(&r->writes_us, 99.9), rb_hist_percentile(&r->writes_us, 100.0));
    }
}
