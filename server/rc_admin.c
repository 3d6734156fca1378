/*
 * rc_admin.c - the admin listener's thread, loop and connections (see
 * rc_admin.h for the design and the bounds).
 *
 * Threads.  rc_admin_start, rc_admin_stop and rc_admin_free run on the
 * main thread; everything else runs on the admin thread, which alone
 * touches the loop, the listener, the connections and the TLS sessions.
 * The only fields shared across threads are `ready` (atomic) and the
 * immutable settings copied at startup.
 *
 * A connection has two handles (its socket and its timer); it is freed
 * when the second close callback ran.  One write is in flight at most:
 * each write carries its own copy of the ciphertext, freed in the write
 * callback.
 */
#define _GNU_SOURCE

#include "rc_admin.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rc_admin_api.h"
#include "rc_admin_req.h"
#include "rc_alloc.h"
#include "rc_http.h"
#include "rc_log.h"
#include "rc_tls.h"

/* Pending-connection queue of the admin socket. */
#define RC__ADMIN_BACKLOG 64
/* Plaintext decrypted per TLS read call. */
#define RC__PLAIN_CHUNK (16u * 1024u)
/* At most one handshake-failure log line per this many ms (scanners must not flood the log). */
#define RC__FAIL_LOG_MS 1000u

typedef struct rc__aconn rc__aconn;

struct rc_admin {
    rc_server *srv;
    rc_tls *tls;
    uv_loop_t loop;
    uv_thread_t thread;
    uv_tcp_t listener;
    uv_async_t stop_async;
    bool loop_ready, handles_ready, thread_started, stopped;
    _Atomic bool ready; /* GET /ready: the server finished starting */

    /* Immutable after start. */
    size_t max_conns;
    uint64_t handshake_ms, request_ms;
    size_t max_request;
    char url_host[72]; /* host as it goes in a URL (IPv6 in brackets) */
    unsigned port;
    char ca_dir[1024]; /* directory of admin-ca, for the ready line's client certificate */
    char ca_path[1024];

    /* Admin thread only. */
    rc__aconn *conns;
    size_t nconns;
    bool stopping;
    uint64_t fails_unlogged;
    uint64_t fail_logged_ms;
    bool fail_logged;
};

struct rc__aconn {
    uv_tcp_t tcp;
    uv_timer_t timer; /* handshake, then request timeout */
    rc_admin *admin;
    rc__aconn *prev, *next;
    rc_tls_session tls;
    rc_http_parser http;
    uint8_t *plain; /* decrypted bytes not yet given to the parser */
    size_t plain_len, plain_cap;
    char subject[256];
    char peer[64];
    int open_handles; /* handles not closed yet: freed at 0 */
    bool closing;     /* uv_close was called on both handles */
    bool writing;     /* a write is in flight (reading is stopped meanwhile) */
    bool finish;      /* close once the pending write completes */
    bool reading;     /* uv_read_start is in effect */
    bool established; /* handshake done and subject allowed */
};

/* One write in flight: its request and its own copy of the bytes. */
typedef struct rc__awrite {
    uv_write_t req;
    rc__aconn *conn;
    uint8_t data[];
} rc__awrite;

static void rc__process(rc__aconn *c);
static void rc__alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf);
static void rc__on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

/* ---- closing --------------------------------------------------------------------------------- */

static void rc__on_close(uv_handle_t *handle)
{
    rc__aconn *c = handle->data;
    if (--c->open_handles > 0)
        return;
    rc_tls_session_free(&c->tls);
    rc_http_free(&c->http);
    free(c->plain);
    free(c);
}

/* Close now: unlink, close both handles (freed in rc__on_close).  Idempotent. */
static void rc__close(rc__aconn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    rc_admin *a = c->admin;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        a->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    a->nconns--;
    uv_close((uv_handle_t *)&c->tcp, rc__on_close);
    uv_close((uv_handle_t *)&c->timer, rc__on_close);
}

