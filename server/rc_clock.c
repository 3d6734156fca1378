/*
 * rc_clock.c - the CLOCK ring, the hand and the reclaim pass (see rc_clock.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "rc_shard.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "rc_alloc.h"

static void rc__ring_place(rc__ring *r, uint32_t pos, rc_entry *e)
{
    r->slots[pos] = e;
    e->ring_slot = pos;
}

/* rc__ring_push_locked - append e at the tail; the caller made room (len < cap). */
void rc__ring_push_locked(rc__ring *r, rc_entry *e)
{
    rc__ring_place(r, (r->head + r->len) & (r->cap - 1u), e);
    r->len++;
}

/* rc__ring_pop_locked - take the slot under the hand (NULL for a hole) and advance. */
static rc_entry *rc__ring_pop_locked(rc__ring *r)
{
    rc_entry *e = r->slots[r->head];
    r->slots[r->head] = NULL;
    r->head = (r->head + 1u) & (r->cap - 1u);
    r->len--;
    if (!e)
        r->holes--;
    return e;
}

/* rc__ring_hole_locked - e leaves the ring outside the hand: its slot becomes a hole. */
void rc__ring_hole_locked(rc__ring *r, const rc_entry *e)
{
    r->slots[e->ring_slot] = NULL;
    r->holes++;
}

/*
 * rc__ring_compact_locked - squeeze the holes out in place, keeping order
 * and the hand position.  The write position never passes the read
 * position, so no entry is overwritten before it is moved.  The SIEVE hand
 * (an offset from head) is moved to the same entry.
 */
static void rc__ring_compact_locked(rc__shard *sh)
{
    rc__ring *r = &sh->ring;
    uint32_t mask = r->cap - 1u, kept = 0, hand = 0;
    for (uint32_t i = 0; i < r->len; i++) {
        if (i == sh->sieve_off)
            hand = kept;
        rc_entry *e = r->slots[(r->head + i) & mask];
        if (e) {
            r->slots[(r->head + i) & mask] = NULL;
            rc__ring_place(r, (r->head + kept) & mask, e);
            kept++;
        }
    }
    sh->sieve_off = sh->sieve_off < r->len ? hand : kept;
    r->len = kept;
    r->holes = 0;
}

/*
 * rc__ring_grow_locked - double the ring (compacting it and renumbering
 * slots) if the new array fits the budget with `reserved` bytes still set
 * aside for a pending entry.  Returns false, changing nothing, if it does not.
 */
static bool rc__ring_grow_locked(rc_store *st, rc__shard *sh, size_t reserved)
{
    rc__ring *r = &sh->ring;
    size_t old_size = (size_t)r->cap * sizeof(rc_entry *);
    size_t old_bytes = rc_array_usable(r->slots, old_size);
    size_t new_count = 2u * (size_t)r->cap, new_size = new_count * sizeof(rc_entry *);
    if (new_count > UINT32_MAX ||
        sh->used + reserved - old_bytes + rc_array_estimate(new_size, st->page_size) > sh->budget)
        return false;
    rc_entry **slots = rc_xcalloc_array(new_size);
    size_t new_bytes = rc_array_usable(slots, new_size);
    if (sh->used + reserved - old_bytes + new_bytes > sh->budget) {
        rc_array_free(slots, new_size);
        return false;
    }
    uint32_t kept = 0, hand = 0;
    for (uint32_t i = 0; i < r->len; i++) {
        if (i == sh->sieve_off)
            hand = kept;
        rc_entry *e = r->slots[(r->head + i) & (r->cap - 1u)];
        if (e) {
            slots[kept] = e;
            e->ring_slot = kept++;
        }
    }
    sh->sieve_off = sh->sieve_off < r->len ? hand : kept;
    rc_array_free(r->slots, old_size);
    rc__structure_charge_locked(sh, new_bytes, old_bytes);
    r->slots = slots;
    r->cap = (uint32_t)new_count;
    r->head = 0;
    r->len = kept;
    r->holes = 0;
    return true;
}

