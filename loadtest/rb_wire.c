/*
 * rb_wire.c - see rb_wire.h.  The peers' text framing is parsed without
 * copying: a reply is recognised only once it is complete in the buffer.
 */
#define _POSIX_C_SOURCE 200809L
#include "rb_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *rb_op_name(rb_op op)
{
    static const char *const names[] = {
#define RB__OP_NAME(name, str) str,
        RB_OPS(RB__OP_NAME)
#undef RB__OP_NAME
    };
    return (unsigned)op < RB_OP_COUNT ? names[op] : "unknown";
}

int rb_buf_reserve(rb_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < extra)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return RC_ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

void rb_buf_free(rb_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

int rb_target_parse(const char *s, rb_target *t)
{
    static const char *const names[] = {"recache", "memcached", "redis"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *t = (rb_target)i;
            return 0;
        }
    return RC_EINVAL;
}

const char *rb_target_name(rb_target t)
{
    return t == RB_TARGET_MEMCACHED ? "memcached" : t == RB_TARGET_REDIS ? "redis" : "recache";
}

size_t rb_wire_key(rb_target t, const char *ns, uint32_t user, char *buf, size_t cap)
{
    int n = t == RB_TARGET_RECACHE ? snprintf(buf, cap, "u:%u", user)
                                   : snprintf(buf, cap, "%s:u:%u", ns, user);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* ---- recache ------------------------------------------------------------------------------- */

#define RB__MAX_SET_TAGS 17 /* 16 product tags and a segment tag */

/* Encode the tags of a SET into buf; the list length or a negative error.  *count = tags. */
static long rb__tags(const rb_req *req, uint8_t *buf, size_t cap, uint8_t *count)
{
    char names[RB__MAX_SET_TAGS][24];
    rc_slice items[RB__MAX_SET_TAGS];
    uint32_t n = req->nproducts < 16 ? req->nproducts : 16;
    for (uint32_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof(names[i]), "product:%u", req->products[i]);
        items[i] = rc_slice_str(names[i]);
    }
    if (req->has_segment) {
        snprintf(names[n], sizeof(names[n]), "segment:%u", req->segment);
        items[n] = rc_slice_str(names[n]);
        n++;
    }
    *count = (uint8_t)n;
    return rc_list_encode(items, n, buf, cap);
}

static int rb__encode_recache(const rb_req *req, rb_buf *out)
{
    char key[48], tag[24];
    uint8_t tags[RB__MAX_SET_TAGS * 25], ntags = 0;
    rc_msg m;
    memset(&m, 0, sizeof(m));
    m.request_id = req->id;
    m.ns = rc_slice_str(req->ns);
    m.key = (rc_slice){(const uint8_t *)key, (uint32_t)rb_wire_key(RB_TARGET_RECACHE, req->ns,
                                                                   req->user, key, sizeof(key))};
    m.ns_version = req->ns_version;
    m.mode = req->soft ? RC_INVAL_SOFT : RC_INVAL_HARD;
    switch (req->op) {
    case RB_OP_GET:
        m.opcode = RC_OP_GET;
        break;
    case RB_OP_LGET:
        m.opcode = RC_OP_LGET;
        m.wait_ms = req->wait_ms;
        break;
    case RB_OP_SET:
    case RB_OP_FILL: {
        long tl = rb__tags(req, tags, sizeof(tags), &ntags);
        if (tl < 0)
            return (int)tl;
        m.opcode = RC_OP_SET;
        m.ttl_ms = req->ttl_ms;
        m.stale_ms = RC_STALE_DEFAULT;
        m.ntags = ntags;
        m.tags = (rc_slice){tags, (uint32_t)tl};
        m.value = (rc_slice){req->value, req->vlen};
        if (req->has_token)
            memcpy(m.token, req->token, RC_TOKEN_SIZE);
        break;
    }
    case RB_OP_BUMP:
        m.opcode = RC_OP_BUMP;
        break;
    case RB_OP_INVTAG:
        m.opcode = RC_OP_INVALIDATE_TAG;
        if (req->tag_segment)
            snprintf(tag, sizeof(tag), "segment:%u", req->segment);
        else
            snprintf(tag, sizeof(tag), "product:%u", req->product);
        m.tag = rc_slice_str(tag);
        break;
    case RB_OP_INVKEY:
        m.opcode = RC_OP_INVALIDATE_KEY;
        break;
    case RB_OP_DEL:
        m.opcode = RC_OP_DELETE;
        break;
    default:
        return RC_EINVAL;
    }
    long size = rc_encoded_size(&m);
    if (size < 0)
        return (int)size;
    if (rb_buf_reserve(out, (size_t)size) != 0)
        return RC_ENOMEM;
    long n = rc_encode(&m, out->p + out->len, out->cap - out->len);
    if (n < 0)
        return (int)n;
    out->len += (size_t)n;
    return 0;
}

/* ---- memcached and Redis ------------------------------------------------------------------- */

/* Append a formatted header line plus optional payload and CRLF. */
static int rb__append(rb_buf *out, const char *head, size_t hlen, const uint8_t *payload,
                      size_t plen, const char *tail)
{
    size_t tlen = strlen(tail);
    if (rb_buf_reserve(out, hlen + plen + tlen) != 0)
        return RC_ENOMEM;
    memcpy(out->p + out->len, head, hlen);
    if (plen)
        memcpy(out->p + out->len + hlen, payload, plen);
    memcpy(out->p + out->len + hlen + plen, tail, tlen);
    out->len += hlen + plen + tlen;
    return 0;
}

static int rb__encode_memcached(const rb_req *req, rb_buf *out)
{
    char key[96], head[192];
    rb_wire_key(RB_TARGET_MEMCACHED, req->ns, req->user, key, sizeof(key));
    int n;
    switch (req->op) {
    case RB_OP_GET:
        n = snprintf(head, sizeof(head), "get %s\r\n", key);
        return rb__append(out, head, (size_t)n, NULL, 0, "");
    case RB_OP_SET:
    case RB_OP_FILL:
        n = snprintf(head, sizeof(head), "set %s 0 %u %u\r\n", key,
                     req->ttl_ms ? (req->ttl_ms + 999u) / 1000u : 0u, req->vlen);
        return rb__append(out, head, (size_t)n, req->value, req->vlen, "\r\n");
    case RB_OP_INVKEY:
    case RB_OP_DEL:
        n = snprintf(head, sizeof(head), "delete %s\r\n", key);
        return rb__append(out, head, (size_t)n, NULL, 0, "");
    default:
        return RC_EINVAL;
    }
}

static int rb__encode_redis(const rb_req *req, rb_buf *out)
{
    char key[96], head[256];
    size_t klen = rb_wire_key(RB_TARGET_REDIS, req->ns, req->user, key, sizeof(key));
    int n;
    switch (req->op) {
    case RB_OP_GET:
        n = snprintf(head, sizeof(head), "*2\r\n$3\r\nGET\r\n$%zu\r\n%s\r\n", klen, key);
        return rb__append(out, head, (size_t)n, NULL, 0, "");
    case RB_OP_SET:
    case RB_OP_FILL:
        if (req->ttl_ms)
            n = snprintf(head, sizeof(head), "*5\r\n$3\r\nSET\r\n$%zu\r\n%s\r\n$%u\r\n", klen, key,
                         req->vlen);
        else
            n = snprintf(head, sizeof(head), "*3\r\n$3\r\nSET\r\n$%zu\r\n%s\r\n$%u\r\n", klen, key,
                         req->vlen);
        if (rb__append(out, head, (size_t)n, req->value, req->vlen, "\r\n") != 0)
            return RC_ENOMEM;
        if (!req->ttl_ms)
            return 0;
        char ttl[24];
        int tn = snprintf(ttl, sizeof(ttl), "%u", req->ttl_ms);
        n = snprintf(head, sizeof(head), "$2\r\nPX\r\n$%d\r\n%s\r\n", tn, ttl);
        return rb__append(out, head, (size_t)n, NULL, 0, "");
    case RB_OP_INVKEY:
    case RB_OP_DEL:
        n = snprintf(head, sizeof(head), "*2\r\n$3\r\nDEL\r\n$%zu\r\n%s\r\n", klen, key);
        return rb__append(out, head, (size_t)n, NULL, 0, "");
    default:
        return RC_EINVAL;
    }
}

int rb_wire_encode(rb_target t, const rb_req *req, rb_buf *out)
{
    switch (t) {
    case RB_TARGET_MEMCACHED:
        return rb__encode_memcached(req, out);
    case RB_TARGET_REDIS:
        return rb__encode_redis(req, out);
    default:
        return rb__encode_recache(req, out);
    }
}

/* Length of the line at buf (without CRLF), or -1 if no complete line yet. */
static long rb__line(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n')
            return (long)i;
    return -1;
}

static int rb__starts(const uint8_t *buf, long n, const char *word)
{
    size_t w = strlen(word);
    return (size_t)n >= w && memcmp(buf, word, w) == 0;
}

/* Returned by rb__num for a missing or malformed number (below any valid length, and not -1). */
#define RB__NUM_BAD (-(1ll << 40))

/* Parse a decimal at p (up to end); RB__NUM_BAD when absent, malformed or too long. */
static long long rb__num(const uint8_t *p, const uint8_t *end)
{
    long long v = 0;
    int neg = 0, digits = 0;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    for (; p < end && *p >= '0' && *p <= '9' && digits < 12; p++, digits++)
        v = v * 10 + (*p - '0');
    if (!digits || p != end)
        return RB__NUM_BAD;
    return neg ? -v : v;
}

static long rb__parse_memcached(const uint8_t *buf, size_t len, rc_msg *m)
{
    long n = rb__line(buf, len);
    if (n < 0)
        return len > 4096 ? RC_EPROTOCOL : 0;
    size_t line = (size_t)n + 2;
    if (rb__starts(buf, n, "VALUE ")) {
        const uint8_t *sp = buf + n; /* the byte count is the last field */
        while (sp > buf && sp[-1] != ' ')
            sp--;
        long long bytes = rb__num(sp, buf + n);
        if (bytes < 0)
            return RC_EPROTOCOL;
        size_t total = line + (size_t)bytes + 2 + 5;
        if (len < total)
            return 0;
        if (memcmp(buf + line + bytes, "\r\nEND\r\n", 7) != 0)
            return RC_EPROTOCOL;
        m->status = RC_STATUS_OK;
        m->value = (rc_slice){buf + line, (uint32_t)bytes};
        return (long)total;
    }
    if (rb__starts(buf, n, "END") || rb__starts(buf, n, "NOT_FOUND"))
        m->status = RC_STATUS_MISS;
    else if (rb__starts(buf, n, "STORED") || rb__starts(buf, n, "DELETED"))
        m->status = RC_STATUS_OK;
    else if (rb__starts(buf, n, "NOT_STORED") || rb__starts(buf, n, "EXISTS"))
        m->status = RC_STATUS_EXISTS;
    else if (rb__starts(buf, n, "SERVER_ERROR") || rb__starts(buf, n, "CLIENT_ERROR") ||
             rb__starts(buf, n, "ERROR"))
        m->status = RC_STATUS_INTERNAL;
    else
        return RC_EPROTOCOL;
    return (long)line;
}

static long rb__parse_redis(const uint8_t *buf, size_t len, rc_msg *m)
{
    long n = rb__line(buf, len);
    if (n < 0)
        return len > 4096 ? RC_EPROTOCOL : 0;
    if (n < 1)
        return RC_EPROTOCOL;
    size_t line = (size_t)n + 2;
    long long v;
    switch (buf[0]) {
    case '+':
        m->status = RC_STATUS_OK;
        return (long)line;
    case '-':
        m->status = RC_STATUS_INTERNAL;
        return (long)line;
    case ':':
        v = rb__num(buf + 1, buf + n);
        m->status = v > 0 ? RC_STATUS_OK : RC_STATUS_MISS;
        return (long)line;
    case '$':
        v = rb__num(buf + 1, buf + n);
        if (v == -1) {
            m->status = RC_STATUS_MISS;
            return (long)line;
        }
        if (v < 0)
            return RC_EPROTOCOL;
        if (len < line + (size_t)v + 2)
            return 0;
        if (buf[line + v] != '\r' || buf[line + v + 1] != '\n')
            return RC_EPROTOCOL;
        m->status = RC_STATUS_OK;
        m->value = (rc_slice){buf + line, (uint32_t)v};
        return (long)(line + (size_t)v + 2);
    default:
        return RC_EPROTOCOL;
    }
}

long rb_wire_parse(rb_target t, const uint8_t *buf, size_t len, rc_msg *msg)
{
    memset(msg, 0, sizeof(*msg));
    if (t == RB_TARGET_MEMCACHED)
        return rb__parse_memcached(buf, len, msg);
    if (t == RB_TARGET_REDIS)
        return rb__parse_redis(buf, len, msg);
    rc_limits lim = rc_limits_wire();
    size_t consumed = 0;
    int rc = rc_decode(buf, len, &lim, msg, &consumed);
    if (rc == RC_EAGAIN)
        return 0;
    if (rc != 0 || !(msg->hflags & RC_HF_RESPONSE))
        return RC_EPROTOCOL;
    return (long)consumed;
}
