/*
 * rc_park.c - parked LGET requests (see rc_park.h for the ownership and
 * threading design).
 *
 * Each worker keeps its parked requests in a binary min-heap ordered by
 * deadline (worker->park_heap, each record knowing its slot) and one
 * uv_timer armed for the earliest deadline.  Removing a record never
 * re-arms the timer: if it was the earliest, the timer fires once early,
 * finds nothing due and re-arms for the new earliest, which keeps the
 * common path (a fill answering hundreds of waiters) free of timer churn.
 *
 * Every answer is written on the owning worker's thread by one of three
 * paths, each only after the store said this path detached the waiter:
 * rc__park_answer_woken (a woken list), rc__park_expire (the deadline) and
 * the shutdown path.  Abandonment answers nothing and frees only what it
 * detached itself.
 */
#define _POSIX_C_SOURCE 200809L

#include "rc_park.h"

#include <stdlib.h>
#include <string.h>

#include "rc_alloc.h"
#include "rc_conn.h"
#include "rc_log.h"
#include "rc_store.h"
#include "rc_store_list.h"

#define RC__PARKED_OF(ptr, member)                                                                 \
    ((rc_parked *)(void *)((char *)(ptr)-offsetof(rc_parked, member)))

/* ---- the shared value of a fill ------------------------------------------------------------- */

static rc_park_value *rc__value_new(const uint8_t *data, uint32_t len)
{
    rc_park_value *v = rc_xmalloc(sizeof(*v) + len);
    atomic_init(&v->refs, 1);
    v->len = len;
    if (len > 0)
        memcpy(v->data, data, len);
    return v;
}

static void rc__value_ref(rc_park_value *v)
{
    atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
}

/* Drop one reference; the last one frees (acq_rel orders every user's reads before the free). */
static void rc__value_unref(rc_park_value *v)
{
    if (atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) == 1)
        free(v);
}

/* ---- records -------------------------------------------------------------------------------- */

rc_parked *rc_park_new(rc_conn *c, uint32_t request_id)
{
    rc_parked *p = rc_xcalloc(1, sizeof(*p));
    p->worker = c->worker;
    p->conn = c;
    p->request_id = request_id;
    p->opcode = RC_OP_LGET;
    p->kind = RC_KIND_BYTES;
    p->heap_index = RC_PARK_NO_HEAP;
    return p;
}

void rc_park_free(rc_parked *p)
{
    if (p->value != NULL)
        rc__value_unref(p->value);
    free(p->list);
    free(p);
}

/* ---- the deadline heap (owning worker only) ------------------------------------------------- */

static void rc__heap_set(rc_worker *w, size_t i, rc_parked *p)
{
    w->park_heap[i] = p;
    p->heap_index = i;
}

static void rc__heap_up(rc_worker *w, size_t i)
{
    rc_parked *p = w->park_heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (w->park_heap[parent]->deadline_ms <= p->deadline_ms)
            break;
        rc__heap_set(w, i, w->park_heap[parent]);
        i = parent;
    }
    rc__heap_set(w, i, p);
}

static void rc__heap_down(rc_worker *w, size_t i)
{
    rc_parked *p = w->park_heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= w->park_len)
            break;
        if (child + 1 < w->park_len &&
            w->park_heap[child + 1]->deadline_ms < w->park_heap[child]->deadline_ms)
            child++;
        if (p->deadline_ms <= w->park_heap[child]->deadline_ms)
            break;
        rc__heap_set(w, i, w->park_heap[child]);
        i = child;
    }
    rc__heap_set(w, i, p);
}

static void rc__heap_push(rc_worker *w, rc_parked *p)
{
    if (w->park_len == w->park_cap) {
        w->park_cap = w->park_cap > 0 ? w->park_cap * 2 : 64;
        w->park_heap = rc_xrealloc(w->park_heap, w->park_cap * sizeof(w->park_heap[0]));
    }
    w->park_heap[w->park_len++] = p;
    rc__heap_up(w, w->park_len - 1);
}

