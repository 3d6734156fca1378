/*
 * rc_client.c - librecache: connection handling, the one request/response
 * engine, and every single-request operation.
 *
 * Design.  A client owns one non-blocking TCP socket; every wait goes
 * through poll() with a deadline, so no call can block longer than its
 * timeout (connect_timeout_ms for rc_connect, io_timeout_ms per operation).
 * rc__exchange() is the only code that moves bytes: it writes encoded
 * request frames and reads response frames, matching them by request id.
 * Each public operation only fills an rc_msg (the codec in protocol/ turns
 * it into bytes), runs it through rc__call(), and converts the answer.
 * The lease operations (rc_lease_client.c) take the same path; the only
 * lease-specific rule here is that an LGET's deadline is extended by its
 * wait_ms, because the server may legitimately park it that long.
 *
 * Subscriptions (rc_sub.c) reuse the same machinery: rc__read_frame hands
 * out frames of any kind, and a client may carry a wake fd (the L1 channel
 * thread's self-pipe) that every wait also polls, so that thread can be
 * stopped in the middle of a connect or a request.
 *
 * Failure model.  The library never aborts; allocation failures return
 * RC_ENOMEM.  Statuses the server reports are returned as -status (the
 * error convention of rc_errors.h).  Timeouts, socket errors, a closed peer,
 * undecodable or unmatched frames, and connection-level error frames
 * (request id 0, sent before the server closes) leave the byte stream in an
 * unknown state, so they mark the client unusable.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rc_client_int.h"

#define RC__DEFAULT_HOST       "127.0.0.1"
#define RC__DEFAULT_PORT       7400
#define RC__DEFAULT_CONNECT_MS 2000
#define RC__DEFAULT_IO_MS      5000
/* Responses are accepted up to the larger of this and the server's max_frame. */
#define RC__MIN_RESPONSE_FRAME (64u * 1024u * 1024u)
/* The read buffer starts at this size; grown past RC__READ_CHUNK_KEEP, it is freed when idle. */
#define RC__READ_CHUNK      (64u * 1024u)
#define RC__READ_CHUNK_KEEP (1024u * 1024u)
/* Most iovecs one exchange may send. */
#define RC__MAX_IOV     8
#define RC__CLIENT_NAME "librecache " RECACHE_CLIENT_VERSION

/* ---- time ----------------------------------------------------------------------------------- */

