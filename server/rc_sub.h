/*
 * rc_sub.h - the subscribe channel on the server: publishing events to the
 * node's event log, per-subscriber state, fan-out, heartbeats and cut-offs.
 *
 * Design.  Publishing (rc_sub_publish) happens on whichever thread made a
 * change, after the store call returned (no shard lock held): the event
 * goes into the node's one rc_events ring, then every worker that has
 * subscribers is woken (rc_worker_wake, coalesced by a per-worker pending
 * flag and by libuv).  A woken worker *pulls*: for each of its own
 * subscribers it copies the events that subscriber has not seen yet from
 * the ring straight into the connection's output buffer (rc_events_copy),
 * on its own thread, so no connection is ever touched by another thread
 * and no lock other than the ring's is held while copying (memory only).
 *
 * A subscriber is an ordinary connection with an rc_sub attached: it may
 * keep sending requests, and their responses interleave with the pushed
 * frames.  A second SUBSCRIBE on the same connection replaces the
 * namespace filter and is answered exactly like a first one (it resumes
 * from the seq / instance it names: replay or RESYNC).
 *
 * Pacing and cut-off rules.  Events are copied into a subscriber's output
 * only while its unsent output (queued plus in flight) stays within
 * max-subscriber-output; the rest wait in the ring and are copied as the
 * socket drains (each completed write tops the output up again once it is
 * under half the limit).  So a subscriber replaying a backlog far larger
 * than the limit receives it in limit-sized chunks at the pace it reads,
 * and a subscriber's events never hold more than about the limit.  A frame
 * is always accepted into an empty output, so one event larger than the
 * limit (a 64 KiB key) cannot wedge a subscriber.  A subscriber is cut off
 * by exactly one of two rules, each named in its CLOSING text:
 *
 *   - stalled output: events are waiting because its output is full (at
 *     max-subscriber-output) and not one byte of it was written for a
 *     whole heartbeat interval (checked at two consecutive heartbeat ticks);
 *     counted in subscriber_stall_disconnects;
 *   - fell behind the event ring: the next event it needs was dropped from
 *     the ring (by event-ring or event-ring-bytes) before it could be
 *     copied; counted in subscriber_ring_disconnects.
 *
 * Both are counted in slow_subscriber_disconnects too.  Cutting off appends
 * one CLOSING event with the reason (a few dozen bytes over the limit); the
 * connection stops reading and closes once that output is flushed, or
 * after RC_SUB_CUT_DRAIN_MS if the peer never reads it.  A subscriber whose
 * output is full gets no heartbeat (events are queued for it anyway).
 *
 * Sequence numbers in signals.  HEARTBEAT, RESYNC and CLOSING carry the
 * subscriber's own position (the last event it was sent or skipped by its
 * filter), not the ring's newest: an event published between a copy and a
 * heartbeat must not be claimed before it was sent.
 *
 * Threads.  Everything except rc_sub_publish runs on
 * the subscriber connection's worker thread and locks nothing of its own.
 */
#ifndef RECACHE_RC_SUB_H
#define RECACHE_RC_SUB_H

#include <stdbool.h>
#include <stdint.h>

#include "rc_conn.h"
#include "rc_events.h"
#include "rc_server.h"
#include "rc_worker.h"

/* How long a cut-off subscriber may take to read its CLOSING frame before it is closed anyway. */
#define RC_SUB_CUT_DRAIN_MS 10000u

/* Per-subscriber state, owned by its connection (c->sub) and its worker's list. */
struct rc_sub {
    rc_conn *conn;
    rc_sub *prev, *next; /* worker->subs */
    uint64_t next_seq;   /* first event not yet handed to (or filtered out for) this subscriber */
    uint64_t replay_end; /* events up to this seq count as replayed (0 = none) */
    uint8_t *names;      /* owned copy of the namespace list (u8 len + bytes each), NULL = all */
    uint32_t names_len;
    uint8_t nnames;
    bool cut;               /* CLOSING sent: no more events or heartbeats */
    uint64_t cut_at_ms;     /* worker loop time of the cut, for RC_SUB_CUT_DRAIN_MS */
    bool blocked;           /* the last copy stopped because the output was full: events wait */
    bool stall_armed;       /* the previous heartbeat tick saw it blocked, at stall_written */
    uint64_t stall_written; /* rc_conn_written at that tick */
};

/*
 * rc_sub_publish - append e to the node's event log and wake every worker
 * with subscribers.  Any thread; call with no store lock held.  Returns the
 * event's sequence number.
 */
uint64_t rc_sub_publish(rc_server *srv, const rc_event *e);

/*
 * rc_sub_subscribe - handle SUBSCRIBE on c: attach or update c's rc_sub,
 * append the response, then RESYNC (when replay is impossible) and the
 * events to replay.  Worker thread; never fails (allocation aborts).
 */
void rc_sub_subscribe(rc_conn *c, const rc_msg *req);

/* rc_sub_worker_fanout - copy pending events to every subscriber of w and flush.  Worker thread. */
void rc_sub_worker_fanout(rc_worker *w);

/*
 * rc_sub_conn_writable - a write on subscriber connection c completed:
 * copy more events (replay or live) if its unsent output is below half
 * the limit.  Worker thread; does not flush (the caller does).
 */
void rc_sub_conn_writable(rc_conn *c);

/* rc_sub_conn_closed - c is being freed: unlink and free its rc_sub.  Close callback only. */
void rc_sub_conn_closed(rc_conn *c);

/* rc_sub_worker_init - set up w's heartbeat timer and start it.  0 or a libuv error. */
int rc_sub_worker_init(rc_worker *w);

/*
 * rc_sub_worker_stop - shutdown: send every subscriber of w its pending
 * events and a CLOSING "server shutting down", and close the heartbeat
 * timer.  Call before the connections start draining.
 */
void rc_sub_worker_stop(rc_worker *w);

/* rc_sub_worker_part - the subscribers as a worker part (rc_worker.h): init, then stop above. */
extern const rc_worker_part rc_sub_worker_part;

#endif /* RECACHE_RC_SUB_H */