/* Take p out of the heap if it is in it. */
static void rc__heap_remove(rc_worker *w, rc_parked *p)
{
    size_t i = p->heap_index;
    if (i == RC_PARK_NO_HEAP)
        return;
    p->heap_index = RC_PARK_NO_HEAP;
    rc_parked *last = w->park_heap[--w->park_len];
    if (last == p)
        return;
    rc__heap_set(w, i, last);
    rc__heap_up(w, i);
    rc__heap_down(w, last->heap_index);
}

static void rc__park_on_timer(uv_timer_t *timer);

/* Arm the timer for the earliest deadline (nothing to do once it is closing). */
static void rc__park_rearm(rc_worker *w)
{
    if (uv_is_closing((uv_handle_t *)&w->park_timer))
        return;
    if (w->park_len == 0) {
        uv_timer_stop(&w->park_timer);
        return;
    }
    uint64_t now = uv_now(&w->loop);
    uint64_t due = w->park_heap[0]->deadline_ms;
    uv_timer_start(&w->park_timer, rc__park_on_timer, due > now ? due - now : 0, 0);
}

/* ---- answering (owning worker only) --------------------------------------------------------- */

/*
 * Forget the worker's references to p: its heap slot and its connection
 * link.  Returns the connection, or NULL if p was orphaned.
 */
static rc_conn *rc__park_unlink(rc_parked *p)
{
    rc__heap_remove(p->worker, p);
    rc_conn *c = p->conn;
    if (c == NULL)
        return NULL;
    if (p->conn_prev != NULL)
        p->conn_prev->conn_next = p->conn_next;
    else
        c->parked = p->conn_next;
    if (p->conn_next != NULL)
        p->conn_next->conn_prev = p->conn_prev;
    p->conn_prev = p->conn_next = NULL;
    p->conn = NULL;
    return c;
}

/* An LGET response skeleton for p: no lease, fresh state, empty value. */
static rc_msg rc__lget_response(const rc_parked *p, uint16_t status)
{
    rc_msg resp = {0};
    resp.opcode = p->opcode;
    resp.hflags = RC_HF_RESPONSE;
    resp.request_id = p->request_id;
    resp.status = status;
    resp.state = RC_STATE_FRESH;
    resp.lease = RC_LEASE_NONE;
    resp.ns_version = p->ns_version;
    return resp;
}

/* Append resp to c (already unlinked from p), free p, send.  Never fails. */
static void rc__park_reply(rc_conn *c, rc_parked *p, const rc_msg *resp)
{
    int err = rc_conn_send(c, resp);
    if (err != 0) {
        rc_log_error("cannot encode a parked lget response: %s", rc_strerror(err));
        rc_conn_send_error(c, p->opcode, p->request_id, RC_EINTERNAL,
                           "the response could not be encoded");
    }
    rc_park_free(p);
    rc_conn_flush(c);
}

/* RELEASED: the layout of a fresh hit with the value the fill stored. */
static void rc__released_response(const rc_parked *p, rc_msg *resp)
{
    resp->status = RC_STATUS_OK;
    resp->ns_version = p->fill_ns_version;
    resp->entry_version = p->fill_entry_version;
    resp->client_flags = p->fill_client_flags;
    resp->ttl_ms = p->fill_ttl_ms;
    resp->value.ptr = p->value->data;
    resp->value.len = p->value->len;
}

/*
 * A RELEASED LIST_LGET: the filled list through the reader's filter (exclude
 * set, the namespace's suppressions now, top N), like any list read.
 */
static void rc__park_answer_list(rc_conn *c, rc_parked *p, rc_msg *resp)
{
    rc__released_response(p, resp);
    uint8_t *items = NULL;
    if (p->value->len > 0) {
        items = rc_xmalloc(p->value->len);
        memcpy(items, p->value->data, p->value->len);
    }
    const rc_park_list *l = p->list;
    uint32_t kept = rc_store_list_filter(p->worker->server->store, (rc_slice){l->ns, l->ns_len},
                                         items, p->value->len / RC_ITEM_SIZE, l->exclude,
                                         l->nexclude, l->top, uv_now(&p->worker->loop), NULL);
    resp->value.ptr = items;
    resp->value.len = kept * RC_ITEM_SIZE;
    rc__park_reply(c, p, resp);
    free(items);
}

