/*
 * rb_l1.h - L1 readers: threads that read through librecache's near-cache
 * (rc_l1_get) while the load runs, every answer judged by the run's oracle.
 *
 * Design.  One rc_l1 (its own subscription channel thread, inside the
 * library) is shared by `readers` threads, each with its own rc_client
 * (the client is one-thread-at-a-time; the L1 is thread-safe).  A reader
 * draws users from the run's Zipf distribution and, per read, takes the
 * oracle snapshot and send stamp, calls rc_l1_get, and judges what it
 * returns: an L1 read is a read sent when its snapshot is taken and
 * acknowledged when rc_l1_get returns, whether the L1 or the server
 * answered.  So a value the L1 keeps after an acknowledged invalidation is
 * caught exactly like one the server serves.
 *
 * The L1 learns of invalidations asynchronously, through events, so "after
 * an acknowledged invalidation" has to include the L1 having heard of it:
 * reads go in batches, and between the batch's snapshots and its reads the
 * reader waits, with the library's documented barrier (rc_node_seq, then
 * rc_l1_wait_applied), until the L1 has applied every event the node had
 * published.  Propagation delay is therefore never reported as a ghost; an
 * event that is never published (or filtered away) is.
 *
 * Subscription filters (--l1-filter): "ns" subscribes the L1 to the bench's
 * namespace, "all" to every namespace, "outside" to another namespace only
 * (so the bench's namespace is outside the filter: the L1 gets none of its
 * KEY or BUMP events and must let its reads bypass, issue 9 defect 3; there
 * is no propagation to wait for, so these readers skip the sync), "mixed" opens two L1s, one "ns"
 * and one "outside", with the readers dealt alternately over them (reader i uses L1 i % 2).
 *
 * Lifecycle: rb_l1_open (before the load: opens the L1 and waits, on the
 * library's condition variable, until its channel has caught up with the
 * node), rb_l1_start (when the measured clock is set), rb_l1_finish (after
 * the load threads ended: stop, join, merge statistics, close).  The
 * readers stop at t_end or when *stop becomes non-zero, whichever is first.
 */
#ifndef RB_L1_H
#define RB_L1_H

#include <stdatomic.h>
#include <stdint.h>

#include "rb_oracle.h"
#include "rb_stats.h"
#include "rb_zipf.h"
#include "recache/recache.h"

typedef struct rb_l1_cfg {
    const char *host;
    int port;
    const char *ns;
    uint32_t readers;   /* threads, >= 1 */
    const char *filter; /* "ns", "all", "outside" or "mixed" (see the design) */
    const rb_zipf *zipf;
    rb_oracle *oracle;
    uint64_t seed;
    _Atomic int *stop; /* the engine sets it when the load is over */
} rb_l1_cfg;

typedef struct rb_l1_run rb_l1_run;

/* rb_l1_filter_ok - whether `filter` names a subscription filter (see the design). */
int rb_l1_filter_ok(const char *filter);

/*
 * rb_l1_open - open the L1(s) of cfg->filter and wait up to 5 s each until
 * it has applied the node's current event sequence.  *cfg must outlive the
 * run.  Returns 0 and *out, or RC_EINVAL (unknown filter), RC_ENOMEM, a
 * connection error, or RC_ETIMEDOUT (nothing left open on failure).
 */
int rb_l1_open(const rb_l1_cfg *cfg, rb_l1_run **out);

/*
 * rb_l1_start - start the reader threads; reads sent at or after t_measure
 * (uv_hrtime ns) are counted as measured, none are sent at or after t_end.
 * Returns 0 or RC_ENOMEM (threads that did start are joined by finish).
 */
int rb_l1_start(rb_l1_run *r, uint64_t t_measure, uint64_t t_end);

/*
 * rb_l1_finish - set *stop, join the readers, add their statistics to *into
 * (may be NULL), copy the L1s' own counters (summed over both with "mixed")
 * to *l1 (may be NULL), close and free.  NULL r
 * is allowed (nothing happens).
 */
void rb_l1_finish(rb_l1_run *r, rb_stats *into, rc_l1_stats *l1);

#endif
