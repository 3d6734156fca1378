/*
 * rc_service.h - the one place where a state change becomes visible.
 *
 * Design.  Every operation that changes what a reader or a near-cache may
 * see is three steps that must never be separated: the store call, the
 * event(s) subscribers hear about it, and the answers to parked lease
 * readers the call woke.  The data-port handlers (rc_ops), the server's
 * sweep timer and every later caller (admin port, anti-entropy, list
 * operations) call these functions instead of the store, so none of them
 * can forget an event or strand a parked reader.  Read-only operations go to
 * the store directly; they change nothing visible (a read's min_version
 * adoption is published through the store's on_version hook, which is set
 * to rc_svc_on_version).
 *
 * Events and the invalidation rule.  An invalidation is published whether
 * or not the node still held the key: a near-cache may hold a copy of an
 * entry the node has since evicted or expired, and it must hear about it.
 * So DELETE, INVALIDATE_KEY and TOUCH publish a KEY event on OK and on
 * MISS; INVALIDATE_TAG publishes TAG for every valid request; a stored SET
 * publishes KEY.  Each KEY event carries its cause in the event's text
 * ("set", "delete", "invalidate", "touch", "list-remove").  A list write
 * is a SET (cause "set"); an in-place removal publishes KEY (cause
 * "list-remove") on OK and on MISS, like an invalidation; SUPPRESS and
 * UNSUPPRESS publish their own event kinds carrying the item ids, which
 * near-caches apply to their cached lists.  The event is in the node's
 * log before the function returns, hence before the caller acknowledges
 * the request: a subscriber that has applied every event up to the node's
 * sequence number after an acknowledgement has applied that change.
 *
 * Control log.  Every change of the node's control state (a namespace
 * version moving, a tag invalidation, a peer's stamps raising ours) is
 * also appended to the control log (rc_control.h) here, after the store
 * call and before the function returns, so peers pull it (rc_peers.h).
 * Merges from peers come through rc_svc_merge_version / rc_svc_merge_tag
 * and publish the same events as the client requests they stand for: a
 * node reached only through gossip keeps its subscribers' near-caches as
 * coherent as one reached directly.
 *
 * Threads.  Any thread, with no store lock held.  `self` is the calling
 * worker (NULL on the main thread or another non-worker thread): parked
 * readers it owns are answered inline, the others are queued to their
 * owners (rc_park_deliver).
 */
#ifndef RECACHE_RC_SERVICE_H
#define RECACHE_RC_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc_server.h"
#include "rc_store.h"
#include "rc_store_list.h"

/*
 * rc_svc_set - rc_store_set, then (when stored) a KEY event and the answers
 * to the readers the write released (with the value, versions and the TTL
 * actually stored) or promoted.  Returns rc_store_set's result; *out as
 * there (out->woken is consumed and left NULL).
 */
int rc_svc_set(rc_server *srv, rc_worker *self, const rc_store_key *key, const rc_store_write *w,
               uint64_t now_ms, rc_store_write_result *out);

/* rc_svc_delete - rc_store_delete; a KEY event (cause "delete") on OK and on MISS. */
int rc_svc_delete(rc_server *srv, rc_worker *self, const rc_store_key *key, uint64_t now_ms,
                  uint64_t *ns_version);

/* rc_svc_touch - rc_store_touch; a KEY event (cause "touch") on OK and on MISS. */
int rc_svc_touch(rc_server *srv, const rc_store_key *key, uint32_t ttl_ms, uint64_t now_ms,
                 uint64_t *ns_version);

/* rc_svc_invalidate_key - rc_store_invalidate_key; a KEY event with the mode on OK and MISS. */
int rc_svc_invalidate_key(rc_server *srv, rc_worker *self, const rc_store_key *key, uint8_t mode,
                          uint64_t now_ms, uint64_t *ns_version);

/*
 * rc_svc_invalidate_tag - rc_store_invalidate_tag, a TAG event (always, for a
 * valid request) and a control-log record for the peers.  *stamp receives
 * the invalidation's HLC stamp.
 */
int rc_svc_invalidate_tag(rc_server *srv, rc_slice tag, uint8_t mode, uint64_t *stamp);