uint64_t rc__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*
 * rc__wait_fd - poll fd for `events` until the deadline.  Returns the
 * revents (> 0), or RC_ETIMEDOUT, or RC_EIO if poll itself fails.  When
 * wake_fd >= 0 (the subscription thread's self-pipe) and it becomes
 * readable, returns RC_ESTATE at once: the owner wants the call abandoned.
 */
static int rc__wait_fd(int fd, short events, uint64_t deadline, int wake_fd)
{
    for (;;) {
        uint64_t now = rc__now_ms();
        if (now >= deadline)
            return RC_ETIMEDOUT;
        uint64_t left = deadline - now;
        struct pollfd pfd[2] = {{.fd = fd, .events = events, .revents = 0},
                                {.fd = wake_fd, .events = POLLIN, .revents = 0}};
        int n = poll(pfd, wake_fd >= 0 ? 2 : 1, left > 60000 ? 60000 : (int)left);
        if (n > 0 && pfd[1].revents)
            return RC_ESTATE;
        if (n > 0)
            return pfd[0].revents;
        if (n < 0 && errno != EINTR)
            return RC_EIO;
    }
}

/* ---- small shared helpers ------------------------------------------------------------------- */

uint32_t rc__reserve_ids(rc_client *c, size_t count)
{
    uint32_t first = c->next_request_id;
    if (first == 0 || (uint64_t)first + count > UINT32_MAX)
        first = 1;
    c->next_request_id = first + (uint32_t)count;
    return first;
}

int rc__status_to_rc(const rc_client *c, const rc_msg *resp)
{
    (void)c;
    return resp->status == RC_STATUS_OK ? 0 : -(int)resp->status;
}

void rc__note_error(rc_client *c, const rc_msg *resp)
{
    c->errmsg[0] = '\0';
    if (resp->status < RC_STATUS_FIRST_ERROR)
        return;
    size_t n = resp->text.len < RC__ERRMSG_MAX - 1 ? resp->text.len : RC__ERRMSG_MAX - 1;
    if (n > 0)
        memcpy(c->errmsg, resp->text.ptr, n);
    c->errmsg[n] = '\0';
}

int rc__check_usable(const rc_client *c)
{
    if (c == NULL)
        return RC_EINVAL;
    return c->usable ? 0 : RC_ECLOSED;
}

int rc__check_request(rc_client *c, const rc_msg *req, size_t frame_len)
{
    const rc_server_info *info = &c->info;
    if (info->max_key > 0 && req->key.len > info->max_key) {
        snprintf(c->errmsg, sizeof c->errmsg,
                 "key of %" PRIu32 " bytes exceeds the server's max-key of %u bytes; "
                 "nothing was sent",
                 req->key.len, (unsigned)info->max_key);
        return RC_EKEY_TOO_LONG;
    }
    if (info->max_value > 0 && req->opcode == RC_OP_SET && req->value.len > info->max_value) {
        snprintf(c->errmsg, sizeof c->errmsg,
                 "value of %" PRIu32 " bytes exceeds the server's max-value of %" PRIu32
                 " bytes; nothing was sent",
                 req->value.len, info->max_value);
        return RC_EVALUE_TOO_LARGE;
    }
    if (info->max_frame > 0 && frame_len > info->max_frame) {
        snprintf(c->errmsg, sizeof c->errmsg,
                 "request of %zu bytes exceeds the server's max-frame of %" PRIu32
                 " bytes; nothing was sent",
                 frame_len, info->max_frame);
        return RC_EFRAME_TOO_LARGE;
    }
    return 0;
}

/*
 * rc__status_closes - statuses after which the server closes the connection
 * (the stream could not be resynchronised, or the server refuses to go on),
 * whatever request id they carry.
 */
static int rc__status_closes(uint16_t status)
{
    switch (status) {
    case RC_STATUS_BAD_MAGIC:
    case RC_STATUS_BAD_VERSION:
    case RC_STATUS_FRAME_TOO_LARGE:
    case RC_STATUS_SERVER_BUSY:
    case RC_STATUS_SHUTTING_DOWN:
    case RC_STATUS_SLOW_CONSUMER:
        return 1;
    default:
        return 0;
    }
}

/* rc__fatal - mark the client unusable and pass err through. */
static int rc__fatal(rc_client *c, int err)
{
    c->usable = 0;
    return err;
}

/* ---- reading frames ------------------------------------------------------------------------- */

/*
 * rc__ensure_space - make room for `need` unconsumed bytes plus at least
 * some free space at the end of the read buffer.  Compacts first (which is
 * why slices of earlier frames die at the next read), then grows.  Callers
 * have checked `need` against the frame limit.  0 or RC_ENOMEM.
 */
static int rc__ensure_space(rc_client *c, size_t need)
{
    if (c->rpos > 0) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
    size_t want = need > c->rlen + RC__READ_CHUNK / 4 ? need : c->rlen + RC__READ_CHUNK / 4;
    if (want <= c->rcap)
        return 0;
    size_t cap = c->rcap ? c->rcap : RC__READ_CHUNK;
    while (cap < want)
        cap *= 2;
    uint8_t *p = realloc(c->rbuf, cap);
    if (p == NULL)
        return RC_ENOMEM;
    c->rbuf = p;
    c->rcap = cap;
    return 0;
}

/*
 * rc__trim_read_buffer - give back a read buffer that one large frame grew,
 * once it holds no unconsumed bytes.  Called when an exchange starts, the
 * point where slices of earlier answers are no longer in use.
 */
static void rc__trim_read_buffer(rc_client *c)
{
    if (c->rpos != c->rlen || c->rcap <= RC__READ_CHUNK_KEEP)
        return;
    free(c->rbuf);
    c->rbuf = NULL;
    c->rcap = c->rlen = c->rpos = 0;
}

/*
 * rc__read_some - one read() into the buffer, sized so the frame being
 * assembled (`need` bytes from rpos) fits.  Returns the byte count (> 0),
 * 0 when nothing was available, RC_ECLOSED at end of stream, RC_EIO or
 * RC_ENOMEM.
 */
static int rc__read_some(rc_client *c, size_t need)
{
    int err = rc__ensure_space(c, need);
    if (err)
        return err;
    for (;;) {
        ssize_t n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
        if (n > 0) {
            c->rlen += (size_t)n;
            return n > INT32_MAX ? INT32_MAX : (int)n;
        }
        if (n == 0)
            return RC_ECLOSED;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return errno == ECONNRESET ? RC_ECLOSED : RC_EIO;
    }
}

/*
 * rc__next_frame - decode the next complete frame in the buffer into *msg
 * (slices point into the buffer) and consume it.  Returns 0, RC_EAGAIN with
 * *need = bytes required (header or whole frame), RC_EBAD_VERSION for a
 * server speaking another protocol version, or RC_EPROTOCOL.
 */
static int rc__next_frame(rc_client *c, rc_msg *msg, size_t *need)
{
    const uint8_t *p = c->rbuf + c->rpos;
    size_t avail = c->rlen - c->rpos;
    uint32_t frame_len;

    *need = RC_HEADER_SIZE;
    int err = rc_decode_header(p, avail, c->limits.max_frame, msg, &frame_len);
    if (err == RC_EAGAIN)
        return RC_EAGAIN;
    if (err)
        return err == RC_EBAD_VERSION ? err : RC_EPROTOCOL;
    if (avail < frame_len) {
        *need = frame_len;
        return RC_EAGAIN;
    }
    err = rc_decode_body(p + RC_HEADER_SIZE, frame_len - RC_HEADER_SIZE, &c->limits, msg);
    if (err)
        return RC_EPROTOCOL;
    c->rpos += frame_len;
    return 0;
}

/* ---- the exchange engine -------------------------------------------------------------------- */

/* Progress of one exchange. */
typedef struct rc__exchange_state {
    struct iovec iov[RC__MAX_IOV]; /* what is left to send */
    int iov_first;
    int iov_count;
    int send_err; /* first send failure; we keep reading to learn why */
    uint32_t first_id;
    size_t count;    /* responses expected */
    size_t answered; /* responses received */
    int cb_err;      /* first callback failure (RC_ENOMEM), reported at the end */
    rc__response_fn on_response;
    void *ctx;
} rc__exchange_state;

/*
 * rc__send_some - send as much of the remaining iovecs as the socket takes
 * now.  Returns 0 (progress or EAGAIN) or RC_ECLOSED / RC_EIO.
 */
static int rc__send_some(rc_client *c, rc__exchange_state *st)
{
    while (st->iov_count > 0) {
        struct msghdr mh = {0};
        mh.msg_iov = st->iov + st->iov_first;
        mh.msg_iovlen = (size_t)st->iov_count;
        ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return errno == EPIPE || errno == ECONNRESET ? RC_ECLOSED : RC_EIO;
        }
        size_t done = (size_t)n;
        while (st->iov_count > 0 && done >= st->iov[st->iov_first].iov_len) {
            done -= st->iov[st->iov_first].iov_len;
            st->iov_first++;
            st->iov_count--;
        }
        if (st->iov_count > 0) {
            struct iovec *v = &st->iov[st->iov_first];
            v->iov_base = (uint8_t *)v->iov_base + done;
            v->iov_len -= done;
        }
    }
    return 0;
}

