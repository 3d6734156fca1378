/*
 * rc_store.c - the sharded store (contract and overview in rc_store.h).
 *
 * Entries.  One allocation per entry: a 64-byte metadata struct (rc_entry),
 * then the key bytes padded to 4, then ntags (tag id, epoch snapshot) pairs,
 * then the value.  The full 64-bit hash is kept so buckets can be migrated
 * without rehashing keys: the shard comes from its high bits, the bucket
 * from its low bits.  A tombstone is an entry with no tags and no value that
 * remembers a deleted entry's version until expire_ms.
 *
 * Shards.  Each shard has a mutex, a chained hash index with incremental
 * growth (tables[0], plus tables[1] at twice the size while migrating; a few
 * buckets move on every operation and in sweep, lookups consult both), a
 * CLOCK ring and a byte budget (memory_limit / nshards).
 *
 * Memory accounting.  shard->used counts, for every entry, its allocation as
 * malloc_usable_size reports it plus rc_tags_charge() per tag reference, and
 * the ring and bucket arrays as allocated.  A write estimates its charge
 * before allocating (rc__alloc_estimate reproduces glibc's usable size), lets
 * the hand free entries until used + estimate fits the budget, allocates,
 * and charges the real size; should the allocator hand out more than the
 * estimate, it evicts further or gives the block back (RC_ENO_MEMORY).  Ring
 * and bucket growth are charged the same way and skipped when they do not
 * fit.  Hence used <= budget for every shard after every call, and the sum
 * over shards never passes memory_limit.  A write that cannot fit even with
 * the shard empty fails with RC_ENO_MEMORY before anything changes.  The
 * ring and bucket arrays only shrink on flush, so a shard that once held
 * many small entries keeps that structure charged.
 *
 * CLOCK.  The ring is a circular array of entry pointers: head is the hand,
 * new entries are pushed at the tail with the reference bit clear (a hit
 * sets it; inserting does not).  Removing an entry elsewhere (delete,
 * replace, lazy expiry, sweep) leaves a NULL hole; every entry knows its
 * slot.  The hand pops the head: a hole is skipped, an obsolete entry is
 * freed (reclaimed), a referenced entry has its bit cleared and goes back to
 * the tail, anything else is evicted.  A full ring is compacted in place
 * when it holds enough holes, else doubled (compacting and renumbering
 * slots), else - if the budget forbids growing - the hand frees an entry.
 * A single-threaded trace therefore behaves as textbook CLOCK with a
 * capacity measured in bytes.
 *
 * Obsolete first.  Entries expired past their stale window, tombstones past
 * their time, hard-invalidated entries and entries of a namespace version
 * older than the current one are obsolete.  st->obsolete_gen is incremented
 * by every bump, hard tag invalidation and flush; each shard remembers the
 * generation of its last full reclaim pass.  Before the hand frees anything
 * it checks the generation and, if the shard is behind, runs one full pass
 * over its ring freeing every obsolete entry.  So within one shard no current
 * entry is evicted while an entry made obsolete by a bump or an invalidation
 * remains.  The guarantee is per shard, because budgets are per shard.
 *
 * Tombstones.  Deleting or hard-invalidating a versioned entry (including
 * one found hard-invalidated through a tag by a request, the sweep or a full
 * pass) leaves a tombstone in its place for tombstone_ms, unless tombstones
 * are disabled (0) or the tombstone would not fit where the entry was.  Only
 * the hand under memory pressure frees such entries outright: eviction
 * forgets versions just as it forgets values.
 *
 * Locking.  A shard's mutex protects its index, ring, counters and every
 * entry it holds.  No call holds two shard locks; under a shard lock the
 * code may take the tag table lock (a leaf) and call the value sink, and
 * nothing else.  Namespace lookups and tag epoch reads are lock-free.
 */
#define _POSIX_C_SOURCE 200809L
#include "rc_store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rc_alloc.h"
#include "rc_hash.h"
#include "rc_ns.h"
#include "rc_tags.h"

#define RC__MAX_SHARDS      4096u
#define RC__AUTO_MAX_SHARDS 256u
#define RC__INITIAL_SLOTS   16u /* initial buckets per table and ring slots per shard */
#define RC__MIGRATE_BUCKETS 4u  /* non-empty buckets migrated per operation */
#define RC__MIGRATE_VISITS  64u /* bucket visits per migration step, empty or not */
#define RC__RECLAIM_STEP    64u /* ring slots a reclaim pass visits per eviction */
#define RC__MMAP_THRESHOLD  (128u * 1024u)
#define RC__STRUCTURE_SHARE (2u * sizeof(void *)) /* ring + bucket bytes per entry, nominal */

/* ---- entries ------------------------------------------------------------- */

enum rc__entry_flag {
    RC__TOMBSTONE = 1u,  /* no value: remembers entry_version until expire_ms */
    RC__SOFT = 2u,       /* soft-invalidated: never fresh again */
    RC__REFERENCED = 4u, /* CLOCK reference bit, set by hits */
};

typedef struct rc_entry {
    struct rc_entry *next;  /* hash chain */
    uint64_t hash;          /* of (ns id, ns version, key) */
    uint64_t ns_version;    /* namespace version the entry belongs to */
    uint64_t entry_version; /* writer-stamped; 0 = unversioned */
    uint64_t expire_ms;     /* absolute; 0 = never.  Tombstones: end of life */
    uint32_t ring_slot;     /* physical index in the shard's ring */
    uint32_t value_len;
    uint32_t client_flags;
    uint32_t stale_ms; /* stale window after expire_ms */
    uint16_t key_len;
    uint16_t ns_id;
    uint8_t ntags;
    uint8_t flags; /* enum rc__entry_flag */
} rc_entry;

_Static_assert(sizeof(rc_entry) <= 64, "entry metadata must fit in one cache line");

static size_t rc__align4(size_t n)
{
    return (n + 3u) & ~(size_t)3u;
}

static size_t rc__entry_size(size_t key_len, size_t ntags, size_t value_len)
{
    return sizeof(rc_entry) + rc__align4(key_len) + ntags * sizeof(rc_tag_ref) + value_len;
}

static uint8_t *rc__entry_key(rc_entry *e)
{
    return (uint8_t *)(e + 1);
}

static rc_tag_ref *rc__entry_tags(rc_entry *e)
{
    return (rc_tag_ref *)(void *)(rc__entry_key(e) + rc__align4(e->key_len));
}

static uint8_t *rc__entry_value(rc_entry *e)
{
    return (uint8_t *)(rc__entry_tags(e) + e->ntags);
}

/* What a judgement finds: servable, a tombstone, dead (to be freed), or nothing. */
enum rc__life {
    RC__FRESH,
    RC__STALE,
    RC__TOMB,
    RC__ABSENT,
    RC__DEAD_EXPIRED, /* past expiry + stale window */
    RC__DEAD_HARD,    /* a tag was hard-invalidated after the write */
    RC__DEAD_TOMB,    /* tombstone past its time */
};

/* ---- shards and the store ------------------------------------------------ */

typedef struct rc__table {
    rc_entry **buckets;
    size_t mask; /* bucket count - 1 (a power of two minus one) */
} rc__table;

typedef struct rc__ring {
    rc_entry **slots; /* NULL at holes and outside [head, head + len) */
    uint32_t cap;     /* power of two */
    uint32_t head;    /* the CLOCK hand */
    uint32_t len;     /* positions in use from head, holes included */
    uint32_t holes;
} rc__ring;

typedef struct rc__shard {
    /* Protects every field below and every entry in this shard's index and ring. */
    _Alignas(64) pthread_mutex_t lock;
    rc__table tables[2]; /* [1] is the doubled table while migrating */
    size_t rehash_pos;   /* next bucket of tables[0] to migrate */
    bool rehashing;
    rc__ring ring;
    uint32_t sweep_pos;        /* ring slot where rc_store_sweep resumes */
    uint32_t stripe;           /* namespace counter stripe (immutable) */
    size_t budget;             /* immutable */
    size_t used;               /* all bytes charged to this shard */
    size_t structure;          /* part of used: ring and bucket arrays */
    size_t lease_bytes;        /* part of used: lease records (the hand cannot free them) */
    uint64_t reclaim_gen;      /* obsolete generation the current reclaim pass covers */
    uint32_t reclaim_pos;      /* ring slot where the reclaim pass resumes */
    uint32_t reclaim_left;     /* ring slots the pass has still to visit (0 = no pass) */
    uint64_t reclaim_scan_max; /* most slots one reclaim step examined (a STATS figure) */
    uint64_t entries;          /* tombstones included */
    uint64_t evictions;
    uint64_t reclaimed;
    rc_lease_table
        leases; /* keys being recomputed; records charged to used, buckets to structure */
} rc__shard;

struct rc_store {
    rc_store_config cfg;
    rc_hash_key seed;
    rc_ns_registry *namespaces;
    rc_tags *tags;
    _Atomic uint64_t obsolete_gen;         /* see "Obsolete first" above */
    _Atomic uint64_t tag_invalidations[2]; /* by enum rc_inval_mode */
    _Atomic uint64_t parked;               /* lease readers parked across all shards */
    size_t max_key;
    size_t page_size;
    uint32_t nshards;
    unsigned shard_shift; /* 64 - log2(nshards); unused when nshards == 1 */
    void *shard_alloc;    /* raw allocation the aligned shards live in */
    rc__shard *shards;
};

