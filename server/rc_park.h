/*
 * rc_park.h - parked LGET requests: waiting for a lease holder's fill,
 * deadlines, and answering them on the right thread.
 *
 * Design.  An LGET with wait_ms > 0 that meets a held lease is *parked*:
 * the handler allocates an rc_parked, which embeds the store's
 * rc_lease_waiter, and rc_store_lget links that waiter to the lease under
 * the shard lock.  From then on three parties may end the wait, and the
 * store's detach (under the shard lock) decides which one owns the answer:
 *
 *   - a store call (SET, DELETE, INVALIDATE_KEY, FLUSH, the sweep) detaches
 *     the key's waiters and returns them as a `woken` list; whoever got the
 *     list hands each waiter to rc_park_deliver;
 *   - the owning worker's deadline timer calls rc_store_unpark(TIMED_OUT);
 *   - the connection closing calls rc_store_unpark(ABANDONED).
 *
 * A true rc_store_unpark means the caller detached it and answers (or
 * drops) it now; false means a woken list holds it and a delivery is on
 * its way, so the caller only forgets its own references (heap slot,
 * connection link) and leaves the freeing to that delivery.
 *
 * Threads.  An rc_parked belongs to the worker that owns its connection
 * (p->worker, immutable).  Only that worker touches p->conn, the connection
 * links and the heap slot.  A delivering thread writes only the delivery
 * fields (value, versions, flags, ttl) and the task link, then posts the
 * task to the owner through its queue (rc_worker_post: the queue mutex
 * orders those writes before the owner reads them).  Distinct fields, so
 * the owner and a deliverer never race on the same memory.
 *
 * Inline versus queued delivery.  When the delivering thread *is* the
 * owning worker (a SET answered on the same worker as the parked reader),
 * the answer is written inline, at once, with no queue hop.  Every other
 * case (another worker, the main thread's sweep) goes through the owner's
 * queue and uv_async_send.  If the owner no longer takes tasks (it is
 * shutting down), the parked request is moved to the server's `lost` list,
 * which the main thread frees after joining the workers: the owner may
 * still be forgetting its references until then, so nobody else may free
 * it earlier.
 *
 * Shutdown.  A stopping worker first runs the deliveries already queued,
 * then answers every request still parked on its connections with
 * SHUTTING_DOWN (those it can detach; the others are in flight and end on
 * the lost list), then drains the connections and closes its timer.
 *
 * Released waiters.  A SET that releases waiters copies its value once into
 * an atomically refcounted rc_park_value shared by all of them; the last
 * user frees it.
 */
#ifndef RECACHE_RC_PARK_H
#define RECACHE_RC_PARK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc_lease.h"
#include "rc_server.h"
#include "rc_worker.h"

/* An immutable value shared by the waiters one SET released. */
typedef struct rc_park_value {
    _Atomic uint32_t refs; /* one per rc_parked holding it */
    uint32_t len;
    uint8_t data[];
} rc_park_value;

/* What a SET stored, for answering the waiters it released (copied, not kept). */
typedef struct rc_park_fill {
    const uint8_t *value;
    uint32_t value_len;
    uint64_t ns_version;    /* from the write result */
    uint64_t entry_version; /* from the write result */
    uint32_t client_flags;  /* from the request */
    uint32_t ttl_ms;        /* TTL the store applied (default, jitter): RC_TTL_NONE = no expiry */
    uint8_t kind;           /* enum rc_value_kind of the value stored */
} rc_park_fill;

/*
 * What a parked LIST_LGET asked for beyond the key (owned by its record):
 * the answer is the filled list filtered like any list read (exclude set,
 * the namespace's suppressions at answer time, top N).
 */
typedef struct rc_park_list {
    uint32_t top;
    uint8_t ns_len;
    uint8_t ns[255];
    size_t nexclude;
    uint64_t exclude[]; /* sorted (rc_ids_sort_unique) */
} rc_park_list;

/* (typedef rc_parked is in rc_server.h, which the worker's heap needs.) */
struct rc_parked {
    rc_lease_waiter waiter; /* linked to a lease by the store while parked */
    rc_task task;           /* delivery to the owning worker (or the lost list link) */

