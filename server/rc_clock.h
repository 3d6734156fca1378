/*
 * rc_clock.h - a shard's CLOCK ring, its eviction hand and the reclaim pass.
 *
 * Design.  The ring is a circular array of entry pointers: head is the hand,
 * new entries are pushed at the tail with the reference bit clear (a hit
 * sets it; inserting does not).  Removing an entry elsewhere (delete,
 * replace, lazy expiry, sweep) leaves a NULL hole; every entry knows its
 * slot.  The hand pops the head: a hole is skipped, an obsolete entry is
 * freed (reclaimed), a referenced entry has its bit cleared and goes back
 * to the tail, anything else is evicted.  A full ring is compacted in
 * place when it holds enough holes, else doubled, else the hand frees an
 * entry.  A single-threaded trace therefore behaves as textbook CLOCK with
 * a capacity measured in bytes.
 *
 * Obsolete first, in bounded steps.  Entries expired past their stale
 * window, tombstones past their time, hard-invalidated entries and entries
 * of an older namespace version are obsolete.  Every bump, hard tag
 * invalidation and flush advances the store's obsolete generation; a shard
 * that sees a newer generation starts a reclaim pass over its whole ring,
 * and every time the hand must free room the pass first visits at most
 * RC__RECLAIM_STEP slots, freeing the obsolete entries there.  So the
 * deferred cost of an invalidation is paid a bounded step per eviction,
 * never as one scan of the ring under the lock, and obsolete entries still
 * go before live ones: the pass frees far more room per step than one
 * write needs.
 *
 * Locking.  Every function expects the shard's lock held.
 */
#ifndef RECACHE_RC_CLOCK_H
#define RECACHE_RC_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc_entry.h"

typedef struct rc__shard rc__shard;

typedef struct rc__ring {
    rc_entry **slots; /* NULL at holes and outside [head, head + len) */
    uint32_t cap;     /* power of two */
    uint32_t head;    /* the CLOCK hand */
    uint32_t len;     /* positions in use from head, holes included */
    uint32_t holes;
} rc__ring;

/* rc__ring_push_locked - append e at the tail; the caller made room (len < cap). */
void rc__ring_push_locked(rc__ring *r, rc_entry *e);

/* rc__ring_hole_locked - e leaves the ring outside the hand: its slot becomes a hole. */
void rc__ring_hole_locked(rc__ring *r, const rc_entry *e);

/* rc__count_reclaim_locked - count one obsolete entry freed (and an expiration if it expired). */
void rc__count_reclaim_locked(rc_store *st, rc__shard *sh, const rc_entry *e, enum rc__life life);

/* rc__reclaim_range_locked - free dead (and, if include_old, old-version) entries in a range. */
size_t rc__reclaim_range_locked(rc_store *st, rc__shard *sh, uint64_t now, uint32_t *pos,
                                size_t count, bool include_old);

/* rc__hand_free_one_locked - free one entry (reclaim step first); false when the shard is empty. */
bool rc__hand_free_one_locked(rc_store *st, rc__shard *sh, uint64_t now);

/* rc__ring_make_room_locked - guarantee one free ring position. */
void rc__ring_make_room_locked(rc_store *st, rc__shard *sh, size_t reserved, uint64_t now);

#endif /* RECACHE_RC_CLOCK_H */
