/*
 * rc_index.h - a shard's hash index, grown incrementally.
 *
 * Design.  A chained hash table of entries (rc_entry.next) with incremental
 * growth: tables[0], plus tables[1] at twice the size while migrating.  A
 * few non-empty buckets move on every operation (and in the sweep); lookups
 * consult both tables meanwhile, so there is never a stop-the-world rehash.
 * Growth starts once entries outnumber buckets and the doubled array fits
 * the shard's budget; bucket arrays are charged to the shard as structure.
 *
 * Locking.  Every function expects the shard's lock held.
 */
#ifndef RECACHE_RC_INDEX_H
#define RECACHE_RC_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "rc_entry.h"

typedef struct rc__shard rc__shard;
typedef struct rc__target rc__target;

typedef struct rc__table {
    rc_entry **buckets;
    size_t mask; /* bucket count - 1 (a power of two minus one) */
} rc__table;

/* rc__index_find_locked - the entry for t, or NULL. */
rc_entry *rc__index_find_locked(const rc__shard *sh, const rc__target *t);

/* rc__index_insert_locked - link e (not indexed yet, with index hash `hash`) into the current
 * table. */
void rc__index_insert_locked(rc__shard *sh, rc_entry *e, uint64_t hash);

/* rc__index_unlink_locked - remove e (indexed) from its chain. */
void rc__index_unlink_locked(rc__shard *sh, rc_entry *e);

/* rc__index_replace_locked - put fresh where old is in its chain (same hash). */
void rc__index_replace_locked(rc__shard *sh, rc_entry *old, rc_entry *fresh);

/* rc__index_migrate_locked - one bounded migration step (see rc_index.c). */
void rc__index_migrate_locked(rc__shard *sh, unsigned buckets);

/* rc__index_maybe_grow_locked - start a migration to a doubled table when due and affordable. */
void rc__index_maybe_grow_locked(rc_store *st, rc__shard *sh, uint64_t now);

#endif /* RECACHE_RC_INDEX_H */
