/*
 * rc_admin_req.c - routing and argument decoding for the admin port (see
 * rc_admin_req.h).
 *
 * The path is split on '/' into at most RC__MAX_SEGMENTS raw segments,
 * matched against the route table by shape ("namespaces", *, "bump"),
 * and only then are the variable segments percent-decoded into the
 * command.  Bodies are JSON objects parsed with cJSON; every member must
 * be one the endpoint knows, with the right type, or the request is 400.
 */
#define _POSIX_C_SOURCE 200809L

#include "rc_admin_req.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "recache/rc_proto.h"

#define RC__MAX_SEGMENTS 5
/* Largest integer a JSON number (a double) holds exactly: 2^53 - 1. */
#define RC__JSON_MAX_INT 9007199254740991.0

typedef struct rc__seg {
    const char *p;
    size_t len;
} rc__seg;

/* One route: its shape ("*" = a variable segment), its method and what it is. */
typedef struct rc__route {
    const char *shape[RC__MAX_SEGMENTS];
    enum http_method method;
    enum rc_admin_route route;
    bool mutation;
} rc__route;

static const rc__route rc__routes[] = {
    {{"metrics"}, HTTP_GET, RC_ADMIN_METRICS, false},
    {{"health"}, HTTP_GET, RC_ADMIN_HEALTH, false},
    {{"ready"}, HTTP_GET, RC_ADMIN_READY, false},
    {{"stats"}, HTTP_GET, RC_ADMIN_STATS, false},
    {{"config"}, HTTP_GET, RC_ADMIN_CONFIG, false},
    {{"namespaces"}, HTTP_GET, RC_ADMIN_NAMESPACES, false},
    {{"namespaces", "*"}, HTTP_GET, RC_ADMIN_NAMESPACE, false},
    {{"namespaces", "*", "config"}, HTTP_PUT, RC_ADMIN_NS_CONFIG, true},
    {{"namespaces", "*", "bump"}, HTTP_POST, RC_ADMIN_NS_BUMP, true},
    {{"tags", "*", "invalidate"}, HTTP_POST, RC_ADMIN_TAG_INVALIDATE, true},
    {{"namespaces", "*", "keys", "*", "invalidate"}, HTTP_POST, RC_ADMIN_KEY_INVALIDATE, true},
    {{"flush"}, HTTP_POST, RC_ADMIN_FLUSH, true},
    {{"cluster"}, HTTP_GET, RC_ADMIN_CLUSTER, false},
};

static int rc__refuse(rc_admin_refusal *why, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int rc__refuse(rc_admin_refusal *why, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->message, sizeof(why->message), fmt, ap);
    va_end(ap);
    why->status = status;
    return status;
}

/* Split "/a/b/c" into segments.  -1 for more than RC__MAX_SEGMENTS or an empty segment. */
static int rc__split(const char *path, rc__seg segs[RC__MAX_SEGMENTS])
{
    if (path[0] != '/')
        return -1;
    int n = 0;
    const char *p = path + 1;
    for (;;) {
        const char *end = strchr(p, '/');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len == 0 || n == RC__MAX_SEGMENTS)
            return -1;
        segs[n].p = p;
        segs[n].len = len;
        n++;
        if (end == NULL)
            return n;
        p = end + 1;
    }
}

static bool rc__matches(const rc__route *r, const rc__seg *segs, int n)
{
    int i = 0;
    for (; i < RC__MAX_SEGMENTS && r->shape[i] != NULL; i++) {
        if (i >= n)
            return false;
        if (strcmp(r->shape[i], "*") == 0)
            continue;
        if (strlen(r->shape[i]) != segs[i].len || memcmp(r->shape[i], segs[i].p, segs[i].len) != 0)
            return false;
    }
    return i == n;
}

/* Percent-decode a variable segment into dst; 400 when malformed. */
static int rc__segment(const rc__seg *s, char *dst, size_t cap, size_t *len, const char *what,
                       rc_admin_refusal *why)
{
    long n = rc_http_unescape(s->p, s->len, dst, cap);
    if (n <= 0)
        return rc__refuse(why, 400, "%s: bad percent-encoding in the path", what);
    *len = (size_t)n;
    return 0;
}

