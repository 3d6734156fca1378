/*
 * rc_shard.h - the store's shards and the store itself, as its modules see them.
 *
 * Design.  The store (rc_store.h) is split into a power-of-two number of
 * shards chosen by the high bits of a key's hash.  Each shard owns a mutex,
 * a hash index (rc_index.h), a CLOCK ring (rc_clock.h), a byte budget
 * (rc_budget.h) and a lease table (rc_store_lease.h); entries (rc_entry.h)
 * live in exactly one shard.  This header holds the structures those
 * modules share and the entry life cycle within a shard: releasing,
 * dropping and burying entries, settling what a lookup found, serving a
 * hit, and a shard's structure arrays.
 *
 * Tombstones.  Deleting or hard-invalidating a versioned entry (including
 * one found hard-invalidated through a tag by a request, the sweep or the
 * reclaim pass) leaves a tombstone in its place for tombstone_ms, unless
 * tombstones are disabled (0) or the tombstone would take the shard past
 * its budget.  Only the hand under memory pressure frees such entries
 * outright: eviction forgets versions just as it forgets values.
 *
 * Locking.  A shard's mutex protects its index, ring, budget counters,
 * lease table and every entry it holds.  No call holds two shard locks;
 * under a shard lock the code may take the tag table lock (a leaf) and call
 * the value sink, and nothing else.  Every public store call holds its
 * thread's namespace reader stripe (rc_ns.h) throughout, which is what lets
 * namespace pointers and ids be used without further locking.
 */
#ifndef RECACHE_RC_SHARD_H
#define RECACHE_RC_SHARD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc_budget.h"
#include "rc_clock.h"
#include "rc_entry.h"
#include "rc_hash.h"
#include "rc_hlc.h"
#include "rc_index.h"
#include "rc_lease.h"
#include "rc_ns.h"
#include "rc_store.h"
#include "rc_tags.h"

#define RC__MAX_SHARDS      4096u
#define RC__AUTO_MAX_SHARDS 256u
#define RC__INITIAL_SLOTS   16u /* initial buckets per table and ring slots per shard */
#define RC__MIGRATE_BUCKETS 4u  /* non-empty buckets migrated per operation */
#define RC__MIGRATE_VISITS  64u /* bucket visits per migration step, empty or not */
#define RC__RECLAIM_STEP    64u /* ring slots a reclaim pass visits per eviction */
#define RC__MMAP_THRESHOLD  (128u * 1024u)
#define RC__STRUCTURE_SHARE (2u * sizeof(void *)) /* ring + bucket bytes per entry, nominal */

struct rc__shard {
    /* Protects every field below and every entry in this shard's index and ring. */
    _Alignas(64) pthread_mutex_t lock;
    rc__table tables[2]; /* [1] is the doubled table while migrating */
    size_t rehash_pos;   /* next bucket of tables[0] to migrate */
    bool rehashing;
    rc__ring ring;
    uint32_t sweep_pos;        /* ring slot where rc_store_sweep resumes */
    uint32_t sieve_off;        /* SIEVE: the hand, as an offset from ring.head (0..len) */
    uint32_t stripe;           /* namespace counter stripe (immutable) */
    const rc_hash_key *seed;   /* the store's hash key, to find an entry's bucket (immutable) */
    size_t budget;             /* immutable */
    size_t used;               /* all bytes charged to this shard */
    size_t structure;          /* part of used: ring and bucket arrays */
    size_t lease_bytes;        /* part of used: lease records (the hand cannot free them) */
    size_t suppress_bytes;     /* part of used: suppression tables charged here (rc_store_list.h) */
    uint64_t reclaim_gen;      /* obsolete generation the current reclaim pass covers */
    uint32_t reclaim_pos;      /* ring slot where the reclaim pass resumes */
    uint32_t reclaim_left;     /* ring slots the pass has still to visit (0 = no pass) */
    uint64_t reclaim_scan_max; /* most slots one reclaim step examined (a STATS figure) */
    uint64_t entries;          /* tombstones included */
    uint64_t evictions;
    uint64_t reclaimed;
    rc_lease_table leases; /* keys being recomputed: records in lease_bytes, buckets in structure */
};

