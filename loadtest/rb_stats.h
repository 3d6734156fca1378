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

#include <stdbool.h>
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
    X(answered, "responses over the whole run, warmup included: divides a server's CPU time "      \
                "measured around the bench process")                                               \
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
    X(key_invalidations, "key invalidations (INVALIDATE_KEY) acknowledged")                        \
    X(deletes, "DELETEs acknowledged (hard key invalidations)")                                    \
    X(soft_invalidations, "tag and key invalidations acknowledged that were soft")                 \
    X(big_writes, "writes and fills that carried a big value (--big-permille)")                    \
    X(chases, "hard tag invalidations sent right behind a big fill (--chase)")                     \
    X(l1_reads, "reads through the L1 near-cache (--l1), checked like the others")                 \
    X(l1_hits, "L1 reads answered with a fresh value (by the L1 or the server)")                   \
    X(l1_stale, "L1 reads answered with a value flagged stale (by the server)")                    \
    X(l1_misses, "L1 reads answered with no value")                                                \
    X(l1_errors, "L1 reads that failed (not a miss)")                                              \
    X(l1_sync_timeouts, "L1 read batches skipped: the L1 did not catch up with the node in time")  \
    X(checked, "values checked by the oracle")                                                     \
    X(stale_served, "values behind the newest acknowledged write")                                 \
    X(corrupt, "values that failed to decode (violation)")                                         \
    X(wrong_user, "values for another user (violation)")                                           \
    X(ghost_version, "values of a model version older than an acknowledged bump (violation)")      \
    X(ghost_key, "values written before an acknowledged hard key invalidation (violation)")        \
    X(ghost_tag, "values carrying a tag whose acknowledged hard invalidation came later "          \
                 "(violation)")                                                                    \
    X(ghost_soft, "soft-invalidated values served as fresh (violation)")                           \
    X(ghost_list, "lists served with an item whose suppression or removal was acknowledged "       \
                  "before the read was sent (violation)")                                          \
    X(l1_violations, "violations among the reads through an L1 subscribed to the bench's "         \
                     "namespace (included in the kinds above)")                                    \
    X(l1_outside_violations, "violations among the reads through an L1 whose filter leaves the "   \
                             "bench's namespace out (included in the kinds above)")

#define RB_ORIGIN_SECONDS 3600

typedef struct rb_stats {
#define RB__CTR_FIELD(name, help) uint64_t name;
    RB_COUNTERS(RB__CTR_FIELD)
#undef RB__CTR_FIELD
    rb_hist op[RB_OP_COUNT]; /* per operation, request to response, ns */
    rb_hist read;            /* reads until a value is available, ns */
    rb_hist staleness;       /* writes behind, per checked value */
    uint32_t origin_per_sec[RB_ORIGIN_SECONDS];
    uint32_t ops_per_sec[RB_ORIGIN_SECONDS]; /* measured responses per second of the window */
} rb_stats;

void rb_stats_reset(rb_stats *s);
void rb_stats_add(rb_stats *dst, const rb_stats *src);

/* rb_stats_violations - every oracle violation: corrupt, wrong user and the four ghost kinds. */
uint64_t rb_stats_violations(const rb_stats *s);

/*
 * rb_stats_verdict - count one oracle verdict (an rb_verdict, rb_oracle.h)
 * of a checked value: `checked`, the violation's own counter, or for OK the
 * staleness (writes behind) and `stale_served`.  Returns true for a
 * violation.  The stats are the calling thread's own.
 */
bool rb_stats_verdict(rb_stats *s, int verdict, uint64_t staleness);

#endif