/* A JSON body as an object (NULL body = empty object).  *root NULL when there is no body. */
static int rc__body(const rc_http_request *req, cJSON **root, rc_admin_refusal *why)
{
    *root = NULL;
    if (req->body_len == 0)
        return 0;
    cJSON *j = cJSON_ParseWithLength(req->body, req->body_len);
    if (j == NULL)
        return rc__refuse(why, 400, "the body is not valid JSON");
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return rc__refuse(why, 400, "the body must be a JSON object");
    }
    *root = j;
    return 0;
}

/* A JSON number that is an integer in 0..2^53-1. */
static bool rc__json_uint(const cJSON *item, uint64_t *out)
{
    if (!cJSON_IsNumber(item))
        return false;
    double v = item->valuedouble;
    if (!(v >= 0.0 && v <= RC__JSON_MAX_INT) || floor(v) != v)
        return false;
    *out = (uint64_t)v;
    return true;
}

/* A decimal text in 1..2^53-1 (the bump target). */
static bool rc__text_uint(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10u + (uint64_t)(*s - '0');
        if (v > (uint64_t)RC__JSON_MAX_INT)
            return false;
    }
    *out = v;
    return true;
}

/*
 * The endpoint's one optional argument `name`, from the query (?name=...)
 * or from a JSON body {"name": ...}, not both, and no other body field.
 * Its text goes into buf ("" and *given false when absent).  The JSON form
 * must be a non-negative integer when want_number, else a string; `bad`
 * is the sentence for a malformed value.  0 or 400.
 */
static int rc__one_arg(const rc_http_request *req, const char *query, const char *name,
                       bool want_number, char *buf, size_t cap, bool *given, const char *bad,
                       rc_admin_refusal *why)
{
    buf[0] = '\0';
    long q = rc_http_query_get(query, name, buf, cap);
    if (q == -2)
        return rc__refuse(why, 400, "%s: %s", name, bad);
    *given = q >= 0;
    cJSON *root;
    int rc = rc__body(req, &root, why);
    if (rc != 0)
        return rc;
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        uint64_t v;
        if (strcmp(item->string, name) != 0)
            rc = rc__refuse(why, 400, "unknown field '%.64s' (this endpoint takes only \"%s\")",
                            item->string, name);
        else if (*given)
            rc = rc__refuse(why, 400, "%s: given both in the query and in the body", name);
        else if (want_number && rc__json_uint(item, &v))
            snprintf(buf, cap, "%llu", (unsigned long long)v);
        else if (!want_number && cJSON_IsString(item) && strlen(item->valuestring) < cap)
            snprintf(buf, cap, "%s", item->valuestring);
        else
            rc = rc__refuse(why, 400, "%s: %s", name, bad);
        *given = true;
        if (rc != 0)
            break;
    }
    cJSON_Delete(root);
    return rc;
}

/* POST .../bump: `to`, an integer from 1 to 2^53-1 (absent: current + 1). */
static int rc__decode_bump(const rc_http_request *req, const char *query, rc_admin_cmd *cmd,
                           rc_admin_refusal *why)
{
    static const char bad[] = "must be an integer from 1 to 2^53-1";
    char text[32];
    bool given;
    int rc = rc__one_arg(req, query, "to", true, text, sizeof(text), &given, bad, why);
    if (rc != 0 || !given)
        return rc;
    if (!rc__text_uint(text, &cmd->to) || cmd->to == 0)
        return rc__refuse(why, 400, "to: %s", bad);
    return 0;
}

/* Invalidations: `mode`, "hard" (the default) or "soft". */
static int rc__decode_mode(const rc_http_request *req, const char *query, rc_admin_cmd *cmd,
                           rc_admin_refusal *why)
{
    static const char bad[] = "must be \"hard\" or \"soft\"";
    char text[16];
    bool given;
    int rc = rc__one_arg(req, query, "mode", false, text, sizeof(text), &given, bad, why);
    if (rc != 0 || !given)
        return rc;
    if (strcmp(text, "soft") == 0)
        cmd->mode = RC_INVAL_SOFT;
    else if (strcmp(text, "hard") == 0)
        cmd->mode = RC_INVAL_HARD;
    else
        return rc__refuse(why, 400, "mode: %s", bad);
    return 0;
}