/* ---- writing --------------------------------------------------------------------------------- */

static void rc__on_write(uv_write_t *req, int status)
{
    rc__awrite *w = (rc__awrite *)req;
    rc__aconn *c = w->conn;
    free(w);
    c->writing = false;
    if (c->closing)
        return;
    if (status < 0 || c->finish) {
        rc__close(c);
        return;
    }
    rc__process(c); /* requests that arrived while writing, and resume reading */
}

/* Write out whatever ciphertext the session produced.  Starts at most one write. */
static void rc__flush(rc__aconn *c)
{
    rc_tls_buf *out = &c->tls.out;
    size_t len = out->len - out->off;
    if (len == 0 || c->closing) {
        if (c->finish && !c->writing)
            rc__close(c);
        return;
    }
    rc__awrite *w = rc_xmalloc(sizeof(*w) + len);
    memcpy(w->data, out->data + out->off, len);
    out->off = out->len = 0;
    w->conn = c;
    uv_buf_t buf = uv_buf_init((char *)w->data, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, rc__on_write);
    if (rc != 0) {
        free(w);
        rc__close(c);
        return;
    }
    c->writing = true;
}

/* Send plaintext (a response) through TLS; the flush starts its write. */
static void rc__send(rc__aconn *c, const void *data, size_t len)
{
    if (rc_tls_write(&c->tls, data, len) != 0)
        c->finish = true;
}

/* ---- requests -------------------------------------------------------------------------------- */

/* Send reply as one HTTP response; close afterwards unless keep_alive. */
static void rc__respond(rc__aconn *c, const rc_admin_reply *reply, bool keep_alive)
{
    char head[512], extra[64] = "";
    if (reply->allow != NULL)
        snprintf(extra, sizeof(extra), "Allow: %s\r\n", reply->allow);
    int n = rc_http_head(head, sizeof(head), reply->status, reply->content_type, reply->body_len,
                         keep_alive, extra);
    if (n < 0) {
        c->finish = true;
        return;
    }
    rc__send(c, head, (size_t)n);
    rc__send(c, reply->body, reply->body_len);
    if (!keep_alive)
        c->finish = true;
}

/* Answer an error (JSON body) and close after it. */
static void rc__respond_error(rc__aconn *c, int status, const char *message, const char *allow)
{
    rc_admin_reply reply;
    rc_admin_api_error(status, message, &reply);
    reply.allow = allow;
    rc__respond(c, &reply, false);
    rc_admin_reply_free(&reply);
}

/* The request timeout runs from the handshake or the previous response. */
static void rc__on_timeout(uv_timer_t *timer);

static void rc__arm(rc__aconn *c, uint64_t ms)
{
    uv_timer_start(&c->timer, rc__on_timeout, ms, 0);
}

/* A complete request in c->http.req: decode, run, answer. */
static void rc__handle_request(rc__aconn *c)
{
    const rc_http_request *req = &c->http.req;
    rc_admin_cmd *cmd = rc_xmalloc(sizeof(*cmd));
    rc_admin_refusal why;
    rc_admin_reply reply;
    bool keep = req->keep_alive;
    int status = rc_admin_req_decode(req, cmd, &why);
    if (status != 0) {
        rc_admin_api_error(status, why.message, &reply);
        reply.allow = why.allow;
    } else {
        rc_admin_api_run(c->admin->srv, cmd, c->subject,
                         atomic_load_explicit(&c->admin->ready, memory_order_acquire), &reply);
    }
    rc_log_debug("admin: [%s] %s %s -> %d", c->subject, http_method_str(req->method), req->url,
                 reply.status);
    rc__respond(c, &reply, keep);
    rc_admin_reply_free(&reply);
    free(cmd);
    rc__arm(c, c->admin->request_ms);
}