/* rc__count_reclaim_locked - count one obsolete entry freed (and an expiration if it expired). */
void rc__count_reclaim_locked(rc_store *st, rc__shard *sh, const rc_entry *e, enum rc__life life)
{
    sh->reclaimed++;
    if (life == RC__DEAD_EXPIRED)
        rc_ns_count(rc__entry_ns(st, e), sh->stripe, RC_NS_CTR_EXPIRATIONS, 1);
}

/*
 * rc__reclaim_range_locked - visit `count` ring slots from *pos (wrapping),
 * freeing dead entries and, when include_old is set, entries of older
 * namespace versions: hard-invalidated ones of the current version are
 * buried, the rest dropped.  Reference bits are not touched.  Advances *pos
 * and returns the number of entries freed.  Old versions are only taken
 * under memory pressure (include_old) because they stay readable by
 * explicit version until the evictor needs their room.
 */
size_t rc__reclaim_range_locked(rc_store *st, rc__shard *sh, uint64_t now, uint32_t *pos,
                                size_t count, bool include_old)
{
    rc__ring *r = &sh->ring;
    uint32_t p = *pos & (r->cap - 1u);
    size_t freed = 0;
    if (count > r->cap)
        count = r->cap;
    for (size_t i = 0; i < count; i++, p = (p + 1u) & (r->cap - 1u)) {
        rc_entry *e = r->slots[p];
        if (!e)
            continue;
        enum rc__life life = rc__judge(st, e, now);
        bool old = include_old && rc__is_old_version(st, e);
        if (!rc__is_dead(life) && !old)
            continue;
        rc__count_reclaim_locked(st, sh, e, life);
        if (life == RC__DEAD_HARD && !old)
            rc__entry_bury_locked(st, sh, e, now);
        else
            rc__entry_drop_locked(st, sh, e);
        freed++;
    }
    *pos = p;
    return freed;
}

/*
 * rc__reclaim_step_locked - the "obsolete first" rule, in bounded steps.  A
 * bump, hard tag invalidation or flush advances st->obsolete_gen; a shard
 * that sees a newer generation (re)starts a reclaim pass covering its whole
 * ring (continuing from where an unfinished pass stood, so every slot is
 * visited after the newest change).  Each call visits at most `budget` ring
 * slots of the pass, freeing obsolete entries (dead, hard-invalidated,
 * older namespace version), so an invalidation's deferred cost is spread
 * over later operations at a bounded price each, never one full scan under
 * the shard lock.  Returns the number of entries freed.
 */
static size_t rc__reclaim_step_locked(rc_store *st, rc__shard *sh, uint64_t now, size_t budget)
{
    uint64_t gen = atomic_load_explicit(&st->obsolete_gen, memory_order_acquire);
    if (gen != sh->reclaim_gen) {
        sh->reclaim_gen = gen;
        if (sh->reclaim_left == 0)
            sh->reclaim_pos = sh->ring.head;
        sh->reclaim_left = sh->ring.cap;
    }
    if (sh->reclaim_left == 0)
        return 0;
    size_t count = budget < sh->reclaim_left ? budget : sh->reclaim_left;
    sh->reclaim_left -= (uint32_t)count;
    if (count > sh->reclaim_scan_max)
        sh->reclaim_scan_max = count;
    return rc__reclaim_range_locked(st, sh, now, &sh->reclaim_pos, count, true);
}

/* rc__reclaim_restart_locked - the ring was renumbered: an active pass starts over at the hand. */
static void rc__reclaim_restart_locked(rc__shard *sh)
{
    if (sh->reclaim_left == 0)
        return;
    sh->reclaim_pos = sh->ring.head;
    sh->reclaim_left = sh->ring.cap;
}

/*
 * rc__hand_free_one_locked - run the CLOCK hand until one entry is freed:
 * holes are skipped, obsolete entries reclaimed, referenced entries get a
 * second chance at the tail, and the first unreferenced live entry is
 * evicted.  Returns false only when the shard holds no entry.
 */
