/*
 * rc_peerwire.c - PEER_SYNC record codec (format in rc_peerwire.h).
 *
 * Every length is checked against the bytes present before it is trusted;
 * a record's declared body length must match its kind's layout exactly.
 */
#include "recache/rc_peerwire.h"

#include <string.h>

#include "rc_le.h"

/* Body length of a known kind with a name of name_len bytes; 0 for an unknown kind. */
static size_t rc__body_len(uint8_t kind, size_t name_len)
{
    switch (kind) {
    case RC_PEERWIRE_VERSION:
        return 1u + name_len + 8u;
    case RC_PEERWIRE_TAG:
        return 1u + name_len + 16u;
    case RC_PEERWIRE_SUPPRESS:
        return 1u + name_len + 21u; /* item, stamp, ttl_ms (u32), suppressed (u8) */
    default:
        return 0;
    }
}

long rc_peerwire_encode(const rc_peerwire_rec *r, uint8_t *buf, size_t cap)
{
    if (r->name.len == 0 || r->name.len > 255u)
        return RC_EINVAL;
    size_t body = rc__body_len(r->kind, r->name.len);
    if (body == 0)
        return RC_EINVAL;
    if (cap < 3u + body)
        return RC_EBUFFER;
    buf[0] = r->kind;
    rc__le_put(buf + 1, body, 2);
    buf[3] = (uint8_t)r->name.len;
    memcpy(buf + 4, r->name.ptr, r->name.len);
    uint8_t *p = buf + 4 + r->name.len;
    if (r->kind == RC_PEERWIRE_VERSION) {
        rc__le_put(p, r->version, 8);
    } else if (r->kind == RC_PEERWIRE_SUPPRESS) {
        rc__le_put(p, r->item, 8);
        rc__le_put(p + 8, r->stamp, 8);
        rc__le_put(p + 16, r->ttl_ms, 4);
        p[20] = r->suppressed ? 1u : 0u;
    } else {
        rc__le_put(p, r->hard, 8);
        rc__le_put(p + 8, r->any, 8);
    }
    return (long)(3u + body);
}

int rc_peerwire_next(rc_slice *rest, rc_peerwire_rec *out)
{
    memset(out, 0, sizeof(*out));
    if (rest->len == 0)
        return 0;
    if (rest->len < 3u)
        return RC_EBAD_FRAME;
    const uint8_t *p = rest->ptr;
    size_t body = (size_t)rc__le_get(p + 1, 2);
    if (rest->len - 3u < body)
        return RC_EBAD_FRAME;
    out->kind = p[0];
    if (rc__body_len(p[0], 1) != 0) {
        if (body < 1u)
            return RC_EBAD_FRAME;
        size_t name_len = p[3];
        if (name_len == 0 || rc__body_len(p[0], name_len) != body)
            return RC_EBAD_FRAME;
        out->name = (rc_slice){p + 4, (uint32_t)name_len};
        const uint8_t *v = p + 4 + name_len;
        if (p[0] == RC_PEERWIRE_VERSION) {
            out->version = rc__le_get(v, 8);
        } else if (p[0] == RC_PEERWIRE_SUPPRESS) {
            if (v[20] > 1u)
                return RC_EBAD_FRAME;
            out->item = rc__le_get(v, 8);
            out->stamp = rc__le_get(v + 8, 8);
            out->ttl_ms = (uint32_t)rc__le_get(v + 16, 4);
            out->suppressed = v[20];
        } else {
            out->hard = rc__le_get(v, 8);
            out->any = rc__le_get(v + 8, 8);
        }
    }
    rest->ptr += 3u + body;
    rest->len -= (uint32_t)(3u + body);
    return 1;
}