/*
 * rc__dispatch - route one decoded frame.  Push frames are skipped; a frame
 * answering this exchange goes to the callback; a connection-level error
 * frame (request id 0) ends the exchange with its status.  Returns 0 or a
 * fatal code.
 */
static int rc__dispatch(rc_client *c, rc__exchange_state *st, const rc_msg *msg)
{
    if (msg->hflags & RC_HF_PUSH)
        return 0;
    if (!(msg->hflags & RC_HF_RESPONSE))
        return RC_EPROTOCOL;
    uint32_t index = msg->request_id - st->first_id;
    if (msg->request_id == 0 && msg->status >= RC_STATUS_FIRST_ERROR) {
        rc__note_error(c, msg);
        return -(int)msg->status;
    }
    if (index >= st->count)
        return RC_EPROTOCOL;
    if (rc__status_closes(msg->status))
        c->usable = 0; /* deliver the answer, but nothing more can follow it */
    int err = st->on_response(st->ctx, index, msg);
    if (err == RC_EPROTOCOL)
        return err;
    if (err < 0 && st->cb_err == 0)
        st->cb_err = err;
    st->answered++;
    return 0;
}

/*
 * rc__drain_frames - dispatch every complete frame in the buffer until the
 * exchange is complete.  Returns 0 and *need (bytes the next frame needs),
 * or a fatal code.
 */
static int rc__drain_frames(rc_client *c, rc__exchange_state *st, size_t *need)
{
    while (st->answered < st->count) {
        rc_msg msg;
        int err = rc__next_frame(c, &msg, need);
        if (err == RC_EAGAIN)
            return 0;
        if (err)
            return err;
        err = rc__dispatch(c, st, &msg);
        if (err)
            return err;
    }
    return 0;
}

