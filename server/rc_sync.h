/*
 * rc_sync.h - PEER_SYNC: one page of a node's control state, served and applied.
 *
 * Design.  A node answers PEER_SYNC (PROTOCOL.md) from its control log
 * (rc_control.h) when it can, else with a full snapshot of its control
 * state, one bounded page per request:
 *
 *   - request (seq = last sequence the asker applied from us, instance_id =
 *     the instance that sequence belongs to, cursor = 0): when the instance
 *     is ours and the log still holds every record after seq, a LOG page:
 *     those records (as many as fit), cursor 0, next = the sequence of the
 *     last record in the page.
 *   - otherwise, or when the asker continues a snapshot (cursor > 0 and
 *     our instance), a SNAPSHOT page: namespaces (version > 1) and then
 *     invalidated tags, in id order from the cursor; cursor = where the
 *     page started (1 = the beginning), next = where the next page starts,
 *     0 when the snapshot is complete.
 *
 * Every response carries our instance id.  A LOG page's seq is our newest
 * log sequence; a SNAPSHOT page's seq is where the asker goes on with the
 * log once the snapshot is complete: the sequence before the oldest record
 * our log still holds, read before the page is built.  So after a snapshot
 * the asker replays every record the log holds.  This is complete: records
 * up to that sequence are in the state listed (records are appended after
 * the state changed, and the state only grows), and the log still carries
 * the tag invalidations the snapshot cannot list (a tag no entry here
 * carries any more has no record to list).  Pages hold at most
 * RC_SYNC_PAGE_BYTES of records, so a response is bounded whatever the
 * state's size.

 * Applying a page (rc_sync_apply) goes through the service layer, record
 * by record, so merges publish events and feed our own control log.
 *
 * Threads.  Any thread, no store lock held.
 */
#ifndef RECACHE_RC_SYNC_H
#define RECACHE_RC_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "rc_server.h"

/* Most record bytes in one PEER_SYNC page. */
#define RC_SYNC_PAGE_BYTES (60u * 1024u)

/* Snapshot cursors: 1 + namespace id, then RC_SYNC_TAG_CURSOR + tag record id. */
#define RC_SYNC_TAG_CURSOR (UINT64_C(1) + 65536u)

/*
 * rc_sync_serve - build the PEER_SYNC response for req into resp (its
 * instance_id, seq, cursor, next and value fields; value points into buf,
 * which the caller owns and must keep until resp is encoded; cap >=
 * RC_SYNC_PAGE_BYTES).  Never fails: a request this node cannot continue
 * (another instance, a cursor past the end) is answered with a snapshot's
 * first page or its end.
 */
void rc_sync_serve(rc_server *srv, const rc_msg *req, rc_msg *resp, uint8_t *buf, size_t cap);

/* What applying one page did. */
typedef struct rc_sync_applied {
    uint64_t records;  /* records decoded and merged (known kinds) */
    uint64_t raised;   /* of which tag merges that raised a stamp here */
    uint64_t failed;   /* records the store refused (namespace limit, bad names) */
    uint64_t skipped;  /* records of kinds this node does not know */
    uint64_t ahead_ms; /* how far the furthest stamp was ahead of this node's wall clock */
} rc_sync_applied;

/* A peer stamp further ahead of our wall clock than this is logged (rc_peers.c). */
#define RC_SYNC_AHEAD_WARN_MS 1000u

/*
 * rc_sync_apply - merge every record of a PEER_SYNC value through the
 * service layer (rc_svc_merge_version, rc_svc_merge_tag).  Adds to *out.
 * Returns 0, or RC_EPROTOCOL for a malformed record (the records before it
 * were applied: every merge is idempotent, so a retry is harmless).
 */
int rc_sync_apply(rc_server *srv, rc_slice value, rc_sync_applied *out);

#endif /* RECACHE_RC_SYNC_H */
