/*
 * admin_util.h - shared pieces of the admin port's integration tests
 * (test_admin.c, test_admin_security.c): certificates made with openssl
 * by tests/admin_certs.sh, a server started with its admin port on a free
 * loopback port, and the real clients (curl, openssl s_client, promtool)
 * run through the harness.
 *
 * Tools come from the environment, set by tests/CMakeLists.txt:
 * RECACHE_SOURCE_DIR, RECACHE_BASH, RECACHE_CURL, RECACHE_OPENSSL,
 * RECACHE_PROMTOOL.  Failures here fail the test (RC_CHECK semantics).
 * Single-threaded: call from the test's main thread.
 */
#ifndef RECACHE_ADMIN_UTIL_H
#define RECACHE_ADMIN_UTIL_H

#include <stdbool.h>

#include "rc_harness.h"

typedef struct admin_env {
    char dir[256]; /* temporary directory holding good/ and other/ */
    rc_harness_server srv;
    bool running;
    unsigned admin_port;
    char base[64]; /* "https://127.0.0.1:PORT" */
} admin_env;

/* admin_tool - the path of a tool from its environment variable (fails the test when unset). */
const char *admin_tool(const char *env);

/* admin_env_init - a temporary directory with the certificates of tests/admin_certs.sh. */
void admin_env_init(admin_env *e);

/* admin_env_path - "DIR/rel" into buf (static-size caller buffers of 512 bytes). */
const char *admin_env_path(const admin_env *e, const char *rel, char buf[512]);

/*
 * admin_start - start a server whose admin port uses good/ (server cert,
 * key and CA) on a free loopback port, plus extra (NULL-terminated, may
 * be NULL).
 */
void admin_start(admin_env *e, const char *const extra[]);

/* admin_stop - stop the server and check it shut down cleanly. */
void admin_stop(admin_env *e);

/* admin_env_free - stop the server if running and remove the directory. */
void admin_env_free(admin_env *e);

/*
 * admin_curl - run curl -sS -i --max-time 8 --cacert good/ca.crt against
 * the admin port.  cert names the client certificate set: "good" (client),
 * "expired" (good/expired), "other" (other/client), or NULL for none.
 * method NULL = GET; body NULL = none; path is appended to the base URL.
 * Returns curl's exit status; res holds the response (head and body).
 */
int admin_curl(const admin_env *e, const char *cert, const char *method, const char *path,
               const char *body, rc_cli_result *res);

/*
 * admin_curl_args - curl -sS --max-time 8 --cacert good/ca.crt, the client
 * certificate set cert (as for admin_curl; NULL = none), then opts
 * (NULL-terminated: flags and URLs), with stdin from input (NULL = none).
 * Returns curl's exit status.
 */
int admin_curl_args(const admin_env *e, const char *cert, const char *const opts[],
                    const char *input, rc_cli_result *res);

/*
 * admin_openssl - openssl s_client -connect 127.0.0.1:ADMIN_PORT with
 * good/ca.crt and the good client certificate, then opts, with stdin from
 * input.  Returns its exit status.
 */
int admin_openssl(const admin_env *e, const char *const opts[], const char *input,
                  rc_cli_result *res);

/*
 * admin_http - admin_curl with the good client certificate, checking the
 * HTTP status is want_status; returns the response body (after the head),
 * malloc'ed.  Fails the test otherwise.
 */
char *admin_http(const admin_env *e, const char *method, const char *path, const char *body,
                 int want_status);

/* admin_status - the status code of the first HTTP response line in text, or -1. */
int admin_status(const char *text);

/* admin_free_port - a loopback TCP port that was free a moment ago. */
unsigned admin_free_port(void);

#endif /* RECACHE_ADMIN_UTIL_H */