/*
 * rc__exchange_step - one poll round: send what the socket takes, read what
 * has arrived.  Returns 0 or a fatal code.
 */
static int rc__exchange_step(rc_client *c, rc__exchange_state *st, size_t need, uint64_t deadline)
{
    int sending = st->iov_count > 0 && st->send_err == 0;
    int rev = rc__wait_fd(c->fd, (short)(POLLIN | (sending ? POLLOUT : 0)), deadline, c->wake_fd);
    if (rev < 0)
        return rev;
    if (sending && (rev & (POLLOUT | POLLERR | POLLHUP))) {
        int err = rc__send_some(c, st);
        if (err)
            st->send_err = err; /* the server may have said why: read on */
    }
    if (rev & (POLLIN | POLLERR | POLLHUP)) {
        int n = rc__read_some(c, need);
        if (n < 0)
            return st->send_err && n == RC_ECLOSED ? st->send_err : n;
    }
    return 0;
}

int rc__exchange(rc_client *c, const struct iovec *iov, int iovcnt, uint32_t first_id, size_t count,
                 uint32_t extra_ms, rc__response_fn on_response, void *ctx)
{
    int err = rc__check_usable(c);
    if (err)
        return err;
    if (c->subscribed)
        return RC_ESTATE; /* the answers would be mixed with events nobody reads */
    if (iovcnt < 0 || iovcnt > RC__MAX_IOV)
        return RC_EINVAL;
    rc__trim_read_buffer(c);

    rc__exchange_state st = {.iov_first = 0,
                             .iov_count = 0,
                             .first_id = first_id,
                             .count = count,
                             .on_response = on_response,
                             .ctx = ctx};
    for (int i = 0; i < iovcnt; i++)
        if (iov[i].iov_len > 0)
            st.iov[st.iov_count++] = iov[i];

    uint64_t deadline = rc__now_ms() + c->io_timeout_ms + extra_ms;
    for (;;) {
        size_t need = RC_HEADER_SIZE;
        err = rc__drain_frames(c, &st, &need);
        if (err)
            return rc__fatal(c, err);
        if (st.answered == st.count)
            return st.cb_err;
        /* Any failure here, even RC_ENOMEM for a frame we cannot hold, loses the stream. */
        err = rc__exchange_step(c, &st, need, deadline);
        if (err)
            return rc__fatal(c, err);
    }
}

/* rc__read_frame: see rc_client_int.h. */
int rc__read_frame(rc_client *c, rc_msg *msg, uint64_t deadline)
{
    int err = rc__check_usable(c);
    if (err)
        return err;
    for (;;) {
        size_t need = RC_HEADER_SIZE;
        err = rc__next_frame(c, msg, &need);
        if (err != RC_EAGAIN)
            return err ? rc__fatal(c, err) : 0;
        int rev = rc__wait_fd(c->fd, POLLIN, deadline, c->wake_fd);
        if (rev == RC_ETIMEDOUT || rev == RC_ESTATE)
            return rev; /* nothing lost: the stream is still at a frame boundary */
        if (rev < 0)
            return rc__fatal(c, rev);
        int n = rc__read_some(c, need);
        if (n < 0)
            return rc__fatal(c, n);
    }
}

/* ---- single requests ------------------------------------------------------------------------ */

/* Callback of a one-frame exchange: keep the decoded response for the caller. */
static int rc__keep_response(void *ctx, size_t index, const rc_msg *resp)
{
    (void)index;
    *(rc_msg *)ctx = *resp;
    return 0;
}

/* rc__reserve_wbuf - make the encode scratch at least `size` bytes.  0 or RC_ENOMEM. */
static int rc__reserve_wbuf(rc_client *c, size_t size)
{
    if (size <= c->wcap)
        return 0;
    uint8_t *p = realloc(c->wbuf, size);
    if (p == NULL)
        return RC_ENOMEM;
    c->wbuf = p;
    c->wcap = size;
    return 0;
}