/* Parse buffered plaintext; answer at most one request per call (one write in flight). */
static void rc__parse(rc__aconn *c)
{
    while (c->plain_len > 0 && !c->writing && !c->finish) {
        size_t used = 0;
        enum rc_http_state st = rc_http_feed(&c->http, c->plain, c->plain_len, &used);
        memmove(c->plain, c->plain + used, c->plain_len - used);
        c->plain_len -= used;
        if (st == RC_HTTP_ERROR) {
            rc__respond_error(c, c->http.error_status, c->http.error, NULL);
            return;
        }
        if (st == RC_HTTP_MORE)
            return;
        rc__handle_request(c);
        rc_http_next(&c->http);
        rc__flush(c);
    }
}

/* Decrypt what the session can, into c->plain (bounded by max_request plus one chunk). */
static bool rc__decrypt(rc__aconn *c)
{
    for (;;) {
        if (c->plain_len > c->admin->max_request + RC__PLAIN_CHUNK)
            return true; /* the parser refuses before this grows further */
        if (c->plain_cap - c->plain_len < RC__PLAIN_CHUNK) {
            c->plain_cap = c->plain_len + RC__PLAIN_CHUNK;
            c->plain = rc_xrealloc(c->plain, c->plain_cap);
        }
        long n = rc_tls_read(&c->tls, c->plain + c->plain_len, RC__PLAIN_CHUNK);
        if (n > 0) {
            c->plain_len += (size_t)n;
            continue;
        }
        if (n == 0)
            return true;
        c->finish = true; /* close_notify or a TLS error: nothing more will be read */
        return false;
    }
}

/* Log a failed handshake, at most one line per RC__FAIL_LOG_MS. */
static void rc__log_failure(rc__aconn *c, const char *why)
{
    rc_admin *a = c->admin;
    uint64_t now = uv_now(&a->loop);
    a->fails_unlogged++;
    if (a->fail_logged && now - a->fail_logged_ms < RC__FAIL_LOG_MS)
        return;
    rc_log_warn("admin: refused %s: %s (%llu refusals since the last line)", c->peer, why,
                (unsigned long long)a->fails_unlogged);
    a->fails_unlogged = 0;
    a->fail_logged = true;
    a->fail_logged_ms = now;
}

static void rc__handshake_done(rc__aconn *c)
{
    rc_tls_subject(&c->tls, c->subject, sizeof(c->subject));
    if (!rc_tls_subject_allowed(c->admin->tls, c->subject)) {
        char why[320];
        snprintf(why, sizeof(why), "client subject '%s' is not in admin-allow-subject", c->subject);
        rc__log_failure(c, why);
        c->finish = true; /* TLS is up but nothing is served: close at once */
        return;
    }
    char version[96];
    rc_tls_version(&c->tls, version, sizeof(version));
    rc_log_debug("admin: %s connected as [%s] (%s)", c->peer, c->subject, version);
    c->established = true;
    rc__arm(c, c->admin->request_ms);
}

/* Advance the connection with whatever input it has; then write, then read more. */
static void rc__process(rc__aconn *c)
{
    if (c->closing)
        return;
    if (!c->tls.handshake_done) {
        char err[512] = "";
        int rc = rc_tls_handshake(&c->tls, err, sizeof(err));
        if (rc < 0) {
            rc__log_failure(c, err);
            c->finish = true; /* the alert mbedTLS queued goes out, then the socket closes */
        } else if (rc == 1) {
            rc__handshake_done(c);
        }
    }
    if (c->established && !c->finish && !c->writing) {
        if (rc__decrypt(c))
            rc__parse(c);
    }
    rc__flush(c);
    if (c->closing)
        return;
    bool want = !c->writing && !c->finish;
    if (want && !c->reading)
        c->reading = uv_read_start((uv_stream_t *)&c->tcp, rc__alloc, rc__on_read) == 0;
    else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
}

