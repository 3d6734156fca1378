/*
 * rb_invalcost.h - recache-bench invalcost: the latency of a bump and of
 * hard and soft tag invalidations, and of the writes that follow them, at a
 * given number of entries (design in rb_invalcost.c).
 */
#ifndef RB_INVALCOST_H
#define RB_INVALCOST_H

#include <stddef.h>
#include <stdint.h>

#include "rb_hist.h"
#include "recache/recache.h"

#define RB_INVALCOST_KINDS 3 /* bump, hard tag invalidation, soft tag invalidation */

typedef struct rb_invalcost_cfg {
    const char *host;
    uint16_t port;
    const char *ns;
    uint64_t entries; /* filled before each invalidation */
    uint64_t writes;  /* timed writes after it */
    size_t value_len;
} rb_invalcost_cfg;

typedef struct rb_invalcost_row {
    const char *kind;
    uint64_t entries_held;    /* STATS entries after the fill */
    int evicting;             /* the server had evicted: the writes after reclaim or evict */
    uint64_t invalidation_us; /* the invalidation call itself */
    rb_hist writes_us;        /* each of the writes after it */
} rb_invalcost_row;

typedef struct rb_invalcost_result {
    rb_invalcost_row row[RB_INVALCOST_KINDS];
} rb_invalcost_result;

/* rb_invalcost_run - run every kind in turn on one connection; 0 or an RC_E* code. */
int rb_invalcost_run(const rb_invalcost_cfg *cfg, rb_invalcost_result *res);

/* rb_invalcost_print - one row per kind on stdout. */
void rb_invalcost_print(const rb_invalcost_cfg *cfg, const rb_invalcost_result *res);

#endif
