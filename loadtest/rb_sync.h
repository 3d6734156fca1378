/*
 * rb_sync.h - a tiny blocking recache client for setup and trace replay.
 *
 * Design.  The load engine is asynchronous; a few jobs are strictly one
 * request at a time (probing the namespace version before a run, reading
 * STATS, replaying a trace, where the order of get and set is the point).
 * They use this: one blocking TCP socket with a receive timeout, requests
 * encoded and responses decoded by the shared codec.  Not thread-safe; one
 * rb_sync per thread.
 */
#ifndef RB_SYNC_H
#define RB_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "recache/rc_proto.h"

typedef struct rb_sync {
    int fd;
    uint32_t next_id;
    uint8_t *buf; /* response buffer; msg slices point into it */
    size_t cap;
} rb_sync;

/* rb_sync_connect - connect with a timeout_ms receive/send timeout. 0 or
 * RC_ECONNECT/RC_ERESOLVE/RC_ENOMEM. */
int rb_sync_connect(rb_sync *s, const char *host, int port, int timeout_ms);
void rb_sync_close(rb_sync *s);

/*
 * rb_sync_call - send *req (its request_id is assigned here) and wait for
 * its response into *resp, whose slices stay valid until the next call.
 * Returns 0 (look at resp->status) or RC_EIO, RC_ECLOSED, RC_ETIMEDOUT,
 * RC_EPROTOCOL, RC_ENOMEM.
 */
int rb_sync_call(rb_sync *s, rc_msg *req, rc_msg *resp);

/*
 * rb_sync_stat - run STATS (server-wide) and return the value of line
 * `name`, or -1 if absent or on error.
 */
long long rb_sync_stat(rb_sync *s, const char *name);

/* rb_stat_line - value of line "name value" in a STATS text, or -1. */
long long rb_stat_line(const char *text, size_t len, const char *name);

#endif
