/*
 * rc_http.h - HTTP/1.1 requests for the admin port: incremental parsing
 * with bounds, response heads, and the URL pieces handlers need.
 *
 * Design.  Parsing is Debian's http-parser (joyent/nodejs http_parser
 * 2.9), a well-kept state machine that never allocates; this module wraps
 * it with the admin port's bounds and collects one request at a time into
 * an rc_http_request.  Bounds are enforced before anything is stored: the
 * request line and headers together may not pass `max_request` bytes, the
 * URL is copied into a fixed buffer, and the body buffer is allocated only
 * after the Content-Length header was checked against what remains of
 * max_request.  Chunked bodies are refused (411): every admin request is
 * small and curl sends Content-Length.
 *
 * Pipelining and keep-alive.  rc_http_feed consumes bytes until one
 * request is complete and then stops (the parser is paused there), so the
 * caller answers it before feeding the rest; rc_http_next readies the
 * parser for the next request on the same connection.
 *
 * Errors are HTTP statuses (400, 411, 413, 414, 431, 505): the caller
 * answers with that status and closes, since the stream cannot be trusted
 * past a malformed request.
 *
 * Threads: an rc_http_parser belongs to one connection; no shared state.
 */
#ifndef RECACHE_RC_HTTP_H
#define RECACHE_RC_HTTP_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest request target (path and query) accepted; longer ones get 414. */
#define RC_HTTP_MAX_URL 2048u

/* One complete request; its strings live in the parser until rc_http_next. */
typedef struct rc_http_request {
    enum http_method method;
    char url[RC_HTTP_MAX_URL + 1]; /* as sent, NUL-terminated */
    size_t url_len;
    char *body; /* NUL-terminated copy of the body (NULL when empty) */
    size_t body_len;
    bool keep_alive; /* HTTP/1.1 without "Connection: close" (or 1.0 with keep-alive) */
} rc_http_request;

/* Result of rc_http_feed. */
enum rc_http_state {
    RC_HTTP_MORE = 0,     /* every byte consumed; the request is not complete yet */
    RC_HTTP_COMPLETE = 1, /* a request is complete in parser->req; the rest is not consumed */
    RC_HTTP_ERROR = 2,    /* malformed or over a bound: answer parser->error_status, then close */
};

typedef struct rc_http_parser {
    http_parser parser;
    size_t max_request; /* bound on request line + headers + body */
    size_t seen;        /* bytes of the current request consumed so far */
    bool started;       /* the current request has begun (a byte of it was consumed) */
    bool headers_done;  /* on_headers_complete ran for the current request */
    bool url_too_long;  /* the target passed RC_HTTP_MAX_URL: 414 at the end of the head */
    bool complete;      /* on_message_complete ran for the current request */
    int error_status;   /* HTTP status of the error (RC_HTTP_ERROR) */
    const char *error;  /* a static sentence describing it */
    size_t body_cap;    /* bytes allocated for req.body (Content-Length + 1) */
    rc_http_request req;
} rc_http_parser;

/* rc_http_init - ready p for a connection's first request, bounded by max_request bytes. */
void rc_http_init(rc_http_parser *p, size_t max_request);

/*
 * rc_http_feed - parse up to len bytes of data.  *consumed receives the
 * bytes used (all of them unless a request completed or an error
 * occurred).  Returns an rc_http_state.  After RC_HTTP_COMPLETE, call
 * rc_http_next before feeding again.  Never allocates more than
 * max_request bytes for a body.
 */
enum rc_http_state rc_http_feed(rc_http_parser *p, const uint8_t *data, size_t len,
                                size_t *consumed);

/* rc_http_started - a request has begun and is not complete (for the request timeout). */
bool rc_http_started(const rc_http_parser *p);

/* rc_http_next - forget the answered request (freeing its body) and ready the next one. */
void rc_http_next(rc_http_parser *p);

/* rc_http_free - release what p holds; p may be re-initialised afterwards. */
void rc_http_free(rc_http_parser *p);

/* rc_http_reason - the reason phrase for a status ("OK", "Not Found", ...). */
const char *rc_http_reason(int status);

/*
 * rc_http_head - format a response head (status line, Content-Type,
 * Content-Length, Connection, Cache-Control, plus `extra` header lines
 * ending in CRLF, may be NULL) into buf.  Returns the length, or -1 when
 * cap is too small.
 */
int rc_http_head(char *buf, size_t cap, int status, const char *content_type, size_t body_len,
                 bool keep_alive, const char *extra);

/*
 * rc_http_split_url - split url into the path (url up to '?') and the
 * query (after '?', "" when none); both point into url, which is modified
 * (the '?' becomes NUL).
 */
void rc_http_split_url(char *url, char **path, char **query);

/*
 * rc_http_unescape - percent-decode src[0..len) into dst (cap bytes, then
 * NUL-terminated); '+' stays '+'.  Returns the decoded length, or -1 for a
 * malformed escape, an encoded NUL, or a result that does not fit.
 */
long rc_http_unescape(const char *src, size_t len, char *dst, size_t cap);

/*
 * rc_http_query_get - find parameter `name` in query ("a=1&b=2"),
 * percent-decoded into dst.  Returns the value's length, 0 with "" for a
 * parameter without '=', -1 when absent, -2 when malformed or too long.
 */
long rc_http_query_get(const char *query, const char *name, char *dst, size_t cap);

#endif /* RECACHE_RC_HTTP_H */
