/*
 * rc_sub.c - the subscribe channel on the server (see rc_sub.h for the
 * design).
 *
 * Signals (HEARTBEAT, RESYNC, CLOSING) are encoded here rather than with
 * rc_events_encode_signal because they carry the subscriber's own position
 * (next_seq - 1), which only this module knows; the ring's newest number
 * may already name an event this subscriber has not been sent.
 *
 * Everything here except rc_sub_publish runs on the
 * owning worker's thread.
 */
#define _POSIX_C_SOURCE 200809L

#include "rc_sub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rc_alloc.h"
#include "rc_log.h"

/* Room for one signal frame: header, fixed fields, empty strings and a short reason. */
#define RC__SIGNAL_CAP 512u

/* ---- publishing (any thread) ---------------------------------------------------------------- */

uint64_t rc_sub_publish(rc_server *srv, const rc_event *e)
{
    uint64_t seq = rc_events_publish(srv->events, e);
    /* NULL only while the store is configured at startup, before any worker or subscriber. */
    if (srv->workers == NULL)
        return seq;
    for (unsigned i = 0; i < srv->nworkers; i++) {
        rc_worker *w = &srv->workers[i];
        /* A subscriber counted after this load registered after our publish (the ring's
         * mutex orders the two), so its own first copy includes this event. */
        if (atomic_load_explicit(&w->stats.subscribers, memory_order_relaxed) > 0)
            rc_worker_wake(w);
    }
    return seq;
}

/* ---- signals -------------------------------------------------------------------------------- */

static rc_server *rc__srv(const rc_conn *c)
{
    return c->worker->server;
}

/* Append a signal frame (not in the log) carrying the subscriber's position. */
static void rc__send_signal(rc_conn *c, uint8_t kind, const char *text)
{
    rc_msg m = {0};
    m.opcode = RC_OP_EVENT;
    m.hflags = RC_HF_PUSH;
    m.seq = c->sub->next_seq - 1u;
    m.instance_id = rc_events_instance(rc__srv(c)->events);
    m.kind = kind;
    m.text = rc_slice_str(text);
    uint8_t buf[RC__SIGNAL_CAP];
    long n = rc_encode(&m, buf, sizeof(buf));
    if (n < 0) {
        rc_log_error("cannot encode an event signal: %s", rc_strerror((int)n));
        return;
    }
    memcpy(rc_conn_reserve(c, (size_t)n), buf, (size_t)n);
    rc_conn_commit(c, (size_t)n);
}

/*
 * Cut c off: CLOSING with the reason, then close once flushed (or after
 * RC_SUB_CUT_DRAIN_MS, enforced by the heartbeat timer).  `slow` counts it
 * as a slow-subscriber disconnect (shutdown does not).
 */
static void rc__cut(rc_conn *c, const char *reason, bool slow)
{
    rc_sub *sub = c->sub;
    if (sub->cut)
        return;
    rc__send_signal(c, RC_EV_CLOSING, reason);
    sub->cut = true;
    sub->cut_at_ms = uv_now(&c->worker->loop);
    if (slow) {
        rc_stat_add(&c->worker->stats.slow_subscriber_disconnects, 1);
        rc_log_info("subscriber cut off: %s", reason);
        rc_conn_finish(c);
    }
}

/* Cut c off by the stalled-output rule (rc_sub.h), saying so with the numbers. */
static void rc__cut_stalled(rc_conn *c, uint64_t idle_ms)
{
    char reason[200];
    snprintf(reason, sizeof(reason),
             "subscriber too slow: %zu bytes unsent (max-subscriber-output %llu) and none written "
             "for at least %llu ms while events wait",
             rc_conn_unsent(c), (unsigned long long)rc__srv(c)->cfg->max_subscriber_output,
             (unsigned long long)idle_ms);
    rc_stat_add(&c->worker->stats.subscriber_stall_disconnects, 1);
    rc__cut(c, reason, true);
}

