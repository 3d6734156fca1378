/*
 * fuzz_admin.c - libFuzzer target for the admin port's request handling:
 * HTTP parsing (rc_http) and request decoding (rc_admin_req), everything
 * an admin client's bytes reach before a command runs.
 *
 * Design.  The first input byte picks the request size limit and the read
 * size; the rest is the decrypted byte stream of one keep-alive connection.
 * It is parsed twice, as rc_admin.c does (feed, answer each complete
 * request, rc_http_next, go on; stop at the first error): once in one
 * piece and once in reads of the chosen size.  Checked with abort():
 *
 *   - both passes see the same requests (method, target, body) and end the
 *     same way (same error status, or the same incomplete tail): splitting
 *     a stream into reads never changes what the server understands;
 *   - a body never passes the limit, and errors carry the documented
 *     statuses (400, 411, 413, 414, 431, 505) and a message;
 *   - decoding answers 0 or 400/404/405 (405 with the allowed method), and
 *     a decoded command is self-consistent: NUL-terminated names of the
 *     stated lengths with no NUL inside, a known mode, bounded settings;
 *   - rc_http_head and rc_http_query_get stay within their buffers.
 *
 * The same file is linked into fuzz_admin_replay (any compiler), which
 * replays the committed corpus (tests/corpus/admin) in the normal test run.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rc_admin_req.h"
#include "rc_http.h"
#include "recache/rc_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool ok)
{
    if (!ok)
        abort();
}

/* What one pass saw: a running hash of every request and the way it ended. */
typedef struct pass_result {
    uint64_t hash;
    unsigned requests;
    int error_status; /* 0 = no error (the stream ended complete or incomplete) */
} pass_result;

static uint64_t mix(uint64_t h, const void *p, size_t len)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static void check_cmd(const rc_admin_cmd *cmd)
{
    require(cmd->ns_len < sizeof(cmd->ns) && cmd->ns[cmd->ns_len] == '\0');
    require(strlen(cmd->ns) == cmd->ns_len);
    require(cmd->name_len < sizeof(cmd->name) && cmd->name[cmd->name_len] == '\0');
    require(strlen(cmd->name) == cmd->name_len);
    require(cmd->mode == RC_INVAL_HARD || cmd->mode == RC_INVAL_SOFT);
    require(cmd->settings_len < sizeof(cmd->settings));
    require(strlen(cmd->settings) == cmd->settings_len);
    require(cmd->route <= RC_ADMIN_CLUSTER);
    bool needs_ns = cmd->route == RC_ADMIN_NAMESPACE || cmd->route == RC_ADMIN_NS_CONFIG ||
                    cmd->route == RC_ADMIN_NS_BUMP || cmd->route == RC_ADMIN_KEY_INVALIDATE;
    require(!needs_ns || cmd->ns_len > 0);
    require(cmd->route != RC_ADMIN_NS_CONFIG || cmd->settings_len > 0);
}

/* One complete request: decode it and fold it into the pass's hash. */
static void on_request(const rc_http_parser *p, size_t max_request, pass_result *res)
{
    const rc_http_request *req = &p->req;
    require(req->url_len <= RC_HTTP_MAX_URL && req->url[req->url_len] == '\0');
    require(req->body_len <= max_request);
    require(req->body_len == 0 || req->body[req->body_len] == '\0');
    rc_admin_cmd *cmd = malloc(sizeof(*cmd));
    require(cmd != NULL);
    rc_admin_refusal why;
    int status = rc_admin_req_decode(req, cmd, &why);
    require(status == 0 || status == 400 || status == 404 || status == 405);
    if (status == 405)
        require(why.allow != NULL);
    if (status != 0)
        require(why.message[0] != '\0' && strlen(why.message) < sizeof(why.message));
    else
        check_cmd(cmd);
    free(cmd);

    char head[256];
    int n = rc_http_head(head, sizeof(head), status != 0 ? status : 200, "application/json",
                         req->body_len, req->keep_alive, NULL);
    require(n > 0 && (size_t)n < sizeof(head));
    char value[64];
    long q = rc_http_query_get(req->url, "to", value, sizeof(value));
    require(q >= -2 && q < (long)sizeof(value));

    int method = (int)req->method;
    res->hash = mix(res->hash, &method, sizeof(method));
    res->hash = mix(res->hash, req->url, req->url_len);
    res->hash = mix(res->hash, req->body != NULL ? req->body : "", req->body_len);
    res->hash = mix(res->hash, &status, sizeof(status));
    res->requests++;
}

static pass_result run_pass(const uint8_t *data, size_t size, size_t max_request, size_t chunk)
{
    pass_result res = {0xcbf29ce484222325ull, 0, 0};
    rc_http_parser *p = malloc(sizeof(*p));
    require(p != NULL);
    rc_http_init(p, max_request);
    /* A connection's pending bytes: what was read but not consumed yet. */
    uint8_t *pending = malloc(size + 1);
    require(pending != NULL);
    size_t plen = 0, off = 0;
    while (off < size || plen > 0) {
        size_t take = size - off < chunk ? size - off : chunk;
        memcpy(pending + plen, data + off, take);
        plen += take;
        off += take;
        bool progressed = false;
        while (plen > 0) {
            size_t used = 0;
            enum rc_http_state st = rc_http_feed(p, pending, plen, &used);
            require(used <= plen);
            memmove(pending, pending + used, plen - used);
            plen -= used;
            if (st == RC_HTTP_ERROR) {
                int e = p->error_status;
                require(e == 400 || e == 411 || e == 413 || e == 414 || e == 431 || e == 505);
                require(p->error != NULL);
                res.error_status = e;
                rc_http_free(p);
                free(p);
                free(pending);
                return res;
            }
            if (st == RC_HTTP_MORE) {
                require(plen == 0);
                break;
            }
            on_request(p, max_request, &res);
            rc_http_next(p);
            progressed = true;
        }
        if (take == 0 && !progressed)
            break;
    }
    rc_http_free(p);
    free(p);
    free(pending);
    return res;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t max_request = 256u << (data[0] & 7u);     /* 256 B .. 32 KiB */
    size_t chunk = 1u + (size_t)(data[0] >> 3) * 7u; /* 1 .. 218 bytes per read */
    data++;
    size--;
    pass_result whole = run_pass(data, size, max_request, size > 0 ? size : 1);
    pass_result split = run_pass(data, size, max_request, chunk);
    require(whole.requests == split.requests);
    require(whole.hash == split.hash);
    require(whole.error_status == split.error_status);
    return 0;
}
