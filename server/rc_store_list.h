/*
 * rc_store_list.h - the store's list operations: list shape checks, in-place
 * removal, read-time filtering, and namespace suppression sets.
 *
 * Design.  A list value is an ordinary entry whose value bytes are its
 * items in rank order, RC_ITEM_SIZE bytes each in their wire encoding
 * (rc_proto.h: u64 id, binary32 score), flagged as a list (rc_entry.h), so
 * a list costs exactly its entry (48 to 64 bytes of metadata, key, tags) plus 12
 * bytes per item, and everything the store does for entries (expiry,
 * stale windows, tags, conditions, leases, eviction, memory accounting)
 * applies to lists unchanged.  Lists are written with rc_store_set (w->kind
 * = RC_KIND_LIST) and read with rc_store_get / rc_store_lget (key->kind =
 * RC_KIND_LIST), which copy the whole stored list under the shard lock;
 * the caller then applies rc_store_list_filter (exclude set, suppression,
 * top N) with no shard lock held.
 *
 * Suppression.  Each namespace may own a suppression set (rc_suppress.h),
 * created on its first suppression.  A list read asks it once per item it
 * examines: O(1) per item whatever the number of lists or suppressions,
 * and nothing is done per list when an item is suppressed.  Every change is
 * stamped by the store's hybrid logical clock (rc_hlc.h) and the stamp is
 * kept in the record, so replicas can merge (rc_store_suppress_merge: the
 * later stamp wins).
 *
 * Memory.  A suppression set's record array is charged to one shard of the
 * store, chosen by the namespace id, before it is allocated, exactly like
 * a lease record: into shard->used (so `used <= budget` keeps holding and
 * the sum over shards stays under the memory limit) and
 * shard->suppress_bytes, the part the CLOCK hand cannot free.  To make room
 * the hand evicts that shard's entries; a set may use at most half of its
 * shard's budget, so the shard always keeps room for entries.  A change
 * that cannot be charged fails with RC_ENO_MEMORY and changes nothing.
 * Suppression sets survive FLUSH (like namespace versions, they are
 * control state, not cached data) and keep their namespace from being
 * reclaimed.
 *
 * Locking.  As rc_store.h: each call holds its thread's namespace reader
 * stripe; removal takes one shard lock; a suppression change takes the
 * set's write lock and, to charge a larger table, then one shard lock
 * (set lock before shard lock, never the reverse: filtering runs with no
 * shard lock held).
 */
#ifndef RECACHE_RC_STORE_LIST_H
#define RECACHE_RC_STORE_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "rc_store.h"

/* Default of rc_store_config.max_list_items when 0. */
#define RC_STORE_DEFAULT_LIST_ITEMS 1000u

/*
 * rc__list_check - the shape of a list value: a whole number of items
 * (else RC_EBAD_LIST), at most max_list_items of them (RC_ETOO_MANY_ITEMS,
 * checked before anything is allocated), distinct ids and finite scores
 * (RC_EBAD_LIST).  Allocates a bounded copy of the ids; no lock.
 */
int rc__list_check(const rc_store *st, const uint8_t *value, uint32_t len);

/* rc_ids_sort_unique - sort ids ascending and drop duplicates in place; returns the new count. */
size_t rc_ids_sort_unique(uint64_t *ids, size_t n);

/* rc_ids_contains - binary search in ids sorted by rc_ids_sort_unique. */
bool rc_ids_contains(const uint64_t *ids, size_t n, uint64_t id);

/* What an in-place removal did. */
typedef struct rc_store_list_removal {
    uint64_t ns_version;    /* version addressed (also on a miss) */
    uint64_t entry_version; /* of the list (unchanged by a removal) */
    uint32_t removed;       /* items removed */
} rc_store_list_removal;

/*
 * rc_store_list_remove - remove the items with the given ids (sorted and
 * deduplicated in place by this call) from key's list, under the shard
 * lock, keeping the others in rank order; the entry keeps its entry
 * version, TTL and tags, and its allocation (and charge) stays.  The key's
 * lease is cancelled (its oldest parked reader promoted through *woken),
 * as for an invalidation: a recomputation in flight may still hold a
 * removed item.  Returns 0 (also when no id was in the list), RC_EMISS (no
 * live entry; the lease is still cancelled), RC_EWRONG_KIND (a byte value:
 * nothing changes), RC_EBAD_ARGUMENT (no ids), RC_ETOO_MANY_ITEMS (more
 * ids than max_list_items), or rc__resolve's errors.
 */
