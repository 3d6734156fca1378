/*
 * rc_store_lease.h - the store's leases: stale-while-revalidate and
 * server-side single flight, glued to the shards.
 *
 * Design.  A shard's lease table (rc_lease.h) lives under the shard lock,
 * so "judge the entry, then grant or park" (rc_store_lget) and "store the
 * value, then end the lease and release its readers" (rc_store_set)
 * exclude each other: a herd of readers produces exactly one lease, and no
 * reader can slip between a fill and the release of the readers parked
 * before it.  Lease records are charged to the shard (lease_bytes) and
 * cannot be evicted.  Calls that cancel or satisfy a lease hand the parked
 * readers they detached to the caller through a `woken` list, each with its
 * outcome; the caller (the service layer) answers them.
 *
 * Locking.  The _locked functions expect the shard's lock held.
 */
#ifndef RECACHE_RC_STORE_LEASE_H
#define RECACHE_RC_STORE_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "rc_shard.h"

/* rc__lease_free_locked - unlink l, give back its charge, wake its readers with outcome. */
void rc__lease_free_locked(rc_store *st, rc__shard *sh, rc_lease *l, uint8_t outcome,
                           rc_lease_waiter **woken);

/* rc__lease_cancel_locked - l can no longer be filled: promote its oldest reader, or free it. */
void rc__lease_cancel_locked(rc_store *st, rc__shard *sh, rc_lease *l, uint64_t now,
                             rc_lease_waiter **woken);

/* rc__lease_find_locked - the lease on t's key, or NULL. */
rc_lease *rc__lease_find_locked(rc__shard *sh, const rc__target *t);

/* rc__fill_check_locked - may a write carrying a lease token be stored (token, bump)? */
int rc__fill_check_locked(rc_store *st, const rc__target *t, rc_lease *l, const rc_store_write *w,
                          uint64_t now, rc_lease_waiter **woken);

/* rc__fill_reject_tag_locked - a fill tag was invalidated since the grant: cancel the lease. */
void rc__fill_reject_tag_locked(rc_store *st, const rc__target *t, rc_lease *l, uint64_t now,
                                rc_lease_waiter **woken);

/* rc__leases_clear_locked - free every lease of the shard and its bucket array (flush, destroy). */
void rc__leases_clear_locked(rc_store *st, rc__shard *sh, rc_lease_waiter **woken);

/* rc__leases_sweep_locked - expired leases: promote a parked reader, or free the record. */
void rc__leases_sweep_locked(rc_store *st, rc__shard *sh, uint64_t now, rc_lease_waiter **woken);

/* rc__lget, rc__unpark - rc_store_lget and rc_store_unpark, inside the reader stripe. */
int rc__lget(rc_store *st, const rc_store_key *key, const rc_store_lease_opts *opts,
             uint64_t now_ms, rc_value_sink sink, void *sink_ctx, rc_store_lease_read *out);
bool rc__unpark(rc_store *st, rc_lease_waiter *w, uint8_t outcome);

#endif /* RECACHE_RC_STORE_LEASE_H */
