/*
 * rc_http.c - HTTP/1.1 request parsing and response heads for the admin
 * port (see rc_http.h for the design and bounds).
 *
 * The http_parser callbacks find the rc_http_parser through
 * parser.data.  A callback that finds a bound passed records the HTTP
 * status in error_status and returns non-zero, which stops the parser with
 * a callback error; rc_http_feed then reports RC_HTTP_ERROR with that
 * status (400 for every error the parser found itself).
 */
#define _POSIX_C_SOURCE 200809L

#include "rc_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rc_alloc.h"

static rc_http_parser *rc__self(http_parser *hp)
{
    return hp->data;
}

static int rc__fail(rc_http_parser *p, int status, const char *why)
{
    if (p->error_status == 0) {
        p->error_status = status;
        p->error = why;
    }
    return -1;
}

static int rc__on_message_begin(http_parser *hp)
{
    rc_http_parser *p = rc__self(hp);
    p->started = true;
    return 0;
}

/*
 * The target arrives in as many pieces as the reads split it into.  Past
 * RC_HTTP_MAX_URL it is no longer stored, and the 414 waits for the end of
 * the head: the parser only reports a bad byte in a piece it was given, so
 * failing at once would answer 414 or 400 for the same bytes depending on
 * where a read ended.  What is read meanwhile is bounded by max_request.
 */
static int rc__on_url(http_parser *hp, const char *at, size_t len)
{
    rc_http_parser *p = rc__self(hp);
    if (p->url_too_long || len > RC_HTTP_MAX_URL - p->req.url_len) {
        p->url_too_long = true;
        return 0;
    }
    memcpy(p->req.url + p->req.url_len, at, len);
    p->req.url_len += len;
    p->req.url[p->req.url_len] = '\0';
    return 0;
}

static int rc__on_headers_complete(http_parser *hp)
{
    rc_http_parser *p = rc__self(hp);
    if (p->url_too_long)
        return rc__fail(p, 414, "request target too long");
    if (hp->http_major != 1)
        return rc__fail(p, 505, "only HTTP/1.x is served");
    if (hp->flags & F_CHUNKED)
        return rc__fail(p, 411, "chunked bodies are not accepted: send Content-Length");
    p->headers_done = true;
    p->req.method = (enum http_method)hp->method;
    p->req.keep_alive = http_should_keep_alive(hp) != 0;
    if ((hp->flags & F_CONTENTLENGTH) && hp->content_length > 0) {
        /* The bound is checked before the body buffer exists. */
        if (hp->content_length > (uint64_t)p->max_request)
            return rc__fail(p, 413, "request body larger than admin-max-request");
        p->body_cap = (size_t)hp->content_length + 1u;
        p->req.body = rc_xmalloc(p->body_cap);
        p->req.body[0] = '\0';
    }
    return 0;
}

static int rc__on_body(http_parser *hp, const char *at, size_t len)
{
    rc_http_parser *p = rc__self(hp);
    /* http_parser delivers at most Content-Length bytes; check anyway. */
    if (p->req.body == NULL || len >= p->body_cap - p->req.body_len)
        return rc__fail(p, 400, "body longer than its Content-Length");
    memcpy(p->req.body + p->req.body_len, at, len);
    p->req.body_len += len;
    p->req.body[p->req.body_len] = '\0';
    return 0;
}

static int rc__on_message_complete(http_parser *hp)
{
    rc_http_parser *p = rc__self(hp);
    p->complete = true;
    http_parser_pause(hp, 1); /* one request at a time: the caller answers it first */
    return 0;
}

static const http_parser_settings rc__settings = {
    .on_message_begin = rc__on_message_begin,
    .on_url = rc__on_url,
    .on_headers_complete = rc__on_headers_complete,
    .on_body = rc__on_body,
    .on_message_complete = rc__on_message_complete,
};

void rc_http_init(rc_http_parser *p, size_t max_request)
{
    memset(p, 0, sizeof(*p));
    http_parser_init(&p->parser, HTTP_REQUEST);
    p->parser.data = p;
    p->max_request = max_request;
}

