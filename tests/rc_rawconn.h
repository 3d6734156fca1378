/*
 * rc_rawconn.h - raw-socket helpers for the limits tests: requests encoded
 * by hand with the codec, over plain sockets to a server started by
 * rc_harness, so a test controls exactly what is sent and what is read.
 *
 * Like the checking helpers of rc_harness.h, a failure here fails the test
 * (the failed check is printed and the process exits 1).  Request ids come
 * from one process-wide counter, so call these from one thread only.
 */
#ifndef RECACHE_RC_RAWCONN_H
#define RECACHE_RC_RAWCONN_H

#include <stddef.h>
#include <stdint.h>

#include "rc_harness.h"
#include "recache/rc_proto.h"

/* Largest response body rc_raw_call reads. */
#define RC_RAW_BODY_CAP (256u * 1024u)
/* Header limit frames are read with. */
#define RC_RAW_MAX_FRAME (1u << 24)

/*
 * rc_raw_connect_small - a blocking TCP socket to srv with a 4 KiB receive
 * buffer (so the kernel absorbs little of what the server sends) and a 5 s
 * receive timeout.
 */
int rc_raw_connect_small(const rc_harness_server *srv);

/* rc_raw_encode_req - encode msg as a request with a fresh id at buf + *len; returns the id. */
uint32_t rc_raw_encode_req(rc_msg *msg, uint8_t *buf, size_t cap, size_t *len);

/*
 * rc_raw_call - send msg, read its response (skipping pushed frames) into
 * msg and check its status.  msg's slices point into a static buffer valid
 * until the next call.
 */
void rc_raw_call(int fd, rc_msg *msg, uint16_t status);

/* rc_raw_stat - STATS line `name` read through fd; fails the test if the line is missing. */
long long rc_raw_stat(int fd, const char *name);

#endif /* RECACHE_RC_RAWCONN_H */