/* Where a request's key lives. */
typedef struct rc__target {
    rc_ns *ns;
    rc__shard *shard;
    const uint8_t *key;
    uint16_t key_len;
    uint64_t version;
    uint64_t hash;
} rc__target;

/* ---- allocation estimates ------------------------------------------------ */

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
static size_t rc__alloc_estimate(const rc_store *st, size_t n)
{
    const size_t word = sizeof(size_t);
    size_t chunk = rc__round_up(n + word, 16u);
    if (chunk < 4u * word)
        chunk = 4u * word;
    size_t usable = chunk - word;
    if (n >= RC__MMAP_THRESHOLD) {
        size_t mapped = rc__round_up(chunk + word, st->page_size) - 2u * word;
        if (mapped > usable)
            usable = mapped;
    }
    return usable;
}

/* ---- per-thread randomness for TTL jitter --------------------------------- */

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
static uint64_t rc__random(void)
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

/* ---- namespaces, versions, accounting ------------------------------------- */

static rc_ns *rc__entry_ns(const rc_store *st, const rc_entry *e)
{
    return rc_ns_by_id(st->namespaces, e->ns_id);
}

/*
 * rc__advance - rc_ns_advance plus, when the version moved, the obsolete
 * generation and the on_version hook.  Never called under a shard lock.
 */
static void rc__advance(rc_store *st, rc_ns *ns, uint64_t to, uint64_t *version)
{
    if (!rc_ns_advance(ns, to, version))
        return;
    atomic_fetch_add_explicit(&st->obsolete_gen, 1, memory_order_acq_rel);
    if (st->cfg.on_version)
        st->cfg.on_version(st->cfg.hook_ctx, (rc_slice){ns->name, ns->name_len}, *version);
}

/* rc__account_locked - add (or remove) one entry's charge to its shard and namespace gauges. */
static void rc__account_locked(rc_store *st, rc__shard *sh, const rc_entry *e, size_t charge,
                               bool add)
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
static void rc__structure_charge_locked(rc__shard *sh, size_t add, size_t remove)
{
    sh->used = sh->used + add - remove;
    sh->structure = sh->structure + add - remove;
}

/* ---- hash index ------------------------------------------------------------ */

static rc_entry **rc__bucket(const rc__table *t, uint64_t hash)
{
    return &t->buckets[hash & t->mask];
}

static bool rc__entry_matches(const rc_entry *e, const rc__target *t)
{
    return e->hash == t->hash && e->ns_version == t->version && e->ns_id == t->ns->id &&
           e->key_len == t->key_len && memcmp(e + 1, t->key, t->key_len) == 0;
}

/* rc__index_find_locked - the entry for t, consulting both tables while migrating. */
static rc_entry *rc__index_find_locked(const rc__shard *sh, const rc__target *t)
{
    for (int i = 0; i < (sh->rehashing ? 2 : 1); i++)
        for (rc_entry *e = *rc__bucket(&sh->tables[i], t->hash); e; e = e->next)
            if (rc__entry_matches(e, t))
                return e;
    return NULL;
}

/* rc__index_link_locked - the pointer that points at e (it must be indexed). */
static rc_entry **rc__index_link_locked(rc__shard *sh, const rc_entry *e)
{
    for (int i = 0; i < (sh->rehashing ? 2 : 1); i++)
        for (rc_entry **link = rc__bucket(&sh->tables[i], e->hash); *link; link = &(*link)->next)
            if (*link == e)
                return link;
    return NULL;
}

static void rc__index_insert_locked(rc__shard *sh, rc_entry *e)
{
    rc_entry **b = rc__bucket(&sh->tables[sh->rehashing ? 1 : 0], e->hash);
    e->next = *b;
    *b = e;
}

static void rc__index_unlink_locked(rc__shard *sh, rc_entry *e)
{
    rc_entry **link = rc__index_link_locked(sh, e);
    *link = e->next;
}

/* rc__index_replace_locked - put fresh where old is in its chain (same hash). */
static void rc__index_replace_locked(rc__shard *sh, rc_entry *old, rc_entry *fresh)
{
    rc_entry **link = rc__index_link_locked(sh, old);
    fresh->next = old->next;
    *link = fresh;
}

/*
 * rc__index_migrate_locked - move up to `buckets` non-empty buckets (visiting
 * at most RC__MIGRATE_VISITS) from tables[0] to tables[1]; when the last one
 * has moved, free tables[0] and make tables[1] the main table.
 */
static void rc__index_migrate_locked(rc__shard *sh, unsigned buckets)
{
    if (!sh->rehashing)
        return;
    rc__table *from = &sh->tables[0], *to = &sh->tables[1];
    for (unsigned visits = 0; buckets > 0 && visits < RC__MIGRATE_VISITS; visits++) {
        if (sh->rehash_pos > from->mask)
            break;
        rc_entry *e = from->buckets[sh->rehash_pos];
        from->buckets[sh->rehash_pos++] = NULL;
        if (e)
            buckets--;
        while (e) {
            rc_entry *next = e->next;
            rc_entry **b = rc__bucket(to, e->hash);
            e->next = *b;
            *b = e;
            e = next;
        }
    }
    if (sh->rehash_pos > from->mask) {
        rc__structure_charge_locked(sh, 0, rc_alloc_usable(from->buckets));
        free(from->buckets);
        *from = *to;
        memset(to, 0, sizeof(*to));
        sh->rehashing = false;
    }
}

/* ---- CLOCK ring ------------------------------------------------------------ */

static void rc__ring_place(rc__ring *r, uint32_t pos, rc_entry *e)
{
    r->slots[pos] = e;
    e->ring_slot = pos;
}

/* rc__ring_push_locked - append e at the tail; the caller made room (len < cap). */
static void rc__ring_push_locked(rc__ring *r, rc_entry *e)
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
static void rc__ring_hole_locked(rc__ring *r, const rc_entry *e)
{
    r->slots[e->ring_slot] = NULL;
    r->holes++;
}

/*
 * rc__ring_compact_locked - squeeze the holes out in place, keeping order
 * and the hand position.  The write position never passes the read
 * position, so no entry is overwritten before it is moved.
 */
static void rc__ring_compact_locked(rc__ring *r)
{
    uint32_t mask = r->cap - 1u, kept = 0;
    for (uint32_t i = 0; i < r->len; i++) {
        rc_entry *e = r->slots[(r->head + i) & mask];
        if (e) {
            r->slots[(r->head + i) & mask] = NULL;
            rc__ring_place(r, (r->head + kept) & mask, e);
            kept++;
        }
    }
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
    size_t old_bytes = rc_alloc_usable(r->slots);
    size_t new_count = 2u * (size_t)r->cap;
    if (new_count > UINT32_MAX ||
        sh->used + reserved - old_bytes + rc__alloc_estimate(st, new_count * sizeof(rc_entry *)) >
            sh->budget)
        return false;
    rc_entry **slots = rc_xcalloc(new_count, sizeof(rc_entry *));
    size_t new_bytes = rc_alloc_usable(slots);
    if (sh->used + reserved - old_bytes + new_bytes > sh->budget) {
        free(slots);
        return false;
    }
    uint32_t kept = 0;
    for (uint32_t i = 0; i < r->len; i++) {
        rc_entry *e = r->slots[(r->head + i) & (r->cap - 1u)];
        if (e) {
            slots[kept] = e;
            e->ring_slot = kept++;
        }
    }
    free(r->slots);
    rc__structure_charge_locked(sh, new_bytes, old_bytes);
    r->slots = slots;
    r->cap = (uint32_t)new_count;
    r->head = 0;
    r->len = kept;
    r->holes = 0;
    return true;
}

/* ---- judging and freeing entries ------------------------------------------ */

/* rc__judge - the state of e at now (tag verdicts read lock-free). Caller holds the shard lock. */
static enum rc__life rc__judge(const rc_store *st, rc_entry *e, uint64_t now)
{
    if (e->flags & RC__TOMBSTONE)
        return now >= e->expire_ms ? RC__DEAD_TOMB : RC__TOMB;
    if (e->expire_ms != 0 && now >= e->expire_ms + e->stale_ms)
        return RC__DEAD_EXPIRED;
    enum rc_tag_verdict tags =
        e->ntags ? rc_tags_judge(st->tags, rc__entry_tags(e), e->ntags) : RC_TAG_VALID;
    if (tags == RC_TAG_HARD)
        return RC__DEAD_HARD;
    if (tags == RC_TAG_SOFT || (e->flags & RC__SOFT) || (e->expire_ms != 0 && now >= e->expire_ms))
        return RC__STALE;
    return RC__FRESH;
}

static bool rc__is_dead(enum rc__life life)
{
    return life >= RC__DEAD_EXPIRED;
}

/* rc__is_old_version - whether e belongs to a version older than its namespace's current one. */
static bool rc__is_old_version(const rc_store *st, const rc_entry *e)
{
    return e->ns_version < rc_ns_version(rc__entry_ns(st, e));
}

/*
 * rc__entry_release_locked - give back everything e holds (tag references,
 * its charge, the namespace gauges) and free it.  e must already be out of
 * the index and the ring.
 */
