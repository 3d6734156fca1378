/*
 * rc_budget.h - a shard's byte budget: what is charged, and making room.
 *
 * Design.  shard->used counts, for every entry, its allocation as
 * malloc_usable_size reports it plus rc_tags_charge() per tag reference;
 * the ring and bucket arrays as allocated (shard->structure: rc_array_usable,
 * page-rounded for the ones mapped on their own, rc_alloc.h); and lease
 * records (shard->lease_bytes) and suppression tables (shard->suppress_bytes,
 * rc_store_list.h).  The hand can free entries only, so structure +
 * lease_bytes + suppress_bytes is what no eviction can give back.  A write
 * estimates its charge before allocating (rc__alloc_estimate reproduces
 * glibc's usable size), and rc__reserve_locked lets the hand free entries
 * until the charge fits; it refuses, changing nothing, when even an empty
 * shard could not hold it.  Hence used <= budget for every shard after
 * every call, and the sum over shards never passes the memory limit.  The
 * ring and bucket arrays only shrink on flush, so a shard that once held
 * many small entries keeps that structure charged.
 *
 * Locking.  The _locked functions expect the shard's lock held.
 */
#ifndef RECACHE_RC_BUDGET_H
#define RECACHE_RC_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc_entry.h"

typedef struct rc__shard rc__shard;

/* rc__alloc_estimate - the usable size glibc malloc gives a request of n bytes. */
size_t rc__alloc_estimate(const rc_store *st, size_t n);

/* rc__account_locked - add (or remove) one entry's charge to its shard and namespace gauges. */
void rc__account_locked(rc_store *st, rc__shard *sh, const rc_entry *e, size_t charge, bool add);

/* rc__structure_charge_locked - account a change in ring or bucket array bytes. */
void rc__structure_charge_locked(rc__shard *sh, size_t add, size_t remove);

/* rc__reserve_locked - free entries until `bytes` more fit; false (nothing changed) if never. */
bool rc__reserve_locked(rc_store *st, rc__shard *sh, size_t bytes, uint64_t now);

#endif /* RECACHE_RC_BUDGET_H */
