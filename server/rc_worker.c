/*
 * rc_worker.c - the worker core: task queue, wake-ups, stop (see
 * rc_worker.h).
 */
#define _GNU_SOURCE

#include "rc_worker.h"

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
