/*
 * rc_admin.h - the TLS admin listener: HTTPS (HTTP/1.1, keep-alive) with
 * mutual TLS on its own thread and its own libuv loop.
 *
 * Design.  The listener sits beside the data listener and shares nothing
 * with the data path but the thread-safe pieces every worker uses too
 * (the store, the event log, the service layer, relaxed reads of worker
 * counters): it never touches a worker's loop or connections, so a slow or
 * hostile admin client cannot delay a data-port request.  Its thread runs
 * one loop that owns the listening socket and every admin connection.
 *
 * A connection goes through: accept (over admin-max-connections it is
 * closed at once, before any byte), the TLS handshake (rc_tls.h; bounded
 * by admin-handshake-timeout-ms; a failure closes it after mbedTLS's alert,
 * with no application byte sent), the subject allow-list, then requests
 * (rc_http.h -> rc_admin_req.h -> rc_admin_api.h), one at a time: while a
 * response is being written the connection does not read, so a client that
 * pipelines without reading holds at most one response.  A request must
 * complete within admin-request-timeout-ms of the handshake or of the
 * previous response; a request under way when it expires is answered 408,
 * an idle connection is closed.  Requests over admin-max-request are
 * answered 413/431 before their body is stored, and the connection closes.
 *
 * Lifecycle.  rc_admin_start (main thread, during startup) loads the TLS
 * material, binds, and starts the thread; rc_admin_stop (main thread)
 * wakes the loop through an async handle, which closes every handle, and
 * joins the thread; rc_admin_free releases what is left.  Handles are
 * freed in their close callbacks.
 */
#ifndef RECACHE_RC_ADMIN_H
#define RECACHE_RC_ADMIN_H

#include <stddef.h>

#include "rc_server.h"

typedef struct rc_admin rc_admin;

/*
 * rc_admin_start - start the admin listener described by srv->cfg, or
 * decide not to: *out is NULL and RC_EXIT_OK is returned when admin-port
 * is 0 or none of admin-cert, admin-key and admin-ca is set (logged, with
 * how to enable it).  Returns RC_EXIT_CONFIG when the TLS files cannot be
 * loaded, RC_EXIT_FAILURE when the port cannot be bound or the thread not
 * started; every failure is logged and leaves nothing behind.  Main
 * thread, after the workers run (admin requests may post to them).
 */
int rc_admin_start(rc_server *srv, rc_admin **out);

/*
 * rc_admin_set_ready - the server finished starting: GET /ready answers
 * 200 from now on.  Any thread.  NULL is a no-op.
 */
void rc_admin_set_ready(rc_admin *admin);

/*
 * rc_admin_ready_text - the ready line's admin part ("; admin: curl ...
 * https://HOST:PORT/metrics") into buf, or "" when admin is NULL.  The
 * client certificate named is client.crt / client.key beside admin-ca
 * (the layout scripts/gen-certs.sh writes).
 */
void rc_admin_ready_text(const rc_admin *admin, char *buf, size_t cap);

/*
 * rc_admin_stop - close the listener and every admin connection and join
 * the thread.  Main thread; idempotent; NULL is a no-op.
 */
void rc_admin_stop(rc_admin *admin);

/* rc_admin_free - release a stopped listener.  NULL is a no-op. */
void rc_admin_free(rc_admin *admin);

#endif /* RECACHE_RC_ADMIN_H */
