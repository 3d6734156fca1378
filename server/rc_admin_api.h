/*
 * rc_admin_api.h - the admin port's endpoints: run one decoded command
 * (rc_admin_req.h) against the server and produce the HTTP answer.
 *
 * Design.  Reads go to the store, the worker counters and the event log
 * directly (all thread-safe); every mutation goes through the service
 * layer (rc_service.h) with self = NULL, so it publishes exactly the
 * events the same operation on the data port publishes and its woken
 * parked readers are answered by their own workers.  Each mutation is
 * logged at info level with the client certificate's subject and its
 * outcome, and its JSON answer says what changed (the new version, the
 * tag's epoch, whether the key was found, the entries flushed).
 *
 * Answers are JSON (cJSON) except /metrics (Prometheus text).  Errors are
 * {"error": "<reason phrase>", "message": "<sentence>"} with the HTTP
 * status: 400 bad arguments, 404 unknown path or namespace, 405 wrong
 * method, 409 a limit of the store (too many namespaces), 503 not ready.
 *
 * Threads: the admin listener's thread (any non-worker thread would do).
 */
#ifndef RECACHE_RC_ADMIN_API_H
#define RECACHE_RC_ADMIN_API_H

#include <stdbool.h>
#include <stddef.h>

#include "rc_admin_req.h"
#include "rc_server.h"

/* An answer: status, body (malloc'ed, owned by the reply) and its type. */
typedef struct rc_admin_reply {
    int status;
    const char *content_type; /* static string */
    char *body;
    size_t body_len;
    const char *allow; /* for 405: the Allow header's value (static), else NULL */
} rc_admin_reply;

/*
 * rc_admin_api_run - run cmd for the client whose certificate subject is
 * `subject`, filling *out.  ready is whether the server finished starting
 * (GET /ready answers 503 before).  Never fails: errors become replies.
 */
void rc_admin_api_run(rc_server *srv, const rc_admin_cmd *cmd, const char *subject, bool ready,
                      rc_admin_reply *out);

/* rc_admin_api_error - an error reply with the JSON error body for status and message. */
void rc_admin_api_error(int status, const char *message, rc_admin_reply *out);

/* rc_admin_reply_free - release out's body. */
void rc_admin_reply_free(rc_admin_reply *out);

#endif /* RECACHE_RC_ADMIN_API_H */