/* rc__call: see rc_client_int.h. */
int rc__call(rc_client *c, rc_msg *req, rc_msg *resp)
{
    int err = rc__check_usable(c);
    if (err)
        return err;
    req->hflags = 0;
    req->status = 0;
    long total = rc_encoded_size(req);
    if (total < 0)
        return (int)total;
    err = rc__check_request(c, req, (size_t)total);
    if (err)
        return err;
    size_t head = (size_t)total - req->value.len;
    err = rc__reserve_wbuf(c, head);
    if (err)
        return err;
    req->request_id = rc__reserve_ids(c, 1);
    long n = rc_encode_head(req, c->wbuf, c->wcap);
    if (n < 0)
        return (int)n;

    struct iovec iov[2] = {{c->wbuf, (size_t)n},
                           {(void *)(uintptr_t)req->value.ptr, req->value.len}};
    memset(resp, 0, sizeof *resp);
    uint32_t extra_ms = req->opcode == RC_OP_LGET ? req->wait_ms : 0;
    err = rc__exchange(c, iov, 2, req->request_id, 1, extra_ms, rc__keep_response, resp);
    if (err)
        return err;
    if (resp->status < RC_STATUS_FIRST_ERROR && resp->opcode != req->opcode)
        return rc__fatal(c, RC_EPROTOCOL);
    rc__note_error(c, resp);
    return rc__status_to_rc(c, resp);
}

/* ---- request builders (shared with rc_batch.c) ---------------------------------------------- */

/* rc__check_ns - a namespace must be a non-empty string that fits the wire field. */
static int rc__check_ns(const char *ns)
{
    if (ns == NULL || ns[0] == '\0' || strlen(ns) > RC_WIRE_MAX_NS)
        return RC_EBAD_NAMESPACE;
    return 0;
}

/* rc__check_key - a key is 1..65535 bytes (the server may allow fewer). */
static int rc__check_key(const void *key, size_t key_len)
{
    if (key == NULL || key_len == 0)
        return RC_EINVAL;
    return key_len > RC_WIRE_MAX_KEY ? RC_EKEY_TOO_LONG : 0;
}

int rc__prepare_keyed(rc_msg *req, uint8_t opcode, const char *ns, const void *key, size_t key_len,
                      uint64_t version)
{
    int err = rc__check_ns(ns);
    if (err == 0)
        err = rc__check_key(key, key_len);
    if (err)
        return err;
    memset(req, 0, sizeof *req);
    req->opcode = opcode;
    req->ns_version = version;
    req->ns = rc_slice_str(ns);
    req->key.ptr = key;
    req->key.len = (uint32_t)key_len;
    return 0;
}

int rc__prepare_set(rc_msg *req, const char *ns, const void *key, size_t key_len, const void *value,
                    size_t value_len, const rc_set_options *opts)
{
    static const rc_set_options defaults = {.stale_ms = RC_STALE_DEFAULT};
    if (opts == NULL)
        opts = &defaults;
    if (opts->cond < RC_SET_ALWAYS || opts->cond > RC_SET_CAS)
        return RC_EINVAL;
    if (value == NULL && value_len > 0)
        return RC_EINVAL;
    if (value_len > UINT32_MAX)
        return RC_EVALUE_TOO_LARGE;
    int err = rc__prepare_keyed(req, RC_OP_SET, ns, key, key_len, opts->version);
    if (err)
        return err;
    req->entry_version = opts->entry_version;
    req->cas_version = opts->cas_version;
    req->ttl_ms = opts->ttl_ms;
    req->stale_ms = opts->stale_ms;
    req->client_flags = opts->client_flags;
    req->cond = (uint8_t)opts->cond; /* RC_SET_* equal enum rc_cond */
    req->value.ptr = value;
    req->value.len = (uint32_t)value_len;
    return 0;
}

long rc__tags_size(const rc_set_options *opts)
{
    if (opts == NULL || opts->ntags == 0)
        return 0;
    if (opts->tags == NULL)
        return RC_EINVAL;
    if (opts->ntags > RC_WIRE_MAX_TAGS)
        return RC_ETOO_MANY_TAGS;
    long size = 0;
    for (size_t i = 0; i < opts->ntags; i++) {
        if (opts->tags[i] == NULL)
            return RC_EINVAL;
        size_t len = strlen(opts->tags[i]);
        if (len == 0 || len > RC_WIRE_MAX_TAG_LEN)
            return RC_ETAG_TOO_LONG;
        size += 1 + (long)len;
    }
    return size;
}

long rc__tags_encode(const rc_set_options *opts, uint8_t *buf, size_t cap)
{
    rc_slice items[RC_WIRE_MAX_TAGS];
    if (opts == NULL || opts->ntags == 0)
        return 0;
    if (opts->ntags > RC_WIRE_MAX_TAGS)
        return RC_ETOO_MANY_TAGS;
    for (size_t i = 0; i < opts->ntags; i++)
        items[i] = rc_slice_str(opts->tags[i]);
    return rc_list_encode(items, opts->ntags, buf, cap);
}

