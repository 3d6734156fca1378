/*
 * rc_budget.c - a shard's byte budget (see rc_budget.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "rc_shard.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "rc_alloc.h"

static size_t rc__round_up(size_t n, size_t to)
{
    return (n + to - 1u) / to * to;
}

/*
 * rc__alloc_estimate - the usable size glibc malloc gives a request of n
 * bytes: chunks are n + one size word rounded up to 16 (minimum four words),
 * of which all but the size word is usable; requests past the mmap threshold
 * may instead get whole pages minus two words.  Other allocators are handled
 * by the check after allocation, so this only needs to be right on the
 * platform we ship on to make eviction exact.  (glibc may still return a
 * chunk up to 16 bytes larger when it recycles a free one without splitting
 * it; the same check covers that.)
 */
size_t rc__alloc_estimate(const rc_store *st, size_t n)
{
    const size_t word = sizeof(size_t);
    size_t usable = rc_alloc_heap_usable(n);
    if (n >= RC__MMAP_THRESHOLD) {
        size_t mapped = rc__round_up(usable + 2u * word, st->page_size) - 2u * word;
        if (mapped > usable)
            usable = mapped;
    }
    return usable;
}

/* rc__account_locked - add (or remove) one entry's charge to its shard and namespace gauges. */
void rc__account_locked(rc_store *st, rc__shard *sh, const rc_entry *e, size_t charge, bool add)
{
    rc_ns *ns = rc__entry_ns(st, e);
    if (add) {
        sh->used += charge;
        sh->entries++;
        rc_ns_count(ns, sh->stripe, RC_NS_CTR_ENTRIES, 1);
        rc_ns_count(ns, sh->stripe, RC_NS_CTR_BYTES, charge);
    } else {
        sh->used -= charge;
        sh->entries--;
        rc_ns_count(ns, sh->stripe, RC_NS_CTR_ENTRIES, (uint64_t)-1);
        rc_ns_count(ns, sh->stripe, RC_NS_CTR_BYTES, (uint64_t)0 - charge);
    }
}

/* rc__structure_charge_locked - account a change in ring or bucket array bytes. */
void rc__structure_charge_locked(rc__shard *sh, size_t add, size_t remove)
{
    sh->used = sh->used + add - remove;
    sh->structure = sh->structure + add - remove;
}

/*
 * rc__reserve_locked - free entries until `bytes` more fit the budget.
 * Returns false, changing nothing, when they would not fit even in an empty
 * shard (the ring and bucket arrays stay).
 */
bool rc__reserve_locked(rc_store *st, rc__shard *sh, size_t bytes, uint64_t now)
{
    if (sh->structure + sh->lease_bytes + sh->suppress_bytes + bytes > sh->budget)
        return false;
    while (sh->used + bytes > sh->budget)
        if (!rc__hand_free_one_locked(st, sh, now))
            return false;
    return true;
}
