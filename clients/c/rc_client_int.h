/*
 * rc_client_int.h - private interface between the parts of librecache.
 *
 * Design.  All network traffic of a client goes through one engine,
 * rc__exchange(): it sends a prepared byte stream (any number of encoded
 * request frames, given as iovecs) and collects exactly `count` response
 * frames whose request ids are first_id .. first_id + count - 1, handing
 * each to a callback with its index.  Single operations (rc_client.c) are an
 * exchange of one frame; batches (rc_batch.c) are an exchange of many.
 * Sending and receiving are interleaved under poll(), so a large pipeline
 * can never deadlock against a server whose output buffer is full.
 *
 * Response frames are decoded in place in the client's read buffer: the
 * slices of a decoded rc_msg stay valid until the next read on the client
 * (that is, until the callback returns for batches, or until the next
 * operation for single calls).  The buffer grows only after a header's
 * frame length has been checked against the decode limits.
 *
 * Nothing here is thread-safe: a client belongs to one thread at a time.
 */
#ifndef RECACHE_RC_CLIENT_INT_H
#define RECACHE_RC_CLIENT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "recache/rc_proto.h"
#include "recache/recache.h"

/*
 * Internal functions are shared between the library's files but are not
 * part of its ABI: hidden from the shared library's symbol table.
 */
#define RC__INTERNAL __attribute__((visibility("hidden")))

/* Longest server error message kept for rc_client_error_message(). */
#define RC__ERRMSG_MAX 256

struct rc_client {
    int fd;                   /* non-blocking socket; -1 once closed */
    int usable;               /* 0 after a fatal I/O or protocol error */
    uint32_t next_request_id; /* increases per request; 0 is never used */
    uint32_t io_timeout_ms;
    rc_server_info info;
    rc_limits limits; /* applied when decoding responses */

    /* Read buffer: bytes [rpos, rlen) are received but not yet consumed. */
    uint8_t *rbuf;
    size_t rpos;
    size_t rlen;
    size_t rcap;

    /* Scratch space for encoding single requests (grows as needed). */
    uint8_t *wbuf;
    size_t wcap;

    char errmsg[RC__ERRMSG_MAX]; /* text of the last error response, "" if none */

    /*
     * Subscription support (rc_sub.c).  wake_fd: -1, or the read end of a
     * self-pipe whose readability makes every wait give up with RC_ESTATE,
     * so the channel thread can be stopped in the middle of a connect or a
     * request.  subscribed: set once SUBSCRIBE succeeded; from then on the
     * connection carries events, and request calls return RC_ESTATE instead
     * of silently skipping the events that arrive before their answers.
     */
    int wake_fd;
    int subscribed;
};

/*
 * Callback for each matched response.  index is the frame's position in the
 * exchange (request_id - first_id).  Returning a negative code stops the
 * exchange with that code (the client stays usable only if the code is not
 * a fatal one; callbacks return RC_ENOMEM at most).
 */
typedef int (*rc__response_fn)(void *ctx, size_t index, const rc_msg *resp);

/*
 * rc__exchange - write the iovecs (already encoded frames), then read
 * responses until `count` distinct request ids first_id .. first_id+count-1
 * have been answered, calling on_response for each.  Push frames (EVENT)
 * are skipped.  Bounded as a whole by the client's I/O timeout plus
 * extra_ms (the longest time the server may legitimately hold an answer
 * back: the wait_ms of a parked LGET).  Answers are matched by request id,
 * never by position, because a parked LGET is answered after requests sent
 * later (PROTOCOL.md section 9).  Returns 0,
 * a callback's error, or a fatal error (RC_ETIMEDOUT, RC_EIO, RC_ECLOSED,
 * RC_EPROTOCOL, or -status of a connection-level error frame such as
 * SERVER_BUSY), after which the client is marked unusable.
 */
RC__INTERNAL int rc__exchange(rc_client *c, const struct iovec *iov, int iovcnt, uint32_t first_id,
                              size_t count, uint32_t extra_ms, rc__response_fn on_response,
                              void *ctx);

/*
 * rc__call - send one request and wait for its answer: the path every
 * single-request operation takes.  Sets the request id and header fields
 * of *req, encodes it with rc_encode_head and sends the value bytes straight
 * from the caller's memory (a second iovec).  On return *resp is the decoded
 * answer; its slices point into the read buffer and stay valid until the
 * next operation on c.  An LGET extends the I/O deadline by its wait_ms
 * (the server may park it that long).  Returns the answer's status as a code (0 or
 * -status; the server's message is kept for rc_client_error_message), an
 * encoding error (nothing sent, client still usable), or a fatal error.
 */
RC__INTERNAL int rc__call(rc_client *c, rc_msg *req, rc_msg *resp);

/* rc__now_ms - CLOCK_MONOTONIC in milliseconds: every deadline in the library uses it. */
RC__INTERNAL uint64_t rc__now_ms(void);

/*
 * rc__connect_wake - rc_connect whose connect and HELLO waits also give up
 * (RC_ESTATE) as soon as wake_fd is readable; wake_fd stays with the client
 * for its later calls (rc_connect passes -1).  The caller keeps owning
 * wake_fd and must keep it open while the client lives.
 */