static void rc__entry_release_locked(rc_store *st, rc__shard *sh, rc_entry *e)
{
    size_t charge = rc_alloc_usable(e);
    if (e->ntags)
        charge += rc_tags_release(st->tags, rc__entry_tags(e), e->ntags);
    rc__account_locked(st, sh, e, charge, false);
    free(e);
}

/* rc__entry_drop_locked - remove e from the index and the ring (a hole) and release it. */
static void rc__entry_drop_locked(rc_store *st, rc__shard *sh, rc_entry *e)
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
static rc_entry *rc__entry_bury_locked(rc_store *st, rc__shard *sh, rc_entry *e, uint64_t now)
{
    if (e->entry_version == 0 || st->cfg.tombstone_ms == 0) {
        rc__entry_drop_locked(st, sh, e);
        return NULL;
    }
    size_t freed = rc_alloc_usable(e);
    rc_entry *t = rc_xmalloc(rc__entry_size(e->key_len, 0, 0));
    size_t charge = rc_alloc_usable(t);
    /* The allocator may hand out a slightly larger chunk than the entry had;
     * the tombstone is worth keeping whenever the budget still holds. */
    if (charge > freed && sh->used - freed + charge > sh->budget) {
        free(t);
        rc__entry_drop_locked(st, sh, e);
        return NULL;
    }
    memcpy(t, e, sizeof(rc_entry) + e->key_len);
    t->expire_ms = now + st->cfg.tombstone_ms;
    t->stale_ms = 0;
    t->value_len = 0;
    t->client_flags = 0;
    t->ntags = 0;
    t->flags = RC__TOMBSTONE;
    rc__index_replace_locked(sh, e, t);
    sh->ring.slots[e->ring_slot] = t;
    rc__entry_release_locked(st, sh, e);
    rc__account_locked(st, sh, t, charge, true);
    return t;
}

