/*
 * rc_control.h - the control log: what a node's peers pull to converge.
 *
 * Design.  A node's control state is small: each namespace's current
 * version and each tag's invalidation stamps (rc_tags.h).  Every change of
 * it is appended here as one record, with a node-wide sequence number
 * (1, 2, ...) that peers remember, so a peer that pulls again gets only the
 * records after the last one it applied (PROTOCOL.md, PEER_SYNC).  The log
 * is a bounded ring: a peer that fell further behind than the ring holds,
 * or that finds a new instance id (the node restarted and its sequence
 * began again), takes a full snapshot of the state instead (rc_sync.h).
 *
 * The sequence belongs to the node's instance id (rc_server.instance_id):
 * PEER_SYNC answers carry both.
 *
 * Records carry state, not operations: a VERSION record is "namespace N is
 * at version V", a TAG record is "tag T's stamps are at least (hard, any)".
 * Applying one is a max-merge, so applying it twice, late or out of order
 * changes nothing, and a node appends only merges that raised its state:
 * propagation is transitive (a peer that learnt something passes it on)
 * and stops once every node holds it.
 *
 * Adding a record kind (list suppressions: item id, namespace, stamp,
 * suppress or unsuppress) is one value of enum rc_control_kind, its fields
 * in rc_control_rec, and its case in the PEER_SYNC codec (rc_peerwire.h)
 * and in rc_sync.c.
 *
 * Locking.  One mutex, a leaf: held only to copy records in or out.
 * Memory: capacity records allocated up front (outside --memory).
 */
#ifndef RECACHE_RC_CONTROL_H
#define RECACHE_RC_CONTROL_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "recache/rc_proto.h"

enum rc_control_kind {
    RC_CONTROL_VERSION = 1,  /* name = namespace, version */
    RC_CONTROL_TAG = 2,      /* name = tag, hard and any stamps */
    RC_CONTROL_SUPPRESS = 3, /* name = namespace, item, stamp, ttl_ms, suppressed */
};

/* One control record.  Names are copied in (the ring owns its bytes). */
typedef struct rc_control_rec {
    uint64_t seq; /* assigned by rc_control_append */
    uint8_t kind; /* enum rc_control_kind */
    uint8_t name_len;
    uint8_t name[RC_WIRE_MAX_NS]; /* RC_WIRE_MAX_NS == RC_WIRE_MAX_TAG_LEN == 255 */
    uint64_t version;             /* VERSION */
    uint64_t hard, any;           /* TAG */
    uint64_t item, stamp;         /* SUPPRESS */
    uint32_t ttl_ms;              /* SUPPRESS: remaining suppression time (0 = none) */
    uint8_t suppressed;           /* SUPPRESS: 1 suppressed, 0 unsuppressed */
} rc_control_rec;

typedef struct rc_control rc_control;

/* rc_control_create - an empty log of `capacity` (>= 1) records. */
rc_control *rc_control_create(uint32_t capacity);

/* rc_control_destroy - free the log (NULL is fine).  Nothing else may use it. */
void rc_control_destroy(rc_control *c);

/*
 * rc_control_append - copy *r in as the next record (its seq field is
 * ignored and assigned); the oldest record goes when the ring is full.
 * Returns the record's sequence number.  Any thread.
 */
uint64_t rc_control_append(rc_control *c, const rc_control_rec *r);

/* rc_control_version / rc_control_tag - append a VERSION / TAG record (name 1..255 bytes). */
uint64_t rc_control_version(rc_control *c, rc_slice ns, uint64_t version);
uint64_t rc_control_tag(rc_control *c, rc_slice tag, uint64_t hard, uint64_t any);

/* rc_control_suppress - append a SUPPRESS record: item of ns (un)suppressed at stamp. */
uint64_t rc_control_suppress(rc_control *c, rc_slice ns, uint64_t item, uint64_t stamp,
                             bool suppressed, uint32_t ttl_ms);

/*
 * rc_control_read - copy up to max records with sequence > after, oldest
 * first, into out; *n receives the count and *newest the newest sequence.
 * Returns 0, or RC_EMISS when the ring no longer holds every record after
 * `after`, or `after` is beyond the newest (a sequence of another
 * instance): the reader needs a snapshot.  Any thread.
 */
int rc_control_read(rc_control *c, uint64_t after, rc_control_rec *out, size_t max, size_t *n,
                    uint64_t *newest);

/* Numbers for STATS. */
typedef struct rc_control_totals {
    uint64_t newest;   /* sequence of the newest record */
    uint64_t oldest;   /* sequence of the oldest record still held (0 when empty) */
    uint32_t capacity; /* records the ring holds */
} rc_control_totals;

void rc_control_totals_get(rc_control *c, rc_control_totals *out);

#endif /* RECACHE_RC_CONTROL_H */