RC__INTERNAL int rc__connect_wake(const rc_client_options *opts, int wake_fd, rc_client **out);

/*
 * rc__read_frame - the next frame of any kind (push or response) from the
 * connection, waiting until the deadline.  *msg's slices point into the
 * read buffer and stay valid until the next read on c.  Returns 0,
 * RC_ETIMEDOUT or RC_ESTATE (woken) with the client still usable and no
 * byte lost, or a fatal error (client unusable).
 */
RC__INTERNAL int rc__read_frame(rc_client *c, rc_msg *msg, uint64_t deadline);

/*
 * rc__reserve_ids - reserve `count` consecutive request ids (never 0) and
 * return the first.  Wrap-around skips 0 so a connection-level error frame
 * (request id 0) is never mistaken for an answer.
 */
RC__INTERNAL uint32_t rc__reserve_ids(rc_client *c, size_t count);

/* rc__status_to_rc - the return code for a response status (0 or -status). */
RC__INTERNAL int rc__status_to_rc(const rc_client *c, const rc_msg *resp);

/*
 * rc__note_error - remember the message of an error response (status >= 32)
 * so rc_client_error_message() can show it; clears it for other statuses.
 */
RC__INTERNAL void rc__note_error(rc_client *c, const rc_msg *resp);

/*
 * rc__check_request - check an encoded request of frame_len bytes against
 * the limits the server announced in HELLO, before anything is sent: a key
 * over max_key (RC_EKEY_TOO_LONG), a SET value over max_value
 * (RC_EVALUE_TOO_LARGE), a frame over max_frame (RC_EFRAME_TOO_LARGE).  A
 * refused request leaves the connection usable (a frame over max_frame
 * would make the server close it) and puts the reason in c->errmsg for
 * rc_client_error_message.  Before HELLO completed (limits 0) nothing is
 * checked.  Returns 0 or the code of the first limit exceeded.
 */
RC__INTERNAL int rc__check_request(rc_client *c, const rc_msg *req, size_t frame_len);

/* rc__check_usable - RC_ECLOSED when the client was marked unusable, else 0. */
RC__INTERNAL int rc__check_usable(const rc_client *c);

/*
 * Request builders shared by single calls and batches.  They validate the
 * arguments (namespace 1..255 bytes, key 1..65535 bytes, known condition)
 * and fill *req with views of the caller's memory; nothing is copied.
 * Return 0 or RC_EBAD_NAMESPACE, RC_EKEY_TOO_LONG, RC_EVALUE_TOO_LARGE,
 * RC_EINVAL.
 */
RC__INTERNAL int rc__prepare_keyed(rc_msg *req, uint8_t opcode, const char *ns, const void *key,
                                   size_t key_len, uint64_t version);
/* SET: everything but the tags (see rc__tags_encode).  opts NULL = plain set. */
RC__INTERNAL int rc__prepare_set(rc_msg *req, const char *ns, const void *key, size_t key_len,
                                 const void *value, size_t value_len, const rc_set_options *opts);

/*
 * rc__tags_size - bytes of the encoded tag list of opts (0 without tags),
 * checked against the wire limits before anyone allocates: RC_ETOO_MANY_TAGS,
 * RC_ETAG_TOO_LONG (empty or over 255 bytes), RC_EINVAL (NULL pointers).
 */
RC__INTERNAL long rc__tags_size(const rc_set_options *opts);
/* rc__tags_encode - encode the tags of opts into buf (rc_list_encode format); bytes or error. */
RC__INTERNAL long rc__tags_encode(const rc_set_options *opts, uint8_t *buf, size_t cap);

/* rc__value_meta - copy a GET response's metadata (not the bytes) into *v. */
RC__INTERNAL void rc__value_meta(rc_value *v, const rc_msg *resp);

/*
 * rc__value_copy - fill *v from a GET/LGET hit: metadata plus a malloc'ed,
 * NUL-terminated copy of the value bytes.  0 or RC_ENOMEM (*v then has no data).
 */
RC__INTERNAL int rc__value_copy(rc_value *v, const rc_msg *resp);

/*
 * rc__set_call - the one SET path (rc_set, rc_fill): encode opts' tags,
 * send, report the write.  token NULL (or all zero) is a plain set, else a
 * lease fill.  info (may be NULL) is filled for OK and rejections.
 */
RC__INTERNAL int rc__set_call(rc_client *c, const char *ns, const void *key, size_t key_len,
                              const void *value, size_t value_len, const rc_set_options *opts,
                              const uint8_t *token, rc_write_info *info);

/*
 * rc__prepare_lget - an LGET request from the caller's arguments (views of
 * caller memory, as rc__prepare_keyed).  opts NULL = current, no wait.
 */
RC__INTERNAL int rc__prepare_lget(rc_msg *req, const char *ns, const void *key, size_t key_len,
                                  const rc_lget_options *opts);

#endif /* RECACHE_RC_CLIENT_INT_H */
