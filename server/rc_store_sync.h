/*
 * rc_store_sync.h - the store's side of anti-entropy between nodes.
 *
 * Design.  Peers exchange the store's control state (rc_control.h): every
 * namespace's current version and every tag's invalidation stamps.  A
 * version arrives through rc_store_bump(to = version), which is already a
 * max; this module adds the tag merge (a max per stamp, rc_tags_merge) and
 * the listings a full snapshot is made of.  Nothing here publishes events
 * or appends to the control log: the service layer (rc_svc_merge_*) does,
 * from what these calls report.
 *
 * Threads.  Any thread, no store lock held; each call holds its namespace
 * reader stripe or the tag table lock only for its own duration.
 */
#ifndef RECACHE_RC_STORE_SYNC_H
#define RECACHE_RC_STORE_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "rc_store.h"
#include "rc_tags.h"

/* A namespace's current version, as listed for a snapshot. */
typedef struct rc_ns_state {
    uint64_t version;
    uint8_t name_len;
    uint8_t name[RC_WIRE_MAX_NS];
} rc_ns_state;

/*
 * rc_store_merge_tag - merge a peer's stamps for tag (rc_tags_merge: both
 * observed into the store's clock; each raised to the max).  *raised
 * receives the RC_TAGS_RAISED_* bits of what went up (0: nothing new, e.g.
 * a record this node already had, or a tag longer than this node's
 * max-tag-len, which no entry here can carry).  Returns 0, or
 * RC_ETAG_TOO_LONG for an empty tag.  A raised hard stamp advances the
 * obsolete generation so the hand reclaims what it killed.
 */
int rc_store_merge_tag(rc_store *st, rc_slice tag, uint64_t hard, uint64_t any, unsigned *raised);

/*
 * rc_store_list_versions - copy the versions of up to max namespaces with
 * id >= *cursor whose version is above 1 (version 1 is every namespace's
 * start: nothing to tell) into out, and advance *cursor past the ids
 * examined.  Returns the count; the listing is complete when *cursor
 * reached rc_store_ns_id_limit().
 */
size_t rc_store_list_versions(rc_store *st, uint32_t *cursor, rc_ns_state *out, size_t max);

/* rc_store_ns_id_limit - one past the highest namespace id (cursor end of the listing). */
uint32_t rc_store_ns_id_limit(const rc_store *st);

/*
 * rc_store_list_tags - rc_tags_list over the store's tag table: the stamps
 * of up to max invalidated tags that some entry carries, from record id
 * *cursor on.  Complete when *cursor reached rc_store_tag_id_limit().
 */
size_t rc_store_list_tags(rc_store *st, uint32_t *cursor, rc_tag_state *out, size_t max);

/* rc_store_tag_id_limit - one past the highest tag record id handed out so far. */
uint32_t rc_store_tag_id_limit(rc_store *st);

/* rc_store_clock_now - a new stamp from the store's clock (for tests and reports). */
uint64_t rc_store_clock_now(rc_store *st);

/* rc_store_observe - make every later stamp of the store's clock greater than stamp. */
void rc_store_observe(rc_store *st, uint64_t stamp);

#endif /* RECACHE_RC_STORE_SYNC_H */
