/*
 * rc_hash.c - SipHash, written from the algorithm description of Aumasson
 * and Bernstein ("SipHash: a fast short-input PRF", 2012).
 *
 * Design.  The state is four 64-bit words initialised from the key and four
 * constants.  Each full 8-byte little-endian message word m is absorbed as
 * v3 ^= m, c SipRounds, v0 ^= m.  The last block holds the remaining bytes
 * and, in its top byte, the message length mod 256.  Finalisation xors 0xff
 * into v2, runs d SipRounds and returns the xor of the four words.  The
 * round counts are parameters of the internal functions so one code path
 * serves SipHash-1-3 (the store's hash) and SipHash-2-4 (checked against the
 * paper's test vector); the public 1-3 entry points pass constants, which
 * the compiler folds.  Bytes are assembled explicitly in little-endian order,
 * so the digest does not depend on the host's byte order.
 */
#include "rc_hash.h"

enum { RC__SIP13_C = 1, RC__SIP13_D = 3, RC__SIP24_C = 2, RC__SIP24_D = 4 };

static inline uint64_t rc__rotl(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64u - b));
}

/* One SipRound (the ARX network of the specification). */
static inline void rc__sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = rc__rotl(v[1], 13);
    v[1] ^= v[0];
    v[0] = rc__rotl(v[0], 32);
    v[2] += v[3];
    v[3] = rc__rotl(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = rc__rotl(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = rc__rotl(v[1], 17);
    v[1] ^= v[2];
    v[2] = rc__rotl(v[2], 32);
}

static inline void rc__sip_compress(uint64_t v[4], uint64_t m, int crounds)
{
    v[3] ^= m;
    for (int i = 0; i < crounds; i++)
        rc__sip_round(v);
    v[0] ^= m;
}

static inline uint64_t rc__load_le64(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

void rc_hash_init(rc_hash_state *s, const rc_hash_key *key)
{
    s->v[0] = key->k0 ^ 0x736f6d6570736575ull;
    s->v[1] = key->k1 ^ 0x646f72616e646f6dull;
    s->v[2] = key->k0 ^ 0x6c7967656e657261ull;
    s->v[3] = key->k1 ^ 0x7465646279746573ull;
    s->tail = 0;
    s->length = 0;
}

/*
 * rc__sip_absorb - feed bytes: first complete the pending partial word, then
 * whole words straight from the input, then keep the rest as the new tail.
 */
static inline void rc__sip_absorb(rc_hash_state *s, const uint8_t *p, size_t len, int crounds)
{
    unsigned pending = (unsigned)(s->length & 7u);
    s->length += len;
    while (pending != 0 && len > 0) {
        s->tail |= (uint64_t)*p++ << (8u * pending);
        len--;
        pending = (pending + 1u) & 7u;
        if (pending == 0) {
            rc__sip_compress(s->v, s->tail, crounds);
            s->tail = 0;
        }
    }
    for (; len >= 8; len -= 8, p += 8)
        rc__sip_compress(s->v, rc__load_le64(p), crounds);
    for (unsigned i = 0; i < len; i++)
        s->tail |= (uint64_t)p[i] << (8u * i);
}

static inline uint64_t rc__sip_finish(rc_hash_state *s, int crounds, int drounds)
{
    uint64_t b = (s->length << 56) | s->tail;
    rc__sip_compress(s->v, b, crounds);
    s->v[2] ^= 0xffu;
    for (int i = 0; i < drounds; i++)
        rc__sip_round(s->v);
    return s->v[0] ^ s->v[1] ^ s->v[2] ^ s->v[3];
}

void rc_hash_update(rc_hash_state *s, const void *data, size_t len)
{
    rc__sip_absorb(s, data, len, RC__SIP13_C);
}

uint64_t rc_hash_final(rc_hash_state *s)
{
    return rc__sip_finish(s, RC__SIP13_C, RC__SIP13_D);
}

uint64_t rc_hash_bytes(const rc_hash_key *key, const void *data, size_t len)
{
    rc_hash_state s;
    rc_hash_init(&s, key);
    rc__sip_absorb(&s, data, len, RC__SIP13_C);
    return rc__sip_finish(&s, RC__SIP13_C, RC__SIP13_D);
}

uint64_t rc_hash_sip24(const rc_hash_key *key, const void *data, size_t len)
{
    rc_hash_state s;
    rc_hash_init(&s, key);
    rc__sip_absorb(&s, data, len, RC__SIP24_C);
    return rc__sip_finish(&s, RC__SIP24_C, RC__SIP24_D);
}