/* Cut c off by the ring rule (rc_sub.h): the event it needs next was dropped. */
static void rc__cut_behind_ring(rc_conn *c)
{
    rc_server *srv = rc__srv(c);
    rc_events_totals tot;
    rc_events_totals_get(srv->events, &tot);
    char reason[200];
    snprintf(reason, sizeof(reason),
             "subscriber too slow: fell behind the event ring (needs event %llu, oldest held %llu; "
             "event-ring %llu events, event-ring-bytes %llu)",
             (unsigned long long)c->sub->next_seq, (unsigned long long)tot.oldest_seq,
             (unsigned long long)srv->cfg->event_ring, (unsigned long long)tot.max_bytes);
    rc_stat_add(&c->worker->stats.subscriber_ring_disconnects, 1);
    rc__cut(c, reason, true);
}

/* ---- fan-out -------------------------------------------------------------------------------- */

/* Filter: KEY, BUMP, SUPPRESS and UNSUPPRESS only for subscribed namespaces; the rest to all. */
static bool rc__filter(void *ctx, uint8_t kind, rc_slice ns)
{
    const rc_sub *sub = ctx;
    bool per_ns = kind == RC_EV_KEY || kind == RC_EV_BUMP || kind == RC_EV_SUPPRESS ||
                  kind == RC_EV_UNSUPPRESS;
    if (sub->nnames == 0 || !per_ns)
        return true;
    rc_list_iter it;
    rc_list_iter_init(&it, (rc_slice){sub->names, sub->names_len});
    rc_slice name;
    while (rc_list_next(&it, &name)) {
        if (name.len == ns.len && memcmp(name.ptr, ns.ptr, ns.len) == 0)
            return true;
    }
    return false;
}

/* Copy state for one rc_events_copy call. */
typedef struct rc__copy {
    rc_conn *conn;
    size_t limit;    /* max-subscriber-output */
    bool replaying;  /* the copy starts at or before replay_end: frames may be replayed ones */
    bool refused;    /* the sink refused a frame: the output is full, events wait */
    uint64_t sent;   /* frames appended */
    uint64_t replay; /* of which replayed (seq <= replay_end) */
} rc__copy;

/* Whether an encoded event frame is one of sub's replayed events (its seq read by the codec). */
static bool rc__frame_replayed(const rc_sub *sub, const uint8_t *frame, size_t len)
{
    rc_limits lim = rc_limits_wire();
    rc_msg m;
    size_t used;
    if (rc_decode(frame, len, &lim, &m, &used) != 0)
        return false; /* the ring encoded it: cannot happen */
    return m.seq <= sub->replay_end;
}

/* Sink: append one frame unless the unsent output would pass the limit (an empty one takes any). */
static bool rc__sink(void *ctx, const uint8_t *frame, size_t len)
{
    rc__copy *cp = ctx;
    size_t unsent = rc_conn_unsent(cp->conn);
    if (unsent > 0 && unsent + len > cp->limit) {
        cp->refused = true;
        return false;
    }
    memcpy(rc_conn_reserve(cp->conn, len), frame, len);
    rc_conn_commit(cp->conn, len);
    cp->sent++;
    if (cp->replaying && rc__frame_replayed(cp->conn->sub, frame, len))
        cp->replay++;
    return true;
}

/*
 * Copy c's pending events into its output (no flush), as far as its output
 * limit allows; the rest wait for the socket to drain.  Cuts the
 * subscriber off when it fell out of the ring.  Returns whether it is
 * still live.
 */
static bool rc__fanout_conn(rc_conn *c)
{
    rc_sub *sub = c->sub;
    if (sub->cut || c->closing || c->draining)
        return false;
    rc_server *srv = rc__srv(c);
    rc__copy cp = {.conn = c,
                   .limit = (size_t)srv->cfg->max_subscriber_output,
                   .replaying = sub->next_seq <= sub->replay_end};
    int rc = rc_events_copy(srv->events, &sub->next_seq, rc__filter, sub, rc__sink, &cp);
    rc_worker_stats *st = &c->worker->stats;
    rc_stat_add(&st->events_sent, cp.sent);
    rc_stat_add(&st->events_replayed, cp.replay);
    if (rc == RC_ESLOW_CONSUMER) {
        rc__cut_behind_ring(c);
        return false;
    }
    sub->blocked = cp.refused;
    return true;
}

