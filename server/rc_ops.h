/*
 * rc_ops.h - request handlers: one function per opcode, reached through a
 * table indexed by opcode.
 *
 * Design.  A handler turns one decoded request into store calls and appends
 * exactly one response frame to the connection's output (a parked LGET's
 * frame comes later, through rc_park.h); it never writes to the socket
 * itself (the connection batches writes).  Store return
 * codes become wire statuses by negation (rc_conn_wire_status), and store
 * outputs become response fields.  Handlers run on the connection's worker
 * thread and take no locks of their own; the store locks internally.
 */
#ifndef RECACHE_RC_OPS_H
#define RECACHE_RC_OPS_H

#include "rc_conn.h"
#include "recache/rc_proto.h"

/*
 * rc_ops_dispatch - answer req (a request whose body decoded cleanly) by
 * appending its response to c's output, and count it.  Never fails: every
 * failure becomes an error response.  Slices in req point into c's input,
 * valid only for the duration of the call; a handler that needs them later
 * (a parked request) must copy them.
 */
void rc_ops_dispatch(rc_conn *c, const rc_msg *req);

/*
 * rc_ops_conn_hooks - the data port's connection hooks (rc_conn.h): frames
 * to rc_ops_dispatch, completed writes to the subscriber's pacing
 * (rc_sub_conn_writable), the end of input to rc_park_conn_abandon,
 * shutdown to rc_park_conn_shutdown, the close to rc_sub_conn_closed.
 */
extern const rc_conn_hooks rc_ops_conn_hooks;

#endif /* RECACHE_RC_OPS_H */
