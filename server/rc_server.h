/*
 * rc_server.h - the server process: startup, worker threads, shutdown and
 * the per-worker state every request handler runs against.
 *
 * Design.  One main thread and N workers.  The main thread owns a small
 * libuv loop for signals, the store's background sweep timer and the one
 * listening socket: it accepts connections and deals them out to the
 * workers in turn (an accept task on each worker's queue), so connection
 * counts stay equal; it never reads or writes a client connection.  Each
 * worker owns one libuv loop and every connection dealt to it; a
 * connection never migrates.  The store (rc_store.h) is the
 * only structure shared by workers, and it is thread-safe on its own.
 *
 * Cross-thread work.  The only way to make another worker do something is
 * rc_worker_post() (the worker core, rc_worker.h): it queues an intrusive
 * rc_task under the worker's queue lock and wakes the worker's loop with
 * uv_async_send; the task then runs on that worker's thread, where it may
 * touch the worker's connections freely.  Shutdown and answers to parked
 * LGET requests (rc_park.h) use this path.  Pushed events (rc_sub.h) use
 * the same wakeup handle without a task: rc_worker_wake sets the worker's
 * `sub_pending` flag and wakes it, and the wakeup callback then copies new
 * events to its subscribers (through the core's on_wake hook).
 *
 * Limits.  The main thread backs off from accepting while accept(2) fails
 * for lack of descriptors or memory (rc_server.c).  Output held for
 * clients is bounded per connection (max-output) and node-wide
 * (max-output-total, the `output_bytes` gauge below), and each worker's
 * write_timer closes connections whose output stopped moving (rc_conn.h).
 *
 * Counters.  Each worker counts into its own rc_worker_stats.  Only the
 * owning worker writes a counter, so an increment is a relaxed load plus a
 * relaxed store (a plain add on x86, no locked instruction); STATS, which
 * may run on any worker, sums the counters with relaxed loads.  Totals may
 * be a few requests stale but are never torn.
 */
#ifndef RECACHE_RC_SERVER_H
#define RECACHE_RC_SERVER_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "rc_config.h"
#include "rc_events.h"
#include "rc_store.h"
#include "recache/rc_proto.h"

#ifndef RECACHE_VERSION
#error "RECACHE_VERSION must be defined by the build"
#endif

/* Process exit statuses. */
#define RC_EXIT_OK      0
#define RC_EXIT_FAILURE 1 /* could not start or run (address in use, no randomness, ...) */
#define RC_EXIT_CONFIG  2 /* the configuration is invalid */

typedef struct rc_server rc_server;
typedef struct rc_worker rc_worker;
typedef struct rc_conn rc_conn;
typedef struct rc_parked rc_parked;   /* rc_park.h */
typedef struct rc_sub rc_sub;         /* rc_sub.h */
typedef struct rc_control rc_control; /* rc_control.h */
typedef struct rc_peers rc_peers;     /* rc_peers.h */

/*
 * Per-worker counters: X(name, help).  Requests per opcode are kept in a
 * separate array indexed by opcode and named from RC_OPCODES.
 */
#define RC_WORKER_COUNTERS(X)                                                                      \
    X(connections_current, "client connections open now")                                          \
    X(connections_total, "client connections accepted since start")                                \
    X(connections_rejected, "connections refused because max-connections was reached")             \
    X(requests_total, "requests answered")                                                         \
    X(bytes_in, "bytes read from clients")                                                         \
    X(bytes_out, "bytes written to clients")                                                       \
    X(protocol_errors, "malformed frames received")                                                \
    X(output_throttled, "times a connection paused reading because its output passed max-output")  \
    X(output_total_throttled,                                                                      \
      "times a connection paused reading because the node's output passed max-output-total")       \
    X(write_timeouts, "connections closed because their output made no progress for "              \
                      "write-timeout-ms")                                                          \
    X(lease_parked, "LGET requests parked until a lease holder's fill")                            \
    X(lease_wait_timeouts, "parked LGET requests answered WAIT_TIMEOUT")                           \
    X(subscribers, "subscribed connections open now")                                              \
    X(events_sent, "event frames copied to subscribers")                                           \
    X(events_replayed, "events sent to a subscriber that resumed with replay")                     \
    X(resyncs, "RESYNC events sent (replay impossible or instance changed)")                       \
    X(slow_subscriber_disconnects, "subscribers cut off for falling behind (either rule)")         \
    X(subscriber_stall_disconnects,                                                                \
      "of which: events waited and their output wrote nothing for a "                              \
      "heartbeat interval")                                                                        \
    X(subscriber_ring_disconnects, "of which: an event they still needed left the event ring")     \
    X(heartbeats_sent, "HEARTBEAT events sent")                                                    \
    X(worker_yields, "times a worker let other runnable threads go first after running "           \
                     "worker-yield-us without waiting for input")                                  \
    X(worker_yields_costly,                                                                        \
      "of which: the worker was away more than four turns, which doubles its "                     \
      "next turn (CPU-bound neighbours)")

