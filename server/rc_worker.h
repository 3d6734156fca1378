/*
 * rc_worker.h - the worker core: a thread's libuv loop, its cross-thread
 * task queue and its wake-ups, knowing nothing about connections.
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
 * Layering.  This module owns the loop, the queue and the wake-up; the
 * server (rc_server.c) assembles the rest of a worker around it: the park
 * heap (rc_park.h), the subscriber list and heartbeat timer (rc_sub.h),
 * the connections and their write timer (rc_conn.h).  Those fields still
 * live in struct rc_worker (rc_server.h) rather than in per-module state
 * registered with the core; see docs/ADMIN.md for what remains.
 *
 * Locking: queue_lock guards tasks_head, tasks_tail and accepting_tasks
 * (rc_server.h); it is a leaf lock, never held while a task runs.
 */
#ifndef RECACHE_RC_WORKER_H
#define RECACHE_RC_WORKER_H

#include "rc_server.h"

/*
 * rc_worker_core_init - initialise w's queue lock and loop and record
 * on_wake (run after the queued tasks on every wakeup; may be NULL).
 * Returns 0, or a libuv error with nothing left initialised.  Startup
 * (main thread), before the worker's thread exists.
 */
int rc_worker_core_init(rc_worker *w, void (*on_wake)(rc_worker *w));

/* rc_worker_core_wakeup_init - create w's wakeup handle on its loop.  0 or a libuv error. */
int rc_worker_core_wakeup_init(rc_worker *w);

/*
 * rc_worker_core_stop - on w's thread: refuse further tasks, close the
 * wakeup handle and run every task already queued.
 */
void rc_worker_core_stop(rc_worker *w);

/* rc_worker_core_destroy - release the queue lock (the loop is closed by the caller). */
void rc_worker_core_destroy(rc_worker *w);

#endif /* RECACHE_RC_WORKER_H */
