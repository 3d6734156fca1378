/*
 * rc_shard.c - entry life cycle within a shard, shard structure (see rc_shard.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "rc_shard.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rc_alloc.h"
#include "rc_store_lease.h"

static uint64_t rc__splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/*
 * rc__random - xorshift64* on a thread-local state, seeded lazily from the
 * clock and the state's address (distinct per thread).  Jitter only needs
 * spreading, not unpredictability, and a per-thread state needs no lock.
 */
void rc__count_served_age(rc_ns *ns, unsigned stripe, uint64_t written)
{
    uint64_t now = rc_hlc_wall_ms(), at = rc_hlc_ms(written);
    rc_ns_observe_age(ns, stripe, now > at ? now - at : 0);
}

uint64_t rc__random(void)
{
    static _Thread_local uint64_t state;
    if (state == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        state = rc__splitmix((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
                             (uint64_t)(uintptr_t)&state) |
                1u;
    }
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545f4914f6cdd1dull;
}

rc_ns *rc__entry_ns(const rc_store *st, const rc_entry *e)
{
    return rc_ns_by_id(st->namespaces, e->ns_id);
}

/*
 * rc__entry_release_locked - give back everything e holds (tag references,
 * its charge, the namespace gauges) and free it.  e must already be out of
 * the index and the ring.
 */
void rc__entry_release_locked(rc_store *st, rc__shard *sh, rc_entry *e)
{
    size_t charge = rc_alloc_usable(e);
    if (e->ntags)
        charge += rc_tags_release(st->tags, rc__entry_tags(e), e->ntags);
    rc__account_locked(st, sh, e, charge, false);
    free(e);
}

/* rc__entry_drop_locked - remove e from the index and the ring (a hole) and release it. */
void rc__entry_drop_locked(rc_store *st, rc__shard *sh, rc_entry *e)
{
    rc__index_unlink_locked(sh, e);
    rc__ring_hole_locked(&sh->ring, e);
    rc__entry_release_locked(st, sh, e);
}

/*
 * rc__entry_bury_locked - replace e by a tombstone that keeps e's version
 * until now + tombstone_ms, in e's chain position and ring slot.  Without a
 * version, with tombstones disabled, or if the tombstone would take the
 * shard past its budget, e is simply dropped.  Returns the tombstone or NULL.
 */
rc_entry *rc__entry_bury_locked(rc_store *st, rc__shard *sh, rc_entry *e, uint64_t now)
{
    if (rc__entry_version(e) == 0 || st->cfg.tombstone_ms == 0) {
        rc__entry_drop_locked(st, sh, e);
        return NULL;
    }
    size_t freed = rc_alloc_usable(e);
    rc_entry *t = rc_xmalloc(rc__entry_size(true, e->key_len, 0, 0));
    size_t charge = rc_alloc_usable(t);
    /* The allocator may hand out a slightly larger chunk than the entry had;
     * the tombstone is worth keeping whenever the budget still holds. */
    if (charge > freed && sh->used - freed + charge > sh->budget) {
        free(t);
        rc__entry_drop_locked(st, sh, e);
        return NULL;
    }
    /* A versioned entry has its optional header part: the tombstone keeps only its version. */
    memcpy(t, e, sizeof(rc_entry));
    rc__entry_ext x = {.entry_version = rc__entry_version(e)};
    memcpy(t + 1, &x, sizeof(x));
    t->expire_ms = now + st->cfg.tombstone_ms;
    t->value_len = 0;
    t->ntags = 0;
    t->flags = RC__TOMBSTONE | RC__EXT;
    memcpy(rc__entry_key(t), rc__entry_key_of(e), e->key_len);
    rc__index_replace_locked(sh, e, t);
    sh->ring.slots[e->ring_slot] = t;
    rc__entry_release_locked(st, sh, e);
    rc__account_locked(st, sh, t, charge, true);
    return t;
}

/*
 * rc__settle_locked - judge the entry a request found and clean up what must
 * not be served: entries dead by expiry and expired tombstones are dropped,
 * hard-invalidated entries are buried.  *ep becomes what remains (a live
 * entry, a tombstone or NULL); returns FRESH, STALE, TOMB or ABSENT.
 */
static enum rc__life rc__settle_locked(rc_store *st, rc__shard *sh, rc_entry **ep, uint64_t now)
{
    rc_entry *e = *ep;
    if (!e)
        return RC__ABSENT;
    enum rc__life life = rc__judge(st, e, now);
    if (!rc__is_dead(life))
        return life;
    rc__count_reclaim_locked(st, sh, e, life);
    if (life == RC__DEAD_HARD) {
        *ep = rc__entry_bury_locked(st, sh, e, now);
        return *ep ? RC__TOMB : RC__ABSENT;
    }
    rc__entry_drop_locked(st, sh, e);
    *ep = NULL;
    return RC__ABSENT;
}

/*
 * rc__lock_and_find - take t's shard lock (the caller releases it), advance
 * its incremental rehash, and find and settle the key's entry: *ep is what
 * remains servable or a tombstone (NULL otherwise), and the return value
 * its state.
 */
enum rc__life rc__lock_and_find(rc_store *st, const rc__target *t, uint64_t now, rc_entry **ep)
{
    rc__shard *sh = t->shard;
    pthread_mutex_lock(&sh->lock);
    rc__index_migrate_locked(sh, RC__MIGRATE_BUCKETS);
    *ep = rc__index_find_locked(sh, t);
    return rc__settle_locked(st, sh, ep, now);
}

/* rc__serve_locked - a hit: metadata into out, the value through the sink, the reference bit set.
 */
void rc__serve_locked(rc_entry *e, enum rc__life life, uint64_t now, rc_value_sink sink,
                      void *sink_ctx, rc_store_read *out)
{
    rc__read_fill(e, life, now, out);
    uint8_t *dst = sink ? sink(sink_ctx, e->value_len) : NULL;
    if (dst && e->value_len)
        memcpy(dst, rc__entry_value(e), e->value_len);
    e->flags |= RC__REFERENCED;
}

/* rc__shard_init_structure - fresh, empty initial bucket array and ring, charged. */
void rc__shard_init_structure(rc__shard *sh)
{
    memset(sh->tables, 0, sizeof(sh->tables));
    sh->tables[0].buckets = rc_xcalloc_array(RC__INITIAL_SLOTS * sizeof(rc_entry *));
    sh->tables[0].mask = RC__INITIAL_SLOTS - 1u;
    sh->rehashing = false;
    sh->rehash_pos = 0;
    memset(&sh->ring, 0, sizeof(sh->ring));
    sh->ring.slots = rc_xcalloc_array(RC__INITIAL_SLOTS * sizeof(rc_entry *));
    sh->ring.cap = RC__INITIAL_SLOTS;
    sh->sweep_pos = 0;
    sh->reclaim_pos = 0;
    sh->reclaim_left = 0;
    sh->sieve_off = 0;
    sh->structure = rc_array_usable(sh->tables[0].buckets, RC__INITIAL_SLOTS * sizeof(rc_entry *)) +
                    rc_array_usable(sh->ring.slots, RC__INITIAL_SLOTS * sizeof(rc_entry *));
    sh->used += sh->structure;
}

/* rc__shard_clear_locked - free every entry and the structure arrays (left unallocated). */
void rc__shard_clear_locked(rc_store *st, rc__shard *sh)
{
    rc__ring *r = &sh->ring;
    for (uint32_t i = 0; i < r->cap; i++)
        if (r->slots[i])
            rc__entry_release_locked(st, sh, r->slots[i]);
    rc_array_free(r->slots, (size_t)r->cap * sizeof(rc_entry *));
    for (int i = 0; i < 2; i++)
        if (sh->tables[i].buckets)
            rc_array_free(sh->tables[i].buckets, (sh->tables[i].mask + 1u) * sizeof(rc_entry *));
    sh->used -= sh->structure;
    sh->structure = 0;
}
