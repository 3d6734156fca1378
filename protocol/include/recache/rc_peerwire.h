/*
 * rc_peerwire.h - the records a PEER_SYNC response carries in its value.
 *
 * Design.  Node-to-node anti-entropy (PROTOCOL.md, PEER_SYNC) ships a
 * node's control state as a list of records packed into the response's
 * value field: namespace versions and tag invalidation stamps.  Each record
 * is framed on its own:
 *
 *     u8 kind | u16 body length | body
 *
 * so a receiver skips a kind it does not know by its length (a later kind,
 * such as list suppressions, can be added without breaking older nodes).
 * Bodies, all integers little-endian:
 *
 *     VERSION: u8 name length (1..255) | name | u64 version
 *     TAG:     u8 name length (1..255) | name | u64 hard stamp | u64 any stamp
 *
 * Pure: no I/O, no allocation; decoded names are views into the caller's
 * buffer.
 */
#ifndef RECACHE_RC_PEERWIRE_H
#define RECACHE_RC_PEERWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "rc_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

enum rc_peerwire_kind {
    RC_PEERWIRE_VERSION = 1,  /* a namespace's current version */
    RC_PEERWIRE_TAG = 2,      /* a tag's invalidation stamps (hard, any) */
    RC_PEERWIRE_SUPPRESS = 3, /* one item's suppression state in a namespace, with its stamp */
};

/* Largest encoded record: kind, length, name length, 255-byte name, SUPPRESS's 21 bytes. */
#define RC_PEERWIRE_MAX_RECORD (1u + 2u + 1u + 255u + 21u)

typedef struct rc_peerwire_rec {
    uint8_t kind;       /* enum rc_peerwire_kind; other values are skipped by the decoder */
    rc_slice name;      /* namespace (VERSION) or tag (TAG), 1..255 bytes */
    uint64_t version;   /* VERSION */
    uint64_t hard;      /* TAG: stamp of the newest hard invalidation (0 = none) */
    uint64_t any;       /* TAG: stamp of the newest invalidation of any mode */
    uint64_t item;      /* SUPPRESS: the item id */
    uint64_t stamp;     /* SUPPRESS: HLC stamp of the change */
    uint32_t ttl_ms;    /* SUPPRESS: remaining suppression time (0 = none) */
    uint8_t suppressed; /* SUPPRESS: 1 suppressed, 0 unsuppressed */
} rc_peerwire_rec;

/*
 * rc_peerwire_encode - append r at buf (cap bytes).  Returns the bytes
 * written, RC_EBUFFER when it does not fit (nothing written), or RC_EINVAL
 * for an unknown kind or a name outside 1..255 bytes.
 */
long rc_peerwire_encode(const rc_peerwire_rec *r, uint8_t *buf, size_t cap);

/*
 * rc_peerwire_next - decode the record at the start of *rest and advance
 * *rest past it.  Returns 1 with *out filled (kinds this codec does not
 * know come back with only `kind` set: skip them), 0 at the end of the
 * list, or RC_EBAD_FRAME for a truncated or malformed record (*rest is then
 * left where it was).
 */
int rc_peerwire_next(rc_slice *rest, rc_peerwire_rec *out);

#ifdef __cplusplus
}
#endif
#endif /* RECACHE_RC_PEERWIRE_H */
