/*
 * rb_engine.h - the load engine: threads, connections, pipelining, the
 * simulated origin, scheduled invalidation events and the oracle.
 *
 * Design.  Each load thread runs its own libuv loop over its share of the
 * connections; nothing on the hot path is shared except the oracle's
 * atomics and the request budget.  A connection keeps up to `pipeline`
 * requests in flight in a slot table (recache answers are matched by
 * request id, since a parked lease read may be answered late; memcached and
 * Redis answer in order).  A read that misses in cache-aside mode, or wins a
 * lease in lease mode, becomes an origin job: it waits for one of the
 * thread's origin slots, "recomputes" for origin-ms on a uv timer (the loop
 * never blocks), and then its value is written back as a fill, sent ahead
 * of new workload requests but within the same pipeline limit.
 *
 * Closed loop (default): a connection sends its next workload request as
 * soon as it has room in its pipeline, so the server runs at its maximum.
 * Open loop (--rate R): requests are scheduled every 1/R s, dealt round
 * robin over all connections; each thread sleeps on a timerfd until its next
 * request is due.  A request is sent when due and its connection has room
 * (--pipeline caps requests in flight), otherwise it waits; either way its
 * latency counts from its scheduled time, so a stalled server is charged for
 * the requests it kept waiting (no coordinated omission).  Requests
 * scheduled inside the measured window are measured even if they can only
 * be sent after it ends; the drain waits for them.
 *
 * Phases: all connections are opened first and the threads start together
 * (a barrier), so a herd really is simultaneous; then warm-up (load, not
 * counted), then the measured window (--duration seconds or --requests
 * requests), then a bounded drain that lets in-flight requests and fills
 * finish.  Thread 0 also owns a control connection for the scheduled
 * events (bump, tag and key invalidation, delete).  With --l1, reader
 * threads read through the client library's L1 near-cache alongside
 * (rb_l1.h), judged by the same oracle.
 *
 * The oracle (rb_oracle.h) is fed at two points: every request takes its
 * snapshot and send stamp when its slot is taken, before its bytes are
 * written; every answer is stamped when it is dispatched, before anything
 * else looks at it.  Writes record their ack stamp, invalidations theirs.
 */
#ifndef RB_ENGINE_H
#define RB_ENGINE_H

#include <stdint.h>

#include "rb_opts.h"
#include "rb_stats.h"
#include "rb_wire.h"
#include "recache/recache.h"

typedef enum rb_mode {
    RB_MODE_PLAIN = 0,   /* get / set */
    RB_MODE_CACHE_ASIDE, /* get; on a miss recompute at the origin, then set */
    RB_MODE_LEASE,       /* lget with wait; the lease winner recomputes and fills with its token */
} rb_mode;

/* rb_mode_parse - "plain", "cache-aside" or "lease"; 0 or RC_EINVAL. */
int rb_mode_parse(const char *s, rb_mode *m);
const char *rb_mode_name(rb_mode m);

/* Engine settings beyond the options (used by the herd and fill phases). */
typedef struct rb_engine_cfg {
    const rb_opts *o;
    rb_target target;
    rb_mode mode;
    int port;
    int fill_only;           /* write every user once, nothing measured, no warm-up */
    uint32_t per_conn_reads; /* 0 = unlimited, else each connection sends this many reads */
    int fixed_user;          /* 1 = every request is for user 0 (herd) */
    int quiet;               /* no progress line */
} rb_engine_cfg;

typedef struct rb_result {
    rb_stats *stats;        /* merged over threads (heap; free with rb_result_free) */
    double measured_s;      /* measured window; open loop: until the last answer if later */
    double wall_s;          /* whole run including warm-up and drain */
    uint64_t start_version; /* namespace version before the run (recache) */
    uint64_t final_bump;    /* newest bump acknowledged */
    int connect_failures;
    int l1_readers; /* --l1 reader threads that ran (0 = no L1) */
    rc_l1_stats l1; /* the L1's own counters at the end (when l1_readers > 0) */
} rb_result;

/*
 * rb_engine_run - run one load test to completion.  Blocks the calling
 * thread, which only prints progress.  Returns 0 with *res filled (the
 * oracle's verdicts are in res->stats), or a negative RC_E* code when the
 * run could not be set up (bad address, no connection at all, no memory).
 */
int rb_engine_run(const rb_engine_cfg *cfg, rb_result *res);
void rb_result_free(rb_result *res);

#endif
