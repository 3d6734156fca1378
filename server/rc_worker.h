/*
 * rc_worker.h - the worker core: a thread's libuv loop, its cross-thread
 * task queue, its wake-ups and its turns, knowing nothing about
 * connections.
 *
 * Design.  Another thread makes a worker do something only through
 * rc_worker_post (declared in rc_server.h): the task is queued under the
 * worker's queue lock and the loop woken with uv_async_send; the wakeup
 * callback runs the queued tasks in order, then the worker's on_wake hook
 * (the server sets it to the subscribers' fan-out, rc_sub.h), which is how
 * rc_worker_wake's coalesced "new events" signal is delivered.  Stopping
 * closes the queue for good, closes the wakeup handle and runs what was
 * queued, so no task is lost and no uv_async_send can hit a closing
 * handle.
 *
 * Parts.  This module owns the loop, the queue, the wake-up and the turns;
 * the rest of a worker is parts the server registers with it
 * (rc_worker_part): the subscribers (rc_sub.h), the connections
 * (rc_conn.h) and the parked requests (rc_park.h).  Each part sets up its own per-worker handles,
 * stops at shutdown and releases what it holds; the core calls them in
 * the order registered (setup and stop) and releases them after the loop
 * closed.  Their fields still live in struct rc_worker (rc_server.h).
 *
 * Turns.  A worker that always finds input waiting never blocks, so the
 * kernel sees a thread that runs whole time slices; on cores shared with
 * its clients it is then preempted for a slice or more at a time, and all
 * its connections wait that long.  So at the end of a loop iteration (a
 * check handle), a worker that has run for worker-yield-us since it last
 * waited for input calls sched_yield: the threads already waiting for its
 * core (typically the clients it just answered) run first, and it comes
 * back to a fresh turn.  Only there: every connection that was ready has
 * been served by then, while a yield after one connection's batch leaves
 * the others waiting behind the threads it lets run (tried: at 50,000
 * requests/s the p99 went from 1.6-2.0 ms to 4.4-26 ms).  Whether it waited is read from libuv's
 * idle-time metric, which grows only while the loop blocks for input.  On two cores shared with the
 * load generator this takes the closed-loop GET p99 from about 6 ms to about 1 ms at pipeline 1
 * (docs/BENCHMARKS.md).  A worker alone on its core pays one system call per turn.
 *
 * A yield pays off when the threads it lets go first are clients that
 * block again soon; a CPU-bound neighbour instead keeps the core for its
 * whole slice (two `yes` processes on the two cores halved the throughput
 * of a worker that yielded every turn).  So a yield that kept the worker
 * away for more than RC__TURN_AWAY_FACTOR turns is costly, and four costly
 * yields close together (not paid back by eight cheap ones each) stop the
 * worker yielding for a pause that starts at 10 ms and doubles with each
 * further costly probe up to 1 s.  Clients make a costly yield now and
 * then (under 1% of them on the benchmark); a CPU-bound neighbour makes
 * about half of them costly.  Cheap yields pay the debt back and halve the
 * pause, so yielding resumes by itself once the neighbours are gone.
 *
 * Locking: queue_lock guards tasks_head, tasks_tail and accepting_tasks
 * (rc_server.h); it is a leaf lock, never held while a task runs.
 */
#ifndef RECACHE_RC_WORKER_H
#define RECACHE_RC_WORKER_H

#include "rc_server.h"

/*
 * A part of every worker.  setup: its handles on the worker's loop (main
 * thread, at startup; 0 or a libuv error; handles made before a failure
 * are closed with the loop).  stop: on the worker's thread at shutdown,
 * after the core stopped taking tasks and ran the queued ones.  release:
 * after the loop closed (may be NULL).
 */
typedef struct rc_worker_part {
    const char *name;
    int (*setup)(rc_worker *w);
    void (*stop)(rc_worker *w);
    void (*release)(rc_worker *w);
} rc_worker_part;

/*
 * rc_worker_core_init - initialise w's queue lock and loop, record on_wake
 * (run after the queued tasks on every wakeup; may be NULL) and the parts
 * (nparts of them, static, in the order they set up and stop).  Returns
 * 0, or a libuv error with nothing left initialised.  Startup (main
 * thread), before the worker's thread exists.
 */
int rc_worker_core_init(rc_worker *w, void (*on_wake)(rc_worker *w),
                        const rc_worker_part *const *parts, size_t nparts);

/*
 * rc_worker_parts_setup - set up every part of w in order.  0, or the
 * first failure's libuv error with *failed naming that part.
 */
int rc_worker_parts_setup(rc_worker *w, const char **failed);

/* rc_worker_parts_release - release every part of w (after its loop closed). */
void rc_worker_parts_release(rc_worker *w);

/* rc_worker_core_wakeup_init - create w's wakeup handle on its loop.  0 or a libuv error. */
int rc_worker_core_wakeup_init(rc_worker *w);

/*
 * rc_worker_core_turns_init - end w's turns after yield_us microseconds of
 * running without waiting for input (see Turns above); 0 = never, nothing
 * set up.  Startup (main thread), before the loop first runs.  0 or a
 * libuv error.
 */
int rc_worker_core_turns_init(rc_worker *w, uint64_t yield_us);

/*
 * rc_worker_core_stop - on w's thread: refuse further tasks, close the
 * wakeup handle and the turn check, run every task already queued, then
 * stop every part in order.
 */
void rc_worker_core_stop(rc_worker *w);

/* rc_worker_core_destroy - release the queue lock (the loop is closed by the caller). */
void rc_worker_core_destroy(rc_worker *w);

#endif /* RECACHE_RC_WORKER_H */
