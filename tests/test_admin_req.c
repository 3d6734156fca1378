/*
 * test_admin_req.c - the admin port's request handling without a server:
 * HTTP parsing and its bounds (rc_http), routing and argument decoding
 * (rc_admin_req), and the address predicates protected mode relies on
 * (rc_addr).
 */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rc_addr.h"
#include "rc_admin_req.h"
#include "rc_http.h"
#include "rc_test.h"
#include "recache/rc_proto.h"

/* Parse text as one connection's bytes; the first request into *p (caller frees with rc_http_free).
 */
static enum rc_http_state parse(rc_http_parser *p, size_t max, const char *text, size_t *used)
{
    rc_http_init(p, max);
    return rc_http_feed(p, (const uint8_t *)text, strlen(text), used);
}

static void test_http_parse(void)
{
    rc_http_parser p;
    size_t used;
    const char *two = "GET /health HTTP/1.1\r\nHost: a\r\n\r\n"
                      "PUT /namespaces/x/config HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}";
    RC_CHECK_EQ_INT(parse(&p, 4096, two, &used), RC_HTTP_COMPLETE);
    RC_CHECK_EQ_INT(p.req.method, HTTP_GET);
    RC_CHECK(strcmp(p.req.url, "/health") == 0);
    RC_CHECK(p.req.keep_alive);
    RC_CHECK(used < strlen(two)); /* the second request is left for later */
    const char *rest = two + used;
    rc_http_next(&p);
    RC_CHECK_EQ_INT(rc_http_feed(&p, (const uint8_t *)rest, strlen(rest), &used), RC_HTTP_COMPLETE);
    RC_CHECK_EQ_INT(p.req.method, HTTP_PUT);
    RC_CHECK_EQ_INT(p.req.body_len, 2);
    RC_CHECK(strcmp(p.req.body, "{}") == 0);
    rc_http_free(&p);

    /* Byte by byte gives the same request; Connection: close is honoured. */
    const char *req = "POST /flush HTTP/1.1\r\nConnection: close\r\n\r\n";
    rc_http_init(&p, 4096);
    enum rc_http_state st = RC_HTTP_MORE;
    for (size_t i = 0; i < strlen(req); i++) {
        RC_CHECK_EQ_INT(st, RC_HTTP_MORE);
        RC_CHECK(i == 0 || rc_http_started(&p));
        st = rc_http_feed(&p, (const uint8_t *)req + i, 1, &used);
        RC_CHECK_EQ_INT(used, 1);
    }
    RC_CHECK_EQ_INT(st, RC_HTTP_COMPLETE);
    RC_CHECK(!p.req.keep_alive);
    rc_http_free(&p);
}