void rc__value_meta(rc_value *v, const rc_msg *resp)
{
    v->client_flags = resp->client_flags;
    v->entry_version = resp->entry_version;
    v->ns_version = resp->ns_version;
    v->ttl_left_ms = resp->ttl_ms;
    v->stale = resp->state == RC_STATE_STALE;
}

/* rc__dup_text - a malloc'ed, NUL-terminated copy of a slice.  NULL on OOM. */
static char *rc__dup_text(rc_slice s)
{
    char *p = malloc((size_t)s.len + 1);
    if (p == NULL)
        return NULL;
    if (s.len > 0)
        memcpy(p, s.ptr, s.len);
    p[s.len] = '\0';
    return p;
}

int rc__value_copy(rc_value *v, const rc_msg *resp)
{
    rc__value_meta(v, resp);
    v->data = (uint8_t *)rc__dup_text(resp->value);
    if (v->data == NULL)
        return RC_ENOMEM;
    v->len = resp->value.len;
    return 0;
}

/* ---- connecting ----------------------------------------------------------------------------- */

/*
 * rc__connect_addr - connect one resolved address, waiting until the
 * deadline.  Returns the connected non-blocking socket, or RC_ETIMEDOUT,
 * RC_ECONNECT, RC_ESTATE (woken through wake_fd, see rc__wait_fd).
 */
static int rc__connect_addr(const struct addrinfo *ai, uint64_t deadline, int wake_fd)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return RC_ECONNECT;
    int err = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS && errno != EINTR) {
            err = RC_ECONNECT;
        } else {
            int rev = rc__wait_fd(fd, POLLOUT, deadline, wake_fd);
            int soerr = 0;
            socklen_t len = sizeof soerr;
            if (rev < 0)
                err = rev == RC_ETIMEDOUT ? RC_ETIMEDOUT : RC_ECONNECT;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0)
                err = RC_ECONNECT;
        }
    }
    if (err) {
        close(fd);
        return err;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/*
 * rc__open_socket - resolve host:port and connect to the first address that
 * answers before the deadline.  Returns the socket or RC_ERESOLVE,
 * RC_ENOMEM, RC_ECONNECT, RC_ETIMEDOUT.
 */
static int rc__open_socket(const char *host, uint16_t port, uint64_t deadline, int wake_fd)
{
    char service[8];
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(service, sizeof service, "%u", (unsigned)port);
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0)
        return gai == EAI_MEMORY ? RC_ENOMEM : RC_ERESOLVE;

    int result = RC_ECONNECT;
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        result = rc__connect_addr(ai, deadline, wake_fd);
        if (result >= 0 || result == RC_ETIMEDOUT)
            break;
    }
    freeaddrinfo(res);
    return result;
}

/* rc__hello - exchange HELLO and record the server's limits.  0 or an rc error. */
static int rc__hello(rc_client *c)
{
    rc_msg req = {0}, resp;
    req.opcode = RC_OP_HELLO;
    req.text = rc_slice_str(RC__CLIENT_NAME);
    int err = rc__call(c, &req, &resp);
    if (err)
        return err;

    rc_server_info *info = &c->info;
    info->protocol_version = RC_PROTO_VERSION; /* the header decoder accepted it */
    info->instance_id = resp.instance_id;
    info->max_frame = resp.max_frame;
    info->max_value = resp.max_value;
    info->max_key = resp.max_key;
    info->max_tags = resp.max_tags;
    info->max_tag_len = resp.max_tag_len;
    size_t n = resp.text.len < sizeof info->server_version - 1 ? resp.text.len
                                                               : sizeof info->server_version - 1;
    if (n > 0)
        memcpy(info->server_version, resp.text.ptr, n);
    info->server_version[n] = '\0';

    uint32_t max_frame =
        resp.max_frame > RC__MIN_RESPONSE_FRAME ? resp.max_frame : RC__MIN_RESPONSE_FRAME;
    c->limits.max_frame = max_frame;
    c->limits.max_value = max_frame;
    return 0;
}