/* A request that used its whole allowance without completing: 431 in the head, else 413. */
static enum rc_http_state rc__too_large(rc_http_parser *p)
{
    p->error_status = p->headers_done ? 413 : 431;
    p->error = "request larger than admin-max-request";
    return RC_HTTP_ERROR;
}

enum rc_http_state rc_http_feed(rc_http_parser *p, const uint8_t *data, size_t len,
                                size_t *consumed)
{
    *consumed = 0;
    if (p->error_status != 0)
        return RC_HTTP_ERROR;
    if (p->complete)
        return RC_HTTP_COMPLETE;
    if (len == 0)
        return RC_HTTP_MORE;
    if (p->seen >= p->max_request)
        return rc__too_large(p);
    /* Never hand the parser more than the request may still use. */
    size_t room = p->max_request - p->seen;
    size_t n = len < room ? len : room;
    size_t used = http_parser_execute(&p->parser, &rc__settings, (const char *)data, n);
    enum http_errno err = HTTP_PARSER_ERRNO(&p->parser);
    *consumed = used;
    p->seen += used; /* every byte counts, blank lines before a request too */
    if (p->complete)
        return RC_HTTP_COMPLETE;
    if (p->error_status != 0)
        return RC_HTTP_ERROR;
    if (err != HPE_OK && err != HPE_PAUSED) {
        p->error_status = err == HPE_INVALID_VERSION ? 505 : 400;
        p->error = http_errno_description(err);
        return RC_HTTP_ERROR;
    }
    if (p->seen >= p->max_request)
        return rc__too_large(p);
    return RC_HTTP_MORE;
}

bool rc_http_started(const rc_http_parser *p)
{
    return p->started && !p->complete;
}

void rc_http_next(rc_http_parser *p)
{
    free(p->req.body);
    size_t max = p->max_request;
    rc_http_init(p, max);
}

void rc_http_free(rc_http_parser *p)
{
    free(p->req.body);
    p->req.body = NULL;
}

const char *rc_http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

int rc_http_head(char *buf, size_t cap, int status, const char *content_type, size_t body_len,
                 bool keep_alive, const char *extra)
{
    int n = snprintf(buf, cap,
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: %s\r\n"
                     "Content-Length: %zu\r\n"
                     "Connection: %s\r\n"
                     "Cache-Control: no-store\r\n"
                     "%s\r\n",
                     status, rc_http_reason(status), content_type, body_len,
                     keep_alive ? "keep-alive" : "close", extra != NULL ? extra : "");
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

void rc_http_split_url(char *url, char **path, char **query)
{
    char *q = strchr(url, '?');
    *path = url;
    if (q == NULL) {
        *query = url + strlen(url);
        return;
    }
    *q = '\0';
    *query = q + 1;
}

static int rc__hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long rc_http_unescape(const char *src, size_t len, char *dst, size_t cap)
{
    size_t out = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '%') {
            if (len - i < 3)
                return -1;
            int hi = rc__hex(src[i + 1]), lo = rc__hex(src[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (out + 1 >= cap)
            return -1;
        dst[out++] = c;
    }
    if (cap == 0)
        return -1;
    dst[out] = '\0';
    return (long)out;
}

long rc_http_query_get(const char *query, const char *name, char *dst, size_t cap)
{
    size_t name_len = strlen(name);
    const char *p = query;
    while (*p != '\0') {
        const char *end = strchr(p, '&');
        size_t item = end != NULL ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', item);
        size_t key_len = eq != NULL ? (size_t)(eq - p) : item;
        if (key_len == name_len && memcmp(p, name, name_len) == 0) {
            if (eq == NULL) {
                if (cap == 0)
                    return -2;
                dst[0] = '\0';
                return 0;
            }
            long n = rc_http_unescape(eq + 1, item - key_len - 1, dst, cap);
            return n < 0 ? -2 : n;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    return -1;
}