static void rc__on_timeout(uv_timer_t *timer)
{
    rc__aconn *c = timer->data;
    if (c->closing)
        return;
    if (!c->established) {
        rc__log_failure(c, "TLS handshake not completed within admin-handshake-timeout-ms");
        rc__close(c);
        return;
    }
    if (rc_http_started(&c->http) && !c->writing) {
        rc__respond_error(c, 408, "request not completed within admin-request-timeout-ms", NULL);
        rc__flush(c);
        return;
    }
    rc_tls_close_notify(&c->tls); /* idle keep-alive connection, or a peer not reading */
    c->finish = true;
    if (c->writing)
        rc__close(c);
    else
        rc__flush(c);
}

static void rc__alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)handle;
    (void)suggested;
    static _Thread_local char chunk[RC__PLAIN_CHUNK]; /* consumed before the next read */
    *buf = uv_buf_init(chunk, sizeof(chunk));
}

static void rc__on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    rc__aconn *c = stream->data;
    if (nread < 0) {
        rc__close(c);
        return;
    }
    if (nread == 0)
        return;
    /* Ciphertext waiting is bounded too: a peer cannot queue more than a request's worth. */
    if (c->tls.in.len - c->tls.in.off > c->admin->max_request + RC__PLAIN_CHUNK) {
        rc__close(c);
        return;
    }
    rc_tls_feed(&c->tls, (const uint8_t *)buf->base, (size_t)nread);
    rc__process(c);
}

/* ---- accepting ------------------------------------------------------------------------------- */

static void rc__peer_name(uv_tcp_t *tcp, char *buf, size_t cap)
{
    struct sockaddr_storage sa;
    int len = sizeof(sa);
    char host[64] = "?";
    unsigned port = 0;
    if (uv_tcp_getpeername(tcp, (struct sockaddr *)&sa, &len) == 0) {
        if (sa.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&sa, host, sizeof(host));
            port = ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
        } else {
            uv_ip4_name((struct sockaddr_in *)&sa, host, sizeof(host));
            port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
        }
    }
    snprintf(buf, cap, "%s:%u", host, port);
}

/* Close-callback for a connection refused before it got an rc__aconn. */
static void rc__free_handle(uv_handle_t *handle)
{
    free(handle);
}

static void rc__on_connection(uv_stream_t *server, int status)
{
    rc_admin *a = server->data;
    if (status < 0 || a->stopping)
        return;
    if (a->nconns >= a->max_conns) { /* refused before a byte is read or sent */
        uv_tcp_t *t = rc_xmalloc(sizeof(*t));
        uv_tcp_init(&a->loop, t);
        if (uv_accept(server, (uv_stream_t *)t) == 0)
            rc_log_debug("admin: connection refused: admin-max-connections (%zu) reached",
                         a->max_conns);
        uv_close((uv_handle_t *)t, rc__free_handle);
        return;
    }
    rc__aconn *c = rc_xcalloc(1, sizeof(*c));
    c->admin = a;
    c->tcp.data = c->timer.data = c;
    uv_tcp_init(&a->loop, &c->tcp);
    uv_timer_init(&a->loop, &c->timer);
    c->open_handles = 2;
    c->next = a->conns;
    if (a->conns != NULL)
        a->conns->prev = c;
    a->conns = c;
    a->nconns++;
    rc_http_init(&c->http, a->max_request);
    strcpy(c->subject, "-");
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
        rc_tls_session_init(a->tls, &c->tls) != 0) {
        memset(&c->tls, 0, sizeof(c->tls));
        rc__close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    rc__peer_name(&c->tcp, c->peer, sizeof(c->peer));
    rc__arm(c, a->handshake_ms);
    c->reading = uv_read_start((uv_stream_t *)&c->tcp, rc__alloc, rc__on_read) == 0;
}

/* ---- thread and lifecycle -------------------------------------------------------------------- */

static void rc__close_unless_closing(uv_handle_t *handle, void *arg)
{
    (void)arg;
    if (!uv_is_closing(handle))
        uv_close(handle, NULL);
}

