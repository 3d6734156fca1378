/*
 * rb_stats.h - what one load thread measures, and how threads are merged.
 *
 * Design.  Counters are one X-macro table (name, help) so merging, the text
 * table and the JSON report never miss one.  Latency histograms are kept
 * per operation, plus "read" (a read from send until the reader has a value,
 * including any origin recompute it waited for) and the staleness
 * distribution.  Origin calls are also counted per second of the run.
 * Each thread owns its rb_stats; rb_stats_add merges after the threads end.
 */
#ifndef RB_STATS_H
#define RB_STATS_H

#include <stdint.h>

#include "rb_hist.h"
#include "rb_wire.h"

#define RB_COUNTERS(X)                                                                             \
    X(reads, "read requests answered")                                                             \
    X(writes, "workload writes answered")                                                          \
    X(hits, "reads answered with a fresh value")                                                   \
    X(stale_hits, "reads answered with a value flagged stale")                                     \
    X(misses, "reads answered with no value")                                                      \
    X(errors, "error responses and failed connections")                                            \
    X(leases_won, "lease reads that were handed a lease")                                          \
    X(lease_held, "lease reads told another reader holds the lease")                               \
    X(wait_timeouts, "parked lease reads that timed out")                                          \
    X(too_many_waiters, "lease reads refused because too many were parked")                        \
    X(fills, "values written after an origin recompute")                                           \
    X(fills_rejected, "fills refused (lease no longer current, or not stored)")                    \
    X(origin_calls, "recomputes started at the simulated origin")                                  \
    X(origin_queued, "recomputes that had to queue for an origin slot")                            \
    X(bumps, "namespace bumps acknowledged")                                                       \
    X(tag_invalidations, "tag invalidations acknowledged")                                         \
    X(key_invalidations, "key invalidations acknowledged")                                         \
    X(checked, "values checked by the oracle")                                                     \
    X(stale_served, "values behind the newest acknowledged write")                                 \
    X(corrupt, "values that failed to decode (violation)")                                         \
    X(wrong_user, "values for another user (violation)")                                           \
    X(ghosts, "values of a model version older than an acknowledged bump (violation)")

#define RB_ORIGIN_SECONDS 3600

typedef struct rb_stats {
#define RB__CTR_FIELD(name, help) uint64_t name;
    RB_COUNTERS(RB__CTR_FIELD)
#undef RB__CTR_FIELD
    rb_hist op[RB_OP_COUNT]; /* per operation, request to response, ns */
    rb_hist read;            /* reads until a value is available, ns */
    rb_hist staleness;       /* writes behind, per checked value */
    uint32_t origin_per_sec[RB_ORIGIN_SECONDS];
} rb_stats;

void rb_stats_reset(rb_stats *s);
void rb_stats_add(rb_stats *dst, const rb_stats *src);

#endif