/* rc_svc_bump - rc_store_bump; a real move publishes BUMP through rc_svc_on_version. */
int rc_svc_bump(rc_server *srv, rc_slice ns, uint64_t to, uint64_t *version);

/* rc_svc_ns_configure - rc_store_ns_configure (settings are not near-cache state). */
int rc_svc_ns_configure(rc_server *srv, rc_slice ns, rc_slice settings, char *err, size_t errlen);

/* rc_svc_flush - rc_store_flush, a FLUSH event, and CANCELLED answers to every parked reader. */
void rc_svc_flush(rc_server *srv, rc_worker *self);

/*
 * rc_svc_sweep - rc_store_sweep, answering the readers promoted from
 * expired leases.  Returns the number of entries freed.
 */
size_t rc_svc_sweep(rc_server *srv, rc_worker *self, uint64_t now_ms, size_t budget);

/*
 * rc_svc_list_remove - rc_store_list_remove (ids sorted and deduplicated in
 * place), then a KEY event (cause "list-remove") on OK and on MISS, and the
 * answers to the reader the cancelled lease promoted.
 */
int rc_svc_list_remove(rc_server *srv, rc_worker *self, const rc_store_key *key, uint64_t *ids,
                       size_t n, uint64_t now_ms, rc_store_list_removal *out);

/*
 * rc_svc_suppress - rc_store_suppress (ids sorted and deduplicated in
 * place), then, when it succeeded, SUPPRESS events carrying every id
 * (RC_WIRE_MAX_IDS per event).
 */
int rc_svc_suppress(rc_server *srv, rc_slice ns, uint64_t *ids, size_t n, uint32_t ttl_ms,
                    uint64_t now_ms, rc_store_suppress_result *out);

/* rc_svc_unsuppress - rc_store_unsuppress, then UNSUPPRESS events carrying every id. */
int rc_svc_unsuppress(rc_server *srv, rc_slice ns, uint64_t *ids, size_t n, uint64_t now_ms,
                      rc_store_suppress_result *out);

/*
 * rc_svc_merge_version - a peer's namespace version: rc_store_bump(to =
 * version), a max.  A real move publishes BUMP and is appended to the
 * control log (through rc_svc_on_version); an older or equal version
 * changes nothing.  Returns 0, or the errors of rc_store_bump
 * (RC_EBAD_ARGUMENT for version 0 or above the maximum,
 * RC_ETOO_MANY_NAMESPACES, RC_EBAD_NAMESPACE).
 */
int rc_svc_merge_version(rc_server *srv, rc_slice ns, uint64_t version);

/*
 * rc_svc_merge_tag - a peer's stamps for a tag: rc_store_merge_tag (a max
 * per stamp, observed into the clock).  When a stamp went up, a TAG event
 * (hard when the hard stamp went up, else soft) and a control-log record
 * carrying the merged stamps; when nothing went up, nothing at all (so
 * gossip stops once every node holds the stamps).  *raised (may be NULL)
 * receives the RC_TAGS_RAISED_* bits.  Returns 0 or RC_ETAG_TOO_LONG (empty tag).
 */
int rc_svc_merge_tag(rc_server *srv, rc_slice tag, uint64_t hard, uint64_t any, unsigned *raised);

/*
 * rc_svc_merge_suppress - a peer's record for one item of ns: applied when
 * its stamp is later than the one held here (rc_store_suppress_merge); an
 * applied record publishes SUPPRESS or UNSUPPRESS (so near-caches filter,
 * exactly as for a request) and is appended to the control log, so it
 * travels on; *raised = 1 when applied.  Returns 0 or the store's error.
 */
int rc_svc_merge_suppress(rc_server *srv, rc_slice ns, uint64_t item, uint64_t stamp,
                          bool suppressed, uint32_t ttl_ms, unsigned *raised);

/*
 * rc_svc_on_version - the store's on_version hook (ctx = the server):
 * publishes BUMP and appends the version to the control log.
 */
void rc_svc_on_version(void *ctx, rc_slice ns, uint64_t version);

#endif /* RECACHE_RC_SERVICE_H */