/* Stop (admin thread): close every connection, the listener and this handle; the loop ends. */
static void rc__on_stop(uv_async_t *handle)
{
    rc_admin *a = handle->data;
    a->stopping = true;
    while (a->conns != NULL)
        rc__close(a->conns);
    uv_close((uv_handle_t *)&a->listener, NULL);
    uv_close((uv_handle_t *)&a->stop_async, NULL);
}

static void rc__thread_main(void *arg)
{
    rc_admin *a = arg;
    pthread_setname_np(pthread_self(), "rc-admin");
    uv_run(&a->loop, UV_RUN_DEFAULT);
}

/* Which of the three files are missing, as text ("admin-key, admin-ca"). */
static void rc__missing(const rc_config *cfg, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%s%s%s%s", cfg->admin_cert[0] == '\0' ? "--admin-cert" : "",
             cfg->admin_cert[0] == '\0' && (cfg->admin_key[0] == '\0' || cfg->admin_ca[0] == '\0')
                 ? ", "
                 : "",
             cfg->admin_key[0] == '\0' ? "--admin-key" : "",
             cfg->admin_key[0] == '\0' && cfg->admin_ca[0] == '\0' ? ", " : "",
             cfg->admin_ca[0] == '\0' ? "--admin-ca" : "");
}

/* Bind and listen on admin-bind:admin-port.  0 or a libuv error (logged). */
static int rc__bind(rc_admin *a, const rc_config *cfg)
{
    struct sockaddr_storage addr;
    int rc;
    bool v6 = strchr(cfg->admin_bind, ':') != NULL;
    if (v6)
        rc = uv_ip6_addr(cfg->admin_bind, (int)cfg->admin_port, (struct sockaddr_in6 *)&addr);
    else
        rc = uv_ip4_addr(cfg->admin_bind, (int)cfg->admin_port, (struct sockaddr_in *)&addr);
    if (rc == 0)
        rc = uv_tcp_bind(&a->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&a->listener, RC__ADMIN_BACKLOG, rc__on_connection);
    if (rc != 0) {
        rc_log_error("cannot listen on admin port %s:%llu: %s", cfg->admin_bind,
                     (unsigned long long)cfg->admin_port, uv_strerror(rc));
        return rc;
    }
    bool any = strcmp(cfg->admin_bind, "0.0.0.0") == 0 || strcmp(cfg->admin_bind, "::") == 0;
    const char *host = any ? (v6 ? "::1" : "127.0.0.1") : cfg->admin_bind;
    snprintf(a->url_host, sizeof(a->url_host), v6 ? "[%s]" : "%s", host);
    a->port = (unsigned)cfg->admin_port;
    return 0;
}

/* Loop, handles, TLS and socket.  Returns an exit status; rc_admin_free undoes a failure. */
static int rc__setup(rc_admin *a, const rc_config *cfg)
{
    char err[512] = "";
    if (rc_tls_create(cfg->admin_cert, cfg->admin_key, cfg->admin_ca, cfg->admin_allow_subject, err,
                      sizeof(err), &a->tls) != 0) {
        rc_log_error("admin port: %s", err);
        return RC_EXIT_CONFIG;
    }
    int rc = uv_loop_init(&a->loop);
    if (rc != 0) {
        rc_log_error("admin port: cannot create its loop: %s", uv_strerror(rc));
        return RC_EXIT_FAILURE;
    }
    a->loop_ready = true;
    a->listener.data = a->stop_async.data = a;
    rc = uv_tcp_init(&a->loop, &a->listener);
    if (rc == 0)
        rc = uv_async_init(&a->loop, &a->stop_async, rc__on_stop);
    if (rc != 0) {
        rc_log_error("admin port: cannot set up its loop: %s", uv_strerror(rc));
        return RC_EXIT_FAILURE;
    }
    a->handles_ready = true;
    if (rc__bind(a, cfg) != 0)
        return RC_EXIT_FAILURE;
    rc = uv_thread_create(&a->thread, rc__thread_main, a);
    if (rc != 0) {
        rc_log_error("admin port: cannot start its thread: %s", uv_strerror(rc));
        return RC_EXIT_FAILURE;
    }
    a->thread_started = true;
    return RC_EXIT_OK;
}

