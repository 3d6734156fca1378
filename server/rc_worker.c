/*
 * rc_worker.c - the worker core: task queue, wake-ups, turns, stop (see
 * rc_worker.h).
 */
#define _GNU_SOURCE

#include "rc_worker.h"

#include <sched.h>
#include <stdatomic.h>

int rc_worker_post(rc_worker *w, rc_task *task)
{
    task->next = NULL;
    uv_mutex_lock(&w->queue_lock);
    if (!w->accepting_tasks) {
        uv_mutex_unlock(&w->queue_lock);
        return RC_ESHUTTING_DOWN;
    }
    if (w->tasks_tail != NULL)
        w->tasks_tail->next = task;
    else
        w->tasks_head = task;
    w->tasks_tail = task;
    /* Sent under the lock so it cannot race the worker closing `wakeup` (rc_worker_core_stop). */
    uv_async_send(&w->wakeup);
    uv_mutex_unlock(&w->queue_lock);
    return 0;
}

/* Run a detached list of tasks in order; each task's run() owns it from then on. */
static void rc__run_tasks(rc_worker *w, rc_task *task)
{
    while (task != NULL) {
        rc_task *next = task->next;
        task->next = NULL;
        task->run(w, task);
        task = next;
    }
}

/* Detach the whole queue under the lock; `accept_more` false closes it for good. */
static rc_task *rc__take_tasks(rc_worker *w, bool accept_more)
{
    uv_mutex_lock(&w->queue_lock);
    rc_task *list = w->tasks_head;
    w->tasks_head = w->tasks_tail = NULL;
    if (!accept_more)
        w->accepting_tasks = false;
    uv_mutex_unlock(&w->queue_lock);
    return list;
}

void rc_worker_wake(rc_worker *w)
{
    /* Already pending: the worker has not started its fan-out yet and will see our event. */
    if (atomic_exchange_explicit(&w->sub_pending, true, memory_order_acq_rel))
        return;
    uv_mutex_lock(&w->queue_lock);
    if (w->accepting_tasks) /* see rc_worker_post: `wakeup` is open while this holds */
        uv_async_send(&w->wakeup);
    uv_mutex_unlock(&w->queue_lock);
}

/* Queued tasks first, then the on_wake hook (new events for subscribers, rc_worker_wake). */
static void rc__on_wakeup(uv_async_t *handle)
{
    rc_worker *w = handle->data;
    rc__run_tasks(w, rc__take_tasks(w, true));
    if (w->on_wake != NULL)
        w->on_wake(w);
}

int rc_worker_core_init(rc_worker *w, void (*on_wake)(rc_worker *w),
                        const rc_worker_part *const *parts, size_t nparts)
{
    w->on_wake = on_wake;
    w->parts = parts;
    w->nparts = nparts;
    w->accepting_tasks = true;
    int rc = uv_mutex_init(&w->queue_lock);
    if (rc != 0)
        return rc;
    rc = uv_loop_init(&w->loop);
    if (rc != 0)
        uv_mutex_destroy(&w->queue_lock);
    return rc;
}

int rc_worker_core_wakeup_init(rc_worker *w)
{
    w->wakeup.data = w;
    return uv_async_init(&w->loop, &w->wakeup, rc__on_wakeup);
}

/* A yield that kept the worker away for more than this many turns was costly (rc_worker.h). */
#define RC__TURN_AWAY_FACTOR 4u
/* Debt a costly yield adds; a cheap one pays back 1, and debt reaching RC__TURN_DEBT_MAX pauses. */
#define RC__TURN_COSTLY_DEBT 8u
#define RC__TURN_DEBT_MAX    32u
/* The first pause in yielding, and the longest, in ns. */
#define RC__TURN_PAUSE_MIN_NS 10000000u
#define RC__TURN_PAUSE_MAX_NS 1000000000u