int rc_store_list_remove(rc_store *st, const rc_store_key *key, uint64_t *ids, size_t n,
                         uint64_t now_ms, rc_store_list_removal *out, rc_lease_waiter **woken);

/*
 * rc_store_list_filter - compact n items at `items` (wire encoding) in
 * place to those a read of namespace ns may serve: not in exclude (sorted,
 * see rc_ids_sort_unique), not suppressed in ns at now_ms, and at most top
 * of them (0 = all), keeping rank order.  Returns the number kept; *hidden
 * (may be NULL) = items left out because they are suppressed.  Takes the
 * suppression set's read lock; call with no shard lock held.
 */
uint32_t rc_store_list_filter(rc_store *st, rc_slice ns, uint8_t *items, uint32_t n,
                              const uint64_t *exclude, size_t nexclude, uint32_t top,
                              uint64_t now_ms, uint32_t *hidden);

/* What a suppression change did. */
typedef struct rc_store_suppress_result {
    uint64_t stamp;    /* HLC stamp given to the change (and kept in its records) */
    uint32_t affected; /* ids newly suppressed (suppress) or no longer suppressed (unsuppress) */
} rc_store_suppress_result;

/*
 * rc_store_suppress - hide ids (sorted and deduplicated in place) from
 * every list of ns from now on, for ttl_ms (0 = until unsuppressed).
 * Creates the namespace.  All-or-nothing: RC_EBAD_ARGUMENT (no ids),
 * RC_EBAD_NAMESPACE, RC_ETOO_MANY_NAMESPACES, RC_ESUPPRESS_FULL (more than
 * max_suppressed ids would be suppressed), RC_ENO_MEMORY (the larger table
 * cannot be charged).
 */
int rc_store_suppress(rc_store *st, rc_slice ns, uint64_t *ids, size_t n, uint32_t ttl_ms,
                      uint64_t now_ms, rc_store_suppress_result *out);

/*
 * rc_store_unsuppress - stop suppressing ids (sorted and deduplicated in
 * place) in ns.  0 (also when none was suppressed; out->affected says how
 * many were), RC_EBAD_ARGUMENT (no ids), RC_EBAD_NAMESPACE.  Never
 * allocates and never creates the namespace.
 */
int rc_store_unsuppress(rc_store *st, rc_slice ns, uint64_t *ids, size_t n, uint64_t now_ms,
                        rc_store_suppress_result *out);

/*
 * rc_store_suppress_merge - apply one replicated suppression record (from
 * another node: id, its stamp, suppressed or not, remaining ttl_ms, 0 =
 * none) if its stamp is later than the one held here.  The local clock
 * observes the stamp first, so later local changes stamp above it.
 * Returns 1 applied, 0 already as late, or rc_store_suppress's errors.
 */
int rc_store_suppress_merge(rc_store *st, rc_slice ns, uint64_t id, uint64_t stamp, bool suppressed,
                            uint32_t ttl_ms, uint64_t now_ms);

/*
 * rc_store_suppressed - the live suppressions of ns as RC_SUPPRESSION_SIZE
 * wire records into buf (at most cap / RC_SUPPRESSION_SIZE).  Returns how
 * many, or RC_EMISS for an unknown namespace.  Size buf with
 * rc_store_suppressed_count (a set that grew meanwhile is cut at cap).
 */
long rc_store_suppressed(rc_store *st, rc_slice ns, uint64_t now_ms, uint8_t *buf, size_t cap);

/* rc_store_suppressed_count - suppressions ns holds (0 for an unknown namespace). */
uint64_t rc_store_suppressed_count(rc_store *st, rc_slice ns);

/* rc_store_suppressed_total - suppressions held across every namespace (STATS). */
uint64_t rc_store_suppressed_total(rc_store *st);

#endif /* RECACHE_RC_STORE_LIST_H */