int rc_admin_start(rc_server *srv, rc_admin **out)
{
    const rc_config *cfg = srv->cfg;
    *out = NULL;
    if (cfg->admin_port == 0)
        return RC_EXIT_OK;
    int set =
        (cfg->admin_cert[0] != '\0') + (cfg->admin_key[0] != '\0') + (cfg->admin_ca[0] != '\0');
    if (set < 3) {
        char missing[64];
        rc__missing(cfg, missing, sizeof(missing));
        if (set > 0) { /* rc_config_validate refuses this already; kept for direct callers */
            rc_log_error("the admin port needs --admin-cert, --admin-key and --admin-ca; "
                         "missing: %s",
                         missing);
            return RC_EXIT_CONFIG;
        }
        rc_log_info("admin port not started: it needs --admin-cert, --admin-key and --admin-ca "
                    "(scripts/gen-certs.sh makes a set); --admin-port 0 disables it");
        return RC_EXIT_OK;
    }
    rc_admin *a = rc_xcalloc(1, sizeof(*a));
    a->srv = srv;
    a->max_conns = (size_t)cfg->admin_max_connections;
    a->handshake_ms = cfg->admin_handshake_timeout_ms;
    a->request_ms = cfg->admin_request_timeout_ms;
    a->max_request = (size_t)cfg->admin_max_request;
    snprintf(a->ca_path, sizeof(a->ca_path), "%s", cfg->admin_ca);
    snprintf(a->ca_dir, sizeof(a->ca_dir), "%s", cfg->admin_ca);
    char *slash = strrchr(a->ca_dir, '/');
    if (slash != NULL)
        slash[1] = '\0';
    else
        a->ca_dir[0] = '\0';
    int status = rc__setup(a, cfg);
    if (status != RC_EXIT_OK) {
        rc_admin_free(a);
        return status;
    }
    rc_log_info("admin port listening on https://%s:%u (mutual TLS, client certificates signed "
                "by %s%s%s)",
                a->url_host, a->port, cfg->admin_ca,
                cfg->admin_allow_subject[0] != '\0' ? ", subjects allowed: " : "",
                cfg->admin_allow_subject);
    *out = a;
    return RC_EXIT_OK;
}

void rc_admin_set_ready(rc_admin *admin)
{
    if (admin != NULL)
        atomic_store_explicit(&admin->ready, true, memory_order_release);
}

void rc_admin_ready_text(const rc_admin *a, char *buf, size_t cap)
{
    if (cap == 0)
        return;
    buf[0] = '\0';
    if (a == NULL)
        return;
    snprintf(buf, cap,
             "; admin: curl --cacert %s --cert %sclient.crt --key %sclient.key "
             "https://%s:%u/metrics",
             a->ca_path, a->ca_dir, a->ca_dir, a->url_host, a->port);
}

void rc_admin_stop(rc_admin *a)
{
    if (a == NULL || a->stopped)
        return;
    a->stopped = true;
    if (a->thread_started) {
        uv_async_send(&a->stop_async);
        uv_thread_join(&a->thread);
    }
}

void rc_admin_free(rc_admin *a)
{
    if (a == NULL)
        return;
    if (a->thread_started && !a->stopped)
        rc_admin_stop(a);
    if (a->loop_ready) {
        uv_walk(&a->loop, rc__close_unless_closing, NULL); /* after a failed start */
        uv_run(&a->loop, UV_RUN_DEFAULT);
        int rc = uv_loop_close(&a->loop);
        if (rc != 0)
            rc_log_error("admin loop did not close cleanly: %s", uv_strerror(rc));
    }
    rc_tls_destroy(a->tls);
    free(a);
}