int rc__connect_wake(const rc_client_options *opts, int wake_fd, rc_client **out)
{
    static const rc_client_options defaults = {0};
    if (out == NULL)
        return RC_EINVAL;
    *out = NULL;
    if (opts == NULL)
        opts = &defaults;
    const char *host = opts->host && opts->host[0] ? opts->host : RC__DEFAULT_HOST;
    uint16_t port = opts->port ? opts->port : RC__DEFAULT_PORT;
    uint32_t connect_ms =
        opts->connect_timeout_ms ? opts->connect_timeout_ms : RC__DEFAULT_CONNECT_MS;

    rc_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return RC_ENOMEM;
    c->fd = -1;
    c->wake_fd = wake_fd;
    c->io_timeout_ms = opts->io_timeout_ms ? opts->io_timeout_ms : RC__DEFAULT_IO_MS;
    c->limits = rc_limits_wire();
    c->limits.max_frame = RC__MIN_RESPONSE_FRAME;
    c->limits.max_value = RC__MIN_RESPONSE_FRAME;
    c->next_request_id = 1;

    int fd = rc__open_socket(host, port, rc__now_ms() + connect_ms, wake_fd);
    if (fd < 0) {
        free(c);
        return fd;
    }
    c->fd = fd;
    c->usable = 1;
    int err = rc__hello(c);
    if (err) {
        rc_close(c);
        return err;
    }
    *out = c;
    return 0;
}

int rc_connect(const rc_client_options *opts, rc_client **out)
{
    return rc__connect_wake(opts, -1, out);
}

void rc_close(rc_client *c)
{
    if (c == NULL)
        return;
    if (c->fd >= 0)
        close(c->fd);
    free(c->rbuf);
    free(c->wbuf);
    free(c);
}

int rc_client_ok(const rc_client *c)
{
    return c != NULL && c->usable;
}

const rc_server_info *rc_server_info_get(const rc_client *c)
{
    return c ? &c->info : NULL;
}

const char *rc_client_error_message(const rc_client *c)
{
    return c ? c->errmsg : "";
}

void rc_value_free(rc_value *v)
{
    if (v == NULL)
        return;
    free(v->data);
    memset(v, 0, sizeof *v);
}

/* ---- operations ----------------------------------------------------------------------------- */

int rc_ping(rc_client *c)
{
    rc_msg req = {0}, resp;
    req.opcode = RC_OP_PING;
    return rc__call(c, &req, &resp);
}

int rc_get(rc_client *c, const char *ns, const void *key, size_t key_len,
           const rc_get_options *opts, rc_value *out)
{
    rc_msg req, resp;
    if (out == NULL)
        return RC_EINVAL;
    memset(out, 0, sizeof *out);
    int err = rc__prepare_keyed(&req, RC_OP_GET, ns, key, key_len, opts ? opts->version : 0);
    if (err)
        return err;
    req.min_version = opts ? opts->min_version : 0;
    err = rc__call(c, &req, &resp);
    if (err == RC_EMISS)
        out->ns_version = resp.ns_version; /* a miss still says which version it looked at */
    if (err)
        return err;
    err = rc__value_copy(out, &resp);
    if (err)
        memset(out, 0, sizeof *out);
    return err;
}

int rc__set_call(rc_client *c, const char *ns, const void *key, size_t key_len, const void *value,
                 size_t value_len, const rc_set_options *opts, const uint8_t *token,
                 rc_write_info *info)
{
    rc_msg req, resp;
    int err = rc__prepare_set(&req, ns, key, key_len, value, value_len, opts);
    if (err)
        return err;
    if (token != NULL)
        memcpy(req.token, token, RC_TOKEN_SIZE);
    long tags_len = rc__tags_size(opts);
    if (tags_len < 0)
        return (int)tags_len;
    uint8_t *tags = NULL;
    if (tags_len > 0) {
        tags = malloc((size_t)tags_len);
        if (tags == NULL)
            return RC_ENOMEM;
        long n = rc__tags_encode(opts, tags, (size_t)tags_len);
        if (n < 0) {
            free(tags);
            return (int)n;
        }
        req.tags.ptr = tags;
        req.tags.len = (uint32_t)n;
        req.ntags = (uint8_t)opts->ntags;
    }
    err = rc__call(c, &req, &resp);
    free(tags);
    if (info != NULL && (err == 0 || (err < 0 && -err < RC_STATUS_FIRST_ERROR))) {
        info->ns_version = resp.ns_version;
        info->entry_version = resp.entry_version;
    }
    return err;
}

int rc_set(rc_client *c, const char *ns, const void *key, size_t key_len, const void *value,
           size_t value_len, const rc_set_options *opts, rc_write_info *info)
{
    return rc__set_call(c, ns, key, key_len, value, value_len, opts, NULL, info);
}

int rc_delete(rc_client *c, const char *ns, const void *key, size_t key_len, uint64_t version)
{
    rc_msg req, resp;
    int err = rc__prepare_keyed(&req, RC_OP_DELETE, ns, key, key_len, version);
    return err ? err : rc__call(c, &req, &resp);
}