/*
 * Answer p, detached by a woken list, on its owner: RELEASED gets the
 * value, PROMOTED the new lease, anything else (CANCELLED, or a RELEASED
 * without a value, which only a store bug could produce) a MISS without a
 * lease so the reader retries.  An orphan is just freed.
 */
static void rc__park_answer_woken(rc_parked *p)
{
    rc_conn *c = rc__park_unlink(p);
    if (c == NULL) {
        rc_park_free(p);
        return;
    }
    rc_msg resp = rc__lget_response(p, RC_STATUS_MISS);
    if (p->waiter.outcome == RC_WAITER_RELEASED && p->value != NULL && p->fill_kind != p->kind) {
        rc_conn_send_error(c, p->opcode, p->request_id, RC_EWRONG_KIND, NULL);
        rc_park_free(p);
        rc_conn_flush(c);
        return;
    }
    if (p->waiter.outcome == RC_WAITER_RELEASED && p->value != NULL && p->list != NULL) {
        rc__park_answer_list(c, p, &resp);
        return;
    }
    if (p->waiter.outcome == RC_WAITER_RELEASED && p->value != NULL) {
        rc__released_response(p, &resp);
    } else if (p->waiter.outcome == RC_WAITER_PROMOTED) {
        resp.lease = RC_LEASE_GRANTED;
        memcpy(resp.token, p->waiter.token, RC_TOKEN_SIZE);
        resp.ns_version = p->waiter.ns_version;
    }
    rc__park_reply(c, p, &resp);
}

/* Delivery task: runs on the owning worker's thread. */
static void rc__park_task_run(rc_worker *w, rc_task *task)
{
    (void)w;
    rc__park_answer_woken(RC__PARKED_OF(task, task));
}

/* p's deadline passed (it is the heap's earliest). */
static void rc__park_expire(rc_worker *w, rc_parked *p)
{
    rc__heap_remove(w, p);
    if (!rc_store_unpark(w->server->store, &p->waiter, RC_WAITER_TIMED_OUT))
        return; /* a woken list holds it; that delivery answers it, still linked to its conn */
    rc_stat_add(&w->stats.lease_wait_timeouts, 1);
    rc_conn *c = rc__park_unlink(p); /* never NULL: orphans are not in the heap */
    rc_msg resp = rc__lget_response(p, RC_STATUS_WAIT_TIMEOUT);
    rc__park_reply(c, p, &resp);
}

static void rc__park_on_timer(uv_timer_t *timer)
{
    rc_worker *w = timer->data;
    uint64_t now = uv_now(&w->loop);
    while (w->park_len > 0 && w->park_heap[0]->deadline_ms <= now)
        rc__park_expire(w, w->park_heap[0]);
    rc__park_rearm(w);
}

/* ---- parking and delivery ------------------------------------------------------------------- */

void rc_park_commit(rc_parked *p, uint64_t now_ms, uint32_t wait_ms, uint64_t ns_version)
{
    rc_worker *w = p->worker;
    rc_conn *c = p->conn;
    p->ns_version = ns_version;
    p->conn_prev = NULL;
    p->conn_next = c->parked;
    if (c->parked != NULL)
        c->parked->conn_prev = p;
    c->parked = p;
    p->deadline_ms = now_ms + wait_ms;
    rc__heap_push(w, p);
    if (p->heap_index == 0)
        rc__park_rearm(w);
    rc_stat_add(&w->stats.lease_parked, 1);
}

/* Give a RELEASED p the fill's fields and a reference to the shared value (made on first use). */
static void rc__park_attach_fill(rc_parked *p, const rc_park_fill *fill, rc_park_value **shared)
{
    if (*shared == NULL)
        *shared = rc__value_new(fill->value, fill->value_len);
    rc__value_ref(*shared);
    p->value = *shared;
    p->fill_ns_version = fill->ns_version;
    p->fill_entry_version = fill->entry_version;
    p->fill_client_flags = fill->client_flags;
    p->fill_ttl_ms = fill->ttl_ms;
    p->fill_kind = fill->kind;
}