typedef struct rc_worker_stats {
#define RC__STAT_FIELD(name, help) _Atomic uint64_t name;
    RC_WORKER_COUNTERS(RC__STAT_FIELD)
#undef RC__STAT_FIELD
    _Atomic uint64_t requests[256]; /* answered requests, indexed by opcode */
    _Atomic uint64_t statuses[256]; /* responses with a status other than OK, indexed by status */
    /* Gauges sampled at each heartbeat tick (rc_sub.c): events not yet handed to subscribers. */
    _Atomic uint64_t sub_lag_max; /* the most any subscriber of this worker lags by */
    _Atomic uint64_t sub_lag_sum; /* the sum over its subscribers */
} rc_worker_stats;

/* Sum one rc_worker_stats field over every worker of srv into out (relaxed loads; see above). */
#define RC_SERVER_SUM(srv, field, out)                                                             \
    do {                                                                                           \
        (out) = 0;                                                                                 \
        for (unsigned rc__i = 0; rc__i < (srv)->nworkers; rc__i++)                                 \
            (out) +=                                                                               \
                atomic_load_explicit(&(srv)->workers[rc__i].stats.field, memory_order_relaxed);    \
    } while (0)

/* Add to a counter of the calling worker's own stats (single writer; see above). */
static inline void rc_stat_add(_Atomic uint64_t *counter, uint64_t n)
{
    uint64_t v = atomic_load_explicit(counter, memory_order_relaxed);
    atomic_store_explicit(counter, v + n, memory_order_relaxed);
}

/* Subtract from a counter of the calling worker's own stats (gauges such as connections_current).
 */
static inline void rc_stat_sub(_Atomic uint64_t *counter, uint64_t n)
{
    uint64_t v = atomic_load_explicit(counter, memory_order_relaxed);
    atomic_store_explicit(counter, v - n, memory_order_relaxed);
}

/*
 * A unit of cross-thread work.  The poster owns the task until
 * rc_worker_post() accepts it; from then on the worker runs task->run once
 * on its own thread, and run() owns (and usually frees) the task.
 */
typedef struct rc_task rc_task;
typedef void (*rc_task_fn)(rc_worker *w, rc_task *task);
struct rc_task {
    rc_task *next; /* queue link, owned by the queue */
    rc_task_fn run;
};

struct rc_worker {
    rc_server *server; /* immutable after startup */
    unsigned index;
    uv_loop_t loop;
    uv_thread_t thread;
    uv_async_t wakeup;      /* signalled by rc_worker_post */
    uv_timer_t drain_timer; /* shutdown deadline for flushing connections */
    uv_timer_t write_timer; /* write-timeout-ms checks of this worker's connections (rc_conn.h) */
    rc_task stop_task;      /* posted by the main thread on SIGINT/SIGTERM */
    void (*on_wake)(rc_worker *w); /* run after queued tasks on each wakeup (rc_worker.h) */
    const struct rc_worker_part *const *parts; /* rc_worker.h: set up and stopped in order */
    size_t nparts;

