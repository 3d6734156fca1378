/*
 * rc_conn.h - one client connection: framing, ordered processing,
 * batched writes and backpressure.
 *
 * Design.  A connection belongs to one worker and is only ever touched on
 * that worker's thread.  Input: reads land in the worker's shared read
 * buffer whenever the connection has no partial input, so an idle or
 * request-response connection owns no input memory; only the tail of a
 * frame split across reads (or a backlog kept while output is throttled)
 * is copied into the connection's own buffer.  Each frame's header is
 * checked against the configured limits before that buffer grows to hold
 * the body, so a client cannot make the server allocate more than
 * max-frame for input.
 *
 * Output: handlers append complete response frames to `out`
 * (rc_conn_send, or rc_conn_reserve/rc_conn_commit to write a value in
 * place).  After a read callback has handled every complete frame, one
 * uv_write sends everything pending; while it is in flight, new responses
 * accumulate in the other buffer and go out in the next write.  When
 * pending output passes max-output the connection stops reading (and stops
 * processing frames it already has) until the write drains: a client that
 * does not read its responses cannot grow the server's memory.
 *
 * Node-wide output.  Every connection's unsent bytes are also summed in
 * server->output_bytes (each connection adds the change of its own unsent
 * bytes whenever it flushes, once per batch, and on close).  While that sum
 * is over max-output-total, a connection that has unsent output of its own
 * stops reading and processing, exactly as over max-output, until a write
 * completes with the node back under the cap or its own output empty.  A
 * connection with nothing unsent is always served one frame, so readers
 * keep being answered while non-readers hold the cap; the sum can pass the
 * cap by at most about one response per connection, plus up to max-output
 * per other worker (a batch under way there that this worker's view of the
 * sum does not include yet).
 *
 * Write timeout.  A connection whose write has been in flight without a
 * single byte reaching the socket for write-timeout-ms is closed (logged
 * and counted in write_timeouts): a peer that never reads cannot hold its
 * output, its parked requests or its slot forever.  Progress is the bytes
 * written (rc_conn_written), checked by a per-worker timer every
 * write-timeout-ms / 4 (at least 10 ms, at most 1 s), so the close comes
 * between write-timeout-ms and 1.25 x write-timeout-ms after the last byte
 * was written.
 *
 * Appending a complete frame and calling rc_conn_flush is the one response
 * path, usable from any code on the worker thread; parked LGET requests
 * answered later (rc_park.h) use it, and so do pushed events (rc_sub.h).  A parked
 * request never outlives its connection's references: the connection keeps
 * them on its `parked` list, and both ways of ending input (rc_conn_close,
 * and draining after EOF or a header error) abandon them first through
 * the on_input_end hook (rc_park_conn_abandon on the data port: the
 * store's detach settles the race with a fill;
 * one already being delivered is orphaned and freed by its delivery).  So a
 * client that hangs up frees its parked slots at once, and the connection
 * is freeable as soon as its handle closes.  Server shutdown instead answers
 * them SHUTTING_DOWN before draining (rc_conn_shutdown, on_shutdown hook).
 *
 * Lifetime: a connection is freed only in its uv_close callback.  Closing
 * is either immediate (rc_conn_close: I/O error, shutdown deadline) or
 * after flushing (draining: header error, peer EOF, server shutdown,
 * SERVER_BUSY rejection).
 */
#ifndef RECACHE_RC_CONN_H
#define RECACHE_RC_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "rc_server.h"
#include "rc_worker.h"
#include "recache/rc_proto.h"

/* A growable byte buffer (rc_xrealloc'ed; cap 0 means no allocation). */
typedef struct rc_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} rc_buf;

/*
 * What a listener plugs into its connections, so this module knows no
 * operation, parked request or subscriber (the data port's hooks are
 * rc_ops_conn_hooks, rc_ops.h).  Every hook runs on the connection's
 * worker thread and must be set.
 *   on_frame      one decoded request, in order of arrival;
 *   on_writable   a write completed (output shrank);
 *   on_input_end  input ends for good (close, drain after EOF or a header
 *                 error): drop whatever still refers to c's requests;
 *   on_shutdown   server shutdown, before draining: answer what waits;
 *   on_closed     c is about to be freed (its close callback).
 */
typedef struct rc_conn_hooks {
    void (*on_frame)(rc_conn *c, const rc_msg *msg);
    void (*on_writable)(rc_conn *c);
    void (*on_input_end)(rc_conn *c);
    void (*on_shutdown)(rc_conn *c);
    void (*on_closed)(rc_conn *c);
} rc_conn_hooks;

struct rc_conn {
    uv_tcp_t tcp;               /* tcp.data points back here */
    const rc_conn_hooks *hooks; /* the listener's (static) */
    uv_write_t write_req;       /* the single write in flight */
    rc_worker *worker;
    rc_conn *prev, *next; /* worker->conns */