struct rc_store {
    rc_store_config cfg;
    rc_hash_key seed;
    rc_ns_registry *namespaces;
    rc_tags *tags;
    rc_hlc clock;                          /* stamps every write (rc_hlc.h) */
    _Atomic uint64_t obsolete_gen;         /* advanced by bumps, hard tag invalidations, flush */
    _Atomic uint64_t tag_invalidations[2]; /* by enum rc_inval_mode */
    _Atomic uint64_t parked;               /* lease readers parked across all shards */
    _Atomic uint64_t suppress_bytes;       /* charged for suppression tables (rc_store_list.h) */
    size_t max_key;
    size_t page_size;
    uint32_t nshards;
    unsigned shard_shift; /* 64 - log2(nshards); unused when nshards == 1 */
    void *shard_alloc;    /* raw allocation the aligned shards live in */
    rc__shard *shards;
};

/* Where a request's key lives. */
struct rc__target {
    rc_ns *ns;
    rc__shard *shard;
    const uint8_t *key;
    uint16_t key_len;
    uint64_t version;
    uint64_t hash;
};

/*
 * rc__count_served_age - add a served value written at HLC stamp `written`
 * to its namespace's served-age histogram (rc_ns_observe_age).  No lock;
 * a stamp from a clock ahead of this one counts as age 0.
 */
void rc__count_served_age(rc_ns *ns, unsigned stripe, uint64_t written);

/* rc__random - a per-thread pseudo-random number (TTL jitter, early refresh); no lock. */
uint64_t rc__random(void);

/* rc__entry_ns - the namespace e belongs to. */
rc_ns *rc__entry_ns(const rc_store *st, const rc_entry *e);

/* rc__entry_release_locked - give back everything e holds and free it (unlinked already). */
void rc__entry_release_locked(rc_store *st, rc__shard *sh, rc_entry *e);

/* rc__entry_drop_locked - unlink e from the index and the ring (a hole) and release it. */
void rc__entry_drop_locked(rc_store *st, rc__shard *sh, rc_entry *e);

/* rc__entry_bury_locked - replace e by a tombstone when it has a version; returns it or NULL. */
rc_entry *rc__entry_bury_locked(rc_store *st, rc__shard *sh, rc_entry *e, uint64_t now);

/* rc__lock_and_find - lock t's shard (the caller unlocks) and settle its entry into *ep. */
enum rc__life rc__lock_and_find(rc_store *st, const rc__target *t, uint64_t now, rc_entry **ep);

/* rc__serve_locked - a hit: metadata into out, the value through the sink, the reference bit. */
void rc__serve_locked(rc_entry *e, enum rc__life life, uint64_t now, rc_value_sink sink,
                      void *sink_ctx, rc_store_read *out);

/* rc__shard_init_structure - fresh, empty initial bucket array and ring, charged. */
void rc__shard_init_structure(rc__shard *sh);

/* rc__shard_clear_locked - free every entry and the structure arrays (left unallocated). */
void rc__shard_clear_locked(rc_store *st, rc__shard *sh);

/*
 * rc__resolve (rc_store.c) - validate a key, find (or, with create, make)
 * its namespace, adopt min_version, compute version, hash and shard.
 */
int rc__resolve(rc_store *st, const rc_store_key *key, bool create, rc__target *t,
                uint64_t *ns_version);

/*
 * rc__ns_create (rc_store.c) - find or create a namespace, reclaiming empty
 * ones once when the registry is full.  The caller holds its reader stripe
 * and no namespace pointer (the stripe is dropped around a reclamation).
 */
int rc__ns_create(rc_store *st, rc_slice name, rc_ns **out);

#endif /* RECACHE_RC_SHARD_H */