/* rc__count_reclaim_locked - count one obsolete entry freed (and an expiration if it expired). */
static void rc__count_reclaim_locked(rc_store *st, rc__shard *sh, const rc_entry *e,
                                     enum rc__life life)
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
static size_t rc__reclaim_range_locked(rc_store *st, rc__shard *sh, uint64_t now, uint32_t *pos,
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
static bool rc__hand_free_one_locked(rc_store *st, rc__shard *sh, uint64_t now)
{
    if (rc__reclaim_step_locked(st, sh, now, RC__RECLAIM_STEP) > 0)
        return true;
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
 * rc__reserve_locked - free entries until `bytes` more fit the budget.
 * Returns false, changing nothing, when they would not fit even in an empty
 * shard (the ring and bucket arrays stay).
 */
static bool rc__reserve_locked(rc_store *st, rc__shard *sh, size_t bytes, uint64_t now)
{
    if (sh->structure + sh->lease_bytes + bytes > sh->budget)
        return false;
    while (sh->used + bytes > sh->budget)
        if (!rc__hand_free_one_locked(st, sh, now))
            return false;
    return true;
}

/*
 * rc__index_maybe_grow_locked - once entries outnumber buckets, start
 * migrating to a table twice the size if its bytes fit the budget.  If they
 * do not, chains are allowed to reach an average of two entries; past that
 * the hand frees room for the new array (a few entries, since an entry is
 * far larger than its 16 bytes of buckets), so lookups stay short in a
 * full shard too.  The entry just inserted sits at the ring's tail, the
 * last one the hand would reach.
 */
static void rc__index_maybe_grow_locked(rc_store *st, rc__shard *sh, uint64_t now)
{
    size_t nbuckets = sh->tables[0].mask + 1u;
    if (sh->rehashing || sh->entries <= nbuckets)
        return;
    size_t estimate = rc__alloc_estimate(st, 2u * nbuckets * sizeof(rc_entry *));
    if (sh->used + estimate > sh->budget &&
        (sh->entries <= 2u * nbuckets || !rc__reserve_locked(st, sh, estimate, now)))
        return;
    rc_entry **buckets = rc_xcalloc(2u * nbuckets, sizeof(rc_entry *));
    size_t charge = rc_alloc_usable(buckets);
    if (sh->used + charge > sh->budget) {
        free(buckets);
        return;
    }
    rc__structure_charge_locked(sh, charge, 0);
    sh->tables[1].buckets = buckets;
    sh->tables[1].mask = 2u * nbuckets - 1u;
    sh->rehash_pos = 0;
    sh->rehashing = true;
}

/*
 * rc__ring_make_room_locked - guarantee one free ring position: compact if
 * holes are plentiful, else grow if the budget allows (with `reserved` bytes
 * set aside), else compact whatever holes exist, else let the hand free an
 * entry.
 */
static void rc__ring_make_room_locked(rc_store *st, rc__shard *sh, size_t reserved, uint64_t now)
{
    rc__ring *r = &sh->ring;
    while (r->len == r->cap) {
        if (r->holes > 0 && r->holes >= r->cap / 8u) {
            rc__ring_compact_locked(r);
            rc__reclaim_restart_locked(sh);
        } else if (rc__ring_grow_locked(st, sh, reserved)) {
            rc__reclaim_restart_locked(sh);
        } else if (r->holes > 0) {
            rc__ring_compact_locked(r);
            rc__reclaim_restart_locked(sh);
        } else {
            rc__hand_free_one_locked(st, sh, now);
        }
    }
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

static bool rc__is_live(enum rc__life life)
{
    return life == RC__FRESH || life == RC__STALE;
}

/* rc__read_fill - the metadata part of a hit. */
static void rc__read_fill(const rc_entry *e, enum rc__life life, uint64_t now, rc_store_read *out)
{
    out->entry_version = e->entry_version;
    out->client_flags = e->client_flags;
    out->value_len = e->value_len;
    out->state = life == RC__FRESH ? RC_STATE_FRESH : RC_STATE_STALE;
    if (e->expire_ms == 0)
        out->ttl_left_ms = RC_TTL_NONE;
    else if (life == RC__STALE || now >= e->expire_ms)
        out->ttl_left_ms = 0;
    else if (e->expire_ms - now >= RC_TTL_NONE)
        out->ttl_left_ms = RC_TTL_NONE - 1u;
    else
        out->ttl_left_ms = (uint32_t)(e->expire_ms - now);
}

/*
 * rc__lock_and_find - take t's shard lock (the caller releases it), advance
 * its incremental rehash, and find and settle the key's entry: *ep is what
 * remains servable or a tombstone (NULL otherwise), and the return value
 * its state.
 */
static enum rc__life rc__lock_and_find(rc_store *st, const rc__target *t, uint64_t now,
                                       rc_entry **ep)
{
    rc__shard *sh = t->shard;
    pthread_mutex_lock(&sh->lock);
    rc__index_migrate_locked(sh, RC__MIGRATE_BUCKETS);
    *ep = rc__index_find_locked(sh, t);
    return rc__settle_locked(st, sh, ep, now);
}

/* rc__serve_locked - a hit: metadata into out, the value through the sink, the reference bit set.
 */
static void rc__serve_locked(rc_entry *e, enum rc__life life, uint64_t now, rc_value_sink sink,
                             void *sink_ctx, rc_store_read *out)
{
    rc__read_fill(e, life, now, out);
    uint8_t *dst = sink ? sink(sink_ctx, e->value_len) : NULL;
    if (dst && e->value_len)
        memcpy(dst, rc__entry_value(e), e->value_len);
    e->flags |= RC__REFERENCED;
}

/* ---- shard lifecycle ------------------------------------------------------- */

/* rc__shard_init_structure - fresh, empty initial bucket array and ring, charged. */
static void rc__shard_init_structure(rc__shard *sh)
{
    memset(sh->tables, 0, sizeof(sh->tables));
    sh->tables[0].buckets = rc_xcalloc(RC__INITIAL_SLOTS, sizeof(rc_entry *));
    sh->tables[0].mask = RC__INITIAL_SLOTS - 1u;
    sh->rehashing = false;
    sh->rehash_pos = 0;
    memset(&sh->ring, 0, sizeof(sh->ring));
    sh->ring.slots = rc_xcalloc(RC__INITIAL_SLOTS, sizeof(rc_entry *));
    sh->ring.cap = RC__INITIAL_SLOTS;
    sh->sweep_pos = 0;
    sh->reclaim_pos = 0;
    sh->reclaim_left = 0;
    sh->structure = rc_alloc_usable(sh->tables[0].buckets) + rc_alloc_usable(sh->ring.slots);
    sh->used += sh->structure;
}

/* rc__shard_clear_locked - free every entry and the structure arrays (left unallocated). */
static void rc__shard_clear_locked(rc_store *st, rc__shard *sh)
{
    rc__ring *r = &sh->ring;
    for (uint32_t i = 0; i < r->cap; i++)
        if (r->slots[i])
            rc__entry_release_locked(st, sh, r->slots[i]);
    free(r->slots);
    free(sh->tables[0].buckets);
    free(sh->tables[1].buckets);
    sh->used -= sh->structure;
    sh->structure = 0;
}

/* ---- request preparation ---------------------------------------------------- */

static uint64_t rc__entry_hash(const rc_store *st, uint16_t ns_id, uint64_t version,
                               const uint8_t *key, size_t len)
{
    uint8_t prefix[10];
    prefix[0] = (uint8_t)ns_id;
    prefix[1] = (uint8_t)(ns_id >> 8);
    for (int i = 0; i < 8; i++)
        prefix[2 + i] = (uint8_t)(version >> (8 * i));
    rc_hash_state s;
    rc_hash_init(&s, &st->seed);
    rc_hash_update(&s, prefix, sizeof(prefix));
    rc_hash_update(&s, key, len);
    return rc_hash_final(&s);
}

static int rc__check_key(const rc_store *st, const rc_store_key *key)
{
    if (key->ns.len == 0 || key->ns.len > RC_NS_MAX_NAME)
        return RC_EBAD_NAMESPACE;
    if (key->key.len == 0)
        return RC_EBAD_ARGUMENT;
    if (key->key.len > st->max_key)
        return RC_EKEY_TOO_LONG;
    if (key->version > RC_NS_VERSION_MAX || key->min_version > RC_NS_VERSION_MAX)
        return RC_EBAD_ARGUMENT;
    return 0;
}

/*
 * rc__ns_create - rc_ns_get_or_create; when the registry is full, reclaim
 * empty namespaces and try once more.  The caller holds its reader stripe
 * and no namespace pointer: the stripe is dropped around the reclamation.
 */
static int rc__ns_create(rc_store *st, rc_slice name, rc_ns **out)
{
    int rc = rc_ns_get_or_create(st->namespaces, name.ptr, name.len, out);
    if (rc != RC_ETOO_MANY_NAMESPACES)
        return rc;
    rc_ns_leave(st->namespaces);
    rc_ns_reclaim(st->namespaces);
    rc_ns_enter(st->namespaces);
    return rc_ns_get_or_create(st->namespaces, name.ptr, name.len, out);
}

/*
 * rc__resolve - validate key, find the namespace (creating it when `create`
 * asks; reads never create one), adopt min_version, and compute the
 * version, hash and shard.  *ns_version (may be NULL) is always set.
 * Returns 0, a validation or namespace error, or RC_EMISS for an unknown
 * namespace that was not created (reported at the version asked for, or
 * the minimum, or 1).
 */
static int rc__resolve(rc_store *st, const rc_store_key *key, bool create, rc__target *t,
                       uint64_t *ns_version)
{
    uint64_t ignored;
    if (!ns_version)
        ns_version = &ignored;
    *ns_version = key->version ? key->version : (key->min_version ? key->min_version : 1u);
    int rc = rc__check_key(st, key);
    if (rc)
        return rc;
    t->ns = rc_ns_find(st->namespaces, key->ns.ptr, key->ns.len);
    if (!t->ns && create) {
        rc = rc__ns_create(st, key->ns, &t->ns);
        if (rc)
            return rc;
    }
    if (!t->ns)
        return RC_EMISS;
    uint64_t current;
    if (key->min_version)
        rc__advance(st, t->ns, key->min_version, &current);
    t->version = key->version ? key->version : rc_ns_version(t->ns);
    *ns_version = t->version;
    t->key = key->key.ptr;
    t->key_len = (uint16_t)key->key.len;
    t->hash = rc__entry_hash(st, t->ns->id, t->version, t->key, t->key_len);
    t->shard = &st->shards[st->nshards == 1 ? 0 : (t->hash >> st->shard_shift)];
    return 0;
}

/* Everything a write needs, computed before the shard lock is taken. */
typedef struct rc__write_plan {
    rc_slice tags[RC_WIRE_MAX_TAGS];
    size_t ntags;
    size_t tag_charge; /* sum of rc_tags_charge over the tags */
    size_t alloc_size;
    uint64_t expire_ms;
    uint32_t stale_ms;
} rc__write_plan;

/*
 * rc__parse_tags - split the list encoding (u8 len + bytes, ntags times)
 * into p->tags, enforcing the configured limits.  Malformed encoding is
 * RC_EBAD_ARGUMENT.
 */
static int rc__parse_tags(const rc_store *st, const rc_store_write *w, rc__write_plan *p)
{
    if (w->ntags > st->cfg.max_tags)
        return RC_ETOO_MANY_TAGS;
    size_t off = 0, len = w->tags.len;
    for (size_t i = 0; i < w->ntags; i++) {
        if (off >= len)
            return RC_EBAD_ARGUMENT;
        size_t tag_len = w->tags.ptr[off++];
        if (tag_len == 0 || tag_len > st->cfg.max_tag_len)
            return RC_ETAG_TOO_LONG;
        if (len - off < tag_len)
            return RC_EBAD_ARGUMENT;
        p->tags[i].ptr = w->tags.ptr + off;
        p->tags[i].len = (uint32_t)tag_len;
        p->tag_charge += rc_tags_charge(tag_len);
        off += tag_len;
    }
    if (off != len)
        return RC_EBAD_ARGUMENT;
    p->ntags = w->ntags;
    return 0;
}

/* rc__expiry - absolute expiry for a TTL (0 = namespace default), optionally jittered. */
static uint64_t rc__expiry(const rc_ns *ns, uint32_t ttl_ms, uint64_t now, bool jitter)
{
    uint64_t ttl = ttl_ms ? ttl_ms : rc_ns_setting(ns, RC_NS_SET_DEFAULT_TTL);
    if (ttl == 0)
        return 0;
    uint64_t percent = jitter ? rc_ns_setting(ns, RC_NS_SET_TTL_JITTER) : 0;
    if (percent)
        ttl -= rc__random() % (ttl * percent / 100u + 1u);
    return now + ttl;
}

/*
 * rc__plan_write - every check that needs no lock, in the order: key, value
 * size (global cap), condition, tags, namespace (created here), value size
 * (namespace cap); then expiry, stale window and allocation size.
 */
static int rc__plan_write(rc_store *st, const rc_store_key *key, const rc_store_write *w,
                          uint64_t now, rc__write_plan *p, rc__target *t, uint64_t *ns_version)
{
    int rc = rc__check_key(st, key);
    if (rc)
        return rc;
    if (w->value_len > st->cfg.max_value)
        return RC_EVALUE_TOO_LARGE;
    if (w->cond > RC_COND_CAS)
        return RC_EBAD_ARGUMENT;
    p->tag_charge = 0;
    rc = rc__parse_tags(st, w, p);
    if (rc)
        return rc;
    rc = rc__resolve(st, key, true, t, ns_version);
    if (rc)
        return rc;
    uint64_t ns_max = rc_ns_setting(t->ns, RC_NS_SET_MAX_VALUE);
    if (ns_max && w->value_len > ns_max)
        return RC_EVALUE_TOO_LARGE;
    p->expire_ms = rc__expiry(t->ns, w->ttl_ms, now, true);
    p->stale_ms = w->stale_ms == RC_STALE_DEFAULT ? (uint32_t)rc_ns_setting(t->ns, RC_NS_SET_STALE)
                                                  : w->stale_ms;
    p->alloc_size = rc__entry_size(t->key_len, p->ntags, w->value_len);
    return 0;
}

/* rc__check_condition - apply w->cond to what the lookup left; sets *winner to the stored version.
 */
static int rc__check_condition(const rc_store_write *w, enum rc__life life, const rc_entry *e,
                               uint64_t *winner)
{
    *winner = e ? e->entry_version : 0;
    switch (w->cond) {
    case RC_COND_IF_ABSENT:
        return life == RC__FRESH ? RC_EEXISTS : 0;
    case RC_COND_IF_NEWER:
        return e && e->entry_version >= w->entry_version ? RC_ENOT_NEWER : 0;
    case RC_COND_CAS:
        return rc__is_live(life) && e->entry_version == w->cas_version ? 0 : RC_ECAS_MISMATCH;
    default:
        return 0;
    }
}

static void rc__entry_fill(rc_entry *e, const rc__target *t, const rc_store_write *w,
                           const rc__write_plan *p)
{
    e->next = NULL;
    e->hash = t->hash;
    e->ns_version = t->version;
    e->entry_version = w->entry_version;
    e->expire_ms = p->expire_ms;
    e->stale_ms = p->stale_ms;
    e->value_len = w->value_len;
    e->client_flags = w->client_flags;
    e->key_len = t->key_len;
    e->ns_id = t->ns->id;
    e->ntags = (uint8_t)p->ntags;
    e->flags = 0;
    memcpy(rc__entry_key(e), t->key, t->key_len);
    if (w->value_len)
        memcpy(rc__entry_value(e), w->value, w->value_len);
}

/*
 * rc__insert_locked - store a new entry for t, replacing `old` (a live entry
 * or tombstone the condition allowed to go, or NULL).  All-or-nothing: every
 * step that can fail runs before anything changes, so a failed write leaves
 * the old value in place.
 *   1. Tag references are taken and their epochs snapshotted.  For a lease
 *      fill (tag_since != RC_TAGS_ANY_SEQ) this is refused with
 *      RC_ELEASE_REJECTED when a fill tag was invalidated since the grant,
 *      atomically with the snapshot (rc_tags_acquire_since).
 *   2. The entry is allocated and its real charge known.  If it cannot fit
 *      beside what the hand can never free (the ring and bucket arrays, and
 *      lease records), RC_ENO_MEMORY.
 *   3. Only then is `old` dropped, the hand frees room (it always can, by
 *      step 2) and the entry is linked at the ring's tail.
 */
static int rc__insert_locked(rc_store *st, const rc__target *t, const rc_store_write *w,
                             const rc__write_plan *p, rc_entry *old, uint64_t tag_since,
                             uint64_t now)
{
    rc__shard *sh = t->shard;
    rc_tag_ref refs[RC_WIRE_MAX_TAGS];
    if (p->ntags) {
        int rc = rc_tags_acquire_since(st->tags, p->tags, p->ntags, refs, tag_since);
        if (rc)
            return rc;
    }
    rc_entry *e = rc_xmalloc(p->alloc_size);
    size_t charge = rc_alloc_usable(e) + p->tag_charge;
    bool fits = sh->structure + sh->lease_bytes + charge <= sh->budget;
    if (fits) {
        if (old)
            rc__entry_drop_locked(st, sh, old);
        fits = rc__reserve_locked(st, sh, charge, now);
    }
    if (!fits) {
        free(e);
        if (p->ntags)
            rc_tags_release(st->tags, refs, p->ntags);
        return RC_ENO_MEMORY;
    }
    rc__ring_make_room_locked(st, sh, charge, now);
    rc__entry_fill(e, t, w, p);
    if (p->ntags)
        memcpy(rc__entry_tags(e), refs, p->ntags * sizeof(rc_tag_ref));
    rc__account_locked(st, sh, e, charge, true);
    rc__index_insert_locked(sh, e);
    rc__ring_push_locked(&sh->ring, e);
    rc__index_maybe_grow_locked(st, sh, now);
    return 0;
}

/* ---- leases ---------------------------------------------------------------------
 *
 * A shard's lease table lives under the shard lock, so "judge the entry,
 * then grant or park" (rc_store_lget) and "store the value, then end the
 * lease and release its readers" (rc_store_set) exclude each other: a
 * herd of readers produces exactly one lease, and no reader can slip
 * between a fill and the release of the readers parked before it.
 */

static rc__shard *rc__waiter_shard(rc_store *st, const rc_lease_waiter *w)
{
    return &st->shards[w->shard];
}

static void rc__ns_count_id(rc_store *st, uint16_t ns_id, unsigned stripe, enum rc_ns_counter c)
{
    rc_ns_count(rc_ns_by_id(st->namespaces, ns_id), stripe, c, 1);
}

/*
 * rc__wake_locked - hand a list of just-detached waiters to the caller's
 * woken list with `outcome`, keeping the node's parked count and the
 * namespace counters right.  With woken == NULL they are simply forgotten
 * (allowed only for callers that never park readers).
 */
static void rc__wake_locked(rc_store *st, rc__shard *sh, rc_lease_waiter *list, uint8_t outcome,
                            rc_lease_waiter **woken)
{
    while (list) {
        rc_lease_waiter *w = list;
        list = w->next;
        w->outcome = outcome;
        atomic_fetch_sub_explicit(&st->parked, 1, memory_order_relaxed);
        if (outcome == RC_WAITER_RELEASED)
            rc__ns_count_id(st, w->ns_id, sh->stripe, RC_NS_CTR_WAITS_SERVED);
        if (woken) {
            w->next = *woken;
            *woken = w;
        }
    }
}

/* rc__lease_free_locked - unlink l, give back its charge, wake its readers with outcome. */
static void rc__lease_free_locked(rc_store *st, rc__shard *sh, rc_lease *l, uint8_t outcome,
                                  rc_lease_waiter **woken)
{
    sh->used -= rc_lease_charge(l->key_len);
    sh->lease_bytes -= rc_lease_charge(l->key_len);
    rc_ns_count(rc_ns_by_id(st->namespaces, l->ns_id), sh->stripe, RC_NS_CTR_LEASES, (uint64_t)-1);
    rc__wake_locked(st, sh, rc_lease_remove_locked(&sh->leases, l), outcome, woken);
}

/*
 * rc__lease_cancel_locked - the lease can no longer be filled.  If readers
 * are parked on it, the oldest is promoted: the lease is renewed with a new
 * token for it (woken, PROMOTED) and the others keep waiting for its fill.
 * Otherwise the lease is freed.
 */
static void rc__lease_cancel_locked(rc_store *st, rc__shard *sh, rc_lease *l, uint64_t now,
                                    rc_lease_waiter **woken)
{
    rc_lease_waiter *w = rc_lease_pop_waiter_locked(l);
    if (!w) {
        rc__lease_free_locked(st, sh, l, RC_WAITER_CANCELLED, woken);
        return;
    }
    rc_ns *ns = rc_ns_by_id(st->namespaces, l->ns_id);
    rc_lease_renew_locked(l, now + l->duration_ms, rc_ns_version(ns), rc_tags_seq(st->tags));
    memcpy(w->token, l->token, RC_TOKEN_SIZE);
    w->ns_version = l->ns_version;
    w->next = NULL;
    rc_ns_count(ns, sh->stripe, RC_NS_CTR_LEASE_PROMOTIONS, 1);
    rc_ns_count(ns, sh->stripe, RC_NS_CTR_LEASES_GRANTED, 1);
    rc__wake_locked(st, sh, w, RC_WAITER_PROMOTED, woken);
}

static rc_lease *rc__lease_find_locked(rc__shard *sh, const rc__target *t)
{
    return rc_lease_find_locked(&sh->leases, t->hash, t->ns->id, t->version, t->key, t->key_len);
}

/*
 * rc__lease_take_locked - give the caller the key's lease: renew `l` if it
 * exists (it has expired: its parked readers stay parked on the renewed
 * lease) or grant a new one, making room in the shard first.  Copies the
 * token to token_out.  Returns false when the record cannot fit.
 */
static bool rc__lease_take_locked(rc_store *st, rc__shard *sh, const rc__target *t, rc_lease *l,
                                  uint32_t lease_ms, uint64_t now, uint8_t *token_out)
{
    uint64_t ns_current = rc_ns_version(t->ns);
    uint64_t tag_seq = rc_tags_seq(st->tags);
    if (l) {
        rc_lease_renew_locked(l, now + lease_ms, ns_current, tag_seq);
        rc_ns_count(t->ns, sh->stripe, RC_NS_CTR_LEASE_EXPIRIES, 1);
    } else {
        size_t charge = rc_lease_charge(t->key_len);
        size_t table_before = rc_lease_table_bytes(&sh->leases);
        /* The table may double: reserve for the larger array too. */
        size_t growth =
            (size_t)(sh->leases.nbuckets ? sh->leases.nbuckets : 8u) * 2u * sizeof(rc_lease *);
        if (!rc__reserve_locked(st, sh, charge + growth + 16u, now))
            return false;
        l = rc_lease_grant_locked(&sh->leases, t->hash, t->ns->id, t->version, t->key, t->key_len,
                                  now + lease_ms, ns_current, tag_seq);
        sh->used += charge;
        sh->lease_bytes += charge;
        rc_ns_count(t->ns, sh->stripe, RC_NS_CTR_LEASES, 1);
        rc__structure_charge_locked(sh, rc_lease_table_bytes(&sh->leases), table_before);
    }
    l->duration_ms = lease_ms;
    memcpy(token_out, l->token, RC_TOKEN_SIZE);
    rc_ns_count(t->ns, sh->stripe, RC_NS_CTR_LEASES_GRANTED, 1);
    return true;
}

static bool rc__lease_expired(const rc_lease *l, uint64_t now)
{
    return now >= l->expires_ms;
}

/*
 * rc__early_refresh_due - whether a fresh hit should also refresh: inside
 * the namespace's early-refresh window, with a probability that grows from
 * 0 at the window's start to 1 at expiry (probabilistic early expiration),
 * so keys written together do not all refresh on the same read.
 */
static bool rc__early_refresh_due(const rc_ns *ns, const rc_entry *e, uint64_t now)
{
    uint64_t window = rc_ns_setting(ns, RC_NS_SET_EARLY_REFRESH);
    if (window == 0 || e->expire_ms == 0 || now >= e->expire_ms)
        return false;
    uint64_t left = e->expire_ms - now;
    if (left >= window)
        return false;
    /* P(refresh) = 1 - left / window, drawn with 20 bits of precision. */
    uint64_t draw = rc__random() & 0xFFFFFu;
    return draw * window >= (uint64_t)left << 20;
}

/* rc__lget_hit_locked - lease part of a hit: stale or early-refresh reads may take the lease. */
static int rc__lget_hit_locked(rc_store *st, const rc__target *t, rc_entry *e, enum rc__life life,
                               rc_lease *l, const rc_store_lease_opts *opts, uint64_t now,
                               rc_store_lease_read *out)
{
    out->outcome = RC_LGET_HIT;
    bool lease_free = !l || rc__lease_expired(l, now);
    bool wants = life == RC__STALE || rc__early_refresh_due(t->ns, e, now);
    if (!wants)
        return 0;
    if (!lease_free) {
        out->lease = life == RC__STALE ? RC_LEASE_HELD : RC_LEASE_NONE;
        return 0;
    }
    if (rc__lease_take_locked(st, t->shard, t, l, opts->lease_ms, now, out->token))
        out->lease = RC_LEASE_GRANTED;
    return 0;
}

/* rc__lget_miss_locked - lease part of a miss: grant, park or report the lease held. */
static int rc__lget_miss_locked(rc_store *st, const rc__target *t, rc_lease *l,
                                const rc_store_lease_opts *opts, uint64_t now,
                                rc_store_lease_read *out)
{
    rc__shard *sh = t->shard;
    if (!l || rc__lease_expired(l, now)) {
        if (!rc__lease_take_locked(st, sh, t, l, opts->lease_ms, now, out->token))
            return RC_ENO_MEMORY;
        out->outcome = RC_LGET_MISS_GRANTED;
        out->lease = RC_LEASE_GRANTED;
        return 0;
    }
    out->lease = RC_LEASE_HELD;
    if (!opts->waiter) {
        out->outcome = RC_LGET_MISS_HELD;
        return 0;
    }
    if (l->nwaiters >= opts->max_waiters_key ||
        atomic_load_explicit(&st->parked, memory_order_relaxed) >= st->cfg.max_waiters)
        return RC_ETOO_MANY_WAITERS;
    rc_lease_waiter *w = opts->waiter;
    w->shard = (uint32_t)(sh - st->shards);
    w->ns_id = t->ns->id;
    w->outcome = RC_WAITER_PARKED;
    rc_lease_park_locked(l, w);
    atomic_fetch_add_explicit(&st->parked, 1, memory_order_relaxed);
    rc_ns_count(t->ns, sh->stripe, RC_NS_CTR_WAITS, 1);
    out->outcome = RC_LGET_PARKED;
    return 0;
}

/*
 * rc__fill_check_locked - may a write carrying a lease token be stored?  The
 * key's lease must exist with that token and the namespace must not have
 * been bumped since the grant (in that case the lease is cancelled as well,
 * its oldest reader promoted, since no fill can be trusted any more).  The
 * fill's tags are checked later, atomically with their epoch snapshot
 * (rc__insert_locked); rc__fill_reject_locked handles that refusal.
 */
static int rc__fill_check_locked(rc_store *st, const rc__target *t, rc_lease *l,
                                 const rc_store_write *w, uint64_t now, rc_lease_waiter **woken)
{
    rc__shard *sh = t->shard;
    enum rc_ns_counter reason;
    if (!l || !rc_lease_token_equal(l, w->token)) {
        reason = RC_NS_CTR_FILLS_REJECTED_LEASE;
    } else if (rc_ns_version(t->ns) != l->ns_current) {
        reason = RC_NS_CTR_FILLS_REJECTED_BUMP;
    } else {
        return 0;
    }
    if (reason != RC_NS_CTR_FILLS_REJECTED_LEASE)
        rc__lease_cancel_locked(st, sh, l, now, woken);
    rc_ns_count(t->ns, sh->stripe, reason, 1);
    return RC_ELEASE_REJECTED;
}

/* rc__fill_reject_tag_locked - a fill tag was invalidated since the grant: cancel the lease. */
static void rc__fill_reject_tag_locked(rc_store *st, const rc__target *t, rc_lease *l, uint64_t now,
                                       rc_lease_waiter **woken)
{
    rc__lease_cancel_locked(st, t->shard, l, now, woken);
    rc_ns_count(t->ns, t->shard->stripe, RC_NS_CTR_FILLS_REJECTED_TAG, 1);
}

/* rc__leases_clear_locked - free every lease of the shard and its bucket array (flush, destroy). */
static void rc__leases_clear_locked(rc_store *st, rc__shard *sh, rc_lease_waiter **woken)
{
    rc_lease_table *lt = &sh->leases;
    for (uint32_t i = 0; i < lt->nbuckets; i++)
        while (lt->buckets[i])
            rc__lease_free_locked(st, sh, lt->buckets[i], RC_WAITER_CANCELLED, woken);
    rc__structure_charge_locked(sh, 0, rc_lease_table_bytes(lt));
    rc_lease_table_clear_locked(lt);
}

/*
 * rc__leases_sweep_locked - expired leases: with parked readers, the oldest
 * is promoted (a holder that died must not keep them waiting until their
 * deadlines); without, the record is freed.
 */
static void rc__leases_sweep_locked(rc_store *st, rc__shard *sh, uint64_t now,
                                    rc_lease_waiter **woken)
{
    rc_lease_table *lt = &sh->leases;
    for (uint32_t i = 0; i < lt->nbuckets; i++) {
        rc_lease *l = lt->buckets[i];
        while (l) {
            rc_lease *next = l->chain;
            if (rc__lease_expired(l, now)) {
                rc__ns_count_id(st, l->ns_id, sh->stripe, RC_NS_CTR_LEASE_EXPIRIES);
                rc__lease_cancel_locked(st, sh, l, now, woken);
            }
            l = next;
        }
    }
}

/* ---- public API -------------------------------------------------------------- */

static size_t rc__max_entry_charge(const rc_store *st)
{
    const rc_store_config *cfg = &st->cfg;
    size_t size = rc__entry_size(st->max_key, cfg->max_tags, cfg->max_value);
    return rc__alloc_estimate(st, size) + cfg->max_tags * rc_tags_charge(cfg->max_tag_len) +
           RC__STRUCTURE_SHARE;
}

/*
 * rc__choose_shards - the configured count, or for 0 the largest power of
 * two <= 256 whose per-shard budget holds four maximum-size entries (min 1).
 */
static uint32_t rc__choose_shards(const rc_store *st)
{
    if (st->cfg.nshards)
        return st->cfg.nshards;
    uint32_t n = RC__AUTO_MAX_SHARDS;
    while (n > 1u && st->cfg.memory_limit / n < 4u * rc__max_entry_charge(st))
        n /= 2u;
    return n;
}

static bool rc__config_valid(const rc_store_config *cfg)
{
    return cfg->memory_limit > 0 && cfg->nshards <= RC__MAX_SHARDS &&
           (cfg->nshards & (cfg->nshards - 1u)) == 0 && cfg->max_namespaces > 0 &&
           cfg->max_namespaces <= RC_NS_MAX_IDS;
}

static void rc__shards_init(rc_store *st, size_t budget)
{
    unsigned bits = 0;
    while ((1u << bits) < st->nshards)
        bits++;
    st->shard_shift = 64u - bits;
    st->shard_alloc = rc_xcalloc(1, st->nshards * sizeof(rc__shard) + 63u);
    st->shards = (rc__shard *)(((uintptr_t)st->shard_alloc + 63u) & ~(uintptr_t)63u);
    for (uint32_t i = 0; i < st->nshards; i++) {
        rc__shard *sh = &st->shards[i];
        pthread_mutex_init(&sh->lock, NULL);
        sh->stripe = i;
        sh->budget = budget;
        rc__shard_init_structure(sh);
    }
}

int rc_store_create(const rc_store_config *cfg, rc_store **out)
{
    *out = NULL;
    if (!rc__config_valid(cfg))
        return RC_EINVAL;
    rc_store *st = rc_xcalloc(1, sizeof(*st));
    st->cfg = *cfg;
    st->seed.k0 = cfg->hash_seed[0];
    st->seed.k1 = cfg->hash_seed[1];
    st->max_key = cfg->max_key ? cfg->max_key : RC_WIRE_MAX_KEY;
    long page = sysconf(_SC_PAGESIZE);
    st->page_size = page > 0 ? (size_t)page : 4096u;
    st->nshards = rc__choose_shards(st);
    size_t budget = cfg->memory_limit / st->nshards;
    size_t initial = 2u * rc__alloc_estimate(st, RC__INITIAL_SLOTS * sizeof(rc_entry *));
    if (budget < initial + rc__max_entry_charge(st)) {
        free(st);
        return RC_EINVAL;
    }
    if (rc_ns_registry_create(cfg->max_namespaces, &st->seed, &st->namespaces) != 0) {
        free(st);
        return RC_EINVAL;
    }
    st->tags = rc_tags_create(cfg->memory_limit / rc_tags_charge(1) + 1u, &st->seed);
    rc__shards_init(st, budget);
    *out = st;
    return 0;
}

void rc_store_destroy(rc_store *st)
{
    if (!st)
        return;
    for (uint32_t i = 0; i < st->nshards; i++) {
        rc__leases_clear_locked(st, &st->shards[i], NULL);
        rc__shard_clear_locked(st, &st->shards[i]);
        pthread_mutex_destroy(&st->shards[i].lock);
    }
    free(st->shard_alloc);
    rc_tags_destroy(st->tags);
    rc_ns_registry_destroy(st->namespaces);
    free(st);
}

static int rc__get(rc_store *st, const rc_store_key *key, uint64_t now_ms, rc_value_sink sink,
                   void *sink_ctx, rc_store_read *out)
{
    rc__target t;
    memset(out, 0, sizeof(*out));
    int rc = rc__resolve(st, key, false, &t, &out->ns_version);
    if (rc)
        return rc;
    rc__shard *sh = t.shard;
    rc_entry *e;
    enum rc__life life = rc__lock_and_find(st, &t, now_ms, &e);
    if (rc__is_live(life))
        rc__serve_locked(e, life, now_ms, sink, sink_ctx, out);
    else
        rc = RC_EMISS;
    pthread_mutex_unlock(&sh->lock);
    enum rc_ns_counter c =
        rc ? RC_NS_CTR_MISSES : (life == RC__FRESH ? RC_NS_CTR_HITS : RC_NS_CTR_STALE_HITS);
    rc_ns_count(t.ns, sh->stripe, c, 1);
    return rc;
}

static int rc__lget(rc_store *st, const rc_store_key *key, const rc_store_lease_opts *opts,
                    uint64_t now_ms, rc_value_sink sink, void *sink_ctx, rc_store_lease_read *out)
{
    rc__target t;
    memset(out, 0, sizeof(*out));
    if (opts->lease_ms == 0)
        return RC_EINVAL;
    /* A lease read may create the namespace: its fill would anyway. */
    int rc = rc__resolve(st, key, true, &t, &out->read.ns_version);
    if (rc)
        return rc;
    rc__shard *sh = t.shard;
    rc_entry *e;
    enum rc__life life = rc__lock_and_find(st, &t, now_ms, &e);
    rc_lease *l = rc__lease_find_locked(sh, &t);
    if (rc__is_live(life)) {
        rc__serve_locked(e, life, now_ms, sink, sink_ctx, &out->read);
        /* Taking a lease may evict entries to make room: e is not used after this. */
        rc = rc__lget_hit_locked(st, &t, e, life, l, opts, now_ms, out);
    } else {
        rc = rc__lget_miss_locked(st, &t, l, opts, now_ms, out);
    }
    pthread_mutex_unlock(&sh->lock);
    enum rc_ns_counter c = out->outcome != RC_LGET_HIT
                               ? RC_NS_CTR_MISSES
                               : (life == RC__FRESH ? RC_NS_CTR_HITS : RC_NS_CTR_STALE_HITS);
    rc_ns_count(t.ns, sh->stripe, c, 1);
    return rc;
}

static bool rc__unpark(rc_store *st, rc_lease_waiter *w, uint8_t outcome)
{
    rc__shard *sh = rc__waiter_shard(st, w);
    pthread_mutex_lock(&sh->lock);
    bool detached = rc_lease_unpark_locked(w);
    if (detached) {
        w->outcome = outcome;
        atomic_fetch_sub_explicit(&st->parked, 1, memory_order_relaxed);
        rc__ns_count_id(st, w->ns_id, sh->stripe,
                        outcome == RC_WAITER_TIMED_OUT ? RC_NS_CTR_WAIT_TIMEOUTS
                                                       : RC_NS_CTR_WAITS_ABANDONED);
    }
    pthread_mutex_unlock(&sh->lock);
    return detached;
}

uint64_t rc_store_parked(const rc_store *st)
{
    return atomic_load_explicit(&((rc_store *)st)->parked, memory_order_relaxed);
}

/* rc__write_counter - the namespace counter for a write's outcome (-1 for none). */
static int rc__write_counter(int rc)
{
    switch (rc) {
    case 0:
        return RC_NS_CTR_SETS;
    case RC_EEXISTS:
        return RC_NS_CTR_REJECTED_EXISTS;
    case RC_ENOT_NEWER:
        return RC_NS_CTR_REJECTED_NOT_NEWER;
    case RC_ECAS_MISMATCH:
        return RC_NS_CTR_REJECTED_CAS;
    default:
        return -1;
    }
}

/* rc__stored_ttl - the TTL a write applied, as GET reports it (RC_TTL_NONE for none). */
static uint32_t rc__stored_ttl(uint64_t expire_ms, uint64_t now)
{
    if (expire_ms == 0)
        return RC_TTL_NONE;
    uint64_t left = expire_ms > now ? expire_ms - now : 0;
    return left >= RC_TTL_NONE ? RC_TTL_NONE - 1u : (uint32_t)left;
}

static int rc__set(rc_store *st, const rc_store_key *key, const rc_store_write *w, uint64_t now_ms,
                   rc_store_write_result *out)
{
    rc__write_plan plan;
    rc__target t;
    memset(out, 0, sizeof(*out));
    int rc = rc__plan_write(st, key, w, now_ms, &plan, &t, &out->ns_version);
    if (rc)
        return rc;
    rc__shard *sh = t.shard;
    rc_entry *e;
    enum rc__life life = rc__lock_and_find(st, &t, now_ms, &e);
    rc_lease *l = rc__lease_find_locked(sh, &t);
    if (w->token)
        rc = rc__fill_check_locked(st, &t, l, w, now_ms, &out->woken);
    if (rc == 0)
        rc = rc__check_condition(w, life, e, &out->entry_version);
    if (rc == 0) {
        rc =
            rc__insert_locked(st, &t, w, &plan, e, w->token ? l->tag_seq : RC_TAGS_ANY_SEQ, now_ms);
        if (rc == RC_ELEASE_REJECTED)
            rc__fill_reject_tag_locked(st, &t, l, now_ms, &out->woken);
        if (rc == 0) {
            out->entry_version = w->entry_version;
            out->ttl_ms = rc__stored_ttl(plan.expire_ms, now_ms);
        }
    }
    /* Any stored write ends the key's lease: its readers get this value, and
     * a slower holder's fill is rejected instead of overwriting it. */
    if (rc == 0 && l) {
        rc__lease_free_locked(st, sh, l, RC_WAITER_RELEASED, &out->woken);
        if (w->token)
            rc_ns_count(t.ns, sh->stripe, RC_NS_CTR_FILLS_ACCEPTED, 1);
    }
    pthread_mutex_unlock(&sh->lock);
    int counter = rc__write_counter(rc);
    if (counter >= 0)
        rc_ns_count(t.ns, sh->stripe, (enum rc_ns_counter)counter, 1);
    return rc;
}

/* Per-key operations that act on a live entry under the shard lock. */
typedef enum rc__key_op { RC__OP_KILL, RC__OP_SOFTEN, RC__OP_TOUCH } rc__key_op;

/*
 * rc__key_op_run - find key's live entry and apply op: KILL buries it
 * (delete, hard invalidation), SOFTEN marks it soft-invalidated, TOUCH sets
 * a new expiry (and counts as an access).  0, or RC_EMISS when there is no
 * live entry (tombstones included).
 */
static int rc__key_op_body(rc_store *st, const rc_store_key *key, rc__key_op op, uint32_t ttl_ms,
                           uint64_t now, uint64_t *ns_version, rc_lease_waiter **woken)
{
    rc__target t;
    int rc = rc__resolve(st, key, false, &t, ns_version);
    if (rc)
        return rc;
    rc__shard *sh = t.shard;
    rc_entry *e;
    enum rc__life life = rc__lock_and_find(st, &t, now, &e);
    /* An invalidation makes any recomputation in flight untrustworthy,
     * whether or not an entry exists yet. */
    rc_lease *l = op == RC__OP_TOUCH ? NULL : rc__lease_find_locked(sh, &t);
    if (l)
        rc__lease_cancel_locked(st, sh, l, now, woken);
    if (!rc__is_live(life)) {
        rc = RC_EMISS;
    } else if (op == RC__OP_KILL) {
        rc__entry_bury_locked(st, sh, e, now);
    } else if (op == RC__OP_SOFTEN) {
        e->flags |= RC__SOFT;
    } else {
        e->expire_ms = rc__expiry(t.ns, ttl_ms, now, false);
        e->flags |= RC__REFERENCED;
    }
    pthread_mutex_unlock(&sh->lock);
    if (rc == 0 && op != RC__OP_TOUCH)
        rc_ns_count(t.ns, sh->stripe,
                    op == RC__OP_KILL ? RC_NS_CTR_INVALIDATIONS_HARD : RC_NS_CTR_INVALIDATIONS_SOFT,
                    1);
    return rc;
}

/* rc__key_op_run - rc__key_op_body inside the caller's namespace reader stripe. */
static int rc__key_op_run(rc_store *st, const rc_store_key *key, rc__key_op op, uint32_t ttl_ms,
                          uint64_t now, uint64_t *ns_version, rc_lease_waiter **woken)
{
    rc_ns_enter(st->namespaces);
    int rc = rc__key_op_body(st, key, op, ttl_ms, now, ns_version, woken);
    rc_ns_leave(st->namespaces);
    return rc;
}

int rc_store_delete(rc_store *st, const rc_store_key *key, uint64_t now_ms, uint64_t *ns_version,
                    rc_lease_waiter **woken)
{
    return rc__key_op_run(st, key, RC__OP_KILL, 0, now_ms, ns_version, woken);
}

int rc_store_touch(rc_store *st, const rc_store_key *key, uint32_t ttl_ms, uint64_t now_ms,
                   uint64_t *ns_version)
{
    return rc__key_op_run(st, key, RC__OP_TOUCH, ttl_ms, now_ms, ns_version, NULL);
}

int rc_store_invalidate_key(rc_store *st, const rc_store_key *key, uint8_t mode, uint64_t now_ms,
                            uint64_t *ns_version, rc_lease_waiter **woken)
{
    if (mode != RC_INVAL_HARD && mode != RC_INVAL_SOFT)
        return RC_EBAD_ARGUMENT;
    return rc__key_op_run(st, key, mode == RC_INVAL_HARD ? RC__OP_KILL : RC__OP_SOFTEN, 0, now_ms,
                          ns_version, woken);
}

int rc_store_invalidate_tag(rc_store *st, rc_slice tag, uint8_t mode, uint64_t *epoch)
{
    uint64_t ignored;
    if (!epoch)
        epoch = &ignored;
    *epoch = 0;
    if (mode != RC_INVAL_HARD && mode != RC_INVAL_SOFT)
        return RC_EBAD_ARGUMENT;
    if (tag.len == 0 || tag.len > st->cfg.max_tag_len)
        return RC_ETAG_TOO_LONG;
    *epoch = rc_tags_invalidate(st->tags, tag.ptr, tag.len, mode);
    if (*epoch) {
        atomic_fetch_add_explicit(&st->tag_invalidations[mode], 1, memory_order_relaxed);
        if (mode == RC_INVAL_HARD)
            atomic_fetch_add_explicit(&st->obsolete_gen, 1, memory_order_acq_rel);
    }
    return 0;
}

static int rc__bump(rc_store *st, rc_slice ns, uint64_t to, uint64_t *version)
{
    rc_ns *n;
    uint64_t ignored;
    if (!version)
        version = &ignored;
    *version = 0;
    if (to > RC_NS_VERSION_MAX)
        return RC_EBAD_ARGUMENT;
    int rc = rc__ns_create(st, ns, &n);
    if (rc)
        return rc;
    if (to == 0 && rc_ns_version(n) >= RC_NS_VERSION_MAX) {
        *version = rc_ns_version(n);
        return RC_EBAD_ARGUMENT; /* saturated: there is no next version */
    }
    rc__advance(st, n, to, version);
    return 0;
}

static int rc__ns_configure(rc_store *st, rc_slice ns, rc_slice settings, char *err, size_t errlen)
{
    rc_ns *n = rc_ns_find(st->namespaces, ns.ptr, ns.len);
    if (!n) {
        /* Validate before creating, so a rejected request leaves no namespace behind. */
        int rc = rc_ns_configure(NULL, settings.ptr, settings.len, st->cfg.max_value, err, errlen);
        if (rc)
            return rc;
        rc = rc__ns_create(st, ns, &n);
        if (rc) {
            if (errlen)
                snprintf(err, errlen, "%s", rc_strerror(rc));
            return rc;
        }
    }
    return rc_ns_configure(n, settings.ptr, settings.len, st->cfg.max_value, err, errlen);
}

static long rc__ns_info(rc_store *st, rc_slice ns, char *buf, size_t cap, uint64_t *version)
{
    rc_ns *n = rc_ns_find(st->namespaces, ns.ptr, ns.len);
    if (version)
        *version = n ? rc_ns_version(n) : 1u;
    if (!n)
        return RC_EMISS;
    return rc_ns_info(n, buf, cap);
}

void rc_store_totals_get(rc_store *st, rc_store_totals *out)
{
    memset(out, 0, sizeof(*out));
    for (uint32_t i = 0; i < st->nshards; i++) {
        rc__shard *sh = &st->shards[i];
        pthread_mutex_lock(&sh->lock);
        out->entries += sh->entries;
        out->bytes_used += sh->used;
        out->evictions += sh->evictions;
        out->reclaimed += sh->reclaimed;
        if (sh->reclaim_scan_max > out->reclaim_scan_max)
            out->reclaim_scan_max = sh->reclaim_scan_max;
        pthread_mutex_unlock(&sh->lock);
    }
    out->bytes_limit = st->cfg.memory_limit;
    out->nshards = st->nshards;
    out->tags_live = rc_tags_live(st->tags);
}

/* Lines of rc_store_stats_text: X("name", value expression over tot and st). */
#define RC__STORE_STATS(X)                                                                         \
    X("bytes_limit", tot.bytes_limit)                                                              \
    X("bytes_used", tot.bytes_used)                                                                \
    X("entries", tot.entries)                                                                      \
    X("evictions", tot.evictions)                                                                  \
    X("reclaimed", tot.reclaimed)                                                                  \
    X("shards", tot.nshards)                                                                       \
    X("tags_live", tot.tags_live)                                                                  \
    X("namespaces", rc_ns_registry_count(st->namespaces))                                          \
    X("namespaces_reclaimed", rc_ns_registry_reclaimed(st->namespaces))                            \
    X("reclaim_scan_max", tot.reclaim_scan_max)                                                    \
    X("obsolete_generation", atomic_load(&st->obsolete_gen))                                       \
    X("tag_invalidations_hard", atomic_load(&st->tag_invalidations[RC_INVAL_HARD]))                \
    X("tag_invalidations_soft", atomic_load(&st->tag_invalidations[RC_INVAL_SOFT]))                \
    X("parked", atomic_load(&st->parked))

long rc_store_stats_text(rc_store *st, char *buf, size_t cap)
{
    rc_store_totals tot;
    size_t pos = 0;
    rc_store_totals_get(st, &tot);
#define RC__STAT_LINE(name, expr) rc_ns_text_line(buf, cap, &pos, name, (uint64_t)(expr));
    RC__STORE_STATS(RC__STAT_LINE)
#undef RC__STAT_LINE
    return (long)pos;
}

static void rc__flush(rc_store *st, rc_lease_waiter **woken)
{
    for (uint32_t i = 0; i < st->nshards; i++) {
        rc__shard *sh = &st->shards[i];
        pthread_mutex_lock(&sh->lock);
        rc__leases_clear_locked(st, sh, woken);
        rc__shard_clear_locked(st, sh);
        rc__shard_init_structure(sh);
        pthread_mutex_unlock(&sh->lock);
    }
    atomic_fetch_add_explicit(&st->obsolete_gen, 1, memory_order_acq_rel);
}

static size_t rc__sweep(rc_store *st, uint64_t now_ms, size_t budget, rc_lease_waiter **woken)
{
    size_t freed = 0;
    for (uint32_t i = 0; i < st->nshards; i++) {
        rc__shard *sh = &st->shards[i];
        pthread_mutex_lock(&sh->lock);
        rc__index_migrate_locked(sh, RC__MIGRATE_BUCKETS);
        rc__leases_sweep_locked(st, sh, now_ms, woken);
        freed += rc__reclaim_range_locked(st, sh, now_ms, &sh->sweep_pos, budget, false);
        pthread_mutex_unlock(&sh->lock);
    }
    return freed;
}

/* ---- public entry points: each holds its namespace reader stripe (rc_ns.h) ---------------- */

int rc_store_get(rc_store *st, const rc_store_key *key, uint64_t now_ms, rc_value_sink sink,
                 void *sink_ctx, rc_store_read *out)
{
    rc_ns_enter(st->namespaces);
    int rc = rc__get(st, key, now_ms, sink, sink_ctx, out);
    rc_ns_leave(st->namespaces);
    return rc;
}

int rc_store_lget(rc_store *st, const rc_store_key *key, const rc_store_lease_opts *opts,
                  uint64_t now_ms, rc_value_sink sink, void *sink_ctx, rc_store_lease_read *out)
{
    rc_ns_enter(st->namespaces);
    int rc = rc__lget(st, key, opts, now_ms, sink, sink_ctx, out);
    rc_ns_leave(st->namespaces);
    return rc;
}

bool rc_store_unpark(rc_store *st, rc_lease_waiter *w, uint8_t outcome)
{
    rc_ns_enter(st->namespaces);
    bool detached = rc__unpark(st, w, outcome);
    rc_ns_leave(st->namespaces);
    return detached;
}

int rc_store_set(rc_store *st, const rc_store_key *key, const rc_store_write *w, uint64_t now_ms,
                 rc_store_write_result *out)
{
    rc_ns_enter(st->namespaces);
    int rc = rc__set(st, key, w, now_ms, out);
    rc_ns_leave(st->namespaces);
    return rc;
}

int rc_store_bump(rc_store *st, rc_slice ns, uint64_t to, uint64_t *version)
{
    rc_ns_enter(st->namespaces);
    int rc = rc__bump(st, ns, to, version);
    rc_ns_leave(st->namespaces);
    return rc;
}

int rc_store_ns_configure(rc_store *st, rc_slice ns, rc_slice settings, char *err, size_t errlen)
{
    rc_ns_enter(st->namespaces);
    int rc = rc__ns_configure(st, ns, settings, err, errlen);
    rc_ns_leave(st->namespaces);
    return rc;
}

long rc_store_ns_info(rc_store *st, rc_slice ns, char *buf, size_t cap, uint64_t *version)
{
    rc_ns_enter(st->namespaces);
    long len = rc__ns_info(st, ns, buf, cap, version);
    rc_ns_leave(st->namespaces);
    return len;
}

void rc_store_flush(rc_store *st, rc_lease_waiter **woken)
{
    rc_ns_enter(st->namespaces);
    rc__flush(st, woken);
    rc_ns_leave(st->namespaces);
}

size_t rc_store_sweep(rc_store *st, uint64_t now_ms, size_t budget, rc_lease_waiter **woken)
{
    rc_ns_enter(st->namespaces);
    size_t freed = rc__sweep(st, now_ms, budget, woken);
    rc_ns_leave(st->namespaces);
    return freed;
}

size_t rc_store_entry_overhead(void)
{
    return sizeof(rc_entry);
}
