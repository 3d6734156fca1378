/*
 * rb_value.c - see rb_value.h.  The check is a 64-bit multiply-rotate hash
 * over 8-byte words, cheap enough to verify every response at full load.
 */
#include "rb_value.h"

#include <string.h>

#include "recache/rc_errors.h"

static void rb__put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void rb__put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t rb__get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rb__get64(const uint8_t *p)
{
    return (uint64_t)rb__get32(p) | (uint64_t)rb__get32(p + 4) << 32;
}

/* Hash of bytes [0, 28) and [32, len): everything but the check itself. */
static uint32_t rb__check(const uint8_t *buf, size_t len)
{
    uint64_t h = 0x243F6A8885A308D3ull ^ len;
    for (size_t off = 0; off + 8 <= len; off += 8) {
        uint64_t w = rb__get64(buf + off);
        if (off == 24)
            w &= 0xFFFFFFFFull; /* skip the check field */
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
    }
    return (uint32_t)(h ^ (h >> 32));
}

size_t rb_value_size(uint32_t nitems)
{
    return RB_VALUE_HDR + 8u * (size_t)nitems;
}

void rb_value_encode(uint8_t *buf, const rb_value_info *vi)
{
    size_t len = rb_value_size(vi->nitems);
    rb__put32(buf, RB_VALUE_MAGIC);
    rb__put32(buf + 4, vi->user);
    rb__put64(buf + 8, vi->version);
    rb__put64(buf + 16, vi->seq);
    rb__put32(buf + 24, vi->nitems);
    uint32_t id = vi->user * 2654435761u ^ (uint32_t)vi->version * 40503u;
    for (uint32_t i = 0; i < vi->nitems; i++) {
        id = id * 1664525u + 1013904223u;
        float score = 1.0f - (float)i / (float)(vi->nitems + 1u);
        uint32_t bits;
        memcpy(&bits, &score, sizeof(bits));
        rb__put32(buf + RB_VALUE_HDR + 8u * i, id);
        rb__put32(buf + RB_VALUE_HDR + 8u * i + 4, bits);
    }
    rb__put32(buf + 28, rb__check(buf, len));
}

int rb_value_decode(const uint8_t *buf, size_t len, rb_value_info *vi)
{
    if (len < RB_VALUE_HDR || rb__get32(buf) != RB_VALUE_MAGIC)
        return RC_EPROTOCOL;
    uint32_t n = rb__get32(buf + 24);
    if (rb_value_size(n) != len || rb__get32(buf + 28) != rb__check(buf, len))
        return RC_EPROTOCOL;
    vi->user = rb__get32(buf + 4);
    vi->version = rb__get64(buf + 8);
    vi->seq = rb__get64(buf + 16);
    vi->nitems = n;
    return 0;
}