/*
 * After one yield that kept w away for `away` ns: a costly yield adds debt,
 * and four of them not paid back by cheap ones pause yielding (10 ms, then
 * doubling while it stays costly); cheap yields pay the debt back and,
 * once it is paid, halve the pause (rc_worker.h, Turns).
 */
static void rc__turn_adapt(rc_worker *w, uint64_t away, uint64_t back)
{
    if (away > RC__TURN_AWAY_FACTOR * w->turn_ns) {
        rc_stat_add(&w->stats.worker_yields_costly, 1);
        w->turn_debt += RC__TURN_COSTLY_DEBT;
        if (w->turn_debt < RC__TURN_DEBT_MAX)
            return;
        uint64_t pause = w->turn_pause == 0 ? RC__TURN_PAUSE_MIN_NS : w->turn_pause * 2;
        w->turn_pause = pause > RC__TURN_PAUSE_MAX_NS ? RC__TURN_PAUSE_MAX_NS : pause;
        w->turn_resume = back + w->turn_pause;
        w->turn_debt = RC__TURN_DEBT_MAX - RC__TURN_COSTLY_DEBT; /* a costly probe pauses again */
        return;
    }
    if (w->turn_debt > 0 && --w->turn_debt > 0)
        return;
    w->turn_pause = w->turn_pause / 2 < RC__TURN_PAUSE_MIN_NS ? 0 : w->turn_pause / 2;
}

/*
 * The end of a loop iteration, when every connection that was ready has
 * been served: a new turn began if the loop waited for input since the
 * last check; a turn past turn_ns yields unless yielding is paused, and
 * how long the worker was away adapts the pause (rc_worker.h, Turns).
 * Worker thread only.
 */
static void rc__on_turn_check(uv_check_t *check)
{
    rc_worker *w = check->data;
    uint64_t idle = uv_metrics_idle_time(&w->loop);
    uint64_t now = uv_hrtime();
    if (idle != w->turn_idle) {
        w->turn_idle = idle;
        w->turn_start = now;
        return;
    }
    if (now - w->turn_start < w->turn_ns || now < w->turn_resume)
        return;
    sched_yield();
    uint64_t back = uv_hrtime();
    rc_stat_add(&w->stats.worker_yields, 1);
    rc__turn_adapt(w, back - now, back);
    w->turn_start = back;
}

int rc_worker_core_turns_init(rc_worker *w, uint64_t yield_us)
{
    if (yield_us == 0)
        return 0;
    int rc = uv_loop_configure(&w->loop, UV_METRICS_IDLE_TIME);
    if (rc == 0)
        rc = uv_check_init(&w->loop, &w->turn_check);
    if (rc != 0)
        return rc;
    w->turn_check.data = w;
    /* The check only observes the loop: it must not keep a stopping loop alive. */
    uv_unref((uv_handle_t *)&w->turn_check);
    rc = uv_check_start(&w->turn_check, rc__on_turn_check);
    if (rc == 0)
        w->turn_ns = yield_us * 1000u;
    return rc;
}

int rc_worker_parts_setup(rc_worker *w, const char **failed)
{
    for (size_t i = 0; i < w->nparts; i++) {
        int rc = w->parts[i]->setup(w);
        if (rc != 0) {
            *failed = w->parts[i]->name;
            return rc;
        }
    }
    return 0;
}

void rc_worker_core_stop(rc_worker *w)
{
    rc_task *pending = rc__take_tasks(w, false);
    uv_close((uv_handle_t *)&w->wakeup, NULL);
    if (w->turn_ns != 0)
        uv_close((uv_handle_t *)&w->turn_check, NULL);
    rc__run_tasks(w, pending);
    for (size_t i = 0; i < w->nparts; i++)
        w->parts[i]->stop(w);
}

void rc_worker_parts_release(rc_worker *w)
{
    for (size_t i = 0; i < w->nparts; i++) {
        if (w->parts[i]->release != NULL)
            w->parts[i]->release(w);
    }
}

void rc_worker_core_destroy(rc_worker *w)
{
    uv_mutex_destroy(&w->queue_lock);
}