void rc_sub_worker_fanout(rc_worker *w)
{
    if (!atomic_exchange_explicit(&w->sub_pending, false, memory_order_acq_rel))
        return;
    for (rc_sub *sub = w->subs, *next; sub != NULL; sub = next) {
        next = sub->next; /* flushing may close the connection, never free it here */
        rc__fanout_conn(sub->conn);
        rc_conn_flush(sub->conn);
    }
}

void rc_sub_conn_writable(rc_conn *c)
{
    if (rc_conn_unsent(c) < (size_t)rc__srv(c)->cfg->max_subscriber_output / 2)
        rc__fanout_conn(c);
}

/* ---- SUBSCRIBE ------------------------------------------------------------------------------ */

/* Attach a fresh rc_sub to c and count it. */
static rc_sub *rc__attach(rc_conn *c)
{
    rc_worker *w = c->worker;
    rc_sub *sub = rc_xcalloc(1, sizeof(*sub));
    sub->conn = c;
    sub->next = w->subs;
    if (w->subs != NULL)
        w->subs->prev = sub;
    w->subs = sub;
    c->sub = sub;
    rc_stat_add(&w->stats.subscribers, 1);
    return sub;
}

/* Replace sub's namespace filter with a copy of the request's list. */
static void rc__set_filter(rc_sub *sub, const rc_msg *req)
{
    free(sub->names);
    sub->names = NULL;
    sub->names_len = 0;
    sub->nnames = req->ntags;
    if (req->ntags == 0)
        return;
    sub->names = rc_xmalloc(req->tags.len);
    memcpy(sub->names, req->tags.ptr, req->tags.len);
    sub->names_len = req->tags.len;
}

/* The SUBSCRIBE response: the node's newest seq (our position for RESYNC / new) and instance. */
static void rc__subscribe_reply(rc_conn *c, const rc_msg *req, uint64_t seq)
{
    rc_msg resp = {0};
    resp.opcode = req->opcode;
    resp.hflags = RC_HF_RESPONSE;
    resp.request_id = req->request_id;
    resp.seq = seq;
    resp.instance_id = rc_events_instance(rc__srv(c)->events);
    int rc = rc_conn_send(c, &resp);
    if (rc != 0)
        rc_conn_send_error(c, req->opcode, req->request_id, RC_EINTERNAL,
                           "the response could not be encoded");
}

void rc_sub_subscribe(rc_conn *c, const rc_msg *req)
{
    rc_events *ev = rc__srv(c)->events;
    rc_sub *sub = c->sub != NULL ? c->sub : rc__attach(c);
    if (sub->cut) { /* CLOSING was sent: this connection is on its way out */
        bool stopping = c->worker->stopping;
        rc_conn_send_error(c, req->opcode, req->request_id,
                           stopping ? RC_ESHUTTING_DOWN : RC_ESLOW_CONSUMER,
                           "this connection's subscription was closed; reconnect");
        return;
    }
    rc__set_filter(sub, req);
    bool resumed = rc_events_resume(ev, req->instance_id, req->seq, &sub->next_seq);
    bool replay = resumed && (req->seq != 0 || req->instance_id != 0);
    /* Read after resume: every event up to it that this subscriber is owed counts as replayed. */
    uint64_t newest = replay ? rc_events_last_seq(ev) : sub->next_seq - 1u;
    sub->replay_end = replay ? newest : 0;
    rc__subscribe_reply(c, req, newest);
    if (!resumed) {
        rc__send_signal(c, RC_EV_RESYNC, "");
        rc_stat_add(&c->worker->stats.resyncs, 1);
    }
    rc__fanout_conn(c);
}

void rc_sub_conn_closed(rc_conn *c)
{
    rc_sub *sub = c->sub;
    if (sub == NULL)
        return;
    rc_worker *w = c->worker;
    if (sub->prev != NULL)
        sub->prev->next = sub->next;
    else
        w->subs = sub->next;
    if (sub->next != NULL)
        sub->next->prev = sub->prev;
    rc_stat_sub(&w->stats.subscribers, 1);
    free(sub->names);
    free(sub);
    c->sub = NULL;
}

