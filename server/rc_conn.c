/*
 * rc_conn.c - client connections (see rc_conn.h for the design).
 *
 * The read path, in order: rc__on_alloc hands libuv either the worker's
 * shared read buffer (no partial input) or the free tail of the
 * connection's own input buffer, sized from the pending frame's validated
 * header; rc__on_read runs rc__conn_process over the bytes, which decodes
 * and dispatches every complete frame until the input runs out, the output
 * passes max-output, or a header error makes the stream unusable; leftover
 * bytes are kept in `in`; then one rc_conn_flush sends the whole batch of
 * responses, directly with one write(2) when the socket takes it all.  The
 * write callback of a write the socket did not take at once re-enters
 * processing for any backlog and resumes reading once the output is under
 * the limit again.
 *
 * Output accounting (rc_conn.h): rc__account publishes the change of a
 * connection's unsent bytes to server->output_bytes; it runs in
 * rc_conn_flush (after every batch, every event copy and every parked
 * answer, since all of them flush), after each completed write, and in the
 * close callback, so the node-wide sum is exact between batches.
 *
 * All functions run on the owning worker's thread; nothing here locks
 * (server->output_bytes is updated with atomic read-modify-write).
 */
#define _POSIX_C_SOURCE 200809L

#include "rc_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rc_alloc.h"
#include "rc_log.h"

/* Read space guaranteed past a partial frame whose header is not yet complete. */
#define RC__READ_CHUNK (16u * 1024u)
/* Empty buffers bigger than this are released, so idle connections stay small. */
#define RC__KEEP_BUF (16u * 1024u)
/* Smallest allocation for an output buffer. */
#define RC__MIN_OUT (4u * 1024u)

static void rc__on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf);
static void rc__on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

/* ---- buffers -------------------------------------------------------------------------------- */

/* Grow b to exactly `total` bytes if it is smaller (input: sizes are known and bounded). */
static void rc__buf_fit(rc_buf *b, size_t total)
{
    if (total <= b->cap)
        return;
    b->data = rc_xrealloc(b->data, total);
    b->cap = total;
}

/* Grow b so it can hold at least `total` bytes, geometrically so appends stay amortised O(1). */
static void rc__buf_reserve(rc_buf *b, size_t total)
{
    if (total <= b->cap)
        return;
    size_t cap = b->cap > RC__MIN_OUT ? b->cap : RC__MIN_OUT;
    while (cap < total)
        cap = cap > SIZE_MAX / 2 ? total : cap * 2;
    rc__buf_fit(b, cap);
}