    /* Set before parking, then immutable: read by any delivering thread. */
    rc_worker *worker;
    uint32_t request_id;
    uint8_t opcode;     /* RC_OP_LGET or RC_OP_LIST_LGET: the layout of every answer */
    uint8_t kind;       /* enum rc_value_kind the reader expects */
    rc_park_list *list; /* LIST_LGET: its filter (owned), else NULL */

    /* Owning worker only. */
    rc_conn *conn;                    /* NULL once orphaned (the connection went away) */
    rc_parked *conn_prev, *conn_next; /* rc_conn.parked */
    uint64_t ns_version;              /* version the read looked up (timeout/cancel answers) */
    uint64_t deadline_ms;             /* on the worker loop's clock */
    size_t heap_index;                /* in worker->park_heap, or RC_PARK_NO_HEAP */

    /* Written by the delivering thread before it hands the request over. */
    rc_park_value *value; /* RELEASED: the shared value (a reference), else NULL */
    uint64_t fill_ns_version;
    uint64_t fill_entry_version;
    uint32_t fill_client_flags;
    uint32_t fill_ttl_ms;
    uint8_t fill_kind;
};

#define RC_PARK_NO_HEAP SIZE_MAX

/*
 * rc_park_new - a parked-request record for request_id on connection c,
 * not yet linked anywhere: pass &p->waiter to rc_store_lget, then either
 * rc_park_commit (outcome PARKED) or rc_park_free.  Worker thread of c.
 * The record answers as an LGET of a byte value; a LIST_LGET sets opcode,
 * kind and list before passing it to the store.
 */
rc_parked *rc_park_new(rc_conn *c, uint32_t request_id);

/*
 * rc_park_commit - the store parked p: link it to its connection and to the
 * worker's deadline heap (deadline now_ms + wait_ms, wait_ms already
 * clamped), and re-arm the worker's timer if p is now the earliest.  p may
 * already have been detached by another thread; its delivery then arrives
 * through the queue, after this returns.  Worker thread of p.
 */
void rc_park_commit(rc_parked *p, uint64_t now_ms, uint32_t wait_ms, uint64_t ns_version);

/* rc_park_free - free a record that is linked nowhere (drops its value reference and list). */
void rc_park_free(rc_parked *p);

/*
 * rc_park_deliver - answer every waiter of a `woken` list.  Any thread.
 * self is the calling worker (NULL on the main thread): waiters it owns are
 * answered inline, the others are queued to their owners.  fill describes
 * the value a SET stored (NULL for calls that release nothing); RELEASED
 * waiters share one copy of it.  Ownership of every listed waiter passes
 * to this call.
 */
void rc_park_deliver(rc_worker *self, rc_lease_waiter *woken, const rc_park_fill *fill);

/*
 * rc_park_conn_abandon - the connection is going away (closing, or no more
 * input): unpark each of its parked requests; those detached here are
 * freed, those already being delivered are orphaned (conn = NULL) so the
 * delivery frees them.  Afterwards nothing refers to c.  Worker thread.
 */
void rc_park_conn_abandon(rc_conn *c);

/*
 * rc_park_conn_shutdown - server shutdown: answer each parked request of c
 * that can still be detached with SHUTTING_DOWN (appended to c's output,
 * not flushed), orphan the ones being delivered.  Worker thread.
 */
void rc_park_conn_shutdown(rc_conn *c);

/* rc_park_worker_init - set up w's deadline timer on its loop.  0 or a libuv error. */
int rc_park_worker_init(rc_worker *w);

/* rc_park_worker_stop - close w's deadline timer (shutdown; the heap is empty by then). */
void rc_park_worker_stop(rc_worker *w);

/* rc_park_worker_free - free w's heap array (after its loop closed). */
void rc_park_worker_free(rc_worker *w);

/*
 * rc_park_worker_part - parked requests as a worker part (rc_worker.h):
 * init, stop and free above.  It stops after the connections, which
 * answered or orphaned every parked request.
 */
extern const rc_worker_part rc_park_worker_part;

/*
 * rc_park_free_lost - free the requests whose delivery found their worker
 * already stopped.  Main thread, after every worker thread was joined.
 */
void rc_park_free_lost(rc_server *srv);

#endif /* RECACHE_RC_PARK_H */