static void test_http_bounds(void)
{
    rc_http_parser p;
    size_t used;
    /* A Content-Length over the limit is refused before the body is stored. */
    RC_CHECK_EQ_INT(parse(&p, 1024, "PUT /x HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", &used),
                    RC_HTTP_ERROR);
    RC_CHECK_EQ_INT(p.error_status, 413);
    RC_CHECK(p.req.body == NULL);
    rc_http_free(&p);
    /* Headers that never end: 431 once the limit is used up. */
    char big[2048];
    snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX: %01900d", 0);
    RC_CHECK_EQ_INT(parse(&p, 1024, big, &used), RC_HTTP_ERROR);
    RC_CHECK_EQ_INT(p.error_status, 431);
    rc_http_free(&p);
    /* Chunked bodies, garbage, HTTP/2 prefaces and TLS records are refused. */
    RC_CHECK_EQ_INT(parse(&p, 1024, "PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &used),
                    RC_HTTP_ERROR);
    RC_CHECK_EQ_INT(p.error_status, 411);
    rc_http_free(&p);
    RC_CHECK_EQ_INT(parse(&p, 1024, "\x16\x03\x01\x02\x00\x01", &used), RC_HTTP_ERROR);
    RC_CHECK_EQ_INT(p.error_status, 400);
    rc_http_free(&p);
    RC_CHECK_EQ_INT(parse(&p, 1024, "GET / HTTP/2.0\r\n\r\n", &used), RC_HTTP_ERROR);
    RC_CHECK_EQ_INT(p.error_status, 505);
    rc_http_free(&p);
    /* A target over RC_HTTP_MAX_URL: 414 once the head is complete (more is awaited before). */
    char *url = malloc(RC_HTTP_MAX_URL + 128);
    memset(url, 'a', RC_HTTP_MAX_URL + 64);
    memcpy(url, "GET /", 5);
    url[RC_HTTP_MAX_URL + 64] = '\0';
    RC_CHECK_EQ_INT(parse(&p, 64 * 1024, url, &used), RC_HTTP_MORE);
    rc_http_free(&p);
    strcpy(url + RC_HTTP_MAX_URL + 64, " HTTP/1.1\r\n\r\n");
    RC_CHECK_EQ_INT(parse(&p, 64 * 1024, url, &used), RC_HTTP_ERROR);
    RC_CHECK_EQ_INT(p.error_status, 414);
    rc_http_free(&p);
    /* A bad byte after the limit is a 400, whether or not the limit was seen first. */
    url[RC_HTTP_MAX_URL + 32] = '\x7f';
    RC_CHECK_EQ_INT(parse(&p, 64 * 1024, url, &used), RC_HTTP_ERROR);
    RC_CHECK_EQ_INT(p.error_status, 400);
    rc_http_free(&p);
    free(url);
}

static void test_http_helpers(void)
{
    char out[16];
    RC_CHECK_EQ_INT(rc_http_unescape("a%2Fb", 5, out, sizeof(out)), 3);
    RC_CHECK(strcmp(out, "a/b") == 0);
    RC_CHECK_EQ_INT(rc_http_unescape("%00", 3, out, sizeof(out)), -1);
    RC_CHECK_EQ_INT(rc_http_unescape("%4", 2, out, sizeof(out)), -1);
    RC_CHECK_EQ_INT(rc_http_unescape("0123456789abcdef", 16, out, sizeof(out)), -1);
    RC_CHECK_EQ_INT(rc_http_query_get("a=1&mode=soft", "mode", out, sizeof(out)), 4);
    RC_CHECK(strcmp(out, "soft") == 0);
    RC_CHECK_EQ_INT(rc_http_query_get("a=1", "mode", out, sizeof(out)), -1);
    RC_CHECK_EQ_INT(rc_http_query_get("mode=%zz", "mode", out, sizeof(out)), -2);
    char head[256];
    int n = rc_http_head(head, sizeof(head), 404, "application/json", 10, false, "Allow: GET\r\n");
    RC_CHECK(n > 0);
    RC_CHECK(strstr(head, "HTTP/1.1 404 Not Found\r\n") == head);
    RC_CHECK(strstr(head, "Content-Length: 10\r\nConnection: close\r\n") != NULL);
    RC_CHECK(strstr(head, "Allow: GET\r\n\r\n") != NULL);
    RC_CHECK_EQ_INT(rc_http_head(head, 16, 200, "text/plain", 1, true, NULL), -1);
}

/* Decode method + target + body as a request. */
static int decode(enum http_method m, const char *url, const char *body, rc_admin_cmd *cmd,
                  rc_admin_refusal *why)
{
    rc_http_request req;
    memset(&req, 0, sizeof(req));
    req.method = m;
    req.url_len = strlen(url);
    memcpy(req.url, url, req.url_len + 1);
    req.body = (char *)body;
    req.body_len = body != NULL ? strlen(body) : 0;
    return rc_admin_req_decode(&req, cmd, why);
}

static void test_routes(void)
{
    rc_admin_cmd *cmd = malloc(sizeof(*cmd));
    rc_admin_refusal why;
    RC_CHECK_EQ_INT(decode(HTTP_GET, "/metrics", NULL, cmd, &why), 0);
    RC_CHECK_EQ_INT(cmd->route, RC_ADMIN_METRICS);
    RC_CHECK(!cmd->mutation);
    RC_CHECK_EQ_INT(decode(HTTP_GET, "/namespaces/a%20b", NULL, cmd, &why), 0);
    RC_CHECK_EQ_INT(cmd->route, RC_ADMIN_NAMESPACE);
    RC_CHECK(strcmp(cmd->ns, "a b") == 0);
    RC_CHECK_EQ_INT(
        decode(HTTP_POST, "/namespaces/n/keys/k%2F1/invalidate?mode=soft", NULL, cmd, &why), 0);
    RC_CHECK_EQ_INT(cmd->route, RC_ADMIN_KEY_INVALIDATE);
    RC_CHECK(cmd->mutation);
    RC_CHECK(strcmp(cmd->name, "k/1") == 0);
    RC_CHECK_EQ_INT(cmd->mode, RC_INVAL_SOFT);
    RC_CHECK_EQ_INT(decode(HTTP_POST, "/namespaces/n/bump?to=42", NULL, cmd, &why), 0);
    RC_CHECK_EQ_U64(cmd->to, 42);
    RC_CHECK_EQ_INT(decode(HTTP_POST, "/namespaces/n/bump", "{\"to\":7}", cmd, &why), 0);
    RC_CHECK_EQ_U64(cmd->to, 7);
    RC_CHECK_EQ_INT(
        decode(HTTP_PUT, "/namespaces/n/config", "{\"stale\":5,\"ttl-jitter\":10}", cmd, &why), 0);
    RC_CHECK(strcmp(cmd->settings, "stale=5 ttl-jitter=10") == 0);

    /* Refusals: unknown, wrong method (with Allow), bad arguments. */
    RC_CHECK_EQ_INT(decode(HTTP_GET, "/", NULL, cmd, &why), 404);
    RC_CHECK_EQ_INT(decode(HTTP_GET, "/metrics/", NULL, cmd, &why), 404);
    RC_CHECK_EQ_INT(decode(HTTP_GET, "//metrics", NULL, cmd, &why), 404);
    RC_CHECK_EQ_INT(decode(HTTP_GET, "/a/b/c/d/e/f", NULL, cmd, &why), 404);
    RC_CHECK_EQ_INT(decode(HTTP_GET, "/flush", NULL, cmd, &why), 405);
    RC_CHECK(strcmp(why.allow, "POST") == 0);
    RC_CHECK_EQ_INT(decode(HTTP_POST, "/namespaces/n/bump?to=0", NULL, cmd, &why), 400);
    RC_CHECK_EQ_INT(decode(HTTP_POST, "/namespaces/n/bump?to=9007199254740992", NULL, cmd, &why),
                    400);
    RC_CHECK_EQ_INT(decode(HTTP_POST, "/namespaces/n/bump", "{\"to\":1e300}", cmd, &why), 400);
    RC_CHECK_EQ_INT(decode(HTTP_POST, "/namespaces/n/bump", "[]", cmd, &why), 400);
    RC_CHECK_EQ_INT(decode(HTTP_PUT, "/namespaces/n/config", "{\"a b\":1}", cmd, &why), 400);
    RC_CHECK_EQ_INT(decode(HTTP_PUT, "/namespaces/n/config", "{\"x\":-1}", cmd, &why), 400);
    RC_CHECK_EQ_INT(decode(HTTP_PUT, "/namespaces/n/config", NULL, cmd, &why), 400);
    RC_CHECK_EQ_INT(decode(HTTP_POST, "/tags/t/invalidate", "{\"mode\":1}", cmd, &why), 400);
    RC_CHECK_EQ_INT(decode(HTTP_POST, "/tags/%00/invalidate", NULL, cmd, &why), 400);
    RC_CHECK_EQ_INT(decode(HTTP_GET, "/stats", "{}", cmd, &why), 400);
    free(cmd);
}

static void test_addr(void)
{
    RC_CHECK(rc_addr_text_is_loopback("127.0.0.1"));
    RC_CHECK(rc_addr_text_is_loopback("127.1.2.3"));
    RC_CHECK(rc_addr_text_is_loopback("::1"));
    RC_CHECK(rc_addr_text_is_loopback("::ffff:127.0.0.1"));
    RC_CHECK(!rc_addr_text_is_loopback("0.0.0.0"));
    RC_CHECK(!rc_addr_text_is_loopback("::"));
    RC_CHECK(!rc_addr_text_is_loopback("10.0.0.1"));
    RC_CHECK(!rc_addr_text_is_loopback("::ffff:10.0.0.1"));
    RC_CHECK(!rc_addr_text_is_loopback("localhost"));
}

int main(void)
{
    RC_TEST_RUN(test_http_parse);
    RC_TEST_RUN(test_http_bounds);
    RC_TEST_RUN(test_http_helpers);
    RC_TEST_RUN(test_routes);
    RC_TEST_RUN(test_addr);
    return 0;
}