static void rc__buf_free(rc_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Drop the first n bytes of b, keeping the rest at the start. */
static void rc__buf_consume(rc_buf *b, size_t n)
{
    if (n == 0)
        return;
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

/* Release b's memory if it is empty and larger than is worth keeping. */
static void rc__buf_trim(rc_buf *b)
{
    if (b->len == 0 && b->cap > RC__KEEP_BUF)
        rc__buf_free(b);
}

/* ---- output --------------------------------------------------------------------------------- */

static const rc_config *rc__cfg(const rc_conn *c)
{
    return c->worker->server->cfg;
}

size_t rc_conn_unsent(const rc_conn *c)
{
    return c->out.len + c->wbuf.len;
}

uint64_t rc_conn_written(const rc_conn *c)
{
    uint64_t n = c->written;
    if (c->writing && c->tcp.write_queue_size < c->wbuf.len)
        n += c->wbuf.len - c->tcp.write_queue_size;
    return n;
}

/* Bring server->output_bytes up to date with c's unsent bytes. */
static void rc__account(rc_conn *c)
{
    size_t unsent = rc_conn_unsent(c);
    _Atomic uint64_t *total = &c->worker->server->output_bytes;
    if (unsent > c->accounted)
        atomic_fetch_add_explicit(total, unsent - c->accounted, memory_order_relaxed);
    else if (unsent < c->accounted)
        atomic_fetch_sub_explicit(total, c->accounted - unsent, memory_order_relaxed);
    c->accounted = unsent;
}

/* The node's unsent output as c sees it: the shared sum plus c's own change not yet added. */
static uint64_t rc__node_output(const rc_conn *c)
{
    uint64_t total = atomic_load_explicit(&c->worker->server->output_bytes, memory_order_relaxed);
    return total - c->accounted + rc_conn_unsent(c);
}

/* Why c must pause: 0 = it need not, else which limit its output hit. */
typedef enum rc__over {
    RC__UNDER = 0,
    RC__OVER_CONN,  /* its own output passed max-output */
    RC__OVER_TOTAL, /* it has output and the node's passed max-output-total */
} rc__over;

static rc__over rc__over_limit(const rc_conn *c)
{
    size_t unsent = rc_conn_unsent(c);
    if (unsent > rc__cfg(c)->max_output)
        return RC__OVER_CONN;
    if (unsent > 0 && rc__node_output(c) > rc__cfg(c)->max_output_total)
        return RC__OVER_TOTAL;
    return RC__UNDER;
}

uint8_t *rc_conn_reserve(rc_conn *c, size_t n)
{
    rc__buf_reserve(&c->out, c->out.len + n);
    return c->out.data + c->out.len;
}

void rc_conn_commit(rc_conn *c, size_t n)
{
    c->out.len += n;
}

int rc_conn_send(rc_conn *c, const rc_msg *msg)
{
    long size = rc_encoded_size(msg);
    if (size < 0)
        return (int)size;
    uint8_t *dst = rc_conn_reserve(c, (size_t)size);
    long written = rc_encode(msg, dst, (size_t)size);
    if (written < 0)
        return (int)written;
    rc_conn_commit(c, (size_t)written);
    if (msg->status != RC_STATUS_OK && (msg->hflags & RC_HF_RESPONSE) != 0)
        rc_stat_add(&c->worker->stats.statuses[msg->status & 0xffu], 1);
    return 0;
}

uint16_t rc_conn_wire_status(int rc)
{
    switch (rc) {
    case 0:
        return RC_STATUS_OK;
#define RC__WIRE_CASE(name, code, msg)                                                             \
    case RC_E##name:                                                                               \
        return RC_STATUS_##name;
        RC_WIRE_ERRORS(RC__WIRE_CASE)
#undef RC__WIRE_CASE
    case RC_ENOMEM:
        return RC_STATUS_NO_MEMORY;
    case RC_EINVAL:
        return RC_STATUS_BAD_ARGUMENT;
    default:
        return RC_STATUS_INTERNAL;
    }
}

void rc_conn_send_error(rc_conn *c, uint8_t opcode, uint32_t request_id, int err,
                        const char *message)
{
    rc_msg msg = {0};
    msg.opcode = opcode;
    msg.hflags = RC_HF_RESPONSE;
    msg.request_id = request_id;
    msg.status = rc_conn_wire_status(err);
    if (msg.status < RC_STATUS_FIRST_ERROR)
        msg.status = RC_STATUS_INTERNAL; /* outcomes have their op's layout, not a message */
    msg.text = rc_slice_str(message);
    if (msg.text.len > RC_WIRE_MAX_TEXT)
        msg.text.len = RC_WIRE_MAX_TEXT;
    if (rc_conn_send(c, &msg) != 0) {
        msg.text = rc_slice_str(rc_strerror(err));
        if (rc_conn_send(c, &msg) != 0)
            rc_log_error("cannot encode an error response (status %u)", msg.status);
    }
}

static void rc__on_write(uv_write_t *req, int status);

/* The whole of wbuf reached the socket: count it and empty the buffer. */
static void rc__wbuf_sent(rc_conn *c)
{
    rc_stat_add(&c->worker->stats.bytes_out, c->wbuf.len);
    c->written += c->wbuf.len;
    c->wbuf.len = 0;
    rc__buf_trim(&c->wbuf);
}

/*
 * rc_conn_flush - send what `out` holds.  While the connection is reading
 * (not paused by an output limit), it first writes directly (uv_try_write):
 * a response that fits the socket buffer, the common case, then costs one
 * write(2) and no write request.  Going through uv_write every time cost an
 * epoll_ctl(2) per response as well (libuv re-registers the socket when a
 * write request drains) and deferred the completion to the next loop
 * iteration.  Only what the socket does not take goes to uv_write, whose
 * callback (rc__on_write) resumes processing and reading as before; a
 * paused connection always goes that way, so resuming stays in one place.
 * After a direct write the on_writable hook runs, as after a completed
 * request.  Re-entry (a hook or a handler flushing during a flush) only adds
 * to `out`: the outer call's loop sends it.
 */
void rc_conn_flush(rc_conn *c)
{
    if (c->closing)
        return;
    rc__account(c);
    if (c->writing || c->flushing)
        return;
    c->flushing = true;
    while (!c->closing && c->out.len > 0) {
        /* The in-flight buffer is empty here: swap, so `out` keeps accumulating. */
        rc_buf sending = c->out;
        c->out = c->wbuf;
        c->wbuf = sending;
        uv_buf_t buf = {.base = (char *)c->wbuf.data, .len = c->wbuf.len};
        int sent = c->reading ? uv_try_write((uv_stream_t *)&c->tcp, &buf, 1) : 0;
        if (sent == UV_EAGAIN)
            sent = 0;
        if (sent < 0) {
            rc_log_debug("write failed: %s", uv_strerror(sent));
            rc_conn_close(c);
            break;
        }
        if ((size_t)sent == buf.len) {
            rc__wbuf_sent(c);
            c->hooks->on_writable(c);
            continue;
        }
        /* The socket is full: libuv sends the rest; rc_conn_written counts the part sent. */
        buf.base += sent;
        buf.len -= (size_t)sent;
        int rc = uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &buf, 1, rc__on_write);
        if (rc < 0) {
            rc_log_debug("write failed: %s", uv_strerror(rc));
            rc_conn_close(c);
            break;
        }
        c->writing = true;
        c->progress = rc_conn_written(c);
        c->progress_ms = uv_now(&c->worker->loop);
        break;
    }
    c->flushing = false;
    if (c->closing)
        return;
    rc__account(c);
    if (!c->writing && c->draining)
        rc_conn_close(c);
}

/* ---- reading and processing ----------------------------------------------------------------- */

static void rc__start_reading(rc_conn *c)
{
    if (c->reading || c->closing || c->draining)
        return;
    int rc = uv_read_start((uv_stream_t *)&c->tcp, rc__on_alloc, rc__on_read);
    if (rc < 0) {
        rc_log_debug("read start failed: %s", uv_strerror(rc));
        rc_conn_close(c);
        return;
    }
    c->reading = true;
}

static void rc__stop_reading(rc_conn *c)
{
    if (!c->reading)
        return;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
}

/*
 * Stop taking input; the connection closes once its output is flushed.
 * Parked requests are abandoned rather than waited for: after EOF the peer
 * has usually gone (a half-closing client must not rely on parked answers),
 * and after a header error the stream is being closed anyway.
 */
static void rc__begin_drain(rc_conn *c)
{
    c->hooks->on_input_end(c);
    rc__stop_reading(c);
    c->draining = true;
    c->in.len = 0;
    c->in_need = 0;
    rc__buf_trim(&c->in);
}

/*
 * A header the decoder refused: the stream position is lost, so answer
 * once (echoing opcode and request id when the header was readable, which
 * rc_decode_header leaves zeroed otherwise) and close after flushing.
 */
static void rc__header_error(rc_conn *c, int err, const rc_msg *head)
{
    char message[160];
    if (err == RC_EFRAME_TOO_LARGE)
        snprintf(message, sizeof(message), "%s (max-frame is %llu bytes)", rc_strerror(err),
                 (unsigned long long)rc__cfg(c)->max_frame);
    else
        snprintf(message, sizeof(message), "%s; closing the connection", rc_strerror(err));
    rc_stat_add(&c->worker->stats.protocol_errors, 1);
    rc_conn_send_error(c, head->opcode, head->request_id, err, message);
    rc__begin_drain(c);
}

/* Decode and answer one complete frame whose header is already in *msg. */
static void rc__handle_frame(rc_conn *c, const uint8_t *frame, uint32_t frame_len, rc_msg *msg)
{
    int rc;
    if (msg->hflags != 0) {
        rc = RC_EBAD_FRAME;
    } else {
        rc = rc_decode_body(frame + RC_HEADER_SIZE, frame_len - RC_HEADER_SIZE,
                            &c->worker->server->limits, msg);
    }
    if (rc == 0) {
        c->hooks->on_frame(c, msg);
        return;
    }
    char message[160];
    if (msg->hflags != 0)
        snprintf(message, sizeof(message), "%s: the server accepts only requests (flags 0)",
                 rc_strerror(rc));
    else if (rc == RC_EUNKNOWN_OPCODE)
        snprintf(message, sizeof(message), "%s 0x%02x", rc_strerror(rc), msg->opcode);
    else
        snprintf(message, sizeof(message), "%s", rc_strerror(rc));
    rc_stat_add(&c->worker->stats.protocol_errors, 1);
    rc_conn_send_error(c, msg->opcode, msg->request_id, rc, message);
}

/*
 * Answer every complete frame in data[0, len) in order; return the bytes
 * consumed.  Stops early at an incomplete frame (setting c->in_need when
 * its header is known), when output passes max-output, or on a header
 * error (which starts draining; the rest is then considered consumed).
 */
static size_t rc__conn_process(rc_conn *c, const uint8_t *data, size_t len)
{
    size_t off = 0;
    c->in_need = 0;
    while (!c->draining && !c->closing && !rc__over_limit(c)) {
        rc_msg msg;
        uint32_t frame_len;
        int rc = rc_decode_header(data + off, len - off, c->worker->server->limits.max_frame, &msg,
                                  &frame_len);
        if (rc == RC_EAGAIN)
            break;
        if (rc < 0) {
            rc__header_error(c, rc, &msg);
            return len;
        }
        if (len - off < frame_len) {
            c->in_need = frame_len;
            break;
        }
        rc__handle_frame(c, data + off, frame_len, &msg);
        off += frame_len;
    }
    return off;
}

/* Process what is buffered in c->in and keep only the unconsumed rest; returns the bytes used. */
static size_t rc__process_backlog(rc_conn *c)
{
    size_t used = rc__conn_process(c, c->in.data, c->in.len);
    if (c->draining)
        return used; /* rc__begin_drain already dropped the input */
    rc__buf_consume(&c->in, used);
    rc__buf_trim(&c->in);
    return used;
}

/*
 * rc__pump - pause reading over an output limit, send what is pending, and
 * go on with the complete frames buffered in `in` for as long as that makes
 * progress.  Runs after input was handled and after a write completed, never
 * while frames are being processed.  The loop is needed because a batch
 * that goes out directly (rc_conn_flush) brings no write callback: frames
 * left in `in` when processing stopped at a limit that no longer holds by
 * the time it is checked here (max-output-total moves with other workers'
 * writes) would otherwise wait for input that may never come.
 */
static void rc__pump(rc_conn *c)
{
    for (;;) {
        rc__over over = c->reading ? rc__over_limit(c) : RC__UNDER;
        if (over != RC__UNDER) {
            rc__stop_reading(c);
            rc_stat_add(over == RC__OVER_CONN ? &c->worker->stats.output_throttled
                                              : &c->worker->stats.output_total_throttled,
                        1);
        }
        rc_conn_flush(c);
        if (!c->reading || c->writing || c->closing || c->draining || c->in.len == 0 ||
            rc__process_backlog(c) == 0)
            return;
    }
}

static void rc__on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    rc_conn *c = handle->data;
    rc_worker *w = c->worker;
    if (c->in.len == 0) {
        buf->base = (char *)w->read_buf;
        buf->len = w->read_buf_size;
        return;
    }
    /* in_need was checked against max-frame by rc_decode_header before we grow to it. */
    size_t want = c->in.len + RC__READ_CHUNK;
    if (c->in_need > want)
        want = c->in_need;
    rc__buf_fit(&c->in, want);
    buf->base = (char *)c->in.data + c->in.len;
    buf->len = c->in.cap - c->in.len;
}