    /*
     * queue_lock guards tasks_head, tasks_tail and accepting_tasks.  It is
     * held only to link or unlink tasks and to call uv_async_send, never
     * while a task runs, so it cannot nest with any other lock.
     */
    uv_mutex_t queue_lock;
    rc_task *tasks_head, *tasks_tail;
    bool accepting_tasks;

    /* Everything below is touched only by this worker's thread. */
    bool stopping;     /* shutdown began: no new reads, connections drain */
    rc_conn *conns;    /* open connections (rc_conn.prev/next) */
    uint8_t *read_buf; /* shared read buffer for connections without partial input */
    size_t read_buf_size;
    uv_timer_t park_timer; /* armed for the earliest deadline in park_heap */
    rc_parked **park_heap; /* parked requests of this worker, a min-heap by deadline */
    size_t park_len, park_cap;
    rc_sub *subs;          /* subscribed connections of this worker (rc_sub.prev/next) */
    uv_timer_t sub_timer;  /* heartbeat-ms: heartbeats and cut-off deadlines (rc_sub.h) */
    uv_check_t turn_check; /* ends a turn longer than worker-yield-us (rc_worker.h) */
    uint64_t turn_ns;      /* worker-yield-us in ns; 0 = never yield, turn_check unused */
    uint64_t turn_pause;   /* no yield for this long after costly ones (0 = none) */
    uint32_t turn_debt;    /* costly yields not yet paid back by cheap ones (rc_worker.c) */
    uint64_t turn_resume;  /* uv_hrtime() before which no turn yields */
    uint64_t turn_idle;    /* the loop's idle time (uv_metrics_idle_time) as this turn began */
    uint64_t turn_start;   /* uv_hrtime() as this turn began */

    /*
     * Set by any publishing thread (exchange) before it wakes this worker,
     * cleared by the worker before it copies events: a publish that finds it
     * already set knows a fan-out is still to come and skips the wakeup.
     */
    _Atomic bool sub_pending;

    /* Written only by this worker; read by STATS on any worker (relaxed). */
    rc_worker_stats stats;
};

/*
 * The cluster's peers as the admin port reports them (/metrics, /cluster).
 * The cluster module fills them through rc_server.peer_list: it writes at
 * most cap views into out and returns how many it wrote.  Called on the
 * admin listener's thread, so it must be thread-safe and must not block.
 */
typedef struct rc_peer_view {
    char name[128];            /* the peer's address, "host:port" */
    char state[32];            /* "up", "down", "catching-up", ... */
    uint64_t last_exchange_ms; /* wall-clock ms of the last control-state exchange (0 = never) */
    uint64_t lag_ms;           /* 0 when the last exchange caught up, else ms since it last did */
    uint64_t lag_records;      /* the peer's control records this node has not applied yet */
} rc_peer_view;
typedef size_t (*rc_peer_list_fn)(void *ctx, rc_peer_view *out, size_t cap);

struct rc_server {
    const rc_config *cfg; /* owned by the caller of rc_server_run; immutable while running */
    rc_store *store;
    rc_events *events;    /* the node's event log (rc_events.h); thread-safe on its own */
    rc_control *control;  /* control log peers pull (rc_control.h); thread-safe on its own */
    rc_peers *peers;      /* puller threads of --peers (rc_peers.h); NULL without peers */
    rc_limits limits;     /* decoder limits derived from cfg */
    uint64_t instance_id; /* random per boot */
    uint64_t start_ns;    /* uv_hrtime() at startup, for uptime */
    unsigned nworkers;
    rc_worker *workers;

    /*
     * Open connections across all workers, for max-connections.  Touched only
     * on accept and close (not per request), with atomic read-modify-write.
     */
    _Atomic uint32_t connections;

    /*
     * Bytes of unsent output held by all connections (queued plus in
     * flight), for max-output-total.  Each connection adds or subtracts the
     * change of its own unsent bytes once per batch (rc_conn.h), with
     * atomic read-modify-write; readers load it relaxed.
     */
    _Atomic uint64_t output_bytes;

    /* Failed accept(2) calls since start; written by the main thread only, read by STATS. */
    _Atomic uint64_t accept_failures;