    rc_buf in;         /* unprocessed input: a partial frame, or a backlog while throttled */
    uint32_t in_need;  /* length of the partial frame at in.data once its header is known, else 0 */
    rc_buf out;        /* responses waiting for the next write */
    rc_buf wbuf;       /* bytes of the write in flight */
    rc_parked *parked; /* parked LGET requests of this connection (rc_park.h) */
    rc_sub *sub;       /* subscriber state once SUBSCRIBE was received (rc_sub.h), else NULL */

    size_t accounted;     /* unsent bytes currently counted in server->output_bytes */
    uint64_t written;     /* bytes of completed writes */
    uint64_t progress;    /* rc_conn_written when the write timer last saw it change */
    uint64_t progress_ms; /* worker loop time of that (or of the write's start) */

    bool admitted; /* counted in server->connections and connections_current */
    bool reading;  /* uv_read_start is in effect */
    bool writing;  /* write_req is in flight */
    bool flushing; /* rc_conn_flush is on the stack: a nested call only adds output */
    bool draining; /* no more input: close once output is flushed */
    bool closing;  /* uv_close was called; freed in its callback */
};

/*
 * rc_conn_adopt - take over an accepted, non-blocking socket fd on worker w
 * and start reading, calling `hooks` (static; see rc_conn_hooks).  Over
 * max-connections the connection is sent one SERVER_BUSY error frame and
 * closed.  Worker thread only; the fd is owned (and closed on failure) from
 * the call on; failures are logged and counted, never fatal.
 */
void rc_conn_adopt(rc_worker *w, int fd, const rc_conn_hooks *hooks);

/*
 * rc_conn_reserve - make room for n more bytes of output and return where
 * they go.  The pointer is valid until the next reserve or send on c;
 * nothing is sent until rc_conn_commit(c, n).  Aborts only on OOM.
 */
uint8_t *rc_conn_reserve(rc_conn *c, size_t n);

/* rc_conn_commit - count n bytes written at the last reserve as output. */
void rc_conn_commit(rc_conn *c, size_t n);

/*
 * rc_conn_send - encode msg as one complete frame at the end of c's output.
 * Returns 0, or the encoder's error (nothing appended).  Does not start a
 * write: call rc_conn_flush (the read path does it once per batch).
 */
int rc_conn_send(rc_conn *c, const rc_msg *msg);

/*
 * rc_conn_send_error - append an error response (status from err through
 * rc_conn_wire_status, which must be an error status, and a message
 * truncated to what the text field holds).  A message that cannot be
 * encoded is replaced by rc_strerror(err).
 */
void rc_conn_send_error(rc_conn *c, uint8_t opcode, uint32_t request_id, int err,
                        const char *message);

/*
 * rc_conn_wire_status - the wire status for a recache return code: 0 for
 * success, the negated code for wire errors, NO_MEMORY for RC_ENOMEM,
 * BAD_ARGUMENT for RC_EINVAL and INTERNAL for any other local code.
 */
uint16_t rc_conn_wire_status(int rc);

/*
 * rc_conn_flush - start a write of all pending output unless one is in
 * flight (its completion starts the next).  A draining connection with
 * nothing left to send is closed here.
 */
void rc_conn_flush(rc_conn *c);

/*
 * rc_conn_shutdown - graceful close for server shutdown: answer parked
 * requests SHUTTING_DOWN, stop reading, drop unprocessed input, flush what
 * is pending, then close.
 */
void rc_conn_shutdown(rc_conn *c);

/* rc_conn_unsent - output bytes not yet written: queued plus the write in flight. */
size_t rc_conn_unsent(const rc_conn *c);

/*
 * rc_conn_written - bytes of output that reached the socket so far,
 * including the written part of the write in flight.  Only grows; a
 * change means the peer is reading.
 */
uint64_t rc_conn_written(const rc_conn *c);

/*
 * rc_conn_worker_init - set up w's write-timeout timer (started only when
 * write-timeout-ms is not 0).  0 or a libuv error.  Worker setup only.
 */
int rc_conn_worker_init(rc_worker *w);

/* rc_conn_worker_stop - shutdown: close w's write-timeout timer.  Worker thread. */
void rc_conn_worker_stop(rc_worker *w);

/*
 * rc_conn_worker_part - the connections as a worker part (rc_worker.h):
 * init as rc_conn_worker_init; stop closes the write-timeout timer and
 * begins the graceful close of every connection (rc_conn_shutdown), which
 * the server's drain deadline bounds.
 */
extern const rc_worker_part rc_conn_worker_part;

/*
 * rc_conn_finish - stop reading (dropping unprocessed input and abandoning
 * parked requests) and close once the pending output is flushed.  Used to
 * cut off a slow subscriber after its CLOSING frame.  Idempotent.
 */
void rc_conn_finish(rc_conn *c);

/* rc_conn_close - close now; pending output is dropped, parked requests abandoned.  Idempotent. */
void rc_conn_close(rc_conn *c);

#endif /* RECACHE_RC_CONN_H */