/* EOF or a read error. */
static void rc__read_ended(rc_conn *c, ssize_t nread)
{
    if (nread == UV_EOF) {
        /* The peer finished sending; answer what it sent, then close. */
        rc__begin_drain(c);
        rc_conn_flush(c);
        return;
    }
    rc_log_debug("read failed: %s", uv_strerror((int)nread));
    rc_conn_close(c);
}

static void rc__on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    rc_conn *c = stream->data;
    if (nread == 0)
        return;
    if (nread < 0) {
        rc__read_ended(c, nread);
        return;
    }
    rc_stat_add(&c->worker->stats.bytes_in, (uint64_t)nread);
    if ((uint8_t *)buf->base == c->worker->read_buf) {
        size_t used = rc__conn_process(c, c->worker->read_buf, (size_t)nread);
        if (!c->draining && used < (size_t)nread) {
            size_t rest = (size_t)nread - used;
            rc__buf_fit(&c->in, rest);
            memcpy(c->in.data, c->worker->read_buf + used, rest);
            c->in.len = rest;
        }
    } else {
        c->in.len += (size_t)nread;
        rc__process_backlog(c);
    }
    rc__pump(c);
}

static void rc__on_write(uv_write_t *req, int status)
{
    rc_conn *c = req->data;
    c->writing = false;
    if (status < 0) {
        if (status != UV_ECANCELED)
            rc_log_debug("write failed: %s", uv_strerror(status));
        rc_conn_close(c);
        return;
    }
    rc__wbuf_sent(c);
    if (c->closing)
        return;
    rc__account(c);
    c->hooks->on_writable(c); /* e.g. more events may wait now that the output shrank */
    if (!c->reading && !rc__over_limit(c) && !c->worker->stopping)
        rc__start_reading(c);
    rc__pump(c); /* the frames left in `in` when the output passed a limit */
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

static void rc__on_close(uv_handle_t *handle)
{
    rc_conn *c = handle->data;
    rc_worker *w = c->worker;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    atomic_fetch_sub_explicit(&w->server->output_bytes, c->accounted, memory_order_relaxed);
    if (c->admitted) {
        rc_stat_sub(&w->stats.connections_current, 1);
        atomic_fetch_sub_explicit(&w->server->connections, 1, memory_order_relaxed);
    }
    c->hooks->on_closed(c);
    rc__buf_free(&c->in);
    rc__buf_free(&c->out);
    rc__buf_free(&c->wbuf);
    free(c);
    rc_worker_conn_closed(w);
}

void rc_conn_close(rc_conn *c)
{
    if (c->closing)
        return;
    c->hooks->on_input_end(c); /* afterwards nothing parked refers to c */
    rc__stop_reading(c);
    c->closing = true;
    uv_close((uv_handle_t *)&c->tcp, rc__on_close);
}

void rc_conn_finish(rc_conn *c)
{
    if (c->closing || c->draining)
        return;
    rc__begin_drain(c);
    rc_conn_flush(c);
}

void rc_conn_shutdown(rc_conn *c)
{
    if (c->closing)
        return;
    c->hooks->on_shutdown(c);
    rc__begin_drain(c);
    rc_conn_flush(c);
}

/*
 * Take a slot under max-connections.  The counter may briefly pass the
 * limit while two workers race; the loser gives its slot back, so the
 * number of admitted connections never exceeds the limit.
 */
static bool rc__admit(rc_server *srv)
{
    uint32_t before = atomic_fetch_add_explicit(&srv->connections, 1, memory_order_relaxed);
    if (before < srv->cfg->max_connections)
        return true;
    atomic_fetch_sub_explicit(&srv->connections, 1, memory_order_relaxed);
    return false;
}

/* Refuse an accepted connection: one SERVER_BUSY frame (request id 0), then close. */
static void rc__reject(rc_conn *c)
{
    char message[128];
    snprintf(message, sizeof(message), "server busy: %llu connections open (max-connections)",
             (unsigned long long)rc__cfg(c)->max_connections);
    rc_stat_add(&c->worker->stats.connections_rejected, 1);
    rc_conn_send_error(c, 0, 0, RC_ESERVER_BUSY, message);
    c->draining = true;
    rc_conn_flush(c);
}

void rc_conn_adopt(rc_worker *w, int fd, const rc_conn_hooks *hooks)
{
    rc_conn *c = rc_xcalloc(1, sizeof(*c));
    c->worker = w;
    c->hooks = hooks;
    int rc = uv_tcp_init(&w->loop, &c->tcp);
    if (rc < 0) {
        rc_log_error("cannot create a connection handle: %s", uv_strerror(rc));
        close(fd);
        free(c);
        return;
    }
    c->tcp.data = c;
    c->write_req.data = c;
    c->next = w->conns;
    if (w->conns != NULL)
        w->conns->prev = c;
    w->conns = c;

    rc = uv_tcp_open(&c->tcp, fd);
    if (rc < 0) {
        rc_log_debug("cannot adopt an accepted socket: %s", uv_strerror(rc));
        close(fd);
        rc_conn_close(c);
        return;
    }
    if (!rc__admit(w->server)) {
        rc__reject(c);
        return;
    }
    c->admitted = true;
    rc_stat_add(&w->stats.connections_total, 1);
    rc_stat_add(&w->stats.connections_current, 1);
    uv_tcp_nodelay(&c->tcp, 1);
    rc__start_reading(c);
}

/* ---- write timeout -------------------------------------------------------------------------- */

/* Close c if its write in flight has not moved a byte for write-timeout-ms. */
static void rc__check_write_progress(rc_conn *c, uint64_t now, uint64_t timeout)
{
    if (!c->writing || c->closing)
        return;
    uint64_t written = rc_conn_written(c);
    if (written != c->progress) {
        c->progress = written;
        c->progress_ms = now;
        return;
    }
    if (now - c->progress_ms < timeout)
        return;
    rc_server *srv = c->worker->server;
    rc_stat_add(&c->worker->stats.write_timeouts, 1);
    rc_log_info("closing a connection that read nothing for %llu ms (write-timeout-ms): %zu bytes "
                "unsent; node output %llu of max-output-total %llu bytes",
                (unsigned long long)(now - c->progress_ms), rc_conn_unsent(c),
                (unsigned long long)atomic_load_explicit(&srv->output_bytes, memory_order_relaxed),
                (unsigned long long)srv->cfg->max_output_total);
    rc_conn_close(c);
}

static void rc__on_write_timer(uv_timer_t *timer)
{
    rc_worker *w = timer->data;
    uint64_t now = uv_now(&w->loop);
    uint64_t timeout = w->server->cfg->write_timeout_ms;
    for (rc_conn *c = w->conns; c != NULL; c = c->next)
        rc__check_write_progress(c, now, timeout); /* closing frees nothing before the callback */
}

int rc_conn_worker_init(rc_worker *w)
{
    w->write_timer.data = w;
    int rc = uv_timer_init(&w->loop, &w->write_timer);
    uint64_t timeout = w->server->cfg->write_timeout_ms;
    if (rc != 0 || timeout == 0)
        return rc;
    uint64_t period = timeout / 4u;
    period = period < 10u ? 10u : period > 1000u ? 1000u : period;
    return uv_timer_start(&w->write_timer, rc__on_write_timer, period, period);
}

void rc_conn_worker_stop(rc_worker *w)
{
    if (!uv_is_closing((uv_handle_t *)&w->write_timer))
        uv_close((uv_handle_t *)&w->write_timer, NULL);
}

/* The connections' stop: no more write-timeout checks, then every connection drains. */
static void rc__conn_part_stop(rc_worker *w)
{
    rc_conn_worker_stop(w); /* the server's drain deadline bounds the rest */
    for (rc_conn *c = w->conns, *next; c != NULL; c = next) {
        next = c->next;
        rc_conn_shutdown(c);
    }
}

const rc_worker_part rc_conn_worker_part = {
    .name = "connections",
    .setup = rc_conn_worker_init,
    .stop = rc__conn_part_stop,
    .release = NULL,
};
