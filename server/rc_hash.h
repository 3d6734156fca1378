/*
 * rc_hash.h - keyed hashing for the store's indexes: SipHash-1-3.
 *
 * Design.  Every index in the server (entries, namespaces, tags) hashes
 * bytes that clients choose, so the hash is keyed by a 128-bit random seed
 * (filled by the server from getrandom()) to keep an attacker from building
 * keys that all land in one chain.  SipHash-1-3 (one compression round, three
 * finalisation rounds) is the reduced-round variant used by hash tables in
 * several language runtimes: fast on short keys and still keyed.  The
 * streaming form (init / update / final) lets the store hash a composite key
 * (namespace id, version, key bytes) without copying it into one buffer.
 * rc_hash_sip24 runs the full SipHash-2-4 on the same code path; it exists
 * so the tests can check the implementation against the published vectors.
 */
#ifndef RECACHE_RC_HASH_H
#define RECACHE_RC_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The 128-bit key, as two little-endian 64-bit halves. */
typedef struct rc_hash_key {
    uint64_t k0;
    uint64_t k1;
} rc_hash_key;

/* Streaming state; plain data, lives on the caller's stack. */
typedef struct rc_hash_state {
    uint64_t v[4];
    uint64_t tail;   /* pending bytes, little-endian, not yet a full word */
    uint64_t length; /* total bytes absorbed */
} rc_hash_state;

void rc_hash_init(rc_hash_state *s, const rc_hash_key *key);
/* Absorb len bytes (SipHash-1-3 compression). */
void rc_hash_update(rc_hash_state *s, const void *data, size_t len);
/* Finish the SipHash-1-3 digest; s must not be used afterwards. */
uint64_t rc_hash_final(rc_hash_state *s);

/* One-shot SipHash-1-3 of data. */
uint64_t rc_hash_bytes(const rc_hash_key *key, const void *data, size_t len);

/* One-shot SipHash-2-4 (reference variant, for verifying the implementation). */
uint64_t rc_hash_sip24(const rc_hash_key *key, const void *data, size_t len);

#endif /* RECACHE_RC_HASH_H */