/* ---- heartbeats and shutdown ---------------------------------------------------------------- */

/*
 * The stalled-output rule, at a heartbeat tick: cut c off when it was
 * blocked at the previous tick and still is, with not one byte written in
 * between.  Returns whether c is still live.
 */
static bool rc__check_stall(rc_conn *c, uint64_t period_ms)
{
    rc_sub *sub = c->sub;
    if (!sub->blocked) {
        sub->stall_armed = false;
        return true;
    }
    uint64_t written = rc_conn_written(c);
    if (sub->stall_armed && written == sub->stall_written) {
        rc__cut_stalled(c, period_ms);
        return false;
    }
    sub->stall_armed = true;
    sub->stall_written = written;
    return true;
}

/* One heartbeat tick for c: pending events first, so the heartbeat's seq was really sent. */
static void rc__heartbeat_conn(rc_conn *c, uint64_t now, uint64_t period_ms)
{
    rc_sub *sub = c->sub;
    if (sub->cut) {
        if (!c->closing && now - sub->cut_at_ms >= RC_SUB_CUT_DRAIN_MS)
            rc_conn_close(c); /* it never read its CLOSING frame */
        return;
    }
    if (!rc__fanout_conn(c) || !rc__check_stall(c, period_ms))
        return;
    /* A full output gets no heartbeat: events are queued for it, and it must not grow. */
    if (sub->blocked ||
        rc_conn_unsent(c) + RC__SIGNAL_CAP > (size_t)rc__srv(c)->cfg->max_subscriber_output)
        return;
    rc__send_signal(c, RC_EV_HEARTBEAT, "");
    rc_stat_add(&c->worker->stats.heartbeats_sent, 1);
}

/*
 * Each tick also samples the lag of this worker's subscribers (events
 * published that a subscriber has not been handed yet, after the tick's
 * copy) into sub_lag_max / sub_lag_sum for the admin port's metrics.
 */
static void rc__on_heartbeat(uv_timer_t *timer)
{
    rc_worker *w = timer->data;
    uint64_t now = uv_now(&w->loop);
    uint64_t period = w->server->cfg->heartbeat_ms;
    uint64_t lag_max = 0, lag_sum = 0;
    for (rc_sub *sub = w->subs, *next; sub != NULL; sub = next) {
        next = sub->next;
        rc_conn *c = sub->conn;
        rc__heartbeat_conn(c, now, period);
        rc_conn_flush(c);
        uint64_t last = rc_events_last_seq(w->server->events);
        uint64_t lag = sub->cut || last < sub->next_seq ? 0 : last + 1u - sub->next_seq;
        lag_max = lag > lag_max ? lag : lag_max;
        lag_sum += lag;
    }
    atomic_store_explicit(&w->stats.sub_lag_max, lag_max, memory_order_relaxed);
    atomic_store_explicit(&w->stats.sub_lag_sum, lag_sum, memory_order_relaxed);
}

int rc_sub_worker_init(rc_worker *w)
{
    w->sub_timer.data = w;
    int rc = uv_timer_init(&w->loop, &w->sub_timer);
    if (rc != 0)
        return rc;
    uint64_t period = w->server->cfg->heartbeat_ms;
    return uv_timer_start(&w->sub_timer, rc__on_heartbeat, period, period);
}

void rc_sub_worker_stop(rc_worker *w)
{
    for (rc_sub *sub = w->subs; sub != NULL; sub = sub->next) {
        rc__fanout_conn(sub->conn);
        if (!sub->cut)
            rc__cut(sub->conn, "server shutting down", false);
    }
    if (!uv_is_closing((uv_handle_t *)&w->sub_timer))
        uv_close((uv_handle_t *)&w->sub_timer, NULL);
}

const rc_worker_part rc_sub_worker_part = {
    .name = "subscribers",
    .setup = rc_sub_worker_init,
    .stop = rc_sub_worker_stop,
    .release = NULL,
};
