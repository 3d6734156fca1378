/*
 * rc_le.h - little-endian integers at any alignment, for protocol/'s codecs
 * (frames, PEER_SYNC records, list items).  Private to protocol/; pure.
 *
 * Every integer on recache's wire is little-endian.  Reading and writing
 * byte by byte never casts a buffer to a wider type, so alignment and the
 * host's byte order never matter.
 */
#ifndef RECACHE_RC_LE_H
#define RECACHE_RC_LE_H

#include <stdint.h>

/* rc__le_get - the width-byte (1..8) little-endian integer at p. */
static inline uint64_t rc__le_get(const uint8_t *p, unsigned width)
{
    uint64_t v = 0;
    for (unsigned i = width; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

/* rc__le_put - store the low width (1..8) bytes of v at p, little-endian. */
static inline void rc__le_put(uint8_t *p, uint64_t v, unsigned width)
{
    for (unsigned i = 0; i < width; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

#endif /* RECACHE_RC_LE_H */