/* rc__ring_trim_locked - drop the holes at the oldest end, keeping the SIEVE hand on its entry. */
static void rc__ring_trim_locked(rc__shard *sh)
{
    rc__ring *r = &sh->ring;
    while (r->len > 0 && r->slots[r->head] == NULL) {
        rc__ring_pop_locked(r);
        if (sh->sieve_off > 0)
            sh->sieve_off--;
    }
}

/*
 * rc__sieve_free_one_locked - SIEVE (NSDI 2024): entries stay in insertion
 * order; the hand walks from the oldest toward the newest (wrapping), a
 * referenced entry has its bit cleared and stays where it is, and the first
 * unreferenced (or obsolete) entry is freed in place.  Two passes clear
 * every bit, so the walk is bounded.  Returns false only for an empty shard.
 */
static bool rc__sieve_free_one_locked(rc_store *st, rc__shard *sh, uint64_t now)
{
    rc__ring *r = &sh->ring;
    for (uint64_t steps = 0; r->len > 0 && steps <= 2u * (uint64_t)r->len; steps++) {
        if (sh->sieve_off >= r->len)
            sh->sieve_off = 0;
        rc_entry *e = r->slots[(r->head + sh->sieve_off) & (r->cap - 1u)];
        sh->sieve_off++;
        if (!e)
            continue;
        enum rc__life life = rc__judge(st, e, now);
        if (rc__is_dead(life) || rc__is_old_version(st, e)) {
            rc__count_reclaim_locked(st, sh, e, life);
        } else if (e->flags & RC__REFERENCED) {
            e->flags &= (uint8_t)~RC__REFERENCED;
            continue;
        } else {
            sh->evictions++;
            rc_ns_count(rc__entry_ns(st, e), sh->stripe, RC_NS_CTR_EVICTIONS, 1);
        }
        rc__entry_drop_locked(st, sh, e);
        rc__ring_trim_locked(sh);
        return true;
    }
    return false;
}

bool rc__hand_free_one_locked(rc_store *st, rc__shard *sh, uint64_t now)
{
    if (rc__reclaim_step_locked(st, sh, now, RC__RECLAIM_STEP) > 0)
        return true;
    if (st->cfg.eviction == RC_EVICT_SIEVE)
        return rc__sieve_free_one_locked(st, sh, now);
    rc__ring *r = &sh->ring;
    while (r->len > 0) {
        rc_entry *e = rc__ring_pop_locked(r);
        if (!e)
            continue;
        enum rc__life life = rc__judge(st, e, now);
        if (rc__is_dead(life) || rc__is_old_version(st, e)) {
            rc__count_reclaim_locked(st, sh, e, life);
        } else if (e->flags & RC__REFERENCED) {
            e->flags &= (uint8_t)~RC__REFERENCED;
            rc__ring_push_locked(r, e);
            continue;
        } else {
            sh->evictions++;
            rc_ns_count(rc__entry_ns(st, e), sh->stripe, RC_NS_CTR_EVICTIONS, 1);
        }
        rc__index_unlink_locked(sh, e);
        rc__entry_release_locked(st, sh, e);
        return true;
    }
    return false;
}

/*
 * rc__ring_make_room_locked - guarantee one free ring position: compact if
 * holes are plentiful, else grow if the budget allows (with `reserved` bytes
 * set aside), else compact whatever holes exist, else let the hand free an
 * entry.
 */
void rc__ring_make_room_locked(rc_store *st, rc__shard *sh, size_t reserved, uint64_t now)
{
    rc__ring *r = &sh->ring;
    while (r->len == r->cap) {
        if (r->holes > 0 && r->holes >= r->cap / 8u) {
            rc__ring_compact_locked(sh);
            rc__reclaim_restart_locked(sh);
        } else if (rc__ring_grow_locked(st, sh, reserved)) {
            rc__reclaim_restart_locked(sh);
        } else if (r->holes > 0) {
            rc__ring_compact_locked(sh);
            rc__reclaim_restart_locked(sh);
        } else {
            rc__hand_free_one_locked(st, sh, now);
        }
    }
}