/* PUT .../config: a non-empty object of setting names and integers, as "name=value ..." text. */
static int rc__decode_settings(const rc_http_request *req, rc_admin_cmd *cmd, rc_admin_refusal *why)
{
    cJSON *root;
    int rc = rc__body(req, &root, why);
    if (rc != 0)
        return rc;
    if (root == NULL || root->child == NULL) {
        cJSON_Delete(root);
        return rc__refuse(why, 400,
                          "the body must be a JSON object of settings, e.g. {\"default-ttl\": "
                          "60000}");
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        uint64_t v;
        bool name_ok =
            item->string[0] != '\0' && strcspn(item->string, " \t\r\n=") == strlen(item->string);
        if (!name_ok) {
            rc = rc__refuse(why, 400, "bad setting name '%.64s'", item->string);
            break;
        }
        if (!rc__json_uint(item, &v)) {
            rc = rc__refuse(why, 400, "%.64s: must be a non-negative integer", item->string);
            break;
        }
        size_t room = sizeof(cmd->settings) - cmd->settings_len;
        int n = snprintf(cmd->settings + cmd->settings_len, room, "%s%s=%llu",
                         cmd->settings_len > 0 ? " " : "", item->string, (unsigned long long)v);
        if (n < 0 || (size_t)n >= room) {
            rc = rc__refuse(why, 400, "too many settings");
            break;
        }
        cmd->settings_len += (size_t)n;
    }
    cJSON_Delete(root);
    return rc;
}

static const char *rc__method_name(enum http_method m)
{
    return http_method_str(m);
}

int rc_admin_req_decode(const rc_http_request *req, rc_admin_cmd *cmd, rc_admin_refusal *why)
{
    memset(cmd, 0, sizeof(*cmd));
    why->status = 0;
    why->message[0] = '\0';
    why->allow = NULL;
    char url[RC_HTTP_MAX_URL + 1];
    memcpy(url, req->url, req->url_len);
    url[req->url_len] = '\0';
    char *path, *query;
    rc_http_split_url(url, &path, &query);
    rc__seg segs[RC__MAX_SEGMENTS];
    int n = rc__split(path, segs);
    const rc__route *found = NULL;
    for (size_t i = 0; n > 0 && i < sizeof(rc__routes) / sizeof(rc__routes[0]); i++) {
        if (!rc__matches(&rc__routes[i], segs, n))
            continue;
        if (rc__routes[i].method == req->method) {
            found = &rc__routes[i];
            break;
        }
        why->allow = rc__method_name(rc__routes[i].method);
    }
    if (found == NULL) {
        if (why->allow != NULL)
            return rc__refuse(why, 405, "%s is not allowed here (allowed: %s)",
                              rc__method_name(req->method), why->allow);
        return rc__refuse(why, 404, "no such endpoint");
    }
    cmd->route = found->route;
    cmd->mutation = found->mutation;
    cmd->mode = RC_INVAL_HARD;
    int rc = 0;
    if (strcmp(found->shape[0], "namespaces") == 0 && n >= 2) /* namespaces/{ns}/... */
        rc = rc__segment(&segs[1], cmd->ns, sizeof(cmd->ns), &cmd->ns_len, "namespace", why);
    if (rc != 0)
        return rc;
    switch (cmd->route) {
    case RC_ADMIN_NS_CONFIG:
        return rc__decode_settings(req, cmd, why);
    case RC_ADMIN_NS_BUMP:
        return rc__decode_bump(req, query, cmd, why);
    case RC_ADMIN_TAG_INVALIDATE:
        rc = rc__segment(&segs[1], cmd->name, sizeof(cmd->name), &cmd->name_len, "tag", why);
        return rc != 0 ? rc : rc__decode_mode(req, query, cmd, why);
    case RC_ADMIN_KEY_INVALIDATE:
        rc = rc__segment(&segs[3], cmd->name, sizeof(cmd->name), &cmd->name_len, "key", why);
        return rc != 0 ? rc : rc__decode_mode(req, query, cmd, why);
    default:
        if (req->body_len > 0)
            return rc__refuse(why, 400, "this endpoint takes no body");
        return 0;
    }
}