/* Hand p to its owner's queue; a stopped owner's requests go to the server's lost list. */
static void rc__park_post(rc_parked *p)
{
    p->task.run = rc__park_task_run;
    if (rc_worker_post(p->worker, &p->task) == 0)
        return;
    rc_server *srv = p->worker->server;
    uv_mutex_lock(&srv->lost_lock);
    p->task.next = srv->lost;
    srv->lost = &p->task;
    uv_mutex_unlock(&srv->lost_lock);
}

void rc_park_deliver(rc_worker *self, rc_lease_waiter *woken, const rc_park_fill *fill)
{
    rc_park_value *shared = NULL;
    while (woken != NULL) {
        /* Read the link first: once handed over, p may be freed by its owner at any time. */
        rc_lease_waiter *next = woken->next;
        rc_parked *p = RC__PARKED_OF(woken, waiter);
        if (woken->outcome == RC_WAITER_RELEASED && fill != NULL)
            rc__park_attach_fill(p, fill, &shared);
        if (p->worker == self)
            rc__park_answer_woken(p);
        else
            rc__park_post(p);
        woken = next;
    }
    if (shared != NULL)
        rc__value_unref(shared); /* the creator's reference */
}

/* ---- connections going away ----------------------------------------------------------------- */

void rc_park_conn_abandon(rc_conn *c)
{
    rc_store *st = c->worker->server->store;
    while (c->parked != NULL) {
        rc_parked *p = c->parked;
        rc__park_unlink(p);
        if (rc_store_unpark(st, &p->waiter, RC_WAITER_ABANDONED))
            rc_park_free(p);
        /* else orphaned (conn NULL): the delivery under way frees it */
    }
}

void rc_park_conn_shutdown(rc_conn *c)
{
    rc_store *st = c->worker->server->store;
    while (c->parked != NULL) {
        rc_parked *p = c->parked;
        rc__park_unlink(p);
        if (!rc_store_unpark(st, &p->waiter, RC_WAITER_ABANDONED))
            continue; /* orphaned: its delivery ends on the server's lost list */
        rc_conn_send_error(c, p->opcode, p->request_id, RC_ESHUTTING_DOWN,
                           "server shutting down: the parked request was not answered");
        rc_park_free(p);
    }
}

/* ---- worker and server lifecycle ------------------------------------------------------------ */

int rc_park_worker_init(rc_worker *w)
{
    w->park_timer.data = w;
    return uv_timer_init(&w->loop, &w->park_timer);
}

void rc_park_worker_stop(rc_worker *w)
{
    if (w->park_len != 0)
        rc_log_error("worker %u: %zu parked requests left at shutdown", w->index, w->park_len);
    if (!uv_is_closing((uv_handle_t *)&w->park_timer))
        uv_close((uv_handle_t *)&w->park_timer, NULL);
}

void rc_park_worker_free(rc_worker *w)
{
    free(w->park_heap);
    w->park_heap = NULL;
    w->park_len = w->park_cap = 0;
}

void rc_park_free_lost(rc_server *srv)
{
    uv_mutex_lock(&srv->lost_lock);
    rc_task *task = srv->lost;
    srv->lost = NULL;
    uv_mutex_unlock(&srv->lost_lock);
    size_t n = 0;
    for (rc_task *next; task != NULL; task = next, n++) {
        next = task->next;
        rc_park_free(RC__PARKED_OF(task, task));
    }
    if (n > 0)
        rc_log_info("shutdown: %zu parked requests were woken after their worker stopped", n);
}

const rc_worker_part rc_park_worker_part = {
    .name = "parked requests",
    .setup = rc_park_worker_init,
    .stop = rc_park_worker_stop,
    .release = rc_park_worker_free,
};