int rc_touch(rc_client *c, const char *ns, const void *key, size_t key_len, uint32_t ttl_ms,
             uint64_t version)
{
    rc_msg req, resp;
    int err = rc__prepare_keyed(&req, RC_OP_TOUCH, ns, key, key_len, version);
    if (err)
        return err;
    req.ttl_ms = ttl_ms;
    return rc__call(c, &req, &resp);
}

/*
 * rc__text_result - copy a successful text response into a malloc'ed
 * string.  text may be NULL when the caller does not want it.
 */
static int rc__text_result(const rc_msg *resp, char **text)
{
    if (text == NULL)
        return 0;
    *text = rc__dup_text(resp->value);
    return *text ? 0 : RC_ENOMEM;
}

int rc_stats(rc_client *c, const char *ns, char **text)
{
    rc_msg req = {0}, resp;
    if (text != NULL)
        *text = NULL;
    if (ns != NULL && strlen(ns) > RC_WIRE_MAX_NS)
        return RC_EBAD_NAMESPACE;
    req.opcode = RC_OP_STATS;
    req.ns = rc_slice_str(ns);
    int err = rc__call(c, &req, &resp);
    return err ? err : rc__text_result(&resp, text);
}

int rc_bump(rc_client *c, const char *ns, uint64_t to, uint64_t *version)
{
    rc_msg req = {0}, resp;
    int err = rc__check_ns(ns);
    if (err)
        return err;
    req.opcode = RC_OP_BUMP;
    req.ns_version = to;
    req.ns = rc_slice_str(ns);
    err = rc__call(c, &req, &resp);
    if (err == 0 && version != NULL)
        *version = resp.ns_version;
    return err;
}

int rc_ns_info(rc_client *c, const char *ns, char **text, uint64_t *version)
{
    rc_msg req = {0}, resp;
    if (text != NULL)
        *text = NULL;
    int err = rc__check_ns(ns);
    if (err)
        return err;
    req.opcode = RC_OP_NS_INFO;
    req.ns = rc_slice_str(ns);
    err = rc__call(c, &req, &resp);
    if (err)
        return err;
    if (version != NULL)
        *version = resp.ns_version;
    return rc__text_result(&resp, text);
}

int rc_ns_config(rc_client *c, const char *ns, const char *settings, char **text)
{
    rc_msg req = {0}, resp;
    if (text != NULL)
        *text = NULL;
    int err = rc__check_ns(ns);
    if (err)
        return err;
    if (settings == NULL)
        return RC_EINVAL;
    size_t len = strlen(settings);
    if (len > UINT32_MAX)
        return RC_EINVAL;
    req.opcode = RC_OP_NS_CONFIG;
    req.ns = rc_slice_str(ns);
    req.value.ptr = (const uint8_t *)settings;
    req.value.len = (uint32_t)len;
    err = rc__call(c, &req, &resp);
    return err ? err : rc__text_result(&resp, text);
}

int rc_invalidate_tag(rc_client *c, const char *tag, int mode, uint64_t *epoch)
{
    rc_msg req = {0}, resp;
    if (tag == NULL || tag[0] == '\0' || (mode != RC_HARD && mode != RC_SOFT))
        return RC_EINVAL;
    if (strlen(tag) > RC_WIRE_MAX_TAG_LEN)
        return RC_ETAG_TOO_LONG;
    req.opcode = RC_OP_INVALIDATE_TAG;
    req.mode = (uint8_t)mode; /* RC_HARD/RC_SOFT equal enum rc_inval_mode */
    req.tag = rc_slice_str(tag);
    int err = rc__call(c, &req, &resp);
    if (err == 0 && epoch != NULL)
        *epoch = resp.seq;
    return err;
}

int rc_invalidate_key(rc_client *c, const char *ns, const void *key, size_t key_len, int mode,
                      uint64_t version)
{
    rc_msg req, resp;
    if (mode != RC_HARD && mode != RC_SOFT)
        return RC_EINVAL;
    int err = rc__prepare_keyed(&req, RC_OP_INVALIDATE_KEY, ns, key, key_len, version);
    if (err)
        return err;
    req.mode = (uint8_t)mode;
    return rc__call(c, &req, &resp);
}

int rc_flush(rc_client *c)
{
    rc_msg req = {0}, resp;
    req.opcode = RC_OP_FLUSH;
    return rc__call(c, &req, &resp);
}
