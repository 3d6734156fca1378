/*
 * rc_admin_req.h - the admin port's request decoding: which endpoint a
 * request names and its arguments, checked, before anything runs.
 *
 * Design.  Everything an admin client controls (method, path segments,
 * query parameters, JSON body) is turned here into one typed
 * rc_admin_cmd, or refused with an HTTP status and a sentence; the
 * executor (rc_admin_api.h) then only runs well-formed commands.  This
 * module is pure (no server, no I/O, no globals), so the fuzz target
 * (tests/fuzz_admin.c) drives it together with the HTTP parser.
 *
 * Endpoints (the table in README.md):
 *   GET  /metrics /health /ready /stats /config /namespaces /cluster
 *   GET  /namespaces/{ns}
 *   PUT  /namespaces/{ns}/config                 body {"setting": number, ...}
 *   POST /namespaces/{ns}/bump                   optional to: ?to=N or {"to": N}
 *   POST /tags/{tag}/invalidate                  optional ?mode=soft or {"mode": "soft"}
 *   POST /namespaces/{ns}/keys/{key}/invalidate  optional mode, as for tags
 *   POST /flush
 * Path segments are percent-decoded one by one (so a key may contain
 * "%2F"); a trailing slash is not accepted.  An unknown path is 404; a
 * known path with another method is 405 with the allowed methods.
 */
#ifndef RECACHE_RC_ADMIN_REQ_H
#define RECACHE_RC_ADMIN_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc_http.h"

enum rc_admin_route {
    RC_ADMIN_METRICS = 0,
    RC_ADMIN_HEALTH,
    RC_ADMIN_READY,
    RC_ADMIN_STATS,
    RC_ADMIN_CONFIG,
    RC_ADMIN_NAMESPACES,
    RC_ADMIN_NAMESPACE,
    RC_ADMIN_NS_CONFIG,
    RC_ADMIN_NS_BUMP,
    RC_ADMIN_TAG_INVALIDATE,
    RC_ADMIN_KEY_INVALIDATE,
    RC_ADMIN_FLUSH,
    RC_ADMIN_CLUSTER,
};

/* Longest settings text a PUT .../config body may turn into. */
#define RC_ADMIN_MAX_SETTINGS 1024u

/* A decoded request.  Strings are NUL-terminated; lengths exclude the NUL. */
typedef struct rc_admin_cmd {
    enum rc_admin_route route;
    bool mutation; /* changes state: logged with the client's subject */
    char ns[RC_HTTP_MAX_URL + 1];
    size_t ns_len;
    char name[RC_HTTP_MAX_URL + 1]; /* the tag or the key */
    size_t name_len;
    uint64_t to;                          /* bump target, 0 = current + 1 */
    uint8_t mode;                         /* RC_INVAL_HARD or RC_INVAL_SOFT */
    char settings[RC_ADMIN_MAX_SETTINGS]; /* NS_CONFIG as "name=value name=value" */
    size_t settings_len;
} rc_admin_cmd;

/* Why a request was refused: an HTTP status, a sentence, and for 405 the allowed methods. */
typedef struct rc_admin_refusal {
    int status;
    char message[256];
    const char *allow; /* "GET", "POST" or "PUT" for 405, else NULL */
} rc_admin_refusal;

/*
 * rc_admin_req_decode - decode req into *cmd.  Returns 0, or an HTTP
 * status (400, 404, 405) with *why filled.  Never allocates beyond what
 * cJSON needs to parse the (already bounded) body.
 */
int rc_admin_req_decode(const rc_http_request *req, rc_admin_cmd *cmd, rc_admin_refusal *why);

#endif /* RECACHE_RC_ADMIN_REQ_H */