    /*
     * Data-port hardening, immutable after startup.  protected_only: the
     * data port is bound to a non-loopback address with protected-mode yes,
     * so connections from non-loopback peers are closed at accept
     * (protected_refusals counts them; main thread writes, anyone reads).
     * data_port_admin_ops false: FLUSH and NS_CONFIG answer FORBIDDEN.
     */
    bool protected_only;
    bool data_port_admin_ops;
    _Atomic uint64_t protected_refusals;

    struct rc_admin *admin; /* the TLS admin listener (rc_admin.h), NULL when not started */

    /* Cluster peers hook (see rc_peer_view): set before startup ends, then immutable; NULL = none.
     */
    rc_peer_list_fn peer_list;
    void *peer_list_ctx;

    /*
     * lost_lock guards `lost`: the delivery tasks of parked requests whose
     * worker had already stopped (rc_park.h), linked through rc_task.next
     * and freed by the main thread after the workers are joined.  Leaf lock.
     */
    uv_mutex_t lost_lock;
    rc_task *lost;

    /* Main-thread only. */
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    uv_timer_t sweep_timer;
    uv_poll_t accept_poll;   /* readable listen_fd: accept and hand connections out round-robin */
    uv_timer_t accept_timer; /* resumes accept_poll after a back-off (EMFILE and the like) */
    uint64_t accept_backoff_ms;   /* current back-off, 0 when accepting normally */
    uint64_t accept_unlogged;     /* failures not yet reported in a log line */
    uint64_t accept_episode;      /* failures since accepting last succeeded */
    bool accept_episode_logged;   /* a failure line was written since accepting last succeeded */
    uint64_t accept_logged_ms;    /* main loop time of the last accept-failure log line */
    bool accept_logged;           /* accept_logged_ms is meaningful */
    uint64_t protected_logged_ms; /* main loop time of the last protected-mode refusal line */
    bool protected_logged;        /* protected_logged_ms is meaningful */
    int listen_fd;                /* the one listening socket (-1 when none) */
    unsigned next_worker;         /* the worker that gets the next connection */
    bool stopping;
    struct sockaddr_storage addr; /* resolved bind address with the real port */
    char host[64];                /* bind address as text, without brackets */
    unsigned port;                /* real port (after port 0 was resolved) */
};

/*
 * rc_server_run - run a server with cfg (already validated) until SIGINT or
 * SIGTERM, then shut down cleanly.  Prints the ready line to stdout once
 * every worker listens.  Returns a process exit status: RC_EXIT_OK after a
 * clean shutdown, RC_EXIT_CONFIG when the store rejects the configuration
 * (memory too small for the shards, bad namespace settings),
 * RC_EXIT_FAILURE when startup fails (address in use, ...).  Everything it
 * allocated is freed before it returns.
 */
int rc_server_run(const rc_config *cfg);

/*
 * rc_worker_post - queue task for worker w and wake its loop.  Thread-safe,
 * callable from any thread.  Returns 0 (the worker now owns the task) or
 * RC_ESHUTTING_DOWN once the worker has stopped taking work (the caller
 * keeps the task).
 */
int rc_worker_post(rc_worker *w, rc_task *task);

/*
 * rc_worker_wake - have worker w copy new events to its subscribers soon.
 * Thread-safe; cheap when a wakeup is already pending; a no-op once the
 * worker stopped taking work (its subscribers got CLOSING already).
 */
void rc_worker_wake(rc_worker *w);

/*
 * rc_worker_conn_closed - called by rc_conn from a connection's close
 * callback after unlinking it, so a stopping worker can finish its
 * shutdown once its last connection is gone.  Worker thread only.
 */
void rc_worker_conn_closed(rc_worker *w);

/*
 * rc_server_stats_text - server-wide statistics as "name value\n" lines:
 * version, instance id, uptime, threads, the lease settings, the summed
 * worker counters, the per-opcode request counts and the store's own text
 * (which includes `parked`).  Safe from any worker thread.  Returns the
 * length written (truncated to cap).
 */
long rc_server_stats_text(rc_server *srv, char *buf, size_t cap);

#endif /* RECACHE_RC_SERVER_H */
